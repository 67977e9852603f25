"""The minigrid task: train, save, resume with the same redistributor; the benchmark's table."""

import json

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("minigrid")

from rudder.experiments import main, read_results, write_results  # noqa: E402
from rudder.experiments.results import ResultFile  # noqa: E402
from rudder.experiments.sb3 import train_main  # noqa: E402
from rudder.experiments.tasks.minigrid import MINIGRID, MINIGRID_TASK, MinigridSettings  # noqa: E402

SMALL = ["--demos", "3", "--n-envs", "2", "--eval-every", "256", "--eval-episodes", "2", "--bc-epochs", "2", "--no-progress-bar"]


def test_train_then_resume(tmp_path, capsys):
    first = tmp_path / "first"
    assert train_main(MINIGRID_TASK, MinigridSettings, ["--budget", "512", "--checkpoint", str(first), *SMALL]) == 0
    output = capsys.readouterr().out
    assert "Consensus:" in output and "Saved" in output
    record = json.loads((first / "checkpoint.json").read_text())
    assert record["num_timesteps"] >= 512 and record["metadata"]["method"] == "align-rudder"

    second = tmp_path / "second"
    assert train_main(MINIGRID_TASK, MinigridSettings, ["--resume", str(first), "--budget", "512", "--checkpoint", str(second), *SMALL]) == 0
    assert f"Resumed {first} at {record['num_timesteps']:,} env steps (align-rudder)" in capsys.readouterr().out
    resumed = json.loads((second / "checkpoint.json").read_text())
    assert resumed["num_timesteps"] >= record["num_timesteps"] + 512
    # the same redistributor went on: identical profile arrays
    with np.load(first / "redistributor" / "arrays.npz") as a, np.load(second / "redistributor" / "arrays.npz") as b:
        assert set(a.files) == set(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.slow
def test_subtask_agents_train_and_resume(tmp_path, capsys):
    run = tmp_path / "run"
    assert train_main(MINIGRID_TASK, MinigridSettings, ["--subtask-agents", "--budget", "256", "--checkpoint", str(run), *SMALL]) == 0
    assert "picked up ball" in capsys.readouterr().out  # the last sub-goal
    record = json.loads((run / "checkpoint.json").read_text())
    assert record["settings"]["policy"] == "SubtaskPolicy"
    saved = record["metadata"]["subtasks"]
    assert saved["change_key"] == "interaction_change" and not saved["settle_terminated"]
    assert len(saved["goal_rewards"]) >= 4 and all(value > 0 for value in saved["goal_rewards"])
    again = tmp_path / "again"
    assert train_main(MINIGRID_TASK, MinigridSettings, ["--resume", str(run), "--budget", "256", "--checkpoint", str(again), *SMALL]) == 0
    output = capsys.readouterr().out
    assert "Sub-task agents: 0: opened door" in output or "Sub-task agents: 0: picked up key" in output
    resumed = json.loads((again / "checkpoint.json").read_text())
    assert resumed["num_timesteps"] >= record["num_timesteps"] + 256
    assert resumed["metadata"]["subtasks"] == saved


def _run(method, seed, reached_at):
    curve = [[0, 0.5, 0.4]] + ([[reached_at, 0.8, 0.7]] if reached_at else [[1000, 0.6, 0.5]])
    return {"env": "MiniGrid-KeyCorridorS3R3-v0", "method": method, "seed": seed, "n_demos": 10, "budget": 1000,
            "reached": reached_at is not None, "reached_at": reached_at, "timesteps": 1000, "seconds": 1.0, "curve": curve}


def test_combined_table_counts_a_failure_as_the_budget(tmp_path, capsys):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    write_results(first, ResultFile("minigrid", "python a", {"budget": 1000}, [_run("align-rudder", 0, 400), _run("align-rudder", 1, 200)], 10.0))
    write_results(second, ResultFile("minigrid", "python b", {"budget": 1000}, [_run("ppo", 0, None), _run("ppo", 1, None)], 10.0))
    out = tmp_path / "combined.json"
    assert main(MINIGRID, ["--combine", str(first), str(second), "--out", str(out), "--png", str(tmp_path / "c.png")]) == 0
    combined = read_results(out)
    assert combined.command == "python a; python b" and combined.elapsed_seconds == 20.0
    rows = {row["method"]: row for row in combined.rows}
    assert rows["align-rudder"]["env steps to target"]["values"] == [400, 200] and rows["align-rudder"]["env steps to target"]["median"] == 300
    assert rows["ppo"]["failures"] == 2 and rows["ppo"]["env steps to target"]["values"] == [1000, 1000]
    assert "| MiniGrid-KeyCorridorS3R3-v0 | PPO |" in capsys.readouterr().out and (tmp_path / "c.png").exists()


def test_resume_gives_the_policy_the_observation_it_was_trained_on(tmp_path, capsys):
    run = tmp_path / "run"
    assert train_main(MINIGRID_TASK, MinigridSettings, ["--no-progress-observation", "--budget", "256", "--checkpoint", str(run), *SMALL]) == 0
    assert json.loads((run / "checkpoint.json").read_text())["metadata"]["progress"] is None
    # resumed without the option: the checkpoint, not the command line, decides the observation
    assert train_main(MINIGRID_TASK, MinigridSettings, ["--resume", str(run), "--budget", "256", *SMALL]) == 0
    with pytest.raises(SystemExit):
        train_main(MINIGRID_TASK, MinigridSettings, ["--resume", str(run), "--demos-file", str(run / "checkpoint.json")])
    assert "takes no demonstrations" in capsys.readouterr().err
