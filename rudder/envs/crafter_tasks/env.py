"""A gymnasium adapter for Crafter (Hafner, ICLR 2022): :class:`CrafterEnv`.

``crafter.Env`` speaks the old gym API and always renders its 64x64 image. This module
owns the adapter that gives gymnasium's ``reset(seed=...) -> (obs, info)`` and five-tuple
``step``, a symbolic observation computed straight from the world grid (no rendering),
the achievements and inventory changes of each step in ``info``, and seeding that makes
an episode reproducible. It also owns the names of Crafter's actions, materials,
objects, items and achievements, and :func:`symbolic_observation`.

Rendering in Crafter draws night-time noise from the world's random generator, so an
env that renders and one that does not would drift apart. The symbolic env draws the
same numbers without drawing the picture, and :meth:`CrafterEnv.render` puts the
generator back afterwards, so one seed and one action sequence give one episode in
either observation mode. Crafter also picks which creature to despawn by the order of a
set of objects (memory addresses); the adapter sorts them by position first, so that an
episode depends on the seed and the actions alone. A reset generates Crafter's world on
whole noise grids (:mod:`rudder.envs.crafter_tasks.worldgen`, where numba compiles the
noise): the same world as Crafter's cell-by-cell generator, about five times faster.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import gymnasium as gym
import numpy as np

from rudder.envs.crafter_tasks.worldgen import compiled_noise, reset_crafter
from rudder.errors import DependencyNotInstalled

if TYPE_CHECKING:
    from rudder.envs.crafter_tasks.compass import SeenMap

__all__ = [
    "ACHIEVEMENTS",
    "ACTIONS",
    "COMPASS_ENTRIES",
    "COMPASS_RANGE",
    "COMPASS_TARGETS",
    "ITEMS",
    "MATERIALS",
    "OBJECTS",
    "SEMANTIC_NAMES",
    "DEATH_CAUSES",
    "CrafterEnv",
    "death_cause",
    "feature_name",
    "require_crafter",
    "symbolic_observation",
    "symbolic_size",
]

ACTIONS = (
    "noop", "move_left", "move_right", "move_up", "move_down", "do", "sleep",
    "place_stone", "place_table", "place_furnace", "place_plant",
    "make_wood_pickaxe", "make_stone_pickaxe", "make_iron_pickaxe",
    "make_wood_sword", "make_stone_sword", "make_iron_sword",
)  # fmt: skip
"""Crafter's 17 actions, in the order of its action ids."""

MATERIALS = (
    "water", "grass", "stone", "path", "sand", "tree", "lava",
    "coal", "iron", "diamond", "table", "furnace",
)  # fmt: skip
"""Crafter's materials; material ``MATERIALS[i]`` has semantic id ``i + 1``."""

OBJECTS = ("player", "cow", "zombie", "skeleton", "arrow", "plant")
"""Crafter's moving objects; object ``OBJECTS[i]`` has semantic id ``len(MATERIALS) + 1 + i``."""

SEMANTIC_NAMES = ("outside", *MATERIALS, *OBJECTS)
"""The 19 semantic ids of Crafter's semantic map (id 0: outside the world)."""

ITEMS = (
    "health", "food", "drink", "energy", "sapling", "wood", "stone", "coal", "iron",
    "diamond", "wood_pickaxe", "stone_pickaxe", "iron_pickaxe",
    "wood_sword", "stone_sword", "iron_sword",
)  # fmt: skip
"""The 16 inventory entries (the first four are the player's status), each 0..9."""

ACHIEVEMENTS = (
    "collect_coal", "collect_diamond", "collect_drink", "collect_iron", "collect_sapling",
    "collect_stone", "collect_wood", "defeat_skeleton", "defeat_zombie", "eat_cow",
    "eat_plant", "make_iron_pickaxe", "make_iron_sword", "make_stone_pickaxe",
    "make_stone_sword", "make_wood_pickaxe", "make_wood_sword", "place_furnace",
    "place_plant", "place_stone", "place_table", "wake_up",
)  # fmt: skip
"""Crafter's 22 achievements, in its order."""

