"""The one result file of every benchmark: what was run, with what, and each run's record.

A result file is JSON::

    {"format": "rudder-benchmark-results", "format_version": 1,
     "benchmark": "rooms", "command": "python scripts/bench_rooms.py ...",
     "commit": "257b610...", "versions": {"python": "3.11.7", "numpy": "...", ...},
     "settings": {...}, "elapsed_seconds": 183.4,
     "runs": [{"env": ..., "method": ..., "n_demos": ..., "seed": ..., "seconds": ...,
               "env_steps": ..., "curve": [[x, y, ...], ...], ...}, ...],
     "rows": [...]}

``runs`` is the data (one record per run, with its learning curve where it has one);
``rows`` is the summary table, recomputed from the runs whenever the file is written.
A merged file's ``settings`` is ``{"combined_from": [{"path", "command", "settings"}, ...]}``,
since its runs were made with their own settings and not with the merging command's.

:func:`read_results` also reads the layouts written before this one (the rooms tables,
the crafting, minigrid and delay files, the core timings), so every committed file can be
combined and redrawn.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from rudder.data.io import atomic_write
from rudder.errors import DataFormatError

__all__ = [
    "RESULTS_FORMAT",
    "RESULTS_FORMAT_VERSION",
    "ResultFile",
    "combine_results",
    "current_commit",
    "package_versions",
    "command_line",
    "read_results",
    "source_settings",
    "write_results",
]

RESULTS_FORMAT = "rudder-benchmark-results"
RESULTS_FORMAT_VERSION = 1

#: Packages whose versions a result file records, when installed.
_RECORDED_PACKAGES = ("align-rudder", "numpy", "scipy", "gymnasium", "torch", "stable-baselines3", "minigrid", "ray")


@dataclasses.dataclass
class ResultFile:
    """The contents of one result file (see the module docstring for the JSON layout).

    Attributes:
        benchmark: the benchmark's name (``"rooms"``, ``"craft"``, ...).
        command: the command that made the runs (commands joined by ``"; "`` when merged).
        settings: the settings of the runs (a merged file: ``{"combined_from": [...]}``).
        runs: one record per run, in the order of the sweep's jobs (runs kept by
            ``--resume`` first where they are not among this sweep's jobs).
        elapsed_seconds: wall time of the runs (summed over merged files).
        commit: the git commit the runs were made at, where known.
        versions: package versions of the machine that made the runs.
        rows: the summary table written beside the runs (recomputed on every write).
    """

    benchmark: str
    command: str
    settings: dict[str, Any]
    runs: list[dict[str, Any]]
    elapsed_seconds: float = 0.0
    commit: str | None = None
    versions: dict[str, str] = dataclasses.field(default_factory=dict)
    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON record of this file."""
        return {
            "format": RESULTS_FORMAT,
            "format_version": RESULTS_FORMAT_VERSION,
            "benchmark": self.benchmark,
            "command": self.command,
            "commit": self.commit,
            "versions": self.versions,
            "settings": self.settings,
            "elapsed_seconds": round(float(self.elapsed_seconds), 1),
            "runs": self.runs,
            "rows": self.rows,
        }


def package_versions() -> dict[str, str]:
    """Python's version and those of the installed packages that shape a result."""
    versions = {"python": platform.python_version()}
    for name in _RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def current_commit(directory: str | os.PathLike | None = None) -> str | None:
    """The git commit of the checkout that holds this package (``None`` outside git),
    with ``+dirty`` appended when tracked files have uncommitted changes."""
    root = Path(directory) if directory is not None else Path(__file__).resolve().parents[2]
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        if Path(top).resolve() != root.resolve():  # installed inside some other repository
            return None
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}+dirty" if dirty else commit


def write_results(path: str | os.PathLike, results: ResultFile) -> None:
    """Writes ``results`` as indented JSON, atomically: a benchmark stopped while writing
    never leaves a half-written file, and the old file stays until the new one is whole."""
    text = (json.dumps(results.to_json(), indent=1) + "\n").encode()
    atomic_write(path, lambda file: file.write(text))


