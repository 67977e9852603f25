"""Issue 16: defects that the reliability probes (scripts/probe_reliability.py) found in
the code after the issue's first fixes, one named test each.

- a failed first save (a full disk) left the new model directory behind, holding only
  its marker ("rudder align on a full disk": half-written output);
- the MineRL reader accepted negative inventory counts (the VPT reader refuses them);
- ``rudder redistribute`` of episodes with dict observations against a state-cluster
  model showed the encoder's TypeError as a traceback.
"""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest

from rudder import AlignmentRedistributor, StateClusterEncoder
from rudder.data.minerl import load_minerl_trajectory
from rudder.errors import DataFormatError


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


def write_trajectory(folder, log):
    folder.mkdir()
    steps = len(log) - 1
    np.savez(folder / "rendered.npz", reward=np.ones(steps, np.float32), **{"observation$inventory$log": log},
             **{"action$forward": np.ones(steps, np.int64)})
    (folder / "metadata.json").write_text(json.dumps({"success": True, "duration_steps": steps, "true_video_frame_count": steps + 1}))
    return folder


@pytest.mark.parametrize("log", [np.array([0, 1, -1, 2]), np.array([0.0, 1.0, -1.0, 2.0])])
def test_a_negative_minerl_inventory_count_is_refused(tmp_path, log):
    folder = write_trajectory(tmp_path / "v3_a", log)
    with pytest.raises(DataFormatError, match=r"rendered.npz.*observation\$inventory\$log.*-1"):
        load_minerl_trajectory(folder)


def test_minerl_inventory_counts_of_zero_and_more_load(tmp_path):
    folder = write_trajectory(tmp_path / "v3_a", np.array([0, 1, 1, 2]))
    assert load_minerl_trajectory(folder).observations["inventory/log"].tolist() == [0, 1, 1, 2]


def test_rudder_redistribute_of_episodes_of_another_kind_is_one_line(model, tmp_path, capsys):
    from rudder import Episode, save_episodes
    from rudder.cli import main

    model.save(tmp_path / "model")
    inventories = {"inventory/log": np.array([0, 1, 2])}
    save_episodes(tmp_path / "items.npz", [Episode(observations=inventories, actions=np.zeros(2, np.int64),
                                                   rewards=np.array([0.0, 1.0]), terminated=True)])
    assert main(["redistribute", str(tmp_path / "model"), str(tmp_path / "items.npz")]) == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1
    assert "episode 0 of" in error and "does not fit the model" in error and "integer states" in error
