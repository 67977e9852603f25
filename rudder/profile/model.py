"""The profile model: a position-specific scoring matrix over the alignment columns, and
the incremental prefix scorers of episodes against it (one episode, or a batch of
episodes updated together for vectorised environments)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

__all__ = [
    "BatchPrefixScorer",
    "ConsensusColumn",
    "PrefixScorer",
    "ProfileModel",
    "consensus_items",
    "format_consensus",
]


def format_consensus(names: Sequence[str]) -> str:
    """The consensus event names, runs of one name counted, as the paper writes them.

    Args:
        names: the event names of the consensus columns, in column order.

    Returns:
        For example ``"7× log, 5× planks, crafting_table"``; ``""`` when ``names`` is empty.

    Example:
        >>> format_consensus(["log", "log", "planks", "crafting_table", "log"])
        '2× log, planks, crafting_table, log'
    """
    parts: list[str] = []
    start = 0
    while start < len(names):
        end = start + 1
        while end < len(names) and names[end] == names[start]:
            end += 1
        count = end - start
        parts.append(f"{count}× {names[start]}" if count > 1 else str(names[start]))
        start = end
    return ", ".join(parts)


def consensus_items(names: Sequence[str]) -> list[str]:
    """The distinct names of a consensus, in the order of their first occurrence.

    For an inventory encoder the names are items, so this is the order in which the
    demonstrations obtain them (the item chain the profile found).

    Args:
        names: the event names of the consensus columns, in column order.

    Returns:
        Each name once, where it first occurs.

    Example:
        >>> consensus_items(["log", "log", "planks", "crafting_table", "log"])
        ['log', 'planks', 'crafting_table']
    """
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


@dataclasses.dataclass(frozen=True)
class ConsensusColumn:
    """One sub-goal of the profile: a column whose most frequent event is common enough.

    Attributes:
        column: index of the alignment column.
        event: the most frequent event id in that column.
        fraction: the share of aligned sequences that have ``event`` in that column.
    """

    column: int
    event: int
    fraction: float


@dataclasses.dataclass(frozen=True, eq=False)
class ProfileModel:
    """A profile of aligned demonstrations (Align-RUDDER, arXiv 2009.14108).

    The score of event k in column c is the log-odds of the column's event frequency
    against a fixed background (the event frequencies of the demonstrations), with
    pseudocounts, counting gaps in the denominator so that a column filled by few
    sequences scores lower:

        f_c(k) = (count_c(k) + beta * background_k) / (num_sequences + beta)
        scores[c, k] = ln(f_c(k) / background_k)

    An event whose background frequency is 0 (never seen in the demonstrations) gets the
    lowest possible match score, ln(beta / (num_sequences + beta)), in every column: it
    scores as a mismatch.

    Attributes:
        scores: shape (L, N), float64: the PSSM.
        column_counts: shape (L, N), int64: event counts per alignment column.
        background: shape (N,), float64: background event frequencies (sums to 1).
        num_sequences: number of aligned sequences.
        pseudocount: beta above.
        insert_score: score of an episode event that matches no profile column.
        delete_score: score of a profile column skipped by an episode.
        consensus_threshold: share of sequences the most frequent event of a column must
            reach for the column to be a sub-goal (paper: 0.8).
        delete_by_occupancy: skipping column c costs ``delete_score`` times the share of
            sequences that have an event in c (:attr:`column_delete_scores`), as a profile
            HMM's delete probabilities do: skipping a sub-goal costs the full score,
            skipping a column that one demonstration's detour made costs almost nothing.
            With a constant cost, an episode that leaves out such detours cannot advance
            past them, and the reward of its next sub-goals moves to a later event.
        column_delete_scores: shape (L,), float64 (derived): the cost of skipping each
            column.
    """

    scores: np.ndarray
    column_counts: np.ndarray
    background: np.ndarray
    num_sequences: int
    pseudocount: float = 1.0
    insert_score: float = 0.0
    delete_score: float = 0.0
    consensus_threshold: float = 0.8
    delete_by_occupancy: bool = False

    def __post_init__(self) -> None:
        scores = np.asarray(self.scores, dtype=np.float64)
        counts = np.asarray(self.column_counts, dtype=np.int64)
        background = np.asarray(self.background, dtype=np.float64)
        if scores.ndim != 2 or counts.shape != scores.shape:
            raise ValueError(
                f"`scores` {scores.shape} and `column_counts` {counts.shape} must both be (L, N)"
            )
        if background.shape != (scores.shape[1],):
            raise ValueError(f"`background` must have shape ({scores.shape[1]},), got {background.shape}")
        if not np.all(np.isfinite(scores)):
            raise ValueError("`scores` must be finite")
        if self.insert_score > 0 or self.delete_score > 0:
            # A positive gap score would let an episode earn reward by doing nothing useful.
            raise ValueError(
                f"`insert_score` and `delete_score` must be <= 0, got {self.insert_score} "
                f"and {self.delete_score}"
            )
        if not 0.0 < self.consensus_threshold <= 1.0:
            raise ValueError(f"`consensus_threshold` must be in (0, 1], got {self.consensus_threshold}")
        for name, array in (("scores", scores), ("column_counts", counts), ("background", background)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "num_sequences", int(self.num_sequences))
        # The score of an event outside the alphabet or never seen: the match floor.
        floor = float(np.log(self.pseudocount / (self.num_sequences + self.pseudocount)))
        object.__setattr__(self, "mismatch_score", floor)
        # Columns of `scores` made contiguous for the per-event hot path.
        object.__setattr__(self, "_event_columns", np.ascontiguousarray(scores.T))
        deletes = np.full(scores.shape[0], float(self.delete_score))
        if self.delete_by_occupancy and self.num_sequences > 0:
            deletes *= counts.sum(axis=1) / self.num_sequences
        deletes.setflags(write=False)
        object.__setattr__(self, "column_delete_scores", deletes)

    @classmethod
    def from_alignment(
        cls,
        rows: np.ndarray,
        num_events: int,
        *,
        background: np.ndarray,
        pseudocount: float = 1.0,
        insert_score: float = 0.0,
        delete_score: float = 0.0,
        consensus_threshold: float = 0.8,
        delete_by_occupancy: bool = False,
    ) -> ProfileModel:
        """Builds the PSSM from the rows of a multiple alignment.

        Args:
            rows: shape (n, L), int: aligned event ids, -1 for gaps.
            num_events: alphabet size N.
            background: shape (N,): event frequencies of the demonstrations.
            pseudocount: beta, the weight of the background in each column (> 0).
            insert_score: see the class docstring.
            delete_score: see the class docstring.
            consensus_threshold: see the class docstring.
            delete_by_occupancy: see the class docstring.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] == 0:
            raise ValueError(f"`rows` must be a non-empty (n, L) alignment, got shape {rows.shape}")
        if np.any((rows < -1) | (rows >= num_events)):
            raise ValueError(f"alignment rows hold ids outside [-1, {num_events})")
        if pseudocount <= 0:
            # Without pseudocounts an event absent from a column would score -inf.
            raise ValueError(f"`pseudocount` must be > 0, got {pseudocount}")
        background = np.asarray(background, dtype=np.float64)
        if background.shape != (num_events,) or np.any(background < 0) or background.sum() <= 0:
            raise ValueError(
                f"`background` must be {num_events} non-negative frequencies, got shape {background.shape}"
            )
        background = background / background.sum()
        num_sequences = rows.shape[0]
        length = rows.shape[1]
        counts = np.zeros((length, num_events), dtype=np.int64)
        present = rows >= 0
        np.add.at(counts, (np.nonzero(present)[1], rows[present]), 1)
        floor = np.log(pseudocount / (num_sequences + pseudocount))
        seen = background > 0
        scores = np.full((length, num_events), floor)
        frequencies = (counts[:, seen] + pseudocount * background[seen]) / (num_sequences + pseudocount)
        scores[:, seen] = np.log(frequencies / background[seen])
        return cls(
            scores=scores,
            column_counts=counts,
            background=background,
            num_sequences=num_sequences,
            pseudocount=pseudocount,
            insert_score=insert_score,
            delete_score=delete_score,
            consensus_threshold=consensus_threshold,
            delete_by_occupancy=delete_by_occupancy,
        )

    @property
    def length(self) -> int:
        """Number of profile columns L."""
        return int(self.scores.shape[0])

    @property
    def num_events(self) -> int:
        """Alphabet size N."""
        return int(self.scores.shape[1])

    def event_scores(self, event: int) -> np.ndarray:
        """Shape (L,): the score of ``event`` in every column (the floor if unknown)."""
        if 0 <= event < self.num_events:
            return self._event_columns[event]  # type: ignore[attr-defined]
        return np.full(self.length, self.mismatch_score)  # type: ignore[attr-defined]

    @property
    def consensus(self) -> list[ConsensusColumn]:
        """The sub-goals: columns whose most frequent event reaches the threshold."""
        top = np.argmax(self.column_counts, axis=1)
        fractions = self.column_counts[np.arange(self.length), top] / self.num_sequences
        return [
            ConsensusColumn(column=int(c), event=int(top[c]), fraction=float(fractions[c]))
            for c in np.flatnonzero(fractions >= self.consensus_threshold - 1e-12)
        ]

    def score(self, events: Sequence[int] | np.ndarray) -> float:
        """Best score of aligning all of ``events`` to a prefix of the profile."""
        scorer = self.prefix_scorer()
        for event in events:
            scorer.add(int(event))
        return scorer.score

    def prefix_scorer(self) -> PrefixScorer:
        """A fresh incremental scorer for one episode."""
        return PrefixScorer(self)

    def batch_prefix_scorer(self, count: int) -> BatchPrefixScorer:
        """Fresh incremental scorers for ``count`` episodes at once (vectorised envs)."""
        return BatchPrefixScorer(self, count)


