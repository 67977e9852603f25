"""PPO on redistributed reward: envs, callbacks, determinism, checkpoints."""

import functools
import json

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("minigrid")

from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402
from stable_baselines3.common.logger import Logger  # noqa: E402
from stable_baselines3.common.vec_env import SubprocVecEnv, VecNormalize  # noqa: E402

from rudder import AlignmentRedistributor  # noqa: E402
from rudder.agents import (  # noqa: E402
    BehaviorCloningSettings,
    PPOSettings,
    RedistributionLogger,
    RunSettings,
    evaluate_success,
    load_checkpoint,
    load_normalization,
    load_redistributor_from_checkpoint,
    make_ppo,
    redistribution_wrapper,
    save_checkpoint,
    train_sb3,
)
from rudder.envs.minigrid_tasks import (  # noqa: E402
    interaction_encoder,
    interaction_events,
    make_minigrid_env,
    minigrid_demonstrations,
)
from rudder.errors import DataFormatError  # noqa: E402

ENV_ID = "MiniGrid-KeyCorridorS3R3-v0"
SMALL = PPOSettings(n_steps=32, batch_size=64, n_epochs=2)


@pytest.fixture(scope="module")
def demos():
    return minigrid_demonstrations(ENV_ID, 4, seed=0)


@pytest.fixture(scope="module")
def redistributor(demos):
    return AlignmentRedistributor(interaction_encoder()).fit(demos)


def make_venv(redistributor, *, n_envs=2, seed=0, vec_env_cls=None, progress="box"):
    return make_vec_env(
        functools.partial(make_minigrid_env, ENV_ID),
        n_envs=n_envs,
        seed=seed,
        vec_env_cls=vec_env_cls,
        wrapper_class=redistribution_wrapper,
        wrapper_kwargs={"redistributor": redistributor, "progress": progress},
    )


class Recorder(BaseCallback):
    """Keeps the actions and rewards of every step."""

    def __init__(self):
        super().__init__()
        self.actions, self.rewards, self.infos = [], [], []

    def _on_step(self):
        self.actions.append(np.array(self.locals["actions"]).copy())
        self.rewards.append(np.array(self.locals["rewards"]).copy())
        self.infos.extend(self.locals["infos"])
        return True


def run_ppo(redistributor, seed, steps=320):
    model = make_ppo(make_venv(redistributor, seed=seed), SMALL, seed=seed)
    recorder = Recorder()
    model.learn(steps, callback=recorder)
    return np.concatenate(recorder.actions), np.concatenate(recorder.rewards), recorder


def test_same_seed_same_actions_and_rewards(redistributor):
    actions, rewards, _ = run_ppo(redistributor, seed=4)
    again_actions, again_rewards, _ = run_ppo(redistributor, seed=4)
    assert actions.shape[0] >= 320
    np.testing.assert_array_equal(actions, again_actions)
    np.testing.assert_array_equal(rewards, again_rewards)
    other_actions, _, _ = run_ppo(redistributor, seed=5)
    assert not np.array_equal(actions, other_actions)


def test_monitor_logs_the_true_return_below_the_redistribution(redistributor):
    _, _, recorder = run_ppo(redistributor, seed=1, steps=640)
    finished = [info for info in recorder.infos if "redistribution" in info]
    assert finished, "no episode finished"
    for info in finished:
        # Monitor (below) reports the env's return; the redistribution record agrees with it
        assert info["episode"]["r"] == pytest.approx(info["redistribution"]["episode_return"], abs=1e-5)
        assert info["redistribution"]["redistributed_return"] == pytest.approx(info["episode"]["r"], abs=1e-5)


class KeepingLogger(Logger):
    """An SB3 logger that keeps every recorded value."""

    def __init__(self):
        super().__init__(folder=None, output_formats=[])
        self.kept = {}

    def record(self, key, value, exclude=None):
        self.kept[key] = value
        super().record(key, value, exclude)


def test_redistribution_logger_records_to_the_sb3_logger(redistributor):
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


def test_subprocess_envs_match_in_process_envs(redistributor):
    dummy = make_venv(redistributor, seed=2)
    subprocess = make_venv(redistributor, seed=2, vec_env_cls=SubprocVecEnv)
    try:
        first, second = dummy.reset(), subprocess.reset()
        np.testing.assert_array_equal(first, second)
        rng = np.random.default_rng(0)
        for _ in range(60):
            actions = rng.integers(0, 7, size=2)
            a, ra, da, _ = dummy.step(actions)
            b, rb, db, _ = subprocess.step(actions)
            np.testing.assert_array_equal(a, b)
            np.testing.assert_allclose(ra, rb, rtol=1e-6)  # DummyVecEnv keeps float32 rewards
            np.testing.assert_array_equal(da, db)
    finally:
        dummy.close()
        subprocess.close()


