"""The crafting world's gymnasium environment, :class:`CraftEnv`, and its registration.

The rules it applies (blocks, tools, recipes) are in :mod:`rudder.envs.craft.rules`.

Reward (``reward=``):

- ``"diamond"`` (``rudder/CraftDiamond-v0``): 1 for the diamond, 0 otherwise: delayed.
- ``"dense"`` (``rudder/CraftDiamondDense-v0``): MineRL's item rewards (log 1, planks 2,
  ..., diamond 1024) every time an item is gained, as in ``MineRLObtainDiamondDense``.
- ``"items"``: each item's reward the first time only, as in ``MineRLObtainDiamond``.

The episode terminates when the diamond is obtained and is truncated after
``max_steps`` steps (the limit lives in the env; do not add a ``TimeLimit``).

Observation (``Dict``):

- ``"view"``: uint8 (view_size, view_size): block codes (:data:`~rudder.envs.craft.rules.BLOCKS`)
  around the agent, which is at the centre; outside the world reads as bedrock.
- ``"inventory"``: int64 (len(ITEMS),): item counts, in :data:`~rudder.envs.craft.rules.ITEMS`
  order (MineRL's names).
- ``"facing"``: the faced direction (0 north/up, 1 south/down, 2 west, 3 east).
- ``"depth"``: float32 (1,): the agent's row / (height - 1), like Minecraft's y level.

``info`` (from ``reset`` and every ``step``) holds:

- ``"inventory_change"``: int64 (len(ITEMS),), this step's change of each item count in
  ``ITEMS`` order (zeros after ``reset``), for :class:`~rudder.events.InventoryEncoder`
  with ``source="info"``;
- ``"obtained"``: bool (len(ITEMS),), a vector over ``ITEMS``: True for each item gained at
  least once this episode (what a per-item success table reads at the episode's end,
  for example ``evaluate_items(..., item_names=ITEMS)``);
- ``"is_success"``: bool, whether this step obtained the diamond.

Speed: a step is a few array lookups; one env runs well over 5,000 steps/s
(``scripts/bench_env_speed.py``).
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from rudder.envs.craft.observation import CraftVectorObservation
from rudder.envs.craft.rules import (
    ACTIONS,
    AIR,
    BEDROCK,
    BLOCKS,
    COAL_ORE,
    DIAMOND_ORE,
    DIRT,
    DROP_ITEM,
    DROP_LEVEL,
    FURNACE,
    GRASS,
    IRON_ORE,
    ITEM,
    ITEMS,
    MAX_COUNT,
    MOVES,
    NEARBY,
    PLACEMENTS,
    RECIPES,
    REWARD_MODES,
    STONE,
    TREE,
    WALKABLE,
)
from rudder.minecraft import ITEM_REWARDS

__all__ = ["CraftEnv", "make_craft_env", "register_craft_envs"]

# crafting action -> (ingredient item indices, amounts, product index, count, station)
_RECIPE_ARRAYS = {
    action: (
        np.array([ITEM[name] for name in needs], dtype=np.int64),
        np.array(list(needs.values()), dtype=np.int64),
        ITEM[product],
        count,
        station,
    )
    for action, (needs, product, count, station) in RECIPES.items()
}
_ITEM_REWARD_VECTOR = np.array([float(ITEM_REWARDS.get(name, 0)) for name in ITEMS])

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

    def set_block(self, row: int, column: int, block: int) -> None:
        """Puts ``block`` (a code of :data:`~rudder.envs.craft.rules.BLOCKS`) on the cell
        (row, column) of the world, and in the agent's view of it.

        Use it (after ``reset``) to lay out a scene by hand, as tests do; writing to
        :attr:`world` directly leaves the view out of date.
        """
        self.world[row, column] = block
        self._padded[row + self._pad, column + self._pad] = block

    # ------------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Generates a new world from ``seed`` (``options`` is unused); returns the first
        observation and the info (see the module documentation)."""
        super().reset(seed=seed)
        self._generate()
        self.inventory[:] = 0
        self.obtained[:] = False
        self.facing = 1
        self.steps = 0
        change = np.zeros(len(ITEMS), dtype=np.int64)
        return self.observe(), {"inventory_change": change, "obtained": self.obtained.copy(), "is_success": False}

    def observe(self) -> dict[str, Any]:
        """The ``Dict`` observation of the current state (what ``reset`` and ``step`` return),
        for example after :meth:`set_block` or after moving :attr:`position` by hand."""
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
        row, column = self.position + MOVES[self.facing]
        return int(row), int(column)

    def tool_level(self) -> int:
        """0 hand, 1 wooden, 2 stone, 3 iron pickaxe: the best pickaxe held."""
        inventory = self.inventory
        if inventory[ITEM["iron_pickaxe"]] > 0:
            return 3
        if inventory[ITEM["stone_pickaxe"]] > 0:
            return 2
        if inventory[ITEM["wooden_pickaxe"]] > 0:
            return 1
        return 0

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Applies one action (an index into :data:`~rudder.envs.craft.rules.ACTIONS`).

        Raises:
            ValueError: if ``action`` is not in the action space.
        """
        if not self.action_space.contains(action):
            raise ValueError(f"invalid action {action!r}; actions are 0..{len(ACTIONS) - 1} ({', '.join(ACTIONS)})")
        action = int(action)
        before = self.inventory.copy()
        inventory = self.inventory
        if 1 <= action <= 4:
            self.facing = action - 1
            target = self.position + MOVES[self.facing]
            if WALKABLE[self.world[target[0], target[1]]]:
                self.position = target
        elif action == 5:  # attack
            row, column = self.faced_cell()
            block = self.world[row, column]
            item = DROP_ITEM[block]
            if item >= 0 and self.tool_level() >= DROP_LEVEL[block]:
                inventory[item] = min(inventory[item] + 1, MAX_COUNT)
                self.set_block(row, column, AIR if row > self.surface_rows else GRASS)
        elif action in _RECIPE_ARRAYS:
            needs, amounts, product, count, station = _RECIPE_ARRAYS[action]
            if np.all(inventory[needs] >= amounts) and (station is None or self.station_nearby(station)):
                inventory[needs] -= amounts
                inventory[product] = min(inventory[product] + count, MAX_COUNT)
        elif action in PLACEMENTS:
            item, block = PLACEMENTS[action]
            row, column = self.faced_cell()
            if inventory[item] > 0 and WALKABLE[self.world[row, column]]:
                inventory[item] -= 1
                self.set_block(row, column, block)
        elif action == 15:  # smelt iron
            ore, coal, planks = ITEM["iron_ore"], ITEM["coal"], ITEM["planks"]
            fuel = coal if inventory[coal] > 0 else planks
            if inventory[ore] > 0 and inventory[fuel] > 0 and self.station_nearby(FURNACE):
                inventory[ore] -= 1
                inventory[fuel] -= 1
                inventory[ITEM["iron_ingot"]] += 1
        self.steps += 1
        change = inventory - before
        gained = change > 0
        diamond = bool(gained[ITEM["diamond"]])
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
        return self.observe(), reward, terminated, truncated, info

    # ------------------------------------------------------------------ rendering
    def render(self) -> str | np.ndarray | None:
        """A text map (``"ansi"``) or an RGB image of shape (8 height, 8 width, 3)
        (``"rgb_array"``), as ``render_mode`` says; None without a render mode."""
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



def make_craft_env(env_id: str = "rudder/CraftDiamond-v0", *, vector: bool = True, **kwargs: Any) -> gym.Env:
    """``gym.make(env_id, **kwargs)``, flattened by :class:`CraftVectorObservation` when
    ``vector`` (what the SB3 agents train on)."""
    env = gym.make(env_id, **kwargs)
    return CraftVectorObservation(env) if vector else env


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
