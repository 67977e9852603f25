"""Q-tables and their behaviour-cloning initialisation."""

from __future__ import annotations

import numpy as np
import pytest

from rudder.agents.tabular import QTable, behavior_cloning_values, initial_q_table
from rudder.data import Episode


def episode(states, actions, rewards):
    return Episode(observations=np.asarray(states), actions=np.asarray(actions), rewards=np.asarray(rewards, dtype=float), terminated=True)


def test_behavior_cloning_values_by_hand():
    # Demo 1: states 0 -a1-> 1 -a0-> 2, rewards 0, 3.  Demo 2: 0 -a1-> 1 -a1-> 2, rewards 1, 1.
    demos = [episode([0, 1, 2], [1, 0], [0, 3]), episode([0, 1, 2], [1, 1], [1, 1])]
    values, seen = behavior_cloning_values(demos, int, 3, 2)
    # (0, a1): returns-to-go 3 and 2, mean 2.5, chosen 2 of 2 times -> 2.5.
    assert values[0, 1] == pytest.approx(2.5)
    # (1, a0): return-to-go 3, chosen 1 of 2 -> 1.5; (1, a1): 1, chosen 1 of 2 -> 0.5.
    assert values[1, 0] == pytest.approx(1.5) and values[1, 1] == pytest.approx(0.5)
    assert seen.tolist() == [[False, True], [True, True], [False, False]]
    # With other rewards (e.g. redistributed ones) the returns-to-go change.
    values, _ = behavior_cloning_values(demos, int, 3, 2, rewards=[np.array([2.0, 1.0]), np.array([0.0, 0.0])])
    assert values[0, 1] == pytest.approx(1.5)


def test_initial_q_table_copies_cloned_values_to_every_context():
    demos = [episode([0, 1, 2], [1, 0], [0, 3])]
    table = initial_q_table(demos, int, 3, 2, num_contexts=4, rng=np.random.default_rng(0))
    assert table.values.shape == (3, 4, 2)
    np.testing.assert_allclose(table.values[0, :, 1], 3.0)
    np.testing.assert_allclose(table.values[1, :, 0], 3.0)
    assert np.std(table.values[2]) > 0  # not demonstrated: random N(1, 0.5)


def test_demonstrated_first_puts_demonstrated_actions_on_top():
    # State 0: action 1 demonstrated with a cloned value of 0.1 (a small redistributed
    # return-to-go), which random N(1, 0.5) values of actions 0 and 2 would beat.
    demos = [episode([0, 1], [1], [0.1])]
    plain = initial_q_table(demos, int, 2, 3, num_contexts=5, rng=np.random.default_rng(0))
    assert (plain.values[0].argmax(axis=1) != 1).any()
    table = initial_q_table(demos, int, 2, 3, num_contexts=5, rng=np.random.default_rng(0), demonstrated_first=True)
    np.testing.assert_allclose(table.values[0, :, 1], 0.1)
    assert (table.values[0].argmax(axis=1) == 1).all()
    assert (table.values[0, :, [0, 2]] < 0.1).all()
    # State 1 was never acted in: it keeps its random values.
    np.testing.assert_array_equal(table.values[1], plain.values[1])


def test_q_table_act():
    table = QTable(np.array([[[0.0, 2.0, 1.0]]]))
    rng = np.random.default_rng(0)
    assert table.act(0, 0, 0.0, rng) == 1
    actions = {table.act(0, 0, 1.0, rng) for _ in range(100)}
    assert actions == {0, 1, 2}
