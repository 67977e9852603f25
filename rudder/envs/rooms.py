"""FourRooms and EightRooms: the grid worlds of the Align-RUDDER paper.

Layout (the official ``ml-jku/align-rudder`` task, ``envs/mazes/four_rooms.py``):

- Every room is a 6x6 grid whose border is wall; the free cells are rows and columns
  1..4. A state is ``(row, col, room)``.
- Rooms 0..19 are alternative start rooms. An episode starts at cell (3, 3) of a start
  room drawn uniformly at reset. Each start room has one door, the "portal"; its wall
  is fixed by the official code's ``np.random.seed(2)`` draw (:data:`START_DOOR_WALLS`).
  Standing on the door cell and moving out through the door (the door's direction)
  teleports the agent to the entry door cell of the first chained room.
- Then come K chained rooms (K = 3 for FourRooms, 7 for EightRooms; 23 and 27 rooms in
  all). Each has an entry door in its north wall and, except the last one, an exit door
  in its east wall (first chained room), west wall (second), east, west, ... Moving out
  through an exit door lands on the entry door cell of the next chained room. Moving
  back out through an entry door returns: from a later chained room to the exit door
  cell of the previous one, and from the first chained room to the door cell of a
  start room drawn at random (as in the official code, which draws among the doors of
  start rooms 0..14 only; the default draws among all 20). The goal is cell (4, 4) of
  the last chained room.

Door coordinates: every door is in the middle of its wall (index 3 = 6 // 2), exactly
as in the official ``rooms_maze``: north (0, 3), south (5, 3), west (3, 0), east (3, 5).
The official draw maps the wall code to ``0: north, 1: west, 2: east, 3: south`` (not
``1: south, 3: west``): code 1 puts the door at (3, 0) and passes with action W. With
these doors the shortest path from (3, 3) is 3 steps to leave a start room with a
south or east door and 4 with a north or west door, then 6 / 7 steps per chained room
with an east / west exit and 5 in the last room: FourRooms 21 (south, east) or 22
(north, west) steps, EightRooms 47 or 48. The official demonstrations are 22-39 and
50-78 steps long; their best return 3.16 is both 3 - 21/200 + 53.32/200 = 3.1616 and
3 - 22/200 + 53.32/200 = 3.1566 rounded.

Official bug (``paper_compat=True``): the portal of a start room with an east door is
registered at column -1 while its door cell is at column 5, so it never fires and an
agent that starts there can only wait for the timeout. Under the seed-2 draw these are
rooms 4, 6, 10 and 18 (20% of the starts). The default (``paper_compat=False``) fixes it.

Reward: reaching the goal pays ``3 - steps/200 + 53.32/200`` (``steps`` counts every
step, including this one) and terminates the episode. Every other step pays 0, except
step ``max_steps`` (200), which pays 1 and truncates the episode. The time limit lives
inside the env because the reward depends on it, so do not add a ``TimeLimit``.

Action noise: with probability ``noise`` the chosen action is replaced by a uniformly
random one (drawn with the env's ``np_random``).

Differences from the official code, on purpose: the start room is drawn with the env's
seeded ``np_random`` (official: Python's global ``random``); the observation is an int64
``[row, col, room]``.

Speed: the state is one integer, ``state_index = (row * 6 + col) * num_rooms + room``
(``np.ravel_multi_index((row, col, room), (6, 6, num_rooms))``), and ``step`` is a lookup
in a precomputed transition table. Fast agents read ``env.unwrapped.state_index``,
``transition_table``, ``goal_state``, ``start_states`` and ``reward_at_goal``.
"""

from __future__ import annotations

import operator
import warnings
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rudder.data.episode import Episode
from rudder.data.record import record_episode

ROOM_SIZE = 6
"""Side of a room in cells, walls included."""

START_CELL = (3, 3)
"""(row, col) of the start cell in every start room."""

