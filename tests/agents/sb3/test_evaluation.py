"""Evaluating SB3 models: success rates with episodes spread over the envs, per-item rates."""

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from stable_baselines3.common.monitor import Monitor  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402

from rudder.agents.sb3 import episode_succeeded, evaluate_items, evaluate_success  # noqa: E402


class Countdown(gym.Env):
    """Env ``index`` of a vectorised env: episodes of ``length`` steps; ``info["env"]``
    names it and ``info["obtained"]`` says which of two items ("wood", "stone") it got:
    wood always, stone in env 2 only."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, index, length):
        self.index, self.length, self.steps = index, length, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.steps += 1
        done = self.steps == self.length
        info = {"env": self.index, "obtained": np.array([True, self.index == 2])}
        return np.zeros(1, np.float32), float(done), done, False, info


class Idle:
    def predict(self, observations, state=None, episode_start=None, deterministic=False):
        return np.zeros(len(observations), dtype=np.int64), None


def countdown_venv():
    """3 envs whose episodes take 1, 2 and 5 steps."""
    return DummyVecEnv([lambda index=index, length=length: Monitor(Countdown(index, length))
                        for index, length in enumerate((1, 2, 5))])


def test_evaluate_success_counts_episodes_evenly():
    """7 episodes over 3 envs: 2, 2 and 3 (the last env takes the remainder), however
    short the first env's episodes are."""
    venv = countdown_venv()
    finished = []

    def success(info):
        finished.append(info["env"])
        return episode_succeeded(info)

    result = evaluate_success(Idle(), venv, num_episodes=7, seed=0, success=success)
    assert [finished.count(index) for index in range(3)] == [2, 2, 3]
    assert result["success_rate"] == 1.0
    assert result["mean_length"] == pytest.approx((2 * 1 + 2 * 2 + 3 * 5) / 7)
    # the last env takes 3 x 5 steps, and the other two step along until it is done
    assert result["env_steps"] == 3 * 15


def test_evaluate_success_of_a_perfect_planner(redistributor, make_venv):
    pytest.importorskip("minigrid")

    class Planner:
        """Replays the planner inside each env (a perfect policy)."""

        def __init__(self, venv):
            from rudder.envs.minigrid_tasks import MinigridPlanner

            self.planners = [MinigridPlanner(env) for env in venv.envs]

        def predict(self, observations, state=None, episode_start=None, deterministic=False):
            return np.array([planner.plan_action() for planner in self.planners]), None

    venv = make_venv(redistributor, n_envs=3)
    result = evaluate_success(Planner(venv), venv, num_episodes=7, seed=0)
    assert result["success_rate"] == 1.0 and result["mean_return"] > 0.8


def test_evaluate_items_reports_the_share_of_episodes_per_item():
    rates = evaluate_items(Idle(), countdown_venv(), item_names=["wood", "stone"], num_episodes=7, seed=0)
    assert rates == {"wood": 1.0, "stone": pytest.approx(3 / 7)}
    assert list(evaluate_items(Idle(), countdown_venv(), item_names=["wood", "stone"], report=["stone"], num_episodes=3)) == ["stone"]
    with pytest.raises(ValueError, match="not among"):
        evaluate_items(Idle(), countdown_venv(), item_names=["wood", "stone"], report=["iron"], num_episodes=3)
    with pytest.raises(ValueError, match="one entry per item"):
        evaluate_items(Idle(), countdown_venv(), item_names=["wood"], num_episodes=3)
