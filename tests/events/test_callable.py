"""CallableEventEncoder: events from a user function."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.data.episode import Episode
from rudder.events import CallableEventEncoder, EventEncoder, load_encoder


def _episode(observations, actions=None) -> Episode:
    observations = np.asarray(observations)
    length = observations.shape[0] - 1
    actions = np.zeros(length, dtype=np.int64) if actions is None else np.asarray(actions)
    return Episode(observations, actions, np.zeros(length))


def moves(observation, action, next_observation, info):
    """'up' / 'down' when the observation changes, nothing otherwise."""
    change = int(next_observation) - int(observation)
    if change > 0:
        return "up"
    if change < 0:
        return "down"
    return None


def action_and_level(observation, action, next_observation, info):
    """Two events per step: the action (an int), then the level as a tuple."""
    return [int(action), None, ("level", int(next_observation))]


LEVELS = _episode([0, 1, 1, 0, 2, 3])


def test_first_appearance_and_golden_events():
    encoder = CallableEventEncoder(moves).fit([LEVELS])
    assert encoder.alphabet.names == ("up", "down", "other")
    # Steps: up, -, down, up, up -> collapsed: up (1), down (3), up (4).
    sequence = encoder.encode(LEVELS)
    assert sequence.events.tolist() == [0, 1, 0]
    assert sequence.steps.tolist() == [1, 3, 4]
    assert encoder.events_at_reset(0) == []


def test_without_collapse_every_event_counts():
    encoder = CallableEventEncoder(moves, collapse_repeats=False).fit([LEVELS])
    sequence = encoder.encode(LEVELS)
    assert sequence.events.tolist() == [0, 1, 0, 0]
    assert sequence.steps.tolist() == [1, 3, 4, 5]
    # The setting is per instance; the class default is unchanged.
    assert CallableEventEncoder.collapse_repeats is True
    assert CallableEventEncoder(moves).collapse_repeats is True


def test_lists_tuples_and_none():
    episode = _episode([0, 1, 1], actions=[2, 5])
    encoder = CallableEventEncoder(action_and_level, collapse_repeats=False).fit([episode])
    assert encoder.alphabet.names == ("2", "('level', 1)", "5", "other")
    assert encoder.encode(episode).events.tolist() == [0, 1, 2, 1]
    other = encoder.alphabet.index("other")
    assert encoder.events_at_step(0, 7, 1, {}) == [other, 1]
    assert encoder.events_at_step(0, 2, 9, {}) == [0, other]


def test_unseen_events_are_other():
    encoder = CallableEventEncoder(lambda o, a, n, i: i.get("event")).fit(
        [Episode(np.zeros(3), np.zeros(2), np.zeros(2), infos={"event": np.array(["door", "key"])})]
    )
    assert encoder.alphabet.names == ("door", "key", "other")
    assert encoder.events_at_step(0, 0, 0, {"event": "key"}) == [1]
    assert encoder.events_at_step(0, 0, 0, {"event": "dragon"}) == [2]
    assert encoder.events_at_step(0, 0, 0, {}) == []


def test_errors():
    with pytest.raises(TypeError, match="`function` must be callable"):
        CallableEventEncoder("moves")
    with pytest.raises(TypeError, match="`collapse_repeats`"):
        CallableEventEncoder(moves, collapse_repeats="yes")
    with pytest.raises(TypeError, match="unhashable"):
        CallableEventEncoder(lambda o, a, n, i: [{"a": 1}]).fit([LEVELS])
    with pytest.raises(ValueError, match="same name '1'"):
        CallableEventEncoder(lambda o, a, n, i: [1, "1"]).fit([LEVELS])
    with pytest.raises(ValueError, match="named 'other'"):
        CallableEventEncoder(lambda o, a, n, i: "other").fit([LEVELS])
    with pytest.raises(ValueError, match="`episodes`"):
        CallableEventEncoder(moves).fit([])


def test_from_config_needs_the_function():
    encoder = CallableEventEncoder(moves, collapse_repeats=False).fit([LEVELS])
    config = json.loads(json.dumps(encoder.get_config()))
    assert config["function"] == "moves"
    with pytest.raises(TypeError, match="missing required keyword argument 'function'"):
        load_encoder(config, {})
    with pytest.raises(TypeError, match="unexpected overrides"):
        load_encoder(config, {}, function=moves, seed=1)
    loaded = load_encoder(config, encoder.get_arrays(), function=moves)
    assert isinstance(loaded, CallableEventEncoder) and isinstance(loaded, EventEncoder)
    assert loaded.collapse_repeats is False
    assert loaded.alphabet == encoder.alphabet
    np.testing.assert_array_equal(loaded.encode(LEVELS).events, encoder.encode(LEVELS).events)
    assert load_encoder(config, {}, function=moves, collapse_repeats=True).collapse_repeats is True


@pytest.mark.parametrize("collapse_repeats", [True, False])
@settings(max_examples=40, deadline=None)
@given(levels=st.lists(st.integers(0, 4), min_size=1, max_size=20))
def test_encode_equals_stream(collapse_repeats, levels):
    encoder = CallableEventEncoder(
        lambda o, a, n, i: [f"at {int(n)}"] if int(n) < 3 else ["high", None],
        collapse_repeats=collapse_repeats,
    ).fit([_episode([0, 0, 1, 2])])
    episode = _episode(levels)
    sequence = encoder.encode(episode)
    stream = encoder.stream()
    events = stream.reset(levels[0])
    steps = [0] * len(events)
    for t in range(len(levels) - 1):
        new = stream.step(levels[t], 0, levels[t + 1], {})
        events += new
        steps += [t + 1] * len(new)
    assert sequence.events.tolist() == events
    assert sequence.steps.tolist() == steps
    raw = [min(level, 3) for level in levels[1:]]  # 3 stands for "other" (levels 3, 4)
    if collapse_repeats:
        raw = [event for i, event in enumerate(raw) if i == 0 or event != raw[i - 1]]
    assert events == raw
