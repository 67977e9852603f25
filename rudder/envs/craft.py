"""A crafting world that mirrors MineRL ObtainDiamond: logs to diamond, in a fast 2-D grid.

MineRL itself cannot be installed on most machines (its build downloads Minecraft), so
this is the stand-in to train on. It keeps what matters for reward redistribution: the
same item chain, MineRL's inventory names, Minecraft's recipes and tool requirements,
and a reward that comes only at the very end.

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

Reward (``reward=``):

- ``"diamond"`` (``rudder/CraftDiamond-v0``): 1 for the diamond, 0 otherwise: delayed.
- ``"dense"`` (``rudder/CraftDiamondDense-v0``): MineRL's item rewards (log 1, planks 2,
  ..., diamond 1024) every time an item is gained, as in ``MineRLObtainDiamondDense``.
- ``"items"``: each item's reward the first time only, as in ``MineRLObtainDiamond``.

The episode terminates when the diamond is obtained and is truncated after
``max_steps`` steps (the limit lives in the env; do not add a ``TimeLimit``).

Observation (``Dict``):

- ``"view"``: uint8 (view_size, view_size): block codes (:data:`BLOCKS`) around the agent,
  which is at the centre; outside the world reads as bedrock.
- ``"inventory"``: int64 (len(ITEMS),): item counts, in :data:`ITEMS` order (MineRL's
  names).
- ``"facing"``: the faced direction (0 north/up, 1 south/down, 2 west, 3 east).
- ``"depth"``: float32 (1,): the agent's row / (height - 1), like Minecraft's y level.

``info`` holds ``"inventory_change"`` (int64 (len(ITEMS),), this step's change, for
:class:`~rudder.events.InventoryEncoder` with ``source="info"``), ``"obtained"`` (bool
(len(ITEMS),), items gained at least once this episode) and ``"is_success"`` (diamond).

Speed: a step is a few array lookups; one env runs well over 5,000 steps/s
(``scripts/bench_craft.py --env-speed``).
"""

from __future__ import annotations

import dataclasses
import heapq
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from rudder.data.episode import Episode
from rudder.data.record import record_episode
from rudder.envs.minerl import ITEM_REWARDS

# ------------------------------------------------------------------ items and blocks
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
_ITEM = {name: index for index, name in enumerate(ITEMS)}
_WALKABLE = np.zeros(len(BLOCKS), dtype=bool)
_WALKABLE[[AIR, GRASS]] = True
# block -> (item index or -1, tool level needed); tool levels: 0 hand, 1 wooden, 2 stone, 3 iron
_DROPS = {
    TREE: (_ITEM["log"], 0),
    DIRT: (_ITEM["dirt"], 0),
    STONE: (_ITEM["cobblestone"], 1),
    COAL_ORE: (_ITEM["coal"], 1),
    IRON_ORE: (_ITEM["iron_ore"], 2),
    DIAMOND_ORE: (_ITEM["diamond"], 3),
    TABLE: (_ITEM["crafting_table"], 0),
    FURNACE: (_ITEM["furnace"], 1),
}
_DROP_ITEM = np.full(len(BLOCKS), -1, dtype=np.int64)
_DROP_LEVEL = np.full(len(BLOCKS), 99, dtype=np.int64)
for _block, (_item, _level) in _DROPS.items():
    _DROP_ITEM[_block] = _item
    _DROP_LEVEL[_block] = _level

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
_MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int64)  # north, south, west, east

# (ingredients, product, count, station): station None, TABLE or FURNACE
_RECIPES: dict[int, tuple[dict[str, int], str, int, int | None]] = {
    ACTION["craft:planks"]: ({"log": 1}, "planks", 4, None),
    ACTION["craft:stick"]: ({"planks": 2}, "stick", 4, None),
    ACTION["craft:crafting_table"]: ({"planks": 4}, "crafting_table", 1, None),
    ACTION["nearbyCraft:wooden_pickaxe"]: ({"planks": 3, "stick": 2}, "wooden_pickaxe", 1, TABLE),
    ACTION["nearbyCraft:stone_pickaxe"]: ({"cobblestone": 3, "stick": 2}, "stone_pickaxe", 1, TABLE),
    ACTION["nearbyCraft:furnace"]: ({"cobblestone": 8}, "furnace", 1, TABLE),
    ACTION["nearbyCraft:iron_pickaxe"]: ({"iron_ingot": 3, "stick": 2}, "iron_pickaxe", 1, TABLE),
}
_RECIPE_ARRAYS = {
    action: (
        np.array([_ITEM[name] for name in needs], dtype=np.int64),
        np.array(list(needs.values()), dtype=np.int64),
        _ITEM[product],
        count,
        station,
    )
    for action, (needs, product, count, station) in _RECIPES.items()
}
_PLACE = {ACTION["place:crafting_table"]: (_ITEM["crafting_table"], TABLE), ACTION["place:furnace"]: (_ITEM["furnace"], FURNACE)}
_ITEM_REWARD_VECTOR = np.array([float(ITEM_REWARDS.get(name, 0)) for name in ITEMS])
REWARD_MODES = ("diamond", "dense", "items")
NEARBY = 2
"""A station counts as nearby within this many cells (Chebyshev distance)."""
MAX_COUNT = 2304
"""Largest item count (36 slots of 64)."""

