"""Progressive multiple sequence alignment of event sequences.

:func:`align_sequences` follows the classic ClustalW recipe with our own profile
dynamic programming:

1. all pairwise global alignment scores (:func:`~rudder.alignment.pairwise_scores`),
2. distances ``1 - s_ij / min(s_ii, s_jj)`` (:func:`~rudder.alignment.distances_from_scores`),
3. a guide tree (UPGMA or neighbor joining),
4. bottom-up along the tree, two profiles (sub-alignments) are aligned to each other
   by a global profile-profile DP with linear gaps, keeping each profile's columns
   intact ("once a gap, always a gap").

The profile-profile objective is the exact sum-of-pairs (SP) score of the merged
alignment. Pairs of rows within one profile do not change (inserting an all-gap column
only adds gap-gap pairs, which score 0), so only the cross pairs (one row from each
profile) are optimised. With per-column event counts ``a`` (profile A, n_A rows) and
``b`` (profile B, n_B rows), residue totals ``|a|``, ``|b|`` and gap counts
``n_A - |a|``, ``n_B - |b|``:

- column i of A against column j of B scores
  ``a S b + g (|a| (n_B - |b|) + (n_A - |a|) |b|)``,
- column i of A against a new all-gap column of B scores ``g |a| n_B``,
- a new all-gap column of A against column j of B scores ``g n_A |b|``,

where ``S`` is the substitution matrix and ``g`` the gap score. This is the mean
column-pair score over cross pairs multiplied by the constant ``n_A n_B``, so
maximising it is the same as maximising the mean; sequences are not weighted. For two
single sequences it reduces to ordinary pairwise global alignment.

The DP is vectorised along rows: with linear gaps the horizontal dependency
``M[i, j] = max(A[j], M[i, j-1] + h[j])`` is a running maximum,
``M[i, :] = P + maximum.accumulate(A - P)`` with ``P`` the prefix sums of ``h``.
Ties are broken in the order match (diagonal), gap in B (up), gap in A (left), and the
running maximum keeps the earliest (leftmost) start, so results are deterministic.

The progressive stage keeps each profile as its column counts (memory linear in the
number of sequences; the rows are laid out once at the end from the column maps of the
merges), and the refinement keeps the column of each event, so a realigned row moves
O(events) entries, not the n x L rows. A profile of one sequence (the refinement, and
the leaves) is scored from one row of cells per distinct event, not one per column.

Large alignments (more than :data:`LARGE_ALIGNMENT` sequences, or ``method="kmer"``)
skip the n^2 pairwise alignments: the guide tree comes from k-mer frequencies
(:func:`~rudder.alignment.guide_tree.kmer_guide_tree`), and the leave-one-out
refinement runs only within a time budget (``refine_seconds``).
:attr:`MultipleAlignment.method` records which path made the alignment.

Time on one core (2-core machine, 100 demonstrations x 200 events, the bench's
synthetic demonstrations): about 45% of the time of the previous layout, with the same
rows; the compiled pairwise scores, the refinement's DP and the progressive DP take
roughly a third each.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from typing import Literal

import numpy as np

from rudder.alignment import _dp
from rudder.alignment._threads import single_blas_thread
from rudder.alignment.guide_tree import (
    GuideTree,
    distances_from_scores,
    kmer_guide_tree,
    neighbor_joining,
    upgma,
)
from rudder.alignment.pairwise import pairwise_scores
from rudder.alignment.scoring import (
    GAP,
    ScoringScheme,
    as_event_array,
    check_rows,
    column_counts,
    sum_of_pairs_score,
)
from rudder.errors import AlignmentError

__all__ = [
    "LARGE_ALIGNMENT",
    "MultipleAlignment",
    "align_profiles",
    "align_sequences",
    "align_to_profile",
    "refine_alignment",
]

#: ``align_sequences(method="auto")`` takes the k-mer path above this many sequences.
LARGE_ALIGNMENT = 250
#: The alignment methods :attr:`MultipleAlignment.method` records.
METHODS = ("exact", "kmer")

#: Rows of the substitution block computed at once (bounds the memory to ~block x L_B).
_BLOCK_ROWS = 256


@dataclasses.dataclass(frozen=True, eq=False)
class MultipleAlignment:
    """Aligned event sequences.

    Attributes:
        rows: shape (n, L), int64, read-only: event ids, ``-1`` for a gap; row k
            belongs to the k-th input sequence.
        method: how the alignment was made: ``"exact"`` (guide tree from all pairwise
            alignment scores) or ``"kmer"`` (guide tree from k-mer frequencies, for
            large alignments; see :func:`align_sequences`). Not part of equality.
    """

    rows: np.ndarray
    method: str = "exact"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"`method` must be one of {METHODS}, got {self.method!r}")
        rows = np.array(self.rows, dtype=np.int64, copy=True)
        if rows.ndim != 2:
            raise ValueError(f"`rows` must be 2-D (sequences, columns), got shape {rows.shape}")
        if rows.size and rows.min() < GAP:
            raise ValueError(
                f"`rows` has entry {int(rows.min())}; use -1 for gaps and ids >= 0 for events"
            )
        rows.setflags(write=False)
        object.__setattr__(self, "rows", rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MultipleAlignment):
            return NotImplemented
        return self.rows.shape == other.rows.shape and np.array_equal(self.rows, other.rows)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MultipleAlignment(num_sequences={self.num_sequences}, length={self.length}, method={self.method!r})"

    @property
    def num_sequences(self) -> int:
        """n, the number of rows."""
        return int(self.rows.shape[0])

    @property
    def length(self) -> int:
        """L, the number of columns."""
        return int(self.rows.shape[1])

    def column_counts(self, num_events: int) -> np.ndarray:
        """How often each event occurs in each column.

        Args:
            num_events: the alphabet size N (must exceed every id in the rows).

        Returns:
            shape (L, N), int64.
        """
        rows = check_rows(self.rows, num_events=num_events)
        return column_counts(rows, num_events)

    def sequences(self) -> list[np.ndarray]:
        """The rows with the gaps removed, each shape (K_i,), int64."""
        return [row[row >= 0].copy() for row in self.rows]

    def sum_of_pairs(self, scoring: ScoringScheme) -> float:
        """The sum-of-pairs score (see :func:`~rudder.alignment.sum_of_pairs_score`)."""
        return sum_of_pairs_score(self.rows, scoring)

    def format(
        self,
        names: Sequence[str] | None = None,
        *,
        sequence_names: Sequence[str] | None = None,
        marked_columns: Sequence[int] = (),
        width: int = 100,
    ) -> str:
        """A readable text block of the alignment.

        Each event is shown by a short label of at most 3 characters in a fixed-width
        cell; gaps are shown as ``-``. With event ``names`` the labels are derived
        from the names (initials of the words, or the first letters; made unique,
        falling back to the id) and a legend lists ``label = name``; without names
        the labels are the ids. Long alignments are wrapped in blocks, each starting
        with the index of its first column.

        Args:
            names: event names indexed by event id, e.g. ``alphabet.names``.
            sequence_names: one name per row (default ``"0"``, ``"1"``, ...).
            marked_columns: columns to mark with ``*`` on an extra line under each
                block (e.g. the consensus sub-goals).
            width: maximum characters per line (at least 20).

        Returns:
            The text, lines separated by ``"\\n"``.
        """
        if width < 20:
            raise ValueError(f"`width` must be at least 20 characters, got {width}")
        count = self.num_sequences
        if sequence_names is None:
            sequence_names = [str(k) for k in range(count)]
        if len(sequence_names) != count:
            raise ValueError(
                f"`sequence_names` has {len(sequence_names)} names for {count} rows; pass one per row"
            )
        used = sorted({int(event) for event in np.unique(self.rows) if event >= 0})
        if names is not None:
            if used and used[-1] >= len(names):
                raise ValueError(
                    f"event id {used[-1]} has no name: `names` has {len(names)} entries; "
                    "pass the alphabet's names"
                )
            labels = _short_labels(names, used)
        else:
            labels = {event: str(event) for event in used}
        cell = max([len(label) for label in labels.values()] + [1]) + 1
        marked = {int(column) for column in marked_columns}
        mark_label = "consensus"
        name_width = min(max([len(str(name)) for name in sequence_names] + [len(mark_label) if marked else 1]), 16)
        per_line = max(1, (width - name_width - 2) // cell)
        header = f"{count} sequences x {self.length} columns"
        lines = [header]
        cells = [
            [(labels[int(event)] if event >= 0 else "-").rjust(cell) for event in row]
            for row in self.rows
        ]
        for start in range(0, max(self.length, 1), per_line):
            stop = min(start + per_line, self.length)
            lines.append("")
            lines.append(f"{'':<{name_width}}  columns {start}-{max(stop - 1, start)}")
            for name, row_cells in zip(sequence_names, cells, strict=True):
                label = str(name)[:name_width]
                lines.append(f"{label:<{name_width}} |" + "".join(row_cells[start:stop]))
            if marked:
                marks = "".join(("*" if column in marked else "").rjust(cell) for column in range(start, stop))
                lines.append(f"{mark_label:<{name_width}} |" + marks)
        if names is not None and used:
            lines.append("")
            lines.append("legend:")
            lines.extend(f"  {labels[event]:>{cell - 1}} = {names[event]}" for event in used)
        return "\n".join(lines)


def _short_labels(names: Sequence[str], events: Sequence[int]) -> dict[int, str]:
    """Unique labels of at most 3 characters for the given event ids."""
    labels: dict[int, str] = {}
    taken: set[str] = set()
    for event in events:
        name = str(names[event])
        words = [word for word in re.split(r"[^0-9A-Za-z]+", name) if word]
        candidates = []
        if len(words) > 1:
            candidates.append("".join(word[0] for word in words)[:3])
            candidates.append((words[0][:2] + words[-1][:1])[:3])
        if words:
            candidates.append("".join(words)[:3])
        candidates.append(name.replace(" ", "")[:3])
        label = next((c for c in candidates if c and c not in taken), None)
        if label is None:
            label = next(c for c in _fallback_labels(event) if c not in taken)
        taken.add(label)
        labels[event] = label
    return labels


def _fallback_labels(event: int):
    """Labels to try when the name gives no unique one: the id, then base-36 codes."""
    if len(str(event)) <= 3:
        yield str(event)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    for code in range(36**3):
        yield digits[code // 1296] + digits[code // 36 % 36] + digits[code % 36]


def _profile_dp(
    rows_a: np.ndarray,
    rows_b: np.ndarray,
    scoring: ScoringScheme,
    *,
    counts_b: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Global linear-gap profile-profile DP maximising the cross sum-of-pairs score.

    Args:
        rows_a: shape (n_A, L_A), int64, ``-1`` = gap.
        rows_b: shape (n_B, L_B), int64, ``-1`` = gap.
        scoring: the scoring scheme.
        counts_b: shape (L_B, N): ``column_counts(rows_b)`` if the caller has it.

    Returns:
        ``(score, columns_a, columns_b)``: the optimal cross score and, for each
        column of the merged alignment (length L), the column of A and of B it takes
        (``-1`` = a new all-gap column).
    """
    counts_a = column_counts(rows_a, scoring.num_events).astype(np.float64)
    if counts_b is None:
        counts_b = column_counts(rows_b, scoring.num_events)
    return _counts_dp(counts_a, rows_a.shape[0], counts_b.astype(np.float64, copy=False), rows_b.shape[0], scoring)


