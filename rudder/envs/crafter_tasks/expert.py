"""A scripted Crafter expert that reads the whole world: :class:`CrafterExpert`.

The expert is a demonstrator in the sense of the paper: it plays Crafter down the tech
tree (wood, table, wood pickaxe, stone, stone pickaxe, coal, iron, furnace, iron pickaxe,
diamond) while it stays alive: it drinks at the water, hunts cows, fights zombies and
skeletons that come next to it, and at nightfall tops up water and food and sleeps in a
pocket it digs (into rock in view, where it can) and seals with a stone, until the
daylight is back. It reads
the full world state (the material grid and the objects), plans on the grid with a
shortest-path search in which a block it can mine costs two steps and water or lava it
can bridge with a stone costs three, and re-plans whenever the world changes under it.

Every choice that a person would make differently from game to game comes from the
``numpy.random.Generator`` it is handed: how much wood and stone it gathers, whether it
makes swords and plants a sapling, the order of coal, iron and furnace, whether it walks
back to an old table or places a new one, routes (costs jittered per plan) and detours
(the second-nearest target now and then). With ``unhurried`` it sometimes takes its time
on the first day, as a person new to a world does: once it has its wooden tools it
drinks, eats, gathers wood and saplings and plants one until a random step of the first
day or night, and only then goes for stone, so that some of its nights fall while it
is still on the early sub-tasks. With ``nap_chance`` it naps once in daylight after its
wooden tools (Crafter's ``wake_up``). Both are off by default: neither lifted the score of
the agents trained on the demonstrations.

With ``sight="view"`` it knows only what a player sees: the cells of its 9x7 view,
remembered as a map of the cells seen so far, and the creatures in view. It plans through
unseen cells as if they were open ground and scouts for what it has not seen, so that its
choices depend only on what an agent that sees the local view could have seen.

:func:`record_crafter_demonstrations` records its episodes as
:class:`~rudder.data.Episode` objects, ending each one when the expert has mined the
diamond and done its extras (or after ``max_steps``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from rudder.data.episode import Episode
from rudder.data.record import record_episodes
from rudder.envs.crafter_tasks.env import ACHIEVEMENTS, ACTIONS, MATERIALS, CrafterEnv

__all__ = ["CrafterExpert", "record_crafter_demonstrations"]

_ACTION = {name: index for index, name in enumerate(ACTIONS)}
_ID = {name: index + 1 for index, name in enumerate(MATERIALS)}
_DIRECTIONS = ((-1, 0), (1, 0), (0, -1), (0, 1))
_MOVE = {(-1, 0): "move_left", (1, 0): "move_right", (0, -1): "move_up", (0, 1): "move_down"}
_WALKABLE = ("grass", "sand", "path")
_SOLID = ("stone", "coal", "iron", "diamond", "tree", "table", "furnace")
SIGHTS = ("world", "view")
"""What :class:`CrafterExpert` may know of the world (its ``sight``)."""
_TOOL_OF = {"stone": "wood_pickaxe", "coal": "wood_pickaxe", "iron": "stone_pickaxe", "diamond": "iron_pickaxe", "tree": None}


def _ids(names: tuple[str, ...] | list[str]) -> np.ndarray:
    return np.array([_ID[name] for name in names], dtype=np.int64)


def _near(mask: np.ndarray) -> np.ndarray:
    """Shape like ``mask``: True where a True cell lies in the 3x3 square around."""
    padded = np.pad(mask, 1)
    width, height = mask.shape
    out = np.zeros_like(mask)
    for dx in range(3):
        for dy in range(3):
            out |= padded[dx : dx + width, dy : dy + height]
    return out


class CrafterExpert:
    """A policy ``expert(observation, rng) -> action`` that plays Crafter to the diamond.

    It ignores the observation and reads ``env.unwrapped`` (a :class:`CrafterEnv`). A new
    episode is noticed by itself (the player object changes), so one expert serves many
    episodes; the per-episode choices are drawn from ``rng`` at the first step.

    Args:
        env: a :class:`CrafterEnv`, possibly wrapped.
        variety: scales the random choices (0: always the shortest plan and the fewest
            resources, except for ties; 1: a person's spread).
        unhurried: the chance (scaled by ``variety``) that an episode starts with an
            unhurried first day: after the wooden pickaxe (and sword) the expert spends
            its time on pastimes (water, cows, wood, saplings, a plant) until a step drawn
            uniformly from ``unhurried_until``, and only then mines stone.
        unhurried_until: the range of that step.
        nap_chance: the chance (scaled by ``variety``) that the expert, once it has its
            wooden tools, naps in daylight where it stands (no zombie within 8 cells) as
            soon as its energy is below the maximum, and wakes rested (``wake_up``).
        sapling_chance: the chance (scaled by ``variety``) that it collects a sapling and
            plants it before its wooden pickaxe.
        night_shelter: seal itself in for every night (the default). False: it works on
            through the dark and seals itself in only when tired (energy 2 or less) or
            hurt (health 5 or less), to measure what the shelter is worth.
        sight: what it knows of the world. ``"world"`` (the default): the whole map and
            every creature. ``"view"``: only what a player sees, the 9x7 cells of the
            env's local view, remembered from step to step as a map of the cells seen so
            far; creatures only while in view. It plans through cells it has not seen as
            if they were open ground (a little dearer than known ground), and where it
            knows no target it scouts: it walks toward unseen cells, mostly keeping its
            heading. Its choices are then ones an agent that sees the local view can
            learn from.

    Attributes:
        finished: True once the diamond is mined and the extras are done.
        failure: a short text naming the step of the chain the expert is stuck at, or "".
    """

    def __init__(
        self,
        env: gym.Env,
        *,
        variety: float = 1.0,
        unhurried: float = 0.0,
        unhurried_until: tuple[int, int] = (80, 280),
        nap_chance: float = 0.0,
        sapling_chance: float = 0.5,
        night_shelter: bool = True,
        sight: Literal["world", "view"] = "world",
    ) -> None:
        unwrapped = env.unwrapped
        if not isinstance(unwrapped, CrafterEnv):
            raise TypeError(f"`env` must be a CrafterEnv (rudder/Crafter-v0), got {type(unwrapped).__name__}")
        if not 0.0 <= variety <= 1.0:
            raise ValueError(f"`variety` must be in [0, 1], got {variety}")
        if not 0.0 <= unhurried <= 1.0:
            raise ValueError(f"`unhurried` must be in [0, 1], got {unhurried}")
        if not 0 <= unhurried_until[0] <= unhurried_until[1]:
            raise ValueError(f"`unhurried_until` must be (low, high) with 0 <= low <= high, got {unhurried_until}")
        for name, chance in (("nap_chance", nap_chance), ("sapling_chance", sapling_chance)):
            if not 0.0 <= chance <= 1.0:
                raise ValueError(f"`{name}` must be in [0, 1], got {chance}")
        if sight not in SIGHTS:
            raise ValueError(f"`sight` must be one of {SIGHTS}, got {sight!r}")
        self.sight = sight
        self.nap_chance = float(nap_chance)
        self.sapling_chance = float(sapling_chance)
        self.night_shelter = bool(night_shelter)
        self.unhurried = float(unhurried)
        self.unhurried_until = (int(unhurried_until[0]), int(unhurried_until[1]))
        self.env = unwrapped
        self.variety = float(variety)
        from crafter import constants  # the env exists, so crafter is installed

        self._place_cost = {name: dict(rule["uses"]) for name, rule in constants.place.items()}
        self._make_cost = {name: dict(rule["uses"]) for name, rule in constants.make.items()}
        self._make_near = {name: list(rule["nearby"]) for name, rule in constants.make.items()}
        self._player: Any = None
        self.finished = False
        self.failure = ""

    # -- episode state -----------------------------------------------------------------
    def _start(self, rng: np.random.Generator) -> None:
        variety = self.variety
        self._player = self.env.player
        self._rng = rng
        self.finished = False
        self.failure = ""
        self._path: list[tuple[int, int]] = []
        self._goal_key: Any = None
        self._shelter: dict[str, Any] | None = None
        self._refill: str | None = None
        self._explore_goal: tuple[int, int] | None = None
        self._memory: np.ndarray | None = None  # sight="view": material ids of the cells seen, 0 unseen
        self._map_version = 0  # counts the steps on which the remembered map changed
        self._path_version = 0
        self._scout_goal: tuple[int, int] | None = None
        self._heading: tuple[int, int] | None = None
        self._stuck = 0
        chance = lambda p: bool(rng.random() < p * variety)  # noqa: E731
        self._wood_target = 5 + int(rng.integers(0, 4)) * (variety > 0)
        self._stone_target = 2 + int(rng.integers(0, 5)) * (variety > 0)
        self._wood_sword = not chance(0.2)
        self._stone_sword = not chance(0.2)
        self._night_level = 0.45 + 0.1 * float(rng.random()) * variety
        self._iron_sword = chance(0.3)
        self._sapling = chance(self.sapling_chance)
        self._new_table_distance = 12 + int(rng.integers(0, 30)) if variety > 0 else 25
        order = ["coal", "iron", "furnace"]
        if variety > 0:
            order = [order[i] for i in rng.permutation(3)]
        self._iron_order = order
        self._detour = 0.15 * variety
        self._thirst_level = 3 + int(rng.integers(0, 3)) * (variety > 0)
        self._hunger_level = 3 + int(rng.integers(0, 3)) * (variety > 0)
        # Drawn last, and only when asked for, so that the other choices do not depend on them.
        optional = lambda p: p * variety > 0 and chance(p)  # noqa: E731
        low, high = self.unhurried_until
        self._pastime_until = int(rng.integers(low, high + 1)) if optional(self.unhurried) else 0
        self._nap = optional(self.nap_chance)

    # -- world reading -----------------------------------------------------------------
    def _grids(self) -> None:
        world = self.env.world
        self._pos = (int(self._player.pos[0]), int(self._player.pos[1]))
        self._inv = self._player.inventory
        if self.sight == "world":
            self._mat = world._mat_map
            self._objects = world._obj_map > 0
            self._area = self._mat.shape
            return
        self._area = world._mat_map.shape
        if self._memory is None:
            self._memory = np.zeros(self._area, dtype=world._mat_map.dtype)
        width, height = self.env.view
        x0, y0 = self._pos[0] - width // 2, self._pos[1] - height // 2
        window = (
            slice(max(0, x0), min(self._area[0], x0 + width)),
            slice(max(0, y0), min(self._area[1], y0 + height)),
        )
        if not np.array_equal(self._memory[window], world._mat_map[window]):
            self._memory[window] = world._mat_map[window]
            self._map_version += 1
        self._mat = self._memory
        self._in_view = np.zeros(self._area, dtype=bool)
        self._in_view[window] = True
        self._objects = (world._obj_map > 0) & self._in_view

    def _material(self, cell: tuple[int, int]) -> str | None:
        if not (0 <= cell[0] < self._area[0] and 0 <= cell[1] < self._area[1]):
            return None
        value = int(self._mat[cell])
        return MATERIALS[value - 1] if value > 0 else None

    def _object(self, cell: tuple[int, int]) -> Any:
        if not (0 <= cell[0] < self._area[0] and 0 <= cell[1] < self._area[1]):
            return None
        if self.sight == "view" and not self._in_view[cell]:
            return None
        return self.env.world._objects[self.env.world._obj_map[cell]]

    def _free(self, cell: tuple[int, int]) -> bool:
        return self._material(cell) in _WALKABLE and self._object(cell) is None

    def _mineable(self, material: str | None) -> bool:
        if material not in _TOOL_OF:
            return False
        tool = _TOOL_OF[material]
        return tool is None or self._inv[tool] > 0

    def _facing(self) -> tuple[int, int]:
        return (self._pos[0] + int(self._player.facing[0]), self._pos[1] + int(self._player.facing[1]))

    # -- planning ------------------------------------------------------------------------
    def _cost_grid(self) -> np.ndarray:
        cost = np.full(self._area, np.inf)
        cost[np.isin(self._mat, _ids(_WALKABLE))] = 1.0
        mineable = [name for name in _TOOL_OF if self._mineable(name)]
        cost[np.isin(self._mat, _ids(mineable))] = 2.0
        if self._inv["stone"] > 0 and self._inv["wood_pickaxe"] > 0:
            cost[self._mat == _ID["water"]] = 3.0  # bridged with a stone; lava never (a step into it kills)
        if self.sight == "view":
            cost[self._mat == 0] = 1.5  # unseen: hoped to be open ground
        cost[self._objects] = np.inf
        if self.variety > 0:
            cost = cost + self._rng.uniform(0.0, 0.3 * self.variety, self._area)
        return cost

    def _search(self, goal: np.ndarray, *, limit: float = np.inf) -> list[tuple[int, int]] | None:
        """Cells from the player to the nearest cell of ``goal`` (excluding the start).

        Returns [] when the player stands on a goal cell, None when none is reachable.
        """
        if goal[self._pos]:
            return []
        cost = self._cost_grid()
        cost[self._pos] = 0.0
        best = {self._pos: 0.0}
        parent: dict[tuple[int, int], tuple[int, int]] = {}
        queue = [(0.0, self._pos)]
        found: list[tuple[int, int]] = []
        skip = self._rng.random() < self._detour
        while queue:
            distance, cell = heapq.heappop(queue)
            if distance > best.get(cell, np.inf) or distance > limit:
                continue
            if goal[cell]:
                found.append(cell)
                if not skip or len(found) == 2:
                    break
                continue
            for dx, dy in _DIRECTIONS:
                nxt = (cell[0] + dx, cell[1] + dy)
                if not (0 <= nxt[0] < self._area[0] and 0 <= nxt[1] < self._area[1]):
                    continue
                step = cost[nxt]
                # Blocks that need the standing cell's action are not passed diagonally.
                if not np.isfinite(step):
                    continue
                total = distance + step
                if total < best.get(nxt, np.inf):
                    best[nxt] = total
                    parent[nxt] = cell
                    heapq.heappush(queue, (total, nxt))
        if not found:
            return None
        cell = found[-1]
        path = [cell]
        while parent.get(cell) is not None and parent[cell] != self._pos:
            cell = parent[cell]
            path.append(cell)
        return path[::-1]

    def _walk(self, goal: np.ndarray, key: Any) -> int | None:
        """The next action toward the nearest goal cell, or None when standing on one."""
        if goal[self._pos]:
            self._path = []
            return None
        if key != self._goal_key or not self._path or not goal[self._path[-1]] or self._path_version != self._map_version:
            path = self._search(goal)
            if path is None:
                return -1
            self._path, self._goal_key, self._path_version = path, key, self._map_version
        nxt = self._path[0]
        if abs(nxt[0] - self._pos[0]) + abs(nxt[1] - self._pos[1]) != 1:
            path = self._search(goal)
            if path is None:
                return -1
            self._path = path
            if not path:
                return None
            nxt = path[0]
        return self._step_into(nxt)

    def _step_into(self, nxt: tuple[int, int]) -> int:
        direction = (nxt[0] - self._pos[0], nxt[1] - self._pos[1])
        move = _ACTION[_MOVE[direction]]
        material, obj = self._material(nxt), self._object(nxt)
        if obj is not None:
            self._path = []
            if type(obj).__name__ in ("Zombie", "Skeleton", "Cow") and self._facing() == nxt:
                return _ACTION["do"]
            return move  # turns toward it; the next step re-plans around it
        if material in _WALKABLE:
            self._path = self._path[1:]
            return move
        if self._facing() != nxt:
            return move  # a blocked move only turns the player
        if self._mineable(material):
            return _ACTION["do"]
        if material == "water" and self._inv["stone"] > 0:
            return _ACTION["place_stone"]
        self._path = []
        return _ACTION["noop"]

    def _act_on(self, targets: np.ndarray, action: str, key: Any) -> int:
        """Walk next to a target cell, face it and take ``action``."""
        for dx, dy in _DIRECTIONS:
            cell = (self._pos[0] + dx, self._pos[1] + dy)
            if 0 <= cell[0] < self._area[0] and 0 <= cell[1] < self._area[1] and targets[cell]:
                if self._facing() == cell:
                    return _ACTION[action]
                for other in _DIRECTIONS:  # already facing another target: act on that one
                    near = (self._pos[0] + other[0], self._pos[1] + other[1])
                    if self._facing() == near and 0 <= near[0] < self._area[0] and 0 <= near[1] < self._area[1] and targets[near]:
                        return _ACTION[action]
                return _ACTION[_MOVE[(dx, dy)]]
        stand = _near_cross(targets) & ~targets
        result = self._walk(stand, key)
        return _ACTION["noop"] if result is None else result

    def _place(self, name: str, *, stand: np.ndarray | None = None) -> int:
        """Place ``name`` on the faced cell, moving first so that a valid cell is faced."""
        from crafter import constants

        where = constants.place[name]["where"]
        valid = lambda cell: self._material(cell) in where and self._object(cell) is None  # noqa: E731
        if (stand is None or stand[self._pos]) and valid(self._facing()):
            return _ACTION[f"place_{name}"]
        if stand is not None and not stand[self._pos]:
            result = self._walk(stand, ("stand", name))
            if result is not None:
                return result
        options = []
        for dx, dy in _DIRECTIONS:
            one, two = (self._pos[0] + dx, self._pos[1] + dy), (self._pos[0] + 2 * dx, self._pos[1] + 2 * dy)
            if self._free(one) and valid(two) and (stand is None or stand[one]):
                options.append((dx, dy))
        if not options:
            options = [d for d in _DIRECTIONS if self._free((self._pos[0] + d[0], self._pos[1] + d[1]))]
        if not options:
            return _ACTION["noop"]
        return _ACTION[_MOVE[options[int(self._rng.integers(len(options)))]]]

    # -- the parts of the game -------------------------------------------------------------
    def _mask(self, *names: str) -> np.ndarray:
        return np.isin(self._mat, _ids(list(names)))

    def _creatures(self, *kinds: str) -> np.ndarray:
        mask = np.zeros(self._area, dtype=bool)
        for obj in self.env.world.objects:
            if type(obj).__name__ in kinds:
                mask[int(obj.pos[0]), int(obj.pos[1])] = True
        return mask & self._in_view if self.sight == "view" else mask

    def _fight(self) -> int | None:
        for dx, dy in _DIRECTIONS:
            cell = (self._pos[0] + dx, self._pos[1] + dy)
            obj = self._object(cell)
            if obj is not None and type(obj).__name__ in ("Zombie", "Skeleton"):
                return _ACTION["do"] if self._facing() == cell else _ACTION[_MOVE[(dx, dy)]]
        return None

    def _collect(self, material: str) -> int:
        return self._act_on(self._mask(material), "do", ("collect", material))

    def _make(self, item: str) -> int:
        stations = self._make_near[item]
        stand = np.isin(self._mat, _ids(_WALKABLE))
        for station in stations:
            stand &= _near(self._mask(station))
        if stand[self._pos]:
            return _ACTION[f"make_{item}"]
        path = self._search(stand, limit=self._new_table_distance) if stand.any() else None
        if path is None:
            # No station within reach: place the missing ones here.
            for station in stations:
                if not _near(self._mask(station))[self._pos]:
                    needed = self._place_cost[station]
                    if any(self._inv[k] < v for k, v in needed.items()):
                        return self._gather(needed)
                    near_table = None
                    if station == "furnace":
                        near_table = np.isin(self._mat, _ids(_WALKABLE)) & _near(self._mask("table"))
                        if not near_table.any() or self._search(near_table, limit=self._new_table_distance) is None:
                            near_table = None
                    return self._place(station, stand=near_table)
        result = self._walk(stand, ("make", item))
        return _ACTION["noop"] if result is None else result

    def _gather(self, needed: dict[str, int]) -> int:
        for item, amount in needed.items():
            if self._inv[item] < amount:
                material = "tree" if item == "wood" else item
                return self._collect(material)
        return _ACTION["noop"]

    def _craft(self, item: str, extra: dict[str, int] | None = None) -> int:
        needed = dict(self._make_cost[item])
        for key, value in (extra or {}).items():
            needed[key] = needed.get(key, 0) + value
        missing = {k: v for k, v in needed.items() if self._inv[k] < v}
        if missing:
            return self._gather(missing)
        return self._make(item)

    # -- survival ------------------------------------------------------------------------
    def _survive(self) -> int | None:
        inv = self._inv
        if self._refill == "drink" and inv["drink"] >= 8:
            self._refill = None
        if self._refill == "food" and inv["food"] >= 6:
            self._refill = None
        thirst_level, hunger_level = self._thirst_level, self._hunger_level
        if self._shelter is None and self.env.world.daylight < self._night_level + 0.2:
            # Dusk: top up before sealing in for the night.
            thirst_level, hunger_level = max(thirst_level, 5), max(hunger_level, 4)
        if self._refill is None:
            if inv["drink"] <= thirst_level:
                self._refill = "drink"
            elif inv["food"] <= hunger_level:
                self._refill = "food"
        if self._refill == "drink":
            action = self._act_on(self._mask("water"), "do", "drink")
            if action == -1 and self.sight == "view" and inv["drink"] <= 2:
                return self._scout()  # no water known and little left: look for some
            return action
        if self._refill == "food":
            cows = self._creatures("Cow")
            if cows.any():
                return self._act_on(cows, "do", ("cow", int(cows.sum())))
            self._refill = None
            if self.sight == "view" and inv["food"] <= 2:
                return self._scout()
        return None

    def _wants_sleep(self) -> bool:
        inv = self._inv
        if self._inv["wood_pickaxe"] == 0:
            return inv["energy"] <= 1
        return inv["energy"] <= 2 or (self.night_shelter and self._night()) or inv["health"] <= 5

    def _night(self) -> bool:
        return bool(self.env.world.daylight < self._night_level)

    # -- sleeping in a sealed pocket -----------------------------------------------------
    def _find_shelter(self) -> dict[str, Any] | None:
        """A cell Z and direction d such that Z+d, Z+2d can be a pocket sealed at Z.

        The nearest site in the player's view (the 9x7 cells it sees) is taken first, as
        a person would dig in where they stand; only without one does it look 16 cells
        around. With no stone in hand, only a pocket dug into rock (which yields the
        stone that seals it) will do.
        """
        for half_width, half_height in ((4, 3), (16, 16)):
            site = self._find_shelter_within(half_width, half_height)
            if site is not None:
                return site
        return None

    def _find_shelter_within(self, half_width: int, half_height: int) -> dict[str, Any] | None:
        solid = np.isin(self._mat, _ids(list(_SOLID)))
        usable = np.isin(self._mat, _ids(_WALKABLE)) & ~self._objects
        mineable = np.isin(self._mat, _ids([m for m in _TOOL_OF if self._mineable(m)]))
        inside = usable | mineable
        rock = self._mat == _ID["stone"]
        width, height = self._area

        def cell_ok(cell: tuple[int, int], need: tuple[int, int]) -> bool:
            return 0 <= cell[0] < width and 0 <= cell[1] < height and bool(need[0] and solid[cell] or need[1] and inside[cell])

        candidates = []
        stones = self._inv["stone"]
        x0, y0 = self._pos
        for x in range(max(0, x0 - half_width), min(width, x0 + half_width + 1)):
            for y in range(max(0, y0 - half_height), min(height, y0 + half_height + 1)):
                if not usable[x, y] and (x, y) != self._pos:
                    continue
                for dx, dy in _DIRECTIONS:
                    pocket = [(x + dx, y + dy), (x + 2 * dx, y + 2 * dy)]
                    if not all(cell_ok(c, (False, True)) for c in pocket):
                        continue
                    sides = [(c[0] + dy, c[1] + dx) for c in pocket] + [(c[0] - dy, c[1] - dx) for c in pocket]
                    if not all(cell_ok(c, (True, False)) for c in sides):
                        continue
                    end = (x + 3 * dx, y + 3 * dy)
                    closed = cell_ok(end, (True, False))
                    dug = int(rock[pocket[0]]) + int(rock[pocket[1]])
                    if not closed and not (stones + dug >= 2 and self._free(end)):
                        continue
                    if stones + dug < 1:
                        continue
                    distance = abs(x - x0) + abs(y - y0) + int(mineable[pocket[0]]) + int(mineable[pocket[1]])
                    candidates.append((distance, (x, y), (dx, dy)))
        if not candidates:
            return None
        candidates.sort()
        _, entry, direction = candidates[0]
        return {"entry": entry, "direction": direction, "phase": "go"}

    def _sleep(self) -> int | None:
        site = self._shelter
        if site is None:
            if self._inv["wood_pickaxe"] == 0:
                return None
            site = self._shelter = self._find_shelter()
            if site is None:
                return None
        (x, y), (dx, dy) = site["entry"], site["direction"]
        cells = {
            "entry": (x, y),
            "first": (x + dx, y + dy),
            "second": (x + 2 * dx, y + 2 * dy),
            "end": (x + 3 * dx, y + 3 * dy),
        }
        for phase in ("go", "enter", "turn", "seal", "sleep", "exit"):
            if site["phase"] != phase:
                continue
            action = getattr(self, f"_shelter_{phase}")(site, cells, (dx, dy))
            if action == "abandon":
                self._shelter = None
                return None
            if action is not None:
                return int(action)
        return None

    def _shelter_go(self, site: dict[str, Any], cells: dict[str, tuple[int, int]], direction: tuple[int, int]) -> Any:
        if self._pos == cells["entry"]:
            site["phase"] = "enter"
            return None
        goal = np.zeros(self._area, dtype=bool)
        goal[cells["entry"]] = True
        result = self._walk(goal, ("shelter", *cells["entry"]))
        if result == -1:
            return "abandon"
        return _ACTION["noop"] if result is None else result

    def _shelter_enter(self, site: dict[str, Any], cells: dict[str, tuple[int, int]], direction: tuple[int, int]) -> Any:
        if self._pos == cells["second"]:
            if self._facing() == cells["end"] and self._free(cells["end"]):
                return _ACTION["place_stone"]
            site["phase"] = "turn"
            return None
        if self._pos not in (cells["entry"], cells["first"]):
            return "abandon"
        nxt = cells["first"] if self._pos == cells["entry"] else cells["second"]
        if self._object(nxt) is not None or self._material(nxt) not in _WALKABLE + tuple(_TOOL_OF):
            return "abandon"
        return self._step_into(nxt)

    def _shelter_turn(self, site: dict[str, Any], cells: dict[str, tuple[int, int]], direction: tuple[int, int]) -> Any:
        if self._pos == cells["second"]:
            return _ACTION[_MOVE[(-direction[0], -direction[1])]]
        if self._pos != cells["first"]:
            return "abandon"
        site["phase"] = "seal"
        return None

    def _shelter_seal(self, site: dict[str, Any], cells: dict[str, tuple[int, int]], direction: tuple[int, int]) -> Any:
        entry = cells["entry"]
        if self._material(entry) in _SOLID:
            site["phase"] = "sleep"
            return None
        if self._object(entry) is not None:
            return _ACTION["do"]
        if self._facing() != entry:
            return "abandon"
        return _ACTION["place_stone"]

    def _shelter_sleep(self, site: dict[str, Any], cells: dict[str, tuple[int, int]], direction: tuple[int, int]) -> Any:
        if self._player.sleeping:
            return _ACTION["noop"]
        if self._inv["energy"] < 9:
            return _ACTION["sleep"]
        starving = (self._inv["food"] == 0 or self._inv["drink"] == 0) and self._inv["health"] <= 4
        if (self._inv["health"] < 7 or self.env.world.daylight < 0.6) and not starving:
            return _ACTION["noop"]  # rest until healed and the night is over
        site["phase"] = "exit"
        return None

    def _shelter_exit(self, site: dict[str, Any], cells: dict[str, tuple[int, int]], direction: tuple[int, int]) -> Any:
        entry = cells["entry"]
        if self._material(entry) in _WALKABLE:
            return "abandon"  # out: the shelter is done
        if self._facing() != entry:
            return _ACTION[_MOVE[(-direction[0], -direction[1])]]
        return _ACTION["do"]

    # -- the tech tree ---------------------------------------------------------------------
    def _progress(self) -> int | None:
        inv, ach = self._inv, self._player.achievements
        if inv["wood_pickaxe"] == 0:
            return self._first_pickaxe()
        if self._wood_sword and inv["wood_sword"] == 0:
            return self._craft("wood_sword")
        if self._nap and ach["wake_up"] == 0 and inv["energy"] < 9 and self._safe_to_nap():
            return _ACTION["sleep"]
        if inv["stone_pickaxe"] == 0 and self.env.steps < self._pastime_until:
            action = self._pastime()
            if action is not None:
                return action
        if inv["stone_pickaxe"] == 0:
            if inv["stone"] < self._stone_target and inv["stone"] < 9:
                return self._collect("stone")
            return self._craft("stone_pickaxe")
        if self._stone_sword and inv["stone_sword"] == 0:
            return self._craft("stone_sword")
        if inv["stone"] < 2:  # a reserve for sealing a shelter and bridging water
            return self._collect("stone")
        if ach["place_stone"] == 0 and inv["stone"] > 0:
            return self._place("stone")
        if inv["iron_pickaxe"] == 0:
            return self._iron_pickaxe()
        if inv["diamond"] == 0:
            return self._collect("diamond")
        if self._iron_sword and inv["iron_sword"] == 0:
            return self._craft("iron_sword")
        self.finished = True
        return _ACTION["noop"]

    def _first_pickaxe(self) -> int:
        inv, ach = self._inv, self._player.achievements
        if inv["wood"] < self._wood_target and ach["place_table"] == 0:
            return self._collect("tree")
        if self._sapling and ach["place_plant"] == 0:
            action = self._plant_a_sapling()
            if action is not None:
                return action
            self._sapling = False  # no grass to look on
            return _ACTION["noop"]
        return self._craft("wood_pickaxe")

    def _iron_pickaxe(self) -> int:
        inv = self._inv
        for part in self._iron_order:
            if part in ("coal", "iron") and inv[part] < 1:
                return self._collect(part)
            if part == "furnace" and self._player.achievements["place_furnace"] == 0:
                needed = self._place_cost["furnace"]
                if any(inv[k] < v for k, v in needed.items()):
                    return self._gather(needed)
                stand = np.isin(self._mat, _ids(_WALKABLE)) & _near(self._mask("table"))
                if stand.any() and self._search(stand, limit=self._new_table_distance) is not None:
                    return self._place("furnace", stand=stand)
                return self._make("iron_pickaxe")
        return self._craft("iron_pickaxe")

    def _safe_to_nap(self) -> bool:
        """Daylight (above 0.7) and no zombie within 8 cells."""
        if self.env.world.daylight <= 0.7:
            return False
        x0, y0 = self._pos
        zombies = self._creatures("Zombie")
        return not zombies[max(0, x0 - 8) : x0 + 9, max(0, y0 - 8) : y0 + 9].any()

    def _pastime(self) -> int | None:
        """An unhurried first day: water and food topped up, wood, a sapling planted, then
        walks about; None when nothing is reachable."""
        inv = self._inv
        wants: list[tuple[np.ndarray, str | None]] = []
        if inv["drink"] <= 6:
            wants.append((self._mask("water"), "drink"))
        if inv["food"] <= 6:
            wants.append((self._creatures("Cow"), "food"))
        if inv["wood"] < 9:
            wants.append((self._mask("tree"), None))
        for targets, refill in wants:
            if targets.any():
                action = self._act_on(targets, "do", ("pastime", refill))
                if action != -1:
                    self._refill = refill  # topped up by _survive from the next step on
                    return action
        if inv["sapling"] > 0 or self._player.achievements["collect_sapling"] == 0:
            planting = self._plant_a_sapling()
            if planting is not None:
                return planting
        return self._explore()

    def _explore(self) -> int | None:
        """A walk to a random open cell up to 12 cells away (a new one once there); None
        when none is reachable."""
        for _ in range(4):
            goal = self._explore_goal
            if goal is None or goal == self._pos:
                x0, y0 = self._pos
                open_cells = np.isin(self._mat, _ids(_WALKABLE)) & ~self._objects
                box = np.zeros_like(open_cells)
                box[max(0, x0 - 12) : x0 + 13, max(0, y0 - 12) : y0 + 13] = True
                xs, ys = np.nonzero(open_cells & box)
                if len(xs) == 0:
                    return None
                pick = int(self._rng.integers(len(xs)))
                goal = self._explore_goal = (int(xs[pick]), int(ys[pick]))
            mask = np.zeros(self._area, dtype=bool)
            mask[goal] = True
            action = self._walk(mask, ("explore", *goal))
            if action is not None and action != -1:
                return action
            self._explore_goal = None  # there already, or out of reach: another goal
        return None

    def _scout(self) -> int:
        """``sight="view"``: the next step toward cells not seen yet (noop when all are seen)."""
        assert self._memory is not None
        unseen = self._memory == 0
        for _ in range(4):
            goal = self._scout_goal
            if goal is None or not unseen[goal]:
                goal = self._scout_goal = self._scout_target(unseen)
                if goal is None:
                    return _ACTION["noop"]
            mask = np.zeros(self._area, dtype=bool)
            mask[goal] = True
            action = self._walk(mask, ("scout", *goal))
            if action is not None and action != -1:
                return action
            self._scout_goal = self._heading = None  # out of reach: another way
        return _ACTION["noop"]

    def _scout_target(self, unseen: np.ndarray) -> tuple[int, int] | None:
        """An unseen cell: on along the heading most of the time, else one drawn within 16
        cells (anywhere when none is that near), which sets the heading."""
        x0, y0 = self._pos
        width, height = self._area
        if self._heading is not None and self._rng.random() < 1.0 - 0.2 * self.variety:
            dx, dy = self._heading
            for reach in (12, 8, 5):
                cell = (min(max(x0 + dx * reach, 0), width - 1), min(max(y0 + dy * reach, 0), height - 1))
                if unseen[cell]:
                    return cell
        xs, ys = np.nonzero(unseen)
        if len(xs) == 0:
            return None
        near = np.maximum(np.abs(xs - x0), np.abs(ys - y0)) <= 16
        if near.any():
            xs, ys = xs[near], ys[near]
        pick = int(self._rng.integers(len(xs)))
        goal = (int(xs[pick]), int(ys[pick]))
        dx, dy = goal[0] - x0, goal[1] - y0
        self._heading = (int(np.sign(dx)), 0) if abs(dx) >= abs(dy) else (0, int(np.sign(dy)))
        return goal

    def _plant_a_sapling(self) -> int | None:
        """Plant the sapling in hand, or look for one in the grass (one ``do`` in ten
        finds one), walking on where the grass goes on; None where it does not."""
        if self._inv["sapling"] > 0:
            return self._place("plant")
        if self._material(self._facing()) == "grass" and self._object(self._facing()) is None:
            return _ACTION["do"]
        options = [
            d for d in _DIRECTIONS
            if self._free((self._pos[0] + d[0], self._pos[1] + d[1]))
            and self._material((self._pos[0] + 2 * d[0], self._pos[1] + 2 * d[1])) == "grass"
        ]  # fmt: skip
        if not options:
            return None
        return _ACTION[_MOVE[options[int(self._rng.integers(len(options)))]]]

    # -- the policy ------------------------------------------------------------------------
    def __call__(self, observation: Any, rng: np.random.Generator) -> int:
        """The next action (an int in [0, 17)); ``observation`` is not used."""
        if self.env.player is None:
            raise RuntimeError("the env has not been reset; call env.reset() before asking the expert")
        if self.env.player is not self._player:
            self._start(rng)
        self._grids()
        if self._player.sleeping:
            return _ACTION["noop"]
        for part in (self._fight, self._survive_first, self._sleep_if_tired, self._progress):
            action = part()
            if action is not None:
                if action == -1:
                    continue
                return self._safe(int(action))
        if self.sight == "view":
            return self._safe(self._scout())  # nothing to do that it knows of: look around
        return _ACTION["noop"]

    def _safe(self, action: int) -> int:
        """``action``, or noop where it would step into lava."""
        name = ACTIONS[action]
        if name.startswith("move_"):
            direction = next(d for d, move in _MOVE.items() if move == name)
            cell = (self._pos[0] + direction[0], self._pos[1] + direction[1])
            if self._material(cell) == "lava" and self._object(cell) is None:
                return _ACTION["noop"]
        return action

    def _survive_first(self) -> int | None:
        if self._shelter is not None and self._shelter["phase"] in ("seal", "sleep"):
            return None
        action = self._survive()
        return None if action == -1 else action

    def _sleep_if_tired(self) -> int | None:
        if self._shelter is not None or self._wants_sleep():
            action = self._sleep()
            return None if action == -1 else action
        return None


def _near_cross(mask: np.ndarray) -> np.ndarray:
    """Shape like ``mask``: True where a 4-neighbour is True."""
    padded = np.pad(mask, 1)
    return padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]


class _EndWhenFinished(gym.Wrapper):
    """Truncates the episode once the expert is finished."""

    def __init__(self, env: gym.Env, expert: CrafterExpert) -> None:
        super().__init__(env)
        self._expert = expert

    def step(self, action: Any) -> Any:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated, truncated or self._expert.finished, info


def record_crafter_demonstrations(
    num_demonstrations: int,
    seed: int = 0,
    *,
    observation: str = "symbolic",
    max_steps: int = 10_000,
    require_diamond: bool = True,
    max_attempts: int = 5,
    variety: float = 1.0,
    unhurried: float = 0.0,
    nap_chance: float = 0.0,
    sapling_chance: float = 0.5,
    night_shelter: bool = True,
    sight: Literal["world", "view"] = "world",
    compass: bool = False,
    on_episode: Callable[[Episode, CrafterExpert], None] | None = None,
) -> list[Episode]:
    """Records the expert's Crafter episodes as :class:`~rudder.data.Episode` objects.

    Each episode ends when the expert is finished (diamond and extras: ``truncated``),
    when the player dies (``terminated``) or after ``max_steps``. The infos keep
    ``achievement_increments`` (T, 22) and ``inventory_change`` (T, 16) (see
    :class:`CrafterEnv`).

    Args:
        num_demonstrations: how many episodes to return.
        seed: the first world seed and the seed of the expert's generator.
        observation: the env's observation mode (``"symbolic"`` or ``"image"``).
        max_steps: the longest episode.
        require_diamond: keep only episodes that mined a diamond (retrying with the next
            world seed, ``max_attempts`` tries per episode).
        max_attempts: tries per episode.
        variety: see :class:`CrafterExpert`.
        unhurried: the chance of an unhurried first day (see :class:`CrafterExpert`).
        nap_chance: the chance of a daytime nap (see :class:`CrafterExpert`).
        sapling_chance: the chance of a sapling planted (see :class:`CrafterExpert`).
        night_shelter: whether it seals itself in for every night (see :class:`CrafterExpert`).
        sight: what it knows of the world, ``"world"`` or ``"view"`` (see :class:`CrafterExpert`).
        compass: the env's compass (see :class:`CrafterEnv`); the expert does not read it.
        on_episode: called with each recorded attempt and the expert (for reports).

    Raises:
        ValueError: if ``num_demonstrations`` < 1.
        RuntimeError: if ``max_attempts`` tries of one episode all fail to mine a diamond.
    """
    env = CrafterEnv(observation=observation, length=max_steps, compass=compass)  # type: ignore[arg-type]
    expert = CrafterExpert(
        env,
        variety=variety,
        unhurried=unhurried,
        nap_chance=nap_chance,
        sapling_chance=sapling_chance,
        night_shelter=night_shelter,
        sight=sight,
    )
    wrapped = _EndWhenFinished(env, expert)
    diamond = ACHIEVEMENTS.index("collect_diamond")

    def accept(episode: Episode) -> bool:
        if on_episode is not None:
            on_episode(episode, expert)
        return not require_diamond or bool(np.any(episode.infos["achievement_increments"][:, diamond] > 0))

    return record_episodes(
        wrapped,
        expert,
        num_episodes=num_demonstrations,
        seed=seed,
        max_steps=max_steps,
        info_keys=("achievement_increments", "inventory_change"),
        accept=accept,
        max_attempts=max_attempts if require_diamond else 1,
        failure_hint="; the expert did not mine a diamond (raise max_attempts or set require_diamond=False)",
    )

