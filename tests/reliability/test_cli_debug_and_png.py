"""Issue 16, items 4 and 12 (CLI): ``rudder --debug`` shows the traceback instead of the
one-line error, and ``--png pic`` reports the file it wrote, ``pic.png``."""

from __future__ import annotations

import pytest

from rudder.cli import main
from rudder.errors import DataFormatError


def test_debug_shows_the_traceback_of_a_library_error(tmp_path, capsys):
    (tmp_path / "episodes.npz").write_bytes(b"not a zip")
    assert main(["show", str(tmp_path / "missing")]) == 2  # without --debug: one line, exit 2
    assert "Traceback" not in capsys.readouterr().err
    with pytest.raises((DataFormatError, FileNotFoundError)):
        main(["--debug", "redistribute", str(tmp_path / "missing"), str(tmp_path / "episodes.npz")])


def test_png_without_a_suffix_reports_the_file_written(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    assert main(["quickstart", "--demos", "4", "--png", "pic"]) == 0
    output = capsys.readouterr().out
    assert "Wrote the alignment picture to pic.png" in output
    assert (tmp_path / "pic.png").is_file() and not (tmp_path / "pic").exists()
