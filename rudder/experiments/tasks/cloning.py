"""Held-out behaviour cloning: how well a clone predicts demonstrated actions it has not seen.

Each run records ``--demos`` demonstrations of a task with its own demonstrator (the run's
seed), splits them into ``--folds`` folds of consecutive episodes and, for each fold,
clones a fresh policy of the library's default network on the other folds (its width
chosen by their recorded steps, :func:`~rudder.agents.sb3.settings.default_net_arch`; the
library's cloning defaults) and scores it on the held-out one: the share of held-out steps whose
demonstrated action is the clone's most likely one, and the mean negative log-likelihood
of the demonstrated actions (nats per step). With ``augmentation`` ``mirror`` the clone
also fits the training folds' mirror images (the task's ``cloning_augmentation``:
:func:`~rudder.envs.crafter_tasks.mirror_images` on Crafter,
:func:`~rudder.envs.craft.mirror_episode` on the crafting world); the held-out folds are
always the originals. With ``network`` ``convolutions`` the clone reads Crafter's view with
convolutions (``--convolutions`` of the Crafter benchmark,
:class:`~rudder.agents.sb3.policies.GridFeatures`); ``dense`` is the library's default. No
env step is taken.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from rudder.experiments.harness import Benchmark
from rudder.experiments.report import Metric
from rudder.experiments.sweep import Job, Progress

__all__ = ["CLONING", "CloningSettings", "cloning_jobs", "run_cloning"]

TASKS = ("crafter", "craft")
AUGMENTATIONS = ("none", "mirror")
NETWORKS = ("dense", "convolutions")


@dataclasses.dataclass(frozen=True)
class CloningSettings:
    """The held-out cloning benchmark's options."""

    tasks: tuple[str, ...] = ("crafter",)
    """Tasks: crafter (Crafter, the symbolic observation), craft (the crafting world)."""
    augmentations: tuple[str, ...] = AUGMENTATIONS
    """none (the demonstrations only) and mirror (with their mirror images)."""
    networks: tuple[str, ...] = ("dense",)
    """dense (the library's default network) and convolutions (Crafter's view read with
    convolutions first; crafter only)."""
    demos: int = 20
    """Demonstrations per run."""
    folds: int = 5
    """Folds of consecutive demonstrations; each is held out once."""
    seeds: int = 1
    """Runs (each with its own demonstrations) per (task, augmentation)."""

    def __post_init__(self) -> None:
        unknown = (
            sorted(set(self.tasks) - set(TASKS))
            + sorted(set(self.augmentations) - set(AUGMENTATIONS))
            + sorted(set(self.networks) - set(NETWORKS))
        )
        if unknown:
            raise ValueError(
                f"unknown {unknown}: --tasks from {list(TASKS)}, --augmentations from {list(AUGMENTATIONS)}, "
                f"--networks from {list(NETWORKS)}"
            )
        if "convolutions" in self.networks and set(self.tasks) != {"crafter"}:
            raise ValueError("--networks convolutions reads Crafter's view: use it with --tasks crafter only")
        if self.folds < 2 or self.demos < self.folds or self.seeds < 1:
            raise ValueError("--folds must be >= 2, --demos >= --folds and --seeds >= 1")


def cloning_jobs(settings: CloningSettings) -> list[Job]:
    """One job per (task, augmentation, network, seed); the same seed records the same
    demonstrations."""
    return [
        Job({"task": task, "augmentation": augmentation, "network": network, "seed": seed}, settings, budget=settings.folds)
        for task in settings.tasks
        for augmentation in settings.augmentations
        for network in settings.networks
        for seed in range(settings.seeds)
    ]


def _task(name: str) -> tuple[Any, Any]:
    """The task's :class:`~rudder.experiments.sb3.SB3Task` and its default settings."""
    if name == "crafter":
        from rudder.experiments.tasks.crafter import CRAFTER_TASK, CrafterSettings

        return CRAFTER_TASK, CrafterSettings()
    from rudder.experiments.tasks.craft import CRAFT_TASK, CraftSettings

    return CRAFT_TASK, CraftSettings()


