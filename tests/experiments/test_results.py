"""The one result schema: round trips, merging, and every committed result file readable."""

import json
from pathlib import Path

import numpy as np
import pytest

from rudder.errors import DataFormatError
from rudder.experiments.results import (
    RESULTS_FORMAT,
    ResultFile,
    combine_results,
    read_results,
    source_settings,
    write_results,
)

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
# The reliability probe tables (scripts/probe_reliability.py) are not harness benchmarks;
# tests/experiments/test_probes.py reads them.
COMMITTED = sorted(path for path in RESULTS.glob("*.json") if not path.name.startswith("reliability_probes_"))


def test_there_are_committed_result_files():
    assert len(COMMITTED) >= 20


@pytest.mark.parametrize("path", COMMITTED, ids=[path.name for path in COMMITTED])
def test_every_committed_result_file_is_readable(path):
    results = read_results(path)
    assert results.benchmark in {"rooms", "craft", "minigrid", "delay", "core", "env_speed", "generality", "crafter", "cloning"}
    assert results.runs and results.command.startswith("python ")
    assert all(isinstance(run, dict) for run in results.runs)


def test_rooms_tables_give_back_their_runs_per_seed():
    path = RESULTS / "rooms.json"  # written by bench_rooms.py before the common layout
    table = json.loads(path.read_text())["rows"]
    runs = read_results(path).runs
    assert len(runs) == sum(row["seeds"] for row in table) >= 200
    for row in table:
        cell = [run for run in runs if (run["env"], run["method"], run["n_demos"]) == (row["env"], row["method"], row["n_demos"])]
        assert [run["seed"] for run in cell] == list(range(row["seeds"]))
        assert np.median([run["episodes"] for run in cell]) == row["median"]
        assert sum(not run["reached"] for run in cell) == row["failures"]


def test_round_trip(tmp_path):
    results = ResultFile("rooms", "python x.py", {"seeds": 2}, [{"method": "a", "seed": 0, "episodes": 3}], 1.5, "abc", {"python": "3"})
    write_results(tmp_path / "r.json", results)
    assert json.loads((tmp_path / "r.json").read_text())["format"] == RESULTS_FORMAT
    assert read_results(tmp_path / "r.json") == results


def test_combining_keeps_each_source_settings(tmp_path):
    first = ResultFile("rooms", "python a.py", {"max_episodes": 10}, [{"seed": 0}], 1.0)
    second = ResultFile("rooms", "python b.py", {"max_episodes": 20}, [{"seed": 1}], 2.0)
    write_results(tmp_path / "a.json", first)
    write_results(tmp_path / "b.json", second)
    merged = combine_results([tmp_path / "a.json", tmp_path / "b.json"])
    assert merged.runs == [{"seed": 0}, {"seed": 1}]
    assert merged.command == "python a.py; python b.py" and merged.elapsed_seconds == 3.0
    assert [s["max_episodes"] for s in source_settings(merged.settings)] == [10, 20]
    write_results(tmp_path / "m.json", merged)
    twice = combine_results([tmp_path / "m.json", tmp_path / "a.json"])
    assert [s["max_episodes"] for s in source_settings(twice.settings)] == [10, 20, 10]


def test_old_and_new_files_of_one_benchmark_combine():
    new, old = RESULTS / "rooms_align_rudder.json", RESULTS / "rooms_bc_q_four.json"
    assert json.loads(new.read_text())["format"] == RESULTS_FORMAT and "format" not in json.loads(old.read_text())
    merged = combine_results([new, old])
    assert {run["method"] for run in merged.runs} == {"align-rudder", "bc-q"}


def test_files_of_different_benchmarks_do_not_combine():
    with pytest.raises(DataFormatError, match="'craft' results, not 'rooms'"):
        combine_results([RESULTS / "rooms.json", RESULTS / "craft.json"])


def test_bad_files_get_clear_errors(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="not JSON"):
        read_results(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"command": "x", "something": 1}')
    with pytest.raises(DataFormatError, match="no known layout"):
        read_results(tmp_path / "other.json")
    (tmp_path / "future.json").write_text(json.dumps({"format": RESULTS_FORMAT, "format_version": 99, "command": "x"}))
    with pytest.raises(DataFormatError, match="version 99"):
        read_results(tmp_path / "future.json")


def _benchmark(name):
    import importlib

    module, attribute = {
        "rooms": ("rooms", "ROOMS"), "craft": ("craft", "CRAFT"), "minigrid": ("minigrid", "MINIGRID"),
        "delay": ("delay", "DELAY"), "core": ("core", "CORE"), "env_speed": ("env_speed", "ENV_SPEED"),
        "generality": ("generality", "GENERALITY"), "crafter": ("crafter", "CRAFTER"),
        "cloning": ("cloning", "CLONING"),
    }[name]
    return getattr(importlib.import_module(f"rudder.experiments.tasks.{module}"), attribute)


@pytest.mark.parametrize("path", COMMITTED, ids=[path.name for path in COMMITTED])
def test_every_committed_result_file_goes_through_its_benchmarks_combine(path, tmp_path, capsys):
    from rudder.experiments import main

    name = read_results(path).benchmark
    if name in {"craft", "minigrid", "generality", "crafter"}:
        pytest.importorskip("stable_baselines3")
    out = tmp_path / "combined.json"
    assert main(_benchmark(name), ["--combine", str(path), "--out", str(out), "--markdown", str(tmp_path / "t.md")]) == 0
    combined = read_results(out)
    assert len(combined.runs) == len(read_results(path).runs) and combined.rows
    assert "|---" in capsys.readouterr().out
