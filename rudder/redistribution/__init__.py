"""Reward redistribution: Align-RUDDER's alignment redistributor, RUDDER's LSTM.

The LSTM redistributor needs torch and is imported on first use
(``rudder.redistribution.LSTMRedistributor`` or ``rudder.redistribution.lstm``).
"""

from rudder.redistribution.alignment import (
    AlignmentRedistributor,
    AlignmentSettings,
    OnlineRedistribution,
)
from rudder.redistribution.lessons import LessonsBuffer
from rudder.redistribution.serialization import MODEL_FORMAT_VERSION, load_redistributor

_LAZY = {
    "LSTMRedistributor": "rudder.redistribution.lstm",
    "LSTMSettings": "rudder.redistribution.lstm",
}


def __getattr__(name: str):
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rudder.redistribution' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as error:
        raise ImportError(
            f"rudder.redistribution.{name} needs torch; install it with pip install torch==2.13.0"
        ) from error


__all__ = [
    "MODEL_FORMAT_VERSION",
    "AlignmentRedistributor",
    "AlignmentSettings",
    "LSTMRedistributor",
    "LSTMSettings",
    "LessonsBuffer",
    "OnlineRedistribution",
    "load_redistributor",
]
