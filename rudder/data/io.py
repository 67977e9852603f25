"""Saving and loading episodes as ``.npz`` files, without pickle.

Layout of the file (format version 1): ``format_version`` (int), ``num_episodes`` (int),
and per episode ``i`` the arrays ``{i}/rewards``, ``{i}/actions``, ``{i}/flags``
(terminated, truncated), ``{i}/observations`` or ``{i}/observations/{key}`` for dict
observations, and ``{i}/infos/{key}``.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from rudder.data.episode import Episode, Observations
from rudder.errors import DataFormatError, FormatVersionError

EPISODES_FORMAT_VERSION = 1


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], Any]) -> None:
    """Calls ``write(file_object)`` on a temporary file, then renames it onto ``path``.

    Nothing is left at ``path`` if ``write`` fails, so a crash never leaves a
    half-written file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def save_episodes(path: str | os.PathLike, episodes: Iterable[Episode]) -> None:
    """Saves episodes to one compressed ``.npz`` file (atomically).

    Args:
        path: destination file; ``.npz`` is not appended automatically.
        episodes: the episodes to save; there must be at least one.

    Raises:
        ValueError: if ``episodes`` is empty or holds something other than ``Episode``.
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
    atomic_write(path, lambda file: np.savez_compressed(file, **arrays))


def load_episodes(path: str | os.PathLike) -> list[Episode]:
    """Loads the episodes written by :func:`save_episodes`.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        DataFormatError: if the file is truncated, corrupt, or not an episodes file.
        FormatVersionError: if the file was written by a newer version of align-rudder.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no episodes file at {str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            contents = {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as error:
        raise DataFormatError(
            f"cannot read episodes from {str(path)!r}: the file is truncated or corrupt "
            f"({type(error).__name__}: {error}); write it again with rudder.save_episodes"
        ) from error
    return episodes_from_arrays(contents, source=str(path))


def episodes_from_arrays(contents: Mapping[str, np.ndarray], *, source: str) -> list[Episode]:
    """Builds episodes from the flat arrays of an episodes file (see the module docstring)."""
    if "format_version" not in contents or "num_episodes" not in contents:
        raise DataFormatError(
            f"{source!r} is not an align-rudder episodes file (no format_version/num_episodes)"
        )
    version = int(contents["format_version"])
    if version > EPISODES_FORMAT_VERSION:
        raise FormatVersionError(
            f"{source!r} was written with episodes format version {version}, but this "
            f"align-rudder reads versions up to {EPISODES_FORMAT_VERSION}; upgrade align-rudder"
        )
    episodes = []
    for index in range(int(contents["num_episodes"])):
        prefix = f"{index}/"
        try:
            flags = contents[prefix + "flags"]
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
        except (ValueError, TypeError) as error:
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
