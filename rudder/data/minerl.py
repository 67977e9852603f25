"""Minecraft demonstrations from the MineRL v0.4 dataset, read into episodes.

Reading the data needs neither the ``minerl`` package nor Java (a live MineRL env is
:func:`rudder.envs.minerl.make_minerl_env`). Contents:

- :func:`find_minerl_trajectories`, :func:`load_minerl_trajectory` and
  :func:`iter_minerl_episodes` read the MineRL v0.4 dataset (ObtainDiamond, Treechop,
  Navigate, their Dense and VectorObf variants).
- :data:`MINERL_DATA_VERSIONS`: the data versions this reader understands.

The item names, the ObtainDiamond rewards and the action names are those of
:mod:`rudder.minecraft` (:data:`~rudder.minecraft.MINERL_ITEMS`,
:data:`~rudder.minecraft.ITEM_REWARDS`, :data:`~rudder.minecraft.ENUM_ACTIONS`,
:data:`~rudder.minecraft.MINERL_ACTION_COLUMNS`), which :mod:`rudder.data.vpt` (the
VPT/BASALT ``.jsonl`` reader) and the crafting world share.

The MineRL v0.4 layout::

    $MINERL_DATA_ROOT/
      VERSION                     optional: the data version, 3 or 4
      MineRLObtainDiamond-v0/     one folder per environment
        v3_absolute_grape_changeling-6_37339-46767/    one folder per trajectory
          rendered.npz            N-1 rewards and actions, N observations ('$'-joined keys)
          metadata.json           success, duration_steps, true_video_frame_count, ...
          recording.mp4           64x64 first-person video, 20 fps (read with video=True)

A MineRL trajectory becomes an :class:`~rudder.data.Episode` with T = N - 1 steps:

- ``observations``: ``"inventory/<item>"`` int64 (T+1,) for each item recorded in the
  file (items missing from a file are missing from the episode, not filled with zeros);
  ``"equipped/mainhand/type"`` str (T+1,) and ``"equipped/mainhand/damage"``,
  ``"equipped/mainhand/maxDamage"`` int64 (T+1,) when recorded; ``"vector"`` float32
  (T+1, 64) in the VectorObf environments; ``"pov"`` uint8 (T+1, 64, 64, 3) RGB only
  with ``video=True``. Any other ``observation$a$b`` key becomes ``"a/b"``.
- ``actions``: float32 (T, len(:data:`~rudder.minecraft.MINERL_ACTION_COLUMNS`)), or the float32 (T, 64)
  ``action$vector`` in the VectorObf environments.
- ``rewards``: the file's ``reward``; ``terminated`` = ``metadata["success"]`` and
  ``truncated`` = not success.
- ``infos``: ``"action/<name>"`` str (T,) with the raw strings of each enum action.

Example:
    >>> from rudder.data.minerl import iter_minerl_episodes
    >>> episodes = list(iter_minerl_episodes("~/minerl", environment="MineRLObtainDiamond-v0",
    ...                                      limit=20))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from rudder.data.episode import Episode
from rudder.data.io import read_npz
from rudder.data.reading import check_limit, with_progress
from rudder.errors import DataFormatError, DependencyNotInstalled, FormatVersionError
from rudder.minecraft import BINARY_ACTIONS, ENUM_ACTIONS, MINERL_ACTION_COLUMNS

__all__ = [
    "MINERL_DATA_VERSIONS",
    "find_minerl_trajectories",
    "iter_minerl_episodes",
    "load_minerl_trajectory",
]

#: The MineRL data versions this reader understands (the ``VERSION`` file of a data root).
MINERL_DATA_VERSIONS: tuple[int, ...] = (3, 4)

#: The largest video frame side, all frames' bytes together, and the most frames before
#: the episode that a MineRL trajectory may declare; larger ones are refused before reading.
MAX_FRAME_SIDE = 4096
MAX_VIDEO_BYTES = 1 << 33
MAX_SKIPPED_FRAMES = 1 << 20
_TRAJECTORY_NAME = re.compile(r"v([0-9]+)_")
_NUMPY_FILE = "rendered.npz"
_METADATA_FILE = "metadata.json"
_VIDEO_FILE = "recording.mp4"
_LAYOUT_HINT = (
    "expected a MineRL data root holding environment folders (MineRLObtainDiamond-v0/), "
    "an environment folder holding trajectory folders (v3_.../), or a trajectory folder "
    f"holding {_NUMPY_FILE} and {_METADATA_FILE}"
)


# -- finding MineRL trajectories ---------------------------------------------------------
def _is_trajectory(folder: Path) -> bool:
    return (folder / _NUMPY_FILE).is_file() and (folder / _METADATA_FILE).is_file()


def _trajectories_in(environment_folder: Path) -> list[Path]:
    """The ``v<version>_...`` trajectory folders of an environment folder, sorted by name."""
    found: list[Path] = []
    incomplete: list[Path] = []
    for child in sorted(environment_folder.iterdir()):
        if child.is_dir() and _TRAJECTORY_NAME.match(child.name):
            (found if _is_trajectory(child) else incomplete).append(child)
    if incomplete:
        # A half-downloaded trajectory is skipped, as MineRL's own loader does, but not silently.
        warnings.warn(
            f"skipping {len(incomplete)} trajectory folder(s) without {_NUMPY_FILE} and "
            f"{_METADATA_FILE} in {str(environment_folder)!r}, e.g. {incomplete[0].name!r}",
            stacklevel=3,
        )
    return found


def _has_trajectory_folders(folder: Path) -> bool:
    return any(child.is_dir() and _TRAJECTORY_NAME.match(child.name) for child in folder.iterdir())


def _check_version(root: Path) -> None:
    """Raises unless the optional ``VERSION`` file of a data root names a supported version."""
    version_file = root / "VERSION"
    if not version_file.is_file():
        return
    text = version_file.read_text(encoding="utf-8", errors="replace").strip()
    try:
        version = int(text)
    except ValueError:
        raise DataFormatError(
            f"{str(version_file)!r} should hold the MineRL data version (an integer), got "
            f"{text[:40]!r}; supported versions are {list(MINERL_DATA_VERSIONS)}"
        ) from None
    if version not in MINERL_DATA_VERSIONS:
        error_class = FormatVersionError if version > max(MINERL_DATA_VERSIONS) else DataFormatError
        raise error_class(
            f"{str(version_file)!r} says MineRL data version {version}, but this reader "
            f"supports versions {list(MINERL_DATA_VERSIONS)} (the MineRL v0.4 dataset)"
        )


def find_minerl_trajectories(
    path: str | os.PathLike, *, environment: str | None = None
) -> list[Path]:
    """The trajectory folders of a MineRL v0.4 dataset, sorted by name.

    Args:
        path: a data root (``$MINERL_DATA_ROOT``, holding ``MineRLObtainDiamond-v0/`` and
            so on), one environment folder, or one trajectory folder (any name, holding
            ``rendered.npz`` and ``metadata.json``). Inside an environment folder only
            folders named ``v<version>_...`` count; those missing a file are skipped
            with a warning.
        environment: the environment folder to read from a data root, for example
            ``"MineRLObtainDiamond-v0"``. Needed when the root holds several. If ``path``
            is an environment folder or a trajectory folder, it must name that folder's
            environment (or be None).

    Returns:
        The trajectory folders, sorted by name (deterministic).

    Raises:
        FileNotFoundError: if ``path`` does not exist or holds no trajectories.
        ValueError: if the root holds several environments and none is chosen, or
            ``environment`` names no folder of the root.
        DataFormatError: if the root's ``VERSION`` file names an unsupported version
            (:class:`~rudder.errors.FormatVersionError` for a newer one).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no MineRL data at {str(path)!r}: the path does not exist")
    if not path.is_dir():
        raise FileNotFoundError(f"{str(path)!r} is a file; {_LAYOUT_HINT}")

    if _is_trajectory(path):
        if environment is not None and path.parent.name != environment:
            raise ValueError(
                f"{str(path)!r} is a trajectory of {path.parent.name!r}, not of "
                f"environment={environment!r}; drop `environment` or pass the data root"
            )
        _check_version(path.parent.parent)
        return [path]

    if _has_trajectory_folders(path):
        if environment is not None and path.name != environment:
            raise ValueError(
                f"{str(path)!r} is the environment folder {path.name!r}, not "
                f"{environment!r}; drop `environment` or pass the data root"
            )
        _check_version(path.parent)
        environment_folder = path
    else:
        _check_version(path)
        environments = sorted(
            child.name
            for child in path.iterdir()
            if child.is_dir() and _has_trajectory_folders(child)
        )
        if environment is not None:
            if environment not in environments:
                raise ValueError(
                    f"the MineRL data root {str(path)!r} has no trajectories of "
                    f"environment={environment!r}; it has {environments or 'none'}"
                )
            environment_folder = path / environment
        elif len(environments) == 1:
            environment_folder = path / environments[0]
        elif environments:
            raise ValueError(
                f"the MineRL data root {str(path)!r} holds {len(environments)} environments "
                f"({', '.join(environments)}); choose one with environment=... "
                "(rudder align --environment ...)"
            )
        else:
            present = [name for name in (_NUMPY_FILE, _METADATA_FILE) if (path / name).exists()]
            if present:
                missing = {_NUMPY_FILE, _METADATA_FILE}.difference(present).pop()
                raise FileNotFoundError(
                    f"{str(path)!r} looks like a MineRL trajectory folder ({present[0]}), "
                    f"but has no {missing}; re-download the trajectory"
                )
            raise FileNotFoundError(f"no MineRL trajectories in {str(path)!r}; {_LAYOUT_HINT}")

    trajectories = _trajectories_in(environment_folder)
    if not trajectories:
        raise FileNotFoundError(
            f"no complete MineRL trajectories in {str(environment_folder)!r}; {_LAYOUT_HINT}"
        )
    return trajectories


