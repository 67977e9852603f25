"""The settings of the SB3 agents: validation and JSON round trips."""

import pytest

pytest.importorskip("stable_baselines3")

from rudder.agents.sb3.settings import (  # noqa: E402
    NARROW_NET_ARCH,
    SB3_METHODS,
    WIDE_NET_ARCH,
    WIDE_NET_MIN_STEPS,
    BehaviorCloningSettings,
    PPOSettings,
    SB3RunSettings,
    default_net_arch,
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


def test_the_width_rule_splits_at_a_thousand_demonstration_steps():
    assert (NARROW_NET_ARCH, WIDE_NET_ARCH, WIDE_NET_MIN_STEPS) == ((64, 64), (256, 256), 1000)
    assert default_net_arch(0) == default_net_arch(999) == (64, 64)
    assert default_net_arch(1000) == default_net_arch(50_000) == (256, 256)
    with pytest.raises(ValueError, match="demonstration_steps"):
        default_net_arch(-1)
    chosen = PPOSettings()
    assert chosen.net_arch is None and chosen.layers == (64, 64)  # unchosen: make_ppo builds the narrow one
    assert chosen.for_demonstrations(1000).net_arch == (256, 256)
    assert chosen.for_demonstrations(200).net_arch == (64, 64)
    assert PPOSettings(net_arch=(32,)).for_demonstrations(5000).net_arch == (32,)  # a named width stays
    # JSON keeps the layers built
    assert chosen.to_json()["net_arch"] == [64, 64]
    assert PPOSettings.from_json(chosen.for_demonstrations(1000).to_json()).net_arch == (256, 256)
    with pytest.raises(ValueError, match="net_arch"):
        PPOSettings(net_arch=())
    with pytest.raises(ValueError, match="net_arch"):
        PPOSettings(net_arch=(64, 0))
    with pytest.raises(ValueError, match="shared_layers"):
        PPOSettings(policy="SubtaskPolicy", num_subtasks=2, shared_layers=4)  # 2 default layers + the output
