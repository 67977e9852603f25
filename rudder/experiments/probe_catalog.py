"""The catalogue of reliability probes (issue 16), in its twelve categories.

Each probe builds what it needs in its own empty folder from a few valid artefacts (a
fitted alignment model, a fitted LSTM model, an episodes file, a VPT log, a MineRL
trajectory), which :class:`Kit` makes once per worker with the tree under test, and then
uses only the public API and the ``rudder`` command. Many probes are generated: every
loader with every kind of damage, every saver with every kind of destination, every
umask with every saver. The runner and the classification are in
:mod:`rudder.experiments.probes`; nothing of ``rudder`` is imported at the top, so the
same catalogue probes an older tree.
"""

from __future__ import annotations

import functools
import io
import json
import math
import multiprocessing
import os
import shutil
import signal
import stat
import struct
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rudder.experiments.probes import (
    CATEGORIES,
    CLEAR,
    CRASH,
    LOSS,
    OK,
    WRONG,
    Probe,
    Result,
    changed,
    classify_exception,
    command_or_raise,
    debris,
    expect_refusal,
    expect_value,
    judge_command,
    rudder_command,
    snapshot,
)

__all__ = ["Kit", "catalog"]

SAVES, VALUES, EMPTY, COMMANDS, LOADERS, SIZES, CONCURRENT, LINKS, COUNTS, RETURNS, UMASK, SMALLER = CATEGORIES
ITEMS = ("log", "planks", "stick", "crafting_table")


# -- the valid artefacts -----------------------------------------------------------------------
def vpt_line(inventory: dict[str, Any], *, forward: bool = False) -> str:
    """One frame of a VPT/BASALT ``.jsonl`` log."""
    return json.dumps({
        "mouse": {"x": 640.0, "y": 360.0, "dx": 1.0, "dy": 0.0, "buttons": [0]},
        "keyboard": {"keys": ["key.keyboard.w"] if forward else [], "newKeys": [], "chars": ""},
        "isGuiOpen": False,
        "inventory": [{"type": item, "quantity": count} for item, count in inventory.items()],
        "tick": 0,
    })


def write_minerl(folder: Path, *, counts: dict[str, Any] | None = None, rewards: Any = None) -> Path:
    """A MineRL v0.4 trajectory folder (``rendered.npz``, ``metadata.json``) of 4 states."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {"log": [0, 1, 2, 2], "planks": [0, 0, 0, 4]} if counts is None else counts
    states = len(next(iter(counts.values())))
    steps = states - 1
    rewards = np.array([1.0, 0.0, 2.0, 0.0][:steps] if rewards is None else rewards, np.float32)
    arrays = {
        "reward": rewards,
        **{f"observation$inventory${item}": np.asarray(values) for item, values in counts.items()},
        "observation$equipped_items.mainhand.type": np.array(["none"] * states, dtype="<U4"),
        "observation$equipped_items.mainhand.damage": np.zeros(states, np.int64),
        "observation$equipped_items.mainhand.maxDamage": np.full(states, 59, np.int64),
        "action$forward": np.ones(steps, np.int64),
        "action$attack": np.ones(steps, np.int64),
        "action$camera": np.zeros((steps, 2), np.float32),
        "action$craft": np.array(["none"] * steps, dtype="<U4"),
        "action$place": np.array(["none"] * steps, dtype="<U4"),
    }
    np.savez_compressed(folder / "rendered.npz", **arrays)
    metadata = {"success": True, "duration_ms": 50 * steps, "duration_steps": steps,
                "total_reward": float(np.sum(rewards)), "stream_name": folder.name,
                "true_video_frame_count": states + 3}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


class Kit:
    """The valid artefacts every probe starts from, made once per worker by the tree under
    test: fitted models, demonstrations and their files."""

    def __init__(self) -> None:
        self._objects: dict[str, Any] = {}
        self._root: Path | None = None

    def _cached(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._objects:
            self._objects[name] = make()
        return self._objects[name]

    def demos(self) -> list[Any]:
        """Four FrozenLake 8x8 demonstrations (Discrete(64) observations, Discrete(4) actions)."""
        from rudder.envs import frozen_lake_demonstrations

        return self._cached("demos", lambda: frozen_lake_demonstrations(4, seed=0))

    def model(self) -> Any:
        """An alignment redistributor fitted on :meth:`demos`."""
        from rudder import AlignmentRedistributor, StateClusterEncoder

        return self._cached("model", lambda: AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(self.demos()))

    def lstm(self) -> Any:
        """A small LSTM redistributor, two epochs on :meth:`demos` and on the same
        episodes with no reward (the LSTM needs returns that vary)."""
        import gymnasium as gym

        from rudder.redistribution import LSTMRedistributor

        def make() -> Any:
            model = LSTMRedistributor(gym.spaces.Discrete(64), gym.spaces.Discrete(4), hidden_size=4)
            failures = [episode(demo.observations, np.zeros(demo.length)) for demo in self.demos()]
            return model.fit([*self.demos(), *failures], epochs=2)

        return self._cached("lstm", make)

    def inventory_model(self) -> Any:
        """An alignment redistributor with an :class:`InventoryEncoder` fitted on five
        crafting episodes."""
        from rudder import AlignmentRedistributor, InventoryEncoder

        return self._cached("inventory", lambda: AlignmentRedistributor(InventoryEncoder()).fit(
            [inventory_episode([[0, 0, 0, 0], [1, 0, 0, 0], [1, 4, 0, 0], [1, 2, 4, 0], [1, 2, 4, 1]][: 3 + k % 3])
             for k in range(5)]))

    def root(self) -> Path:
        """The folder of the saved artefacts (made on first use)."""
        if self._root is None:
            import tempfile

            from rudder import save_episodes

            root = Path(tempfile.mkdtemp(prefix="kit-", dir=os.environ.get("RUDDER_PROBES_SCRATCH")))
            self.model().save(root / "model")
            self.lstm().save(root / "lstm")
            save_episodes(root / "episodes.npz", self.demos())
            lines = [{}, {"oak_log": 1}, {"oak_log": 2}, {"oak_log": 1, "oak_planks": 4}, {"oak_planks": 4, "stick": 4}]
            (root / "vpt").mkdir()
            (root / "vpt" / "play.jsonl").write_text("\n".join(vpt_line(line, forward=True) for line in lines) + "\n")
            for index in range(3):
                write_minerl(root / "minerl" / "MineRLObtainDiamond-v0" / f"v3_trajectory_{index}")
            self._root = root
        return self._root

    def copy(self, name: str, destination: Path) -> Path:
        """A copy of the saved artefact ``name`` (``model``, ``lstm``, ``episodes.npz``,
        ``vpt``, ``minerl``) at ``destination``."""
        source = self.root() / name
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copyfile(source, destination)
        return destination


KIT = Kit()


def inventory_episode(rows: Any, *, rewards: Any = None) -> Any:
    """An episode with dict observations ``inventory/<item>`` (one row of counts per state)."""
    from rudder import Episode

    counts = np.array(rows, dtype=np.float64)
    if np.all(np.isfinite(counts)) and np.all(counts == np.round(counts)) and np.all(np.abs(counts) < 2**62):
        counts = counts.astype(np.int64)
    steps = len(rows) - 1
    observations = {f"inventory/{item}": counts[:, i] for i, item in enumerate(ITEMS)}
    rewards = np.r_[np.zeros(steps - 1), 1.0] if rewards is None else rewards
    return Episode(observations=observations, actions=np.zeros(steps, np.int64), rewards=rewards, terminated=True)


def episode(observations: Any, rewards: Any, *, terminated: bool = True) -> Any:
    """An episode with integer observations (FrozenLake states) and zero actions."""
    from rudder import Episode

    rewards = np.asarray(rewards, dtype=np.float64)
    return Episode(observations=np.asarray(observations), actions=np.zeros(len(rewards), np.int64),
                   rewards=rewards, terminated=terminated)


def load_any(path: Path) -> Any:
    from rudder import load_redistributor

    return load_redistributor(path)


def same_rewards(model: Any, reference: Any) -> str | None:
    """None when ``model`` redistributes the first demonstration as ``reference`` does."""
    demo = KIT.demos()[0]
    ours, theirs = np.asarray(model.redistribute(demo)), np.asarray(reference.redistribute(demo))
    if not np.all(np.isfinite(ours)):
        return f"non-finite rewards {ours[:4]}"
    return None if ours.shape == theirs.shape and np.allclose(ours, theirs) else "different rewards"


# -- file surgery ----------------------------------------------------------------------------
def npz_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def rewrite_npz(path: Path, change: Callable[[dict[str, np.ndarray]], Any]) -> None:
    arrays = npz_arrays(path)
    change(arrays)
    savez: Any = np.savez
    with open(path, "wb") as file:
        savez(file, **arrays)


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """A version 1.0 ``.npy`` header declaring ``shape``, then 16 bytes of data."""
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(16)


def replace_member(path: Path, member: str, content: bytes) -> None:
    """Rewrites the zip ``path`` with ``member`` (``NAME.npy``) replaced by ``content``."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[member] = content
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    record = json.loads(path.read_text())
    result = change(record)
    path.write_text(json.dumps(record if result is None else result))


