"""Env steps per second of registered environments, with random actions (resets included).

Each run times one env for ``--steps`` steps of uniformly random actions, drawn beforehand
from the run's seed, so the time is the env's own, and its resets on their own (median
milliseconds). Crafter's envs run once per ``--world-generation`` (``grid``: the world on
whole noise grids; ``crafter``: Crafter's own generator; the same worlds), one after the
other in the same sweep. Timings must not share the cores: keep ``--workers 1``.
"""

from __future__ import annotations

import dataclasses
import statistics
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
    world_generation: tuple[str, ...] = ("grid",)
    """Crafter's world generators to time (grid, crafter); other envs ignore it."""

    def __post_init__(self) -> None:
        if self.steps < 1 or self.seeds < 1:
            raise ValueError("--steps and --seeds must be >= 1")
        unknown = sorted(set(self.world_generation) - {"grid", "crafter"})
        if unknown or not self.world_generation:
            raise ValueError(f"--world-generation: choose from grid, crafter (got {list(self.world_generation)})")


def env_speed_jobs(settings: EnvSpeedSettings) -> list[Job]:
    """One job per (env, world generator, seed); the generator is None for an env that is not Crafter's."""
    return [
        Job({"env": env_id, "world_generation": generation, "seed": seed}, settings, budget=settings.steps)
        for env_id in settings.envs
        for generation in (settings.world_generation if _is_crafter(env_id) else (None,))
        for seed in range(settings.seeds)
    ]


def _is_crafter(env_id: str) -> bool:
    return env_id.startswith("rudder/Crafter")


def run_env_speed(job: Job, progress: Progress) -> dict[str, Any]:
    """Times ``steps`` random steps of one env."""
    import gymnasium as gym

    import rudder.envs  # noqa: F401 - registers rudder's ids

    env_id, seed, steps = job.key["env"], int(job.key["seed"]), int(job.settings.steps)
    if env_id.startswith("MiniGrid"):
        import minigrid  # noqa: F401 - registers the MiniGrid ids
    generation = job.key.get("world_generation")
    env = gym.make(env_id, **({} if generation is None else {"world_generation": generation}))
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=seed)
    resets: list[float] = []
    started = time.perf_counter()
    for index, action in enumerate(actions):
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            reset_started = time.perf_counter()
            env.reset()
            resets.append(time.perf_counter() - reset_started)
        if index % 10_000 == 0:
            progress(index)
    seconds = time.perf_counter() - started
    env.close()
    return {
        "steps": steps,
        "seconds": round(seconds, 3),
        "steps_per_second": round(steps / seconds),
        "resets": len(resets),
        "reset_ms": round(1000 * statistics.median(resets), 4) if resets else None,
        "env_steps": steps,
    }


ENV_SPEED = Benchmark(
    name="env_speed",
    script="scripts/bench_env_speed.py",
    description=__doc__ or "",
    settings=EnvSpeedSettings,
    jobs=env_speed_jobs,
    run=run_env_speed,
    group_by=("env", "world_generation"),
    metrics=(
        Metric("steps per second", lambda run: run["steps_per_second"]),
        Metric("reset (ms, median)", lambda run: run.get("reset_ms"), decimals=1),
    ),
    caption=lambda sources: "Env steps per second, one env, random actions, resets included.",
    axes=("envs", "seeds", "world_generation"),
    uses_demonstrations=False,
)
