"""stable-baselines3 callbacks: redistribution logging and success-rate evaluation."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv


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
      has a profile).

    Args:
        window: how many recent episodes the means cover.
    """

    def __init__(self, *, window: int = 100, verbose: int = 0) -> None:
        super().__init__(verbose)
        if window < 1:
            raise ValueError(f"`window` must be >= 1, got {window}")
        self.window = window
        self.episodes: deque[dict[str, float]] = deque(maxlen=window)
        self._progress = None

    def _on_training_start(self) -> None:
        from rudder.wrappers.progress import ProfileProgress

        redistributors = self.training_env.get_attr("redistributor")  # type: ignore[union-attr]
        try:
            self._progress = ProfileProgress(redistributors[0])
        except ValueError:
            self._progress = None

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


def episode_succeeded(info: Mapping[str, Any]) -> bool:
    """Default success test: ``info["is_success"]`` if the env sets it, else a positive
    true return in the ``Monitor`` record ``info["episode"]``."""
    if "is_success" in info:
        return bool(info["is_success"])
    return float(info["episode"]["r"]) > 0.0


def evaluate_success(
    model,
    env: VecEnv,
    *,
    num_episodes: int = 50,
    deterministic: bool = False,
    seed: int | None = None,
    success: Callable[[Mapping[str, Any]], bool] = episode_succeeded,
) -> dict[str, float]:
    """Runs ``num_episodes`` episodes and returns their success rate, mean return and length.

    Episodes are spread evenly over the envs, as SB3's ``evaluate_policy`` does, so that
    short episodes do not crowd out long ones. The envs need ``Monitor`` (true returns).

    Args:
        model: an SB3 model (anything with ``predict``).
        env: a vectorised evaluation env, built like the training env.
        num_episodes: episodes to run.
        deterministic: take the most likely action (minigrid policies often loop when
            greedy, so sampling is the default).
        seed: if given, ``env.seed(seed)`` before resetting (the same episodes each time).
        success: ``success(info)`` at the end of an episode.
    """
    if num_episodes < 1:
        raise ValueError(f"`num_episodes` must be >= 1, got {num_episodes}")
    num_envs = env.num_envs
    targets = np.array([(num_episodes + index) // num_envs for index in range(num_envs)])
    counts = np.zeros(num_envs, dtype=np.int64)
    successes, returns, lengths = [], [], []
    if seed is not None:
        env.seed(seed)
    observations = env.reset()
    states = None
    starts = np.ones(num_envs, dtype=bool)
    while np.any(counts < targets):
        actions, states = model.predict(observations, state=states, episode_start=starts, deterministic=deterministic)
        observations, _, dones, infos = env.step(actions)
        starts = dones
        for index, (done, info) in enumerate(zip(dones, infos)):
            if done and counts[index] < targets[index]:
                if "episode" not in info:
                    raise ValueError(
                        "evaluate_success needs Monitor on the evaluation envs "
                        "(make_vec_env adds it; put it below RedistributedReward)"
                    )
                counts[index] += 1
                successes.append(bool(success(info)))
                returns.append(float(info["episode"]["r"]))
                lengths.append(float(info["episode"]["l"]))
    return {
        "success_rate": float(np.mean(successes)),
        "mean_return": float(np.mean(returns)),
        "mean_length": float(np.mean(lengths)),
    }


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
        redistributor,
        *,
        buffer=None,
        every_rollouts: int = 2,
        sample_size: int = 64,
        epochs: int = 5,
        min_episodes: int = 16,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        from rudder.redistribution.lessons import LessonsBuffer

        if every_rollouts < 1 or sample_size < 1 or epochs < 1:
            raise ValueError("`every_rollouts`, `sample_size` and `epochs` must be >= 1")
        self.redistributor = redistributor
        self.buffer = buffer if buffer is not None else LessonsBuffer(256)
        self.every_rollouts = every_rollouts
        self.sample_size = sample_size
        self.epochs = epochs
        self.min_episodes = min_episodes
        self.retrainings = 0
        self._new: list = []
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
            index, episodes = self.buffer.sample(self.sample_size)
            # a prioritised sample can miss the variance the buffer has; an untrained model needs it
            if self.redistributor.is_trained or np.ptp([e.episode_return for e in episodes]) > 0:
                self.redistributor.fit(episodes, epochs=self.epochs)
                self.buffer.update_priorities(index, self.redistributor.episode_losses(episodes))
                self.training_env.env_method("set_redistributor", self.redistributor)  # type: ignore[union-attr]
                self.retrainings += 1
        if self.redistributor.is_trained:
            self.logger.record("rudder/lstm_relative_error", float(self.redistributor.relative_error))
        self.logger.record("rudder/lstm_reliable", float(self.redistributor.is_reliable))
        self.logger.record("rudder/lessons", len(self.buffer))


class KeepCloning(BaseCallback):
    """Runs a :class:`~rudder.agents.cloning.CloningRegularizer` after every rollout
    (before PPO's update) and logs ``rudder/cloning_loss``."""

    def __init__(self, regularizer, *, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.regularizer = regularizer

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        self.logger.record("rudder/cloning_loss", self.regularizer())