def test_evaluate_success_counts_episodes_evenly(redistributor, demos):
    class Planner:
        """Replays the planner inside each env (a perfect policy)."""

        def __init__(self, venv):
            from rudder.envs.minigrid_tasks import MinigridPlanner

            self.planners = [MinigridPlanner(env) for env in venv.envs]

        def predict(self, observations, state=None, episode_start=None, deterministic=False):
            return np.array([planner.plan_action() for planner in self.planners]), None

    venv = make_venv(redistributor, n_envs=3)
    result = evaluate_success(Planner(venv), venv, num_episodes=7, seed=0)
    assert result["success_rate"] == 1.0 and result["mean_return"] > 0.8
    model = make_ppo(make_venv(redistributor), SMALL, seed=0)
    random_result = evaluate_success(model, make_venv(redistributor), num_episodes=4, seed=0)
    assert 0.0 <= random_result["success_rate"] <= 1.0


def test_checkpoint_resume_continues_with_the_same_redistributor(redistributor, demos, tmp_path):
    venv = make_venv(redistributor)
    model = make_ppo(venv, SMALL, seed=0)
    model.learn(128)
    path = save_checkpoint(tmp_path / "run", model, SMALL, redistributor=redistributor, seed=0, metadata={"env": ENV_ID})
    record = json.loads((path / "checkpoint.json").read_text())
    assert record["num_timesteps"] == 128 and record["metadata"] == {"env": ENV_ID}

    loaded_redistributor = load_redistributor_from_checkpoint(path, function=interaction_events)
    for demo in demos:
        np.testing.assert_array_equal(loaded_redistributor.redistribute(demo), redistributor.redistribute(demo))
    np.testing.assert_array_equal(loaded_redistributor.profile.scores, redistributor.profile.scores)

    resumed, settings, _ = load_checkpoint(path, make_venv(loaded_redistributor))
    assert settings == SMALL and resumed.num_timesteps == 128
    for a, b in zip(model.policy.state_dict().values(), resumed.policy.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy())
    observation = venv.reset()
    np.testing.assert_allclose(
        model.policy.predict_values(model.policy.obs_to_tensor(observation)[0]).detach().numpy(),
        resumed.policy.predict_values(resumed.policy.obs_to_tensor(observation)[0]).detach().numpy(),
    )
    resumed.learn(64, reset_num_timesteps=False)
    assert resumed.num_timesteps == 128 + 64
    # the resumed env redistributes with the checkpoint's profile
    assert resumed.get_env().get_attr("redistributor")[0] is loaded_redistributor


def test_checkpoint_keeps_normalization_and_refuses_bad_directories(redistributor, tmp_path):
    venv = VecNormalize(make_venv(redistributor))
    model = make_ppo(venv, SMALL, seed=0)
    model.learn(64)
    path = save_checkpoint(tmp_path / "run", model, SMALL, normalization=venv)
    restored = load_normalization(path, make_venv(redistributor))
    np.testing.assert_array_equal(restored.obs_rms.mean, venv.obs_rms.mean)
    assert restored.obs_rms.count == venv.obs_rms.count
    assert load_redistributor_from_checkpoint(path) is None

    other = tmp_path / "not-a-checkpoint"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a checkpoint"):
        save_checkpoint(other, model, SMALL)
    assert (other / "notes.txt").read_text() == "keep me"
    with pytest.raises(FileNotFoundError, match="not a checkpoint"):
        load_checkpoint(other, venv)

    record = json.loads((path / "checkpoint.json").read_text())
    record["format_version"] = 99
    (path / "checkpoint.json").write_text(json.dumps(record))
    with pytest.raises(DataFormatError, match="newer"):
        load_checkpoint(path, venv)


def test_train_sb3_runs_every_method_briefly(demos, tmp_path):
    make_env = functools.partial(make_minigrid_env, ENV_ID)
    for method in ("ppo", "bc", "bc-ppo", "align-rudder"):
        settings = RunSettings(
            method=method, total_timesteps=256, n_envs=2, eval_every=128, eval_episodes=2, ppo=SMALL,
            behavior_cloning=BehaviorCloningSettings(epochs=2),
        )
        outcome = train_sb3(make_env, demos, settings=settings, encoder=interaction_encoder(), seed=0,
                            checkpoint=tmp_path / method)
        assert outcome.curve and outcome.curve[0][0] == 0
        expected_steps = 0 if method == "bc" else 256
        assert outcome.timesteps >= expected_steps
        assert (outcome.redistributor is not None) == (method == "align-rudder")
        assert (tmp_path / method / "checkpoint.json").is_file()
    with pytest.raises(ValueError, match="encoder"):
        train_sb3(make_env, demos, settings=RunSettings(method="align-rudder", total_timesteps=0))
    with pytest.raises(ValueError, match="method"):
        RunSettings(method="dqn")


def test_rudder_training_retrains_the_lstm_during_ppo():
    import gymnasium as gym
    import torch

    from rudder.agents import RudderTraining
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
