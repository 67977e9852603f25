"""Events from clusters of discrete states, found with the successor representation.

Align-RUDDER (arXiv 2009.14108, section 3) turns demonstrations into event sequences by
clustering states: states that lead to the same future are put into one cluster, and an
event is emitted whenever the agent enters a new cluster. The similarity of two states
is read from the *successor representation* (SR) learned on the demonstrations, and the
clusters are found with affinity propagation, which chooses their number itself.

For many visited states (more than :data:`AFFINITY_STATES`) affinity propagation, whose
memory and time are quadratic, runs on a seeded sample of them, and every other state
joins the exemplar it is most similar to. The SR is learned in a compiled loop when
numba is installed (the same arithmetic as the numpy loop), and :attr:`fit_seconds`
records how long :meth:`StateClusterEncoder.fit` took.

Example:
    >>> encoder = StateClusterEncoder(num_states=16).fit(demonstrations)  # doctest: +SKIP
    >>> encoder.encode(demonstrations[0]).events  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.cluster import AffinityPropagation
from sklearn.exceptions import ConvergenceWarning

from rudder.alignment._threads import blas_threads
from rudder.data.episode import Episode, check_episodes
from rudder.errors import DataFormatError, NotFittedError
from rudder.events.base import EventAlphabet, EventEncoder

UNVISITED = "unvisited"
TERMINAL = "terminal"
#: Above this many visited states, affinity propagation runs on a seeded sample of them.
AFFINITY_STATES = 2000

_SETTINGS = (
    "num_states",
    "state_shape",
    "learning_rate",
    "discount",
    "passes",
    "preference",
    "damping",
    "max_clusters",
    "seed",
    "terminal_cluster",
)


def _check_optional_int(value: Any, name: str, *, minimum: int) -> int | None:
    return None if value is None else _check_int(value, name, minimum=minimum)


def _check_int(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
    return int(value)


def _check_float(value: Any, name: str, *, low: float, high: float, high_open: bool) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"`{name}` must be a number, got {value!r}")
    value = float(value)
    inside = low <= value < high if high_open else low <= value <= high
    if not inside:
        interval = f"[{low}, {high})" if high_open else f"[{low}, {high}]"
        raise ValueError(f"`{name}` must be in {interval}, got {value}")
    return value


def merge_clusters(
    labels: np.ndarray, exemplars: np.ndarray, similarity: np.ndarray, *, max_clusters: int
) -> tuple[np.ndarray, np.ndarray]:
    """Merges clusters greedily until at most ``max_clusters`` remain.

    Repeatedly merges the two clusters whose exemplars are most similar (ties: the
    pair with the lowest cluster ids, rows first). The exemplar of a merged cluster is
    the member with the largest total similarity to all members (ties: lowest index),
    the same rule affinity propagation uses to refine its exemplars.

    Args:
        labels: shape (N,), int: cluster id of each item, ids in [0, K).
        exemplars: shape (K,), int: the item index of each cluster's exemplar.
        similarity: shape (N, N), float: symmetric similarity of items.
        max_clusters: the largest number of clusters to keep, >= 1.

    Returns:
        ``(labels, exemplars)`` with at most ``max_clusters`` clusters; cluster ids are
        gapless and keep the order of the smallest original id in each cluster.
    """
    labels = np.asarray(labels, dtype=np.int64).copy()
    kept = [int(item) for item in exemplars]
    members = [list(np.flatnonzero(labels == cluster)) for cluster in range(len(kept))]
    while len(kept) > max_clusters:
        between = similarity[np.ix_(kept, kept)].astype(np.float64)
        between[np.tril_indices(len(kept))] = -np.inf
        first, second = np.unravel_index(int(np.argmax(between)), between.shape)
        merged = sorted(members[first] + members[second])
        totals = similarity[np.ix_(merged, merged)].sum(axis=0)
        kept[first] = int(merged[int(np.argmax(totals))])
        members[first] = merged
        del kept[second], members[second]
    for cluster, items in enumerate(members):
        labels[items] = cluster
    return labels, np.asarray(kept, dtype=np.int64)


class StateClusterEncoder(EventEncoder):
    """Events = clusters of discrete states, by successor-representation similarity.

    :meth:`fit` learns the successor representation M of the demonstrations with TD
    updates, then clusters the states visited by the demonstrations with affinity
    propagation on the similarity ``M[visited][:, visited]``. Each cluster is one event
    (``"cluster 0"``, ``"cluster 1"``, ...; numbered in order of first appearance in the
    demonstrations); all states the demonstrations never visit, and any state outside
    ``[0, num_states)`` met later, are the last event, ``"unvisited"``.

    Observations are integer states in ``[0, num_states)``, or, with ``state_shape``,
    integer vectors (e.g. grid coordinates ``(row, column)``) that are flattened with
    ``np.ravel_multi_index`` (then ``num_states = prod(state_shape)``).

    The encoder reports a state: the event of s_0 at reset, the event of s_{t+1} at step
    t, and repeats are collapsed (one event each time the agent enters a new cluster).

    Args:
        num_states: number of discrete states. ``None`` (and no ``state_shape``): the
            largest state in the demonstrations + 1.
        state_shape: shape of the grid of vector states; ``num_states`` must then be
            ``None`` or equal to its product.
        learning_rate: step size a of the SR updates, in (0, 1].
        discount: discount factor of the SR, in [0, 1).
        passes: number of passes of SR updates over all demonstrations.
        preference: affinity-propagation preference (the diagonal of the similarity);
            lower values give fewer clusters.
        damping: affinity-propagation damping, in [0.5, 1).
        max_clusters: largest number of clusters (``None``: no limit). Larger results
            are merged greedily: the two clusters whose exemplars are most similar
            (symmetrised M) are merged until ``max_clusters`` remain.
        seed: random seed of affinity propagation; the same seed gives the same
            clusters.
        terminal_cluster: give the states in which terminated demonstrations ended
            (their goals) an event of their own, ``"terminal"``, so that reaching a
            goal is a sub-goal of the profile. (The official code meant this with its
            goal cluster, but gave the goal cell of every room that event.)

    Attributes:
        state_clusters: shape (num_states,), int64: the event id of each state.
        successor_representation: shape (num_states, num_states), float64: M.
        visited_states: shape (V,), int64: the states visited by the demonstrations.
        cluster_exemplars: shape (K,), int64: the exemplar state of each cluster.
        clustering: how the clusters were found: ``"affinity_propagation"``,
            ``"affinity_propagation_sampled"`` (on :data:`AFFINITY_STATES` sampled
            states, the others joining their most similar exemplar),
            ``"single_state"`` (only one state was visited) or ``"one_per_state"``
            (affinity propagation did not converge or gave no clusters; then every
            visited state starts as its own cluster and ``max_clusters`` merging
            applies).
        fit_seconds: the wall time of the last :meth:`fit` (None before; not saved).
    """

    collapse_repeats = True

    def __init__(
        self,
        *,
        num_states: int | None = None,
        state_shape: Sequence[int] | None = None,
        learning_rate: float = 0.1,
        discount: float = 0.99,
        passes: int = 10,
        preference: float = -0.5,
        damping: float = 0.5,
        max_clusters: int | None = 15,
        seed: int = 0,
        terminal_cluster: bool = True,
    ) -> None:
        self._num_states_setting = _check_optional_int(num_states, "num_states", minimum=1)
        if state_shape is not None:
            if isinstance(state_shape, (int, np.integer)):
                state_shape = (int(state_shape),)
            try:
                shape = tuple(state_shape)
            except TypeError:
                raise TypeError(
                    f"`state_shape` must be a tuple of ints, got {state_shape!r}"
                ) from None
            if not shape:
                raise ValueError("`state_shape` must have at least one dimension, got ()")
            for size in shape:
                _check_int(size, "state_shape", minimum=1)
            state_shape = tuple(int(size) for size in shape)
            product = math.prod(state_shape)
            if num_states is not None and num_states != product:
                raise ValueError(
                    f"`num_states`={num_states} does not match `state_shape`={state_shape} "
                    f"(product {product}); pass only state_shape"
                )
        self.state_shape: tuple[int, ...] | None = state_shape
        self.learning_rate = _check_float(
            learning_rate, "learning_rate", low=0.0, high=1.0, high_open=False
        )
        if self.learning_rate == 0.0:
            raise ValueError("`learning_rate` must be > 0, got 0.0; try 0.1")
        self.discount = _check_float(discount, "discount", low=0.0, high=1.0, high_open=True)
        self.passes = _check_int(passes, "passes", minimum=1)
        if isinstance(preference, (bool, np.bool_)) or not isinstance(
            preference, (int, float, np.number)
        ):
            raise TypeError(f"`preference` must be a number, got {preference!r}")
        if not math.isfinite(float(preference)):
            raise ValueError(f"`preference` must be finite, got {preference}")
        self.preference = float(preference)
        self.damping = _check_float(damping, "damping", low=0.5, high=1.0, high_open=True)
        self.max_clusters = _check_optional_int(max_clusters, "max_clusters", minimum=1)
        self.seed = _check_int(seed, "seed", minimum=0)
        if not isinstance(terminal_cluster, (bool, np.bool_)):
            raise TypeError(f"`terminal_cluster` must be a bool, got {terminal_cluster!r}")
        self.terminal_cluster = bool(terminal_cluster)
        self._reset_fit()

    def _reset_fit(self) -> None:
        self._alphabet = None
        self._fitted_num_states: int | None = None
        self._state_clusters: np.ndarray | None = None
        self._visited_states: np.ndarray | None = None
        self._visited_successor: np.ndarray | None = None
        self._cluster_exemplars: np.ndarray | None = None
        self.clustering: str | None = None
        self.fit_seconds: float | None = None

    # -- fitted attributes ----------------------------------------------------------
    @property
    def num_states(self) -> int | None:
        """The number of states (after fit: also when it was inferred from the data)."""
        if self._fitted_num_states is not None:
            return self._fitted_num_states
        if self.state_shape is not None:
            return math.prod(self.state_shape)
        return self._num_states_setting

    def _fitted(self, value: np.ndarray | None) -> np.ndarray:
        if value is None:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call .fit(demonstrations) first"
            )
        return value

    @property
    def state_clusters(self) -> np.ndarray:
        """Shape (num_states,), int64: the event id of every state (read-only)."""
        return self._fitted(self._state_clusters)

    @property
    def visited_states(self) -> np.ndarray:
        """Shape (V,), int64, sorted: the states visited by the demonstrations."""
        return self._fitted(self._visited_states)

    @property
    def cluster_exemplars(self) -> np.ndarray:
        """Shape (K,), int64: the exemplar state of each cluster."""
        return self._fitted(self._cluster_exemplars)

    @property
    def successor_representation(self) -> np.ndarray:
        """Shape (num_states, num_states), float64: the SR M (zero for unvisited states).

        Built on access from the visited block, which is all that fit stores.
        """
        visited = self.visited_states
        size = int(self.num_states)  # type: ignore[arg-type]
        full = np.zeros((size, size), dtype=np.float64)
        full[np.ix_(visited, visited)] = self._visited_successor
        return full

    # -- observations to states -----------------------------------------------------
    def _state_indices(self, observations: Any, *, num_states: int | None) -> np.ndarray:
        """Maps a batch of observations to state indices (-1 when out of range).

        Args:
            observations: shape (N,) or (N, 1) integer states, or (N, len(state_shape))
                integer vectors when ``state_shape`` is set.
            num_states: upper bound of the states (``None``: no upper bound).

        Returns:
            shape (N,), int64: state indices, -1 for observations outside the states.
        """
        if isinstance(observations, Mapping):
            raise TypeError(
                "StateClusterEncoder needs integer states, got a dict observation with keys "
                f"{sorted(observations)}; use FeatureClusterEncoder(feature_key=...) or "
                "wrap the environment to return the discrete state"
            )
        array = np.asarray(observations)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"observations must be integer states, got dtype {array.dtype}; "
                "use FeatureClusterEncoder for other observations"
            )
        if self.state_shape is None:
            if array.ndim == 2 and array.shape[1] == 1:
                array = array[:, 0]
            if array.ndim != 1:
                raise ValueError(
                    f"observations must be single integer states, got shape {array.shape[1:]} "
                    "per observation; for vector states pass state_shape=(...)"
                )
        elif array.ndim != 2 or array.shape[1] != len(self.state_shape):
            raise ValueError(
                f"with `state_shape`={self.state_shape} each observation must be a vector of "
                f"{len(self.state_shape)} integers, got shape {array.shape[1:]} per observation; "
                "fix state_shape to match the observations"
            )
        if array.dtype.kind == "f":
            integral = np.isfinite(array) & (array == np.round(array))
            if not np.all(integral):
                bad = array[~integral][0]
                raise ValueError(
                    f"observations must be integer states, got {bad!r}; "
                    "use FeatureClusterEncoder for continuous observations"
                )
        values = array.astype(np.int64)
        if self.state_shape is None:
            inside = values >= 0
            if num_states is not None:
                inside &= values < num_states
            return np.where(inside, values, -1)
        bounds = np.asarray(self.state_shape, dtype=np.int64)
        inside = np.all((values >= 0) & (values < bounds), axis=1)
        states = np.full(values.shape[0], -1, dtype=np.int64)
        if np.any(inside):
            states[inside] = np.ravel_multi_index(tuple(values[inside].T), self.state_shape)
        return states

    def state_index(self, observation: Any) -> int:
        """The state index of one observation (-1 if outside ``[0, num_states)``)."""
        # Fast path for the per-step hot loop: plain integers, no array validation.
        if isinstance(observation, np.ndarray) and observation.dtype.kind in "iu":
            values = observation.tolist()
        elif isinstance(observation, (int, np.integer)) and not isinstance(observation, bool):
            values = int(observation)
        else:
            values = None
        if self.state_shape is None:
            if isinstance(values, list) and len(values) == 1:
                values = values[0]
            if isinstance(values, int):
                limit = self.num_states
                return values if values >= 0 and (limit is None or values < limit) else -1
        elif isinstance(values, list) and len(values) == len(self.state_shape):
            index = 0
            for value, size in zip(values, self.state_shape):
                if not 0 <= value < size:
                    return -1
                index = index * size + value
            return index
        return int(
            self._state_indices(np.asarray(observation)[None], num_states=self.num_states)[0]
        )

    # -- fitting --------------------------------------------------------------------
    def fit(self, episodes: Sequence[Episode]) -> StateClusterEncoder:
        """Learns the SR of the demonstrations and clusters the visited states.

        Args:
            episodes: the demonstrations; observations of shape (T+1,) or
                (T+1, len(state_shape)).

        Returns:
            ``self``.

        Raises:
            ValueError: ``episodes`` is empty, or an observation is not a valid state.
        """
        started = time.perf_counter()
        with blas_threads(1):
            self._fit(episodes)
        self.fit_seconds = time.perf_counter() - started
        return self

    def _fit(self, episodes: Sequence[Episode]) -> None:
        episodes = check_episodes(episodes)
        if self.state_shape is not None:
            num_states: int | None = math.prod(self.state_shape)
        else:
            num_states = self._num_states_setting
        sequences = []
        for index, episode in enumerate(episodes):
            if isinstance(episode.observations, Mapping):
                raise TypeError(
                    f"`episodes[{index}]` has dict observations (keys "
                    f"{sorted(episode.observations)}); StateClusterEncoder needs integer states"
                )
            states = self._state_indices(episode.observations, num_states=num_states)
            if np.any(states < 0):
                step = int(np.flatnonzero(states < 0)[0])
                value = np.asarray(episode.observations[step]).tolist()
                if self.state_shape is not None:
                    limit = f"`state_shape`={self.state_shape}"
                    fix = "pass a larger state_shape"
                elif num_states is not None:
                    limit = f"`num_states`={num_states}"
                    fix = "pass a larger num_states, or num_states=None to infer it"
                else:
                    limit = "the states (they must be >= 0)"
                    fix = "map the observations to states 0, 1, 2, ..."
                raise ValueError(
                    f"`episodes[{index}]` observation {step} is {value}, outside {limit}; {fix}"
                )
            sequences.append((states, episode.terminated))
        if num_states is None:
            num_states = int(max(int(states.max()) for states, _ in sequences)) + 1

        all_states = np.concatenate([states for states, _ in sequences])
        visited, first_seen = np.unique(all_states, return_index=True)
        appearance = np.argsort(first_seen, kind="stable")  # visited positions by first visit
        local_sequences = [
            (np.searchsorted(visited, states).tolist(), terminated)
            for states, terminated in sequences
        ]
        successor = self._learn_successor(local_sequences, len(visited))
        labels, exemplars, clustering = self._cluster(successor)

        # Number the clusters in order of first appearance in the demonstrations.
        order: list[int] = []
        for position in appearance:
            cluster = int(labels[position])
            if cluster not in order:
                order.append(cluster)
        renumber = np.empty(len(order), dtype=np.int64)
        renumber[order] = np.arange(len(order))
        labels = renumber[labels]
        exemplars = exemplars[order]

        num_clusters = len(order)
        state_clusters = np.empty(num_states, dtype=np.int64)
        state_clusters[visited] = labels
        names = [f"cluster {cluster}" for cluster in range(num_clusters)]
        terminal_states = sorted({int(states[-1]) for states, terminated in sequences if terminated})
        if self.terminal_cluster and terminal_states:
            # The states where the demonstrations terminated (a goal) form their own
            # event, so that reaching them is a sub-goal of its own.
            state_clusters[terminal_states] = num_clusters
            names.append(TERMINAL)
        unvisited = len(names)
        state_clusters[np.setdiff1d(np.arange(num_states), visited)] = unvisited
        state_clusters.setflags(write=False)
        names.append(UNVISITED)

        self._fitted_num_states = int(num_states)
        self._state_clusters = state_clusters
        self._visited_states = visited.astype(np.int64)
        self._visited_successor = successor
        self._cluster_exemplars = visited[exemplars].astype(np.int64)
        self.clustering = clustering
        self._alphabet = EventAlphabet(tuple(names))

    def _learn_successor(self, sequences: list[tuple[list[int], bool]], size: int) -> np.ndarray:
        """TD learning of the SR on the visited states (compact indices).

        For each transition (s, s'): M[s] <- (1-a) M[s] + a (onehot(s) + discount M[s']);
        after the last transition of a terminated episode also
        M[s'] <- (1-a) M[s'] + a onehot(s').
        """
        successor = np.zeros((size, size), dtype=np.float64)
        keep = 1.0 - self.learning_rate
        if _successor_compiled is not None:
            flat = np.array([state for states, _ in sequences for state in states], dtype=np.int64)
            ends = np.cumsum([len(states) for states, _ in sequences]).astype(np.int64)
            ended = np.array([terminated for _, terminated in sequences], dtype=np.bool_)
            _successor_compiled(successor, flat, ends, ended, self.passes, keep, self.learning_rate, self.discount)
            return successor
        for _ in range(self.passes):
            for states, terminated in sequences:
                for state, next_state in zip(states[:-1], states[1:], strict=True):
                    target = self.discount * successor[next_state]
                    target[state] += 1.0
                    successor[state] *= keep
                    successor[state] += self.learning_rate * target
                if terminated:
                    last = states[-1]
                    successor[last] *= keep
                    successor[last, last] += self.learning_rate
        return successor

    def _cluster(self, successor: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        """Clusters the visited states; returns (labels (V,), exemplars (K,), method)."""
        size = successor.shape[0]
        if size == 1:
            return np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), "single_state"
        sample = None
        if size > AFFINITY_STATES:
            sample = np.sort(np.random.default_rng(self.seed).choice(size, size=AFFINITY_STATES, replace=False))
        model = AffinityPropagation(
            affinity="precomputed",
            damping=self.damping,
            max_iter=1000,
            convergence_iter=30,
            preference=self.preference,
            random_state=self.seed,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(successor.copy() if sample is None else successor[np.ix_(sample, sample)])
        failed = any(issubclass(warning.category, ConvergenceWarning) for warning in caught)
        labels = np.asarray(model.labels_, dtype=np.int64)
        exemplars = np.asarray(model.cluster_centers_indices_, dtype=np.int64)
        if failed or exemplars.size == 0 or np.any(labels < 0):
            labels = np.arange(size, dtype=np.int64)
            exemplars = np.arange(size, dtype=np.int64)
            clustering = "one_per_state"
        elif sample is not None:
            # Every state joins the exemplar it is most similar to; exemplars keep their own.
            exemplars = sample[exemplars]
            labels = np.argmax(successor[:, exemplars], axis=1).astype(np.int64)
            labels[exemplars] = np.arange(exemplars.size)
            clustering = "affinity_propagation_sampled"
        else:
            clustering = "affinity_propagation"
        if self.max_clusters is not None and exemplars.size > self.max_clusters:
            symmetric = (successor + successor.T) / 2.0
            labels, exemplars = merge_clusters(
                labels, exemplars, symmetric, max_clusters=self.max_clusters
            )
        return labels, exemplars, clustering

    # -- events ---------------------------------------------------------------------
    def _event_of(self, observation: Any) -> int:
        clusters = self.state_clusters
        state = self.state_index(observation)
        if state < 0:
            return len(self.alphabet) - 1
        return int(clusters[state])

    def events_at_reset(self, observation: Any) -> list[int]:
        """``[cluster of s_0]``; states outside ``[0, num_states)`` give ``"unvisited"``."""
        return [self._event_of(observation)]

    def events_at_step(
        self, observation: Any, action: Any, next_observation: Any, info: Mapping
    ) -> list[int]:
        """``[cluster of s_{t+1}]``; states outside ``[0, num_states)`` give ``"unvisited"``."""
        return [self._event_of(next_observation)]

    # -- saving ---------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Settings, the alphabet and fit facts, all JSON-serialisable."""
        return {
            "type": type(self).__name__,
            "alphabet": list(self.alphabet.names),
            "num_states": self._num_states_setting,
            "state_shape": list(self.state_shape) if self.state_shape is not None else None,
            "learning_rate": self.learning_rate,
            "discount": self.discount,
            "passes": self.passes,
            "preference": self.preference,
            "damping": self.damping,
            "max_clusters": self.max_clusters,
            "seed": self.seed,
            "terminal_cluster": self.terminal_cluster,
            "fitted_num_states": self._fitted_num_states,
            "clustering": self.clustering,
        }

    def get_arrays(self) -> dict[str, np.ndarray]:
        """``state_clusters`` (num_states,), ``visited_states`` (V,),
        ``visited_successor_representation`` (V, V) and ``cluster_exemplars`` (K,)."""
        return {
            "state_clusters": np.array(self.state_clusters),
            "visited_states": np.array(self.visited_states),
            "visited_successor_representation": np.array(self._visited_successor),
            "cluster_exemplars": np.array(self.cluster_exemplars),
        }

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray], **overrides: Any
    ) -> StateClusterEncoder:
        """Rebuilds a fitted encoder from :meth:`get_config` and :meth:`get_arrays`."""
        cls._check_config(config, overrides)
        missing = [key for key in ("alphabet", "fitted_num_states") if key not in config]
        missing += [key for key in ("state_clusters", "visited_states") if key not in arrays]
        if missing:
            raise DataFormatError(f"{cls.__name__} config/arrays miss {missing}")
        settings = {key: config[key] for key in _SETTINGS if key in config}
        if settings.get("state_shape") is not None:
            settings["state_shape"] = tuple(settings["state_shape"])
        encoder = cls(**settings)
        alphabet = EventAlphabet(tuple(config["alphabet"]))
        num_states = int(config["fitted_num_states"])
        state_clusters = np.asarray(arrays["state_clusters"], dtype=np.int64)
        visited = np.asarray(arrays["visited_states"], dtype=np.int64)
        if state_clusters.shape != (num_states,) or np.any(
            (state_clusters < 0) | (state_clusters >= len(alphabet))
        ):
            raise DataFormatError(
                f"`state_clusters` must have shape ({num_states},) and ids in "
                f"[0, {len(alphabet)}), got shape {state_clusters.shape}"
            )
        successor = arrays.get("visited_successor_representation")
        if successor is None:
            successor = np.zeros((visited.size, visited.size))
        exemplars = arrays.get("cluster_exemplars")
        if exemplars is None:
            exemplars = np.full(len(alphabet) - 1, -1)
        state_clusters = state_clusters.copy()
        state_clusters.setflags(write=False)
        encoder._fitted_num_states = num_states
        encoder._state_clusters = state_clusters
        encoder._visited_states = visited
        encoder._visited_successor = np.asarray(successor, dtype=np.float64)
        encoder._cluster_exemplars = np.asarray(exemplars, dtype=np.int64)
        encoder.clustering = config.get("clustering")
        encoder._alphabet = alphabet
        return encoder

    def __repr__(self) -> str:
        fitted = f", clusters={len(self.alphabet) - 1}" if self.is_fitted else ""
        return f"StateClusterEncoder(num_states={self.num_states}{fitted})"


def _successor_loops(successor, flat, ends, ended, passes, keep, rate, discount):  # pragma: no cover - compiled
    size = successor.shape[0]
    target = np.empty(size)
    for _ in range(passes):
        start = 0
        for sequence in range(ends.size):
            stop = ends[sequence]
            for position in range(start, stop - 1):
                state = flat[position]
                following = flat[position + 1]
                for column in range(size):
                    target[column] = discount * successor[following, column]
                target[state] += 1.0
                for column in range(size):
                    successor[state, column] = successor[state, column] * keep + rate * target[column]
            if ended[sequence] and stop > start:
                last = flat[stop - 1]
                for column in range(size):
                    successor[last, column] *= keep
                successor[last, last] += rate
            start = stop


try:
    import numba
except ImportError:  # the numpy loop serves without the optional accelerator
    _successor_compiled = None
else:
    _successor_compiled = numba.njit(cache=True, nogil=True)(_successor_loops)