def set_field(record: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        record = record[key]
    record[last] = value


BYTE_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda data: b"",
    "first half": lambda data: data[: len(data) // 2],
    "first 10 bytes": lambda data: data[:10],
    "random bytes": lambda data: np.random.default_rng(len(data)).bytes(len(data)),
    "byte flipped at 1/3": lambda data: flip(data, len(data) // 3),
    "garbage appended": lambda data: data + b"\x00garbage\xff" * 8,
}


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:]


# -- 1: saves that never destroy ----------------------------------------------------------------
def save_alignment(path: Path) -> None:
    KIT.model().save(path)


def save_lstm(path: Path) -> None:
    KIT.lstm().save(path)


def save_by_command(path: Path) -> None:
    KIT.copy("episodes.npz", path.parent / "demos.npz")
    command_or_raise(rudder_command(path.parent, "align", "demos.npz", "-o", path.name))


DIRECTORY_SAVERS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "AlignmentRedistributor.save": ("model.json", save_alignment),
    "LSTMRedistributor.save": ("config.json", save_lstm),
    "rudder align -o": ("model.json", save_by_command),
}


def other_kind(saver: str) -> str:
    return "model" if saver == "LSTMRedistributor.save" else "lstm"


def prepare_destination(kind: str, saver: str, path: Path) -> list[Path]:
    """Makes the destination ``kind`` at ``path``; returns the user's files to keep."""
    record, save = DIRECTORY_SAVERS[saver]
    if kind == "a user's file at the path":
        path.write_text("a user's file")
        return [path]
    if kind == "debris-like user folders next to it":
        keep = [path.parent / f".{path.name}.abcdefgh.{suffix}" for suffix in ("tmp", "old")]
        for folder in keep:
            folder.mkdir()
            (folder / "keep.txt").write_text("not a model")
        return keep
    if kind == "a model of another kind":
        KIT.copy(other_kind(saver), path)
        return [path]
    if kind == "extra notes in its own model":
        save(path)
        (path / "NOTES.md").write_text("fitted on the May runs")
        return [path / "NOTES.md"]
    path.mkdir()
    files = {
        "a stray record and a user file": {record: '{"mine": true}', "thesis.tex": "years of work"},
        "only user files": {"notes.txt": "notes", "data.csv": "1,2"},
        "a stray record and a hidden user file": {record: "{}", ".env": "SECRET=1"},
        "a stray record and a user subfolder": {record: "{}", "runs/log.txt": "run 1"},
    }[kind]
    for name, text in files.items():
        (path / name).parent.mkdir(exist_ok=True)
        (path / name).write_text(text)
    return [path / name for name in files]


DESTINATIONS = ("a stray record and a user file", "only user files", "a stray record and a hidden user file",
                "a stray record and a user subfolder", "a user's file at the path", "a model of another kind",
                "extra notes in its own model", "debris-like user folders next to it")


def probe_directory_save(saver: str, kind: str, work: Path) -> Result:
    path = work / "target"
    keep = prepare_destination(kind, saver, path)
    before = snapshot(*keep)
    try:
        DIRECTORY_SAVERS[saver][1](path)
    except Exception as error:
        loss = changed(before)
        return (LOSS, loss) if loss else classify_exception(error)
    loss = changed(before)
    if loss:
        return LOSS, loss
    left = debris(work, {"target", "demos.npz", *(p.name for p in keep)})
    if left:
        return LOSS, f"debris {left}"
    return expect_value(lambda: load_any(path), lambda model: None)


def prepare_episodes_destination(kind: str, path: Path) -> list[Path]:
    """Makes the destination ``kind`` at ``path``; returns the user's files to keep."""
    from rudder import save_episodes

    if kind == "its own episodes file":
        save_episodes(path, KIT.demos()[:1])
        return []
    if kind == "a user's text file":
        path.write_text("a user's file")
    elif kind == "a user's other npz":
        np.savez(path, weights=np.arange(3))
    elif kind == "a folder of user files":
        path.mkdir()
        (path / "a.txt").write_text("a")
    else:  # an editor's swap file
        path = path.parent / f".{path.name}.swp"
        path.write_text("mine")
    return [path]


def probe_episodes_save(kind: str, work: Path) -> Result:
    from rudder import load_episodes, save_episodes

    path = work / "episodes.npz"
    before = snapshot(*prepare_episodes_destination(kind, path))
    try:
        save_episodes(path, KIT.demos())
    except Exception as error:
        loss = changed(before)
        return (LOSS, loss) if loss else classify_exception(error)
    loss = changed(before)
    if loss:
        return LOSS, loss
    return expect_value(lambda: load_episodes(path), lambda loaded: None if len(loaded) == 4 else "wrong episodes")


def probe_generate_over(kind: str, work: Path) -> Result:
    path = work / "demos.npz"
    if kind == "a user's file":
        path.write_text("a user's file")
    else:
        path.mkdir()
        (path / "a.txt").write_text("a")
    before = snapshot(path)
    run = rudder_command(work, "demos", "generate", "rudder/FourRooms-v0", "-n", "2", "-o", "demos.npz")
    loss = changed(before)
    return (LOSS, loss) if loss else judge_command(run)


def saves() -> Iterator[Probe]:
    for saver in DIRECTORY_SAVERS:
        for kind in DESTINATIONS:
            yield Probe(SAVES, f"{saver} over {kind}", functools.partial(probe_directory_save, saver, kind), timeout=120)
    for kind in ("a user's text file", "a user's other npz", "a folder of user files",
                 "a user's swap file next to it", "its own episodes file"):
        yield Probe(SAVES, f"save_episodes over {kind}", functools.partial(probe_episodes_save, kind))
    for kind in ("a user's file", "a folder of user files"):
        yield Probe(SAVES, f"rudder demos generate -o over {kind}", functools.partial(probe_generate_over, kind), timeout=120)


# -- 2: corrupt values -------------------------------------------------------------------------
def probe_model_json(field: str, value: Any, work: Path) -> Result:
    path = KIT.copy("model", work / "model")
    edit_json(path / "model.json", lambda record: set_field(record, field, value))
    return expect_refusal(lambda: load_any(path).redistribute(KIT.demos()[0]))


