"""A scripted player of the crafting world, and demonstrations recorded from it.

- :class:`CraftDemonstrator` plays the whole item chain with human-like variety.
- :func:`craft_demonstrations` records its successful episodes (the demonstrations the
  crafting-world experiments align and clone).
"""

from __future__ import annotations

import heapq
from typing import Any, Literal, cast, overload

import gymnasium as gym
import numpy as np

from rudder.data.episode import Episode
from rudder.data.record import record_episodes
from rudder.envs.craft.env import CraftEnv, make_craft_env
from rudder.envs.craft.rules import (
    ACTION,
    BEDROCK,
    COAL_ORE,
    DIAMOND_ORE,
    DIRT,
    DROP_LEVEL,
    FURNACE,
    IRON_ORE,
    ITEM,
    MOVES,
    NEARBY,
    STONE,
    TABLE,
    TREE,
    WALKABLE,
)

__all__ = ["CraftDemonstrator", "craft_demonstrations"]


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
        """The crafting world under the wrappers."""
        return cast(CraftEnv, self.env.unwrapped)

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
        return int(self.world.inventory[ITEM[item]])

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
                    coal = self._go_mine({COAL_ORE}, explore=None, reach=2)
                    if coal is not None:
                        return coal
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
        if WALKABLE[block]:
            return action
        if block in (STONE, COAL_ORE, DIRT) and world.tool_level() >= DROP_LEVEL[block]:
            return ACTION["attack"]
        for direction in (2, 3, 0, 1):
            row, column = world.position + MOVES[direction]
            if WALKABLE[world.world[row, column]]:
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
        step = MOVES[style["direction"]]
        if world.world[row, column + step[1]] == BEDROCK:
            style["direction"] = 5 - style["direction"]  # west <-> east
            step = MOVES[style["direction"]]
        return self._toward(row, column + int(step[1]))

    def _toward(self, row: int, column: int, *, target: bool = False) -> int:
        """One step to an adjacent cell: move if open, else face it and mine it. A block
        the held tools cannot mine, or a placed table or furnace that is not the
        ``target``, is passed by stepping (or digging) to the side."""
        world = self.world
        delta = (row - world.position[0], column - world.position[1])
        direction = {(-1, 0): 0, (1, 0): 1, (0, -1): 2, (0, 1): 3}[delta]
        block = int(world.world[row, column])
        if WALKABLE[block]:
            return 1 + direction
        if world.tool_level() < DROP_LEVEL[block] or (block in (TABLE, FURNACE) and not target):
            around = (0, 1) if direction >= 2 else (2, 3)
            for side in around:
                side_row, side_column = world.position + MOVES[side]
                side_block = int(world.world[side_row, side_column])
                if WALKABLE[side_block] or (
                    side_block not in (TABLE, FURNACE) and world.tool_level() >= DROP_LEVEL[side_block]
                ):
                    return self._toward(int(side_row), int(side_column))
            return 1 + around[0]
        if world.facing != direction:
            return 1 + direction
        return ACTION["attack"]

    @overload
    def _go_mine(self, blocks: set[int], *, explore: Literal["surface", "deep"], reach: int | None = None) -> int: ...

    @overload
    def _go_mine(self, blocks: set[int], *, explore: None, reach: int | None = None) -> int | None: ...

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
        step = MOVES[style["direction"]]
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
                if is_target and level >= DROP_LEVEL[block]:
                    path = [(row, column)]
                    while cell != start:
                        path.append(cell)
                        cell = parents[cell]
                    return path[::-1]
                if WALKABLE[block]:
                    step_cost = 1
                elif block in (STONE, COAL_ORE, DIRT) and level >= DROP_LEVEL[block]:
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
    try:
        return record_episodes(
            env,
            CraftDemonstrator(env, noise=noise),
            num_episodes=num_demonstrations,
            seed=seed,
            info_keys=("inventory_change",),
            accept=lambda episode: include_failures or episode.terminated,
            max_attempts=max_attempts,
            seed_stride=1000,
            failure_hint=": the scripted player did not obtain the diamond; lower `noise` or raise `max_attempts`",
        )
    finally:
        env.close()

