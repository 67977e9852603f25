"""Evaluating stable-baselines3 models: success rate, mean return, per-item success.

The counterpart of SB3's ``common/evaluation.py``: episodes are spread evenly over the
envs of a vectorised env (as ``evaluate_policy`` does), and the true returns come from
the ``Monitor`` below any reward wrapper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
from stable_baselines3.common.type_aliases import PolicyPredictor
from stable_baselines3.common.vec_env import VecEnv

__all__ = ["episode_succeeded", "evaluate_items", "evaluate_success"]

#: What a vectorised env gives the model: one array, or one per key of a ``Dict`` space.
Observations = np.ndarray | dict[str, np.ndarray]


def episode_succeeded(info: Mapping[str, Any]) -> bool:
    """Default success test: ``info["is_success"]`` if the env sets it, else a positive
    true return in the ``Monitor`` record ``info["episode"]``."""
    if "is_success" in info:
        return bool(info["is_success"])
    return float(info["episode"]["r"]) > 0.0


def evaluate_success(
    model: PolicyPredictor,
    env: VecEnv,
    *,
    num_episodes: int = 50,
    deterministic: bool = False,
    seed: int | None = None,
    success: Callable[[Mapping[str, Any]], bool] = episode_succeeded,
) -> dict[str, float]:
    """Runs ``num_episodes`` episodes and returns their success rate, mean return and length,
    and the env steps taken (``"env_steps"``: every env's steps, also those of episodes
    cut short when the others finish).

    Episodes are spread evenly over the envs, as SB3's ``evaluate_policy`` does, so that
    short episodes do not crowd out long ones. The envs need ``Monitor`` (true returns).

    Args:
        model: an SB3 model (anything with SB3's ``predict``).
        env: a vectorised evaluation env, built like the training env.
        num_episodes: episodes to run.
        deterministic: take the most likely action (minigrid policies often loop when
            greedy, so sampling is the default).
        seed: if given, ``env.seed(seed)`` before resetting (the same episodes each time).
        success: ``success(info)`` at the end of an episode.
    """
    if num_episodes < 1:
        raise ValueError(f"`num_episodes` must be >= 1, got {num_episodes}")
    num_envs = env.num_envs
    targets = np.array([(num_episodes + index) // num_envs for index in range(num_envs)])
    counts = np.zeros(num_envs, dtype=np.int64)
    successes, returns, lengths = [], [], []
    if seed is not None:
        env.seed(seed)
    observations = cast(Observations, env.reset())
    states = None
    starts = np.ones(num_envs, dtype=bool)
    env_steps = 0
    while np.any(counts < targets):
        actions, states = model.predict(observations, state=states, episode_start=starts, deterministic=deterministic)
        stepped, _, dones, infos = env.step(actions)
        env_steps += num_envs
        observations = cast(Observations, stepped)
        starts = dones
        for index, (done, info) in enumerate(zip(dones, infos)):
            if done and counts[index] < targets[index]:
                if "episode" not in info:
                    raise ValueError(
                        "evaluate_success needs Monitor on the evaluation envs "
                        "(make_vec_env adds it; put it below RedistributedReward)"
                    )
                counts[index] += 1
                successes.append(bool(success(info)))
                returns.append(float(info["episode"]["r"]))
                lengths.append(float(info["episode"]["l"]))
    return {
        "success_rate": float(np.mean(successes)),
        "mean_return": float(np.mean(returns)),
        "mean_length": float(np.mean(lengths)),
        "env_steps": float(env_steps),
    }


def evaluate_items(
    model: PolicyPredictor,
    env: VecEnv,
    *,
    item_names: Sequence[str],
    report: Sequence[str] | None = None,
    num_episodes: int = 100,
    seed: int | None = None,
    deterministic: bool = False,
) -> dict[str, float]:
    """Per-item success rates, as in the paper's MineRL table: the share of
    ``num_episodes`` episodes in which each item was obtained.

    Runs :func:`evaluate_success` and reads ``info["obtained"]`` at the end of every
    episode: a bool vector, shape (len(item_names),), whose entries say which items were
    obtained in the episode (the crafting world's ``info["obtained"]``).

    Args:
        model: anything with SB3's ``predict``.
        env: a vectorised env with ``Monitor``, built like the training env.
        item_names: the names of the entries of ``info["obtained"]``, in order.
        report: the items to report, in this order (default: all of ``item_names``).
        num_episodes: episodes, spread evenly over the envs.
        seed: ``env.seed(seed)`` first, so that every method plays the same episodes.
        deterministic: most likely actions instead of sampled ones.

    Returns:
        ``{item: share of episodes that obtained it}`` for the items of ``report``.

    Raises:
        ValueError: an item of ``report`` is not in ``item_names``, or
            ``info["obtained"]`` does not have one entry per item name.
    """
    names = [str(name) for name in item_names]
    index = {name: position for position, name in enumerate(names)}
    chosen = names if report is None else [str(name) for name in report]
    unknown = [name for name in chosen if name not in index]
    if unknown:
        raise ValueError(f"items {unknown} of `report` are not among `item_names` {names}")
    obtained: list[np.ndarray] = []

    def record(info: Mapping[str, Any]) -> bool:
        vector = np.asarray(info["obtained"], dtype=bool)
        if vector.shape != (len(names),):
            raise ValueError(
                f'info["obtained"] has shape {vector.shape}, expected ({len(names)},): one entry per item name'
            )
        obtained.append(vector)
        return episode_succeeded(info)

    evaluate_success(model, env, num_episodes=num_episodes, deterministic=deterministic, seed=seed, success=record)
    table = np.array(obtained)
    return {name: float(table[:, index[name]].mean()) for name in chosen}