def probe_model_arrays(key: str, change: Callable[[np.ndarray], np.ndarray], work: Path) -> Result:
    path = KIT.copy("model", work / "model")
    rewrite_npz(path / "arrays.npz", lambda arrays: arrays.update({key: change(arrays[key])}))
    return expect_refusal(lambda: load_any(path).redistribute(KIT.demos()[0]))


def probe_lstm_json(field: str, value: Any, work: Path) -> Result:
    path = KIT.copy("lstm", work / "lstm")
    edit_json(path / "config.json", lambda record: set_field(record, field, value))
    return expect_refusal(lambda: load_any(path).redistribute(KIT.demos()[0]))


def probe_redistribute_command(field: str, value: Any, work: Path) -> Result:
    path = KIT.copy("model", work / "model")
    KIT.copy("episodes.npz", work / "episodes.npz")
    edit_json(path / "model.json", lambda record: set_field(record, field, value))
    return judge_command(rudder_command(work, "redistribute", "model", "episodes.npz"))


def with_value(position: tuple[int, ...], value: float) -> Callable[[np.ndarray], np.ndarray]:
    """Sets one entry; an integer array stays integer when the value is an integer."""

    def change(array: np.ndarray) -> np.ndarray:
        if not (np.issubdtype(array.dtype, np.integer) and float(value).is_integer()):
            array = array.astype(np.float64)
        array[position] = value
        return array

    return change


NUMBERS = ("scale", "settings.delete_score", "settings.insert_score", "settings.pseudocount", "settings.gap_score",
           "settings.consensus_threshold", "settings.mismatch_score", "settings.env_reward_weight", "encoder.discount")
WRONG_TYPES: dict[str, list[Any]] = {"settings.correction": ["no", 1], "settings.delete_by_occupancy": ["yes"], "settings.form": ["bogus"],
               "settings.scoring_form": ["bogus"], "settings.refine_passes": [-1, 1.5], "settings.top_n": [-3],
               "settings.unknown_key": [1], "format_version": [99], "format": ["align-rudder/other"]}
ARRAY_DAMAGE: dict[str, tuple[tuple[int, ...], float]] = {"demo_returns": ((0,), math.nan), "alignment_rows": ((0, 0), 99), "aligned_demos": ((0,), 99),
                "profile_scores": ((0, 0), math.nan), "scoring_matrix": ((0, 0), math.inf),
                "background": ((0,), math.nan), "profile_column_counts": ((0, 0), -5),
                "encoder/state_clusters": ((0,), 99)}
LSTM_VALUES: dict[str, Any] = {"settings.learning_rate": math.nan, "return_scale": math.nan, "relative_error": math.inf,
               "settings.correction": "no", "settings.hidden_size": "4", "settings.cell": "bogus", "updates": -1,
               "settings.max_grad_norm": math.nan}


def corrupt_values() -> Iterator[Probe]:
    for field in NUMBERS:
        for value in (math.nan, math.inf, "0.5"):
            yield Probe(VALUES, f"model.json {field} = {value!r}", functools.partial(probe_model_json, field, value))
    for field, values in WRONG_TYPES.items():
        for value in values:
            yield Probe(VALUES, f"model.json {field} = {value!r}", functools.partial(probe_model_json, field, value))
    for key, (position, value) in ARRAY_DAMAGE.items():
        yield Probe(VALUES, f"arrays.npz {key}{list(position)} = {value}", functools.partial(probe_model_arrays, key, with_value(position, value)))
    for field, value in LSTM_VALUES.items():
        yield Probe(VALUES, f"LSTM config.json {field} = {value!r}", functools.partial(probe_lstm_json, field, value))
    for field, value in (("scale", math.nan), ("scale", math.inf), ("settings.correction", "no"), ("settings.delete_score", math.nan)):
        yield Probe(VALUES, f"rudder redistribute, model.json {field} = {value!r}", functools.partial(probe_redistribute_command, field, value))


# -- 3: zero-length episodes ---------------------------------------------------------------------
def empty_episode(terminated: bool = True) -> Any:
    return episode([0], [], terminated=terminated)


def empty_rewards(value: Any) -> str | None:
    return None if len(value) == 0 else f"{len(value)} rewards for 0 steps"


def probe_empty_save(work: Path) -> Result:
    from rudder import load_episodes, save_episodes

    save_episodes(work / "e.npz", [empty_episode(), KIT.demos()[0]])
    return expect_value(lambda: load_episodes(work / "e.npz"), lambda loaded: None if loaded[0].length == 0 else "not empty")


def probe_empty_command(work: Path) -> Result:
    from rudder import save_episodes

    KIT.copy("model", work / "model")
    save_episodes(work / "e.npz", [empty_episode()])
    return judge_command(rudder_command(work, "redistribute", "model", "e.npz"), check=lambda run: None if "nan" not in run.stdout.lower() else "NaN")


def probe_vpt_one_line(then: str, work: Path) -> Result:
    from rudder.data.vpt import load_vpt_episode

    (work / "vpt").mkdir()
    (work / "vpt" / "one.jsonl").write_text(vpt_line({"oak_log": 1}) + "\n")
    if then == "load":
        return expect_value(lambda: load_vpt_episode(work / "vpt" / "one.jsonl"), lambda e: None if e.length == 0 else "steps")
    if then == "redistribute":
        return expect_value(lambda: KIT.inventory_model().redistribute(load_vpt_episode(work / "vpt" / "one.jsonl")), empty_rewards)
    return judge_command(rudder_command(work, "align", "vpt", "-o", "model"))


def probe_fit_with_empty(which: str, work: Path) -> Result:
    from rudder import AlignmentRedistributor, StateClusterEncoder

    demos = [empty_episode(), *KIT.demos()] if which == "one empty" else [empty_episode(), empty_episode()]
    check = (lambda model: same_rewards(model, model)) if which == "one empty" else (lambda model: "fitted on nothing")
    return expect_value(lambda: AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(demos), check)


def probe_empty_minerl(work: Path) -> Result:
    from rudder.data.minerl import load_minerl_trajectory

    folder = write_minerl(work / "t", counts={"log": [0], "planks": [0]}, rewards=[])
    return expect_value(lambda: load_minerl_trajectory(folder), lambda e: None if e.length == 0 else "steps")


def zero_length() -> Iterator[Probe]:
    yield Probe(EMPTY, "alignment redistribute, finished", lambda work: expect_value(lambda: KIT.model().redistribute(empty_episode()), empty_rewards))
    yield Probe(EMPTY, "alignment redistribute, not finished", lambda work: expect_value(lambda: KIT.model().redistribute(empty_episode(False)), empty_rewards))
    yield Probe(EMPTY, "LSTM redistribute, finished", lambda work: expect_value(lambda: KIT.lstm().redistribute(empty_episode()), empty_rewards))
    yield Probe(EMPTY, "LSTM redistribute, not finished", lambda work: expect_value(lambda: KIT.lstm().redistribute(empty_episode(False)), empty_rewards))
    yield Probe(EMPTY, "inventory model redistribute", lambda work: expect_value(
        lambda: KIT.inventory_model().redistribute(inventory_episode([[0, 0, 0, 0]], rewards=np.zeros(0))), empty_rewards))
    yield Probe(EMPTY, "save and load", probe_empty_save)
    yield Probe(EMPTY, "rudder redistribute of an empty episode", probe_empty_command)
    for then in ("load", "redistribute", "rudder align"):
        yield Probe(EMPTY, f"one-line VPT file, {then}", functools.partial(probe_vpt_one_line, then))
    yield Probe(EMPTY, "fit with one empty demonstration", functools.partial(probe_fit_with_empty, "one empty"))
    yield Probe(EMPTY, "fit on empty demonstrations only", functools.partial(probe_fit_with_empty, "only empty"))
    yield Probe(EMPTY, "MineRL trajectory of one state", probe_empty_minerl)