# RGB colours of the blocks, and of the agent.
_COLOURS = np.array(
    [
        [40, 40, 48],  # air (dug)
        [96, 168, 72],  # grass
        [34, 100, 34],  # tree
        [134, 96, 67],  # dirt
        [128, 128, 128],  # stone
        [48, 48, 48],  # coal ore
        [216, 175, 147],  # iron ore
        [92, 219, 213],  # diamond ore
        [160, 110, 50],  # crafting table
        [90, 90, 100],  # furnace
        [20, 20, 20],  # bedrock
    ],
    dtype=np.uint8,
)
_AGENT_COLOUR = np.array([230, 50, 50], dtype=np.uint8)
_CHARACTERS = " .TdSciDCFB"


class CraftEnv(gym.Env):
    """The crafting world (see the module documentation).

    Args:
        width: world width in cells (>= 9).
        height: world height in cells (>= surface_rows + 12).
        surface_rows: rows of grass and trees below the sky.
        view_size: side of the square local view (odd).
        max_steps: steps before the episode is truncated.
        reward: ``"diamond"``, ``"dense"`` or ``"items"``.
        tree_density, coal_density, iron_density, diamond_density: chance that a cell of
            the matching layer holds that block.
        render_mode: None, ``"ansi"`` (text map) or ``"rgb_array"`` (8 px per cell).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 10}

    def __init__(
        self,
        *,
        width: int = 24,
        height: int = 32,
        surface_rows: int = 6,
        view_size: int = 9,
        max_steps: int = 1000,
        reward: Literal["diamond", "dense", "items"] = "diamond",
        tree_density: float = 0.12,
        coal_density: float = 0.05,
        iron_density: float = 0.04,
        diamond_density: float = 0.03,
        render_mode: str | None = None,
    ) -> None:
        if width < 9:
            raise ValueError(f"`width` must be >= 9, got {width}")
        if surface_rows < 3:
            raise ValueError(f"`surface_rows` must be >= 3, got {surface_rows}")
        if height < surface_rows + 12:
            raise ValueError(f"`height` must be >= surface_rows + 12 = {surface_rows + 12}, got {height}")
        if view_size < 3 or view_size % 2 == 0:
            raise ValueError(f"`view_size` must be an odd number >= 3, got {view_size}")
        if max_steps < 1:
            raise ValueError(f"`max_steps` must be >= 1, got {max_steps}")
        if reward not in REWARD_MODES:
            raise ValueError(f"`reward` must be one of {REWARD_MODES}, got {reward!r}")
        for name, value in (
            ("tree_density", tree_density),
            ("coal_density", coal_density),
            ("iron_density", iron_density),
            ("diamond_density", diamond_density),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` must be in [0, 1], got {value}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"`render_mode` must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.width = int(width)
        self.height = int(height)
        self.surface_rows = int(surface_rows)
        self.view_size = int(view_size)
        self.max_steps = int(max_steps)
        self.reward_mode = reward
        self.tree_density = float(tree_density)
        self.coal_density = float(coal_density)
        self.iron_density = float(iron_density)
        self.diamond_density = float(diamond_density)
        self.render_mode = render_mode
        self.items = ITEMS
        self.action_names = ACTIONS

        self.observation_space = gym.spaces.Dict(
            {
                "view": gym.spaces.Box(0, len(BLOCKS) - 1, (self.view_size, self.view_size), np.uint8),
                "inventory": gym.spaces.Box(0, MAX_COUNT, (len(ITEMS),), np.int64),
                "facing": gym.spaces.Discrete(4),
                "depth": gym.spaces.Box(0.0, 1.0, (1,), np.float32),
            }
        )
        self.action_space = gym.spaces.Discrete(len(ACTIONS))
        self._pad = self.view_size // 2
        self.world = np.zeros((self.height, self.width), dtype=np.uint8)
        self._padded = np.full((self.height + 2 * self._pad, self.width + 2 * self._pad), BEDROCK, dtype=np.uint8)
        self.inventory = np.zeros(len(ITEMS), dtype=np.int64)
        self.obtained = np.zeros(len(ITEMS), dtype=bool)
        self.position = np.array([1, 1], dtype=np.int64)
        self.facing = 1
        self.steps = 0

    # ------------------------------------------------------------------ world
    @property
    def diamond_rows(self) -> tuple[int, int]:
        """First and last row (inclusive) where diamond ore can be."""
        return self.height - 7, self.height - 2

    @property
    def iron_rows(self) -> tuple[int, int]:
        """First and last row (inclusive) where iron ore can be."""
        top = self.surface_rows + 1
        return top + (self.height - top) // 4, self.height - 4

    @property
    def coal_rows(self) -> tuple[int, int]:
        """First and last row (inclusive) where coal ore can be."""
        top = self.surface_rows + 1
        return top, top + (self.height - top) // 2

    def _generate(self) -> None:
        rng = self.np_random
        world = self.world
        world.fill(STONE)
        world[0, :] = BEDROCK
        world[-1, :] = BEDROCK
        world[:, 0] = BEDROCK
        world[:, -1] = BEDROCK
        surface = world[1 : self.surface_rows + 1, 1:-1]
        surface[...] = GRASS
        draws = rng.random(surface.shape)
        surface[draws < self.tree_density] = TREE
        surface[(draws >= self.tree_density) & (draws < self.tree_density + 0.04)] = DIRT
        self._scatter(COAL_ORE, self.coal_rows, self.coal_density, minimum=2)
        self._scatter(IRON_ORE, self.iron_rows, self.iron_density, minimum=4)
        self._scatter(DIAMOND_ORE, self.diamond_rows, self.diamond_density, minimum=1)
        start_row = 1 + self.surface_rows // 2
        columns = np.flatnonzero(world[start_row, 1:-1] == GRASS) + 1
        if columns.size == 0:
            world[start_row, self.width // 2] = GRASS
            columns = np.array([self.width // 2])
        self.position = np.array([start_row, int(rng.choice(columns))], dtype=np.int64)
        trees = np.argwhere(surface == TREE)
        if len(trees) < 3:  # always enough trees
            free = np.argwhere(surface == GRASS)
            for row, column in free[rng.permutation(len(free))[: 3 - len(trees)]]:
                if (row + 1, column + 1) != tuple(self.position):
                    surface[row, column] = TREE
        self._padded[self._pad : self._pad + self.height, self._pad : self._pad + self.width] = world

    def _scatter(self, block: int, rows: tuple[int, int], density: float, *, minimum: int) -> None:
        first, last = rows
        band = self.world[first : last + 1, 1:-1]
        candidates = band == STONE
        band[candidates & (self.np_random.random(band.shape) < density)] = block
        missing = minimum - int(np.sum(band == block))
        if missing > 0:
            free = np.argwhere(band == STONE)
            chosen = free[self.np_random.permutation(len(free))[:missing]]
            band[chosen[:, 0], chosen[:, 1]] = block

    def _set_block(self, row: int, column: int, block: int) -> None:
        self.world[row, column] = block
        self._padded[row + self._pad, column + self._pad] = block

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._generate()
        self.inventory[:] = 0
        self.obtained[:] = False
        self.facing = 1
        self.steps = 0
        change = np.zeros(len(ITEMS), dtype=np.int64)
        return self._observation(), {"inventory_change": change, "obtained": self.obtained.copy(), "is_success": False}

    def _observation(self) -> dict[str, Any]:
        row, column = self.position
        size = self.view_size
        return {
            "view": self._padded[row : row + size, column : column + size].copy(),
            "inventory": self.inventory.copy(),
            "facing": self.facing,
            "depth": np.array([row / (self.height - 1)], dtype=np.float32),
        }

    def station_nearby(self, block: int) -> bool:
        """Whether ``block`` (TABLE or FURNACE) is within :data:`NEARBY` cells of the agent."""
        row, column = self.position + self._pad
        window = self._padded[row - NEARBY : row + NEARBY + 1, column - NEARBY : column + NEARBY + 1]
        return bool(np.any(window == block))

    def distance_in_view(self, block: int) -> int | None:
        """Chebyshev distance (cells) to the nearest ``block`` in the agent's view, or None."""
        half = self.view_size // 2
        row, column = self.position + self._pad
        window = self._padded[row - half : row + half + 1, column - half : column + half + 1]
        rows, columns = np.nonzero(window == block)
        if rows.size == 0:
            return None
        return int(np.maximum(np.abs(rows - half), np.abs(columns - half)).min())

    def faced_cell(self) -> tuple[int, int]:
        """(row, column) of the cell the agent faces."""
        row, column = self.position + _MOVES[self.facing]
        return int(row), int(column)

    def tool_level(self) -> int:
        """0 hand, 1 wooden, 2 stone, 3 iron pickaxe: the best pickaxe held."""
        inventory = self.inventory
        if inventory[_ITEM["iron_pickaxe"]] > 0:
            return 3
        if inventory[_ITEM["stone_pickaxe"]] > 0:
            return 2
        if inventory[_ITEM["wooden_pickaxe"]] > 0:
            return 1
        return 0

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"invalid action {action!r}; actions are 0..{len(ACTIONS) - 1} ({', '.join(ACTIONS)})")
        action = int(action)
        before = self.inventory.copy()
        inventory = self.inventory
        if 1 <= action <= 4:
            self.facing = action - 1
            target = self.position + _MOVES[self.facing]
            if _WALKABLE[self.world[target[0], target[1]]]:
                self.position = target
        elif action == 5:  # attack
            row, column = self.faced_cell()
            block = self.world[row, column]
            item = _DROP_ITEM[block]
            if item >= 0 and self.tool_level() >= _DROP_LEVEL[block]:
                inventory[item] = min(inventory[item] + 1, MAX_COUNT)
                self._set_block(row, column, AIR if row > self.surface_rows else GRASS)
        elif action in _RECIPE_ARRAYS:
            needs, amounts, product, count, station = _RECIPE_ARRAYS[action]
            if np.all(inventory[needs] >= amounts) and (station is None or self.station_nearby(station)):
                inventory[needs] -= amounts
                inventory[product] = min(inventory[product] + count, MAX_COUNT)
        elif action in _PLACE:
            item, block = _PLACE[action]
            row, column = self.faced_cell()
            if inventory[item] > 0 and _WALKABLE[self.world[row, column]]:
                inventory[item] -= 1
                self._set_block(row, column, block)
        elif action == 15:  # smelt iron
            ore, coal, planks = _ITEM["iron_ore"], _ITEM["coal"], _ITEM["planks"]
            fuel = coal if inventory[coal] > 0 else planks
            if inventory[ore] > 0 and inventory[fuel] > 0 and self.station_nearby(FURNACE):
                inventory[ore] -= 1
                inventory[fuel] -= 1
                inventory[_ITEM["iron_ingot"]] += 1
        self.steps += 1
        change = inventory - before
        gained = change > 0
        diamond = bool(gained[_ITEM["diamond"]])
        if self.reward_mode == "diamond":
            reward = 1.0 if diamond else 0.0
        elif self.reward_mode == "dense":
            reward = float(_ITEM_REWARD_VECTOR @ gained)
        else:
            reward = float(_ITEM_REWARD_VECTOR @ (gained & ~self.obtained))
        self.obtained |= gained
        terminated = diamond
        truncated = not terminated and self.steps >= self.max_steps
        info = {"inventory_change": change, "obtained": self.obtained.copy(), "is_success": diamond}
        return self._observation(), reward, terminated, truncated, info

    # ------------------------------------------------------------------ rendering
    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "ansi":
            rows = []
            for row in range(self.height):
                characters = [_CHARACTERS[block] for block in self.world[row]]
                if row == self.position[0]:
                    characters[self.position[1]] = "^v<>"[self.facing]
                rows.append("".join(characters))
            held = ", ".join(f"{count} {name}" for name, count in zip(ITEMS, self.inventory) if count)
            return "\n".join(rows) + f"\nstep {self.steps}; inventory: {held or 'empty'}"
        if self.render_mode == "rgb_array":
            image = _COLOURS[self.world]
            image[self.position[0], self.position[1]] = _AGENT_COLOUR
            return np.repeat(np.repeat(image, 8, axis=0), 8, axis=1)
        return None


