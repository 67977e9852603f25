"""Saving and loading episodes as ``.npz`` files, without pickle.

Layout of the file (format version 1): ``format_version`` (int), ``num_episodes`` (int),
and per episode ``i`` the arrays ``{i}/rewards``, ``{i}/actions``, ``{i}/flags``
(terminated, truncated), ``{i}/observations`` or ``{i}/observations/{key}`` for dict
observations, and ``{i}/infos/{key}``.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rudder._files import atomic_write
from rudder.data.episode import Episode, Observations
from rudder.errors import DataFormatError, FormatVersionError, NotOwnedError

__all__ = [
    "EPISODES_FORMAT_VERSION",
    "MAX_ARRAY_BYTES",
    "atomic_write",
    "check_same_shapes",
    "episodes_from_arrays",
    "load_episodes",
    "read_npz",
    "save_episodes",
]

EPISODES_FORMAT_VERSION = 1
#: The most bytes the arrays of one ``.npz`` file (episodes, a model's ``arrays.npz``) may
#: declare together; larger files are refused before anything is allocated.
MAX_ARRAY_BYTES = 1 << 33


def _is_episodes_file(path: Path) -> bool:
    """Whether the existing file ``path`` is empty or an episodes file (one a save may replace)."""
    if path.stat().st_size == 0:
        return True
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return {"format_version.npy", "num_episodes.npy"} <= names


def save_episodes(path: str | os.PathLike, episodes: Iterable[Episode]) -> None:
    """Saves episodes to one compressed ``.npz`` file (atomically).

    An existing file at ``path`` is replaced only if it is an episodes file (or empty);
    the new file follows the umask, and a symbolic link at ``path`` is written through.

    Args:
        path: destination file; ``.npz`` is not appended automatically.
        episodes: the episodes to save; there must be at least one.

    Raises:
        ValueError: if ``episodes`` is empty or holds something other than ``Episode``.
        NotOwnedError: if ``path`` is a file that is not an episodes file.
    """
    episodes = list(episodes)
    if not episodes:
        raise ValueError("`episodes` is empty; there is nothing to save")
    arrays: dict[str, Any] = {
        "format_version": np.array(EPISODES_FORMAT_VERSION),
        "num_episodes": np.array(len(episodes)),
    }
    for index, episode in enumerate(episodes):
        if not isinstance(episode, Episode):
            raise TypeError(f"episodes[{index}] must be an Episode, got {type(episode).__name__}")
        prefix = f"{index}/"
        arrays[prefix + "rewards"] = episode.rewards
        arrays[prefix + "actions"] = episode.actions
        arrays[prefix + "flags"] = np.array([episode.terminated, episode.truncated])
        if isinstance(episode.observations, Mapping):
            for key, value in episode.observations.items():
                arrays[f"{prefix}observations/{key}"] = value
        else:
            arrays[prefix + "observations"] = episode.observations
        for key, value in episode.infos.items():
            arrays[f"{prefix}infos/{key}"] = value
    destination = Path(path)
    if destination.is_file() and not _is_episodes_file(destination):
        raise NotOwnedError(
            f"{str(destination)!r} exists and is not an episodes file; save_episodes replaces only "
            "episodes files, so choose another path"
        )
    atomic_write(destination, lambda file: np.savez_compressed(file, **arrays))


def _header(member: Any, name: str, source: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """The shape and dtype of the ``.npy`` member ``name`` and the offset of its data."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member, max_header_size=10_000)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member, max_header_size=10_000)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if dtype.hasobject:
        raise DataFormatError(
            f"{source!r}: the array {name[:-4]!r} holds Python objects, which are never read "
            "(loading them would unpickle code); save it as a numeric or string array"
        )
    return shape, dtype, member.tell()


