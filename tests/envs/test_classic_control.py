"""Classic-control delayed-reward tasks: making them, success, the demonstrators."""

import functools
import pickle

import gymnasium as gym
import numpy as np
import pytest

from rudder.data import Episode, record_episode
from rudder.envs.classic_control import (
    LUNAR_LANDER,
    MOUNTAIN_CAR,
    SUCCESS_TESTS,
    LunarLanderDemonstrator,
    MountainCarDemonstrator,
    lunar_lander_demonstrations,
    lunar_lander_policy,
    lunar_lander_success,
    make_delayed_env,
    mountain_car_demonstrations,
    mountain_car_policy,
    mountain_car_success,
)
from rudder.wrappers import DelayedReward


def same(first, second):
    return all(
        np.array_equal(a.observations, b.observations)
        and np.array_equal(a.actions, b.actions)
        and np.array_equal(a.rewards, b.rewards)
        for a, b in zip(first, second, strict=True)
    )


def test_mountain_car_demonstrations_reach_the_flag_with_the_return_paid_at_the_end():
    demonstrations = mountain_car_demonstrations(4, seed=0)
    assert len(demonstrations) == 4
    for episode in demonstrations:
        assert mountain_car_success(episode) and episode.terminated and not episode.truncated
        assert episode.observations.shape == (episode.length + 1, 2)
        assert np.all(episode.rewards[:-1] == 0.0)
        assert episode.episode_return == -episode.length  # -1 per step, delayed to the end
        assert episode.infos["original_reward"].shape == (episode.length,)
        np.testing.assert_array_equal(episode.infos["original_reward"], -1.0)
    assert len({episode.length for episode in demonstrations}) > 1  # the noise gives variety


def test_mountain_car_demonstrations_without_delay_keep_the_env_rewards():
    (episode,) = mountain_car_demonstrations(1, seed=3, delayed=False)
    np.testing.assert_array_equal(episode.rewards, -1.0)
    assert episode.infos == {}


def test_same_seed_same_mountain_car_demonstrations():
    assert same(mountain_car_demonstrations(3, seed=5), mountain_car_demonstrations(3, seed=5))
    assert not same(mountain_car_demonstrations(3, seed=5), mountain_car_demonstrations(3, seed=6))


def test_energy_pumping_reaches_the_flag_without_noise():
    env = gym.make(MOUNTAIN_CAR)
    for seed in range(5):
        episode = record_episode(
            env, lambda observation, rng: mountain_car_policy(observation), seed=seed
        )
        assert mountain_car_success(episode) and episode.length < 130
    assert mountain_car_policy(np.array([-0.5, 0.0])) == 2
    assert mountain_car_policy(np.array([-0.5, -0.01])) == 0


def test_demonstrators_check_noise():
    with pytest.raises(ValueError, match="noise"):
        MountainCarDemonstrator(noise=1.0)
    with pytest.raises(ValueError, match="noise"):
        mountain_car_demonstrations(1, noise=-0.1)


def test_failing_demonstrator_says_what_to_change():
    with pytest.raises(RuntimeError, match="lower `noise`"):
        mountain_car_demonstrations(1, noise=0.99)


def test_success_tests():
    flag = Episode(
        observations=np.array([[-0.5, 0.0], [0.51, 0.01]]),
        actions=np.array([2]),
        rewards=np.array([-1.0]),
    )
    short = Episode(
        observations=np.array([[-0.5, 0.0], [-0.4, 0.01]]),
        actions=np.array([2]),
        rewards=np.array([-1.0]),
    )
    assert mountain_car_success(flag) and not mountain_car_success(short)
    landed = Episode(
        observations=np.zeros((3, 8)), actions=np.array([0, 0]), rewards=np.array([0.0, 200.0])
    )
    crashed = Episode(
        observations=np.zeros((3, 8)), actions=np.array([0, 0]), rewards=np.array([150.0, 49.0])
    )
    assert lunar_lander_success(landed) and not lunar_lander_success(crashed)
    assert SUCCESS_TESTS == {MOUNTAIN_CAR: mountain_car_success, LUNAR_LANDER: lunar_lander_success}


def test_make_delayed_env_pickles_as_a_partial_for_vector_envs():
    factory = functools.partial(make_delayed_env, MOUNTAIN_CAR)
    assert pickle.dumps(factory)
    env = factory()
    assert isinstance(env, DelayedReward) and env.spec is not None and env.spec.id == MOUNTAIN_CAR
    vector = gym.vector.SyncVectorEnv([factory, factory])
    vector.reset(seed=0)
    _, rewards, *_ = vector.step(np.array([2, 0]))
    np.testing.assert_array_equal(rewards, 0.0)


def test_lunar_lander_demonstrations_succeed_and_repeat():
    pytest.importorskip("Box2D")
    demonstrations = lunar_lander_demonstrations(2, seed=0)
    for episode in demonstrations:
        assert episode.episode_return >= 200 and lunar_lander_success(episode)
        assert episode.observations.shape == (episode.length + 1, 8)
        assert np.all(episode.rewards[:-1] == 0.0)
        assert episode.infos["original_reward"].sum() == pytest.approx(episode.episode_return)
    assert same(demonstrations, lunar_lander_demonstrations(2, seed=0))


def test_lunar_lander_policy_and_demonstrator_actions():
    pytest.importorskip("Box2D")
    env = gym.make(LUNAR_LANDER)
    observation, _ = env.reset(seed=0)
    assert env.action_space.contains(lunar_lander_policy(observation))
    rng = np.random.default_rng(0)
    demonstrator = LunarLanderDemonstrator(env, noise=0.0)
    assert demonstrator(observation, rng) == lunar_lander_policy(observation)
    continuous = gym.make(LUNAR_LANDER, continuous=True)
    observation, _ = continuous.reset(seed=0)
    noisy = LunarLanderDemonstrator(continuous, noise=0.5)
    for _ in range(10):
        assert continuous.action_space.contains(noisy(observation, rng))
