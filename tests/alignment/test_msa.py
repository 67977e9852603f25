"""Tests of the progressive multiple alignment and the profile-profile DP."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.alignment import (
    GuideTree,
    MultipleAlignment,
    ScoringScheme,
    align_profiles,
    align_sequences,
    align_to_profile,
    event_frequencies,
    pairwise_scores,
    sum_of_pairs_score,
)
from rudder.errors import AlignmentError


def abc_scheme(gap: float = -1.0) -> ScoringScheme:
    """Events a=0, b=1, c=2: matches score 2, 3, 4; mismatches -1."""
    matrix = np.full((3, 3), -1.0)
    np.fill_diagonal(matrix, [2.0, 3.0, 4.0])
    return ScoringScheme(matrix=matrix, gap_score=gap)


def test_golden_alignment_by_hand():
    # s0 = a b c, s1 = a c, s2 = b c; matrix diag (2, 3, 4), mismatch -1, gap -1.
    # Pairwise optima: s0-s1 = 2 - 1 + 4 = 5 (a/a, b/-, c/c); s0-s2 = -1 + 3 + 4 = 6;
    # s1-s2 = -1 + 4 = 3 (a/b, c/c); self scores 9, 6, 7.
    # Distances: d01 = 1 - 5/6 = 0.167, d02 = 1 - 6/7 = 0.143, d12 = 1 - 3/6 = 0.5,
    # so UPGMA joins s0 and s2 first: profile [a b c; - b c].
    # s1 = a c against it (cross pairs only): a/{a,-} c/{c,c} with a gap column
    # against {b,b}: (2 - 1) + (-1 - 1) + (4 + 4) = 7; a/{b,b} instead gives
    # -1 + (-1 - 1) + 8 = 5, so:
    #   s0: a b c
    #   s1: a - c
    #   s2: - b c
    # SP: (s0,s1) 2 - 1 + 4 = 5; (s0,s2) -1 + 3 + 4 = 6; (s1,s2) -1 - 1 + 4 = 2; total 13.
    scheme = abc_scheme()
    sequences = [np.array([0, 1, 2]), np.array([0, 2]), np.array([1, 2])]
    np.testing.assert_array_equal(
        pairwise_scores(sequences, scheme), [[9, 5, 6], [5, 6, 3], [6, 3, 7]]
    )
    alignment = align_sequences(sequences, scheme)
    np.testing.assert_array_equal(alignment.rows, [[0, 1, 2], [0, -1, 2], [-1, 1, 2]])
    assert alignment.sum_of_pairs(scheme) == 13.0
    assert alignment.num_sequences == 3 and alignment.length == 3
    np.testing.assert_array_equal(alignment.column_counts(3), [[2, 0, 0], [0, 2, 0], [0, 0, 3]])


def python_profile_score(rows_a: np.ndarray, rows_b: np.ndarray, scheme: ScoringScheme) -> float:
    """Plain DP over profile columns; each move is scored by brute-force cross pairs."""

    def cross(column_a, column_b) -> float:
        total = 0.0
        for a, b in itertools.product(column_a, column_b):
            if a >= 0 and b >= 0:
                total += scheme.matrix[a, b]
            elif a >= 0 or b >= 0:
                total += scheme.gap_score
        return total

    gaps_a, gaps_b = [-1] * rows_a.shape[0], [-1] * rows_b.shape[0]
    length_a, length_b = rows_a.shape[1], rows_b.shape[1]
    table = np.zeros((length_a + 1, length_b + 1))
    for i in range(length_a + 1):
        for j in range(length_b + 1):
            if i == j == 0:
                continue
            options = []
            if i and j:
                options.append(table[i - 1, j - 1] + cross(rows_a[:, i - 1], rows_b[:, j - 1]))
            if i:
                options.append(table[i - 1, j] + cross(rows_a[:, i - 1], gaps_b))
            if j:
                options.append(table[i, j - 1] + cross(gaps_a, rows_b[:, j - 1]))
            table[i, j] = max(options)
    return float(table[-1, -1])


def random_scheme(seed: int, num_events: int, gap: float) -> ScoringScheme:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(num_events, num_events)).round(2)
    np.fill_diagonal(matrix, np.abs(np.diag(matrix)) + 1.0)
    return ScoringScheme(matrix=matrix + matrix.T, gap_score=gap)


event_lists = st.lists(st.integers(0, 3), min_size=0, max_size=10).map(
    lambda values: np.array(values, dtype=np.int64)
)


@settings(max_examples=50, deadline=None)
@given(
    a=event_lists, b=event_lists, seed=st.integers(0, 500), gap=st.sampled_from([0.0, -0.4, -2.0])
)
def test_profile_dp_of_two_sequences_is_pairwise_optimum(a, b, seed, gap):
    scheme = random_scheme(seed, 4, gap)
    score, merged = align_profiles(
        MultipleAlignment(rows=a[None, :]), MultipleAlignment(rows=b[None, :]), scheme
    )
    assert score == pytest.approx(pairwise_scores([a, b], scheme)[0, 1], abs=1e-9)
    assert merged.sum_of_pairs(scheme) == pytest.approx(score, abs=1e-9)
    for row, sequence in zip(merged.sequences(), (a, b), strict=True):
        np.testing.assert_array_equal(row, sequence)


def test_profile_dp_across_row_blocks():
    # more than 256 columns in the first profile: the DP computes scores in row blocks
    rng = np.random.default_rng(5)
    scheme = random_scheme(5, 6, -0.3)
    a, b = rng.integers(0, 6, 600), rng.integers(0, 6, 300)
    b[100:250] = a[200:350]
    score, merged = align_profiles(
        MultipleAlignment(rows=a[None, :]), MultipleAlignment(rows=b[None, :]), scheme
    )
    assert score == pytest.approx(pairwise_scores([a, b], scheme)[0, 1])
    assert merged.sum_of_pairs(scheme) == pytest.approx(score)


@settings(max_examples=30, deadline=None)
@given(
    first=st.lists(event_lists, min_size=1, max_size=3),
    second=st.lists(event_lists, min_size=1, max_size=3),
    seed=st.integers(0, 500),
    gap=st.sampled_from([0.0, -0.7]),
)
def test_profile_dp_matches_brute_force_dp(first, second, seed, gap):
    scheme = random_scheme(seed, 4, gap)
    if all(s.size == 0 for s in first) or all(s.size == 0 for s in second):
        return
    profile_a = align_sequences(first, scheme)
    profile_b = align_sequences(second, scheme)
    score, merged = align_profiles(profile_a, profile_b, scheme)
    assert score == pytest.approx(
        python_profile_score(profile_a.rows, profile_b.rows, scheme), abs=1e-9
    )
    total = profile_a.sum_of_pairs(scheme) + profile_b.sum_of_pairs(scheme) + score
    assert merged.sum_of_pairs(scheme) == pytest.approx(total, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    sequences=st.lists(event_lists, min_size=1, max_size=7),
    guide_tree=st.sampled_from(["upgma", "nj"]),
    gap=st.sampled_from([0.0, -1.0]),
)
def test_rows_without_gaps_are_the_inputs(sequences, guide_tree, gap):
    if all(s.size == 0 for s in sequences):
        with pytest.raises(AlignmentError, match="empty"):
            align_sequences(sequences, random_scheme(0, 4, gap))
        return
    scheme = random_scheme(len(sequences), 4, gap)
    alignment = align_sequences(sequences, scheme, guide_tree=guide_tree)
    assert alignment.rows.dtype == np.int64
    assert alignment.num_sequences == len(sequences)
    for row, sequence in zip(alignment.sequences(), sequences, strict=True):
        np.testing.assert_array_equal(row, sequence)
    assert np.all(np.any(alignment.rows >= 0, axis=0)), "no all-gap columns"
    assert alignment.length <= sum(s.size for s in sequences)


def skewed_sequences(count: int, length: int, seed: int) -> tuple[list[np.ndarray], ScoringScheme]:
    rng = np.random.default_rng(seed)
    probabilities = np.arange(1, 16, dtype=float) ** -1.5
    probabilities /= probabilities.sum()
    template = rng.choice(15, length, p=probabilities)
    sequences = []
    for _ in range(count):
        sequence = template.copy()
        mutate = rng.random(length) < 0.3
        sequence[mutate] = rng.choice(15, mutate.sum(), p=probabilities)
        sequences.append(sequence[rng.random(length) > 0.1])
    scheme = ScoringScheme.from_frequencies(event_frequencies(sequences, 15))
    return sequences, scheme


def test_deterministic_and_input_order():
    sequences, scheme = skewed_sequences(12, 40, seed=3)
    first = align_sequences(sequences, scheme)
    second = align_sequences([s.copy() for s in sequences], scheme)
    assert first == second
    reversed_alignment = align_sequences(sequences[::-1], scheme)
    for row, sequence in zip(reversed_alignment.sequences(), sequences[::-1], strict=True):
        np.testing.assert_array_equal(row, sequence)
    nj = align_sequences(sequences, scheme, guide_tree="nj")
    assert nj == align_sequences(sequences, scheme, guide_tree="nj")


def test_progressive_alignment_beats_trivial_alignment():
    sequences, scheme = skewed_sequences(10, 30, seed=4)
    alignment = align_sequences(sequences, scheme)
    length = max(s.size for s in sequences)
    padded = np.full((len(sequences), length), -1)
    for k, sequence in enumerate(sequences):
        padded[k, : sequence.size] = sequence
    assert alignment.sum_of_pairs(scheme) > sum_of_pairs_score(padded, scheme)


def test_custom_guide_tree():
    scheme = abc_scheme()
    sequences = [np.array([0, 1, 2]), np.array([0, 2]), np.array([1, 2])]
    tree = GuideTree(
        num_leaves=3, merges=np.array([[0, 1], [2, 3]]), branch_lengths=np.zeros((2, 2))
    )
    alignment = align_sequences(sequences, scheme, guide_tree=tree)
    for row, sequence in zip(alignment.sequences(), sequences, strict=True):
        np.testing.assert_array_equal(row, sequence)
    with pytest.raises(ValueError, match="leaves"):
        align_sequences(sequences[:2], scheme, guide_tree=tree)
    with pytest.raises(ValueError, match="guide_tree"):
        align_sequences(sequences, scheme, guide_tree="neighbour")  # type: ignore[arg-type]


def test_single_and_empty_sequences():
    scheme = abc_scheme()
    single = align_sequences([np.array([2, 0])], scheme)
    np.testing.assert_array_equal(single.rows, [[2, 0]])
    empty = np.zeros(0, dtype=np.int64)
    alignment = align_sequences([empty, np.array([0, 1]), empty, np.array([0, 1])], scheme)
    np.testing.assert_array_equal(alignment.rows, [[-1, -1], [0, 1], [-1, -1], [0, 1]])


def test_errors():
    scheme = abc_scheme()
    with pytest.raises(AlignmentError, match="no sequences"):
        align_sequences([], scheme)
    with pytest.raises(AlignmentError, match="all 2 sequences are empty"):
        align_sequences([np.zeros(0, dtype=np.int64), []], scheme)
    with pytest.raises(ValueError, match=r"sequences\[1\] has event id 3 outside \[0, 3\)"):
        align_sequences([np.array([0]), np.array([1, 3])], scheme)
    with pytest.raises(ValueError, match="single 1-D array"):
        align_sequences(np.array([0, 1]), scheme)
    with pytest.raises(ValueError, match=r"sequences\[0\] must be 1-D"):
        align_sequences([np.zeros((2, 2), dtype=np.int64)], scheme)
    with pytest.raises(ValueError, match="-1 for gaps"):
        MultipleAlignment(rows=np.array([[0, -2]]))


def test_align_to_profile():
    scheme = abc_scheme()
    alignment = align_sequences([np.array([0, 1, 2]), np.array([0, 2])], scheme)
    extended = align_to_profile(alignment, np.array([1, 2]), scheme)
    np.testing.assert_array_equal(extended.rows, [[0, 1, 2], [0, -1, 2], [-1, 1, 2]])
    # The existing columns stay together.
    kept = extended.rows[:2][:, np.any(extended.rows[:2] >= 0, axis=0)]
    np.testing.assert_array_equal(kept, alignment.rows)
    with_new_column = align_to_profile(alignment, np.array([0, 1, 1, 2]), scheme)
    np.testing.assert_array_equal(with_new_column.sequences()[-1], [0, 1, 1, 2])
    assert with_new_column.length == 4
    empty = align_to_profile(alignment, np.zeros(0, dtype=np.int64), scheme)
    np.testing.assert_array_equal(empty.rows[-1], [-1, -1, -1])


def test_alignment_is_immutable_and_comparable():
    alignment = MultipleAlignment(rows=[[0, -1], [1, 2]])
    with pytest.raises(ValueError):
        alignment.rows[0, 0] = 3
    assert alignment == MultipleAlignment(rows=np.array([[0, -1], [1, 2]]))
    assert alignment != MultipleAlignment(rows=np.array([[0, -1]]))


def test_format():
    alignment = MultipleAlignment(rows=np.array([[0, 1, 2], [0, -1, 2], [-1, 1, 12]]))
    text = alignment.format(
        ["get_key", "open_door", "pick up ball"] + [f"event{k}" for k in range(3, 13)],
        sequence_names=["demo0", "demo1", "demo2"],
    )
    lines = text.splitlines()
    assert lines[0] == "3 sequences x 3 columns"
    assert "demo1 |  gk   - pub" in text
    assert "legend:" in text and " od = open_door" in text and "eve = event12" in text
    plain = alignment.format()
    assert "0 |  0  1  2" in plain and "2 |  -  1 12" in plain
    wide = MultipleAlignment(rows=np.zeros((1, 100), dtype=np.int64)).format(width=40)
    assert max(len(line) for line in wide.splitlines()) <= 40
    assert wide.count(" columns ") == 6 and "columns 90-99" in wide
    with pytest.raises(ValueError, match="names"):
        alignment.format(["a"])


@settings(max_examples=30, deadline=None)
@given(sequences=st.lists(event_lists, min_size=2, max_size=7), gap=st.sampled_from([0.0, -1.0]))
def test_refinement_never_lowers_the_sum_of_pairs(sequences, gap):
    if all(s.size == 0 for s in sequences):
        return
    scheme = random_scheme(len(sequences), 4, gap)
    progressive = align_sequences(sequences, scheme, refine_passes=0)
    refined = align_sequences(sequences, scheme, refine_passes=2)
    assert refined.sum_of_pairs(scheme) >= progressive.sum_of_pairs(scheme) - 1e-9
    for row, sequence in zip(refined.sequences(), sequences, strict=True):
        np.testing.assert_array_equal(row, sequence)
    assert np.all(np.any(refined.rows >= 0, axis=0)), "no all-gap columns"


def test_refinement_improves_a_progressive_alignment():
    sequences, scheme = skewed_sequences(20, 40, seed=5)
    progressive = align_sequences(sequences, scheme, refine_passes=0)
    refined = align_sequences(sequences, scheme, refine_passes=1)
    assert refined.sum_of_pairs(scheme) > progressive.sum_of_pairs(scheme)
    with pytest.raises(ValueError, match="passes"):
        align_sequences(sequences, scheme, refine_passes=-1)


def reference_refinement(rows: np.ndarray, scheme: ScoringScheme, passes: int) -> np.ndarray:
    """Leave-one-out refinement on the full rows (the layout before event positions)."""
    from rudder.alignment import msa

    rows = rows[:, np.any(rows >= 0, axis=0)]
    for _ in range(passes):
        changed = False
        for k in range(rows.shape[0]):
            others = np.delete(rows, k, axis=0)
            others = others[:, np.any(others >= 0, axis=0)]
            sequence = rows[k][rows[k] >= 0]
            current = sum_of_pairs_score(rows, scheme) - sum_of_pairs_score(others, scheme)
            score, columns_single, columns_rest = msa._profile_dp(sequence[None, :], others, scheme)
            if score > current + 1e-9 * max(1.0, abs(current)):
                merged = np.full((rows.shape[0], columns_rest.size), -1, dtype=np.int64)
                merged[:, columns_rest >= 0] = np.insert(others, k, -1, axis=0)
                merged[k, columns_single >= 0] = sequence
                rows, changed = merged, True
        if not changed:
            break
    return rows


@settings(max_examples=25, deadline=None)
@given(
    sequences=st.lists(event_lists, min_size=2, max_size=6),
    gap=st.sampled_from([0.0, -1.0]),
    passes=st.integers(1, 3),
)
def test_refinement_equals_the_row_layout_reference(sequences, gap, passes):
    # The refinement moves event positions; the reference re-lays whole rows.
    if all(s.size == 0 for s in sequences):
        return
    scheme = random_scheme(len(sequences) + 7, 4, gap)
    progressive = align_sequences(sequences, scheme, refine_passes=0)
    refined = align_sequences(sequences, scheme, refine_passes=passes)
    np.testing.assert_array_equal(refined.rows, reference_refinement(progressive.rows, scheme, passes))


def test_refinement_equals_the_reference_on_skewed_sequences():
    sequences, scheme = skewed_sequences(25, 40, seed=7)
    progressive = align_sequences(sequences, scheme, refine_passes=0)
    refined = align_sequences(sequences, scheme, refine_passes=2)
    expected = reference_refinement(progressive.rows, scheme, 2)
    assert refined.sum_of_pairs(scheme) > progressive.sum_of_pairs(scheme)
    np.testing.assert_array_equal(refined.rows, expected)
