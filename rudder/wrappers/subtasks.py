"""Gymnasium wrappers of the sub-task agents: the sub-task one-hot and the sub-goal payments.

:class:`SubtaskObservation` appends the sub-task in charge (one-hot) to a flat
observation; :class:`SubtaskReward` pays each consensus sub-goal when it is reached.
Both count the events of each step from ``info[change_key]`` through a
:class:`~rudder.agents.subtasks.SubtaskController` (numpy only; see there for the
offline counterparts :func:`~rudder.agents.subtasks.add_subtasks` and
:func:`~rudder.agents.subtasks.pay_for_goals`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

if TYPE_CHECKING:
    from rudder.agents.subtasks import SubtaskController

__all__ = ["SubtaskObservation", "SubtaskReward"]


class SubtaskObservation(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Appends the current sub-task, one-hot, to a flat ``Box`` observation.

    Reads this step's inventory change from ``info[change_key]`` (the crafting world's
    ``"inventory_change"``), and gives the controller the observation and the sub-task
    in charge at the step before (for its interrupts, if any). The one-hot is last, where :class:`~rudder.agents.sb3.SubtaskPolicy` reads it.
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
        self._subtask: int | None = None

    def _observe(self, observation: np.ndarray, info: dict[str, Any]) -> np.ndarray:
        subtask = self.controller.current(self._gains, observation, self._subtask)
        self._subtask = subtask
        info["subtask"] = self.controller.subtasks[subtask]
        return np.concatenate([observation, self._eye[subtask]])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        observation, info = self.env.reset(seed=seed, options=options)
        self._gains[:] = 0
        self._subtask = None
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


class SubtaskReward(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Pays the sub-task agents for the consensus sub-goals they reach.

    Wraps a :class:`SubtaskObservation` above a
    :class:`~rudder.wrappers.RedistributedReward`. Reaching consensus sub-goal j (in
    order, as the controller counts them) pays ``goal_rewards[j]``
    (:func:`goal_rewards`: its share of the demonstrations' redistributed return). Events
    that are not the next sub-goal pay nothing, so an agent cannot farm them (crafting
    table after table instead of the pickaxe): with a profile whose gaps cost nothing,
    the step-wise redistributed reward pays for such events.

    Nothing is settled by default: the agents are paid for their sub-goals only. A
    settlement (the true return minus everything paid, added to the last step) lands on
    the agent in charge at the end, whatever the earlier agents did, and only when the
    episode ends the way it is settled. Settled at termination, a return that falls with
    time (minigrid's 1 - 0.9 t / T, any per-step cost) makes the last agent's sub-goal
    pay its share minus the earlier agents' slowness, often less than nothing, while
    stopping short until the time-out costs nothing: the last agent learns to stop short
    of the goal (measured on MiniGrid-BlockedUnlockPickup-v0, where the box agent's
    success fell from 0.58 to 0.10 of the episodes it was in charge of within 110k steps;
    ``benchmarks/results/subtask_agents_ballpit.md``). Settled at a time-out, the agent
    in charge when time runs out (usually the last, longest sub-task) would take the
    whole correction of a failed episode as a penalty that depends on the clock, which
    the observation does not show; PPO bootstraps at truncations instead.

    Args:
        env: a :class:`SubtaskObservation`-wrapped env whose ``info`` holds the env's own
            reward as ``"original_reward"`` (set by ``RedistributedReward``).
        controller: the controller the observation uses.
        goal_rewards: shape (len(controller.consensus),).
        change_key: the info key of the per-step inventory change.
        settle_truncated: also settle (true return minus paid) when the episode is
            truncated, so that every episode's rewards sum to its return.
        settle_terminated: also settle when the episode terminates, so that every
            terminated episode's rewards sum to its return (off by default: see above;
            for returns that do not depend on time and runs that accept the risk).
        env_reward_weight: also pay this multiple of the env's own reward at every step
            (0 by default: the sub-goals only). For envs that pay as they go (Crafter's
            achievements and health, per-step costs), whose rewards a sub-task agent
            should not lose; see :func:`~rudder.agents.subtasks.rewards_are_immediate`.
    """

    def __init__(
        self,
        env: gym.Env,
        controller: SubtaskController,
        goal_rewards: np.ndarray,
        *,
        change_key: str = "inventory_change",
        settle_truncated: bool = False,
        settle_terminated: bool = False,
        env_reward_weight: float = 0.0,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self,
            controller=controller,
            goal_rewards=goal_rewards,
            change_key=change_key,
            settle_truncated=settle_truncated,
            settle_terminated=settle_terminated,
            env_reward_weight=env_reward_weight,
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
        if not np.isfinite(env_reward_weight) or env_reward_weight < 0:
            raise ValueError(f"`env_reward_weight` must be a finite number >= 0, got {env_reward_weight}")
        self.env_reward_weight = float(env_reward_weight)
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
        original = float(info["original_reward"])
        self._return += original
        self._gains += np.asarray(info[self.change_key]) > 0
        reached = self.controller.goals_reached(self._gains)
        reward = self.env_reward_weight * original
        if reached > self._reached:
            reward += float(self.goal_rewards[self._reached : reached].sum())
        self._reached = max(self._reached, reached)
        if (terminated and self.settle_terminated) or (truncated and self.settle_truncated):
            reward += self._return - (self._paid + reward)
        self._paid += reward
        info["sub_goals_reached"] = self._reached
        return observation, reward, terminated, truncated, info
