"""Where a training run's numbers go: TensorBoard, Weights & Biases, MLflow.

Every key that stable-baselines3's logger records (``rollout/ep_rew_mean``, ``train/*``,
and this library's ``rudder/*`` and ``eval/*``) goes to every destination asked for, through
SB3's own :class:`~stable_baselines3.common.logger.Logger`: TensorBoard with SB3's writer,
wandb and MLflow with the writers here. Neither wandb nor mlflow is a dependency: they are
imported when asked for, and a missing one is a
:class:`~rudder.errors.DependencyNotInstalled` that names the pip command. The training
scripts take ``--log-to tensorboard wandb mlflow``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from stable_baselines3.common.logger import KVWriter, Logger, make_output_format

from rudder.errors import DependencyNotInstalled

__all__ = ["LOG_DESTINATIONS", "MLflowWriter", "WandbWriter", "make_logger"]

#: The destinations of :func:`make_logger`.
LOG_DESTINATIONS: tuple[str, ...] = ("stdout", "csv", "tensorboard", "wandb", "mlflow")


def _numbers(key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], writer: str) -> dict[str, float]:
    """The entries that are numbers and not excluded for ``writer`` (SB3's exclusion rule)."""
    kept = {}
    for key, value in key_values.items():
        excluded = key_excluded.get(key) or ()
        if writer in excluded or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        kept[key] = float(value)
    return kept


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise DependencyNotInstalled(f"--log-to {name} needs {name} ({error}); install it with pip install {name}") from error


class WandbWriter(KVWriter):
    """An SB3 ``KVWriter`` that logs every number to the active wandb run (``wandb.log``).

    Args:
        module: the ``wandb`` module (imported by :func:`make_logger`).
    """

    def __init__(self, module: Any) -> None:
        self.wandb = module

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0) -> None:
        numbers = _numbers(key_values, key_excluded, "wandb")
        if numbers:
            self.wandb.log(numbers, step=int(step))

    def close(self) -> None:
        self.wandb.finish()


class MLflowWriter(KVWriter):
    """An SB3 ``KVWriter`` that logs every number to the active MLflow run
    (``mlflow.log_metrics``; MLflow's metric names take no ``:``, which becomes ``_``).

    Args:
        module: the ``mlflow`` module (imported by :func:`make_logger`).
    """

    def __init__(self, module: Any) -> None:
        self.mlflow = module

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0) -> None:
        numbers = {key.replace(":", "_"): value for key, value in _numbers(key_values, key_excluded, "mlflow").items()}
        if numbers:
            self.mlflow.log_metrics(numbers, step=int(step))

    def close(self) -> None:
        self.mlflow.end_run()


def make_logger(
    destinations: Sequence[str],
    *,
    folder: str | None = None,
    run_name: str | None = None,
    config: dict[str, Any] | None = None,
) -> Logger:
    """An SB3 ``Logger`` that writes to every destination in ``destinations``.

    Args:
        destinations: names from :data:`LOG_DESTINATIONS`.
        folder: the directory of the file writers (tensorboard, csv); needed for them.
        run_name: the wandb / MLflow run name.
        config: the run's settings, recorded as wandb config / MLflow parameters.

    Raises:
        ValueError: for an unknown destination, or a file writer without ``folder``.
        DependencyNotInstalled: for wandb or mlflow when they are not installed.
    """
    unknown = sorted(set(destinations) - set(LOG_DESTINATIONS))
    if unknown:
        raise ValueError(f"unknown log destinations {unknown}; choose from {', '.join(LOG_DESTINATIONS)}")
    if folder is None and any(name in ("tensorboard", "csv") for name in destinations):
        raise ValueError("tensorboard and csv logging need a log directory (--tensorboard DIR)")
    writers: list[KVWriter] = []
    for name in dict.fromkeys(destinations):
        if name == "wandb":
            wandb = _import("wandb")
            if wandb.run is None:
                wandb.init(name=run_name, config=config or {})
            writers.append(WandbWriter(wandb))
        elif name == "mlflow":
            mlflow = _import("mlflow")
            if mlflow.active_run() is None:
                mlflow.start_run(run_name=run_name)
                if config:
                    mlflow.log_params({key: str(value)[:250] for key, value in config.items()})
            writers.append(MLflowWriter(mlflow))
        else:
            writers.append(make_output_format(name, folder or "."))
    return Logger(folder=folder, output_formats=writers)
