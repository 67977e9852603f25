"""Tests of saving and loading episodes, and of recording them from an env."""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import pytest

from rudder.data import Episode, load_episodes, record_episodes, save_episodes
from rudder.data import io as data_io
from rudder.errors import DataFormatError, FormatVersionError


@pytest.fixture
def episodes():
    rng = np.random.default_rng(0)
    return [
        Episode(observations=rng.random((5, 3)), actions=rng.integers(0, 4, 4), rewards=rng.random(4), terminated=True),
        Episode(
            observations={"inventory/log": np.arange(3), "pov": rng.integers(0, 255, (3, 2, 2), dtype=np.uint8)},
            actions=np.array(["attack", "craft"]),
            rewards=np.array([0.0, 1.0]),
            truncated=True,
            infos={"item": np.array([1, 2])},
        ),
    ]


def assert_same(a: Episode, b: Episode):
    np.testing.assert_array_equal(a.rewards, b.rewards)
    np.testing.assert_array_equal(a.actions, b.actions)
    assert (a.terminated, a.truncated) == (b.terminated, b.truncated)
    if isinstance(a.observations, dict):
        assert a.observations.keys() == b.observations.keys()
        for key in a.observations:
            np.testing.assert_array_equal(a.observations[key], b.observations[key])
            assert a.observations[key].dtype == b.observations[key].dtype
    else:
        np.testing.assert_array_equal(a.observations, b.observations)
    assert a.infos.keys() == b.infos.keys()


def test_round_trip(tmp_path, episodes):
    path = tmp_path / "demos.npz"
    save_episodes(path, episodes)
    loaded = load_episodes(path)
    assert len(loaded) == 2
    for a, b in zip(episodes, loaded):
        assert_same(a, b)


def test_truncated_file(tmp_path, episodes):
    path = tmp_path / "demos.npz"
    save_episodes(path, episodes)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        load_episodes(path)


def test_corrupt_file(tmp_path):
    path = tmp_path / "demos.npz"
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        load_episodes(path)


def test_not_an_episodes_file(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, x=np.zeros(3))
    with pytest.raises(DataFormatError, match="not an align-rudder episodes file"):
        load_episodes(path)


def test_newer_format_version(tmp_path, episodes):
    path = tmp_path / "demos.npz"
    save_episodes(path, episodes)
    with np.load(path) as data:
        contents = dict(data)
    contents["format_version"] = np.array(data_io.EPISODES_FORMAT_VERSION + 1)
    np.savez(path, **contents)
    with pytest.raises(FormatVersionError, match="upgrade align-rudder"):
        load_episodes(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no episodes file"):
        load_episodes(tmp_path / "absent.npz")


def test_failed_save_leaves_nothing(tmp_path, episodes, monkeypatch):
    path = tmp_path / "demos.npz"
    save_episodes(path, episodes[:1])
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(OSError, match="disk full"):
        save_episodes(path, episodes)
    assert path.read_bytes() == before, "the old file must survive a failed save"
    assert os.listdir(tmp_path) == ["demos.npz"], "no temporary file may be left behind"


def test_save_refuses_empty_and_non_episodes(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        save_episodes(tmp_path / "x.npz", [])
    with pytest.raises(TypeError, match=r"episodes\[0\] must be an Episode"):
        save_episodes(tmp_path / "x.npz", [object()])
    assert not (tmp_path / "x.npz").exists()


def test_record_same_seed_same_episodes():
    env = gym.make("FrozenLake-v1", is_slippery=True)
    first = record_episodes(env, num_episodes=3, seed=7)
    second = record_episodes(env, num_episodes=3, seed=7)
    for a, b in zip(first, second):
        assert_same(a, b)
    assert all(e.terminated or e.truncated for e in first)
    other = record_episodes(env, num_episodes=3, seed=8)
    assert any(
        len(a.actions) != len(b.actions) or np.any(a.actions != b.actions) for a, b in zip(first, other)
    )


def test_record_max_steps_and_info_keys():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    [episode] = record_episodes(env, lambda obs, rng: 0, num_episodes=1, max_steps=5, info_keys=["prob"])
    assert episode.length == 5 and episode.truncated and not episode.terminated
    np.testing.assert_array_equal(episode.infos["prob"], np.ones(5))
