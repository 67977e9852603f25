"""Episodes to 80% of the demonstrations' return on FourRooms / EightRooms.

    python scripts/bench_rooms.py --env rudder/FourRooms-v0 rudder/EightRooms-v0 \\
        --demos 2 5 10 50 100 --seeds 20 --methods align-rudder bc-q --workers 2 \\
        --out benchmarks/results/rooms.json --markdown benchmarks/results/rooms.md \\
        --png benchmarks/results/rooms.png

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
import itertools
import json
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import rudder.envs  # noqa: F401 - registers the envs
from rudder.agents import TABULAR_METHODS, TabularSettings, train_until_threshold
from rudder.benchmarking import run_jobs
from rudder.envs import rooms_demonstrations

#: The paper's episodes to 80% (read off its 2022 plots, about +-5%), by env and method.
PAPER = {
    "rudder/FourRooms-v0": {
        "align-rudder": {2: 1600, 5: 1200, 10: 850, 50: 100, 100: 0},
        "bc-q": {2: 7100, 5: 5000, 10: 2000, 50: 0, 100: 0},
        "dqfd": {2: 7800, 5: 5000, 10: 4800, 50: 0, 100: 0},
    },
    "rudder/EightRooms-v0": {
        "align-rudder": {2: 4500, 5: 1800, 10: 2200, 50: 0, 100: 0},
        "bc-q": {2: 10700, 5: 8300, 10: 5200, 50: 0, 100: 0},
        "dqfd": {2: 14200, 5: 10300, 10: 20000, 50: 0, 100: 0},
    },
}


@dataclasses.dataclass
class Args:
    """Command-line arguments."""

    env: tuple[str, ...] = ("rudder/FourRooms-v0",)
    """Registered env ids."""
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
    combine: tuple[str, ...] | None = None
    """Combine the rows of earlier --out files instead of running."""


def run_one(job: tuple) -> tuple:
    env_id, paper_compat, method, n_demos, seed, max_episodes, eval_episodes = job
    if method == "rudder-lstm":
        import torch

        torch.set_num_threads(1)  # one run per worker process

    def make():
        return gym.make(env_id, paper_compat=paper_compat).unwrapped

    demonstrations = rooms_demonstrations(make(), n_demos, seed=10_000 * n_demos + seed)
    settings = TabularSettings(
        method=method, max_episodes=max_episodes, eval_episodes=eval_episodes
    )
    start = time.perf_counter()
    result = train_until_threshold(
        make, demonstrations, settings, seed=seed, state_shape=(6, 6, make().num_rooms)
    )
    elapsed = time.perf_counter() - start
    return (
        method,
        n_demos,
        seed,
        result.episodes,
        result.reached,
        elapsed,
        result.env_steps,
        env_id,
    )


def summarise(args: Args, outcomes: list[tuple]) -> list[dict]:
    rows = []
    for env_id, method, n_demos in itertools.product(args.env, args.methods, args.demos):
        cell = sorted(
            (o for o in outcomes if o[7] == env_id and o[0] == method and o[1] == n_demos),
            key=lambda o: o[2],
        )
        episodes = [o[3] for o in cell]
        rows.append(
            {
                "env": env_id,
                "paper_compat": args.paper_compat,
                "method": method,
                "n_demos": n_demos,
                "seeds": len(cell),
                "episodes": episodes,
                "median": float(np.median(episodes)),
                "mean": float(np.mean(episodes)),
                "q25": float(np.percentile(episodes, 25)),
                "q75": float(np.percentile(episodes, 75)),
                "failures": int(sum(not o[4] for o in cell)),
                "seconds": float(sum(o[5] for o in cell)),
                "env_steps": int(sum(o[6] for o in cell)),
                "paper": PAPER.get(env_id, {}).get(method, {}).get(n_demos),
            }
        )
    return rows


def markdown_table(args: Args, rows: list[dict]) -> str:
    lines = [
        f"Episodes to 80% of the demonstration return, paper_compat={args.paper_compat}, "
        f"{args.eval_episodes} evaluation episodes (epsilon 0.1) every 10 training episodes, cap {args.max_episodes}.",
        "",
        "| env | method | demos | seeds | median | q25 | q75 | mean | failures | run time (s) | paper (mean of 100) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        paper = "" if row["paper"] is None else f"~{row['paper']:,}"
        lines.append(
            f"| {row['env']} | {row['method']} | {row['n_demos']} | {row['seeds']} | {row['median']:,.0f} | "
            f"{row['q25']:,.0f} | {row['q75']:,.0f} | {row['mean']:,.0f} | {row['failures']} | {row['seconds']:.0f} | {paper} |"
        )
    return "\n".join(lines)


def draw(args: Args, rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, len(args.env), figsize=(7 * len(args.env), 4), squeeze=False)
    width = 0.8 / (2 * len(args.methods))
    positions = np.arange(len(args.demos))
    for axes, env_id in zip(panels[0], args.env):
        for index, method in enumerate(args.methods):
            cells = [r for r in rows if r["env"] == env_id and r["method"] == method]
            medians = [r["median"] for r in cells]
            errors = [
                [r["median"] - r["q25"] for r in cells],
                [r["q75"] - r["median"] for r in cells],
            ]
            offset = (2 * index) * width
            axes.bar(
                positions + offset,
                medians,
                width,
                yerr=errors,
                capsize=3,
                label=f"{method} (ours: median, IQR)",
            )
            paper = [PAPER.get(env_id, {}).get(method, {}).get(n, np.nan) for n in args.demos]
            axes.bar(
                positions + offset + width,
                paper,
                width,
                alpha=0.45,
                hatch="//",
                label=f"{method} (paper: mean)",
            )
        axes.set_xticks(positions + width * (len(args.methods) - 0.5))
        axes.set_xticklabels([str(n) for n in args.demos])
        axes.set_xlabel("demonstrations")
        axes.set_ylabel("training episodes to 80% of demo return")
        axes.set_title(f"{env_id} (paper_compat={args.paper_compat})")
        axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def parse(argv) -> Args:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", nargs="+", default=list(Args.env))
    parser.add_argument("--demos", type=int, nargs="+", default=list(Args.demos))
    parser.add_argument("--seeds", type=int, default=Args.seeds)
    parser.add_argument("--methods", nargs="+", choices=TABULAR_METHODS, default=list(Args.methods))
    parser.add_argument("--workers", type=int, default=Args.workers)
    parser.add_argument(
        "--paper-compat", action=argparse.BooleanOptionalAction, default=Args.paper_compat
    )
    parser.add_argument("--max-episodes", type=int, default=Args.max_episodes)
    parser.add_argument("--eval-episodes", type=int, default=Args.eval_episodes)
    parser.add_argument("--out")
    parser.add_argument("--png")
    parser.add_argument("--markdown")
    parser.add_argument(
        "--combine",
        nargs="+",
        metavar="FILE",
        help="do not run: combine the rows of earlier --out files into one table, JSON and PNG",
    )
    namespace = parser.parse_args(argv)
    values = vars(namespace)
    values["demos"] = tuple(values["demos"])
    values["env"] = tuple(values["env"])
    values["combine"] = tuple(values["combine"]) if values["combine"] else None
    values["methods"] = tuple(values["methods"])
    return Args(**values)


def combine(args: Args) -> tuple[list[dict], str, float]:
    """Rows, commands and wall time of earlier runs (their --out files)."""
    rows, commands, wall = [], [], 0.0
    for path in args.combine:
        result = json.loads(Path(path).read_text())
        for row in result["rows"]:
            row.setdefault("mean", float(np.mean(row["episodes"])))
            rows.append(row)
        commands.append(result["command"])
        wall += result["wall_seconds"]
    return rows, "; ".join(commands), wall


def main(argv=None) -> int:
    args = parse(argv)
    if args.combine:
        rows, command, elapsed = combine(args)
        args = dataclasses.replace(
            args,
            env=tuple(dict.fromkeys(r["env"] for r in rows)),
            methods=tuple(dict.fromkeys(r["method"] for r in rows)),
            demos=tuple(sorted({r["n_demos"] for r in rows})),
        )
        rows.sort(key=lambda r: (args.env.index(r["env"]), args.methods.index(r["method"]), r["n_demos"]))
        return write_outputs(args, rows, command, elapsed)
    # Longest jobs first (few demonstrations, the baseline), so the pool ends together.
    jobs = [
        (env_id, args.paper_compat, method, n_demos, seed, args.max_episodes, args.eval_episodes)
        for env_id in args.env
        for method in sorted(args.methods, key=lambda m: m != "bc-q")
        for n_demos in args.demos
        for seed in range(args.seeds)
    ]
    start = time.perf_counter()
    outcomes = []
    for outcome in run_jobs(run_one, jobs, workers=args.workers, description="rooms"):
        outcomes.append(outcome)
    elapsed = time.perf_counter() - start
    rows = summarise(args, outcomes)
    command = "python scripts/bench_rooms.py " + " ".join(sys.argv[1:] if argv is None else argv)
    return write_outputs(args, rows, command, elapsed)


def write_outputs(args: Args, rows: list[dict], command: str, elapsed: float) -> int:
    table = markdown_table(args, rows)
    print(table)
    print(f"\nWall time {elapsed:.0f} s with {args.workers} workers.")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(
            json.dumps({"command": command, "wall_seconds": elapsed, "rows": rows}, indent=2) + "\n"
        )
    if args.markdown:
        Path(args.markdown).write_text(
            f"Command: `{command}`\n\n{table}\n\nWall time {elapsed:.0f} s with {args.workers} workers.\n"
        )
    if args.png:
        draw(args, rows, args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