COMPASS_TARGETS = ("water", "tree", "stone", "coal", "iron", "diamond", "table", "furnace", "lava", "cow")
"""What the compass (``CrafterEnv(compass=True)``, :mod:`rudder.envs.crafter_tasks.compass`)
points to: the nearest of each seen so far in the episode."""

COMPASS_ENTRIES = ("seen", "left", "right", "up", "down", "distance")
"""The compass's entries for each target: seen (1 or 0), whether the nearest lies to the
left, right, up or down (1 or 0 each) and its distance / :data:`COMPASS_RANGE` (at most 1)."""

COMPASS_RANGE = 32
"""Cells at which the compass's distance entry reaches 1."""

_FACINGS = ((-1, 0), (1, 0), (0, -1), (0, 1))
_DIAMOND = ACHIEVEMENTS.index("collect_diamond")
_ITEM_MAX = 9.0
_INSTALL = 'Crafter needs the crafter package: pip install "align-rudder[crafter]"'


def require_crafter() -> ModuleType:
    """Imports and returns the ``crafter`` package.

    Raises:
        DependencyNotInstalled: if ``crafter`` is not installed (the message names the
            pip command).
    """
    try:
        import crafter
    except ImportError as error:
        raise DependencyNotInstalled(f"{_INSTALL} (or pip install crafter)") from error
    return crafter


def symbolic_size(view: tuple[int, int] = (9, 7), *, compass: bool = False) -> int:
    """Length of the symbolic observation for a local view of ``view`` cells.

    The vector is the one-hot view (width * height * 19, cell-major, x then y), the 16
    inventory counts divided by 9, the daylight, whether the player sleeps, and the
    one-hot facing (left, right, up, down); with ``compass``, then the compass's six
    entries (:data:`COMPASS_ENTRIES`) for each of :data:`COMPASS_TARGETS`.
    """
    size = view[0] * view[1] * len(SEMANTIC_NAMES) + len(ITEMS) + 2 + len(_FACINGS)
    return size + (len(COMPASS_TARGETS) * len(COMPASS_ENTRIES) if compass else 0)


def view_grid(view: tuple[int, int] = (9, 7)) -> tuple[int, int, int]:
    """``(width, height, classes)`` of the one-hot view that opens the symbolic observation
    (see :func:`symbolic_size`): the ``grid`` of ``rudder.agents.sb3.PPOSettings``."""
    return (view[0], view[1], len(SEMANTIC_NAMES))


def daylight_feature(view: tuple[int, int] = (9, 7)) -> int:
    """Index of the daylight (1 at noon, 0 at midnight) in the symbolic observation for a
    local view of ``view`` cells (see :func:`symbolic_size`)."""
    return view[0] * view[1] * len(SEMANTIC_NAMES) + len(ITEMS)


