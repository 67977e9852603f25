"""Gymnasium wrappers: online reward redistribution, delayed reward, profile progress."""

from rudder.wrappers.progress import ProfileProgress, ProfileProgressObservation, add_progress
from rudder.wrappers.reward import DelayedReward, RedistributedReward

__all__ = [
    "DelayedReward",
    "ProfileProgress",
    "ProfileProgressObservation",
    "RedistributedReward",
    "add_progress",
]