# -- 4: the rudder command on bad input ---------------------------------------------------------
def setup_files(work: Path, names: tuple[str, ...]) -> None:
    """Makes the named inputs of a ``rudder`` command in ``work``."""
    from rudder import Episode, save_episodes

    for name in names:
        if name == "model":
            KIT.copy("model", work / "model")
        elif name == "episodes.npz":
            KIT.copy("episodes.npz", work / "episodes.npz")
        elif name == "text.npz":
            (work / "text.npz").write_text("hello")
        elif name == "empty.npz":
            (work / "empty.npz").write_bytes(b"")
        elif name == "emptydir":
            (work / "emptydir").mkdir()
        elif name == "userdir":
            (work / "userdir").mkdir()
            (work / "userdir" / "notes.txt").write_text("notes")
        elif name == "loop":
            (work / "loop").symlink_to("loop")
        elif name == "float-episodes.npz":
            vectors = np.random.default_rng(0).random((3, 2))
            save_episodes(work / name, [Episode(observations=vectors, actions=np.zeros(2, np.int64),
                                                rewards=np.array([0.0, 1.0]), terminated=True)])
        elif name == "dict-episodes.npz":
            save_episodes(work / name, [inventory_episode([[0, 0, 0, 0], [1, 0, 0, 0], [1, 4, 0, 0]])])
        elif name == "zero-episodes.npz":
            KIT.copy("episodes.npz", work / name)
            rewrite_npz(work / name, lambda arrays: arrays.update(num_episodes=np.array(0)))
        elif name == "nested-model":
            KIT.copy("model", work / "model")
            (work / "model" / "model.json").write_text("[" * 100_000 + "]" * 100_000)
        elif name == "unknown-key-model":
            KIT.copy("model", work / "model")
            edit_json(work / "model" / "model.json", lambda record: set_field(record, "settings.no_such_key", 1))
        elif name == "huge-model":
            KIT.copy("model", work / "model")
            replace_member(work / "model" / "arrays.npz", "profile_scores.npy", npy_header((10**6, 10**6)))


COMMAND_CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "redistribute, missing episodes file": (("model",), ("redistribute", "model", "missing.npz")),
    "redistribute, missing model": (("episodes.npz",), ("redistribute", "missing", "episodes.npz")),
    "redistribute, text file as episodes": (("model", "text.npz"), ("redistribute", "model", "text.npz")),
    "redistribute, empty episodes file": (("model", "empty.npz"), ("redistribute", "model", "empty.npz")),
    "redistribute, --episode 99": (("model", "episodes.npz"), ("redistribute", "model", "episodes.npz", "--episode", "99")),
    "redistribute, episodes of another env (float vectors)": (("model", "float-episodes.npz"), ("redistribute", "model", "float-episodes.npz")),
    "redistribute, episodes of another env (inventories)": (("model", "dict-episodes.npz"), ("redistribute", "model", "dict-episodes.npz")),
    "show, missing model": ((), ("show", "missing")),
    "show, folder of user files": (("userdir",), ("show", "userdir")),
    "show, a file": (("text.npz",), ("show", "text.npz")),
    "show, deeply nested model.json": (("nested-model",), ("show", "model")),
    "show, unknown settings key": (("unknown-key-model",), ("show", "model")),
    "show, npy header of 1e12 entries": (("huge-model",), ("show", "model")),
    "demos generate, unknown env id": ((), ("demos", "generate", "NoSuchEnv-v0", "-n", "2", "-o", "d.npz")),
    "demos generate, -n 0": ((), ("demos", "generate", "rudder/FourRooms-v0", "-n", "0", "-o", "d.npz")),
    "demos generate, -n -3": ((), ("demos", "generate", "rudder/FourRooms-v0", "-n", "-3", "-o", "d.npz")),
    "demos generate, --noise nan": ((), ("demos", "generate", "rudder/FourRooms-v0", "-n", "2", "--noise", "nan", "-o", "d.npz")),
    "demos generate, --noise 5": ((), ("demos", "generate", "rudder/FourRooms-v0", "-n", "2", "--noise", "5", "-o", "d.npz")),
    "demos generate, -o an empty folder": (("emptydir",), ("demos", "generate", "rudder/FourRooms-v0", "-n", "2", "-o", "emptydir")),
    "demos generate, -o a symlink loop": (("loop",), ("demos", "generate", "rudder/FourRooms-v0", "-n", "2", "-o", "loop")),
    "demos record, unknown policy module": ((), ("demos", "record", "CartPole-v1", "--policy", "no_such_module:act", "-n", "1", "-o", "d.npz")),
    "demos record, unknown env id": ((), ("demos", "record", "NoSuchEnv-v0", "--policy", "os:getcwd", "-n", "1", "-o", "d.npz")),
    "align, text file": (("text.npz",), ("align", "text.npz", "-o", "m")),
    "align, empty file": (("empty.npz",), ("align", "empty.npz", "-o", "m")),
    "align, empty folder": (("emptydir",), ("align", "emptydir", "-o", "m")),
    "align, missing file": ((), ("align", "missing.npz", "-o", "m")),
    "align, zero episodes": (("zero-episodes.npz",), ("align", "zero-episodes.npz", "-o", "m")),
    "align, --limit 0": (("episodes.npz",), ("align", "episodes.npz", "--limit", "0", "-o", "m")),
    "align, --limit -1": (("episodes.npz",), ("align", "episodes.npz", "--limit", "-1", "-o", "m")),
    "align, --events inventory on integer states": (("episodes.npz",), ("align", "episodes.npz", "--events", "inventory", "-o", "m")),
    "align, --gap-score nan": (("episodes.npz",), ("align", "episodes.npz", "--gap-score", "nan", "-o", "m")),
    "align, -o a symlink loop": (("episodes.npz", "loop"), ("align", "episodes.npz", "-o", "loop")),
    "align, -o in a missing folder": (("episodes.npz",), ("align", "episodes.npz", "-o", "missing/deeper/m")),
    "train, unknown env id": ((), ("train", "NoSuchEnv-v0", "--max-episodes", "2")),
    "quickstart --demos 0": ((), ("quickstart", "--demos", "0")),
    "quickstart --demos -1": ((), ("quickstart", "--demos", "-1")),
}


def probe_command(files: tuple[str, ...], arguments: tuple[str, ...], work: Path) -> Result:
    setup_files(work, files)
    return judge_command(rudder_command(work, *arguments))


def probe_generate_into_missing_folder(work: Path) -> Result:
    """A clear error, or the folder made and the file written whole."""
    run = rudder_command(work, "demos", "generate", "rudder/FourRooms-v0", "-n", "2", "-o", "missing/d.npz")
    return judge_command(run, check=lambda _: None if len(load_episodes_file(work / "missing" / "d.npz")) == 2 else "not 2 episodes")


def probe_full_disk(what: str, work: Path) -> Result:
    KIT.copy("episodes.npz", work / "episodes.npz")
    if what == "demos generate":
        run = rudder_command(work, "demos", "generate", "rudder/FourRooms-v0", "-n", "20", "-o", "d.npz", file_size=2000)
    else:
        run = rudder_command(work, "align", "episodes.npz", "-o", "m", file_size=600)
    left = debris(work, {"episodes.npz"})
    outcome = judge_command(run)
    if outcome[0] == CLEAR and left:
        return LOSS, f"half-written output {left}"
    return outcome


def probe_closed_pipe(arguments: tuple[str, ...], work: Path) -> Result:
    setup_files(work, ("model", "episodes.npz"))
    run = rudder_command(work, *arguments, close_stdout=True)
    if run.returncode is not None and run.returncode > 0 and not run.stderr.strip():
        return OK, f"quiet exit {run.returncode}"
    return judge_command(run, check=lambda _: None)


