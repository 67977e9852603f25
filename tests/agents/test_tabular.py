"""Tests of the tabular agents: behaviour-cloning values, Q-tables, the training harness."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rudder.envs  # noqa: F401 - registers the envs
from rudder.agents import (
    QTable,
    TrainingSettings,
    behavior_cloning_values,
    initial_q_table,
    train_until_threshold,
)
from rudder.agents.dqfd import n_step_targets
from rudder.data import Episode
from rudder.envs import rooms_demonstrations


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


def make_four_rooms():
    return gym.make("rudder/FourRooms-v0", paper_compat=True).unwrapped


@pytest.mark.parametrize("method", ["align-rudder", "bc-q", "dqfd", "rudder-lstm"])
def test_training_run_is_deterministic_and_consistent(method):
    if method == "rudder-lstm":
        torch = pytest.importorskip("torch")
        torch.set_num_threads(1)
    demos = rooms_demonstrations(make_four_rooms(), 3, seed=1)
    settings = TrainingSettings(method=method, max_episodes=20, eval_episodes=5, lstm_retrain_every=5)
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
    result = train_until_threshold(
        make_four_rooms, demos, TrainingSettings(max_episodes=3000), seed=0, state_shape=(6, 6, 23)
    )
    assert result.reached, result.evaluations[-5:]
    assert result.evaluations[-1, 1] >= result.threshold


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
        TrainingSettings(**kwargs)


def test_n_step_targets_by_hand():
    # States 0..4, rewards 1, 2, 3, 4, terminal; n = 2, gamma = 0.5.
    returns, states, weights = n_step_targets([0, 1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0], True, n_step=2, discount=0.5)
    np.testing.assert_allclose(returns, [1 + 0.5 * 2, 2 + 0.5 * 3, 3 + 0.5 * 4, 4])
    assert states.tolist() == [2, 3, 4, 4]
    np.testing.assert_allclose(weights, [0.25, 0.25, 0.0, 0.0])  # no bootstrap from the terminal state
    _, _, weights = n_step_targets([0, 1, 2], [0.0, 0.0], False, n_step=5, discount=0.5)
    np.testing.assert_allclose(weights, [0.25, 0.5])  # truncated: bootstrap from the last state
