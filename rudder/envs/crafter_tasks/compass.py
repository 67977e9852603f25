"""A compass over what the player has seen this episode: :class:`SeenMap`.

Crafter's player sees 9x7 cells. Water, a cow or iron seen a minute ago is gone from its
observation once it walks on, and an agent without a memory has to find it again by
chance. The compass keeps the map of the cells seen so far in the episode (the materials as
they were last seen, and where cows were last seen) and appends, for each of
:data:`~rudder.envs.crafter_tasks.env.COMPASS_TARGETS`, where the nearest one seen is
(``CrafterEnv(compass=True)``, ``bench_crafter.py --compass``). It tells only what the
player has seen: the same as a player that remembers.

Each target has the six entries of :data:`~rudder.envs.crafter_tasks.env.COMPASS_ENTRIES`:
whether one has been seen, whether the nearest (Manhattan distance; where several are
nearest, any of them) lies to the left, right, up or down (1 or 0 each; a cell straight up
is neither left nor right), and its distance in cells divided by
:data:`~rudder.envs.crafter_tasks.env.COMPASS_RANGE`, at most 1. A target not seen has
all six 0. Ties count every nearest cell so that the compass of a mirrored world is the
mirrored compass (:func:`~rudder.envs.crafter_tasks.mirror_images`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rudder.envs.crafter_tasks.env import (
    COMPASS_ENTRIES,
    COMPASS_RANGE,
    COMPASS_TARGETS,
    SEMANTIC_NAMES,
)

__all__ = ["SeenMap", "compass_features"]

_COW = SEMANTIC_NAMES.index("cow")
_TARGET_IDS = np.array([SEMANTIC_NAMES.index(name) for name in COMPASS_TARGETS], dtype=np.int8)


def compass_features(seen: np.ndarray, center: Any) -> np.ndarray:
    """Shape (len(COMPASS_TARGETS) * len(COMPASS_ENTRIES),), float32: the compass.

    Args:
        seen: shape (width, height), integer semantic ids (:data:`SEMANTIC_NAMES`) of the
            world's cells as last seen; 0 where not seen. A cow's cell holds the cow's id.
        center: the player's position (x, y).
    """
    x, y = int(center[0]), int(center[1])
    xs = np.abs(np.arange(seen.shape[0]) - x)
    ys = np.abs(np.arange(seen.shape[1]) - y)
    distance = xs[:, None] + ys[None, :]
    far = distance.max() + 1
    features = np.zeros((len(COMPASS_TARGETS), len(COMPASS_ENTRIES)), dtype=np.float32)
    for row, target in enumerate(_TARGET_IDS):
        distances = np.where(seen == target, distance, far)
        nearest = int(distances.min())
        if nearest == far:
            continue
        tx, ty = np.nonzero(distances == nearest)
        features[row] = (
            1.0, float((tx < x).any()), float((tx > x).any()), float((ty < y).any()), float((ty > y).any()),
            min(nearest / COMPASS_RANGE, 1.0),
        )  # fmt: skip
    return features.reshape(-1)


class SeenMap:
    """The cells the player has seen this episode, as last seen.

    Args:
        area: the world's width and height in cells.
        view: the local view's width and height in cells, centred on the player.
    """

    def __init__(self, area: tuple[int, int], view: tuple[int, int]) -> None:
        self.area = (int(area[0]), int(area[1]))
        self.view = (int(view[0]), int(view[1]))
        self.seen = np.zeros(self.area, dtype=np.int8)
        """Shape (width, height): semantic ids as last seen (a cow over its cell's
        material; other creatures are not kept), 0 where not seen."""

    def clear(self) -> None:
        """Forgets everything (a new episode)."""
        self.seen[:] = 0

    def see(self, world: Any, center: Any) -> None:
        """Takes in the local view around ``center`` from a ``crafter.engine.World``."""
        width, height = self.view
        corner = np.asarray(center, dtype=np.int64) - (width // 2, height // 2)
        low = np.maximum(corner, 0)
        high = np.minimum(corner + (width, height), self.area)
        if np.any(high <= low):
            return
        region = (slice(low[0], high[0]), slice(low[1], high[1]))
        cells = np.asarray(world._mat_map[region], dtype=np.int8)
        objects = world._obj_map[region]
        for x, y in zip(*np.nonzero(objects), strict=True):
            if type(world._objects[objects[x, y]]).__name__ == "Cow":
                cells[x, y] = _COW
        self.seen[region] = cells

    def features(self, center: Any) -> np.ndarray:
        """The compass from ``center`` (see :func:`compass_features`)."""
        return compass_features(self.seen, center)
