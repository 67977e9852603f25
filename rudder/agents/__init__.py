"""Agents: tabular Q-learning with behaviour cloning, and the sub-task bookkeeping.

This package imports numpy only. The stable-baselines3 agents (behaviour cloning of an
actor-critic policy, PPO settings and checkpoints, callbacks, evaluation, the sub-task
policy, the training run) are in :mod:`rudder.agents.sb3`, which needs the ``sb3`` extra:

    >>> from rudder.agents.sb3 import SB3RunSettings, train_sb3  # doctest: +SKIP

- :mod:`rudder.agents.tabular`: Q-tables, learners and :func:`train_until_threshold`.
- :mod:`rudder.agents.subtasks`: :class:`~rudder.agents.subtasks.SubtaskController` and
  the sub-goal payments (numpy only; the gym wrappers are in :mod:`rudder.wrappers.subtasks`).
"""

from rudder.agents.tabular import (
    TABULAR_METHODS,
    QTable,
    TabularResult,
    TabularSettings,
    behavior_cloning_values,
    initial_q_table,
    train_until_threshold,
)

__all__ = [
    "TABULAR_METHODS",
    "QTable",
    "TabularResult",
    "TabularSettings",
    "behavior_cloning_values",
    "initial_q_table",
    "train_until_threshold",
]
