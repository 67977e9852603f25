"""Core timings: the reward wrapper's overhead per env step, and multiple alignment beside ClustalW.

(a) ``wrapper``: microseconds per env step that
    :class:`~rudder.wrappers.RedistributedReward` adds on a cheap env, for profile lengths
    16, 64 and 256, with an event on every step (the worst case) and on every 10th step
    (medians over ``--steps`` steps);
(b) ``alignment``: multiple-alignment time for 10 and 100 demonstrations of 50 and 200
    events (median over ``--repeats``), and one profile alignment;
(c) where ``clustalw`` is on PATH (Debian package), ClustalW (NJ) on the same inputs,
    timed interleaved with ours, with both sum-of-pairs scores, and likewise Clustal
    Omega where ``clustalo`` is (one thread; its own scoring, SP under ours); with
    ``--under-load`` (the default) all are timed again while a second process keeps one
    core busy;
(d) ``vector`` (``--measures wrapper vector alignment``): microseconds per env step that the vectorised wrapper
    :class:`~rudder.wrappers.RedistributedVecEnv` adds to an SB3 ``DummyVecEnv`` of 8
    and 64 envs (profile length 64, an event every step), beside one
    :class:`~rudder.wrappers.RedistributedReward` per env, timed in the same run;
(e) with ``--scaling``: large alignments (the k-mer guide tree path) of 100 to 10,000
    demonstrations, time and sum-of-pairs per pair beside the exact path, ClustalW and
    Clustal Omega where they run, the log-log slope of time against demonstrations, and
    a PNG (``--png``);
(f) ``encoders``: the fit time of the state-cluster encoder (grid walks of 400 and
    2,500 states) and the feature-cluster encoder (k-means and affinity propagation, 4-D
    swings) on ``--encoder-steps`` demonstration steps (median of ``--encoder-repeats``).

Timings must not share the cores: keep ``--workers 1`` (the default), on a quiet machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import itertools
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from rudder.experiments.harness import Benchmark
from rudder.experiments.report import Metric
from rudder.experiments.results import ResultFile, source_settings
from rudder.experiments.sweep import Job, Progress

__all__ = ["CORE", "CoreSettings", "core_jobs", "run_core", "synthetic_demonstrations"]

#: The fields of a configuration (``None`` where one does not apply to its measure).
_KEY = ("measure", "scoring_form", "num_sequences", "num_events", "num_envs", "profile_length", "event_every_steps", "encoder", "num_steps")
#: The encoder fits of the ``encoders`` measure: (name, encoder kind, its option).
_ENCODERS = (
    ("state clusters, 400 states", "state", 20),
    ("state clusters, 2,500 states", "state", 50),
    ("feature clusters, k-means", "feature", "kmeans"),
    ("feature clusters, affinity", "feature", "affinity"),
)


@dataclasses.dataclass(frozen=True)
class CoreSettings:
    """The core timings' options."""

    measures: tuple[str, ...] = ("wrapper", "alignment")
    """What to time: wrapper (overhead per env step), vector (the vectorised wrapper's,
    needs stable-baselines3), alignment (ours beside ClustalW and Clustal Omega),
    encoders (the fit time of the state-cluster and feature-cluster encoders)."""
    profile_lengths: tuple[int, ...] = (16, 64, 256)
    """Profile lengths of the wrapper timings."""
    event_every: tuple[int, ...] = (1, 10)
    """An event every this many env steps, in the wrapper timings."""
    steps: int = 20_000
    """Env steps timed per wrapper configuration."""
    forms: tuple[str, ...] = ("paper", "official")
    """Scoring forms of the alignment timings."""
    demos: tuple[int, ...] = (10, 100)
    """Numbers of demonstrations aligned."""
    events: tuple[int, ...] = (50, 200)
    """Events per demonstration."""
    repeats: int = 7
    """Repetitions of each alignment timing (the median is reported)."""
    seed: int = 0
    """Seed of the synthetic sequences."""
    under_load: bool = True
    """Also time the alignments while a second process keeps one core busy."""
    vector_envs: tuple[int, ...] = (8, 64)
    """Numbers of envs of the vectorised wrapper timings."""
    vector_steps: int = 2000
    """Vector-env steps timed per vectorised configuration."""
    scaling: bool = False
    """Add the large-alignment timings (k-mer path, 100 to 10,000 demonstrations)."""
    scaling_demos: tuple[int, ...] = (100, 300, 1000, 3000, 10_000)
    """Numbers of demonstrations of the scaling timings."""
    scaling_events: tuple[int, ...] = (100, 200)
    """Events per demonstration of the scaling timings (at most 10^6 events in all)."""
    scaling_exact_max: int = 300
    """The most demonstrations the exact path and ClustalW align in the scaling timings."""
    scaling_clustalo_max: int = 3000
    """The most demonstrations Clustal Omega aligns in the scaling timings."""
    encoder_steps: int = 100_000
    """Demonstration steps the encoders are fitted on."""
    encoder_repeats: int = 3
    """Fits of each encoder (the median is reported)."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.measures) - {"wrapper", "vector", "alignment", "encoders"})
        if unknown:
            raise ValueError(f"unknown measures {unknown}; choose from wrapper, vector, alignment, encoders")
        unknown = sorted(set(self.forms) - {"paper", "official"})
        if unknown:
            raise ValueError(f"unknown scoring forms {unknown}; choose from paper, official")
        if min(self.steps, self.repeats, self.vector_steps, self.encoder_steps, self.encoder_repeats) < 1:
            raise ValueError("--steps, --repeats, --vector-steps, --encoder-steps and --encoder-repeats must be >= 1")


class _CountingEnv(gym.Env):
    """A cheap env: observation = step counter modulo ``period``, never terminates."""

    def __init__(self, period: int = 1_000_000) -> None:
        self.observation_space = gym.spaces.Discrete(period)
        self.action_space = gym.spaces.Discrete(2)
        self.period = period
        self.count = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self.count = 0
        return 0, {}

    def step(self, action: Any) -> tuple[int, float, bool, bool, dict]:
        self.count += 1
        return self.count % self.period, 0.0, False, False, {}


def _event_every(period: int, num_events: int) -> Callable[..., int | None]:
    """Event function: an event on every ``period``-th step, cycling through the alphabet."""

    def events(observation: int, action: int, next_observation: int, info: dict) -> int | None:
        if next_observation % period:
            return None
        return (next_observation // period) % num_events

    return events


def _fitted_redistributor(profile_length: int, period: int, num_events: int = 20) -> Any:
    from rudder.data import Episode
    from rudder.events import CallableEventEncoder
    from rudder.redistribution import AlignmentRedistributor

    steps = profile_length * period
    demo = Episode(
        observations=np.arange(steps + 1),
        actions=np.zeros(steps, dtype=np.int64),
        rewards=np.r_[np.zeros(steps - 1), 1.0],
        terminated=True,
    )
    encoder = CallableEventEncoder(_event_every(period, num_events), collapse_repeats=False)
    return AlignmentRedistributor(encoder).fit([demo, demo])


def _step_microseconds(env: gym.Env, steps: int) -> float:
    """The median wall time of one ``env.step`` over ``steps`` steps, in microseconds."""
    env.reset(seed=0)
    durations = np.empty(steps)
    clock = time.perf_counter_ns
    for index in range(steps):
        start = clock()
        env.step(0)
        durations[index] = clock() - start
    return float(np.median(durations / 1000.0))


def synthetic_demonstrations(count: int, length: int, rng: np.random.Generator, num_events: int = 15) -> list[np.ndarray]:
    """Event sequences with shared structure: a common chain with skips and noise.

    Returns:
        ``count`` int64 arrays of about ``0.9 * length`` events each in ``[0, num_events)``.
    """
    chain = rng.integers(0, num_events, size=length)
    sequences = []
    for _ in range(count):
        keep = rng.random(length) > 0.1
        sequence = chain[keep]
        noise = rng.random(sequence.size) < 0.1
        sequence = np.where(noise, rng.integers(0, num_events, size=sequence.size), sequence)
        sequences.append(sequence.astype(np.int64))
    return sequences


def synthetic_grid_demonstrations(num_steps: int, side: int, rng: np.random.Generator, episode_length: int = 500) -> list[Any]:
    """Walks on a ``side`` x ``side`` grid from the corner (0, 0), drifting towards the
    opposite corner (half the moves) and otherwise random; states ``row * side + column``.

    Returns:
        :class:`~rudder.data.Episode` s of ``episode_length`` steps, ``num_steps`` steps in all.
    """
    from rudder.data import Episode

    moves = np.array([[0, 1], [1, 0], [0, -1], [-1, 0]])
    episodes = []
    for start in range(0, num_steps, episode_length):
        length = min(episode_length, num_steps - start)
        drift = rng.integers(0, 2, size=length)  # right or down
        chosen = np.where(rng.random(length) < 0.5, drift, rng.integers(0, 4, size=length))
        cells = np.zeros((length + 1, 2), dtype=np.int64)
        for step, move in enumerate(moves[chosen]):
            cells[step + 1] = np.clip(cells[step] + move, 0, side - 1)
        rewards = np.zeros(length)
        rewards[-1] = 1.0
        episodes.append(Episode(observations=cells[:, 0] * side + cells[:, 1], actions=chosen, rewards=rewards, terminated=True))
    return episodes


def synthetic_feature_demonstrations(num_steps: int, rng: np.random.Generator, episode_length: int = 500) -> list[Any]:
    """Noisy swings of a car in a valley (position, velocity; growing amplitude, as in
    MountainCar) plus two noise features.

    Returns:
        :class:`~rudder.data.Episode` s with float observations of shape (T+1, 4),
        ``num_steps`` steps in all.
    """
    from rudder.data import Episode

    episodes = []
    for start in range(0, num_steps, episode_length):
        length = min(episode_length, num_steps - start)
        time_steps = np.arange(length + 1)
        amplitude = 0.1 + 0.9 * time_steps / length
        phase = rng.uniform(0, 2 * np.pi) + time_steps * rng.uniform(0.05, 0.1)
        observations = np.stack([amplitude * np.sin(phase) - 0.5, 0.07 * amplitude * np.cos(phase), *rng.normal(size=(2, length + 1))], axis=1)
        observations[:, :2] += rng.normal(scale=0.01, size=(length + 1, 2))
        rewards = np.zeros(length)
        rewards[-1] = 1.0
        episodes.append(Episode(observations=observations, actions=rng.integers(0, 3, size=length), rewards=rewards, terminated=True))
    return episodes


def _time_encoder(name: str, settings: CoreSettings) -> dict[str, Any]:
    """The median fit time of one encoder on ``settings.encoder_steps`` demonstration steps."""
    from rudder.events import FeatureClusterEncoder, StateClusterEncoder

    _, kind, option = next(entry for entry in _ENCODERS if entry[0] == name)
    rng = np.random.default_rng(settings.seed)
    if kind == "state":
        demonstrations = synthetic_grid_demonstrations(settings.encoder_steps, int(option), rng)
        make: Callable[[], Any] = functools.partial(StateClusterEncoder, num_states=int(option) ** 2, seed=settings.seed)
    else:
        demonstrations = synthetic_feature_demonstrations(settings.encoder_steps, rng)
        method: Literal["kmeans", "affinity"] = "affinity" if option == "affinity" else "kmeans"
        make = functools.partial(FeatureClusterEncoder, method=method, seed=settings.seed)
    seconds, encoders = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # subsampling notes; recorded by the encoder
        for _ in range(settings.encoder_repeats):
            encoder = make()
            seconds.append(_timed(functools.partial(encoder.fit, demonstrations))[0])
            encoders.append(encoder)
    return {
        "fit_seconds": statistics.median(seconds),
        "num_steps": settings.encoder_steps,
        "encoder_events": len(encoders[-1].alphabet),
        "clustering": str(encoders[-1].clustering),
    }


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _median_seconds(function: Callable[[], Any], repeats: int) -> float:
    return statistics.median(_timed(function)[0] for _ in range(repeats))


def _time_wrapper(profile_length: int, period: int, settings: CoreSettings, progress: Progress) -> dict[str, Any]:
    from rudder.wrappers import RedistributedReward

    redistributor = _fitted_redistributor(profile_length, period)
    raw = _step_microseconds(_CountingEnv(), settings.steps)
    progress(settings.steps)
    wrapped = _step_microseconds(RedistributedReward(_CountingEnv(), redistributor), settings.steps)
    return {
        "profile_length": redistributor.profile.length,
        "env_step_us": raw,
        "wrapped_step_us": wrapped,
        "added_us": wrapped - raw,
        "env_steps": 2 * settings.steps,
    }


def _time_alignment(form: Literal["paper", "official"], count: int, length: int, settings: CoreSettings) -> dict[str, Any]:
    from rudder.alignment import (
        MultipleAlignment,
        ScoringScheme,
        align_profiles,
        align_sequences,
        align_to_profile,
        clustalo_align,
        clustalo_available,
        clustalw_align,
        clustalw_available,
        clustalw_profile_align,
        event_frequencies,
    )

    # The optional compiled DP loops compile (or load) on their first call: not in the
    # timings. A sequence against a sequence, then a profile against a profile.
    warm_scoring = ScoringScheme.from_frequencies(np.full(3, 1 / 3))
    align_sequences([np.array([0, 1, 2]), np.array([0, 2])], warm_scoring)
    two_rows = MultipleAlignment(rows=np.array([[0, 1, 2], [1, 2, 0]]))
    align_profiles(two_rows, two_rows, warm_scoring)
    have_clustalw, have_clustalo = clustalw_available(), clustalo_available()
    rng = np.random.default_rng(settings.seed)
    sequences = synthetic_demonstrations(count, length, rng)
    query = synthetic_demonstrations(1, length, rng)[0]
    scoring = ScoringScheme.from_frequencies(event_frequencies(sequences, 15), form=form)
    ours_times, clustal_times, omega_times = [], [], []
    for _ in range(settings.repeats):
        # Interleaved, so that all see the same load.
        seconds, ours = _timed(lambda: align_sequences(sequences, scoring))
        ours_times.append(seconds)
        if have_clustalw:
            seconds, clustal = _timed(lambda: clustalw_align(sequences, scoring))
            clustal_times.append(seconds)
        if have_clustalo:
            seconds, omega = _timed(lambda: clustalo_align(sequences, num_events=scoring.num_events))
            omega_times.append(seconds)
    record = {
        "compiled_dp": importlib.util.find_spec("numba") is not None,
        "ours_seconds": statistics.median(ours_times),
        "ours_sum_of_pairs": float(ours.sum_of_pairs(scoring)),
        "ours_columns": ours.length,
        "ours_profile_alignment_seconds": _median_seconds(lambda: align_to_profile(ours, query, scoring), settings.repeats),
    }
    if settings.under_load:
        record.update(_time_loaded(sequences, scoring, settings.repeats, have_clustalw, have_clustalo))
    if have_clustalo:
        record.update(
            clustalo_seconds=statistics.median(omega_times),
            clustalo_sum_of_pairs=float(omega.sum_of_pairs(scoring)),
            time_ratio_ours_to_clustalo=statistics.median(a / b for a, b in zip(ours_times, omega_times)),
        )
    if have_clustalw:
        record.update(
            {
                "clustalw_seconds": statistics.median(clustal_times),
                "clustalw_sum_of_pairs": float(clustal.sum_of_pairs(scoring)),
                "clustalw_columns": clustal.length,
                "clustalw_profile_alignment_seconds": _median_seconds(
                    lambda: clustalw_profile_align(ours, query, scoring), settings.repeats
                ),
                "time_ratio_ours_to_clustalw": statistics.median(a / b for a, b in zip(ours_times, clustal_times)),
            }
        )
    return record


@contextlib.contextmanager
def busy_core() -> Any:
    """A second process that keeps one core busy for the duration of the block."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it start spinning
        yield
    finally:
        spinner.kill()
        spinner.wait()


