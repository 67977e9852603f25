"""Issue 16, items 10 and 12 (NaN online): the redistributed rewards sum to the return.

The terminal correction is computed exactly and rounded once (:func:`terminal_reward`):
the exact sum of the redistributed rewards differs from the exact return by at most half
a unit in the last place of the last reward, offline and online alike (bit for bit). The
property runs over episodes whose rewards span 12 orders of magnitude, including
returns tiny next to the individual rewards (where ``rewards[-1] += G - rewards.sum()``
was off by 7.6e-6 relative).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rudder import CallableEventEncoder, Episode
from rudder.redistribution import AlignmentRedistributor
from rudder.redistribution.base import terminal_reward


def entered(observation, action, next_observation, info):
    return int(next_observation) % 6


def demonstration(length, final_reward):
    observations = np.arange(length + 1)
    rewards = np.zeros(length)
    rewards[-1] = final_reward
    return Episode(observations=observations, actions=np.zeros(length, dtype=int), rewards=rewards, terminated=True)


@pytest.fixture(scope="module")
def redistributor():
    demonstrations = [demonstration(length, 1.0) for length in (5, 6, 7, 8)]
    return AlignmentRedistributor(CallableEventEncoder(entered)).fit(demonstrations)


magnitudes = st.integers(min_value=-6, max_value=6)
mantissas = st.floats(min_value=-9.99, max_value=9.99, allow_nan=False, allow_infinity=False)
reward = st.builds(lambda mantissa, exponent: mantissa * 10.0**exponent, mantissas, magnitudes)


@st.composite
def episodes(draw):
    rewards = draw(st.lists(reward, min_size=1, max_size=40))
    if draw(st.booleans()) and len(rewards) > 2:  # a return tiny next to the rewards
        rewards[-1] = -math.fsum(rewards[:-1]) + draw(st.sampled_from([1e-6, -3e-5, 0.0, 7e-3]))
    observations = np.array(draw(st.lists(st.integers(0, 12), min_size=len(rewards) + 1, max_size=len(rewards) + 1)))
    return Episode(observations=observations, actions=np.zeros(len(rewards), dtype=int),
                   rewards=np.array(rewards), terminated=True)


def relative_error(redistributed, episode):
    """|exact sum of the redistributed rewards - exact return| relative to the return (or,
    when the last reward is larger, to it: no float can hold the sum more finely)."""
    exact = math.fsum(episode.rewards.tolist())
    return exact_error(redistributed, episode) / max(abs(exact), abs(float(redistributed[-1])), np.finfo(float).tiny)


def exact_error(redistributed, episode):
    """|sum of the redistributed rewards - sum of the env rewards|, both sums exact."""
    return abs(math.fsum([*redistributed.tolist(), *(-episode.rewards).tolist()]))


def check(redistributor, episode):
    offline = redistributor.redistribute(episode)
    assert relative_error(offline, episode) <= 1e-12
    # within half an ulp of the last reward, the best a float can do
    assert exact_error(offline, episode) <= math.ulp(offline[-1]) / 2
    state = redistributor.start(episode.observation(0))
    online = [state.step(episode.observation(t), episode.actions[t], episode.observation(t + 1), episode.rewards[t],
                         t == episode.length - 1, False, {}) for t in range(episode.length)]
    np.testing.assert_array_equal(np.array(online), offline)  # bit for bit


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(episode=episodes())
def test_redistributed_rewards_sum_to_the_return_within_1e_12(redistributor, episode):
    check(redistributor, episode)


@pytest.mark.slow
@settings(max_examples=6000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(episode=episodes())
def test_redistributed_rewards_sum_to_the_return_within_1e_12_many(redistributor, episode):
    check(redistributor, episode)


def test_a_tiny_return_among_huge_rewards_is_kept_exactly(redistributor):
    rewards = np.array([3.7e5, -1.234567e5, 9.87654e4, 1e-6 - (3.7e5 - 1.234567e5 + 9.87654e4)])
    episode = Episode(observations=np.array([0, 1, 2, 3, 4]), actions=np.zeros(4, dtype=int),
                      rewards=rewards, terminated=True)
    redistributed = redistributor.redistribute(episode)
    assert relative_error(redistributed, episode) <= 1e-12


def test_terminal_reward_is_the_correctly_rounded_difference():
    env = np.array([1e16, 1.0, -1e16, 1.0])
    paid = np.array([0.5, 1e16, -1e16, 0.0])
    assert terminal_reward(env, paid) == 1.5  # 2 - 0.5, which naive float sums get wrong
    assert np.sum(env) - np.sum(paid[:-1]) != 1.5


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_env_reward_online_raises_the_offline_error(redistributor, bad):
    with pytest.raises(ValueError, match="`rewards` must be finite") as offline:
        Episode(observations=np.array([0, 1]), actions=np.zeros(1, dtype=int), rewards=np.array([bad]))
    state = redistributor.start(0)
    with pytest.raises(ValueError, match="`rewards` must be finite") as online:
        state.step(0, 0, 1, bad, False, False, {})
    assert type(online.value) is type(offline.value)