def command_failures() -> Iterator[Probe]:
    for name, (files, arguments) in COMMAND_CASES.items():
        yield Probe(COMMANDS, name, functools.partial(probe_command, files, arguments), timeout=120)
    yield Probe(COMMANDS, "demos generate, -o in a missing folder", probe_generate_into_missing_folder, timeout=120)
    for what in ("demos generate", "align"):
        yield Probe(COMMANDS, f"{what} on a full disk", functools.partial(probe_full_disk, what), timeout=120)
    for arguments in (("show", "model"), ("redistribute", "model", "episodes.npz")):
        yield Probe(COMMANDS, f"{arguments[0]} into a closed pipe", functools.partial(probe_closed_pipe, arguments), timeout=120)


# -- 5: loaders on damaged files -----------------------------------------------------------------
def load_episodes_file(path: Path) -> Any:
    from rudder import load_episodes

    return load_episodes(path)


def load_vpt(path: Path) -> Any:
    from rudder.data.vpt import load_vpt_episode

    return load_vpt_episode(path)


def load_minerl(path: Path) -> Any:
    from rudder.data.minerl import load_minerl_trajectory

    return load_minerl_trajectory(path)


def same_episodes(loaded: Any, reference: Any) -> str | None:
    """None when the loaded episode(s) equal the reference ones."""
    loaded = loaded if isinstance(loaded, list) else [loaded]
    reference = reference if isinstance(reference, list) else [reference]
    if len(loaded) != len(reference):
        return f"{len(loaded)} episodes instead of {len(reference)}"
    for ours, theirs in zip(loaded, reference):
        if not (np.array_equal(ours.rewards, theirs.rewards) and np.array_equal(ours.actions, theirs.actions)
                and ours.terminated == theirs.terminated):
            return "different episodes"
    return None


#: file to damage -> (artefact, path of the file inside it, path to load, loader)
LOADED_FILES: dict[str, tuple[str, str, str, Callable[[Path], Any]]] = {
    "episodes.npz": ("episodes.npz", "", "", load_episodes_file),
    "model.json": ("model", "model.json", "", load_any),
    "arrays.npz": ("model", "arrays.npz", "", load_any),
    "LSTM config.json": ("lstm", "config.json", "", load_any),
    "LSTM model.pt": ("lstm", "model.pt", "", load_any),
    "VPT .jsonl": ("vpt", "play.jsonl", "play.jsonl", load_vpt),
    "MineRL rendered.npz": ("minerl", "MineRLObtainDiamond-v0/v3_trajectory_0/rendered.npz", "MineRLObtainDiamond-v0/v3_trajectory_0", load_minerl),
    "MineRL metadata.json": ("minerl", "MineRLObtainDiamond-v0/v3_trajectory_0/metadata.json", "MineRLObtainDiamond-v0/v3_trajectory_0", load_minerl),
}


def damaged_copy(file: str, work: Path, damage: Callable[[Path], Any]) -> tuple[Path, Callable[[Path], Any]]:
    artefact, inner, load_path, loader = LOADED_FILES[file]
    root = KIT.copy(artefact, work / artefact)
    damage(root / inner if inner else root)
    return (root / load_path if load_path else root), loader


def probe_loader(file: str, damage: Callable[[Path], Any], work: Path) -> Result:
    """A damaged file: a library error, or a result equal to the undamaged one."""
    reference_path, loader = damaged_copy(file, work / "reference", lambda path: None)
    reference = loader(reference_path)
    path, loader = damaged_copy(file, work / "damaged", damage)
    if loader is load_any:
        return expect_value(lambda: loader(path), lambda model: same_rewards(model, reference))
    return expect_value(lambda: loader(path), lambda loaded: same_episodes(loaded, reference))


def bytes_damage(change: Callable[[bytes], bytes]) -> Callable[[Path], Any]:
    return lambda path: path.write_bytes(change(path.read_bytes()))


def episodes_damage(change: Callable[[dict[str, np.ndarray]], Any]) -> Callable[[Path], Any]:
    return lambda path: rewrite_npz(path, change)


