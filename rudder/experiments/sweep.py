"""Running a sweep of runs: in this process, on a local process pool, or on Ray.

A run is ``function(job, progress) -> record``: ``job`` says what to run (its key, the
task's settings, its env-step budget), ``progress(env_steps)`` reports how far it has got,
and the record is a JSON-ready ``dict``. The same jobs give the same records on every
back-end: each run seeds itself from its job and shares nothing with the others.

One progress bar in env steps covers the whole sweep. Its total starts as the sum of the
budgets. Runs that stop early (they reached their target) make that an overestimate, so
the total is re-estimated whenever a run finishes: a run still going is expected to take
the median env steps of the finished runs (at most its budget, at least what it has
taken), and the estimate of the time left follows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import queue as queue_module
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from tqdm import tqdm

from rudder.errors import DependencyNotInstalled

__all__ = ["Job", "Progress", "ProgressBar", "RunFunction", "run_sweep"]

#: One BLAS/OpenMP thread per run: runs are the unit of parallelism, and small matrix
#: products from several threads per process fight over the cores.
_SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclasses.dataclass(frozen=True)
class Job:
    """One run of a sweep.

    Attributes:
        key: what identifies the run in the results, e.g. ``{"env": ..., "method": ...,
            "n_demos": 2, "seed": 0}`` (JSON values; copied into the run's record).
        settings: the task's settings (a dataclass), the same for every run of a sweep.
        budget: the most env steps the run may take (for the progress bar).
        demos_file: an ``.npz`` file of the user's demonstrations to use instead of the
            task's own demonstrator (see :func:`rudder.experiments.tasks.demonstrations`).
    """

    key: Mapping[str, Any]
    settings: Any
    budget: int
    demos_file: str | None = None


class Progress:
    """Reports a run's env steps to the sweep's progress bar (picklable, so it can be
    sent to a worker process or a Ray task). Calls closer than ``interval`` seconds
    apart are merged."""

    def __init__(self, index: int, sink: Any = None, *, interval: float = 0.5) -> None:
        self.index = index
        self._sink = sink
        self._interval = interval
        self._last = 0.0

    def __call__(self, env_steps: int) -> None:
        """Records that the run has taken ``env_steps`` env steps in all so far."""
        now = time.monotonic()
        if self._sink is None or now - self._last < self._interval:
            return
        self._last = now
        self._sink.put((self.index, int(env_steps)))

    def __getstate__(self) -> dict[str, Any]:
        return {"index": self.index, "_sink": self._sink, "_interval": self._interval, "_last": 0.0}


RunFunction = Callable[[Job, Progress], dict]


class ProgressBar:
    """The sweep's progress bar in env steps (see the module docstring for its total).

    Args:
        jobs: the sweep's runs (their budgets).
        description: the bar's label.
    """

    def __init__(self, jobs: Sequence[Job], description: str) -> None:
        self.done = [0] * len(jobs)
        self.budgets = [max(int(job.budget), 1) for job in jobs]
        self.expected = list(self.budgets)  # env steps each run is expected to take in all
        self.used: dict[int, int] = {}  # env steps of the finished runs
        self.bar = tqdm(total=sum(self.budgets), desc=description, unit="step", unit_scale=True, dynamic_ncols=True)

    def advance(self, index: int, env_steps: int) -> None:
        """Run ``index`` has taken ``env_steps`` env steps so far."""
        steps = min(int(env_steps), self.budgets[index])
        if steps <= self.done[index]:
            return
        if steps > self.expected[index]:  # longer than expected: at least what it has taken
            self.bar.total += steps - self.expected[index]
            self.expected[index] = steps
        self.bar.update(steps - self.done[index])
        self.done[index] = steps

    def finish(self, index: int, record: Mapping[str, Any]) -> None:
        """Run ``index`` ended with ``record`` (its ``env_steps``; the budget if absent)."""
        used = record.get("env_steps")
        used = self.budgets[index] if used is None else min(int(used), self.budgets[index])
        self.advance(index, used)
        self.used[index] = self.done[index]
        # A run still going is expected to take what a typical finished run took (runs
        # that needed no steps at all say nothing about that: then its budget).
        typical = sorted(self.used.values())[len(self.used) // 2]
        for run, budget in enumerate(self.budgets):
            if run in self.used:
                self.expected[run] = self.used[run]
            else:
                self.expected[run] = max(self.done[run], min(budget, typical) if typical > 0 else budget)
        self.bar.total = sum(self.expected)
        self.bar.set_postfix_str(f"{len(self.used)}/{len(self.done)} runs")
        self.bar.refresh()

    def close(self) -> None:
        """Closes the bar."""
        self.bar.close()


def run_sweep(
    function: RunFunction,
    jobs: Sequence[Job],
    *,
    workers: int = 1,
    ray: bool = False,
    ray_address: str | None = None,
    description: str = "env steps",
) -> Iterator[tuple[int, dict]]:
    """Runs every job and yields ``(job index, record)`` as the runs finish.

    Args:
        function: the run; it must be importable (a module-level function) for the
            process pool and Ray.
        jobs: the runs to make.
        workers: runs at once (1: in this process, in order).
        ray: run on Ray: a local Ray instance with ``workers`` CPUs, or the cluster at
            ``ray_address``.
        ray_address: a Ray cluster's address (``"auto"``, ``"ray://host:10001"``);
            implies ``ray``.
        description: the progress bar's label.

    Raises:
        ValueError: if ``workers`` < 1.
        DependencyNotInstalled: for Ray without the ``ray`` extra.
    """
    if workers < 1:
        raise ValueError(f"`workers` must be >= 1, got {workers}")
    bar = ProgressBar(jobs, description)
    try:
        if ray or ray_address is not None:
            yield from _on_ray(function, jobs, bar, workers=workers, address=ray_address)
        elif workers == 1:
            yield from _in_process(function, jobs, bar)
        else:
            yield from _on_pool(function, jobs, bar, workers=workers)
    finally:
        bar.close()


class _Direct:
    def __init__(self, bar: ProgressBar) -> None:
        self.bar = bar

    def put(self, item: tuple[int, int]) -> None:
        self.bar.advance(*item)


def _in_process(function: RunFunction, jobs: Sequence[Job], bar: ProgressBar) -> Iterator[tuple[int, dict]]:
    sink = _Direct(bar)
    for index, job in enumerate(jobs):
        record = function(job, Progress(index, sink))
        bar.finish(index, record)
        yield index, record


def _drain(sink: Any, bar: ProgressBar) -> None:
    while True:
        try:
            index, steps = sink.get_nowait()
        except (queue_module.Empty, Exception):  # Ray's queue raises its own Empty
            return
        bar.advance(index, steps)


@contextlib.contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Child processes started inside inherit one BLAS thread each (unless set)."""
    saved = {name: os.environ.get(name) for name in _SINGLE_THREAD}
    for name, value in _SINGLE_THREAD.items():
        os.environ.setdefault(name, value)
    try:
        yield
    finally:
        for name, saved_value in saved.items():
            if saved_value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = saved_value


def _on_pool(function: RunFunction, jobs: Sequence[Job], bar: ProgressBar, *, workers: int) -> Iterator[tuple[int, dict]]:
    context = multiprocessing.get_context("spawn")
    with _single_threaded_children(), context.Manager() as manager, context.Pool(workers) as pool:
        sink = manager.Queue()
        pending = {index: pool.apply_async(function, (job, Progress(index, sink))) for index, job in enumerate(jobs)}
        while pending:
            _drain(sink, bar)
            ready = [index for index, result in pending.items() if result.ready()]
            if not ready:
                time.sleep(0.1)
                continue
            for index in ready:
                record = pending.pop(index).get()
                _drain(sink, bar)
                bar.finish(index, record)
                yield index, record


def _on_ray(
    function: RunFunction, jobs: Sequence[Job], bar: ProgressBar, *, workers: int, address: str | None
) -> Iterator[tuple[int, dict]]:
    try:
        import ray
        from ray.util.queue import Queue
    except ImportError as error:
        raise DependencyNotInstalled("sweeps on Ray need Ray: pip install 'align-rudder[ray]'") from error
    started_here = not ray.is_initialized()
    if started_here:
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": dict(_SINGLE_THREAD)})
        else:
            ray.init(address=address, log_to_driver=False, runtime_env={"env_vars": dict(_SINGLE_THREAD)})
    try:
        sink = Queue()
        remote = ray.remote(num_cpus=1)(function)
        pending = {remote.remote(job, Progress(index, sink)): index for index, job in enumerate(jobs)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
            _drain(sink, bar)
            for reference in done:
                index = pending.pop(reference)
                record = ray.get(reference)
                bar.finish(index, record)
                yield index, record
        sink.shutdown()
    finally:
        if started_here:
            ray.shutdown()