@functools.cache
def adjacent_features(name: str, view: tuple[int, int] = (9, 7)) -> tuple[int, ...]:
    """Indices of the symbolic observation that are 1 where ``name`` (a material or an
    object of :data:`SEMANTIC_NAMES`) is in one of the four cells next to the player
    (left, right, up, down), for a local view of ``view`` cells.

    Raises:
        ValueError: if ``name`` is not one of :data:`SEMANTIC_NAMES`.
    """
    if name not in SEMANTIC_NAMES:
        raise ValueError(f"{name!r} is not a Crafter material or object; choose from {', '.join(SEMANTIC_NAMES)}")
    width, height = view
    channel = SEMANTIC_NAMES.index(name)
    cells = [(width // 2 + dx, height // 2 + dy) for dx, dy in _FACINGS]
    return tuple((x * height + y) * len(SEMANTIC_NAMES) + channel for x, y in cells)


def feature_name(index: int, view: tuple[int, int] = (9, 7), *, compass: bool = False) -> str:
    """What entry ``index`` of the symbolic observation for a local view of ``view`` cells
    (with the compass or without) holds (see :func:`symbolic_size`): ``"zombie at (+1, +0)"``
    (x to the right, y down from the player), ``"inventory wood"``, ``"daylight"``,
    ``"sleeping"``, ``"facing left"``, ``"compass water left"``; entries after the
    observation (a sub-task one-hot, say) are ``"extra 0"``, ``"extra 1"``, ....

    Raises:
        ValueError: if ``index`` is negative.
    """
    if index < 0:
        raise ValueError(f"`index` must be >= 0, got {index}")
    width, height = view
    cells = width * height * len(SEMANTIC_NAMES)
    if index < cells:
        cell, channel = divmod(index, len(SEMANTIC_NAMES))
        x, y = divmod(cell, height)
        return f"{SEMANTIC_NAMES[channel]} at ({x - width // 2:+d}, {y - height // 2:+d})"
    index -= cells
    if index < len(ITEMS):
        return f"inventory {ITEMS[index]}"
    index -= len(ITEMS)
    if index < 2:
        return ("daylight", "sleeping")[index]
    index -= 2
    if index < len(_FACINGS):
        return f"facing {('left', 'right', 'up', 'down')[index]}"
    index -= len(_FACINGS)
    if compass and index < len(COMPASS_TARGETS) * len(COMPASS_ENTRIES):
        target, entry = divmod(index, len(COMPASS_ENTRIES))
        return f"compass {COMPASS_TARGETS[target]} {COMPASS_ENTRIES[entry]}"
    return f"extra {index - (len(COMPASS_TARGETS) * len(COMPASS_ENTRIES) if compass else 0)}"


ZOMBIE_RESPONSES = ("attack", "turn", "other")
"""What :func:`zombie_response` names: a blow at the zombie faced, a turn toward a zombie
(a move into its cell only turns the player), anything else."""


def zombie_response(observation: np.ndarray, action: int, view: tuple[int, int] = (9, 7)) -> str | None:
    """How the player answers a zombie next to it: one of :data:`ZOMBIE_RESPONSES`, or
    None when no zombie is next to it.

    Args:
        observation: shape (n,), n >= ``symbolic_size(view)``: the symbolic observation
            the action was chosen on (extra entries after it, such as a sub-task one-hot,
            are ignored).
        action: the action taken (an index of :data:`ACTIONS`).
        view: the local view's width and height in cells.
    """
    observation = np.asarray(observation)
    near = observation[list(adjacent_features("zombie", view))] > 0.5
    if not near.any():
        return None
    start = daylight_feature(view) + 2
    facing = int(np.argmax(observation[start : start + len(_FACINGS)]))
    name = ACTIONS[int(action)]
    if name == "do" and near[facing]:
        return "attack"
    moves = ("move_left", "move_right", "move_up", "move_down")  # the order of _FACINGS
    if name in moves and near[moves.index(name)]:
        return "turn"
    return "other"


def local_semantic_ids(world: Any, center: Any, view: tuple[int, int]) -> np.ndarray:
    """Shape (width, height), int64: the semantic ids of the cells around ``center``.

    Cell ``[i, j]`` is world position ``center + (i - width // 2, j - height // 2)``;
    positions outside the world are 0, cells with an object hold the object's id.
    """
    width, height = view
    area = np.asarray(world.area)
    corner = np.asarray(center) - (width // 2, height // 2)
    low = np.maximum(corner, 0)
    high = np.minimum(corner + (width, height), area)
    ids = np.zeros((width, height), dtype=np.int64)
    if np.any(high <= low):
        return ids
    source = (slice(low[0], high[0]), slice(low[1], high[1]))
    target = (slice(low[0] - corner[0], high[0] - corner[0]), slice(low[1] - corner[1], high[1] - corner[1]))
    ids[target] = world._mat_map[source]
    indices = world._obj_map[source]
    for x, y in zip(*np.nonzero(indices), strict=True):
        name = type(world._objects[indices[x, y]]).__name__.lower()
        ids[target[0].start + x, target[1].start + y] = SEMANTIC_NAMES.index(name)
    return ids


def symbolic_observation(world: Any, player: Any, view: tuple[int, int] = (9, 7)) -> np.ndarray:
    """Shape (symbolic_size(view),), float32 in [0, 1]: the symbolic observation.

    Args:
        world: a ``crafter.engine.World``.
        player: its ``crafter.objects.Player``.
        view: the local view's width and height in cells (Crafter's image shows 9x7).
    """
    ids = local_semantic_ids(world, player.pos, view)
    observation = np.zeros(symbolic_size(view), dtype=np.float32)
    cells = view[0] * view[1]
    observation[np.arange(cells) * len(SEMANTIC_NAMES) + ids.reshape(-1)] = 1.0
    start = cells * len(SEMANTIC_NAMES)
    inventory = player.inventory
    observation[start : start + len(ITEMS)] = [inventory[name] / _ITEM_MAX for name in ITEMS]
    start += len(ITEMS)
    assert start == daylight_feature(view)
    observation[start] = world.daylight
    observation[start + 1] = float(player.sleeping)
    observation[start + 2 + _FACINGS.index(tuple(int(v) for v in player.facing))] = 1.0
    return observation


DEATH_CAUSES = ("lava", "zombie", "arrow", "hunger", "thirst", "fatigue")
"""What :func:`death_cause` names: walking into lava, a zombie's blow, a skeleton's arrow,
and the health lost while food, drink or energy is empty."""

_RECOVERY_LIMIT = -15.0  # Crafter takes one health point once its recovery counter falls below this
_ZOMBIE_BLOW = 2  # a zombie's blow on a player awake
_ZOMBIE_BLOW_ASLEEP = 7  # ... and on a sleeping one
_SLEEP = ACTIONS.index("sleep")


def _blow_could_kill(health: int, *, sleeping: bool, action: int) -> bool:
    """Whether a zombie's blow this step could take the player's last ``health`` points.

    The player acts before the creatures, so it may fall asleep (``action`` is sleep)
    before a zombie strikes.
    """
    asleep = sleeping or action == _SLEEP
    return health <= (_ZOMBIE_BLOW_ASLEEP if asleep else _ZOMBIE_BLOW)


def death_cause(
    world: Any, player: Any, *, health_before: int, recover_before: float, nearby: Sequence[Any] = ()
) -> str:
    """Why the player died on the step just taken, read from the world after the step.

    Crafter does not record what hurt the player, so the cause is inferred, in this
    order: the player stands in lava; a zombie next to it struck this step (its cooldown
    was just set to 5; ``nearby`` also counts zombies that Crafter despawned after the
    blow); Crafter's health loss from an empty need this step (the recovery
    counter was near its limit and was reset), named by the first empty need in the
    order food (``"hunger"``), drink (``"thirst"``), energy (``"fatigue"``); otherwise an
    arrow (the only other source of damage, whose arrow disappears on impact).

    Args:
        world: the ``crafter.engine.World`` after the step.
        player: the ``crafter.objects.Player`` (dead).
        health_before: the player's health before the step.
        recover_before: the player's recovery counter (``player._recover``) before the step.
        nearby: creatures that were near the player before the step.

    Returns:
        One of :data:`DEATH_CAUSES`.
    """
    crafter = require_crafter()
    if world[player.pos][0] == "lava":
        return "lava"
    for obj in [*world.objects, *nearby]:
        if isinstance(obj, crafter.objects.Zombie) and obj.distance(player) <= 1 and obj.cooldown == 5:
            return "zombie"
    inventory = player.inventory
    empty = [name for name, item in (("hunger", "food"), ("thirst", "drink"), ("fatigue", "energy")) if inventory[item] <= 0]
    if empty and player._recover == 0 and recover_before - 1.0 < _RECOVERY_LIMIT and health_before <= 1:
        return empty[0]
    return "arrow"


def _in_position_order(balance: Any) -> Any:
    """Crafter's ``_balance_object`` with the chunk's objects in position order.

    Crafter keeps a chunk's objects in a set and picks the creature to despawn by its
    index in that set, whose order follows memory addresses; sorting by position makes
    the pick (and so the episode) depend on the seed alone.
    """

    def balance_in_order(chunk: Any, objects: Any, *args: Any) -> Any:
        ordered = sorted(objects, key=lambda obj: (int(obj.pos[0]), int(obj.pos[1])))
        return balance(chunk, ordered, *args)

    return balance_in_order


def _without_spawning(balance: Any, creature: type) -> Any:
    """Crafter's ``_balance_object`` that spawns no ``creature`` (despawning them as
    Crafter does): its target count's lower end is 0, so no chunk ever lacks one."""

    def balance_without_spawning(chunk: Any, objects: Any, kind: type, *args: Any) -> Any:
        if kind is creature:
            *fields, target = args
            args = (*fields, lambda count, space: (0, target(count, space)[1]))
        return balance(chunk, objects, kind, *args)

    return balance_without_spawning


class CrafterEnv(gym.Env):
    """Crafter with gymnasium's API and a symbolic observation.

    ``terminated`` is True when the player dies (health 0), ``truncated`` at ``length``
    steps. The reward is Crafter's: +1 for each achievement unlocked for the first time
    in the episode, plus the change of health / 10.

    Besides Crafter's own info (``inventory``, ``achievements`` as dicts, ``discount``,
    ``semantic`` (64, 64) map, ``player_pos``), every step's ``info`` holds
    ``achievements_unlocked`` (tuple of names unlocked for the first time this step),
    ``achievement_increments`` (shape (22,), int64: how often each achievement in
    :data:`ACHIEVEMENTS` happened this step) and ``inventory_change`` (shape (16,),
    int64: change of each entry of :data:`ITEMS`), ``obtained`` (shape (22,), bool: the
    achievements of :data:`ACHIEVEMENTS` unlocked so far this episode, which Crafter's
    success rates count) and ``is_success`` (whether the diamond has been collected this
    episode). The step on which the player dies also holds ``death_cause``, one of
    :data:`DEATH_CAUSES` (see :func:`death_cause`), ``death_asleep`` (whether the player
    was asleep when it died) and ``death_daylight`` (the world's daylight then, 0 at the
    darkest of the night and 1 by day).

    Seeding: ``reset(seed=s)`` generates the world from ``s``; a later ``reset()``
    without a seed generates the next world of that sequence. The same seed and the same
    actions give the same episode, in either observation mode.

    Args:
        observation: ``"symbolic"`` (a float32 vector, see :func:`symbolic_size`) or
            ``"image"`` (Crafter's (64, 64, 3) uint8 picture).
        view: width and height of the symbolic local view in cells.
        length: steps before the episode is truncated (Crafter's 10,000).
        area: the world's width and height in cells.
        render_mode: None or ``"rgb_array"`` (``render()`` returns the picture).
        world_generation: ``"grid"`` (the world computed on whole noise grids,
            :mod:`rudder.envs.crafter_tasks.worldgen`, where numba is installed; Crafter's
            own generator otherwise) or ``"crafter"`` (Crafter's cell-by-cell generator).
            Both give the same world.
        zombie_spawning: whether zombies spawn as the game goes on, most of them at night,
            as in Crafter (True, the default). False keeps the zombies the world was
            generated with and spawns none after: a diagnostic of what the nights cost
            the agents (``bench_crafter.py --no-zombie-spawning``), not Crafter's
            benchmark.
        compass: append the compass to the symbolic observation: for each of
            :data:`COMPASS_TARGETS`, where the nearest one the player has seen this
            episode is (:mod:`rudder.envs.crafter_tasks.compass`; off, the default, is
            Crafter's observation). Symbolic observation only.

    Raises:
        DependencyNotInstalled: if ``crafter`` is not installed.
        ValueError: for an unknown observation mode, a bad view or length, or the compass
            with the image observation.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        *,
        observation: Literal["symbolic", "image"] = "symbolic",
        view: tuple[int, int] = (9, 7),
        length: int = 10_000,
        area: tuple[int, int] = (64, 64),
        render_mode: str | None = None,
        world_generation: Literal["grid", "crafter"] = "grid",
        zombie_spawning: bool = True,
        compass: bool = False,
    ) -> None:
        if observation not in ("symbolic", "image"):
            raise ValueError(f"`observation` must be 'symbolic' or 'image', got {observation!r}")
        if compass and observation != "symbolic":
            raise ValueError("`compass` needs the symbolic observation; use observation='symbolic' or compass=False")
        view = (int(view[0]), int(view[1]))
        if min(view) < 1:
            raise ValueError(f"`view` must be two positive cell counts, got {view}")
        if int(length) < 1:
            raise ValueError(f"`length` must be >= 1 step, got {length}")
        if world_generation not in ("grid", "crafter"):
            raise ValueError(f"`world_generation` must be 'grid' or 'crafter', got {world_generation!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"`render_mode` must be None or 'rgb_array', got {render_mode!r}")
        crafter = require_crafter()
        self._env = crafter.Env(area=tuple(area), length=int(length), seed=0)
        self._check_names(crafter)
        self.observation_mode = observation
        self.view = view
        self.length = int(length)
        self.render_mode = render_mode
        self.action_space = gym.spaces.Discrete(len(ACTIONS))
        self.compass = bool(compass)
        self._seen_map: SeenMap | None = None
        if self.compass:
            from rudder.envs.crafter_tasks.compass import SeenMap

            self._seen_map = SeenMap((int(area[0]), int(area[1])), view)
        if observation == "symbolic":
            self.observation_space: gym.spaces.Box = gym.spaces.Box(
                0.0, 1.0, (symbolic_size(view, compass=self.compass),), np.float32
            )
            self._env._obs = self._symbolic_without_rendering
        else:
            self.observation_space = gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)
        self._env._balance_object = _in_position_order(self._env._balance_object)
        self.zombie_spawning = bool(zombie_spawning)
        if not self.zombie_spawning:
            self._env._balance_object = _without_spawning(self._env._balance_object, crafter.objects.Zombie)
        self.world_generation = world_generation
        self._grid_worldgen = world_generation == "grid" and compiled_noise()
        self._world_seed: int | None = None
        self._inventory = np.zeros(len(ITEMS), dtype=np.int64)
        self._achievements = np.zeros(len(ACHIEVEMENTS), dtype=np.int64)

    @staticmethod
    def _check_names(crafter: ModuleType) -> None:
        constants = crafter.constants
        found = (tuple(constants.actions), tuple(constants.materials), tuple(constants.items), tuple(constants.achievements))
        if found != (ACTIONS, MATERIALS, ITEMS, ACHIEVEMENTS):
            raise DependencyNotInstalled(
                f"this crafter version names its actions, materials, items or achievements "
                f"differently from crafter 1.8; {_INSTALL}"
            )

    # -- the crafter internals the expert and the tests read -------------------------
    @property
    def crafter_env(self) -> Any:
        """The wrapped ``crafter.Env``."""
        return self._env

    @property
    def world(self) -> Any:
        """The ``crafter.engine.World`` (materials, objects, daylight)."""
        return self._env._world

    @property
    def player(self) -> Any:
        """The ``crafter.objects.Player`` (position, facing, inventory, achievements)."""
        return self._env._player

    @property
    def steps(self) -> int:
        """Steps taken in the current episode."""
        return int(self._env._step or 0)

    # -- observations ------------------------------------------------------------------
    def _symbolic_without_rendering(self) -> np.ndarray:
        # Rendering at night draws noise from the world's generator; draw the same
        # numbers so that the dynamics do not depend on the observation mode.
        if self._env._world.daylight < 0.5:
            unit = self._env._size // self._env._view
            shape = tuple(self._env._local_view._grid * unit)
            self._env._world.random.uniform(32, 127, shape)
        observation = symbolic_observation(self._env._world, self._env._player, self.view)
        if self._seen_map is None:
            return observation
        self._seen_map.see(self._env._world, self._env._player.pos)
        return np.concatenate([observation, self._seen_map.features(self._env._player.pos)])

    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        player = self._env._player
        inventory = np.array([player.inventory[name] for name in ITEMS], dtype=np.int64)
        achievements = np.array([player.achievements[name] for name in ACHIEVEMENTS], dtype=np.int64)
        return inventory, achievements

    # -- gymnasium API -----------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Generates a world (from ``seed``, or the next world of the last seed)."""
        super().reset(seed=seed)
        if seed is not None or self._world_seed is None:
            self._world_seed = int(seed) if seed is not None else int(self.np_random.integers(2**31 - 1))
            self._env._seed = self._world_seed
            self._env._episode = 0
        if self._seen_map is not None:
            self._seen_map.clear()
        # Crafter's reset, with its world generated on whole grids where that is faster
        # (the same world: rudder.envs.crafter_tasks.worldgen)
        observation = reset_crafter(self._env) if self._grid_worldgen else self._env.reset()
        self._inventory, self._achievements = self._vectors()
        info = {
            "inventory": dict(self._env._player.inventory),
            "achievements": dict(self._env._player.achievements),
            "player_pos": self._env._player.pos.copy(),
            "world_seed": self._world_seed,
            "episode": self._env._episode,
        }
        return observation, info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One Crafter step; see the class docstring for ``info``."""
        if self._env._player is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"`action` must be an int in [0, {len(ACTIONS)}), got {action!r}")
        player = self._env._player
        health, recover = int(player.health), float(player._recover)
        # a zombie may strike and be despawned within one step: keep the creatures that could
        # reach the player, where a blow could kill it
        could_die = _blow_could_kill(health, sleeping=bool(player.sleeping), action=int(action))
        nearby = self._creatures_near_player() if could_die else ()
        observation, reward, _, info = self._env.step(int(action))
        inventory, achievements = self._vectors()
        info["player_pos"] = np.array(info["player_pos"], copy=True)
        info["inventory_change"] = inventory - self._inventory
        info["achievement_increments"] = achievements - self._achievements
        first = (self._achievements == 0) & (achievements > 0)
        info["achievements_unlocked"] = tuple(ACHIEVEMENTS[i] for i in np.flatnonzero(first))
        info["obtained"] = achievements > 0
        info["is_success"] = bool(achievements[_DIAMOND] > 0)
        self._inventory, self._achievements = inventory, achievements
        terminated = self._env._player.health <= 0
        truncated = not terminated and self._env._step >= self.length
        if terminated:
            info["death_cause"] = death_cause(
                self._env._world, player, health_before=health, recover_before=recover, nearby=nearby
            )
            info["death_asleep"] = bool(player.sleeping)
            info["death_daylight"] = float(self._env._world.daylight)
        return observation, float(reward), bool(terminated), bool(truncated), info

    def _creatures_near_player(self) -> list[Any]:
        """The objects within two cells (each axis) of the player."""
        world, (x, y) = self._env._world, self._env._player.pos
        indices = world._obj_map[max(x - 2, 0) : x + 3, max(y - 2, 0) : y + 3].ravel()
        return [world._objects[index] for index in indices.tolist() if index]

    def render(self) -> np.ndarray | None:
        """The (64, 64, 3) uint8 picture; the world's random generator is left as it was."""
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode='rgb_array'; returning None")
            return None
        if self._env._player is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        random = self._env._world.random
        state = random.get_state()
        try:
            return self._env.render()
        finally:
            random.set_state(state)
