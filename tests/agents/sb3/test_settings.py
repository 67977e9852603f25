"""The settings of the SB3 agents: validation and JSON round trips."""

import pytest

pytest.importorskip("stable_baselines3")

from rudder.agents.sb3.settings import (  # noqa: E402
    SB3_METHODS,
    BehaviorCloningSettings,
    PPOSettings,
    SB3RunSettings,
)
from rudder.errors import DataFormatError  # noqa: E402


def test_subtask_agents_need_align_rudder():
    with pytest.raises(ValueError, match="subtask_agents"):
        SB3RunSettings(method="bc-ppo", subtask_agents=True)
    with pytest.raises(ValueError, match="num_subtasks"):
        PPOSettings(policy="SubtaskPolicy")


def test_run_settings_refuse_unknown_methods():
    assert SB3_METHODS == ("ppo", "bc", "bc-ppo", "align-rudder", "rudder-lstm")
    with pytest.raises(ValueError, match="method"):
        SB3RunSettings(method="dqn")
    with pytest.raises(ValueError, match="n_envs"):
        SB3RunSettings(n_envs=0)


def test_ppo_settings_round_trip_through_json():
    settings = PPOSettings(policy="SubtaskPolicy", num_subtasks=3, net_arch=[32, 16], activation="relu", shared_layers=1)
    assert settings.net_arch == (32, 16)
    assert PPOSettings.from_json(settings.to_json()) == settings
    # a checkpoint written before shared layers existed: none shared
    older = {key: value for key, value in settings.to_json().items() if key != "shared_layers"}
    assert PPOSettings.from_json(older).shared_layers == 0
    assert PPOSettings().shared_layers is None  # new runs: every hidden layer shared
    with pytest.raises(DataFormatError, match="unknown PPO settings"):
        PPOSettings.from_json({**settings.to_json(), "device": "cuda"})
    with pytest.raises(ValueError, match="activation"):
        PPOSettings(activation="gelu")
    with pytest.raises(ValueError, match="gamma"):
        BehaviorCloningSettings(gamma=1.5)
