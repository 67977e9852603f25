"""Delayed reward: episodes to solve a delayed-reward choice against the delay.

The task (:class:`rudder.envs.delay.DelayedChoiceEnv`): the first action decides whether
the episode pays 1, but the reward comes ``delay`` steps later, while a distractor
random-walks; the wrong first action pays a lure of 0.1 at once. Solved = the greedy
first action has been the right one after each of ``--streak`` consecutive training
episodes (for PPO, whose untrained policy may already prefer it by chance: the
probability of the right first action is at least 0.9); the metric is the episode where
that streak began, capped at ``--max-episodes`` (a capped run counts as the cap and as a
failure).

- ``td``: tabular Q(lambda) (replacing traces, lambda 0.9, alpha 0.1, epsilon 0.1, gamma 1).
- ``mc``: tabular constant-alpha Monte Carlo (alpha 0.1, epsilon 0.1).
- ``rudder``: the same epsilon-greedy tabular Q-learner on RUDDER's redistributed reward:
  an LSTM (:class:`rudder.redistribution.LSTMRedistributor`) trained on a lessons buffer
  every 10 episodes; until its quality gate opens the env reward is used.
- ``ppo``: stable-baselines3 PPO on the features (t / delay, choice, x / width), with an
  env-step budget ``--ppo-steps``.

The growth with the delay is summarised by the slope of log(episodes) against
log(delay) (1: linear growth) per method.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from rudder.experiments.harness import Benchmark
from rudder.experiments.report import Metric, line_chart
from rudder.experiments.results import ResultFile
from rudder.experiments.sweep import Job, Progress

if TYPE_CHECKING:
    from rudder.envs.delay import DelayedChoiceEnv
    from rudder.redistribution import LessonsBuffer, LSTMRedistributor

__all__ = [
    "ALPHA",
    "DELAY",
    "EPSILON",
    "LAMBDA",
    "METHODS",
    "DelaySettings",
    "Streak",
    "delay_jobs",
    "monte_carlo_update",
    "q_lambda_update",
    "run_delay",
]

#: Step size, exploration rate and trace decay of the tabular learners.
ALPHA, EPSILON, LAMBDA = 0.1, 0.1, 0.9

#: The methods and their display names.
METHODS = {"td": "Q(lambda)", "mc": "Monte Carlo", "rudder": "RUDDER (LSTM)", "ppo": "PPO"}

#: The metric's name: the episode where the solving streak began (the cap if never).
_METRIC = "episodes_to_solve"


@dataclasses.dataclass(frozen=True)
class DelaySettings:
    """The delay benchmark's options."""

    delays: tuple[int, ...] = (10, 20, 50, 100, 200, 500)
    """Delays to run (steps between the choice and its reward)."""
    methods: tuple[str, ...] = ("td", "mc", "rudder", "ppo")
    """Methods: td, mc, rudder, ppo."""
    seeds: int = 5
    """Seeds per (method, delay)."""
    width: int = 3
    """Half-width of the distractor's random walk."""
    max_episodes: int = 20_000
    """Episode cap per run (a capped run counts as the cap)."""
    streak: int = 20
    """Consecutive correct greedy choices that count as solved."""
    ppo_steps: int = 300_000
    """Env-step budget of a PPO run."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.methods) - set(METHODS))
        if unknown:
            raise ValueError(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
        if min(self.delays, default=0) < 1:
            raise ValueError(f"--delays must be >= 1, got {list(self.delays)}")
        if self.seeds < 1 or self.max_episodes < 1 or self.streak < 1 or self.ppo_steps < 1:
            raise ValueError("--seeds, --max-episodes, --streak and --ppo-steps must be >= 1")


class Streak:
    """Tracks when the greedy first choice became and stayed right.

    Args:
        length: consecutive right choices that count as solved.
    """

    def __init__(self, length: int) -> None:
        self.length = length
        self.start: int | None = None
        self.count = 0

    def update(self, episode: int, correct: bool) -> bool:
        """Records episode ``episode``'s check; ``True`` once the streak is long enough
        (``start`` is then the episode where it began)."""
        if correct:
            if self.count == 0:
                self.start = episode
            self.count += 1
        else:
            self.count = 0
        return self.count >= self.length


def q_lambda_update(
    q: np.ndarray,
    states: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    *,
    trace_decay: float = LAMBDA,
    step_size: float = ALPHA,
) -> None:
    """Q(lambda) with replacing traces, applied step by step along one episode (gamma 1),
    in place; traces below 1e-4 are cut.

    Args:
        q: action values, shape (num_states, num_actions).
        states: the episode's states, shape (T + 1,).
        actions: its actions, shape (T,).
        rewards: its rewards, shape (T,); the last step is terminal.
        trace_decay: lambda (0: one-step Q-learning).
        step_size: alpha.
    """
    horizon = int(np.ceil(np.log(1e-4) / np.log(trace_decay))) if trace_decay > 0 else 1
    decay = trace_decay ** np.arange(horizon)
    for t in range(len(actions)):
        terminal = t == len(actions) - 1
        target = rewards[t] + (0.0 if terminal else q[states[t + 1]].max())
        delta = target - q[states[t], actions[t]]
        first = max(0, t - horizon + 1)
        weights = decay[: t - first + 1][::-1]
        q[states[first : t + 1], actions[first : t + 1]] += step_size * delta * weights


def monte_carlo_update(
    q: np.ndarray, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, *, step_size: float = ALPHA
) -> None:
    """Constant-alpha every-visit Monte Carlo (gamma 1), in place: each visited
    ``q[s, a]`` moves ``step_size`` of the way to the return from there. Shapes as in
    :func:`q_lambda_update`."""
    returns = np.cumsum(rewards[::-1])[::-1]
    for t in range(len(actions)):
        q[states[t], actions[t]] += step_size * (returns[t] - q[states[t], actions[t]])


def _run_episode(
    env: DelayedChoiceEnv, q: np.ndarray, rng: np.random.Generator, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One epsilon-greedy episode: states (T + 1,), actions (T,), rewards (T,) and the
    env's features (T + 1, 3)."""
    state, _ = env.reset(seed=seed)
    states, actions, rewards, features = [state], [], [], [env.features()]
    terminated = False
    while not terminated:
        if rng.random() < EPSILON:
            action = int(rng.integers(2))
        else:
            action = int(np.argmax(q[state]))
        state, reward, terminated, _, _ = env.step(action)
        states.append(state)
        actions.append(action)
        rewards.append(reward)
        features.append(env.features())
    return np.array(states), np.array(actions), np.array(rewards), np.array(features, dtype=np.float32)


