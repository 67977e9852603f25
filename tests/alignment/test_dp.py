"""The compiled DP loop (numba, optional) agrees exactly with the numpy loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.alignment import ScoringScheme, _dp, align_sequences, event_frequencies, pairwise_scores

compiled = pytest.mark.skipif(_dp.fill_block_compiled is None, reason="numba is not installed")


def run(fill, block, delete, previous):
    rows, length = block.shape
    diagonal = np.zeros((rows, length), dtype=bool)
    left = np.zeros((rows, length + 1), dtype=bool)
    last = fill(block.copy(), delete, previous.copy(), diagonal, left)
    return last, diagonal, left


@compiled
@settings(max_examples=100, deadline=None)
@given(rows=st.integers(1, 12), length=st.integers(1, 12), seed=st.integers(0, 2**32 - 1), gap=st.booleans())
def test_compiled_loop_equals_numpy_loop(rows, length, seed, gap):
    rng = np.random.default_rng(seed)
    # Small integers make ties frequent, so the tie-breaking is compared too.
    block = rng.integers(-2, 3, size=(rows, length)).astype(np.float64)
    delete = -rng.integers(0, 2, size=rows).astype(np.float64) if gap else np.zeros(rows)
    previous = rng.integers(-3, 3, size=length + 1).astype(np.float64)
    expected = run(_dp.fill_block_numpy, block, delete, previous)
    actual = run(_dp.fill_block_compiled, block, delete, previous)
    for a, b in zip(actual, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    diagonal, left = expected[1], expected[2]
    for a, b in zip(_dp.traceback_compiled(diagonal, left), _dp.traceback_numpy(diagonal, left), strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype == np.int64


@compiled
def test_alignments_are_the_same_without_numba(monkeypatch):
    rng = np.random.default_rng(0)
    sequences = [rng.integers(0, 6, size=rng.integers(5, 30)) for _ in range(12)]
    scoring = ScoringScheme.from_frequencies(event_frequencies(sequences, 6), gap_score=-0.5)
    with_numba = align_sequences(sequences, scoring)
    monkeypatch.setattr(_dp, "fill_block_compiled", None)
    monkeypatch.setattr(_dp, "traceback_compiled", None)
    monkeypatch.setattr(_dp, "fill_indexed_block_compiled", None)
    monkeypatch.setattr(_dp, "pairwise_scores_compiled", None)
    without = align_sequences(sequences, scoring)
    np.testing.assert_array_equal(with_numba.rows, without.rows)


@compiled
@settings(max_examples=100, deadline=None)
@given(rows=st.integers(1, 12), length=st.integers(1, 12), distinct=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_compiled_indexed_loop_equals_numpy_loop(rows, length, distinct, seed):
    rng = np.random.default_rng(seed)
    table = rng.integers(-2, 3, size=(distinct, length)).astype(np.float64)
    row_index = rng.integers(0, distinct, size=rows)
    delete = -rng.integers(0, 2, size=rows).astype(np.float64)
    previous = rng.integers(-3, 3, size=length + 1).astype(np.float64)
    outputs = []
    for fill in (_dp.fill_indexed_block_numpy, _dp.fill_indexed_block_compiled):
        diagonal = np.zeros((rows, length), dtype=bool)
        left = np.zeros((rows, length + 1), dtype=bool)
        outputs.append((fill(table, row_index, delete, previous.copy(), diagonal, left), diagonal, left))
    for a, b in zip(*outputs, strict=True):
        np.testing.assert_array_equal(a, b)
    # The same as the plain loop on the formed block.
    np.testing.assert_array_equal(outputs[0][0], run(_dp.fill_block_numpy, table[row_index], delete, previous)[0])


@compiled
@pytest.mark.parametrize("gap", [0.0, -0.37, -2.0])
def test_compiled_pairwise_scores_equal_biopython(monkeypatch, gap):
    # 70 sequences: three tiles of lanes, the last one partly filled; empty ones too.
    rng = np.random.default_rng(11)
    sequences = [rng.integers(0, 7, size=rng.integers(0, 40)) for _ in range(70)]
    sequences[3] = np.zeros(0, dtype=np.int64)
    matrix = rng.normal(size=(7, 7)).round(3)
    scoring = ScoringScheme(matrix=matrix + matrix.T, gap_score=gap)
    compiled_scores = pairwise_scores(sequences, scoring)
    monkeypatch.setattr(_dp, "pairwise_scores_compiled", None)
    np.testing.assert_array_equal(compiled_scores, pairwise_scores(sequences, scoring))
