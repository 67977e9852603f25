"""Tests of the Episode record: validation, immutability, accessors."""

from __future__ import annotations

import numpy as np
import pytest

from rudder.data import Episode


def make_episode(length=3, **overrides):
    fields = dict(
        observations=np.arange(length + 1),
        actions=np.zeros(length, dtype=np.int64),
        rewards=np.zeros(length),
        terminated=True,
    )
    fields.update(overrides)
    return Episode(**fields)


def test_accessors_and_return():
    episode = make_episode(rewards=[0.0, 0.5, 2.0], infos={"gold": np.array([0, 1, 1])})
    assert episode.length == len(episode) == 3
    assert episode.episode_return == 2.5
    assert episode.observation(3) == 3
    assert episode.info(1) == {"gold": 1}
    assert "T=3" in repr(episode)


def test_arrays_are_read_only_copies():
    rewards = np.zeros(3)
    episode = make_episode(rewards=rewards)
    rewards[0] = 5.0
    assert episode.rewards[0] == 0.0
    with pytest.raises(ValueError):
        episode.rewards[0] = 1.0
    with pytest.raises(AttributeError):
        episode.terminated = False


def test_dict_observations():
    episode = make_episode(observations={"inventory/log": np.zeros(4), "pov": np.zeros((4, 2, 2))})
    assert set(episode.observation(0)) == {"inventory/log", "pov"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rewards": [0.0, np.nan, 1.0]}, r"`rewards` must be finite, got nan at step 1"),
        ({"rewards": [0.0, np.inf, 1.0]}, r"`rewards` must be finite, got inf at step 1"),
        ({"rewards": np.zeros((3, 1))}, r"`rewards` must be 1-D"),
        ({"observations": np.arange(3)}, r"`observations` must have T\+1=4 rows .* got shape \(3,\)"),
        ({"actions": np.zeros(2)}, r"`actions` must have T=3 rows .* got shape \(2,\)"),
        ({"observations": {"a": np.zeros(4), "b": np.zeros(5)}}, r"`observations\['b'\]` must have T\+1=4 rows"),
        ({"infos": {"x": np.zeros(4)}}, r"`infos\['x'\]` must have T=3 rows"),
        ({"observations": {}}, "empty mapping"),
    ],
)
def test_bad_fields_name_the_field_and_shapes(overrides, message):
    with pytest.raises(ValueError, match=message):
        make_episode(**overrides)


def test_object_arrays_are_refused():
    with pytest.raises(TypeError, match="dtype=object"):
        make_episode(actions=np.array([{}, {}, {}], dtype=object))
