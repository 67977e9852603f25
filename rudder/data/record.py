"""Recording episodes from a gymnasium environment and a policy.

- :func:`record_episode` runs one episode and returns it as an :class:`Episode`.
- :func:`record_episodes` records several, optionally keeping only the episodes that an
  ``accept`` test passes and retrying the others (how the demonstrators record
  successful demonstrations).
- :func:`stack_steps` stacks per-step values (arrays or dicts of arrays) along a new
  first axis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rudder.data.episode import Episode

if TYPE_CHECKING:
    import gymnasium as gym

__all__ = ["Policy", "record_episode", "record_episodes", "stack_steps"]

Policy = Callable[[Any, np.random.Generator], Any]


def stack_steps(values: Sequence[Any]) -> Any:
    """Stacks per-step values along a new first axis.

    Args:
        values: T values of one shape, or T dicts with the same keys.

    Returns:
        One array of shape (T, ...), or a dict of such arrays (one per key of the first
        dict).
    """
    if isinstance(values[0], Mapping):
        return {key: np.stack([np.asarray(value[key]) for value in values]) for key in values[0]}
    return np.stack([np.asarray(value) for value in values])



def record_episode(
    env: gym.Env,
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
        observations=stack_steps(observations),
        actions=stack_steps(actions),
        rewards=np.asarray(rewards, dtype=np.float64),
        terminated=bool(terminated),
        truncated=bool(truncated),
        infos={key: stack_steps(values) for key, values in infos.items()},
    )


def record_episodes(
    env: gym.Env,
    policy: Policy | None = None,
    *,
    num_episodes: int,
    seed: int = 0,
    max_steps: int | None = None,
    info_keys: Sequence[str] = (),
    accept: Callable[[Episode], bool] | None = None,
    max_attempts: int = 1,
    seed_stride: int | None = None,
    failure_hint: str = "",
) -> list[Episode]:
    """Records ``num_episodes`` episodes, each retried until ``accept`` passes it.

    All attempts share one random generator, ``np.random.default_rng(seed)``, handed to
    the policy. Attempt ``a`` of episode ``i`` is reset with seed ``seed + seed_stride * i
    + a``, or, with ``seed_stride=None``, with ``seed`` plus the number of attempts made
    before it (consecutive seeds; without ``accept``, episode i gets ``seed + i``). The
    same ``seed`` gives the same episodes for a deterministic env and policy.

    Args:
        env: a gymnasium environment.
        policy: ``policy(observation, rng) -> action``; uniformly random actions if None.
        num_episodes: how many episodes to return.
        seed: the first reset seed and the seed of the policy's generator.
        max_steps: stop (truncated) after this many steps even if the env does not.
        info_keys: keys of the step ``info`` dict to keep in ``Episode.infos``.
        accept: ``accept(episode) -> bool``: whether to keep an attempt, for example
            ``lambda episode: episode.terminated``; None keeps every episode.
        max_attempts: tries per episode before giving up.
        seed_stride: the reset-seed distance between the first attempts of consecutive
            episodes (None: consecutive seeds, see above).
        failure_hint: appended to the error message, for example what to change.

    Returns:
        The ``num_episodes`` accepted episodes, in order.

    Raises:
        ValueError: if ``num_episodes`` or ``max_attempts`` is below 1.
        RuntimeError: if ``max_attempts`` attempts of one episode are all refused.
    """
    if num_episodes < 1:
        raise ValueError(f"`num_episodes` must be >= 1, got {num_episodes}")
    if max_attempts < 1:
        raise ValueError(f"`max_attempts` must be >= 1, got {max_attempts}")
    rng = np.random.default_rng(seed)
    episodes: list[Episode] = []
    attempts_made = 0
    for index in range(num_episodes):
        first_seed = seed + (attempts_made if seed_stride is None else seed_stride * index)
        for attempt in range(max_attempts):
            episode = record_episode(
                env, policy, seed=first_seed + attempt, rng=rng, max_steps=max_steps, info_keys=info_keys
            )
            attempts_made += 1
            if accept is None or accept(episode):
                episodes.append(episode)
                break
        else:
            raise RuntimeError(
                f"no accepted episode in {max_attempts} tries for episode {index} (reset seeds "
                f"{first_seed}..{first_seed + max_attempts - 1}){failure_hint}"
            )
    return episodes
