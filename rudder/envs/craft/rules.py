"""The rules of the crafting world: items, blocks, actions, recipes and tools.

Everything here is data (tuples, dicts and small numpy tables); :mod:`rudder.envs.craft.env`
applies it and :mod:`rudder.envs.craft.player` plans with it.

The world (``width`` x ``height`` cells, seen from the side; row 0 is the sky, rows grow
deeper):

- rows ``1 .. surface_rows``: grass with trees and some dirt; the agent starts here;
- below: stone, with coal ore (upper part), iron ore (middle and lower part) and rare
  diamond ore in the last rows above the bedrock floor;
- bedrock all around.

The agent walks on open cells (grass, air). Moving toward a solid block turns the agent
to face it without moving; ``attack`` mines the faced block if the agent holds the tool
it needs (the best tool in the inventory is used, so there is no ``equip``):

=============  ============  ==============
block          gives         needs
=============  ============  ==============
tree           log           hand
dirt           dirt          hand
stone          cobblestone   wooden_pickaxe
coal ore       coal          wooden_pickaxe
iron ore       iron_ore      stone_pickaxe
diamond ore    diamond       iron_pickaxe
crafting table crafting_table hand
furnace        furnace       wooden_pickaxe
=============  ============  ==============

Recipes (Minecraft's): ``craft:planks`` 1 log -> 4 planks; ``craft:stick`` 2 planks -> 4
sticks; ``craft:crafting_table`` 4 planks; with a crafting table within 2 cells
(``nearbyCraft``): wooden_pickaxe 3 planks + 2 sticks, stone_pickaxe 3 cobblestone + 2
sticks, furnace 8 cobblestone, iron_pickaxe 3 iron_ingot + 2 sticks; with a furnace
within 2 cells (``nearbySmelt``): iron_ingot from 1 iron_ore and 1 fuel (coal, else
planks). ``place:crafting_table`` / ``place:furnace`` put the block on the faced cell if it
is open. An action whose ingredients are missing does nothing.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ACTION",
    "ACTIONS",
    "AIR",
    "BEDROCK",
    "BLOCKS",
    "COAL_ORE",
    "DIAMOND_ORE",
    "DIRT",
    "DROPS",
    "DROP_ITEM",
    "DROP_LEVEL",
    "FURNACE",
    "GRASS",
    "IRON_ORE",
    "ITEM",
    "ITEMS",
    "ITEM_CHAIN",
    "MAX_COUNT",
    "MOVES",
    "NEARBY",
    "PLACEMENTS",
    "RECIPES",
    "REWARD_MODES",
    "STONE",
    "TABLE",
    "TREE",
    "WALKABLE",
]

ITEMS: tuple[str, ...] = (
    "log",
    "planks",
    "stick",
    "crafting_table",
    "wooden_pickaxe",
    "cobblestone",
    "stone_pickaxe",
    "coal",
    "iron_ore",
    "furnace",
    "iron_ingot",
    "iron_pickaxe",
    "diamond",
    "dirt",
)
"""Inventory items, in the order of the ``"inventory"`` vector (MineRL's names)."""

ITEM_CHAIN: tuple[str, ...] = (
    "log",
    "planks",
    "crafting_table",
    "stick",
    "wooden_pickaxe",
    "cobblestone",
    "stone_pickaxe",
    "iron_ore",
    "furnace",
    "iron_ingot",
    "iron_pickaxe",
    "diamond",
)
"""The item chain of ObtainDiamond, in the order the paper's MineRL consensus lists it."""

BLOCKS: tuple[str, ...] = (
    "air",
    "grass",
    "tree",
    "dirt",
    "stone",
    "coal_ore",
    "iron_ore",
    "diamond_ore",
    "crafting_table",
    "furnace",
    "bedrock",
)
"""Block names; a block's code is its index."""

AIR, GRASS, TREE, DIRT, STONE, COAL_ORE, IRON_ORE, DIAMOND_ORE, TABLE, FURNACE, BEDROCK = range(
    len(BLOCKS)
)
"""The block codes, one name per entry of :data:`BLOCKS`."""

ITEM: dict[str, int] = {name: index for index, name in enumerate(ITEMS)}
"""Item name -> its index in :data:`ITEMS` (and in the ``"inventory"`` vector)."""

WALKABLE = np.zeros(len(BLOCKS), dtype=bool)
"""Shape (len(BLOCKS),), bool: whether the agent can walk on a block (air, grass)."""
WALKABLE[[AIR, GRASS]] = True

DROPS: dict[int, tuple[int, int]] = {
    TREE: (ITEM["log"], 0),
    DIRT: (ITEM["dirt"], 0),
    STONE: (ITEM["cobblestone"], 1),
    COAL_ORE: (ITEM["coal"], 1),
    IRON_ORE: (ITEM["iron_ore"], 2),
    DIAMOND_ORE: (ITEM["diamond"], 3),
    TABLE: (ITEM["crafting_table"], 0),
    FURNACE: (ITEM["furnace"], 1),
}
"""Block -> (item index it drops, tool level it needs); tool levels: 0 hand, 1 wooden,
2 stone, 3 iron pickaxe. Blocks not listed cannot be mined."""

DROP_ITEM = np.full(len(BLOCKS), -1, dtype=np.int64)
"""Shape (len(BLOCKS),): the item index a mined block drops, -1 for none (see :data:`DROPS`)."""
DROP_LEVEL = np.full(len(BLOCKS), 99, dtype=np.int64)
"""Shape (len(BLOCKS),): the tool level a block needs, 99 for unminable (see :data:`DROPS`)."""
for _block, (_item, _level) in DROPS.items():
    DROP_ITEM[_block] = _item
    DROP_LEVEL[_block] = _level

ACTIONS: tuple[str, ...] = (
    "noop",
    "move:north",
    "move:south",
    "move:west",
    "move:east",
    "attack",
    "craft:planks",
    "craft:stick",
    "craft:crafting_table",
    "place:crafting_table",
    "place:furnace",
    "nearbyCraft:wooden_pickaxe",
    "nearbyCraft:stone_pickaxe",
    "nearbyCraft:furnace",
    "nearbyCraft:iron_pickaxe",
    "nearbySmelt:iron_ingot",
)
"""Action names (``Discrete(len(ACTIONS))``), named after MineRL's action keys."""

ACTION = {name: index for index, name in enumerate(ACTIONS)}
"""Action name -> its index in :data:`ACTIONS`."""

MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int64)
"""Shape (4, 2): the (row, column) step of each facing: north, south, west, east."""

