"""Dataclass command-line arguments, and the scripts' --help."""

import dataclasses
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest

from rudder.arguments import argument_parser, field_help, parse_arguments, parse_several

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


@dataclasses.dataclass
class Documented:
    """Options documented the cleanrl way: a string under each field."""

    steps: int = 3
    """Env steps
    in all."""
    mode: Literal["fast", "slow"] = "fast"
    """How to go."""
    names: tuple[str, ...] = ()
    """Names, any number."""
    limit: float | None = None
    """A limit."""


@dataclasses.dataclass
class Other:
    seed: int = dataclasses.field(default=0, metadata={"help": "the seed"})


def test_help_comes_from_the_string_under_each_field_or_the_metadata():
    assert field_help(Documented) == {"steps": "Env steps in all.", "mode": "How to go.", "names": "Names, any number.", "limit": "A limit."}
    assert field_help(Other) == {"seed": "the seed"}
    assert "Env steps in all." in argument_parser(Documented).format_help()


def test_several_dataclasses_share_one_parser():
    documented, other = parse_several((Documented, Other), ["--mode", "slow", "--names", "a", "b", "--limit", "0.5", "--seed", "4"])
    assert documented == Documented(mode="slow", names=("a", "b"), limit=0.5) and other == Other(seed=4)
    assert parse_several((Documented, Other), []) == (Documented(), Other())


def test_choices_and_shared_names_are_checked(capsys):
    with pytest.raises(SystemExit):
        parse_several((Documented,), ["--mode", "medium"])
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(ValueError, match="'seed' is in both"):
        argument_parser(Other, Other)


def test_a_script_explains_itself_from_the_shell():
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "train_minigrid.py"), "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


@pytest.mark.parametrize("script", sorted(path.name for path in SCRIPTS.glob("*.py")))
def test_every_script_explains_itself(script, monkeypatch, capsys):
    """``--help`` of every script, run in this process (the shell start is tested above)."""
    monkeypatch.setattr(sys, "argv", [str(SCRIPTS / script), "--help"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(SCRIPTS / script), run_name="__main__")
    assert exited.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_help_also_comes_from_the_attributes_section_and_options_join_a_parser():
    import argparse

    from rudder.arguments import add_options, settings_from
    from rudder.redistribution import AlignmentSettings

    assert field_help(AlignmentSettings)["consensus_threshold"] == "share of demonstrations a sub-goal column needs."
    parser = argparse.ArgumentParser()
    add_options(parser, AlignmentSettings, flags={"consensus_threshold": "--threshold"}, exclude=("correction",))
    parsed = parser.parse_args(["--threshold", "0.6", "--delete-score", "-1.5", "--top-n", "3"])
    assert settings_from(AlignmentSettings, parsed) == AlignmentSettings(consensus_threshold=0.6, delete_score=-1.5, top_n=3)
    assert settings_from(AlignmentSettings, parser.parse_args([])) == AlignmentSettings()
    with pytest.raises(SystemExit):
        parser.parse_args(["--correction"])


@dataclasses.dataclass
class Shaped:
    size: tuple[int, int] = dataclasses.field(default=(2, 3), metadata={"help": "rows and columns"})
    share: float = dataclasses.field(default=0.5, metadata={"help": "a share in % of the total"})


def test_fixed_length_tuples_and_percent_signs():
    assert parse_arguments(Shaped, ["--size", "4", "5"]).size == (4, 5)
    with pytest.raises(SystemExit):
        parse_arguments(Shaped, ["--size", "1", "2", "3"])
    assert "in % of the total" in argument_parser(Shaped).format_help()
