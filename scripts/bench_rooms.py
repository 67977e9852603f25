"""Episodes to 80% of the demonstrations' return on FourRooms / EightRooms.

    python scripts/bench_rooms.py --env rudder/FourRooms-v0 --demos 2 5 10 50 100 \\
        --seeds 20 --methods align-rudder bc-q --workers 2 --out benchmarks/results/rooms.json

The Align-RUDDER paper's metric (arXiv 2009.14108, section 7 of our reference notes):
training episodes until the mean return of the evaluation episodes (epsilon = 0.1, the
same number for every method, every 10 training episodes) reaches 0.8 x the mean
demonstration return; capped runs count as the cap. Each seed draws its own
demonstrations. Prints a markdown table beside the paper's figures, writes JSON rows
``{env, paper_compat, method, n_demos, seeds, episodes, median, q25, q75, failures}``
and, with ``--png``, a bar chart like the paper's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import rudder.envs  # noqa: F401 - registers the envs
from rudder.agents import METHODS, TrainingSettings, train_until_threshold
from rudder.envs import rooms_demonstrations

#: The paper's episodes to 80% (read off its 2022 plots, about +-5%), by env and method.
PAPER = {
    "rudder/FourRooms-v0": {
        "align-rudder": {2: 1600, 5: 1200, 10: 850, 50: 100, 100: 0},
        "bc-q": {2: 7100, 5: 5000, 10: 2000, 50: 0, 100: 0},
    },
    "rudder/EightRooms-v0": {
        "align-rudder": {2: 4500, 5: 1800, 10: 2200, 50: 0, 100: 0},
        "bc-q": {2: 10700, 5: 8300, 10: 5200, 50: 0, 100: 0},
    },
}


@dataclasses.dataclass
class Args:
    """Command-line arguments."""

    env: str = "rudder/FourRooms-v0"
    """Registered env id."""
    demos: tuple[int, ...] = (2, 5, 10, 50, 100)
    """Numbers of demonstrations."""
    seeds: int = 20
    """Seeds per cell."""
    methods: tuple[str, ...] = ("align-rudder", "bc-q")
    """Methods to run."""
    workers: int = 2
    """Worker processes."""
    paper_compat: bool = True
    """Keep the official env's unwinnable start rooms (to compare with the paper)."""
    max_episodes: int = 100_000
    """Cap on training episodes (a capped run counts as the cap)."""
    eval_episodes: int = 20
    """Evaluation episodes per evaluation, for every method."""
    out: str | None = None
    """Write the JSON rows to this file."""
    png: str | None = None
    """Draw the bar chart to this file."""
    markdown: str | None = None
    """Write the markdown table to this file."""


def run_one(job: tuple) -> tuple:
    env_id, paper_compat, method, n_demos, seed, max_episodes, eval_episodes = job

    def make():
        return gym.make(env_id, paper_compat=paper_compat).unwrapped

    demonstrations = rooms_demonstrations(make(), n_demos, seed=10_000 * n_demos + seed)
    settings = TrainingSettings(method=method, max_episodes=max_episodes, eval_episodes=eval_episodes)
    start = time.perf_counter()
    result = train_until_threshold(
        make, demonstrations, settings, seed=seed, state_shape=(6, 6, make().num_rooms)
    )
    return (method, n_demos, seed, result.episodes, result.reached, time.perf_counter() - start, result.env_steps)


def summarise(args: Args, outcomes: list[tuple]) -> list[dict]:
    rows = []
    for method in args.methods:
        for n_demos in args.demos:
            cell = sorted((o for o in outcomes if o[0] == method and o[1] == n_demos), key=lambda o: o[2])
            episodes = [o[3] for o in cell]
            rows.append(
                {
                    "env": args.env,
                    "paper_compat": args.paper_compat,
                    "method": method,
                    "n_demos": n_demos,
                    "seeds": len(cell),
                    "episodes": episodes,
                    "median": float(np.median(episodes)),
                    "q25": float(np.percentile(episodes, 25)),
                    "q75": float(np.percentile(episodes, 75)),
                    "failures": int(sum(not o[4] for o in cell)),
                    "seconds": float(sum(o[5] for o in cell)),
                    "env_steps": int(sum(o[6] for o in cell)),
                    "paper": PAPER.get(args.env, {}).get(method, {}).get(n_demos),
                }
            )
    return rows


