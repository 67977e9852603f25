"""Tests of the declared redistributor interface: both redistributors and their online
states satisfy the protocols, and the shared return bookkeeping settles to the return.

The annotated assignments (``redistributor: Redistributor = ...``) are also checked
statically: ``mypy tests/redistribution/test_base.py`` passes."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rudder.data import Episode
from rudder.events import CallableEventEncoder
from rudder.redistribution import (
    AlignmentRedistributor,
    OnlineRedistribution,
    OnlineRedistributionState,
    Redistributor,
    ReturnBookkeeping,
)


def entered(observation, action, next_observation, info):
    return int(next_observation)


def chain(states, episode_return):
    rewards = np.zeros(len(states) - 1)
    rewards[-1] = episode_return
    return Episode(
        observations=np.asarray(states), actions=np.zeros(len(states) - 1, dtype=np.int64), rewards=rewards, terminated=True
    )


def test_alignment_redistributor_and_its_state_satisfy_the_protocols() -> None:
    unfitted: Redistributor = AlignmentRedistributor(CallableEventEncoder(entered))
    assert isinstance(unfitted, Redistributor)
    assert not unfitted.is_fitted and not unfitted.is_ready
    demo = chain([0, 1, 2, 3], 1.0)
    redistributor: Redistributor = AlignmentRedistributor(CallableEventEncoder(entered)).fit([demo, demo])
    assert redistributor.is_fitted and redistributor.is_ready
    state: OnlineRedistributionState = redistributor.start(0)
    assert isinstance(state, OnlineRedistributionState) and isinstance(state, OnlineRedistribution)
    for t in range(demo.length):
        state.step(t, 0, t + 1, float(demo.rewards[t]), t == demo.length - 1, False, {})
    assert state.episode_return == state.redistributed_return == pytest.approx(1.0)
    assert state.position == 3 and state.score > 0 and state.last_correction == pytest.approx(0.0, abs=1e-12)


def test_lstm_redistributor_and_its_state_satisfy_the_protocols() -> None:
    pytest.importorskip("torch")
    from rudder.redistribution.lstm import LSTMRedistributor, OnlineLSTMRedistribution

    redistributor: Redistributor = LSTMRedistributor(gym.spaces.Discrete(4), gym.spaces.Discrete(2), hidden_size=4)
    assert isinstance(redistributor, Redistributor)
    # Not fitted, but ready: its quality gate passes the env reward through.
    assert not redistributor.is_fitted and redistributor.is_ready
    state: OnlineRedistributionState = redistributor.start(0)
    assert isinstance(state, OnlineRedistributionState) and isinstance(state, OnlineLSTMRedistribution)
    assert state.step(0, 1, 1, 0.5, False, False, {}) == 0.5
    assert state.step(1, 0, 2, 1.0, True, False, {}) == 1.0
    assert state.position == 2 and state.episode_return == state.redistributed_return == 1.5
    assert state.score == 0.0 and state.last_correction == 0.0
    episodes = [chain([0, 1, 2], 1.0), chain([0, 2, 3], 0.0)]
    assert redistributor.fit(episodes).is_fitted


def test_objects_missing_a_member_are_not_redistributors() -> None:
    class NoStart:
        is_fitted = is_ready = True

        def fit(self, episodes):
            return self

        def redistribute(self, episode):
            return episode.rewards

        def save(self, path):
            pass

    assert not isinstance(NoStart(), Redistributor)
    assert not isinstance(ReturnBookkeeping(), OnlineRedistributionState)


def test_return_bookkeeping_settles_the_correction_at_the_end() -> None:
    book = ReturnBookkeeping()
    book._start_episode()
    assert book._settle(0.25, 0.0, ended=False, correction=True) == 0.25
    assert book._settle(0.5, 2.0, ended=True, correction=True) == pytest.approx(1.75)
    assert book.last_correction == pytest.approx(1.25)
    assert book.episode_return == book.redistributed_return == pytest.approx(2.0)
    book._start_episode()
    assert book._settle(0.5, 2.0, ended=True, correction=False) == 0.5
    assert book.redistributed_return == 0.5 and book.last_correction == 0.0
