"""Command-line options from dataclasses: the one path from settings to ``argparse``.

Each field of a settings dataclass becomes ``--field-name``. Its help text is the string
written under the field (cleanrl's convention), or ``field(metadata={"help": ...})``.
Booleans get ``--flag/--no-flag``, tuples take several values, ``Literal`` types become
choices, and ``X | None`` fields default to ``None``. Several dataclasses can share one
parser (the experiment harness's own options beside a task's settings); a field name may
appear in only one of them.

Example:
    >>> @dataclasses.dataclass
    ... class Args:
    ...     steps: int = dataclasses.field(default=100, metadata={"help": "Env steps."})
    >>> parse_arguments(Args, ["--steps", "5"]).steps
    5
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import textwrap
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, Union

__all__ = ["add_options", "argument_parser", "field_help", "parse_arguments", "parse_several", "settings_from"]

T = TypeVar("T")


def field_help(cls: type) -> dict[str, str]:
    """The help text of each field of dataclass ``cls`` (and of its dataclass bases) that
    has one: ``metadata["help"]`` where given, else the string literal right below the
    field, else its entry in the class docstring's Google-style ``Attributes:`` section."""
    texts: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass):
            texts.update(_attributes_section(klass))
            texts.update(_docstrings_below_fields(klass))
    for field in dataclasses.fields(cls):
        if "help" in field.metadata:
            texts[field.name] = str(field.metadata["help"])
    return {field.name: texts[field.name] for field in dataclasses.fields(cls) if texts.get(field.name)}


def _attributes_section(cls: type) -> dict[str, str]:
    """``name: text`` entries of the ``Attributes:`` section of ``cls``'s own docstring."""
    lines = inspect.cleandoc(cls.__dict__.get("__doc__") or "").splitlines()
    texts: dict[str, list[str]] = {}
    inside, name = False, None
    for line in lines:
        if line.strip() == "Attributes:":
            inside = True
            continue
        if not inside:
            continue
        if line and not line.startswith(" "):  # the next section
            break
        entry = line.strip()
        head, colon, text = entry.partition(":")
        if line.startswith("    ") and not line.startswith("     ") and colon and head.isidentifier():
            name = head
            texts[name] = [text.strip()]
        elif name is not None and entry:
            texts[name].append(entry)
    return {key: " ".join(parts) for key, parts in texts.items()}


