"""Experiments: the one harness behind every training and benchmark script.

- :mod:`~rudder.experiments.harness`: :class:`Benchmark` (what a benchmark is) and
  :func:`main` (its command line: run, ``--resume``, ``--combine``, ``--plot-only``).
- :mod:`~rudder.experiments.sweep`: runs on this process, a process pool or Ray, with one
  progress bar in env steps.
- :mod:`~rudder.experiments.results`: the one result-file schema, and readers of the
  earlier layouts.
- :mod:`~rudder.experiments.report` and :mod:`~rudder.experiments.statistics`: the
  summary rows (median, quartiles, IQM with bootstrap intervals), tables and pictures.
- :mod:`~rudder.experiments.sb3`: stable-baselines3 tasks (:class:`SB3Task`), one run
  of a method, and the command line of the training scripts.
- :mod:`~rudder.experiments.tasks`: the task presets: rooms, delay, crafting world,
  minigrid, MineRL data, core timings, env speed.
"""

from rudder.experiments.harness import Benchmark, SweepOptions, main, run_benchmark
from rudder.experiments.report import Metric
from rudder.experiments.results import ResultFile, combine_results, read_results, write_results
from rudder.experiments.sweep import Job, Progress, ProgressBar, run_sweep

__all__ = [
    "Benchmark",
    "Job",
    "Metric",
    "Progress",
    "ProgressBar",
    "ResultFile",
    "SweepOptions",
    "combine_results",
    "main",
    "read_results",
    "run_benchmark",
    "run_sweep",
    "write_results",
]
