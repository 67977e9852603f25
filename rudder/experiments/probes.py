"""Reliability probes (issue 16): a few hundred hostile-user probes of one source tree.

This module owns the probes, their classification and the runner. Each probe runs in a
fresh temporary directory, in a worker process that imports ``rudder`` from the source
tree under test (so the same probes run on an older checkout: they use only the public
API and the ``rudder`` command, and classify an older tree's errors by behaviour), with
its address space bounded (``RLIMIT_AS``) and its time bounded (an alarm in the worker, a
watchdog in the runner that kills a hung worker and starts another one). An outcome is
one of :data:`OUTCOMES`:

- ``ok``: the correct result for a valid input (or a harmless change of a file);
- ``clear error``: an error of the library (its own class, or a ``ValueError``/
  ``TypeError``/``OSError`` raised on purpose by its code), or a ``rudder`` command that
  exits non-zero with a message and no traceback;
- ``crash``: a traceback, a raw exception of Python or of a dependency (``IndexError``,
  ``MemoryError``, ``zipfile.BadZipFile``, ...), a killed worker or a hang;
- ``silent wrong``: no error but a wrong or NaN result, or a corrupt value accepted;
- ``data loss``: a file the user owned was deleted or changed, or half-written output or
  debris remained.

The probes themselves live in :mod:`rudder.experiments.probe_catalog`. Neither module
imports ``rudder`` at the top: a worker loads both by path next to an older tree.
"""

from __future__ import annotations

import collections
import json
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CATEGORIES",
    "OUTCOMES",
    "Probe",
    "ProbeResult",
    "classify_exception",
    "format_table",
    "probe_results_file",
    "run_probes",
    "summarise",
]

OK, CLEAR, CRASH, WRONG, LOSS = "ok", "clear error", "crash", "silent wrong", "data loss"
#: The outcomes, from good to bad.
OUTCOMES: tuple[str, ...] = (OK, CLEAR, CRASH, WRONG, LOSS)

#: The categories of issue 16, in its order.
CATEGORIES: tuple[str, ...] = (
    "1 saves (data loss)",
    "2 corrupt values",
    "3 zero-length episodes",
    "4 CLI failures",
    "5 loader exceptions",
    "6 declared sizes",
    "7 concurrent replace",
    "8 symlinks",
    "9 NaN inventory / MineRL values",
    "10 return equivalence",
    "11 umask",
    "12 smaller items",
)

Result = tuple[str, str]  # (outcome, detail)

#: Exceptions that are never a library's message, wherever they are raised.
RAW_EXCEPTIONS: tuple[type[BaseException], ...] = (
    MemoryError, RecursionError, IndexError, KeyError, AttributeError, ZeroDivisionError,
    OverflowError, AssertionError, NameError, StopIteration, UnicodeError,
)
#: Builtin exceptions that a library may raise on purpose (``raise ValueError(...)``).
PURPOSEFUL_BUILTINS: tuple[type[BaseException], ...] = (ValueError, TypeError, OSError, RuntimeError, LookupError)

_CONTEXT: dict[str, Any] = {"tree": None}


