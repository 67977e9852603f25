"""Profile models of aligned demonstrations, and incremental prefix scoring."""

from rudder.profile.model import (
    BatchPrefixScorer,
    ConsensusColumn,
    PrefixScorer,
    ProfileModel,
    consensus_items,
    format_consensus,
)

__all__ = ["BatchPrefixScorer", "ConsensusColumn", "PrefixScorer", "ProfileModel", "consensus_items", "format_consensus"]
