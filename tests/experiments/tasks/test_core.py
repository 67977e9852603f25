"""The core timings: a tiny sweep through the harness, and the committed timings redrawn."""

import ast
import inspect
from pathlib import Path

import numpy as np

from rudder.experiments import main, read_results
from rudder.experiments.tasks import core
from rudder.experiments.tasks.core import CORE, CoreSettings, core_jobs, synthetic_demonstrations

RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results"


def test_a_tiny_sweep_times_every_configuration(tmp_path, capsys):
    out = tmp_path / "core.json"
    arguments = ["--profile-lengths", "4", "--event-every", "1", "2", "--steps", "50", "--forms", "paper",
                 "--demos", "3", "--events", "10", "--repeats", "1", "--out", str(out)]
    assert main(CORE, arguments) == 0
    runs = read_results(out).runs
    assert [run["measure"] for run in runs] == ["wrapper", "wrapper", "alignment"]
    assert all(run["wrapped_step_us"] > 0 and run["profile_length"] == 4 for run in runs[:2])
    assert runs[2]["ours_seconds"] > 0 and runs[2]["ours_sum_of_pairs"] > 0 and runs[2]["scoring_form"] == "paper"
    printed = capsys.readouterr().out
    assert "(a) Wrapper overhead" in printed and "(b, c) Multiple alignment" in printed
    assert "| 4 | 2 | 1 |" in printed  # profile length, event every, one run: one value per column


def test_the_committed_timings_give_the_committed_table(tmp_path, capsys):
    main(CORE, ["--combine", str(RESULTS / "core.json"), "--out", str(tmp_path / "core.json")])
    printed = capsys.readouterr().out
    # the rows of benchmarks/results/core.md, rebuilt from core.json alone
    assert "| 16 | 1 | 1 | 0.22 | 10.54 | 10.32 |" in printed
    assert "| 64 | 64 | 1 | 1 | 2.06 | 12.50 | 0.79 |" in printed
    assert "| paper | 100 | 200 | 1 | 0.224 | 1.782 | 0.13 | 0.977 | 0.23 | 9,875,067.1 | 9,473,287.8 | 7,548,839.3 | 0.0028 | 0.1289 | 0.243 | 1.810 | 0.12 | 0.977 | 0.23 |" in printed
    assert "| paper | 10000 | 100 | 1 |  |  | 14.07 | 969.2 |" in printed
    assert "| feature clusters, k-means | 100000 | 1 | 1.55 | 7 |" in printed
    assert "Ours: the numba-compiled DP loop; ClustalW with an NJ guide tree; Clustal Omega" in printed


def test_jobs_and_synthetic_demonstrations():
    jobs = core_jobs(CoreSettings(measures=("alignment",), forms=("paper",), demos=(2,), events=(5, 8)))
    assert [(job.key["num_sequences"], job.key["num_events"], job.key["profile_length"]) for job in jobs] == [(2, 5, None), (2, 8, None)]
    first = synthetic_demonstrations(4, 30, np.random.default_rng(0))
    again = synthetic_demonstrations(4, 30, np.random.default_rng(0))
    assert len(first) == 4 and all(np.array_equal(a, b) and a.dtype == np.int64 for a, b in zip(first, again))


def test_no_private_module_or_name_is_imported():
    for node in ast.walk(ast.parse(inspect.getsource(core))):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            assert not any(part.startswith("_") for part in (node.module or "").split("."))
            assert not any(alias.name.startswith("_") for alias in node.names)