@dataclass(frozen=True)
class Probe:
    """One probe: ``run(work)`` does its setup and action in the empty folder ``work`` and
    returns ``(outcome, detail)``; an exception it lets through is classified by
    :func:`classify_exception`.

    Attributes:
        category: one of :data:`CATEGORIES`.
        name: what is probed, unique within the category.
        run: the probe.
        timeout: seconds before the probe counts as a hang (a crash).
    """

    category: str
    name: str
    run: Callable[[Path], Result]
    timeout: float = 60.0


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one probe (see :data:`OUTCOMES`), with a short detail and its time."""

    category: str
    name: str
    outcome: str
    detail: str
    seconds: float


class ProbeTimeout(BaseException):
    """The probe ran past its timeout (a BaseException, so no ``except Exception`` eats it)."""


class Verdict(Exception):
    """Raised by a probe's helper (for example a ``rudder`` command's run) to end the probe
    with a given outcome."""

    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


def tree() -> Path:
    """The source tree under test (the folder that holds ``rudder/``)."""
    value = _CONTEXT["tree"]
    return Path(value) if value is not None else Path(__file__).resolve().parents[2]


def _raised_on_purpose(error: BaseException) -> bool:
    """Whether the innermost frame of ``error`` is a ``raise`` statement in the tree's
    ``rudder`` package (a message written for the user, not a dependency's failure)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return False
    last = frames[-1]
    package = str(tree() / "rudder") + os.sep
    return last.filename.startswith(package) and (last.line or "").lstrip().startswith("raise")


def classify_exception(error: BaseException) -> Result:
    """The outcome of a probe that raised ``error`` (see the module docstring).

    Args:
        error: the exception, with its traceback.

    Returns:
        ``(outcome, detail)``: ``clear error`` for the library's own classes and for
        builtin errors its code raises on purpose (or an ``OSError`` naming a file),
        ``crash`` for everything else.
    """
    if isinstance(error, Verdict):
        return error.outcome, error.detail
    detail = f"{type(error).__name__}: {str(error)[:200]}"
    if isinstance(error, ProbeTimeout):
        return CRASH, "hang (timeout)"
    if type(error).__module__.split(".")[0] == "rudder":
        return CLEAR, detail
    if isinstance(error, RAW_EXCEPTIONS):
        return CRASH, detail
    if isinstance(error, PURPOSEFUL_BUILTINS) and _raised_on_purpose(error):
        return CLEAR, detail
    if isinstance(error, OSError) and error.errno is not None and error.filename is not None:
        return CLEAR, detail
    return CRASH, detail


def expect_refusal(call: Callable[[], Any]) -> Result:
    """A call on bad input: an exception is classified, a return is ``silent wrong``."""
    try:
        value = call()
    except Exception as error:
        return classify_exception(error)
    return WRONG, f"accepted ({_short(value)})"


def expect_value(call: Callable[[], Any], check: Callable[[Any], str | None]) -> Result:
    """A call on valid input: ``check(value)`` returns None when the value is right, else
    what is wrong (``silent wrong``); an exception is classified."""
    try:
        value = call()
    except Exception as error:
        return classify_exception(error)
    problem = check(value)
    return (OK, "") if problem is None else (WRONG, problem)


def _short(value: Any) -> str:
    return repr(value)[:120].replace("\n", " ")


# -- the rudder command --------------------------------------------------------------------
@dataclass(frozen=True)
class CommandRun:
    """A finished ``rudder`` command: exit code (None when killed for time), outputs."""

    returncode: int | None
    stdout: str
    stderr: str


def command_environment() -> dict[str, str]:
    """The environment of a ``rudder`` command: the tree first on the path, one thread."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = str(tree())
    environment.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    return environment


def rudder_command(
    work: Path,
    *arguments: str,
    timeout: float = 90.0,
    umask: int | None = None,
    file_size: int | None = None,
    close_stdout: bool = False,
) -> CommandRun:
    """Runs ``python -m rudder.cli ARGUMENTS`` of the tree under test in ``work``.

    Args:
        work: the working folder.
        arguments: the command line after ``rudder``.
        timeout: seconds before it is killed (returncode None).
        umask: the umask of the command (default: the current one).
        file_size: a ``RLIMIT_FSIZE`` in bytes, a full disk as the command sees it.
        close_stdout: close the reading end of its stdout at once (``rudder ... | head -0``).
    """

    def limits() -> None:
        if umask is not None:
            os.umask(umask)
        if file_size is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))

    process = subprocess.Popen(
        [sys.executable, "-m", "rudder.cli", *arguments], cwd=work, env=command_environment(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limits, text=True,
    )
    if close_stdout:
        assert process.stdout is not None
        process.stdout.close()
        process.stdout = None
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        return CommandRun(None, stdout or "", stderr or "")
    return CommandRun(process.returncode, stdout or "", stderr or "")


def judge_command(run: CommandRun, check: Callable[[CommandRun], str | None] | None = None) -> Result:
    """The outcome of a command: a hang, a signal or a traceback is a crash; a non-zero
    exit with a message is a clear error; exit 0 is ``check(run)`` (None: right), or,
    without ``check`` (bad input), ``silent wrong``."""
    if run.returncode is None:
        return CRASH, "hang (timeout)"
    last = (run.stderr.strip().splitlines() or [""])[-1][:200]
    if "Traceback (most recent call last)" in run.stderr:
        return CRASH, f"traceback: {last}"
    if run.returncode < 0:
        return CRASH, f"killed by signal {-run.returncode}"
    if run.returncode != 0:
        return (CLEAR, last) if last else (CRASH, f"exit {run.returncode} without a message")
    if check is None:
        return WRONG, f"exit 0: {run.stdout.strip()[-120:]!r}"
    problem = check(run)
    return (OK, "") if problem is None else (WRONG, problem)


def command_or_raise(run: CommandRun) -> CommandRun:
    """``run`` if it exited 0, else a :class:`Verdict` with its outcome."""
    outcome, detail = judge_command(run, check=lambda _: None)
    if outcome != OK:
        raise Verdict(outcome, detail)
    return run


# -- user files ------------------------------------------------------------------------------
def snapshot(*roots: Path) -> dict[Path, bytes | None]:
    """Every file under ``roots`` (a file or a folder) with its bytes; None for a folder."""
    files: dict[Path, bytes | None] = {}
    for root in roots:
        if root.is_symlink() or root.is_file():
            files[root] = root.read_bytes() if root.is_file() else None
        elif root.is_dir():
            files[root] = None
            for path in root.rglob("*"):
                files[path] = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return files


def changed(before: dict[Path, bytes | None]) -> str | None:
    """What of ``before`` is missing or changed now (None: nothing)."""
    for path, content in before.items():
        if not os.path.lexists(path):
            return f"{path.name} deleted"
        if content is not None and (not path.is_file() or path.read_bytes() != content):
            return f"{path.name} changed"
    return None


def debris(folder: Path, expected: Iterable[str]) -> list[str]:
    """Entries of ``folder`` other than ``expected`` (what a save left behind)."""
    return sorted(set(os.listdir(folder)) - set(expected))


# -- the worker ------------------------------------------------------------------------------
def _alarm(signum: int, frame: Any) -> None:
    raise ProbeTimeout()


def _run_one(probe: Probe, scratch: Path) -> ProbeResult:
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="probe-", dir=scratch))
    previous = os.getcwd()
    umask = os.umask(0o022)
    os.umask(umask)
    signal.setitimer(signal.ITIMER_REAL, probe.timeout)
    try:
        os.chdir(work)
        outcome, detail = probe.run(work)
    except BaseException as error:  # noqa: BLE001 - every failure of a probe is an outcome
        if isinstance(error, KeyboardInterrupt):
            raise
        outcome, detail = classify_exception(error)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        os.chdir(previous)
        os.umask(umask)
    return ProbeResult(probe.category, probe.name, outcome, detail, time.perf_counter() - start)


def worker_main(source_tree: str, indices: Sequence[str]) -> None:
    """Runs the probes of ``indices`` (into :func:`all_probes`) against ``source_tree``;
    writes one JSON line per probe (``start`` first) to the file descriptor in
    ``RUDDER_PROBES_FD``."""
    _CONTEXT["tree"] = source_tree
    sys.setrecursionlimit(3000)
    signal.signal(signal.SIGALRM, _alarm)
    channel = os.fdopen(int(os.environ["RUDDER_PROBES_FD"]), "w", buffering=1)
    scratch = Path(os.environ["RUDDER_PROBES_SCRATCH"])
    probes = all_probes()
    for index in map(int, indices):
        channel.write(json.dumps({"start": index}) + "\n")
        result = _run_one(probes[index], scratch)
        channel.write(json.dumps({"index": index, **result.__dict__}) + "\n")
    channel.close()


def all_probes() -> list[Probe]:
    """Every probe, in a fixed order (the worker finds them by index)."""
    from rudder.experiments.probe_catalog import catalog

    return list(catalog())


#: Loads this module and the catalogue by path, under their own names, next to the tree
#: under test (whose ``rudder.experiments`` may not have them), then runs the worker.
_BOOTSTRAP = (
    "import importlib.util, pathlib, sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "here = pathlib.Path(sys.argv[2])\n"
    "for name, file in (('probes', here), ('probe_catalog', here.with_name('probe_catalog.py'))):\n"
    "    spec = importlib.util.spec_from_file_location('rudder.experiments.' + name, file)\n"
    "    module = importlib.util.module_from_spec(spec)\n"
    "    sys.modules[spec.name] = module\n"
    "    spec.loader.exec_module(module)\n"
    "sys.modules['rudder.experiments.probes'].worker_main(sys.argv[1], sys.argv[3:])\n"
)


# -- the runner ------------------------------------------------------------------------------
def _memory_limit(limit_bytes: int) -> Callable[[], None]:
    def apply() -> None:
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
        os.nice(10)

    return apply


def _start_worker(source_tree: Path, indices: Sequence[int], scratch: Path, memory_bytes: int, log: Any) -> tuple[subprocess.Popen, Any]:
    reading, writing = os.pipe()
    environment = command_environment() | {
        "PYTHONPATH": str(source_tree), "RUDDER_PROBES_FD": str(writing), "RUDDER_PROBES_SCRATCH": str(scratch),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", _BOOTSTRAP, str(source_tree), str(Path(__file__).resolve()), *map(str, indices)],
        cwd=scratch, env=environment, stdout=log, stderr=log, pass_fds=(writing,), preexec_fn=_memory_limit(memory_bytes),
    )
    os.close(writing)
    return process, os.fdopen(reading, "r")


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _collect(process: subprocess.Popen, channel: Any, probes: Sequence[Probe], results: dict[int, ProbeResult], margin: float) -> int | None:
    """Reads a worker's lines until it ends; returns the index of the probe it was running
    when it hung or died (None: it finished)."""
    current: int | None = None
    started = time.monotonic()
    while True:
        limit = probes[current].timeout + margin if current is not None else 600.0
        ready, _, _ = select.select([channel], [], [], max(0.0, started + limit - time.monotonic()))
        if not ready:
            _kill(process)
            return current
        line = channel.readline()
        if not line:
            process.wait()
            return current
        record = json.loads(line)
        if "start" in record:
            current, started = record["start"], time.monotonic()
        else:
            index = record.pop("index")
            results[index] = ProbeResult(**record)
            current = None


def run_probes(
    source_tree: str | os.PathLike[str],
    *,
    memory_gb: float = 4.0,
    margin_seconds: float = 30.0,
    select_names: Callable[[Probe], bool] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[ProbeResult]:
    """Runs every probe (or those ``select_names`` keeps) against ``source_tree``.

    Args:
        source_tree: the folder that holds the ``rudder`` package to probe.
        memory_gb: the address-space limit of the worker and of the commands it starts.
        margin_seconds: how long past a probe's timeout the runner waits before it kills
            the worker (a hang the worker's own alarm could not interrupt).
        select_names: keeps a probe when true (default: all).
        progress: called with a line after each worker ends.

    Returns:
        One result per probe, in catalogue order; a probe whose worker hung or died is a
        crash.
    """
    source = Path(source_tree).resolve()
    probes = all_probes()
    pending = [i for i, probe in enumerate(probes) if select_names is None or select_names(probe)]
    results: dict[int, ProbeResult] = {}
    with tempfile.TemporaryDirectory(prefix="rudder-probes-") as scratch:
        log = open(Path(scratch) / "worker.log", "ab")  # noqa: SIM115 - closed below
        try:
            while pending:
                started = time.perf_counter()
                process, channel = _start_worker(source, pending, Path(scratch), int(memory_gb * 2**30), log)
                with channel:
                    stuck = _collect(process, channel, probes, results, margin_seconds)
                if stuck is not None and stuck not in results:
                    why = "hang (watchdog)" if process.returncode in (-signal.SIGKILL, None) else f"worker died ({process.returncode})"
                    results[stuck] = ProbeResult(probes[stuck].category, probes[stuck].name, CRASH, why, time.perf_counter() - started)
                pending = [i for i in pending if i not in results]
                if stuck is None and pending:  # the worker ended without a word on these
                    for i in pending:
                        results[i] = ProbeResult(probes[i].category, probes[i].name, CRASH, "worker ended early", 0.0)
                    pending = []
                if progress is not None:
                    progress(f"{len(results)} probes done, {len(pending)} left")
        finally:
            log.close()
    return [results[i] for i in sorted(results)]


# -- tables ----------------------------------------------------------------------------------
def summarise(results: Sequence[ProbeResult]) -> dict[str, dict[str, int]]:
    """``{category: {outcome: count}}`` over :data:`CATEGORIES` and :data:`OUTCOMES`, with
    a ``"total"`` row."""
    table = {category: dict.fromkeys(OUTCOMES, 0) for category in CATEGORIES}
    table["total"] = dict.fromkeys(OUTCOMES, 0)
    for result in results:
        table[result.category][result.outcome] += 1
        table["total"][result.outcome] += 1
    return table


def format_table(results: Sequence[ProbeResult]) -> str:
    """Markdown table: one row per category, one column per outcome, and the probes."""
    table = summarise(results)
    header = "| category | probes | " + " | ".join(OUTCOMES) + " |"
    lines = [header, "|" + "---|" * (len(OUTCOMES) + 2)]
    for category, counts in table.items():
        name = f"**{category}**" if category == "total" else category
        lines.append(f"| {name} | {sum(counts.values())} | " + " | ".join(str(counts[o]) for o in OUTCOMES) + " |")
    return "\n".join(lines)


def probe_results_file(results: Sequence[ProbeResult], *, command: str, tree: str, label: str, commit: str | None, seconds: float) -> Any:
    """The runs of a probe set as a :class:`~rudder.experiments.results.ResultFile`
    (benchmark ``"reliability"``, one run per probe, one row per category)."""
    from rudder.experiments.results import ResultFile, package_versions

    rows = [{"category": category, **counts} for category, counts in summarise(results).items()]
    return ResultFile("reliability", command, {"tree": tree, "label": label, "tree_commit": commit},
                      [dict(result.__dict__) for result in results], seconds, commit, package_versions(), rows)


def format_failures(results: Sequence[ProbeResult]) -> str:
    """Markdown list of the probes that ended in a crash, a silent wrong result or data
    loss, by category, with their details."""
    bad = collections.defaultdict(list)
    for result in results:
        if result.outcome in (CRASH, WRONG, LOSS):
            bad[result.category].append(f"  - {result.name}: **{result.outcome}** ({result.detail})")
    return "\n".join(f"- {category}\n" + "\n".join(lines) for category, lines in bad.items()) or "none"


# -- return equivalence, measured ------------------------------------------------------------
@dataclass(frozen=True)
class ReturnFigures:
    """How closely redistributed rewards sum to the return over random episodes.

    Attributes:
        episodes: the number of episodes.
        within_1e12_of_return: the fraction whose exact error |sum R - G| is at most
            1e-12 |G|.
        max_error_of_magnitude: the largest error / max(|G|, sum |r|) (what float
            summation itself can promise).
        max_error_in_last_ulps: the largest error in units of ulp(R_{T-1}), the last
            redistributed reward.
        max_error_of_terms: the largest error / (sum |r| + sum |R|), the magnitude of
            every term of the two sums.
        achievable: the fraction for which some float R_{T-1} (given the rewards paid
            before) meets 1e-12 |G|: the float nearest to G - S, checked in exact
            rational arithmetic.
        missed: how many episodes missed 1e-12 |G| although some float met it.
        by_kind: for the ordinary and the tiny-return episodes: (fraction within
            1e-12 |G|, largest error / |G|).
        naive: the first four figures for ``R[-1] = sum(r) - sum(R[:-1])`` in floats.
        worst: (rewards, redistributed) of the episode furthest from 1e-12 |G|.
    """

    episodes: int
    within_1e12_of_return: float
    max_error_of_magnitude: float
    max_error_in_last_ulps: float
    max_error_of_terms: float
    achievable: float
    missed: int
    by_kind: dict[str, tuple[float, float]]
    naive: tuple[float, float, float, float]
    worst: tuple[list[float], list[float]]


def _errors(redistributed: Sequence[float], rewards: Sequence[float]) -> tuple[float, float, float, float]:
    """(error / |G|, error / max(|G|, sum |r|), error / ulp(R_{T-1}), error / (sum |r| +
    sum |R|)), errors exact."""
    import math

    total = math.fsum(rewards)
    error = abs(math.fsum([*redistributed, *(-r for r in rewards)]))
    scale = max(abs(total), math.fsum(abs(r) for r in rewards))
    return (error / abs(total) if total else (0.0 if error == 0 else math.inf), error / scale if scale else error,
            error / math.ulp(redistributed[-1]), error / math.fsum(abs(x) for x in [*rewards, *redistributed]))


def return_equivalence_figures(num_episodes: int = 5000, *, seed: int = 0) -> ReturnFigures:
    """Redistributes ``num_episodes`` random episodes online (bit-equal to offline, checked)
    and measures the exact error of the sum against the return.

    Rewards are sign x U(1, 10) x 10^k with k uniform in -6..6 (12 orders of magnitude),
    3 to 40 steps; every second episode has a return of 1e-6, -3e-5 or 7e-3 while its
    single rewards reach 1e6. The redistributor is an alignment model of FrozenLake
    demonstrations (state clusters), the episodes' states uniform in its 64 states.

    Args:
        num_episodes: how many episodes.
        seed: the seed of the episodes.
    """
    import numpy as np

    from rudder import AlignmentRedistributor, Episode, StateClusterEncoder
    from rudder.envs import frozen_lake_demonstrations

    model = AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(frozen_lake_demonstrations(4, seed=0))
    rng = np.random.default_rng(seed)
    ours, naive = [], []
    achievable = missed = 0
    worst: tuple[float, list[float], list[float]] = (-1.0, [], [])
    for index in range(num_episodes):
        length = int(rng.integers(3, 41))
        rewards = rng.choice([-1.0, 1.0], length) * rng.uniform(1, 10, length) * 10.0 ** rng.integers(-6, 7, length)
        if index % 2:
            rewards[-1] = -_exact_sum(rewards[:-1]) + float(rng.choice([1e-6, -3e-5, 7e-3]))
        given = Episode(observations=rng.integers(0, 64, length + 1), actions=np.zeros(length, np.int64),
                        rewards=rewards, terminated=True)
        offline = model.redistribute(given)
        states: Any = given.observations
        state = model.start(states[0])
        paid = [state.step(states[t], 0, states[t + 1], float(rewards[t]), t == length - 1, False, {}) for t in range(length)]
        if not np.array_equal(np.array(paid), offline):
            raise AssertionError(f"episode {index}: online rewards differ from offline ones")
        ours.append(_errors(paid, rewards.tolist()))
        best = best_terminal_error(rewards.tolist(), paid[:-1])
        achievable += best <= 1e-12 * abs(_exact_sum(rewards))
        missed += best <= 1e-12 * abs(_exact_sum(rewards)) < ours[-1][0] * abs(_exact_sum(rewards))
        simple = offline.copy()
        simple[-1] = np.sum(rewards) - np.sum(simple[:-1])
        naive.append(_errors(simple.tolist(), rewards.tolist()))
        if ours[-1][0] > worst[0]:
            worst = (ours[-1][0], rewards.tolist(), [float(x) for x in paid])

    def figures(errors: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
        within = sum(e[0] <= 1e-12 for e in errors) / len(errors)
        return within, max(e[1] for e in errors), max(e[2] for e in errors), max(e[3] for e in errors)

    within, magnitude, ulps, terms = figures(ours)
    by_kind = {kind: (sum(e[0] <= 1e-12 for e in ours[start::2]) / len(ours[start::2]), max(e[0] for e in ours[start::2]))
               for kind, start in (("ordinary", 0), ("tiny return", 1)) if ours[start::2]}
    return ReturnFigures(num_episodes, within, magnitude, ulps, terms, achievable / num_episodes, missed, by_kind, figures(naive),
                         (worst[1], worst[2]))


def best_terminal_error(rewards: Sequence[float], paid_before: Sequence[float]) -> float:
    """The smallest |S + R - G| over every float R, where G = sum(rewards) and S =
    sum(paid_before) exactly: that of R = the float nearest to G - S (``Fraction`` to
    ``float`` rounds correctly), in exact rational arithmetic.

    Args:
        rewards: shape (T,), the env rewards.
        paid_before: shape (T-1,), the redistributed rewards paid before the last step.
    """
    from fractions import Fraction

    exact = sum(map(Fraction, rewards), Fraction(0)) - sum(map(Fraction, paid_before), Fraction(0))
    return float(abs(Fraction(float(exact)) - exact))


def _exact_sum(values: Any) -> float:
    import math

    return math.fsum(values.tolist())


RETURN_EQUIVALENCE_PROOF = """\
## Why 1e-12 relative to |G| cannot hold for every episode

Online, the wrapper pays one float64 reward per step, R_0 ... R_{T-2}, before it knows
that the episode ends; only the last one, R_{T-1}, can correct the sum. Let
S = R_0 + ... + R_{T-2} and G = r_0 + ... + r_{T-1} (both exact sums; the env chooses
r_{T-1} after S is paid). The error of the episode is |S + R_{T-1} - G| = |R_{T-1} - x|
with x = G - S, so the best any float R_{T-1} can do is the distance from x to the
nearest float: up to ulp(x)/2, about ulp(x)/4 on average. For normal x,
2^-53 |x| < ulp(x) <= 2^-52 |x|, and floats next to x are at least ulp(x)/2 apart:

- if |G - S| <= 2^53 * 1e-12 |G| (about 9,007 |G|), the correctly rounded
  R_{T-1} = fl(G - S) is within ulp(x)/2 <= 2^-53 |x| <= 1e-12 |G|: the target holds;
- if |G - S| > 2^55 * 1e-12 |G| (about 36,029 |G|), neighbouring floats around x are
  more than 2e-12 |G| apart, so the interval [x - 1e-12 |G|, x + 1e-12 |G|] holds at most
  one float and, unless x happens to lie that close to one, none: no choice of R_{T-1}
  meets the target.

The second case is common when the return is tiny next to what was paid before the end
(G = 1e-6 after S = 1.18 was paid: |G - S| = 1.2e6 |G|, ulp(1.18) = 2.2e-16 = 2.2e-10 |G|,
so the nearest float is typically 5.6e-11 |G| away).
Paying differently before the end does not help either: S is fixed before the env
picks r_{T-1}, so G, and with it G - S, can be anything. The figures above check this
episode by episode in exact rational arithmetic (column "some float can"): the library's
terminal reward (``terminal_reward``: G - S computed exactly with ``math.fsum`` and
rounded once) meets 1e-12 |G| on every episode where any float can, and its error is
at most half an ulp of the last reward on all of them, which is what the tests assert
(tests/reliability/test_return_equivalence.py, 6,000 hypothesis episodes under
``-m slow``), together with 1e-12 relative to max(|G|, |R_{T-1}|).
"""


def format_return_figures(figures: ReturnFigures, command: str) -> str:
    """The markdown page of :func:`return_equivalence_figures` (with the proof above)."""
    naive_within, naive_magnitude, naive_ulps, naive_terms = figures.naive
    return (
        "# Return equivalence: how closely redistributed rewards sum to the return\n\n"
        f"{figures.episodes:,} random episodes, rewards sign x U(1, 10) x 10^k with k uniform in -6..6 "
        "(12 orders of magnitude), 3 to 40 steps, every second one with a return of 1e-6, -3e-5 or 7e-3 "
        "while single rewards reach 1e6; redistributed online by an alignment model of FrozenLake "
        "(online and offline rewards bit-equal on every episode, checked). Errors are exact "
        "(|sum R - G| with `math.fsum`). Command, from the repository root:\n\n"
        f"    {command}\n\n"
        "| terminal reward | within 1e-12 of abs(G) | some float can | max error / max(abs(G), sum abs(r)) "
        "| max error in ulp(R_{T-1}) | max error / (sum abs(r) + sum abs(R)) |\n|---|---|---|---|---|---|\n"
        f"| library (`terminal_reward`, fsum, rounded once) | {figures.within_1e12_of_return:.2%} | "
        f"{figures.achievable:.2%} | {figures.max_error_of_magnitude:.3g} | {figures.max_error_in_last_ulps:.3g} | "
        f"{figures.max_error_of_terms:.3g} |\n"
        f"| naive `sum(r) - sum(R[:-1])` in floats (for comparison) | {naive_within:.2%} | "
        f"{figures.achievable:.2%} | {naive_magnitude:.3g} | {naive_ulps:.3g} | {naive_terms:.3g} |\n\n"
        "The redistributed rewards R are of the size of the demonstrations' returns (about 1), "
        "whatever the size of the env rewards r, so an error of half an ulp of R_{T-1} can be "
        "large next to sum abs(r) when every env reward is small; next to all the terms summed "
        "it stays at the rounding of one float.\n\n"
        f"Episodes that missed 1e-12 abs(G) although some float met it: {figures.missed}. By kind: "
        + "; ".join(f"{kind} episodes {within:.2%} within 1e-12 abs(G), largest error {worst:.3g} abs(G)"
                    for kind, (within, worst) in figures.by_kind.items())
        + ".\n\n"
        + RETURN_EQUIVALENCE_PROOF
    )