# -- reading one MineRL trajectory -------------------------------------------------------
def _read_metadata(path: Path, *, video: bool) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"no {_METADATA_FILE} at {str(path)!r}; re-download the trajectory")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(
            f"{str(path)!r} is not valid JSON ({error.msg} at line {error.lineno}, column "
            f"{error.colno}); re-download the trajectory"
        ) from error
    except UnicodeDecodeError as error:
        raise DataFormatError(
            f"{str(path)!r} is not UTF-8 text ({error}); re-download it"
        ) from error
    except RecursionError:
        raise DataFormatError(f"{str(path)!r} is nested too deeply to be MineRL metadata; re-download it") from None
    if not isinstance(metadata, dict):
        raise DataFormatError(
            f"{str(path)!r} must hold a JSON object, got {type(metadata).__name__}"
        )
    required = ["success"] + (["true_video_frame_count"] if video else [])
    missing = [key for key in required if key not in metadata]
    if missing:
        raise DataFormatError(
            f"{str(path)!r} lacks the key(s) {missing}"
            + (" (needed to line up the video with the states)" if video else "")
            + f"; its keys are {sorted(metadata)}"
        )
    if not isinstance(metadata["success"], bool):
        raise DataFormatError(
            f"{str(path)!r}: 'success' must be true or false, got {metadata['success']!r}"
        )
    return metadata


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, read without pickle, their declared sizes bounded
    (:func:`rudder.data.io.read_npz`)."""
    if not path.is_file():
        raise FileNotFoundError(f"no {_NUMPY_FILE} at {str(path)!r}; re-download the trajectory")
    return read_npz(path, fix="re-download the trajectory")


def _as_text(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "S":
        return np.char.decode(array, "utf-8")
    return array.astype(str)


def _observation_name(key: str) -> str:
    """``observation$equipped_items.mainhand.type`` -> ``equipped/mainhand/type``."""
    parts = re.split(r"[$.]", key[len("observation$") :])
    if parts[0] == "equipped_items":
        parts[0] = "equipped"
    return "/".join(parts)


def _check_rows(array: np.ndarray, key: str, rows: int, what: str, source: Path) -> None:
    if array.ndim == 0 or array.shape[0] != rows:
        raise DataFormatError(
            f"{str(source)!r}: {key!r} has shape {array.shape}, but 'reward' has "
            f"{rows if what == 'actions' else rows - 1} steps, so {rows} {what} were expected "
            "(N states, N-1 actions and rewards); the file is inconsistent, re-download it"
        )


def _check_numeric(array: np.ndarray, key: str, source: Path) -> None:
    if array.dtype.kind not in "biuf":
        raise DataFormatError(f"{str(source)!r}: {key!r} must be numeric, got dtype {array.dtype}")


def _check_counts(array: np.ndarray, key: str, source: Path) -> None:
    """Raises :class:`DataFormatError` unless the counts ``array`` are whole numbers that
    an int64 holds (NaN would become -9.2e18)."""
    if array.dtype.kind != "f" or not array.size:
        return
    finite = np.isfinite(array)
    if not np.all(finite) or np.any(np.abs(array) >= 2.0**63) or np.any(array != np.round(array)):
        bad = array[~finite] if not np.all(finite) else array[(np.abs(array) >= 2.0**63) | (array != np.round(array))]
        raise DataFormatError(
            f"{str(source)!r}: {key!r} must hold whole item counts, got {bad.reshape(-1)[0]}; "
            "the file is corrupt, re-download the trajectory"
        )


def _minerl_observations(
    arrays: Mapping[str, np.ndarray], *, num_states: int, source: Path
) -> dict[str, np.ndarray]:
    observations: dict[str, np.ndarray] = {}
    for key in sorted(arrays):
        if not key.startswith("observation$"):
            continue
        name = _observation_name(key)
        if name in observations:  # the other spelling of the equipped-item keys
            continue
        array = arrays[key]
        _check_rows(array, key, num_states, "observations", source)
        if name.startswith("inventory/") or name.endswith(("/damage", "/maxDamage")):
            _check_numeric(array, key, source)
            _check_counts(array, key, source)
            if name.startswith("inventory/") and array.size and np.min(array) < 0:
                raise DataFormatError(
                    f"{str(source)!r}: {key!r} must hold item counts >= 0, got {np.min(array)}; "
                    "the file is corrupt, re-download the trajectory"
                )
            array = array.astype(np.int64)
        elif name.endswith("/type") or array.dtype.kind in "SU":
            array = _as_text(array)
        observations[name] = array
    return observations


def _enum_indices(array: np.ndarray, name: str, *, source: Path) -> tuple[np.ndarray, np.ndarray]:
    """The indices into ``ENUM_ACTIONS[name]`` and the value strings of an enum action."""
    values = ENUM_ACTIONS[name]
    if array.dtype.kind in "SU":
        strings = _as_text(array)
        unique, inverse = np.unique(strings, return_inverse=True)
        unknown = [value for value in unique.tolist() if value not in values]
        if unknown:
            raise DataFormatError(
                f"{str(source)!r}: 'action${name}' holds unknown value(s) {unknown[:5]}; "
                f"the allowed values are {list(values)}"
            )
        table = np.array([values.index(value) for value in unique.tolist()], dtype=np.int64)
        return table[inverse.reshape(-1)], strings
    if array.dtype.kind in "iu":
        if array.size and (array.min() < 0 or array.max() >= len(values)):
            raise DataFormatError(
                f"{str(source)!r}: 'action${name}' holds indices outside [0, {len(values)}) "
                f"of the allowed values {list(values)}"
            )
        return array.astype(np.int64), np.asarray(values)[array]
    raise DataFormatError(
        f"{str(source)!r}: 'action${name}' must hold strings from {list(values)}, "
        f"got dtype {array.dtype}"
    )


def _minerl_actions(
    arrays: Mapping[str, np.ndarray], *, num_steps: int, source: Path
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The action matrix and the ``"action/<name>"`` infos of one trajectory."""
    keys = sorted(key for key in arrays if key.startswith("action$"))
    for key in keys:
        _check_rows(arrays[key], key, num_steps, "actions", source)
    if "action$vector" in arrays:  # VectorObf: the obfuscated action is the action
        _check_numeric(arrays["action$vector"], "action$vector", source)
        return arrays["action$vector"].astype(np.float32), {}

    matrix = np.zeros((num_steps, len(MINERL_ACTION_COLUMNS)), dtype=np.float32)
    infos: dict[str, np.ndarray] = {}
    for key in keys:
        name, array = key[len("action$") :], arrays[key]
        if name in ENUM_ACTIONS:
            indices, strings = _enum_indices(array, name, source=source)
            matrix[:, MINERL_ACTION_COLUMNS.index(name)] = indices
            infos[f"action/{name}"] = strings
            continue
        _check_numeric(array, key, source)
        if name in BINARY_ACTIONS:
            if array.shape != (num_steps,):
                raise DataFormatError(
                    f"{str(source)!r}: {key!r} must have shape ({num_steps},), one value per step, got {array.shape}"
                )
            matrix[:, MINERL_ACTION_COLUMNS.index(name)] = array
        elif name == "camera":
            if array.shape != (num_steps, 2):
                raise DataFormatError(
                    f"{str(source)!r}: 'action$camera' must have shape ({num_steps}, 2) "
                    f"(pitch, yaw in degrees), got {array.shape}"
                )
            matrix[:, MINERL_ACTION_COLUMNS.index("camera_pitch")] = array[:, 0]
            matrix[:, MINERL_ACTION_COLUMNS.index("camera_yaw")] = array[:, 1]
        else:  # an action this matrix has no column for: keep it
            infos[f"action/{name}"] = array
    return matrix, infos


