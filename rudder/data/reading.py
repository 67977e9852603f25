"""Helpers shared by the dataset readers (:mod:`rudder.data.minerl`, :mod:`rudder.data.vpt`).

- :func:`check_limit` validates the ``limit`` argument of an ``iter_*_episodes`` reader.
- :func:`with_progress` puts a tqdm progress bar over the files a reader goes through.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["check_limit", "with_progress"]


def check_limit(limit: int | None) -> int | None:
    """Returns ``limit`` if it is None or a positive integer.

    Args:
        limit: the most episodes a reader should read; None reads them all.

    Raises:
        ValueError: if ``limit`` is a bool, not an integer, or below 1.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"`limit` must be None or a positive integer, got {limit!r}")
    return limit


def with_progress(paths: Sequence[Path], progress: bool, description: str) -> Iterable[Path]:
    """Returns ``paths``, behind a tqdm progress bar (one tick per episode) if ``progress``.

    Args:
        paths: the files or folders a reader goes through, one per episode.
        progress: show the bar; False returns ``paths`` unchanged.
        description: the bar's label, for example ``"MineRL trajectories"``.
    """
    if not progress:
        return paths
    from tqdm.auto import tqdm

    return tqdm(paths, desc=description, unit="episode")
