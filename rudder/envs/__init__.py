"""Environments and demonstrators.

Importing this package registers ``rudder/FourRooms-v0..v5``,
``rudder/EightRooms-v0..v5``, ``rudder/CraftDiamond-v0``, ``rudder/CraftDiamondDense-v0``,
``rudder/Crafter-v0`` and ``rudder/CrafterImage-v0`` (these two need ``crafter`` only when
made) with gymnasium.
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
from rudder.envs.crafter_tasks import register_crafter_envs
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
register_crafter_envs()

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
    "register_crafter_envs",
    "FrozenLakeDemonstrator",
    "RoomsDemonstrator",
    "RoomsEnv",
    "frozen_lake_demonstrations",
    "make_frozen_lake",
    "register_envs",
    "rooms_demonstrations",
]
