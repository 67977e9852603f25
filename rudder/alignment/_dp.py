"""The inner loops of the alignment: pairwise scores and the profile-profile DP, in numpy and (optionally) compiled.

:func:`fill_block` fills the rows of one block of the DP (see
:mod:`rudder.alignment.msa` for the recurrence) and :func:`traceback` follows the
flags back; :func:`fill_indexed_block` fills a block whose rows are rows of a smaller
table (a profile of one sequence: one row per event), without forming the block; the
numpy and compiled versions agree exactly.
:func:`pairwise_scores_compiled` scores many global pairwise alignments at once, one
sequence against a tile of 32 others in the SIMD lanes.
The compiled loops are used when ``numba`` is installed (``pip install
"align-rudder[fast]"``); they remove the per-row Python overhead that dominates small
alignments. Their first call compiles them once (cached on disk).
"""

from __future__ import annotations

import numpy as np


def fill_block_numpy(
    block: np.ndarray,
    delete: np.ndarray,
    previous: np.ndarray,
    diagonal_flags: np.ndarray,
    left_flags: np.ndarray,
) -> np.ndarray:
    """Fills the DP rows of one block; returns the last finished row.

    Args:
        block: shape (R, L_B): substitution minus insertion score of each cell;
            overwritten with the diagonal candidates.
        delete: shape (R,): score of a column of A against a new gap column of B.
        previous: shape (L_B + 1,): the finished row before the block.
        diagonal_flags: shape (R, L_B), bool, filled: the diagonal move won (ties go
            to the diagonal).
        left_flags: shape (R, L_B + 1), bool, filled: the left move won.

    Returns:
        shape (L_B + 1,): the last finished row of the block.
    """
    num_rows, length_b = block.shape
    after = np.empty((num_rows + 1, length_b + 1))
    before = np.empty((num_rows, length_b + 1))
    after[0] = previous
    up = np.empty(length_b + 1)
    with_gaps = bool(np.any(delete != 0.0))
    for row in range(num_rows):
        last = after[row]
        if with_gaps:
            np.add(last, delete[row], out=up)
        else:
            up = last
        diagonal = block[row]
        np.add(last[:-1], diagonal, out=diagonal)
        current = before[row]
        current[0] = up[0]
        np.maximum(up[1:], diagonal, out=current[1:])
        np.maximum.accumulate(current, out=after[row + 1])
    diagonal_flags[:] = before[:, 1:] == block
    left_flags[:] = before < after[1:]
    return after[-1].copy()


def _fill_block_loops(block, delete, previous, diagonal_flags, left_flags):  # pragma: no cover - compiled
    num_rows, length_b = block.shape
    last = previous.copy()
    current = np.empty(length_b + 1)
    for row in range(num_rows):
        gap = delete[row]
        running = last[0] + gap
        current[0] = running
        left_flags[row, 0] = False
        for j in range(1, length_b + 1):
            up = last[j] + gap
            diagonal = last[j - 1] + block[row, j - 1]
            # Branch-free (selects): the moves are data-dependent and mispredict.
            takes_diagonal = diagonal >= up
            best = diagonal if takes_diagonal else up
            diagonal_flags[row, j - 1] = takes_diagonal
            takes_left = running > best
            left_flags[row, j] = takes_left
            running = running if takes_left else best
            current[j] = running
        last, current = current, last
    return last


def fill_indexed_block_numpy(
    table: np.ndarray,
    row_index: np.ndarray,
    delete: np.ndarray,
    previous: np.ndarray,
    diagonal_flags: np.ndarray,
    left_flags: np.ndarray,
) -> np.ndarray:
    """:func:`fill_block_numpy` on the block ``table[row_index]``.

    Args:
        table: shape (T, L_B): cells (substitution minus insertion score) of the
            distinct rows; a profile of one sequence has one row per event and one
            for a gap column, so its block need not be formed.
        row_index: shape (R,), int64: the row of ``table`` of each row of the block.
        delete: shape (R,): see :func:`fill_block_numpy`.
        previous: shape (L_B + 1,): see :func:`fill_block_numpy`.
        diagonal_flags: shape (R, L_B), bool, filled.
        left_flags: shape (R, L_B + 1), bool, filled.

    Returns:
        shape (L_B + 1,): the last finished row of the block.
    """
    return fill_block_numpy(table[row_index], delete, previous, diagonal_flags, left_flags)


