"""Tests of the optional Clustal Omega backend (skipped when ``clustalo`` is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

from rudder.alignment import clustalo_align, clustalo_available
from rudder.errors import AlignmentError, DependencyNotInstalled

needs_clustalo = pytest.mark.skipif(not clustalo_available(), reason="clustalo is not on the PATH")


def test_missing_executable_raises_dependency_error():
    assert not clustalo_available("no-such-clustalo-binary")
    with pytest.raises(DependencyNotInstalled, match="apt-get install clustalo"):
        clustalo_align([np.array([0, 1]), np.array([1, 0])], num_events=2, executable="no-such-clustalo-binary")


def test_bad_arguments():
    with pytest.raises(ValueError, match="at most 20 events"):
        clustalo_align([np.array([0, 1])], num_events=21)
    with pytest.raises(ValueError, match="threads"):
        clustalo_align([np.array([0, 1])], num_events=2, threads=0)
    with pytest.raises(ValueError):
        clustalo_align([np.array([0, 5])], num_events=2)
    with pytest.raises(AlignmentError, match="no sequences"):
        clustalo_align([], num_events=2)
    with pytest.raises(AlignmentError, match="empty"):
        clustalo_align([np.zeros(0, dtype=np.int64)], num_events=2)


@needs_clustalo
def test_rows_hold_the_inputs_in_order_and_empty_sequences_are_gaps():
    rng = np.random.default_rng(4)
    template = rng.integers(0, 15, 40)
    sequences = [template[rng.random(40) > 0.15] for _ in range(6)]
    sequences.insert(2, np.zeros(0, dtype=np.int64))
    alignment = clustalo_align(sequences, num_events=15)
    assert alignment.num_sequences == 7
    assert np.all(alignment.rows[2] == -1)
    for row, sequence in zip(alignment.sequences(), sequences, strict=True):
        np.testing.assert_array_equal(row, sequence)
    # Shared events line up: most columns hold one event.
    columns = alignment.rows[:, np.any(alignment.rows >= 0, axis=0)]
    distinct = [len(set(column[column >= 0].tolist())) for column in columns.T]
    assert np.mean(np.array(distinct) == 1) > 0.5


@needs_clustalo
def test_a_single_sequence_is_returned_as_it_is():
    alignment = clustalo_align([np.array([3, 1, 2]), np.zeros(0, dtype=np.int64)], num_events=4)
    np.testing.assert_array_equal(alignment.rows, [[3, 1, 2], [-1, -1, -1]])