def read_npz(path: str | os.PathLike, *, max_bytes: int = MAX_ARRAY_BYTES, fix: str = "write it again") -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` file ``path``, read without pickle, every declared size
    checked before anything is allocated.

    Each array's ``.npy`` header must declare exactly the bytes its archive member holds,
    and all arrays together at most ``max_bytes`` (default :data:`MAX_ARRAY_BYTES`).

    Args:
        path: the file.
        max_bytes: the most bytes the arrays may declare together.
        fix: what the user should do about a bad file, for messages.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        DataFormatError: if the file is truncated or corrupt, or declares sizes above the limit.
    """
    source = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            declared = 0
            for member in members:
                name = member.filename
                if not name.endswith(".npy"):
                    raise DataFormatError(f"{source!r} is corrupt: {name!r} is not a .npy array; {fix}")
                with archive.open(member) as stream:
                    shape, dtype, offset = _header(stream, name, source)
                size = math.prod(shape) * dtype.itemsize
                if size + offset != member.file_size:
                    raise DataFormatError(
                        f"{source!r} is corrupt: the array {name[:-4]!r} declares shape {shape} of {dtype} "
                        f"({size} bytes) but holds {member.file_size - offset} bytes; {fix}"
                    )
                declared += size
                if declared > max_bytes:
                    raise DataFormatError(
                        f"{source!r} declares more than {max_bytes} bytes of arrays (the limit, "
                        f"rudder.data.io.MAX_ARRAY_BYTES) at {name[:-4]!r}; {fix}"
                    )
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except DataFormatError:
        raise
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, KeyError,
            TypeError, SyntaxError, NotImplementedError, RuntimeError, OverflowError, MemoryError) as error:
        raise DataFormatError(
            f"truncated or corrupt npz: cannot read {source!r} ({type(error).__name__}: "
            f"{str(error)[:200]}); {fix}"
        ) from None


def load_episodes(path: str | os.PathLike) -> list[Episode]:
    """Loads the episodes written by :func:`save_episodes`.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        DataFormatError: if the file is truncated, corrupt, not an episodes file, or
            declares arrays larger than :data:`MAX_ARRAY_BYTES`.
        FormatVersionError: if the file was written by a newer version of align-rudder.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no episodes file at {str(path)!r}")
    contents = read_npz(path, fix="write it again with rudder.save_episodes")
    return episodes_from_arrays(contents, source=str(path))


def _count(contents: Mapping[str, np.ndarray], name: str, source: str) -> int:
    """The integer scalar ``name`` of an episodes file."""
    value = contents[name]
    if value.shape != () or not np.issubdtype(value.dtype, np.integer):
        raise DataFormatError(f"{source!r} is corrupt: `{name}` must be an integer scalar, got {value.dtype} {value.shape}")
    return int(value)


def episodes_from_arrays(contents: Mapping[str, np.ndarray], *, source: str) -> list[Episode]:
    """Builds episodes from the flat arrays of an episodes file (see the module docstring).

    Raises:
        DataFormatError: if an array is missing or invalid, or the file holds no episode.
        FormatVersionError: if the file was written by a newer version of align-rudder.
    """
    if "format_version" not in contents or "num_episodes" not in contents:
        raise DataFormatError(
            f"{source!r} is not an align-rudder episodes file (no format_version/num_episodes)"
        )
    version = _count(contents, "format_version", source)
    if version > EPISODES_FORMAT_VERSION:
        raise FormatVersionError(
            f"{source!r} was written with episodes format version {version}, but this "
            f"align-rudder reads versions up to {EPISODES_FORMAT_VERSION}; upgrade align-rudder"
        )
    count = _count(contents, "num_episodes", source)
    if not 1 <= count <= len(contents):
        raise DataFormatError(
            f"{source!r} is corrupt: `num_episodes` is {count}, but an episodes file holds at least one "
            f"episode of three arrays each ({len(contents)} arrays here); write it again with rudder.save_episodes"
        )
    episodes = []
    for index in range(count):
        prefix = f"{index}/"
        try:
            flags = contents[prefix + "flags"]
            if flags.shape != (2,) or flags.dtype.kind not in "biu":
                raise ValueError(f"`flags` must be two booleans (terminated, truncated), got {flags.dtype} {flags.shape}")
            observations: Observations
            if prefix + "observations" in contents:
                observations = contents[prefix + "observations"]
            else:
                start = prefix + "observations/"
                observations = {
                    key[len(start) :]: value for key, value in contents.items() if key.startswith(start)
                }
            start = prefix + "infos/"
            infos = {key[len(start) :]: value for key, value in contents.items() if key.startswith(start)}
            episodes.append(
                Episode(
                    observations=observations,
                    actions=contents[prefix + "actions"],
                    rewards=contents[prefix + "rewards"],
                    terminated=bool(flags[0]),
                    truncated=bool(flags[1]),
                    infos=infos,
                )
            )
        except KeyError as error:
            raise DataFormatError(f"{source!r}: episode {index} is missing the array {error}") from error
        except (ValueError, TypeError, IndexError) as error:
            raise DataFormatError(f"{source!r}: episode {index} is invalid: {error}") from error
    return episodes


def check_same_shapes(episodes: Sequence[Episode], *, name: str = "episodes") -> None:
    """Raises ``ValueError`` unless all episodes have the same observation and action shapes."""
    if not episodes:
        raise ValueError(f"`{name}` is empty; give at least one episode")

    def signature(episode: Episode):
        if isinstance(episode.observations, Mapping):
            obs = tuple(sorted((k, v.shape[1:]) for k, v in episode.observations.items()))
        else:
            obs = episode.observations.shape[1:]
        return obs, episode.actions.shape[1:]

    first = signature(episodes[0])
    for index, episode in enumerate(episodes[1:], start=1):
        other = signature(episode)
        if other != first:
            raise ValueError(
                f"`{name}` have mismatched shapes: {name}[0] has observation/action shapes "
                f"{first}, {name}[{index}] has {other}; all episodes must come from one env"
            )