def _fill_indexed_block_loops(table, row_index, delete, previous, diagonal_flags, left_flags):  # pragma: no cover - compiled
    num_rows = row_index.shape[0]
    length_b = table.shape[1]
    last = previous.copy()
    current = np.empty(length_b + 1)
    for row in range(num_rows):
        cells = table[row_index[row]]
        gap = delete[row]
        running = last[0] + gap
        current[0] = running
        left_flags[row, 0] = False
        for j in range(1, length_b + 1):
            up = last[j] + gap
            diagonal = last[j - 1] + cells[j - 1]
            # Branch-free (selects): the moves are data-dependent and mispredict.
            takes_diagonal = diagonal >= up
            best = diagonal if takes_diagonal else up
            diagonal_flags[row, j - 1] = takes_diagonal
            takes_left = running > best
            left_flags[row, j] = takes_left
            running = running if takes_left else best
            current[j] = running
        last, current = current, last
    return last


#: SIMD lanes of the compiled pairwise scores: one sequence against this many at once.
PAIRWISE_LANES = 32


def _pairwise_loops(padded, lengths, matrix, gap, scores):  # pragma: no cover - compiled
    """Needleman-Wunsch scores (linear gaps) of all pairs i <= k, into ``scores`` (both halves).

    ``padded``: shape (n, W), int64, sequence k in ``padded[k, :lengths[k]]``. The
    sequences k are taken in tiles of :data:`PAIRWISE_LANES`; each sequence i <= the tile's
    last is aligned to the whole tile at once, the tile's lanes innermost (SIMD). A
    lane's score is read at its own length: cells beyond it never reach that cell.
    """
    count, width = padded.shape
    num_events = matrix.shape[0]
    lanes = PAIRWISE_LANES
    previous = np.empty((width + 1, lanes))
    current = np.empty((width + 1, lanes))
    # profile[e, j, lane]: score of event e against position j of the lane's sequence.
    profile = np.zeros((num_events, max(width, 1), lanes))
    for start in range(0, count, lanes):
        stop = min(start + lanes, count)
        tile_width = 0
        for k in range(start, stop):
            tile_width = max(tile_width, lengths[k])
        for event in range(num_events):
            for j in range(tile_width):
                for k in range(start, stop):
                    profile[event, j, k - start] = matrix[event, padded[k, j]]
        for i in range(stop):
            for j in range(tile_width + 1):
                edge = j * gap
                for lane in range(lanes):
                    previous[j, lane] = edge
            for row in range(1, lengths[i] + 1):
                weights = profile[padded[i, row - 1]]
                edge = row * gap
                for lane in range(lanes):
                    current[0, lane] = edge
                for j in range(1, tile_width + 1):
                    scores_j = weights[j - 1]
                    diagonal_from = previous[j - 1]
                    up_from = previous[j]
                    left_from = current[j - 1]
                    into = current[j]
                    for lane in range(lanes):
                        diagonal = diagonal_from[lane] + scores_j[lane]
                        up = up_from[lane] + gap
                        left = left_from[lane] + gap
                        best = diagonal if diagonal >= up else up
                        into[lane] = best if best >= left else left
                previous, current = current, previous
            for k in range(max(start, i), stop):
                value = previous[lengths[k], k - start]
                scores[i, k] = value
                scores[k, i] = value
    return scores


#: Traceback moves: a new gap column in A (left), both columns (diagonal), a gap in B (up).
_LEFT, _DIAGONAL, _UP = 0, 1, 2
GAP = -1