class PrefixScorer:
    """Incremental score of an event prefix against a profile, O(L) per event.

    Keeps one dynamic-programming column: ``best[j]`` is the best score of aligning all
    events so far to the first j profile columns (global in the events, free end gap in
    the profile). A new event e updates it as

        best'[0] = best[0] + insert
        best'[j] = max(best[j-1] + scores[j-1, e], best[j] + insert, best'[j-1] + delete[j-1])

    with ``delete[c]`` the cost of skipping column c (:attr:`ProfileModel.column_delete_scores`).

    and the prefix score is S = max_j best[j]. Nothing is computed between events.

    Attributes:
        score: the current prefix score S.
        position: profile columns covered by the best alignment of the prefix (the
            first j where ``best[j]`` reaches S): the episode's progress along the profile.
        num_events_seen: events added since the last reset.
    """

    __slots__ = ("profile", "_best", "_ramp", "_has_deletes", "_insert", "score", "position", "num_events_seen")

    def __init__(self, profile: ProfileModel) -> None:
        self.profile = profile
        deletes = profile.column_delete_scores  # type: ignore[attr-defined]
        self._has_deletes = bool(np.any(deletes != 0.0))
        self._insert = profile.insert_score
        # ramp[j]: the cost of skipping columns 0 .. j-1.
        self._ramp = np.concatenate([[0.0], np.cumsum(deletes)])
        self.reset()

    def reset(self) -> None:
        """Forgets all events (a new episode)."""
        self._best = self._ramp.copy()
        self.position = int(np.argmax(self._best))
        self.score = float(self._best[self.position])
        self.num_events_seen = 0

    def add(self, event: int) -> float:
        """Appends one event; returns the new prefix score."""
        best = self._best
        updated = np.empty_like(best)
        updated[0] = best[0] + self._insert
        np.maximum(best[:-1] + self.profile.event_scores(event), best[1:] + self._insert, out=updated[1:])
        if not self._has_deletes:
            np.maximum.accumulate(updated, out=updated)
        else:
            updated -= self._ramp
            np.maximum.accumulate(updated, out=updated)
            updated += self._ramp
        self._best = updated
        self.position = int(updated.argmax())
        self.score = float(updated[self.position])
        self.num_events_seen += 1
        return self.score

    @property
    def dp_column(self) -> np.ndarray:
        """Shape (L+1,): a copy of the current dynamic-programming column."""
        return self._best.copy()