def _time_loaded(sequences: list[np.ndarray], scoring: Any, repeats: int, have_clustalw: bool, have_clustalo: bool) -> dict[str, Any]:
    """Ours, ClustalW and Clustal Omega, interleaved, while one core is busy."""
    from rudder.alignment import align_sequences, clustalo_align, clustalw_align

    ours_times, clustal_times, omega_times = [], [], []
    with busy_core():
        for _ in range(repeats):
            ours_times.append(_timed(lambda: align_sequences(sequences, scoring))[0])
            if have_clustalw:
                clustal_times.append(_timed(lambda: clustalw_align(sequences, scoring))[0])
            if have_clustalo:
                omega_times.append(_timed(lambda: clustalo_align(sequences, num_events=scoring.num_events))[0])
    record: dict[str, Any] = {"ours_loaded_seconds": statistics.median(ours_times)}
    if have_clustalw:
        record["clustalw_loaded_seconds"] = statistics.median(clustal_times)
        record["loaded_ratio_ours_to_clustalw"] = statistics.median(a / b for a, b in zip(ours_times, clustal_times))
    if have_clustalo:
        record["clustalo_loaded_seconds"] = statistics.median(omega_times)
        record["loaded_ratio_ours_to_clustalo"] = statistics.median(a / b for a, b in zip(ours_times, omega_times))
    return record


