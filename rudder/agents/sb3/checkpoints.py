"""Pickle-free checkpoints of PPO models, with their redistributor and normalisation.

A checkpoint is a directory:

    checkpoint.json     format version, PPO settings, env steps so far, seed
    policy.pt           the policy's state dict (torch.save of tensors only)
    optimizer.pt        the optimizer's state dict
    redistributor/      the redistributor (model.json + arrays.npz), if any
    normalization.npz   VecNormalize running statistics, if any

Everything is read back without unpickling arbitrary objects (``torch.load(...,
weights_only=True)``, ``np.load(..., allow_pickle=False)``, JSON), unlike SB3's own
``.zip`` files, which embed cloudpickled objects.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from rudder._directories import read_versioned_json, staged_directory
from rudder.agents.sb3.ppo import make_ppo
from rudder.agents.sb3.settings import PPOSettings
from rudder.agents.subtasks import SubtaskController
from rudder.errors import DataFormatError
from rudder.redistribution.alignment import AlignmentRedistributor
from rudder.redistribution.base import Redistributor
from rudder.redistribution.serialization import load_redistributor
from rudder.wrappers.compose import subtask_wrapper

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "load_checkpoint",
    "load_normalization",
    "load_redistributor_from_checkpoint",
    "read_checkpoint_record",
    "save_checkpoint",
    "subtask_wrapper_from_checkpoint",
    "subtask_wrapper_from_metadata",
]

CHECKPOINT_FORMAT = "align-rudder/ppo-checkpoint"
CHECKPOINT_VERSION = 1


def _normalization_arrays(normalization: VecNormalize) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    if isinstance(normalization.obs_rms, dict):
        raise ValueError("checkpoints support VecNormalize on Box observations only")
    arrays = {
        "obs_mean": normalization.obs_rms.mean,
        "obs_var": normalization.obs_rms.var,
        "obs_count": np.array(normalization.obs_rms.count),
        "ret_mean": normalization.ret_rms.mean,
        "ret_var": normalization.ret_rms.var,
        "ret_count": np.array(normalization.ret_rms.count),
    }
    config = {
        "norm_obs": normalization.norm_obs,
        "norm_reward": normalization.norm_reward,
        "clip_obs": normalization.clip_obs,
        "clip_reward": normalization.clip_reward,
        "gamma": normalization.gamma,
        "epsilon": normalization.epsilon,
    }
    return arrays, config


def save_checkpoint(
    path: str | os.PathLike,
    model: PPO,
    settings: PPOSettings,
    *,
    redistributor: Redistributor | None = None,
    normalization: VecNormalize | None = None,
    seed: int = 0,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Writes a checkpoint directory (see the module docstring); returns its path.

    The directory is written next to ``path`` and moved into place at the end, so a
    failed save leaves any earlier checkpoint there untouched. An existing directory is
    replaced only if it is a checkpoint.

    Args:
        path: the directory.
        model: the PPO model.
        settings: the settings it was made with (:func:`make_ppo`).
        redistributor: the redistributor its env uses, saved alongside.
        normalization: a ``VecNormalize`` wrapper whose statistics to keep.
        seed: the run's seed.
        metadata: more JSON-able facts to keep (env id, method, ...).
    """
    path = Path(path)
    if path.exists() and not (path / "checkpoint.json").is_file():
        raise FileExistsError(f"{path} exists and is not a checkpoint; choose another path")
    with staged_directory(path) as staging:
        torch.save(model.policy.state_dict(), staging / "policy.pt")
        torch.save(model.policy.optimizer.state_dict(), staging / "optimizer.pt")
        record: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            "format_version": CHECKPOINT_VERSION,
            "algorithm": "PPO",
            "settings": settings.to_json(),
            "num_timesteps": int(model.num_timesteps),
            "n_updates": int(getattr(model, "_n_updates", 0)),
            "seed": int(seed),
            "has_redistributor": redistributor is not None,
            "metadata": metadata or {},
        }
        if redistributor is not None:
            redistributor.save(staging / "redistributor")
        if normalization is not None:
            arrays, config = _normalization_arrays(normalization)
            np.savez(staging / "normalization.npz", **arrays)  # type: ignore[arg-type]
            record["normalization"] = config
        (staging / "checkpoint.json").write_text(json.dumps(record, indent=2))
    return path


