"""The delayed-choice task."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rudder.envs.delay import DelayedChoiceEnv


def play(env, first, seed=0):
    env.reset(seed=seed)
    rewards, states = [], []
    state, reward, terminated, _, _ = env.step(first)
    rewards.append(reward)
    states.append(state)
    while not terminated:
        state, reward, terminated, _, _ = env.step(0)
        rewards.append(reward)
        states.append(state)
    return np.array(rewards), states


def test_env_checker():
    check_env(DelayedChoiceEnv(5), skip_render_check=True)


@pytest.mark.parametrize("delay", [1, 7, 30])
def test_right_choice_pays_one_after_the_delay_and_the_wrong_one_the_lure(delay):
    env = DelayedChoiceEnv(delay, lure=0.1)
    rewards, _ = play(env, 1)
    assert len(rewards) == delay + 1 and rewards[-1] == 1.0 and rewards[:-1].sum() == 0.0
    rewards, _ = play(env, 0)
    assert rewards[0] == pytest.approx(0.1) and rewards[1:].sum() == 0.0


def test_states_encode_time_choice_and_distractor():
    env = DelayedChoiceEnv(20, width=2)
    _, right = play(env, 1, seed=3)
    _, left = play(env, 0, seed=3)
    assert len(set(right) & set(left)) == 0  # the choice is part of the state
    assert all(0 < s < env.observation_space.n for s in right + left)
    again, _ = play(env, 1, seed=3), None
    assert again[1] == right  # same seed, same distractor walk


def test_features_give_time_choice_and_distractor_in_the_unit_range():
    env = DelayedChoiceEnv(4, width=2)
    env.reset(seed=0)
    assert env.features() == (0.0, 0.5, 0.0)  # no choice made yet
    env.step(1)
    assert env.features() == (0.25, 1.0, 0.0)  # the distractor moves from the next step
    env.step(0)
    t, choice, x = env.features()
    assert (t, choice) == (0.5, 1.0) and x in (-0.5, 0.5)
    assert DelayedChoiceEnv(3, width=0).features() == (0.0, 0.5, 0.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="delay"):
        DelayedChoiceEnv(0)
    with pytest.raises(ValueError, match="lure"):
        DelayedChoiceEnv(3, lure=1.0)
    with pytest.raises(ValueError, match="invalid action"):
        env = DelayedChoiceEnv(3)
        env.reset(seed=0)
        env.step(2)