def _vector_step_microseconds(venv: Any, steps: int) -> float:
    """The median wall time of one ``venv.step`` per env, in microseconds."""
    venv.reset()
    actions = np.zeros(venv.num_envs, dtype=np.int64)
    durations = np.empty(steps)
    clock = time.perf_counter_ns
    for index in range(steps):
        start = clock()
        venv.step(actions)
        durations[index] = clock() - start
    return float(np.median(durations)) / 1000.0 / venv.num_envs


def _time_vector(num_envs: int, settings: CoreSettings, progress: Progress) -> dict[str, Any]:
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rudder.wrappers import RedistributedReward, RedistributedVecEnv

    redistributor = _fitted_redistributor(64, 1)
    # The compiled loops compile on their first call: not in the timings.
    RedistributedVecEnv(DummyVecEnv([_CountingEnv]), redistributor).reset()
    timings: dict[str, list[float]] = {"raw": [], "per_env": [], "vector": []}
    for _ in range(3):  # interleaved, so that all three see the same load
        timings["raw"].append(_vector_step_microseconds(DummyVecEnv([_CountingEnv] * num_envs), settings.vector_steps))
        per_env = DummyVecEnv([lambda: RedistributedReward(_CountingEnv(), redistributor)] * num_envs)
        timings["per_env"].append(_vector_step_microseconds(per_env, settings.vector_steps))
        vector = RedistributedVecEnv(DummyVecEnv([_CountingEnv] * num_envs), redistributor)
        timings["vector"].append(_vector_step_microseconds(vector, settings.vector_steps))
        progress(3 * settings.vector_steps * num_envs)
    raw, per_env_us, vector_us = (statistics.median(timings[name]) for name in ("raw", "per_env", "vector"))
    return {
        "profile_length": redistributor.profile.length,
        "env_step_us": raw,
        "per_env_added_us": per_env_us - raw,
        "vector_added_us": vector_us - raw,
        "env_steps": 9 * settings.vector_steps * num_envs,
    }


