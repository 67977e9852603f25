"""Events from clusters of continuous observation features (or of their changes).

For continuous observations the demonstrations' feature vectors are clustered with
k-means (or affinity propagation) and every observation is mapped to its nearest cluster
centre. With ``use_differences=True`` the changes ``s_{t+1} - s_t`` are clustered
instead, so an event says *what kind of change* happened (for example "moved right").

Example:
    >>> encoder = FeatureClusterEncoder(num_clusters=6).fit(demonstrations)  # doctest: +SKIP
    >>> encoder.encode(demonstrations[0]).events  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from sklearn.cluster import AffinityPropagation, KMeans
from sklearn.exceptions import ConvergenceWarning

from rudder.data.episode import Episode, check_episodes
from rudder.errors import DataFormatError, NotFittedError
from rudder.events.base import EventAlphabet, EventEncoder

_METHODS = ("kmeans", "affinity")
_SETTINGS = ("num_clusters", "method", "use_differences", "feature_key", "seed")
#: Number of clusters of the k-means fallback when affinity propagation fails and
#: ``num_clusters`` is ``None``.
FALLBACK_CLUSTERS = 8


class FeatureClusterEncoder(EventEncoder):
    """Events = the nearest cluster centre of an observation's features (or of a change).

    :meth:`fit` collects the features of every demonstration observation (flattened to
    float64 vectors), or with ``use_differences`` every change ``s_{t+1} - s_t``, and
    clusters them. Events are named ``"features 0"``, ``"features 1"``, ..., numbered in
    order of first appearance in the demonstrations. At run time an observation (or
    change) gets the event of the nearest centre (Euclidean; ties: lowest id).

    Without differences the encoder reports a state: the cluster of s_0 at reset and of
    s_{t+1} at step t. With differences nothing is emitted at reset, and step t emits the
    cluster of ``s_{t+1} - s_t``. In both cases repeats are collapsed (a run of the same
    kind of change, such as standing still, is one event).

    Number of clusters: k-means uses ``min(num_clusters, number of distinct feature
    vectors)``. Affinity propagation chooses the number itself (``num_clusters`` is
    ignored); it runs on the distinct feature vectors only (its cost is quadratic in the
    number of points, and duplicates make it oscillate). If it does not converge, the
    encoder falls back to k-means with ``num_clusters`` (8 if ``None``) clusters.

    Args:
        num_clusters: number of k-means clusters, >= 1 (``None`` only with
            ``method="affinity"``).
        method: ``"kmeans"`` or ``"affinity"`` (affinity propagation).
        use_differences: cluster the changes ``s_{t+1} - s_t`` instead of the states.
        feature_key: for dict observations, the key of the feature array.
        seed: random seed of the clustering; the same seed gives the same clusters.

    Attributes:
        centroids: shape (K, D), float64: the cluster centres, row = event id.
        clustering: ``"kmeans"``, ``"affinity"``, or ``"kmeans_fallback"``.
    """

    collapse_repeats = True

    def __init__(
        self,
        *,
        num_clusters: int | None = 8,
        method: Literal["kmeans", "affinity"] = "kmeans",
        use_differences: bool = False,
        feature_key: str | None = None,
        seed: int = 0,
    ) -> None:
        if method not in _METHODS:
            raise ValueError(f"`method` must be one of {_METHODS}, got {method!r}")
        if num_clusters is None:
            if method == "kmeans":
                raise ValueError(
                    "`num_clusters`=None needs method='affinity'; pass num_clusters=8 for k-means"
                )
        elif isinstance(num_clusters, (bool, np.bool_)) or not isinstance(
            num_clusters, (int, np.integer)
        ):
            raise TypeError(f"`num_clusters` must be an int or None, got {num_clusters!r}")
        elif num_clusters < 1:
            raise ValueError(f"`num_clusters` must be >= 1, got {num_clusters}")
        if not isinstance(use_differences, (bool, np.bool_)):
            raise TypeError(f"`use_differences` must be a bool, got {use_differences!r}")
        if feature_key is not None and not isinstance(feature_key, str):
            raise TypeError(f"`feature_key` must be a string or None, got {feature_key!r}")
        if (
            isinstance(seed, (bool, np.bool_))
            or not isinstance(seed, (int, np.integer))
            or seed < 0
        ):
            raise ValueError(f"`seed` must be a non-negative int, got {seed!r}")
        self.num_clusters = None if num_clusters is None else int(num_clusters)
        self.method = method
        self.use_differences = bool(use_differences)
        self.feature_key = feature_key
        self.seed = int(seed)
        self._alphabet = None
        self._centroids: np.ndarray | None = None
        self.clustering: str | None = None

    @property
    def centroids(self) -> np.ndarray:
        """Shape (K, D), float64: the cluster centres; row k is event k."""
        if self._centroids is None:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call .fit(demonstrations) first"
            )
        return self._centroids

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
        centroids = self.centroids
        labels = np.empty(features.shape[0], dtype=np.int64)
        for start in range(0, features.shape[0], 4096):
            block = features[start : start + 4096]
            distances = np.sum((block[:, None, :] - centroids[None, :, :]) ** 2, axis=2)
            labels[start : start + 4096] = np.argmin(distances, axis=1)
        return labels

    def _event_of(self, vector: np.ndarray) -> int:
        if not np.all(np.isfinite(vector)):
            raise ValueError(f"observation features must be finite, got {vector}")
        distances = np.sum((self.centroids - vector[None, :]) ** 2, axis=1)
        return int(np.argmin(distances))

    # -- fitting --------------------------------------------------------------------
    def fit(self, episodes: Sequence[Episode]) -> FeatureClusterEncoder:
        """Clusters the features (or changes) of all demonstration steps.

        Args:
            episodes: the demonstrations; observations of shape (T+1, ...), or dicts
                whose ``feature_key`` array has that shape.

        Returns:
            ``self``.
        """
        episodes = check_episodes(episodes)
        features, _ = self._fit_features(episodes)
        distinct = np.unique(features, axis=0)
        if self.method == "affinity":
            centroids = self._affinity(distinct)
            if centroids is None:
                requested = (
                    self.num_clusters if self.num_clusters is not None else FALLBACK_CLUSTERS
                )
                centroids = self._kmeans(features, min(requested, distinct.shape[0]))
                self.clustering = "kmeans_fallback"
            else:
                self.clustering = "affinity"
        else:
            centroids = self._kmeans(features, min(int(self.num_clusters), distinct.shape[0]))  # type: ignore[arg-type]
            self.clustering = "kmeans"

        # Number the clusters in order of first appearance in the demonstrations;
        # centres nearest to no demonstration point go last, in their original order.
        self._centroids = centroids
        labels = self._nearest(features)
        _, first = np.unique(labels, return_index=True)
        seen = [int(label) for label in labels[np.sort(first)]]
        order = seen + sorted(set(range(centroids.shape[0])) - set(seen))
        centroids = np.ascontiguousarray(centroids[order])
        centroids.setflags(write=False)
        self._centroids = centroids
        self._alphabet = EventAlphabet(tuple(f"features {k}" for k in range(centroids.shape[0])))
        return self

    def _kmeans(self, features: np.ndarray, num_clusters: int) -> np.ndarray:
        model = KMeans(n_clusters=num_clusters, n_init=10, random_state=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(features)
        return np.asarray(model.cluster_centers_, dtype=np.float64)

    def _affinity(self, distinct: np.ndarray) -> np.ndarray | None:
        """Exemplars of affinity propagation on the distinct points, or None if it fails."""
        if distinct.shape[0] == 1:
            return distinct.copy()
        model = AffinityPropagation(
            damping=0.5, max_iter=1000, convergence_iter=30, random_state=self.seed
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(distinct)
        if any(issubclass(warning.category, ConvergenceWarning) for warning in caught):
            return None
        centres = np.asarray(model.cluster_centers_indices_, dtype=np.int64)
        if centres.size == 0:
            return None
        return distinct[centres].astype(np.float64)

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
        """Settings and the alphabet, JSON-serialisable."""
        return {
            "type": type(self).__name__,
            "alphabet": list(self.alphabet.names),
            "num_clusters": self.num_clusters,
            "method": self.method,
            "use_differences": self.use_differences,
            "feature_key": self.feature_key,
            "seed": self.seed,
            "clustering": self.clustering,
        }

    def get_arrays(self) -> dict[str, np.ndarray]:
        """``centroids`` (K, D), float64."""
        return {"centroids": np.array(self.centroids)}

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray], **overrides: Any
    ) -> FeatureClusterEncoder:
        """Rebuilds a fitted encoder from :meth:`get_config` and :meth:`get_arrays`."""
        cls._check_config(config, overrides)
        if "alphabet" not in config or "centroids" not in arrays:
            raise DataFormatError(
                f"{cls.__name__} needs config['alphabet'] and arrays['centroids']"
            )
        encoder = cls(**{key: config[key] for key in _SETTINGS if key in config})
        alphabet = EventAlphabet(tuple(config["alphabet"]))
        centroids = np.array(arrays["centroids"], dtype=np.float64)
        if centroids.ndim != 2 or centroids.shape[0] != len(alphabet):
            raise DataFormatError(
                f"`centroids` must have shape ({len(alphabet)}, D), got {centroids.shape}"
            )
        centroids.setflags(write=False)
        encoder._centroids = centroids
        encoder.clustering = config.get("clustering")
        encoder._alphabet = alphabet
        return encoder

    def __repr__(self) -> str:
        fitted = f", clusters={len(self.alphabet)}" if self.is_fitted else ""
        return (
            f"FeatureClusterEncoder(method={self.method!r}, "
            f"use_differences={self.use_differences}{fitted})"
        )
