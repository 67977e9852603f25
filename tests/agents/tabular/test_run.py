"""train_until_threshold: determinism, consistency, learning, settings."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rudder.envs  # noqa: F401 - registers the envs
from rudder.agents.tabular import TABULAR_METHODS, TabularSettings, train_until_threshold
from rudder.envs import rooms_demonstrations


def make_four_rooms():
    return gym.make("rudder/FourRooms-v0", paper_compat=True).unwrapped


@pytest.mark.parametrize("method", TABULAR_METHODS)
def test_training_run_is_deterministic_and_consistent(method):
    if method == "rudder-lstm":
        torch = pytest.importorskip("torch")
        torch.set_num_threads(1)
    demos = rooms_demonstrations(make_four_rooms(), 3, seed=1)
    settings = TabularSettings(method=method, max_episodes=20, eval_episodes=5, lstm_retrain_every=5)
    first = train_until_threshold(make_four_rooms, demos, settings, seed=3, state_shape=(6, 6, 23))
    second = train_until_threshold(make_four_rooms, demos, settings, seed=3, state_shape=(6, 6, 23))
    np.testing.assert_array_equal(first.evaluations, second.evaluations)
    assert (first.episodes, first.env_steps) == (second.episodes, second.env_steps)
    assert first.threshold == pytest.approx(0.8 * np.mean([d.episode_return for d in demos]))
    assert first.evaluations[0, 0] == 0 and np.all(np.diff(first.evaluations[:, 0]) == 10)
    if not first.reached:
        assert first.episodes == 20


def test_align_rudder_learns_four_rooms_from_two_demonstrations():
    demos = rooms_demonstrations(make_four_rooms(), 2, seed=0)
    reported: list[int] = []
    result = train_until_threshold(
        make_four_rooms, demos, TabularSettings(max_episodes=3000), seed=0, state_shape=(6, 6, 23), progress=reported.append
    )
    assert result.reached, result.evaluations[-5:]
    assert result.evaluations[-1, 1] >= result.threshold
    # one report per training episode, the env steps so far
    assert len(reported) == result.episodes and reported[-1] == result.env_steps
    assert all(later > earlier for earlier, later in zip(reported, reported[1:]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "sarsa"}, "method"),
        ({"eval_every": 0}, "eval_every"),
        ({"epsilon": 1.5}, "epsilon"),
        ({"context": "history"}, "context"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TabularSettings(**kwargs)
