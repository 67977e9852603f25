"""scripts/train_craft.py and scripts/bench_craft.py end to end, with tiny budgets."""

import json
import re

import pytest
from script_loading import load_script

pytest.importorskip("stable_baselines3")


def test_train_craft_prints_the_consensus_and_per_item_rates(tmp_path, capsys):
    script = load_script("train_craft")
    arguments = ["--demos", "4", "--steps", "256", "--n-envs", "2", "--eval-every", "256", "--eval-episodes", "2",
                 "--final-episodes", "2", "--bc-epochs", "1", "--no-progress-bar", "--checkpoint", str(tmp_path / "run")]
    assert script.main(arguments) == 0
    output = capsys.readouterr().out
    # at least the 6 logs the chain needs (4 demonstrations: how many more varies with the player)
    assert int(re.search(r"Consensus: (\d+)× log, ", output).group(1)) >= 6
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


def test_bench_craft_combines_earlier_result_files(tmp_path, capsys):
    script = load_script("bench_craft")
    items = ["log", "planks", "crafting_table", "stick", "wooden_pickaxe", "cobblestone", "stone_pickaxe",
             "iron_ore", "furnace", "iron_ingot", "iron_pickaxe", "diamond"]

    def run(method, n_demos, seed, diamond):
        return {"method": method, "n_demos": n_demos, "seed": seed, "diamond": diamond,
                "items": {item: (diamond if item == "diamond" else 1.0) for item in items}}

    def record(command, runs):
        settings = {"ent_coef": 0.003, "budget": 0, "final_episodes": 50} if command.endswith("a") else {"ent_coef": 0.0}
        return {"command": command, "elapsed_seconds": 5.0, "settings": settings, "rows": [], "runs": runs}

    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(record("python a", [run("align-rudder", 20, 1, 0.6), run("align-rudder", 20, 0, 0.4)])))
    second.write_text(json.dumps(record("python b", [run("ppo", 0, 0, 0.0), run("bc", 20, 0, 0.01)])))
    out = tmp_path / "craft.json"
    assert script.main(["--combine", str(first), str(second), "--methods", "align-rudder", "bc", "ppo",
                        "--demos", "20", "--out", str(out), "--markdown", str(tmp_path / "craft.md")]) == 0
    combined = json.loads(out.read_text())
    assert combined["command"] == "python a; python b" and combined["elapsed_seconds"] == 10.0
    sources = combined["settings"]["combined_from"]
    assert [source["settings"]["ent_coef"] for source in sources] == [0.003, 0.0]
    assert [row["method"] for row in combined["rows"]] == ["align-rudder", "bc", "ppo"]
    assert combined["rows"][0]["diamond"] == [0.4, 0.6] and combined["rows"][0]["mean_diamond"] == 0.5
    table = (tmp_path / "craft.md").read_text()
    assert "| Align-RUDDER sub-task agents | 20 | 2 | 0.40 0.60 |" in table
    # the header states the sources' budgets and episodes; b.json recorded none: this command's (defaults)
    assert "Success rates after 0 and 1,000,000 env steps (50 and 100 evaluation episodes per run" in table
    assert "| PPO | - | 1 | 0.00 |" in capsys.readouterr().out
    merged_again = tmp_path / "again.json"
    first.write_text(json.dumps(record("python a", [run("align-rudder", 20, 0, 0.4)])))
    assert script.main(["--combine", str(first), "--budget", "5", "--out", str(merged_again), "--markdown", str(tmp_path / "again.md")]) == 0
    assert "Success rates after 0 env steps (50 evaluation episodes" in (tmp_path / "again.md").read_text()
