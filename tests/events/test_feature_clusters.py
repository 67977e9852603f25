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
from rudder.errors import DataFormatError
from rudder.events import FeatureClusterEncoder, _clustering, load_encoder
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
    with pytest.warns(UserWarning, match="only 2 distinct feature vectors; using 2 clusters"):
        encoder = FeatureClusterEncoder(num_clusters=8).fit([_episode([[1.0], [1.0], [3.0], [1.0]])])
    assert len(encoder.alphabet) == 2
    np.testing.assert_allclose(encoder.centroids, [[1.0], [3.0]])
    assert encoder.cluster_choice == "given, reduced to the distinct vectors"
    assert encoder.fit_warnings == (
        "num_clusters=8 but the demonstrations have only 2 distinct feature vectors; "
        "using 2 clusters",
    )


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

    monkeypatch.setattr(_clustering, "AffinityPropagation", NotConverging)
    with pytest.warns(UserWarning, match="did not converge on 4 points; falling back to k-means"):
        encoder = FeatureClusterEncoder(method="affinity", num_clusters=2).fit([BLOBS])
    assert encoder.clustering == "kmeans_fallback"
    assert encoder.cluster_choice == "given"
    np.testing.assert_allclose(encoder.centroids, [[0.1 / 3], [10.05]])
    config = encoder.get_config()
    assert config["clustering"] == "kmeans_fallback"
    assert config["fit_warnings"] == [
        "affinity propagation did not converge on 4 points; falling back to k-means with "
        "num_clusters=2"
    ]


def test_same_seed_same_clusters(plane):
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    points = centres[rng.integers(3, size=40)] + rng.normal(scale=0.3, size=(40, 2))
    again = FeatureClusterEncoder(num_clusters=3).fit([_episode(points)])
    np.testing.assert_array_equal(again.centroids, plane.centroids)


def test_errors(blobs):
    with pytest.raises(ValueError, match="`max_clusters` must be >= 2"):
        FeatureClusterEncoder(max_clusters=1)
    with pytest.raises(TypeError, match="`standardize` must be a bool"):
        FeatureClusterEncoder(standardize=1)
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


# -- standardisation, the number of clusters, fallbacks, old saved models ---------------

# Four groups at the corners (x, y) in {0, 1} x {0, 1000}, visited in the order
# (0, 0), (1, 0), (1, 1000), (0, 1000). x is exact; y spreads -300..300 around its corner
# in steps of 100, so every group's mean is its corner. In raw units the y spread (600)
# dwarfs the x gap (1): four k-means clusters are four bins of y and ignore x.
# Standardised, the x gap is 2 standard deviations and the groups are the corners.
CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1000.0], [0.0, 1000.0]])
SCALES = _episode(
    [corner + [0.0, offset] for corner in CORNERS for offset in np.linspace(-300, 300, 7)]
)


def test_standardisation_clusters_both_dimensions_golden():
    encoder = FeatureClusterEncoder(num_clusters=4).fit([SCALES])
    np.testing.assert_allclose(encoder.centroids, CORNERS, atol=1e-9)
    observations = SCALES.observations
    np.testing.assert_allclose(encoder.feature_mean, [0.5, 500.0])
    np.testing.assert_allclose(encoder.feature_scale, observations.std(axis=0))
    assert encoder.encode(SCALES).events.tolist() == [0, 1, 2, 3]
    assert [encoder.events_at_reset(corner)[0] for corner in CORNERS] == [0, 1, 2, 3]

    raw = FeatureClusterEncoder(num_clusters=4, standardize=False).fit([SCALES])
    np.testing.assert_array_equal(raw.feature_scale, [1.0, 1.0])
    # Without standardisation x does not matter: (0, 0) and (1, 0) are one event.
    assert raw.events_at_reset(CORNERS[0]) == raw.events_at_reset(CORNERS[1])
    assert raw.events_at_reset(CORNERS[2]) == raw.events_at_reset(CORNERS[3])