def _grid(job: Job) -> tuple[int, int, int] | None:
    """The grid the clone's convolutions read (Crafter's view), or None for the dense network."""
    if job.key.get("network", "dense") == "dense":
        return None
    from rudder.envs.crafter_tasks import view_grid

    return view_grid()


def run_cloning(job: Job, progress: Progress) -> dict[str, Any]:
    """Clones on all folds but one, scores on that one, for each fold."""
    import torch
    from stable_baselines3.common.env_util import make_vec_env

    from rudder.agents.sb3 import (
        BehaviorCloningSettings,
        PPOSettings,
        augment_demonstrations,
        behavior_cloning,
    )
    from rudder.agents.sb3.ppo import make_ppo
    from rudder.experiments.tasks import demonstrations

    settings: CloningSettings = job.settings
    seed = int(job.key["seed"])
    task, task_settings = _task(job.key["task"])
    augmentation = task.cloning_augmentation(dataclasses.replace(task_settings, mirror=True))
    started = time.perf_counter()
    demos = demonstrations(job, settings.demos, lambda: task.record_demonstrations(task_settings, settings.demos, seed), seed=seed)
    folds = np.array_split(np.arange(len(demos)), settings.folds)
    accuracies, losses, steps = [], [], []
    for index, held_out in enumerate(folds):
        held = set(held_out.tolist())
        training = [episode for i, episode in enumerate(demos) if i not in held]
        # the library's width for these demonstrations (default_net_arch: the recorded steps)
        ppo_settings = PPOSettings(grid=_grid(job)).for_demonstrations(sum(len(episode) for episode in training))
        if job.key["augmentation"] == "mirror":
            training += augment_demonstrations(training, augmentation)[0]
        venv = make_vec_env(task.make_env(task_settings), n_envs=1, seed=seed)
        try:
            model = make_ppo(venv, ppo_settings, seed=seed + index)
            behavior_cloning(model.policy, training, settings=BehaviorCloningSettings(), seed=seed + index)
        finally:
            venv.close()
        observations = np.concatenate([np.asarray(demos[i].observations)[:-1] for i in held_out])
        actions = np.concatenate([np.asarray(demos[i].actions) for i in held_out])
        tensor, _ = model.policy.obs_to_tensor(observations)
        with torch.no_grad():
            distribution = model.policy.get_distribution(tensor).distribution
            assert isinstance(distribution, torch.distributions.Categorical), "a discrete action space"
            log_likelihood = distribution.log_prob(torch.as_tensor(actions)).numpy()
            greedy = distribution.probs.argmax(dim=-1).numpy()
        accuracies.append(float(np.mean(greedy == actions)))
        losses.append(float(-np.mean(log_likelihood)))
        steps.append(int(actions.size))
        progress(index + 1)
    return {
        "accuracy": float(np.mean(accuracies)),
        "nll": float(np.mean(losses)),
        "fold_accuracy": [round(value, 4) for value in accuracies],
        "fold_nll": [round(value, 4) for value in losses],
        "held_out_steps": steps,
        "seconds": round(time.perf_counter() - started, 1),
        "env_steps": 0,
    }


CLONING = Benchmark(
    name="cloning",
    script="scripts/bench_cloning.py",
    description=__doc__ or "",
    settings=CloningSettings,
    jobs=cloning_jobs,
    run=run_cloning,
    group_by=("task", "augmentation", "network"),
    metrics=(
        Metric("held-out accuracy", lambda run: run["accuracy"], decimals=3),
        Metric("held-out NLL (nats per step)", lambda run: run["nll"], decimals=3),
    ),
    caption=lambda sources: (
        f"Behaviour cloning held out one fold of {sources[0]['folds']} at a time ({sources[0]['demos']} demonstrations "
        "per run; the library's cloning settings and its default network, or its view read with convolutions first): "
        "the share of held-out steps whose demonstrated action is the clone's most likely one, and the mean negative "
        "log-likelihood of the demonstrated actions."
    ),
    axes=("tasks", "augmentations", "networks", "seeds"),
)