GOAL_CELL = (4, 4)
"""(row, col) of the goal in the last chained room."""

START_DOOR_WALLS = (0, 3, 1, 0, 2, 3, 2, 3, 0, 3, 2, 1, 3, 3, 1, 3, 3, 3, 2, 0)
"""The official wall code of each start room's door: ``np.random.seed(2)``, then
``np.random.randint(4)`` once per start room."""

WALL_CODE_SIDES = {0: "north", 1: "west", 2: "east", 3: "south"}
"""Official meaning of a wall code (``rooms_maze``: code 1 is the left door, code 3 the
bottom door)."""

NUM_START_ROOMS = len(START_DOOR_WALLS)

MAX_STEPS = 200
"""Length of an episode that never reaches the goal."""

NOISE_VARIANTS = (0.01, 0.05, 0.10, 0.15, 0.25, 0.40)
"""Action noise of the registered versions v0..v5."""

ACTION_NAMES = ("north", "south", "west", "east")
"""Actions 0..3 (mazelab's ``VonNeumannMotion``)."""

_MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))
_DOOR_CELLS = {"north": (0, 3), "south": (5, 3), "west": (3, 0), "east": (3, 5)}
_DOOR_ACTIONS = {"north": 0, "south": 1, "west": 2, "east": 3}
_ENTRY_DOOR = _DOOR_CELLS["north"]

# Colours of the rgb_array rendering.
_WALL = (60, 60, 70)
_FREE = (235, 235, 225)
_DOOR = (240, 160, 40)
_BROKEN_DOOR = (150, 60, 60)
_GOAL = (40, 170, 70)
_AGENT = (40, 90, 220)


