"""Sub-task agents: one policy per consensus sub-goal, and a controller that hands over.

The paper's MineRL agent: the consensus of the aligned demonstrations ("6× log, planks,
crafting_table, stick, wooden_pickaxe, ...") splits the task into sub-tasks, one per
distinct sub-goal item; each sub-task has its own agent, and the agent in charge is the
one of the first sub-goal not yet reached.

- :class:`SubtaskController` reads the consensus and tells, from the item gains so far,
  which sub-task is current: consensus sub-goal j (the k-th ``log``, say) is reached once
  ``log`` was gained k times in the episode; the current sub-task is the item of the
  first sub-goal not reached (the last one once all are).
- :class:`SubtaskObservation` appends the current sub-task (one-hot) to a flat
  observation, online; :func:`add_subtasks` does the same for recorded episodes.
- :class:`SubtaskPolicy` is an SB3 ``ActorCriticPolicy`` made of one separate actor and
  critic network per sub-task, routed by that one-hot. Behaviour cloning therefore trains
  each sub-task's networks on the demonstration steps of that sub-task only, and PPO on
  redistributed reward trains each on the steps it was in charge of.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

from rudder.data.episode import Episode, check_episodes
from rudder.events.inventory import OTHER


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
    def from_redistributor(cls, redistributor, *, items: Sequence[str]) -> SubtaskController:
        """The controller of a fitted :class:`~rudder.redistribution.AlignmentRedistributor`
        whose event names are among ``items``."""
        alphabet = redistributor.encoder.alphabet
        return cls([alphabet.name(goal.event) for goal in redistributor.profile.consensus], items=items)

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


class SubtaskObservation(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Appends the current sub-task, one-hot, to a flat ``Box`` observation.

    Reads this step's inventory change from ``info[change_key]`` (the crafting world's
    ``"inventory_change"``). The one-hot is last, where :class:`SubtaskPolicy` reads it.
    ``info["subtask"]`` names the sub-task in charge.
    """

    def __init__(self, env: gym.Env, controller: SubtaskController, *, change_key: str = "inventory_change") -> None:
        gym.utils.RecordConstructorArgs.__init__(self, controller=controller, change_key=change_key)
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"SubtaskObservation needs a flat Box observation, got {space}")
        count = controller.num_subtasks
        self.controller = controller
        self.change_key = change_key
        self.observation_space = gym.spaces.Box(
            np.concatenate([space.low, np.zeros(count)]).astype(space.dtype),
            np.concatenate([space.high, np.ones(count)]).astype(space.dtype),
            dtype=space.dtype,
        )
        self._eye = np.eye(count, dtype=space.dtype)
        self._gains = np.zeros(len(controller.items), dtype=np.int64)

    def _observe(self, observation: np.ndarray, info: dict[str, Any]) -> np.ndarray:
        subtask = self.controller.current(self._gains)
        info["subtask"] = self.controller.subtasks[subtask]
        return np.concatenate([observation, self._eye[subtask]])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        observation, info = self.env.reset(seed=seed, options=options)
        self._gains[:] = 0
        return self._observe(observation, info), info

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        if self.change_key not in info:
            raise KeyError(
                f"SubtaskObservation reads the step's event counts from info[{self.change_key!r}], "
                f"which the env does not set (info keys: {sorted(info)})"
            )
        self._gains += np.asarray(info[self.change_key]) > 0
        return self._observe(observation, info), reward, terminated, truncated, info


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


