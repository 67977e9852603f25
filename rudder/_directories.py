"""Writing a directory so that a failure never leaves it half-written."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


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