# ------------------------------------------------------------------ observation for MLPs
class CraftVectorObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Flattens the crafting world's ``Dict`` observation into one float32 vector for MLP
    policies: the view one-hot per block (view_size² · len(BLOCKS)), log(1 + count) of
    every item, the facing one-hot (4), the depth (1) and the faced block one-hot
    (len(BLOCKS)).

    The faced block is read off the view (the cell next to the centre in the facing
    direction), so it adds no information; it spells out what a Minecraft player sees
    under the crosshair, which an MLP would otherwise have to work out by combining the
    facing with 4 cells of the view (what to ``attack``, where ``place`` lands).
    """

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Dict) or set(space.spaces) != {"view", "inventory", "facing", "depth"}:
            raise ValueError("CraftVectorObservation wraps the crafting world (Dict view/inventory/facing/depth)")
        view_size = space["view"].shape[0]
        self.size = vector_size(view_size)
        inventory = view_size * view_size * len(BLOCKS)
        high = np.full(self.size, 1.0, dtype=np.float32)
        high[inventory : inventory + len(ITEMS)] = np.log1p(MAX_COUNT)
        self.observation_space = gym.spaces.Box(0.0, high, (self.size,), np.float32)
        self._eye = np.eye(len(BLOCKS), dtype=np.float32)
        self._facing = np.eye(4, dtype=np.float32)

    def observation(self, observation: dict[str, Any]) -> np.ndarray:
        return vector_observation(observation, self._eye, self._facing)


def vector_size(view_size: int = 9) -> int:
    """Length of :class:`CraftVectorObservation`'s vector for a ``view_size`` view."""
    return view_size * view_size * len(BLOCKS) + len(ITEMS) + 4 + 1 + len(BLOCKS)


