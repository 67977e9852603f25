"""minigrid: env steps to an 80% success rate; PPO, BC, BC+PPO and Align-RUDDER.

Each seed records its own planner demonstrations. minigrid's object interactions (key
picked up, door unlocked, ...) are the events. Every ``--eval-every`` env steps (and once
after behaviour cloning, at step 0) the policy plays ``--eval-episodes`` episodes
(sampled actions); the metric is the env steps of training when the success rate first
reaches ``--target``. A run that never gets there counts as the budget and as a failure.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from rudder.experiments.harness import Benchmark
from rudder.experiments.report import Metric, learning_curves
from rudder.experiments.results import ResultFile
from rudder.experiments.sb3 import (
    SB3Task,
    SB3TaskSettings,
    run_sb3_job,
    steps_to_target,
    target_fields,
    task_run_settings,
)
from rudder.experiments.sweep import Job, Progress

__all__ = ["MINIGRID", "MINIGRID_TASK", "MinigridSettings", "MinigridSweep", "run_minigrid"]

NAMES = {"ppo": "PPO", "bc": "BC", "bc-ppo": "BC+PPO", "align-rudder": "Align-RUDDER"}


@dataclasses.dataclass(frozen=True)
class MinigridSettings(SB3TaskSettings):
    """How one minigrid run goes."""

    env: str = "MiniGrid-KeyCorridorS3R3-v0"
    """minigrid env id."""
    view: str = "agent"
    """Observation: 'agent' (egocentric 7x7 view) or 'full' (whole grid)."""
    target: float = 0.8
    """Success rate to reach (training stops there)."""
    progress_observation: bool = False
    """Add the profile progress to Align-RUDDER's observation (the library's default: off)."""
    env_reward_weight: float = 0.0
    """Share of the env reward mixed into the redistributed reward."""
    delete_score: float = 0.0
    """Profile score of a skipped sub-goal (align-rudder; <= 0; the library's default)."""
    time_limit_as_termination: bool = False
    """End episodes at the step limit without bootstrapping (all methods)."""
    subtask_agents: bool | None = None
    """Align-RUDDER as one agent per consensus sub-goal (door, key, ...), handed over by the
    interactions; with neither flag, the library's rule (rudder.agents.sb3.SUBTASK_AGENTS_MIN_GOALS
    and SUBTASK_AGENTS_MAX_CLONED_SUCCESS)."""


@dataclasses.dataclass(frozen=True)
class MinigridSweep(MinigridSettings):
    """The minigrid benchmark's runs."""

    envs: tuple[str, ...] = ()
    """minigrid env ids to run (default: --env alone)."""
    methods: tuple[str, ...] = ("ppo", "bc", "bc-ppo", "align-rudder")
    """Methods: ppo, bc, bc-ppo, align-rudder."""
    demos: int = 10
    """Planner demonstrations per run."""
    seeds: int = 5
    """Seeds per (env, method)."""
    first_seed: int = 0
    """The first seed."""

    def __post_init__(self) -> None:
        from rudder.agents.sb3.settings import SB3_METHODS

        unknown = sorted(set(self.methods) - set(SB3_METHODS))
        if unknown:
            raise ValueError(f"unknown methods {unknown}; choose from {list(SB3_METHODS)}")


def _make_env(settings: MinigridSettings) -> Callable[[], gym.Env]:
    from rudder.envs.minigrid_tasks import make_minigrid_env

    return functools.partial(make_minigrid_env, settings.env, view=settings.view)


def _record(settings: MinigridSettings, count: int, seed: int) -> list:
    from rudder.envs.minigrid_tasks import minigrid_demonstrations

    return minigrid_demonstrations(settings.env, count, seed=seed, view=settings.view)


def _encoder(settings: MinigridSettings) -> Any:
    from rudder.envs.minigrid_tasks import interaction_encoder

    return interaction_encoder()


def _run_settings(settings: MinigridSettings, method: str) -> Any:
    from rudder.envs.minigrid_tasks import INTERACTIONS

    return task_run_settings(
        settings,
        method,
        progress_observation=settings.progress_observation,
        env_reward_weight=settings.env_reward_weight,
        time_limit_as_termination=settings.time_limit_as_termination,
        target_success=settings.target,
        redistribution={"delete_score": settings.delete_score},
        subtask_agents=settings.subtask_agents if method == "align-rudder" else False,
        subtask_change_key="interaction_change",
        # minigrid's return falls with time (1 - 0.9 t / T): settling it at the goal
        # would charge the last agent for the others' slowness, so pay the sub-goals only.
        settle_terminated=False,
        subtask_items=INTERACTIONS,
    )


def _encoder_overrides(settings: MinigridSettings) -> dict[str, Any]:
    from rudder.envs.minigrid_tasks import interaction_events

    return {"function": interaction_events}


MINIGRID_TASK = SB3Task(
    name="minigrid",
    make_env=_make_env,
    record_demonstrations=_record,
    encoder=_encoder,
    run_settings=_run_settings,
    encoder_overrides=_encoder_overrides,
)


def minigrid_jobs(sweep: MinigridSweep) -> list[Job]:
    """Every (env, method, seed), methods in the order given (a stopped sweep has whole rows)."""
    return [
        Job(
            {"env": env_id, "method": method, "seed": seed, "n_demos": sweep.demos},
            dataclasses.replace(sweep, env=env_id),
            budget=sweep.budget,
        )
        for env_id in (sweep.envs or (sweep.env,))
        for method in sweep.methods
        for seed in range(sweep.first_seed, sweep.first_seed + sweep.seeds)
    ]


def run_minigrid(job: Job, progress: Progress) -> dict[str, Any]:
    """One run: when it reached the target (``None``: never), its curve."""
    outcome, record = run_sb3_job(MINIGRID_TASK, job, progress)
    return {**target_fields(outcome, job.settings.budget), **record}


def _caption(sources: list[dict[str, Any]]) -> str:
    source = sources[0]
    budgets = sorted({int(s.get("budget", MinigridSettings.budget)) for s in sources})
    return (
        f"Env steps until {float(source.get('target', 0.8)):.0%} success over {source.get('eval_episodes', 50)} "
        f"evaluation episodes ({source.get('demos', 10)} demonstrations, budget "
        f"{' and '.join(f'{budget:,}' for budget in budgets)} steps; a failure counts as the budget)."
    )


def _draw(results: ResultFile, rows: list[dict[str, Any]], path: str) -> None:
    learning_curves(
        results.runs, path, panel="env", series=lambda run: NAMES.get(run["method"], run["method"]),
        xlabel="env steps", ylabel="success rate (IQM, 95% CI band)", target=0.8,
    )


MINIGRID = Benchmark(
    name="minigrid",
    script="scripts/bench_minigrid.py",
    description=__doc__ or "",
    settings=MinigridSweep,
    jobs=minigrid_jobs,
    run=run_minigrid,
    group_by=("env", "method"),
    metrics=(
        Metric("env steps to target", steps_to_target),
        Metric("final success", lambda run: run["curve"][-1][1] if run.get("curve") else 0.0, decimals=2, full=False),
    ),
    caption=_caption,
    draw=_draw,
    names=NAMES,
    axes=("envs", "methods", "seeds", "first_seed"),
)
