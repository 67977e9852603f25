"""Issue 16, item 5: every loader, fed random or mutated bytes of a valid file, ends in a
library error (``rudder.errors``) or loads; never another exception.

Targets: episodes ``.npz``, alignment model directories (``model.json``, ``arrays.npz``),
RUDDER LSTM directories (``config.json``, ``model.pt``), PPO checkpoints
(``checkpoint.json``, ``policy.pt``, ``optimizer.pt``, ``normalization.npz``), VPT
``.jsonl`` logs and MineRL trajectory folders (``rendered.npz``, ``metadata.json``).
Mutations: random bytes, truncation, byte flips, splices, JSON values replaced by hostile
ones (NaN, huge numbers, wrong types, deep nesting), and ``.npz`` arrays replaced by
hostile ones (NaN, empty, wrong dtype or shape, huge declared shapes, pickled objects).
The default run tries 1,100 cases; ``-m slow`` twenty times as many. Every case is also held
to an allocation bound: the peak of the memory that Python and numpy allocate while one
damaged file is loaded (``tracemalloc``) stays below :data:`ALLOCATION_BOUND`, far below
what the hostile declared sizes (up to 1e12 entries) would take, so every declared size
is checked before anything is allocated. Each test records its largest peak in
:data:`PEAKS`.
"""

from __future__ import annotations

import importlib.util
import io
import json
import struct
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rudder import Episode, load_episodes, save_episodes
from rudder.data.minerl import load_minerl_trajectory
from rudder.data.vpt import load_vpt_episode
from rudder.errors import RudderError
from rudder.events import StateClusterEncoder
from rudder.redistribution import AlignmentRedistributor, LSTMRedistributor, load_redistributor

HOSTILE_VALUES = [None, True, -1, 0, 2**63, 10**400, 1e308, -1e308, 1e-320, float("nan"), float("inf"),
                  "", "x" * 300, [], {}, [1, [2, [3]]], {"type": "Discrete", "n": 10**8}, "Infinity"]


def hostile_arrays():
    return st.sampled_from([
        np.array([]), np.array(np.nan), np.array([np.nan, 1.0]), np.array([np.inf]), np.array(["text"]),
        np.array([True]), np.array([2**62, -(2**62)]), np.zeros((2, 0, 3)), np.zeros((3, 3, 3)),
        np.array([1.5, -7.0]), np.array(3), np.array([[1, 2], [3, 4]], dtype=np.int8), np.array([1 + 2j]),
        np.array([object()], dtype=object), np.array([10**8]), np.array([-5]),
    ])