def vector_observation(observation: dict[str, Any], eye: np.ndarray | None = None, facing: np.ndarray | None = None) -> np.ndarray:
    """The flat float32 vector of one ``Dict`` observation (see :class:`CraftVectorObservation`)."""
    eye = np.eye(len(BLOCKS), dtype=np.float32) if eye is None else eye
    facing = np.eye(4, dtype=np.float32) if facing is None else facing
    view = np.asarray(observation["view"])
    direction = int(observation["facing"])
    centre = view.shape[0] // 2
    faced = view[centre + _MOVES[direction, 0], centre + _MOVES[direction, 1]]
    return np.concatenate(
        [
            eye[view].ravel(),
            np.log1p(np.asarray(observation["inventory"], dtype=np.float32)),
            facing[direction],
            np.asarray(observation["depth"], dtype=np.float32),
            eye[faced],
        ]
    )


def make_craft_env(env_id: str = "rudder/CraftDiamond-v0", *, vector: bool = True, **kwargs: Any) -> gym.Env:
    """``gym.make(env_id, **kwargs)``, flattened by :class:`CraftVectorObservation` when
    ``vector`` (what the SB3 agents train on)."""
    env = gym.make(env_id, **kwargs)
    return CraftVectorObservation(env) if vector else env


# ------------------------------------------------------------------ demonstrations
class CraftDemonstrator:
    """A scripted player with human-like variety; ``demonstrator(observation, rng)``.

    It reads the world (it "sees" like a player who remembers the map) but heads only for
    blocks inside the agent's view, so its choices can be imitated from the observation.
    Per episode it draws a style: how many logs (``logs`` range), whether it turns all
    logs into planks at once or as needed, whether it crafts sticks before the table,
    whether it picks its crafting table up and carries it or crafts a new one, whether
    it mines coal for fuel, whether it places its furnace a few cells away from the
    crafting table (and walks back to the table for the iron pickaxe). With probability
    ``noise`` a step is a random move (detours); noisy episodes sometimes run out of time
    (occasional failures).

    Args:
        env: the crafting world (wrapped or not; it reads ``env.unwrapped``).
        noise: chance of a random move instead of the planned action.
        logs: inclusive range of logs collected before crafting.
        furnace_away: share of episodes in which the player, furnace in hand, walks on
            until it stands 3-4 cells from the crafting table (out of its reach, still
            in view) and places the furnace beside itself there, so it walks back to the
            table for the iron pickaxe.
    """

    def __init__(
        self, env: gym.Env, *, noise: float = 0.05, logs: tuple[int, int] = (6, 9), furnace_away: float = 0.3
    ) -> None:
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"`noise` must be in [0, 1], got {noise}")
        if not 0.0 <= furnace_away <= 1.0:
            raise ValueError(f"`furnace_away` must be in [0, 1], got {furnace_away}")
        if logs[0] < 6 or logs[1] < logs[0]:
            raise ValueError(
                f"`logs` must be a range (low, high) with 6 <= low <= high (6 logs make the planks "
                f"of the whole chain), got {logs}"
            )
        self.env = env
        self.noise = float(noise)
        self.logs = (int(logs[0]), int(logs[1]))
        self.furnace_away = float(furnace_away)
        self._episode_steps = -1
        self._style: dict[str, Any] = {}

    @property
    def world(self) -> CraftEnv:
        return self.env.unwrapped

    def _new_episode(self, rng: np.random.Generator) -> None:
        self._style = {
            "logs": int(rng.integers(self.logs[0], self.logs[1] + 1)),
            "planks_at_once": bool(rng.random() < 0.5),
            "sticks_first": bool(rng.random() < 0.1),
            "carry_table": bool(rng.random() < 0.1),
            "coal": bool(rng.random() < 0.5),
            "furnace_distance": int(rng.choice([3, 4])) if rng.random() < self.furnace_away else 0,
            "furnace_spot_reached": False,
            "direction": int(rng.choice([2, 3])),
            "explore_row": self.world.height - 2,
            "logs_taken": 0,
            "target": None,
        }

    def __call__(self, observation: Any, rng: np.random.Generator) -> int:
        world = self.world
        if world.steps == 0 or world.steps < self._episode_steps:
            self._new_episode(rng)
        self._episode_steps = world.steps
        if rng.random() < self.noise:
            return int(rng.integers(1, 5))
        return self._plan(world)

    # -- the plan ---------------------------------------------------------------------
    def _count(self, item: str) -> int:
        return int(self.world.inventory[_ITEM[item]])

    def _plan(self, world: CraftEnv) -> int:
        count = self._count
        style = self._style
        level = world.tool_level()
        if count("diamond") > 0:
            return ACTION["noop"]
        # 1. logs
        if level == 0 and count("wooden_pickaxe") == 0 and style["logs_taken"] < style["logs"]:
            action = self._go_mine({TREE}, explore="surface")
            if action == ACTION["attack"]:
                style["logs_taken"] += 1
            return action
        if level == 0:
            return self._wooden_pickaxe()
        if level == 1:
            return self._stone_pickaxe()
        if level == 2:
            if count("iron_ingot") + count("iron_ore") < 3:
                if style["coal"] and count("coal") < 3:
                    action = self._go_mine({COAL_ORE}, explore=None, reach=2)
                    if action is not None:
                        return action
                return self._go_mine({IRON_ORE}, explore="deep")
            return self._iron_pickaxe()
        return self._go_mine({DIAMOND_ORE}, explore="deep")

    def _ensure_planks(self, needed: int) -> int | None:
        """``craft:planks`` while short of ``needed`` planks (all logs at once in that style)."""
        if self._count("planks") < needed and self._count("log") > 0:
            return ACTION["craft:planks"]
        if self._style["planks_at_once"] and self._count("log") > 0 and self.world.tool_level() == 0:
            return ACTION["craft:planks"]
        return None

    def _ensure_sticks(self) -> int | None:
        if self._count("stick") < 2:
            action = self._ensure_planks(2)
            return action if action is not None else ACTION["craft:stick"]
        return None

    def _ensure_table(self) -> int | None:
        """Gets a crafting table within reach: walks to one in view, else places one held,
        else crafts one."""
        world = self.world
        if world.station_nearby(TABLE):
            return None
        path = self._path_to({TABLE}, reach=world.view_size // 2)
        if path is not None and len(path) > 1:
            row, column = path[0]
            return self._toward(row, column)
        if self._count("crafting_table") == 0:
            action = self._ensure_planks(4)
            return action if action is not None else ACTION["craft:crafting_table"]
        return self._place(ACTION["place:crafting_table"])

    def _place(self, action: int) -> int:
        """Places the block on the faced cell: mines the faced stone first, or steps to
        an open neighbour when the faced cell cannot be cleared."""
        world = self.world
        row, column = world.faced_cell()
        block = int(world.world[row, column])
        if _WALKABLE[block]:
            return action
        if block in (STONE, COAL_ORE, DIRT) and world.tool_level() >= _DROP_LEVEL[block]:
            return ACTION["attack"]
        for direction in (2, 3, 0, 1):
            row, column = world.position + _MOVES[direction]
            if _WALKABLE[world.world[row, column]]:
                return 1 + direction
        return 1 + int(self._style["direction"])

    def _pick_up_table(self) -> int | None:
        """In the carrying style, mines the table it stands next to before moving on."""
        world = self.world
        if not self._style["carry_table"] or not world.station_nearby(TABLE):
            return None
        return self._go_mine({TABLE}, explore=None, reach=NEARBY)

    def _wooden_pickaxe(self) -> int:
        style = self._style
        if style["sticks_first"]:
            for step in (self._ensure_sticks, lambda: self._ensure_planks(7), self._ensure_table):
                action = step()
                if action is not None:
                    return action
        else:
            for step in (lambda: self._ensure_planks(4), self._ensure_table, self._ensure_sticks, lambda: self._ensure_planks(3)):
                action = step()
                if action is not None:
                    return action
        return ACTION["nearbyCraft:wooden_pickaxe"]

    def _stone_pickaxe(self) -> int:
        if self._count("cobblestone") < 3:
            action = self._pick_up_table()
            return action if action is not None else self._dig_down()
        for step in (self._ensure_sticks, self._ensure_table):
            action = step()
            if action is not None:
                return action
        return ACTION["nearbyCraft:stone_pickaxe"]

    def _iron_pickaxe(self) -> int:
        world = self.world
        count = self._count
        if count("iron_ingot") < 3:
            if count("furnace") == 0 and not world.station_nearby(FURNACE):
                if count("cobblestone") < 8:
                    return self._dig_down()
                action = self._ensure_table()
                return action if action is not None else ACTION["nearbyCraft:furnace"]
            if not world.station_nearby(FURNACE):
                style = self._style
                distance = world.distance_in_view(TABLE)
                if not style["furnace_spot_reached"] and distance is not None and distance < style["furnace_distance"]:
                    return self._tunnel()  # that style walks off before placing the furnace
                # Once there it stays: stepping aside to place must not send it walking on again.
                style["furnace_spot_reached"] = True
                return self._place(ACTION["place:furnace"])
            if count("coal") == 0:
                action = self._ensure_planks(1)
                if action is not None:
                    return action
            return ACTION["nearbySmelt:iron_ingot"]
        for step in (self._ensure_sticks, self._ensure_table):
            action = step()
            if action is not None:
                return action
        return ACTION["nearbyCraft:iron_pickaxe"]

    # -- movement -----------------------------------------------------------------------
    def _dig_down(self) -> int:
        world = self.world
        row, column = world.position
        if row >= world.height - 2:
            return self._tunnel()
        return self._toward(row + 1, column)

    def _tunnel(self) -> int:
        """Tunnels sideways along the current row, turning at the bedrock walls."""
        world = self.world
        style = self._style
        row, column = world.position
        step = _MOVES[style["direction"]]
        if world.world[row, column + step[1]] == BEDROCK:
            style["direction"] = 5 - style["direction"]  # west <-> east
            step = _MOVES[style["direction"]]
        return self._toward(row, column + int(step[1]))

    def _toward(self, row: int, column: int, *, target: bool = False) -> int:
        """One step to an adjacent cell: move if open, else face it and mine it. A block
        the held tools cannot mine, or a placed table or furnace that is not the
        ``target``, is passed by stepping (or digging) to the side."""
        world = self.world
        delta = (row - world.position[0], column - world.position[1])
        direction = {(-1, 0): 0, (1, 0): 1, (0, -1): 2, (0, 1): 3}[delta]
        block = int(world.world[row, column])
        if _WALKABLE[block]:
            return 1 + direction
        if world.tool_level() < _DROP_LEVEL[block] or (block in (TABLE, FURNACE) and not target):
            around = (0, 1) if direction >= 2 else (2, 3)
            for side in around:
                side_row, side_column = world.position + _MOVES[side]
                side_block = int(world.world[side_row, side_column])
                if _WALKABLE[side_block] or (
                    side_block not in (TABLE, FURNACE) and world.tool_level() >= _DROP_LEVEL[side_block]
                ):
                    return self._toward(int(side_row), int(side_column))
            return 1 + around[0]
        if world.facing != direction:
            return 1 + direction
        return ACTION["attack"]

    def _go_mine(self, blocks: set[int], *, explore: str | None, reach: int | None = None) -> int | None:
        """Heads for the nearest visible block of ``blocks`` and mines it.

        The chosen block stays the target until it is mined, so the player does not dither
        between two blocks. Without a target in ``reach`` cells (default: the view) it
        explores: ``"surface"`` walks along the surface, ``"deep"`` digs down and tunnels;
        with ``explore=None`` it returns None.
        """
        world = self.world
        reach = world.view_size // 2 if reach is None else reach
        target = self._style.get("target")
        if target is None or int(world.world[target]) not in blocks:
            target = None
        path = self._path_to(blocks, reach=reach + 2 if target else reach, target=target)
        if path is None:
            self._style["target"] = None
            if explore is None:
                return None
            if explore == "surface":
                return self._tunnel()
            return self._explore_deep()
        self._style["target"] = path[-1]
        row, column = path[0]
        return self._toward(row, column, target=len(path) == 1)

    def _explore_deep(self) -> int:
        """Digs down to the exploration row, then tunnels; each bounce off the bedrock
        wall switches between the bottom row and a row 6 higher, so the view sweeps both."""
        world = self.world
        style = self._style
        if world.position[0] < style["explore_row"]:
            return self._dig_down()
        row, column = world.position
        step = _MOVES[style["direction"]]
        if world.world[row, column + step[1]] == BEDROCK:
            style["explore_row"] = world.height - 8 if style["explore_row"] == world.height - 2 else world.height - 2
            if row > style["explore_row"]:
                return self._toward(row - 1, column)
        return self._tunnel()

    def _path_to(
        self, blocks: set[int], *, reach: int, target: tuple[int, int] | None = None
    ) -> list[tuple[int, int]] | None:
        """Cheapest path (walking 1, mining 3) to a block of ``blocks`` (or to ``target``)
        within ``reach`` cells; the path's last cell is the block itself."""
        world = self.world
        grid = world.world
        level = world.tool_level()
        start = (int(world.position[0]), int(world.position[1]))
        top, left = start[0] - reach, start[1] - reach
        bottom, right = start[0] + reach, start[1] + reach
        costs = {start: 0}
        parents: dict[tuple[int, int], tuple[int, int]] = {}
        queue = [(0, start)]
        while queue:
            cost, cell = heapq.heappop(queue)
            if cost > costs.get(cell, 1 << 30):
                continue
            for dr, dc in ((1, 0), (0, -1), (0, 1), (-1, 0)):
                row, column = cell[0] + dr, cell[1] + dc
                if not (top <= row <= bottom and left <= column <= right):
                    continue
                if not (0 <= row < world.height and 0 <= column < world.width):
                    continue
                block = int(grid[row, column])
                is_target = (row, column) == target if target is not None else block in blocks
                if is_target and level >= _DROP_LEVEL[block]:
                    path = [(row, column)]
                    while cell != start:
                        path.append(cell)
                        cell = parents[cell]
                    return path[::-1]
                if _WALKABLE[block]:
                    step_cost = 1
                elif block in (STONE, COAL_ORE, DIRT) and level >= _DROP_LEVEL[block]:
                    step_cost = 3
                else:
                    continue
                new_cost = cost + step_cost
                if new_cost < costs.get((row, column), 1 << 30):
                    costs[(row, column)] = new_cost
                    parents[(row, column)] = cell
                    heapq.heappush(queue, (new_cost, (row, column)))
        return None


def craft_demonstrations(
    num_demonstrations: int,
    *,
    env_id: str = "rudder/CraftDiamond-v0",
    seed: int = 0,
    noise: float = 0.05,
    include_failures: bool = False,
    max_attempts: int = 10,
    vector: bool = True,
    env_kwargs: dict[str, Any] | None = None,
) -> list[Episode]:
    """Demonstrations of the scripted player, recorded through :func:`make_craft_env`.

    Each keeps ``infos["inventory_change"]`` for the event encoder. Demonstration i uses
    reset seeds ``seed + 1000 * i + attempt``.

    Args:
        num_demonstrations: how many demonstrations.
        env_id: the registered crafting-world id.
        seed: seed of the first episode and of the player's choices.
        noise: the player's random-move probability.
        include_failures: keep episodes that ran out of time (like real human data)
            instead of retrying until one obtains the diamond.
        max_attempts: tries per demonstration before giving up.
        vector: record the flat vector observation (what the SB3 agents see) instead of
            the ``Dict``.
        env_kwargs: extra keyword arguments of the env.

    Raises:
        RuntimeError: if a demonstration does not obtain the diamond in ``max_attempts``.
    """
    if num_demonstrations < 1:
        raise ValueError(f"`num_demonstrations` must be >= 1, got {num_demonstrations}")
    env = make_craft_env(env_id, vector=vector, **(env_kwargs or {}))
    player = CraftDemonstrator(env, noise=noise)
    rng = np.random.default_rng(seed)
    demonstrations = []
    try:
        for index in range(num_demonstrations):
            for attempt in range(max_attempts):
                episode = record_episode(
                    env, player, seed=seed + 1000 * index + attempt, rng=rng, info_keys=("inventory_change",)
                )
                if include_failures or episode.terminated:
                    demonstrations.append(episode)
                    break
            else:
                raise RuntimeError(
                    f"the scripted player did not obtain the diamond in {max_attempts} tries for "
                    f"demonstration {index}; lower `noise` or raise `max_attempts`"
                )
    finally:
        env.close()
    return demonstrations


_MIRRORED_ACTIONS = np.arange(len(ACTIONS))
_MIRRORED_ACTIONS[[ACTION["move:west"], ACTION["move:east"]]] = [ACTION["move:east"], ACTION["move:west"]]


def mirror_episode(episode: Episode, *, view_size: int = 9) -> Episode:
    """The left-right mirror image of a recorded episode with flat observations
    (:class:`CraftVectorObservation`): the view flipped west to east, ``move:west`` and
    ``move:east`` swapped in the actions and in the facing (the faced block stays). The
    world has no preferred side, so the mirror image is an episode the player could have
    played in the mirrored world: cloning both doubles the data and makes the searches
    symmetric (``train_sb3(cloning_augmentation=mirror_episode)``).

    Features after the crafting world's own (profile progress, the sub-task one-hot) are
    left as they are: they follow the events, which the mirror does not change.

    Args:
        episode: observations of shape (T+1, n) with n >= the vector size of ``view_size``.
        view_size: the env's ``view_size``.
    """
    observations = episode.observations
    view_features = view_size * view_size * len(BLOCKS)
    own = vector_size(view_size)
    if not isinstance(observations, np.ndarray) or observations.ndim != 2 or observations.shape[1] < own:
        shape = getattr(observations, "shape", type(observations).__name__)
        raise ValueError(
            f"mirror_episode needs flat crafting-world observations of shape (T+1, >= {own}) for view_size "
            f"{view_size} (record with vector=True), got {shape}"
        )
    actions = np.asarray(episode.actions)
    if actions.ndim != 1 or not np.issubdtype(actions.dtype, np.integer):
        raise ValueError(f"mirror_episode needs integer actions of shape (T,), got {actions.dtype} {actions.shape}")
    mirrored = observations.copy()
    views = mirrored[:, :view_features].reshape(-1, view_size, view_size, len(BLOCKS))
    mirrored[:, :view_features] = views[:, :, ::-1, :].reshape(-1, view_features)
    facing = slice(view_features + len(ITEMS), view_features + len(ITEMS) + 4)
    mirrored[:, facing] = mirrored[:, facing][:, [0, 1, 3, 2]]
    return dataclasses.replace(episode, observations=mirrored, actions=_MIRRORED_ACTIONS[actions])


def with_item_keys(episode: Episode) -> Episode:
    """A ``Dict``-observation episode of the crafting world with the inventory vector
    split into MineRL-style keys ``"inventory/<item>"`` (the layout of
    :mod:`rudder.envs.minerl`'s episodes, which :class:`~rudder.events.InventoryEncoder`
    reads by default)."""
    observations = episode.observations
    if not isinstance(observations, dict) or "inventory" not in observations:
        raise ValueError("with_item_keys needs Dict observations with an 'inventory' vector (vector=False)")
    split = {key: value for key, value in observations.items() if key != "inventory"}
    inventory = np.asarray(observations["inventory"])
    for index, item in enumerate(ITEMS):
        split[f"inventory/{item}"] = inventory[:, index]
    return dataclasses.replace(episode, observations=split)


def evaluate_items(model, env, *, num_episodes: int = 100, seed: int | None = None, deterministic: bool = False) -> dict[str, float]:
    """Per-item success rates, as in the paper's MineRL table: the share of
    ``num_episodes`` episodes in which each item of :data:`ITEM_CHAIN` was obtained.

    Runs :func:`rudder.agents.callbacks.evaluate_success` (needs stable-baselines3) and
    reads ``info["obtained"]`` at the end of every episode.

    Args:
        model: anything with SB3's ``predict``.
        env: a vectorised crafting world with ``Monitor``, built like the training env.
        num_episodes: episodes, spread evenly over the envs.
        seed: ``env.seed(seed)`` first, so that every method plays the same worlds.
        deterministic: most likely actions instead of sampled ones.
    """
    from rudder.agents.callbacks import evaluate_success

    obtained: list[np.ndarray] = []

    def record(info: dict[str, Any]) -> bool:
        obtained.append(np.asarray(info["obtained"], dtype=bool))
        return bool(info["is_success"])

    evaluate_success(model, env, num_episodes=num_episodes, deterministic=deterministic, seed=seed, success=record)
    table = np.array(obtained)
    return {item: float(table[:, _ITEM[item]].mean()) for item in ITEM_CHAIN}


def register_craft_envs() -> None:
    """Registers ``rudder/CraftDiamond-v0`` (diamond reward only) and
    ``rudder/CraftDiamondDense-v0`` (MineRL's item rewards, every time). Keyword
    arguments of ``gym.make`` go to :class:`CraftEnv`."""
    for env_id, reward in (("rudder/CraftDiamond-v0", "diamond"), ("rudder/CraftDiamondDense-v0", "dense")):
        if env_id in gym.registry:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gym.register(id=env_id, entry_point="rudder.envs.craft:CraftEnv", kwargs={"reward": reward}, max_episode_steps=None)


def consensus_items(names: Sequence[str]) -> list[str]:
    """The distinct items of a consensus, in the order of their first occurrence."""
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


__all__ = [
    "ACTION",
    "ACTIONS",
    "BLOCKS",
    "ITEMS",
    "ITEM_CHAIN",
    "CraftDemonstrator",
    "CraftEnv",
    "CraftVectorObservation",
    "consensus_items",
    "craft_demonstrations",
    "evaluate_items",
    "make_craft_env",
    "mirror_episode",
    "register_craft_envs",
    "vector_observation",
    "vector_size",
    "with_item_keys",
]
