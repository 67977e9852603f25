"""make_ppo: determinism, Monitor below the redistribution, subprocess envs, policy aliases."""

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("minigrid")

from stable_baselines3.common.vec_env import SubprocVecEnv  # noqa: E402

from rudder.agents.sb3 import PPOSettings, SubtaskPolicy, make_ppo, policy_aliases  # noqa: E402

ENV_ID = "MiniGrid-KeyCorridorS3R3-v0"
SMALL = PPOSettings(n_steps=32, batch_size=64, n_epochs=2)


def run_ppo(make_venv, redistributor, Recorder, seed, steps=320):  # noqa: N803
    model = make_ppo(make_venv(redistributor, seed=seed), SMALL, seed=seed)
    recorder = Recorder()
    model.learn(steps, callback=recorder)
    return np.concatenate(recorder.actions), np.concatenate(recorder.rewards), recorder


def test_same_seed_same_actions_and_rewards(redistributor, make_venv, Recorder):
    actions, rewards, _ = run_ppo(make_venv, redistributor, Recorder, seed=4)
    again_actions, again_rewards, _ = run_ppo(make_venv, redistributor, Recorder, seed=4)
    assert actions.shape[0] >= 320
    np.testing.assert_array_equal(actions, again_actions)
    np.testing.assert_array_equal(rewards, again_rewards)
    other_actions, _, _ = run_ppo(make_venv, redistributor, Recorder, seed=5)
    assert not np.array_equal(actions, other_actions)


def test_monitor_logs_the_true_return_below_the_redistribution(redistributor, make_venv, Recorder):
    _, _, recorder = run_ppo(make_venv, redistributor, Recorder, seed=1, steps=640)
    finished = [info for info in recorder.infos if "redistribution" in info]
    assert finished, "no episode finished"
    for info in finished:
        # Monitor (below) reports the env's return; the redistribution record agrees with it
        assert info["episode"]["r"] == pytest.approx(info["redistribution"]["episode_return"], abs=1e-5)
        assert info["redistribution"]["redistributed_return"] == pytest.approx(info["episode"]["r"], abs=1e-5)


@pytest.mark.slow  # > 8 s on 2 shared cores
def test_subprocess_envs_match_in_process_envs(redistributor, make_venv):
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


def test_policy_aliases_name_rudders_own_policies(redistributor, make_venv):
    assert policy_aliases == {"SubtaskPolicy": SubtaskPolicy}
    model = make_ppo(make_venv(redistributor), SMALL, seed=0)
    assert type(model.policy).__name__ == "ActorCriticPolicy" and model.device.type == "cpu"
