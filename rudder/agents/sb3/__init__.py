"""stable-baselines3 agents: behaviour cloning, PPO on redistributed reward, checkpoints,
callbacks, evaluation, the sub-task policy and the training runner.

Needs the ``sb3`` extra (torch and stable-baselines3); importing this package without
them raises :class:`~rudder.errors.DependencyNotInstalled` with the pip command.

- :mod:`~rudder.agents.sb3.settings`: :class:`PPOSettings`, :class:`BehaviorCloningSettings`,
  :class:`SB3RunSettings`, :data:`SB3_METHODS`.
- :mod:`~rudder.agents.sb3.cloning`: :func:`behavior_cloning`, :class:`CloningRegularizer`,
  :func:`augment_demonstrations`.
- :mod:`~rudder.agents.sb3.ppo`: :func:`make_ppo` (with :data:`policy_aliases`).
- :mod:`~rudder.agents.sb3.checkpoints`: pickle-free :func:`save_checkpoint` / :func:`load_checkpoint`.
- :mod:`~rudder.agents.sb3.evaluation`: :func:`evaluate_success`, :func:`evaluate_items`.
- :mod:`~rudder.agents.sb3.callbacks`: the SB3 callbacks.
- :mod:`~rudder.agents.sb3.policies`: :class:`SubtaskPolicy`, :class:`GridFeatures`.
- :mod:`~rudder.agents.sb3.run`: :func:`train_sb3`, :func:`resume_sb3`, :class:`SB3RunResult`.

Example:
    >>> from rudder.agents.sb3 import SB3RunSettings, train_sb3  # doctest: +SKIP
    >>> outcome = train_sb3(make_env, demos, settings=SB3RunSettings(method="bc-ppo"))  # doctest: +SKIP
"""

from rudder.errors import DependencyNotInstalled

try:
    import stable_baselines3  # noqa: F401
    import torch  # noqa: F401
except ImportError as error:
    raise DependencyNotInstalled(
        f"rudder.agents.sb3 needs stable-baselines3 and torch ({error}); install them with "
        "pip install torch==2.13.0 && pip install 'align-rudder[sb3]'"
    ) from error

from rudder.agents.sb3.callbacks import (
    ClonedSuccessProbe,
    KeepCloning,
    RedistributionLogger,
    RudderTraining,
    SubtaskBoundaries,
    SuccessEvaluation,
)
from rudder.agents.sb3.checkpoints import (
    load_checkpoint,
    load_normalization,
    load_redistributor_from_checkpoint,
    read_checkpoint_record,
    save_checkpoint,
    subtask_wrapper_from_checkpoint,
    subtask_wrapper_from_metadata,
)
from rudder.agents.sb3.cloning import (
    CloningRegularizer,
    augment_demonstrations,
    behavior_cloning,
    discounted_returns_to_go,
)
from rudder.agents.sb3.evaluation import episode_succeeded, evaluate_items, evaluate_success
from rudder.agents.sb3.policies import GridFeatures, SubtaskNetworks, SubtaskPolicy
from rudder.agents.sb3.ppo import make_ppo, policy_aliases
from rudder.agents.sb3.run import SB3RunResult, choose_subtask_agents, resume_sb3, train_sb3
from rudder.agents.sb3.safeguards import GateRedistribution, ValueWarmup, actor_only_parameters
from rudder.agents.sb3.settings import (
    CLONING_TRIAL_FRACTIONS,
    NARROW_NET_ARCH,
    SB3_METHODS,
    SUBTASK_AGENTS_MAX_CLONED_SUCCESS,
    SUBTASK_AGENTS_MIN_GOALS,
    SUBTASK_AGENTS_PROBE_SIGNIFICANCE,
    WIDE_NET_ARCH,
    WIDE_NET_MIN_STEPS,
    BehaviorCloningSettings,
    PPOSettings,
    SB3RunSettings,
    default_net_arch,
)

__all__ = [
    "CLONING_TRIAL_FRACTIONS",
    "NARROW_NET_ARCH",
    "SB3_METHODS",
    "SUBTASK_AGENTS_MAX_CLONED_SUCCESS",
    "SUBTASK_AGENTS_MIN_GOALS",
    "SUBTASK_AGENTS_PROBE_SIGNIFICANCE",
    "WIDE_NET_ARCH",
    "WIDE_NET_MIN_STEPS",
    "BehaviorCloningSettings",
    "ClonedSuccessProbe",
    "CloningRegularizer",
    "GateRedistribution",
    "GridFeatures",
    "KeepCloning",
    "PPOSettings",
    "RedistributionLogger",
    "RudderTraining",
    "SB3RunResult",
    "SB3RunSettings",
    "SubtaskBoundaries",
    "SubtaskNetworks",
    "SubtaskPolicy",
    "SuccessEvaluation",
    "ValueWarmup",
    "actor_only_parameters",
    "augment_demonstrations",
    "behavior_cloning",
    "choose_subtask_agents",
    "default_net_arch",
    "discounted_returns_to_go",
    "episode_succeeded",
    "evaluate_items",
    "evaluate_success",
    "load_checkpoint",
    "load_normalization",
    "load_redistributor_from_checkpoint",
    "make_ppo",
    "policy_aliases",
    "read_checkpoint_record",
    "resume_sb3",
    "save_checkpoint",
    "subtask_wrapper_from_checkpoint",
    "subtask_wrapper_from_metadata",
    "train_sb3",
]