class Payload:
    """A pickle that, when loaded, writes a file (the proof that it ran)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch PAYLOAD_RAN",))


def pickled_model_pt(path: Path) -> None:
    import torch

    buffer = io.BytesIO()
    torch.save({"weights": Payload()}, buffer)
    path.write_bytes(buffer.getvalue())


def probe_payload(work: Path) -> Result:
    path, loader = damaged_copy("LSTM model.pt", work, pickled_model_pt)
    outcome = expect_refusal(lambda: loader(path))
    if (work / "PAYLOAD_RAN").exists():
        return WRONG, "the planted pickle ran"
    return outcome


STRUCTURE_DAMAGE: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "episodes: empty flags": ("episodes.npz", episodes_damage(lambda a: a.update({"0/flags": np.array([], bool)}))),
    "episodes: num_episodes 0": ("episodes.npz", episodes_damage(lambda a: a.update(num_episodes=np.array(0)))),
    "episodes: num_episodes -1": ("episodes.npz", episodes_damage(lambda a: a.update(num_episodes=np.array(-1)))),
    "episodes: num_episodes 9": ("episodes.npz", episodes_damage(lambda a: a.update(num_episodes=np.array(9)))),
    "episodes: num_episodes a string": ("episodes.npz", episodes_damage(lambda a: a.update(num_episodes=np.array("four")))),
    "episodes: rewards missing": ("episodes.npz", episodes_damage(lambda a: a.pop("0/rewards"))),
    "episodes: rewards 2-D": ("episodes.npz", episodes_damage(lambda a: a.update({"0/rewards": a["0/rewards"][:, None]}))),
    "episodes: one reward short": ("episodes.npz", episodes_damage(lambda a: a.update({"0/rewards": a["0/rewards"][:-1]}))),
    "episodes: format_version 99": ("episodes.npz", episodes_damage(lambda a: a.update(format_version=np.array(99)))),
    "episodes: observations as text": ("episodes.npz", episodes_damage(lambda a: a.update({"0/observations": a["0/observations"].astype(str)}))),
    "episodes: three flags": ("episodes.npz", episodes_damage(lambda a: a.update({"0/flags": np.ones(3, bool)}))),
    "model.json: a list": ("model.json", lambda path: path.write_text("[]")),
    "model.json: null": ("model.json", lambda path: path.write_text("null")),
    "model.json: nested 100,000 deep": ("model.json", lambda path: path.write_text("[" * 100_000 + "]" * 100_000)),
    "model.json: settings null": ("model.json", lambda path: edit_json(path, lambda r: set_field(r, "settings", None))),
    "model.json: encoder missing": ("model.json", lambda path: edit_json(path, lambda r: r.pop("encoder"))),
    "arrays.npz: a key missing": ("arrays.npz", episodes_damage(lambda a: a.pop("profile_scores"))),
    "arrays.npz: profile transposed": ("arrays.npz", episodes_damage(lambda a: a.update(profile_scores=a["profile_scores"].T.copy()))),
    "LSTM config.json: nested 100,000 deep": ("LSTM config.json", lambda path: path.write_text("{\"a\":" * 50_000 + "1" + "}" * 50_000)),
    "LSTM config.json: spaces missing": ("LSTM config.json", lambda path: edit_json(path, lambda r: r.pop("observation_space"))),
    "LSTM model.pt: another network's weights": ("LSTM model.pt", lambda path: other_weights(path)),
    "VPT: a line nested 100,000 deep": ("VPT .jsonl", lambda path: path.write_text(path.read_text() + "[" * 100_000 + "]" * 100_000 + "\n")),
    "VPT: a line that is a list": ("VPT .jsonl", lambda path: path.write_text(path.read_text() + "[1, 2]\n")),
    "VPT: inventory missing": ("VPT .jsonl", lambda path: path.write_text(path.read_text() + '{"mouse": {}, "keyboard": {}}\n')),
    "MineRL metadata.json: nested 100,000 deep": ("MineRL metadata.json", lambda path: path.write_text("[" * 100_000 + "]" * 100_000)),
    "MineRL: reward 2-D": ("MineRL rendered.npz", episodes_damage(lambda a: a.update(reward=a["reward"][:, None]))),
}


def other_weights(path: Path) -> None:
    import torch

    torch.save({"something": torch.zeros(3)}, path)


def loader_exceptions() -> Iterator[Probe]:
    for file in LOADED_FILES:
        for name, change in BYTE_DAMAGE.items():
            yield Probe(LOADERS, f"{file}: {name}", functools.partial(probe_loader, file, bytes_damage(change)))
    for name, (file, damage) in STRUCTURE_DAMAGE.items():
        yield Probe(LOADERS, name, functools.partial(probe_loader, file, damage))
    yield Probe(LOADERS, "LSTM model.pt: a planted pickle", probe_payload)


# -- 6: declared sizes ---------------------------------------------------------------------------
def header_damage(member: str, shape: tuple[int, ...], descr: str = "<f8") -> Callable[[Path], Any]:
    return lambda path: replace_member(path, member, npy_header(shape, descr))


def space_damage(field: str, value: Any) -> Callable[[Path], Any]:
    return lambda path: edit_json(path, lambda record: set_field(record, field, value))


SIZE_DAMAGE: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "episodes: rewards declare 1e12 entries": ("episodes.npz", header_damage("0/rewards.npy", (10**12,))),
    "episodes: observations declare 1e6 x 1e6": ("episodes.npz", header_damage("0/observations.npy", (10**6, 10**6), "<i8")),
    "episodes: flags declare 1e11": ("episodes.npz", header_damage("0/flags.npy", (10**11,), "|b1")),
    "episodes: actions declare 2**40": ("episodes.npz", header_damage("0/actions.npy", (2**40,), "<i8")),
    "episodes: num_episodes 1e9": ("episodes.npz", episodes_damage(lambda a: a.update(num_episodes=np.array(10**9)))),
    "arrays.npz: profile_scores declare 1e6 x 1e6": ("arrays.npz", header_damage("profile_scores.npy", (10**6, 10**6))),
    "arrays.npz: demo_returns declare 3e8 (2.4 GB)": ("arrays.npz", header_damage("demo_returns.npy", (3 * 10**8,))),
    "arrays.npz: scoring_matrix declare 1e5 x 1e5": ("arrays.npz", header_damage("scoring_matrix.npy", (10**5, 10**5))),
    "arrays.npz: state_clusters declare 1e12": ("arrays.npz", header_damage("encoder/state_clusters.npy", (10**12,), "<i8")),
    "LSTM: Discrete(1e8) observations": ("LSTM config.json", space_damage("observation_space", {"type": "Discrete", "n": 10**8, "start": 0})),
    "LSTM: MultiDiscrete([1e6]*3)": ("LSTM config.json", space_damage("observation_space", {"type": "MultiDiscrete", "nvec": [10**6] * 3})),
    "LSTM: Box 1e5 x 1e5": ("LSTM config.json", space_damage("observation_space", {"type": "Box", "low": [0.0], "high": [1.0], "shape": [10**5, 10**5], "dtype": "float32"})),
    "LSTM: Discrete(1e8) actions": ("LSTM config.json", space_damage("action_space", {"type": "Discrete", "n": 10**8, "start": 0})),
    "LSTM: hidden_size 1e6": ("LSTM config.json", space_damage("settings.hidden_size", 10**6)),
    "LSTM: Discrete(-5)": ("LSTM config.json", space_damage("observation_space", {"type": "Discrete", "n": -5, "start": 0})),
    "MineRL: reward declares 1e12": ("MineRL rendered.npz", header_damage("reward.npy", (10**12,), "<f4")),
    "MineRL: inventory declares 1e6 x 1e6": ("MineRL rendered.npz", header_damage("observation$inventory$log.npy", (10**6, 10**6), "<i8")),
    "MineRL: camera declares 2**40 x 2": ("MineRL rendered.npz", header_damage("action$camera.npy", (2**40, 2), "<f4")),
}


def declared_sizes() -> Iterator[Probe]:
    for name, (file, damage) in SIZE_DAMAGE.items():
        yield Probe(SIZES, name, functools.partial(probe_loader, file, damage))


# -- 7: concurrent replace -----------------------------------------------------------------------
def target(kind: str, work: Path, name: str = "target") -> Path:
    """The destination of a save of ``kind`` (episodes files end in .npz)."""
    return work / (f"{name}.npz" if kind.startswith(("episodes", "rudder demos")) else name)


SAVERS: dict[str, tuple[Callable[[Path], None], Callable[[Path], Any]]] = {
    "alignment model": (save_alignment, load_any),
    "LSTM model": (save_lstm, load_any),
    "episodes file": (lambda path: _save_episodes(path), load_episodes_file),
}


def _save_episodes(path: Path) -> None:
    from rudder import save_episodes

    save_episodes(path, KIT.demos())


def _writer(kind: str, path: Path, saves: int, failures: Any) -> None:
    save = SAVERS[kind][0]
    for _ in range(saves):
        try:
            save(path)
        except Exception as error:  # noqa: BLE001 - counted
            failures.put(f"save: {type(error).__name__}: {error}"[:160])


def _reader(kind: str, path: Path, stop: Any, failures: Any) -> None:
    load = SAVERS[kind][1]
    while not stop.is_set():
        try:
            load(path)
        except Exception as error:  # noqa: BLE001 - counted
            failures.put(f"load: {type(error).__name__}: {error}"[:160])


def _drain(queue: Any) -> list[str]:
    items = []
    while not queue.empty():
        items.append(queue.get())
    return items


def probe_concurrent(kind: str, writers: int, readers: int, saves: int, work: Path) -> Result:
    context = multiprocessing.get_context("fork")
    path = target(kind, work)
    SAVERS[kind][0](path)
    expected = set(os.listdir(work))
    failures, stop = context.Queue(), context.Event()
    reading = [context.Process(target=_reader, args=(kind, path, stop, failures)) for _ in range(readers)]
    writing = [context.Process(target=_writer, args=(kind, path, saves, failures)) for _ in range(writers)]
    for process in reading + writing:
        process.start()
    for process in writing:
        process.join()
    stop.set()
    for process in reading:
        process.join()
    time.sleep(0.05)
    problems = _drain(failures)
    if problems:
        return CRASH, f"{len(problems)} failed: {problems[0]}"
    left = debris(work, expected)
    inside = debris(path, os.listdir(path)) if path.is_dir() else []
    if left or inside:
        return LOSS, f"debris {left + inside}"
    return expect_value(lambda: SAVERS[kind][1](path), lambda loaded: None)


def _save_forever(kind: str, path: Path) -> None:
    while True:
        SAVERS[kind][0](path)


def probe_killed_save(kind: str, delays: tuple[float, ...], work: Path) -> Result:
    context = multiprocessing.get_context("fork")
    path = target(kind, work)
    SAVERS[kind][0](path)
    for delay in delays:
        process = context.Process(target=_save_forever, args=(kind, path))
        process.start()
        time.sleep(delay)
        os.kill(process.pid or 0, signal.SIGKILL)
        process.join()
    try:
        SAVERS[kind][0](path)
    except Exception as error:
        return classify_exception(error)
    left = debris(work, {path.name})
    if left:
        return LOSS, f"debris after the next save {left}"
    return expect_value(lambda: SAVERS[kind][1](path), lambda loaded: None)


def concurrent_replace() -> Iterator[Probe]:
    for kind in SAVERS:
        for writers, readers, saves in ((2, 0, 10), (4, 2, 12)):
            yield Probe(CONCURRENT, f"{kind}: {writers} writers x {saves} saves, {readers} readers",
                        functools.partial(probe_concurrent, kind, writers, readers, saves), timeout=180)
        for delays in ((0.3, 0.5, 0.7), (0.35, 0.45, 0.55, 0.65, 0.75)):
            yield Probe(CONCURRENT, f"{kind}: {len(delays)} saves killed midway, then one more",
                        functools.partial(probe_killed_save, kind, delays), timeout=180)


# -- 8: symbolic links ---------------------------------------------------------------------------
def make_link(kind: str, pointing: str, work: Path) -> tuple[Path, Path]:
    """A link at ``work/link`` to ``pointing`` (its own kind, a missing target, a loop, a
    user's data); returns the link and its target."""
    link, version = target(kind, work, "link"), target(kind, work, "v1")
    if pointing == "its own kind":
        SAVERS[kind][0](version)
    elif pointing == "a user's data" and kind == "episodes file":
        version.write_text("a user's file")
    elif pointing == "a user's data":
        version.mkdir()
        (version / "notes.txt").write_text("notes")
    link.symlink_to(link.name if pointing == "a loop" else version.name)
    return link, version


def probe_save_through_link(kind: str, pointing: str, work: Path) -> Result:
    save, load = SAVERS[kind]
    link, version = make_link(kind, pointing, work)
    before = snapshot(version) if pointing == "a user's data" else {}
    try:
        save(link)
    except Exception as error:
        loss = changed(before)
        if loss or not link.is_symlink():
            return LOSS, loss or "the link was replaced"
        return classify_exception(error)
    loss = changed(before)
    if loss:
        return LOSS, loss
    if not link.is_symlink():
        return WRONG, "the link was replaced by a copy"
    return expect_value(lambda: load(version), lambda loaded: None)


def probe_load_through_link(kind: str, work: Path) -> Result:
    link, _ = make_link(kind, "its own kind", work)
    return expect_value(lambda: SAVERS[kind][1](link), lambda loaded: None)


def probe_command_link(arguments: tuple[str, ...], work: Path) -> Result:
    KIT.copy("episodes.npz", work / "episodes.npz")
    KIT.copy("model" if arguments[0] == "align" else "episodes.npz", work / "v1")
    (work / arguments[-1]).symlink_to("v1")
    run = rudder_command(work, *arguments)
    return judge_command(run, check=lambda _: None if (work / arguments[-1]).is_symlink() else "the link was replaced")


def symlinks() -> Iterator[Probe]:
    for kind in SAVERS:
        for pointing in ("its own kind", "a missing target", "a loop", "a user's data"):
            yield Probe(LINKS, f"{kind}: save through a link to {pointing}", functools.partial(probe_save_through_link, kind, pointing))
        yield Probe(LINKS, f"{kind}: load through a link", functools.partial(probe_load_through_link, kind))
    yield Probe(LINKS, "rudder align -o a link to a model", functools.partial(probe_command_link, ("align", "episodes.npz", "-o", "link")), timeout=120)
    yield Probe(LINKS, "rudder demos generate -o a link to episodes", functools.partial(
        probe_command_link, ("demos", "generate", "rudder/FourRooms-v0", "-n", "2", "-o", "link.npz")), timeout=120)


# -- 9: NaN and other impossible item counts ------------------------------------------------------
BAD_COUNTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "0.5": 0.5, "-1": -1.0, "1e30": 1e30}
#: The encoder takes any finite number as a count (an "info" source may give fractional
#: changes); only non-finite ones are wrong there.
NON_FINITE = ("NaN", "Infinity", "-Infinity")


