"""FourRooms / EightRooms: training episodes until 80% of the demonstrations' return.

The Align-RUDDER paper's metric (arXiv 2009.14108): training episodes until the mean
return of the evaluation episodes (epsilon 0.1, the same number for every method, every
10 training episodes) reaches 0.8 x the mean demonstration return; a run that never gets
there counts as the cap and as a failure. Each (demonstration count, seed) draws its own
demonstrations, from reset seed ``10_000 * n_demos + seed``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from rudder.experiments.harness import Benchmark
from rudder.experiments.report import Metric, bar_chart
from rudder.experiments.results import ResultFile
from rudder.experiments.sweep import Job, Progress
from rudder.experiments.tasks import demonstrations

__all__ = ["PAPER", "ROOMS", "RoomsSettings", "run_rooms"]

#: The paper's episodes to 80% (read off its 2022 plots, about +-5%), by env, method and demonstrations.
PAPER: dict[str, dict[str, dict[int, int]]] = {
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

#: Steps of one episode at most (the envs' time limit), for the progress bar.
_EPISODE_STEPS = 200


@dataclasses.dataclass(frozen=True)
class RoomsSettings:
    """The rooms benchmark's options."""

    envs: tuple[str, ...] = ("rudder/FourRooms-v0",)
    """Registered env ids."""
    demos: tuple[int, ...] = (2, 5, 10, 50, 100)
    """Numbers of demonstrations."""
    seeds: int = 20
    """Seeds per cell."""
    first_seed: int = 0
    """The first seed."""
    methods: tuple[str, ...] = ("align-rudder", "bc-q")
    """Methods: align-rudder, bc-q, dqfd, rudder-lstm."""
    paper_compat: bool = True
    """Keep the official env's unwinnable start rooms (to compare with the paper)."""
    max_episodes: int = 100_000
    """Cap on training episodes (a capped run counts as the cap)."""
    eval_episodes: int = 20
    """Evaluation episodes per evaluation, for every method."""

    def __post_init__(self) -> None:
        from rudder.agents import TABULAR_METHODS as METHODS

        unknown = sorted(set(self.methods) - set(METHODS))
        if unknown:
            raise ValueError(f"unknown methods {unknown}; choose from {list(METHODS)}")
        if self.seeds < 1 or self.max_episodes < 1 or self.eval_episodes < 1:
            raise ValueError("--seeds, --max-episodes and --eval-episodes must be >= 1")


def rooms_jobs(settings: RoomsSettings) -> list[Job]:
    """Every (env, method, demonstrations, seed); the baseline first (its runs are the longest)."""
    methods = sorted(settings.methods, key=lambda method: method != "bc-q")
    return [
        Job(
            {"env": env_id, "paper_compat": settings.paper_compat, "method": method, "n_demos": n_demos, "seed": seed},
            settings,
            budget=settings.max_episodes * _EPISODE_STEPS,
        )
        for env_id in settings.envs
        for method in methods
        for n_demos in settings.demos
        for seed in range(settings.first_seed, settings.first_seed + settings.seeds)
    ]


def run_rooms(job: Job, progress: Progress) -> dict[str, Any]:
    """One run: its episodes to the threshold, whether it got there, its evaluation curve."""
    import gymnasium as gym

    import rudder.envs  # noqa: F401 - registers the ids
    from rudder.agents import TabularSettings, train_until_threshold
    from rudder.envs import rooms_demonstrations

    key, settings = job.key, job.settings
    if key["method"] == "rudder-lstm":
        import torch

        torch.set_num_threads(1)  # one run per worker process

    def make() -> gym.Env:
        return gym.make(key["env"], paper_compat=key["paper_compat"]).unwrapped

    seed, n_demos = int(key["seed"]), int(key["n_demos"])
    demos = demonstrations(
        job, n_demos, lambda: rooms_demonstrations(make(), n_demos, seed=10_000 * n_demos + seed), seed=seed
    )
    training = TabularSettings(method=key["method"], max_episodes=settings.max_episodes, eval_episodes=settings.eval_episodes)
    started = time.perf_counter()
    result = train_until_threshold(
        make, demos, training, seed=seed, state_shape=(6, 6, make().num_rooms), progress=progress  # type: ignore[attr-defined]
    )
    return {
        "episodes": int(result.episodes),
        "reached": bool(result.reached),
        "env_steps": int(result.env_steps),
        "seconds": round(time.perf_counter() - started, 2),
        "curve": [[int(episode), round(float(value), 6)] for episode, value in result.evaluations],
    }


def _reference(row: Mapping[str, Any]) -> float | None:
    return PAPER.get(row["env"], {}).get(row["method"], {}).get(row["n_demos"])


def _caption(sources: list[dict[str, Any]]) -> str:
    first = sources[0]
    return (
        "Training episodes to 80% of the demonstration return "
        f"(paper_compat={first.get('paper_compat', True)}, {first.get('eval_episodes', 20)} evaluation episodes "
        f"with epsilon 0.1 every 10 training episodes, cap {first.get('max_episodes', 100_000):,}); "
        "the paper's column is its mean over 100 seeds."
    )


def _draw(results: ResultFile, rows: list[dict[str, Any]], path: str) -> None:
    bar_chart(
        rows, path, metric="episodes", panel="env", x="n_demos", series="method",
        ylabel="training episodes to 80% of demo return", reference_name="paper",
    )


ROOMS = Benchmark(
    name="rooms",
    script="scripts/bench_rooms.py",
    description=__doc__ or "",
    settings=RoomsSettings,
    jobs=rooms_jobs,
    run=run_rooms,
    group_by=("env", "method", "n_demos"),
    metrics=(Metric("episodes", lambda run: run["episodes"]),),
    caption=_caption,
    reference=_reference,
    reference_name="paper (mean of 100)",
    draw=_draw,
    axes=("envs", "demos", "seeds", "first_seed", "methods"),
)
