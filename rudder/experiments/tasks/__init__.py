"""Task presets: each benchmark's settings, jobs, run and report, in one module per task.

Each benchmark module defines a :class:`~rudder.experiments.harness.Benchmark` named after
its task (``rooms.ROOMS``, ``craft.CRAFT``, ...); the stable-baselines3 tasks also define an
:class:`~rudder.experiments.sb3.SB3Task` for their training scripts (``craft.CRAFT_TASK``),
and ``minerl`` holds the MineRL data pipeline of ``scripts/train_minerl.py``. The tasks
share :func:`demonstrations`, which gives a run the user's own demonstrations
(``--demos-file``) or the task's demonstrator's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rudder.data.episode import Episode
from rudder.data.sources import load_demonstrations
from rudder.experiments.sweep import Job

__all__ = ["demonstrations"]


def demonstrations(job: Job, count: int, record: Callable[[], list[Episode]], *, seed: int) -> list[Episode]:
    """The demonstrations of one run.

    Without ``job.demos_file``: ``record()``, the task's own demonstrator. With it:
    ``count`` episodes of that file, drawn without replacement by ``seed`` (so each seed
    of a sweep sees its own subset, and the same seed the same one).

    Raises:
        ValueError: if the file holds fewer than ``count`` episodes.
    """
    if job.demos_file is None:
        return record()
    episodes = load_demonstrations(job.demos_file)
    if count > len(episodes):
        raise ValueError(f"{job.demos_file} holds {len(episodes)} episodes; this run needs {count} (lower --demos)")
    picks = np.random.default_rng(seed).choice(len(episodes), size=count, replace=False)
    return [episodes[int(index)] for index in sorted(picks)]
