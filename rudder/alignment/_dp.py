"""The inner loop of the profile-profile DP, in numpy and (optionally) compiled.

Both functions fill the rows of one block of the DP (see :func:`rudder.alignment.msa`
for the recurrence) and agree exactly: the same scores and the same traceback flags.
The compiled one is used when ``numba`` is installed (``pip install
"align-rudder[fast]"``); it removes the per-row Python overhead that dominates small
alignments. Its first call compiles it once (cached on disk).
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
            if diagonal >= up:
                best = diagonal
                diagonal_flags[row, j - 1] = True
            else:
                best = up
                diagonal_flags[row, j - 1] = False
            if running > best:
                left_flags[row, j] = True
            else:
                left_flags[row, j] = False
                running = best
            current[j] = running
        last, current = current, last
    return last


try:
    import numba
except ImportError:  # the numpy loop serves without the optional accelerator
    fill_block_compiled = None
else:
    fill_block_compiled = numba.njit(cache=True, nogil=True)(_fill_block_loops)


def fill_block(block, delete, previous, diagonal_flags, left_flags) -> np.ndarray:
    """:func:`fill_block_numpy`, or its compiled twin when numba is installed."""
    if fill_block_compiled is not None:
        return fill_block_compiled(block, delete, previous, diagonal_flags, left_flags)
    return fill_block_numpy(block, delete, previous, diagonal_flags, left_flags)
