"""Command-line arguments from a dataclass, for the training and benchmark scripts.

Each field becomes ``--field-name``; booleans get ``--flag/--no-flag``, tuples take
several values, and the help text comes from ``help[field]``.

Example:
    >>> @dataclasses.dataclass
    ... class Args:
    ...     steps: int = 100
    >>> parse_arguments(Args, [], help={"steps": "env steps"}).steps
    100
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def argument_parser(cls: type, *, help: Mapping[str, str], description: str | None = None) -> argparse.ArgumentParser:  # noqa: A002
    """An ``argparse`` parser with one option per field of dataclass ``cls``."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"`cls` must be a dataclass, got {cls!r}")
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for field in dataclasses.fields(cls):
        if field.name not in help:
            raise ValueError(f"no help text for field {field.name!r}")
        flag = "--" + field.name.replace("_", "-")
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
        text = help[field.name]
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
        elif isinstance(default, tuple):
            kind = type(default[0]) if default else str
            parser.add_argument(flag, nargs="+", type=kind, default=list(default), help=f"{text} (default: {' '.join(map(str, default))})")
        else:
            kind = type(default) if default is not None else str
            parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: {default})")
    return parser


def parse_arguments(
    cls: type[T], argv: Sequence[str] | None, *, help: Mapping[str, str], description: str | None = None  # noqa: A002
) -> T:
    """Parses ``argv`` into an instance of dataclass ``cls`` (``--help`` lists the fields)."""
    parser = argument_parser(cls, help=help, description=description)
    values: dict[str, Any] = vars(parser.parse_args(argv))
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if isinstance(values[field.name], list):
            values[field.name] = tuple(values[field.name])
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
        raise  # unreachable: parser.error exits