def probe_inventory(value: float, where: str, work: Path) -> Result:
    from rudder import AlignmentRedistributor, InventoryEncoder

    rows: list[list[float]] = [[0, 0, 0, 0], [1, 0, 0, 0], [1, value, 0, 0], [1, 4, 0, 0]]
    if where == "fit":
        return expect_refusal(lambda: AlignmentRedistributor(InventoryEncoder()).fit([inventory_episode(rows)] * 3))
    return expect_refusal(lambda: KIT.inventory_model().redistribute(inventory_episode(rows)))


def probe_minerl_count(value: float, work: Path) -> Result:
    from rudder.data.minerl import load_minerl_trajectory

    counts = np.array([0.0, 1.0, value, 2.0]) if not float(value).is_integer() or abs(value) > 2**62 else np.array([0, 1, int(value), 2])
    folder = write_minerl(work / "t", counts={"log": counts, "planks": np.array([0, 0, 0, 4])})
    return expect_refusal(lambda: load_minerl_trajectory(folder))


def probe_minerl_count_float(value: float, work: Path) -> Result:
    from rudder.data.minerl import load_minerl_trajectory

    folder = write_minerl(work / "t", counts={"log": np.array([0.0, 1.0, value, 2.0]), "planks": np.array([0.0, 0.0, 0.0, 4.0])})
    return expect_refusal(lambda: load_minerl_trajectory(folder))


def probe_vpt_quantity(value: Any, work: Path) -> Result:
    from rudder.data.vpt import load_vpt_episode

    lines = [vpt_line({"oak_log": 1}), vpt_line({"oak_log": 1}).replace('"quantity": 1', f'"quantity": {value}'), vpt_line({"oak_log": 2})]
    (work / "play.jsonl").write_text("\n".join(lines) + "\n")
    return expect_refusal(lambda: load_vpt_episode(work / "play.jsonl"))


def probe_minerl_align(value: float, work: Path) -> Result:
    for index in range(3):
        counts = {"log": np.array([0.0, 1.0, value if index == 0 else 1.0, 2.0]), "planks": [0, 0, 0, 4]}
        write_minerl(work / "data" / "MineRLObtainDiamond-v0" / f"v3_t{index}", counts=counts)
    return judge_command(rudder_command(work, "align", "data", "-o", "m"))


def inventory_values() -> Iterator[Probe]:
    for name in NON_FINITE:
        yield Probe(COUNTS, f"InventoryEncoder fit, a count of {name}", functools.partial(probe_inventory, BAD_COUNTS[name], "fit"))
        yield Probe(COUNTS, f"InventoryEncoder redistribute, a count of {name}", functools.partial(probe_inventory, BAD_COUNTS[name], "redistribute"))
    for name, value in BAD_COUNTS.items():
        yield Probe(COUNTS, f"MineRL inventory count {name}", functools.partial(probe_minerl_count, value))
    yield Probe(COUNTS, "MineRL inventory count -1.0 (floats)", functools.partial(probe_minerl_count_float, -1.0))
    for text in ("NaN", "Infinity", "-Infinity", "1e30", "-1", "0.5", '"3"'):
        yield Probe(COUNTS, f"VPT quantity {text}", functools.partial(probe_vpt_quantity, text))
    for name in ("NaN", "Infinity"):
        yield Probe(COUNTS, f"rudder align on MineRL data with a count of {name}", functools.partial(probe_minerl_align, BAD_COUNTS[name]), timeout=120)


# -- 10: return equivalence ----------------------------------------------------------------------
def random_episode(seed: int, *, tiny_return: bool) -> Any:
    """Rewards spanning 12 orders of magnitude (1e-6 to 1e6, both signs); with
    ``tiny_return`` the return is 1e-6 to 1e-2 while single rewards reach 1e6."""
    rng = np.random.default_rng(seed)
    length = int(rng.integers(3, 40))
    rewards = rng.choice([-1.0, 1.0], length) * rng.uniform(1, 10, length) * 10.0 ** rng.integers(-6, 7, length)
    if tiny_return:
        rewards[-1] = -math.fsum(rewards[:-1].tolist()) + float(rng.choice([1e-6, -3e-5, 7e-3]))
    return episode(rng.integers(0, 64, length + 1), rewards)


