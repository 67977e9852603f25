"""stable-baselines3 callbacks: redistribution logging, success-rate evaluation, the probe
of the cloned policy's success, RUDDER's LSTM retraining, cloning between updates, and
sub-task return boundaries."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from rudder.agents.sb3.evaluation import episode_succeeded, evaluate_success
from rudder.agents.subtasks import standardize_by_subtask
from rudder.data.episode import Episode
from rudder.redistribution.alignment import AlignmentRedistributor
from rudder.redistribution.lessons import LessonsBuffer
from rudder.wrappers.progress import ProfileProgress

if TYPE_CHECKING:
    from rudder.redistribution.lstm import LSTMRedistributor

__all__ = [
    "ClonedSuccessProbe",
    "KeepCloning",
    "RedistributionLogger",
    "RudderTraining",
    "SubtaskBoundaries",
    "SuccessEvaluation",
    "binomial_lower_tail",
    "subtask_advantages",
]


class RedistributionLogger(BaseCallback):
    """Logs what reward redistribution did, to SB3's logger (so TensorBoard shows it).

    Reads ``info["redistribution"]`` (written by
    :class:`~rudder.wrappers.RedistributedReward` at the end of every episode) and, at
    the end of each rollout, records the mean over the last ``window`` episodes of:

    - ``rudder/episode_return``: the env's true return;
    - ``rudder/redistributed_return``: the return the agent was paid before the mix;
    - ``rudder/correction``: the terminal correction G - sum(R) (absolute value);
    - ``rudder/profile_position``: the final profile position;
    - ``rudder/sub_goals_reached``: consensus sub-goals covered (if the redistributor
      is a fitted :class:`~rudder.AlignmentRedistributor`).

    Args:
        window: how many recent episodes the means cover.
    """

    def __init__(self, *, window: int = 100, verbose: int = 0) -> None:
        super().__init__(verbose)
        if window < 1:
            raise ValueError(f"`window` must be >= 1, got {window}")
        self.window = window
        self.episodes: deque[dict[str, float]] = deque(maxlen=window)
        self._progress: ProfileProgress | None = None

    def _on_training_start(self) -> None:
        redistributor = self.training_env.get_attr("redistributor")[0]
        # sub-goals only where there is a profile (not for RUDDER's LSTM)
        self._progress = None
        if isinstance(redistributor, AlignmentRedistributor) and redistributor.is_fitted:
            self._progress = ProfileProgress(redistributor)

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            record = info.get("redistribution")
            if record is None:
                continue
            entry = {
                "episode_return": float(record["episode_return"]),
                "redistributed_return": float(record["redistributed_return"]),
                "correction": abs(float(record["correction"])),
                "profile_position": float(record["position"]),
            }
            if self._progress is not None:
                entry["sub_goals_reached"] = float(self._progress.sub_goals_reached(int(record["position"])))
            self.episodes.append(entry)
        return True

    def _on_rollout_end(self) -> None:
        if not self.episodes:
            return
        for key in self.episodes[0]:
            self.logger.record(f"rudder/{key}", float(np.mean([entry[key] for entry in self.episodes])))


class SuccessEvaluation(BaseCallback):
    """Evaluates the success rate every ``every`` env steps; can stop at a target.

    Records ``eval/success_rate``, ``eval/mean_return`` and ``eval/mean_length`` in SB3's
    logger and keeps the curve in :attr:`curve` as ``(env steps, success rate, mean
    return)`` rows. With ``stop_at`` it ends training once the rate reaches it and
    remembers the step count in :attr:`reached_at`.

    Args:
        env: the vectorised evaluation env (with ``Monitor``).
        every: env steps between evaluations (checked at the end of each rollout).
        num_episodes: episodes per evaluation.
        stop_at: success rate that ends training, or None to train on.
        evaluate_at_start: also evaluate before the first rollout (after behaviour cloning).
        deterministic, seed, success: as in :func:`evaluate_success`.
    """

    def __init__(
        self,
        env: VecEnv,
        *,
        every: int = 10_000,
        num_episodes: int = 50,
        stop_at: float | None = None,
        evaluate_at_start: bool = True,
        deterministic: bool = False,
        seed: int | None = 0,
        success: Callable[[Mapping[str, Any]], bool] = episode_succeeded,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        if every < 1:
            raise ValueError(f"`every` must be >= 1, got {every}")
        if stop_at is not None and not 0.0 < stop_at <= 1.0:
            raise ValueError(f"`stop_at` must be in (0, 1] or None, got {stop_at}")
        self.eval_env = env
        self.every = every
        self.num_episodes = num_episodes
        self.stop_at = stop_at
        self.evaluate_at_start = evaluate_at_start
        self.deterministic = deterministic
        self.seed = seed
        self.success = success
        self.curve: list[tuple[int, float, float]] = []
        self.reached_at: int | None = None
        self._next = 0

    def _evaluate(self) -> bool:
        result = evaluate_success(
            self.model,
            self.eval_env,
            num_episodes=self.num_episodes,
            deterministic=self.deterministic,
            seed=self.seed,
            success=self.success,
        )
        self.curve.append((int(self.num_timesteps), result["success_rate"], result["mean_return"]))
        for key, value in result.items():
            self.logger.record(f"eval/{key}", value)
        if self.verbose:
            print(f"step {self.num_timesteps}: success rate {result['success_rate']:.2f}")
        if self.stop_at is not None and result["success_rate"] >= self.stop_at and self.reached_at is None:
            self.reached_at = int(self.num_timesteps)
            return False
        return True

    def _on_training_start(self) -> None:
        self._next = self.num_timesteps + self.every
        if self.evaluate_at_start and not self.curve:
            self._continue = self._evaluate()
        else:
            self._continue = True

    def _on_step(self) -> bool:
        return self._continue

    def _on_rollout_end(self) -> None:
        if self.num_timesteps >= self._next:
            self._next += self.every
            self._continue = self._evaluate()


def binomial_lower_tail(successes: int, trials: int, probability: float) -> float:
    """P(X <= successes) for X ~ Binomial(trials, probability) (scipy's ``binom.cdf``).

    Args:
        successes: the observed count, 0 <= successes <= trials.
        trials: the number of trials, >= 0.
        probability: the success probability of one trial, in [0, 1].
    """
    from scipy.stats import binom

    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"`probability` must be in [0, 1], got {probability}")
    return float(binom.cdf(successes, trials, probability))


class ClonedSuccessProbe(BaseCallback):
    """Measures the cloned policy's success on its first training episodes and stops
    training if they show, at the level ``significance``, that its success rate is below
    ``threshold`` (the rule of ``SB3RunSettings(subtask_agents=None)``:
    :data:`~rudder.agents.sb3.settings.SUBTASK_AGENTS_MAX_CLONED_SUCCESS`).

    The burden of proof lies on stopping: a rate near the threshold keeps training (one
    network, which is behaviour cloning + PPO's path), and only a clearly weaker clone
    hands over. The test is one-sided: stop when P(X <= successes) <= ``significance``
    for X ~ Binomial(episodes, threshold).

    Every training env contributes the same number of its first episodes, so that long
    failures weigh as much as short successes: as many as every env has finished (at most
    ``max_episodes_per_env``), and at least ``min_episodes_per_env``, an unfinished one
    counting as a failure. The probe decides at the end of the first rollout after which
    every env has finished ``max_episodes_per_env`` episodes, or after ``max_rollouts``
    rollouts. Give it at most as many rollouts as the value warm-up freezes the actor
    for: the episodes are then the cloned policy's own. Once it decides to stop, the next
    env step ends ``learn`` (those steps count).

    Args:
        threshold: the success rate under test.
        significance: the one-sided test's level, in (0, 1].
        min_episodes_per_env: episodes per training env counted at least.
        max_episodes_per_env: episodes per training env counted at most.
        max_rollouts: rollouts after which the probe decides with what it has.
        success: ``success(info)`` at the end of an episode (as the evaluation's).

    Attributes:
        success_rate: the measured rate (None until decided).
        episodes: the number of episodes it counted (None until decided).
        p_value: P(X <= successes) under the threshold (None until decided).
        stopped: whether it stopped training.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        significance: float = 0.05,
        min_episodes_per_env: int = 2,
        max_episodes_per_env: int = 8,
        max_rollouts: int = 4,
        success: Callable[[Mapping[str, Any]], bool] = episode_succeeded,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        if min_episodes_per_env < 1 or max_rollouts < 1:
            raise ValueError("`min_episodes_per_env` and `max_rollouts` must be >= 1")
        if max_episodes_per_env < min_episodes_per_env:
            raise ValueError(
                f"`max_episodes_per_env` ({max_episodes_per_env}) must be >= `min_episodes_per_env` ({min_episodes_per_env})"
            )
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"`threshold` must be in [0, 1], got {threshold}")
        if not 0.0 < significance <= 1.0:
            raise ValueError(f"`significance` must be in (0, 1], got {significance}")
        self.threshold = threshold
        self.significance = significance
        self.min_episodes_per_env = min_episodes_per_env
        self.max_episodes_per_env = max_episodes_per_env
        self.max_rollouts = max_rollouts
        self.success = success
        self.success_rate: float | None = None
        self.episodes: int | None = None
        self.p_value: float | None = None
        self.stopped = False
        self._outcomes: list[list[bool]] = []
        self._rollouts = 0

    def _on_training_start(self) -> None:
        self._outcomes = [[] for _ in range(self.training_env.num_envs)]

    def _on_step(self) -> bool:
        if self.stopped:
            return False
        if self.success_rate is not None:
            return True
        dones = self.locals.get("dones", ())
        for outcomes, done, info in zip(self._outcomes, dones, self.locals.get("infos", ())):
            if done and len(outcomes) < self.max_episodes_per_env:
                outcomes.append(bool(self.success(info)))
        return True

    def _on_rollout_end(self) -> None:
        if self.success_rate is not None:
            return
        self._rollouts += 1
        per_env = min(len(outcomes) for outcomes in self._outcomes)
        if per_env < self.max_episodes_per_env and self._rollouts < self.max_rollouts:
            return
        per_env = max(per_env, self.min_episodes_per_env)
        successes = sum(sum(outcomes[:per_env]) for outcomes in self._outcomes)
        self.episodes = per_env * len(self._outcomes)
        self.success_rate = successes / self.episodes
        self.p_value = binomial_lower_tail(successes, self.episodes, self.threshold)
        self.stopped = self.threshold > 0.0 and self.p_value <= self.significance
        self.logger.record("rudder/probe_success", self.success_rate)
        self.logger.record("rudder/probe_episodes", self.episodes)
        if self.verbose:
            print(
                f"cloned policy's success on its first {self.episodes} episodes: {self.success_rate:.2f} "
                f"(P = {self.p_value:.3f} at {self.threshold:.2f}; {'sub-task agents' if self.stopped else 'one network'})"
            )


class RudderTraining(BaseCallback):
    """Keeps RUDDER's return-decomposition model learning during PPO.

    Collects the finished episodes that :class:`~rudder.wrappers.RedistributedReward`
    hands out (build it with ``record_episodes=True``), adds them to a
    :class:`~rudder.redistribution.lessons.LessonsBuffer` prioritised by the model's
    loss, and every ``every_rollouts`` rollouts, once the buffer has return variance,
    retrains the model on a prioritised sample and swaps it into every env (from the
    next episode on). Records ``rudder/lstm_relative_error``, ``rudder/lstm_reliable``
    (whether the quality gate is open) and ``rudder/lessons``.

    Args:
        redistributor: the :class:`~rudder.redistribution.lstm.LSTMRedistributor` the
            envs use.
        buffer: the lessons buffer (a new 256-episode one by default).
        every_rollouts: rollouts between retrainings.
        sample_size: episodes drawn from the buffer per retraining.
        epochs: passes over the sample per retraining.
        min_episodes: episodes needed in the buffer before the first retraining.
    """

    def __init__(
        self,
        redistributor: LSTMRedistributor,
        *,
        buffer: LessonsBuffer | None = None,
        every_rollouts: int = 2,
        sample_size: int = 64,
        epochs: int = 5,
        min_episodes: int = 16,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        if every_rollouts < 1 or sample_size < 1 or epochs < 1:
            raise ValueError("`every_rollouts`, `sample_size` and `epochs` must be >= 1")
        self.redistributor = redistributor
        self.buffer = buffer if buffer is not None else LessonsBuffer(256)
        self.every_rollouts = every_rollouts
        self.sample_size = sample_size
        self.epochs = epochs
        self.min_episodes = min_episodes
        self.retrainings = 0
        self._new: list[Episode] = []
        self._rollouts = 0

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            episode = info.get("episode_record")
            if episode is not None:
                self._new.append(episode)
        return True

    def _on_rollout_end(self) -> None:
        if self._new:
            priorities = self.redistributor.episode_losses(self._new) if self.redistributor.is_trained else None
            for index, episode in enumerate(self._new):
                self.buffer.add(episode, None if priorities is None else float(priorities[index]))
            self._new = []
        self._rollouts += 1
        ready = len(self.buffer) >= self.min_episodes and self.buffer.has_return_variance()
        if ready and self._rollouts % self.every_rollouts == 0:
            if self.redistributor.learn_from(self.buffer, sample_size=self.sample_size, epochs=self.epochs):
                self.training_env.env_method("set_redistributor", self.redistributor)
                self.retrainings += 1
        if self.redistributor.is_trained:
            self.logger.record("rudder/lstm_relative_error", float(cast(float, self.redistributor.relative_error)))
        self.logger.record("rudder/lstm_reliable", float(self.redistributor.is_reliable))
        self.logger.record("rudder/lessons", len(self.buffer))


class KeepCloning(BaseCallback):
    """Runs a :class:`~rudder.agents.sb3.cloning.CloningRegularizer` after every rollout
    (before PPO's update) and logs ``rudder/cloning_loss``.

    Args:
        regularizer: called once per rollout; returns the loss to log.
    """

    def __init__(self, regularizer: Callable[[], float], *, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.regularizer = regularizer

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        self.logger.record("rudder/cloning_loss", self.regularizer())


def subtask_advantages(
    rewards: np.ndarray,
    values: np.ndarray,
    *,
    episode_starts: np.ndarray,
    switched: np.ndarray,
    last_values: np.ndarray,
    last_dones: np.ndarray,
    last_switched: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> np.ndarray:
    """GAE whose trace stops where the sub-task changes, bootstrapping there from the next value.

    The TD error of every step bootstraps from the next state's value unless the episode
    ended (as in stable-baselines3's rollout buffer); the λ-trace that sums them is cut
    both where an episode ends and where the sub-task changes. So the last step of a
    sub-task is worth its reward plus γ times the next agent's value, and an agent's
    advantages hold no TD error of another agent's steps.

    Args:
        rewards: shape (n_steps, n_envs).
        values: shape (n_steps, n_envs), the critic's values of the steps' observations.
        episode_starts: shape (n_steps, n_envs), 1 where a step starts an episode.
        switched: shape (n_steps, n_envs), True where a step's sub-task differs from the
            previous step's (in the same episode or not).
        last_values: shape (n_envs,), the values of the observations after the last step.
        last_dones: shape (n_envs,), 1 where the last step ended its episode.
        last_switched: shape (n_envs,), True where the observation after the last step has
            another sub-task.
        gamma: the discount.
        gae_lambda: GAE's λ.

    Returns:
        The advantages, shape (n_steps, n_envs), float64.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    # What follows each step: the next step's value, whether its episode goes on and
    # whether its sub-task stays; after the last step, what the rollout ended with.
    next_values = np.concatenate([values[1:], np.asarray(last_values, dtype=np.float64)[None]])
    alive = 1.0 - np.concatenate([episode_starts[1:], np.asarray(last_dones)[None]]).astype(np.float64)
    same_subtask = 1.0 - np.concatenate([switched[1:], np.asarray(last_switched)[None]]).astype(np.float64)
    deltas = rewards + gamma * next_values * alive - values
    advantages = np.zeros_like(rewards)
    trace = np.zeros(rewards.shape[1:])
    for step in reversed(range(rewards.shape[0])):
        trace = deltas[step] + gamma * gae_lambda * alive[step] * same_subtask[step] * trace
        advantages[step] = trace
    return advantages


class SubtaskBoundaries(BaseCallback):
    """Makes each sub-task agent's return end where its sub-task ends.

    SB3 computes returns and advantages before ``on_rollout_end``; this callback then marks
    every step whose sub-task differs from the previous step's as an episode start and
    computes them again. So an agent is credited with the redistributed reward up to and
    including its sub-goal, and not with what the next agent does afterwards (nor does it
    bootstrap from the next agent's value): PPO on the redistributed reward *within* the
    sub-task, as the paper trains its MineRL sub-task agents.

    With ``bootstrap``, an agent's last step before the hand-over bootstraps from the next
    agent's value of the state it hands over (its critic sees the next sub-task's one-hot),
    while the GAE trace still stops at the boundary (:func:`subtask_advantages`): each agent
    is credited with its own steps only, but reaching its sub-goal alive is worth what the
    rest of the episode is worth, and dying before it costs that too.

    With ``normalize_advantages`` the advantages are then standardised within each
    sub-task, and PPO's own per-minibatch standardisation is turned off: every agent is
    its own PPO learner. Standardising a minibatch that mixes agents shifts all of them
    by one mean, so the steps of an agent that is doing as well as its critic expects
    get the negative advantage of another agent's windfall, and its cloned actions are
    pushed down.

    Args:
        num_subtasks: the sub-task one-hot's length (the last features of the observation).
        normalize_advantages: standardise advantages per sub-task (see above).
        bootstrap: bootstrap each agent's return at its sub-goal from the next agent's value.
    """

    def __init__(
        self, num_subtasks: int, *, normalize_advantages: bool = True, bootstrap: bool = False, verbose: int = 0
    ) -> None:
        super().__init__(verbose)
        self.num_subtasks = int(num_subtasks)
        self.normalize_advantages = bool(normalize_advantages)
        self.bootstrap = bool(bootstrap)

    def _on_training_start(self) -> None:
        if self.normalize_advantages:
            cast(PPO, self.model).normalize_advantage = False

    def _subtask(self, observations: np.ndarray) -> np.ndarray:
        return np.asarray(observations)[..., -self.num_subtasks :].argmax(axis=-1)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buffer = cast(PPO, self.model).rollout_buffer
        subtask = self._subtask(buffer.observations)  # (n_steps, n_envs)
        switched = np.zeros_like(buffer.episode_starts, dtype=bool)
        switched[1:] = subtask[1:] != subtask[:-1]
        new_observations = self.locals["new_obs"]
        dones = np.asarray(self.locals["dones"], dtype=np.float32)
        last_switched = self._subtask(new_observations) != subtask[-1]
        if self.bootstrap:
            last_values = self.locals["values"].detach().cpu().numpy().reshape(-1)
            buffer.advantages = subtask_advantages(
                buffer.rewards,
                buffer.values,
                episode_starts=buffer.episode_starts,
                switched=switched,
                last_values=last_values,
                last_dones=dones,
                last_switched=last_switched,
                gamma=buffer.gamma,
                gae_lambda=buffer.gae_lambda,
            ).astype(buffer.advantages.dtype)
            buffer.returns = buffer.advantages + buffer.values
        else:
            buffer.episode_starts = np.maximum(buffer.episode_starts, switched.astype(buffer.episode_starts.dtype))
            dones = np.maximum(dones, last_switched.astype(np.float32))
            buffer.compute_returns_and_advantage(last_values=self.locals["values"], dones=dones)
        if self.normalize_advantages:
            standardize_by_subtask(buffer.advantages, subtask)
        self.logger.record("rudder/subtask_switches", float(switched.sum() + last_switched.sum()))
