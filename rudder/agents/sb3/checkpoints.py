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
import io
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

from rudder._files import owned_directory, read_versioned_json, reading
from rudder.agents.sb3.ppo import make_ppo
from rudder.agents.sb3.settings import PPOSettings
from rudder.agents.subtasks import SubtaskController, SubtaskInterrupt
from rudder.data.io import read_npz
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
CHECKPOINT_FILE = "checkpoint.json"
_CHECKPOINT_ENTRIES = (CHECKPOINT_FILE, "policy.pt", "optimizer.pt", "redistributor", "normalization.npz")


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

    The directory is written only if it is missing, empty, or a checkpoint written by
    align-rudder, and then only the checkpoint's own entries are replaced, together and
    atomically for concurrent loads (see :mod:`rudder._files`); a failed save leaves any
    earlier checkpoint there untouched.

    Args:
        path: the directory.
        model: the PPO model.
        settings: the settings it was made with (:func:`make_ppo`).
        redistributor: the redistributor its env uses, saved alongside.
        normalization: a ``VecNormalize`` wrapper whose statistics to keep.
        seed: the run's seed.
        metadata: more JSON-able facts to keep (env id, method, ...).

    Raises:
        NotOwnedError: if ``path`` holds anything else (nothing is written then).
    """
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
    with owned_directory(path, kind=CHECKPOINT_FORMAT, owned=_CHECKPOINT_ENTRIES,
                         legacy=(CHECKPOINT_FILE, "policy.pt"), what="a checkpoint") as directory:
        directory.write("policy.pt", lambda file: torch.save(model.policy.state_dict(), file))
        directory.write("optimizer.pt", lambda file: torch.save(model.policy.optimizer.state_dict(), file))
        if redistributor is not None:
            directory.directory("redistributor", redistributor.save)
        if normalization is not None:
            arrays, config = _normalization_arrays(normalization)
            directory.write("normalization.npz", lambda file: np.savez(file, **arrays))  # type: ignore[arg-type]
            record["normalization"] = config
        directory.write_text(CHECKPOINT_FILE, json.dumps(record, indent=2))
    return Path(path)


#: The largest rollout (``n_steps``) and the most weights per layer (``net_arch``) that a
#: checkpoint may declare; larger values are refused before anything is allocated.
MAX_ROLLOUT_STEPS = 1 << 20
MAX_LAYER_SIZE = 1 << 14
MAX_LAYERS = 64


def read_checkpoint_record(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint's ``checkpoint.json``, checked for format and version, and its
    settings for types and the documented size limits (:data:`MAX_ROLLOUT_STEPS`,
    :data:`MAX_LAYER_SIZE`, :data:`MAX_LAYERS`).

    Raises:
        FileNotFoundError: if ``path`` is not a checkpoint directory.
        DataFormatError: if a field is missing, of the wrong type or out of range.
        FormatVersionError: if it was written by a newer format version.
    """
    file = Path(path) / CHECKPOINT_FILE
    if not file.is_file():
        raise FileNotFoundError(f"{path} is not a checkpoint directory (no {CHECKPOINT_FILE})")
    record = read_versioned_json(file, format=CHECKPOINT_FORMAT, version=CHECKPOINT_VERSION,
                                 what="an align-rudder PPO checkpoint")
    _check_record(file, record)
    return record


