"""Sub-task agents' bookkeeping, in numpy: which sub-task is in charge, and what it is paid.

The paper's MineRL agent: the consensus of the aligned demonstrations ("6× log, planks,
crafting_table, stick, wooden_pickaxe, ...") splits the task into sub-tasks, one per
distinct sub-goal item; each sub-task has its own agent, and the agent in charge is the
one of the first sub-goal not yet reached.

- :class:`SubtaskController` reads the consensus and tells, from the item gains so far,
  which sub-task is current: consensus sub-goal j (the k-th ``log``, say) is reached once
  ``log`` was gained k times in the episode; the current sub-task is the item of the
  first sub-goal not reached (the last one once all are). With interrupts
  (:class:`SubtaskInterrupt`), more agents take charge whenever a feature of the
  observation is below or above a level (Crafter's night, a zombie next to the player,
  low water), whatever the sub-goals reached.
- :func:`goal_rewards` and :func:`pay_for_goals`: what each sub-goal is worth and what
  the agents are paid along a recorded episode (online:
  :class:`~rudder.wrappers.subtasks.SubtaskReward`).
- :func:`add_subtasks` appends the sub-task one-hot to recorded episodes (online:
  :class:`~rudder.wrappers.subtasks.SubtaskObservation`); :func:`subtask_segments`,
  :func:`subtask_traces` and :func:`split_into_segments` cut demonstrations by sub-task
  (the MineRL data side).

This module imports neither torch nor stable-baselines3; the routed policy and the
SB3 callback live in :mod:`rudder.agents.sb3`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rudder.data.episode import Episode, check_episodes
from rudder.events.inventory import OTHER

if TYPE_CHECKING:
    from rudder.redistribution.alignment import AlignmentRedistributor

__all__ = [
    "SubtaskController",
    "SubtaskInterrupt",
    "add_subtasks",
    "demonstration_steps",
    "goal_rewards",
    "inventory_changes",
    "pay_for_goals",
    "rewards_are_immediate",
    "split_into_segments",
    "standardize_by_subtask",
    "subtask_segments",
    "subtask_traces",
]


@dataclasses.dataclass(frozen=True)
class SubtaskInterrupt:
    """One more sub-task agent, in charge whenever ``observation[feature] < below`` (or
    ``> above``; with several features, whenever any of them is).

    The consensus orders the sub-goals that the demonstrations reach in the same order;
    what they do whenever a state comes round (shelter at nightfall, a fight when a
    monster is next to the player, whatever the progress) is no sub-goal of it, and each
    sub-task agent would see only the few such steps that fell within its own sub-task.
    An interrupt gives that behaviour an agent of its own: behaviour cloning trains it on
    every demonstration step where the condition holds, and PPO on every step where it
    holds online. The sub-goals keep counting while it is in charge, and the next
    sub-task agent takes over when the condition ends (as at a sub-goal, the return
    bootstraps across the hand-over).

    Args:
        name: the agent's name (not one of the consensus items).
        feature: index into the flat observation (before the sub-task one-hot), or a
            tuple of indices (the condition holds when it holds for any of them).
        below: the agent is in charge while ``observation[feature] < below``.
        above: instead of ``below``: in charge while ``observation[feature] > above``.
        until: once in charge, the agent stays in charge until the feature reaches
            ``until`` (``observation[feature] >= until`` with ``below``, ``<= until`` with
            ``above``; with several features, until all of them have): a need topped up
            from a low level to a high one (water drunk from 3 to 8). ``None`` (the
            default): in charge exactly while the condition holds.
    """

    name: str
    feature: int | tuple[int, ...]
    below: float | None = None
    above: float | None = None
    until: float | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a SubtaskInterrupt needs a `name`")
        features = self.feature if isinstance(self.feature, (tuple, list)) else (self.feature,)
        for index in features:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
                raise ValueError(f"`feature` must be an observation index >= 0 or a tuple of them, got {self.feature!r}")
        if not features:
            raise ValueError("`feature` must name at least one observation index")
        if isinstance(self.feature, list):  # from a checkpoint's JSON
            object.__setattr__(self, "feature", tuple(int(index) for index in features))
        if (self.below is None) == (self.above is None):
            raise ValueError(f"give a SubtaskInterrupt exactly one of `below` and `above`, got {self.below!r} and {self.above!r}")
        level = self.below if self.below is not None else self.above
        if level is None or not np.isfinite(level):
            raise ValueError(f"`{'below' if self.below is not None else 'above'}` must be a finite number, got {level!r}")
        if self.until is not None:
            if not np.isfinite(self.until):
                raise ValueError(f"`until` must be a finite number or None, got {self.until!r}")
            if (self.below is not None and self.until < self.below) or (self.above is not None and self.until > self.above):
                side = f"at least `below` ({self.below})" if self.below is not None else f"at most `above` ({self.above})"
                raise ValueError(f"`until` must be {side}: the agent stays in charge past its condition, got {self.until}")

    @property
    def features(self) -> tuple[int, ...]:
        """The observation indices the condition reads."""
        return tuple(self.feature) if isinstance(self.feature, tuple) else (int(self.feature),)

    def holds(self, observation: np.ndarray, *, engaged: bool = False) -> bool:
        """Whether the interrupt agent is in charge at ``observation``, shape (n,); with
        ``engaged`` (it was in charge at the step before), until :attr:`until` is reached."""
        observation = np.asarray(observation)
        features = self.features
        if observation.ndim != 1 or max(features) >= observation.shape[0]:
            raise ValueError(
                f"interrupt {self.name!r} reads feature {max(features)} of a flat observation, "
                f"got shape {observation.shape}"
            )
        values = observation[list(features)]
        if engaged and self.until is not None:
            return bool(np.any(values < self.until) if self.below is not None else np.any(values > self.until))
        if self.below is not None:
            return bool(np.any(values < self.below))
        return bool(np.any(values > self.above))

    def to_dict(self) -> dict[str, Any]:
        """The fields, for a checkpoint's metadata (JSON)."""
        feature: int | list[int] = list(self.features) if isinstance(self.feature, tuple) else int(self.feature)
        fields: dict[str, Any] = {"name": self.name, "feature": feature}
        if self.below is not None:
            fields["below"] = float(self.below)
        else:
            fields["above"] = float(self.above)  # type: ignore[arg-type]
        if self.until is not None:
            fields["until"] = float(self.until)
        return fields


