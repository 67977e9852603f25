"""PPO on redistributed reward: settings, construction, and pickle-free checkpoints.

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

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from rudder._directories import read_versioned_json, staged_directory
from rudder.errors import DataFormatError

CHECKPOINT_FORMAT = "align-rudder/ppo-checkpoint"
CHECKPOINT_VERSION = 1

_ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU}


@dataclasses.dataclass(frozen=True)
class PPOSettings:
    """PPO hyperparameters (SB3 names), JSON-serialisable so that checkpoints can rebuild
    the model. Defaults suit small grid tasks with 8 envs.

    Attributes:
        policy: "MlpPolicy" (Box observations), "MultiInputPolicy" (Dict) or
            "SubtaskPolicy" (one network per sub-task, :mod:`rudder.agents.subtasks`).
        learning_rate, n_steps, batch_size, n_epochs, gamma, gae_lambda, clip_range,
        ent_coef, vf_coef, max_grad_norm, target_kl: as in ``stable_baselines3.PPO``.
        net_arch: hidden layer sizes of the policy and value networks.
        activation: "tanh", "relu" or "elu".
        num_subtasks: number of sub-tasks of a "SubtaskPolicy".
    """

    policy: str = "MlpPolicy"
    learning_rate: float = 3e-4
    n_steps: int = 256
    batch_size: int = 256
    n_epochs: int = 4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    target_kl: float | None = None
    net_arch: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    num_subtasks: int = 0

    def __post_init__(self) -> None:
        if self.policy not in ("MlpPolicy", "MultiInputPolicy", "SubtaskPolicy"):
            raise ValueError(
                f"`policy` must be 'MlpPolicy', 'MultiInputPolicy' or 'SubtaskPolicy', got {self.policy!r}"
            )
        if self.policy == "SubtaskPolicy" and self.num_subtasks < 1:
            raise ValueError("a 'SubtaskPolicy' needs `num_subtasks` >= 1")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"`activation` must be one of {sorted(_ACTIVATIONS)}, got {self.activation!r}")
        object.__setattr__(self, "net_arch", tuple(int(size) for size in self.net_arch))

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["net_arch"] = list(self.net_arch)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PPOSettings:
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataFormatError(f"unknown PPO settings {unknown}; was the checkpoint written by a newer version?")
        return cls(**data)


def make_ppo(env: VecEnv, settings: PPOSettings | None = None, *, seed: int = 0, **kwargs: Any) -> PPO:
    """A ``stable_baselines3.PPO`` on ``env`` with ``settings`` (CPU; SB3 keyword
    arguments such as ``tensorboard_log`` or ``verbose`` pass through)."""
    settings = settings or PPOSettings()
    policy: Any = settings.policy
    policy_kwargs: dict[str, Any] = {"net_arch": list(settings.net_arch), "activation_fn": _ACTIVATIONS[settings.activation]}
    if settings.policy == "SubtaskPolicy":
        from rudder.agents.subtasks import SubtaskPolicy

        policy = SubtaskPolicy
        policy_kwargs["num_subtasks"] = settings.num_subtasks
    return PPO(
        policy,
        env,
        learning_rate=settings.learning_rate,
        n_steps=settings.n_steps,
        batch_size=settings.batch_size,
        n_epochs=settings.n_epochs,
        gamma=settings.gamma,
        gae_lambda=settings.gae_lambda,
        clip_range=settings.clip_range,
        ent_coef=settings.ent_coef,
        vf_coef=settings.vf_coef,
        max_grad_norm=settings.max_grad_norm,
        target_kl=settings.target_kl,
        policy_kwargs=policy_kwargs,
        seed=seed,
        device="cpu",
        **kwargs,
    )


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
    redistributor=None,
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
            np.savez(staging / "normalization.npz", **arrays)
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


def load_redistributor_from_checkpoint(path: str | os.PathLike, **encoder_overrides: Any):
    """The redistributor saved in a checkpoint (to build the env before :func:`load_checkpoint`),
    or None if it has none."""
    from rudder.redistribution import AlignmentRedistributor

    record = read_checkpoint_record(path)
    if not record["has_redistributor"]:
        return None
    return AlignmentRedistributor.load(Path(path) / "redistributor", **encoder_overrides)


def load_normalization(path: str | os.PathLike, env: VecEnv) -> VecNormalize | None:
    """Wraps ``env`` in a ``VecNormalize`` with the checkpoint's statistics (None if it has none)."""
    record = read_checkpoint_record(path)
    config = record.get("normalization")
    if config is None:
        return None
    with np.load(Path(path) / "normalization.npz", allow_pickle=False) as arrays:
        normalization = VecNormalize(env, **config)
        normalization.obs_rms.mean = arrays["obs_mean"].copy()
        normalization.obs_rms.var = arrays["obs_var"].copy()
        normalization.obs_rms.count = float(arrays["obs_count"])
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
