"""Gymnasium wrappers: online reward redistribution, delayed reward, profile progress,
sub-task observations and payments, and the wrapper stacks for ``make_vec_env``."""

from rudder.wrappers.compose import redistribution_wrapper, subtask_wrapper
from rudder.wrappers.progress import ProfileProgress, ProfileProgressObservation, add_progress
from rudder.wrappers.reward import DelayedReward, RedistributedReward, TimeLimitAsTermination
from rudder.wrappers.subtasks import SubtaskObservation, SubtaskReward

__all__ = [
    "DelayedReward",
    "ProfileProgress",
    "ProfileProgressObservation",
    "RedistributedReward",
    "SubtaskObservation",
    "SubtaskReward",
    "TimeLimitAsTermination",
    "add_progress",
    "redistribution_wrapper",
    "subtask_wrapper",
]