class BatchPrefixScorer:
    """:class:`PrefixScorer` for ``count`` episodes at once, one row of DP per episode.

    :meth:`add` appends one event to each of several episodes in one numpy update;
    every row follows exactly the arithmetic of :class:`PrefixScorer` (the same
    operations in the same order), so its scores and positions equal the per-episode
    scorer's bit for bit.

    Attributes:
        scores: shape (count,), float64: the current prefix score S of each episode.
        positions: shape (count,), int64: the profile columns covered by each episode.
        num_events_seen: shape (count,), int64: events added since each row's reset.
    """

    __slots__ = ("profile", "_best", "_ramp", "_has_deletes", "_insert", "_table", "scores", "positions", "num_events_seen")

    def __init__(self, profile: ProfileModel, count: int) -> None:
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"`count` must be a positive int (the number of episodes), got {count!r}")
        self.profile = profile
        deletes = profile.column_delete_scores  # type: ignore[attr-defined]
        self._has_deletes = bool(np.any(deletes != 0.0))
        self._insert = float(profile.insert_score)
        self._ramp = np.concatenate([[0.0], np.cumsum(deletes)])
        # Row e: the scores of event e in every column; the last row is the floor that
        # events outside the alphabet get.
        table = np.empty((profile.num_events + 1, profile.length))
        table[:-1] = profile.scores.T
        table[-1] = profile.mismatch_score  # type: ignore[attr-defined]
        self._table = table
        self._best = np.empty((int(count), profile.length + 1))
        self.scores = np.empty(int(count))
        self.positions = np.empty(int(count), dtype=np.int64)
        self.num_events_seen = np.zeros(int(count), dtype=np.int64)
        self.reset()

    @property
    def count(self) -> int:
        """The number of episodes (rows)."""
        return int(self._best.shape[0])

    def reset(self, rows: np.ndarray | None = None) -> None:
        """Forgets all events of the given rows (all rows when ``rows`` is None).

        Args:
            rows: shape (k,), int or bool mask of shape (count,): the episodes to restart.
        """
        selected = slice(None) if rows is None else rows
        self._best[selected] = self._ramp
        position = int(np.argmax(self._ramp))
        self.positions[selected] = position
        self.scores[selected] = self._ramp[position]
        self.num_events_seen[selected] = 0

    def add(self, rows: np.ndarray, events: np.ndarray) -> None:
        """Appends ``events[k]`` to episode ``rows[k]`` for every k in one update.

        Args:
            rows: shape (k,), int64, distinct row indices.
            events: shape (k,), int: the event of each of those rows (ids outside
                ``[0, N)`` score the mismatch floor, as in :class:`PrefixScorer`).
        """
        rows = np.asarray(rows, dtype=np.int64)
        events = np.asarray(events, dtype=np.int64)
        if rows.size == 0:
            return
        num_events = self._table.shape[0] - 1
        outside = (events < 0) | (events >= num_events)
        if outside.any():
            events = np.where(outside, num_events, events)
        best = self._best[rows]
        updated = np.empty_like(best)
        updated[:, 0] = best[:, 0] + self._insert
        np.maximum(best[:, :-1] + self._table[events], best[:, 1:] + self._insert, out=updated[:, 1:])
        if self._has_deletes:
            updated -= self._ramp
            np.maximum.accumulate(updated, axis=1, out=updated)
            updated += self._ramp
        else:
            np.maximum.accumulate(updated, axis=1, out=updated)
        self._best[rows] = updated
        positions = updated.argmax(axis=1)
        self.positions[rows] = positions
        self.scores[rows] = updated[np.arange(rows.size), positions]
        self.num_events_seen[rows] += 1

    def add_in_order(self, rows: np.ndarray, events: np.ndarray) -> None:
        """Appends ``events[k]`` to episode ``rows[k]`` for k = 0, 1, ... in order; a row
        may repeat (several events of one step). One compiled call when numba is
        installed, else one :meth:`add` per rank of repetition.

        Args:
            rows: shape (k,), int64.
            events: shape (k,), int64.
        """
        rows = np.asarray(rows, dtype=np.int64)
        events = np.asarray(events, dtype=np.int64)
        if _add_in_order_compiled is not None:
            _add_in_order_compiled(
                self._best, self._ramp, self._table, self._insert, self._has_deletes,
                rows, events, self.scores, self.positions, self.num_events_seen,
            )
            return
        remaining = np.arange(rows.size)
        while remaining.size:
            # The first occurrence of each row among the remaining events goes now.
            _, first = np.unique(rows[remaining], return_index=True)
            now = remaining[np.sort(first)]
            self.add(rows[now], events[now])
            remaining = np.setdiff1d(remaining, now, assume_unique=True)

    def dp_columns(self) -> np.ndarray:
        """Shape (count, L+1): a copy of every row's dynamic-programming column."""
        return self._best.copy()


