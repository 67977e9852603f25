"""Tests of event frequencies, scoring schemes and the sum-of-pairs score."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.alignment import ScoringScheme, event_frequencies, sum_of_pairs_score
from rudder.errors import AlignmentError


def test_event_frequencies_counts_all_events():
    frequencies = event_frequencies([np.array([0, 1, 1]), np.array([], dtype=np.int64), [1, 3]], 5)
    np.testing.assert_allclose(frequencies, [0.2, 0.6, 0.0, 0.2, 0.0])
    assert frequencies.shape == (5,)


def test_event_frequencies_errors():
    with pytest.raises(AlignmentError, match="no events"):
        event_frequencies([np.zeros(0, dtype=np.int64)], 3)
    with pytest.raises(AlignmentError):
        event_frequencies([], 3)
    with pytest.raises(ValueError, match=r"event id 3 outside \[0, 3\)"):
        event_frequencies([np.array([0, 3])], 3)
    with pytest.raises(ValueError, match="event id -1"):
        event_frequencies([np.array([-1, 0])], 3)
    with pytest.raises(ValueError, match="num_events"):
        event_frequencies([np.array([0])], 0)


def test_paper_form():
    scheme = ScoringScheme.from_frequencies(np.array([0.5, 0.25, 0.25, 0.0]), match_scale=2.0)
    expected = np.full((4, 4), -1.0)
    np.fill_diagonal(expected, [4.0, 8.0, 8.0, -1.0])  # unseen event never matches
    np.testing.assert_allclose(scheme.matrix, expected)
    assert scheme.gap_score == 0.0
    assert scheme.num_events == 4


def test_official_form():
    frequencies = np.array([0.5, 0.5, 0.0])
    scheme = ScoringScheme.from_frequencies(
        frequencies, form="official", mismatch_score=-2.0, gap_score=-0.5
    )
    expected = np.full((3, 3), -2.0)
    np.fill_diagonal(expected, [0.1 * -2 * np.log(0.5)] * 2 + [-2.0])
    np.testing.assert_allclose(scheme.matrix, expected)
    assert scheme.gap_score == -0.5


def test_from_frequencies_errors():
    with pytest.raises(ValueError, match="form"):
        ScoringScheme.from_frequencies(np.array([1.0]), form="other")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="all zero"):
        ScoringScheme.from_frequencies(np.zeros(3))
    with pytest.raises(ValueError, match="match_scale"):
        ScoringScheme.from_frequencies(np.array([1.0]), match_scale=0.0)


def test_scheme_validation():
    with pytest.raises(ValueError, match="square"):
        ScoringScheme(matrix=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        ScoringScheme(matrix=np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="non-finite"):
        ScoringScheme(matrix=np.array([[np.inf]]))
    with pytest.raises(ValueError, match="gap_score"):
        ScoringScheme(matrix=np.eye(2), gap_score=float("nan"))


def test_scheme_is_read_only_copy_and_round_trips_through_json():
    matrix = np.array([[1.0, -0.3], [-0.3, 1.0 / 3.0]])
    scheme = ScoringScheme(matrix=matrix, gap_score=-0.25)
    matrix[0, 0] = 99.0
    assert scheme.matrix[0, 0] == 1.0
    with pytest.raises(ValueError):
        scheme.matrix[0, 0] = 5.0
    restored = ScoringScheme.from_config(json.loads(json.dumps(scheme.to_config())))
    assert restored == scheme
    assert scheme.to_dict() == {"gap_score": -0.25, "num_events": 2}
    with pytest.raises(ValueError, match="matrix="):
        ScoringScheme.from_config(scheme.to_dict())
    assert ScoringScheme.from_config(scheme.to_dict(), matrix=scheme.matrix) == scheme


def naive_sum_of_pairs(rows: np.ndarray, scheme: ScoringScheme) -> float:
    total = 0.0
    for first, second in itertools.combinations(rows, 2):
        for a, b in zip(first, second, strict=True):
            if a >= 0 and b >= 0:
                total += scheme.matrix[a, b]
            elif a >= 0 or b >= 0:
                total += scheme.gap_score
    return total


def test_sum_of_pairs_by_hand():
    # matrix: a-a 2, b-b 3, a-b -1; gap -0.5
    scheme = ScoringScheme(matrix=np.array([[2.0, -1.0], [-1.0, 3.0]]), gap_score=-0.5)
    rows = np.array([[0, 1, -1], [0, -1, -1], [1, 1, 0]])
    # column 0: a,a,b -> 2 - 1 - 1 = 0; column 1: b,-,b -> 3 - 0.5 - 0.5 = 2;
    # column 2: -,-,a -> -0.5 - 0.5 = -1 (gap-gap ignored).  Total 1.
    assert sum_of_pairs_score(rows, scheme) == pytest.approx(1.0)
    assert sum_of_pairs_score(rows[:1], scheme) == 0.0


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 5).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(-1, 3), min_size=n, max_size=n), min_size=1, max_size=6
        )
    ),
    gap=st.sampled_from([0.0, -0.5, -2.0]),
)
def test_sum_of_pairs_matches_naive(rows, gap):
    rng = np.random.default_rng(len(rows))
    matrix = rng.normal(size=(4, 4))
    scheme = ScoringScheme(matrix=matrix + matrix.T, gap_score=gap)
    array = np.array(rows).T
    assert sum_of_pairs_score(array, scheme) == pytest.approx(naive_sum_of_pairs(array, scheme))


def test_sum_of_pairs_rejects_bad_ids():
    scheme = ScoringScheme(matrix=np.eye(2))
    with pytest.raises(ValueError, match="outside"):
        sum_of_pairs_score(np.array([[0, 2]]), scheme)
    with pytest.raises(ValueError, match="2-D"):
        sum_of_pairs_score(np.array([0, 1]), scheme)
