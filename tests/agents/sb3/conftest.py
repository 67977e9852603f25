"""Shared fixtures of the stable-baselines3 agent tests: minigrid demonstrations and
their redistributor, crafting-world demonstrations, and a redistributed minigrid venv."""

import functools

import gymnasium as gym
import numpy as np
import pytest

ENV_ID = "MiniGrid-KeyCorridorS3R3-v0"


@pytest.fixture(scope="session")
def demos():
    """4 minigrid KeyCorridor demonstrations."""
    pytest.importorskip("minigrid")
    from rudder.envs.minigrid_tasks import minigrid_demonstrations

    return minigrid_demonstrations(ENV_ID, 4, seed=0)


@pytest.fixture(scope="session")
def redistributor(demos):
    """An Align-RUDDER redistributor fitted on :func:`demos`."""
    from rudder import AlignmentRedistributor
    from rudder.envs.minigrid_tasks import interaction_encoder

    return AlignmentRedistributor(interaction_encoder()).fit(demos)


@pytest.fixture(scope="session")
def demonstrations():
    """4 crafting-world demonstrations."""
    from rudder.envs.craft import craft_demonstrations

    return craft_demonstrations(4, seed=0)


@pytest.fixture(scope="session")
def make_venv():
    """``make_venv(redistributor, *, n_envs=2, seed=0, vec_env_cls=None, progress="box")``:
    minigrid KeyCorridor envs with the redistribution above ``Monitor``."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.env_util import make_vec_env

    from rudder.envs.minigrid_tasks import make_minigrid_env
    from rudder.wrappers import redistribution_wrapper

    def make(redistributor, *, n_envs=2, seed=0, vec_env_cls=None, progress="box"):
        return make_vec_env(
            functools.partial(make_minigrid_env, ENV_ID),
            n_envs=n_envs,
            seed=seed,
            vec_env_cls=vec_env_cls,
            wrapper_class=redistribution_wrapper,
            wrapper_kwargs={"redistributor": redistributor, "progress": progress},
        )

    return make


class _Parity(gym.Env):
    """One step, observation the one-hot of position 0: the smallest env a PPO model needs."""

    observation_space = gym.spaces.Box(0.0, 1.0, (8,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.eye(8, dtype=np.float32)[0], {}

    def step(self, action):
        return np.eye(8, dtype=np.float32)[0], 0.0, True, False, {}


@pytest.fixture
def corridor_episode():
    """``corridor_episode(rng, length=6)``: a 1-D task's episode; observation = one-hot
    position, the expert action is the position's parity."""
    from rudder.data import Episode

    def make(rng, length=6):
        positions = rng.integers(0, 8, size=length + 1)
        observations = np.eye(8, dtype=np.float32)[positions]
        rewards = np.zeros(length)
        rewards[-1] = 1.0
        return Episode(observations=observations, actions=positions[:-1] % 2, rewards=rewards, terminated=True)

    return make


@pytest.fixture
def make_model():
    """``make_model(seed=0)``: a small PPO model on the one-hot observations of :func:`corridor_episode`."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rudder.agents.sb3 import PPOSettings, make_ppo

    def make(seed=0):
        return make_ppo(DummyVecEnv([lambda: _Parity()]), PPOSettings(n_steps=16, batch_size=16), seed=seed)

    return make


@pytest.fixture
def Recorder():  # noqa: N802 - a class, as the tests use it
    """A callback class that keeps the actions, rewards and infos of every step."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.callbacks import BaseCallback

    class Recorder(BaseCallback):
        def __init__(self):
            super().__init__()
            self.actions, self.rewards, self.infos = [], [], []

        def _on_step(self):
            self.actions.append(np.array(self.locals["actions"]).copy())
            self.rewards.append(np.array(self.locals["rewards"]).copy())
            self.infos.extend(self.locals["infos"])
            return True

    return Recorder
