"""Where demonstrations come from: one spec string for every command and script.

A *demonstrations spec* names episodes in one of three places:

- ``PATH.npz``: an episodes file written by :func:`rudder.save_episodes`;
- ``minari:DATASET_ID``: a Minari dataset stored locally (:func:`rudder.data.minari.load_minari`);
- ``imitation:PATH``: trajectories saved by the ``imitation`` library
  (:func:`rudder.data.imitation_format.load_imitation`).

``rudder align SPEC`` and every script's ``--demos-file SPEC`` read demonstrations through
:func:`load_demonstrations`; :func:`check_demonstrations` refuses a spec that names nothing
before any work starts, and :func:`demonstrations_digest` fingerprints what it names for
the result files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from rudder.data.episode import Episode

__all__ = [
    "IMITATION_PREFIX",
    "MINARI_PREFIX",
    "check_demonstrations",
    "demonstrations_digest",
    "load_demonstrations",
    "split_spec",
]

MINARI_PREFIX = "minari:"
IMITATION_PREFIX = "imitation:"


def split_spec(spec: str | os.PathLike) -> tuple[str, str]:
    """``(kind, target)`` of a spec: kind is ``"minari"``, ``"imitation"`` or ``"file"``.

    Raises:
        ValueError: if the part after a prefix is empty.
    """
    text = os.fspath(spec)
    for kind, prefix in (("minari", MINARI_PREFIX), ("imitation", IMITATION_PREFIX)):
        if text.startswith(prefix):
            target = text[len(prefix) :]
            if not target:
                raise ValueError(f"{text!r}: name what to read after {prefix!r}, e.g. {prefix}{_EXAMPLES[kind]}")
            return kind, target
    return "file", text


_EXAMPLES = {"minari": "D4RL/minigrid/fourrooms-v0", "imitation": "path/to/trajectories"}


def _minari_path(dataset_id: str) -> Path:
    from rudder.data.minari import import_minari

    import_minari()
    from minari.storage.datasets_root_dir import get_dataset_path

    return Path(get_dataset_path(dataset_id))


def check_demonstrations(spec: str | os.PathLike) -> None:
    """Raises unless ``spec`` names something that exists (without reading it).

    Raises:
        FileNotFoundError: if the file, directory or dataset is not there.
        DependencyNotInstalled: for ``minari:`` without minari installed.
    """
    kind, target = split_spec(spec)
    if kind == "file":
        if not Path(target).is_file():
            raise FileNotFoundError(
                f"{target}: no such file (write one with rudder.save_episodes, or name "
                f"{MINARI_PREFIX}DATASET_ID or {IMITATION_PREFIX}PATH)"
            )
    elif kind == "imitation":
        if not Path(target).exists():
            raise FileNotFoundError(f"{target}: no imitation trajectories there (no such file or directory)")
    elif not (_minari_path(target) / "data").is_dir():
        raise FileNotFoundError(
            f"no Minari dataset {target!r} stored locally; list them with `minari list local`, "
            f"or download it with `minari download {target}`"
        )


def load_demonstrations(spec: str | os.PathLike) -> list[Episode]:
    """The episodes that ``spec`` names (see the module docstring).

    Args:
        spec: ``PATH.npz``, ``minari:DATASET_ID`` or ``imitation:PATH``.

    Returns:
        the episodes, in their stored order.

    Raises:
        FileNotFoundError: if nothing is there.
        DataFormatError: if what is there is not readable as episodes.
        DependencyNotInstalled: for ``minari:`` without minari installed.
    """
    kind, target = split_spec(spec)
    if kind == "minari":
        from rudder.data.minari import load_minari

        return load_minari(target)
    if kind == "imitation":
        from rudder.data.imitation_format import load_imitation

        return load_imitation(target)
    from rudder.data.io import load_episodes

    return load_episodes(target)


def demonstrations_digest(spec: str | os.PathLike) -> str:
    """SHA-256 of what ``spec`` names: the file's bytes, or every file of the directory
    (a Minari dataset, imitation trajectories) with its relative path, in sorted order."""
    kind, target = split_spec(spec)
    root = _minari_path(target) if kind == "minari" else Path(target)
    files = [root] if root.is_file() else sorted(path for path in root.rglob("*") if path.is_file())
    digest = hashlib.sha256()
    for path in files:
        if path != root:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
