"""Crafter (Hafner, ICLR 2022), the open-world benchmark, behind ``align-rudder[crafter]``.

- :class:`CrafterEnv`: the gymnasium adapter with a symbolic (or image) observation.
- :func:`register_crafter_envs`: registers ``rudder/Crafter-v0`` (symbolic observation)
  and ``rudder/CrafterImage-v0`` (Crafter's 64x64 image).
- :class:`CrafterExpert` and :func:`record_crafter_demonstrations`: a scripted player that
  reads the whole world and follows the tech tree down to the diamond.
- :func:`mirror_images`: a demonstration's mirror images, which behaviour cloning fits too.
- ``CrafterEnv(compass=True)`` (:mod:`rudder.envs.crafter_tasks.compass`): a compass to the
  nearest water, tree, stone, coal, iron, diamond, table, furnace, lava and cow seen so far.
- :func:`crafter_score` and :func:`success_rates`: Crafter's own metric.

Nothing here imports ``crafter`` until an env is made, so the library imports without it.
"""

from __future__ import annotations

import warnings

import gymnasium as gym

from rudder.envs.crafter_tasks.env import (
    ACHIEVEMENTS,
    ACTIONS,
    COMPASS_ENTRIES,
    COMPASS_RANGE,
    COMPASS_TARGETS,
    DEATH_CAUSES,
    ITEMS,
    MATERIALS,
    OBJECTS,
    SEMANTIC_NAMES,
    ZOMBIE_RESPONSES,
    CrafterEnv,
    adjacent_features,
    daylight_feature,
    death_cause,
    feature_name,
    require_crafter,
    symbolic_observation,
    symbolic_size,
    view_grid,
    zombie_response,
)
from rudder.envs.crafter_tasks.expert import CrafterExpert, record_crafter_demonstrations
from rudder.envs.crafter_tasks.mirror import mirror_episode, mirror_images
from rudder.envs.crafter_tasks.scoring import crafter_score, success_rates

__all__ = [
    "ACHIEVEMENTS",
    "ACTIONS",
    "COMPASS_ENTRIES",
    "COMPASS_RANGE",
    "COMPASS_TARGETS",
    "DEATH_CAUSES",
    "ITEMS",
    "MATERIALS",
    "OBJECTS",
    "SEMANTIC_NAMES",
    "ZOMBIE_RESPONSES",
    "CrafterEnv",
    "CrafterExpert",
    "crafter_score",
    "adjacent_features",
    "daylight_feature",
    "death_cause",
    "feature_name",
    "mirror_episode",
    "mirror_images",
    "record_crafter_demonstrations",
    "register_crafter_envs",
    "require_crafter",
    "success_rates",
    "symbolic_observation",
    "symbolic_size",
    "view_grid",
    "zombie_response",
]


def register_crafter_envs() -> None:
    """Registers ``rudder/Crafter-v0`` (symbolic) and ``rudder/CrafterImage-v0`` (image).

    Keyword arguments of ``gym.make`` go to :class:`CrafterEnv`; the episodes end at
    Crafter's own 10,000-step limit (``truncated``), so no TimeLimit is added.
    """
    for env_id, observation in (("rudder/Crafter-v0", "symbolic"), ("rudder/CrafterImage-v0", "image")):
        if env_id in gym.registry:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gym.register(
                id=env_id,
                entry_point="rudder.envs.crafter_tasks.env:CrafterEnv",
                kwargs={"observation": observation},
                max_episode_steps=None,
            )
