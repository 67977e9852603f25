"""Agents: tabular Q-learning with behaviour cloning, and stable-baselines3 PPO glue.

The tabular agents need only numpy. The stable-baselines3 parts (behaviour cloning of
an actor-critic policy, PPO settings and checkpoints, callbacks, the training run) need
the ``sb3`` extra and are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from rudder.agents.tabular import QTable, behavior_cloning_values, initial_q_table
from rudder.agents.training import METHODS, RunResult, TrainingSettings, train_until_threshold

_SB3_NAMES = {
    "BehaviorCloningSettings": "rudder.agents.cloning",
    "behavior_cloning": "rudder.agents.cloning",
    "discounted_returns_to_go": "rudder.agents.cloning",
    "RedistributionLogger": "rudder.agents.callbacks",
    "RudderTraining": "rudder.agents.callbacks",
    "SuccessEvaluation": "rudder.agents.callbacks",
    "evaluate_success": "rudder.agents.callbacks",
    "PPOSettings": "rudder.agents.ppo",
    "make_ppo": "rudder.agents.ppo",
    "save_checkpoint": "rudder.agents.ppo",
    "load_checkpoint": "rudder.agents.ppo",
    "load_redistributor_from_checkpoint": "rudder.agents.ppo",
    "load_normalization": "rudder.agents.ppo",
    "SB3_METHODS": "rudder.agents.sb3_training",
    "RunSettings": "rudder.agents.sb3_training",
    "RunOutcome": "rudder.agents.sb3_training",
    "redistribution_wrapper": "rudder.agents.sb3_training",
    "train_sb3": "rudder.agents.sb3_training",
    "subtask_wrapper": "rudder.agents.sb3_training",
    "subtask_wrapper_from_checkpoint": "rudder.agents.sb3_training",
    "SubtaskBoundaries": "rudder.agents.subtasks",
    "SubtaskController": "rudder.agents.subtasks",
    "SubtaskObservation": "rudder.agents.subtasks",
    "SubtaskPolicy": "rudder.agents.subtasks",
    "add_subtasks": "rudder.agents.subtasks",
}


def __getattr__(name: str) -> Any:
    module = _SB3_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'rudder.agents' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as error:
        raise ImportError(
            f"rudder.agents.{name} needs stable-baselines3 and torch; install them with "
            "pip install torch==2.13.0 && pip install 'align-rudder[sb3]'"
        ) from error


__all__ = [
    "METHODS",
    "QTable",
    "RunResult",
    "TrainingSettings",
    "behavior_cloning_values",
    "initial_q_table",
    "train_until_threshold",
    *sorted(_SB3_NAMES),
]
