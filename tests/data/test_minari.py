"""Tests of rudder.data.minari: datasets made with Minari's own API read back as Episodes."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rudder.data import Episode, save_episodes
from rudder.errors import DataFormatError, DependencyNotInstalled

minari = pytest.importorskip("minari")
pytest.importorskip("pyarrow")

from minari.data_collector.episode_buffer import EpisodeBuffer  # noqa: E402

import rudder.envs  # noqa: E402,F401 - registers rudder/FourRooms-v0
from rudder.data.minari import load_minari, save_minari  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(autouse=True)
def datasets_root(tmp_path, monkeypatch):
    root = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return root


def assert_same(first: Episode, second: Episode) -> None:
    if isinstance(first.observations, dict):
        assert sorted(first.observations) == sorted(second.observations)
        for key, value in first.observations.items():
            assert second.observations[key].dtype == value.dtype
            np.testing.assert_array_equal(second.observations[key], value)
    else:
        assert second.observations.dtype == first.observations.dtype
        np.testing.assert_array_equal(second.observations, first.observations)
    assert second.actions.dtype == first.actions.dtype
    np.testing.assert_array_equal(second.actions, first.actions)
    np.testing.assert_array_equal(second.rewards, first.rewards)
    assert (second.terminated, second.truncated) == (first.terminated, first.truncated)
    assert sorted(second.infos) == sorted(first.infos)
    for key, value in first.infos.items():
        assert second.infos[key].dtype == value.dtype
        np.testing.assert_array_equal(second.infos[key], value)


def rooms_episodes(count: int, *, seed: int = 0) -> list[Episode]:
    from rudder.envs import rooms_demonstrations

    return rooms_demonstrations("rudder/FourRooms-v0", count, seed=seed)


def test_buffers_written_with_minaris_api_read_back_with_the_first_observation():
    # Two hand-made episodes: T = 3 and T = 2, the reset info first in `infos`.
    observations = [np.array([[3, 3, 0], [2, 3, 0], [1, 3, 0], [0, 3, 0]]), np.array([[3, 3, 1], [3, 4, 1], [3, 5, 1]])]
    actions = [np.array([0, 0, 0]), np.array([3, 3])]
    rewards = [[0.0, 0.0, 1.5], [0.0, 2.0]]
    buffers = [
        EpisodeBuffer(
            observations=observations[i], actions=actions[i], rewards=rewards[i],
            terminations=[False] * (len(rewards[i]) - 1) + [i == 0], truncations=[False] * (len(rewards[i]) - 1) + [i == 1],
            infos={"steps": list(np.arange(len(rewards[i]) + 1, dtype=np.int32))},
        )
        for i in range(2)
    ]
    minari.create_dataset_from_buffers("test/rooms/hand-v0", buffers, env="rudder/FourRooms-v0", data_format="arrow")
    episodes = load_minari("test/rooms/hand-v0")
    assert [episode.length for episode in episodes] == [3, 2]
    np.testing.assert_array_equal(episodes[0].observations, observations[0])
    np.testing.assert_array_equal(episodes[1].actions, [3, 3])
    np.testing.assert_array_equal(episodes[0].rewards, [0.0, 0.0, 1.5])
    assert episodes[0].rewards.dtype == np.float64
    assert (episodes[0].terminated, episodes[0].truncated) == (True, False)
    assert (episodes[1].terminated, episodes[1].truncated) == (False, True)
    # The reset row (0) is dropped: step t's info is the info env.step returned at t.
    np.testing.assert_array_equal(episodes[0].infos["steps"], [1, 2, 3])
    assert [episode.length for episode in load_minari("test/rooms/hand-v0", episodes=[1])] == [2]
    assert len(load_minari(minari.load_dataset("test/rooms/hand-v0"), episodes=1)) == 1


def test_round_trip_is_identical():
    episodes = rooms_episodes(4)
    episodes = [
        Episode(
            observations=episode.observations, actions=episode.actions, rewards=episode.rewards,
            terminated=episode.terminated, truncated=episode.truncated,
            infos={"step": np.arange(episode.length, dtype=np.int32), "vector": np.ones((episode.length, 2), np.float32)},
        )
        for episode in episodes
    ]
    dataset = save_minari(episodes, "test/rooms/demos-v0", env="rudder/FourRooms-v0", author="tests")
    assert dataset.total_episodes == 4
    for first, second in zip(episodes, load_minari("test/rooms/demos-v0")):
        assert_same(first, second)


def test_dict_observations_round_trip_nested_and_flatten():
    space = gym.spaces.Dict(
        {"position": gym.spaces.Box(0, 10, (2,), np.float32),
         "inventory": gym.spaces.Dict({"log": gym.spaces.Discrete(5), "planks": gym.spaces.Discrete(5)})}
    )
    rng = np.random.default_rng(0)
    episode = Episode(
        observations={
            "position": rng.uniform(0, 10, (4, 2)).astype(np.float32),
            "inventory/log": np.array([0, 1, 1, 2]), "inventory/planks": np.array([0, 0, 4, 4]),
        },
        actions=np.array([1, 0, 2]), rewards=[0.0, 0.0, 1.0], terminated=True,
    )
    save_minari([episode], "test/dict-v0", observation_space=space, action_space=gym.spaces.Discrete(3))
    (back,) = load_minari("test/dict-v0")
    assert_same(episode, back)
    (flat,) = load_minari("test/dict-v0", observations="flatten")
    assert flat.observations.shape == (4, 4) and flat.observations.dtype == np.float64
    # Space order (gymnasium sorts Dict keys): inventory/log, inventory/planks, position.
    np.testing.assert_array_equal(flat.observations[:, 1], [0, 0, 4, 4])
    np.testing.assert_allclose(flat.observations[:, 2:], episode.observations["position"])


def test_errors_name_the_problem(datasets_root, monkeypatch):
    with pytest.raises(FileNotFoundError, match="minari download test/none-v0"):
        load_minari("test/none-v0")
    with pytest.raises(ValueError, match="env="):
        save_minari(rooms_episodes(1), "test/x-v0")
    save_minari(rooms_episodes(2), "test/two-v0", env="rudder/FourRooms-v0")
    with pytest.raises(ValueError, match=r"episodes \[7\] are not in the dataset"):
        load_minari("test/two-v0", episodes=[7])
    with pytest.raises(ValueError, match="'keep' or 'flatten'"):
        load_minari("test/two-v0", observations="stack")  # type: ignore[arg-type]
    monkeypatch.setitem(__import__("sys").modules, "minari", None)
    with pytest.raises(DependencyNotInstalled, match=r'pip install "align-rudder\[minari\]"'):
        load_minari("test/two-v0")


def test_dict_actions_are_refused():
    from rudder.data.minari import episode_from_minari

    class Data:
        id = 0
        observations = np.zeros((2, 1))
        actions = {"move": np.zeros(1)}
        rewards = np.zeros(1)
        terminations = np.array([True])
        truncations = np.array([False])
        infos: dict = {}

    with pytest.raises(DataFormatError, match="one action array"):
        episode_from_minari(Data())


def test_rudder_align_reads_minari_like_npz(tmp_path, capsys):
    from rudder.cli import main

    episodes = rooms_episodes(3, seed=3)
    save_episodes(tmp_path / "demos.npz", episodes)
    save_minari(episodes, "test/rooms/align-v0", env="rudder/FourRooms-v0")
    outputs = []
    for source, model in ((str(tmp_path / "demos.npz"), "from_npz"), ("minari:test/rooms/align-v0", "from_minari")):
        assert main(["align", source, "-o", str(tmp_path / model)]) == 0
        printed = capsys.readouterr().out.splitlines()
        # the encoder's fit time is a measurement, not a result
        outputs.append([line for line in printed if "Wrote the model" not in line and "Encoder fit" not in line])
    assert outputs[0] == outputs[1]
    assert any("Multiple alignment: 3 demonstrations" in line for line in outputs[0])
    for name in ("from_npz", "from_minari"):
        assert main(["redistribute", str(tmp_path / name), str(tmp_path / "demos.npz"), "--episode", "2"]) == 0
    first, second = capsys.readouterr().out.split("\n\n")[:2]
    assert first == second


def test_data_collector_datasets_replay_in_the_env_and_align_like_npz(tmp_path, capsys):
    pytest.importorskip("jax", reason="Minari's DataCollector needs jax (minari[create])")
    from rudder.cli import main

    collector = minari.DataCollector(gym.make("rudder/FourRooms-v0"), data_format="arrow")
    rng = np.random.default_rng(0)
    seeds = [11, 12, 13]
    for seed in seeds:
        collector.reset(seed=seed)
        done = False
        while not done:
            _, _, terminated, truncated, _ = collector.step(int(rng.integers(4)))
            done = terminated or truncated
    collector.create_dataset("test/rooms/collected-v0", algorithm_name="random", author="tests")
    collector.close()
    episodes = load_minari("test/rooms/collected-v0")
    assert len(episodes) == 3
    env = gym.make("rudder/FourRooms-v0")
    for seed, episode in zip(seeds, episodes):
        observation, _ = env.reset(seed=seed)
        np.testing.assert_array_equal(episode.observations[0], observation)
        for step, action in enumerate(episode.actions):
            observation, reward, terminated, truncated, _ = env.step(int(action))
            np.testing.assert_array_equal(episode.observations[step + 1], observation)
            assert episode.rewards[step] == reward
        assert (episode.terminated, episode.truncated) == (terminated, truncated)
    save_episodes(tmp_path / "collected.npz", episodes)
    outputs = []
    for source in (str(tmp_path / "collected.npz"), "minari:test/rooms/collected-v0"):
        assert main(["align", source, "-o", str(tmp_path / "model")]) == 0
        outputs.append([line for line in capsys.readouterr().out.splitlines() if "Wrote" not in line])
    assert outputs[0] == outputs[1]