def _retrain_lstm(redistributor: LSTMRedistributor, buffer: LessonsBuffer, episode: int) -> None:
    """Every 10th episode, once the buffer holds 16 episodes of different returns: fits
    the LSTM for 5 epochs on 32 episodes of the buffer and updates their priorities."""
    if episode % 10 == 9 and len(buffer) >= 16:
        redistributor.learn_from(buffer, sample_size=32, epochs=5)


class _RudderLearner:
    """One-step Q-learning on the reward an LSTM redistributes, the LSTM retrained on a
    lessons buffer of the episodes."""

    def __init__(self, seed: int) -> None:
        import gymnasium as gym
        import torch

        from rudder.redistribution import LessonsBuffer, LSTMRedistributor

        torch.set_num_threads(1)
        self.redistributor = LSTMRedistributor(
            gym.spaces.Box(-1.0, 1.0, (3,)), gym.spaces.Discrete(2), hidden_size=16, batch_size=16, seed=seed
        )
        self.buffer = LessonsBuffer(128, seed=seed)

    def update(
        self, q: np.ndarray, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, features: np.ndarray, episode: int
    ) -> None:
        from rudder.data import Episode

        record = Episode(observations=features, actions=actions, rewards=rewards, terminated=True)
        self.buffer.add(record, self.redistributor.lesson_priority(record))
        _retrain_lstm(self.redistributor, self.buffer, episode)
        q_lambda_update(q, states, actions, self.redistributor.redistribute(record), trace_decay=0.0)


def _run_tabular(method: str, delay: int, seed: int, settings: DelaySettings, progress: Progress) -> dict[str, Any]:
    from rudder.envs.delay import DelayedChoiceEnv

    env = DelayedChoiceEnv(delay, width=settings.width)
    rng = np.random.default_rng(seed)
    q = np.zeros((env.observation_space.n, 2))  # type: ignore[attr-defined]
    streak = Streak(settings.streak)
    learner = _RudderLearner(seed) if method == "rudder" else None
    env_steps = 0
    for episode in range(settings.max_episodes):
        states, actions, rewards, features = _run_episode(env, q, rng, seed * 1_000_003 + episode)
        env_steps += len(actions)
        progress(env_steps)
        if method == "td":
            q_lambda_update(q, states, actions, rewards)
        elif method == "mc":
            monte_carlo_update(q, states, actions, rewards)
        else:
            assert learner is not None
            learner.update(q, states, actions, rewards, features, episode)
        if streak.update(episode, bool(q[0, 1] > q[0, 0])):
            return {"solved_at": streak.start, "episodes": episode + 1, "env_steps": env_steps}
    return {"solved_at": None, "episodes": settings.max_episodes, "env_steps": env_steps}