def _time_scaling(count: int, length: int, settings: CoreSettings) -> dict[str, Any]:
    from rudder.alignment import (
        ScoringScheme,
        align_sequences,
        clustalo_align,
        clustalo_available,
        clustalw_align,
        clustalw_available,
        event_frequencies,
    )

    sequences = synthetic_demonstrations(count, length, np.random.default_rng(settings.seed))
    scoring = ScoringScheme.from_frequencies(event_frequencies(sequences, 15))
    pairs = count * (count - 1) / 2
    seconds, kmer = _timed(lambda: align_sequences(sequences, scoring, method="kmer"))
    record: dict[str, Any] = {"kmer_seconds": seconds, "kmer_sp_per_pair": kmer.sum_of_pairs(scoring) / pairs, "kmer_columns": kmer.length}
    if count <= settings.scaling_exact_max:
        seconds, exact = _timed(lambda: align_sequences(sequences, scoring, method="exact", refine_passes=0))
        record.update(exact_seconds=seconds, exact_sp_per_pair=exact.sum_of_pairs(scoring) / pairs)
        record["sp_ratio_kmer_to_exact"] = record["kmer_sp_per_pair"] / record["exact_sp_per_pair"]
        if clustalw_available():
            seconds, clustal = _timed(lambda: clustalw_align(sequences, scoring))
            record.update(clustalw_seconds=seconds, clustalw_sp_per_pair=clustal.sum_of_pairs(scoring) / pairs)
    if count <= settings.scaling_clustalo_max and clustalo_available():
        seconds, omega = _timed(lambda: clustalo_align(sequences, num_events=scoring.num_events))
        record.update(clustalo_seconds=seconds, clustalo_sp_per_pair=omega.sum_of_pairs(scoring) / pairs)
    return record


