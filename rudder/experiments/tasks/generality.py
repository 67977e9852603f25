"""Generality: PPO, BC, BC+PPO, Align-RUDDER and RUDDER-LSTM+BC on tasks nobody tuned for.

The suite spans discrete and continuous observations, positive, negative and mixed-sign
returns, and short and long sub-task chains: three minigrid tasks (success: the mission
solved, a positive return) and two classic-control tasks with the whole return paid at
the end (:class:`~rudder.wrappers.DelayedReward`): MountainCar-v0 (success: the flag
reached) and LunarLander-v3 (success: a return of at least 200; needs Box2D). Every task
runs every method with the same settings: the library's defaults, one behaviour-cloning
setting, one PPO setting, one evaluation (every ``--eval-every`` env steps, and once
after cloning at step 0, ``--eval-episodes`` episodes with sampled actions). Per run:
the env steps until the success rate first reaches ``--target`` (a run that never gets
there counts as the budget and as a failure), the final success rate (the last
evaluation: the one that reached the target, for a run that stopped there), and the
success rate right after cloning (the curve's first point; none for PPO).

Events, by one rule with no per-task settings: an env that reports its object
interactions (minigrid: key picked up, door opened, ...) has them as events
(:func:`~rudder.envs.minigrid_tasks.interaction_encoder`); any other env's observations
are clustered by :class:`~rudder.events.FeatureClusterEncoder` with its defaults
(standardised features, the number of clusters by the silhouette score).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from rudder.data.episode import Episode
from rudder.data.record import stack_steps
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

__all__ = [
    "GENERALITY",
    "GENERALITY_TASK",
    "METHODS",
    "MINIGRID_PREFIXES",
    "SUITE",
    "EpisodeSuccess",
    "GeneralitySettings",
    "GeneralitySweep",
    "generality_demonstrations",
    "generality_encoder",
    "is_minigrid",
    "make_generality_env",
    "run_generality",
]

#: The suite's tasks: three minigrid tasks, then the delayed classic-control tasks.
SUITE: tuple[str, ...] = (
    "MiniGrid-KeyCorridorS4R3-v0",
    "MiniGrid-UnlockPickup-v0",
    "MiniGrid-DoorKey-16x16-v0",
    "MountainCar-v0",
    "LunarLander-v3",
)
#: The suite's methods (the :data:`~rudder.agents.sb3.SB3_METHODS`).
METHODS: tuple[str, ...] = ("ppo", "bc", "bc-ppo", "align-rudder", "rudder-lstm")
#: Env ids with these prefixes are minigrid tasks; every other id is made with
#: :func:`~rudder.envs.classic_control.make_delayed_env`.
MINIGRID_PREFIXES: tuple[str, ...] = ("MiniGrid-", "BabyAI-")

NAMES = {
    "ppo": "PPO",
    "bc": "BC",
    "bc-ppo": "BC+PPO",
    "align-rudder": "Align-RUDDER",
    "rudder-lstm": "RUDDER-LSTM+BC",
}

StepResult = tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]


def is_minigrid(env_id: str) -> bool:
    """Whether ``env_id`` is a minigrid task (its id starts with one of :data:`MINIGRID_PREFIXES`)."""
    return env_id.startswith(MINIGRID_PREFIXES)


class EpisodeSuccess(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Sets ``info["is_success"]`` at the end of every episode from a test of the episode.

    :func:`~rudder.agents.sb3.evaluation.episode_succeeded` reads ``info["is_success"]``
    where the env sets it, and a positive ``Monitor`` return otherwise. MountainCar's
    returns are negative (-1 per step until the flag) and LunarLander's success is a
    return of at least 200, so neither is a positive return: this wrapper records the
    episode and, when it terminates or is truncated, puts ``success(episode)`` into the
    last step's info. With :data:`~rudder.envs.classic_control.SUCCESS_TESTS` it is the
    very test that the demonstrators' recordings pass.

    Args:
        env: the env (MountainCar's or LunarLander's, delayed or not).
        success: ``success(episode) -> bool`` of a finished episode.
    """

    def __init__(self, env: gym.Env, success: Callable[[Episode], bool]) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, success=success)
        gym.Wrapper.__init__(self, env)
        self.success = success
        self._observations: list[Any] = []
        self._actions: list[Any] = []
        self._rewards: list[float] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(seed=seed, options=options)
        self._observations, self._actions, self._rewards = [np.array(observation)], [], []
        return observation, info

    def step(self, action: Any) -> StepResult:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._observations.append(np.array(observation))
        self._actions.append(np.array(action))
        self._rewards.append(float(reward))
        if terminated or truncated:
            episode = Episode(
                observations=stack_steps(self._observations),
                actions=stack_steps(self._actions),
                rewards=np.asarray(self._rewards, dtype=np.float64),
                terminated=bool(terminated),
                truncated=bool(truncated),
            )
            info["is_success"] = bool(self.success(episode))
        return observation, reward, terminated, truncated, info


