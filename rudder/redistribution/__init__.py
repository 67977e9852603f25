"""Reward redistribution: Align-RUDDER's alignment redistributor, RUDDER's LSTM.

Both satisfy the :class:`Redistributor` protocol (:mod:`rudder.redistribution.base`), and
:func:`load_redistributor` reads either kind back. The LSTM redistributor needs torch and
is imported on first use (``rudder.redistribution.LSTMRedistributor`` or
``rudder.redistribution.lstm``).
"""

from typing import Any

from rudder.errors import DependencyNotInstalled
from rudder.redistribution.alignment import (
    AlignmentRedistributor,
    AlignmentSettings,
    OnlineRedistribution,
)
from rudder.redistribution.base import OnlineRedistributionState, Redistributor, ReturnBookkeeping
from rudder.redistribution.lessons import LessonsBuffer
from rudder.redistribution.serialization import MODEL_FORMAT_VERSION, load_redistributor

__all__ = [
    "MODEL_FORMAT_VERSION",
    "AlignmentRedistributor",
    "AlignmentSettings",
    "LSTMRedistributor",
    "LSTMSettings",
    "LessonsBuffer",
    "OnlineRedistribution",
    "OnlineRedistributionState",
    "Redistributor",
    "ReturnBookkeeping",
    "load_redistributor",
]

_LAZY = {
    "LSTMRedistributor": "rudder.redistribution.lstm",
    "LSTMSettings": "rudder.redistribution.lstm",
}


def __getattr__(name: str) -> Any:
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rudder.redistribution' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as error:
        raise DependencyNotInstalled(
            f"rudder.redistribution.{name} needs torch; install it with pip install torch==2.13.0"
        ) from error