def _run_ppo(delay: int, seed: int, settings: DelaySettings, progress: Progress) -> dict[str, Any]:
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    from rudder.envs.delay import DelayedChoiceEnv

    torch.set_num_threads(1)
    start = np.array([DelayedChoiceEnv(delay, width=settings.width).features()], dtype=np.float32)

    class Features(gym.ObservationWrapper):
        def __init__(self, env: gym.Env) -> None:
            super().__init__(env)
            self.observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)

        def observation(self, observation: Any) -> np.ndarray:
            return np.array(self.env.unwrapped.features(), dtype=np.float32)  # type: ignore[attr-defined]

    class Solved(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.streak = Streak(settings.streak)
            self.episodes = 0
            self.solved_at: int | None = None

        def _on_step(self) -> bool:
            progress(self.num_timesteps)
            for done in self.locals["dones"]:
                if done:
                    observation, _ = self.model.policy.obs_to_tensor(start)
                    with torch.no_grad():
                        right = float(self.model.policy.get_distribution(observation).distribution.probs[0, 1])  # type: ignore[operator]
                    if self.streak.update(self.episodes, right >= 0.9):
                        self.solved_at = self.streak.start
                        return False
                    self.episodes += 1
            return self.episodes < settings.max_episodes

    venv = make_vec_env(lambda: Features(DelayedChoiceEnv(delay, width=settings.width)), n_envs=4, seed=seed)
    model = PPO("MlpPolicy", venv, n_steps=128, batch_size=128, gamma=1.0, seed=seed, device="cpu")
    callback = Solved()
    model.learn(settings.ppo_steps, callback=callback)
    return {"solved_at": callback.solved_at, "episodes": callback.episodes, "env_steps": int(model.num_timesteps)}


def delay_jobs(settings: DelaySettings) -> list[Job]:
    """Every (method, delay, seed), by method and rising delay."""
    return [
        Job(
            {"method": method, "delay": delay, "seed": seed},
            settings,
            budget=settings.ppo_steps if method == "ppo" else settings.max_episodes * (delay + 1),
        )
        for method in settings.methods
        for delay in settings.delays
        for seed in range(settings.seeds)
    ]


def run_delay(job: Job, progress: Progress) -> dict[str, Any]:
    """One run: the episode where its solving streak began (``None``: never), its
    training episodes and env steps."""
    method, delay, seed, settings = job.key["method"], int(job.key["delay"]), int(job.key["seed"]), job.settings
    started = time.perf_counter()
    if method == "ppo":
        result = _run_ppo(delay, seed, settings, progress)
    else:
        result = _run_tabular(method, delay, seed, settings, progress)
    return {
        **result,
        "reached": result["solved_at"] is not None,
        "max_episodes": settings.max_episodes,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _episodes_to_solve(run: Mapping[str, Any]) -> float:
    return float(run["max_episodes"] if run["solved_at"] is None else run["solved_at"])


def _caption(sources: list[dict[str, Any]]) -> str:
    first = sources[0]
    return (
        f"Episodes to solve: the episode where the greedy first choice began to be right for "
        f"{first.get('streak', 20)} consecutive episodes (PPO: probability >= 0.9); cap "
        f"{first.get('max_episodes', 20_000):,} (a capped run counts as the cap and as a failure); "
        f"distractor width {first.get('width', 3)}, PPO budget {first.get('ppo_steps', 300_000):,} env steps."
    )


def _slope(delays: np.ndarray, medians: np.ndarray) -> float:
    return round(float(np.polyfit(np.log(delays), np.log(np.maximum(medians, 1.0)), 1)[0]), 3)


def _growth(results: ResultFile, rows: list[dict[str, Any]]) -> str:
    """The slope of log(median episodes) against log(delay) per method, over every delay
    and over the delays whose median is below the cap."""
    caps: dict[tuple[str, int], float] = {}
    for run in results.runs:
        cell = (run["method"], run["delay"])
        caps[cell] = max(caps.get(cell, 0.0), float(run.get("max_episodes") or np.inf))
    lines = [
        "| method | slope of log(episodes) vs log(delay) | the same, over uncapped medians only |",
        "|---|---:|---:|",
    ]
    for method in dict.fromkeys(row["method"] for row in rows):
        cells = sorted((row["delay"], row[_METRIC]["median"]) for row in rows if row["method"] == method)
        if len(cells) < 2:
            continue
        delays, medians = np.array(cells, dtype=float).T
        uncapped = medians < np.array([caps[(method, int(delay))] for delay in delays])
        slope = _slope(delays, medians)
        uncapped_slope = _slope(delays[uncapped], medians[uncapped]) if 2 <= uncapped.sum() < len(medians) else slope
        lines.append(f"| {METHODS.get(method, method)} | {slope} | {uncapped_slope} |")
    return "\n".join(lines)


def _draw(results: ResultFile, rows: list[dict[str, Any]], path: str) -> None:
    line_chart(
        rows, path, metric=_METRIC, x="delay", series="method", xlabel="delay (steps)",
        ylabel="episodes to solve (median, quartiles)", log=True, names=METHODS,
    )


DELAY = Benchmark(
    name="delay",
    script="scripts/bench_delay.py",
    description=__doc__ or "",
    settings=DelaySettings,
    jobs=delay_jobs,
    run=run_delay,
    group_by=("method", "delay"),
    metrics=(Metric(_METRIC, _episodes_to_solve),),
    caption=_caption,
    draw=_draw,
    notes=_growth,
    names=METHODS,
    axes=("delays", "methods", "seeds"),
    uses_demonstrations=False,
)
