"""Issue 16, item 4 (part): the ``rudder`` command never shows a traceback.

A closed pipe (``rudder show MODEL | head -1``) ends the command quietly; a bad model
file or an output path the OS refuses gives one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rudder
from rudder.cli import main
from rudder.data import save_episodes
from rudder.envs import frozen_lake_demonstrations
from rudder.events import StateClusterEncoder
from rudder.redistribution import AlignmentRedistributor

REPOSITORY = Path(rudder.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "model"
    AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(frozen_lake_demonstrations(4, seed=0)).save(path)
    return path


def one_error_line(capsys, command):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"rudder {command}: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def test_show_into_a_closed_pipe_exits_quietly(saved_model):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written, as after `head -1`
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "rudder.cli", "show", str(saved_model)],
            stdout=write_end, stderr=subprocess.PIPE, cwd=REPOSITORY, timeout=120,
            env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False,
        )
    finally:
        os.close(write_end)
    assert finished.stderr.decode() == ""
    assert finished.returncode == 1


def test_an_unknown_settings_key_in_a_model_is_one_line(tmp_path, saved_model, capsys):
    model = tmp_path / "model"
    model.mkdir()
    for file in saved_model.iterdir():
        (model / file.name).write_bytes(file.read_bytes())
    config = json.loads((model / "model.json").read_text())
    config["settings"]["colour"] = "blue"
    (model / "model.json").write_text(json.dumps(config))
    assert main(["show", str(model)]) == 2
    assert "colour" in one_error_line(capsys, "show")


def test_an_output_path_the_os_refuses_is_one_line(tmp_path, capsys):
    demos = tmp_path / "demos.npz"
    save_episodes(demos, frozen_lake_demonstrations(4, seed=0))
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "other")
    (tmp_path / "other").symlink_to(loop)
    assert main(["align", str(demos), "-o", str(loop)]) == 2
    one_error_line(capsys, "align")

