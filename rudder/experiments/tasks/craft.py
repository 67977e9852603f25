"""The crafting world: the diamond after a fixed budget, with per-item success rates like
the paper's MineRL table; PPO, BC, BC+PPO and Align-RUDDER sub-task agents.

Each (demonstrations, seed) records its own scripted-player demonstrations (seed = the
run's seed); PPO uses none, so it runs once per seed. Align-RUDDER: the demonstrations'
inventory changes are aligned, the consensus splits the task into sub-tasks, and one
policy per sub-task is cloned from its demonstration segments and trained with PPO on
the redistributed reward. Every run plays ``--final-episodes`` evaluation episodes on the
same worlds at the end (sampled actions).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from rudder.experiments.harness import Benchmark
from rudder.experiments.report import Metric
from rudder.experiments.results import ResultFile
from rudder.experiments.sb3 import SB3Task, SB3TaskSettings, run_sb3_job, task_run_settings
from rudder.experiments.sweep import Job, Progress

__all__ = ["CRAFT", "CRAFT_TASK", "CraftSettings", "CraftSweep", "run_craft"]

NAMES = {"ppo": "PPO", "bc": "BC", "bc-ppo": "BC+PPO", "align-rudder": "Align-RUDDER sub-task agents"}


@dataclasses.dataclass(frozen=True)
class CraftSettings(SB3TaskSettings):
    """How one crafting-world run goes."""

    env: str = "rudder/CraftDiamond-v0"
    """Crafting-world id (rudder/CraftDiamond-v0: reward only for the diamond)."""
    budget: int = 1_000_000
    eval_every: int = 200_000
    eval_episodes: int = 30
    final_episodes: int = 100
    """Episodes of the final per-item evaluation."""
    learning_rate: float = 3e-5
    """PPO learning rate when fine-tuning a cloned policy (bc-ppo, align-rudder; higher rates made the cloned sub-task agents worse)."""
    scratch_learning_rate: float = 3e-4
    """PPO learning rate of PPO from scratch."""
    ent_coef: float = 0.003
    """PPO entropy bonus (enough that an agent cloned from narrow segments still tries other actions)."""
    subtask_returns: bool = True
    """Align-RUDDER: each sub-task agent's return ends with its sub-task."""
    goal_payments: bool = True
    """Align-RUDDER: pay each consensus sub-goal its share of the redistributed return when reached."""
    keep_cloning: float = 1.0
    """Weight of behaviour-cloning steps between PPO updates (bc-ppo, align-rudder; 0: none; the library's default)."""
    mirror: bool = True
    """Behaviour cloning also fits the demonstrations' left-right mirror images (bc, bc-ppo, align-rudder)."""


@dataclasses.dataclass(frozen=True)
class CraftSweep(CraftSettings):
    """The crafting-world benchmark's runs."""

    methods: tuple[str, ...] = ("align-rudder", "bc-ppo", "bc", "ppo")
    """Methods: ppo, bc, bc-ppo, align-rudder."""
    demos: tuple[int, ...] = (10, 20)
    """Numbers of demonstrations."""
    seeds: int = 3
    """Seeds per (method, demonstrations)."""
    first_seed: int = 0
    """The first seed."""

    def __post_init__(self) -> None:
        from rudder.agents.sb3.settings import SB3_METHODS

        unknown = sorted(set(self.methods) - set(SB3_METHODS))
        if unknown:
            raise ValueError(f"unknown methods {unknown}; choose from {list(SB3_METHODS)}")


def _make_env(settings: CraftSettings) -> Callable[[], gym.Env]:
    from rudder.envs.craft import make_craft_env

    return functools.partial(make_craft_env, settings.env)


def _record(settings: CraftSettings, count: int, seed: int) -> list:
    from rudder.envs.craft import craft_demonstrations

    return craft_demonstrations(max(count, 1), env_id=settings.env, seed=seed)


def _encoder(settings: CraftSettings) -> Any:
    from rudder.envs.craft import ITEMS
    from rudder.events import InventoryEncoder

    return InventoryEncoder(items=ITEMS, source="info", key="inventory_change")


