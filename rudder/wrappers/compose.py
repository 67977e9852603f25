"""Wrapper stacks for ``make_vec_env(..., wrapper_class=...)``: redistribution and sub-tasks.

``make_vec_env`` puts ``Monitor`` on the env first and ``wrapper_class`` above it, so the
true return stays in ``ep_rew_mean`` while the agent sees the redistributed reward.

Example:
    >>> from stable_baselines3.common.env_util import make_vec_env  # doctest: +SKIP
    >>> venv = make_vec_env(make_env, n_envs=8, wrapper_class=redistribution_wrapper,
    ...                     wrapper_kwargs={"redistributor": redistributor})  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import gymnasium as gym
import numpy as np

from rudder.wrappers.progress import ProfileProgressObservation
from rudder.wrappers.reward import RedistributedReward
from rudder.wrappers.subtasks import SubtaskObservation, SubtaskReward

if TYPE_CHECKING:
    from rudder.agents.subtasks import SubtaskController
    from rudder.redistribution.base import Redistributor

__all__ = ["redistribution_wrapper", "subtask_wrapper"]


def redistribution_wrapper(
    env: gym.Env, redistributor: Redistributor, progress: Literal["box", "dict"] | None = None
) -> gym.Env:
    """:class:`~rudder.wrappers.RedistributedReward`, then
    :class:`~rudder.wrappers.ProfileProgressObservation` unless ``progress`` is None.

    Args:
        env: the env (with ``Monitor`` below, as ``make_vec_env`` builds it).
        redistributor: a fitted redistributor (``start(observation)`` gives its online state).
        progress: how the profile progress joins the observation ("box", "dict"), or None
            (the default, as in :class:`~rudder.agents.sb3.SB3RunSettings`).
    """
    env = RedistributedReward(env, redistributor)
    if progress is not None:
        env = ProfileProgressObservation(env, mode=progress)
    return env


def subtask_wrapper(
    env: gym.Env,
    redistributor: Redistributor,
    controller: SubtaskController,
    progress: Literal["box"] | None = None,
    goal_rewards: np.ndarray | None = None,
    change_key: str = "inventory_change",
    settle_terminated: bool = False,
    env_reward_weight: float = 0.0,
) -> gym.Env:
    """:func:`redistribution_wrapper`, then the sub-task one-hot
    (:class:`~rudder.wrappers.subtasks.SubtaskObservation`) and, given ``goal_rewards``,
    payments for the consensus sub-goals (:class:`~rudder.wrappers.subtasks.SubtaskReward`).

    Args:
        env: the env (with ``Monitor`` below).
        redistributor: a fitted redistributor.
        controller: the sub-task controller.
        progress: as in :func:`redistribution_wrapper` (flat "box" or None).
        goal_rewards: shape (len(controller.consensus),): what each sub-goal pays, or None
            for the step-wise redistributed reward.
        change_key: the info entry of the per-step event counts.
        settle_terminated: as in :class:`~rudder.wrappers.subtasks.SubtaskReward`.
        env_reward_weight: as in :class:`~rudder.wrappers.subtasks.SubtaskReward`.
    """
    env = SubtaskObservation(redistribution_wrapper(env, redistributor, progress), controller, change_key=change_key)
    if goal_rewards is None:
        return env
    return SubtaskReward(
        env,
        controller,
        goal_rewards,
        change_key=change_key,
        settle_terminated=settle_terminated,
        env_reward_weight=env_reward_weight,
    )
