"""scripts/train_minerl.py on tiny synthetic MineRL v0.4 trajectories: the dataset part
(consensus, sub-tasks, segments) and the exit status 3 of the unimplemented env part."""

import importlib.util
import json
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from rudder.data import load_episodes
from rudder.minecraft import ITEM_REWARDS, MINERL_ACTION_COLUMNS

TESTS = Path(__file__).resolve().parents[1]
SCRIPT = TESTS.parent / "scripts" / "train_minerl.py"

ITEMS = ("log", "planks", "crafting_table", "stick", "wooden_pickaxe", "dirt")
#: The inventory change of each step of a demonstration: two logs, planks, a crafting
#: table, planks again, sticks, then a wooden pickaxe.
CHAIN = [
    {},
    {"log": 1},
    {},
    {"log": 1},
    {"log": -1, "planks": 4},
    {"planks": -4, "crafting_table": 1},
    {"log": -1, "planks": 4},
    {"planks": -2, "stick": 4},
    {"planks": -2, "stick": -2, "wooden_pickaxe": 1},
]
CONSENSUS = "2× log, planks, crafting_table, planks, stick, wooden_pickaxe"
SUBTASKS = ["log", "planks", "crafting_table", "stick", "wooden_pickaxe"]


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


minerl_files = load_module("minerl_files", TESTS / "data" / "minerl_files.py")


def write_demonstration(folder, steps, *, success=True):
    """A trajectory whose inventory changes by ``steps``; ObtainDiamond rewards each
    item's first gain."""
    counts = np.zeros((len(steps) + 1, len(ITEMS)), np.int64)
    rewards = np.zeros(len(steps))
    for step, change in enumerate(steps):
        counts[step + 1] = counts[step]
        for item, delta in change.items():
            column = ITEMS.index(item)
            if delta > 0 and not counts[: step + 1, column].any():
                rewards[step] += ITEM_REWARDS.get(item, 0.0)
            counts[step + 1, column] += delta
    assert (counts >= 0).all()
    minerl_files.write_trajectory(
        folder,
        inventory={item: counts[:, column] for column, item in enumerate(ITEMS)},
        rewards=rewards,
        success=success,
    )


@pytest.fixture
def data_root(tmp_path):
    """4 successful demonstrations (9, 11, 10 and 11 steps) and a failed one."""
    environment = tmp_path / "minerl" / "MineRLObtainDiamond-v0"
    write_demonstration(environment / "v3_a", CHAIN)
    write_demonstration(environment / "v3_b", [{"dirt": 1}, *CHAIN[:3], {}, *CHAIN[3:]])
    write_demonstration(environment / "v3_c", [*CHAIN[:2], {"log": 1}, *CHAIN[2:]])
    write_demonstration(environment / "v3_d", [*CHAIN, {}, {}])
    write_demonstration(environment / "v3_e", [{"dirt": 1}, {"dirt": 1}, {}], success=False)
    write_demonstration(tmp_path / "minerl" / "MineRLTreechop-v0" / "v3_t", CHAIN[:4])
    return tmp_path / "minerl"


@pytest.fixture
def without_minerl(monkeypatch):
    monkeypatch.setitem(sys.modules, "minerl", None)  # `import minerl` now raises ImportError