def test_standardisation_keeps_constant_dimensions():
    # The second feature is constant: scale 1, so it is only centred.
    encoder = FeatureClusterEncoder(num_clusters=2).fit([_episode([[0.0, 5.0], [4.0, 5.0]])])
    np.testing.assert_array_equal(encoder.feature_mean, [2.0, 5.0])
    np.testing.assert_array_equal(encoder.feature_scale, [2.0, 1.0])
    np.testing.assert_allclose(encoder.centroids, [[0.0, 5.0], [4.0, 5.0]])
    assert encoder.events_at_reset(np.array([0.5, 9.0])) == [0]


def _mixture(num_groups: int, *, episodes: int = 10, steps: int = 1000, seed: int = 0):
    """Episodes that stay in one of ``num_groups`` Gaussian groups in 6-D for a while.

    The group centres are at least 6 apart per dimension; dimension 3 is in units 1000
    times larger, dimension 5 in units 1000 times smaller.
    """
    rng = np.random.default_rng(seed)
    centres = rng.permutation(np.arange(num_groups))[:, None] * 6.0 * rng.choice(
        [-1.0, 1.0], size=(num_groups, 6)
    ) + rng.normal(size=(num_groups, 6))
    units = np.array([1.0, 1.0, 1.0, 1000.0, 1.0, 0.001])
    result = []
    for _ in range(episodes):
        # Every group is visited (in a random order), then random groups.
        visits = np.concatenate(
            [rng.permutation(num_groups), rng.integers(num_groups, size=steps // 50)]
        )
        groups = np.repeat(visits, 50)[: steps + 1]
        points = centres[groups] + rng.normal(scale=0.5, size=(steps + 1, 6))
        result.append(_episode(points * units))
    return result


@pytest.fixture(scope="module")
def mixture():
    return _mixture(5)


def test_number_of_clusters_chosen_from_data(mixture):
    encoder = FeatureClusterEncoder(seed=3).fit(mixture)
    assert len(encoder.alphabet) == 5
    assert encoder.clustering == "kmeans"
    assert encoder.cluster_choice == "silhouette"
    assert sorted(encoder.silhouette_scores) == list(range(2, 13))
    assert max(encoder.silhouette_scores, key=encoder.silhouette_scores.get) == 5
    assert encoder.fit_warnings == ()
    config = encoder.get_config()
    assert config["num_clusters"] is None and config["cluster_choice"] == "silhouette"
    assert [k for k, _ in config["silhouette_scores"]] == list(range(2, 13))
    # Each group is one event: the event sequence changes only where the group does.
    for episode in mixture[:3]:
        labels = encoder._nearest(episode.observations.reshape(len(episode.observations), -1))
        blocks = labels.reshape(-1)[: 1000].reshape(20, 50)
        assert (blocks == blocks[:, :1]).all()


@pytest.mark.parametrize("num_groups", [2, 3, 7])
def test_number_of_clusters_other_mixtures(num_groups):
    encoder = FeatureClusterEncoder().fit(_mixture(num_groups, episodes=2, steps=400, seed=1))
    assert len(encoder.alphabet) == num_groups
    assert encoder.cluster_choice == "silhouette"


def test_max_clusters_bounds_the_choice(mixture):
    encoder = FeatureClusterEncoder(max_clusters=3).fit(mixture[:2])
    assert sorted(encoder.silhouette_scores) == [2, 3]
    assert len(encoder.alphabet) <= 3


def test_same_seed_same_chosen_clusters(mixture):
    # max_clusters bounds the silhouette search (the seed's effect on it is the same)
    first = FeatureClusterEncoder(seed=7, use_differences=True, max_clusters=4).fit(mixture[:2])
    second = FeatureClusterEncoder(seed=7, use_differences=True, max_clusters=4).fit(mixture[:2])
    np.testing.assert_array_equal(first.centroids, second.centroids)
    assert first.silhouette_scores == second.silhouette_scores
    assert first.get_config() == second.get_config()
    for episode in mixture[4:6]:
        np.testing.assert_array_equal(first.encode(episode).events, second.encode(episode).events)


def test_too_few_distinct_vectors_for_the_criterion_warns():
    with pytest.warns(UserWarning, match="only 2 distinct feature vector"):
        encoder = FeatureClusterEncoder().fit([_episode([[0.0], [10.0], [0.0]])])
    assert encoder.cluster_choice == "one per distinct vector"
    assert len(encoder.alphabet) == 2 and encoder.silhouette_scores is None


def test_affinity_subsample_warns(monkeypatch):
    monkeypatch.setattr(feature_clusters_module, "AFFINITY_POINTS", 12)
    rng = np.random.default_rng(2)
    points = np.array([[0.0, 0.0], [10.0, 0.0]])[rng.integers(2, size=30)]
    points = points + rng.normal(scale=0.1, size=points.shape)
    with pytest.warns(UserWarning, match="subsample of 12 of the 30 distinct feature vectors"):
        encoder = FeatureClusterEncoder(method="affinity").fit([_episode(points)])
    assert encoder.clustering == "affinity"
    assert encoder.cluster_choice == "affinity propagation"
    assert len(encoder.fit_warnings) == 1
    assert encoder.events_at_reset(np.array([0.0, 0.0])) != encoder.events_at_reset(
        np.array([10.0, 0.0])
    )


def test_affinity_fallback_chooses_k_from_data(monkeypatch, mixture):
    class NotConverging:
        def __init__(self, **settings):
            pass

        def fit(self, points):
            warnings.warn("did not converge", ConvergenceWarning, stacklevel=2)
            self.cluster_centers_indices_ = np.array([], dtype=np.int64)
            return self

    monkeypatch.setattr(_clustering, "AffinityPropagation", NotConverging)
    monkeypatch.setattr(feature_clusters_module, "AFFINITY_POINTS", 50)
    with pytest.warns(UserWarning) as caught:
        encoder = FeatureClusterEncoder(method="affinity").fit(mixture[:2])
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 2 and "subsample of 50" in messages[0]
    assert messages[1].endswith("k-means with the number of clusters chosen by the silhouette")
    assert encoder.clustering == "kmeans_fallback" and encoder.cluster_choice == "silhouette"
    assert len(encoder.alphabet) == 5
    assert encoder.fit_warnings == tuple(messages)


def test_round_trip_records_the_choices(mixture):
    encoder = FeatureClusterEncoder(seed=1, max_clusters=4).fit(mixture[:3])  # a short search: the round trip is the point
    config = json.loads(json.dumps(encoder.get_config()))
    arrays = encoder.get_arrays()
    assert sorted(arrays) == ["centroids", "feature_mean", "feature_scale"]
    loaded = load_encoder(config, arrays)
    assert loaded.get_config() == encoder.get_config()
    np.testing.assert_array_equal(loaded.feature_scale, encoder.feature_scale)
    np.testing.assert_array_equal(loaded.feature_mean, encoder.feature_mean)
    assert loaded.silhouette_scores == encoder.silhouette_scores
    for episode in mixture[3:6]:
        np.testing.assert_array_equal(loaded.encode(episode).events, encoder.encode(episode).events)
    with pytest.raises(DataFormatError, match="feature_scale"):
        load_encoder(config, {"centroids": arrays["centroids"]})
    with pytest.raises(DataFormatError, match="positive"):
        load_encoder(config, {**arrays, "feature_scale": np.zeros_like(arrays["feature_scale"])})


def test_old_saved_encoder_loads_unstandardised():
    # The config and arrays an encoder saved before standardisation existed.
    config = {
        "type": "FeatureClusterEncoder",
        "alphabet": ["features 0", "features 1"],
        "num_clusters": 8,
        "method": "kmeans",
        "use_differences": False,
        "feature_key": None,
        "seed": 0,
        "clustering": "kmeans",
    }
    arrays = {"centroids": np.array([[0.0, 0.0], [10.0, 1000.0]])}
    encoder = load_encoder(config, arrays)
    assert encoder.standardize is False and encoder.cluster_choice is None
    np.testing.assert_array_equal(encoder.feature_mean, [0.0, 0.0])
    np.testing.assert_array_equal(encoder.feature_scale, [1.0, 1.0])
    # Raw Euclidean distances, as before: (10, 0) is nearer (0, 0) than (10, 1000).
    assert encoder.events_at_reset(np.array([10.0, 0.0])) == [0]
    assert encoder.events_at_reset(np.array([0.0, 600.0])) == [1]
    saved = encoder.get_config()
    assert saved["standardize"] is False and saved["fit_warnings"] == []
    old_affinity = {**config, "num_clusters": None, "method": "affinity", "clustering": "affinity"}
    assert load_encoder(old_affinity, arrays).num_clusters is None