def read_results(path: str | os.PathLike) -> ResultFile:
    """Reads a result file of any layout this project has written.

    Raises:
        DataFormatError: if the file is not JSON or not a benchmark result file.
        FileNotFoundError: if there is no such file.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except json.JSONDecodeError as error:
        raise DataFormatError(f"{path} is not a benchmark result file: not JSON ({error})") from error
    if not isinstance(record, dict) or "command" not in record:
        raise DataFormatError(f"{path} is not a benchmark result file (it has no 'command')")
    if record.get("format") == RESULTS_FORMAT:
        if record.get("format_version") != RESULTS_FORMAT_VERSION:
            raise DataFormatError(
                f"{path} has result format version {record.get('format_version')!r}; this version of "
                f"align-rudder reads version {RESULTS_FORMAT_VERSION}"
            )
        return ResultFile(
            benchmark=str(record["benchmark"]),
            command=str(record["command"]),
            settings=dict(record.get("settings") or {}),
            runs=list(record["runs"]),
            elapsed_seconds=float(record.get("elapsed_seconds", 0.0)),
            commit=record.get("commit"),
            versions=dict(record.get("versions") or {}),
            rows=list(record.get("rows") or []),
        )
    return _read_earlier_layout(path, record)


def _read_earlier_layout(path: str | os.PathLike, record: dict[str, Any]) -> ResultFile:
    """Result files written before the common layout, by the benchmark that wrote them."""
    command = str(record["command"])
    if "wall_seconds" in record and "rows" in record:  # bench_rooms.py: a table of cells
        return ResultFile("rooms", command, {}, _rooms_runs(record["rows"]), float(record["wall_seconds"]))
    if "runs" in record and "elapsed_seconds" in record:  # craft, minigrid, delay
        runs, settings = list(record["runs"]), dict(record.get("settings") or {})
        benchmark = _benchmark_of_runs(path, runs, command)
        if benchmark == "delay":  # unsolved runs counted as the cap, --max-episodes
            cap = settings.get("max_episodes")
            runs = [{**run, "reached": run["solved_at"] is not None, "max_episodes": cap, "env_steps": None} for run in runs]
        if benchmark == "minigrid":  # a run that missed the target counts as the budget
            budgets = {source.get("budget") for source in source_settings(settings)}
            if len(budgets) != 1:
                raise DataFormatError(f"{path} merges minigrid runs of different budgets {sorted(map(str, budgets))}")
            (budget,) = budgets
            runs = [{**run, "budget": budget, "reached": run["reached_at"] is not None} for run in runs]
        return ResultFile(benchmark, command, settings, runs, float(record["elapsed_seconds"]))
    if "alignment" in record and "wrapper" in record:  # bench_core.py's timings
        runs = [{"measure": "alignment", **entry} for entry in record["alignment"]]
        runs += [{"measure": "wrapper", **entry} for entry in record["wrapper"]]
        machine: dict[str, Any] = {key: record[key] for key in ("machine", "clustalw_available", "numba_compiled_dp") if key in record}
        return ResultFile("core", command, machine, runs)
    if "steps_per_second" in record:  # bench_craft.py --env-speed: the crafting world's speed
        run = {"env": "rudder/CraftDiamond-v0", "seed": 0, **{key: record[key] for key in ("steps", "seconds", "steps_per_second")}}
        return ResultFile("env_speed", command, {"envs": ["rudder/CraftDiamond-v0"], "steps": record["steps"]}, [run], float(record["seconds"]))
    raise DataFormatError(f"{path} is not a benchmark result file: no known layout has the keys {sorted(record)}")


def _benchmark_of_runs(path: str | os.PathLike, runs: Sequence[dict[str, Any]], command: str) -> str:
    keys = set(runs[0]) if runs else set()
    if "diamond" in keys or "bench_craft" in command:
        return "craft"
    if "reached_at" in keys or "bench_minigrid" in command:
        return "minigrid"
    if "solved_at" in keys or "bench_delay" in command:
        return "delay"
    raise DataFormatError(f"{path}: cannot tell which benchmark made these runs")


def _rooms_runs(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-seed runs behind the rooms tables: each cell listed its seeds' episodes
    in seed order, seeds 0, 1, ..., and counted the runs that hit the cap as failures."""
    runs = []
    for row in rows:
        cap = max(row["episodes"]) if row.get("failures") else None
        for seed, episodes in enumerate(row["episodes"]):
            runs.append(
                {
                    "env": row["env"],
                    "paper_compat": row.get("paper_compat", True),
                    "method": row["method"],
                    "n_demos": row["n_demos"],
                    "seed": seed,
                    "episodes": episodes,
                    "reached": cap is None or episodes < cap,
                    "seconds": None,
                    "env_steps": None,
                }
            )
    return runs


def combine_results(paths: Sequence[str | os.PathLike], *, benchmark: str | None = None) -> ResultFile:
    """The runs of several result files merged into one, each source's settings kept.

    Args:
        paths: result files, of any layout :func:`read_results` reads.
        benchmark: the benchmark they must all belong to (default: that of the first).

    Raises:
        DataFormatError: if a file is not a result file, or belongs to another benchmark.
    """
    if not paths:
        raise ValueError("`paths` is empty: name the result files to combine")
    sources = [(path, read_results(path)) for path in paths]
    expected = benchmark or sources[0][1].benchmark
    for path, results in sources:
        if results.benchmark != expected:
            raise DataFormatError(f"{path} holds {results.benchmark!r} results, not {expected!r}: combine files of one benchmark")
    return ResultFile(
        benchmark=expected,
        command="; ".join(results.command for _, results in sources),
        settings={
            "combined_from": [
                {
                    "path": str(path),
                    "command": results.command,
                    "commit": results.commit,
                    "versions": results.versions,
                    "settings": results.settings,
                }
                for path, results in sources
            ]
        },
        runs=[run for _, results in sources for run in results.runs],
        elapsed_seconds=sum(results.elapsed_seconds for _, results in sources),
        commit=None,
        versions=package_versions(),
    )


def source_settings(settings: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The settings of every source of a result file's runs: for a merged file (see
    :func:`combine_results`) its ``combined_from`` entries, recursively; ``{}`` for a
    source that recorded none."""
    if not settings:
        return [{}]
    if "combined_from" in settings:
        return [found for source in settings["combined_from"] for found in source_settings(source.get("settings"))]
    return [settings]


def command_line(script: str, argv: Sequence[str] | None = None) -> str:
    """``python SCRIPT ARGS...`` as typed (``argv`` defaults to this process's)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    return " ".join(["python", script, *arguments])
