"""Episodes to solve a delayed-reward choice against the delay: TD, Monte Carlo, PPO, RUDDER.

    python scripts/bench_delay.py --delays 10 20 50 100 200 500 --seeds 5 \\
        --methods td mc rudder ppo --out benchmarks/results/delay.json \\
        --markdown benchmarks/results/delay.md --png benchmarks/results/delay.png

The task (:class:`rudder.envs.delay.DelayedChoiceEnv`): the first action decides whether
the episode pays 1, but the reward comes ``delay`` steps later, while a distractor
random-walks; the wrong first action pays a lure of 0.1 at once. Solved = the greedy first action has been the right one after each of 20
consecutive training episodes (for PPO, whose untrained policy may already prefer it by
chance: the probability of the right first action is at least 0.9); the metric is the
episode where that streak began, capped at ``--max-episodes`` (a capped run counts as
the cap and as a failure).

- ``td``: tabular Q(lambda) (replacing traces, lambda 0.9, alpha 0.1, epsilon 0.1, gamma 1).
- ``mc``: tabular constant-alpha Monte Carlo (alpha 0.1, epsilon 0.1).
- ``rudder``: the same epsilon-greedy tabular Q-learner on RUDDER's redistributed reward:
  an LSTM (``rudder.redistribution.LSTMRedistributor``) trained on a lessons buffer every
  10 episodes; until its quality gate opens the env reward is used.
- ``ppo``: stable-baselines3 PPO on the features (t / delay, choice, x / width), with an
  env-step budget ``--ppo-steps``.

The growth with the delay is summarised by the slope of log(episodes) against
log(delay) (1: linear growth) per method.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from rudder.arguments import parse_arguments
from rudder.benchmarking import run_jobs, write_json


@dataclasses.dataclass
class Args:
    delays: tuple[int, ...] = (10, 20, 50, 100, 200, 500)
    methods: tuple[str, ...] = ("td", "mc", "rudder", "ppo")
    seeds: int = 5
    width: int = 3
    max_episodes: int = 20_000
    streak: int = 20
    ppo_steps: int = 300_000
    workers: int = 2
    out: str = "delay.json"
    markdown: str = ""
    png: str = ""
    summarise_only: bool = False


HELP = {
    "delays": "delays to run",
    "methods": "td, mc, rudder, ppo",
    "seeds": "seeds per (method, delay)",
    "width": "half-width of the distractor's random walk",
    "max_episodes": "episode cap per run",
    "streak": "consecutive correct greedy choices that count as solved",
    "ppo_steps": "env-step budget of a PPO run",
    "workers": "runs in parallel",
    "out": "JSON results (rewritten after every run)",
    "markdown": "markdown table file",
    "png": "PNG plot of episodes against delay",
    "summarise_only": "rewrite the table and plot from --out without running",
}

ALPHA, EPSILON, LAMBDA = 0.1, 0.1, 0.9


class Streak:
    """Tracks when the greedy first choice became and stayed right."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.start: int | None = None
        self.count = 0

    def update(self, episode: int, correct: bool) -> bool:
        if correct:
            if self.count == 0:
                self.start = episode
            self.count += 1
        else:
            self.count = 0
        return self.count >= self.length


def greedy_right(q: np.ndarray) -> bool:
    return bool(q[0, 1] > q[0, 0])


def run_episode(env, q: np.ndarray, rng: np.random.Generator, seed: int):
    state, _ = env.reset(seed=seed)
    states, actions, rewards, features = [state], [], [], [features_of(env)]
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
        features.append(features_of(env))
    return np.array(states), np.array(actions), np.array(rewards), np.array(features, dtype=np.float32)


def features_of(env) -> list[float]:
    return [env._t / env.delay, float(env._choice) if env._t else 0.5, env._x / max(env.width, 1)]


def q_lambda_update(q, states, actions, rewards, *, lam=LAMBDA) -> None:
    """Q(lambda) with replacing traces, applied step by step along the episode (gamma 1)."""
    horizon = int(np.ceil(np.log(1e-4) / np.log(lam))) if lam > 0 else 1
    decay = lam ** np.arange(horizon)
    for t in range(len(actions)):
        terminal = t == len(actions) - 1
        target = rewards[t] + (0.0 if terminal else q[states[t + 1]].max())
        delta = target - q[states[t], actions[t]]
        first = max(0, t - horizon + 1)
        weights = decay[: t - first + 1][::-1]
        q[states[first : t + 1], actions[first : t + 1]] += ALPHA * delta * weights


