"""Env steps per second of registered environments, with random actions (resets included).

Each run times one env for ``--steps`` steps of uniformly random actions, drawn beforehand
from the run's seed, so the time is the env's own. Timings must not share the cores:
keep ``--workers 1``.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from rudder.experiments.harness import Benchmark
from rudder.experiments.report import Metric
from rudder.experiments.sweep import Job, Progress

__all__ = ["ENV_SPEED", "EnvSpeedSettings", "env_speed_jobs", "run_env_speed"]


@dataclasses.dataclass(frozen=True)
class EnvSpeedSettings:
    """The env-speed benchmark's options."""

    envs: tuple[str, ...] = ("rudder/CraftDiamond-v0",)
    """Registered env ids (rudder's envs are registered on import; minigrid ids need minigrid)."""
    steps: int = 200_000
    """Env steps per run."""
    seeds: int = 1
    """Runs per env."""

    def __post_init__(self) -> None:
        if self.steps < 1 or self.seeds < 1:
            raise ValueError("--steps and --seeds must be >= 1")


def env_speed_jobs(settings: EnvSpeedSettings) -> list[Job]:
    """One job per (env, seed)."""
    return [Job({"env": env_id, "seed": seed}, settings, budget=settings.steps) for env_id in settings.envs for seed in range(settings.seeds)]


def run_env_speed(job: Job, progress: Progress) -> dict[str, Any]:
    """Times ``steps`` random steps of one env."""
    import gymnasium as gym

    import rudder.envs  # noqa: F401 - registers rudder's ids

    env_id, seed, steps = job.key["env"], int(job.key["seed"]), int(job.settings.steps)
    if env_id.startswith("MiniGrid"):
        import minigrid  # noqa: F401 - registers the MiniGrid ids
    env = gym.make(env_id)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=seed)
    started = time.perf_counter()
    for index, action in enumerate(actions):
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
        if index % 10_000 == 0:
            progress(index)
    seconds = time.perf_counter() - started
    env.close()
    return {"steps": steps, "seconds": round(seconds, 3), "steps_per_second": round(steps / seconds), "env_steps": steps}


ENV_SPEED = Benchmark(
    name="env_speed",
    script="scripts/bench_env_speed.py",
    description=__doc__ or "",
    settings=EnvSpeedSettings,
    jobs=env_speed_jobs,
    run=run_env_speed,
    group_by=("env",),
    metrics=(Metric("steps per second", lambda run: run["steps_per_second"]),),
    caption=lambda sources: "Env steps per second, one env, random actions, resets included.",
    axes=("envs", "seeds"),
    uses_demonstrations=False,
)