def traceback_numpy(diagonal_flags: np.ndarray, left_flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The optimal path from the traceback flags, as column maps.

    Args:
        diagonal_flags: shape (L_A, L_B), bool.
        left_flags: shape (L_A, L_B + 1), bool.

    Returns:
        ``(columns_a, columns_b)``: int64, one entry per merged column: the column of A
        and of B it takes (-1: a new all-gap column).
    """
    length_a, length_b = diagonal_flags.shape
    # One byte per cell: plain bytes indexing is far cheaper in the Python loop than
    # numpy scalar indexing; the column maps follow from the moves.
    codes = np.full((length_a + 1, length_b + 1), _LEFT, dtype=np.uint8)
    codes[1:] = np.where(left_flags, _LEFT, _UP)
    codes[1:, 1:][~left_flags[:, 1:] & diagonal_flags] = _DIAGONAL
    table = codes.tobytes()
    width = length_b + 1
    moves = bytearray()
    i, j = length_a, length_b
    while i or j:
        move = table[i * width + j]
        moves.append(move)
        if move == _LEFT:
            j -= 1
        elif move == _DIAGONAL:
            i -= 1
            j -= 1
        else:
            i -= 1
    path = np.frombuffer(bytes(moves[::-1]), dtype=np.uint8)
    takes_a = path != _LEFT
    takes_b = path != _UP
    columns_a = np.where(takes_a, np.cumsum(takes_a) - 1, GAP).astype(np.int64)
    columns_b = np.where(takes_b, np.cumsum(takes_b) - 1, GAP).astype(np.int64)
    return columns_a, columns_b


def _traceback_loops(diagonal_flags, left_flags):  # pragma: no cover - compiled
    length_a, length_b = diagonal_flags.shape
    columns_a = np.empty(length_a + length_b, dtype=np.int64)
    columns_b = np.empty(length_a + length_b, dtype=np.int64)
    count = 0
    i, j = length_a, length_b
    while i > 0 or j > 0:
        if i == 0 or left_flags[i - 1, j]:
            j -= 1
            columns_a[count] = -1
            columns_b[count] = j
        elif j > 0 and diagonal_flags[i - 1, j - 1]:
            i -= 1
            j -= 1
            columns_a[count] = i
            columns_b[count] = j
        else:
            i -= 1
            columns_a[count] = i
            columns_b[count] = -1
        count += 1
    return columns_a[:count][::-1].copy(), columns_b[:count][::-1].copy()


def fill_block(block, delete, previous, diagonal_flags, left_flags) -> np.ndarray:
    """:func:`fill_block_numpy`, or its compiled twin when numba is installed."""
    if fill_block_compiled is not None:
        return fill_block_compiled(block, delete, previous, diagonal_flags, left_flags)
    return fill_block_numpy(block, delete, previous, diagonal_flags, left_flags)


def fill_indexed_block(table, row_index, delete, previous, diagonal_flags, left_flags) -> np.ndarray:
    """:func:`fill_indexed_block_numpy`, or its compiled twin when numba is installed."""
    if fill_indexed_block_compiled is not None:
        return fill_indexed_block_compiled(table, row_index, delete, previous, diagonal_flags, left_flags)
    return fill_indexed_block_numpy(table, row_index, delete, previous, diagonal_flags, left_flags)


def traceback(diagonal_flags: np.ndarray, left_flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`traceback_numpy`, or its compiled twin when numba is installed."""
    if traceback_compiled is not None:
        return traceback_compiled(diagonal_flags, left_flags)
    return traceback_numpy(diagonal_flags, left_flags)


try:
    import numba
except ImportError:  # the numpy loops serve without the optional accelerator
    fill_block_compiled = traceback_compiled = fill_indexed_block_compiled = pairwise_scores_compiled = None
else:
    fill_block_compiled = numba.njit(cache=True, nogil=True)(_fill_block_loops)
    fill_indexed_block_compiled = numba.njit(cache=True, nogil=True)(_fill_indexed_block_loops)
    pairwise_scores_compiled = numba.njit(cache=True, nogil=True)(_pairwise_loops)
    traceback_compiled = numba.njit(cache=True, nogil=True)(_traceback_loops)
