"""The SB3 callbacks: redistribution logging, the cloned-success probe, RUDDER's LSTM
retraining, cloning between updates, and sub-task return boundaries."""

import math
from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

import gymnasium as gym  # noqa: E402
import torch  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402
from stable_baselines3.common.logger import Logger  # noqa: E402

from rudder.agents.sb3 import (  # noqa: E402
    ClonedSuccessProbe,
    CloningRegularizer,
    KeepCloning,
    PPOSettings,
    RedistributionLogger,
    RudderTraining,
    SubtaskBoundaries,
    make_ppo,
)
from rudder.agents.sb3.callbacks import binomial_lower_tail  # noqa: E402

SMALL = PPOSettings(n_steps=32, batch_size=64, n_epochs=2)


class KeepingLogger(Logger):
    """An SB3 logger that keeps every recorded value."""

    def __init__(self):
        super().__init__(folder=None, output_formats=[])
        self.kept = {}

    def record(self, key, value, exclude=None):
        self.kept[key] = value
        super().record(key, value, exclude)


@pytest.mark.slow  # > 8 s on 2 shared cores
def test_redistribution_logger_records_to_the_sb3_logger(redistributor, make_venv):
    pytest.importorskip("minigrid")
    model = make_ppo(make_venv(redistributor), SMALL, seed=0)
    kept = KeepingLogger()
    model.set_logger(kept)
    logger = RedistributionLogger()
    model.learn(1000, callback=logger)
    assert logger.episodes, "no episode finished"
    for key in ("episode_return", "redistributed_return", "correction", "profile_position", "sub_goals_reached"):
        assert f"rudder/{key}" in kept.kept
    assert kept.kept["rudder/sub_goals_reached"] <= len(redistributor.profile.consensus)
    assert kept.kept["rudder/episode_return"] == pytest.approx(kept.kept["rudder/redistributed_return"], abs=1e-5)


@pytest.mark.slow  # > 8 s on 2 shared cores
def test_rudder_training_retrains_the_lstm_during_ppo(Recorder):
    from rudder.envs.delay import DelayedChoiceEnv
    from rudder.redistribution import LSTMRedistributor
    from rudder.wrappers import RedistributedReward

    torch.set_num_threads(1)

    class Features(gym.ObservationWrapper):
        def __init__(self, env):
            super().__init__(env)
            self.observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)

        def observation(self, observation):
            inner = self.env.unwrapped
            return np.array([inner._t / inner.delay, inner._choice, inner._x / 3], dtype=np.float32)

    redistributor = LSTMRedistributor(gym.spaces.Box(-1.0, 1.0, (3,)), gym.spaces.Discrete(2), hidden_size=8)
    venv = make_vec_env(
        lambda: Features(DelayedChoiceEnv(5)), n_envs=2, seed=0,
        wrapper_class=RedistributedReward, wrapper_kwargs={"redistributor": redistributor, "record_episodes": True},
    )
    model = make_ppo(venv, PPOSettings(n_steps=48, batch_size=48, n_epochs=2), seed=0)
    training = RudderTraining(redistributor, every_rollouts=1, sample_size=16, epochs=3, min_episodes=8)
    recorder = Recorder()
    model.learn(1500, callback=[training, recorder])
    assert training.retrainings > 0 and len(training.buffer) > 8
    assert redistributor.is_trained
    finished = [info for info in recorder.infos if "redistribution" in info]
    assert finished
    for info in finished:
        record = info["episode_record"]
        assert record.length == 6
        assert info["redistribution"]["redistributed_return"] == pytest.approx(record.episode_return, abs=1e-6)


def test_keep_cloning_runs_after_every_rollout(corridor_episode, make_model):
    rng = np.random.default_rng(1)
    demos = [corridor_episode(rng) for _ in range(4)]
    model = make_model()
    calls = []
    regularizer = CloningRegularizer(model.policy, demos, steps=1, batch_size=8)

    def counted():
        calls.append(model.num_timesteps)
        return regularizer()

    model.learn(48, callback=KeepCloning(counted))
    assert calls == [16, 32, 48]