def _counts_dp(
    counts_a: np.ndarray, count_a: int, counts_b: np.ndarray, count_b: int, scoring: ScoringScheme
) -> tuple[float, np.ndarray, np.ndarray]:
    """:func:`_profile_dp` on the column counts of two profiles, shapes (L_A, N) and (L_B, N),
    float64, of ``count_a`` and ``count_b`` rows."""
    gap = scoring.gap_score
    length_a = counts_a.shape[0]
    length_b = counts_b.shape[0]
    residues_a = counts_a.sum(axis=1)
    residues_b = counts_b.sum(axis=1)
    delete = gap * count_b * residues_a  # column of A against a new gap column of B
    insert = gap * count_a * residues_b  # new gap column of A against a column of B
    # The DP runs on M'[i, j] = M[i, j] - P[j] with P the prefix sums of `insert`:
    # horizontal moves then cost nothing, so a row is a plain running maximum, and the
    # diagonal move gains substitution[i, j] - insert[j].
    gaps_b_term = gap * (count_b - residues_b)
    gap_residues_b = gap * residues_b

    diagonal_flags = np.empty((length_a, length_b), dtype=bool)
    left_flags = np.empty((length_a, length_b + 1), dtype=bool)
    previous = np.zeros(length_b + 1)
    if count_a == 1:
        events = np.where(residues_a > 0, counts_a.argmax(axis=1), GAP)
        return _sequence_dp(events, counts_b, count_b, scoring, residues_b=residues_b)
    weighted_a = counts_a @ scoring.matrix  # (L_A, N)
    for block_start in range(0, length_a, _BLOCK_ROWS):
        rows = slice(block_start, min(block_start + _BLOCK_ROWS, length_a))
        block = weighted_a[rows] @ counts_b.T
        _add_gap_terms(block, residues_a[rows], count_a, gaps_b_term, gap_residues_b, insert)
        previous = _dp.fill_block(block, delete[rows], previous, diagonal_flags[rows], left_flags[rows])
    score = float(previous[-1] + insert.sum())

    columns_a, columns_b = _dp.traceback(diagonal_flags, left_flags)
    return score, columns_a, columns_b


