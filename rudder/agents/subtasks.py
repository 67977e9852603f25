"""Sub-task agents' bookkeeping, in numpy: which sub-task is in charge, and what it is paid.

The paper's MineRL agent: the consensus of the aligned demonstrations ("6× log, planks,
crafting_table, stick, wooden_pickaxe, ...") splits the task into sub-tasks, one per
distinct sub-goal item; each sub-task has its own agent, and the agent in charge is the
one of the first sub-goal not yet reached.

- :class:`SubtaskController` reads the consensus and tells, from the item gains so far,
  which sub-task is current: consensus sub-goal j (the k-th ``log``, say) is reached once
  ``log`` was gained k times in the episode; the current sub-task is the item of the
  first sub-goal not reached (the last one once all are).
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
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rudder.data.episode import Episode, check_episodes
from rudder.events.inventory import OTHER

if TYPE_CHECKING:
    from rudder.redistribution.alignment import AlignmentRedistributor

__all__ = [
    "SubtaskController",
    "add_subtasks",
    "goal_rewards",
    "inventory_changes",
    "pay_for_goals",
    "rewards_are_immediate",
    "split_into_segments",
    "standardize_by_subtask",
    "subtask_segments",
    "subtask_traces",
]


class SubtaskController:
    """Which sub-task is current, from the item gains of the episode so far.

    Args:
        consensus: the consensus sub-goals in order, as item names (repeats allowed:
            ``["log", "log", "planks", ...]``).
        items: names of the entries of an inventory change vector, in order.

    Attributes:
        subtasks: the distinct sub-goal items in order of first appearance: one agent each.
    """

    def __init__(self, consensus: Sequence[str], *, items: Sequence[str]) -> None:
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
        self.subtasks = tuple(dict.fromkeys(consensus))
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
    def from_redistributor(cls, redistributor: AlignmentRedistributor, *, items: Sequence[str]) -> SubtaskController:
        """The controller of a fitted :class:`~rudder.redistribution.AlignmentRedistributor`
        whose event names are among ``items``."""
        profile = redistributor.profile
        if profile is None:
            raise ValueError("the redistributor is not fitted: it has no profile to read the consensus from")
        alphabet = redistributor.encoder.alphabet
        return cls([alphabet.name(goal.event) for goal in profile.consensus], items=items)

    @property
    def num_subtasks(self) -> int:
        return len(self.subtasks)

    def goals_reached(self, gains: np.ndarray) -> int:
        """How many consensus sub-goals are reached, in order, given ``gains``: shape
        (len(items),), how many times each item was gained in the episode."""
        reached = np.asarray(gains)[self._item_of_goal] >= self._count_of_goal
        missing = np.flatnonzero(~reached)
        return int(missing[0]) if missing.size else len(self.consensus)

    def current(self, gains: np.ndarray) -> int:
        """Index into :attr:`subtasks` of the sub-task in charge."""
        goal = min(self.goals_reached(gains), len(self.consensus) - 1)
        return int(self._subtask_of_goal[goal])

    def trace(self, changes: np.ndarray) -> np.ndarray:
        """Shape (T+1,): the current sub-task at s_0 .. s_T of an episode whose per-step
        inventory changes are ``changes``, shape (T, len(items))."""
        changes = np.asarray(changes)
        gains = np.zeros(len(self.items), dtype=np.int64)
        trace = [self.current(gains)]
        for change in changes:
            gains += change > 0
            trace.append(self.current(gains))
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
        trace = controller.trace(episode.infos[change_key])
        observations = np.concatenate([observations, eye[trace].astype(observations.dtype)], axis=1)
        result.append(dataclasses.replace(episode, observations=observations))
    return result


def subtask_segments(episode: Episode, controller: SubtaskController, *, change_key: str = "inventory_change") -> dict[str, int]:
    """Number of steps of ``episode`` each sub-task was in charge of (``{item: steps}``)."""
    trace = controller.trace(episode.infos[change_key])[:-1]
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
