"""Tests of the encoders' paths for large fits: the compiled SR loop, sampled affinity
propagation, mini-batch k-means, and the recorded fit time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.data.episode import Episode
from rudder.events import FeatureClusterEncoder, StateClusterEncoder, _clustering
from rudder.events import state_clusters as state_clusters_module


def walk(states: np.ndarray, terminated: bool = True) -> Episode:
    return Episode(
        observations=np.asarray(states), actions=np.zeros(len(states) - 1, dtype=np.int64),
        rewards=np.zeros(len(states) - 1), terminated=terminated,
    )


@settings(max_examples=20, deadline=None)
@given(
    walks=st.lists(st.lists(st.integers(0, 7), min_size=1, max_size=15), min_size=1, max_size=4),
    terminated=st.booleans(),
    passes=st.integers(1, 3),
)
def test_compiled_successor_loop_equals_the_numpy_loop(walks, terminated, passes):
    if state_clusters_module._successor_compiled is None:
        pytest.skip("numba is not installed")
    sequences = [(list(w), terminated) for w in walks]
    encoder = StateClusterEncoder(num_states=8, passes=passes, learning_rate=0.3, discount=0.9)
    compiled = encoder._learn_successor(sequences, 8)
    saved = state_clusters_module._successor_compiled
    try:
        state_clusters_module._successor_compiled = None
        plain = encoder._learn_successor(sequences, 8)
    finally:
        state_clusters_module._successor_compiled = saved
    np.testing.assert_array_equal(compiled, plain)


def test_sampled_affinity_propagation_labels_every_state(monkeypatch):
    monkeypatch.setattr(state_clusters_module, "AFFINITY_STATES", 12)
    chain = np.concatenate([np.arange(40), np.arange(40)[::-1]])
    encoder = StateClusterEncoder(num_states=40, seed=0, terminal_cluster=False).fit([walk(chain), walk(np.arange(40))])
    assert encoder.clustering == "affinity_propagation_sampled"
    visited_events = encoder.state_clusters[encoder.visited_states]
    assert set(visited_events.tolist()) == set(range(len(encoder.cluster_exemplars)))
    # Each exemplar state is in its own cluster, and neighbouring chain states mostly share one.
    exemplar_events = encoder.state_clusters[encoder.cluster_exemplars]
    assert exemplar_events.tolist() == list(range(len(encoder.cluster_exemplars)))
    assert np.mean(np.diff(encoder.state_clusters[:40]) == 0) > 0.5
    assert encoder.fit_seconds is not None and encoder.fit_seconds > 0


def test_mini_batch_kmeans_above_the_threshold(monkeypatch):
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(loc, 0.1, size=(300, 2)) for loc in (-5.0, 0.0, 5.0)])
    monkeypatch.setattr(_clustering, "MINI_BATCH_POINTS", 100)
    centres = _clustering.kmeans_centres(points, 3, seed=1)
    assert centres.shape == (3, 2)
    np.testing.assert_allclose(np.sort(centres[:, 0]), [-5.0, 0.0, 5.0], atol=0.1)
    np.testing.assert_array_equal(centres, _clustering.kmeans_centres(points, 3, seed=1))


def test_feature_encoder_records_its_fit_time():
    rng = np.random.default_rng(2)
    episodes = [walk(np.cumsum(rng.normal(size=(30, 2)), axis=0)) for _ in range(3)]
    encoder = FeatureClusterEncoder(num_clusters=3, seed=0)
    assert encoder.fit_seconds is None
    encoder.fit(episodes)
    assert encoder.fit_seconds is not None and encoder.fit_seconds > 0
