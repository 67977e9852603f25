"""Saves that never destroy: every file and directory align-rudder writes goes through here.

A *file* save (:func:`atomic_write`) writes a temporary sibling and renames it onto the
destination, so readers see the old file or the new one, never half of one.

A *directory* save (:func:`owned_directory`) writes into a directory only if it is
missing, empty, or this library's directory of the same kind: one carrying the marker
file :data:`MARKER_FILE` that names the format, or (for directories written before the
marker existed) one whose JSON record names the format. It touches only the entries it
owns; anything else is refused with :class:`~rudder.errors.NotOwnedError`. The save runs
in two phases under an exclusive ``flock`` of the directory: every new entry is first
written to a temporary name inside the directory (nothing visible changes if that fails,
for example on a full disk), then all of them are renamed into place. Loads hold a
shared lock (:func:`reading`) while they read, so a reader sees one complete save, and
concurrent writers take turns (the last one to finish wins; none fails because of
another). A killed save leaves only temporary entries, which the next save removes.

New files and directories follow the umask (created with modes 0o666 and 0o777). A
destination that is a symbolic link is written through: its target is updated and the
link is kept.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from rudder.errors import DataFormatError, FormatVersionError, NotOwnedError

try:  # POSIX; elsewhere saves are still staged and atomic per entry, but not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "MARKER_FILE",
    "DirectoryWriter",
    "atomic_write",
    "directory_kind",
    "owned_directory",
    "read_json",
    "read_versioned_json",
    "reading",
    "resolve_destination",
]

#: The marker file of every directory align-rudder writes; it holds the format's name.
MARKER_FILE = ".align-rudder"
_TOKEN_LENGTH = 16
#: Temporary entries of this module: ``.{name}.{16 hex digits}.tmp`` (or ``.old``).
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{16}\.(?:tmp|old)$")
#: Temporary entries of align-rudder versions before this module (``tempfile``'s 8 characters).
_EARLIER_TEMPORARY = r"^\.{name}\.[A-Za-z0-9_]{{8}}\.(?:tmp|old)$"


def resolve_destination(path: str | os.PathLike[str]) -> Path:
    """``path`` with every symbolic link resolved, so that a save updates a link's target
    and keeps the link.

    Raises:
        OSError: if ``path`` is a symbolic link loop (``ELOOP``).
    """
    path = Path(path)
    try:
        resolved = Path(os.path.realpath(path, strict=True)) if path.is_symlink() else path.resolve()
    except FileNotFoundError:
        resolved = Path(os.path.realpath(path))  # a link to a missing target: create the target
    except (OSError, RuntimeError) as error:
        raise OSError(errno.ELOOP, f"cannot save to {str(path)!r}: it is a symbolic link loop ({error})") from None
    if resolved.is_symlink():
        raise OSError(errno.ELOOP, f"cannot save to {str(path)!r}: it is a symbolic link loop")
    return resolved


def _create(path: Path) -> BinaryIO:
    """A new file at ``path`` opened for writing, created with mode 0o666 less the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    return os.fdopen(descriptor, "wb")


def _temporary_name(name: str, suffix: str = "tmp") -> str:
    return f".{name}.{secrets.token_hex(_TOKEN_LENGTH // 2)}.{suffix}"


def _remove(path: Path) -> None:
    """Removes the file or directory tree ``path`` if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _try_lock(descriptor: int) -> bool:
    """Whether an exclusive lock on ``descriptor`` could be taken without waiting."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _remove_abandoned_files(directory: Path, name: str) -> None:
    """Removes the temporary files that killed saves of ``directory/name`` left behind:
    those no live writer holds locked (a writer locks its temporary file while writing)."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.(?:[0-9a-f]{{16}}|[A-Za-z0-9_]{{8}})\.tmp$")
    try:
        candidates = [entry for entry in os.listdir(directory) if pattern.match(entry)]
    except OSError:
        return
    for entry in candidates:
        try:
            descriptor = os.open(directory / entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if _try_lock(descriptor) and os.path.samestat(os.fstat(descriptor), os.lstat(directory / entry)):
                os.unlink(directory / entry)
        except OSError:
            pass
        finally:
            os.close(descriptor)


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], Any]) -> Path:
    """Calls ``write(file_object)`` on a temporary file, then renames it onto ``path``.

    Readers see the old file or the new one, never a half-written one; nothing changes at
    ``path`` if ``write`` fails. The file follows the umask; a symbolic link at ``path``
    is written through (its target is replaced, the link kept). Temporary files that
    killed saves left next to ``path`` are removed.

    Returns:
        the file written (``path`` with links resolved).
    """
    path = resolve_destination(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"cannot save to {str(path)!r}: it is a directory")
    _remove_abandoned_files(path.parent, path.name)
    temporary = path.parent / _temporary_name(path.name)
    try:
        with _create(temporary) as file:
            if fcntl is not None:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX)  # tells cleaners this file is alive
            write(file)
            file.flush()
            os.fsync(file.fileno())
            os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def directory_kind(path: str | os.PathLike[str]) -> str | None:
    """The format named by the marker of directory ``path`` (None without a marker)."""
    try:
        with open(Path(path) / MARKER_FILE, "rb") as file:
            return file.read(256).decode("utf-8", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _legacy_kind(path: Path, legacy: Collection[str]) -> str | None:
    """The ``"format"`` of an unmarked directory written before the marker existed: its
    first ``legacy`` entry is the JSON record, and every ``legacy`` entry must be there."""
    if not legacy or not all((path / name).exists() for name in legacy):
        return None
    record_file = path / next(iter(legacy))
    try:
        if record_file.stat().st_size > 1 << 24:
            return None
        record = json.loads(record_file.read_text())
    except (OSError, ValueError, RecursionError):
        return None
    found = record.get("format") if isinstance(record, dict) else None
    return found if isinstance(found, str) else None


@contextlib.contextmanager
def _locked(path: Path, *, exclusive: bool) -> Iterator[None]:
    """Holds a ``flock`` of the directory ``path`` (exclusive or shared) during the block."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield  # not a directory we can open: the caller's own checks report it
        return
    try:
        if fcntl is not None:
            with contextlib.suppress(OSError):  # a file system without locks: go on unlocked
                fcntl.flock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(descriptor)  # releases the lock


