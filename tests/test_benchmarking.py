"""The benchmark scripts' helpers: running jobs, writing results atomically."""

import json
import math

import pytest

from rudder.benchmarking import run_jobs, source_settings, write_json


def test_in_process_runs_keep_the_order_and_need_no_pickling():
    square = lambda value: value * value  # noqa: E731 - a lambda cannot be pickled
    assert list(run_jobs(square, [3, 1, 2], workers=1)) == [9, 1, 4]


def test_worker_processes_give_every_result():
    assert sorted(run_jobs(math.sqrt, [4.0, 9.0, 16.0], workers=2)) == [2.0, 3.0, 4.0]


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="workers"):
        list(run_jobs(math.sqrt, [1.0], workers=0))


def test_write_json_round_trips_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "results" / "bench.json"
    write_json(path, {"rows": [1, 2]})
    write_json(path, {"rows": [3]})
    assert json.loads(path.read_text()) == {"rows": [3]}
    assert [p.name for p in path.parent.iterdir()] == ["bench.json"]
    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"rows": [3]}


def test_combine_records_merges_runs_and_refuses_other_files(tmp_path):
    from rudder.benchmarking import combine_records

    first, second, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    write_json(first, {"command": "python a", "elapsed_seconds": 2.0, "runs": [{"seed": 0}]})
    write_json(second, {"command": "python b", "elapsed_seconds": 3.5, "runs": [{"seed": 1}, {"seed": 2}]})
    write_json(other, {"steps_per_second": 10})
    runs, command, seconds, settings = combine_records([first, second])
    assert (runs, command, seconds) == ([{"seed": 0}, {"seed": 1}, {"seed": 2}], "python a; python b", 5.5)
    assert [source["command"] for source in settings["combined_from"]] == ["python a", "python b"]
    with pytest.raises(ValueError, match="not a benchmark result file"):
        combine_records([first, other])


def test_source_settings_flattens_merged_files():
    nested = {"combined_from": [{"settings": {"budget": 1}}, {"settings": None}]}
    merged = {"combined_from": [{"settings": nested}, {"settings": {"budget": 3}}]}
    assert source_settings(merged) == [{"budget": 1}, {}, {"budget": 3}]
    assert source_settings({"budget": 5}) == [{"budget": 5}]
    assert source_settings(None) == [{}]
