"""The DQfD-like tabular learner."""

from __future__ import annotations

import numpy as np

from rudder.agents.tabular.dqfd import n_step_targets


def test_n_step_targets_by_hand():
    # States 0..4, rewards 1, 2, 3, 4, terminal; n = 2, gamma = 0.5.
    returns, states, weights = n_step_targets([0, 1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0], True, n_step=2, discount=0.5)
    np.testing.assert_allclose(returns, [1 + 0.5 * 2, 2 + 0.5 * 3, 3 + 0.5 * 4, 4])
    assert states.tolist() == [2, 3, 4, 4]
    np.testing.assert_allclose(weights, [0.25, 0.25, 0.0, 0.0])  # no bootstrap from the terminal state
    _, _, weights = n_step_targets([0, 1, 2], [0.0, 0.0], False, n_step=5, discount=0.5)
    np.testing.assert_allclose(weights, [0.25, 0.5])  # truncated: bootstrap from the last state