def _import_cv2():
    try:
        import cv2
    except ImportError as error:
        raise DependencyNotInstalled(
            "reading MineRL videos (video=True) needs OpenCV: pip install "
            'opencv-python-headless (or pip install "align-rudder[minerl]")'
        ) from error
    return cv2


def _read_video(path: Path, *, num_states: int, true_frame_count: int) -> np.ndarray:
    """Shape (num_states, H, W, 3), uint8 RGB: the last ``num_states`` frames of the video.

    The recording starts before the episode (while Minecraft loads); as MineRL's loader
    does, the first ``true_frame_count - num_states`` frames are skipped.
    """
    if not path.is_file():
        raise FileNotFoundError(
            f"no {_VIDEO_FILE} at {str(path)!r}; download the trajectory with its video or "
            "load it with video=False"
        )
    if isinstance(true_frame_count, bool) or not isinstance(true_frame_count, int) \
            or not 0 <= true_frame_count <= num_states + MAX_SKIPPED_FRAMES:
        raise DataFormatError(
            f"{str(path.parent / _METADATA_FILE)!r}: 'true_video_frame_count' must be an integer in "
            f"[{num_states}, {num_states + MAX_SKIPPED_FRAMES}] (the states plus at most "
            f"{MAX_SKIPPED_FRAMES} frames before the episode), got {true_frame_count!r}; re-download the trajectory"
        )
    skip = int(true_frame_count) - num_states
    if skip < 0:
        raise DataFormatError(
            f"{str(path)!r}: metadata.json says true_video_frame_count={true_frame_count}, "
            f"fewer than the {num_states} states in rendered.npz; re-download the trajectory"
        )
    cv2 = _import_cv2()
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DataFormatError(f"cannot open the video {str(path)!r}; re-download the trajectory")
    frames = []
    try:
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if not (0 < width <= MAX_FRAME_SIDE and 0 < height <= MAX_FRAME_SIDE) \
                or num_states * width * height * 3 > MAX_VIDEO_BYTES:
            raise DataFormatError(
                f"{str(path)!r}: frames of {width}x{height} pixels for {num_states} states exceed the limits "
                f"(sides of at most {MAX_FRAME_SIDE} pixels, {MAX_VIDEO_BYTES} bytes in all: "
                "rudder.data.minerl.MAX_FRAME_SIDE, MAX_VIDEO_BYTES); re-download the trajectory"
            )
        for index in range(int(true_frame_count)):
            if index < skip:
                ok = capture.grab()
            else:
                ok, frame = capture.read()
                if ok:
                    frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            if not ok:
                raise DataFormatError(
                    f"{str(path)!r} has only {index} frames, but {true_frame_count} are "
                    f"needed ({skip} before the episode, then {num_states} states); the "
                    "video is truncated, re-download the trajectory"
                )
    finally:
        capture.release()
    return np.stack(frames).astype(np.uint8, copy=False)


