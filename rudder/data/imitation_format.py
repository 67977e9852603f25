"""Reading and writing trajectories in the format of the ``imitation`` library, without it.

``imitation.data.serialize.save`` writes a sequence of trajectories as a HuggingFace
``datasets`` directory (``Dataset.save_to_disk``): ``state.json`` lists the data files,
``dataset_info.json`` holds the features, and each ``data-NNNNN-of-NNNNN.arrow`` file is an
Arrow IPC *stream* with one row per trajectory and the columns

- ``obs``: the T+1 observations (s_0 .. s_T), nested lists of numbers;
- ``acts``: the T actions;
- ``infos``: T strings, each step's info dict encoded with ``jsonpickle``;
- ``terminal``: one bool, whether the trajectory ended in a terminal state;
- ``rews`` (only in the "with rewards" variant, ``TrajectoryWithRew``): the T rewards.

The files are read with pyarrow alone (no ``datasets``, no ``imitation``). An
:class:`~rudder.data.Episode` gets ``obs`` as observations, ``acts`` as actions, ``rews``
as rewards (zeros when the file has none), ``terminated = terminal`` and
``truncated = not terminal``, and as infos the keys whose every step decodes as plain JSON
numbers or booleans (or equal-shaped lists of them); jsonpickle objects are never
decoded. imitation's older ``.npz`` layout (``obs``, ``acts``, ``terminal``, ``indices``,
optionally ``rews``) is read as well, without pickle (its object-array infos are skipped).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rudder.data.episode import Episode, check_episodes
from rudder.data.io import atomic_write
from rudder.errors import DataFormatError

__all__ = ["load_imitation", "save_imitation"]

_COLUMNS = ("obs", "acts", "infos", "terminal")


def _pyarrow() -> Any:
    import pyarrow

    return pyarrow


def _to_numpy(array: Any) -> np.ndarray:
    """Shape (N, ...): an Arrow array of N equal-shaped nested lists as one numpy array."""
    pa = _pyarrow()
    kind = array.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        if array.null_count:
            raise DataFormatError("a trajectory holds missing (null) values")
        lengths = np.asarray(array.value_lengths())
        inner = _to_numpy(array.flatten())
        if len(array) and np.any(lengths != lengths[0]):
            raise DataFormatError(
                f"rows of unequal length {sorted(set(lengths.tolist()))[:5]}: "
                "observations and actions must have one shape per trajectory"
            )
        width = int(lengths[0]) if len(array) else 0
        return inner.reshape(len(array), width, *inner.shape[1:])
    values = array.to_numpy(zero_copy_only=False)
    if values.dtype == object:
        raise DataFormatError(f"cannot read values of Arrow type {kind} as numbers")
    return values


def _decoded_infos(encoded: Sequence[str], length: int) -> dict[str, np.ndarray]:
    """The info keys whose value is plain JSON numbers / bools (or lists of them) at every step."""
    steps = []
    for text in encoded:
        try:
            value = json.loads(text)
        except (TypeError, ValueError):
            return {}
        if not isinstance(value, dict):
            return {}
        steps.append(value)
    if len(steps) != length or not steps:
        return {}
    infos: dict[str, np.ndarray] = {}
    for key in steps[0]:
        values = [step.get(key) for step in steps]
        if any(value is None or _has_mapping(value) for value in values):
            continue
        try:
            array = np.asarray(values)
        except ValueError:  # ragged lists
            continue
        if array.dtype.kind in "biuf":
            infos[str(key)] = array
    return infos


def _has_mapping(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(_has_mapping(item) for item in value)


def _data_files(directory: Path) -> list[Path]:
    state = directory / "state.json"
    if state.is_file():
        try:
            names = [entry["filename"] for entry in json.loads(state.read_text())["_data_files"]]
        except (ValueError, KeyError, TypeError) as error:
            raise DataFormatError(f"{state}: not a datasets state file ({error})") from error
        return [directory / name for name in names]
    files = sorted(directory.glob("*.arrow"))
    if not files:
        raise DataFormatError(
            f"{directory}: no state.json and no .arrow files; save trajectories with "
            "imitation.data.serialize.save (a HuggingFace datasets directory)"
        )
    return files


def _read_table(path: Path) -> Any:
    pa = _pyarrow()
    try:
        with pa.memory_map(str(path)) as source:
            try:
                return pa.ipc.open_stream(source).read_all()
            except pa.ArrowInvalid:
                source.seek(0)
                return pa.ipc.open_file(source).read_all()
    except (OSError, pa.ArrowInvalid) as error:
        raise DataFormatError(f"{path}: not an Arrow file ({error})") from error


def _episodes_from_table(table: Any, source: str) -> list[Episode]:
    missing = [column for column in _COLUMNS if column not in table.column_names]
    if missing:
        raise DataFormatError(
            f"{source}: not imitation trajectories: the columns {missing} are missing "
            f"(it has {table.column_names})"
        )
    episodes: list[Episode] = []
    for row in table.to_batches():
        has_rewards = "rews" in row.schema.names
        for index in range(row.num_rows):
            where = f"{source} trajectory {len(episodes)}"
            actions = _to_numpy(row.column("acts")[index].values)
            rewards = (
                _to_numpy(row.column("rews")[index].values) if has_rewards
                else np.zeros(len(actions), dtype=np.float64)
            )
            terminal = bool(row.column("terminal")[index].as_py())
            try:
                episodes.append(
                    Episode(
                        observations=_to_numpy(row.column("obs")[index].values),
                        actions=actions,
                        rewards=rewards,
                        terminated=terminal,
                        truncated=not terminal,
                        infos=_decoded_infos(row.column("infos")[index].as_py() or [], len(actions)),
                    )
                )
            except (ValueError, TypeError) as error:
                if isinstance(error, DataFormatError):
                    raise DataFormatError(f"{where}: {error}") from error
                raise DataFormatError(f"{where}: not a valid trajectory: {error}") from error
    return episodes


def _load_legacy_npz(path: Path) -> list[Episode]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in ("obs", "acts", "terminal", "indices", "rews") if key in data.files}
    except (OSError, ValueError) as error:
        raise DataFormatError(f"{path}: cannot read it as imitation's .npz trajectories ({error})") from error
    missing = [key for key in ("obs", "acts", "terminal", "indices") if key not in arrays]
    if missing:
        raise DataFormatError(f"{path}: not imitation trajectories (no {missing})")
    indices = arrays["indices"].astype(np.int64)
    count = len(indices) + 1
    observations = np.split(arrays["obs"], indices + np.arange(1, count))
    actions = np.split(arrays["acts"], indices)
    rewards = np.split(arrays["rews"], indices) if "rews" in arrays else [np.zeros(len(a)) for a in actions]
    try:
        return [
            Episode(observations=obs, actions=acts, rewards=rews, terminated=bool(terminal), truncated=not bool(terminal))
            for obs, acts, rews, terminal in zip(observations, actions, rewards, arrays["terminal"])
        ]
    except (ValueError, TypeError) as error:
        raise DataFormatError(f"{path}: not valid imitation trajectories: {error}") from error


def load_imitation(path: str | os.PathLike, *, episodes: int | None = None) -> list[Episode]:
    """Reads trajectories saved by ``imitation.data.serialize.save``.

    Args:
        path: the directory ``serialize.save`` wrote (or an old-style ``.npz`` file).
        episodes: read only the first ``episodes`` trajectories (all if None).

    Returns:
        one Episode per trajectory: observations (T+1, ...), actions (T, ...), rewards
        (T,) float64 (zeros without ``rews``), terminated = ``terminal``, truncated =
        not ``terminal``, and the infos that are plain numbers at every step.

    Raises:
        FileNotFoundError: if nothing is at ``path``.
        DataFormatError: if it is not imitation's format.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no imitation trajectories at {str(path)!r}")
    if episodes is not None and episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if path.is_file():
        loaded = _load_legacy_npz(path)
    else:
        loaded = []
        for file in _data_files(path):
            loaded.extend(_episodes_from_table(_read_table(file), str(file)))
            if episodes is not None and len(loaded) >= episodes:
                break
    if not loaded:
        raise DataFormatError(f"{path}: holds no trajectories")
    return loaded[:episodes]


