"""Helpers that lay out crafting-world scenes by hand, shared by the crafting-world tests.

The tests import it by name (``from craft_scenes import ...``): tests/ is not a package,
and pytest puts this folder on ``sys.path``.
"""

from __future__ import annotations

from rudder.envs.craft import ITEMS, CraftEnv


def held(env: CraftEnv, **counts: int) -> None:
    for name, count in counts.items():
        env.inventory[ITEMS.index(name)] = count


def facing(env: CraftEnv, block: int, direction: int = 1) -> tuple[int, int]:
    """Puts ``block`` on the cell in ``direction`` of the agent and faces it."""
    env.facing = direction
    row, column = env.faced_cell()
    env.set_block(row, column, block)
    return row, column


def count(env: CraftEnv, name: str) -> int:
    return int(env.inventory[ITEMS.index(name)])
