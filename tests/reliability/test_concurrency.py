"""Issue 16, item 7: several processes saving one model path while others load it.

Every save succeeds (the last complete one wins, none fails because of another), every
load sees one complete model (one of those saved, never a mix or a missing directory),
and nothing but the model's own files is left afterwards.

The default run forks its workers (spawned ones import torch again, seconds each on a
busy machine); the slow run spawns them, more of them, with more saves.
"""

from __future__ import annotations

import multiprocessing
import time
import traceback

import numpy as np
import pytest

from rudder._files import MARKER_FILE
from rudder.envs import frozen_lake_demonstrations
from rudder.events import StateClusterEncoder
from rudder.redistribution import AlignmentRedistributor, load_redistributor


def _writer(sources, target, saves, seed, results):
    try:
        models = [load_redistributor(source) for source in sources]
        rng = np.random.default_rng(seed)
        failures = 0
        for _ in range(saves):
            try:
                models[int(rng.integers(len(models)))].save(target)
            except Exception:  # noqa: BLE001 - counted, then reported
                failures += 1
                traceback.print_exc()
        results.put(("save", saves, failures))
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        results.put(("save", saves, saves))


def _reader(target, scales, stop, results):
    loads = failures = 0
    while not stop.is_set() or loads < 3:
        try:
            model = load_redistributor(target)
            if model.scale not in scales or model.aligned_demos.shape[0] != model.alignment.rows.shape[0]:
                failures += 1
        except Exception:  # noqa: BLE001 - counted, then reported
            failures += 1
            traceback.print_exc()
        loads += 1
    results.put(("load", loads, failures))


def run_concurrently(tmp_path, *, method, writers, saves, readers):
    """Runs ``writers`` processes saving ``saves`` times each to one path while
    ``readers`` processes load it; returns (saves, failed saves, loads, failed loads)."""
    sources = []
    for number, episodes in enumerate((3, 5)):
        source = tmp_path / f"source-{number}"
        AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(frozen_lake_demonstrations(episodes, seed=number)).save(source)
        sources.append(source)
    scales = {load_redistributor(source).scale for source in sources}
    assert len(scales) == 2
    target = tmp_path / "shared" / "model"
    load_redistributor(sources[0]).save(target)
    context = multiprocessing.get_context(method)
    results, stop = context.Queue(), context.Event()
    reading = [context.Process(target=_reader, args=(target, scales, stop, results)) for _ in range(readers)]
    writing = [context.Process(target=_writer, args=(sources, target, saves, seed, results)) for seed in range(writers)]
    for process in reading + writing:
        process.start()
    totals = {"save": [0, 0], "load": [0, 0]}
    for _ in writing:
        kind, count, failed = results.get(timeout=300)
        totals[kind][0] += count
        totals[kind][1] += failed
    stop.set()
    for _ in reading:
        kind, count, failed = results.get(timeout=300)
        totals[kind][0] += count
        totals[kind][1] += failed
    for process in reading + writing:
        process.join(60)
        assert process.exitcode == 0
    assert sorted(entry.name for entry in target.iterdir()) == [MARKER_FILE, "arrays.npz", "model.json"]
    assert sorted(entry.name for entry in target.parent.iterdir()) == ["model"]
    assert load_redistributor(target).scale in scales
    return totals["save"][0], totals["save"][1], totals["load"][0], totals["load"][1]


def test_concurrent_saves_and_loads_of_one_model_never_fail(tmp_path):
    start = time.perf_counter()
    saves, failed_saves, loads, failed_loads = run_concurrently(tmp_path, method="fork", writers=3, saves=15, readers=2)
    assert (saves, failed_saves, failed_loads) == (45, 0, 0)
    assert loads >= 6
    print(f"fork: 3 writers x 15 saves, 2 readers: {loads} loads, 0 failed, {time.perf_counter() - start:.1f} s")


@pytest.mark.slow
def test_concurrent_saves_and_loads_of_one_model_never_fail_spawned(tmp_path):
    saves, failed_saves, loads, failed_loads = run_concurrently(tmp_path, method="spawn", writers=4, saves=250, readers=3)
    assert (saves, failed_saves, failed_loads) == (1000, 0, 0)
    assert loads >= 9
    print(f"spawn: 4 writers x 250 saves, 3 readers: {loads} loads, 0 failed")
