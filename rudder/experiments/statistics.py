"""Summary statistics of a benchmark cell: median and quartiles, and the interquartile
mean with a bootstrap confidence interval (Agarwal et al. 2021, "Deep RL at the edge of
the statistical precipice": the IQM is the mean of the middle 50% of the runs, robust to
outliers and less noisy than the median for few seeds), and the probability of
improvement of one method over another, averaged over tasks, with a stratified bootstrap
confidence interval (runs resampled within each task and method, as rliable does).

A benchmark cell is one task, so the percentile bootstrap of a cell's IQM is the
stratified bootstrap with one stratum."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "bootstrap_interval",
    "interquartile_mean",
    "probability_of_improvement",
    "probability_of_improvement_interval",
    "summarise_values",
    "interquartile_mean_curve",
]


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


def _pairwise_wins(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """P(X > Y) + P(X = Y) / 2 per row: ``first`` (m, n) against ``second`` (m, k) -> (m,)."""
    greater = (first[:, :, np.newaxis] > second[:, np.newaxis, :]).mean(axis=(1, 2))
    ties = (first[:, :, np.newaxis] == second[:, np.newaxis, :]).mean(axis=(1, 2))
    return greater + 0.5 * ties


def _task_pairs(
    tasks: Sequence[tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]], higher_is_better: bool
) -> list[tuple[np.ndarray, np.ndarray]]:
    if not tasks:
        raise ValueError("`tasks` is empty: give (runs of X, runs of Y) for at least one task")
    sign = 1.0 if higher_is_better else -1.0
    pairs = []
    for index, (first, second) in enumerate(tasks):
        x = sign * np.asarray(first, dtype=float).ravel()
        y = sign * np.asarray(second, dtype=float).ravel()
        if len(x) == 0 or len(y) == 0:
            raise ValueError(f"task {index} has no runs of one of the two methods")
        pairs.append((x, y))
    return pairs


def probability_of_improvement(
    tasks: Sequence[tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]],
    *,
    higher_is_better: bool = True,
) -> float:
    """The probability that method X improves on method Y, averaged over tasks.

    For one task with runs x_1..x_n of X and y_1..y_k of Y, P(X > Y) is the share of the
    n * k pairs (x_i, y_j) with x_i better than y_j, a tie counting one half (the
    Mann-Whitney U statistic divided by n * k); the result is its mean over the tasks
    (rliable's definition).

    Args:
        tasks: per task, the runs' values of X, shape (n,), and of Y, shape (k,).
        higher_is_better: whether a larger value is better (False: fewer episodes,
            steps or seconds are better).

    Raises:
        ValueError: if there is no task, or a task lacks runs of X or Y.
    """
    pairs = _task_pairs(tasks, higher_is_better)
    return float(np.mean([_pairwise_wins(x[np.newaxis], y[np.newaxis])[0] for x, y in pairs]))


def probability_of_improvement_interval(
    tasks: Sequence[tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]],
    *,
    higher_is_better: bool = True,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """A stratified percentile bootstrap interval of :func:`probability_of_improvement`:
    each resample draws, within every task, the runs of X and those of Y with replacement.

    Raises:
        ValueError: as :func:`probability_of_improvement`, or for ``confidence`` outside (0, 1).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"`confidence` must be in (0, 1), got {confidence}")
    pairs = _task_pairs(tasks, higher_is_better)
    rng = np.random.default_rng(seed)
    estimates = np.zeros(resamples)
    for x, y in pairs:
        first = x[rng.integers(0, len(x), size=(resamples, len(x)))]
        second = y[rng.integers(0, len(y), size=(resamples, len(y)))]
        estimates += _pairwise_wins(first, second)
    estimates /= len(pairs)
    tail = (1.0 - confidence) / 2
    return float(np.quantile(estimates, tail)), float(np.quantile(estimates, 1.0 - tail))


def interquartile_mean_curve(
    curves: np.ndarray, *, confidence: float = 0.95, resamples: int = 1000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The IQM over runs at every point of aligned curves, with a percentile bootstrap
    interval (runs resampled with replacement, one draw shared by all points).

    Args:
        curves: shape (runs, points): each run's value at each point.

    Returns:
        ``(iqm, low, high)``, each of shape (points,).
    """
    data = np.asarray(curves, dtype=float)
    if data.ndim != 2 or data.shape[0] == 0:
        raise ValueError(f"`curves` must have shape (runs, points) with runs >= 1, got {data.shape}")
    runs = data.shape[0]
    low_cut, high_cut = runs / 4, 3 * runs / 4
    starts = np.arange(runs)
    weights = np.clip(np.minimum(starts + 1, high_cut) - np.maximum(starts, low_cut), 0.0, 1.0)
    weights = weights / weights.sum()
    iqm = weights @ np.sort(data, axis=0)
    picks = np.random.default_rng(seed).integers(0, runs, size=(resamples, runs))
    estimates = np.einsum("r,brp->bp", weights, np.sort(data[picks], axis=1))
    tail = (1.0 - confidence) / 2
    return iqm, np.quantile(estimates, tail, axis=0), np.quantile(estimates, 1.0 - tail, axis=0)
