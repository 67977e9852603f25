"""Tests of the RedistributedReward and DelayedReward wrappers."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env

from rudder.data import Episode
from rudder.envs import FrozenLakeDemonstrator, frozen_lake_demonstrations, make_frozen_lake
from rudder.events import StateClusterEncoder
from rudder.redistribution import AlignmentRedistributor
from rudder.wrappers import DelayedReward, RedistributedReward


@pytest.fixture(scope="module")
def redistributor():
    return AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(frozen_lake_demonstrations(5, seed=0))


def run_wrapped(env, policy, *, seed, rng):
    """Runs one episode of a RedistributedReward env; returns the Episode and its rewards."""
    observation, _ = env.reset(seed=seed)
    observations, actions, original, redistributed = [observation], [], [], []
    terminated = truncated = False
    info = {}
    while not (terminated or truncated):
        action = policy(observation, rng)
        observation, reward, terminated, truncated, info = env.step(action)
        observations.append(observation)
        actions.append(action)
        original.append(info["original_reward"])
        redistributed.append(reward)
    episode = Episode(
        observations=np.asarray(observations),
        actions=np.asarray(actions),
        rewards=np.asarray(original, dtype=float),
        terminated=terminated,
        truncated=truncated,
    )
    return episode, np.asarray(redistributed), info


@pytest.mark.parametrize("noise", [0.3, 1.0 - 1e-9])
def test_online_rewards_equal_offline_redistribution(redistributor, noise):
    base = make_frozen_lake()
    env = RedistributedReward(make_frozen_lake(), redistributor)
    policy = FrozenLakeDemonstrator(base, noise=noise)
    rng = np.random.default_rng(1)
    for seed in range(8):
        episode, online, info = run_wrapped(env, policy, seed=seed, rng=rng)
        np.testing.assert_allclose(online, redistributor.redistribute(episode), rtol=0, atol=1e-12)
        assert online.sum() == pytest.approx(episode.episode_return, abs=1e-9)
        summary = info["redistribution"]
        assert summary["episode_return"] == pytest.approx(episode.episode_return)
        assert summary["redistributed_return"] == pytest.approx(episode.episode_return)


def test_reset_starts_a_new_episode(redistributor):
    env = RedistributedReward(make_frozen_lake(), redistributor)
    policy = FrozenLakeDemonstrator(make_frozen_lake(), noise=0.0)
    rng = np.random.default_rng(0)
    first, rewards_first, _ = run_wrapped(env, policy, seed=0, rng=rng)
    # Abandon an episode half-way, then replay the first one: the same rewards.
    env.reset(seed=0)
    env.step(1)
    env.step(1)
    second, rewards_second, _ = run_wrapped(env, policy, seed=0, rng=rng)
    np.testing.assert_array_equal(first.actions, second.actions)
    np.testing.assert_array_equal(rewards_first, rewards_second)


@pytest.mark.filterwarnings("ignore:.*is different from the unwrapped version")
def test_check_env(redistributor):
    check_env(RedistributedReward(make_frozen_lake(), redistributor), skip_render_check=True)
    check_env(DelayedReward(make_frozen_lake()), skip_render_check=True)


def test_step_before_reset(redistributor):
    env = RedistributedReward(make_frozen_lake(), redistributor)
    with pytest.raises(ResetNeeded):
        env.step(0)


def test_unfitted_redistributor_is_refused():
    with pytest.raises(ValueError, match="not fitted"):
        RedistributedReward(make_frozen_lake(), AlignmentRedistributor(StateClusterEncoder()))


def test_pickles_and_runs_in_subprocesses(redistributor):
    env = RedistributedReward(make_frozen_lake(), redistributor)
    clone = pickle.loads(pickle.dumps(env))
    assert clone.redistributor.scale == redistributor.scale

    def make():
        return RedistributedReward(make_frozen_lake(), redistributor)

    actions = np.array([[1, 2], [1, 2], [2, 1], [2, 1], [1, 1], [2, 2]])
    results = []
    for vector_class in (gym.vector.SyncVectorEnv, gym.vector.AsyncVectorEnv):
        envs = vector_class([make, make])
        envs.reset(seed=3)
        rewards = [envs.step(a)[1] for a in actions]
        envs.close()
        results.append(np.asarray(rewards))
    np.testing.assert_array_equal(results[0], results[1])


def test_delayed_reward_pays_the_sum_at_the_end():
    env = DelayedReward(gym.make("CliffWalking-v1", max_episode_steps=6))
    env.reset(seed=0)
    paid, original = [], []
    truncated = terminated = False
    while not (terminated or truncated):
        _, reward, terminated, truncated, info = env.step(0)
        paid.append(reward)
        original.append(info["original_reward"])
    assert paid[:-1] == [0.0] * (len(paid) - 1)
    assert paid[-1] == pytest.approx(sum(original)) and sum(original) == -6
    env.reset(seed=0)
    assert env.step(0)[1] == 0.0


def test_time_limit_becomes_termination():
    import gymnasium as gym

    from rudder.wrappers import TimeLimitAsTermination

    env = TimeLimitAsTermination(gym.wrappers.TimeLimit(gym.make("CartPole-v1").unwrapped, max_episode_steps=3))
    env.reset(seed=0)
    results = [env.step(0) for _ in range(3)]
    assert [r[2] for r in results] == [False, False, True]  # terminated at the limit
    assert not any(r[3] for r in results)  # never truncated
    assert results[-1][4]["time_limit"] is True


def test_an_unfitted_lstm_redistributor_passes_the_env_reward_through_and_records_episodes():
    torch = pytest.importorskip("torch")
    from rudder.redistribution.lstm import LSTMRedistributor

    torch.set_num_threads(1)
    env = make_frozen_lake()
    lstm = LSTMRedistributor(env.observation_space, env.action_space, hidden_size=4)
    assert not lstm.is_fitted and lstm.is_ready
    wrapped = RedistributedReward(env, lstm, record_episodes=True)
    episode, rewards, info = run_wrapped(wrapped, lambda observation, rng: int(rng.integers(4)), seed=0,
                                         rng=np.random.default_rng(0))
    np.testing.assert_array_equal(rewards, episode.rewards)
    np.testing.assert_array_equal(info["episode_record"].actions, episode.actions)
    assert info["redistribution"]["position"] == episode.length
