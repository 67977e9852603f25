"""Env steps to an 80% success rate on minigrid: PPO, BC, BC+PPO and Align-RUDDER.

    python scripts/bench_minigrid.py --env MiniGrid-KeyCorridorS3R3-v0 MiniGrid-DoorKey-8x8-v0 \\
        --methods ppo bc bc-ppo align-rudder --demos 10 --seeds 5 --budget 500000 --workers 2 \\
        --out benchmarks/results/minigrid.json --markdown benchmarks/results/minigrid.md \\
        --png benchmarks/results/minigrid.png

Each seed records its own planner demonstrations. Every ``--eval-every`` env steps (and
once after behaviour cloning, at step 0) the policy plays ``--eval-episodes`` episodes
(sampled actions); the metric is the env steps of training when the success rate first
reaches ``--target``. A run that never gets there counts as the budget and as a
failure. Results are written after every finished run, so a long benchmark that is
stopped keeps what it has.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

from rudder.benchmarking import run_jobs, write_json


@dataclasses.dataclass
class Args:
    """Command-line arguments (see ``--help``)."""

    env: tuple[str, ...] = ("MiniGrid-KeyCorridorS3R3-v0",)
    methods: tuple[str, ...] = ("ppo", "bc", "bc-ppo", "align-rudder")
    demos: int = 10
    view: str = "agent"
    seeds: int = 5
    first_seed: int = 0
    budget: int = 500_000
    eval_every: int = 20_000
    eval_episodes: int = 50
    target: float = 0.8
    n_envs: int = 8
    bc_epochs: int = 100
    gamma: float = 0.99
    learning_rate: float = 3e-4
    progress_observation: bool = True
    env_reward_weight: float = 0.0
    delete_score: float = -1.5
    time_limit_as_termination: bool = False
    subtask_agents: bool = False
    workers: int = 2
    out: str | None = None
    markdown: str | None = None
    png: str | None = None
    plot_only: bool = False
    combine: tuple[str, ...] = ()


HELP = {
    "view": "observation: 'agent' (egocentric 7x7 view) or 'full' (whole grid)",
    "env": "minigrid env ids",
    "methods": "methods to run: ppo, bc, bc-ppo, align-rudder",
    "demos": "planner demonstrations per run",
    "seeds": "seeds per (env, method)",
    "first_seed": "the first seed",
    "budget": "env-step budget of PPO per run",
    "eval_every": "env steps between evaluations",
    "eval_episodes": "episodes per evaluation",
    "target": "success rate to reach",
    "n_envs": "parallel training envs per run",
    "bc_epochs": "behaviour-cloning epochs",
    "learning_rate": "PPO learning rate (all methods)",
    "gamma": "PPO discount (1.0 keeps redistributed reward return-equivalent)",
    "progress_observation": "add profile progress to Align-RUDDER's observation",
    "env_reward_weight": "share of env reward mixed into the redistributed reward",
    "delete_score": "profile score of a skipped sub-goal (align-rudder; <= 0)",
    "time_limit_as_termination": "end episodes at the step limit without bootstrapping (all methods)",
    "subtask_agents": "align-rudder as one agent per consensus sub-goal (door, key, ...), handed over by the interactions",
    "workers": "runs in parallel (processes)",
    "out": "JSON file for the results (rewritten after every run)",
    "markdown": "markdown file for the table",
    "png": "PNG file for the learning curves",
    "plot_only": "redraw the table and plot from --out without running",
    "combine": "merge the runs of these earlier --out files into --out (with --methods in table order)",
}


def parse(argv) -> Args:
    from rudder.agents.sb3 import SB3_METHODS
    from rudder.arguments import parse_arguments

    args = parse_arguments(Args, argv, help=HELP, description=__doc__)
    unknown = sorted(set(args.methods) - set(SB3_METHODS))
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; choose from {list(SB3_METHODS)}")
    if args.out is None:
        raise SystemExit("--out FILE.json is needed (results are written as runs finish)")
    return args


def run_one(job: tuple) -> dict:
    """One (env, method, seed) run; returns a result row."""
    import torch

    torch.set_num_threads(1)
    from rudder.agents.sb3 import BehaviorCloningSettings, PPOSettings, SB3RunSettings, train_sb3
    from rudder.envs.minigrid_tasks import (
        INTERACTIONS,
        interaction_encoder,
        make_minigrid_env,
        minigrid_demonstrations,
    )

    env_id, method, seed, args = job
    demos = minigrid_demonstrations(env_id, args.demos, seed=seed, view=args.view)
    settings = SB3RunSettings(
        method=method,
        total_timesteps=args.budget,
        n_envs=args.n_envs,
        progress_observation=args.progress_observation,
        env_reward_weight=args.env_reward_weight,
        time_limit_as_termination=args.time_limit_as_termination,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        target_success=args.target,
        behavior_cloning=BehaviorCloningSettings(epochs=args.bc_epochs),
        ppo=PPOSettings(gamma=args.gamma, learning_rate=args.learning_rate),
        redistribution={"delete_score": args.delete_score},
        subtask_agents=args.subtask_agents and method == "align-rudder",
        subtask_change_key="interaction_change",
        # minigrid's return falls with time (1 - 0.9 t / T): settling it at the goal
        # would charge the last agent for the others' slowness, so pay the sub-goals only.
        settle_terminated=False,
        subtask_items=INTERACTIONS,
    )
    outcome = train_sb3(
        functools.partial(make_minigrid_env, env_id, view=args.view), demos, settings=settings, encoder=interaction_encoder(), seed=seed
    )
    return {
        "env": env_id,
        "method": method,
        "seed": seed,
        "n_demos": args.demos,
        "reached_at": outcome.reached_at,
        "timesteps": outcome.timesteps,
        "seconds": round(outcome.seconds, 1),
        "curve": [list(point) for point in outcome.curve],
    }


def summarise(args: Args, runs: list[dict]) -> list[dict]:
    rows = []
    for env_id, method in itertools.product(args.env, args.methods):
        chosen = sorted((run for run in runs if run["env"] == env_id and run["method"] == method), key=lambda r: r["seed"])
        if not chosen:
            continue
        steps = [run["reached_at"] if run["reached_at"] is not None else args.budget for run in chosen]
        rows.append(
            {
                "env": env_id,
                "method": method,
                "n_demos": args.demos,
                "seeds": [run["seed"] for run in chosen],
                "steps": steps,
                "failures": sum(run["reached_at"] is None for run in chosen),
                "median": float(np.median(steps)),
                "q25": float(np.percentile(steps, 25)),
                "q75": float(np.percentile(steps, 75)),
                "final_success": [run["curve"][-1][1] if run["curve"] else 0.0 for run in chosen],
            }
        )
    return rows


NAMES = {"ppo": "PPO", "bc": "BC", "bc-ppo": "BC+PPO", "align-rudder": "Align-RUDDER (BC+PPO, redistributed)"}


def method_name(args: Args, method: str) -> str:
    if method == "align-rudder" and args.subtask_agents:
        return "Align-RUDDER sub-task agents"
    return NAMES.get(method, method)


def markdown_table(args: Args, rows: list[dict]) -> str:
    lines = [
        f"Env steps until {args.target:.0%} success over {args.eval_episodes} evaluation episodes "
        f"({args.demos} demonstrations, budget {args.budget:,} steps; a failure counts as the budget).",
        "",
        "| env | method | seeds | median | q25 | q75 | failures | final success rates |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['env']} | {method_name(args, row['method'])} | {len(row['seeds'])} | "
            f"{row['median']:,.0f} | {row['q25']:,.0f} | {row['q75']:,.0f} | "
            f"{row['failures']}/{len(row['seeds'])} | {' '.join(f'{s:.2f}' for s in row['final_success'])} |"
        )
    return "\n".join(lines)


def draw(args: Args, runs: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(args.env), figsize=(6 * len(args.env), 4), squeeze=False)
    for axis, env_id in zip(axes[0], args.env):
        for method in args.methods:
            chosen = [run for run in runs if run["env"] == env_id and run["method"] == method]
            if not chosen:
                continue
            grid = np.arange(0, args.budget + 1, args.eval_every)
            rates = []
            for run in chosen:
                curve = np.array(run["curve"], dtype=float).reshape(-1, 3)
                # After reaching the target a run stops; carry its last rate forward.
                rates.append(np.interp(grid, curve[:, 0], curve[:, 1], right=curve[-1, 1]))
            rates = np.array(rates)
            line = axis.plot(grid, rates.mean(axis=0), label=f"{method_name(args, method)} (n={len(chosen)})")
            axis.fill_between(grid, rates.min(axis=0), rates.max(axis=0), alpha=0.15, color=line[0].get_color())
        axis.axhline(args.target, color="grey", linestyle=":", linewidth=1)
        axis.set_title(env_id)
        axis.set_xlabel("env steps")
        axis.set_ylabel("success rate (mean, min-max band)")
        axis.set_ylim(-0.02, 1.02)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_outputs(args: Args, runs: list[dict], command: str, elapsed: float, settings: dict | None = None) -> list[dict]:
    """Writes the JSON (``settings``: the runs' settings, default ``args``), table and plot."""
    rows = summarise(args, runs)
    if args.out:
        record = {
            "command": command,
            "elapsed_seconds": round(elapsed, 1),
            "settings": dataclasses.asdict(args) if settings is None else settings,
            "rows": rows,
            "runs": runs,
        }
        write_json(args.out, record)
    if args.markdown:
        Path(args.markdown).write_text(f"Command: `{command}`\n\n{markdown_table(args, rows)}\n")
    if args.png and runs:
        draw(args, runs, args.png)
    return rows


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    command = "python scripts/bench_minigrid.py " + " ".join(argv)
    if args.combine:
        from rudder.benchmarking import combine_records

        rows = write_outputs(args, *combine_records(args.combine))
        print(markdown_table(args, rows))
        return 0
    if args.plot_only:
        record = json.loads(Path(args.out).read_text())
        rows = write_outputs(args, record["runs"], record["command"], record["elapsed_seconds"], record.get("settings"))
        print(markdown_table(args, rows))
        return 0
    # Methods in the order given, so that a stopped benchmark has whole rows.
    jobs = [
        (env_id, method, seed, args)
        for env_id in args.env
        for method in args.methods
        for seed in range(args.first_seed, args.first_seed + args.seeds)
    ]
    started = time.perf_counter()
    runs: list[dict] = []
    for run in run_jobs(run_one, jobs, workers=args.workers):
        runs.append(run)
        write_outputs(args, runs, command, time.perf_counter() - started)
    rows = write_outputs(args, runs, command, time.perf_counter() - started)
    print(markdown_table(args, rows))
    print(f"\n{len(jobs)} runs in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
