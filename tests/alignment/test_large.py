"""Tests of the large-alignment path: k-mer guide trees and count-profile progressive alignment."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.alignment import (
    GuideTree,
    MultipleAlignment,
    ScoringScheme,
    align_sequences,
    distances_from_scores,
    event_frequencies,
    kmer_frequencies,
    kmer_guide_tree,
    msa,
    pairwise_scores,
    upgma,
)
from rudder.alignment.msa import refine_alignment
from rudder.experiments.tasks.core import synthetic_demonstrations


def scheme(sequences, num_events=15):
    return ScoringScheme.from_frequencies(event_frequencies(sequences, num_events))


def test_kmer_frequencies_by_hand():
    # N = 2, k = 2: (0, 1) -> bucket 1, (1, 0) -> bucket 2; a 1-event sequence counts 1-mers.
    frequencies = kmer_frequencies([np.array([0, 1, 0]), np.array([1]), np.zeros(0, dtype=np.int64)], 2)
    np.testing.assert_allclose(frequencies, [[0, 0.5, 0.5, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    with pytest.raises(ValueError, match="k"):
        kmer_frequencies([np.array([0])], 2, k=0)


@settings(max_examples=30, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 12), min_size=1, max_size=40),
    leaf_size=st.integers(2, 8),
    seed=st.integers(0, 1000),
)
def test_kmer_guide_tree_is_a_valid_deterministic_tree(lengths, leaf_size, seed):
    rng = np.random.default_rng(seed)
    sequences = [rng.integers(0, 4, size=length) for length in lengths]
    tree = kmer_guide_tree(sequences, 4, leaf_size=leaf_size)
    assert isinstance(tree, GuideTree) and tree.num_leaves == len(sequences)
    assert sorted(tree.leaf_order()) == list(range(len(sequences)))
    assert np.all(tree.branch_lengths >= 0)
    again = kmer_guide_tree(sequences, 4, leaf_size=leaf_size)
    np.testing.assert_array_equal(tree.merges, again.merges)


def tree_depth(tree: GuideTree) -> int:
    depth = np.zeros(2 * tree.num_leaves - 1, dtype=np.int64)
    for k, (left, right) in enumerate(tree.merges):
        depth[tree.num_leaves + k] = 1 + max(depth[left], depth[right])
    return int(depth[tree.root])


def test_kmer_guide_tree_stays_shallow_even_for_identical_sequences():
    # Bisection keeps both sides at least a tenth: depth O(log n) above the leaf groups.
    for sequences in ([np.array([1, 2, 3])] * 500, synthetic_demonstrations(500, 30, np.random.default_rng(0))):
        tree = kmer_guide_tree(sequences, 15, leaf_size=8)
        assert tree_depth(tree) <= 8 + 7 * int(np.ceil(np.log(500 / 8) / np.log(10 / 9)))
        assert tree_depth(tree) < 100


def test_kmer_path_equals_the_exact_path_on_the_same_tree():
    sequences = synthetic_demonstrations(40, 30, np.random.default_rng(2))
    sequences.append(np.zeros(0, dtype=np.int64))  # an empty sequence: a row of gaps
    scoring = scheme(sequences)
    tree = upgma(distances_from_scores(pairwise_scores(sequences, scoring)))
    exact = align_sequences(sequences, scoring, guide_tree=tree, method="exact", refine_passes=0)
    counts = align_sequences(sequences, scoring, guide_tree=tree, method="kmer")
    assert exact.method == "exact" and counts.method == "kmer"
    np.testing.assert_array_equal(exact.rows, counts.rows)


def test_auto_switches_to_the_kmer_path_above_the_threshold(monkeypatch):
    sequences = synthetic_demonstrations(12, 20, np.random.default_rng(3))
    scoring = scheme(sequences)
    small = align_sequences(sequences, scoring)
    assert small.method == "exact"
    monkeypatch.setattr(msa, "LARGE_ALIGNMENT", 10)
    large = align_sequences(sequences, scoring)
    assert large.method == "kmer"
    assert [list(row) for row in large.sequences()] == [list(s) for s in sequences]


def test_kmer_sum_of_pairs_is_within_two_percent_of_the_exact_progressive_alignment():
    sequences = synthetic_demonstrations(120, 60, np.random.default_rng(4))
    scoring = scheme(sequences)
    exact = align_sequences(sequences, scoring, method="exact", refine_passes=0)
    kmer = align_sequences(sequences, scoring, method="kmer")
    assert kmer.sum_of_pairs(scoring) >= 0.98 * exact.sum_of_pairs(scoring)


def test_time_bounded_refinement():
    sequences = synthetic_demonstrations(30, 30, np.random.default_rng(5))
    scoring = scheme(sequences)
    rows = align_sequences(sequences, scoring, method="kmer").rows
    np.testing.assert_array_equal(refine_alignment(rows, scoring, seconds=0.0), rows[:, np.any(rows >= 0, axis=0)])
    refined = align_sequences(sequences, scoring, method="kmer", refine_seconds=60.0)
    assert refined.method == "kmer"
    assert refined.sum_of_pairs(scoring) >= MultipleAlignment(rows).sum_of_pairs(scoring) - 1e-9
    with pytest.raises(ValueError, match="seconds"):
        refine_alignment(rows, scoring, seconds=-1.0)


def test_bad_method_and_record():
    sequences = [np.array([0, 1]), np.array([1])]
    with pytest.raises(ValueError, match="method"):
        align_sequences(sequences, scheme(sequences, 2), method="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        MultipleAlignment(rows=np.zeros((1, 1), dtype=np.int64), method="other")
    assert "method='exact'" in repr(MultipleAlignment(rows=np.zeros((1, 1), dtype=np.int64)))


def test_scaling_exponent_is_the_log_log_slope():
    from rudder.experiments.tasks.core import scaling_exponent

    runs = [{"measure": "scaling", "num_events": 100, "num_sequences": n, "kmer_seconds": 0.01 * n**1.2} for n in (100, 1000, 10_000)]
    runs.append({"measure": "alignment", "num_events": 100, "num_sequences": 5, "ours_seconds": 1.0})
    assert scaling_exponent(runs, 100) == pytest.approx(1.2)
    assert scaling_exponent(runs, 200) is None
