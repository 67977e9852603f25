"""The harness: one command line, result files written as runs finish, resume, combine."""

import dataclasses
import json

import pytest

from rudder.data import Episode, save_episodes
from rudder.experiments import Benchmark, Job, Metric, main, read_results
from rudder.experiments.tasks import demonstrations

CALLS: list[dict] = []


@dataclasses.dataclass(frozen=True)
class ToySettings:
    """Options of a benchmark made for these tests."""

    seeds: int = 3
    """Seeds."""
    scale: int = 10
    """Multiplies the seed."""
    first_seed: int = 0
    """The first seed."""


def toy_run(job, progress):
    CALLS.append(dict(job.key))
    progress(5)
    seed = job.key["seed"]
    return {"score": seed * job.settings.scale, "reached": seed != 2, "env_steps": 7, "seconds": 0.0, "curve": [[0, 0.0], [7, seed]]}


TOY = Benchmark(
    name="toy",
    script="scripts/bench_toy.py",
    description="A toy benchmark.",
    settings=ToySettings,
    jobs=lambda settings: [
        Job({"method": "m", "seed": seed}, settings, budget=10)
        for seed in range(settings.first_seed, settings.first_seed + settings.seeds)
    ],
    run=toy_run,
    group_by=("method",),
    metrics=(Metric("score", lambda run: run["score"]),),
    caption=lambda sources: f"scale {sources[0].get('scale')}",
    axes=("seeds", "first_seed"),
)


@pytest.fixture(autouse=True)
def _no_calls():
    CALLS.clear()


def test_a_sweep_writes_one_result_file_with_rows(tmp_path, capsys):
    out, markdown = tmp_path / "toy.json", tmp_path / "toy.md"
    assert main(TOY, ["--out", str(out), "--markdown", str(markdown), "--scale", "2"]) == 0
    record = json.loads(out.read_text())
    assert record["benchmark"] == "toy" and record["settings"] == {"seeds": 3, "scale": 2, "first_seed": 0}
    assert record["command"] == f"python scripts/bench_toy.py --out {out} --markdown {markdown} --scale 2"
    assert [run["score"] for run in record["runs"]] == [0, 2, 4]
    assert record["runs"][0]["method"] == "m" and "versions" in record and "commit" in record
    (row,) = record["rows"]
    assert row["score"]["median"] == 2.0 and row["failures"] == 1 and row["seeds"] == [0, 1, 2]
    assert "scale 2" in markdown.read_text() and "| m | 3 | 2 (1-3) |" in capsys.readouterr().out


def test_resume_runs_only_what_is_missing_and_keeps_every_earlier_run(tmp_path):
    out = str(tmp_path / "toy.json")
    main(TOY, ["--out", out, "--seeds", "2"])
    assert len(CALLS) == 2
    CALLS.clear()
    main(TOY, ["--out", out, "--seeds", "3", "--resume"])
    assert CALLS == [{"method": "m", "seed": 2}]
    resumed = read_results(out)
    assert [run["seed"] for run in resumed.runs] == [0, 1, 2]
    assert resumed.command.count("python scripts/bench_toy.py") == 2  # both commands made these runs
    CALLS.clear()
    main(TOY, ["--out", out, "--seeds", "1", "--resume"])  # fewer seeds: nothing to run, nothing lost
    assert CALLS == [] and [run["seed"] for run in read_results(out).runs] == [0, 1, 2]


def test_resume_refuses_runs_made_with_other_settings(tmp_path):
    out = str(tmp_path / "toy.json")
    main(TOY, ["--out", out, "--seeds", "2"])
    with pytest.raises(SystemExit, match="scale"):
        main(TOY, ["--out", out, "--seeds", "2", "--scale", "5", "--resume"])


def test_combine_and_plot_only_rewrite_the_table_from_the_runs(tmp_path):
    first, second, merged = (str(tmp_path / name) for name in ("a.json", "b.json", "m.json"))
    main(TOY, ["--out", first, "--seeds", "1"])
    main(TOY, ["--out", second, "--seeds", "1", "--first-seed", "1", "--scale", "3"])
    CALLS.clear()
    main(TOY, ["--combine", first, second, "--out", merged])
    assert CALLS == [] and len(read_results(merged).runs) == 2
    before = (tmp_path / "m.json").read_bytes()
    main(TOY, ["--plot-only", "--out", merged, "--markdown", str(tmp_path / "m.md")])
    assert "scale 1" in (tmp_path / "m.md").read_text()  # the first source's settings, not the command's
    assert (tmp_path / "m.json").read_bytes() == before  # --plot-only never rewrites the result file


def test_the_same_run_twice_is_not_combined(tmp_path):
    first = str(tmp_path / "a.json")
    main(TOY, ["--out", first, "--seeds", "1"])
    with pytest.raises(SystemExit, match="more than one of the files"):
        main(TOY, ["--combine", first, first, "--out", str(tmp_path / "m.json")])


def test_missing_or_foreign_files_exit_2_with_a_message(tmp_path, capsys):
    assert main(TOY, ["--combine", str(tmp_path / "nope.json"), "--out", str(tmp_path / "m.json")]) == 2
    assert "bench_toy.py: error:" in capsys.readouterr().err
    assert main(TOY, ["--plot-only", "--out", str(tmp_path / "missing.json")]) == 2
    (tmp_path / "bad.json").write_text("{}")
    assert main(TOY, ["--combine", str(tmp_path / "bad.json"), "--out", str(tmp_path / "m.json")]) == 2
    assert "not a benchmark result file" in capsys.readouterr().err


def test_demos_file_is_checked_before_any_run(tmp_path):
    episodes = [Episode(observations=[0, 1], actions=[0], rewards=[1.0], terminated=True)]
    save_episodes(tmp_path / "one.npz", episodes)
    with_demos = dataclasses.replace(
        TOY, jobs=lambda settings: [Job({"method": "m", "n_demos": 2, "seed": 0}, settings, budget=1)]
    )
    with pytest.raises(SystemExit, match="holds 1 episodes; the sweep needs 2"):
        main(with_demos, ["--out", str(tmp_path / "x.json"), "--demos-file", str(tmp_path / "one.npz")])
    without_demos = dataclasses.replace(TOY, uses_demonstrations=False)
    with pytest.raises(SystemExit, match="uses no demonstrations"):
        main(without_demos, ["--out", str(tmp_path / "x.json"), "--demos-file", str(tmp_path / "one.npz")])
    assert CALLS == []


def test_bad_options_exit_with_a_message(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(TOY, [])
    assert "--out FILE.json is needed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(TOY, ["--out", str(tmp_path / "x.json"), "--demos-file", str(tmp_path / "missing.npz")])
    assert "no such file" in capsys.readouterr().err


def test_demos_file_gives_each_seed_its_own_subset(tmp_path):
    episodes = [
        Episode(observations=[i, i + 1], actions=[0], rewards=[float(i)], terminated=True) for i in range(6)
    ]
    save_episodes(tmp_path / "demos.npz", episodes)
    job = Job({"seed": 0}, None, budget=1, demos_file=str(tmp_path / "demos.npz"))
    never = lambda: pytest.fail("the task's demonstrator must not run")  # noqa: E731
    first = demonstrations(job, 3, never, seed=0)
    assert [d.episode_return for d in first] == [d.episode_return for d in demonstrations(job, 3, never, seed=0)]
    assert len({d.episode_return for d in first}) == 3
    with pytest.raises(ValueError, match="holds 6 episodes"):
        demonstrations(job, 7, never, seed=0)
    assert demonstrations(Job({}, None, budget=1), 2, lambda: ["recorded"], seed=0) == ["recorded"]
