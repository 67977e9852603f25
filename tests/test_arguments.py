"""Dataclass command-line arguments, and the scripts' --help."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from rudder.arguments import argument_parser, parse_arguments

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@dataclasses.dataclass
class Args:
    name: str = "x"
    steps: int = 10
    rate: float = 0.5
    fast: bool = True
    sizes: tuple[int, ...] = (1, 2)
    out: str | None = None

    def __post_init__(self):
        if self.steps < 0:
            raise ValueError("`steps` must be >= 0")


HELP = {"name": "a name", "steps": "steps", "rate": "a rate", "fast": "go fast", "sizes": "sizes", "out": "a file"}


def test_defaults_and_values_are_typed():
    assert parse_arguments(Args, [], help=HELP) == Args()
    parsed = parse_arguments(
        Args, ["--name", "y", "--steps", "3", "--rate", "0.25", "--no-fast", "--sizes", "4", "5", "6", "--out", "f.json"],
        help=HELP,
    )
    assert parsed == Args(name="y", steps=3, rate=0.25, fast=False, sizes=(4, 5, 6), out="f.json")


def test_bad_values_exit_with_a_message(capsys):
    with pytest.raises(SystemExit):
        parse_arguments(Args, ["--steps", "many"], help=HELP)
    with pytest.raises(SystemExit):
        parse_arguments(Args, ["--steps", "-1"], help=HELP)
    assert "`steps` must be >= 0" in capsys.readouterr().err


def test_every_field_needs_help():
    with pytest.raises(ValueError, match="'out'"):
        argument_parser(Args, help={key: value for key, value in HELP.items() if key != "out"})


@pytest.mark.parametrize("script", ["train_minigrid.py", "bench_minigrid.py", "bench_rooms.py", "bench_core.py"])
def test_scripts_explain_themselves(script):
    result = subprocess.run([sys.executable, str(SCRIPTS / script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
