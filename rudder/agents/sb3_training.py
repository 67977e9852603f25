"""One training run with stable-baselines3: PPO, BC, BC+PPO or Align-RUDDER.

- ``ppo``: PPO from scratch on the env reward.
- ``bc``: behaviour cloning only (no env steps).
- ``bc-ppo``: behaviour cloning, then PPO on the env reward.
- ``align-rudder``: behaviour cloning, then PPO on the redistributed reward, with profile
  progress in the observation (so that the redistributed reward is Markov). With
  ``subtask_agents``, one policy per consensus sub-goal, handed over by the inventory
  (:mod:`rudder.agents.subtasks`, the paper's MineRL agent).

The envs are built with ``make_vec_env``: ``Monitor`` sits on the env (true returns in
``ep_rew_mean``), the redistribution above it. Training stops when the success rate of
the evaluation episodes reaches the target, or at the budget.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from rudder.agents.callbacks import RedistributionLogger, SuccessEvaluation, evaluate_success
from rudder.agents.cloning import BehaviorCloningSettings, behavior_cloning
from rudder.agents.ppo import PPOSettings, make_ppo, save_checkpoint
from rudder.data.episode import Episode
from rudder.errors import DataFormatError
from rudder.events.base import EventEncoder
from rudder.wrappers.progress import ProfileProgressObservation, add_progress
from rudder.wrappers.reward import RedistributedReward, TimeLimitAsTermination

SB3_METHODS = ("ppo", "bc", "bc-ppo", "align-rudder")


def redistribution_wrapper(env: gym.Env, redistributor, progress: Literal["box", "dict"] | None = "box") -> gym.Env:
    """``RedistributedReward`` (+ ``ProfileProgressObservation`` unless ``progress`` is
    None): pass as ``make_vec_env(..., wrapper_class=redistribution_wrapper,
    wrapper_kwargs={"redistributor": r})`` so that ``Monitor`` stays below."""
    env = RedistributedReward(env, redistributor)
    if progress is not None:
        env = ProfileProgressObservation(env, mode=progress)
    return env


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """One run's settings.

    Attributes:
        method: one of :data:`SB3_METHODS`.
        total_timesteps: env-step budget of PPO.
        n_envs: parallel training envs.
        subprocess: run the envs in subprocesses (``SubprocVecEnv``).
        progress_observation: add profile progress to the observation (align-rudder).
        subtask_agents: one policy per consensus sub-goal (align-rudder). The controller
            counts the events of each step from ``info[subtask_change_key]``.
        subtask_change_key: the info entry with the per-step counts of the sub-goal
            events: ``"inventory_change"`` for an :class:`~rudder.events.InventoryEncoder`
            (the crafting world), ``"interaction_change"`` for minigrid.
        subtask_items: names of that entry's elements (None: the encoder's ``items``).
        subtask_returns: with ``subtask_agents``, each agent's return ends with its
            sub-task (:class:`~rudder.agents.subtasks.SubtaskBoundaries`).
        keep_cloning: weight of behaviour-cloning steps between PPO updates (0: none;
            :class:`~rudder.agents.cloning.CloningRegularizer`), for methods that clone.
        goal_payments: with ``subtask_agents``, pay each consensus sub-goal its share of
            the demonstrations' redistributed return when it is reached, instead of the
            step-wise redistributed reward (:class:`~rudder.agents.subtasks.SubtaskReward`).
        settle_terminated: with ``goal_payments``, the terminating step also pays the
            true return minus what was paid (False: the sub-goals only, for returns that
            depend on time, such as minigrid's).
        env_reward_weight: mix of env reward into the redistributed reward (align-rudder).
        time_limit_as_termination: end episodes at the env's step limit without
            bootstrapping (:class:`~rudder.wrappers.TimeLimitAsTermination`, all methods).
        eval_every: env steps between evaluations.
        eval_episodes: episodes per evaluation.
        target_success: success rate that ends the run (None: run the whole budget).
        deterministic_eval: greedy evaluation actions.
        ppo: PPO hyperparameters.
        behavior_cloning: behaviour-cloning settings (bc, bc-ppo, align-rudder).
        redistribution: ``AlignmentRedistributor`` settings (align-rudder).
    """

    method: str = "align-rudder"
    total_timesteps: int = 500_000
    n_envs: int = 8
    subprocess: bool = False
    progress_observation: bool = True
    subtask_agents: bool = False
    subtask_change_key: str = "inventory_change"
    subtask_items: tuple[str, ...] | None = None
    subtask_returns: bool = True
    goal_payments: bool = True
    settle_terminated: bool = True
    keep_cloning: float = 0.0
    env_reward_weight: float = 0.0
    time_limit_as_termination: bool = False
    eval_every: int = 10_000
    eval_episodes: int = 50
    target_success: float | None = 0.8
    deterministic_eval: bool = False
    ppo: PPOSettings = PPOSettings()
    behavior_cloning: BehaviorCloningSettings = BehaviorCloningSettings()
    redistribution: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in SB3_METHODS:
            raise ValueError(f"`method` must be one of {SB3_METHODS}, got {self.method!r}")
        if self.subtask_agents and self.method != "align-rudder":
            raise ValueError(f"`subtask_agents` needs method 'align-rudder', got {self.method!r}")
        if self.total_timesteps < 0 or self.n_envs < 1:
            raise ValueError("`total_timesteps` must be >= 0 and `n_envs` >= 1")


@dataclasses.dataclass
class RunOutcome:
    """What a run gives back.

    Attributes:
        reached_at: env steps when the evaluation success rate first reached the target
            (0: before any PPO step), or None if it never did within the budget.
        curve: ``(env steps, success rate, mean return)`` per evaluation.
        timesteps: env steps taken.
        seconds: wall time.
        model: the PPO model (for ``bc``, untrained by PPO: only its policy was cloned).
        redistributor: the fitted redistributor (align-rudder) or None.
        controller: the sub-task controller (``subtask_agents``) or None.
        final: what ``final_evaluation`` returned, or None.
    """

    reached_at: int | None
    curve: list[tuple[int, float, float]]
    timesteps: int
    seconds: float
    model: Any = None
    redistributor: Any = None
    controller: Any = None
    final: Any = None


def subtask_wrapper(
    env: gym.Env,
    redistributor,
    controller,
    progress: Literal["box"] | None = "box",
    goal_rewards=None,
    change_key: str = "inventory_change",
    settle_terminated: bool = True,
) -> gym.Env:
    """:func:`redistribution_wrapper`, then the sub-task one-hot
    (:class:`~rudder.agents.subtasks.SubtaskObservation`) and, given ``goal_rewards``,
    rewards for the consensus sub-goals (:class:`~rudder.agents.subtasks.SubtaskReward`);
    ``change_key`` names the info entry of the per-step event counts."""
    from rudder.agents.subtasks import SubtaskObservation, SubtaskReward

    env = SubtaskObservation(redistribution_wrapper(env, redistributor, progress), controller, change_key=change_key)
    if goal_rewards is None:
        return env
    return SubtaskReward(env, controller, goal_rewards, change_key=change_key, settle_terminated=settle_terminated)


def subtask_wrapper_from_checkpoint(path, redistributor) -> tuple[Callable[[gym.Env], gym.Env], Any, bool] | None:
    """What a checkpoint of sub-task agents needs to be trained on again.

    Args:
        path: a checkpoint directory written by :func:`train_sb3` with ``subtask_agents``.
        redistributor: its redistributor (:func:`~rudder.agents.load_redistributor_from_checkpoint`).

    Returns:
        ``(wrapper, controller, subtask_returns)``: the env wrapper
        (:func:`subtask_wrapper` with the saved sub-goal payments), the controller, and
        whether each agent's return ends with its sub-task (add
        :class:`~rudder.agents.subtasks.SubtaskBoundaries` when training); None when the
        checkpoint holds no sub-task agents.
    """
    from rudder.agents.ppo import read_checkpoint_record
    from rudder.agents.subtasks import SubtaskController

    saved = read_checkpoint_record(path).get("metadata", {}).get("subtasks")
    if saved is None:
        return None
    if redistributor is None:
        raise DataFormatError(f"{str(path)!r} holds sub-task agents but no redistributor; the checkpoint is incomplete")
    controller = SubtaskController.from_redistributor(redistributor, items=saved["items"])
    return _saved_subtask_wrapper(saved, redistributor, controller), controller, bool(saved["subtask_returns"])


def _saved_subtask_wrapper(saved: dict[str, Any], redistributor, controller) -> Callable[[gym.Env], gym.Env]:
    """:func:`subtask_wrapper` with the settings a checkpoint keeps (``metadata["subtasks"]``)."""
    goal_values = None if saved["goal_rewards"] is None else np.asarray(saved["goal_rewards"], dtype=np.float64)
    return functools.partial(
        subtask_wrapper,
        redistributor=redistributor,
        controller=controller,
        progress=saved["progress"],
        goal_rewards=goal_values,
        change_key=saved["change_key"],
        settle_terminated=saved["settle_terminated"],
    )


def _limited(make_env: Callable[[], gym.Env]) -> gym.Env:
    return TimeLimitAsTermination(make_env())


def _make_venv(make_env: Callable[[], gym.Env], settings: RunSettings, *, seed: int, wrapper=None) -> VecEnv:
    if settings.time_limit_as_termination:
        make_env = functools.partial(_limited, make_env)
    return make_vec_env(
        make_env,
        n_envs=settings.n_envs,
        seed=seed,
        vec_env_cls=SubprocVecEnv if settings.subprocess else DummyVecEnv,
        wrapper_class=wrapper,
    )


def train_sb3(
    make_env: Callable[[], gym.Env],
    demonstrations: Sequence[Episode],
    *,
    settings: RunSettings | None = None,
    encoder: EventEncoder | None = None,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    tensorboard_log: str | None = None,
    progress_bar: bool = False,
    verbose: int = 0,
    final_evaluation: Callable[[Any, VecEnv], Any] | None = None,
    cloning_augmentation: Callable[[Episode], Episode] | None = None,
) -> RunOutcome:
    """Trains one method on the env that ``make_env()`` builds.

    Args:
        make_env: builds one env (picklable, e.g. ``functools.partial``, for subprocesses).
        demonstrations: recorded through ``make_env()`` (unused by ``ppo``).
        settings: see :class:`RunSettings`.
        encoder: the unfitted event encoder (align-rudder).
        seed: seeds PPO, the envs, behaviour cloning and the evaluation episodes.
        checkpoint: directory to save the final model to (model + redistributor).
        tensorboard_log: TensorBoard directory.
        progress_bar: SB3's progress bar (and one for behaviour cloning).
        verbose: SB3 verbosity.
        final_evaluation: ``final_evaluation(model, eval_env)`` after training; its result
            is :attr:`RunOutcome.final`.
        cloning_augmentation: maps a demonstration (as the agent observes it, with
            progress and sub-task features) to an extra one that behaviour cloning also
            fits, with the same value targets: for example
            :func:`rudder.envs.craft.mirror_episode`. The alignment sees the originals only.
    """
    from rudder.redistribution import AlignmentRedistributor

    settings = settings or RunSettings()
    started = time.perf_counter()
    redistributor = None
    wrapper = None
    training_demos = list(demonstrations)
    value_rewards = None
    return_ends = None
    controller = None
    subtask_metadata: dict[str, Any] = {}
    ppo_settings = settings.ppo
    if settings.method == "align-rudder":
        if encoder is None:
            raise ValueError("method 'align-rudder' needs an event `encoder`")
        redistribution = {"env_reward_weight": settings.env_reward_weight, **settings.redistribution}
        redistributor = AlignmentRedistributor(encoder, **redistribution).fit(training_demos)
        value_rewards = [redistributor.redistribute(episode) for episode in training_demos]
        progress = "box" if settings.progress_observation else None
        if progress is not None:
            training_demos = add_progress(training_demos, redistributor, mode=progress)
        wrapper = functools.partial(redistribution_wrapper, redistributor=redistributor, progress=progress)
        if settings.subtask_agents:
            from rudder.agents.subtasks import (
                SubtaskController,
                add_subtasks,
                goal_rewards,
                pay_for_goals,
            )

            key = settings.subtask_change_key
            items = settings.subtask_items if settings.subtask_items is not None else getattr(encoder, "items", None)
            if items is None:
                raise ValueError(
                    "`subtask_agents` needs the names of the entries of "
                    f"info[{key!r}]: set RunSettings.subtask_items (the encoder has no `items`)"
                )
            controller = SubtaskController.from_redistributor(redistributor, items=items)
            shares = None
            settle = settings.settle_terminated
            if settings.goal_payments:
                shares = goal_rewards(controller, training_demos, value_rewards, change_key=key)
                value_rewards = [
                    pay_for_goals(controller, shares, episode, change_key=key, settle_terminated=settle)
                    for episode in training_demos
                ]
            if settings.subtask_returns:
                traces = [controller.trace(episode.infos[key]) for episode in training_demos]
                return_ends = [trace[1:] != trace[:-1] for trace in traces]
            training_demos = add_subtasks(training_demos, controller, change_key=key)
            saved = {
                "items": list(items),
                "change_key": key,
                "goal_rewards": None if shares is None else [float(value) for value in shares],
                "settle_terminated": settle,
                "subtask_returns": settings.subtask_returns,
                "progress": progress,
            }
            # The wrapper is built from what the checkpoint keeps, so a resumed run gets the same one.
            wrapper = _saved_subtask_wrapper(saved, redistributor, controller)
            subtask_metadata = {"subtasks": saved}
            ppo_settings = dataclasses.replace(
                settings.ppo, policy="SubtaskPolicy", num_subtasks=controller.num_subtasks
            )

    venv = _make_venv(make_env, settings, seed=seed, wrapper=wrapper)
    eval_env = _make_venv(make_env, dataclasses.replace(settings, subprocess=False), seed=seed + 10_000, wrapper=wrapper)
    try:
        model = make_ppo(venv, ppo_settings, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose)
        if settings.method != "ppo":
            cloned, cloned_rewards, cloned_ends = training_demos, value_rewards, return_ends
            if cloning_augmentation is not None:
                cloned = training_demos + [cloning_augmentation(episode) for episode in training_demos]
                cloned_rewards = None if value_rewards is None else list(value_rewards) * 2
                cloned_ends = None if return_ends is None else list(return_ends) * 2
            behavior_cloning(
                model.policy,
                cloned,
                rewards=cloned_rewards,
                return_ends=cloned_ends,
                settings=dataclasses.replace(settings.behavior_cloning, gamma=ppo_settings.gamma),
                seed=seed,
                progress_bar=progress_bar,
            )
        evaluation = SuccessEvaluation(
            eval_env,
            every=settings.eval_every,
            num_episodes=settings.eval_episodes,
            stop_at=settings.target_success,
            deterministic=settings.deterministic_eval,
            seed=seed + 20_000,
        )
        callbacks = [evaluation]
        if redistributor is not None:
            callbacks.append(RedistributionLogger())
        if settings.keep_cloning > 0 and settings.method != "ppo":
            from rudder.agents.callbacks import KeepCloning
            from rudder.agents.cloning import CloningRegularizer

            callbacks.append(
                KeepCloning(CloningRegularizer(model.policy, cloned, weight=settings.keep_cloning, seed=seed))
            )
        if controller is not None and settings.subtask_returns:
            from rudder.agents.subtasks import SubtaskBoundaries

            callbacks.append(SubtaskBoundaries(controller.num_subtasks))
        budget = 0 if settings.method == "bc" else settings.total_timesteps
        if budget > 0:
            model.learn(budget, callback=CallbackList(callbacks), progress_bar=progress_bar)
        else:
            result = evaluate_success(
                model,
                eval_env,
                num_episodes=settings.eval_episodes,
                deterministic=settings.deterministic_eval,
                seed=seed + 20_000,
            )
            evaluation.curve.append((0, result["success_rate"], result["mean_return"]))
            if settings.target_success is not None and result["success_rate"] >= settings.target_success:
                evaluation.reached_at = 0
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                model,
                ppo_settings,
                redistributor=redistributor,
                seed=seed,
                metadata={"method": settings.method, **subtask_metadata},
            )
        final = final_evaluation(model, eval_env) if final_evaluation is not None else None
        return RunOutcome(
            reached_at=evaluation.reached_at,
            curve=evaluation.curve,
            timesteps=int(model.num_timesteps),
            seconds=time.perf_counter() - started,
            model=model,
            redistributor=redistributor,
            controller=controller,
            final=final,
        )
    finally:
        venv.close()
        eval_env.close()


__all__ = [
    "SB3_METHODS",
    "RunOutcome",
    "RunSettings",
    "redistribution_wrapper",
    "subtask_wrapper",
    "subtask_wrapper_from_checkpoint",
    "train_sb3",
]
