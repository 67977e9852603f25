"""Issue 16: defects that the reliability probes (scripts/probe_reliability.py) found in
the code after the issue's first fixes, one named test each.

- a failed first save (a full disk) left the new model directory behind, holding only
  its marker ("rudder align on a full disk": half-written output).
"""

from __future__ import annotations

import errno

import pytest

from rudder import AlignmentRedistributor, StateClusterEncoder


@pytest.fixture(scope="module")
def model():
    from rudder.envs import frozen_lake_demonstrations

    return AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(frozen_lake_demonstrations(4, seed=0))


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_first_save_leaves_no_directory(model, tmp_path, monkeypatch):
    from rudder import _files

    monkeypatch.setattr(_files.DirectoryWriter, "write_text", full_disk)
    with pytest.raises(OSError, match="No space"):
        model.save(tmp_path / "model")
    assert sorted(tmp_path.iterdir()) == []


def test_a_failed_save_keeps_a_directory_that_was_there(model, tmp_path, monkeypatch):
    from rudder import _files

    (tmp_path / "model").mkdir()  # the user's empty directory is the user's
    monkeypatch.setattr(_files.DirectoryWriter, "write_text", full_disk)
    with pytest.raises(OSError, match="No space"):
        model.save(tmp_path / "model")
    assert (tmp_path / "model").is_dir()
