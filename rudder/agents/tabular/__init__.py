"""Tabular agents (numpy only): Q-tables with behaviour-cloning initialisation, the
per-method learners, the DQfD-like learner, and the train-until-threshold runner.

- :mod:`~rudder.agents.tabular.q_table`: :class:`QTable`, :func:`behavior_cloning_values`,
  :func:`initial_q_table`.
- :mod:`~rudder.agents.tabular.learners`: :class:`LookaheadQ`, :class:`QLearning`,
  :class:`DQfD`, :class:`LSTMRelabel`.
- :mod:`~rudder.agents.tabular.dqfd`: :class:`TabularDQfD`, :func:`n_step_targets`.
- :mod:`~rudder.agents.tabular.run`: :class:`TabularSettings`, :class:`TabularResult`,
  :data:`TABULAR_METHODS`, :func:`train_until_threshold`.
"""

from rudder.agents.tabular.dqfd import TabularDQfD, n_step_targets
from rudder.agents.tabular.learners import DQfD, LookaheadQ, LSTMRelabel, QLearning, lookahead_sums
from rudder.agents.tabular.q_table import QTable, behavior_cloning_values, initial_q_table
from rudder.agents.tabular.run import (
    TABULAR_METHODS,
    TabularResult,
    TabularSettings,
    train_until_threshold,
)

__all__ = [
    "TABULAR_METHODS",
    "DQfD",
    "LSTMRelabel",
    "LookaheadQ",
    "QLearning",
    "QTable",
    "TabularDQfD",
    "TabularResult",
    "TabularSettings",
    "behavior_cloning_values",
    "initial_q_table",
    "lookahead_sums",
    "n_step_targets",
    "train_until_threshold",
]
