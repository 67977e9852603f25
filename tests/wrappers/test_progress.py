"""Profile progress in the observation: online wrapper against offline features."""

import gymnasium as gym
import numpy as np
import pytest

from rudder import AlignmentRedistributor
from rudder.data import record_episode, record_episodes
from rudder.envs import frozen_lake_demonstrations, make_frozen_lake
from rudder.events import CallableEventEncoder, StateClusterEncoder
from rudder.wrappers import (
    ProfileProgress,
    ProfileProgressObservation,
    RedistributedReward,
    add_progress,
)


def one_hot_lake():
    return gym.wrappers.TransformObservation(
        make_frozen_lake(),
        lambda state: np.eye(64, dtype=np.float32)[state],
        gym.spaces.Box(0.0, 1.0, (64,), np.float32),
    )


def row_events(observation, action, next_observation, info):
    """The map row the agent is in (an event whenever it changes)."""
    return f"row {int(np.argmax(next_observation)) // 8}"


@pytest.fixture(scope="module")
def fitted():
    env = one_hot_lake()
    plain_demos = frozen_lake_demonstrations(6, seed=0)
    # the same demonstrations, replayed in the one-hot env
    demos = []
    for demo in plain_demos:
        actions = iter(demo.actions)
        demos.append(record_episode(env, lambda observation, rng, actions=actions: int(next(actions)), seed=0))
    redistributor = AlignmentRedistributor(CallableEventEncoder(row_events)).fit(demos)
    return demos, redistributor


def test_features_are_fraction_then_sub_goal_flags(fitted):
    _, redistributor = fitted
    progress = ProfileProgress(redistributor)
    columns = progress.sub_goal_columns
    assert progress.size == 1 + len(columns) and len(columns) > 0
    start = progress.features(0)
    assert start[0] == 0 and np.all(start[1:] == 0)
    end = progress.features(progress.length)
    assert end[0] == 1 and np.all(end[1:] == 1)
    middle = progress.features(int(columns[0]) + 1)
    assert middle[1] == 1 and progress.sub_goals_reached(int(columns[0]) + 1) >= 1
    np.testing.assert_array_equal(progress.features(np.array([0, progress.length])), np.stack([start, end]))


def test_online_observations_equal_offline_features(fitted):
    _, redistributor = fitted
    env = ProfileProgressObservation(RedistributedReward(one_hot_lake(), redistributor))
    plain = one_hot_lake()
    episodes = record_episodes(plain, num_episodes=12, seed=3) + list(fitted[0])
    offline = add_progress(episodes, redistributor)
    for episode, expected in zip(episodes, offline):
        observation, _ = env.reset(seed=None)
        # replay the recorded actions from the same start (FrozenLake's start is fixed, slippery off)
        seen = [observation]
        for action in episode.actions:
            observation, *_ = env.step(int(action))
            seen.append(observation)
        np.testing.assert_array_equal(np.array(seen), expected.observations)
    # the comparison covers progress that changes, not just the start
    assert any(np.any(episode.observations[:, 64] > 0) for episode in offline)


def test_dict_mode_and_spaces(fitted):
    _, redistributor = fitted
    env = ProfileProgressObservation(RedistributedReward(one_hot_lake(), redistributor), mode="dict")
    observation, _ = env.reset(seed=0)
    assert set(observation) == {"observation", "progress"}
    assert env.observation_space.contains(observation)
    box = ProfileProgressObservation(RedistributedReward(one_hot_lake(), redistributor))
    assert box.observation_space.shape == (64 + ProfileProgress(redistributor).size,)
    assert box.observation_space.contains(box.reset(seed=0)[0])


def test_clear_errors(fitted):
    _, redistributor = fitted
    with pytest.raises(ValueError, match="RedistributedReward wrapper below"):
        ProfileProgressObservation(one_hot_lake())
    with pytest.raises(ValueError, match="flat Box"):
        ProfileProgressObservation(RedistributedReward(make_frozen_lake(), redistributor))
    with pytest.raises(ValueError, match="mode"):
        ProfileProgressObservation(RedistributedReward(one_hot_lake(), redistributor), mode="flat")
    with pytest.raises(ValueError, match="flat observations"):
        add_progress(frozen_lake_demonstrations(2, seed=1), redistributor)
    with pytest.raises(ValueError, match="not fitted"):
        ProfileProgress(AlignmentRedistributor(StateClusterEncoder()))


def test_progress_needs_an_alignment_redistributor():
    pytest.importorskip("torch")
    from rudder.redistribution.lstm import LSTMRedistributor

    env = one_hot_lake()
    lstm = LSTMRedistributor(env.observation_space, env.action_space, hidden_size=4)
    with pytest.raises(TypeError, match="not an AlignmentRedistributor"):
        ProfileProgressObservation(RedistributedReward(env, lstm))


def test_progress_never_falls_within_an_episode(fitted):
    """The prefix alignment can move back when a later event realigns it; the features
    follow the furthest position, so no flag switches off and the fraction never falls."""
    _, redistributor = fitted
    episodes = record_episodes(one_hot_lake(), num_episodes=40, seed=11)
    positions = [np.asarray(redistributor.prefix_positions(episode)) for episode in episodes]
    # the raw positions do move back on some of these episodes (else the test shows nothing)
    assert any(np.any(np.diff(position) < 0) for position in positions)
    for episode in add_progress(episodes, redistributor):
        features = episode.observations[:, 64:]
        assert np.all(np.diff(features, axis=0) >= 0)