def read_checkpoint_record(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint's ``checkpoint.json``, checked for format and version."""
    if not (Path(path) / "checkpoint.json").is_file():
        raise FileNotFoundError(f"{path} is not a checkpoint directory (no checkpoint.json)")
    return read_versioned_json(
        Path(path) / "checkpoint.json", format=CHECKPOINT_FORMAT, version=CHECKPOINT_VERSION,
        what="an align-rudder PPO checkpoint",
    )


def load_redistributor_from_checkpoint(path: str | os.PathLike, **encoder_overrides: Any) -> Redistributor | None:
    """The redistributor saved in a checkpoint, of either kind (to build the env before
    :func:`load_checkpoint`), or None if it has none.

    Args:
        path: the checkpoint directory.
        encoder_overrides: keyword arguments for an alignment model's saved event encoder
            (for example a ``function`` that JSON cannot keep).
    """
    record = read_checkpoint_record(path)
    if not record["has_redistributor"]:
        return None
    return load_redistributor(Path(path) / "redistributor", **encoder_overrides)


def load_normalization(path: str | os.PathLike, env: VecEnv) -> VecNormalize | None:
    """Wraps ``env`` in a ``VecNormalize`` with the checkpoint's statistics (None if it has none)."""
    record = read_checkpoint_record(path)
    config = record.get("normalization")
    if config is None:
        return None
    with np.load(Path(path) / "normalization.npz", allow_pickle=False) as arrays:
        normalization = VecNormalize(env, **config)
        observation_statistics = cast(RunningMeanStd, normalization.obs_rms)  # Box only, see saving
        observation_statistics.mean = arrays["obs_mean"].copy()
        observation_statistics.var = arrays["obs_var"].copy()
        observation_statistics.count = float(arrays["obs_count"])
        normalization.ret_rms.mean = arrays["ret_mean"].copy()
        normalization.ret_rms.var = arrays["ret_var"].copy()
        normalization.ret_rms.count = float(arrays["ret_count"])
    return normalization


def load_checkpoint(path: str | os.PathLike, env: VecEnv, **kwargs: Any) -> tuple[PPO, PPOSettings, dict[str, Any]]:
    """Rebuilds the PPO model of a checkpoint on ``env``, ready to ``learn(...,
    reset_num_timesteps=False)``.

    Build ``env`` with the checkpoint's redistributor
    (:func:`load_redistributor_from_checkpoint`) and normalisation
    (:func:`load_normalization`) first.

    Returns:
        the model, its settings, and the checkpoint record (``metadata`` included).
    """
    path = Path(path)
    record = read_checkpoint_record(path)
    settings = PPOSettings.from_json(record["settings"])
    model = make_ppo(env, settings, seed=int(record["seed"]), **kwargs)
    policy_state = torch.load(path / "policy.pt", map_location="cpu", weights_only=True)
    try:
        model.policy.load_state_dict(policy_state)
    except RuntimeError as error:
        raise ValueError(
            f"the checkpoint's policy does not fit this env ({env.observation_space}): {error}"
        ) from None
    model.policy.optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location="cpu", weights_only=True))
    model.num_timesteps = int(record["num_timesteps"])
    model._n_updates = int(record.get("n_updates", 0))
    return model, settings, record


def subtask_wrapper_from_checkpoint(
    path: str | os.PathLike, redistributor: Redistributor | None
) -> tuple[Callable[[gym.Env], gym.Env], SubtaskController, bool] | None:
    """What a checkpoint of sub-task agents needs to be trained on again.

    Args:
        path: a checkpoint directory written by :func:`~rudder.agents.sb3.train_sb3` with
            ``subtask_agents``.
        redistributor: its redistributor (:func:`load_redistributor_from_checkpoint`).

    Returns:
        ``(wrapper, controller, subtask_returns)``: the env wrapper
        (:func:`~rudder.wrappers.subtask_wrapper` with the saved sub-goal payments), the
        controller, and whether each agent's return ends with its sub-task (add
        :class:`~rudder.agents.sb3.callbacks.SubtaskBoundaries` when training); None when
        the checkpoint holds no sub-task agents.
    """
    saved = read_checkpoint_record(path).get("metadata", {}).get("subtasks")
    if saved is None:
        return None
    if not isinstance(redistributor, AlignmentRedistributor):
        raise DataFormatError(
            f"{str(path)!r} holds sub-task agents but no alignment redistributor; the checkpoint is incomplete"
        )
    controller = SubtaskController.from_redistributor(redistributor, items=saved["items"])
    return subtask_wrapper_from_metadata(saved, redistributor, controller), controller, bool(saved["subtask_returns"])


def subtask_wrapper_from_metadata(
    saved: dict[str, Any], redistributor: AlignmentRedistributor, controller: SubtaskController
) -> Callable[[gym.Env], gym.Env]:
    """:func:`~rudder.wrappers.subtask_wrapper` with the settings a checkpoint keeps in
    ``metadata["subtasks"]`` (keys ``progress``, ``goal_rewards``, ``change_key``,
    ``settle_terminated``)."""
    goal_values = None if saved["goal_rewards"] is None else np.asarray(saved["goal_rewards"], dtype=np.float64)
    return functools.partial(
        subtask_wrapper,
        redistributor=redistributor,
        controller=controller,
        progress=saved["progress"],
        goal_rewards=goal_values,
        change_key=saved["change_key"],
        settle_terminated=saved["settle_terminated"],
    )