def npy_claiming(shape):
    """A .npy member whose header claims ``shape`` of float64 but holds 16 bytes."""
    header = repr({"descr": "<f8", "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(16)


@st.composite
def mutated(draw, original: bytes, name: str):
    """Bytes of a damaged version of the file ``name`` whose valid contents are ``original``."""
    kinds = ["random", "truncate", "flip", "splice"]
    if name.endswith((".json", ".jsonl")):
        kinds += ["json", "json"]
    if name.endswith(".npz"):
        kinds += ["npz", "npz", "npz_header"]
    kind = draw(st.sampled_from(kinds))
    if kind == "random":
        return draw(st.binary(max_size=600))
    if kind == "truncate":
        return original[: draw(st.integers(0, max(0, len(original) - 1)))]
    if kind == "flip":
        data = bytearray(original)
        for _ in range(draw(st.integers(1, 8))):
            if data:
                data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
        return bytes(data)
    if kind == "splice":
        at = draw(st.integers(0, len(original)))
        return original[:at] + draw(st.binary(min_size=1, max_size=64)) + original[at:]
    if kind == "json":
        text = original.decode()
        lines = (text.splitlines() if name.endswith(".jsonl") else [text]) or ["{}"]
        row = draw(st.integers(0, len(lines) - 1))
        record = json.loads(lines[row])
        mutate_json(draw, record)
        text = json.dumps(record) if draw(st.integers(0, 9)) else "[" * 100_000 + "]" * 100_000
        lines[row] = text
        return "\n".join(lines).encode()
    with np.load(io.BytesIO(original), allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    key = draw(st.sampled_from(sorted(arrays)))
    if kind == "npz_header":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for other, value in arrays.items():
                if other != key:
                    with archive.open(other + ".npy", "w") as member:
                        np.lib.format.write_array(member, value)
            archive.writestr(key + ".npy", npy_claiming(draw(st.sampled_from([(10**12,), (2**40, 2**30), (3,), (0,)]))))
        return buffer.getvalue()
    if draw(st.booleans()):
        arrays[key] = draw(hostile_arrays())
    else:
        del arrays[key]
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=True, **arrays)
    return buffer.getvalue()


def mutate_json(draw, record):
    """Replaces one value somewhere inside ``record`` (in place) by a hostile one."""
    node = record
    for _ in range(draw(st.integers(0, 4))):
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
        children = [(key, value) for key, value in children if isinstance(value, (dict, list)) and value]
        if not children:
            break
        node = draw(st.sampled_from(children))[1]
    if isinstance(node, dict) and node:
        node[draw(st.sampled_from(sorted(node)))] = draw(st.sampled_from(HOSTILE_VALUES))
    elif isinstance(node, list) and node:
        node[draw(st.integers(0, len(node) - 1))] = draw(st.sampled_from(HOSTILE_VALUES))
    elif isinstance(node, dict):
        node["surprise"] = draw(st.sampled_from(HOSTILE_VALUES))


#: The most memory one load of a damaged file may allocate (the valid files are a few KB).
ALLOCATION_BOUND = 64 * 2**20
#: The largest allocation peak seen per target, in bytes.
PEAKS: dict[str, int] = {}


class Target:
    """A valid saved thing (directory ``root``) and the loader to feed its damaged copies."""

    def __init__(self, root: Path, load, files):
        self.root, self.load = root, load
        self.files = {name: (root / name).read_bytes() for name in files}

    def check(self, name: str, data: bytes) -> int:
        """Loads the damaged ``name``; returns the peak bytes allocated meanwhile."""
        (self.root / name).write_bytes(data)
        tracemalloc.start()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.load(self.root)
        except RudderError:
            pass
        except RecursionError:  # pragma: no cover - reported as a failure below
            raise AssertionError(f"{name}: RecursionError escaped") from None
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            (self.root / name).write_bytes(self.files[name])
        assert peak <= ALLOCATION_BOUND, f"{name}: loading a damaged file allocated {peak:,} bytes"
        return peak


def demonstration(final_reward=1.0):
    return Episode(observations=np.array([0, 1, 2, 3]), actions=np.zeros(3, dtype=int),
                   rewards=np.array([0.0, 0.0, final_reward]), terminated=True, infos={"x": np.arange(3)})


def _minerl_files():
    spec = importlib.util.spec_from_file_location("minerl_files", Path(__file__).parents[1] / "data" / "minerl_files.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("minerl_files", module)
    spec.loader.exec_module(module)
    return module


def _checkpoint_target(root: Path) -> Target:
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    from rudder.agents.sb3 import (
        PPOSettings,
        load_checkpoint,
        load_normalization,
        make_ppo,
        save_checkpoint,
    )
    from rudder.agents.sb3.checkpoints import read_checkpoint_record

    small = PPOSettings(n_steps=16, batch_size=16, n_epochs=1, net_arch=(8,))
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")]))
    save_checkpoint(root, make_ppo(venv, small, seed=0), small, normalization=venv, seed=0)

    def load(path):
        read_checkpoint_record(path)
        load_normalization(path, venv.venv)
        load_checkpoint(path, venv)

    return Target(root, load, ["checkpoint.json", "policy.pt", "optimizer.pt", "normalization.npz"])


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    save_episodes(root / "episodes" / "episodes.npz", [demonstration(), demonstration(2.0)])
    from rudder.envs import frozen_lake_demonstrations

    AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(frozen_lake_demonstrations(3, seed=0)).save(root / "model")
    LSTMRedistributor(gym.spaces.Discrete(4), gym.spaces.Box(-1, 1, (2,)), hidden_size=4).save(root / "lstm")
    (root / "vpt").mkdir()
    line = {"inventory": [{"type": "oak_log", "quantity": 1}], "keyboard": {"keys": ["key.keyboard.w"]},
            "mouse": {"dx": 1.0, "dy": -2.0, "buttons": [0]}, "isGuiOpen": False}
    (root / "vpt" / "episode.jsonl").write_text("\n".join(json.dumps(line) for _ in range(4)) + "\n")
    minerl = _minerl_files().write_trajectory(root / "minerl" / "v3_a")
    return {
        "episodes": Target(root / "episodes", lambda path: load_episodes(path / "episodes.npz"), ["episodes.npz"]),
        "model": Target(root / "model", load_redistributor, ["model.json", "arrays.npz"]),
        "lstm": Target(root / "lstm", LSTMRedistributor.load, ["config.json", "model.pt"]),
        "vpt": Target(root / "vpt", lambda path: load_vpt_episode(path / "episode.jsonl"), ["episode.jsonl"]),
        "minerl": Target(minerl, load_minerl_trajectory, ["rendered.npz", "metadata.json"]),
        "checkpoint": _checkpoint_target(root / "checkpoint"),
    }


CASES = {"episodes": 200, "model": 200, "lstm": 200, "vpt": 200, "minerl": 200, "checkpoint": 100}


def fuzz(targets, which, data):
    target = targets[which]
    name = data.draw(st.sampled_from(sorted(target.files)))
    peak = target.check(name, data.draw(mutated(target.files[name], name)))
    PEAKS[which] = max(PEAKS.get(which, 0), peak)


@pytest.mark.parametrize("which", sorted(CASES))
def test_damaged_files_end_in_a_library_error(targets, which):
    run = settings(max_examples=CASES[which], deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))(given(data=st.data())(lambda data: fuzz(targets, which, data)))
    run()


@pytest.mark.slow
@pytest.mark.parametrize("which", sorted(CASES))
def test_damaged_files_end_in_a_library_error_many(targets, which):
    run = settings(max_examples=CASES[which] * 20, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))(given(data=st.data())(lambda data: fuzz(targets, which, data)))
    run()
