"""The version is written once, in pyproject.toml, and read from the installed package."""

from pathlib import Path

import pytest

import rudder

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def test_version_comes_from_pyproject():
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert rudder.__version__ == project["version"]
