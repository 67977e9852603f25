"""Alignment of event sequences: scoring, pairwise and multiple sequence alignment.

Sequences are 1-D int64 arrays of event ids in ``[0, N)``; aligned rows use ``-1``
for gaps. :func:`align_sequences` is the built-in progressive aligner; the
``clustalw_*`` functions are an optional cross-check backend using the ClustalW
binary, and :func:`clustalo_align` runs the Clustal Omega binary for comparisons.
"""

from __future__ import annotations

from rudder.alignment.clustalo import clustalo_align, clustalo_available
from rudder.alignment.clustalw import clustalw_align, clustalw_available, clustalw_profile_align
from rudder.alignment.guide_tree import (
    GuideTree,
    distances_from_scores,
    kmer_frequencies,
    kmer_guide_tree,
    neighbor_joining,
    upgma,
)
from rudder.alignment.msa import (
    LARGE_ALIGNMENT,
    MultipleAlignment,
    align_profiles,
    align_sequences,
    align_to_profile,
)
from rudder.alignment.pairwise import pairwise_align, pairwise_scores
from rudder.alignment.scoring import GAP, ScoringScheme, event_frequencies, sum_of_pairs_score

__all__ = [
    "GAP",
    "LARGE_ALIGNMENT",
    "GuideTree",
    "MultipleAlignment",
    "ScoringScheme",
    "align_profiles",
    "align_sequences",
    "align_to_profile",
    "clustalo_align",
    "clustalo_available",
    "clustalw_align",
    "clustalw_available",
    "clustalw_profile_align",
    "distances_from_scores",
    "event_frequencies",
    "kmer_frequencies",
    "kmer_guide_tree",
    "neighbor_joining",
    "pairwise_align",
    "pairwise_scores",
    "sum_of_pairs_score",
    "upgma",
]
