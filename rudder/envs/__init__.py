"""Environments and demonstrators."""

from rudder.envs.frozen_lake import (
    FrozenLakeDemonstrator,
    frozen_lake_demonstrations,
    make_frozen_lake,
)

__all__ = ["FrozenLakeDemonstrator", "frozen_lake_demonstrations", "make_frozen_lake"]
