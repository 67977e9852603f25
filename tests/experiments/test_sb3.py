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
    assert default.ppo.ent_coef == SB3RunSettings().ppo.ent_coef == 0.01
    assert task_run_settings(dataclasses.replace(SB3TaskSettings(), ent_coef=0.0), "bc-ppo").ppo.ent_coef == 0.0


def test_every_task_clones_as_the_library_does():
    from rudder.agents.sb3 import BehaviorCloningSettings
    from rudder.experiments.tasks.craft import CraftSettings
    from rudder.experiments.tasks.crafter import CrafterSettings
    from rudder.experiments.tasks.generality import GeneralitySettings
    from rudder.experiments.tasks.minigrid import MinigridSettings

    library = BehaviorCloningSettings()
    assert (library.epochs, library.max_updates) == (100, 4000)
    for settings in (SB3TaskSettings(), CraftSettings(), CrafterSettings(), GeneralitySettings(), MinigridSettings()):
        assert task_run_settings(settings, "bc-ppo").behavior_cloning == library, type(settings).__name__


def test_bc_max_updates_zero_lifts_the_cap():
    uncapped = task_run_settings(dataclasses.replace(SB3TaskSettings(), bc_epochs=30, bc_max_updates=0), "bc")
    assert uncapped.behavior_cloning.max_updates is None
    assert uncapped.behavior_cloning.epochs_for(100_000) == 30
    with pytest.raises(ValueError, match="bc-max-updates must be 0"):
        task_run_settings(dataclasses.replace(SB3TaskSettings(), bc_max_updates=-1), "bc")
