"""Issue 16, item 3: a finished episode with no steps redistributes to no rewards.

An episode of length 0 (a one-line VPT file makes one) has return 0 and no step to pay,
so every redistributor returns an empty float64 array (its sum, 0, equals the return)
instead of raising ``IndexError`` on the terminal correction.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rudder import CallableEventEncoder, Episode
from rudder.redistribution import AlignmentRedistributor


def entered(observation, action, next_observation, info):
    return int(next_observation)


def demonstration():
    return Episode(observations=np.array([0, 1, 2, 3]), actions=np.zeros(3, dtype=int),
                   rewards=np.array([0.0, 0.0, 1.0]), terminated=True)


def empty_episode(*, terminated=True, truncated=False):
    return Episode(observations=np.array([0]), actions=np.zeros(0, dtype=int), rewards=np.zeros(0),
                   terminated=terminated, truncated=truncated)


@pytest.mark.parametrize("form", ["difference", "potential"])
@pytest.mark.parametrize("ending", [{"terminated": True}, {"terminated": False, "truncated": True}])
def test_alignment_redistribute_of_an_empty_finished_episode_is_empty(form, ending):
    redistributor = AlignmentRedistributor(CallableEventEncoder(entered), form=form, env_reward_weight=0.5)
    redistributor.fit([demonstration(), demonstration()])
    rewards = redistributor.redistribute(empty_episode(**ending))
    assert rewards.shape == (0,) and rewards.dtype == np.float64
    assert rewards.sum() == 0.0


def test_lstm_redistribute_of_an_empty_finished_episode_is_empty():
    torch = pytest.importorskip("torch")
    from rudder.redistribution.lstm import LSTMRedistributor

    torch.set_num_threads(1)
    redistributor = LSTMRedistributor(gym.spaces.Discrete(4), gym.spaces.Discrete(1), hidden_size=4, epochs=1,
                                      quality_threshold=1e9)
    redistributor.fit([demonstration(), Episode(observations=np.array([0, 1, 1, 1]), actions=np.zeros(3, dtype=int),
                                                rewards=np.zeros(3), terminated=True)])
    assert redistributor.is_reliable  # the gate is open: the model, not the env reward, pays
    for method in ("differences", "integrated_gradients"):
        rewards = redistributor.redistribute(empty_episode(), method=method)
        assert rewards.shape == (0,) and rewards.dtype == np.float64


def test_online_redistribution_of_an_empty_episode_pays_nothing():
    redistributor = AlignmentRedistributor(CallableEventEncoder(entered)).fit([demonstration(), demonstration()])
    state = redistributor.start(0)
    assert state.redistributed_return == 0.0 and state.episode_return == 0.0