def make_generality_env(env_id: str) -> gym.Env:
    """One env of the suite.

    A minigrid task: :func:`~rudder.envs.minigrid_tasks.make_minigrid_env` (egocentric
    view; success is a positive return). Any other gymnasium id:
    :func:`~rudder.envs.classic_control.make_delayed_env`, under :class:`EpisodeSuccess`
    with the id's test from :data:`~rudder.envs.classic_control.SUCCESS_TESTS` where
    there is one (an id without a test counts a positive return as success).
    """
    if is_minigrid(env_id):
        from rudder.envs.minigrid_tasks import make_minigrid_env

        return make_minigrid_env(env_id)
    from rudder.envs.classic_control import SUCCESS_TESTS, make_delayed_env

    env: gym.Env = make_delayed_env(env_id)
    test = SUCCESS_TESTS.get(env_id)
    return env if test is None else EpisodeSuccess(env, test)


def generality_demonstrations(env_id: str, count: int, *, seed: int) -> list[Episode]:
    """``count`` successful demonstrations of the task's own demonstrator, seeded with ``seed``.

    Raises:
        ValueError: for a task with no demonstrator here (give the runs ``--demos-file``).
    """
    from rudder.envs import classic_control

    if is_minigrid(env_id):
        from rudder.envs.minigrid_tasks import minigrid_demonstrations

        return minigrid_demonstrations(env_id, count, seed=seed)
    if env_id == classic_control.MOUNTAIN_CAR:
        return classic_control.mountain_car_demonstrations(count, seed=seed)
    if env_id == classic_control.LUNAR_LANDER:
        return classic_control.lunar_lander_demonstrations(count, seed=seed)
    raise ValueError(f"no demonstrator for {env_id!r}: record some (rudder demos record) and pass --demos-file")


def generality_encoder(env_id: str) -> Any:
    """The unfitted event encoder of a task, by the rule of the module docstring: minigrid's
    interactions, else :class:`~rudder.events.FeatureClusterEncoder` with its defaults."""
    if is_minigrid(env_id):
        from rudder.envs.minigrid_tasks import interaction_encoder

        return interaction_encoder()
    from rudder.events import FeatureClusterEncoder

    return FeatureClusterEncoder()


@dataclasses.dataclass(frozen=True)
class GeneralitySettings(SB3TaskSettings):
    """How one run of the suite goes (the same for every task and method)."""

    env: str = "MountainCar-v0"
    """Env id: a minigrid id, or a gymnasium id whose return is paid at the end (DelayedReward)."""
    target: float = 0.8
    """Success rate to reach (training stops there)."""


@dataclasses.dataclass(frozen=True)
class GeneralitySweep(GeneralitySettings):
    """The generality benchmark's runs."""

    envs: tuple[str, ...] = SUITE
    """Env ids to run."""
    methods: tuple[str, ...] = METHODS
    """Methods: ppo, bc, bc-ppo, align-rudder, rudder-lstm."""
    demos: int = 10
    """Demonstrations per run (recorded by the task's demonstrator, or drawn from --demos-file)."""
    seeds: int = 5
    """Seeds per (env, method)."""
    first_seed: int = 0
    """The first seed."""
    budget: int = 0
    """Env-step budget of every task (0: --minigrid-budget or --classic-budget, by the task)."""
    minigrid_budget: int = 500_000
    """Env-step budget of the minigrid tasks."""
    classic_budget: int = 300_000
    """Env-step budget of the other (classic-control) tasks."""

    def __post_init__(self) -> None:
        from rudder.agents.sb3.settings import SB3_METHODS

        unknown = sorted(set(self.methods) - set(SB3_METHODS))
        if unknown:
            raise ValueError(f"unknown methods {unknown}; choose from {list(SB3_METHODS)}")
        if min(self.budget, self.minigrid_budget, self.classic_budget) < 0:
            raise ValueError("the budgets must be >= 0")

    def budget_of(self, env_id: str) -> int:
        """The env-step budget of ``env_id``'s runs."""
        if self.budget > 0:
            return self.budget
        return self.minigrid_budget if is_minigrid(env_id) else self.classic_budget


def _make_env(settings: GeneralitySettings) -> Callable[[], gym.Env]:
    return functools.partial(make_generality_env, settings.env)


def _record(settings: GeneralitySettings, count: int, seed: int) -> list[Episode]:
    return generality_demonstrations(settings.env, count, seed=seed)


def _encoder(settings: GeneralitySettings) -> Any:
    return generality_encoder(settings.env)


def _run_settings(settings: GeneralitySettings, method: str) -> Any:
    """The library's defaults, with the task's budget and the suite's one evaluation,
    cloning and PPO setting. For minigrid the run is also told where the env reports its
    interactions (a description of the env, used if sub-task agents are chosen)."""
    described: dict[str, Any] = {}
    if is_minigrid(settings.env):
        from rudder.envs.minigrid_tasks import INTERACTIONS

        described = {"subtask_change_key": "interaction_change", "subtask_items": INTERACTIONS}
    return task_run_settings(settings, method, target_success=settings.target, **described)


