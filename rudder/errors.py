"""Exceptions raised by align-rudder.

Plain bad arguments raise ``ValueError`` or ``TypeError``; the classes here mark the
library's own failure modes so that callers can catch them as a group.
"""

from __future__ import annotations


class RudderError(Exception):
    """Base class of every error raised on purpose by align-rudder."""


class DataFormatError(RudderError, ValueError):
    """A file on disk is truncated, corrupt, or not in the expected format."""


class FormatVersionError(DataFormatError):
    """A file was written by a newer format version than this library reads."""


class NotFittedError(RudderError, RuntimeError):
    """An encoder, profile or redistributor was used before ``fit``."""


class AlignmentError(RudderError, ValueError):
    """Sequences cannot be aligned (for example, all of them are empty)."""


class DependencyNotInstalled(RudderError, ImportError):
    """An optional dependency is missing; the message names the pip command."""


class NotOwnedError(RudderError, FileExistsError):
    """A save was refused: its destination holds files that align-rudder did not write
    (or a save of another kind), and a save never deletes or overwrites those."""