def _add_in_order_loops(best, ramp, table, insert, has_deletes, rows, events, scores, positions, seen):  # pragma: no cover - compiled
    width = best.shape[1]
    updated = np.empty(width)
    outside = table.shape[0] - 1
    for k in range(rows.size):
        row = rows[k]
        event = events[k]
        if event < 0 or event >= outside:
            event = outside
        updated[0] = best[row, 0] + insert
        for j in range(1, width):
            diagonal = best[row, j - 1] + table[event, j - 1]
            stay = best[row, j] + insert
            updated[j] = diagonal if diagonal >= stay else stay
        if has_deletes:
            for j in range(width):
                updated[j] -= ramp[j]
        running = updated[0]
        for j in range(1, width):
            if updated[j] < running:
                updated[j] = running
            else:
                running = updated[j]
        if has_deletes:
            for j in range(width):
                updated[j] += ramp[j]
        position = 0
        for j in range(width):
            best[row, j] = updated[j]
            if updated[j] > updated[position]:
                position = j
        positions[row] = position
        scores[row] = updated[position]
        seen[row] += 1


try:
    import numba
except ImportError:  # numpy serves without the optional accelerator
    _add_in_order_compiled = None
else:
    _add_in_order_compiled = numba.njit(cache=True, nogil=True)(_add_in_order_loops)
