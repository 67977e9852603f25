"""train_sb3's rudder-lstm method: behaviour cloning, then PPO on RUDDER's LSTM
redistribution, whose lessons buffer starts with the demonstrations."""

import functools

import pytest

pytest.importorskip("stable_baselines3")

import torch  # noqa: E402

from rudder.agents.sb3 import (  # noqa: E402
    SB3_METHODS,
    BehaviorCloningSettings,
    PPOSettings,
    SB3RunSettings,
    read_checkpoint_record,
    resume_sb3,
    train_sb3,
)
from rudder.agents.sb3.run import _prepare  # noqa: E402
from rudder.envs.classic_control import MOUNTAIN_CAR, make_delayed_env, mountain_car_demonstrations  # noqa: E402
from rudder.redistribution import LSTMRedistributor  # noqa: E402
from rudder.wrappers import RedistributedReward  # noqa: E402

MAKE_ENV = functools.partial(make_delayed_env, MOUNTAIN_CAR)
SMALL = PPOSettings(n_steps=32, batch_size=64, n_epochs=2)


def _settings(*, total_timesteps=128):
    return SB3RunSettings(
        method="rudder-lstm", total_timesteps=total_timesteps, n_envs=2, eval_every=64, eval_episodes=2, ppo=SMALL,
        behavior_cloning=BehaviorCloningSettings(epochs=2), lstm={"hidden_size": 8},
    )


def test_rudder_lstm_is_a_method():
    assert "rudder-lstm" in SB3_METHODS
    with pytest.raises(ValueError, match="subtask_agents"):
        SB3RunSettings(method="rudder-lstm", subtask_agents=True)


def test_the_lessons_buffer_starts_with_the_demonstrations():
    demos = mountain_car_demonstrations(3, seed=0)
    prepared = _prepare(demos, _settings(), None, make_env=MAKE_ENV, seed=7)
    assert isinstance(prepared.redistributor, LSTMRedistributor)
    assert prepared.redistributor.settings.seed == 7 and prepared.redistributor.settings.hidden_size == 8
    assert not prepared.redistributor.is_trained  # its quality gate pays the env reward until it learns
    assert prepared.training is not None and prepared.training.redistributor is prepared.redistributor
    assert prepared.training.buffer.episodes == demos
    assert prepared.demonstrations == demos and prepared.value_rewards is None  # cloned as bc-ppo clones
    env = prepared.wrapper(MAKE_ENV())
    assert isinstance(env, RedistributedReward) and env.record_episodes
    assert prepared.metadata == {"progress": None}


def test_a_tiny_run_retrains_the_lstm_and_resumes(tmp_path):
    torch.set_num_threads(1)
    # 16 demonstrations with different returns fill the buffer at once: the LSTM is
    # retrained every 2 rollouts of 2 x 32 steps
    demos = mountain_car_demonstrations(16, seed=0)
    outcome = train_sb3(MAKE_ENV, demos, settings=_settings(), seed=0, checkpoint=tmp_path / "run")
    assert outcome.curve[0][0] == 0 and outcome.timesteps >= 128
    assert isinstance(outcome.redistributor, LSTMRedistributor) and outcome.redistributor.is_trained
    record = read_checkpoint_record(tmp_path / "run")
    assert record["metadata"] == {"method": "rudder-lstm", "progress": None} and record["has_redistributor"]
    resumed = resume_sb3(MAKE_ENV, tmp_path / "run", settings=_settings(total_timesteps=64), seed=0)
    assert isinstance(resumed.redistributor, LSTMRedistributor) and resumed.redistributor.is_trained
    assert resumed.timesteps >= outcome.timesteps + 64
