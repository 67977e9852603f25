"""The crafting-world task: its benchmark and its training script, end to end with tiny budgets."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3")

from rudder.data import save_episodes  # noqa: E402
from rudder.envs.craft import craft_demonstrations  # noqa: E402
from rudder.experiments import main, read_results  # noqa: E402
from rudder.experiments.sb3 import train_main  # noqa: E402
from rudder.experiments.tasks.craft import CRAFT, CRAFT_TASK, CraftSettings  # noqa: E402

TINY = ["--n-envs", "2", "--eval-every", "256", "--eval-episodes", "2", "--final-episodes", "2", "--bc-epochs", "1"]
RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results"


@pytest.mark.slow
def test_training_prints_the_consensus_and_per_item_rates(tmp_path, capsys):
    arguments = ["--demos", "4", "--budget", "256", *TINY, "--no-progress-bar", "--checkpoint", str(tmp_path / "run")]
    assert train_main(CRAFT_TASK, CraftSettings, arguments) == 0
    output = capsys.readouterr().out
    # at least the 6 logs the chain needs (4 demonstrations: how many more varies with the player)
    assert int(re.search(r"Consensus: (\d+)× log, ", output).group(1)) >= 6
    assert "Sub-task agents: 0: log" in output
    assert "diamond:" in output.split("per-item success rates")[1]
    assert json.loads((tmp_path / "run" / "checkpoint.json").read_text())["settings"]["policy"] == "SubtaskPolicy"


def test_training_takes_the_users_demonstrations(tmp_path, capsys):
    save_episodes(tmp_path / "demos.npz", craft_demonstrations(3, seed=7))
    arguments = ["--method", "bc", "--demos", "3", "--demos-file", str(tmp_path / "demos.npz"), "--budget", "0", *TINY,
                 "--no-progress-bar"]
    assert train_main(CRAFT_TASK, CraftSettings, arguments) == 0
    assert "per-item success rates" in capsys.readouterr().out
    too_many = ["--demos", "4", "--demos-file", str(tmp_path / "demos.npz"), "--budget", "0", *TINY]
    assert train_main(CRAFT_TASK, CraftSettings, too_many) == 2
    assert "holds 3 episodes; this run needs 4" in capsys.readouterr().err


@pytest.mark.slow
def test_benchmark_writes_a_row_per_method_with_the_item_rates(tmp_path):
    out = tmp_path / "craft.json"
    arguments = ["--methods", "bc", "align-rudder", "--demos", "3", "--seeds", "1", "--budget", "0", *TINY,
                 "--out", str(out), "--markdown", str(tmp_path / "craft.md")]
    assert main(CRAFT, arguments) == 0
    results = read_results(out)
    assert [row["method"] for row in results.rows] == ["bc", "align-rudder"]
    assert {"log", "diamond"} <= set(results.rows[0]) and results.runs[1]["subtasks"][0] == "log"
    assert "| BC | 3 | 1 |" in (tmp_path / "craft.md").read_text()


def test_committed_results_redraw_with_their_own_budget(tmp_path, capsys):
    # craft.json merges runs of one budget; its caption must say so, not this command's default
    assert main(CRAFT, ["--combine", str(RESULTS / "craft.json"), "--budget", "5", "--out", str(tmp_path / "c.json")]) == 0
    table = capsys.readouterr().out
    assert "Success rates after 1,000,000 env steps (100 evaluation episodes" in table
    row = next(row for row in read_results(tmp_path / "c.json").rows if row["method"] == "align-rudder" and row["n_demos"] == 20)
    assert row["seeds"] == [0, 1, 2, 3, 4, 5, 6] and row["diamond"]["mean"] == pytest.approx(0.6229, abs=1e-4)


@pytest.mark.slow
def test_scripts_are_thin_entry_points():
    for name in ("bench_craft.py", "train_craft.py"):
        path = Path(__file__).resolve().parents[3] / "scripts" / name
        result = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0 and "--demos-file" in result.stdout and "--resume" in result.stdout