def test_boundaries_end_each_agents_return_with_its_sub_task():
    from types import SimpleNamespace

    from gymnasium import spaces
    from stable_baselines3.common.buffers import RolloutBuffer

    buffer = RolloutBuffer(6, spaces.Box(0, 1, (3,)), spaces.Discrete(2), gamma=0.9, gae_lambda=1.0, n_envs=1)
    subtasks = [0, 0, 0, 1, 1, 1]
    rewards = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    for step, (subtask, reward) in enumerate(zip(subtasks, rewards)):
        observation = np.array([[0.3, 1.0 - subtask, float(subtask)]], dtype=np.float32)
        buffer.add(
            observation, np.array([[0]]), np.array([reward]), np.array([step == 0]),
            torch.tensor([[0.5]]), torch.tensor([0.0]),
        )
    last_values = torch.tensor([[0.5]])
    buffer.compute_returns_and_advantage(last_values=last_values, dones=np.array([False]))
    assert buffer.returns[2, 0] == pytest.approx(1.0 + 0.9 * 0.9**2 * 0.9 * 0.5)  # runs on into sub-task 1
    callback = SubtaskBoundaries(2, normalize_advantages=False)
    callback.init_callback(SimpleNamespace(rollout_buffer=buffer, logger=Logger(None, []), get_env=lambda: None))
    callback.update_locals(
        {"new_obs": np.array([[0.3, 0.0, 1.0]], dtype=np.float32), "dones": np.array([False]), "values": last_values}
    )
    callback.on_rollout_end()
    expected = [0.81, 0.9, 1.0, 0.9**3 * 0.5, 0.9**2 * 0.5, 0.9 * 0.5]
    assert buffer.returns[:, 0] == pytest.approx(expected)
    assert buffer.advantages[:, 0] == pytest.approx(np.array(expected) - 0.5)
    # Standardised per sub-task: each agent's advantages have mean 0 and std 1 on their own,
    # and PPO's minibatch standardisation (which would mix them) is switched off.
    model = SimpleNamespace(rollout_buffer=buffer, logger=Logger(None, []), get_env=lambda: None, normalize_advantage=True, num_timesteps=0)
    per_agent = SubtaskBoundaries(2)
    per_agent.init_callback(model)
    per_agent.on_training_start({}, {})
    per_agent.update_locals(callback.locals)
    assert model.normalize_advantage is False
    per_agent.on_rollout_end()
    raw = np.array(expected) - 0.5
    for rows in (slice(0, 3), slice(3, 6)):
        part = raw[rows]
        assert buffer.advantages[rows, 0] == pytest.approx((part - part.mean()) / (part.std() + 1e-8), abs=1e-6)


def _boundary_rollout():
    """The rollout of the test above: sub-task 0 for three steps (its sub-goal pays 1 at
    the third), then sub-task 1; every value 0.5, gamma 0.9, GAE's lambda 1."""
    from types import SimpleNamespace

    from gymnasium import spaces
    from stable_baselines3.common.buffers import RolloutBuffer

    buffer = RolloutBuffer(6, spaces.Box(0, 1, (3,)), spaces.Discrete(2), gamma=0.9, gae_lambda=1.0, n_envs=1)
    for step, (subtask, reward) in enumerate(zip([0, 0, 0, 1, 1, 1], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0])):
        observation = np.array([[0.3, 1.0 - subtask, float(subtask)]], dtype=np.float32)
        buffer.add(
            observation, np.array([[0]]), np.array([reward]), np.array([step == 0]),
            torch.tensor([[0.5]]), torch.tensor([0.0]),
        )
    model = SimpleNamespace(rollout_buffer=buffer, logger=Logger(None, []), get_env=lambda: None)
    new_obs = np.array([[0.3, 0.0, 1.0]], dtype=np.float32)
    return model, {"new_obs": new_obs, "dones": np.array([False]), "values": torch.tensor([[0.5]])}


def test_bootstrapped_boundaries_value_the_hand_over_by_the_next_agent():
    """With ``bootstrap`` the last step of sub-task 0 is worth its sub-goal's 1 plus gamma
    times the next agent's value (0.5), hand-computed; sub-task 1's steps are as without."""
    model, locals_ = _boundary_rollout()
    callback = SubtaskBoundaries(2, normalize_advantages=False, bootstrap=True)
    callback.init_callback(model)
    callback.update_locals(locals_)
    callback.on_rollout_end()
    handed_over = 1.0 + 0.9 * 0.5
    expected = [0.81 * handed_over, 0.9 * handed_over, handed_over, 0.9**3 * 0.5, 0.9**2 * 0.5, 0.9 * 0.5]
    assert model.rollout_buffer.returns[:, 0] == pytest.approx(expected)
    assert model.rollout_buffer.advantages[:, 0] == pytest.approx(np.array(expected) - 0.5)


