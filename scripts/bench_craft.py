"""Diamond success rate in the crafting world after a fixed budget: PPO, BC, BC+PPO and
Align-RUDDER sub-task agents, with per-item success rates like the paper's MineRL table.

    python scripts/bench_craft.py --methods align-rudder bc-ppo bc ppo --demos 10 20 \\
        --seeds 3 --budget 1000000 --workers 2 --out benchmarks/results/craft.json \\
        --markdown benchmarks/results/craft.md --png benchmarks/results/craft.png
    python scripts/bench_craft.py --env-speed --out benchmarks/results/craft_speed.json

Each (demos, seed) records its own scripted-player demonstrations (seed = the run's
seed). PPO uses no demonstrations, so it runs once per seed. Align-RUDDER: the
demonstrations' inventory changes are aligned, the consensus splits the task into
sub-tasks, and one policy per sub-task is cloned from its demonstration segments and
trained with PPO on the redistributed reward (``SB3RunSettings(subtask_agents=True)``).
Every run plays ``--final-episodes`` evaluation episodes on the same worlds at the end
(sampled actions). Results are written after every finished run.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np

from rudder.benchmarking import run_jobs, write_json


@dataclasses.dataclass
class Args:
    """Command-line arguments (see ``--help``)."""

    methods: tuple[str, ...] = ("align-rudder", "bc-ppo", "bc", "ppo")
    demos: tuple[int, ...] = (10, 20)
    seeds: int = 3
    first_seed: int = 0
    budget: int = 1_000_000
    eval_every: int = 200_000
    eval_episodes: int = 30
    final_episodes: int = 100
    n_envs: int = 8
    bc_epochs: int = 30
    learning_rate: float = 3e-5
    scratch_learning_rate: float = 3e-4
    ent_coef: float = 0.003
    gamma: float = 0.99
    subtask_returns: bool = True
    goal_payments: bool = True
    keep_cloning: float = 0.0
    mirror: bool = True
    workers: int = 2
    env_speed: bool = False
    out: str | None = None
    markdown: str | None = None
    png: str | None = None
    plot_only: bool = False
    combine: tuple[str, ...] = ()


HELP = {
    "methods": "methods to run: ppo, bc, bc-ppo, align-rudder",
    "demos": "numbers of demonstrations",
    "seeds": "seeds per (method, demos)",
    "first_seed": "the first seed",
    "budget": "env-step budget of PPO per run",
    "eval_every": "env steps between evaluations during training",
    "eval_episodes": "episodes per evaluation during training",
    "final_episodes": "episodes of the final per-item evaluation",
    "n_envs": "parallel training envs per run",
    "bc_epochs": "behaviour-cloning epochs",
    "learning_rate": "PPO learning rate when fine-tuning a cloned policy (bc-ppo, align-rudder)",
    "scratch_learning_rate": "PPO learning rate of PPO from scratch",
    "gamma": "PPO discount (all methods; also the discount of the cloned value targets)",
    "ent_coef": "PPO entropy bonus (0.003: enough that an agent cloned from narrow segments still tries other actions)",
    "subtask_returns": "Align-RUDDER: each sub-task agent's return ends with its sub-task",
    "goal_payments": "Align-RUDDER: pay each consensus sub-goal its share of the redistributed return when reached",
    "keep_cloning": "weight of behaviour-cloning steps between PPO updates (bc-ppo, align-rudder; 0: none)",
    "mirror": "behaviour cloning also fits the demonstrations' left-right mirror images (bc, bc-ppo, align-rudder)",
    "workers": "runs in parallel (processes)",
    "env_speed": "only measure the env's steps per second (random actions)",
    "out": "JSON file for the results (rewritten after every run)",
    "markdown": "markdown file for the table",
    "png": "PNG file for the per-item success rates",
    "plot_only": "redraw the table and plot from --out without running",
    "combine": "merge the runs of these earlier --out files into --out (rows in --methods and --demos order)",
}
NAMES = {"ppo": "PPO", "bc": "BC", "bc-ppo": "BC+PPO", "align-rudder": "Align-RUDDER sub-task agents"}


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


def env_speed(steps: int = 200_000, seed: int = 0) -> dict:
    """Steps per second of one env (Dict observation, random actions, resets included)."""
    import gymnasium as gym

    import rudder.envs  # noqa: F401 - registers the ids

    env = gym.make("rudder/CraftDiamond-v0")
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, env.action_space.n, size=steps)
    env.reset(seed=seed)
    started = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(int(action))
        if terminated or truncated:
            env.reset()
    seconds = time.perf_counter() - started
    return {"steps": steps, "seconds": round(seconds, 3), "steps_per_second": round(steps / seconds)}


def run_one(job: tuple) -> dict:
    """One (method, demos, seed) run; returns a result row."""
    import torch

    torch.set_num_threads(1)
    from rudder.agents.sb3 import (
        BehaviorCloningSettings,
        PPOSettings,
        SB3RunSettings,
        evaluate_items,
        train_sb3,
    )
    from rudder.envs.craft import (
        ITEM_CHAIN,
        ITEMS,
        craft_demonstrations,
        make_craft_env,
        mirror_episode,
    )
    from rudder.events import InventoryEncoder

    method, n_demos, seed, args = job
    demos = craft_demonstrations(max(n_demos, 1), seed=seed)
    settings = SB3RunSettings(
        method=method,
        total_timesteps=args.budget,
        n_envs=args.n_envs,
        subtask_agents=method == "align-rudder",
        subtask_returns=args.subtask_returns,
        goal_payments=args.goal_payments,
        keep_cloning=args.keep_cloning,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        target_success=None,
        behavior_cloning=BehaviorCloningSettings(epochs=args.bc_epochs),
        ppo=PPOSettings(
            learning_rate=args.scratch_learning_rate if method == "ppo" else args.learning_rate,
            batch_size=512,
            ent_coef=args.ent_coef,
            gamma=args.gamma,
        ),
    )
    final = functools.partial(evaluate_items, item_names=ITEMS, report=ITEM_CHAIN, num_episodes=args.final_episodes, seed=seed + 50_000)
    outcome = train_sb3(
        functools.partial(make_craft_env, "rudder/CraftDiamond-v0"),
        demos,
        settings=settings,
        encoder=InventoryEncoder(items=ITEMS, source="info", key="inventory_change"),
        seed=seed,
        final_evaluation=final,
        cloning_augmentation=mirror_episode if args.mirror else None,
    )
    return {
        "method": method,
        "n_demos": n_demos,
        "seed": seed,
        "diamond": outcome.final["diamond"],
        "items": outcome.final,
        "subtasks": list(outcome.controller.subtasks) if outcome.controller else None,
        "timesteps": outcome.timesteps,
        "seconds": round(outcome.seconds, 1),
        "curve": [list(point) for point in outcome.curve],
    }


def summarise(args: Args, runs: list[dict]) -> list[dict]:
    from rudder.envs.craft import ITEM_CHAIN

    rows = []
    for method in args.methods:
        for n_demos in (0,) if method == "ppo" else args.demos:
            chosen = sorted((r for r in runs if r["method"] == method and r["n_demos"] == n_demos), key=lambda r: r["seed"])
            if not chosen:
                continue
            rows.append(
                {
                    "method": method,
                    "n_demos": n_demos,
                    "seeds": [run["seed"] for run in chosen],
                    "diamond": [run["diamond"] for run in chosen],
                    "mean_diamond": float(np.mean([run["diamond"] for run in chosen])),
                    "items": {item: float(np.mean([run["items"][item] for run in chosen])) for item in ITEM_CHAIN},
                }
            )
    return rows


def describe_budget(args: Args, settings: dict | None = None) -> tuple[str, str]:
    """(budget, final evaluation episodes) as text, from the runs' own settings (every
    merged file's), so that a merged table states what its runs did, not the merging
    command's defaults. A source that recorded no budget (or episode count) is taken to
    have used the values in ``args``."""
    from rudder.benchmarking import source_settings

    sources = source_settings(settings)
    budgets = sorted({int(source.get("budget", args.budget)) for source in sources})
    episodes = sorted({int(source.get("final_episodes", args.final_episodes)) for source in sources})
    return " and ".join(f"{budget:,}" for budget in budgets), " and ".join(str(count) for count in episodes)


def markdown_table(args: Args, rows: list[dict], settings: dict | None = None) -> str:
    from rudder.envs.craft import ITEM_CHAIN

    budget, episodes = describe_budget(args, settings)
    short = {"crafting_table": "table", "wooden_pickaxe": "wood pick", "stone_pickaxe": "stone pick", "iron_pickaxe": "iron pick", "cobblestone": "cobble", "iron_ingot": "ingot"}
    header = " | ".join(short.get(item, item) for item in ITEM_CHAIN)
    lines = [
        f"Success rates after {budget} env steps ({episodes} evaluation episodes per run, "
        "sampled actions; per-item: share of episodes that obtained the item; mean over seeds).",
        "",
        f"| method | demos | seeds | diamond per seed | {header} |",
        "|---|---|---|---|" + "---|" * len(ITEM_CHAIN),
    ]
    for row in rows:
        rates = " | ".join(f"{row['items'][item]:.2f}" for item in ITEM_CHAIN)
        lines.append(
            f"| {NAMES.get(row['method'], row['method'])} | {row['n_demos'] or '-'} | {len(row['seeds'])} | "
            f"{' '.join(f'{d:.2f}' for d in row['diamond'])} | {rates} |"
        )
    return "\n".join(lines)


def draw(args: Args, rows: list[dict], path: str, settings: dict | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rudder.envs.craft import ITEM_CHAIN

    figure, axis = plt.subplots(figsize=(11, 4.5))
    positions = np.arange(len(ITEM_CHAIN))
    for row in rows:
        label = f"{NAMES.get(row['method'], row['method'])}" + (f", {row['n_demos']} demos" if row["n_demos"] else "")
        axis.plot(positions, [row["items"][item] for item in ITEM_CHAIN], marker="o", label=label)
    axis.set_xticks(positions, ITEM_CHAIN, rotation=35, ha="right")
    axis.set_ylabel("share of evaluation episodes")
    axis.set_ylim(-0.02, 1.02)
    axis.set_title(f"Items obtained after {describe_budget(args, settings)[0]} env steps (mean over seeds)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_outputs(args: Args, runs: list[dict], command: str, elapsed: float, settings: dict | None = None) -> list[dict]:
    """Writes the JSON (``settings``: the runs' settings, default ``args``), table and plot."""
    rows = summarise(args, runs)
    settings = dataclasses.asdict(args) if settings is None else settings
    record = {"command": command, "elapsed_seconds": round(elapsed, 1), "settings": settings, "rows": rows, "runs": runs}
    write_json(args.out, record)
    if args.markdown:
        Path(args.markdown).write_text(f"Command: `{command}`\n\n{markdown_table(args, rows, settings)}\n")
    if args.png and rows:
        draw(args, rows, args.png, settings)
    return rows


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    command = "python scripts/bench_craft.py " + " ".join(argv)
    if args.env_speed:
        result = env_speed()
        result["command"] = command
        write_json(args.out, result)
        print(f"| env | steps | seconds | steps/s |\n|---|---|---|---|\n| rudder/CraftDiamond-v0 | {result['steps']:,} | {result['seconds']} | {result['steps_per_second']:,} |")
        return 0
    if args.combine:
        from rudder.benchmarking import combine_records

        runs, command, elapsed, settings = combine_records(args.combine)
        rows = write_outputs(args, runs, command, elapsed, settings)
        print(markdown_table(args, rows, settings))
        return 0
    if args.plot_only:
        record = json.loads(Path(args.out).read_text())
        rows = write_outputs(args, record["runs"], record["command"], record["elapsed_seconds"], record.get("settings"))
        print(markdown_table(args, rows, record.get("settings")))
        return 0
    jobs = [
        (method, n_demos, seed, args)
        for method in args.methods
        for n_demos in ((0,) if method == "ppo" else args.demos)
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
