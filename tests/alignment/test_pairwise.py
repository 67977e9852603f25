"""Tests of pairwise global alignment against a plain Python DP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.alignment import ScoringScheme, pairwise_align, pairwise_scores, sum_of_pairs_score


def python_global_score(a, b, scheme: ScoringScheme) -> float:
    """Needleman-Wunsch with linear gaps, O(nm) in plain Python (the oracle)."""
    gap = scheme.gap_score
    previous = [j * gap for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        current = [i * gap] + [0.0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = max(
                previous[j - 1] + scheme.matrix[a[i - 1], b[j - 1]],
                previous[j] + gap,
                current[j - 1] + gap,
            )
        previous = current
    return previous[-1]


def random_scheme(seed: int, num_events: int, gap: float) -> ScoringScheme:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(num_events, num_events)).round(2)
    return ScoringScheme(matrix=matrix + matrix.T, gap_score=gap)


sequences = st.lists(st.integers(0, 4), min_size=0, max_size=12).map(
    lambda values: np.array(values, dtype=np.int64)
)


@settings(max_examples=60, deadline=None)
@given(
    a=sequences,
    b=sequences,
    seed=st.integers(0, 1000),
    gap=st.sampled_from([0.0, -0.3, -1.5]),
)
def test_scores_and_alignment_match_python_dp(a, b, seed, gap):
    scheme = random_scheme(seed, 5, gap)
    expected = python_global_score(a, b, scheme)
    scores = pairwise_scores([a, b], scheme)
    assert scores[0, 1] == pytest.approx(expected, abs=1e-9)
    assert scores[1, 0] == scores[0, 1]
    assert scores[0, 0] == pytest.approx(python_global_score(a, a, scheme), abs=1e-9)
    score, rows = pairwise_align(a, b, scheme)
    assert score == pytest.approx(expected, abs=1e-9)
    assert rows.shape[0] == 2 and rows.dtype == np.int64
    np.testing.assert_array_equal(rows[0][rows[0] >= 0], a)
    np.testing.assert_array_equal(rows[1][rows[1] >= 0], b)
    assert not np.any((rows[0] < 0) & (rows[1] < 0))
    assert sum_of_pairs_score(rows, scheme) == pytest.approx(expected, abs=1e-9)


def test_known_small_case():
    # a=0, b=1, c=2; matches 2/3/4, mismatch -1, gap -1.
    matrix = np.full((3, 3), -1.0)
    np.fill_diagonal(matrix, [2.0, 3.0, 4.0])
    scheme = ScoringScheme(matrix=matrix, gap_score=-1.0)
    score, rows = pairwise_align(np.array([0, 1, 2]), np.array([0, 2]), scheme)
    assert score == 5.0  # a-a 2, b-gap -1, c-c 4
    np.testing.assert_array_equal(rows, [[0, 1, 2], [0, -1, 2]])


def test_empty_sequences_score_gaps():
    scheme = random_scheme(0, 3, -0.5)
    empty = np.zeros(0, dtype=np.int64)
    scores = pairwise_scores([empty, np.array([0, 1, 2]), empty], scheme)
    assert scores[0, 1] == -1.5
    assert scores[0, 2] == 0.0
    score, rows = pairwise_align(empty, np.array([2, 1]), scheme)
    assert score == -1.0
    np.testing.assert_array_equal(rows, [[-1, -1], [2, 1]])


def test_large_alphabet():
    rng = np.random.default_rng(1)
    num_events = 700
    scheme = ScoringScheme.from_frequencies(np.full(num_events, 1.0 / num_events), gap_score=-1.0)
    a, b = rng.integers(0, num_events, 30), rng.integers(0, num_events, 25)
    b[:10] = a[5:15]
    assert pairwise_scores([a, b], scheme)[0, 1] == pytest.approx(python_global_score(a, b, scheme))


def test_deterministic():
    rng = np.random.default_rng(2)
    scheme = random_scheme(3, 4, 0.0)
    a, b = rng.integers(0, 4, 40), rng.integers(0, 4, 35)
    first = pairwise_align(a, b, scheme)[1]
    second = pairwise_align(a.copy(), b.copy(), scheme)[1]
    np.testing.assert_array_equal(first, second)


def test_bad_ids():
    scheme = random_scheme(0, 3, 0.0)
    with pytest.raises(ValueError, match=r"sequences\[1\] has event id 3"):
        pairwise_scores([np.array([0]), np.array([3])], scheme)