def test_bootstrapped_boundaries_do_not_bootstrap_past_an_episode_end():
    """A sub-task that ends because its episode ended (the agent died) is worth its rewards only."""
    model, locals_ = _boundary_rollout()
    model.rollout_buffer.episode_starts[3, 0] = 1.0  # the episode ended at step 2; a new one began
    callback = SubtaskBoundaries(2, normalize_advantages=False, bootstrap=True)
    callback.init_callback(model)
    callback.update_locals(locals_)
    callback.on_rollout_end()
    assert model.rollout_buffer.returns[:3, 0] == pytest.approx([0.81, 0.9, 1.0])


@pytest.mark.parametrize("seed", range(5))
def test_subtask_advantages_without_switches_are_stable_baselines3s_gae(seed):
    """The oracle: with no sub-task change, :func:`subtask_advantages` is SB3's GAE."""
    from gymnasium import spaces
    from stable_baselines3.common.buffers import RolloutBuffer

    from rudder.agents.sb3.callbacks import subtask_advantages

    rng = np.random.default_rng(seed)
    steps, envs = 17, 3
    buffer = RolloutBuffer(steps, spaces.Box(0, 1, (1,)), spaces.Discrete(2), gamma=0.97, gae_lambda=0.9, n_envs=envs)
    starts = rng.random((steps, envs)) < 0.2
    for step in range(steps):
        buffer.add(
            np.zeros((envs, 1), dtype=np.float32), np.zeros((envs, 1)), rng.normal(size=envs), starts[step],
            torch.as_tensor(rng.normal(size=(envs, 1))), torch.zeros(envs),
        )
    last_values, last_dones = rng.normal(size=envs), rng.random(envs) < 0.3
    buffer.compute_returns_and_advantage(last_values=torch.as_tensor(last_values[:, None]), dones=last_dones)
    ours = subtask_advantages(
        buffer.rewards,
        buffer.values,
        episode_starts=buffer.episode_starts,
        switched=np.zeros((steps, envs), dtype=bool),
        last_values=last_values,
        last_dones=last_dones,
        last_switched=np.zeros(envs, dtype=bool),
        gamma=0.97,
        gae_lambda=0.9,
    )
    np.testing.assert_allclose(ours, buffer.advantages, rtol=1e-5, atol=1e-6)


