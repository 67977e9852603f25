"""Clustering helpers of the feature-cluster encoder: scaling, k-means, the choice of k.

Private to :mod:`rudder.events`: per-dimension standardisation of feature vectors,
seeded k-means (mini-batch k-means above :data:`MINI_BATCH_POINTS` points), seeded
affinity propagation on at most a given number of points, and the choice of the number
of k-means clusters by the silhouette score on a subsample.
Every function is deterministic for a given ``seed``.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.cluster import AffinityPropagation, KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import pairwise_distances, silhouette_score

__all__ = [
    "affinity_exemplars",
    "choose_num_clusters",
    "kmeans_centres",
    "seeded_subsample",
    "standardisation",
]

#: A dimension whose standard deviation is at most this fraction of ``max(1, |mean|)``
#: counts as constant: its scale is 1 (its values are only centred).
CONSTANT_TOLERANCE = 1e-12
#: Above this many points, :func:`kmeans_centres` runs mini-batch k-means (linear time
#: per pass over mini-batches of :data:`MINI_BATCH_SIZE` points).
MINI_BATCH_POINTS = 200_000
MINI_BATCH_SIZE = 4096


def standardisation(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and scale of ``features``, so that ``(x - mean) / scale`` is standard.

    Args:
        features: shape (N, D), float64, N >= 1.

    Returns:
        ``(mean, scale)``, each shape (D,), float64. ``scale`` is the standard deviation
        (population, ``ddof=0``), or 1.0 for a dimension that is constant on ``features``
        (up to :data:`CONSTANT_TOLERANCE`), as in scikit-learn's ``StandardScaler``.
    """
    mean = features.mean(axis=0)
    deviation = features.std(axis=0)
    constant = deviation <= CONSTANT_TOLERANCE * np.maximum(1.0, np.abs(mean))
    scale = np.where(constant, 1.0, deviation)
    return mean.astype(np.float64), scale.astype(np.float64)


def seeded_subsample(points: np.ndarray, size: int, *, seed: int) -> np.ndarray:
    """At most ``size`` rows of ``points`` (N, D), drawn without replacement, in row order."""
    if points.shape[0] <= size:
        return points
    rows = np.random.default_rng(seed).choice(points.shape[0], size=size, replace=False)
    return points[np.sort(rows)]


def kmeans_centres(
    points: np.ndarray, num_clusters: int, *, seed: int, restarts: int = 5
) -> np.ndarray:
    """Centres of seeded k-means (k-means++ starts, best of ``restarts``), shape (K, D);
    mini-batch k-means above :data:`MINI_BATCH_POINTS` points."""
    model: KMeans | MiniBatchKMeans
    if points.shape[0] > MINI_BATCH_POINTS:
        model = MiniBatchKMeans(
            n_clusters=num_clusters, n_init=restarts, random_state=seed, batch_size=MINI_BATCH_SIZE
        )
    else:
        model = KMeans(n_clusters=num_clusters, n_init=restarts, random_state=seed)
    with warnings.catch_warnings():
        # Fewer distinct points than clusters is handled by the callers.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(points)
    return np.asarray(model.cluster_centers_, dtype=np.float64)


def affinity_exemplars(points: np.ndarray, *, seed: int) -> np.ndarray | None:
    """Row indices of affinity propagation's exemplars in ``points`` (N, D), or None.

    ``None`` when affinity propagation does not converge or finds no exemplar. Its cost
    is quadratic in N: callers pass distinct points, subsampled if there are many.
    """
    if points.shape[0] == 1:
        return np.zeros(1, dtype=np.int64)
    model = AffinityPropagation(damping=0.5, max_iter=1000, convergence_iter=30, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(points)
    if any(issubclass(warning.category, ConvergenceWarning) for warning in caught):
        return None
    exemplars = np.asarray(model.cluster_centers_indices_, dtype=np.int64)
    return exemplars if exemplars.size else None


def choose_num_clusters(
    points: np.ndarray, *, largest: int, sample_size: int, seed: int
) -> tuple[int, dict[int, float]]:
    """The number of k-means clusters with the highest mean silhouette on a subsample.

    Each k in ``2..largest`` is fitted with seeded k-means (2 restarts) on at most
    ``sample_size`` points drawn without replacement, and scored with the mean silhouette
    coefficient of those points (Rousseeuw 1987): for a point, ``(b - a) / max(a, b)``
    with ``a`` its mean distance to its own cluster and ``b`` to the nearest other one.
    The highest mean wins; ties go to the smaller k. A k needs at least k + 1 distinct
    points in the subsample (the silhouette is undefined with one point per cluster).

    Args:
        points: shape (N, D), float64, already standardised.
        largest: the largest k tried, >= 2.
        sample_size: the most points fitted and scored per k.
        seed: seed of the subsample and of k-means.

    Returns:
        ``(k, scores)``: the chosen k and the mean silhouette of every k tried.

    Raises:
        ValueError: the subsample has fewer than 3 distinct points (no k can be scored).
    """
    sample = seeded_subsample(points, sample_size, seed=seed)
    distinct = np.unique(sample, axis=0).shape[0]
    candidates = range(2, min(largest, distinct - 1) + 1)
    if not candidates:
        raise ValueError(f"the silhouette needs at least 3 distinct points, got {distinct}")
    # The silhouette of every k reads the same distances: compute them once.
    distances = pairwise_distances(sample)
    scores: dict[int, float] = {}
    for num_clusters in candidates:
        model = KMeans(n_clusters=num_clusters, n_init=2, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = model.fit_predict(sample)
        if np.unique(labels).size < 2:
            continue
        scores[num_clusters] = float(silhouette_score(distances, labels, metric="precomputed"))
    if not scores:
        raise ValueError("k-means found fewer than 2 clusters for every k; the points are too few")
    best = max(scores.values())
    chosen = min(k for k, score in scores.items() if score == best)
    return chosen, scores
