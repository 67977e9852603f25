"""Recording: stacking per-step values, and keeping only accepted episodes with retries."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rudder.data.record import record_episodes, stack_steps


class SeedEcho(gym.Env):
    """One-step episodes whose observation is the reset seed; reward 1 when the seed is
    a multiple of ``every``."""

    observation_space = gym.spaces.Discrete(10_000)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, every: int = 3) -> None:
        self.every = every
        self.seed_used = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.seed_used = int(seed)
        return self.seed_used, {}

    def step(self, action):
        reward = float(self.seed_used % self.every == 0)
        return self.seed_used, reward, True, False, {}


def first_observations(episodes):
    return [int(episode.observations[0]) for episode in episodes]


def test_stack_steps_of_arrays_and_of_dicts():
    assert stack_steps([np.zeros(2), np.ones(2)]).shape == (2, 2)
    stacked = stack_steps([{"a": 1, "b": np.zeros(3)}, {"a": 2, "b": np.ones(3)}])
    assert stacked["a"].tolist() == [1, 2] and stacked["b"].shape == (2, 3)


def test_without_accept_episode_i_is_reset_with_seed_plus_i():
    episodes = record_episodes(SeedEcho(), num_episodes=4, seed=10)
    assert first_observations(episodes) == [10, 11, 12, 13]


def test_accepted_episodes_with_a_seed_stride():
    # episode i tries seeds 100 + 10 i, 100 + 10 i + 1, ... and keeps the first multiple of 3
    episodes = record_episodes(
        SeedEcho(), num_episodes=3, seed=100, accept=lambda e: e.episode_return > 0, max_attempts=3, seed_stride=10
    )
    assert first_observations(episodes) == [102, 111, 120]


def test_accepted_episodes_with_consecutive_seeds():
    # seeds run on across episodes: 4 (refused), 5 (refused), 6, 7, 8, 9, 10, 11, 12
    episodes = record_episodes(
        SeedEcho(), num_episodes=3, seed=4, accept=lambda e: e.episode_return > 0, max_attempts=3
    )
    assert first_observations(episodes) == [6, 9, 12]


def test_too_many_refused_attempts_raise_with_the_hint():
    with pytest.raises(RuntimeError, match=r"2 tries for episode 0 \(reset seeds 1\.\.2\): lower noise"):
        record_episodes(
            SeedEcho(every=5), num_episodes=1, seed=1, accept=lambda e: e.episode_return > 0,
            max_attempts=2, failure_hint=": lower noise",
        )  # fmt: skip
    with pytest.raises(ValueError, match="max_attempts"):
        record_episodes(SeedEcho(), num_episodes=1, max_attempts=0)