class RoomsEnv(gym.Env):
    """The FourRooms / EightRooms task of Align-RUDDER (see the module docstring).

    Args:
        num_chained_rooms: rooms between the portal and the goal: 3 for FourRooms, 7 for
            EightRooms.
        noise: probability in [0, 1] that an action is replaced by a random action.
        paper_compat: keep the official bug: start rooms with an east door (4, 6, 10, 18)
            are traps whose portal never fires.
        max_steps: the step at which an episode that has not reached the goal is
            truncated with reward 1.
        render_mode: None, "ansi" (a text map of the current room) or "rgb_array" (an
            image of the current room, 16 pixels per cell).

    Attributes:
        observation_space: ``MultiDiscrete([6, 6, num_rooms])``, int64 ``[row, col, room]``
            (a new array on every call, copied from a precomputed table).
        action_space: ``Discrete(4)``: 0 north, 1 south, 2 west, 3 east.
        num_rooms: 20 start rooms plus ``num_chained_rooms``.
        num_states: ``6 * 6 * num_rooms`` (wall cells included; they are never visited).
        state_index: the current state as an int (row-major over (row, col, room)).
        steps: steps taken in the current episode.
        transition_table: shape (num_states, 4), int64, read-only: the next state of each
            action without noise, portals included (walls map to the same state, and so
            does the random return through the first chained room's entry door).
        back_door_targets: the start-room door states that the random return through
            the first chained room's entry door draws from (rooms 0..14 with
            ``paper_compat``, as in the official code; all 20 otherwise).
        goal_state: index of the goal cell.
        start_states: index of the start cell of each start room, shape (20,).
        start_door_sides: "north", "south", "west" or "east" for each start room.
        trap_rooms: start rooms whose portal never fires in this mode (empty unless
            ``paper_compat``).
        max_steps: the time limit (200).
        noise: the action noise.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 8}

    def __init__(
        self,
        *,
        num_chained_rooms: int = 3,
        noise: float = 0.01,
        paper_compat: bool = False,
        max_steps: int = MAX_STEPS,
        render_mode: str | None = None,
    ) -> None:
        if isinstance(num_chained_rooms, bool) or not isinstance(num_chained_rooms, (int, np.integer)):
            raise TypeError(f"`num_chained_rooms` must be an int, got {num_chained_rooms!r}")
        if num_chained_rooms < 1:
            raise ValueError(
                f"`num_chained_rooms` must be >= 1 (3 for FourRooms, 7 for EightRooms), "
                f"got {num_chained_rooms}"
            )
        noise = float(noise)
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"`noise` must be a probability in [0, 1], got {noise}")
        if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
            raise ValueError(f"`max_steps` must be an int >= 1, got {max_steps!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"`render_mode` must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        self.num_chained_rooms = int(num_chained_rooms)
        self.noise = noise
        self.paper_compat = bool(paper_compat)
        self.max_steps = int(max_steps)
        self.render_mode = render_mode

        self.num_start_rooms = NUM_START_ROOMS
        self.num_rooms = NUM_START_ROOMS + self.num_chained_rooms
        self.num_states = ROOM_SIZE * ROOM_SIZE * self.num_rooms
        self.start_door_sides = tuple(WALL_CODE_SIDES[code] for code in START_DOOR_WALLS)
        self.trap_rooms: tuple[int, ...] = (
            tuple(room for room, side in enumerate(self.start_door_sides) if side == "east")
            if self.paper_compat
            else ()
        )
        self.observation_space = spaces.MultiDiscrete(
            [ROOM_SIZE, ROOM_SIZE, self.num_rooms], dtype=np.int64
        )
        self.action_space = spaces.Discrete(4)

        self._build_tables()
        self.state_index = -1  # no episode yet
        self.steps = 0
        self._done = True

    # ------------------------------------------------------------------ layout
    def state_of(self, row: int, col: int, room: int) -> int:
        """Index of the state (row, col, room)."""
        return (row * ROOM_SIZE + col) * self.num_rooms + room

    def position_of(self, state: int) -> tuple[int, int, int]:
        """(row, col, room) of a state index."""
        cell, room = divmod(int(state), self.num_rooms)
        row, col = divmod(cell, ROOM_SIZE)
        return row, col, room

    def _room_doors(self, room: int) -> dict[tuple[int, int], int | None]:
        """Door cells of ``room`` mapped to the state they lead to (None: no portal)."""
        first_chained = NUM_START_ROOMS
        last_room = self.num_rooms - 1
        if room < first_chained:
            side = self.start_door_sides[room]
            target = None if room in self.trap_rooms else self.state_of(*_ENTRY_DOOR, first_chained)
            return {_DOOR_CELLS[side]: target}
        # The first chained room's entry door leads back to a random start-room door
        # (handled in step, listed as a self-loop in the table); later entry doors lead
        # back to the previous room's exit door.
        back = None if room == first_chained else self.state_of(*_DOOR_CELLS[self._exit_side(room - 1)], room - 1)
        doors: dict[tuple[int, int], int | None] = {_ENTRY_DOOR: back}
        if room < last_room:
            doors[_DOOR_CELLS[self._exit_side(room)]] = self.state_of(*_ENTRY_DOOR, room + 1)
        return doors

    def _exit_side(self, room: int) -> str:
        return "east" if (room - NUM_START_ROOMS) % 2 == 0 else "west"

    def _door_side(self, room: int, cell: tuple[int, int]) -> str:
        for side, door_cell in _DOOR_CELLS.items():
            if door_cell == cell:
                return side
        raise AssertionError(cell)  # pragma: no cover - doors are built from _DOOR_CELLS

    def _build_tables(self) -> None:
        rooms, size = self.num_rooms, ROOM_SIZE
        passable = np.zeros((size, size, rooms), dtype=bool)
        passable[1:-1, 1:-1, :] = True
        portals: dict[tuple[int, int], int] = {}  # (state, action) -> target
        self._doors: list[dict[tuple[int, int], int | None]] = []
        for room in range(rooms):
            doors = self._room_doors(room)
            self._doors.append(doors)
            for (row, col), target in doors.items():
                passable[row, col, room] = True
                if target is not None:
                    action = _DOOR_ACTIONS[self._door_side(room, (row, col))]
                    portals[(self.state_of(row, col, room), action)] = target
        self._passable = passable

        table = np.empty((self.num_states, 4), dtype=np.int64)
        for row in range(size):
            for col in range(size):
                for room in range(rooms):
                    state = self.state_of(row, col, room)
                    for action, (d_row, d_col) in enumerate(_MOVES):
                        next_row, next_col = row + d_row, col + d_col
                        if (
                            passable[row, col, room]
                            and 0 <= next_row < size
                            and 0 <= next_col < size
                            and passable[next_row, next_col, room]
                        ):
                            table[state, action] = self.state_of(next_row, next_col, room)
                        else:
                            table[state, action] = state
        for (state, action), target in portals.items():
            table[state, action] = target
        table.setflags(write=False)
        self.transition_table = table
        self._next: list[int] = table.ravel().tolist()  # flat: state * 4 + action

        # Moving north out of the first chained room's entry door: a random start door.
        first_entry = self.state_of(*_ENTRY_DOOR, NUM_START_ROOMS)
        self._random_exit = first_entry * 4 + _DOOR_ACTIONS["north"]
        returning_rooms = range(15) if self.paper_compat else range(NUM_START_ROOMS)
        self.back_door_targets: tuple[int, ...] = tuple(
            self.state_of(*_DOOR_CELLS[self.start_door_sides[room]], room) for room in returning_rooms
        )

        self.goal_state = self.state_of(*GOAL_CELL, rooms - 1)
        starts = np.array([self.state_of(*START_CELL, room) for room in range(NUM_START_ROOMS)])
        starts.setflags(write=False)
        self.start_states = starts
        self._start_list: list[int] = starts.tolist()

        observations = []
        for state in range(self.num_states):
            observation = np.array(self.position_of(state), dtype=np.int64)
            observation.setflags(write=False)
            observations.append(observation)
        self._observations = observations

    # --------------------------------------------------------------- dynamics
    def reward_at_goal(self, steps: int) -> float:
        """Reward for reaching the goal at step ``steps`` (1-based, this step included)."""
        return 3 - steps / 200 + 53.32 / 200

    @property
    def room(self) -> int:
        """The room of the current state."""
        return self.state_index % self.num_rooms

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Starts an episode at (3, 3) of a uniformly drawn start room.

        Args:
            seed: seeds the env's ``np_random`` (start room and action noise).
            options: ``{"start_room": k}`` starts in room k (0..19) instead of a random one.

        Returns:
            the observation, shape (3,), int64 [row, col, room], and an empty info dict.
        """
        super().reset(seed=seed)
        start_room = None if options is None else options.get("start_room")
        if start_room is None:
            start_room = int(self.np_random.integers(NUM_START_ROOMS))
        elif isinstance(start_room, bool) or not isinstance(start_room, (int, np.integer)) or not (
            0 <= start_room < NUM_START_ROOMS
        ):
            raise ValueError(
                f"options['start_room'] must be an int in [0, {NUM_START_ROOMS - 1}], "
                f"got {start_room!r}"
            )
        self.state_index = self._start_list[int(start_room)]
        self.steps = 0
        self._done = False
        return self._observations[self.state_index].__copy__(), {}

    def step(self, action) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Takes one step; see the module docstring for the reward and the time limit.

        Args:
            action: 0 north, 1 south, 2 west, 3 east (an int or numpy integer).

        Returns:
            observation (shape (3,), int64), reward, terminated, truncated, info (empty).
        """
        if action.__class__ is not int or not 0 <= action < 4:
            action = _check_action(action)
        if self._done:
            raise RuntimeError(
                "step() called before reset() or after the episode ended; call env.reset()"
            )
        noise = self.noise
        if noise:
            draw = self.np_random.random()
            if draw < noise:
                # Given draw < noise, draw / noise is uniform in [0, 1).
                action = int(draw / noise * 4.0)
        key = self.state_index * 4 + action
        state = self._next[key]
        if key == self._random_exit:
            targets = self.back_door_targets
            state = targets[int(self.np_random.integers(len(targets)))]
        self.state_index = state
        self.steps = steps = self.steps + 1
        if state == self.goal_state:
            self._done = True
            return self._observations[state].__copy__(), 3 - steps / 200 + 53.32 / 200, True, False, {}
        if steps >= self.max_steps:
            self._done = True
            return self._observations[state].__copy__(), 1.0, False, True, {}
        return self._observations[state].__copy__(), 0.0, False, False, {}

    # -------------------------------------------------------------- rendering
    def render(self) -> str | np.ndarray | None:
        """The current room as text ("ansi") or as an RGB image ("rgb_array").

        Returns:
            "ansi": lines of ``#`` wall, ``.`` free, ``D`` door, ``x`` broken portal,
            ``G`` goal, ``A`` agent, under a header with the room index and the step.
            "rgb_array": shape (96, 96, 3), uint8, 16 pixels per cell.
        """
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render_mode; create the env with "
                'render_mode="ansi" or render_mode="rgb_array"'
            )
            return None
        if self.state_index < 0:
            raise RuntimeError("render() called before reset(); call env.reset() first")
        grid = self._room_grid()
        if self.render_mode == "ansi":
            row, col, room = self.position_of(self.state_index)
            if room < NUM_START_ROOMS:
                kind = f"start room, {self.start_door_sides[room]} door"
                if room in self.trap_rooms:
                    kind += ", trap: its portal never fires"
            elif room == self.num_rooms - 1:
                kind = "last room, goal G"
            else:
                kind = f"chained room, exit {self._exit_side(room)}"
            header = f"room {room} of {self.num_rooms} ({kind}), step {self.steps}/{self.max_steps}"
            return "\n".join([header, *("".join(line) for line in grid)]) + "\n"
        colours = {"#": _WALL, ".": _FREE, "D": _DOOR, "x": _BROKEN_DOOR, "G": _GOAL, "A": _FREE}
        cell_pixels = 16
        image = np.zeros((ROOM_SIZE * cell_pixels, ROOM_SIZE * cell_pixels, 3), dtype=np.uint8)
        for row, line in enumerate(grid):
            for col, symbol in enumerate(line):
                block = image[
                    row * cell_pixels : (row + 1) * cell_pixels,
                    col * cell_pixels : (col + 1) * cell_pixels,
                ]
                block[:] = colours[symbol]
                if symbol == "A":
                    block[3:-3, 3:-3] = _AGENT
        return image

    def _room_grid(self) -> list[list[str]]:
        agent_row, agent_col, room = self.position_of(self.state_index)
        grid = [
            ["." if self._passable[row, col, room] else "#" for col in range(ROOM_SIZE)]
            for row in range(ROOM_SIZE)
        ]
        for (row, col), target in self._doors[room].items():
            broken = room < NUM_START_ROOMS and target is None
            grid[row][col] = "x" if broken else "D"
        if room == self.num_rooms - 1:
            grid[GOAL_CELL[0]][GOAL_CELL[1]] = "G"
        grid[agent_row][agent_col] = "A"
        return grid


def _check_action(action) -> int:
    try:
        value = operator.index(action)
    except TypeError:
        raise TypeError(
            f"`action` must be an integer in 0..3 (0 N, 1 S, 2 W, 3 E), got {action!r}"
        ) from None
    if not 0 <= value < 4:
        raise ValueError(f"`action` must be in 0..3 (0 N, 1 S, 2 W, 3 E), got {value}")
    return value


# ------------------------------------------------------------------ registration
def register_envs() -> None:
    """Registers ``rudder/FourRooms-v0..v5`` and ``rudder/EightRooms-v0..v5``.

    Version k has action noise ``NOISE_VARIANTS[k]`` (0.01, 0.05, 0.10, 0.15, 0.25, 0.40).
    There is no gymnasium ``TimeLimit``: the env ends episodes itself at 200 steps. Extra
    keyword arguments go to :class:`RoomsEnv`, e.g.
    ``gym.make("rudder/FourRooms-v0", paper_compat=True)``. Ids already registered are
    skipped, so calling this twice is harmless.

    The versions are noise levels, not revisions, so gymnasium's "is out of date, consider
    upgrading to v5" warning for these ids is silenced.
    """
    warnings.filterwarnings(
        "ignore",
        message=r".*The environment rudder/(Four|Eight)Rooms-v\d+ is out of date",
        category=DeprecationWarning,
    )
    for name, num_chained_rooms in (("FourRooms", 3), ("EightRooms", 7)):
        for version, noise in enumerate(NOISE_VARIANTS):
            env_id = f"rudder/{name}-v{version}"
            if env_id in gym.registry:
                continue
            gym.register(
                id=env_id,
                entry_point="rudder.envs.rooms:RoomsEnv",
                kwargs={"num_chained_rooms": num_chained_rooms, "noise": noise},
                max_episode_steps=None,
            )


# ------------------------------------------------------------------ demonstrations
DEMONSTRATION_NOISE = {3: 0.19, 7: 0.20}
"""Default demonstrator noise per number of chained rooms (other counts use 0.20), tuned
on the v0 envs (1% env noise on top) so that the mean demonstration length matches the
official demonstrations (see :func:`rooms_demonstrations`)."""


def _rooms_env(env) -> RoomsEnv:
    unwrapped = getattr(env, "unwrapped", env)
    if not isinstance(unwrapped, RoomsEnv):
        raise TypeError(
            f"`env` must be a RoomsEnv (e.g. gym.make('rudder/FourRooms-v0')), "
            f"got {type(unwrapped).__name__}"
        )
    return unwrapped


class RoomsDemonstrator:
    """A noisy shortest-path policy for :class:`RoomsEnv`.

    The planner runs a breadth-first search from the goal over the noise-free transition
    table (portals included). With probability ``noise`` it takes a uniformly random
    action; otherwise a shortest-path action, ties broken at random. In a state that
    cannot reach the goal (a trap room) every action is random.

    Call it as ``policy(observation, rng) -> action``, the protocol of
    :func:`rudder.data.record.record_episode`.

    Args:
        env: a RoomsEnv, possibly wrapped.
        noise: probability of a random action; None picks :data:`DEMONSTRATION_NOISE`
            for the env's number of chained rooms (0.19 FourRooms, 0.20 EightRooms).

    Attributes:
        distances: shape (num_states,), int64: noise-free steps from each state to the
            goal, -1 where the goal cannot be reached.
        noise: the demonstrator's noise (on top of the env's own action noise).
    """

    def __init__(self, env, *, noise: float | None = None) -> None:
        rooms = _rooms_env(env)
        if noise is None:
            noise = DEMONSTRATION_NOISE.get(rooms.num_chained_rooms, 0.20)
        noise = float(noise)
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"`noise` must be a probability in [0, 1], got {noise}")
        self.noise = noise
        self._num_rooms = rooms.num_rooms
        table = rooms.transition_table
        predecessors: list[list[int]] = [[] for _ in range(rooms.num_states)]
        for state, targets in enumerate(table.tolist()):
            for target in targets:
                if target != state:
                    predecessors[target].append(state)
        distances = np.full(rooms.num_states, -1, dtype=np.int64)
        distances[rooms.goal_state] = 0
        queue = deque([rooms.goal_state])
        while queue:
            state = queue.popleft()
            for previous in predecessors[state]:
                if distances[previous] < 0:
                    distances[previous] = distances[state] + 1
                    queue.append(previous)
        distances.setflags(write=False)
        self.distances = distances
        self._best_actions: list[tuple[int, ...]] = []
        for state, targets in enumerate(table.tolist()):
            distance = distances[state]
            if distance <= 0:
                self._best_actions.append(())
                continue
            self._best_actions.append(
                tuple(a for a, target in enumerate(targets) if distances[target] == distance - 1)
            )

    def shortest_path_length(self, start_room: int) -> int:
        """Noise-free steps from the start cell of ``start_room`` to the goal (-1: never)."""
        row, col = START_CELL
        return int(self.distances[(row * ROOM_SIZE + col) * self._num_rooms + start_room])

    def __call__(self, observation, rng: np.random.Generator) -> int:
        row, col, room = (int(value) for value in observation)
        best = self._best_actions[(row * ROOM_SIZE + col) * self._num_rooms + room]
        if not best or rng.random() < self.noise:
            return int(rng.integers(4))
        if len(best) == 1:
            return best[0]
        return best[int(rng.integers(len(best)))]


def rooms_demonstrations(
    env_id_or_env: str | gym.Env,
    num_demonstrations: int,
    *,
    seed: int = 0,
    noise: float | None = None,
) -> list[Episode]:
    """Successful demonstrations of FourRooms / EightRooms, like the official ones.

    Episode i tries reset seed ``seed + attempt``. A start in one of the env's trap rooms
    is skipped before recording, and an episode that times out is dropped, so every
    demonstration ends at the goal. With the default noise and the v0 envs, 100
    demonstrations from seed 0 have lengths (min-mean-max, mean return):

    ==========  ==========================  ==========================  ================
    env         ``paper_compat=True``       default (fixed)             official files
    ==========  ==========================  ==========================  ================
    FourRooms   21-27.7-39, 3.128           21-27.6-43, 3.129           22-27.6-39, 3.129
    EightRooms  53-61.5-77, 2.959           51-62.4-79, 2.955           50-61.5-78, 2.959
    ==========  ==========================  ==========================  ================

    Args:
        env_id_or_env: a registered id such as "rudder/FourRooms-v0", or a RoomsEnv.
        num_demonstrations: how many episodes to return.
        seed: first reset seed; also seeds the demonstrator's random generator.
        noise: demonstrator noise; None picks the tuned default for the env kind.

    Returns:
        ``num_demonstrations`` terminated episodes; observations shape (T+1, 3), int64.

    Raises:
        RuntimeError: if the demonstrator keeps failing (lower ``noise``).
    """
    if isinstance(num_demonstrations, bool) or not isinstance(num_demonstrations, (int, np.integer)):
        raise TypeError(f"`num_demonstrations` must be an int, got {num_demonstrations!r}")
    if num_demonstrations < 1:
        raise ValueError(f"`num_demonstrations` must be >= 1, got {num_demonstrations}")
    env = gym.make(env_id_or_env) if isinstance(env_id_or_env, str) else env_id_or_env
    rooms = _rooms_env(env)
    policy = RoomsDemonstrator(env, noise=noise)
    rng = np.random.default_rng(seed)
    trap_rooms = set(rooms.trap_rooms)
    demonstrations: list[Episode] = []
    attempt = 0
    max_attempts = 10 * num_demonstrations + 100
    while len(demonstrations) < num_demonstrations:
        if attempt >= max_attempts:
            raise RuntimeError(
                f"only {len(demonstrations)} of {num_demonstrations} demonstrations reached "
                f"the goal in {attempt} attempts; lower `noise` (now {policy.noise})"
            )
        episode_seed = seed + attempt
        attempt += 1
        env.reset(seed=episode_seed)
        if rooms.room in trap_rooms:
            continue
        episode = record_episode(env, policy, seed=episode_seed, rng=rng)
        if episode.terminated:
            demonstrations.append(episode)
    return demonstrations
