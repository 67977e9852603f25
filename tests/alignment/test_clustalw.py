"""Tests of the optional ClustalW backend (skipped when ``clustalw`` is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

from rudder.alignment import (
    MultipleAlignment,
    ScoringScheme,
    align_sequences,
    clustalw_align,
    clustalw_available,
    clustalw_profile_align,
    event_frequencies,
)
from rudder.alignment import clustalw as clustalw_module
from rudder.errors import AlignmentError, DependencyNotInstalled

needs_clustalw = pytest.mark.skipif(not clustalw_available(), reason="clustalw is not on the PATH")


def skewed_sequences(count: int, length: int, seed: int, num_events: int = 15):
    rng = np.random.default_rng(seed)
    probabilities = np.arange(1, num_events + 1, dtype=float) ** -1.5
    probabilities /= probabilities.sum()
    template = rng.choice(num_events, length, p=probabilities)
    sequences = []
    for _ in range(count):
        sequence = template.copy()
        mutate = rng.random(length) < 0.3
        sequence[mutate] = rng.choice(num_events, mutate.sum(), p=probabilities)
        sequences.append(sequence[rng.random(length) > 0.1])
    scheme = ScoringScheme.from_frequencies(event_frequencies(sequences, num_events))
    return sequences, scheme


def test_missing_executable_raises_dependency_error():
    scheme = ScoringScheme(matrix=np.eye(2))
    assert not clustalw_available("no-such-clustalw-binary")
    with pytest.raises(DependencyNotInstalled, match="apt-get install clustalw"):
        clustalw_align(
            [np.array([0, 1]), np.array([1])], scheme, executable="no-such-clustalw-binary"
        )


def test_rejects_large_alphabets_and_gap_scores():
    with pytest.raises(ValueError, match="at most 20 events"):
        clustalw_align([np.array([0])], ScoringScheme(matrix=np.eye(21)))
    with pytest.raises(ValueError, match="gap_score"):
        clustalw_align([np.array([0])], ScoringScheme(matrix=np.eye(2), gap_score=1.0))
    with pytest.raises(ValueError, match="gap_score=0"):
        clustalw_align([np.array([0])], ScoringScheme(matrix=np.eye(2), gap_score=-0.5))


def test_matrix_file_uses_scaled_integers(tmp_path):
    scheme = ScoringScheme(matrix=np.array([[3.14, -1.0], [-1.0, 250.0]]))
    clustalw_module._write_matrix(tmp_path / "m", scheme, clustalw_module._scale(scheme, None))
    lines = (tmp_path / "m").read_text().splitlines()
    assert lines[0].split() == list(clustalw_module.CLUSTALW_LETTERS) + ["*"]
    assert len(lines) == 22 and "." not in "".join(lines)
    assert lines[1].split()[:3] == ["G", "13", "-4"]  # scale 1000 / 250 = 4
    assert lines[2].split()[:3] == ["A", "-4", "1000"]
    tiny_mismatch = ScoringScheme(matrix=np.array([[1e4, -1.0], [-1.0, 10.0]]))
    clustalw_module._write_matrix(tmp_path / "m", tiny_mismatch, 0.1)
    assert (tmp_path / "m").read_text().splitlines()[1].split()[:3] == ["G", "1000", "-1"]


@needs_clustalw
def test_clustalw_alignment_keeps_sequences_and_order():
    sequences, scheme = skewed_sequences(8, 30, seed=0)
    sequences.insert(3, np.zeros(0, dtype=np.int64))
    alignment = clustalw_align(sequences, scheme)
    assert alignment.num_sequences == len(sequences)
    for row, sequence in zip(alignment.sequences(), sequences, strict=True):
        np.testing.assert_array_equal(row, sequence)
    np.testing.assert_array_equal(alignment.rows[3], -1)


@needs_clustalw
def test_clustalw_small_case_and_our_sum_of_pairs_is_competitive():
    matrix = np.full((3, 3), -1.0)
    np.fill_diagonal(matrix, [2.0, 3.0, 4.0])
    scheme = ScoringScheme(matrix=matrix)
    sequences = [np.array([0, 1, 2]), np.array([0, 2]), np.array([1, 2])]
    np.testing.assert_array_equal(
        clustalw_align(sequences, scheme).rows, [[0, 1, 2], [0, -1, 2], [-1, 1, 2]]
    )
    sequences, scheme = skewed_sequences(10, 40, seed=1)
    ours = align_sequences(sequences, scheme).sum_of_pairs(scheme)
    theirs = clustalw_align(sequences, scheme).sum_of_pairs(scheme)
    assert ours >= 0.95 * theirs


@needs_clustalw
def test_clustalw_profile_alignment():
    sequences, scheme = skewed_sequences(6, 25, seed=2)
    alignment = align_sequences(sequences[:-1], scheme)
    extended = clustalw_profile_align(alignment, sequences[-1], scheme)
    assert extended.num_sequences == 6
    for row, sequence in zip(extended.sequences(), sequences, strict=True):
        np.testing.assert_array_equal(row, sequence)
    kept = extended.rows[:-1][:, np.any(extended.rows[:-1] >= 0, axis=0)]
    np.testing.assert_array_equal(kept, alignment.rows)
    empty = clustalw_profile_align(alignment, np.zeros(0, dtype=np.int64), scheme)
    np.testing.assert_array_equal(empty.rows[-1], -1)


@needs_clustalw
def test_clustalw_errors():
    scheme = ScoringScheme(matrix=np.eye(3))
    with pytest.raises(AlignmentError, match="no sequences"):
        clustalw_align([], scheme)
    with pytest.raises(AlignmentError, match="empty"):
        clustalw_align([np.zeros(0, dtype=np.int64)] * 2, scheme)
    single = clustalw_align([np.array([2, 1]), np.zeros(0, dtype=np.int64)], scheme)
    np.testing.assert_array_equal(single.rows, [[2, 1], [-1, -1]])
    with pytest.raises(AlignmentError, match="empty"):
        clustalw_profile_align(
            MultipleAlignment(rows=np.full((2, 0), -1)), np.zeros(0, dtype=np.int64), scheme
        )