def test_dataset_part_then_exit_3(data_root, tmp_path, capsys, without_minerl):
    script = load_module("train_minerl", SCRIPT)
    segments_path = tmp_path / "segments.npz"
    status = script.main(["--data", str(data_root), "--segments", str(segments_path)])
    captured = capsys.readouterr()
    assert status == 3
    assert "kept 4 successful ones" in captured.out  # v3_e failed; Treechop is not read
    assert f"of the demonstrations): {CONSENSUS}\n" in captured.out
    assert (
        "  1: planks (2 sub-goals): 10 demonstration steps in 4 of 4 trajectories" in captured.out
    )
    assert 'pip install "align-rudder[minerl]"' in captured.err
    assert "dataset part finished" in captured.err and "not implemented" in captured.err

    segments = load_episodes(segments_path)
    assert sum(segment.length for segment in segments) == 9 + 11 + 10 + 11
    subtasks = [int(segment.infos["subtask"][0]) for segment in segments]
    assert subtasks == sorted(subtasks)  # grouped by sub-task
    # One segment per sub-task and demonstration; planks is in charge twice in each.
    assert [subtasks.count(index) for index in range(len(SUBTASKS))] == [4, 8, 4, 4, 4]
    steps = {index: 0 for index in range(len(SUBTASKS))}
    for segment in segments:
        assert (segment.infos["subtask"] == segment.infos["subtask"][0]).all()
        steps[int(segment.infos["subtask"][0])] += segment.length
    assert steps == {0: 17, 1: 10, 2: 4, 3: 4, 4: 6}
    for index, count in steps.items():  # the printed counts are those of the file
        line = rf"\n  {index}: {SUBTASKS[index]} \(\d sub-goals?\): {count} demonstration steps "
        assert re.search(line + "in 4 of 4 trajectories\n", captured.out)

    # Demonstration 0 (v3_a), cut into log | planks | crafting_table | planks | stick | pickaxe.
    first = sorted(
        (segment for segment in segments if segment.infos["demonstration"][0] == 0),
        key=lambda segment: int(segment.infos["step"][0]),
    )
    assert [segment.infos["step"].tolist() for segment in first] == [
        [0, 1, 2, 3], [4], [5], [6], [7], [8],
    ]  # fmt: skip
    assert [int(segment.infos["subtask"][0]) for segment in first] == [0, 1, 2, 1, 3, 4]
    assert [segment.terminated for segment in first] == [False] * 5 + [True]
    assert [segment.truncated for segment in first] == [True] * 5 + [False]
    pickaxe = first[-1].observations["inventory/wooden_pickaxe"]
    assert pickaxe.tolist() == [0, 1]  # the segment ends with the state after its last step
    assert "action/craft" in first[0].infos
    assert first[0].actions.shape == (4, len(MINERL_ACTION_COLUMNS))

    names = json.loads((tmp_path / "segments.subtasks.json").read_text())
    assert names["subtasks"] == SUBTASKS
    assert names["items"] == list(ITEMS)


def test_minerl_installed_is_still_exit_3(data_root, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "minerl", types.ModuleType("minerl"))
    monkeypatch.setenv("MINERL_DATA_ROOT", str(data_root))  # the default of --data
    script = load_module("train_minerl", SCRIPT)
    assert script.main(["--no-successful-only", "--png", str(tmp_path / "a.png")]) == 3
    captured = capsys.readouterr()
    assert "kept 5, 4 successful" in captured.out
    assert "minerl is installed" in captured.err and "not implemented" in captured.err
    assert (tmp_path / "a.png").stat().st_size > 0


def test_errors_exit_2(data_root, tmp_path, capsys, without_minerl, monkeypatch):
    script = load_module("train_minerl", SCRIPT)
    monkeypatch.delenv("MINERL_DATA_ROOT", raising=False)
    assert script.main([]) == 2
    assert "pass --data PATH or set MINERL_DATA_ROOT" in capsys.readouterr().err
    failed = data_root / "MineRLObtainDiamond-v0" / "v3_e"
    assert script.main(["--data", str(failed)]) == 2
    assert "none of the 1 trajectories is successful" in capsys.readouterr().err
    assert script.main(["--data", str(tmp_path / "absent")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.main(["--data", str(data_root), "--threshold", "0"])
    assert "--threshold must be in (0, 1]" in capsys.readouterr().err


def test_demos_file_replaces_the_dataset(data_root, tmp_path, capsys, without_minerl):
    from rudder.data import save_episodes
    from rudder.data.minerl import iter_minerl_episodes

    episodes = [e for e in iter_minerl_episodes(data_root, environment="MineRLObtainDiamond-v0") if e.terminated]
    save_episodes(tmp_path / "demos.npz", episodes)
    script = load_module("train_minerl", SCRIPT)
    assert script.main(["--data", "", "--demos-file", str(tmp_path / "demos.npz")]) == 3
    output = capsys.readouterr().out
    assert f"Read 4 demonstrations from {tmp_path / 'demos.npz'}" in output
    assert f"of the demonstrations): {CONSENSUS}\n" in output
