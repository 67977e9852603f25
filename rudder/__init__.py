"""align-rudder: reward redistribution for delayed-reward reinforcement learning.

The pipeline, one subpackage per stage: ``data`` (episodes) -> ``events`` (event
encoders) -> ``alignment`` (multiple alignment) -> ``profile`` (PSSM, prefix scoring)
-> ``redistribution`` (Align-RUDDER) -> ``wrappers`` (gymnasium).
"""

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

__version__ = "0.1.0"

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