def return_error(redistributed: Any, rewards: Any) -> str | None:
    """None when the exact sum of ``redistributed`` is within 1e-12 of the return relative
    to |G|, or within one unit in the last place of the last redistributed reward (no
    float can do better than half of it, see benchmarks/results/return_equivalence.md)."""
    redistributed = np.asarray(redistributed, dtype=np.float64)
    total = math.fsum(rewards.tolist())
    error = abs(math.fsum([*redistributed.tolist(), *(-rewards).tolist()]))
    if not math.isfinite(error):
        return "non-finite"
    if error <= 1e-12 * abs(total) or error <= math.ulp(float(redistributed[-1])):
        return None
    return f"error {error:.3g} = {error / max(abs(total), 1e-300):.3g} of |G|, {error / math.ulp(float(redistributed[-1])):.3g} ulp"


def online(model: Any, given: Any) -> np.ndarray:
    state = model.start(given.observations[0])
    return np.array([state.step(given.observations[t], given.actions[t], given.observations[t + 1], float(given.rewards[t]),
                                t == given.length - 1, False, {}) for t in range(given.length)])


def probe_return(seed: int, tiny: bool, how: str, work: Path) -> Result:
    given = random_episode(seed, tiny_return=tiny)
    model = KIT.lstm() if how == "LSTM offline" else KIT.model()
    if how == "online":
        return expect_value(lambda: online(model, given), lambda paid: return_error(paid, given.rewards))
    return expect_value(lambda: model.redistribute(given), lambda paid: return_error(paid, given.rewards))


def return_equivalence() -> Iterator[Probe]:
    for how, count in (("alignment offline", 14), ("online", 10), ("LSTM offline", 6)):
        for seed in range(count):
            tiny = seed % 2 == 1
            yield Probe(RETURNS, f"{how}, seed {seed}{', tiny return' if tiny else ''}", functools.partial(probe_return, seed, tiny, how))


# -- 11: umask -----------------------------------------------------------------------------------
def modes_problem(paths: list[Path], umask: int) -> str | None:
    for path in paths:
        expected = (0o777 if path.is_dir() else 0o666) & ~umask
        actual = stat.S_IMODE(path.lstat().st_mode)
        if actual != expected:
            return f"{path.name}: {actual:o} instead of {expected:o}"
    return None


def saved_paths(path: Path) -> list[Path]:
    return [path, *sorted(path.iterdir())] if path.is_dir() else [path]


def probe_umask(kind: str, umask: int, work: Path) -> Result:
    path = target(kind, work)
    if kind.startswith("rudder"):
        KIT.copy("episodes.npz", work / "episodes.npz")
        arguments = ("align", "episodes.npz", "-o", path.name) if "align" in kind else (
            "demos", "generate", "rudder/FourRooms-v0", "-n", "2", "-o", path.name)
        command_or_raise(rudder_command(work, *arguments, umask=umask))
    else:
        previous = os.umask(umask)
        try:
            SAVERS[kind][0](path)
        finally:
            os.umask(previous)
    problem = modes_problem(saved_paths(path), umask)
    return (OK, "") if problem is None else (WRONG, problem)


def umasks() -> Iterator[Probe]:
    for umask in (0o022, 0o002, 0o077, 0o027):
        for kind in (*SAVERS, "rudder align", "rudder demos generate"):
            yield Probe(UMASK, f"{kind}, umask {umask:03o}", functools.partial(probe_umask, kind, umask), timeout=120)


# -- 12: smaller items ---------------------------------------------------------------------------
def probe_online_bad_reward(which: str, value: float, work: Path) -> Result:
    model = KIT.lstm() if which == "LSTM" else KIT.model()
    demo = KIT.demos()[0]

    def step() -> float:
        state = model.start(demo.observations[0])
        state.step(demo.observations[0], demo.actions[0], demo.observations[1], 0.0, False, False, {})
        return state.step(demo.observations[1], demo.actions[1], demo.observations[2], value, True, False, {})

    return expect_refusal(step)


def probe_png(work: Path) -> Result:
    KIT.copy("model", work / "model")
    run = rudder_command(work, "show", "model", "--png", "pic")
    written = [name for name in os.listdir(work) if name.startswith("pic")]

    def check(run: Any) -> str | None:
        return None if any(name in run.stdout + run.stderr for name in written) else f"wrote {written}, said otherwise"

    return judge_command(run, check=check)


def probe_png_missing_folder(work: Path) -> Result:
    KIT.copy("episodes.npz", work / "episodes.npz")
    run = rudder_command(work, "align", "episodes.npz", "-o", "m", "--png", "missing/pic.png")
    outcome = judge_command(run)
    if outcome[0] == CLEAR and (work / "m").exists():
        return LOSS, "failed after the model was written"
    return outcome


def probe_settings(field: str, value: float, work: Path) -> Result:
    from rudder import AlignmentRedistributor, StateClusterEncoder

    return expect_refusal(lambda: AlignmentRedistributor(StateClusterEncoder(seed=0), **{field: value}))


def probe_is_fitted(work: Path) -> Result:
    import gymnasium as gym

    from rudder.redistribution import LSTMRedistributor

    model = LSTMRedistributor(gym.spaces.Discrete(4), gym.spaces.Discrete(2), hidden_size=4)
    return (OK, "") if not model.is_fitted else (WRONG, "is_fitted before any fit")


def probe_episode(what: str, work: Path) -> Result:
    rewards = {"NaN reward": [0.0, math.nan], "infinite reward": [math.inf, 0.0]}.get(what, [0.0, 1.0, 2.0])
    return expect_refusal(lambda: episode([0, 1, 2], rewards))


SETTINGS_CASES = {"--gap-score 5": ("gap_score", 5.0), "--insert-score 3": ("insert_score", 3.0),
                  "--delete-score 2": ("delete_score", 2.0), "--pseudocount 0": ("pseudocount", 0.0),
                  "--threshold 1.5": ("consensus_threshold", 1.5), "--refine-passes -1": ("refine_passes", -1)}


def smaller_items() -> Iterator[Probe]:
    for which in ("alignment", "LSTM"):
        for value in (math.nan, math.inf, -math.inf):
            yield Probe(SMALLER, f"{which} online, env reward {value}", functools.partial(probe_online_bad_reward, which, value))
    yield Probe(SMALLER, "rudder show --png pic names the file it wrote", probe_png, timeout=120)
    yield Probe(SMALLER, "rudder align --png into a missing folder", probe_png_missing_folder, timeout=120)
    for option, (field, value) in SETTINGS_CASES.items():
        flag, number = option.split()
        yield Probe(SMALLER, f"rudder align {option}", functools.partial(probe_command, ("episodes.npz",), ("align", "episodes.npz", flag, number, "-o", "m")), timeout=120)
        yield Probe(SMALLER, f"AlignmentSettings({field}={value})", functools.partial(probe_settings, field, value))
    yield Probe(SMALLER, "LSTMRedistributor.is_fitted before fit", probe_is_fitted)
    for what in ("NaN reward", "infinite reward", "rewards longer than the steps"):
        yield Probe(SMALLER, f"Episode with a {what}", functools.partial(probe_episode, what))


def catalog() -> Iterator[Probe]:
    """Every probe, category by category, in a fixed order."""
    for generate in (saves, corrupt_values, zero_length, command_failures, loader_exceptions, declared_sizes,
                     concurrent_replace, symlinks, inventory_values, return_equivalence, umasks, smaller_items):
        yield from generate()