class Scripted(gym.Env):
    """Episodes whose lengths and outcomes follow a script, whatever the actions:
    ``script[k] = (length, success)`` of the k-th episode (the last one repeats)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,))
    action_space = gym.spaces.Discrete(2)

    def __init__(self, script):
        self.script = script
        self.episode = -1
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        length, success = self.script[min(self.episode, len(self.script) - 1)]
        done = self.t >= length
        return np.zeros(1, dtype=np.float32), 0.0, done, False, {"is_success": success} if done else {}


def _probe_run(scripts, probe, *, budget=512):
    """PPO on one scripted env per script, with ``probe``."""
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    venv = DummyVecEnv([lambda script=script: Monitor(Scripted(script)) for script in scripts])
    model = make_ppo(venv, PPOSettings(n_steps=16, batch_size=32, n_epochs=1), seed=0)
    model.learn(budget, callback=probe)
    return model


def test_probe_counts_the_first_episodes_of_every_env():
    # env 0: success, failure; env 1: success, success -> 3 of 4
    probe = ClonedSuccessProbe(threshold=0.5, max_episodes_per_env=2, max_rollouts=10)
    model = _probe_run([[(5, True), (7, False)], [(3, True)]], probe)
    assert probe.success_rate == 0.75 and probe.episodes == 4 and not probe.stopped
    assert model.num_timesteps == 512  # trains on


def test_probe_counts_as_many_episodes_as_every_env_finished():
    # 2 rollouts of 16 steps: env 0 (episodes of 10 steps, failures) finishes 3, env 1
    # (2 steps, successes) 16 -> the first 3 of each: 3 of 6, never env 1's 16 successes
    probe = ClonedSuccessProbe(threshold=0.5, max_rollouts=2)
    _probe_run([[(10, False)], [(2, True)]], probe)
    assert probe.episodes == 6 and probe.success_rate == 0.5


def test_probe_stops_training_below_its_threshold_and_counts_long_failures():
    # env 0 never ends within the probe's 3 rollouts of 16 steps: its two episodes are
    # failures, although env 1's short episodes all succeed -> 2 of 4; a one-sided test at
    # 0.6 gives P(X <= 2) = 0.5248 for 4 episodes, so only a lax level stops
    probe = ClonedSuccessProbe(threshold=0.6, significance=0.6, max_rollouts=3)
    model = _probe_run([[(1000, True)], [(2, True)]], probe)
    assert probe.success_rate == 0.5 and probe.stopped
    assert probe.p_value == pytest.approx(0.5248)
    # decided at the end of the third rollout (3 x 16 steps x 2 envs); learn ends at the next step
    assert model.num_timesteps == 3 * 16 * 2 + 2
    kept = ClonedSuccessProbe(threshold=0.6, max_rollouts=3)
    model = _probe_run([[(1000, True)], [(2, True)]], kept)
    assert kept.success_rate == 0.5 and not kept.stopped and model.num_timesteps == 512


@pytest.mark.parametrize(("successes", "stopped"), [(4, True), (5, False)])
def test_probe_stops_only_on_evidence(successes, stopped):
    # 8 envs, 2 episodes each: 4 of 16 successes gives P(X <= 4) = 2517 / 65536 = 0.038
    # at 0.5, below the level 0.05; 5 of 16 gives 0.105, which keeps the clone
    scripts = [[(3, 2 * k < successes), (3, 2 * k + 1 < successes)] for k in range(8)]
    probe = ClonedSuccessProbe(threshold=0.5, significance=0.05, max_episodes_per_env=2, max_rollouts=4)
    _probe_run(scripts, probe, budget=1024)
    assert probe.episodes == 16 and probe.success_rate == successes / 16
    assert probe.stopped is stopped
    assert probe.p_value == pytest.approx(sum(math.comb(16, k) for k in range(successes + 1)) / 2**16)


@pytest.mark.parametrize(("successes", "stopped"), [(5, True), (6, False)])
def test_the_rules_probe_hands_over_at_its_level(successes, stopped):
    # the rule's level, 0.2: 5 of 16 gives P(X <= 5) = 6885 / 65536 = 0.105, which hands
    # over to sub-task agents (at 0.05 it would not); 6 of 16 gives 0.227, which keeps the clone
    from rudder.agents.sb3 import (
        SUBTASK_AGENTS_MAX_CLONED_SUCCESS,
        SUBTASK_AGENTS_PROBE_SIGNIFICANCE,
    )

    scripts = [[(3, 2 * k < successes), (3, 2 * k + 1 < successes)] for k in range(8)]
    probe = ClonedSuccessProbe(
        threshold=SUBTASK_AGENTS_MAX_CLONED_SUCCESS, significance=SUBTASK_AGENTS_PROBE_SIGNIFICANCE,
        max_episodes_per_env=2, max_rollouts=4,
    )
    _probe_run(scripts, probe, budget=1024)
    assert probe.episodes == 16 and probe.stopped is stopped
    assert probe.p_value == pytest.approx(sum(math.comb(16, k) for k in range(successes + 1)) / 2**16)


def test_binomial_lower_tail_against_exact_sums():
    assert binomial_lower_tail(4, 16, 0.5) == pytest.approx(2517 / 65536, rel=1e-12)
    for trials in (0, 1, 7, 40):
        for probability in (0.0, 0.1, 0.5, 0.93, 1.0):
            for successes in range(trials + 1):
                exact = sum(
                    Fraction(math.comb(trials, k)) * Fraction(probability) ** k * (1 - Fraction(probability)) ** (trials - k)
                    for k in range(successes + 1)
                )
                assert binomial_lower_tail(successes, trials, probability) == pytest.approx(float(exact), rel=1e-9, abs=1e-300)
    # thousands of trials neither overflow nor underflow to nonsense
    assert binomial_lower_tail(5000, 10_000, 0.5) == pytest.approx(float(Fraction(1, 2) + Fraction(math.comb(10_000, 5000), 2**10_001)), rel=1e-9)
    assert binomial_lower_tail(0, 10_000, 0.5) == 0.0
    with pytest.raises(ValueError, match="successes"):
        binomial_lower_tail(5, 4, 0.5)
    with pytest.raises(ValueError, match="probability"):
        binomial_lower_tail(1, 4, 1.5)


def test_probe_rejects_bad_settings():
    with pytest.raises(ValueError, match="threshold"):
        ClonedSuccessProbe(threshold=1.5)
    with pytest.raises(ValueError, match="min_episodes_per_env"):
        ClonedSuccessProbe(min_episodes_per_env=0)
    with pytest.raises(ValueError, match="max_episodes_per_env"):
        ClonedSuccessProbe(min_episodes_per_env=4, max_episodes_per_env=2)
    with pytest.raises(ValueError, match="significance"):
        ClonedSuccessProbe(significance=0.0)
