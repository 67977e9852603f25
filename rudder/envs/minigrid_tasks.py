"""minigrid tasks for Align-RUDDER: interaction events, vector observations, a planner.

minigrid (``pip install "align-rudder[minigrid]"``) pays reward only when the task is
done (``1 - 0.9 * steps / max_steps``), so its key-and-door tasks are real delayed-reward
problems. This module adds what the library needs on top of them:

- :class:`MinigridInteractions` puts what the agent just did (picked up a key, unlocked
  a door, ...) into ``info["interaction"]``, and :func:`interaction_encoder` turns that
  into events, so the profile's sub-goals are the task's own steps.
- :class:`MinigridVectorObservation` gives a flat one-hot observation for MLP policies.
- :class:`MinigridPlanner` is a demonstrator: a search over the full grid, re-planned at
  every step, with optional random moves for variety; it opens boxes to get keys, puts
  balls in the way aside, and carries and drops one object at a time.

The planner covers every registered minigrid task built from keys, doors, boxes and
balls (:data:`SUPPORTED_ENV_IDS`, 49 ids). The rule: the grid holds walls, doors, keys,
boxes, balls and goal cells only (no lava), nothing moves unless the agent moves it, and
the mission is one the planner reads from the env: reach the goal cell (DoorKey,
LockedRoom, MultiRoom), pick up ``env.obj`` (KeyCorridor, UnlockPickup,
BlockedUnlockPickup, ObstructedMaze), pick up any object of a colour and type (Fetch), go
next to an object or door and say done (GoToObject, GoToDoor), put one object next to
another (PutNear), open a door (Unlock), open the red door, then the blue one
(RedBlueDoors), go to the object that matches the one seen at the start (Memory). Left
out: Empty, FourRooms, crossings, LavaGap and DistShift (no such objects, or lava),
Dynamic-Obstacles (the balls move by themselves), Playground (no mission), the WFC
mazes, and the BabyAI levels (a language of missions, with minigrid's own
``minigrid.utils.baby_ai_bot``). Some layouts of the v0 ObstructedMaze ids cannot be
solved (a blocking ball is put on a key; minigrid fixed it in v1): the planner names the
missing key, and :func:`minigrid_demonstrations` goes on to the next seed.

Example:
    >>> env = make_minigrid_env("MiniGrid-KeyCorridorS3R3-v0")     # doctest: +SKIP
    >>> demos = minigrid_demonstrations("MiniGrid-KeyCorridorS3R3-v0", 10, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import heapq
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import gymnasium as gym
import numpy as np

from rudder.data.episode import Episode
from rudder.data.record import record_episodes
from rudder.events.callable import CallableEventEncoder

try:
    import minigrid  # noqa: F401 - registers the MiniGrid-* envs
    from minigrid.core.constants import COLOR_TO_IDX, DIR_TO_VEC, OBJECT_TO_IDX
    from minigrid.core.world_object import Box, Door, Goal, Key, Lava, WorldObj
    from minigrid.envs import (
        FetchEnv,
        GoToDoorEnv,
        GoToObjectEnv,
        MemoryEnv,
        PutNearEnv,
        RedBlueDoorEnv,
        UnlockEnv,
    )
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "rudder.envs.minigrid_tasks needs minigrid; install it with "
        "pip install 'align-rudder[minigrid]'"
    ) from error

#: The registered minigrid tasks of keys, doors, boxes and balls that :class:`MinigridPlanner`
#: solves (see the module docstring for the rule).
SUPPORTED_ENV_IDS: tuple[str, ...] = (
    *(f"MiniGrid-DoorKey-{size}-v0" for size in ("5x5", "6x6", "8x8", "16x16")),
    *(f"MiniGrid-KeyCorridor{size}-v0" for size in ("S3R1", "S3R2", "S3R3", "S4R3", "S5R3", "S6R3")),
    "MiniGrid-Unlock-v0",
    "MiniGrid-UnlockPickup-v0",
    "MiniGrid-BlockedUnlockPickup-v0",
    *(f"MiniGrid-ObstructedMaze-{name}-v0" for name in ("1Dl", "1Dlh", "1Dlhb", "2Dl", "2Dlh", "2Dlhb", "1Q", "2Q", "Full")),
    *(f"MiniGrid-ObstructedMaze-{name}-v1" for name in ("2Dlhb", "1Q", "2Q", "Full")),
    "MiniGrid-LockedRoom-v0",
    *(f"MiniGrid-MultiRoom-{name}" for name in ("N2-S4-v0", "N4-S5-v0", "N4-S5-v1", "N6-v0")),
    *(f"MiniGrid-Fetch-{name}-v0" for name in ("5x5-N2", "6x6-N2", "8x8-N3")),
    *(f"MiniGrid-GoToObject-{name}-v0" for name in ("6x6-N2", "8x8-N2")),
    *(f"MiniGrid-GoToDoor-{size}-v0" for size in ("5x5", "6x6", "8x8")),
    *(f"MiniGrid-PutNear-{name}-v0" for name in ("6x6-N2", "8x8-N3")),
    *(f"MiniGrid-RedBlueDoors-{size}-v0" for size in ("6x6", "8x8")),
    *(f"MiniGrid-Memory{name}-v0" for name in ("S17Random", "S13Random", "S13", "S11", "S9", "S7")),
)

#: Names of the interactions; ``info["interaction"]`` is an index into this tuple (0: none).
INTERACTIONS: tuple[str, ...] = (
    "none",
    "picked up key",
    "picked up ball",
    "picked up box",
    "dropped key",
    "dropped ball",
    "dropped box",
    "opened door",
    "unlocked door",
    "closed door",
    "reached goal",
)
_INTERACTION_INDEX = {name: index for index, name in enumerate(INTERACTIONS)}

LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = range(7)
_NUM_OBJECT_TYPES = len(OBJECT_TO_IDX)
_NUM_COLORS = len(COLOR_TO_IDX)
_NUM_STATES = 3


def _door_state(cell) -> int:
    """0 open, 1 closed, 2 locked (minigrid's encoding)."""
    if cell.is_open:
        return 0
    return 2 if cell.is_locked else 1


class MinigridInteractions(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Adds ``info["interaction"]``: what the last action did, as an index into
    :data:`INTERACTIONS` (0 when nothing happened), and ``info["interaction_change"]``:
    the same as counts, shape (len(INTERACTIONS),) int64, all zero when nothing happened
    (what :class:`~rudder.agents.subtasks.SubtaskController` counts sub-goals from).

    It compares the carried object and the door in front of the agent before and after
    each step, and marks the step onto a goal cell. Put it directly on the minigrid env
    (below any observation wrapper and below ``RedistributedReward``).
    """

    def __init__(self, env: gym.Env) -> None:
        if not hasattr(env.unwrapped, "grid"):
            raise TypeError(f"MinigridInteractions needs a minigrid env, got {env.unwrapped!r}")
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        observation, info = self.env.reset(seed=seed, options=options)
        info["interaction"] = 0
        info["interaction_change"] = np.zeros(len(INTERACTIONS), dtype=np.int64)
        return observation, info

    def step(self, action):
        grid_env = self.env.unwrapped
        carried_before = grid_env.carrying
        front = tuple(int(value) for value in grid_env.front_pos)
        front_cell = grid_env.grid.get(*front)
        door_before = _door_state(front_cell) if isinstance(front_cell, Door) else None
        observation, reward, terminated, truncated, info = self.env.step(action)
        name = "none"
        carried_after = grid_env.carrying
        if carried_after is not None and carried_after is not carried_before:
            name = f"picked up {carried_after.type}"
        elif carried_before is not None and carried_after is None:
            name = f"dropped {carried_before.type}"
        elif door_before is not None:
            door_after = _door_state(front_cell)
            if door_after != door_before:
                name = {0: "unlocked door" if door_before == 2 else "opened door", 1: "closed door"}.get(
                    door_after, "none"
                )
        if name == "none" and isinstance(grid_env.grid.get(*grid_env.agent_pos), Goal):
            name = "reached goal"
        index = _INTERACTION_INDEX.get(name, 0)
        info["interaction"] = index
        change = np.zeros(len(INTERACTIONS), dtype=np.int64)
        change[index] = index > 0
        info["interaction_change"] = change
        return observation, reward, terminated, truncated, info


def interaction_events(observation: Any, action: Any, next_observation: Any, info: Mapping) -> str | None:  # noqa: ARG001
    """The event function of minigrid tasks: the interaction's name, or None."""
    index = int(info.get("interaction", 0))
    return INTERACTIONS[index] if index else None


def interaction_encoder() -> CallableEventEncoder:
    """An unfitted encoder of :func:`interaction_events` (repeats are kept: picking up a
    key twice is two events). Reload a saved model with ``function=interaction_events``."""
    return CallableEventEncoder(interaction_events, collapse_repeats=False)


class MinigridVectorObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """A flat float32 observation for MLP policies: one-hot grid, direction, carried object.

    Per grid cell, one-hot object type (11), colour (6) and state (3); the agent's cell
    shows what lies under the agent. Then the agent's position is given by a one-hot
    map over the cells (``view="full"`` only), its direction one-hot (4), and the carried
    object's type and colour one-hot (11 + 6).

    With ``view="full"`` the env's own egocentric image is no longer computed (it is
    replaced by zeros in the wrapped env's observation dict), which halves the step time.

    Args:
        env: a minigrid env (or a wrapper of one).
        view: "agent" for minigrid's egocentric 7x7 view (the default: MLP policies
            learn it far faster, since what is in front of the agent is always in the
            same place), "full" for the whole grid (Markov, but harder to learn from).
    """

    def __init__(self, env: gym.Env, *, view: str = "agent") -> None:
        if view not in ("full", "agent"):
            raise ValueError(f"`view` must be 'full' or 'agent', got {view!r}")
        gym.utils.RecordConstructorArgs.__init__(self, view=view)
        gym.ObservationWrapper.__init__(self, env)
        grid_env: Any = env.unwrapped  # a MiniGridEnv (untyped)
        if not hasattr(grid_env, "grid"):
            raise TypeError(f"MinigridVectorObservation needs a minigrid env, got {grid_env!r}")
        self.view = view
        if view == "full":
            self._num_cells = grid_env.width * grid_env.height
        else:
            self._num_cells = grid_env.agent_view_size**2
        per_cell = _NUM_OBJECT_TYPES + _NUM_COLORS + _NUM_STATES
        size = self._num_cells * per_cell + 4 + _NUM_OBJECT_TYPES + _NUM_COLORS
        if view == "full":
            size += self._num_cells
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)
        if view == "full":
            # minigrid renders the egocentric view after every step (most of its step
            # time); with the full view it is unused, so a blank one is returned instead.
            blank = np.zeros((grid_env.agent_view_size, grid_env.agent_view_size, 3), dtype=np.uint8)
            grid_env.gen_obs = lambda: {"image": blank.copy(), "direction": grid_env.agent_dir, "mission": grid_env.mission}
        self._eye_types = np.eye(_NUM_OBJECT_TYPES, dtype=np.float32)
        self._eye_colors = np.eye(_NUM_COLORS, dtype=np.float32)
        self._eye_states = np.eye(_NUM_STATES, dtype=np.float32)

    def observation(self, observation: Any) -> np.ndarray:
        grid_env: Any = self.env.unwrapped
        if self.view == "full":
            encoded = grid_env.grid.encode().transpose(1, 0, 2).reshape(-1, 3)
        else:
            encoded = np.asarray(observation["image"]).transpose(1, 0, 2).reshape(-1, 3)
        parts = [
            self._eye_types[encoded[:, 0]],
            self._eye_colors[encoded[:, 1]],
            self._eye_states[np.minimum(encoded[:, 2], _NUM_STATES - 1)],
        ]
        cells = np.concatenate(parts, axis=1).reshape(-1)
        extra = []
        if self.view == "full":
            position = np.zeros(self._num_cells, dtype=np.float32)
            x, y = grid_env.agent_pos
            position[int(y) * grid_env.width + int(x)] = 1.0
            extra.append(position)
        direction = np.zeros(4, dtype=np.float32)
        direction[int(grid_env.agent_dir)] = 1.0
        carried = np.zeros(_NUM_OBJECT_TYPES + _NUM_COLORS, dtype=np.float32)
        if grid_env.carrying is not None:
            carried[OBJECT_TO_IDX[grid_env.carrying.type]] = 1.0
            carried[_NUM_OBJECT_TYPES + COLOR_TO_IDX[grid_env.carrying.color]] = 1.0
        return np.concatenate([cells, *extra, direction, carried])


def make_minigrid_env(
    env_id: str,
    *,
    view: str = "agent",
    max_episode_steps: int | None = None,
    render_mode: str | None = None,
) -> gym.Env:
    """A minigrid env with :class:`MinigridInteractions` and :class:`MinigridVectorObservation`.

    Args:
        env_id: a registered minigrid id such as ``"MiniGrid-DoorKey-8x8-v0"``.
        view: see :class:`MinigridVectorObservation`.
        max_episode_steps: overrides the env's own step limit.
        render_mode: passed to ``gym.make``.
    """
    kwargs: dict[str, Any] = {"render_mode": render_mode}
    if max_episode_steps is not None:
        kwargs["max_steps"] = int(max_episode_steps)
    env = gym.make(env_id, **kwargs)
    if not hasattr(env.unwrapped, "grid"):
        raise ValueError(f"{env_id!r} is not a minigrid env (no grid)")
    return MinigridVectorObservation(MinigridInteractions(env), view=view)


# -- planner --------------------------------------------------------------------------
Pose = tuple[int, int, int]
Position = tuple[int, int]

#: What entering a locked door or a carriable object costs the relaxed search, in steps:
#: a detour shorter than this is preferred to clearing the way.
_OBSTACLE_COST = 50
#: How many sub-goals (key for a door, box for a key, ball before a door, ...) may nest.
_MAX_DEPTH = 16


class MinigridPlanningError(RuntimeError):
    """The planner cannot plan in the env's current state; the message names the task and the reason."""


class _CannotPlan(Exception):
    """Internal: why a sub-goal cannot be planned (turned into :class:`MinigridPlanningError`)."""


@dataclass(frozen=True)
class _Objective:
    """Reach a pose that satisfies ``is_target``, then take ``action`` there.

    Attributes:
        description: what is sought, for messages ("the red key", ...).
        is_target: whether a pose (x, y, direction) is where ``action`` is taken.
        action: the action that completes the objective.
        position: the cell the objective is about, kept reachable when something is dropped.
    """

    description: str
    is_target: Callable[[Pose], bool]
    action: int
    position: Position | None = None


@dataclass(frozen=True)
class _Context:
    """How the general planner may act while it pursues an objective.

    Attributes:
        keep: cells that must stay reachable when the carried object is put down.
        excluded: locked doors not to pass (their key is being fetched).
        depth: how many sub-goals are nested.
        movable: whether objects in the way may be picked up and put aside (False where
            picking up the wrong object ends the episode).
        may_toggle: whether closed doors may be opened on the way (False where toggling
            ends the episode).
        avoid: cells never to enter (MiniGrid-Memory's wrong end).
    """

    keep: tuple[Position, ...] = ()
    excluded: frozenset[Position] = frozenset()
    depth: int = 0
    movable: bool = True
    may_toggle: bool = True
    avoid: frozenset[Position] = frozenset()

    def deeper(self, *, keep: Position | None = None, exclude: Position | None = None) -> _Context:
        """The context of a sub-goal: one level deeper, ``keep`` kept, ``exclude`` not passed."""
        return replace(
            self,
            keep=self.keep if keep is None else (*self.keep, keep),
            excluded=self.excluded if exclude is None else self.excluded | {exclude},
            depth=self.depth + 1,
        )


class MinigridPlanner:
    """A demonstrator for minigrid tasks of keys, doors, boxes and balls, by graph search.

    At every step it reads the full grid and plans afresh. Two planners share the work:

    - The classic planner (the first version, kept so that its demonstrations do not
      change): if the goal (a goal cell, or the mission object ``env.obj`` to pick up) is
      reachable through unlocked doors it heads there; otherwise it fetches the key of the
      first locked door on the way and unlocks it, dropping a carried object first where
      that blocks nothing. Closed doors are opened on the way.
    - The general planner, used for an episode where the classic one cannot finish (it is
      tried on a copy of the env at the episode's first step, and dropped for the rest of
      the episode if it fails later): it reads the mission (see :data:`SUPPORTED_ENV_IDS`),
      finds the cheapest route to it where locked doors and objects in the way may be
      passed at a cost, and works on the first obstacle of that route: a locked door needs
      its key (lying on the floor, or inside a box, which it opens: the box becomes its
      contents), behind further locked doors if need be; an object in the way is picked up
      and put down off the route. Only one object can be carried: the carried one is put
      down first, where it keeps every cell of the plan reachable; a carried ball or box
      that the mission does not ask for is put down at once. The planner sees the whole
      state, the contents of boxes included.

    With probability ``noise`` it turns or moves at random instead (never picks up,
    drops or toggles at random), which varies the demonstrations the way a human's would.

    Use it as a policy for :func:`rudder.data.record_episode`: ``planner(observation, rng)``.

    Args:
        env: the env to demonstrate in (any wrapper of a minigrid env).
        noise: probability of a random move at each step, in [0, 1).

    Raises:
        MinigridPlanningError: from :meth:`plan_action`, naming the task and the reason,
            where the mission is not supported or no plan exists.
    """

    def __init__(self, env: gym.Env, *, noise: float = 0.0) -> None:
        if not 0.0 <= noise < 1.0:
            raise ValueError(f"`noise` must be in [0, 1), got {noise}")
        self.env = env
        self.noise = float(noise)
        self._episode_grid: Any = None
        self._classic = True

    def __call__(self, observation: Any, rng: np.random.Generator) -> int:  # noqa: ARG002
        if self.noise and rng.random() < self.noise:
            return int(rng.integers(3))
        return self.plan_action()

    def plan_action(self) -> int:
        """The planner's next action in the env's current state.

        Raises:
            MinigridPlanningError: where the mission is not supported or cannot be planned.
        """
        grid_env = self._grid_env
        if grid_env.grid is not self._episode_grid:  # a new episode (reset builds a new grid)
            self._episode_grid = grid_env.grid
            self._classic = self._classic_can_finish()
        if self._classic:
            try:
                return self._classic_action()
            except (RuntimeError, ValueError):
                self._classic = False
        try:
            return self._general_action()
        except _CannotPlan as error:
            raise MinigridPlanningError(f"MinigridPlanner cannot plan {self._task_name()}: {error}") from None

    # -- grid helpers ---------------------------------------------------------------
    @property
    def _grid_env(self):
        return self.env.unwrapped

    def _task_name(self) -> str:
        spec = getattr(self.env, "spec", None)
        return spec.id if spec is not None else type(self._grid_env).__name__

    def _passable(self, x: int, y: int, *, through_locked: bool = False, blocked=None) -> bool:
        grid_env = self._grid_env
        if not (0 <= x < grid_env.width and 0 <= y < grid_env.height):
            return False
        if blocked is not None and (x, y) == blocked:
            return False
        cell = grid_env.grid.get(x, y)
        if cell is None:
            return True
        if isinstance(cell, Lava):
            return False
        if isinstance(cell, Door):
            return through_locked or not cell.is_locked
        # The relaxed search (through locked doors) also walks through carriable objects.
        return cell.can_overlap() or (through_locked and cell.can_pickup())

    def _search(self, is_target: Callable[[Pose], bool], **passable: Any) -> list[Pose] | None:
        """Shortest pose path from the agent to a pose satisfying ``is_target``."""
        grid_env = self._grid_env
        start = (int(grid_env.agent_pos[0]), int(grid_env.agent_pos[1]), int(grid_env.agent_dir))
        parents: dict[Pose, Pose | None] = {start: None}
        queue = deque([start])
        while queue:
            pose = queue.popleft()
            if is_target(pose):
                path = [pose]
                while parents[path[-1]] is not None:
                    path.append(parents[path[-1]])  # type: ignore[arg-type]
                return path[::-1]
            x, y, direction = pose
            dx, dy = DIR_TO_VEC[direction]
            candidates = [(x, y, (direction - 1) % 4), (x, y, (direction + 1) % 4)]
            if self._passable(x + dx, y + dy, **passable):
                candidates.append((x + int(dx), y + int(dy), direction))
            for candidate in candidates:
                if candidate not in parents:
                    parents[candidate] = pose
                    queue.append(candidate)
        return None

    def _facing(self, position: Position) -> Callable[[Pose], bool]:
        """Whether a pose faces ``position``."""
        return lambda pose: self._front(pose) == position

    @staticmethod
    def _front(pose: Pose) -> Position:
        dx, dy = DIR_TO_VEC[pose[2]]
        return pose[0] + int(dx), pose[1] + int(dy)

    def _first_action(self, path: list[Pose]) -> int:
        start, following = path[0], path[1]
        if following[2] == (start[2] - 1) % 4 and following[:2] == start[:2]:
            return LEFT
        if following[:2] == start[:2]:
            return RIGHT
        front = self._grid_env.grid.get(*following[:2])
        if isinstance(front, Door) and not front.is_open:
            return TOGGLE
        return FORWARD

    def _face(self, position: Position, final_action: int, **passable: Any) -> int | None:
        """Moves towards facing ``position``; returns ``final_action`` once facing it."""
        path = self._search(lambda pose: self._front(pose) == position, **passable)
        if path is None:
            return None
        if len(path) == 1:
            return final_action
        return self._first_action(path)

    def _find(self, predicate: Callable[[Any], bool]) -> list[Position]:
        grid_env = self._grid_env
        return [
            (x, y)
            for y in range(grid_env.height)
            for x in range(grid_env.width)
            if predicate(grid_env.grid.get(x, y))
        ]

    # -- the classic planner --------------------------------------------------------
    def _goal(self) -> tuple[Position, int]:
        """The goal cell and the action that completes the task there."""
        grid_env = self._grid_env
        target = getattr(grid_env, "obj", None)
        if target is not None:
            if grid_env.carrying is target:
                return (-1, -1), DONE
            return tuple(int(value) for value in target.cur_pos), PICKUP  # type: ignore[return-value]
        goals = self._find(lambda cell: isinstance(cell, Goal))
        if not goals:
            raise ValueError(
                f"MinigridPlanner knows goal cells and pick-up missions (env.obj); "
                f"{type(grid_env).__name__} has neither"
            )
        return goals[0], FORWARD

    def _classic_can_finish(self) -> bool:
        """Whether the classic planner, without noise, finishes the episode from here (on a copy)."""
        try:
            probe_env = copy.deepcopy(self._grid_env)
        except Exception:  # noqa: BLE001 - an env that cannot be copied: try the classic planner
            return True
        probe_env.render_mode = None
        probe = MinigridPlanner(probe_env)
        try:
            for _ in range(max(int(probe_env.max_steps) - int(probe_env.step_count), 0)):
                _, reward, terminated, truncated, _ = probe_env.step(probe._classic_action())
                if terminated or truncated:
                    return bool(terminated and reward > 0)
        except (RuntimeError, ValueError):
            return False
        return False

    def _classic_action(self) -> int:
        """The classic planner's next action (see the class docstring)."""
        grid_env = self._grid_env
        goal, finish = self._goal()
        carrying = grid_env.carrying
        action = self._face(goal, finish)
        if action is not None:
            if finish == PICKUP and carrying is not None:
                return self._drop_somewhere(goal)
            return action
        # The goal is behind a locked door: find the first one on the way.
        path = self._search(lambda pose: self._front(pose) == goal, through_locked=True)
        if path is None:
            raise RuntimeError("the goal cannot be reached even through locked doors")
        door_position = next(
            pose[:2] for pose in path
            if isinstance(grid_env.grid.get(*pose[:2]), Door) and grid_env.grid.get(*pose[:2]).is_locked
        )
        door = grid_env.grid.get(*door_position)
        if isinstance(carrying, Key) and carrying.color == door.color:
            action = self._face(door_position, TOGGLE)
            if action is None:
                raise RuntimeError(f"the locked door at {door_position} cannot be reached")
            return action
        if carrying is not None:
            return self._drop_somewhere(door_position)
        keys = self._find(lambda cell: isinstance(cell, Key) and cell.color == door.color)
        for key in keys:
            action = self._face(key, PICKUP)
            if action is not None:
                return action
        raise RuntimeError(f"no reachable {door.color} key for the locked door at {door_position}")

    def _drop_somewhere(self, keep_reachable: Position) -> int:
        """Moves to the nearest empty cell whose filling keeps ``keep_reachable`` reachable, drops."""
        grid_env = self._grid_env

        def good_spot(pose: Pose) -> bool:
            x, y = self._front(pose)
            if not (0 <= x < grid_env.width and 0 <= y < grid_env.height):
                return False
            if grid_env.grid.get(x, y) is not None or (x, y) == tuple(grid_env.agent_pos):
                return False
            reachable = self._search(
                lambda other: self._front(other) == keep_reachable, through_locked=True, blocked=(x, y)
            )
            return reachable is not None

        path = self._search(good_spot)
        if path is None:
            raise RuntimeError("no cell to drop the carried object without blocking the way")
        return DROP if len(path) == 1 else self._first_action(path)

    # -- the general planner --------------------------------------------------------
    def _general_action(self) -> int:
        """The general planner's next action (see the class docstring)."""
        grid_env = self._grid_env
        if isinstance(grid_env, RedBlueDoorEnv):
            door = grid_env.blue_door if grid_env.red_door.is_open else grid_env.red_door
            return self._open_door(self._position_of(door), _Context())
        if isinstance(grid_env, UnlockEnv):
            return self._open_door(self._position_of(grid_env.door), _Context())
        objective, context = self._objective()
        carrying = grid_env.carrying
        if carrying is not None and not isinstance(carrying, Key) and not isinstance(grid_env, PutNearEnv):
            # A ball or box moved out of the way: put it down now, off the route.
            return self._put_down(objective, context)
        return self._pursue(objective, context)

    def _objective(self) -> tuple[_Objective, _Context]:
        """The mission as an objective, and how the planner may act on the way."""
        grid_env = self._grid_env
        if isinstance(grid_env, GoToObjectEnv | GoToDoorEnv):
            target = (int(grid_env.target_pos[0]), int(grid_env.target_pos[1]))
            return _Objective(
                f"a cell next to the target of {grid_env.mission!r}",
                lambda pose: abs(pose[0] - target[0]) + abs(pose[1] - target[1]) == 1,
                DONE,
                target,
            ), _Context(movable=False, may_toggle=False)
        if isinstance(grid_env, FetchEnv):
            kind, color = grid_env.targetType, grid_env.targetColor
            return self._pick_up_any(kind, color), _Context(movable=False)
        if isinstance(grid_env, PutNearEnv):
            if grid_env.carrying is None:
                return self._pick_up_any(grid_env.move_type, grid_env.moveColor), _Context(movable=False)
            return self._put_near(grid_env.target_pos), _Context(movable=False)
        if isinstance(grid_env, MemoryEnv):
            success = (int(grid_env.success_pos[0]), int(grid_env.success_pos[1]))
            failure = (int(grid_env.failure_pos[0]), int(grid_env.failure_pos[1]))
            return _Objective(
                "the cell next to the matching object", self._facing(success), FORWARD, success
            ), _Context(movable=False, avoid=frozenset({failure}))
        wanted = getattr(grid_env, "obj", None)
        if isinstance(wanted, WorldObj) and wanted.cur_pos is not None and grid_env.carrying is not wanted:
            position = (int(wanted.cur_pos[0]), int(wanted.cur_pos[1]))
            return _Objective(f"the {wanted.color} {wanted.type}", self._facing(position), PICKUP, position), _Context()
        goals = self._find(lambda cell: isinstance(cell, Goal))
        if goals:
            goal = goals[0]
            return _Objective("the goal", self._facing(goal), FORWARD, goal), _Context()
        raise _CannotPlan(f"mission {grid_env.mission!r} is not supported")

    def _pick_up_any(self, kind: str, color: str) -> _Objective:
        """Picking up any object of type ``kind`` and colour ``color``."""
        targets = set(self._find(lambda cell: cell is not None and cell.type == kind and cell.color == color))
        position = min(targets) if len(targets) == 1 else None
        return _Objective(f"a {color} {kind}", lambda pose: self._front(pose) in targets, PICKUP, position)

    def _put_near(self, target_position: Any) -> _Objective:
        """Putting the carried object on an empty cell next to ``target_position`` (diagonals count)."""
        grid_env = self._grid_env
        tx, ty = int(target_position[0]), int(target_position[1])
        near = {
            (x, y)
            for x in range(tx - 1, tx + 2)
            for y in range(ty - 1, ty + 2)
            if 0 <= x < grid_env.width and 0 <= y < grid_env.height and grid_env.grid.get(x, y) is None
        }
        return _Objective(f"an empty cell next to {(tx, ty)}", lambda pose: self._front(pose) in near, DROP)

    def _position_of(self, thing: Any) -> Position:
        positions = self._find(lambda cell: cell is thing)
        if not positions:
            raise _CannotPlan(f"the {thing.color} {thing.type} of the mission is not on the grid")
        return positions[0]

    def _pursue(self, objective: _Objective, context: _Context) -> int:
        """The next action towards ``objective``, clearing the way first where it is blocked."""
        if context.depth > _MAX_DEPTH:
            raise _CannotPlan(f"more than {_MAX_DEPTH} nested sub-goals on the way to {objective.description}")
        path = self._cheapest_path(objective.is_target, context)
        if path is not None:
            if objective.action == PICKUP and self._grid_env.carrying is not None:
                return self._put_down(objective, context)  # hands free first, away from the target
            return objective.action if len(path) == 1 else self._first_action(path)
        path = self._cheapest_path(objective.is_target, context, relaxed=True)
        if path is None:
            raise _CannotPlan(f"no path to {objective.description}")
        obstacle = self._first_obstacle(path)
        inner = context.deeper(keep=objective.position)
        if isinstance(self._grid_env.grid.get(*obstacle), Door):
            return self._open_door(obstacle, inner)
        if self._grid_env.carrying is not None:
            return self._put_down(objective, inner.deeper(keep=obstacle))
        cell = self._grid_env.grid.get(*obstacle)
        return self._pursue(
            _Objective(
                f"the {cell.color} {cell.type} in the way at {obstacle}",
                self._facing(obstacle),
                PICKUP,
                obstacle,
            ),
            inner,
        )

    def _open_door(self, position: Position, context: _Context) -> int:
        """The next action towards opening the door at ``position``, fetching its key first if locked."""
        door = self._grid_env.grid.get(*position)
        carrying = self._grid_env.carrying
        if door.is_locked and not (isinstance(carrying, Key) and carrying.color == door.color):
            return self._fetch_key(position, door.color, context)
        return self._pursue(
            _Objective(
                f"the {door.color} door at {position}", self._facing(position), TOGGLE, position
            ),
            context.deeper(keep=position),
        )

    def _fetch_key(self, door_position: Position, color: str, context: _Context) -> int:
        """The next action towards a ``color`` key: picking it up, or opening the box that holds it."""
        keys = self._find(lambda cell: isinstance(cell, Key) and cell.color == color)
        boxes = self._find(
            lambda cell: isinstance(cell, Box) and isinstance(cell.contains, Key) and cell.contains.color == color
        )
        sources = [(position, PICKUP, f"the {color} key") for position in keys]
        sources += [(position, TOGGLE, f"the box holding the {color} key") for position in boxes]
        if not sources:
            raise _CannotPlan(f"no {color} key (on the floor or in a box) for the locked door at {door_position}")
        inner = context.deeper(keep=door_position, exclude=door_position)
        # The nearest source first (cheapest route, obstacles counted), then the others.
        where = {position for position, _, _ in sources}
        nearest = self._cheapest_path(lambda pose: self._front(pose) in where, inner, relaxed=True)
        if nearest is not None:
            first = self._front(nearest[-1])
            sources.sort(key=lambda source: source[0] != first)
        reasons = []
        for position, action, description in sources:
            objective = _Objective(
                description, self._facing(position), action, position
            )
            try:
                return self._pursue(objective, inner)
            except _CannotPlan as error:
                reasons.append(str(error))
        raise _CannotPlan(f"no reachable {color} key for the locked door at {door_position} ({'; '.join(reasons)})")

    def _put_down(self, objective: _Objective, context: _Context) -> int:
        """Moves to the nearest empty cell whose filling keeps the plan's cells reachable, drops there."""
        grid_env = self._grid_env
        keep = [position for position in (*context.keep, objective.position) if position is not None]
        # Not next to a kept cell (in front of a door, beside the box to open): such a cell
        # is where the way to it runs. (The agent's own route would be steadier to avoid
        # but changes with its pose, so that the chosen spot would flip from step to step.)
        forbidden = {(x + dx, y + dy) for x, y in keep for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))}
        # A kept cell that is reachable now without moving objects must stay so.
        strict = replace(context, movable=False, excluded=frozenset())
        reachable = [
            position for position in keep
            if self._cheapest_path(self._facing(position), strict, relaxed=True) is not None
        ]

        def good_spot(pose: Pose) -> bool:
            spot = self._front(pose)
            if spot in forbidden or spot in context.avoid:
                return False
            if not (0 <= spot[0] < grid_env.width and 0 <= spot[1] < grid_env.height):
                return False
            if grid_env.grid.get(*spot) is not None:
                return False
            return all(
                self._cheapest_path(self._facing(position), strict, relaxed=True, blocked=spot)
                is not None
                for position in reachable
            )

        path = self._cheapest_path(good_spot, replace(context, may_toggle=False))
        if path is None:
            carried = grid_env.carrying
            raise _CannotPlan(f"no cell to put the {carried.color} {carried.type} down without blocking the way")
        return DROP if len(path) == 1 else self._first_action(path)

    def _first_obstacle(self, path: list[Pose]) -> Position:
        """The first locked door or object that ``path`` enters."""
        grid = self._grid_env.grid
        for pose in path[1:]:
            cell = grid.get(pose[0], pose[1])
            if (isinstance(cell, Door) and cell.is_locked) or (cell is not None and cell.can_pickup()):
                return pose[0], pose[1]
        raise _CannotPlan("the route has no obstacle, yet the plain search found none")  # pragma: no cover

    def _entry_cost(self, x: int, y: int, context: _Context, *, relaxed: bool, blocked: Position | None) -> int | None:
        """The cost of stepping into cell (x, y), None where it cannot be entered."""
        grid_env = self._grid_env
        if not (0 <= x < grid_env.width and 0 <= y < grid_env.height):
            return None
        if (x, y) == blocked or (x, y) in context.avoid:
            return None
        cell = grid_env.grid.get(x, y)
        if cell is None:
            return 1
        if isinstance(cell, Lava):
            return None
        if isinstance(cell, Door):
            if cell.is_open:
                return 1
            if not cell.is_locked:
                return 2 if context.may_toggle else None
            return 2 + _OBSTACLE_COST if relaxed and (x, y) not in context.excluded else None
        if cell.can_overlap():
            return 1
        if cell.can_pickup() and relaxed and context.movable:
            return 1 + _OBSTACLE_COST
        return None

    def _cheapest_path(
        self,
        is_target: Callable[[Pose], bool],
        context: _Context,
        *,
        relaxed: bool = False,
        blocked: Position | None = None,
    ) -> list[Pose] | None:
        """Cheapest pose path from the agent to a pose satisfying ``is_target`` (Dijkstra).

        Turns and steps cost 1, opening a closed door 1 more; with ``relaxed``, locked doors
        (but those in ``context.excluded``) and, where ``context.movable``, carriable objects
        may be entered at :data:`_OBSTACLE_COST` more. ``blocked`` is never entered.
        """
        grid_env = self._grid_env
        start = (int(grid_env.agent_pos[0]), int(grid_env.agent_pos[1]), int(grid_env.agent_dir))
        parents: dict[Pose, Pose | None] = {start: None}
        costs = {start: 0}
        heap: list[tuple[int, int, Pose]] = [(0, 0, start)]
        pushed = 0
        while heap:
            cost, _, pose = heapq.heappop(heap)
            if cost > costs[pose]:
                continue
            if is_target(pose):
                path = [pose]
                while parents[path[-1]] is not None:
                    path.append(parents[path[-1]])  # type: ignore[arg-type]
                return path[::-1]
            x, y, direction = pose
            moves = [((x, y, (direction - 1) % 4), 1), ((x, y, (direction + 1) % 4), 1)]
            front_x, front_y = self._front(pose)
            entry = self._entry_cost(front_x, front_y, context, relaxed=relaxed, blocked=blocked)
            if entry is not None:
                moves.append(((front_x, front_y, direction), entry))
            for following, step_cost in moves:
                if cost + step_cost < costs.get(following, cost + step_cost + 1):
                    costs[following] = cost + step_cost
                    parents[following] = pose
                    pushed += 1
                    heapq.heappush(heap, (cost + step_cost, pushed, following))
        return None


