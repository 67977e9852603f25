"""Stable-baselines3 tasks: one run of a method on a task, for benchmarks and training scripts.

An :class:`SB3Task` says how a task builds its env, records its demonstrations,
encodes events and sets up :func:`~rudder.agents.sb3.train_sb3` for a method. The same
task serves its benchmark (many runs, :mod:`rudder.experiments.harness`) and its
training script (one run with a checkpoint, :func:`train_main`)::

    python scripts/train_minigrid.py --method align-rudder --checkpoint runs/kc
    python scripts/train_minigrid.py --resume runs/kc --steps 200000 --checkpoint runs/kc
    python scripts/train_craft.py --demos-file my_demos.npz --demos 20

Needs the ``sb3`` extra.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym

from rudder.arguments import parse_several
from rudder.data.episode import Episode
from rudder.data.sources import check_demonstrations
from rudder.errors import RudderError
from rudder.events.base import EventEncoder
from rudder.experiments.sweep import Job, Progress
from rudder.experiments.tasks import demonstrations
from rudder.redistribution.alignment import AlignmentRedistributor

__all__ = [
    "SB3Task",
    "SB3TaskSettings",
    "TrainOptions",
    "run_sb3_job",
    "run_sb3_task",
    "steps_to_target",
    "target_fields",
    "task_run_settings",
    "train_main",
]


@dataclasses.dataclass(frozen=True)
class SB3TaskSettings:
    """What every stable-baselines3 task's run has; a task's settings subclass this and
    may give other defaults."""

    budget: int = 500_000
    """Env-step budget of PPO per run."""
    eval_every: int = 20_000
    """Env steps between evaluations during training."""
    eval_episodes: int = 50
    """Episodes per evaluation during training."""
    n_envs: int = 8
    """Parallel training envs per run."""
    subprocess: bool = False
    """Run the training envs in subprocesses (SubprocVecEnv)."""
    bc_epochs: int = 100
    """Behaviour-cloning epochs (the most, with --bc-folds or --bc-max-updates; the
    library's default, see ``rudder.agents.sb3.BehaviorCloningSettings``)."""
    bc_max_updates: int = 4000
    """The most minibatch steps of behaviour cloning: fewer epochs where --bc-epochs would
    take more (0: no limit; the library's default, see
    ``rudder.agents.sb3.BehaviorCloningSettings``)."""
    bc_weight_decay: float = 0.0
    """Decoupled weight decay of behaviour cloning's AdamW (0: none, plain Adam, the
    library's default; see ``rudder.agents.sb3.BehaviorCloningSettings``)."""
    bc_folds: int = 0
    """Folds of the cross-validation that chooses the behaviour-cloning epochs (0: none, the
    library's default; see ``rudder.agents.sb3.BehaviorCloningSettings``)."""
    bc_trials: int = 0
    """Episodes in the env with the cloned policy after each of several fractions of the
    cloning epochs, to choose how long to clone (0: none, the library's default; see
    ``rudder.agents.sb3.SB3RunSettings.cloning_trials``)."""
    learning_rate: float = 3e-4
    """PPO learning rate."""
    gamma: float = 0.99
    """PPO discount (also the discount of the cloned value targets)."""
    ent_coef: float | None = None
    """Weight of PPO's entropy bonus (none: the library's default, 0.01; see
    ``rudder.agents.sb3.PPOSettings``), for ablations."""
    gate: bool = True
    """Weigh Align-RUDDER's redistributed reward by the redistribution gate (the library's
    default; --no-gate pays it in full throughout, for ablations)."""
    subtask_env_reward: float | None = None
    """Multiple of the env reward Align-RUDDER's sub-task agents are paid besides their
    sub-goals (none: the library's rule, 1 where the env pays before an episode's end; 0
    for the ablation)."""
    subtask_bootstrap: bool | None = None
    """Whether Align-RUDDER's sub-task agents bootstrap their return at the sub-goal from
    the next agent's value (none: the library's default, they do; --no-subtask-bootstrap
    ends it there, as the paper does, for ablations)."""
    shared_layers: int | None = None
    """Hidden layers that Align-RUDDER's sub-task agents share (none: the library's default,
    all of them; 0: each sub-task has its own networks; one more than the hidden layers:
    the output layer too; see ``rudder.agents.sb3.policies.SubtaskNetworks``)."""
    keep_cloning: float | None = None
    """Weight of the behaviour-cloning steps between PPO updates of the methods that clone
    (none: the library's default, 1; 0: none, for ablations)."""
    net_arch: tuple[int, ...] | None = None
    """Hidden layer sizes of every method's policy and value networks (none: the library's
    default, 256 256 for a run that clones 1,000 demonstration steps or more and 64 64
    otherwise), for ablations."""
    reflex_agent: bool | None = None
    """Whether Align-RUDDER's sub-task agents get one more agent for the reflexes found in
    the demonstrations (``rudder.agents.reflexes``: rare binary observation features the
    demonstrator answers alike in every sub-task; nothing changes where none is found).
    None: the library's default, they do wherever no other interrupt is given;
    --no-reflex-agent: never, for ablations."""
    reflex_augmentation: bool | None = None
    """Whether the search for Align-RUDDER's reflexes also sees the images that cloning
    fits (the task's augmentation, say Crafter's mirror images; none: the library's
    default, it does; --no-reflex-augmentation: the demonstrations only, for ablations)."""
    need_agents: bool | None = None
    """Whether Align-RUDDER's sub-task agents get one more agent for each need found in the
    demonstrations (``rudder.agents.needs``: levels that fall by themselves and that the
    demonstrator tops up, as Crafter's water and food; nothing changes where none is
    found). None: the library's default, they do not; --need-agents: they do."""


@dataclasses.dataclass(frozen=True)
class SB3Task:
    """How a task runs a stable-baselines3 method. Each callable takes the task's
    settings (a dataclass) first.

    Attributes:
        name: the task's name.
        make_env: ``make_env(settings)`` -> a picklable function that builds one env.
        record_demonstrations: ``(settings, count, seed)`` -> the task's demonstrations.
        encoder: ``encoder(settings)`` -> the unfitted event encoder of Align-RUDDER.
        run_settings: ``(settings, method)`` -> the
            :class:`~rudder.agents.sb3.SB3RunSettings` of a run of ``method``.
        final_evaluation: ``(settings, seed)`` -> the evaluation run after training
            (``None``: none).
        cloning_augmentation: ``settings`` -> extra demonstrations for behaviour cloning
            (``None``: none).
        encoder_overrides: ``settings`` -> keyword arguments for the saved encoder when a
            checkpoint is resumed (for what JSON cannot keep, such as a function).
    """

    name: str
    make_env: Callable[[Any], Callable[[], gym.Env]]
    record_demonstrations: Callable[[Any, int, int], list[Episode]]
    encoder: Callable[[Any], EventEncoder]
    run_settings: Callable[[Any, str], Any]
    final_evaluation: Callable[[Any, int], Any] = lambda settings, seed: None
    cloning_augmentation: Callable[[Any], Any] = lambda settings: None
    encoder_overrides: Callable[[Any], dict[str, Any]] = lambda settings: {}


def _progress_callback(progress: Progress | None) -> Any:
    if progress is None:
        return None
    from stable_baselines3.common.callbacks import BaseCallback

    report: Progress = progress

    class ReportEnvSteps(BaseCallback):
        """Reports PPO's env steps to the sweep's progress bar."""

        def _on_step(self) -> bool:
            report(self.num_timesteps)
            return True

    return ReportEnvSteps()


def run_sb3_task(
    task: SB3Task,
    settings: Any,
    *,
    method: str,
    n_demos: int,
    seed: int,
    job: Job | None = None,
    progress: Progress | None = None,
    checkpoint: str | None = None,
    tensorboard_log: str | None = None,
    progress_bar: bool = False,
    logger: Any = None,
    callback: Any = None,
) -> Any:
    """One run of ``method`` on ``task``: records (or reads, with ``job.demos_file``) the
    demonstrations, then :func:`~rudder.agents.sb3.train_sb3`. Returns its
    :class:`~rudder.agents.sb3.SB3RunResult` (``logger``: an SB3 logger, or None;
    ``callback``: an SB3 callback in place of the one that reports env steps to
    ``progress``, for a task that keeps its own record of the training episodes)."""
    from rudder.agents.sb3 import train_sb3

    job = job or Job({}, settings, budget=0)
    demos = (
        []
        if method == "ppo"
        else demonstrations(job, n_demos, lambda: task.record_demonstrations(settings, n_demos, seed), seed=seed)
    )
    return train_sb3(
        task.make_env(settings),
        demos,
        settings=task.run_settings(settings, method),
        encoder=task.encoder(settings),
        seed=seed,
        checkpoint=checkpoint,
        tensorboard_log=tensorboard_log,
        progress_bar=progress_bar,
        final_evaluation=task.final_evaluation(settings, seed),
        cloning_augmentation=task.cloning_augmentation(settings),
        callback=_progress_callback(progress) if callback is None else callback,
        logger=logger,
    )


def task_run_settings(settings: SB3TaskSettings, method: str, *, ppo: Mapping[str, Any] | None = None, **fields: Any) -> Any:
    """The :class:`~rudder.agents.sb3.SB3RunSettings` of a run of ``method``: budget,
    envs, evaluation, cloning epochs, PPO's discount and learning rate from ``settings``;
    ``ppo`` overrides or adds PPO settings and ``fields`` the run's other settings."""
    from rudder.agents.sb3 import BehaviorCloningSettings, PPOSettings, SB3RunSettings

    if settings.bc_max_updates < 0:
        raise ValueError(f"--bc-max-updates must be 0 (no limit) or a number of minibatch steps >= 1, got {settings.bc_max_updates}")
    return SB3RunSettings(
        method=method,
        total_timesteps=settings.budget,
        n_envs=settings.n_envs,
        subprocess=settings.subprocess,
        eval_every=settings.eval_every,
        eval_episodes=settings.eval_episodes,
        behavior_cloning=BehaviorCloningSettings(
            epochs=settings.bc_epochs,
            folds=settings.bc_folds,
            weight_decay=settings.bc_weight_decay,
            max_updates=settings.bc_max_updates or None,
        ),
        cloning_trials=settings.bc_trials,
        ppo=PPOSettings(
            **{
                "gamma": settings.gamma,
                "learning_rate": settings.learning_rate,
                "shared_layers": settings.shared_layers,
                **({} if settings.ent_coef is None else {"ent_coef": settings.ent_coef}),
                **({} if settings.net_arch is None else {"net_arch": settings.net_arch}),
                **(ppo or {}),
            }
        ),
        **{
            "gate": settings.gate,
            "subtask_env_reward": settings.subtask_env_reward,
            **({} if settings.subtask_bootstrap is None else {"subtask_bootstrap": settings.subtask_bootstrap}),
            **({} if settings.keep_cloning is None else {"keep_cloning": settings.keep_cloning}),
            **({"reflex_agent": settings.reflex_agent} if settings.reflex_agent is not None and method == "align-rudder" else {}),
            **({"need_agents": settings.need_agents} if settings.need_agents is not None and method == "align-rudder" else {}),
            **(
                {"reflex_augmentation": settings.reflex_augmentation}
                if settings.reflex_augmentation is not None and method == "align-rudder"
                else {}
            ),
            **fields,
        },
    )


def run_sb3_job(task: SB3Task, job: Job, progress: Progress, *, callback: Any = None) -> tuple[Any, dict[str, Any]]:
    """One run of a benchmark sweep: the job's method, demonstrations and seed on ``task``,
    with one torch thread (runs are the unit of parallelism). ``callback``: an SB3
    callback that reports env steps to ``progress`` itself and keeps the task's own record
    of the run (``None``: one that only reports env steps).

    Returns:
        ``(result, record)``: the :class:`~rudder.agents.sb3.SB3RunResult` and the part of
        the run's record every SB3 benchmark keeps (env steps, seconds, curve).
    """
    import torch

    torch.set_num_threads(1)
    key = job.key
    outcome = run_sb3_task(
        task, job.settings, method=key["method"], n_demos=int(key["n_demos"]), seed=int(key["seed"]),
        job=job, progress=progress, callback=callback,
    )
    record = {
        "timesteps": outcome.timesteps,
        "env_steps": outcome.timesteps,
        "seconds": round(outcome.seconds, 1),
        "curve": [list(point) for point in outcome.curve],
    }
    if outcome.net_arch:
        record["net_arch"] = list(outcome.net_arch)  # the hidden layers, as the width rule chose them
    if outcome.cloning_epochs is not None:
        # the epochs the clone was fitted for (fewer than asked under --bc-max-updates)
        record["cloning_epochs"] = outcome.cloning_epochs
    if outcome.cloning_trials:
        # (epochs, success rate, mean return, env steps) of each tried clone
        record["cloning_trials"] = [list(trial) for trial in outcome.cloning_trials]
    if outcome.redistributor is not None:
        # which agents the rule chose, and the cloned network's success where it probed it
        record["subtask_agents"] = outcome.controller is not None
        if outcome.controller is not None:
            # the hidden layers the sub-task agents shared, as built
            networks = getattr(getattr(outcome.model, "policy", None), "mlp_extractor", None)
            record["shared_layers"] = getattr(networks, "shared_layers", None)
            record["subtask_bootstrap"] = task.run_settings(job.settings, key["method"]).subtask_bootstrap
        if outcome.subtask_env_reward is not None:
            record["subtask_env_reward"] = outcome.subtask_env_reward
        if outcome.probe_success is not None:
            record["probe_success"] = outcome.probe_success
            record["probe_episodes"] = outcome.probe_episodes
    if outcome.gate:
        # the redistribution gate's weight and concordance, sampled at every tenth rollout
        record["gate"] = [list(point) for point in outcome.gate[::10]] + [list(outcome.gate[-1])]
    return outcome, record


def target_fields(outcome: Any, budget: int) -> dict[str, Any]:
    """The record of a run that trains until a target success rate: when it got there
    (``None``: never) and the budget that a failure counts as."""
    return {"reached_at": outcome.reached_at, "reached": outcome.reached_at is not None, "budget": budget}


def steps_to_target(run: Mapping[str, Any]) -> float:
    """Env steps until the target, the budget for a run that never got there (runs
    recorded without a budget count their own env steps)."""
    if run.get("reached_at") is not None:
        return float(run["reached_at"])
    return float(run.get("budget") or run["timesteps"])


@dataclasses.dataclass
class TrainOptions:
    """The options of every training script."""

    method: str = "align-rudder"
    """ppo, bc, bc-ppo, align-rudder or rudder-lstm (BC, then PPO on RUDDER's LSTM redistribution)."""
    demos: int = 10
    """Demonstrations (recorded by the task's demonstrator, or drawn from --demos-file)."""
    seed: int = 0
    """Seed of the demonstrations, the envs, cloning and PPO."""
    demos_file: str | None = None
    """Demonstrations from this .npz file (rudder.save_episodes), minari:DATASET_ID or imitation:PATH instead of the task's demonstrator."""
    checkpoint: str | None = None
    """Directory to save the trained model and its redistributor to."""
    resume: str | None = None
    """Continue training this checkpoint directory for the budget (its own method and settings)."""
    tensorboard: str | None = None
    """TensorBoard log directory (SB3's logger, with the rudder/* keys); also the directory of --log-to tensorboard/csv (default: runs)."""
    log_to: tuple[str, ...] = ()
    """Also log to these: stdout, csv, tensorboard, wandb, mlflow (wandb and mlflow when installed)."""
    png: str | None = None
    """Draw the alignment of the demonstrations to this PNG file (align-rudder)."""
    progress_bar: bool = True
    """Show progress bars."""

    def __post_init__(self) -> None:
        from rudder.agents.sb3.settings import SB3_METHODS

        if self.method not in SB3_METHODS:
            raise ValueError(f"--method {self.method!r}: choose from {', '.join(SB3_METHODS)}")
        if self.demos_file is not None:
            try:
                check_demonstrations(self.demos_file)
            except FileNotFoundError as error:
                raise ValueError(f"--demos-file {self.demos_file}: {error}") from None
        if self.resume is not None and not Path(self.resume).is_dir():
            raise ValueError(f"--resume {self.resume}: no such checkpoint directory")
        from rudder.experiments.loggers import LOG_DESTINATIONS

        unknown = sorted(set(self.log_to) - set(LOG_DESTINATIONS))
        if unknown:
            raise ValueError(f"--log-to {' '.join(unknown)}: choose from {', '.join(LOG_DESTINATIONS)}")
        if self.resume is not None and self.demos_file is not None:
            raise ValueError("--demos-file with --resume: a resumed run keeps its checkpoint's redistributor and takes no demonstrations")


def _report(outcome: Any) -> None:
    from rudder.profile import format_consensus

    if isinstance(outcome.redistributor, AlignmentRedistributor):
        alphabet = outcome.redistributor.encoder.alphabet
        print("Consensus:", format_consensus([alphabet.name(column.event) for column in outcome.redistributor.profile.consensus]))
    if outcome.probe_success is not None:
        chosen = "sub-task agents" if outcome.controller is not None else "one network"
        print(f"Cloned network's success on its first {outcome.probe_episodes} episodes: {outcome.probe_success:.2f} -> {chosen}")
    if outcome.controller is not None:
        print(f"Sub-task agents: {outcome.controller.describe()}")
    print("Success rate by env steps:", [(steps, round(rate, 2)) for steps, rate, *_ in outcome.curve])
    if outcome.reached_at is not None:
        print(f"Reached the target success rate after {outcome.reached_at:,} env steps.")
    if isinstance(outcome.final, dict):
        print("Final evaluation, per-item success rates:")
        for name, value in outcome.final.items():
            print(f"  {name}: {value:.2f}")
    elif outcome.final is not None:
        print("Final evaluation:", outcome.final)


def train_main(task: SB3Task, settings_class: type, argv: Sequence[str] | None = None, *, description: str = "") -> int:
    """The command line of a training script: one run of a method on ``task``, or the
    continuation of a checkpoint (``--resume``); prints what it learnt."""
    options, settings = parse_several((TrainOptions, settings_class), sys.argv[1:] if argv is None else argv, description=description)
    try:
        outcome = _train_or_resume(task, settings, options)
    except (RudderError, ValueError) as error:  # bad demonstrations or checkpoint: say what, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    _report(outcome)
    if options.png and isinstance(outcome.redistributor, AlignmentRedistributor):
        from rudder.viz import plot_redistributor_alignment

        plot_redistributor_alignment(outcome.redistributor, options.png)
        print(f"Drew {options.png}.")
    if options.checkpoint:
        print(f"Saved {options.checkpoint}.")
    return 0


def _logger(settings: Any, options: TrainOptions) -> Any:
    """The SB3 logger of ``--log-to``, or None (SB3's default, with ``--tensorboard``)."""
    if not options.log_to:
        return None
    from rudder.experiments.loggers import make_logger

    config = {**dataclasses.asdict(settings), **{f"option/{key}": value for key, value in dataclasses.asdict(options).items()}}
    run_name = f"{options.method}-seed{options.seed}"
    return make_logger(options.log_to, folder=options.tensorboard or "runs", run_name=run_name, config=config)


def _train_or_resume(task: SB3Task, settings: Any, options: TrainOptions) -> Any:
    """The run's :class:`~rudder.agents.sb3.SB3RunResult`: a new run, or ``--resume``'s."""
    logger = _logger(settings, options)
    if options.resume is not None:
        from rudder.agents.sb3 import read_checkpoint_record, resume_sb3

        record = read_checkpoint_record(options.resume)
        print(f"Resumed {options.resume} at {record['num_timesteps']:,} env steps ({record['metadata'].get('method', '?')}).")
        return resume_sb3(
            task.make_env(settings),
            options.resume,
            settings=task.run_settings(settings, options.method),
            seed=options.seed,
            save_to=options.checkpoint,
            encoder_overrides=task.encoder_overrides(settings),
            tensorboard_log=options.tensorboard,
            progress_bar=options.progress_bar,
            final_evaluation=task.final_evaluation(settings, options.seed),
            logger=logger,
        )
    job = Job({}, settings, budget=0, demos_file=options.demos_file)
    return run_sb3_task(
        task, settings, method=options.method, n_demos=options.demos, seed=options.seed, job=job,
        checkpoint=options.checkpoint, tensorboard_log=options.tensorboard, progress_bar=options.progress_bar,
        logger=logger,
    )
