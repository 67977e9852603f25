"""scripts/train_minigrid.py end to end: train briefly, save, resume with the same redistributor."""

import json

import numpy as np
import pytest
from script_loading import load_script

pytest.importorskip("stable_baselines3")
pytest.importorskip("minigrid")


def test_train_then_resume(tmp_path, capsys):
    script = load_script("train_minigrid")
    small = ["--demos", "3", "--n-envs", "2", "--eval-every", "256", "--eval-episodes", "2",
             "--bc-epochs", "2", "--no-progress-bar"]
    first = tmp_path / "first"
    assert script.main(["--steps", "512", "--checkpoint", str(first), *small]) == 0
    output = capsys.readouterr().out
    assert "sub-goals:" in output and "saved" in output
    record = json.loads((first / "checkpoint.json").read_text())
    assert record["num_timesteps"] >= 512 and record["metadata"]["method"] == "align-rudder"

    second = tmp_path / "second"
    assert script.main(["--resume", str(first), "--steps", "512", "--checkpoint", str(second), *small]) == 0
    output = capsys.readouterr().out
    assert f"resumed {first} at {record['num_timesteps']:,} env steps (align-rudder)" in output
    resumed = json.loads((second / "checkpoint.json").read_text())
    assert resumed["num_timesteps"] >= record["num_timesteps"] + 512
    # the same redistributor went on: identical profile arrays
    with np.load(first / "redistributor" / "arrays.npz") as a, np.load(second / "redistributor" / "arrays.npz") as b:
        assert set(a.files) == set(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])


def test_subtask_agents_train_and_resume(tmp_path, capsys):
    script = load_script("train_minigrid")
    small = ["--demos", "3", "--n-envs", "2", "--eval-every", "256", "--eval-episodes", "2",
             "--bc-epochs", "2", "--no-progress-bar"]
    run = tmp_path / "run"
    assert script.main(["--subtask-agents", "--steps", "256", "--checkpoint", str(run), *small]) == 0
    assert "picked up ball" in capsys.readouterr().out  # the last sub-goal
    record = json.loads((run / "checkpoint.json").read_text())
    assert record["settings"]["policy"] == "SubtaskPolicy"
    saved = record["metadata"]["subtasks"]
    assert saved["change_key"] == "interaction_change" and not saved["settle_terminated"]
    assert len(saved["goal_rewards"]) >= 4 and all(value > 0 for value in saved["goal_rewards"])
    again = tmp_path / "again"
    assert script.main(["--resume", str(run), "--steps", "256", "--checkpoint", str(again), *small]) == 0
    output = capsys.readouterr().out
    assert "sub-task agents: 0: opened door" in output or "sub-task agents: 0: picked up key" in output
    resumed = json.loads((again / "checkpoint.json").read_text())
    assert resumed["num_timesteps"] >= record["num_timesteps"] + 256
    assert resumed["metadata"]["subtasks"] == saved
