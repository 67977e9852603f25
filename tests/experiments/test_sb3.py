"""The stable-baselines3 task settings: a setting left unset takes the library's default."""

import dataclasses

import pytest

pytest.importorskip("stable_baselines3")

from rudder.agents.sb3 import SB3RunSettings  # noqa: E402
from rudder.experiments.sb3 import SB3TaskSettings, task_run_settings  # noqa: E402


def test_unset_task_settings_take_the_librarys_defaults():
    default = task_run_settings(SB3TaskSettings(), "align-rudder")
    assert default.subtask_bootstrap == SB3RunSettings().subtask_bootstrap is True
    assert default.ppo.shared_layers is None and default.subtask_env_reward is None
    ablation = task_run_settings(dataclasses.replace(SB3TaskSettings(), subtask_bootstrap=False), "align-rudder")
    assert ablation.subtask_bootstrap is False
