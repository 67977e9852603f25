"""The crafting world's rules: the tables the env and the player share agree with each other."""

from __future__ import annotations

import numpy as np

from rudder.envs.craft import (
    ACTION,
    ACTIONS,
    BLOCKS,
    DROP_ITEM,
    DROP_LEVEL,
    DROPS,
    FURNACE,
    ITEM,
    ITEM_CHAIN,
    ITEMS,
    MOVES,
    PLACEMENTS,
    RECIPES,
    TABLE,
    WALKABLE,
)


def test_names_and_indices_agree():
    assert [ITEMS[ITEM[name]] for name in ITEMS] == list(ITEMS)
    assert [ACTIONS[ACTION[name]] for name in ACTIONS] == list(ACTIONS)
    assert set(ITEM_CHAIN) <= set(ITEMS) and ITEM_CHAIN[-1] == "diamond"
    assert len(set(BLOCKS)) == len(BLOCKS) and BLOCKS[TABLE] == "crafting_table"


def test_the_env_relies_on_the_action_order():
    # CraftEnv.step reads moves as 1..4 (facing = action - 1), attack as 5 and smelting as 15
    assert ACTIONS[1:5] == ("move:north", "move:south", "move:west", "move:east")
    assert np.array_equal(MOVES, [[-1, 0], [1, 0], [0, -1], [0, 1]])
    assert ACTION["attack"] == 5 and ACTION["nearbySmelt:iron_ingot"] == 15


def test_drop_tables_follow_drops():
    for block in range(len(BLOCKS)):
        if block in DROPS:
            assert (DROP_ITEM[block], DROP_LEVEL[block]) == DROPS[block]
        else:
            assert DROP_ITEM[block] == -1 and DROP_LEVEL[block] > 3
    assert [BLOCKS[block] for block in np.flatnonzero(WALKABLE)] == ["air", "grass"]
    assert DROP_LEVEL[BLOCKS.index("diamond_ore")] == 3


def test_recipes_and_placements_name_real_items_and_stations():
    for action, (needs, product, count, station) in RECIPES.items():
        assert ACTIONS[action].split(":")[1] == product and count >= 1
        assert set(needs) <= set(ITEMS) and product in ITEMS
        assert station in (None, TABLE, FURNACE)
        assert (station is None) == ACTIONS[action].startswith("craft:")
    assert {ACTIONS[action] for action in PLACEMENTS} == {"place:crafting_table", "place:furnace"}
    for action, (item, block) in PLACEMENTS.items():
        assert ITEMS[item] == BLOCKS[block] == ACTIONS[action].split(":")[1]
