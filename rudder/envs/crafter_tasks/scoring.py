"""Crafter's own metric: achievement success rates and the Crafter score.

Crafter (Hafner, ICLR 2022) counts an achievement's success rate over the episodes an
agent finishes within its budget of env steps (1M), during training: the percentage of
those episodes in which the achievement was unlocked at least once. Its score is the
geometric mean of the 22 success rates with an offset of one percent,
``S = exp(mean_i ln(1 + s_i)) - 1`` with ``s_i`` in percent, so that 0 means nothing was
ever unlocked, 100 means every achievement in every episode, and a rare achievement
counts as much as a common one. A method's score is the mean (and standard deviation)
of its runs' scores. This module owns those two computations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rudder.envs.crafter_tasks.env import ACHIEVEMENTS

__all__ = ["crafter_score", "success_rates"]


def crafter_score(percents: Sequence[float] | np.ndarray) -> float:
    """Crafter's score of one run: ``exp(mean_i ln(1 + s_i)) - 1``.

    Args:
        percents: shape (22,): each achievement's success rate in percent (0..100), in
            the order of :data:`~rudder.envs.crafter_tasks.ACHIEVEMENTS`.

    Returns:
        The score in percent (0..100).

    Raises:
        ValueError: if there are not 22 rates or one is outside [0, 100] (rates given as
            fractions must be multiplied by 100 first) or not finite.

    Example:
        >>> round(crafter_score([99.0] * 11 + [0.0] * 11), 9)  # exp((ln 100 + ln 1) / 2) - 1
        9.0
    """
    values = np.asarray(percents, dtype=np.float64)
    if values.shape != (len(ACHIEVEMENTS),):
        raise ValueError(f"`percents` must hold one rate per achievement, shape ({len(ACHIEVEMENTS)},); got {values.shape}")
    if not np.all(np.isfinite(values)) or values.min() < 0.0 or values.max() > 100.0:
        raise ValueError("`percents` must be success rates in percent, in [0, 100] (multiply fractions by 100)")
    return float(np.exp(np.mean(np.log1p(values))) - 1.0)


def success_rates(
    obtained: Sequence[Sequence[bool]] | np.ndarray,
    ends: Sequence[int] | np.ndarray | None = None,
    *,
    budget: int | None = None,
) -> np.ndarray | None:
    """Each achievement's success rate in percent over the episodes finished within ``budget``.

    Args:
        obtained: shape (episodes, 22), bool: which achievements each episode unlocked.
        ends: shape (episodes,): the env step (counted over the whole run) at which each
            episode ended; needed with ``budget``.
        budget: count only episodes that ended at or before this env step (None: all).

    Returns:
        Shape (22,), float64 in [0, 100]; None if no episode counts.

    Raises:
        ValueError: if ``obtained`` is not (episodes, 22) or ``ends`` does not match it.
    """
    table = np.asarray(obtained, dtype=bool)
    if table.size == 0:
        table = table.reshape(0, len(ACHIEVEMENTS))
    if table.ndim != 2 or table.shape[1] != len(ACHIEVEMENTS):
        raise ValueError(f"`obtained` must have shape (episodes, {len(ACHIEVEMENTS)}), got {table.shape}")
    if budget is not None:
        if ends is None or len(ends) != len(table):
            raise ValueError("`budget` needs `ends`: the env step at which each episode ended, one per episode")
        table = table[np.asarray(ends, dtype=np.int64) <= budget]
    if len(table) == 0:
        return None
    return 100.0 * table.mean(axis=0)