def markdown_table(args: Args, rows: list[dict]) -> str:
    lines = [
        f"Episodes to 80% of the demonstration return, {args.env}, paper_compat={args.paper_compat}, "
        f"{args.eval_episodes} evaluation episodes (epsilon 0.1) every 10 training episodes, cap {args.max_episodes}.",
        "",
        "| method | demos | seeds | median | q25 | q75 | failures | paper (mean of 100) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        paper = "" if row["paper"] is None else f"~{row['paper']:,}"
        lines.append(
            f"| {row['method']} | {row['n_demos']} | {row['seeds']} | {row['median']:,.0f} | "
            f"{row['q25']:,.0f} | {row['q75']:,.0f} | {row['failures']} | {paper} |"
        )
    return "\n".join(lines)


def draw(args: Args, rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.8 / (2 * len(args.methods))
    positions = np.arange(len(args.demos))
    for index, method in enumerate(args.methods):
        cells = [r for r in rows if r["method"] == method]
        medians = [r["median"] for r in cells]
        errors = [[r["median"] - r["q25"] for r in cells], [r["q75"] - r["median"] for r in cells]]
        offset = (2 * index) * width
        axes.bar(positions + offset, medians, width, yerr=errors, capsize=3, label=f"{method} (ours, median, IQR)")
        paper = [PAPER.get(args.env, {}).get(method, {}).get(n, np.nan) for n in args.demos]
        axes.bar(positions + offset + width, paper, width, alpha=0.45, hatch="//", label=f"{method} (paper, mean)")
    axes.set_xticks(positions + width * (len(args.methods) - 0.5))
    axes.set_xticklabels([str(n) for n in args.demos])
    axes.set_xlabel("demonstrations")
    axes.set_ylabel("episodes to 80% of demo return")
    axes.set_title(f"{args.env} (paper_compat={args.paper_compat})")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def parse(argv) -> Args:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default=Args.env)
    parser.add_argument("--demos", type=int, nargs="+", default=list(Args.demos))
    parser.add_argument("--seeds", type=int, default=Args.seeds)
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(Args.methods))
    parser.add_argument("--workers", type=int, default=Args.workers)
    parser.add_argument("--paper-compat", action=argparse.BooleanOptionalAction, default=Args.paper_compat)
    parser.add_argument("--max-episodes", type=int, default=Args.max_episodes)
    parser.add_argument("--eval-episodes", type=int, default=Args.eval_episodes)
    parser.add_argument("--out")
    parser.add_argument("--png")
    parser.add_argument("--markdown")
    namespace = parser.parse_args(argv)
    values = vars(namespace)
    values["demos"] = tuple(values["demos"])
    values["methods"] = tuple(values["methods"])
    return Args(**values)


def main(argv=None) -> int:
    args = parse(argv)
    jobs = [
        (args.env, args.paper_compat, method, n_demos, seed, args.max_episodes, args.eval_episodes)
        for method in args.methods
        for n_demos in args.demos
        for seed in range(args.seeds)
    ]
    start = time.perf_counter()
    outcomes = []
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        for outcome in tqdm(pool.imap_unordered(run_one, jobs), total=len(jobs), desc=args.env, unit="run"):
            outcomes.append(outcome)
    elapsed = time.perf_counter() - start
    rows = summarise(args, outcomes)
    table = markdown_table(args, rows)
    print(table)
    print(f"\nWall time {elapsed:.0f} s with {args.workers} workers.")
    command = "python scripts/bench_rooms.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"command": command, "wall_seconds": elapsed, "rows": rows}, indent=2) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(f"Command: `{command}`\n\n{table}\n\nWall time {elapsed:.0f} s with {args.workers} workers.\n")
    if args.png:
        draw(args, rows, args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
