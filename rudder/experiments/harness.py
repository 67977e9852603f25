"""The experiment harness: one command line, one sweep, one result file for every benchmark.

A :class:`Benchmark` declares what is particular to it (its settings dataclass, its jobs,
the run, how runs group into table cells, its metrics and pictures). :func:`main` does the
rest, the same way for every benchmark script::

    python scripts/bench_rooms.py --demos 2 5 --seeds 20 --workers 2 --out rooms.json --markdown rooms.md
    python scripts/bench_rooms.py ... --out rooms.json --resume      # run only what is missing
    python scripts/bench_rooms.py ... --ray-address auto             # on a Ray cluster
    python scripts/bench_rooms.py --combine a.json b.json --out all.json --markdown all.md
    python scripts/bench_rooms.py --plot-only --out rooms.json --png rooms.png

The result file is rewritten after every finished run, so a stopped sweep keeps what it
has and ``--resume`` continues it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rudder.arguments import parse_several
from rudder.data.io import atomic_write
from rudder.data.sources import check_demonstrations, demonstrations_digest, load_demonstrations
from rudder.errors import RudderError
from rudder.experiments.report import Metric, markdown_table, summary_rows
from rudder.experiments.results import (
    ResultFile,
    combine_results,
    command_line,
    current_commit,
    package_versions,
    read_results,
    source_settings,
    write_results,
)
from rudder.experiments.sweep import Job, RunFunction, run_sweep

__all__ = ["Benchmark", "SweepOptions", "main", "run_benchmark"]


@dataclasses.dataclass
class SweepOptions:
    """The harness's own options, shared by every benchmark script."""

    out: str | None = None
    """JSON result file, rewritten after every finished run (needed to run a sweep)."""
    markdown: str | None = None
    """Write the table to this markdown file."""
    png: str | None = None
    """Draw the benchmark's picture to this PNG file."""
    workers: int = 1
    """Runs at once: 1 runs in this process; more use a process pool (or Ray's CPUs)."""
    ray: bool = False
    """Run on a local Ray instance with --workers CPUs (needs align-rudder[ray])."""
    ray_address: str | None = None
    """Run on the Ray cluster at this address ('auto' or 'ray://HOST:10001'; implies --ray)."""
    resume: bool = False
    """Keep the runs already in --out that this sweep would make and run only the others."""
    demos_file: str | None = None
    """Demonstrations from this .npz file (rudder.save_episodes), minari:DATASET_ID or imitation:PATH instead of the task's own demonstrator."""
    combine: tuple[str, ...] = ()
    """Do not run: merge the runs of these result files into --out (each keeps its own settings)."""
    plot_only: bool = False
    """Do not run: redraw the table and picture from --out."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {self.workers}")
        if self.out is None and not self.combine:
            raise ValueError("--out FILE.json is needed: results are written there as runs finish")
        if (self.resume or self.plot_only) and self.out is None:
            raise ValueError("--resume and --plot-only read --out FILE.json; name it")
        if self.demos_file is not None:
            try:
                check_demonstrations(self.demos_file)
            except FileNotFoundError as error:
                raise ValueError(f"--demos-file {self.demos_file}: {error}") from None


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """What one benchmark is.

    Attributes:
        name: the benchmark's name, written into its result files.
        script: the script that runs it (for the recorded command line).
        description: the ``--help`` text.
        settings: the dataclass of the benchmark's own options (fields with defaults and
            a help string under each).
        jobs: the runs a settings instance asks for, longest first where possible.
        run: one run (module-level, so it can run in another process or on Ray).
        group_by: the run fields that make one table row.
        metrics: the numbers each run reports, in column order.
        caption: the line above the table, from the runs' settings (one dict per source
            file of a merged result).
        reference: a published number for a row (shown beside ours), where there is one.
        reference_name: that column's title.
        draw: draws the picture: ``draw(results, rows, path)``.
        notes: text printed and written below the table: ``notes(results, rows)``
            (for example a summary over the rows).
        sections: a ``group_by`` field whose values each get their own table, with the
            ``group_by`` fields and metrics that apply to that value's runs (for runs of
            different kinds in one benchmark); its values' titles come from ``names``.
        names: display names of methods (and titles of ``sections`` values).
        axes: the settings that only choose which runs are made (seeds, methods, ...), not
            how a run goes: ``--resume`` may change these and keeps the runs that match.
        uses_demonstrations: whether the runs use demonstrations (otherwise
            ``--demos-file`` is refused).
    """

    name: str
    script: str
    description: str
    settings: type
    jobs: Callable[[Any], list[Job]]
    run: RunFunction
    group_by: tuple[str, ...]
    metrics: tuple[Metric, ...]
    caption: Callable[[list[dict[str, Any]]], str] = lambda sources: ""
    reference: Callable[[Mapping[str, Any]], float | None] | None = None
    reference_name: str | None = None
    draw: Callable[[ResultFile, list[dict[str, Any]], str], None] | None = None
    notes: Callable[[ResultFile, list[dict[str, Any]]], str] | None = None
    sections: str | None = None
    names: Mapping[str, str] = dataclasses.field(default_factory=dict)
    axes: tuple[str, ...] = ()
    uses_demonstrations: bool = True


def _settings_record(settings: Any, options: SweepOptions) -> dict[str, Any]:
    record = json.loads(json.dumps(dataclasses.asdict(settings)))  # tuples -> lists, as read back
    if options.demos_file is not None:
        record["demos_file"] = options.demos_file
        record["demos_file_sha256"] = demonstrations_digest(options.demos_file)
    return record


def _run_key(key: Mapping[str, Any]) -> str:
    return json.dumps(dict(key), sort_keys=True)


def _tables(benchmark: Benchmark, rows: list[dict[str, Any]], caption: str) -> str:
    """The markdown table of the rows (one per value of ``benchmark.sections``)."""
    if benchmark.sections is None:
        return markdown_table(
            rows, group_by=benchmark.group_by, metrics=benchmark.metrics, caption=caption,
            reference_name=benchmark.reference_name, names=benchmark.names,
        )
    parts = [caption] if caption else []
    for value in dict.fromkeys(row[benchmark.sections] for row in rows):
        chosen = [row for row in rows if row[benchmark.sections] == value]
        group_by = [
            key for key in benchmark.group_by if key != benchmark.sections and any(row[key] is not None for row in chosen)
        ]
        metrics = [metric for metric in benchmark.metrics if any(row[metric.name] is not None for row in chosen)]
        parts.append(
            markdown_table(
                chosen, group_by=group_by, metrics=metrics, caption=str(benchmark.names.get(value, value)),
                reference_name=benchmark.reference_name, names=benchmark.names,
            )
        )
    return "\n\n".join(parts)


def _write(benchmark: Benchmark, results: ResultFile, options: SweepOptions, *, result_file: bool = True) -> str:
    """Writes the result file (unless ``result_file`` is false), the table and the picture;
    returns the table (and the notes)."""
    rows = summary_rows(results.runs, group_by=benchmark.group_by, metrics=benchmark.metrics, reference=benchmark.reference)
    results.rows = rows
    table = _tables(benchmark, rows, benchmark.caption(source_settings(results.settings)))
    if benchmark.notes is not None and rows:
        table += "\n\n" + benchmark.notes(results, rows)
    if options.out and result_file:
        write_results(options.out, results)
    if options.markdown:
        text = f"Command: `{results.command}`\n\n{table}\n\nWall time {results.elapsed_seconds:,.0f} s.\n"
        atomic_write(options.markdown, lambda file: file.write(text.encode()))
    if options.png and benchmark.draw is not None and results.runs:
        benchmark.draw(results, rows, options.png)
    return table


def _earlier_results(options: SweepOptions, settings: dict[str, Any], axes: Sequence[str]) -> ResultFile | None:
    """With --resume, the result file --out already holds (all of its runs are kept: the
    ones this sweep would make are not made again)."""
    if not options.resume or options.out is None or not os.path.exists(options.out):
        return None
    earlier = read_results(options.out)
    changed = sorted(
        key for key in {*earlier.settings, *settings} if key not in axes and earlier.settings.get(key) != settings.get(key)
    )
    if changed:
        raise SystemExit(
            f"--resume: {options.out} holds runs made with other settings ({', '.join(changed)} differ); "
            "pass the same options or write to another --out"
        )
    return earlier


def _check_before_running(benchmark: Benchmark, options: SweepOptions, jobs: Sequence[Job]) -> None:
    """Refuses, before any run starts, what would fail or mean nothing later."""
    if options.demos_file is not None:
        if not benchmark.uses_demonstrations:
            raise SystemExit(f"--demos-file: the {benchmark.name} benchmark uses no demonstrations")
        needed = max(int(job.key.get("n_demos", 0)) for job in jobs)
        available = len(load_demonstrations(options.demos_file))
        if needed > available:
            raise SystemExit(f"--demos-file {options.demos_file} holds {available} episodes; the sweep needs {needed}")
    if options.png and benchmark.draw is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError as error:
            raise SystemExit("--png needs matplotlib: pip install 'align-rudder[viz]'") from error


def run_benchmark(benchmark: Benchmark, settings: Any, options: SweepOptions, *, command: str) -> str:
    """Runs (or combines, or redraws) a benchmark and writes its outputs; returns the table."""
    if options.combine:
        combined = combine_results(options.combine, benchmark=benchmark.name)
        _refuse_duplicate_runs(benchmark, combined)
        return _write(benchmark, combined, options)
    if options.plot_only:  # the result file is read, never rewritten
        assert options.out is not None  # checked by SweepOptions
        return _write(benchmark, read_results(options.out), options, result_file=False)
    jobs = [dataclasses.replace(job, demos_file=options.demos_file) for job in benchmark.jobs(settings)]
    if not jobs:
        raise SystemExit("the settings ask for no runs")
    _check_before_running(benchmark, options, jobs)
    record = _settings_record(settings, options)
    earlier = _earlier_results(options, record, benchmark.axes)
    runs = list(earlier.runs) if earlier is not None else []
    done = {_run_key({key: run.get(key) for key in jobs[0].key}) for run in runs}
    todo = [job for job in jobs if _run_key(job.key) not in done]
    if earlier is not None:
        print(f"--resume: {len(runs)} runs kept from {options.out}, {len(todo)} to run", file=sys.stderr)
    commit = current_commit()
    results = ResultFile(
        benchmark=benchmark.name, command=command if earlier is None else f"{earlier.command}; {command}",
        settings=record, runs=runs, commit=commit, versions=package_versions(),
    )
    before = earlier.elapsed_seconds if earlier is not None else 0.0
    started = time.perf_counter()
    order = {_run_key(job.key): index for index, job in enumerate(jobs)}
    for index, run in run_sweep(
        benchmark.run, todo, workers=options.workers, ray=options.ray, ray_address=options.ray_address,
        description=benchmark.name,
    ):
        results.runs.append({**todo[index].key, **run, "commit": commit})
        results.runs.sort(key=lambda entry: order.get(_run_key({key: entry.get(key) for key in jobs[0].key}), len(order)))
        results.elapsed_seconds = before + time.perf_counter() - started
        _write(benchmark, results, options)
    results.elapsed_seconds = before + time.perf_counter() - started
    return _write(benchmark, results, options)


def _refuse_duplicate_runs(benchmark: Benchmark, results: ResultFile) -> None:
    """The same run (cell and seed) from two sources would count twice in the medians."""
    seen: set[str] = set()
    for run in results.runs:
        key = _run_key({name: run.get(name) for name in (*benchmark.group_by, "seed")})
        if key in seen:
            raise SystemExit(f"--combine: the run {key} is in more than one of the files; combine each run once")
        seen.add(key)


def main(benchmark: Benchmark, argv: Sequence[str] | None = None) -> int:
    """The command line of a benchmark script: parses ``argv`` (default: the process's),
    runs, prints the table, returns the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    options, settings = parse_several((SweepOptions, benchmark.settings), arguments, description=benchmark.description)
    try:
        table = run_benchmark(benchmark, settings, options, command=command_line(benchmark.script, arguments))
    except (RudderError, OSError, ValueError) as error:  # a bad or missing file: say what, no traceback
        print(f"{Path(benchmark.script).name}: error: {error}", file=sys.stderr)
        return 2
    print(table)
    return 0
