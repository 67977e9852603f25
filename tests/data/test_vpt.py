"""Reader of VPT/BASALT .jsonl logs, on small synthetic files."""

from __future__ import annotations

import json

import pytest

from rudder.data.vpt import (
    CAMERA_DEGREES_PER_PIXEL,
    VPT_ACTION_COLUMNS,
    find_vpt_episodes,
    iter_vpt_episodes,
    load_vpt_episode,
)
from rudder.errors import DataFormatError
from rudder.minecraft import ITEM_REWARDS, MINERL_ITEMS


def vpt_line(inventory, *, keys=(), buttons=(), dx=0.0, dy=0.0, gui=False):
    return json.dumps(
        {
            "mouse": {"x": 640.0, "y": 360.0, "dx": dx, "dy": dy, "buttons": list(buttons)},
            "keyboard": {"keys": list(keys), "newKeys": [], "chars": ""},
            "isGuiOpen": gui,
            "inventory": [{"type": item, "quantity": count} for item, count in inventory],
            "tick": 0,
        }
    )


VPT_LINES = [
    vpt_line([], keys=["key.keyboard.w", "key.keyboard.space"], buttons=[0], dx=100.0, dy=-20.0),
    vpt_line([("oak_log", 1)], keys=["key.keyboard.left.shift"], buttons=[1]),
    vpt_line([("oak_log", 1), ("minecraft:birch_log", 2)], dx=50.0, gui=True),
    vpt_line([("birch_log", 2), ("oak_planks", 4), ("dirt", 3)], keys=["key.keyboard.e"]),
    vpt_line([("oak_log", 1), ("oak_planks", 4), ("dirt", 3)]),
    vpt_line([("oak_planks", 4), ("spruce_planks", 4), ("dirt", 3)]),
]


def test_vpt_round_trip(tmp_path):
    path = tmp_path / "recording.jsonl"
    path.write_text("\n".join(VPT_LINES) + "\n")
    episode = load_vpt_episode(path)

    assert episode.length == 5
    assert sorted(episode.observations) == ["inventory/dirt", "inventory/log", "inventory/planks"]
    assert episode.observations["inventory/log"].tolist() == [0, 1, 3, 2, 1, 0]
    assert episode.observations["inventory/planks"].tolist() == [0, 0, 0, 4, 4, 8]
    assert episode.observations["inventory/dirt"].tolist() == [0, 0, 0, 3, 3, 3]
    # log first gained at step 0, planks at step 2; the later gains pay nothing.
    assert episode.rewards.tolist() == [ITEM_REWARDS["log"], 0.0, ITEM_REWARDS["planks"], 0.0, 0.0]
    assert episode.truncated and not episode.terminated

    actions = episode.actions
    assert actions.shape == (5, len(VPT_ACTION_COLUMNS))
    vpt = VPT_ACTION_COLUMNS.index
    assert actions[0, [vpt("forward"), vpt("jump"), vpt("attack")]].tolist() == [1, 1, 1]
    assert actions[0, [vpt("sneak"), vpt("use"), vpt("back")]].tolist() == [0, 0, 0]
    assert actions[0, vpt("camera_pitch")] == pytest.approx(-20.0 * 360 / 2400)
    assert actions[0, vpt("camera_yaw")] == pytest.approx(100.0 * CAMERA_DEGREES_PER_PIXEL)
    assert actions[1, [vpt("sneak"), vpt("use"), vpt("forward")]].tolist() == [1, 1, 0]
    assert actions[2, vpt("camera_yaw")] == 0.0  # GUI open: the mouse moves a cursor
    assert not actions[3:].any()  # "e" (inventory) has no column


def test_vpt_without_merging(tmp_path):
    path = tmp_path / "recording.jsonl"
    path.write_text("\n".join(VPT_LINES))
    episode = load_vpt_episode(path, merge_variants=False)
    assert (
        "inventory/birch_log" in episode.observations
        and "inventory/log" not in episode.observations
    )
    assert episode.rewards.sum() == 0.0  # no item is called "log" or "planks"


def test_vpt_diamond_terminates(tmp_path):
    path = tmp_path / "diamond.jsonl"
    path.write_text(
        "\n".join(
            [vpt_line([("iron_pickaxe", 1)]), vpt_line([("iron_pickaxe", 1), ("diamond", 1)])]
        )
    )
    episode = load_vpt_episode(path)
    assert episode.terminated and episode.rewards.tolist() == [1024.0]


def test_vpt_broken_files(tmp_path):
    path = tmp_path / "cut.jsonl"
    text = "\n".join(VPT_LINES)
    path.write_text(text[: len(text) - 40])
    with pytest.raises(DataFormatError, match=r"cut.jsonl', line 6: invalid JSON.*truncated"):
        load_vpt_episode(path)
    path.write_text("\n".join([VPT_LINES[0], "{not json", VPT_LINES[1]]))
    with pytest.raises(DataFormatError, match="line 2: invalid JSON") as error:
        load_vpt_episode(path)
    assert "truncated" not in str(error.value)
    path.write_text("\n\n")
    with pytest.raises(DataFormatError, match="cut.jsonl' is empty"):
        load_vpt_episode(path)
    path.write_text(json.dumps({"keyboard": {"keys": []}}))
    with pytest.raises(DataFormatError, match="line 1: no 'inventory' list"):
        load_vpt_episode(path)
    with pytest.raises(FileNotFoundError, match="no VPT .jsonl file"):
        load_vpt_episode(tmp_path / "absent.jsonl")


def test_iter_vpt_episodes(tmp_path):
    for name in ("6.13/b-2.jsonl", "6.13/a-1.jsonl", "6.10/c-3.jsonl"):
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join(VPT_LINES[:3]))
    files = find_vpt_episodes(tmp_path)
    assert [file.relative_to(tmp_path).as_posix() for file in files] == [
        "6.10/c-3.jsonl", "6.13/a-1.jsonl", "6.13/b-2.jsonl",
    ]  # fmt: skip
    assert [episode.length for episode in iter_vpt_episodes(tmp_path, limit=2)] == [2, 2]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .jsonl files in .*empty"):
        iter_vpt_episodes(tmp_path / "empty")


def test_vpt_fixed_items(tmp_path):
    path = tmp_path / "recording.jsonl"
    path.write_text("\n".join(VPT_LINES))
    episode = load_vpt_episode(path, items=MINERL_ITEMS)
    assert sorted(episode.observations) == sorted(f"inventory/{item}" for item in MINERL_ITEMS)
    assert episode.observations["inventory/planks"].tolist() == [0, 0, 0, 4, 4, 8]
    assert not episode.observations["inventory/diamond"].any()
    assert episode.rewards.sum() == ITEM_REWARDS["log"] + ITEM_REWARDS["planks"]
    with pytest.raises(TypeError, match="got the string 'log'"):
        load_vpt_episode(path, items="log")