class SubtaskReward(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Pays the sub-task agents for the consensus sub-goals they reach.

    Wraps a :class:`SubtaskObservation` above a
    :class:`~rudder.wrappers.RedistributedReward`. Reaching consensus sub-goal j (in
    order, as the controller counts them) pays ``goal_rewards[j]``
    (:func:`goal_rewards`: its share of the demonstrations' redistributed return). When
    the episode terminates, the last step adds the true return minus everything paid, so
    the rewards sum to the return. A time-out (truncation) is not settled by default:
    the agent in charge when time runs out (usually the last, longest sub-task) would
    take the whole correction of a failed episode as a penalty that depends on the clock,
    which the observation does not show; PPO bootstraps at truncations instead. Events
    that are not the next sub-goal pay nothing, so an agent
    cannot farm them (crafting table after table instead of the pickaxe): with a profile
    whose gaps cost nothing, the step-wise redistributed reward pays for such events.

    Args:
        env: a :class:`SubtaskObservation`-wrapped env whose ``info`` holds the env's own
            reward as ``"original_reward"`` (set by ``RedistributedReward``).
        controller: the controller the observation uses.
        goal_rewards: shape (len(controller.consensus),).
        change_key: the info key of the per-step inventory change.
        settle_truncated: also settle (true return minus paid) when the episode is
            truncated, so that every episode's rewards sum to its return.
        settle_terminated: settle when the episode terminates (the default). Without
            it only the sub-goals are paid: for tasks whose return depends on time
            (minigrid pays 1 - 0.9 t / T), where the settlement would charge the last
            agent for the earlier agents' slowness, often more than its own sub-goal
            is worth, so that it learns to stop short of the goal.
    """

    def __init__(
        self,
        env: gym.Env,
        controller: SubtaskController,
        goal_rewards: np.ndarray,
        *,
        change_key: str = "inventory_change",
        settle_truncated: bool = False,
        settle_terminated: bool = True,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self,
            controller=controller,
            goal_rewards=goal_rewards,
            change_key=change_key,
            settle_truncated=settle_truncated,
            settle_terminated=settle_terminated,
        )
        super().__init__(env)
        goal_rewards = np.asarray(goal_rewards, dtype=np.float64)
        if goal_rewards.shape != (len(controller.consensus),):
            raise ValueError(
                f"`goal_rewards` must have one entry per consensus sub-goal ({len(controller.consensus)}), "
                f"got shape {goal_rewards.shape}"
            )
        self.controller = controller
        self.goal_rewards = goal_rewards
        self.change_key = change_key
        self.settle_truncated = bool(settle_truncated)
        self.settle_terminated = bool(settle_terminated)
        self._gains = np.zeros(len(controller.items), dtype=np.int64)
        self._reached = 0
        self._paid = 0.0
        self._return = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        observation, info = self.env.reset(seed=seed, options=options)
        self._gains[:] = 0
        self._reached = 0
        self._paid = self._return = 0.0
        return observation, info

    def step(self, action):
        observation, _, terminated, truncated, info = self.env.step(action)
        if "original_reward" not in info:
            raise KeyError("SubtaskReward needs info['original_reward']: wrap it above RedistributedReward")
        self._return += float(info["original_reward"])
        self._gains += np.asarray(info[self.change_key]) > 0
        reached = self.controller.goals_reached(self._gains)
        reward = float(self.goal_rewards[self._reached : reached].sum()) if reached > self._reached else 0.0
        self._reached = max(self._reached, reached)
        if (terminated and self.settle_terminated) or (truncated and self.settle_truncated):
            reward += self._return - (self._paid + reward)
        self._paid += reward
        info["sub_goals_reached"] = self._reached
        return observation, reward, terminated, truncated, info


def pay_for_goals(
    controller: SubtaskController,
    goal_values: np.ndarray,
    episode: Episode,
    *,
    change_key: str = "inventory_change",
    settle_truncated: bool = False,
    settle_terminated: bool = True,
) -> np.ndarray:
    """Shape (T,): the rewards :class:`SubtaskReward` pays along a recorded ``episode``."""
    gains = np.zeros(len(controller.items), dtype=np.int64)
    paid = np.zeros(episode.length)
    reached = 0
    for step, change in enumerate(np.asarray(episode.infos[change_key])):
        gains += change > 0
        now = controller.goals_reached(gains)
        if now > reached:
            paid[step] = float(np.sum(goal_values[reached:now]))
            reached = now
    if (episode.terminated and settle_terminated) or (episode.truncated and settle_truncated):
        paid[-1] += episode.episode_return - paid.sum()
    return paid


def add_subtasks(
    episodes: Sequence[Episode], controller: SubtaskController, *, change_key: str = "inventory_change"
) -> list[Episode]:
    """Copies of ``episodes`` (flat observations) with the sub-task one-hot appended, as
    :class:`SubtaskObservation` shows it online; the episodes need
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


class SubtaskBoundaries(BaseCallback):
    """Makes each sub-task agent's return end where its sub-task ends.

    SB3 computes returns and advantages before ``on_rollout_end``; this callback then marks
    every step whose sub-task differs from the previous step's as an episode start and
    computes them again. So an agent is credited with the redistributed reward up to and
    including its sub-goal, and not with what the next agent does afterwards (nor does it
    bootstrap from the next agent's value): PPO on the redistributed reward *within* the
    sub-task, as the paper trains its MineRL sub-task agents.

    With ``normalize_advantages`` the advantages are then standardised within each
    sub-task, and PPO's own per-minibatch standardisation is turned off: every agent is
    its own PPO learner. Standardising a minibatch that mixes agents shifts all of them
    by one mean, so the steps of an agent that is doing as well as its critic expects
    get the negative advantage of another agent's windfall, and its cloned actions are
    pushed down.

    Args:
        num_subtasks: the sub-task one-hot's length (the last features of the observation).
        normalize_advantages: standardise advantages per sub-task (see above).
    """

    def __init__(self, num_subtasks: int, *, normalize_advantages: bool = True, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.num_subtasks = int(num_subtasks)
        self.normalize_advantages = bool(normalize_advantages)

    def _on_training_start(self) -> None:
        if self.normalize_advantages:
            self.model.normalize_advantage = False

    def _subtask(self, observations: np.ndarray) -> np.ndarray:
        return np.asarray(observations)[..., -self.num_subtasks :].argmax(axis=-1)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buffer = self.model.rollout_buffer
        subtask = self._subtask(buffer.observations)  # (n_steps, n_envs)
        switched = np.zeros_like(buffer.episode_starts, dtype=bool)
        switched[1:] = subtask[1:] != subtask[:-1]
        buffer.episode_starts = np.maximum(buffer.episode_starts, switched.astype(buffer.episode_starts.dtype))
        new_observations = self.locals["new_obs"]
        dones = np.asarray(self.locals["dones"], dtype=np.float32)
        last_switched = self._subtask(new_observations) != subtask[-1]
        dones = np.maximum(dones, last_switched.astype(np.float32))
        buffer.compute_returns_and_advantage(last_values=self.locals["values"], dones=dones)
        if self.normalize_advantages:
            standardize_by_subtask(buffer.advantages, subtask)
        self.logger.record("rudder/subtask_switches", float(switched.sum() + last_switched.sum()))


def standardize_by_subtask(advantages: np.ndarray, subtask: np.ndarray) -> None:
    """Standardises ``advantages`` in place within each sub-task (same shape as
    ``subtask``); a sub-task with one step is only centred."""
    for index in np.unique(subtask):
        rows = subtask == index
        values = advantages[rows]
        centred = values - values.mean()
        advantages[rows] = centred / (values.std() + 1e-8) if values.size > 1 else centred


# ------------------------------------------------------------------ the routed policy
def _network(sizes: Sequence[int], activation: type[nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[index], sizes[index + 1]))
        if index < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class SubtaskNetworks(nn.Module):
    """One actor and one critic network per sub-task; each sample goes through the
    networks of its sub-task (the one-hot in its last ``num_subtasks`` features).

    The actor's output is the action logits, the critic's the value, so that the policy's
    own ``action_net`` and ``value_net`` are identities and nothing is shared.
    """

    def __init__(
        self,
        feature_dim: int,
        *,
        num_subtasks: int,
        num_actions: int,
        hidden: Sequence[int] = (64, 64),
        activation: type[nn.Module] = nn.Tanh,
    ) -> None:
        super().__init__()
        self.num_subtasks = int(num_subtasks)
        self.latent_dim_pi = int(num_actions)
        self.latent_dim_vf = 1
        sizes = [feature_dim, *hidden]
        self.actors = nn.ModuleList(_network([*sizes, num_actions], activation) for _ in range(num_subtasks))
        self.critics = nn.ModuleList(_network([*sizes, 1], activation) for _ in range(num_subtasks))

    def _route(self, features: torch.Tensor, networks: nn.ModuleList, size: int) -> torch.Tensor:
        subtask = features[:, -self.num_subtasks :].argmax(dim=1)
        output = features.new_zeros((features.shape[0], size))
        for index in torch.unique(subtask).tolist():
            rows = subtask == index
            output[rows] = networks[index](features[rows])
        return output

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self._route(features, self.actors, self.latent_dim_pi)

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self._route(features, self.critics, 1)


class SubtaskPolicy(ActorCriticPolicy):
    """An SB3 actor-critic policy that is one policy per sub-task (see
    :class:`SubtaskNetworks`). Needs a ``Discrete`` action space and a flat observation
    ending in the sub-task one-hot (:class:`SubtaskObservation`).

    Args:
        num_subtasks: number of sub-tasks (the one-hot's length).
        net_arch: hidden sizes of every sub-task's actor and critic.
        Other arguments: as ``ActorCriticPolicy``.
    """

    def __init__(self, *args: Any, num_subtasks: int, net_arch: Sequence[int] | Mapping | None = (64, 64), **kwargs: Any) -> None:
        if num_subtasks < 1:
            raise ValueError(f"`num_subtasks` must be >= 1, got {num_subtasks}")
        self.num_subtasks = int(num_subtasks)
        self.hidden_sizes = tuple(net_arch) if isinstance(net_arch, (list, tuple)) else (64, 64)
        super().__init__(*args, net_arch=None, **kwargs)

    def _build_mlp_extractor(self) -> None:
        if not isinstance(self.action_space, gym.spaces.Discrete):
            raise ValueError(f"SubtaskPolicy needs a Discrete action space, got {self.action_space}")
        self.mlp_extractor = SubtaskNetworks(
            self.features_dim,
            num_subtasks=self.num_subtasks,
            num_actions=int(self.action_space.n),
            hidden=self.hidden_sizes,
            activation=self.activation_fn,
        )

    def _build(self, lr_schedule) -> None:
        super()._build(lr_schedule)
        self.action_net = nn.Identity()
        self.value_net = nn.Identity()
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)


__all__ = [
    "SubtaskBoundaries",
    "SubtaskController",
    "SubtaskNetworks",
    "SubtaskObservation",
    "SubtaskPolicy",
    "SubtaskReward",
    "add_subtasks",
    "goal_rewards",
    "pay_for_goals",
    "standardize_by_subtask",
    "subtask_segments",
]
