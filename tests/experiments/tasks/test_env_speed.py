"""The env-speed benchmark: its jobs, its settings and one timed run."""

import pytest

from rudder.experiments.sweep import Job
from rudder.experiments.tasks.env_speed import EnvSpeedSettings, env_speed_jobs, run_env_speed


def test_crafter_runs_once_per_world_generator_and_other_envs_once():
    settings = EnvSpeedSettings(envs=("rudder/FourRooms-v0", "rudder/Crafter-v0"), seeds=2, world_generation=("grid", "crafter"))
    keys = [job.key for job in env_speed_jobs(settings)]
    assert [key["world_generation"] for key in keys if key["env"] == "rudder/FourRooms-v0"] == [None, None]
    crafter = [(key["world_generation"], key["seed"]) for key in keys if key["env"] == "rudder/Crafter-v0"]
    assert crafter == [("grid", 0), ("grid", 1), ("crafter", 0), ("crafter", 1)]


def test_settings_refuse_an_unknown_generator():
    with pytest.raises(ValueError, match="world-generation"):
        EnvSpeedSettings(world_generation=("fast",))


def test_a_run_counts_its_steps_and_times_its_resets():
    settings = EnvSpeedSettings(envs=("rudder/FourRooms-v0",), steps=3000)
    record = run_env_speed(Job({"env": "rudder/FourRooms-v0", "world_generation": None, "seed": 0}, settings, budget=3000), lambda steps: None)
    assert record["steps"] == record["env_steps"] == 3000 and record["steps_per_second"] > 0
    # random actions end FourRooms' episodes (its time limit at the latest): resets were timed
    assert record["resets"] >= 1 and record["reset_ms"] > 0