class SubtaskController:
    """Which sub-task is current, from the item gains of the episode so far (and, with an
    interrupt, from the observation).

    Args:
        consensus: the consensus sub-goals in order, as item names (repeats allowed:
            ``["log", "log", "planks", ...]``).
        items: names of the entries of an inventory change vector, in order.
        interrupt: an agent in charge whenever its condition on the observation holds
            (:class:`SubtaskInterrupt`), or several, first first: where two hold, the
            earlier one is in charge. They are the last of :attr:`subtasks`.

    Attributes:
        subtasks: the distinct sub-goal items in order of first appearance: one agent
            each; then the interrupts' names, if any.
        interrupts: the interrupts, in order.
    """

    def __init__(
        self,
        consensus: Sequence[str],
        *,
        items: Sequence[str],
        interrupt: SubtaskInterrupt | Sequence[SubtaskInterrupt] | None = None,
    ) -> None:
        consensus = [str(name) for name in consensus if name != OTHER]
        if not consensus:
            raise ValueError(
                "the consensus has no sub-goals; lower the consensus threshold or give more "
                "similar demonstrations"
            )
        self.items = tuple(str(item) for item in items)
        unknown = sorted(set(consensus) - set(self.items))
        if unknown:
            raise ValueError(f"consensus items {unknown} are not among the inventory items {list(self.items)}")
        self.consensus = tuple(consensus)
        if interrupt is None:
            interrupts: tuple[SubtaskInterrupt, ...] = ()
        elif isinstance(interrupt, SubtaskInterrupt):
            interrupts = (interrupt,)
        else:
            interrupts = tuple(interrupt)
        for each in interrupts:
            if not isinstance(each, SubtaskInterrupt):
                raise ValueError(f"`interrupt` must be SubtaskInterrupts, got {each!r}")
        self.interrupts = interrupts
        self.subtasks = tuple(dict.fromkeys(consensus))
        for each in interrupts:
            if each.name in self.subtasks:
                raise ValueError(
                    f"the interrupt's name {each.name!r} is a consensus sub-goal or another interrupt's; give it another"
                )
            self.subtasks = (*self.subtasks, each.name)
        index = {item: position for position, item in enumerate(self.items)}
        seen: dict[str, int] = {}
        needed = []
        for name in consensus:
            seen[name] = seen.get(name, 0) + 1
            needed.append((index[name], seen[name]))
        self._item_of_goal = np.array([item for item, _ in needed], dtype=np.int64)
        self._count_of_goal = np.array([count for _, count in needed], dtype=np.int64)
        self._subtask_of_goal = np.array([self.subtasks.index(name) for name in consensus], dtype=np.int64)

    @classmethod
    def from_redistributor(
        cls,
        redistributor: AlignmentRedistributor,
        *,
        items: Sequence[str],
        interrupt: SubtaskInterrupt | Sequence[SubtaskInterrupt] | None = None,
    ) -> SubtaskController:
        """The controller of a fitted :class:`~rudder.redistribution.AlignmentRedistributor`
        whose event names are among ``items``."""
        profile = redistributor.profile
        if profile is None:
            raise ValueError("the redistributor is not fitted: it has no profile to read the consensus from")
        alphabet = redistributor.encoder.alphabet
        return cls([alphabet.name(goal.event) for goal in profile.consensus], items=items, interrupt=interrupt)

    @property
    def interrupt(self) -> SubtaskInterrupt | None:
        """The first interrupt (``None`` without any)."""
        return self.interrupts[0] if self.interrupts else None

    @property
    def num_subtasks(self) -> int:
        return len(self.subtasks)

    def goals_reached(self, gains: np.ndarray) -> int:
        """How many consensus sub-goals are reached, in order, given ``gains``: shape
        (len(items),), how many times each item was gained in the episode."""
        reached = np.asarray(gains)[self._item_of_goal] >= self._count_of_goal
        missing = np.flatnonzero(~reached)
        return int(missing[0]) if missing.size else len(self.consensus)

    def current(
        self, gains: np.ndarray, observation: np.ndarray | None = None, previous: int | None = None
    ) -> int:
        """Index into :attr:`subtasks` of the sub-task in charge, given ``gains`` (see
        :meth:`goals_reached`) and, with interrupts, the flat ``observation``, shape (n,),
        and the sub-task in charge at the step before (``previous``; ``None`` at the first
        step): an interrupt with :attr:`SubtaskInterrupt.until` that was in charge stays
        until its level is reached."""
        if self.interrupts:
            if observation is None:
                raise ValueError(f"this controller has an interrupt ({self.interrupts[0].name!r}): pass the observation")
            first = len(self.subtasks) - len(self.interrupts)
            for offset, interrupt in enumerate(self.interrupts):
                if interrupt.holds(observation, engaged=previous == first + offset):
                    return first + offset
        goal = min(self.goals_reached(gains), len(self.consensus) - 1)
        return int(self._subtask_of_goal[goal])

    def trace(self, changes: np.ndarray, observations: np.ndarray | Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """Shape (T+1,): the current sub-task at s_0 .. s_T of an episode whose per-step
        inventory changes are ``changes``, shape (T, len(items)) (and, with an interrupt,
        whose flat observations are ``observations``, shape (T+1, n))."""
        changes = np.asarray(changes)
        if self.interrupts:
            name = self.interrupts[0].name
            if observations is None:
                raise ValueError(f"this controller has an interrupt ({name!r}): pass the observations")
            if isinstance(observations, Mapping):
                raise ValueError(f"the interrupt {name!r} reads flat observations, got a dict of arrays")
            observations = np.asarray(observations)
            if observations.ndim != 2 or observations.shape[0] != changes.shape[0] + 1:
                raise ValueError(
                    f"`observations` must have shape (T+1, n) = ({changes.shape[0] + 1}, n), got {observations.shape}"
                )
        else:
            observations = None
        gains = np.zeros(len(self.items), dtype=np.int64)
        trace = [self.current(gains, None if observations is None else observations[0])]
        for step, change in enumerate(changes):
            gains += change > 0
            trace.append(self.current(gains, None if observations is None else observations[step + 1], trace[-1]))
        return np.array(trace, dtype=np.int64)

    def describe(self) -> str:
        return ", ".join(f"{index}: {name}" for index, name in enumerate(self.subtasks))


def goal_rewards(
    controller: SubtaskController,
    demonstrations: Sequence[Episode],
    rewards: Sequence[np.ndarray],
    *,
    change_key: str = "inventory_change",
) -> np.ndarray:
    """Shape (len(consensus),): what reaching each consensus sub-goal is worth.

    Sub-goal j is worth the redistributed reward the demonstrations collected between
    reaching sub-goal j - 1 and reaching j (mean over the demonstrations that reached it),
    so the shares add up to about the demonstrations' mean return.

    Args:
        controller: the sub-task controller.
        demonstrations: episodes with ``infos[change_key]``.
        rewards: per demonstration, shape (T,): its redistributed rewards.
    """
    totals = np.zeros(len(controller.consensus))
    counts = np.zeros(len(controller.consensus))
    for episode, episode_rewards in zip(demonstrations, rewards):
        gains = np.zeros(len(controller.items), dtype=np.int64)
        reached, held = 0, 0.0
        for change, reward in zip(np.asarray(episode.infos[change_key]), episode_rewards):
            gains += change > 0
            held += float(reward)
            now = controller.goals_reached(gains)
            if now > reached:
                share = held / (now - reached)
                totals[reached:now] += share
                counts[reached:now] += 1
                reached, held = now, 0.0
    return np.divide(totals, counts, out=np.zeros_like(totals), where=counts > 0)


def pay_for_goals(
    controller: SubtaskController,
    goal_values: np.ndarray,
    episode: Episode,
    *,
    change_key: str = "inventory_change",
    settle_truncated: bool = False,
    settle_terminated: bool = False,
    env_reward_weight: float = 0.0,
) -> np.ndarray:
    """Shape (T,): the rewards :class:`~rudder.wrappers.subtasks.SubtaskReward` pays along a recorded ``episode``
    (with the same settings: by default the sub-goals only, nothing settled, no env reward)."""
    gains = np.zeros(len(controller.items), dtype=np.int64)
    paid = env_reward_weight * np.asarray(episode.rewards, dtype=np.float64)
    reached = 0
    for step, change in enumerate(np.asarray(episode.infos[change_key])):
        gains += change > 0
        now = controller.goals_reached(gains)
        if now > reached:
            paid[step] += float(np.sum(goal_values[reached:now]))
            reached = now
    if (episode.terminated and settle_terminated) or (episode.truncated and settle_truncated):
        paid[-1] += episode.episode_return - paid.sum()
    return paid


def rewards_are_immediate(episodes: Sequence[Episode]) -> bool:
    """Whether the env pays reward before the end: some episode has a nonzero reward
    before its last step.

    A delayed reward (minigrid's, or any env under :class:`~rudder.wrappers.DelayedReward`)
    arrives at the last step only; Crafter's achievements, MineRL's item rewards and
    per-step costs arrive when they are earned. The rule of
    ``SB3RunSettings(subtask_env_reward=None)`` passes an immediate reward on to the
    sub-task agents.
    """
    return any(np.any(np.asarray(episode.rewards)[:-1] != 0) for episode in episodes)


def add_subtasks(
    episodes: Sequence[Episode], controller: SubtaskController, *, change_key: str = "inventory_change"
) -> list[Episode]:
    """Copies of ``episodes`` (flat observations) with the sub-task one-hot appended, as
    :class:`~rudder.wrappers.subtasks.SubtaskObservation` shows it online; the episodes need
    ``infos[change_key]``."""
    episodes = check_episodes(episodes)
    eye = np.eye(controller.num_subtasks)
    result = []
    for index, episode in enumerate(episodes):
        observations = episode.observations
        if not isinstance(observations, np.ndarray) or observations.ndim != 2:
            raise ValueError(f"episode {index}: add_subtasks needs flat observations of shape (T+1, n)")
        if change_key not in episode.infos:
            raise KeyError(f"episode {index} has no infos[{change_key!r}]; record it with info_keys=({change_key!r},)")
        trace = controller.trace(episode.infos[change_key], observations)
        observations = np.concatenate([observations, eye[trace].astype(observations.dtype)], axis=1)
        result.append(dataclasses.replace(episode, observations=observations))
    return result


def demonstration_steps(
    controller: SubtaskController, demonstrations: Sequence[Episode], *, change_key: str = "inventory_change"
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
    """Per demonstration: its flat observations, shape (T+1, n), discrete actions, shape
    (T,), and the sub-task of ``controller`` (one without interrupts) at s_0 .. s_T, shape
    (T+1,); what the searches for reflexes and needs read. None where the observations are
    not flat arrays or the actions not discrete (integers)."""
    if controller.interrupts:
        raise ValueError(f"the controller has an interrupt already ({controller.interrupts[0].name!r}); pass one without")
    steps = []
    for index, episode in enumerate(demonstrations):
        actions = np.asarray(episode.actions)
        if not isinstance(episode.observations, np.ndarray) or episode.observations.ndim != 2:
            return None
        if not np.issubdtype(actions.dtype, np.integer) or actions.ndim != 1:
            return None
        if change_key not in episode.infos:
            raise KeyError(f"demonstration {index} has no infos[{change_key!r}]; record it with info_keys=({change_key!r},)")
        steps.append((episode.observations, actions, controller.trace(episode.infos[change_key])))
    return steps


def subtask_segments(episode: Episode, controller: SubtaskController, *, change_key: str = "inventory_change") -> dict[str, int]:
    """Number of steps of ``episode`` each sub-task was in charge of (``{item: steps}``)."""
    observations = episode.observations if controller.interrupts else None
    trace = controller.trace(episode.infos[change_key], observations)[:-1]
    return {name: int(np.sum(trace == index)) for index, name in enumerate(controller.subtasks)}


def standardize_by_subtask(advantages: np.ndarray, subtask: np.ndarray) -> None:
    """Standardises ``advantages`` in place within each sub-task (same shape as
    ``subtask``); a sub-task with one step is only centred."""
    for index in np.unique(subtask):
        rows = subtask == index
        values = advantages[rows]
        centred = values - values.mean()
        advantages[rows] = centred / (values.std() + 1e-8) if values.size > 1 else centred


def inventory_changes(episode: Episode, items: Sequence[str], *, prefix: str) -> np.ndarray:
    """Shape (T, len(items)): the change of each item's count in each step of ``episode``."""
    counts = np.stack([episode.observations[prefix + item] for item in items], axis=1)
    return np.diff(counts.astype(np.int64), axis=0)


def subtask_traces(
    episodes: Sequence[Episode], controller: SubtaskController, *, prefix: str
) -> list[np.ndarray]:
    """For each episode, shape (T,): the index of the sub-task in charge at each step.

    Args:
        episodes: episodes with dict observations holding each item's count as
            ``observations[prefix + item]``, shape (T+1,) (MineRL's inventory).
        controller: the sub-task controller; its ``items`` name the counts.
        prefix: the key prefix of the counts (``InventoryEncoder.prefix``).
    """
    return [
        controller.trace(inventory_changes(episode, controller.items, prefix=prefix))[:-1]
        for episode in episodes
    ]


def _segment(
    episode: Episode, start: int, end: int, *, subtask: int, demonstration: int
) -> Episode:
    """Steps ``start .. end-1`` of ``episode`` as an episode (see :func:`split_into_segments`)."""
    observations = episode.observations
    if isinstance(observations, np.ndarray):
        observations = observations[start : end + 1]
    else:
        observations = {key: values[start : end + 1] for key, values in observations.items()}
    length = end - start
    infos = {key: values[start:end] for key, values in episode.infos.items()}
    infos["subtask"] = np.full(length, subtask, dtype=np.int64)
    infos["demonstration"] = np.full(length, demonstration, dtype=np.int64)
    infos["step"] = np.arange(start, end, dtype=np.int64)
    last = end == episode.length
    return Episode(
        observations=observations,
        actions=episode.actions[start:end],
        rewards=episode.rewards[start:end],
        terminated=episode.terminated if last else False,
        truncated=episode.truncated if last else True,
        infos=infos,
    )


def split_into_segments(episodes: Sequence[Episode], traces: Sequence[np.ndarray]) -> list[Episode]:
    """The maximal runs of steps with one sub-task in charge, ordered by sub-task, then
    demonstration, then time.

    A segment of steps t0 .. t1-1 has the observations s_t0 .. s_t1, the actions, rewards
    and infos of those steps, and three more per-step infos, int64 of shape (t1 - t0,):
    ``"subtask"`` (the sub-task's index), ``"demonstration"`` (the demonstration's index
    in ``episodes``) and ``"step"`` (the step's index in that demonstration). The
    demonstration's last segment keeps its ``terminated`` and ``truncated`` flags; the
    others are ``truncated`` (the next sub-task takes over).

    Args:
        episodes: the demonstrations.
        traces: for each demonstration, shape (T,): the sub-task in charge at each step.
    """
    runs: list[tuple[int, int, int, int]] = []
    for demonstration, trace in enumerate(traces):
        if trace.size == 0:
            continue
        boundaries = np.flatnonzero(np.diff(trace)) + 1
        starts = [0, *boundaries.tolist()]
        ends = [*boundaries.tolist(), trace.size]
        runs.extend(
            (int(trace[start]), demonstration, start, end) for start, end in zip(starts, ends)
        )
    return [
        _segment(episodes[demonstration], start, end, subtask=subtask, demonstration=demonstration)
        for subtask, demonstration, start, end in sorted(runs)
    ]
