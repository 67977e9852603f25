"""Environments and demonstrators.

Importing this package registers ``rudder/FourRooms-v0..v5`` and
``rudder/EightRooms-v0..v5`` with gymnasium.
"""

from rudder.envs.frozen_lake import (
    FrozenLakeDemonstrator,
    frozen_lake_demonstrations,
    make_frozen_lake,
)
from rudder.envs.rooms import (
    RoomsDemonstrator,
    RoomsEnv,
    register_envs,
    rooms_demonstrations,
)

register_envs()

__all__ = [
    "FrozenLakeDemonstrator",
    "RoomsDemonstrator",
    "RoomsEnv",
    "frozen_lake_demonstrations",
    "make_frozen_lake",
    "register_envs",
    "rooms_demonstrations",
]
