"""Gymnasium wrappers: online reward redistribution and delayed reward."""

from rudder.wrappers.reward import DelayedReward, RedistributedReward

__all__ = ["DelayedReward", "RedistributedReward"]
