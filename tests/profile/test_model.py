"""Tests of the PSSM, the consensus, and the incremental prefix scorer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from Bio.Align import PairwiseAligner, substitution_matrices
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.profile import ProfileModel, format_consensus


def full_realignment_score(scores, events, *, insert_score, delete_score):
    """Oracle: best score of aligning all `events` to a profile prefix, from scratch.

    A plain O(k L) dynamic programme over the whole table, written independently of the
    incremental scorer (no cumulative-maximum tricks, no reuse between prefixes).
    ``delete_score`` is one number or one per column.
    """
    length, num_events = scores.shape
    deletes = [float(d) for d in np.broadcast_to(delete_score, (length,))]
    table = [[0.0] * (length + 1) for _ in range(len(events) + 1)]
    for j in range(1, length + 1):
        table[0][j] = table[0][j - 1] + deletes[j - 1]
    for i, event in enumerate(events, start=1):
        table[i][0] = table[i - 1][0] + insert_score
        for j in range(1, length + 1):
            match = scores[j - 1, event] if 0 <= event < num_events else None
            candidates = [table[i - 1][j] + insert_score, table[i][j - 1] + deletes[j - 1]]
            if match is not None:
                candidates.append(table[i - 1][j - 1] + match)
            table[i][j] = max(candidates)
    return max(table[len(events)])


def biopython_score(profile: ProfileModel, events):
    """Oracle: the same score from Bio.Align, with the profile's columns as a sequence."""
    event_symbols = [f"e{k}" for k in range(profile.num_events)]
    column_symbols = [f"c{j}" for j in range(profile.length)]
    alphabet = event_symbols + column_symbols
    matrix = substitution_matrices.Array(alphabet=tuple(alphabet), dims=2)
    big_negative = -1e6
    matrix[:, :] = big_negative
    for k in range(profile.num_events):
        for j in range(profile.length):
            matrix[f"e{k}", f"c{j}"] = profile.scores[j, k]
            matrix[f"c{j}", f"e{k}"] = profile.scores[j, k]
    aligner = PairwiseAligner(mode="global", substitution_matrix=matrix)
    # Target = profile columns, query = events. Biopython 1.86 renamed the attributes.
    new_names = hasattr(aligner, "insertion_score")
    setattr(aligner, "insertion_score" if new_names else "target_gap_score", profile.insert_score)
    setattr(aligner, "deletion_score" if new_names else "query_gap_score", profile.delete_score)
    # Free end gap in the profile: columns after the last event cost nothing.
    setattr(aligner, "right_deletion_score" if new_names else "query_right_gap_score", 0.0)
    return aligner.score(column_symbols, [f"e{e}" for e in events])


@st.composite
def profiles_and_events(draw):
    num_events = draw(st.integers(1, 12))
    length = draw(st.integers(1, 15))
    num_sequences = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    rows = rng.integers(-1, num_events, size=(num_sequences, length))
    background = rng.random(num_events) * (rng.random(num_events) > 0.2)
    if background.sum() == 0:
        background[0] = 1.0
    gaps = draw(st.sampled_from([(0.0, 0.0), (-0.5, 0.0), (0.0, -0.3), (-1.0, -0.25), (0.0, -1.5)]))
    profile = ProfileModel.from_alignment(
        rows,
        num_events,
        background=background,
        pseudocount=draw(st.sampled_from([0.1, 1.0, 2.5])),
        insert_score=gaps[0],
        delete_score=gaps[1],
        delete_by_occupancy=draw(st.booleans()),
    )
    # Events include ids outside the alphabet: they must score as mismatches.
    events = draw(st.lists(st.integers(-2, num_events + 1), min_size=0, max_size=20))
    return profile, events


