"""Writes small synthetic MineRL v0.4 trajectories (``rendered.npz`` + ``metadata.json``).

Shared by tests/data/test_minerl.py and tests/scripts/test_train_minerl.py; the latter
loads this file by path, since tests/ is not a package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ENVIRONMENT = "MineRLObtainDiamond-v0"

#: The two spellings of the equipped-item keys in the v0.4 files.
EQUIPPED_KEYS = {
    "dots": "observation$equipped_items.mainhand.{}",
    "dollars": "observation$equipped_items$mainhand${}",
}


def _padded(values: Sequence[Any], length: int, fill: Any) -> list[Any]:
    """The first ``length`` of ``values``, then ``fill`` up to ``length``."""
    return list(values[:length]) + [fill] * max(length - len(values), 0)


def write_trajectory(
    folder: Path,
    *,
    log: Sequence[int] = (0, 1, 2, 2),
    planks: Sequence[int] = (0, 0, 0, 4),
    inventory: Mapping[str, Sequence[int]] | None = None,
    rewards: Sequence[float] | None = None,
    success: bool = True,
    equipped: str = "dots",
    extra: Mapping[str, np.ndarray] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Writes rendered.npz and metadata.json as the MineRL v0.4 dataset does (N states).

    Args:
        folder: the trajectory folder to create, e.g. ``root / ENVIRONMENT / "v3_a"``.
        log: shape (N,): the ``log`` counts, used when ``inventory`` is None.
        planks: shape (N,): the ``planks`` counts, used when ``inventory`` is None.
        inventory: ``{item: counts of shape (N,)}``, replacing ``log`` and ``planks``.
        rewards: shape (N-1,); default 1, 0, 2, then 0.
        success: the metadata's ``success``.
        equipped: ``"dots"`` or ``"dollars"``, the spelling of the equipped-item keys.
        extra: more arrays for rendered.npz (they replace those of the same key).
        metadata: more keys for metadata.json.

    Returns:
        ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    inventory = {"log": log, "planks": planks} if inventory is None else inventory
    num_states = len(next(iter(inventory.values())))
    num_steps = num_states - 1
    if rewards is None:
        rewards = _padded([1.0, 0.0, 2.0], num_steps, 0.0)
    arrays = {
        "reward": np.array(rewards, np.float32).reshape(num_steps),
        **{
            f"observation$inventory${item}": np.array(counts, np.int64)
            for item, counts in inventory.items()
        },
        EQUIPPED_KEYS[equipped].format("type"): np.array(
            _padded(["none", "air", "wooden_pickaxe", "none"], num_states, "none")
        ),
        EQUIPPED_KEYS[equipped].format("damage"): np.arange(num_states, dtype=np.int64),
        EQUIPPED_KEYS[equipped].format("maxDamage"): np.full(num_states, 59, np.int64),
        "action$forward": np.array(_padded([1, 0, 1], num_steps, 0), np.int64),
        "action$attack": np.ones(num_steps, np.int64),
        "action$camera": np.column_stack(
            [np.arange(num_steps) * 1.5, -np.arange(num_steps) * 2.0]
        ).astype(np.float32),
        "action$craft": np.array(_padded(["none", "planks", "none"], num_steps, "none")),
        "action$place": np.array(_padded(["none", "none", "crafting_table"], num_steps, "none")),
    }
    arrays.update(extra or {})
    np.savez_compressed(folder / "rendered.npz", **arrays)
    meta = {
        "success": success,
        "duration_ms": 50 * num_steps,
        "duration_steps": num_steps,
        "total_reward": float(np.sum(rewards)),
        "stream_name": folder.name,
        "true_video_frame_count": num_states + 3,
    }
    meta.update(metadata or {})
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder
