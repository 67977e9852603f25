"""Agents: tabular Q-learning with behaviour cloning, and the training harness."""

from rudder.agents.tabular import QTable, behavior_cloning_values, initial_q_table
from rudder.agents.training import METHODS, RunResult, TrainingSettings, train_until_threshold

__all__ = [
    "METHODS",
    "QTable",
    "RunResult",
    "TrainingSettings",
    "behavior_cloning_values",
    "initial_q_table",
    "train_until_threshold",
]