RECIPES: dict[int, tuple[dict[str, int], str, int, int | None]] = {
    ACTION["craft:planks"]: ({"log": 1}, "planks", 4, None),
    ACTION["craft:stick"]: ({"planks": 2}, "stick", 4, None),
    ACTION["craft:crafting_table"]: ({"planks": 4}, "crafting_table", 1, None),
    ACTION["nearbyCraft:wooden_pickaxe"]: ({"planks": 3, "stick": 2}, "wooden_pickaxe", 1, TABLE),
    ACTION["nearbyCraft:stone_pickaxe"]: ({"cobblestone": 3, "stick": 2}, "stone_pickaxe", 1, TABLE),
    ACTION["nearbyCraft:furnace"]: ({"cobblestone": 8}, "furnace", 1, TABLE),
    ACTION["nearbyCraft:iron_pickaxe"]: ({"iron_ingot": 3, "stick": 2}, "iron_pickaxe", 1, TABLE),
}
"""Crafting action -> (ingredients, product, count, station): station None (in hand),
:data:`TABLE` or :data:`FURNACE` within :data:`NEARBY` cells."""

PLACEMENTS: dict[int, tuple[int, int]] = {
    ACTION["place:crafting_table"]: (ITEM["crafting_table"], TABLE),
    ACTION["place:furnace"]: (ITEM["furnace"], FURNACE),
}
"""Placing action -> (item index used up, block placed on the faced cell)."""

REWARD_MODES: tuple[str, ...] = ("diamond", "dense", "items")
"""The ``reward`` settings of :class:`~rudder.envs.craft.CraftEnv`."""

NEARBY = 2
"""A station counts as nearby within this many cells (Chebyshev distance)."""
MAX_COUNT = 2304
"""Largest item count (36 slots of 64)."""
