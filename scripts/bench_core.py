"""Benchmark of the core library: wrapper overhead, alignment time, ClustalW beside ours.

    python scripts/bench_core.py --out benchmarks/results/core.json

(a) microseconds per env step that ``RedistributedReward`` adds on a cheap env, for
    profile lengths 16, 64 and 256, with an event on every step (the worst case) and on
    every 10th step;
(b) multiple-alignment time for 10 and 100 demonstrations of 50 and 200 events;
(c) where ``clustalw`` is on PATH (Debian package), ClustalW (NJ) on the same inputs
    and one profile alignment, timed beside ours, with both sum-of-pairs scores.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import platform
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import gymnasium as gym
import numpy as np

from rudder.alignment import (
    ScoringScheme,
    _dp,
    align_sequences,
    align_to_profile,
    event_frequencies,
)
from rudder.alignment.clustalw import clustalw_align, clustalw_available, clustalw_profile_align
from rudder.data import Episode
from rudder.events import CallableEventEncoder
from rudder.redistribution import AlignmentRedistributor
from rudder.wrappers import RedistributedReward


@dataclasses.dataclass
class Args:
    """Command-line arguments."""

    out: str | None = None
    """Write the results as JSON to this file."""
    steps: int = 20000
    """Env steps timed per wrapper configuration."""
    repeats: int = 7
    """Repetitions of each alignment timing (the median is reported)."""
    seed: int = 0
    """Seed of the synthetic sequences."""


class CountingEnv(gym.Env):
    """A cheap env: observation = step counter modulo `period`, never terminates."""

    def __init__(self, period: int = 1_000_000) -> None:
        self.observation_space = gym.spaces.Discrete(period)
        self.action_space = gym.spaces.Discrete(2)
        self.period = period
        self.count = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.count = 0
        return 0, {}

    def step(self, action):
        self.count += 1
        return self.count % self.period, 0.0, False, False, {}


def event_every(period: int, num_events: int):
    """Event function: an event on every `period`-th step, cycling through the alphabet."""

    def events(observation, action, next_observation, info):
        if next_observation % period:
            return None
        return (next_observation // period) % num_events

    return events


def fitted_redistributor(profile_length: int, period: int, num_events: int = 20) -> AlignmentRedistributor:
    steps = profile_length * period
    demo = Episode(
        observations=np.arange(steps + 1),
        actions=np.zeros(steps, dtype=np.int64),
        rewards=np.r_[np.zeros(steps - 1), 1.0],
        terminated=True,
    )
    encoder = CallableEventEncoder(event_every(period, num_events), collapse_repeats=False)
    return AlignmentRedistributor(encoder).fit([demo, demo])


def time_steps(env: gym.Env, steps: int) -> np.ndarray:
    env.reset(seed=0)
    durations = np.empty(steps)
    clock = time.perf_counter_ns
    for index in range(steps):
        start = clock()
        env.step(0)
        durations[index] = clock() - start
    return durations / 1000.0


def bench_wrapper(args: Args) -> list[dict]:
    rows = []
    for period in (1, 10):
        for profile_length in (16, 64, 256):
            redistributor = fitted_redistributor(profile_length, period)
            raw = np.median(time_steps(CountingEnv(), args.steps))
            wrapped = np.median(time_steps(RedistributedReward(CountingEnv(), redistributor), args.steps))
            rows.append(
                {
                    "profile_length": redistributor.profile.length,
                    "event_every_steps": period,
                    "env_step_us": float(raw),
                    "wrapped_step_us": float(wrapped),
                    "added_us": float(wrapped - raw),
                }
            )
    return rows


def synthetic_demonstrations(count: int, length: int, rng: np.random.Generator, num_events: int = 15):
    """Event sequences with shared structure: a common chain with skips, repeats, noise."""
    chain = rng.integers(0, num_events, size=length)
    sequences = []
    for _ in range(count):
        keep = rng.random(length) > 0.1
        sequence = chain[keep]
        noise = rng.random(sequence.size) < 0.1
        sequence = np.where(noise, rng.integers(0, num_events, size=sequence.size), sequence)
        sequences.append(sequence.astype(np.int64))
    return sequences


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def median_seconds(function, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_alignment(args: Args) -> list[dict]:
    rows = []
    have_clustalw = clustalw_available()
    for form, count, length in itertools.product(("paper", "official"), (10, 100), (50, 200)):
        rng = np.random.default_rng(args.seed)
        sequences = synthetic_demonstrations(count, length, rng)
        query = synthetic_demonstrations(1, length, rng)[0]
        scoring = ScoringScheme.from_frequencies(event_frequencies(sequences, 15), form=form)
        ours_times, clustal_times = [], []
        ours = clustal = None
        for _ in range(args.repeats):
            # Interleaved, so that both see the same load on a shared machine.
            seconds, ours = timed(partial(align_sequences, sequences, scoring))
            ours_times.append(seconds)
            if have_clustalw:
                seconds, clustal = timed(partial(clustalw_align, sequences, scoring))
                clustal_times.append(seconds)
        ours_profile_time, _ = median_seconds(partial(align_to_profile, ours, query, scoring), args.repeats)
        row = {
            "scoring_form": form,
            "num_sequences": count,
            "num_events": length,
            "ours_seconds": statistics.median(ours_times),
            "ours_sum_of_pairs": float(ours.sum_of_pairs(scoring)),
            "ours_columns": ours.length,
            "ours_profile_alignment_seconds": ours_profile_time,
        }
        if have_clustalw:
            clustal_profile_time, _ = median_seconds(
                partial(clustalw_profile_align, ours, query, scoring), args.repeats
            )
            row.update(
                {
                    "clustalw_seconds": statistics.median(clustal_times),
                    "clustalw_sum_of_pairs": float(clustal.sum_of_pairs(scoring)),
                    "clustalw_columns": clustal.length,
                    "clustalw_profile_alignment_seconds": clustal_profile_time,
                    "time_ratio_ours_to_clustalw": statistics.median(
                        [a / b for a, b in zip(ours_times, clustal_times)]
                    ),
                }
            )
        rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for field in dataclasses.fields(Args):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default) if field.default is not None else str, default=field.default)
    args = Args(**vars(parser.parse_args(argv)))

    wrapper_rows = bench_wrapper(args)
    print("(a) Wrapper overhead per env step (median, microseconds)")
    print("| profile length | event every | env step | wrapped step | added |")
    print("|---:|---:|---:|---:|---:|")
    for row in wrapper_rows:
        print(
            f"| {row['profile_length']} | {row['event_every_steps']} | {row['env_step_us']:.2f} | "
            f"{row['wrapped_step_us']:.2f} | {row['added_us']:.2f} |"
        )
    nan = math.nan
    # Compile the optional numba loop before timing (its first call compiles it).
    align_sequences([np.array([0, 1, 2]), np.array([0, 2])], ScoringScheme.from_frequencies(np.full(3, 1 / 3)))
    alignment_rows = bench_alignment(args)
    print()
    compiled = "numba-compiled DP loop" if _dp.fill_block_compiled is not None else "numpy DP loop (numba not installed)"
    print(f"(b, c) Multiple alignment (median seconds) and sum-of-pairs score; ClustalW with NJ; ours: {compiled}")
    print("| scoring | demos | events | ours s | ClustalW s | time ratio ours/ClustalW | ours SP | ClustalW SP | ours profile-align s | ClustalW profile-align s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in alignment_rows:
        print(
            f"| {row['scoring_form']} | {row['num_sequences']} | {row['num_events']} | "
            f"{row['ours_seconds']:.3f} | {row.get('clustalw_seconds', nan):.3f} | "
            f"{row.get('time_ratio_ours_to_clustalw', nan):.2f} | {row['ours_sum_of_pairs']:.1f} | "
            f"{row.get('clustalw_sum_of_pairs', nan):.1f} | {row['ours_profile_alignment_seconds']:.4f} | "
            f"{row.get('clustalw_profile_alignment_seconds', nan):.4f} |"
        )
    if args.out:
        result = {
            "command": "python scripts/bench_core.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "machine": {"python": platform.python_version(), "platform": platform.platform()},
            "clustalw_available": clustalw_available(),
            "numba_compiled_dp": _dp.fill_block_compiled is not None,
            "wrapper": wrapper_rows,
            "alignment": alignment_rows,
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nWrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
