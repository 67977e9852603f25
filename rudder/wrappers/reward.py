"""Gymnasium wrappers that change when reward is paid: online redistribution by any
:class:`~rudder.redistribution.Redistributor`, reward delayed to the episode's end, and
time limits reported as termination."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded

from rudder.data.episode import Episode
from rudder.data.record import stack_steps
from rudder.redistribution.base import OnlineRedistributionState, Redistributor

__all__ = ["DelayedReward", "RedistributedReward", "TimeLimitAsTermination"]

StepResult = tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]


class RedistributedReward(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Replaces the env's reward by reward redistributed online by a fitted redistributor.

    One wrapper per environment; it keeps the causal redistribution state of the current
    episode and starts it afresh on ``reset``. The env's own reward is kept in
    ``info["original_reward"]``; at the end of an episode ``info["redistribution"]``
    holds the episode return, the redistributed return, the terminal correction and the
    final profile score and position.

    With the redistributor's correction on (the default), the rewards of every finished
    episode sum to its return. Put ``Monitor`` *inside* this wrapper (closer to the env)
    so that logged episode returns are the env's true returns.

    With ``record_episodes=True`` the finished episode (as the env below produced it) is
    also put into ``info["episode_record"]``, for models that keep learning from new
    episodes (RUDDER's lessons buffer). :meth:`set_redistributor` swaps in a retrained
    redistributor from the next episode on.

    Args:
        env: the environment to wrap.
        redistributor: a redistributor that is ready (:attr:`Redistributor.is_ready`): a
            fitted :class:`~rudder.AlignmentRedistributor`, or a
            :class:`~rudder.redistribution.LSTMRedistributor`.
        record_episodes: keep each episode and hand it out at its end.
    """

    def __init__(self, env: gym.Env, redistributor: Redistributor, *, record_episodes: bool = False) -> None:
        if not redistributor.is_ready:
            raise ValueError("`redistributor` is not fitted; call redistributor.fit(demonstrations) first")
        gym.utils.RecordConstructorArgs.__init__(self, redistributor=redistributor, record_episodes=record_episodes)
        gym.Wrapper.__init__(self, env)
        self.redistributor = redistributor
        self.record_episodes = bool(record_episodes)
        self._pending: Redistributor | None = None
        self._state: OnlineRedistributionState | None = None
        self._observation: Any = None
        self._trace: dict[str, list[Any]] = {"observations": [], "actions": [], "rewards": []}
        self.weight = 1.0

    def set_weight(self, weight: float) -> None:
        """Pays ``weight * redistributed + (1 - weight) * env reward`` from now on (1: the
        redistributed reward alone, 0: the env reward alone). Both parts sum to the return
        on a finished episode in the "difference" form, so every mix does too; in the
        "potential" form the weight scales the shaping. Set by
        :class:`~rudder.agents.sb3.safeguards.RedistributionGate`."""
        weight = float(weight)
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"`weight` must be in [0, 1], got {weight}")
        self.weight = weight

    def set_redistributor(self, redistributor: Redistributor) -> None:
        """Uses ``redistributor`` from the next ``reset`` on (the current episode finishes
        with the old one, so its rewards still sum to its return)."""
        if not redistributor.is_ready:
            raise ValueError("`redistributor` is not fitted")
        self._pending = redistributor

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(seed=seed, options=options)
        if self._pending is not None:
            self.redistributor, self._pending, self._state = self._pending, None, None
        if self._state is None:
            self._state = self.redistributor.start(observation)
        else:
            self._state.reset(observation)
        self._observation = observation
        if self.record_episodes:
            self._trace = {"observations": [observation], "actions": [], "rewards": []}
        return observation, info

    def step(self, action: Any) -> StepResult:
        if self._state is None:
            raise ResetNeeded("call reset() before step() on RedistributedReward")
        observation, reward, terminated, truncated, info = self.env.step(action)
        state = self._state
        redistributed = state.step(self._observation, action, observation, float(reward), terminated, truncated, info)
        if self.weight != 1.0:
            redistributed = self.weight * redistributed + (1.0 - self.weight) * float(reward)
        self._observation = observation
        info["original_reward"] = reward
        if self.record_episodes:
            self._trace["observations"].append(observation)
            self._trace["actions"].append(action)
            self._trace["rewards"].append(float(reward))
            if terminated or truncated:
                info["episode_record"] = self._recorded(terminated, truncated)
        if terminated or truncated:
            info["redistribution"] = {
                "episode_return": state.episode_return,
                "redistributed_return": state.redistributed_return,
                "correction": state.last_correction,
                "score": state.score,
                "position": state.position,
            }
        return observation, redistributed, terminated, truncated, info

    def _recorded(self, terminated: bool, truncated: bool) -> Episode:
        trace = self._trace
        return Episode(
            observations=stack_steps(trace["observations"]),
            actions=stack_steps(trace["actions"]),
            rewards=np.asarray(trace["rewards"], dtype=np.float64),
            terminated=bool(terminated),
            truncated=bool(truncated),
        )

    @property
    def redistribution_state(self) -> OnlineRedistributionState | None:
        """The online state of the current episode (score, position, returns so far);
        ``None`` before the first ``reset``."""
        return self._state


class DelayedReward(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Pays the accumulated env reward only at the end of the episode (0 before).

    Turns any environment into a delayed-reward task with the same return. The reward
    of each step is kept in ``info["original_reward"]``.
    """

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        self._accumulated = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        self._accumulated = 0.0
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> StepResult:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._accumulated += float(reward)
        info["original_reward"] = reward
        paid: SupportsFloat = 0.0
        if terminated or truncated:
            paid, self._accumulated = self._accumulated, 0.0
        return observation, paid, terminated, truncated, info


class TimeLimitAsTermination(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Reports a time-limit truncation as termination (``terminated=True``, ``truncated=False``).

    For finite-horizon tasks whose step limit is part of the task (minigrid pays
    ``1 - 0.9 * steps / max_steps``): learners then do not bootstrap a value beyond the
    limit. With redistributed reward this also keeps the terminal correction of a
    failed episode from being offset by the bootstrapped value of the sub-goals it
    reached. ``info["time_limit"]`` marks the converted steps.
    """

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)

    def step(self, action: Any) -> StepResult:
        observation, reward, terminated, truncated, info = self.env.step(action)
        if truncated and not terminated:
            info["time_limit"] = True
            terminated, truncated = True, False
        return observation, reward, terminated, truncated, info
