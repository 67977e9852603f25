"""One training run with stable-baselines3: PPO, BC, BC+PPO, Align-RUDDER or RUDDER's LSTM.

- ``ppo``: PPO from scratch on the env reward.
- ``bc``: behaviour cloning only (no env steps).
- ``bc-ppo``: behaviour cloning, then PPO on the env reward.
- ``align-rudder``: behaviour cloning, then PPO on the redistributed reward, with profile
  progress in the observation (so that the redistributed reward is Markov). With
  ``subtask_agents``, one policy per consensus sub-goal, handed over by the inventory
  (:mod:`rudder.agents.subtasks`, the paper's MineRL agent).
- ``rudder-lstm``: behaviour cloning, then PPO on the reward redistributed by RUDDER's
  LSTM (:class:`~rudder.redistribution.lstm.LSTMRedistributor`), which keeps learning
  from a lessons buffer that starts with the demonstrations
  (:class:`~rudder.agents.sb3.callbacks.RudderTraining`). Until the LSTM passes its
  quality gate the agent is paid the env reward, so the run starts as BC+PPO.

The envs are built with ``make_vec_env``: ``Monitor`` sits on the env (true returns in
``ep_rew_mean``), the redistribution above it. Training stops when the success rate of
the evaluation episodes reaches the target, or at the budget.

:func:`train_sb3` runs in named steps: :func:`_prepare` (the redistributor, the env
wrapper and what behaviour cloning fits), :func:`_clone`, :func:`_callbacks` and
:func:`_learn`. :func:`resume_sb3` continues a checkpoint with the same venvs and
callbacks (the same evaluation seed and determinism).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from rudder.agents.needs import demonstration_needs, need_interrupts
from rudder.agents.reflexes import demonstration_reflexes, reflex_interrupt
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
    load_redistributor_from_checkpoint,
    read_checkpoint_record,
    save_checkpoint,
    subtask_wrapper_from_checkpoint,
    subtask_wrapper_from_metadata,
)
from rudder.agents.sb3.cloning import CloningRegularizer, augment_demonstrations, behavior_cloning
from rudder.agents.sb3.evaluation import evaluate_success
from rudder.agents.sb3.ppo import make_ppo
from rudder.agents.sb3.safeguards import GateRedistribution, ValueWarmup
from rudder.agents.sb3.settings import (
    CLONING_TRIAL_FRACTIONS,
    SUBTASK_AGENTS_MAX_CLONED_SUCCESS,
    SUBTASK_AGENTS_MIN_GOALS,
    SUBTASK_AGENTS_PROBE_SIGNIFICANCE,
    PPOSettings,
    SB3RunSettings,
)
from rudder.agents.subtasks import (
    SubtaskController,
    add_subtasks,
    goal_rewards,
    pay_for_goals,
    rewards_are_immediate,
)
from rudder.data.episode import Episode
from rudder.events.base import EventEncoder
from rudder.redistribution.alignment import AlignmentRedistributor
from rudder.redistribution.base import Redistributor
from rudder.redistribution.lessons import LessonsBuffer
from rudder.redistribution.lstm import LSTMRedistributor
from rudder.wrappers.compose import redistribution_wrapper
from rudder.wrappers.progress import add_progress
from rudder.wrappers.reward import RedistributedReward, TimeLimitAsTermination

__all__ = ["SB3RunResult", "choose_subtask_agents", "resume_sb3", "train_sb3"]

#: ``train_sb3(cloning_augmentation=...)``: a demonstration to one extra episode, or a
#: list of them, that behaviour cloning also fits.
Augmentation = Callable[[Episode], "Episode | Sequence[Episode]"]

#: ``final_evaluation(model, eval_env)`` after training.
FinalEvaluation = Callable[[PPO, VecEnv], Any]


@dataclasses.dataclass
class SB3RunResult:
    """What a :func:`train_sb3` or :func:`resume_sb3` run gives back.

    Attributes:
        reached_at: env steps when the evaluation success rate first reached the target
            (0: before any PPO step), or None if it never did within the budget.
        curve: ``(env steps, success rate, mean return)`` per evaluation.
        timesteps: env steps taken (in all, for a resumed run).
        seconds: wall time.
        model: the PPO model (for ``bc``, untrained by PPO: only its policy was cloned).
        redistributor: the fitted redistributor (align-rudder) or None.
        controller: the sub-task controller (``subtask_agents``) or None.
        final: what ``final_evaluation`` returned, or None.
        gate: ``(env steps, weight, concordance)`` of the redistribution gate after each
            rollout (:class:`~rudder.agents.sb3.safeguards.GateRedistribution`), empty
            without a gate.
        probe_success: the success of the cloned network on its first training episodes,
            where the rule of ``subtask_agents=None`` probed it
            (:data:`~rudder.agents.sb3.settings.SUBTASK_AGENTS_MAX_CLONED_SUCCESS`), else None.
        probe_episodes: how many episodes the probe counted, or None.
        subtask_env_reward: the multiple of the env reward the sub-task agents were paid
            besides their sub-goals (``SB3RunSettings.subtask_env_reward`` as chosen), or
            None without sub-task agents.
        cloning_trials: with ``SB3RunSettings.cloning_trials``, ``(epochs, success rate,
            mean return, env steps)`` of each tried number of cloning epochs (of the last
            cloning, where the rule of ``subtask_agents=None`` cloned twice); else empty.
        cloning_epochs: the number of cloning epochs the run went on with, or None for
            ``ppo``.
        net_arch: the hidden layer sizes of the networks trained (as chosen where
            ``settings.ppo.net_arch`` is None).
    """

    reached_at: int | None
    curve: list[tuple[int, float, float]]
    timesteps: int
    seconds: float
    model: PPO | None = None
    redistributor: Redistributor | None = None
    controller: SubtaskController | None = None
    final: Any = None
    gate: list[tuple[int, float, float | None]] = dataclasses.field(default_factory=list)
    probe_success: float | None = None
    probe_episodes: int | None = None
    subtask_env_reward: float | None = None
    cloning_trials: list[tuple[int, float, float, int]] = dataclasses.field(default_factory=list)
    cloning_epochs: int | None = None
    net_arch: tuple[int, ...] = ()


def _gate_history(callbacks: Sequence[BaseCallback]) -> list[tuple[int, float, float | None]]:
    gates = [callback for callback in callbacks if isinstance(callback, GateRedistribution)]
    return list(gates[0].history) if gates else []


@dataclasses.dataclass
class Prepared:
    """What a run trains with, besides the env (the result of :func:`_prepare`).

    Attributes:
        demonstrations: what behaviour cloning fits, as the agent observes them (with
            progress and sub-task features where the env has them).
        ppo: the PPO settings (``SubtaskPolicy`` for sub-task agents).
        value_rewards: per demonstration, shape (T,): the rewards of the value targets
            (None: the demonstrations' own rewards).
        return_ends: per demonstration, shape (T,): where each value target's return
            stops (sub-task boundaries), or None.
        redistributor: the fitted redistributor (align-rudder), RUDDER's LSTM
            (rudder-lstm) or None.
        wrapper: the ``make_vec_env`` wrapper class, or None.
        controller: the sub-task controller, or None.
        training: the callback that keeps RUDDER's LSTM learning (rudder-lstm), or None.
        metadata: what the checkpoint keeps besides the method (``{"subtasks": ...}``).
    """

    demonstrations: list[Episode]
    ppo: PPOSettings
    value_rewards: list[np.ndarray] | None = None
    return_ends: list[np.ndarray] | None = None
    redistributor: Redistributor | None = None
    wrapper: Callable[[gym.Env], gym.Env] | None = None
    controller: SubtaskController | None = None
    training: RudderTraining | None = None
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    probe: bool = False


def _limited(make_env: Callable[[], gym.Env]) -> gym.Env:
    return TimeLimitAsTermination(make_env())


def _cut_short(make_env: Callable[[], gym.Env], max_steps: int) -> gym.Env:
    return gym.wrappers.TimeLimit(make_env(), max_episode_steps=max_steps)


def _make_venv(
    make_env: Callable[[], gym.Env],
    settings: SB3RunSettings,
    *,
    seed: int,
    wrapper: Callable[[gym.Env], gym.Env] | None = None,
) -> VecEnv:
    if settings.time_limit_as_termination:
        make_env = functools.partial(_limited, make_env)
    return make_vec_env(
        make_env,
        n_envs=settings.n_envs,
        seed=seed,
        vec_env_cls=SubprocVecEnv if settings.subprocess else DummyVecEnv,
        wrapper_class=wrapper,
    )


def _prepare(
    demonstrations: Sequence[Episode],
    settings: SB3RunSettings,
    encoder: EventEncoder | None,
    *,
    make_env: Callable[[], gym.Env],
    seed: int,
    augmentation: Augmentation | None = None,
) -> Prepared:
    """The demonstrations and settings of a method; align-rudder fits its redistributor,
    rudder-lstm builds its LSTM and lessons buffer."""
    if settings.method == "align-rudder":
        return _prepare_align_rudder(demonstrations, settings, encoder, augmentation=augmentation)
    if settings.method == "rudder-lstm":
        return _prepare_rudder_lstm(demonstrations, settings, make_env=make_env, seed=seed)
    return Prepared(demonstrations=list(demonstrations), ppo=settings.ppo)


def _prepare_rudder_lstm(
    demonstrations: Sequence[Episode], settings: SB3RunSettings, *, make_env: Callable[[], gym.Env], seed: int
) -> Prepared:
    """RUDDER's LSTM (untrained: its quality gate passes the env reward until it learns)
    and a lessons buffer that starts with the demonstrations, from which
    :class:`~rudder.agents.sb3.callbacks.RudderTraining` retrains the LSTM on the agent's
    own episodes too. The LSTM is seeded with ``seed`` unless ``settings.lstm`` says otherwise."""
    probe = make_env()
    try:
        observation_space, action_space = probe.observation_space, probe.action_space
    finally:
        probe.close()
    redistributor = LSTMRedistributor(observation_space, action_space, **{"seed": seed, **settings.lstm})
    lessons = LessonsBuffer(256, seed=seed)
    for episode in demonstrations:
        lessons.add(episode)  # priority inf: replayed first, like every new episode
    return Prepared(
        demonstrations=list(demonstrations),
        ppo=settings.ppo,
        redistributor=redistributor,
        wrapper=functools.partial(RedistributedReward, redistributor=redistributor, record_episodes=True),
        training=RudderTraining(redistributor, buffer=lessons),
        # the policy sees the env's own observation (no profile progress)
        metadata={"progress": None},
    )


def _subtask_items(settings: SB3RunSettings, encoder: EventEncoder) -> Sequence[str] | None:
    """The names of the entries of ``info[settings.subtask_change_key]``, or None if unknown."""
    if settings.subtask_items is not None:
        return settings.subtask_items
    items = getattr(encoder, "items", None)
    return None if items is None else list(items)


def choose_subtask_agents(redistributor: AlignmentRedistributor, items: Sequence[str] | None) -> bool | None:
    """The rule of ``SB3RunSettings(subtask_agents=None)``, before any env step.

    Returns:
        False (one network) when the env does not name its events (``items`` is None);
        True (sub-task agents) for a consensus of at least
        :data:`~rudder.agents.sb3.settings.SUBTASK_AGENTS_MIN_GOALS` sub-goals; None for a
        shorter one: one network is cloned, and its success on its first training episodes
        decides (:data:`~rudder.agents.sb3.settings.SUBTASK_AGENTS_MAX_CLONED_SUCCESS`).
    """
    if items is None:
        return False
    if len(redistributor.profile.consensus) >= SUBTASK_AGENTS_MIN_GOALS:
        return True
    return None


def _payment_form(settings: SB3RunSettings, *, subtasks: bool) -> dict[str, Any]:
    """How the agent is paid: one network in the "potential" form with PPO's gamma,
    sub-task agents from the "difference" form (their sub-goal payments), unless
    ``settings.redistribution`` names the form or the discount itself."""
    form: dict[str, Any] = {"form": "difference"} if subtasks else {"form": "potential", "discount": settings.ppo.gamma}
    chosen = {key: value for key, value in settings.redistribution.items() if key in ("form", "discount")}
    return {**form, **chosen}


def _prepare_align_rudder(
    demonstrations: Sequence[Episode],
    settings: SB3RunSettings,
    encoder: EventEncoder | None,
    *,
    redistributor: AlignmentRedistributor | None = None,
    augmentation: Augmentation | None = None,
) -> Prepared:
    """Fits the redistributor (unless given one already fitted on ``demonstrations``) and
    chooses one network or sub-task agents; the value targets are the redistributed
    rewards, and the agent sees profile progress if asked (and, with sub-task agents, the
    sub-task)."""
    if encoder is None:
        raise ValueError("method 'align-rudder' needs an event `encoder`")
    if redistributor is None:
        redistribution = {"env_reward_weight": settings.env_reward_weight, **settings.redistribution}
        redistributor = AlignmentRedistributor(encoder, **redistribution).fit(list(demonstrations))
    items = _subtask_items(settings, encoder)  # a fitted encoder knows its items
    subtasks = settings.subtask_agents
    probe = False
    if subtasks is None:
        chosen = choose_subtask_agents(redistributor, items)
        probe, subtasks = chosen is None, bool(chosen)
    interrupt = settings.subtask_interrupt
    if (interrupt is not None or settings.reflex_agent is True or settings.need_agents) and not subtasks and not probe:
        what = (
            f"the sub-task interrupt {interrupt.name!r}"
            if interrupt is not None
            else "the reflex agent" if settings.reflex_agent is True else "the need agents"
        )
        warnings.warn(
            f"one network was chosen, so {what} is not used (set subtask_agents=True to have it)",
            stacklevel=2,
        )
    # The form and its discount shape the payments only, not the fit (profile and scale):
    # chosen after the fit, because the choice of agents needs the consensus.
    redistributor.settings = dataclasses.replace(redistributor.settings, **_payment_form(settings, subtasks=subtasks))
    training_demos = list(demonstrations)
    value_rewards = [redistributor.redistribute(episode) for episode in training_demos]
    progress: Literal["box"] | None = "box" if settings.progress_observation else None
    if progress is not None:
        training_demos = add_progress(training_demos, redistributor, mode=progress)
    prepared = Prepared(
        demonstrations=training_demos,
        ppo=settings.ppo,
        value_rewards=value_rewards,
        redistributor=redistributor,
        wrapper=functools.partial(redistribution_wrapper, redistributor=redistributor, progress=progress),
        # the observation the policy was built for: a resumed run must give it the same
        metadata={"progress": progress},
        probe=probe,
    )
    if subtasks:
        return _prepare_subtasks(prepared, redistributor, settings, items, progress=progress, augmentation=augmentation)
    return prepared


def _prepare_subtasks(
    prepared: Prepared,
    redistributor: AlignmentRedistributor,
    settings: SB3RunSettings,
    items: Sequence[str] | None,
    *,
    progress: Literal["box"] | None,
    augmentation: Augmentation | None = None,
) -> Prepared:
    """One agent per consensus sub-goal: the controller, the sub-goal payments, the
    sub-task one-hot, and the wrapper rebuilt from what the checkpoint keeps. With
    ``settings.reflex_augmentation`` (the default) the search for reflexes also sees the
    images ``augmentation`` makes of the demonstrations (the reflex agent is cloned on them)."""
    key = settings.subtask_change_key
    if items is None:
        raise ValueError(
            "`subtask_agents` needs the names of the entries of "
            f"info[{key!r}]: set SB3RunSettings.subtask_items (the encoder has no `items`)"
        )
    interrupt = settings.subtask_interrupt
    training_demos = prepared.demonstrations
    plain = SubtaskController.from_redistributor(redistributor, items=items)
    if interrupt is None and settings.reflex_agent is not False:
        seen = list(training_demos)
        if augmentation is not None and settings.reflex_augmentation:
            seen += augment_demonstrations(seen, augmentation)[0]
        interrupt = reflex_interrupt(demonstration_reflexes(plain, seen, change_key=key))
    interrupts = [] if interrupt is None else [interrupt]
    if settings.need_agents:
        interrupts += need_interrupts(demonstration_needs(plain, training_demos, change_key=key))
    controller = SubtaskController.from_redistributor(redistributor, items=items, interrupt=interrupts)
    value_rewards = prepared.value_rewards
    return_ends = None
    shares = None
    settle = settings.settle_terminated
    env_reward = settings.subtask_env_reward if settings.goal_payments else 0.0
    if env_reward is None:
        env_reward = 1.0 if rewards_are_immediate(training_demos) else 0.0
    if settings.goal_payments:
        assert value_rewards is not None
        shares = goal_rewards(controller, training_demos, value_rewards, change_key=key)
        value_rewards = [
            pay_for_goals(
                controller, shares, episode, change_key=key, settle_terminated=settle, env_reward_weight=env_reward
            )
            for episode in training_demos
        ]
    if settings.subtask_returns and not settings.subtask_bootstrap:
        traces = [controller.trace(episode.infos[key], episode.observations) for episode in training_demos]
        return_ends = [trace[1:] != trace[:-1] for trace in traces]
    saved = {
        "items": list(items),
        "change_key": key,
        "goal_rewards": None if shares is None else [float(value) for value in shares],
        "settle_terminated": settle,
        "env_reward_weight": env_reward,
        "subtask_returns": settings.subtask_returns,
        "subtask_bootstrap": settings.subtask_bootstrap,
        "progress": progress,
        "interrupts": [interrupt.to_dict() for interrupt in controller.interrupts],
    }
    return Prepared(
        demonstrations=add_subtasks(training_demos, controller, change_key=key),
        ppo=dataclasses.replace(settings.ppo, policy="SubtaskPolicy", num_subtasks=controller.num_subtasks),
        value_rewards=value_rewards,
        return_ends=return_ends,
        redistributor=redistributor,
        # The wrapper is built from what the checkpoint keeps, so a resumed run gets the same one.
        wrapper=subtask_wrapper_from_metadata(saved, redistributor, controller),
        controller=controller,
        metadata={**prepared.metadata, "subtasks": saved},
    )


def _clone(
    model: PPO,
    prepared: Prepared,
    settings: SB3RunSettings,
    *,
    seed: int,
    progress_bar: bool,
    augmentation: Augmentation | None,
    trials: bool = False,
) -> tuple[list[Episode], int, dict[int, dict[str, Any]]]:
    """Behaviour cloning of ``model.policy``; returns the episodes it fitted, the number of
    epochs of the fit and, with ``trials``, copies of the policy's state after each number
    of epochs of :func:`trial_epochs`."""
    cloned, cloned_rewards, cloned_ends = prepared.demonstrations, prepared.value_rewards, prepared.return_ends
    groups = list(range(len(cloned)))
    if augmentation is not None:
        # each image keeps its episode's value targets and is held out with it
        images, origins = augment_demonstrations(cloned, augmentation)
        cloned = list(cloned) + images
        cloned_rewards = None if cloned_rewards is None else list(cloned_rewards) + [cloned_rewards[i] for i in origins]
        cloned_ends = None if cloned_ends is None else list(cloned_ends) + [cloned_ends[i] for i in origins]
        groups = groups + origins
    kept: dict[int, dict[str, Any]] = {}
    keep = trial_epochs(settings.behavior_cloning.epochs_for(sum(episode.length for episode in cloned))) if trials else []

    def keep_state(epochs: int) -> None:
        if epochs in keep:
            kept[epochs] = copy.deepcopy(model.policy.state_dict())

    history = behavior_cloning(
        model.policy,
        cloned,
        rewards=cloned_rewards,
        return_ends=cloned_ends,
        groups=groups,
        settings=dataclasses.replace(settings.behavior_cloning, gamma=prepared.ppo.gamma),
        seed=seed,
        progress_bar=progress_bar,
        on_epoch=keep_state if keep else None,
    )
    return cloned, len(history["policy_loss"]), kept


#: ``SB3RunSettings(cloning_trials=...)`` ends a trial episode after this many times the
#: longest demonstration's steps (a clone that lingers costs no more env steps than that).
TRIAL_STEPS_PER_DEMONSTRATION_STEP = 5


def trial_epochs(epochs: int) -> list[int]:
    """The numbers of cloning epochs that ``SB3RunSettings(cloning_trials=...)`` tries
    for ``behavior_cloning.epochs == epochs``: :data:`CLONING_TRIAL_FRACTIONS` of it,
    rounded, at least 1, without repeats, ascending."""
    return sorted({max(1, round(fraction * epochs)) for fraction in CLONING_TRIAL_FRACTIONS}) if epochs > 0 else []


def _try_clones(
    model: PPO,
    kept: dict[int, dict[str, Any]],
    trial_env: VecEnv,
    settings: SB3RunSettings,
    *,
    seed: int,
) -> tuple[int, list[tuple[int, float, float, int]]]:
    """Plays ``settings.cloning_trials`` episodes with each kept policy, loads the one of
    the highest mean return (ties: more epochs) into ``model.policy``, and returns its
    number of epochs and ``(epochs, success rate, mean return, env steps)`` per trial."""
    trials = []
    for epochs in sorted(kept):
        model.policy.load_state_dict(kept[epochs])
        result = evaluate_success(
            model,
            trial_env,
            num_episodes=settings.cloning_trials,
            deterministic=settings.deterministic_eval,
            seed=seed + 30_000,
        )
        trials.append((epochs, result["success_rate"], result["mean_return"], int(result["env_steps"])))
    best = max(trials, key=lambda trial: (trial[2], trial[0]))
    model.policy.load_state_dict(kept[best[0]])
    return best[0], trials


def _callbacks(
    settings: SB3RunSettings,
    eval_env: VecEnv,
    *,
    seed: int,
    redistributor: Redistributor | None,
    boundaries: int | None = None,
    bootstrap: bool = False,
    regularizer: CloningRegularizer | None = None,
    training: RudderTraining | None = None,
    value_warmup: int = 0,
    gate: bool = False,
) -> tuple[SuccessEvaluation, list[BaseCallback]]:
    """The evaluation (seeded ``seed + 20_000``) and the other callbacks of a run.

    Args:
        value_warmup: value-only PPO updates at the start (after cloning), or 0.
        gate: apply the redistribution gate (one network on an alignment profile).
        boundaries: the number of sub-tasks whose returns end with them
            (:class:`~rudder.agents.sb3.callbacks.SubtaskBoundaries`), or None.
        bootstrap: with ``boundaries``, bootstrap each return at its sub-goal from the next
            agent's value.
        regularizer: cloning between PPO updates, or None.
        training: the retraining of RUDDER's LSTM (rudder-lstm), or None.
    """
    evaluation = SuccessEvaluation(
        eval_env,
        every=settings.eval_every,
        num_episodes=settings.eval_episodes,
        stop_at=settings.target_success,
        deterministic=settings.deterministic_eval,
        seed=seed + 20_000,
    )
    callbacks: list[BaseCallback] = [evaluation]
    if redistributor is not None:
        callbacks.append(RedistributionLogger())
    if regularizer is not None:
        callbacks.append(KeepCloning(regularizer))
    if boundaries is not None:
        callbacks.append(SubtaskBoundaries(boundaries, bootstrap=bootstrap))
    if training is not None:
        callbacks.append(training)
    if gate:
        # A change of the weight could also make the next updates value-only
        # (GateRedistribution(warmup=...)); measured on the generality suite, that cost
        # UnlockPickup twice BC+PPO's env steps and helped nowhere once cloning steps run
        # between updates, so the default does not.
        callbacks.append(GateRedistribution())
    if value_warmup > 0:
        callbacks.append(ValueWarmup(value_warmup))
    return evaluation, callbacks


def _learn(
    model: PPO,
    settings: SB3RunSettings,
    evaluation: SuccessEvaluation,
    callbacks: list[BaseCallback],
    *,
    budget: int,
    seed: int,
    progress_bar: bool,
    reset_num_timesteps: bool = True,
) -> None:
    """PPO for ``budget`` env steps, or, with no budget, one evaluation of the model as it is."""
    if budget > 0:
        model.learn(
            budget, callback=CallbackList(callbacks), progress_bar=progress_bar, reset_num_timesteps=reset_num_timesteps
        )
        return
    result = evaluate_success(
        model,
        evaluation.eval_env,
        num_episodes=settings.eval_episodes,
        deterministic=settings.deterministic_eval,
        seed=seed + 20_000,
    )
    evaluation.curve.append((int(model.num_timesteps), result["success_rate"], result["mean_return"]))
    if settings.target_success is not None and result["success_rate"] >= settings.target_success:
        evaluation.reached_at = int(model.num_timesteps)


def train_sb3(
    make_env: Callable[[], gym.Env],
    demonstrations: Sequence[Episode],
    *,
    settings: SB3RunSettings | None = None,
    encoder: EventEncoder | None = None,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    tensorboard_log: str | None = None,
    progress_bar: bool = False,
    verbose: int = 0,
    final_evaluation: FinalEvaluation | None = None,
    cloning_augmentation: Augmentation | None = None,
    callback: BaseCallback | None = None,
    logger: Logger | None = None,
) -> SB3RunResult:
    """Trains one method on the env that ``make_env()`` builds.

    Args:
        make_env: builds one env (picklable, e.g. ``functools.partial``, for subprocesses).
        demonstrations: recorded through ``make_env()`` (unused by ``ppo``).
        settings: see :class:`~rudder.agents.sb3.settings.SB3RunSettings`. Where
            ``settings.ppo.net_arch`` is None (the default), the network's width is chosen
            by the demonstration steps that the method clones
            (:func:`~rudder.agents.sb3.settings.default_net_arch`; ``ppo`` clones none).
        encoder: the unfitted event encoder (align-rudder).
        seed: seeds PPO, the envs (training ``seed``, evaluation ``seed + 10_000``),
            behaviour cloning and the evaluation episodes (``seed + 20_000``).
        checkpoint: directory to save the final model to (model + redistributor).
        tensorboard_log: TensorBoard directory.
        progress_bar: SB3's progress bar (and one for behaviour cloning).
        verbose: SB3 verbosity.
        final_evaluation: ``final_evaluation(model, eval_env)`` after training; its result
            is :attr:`SB3RunResult.final`.
        cloning_augmentation: maps a demonstration (as the agent observes it, with
            progress and sub-task features) to an extra one, or a list of extra ones, that
            behaviour cloning also fits, with the same value targets: for example
            :func:`rudder.envs.craft.mirror_episode` or
            :func:`rudder.envs.crafter_tasks.mirror_images`. The alignment sees the
            originals only; the search for reflexes sees the images too (unless
            ``settings.reflex_augmentation`` is False).
        callback: one more SB3 callback for PPO (for example progress reporting).
        logger: an SB3 logger to record to instead of the default one (for example
            :func:`rudder.experiments.loggers.make_logger`'s, for wandb or MLflow).
    """
    settings = settings or SB3RunSettings()
    cloned_steps = 0 if settings.method == "ppo" else sum(len(episode) for episode in demonstrations)
    settings = dataclasses.replace(settings, ppo=settings.ppo.for_demonstrations(cloned_steps))
    started = time.perf_counter()
    prepared = _prepare(demonstrations, settings, encoder, make_env=make_env, seed=seed, augmentation=cloning_augmentation)
    train = functools.partial(
        _train,
        make_env,
        settings=settings,
        seed=seed,
        checkpoint=checkpoint,
        tensorboard_log=tensorboard_log,
        progress_bar=progress_bar,
        verbose=verbose,
        final_evaluation=final_evaluation,
        cloning_augmentation=cloning_augmentation,
        callback=callback,
        logger=logger,
    )
    probe = None
    if prepared.probe:
        # max_rollouts: the warm-up's, so that the probed episodes are the cloned policy's
        probe = ClonedSuccessProbe(
            threshold=SUBTASK_AGENTS_MAX_CLONED_SUCCESS,
            significance=SUBTASK_AGENTS_PROBE_SIGNIFICANCE,
            max_rollouts=max(1, settings.value_warmup),
        )
    outcome = train(prepared, probe=probe)
    if probe is not None and probe.stopped and outcome.reached_at is None:
        # cloning alone does not walk the chain: sub-task agents, for the budget left
        first = outcome
        subtask_settings = dataclasses.replace(settings, subtask_agents=True)
        # the profile is the one already fitted: only the agents and their payments change
        assert isinstance(prepared.redistributor, AlignmentRedistributor)
        prepared = _prepare_align_rudder(
            demonstrations, subtask_settings, encoder, redistributor=prepared.redistributor, augmentation=cloning_augmentation
        )
        outcome = train(prepared, start=first.timesteps)
        outcome.curve = first.curve + outcome.curve
    outcome.seconds = time.perf_counter() - started
    outcome.probe_success = None if probe is None else probe.success_rate
    outcome.probe_episodes = None if probe is None else probe.episodes
    subtasks = prepared.metadata.get("subtasks")
    outcome.subtask_env_reward = None if subtasks is None else float(subtasks["env_reward_weight"])
    return outcome


def _train(
    make_env: Callable[[], gym.Env],
    prepared: Prepared,
    *,
    settings: SB3RunSettings,
    seed: int,
    start: int = 0,
    probe: ClonedSuccessProbe | None = None,
    checkpoint: str | Path | None,
    tensorboard_log: str | None,
    progress_bar: bool,
    verbose: int,
    final_evaluation: FinalEvaluation | None,
    cloning_augmentation: Augmentation | None,
    callback: BaseCallback | None,
    logger: Logger | None,
) -> SB3RunResult:
    """One model on ``prepared``, trained from ``start`` env steps (those already spent)
    to the budget. A run that ``probe`` stops is neither saved nor finally evaluated."""
    venv = _make_venv(make_env, settings, seed=seed, wrapper=prepared.wrapper)
    eval_env = _make_venv(
        make_env, dataclasses.replace(settings, subprocess=False), seed=seed + 10_000, wrapper=prepared.wrapper
    )
    try:
        model = make_ppo(venv, prepared.ppo, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose)
        if logger is not None:
            model.set_logger(logger)
        model.num_timesteps = start
        regularizer = None
        trials: list[tuple[int, float, float, int]] = []
        cloning_epochs = None
        if settings.method != "ppo":
            cloned, cloning_epochs, kept = _clone(
                model, prepared, settings, seed=seed, progress_bar=progress_bar, augmentation=cloning_augmentation,
                trials=settings.cloning_trials > 0,
            )
            if len(kept) > 1:
                # a clone that has not done the task in five times the longest
                # demonstration's steps is judged by what it earned by then
                longest = max(episode.length for episode in prepared.demonstrations)
                trial_env = _make_venv(
                    functools.partial(_cut_short, make_env, TRIAL_STEPS_PER_DEMONSTRATION_STEP * longest),
                    dataclasses.replace(settings, n_envs=1, subprocess=False),
                    seed=seed + 30_000,
                    wrapper=prepared.wrapper,
                )
                try:
                    cloning_epochs, trials = _try_clones(model, kept, trial_env, settings, seed=seed)
                finally:
                    trial_env.close()
                # the trials' env steps count in the budget
                model.num_timesteps += sum(trial[3] for trial in trials)
            if settings.keep_cloning > 0:
                regularizer = CloningRegularizer(model.policy, cloned, weight=settings.keep_cloning, seed=seed)
        controller = prepared.controller
        evaluation, callbacks = _callbacks(
            settings,
            eval_env,
            seed=seed,
            redistributor=prepared.redistributor,
            boundaries=controller.num_subtasks if controller is not None and settings.subtask_returns else None,
            bootstrap=settings.subtask_bootstrap,
            regularizer=regularizer,
            training=prepared.training,
            value_warmup=settings.value_warmup if settings.method != "ppo" else 0,
            gate=settings.gate and controller is None and isinstance(prepared.redistributor, AlignmentRedistributor),
        )
        if probe is not None:
            callbacks.append(probe)
        if callback is not None:
            callbacks.append(callback)
        spent = int(model.num_timesteps)
        budget = 0 if settings.method == "bc" else max(0, settings.total_timesteps - spent)
        _learn(
            model,
            settings,
            evaluation,
            callbacks,
            budget=budget,
            seed=seed,
            progress_bar=progress_bar,
            reset_num_timesteps=spent == 0,
        )
        stopped = probe is not None and probe.stopped and evaluation.reached_at is None
        if checkpoint is not None and not stopped:
            save_checkpoint(
                checkpoint,
                model,
                prepared.ppo,
                redistributor=prepared.redistributor,
                seed=seed,
                metadata={"method": settings.method, **prepared.metadata},
            )
        return SB3RunResult(
            reached_at=evaluation.reached_at,
            curve=evaluation.curve,
            timesteps=int(model.num_timesteps),
            seconds=0.0,
            model=model,
            redistributor=prepared.redistributor,
            controller=controller,
            final=final_evaluation(model, eval_env) if final_evaluation is not None and not stopped else None,
            gate=_gate_history(callbacks),
            cloning_trials=trials,
            cloning_epochs=cloning_epochs,
            net_arch=prepared.ppo.layers,
        )
    finally:
        venv.close()
        eval_env.close()


def resume_sb3(
    make_env: Callable[[], gym.Env],
    checkpoint: str | os.PathLike,
    *,
    settings: SB3RunSettings | None = None,
    seed: int = 0,
    save_to: str | os.PathLike | None = None,
    encoder_overrides: dict[str, Any] | None = None,
    tensorboard_log: str | None = None,
    progress_bar: bool = False,
    verbose: int = 0,
    final_evaluation: FinalEvaluation | None = None,
    logger: Logger | None = None,
) -> SB3RunResult:
    """Continues training a checkpoint of :func:`train_sb3` for ``settings.total_timesteps``
    more env steps.

    The env wrapper comes from the checkpoint: its redistributor, and for sub-task
    agents the saved controller and sub-goal payments
    (:func:`~rudder.agents.sb3.checkpoints.subtask_wrapper_from_checkpoint`). The venvs
    and callbacks are built as :func:`train_sb3` builds them, with the same evaluation
    env (seeded ``seed + 10_000``) and evaluation episodes (``seed + 20_000``,
    ``settings.deterministic_eval``); the training envs are seeded ``seed + 1``, so that a
    resumed run does not replay the first episodes of the run it continues. The
    checkpoint's own PPO settings and seed rebuild the model; ``settings.method``,
    ``ppo``, ``behavior_cloning`` and ``redistribution`` are not used.

    Args:
        make_env: builds one env, as for :func:`train_sb3`.
        checkpoint: the checkpoint directory to continue.
        settings: the envs, evaluation and budget (``total_timesteps``: env steps to add).
        seed: the run's seed (see above).
        save_to: directory to save the continued model to (may be ``checkpoint``).
        encoder_overrides: keyword arguments for the saved event encoder (for example a
            ``function`` that JSON cannot keep).
        tensorboard_log, progress_bar, verbose, final_evaluation, logger: as in :func:`train_sb3`.
    """
    settings = settings or SB3RunSettings()
    started = time.perf_counter()
    redistributor = load_redistributor_from_checkpoint(checkpoint, **(encoder_overrides or {}))
    subtasks = subtask_wrapper_from_checkpoint(checkpoint, redistributor)
    wrapper: Callable[[gym.Env], gym.Env] | None = None
    controller, boundaries, bootstrap = None, None, False
    if subtasks is not None:
        wrapper, controller, subtask_returns = subtasks
        boundaries = controller.num_subtasks if subtask_returns else None
        # Checkpoints written before the option end every return at its sub-goal.
        saved_subtasks = read_checkpoint_record(checkpoint).get("metadata", {}).get("subtasks", {})
        bootstrap = bool(saved_subtasks.get("subtask_bootstrap", False))
    elif redistributor is not None:
        saved = read_checkpoint_record(checkpoint).get("metadata", {})
        # The checkpoint says which observation its policy was built for (older ones do not:
        # then the settings do).
        default: Literal["box"] | None = "box" if settings.progress_observation else None
        progress: Literal["box"] | None = saved.get("progress", default)
        wrapper = functools.partial(redistribution_wrapper, redistributor=redistributor, progress=progress)
    venv = _make_venv(make_env, settings, seed=seed + 1, wrapper=wrapper)
    eval_env = _make_venv(make_env, dataclasses.replace(settings, subprocess=False), seed=seed + 10_000, wrapper=wrapper)
    try:
        model, ppo_settings, record = load_checkpoint(checkpoint, venv, tensorboard_log=tensorboard_log, verbose=verbose)
        if logger is not None:
            model.set_logger(logger)
        gate = settings.gate and controller is None and isinstance(redistributor, AlignmentRedistributor)
        evaluation, callbacks = _callbacks(
            settings,
            eval_env,
            seed=seed,
            redistributor=redistributor,
            boundaries=boundaries,
            bootstrap=bootstrap,
            gate=gate,
        )
        _learn(
            model,
            settings,
            evaluation,
            callbacks,
            budget=settings.total_timesteps,
            seed=seed,
            progress_bar=progress_bar,
            reset_num_timesteps=False,
        )
        if save_to is not None:
            save_checkpoint(
                save_to, model, ppo_settings, redistributor=redistributor, seed=seed, metadata=record["metadata"]
            )
        return SB3RunResult(
            reached_at=evaluation.reached_at,
            curve=evaluation.curve,
            timesteps=int(model.num_timesteps),
            seconds=time.perf_counter() - started,
            model=model,
            redistributor=redistributor,
            controller=controller,
            final=final_evaluation(model, eval_env) if final_evaluation is not None else None,
            gate=_gate_history(callbacks),
            net_arch=ppo_settings.layers,
        )
    finally:
        venv.close()
        eval_env.close()