def _list_array(arrays: Sequence[np.ndarray]) -> Any:
    """An Arrow list array with one row per array (a nested list level per extra axis)."""
    pa = _pyarrow()
    nested = pa.array(np.concatenate([array.reshape(-1) for array in arrays]))
    for axis in range(arrays[0].ndim - 1, -1, -1):
        lengths = np.concatenate([np.full(int(np.prod(a.shape[:axis])), a.shape[axis]) for a in arrays])
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        nested = pa.ListArray.from_arrays(pa.array(offsets), nested)
    return nested


def _feature(kind: Any) -> dict[str, Any]:
    """The ``datasets`` feature description of an Arrow type (for dataset_info.json)."""
    pa = _pyarrow()
    if pa.types.is_list(kind):
        return {"feature": _feature(kind.value_type), "_type": "Sequence"}
    name = {"halffloat": "float16", "float": "float32", "double": "float64"}.get(str(kind), str(kind))
    return {"dtype": name, "_type": "Value"}


def save_imitation(episodes: Sequence[Episode], path: str | os.PathLike, *, with_rewards: bool = True) -> None:
    """Writes episodes as imitation's trajectories (``imitation.data.serialize.load`` reads them).

    Args:
        episodes: the episodes; their observations must be arrays (imitation's datasets
            format has no dict observations).
        path: the directory to write (created; files in it are overwritten).
        with_rewards: write ``rews`` (``TrajectoryWithRew``) or not (``Trajectory``).

    Raises:
        ValueError: for dict observations.
    """
    pa = _pyarrow()
    episodes = check_episodes(episodes)
    if any(isinstance(episode.observations, Mapping) for episode in episodes):
        raise ValueError("imitation's datasets format has no dict observations; flatten them first")
    columns = {
        "obs": _list_array([np.asarray(episode.observations) for episode in episodes]),
        "acts": _list_array([episode.actions for episode in episodes]),
        "infos": pa.array(
            [[json.dumps({key: value[step].tolist() for key, value in episode.infos.items()})
              for step in range(episode.length)] for episode in episodes],
            type=pa.list_(pa.string()),
        ),
        "terminal": pa.array([episode.terminated for episode in episodes], type=pa.bool_()),
    }
    if with_rewards:
        columns["rews"] = _list_array([episode.rewards for episode in episodes])
    table = pa.table(columns)
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    name = "data-00000-of-00001.arrow"

    def write_arrow(file: Any) -> None:
        with pa.ipc.new_stream(file, table.schema) as writer:
            writer.write_table(table)

    atomic_write(directory / name, write_arrow)
    features = {column: _feature(table.schema.field(column).type) for column in table.column_names}
    info = {"citation": "", "description": "", "features": features, "homepage": "", "license": ""}
    state: dict[str, Any] = {
        "_data_files": [{"filename": name}], "_fingerprint": "align-rudder", "_format_columns": None,
        "_format_kwargs": {}, "_format_type": None, "_output_all_columns": False, "_split": None,
    }
    (directory / "dataset_info.json").write_text(json.dumps(info, indent=2) + "\n")
    (directory / "state.json").write_text(json.dumps(state, indent=2) + "\n")
