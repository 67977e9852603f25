"""Tests of the scale C of the Align-RUDDER redistributor: pinned for positive returns, fitted
against other episodes, and positive (with a warning) for negative or mixed returns."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rudder.data import Episode
from rudder.envs import frozen_lake_demonstrations
from rudder.errors import AlignmentError
from rudder.events import CallableEventEncoder, StateClusterEncoder
from rudder.redistribution import AlignmentRedistributor
from rudder.redistribution.alignment import FALLBACK_SHARE

#: Observations below this are events (the state entered); the others emit nothing.
NO_EVENT = 5


def observed_state(observation, action, next_observation, info):
    """Event = the next observation, for observations below NO_EVENT."""
    return int(next_observation) if int(next_observation) < NO_EVENT else None


def chain_episode(states, rewards, *, terminated=True, truncated=False):
    return Episode(
        observations=np.asarray(states),
        actions=np.zeros(len(states) - 1, dtype=np.int64),
        rewards=np.asarray(rewards, dtype=float),
        terminated=terminated,
        truncated=truncated,
    )


def fitted(demonstrations, *, other_episodes=None, **settings):
    redistributor = AlignmentRedistributor(CallableEventEncoder(observed_state), **settings)
    return redistributor.fit(demonstrations, other_episodes=other_episodes)


def test_default_scale_and_rewards_are_pinned():
    # Values computed with the code before other_episodes, the fallback scale and the
    # potential form existed: with positive mean demo returns and default settings,
    # fit must give exactly the same scale and rewards (committed benchmarks depend on it).
    # Issue 16 item 10: three terminal rewards moved by one ulp, to G - sum(R[:-1]) correctly
    # rounded (checked with fractions.Fraction); the naive correction was off by that ulp.
    demonstrations = [
        chain_episode([5, 0, 1, 2, 3], [0.0, 0.5, 0.0, 1.5]),
        chain_episode([5, 0, 6, 1, 3], [-0.1, 0.0, 0.0, 0.6]),
        chain_episode([0, 2, 1, 5, 3], [0.0, 0.0, 0.0, -0.3], terminated=False, truncated=True),
    ]
    probes = [
        chain_episode([5, 0, 5, 2, 3, 4], [0.0, 0.0, -1.0, 0.0, 0.25]),
        chain_episode([5, 1, 0, 2], [0.0, 0.0, 0.0], terminated=False),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        redistributor = fitted(demonstrations, delete_score=-1.5)
    assert redistributor.scale == 0.3726452940033575
    assert redistributor.scale_source == "demonstrations"
    expected = [
        [0.3769683191464916, 0.19064567214481287, 0.1510946644190698, 1.2812913442896257],
        [0.3769683191464916, 0.0, 0.19064567214481287, -0.06761399129130449],
        [0.0, 0.1554176895622041, 0.0, -0.4554176895622041],
        [0.3769683191464916, 0.0, 0.15109466441906996, 0.0, -1.2780629835655615],
        [0.0, 0.3769683191464916, 0.15109466441906996],
    ]
    for episode, rewards in zip(demonstrations + probes, expected):
        np.testing.assert_array_equal(redistributor.redistribute(episode), rewards)

    # A real task: FrozenLake with state clusters (affinity propagation), same numbers.
    demonstrations = frozen_lake_demonstrations(5, seed=0)
    redistributor = AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(demonstrations)
    assert redistributor.scale == 0.2251537362912706
    paid, last = 0.26620180835311946, 0.4675963832937611
    expected_first = np.zeros(18)
    expected_first[[5, 13, 17]] = [paid, paid, last]
    np.testing.assert_array_equal(redistributor.redistribute(demonstrations[0]), expected_first)
    redistributor = AlignmentRedistributor(StateClusterEncoder(seed=0), delete_score=-1.5, top_n=3).fit(demonstrations)
    assert redistributor.scale == 0.3149165646227769
    expected_second = np.zeros(14)
    expected_second[[5, 10, 13]] = [0.05174175246968868, 0.3327378319997253, 0.615520415530586]
    np.testing.assert_array_equal(redistributor.redistribute(demonstrations[1]), expected_second)


# A corridor with per-step costs: the goal is state 4, every step costs 1. Demonstrations
# walk straight there (return -4); other episodes wander through state 9 (no event) and
# time out after 12 steps (return -12) having seen fewer of the demonstrated events.
COST_DEMONSTRATIONS = [chain_episode([0, 1, 2, 3, 4], [-1.0] * 4) for _ in range(3)]
WANDERING = [
    chain_episode([0, 9, 9, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9], [-1.0] * 12, terminated=False, truncated=True),
    chain_episode([0, 1, 9, 9, 2, 9, 9, 9, 9, 9, 9, 9, 9], [-1.0] * 12, terminated=False, truncated=True),
    chain_episode([0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9], [-1.0] * 12, terminated=False, truncated=True),
]


def demonstrated_progress_is_paid_positively(redistributor):
    for demo in COST_DEMONSTRATIONS:
        rewards = redistributor.redistribute(demo)
        assert np.all(rewards[:-1] > 0.0), rewards  # every demonstrated step is progress
        assert rewards.sum() == pytest.approx(demo.episode_return, abs=1e-12)
    for episode in WANDERING:
        assert redistributor.redistribute(episode).sum() == pytest.approx(episode.episode_return, abs=1e-12)


def test_per_step_costs_without_other_episodes_pay_progress_positively_with_a_warning():
    with pytest.warns(UserWarning, match=r"mean return is -4 .*pass other_episodes="):
        redistributor = fitted(COST_DEMONSTRATIONS)
    gains = redistributor.demo_scores
    assert redistributor.scale_source == "fallback"
    # Today's rule would give C = -4 / mean gain < 0; the fallback is mean |G| / mean gain.
    assert redistributor.scale == pytest.approx(4.0 / gains.mean()) and redistributor.scale > 0.0
    demonstrated_progress_is_paid_positively(redistributor)


def test_per_step_costs_with_other_episodes_fit_the_scale_on_both():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the demonstrations out-earn the others: no warning
        redistributor = AlignmentRedistributor(CallableEventEncoder(observed_state)).fit(
            COST_DEMONSTRATIONS, other_episodes=WANDERING
        )
    assert redistributor.scale_source == "demonstrations and others"
    # C is the least-squares slope of return on score gain over all six episodes.
    gains = np.array([redistributor.prefix_scores(e)[-1] - redistributor.prefix_scores(e)[0]
                      for e in COST_DEMONSTRATIONS + WANDERING])
    returns = np.array([e.episode_return for e in COST_DEMONSTRATIONS + WANDERING])
    slope, _ = np.polyfit(gains, returns, 1)
    assert redistributor.scale == pytest.approx(slope, rel=1e-9) and redistributor.scale > 0.0
    demonstrated_progress_is_paid_positively(redistributor)


def test_demonstrations_that_do_not_out_earn_the_others_warn_and_fall_back():
    # The others give up at once (return -1, no events): a higher return with less progress.
    quitting = [chain_episode([0, 9], [-1.0]) for _ in range(3)]
    with pytest.warns(UserWarning, match=r"demonstrations \(mean return -4\) do not out-earn .*mean return -1\)"):
        redistributor = AlignmentRedistributor(CallableEventEncoder(observed_state)).fit(
            COST_DEMONSTRATIONS, other_episodes=quitting
        )
    assert redistributor.scale_source == "fallback"
    mean_size = np.mean([4.0] * 3 + [1.0] * 3)
    assert redistributor.scale == pytest.approx(FALLBACK_SHARE * mean_size / redistributor.demo_scores.mean())
    demonstrated_progress_is_paid_positively(redistributor)


def test_a_positive_slope_with_demonstrations_earning_less_warns_but_keeps_the_slope():
    # Others that follow the better demonstration and earn more: the score predicts the
    # return (slope > 0), but the demonstrations are not the better episodes.
    demos = [chain_episode([0, 1, 2, 3], [0.0, 0.0, 1.0]), chain_episode([0, 1, 9, 9], [0.0, 0.0, 0.5])]
    others = [chain_episode([0, 1, 2, 3], [0.0, 0.0, 3.0])] * 2
    with pytest.warns(UserWarning, match=r"do not out-earn the other episodes"):
        redistributor = AlignmentRedistributor(CallableEventEncoder(observed_state)).fit(demos, other_episodes=others)
    assert redistributor.scale_source == "demonstrations and others" and redistributor.scale > 0.0


def test_other_episodes_must_match_the_demonstrations():
    with pytest.raises(ValueError, match="`other_episodes` is empty"):
        fitted(COST_DEMONSTRATIONS, other_episodes=[])
    wide = Episode(observations=np.zeros((3, 2)), actions=np.zeros(2), rewards=np.ones(2), terminated=True)
    with pytest.raises(ValueError, match="mismatched shapes"):
        fitted(COST_DEMONSTRATIONS, other_episodes=[wide])


@st.composite
def chain_episodes(draw, *, returns):
    """A chain episode over states 0..9 (0..4 are events) with rewards summing to any return."""
    length = draw(st.integers(1, 12))
    states = draw(st.lists(st.integers(0, 9), min_size=length + 1, max_size=length + 1))
    rewards = draw(st.lists(returns, min_size=length, max_size=length))
    terminated = draw(st.booleans())
    return chain_episode(states, rewards, terminated=terminated, truncated=not terminated)


@settings(max_examples=60, deadline=None)
@given(
    demonstrations=st.lists(chain_episodes(returns=st.floats(-50.0, 5.0)), min_size=1, max_size=4),
    others=st.none() | st.lists(chain_episodes(returns=st.floats(-50.0, 50.0)), min_size=1, max_size=4),
    probe=chain_episodes(returns=st.floats(-1e3, 1e3)),
)
def test_any_returns_give_a_positive_scale_and_return_equivalence(demonstrations, others, probe):
    # Every demonstration ends with the events 1, 2, 3 (unpaid steps), so a profile exists.
    demonstrations = [
        chain_episode([*d.observations, 1, 2, 3], [*d.rewards, 0.0, 0.0, 0.0], terminated=d.terminated,
                      truncated=d.truncated)
        for d in demonstrations
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            redistributor = fitted(demonstrations, other_episodes=others)
        except AlignmentError:  # the demonstrations score zero against their own profile
            assume(False)
    assert redistributor.scale > 0.0 and np.isfinite(redistributor.scale)
    mean_return = np.mean([d.episode_return for d in demonstrations])
    if others is None and mean_return > 0.0:
        assert redistributor.scale_source == "demonstrations"
    for episode in [*demonstrations, probe]:
        rewards = redistributor.redistribute(episode)
        assert abs(rewards.sum() - episode.episode_return) <= 1e-9 * max(1.0, np.abs(episode.rewards).sum())
