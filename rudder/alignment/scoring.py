"""Scoring of event alignments: event frequencies, substitution matrices, sum-of-pairs.

Align-RUDDER (arXiv 2009.14108) scores an alignment of event sequences with a
substitution matrix built from the relative frequencies of the events in the
demonstrations: matching a rare event is worth much more than matching a common one,
mismatches are penalised, and gaps are cheap. Gaps are *linear*: every gap position
scores the same ``gap_score`` (there is no separate opening penalty).

Sequences are 1-D int64 arrays of event ids in ``[0, N)``; aligned rows use ``-1`` for
a gap.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from rudder.errors import AlignmentError

__all__ = ["GAP", "ScoringScheme", "event_frequencies", "sum_of_pairs_score"]

#: The value that marks a gap in an aligned row.
GAP = -1


def _check_num_events(num_events: int) -> int:
    if isinstance(num_events, bool) or not isinstance(num_events, (int, np.integer)):
        raise TypeError(f"`num_events` must be an int, got {type(num_events).__name__}")
    if num_events < 1:
        raise ValueError(
            f"`num_events` must be at least 1, got {num_events}; pass the alphabet size"
        )
    return int(num_events)


def as_event_array(sequence: Any, *, num_events: int, name: str = "sequence") -> np.ndarray:
    """Converts one event sequence to a 1-D int64 array and checks its ids.

    Args:
        sequence: a 1-D array-like of event ids.
        num_events: the alphabet size N; ids must lie in ``[0, N)``.
        name: how to call the sequence in error messages.

    Returns:
        shape (K,), int64: a fresh array of the ids.

    Raises:
        ValueError: the sequence is not 1-D, not integer, or has an id outside ``[0, N)``.
    """
    array = np.asarray(sequence)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, got shape {array.shape}; pass one sequence of event ids"
        )
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(array.dtype, np.integer):
        if (
            np.issubdtype(array.dtype, np.floating)
            and np.all(np.isfinite(array))
            and np.all(array == np.round(array))
        ):
            array = array.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer event ids, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=True)
    low, high = int(array.min()), int(array.max())
    if low < 0 or high >= num_events:
        bad = low if low < 0 else high
        raise ValueError(
            f"{name} has event id {bad} outside [0, {num_events}); "
            f"check `num_events` (the alphabet size) or the encoder that produced the ids"
        )
    return array


def event_frequencies(sequences: Sequence[np.ndarray], num_events: int) -> np.ndarray:
    """Relative frequencies of the events over all events of all sequences.

    Args:
        sequences: event sequences, each shape (K_i,), ids in ``[0, N)``.
        num_events: the alphabet size N.

    Returns:
        shape (N,), float64, sums to 1: ``p_i`` = count of event i / total count.

    Raises:
        AlignmentError: the sequences hold no events at all.
        ValueError: an id lies outside ``[0, N)``.
    """
    num_events = _check_num_events(num_events)
    counts = np.zeros(num_events, dtype=np.int64)
    for index, sequence in enumerate(sequences):
        array = as_event_array(sequence, num_events=num_events, name=f"sequences[{index}]")
        counts += np.bincount(array, minlength=num_events)
    total = int(counts.sum())
    if total == 0:
        raise AlignmentError(
            f"cannot compute event frequencies: the {len(sequences)} sequences hold no events; "
            "check that the event encoder emits events for the demonstrations"
        )
    return counts / total


@dataclasses.dataclass(frozen=True, eq=False)
class ScoringScheme:
    """A substitution matrix and a linear gap score.

    The score of a pairwise alignment is the sum over its columns: ``matrix[a, b]`` for
    a column pairing events a and b, ``gap_score`` for a column pairing an event with a
    gap. The matrix is stored as a read-only float64 copy.

    Attributes:
        matrix: shape (N, N), float64, finite, symmetric.
        gap_score: the score of each gap position (usually <= 0).
    """

    matrix: np.ndarray
    gap_score: float = 0.0

    def __post_init__(self) -> None:
        matrix = np.array(self.matrix, dtype=np.float64, copy=True)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
            raise ValueError(
                f"`matrix` must be a non-empty square (N, N) array, got shape {matrix.shape}; "
                "pass one row and one column per event"
            )
        if not np.all(np.isfinite(matrix)):
            raise ValueError(
                "`matrix` has non-finite entries (nan or inf); use large finite scores instead"
            )
        if not np.array_equal(matrix, matrix.T):
            rows, cols = np.nonzero(matrix != matrix.T)
            i, j = int(rows[0]), int(cols[0])
            raise ValueError(
                f"`matrix` must be symmetric, but matrix[{i}, {j}] = {matrix[i, j]} != "
                f"matrix[{j}, {i}] = {matrix[j, i]}; symmetrise it, e.g. (m + m.T) / 2"
            )
        gap_score = float(self.gap_score)
        if not math.isfinite(gap_score):
            raise ValueError(f"`gap_score` must be finite, got {self.gap_score!r}")
        matrix.setflags(write=False)
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "gap_score", gap_score)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScoringScheme):
            return NotImplemented
        return self.gap_score == other.gap_score and np.array_equal(self.matrix, other.matrix)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ScoringScheme(num_events={self.num_events}, gap_score={self.gap_score})"

    @property
    def num_events(self) -> int:
        """The alphabet size N."""
        return int(self.matrix.shape[0])

    @classmethod
    def from_frequencies(
        cls,
        frequencies: np.ndarray,
        *,
        form: Literal["paper", "official"] = "paper",
        match_scale: float = 1.0,
        mismatch_score: float = -1.0,
        gap_score: float = 0.0,
    ) -> ScoringScheme:
        """The Align-RUDDER matrix: rare events score high when matched.

        For an event with frequency ``p_i > 0`` the diagonal is

        - ``form="paper"``: ``s_ii = match_scale / p_i`` (the paper), or
        - ``form="official"``: ``s_ii = match_scale * (-0.2 * ln p_i)`` (the official
          code's ``0.1 * (-2 ln p_i)``; an event with ``p_i = 1`` then scores 0).

        Every off-diagonal entry is ``mismatch_score``. Events never seen
        (``p_i == 0``) get ``mismatch_score`` on the diagonal too: they never match.

        Args:
            frequencies: shape (N,), non-negative, e.g. from :func:`event_frequencies`.
            form: ``"paper"`` or ``"official"``.
            match_scale: multiplies every diagonal score of a seen event (> 0).
            mismatch_score: the score of two different events (and of unseen events).
            gap_score: the score of each gap position.

        Returns:
            The scoring scheme, shape (N, N).

        Raises:
            ValueError: bad frequencies, form or scale.
        """
        frequencies = np.asarray(frequencies, dtype=np.float64)
        if frequencies.ndim != 1 or frequencies.size == 0:
            raise ValueError(
                f"`frequencies` must be a non-empty 1-D array, got shape {frequencies.shape}; "
                "use event_frequencies(sequences, num_events)"
            )
        if not np.all(np.isfinite(frequencies)) or np.any(frequencies < 0):
            raise ValueError(f"`frequencies` must be finite and >= 0, got {frequencies}")
        if not np.any(frequencies > 0):
            raise ValueError("`frequencies` are all zero; at least one event must have been seen")
        if form not in ("paper", "official"):
            raise ValueError(f"`form` must be 'paper' or 'official', got {form!r}")
        if not (math.isfinite(match_scale) and match_scale > 0):
            raise ValueError(f"`match_scale` must be a positive finite number, got {match_scale!r}")
        if not math.isfinite(mismatch_score):
            raise ValueError(f"`mismatch_score` must be finite, got {mismatch_score!r}")
        num_events = frequencies.shape[0]
        seen = frequencies > 0
        diagonal = np.full(num_events, float(mismatch_score))
        if form == "paper":
            diagonal[seen] = match_scale / frequencies[seen]
        else:
            diagonal[seen] = match_scale * (-0.2 * np.log(frequencies[seen]))
        matrix = np.full((num_events, num_events), float(mismatch_score))
        np.fill_diagonal(matrix, diagonal)
        return cls(matrix=matrix, gap_score=gap_score)

    def to_config(self, *, include_matrix: bool = True) -> dict[str, Any]:
        """A JSON-serialisable description.

        Args:
            include_matrix: put the matrix in the config as a nested list (floats
                round-trip exactly through JSON). Pass ``False`` to store the matrix
                elsewhere (for example in an ``.npz`` file) and give it back to
                :meth:`from_config`.

        Returns:
            ``{"gap_score": float, "num_events": int}`` plus ``"matrix"`` if included.
        """
        config: dict[str, Any] = {"gap_score": self.gap_score, "num_events": self.num_events}
        if include_matrix:
            config["matrix"] = self.matrix.tolist()
        return config

    def to_dict(self) -> dict[str, Any]:
        """The config without the matrix: ``{"gap_score": ..., "num_events": ...}``."""
        return self.to_config(include_matrix=False)

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, matrix: np.ndarray | None = None
    ) -> ScoringScheme:
        """Rebuilds a scheme from :meth:`to_config`.

        Args:
            config: the mapping written by :meth:`to_config`.
            matrix: shape (N, N): the matrix, required if the config has none.

        Raises:
            ValueError: no matrix anywhere, or the matrix disagrees with ``num_events``.
        """
        if matrix is None:
            if "matrix" not in config:
                raise ValueError(
                    "the config has no 'matrix'; pass `matrix=` (e.g. loaded from the .npz file "
                    "saved next to the config)"
                )
            matrix = np.asarray(config["matrix"], dtype=np.float64)
        scheme = cls(matrix=matrix, gap_score=float(config.get("gap_score", 0.0)))
        expected = config.get("num_events")
        if expected is not None and int(expected) != scheme.num_events:
            raise ValueError(
                f"the config says num_events={expected} but the matrix has shape {scheme.matrix.shape}"
            )
        return scheme


def check_rows(rows: Any, *, num_events: int, name: str = "rows") -> np.ndarray:
    """Converts aligned rows to a 2-D int64 array and checks the ids (``-1`` = gap).

    Returns:
        shape (n, L), int64.
    """
    array = np.asarray(rows)
    if array.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D (sequences, columns), got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"`{name}` must hold integer event ids (-1 = gap), got dtype {array.dtype}"
        )
    array = array.astype(np.int64, copy=False)
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < GAP or high >= num_events:
            bad = low if low < GAP else high
            raise ValueError(
                f"`{name}` has entry {bad} outside [-1, {num_events}); use -1 for gaps and "
                f"event ids below the alphabet size {num_events}"
            )
    return array


def column_counts(rows: np.ndarray, num_events: int) -> np.ndarray:
    """Per-column event counts of aligned rows (gaps are not counted).

    Args:
        rows: shape (n, L), int64, ``-1`` = gap, ids in ``[0, N)`` (not checked).
        num_events: N.

    Returns:
        shape (L, N), int64.
    """
    num_rows, length = rows.shape
    counts = np.zeros(length * num_events, dtype=np.int64)
    if rows.size:
        mask = rows >= 0
        columns = np.broadcast_to(np.arange(length, dtype=np.int64), rows.shape)
        flat = columns[mask] * num_events + rows[mask]
        counts = np.bincount(flat, minlength=length * num_events)
    return counts.reshape(length, num_events)


def sum_of_pairs_score(rows: np.ndarray, scoring: ScoringScheme) -> float:
    """The sum-of-pairs score of a multiple alignment.

    The sum over all pairs of rows of the score of their induced pairwise alignment:
    an event-event pair scores ``matrix[a, b]``, an event-gap pair scores
    ``gap_score``, and gap-gap pairs are ignored. Computed per column from the event
    counts ``c``: ``(c S c - sum_k c_k S_kk) / 2 + n_events * n_gaps * gap_score``.

    Args:
        rows: shape (n, L), integer, ``-1`` = gap.
        scoring: the scoring scheme (N events).

    Returns:
        The score (0.0 for fewer than two rows).
    """
    rows = check_rows(rows, num_events=scoring.num_events)
    if rows.shape[0] < 2 or rows.shape[1] == 0:
        return 0.0
    counts = column_counts(rows, scoring.num_events).astype(np.float64)
    matrix = scoring.matrix
    quadratic = float(np.einsum("ln,ln->", counts @ matrix, counts))
    self_pairs = float(counts.sum(axis=0) @ np.diag(matrix))
    residues = counts.sum(axis=1)
    gaps = rows.shape[0] - residues
    gap_pairs = float(residues @ gaps) * scoring.gap_score
    return (quadratic - self_pairs) / 2.0 + gap_pairs