def scaling_exponent(runs: list[dict[str, Any]], num_events: int) -> float | None:
    """The least-squares slope of log(k-mer time) against log(demonstrations) at ``num_events``."""
    points = [(run["num_sequences"], run["kmer_seconds"]) for run in runs if run.get("measure") == "scaling" and run.get("num_events") == num_events and "kmer_seconds" in run]
    if len({count for count, _ in points}) < 2:
        return None
    logs = np.log(np.array(points, dtype=np.float64))
    return float(np.polyfit(logs[:, 0], logs[:, 1], 1)[0])


def core_jobs(settings: CoreSettings) -> list[Job]:
    """Every wrapper configuration, then every alignment configuration."""
    jobs = []
    if "wrapper" in settings.measures:
        for period, length in itertools.product(settings.event_every, settings.profile_lengths):
            key: dict[str, Any] = {**dict.fromkeys(_KEY), "measure": "wrapper", "profile_length": length, "event_every_steps": period}
            jobs.append(Job(key, settings, budget=2 * settings.steps))
    if "vector" in settings.measures:
        for count in settings.vector_envs:
            key = {**dict.fromkeys(_KEY), "measure": "vector", "num_envs": count, "profile_length": 64, "event_every_steps": 1}
            jobs.append(Job(key, settings, budget=9 * settings.vector_steps * count))
    if "alignment" in settings.measures:
        for form, count, length in itertools.product(settings.forms, settings.demos, settings.events):
            key = {**dict.fromkeys(_KEY), "measure": "alignment", "scoring_form": form, "num_sequences": count, "num_events": length}
            jobs.append(Job(key, settings, budget=1))
    if "encoders" in settings.measures:
        for name, _, _ in _ENCODERS:
            key = {**dict.fromkeys(_KEY), "measure": "encoders", "encoder": name, "num_steps": settings.encoder_steps}
            jobs.append(Job(key, settings, budget=1))
    if settings.scaling:
        for length, count in itertools.product(settings.scaling_events, settings.scaling_demos):
            if count * length <= 1_000_000:
                key = {**dict.fromkeys(_KEY), "measure": "scaling", "scoring_form": "paper", "num_sequences": count, "num_events": length}
                jobs.append(Job(key, settings, budget=1))
    return jobs


