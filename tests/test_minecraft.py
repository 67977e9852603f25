"""Minecraft's shared names: items, rewards and MineRL's action columns."""

from __future__ import annotations

from rudder.minecraft import ENUM_ACTIONS, ITEM_REWARDS, MINERL_ACTION_COLUMNS, MINERL_ITEMS


def test_minerl_constants():
    assert len(MINERL_ITEMS) == 19 and MINERL_ITEMS[-1] == "diamond"
    assert ITEM_REWARDS["log"] == 1 and ITEM_REWARDS["diamond"] == 1024
    assert set(ITEM_REWARDS) <= set(MINERL_ITEMS)
    assert all(values[0] == "none" for values in ENUM_ACTIONS.values())
    assert MINERL_ACTION_COLUMNS[-5:] == ("place", "equip", "craft", "nearbyCraft", "nearbySmelt")


def test_the_crafting_world_and_the_readers_share_the_item_names():
    from rudder.envs.craft import ITEM_CHAIN, ITEMS

    assert set(ITEMS) <= set(MINERL_ITEMS)
    assert set(ITEM_CHAIN) <= set(ITEM_REWARDS)
