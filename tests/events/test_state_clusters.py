"""StateClusterEncoder: successor representation, clusters, events, saving."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from rudder.data.episode import Episode
from rudder.events import StateClusterEncoder, load_encoder
from rudder.events import state_clusters as state_clusters_module
from rudder.events.state_clusters import merge_clusters


def _episode(states, *, terminated=True) -> Episode:
    states = np.asarray(states)
    length = states.shape[0] - 1
    return Episode(
        states, np.zeros(length, dtype=np.int64), np.zeros(length), terminated=terminated
    )


# Two rooms that the demonstrations never travel between: {0, 1, 2} and {3, 4, 5}.
ROOMS = [_episode([0, 1, 2, 0, 1, 2, 1, 0]), _episode([3, 4, 5, 3, 5, 4, 3])]


def _grid_walks(seed: int, *, count: int = 6, length: int = 60) -> list[Episode]:
    rng = np.random.default_rng(seed)
    moves = np.array([(0, 1), (1, 0), (0, -1), (-1, 0)])
    episodes = []
    for _ in range(count):
        position = np.zeros(2, dtype=np.int64)
        path = [position.copy()]
        for move in rng.integers(4, size=length):
            position = np.clip(position + moves[move], 0, 5)
            path.append(position.copy())
        episodes.append(_episode(np.array(path)))
    return episodes


@pytest.fixture(scope="module")
def rooms() -> StateClusterEncoder:
    return StateClusterEncoder(num_states=8, terminal_cluster=False).fit(ROOMS)


# -- successor representation (checked by hand) --------------------------------------
def test_successor_representation_of_a_chain():
    # Chain 0 -> 1 -> 2, terminated; a = 0.5, discount = 0.9.
    # Pass 1: M[0] = .5 e0; M[1] = .5 e1; terminal M[2] = .5 e2.
    # Pass 2: M[0] = .5(.5 e0) + .5(e0 + .9(.5 e1)) = [.75, .225, 0];
    #         M[1] = .5(.5 e1) + .5(e1 + .9(.5 e2)) = [0, .75, .225]; M[2] = [0, 0, .75].
    encoder = StateClusterEncoder(learning_rate=0.5, discount=0.9, passes=2)
    encoder.fit([_episode([0, 1, 2])])
    expected = np.array([[0.75, 0.225, 0.0], [0.0, 0.75, 0.225], [0.0, 0.0, 0.75]])
    np.testing.assert_allclose(encoder.successor_representation, expected)
    assert encoder.successor_representation.dtype == np.float64


def test_successor_representation_self_loop_and_truncation():
    # [0, 0] terminated, a = .5, discount = .5: M[0,0] = .5(1 + 0) = .5, then the terminal
    # update gives .5 * .5 + .5 = .75.
    encoder = StateClusterEncoder(learning_rate=0.5, discount=0.5, passes=1)
    encoder.fit([_episode([0, 0])])
    np.testing.assert_allclose(encoder.successor_representation, [[0.75]])
    # Not terminated: the last state gets no update, its row stays zero.
    encoder = StateClusterEncoder(learning_rate=0.5, discount=0.9, passes=1)
    encoder.fit([_episode([0, 1], terminated=False)])
    np.testing.assert_allclose(encoder.successor_representation, [[0.5, 0.0], [0.0, 0.0]])


def test_unvisited_states_have_zero_rows_and_columns(rooms):
    full = rooms.successor_representation
    assert full.shape == (8, 8)
    assert not full[6:].any() and not full[:, 6:].any()
    assert not full[:3, 3:].any()  # the rooms are not connected
    np.testing.assert_array_equal(rooms.visited_states, np.arange(6))


# -- clusters ---------------------------------------------------------------------------
def test_rooms_become_clusters(rooms):
    assert rooms.alphabet.names == ("cluster 0", "cluster 1", "unvisited")
    np.testing.assert_array_equal(rooms.state_clusters, [0, 0, 0, 1, 1, 1, 2, 2])
    assert rooms.state_clusters.dtype == np.int64
    assert rooms.clustering == "affinity_propagation"
    assert rooms.state_clusters[rooms.cluster_exemplars].tolist() == [0, 1]


def test_terminal_states_get_their_own_event():
    # ROOMS end (terminated) in states 0 and 3: with terminal_cluster they become "terminal".
    encoder = StateClusterEncoder(num_states=8).fit(ROOMS)
    assert encoder.alphabet.names == ("cluster 0", "cluster 1", "terminal", "unvisited")
    np.testing.assert_array_equal(encoder.state_clusters, [2, 0, 0, 2, 1, 1, 3, 3])
    assert encoder.encode(_episode([1, 2, 0])).events.tolist() == [0, 2]
    # Truncated demonstrations end in no goal: no terminal event.
    truncated = [_episode([0, 1, 2], terminated=False), _episode([3, 4, 5], terminated=False)]
    assert "terminal" not in StateClusterEncoder(num_states=8).fit(truncated).alphabet


def test_encode_golden_sequence(rooms):
    # Clusters of [0, 1, 3, 4, 6, 2] are 0 0 1 1 unvisited 0; repeats are collapsed.
    sequence = rooms.encode(_episode([0, 1, 3, 4, 6, 2]))
    assert sequence.events.tolist() == [0, 1, 2, 0]
    assert sequence.steps.tolist() == [0, 2, 4, 5]
    assert sequence.num_steps == 5


def test_clusters_are_numbered_by_first_appearance():
    encoder = StateClusterEncoder(num_states=8, terminal_cluster=False).fit(ROOMS[::-1])
    np.testing.assert_array_equal(encoder.state_clusters, [1, 1, 1, 0, 0, 0, 2, 2])


def test_max_clusters_merges():
    encoder = StateClusterEncoder(num_states=8, max_clusters=1, terminal_cluster=False).fit(ROOMS)
    np.testing.assert_array_equal(encoder.state_clusters, [0, 0, 0, 0, 0, 0, 1, 1])
    encoder = StateClusterEncoder(state_shape=(6, 6), max_clusters=3, terminal_cluster=False).fit(_grid_walks(0))
    assert len(encoder.alphabet) <= 4
    assert set(encoder.state_clusters[encoder.visited_states]) == set(
        range(len(encoder.alphabet) - 1)
    )


def test_merge_clusters_by_hand():
    similarity = np.array(
        [
            [1.0, 0.9, 0.1, 0.1],
            [0.9, 2.0, 0.2, 0.1],
            [0.1, 0.2, 1.0, 0.8],
            [0.1, 0.1, 0.8, 1.0],
        ]
    )
    labels, exemplars = np.arange(4), np.arange(4)
    # Most similar exemplars: 0 and 1 (0.9); item 1 has the larger total (2.9 > 1.9).
    merged, merged_exemplars = merge_clusters(labels, exemplars, similarity, max_clusters=3)
    assert merged.tolist() == [0, 0, 1, 2]
    assert merged_exemplars.tolist() == [1, 2, 3]
    # Next: 2 and 3 (0.8); tie of totals 1.8 = 1.8 -> the lower index, 2.
    merged, merged_exemplars = merge_clusters(labels, exemplars, similarity, max_clusters=2)
    assert merged.tolist() == [0, 0, 1, 1]
    assert merged_exemplars.tolist() == [1, 2]
    merged, _ = merge_clusters(labels, exemplars, similarity, max_clusters=4)
    assert merged.tolist() == [0, 1, 2, 3]


def test_same_seed_same_clusters():
    demonstrations = _grid_walks(1)
    first = StateClusterEncoder(state_shape=(6, 6), seed=3).fit(demonstrations)
    second = StateClusterEncoder(state_shape=(6, 6), seed=3).fit(demonstrations)
    np.testing.assert_array_equal(first.state_clusters, second.state_clusters)
    assert first.alphabet == second.alphabet
    refit = first.fit(demonstrations)
    np.testing.assert_array_equal(refit.state_clusters, second.state_clusters)


def test_fallback_when_affinity_propagation_fails(monkeypatch):
    class NotConverging:
        def __init__(self, **settings):
            pass

        def fit(self, similarity):
            warnings.warn("did not converge", ConvergenceWarning, stacklevel=2)
            self.labels_ = np.full(similarity.shape[0], -1)
            self.cluster_centers_indices_ = np.array([], dtype=np.int64)
            return self

    monkeypatch.setattr(state_clusters_module, "AffinityPropagation", NotConverging)
    encoder = StateClusterEncoder(num_states=8, max_clusters=None, terminal_cluster=False).fit(ROOMS)
    assert encoder.clustering == "one_per_state"
    np.testing.assert_array_equal(encoder.state_clusters, [0, 1, 2, 3, 4, 5, 6, 6])
    encoder = StateClusterEncoder(num_states=8, max_clusters=2, terminal_cluster=False).fit(ROOMS)
    np.testing.assert_array_equal(encoder.state_clusters, [0, 0, 0, 1, 1, 1, 2, 2])


def test_single_visited_state():
    encoder = StateClusterEncoder(terminal_cluster=False).fit([_episode([4, 4, 4])])
    assert encoder.clustering == "single_state"
    assert encoder.num_states == 5
    np.testing.assert_array_equal(encoder.state_clusters, [1, 1, 1, 1, 0])


# -- observations ------------------------------------------------------------------------
def test_num_states_is_inferred_as_max_plus_one():
    encoder = StateClusterEncoder().fit([_episode([0, 1, 5])])
    assert encoder.num_states == 6
    assert encoder.state_clusters.shape == (6,)
    unvisited = encoder.alphabet.index("unvisited")
    assert encoder.state_clusters[[2, 3, 4]].tolist() == [unvisited] * 3


def test_state_shape_vectors():
    demonstration = _episode(np.array([[0, 0], [0, 1], [1, 1], [1, 2]]))
    encoder = StateClusterEncoder(state_shape=(2, 3)).fit([demonstration])
    assert encoder.num_states == 6
    assert encoder.state_index([1, 2]) == 5
    assert encoder.state_index((0, 1)) == 1
    np.testing.assert_array_equal(encoder.visited_states, [0, 1, 4, 5])
    unvisited = encoder.alphabet.index("unvisited")
    assert encoder.state_clusters[[2, 3]].tolist() == [unvisited, unvisited]
    assert encoder.events_at_reset(np.array([2, 0])) == [unvisited]  # row outside the grid


def test_out_of_range_states_at_run_time_are_unvisited(rooms):
    unvisited = rooms.alphabet.index("unvisited")
    for state in (-1, 8, 1000, np.int64(7), 3.0):
        expected = 1 if state == 3.0 else unvisited
        assert rooms.events_at_reset(state) == [expected]
        assert rooms.events_at_step(0, 0, state, {}) == [expected]


def test_fit_errors():
    with pytest.raises(ValueError, match="is 5, outside `num_states`=3"):
        StateClusterEncoder(num_states=3).fit([_episode([0, 1, 5])])
    with pytest.raises(ValueError, match="state_shape"):
        StateClusterEncoder(state_shape=(2, 3)).fit([_episode(np.zeros((3, 3), dtype=int))])
    with pytest.raises(ValueError, match=r"is \[2, 0\], outside `state_shape`"):
        StateClusterEncoder(state_shape=(2, 3)).fit([_episode(np.array([[0, 0], [2, 0]]))])
    with pytest.raises(ValueError, match="outside"):
        StateClusterEncoder().fit([_episode([0, -1])])
    with pytest.raises(ValueError, match="integer states"):
        StateClusterEncoder().fit([_episode([0.0, 0.5])])
    with pytest.raises(ValueError, match="state_shape"):
        StateClusterEncoder().fit([_episode(np.zeros((3, 2), dtype=int))])
    dict_episode = Episode({"state": np.arange(3)}, np.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match="dict observations"):
        StateClusterEncoder().fit([dict_episode])


def test_constructor_errors():
    with pytest.raises(ValueError, match="does not match `state_shape`"):
        StateClusterEncoder(num_states=5, state_shape=(2, 3))
    with pytest.raises(ValueError, match="`state_shape` must be >= 1"):
        StateClusterEncoder(state_shape=(2, 0))
    with pytest.raises(ValueError, match="`learning_rate`"):
        StateClusterEncoder(learning_rate=1.5)
    with pytest.raises(ValueError, match="`learning_rate` must be > 0"):
        StateClusterEncoder(learning_rate=0.0)
    with pytest.raises(ValueError, match="`discount`"):
        StateClusterEncoder(discount=1.0)
    with pytest.raises(ValueError, match="`damping`"):
        StateClusterEncoder(damping=0.2)
    with pytest.raises(ValueError, match="`max_clusters`"):
        StateClusterEncoder(max_clusters=0)
    with pytest.raises(TypeError, match="`passes`"):
        StateClusterEncoder(passes=2.5)


# -- saving ------------------------------------------------------------------------------
def test_round_trip_keeps_everything():
    encoder = StateClusterEncoder(state_shape=(6, 6), max_clusters=4).fit(_grid_walks(2))
    config = json.loads(json.dumps(encoder.get_config()))
    loaded = load_encoder(config, encoder.get_arrays())
    np.testing.assert_array_equal(loaded.state_clusters, encoder.state_clusters)
    np.testing.assert_array_equal(loaded.successor_representation, encoder.successor_representation)
    np.testing.assert_array_equal(loaded.cluster_exemplars, encoder.cluster_exemplars)
    assert loaded.state_shape == (6, 6) and loaded.max_clusters == 4
    for episode in _grid_walks(9, count=3):
        np.testing.assert_array_equal(loaded.encode(episode).events, encoder.encode(episode).events)


# -- encode == stream ---------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(states=st.lists(st.integers(-2, 10), min_size=1, max_size=25))
def test_encode_equals_stream(rooms, states):
    episode = _episode(states)
    sequence = rooms.encode(episode)
    stream = rooms.stream()
    events = stream.reset(states[0])
    steps = [0] * len(events)
    for t in range(len(states) - 1):
        new = stream.step(states[t], 0, states[t + 1], {})
        events += new
        steps += [t + 1] * len(new)
    assert sequence.events.tolist() == events
    assert sequence.steps.tolist() == steps
    # Collapsed: never the same event twice in a row, and the first event is s_0's.
    assert all(a != b for a, b in zip(events, events[1:], strict=False))
    assert events[0] == rooms.events_at_reset(states[0])[0]


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.integers(-3, 9), min_size=3, max_size=3),
    as_array=st.booleans(),
    dtype=st.sampled_from([np.int64, np.int32, np.uint8, np.float64]),
)
def test_single_state_index_matches_the_batch_path(values, as_array, dtype):
    shaped = StateClusterEncoder(state_shape=(4, 5, 6))
    flat = StateClusterEncoder(num_states=7)
    if dtype is np.uint8 and min(values) < 0:
        return
    vector = np.asarray(values, dtype=dtype) if as_array else values
    batch = shaped._state_indices(np.asarray(vector)[None], num_states=shaped.num_states)[0]
    assert shaped.state_index(vector) == batch
    scalar = np.asarray(values[0], dtype=dtype) if as_array else values[0]
    assert flat.state_index(scalar) == flat._state_indices(np.asarray(scalar).reshape(1), num_states=7)[0]
