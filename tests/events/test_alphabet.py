"""The event base types, and what every encoder shares: errors, saving and loading."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rudder.data.episode import Episode
from rudder.errors import NotFittedError
from rudder.events import (
    CallableEventEncoder,
    EventAlphabet,
    EventEncoder,
    EventSequence,
    EventStream,
    FeatureClusterEncoder,
    InventoryEncoder,
    StateClusterEncoder,
    load_encoder,
)


def _episode(observations, *, terminated=True, infos=None) -> Episode:
    if isinstance(observations, dict):
        length = len(next(iter(observations.values()))) - 1
    else:
        length = len(observations) - 1
    return Episode(
        observations=observations,
        actions=np.arange(length) % 3,
        rewards=np.zeros(length),
        terminated=terminated,
        infos=infos or {},
    )


def _action_event(observation, action, next_observation, info):
    return f"action {int(action)}"


def _inventory_episode() -> Episode:
    return _episode(
        {"inventory/log": np.array([0, 1, 1, 3]), "inventory/dirt": np.array([0, 0, 2, 2])}
    )


# One (encoder factory, demonstration) per encoder type.
ENCODERS = {
    "state": (
        lambda: StateClusterEncoder(num_states=6),
        lambda: _episode(np.array([0, 1, 2, 3, 4])),
    ),
    "feature": (
        lambda: FeatureClusterEncoder(num_clusters=2),
        lambda: _episode(np.array([[0.0], [0.2], [5.0], [5.1]])),
    ),
    "inventory": (lambda: InventoryEncoder(), _inventory_episode),
    "callable": (lambda: CallableEventEncoder(_action_event), lambda: _episode(np.zeros(5))),
}
OVERRIDES = {"callable": {"function": _action_event}}


# -- EventAlphabet --------------------------------------------------------------------
def test_alphabet_ids_are_positions():
    alphabet = EventAlphabet(("a", "b", "c"))
    assert len(alphabet) == 3
    assert list(alphabet) == ["a", "b", "c"]
    assert alphabet.index("c") == 2
    assert alphabet.name(1) == "b"
    assert alphabet.name(7) == "?7"
    assert "a" in alphabet and "z" not in alphabet


def test_alphabet_rejects_bad_names():
    with pytest.raises(ValueError, match="at least one"):
        EventAlphabet(())
    with pytest.raises(ValueError, match="repeated"):
        EventAlphabet(("a", "b", "a"))
    with pytest.raises(ValueError, match="non-empty"):
        EventAlphabet(("a", ""))
    with pytest.raises(KeyError, match="unknown event 'z'"):
        EventAlphabet(("a",)).index("z")


def test_event_sequence_validates_steps():
    sequence = EventSequence(np.array([2, 0]), np.array([0, 3]), num_steps=3)
    assert len(sequence) == 2
    assert sequence.events.dtype == np.int64
    with pytest.raises(ValueError, match="non-decreasing"):
        EventSequence(np.array([1, 2]), np.array([2, 1]), num_steps=3)
    with pytest.raises(ValueError, match="non-decreasing"):
        EventSequence(np.array([1]), np.array([4]), num_steps=3)
    with pytest.raises(ValueError, match="differ in shape"):
        EventSequence(np.array([1, 2]), np.array([1]), num_steps=3)


# -- EventStream collapse semantics ---------------------------------------------------
def test_stream_collapses_only_when_the_encoder_asks():
    collapsing = CallableEventEncoder(lambda o, a, n, i: int(n), collapse_repeats=True)
    keeping = CallableEventEncoder(lambda o, a, n, i: int(n), collapse_repeats=False)
    episode = _episode(np.array([9, 1, 1, 2, 2, 2, 1]))
    for encoder in (collapsing, keeping):
        encoder.fit([episode])
    assert collapsing.alphabet.names == ("1", "2", "other")
    collapsed = collapsing.encode(episode)
    assert collapsed.events.tolist() == [0, 1, 0]
    assert collapsed.steps.tolist() == [1, 3, 6]
    kept = keeping.encode(episode)
    assert kept.events.tolist() == [0, 0, 1, 1, 1, 0]
    assert kept.steps.tolist() == [1, 2, 3, 4, 5, 6]


def test_stream_reset_forgets_the_last_event():
    encoder = StateClusterEncoder(num_states=3, max_clusters=1).fit([_episode(np.array([0, 1, 2]))])
    stream = encoder.stream()
    assert isinstance(stream, EventStream)
    assert stream.reset(0) == [0]
    assert stream.step(0, 0, 1, {}) == []
    assert stream.reset(1) == [0]  # a new episode starts fresh


# -- shared behaviour of all encoders -------------------------------------------------
def test_registry_knows_all_encoders():
    for name in (
        "StateClusterEncoder",
        "FeatureClusterEncoder",
        "InventoryEncoder",
        "CallableEventEncoder",
    ):
        assert name in EventEncoder.registry


@pytest.mark.parametrize("kind", sorted(ENCODERS))
def test_not_fitted_error_before_fit(kind):
    make, _ = ENCODERS[kind]
    encoder = make()
    assert not encoder.is_fitted
    with pytest.raises(NotFittedError, match="fit"):
        encoder.alphabet  # noqa: B018
    with pytest.raises(NotFittedError):
        encoder.stream()
    with pytest.raises(NotFittedError):
        encoder.get_config()


@pytest.mark.parametrize("kind", sorted(ENCODERS))
def test_fit_rejects_empty_and_wrong_episodes(kind):
    make, demonstration = ENCODERS[kind]
    with pytest.raises(ValueError, match="`episodes`"):
        make().fit([])
    with pytest.raises(TypeError, match=r"`episodes\[0\]`"):
        make().fit([np.zeros(3)])
    with pytest.raises(TypeError, match="single Episode"):
        make().fit(demonstration())


@pytest.mark.parametrize("kind", sorted(ENCODERS))
def test_config_round_trip_through_json(kind):
    make, demonstration = ENCODERS[kind]
    episode = demonstration()
    encoder = make().fit([episode])
    config = encoder.get_config()
    assert config["type"] == type(encoder).__name__
    assert config["alphabet"] == list(encoder.alphabet.names)
    arrays = encoder.get_arrays()
    assert all(array.dtype != object for array in arrays.values())
    loaded = load_encoder(json.loads(json.dumps(config)), arrays, **OVERRIDES.get(kind, {}))
    assert type(loaded) is type(encoder)
    assert loaded.alphabet == encoder.alphabet
    assert loaded.get_config() == config
    original, again = encoder.encode(episode), loaded.encode(episode)
    assert len(original) > 0
    np.testing.assert_array_equal(again.events, original.events)
    np.testing.assert_array_equal(again.steps, original.steps)


def test_load_encoder_errors():
    with pytest.raises(ValueError, match="unknown encoder type 'Nope'"):
        load_encoder({"type": "Nope"}, {})
    with pytest.raises(ValueError, match="no 'type'"):
        load_encoder({"alphabet": ["a"]}, {})
    with pytest.raises(TypeError, match="mapping"):
        load_encoder([("type", "StateClusterEncoder")], {})


def test_from_config_rejects_another_type_and_unknown_overrides():
    encoder = StateClusterEncoder(num_states=3).fit([_episode(np.array([0, 1, 2]))])
    config = encoder.get_config()
    with pytest.raises(ValueError, match="not FeatureClusterEncoder"):
        FeatureClusterEncoder.from_config(config, encoder.get_arrays())
    with pytest.raises(TypeError, match="overrides"):
        load_encoder(config, encoder.get_arrays(), function=_action_event)
