"""Mirror images of Crafter demonstrations, for behaviour cloning: :func:`mirror_images`.

Crafter's rules have no preferred side: moves, the faced cell, the creatures' chase and
the world's generation treat left and right (and up and down) alike, and the 9x7 local
view is centred on the player. A demonstration flipped left to right (or top to bottom)
is therefore an episode the player could have played in the mirrored world, with
``move_left`` and ``move_right`` (``move_up`` and ``move_down``) swapped in its actions and
in its facing. Cloning the images too gives the clone four times the situations to learn
from without another demonstration (``bench_crafter.py --mirror``, on by default).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rudder.data.episode import Episode
from rudder.envs.crafter_tasks.env import (
    _FACINGS,
    ACTIONS,
    COMPASS_ENTRIES,
    COMPASS_TARGETS,
    SEMANTIC_NAMES,
    symbolic_size,
)

__all__ = ["mirror_episode", "mirror_images"]


def _flip_index(view: tuple[int, int], *, left_right: bool, up_down: bool, compass: bool = False) -> np.ndarray:
    """Shape (symbolic_size(view, compass=compass),): feature ``i`` of the image is feature
    ``index[i]`` of the original observation."""
    width, height = view
    names = len(SEMANTIC_NAMES)
    xs = np.arange(width)[::-1] if left_right else np.arange(width)
    ys = np.arange(height)[::-1] if up_down else np.arange(height)
    cells = (xs[:, None] * height + ys[None, :]).reshape(-1)  # cell-major, x then y
    index = np.arange(symbolic_size(view, compass=compass))
    index[: width * height * names] = (cells[:, None] * names + np.arange(names)[None, :]).reshape(-1)
    facing = symbolic_size(view) - len(_FACINGS)
    flipped = [(-dx if left_right else dx, -dy if up_down else dy) for dx, dy in _FACINGS]
    index[facing : facing + len(_FACINGS)] = facing + np.array([_FACINGS.index(direction) for direction in flipped])
    if compass:
        swaps = [("left", "right")] * left_right + [("up", "down")] * up_down
        entries = np.arange(len(COMPASS_ENTRIES))
        for one, other in swaps:
            entries[[COMPASS_ENTRIES.index(one), COMPASS_ENTRIES.index(other)]] = [
                COMPASS_ENTRIES.index(other), COMPASS_ENTRIES.index(one)
            ]  # fmt: skip
        start = symbolic_size(view)
        targets = np.arange(len(COMPASS_TARGETS))[:, None] * len(COMPASS_ENTRIES)
        index[start:] = start + (targets + entries[None, :]).reshape(-1)
    return index


def _flip_actions(*, left_right: bool, up_down: bool) -> np.ndarray:
    """Shape (len(ACTIONS),): action ``a`` of the original is action ``table[a]`` of the image."""
    table = np.arange(len(ACTIONS))
    for flip, (one, other) in ((left_right, ("move_left", "move_right")), (up_down, ("move_up", "move_down"))):
        if flip:
            table[[ACTIONS.index(one), ACTIONS.index(other)]] = [ACTIONS.index(other), ACTIONS.index(one)]
    return table


def mirror_episode(
    episode: Episode,
    *,
    left_right: bool = True,
    up_down: bool = False,
    view: tuple[int, int] = (9, 7),
    compass: bool = False,
) -> Episode:
    """The mirror image of a Crafter episode recorded with the symbolic observation.

    The local view is flipped, the facing, the moves and the compass's directions swapped;
    the inventory, the daylight, the sleep flag, the rewards and the infos stay (the mirror
    changes no event). Features after Crafter's own (profile progress, the sub-task
    one-hot) stay as they are.

    Args:
        episode: observations of shape (T+1, n), n >= ``symbolic_size(view)``; integer
            actions of shape (T,).
        left_right: flip west to east.
        up_down: flip north to south.
        view: the env's local view (width, height).
        compass: whether the observations hold the compass (``CrafterEnv(compass=True)``).

    Returns:
        A new episode; ``episode`` is left as it is.

    Raises:
        ValueError: if the observations are not flat symbolic ones or the actions not
            Crafter's integer actions.
    """
    observations = episode.observations
    own = symbolic_size(view, compass=compass)
    if not isinstance(observations, np.ndarray) or observations.ndim != 2 or observations.shape[1] < own:
        shape = getattr(observations, "shape", type(observations).__name__)
        raise ValueError(
            f"mirror_episode needs Crafter's symbolic observations of shape (T+1, >= {own}) for a {view[0]}x{view[1]} "
            f"view (rudder/Crafter-v0, not the image one), got {shape}"
        )
    actions = np.asarray(episode.actions)
    if actions.ndim != 1 or not np.issubdtype(actions.dtype, np.integer) or actions.size and (
        actions.min() < 0 or actions.max() >= len(ACTIONS)
    ):
        raise ValueError(f"mirror_episode needs Crafter's actions, integers in [0, {len(ACTIONS)}) of shape (T,)")
    mirrored = observations.copy()
    mirrored[:, :own] = observations[:, _flip_index(view, left_right=left_right, up_down=up_down, compass=compass)]
    table = _flip_actions(left_right=left_right, up_down=up_down)
    return dataclasses.replace(episode, observations=mirrored, actions=table[actions].astype(actions.dtype))


def mirror_images(episode: Episode, *, view: tuple[int, int] = (9, 7), compass: bool = False) -> list[Episode]:
    """The three mirror images of a Crafter episode: left-right, up-down and both (the
    half turn). ``train_sb3(cloning_augmentation=mirror_images)`` clones them beside the
    original (with the compass: ``functools.partial(mirror_images, compass=True)``). See
    :func:`mirror_episode` for the arguments."""
    return [
        mirror_episode(episode, left_right=left_right, up_down=up_down, view=view, compass=compass)
        for left_right, up_down in ((True, False), (False, True), (True, True))
    ]