def _encoder_overrides(settings: GeneralitySettings) -> dict[str, Any]:
    if not is_minigrid(settings.env):
        return {}
    from rudder.envs.minigrid_tasks import interaction_events

    return {"function": interaction_events}


GENERALITY_TASK = SB3Task(
    name="generality",
    make_env=_make_env,
    record_demonstrations=_record,
    encoder=_encoder,
    run_settings=_run_settings,
    encoder_overrides=_encoder_overrides,
)


def generality_jobs(sweep: GeneralitySweep) -> list[Job]:
    """Every (env, method, seed), in the order given (a stopped sweep has whole rows)."""
    return [
        Job(
            {"env": env_id, "method": method, "seed": seed, "n_demos": sweep.demos},
            dataclasses.replace(sweep, env=env_id, budget=sweep.budget_of(env_id)),
            budget=sweep.budget_of(env_id),
        )
        for env_id in sweep.envs
        for method in sweep.methods
        for seed in range(sweep.first_seed, sweep.first_seed + sweep.seeds)
    ]


def run_generality(job: Job, progress: Progress) -> dict[str, Any]:
    """One run: when it reached the target (``None``: never), its success after cloning
    and at the end, its curve."""
    outcome, record = run_sb3_job(GENERALITY_TASK, job, progress)
    curve = record["curve"]
    return {
        **target_fields(outcome, job.settings.budget),
        **record,
        "cloned_success": curve[0][1] if curve and job.key["method"] != "ppo" else None,
        "final_success": curve[-1][1] if curve else None,
    }


def _caption(sources: list[dict[str, Any]]) -> str:
    source = sources[0]
    budget = int(source.get("budget", 0))
    budgets = (
        f"{budget:,} env steps"
        if budget > 0
        else f"{int(source.get('minigrid_budget', 500_000)):,} env steps for minigrid, "
        f"{int(source.get('classic_budget', 300_000)):,} for the others"
    )
    return (
        f"Env steps until {float(source.get('target', 0.8)):.0%} success over {source.get('eval_episodes', 50)} "
        f"evaluation episodes every {int(source.get('eval_every', 20_000)):,} env steps ({source.get('demos', 10)} "
        f"demonstrations; budget {budgets}; a failure counts as the budget), the final success rate, and the "
        "success rate right after behaviour cloning."
    )


def _cell(rows: list[dict[str, Any]], env_id: str, method: str) -> dict[str, Any] | None:
    return next((row for row in rows if row["env"] == env_id and row["method"] == method), None)


def _notes(results: ResultFile, rows: list[dict[str, Any]]) -> str:
    """Align-RUDDER against BC+PPO per task, and the runs that ended below their cloned start."""
    lines = []
    for env_id in dict.fromkeys(row["env"] for row in rows):
        ours, baseline = _cell(rows, env_id, "align-rudder"), _cell(rows, env_id, "bc-ppo")
        if ours is None or baseline is None:
            continue
        steps, final = "env steps to target", "final success"
        ratio = ours[steps]["median"] / max(baseline[steps]["median"], 1.0)
        difference = ours[final]["median"] - baseline[final]["median"]
        lines.append(
            f"- {env_id}: Align-RUDDER / BC+PPO median env steps {ratio:.2f}, final success {difference:+.2f}"
        )
    dropped = [
        f"{run['env']} {NAMES.get(run['method'], run['method'])} seed {run['seed']} "
        f"({run['cloned_success']:.2f} -> {run['final_success']:.2f})"
        for run in results.runs
        if run.get("cloned_success") is not None and run["final_success"] < run["cloned_success"] - 0.1
    ]
    lines.append(
        "Runs that ended more than 0.1 below their cloned start: " + ("; ".join(dropped) if dropped else "none") + "."
    )
    return "\n".join(lines)


def _draw(results: ResultFile, rows: list[dict[str, Any]], path: str) -> None:
    learning_curves(
        results.runs, path, panel="env", series=lambda run: NAMES.get(run["method"], run["method"]),
        xlabel="env steps", ylabel="success rate (IQM, 95% CI band)",
        target=float(results.settings.get("target", 0.8)),
    )


GENERALITY = Benchmark(
    name="generality",
    script="scripts/bench_generality.py",
    description=__doc__ or "",
    settings=GeneralitySweep,
    jobs=generality_jobs,
    run=run_generality,
    group_by=("env", "method"),
    metrics=(
        Metric("env steps to target", steps_to_target),
        Metric("final success", lambda run: run.get("final_success"), decimals=2),
        Metric("success after cloning", lambda run: run.get("cloned_success"), decimals=2, full=False),
    ),
    caption=_caption,
    draw=_draw,
    notes=_notes,
    names=NAMES,
    axes=("envs", "methods", "seeds", "first_seed"),
)
