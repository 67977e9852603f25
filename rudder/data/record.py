"""Recording episodes from a gymnasium environment and a policy."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rudder.data.episode import Episode

Policy = Callable[[Any, np.random.Generator], Any]


def _stack(values: list) -> Any:
    if isinstance(values[0], Mapping):
        return {key: np.stack([np.asarray(value[key]) for value in values]) for key in values[0]}
    return np.stack([np.asarray(value) for value in values])


def record_episode(
    env,
    policy: Policy | None = None,
    *,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    max_steps: int | None = None,
    info_keys: Sequence[str] = (),
) -> Episode:
    """Runs one episode and returns it as an :class:`Episode`.

    Args:
        env: a gymnasium environment (it is reset with ``seed``).
        policy: ``policy(observation, rng) -> action``; uniformly random actions if None.
        seed: seed for ``env.reset`` (and for the random policy when ``rng`` is None).
        rng: random generator handed to the policy.
        max_steps: stop (truncated) after this many steps even if the env does not.
        info_keys: keys of the step ``info`` dict to keep in ``Episode.infos``.

    Returns:
        the recorded episode.
    """
    if rng is None:
        rng = np.random.default_rng(seed)
    if policy is None:
        env.action_space.seed(int(rng.integers(2**31)))

        def policy(observation, generator):  # noqa: ARG001 - the signature is the protocol
            return env.action_space.sample()

    observation, _ = env.reset(seed=seed)
    observations, actions, rewards = [observation], [], []
    infos: dict[str, list] = {key: [] for key in info_keys}
    terminated = truncated = False
    while not (terminated or truncated):
        action = policy(observation, rng)
        observation, reward, terminated, truncated, info = env.step(action)
        observations.append(observation)
        actions.append(action)
        rewards.append(float(reward))
        for key in info_keys:
            if key not in info:
                raise KeyError(f"info key {key!r} is missing at step {len(rewards) - 1}")
            infos[key].append(info[key])
        if max_steps is not None and len(rewards) >= max_steps:
            truncated = truncated or not terminated
    if not rewards:
        raise RuntimeError("the environment ended before the first step")
    return Episode(
        observations=_stack(observations),
        actions=_stack(actions),
        rewards=np.asarray(rewards, dtype=np.float64),
        terminated=bool(terminated),
        truncated=bool(truncated),
        infos={key: _stack(values) for key, values in infos.items()},
    )


def record_episodes(
    env,
    policy: Policy | None = None,
    *,
    num_episodes: int,
    seed: int = 0,
    max_steps: int | None = None,
    info_keys: Sequence[str] = (),
) -> list[Episode]:
    """Records ``num_episodes`` episodes; episode i is reset with seed ``seed + i``.

    The same ``seed`` gives the same episodes for a deterministic env and policy.
    """
    if num_episodes < 1:
        raise ValueError(f"`num_episodes` must be >= 1, got {num_episodes}")
    rng = np.random.default_rng(seed)
    return [
        record_episode(
            env, policy, seed=seed + index, rng=rng, max_steps=max_steps, info_keys=info_keys
        )
        for index in range(num_episodes)
    ]
