"""Gymnasium wrappers: online reward redistribution, delayed reward, profile progress,
sub-task observations and payments, the wrapper stacks for ``make_vec_env``, and the
vectorised redistribution wrappers (the fast path for many envs)."""

from rudder.wrappers.compose import redistribution_wrapper, subtask_wrapper
from rudder.wrappers.progress import ProfileProgress, ProfileProgressObservation, add_progress
from rudder.wrappers.reward import DelayedReward, RedistributedReward, TimeLimitAsTermination
from rudder.wrappers.subtasks import SubtaskObservation, SubtaskReward
from rudder.wrappers.vector import BatchRedistribution, RedistributedVectorEnv

__all__ = [
    "DelayedReward",
    "ProfileProgress",
    "ProfileProgressObservation",
    "BatchRedistribution",
    "RedistributedReward",
    "RedistributedVecEnv",
    "RedistributedVectorEnv",
    "SubtaskObservation",
    "SubtaskReward",
    "TimeLimitAsTermination",
    "add_progress",
    "redistribution_wrapper",
    "subtask_wrapper",
]


def __getattr__(name: str):  # RedistributedVecEnv imports stable-baselines3 on first use
    if name == "RedistributedVecEnv":
        from rudder.wrappers import vector

        return vector.RedistributedVecEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
