"""Helpers of the benchmark scripts (``scripts/bench_*.py``): running the runs, and
writing their results as they come."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tqdm import tqdm

from rudder.data.io import atomic_write


def run_jobs(
    function: Callable[[Any], Any], jobs: Sequence[Any], *, workers: int = 1, description: str = "runs"
) -> Iterator[Any]:
    """Yields ``function(job)`` for every job, under a progress bar, as the runs finish.

    With ``workers == 1`` the jobs run in this process, in order (nothing is pickled,
    so ``function`` may live in a script loaded from a path); otherwise in ``workers``
    spawned processes, in the order they finish (``function`` must be importable).
    """
    if workers < 1:
        raise ValueError(f"`workers` must be >= 1, got {workers}")
    if workers == 1:
        for job in tqdm(jobs, desc=description, unit="run"):
            yield function(job)
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from tqdm(pool.imap_unordered(function, jobs), total=len(jobs), desc=description, unit="run")


def write_json(path: str | os.PathLike, record: Any) -> None:
    """Writes ``record`` as indented JSON, atomically (a stopped benchmark never leaves a
    half-written file)."""
    text = json.dumps(record, indent=1).encode()
    atomic_write(path, lambda file: file.write(text))


def combine_records(paths: Sequence[str | os.PathLike]) -> tuple[list[dict], str, float, dict]:
    """The runs of earlier benchmark result files (``{"command", "elapsed_seconds", "runs"}``)
    merged: ``(runs, commands joined by "; ", total seconds, settings)``, where
    ``settings`` is ``{"combined_from": [{"path", "command", "settings"}, ...]}``: each
    file's own settings, since the runs were made with them and not with those of the
    merging command.

    Raises:
        ValueError: if a file is not such a result file.
    """
    runs: list[dict] = []
    sources: list[dict] = []
    seconds = 0.0
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        if not isinstance(record, dict) or not {"command", "elapsed_seconds", "runs"} <= set(record):
            raise ValueError(f"{path} is not a benchmark result file (needs 'command', 'elapsed_seconds' and 'runs')")
        runs.extend(record["runs"])
        sources.append({"path": str(path), "command": str(record["command"]), "settings": record.get("settings")})
        seconds += float(record["elapsed_seconds"])
    command = "; ".join(source["command"] for source in sources)
    return runs, command, seconds, {"combined_from": sources}


def source_settings(settings: dict | None) -> list[dict]:
    """The settings of every source of a result file's runs: for a merged file (see
    :func:`combine_records`) its ``combined_from`` entries, recursively; ``{}`` for a
    source that recorded none."""
    if not settings:
        return [{}]
    if "combined_from" in settings:
        return [found for source in settings["combined_from"] for found in source_settings(source.get("settings"))]
    return [settings]


__all__ = ["combine_records", "run_jobs", "source_settings", "write_json"]