def load_minerl_trajectory(folder: str | os.PathLike, *, video: bool = False) -> Episode:
    """Reads one MineRL v0.4 trajectory folder into an episode (see the module docstring).

    Args:
        folder: a trajectory folder holding ``rendered.npz`` and ``metadata.json`` (and
            ``recording.mp4`` when ``video`` is True).
        video: also read the first-person video into the ``"pov"`` observation, shape
            (T+1, 64, 64, 3), uint8 RGB. Needs OpenCV (``opencv-python-headless``).

    Returns:
        The episode with T = len(reward) steps.

    Raises:
        FileNotFoundError: if a needed file is missing.
        DataFormatError: if a file is truncated or corrupt, holds Python objects, has
            inconsistent lengths or an unknown enum action value, or ``metadata.json``
            is invalid.
        DependencyNotInstalled: if ``video`` is True and OpenCV is not installed.
    """
    folder = Path(folder).expanduser()
    metadata = _read_metadata(folder / _METADATA_FILE, video=video)
    source = folder / _NUMPY_FILE
    arrays = _read_npz(source)
    if "reward" not in arrays:
        raise DataFormatError(
            f"{str(source)!r} has no 'reward' array; its keys are {sorted(arrays)[:10]}"
        )
    rewards = arrays["reward"]
    if rewards.ndim != 1:
        raise DataFormatError(f"{str(source)!r}: 'reward' must be 1-D, got shape {rewards.shape}")
    _check_numeric(rewards, "reward", source)
    num_steps = rewards.shape[0]

    observations = _minerl_observations(arrays, num_states=num_steps + 1, source=source)
    if video:
        observations["pov"] = _read_video(
            folder / _VIDEO_FILE,
            num_states=num_steps + 1,
            true_frame_count=metadata["true_video_frame_count"],
        )
    if not observations:
        raise DataFormatError(
            f"{str(source)!r} has no observation arrays (MineRLTreechop and the Navigate "
            "tasks record only the video); load it with video=True"
        )
    actions, infos = _minerl_actions(arrays, num_steps=num_steps, source=source)
    success = metadata["success"]
    return Episode(
        observations=observations,
        actions=actions,
        rewards=rewards.astype(np.float64),
        terminated=success,
        truncated=not success,
        infos=infos,
    )


def iter_minerl_episodes(
    path: str | os.PathLike,
    *,
    environment: str | None = None,
    video: bool = False,
    limit: int | None = None,
    progress: bool = False,
) -> Iterator[Episode]:
    """Reads the episodes of a MineRL v0.4 dataset one trajectory at a time.

    The folders are found (and errors about them raised) when this function is called;
    each trajectory is read only when the iterator reaches it, so memory holds one.

    Args:
        path: a data root, an environment folder or a trajectory folder
            (see :func:`find_minerl_trajectories`).
        environment: the environment folder to read from a data root.
        video: also read the ``"pov"`` frames (see :func:`load_minerl_trajectory`).
        limit: read at most this many trajectories (the first ones by name).
        progress: show a tqdm progress bar.

    Returns:
        An iterator of episodes, in the order of the sorted folder names.
    """
    limit = check_limit(limit)
    folders = find_minerl_trajectories(path, environment=environment)[:limit]

    def episodes() -> Iterator[Episode]:
        for folder in with_progress(folders, progress, "MineRL trajectories"):
            yield load_minerl_trajectory(folder, video=video)

    return episodes()
