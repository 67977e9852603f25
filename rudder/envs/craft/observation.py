"""Flat observations of the crafting world, and transforms of its recorded episodes.

- :class:`CraftVectorObservation` flattens the ``Dict`` observation into one float32
  vector for MLP policies; :func:`vector_observation` does it for one observation and
  :func:`vector_size` gives the vector's length.
- :func:`mirror_episode` mirrors a recorded episode left to right (data augmentation).
- :func:`with_item_keys` splits the inventory vector into MineRL-style
  ``"inventory/<item>"`` keys.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np

from rudder.data.episode import Episode
from rudder.envs.craft.rules import ACTION, ACTIONS, BLOCKS, ITEMS, MAX_COUNT, MOVES

__all__ = [
    "CraftVectorObservation",
    "mirror_episode",
    "vector_observation",
    "vector_size",
    "with_item_keys",
]


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
        view_shape = space["view"].shape
        if view_shape is None or len(view_shape) != 2:
            raise ValueError(f"CraftVectorObservation needs a square 2-D view, got shape {view_shape}")
        view_size = view_shape[0]
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
    faced = view[centre + MOVES[direction, 0], centre + MOVES[direction, 1]]
    return np.concatenate(
        [
            eye[view].ravel(),
            np.log1p(np.asarray(observation["inventory"], dtype=np.float32)),
            facing[direction],
            np.asarray(observation["depth"], dtype=np.float32),
            eye[faced],
        ]
    )



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
    :mod:`rudder.data.minerl`'s episodes, which :class:`~rudder.events.InventoryEncoder`
    reads by default)."""
    observations = episode.observations
    if not isinstance(observations, dict) or "inventory" not in observations:
        raise ValueError("with_item_keys needs Dict observations with an 'inventory' vector (vector=False)")
    split = {key: value for key, value in observations.items() if key != "inventory"}
    inventory = np.asarray(observations["inventory"])
    for index, item in enumerate(ITEMS):
        split[f"inventory/{item}"] = inventory[:, index]
    return dataclasses.replace(episode, observations=split)