def _sequence_dp(
    events: np.ndarray,
    counts_b: np.ndarray,
    count_b: int,
    scoring: ScoringScheme,
    *,
    residues_b: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """:func:`_counts_dp` of one aligned sequence (``events``, shape (L_A,), int64, -1 =
    gap column) against a profile of column counts (shape (L_B, N), ``count_b`` rows).

    Each row of the DP is one of at most N + 1 rows (an event, or a gap column), so the
    cells are formed once per distinct event, not once per row.
    """
    gap = scoring.gap_score
    num_events = scoring.num_events
    length_b = counts_b.shape[0]
    if residues_b is None:
        residues_b = counts_b.sum(axis=1)
    residues_a = (events >= 0).astype(np.float64)
    delete = gap * count_b * residues_a
    insert = gap * 1 * residues_b
    keys = np.where(events >= 0, events, num_events)
    if num_events < events.size:  # a row per event of the alphabet and one for gaps
        used, row_index = np.arange(num_events + 1), keys
    else:  # a large alphabet: only the events of the sequence
        used, row_index = np.unique(keys, return_inverse=True)
    is_event = used < num_events
    table = np.zeros((used.size, length_b))
    table[is_event] = scoring.matrix[used[is_event]] @ counts_b.T
    _add_gap_terms(table, is_event.astype(np.float64), 1, gap * (count_b - residues_b), gap * residues_b, insert)
    diagonal_flags = np.empty((events.size, length_b), dtype=bool)
    left_flags = np.empty((events.size, length_b + 1), dtype=bool)
    last = _dp.fill_indexed_block(
        table, row_index.astype(np.int64), delete, np.zeros(length_b + 1), diagonal_flags, left_flags
    )
    columns_a, columns_b = _dp.traceback(diagonal_flags, left_flags)
    return float(last[-1] + insert.sum()), columns_a, columns_b


def _add_gap_terms(
    block: np.ndarray,
    residues: np.ndarray,
    count_a: int,
    gaps_b_term: np.ndarray,
    gap_residues_b: np.ndarray,
    insert: np.ndarray,
) -> None:
    """Adds the gap pairs of each cell and subtracts the insertion score, in place.

    ``block``: shape (R, L_B), the substitution scores of R columns of A (``residues``
    events each, shape (R,)) against the columns of B.
    """
    if np.any(gaps_b_term) or np.any(gap_residues_b):  # zero without a gap score
        block += np.outer(residues, gaps_b_term)
        block += np.outer(count_a - residues, gap_residues_b)
    block -= insert


def _take_columns(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The rows re-laid on the merged columns (``-1`` column index = all gaps)."""
    if rows.shape[1] == 0:
        return np.full((rows.shape[0], columns.size), GAP, dtype=np.int64)
    taken = rows[:, np.maximum(columns, 0)]
    taken[:, columns < 0] = GAP
    return taken


def _take_counts(counts: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Column counts re-laid on the merged columns (``-1`` column index = zeros)."""
    if counts.shape[0] == 0:
        return np.zeros((columns.size, counts.shape[1]))
    taken = counts[np.maximum(columns, 0)]
    taken[columns < 0] = 0.0
    return taken


def _merge(
    rows_a: np.ndarray, rows_b: np.ndarray, scoring: ScoringScheme
) -> tuple[float, np.ndarray]:
    # The DP loops in Python over the columns of its first profile: give it the shorter.
    if rows_a.shape[1] > rows_b.shape[1]:
        score, columns_b, columns_a = _profile_dp(rows_b, rows_a, scoring)
    else:
        score, columns_a, columns_b = _profile_dp(rows_a, rows_b, scoring)
    merged = np.concatenate([_take_columns(rows_a, columns_a), _take_columns(rows_b, columns_b)])
    return score, merged


@single_blas_thread
def align_profiles(
    first: MultipleAlignment, second: MultipleAlignment, scoring: ScoringScheme
) -> tuple[float, MultipleAlignment]:
    """Aligns two alignments (profiles) to each other.

    Args:
        first: n_A rows.
        second: n_B rows.
        scoring: the scoring scheme.

    Returns:
        ``(score, merged)``: the optimal sum-of-pairs score of the cross pairs (one row
        from each input) and the merged alignment, rows of ``first`` then of
        ``second``. ``merged.sum_of_pairs(scoring)`` equals
        ``first.sum_of_pairs(scoring) + second.sum_of_pairs(scoring) + score`` up to
        rounding.
    """
    rows_a = check_rows(first.rows, num_events=scoring.num_events, name="first.rows")
    rows_b = check_rows(second.rows, num_events=scoring.num_events, name="second.rows")
    score, merged = _merge(rows_a, rows_b, scoring)
    return score, MultipleAlignment(rows=merged)


def _as_sequences(sequences: Sequence[np.ndarray], scoring: ScoringScheme) -> list[np.ndarray]:
    if isinstance(sequences, np.ndarray) and sequences.ndim == 1 and sequences.dtype != object:
        raise ValueError(
            "`sequences` is a single 1-D array; pass a list of sequences, e.g. [sequence]"
        )
    arrays = [
        as_event_array(sequence, num_events=scoring.num_events, name=f"sequences[{index}]")
        for index, sequence in enumerate(sequences)
    ]
    if not arrays:
        raise AlignmentError("no sequences to align; pass at least one event sequence")
    if all(array.size == 0 for array in arrays):
        raise AlignmentError(
            f"all {len(arrays)} sequences are empty; there is nothing to align "
            "(check that the event encoder emits events for the demonstrations)"
        )
    return arrays


def _cross_score(
    events: np.ndarray,
    present: np.ndarray,
    rest_counts: np.ndarray,
    rest_residues: np.ndarray,
    rest_size: int,
    scoring: ScoringScheme,
) -> float:
    """Sum-of-pairs score between one aligned row (its ``events`` at columns ``present``)
    and the other rows (given by their column counts and residues, shape (L, N) and (L,))."""
    # The matrix is symmetric: matrix[event] is the column of scores against event.
    score = float(np.einsum("ij,ij->", rest_counts[present], scoring.matrix[events]))
    if scoring.gap_score:
        gaps_against_events = present.size * rest_size - rest_residues[present].sum()
        events_against_gaps = rest_residues.sum() - rest_residues[present].sum()
        score += scoring.gap_score * float(gaps_against_events + events_against_gaps)
    return score


@single_blas_thread
def refine_alignment(
    rows: np.ndarray, scoring: ScoringScheme, *, passes: int = 1, seconds: float | None = None
) -> np.ndarray:
    """Leave-one-out refinement: realign each row to the others, keep it if SP improves.

    For k = 0 .. n-1, row k is taken out, all-gap columns of the other rows are dropped,
    and the ungapped sequence k is aligned to them by the profile DP. The result is
    kept only when its cross score beats the current one, so the sum-of-pairs score
    never decreases. Repeats for ``passes`` passes or until a pass changes nothing.

    Args:
        rows: shape (n, L), int64, -1 = gap.
        scoring: the scoring scheme.
        passes: the maximum number of passes over all rows (0 = no refinement).
        seconds: stop after the row during which this much wall time has passed (None:
            no bound); the result then depends on the machine's speed.

    Returns:
        shape (n, L'), the refined rows, in the same row order.
    """
    if passes < 0:
        raise ValueError(f"`passes` must be >= 0, got {passes}")
    if seconds is not None and not seconds >= 0:
        raise ValueError(f"`seconds` must be >= 0 or None, got {seconds}")
    deadline = None if seconds is None else time.perf_counter() + seconds
    count = rows.shape[0]
    if count < 2:
        return rows
    rows = rows[:, np.any(rows >= 0, axis=0)]
    counts = column_counts(rows, scoring.num_events).astype(np.float64)
    residues = counts.sum(axis=1)
    # The alignment as the column of each event (row-major): a merge moves the events,
    # not the n x L rows.
    owners, columns = np.nonzero(rows >= 0)
    events = rows[owners, columns]
    bounds = np.searchsorted(owners, np.arange(count + 1))
    length = rows.shape[1]
    for _ in range(passes):
        changed = False
        for k in range(count):
            if deadline is not None and time.perf_counter() >= deadline:
                break
            span = slice(bounds[k], bounds[k + 1])
            present, sequence = columns[span], events[span]
            # Counts of the other rows: remove row k's events from the column counts.
            counts[present, sequence] -= 1.0
            residues[present] -= 1.0
            current = _cross_score(sequence, present, counts, residues, count - 1, scoring)
            keep = residues > 0
            rest_counts, rest_residues = counts[keep], residues[keep]
            score, columns_single, columns_rest = _sequence_dp(sequence, rest_counts, count - 1, scoring, residues_b=rest_residues)
            if score > current + 1e-9 * max(1.0, abs(current)):
                # The other rows' events move to the new columns; row k's are laid anew.
                landing = np.full(length, GAP)
                landing[keep] = np.flatnonzero(columns_rest >= 0)
                columns = landing[columns]
                present = columns[span] = np.flatnonzero(columns_single >= 0)
                counts = _take_counts(rest_counts, columns_rest)
                residues = _take_counts(rest_residues[:, None], columns_rest)[:, 0]
                length = columns_rest.size
                changed = True
            counts[present, sequence] += 1.0
            residues[present] += 1.0
        if not changed or (deadline is not None and time.perf_counter() >= deadline):
            break
    rows = np.full((count, length), GAP, dtype=np.int64)
    rows[owners, columns] = events
    return rows


@single_blas_thread
def align_sequences(
    sequences: Sequence[np.ndarray],
    scoring: ScoringScheme,
    *,
    guide_tree: Literal["upgma", "nj"] | GuideTree = "upgma",
    refine_passes: int = 1,
    method: Literal["auto", "exact", "kmer"] = "auto",
    refine_seconds: float | None = None,
) -> MultipleAlignment:
    """Progressive multiple alignment (see the module docstring), then refinement.

    Empty sequences among non-empty ones are allowed: their rows are all gaps.

    Args:
        sequences: n event sequences, each shape (K_i,), ids in ``[0, N)``.
        scoring: the scoring scheme (N events).
        guide_tree: ``"upgma"``, ``"nj"`` (neighbor joining), or a ready
            :class:`GuideTree` with n leaves. The k-mer path builds its own tree unless
            a :class:`GuideTree` is given.
        refine_passes: passes of leave-one-out refinement after the progressive
            stage (:func:`refine_alignment`); 0 keeps the progressive alignment.
        method: ``"exact"`` (guide tree from all n^2 pairwise alignment scores),
            ``"kmer"`` (k-mer guide tree and count profiles, for many sequences), or
            ``"auto"``: ``"kmer"`` above :data:`LARGE_ALIGNMENT` sequences.
        refine_seconds: a wall-time bound of the refinement (None: none). The k-mer
            path refines only when it is given (refinement is quadratic in n).

    Returns:
        The alignment; row k holds sequence k; :attr:`MultipleAlignment.method` says
        which path made it.

    Raises:
        AlignmentError: no sequences, or all of them empty.
        ValueError: an id lies outside ``[0, N)``, or a bad ``guide_tree`` or ``method``.
    """
    arrays = _as_sequences(sequences, scoring)
    count = len(arrays)
    if method not in ("auto", "exact", "kmer"):
        raise ValueError(f"`method` must be 'auto', 'exact' or 'kmer', got {method!r}")
    if not isinstance(guide_tree, GuideTree) and guide_tree not in ("upgma", "nj"):
        raise ValueError(f"`guide_tree` must be 'upgma', 'nj' or a GuideTree, got {guide_tree!r}")
    if isinstance(guide_tree, GuideTree) and guide_tree.num_leaves != count:
        raise ValueError(
            f"`guide_tree` has {guide_tree.num_leaves} leaves but there are {count} sequences"
        )
    chosen = method if method != "auto" else ("kmer" if count > LARGE_ALIGNMENT else "exact")
    if chosen == "kmer":
        tree = guide_tree if isinstance(guide_tree, GuideTree) else kmer_guide_tree(arrays, scoring.num_events)
        rows = _progressive_counts(arrays, tree, scoring)
        if refine_seconds is not None:
            rows = refine_alignment(rows, scoring, passes=refine_passes, seconds=refine_seconds)
        return MultipleAlignment(rows=rows, method="kmer")
    if isinstance(guide_tree, GuideTree):
        tree = guide_tree
    elif count == 1:
        tree = GuideTree(num_leaves=1, merges=np.zeros((0, 2)), branch_lengths=np.zeros((0, 2)))
    else:
        distances = distances_from_scores(pairwise_scores(arrays, scoring))
        tree = upgma(distances) if guide_tree == "upgma" else neighbor_joining(distances)

    ordered = _progressive_counts(arrays, tree, scoring)
    refined = refine_alignment(ordered, scoring, passes=refine_passes, seconds=refine_seconds)
    return MultipleAlignment(rows=refined, method="exact")


def _progressive_counts(arrays: list[np.ndarray], tree: GuideTree, scoring: ScoringScheme) -> np.ndarray:
    """Progressive alignment along ``tree`` with profiles kept as column counts.

    The same DP as the exact path (:func:`_counts_dp`), so for the same tree it gives the
    same alignment; only the column maps of each merge are kept, and the rows are laid
    out once at the end, top-down.

    Returns:
        shape (n, L), int64, -1 = gap; row k holds sequence k.
    """
    count = len(arrays)
    num_events = scoring.num_events
    eye = np.eye(num_events)
    profiles: dict[int, tuple[np.ndarray, int]] = {index: (eye[array], 1) for index, array in enumerate(arrays)}
    maps: list[tuple[np.ndarray, np.ndarray]] = []
    for k, (left, right) in enumerate(tree.merges):
        counts_left, size_left = profiles.pop(int(left))
        counts_right, size_right = profiles.pop(int(right))
        # The DP loops over the columns of its first profile: give it the shorter.
        if counts_left.shape[0] > counts_right.shape[0]:
            _, columns_right, columns_left = _counts_dp(counts_right, size_right, counts_left, size_left, scoring)
        else:
            _, columns_left, columns_right = _counts_dp(counts_left, size_left, counts_right, size_right, scoring)
        merged = _take_counts(counts_left, columns_left) + _take_counts(counts_right, columns_right)
        profiles[count + k] = (merged, size_left + size_right)
        maps.append((columns_left, columns_right))
    ((root_counts, _),) = profiles.values()
    length = root_counts.shape[0]
    # Where each node's columns land in the final alignment, from the root down.
    where: dict[int, np.ndarray] = {tree.root: np.arange(length)}
    for k in range(len(maps) - 1, -1, -1):
        node_columns = where.pop(count + k)
        left, right = (int(node) for node in tree.merges[k])
        columns_left, columns_right = maps[k]
        where[left] = node_columns[columns_left >= 0]
        where[right] = node_columns[columns_right >= 0]
    rows = np.full((count, length), GAP, dtype=np.int64)
    for index, array in enumerate(arrays):
        rows[index, where[index]] = array
    return rows


@single_blas_thread
def align_to_profile(
    alignment: MultipleAlignment, sequence: np.ndarray, scoring: ScoringScheme
) -> MultipleAlignment:
    """Adds one sequence to an existing alignment (profile-sequence alignment).

    The existing columns stay together; new all-gap columns may be inserted where the
    sequence has events that match no column.

    Args:
        alignment: the existing alignment, n rows.
        sequence: shape (K,), event ids in ``[0, N)`` (may be empty).
        scoring: the scoring scheme (N events).

    Returns:
        An alignment of n + 1 rows; the new sequence is the last row.
    """
    rows = check_rows(alignment.rows, num_events=scoring.num_events, name="alignment.rows")
    array = as_event_array(sequence, num_events=scoring.num_events, name="sequence")
    _, merged = _merge(rows, array[None, :], scoring)
    return MultipleAlignment(rows=merged)
