"""Environments and demonstrators.

Importing this package registers ``rudder/FourRooms-v0..v5``,
``rudder/EightRooms-v0..v5``, ``rudder/CraftDiamond-v0`` and ``rudder/CraftDiamondDense-v0``
with gymnasium.
"""

from rudder.envs.classic_control import (
    LunarLanderDemonstrator,
    MountainCarDemonstrator,
    lunar_lander_demonstrations,
    lunar_lander_policy,
    make_delayed_env,
    mountain_car_demonstrations,
    mountain_car_policy,
)
from rudder.envs.craft import (
    CraftDemonstrator,
    CraftEnv,
    CraftVectorObservation,
    craft_demonstrations,
    make_craft_env,
    register_craft_envs,
)
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
register_craft_envs()

__all__ = [
    "LunarLanderDemonstrator",
    "MountainCarDemonstrator",
    "lunar_lander_demonstrations",
    "lunar_lander_policy",
    "make_delayed_env",
    "mountain_car_demonstrations",
    "mountain_car_policy",
    "CraftDemonstrator",
    "CraftEnv",
    "CraftVectorObservation",
    "craft_demonstrations",
    "make_craft_env",
    "register_craft_envs",
    "FrozenLakeDemonstrator",
    "RoomsDemonstrator",
    "RoomsEnv",
    "frozen_lake_demonstrations",
    "make_frozen_lake",
    "register_envs",
    "rooms_demonstrations",
]
