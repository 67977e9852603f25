"""Issue 16, items 1, 7, 8 and 11: saves that never destroy.

A save writes into a directory only if it is missing, empty, or this library's save of
the same kind (its ``.align-rudder`` marker, or for older models the JSON record, names
the format); it touches only its own entries; it cleans what a killed save left; its
files follow the umask; a symbolic link is written through and kept.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import stat

import gymnasium as gym
import numpy as np
import pytest

from rudder import Episode, load_episodes, save_episodes
from rudder._files import MARKER_FILE, directory_kind
from rudder.errors import NotOwnedError
from rudder.events import StateClusterEncoder
from rudder.redistribution import AlignmentRedistributor, LSTMRedistributor, load_redistributor


def demonstration(final_reward=1.0):
    return Episode(observations=np.array([0, 1, 2, 3]), actions=np.zeros(3, dtype=int),
                   rewards=np.array([0.0, 0.0, final_reward]), terminated=True)


@pytest.fixture(scope="module")
def model():
    from rudder.envs import frozen_lake_demonstrations

    return AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(frozen_lake_demonstrations(4, seed=0))


@pytest.fixture(scope="module")
def lstm():
    return LSTMRedistributor(gym.spaces.Discrete(4), gym.spaces.Discrete(2), hidden_size=4)


def names(path):
    return sorted(entry.name for entry in path.iterdir())


# -- item 1: nothing of the user's is deleted ------------------------------------------------
def test_a_project_folder_with_a_stray_model_json_is_refused_and_kept(model, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "model.json").write_text('{"mine": true}')
    (folder / "thesis.tex").write_text("years of work")
    with pytest.raises(NotOwnedError, match="thesis.tex"):
        model.save(folder)
    assert names(folder) == ["model.json", "thesis.tex"]
    assert (folder / "thesis.tex").read_text() == "years of work"
    assert json.loads((folder / "model.json").read_text()) == {"mine": True}


def test_a_folder_with_a_stray_config_json_is_refused_by_the_lstm(lstm, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "data.csv").write_text("1,2")
    with pytest.raises(NotOwnedError, match="not a RUDDER model directory"):
        lstm.save(folder)
    assert names(folder) == ["config.json", "data.csv"]


def test_extra_files_in_a_model_directory_survive_a_save(model, tmp_path):
    path = tmp_path / "model"
    model.save(path)
    (path / "NOTES.md").write_text("fitted on the May runs")
    model.save(path)
    assert names(path) == [MARKER_FILE, "NOTES.md", "arrays.npz", "model.json"]
    assert (path / "NOTES.md").read_text() == "fitted on the May runs"
    assert load_redistributor(path).scale == model.scale


def test_a_model_of_another_kind_is_not_overwritten(model, lstm, tmp_path):
    path = tmp_path / "model"
    lstm.save(path)
    with pytest.raises(NotOwnedError, match="lstm-redistributor"):
        model.save(path)
    assert directory_kind(path) == "align-rudder/lstm-redistributor"
    assert isinstance(load_redistributor(path), LSTMRedistributor)


def test_a_model_saved_before_the_marker_loads_and_can_be_saved_over(model, tmp_path):
    path = tmp_path / "model"
    model.save(path)
    (path / MARKER_FILE).unlink()  # as earlier versions wrote it
    assert load_redistributor(path).scale == model.scale
    model.save(path)
    assert names(path) == [MARKER_FILE, "arrays.npz", "model.json"]


def test_a_file_where_the_directory_belongs_is_refused(model, tmp_path):
    (tmp_path / "model").write_text("a file")
    with pytest.raises(NotOwnedError, match="is a file"):
        model.save(tmp_path / "model")
    assert (tmp_path / "model").read_text() == "a file"


def test_save_episodes_refuses_to_overwrite_another_file(tmp_path):
    (tmp_path / "notes.npz").write_text("not episodes")
    with pytest.raises(NotOwnedError, match="not an episodes file"):
        save_episodes(tmp_path / "notes.npz", [demonstration()])
    assert (tmp_path / "notes.npz").read_text() == "not episodes"
    save_episodes(tmp_path / "episodes.npz", [demonstration()])
    save_episodes(tmp_path / "episodes.npz", [demonstration(2.0)])  # its own file: replaced
    assert load_episodes(tmp_path / "episodes.npz")[0].episode_return == 2.0


# -- item 7: a killed save leaves nothing behind that the next save keeps --------------------
def _save_and_die(path):
    """Saves a model at ``path`` but dies (as if killed) after staging its files."""
    from rudder import _files
    from rudder.envs import frozen_lake_demonstrations

    def die(self):
        os._exit(9)

    _files.DirectoryWriter._commit = die
    AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(frozen_lake_demonstrations(4, seed=0)).save(path)


def test_the_debris_of_a_killed_save_is_removed_by_the_next(model, tmp_path):
    path = tmp_path / "model"
    model.save(path)
    before = {name: (path / name).read_bytes() for name in ("model.json", "arrays.npz")}
    process = multiprocessing.get_context("fork").Process(target=_save_and_die, args=(path,))
    process.start()
    process.join(60)
    assert process.exitcode == 9
    assert len(names(path)) > 3  # the killed save's staged files are there
    assert {name: (path / name).read_bytes() for name in before} == before  # the model is whole
    model.save(path)
    assert names(path) == [MARKER_FILE, "arrays.npz", "model.json"]
    assert names(tmp_path) == ["model"]


def test_debris_of_earlier_versions_next_to_the_model_is_removed(model, tmp_path):
    path = tmp_path / "model"
    model.save(path)
    for suffix in ("tmp", "old"):  # staged_directory's names: .NAME.<8 characters>.tmp / .old
        debris = tmp_path / f".model.k2j4_x9q.{suffix}"
        debris.mkdir()
        for name in ("model.json", "arrays.npz"):
            (debris / name).write_bytes((path / name).read_bytes())
    (tmp_path / ".model.abcdefgh.tmp").mkdir()
    (tmp_path / ".model.abcdefgh.tmp" / "keep.txt").write_text("not a model: kept")
    model.save(path)
    assert names(tmp_path) == [".model.abcdefgh.tmp", "model"]


def test_a_killed_episodes_save_leaves_no_temporary_file_behind(tmp_path):
    (tmp_path / ".episodes.npz.0123456789abcdef.tmp").write_bytes(b"half a file")  # a killed save's
    (tmp_path / ".episodes.npz.k2j4_x9q.tmp").write_bytes(b"half a file")  # an earlier version's
    save_episodes(tmp_path / "episodes.npz", [demonstration()])
    assert names(tmp_path) == ["episodes.npz"]


def test_a_failed_save_leaves_the_old_model_and_no_debris(model, tmp_path, monkeypatch):
    path = tmp_path / "model"
    model.save(path)
    before = {name: (path / name).read_bytes() for name in names(path)}
    from rudder import _files

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_files.DirectoryWriter, "write_text", full_disk)  # model.json is written last
    with pytest.raises(OSError, match="No space"):
        model.save(path)
    assert {name: (path / name).read_bytes() for name in names(path)} == before


# -- item 8: a symbolic link is written through and kept ------------------------------------
def test_saving_through_a_symlink_updates_the_target_and_keeps_the_link(model, lstm, tmp_path):
    for save, name in ((model.save, "alignment"), (lstm.save, "lstm")):
        target = tmp_path / f"{name}-v1"
        save(target)
        link = tmp_path / name
        link.symlink_to(target.name)
        save(link)
        assert link.is_symlink() and os.readlink(link) == target.name
        assert type(load_redistributor(link)) is type(load_redistributor(target))
    (tmp_path / "episodes-v1.npz").write_bytes(b"")
    (tmp_path / "episodes.npz").symlink_to("episodes-v1.npz")
    save_episodes(tmp_path / "episodes.npz", [demonstration()])
    assert (tmp_path / "episodes.npz").is_symlink()
    assert len(load_episodes(tmp_path / "episodes-v1.npz")) == 1


def test_a_symlink_loop_is_one_clear_error(model, tmp_path):
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(OSError, match="symbolic link loop"):
        model.save(tmp_path / "loop")


# -- item 11: files follow the umask ----------------------------------------------------------
@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_saved_files_follow_the_umask(model, lstm, tmp_path, umask):
    previous = os.umask(umask)
    try:
        save_episodes(tmp_path / "episodes.npz", [demonstration()])
        model.save(tmp_path / "model")
        lstm.save(tmp_path / "lstm")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "episodes.npz").stat().st_mode) == 0o666 & ~umask
    for directory in (tmp_path / "model", tmp_path / "lstm"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o777 & ~umask
        for file in directory.iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o666 & ~umask, file
