"""Events of Crafter episodes: achievements and inventory changes.

Crafter counts every achievement each time it happens (a second log is a second
``collect_wood``), and :class:`~rudder.envs.crafter_tasks.CrafterEnv` puts the counts of
one step in ``info["achievement_increments"]`` and the inventory change in
``info["inventory_change"]``. Both are count vectors, so the library's
:class:`~rudder.events.InventoryEncoder` reads them with ``source="info"``; this module
owns the two configurations and the tech tree they should recover.
"""

from __future__ import annotations

from typing import Literal

from rudder.envs.crafter_tasks.env import ACHIEVEMENTS, ITEMS
from rudder.events import InventoryEncoder

__all__ = ["TECH_TREE", "crafter_event_encoder", "follows_tech_tree"]

TECH_TREE = (
    ("collect_wood",),
    ("place_table",),
    ("make_wood_pickaxe",),
    ("collect_stone",),
    ("make_stone_pickaxe",),
    ("collect_coal", "collect_iron", "place_furnace"),
    ("make_iron_pickaxe",),
    ("collect_diamond",),
)
"""The tech tree to the diamond, stage by stage; the parts of one stage come in any order."""


def crafter_event_encoder(kind: Literal["achievements", "inventory"] = "achievements") -> InventoryEncoder:
    """An (unfitted) encoder of Crafter's achievements or inventory gains.

    Args:
        kind: ``"achievements"``: one event per achievement each time it happens, named
            after it (``"collect_wood"``, ``"place_table"``, ...); ``"inventory"``: one
            event per inventory entry that grows in a step, named after the item.

    Returns:
        An :class:`~rudder.events.InventoryEncoder` over the step infos of
        :class:`~rudder.envs.crafter_tasks.CrafterEnv` (record them with
        ``info_keys=("achievement_increments", "inventory_change")``).
    """
    if kind == "achievements":
        return InventoryEncoder(items=ACHIEVEMENTS, source="info", key="achievement_increments")
    if kind == "inventory":
        return InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    raise ValueError(f"`kind` must be 'achievements' or 'inventory', got {kind!r}")


def follows_tech_tree(names: list[str] | tuple[str, ...]) -> bool:
    """Whether the tech-tree events among ``names`` (first occurrences) follow :data:`TECH_TREE`.

    Every stage must be present, and each stage's events must come after all events of
    the stages before it. Other names (drinking, fighting, ...) are ignored.

    Example:
        >>> follows_tech_tree(["collect_wood", "collect_drink", "place_table", "make_wood_pickaxe",
        ...     "collect_stone", "make_stone_pickaxe", "collect_iron", "place_furnace",
        ...     "collect_coal", "make_iron_pickaxe", "collect_diamond"])
        True
    """
    stage_of = {name: index for index, stage in enumerate(TECH_TREE) for name in stage}
    firsts: list[str] = []
    for name in names:
        if name in stage_of and name not in firsts:
            firsts.append(name)
    if len(firsts) != len(stage_of):
        return False
    stages = [stage_of[name] for name in firsts]
    return stages == sorted(stages)
