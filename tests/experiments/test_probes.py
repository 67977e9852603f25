"""The reliability probe runner: a handful of probes, each classified as it should be,
including a hang, a killed worker and a raw exception, and the table of outcomes."""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import pytest

from rudder.experiments import probes
from rudder.experiments.probes import (
    CATEGORIES,
    CLEAR,
    CRASH,
    LOSS,
    OK,
    WRONG,
    CommandRun,
    Probe,
    ProbeResult,
    changed,
    classify_exception,
    format_table,
    judge_command,
    run_probes,
    snapshot,
)

ROOT = Path(__file__).resolve().parents[2]


def raise_from_rudder():
    from rudder import Episode

    Episode(observations=[0, 1], actions=[0], rewards=[math.nan])


def test_exceptions_are_classified_by_where_and_what():
    from rudder.errors import DataFormatError

    for error, outcome in ((DataFormatError("bad file"), CLEAR), (IndexError("index 0"), CRASH),
                           (zipfile.BadZipFile("not a zip"), CRASH), (MemoryError(), CRASH),
                           (FileNotFoundError(2, "No such file", "x.npz"), CLEAR)):
        assert classify_exception(error)[0] == outcome, error
    with pytest.raises(ValueError) as raised:  # a ValueError the library raises on purpose
        raise_from_rudder()
    assert classify_exception(raised.value)[0] == CLEAR
    with pytest.raises(ValueError) as raised:  # the same class from a dependency
        int("x")
    assert classify_exception(raised.value)[0] == CRASH


def test_commands_are_judged_by_exit_code_and_traceback():
    traceback = "Traceback (most recent call last):\n  File ...\nIndexError: list index out of range\n"
    assert judge_command(CommandRun(2, "", "rudder: error: bad file x.npz\n"))[0] == CLEAR
    assert judge_command(CommandRun(1, "", traceback))[0] == CRASH
    assert judge_command(CommandRun(None, "", ""))[0] == CRASH
    assert judge_command(CommandRun(-9, "", ""))[0] == CRASH
    assert judge_command(CommandRun(0, "nan nan\n", ""))[0] == WRONG  # bad input accepted
    assert judge_command(CommandRun(0, "1.0\n", ""), check=lambda run: None)[0] == OK


def test_a_changed_or_deleted_user_file_is_found(tmp_path):
    (tmp_path / "a.txt").write_text("mine")
    (tmp_path / "b.txt").write_text("mine too")
    before = snapshot(tmp_path / "a.txt", tmp_path / "b.txt")
    assert changed(before) is None
    (tmp_path / "b.txt").write_text("overwritten")
    assert changed(before) == "b.txt changed"
    (tmp_path / "a.txt").unlink()
    assert changed(before) == "a.txt deleted"


def fake_catalog():
    def wrong(work):
        return probes.expect_refusal(lambda: float("nan"))

    def loses(work):
        (work / "x").write_text("x")
        before = snapshot(work / "x")
        (work / "x").unlink()
        return (LOSS, changed(before)) if changed(before) else (OK, "")

    def hangs(work):
        while True:
            pass

    return [
        Probe(CATEGORIES[0], "clear", lambda work: probes.expect_refusal(raise_from_rudder)),
        Probe(CATEGORIES[0], "raw", lambda work: [][0]),
        Probe(CATEGORIES[1], "wrong", wrong),
        Probe(CATEGORIES[1], "loss", loses),
        Probe(CATEGORIES[2], "hang", hangs, timeout=1.0),
        Probe(CATEGORIES[2], "dies", lambda work: os._exit(3)),
        Probe(CATEGORIES[3], "memory", lambda work: bytearray(8 * 2**30)),
        Probe(CATEGORIES[3], "ok", lambda work: probes.expect_value(lambda: os.getcwd(), lambda cwd: None if Path(cwd) == work else cwd)),
    ]


@pytest.mark.slow
def test_the_runner_classifies_a_handful_of_probes_in_workers(monkeypatch, tmp_path):
    catalog = tmp_path / "probe_catalog.py"  # the runner's workers load the catalogue by path
    catalog.write_text(
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('tests_probes', {str(Path(__file__))!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "catalog = module.fake_catalog\n"
    )
    (tmp_path / "probes.py").write_text(Path(probes.__file__).read_text())
    monkeypatch.setattr(probes, "__file__", str(tmp_path / "probes.py"))
    monkeypatch.setattr(probes, "all_probes", fake_catalog)
    results = run_probes(ROOT, memory_gb=3.0, margin_seconds=5.0)
    outcomes = {result.name: result.outcome for result in results}
    assert outcomes == {"clear": CLEAR, "raw": CRASH, "wrong": WRONG, "loss": LOSS, "hang": CRASH,
                        "dies": CRASH, "memory": CRASH, "ok": OK}
    table = format_table(results)
    assert f"| {CATEGORIES[0]} | 2 | 0 | 1 | 1 | 0 | 0 |" in table
    assert "| **total** | 8 | 1 | 1 | 4 | 1 | 1 |" in table


def test_the_catalogue_has_a_few_hundred_unique_probes_in_every_category():
    catalog = probes.all_probes()
    assert len(catalog) >= 250
    assert len({(p.category, p.name) for p in catalog}) == len(catalog)
    assert {p.category for p in catalog} == set(CATEGORIES)


def test_summary_counts_every_result_once():
    results = [ProbeResult(CATEGORIES[4], str(i), outcome, "", 0.0) for i, outcome in enumerate([OK, CLEAR, CLEAR, CRASH])]
    table = probes.summarise(results)
    assert table[CATEGORIES[4]] == {OK: 1, CLEAR: 2, CRASH: 1, WRONG: 0, LOSS: 0}
    assert table["total"] == table[CATEGORIES[4]]


@pytest.mark.parametrize("name", ["before", "after"])
def test_the_committed_probe_tables_match_their_runs(name):
    from rudder.experiments.results import read_results

    results = read_results(ROOT / "benchmarks" / "results" / f"reliability_probes_{name}.json")
    assert results.benchmark == "reliability" and results.command.startswith("python scripts/probe_reliability.py")
    runs = [ProbeResult(**run) for run in results.runs]
    assert len(runs) == len(probes.all_probes())
    assert results.rows == [{"category": category, **counts} for category, counts in probes.summarise(runs).items()]
    assert format_table(runs) in (ROOT / "benchmarks" / "results" / f"reliability_probes_{name}.md").read_text()
    bad = sum(run.outcome in (CRASH, WRONG, LOSS) for run in runs)
    assert (bad == 0) if name == "after" else (bad > 100)