@contextlib.contextmanager
def reading(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Holds a shared lock of the saved directory ``path`` while a loader reads it, so
    that it sees one complete save even while another process saves there.

    Yields:
        ``path`` with symbolic links resolved.
    """
    try:
        resolved = Path(os.path.realpath(path))
    except (OSError, RuntimeError):
        resolved = Path(path)
    with _locked(resolved, exclusive=False):
        yield resolved


class DirectoryWriter:
    """Stages the entries of one directory save (see :func:`owned_directory`).

    Entries are renamed into place in the order they were written, so write the JSON
    record that names the format last.
    """

    def __init__(self, path: Path, owned: Collection[str]) -> None:
        self.path = path
        self._owned = frozenset(owned)
        self._staged: list[tuple[str, Path]] = []

    def _stage(self, name: str) -> Path:
        if name not in self._owned:
            raise ValueError(f"{name!r} is not one of the entries this save owns: {sorted(self._owned)}")
        if any(staged == name for staged, _ in self._staged):
            raise ValueError(f"{name!r} was already written in this save")
        temporary = self.path / _temporary_name(name)
        self._staged.append((name, temporary))
        return temporary

    def write(self, name: str, write: Callable[[BinaryIO], Any]) -> None:
        """Stages the file ``name``: calls ``write(file_object)`` on its temporary file."""
        temporary = self._stage(name)
        with _create(temporary) as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())

    def write_bytes(self, name: str, data: bytes) -> None:
        """Stages the file ``name`` with the contents ``data``."""
        self.write(name, lambda file: file.write(data))

    def write_text(self, name: str, text: str) -> None:
        """Stages the file ``name`` with the UTF-8 text ``text``."""
        self.write_bytes(name, text.encode("utf-8"))

    def directory(self, name: str, save: Callable[[Path], Any]) -> None:
        """Stages the subdirectory ``name``: ``save(path)`` writes it into an empty directory."""
        temporary = self._stage(name)
        temporary.mkdir()
        save(temporary)

    def _discard(self) -> None:
        for _, temporary in self._staged:
            _remove(temporary)

    def _commit(self) -> None:
        """Renames every staged entry into place, then removes the owned entries this save
        did not write (an earlier save's optional files)."""
        for name, temporary in self._staged:
            destination = self.path / name
            if destination.is_dir() and not destination.is_symlink():
                retired = self.path / _temporary_name(name, "old")
                os.replace(destination, retired)
                os.replace(temporary, destination)
                _remove(retired)
            else:
                if temporary.is_dir() and destination.exists():
                    destination.unlink()
                os.replace(temporary, destination)
        written = {name for name, _ in self._staged} | {MARKER_FILE}
        for name in self._owned - written:
            _remove(self.path / name)


def _check_owned(path: Path, *, kind: str, owned: Collection[str], legacy: Collection[str], what: str) -> bool:
    """Raises :class:`NotOwnedError` unless the directory ``path`` may be written by a save
    of ``kind``; returns whether it still needs its marker."""
    marked = directory_kind(path)
    if marked is not None:
        if marked != kind:
            raise NotOwnedError(
                f"{str(path)!r} is not {what}: it holds a {marked!r} written by align-rudder; "
                "choose another path or remove that directory first"
            )
        return False
    known = set(owned) | {MARKER_FILE}
    foreign = sorted(
        entry for entry in os.listdir(path)
        if not ((match := _TEMPORARY.match(entry)) and match["name"] in known)
    )
    if foreign and _legacy_kind(path, legacy) != kind:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise NotOwnedError(
            f"{str(path)!r} exists and is not {what}: it holds files align-rudder did not write "
            f"({shown}) and no {MARKER_FILE} marker naming {kind!r}; choose another path or an empty directory"
        )
    return True


def _remove_debris(path: Path, owned: Collection[str]) -> None:
    """Removes the temporary entries of killed saves inside ``path`` (called under the
    exclusive lock, when no other save of ``path`` runs)."""
    known = set(owned) | {MARKER_FILE}
    for entry in os.listdir(path):
        match = _TEMPORARY.match(entry)
        if match and match["name"] in known:
            _remove(path / entry)


def _remove_earlier_debris(path: Path, *, kind: str, legacy: Collection[str]) -> None:
    """Removes the ``.NAME.XXXXXXXX.tmp``/``.old`` sibling directories that killed saves of
    earlier align-rudder versions left next to ``path``, if they hold a model of ``kind``."""
    pattern = re.compile(_EARLIER_TEMPORARY.format(name=re.escape(path.name)))
    with contextlib.suppress(OSError):
        for entry in os.listdir(path.parent):
            candidate = path.parent / entry
            if not pattern.match(entry) or candidate.is_symlink() or not candidate.is_dir():
                continue
            if not any(candidate.iterdir()) or _legacy_kind(candidate, legacy) == kind:
                shutil.rmtree(candidate, ignore_errors=True)


@contextlib.contextmanager
def owned_directory(
    path: str | os.PathLike[str],
    *,
    kind: str,
    owned: Collection[str],
    legacy: Collection[str] = (),
    what: str = "an align-rudder directory",
) -> Iterator[DirectoryWriter]:
    """Saves a directory of ``kind`` at ``path``: yields a :class:`DirectoryWriter` to stage
    its entries, which are moved into place together when the block ends without an error.

    Args:
        path: the directory; created if missing; a symbolic link is written through.
        kind: the format's name, kept in the marker file (``"align-rudder/..."``).
        owned: the names of the entries a save of this kind writes; only these (and the
            marker) are ever replaced or removed.
        legacy: for directories written before the marker: the JSON record naming
            ``"format"`` first, then the other entries such a directory must hold.
        what: what a directory of ``kind`` is, for messages ("a checkpoint").

    Raises:
        NotOwnedError: if ``path`` is a file, or a directory holding anything but a save
            of ``kind`` (nothing is written then).
        OSError: if ``path`` is a symbolic link loop or cannot be written.
    """
    path = resolve_destination(path)
    if path.exists() and not path.is_dir():
        raise NotOwnedError(f"{str(path)!r} exists and is not {what}: it is a file; choose another path")
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    try:
        with _locked(path, exclusive=True):
            needs_marker = _check_owned(path, kind=kind, owned=owned, legacy=legacy, what=what)
            _remove_debris(path, owned)
            _remove_earlier_debris(path, kind=kind, legacy=legacy)
            if needs_marker:  # first, so that a killed save leaves a directory known as ours
                marker = path / _temporary_name(MARKER_FILE)
                with _create(marker) as file:
                    file.write(kind.encode("utf-8") + b"\n")
                os.replace(marker, path / MARKER_FILE)
            writer = DirectoryWriter(path, owned)
            try:
                yield writer
            except BaseException:
                writer._discard()
                raise
            writer._commit()
    except BaseException:
        if created:  # a failed first save leaves no directory behind
            _remove_unwritten(path)
        raise


def _remove_unwritten(path: Path) -> None:
    """Removes the directory ``path`` that a failed save created, if it holds nothing but
    the marker (and its temporary file)."""
    with contextlib.suppress(OSError):
        entries = os.listdir(path)
        if all(entry == MARKER_FILE or ((match := _TEMPORARY.match(entry)) and match["name"] == MARKER_FILE) for entry in entries):
            for entry in entries:
                (path / entry).unlink()
            path.rmdir()


#: The largest JSON record (``model.json``, ``config.json``, ``checkpoint.json``) read.
MAX_JSON_BYTES = 1 << 26


def read_json(file: str | os.PathLike[str]) -> Any:
    """The JSON value in ``file``, bounded in size (:data:`MAX_JSON_BYTES`) and depth.

    Raises:
        FileNotFoundError: if the file does not exist.
        DataFormatError: if it is too large, not UTF-8 JSON, or nested too deeply.
    """
    file = Path(file)
    size = file.stat().st_size
    if size > MAX_JSON_BYTES:
        raise DataFormatError(f"{str(file)!r} holds {size} bytes, more than a JSON record may ({MAX_JSON_BYTES})")
    try:
        return json.loads(file.read_bytes().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataFormatError(f"{str(file)!r} is not valid JSON: {error}") from None
    except RecursionError:
        raise DataFormatError(f"{str(file)!r} is not a valid record: its JSON is nested too deeply") from None


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
    record = read_json(file)
    if not isinstance(record, dict) or record.get("format") != format:
        raise DataFormatError(f"{str(file)!r} is not {what}")
    found = record.get("format_version")
    if not isinstance(found, int) or isinstance(found, bool):
        raise DataFormatError(f"{str(file)!r} has no integer format_version")
    if found > version:
        raise FormatVersionError(
            f"{str(file)!r} was written with format version {found} "
            f"(align-rudder {str(record.get('library_version', '?'))[:40]}), newer than the versions up to "
            f"{version} that this align-rudder reads; upgrade align-rudder"
        )
    return record
