"""Classic-control delayed-reward tasks and their demonstrators: MountainCar and LunarLander.

``DelayedReward(gym.make("MountainCar-v0"))`` and ``DelayedReward(gym.make("LunarLander-v3"))``
are delayed-reward tasks with continuous observations: MountainCar's return is negative
(-1 per step until the flag), LunarLander's has mixed signs (shaping, fuel costs, +-100 at
the end). This module owns how they are made (:func:`make_delayed_env`), what counts as
success (:data:`SUCCESS_TESTS`), and scripted demonstrators that record successful
demonstrations:

- :class:`MountainCarDemonstrator`: energy pumping (push in the direction of the
  velocity), with a seeded random action now and then.
- :class:`LunarLanderDemonstrator`: gymnasium's own ``heuristic`` lander, with a seeded
  random action now and then. LunarLander needs Box2D (``pip install "gymnasium[box2d]"``).
- :func:`mountain_car_policy` and :func:`lunar_lander_policy`: the same controllers without
  noise, as plain ``policy(observation) -> action`` functions for
  ``rudder demos record ENV --policy MODULE:FUNCTION``.

How well they do: "success" is the share of 50 attempts (reset seeds 0..49, noise
generator seeded with 0) that succeed; return and length are those of the 50
demonstrations that ``*_demonstrations(50, seed=0, noise=...)`` returns (successful
attempts only; 0.3 s to record for MountainCar, 1.5 s for LunarLander):

===========================  =====  =======  =======================  =======================
demonstrator                 noise  success  return: mean [min, max]  length: mean [min, max]
===========================  =====  =======  =======================  =======================
MountainCar, energy pumping  0.0    1.00     -119.7 [-124, -113]      119.7 [113, 124]
MountainCar, energy pumping  0.1    1.00     -128.2 [-195, -95]       128.2 [95, 195]
LunarLander-v3, heuristic    0.0    0.92     274.5 [204.9, 320.0]     231.7 [152, 680]
LunarLander-v3, heuristic    0.05   0.86     274.3 [202.6, 316.0]     239.2 [163, 521]
===========================  =====  =======  =======================  =======================

Success is the flag reached for MountainCar and a return of at least 200 for LunarLander
(the usual "solved" threshold). Noise 0.1 (MountainCar) and 0.05 (LunarLander) are the
defaults: enough variety that no two demonstrations are alike, while nearly every attempt
still succeeds (at LunarLander noise 0.1 only 70% of the attempts land well).

Example:
    >>> demonstrations = mountain_car_demonstrations(10, seed=0)
    >>> [round(d.episode_return) for d in demonstrations][:3]
    [-165, -119, -127]
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import gymnasium as gym
import numpy as np

from rudder.data.episode import Episode
from rudder.data.record import record_episodes
from rudder.errors import DependencyNotInstalled
from rudder.wrappers.reward import DelayedReward

__all__ = [
    "LUNAR_LANDER",
    "LUNAR_LANDER_SUCCESS_RETURN",
    "MOUNTAIN_CAR",
    "SUCCESS_TESTS",
    "LunarLanderDemonstrator",
    "MountainCarDemonstrator",
    "lunar_lander_demonstrations",
    "lunar_lander_policy",
    "lunar_lander_success",
    "make_delayed_env",
    "mountain_car_demonstrations",
    "mountain_car_policy",
    "mountain_car_success",
]

MOUNTAIN_CAR = "MountainCar-v0"
LUNAR_LANDER = "LunarLander-v3"
LUNAR_LANDER_SUCCESS_RETURN = 200.0
"""A LunarLander episode with at least this return is a success (gymnasium's "solved")."""

# MountainCar's actions: 0 push left, 1 no push, 2 push right; the flag is at position 0.5.
_PUSH_LEFT, _PUSH_RIGHT = 0, 2
_MOUNTAIN_CAR_ACTIONS = 3
_FLAG_POSITION = 0.5
_LUNAR_LANDER_ACTIONS = 4  # discrete LunarLander: 0 nothing, 1 left, 2 main, 3 right engine
_DELAYED_INFO_KEYS = ("original_reward",)
_MAX_ATTEMPTS = 100


def _check_noise(noise: float) -> None:
    # noise 1 would be a random policy that never records a demonstration
    if not 0.0 <= noise < 1.0:
        raise ValueError(f"`noise` must be in [0, 1), got {noise}")


def make_delayed_env(env_id: str, **kwargs: Any) -> DelayedReward:
    """``DelayedReward(gym.make(env_id, **kwargs))``: the env's return, paid at the end.

    A module-level function, so ``functools.partial(make_delayed_env, "MountainCar-v0")``
    pickles and can be handed to vector envs that start worker processes.

    Args:
        env_id: a registered gymnasium id, e.g. :data:`MOUNTAIN_CAR` or :data:`LUNAR_LANDER`.
        **kwargs: passed to ``gym.make`` (for example ``continuous=True`` for LunarLander).

    Returns:
        The wrapped env; each step's own reward is in ``info["original_reward"]``.

    Raises:
        DependencyNotInstalled: if the env needs Box2D and it is not installed.
    """
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.DependencyNotInstalled as error:
        raise DependencyNotInstalled(
            f'{env_id} needs Box2D: pip install "gymnasium[box2d]" ({error})'
        ) from error
    return DelayedReward(env)


def _make(env_id: str, *, delayed: bool) -> gym.Env:
    if delayed:
        return make_delayed_env(env_id)
    try:
        return gym.make(env_id)
    except gym.error.DependencyNotInstalled as error:
        raise DependencyNotInstalled(
            f'{env_id} needs Box2D: pip install "gymnasium[box2d]" ({error})'
        ) from error


def mountain_car_success(episode: Episode) -> bool:
    """Whether a MountainCar episode reached the flag (its last position is at least 0.5)."""
    observations = np.asarray(episode.observations)
    return bool(observations[-1, 0] >= _FLAG_POSITION)


def lunar_lander_success(episode: Episode) -> bool:
    """Whether a LunarLander episode's return is at least 200 (delayed or not, the same)."""
    return bool(episode.episode_return >= LUNAR_LANDER_SUCCESS_RETURN)


SUCCESS_TESTS: dict[str, Callable[[Episode], bool]] = {
    MOUNTAIN_CAR: mountain_car_success,
    LUNAR_LANDER: lunar_lander_success,
}
"""Env id -> ``success(episode) -> bool`` for the classic-control tasks."""


def mountain_car_policy(observation: Any) -> int:
    """Energy pumping: push in the direction of the velocity (right when standing still).

    Args:
        observation: MountainCar's observation, shape (2,): position and velocity.

    Returns:
        The action: 2 (push right) or 0 (push left).
    """
    return _PUSH_RIGHT if float(observation[1]) >= 0.0 else _PUSH_LEFT


class MountainCarDemonstrator:
    """Energy pumping with a seeded random action now and then.

    Pushing in the direction of the velocity adds energy on every swing, so the car rocks
    higher until it reaches the flag (about 120 steps from any start). With probability
    ``noise`` a step takes a uniformly random action instead, drawn from the recorder's
    generator, so that demonstrations differ in length and path the way human ones do.

    Args:
        noise: probability of a random action at each step, in [0, 1).
    """

    def __init__(self, *, noise: float = 0.1) -> None:
        _check_noise(noise)
        self.noise = noise

    def __call__(self, observation: Any, rng: np.random.Generator) -> int:
        if rng.random() < self.noise:
            return int(rng.integers(_MOUNTAIN_CAR_ACTIONS))
        return mountain_car_policy(observation)


# gymnasium's heuristic reads only `env.unwrapped.continuous`; this stands for the discrete env.
_DISCRETE_LANDER = SimpleNamespace(unwrapped=SimpleNamespace(continuous=False))


def _heuristic() -> Callable[[Any, Any], Any]:
    try:
        from gymnasium.envs.box2d.lunar_lander import heuristic
    except (ImportError, gym.error.DependencyNotInstalled) as error:
        raise DependencyNotInstalled(
            f'LunarLander needs Box2D: pip install "gymnasium[box2d]" ({error})'
        ) from error
    return heuristic


def lunar_lander_policy(observation: Any) -> int:
    """gymnasium's heuristic lander for the discrete LunarLander.

    Args:
        observation: LunarLander's observation, shape (8,).

    Returns:
        The action: 0 (nothing), 1 (left engine), 2 (main engine) or 3 (right engine).
    """
    return int(_heuristic()(_DISCRETE_LANDER, observation))


class LunarLanderDemonstrator:
    """gymnasium's heuristic lander with a seeded random action now and then.

    The heuristic (``gymnasium.envs.box2d.lunar_lander.heuristic``) steers the angle
    towards the pad and holds the descent speed; with probability ``noise`` a step takes
    a uniformly random action instead (a random engine, or for the continuous lander a
    uniform throttle in [-1, 1]^2), drawn from the recorder's generator.

    Args:
        env: the LunarLander env (discrete or ``continuous=True``), possibly wrapped.
        noise: probability of a random action at each step, in [0, 1).
    """

    def __init__(self, env: gym.Env, *, noise: float = 0.05) -> None:
        _check_noise(noise)
        self.env = env
        self.noise = noise
        self.continuous = bool(getattr(env.unwrapped, "continuous", False))
        self._heuristic = _heuristic()

    def __call__(self, observation: Any, rng: np.random.Generator) -> Any:
        if rng.random() < self.noise:
            if self.continuous:
                return rng.uniform(-1.0, 1.0, size=2).astype(np.float32)
            return int(rng.integers(_LUNAR_LANDER_ACTIONS))
        action = self._heuristic(self.env, observation)
        return np.asarray(action, dtype=np.float32) if self.continuous else int(action)


def mountain_car_demonstrations(
    num_demonstrations: int = 10, *, seed: int = 0, noise: float = 0.1, delayed: bool = True
) -> list[Episode]:
    """Successful, varied MountainCar-v0 demonstrations (the flag reached).

    Attempts are reset with consecutive seeds ``seed, seed + 1, ...``; an attempt that
    runs out of time (200 steps) is skipped and the next seed is tried.

    Args:
        num_demonstrations: how many demonstrations.
        seed: the first reset seed and the seed of the demonstrator's noise.
        noise: the demonstrator's random-action probability.
        delayed: record through :class:`~rudder.wrappers.DelayedReward` (rewards 0 until
            the last step, which pays the return; each step's own reward in
            ``infos["original_reward"]``, shape (T,)); False: the env's own rewards.

    Returns:
        ``num_demonstrations`` episodes, observations of shape (T + 1, 2).

    Raises:
        RuntimeError: if 100 attempts in a row fail.
    """
    return record_episodes(
        _make(MOUNTAIN_CAR, delayed=delayed),
        MountainCarDemonstrator(noise=noise),
        num_episodes=num_demonstrations,
        seed=seed,
        info_keys=_DELAYED_INFO_KEYS if delayed else (),
        accept=mountain_car_success,
        max_attempts=_MAX_ATTEMPTS,
        failure_hint=": the demonstrator keeps failing; lower `noise`",
    )


def lunar_lander_demonstrations(
    num_demonstrations: int = 10, *, seed: int = 0, noise: float = 0.05, delayed: bool = True
) -> list[Episode]:
    """Successful, varied LunarLander-v3 demonstrations (return at least 200).

    Attempts are reset with consecutive seeds ``seed, seed + 1, ...``; an attempt with a
    return below 200 (a crash, a hard landing, or hovering until the 1,000-step limit) is
    skipped and the next seed is tried.

    Args:
        num_demonstrations: how many demonstrations.
        seed: the first reset seed and the seed of the demonstrator's noise.
        noise: the demonstrator's random-action probability.
        delayed: record through :class:`~rudder.wrappers.DelayedReward` (rewards 0 until
            the last step, which pays the return; each step's own reward in
            ``infos["original_reward"]``, shape (T,)); False: the env's own rewards.

    Returns:
        ``num_demonstrations`` episodes, observations of shape (T + 1, 8).

    Raises:
        DependencyNotInstalled: without Box2D.
        RuntimeError: if 100 attempts in a row fail.
    """
    env = _make(LUNAR_LANDER, delayed=delayed)
    return record_episodes(
        env,
        LunarLanderDemonstrator(env, noise=noise),
        num_episodes=num_demonstrations,
        seed=seed,
        info_keys=_DELAYED_INFO_KEYS if delayed else (),
        accept=lunar_lander_success,
        max_attempts=_MAX_ATTEMPTS,
        failure_hint=": the demonstrator keeps failing; lower `noise`",
    )
