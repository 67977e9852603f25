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
    jobs=lambda settings: [Job({"method": "m", "seed": seed}, settings, budget=10) for seed in range(settings.seeds)],
    run=toy_run,
    group_by=("method",),
    metrics=(Metric("score", lambda run: run["score"]),),
    caption=lambda sources: f"scale {sources[0].get('scale')}",
    axes=("seeds",),
)


@pytest.fixture(autouse=True)
def _no_calls():
    CALLS.clear()


def test_a_sweep_writes_one_result_file_with_rows(tmp_path, capsys):
    out, markdown = tmp_path / "toy.json", tmp_path / "toy.md"
    assert main(TOY, ["--out", str(out), "--markdown", str(markdown), "--scale", "2"]) == 0
    record = json.loads(out.read_text())
    assert record["benchmark"] == "toy" and record["settings"] == {"seeds": 3, "scale": 2}
    assert record["command"] == f"python scripts/bench_toy.py --out {out} --markdown {markdown} --scale 2"
    assert [run["score"] for run in record["runs"]] == [0, 2, 4]
    assert record["runs"][0]["method"] == "m" and "versions" in record and "commit" in record
    (row,) = record["rows"]
    assert row["score"]["median"] == 2.0 and row["failures"] == 1 and row["seeds"] == [0, 1, 2]
    assert "scale 2" in markdown.read_text() and "| m | 3 | 2 (1-3) |" in capsys.readouterr().out


def test_resume_runs_only_what_is_missing(tmp_path):
    out = str(tmp_path / "toy.json")
    main(TOY, ["--out", out, "--seeds", "2"])
    assert len(CALLS) == 2
    CALLS.clear()
    main(TOY, ["--out", out, "--seeds", "3", "--resume"])
    assert CALLS == [{"method": "m", "seed": 2}]
    assert [run["seed"] for run in read_results(out).runs] == [0, 1, 2]


def test_resume_refuses_runs_made_with_other_settings(tmp_path):
    out = str(tmp_path / "toy.json")
    main(TOY, ["--out", out, "--seeds", "2"])
    with pytest.raises(SystemExit, match="scale"):
        main(TOY, ["--out", out, "--seeds", "2", "--scale", "5", "--resume"])


def test_combine_and_plot_only_rewrite_the_table_from_the_runs(tmp_path):
    first, second, merged = (str(tmp_path / name) for name in ("a.json", "b.json", "m.json"))
    main(TOY, ["--out", first, "--seeds", "1"])
    main(TOY, ["--out", second, "--seeds", "1", "--scale", "3"])
    CALLS.clear()
    main(TOY, ["--combine", first, second, "--out", merged])
    assert CALLS == [] and len(read_results(merged).runs) == 2
    main(TOY, ["--plot-only", "--out", merged, "--markdown", str(tmp_path / "m.md")])
    assert "scale 1" in (tmp_path / "m.md").read_text()  # the first source's settings, not the command's


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
