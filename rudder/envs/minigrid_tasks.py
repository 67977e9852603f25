"""minigrid tasks for Align-RUDDER: interaction events, vector observations, a planner.

minigrid (``pip install "align-rudder[minigrid]"``) pays reward only when the task is
done (``1 - 0.9 * steps / max_steps``), so its key-and-door tasks are real delayed-reward
problems. This module adds what the library needs on top of them:

- :class:`MinigridInteractions` puts what the agent just did (picked up a key, unlocked
  a door, ...) into ``info["interaction"]``, and :func:`interaction_encoder` turns that
  into events, so the profile's sub-goals are the task's own steps.
- :class:`MinigridVectorObservation` gives a flat one-hot observation for MLP policies.
- :class:`MinigridPlanner` is a demonstrator: breadth-first search over the full grid,
  re-planned at every step, with optional random moves for variety.

Example:
    >>> env = make_minigrid_env("MiniGrid-KeyCorridorS3R3-v0")     # doctest: +SKIP
    >>> demos = minigrid_demonstrations("MiniGrid-KeyCorridorS3R3-v0", 10, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from rudder.data.episode import Episode
from rudder.data.record import record_episodes
from rudder.events.callable import CallableEventEncoder

try:
    import minigrid  # noqa: F401 - registers the MiniGrid-* envs
    from minigrid.core.constants import COLOR_TO_IDX, DIR_TO_VEC, OBJECT_TO_IDX
    from minigrid.core.world_object import Door, Goal, Key, Lava
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "rudder.envs.minigrid_tasks needs minigrid; install it with "
        "pip install 'align-rudder[minigrid]'"
    ) from error

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


class MinigridPlanner:
    """A demonstrator for minigrid key/door/goal/pick-up tasks, by breadth-first search.

    At every step it reads the full grid and plans afresh: if the goal (a goal cell, or
    the mission object ``env.obj`` to pick up) is reachable through unlocked doors it
    heads there; otherwise it fetches the key of the first locked door on the way and
    unlocks it, dropping a carried object first where that blocks nothing. Closed doors
    are opened on the way. With probability ``noise`` it turns or moves at random
    instead (never picks up, drops or toggles at random), which varies the
    demonstrations the way a human's would.

    Use it as a policy for :func:`rudder.data.record_episode`: ``planner(observation, rng)``.

    Args:
        env: the env to demonstrate in (any wrapper of a minigrid env).
        noise: probability of a random move at each step, in [0, 1).
    """

    def __init__(self, env: gym.Env, *, noise: float = 0.0) -> None:
        if not 0.0 <= noise < 1.0:
            raise ValueError(f"`noise` must be in [0, 1), got {noise}")
        self.env = env
        self.noise = float(noise)

    def __call__(self, observation: Any, rng: np.random.Generator) -> int:  # noqa: ARG002
        if self.noise and rng.random() < self.noise:
            return int(rng.integers(3))
        return self.plan_action()

    # -- grid helpers ---------------------------------------------------------------
    @property
    def _grid_env(self):
        return self.env.unwrapped

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

    @staticmethod
    def _front(pose: Pose) -> tuple[int, int]:
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

    def _face(self, position: tuple[int, int], final_action: int, **passable: Any) -> int | None:
        """Moves towards facing ``position``; returns ``final_action`` once facing it."""
        path = self._search(lambda pose: self._front(pose) == position, **passable)
        if path is None:
            return None
        if len(path) == 1:
            return final_action
        return self._first_action(path)

    def _find(self, predicate) -> list[tuple[int, int]]:
        grid_env = self._grid_env
        return [
            (x, y)
            for y in range(grid_env.height)
            for x in range(grid_env.width)
            if predicate(grid_env.grid.get(x, y))
        ]

    def _goal(self) -> tuple[tuple[int, int], int]:
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

    # -- the plan -------------------------------------------------------------------
    def plan_action(self) -> int:
        """The planner's next action in the env's current state."""
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

    def _drop_somewhere(self, keep_reachable: tuple[int, int]) -> int:
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
    (positive return); each keeps ``infos["interaction"]`` for the event encoder and
    ``infos["interaction_change"]`` for sub-task agents.

    Args:
        env_id: a minigrid env id.
        num_demonstrations: how many demonstrations.
        seed: the seed of the first episode and of the planner's noise.
        noise: the planner's random-move probability.
        view: the observation view (see :class:`MinigridVectorObservation`).
        max_attempts: tries per demonstration before giving up (default 20).

    Raises:
        RuntimeError: if a demonstration does not succeed within ``max_attempts`` tries.
    """
    if num_demonstrations < 1:
        raise ValueError(f"`num_demonstrations` must be >= 1, got {num_demonstrations}")
    attempts = 20 if max_attempts is None else int(max_attempts)
    env = make_minigrid_env(env_id, view=view)
    try:
        return record_episodes(
            env,
            MinigridPlanner(env, noise=noise),
            num_episodes=num_demonstrations,
            seed=seed,
            info_keys=("interaction", "interaction_change"),
            accept=lambda episode: episode.terminated and episode.episode_return > 0,
            max_attempts=attempts,
            seed_stride=1000,
            failure_hint=f": the planner did not succeed on {env_id}; lower `noise` or raise `max_attempts`",
        )
    finally:
        env.close()