def monte_carlo_update(q, states, actions, rewards) -> None:
    returns = np.cumsum(rewards[::-1])[::-1]
    for t in range(len(actions)):
        q[states[t], actions[t]] += ALPHA * (returns[t] - q[states[t], actions[t]])


def run_tabular(method: str, delay: int, seed: int, args: Args) -> dict:
    from rudder.envs.delay import DelayedChoiceEnv

    env = DelayedChoiceEnv(delay, width=args.width)
    rng = np.random.default_rng(seed)
    q = np.zeros((env.observation_space.n, 2))
    streak = Streak(args.streak)
    redistributor = buffer = None
    if method == "rudder":
        import gymnasium as gym
        import torch

        from rudder.data import Episode
        from rudder.redistribution import LessonsBuffer, LSTMRedistributor

        torch.set_num_threads(1)
        redistributor = LSTMRedistributor(
            gym.spaces.Box(-1.0, 1.0, (3,)), gym.spaces.Discrete(2), hidden_size=16, batch_size=16, seed=seed
        )
        buffer = LessonsBuffer(128, seed=seed)
    for episode in range(args.max_episodes):
        states, actions, rewards, features = run_episode(env, q, rng, seed * 1_000_003 + episode)
        if method == "td":
            q_lambda_update(q, states, actions, rewards)
        elif method == "mc":
            monte_carlo_update(q, states, actions, rewards)
        else:
            record = Episode(observations=features, actions=actions, rewards=rewards, terminated=True)
            priority = float(redistributor.episode_losses([record])[0]) if redistributor.is_trained else None
            buffer.add(record, priority)
            if episode % 10 == 9 and len(buffer) >= 16 and buffer.has_return_variance():
                index, sample = buffer.sample(32)
                if redistributor.is_trained or np.ptp([e.episode_return for e in sample]) > 0:
                    redistributor.fit(sample, epochs=5)
                    buffer.update_priorities(index, redistributor.episode_losses(sample))
            redistributed = redistributor.redistribute(record)
            q_lambda_update(q, states, actions, redistributed, lam=0.0)
        if streak.update(episode, greedy_right(q)):
            return {"solved_at": streak.start, "episodes": episode + 1}
    return {"solved_at": None, "episodes": args.max_episodes}


def run_ppo(delay: int, seed: int, args: Args) -> dict:
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    from rudder.envs.delay import DelayedChoiceEnv

    torch.set_num_threads(1)

    class Features(gym.ObservationWrapper):
        def __init__(self, env):
            super().__init__(env)
            self.observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)

        def observation(self, observation):
            return np.array(features_of(self.env.unwrapped), dtype=np.float32)

    class Solved(BaseCallback):
        def __init__(self):
            super().__init__()
            self.streak = Streak(args.streak)
            self.episodes = 0
            self.solved_at = None

        def _on_step(self) -> bool:
            for done in self.locals["dones"]:
                if done:
                    start = np.array([features_of(DelayedChoiceEnv(delay, width=args.width))], dtype=np.float32)
                    observation, _ = self.model.policy.obs_to_tensor(start)
                    with torch.no_grad():
                        right = float(self.model.policy.get_distribution(observation).distribution.probs[0, 1])
                    if self.streak.update(self.episodes, right >= 0.9):
                        self.solved_at = self.streak.start
                        return False
                    self.episodes += 1
            return self.episodes < args.max_episodes

    venv = make_vec_env(lambda: Features(DelayedChoiceEnv(delay, width=args.width)), n_envs=4, seed=seed)
    model = PPO("MlpPolicy", venv, n_steps=128, batch_size=128, gamma=1.0, seed=seed, device="cpu")
    callback = Solved()
    model.learn(args.ppo_steps, callback=callback)
    return {"solved_at": callback.solved_at, "episodes": callback.episodes}


def run_one(job) -> dict:
    method, delay, seed, args = job
    started = time.perf_counter()
    result = run_ppo(delay, seed, args) if method == "ppo" else run_tabular(method, delay, seed, args)
    return {"method": method, "delay": delay, "seed": seed, **result, "seconds": round(time.perf_counter() - started, 1)}


