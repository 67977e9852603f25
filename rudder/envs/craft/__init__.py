"""A crafting world that mirrors MineRL ObtainDiamond: logs to diamond, in a fast 2-D grid.

MineRL itself cannot be installed on most machines (its build downloads Minecraft), so
this is the stand-in to train on. It keeps what matters for reward redistribution: the
same item chain, MineRL's inventory names (:mod:`rudder.minecraft`), Minecraft's recipes
and tool requirements, and a reward that comes only at the very end.

The package:

- :mod:`~rudder.envs.craft.rules`: items, blocks, actions, recipes and tools
  (:data:`ITEMS`, :data:`ITEM_CHAIN`, :data:`BLOCKS`, :data:`ACTIONS`, ...);
- :mod:`~rudder.envs.craft.env`: :class:`CraftEnv` (rewards, observations, ``info``),
  :func:`make_craft_env` and :func:`register_craft_envs` (``rudder/CraftDiamond-v0``,
  ``rudder/CraftDiamondDense-v0``);
- :mod:`~rudder.envs.craft.observation`: :class:`CraftVectorObservation` (the flat
  vector the SB3 agents see), :func:`mirror_episode`, :func:`with_item_keys`;
- :mod:`~rudder.envs.craft.player`: the scripted :class:`CraftDemonstrator` and
  :func:`craft_demonstrations`.

Every public name of these modules is importable from ``rudder.envs.craft``.
"""

from rudder.envs.craft.env import CraftEnv, make_craft_env, register_craft_envs
from rudder.envs.craft.observation import (
    CraftVectorObservation,
    mirror_episode,
    vector_observation,
    vector_size,
    with_item_keys,
)
from rudder.envs.craft.player import CraftDemonstrator, craft_demonstrations
from rudder.envs.craft.rules import (
    ACTION,
    ACTIONS,
    AIR,
    BEDROCK,
    BLOCKS,
    COAL_ORE,
    DIAMOND_ORE,
    DIRT,
    DROP_ITEM,
    DROP_LEVEL,
    DROPS,
    FURNACE,
    GRASS,
    IRON_ORE,
    ITEM,
    ITEM_CHAIN,
    ITEMS,
    MAX_COUNT,
    MOVES,
    NEARBY,
    PLACEMENTS,
    RECIPES,
    REWARD_MODES,
    STONE,
    TABLE,
    TREE,
    WALKABLE,
)

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
    "CraftDemonstrator",
    "CraftEnv",
    "CraftVectorObservation",
    "craft_demonstrations",
    "make_craft_env",
    "mirror_episode",
    "register_craft_envs",
    "vector_observation",
    "vector_size",
    "with_item_keys",
]