def _check_record(file: Path, record: dict[str, Any]) -> None:
    """Raises :class:`DataFormatError` unless ``record`` (of ``file``) has every field a
    checkpoint needs, of the right type, and sizes within the limits."""

    def refuse(field: str, problem: str) -> DataFormatError:
        return DataFormatError(f"{str(file)!r} is corrupt: `{field}` {problem}; write the checkpoint again")

    def integer(value: object, low: int, high: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    for name in ("num_timesteps", "seed"):
        if not integer(record.get(name), 0 if name == "num_timesteps" else -(2**63), 2**63 - 1):
            raise refuse(name, f"must be an integer, got {record.get(name)!r}")
    if not integer(record.get("n_updates", 0), 0, 2**63 - 1):
        raise refuse("n_updates", f"must be an integer >= 0, got {record.get('n_updates')!r}")
    if not isinstance(record.get("has_redistributor"), bool):
        raise refuse("has_redistributor", f"must be true or false, got {record.get('has_redistributor')!r}")
    if not isinstance(record.get("metadata", {}), dict):
        raise refuse("metadata", "must be an object")
    settings = record.get("settings")
    if not isinstance(settings, dict):
        raise refuse("settings", "must be an object")
    if not integer(settings.get("n_steps", 1), 1, MAX_ROLLOUT_STEPS):
        raise refuse("settings.n_steps", f"must be an integer in [1, {MAX_ROLLOUT_STEPS}], got {settings.get('n_steps')!r}")
    if not integer(settings.get("batch_size", 1), 1, MAX_ROLLOUT_STEPS):
        raise refuse("settings.batch_size", f"must be an integer in [1, {MAX_ROLLOUT_STEPS}]")
    layers = settings.get("net_arch", [64, 64])
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS \
            or not all(integer(size, 1, MAX_LAYER_SIZE) for size in layers):
        raise refuse("settings.net_arch", f"must be at most {MAX_LAYERS} layer sizes in [1, {MAX_LAYER_SIZE}], "
                     f"got {str(layers)[:80]}")
    for name, value in settings.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not -1e308 < value < 1e308:
            raise refuse(f"settings.{name}", f"must be finite, got {value!r}")
    normalization = record.get("normalization")
    if normalization is not None and not isinstance(normalization, dict):
        raise refuse("normalization", "must be an object")


def _is_number(value: object) -> bool:
    """Whether ``value`` is a finite JSON number (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and -1e308 < value < 1e308


def _settings(path: str | os.PathLike, record: dict[str, Any]) -> PPOSettings:
    """The :class:`PPOSettings` of a checked checkpoint record."""
    try:
        return PPOSettings.from_json(record["settings"])
    except DataFormatError:
        raise
    except (TypeError, ValueError) as error:
        raise DataFormatError(f"{str(path)!r} has invalid PPO settings: {error}; write the checkpoint again") from None


def _load_tensors(file: Path) -> Any:
    """``torch.load(file, weights_only=True)``, with every failure a :class:`DataFormatError`."""
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise DataFormatError(f"the checkpoint is incomplete: {str(file)!r} is missing") from None
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many kinds on corrupt files
        # Not torch's text: it suggests weights_only=False, which would run the file's code.
        raise DataFormatError(
            f"cannot read {str(file)!r}: it is not a tensor state dict written by align-rudder "
            f"({type(error).__name__}); write the checkpoint again"
        ) from None


def load_redistributor_from_checkpoint(path: str | os.PathLike, **encoder_overrides: Any) -> Redistributor | None:
    """The redistributor saved in a checkpoint, of either kind (to build the env before
    :func:`load_checkpoint`), or None if it has none.

    Args:
        path: the checkpoint directory.
        encoder_overrides: keyword arguments for an alignment model's saved event encoder
            (for example a ``function`` that JSON cannot keep).
    """
    with reading(path):
        record = read_checkpoint_record(path)
        if not record["has_redistributor"]:
            return None
        return load_redistributor(Path(path) / "redistributor", **encoder_overrides)


def load_normalization(path: str | os.PathLike, env: VecEnv) -> VecNormalize | None:
    """Wraps ``env`` in a ``VecNormalize`` with the checkpoint's statistics (None if it has none).

    Raises:
        DataFormatError: if ``normalization.npz`` is missing, corrupt, or does not fit ``env``.
    """
    file = Path(path) / "normalization.npz"
    with reading(path):
        record = read_checkpoint_record(path)
        config = record.get("normalization")
        if config is None:
            return None
        if not file.is_file():
            raise DataFormatError(f"the checkpoint is incomplete: {str(file)!r} is missing; write the checkpoint again")
        arrays = read_npz(file, fix="write the checkpoint again")
    size = int(np.prod(env.observation_space.shape or ()))
    for name in ("obs_mean", "obs_var", "obs_count", "ret_mean", "ret_var", "ret_count"):
        array = arrays.get(name)
        if array is None or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array) \
                or not np.all(np.isfinite(array)) or (name.endswith("count") and array.shape != ()):
            raise DataFormatError(f"{str(file)!r} is corrupt: `{name}` must be finite real numbers (a scalar for counts); "
                                  "write the checkpoint again")
    if arrays["obs_mean"].size != size or arrays["obs_var"].shape != arrays["obs_mean"].shape \
            or arrays["ret_mean"].shape != () or arrays["ret_var"].shape != ():
        raise DataFormatError(f"{str(file)!r} does not fit this env: `obs_mean` has {arrays['obs_mean'].size} entries, "
                              f"the observations {size}")
    flags, numbers = ("norm_obs", "norm_reward"), ("clip_obs", "clip_reward", "gamma", "epsilon")
    if set(config) - set(flags + numbers) or not all(isinstance(config.get(name, True), bool) for name in flags) \
            or not all(_is_number(config.get(name, 1.0)) for name in numbers):
        raise DataFormatError(
            f"{str(Path(path) / CHECKPOINT_FILE)!r} has an invalid `normalization`: it must hold the booleans "
            f"{list(flags)} and the finite numbers {list(numbers)}; write the checkpoint again"
        )
    try:
        normalization = VecNormalize(env, **config)
    except (TypeError, ValueError, AttributeError, AssertionError) as error:
        raise DataFormatError(f"{str(Path(path) / CHECKPOINT_FILE)!r} has an invalid `normalization`: {error}") from None
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

    Raises:
        DataFormatError: if a file is missing or corrupt, or declares sizes above the limits.
        DataFormatError: if the policy does not fit ``env`` (a ``ValueError``).
    """
    path = Path(path)
    with reading(path):
        record = read_checkpoint_record(path)
        policy_state = _load_tensors(path / "policy.pt")
        optimizer_state = _load_tensors(path / "optimizer.pt")
    settings = _settings(path, record)
    try:
        model = make_ppo(env, settings, seed=int(record["seed"]), **kwargs)
    except (ValueError, TypeError, OverflowError, AssertionError, RuntimeError) as error:
        # SB3 checks its settings with assertions; bad saved settings are a bad file.
        raise DataFormatError(
            f"{str(path / CHECKPOINT_FILE)!r} has PPO settings that cannot build a model "
            f"({type(error).__name__}: {str(error)[:200]}); write the checkpoint again"
        ) from None
    try:
        model.policy.load_state_dict(policy_state)
    except (RuntimeError, TypeError, AttributeError) as error:
        raise DataFormatError(
            f"the checkpoint's policy does not fit this env ({env.observation_space}): {str(error).splitlines()[0]}"
        ) from None
    try:
        model.policy.optimizer.load_state_dict(optimizer_state)
    except (RuntimeError, TypeError, ValueError, KeyError, AttributeError) as error:
        raise DataFormatError(f"{str(path / 'optimizer.pt')!r} does not fit the policy: {error}") from None
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
    # "interrupts" (a list, first first); checkpoints before it held one "interrupt" or None
    records = saved["interrupts"] if "interrupts" in saved else [saved.get("interrupt")]
    interrupts = []
    for record in records:
        if record is None:
            continue
        try:
            interrupts.append(SubtaskInterrupt(**record))
        except (TypeError, ValueError) as error:
            raise DataFormatError(f"{str(path)!r}: its sub-task interrupt {record!r} is not valid ({error})") from None
    controller = SubtaskController.from_redistributor(redistributor, items=saved["items"], interrupt=interrupts)
    return subtask_wrapper_from_metadata(saved, redistributor, controller), controller, bool(saved["subtask_returns"])


def subtask_wrapper_from_metadata(
    saved: dict[str, Any], redistributor: AlignmentRedistributor, controller: SubtaskController
) -> Callable[[gym.Env], gym.Env]:
    """:func:`~rudder.wrappers.subtask_wrapper` with the settings a checkpoint keeps in
    ``metadata["subtasks"]`` (keys ``progress``, ``goal_rewards``, ``change_key``,
    ``settle_terminated`` and ``env_reward_weight``, 0 where a checkpoint has none)."""
    goal_values = None if saved["goal_rewards"] is None else np.asarray(saved["goal_rewards"], dtype=np.float64)
    return functools.partial(
        subtask_wrapper,
        redistributor=redistributor,
        controller=controller,
        progress=saved["progress"],
        goal_rewards=goal_values,
        change_key=saved["change_key"],
        settle_terminated=saved["settle_terminated"],
        env_reward_weight=float(saved.get("env_reward_weight", 0.0)),
    )