class _StopWhenUnplannable(gym.Wrapper):
    """Ends (truncates) an episode whose layout the planner of :func:`minigrid_demonstrations`
    cannot plan, so that the next reset seed is tried; the reasons are kept for the message."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.stuck = False
        self.reasons: list[str] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.stuck = False
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated, truncated or self.stuck, info


def minigrid_demonstrations(
    env_id: str,
    num_demonstrations: int,
    *,
    seed: int = 0,
    noise: float = 0.1,
    view: str = "agent",
    max_attempts: int | None = None,
) -> list[Episode]:
    """Successful planner demonstrations on ``env_id``, recorded through :func:`make_minigrid_env`.

    Episode i is tried with reset seeds ``seed + 1000 * i + attempt`` until one succeeds
    (positive return); a layout the planner cannot plan (see :class:`MinigridPlanner`) ends
    its try, and the next seed is tried. Each demonstration keeps ``infos["interaction"]`` for the event encoder and
    ``infos["interaction_change"]`` for sub-task agents.

    Args:
        env_id: a minigrid env id.
        num_demonstrations: how many demonstrations.
        seed: the seed of the first episode and of the planner's noise.
        noise: the planner's random-move probability.
        view: the observation view (see :class:`MinigridVectorObservation`).
        max_attempts: tries per demonstration before giving up (default 20).

    Raises:
        RuntimeError: if a demonstration does not succeed within ``max_attempts`` tries;
            a :class:`MinigridPlanningError` (a RuntimeError) naming the task and the
            planner's reasons where some tries could not be planned.
    """
    if num_demonstrations < 1:
        raise ValueError(f"`num_demonstrations` must be >= 1, got {num_demonstrations}")
    attempts = 20 if max_attempts is None else int(max_attempts)
    env = _StopWhenUnplannable(make_minigrid_env(env_id, view=view))
    planner = MinigridPlanner(env, noise=noise)

    def policy(observation: Any, rng: np.random.Generator) -> int:
        try:
            return planner(observation, rng)
        except MinigridPlanningError as error:
            env.stuck = True
            env.reasons.append(str(error))
            return DONE  # the wrapper truncates the episode after this step

    try:
        return record_episodes(
            env,
            policy,
            num_episodes=num_demonstrations,
            seed=seed,
            info_keys=("interaction", "interaction_change"),
            accept=lambda episode: episode.terminated and episode.episode_return > 0,
            max_attempts=attempts,
            seed_stride=1000,
            failure_hint=f": the planner did not succeed on {env_id}; lower `noise` or raise `max_attempts`",
        )
    except RuntimeError as error:
        if not env.reasons:
            raise
        reasons = sorted(set(env.reasons))
        raise MinigridPlanningError(f"{error} (the planner could not plan {len(env.reasons)} of the tries: {'; '.join(reasons)})") from None
    finally:
        env.close()
