"""A planner for gymnasium's FrozenLake, used for built-in demonstrations.

FrozenLake pays reward 1 only on reaching the goal, so it is a small delayed-reward
task that ships with gymnasium. The demonstrator walks a shortest safe path to the goal
and, with probability ``noise``, takes a random safe detour instead, so that
demonstrations differ the way human ones do.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np

from rudder.data.episode import Episode
from rudder.data.record import record_episodes

# FrozenLake's actions: 0 left, 1 down, 2 right, 3 up.
_MOVES = {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)}


def make_frozen_lake(*, map_name: str = "8x8") -> gym.Env:
    """Deterministic (non-slippery) FrozenLake, reward 1 at the goal only."""
    return gym.make("FrozenLake-v1", map_name=map_name, is_slippery=False)


class FrozenLakeDemonstrator:
    """A noisy shortest-path policy for a non-slippery FrozenLake map.

    Args:
        env: a FrozenLake env (its ``unwrapped.desc`` gives the map).
        noise: probability of a random safe move instead of a shortest-path move.
    """

    def __init__(self, env: gym.Env, *, noise: float = 0.25) -> None:
        if not 0.0 <= noise < 1.0:
            raise ValueError(f"`noise` must be in [0, 1), got {noise}")
        lake: Any = env.unwrapped  # gymnasium's FrozenLakeEnv, which has the map `desc`
        desc = np.asarray(lake.desc).astype(str)
        self.rows, self.columns = desc.shape
        self.holes = {(r, c) for r, c in zip(*np.nonzero(desc == "H"))}
        goal = tuple(int(x) for x in np.argwhere(desc == "G")[0])
        self.noise = noise
        self.distance = self._distances_to(goal)

    def _neighbour(self, cell, action):
        dr, dc = _MOVES[action]
        r, c = cell[0] + dr, cell[1] + dc
        if not (0 <= r < self.rows and 0 <= c < self.columns):
            return cell
        return (r, c)

    def _distances_to(self, goal) -> dict:
        distance = {goal: 0}
        queue = deque([goal])
        while queue:
            cell = queue.popleft()
            for action in _MOVES:
                # Moves are reversible on the grid: a neighbour reached from `cell` by
                # one move reaches `cell` by the opposite move.
                previous = self._neighbour(cell, action)
                if previous != cell and previous not in self.holes and previous not in distance:
                    distance[previous] = distance[cell] + 1
                    queue.append(previous)
        return distance

    def __call__(self, observation, rng: np.random.Generator) -> int:
        cell = divmod(int(observation), self.columns)
        safe = [a for a in _MOVES if self._neighbour(cell, a) not in self.holes and self._neighbour(cell, a) != cell]
        if rng.random() < self.noise and safe:
            return int(rng.choice(safe))
        best = min(safe, key=lambda a: (self.distance.get(self._neighbour(cell, a), 10**9), a))
        return int(best)


def frozen_lake_demonstrations(
    num_demonstrations: int = 5, *, seed: int = 0, noise: float = 0.25, map_name: str = "8x8"
) -> list[Episode]:
    """Successful, varied demonstrations of FrozenLake (failed attempts are skipped).

    The attempts are reset with consecutive seeds ``seed, seed + 1, ...``; an attempt
    that does not reach the goal is skipped and the next seed is tried.

    Args:
        num_demonstrations: how many demonstrations.
        seed: the first reset seed and the seed of the demonstrator's noise.
        noise: the demonstrator's random-move probability.
        map_name: gymnasium's FrozenLake map, ``"4x4"`` or ``"8x8"``.

    Raises:
        RuntimeError: if 100 attempts in a row fail to reach the goal.
    """
    env = make_frozen_lake(map_name=map_name)
    return record_episodes(
        env,
        FrozenLakeDemonstrator(env, noise=noise),
        num_episodes=num_demonstrations,
        seed=seed,
        accept=lambda episode: episode.episode_return > 0,
        max_attempts=100,
        failure_hint=": the demonstrator keeps failing; lower `noise`",
    )
