"""scripts/bench_minigrid.py: merging the runs of earlier result files (--combine)."""

import json

from script_loading import load_script


def record(command, runs):
    return {"command": command, "elapsed_seconds": 10.0, "settings": {}, "rows": [], "runs": runs}


def run(method, seed, reached_at):
    curve = [[0, 0.5, 0.4]] + ([[reached_at, 0.8, 0.7]] if reached_at else [[1000, 0.6, 0.5]])
    return {"env": "MiniGrid-KeyCorridorS3R3-v0", "method": method, "seed": seed, "n_demos": 10,
            "reached_at": reached_at, "timesteps": 1000, "seconds": 1.0, "curve": curve}


def test_combine_merges_runs_and_commands(tmp_path, capsys):
    script = load_script("bench_minigrid")
    first = tmp_path / "first.json"
    second = tmp_path / "second.json"
    first.write_text(json.dumps(record("python a", [run("align-rudder", 0, 400), run("align-rudder", 1, 200)])))
    second.write_text(json.dumps(record("python b", [run("ppo", 0, None), run("ppo", 1, None)])))
    out = tmp_path / "combined.json"
    markdown = tmp_path / "combined.md"
    assert script.main([
        "--combine", str(first), str(second), "--methods", "align-rudder", "ppo", "--subtask-agents",
        "--budget", "1000", "--eval-every", "500", "--out", str(out), "--markdown", str(markdown),
    ]) == 0
    combined = json.loads(out.read_text())
    assert combined["command"] == "python a; python b"
    assert combined["elapsed_seconds"] == 20.0
    rows = {row["method"]: row for row in combined["rows"]}
    assert rows["align-rudder"]["steps"] == [400, 200] and rows["align-rudder"]["median"] == 300
    assert rows["ppo"]["failures"] == 2 and rows["ppo"]["steps"] == [1000, 1000]
    table = markdown.read_text()
    assert "Align-RUDDER sub-task agents" in table and "| PPO |" in table
    assert "Align-RUDDER sub-task agents" in capsys.readouterr().out
