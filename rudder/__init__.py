"""align-rudder: reward redistribution for delayed-reward reinforcement learning.

The pipeline, one subpackage per stage: ``data`` (episodes) -> ``events`` (event
encoders) -> ``alignment`` (multiple alignment) -> ``profile`` (PSSM, prefix scoring)
-> ``redistribution`` (Align-RUDDER) -> ``wrappers`` (gymnasium).
"""

from importlib import metadata as _metadata

from rudder.alignment import MultipleAlignment, ScoringScheme, align_sequences
from rudder.data import Episode, load_episodes, record_episode, record_episodes, save_episodes
from rudder.errors import (
    AlignmentError,
    DataFormatError,
    DependencyNotInstalled,
    FormatVersionError,
    NotFittedError,
    RudderError,
)
from rudder.events import (
    CallableEventEncoder,
    EventAlphabet,
    EventEncoder,
    EventSequence,
    FeatureClusterEncoder,
    InventoryEncoder,
    StateClusterEncoder,
)
from rudder.profile import PrefixScorer, ProfileModel
from rudder.redistribution import AlignmentRedistributor, load_redistributor
from rudder.wrappers import DelayedReward, RedistributedReward

try:  # the version is written once, in pyproject.toml
    __version__ = _metadata.version("align-rudder")
except _metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "AlignmentError",
    "AlignmentRedistributor",
    "CallableEventEncoder",
    "DataFormatError",
    "DelayedReward",
    "DependencyNotInstalled",
    "Episode",
    "EventAlphabet",
    "EventEncoder",
    "EventSequence",
    "FeatureClusterEncoder",
    "FormatVersionError",
    "InventoryEncoder",
    "MultipleAlignment",
    "NotFittedError",
    "PrefixScorer",
    "ProfileModel",
    "RedistributedReward",
    "RudderError",
    "ScoringScheme",
    "StateClusterEncoder",
    "__version__",
    "align_sequences",
    "load_episodes",
    "load_redistributor",
    "record_episode",
    "record_episodes",
    "save_episodes",
]
