"""Events from clusters of continuous observation features (or of their changes).

For continuous observations the demonstrations' feature vectors are standardised per
dimension, clustered with k-means (or affinity propagation), and every observation is
mapped to its nearest cluster centre. With ``use_differences=True`` the changes
``s_{t+1} - s_t`` are clustered instead, so an event says *what kind of change* happened
(for example "moved right"). Unless it is given, the number of k-means clusters is chosen
from the data by the silhouette score; every automatic choice and every fallback is
recorded in the saved model, and every fallback also raises a ``UserWarning``.

Example:
    >>> encoder = FeatureClusterEncoder().fit(demonstrations)  # doctest: +SKIP
    >>> encoder.encode(demonstrations[0]).events  # doctest: +SKIP
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from rudder.alignment._threads import blas_threads
from rudder.data.episode import Episode, check_episodes
from rudder.errors import DataFormatError, NotFittedError
from rudder.events import _clustering
from rudder.events.base import EventAlphabet, EventEncoder

__all__ = ["AFFINITY_POINTS", "SILHOUETTE_POINTS", "FeatureClusterEncoder"]

_METHODS = ("kmeans", "affinity")
_SETTINGS = (
    "num_clusters",
    "method",
    "use_differences",
    "feature_key",
    "seed",
    "standardize",
    "max_clusters",
)
#: The most points the silhouette score of each candidate k is computed on (its cost
#: is quadratic in the points).
SILHOUETTE_POINTS = 2000
#: The most distinct points affinity propagation runs on (quadratic memory and time).
AFFINITY_POINTS = 1000


def _check_count(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
    return int(value)


def _warn(notes: list[str], message: str) -> None:
    """Raises ``message`` as a ``UserWarning`` (pointing at the caller of ``fit``) and keeps it."""
    notes.append(message)
    warnings.warn(message, UserWarning, stacklevel=4)


class FeatureClusterEncoder(EventEncoder):
    """Events = the nearest cluster centre of an observation's features (or of a change).

    :meth:`fit` collects the features of every demonstration observation (flattened to
    float64 vectors), or with ``use_differences`` every change ``s_{t+1} - s_t``, and
    clusters them. Events are named ``"features 0"``, ``"features 1"``, ..., numbered in
    order of first appearance in the demonstrations. At run time an observation (or
    change) gets the event of the nearest centre (ties: lowest id).

    Without differences the encoder reports a state: the cluster of s_0 at reset and of
    s_{t+1} at step t. With differences nothing is emitted at reset, and step t emits the
    cluster of ``s_{t+1} - s_t``. In both cases repeats are collapsed (a run of the same
    kind of change, such as standing still, is one event).

    Standardisation (``standardize=True``): the clustered vectors (states or changes)
    are standardised per dimension with their mean and standard deviation on the
    demonstrations, so that a feature measured in large units does not decide the
    clusters alone (without it, the clusters of a position in metres and a velocity in
    metres per millisecond are position bins). A dimension that is constant on the
    demonstrations keeps scale 1. Distances are Euclidean in the standardised space,
    ``sum(((x - centre) / feature_scale) ** 2)``; ``centroids`` are in the original units.

    Number of clusters: with ``num_clusters`` given, k-means uses ``min(num_clusters,
    number of distinct feature vectors)`` clusters (with a warning when it is reduced).
    With ``num_clusters=None`` (the default) k-means uses the k in ``2..max_clusters``
    with the highest mean silhouette coefficient (Rousseeuw 1987) on a seeded subsample
    of at most :data:`SILHOUETTE_POINTS` standardised vectors (ties: the smaller k). A
    point's silhouette is ``(b - a) / max(a, b)``, ``a`` its mean distance to its own
    cluster and ``b`` to the nearest other cluster. Why this criterion: it rewards
    clusters that are separated from each other, which is what makes an event
    recognisable; it is bounded and comparable across k; and it assumes no cluster shape.
    A BIC of k-means assumes spherical Gaussian clusters of equal variance; on
    trajectories, which are curves rather than blobs, its likelihood keeps improving with
    k, so it tends to choose the largest k tried. The silhouette cannot rate k = 1, so at
    least 2 clusters are chosen (1 if all vectors are equal, with a warning).

    Affinity propagation (``method="affinity"``) chooses the number itself
    (``num_clusters`` is then ignored unless it falls back); it runs on the distinct
    standardised vectors only (its cost is quadratic in the number of points, and
    duplicates make it oscillate), on a seeded subsample of :data:`AFFINITY_POINTS` of
    them if there are more (with a warning). If it does not converge, the encoder falls
    back to k-means with ``num_clusters`` clusters, or the silhouette's k if ``None``
    (with a warning).

    What was done is recorded in :attr:`clustering` (the method actually used),
    :attr:`cluster_choice` (how the number of clusters was chosen),
    :attr:`silhouette_scores` and :attr:`fit_warnings`, all saved by :meth:`get_config`.

    Args:
        num_clusters: number of k-means clusters, >= 1, or ``None`` to choose it from the
            data (see above).
        method: ``"kmeans"`` or ``"affinity"`` (affinity propagation).
        use_differences: cluster the changes ``s_{t+1} - s_t`` instead of the states.
        feature_key: for dict observations, the key of the feature array.
        seed: random seed of the clustering and of the subsamples; the same seed gives
            the same clusters.
        standardize: standardise the features on the demonstrations (see above).
            Encoders saved before this option existed load with ``False``.
        max_clusters: the largest k the silhouette criterion tries, >= 2.

    Attributes:
        centroids: shape (K, D), float64: the cluster centres, row = event id.
        feature_mean: shape (D,), float64: the mean of the clustered vectors on the
            demonstrations (zeros without standardisation).
        feature_scale: shape (D,), float64: their standard deviation, 1 where it is 0
            (ones without standardisation).
        clustering: ``"kmeans"``, ``"affinity"``, or ``"kmeans_fallback"``.
        cluster_choice: ``"given"``, ``"given, reduced to the distinct vectors"``,
            ``"silhouette"``, ``"affinity propagation"`` or ``"one per distinct vector"``
            (``None`` for encoders saved before it was recorded).
        silhouette_scores: ``{k: mean silhouette}`` of every k tried, or ``None``.
        fit_warnings: the messages of the warnings :meth:`fit` raised.
        fit_seconds: the wall time of the last :meth:`fit` (None before; not saved).
    """

    collapse_repeats = True

    def __init__(
        self,
        *,
        num_clusters: int | None = None,
        method: Literal["kmeans", "affinity"] = "kmeans",
        use_differences: bool = False,
        feature_key: str | None = None,
        seed: int = 0,
        standardize: bool = True,
        max_clusters: int = 12,
    ) -> None:
        if method not in _METHODS:
            raise ValueError(f"`method` must be one of {_METHODS}, got {method!r}")
        if num_clusters is not None:
            num_clusters = _check_count(num_clusters, "num_clusters", minimum=1)
        if not isinstance(use_differences, (bool, np.bool_)):
            raise TypeError(f"`use_differences` must be a bool, got {use_differences!r}")
        if not isinstance(standardize, (bool, np.bool_)):
            raise TypeError(f"`standardize` must be a bool, got {standardize!r}")
        if feature_key is not None and not isinstance(feature_key, str):
            raise TypeError(f"`feature_key` must be a string or None, got {feature_key!r}")
        if (
            isinstance(seed, (bool, np.bool_))
            or not isinstance(seed, (int, np.integer))
            or seed < 0
        ):
            raise ValueError(f"`seed` must be a non-negative int, got {seed!r}")
        self.num_clusters = num_clusters
        self.method = method
        self.use_differences = bool(use_differences)
        self.feature_key = feature_key
        self.seed = int(seed)
        self.standardize = bool(standardize)
        self.max_clusters = _check_count(max_clusters, "max_clusters", minimum=2)
        self._alphabet = None
        self._centroids: np.ndarray | None = None
        self._feature_mean: np.ndarray | None = None
        self._feature_scale: np.ndarray | None = None
        self._scaled_centroids: np.ndarray | None = None
        self.clustering: str | None = None
        self.cluster_choice: str | None = None
        self.silhouette_scores: dict[int, float] | None = None
        self.fit_warnings: tuple[str, ...] = ()
        self.fit_seconds: float | None = None

    @property
    def centroids(self) -> np.ndarray:
        """Shape (K, D), float64: the cluster centres in the original units; row k is event k."""
        return self._fitted(self._centroids)

    @property
    def feature_mean(self) -> np.ndarray:
        """Shape (D,), float64: the mean of the clustered vectors on the demonstrations."""
        return self._fitted(self._feature_mean)

    @property
    def feature_scale(self) -> np.ndarray:
        """Shape (D,), float64: the scale that divides each dimension before distances."""
        return self._fitted(self._feature_scale)

    def _fitted(self, array: np.ndarray | None) -> np.ndarray:
        if array is None:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call .fit(demonstrations) first"
            )
        return array

    # -- features -------------------------------------------------------------------
    def _select(self, observations: Any, *, where: str) -> np.ndarray:
        """The feature array of one observation or of a batch (dict: ``feature_key``)."""
        if isinstance(observations, Mapping):
            if self.feature_key is None:
                raise ValueError(
                    f"{where} is a dict with keys {sorted(observations)}; pass "
                    "feature_key=<key> to choose the feature array"
                )
            if self.feature_key not in observations:
                raise KeyError(
                    f"`feature_key`={self.feature_key!r} is not in {where}; "
                    f"its keys are {sorted(observations)}"
                )
            observations = observations[self.feature_key]
        array = np.asarray(observations)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{where} must be numeric, got dtype {array.dtype}")
        return array.astype(np.float64)

    def _fit_features(self, episodes: list[Episode]) -> tuple[np.ndarray, int]:
        """All demonstration features in order, shape (N, D), and D."""
        blocks = []
        size = None
        for index, episode in enumerate(episodes):
            array = self._select(episode.observations, where=f"`episodes[{index}]` observations")
            array = array.reshape(array.shape[0], -1)
            if size is None:
                size = array.shape[1]
            elif array.shape[1] != size:
                raise ValueError(
                    f"`episodes[{index}]` has {array.shape[1]} features per observation, "
                    f"earlier episodes have {size}; all observations must have the same shape"
                )
            if not np.all(np.isfinite(array)):
                raise ValueError(
                    f"`episodes[{index}]` observations contain NaN or infinite values; "
                    "clean them before fitting"
                )
            blocks.append(np.diff(array, axis=0) if self.use_differences else array)
        features = np.concatenate(blocks, axis=0)
        if features.shape[0] == 0:
            raise ValueError(
                "`episodes` have no steps, so there are no changes to cluster; "
                "give episodes with at least one step or use_differences=False"
            )
        return features, int(size)  # type: ignore[arg-type]

    def _feature(self, observation: Any, *, where: str) -> np.ndarray:
        vector = self._select(observation, where=where).reshape(-1)
        size = self.centroids.shape[1]
        if vector.shape[0] != size:
            raise ValueError(
                f"{where} has {vector.shape[0]} features, the encoder was fitted on {size}; "
                "use observations of the same shape as the demonstrations"
            )
        return vector

    def _nearest(self, features: np.ndarray) -> np.ndarray:
        """Shape (N,), int64: the nearest centroid of each row of ``features`` (N, D)."""
        centroids = self._fitted(self._scaled_centroids)
        scale = self.feature_scale
        labels = np.empty(features.shape[0], dtype=np.int64)
        for start in range(0, features.shape[0], 4096):
            block = features[start : start + 4096] / scale
            distances = np.sum((block[:, None, :] - centroids[None, :, :]) ** 2, axis=2)
            labels[start : start + 4096] = np.argmin(distances, axis=1)
        return labels

    def _event_of(self, vector: np.ndarray) -> int:
        if not np.all(np.isfinite(vector)):
            raise ValueError(f"observation features must be finite, got {vector}")
        centroids = self._fitted(self._scaled_centroids)
        distances = np.sum((centroids - (vector / self.feature_scale)[None, :]) ** 2, axis=1)
        return int(np.argmin(distances))

    def _set_fitted(self, centroids: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> None:
        """Stores the centres (K, D) and the standardisation (D,) read-only."""
        for array in (centroids, mean, scale):
            array.setflags(write=False)
        self._centroids = centroids
        self._feature_mean = mean
        self._feature_scale = scale
        scaled = centroids / scale
        scaled.setflags(write=False)
        self._scaled_centroids = scaled

    # -- fitting --------------------------------------------------------------------
    def fit(self, episodes: Sequence[Episode]) -> FeatureClusterEncoder:
        """Standardises and clusters the features (or changes) of all demonstration steps.

        Args:
            episodes: the demonstrations; observations of shape (T+1, ...), or dicts
                whose ``feature_key`` array has that shape.

        Returns:
            ``self``.

        Warns:
            UserWarning: on every fallback (affinity propagation subsampled or not
                converged, fewer clusters than asked); the messages are also kept in
                :attr:`fit_warnings`.
        """
        started = time.perf_counter()
        with blas_threads(1):
            self._fit(episodes)
        self.fit_seconds = time.perf_counter() - started
        return self

    def _fit(self, episodes: Sequence[Episode]) -> None:
        episodes = check_episodes(episodes)
        features, size = self._fit_features(episodes)
        if self.standardize:
            mean, scale = _clustering.standardisation(features)
        else:
            mean, scale = np.zeros(size), np.ones(size)
        notes: list[str] = []
        self.silhouette_scores = None
        distinct = np.unique(features, axis=0)
        if self.method == "affinity":
            centroids = self._fit_affinity(features, distinct, mean, scale, notes=notes)
        else:
            centroids = self._fit_kmeans(
                features, distinct.shape[0], mean, scale, self.num_clusters, notes=notes
            )
            self.clustering = "kmeans"
        self.fit_warnings = tuple(notes)

        # Number the clusters in order of first appearance in the demonstrations;
        # centres nearest to no demonstration point go last, in their original order.
        self._set_fitted(centroids, mean, scale)
        labels = self._nearest(features)
        _, first = np.unique(labels, return_index=True)
        seen = [int(label) for label in labels[np.sort(first)]]
        order = seen + sorted(set(range(centroids.shape[0])) - set(seen))
        self._set_fitted(np.ascontiguousarray(centroids[order]), mean, scale)
        self._alphabet = EventAlphabet(tuple(f"features {k}" for k in range(centroids.shape[0])))

    def _fit_kmeans(
        self,
        features: np.ndarray,
        num_distinct: int,
        mean: np.ndarray,
        scale: np.ndarray,
        requested: int | None,
        *,
        notes: list[str],
    ) -> np.ndarray:
        """k-means centres in the original units, shape (K, D); sets ``cluster_choice``."""
        standard = (features - mean) / scale
        if requested is not None:
            num_clusters = min(requested, num_distinct)
            self.cluster_choice = "given"
            if num_clusters < requested:
                self.cluster_choice = "given, reduced to the distinct vectors"
                _warn(
                    notes,
                    f"num_clusters={requested} but the demonstrations have only {num_distinct} "
                    f"distinct feature vectors; using {num_clusters} clusters"
                )
        elif num_distinct < 3:
            num_clusters = num_distinct
            self.cluster_choice = "one per distinct vector"
            _warn(
                notes,
                f"the demonstrations have only {num_distinct} distinct feature vector(s), too few "
                f"for the silhouette criterion; using {num_clusters} cluster(s), one per vector"
            )
        else:
            num_clusters, self.silhouette_scores = _clustering.choose_num_clusters(
                standard,
                largest=self.max_clusters,
                sample_size=SILHOUETTE_POINTS,
                seed=self.seed,
            )
            self.cluster_choice = "silhouette"
        centres = _clustering.kmeans_centres(standard, num_clusters, seed=self.seed)
        return centres * scale + mean

    def _fit_affinity(
        self,
        features: np.ndarray,
        distinct: np.ndarray,
        mean: np.ndarray,
        scale: np.ndarray,
        *,
        notes: list[str],
    ) -> np.ndarray:
        """Exemplars (original units) of affinity propagation, or the k-means fallback's centres."""
        points = distinct
        if distinct.shape[0] > AFFINITY_POINTS:
            points = _clustering.seeded_subsample(distinct, AFFINITY_POINTS, seed=self.seed)
            _warn(
                notes,
                "affinity propagation is quadratic in the number of points; it runs on a seeded "
                f"subsample of {AFFINITY_POINTS} of the {distinct.shape[0]} distinct feature "
                "vectors"
            )
        exemplars = _clustering.affinity_exemplars((points - mean) / scale, seed=self.seed)
        if exemplars is not None:
            self.clustering = "affinity"
            self.cluster_choice = "affinity propagation"
            return points[exemplars].astype(np.float64)
        self.clustering = "kmeans_fallback"
        _warn(
            notes,
            f"affinity propagation did not converge on {points.shape[0]} points; falling back to "
            + (
                f"k-means with num_clusters={self.num_clusters}"
                if self.num_clusters is not None
                else "k-means with the number of clusters chosen by the silhouette"
            )
        )
        return self._fit_kmeans(
            features, distinct.shape[0], mean, scale, self.num_clusters, notes=notes
        )

    # -- events ---------------------------------------------------------------------
    def events_at_reset(self, observation: Any) -> list[int]:
        """``[cluster of s_0]``, or ``[]`` with ``use_differences``."""
        if self.use_differences:
            self.centroids  # noqa: B018 - raises NotFittedError
            return []
        return [self._event_of(self._feature(observation, where="observation"))]

    def events_at_step(
        self, observation: Any, action: Any, next_observation: Any, info: Mapping
    ) -> list[int]:
        """``[cluster of s_{t+1}]``, or ``[cluster of s_{t+1} - s_t]`` with differences."""
        after = self._feature(next_observation, where="next_observation")
        if self.use_differences:
            before = self._feature(observation, where="observation")
            return [self._event_of(after - before)]
        return [self._event_of(after)]

    # -- saving ---------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Settings, the alphabet and what fitting chose, JSON-serialisable."""
        scores = self.silhouette_scores
        return {
            "type": type(self).__name__,
            "alphabet": list(self.alphabet.names),
            "num_clusters": self.num_clusters,
            "method": self.method,
            "use_differences": self.use_differences,
            "feature_key": self.feature_key,
            "seed": self.seed,
            "standardize": self.standardize,
            "max_clusters": self.max_clusters,
            "clustering": self.clustering,
            "cluster_choice": self.cluster_choice,
            "silhouette_scores": None if scores is None else [[k, s] for k, s in scores.items()],
            "fit_warnings": list(self.fit_warnings),
        }

    def get_arrays(self) -> dict[str, np.ndarray]:
        """``centroids`` (K, D), ``feature_mean`` (D,) and ``feature_scale`` (D,), float64."""
        return {
            "centroids": np.array(self.centroids),
            "feature_mean": np.array(self.feature_mean),
            "feature_scale": np.array(self.feature_scale),
        }

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray], **overrides: Any
    ) -> FeatureClusterEncoder:
        """Rebuilds a fitted encoder from :meth:`get_config` and :meth:`get_arrays`.

        Encoders saved before standardisation existed have no ``standardize`` setting and
        no ``feature_mean``/``feature_scale`` arrays; they load unstandardised (mean 0,
        scale 1), so they give the same events as before.
        """
        cls._check_config(config, overrides)
        if "alphabet" not in config or "centroids" not in arrays:
            raise DataFormatError(
                f"{cls.__name__} needs config['alphabet'] and arrays['centroids']"
            )
        settings = {key: config[key] for key in _SETTINGS if key in config}
        settings.setdefault("standardize", False)
        encoder = cls(**settings)
        alphabet = EventAlphabet(tuple(config["alphabet"]))
        centroids = np.array(arrays["centroids"], dtype=np.float64)
        if centroids.ndim != 2 or centroids.shape[0] != len(alphabet):
            raise DataFormatError(
                f"`centroids` must have shape ({len(alphabet)}, D), got {centroids.shape}"
            )
        size = centroids.shape[1]
        if encoder.standardize and not {"feature_mean", "feature_scale"} <= set(arrays):
            raise DataFormatError(
                f"{cls.__name__} with standardize=True needs arrays['feature_mean'] and "
                "arrays['feature_scale']"
            )
        mean = np.array(arrays.get("feature_mean", np.zeros(size)), dtype=np.float64)
        scale = np.array(arrays.get("feature_scale", np.ones(size)), dtype=np.float64)
        if mean.shape != (size,) or scale.shape != (size,) or not np.all(scale > 0):
            raise DataFormatError(
                f"`feature_mean` and `feature_scale` must have shape ({size},) and the scale "
                f"must be positive, got shapes {mean.shape} and {scale.shape}"
            )
        encoder._set_fitted(centroids, mean, scale)
        encoder.clustering = config.get("clustering")
        encoder.cluster_choice = config.get("cluster_choice")
        scores = config.get("silhouette_scores")
        encoder.silhouette_scores = (
            None if scores is None else {int(k): float(value) for k, value in scores}
        )
        encoder.fit_warnings = tuple(config.get("fit_warnings", ()))
        encoder._alphabet = alphabet
        return encoder

    def __repr__(self) -> str:
        fitted = f", clusters={len(self.alphabet)}" if self.is_fitted else ""
        return (
            f"FeatureClusterEncoder(method={self.method!r}, "
            f"use_differences={self.use_differences}{fitted})"
        )
