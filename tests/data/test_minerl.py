"""Reader of MineRL v0.4 trajectories, on small synthetic files."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from minerl_files import ENVIRONMENT, write_trajectory

from rudder.data.minerl import (
    find_minerl_trajectories,
    iter_minerl_episodes,
    load_minerl_trajectory,
)
from rudder.errors import DataFormatError, DependencyNotInstalled, FormatVersionError
from rudder.minecraft import ENUM_ACTIONS, MINERL_ACTION_COLUMNS


def column(name):
    return MINERL_ACTION_COLUMNS.index(name)


# -- MineRL: reading one trajectory ------------------------------------------------------
@pytest.mark.parametrize("equipped", ["dots", "dollars"])
def test_minerl_round_trip(tmp_path, equipped):
    folder = write_trajectory(tmp_path / "v3_test_trajectory-1", equipped=equipped)
    episode = load_minerl_trajectory(folder)

    assert episode.length == 3
    assert episode.rewards.tolist() == [1.0, 0.0, 2.0]
    assert episode.terminated and not episode.truncated
    assert sorted(episode.observations) == [
        "equipped/mainhand/damage",
        "equipped/mainhand/maxDamage",
        "equipped/mainhand/type",
        "inventory/log",
        "inventory/planks",
    ]
    assert episode.observations["inventory/log"].tolist() == [0, 1, 2, 2]
    assert episode.observations["inventory/planks"].dtype == np.int64
    assert episode.observations["equipped/mainhand/type"].tolist() == [
        "none", "air", "wooden_pickaxe", "none",
    ]  # fmt: skip
    assert episode.observations["equipped/mainhand/damage"].tolist() == [0, 1, 2, 3]
    assert episode.observations["equipped/mainhand/maxDamage"].tolist() == [59] * 4

    actions = episode.actions
    assert actions.shape == (3, len(MINERL_ACTION_COLUMNS)) and actions.dtype == np.float32
    assert actions[:, column("forward")].tolist() == [1, 0, 1]
    assert actions[:, column("attack")].tolist() == [1, 1, 1]
    assert actions[:, column("jump")].tolist() == [0, 0, 0]
    assert actions[:, column("camera_pitch")].tolist() == [0.0, 1.5, 3.0]
    assert actions[:, column("camera_yaw")].tolist() == [0.0, -2.0, -4.0]
    craft = ENUM_ACTIONS["craft"]
    assert actions[:, column("craft")].tolist() == [0, craft.index("planks"), 0]
    assert actions[:, column("place")].tolist() == [
        0,
        0,
        ENUM_ACTIONS["place"].index("crafting_table"),
    ]
    assert actions[:, column("nearbySmelt")].tolist() == [0, 0, 0]  # absent from the file: no-op
    assert episode.infos["action/craft"].tolist() == ["none", "planks", "none"]
    assert episode.infos["action/place"].tolist() == ["none", "none", "crafting_table"]


def test_minerl_failure_is_truncated_and_missing_items_stay_missing(tmp_path):
    folder = write_trajectory(tmp_path / "v3_a", success=False)
    episode = load_minerl_trajectory(folder)
    assert episode.truncated and not episode.terminated
    # Only log and planks were recorded: no other inventory key is invented.
    assert {key for key in episode.observations if key.startswith("inventory/")} == {
        "inventory/log",
        "inventory/planks",
    }


def test_minerl_vector_obf(tmp_path):
    folder = tmp_path / "v3_vector"
    folder.mkdir()
    rng = np.random.default_rng(0)
    np.savez_compressed(
        folder / "rendered.npz",
        reward=np.zeros(4, np.float32),
        **{
            "observation$vector": rng.random((5, 64), dtype=np.float32),
            "action$vector": rng.random((4, 64), dtype=np.float32),
        },
    )
    (folder / "metadata.json").write_text(json.dumps({"success": False}))
    episode = load_minerl_trajectory(folder)
    assert list(episode.observations) == ["vector"]
    assert episode.observations["vector"].shape == (5, 64)
    assert episode.actions.shape == (4, 64) and episode.actions.dtype == np.float32


# -- MineRL: broken files ----------------------------------------------------------------
def test_truncated_npz(tmp_path):
    folder = write_trajectory(tmp_path / "v3_a")
    data = (folder / "rendered.npz").read_bytes()
    (folder / "rendered.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(
        DataFormatError, match="truncated or corrupt npz.*rendered.npz.*re-download"
    ):
        load_minerl_trajectory(folder)


def test_corrupt_metadata(tmp_path):
    folder = write_trajectory(tmp_path / "v3_a")
    (folder / "metadata.json").write_text('{"success": tru')
    with pytest.raises(DataFormatError, match=r"metadata.json.*not valid JSON.*line 1"):
        load_minerl_trajectory(folder)
    (folder / "metadata.json").write_text('{"duration_steps": 3}')
    with pytest.raises(DataFormatError, match=r"lacks the key\(s\) \['success'\]"):
        load_minerl_trajectory(folder)
    (folder / "metadata.json").write_text('{"success": "yes"}')
    with pytest.raises(DataFormatError, match="'success' must be true or false"):
        load_minerl_trajectory(folder)


def test_object_array_is_refused(tmp_path):
    folder = write_trajectory(
        tmp_path / "v3_a",
        extra={"observation$inventory$stick": np.array([0, 1, {}, 2], dtype=object)},
    )
    with pytest.raises(
        DataFormatError, match="'observation\\$inventory\\$stick' holds Python objects"
    ):
        load_minerl_trajectory(folder)


def test_unknown_enum_value(tmp_path):
    folder = write_trajectory(
        tmp_path / "v3_a", extra={"action$craft": np.array(["none", "diamond_sword", "none"])}
    )
    with pytest.raises(
        DataFormatError,
        match=r"unknown value\(s\) \['diamond_sword'\].*allowed values are \['none', 'torch'",
    ):
        load_minerl_trajectory(folder)


def test_inconsistent_lengths(tmp_path):
    folder = write_trajectory(
        tmp_path / "v3_a", extra={"observation$inventory$stick": np.zeros(3, np.int64)}
    )
    with pytest.raises(
        DataFormatError,
        match="'observation\\$inventory\\$stick' has shape \\(3,\\).*4 observations",
    ):
        load_minerl_trajectory(folder)
    folder = write_trajectory(tmp_path / "v3_b", extra={"action$jump": np.zeros(4, np.int64)})
    with pytest.raises(DataFormatError, match="'action\\$jump' has shape \\(4,\\).*3 actions"):
        load_minerl_trajectory(folder)


def test_no_observations(tmp_path):
    folder = tmp_path / "v3_treechop"
    folder.mkdir()
    np.savez_compressed(
        folder / "rendered.npz", reward=np.zeros(2, np.float32), **{"action$attack": np.ones(2)}
    )
    (folder / "metadata.json").write_text(json.dumps({"success": True}))
    with pytest.raises(DataFormatError, match="no observation arrays.*video=True"):
        load_minerl_trajectory(folder)


# -- MineRL: finding trajectories --------------------------------------------------------
@pytest.fixture
def data_root(tmp_path):
    root = tmp_path / "minerl"
    for name in ("v3_c", "v3_a", "v4_b"):
        write_trajectory(root / ENVIRONMENT / name)
    write_trajectory(root / "MineRLTreechop-v0" / "v3_z")
    (root / ENVIRONMENT / "notes").mkdir()  # not a v<ver>_ folder: ignored
    return root


def test_find_trajectories(data_root):
    expected = [data_root / ENVIRONMENT / name for name in ("v3_a", "v3_c", "v4_b")]
    assert find_minerl_trajectories(data_root, environment=ENVIRONMENT) == expected
    assert find_minerl_trajectories(data_root / ENVIRONMENT) == expected
    assert find_minerl_trajectories(expected[1]) == [expected[1]]
    with pytest.raises(
        ValueError,
        match=r"holds 2 environments \(MineRLObtainDiamond-v0, MineRLTreechop-v0\).*environment=",
    ):
        find_minerl_trajectories(data_root)
    with pytest.raises(ValueError, match="no trajectories of environment='MineRLNavigate-v0'"):
        find_minerl_trajectories(data_root, environment="MineRLNavigate-v0")
    with pytest.raises(ValueError, match="not 'MineRLTreechop-v0'"):
        find_minerl_trajectories(data_root / ENVIRONMENT, environment="MineRLTreechop-v0")


def test_find_single_environment_and_errors(tmp_path, data_root):
    root = tmp_path / "single"
    write_trajectory(root / ENVIRONMENT / "v3_only")
    assert find_minerl_trajectories(root) == [root / ENVIRONMENT / "v3_only"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_minerl_trajectories(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        FileNotFoundError, match="no MineRL trajectories in .*empty.*expected a MineRL data root"
    ):
        find_minerl_trajectories(tmp_path / "empty")
    (data_root / ENVIRONMENT / "v3_a" / "metadata.json").unlink()
    with pytest.warns(UserWarning, match="skipping 1 trajectory folder"):
        assert len(find_minerl_trajectories(data_root / ENVIRONMENT)) == 2
    with pytest.raises(FileNotFoundError, match="has no metadata.json"):
        find_minerl_trajectories(data_root / ENVIRONMENT / "v3_a")


@pytest.mark.parametrize("version", ["3", "4\n"])
def test_supported_version_file(data_root, version):
    (data_root / "VERSION").write_text(version)
    assert len(find_minerl_trajectories(data_root, environment=ENVIRONMENT)) == 3


def test_unsupported_version_file(data_root):
    (data_root / "VERSION").write_text("5")
    with pytest.raises(FormatVersionError, match=r"data version 5.*supports versions \[3, 4\]"):
        find_minerl_trajectories(data_root, environment=ENVIRONMENT)
    with pytest.raises(FormatVersionError):
        find_minerl_trajectories(data_root / ENVIRONMENT)
    (data_root / "VERSION").write_text("2")
    with pytest.raises(DataFormatError, match="data version 2"):
        find_minerl_trajectories(data_root, environment=ENVIRONMENT)
    (data_root / "VERSION").write_text("four")
    with pytest.raises(DataFormatError, match="should hold the MineRL data version"):
        find_minerl_trajectories(data_root, environment=ENVIRONMENT)


def test_iter_episodes_is_lazy_and_limited(data_root):
    (data_root / ENVIRONMENT / "v4_b" / "rendered.npz").write_bytes(b"broken")
    episodes = iter_minerl_episodes(data_root, environment=ENVIRONMENT, limit=2, progress=True)
    assert [episode.length for episode in episodes] == [3, 3]  # v4_b, the third, is never read
    with pytest.raises(DataFormatError):
        list(iter_minerl_episodes(data_root, environment=ENVIRONMENT))
    with pytest.raises(ValueError, match="`limit` must be None or a positive integer"):
        iter_minerl_episodes(data_root, environment=ENVIRONMENT, limit=0)
    with pytest.raises(ValueError, match="holds 2 environments"):
        iter_minerl_episodes(data_root)  # raised at the call, not at the first episode


# -- MineRL: video -----------------------------------------------------------------------
def write_video(path, num_frames, *, leading=3):
    """``leading`` black frames, then frames whose red is 200 and blue encodes the index."""
    cv2 = pytest.importorskip("cv2")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 20, (64, 64))
    for index in range(leading + num_frames):
        rgb = np.zeros((64, 64, 3), np.uint8)
        if index >= leading:
            rgb[..., 0] = 200
            rgb[..., 2] = 40 + 30 * ((index - leading) % 6)
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()


def test_video_frames(tmp_path):
    folder = write_trajectory(tmp_path / "v3_video")
    write_video(folder / "recording.mp4", 4)
    episode = load_minerl_trajectory(folder, video=True)
    pov = episode.observations["pov"]
    assert pov.shape == (4, 64, 64, 3) and pov.dtype == np.uint8
    means = pov.reshape(4, -1, 3).mean(axis=1)
    # mp4v is lossy: compare coarse levels. Red stays red (BGR -> RGB), the 3 loading
    # frames are skipped, and the frames come in order.
    np.testing.assert_allclose(means[:, 0], 200, atol=12)
    np.testing.assert_allclose(means[:, 1], 0, atol=12)
    np.testing.assert_allclose(means[:, 2], [40, 70, 100, 130], atol=12)


def test_video_errors(tmp_path, monkeypatch):
    folder = write_trajectory(tmp_path / "v3_video", metadata={"true_video_frame_count": 9})
    write_video(folder / "recording.mp4", 4)
    with pytest.raises(DataFormatError, match="has only 7 frames, but 9 are needed"):
        load_minerl_trajectory(folder, video=True)
    (folder / "recording.mp4").unlink()
    with pytest.raises(FileNotFoundError, match="no recording.mp4"):
        load_minerl_trajectory(folder, video=True)
    write_video(folder / "recording.mp4", 4)
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(DependencyNotInstalled, match="pip install opencv-python-headless"):
        load_minerl_trajectory(folder, video=True)


def test_video_needs_frame_count(tmp_path):
    folder = write_trajectory(tmp_path / "v3_video")
    meta = json.loads((folder / "metadata.json").read_text())
    del meta["true_video_frame_count"]
    (folder / "metadata.json").write_text(json.dumps(meta))
    assert load_minerl_trajectory(folder).length == 3
    with pytest.raises(DataFormatError, match="true_video_frame_count"):
        load_minerl_trajectory(folder, video=True)