def _run_settings(settings: CraftSettings, method: str) -> Any:
    return task_run_settings(
        settings,
        method,
        ppo={
            "learning_rate": settings.scratch_learning_rate if method == "ppo" else settings.learning_rate,
            "batch_size": 512,
            "ent_coef": settings.ent_coef,
        },
        subtask_returns=settings.subtask_returns,
        goal_payments=settings.goal_payments,
        keep_cloning=settings.keep_cloning,
        target_success=None,
    )


def _final_evaluation(settings: CraftSettings, seed: int) -> Any:
    from rudder.agents.sb3 import evaluate_items
    from rudder.envs.craft import ITEM_CHAIN, ITEMS

    return functools.partial(
        evaluate_items, item_names=ITEMS, report=ITEM_CHAIN, num_episodes=settings.final_episodes, seed=seed + 50_000
    )


def _augmentation(settings: CraftSettings) -> Any:
    from rudder.envs.craft import mirror_episode

    return mirror_episode if settings.mirror else None


CRAFT_TASK = SB3Task(
    name="craft",
    make_env=_make_env,
    record_demonstrations=_record,
    encoder=_encoder,
    run_settings=_run_settings,
    final_evaluation=_final_evaluation,
    cloning_augmentation=_augmentation,
)


def craft_jobs(sweep: CraftSweep) -> list[Job]:
    """Every (method, demonstrations, seed), methods in the order given (so that a stopped
    sweep has whole rows); PPO once per seed."""
    return [
        Job({"method": method, "n_demos": n_demos, "seed": seed}, sweep, budget=sweep.budget)
        for method in sweep.methods
        for n_demos in ((0,) if method == "ppo" else sweep.demos)
        for seed in range(sweep.first_seed, sweep.first_seed + sweep.seeds)
    ]


def run_craft(job: Job, progress: Progress) -> dict[str, Any]:
    """One run: the final per-item success rates, the sub-tasks, the training curve."""
    outcome, record = run_sb3_job(CRAFT_TASK, job, progress)
    return {
        "diamond": outcome.final["diamond"],
        "items": outcome.final,
        "subtasks": list(outcome.controller.subtasks) if outcome.controller else None,
        **record,
    }


def _item_metric(item: str) -> Metric:
    return Metric(item, lambda run: run["items"][item], decimals=2, full=item == "diamond")


def _caption(sources: list[dict[str, Any]]) -> str:
    budgets = sorted({int(source.get("budget", CraftSettings.budget)) for source in sources})
    episodes = sorted({int(source.get("final_episodes", CraftSettings.final_episodes)) for source in sources})
    return (
        f"Success rates after {' and '.join(f'{budget:,}' for budget in budgets)} env steps "
        f"({' and '.join(map(str, episodes))} evaluation episodes per run, sampled actions; per item: the share "
        "of episodes that obtained it)."
    )


def _draw(results: ResultFile, rows: list[dict[str, Any]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from rudder.envs.craft import ITEM_CHAIN

    figure, axis = plt.subplots(figsize=(11, 4.5))
    positions = np.arange(len(ITEM_CHAIN))
    for row in rows:
        label = NAMES.get(row["method"], row["method"]) + (f", {row['n_demos']} demos" if row["n_demos"] else "")
        line = axis.plot(positions, [row[item]["iqm"] for item in ITEM_CHAIN], marker="o", label=label)
        axis.fill_between(
            positions, [row[item]["iqm_low"] for item in ITEM_CHAIN], [row[item]["iqm_high"] for item in ITEM_CHAIN],
            alpha=0.15, color=line[0].get_color(),
        )
    axis.set_xticks(positions, ITEM_CHAIN, rotation=35, ha="right")
    axis.set_ylabel("share of evaluation episodes (IQM, 95% CI)")
    axis.set_ylim(-0.02, 1.02)
    axis.set_title("Items obtained in the crafting world")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _metrics() -> tuple[Metric, ...]:
    from rudder.envs.craft.rules import ITEM_CHAIN

    return tuple(_item_metric(item) for item in ITEM_CHAIN[::-1])


CRAFT = Benchmark(
    name="craft",
    script="scripts/bench_craft.py",
    description=__doc__ or "",
    settings=CraftSweep,
    jobs=craft_jobs,
    run=run_craft,
    group_by=("method", "n_demos"),
    metrics=_metrics(),
    caption=_caption,
    draw=_draw,
    names=NAMES,
    axes=("methods", "demos", "seeds", "first_seed"),
)
