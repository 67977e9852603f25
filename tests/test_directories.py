"""Staged directory writes: all or nothing."""

import pytest

from rudder._directories import staged_directory


def test_a_finished_write_replaces_the_directory(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with staged_directory(target) as staging:
        (staging / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging or backup left


def test_a_failed_write_leaves_the_old_directory_alone(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        with staged_directory(target) as staging:
            (staging / "half.txt").write_text("half")
            raise RuntimeError("disk full")
    assert (target / "old.txt").read_text() == "old" and not (target / "half.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
