"""Model directories: written so that a failure never leaves them half-written, and their
versioned JSON records read back with clear errors."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rudder.errors import DataFormatError, FormatVersionError


@contextlib.contextmanager
def staged_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yields an empty staging directory next to ``path``; when the block ends without an
    error the staging directory replaces ``path`` (moved into place, the old one removed
    afterwards). On an error the staging directory is deleted and ``path`` is untouched.

    Example:
        >>> with staged_directory("model") as staging:          # doctest: +SKIP
        ...     (staging / "config.json").write_text("{}")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield staging
        if path.exists():
            backup = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            backup.rmdir()
            os.replace(path, backup)
            os.replace(staging, path)
            shutil.rmtree(backup)
        else:
            os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read_versioned_json(file: str | os.PathLike, *, format: str, version: int, what: str) -> dict[str, Any]:  # noqa: A002
    """Reads a JSON record that names its ``format`` and ``format_version``.

    Args:
        file: the JSON file.
        format: the expected value of ``"format"``.
        version: the newest ``"format_version"`` this library reads.
        what: what the file holds, for messages ("an align-rudder PPO checkpoint").

    Raises:
        FileNotFoundError: if the file does not exist.
        DataFormatError: if it is not JSON, not ``format``, or has no integer version.
        FormatVersionError: if it was written by a newer format version.
    """
    file = Path(file)
    if not file.is_file():
        raise FileNotFoundError(f"{str(file.parent)!r} is not {what}: {file.name} is missing")
    try:
        record = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataFormatError(f"{str(file)!r} is not valid JSON: {error}") from None
    if not isinstance(record, dict) or record.get("format") != format:
        raise DataFormatError(f"{str(file)!r} is not {what}")
    found = record.get("format_version")
    if not isinstance(found, int):
        raise DataFormatError(f"{str(file)!r} has no integer format_version")
    if found > version:
        raise FormatVersionError(
            f"{str(file)!r} was written with format version {found} "
            f"(align-rudder {record.get('library_version', '?')}), newer than the versions up to "
            f"{version} that this align-rudder reads; upgrade align-rudder"
        )
    return record
