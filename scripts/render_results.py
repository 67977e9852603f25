"""Redraws the committed benchmark tables and pictures from their result files, without runs.

    python scripts/render_results.py                       # every benchmarks/results/*.json
    python scripts/render_results.py benchmarks/results/rooms.json

Each ``NAME.json`` rewrites ``NAME.md`` (where it exists) and ``NAME.png`` (where it
exists) with its benchmark's ``--plot-only``; the result files themselves are only read.
The paragraphs written by hand below the old table (notes on how the runs were made) are
kept, after the new table.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from rudder.experiments import main
from rudder.experiments.results import read_results
from rudder.experiments.tasks import (
    cloning,
    core,
    craft,
    crafter,
    delay,
    env_speed,
    generality,
    minigrid,
    rooms,
)

BENCHMARKS = {
    benchmark.name: benchmark
    for benchmark in (
        cloning.CLONING, core.CORE, craft.CRAFT, crafter.CRAFTER, delay.DELAY, env_speed.ENV_SPEED, generality.GENERALITY, minigrid.MINIGRID, rooms.ROOMS
    )
}
RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def render(path: Path) -> int:
    """Rewrites the table (and picture) of one result file; returns the exit status."""
    markdown, picture = path.with_suffix(".md"), path.with_suffix(".png")
    if not markdown.exists():
        print(f"{path.name}: no {markdown.name} beside it, skipped", file=sys.stderr)
        return 0
    arguments = ["--plot-only", "--out", str(path), "--markdown", str(markdown)]
    if picture.exists():
        arguments += ["--png", str(picture)]
    print(f"{path.name} -> {markdown.name}{' and ' + picture.name if picture.exists() else ''}", file=sys.stderr)
    notes = hand_written_notes(markdown.read_text())
    status = main(BENCHMARKS[read_results(path).benchmark], arguments)
    text = markdown.read_text()
    kept = [paragraph for paragraph in notes if paragraph not in text]
    if status == 0 and kept:
        markdown.write_text(text.rstrip("\n") + "\n\n" + "\n\n".join(kept) + "\n")
    return status


def hand_written_notes(text: str) -> list[str]:
    """The paragraphs below the generated part: after its wall-time line (notes may hold tables
    of their own), or, in a file without one, after the last table line."""
    lines = text.splitlines()
    wall_time = [index for index, line in enumerate(lines) if re.fullmatch(r"Wall time [\d,.]+ s\.", line.strip())]
    last_table = max((index for index, line in enumerate(lines) if line.startswith("|")), default=len(lines))
    end = wall_time[0] if wall_time else last_table
    paragraphs = "\n".join(lines[end + 1 :]).split("\n\n")
    return [p.strip("\n") for p in paragraphs if p.strip() and not p.strip().startswith(("Wall time", "Wrote "))]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Redraws committed benchmark tables and pictures from their result files.")
    parser.add_argument("paths", nargs="*", type=Path, help="result files (default: every benchmarks/results/*.json)")
    paths = parser.parse_args().paths or sorted(RESULTS.glob("*.json"))
    raise SystemExit(max((render(path) for path in paths), default=0))
