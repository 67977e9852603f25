"""Reward redistribution: Align-RUDDER's alignment redistributor."""

from rudder.redistribution.alignment import (
    AlignmentRedistributor,
    AlignmentSettings,
    OnlineRedistribution,
)
from rudder.redistribution.serialization import MODEL_FORMAT_VERSION, load_redistributor

__all__ = [
    "MODEL_FORMAT_VERSION",
    "AlignmentRedistributor",
    "AlignmentSettings",
    "OnlineRedistribution",
    "load_redistributor",
]