@settings(max_examples=250, deadline=None)
@given(profiles_and_events())
def test_incremental_prefix_scores_equal_full_realignment(case):
    profile, events = case
    scorer = profile.prefix_scorer()
    assert scorer.score == pytest.approx(
        full_realignment_score(profile.scores, [], insert_score=profile.insert_score, delete_score=profile.column_delete_scores)
    )
    for k, event in enumerate(events, start=1):
        incremental = scorer.add(event)
        # An id outside the alphabet scores the floor, as any unseen event does.
        mapped = [e if 0 <= e < profile.num_events else -1 for e in events[:k]]
        expected_scores = np.column_stack([profile.scores, np.full(profile.length, profile.mismatch_score)])
        mapped = [e if e >= 0 else profile.num_events for e in mapped]
        expected = full_realignment_score(
            expected_scores, mapped, insert_score=profile.insert_score, delete_score=profile.column_delete_scores
        )
        assert incremental == pytest.approx(expected, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(profiles_and_events())
def test_prefix_score_equals_biopython_alignment(case):
    profile, events = case
    events = [e for e in events if 0 <= e < profile.num_events][:10]
    if not events or profile.delete_by_occupancy:
        return  # Bio.Align's deletion score is one number
    assert profile.score(events) == pytest.approx(biopython_score(profile, events), abs=1e-9)


def test_pssm_golden_values():
    # Two sequences aligned over 3 columns: column 0 = (a, a), column 1 = (b, -),
    # column 2 = (c, b). Background a=0.5, b=0.25, c=0.25, pseudocount 1, n=2.
    rows = np.array([[0, 1, 2], [0, -1, 1]])
    profile = ProfileModel.from_alignment(rows, 3, background=np.array([0.5, 0.25, 0.25]), pseudocount=1.0)
    # f_0(a) = (2 + 0.5)/3 -> ln(2.5/3/0.5) = ln(5/3)
    assert profile.scores[0, 0] == pytest.approx(math.log(5 / 3))
    # f_0(b) = 0.25/3 -> ln(1/3), the floor
    assert profile.scores[0, 1] == pytest.approx(math.log(1 / 3))
    # f_1(b) = (1 + 0.25)/3 -> ln(1.25/3/0.25) = ln(5/3); the gap counts in the denominator
    assert profile.scores[1, 1] == pytest.approx(math.log(5 / 3))
    # f_2(c) = (1 + 0.25)/3 -> ln(5/3)
    assert profile.scores[2, 2] == pytest.approx(math.log(5 / 3))
    assert profile.mismatch_score == pytest.approx(math.log(1 / 3))
    # Scoring "a b c": a->col0, b->col1, c->col2 = 3 ln(5/3) (gap scores 0).
    assert profile.score([0, 1, 2]) == pytest.approx(3 * math.log(5 / 3))
    # "a c": a->col0, skip col1, c->col2.
    assert profile.score([0, 2]) == pytest.approx(2 * math.log(5 / 3))
    # An unknown event id never crashes and adds nothing with free gaps.
    assert profile.score([0, 99, 2]) == pytest.approx(2 * math.log(5 / 3))


def test_deletes_by_occupancy_golden_values():
    # Column 1 is a detour of one sequence in three; the others are filled by all.
    rows = np.array([[0, 2, 1], [0, -1, 1], [0, -1, 1]])
    background = np.array([0.5, 0.25, 0.25])
    constant = ProfileModel.from_alignment(rows, 3, background=background, delete_score=-1.5)
    weighted = ProfileModel.from_alignment(rows, 3, background=background, delete_score=-1.5, delete_by_occupancy=True)
    np.testing.assert_allclose(constant.column_delete_scores, [-1.5, -1.5, -1.5])
    np.testing.assert_allclose(weighted.column_delete_scores, [-1.5, -0.5, -1.5])
    # f_0(a) = (3 + 0.5) / 4, f_2(b) = (3 + 0.25) / 4: "a b" matches columns 0 and 2.
    match_a, match_b = math.log(3.5 / 4 / 0.5), math.log(3.25 / 4 / 0.25)
    # Constant: skipping the detour column costs 1.5, more than b's match gains, so the
    # best alignment stops at column 1 and b is an insertion (score 0).
    assert constant.score([0, 1]) == pytest.approx(match_a + max(0.0, match_b - 1.5))
    # By occupancy: skipping it costs 0.5, and b advances the episode to column 3.
    assert weighted.score([0, 1]) == pytest.approx(match_a + match_b - 0.5)
    scorer = weighted.prefix_scorer()
    scorer.add(0)
    scorer.add(1)
    assert scorer.position == 3


def test_consensus_threshold():
    rows = np.array([[0, 1, 2, -1], [0, 1, -1, 3], [0, 2, 2, 3], [0, 1, 2, 3], [0, 1, 2, -1]])
    background = np.array([0.4, 0.3, 0.2, 0.1])
    profile = ProfileModel.from_alignment(rows, 4, background=background, consensus_threshold=0.8)
    consensus = profile.consensus
    assert [(c.column, c.event) for c in consensus] == [(0, 0), (1, 1), (2, 2)]
    assert [c.fraction for c in consensus] == [1.0, 0.8, 0.8]
    lower = ProfileModel.from_alignment(rows, 4, background=background, consensus_threshold=0.6)
    assert [(c.column, c.event) for c in lower.consensus] == [(0, 0), (1, 1), (2, 2), (3, 3)]


def test_position_tracks_progress():
    rows = np.array([[0, 1, 2, 3]] * 3)
    profile = ProfileModel.from_alignment(rows, 4, background=np.full(4, 0.25))
    scorer = profile.prefix_scorer()
    assert scorer.position == 0
    scorer.add(0)
    scorer.add(1)
    assert scorer.position == 2
    scorer.add(3)
    assert scorer.position == 4
    scorer.reset()
    assert scorer.position == 0 and scorer.num_events_seen == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pseudocount": 0.0}, "pseudocount"),
        ({"insert_score": 0.5}, "insert_score"),
        ({"consensus_threshold": 0.0}, "consensus_threshold"),
    ],
)
def test_bad_profile_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ProfileModel.from_alignment(np.array([[0, 1]]), 2, background=np.array([0.5, 0.5]), **kwargs)


def test_alignment_ids_out_of_range():
    with pytest.raises(ValueError, match="outside"):
        ProfileModel.from_alignment(np.array([[0, 5]]), 2, background=np.array([0.5, 0.5]))


def test_format_consensus():
    assert format_consensus(["log"] * 7 + ["planks"] * 5 + ["crafting_table"]) == (
        "7× log, 5× planks, crafting_table"
    )
    assert format_consensus(["log", "planks", "log", "log"]) == "log, planks, 2× log"
    assert format_consensus([]) == ""