def run_core(job: Job, progress: Progress) -> dict[str, Any]:
    """Times one configuration."""
    key, settings = job.key, job.settings
    started = time.perf_counter()
    if key["measure"] == "wrapper":
        record = _time_wrapper(int(key["profile_length"]), int(key["event_every_steps"]), settings, progress)
    elif key["measure"] == "vector":
        record = _time_vector(int(key["num_envs"]), settings, progress)
    elif key["measure"] == "encoders":
        record = _time_encoder(str(key["encoder"]), settings)
        record["env_steps"] = 1
    elif key["measure"] == "scaling":
        record = _time_scaling(int(key["num_sequences"]), int(key["num_events"]), settings)
        record["env_steps"] = 1
    else:
        record = _time_alignment(key["scoring_form"], int(key["num_sequences"]), int(key["num_events"]), settings)
        record["env_steps"] = 1
    return {**record, "seconds": round(time.perf_counter() - started, 2)}


def _field(name: str) -> Callable[[Any], float | None]:
    return lambda run: run.get(name)


def _caption(sources: list[dict[str, Any]]) -> str:
    first = sources[0]
    steps = f"{first['steps']:,} env steps" if "steps" in first else "--steps env steps"
    repeats = f"{first['repeats']} repeats" if "repeats" in first else "--repeats repeats"
    return (
        f"Medians: wrapper over {steps} per configuration, alignment over {repeats} "
        "(ours and ClustalW interleaved); SP: sum-of-pairs score."
    )


