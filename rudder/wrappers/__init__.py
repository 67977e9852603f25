"""Gymnasium wrappers: online reward redistribution, delayed reward, profile progress."""

from rudder.wrappers.progress import ProfileProgress, ProfileProgressObservation, add_progress
from rudder.wrappers.reward import DelayedReward, RedistributedReward, TimeLimitAsTermination

__all__ = [
    "DelayedReward",
    "ProfileProgress",
    "ProfileProgressObservation",
    "RedistributedReward",
    "TimeLimitAsTermination",
    "add_progress",
]