def summarise(args: Args, runs: list[dict]) -> dict:
    rows, growth, uncapped_growth = [], {}, {}
    for method in args.methods:
        medians = []
        for delay in args.delays:
            chosen = [run for run in runs if run["method"] == method and run["delay"] == delay]
            if not chosen:
                continue
            episodes = [run["solved_at"] if run["solved_at"] is not None else args.max_episodes for run in chosen]
            median = float(np.median(episodes))
            medians.append((delay, median))
            rows.append({
                "method": method, "delay": delay, "seeds": len(chosen), "episodes": episodes, "median": median,
                "failures": sum(run["solved_at"] is None for run in chosen),
            })
        if len(medians) >= 2:
            delays, values = np.array(medians).T
            slope = np.polyfit(np.log(delays), np.log(np.maximum(values, 1.0)), 1)[0]
            growth[method] = round(float(slope), 3)
            uncapped = values < args.max_episodes
            if 2 <= uncapped.sum() < len(values):
                slope = np.polyfit(np.log(delays[uncapped]), np.log(np.maximum(values[uncapped], 1.0)), 1)[0]
                uncapped_growth[method] = round(float(slope), 3)
            else:
                uncapped_growth[method] = growth[method]
    return {"rows": rows, "log_log_slope": growth, "log_log_slope_uncapped": uncapped_growth}


def markdown(args: Args, summary: dict) -> str:
    methods = [m for m in args.methods if any(r["method"] == m for r in summary["rows"])]
    lines = [
        "Median episodes to solve (greedy first choice right for "
        f"{args.streak} consecutive episodes; cap {args.max_episodes:,}, failures in brackets).",
        "",
        "| delay | " + " | ".join(methods) + " |",
        "|---|" + "---|" * len(methods),
    ]
    for delay in args.delays:
        cells = []
        for method in methods:
            row = next((r for r in summary["rows"] if r["method"] == method and r["delay"] == delay), None)
            cells.append("" if row is None else f"{row['median']:,.0f}" + (f" ({row['failures']})" if row["failures"] else ""))
        lines.append(f"| {delay} | " + " | ".join(cells) + " |")
    lines.append("| slope of log(episodes) vs log(delay) | " + " | ".join(
        str(summary["log_log_slope"].get(m, "")) for m in methods) + " |")
    lines.append("| the same, over uncapped medians only | " + " | ".join(
        str(summary["log_log_slope_uncapped"].get(m, "")) for m in methods) + " |")
    return "\n".join(lines)


def draw(args: Args, summary: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for method in args.methods:
        rows = [r for r in summary["rows"] if r["method"] == method]
        if rows:
            axis.plot([r["delay"] for r in rows], [max(r["median"], 1) for r in rows], marker="o", label=method)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("delay (steps)")
    axis.set_ylabel("episodes to solve (median)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write(args: Args, runs: list[dict], command: str, elapsed: float) -> dict:
    summary = summarise(args, runs)
    record = {"command": command, "elapsed_seconds": round(elapsed, 1), "settings": dataclasses.asdict(args), **summary, "runs": runs}
    write_json(args.out, record)
    if args.markdown:
        Path(args.markdown).write_text(f"Command: `{command}`\n\n{markdown(args, summary)}\n")
    if args.png and runs:
        draw(args, summary, args.png)
    return summary


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_arguments(Args, argv, help=HELP, description=__doc__)
    unknown = sorted(set(args.methods) - {"td", "mc", "rudder", "ppo"})
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; choose from td, mc, rudder, ppo")
    command = "python scripts/bench_delay.py " + " ".join(argv)
    if args.summarise_only:
        record = json.loads(Path(args.out).read_text())
        summary = write(args, record["runs"], record["command"], record["elapsed_seconds"])
        print(markdown(args, summary))
        return 0
    jobs = [(method, delay, seed, args) for delay in args.delays for method in args.methods for seed in range(args.seeds)]
    started = time.perf_counter()
    runs: list[dict] = []
    for run in run_jobs(run_one, jobs, workers=args.workers):
        runs.append(run)
        write(args, runs, command, time.perf_counter() - started)
    summary = write(args, runs, command, time.perf_counter() - started)
    print(markdown(args, summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
