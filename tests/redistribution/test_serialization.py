"""Tests of load_redistributor: it reads both kinds of saved model by their format field."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from rudder.data import Episode
from rudder.envs import frozen_lake_demonstrations
from rudder.errors import DataFormatError
from rudder.events import StateClusterEncoder
from rudder.redistribution import AlignmentRedistributor, Redistributor, load_redistributor


def test_alignment_model_round_trip(tmp_path):
    demonstrations = frozen_lake_demonstrations(4, seed=0)
    redistributor = AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(demonstrations)
    redistributor.save(tmp_path / "model")
    loaded = load_redistributor(tmp_path / "model")
    assert isinstance(loaded, AlignmentRedistributor) and isinstance(loaded, Redistributor)
    for demo in demonstrations:
        np.testing.assert_array_equal(loaded.redistribute(demo), redistributor.redistribute(demo))


def button_episodes(count, seed):
    rng = np.random.default_rng(seed)
    made = []
    for _ in range(count):
        observations = rng.integers(0, 3, size=9)
        actions = rng.integers(0, 2, size=8)
        rewards = np.zeros(8)
        rewards[-1] = float(actions[2] == 1)
        made.append(Episode(observations=observations, actions=actions, rewards=rewards, terminated=True))
    return made


def test_lstm_model_round_trip(tmp_path):
    torch = pytest.importorskip("torch")
    from rudder.redistribution.lstm import LSTMRedistributor

    torch.set_num_threads(1)
    episodes = button_episodes(32, seed=0)
    redistributor = LSTMRedistributor(
        gym.spaces.Discrete(3), gym.spaces.Discrete(2), hidden_size=8, epochs=60, quality_threshold=1.0
    ).fit(episodes)
    assert redistributor.is_reliable
    redistributor.save(tmp_path / "lstm")
    loaded = load_redistributor(tmp_path / "lstm")
    assert isinstance(loaded, LSTMRedistributor) and loaded.settings == redistributor.settings
    for episode in episodes[:5]:
        rewards = redistributor.redistribute(episode)
        assert not np.array_equal(rewards, episode.rewards)  # redistributed, not passed through
        np.testing.assert_array_equal(loaded.redistribute(episode), rewards)
    with pytest.raises(TypeError, match="no overrides"):
        load_redistributor(tmp_path / "lstm", function=print)
    assert isinstance(LSTMRedistributor.load(tmp_path / "lstm"), LSTMRedistributor)


@pytest.mark.parametrize("file", ["model.json", "config.json"])
def test_unknown_or_missing_format_is_a_clear_error(tmp_path, file):
    path = tmp_path / "model"
    path.mkdir()
    (path / file).write_text(json.dumps({"format": "someone-else/model", "format_version": 1}))
    with pytest.raises(DataFormatError, match="unknown format 'someone-else/model'") as raised:
        load_redistributor(path)
    assert str(path) in str(raised.value)
    (path / file).write_text(json.dumps({"format_version": 1}))
    with pytest.raises(DataFormatError, match="names no model format") as raised:
        load_redistributor(path)
    assert str(path) in str(raised.value)
    (path / file).write_text("[1, 2]")
    with pytest.raises(DataFormatError, match="names no model format"):
        load_redistributor(path)


def test_a_directory_without_a_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="no align-rudder model"):
        load_redistributor(tmp_path)


def test_form_discount_and_scale_source_round_trip(tmp_path):
    demonstrations = frozen_lake_demonstrations(4, seed=0)
    costly = [
        Episode(observations=d.observations, actions=d.actions, rewards=d.rewards - 1.0, terminated=d.terminated,
                truncated=d.truncated)
        for d in demonstrations
    ]
    with pytest.warns(UserWarning, match="not positive"):
        redistributor = AlignmentRedistributor(StateClusterEncoder(seed=0), form="potential", discount=0.9).fit(costly)
    assert redistributor.scale_source == "fallback" and redistributor.scale > 0.0
    redistributor.save(tmp_path / "model")
    assert json.loads((tmp_path / "model" / "model.json").read_text())["format_version"] == 2
    loaded = load_redistributor(tmp_path / "model")
    assert isinstance(loaded, AlignmentRedistributor)
    assert loaded.settings == redistributor.settings and loaded.scale_source == "fallback"
    for demo in costly:
        np.testing.assert_array_equal(loaded.redistribute(demo), redistributor.redistribute(demo))
    config = json.loads((tmp_path / "model" / "model.json").read_text())
    config["scale_source"] = "guessed"
    (tmp_path / "model" / "model.json").write_text(json.dumps(config))
    with pytest.raises(DataFormatError, match="unknown scale_source 'guessed'"):
        load_redistributor(tmp_path / "model")


def test_models_of_format_version_1_still_load(tmp_path):
    demonstrations = frozen_lake_demonstrations(4, seed=0)
    redistributor = AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(demonstrations)
    redistributor.save(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "model.json").read_text())
    # As version 1 wrote it: no form, no discount, no scale_source.
    config["format_version"] = 1
    del config["scale_source"], config["settings"]["form"], config["settings"]["discount"]
    (tmp_path / "model" / "model.json").write_text(json.dumps(config))
    old = load_redistributor(tmp_path / "model")
    assert isinstance(old, AlignmentRedistributor)
    assert old.settings.form == "difference" and old.scale_source == "demonstrations"
    assert old.scale == redistributor.scale
    for demo in demonstrations:
        np.testing.assert_array_equal(old.redistribute(demo), redistributor.redistribute(demo))
