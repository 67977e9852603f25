"""FeatureClusterEncoder: clusters of features or of their changes."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from rudder.data.episode import Episode
from rudder.events import FeatureClusterEncoder, load_encoder
from rudder.events import feature_clusters as feature_clusters_module


def _episode(observations) -> Episode:
    if isinstance(observations, dict):
        length = len(next(iter(observations.values()))) - 1
    else:
        observations = np.asarray(observations, dtype=np.float64)
        length = observations.shape[0] - 1
    return Episode(observations, np.zeros(length, dtype=np.int64), np.zeros(length))


# Two blobs, around 0 and around 10.
BLOBS = _episode([[0.0], [0.1], [10.0], [10.1], [0.0]])
# Moves +1, +1, then stands still.
WALK = _episode([[0.0], [1.0], [2.0], [2.0], [2.0]])


@pytest.fixture(scope="module")
def blobs() -> FeatureClusterEncoder:
    return FeatureClusterEncoder(num_clusters=2).fit([BLOBS])


@pytest.fixture(scope="module")
def plane() -> FeatureClusterEncoder:
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    points = centres[rng.integers(3, size=40)] + rng.normal(scale=0.3, size=(40, 2))
    return FeatureClusterEncoder(num_clusters=3).fit([_episode(points)])


def test_blobs_golden(blobs):
    assert blobs.alphabet.names == ("features 0", "features 1")
    np.testing.assert_allclose(blobs.centroids, [[0.1 / 3], [10.05]])
    # Clusters 0 0 1 1 0; collapsed to 0 (reset), 1 (step 2), 0 (step 4).
    sequence = blobs.encode(BLOBS)
    assert sequence.events.tolist() == [0, 1, 0]
    assert sequence.steps.tolist() == [0, 2, 4]
    assert blobs.events_at_reset(np.array([9.0])) == [1]
    assert blobs.events_at_step(np.array([9.0]), 0, np.array([-3.0]), {}) == [0]


def test_differences_golden():
    encoder = FeatureClusterEncoder(num_clusters=2, use_differences=True).fit([WALK])
    # Changes +1 +1 0 0: "+1" appears first (features 0), "no change" second.
    np.testing.assert_allclose(encoder.centroids, [[1.0], [0.0]])
    assert encoder.events_at_reset(np.array([2.0])) == []
    sequence = encoder.encode(WALK)
    assert sequence.events.tolist() == [0, 1]
    assert sequence.steps.tolist() == [1, 3]
    assert encoder.events_at_step(np.array([7.0]), 0, np.array([7.9]), {}) == [0]


def test_num_clusters_is_clamped_to_distinct_points():
    encoder = FeatureClusterEncoder(num_clusters=8).fit([_episode([[1.0], [1.0], [3.0], [1.0]])])
    assert len(encoder.alphabet) == 2
    np.testing.assert_allclose(encoder.centroids, [[1.0], [3.0]])


def test_dict_observations_and_images():
    images = np.zeros((4, 2, 2))
    images[2:] = 1.0
    episode = _episode({"pixels": images, "other": np.arange(4)})
    encoder = FeatureClusterEncoder(num_clusters=2, feature_key="pixels").fit([episode])
    assert encoder.centroids.shape == (2, 4)
    assert encoder.encode(episode).events.tolist() == [0, 1]
    with pytest.raises(ValueError, match="feature_key"):
        FeatureClusterEncoder().fit([episode])
    with pytest.raises(KeyError, match="'nope'"):
        FeatureClusterEncoder(feature_key="nope").fit([episode])


def test_affinity_propagation(plane):
    rng = np.random.default_rng(1)
    points = np.array([[0.0, 0.0], [10.0, 0.0]])[rng.integers(2, size=30)]
    points = points + rng.normal(scale=0.1, size=points.shape)
    encoder = FeatureClusterEncoder(method="affinity", num_clusters=None).fit([_episode(points)])
    assert encoder.clustering == "affinity"
    assert len(encoder.alphabet) >= 2
    left = encoder.events_at_reset(np.array([0.0, 0.0]))
    right = encoder.events_at_reset(np.array([10.0, 0.0]))
    assert left != right


def test_affinity_fallback_to_kmeans(monkeypatch):
    class NotConverging:
        def __init__(self, **settings):
            pass

        def fit(self, points):
            warnings.warn("did not converge", ConvergenceWarning, stacklevel=2)
            self.cluster_centers_indices_ = np.array([], dtype=np.int64)
            return self

    monkeypatch.setattr(feature_clusters_module, "AffinityPropagation", NotConverging)
    encoder = FeatureClusterEncoder(method="affinity", num_clusters=2).fit([BLOBS])
    assert encoder.clustering == "kmeans_fallback"
    np.testing.assert_allclose(encoder.centroids, [[0.1 / 3], [10.05]])


def test_same_seed_same_clusters(plane):
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    points = centres[rng.integers(3, size=40)] + rng.normal(scale=0.3, size=(40, 2))
    again = FeatureClusterEncoder(num_clusters=3).fit([_episode(points)])
    np.testing.assert_array_equal(again.centroids, plane.centroids)


def test_errors(blobs):
    with pytest.raises(ValueError, match="`num_clusters`=None needs method='affinity'"):
        FeatureClusterEncoder(num_clusters=None)
    with pytest.raises(ValueError, match="`method`"):
        FeatureClusterEncoder(method="dbscan")
    with pytest.raises(ValueError, match="`num_clusters` must be >= 1"):
        FeatureClusterEncoder(num_clusters=0)
    with pytest.raises(ValueError, match="2 features"):
        blobs.events_at_reset(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="NaN"):
        FeatureClusterEncoder().fit([_episode([[0.0], [np.nan]])])
    with pytest.raises(ValueError, match="no steps"):
        FeatureClusterEncoder(use_differences=True).fit([_episode([[0.0]])])
    with pytest.raises(ValueError, match="same shape"):
        FeatureClusterEncoder().fit([_episode([[0.0], [1.0]]), _episode([[0.0, 1.0], [1.0, 1.0]])])


@pytest.mark.parametrize("use_differences", [False, True])
def test_round_trip(use_differences):
    encoder = FeatureClusterEncoder(num_clusters=2, use_differences=use_differences).fit([BLOBS])
    config = json.loads(json.dumps(encoder.get_config()))
    loaded = load_encoder(config, encoder.get_arrays())
    np.testing.assert_array_equal(loaded.centroids, encoder.centroids)
    assert loaded.use_differences == use_differences
    for episode in (BLOBS, WALK):
        np.testing.assert_array_equal(loaded.encode(episode).events, encoder.encode(episode).events)


@pytest.fixture(scope="module")
def plane_changes() -> FeatureClusterEncoder:
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(size=(40, 2)), axis=0)
    return FeatureClusterEncoder(num_clusters=4, use_differences=True).fit([_episode(walk)])


@pytest.mark.parametrize("use_differences", [False, True])
@settings(max_examples=30, deadline=None)
@given(points=st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)), min_size=1, max_size=20))
def test_encode_equals_stream(plane, plane_changes, use_differences, points):
    encoder = plane_changes if use_differences else plane
    episode = _episode(points)
    observations = episode.observations
    sequence = encoder.encode(episode)
    stream = encoder.stream()
    events = stream.reset(observations[0])
    steps = [0] * len(events)
    for t in range(len(points) - 1):
        new = stream.step(observations[t], 0, observations[t + 1], {})
        events += new
        steps += [t + 1] * len(new)
    assert sequence.events.tolist() == events
    assert sequence.steps.tolist() == steps
    assert all(a != b for a, b in zip(events, events[1:], strict=False))
    assert (len(events) == 0) == (use_differences and len(points) == 1)
