"""The tabular learners' updates, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from rudder.agents.tabular.learners import LookaheadQ, QLearning, lookahead_sums


def test_lookahead_sums_by_hand():
    rewards = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_allclose(lookahead_sums(rewards, 2), [3.0, 5.0, 7.0, 4.0])
    np.testing.assert_allclose(lookahead_sums(rewards, 10), [10.0, 9.0, 7.0, 4.0])
    assert lookahead_sums([], 3).shape == (0,)


def observe(learner, state, context, action, reward, next_state, next_context, *, done=False):
    learner.observe(
        state, context, action, reward, next_state, next_context,
        next_observation=None, terminated=done, truncated=False,
    )


def test_q_learning_bootstraps_except_at_the_end():
    values = np.zeros((3, 1, 2))
    values[1, 0] = [4.0, 2.0]
    learner = QLearning(values, learning_rate=0.5, discount=0.9)
    learner.start_episode(None)
    observe(learner, 0, 0, 1, 1.0, 1, 0)
    assert values[0, 0, 1] == pytest.approx(0.5 * (1.0 + 0.9 * 4.0))
    observe(learner, 1, 0, 0, 2.0, 2, 0, done=True)
    assert values[1, 0, 0] == pytest.approx(4.0 + 0.5 * (2.0 - 4.0))
    learner.end_episode(terminated=True, truncated=False)


def test_lookahead_q_moves_visits_towards_kappa_after_the_episode():
    values = np.zeros((2, 2, 2))
    relabelled = []

    def relabel(observations, actions, rewards, terminated, truncated):
        relabelled.append((list(observations), list(actions), list(rewards), terminated, truncated))
        return [2 * reward for reward in rewards]

    learner = LookaheadQ(values, learning_rate=0.5, lookahead=1, relabel=relabel)
    learner.start_episode("s0")
    learner.observe(0, 0, 1, 1.0, 1, 1, next_observation="s1", terminated=False, truncated=False)
    assert not values.any()  # nothing before the episode ends
    learner.observe(1, 1, 0, 3.0, 0, 1, next_observation="s2", terminated=True, truncated=False)
    learner.end_episode(terminated=True, truncated=False)
    assert relabelled == [(["s0", "s1", "s2"], [1, 0], [1.0, 3.0], True, False)]
    assert values[0, 0, 1] == pytest.approx(0.5 * 2.0) and values[1, 1, 0] == pytest.approx(0.5 * 6.0)
