"""Minecraft's names shared by the crafting world and the Minecraft dataset readers.

ObtainDiamond's item names, its item rewards and MineRL's action names live here once, so
the simulator (:mod:`rudder.envs.craft`) and the readers of recorded play
(:mod:`rudder.data.minerl`, :mod:`rudder.data.vpt`) agree on them without depending on
each other. Contents:

- :data:`MINERL_ITEMS`: the inventory items of MineRLObtainDiamond-v0, then ``diamond``.
- :data:`ITEM_REWARDS`: ObtainDiamond's reward for obtaining each item.
- :data:`BINARY_ACTIONS`, :data:`ENUM_ACTIONS` and :data:`MINERL_ACTION_COLUMNS`: MineRL's
  actions and the columns of the action matrix the readers build.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "BINARY_ACTIONS",
    "ENUM_ACTIONS",
    "ITEM_REWARDS",
    "MINERL_ACTION_COLUMNS",
    "MINERL_ITEMS",
]

#: The inventory items observed in MineRLObtainDiamond-v0, then ``diamond`` (rewarded,
#: but not part of the v0.4 inventory observation: the episode ends when it is mined).
MINERL_ITEMS: tuple[str, ...] = (
    "coal", "cobblestone", "crafting_table", "dirt", "furnace", "iron_axe", "iron_ingot",
    "iron_ore", "iron_pickaxe", "log", "planks", "stick", "stone", "stone_axe",
    "stone_pickaxe", "torch", "wooden_axe", "wooden_pickaxe", "diamond",
)  # fmt: skip

#: ObtainDiamond's reward for obtaining each item (paid once per item, except in Dense).
ITEM_REWARDS: Mapping[str, float] = MappingProxyType({
    "log": 1.0, "planks": 2.0, "stick": 4.0, "crafting_table": 4.0, "wooden_pickaxe": 8.0,
    "cobblestone": 16.0, "furnace": 32.0, "stone_pickaxe": 32.0, "iron_ore": 64.0,
    "iron_ingot": 128.0, "iron_pickaxe": 256.0, "diamond": 1024.0,
})  # fmt: skip

#: The 0/1 actions, in the order of their columns in the action matrix.
BINARY_ACTIONS: tuple[str, ...] = (
    "forward", "back", "left", "right", "jump", "sneak", "sprint", "attack",
)  # fmt: skip

#: The enum actions and their values; an action column holds the index of the value,
#: and ``"none"`` (index 0) is the no-op.
ENUM_ACTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "place": ("none", "dirt", "stone", "cobblestone", "crafting_table", "furnace", "torch"),
    "equip": (
        "none", "air", "wooden_axe", "wooden_pickaxe", "stone_axe", "stone_pickaxe",
        "iron_axe", "iron_pickaxe",
    ),
    "craft": ("none", "torch", "stick", "planks", "crafting_table"),
    "nearbyCraft": (
        "none", "wooden_axe", "wooden_pickaxe", "stone_axe", "stone_pickaxe", "iron_axe",
        "iron_pickaxe", "furnace",
    ),
    "nearbySmelt": ("none", "iron_ingot", "coal"),
})  # fmt: skip

#: The columns of a MineRL action matrix: the binary actions (0/1), the camera change in
#: degrees (pitch: positive looks down; yaw: positive turns right), and the enum actions
#: as indices into :data:`ENUM_ACTIONS`. Actions an environment lacks (Treechop cannot
#: craft) are 0, the no-op.
MINERL_ACTION_COLUMNS: tuple[str, ...] = (
    *BINARY_ACTIONS,
    "camera_pitch",
    "camera_yaw",
    *ENUM_ACTIONS,
)