def _machine(results: ResultFile, rows: list[dict[str, Any]]) -> str:
    """Which DP loop ours used and whether ClustalW ran, from the runs (or the settings
    an earlier layout recorded)."""
    alignment = [run for run in results.runs if run.get("measure") == "alignment"]
    if not alignment:
        return _scaling_notes(results, "No alignment timings.")
    compiled = {run["compiled_dp"] for run in alignment if "compiled_dp" in run}
    compiled |= {source["numba_compiled_dp"] for source in source_settings(results.settings) if "numba_compiled_dp" in source}
    if compiled == {True}:
        loop = "the numba-compiled DP loop"
    elif compiled == {False}:
        loop = "the numpy DP loop (numba not installed)"
    else:
        loop = "DP loop not recorded" if not compiled else "the compiled loop in some runs, the numpy one in others"
    clustal = "ClustalW with an NJ guide tree" if any("clustalw_seconds" in run for run in alignment) else "ClustalW not on PATH"
    if any("clustalo_seconds" in run for run in results.runs):
        clustal += "; Clustal Omega (one thread, its own protein scoring; SP under ours)"
    return _scaling_notes(results, f"Ours: {loop}; {clustal}.")


def _scaling_notes(results: ResultFile, text: str) -> str:
    """``text`` and the log-log slope of the scaling timings at each number of events."""
    for length in sorted({run["num_events"] for run in results.runs if run.get("measure") == "scaling"}):
        slope = scaling_exponent(results.runs, length)
        if slope is not None:
            text += f" Scaling at {length} events: time ~ demonstrations^{slope:.2f} (log-log least squares)."
    return text


def _draw(results: ResultFile, rows: list[dict[str, Any]], path: str) -> None:
    """Time against demonstrations, log-log: the k-mer path, the exact path, ClustalW, Clustal Omega."""
    runs = [run for run in results.runs if run.get("measure") == "scaling"]
    if not runs:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for length, (field, label) in itertools.product(sorted({run["num_events"] for run in runs}), (("kmer_seconds", "ours, k-mer tree"), ("exact_seconds", "ours, exact tree"), ("clustalw_seconds", "ClustalW"), ("clustalo_seconds", "Clustal Omega"))):
        points = sorted((run["num_sequences"], run[field]) for run in runs if run["num_events"] == length and field in run)
        if points:
            axes.plot(*zip(*points), marker="o", label=f"{label}, {length} events")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("demonstrations")
    axes.set_ylabel("alignment time (s)")
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


CORE = Benchmark(
    name="core",
    script="scripts/bench_core.py",
    description=__doc__ or "",
    settings=CoreSettings,
    jobs=core_jobs,
    run=run_core,
    group_by=_KEY,
    metrics=(
        Metric("env step (us)", _field("env_step_us"), decimals=2),
        Metric("wrapped step (us)", _field("wrapped_step_us"), decimals=2),
        Metric("added (us)", _field("added_us"), decimals=2),
        Metric("ours (s)", _field("ours_seconds"), decimals=3),
        Metric("ClustalW (s)", _field("clustalw_seconds"), decimals=3),
        Metric("ours / ClustalW time", _field("time_ratio_ours_to_clustalw"), decimals=2),
        Metric("Clustal Omega (s)", _field("clustalo_seconds"), decimals=3),
        Metric("ours / Clustal Omega time", _field("time_ratio_ours_to_clustalo"), decimals=2),
        Metric("ours SP", _field("ours_sum_of_pairs"), decimals=1),
        Metric("ClustalW SP", _field("clustalw_sum_of_pairs"), decimals=1),
        Metric("Clustal Omega SP", _field("clustalo_sum_of_pairs"), decimals=1),
        Metric("ours profile-align (s)", _field("ours_profile_alignment_seconds"), decimals=4),
        Metric("ClustalW profile-align (s)", _field("clustalw_profile_alignment_seconds"), decimals=4),
        Metric("under load: ours (s)", _field("ours_loaded_seconds"), decimals=3),
        Metric("under load: ClustalW (s)", _field("clustalw_loaded_seconds"), decimals=3),
        Metric("under load: ours / ClustalW", _field("loaded_ratio_ours_to_clustalw"), decimals=2),
        Metric("under load: Clustal Omega (s)", _field("clustalo_loaded_seconds"), decimals=3),
        Metric("under load: ours / Clustal Omega", _field("loaded_ratio_ours_to_clustalo"), decimals=2),
        Metric("per-env wrappers added (us)", _field("per_env_added_us"), decimals=2),
        Metric("vectorised added (us)", _field("vector_added_us"), decimals=2),
        Metric("k-mer path (s)", _field("kmer_seconds"), decimals=2),
        Metric("k-mer SP / pair", _field("kmer_sp_per_pair"), decimals=1),
        Metric("exact (s)", _field("exact_seconds"), decimals=2),
        Metric("exact SP / pair", _field("exact_sp_per_pair"), decimals=1),
        Metric("k-mer / exact SP", _field("sp_ratio_kmer_to_exact"), decimals=4),
        Metric("ClustalW SP / pair", _field("clustalw_sp_per_pair"), decimals=1),
        Metric("Clustal Omega SP / pair", _field("clustalo_sp_per_pair"), decimals=1),
        Metric("fit (s)", _field("fit_seconds"), decimals=2),
        Metric("events", _field("encoder_events"), decimals=0),
    ),
    caption=_caption,
    notes=_machine,
    sections="measure",
    names={
        "wrapper": "(a) Wrapper overhead per env step (median, microseconds)",
        "alignment": "(b, c) Multiple alignment (median seconds) and sum-of-pairs score, ours beside ClustalW and Clustal Omega",
        "vector": "(d) Vectorised wrapper: microseconds added per env step (median), beside one wrapper per env",
        "scaling": "(e) Large alignments: the k-mer path beside the exact path (no refinement), ClustalW and Clustal Omega",
        "encoders": "(f) Event encoders: fit time (median seconds) on synthetic demonstrations",
    },
    draw=_draw,
    axes=("measures", "profile_lengths", "event_every", "forms", "demos", "events", "vector_envs", "scaling", "scaling_demos", "scaling_events"),
    uses_demonstrations=False,
)
