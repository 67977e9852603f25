"""Summary statistics of a benchmark cell: median and quartiles, and the interquartile
mean with a bootstrap confidence interval (Agarwal et al. 2021, "Deep RL at the edge of
the statistical precipice": the IQM is the mean of the middle 50% of the runs, robust to
outliers and less noisy than the median for few seeds)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["bootstrap_interval", "interquartile_mean", "summarise_values"]


def interquartile_mean(values: Sequence[float] | np.ndarray) -> float:
    """The mean of the middle 50% of ``values``, shape (n,): the 25% trimmed mean, with
    the runs at the two cut points counted by the fraction that falls inside (as
    ``scipy.stats.trim_mean`` does for n divisible by 4, and fractionally otherwise).

    Raises:
        ValueError: if ``values`` is empty.
    """
    data = np.asarray(values, dtype=float).ravel()
    if len(data) == 0:
        raise ValueError("`values` is empty: the interquartile mean needs at least one value")
    return float(_interquartile_means(data[np.newaxis, :])[0])


def _interquartile_means(samples: np.ndarray) -> np.ndarray:
    """The interquartile mean of each row of ``samples``, shape (m, n) -> (m,)."""
    count = samples.shape[1]
    # Each run covers [i, i + 1) of [0, n); keep the part of it inside [n/4, 3n/4).
    low, high = count / 4, 3 * count / 4
    starts = np.arange(count)
    weights = np.clip(np.minimum(starts + 1, high) - np.maximum(starts, low), 0.0, 1.0)
    return np.sort(samples, axis=1) @ weights / weights.sum()


def bootstrap_interval(
    values: Sequence[float] | np.ndarray,
    *,
    statistic: Callable[[np.ndarray], float] | None = None,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """A percentile bootstrap confidence interval of ``statistic`` over ``values``, shape (n,).

    Args:
        values: one value per run.
        statistic: maps a resample, shape (n,), to a number (default: the interquartile mean).
        confidence: the interval's coverage.
        resamples: bootstrap resamples.
        seed: seeds the resampling, so the same values give the same interval.
    """
    data = np.asarray(values, dtype=float).ravel()
    if len(data) == 0:
        raise ValueError("`values` is empty")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"`confidence` must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(data), size=(resamples, len(data)))
    if statistic is None:
        estimates = _interquartile_means(data[picks])
    else:
        estimates = np.array([statistic(data[row]) for row in picks])
    tail = (1.0 - confidence) / 2
    return float(np.quantile(estimates, tail)), float(np.quantile(estimates, 1.0 - tail))


def summarise_values(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """``{median, q25, q75, mean, iqm, iqm_low, iqm_high}`` of one cell's values, shape (n,)."""
    data = np.asarray(values, dtype=float).ravel()
    low, high = bootstrap_interval(data)
    return {
        "median": float(np.median(data)),
        "q25": float(np.percentile(data, 25)),
        "q75": float(np.percentile(data, 75)),
        "mean": float(np.mean(data)),
        "iqm": interquartile_mean(data),
        "iqm_low": low,
        "iqm_high": high,
    }