def _docstrings_below_fields(cls: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # defined in an interactive session: metadata only
        return {}
    body = ast.parse(source).body[0]
    texts: dict[str, str] = {}
    statements = getattr(body, "body", [])
    for statement, following in zip(statements, statements[1:]):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            texts[statement.target.id] = " ".join(following.value.value.split())
    return texts


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise ValueError(f"field {field.name!r} needs a default to become a command-line option")


def _without_none(annotation: Any) -> Any:
    """``X`` for ``X | None`` (and ``Optional[X]``); the annotation itself otherwise."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _add_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    field: dataclasses.Field,
    annotation: Any,
    text: str,
    flag: str | None = None,
) -> None:
    flag = flag or "--" + field.name.replace("_", "-")
    default = _default(field)
    text = text.replace("%", "%%")  # argparse formats help strings with %
    annotation = _without_none(annotation)
    origin = typing.get_origin(annotation)
    if annotation is bool:
        parser.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction, default=default, help=text)
        return
    if origin is Literal:
        choices = typing.get_args(annotation)
        parser.add_argument(flag, dest=field.name, choices=choices, type=type(choices[0]), default=default, help=f"{text} (default: {default})")
        return
    if origin is tuple:
        members = typing.get_args(annotation)
        fixed = len(members) if members and members[-1] is not Ellipsis else None  # tuple[int, int]: exactly 2
        member = _without_none(members[0])
        options: tuple[Any, ...] | None = typing.get_args(member) if typing.get_origin(member) is Literal else None
        kind = type(options[0]) if options else member
        shown = "none" if default is None else " ".join(map(str, default))
        parser.add_argument(
            flag, dest=field.name, nargs=fixed if fixed is not None else "*" if default == () or default is None else "+", type=kind,
            choices=options, default=default, help=f"{text} (default: {shown})",
        )
        return
    kind = annotation if annotation in (int, float, str) else str
    parser.add_argument(flag, dest=field.name, type=kind, default=default, help=f"{text} (default: {default})")


def argument_parser(
    *classes: type, description: str | None = None, help: Mapping[str, str] | None = None  # noqa: A002
) -> argparse.ArgumentParser:
    """An ``argparse`` parser with one option per field of the dataclasses ``classes``.

    Args:
        classes: settings dataclasses; every field needs a default and a help text.
        description: the text above the options (``--help``).
        help: extra help texts by field name, taking precedence over the docstrings.

    Raises:
        TypeError: if a class is not a dataclass.
        ValueError: if a field has no help text, or two classes share a field name.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    seen: dict[str, str] = {}
    for cls in classes:
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise TypeError(f"expected a dataclass, got {cls!r}")
        texts = {**field_help(cls), **(help or {})}
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if field.name in seen:
                raise ValueError(f"field {field.name!r} is in both {seen[field.name]} and {cls.__name__}")
            seen[field.name] = cls.__name__
            if not texts.get(field.name):
                raise ValueError(
                    f"no help text for field {field.name!r} of {cls.__name__}: write a string under "
                    'the field or use field(metadata={"help": ...})'
                )
            _add_option(parser, field, hints[field.name], texts[field.name])
    return parser


def add_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    flags: Mapping[str, str] | None = None,
    exclude: Sequence[str] = (),
) -> None:
    """Adds one option per field of dataclass ``cls`` to an existing parser (or group),
    with the field's default and help text; the parsed value lands under the field's name.

    Args:
        parser: the parser or argument group.
        cls: the settings dataclass.
        flags: option names for some fields (e.g. ``{"consensus_threshold": "--threshold"}``).
        exclude: fields that get no option.
    """
    texts = field_help(cls)
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in exclude:
            continue
        if not texts.get(field.name):
            raise ValueError(f"no help text for field {field.name!r} of {cls.__name__}")
        _add_option(parser, field, hints[field.name], texts[field.name], (flags or {}).get(field.name))


def settings_from(cls: type[T], namespace: argparse.Namespace | Mapping[str, Any]) -> T:
    """An instance of dataclass ``cls`` from parsed options (fields without an option keep
    their defaults; lists become tuples)."""
    values = vars(namespace) if isinstance(namespace, argparse.Namespace) else dict(namespace)
    names = {field.name for field in dataclasses.fields(cls)} & set(values)  # type: ignore[arg-type]
    return cls(**{name: tuple(values[name]) if isinstance(values[name], list) else values[name] for name in names})


def _instance(cls: type[T], values: Mapping[str, Any]) -> T:
    fields = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = values[field.name]
        fields[field.name] = tuple(value) if isinstance(value, list) else value
    return cls(**fields)


def parse_several(
    classes: Sequence[type], argv: Sequence[str] | None, *, description: str | None = None
) -> tuple[Any, ...]:
    """Parses ``argv`` into one instance of each dataclass of ``classes`` (one parser).

    A ``ValueError`` or ``TypeError`` from a dataclass's own checks exits with the
    parser's usage and the message, as a bad option would.
    """
    parser = argument_parser(*classes, description=description)
    values = vars(parser.parse_args(argv))
    try:
        return tuple(_instance(cls, values) for cls in classes)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
        raise  # unreachable: parser.error exits


def parse_arguments(
    cls: type[T], argv: Sequence[str] | None, *, description: str | None = None, help: Mapping[str, str] | None = None  # noqa: A002
) -> T:
    """Parses ``argv`` into an instance of dataclass ``cls`` (``--help`` lists the fields)."""
    parser = argument_parser(cls, description=description, help=help)
    values = vars(parser.parse_args(argv))
    try:
        return _instance(cls, values)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
        raise  # unreachable: parser.error exits
