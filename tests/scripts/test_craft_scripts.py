"""scripts/train_craft.py and scripts/bench_craft.py end to end, with tiny budgets."""

import json

import pytest
from script_loading import load_script

pytest.importorskip("stable_baselines3")


def test_train_craft_prints_the_consensus_and_per_item_rates(tmp_path, capsys):
    script = load_script("train_craft")
    arguments = ["--demos", "4", "--steps", "256", "--n-envs", "2", "--eval-every", "256", "--eval-episodes", "2",
                 "--final-episodes", "2", "--bc-epochs", "1", "--no-progress-bar", "--checkpoint", str(tmp_path / "run")]
    assert script.main(arguments) == 0
    output = capsys.readouterr().out
    assert "Consensus: 6× log" in output or "Consensus: 7× log" in output
    assert "Sub-task agents: 0: log" in output
    assert "diamond" in output.split("per-item success")[1]
    assert json.loads((tmp_path / "run" / "checkpoint.json").read_text())["settings"]["policy"] == "SubtaskPolicy"


def test_bench_craft_writes_rows_for_every_method(tmp_path):
    script = load_script("bench_craft")
    out = tmp_path / "craft.json"
    arguments = ["--methods", "bc", "align-rudder", "--demos", "3", "--seeds", "1", "--budget", "0",
                 "--final-episodes", "2", "--eval-episodes", "2", "--bc-epochs", "1", "--workers", "1",
                 "--out", str(out), "--markdown", str(tmp_path / "craft.md")]
    assert script.main(arguments) == 0
    record = json.loads(out.read_text())
    assert [row["method"] for row in record["rows"]] == ["bc", "align-rudder"]
    assert set(record["rows"][0]["items"]) >= {"log", "diamond"}
    assert "| BC | 3 | 1 |" in (tmp_path / "craft.md").read_text()


def test_bench_craft_measures_the_env_speed(tmp_path, monkeypatch):
    script = load_script("bench_craft")
    monkeypatch.setattr(script, "env_speed", lambda: {"steps": 10, "seconds": 0.001, "steps_per_second": 10_000})
    out = tmp_path / "speed.json"
    assert script.main(["--env-speed", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["steps_per_second"] == 10_000
    assert script.env_speed.__name__ == "<lambda>"
