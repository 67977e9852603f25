"""The generality benchmark: a tiny sweep through the harness, the success wrapper of the
classic-control tasks, the events rule and the budgets."""

import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("minigrid")

import numpy as np  # noqa: E402

from rudder.envs.classic_control import MOUNTAIN_CAR, make_delayed_env, mountain_car_policy  # noqa: E402
from rudder.events import FeatureClusterEncoder  # noqa: E402
from rudder.experiments import main, read_results  # noqa: E402
from rudder.experiments.tasks.generality import (  # noqa: E402
    GENERALITY,
    SUITE,
    EpisodeSuccess,
    GeneralitySweep,
    generality_encoder,
    generality_jobs,
    make_generality_env,
)

MINIGRID = "MiniGrid-UnlockPickup-v0"
TINY = [
    "--envs", MINIGRID, MOUNTAIN_CAR, "--methods", "bc", "align-rudder", "--demos", "2", "--seeds", "1",
    "--budget", "128", "--n-envs", "2", "--eval-every", "128", "--eval-episodes", "2", "--bc-epochs", "2",
]


def _play(env, policy, *, seed):
    observation, _ = env.reset(seed=seed)
    while True:
        observation, _, terminated, truncated, info = env.step(policy(observation))
        if terminated or truncated:
            return info


def test_a_tiny_sweep_reports_the_three_metrics(tmp_path, capsys):
    out = tmp_path / "generality.json"
    assert main(GENERALITY, [*TINY, "--out", str(out), "--png", str(tmp_path / "g.png")]) == 0
    results = read_results(out)
    assert [(run["env"], run["method"]) for run in results.runs] == [
        (MINIGRID, "bc"), (MINIGRID, "align-rudder"), (MOUNTAIN_CAR, "bc"), (MOUNTAIN_CAR, "align-rudder"),
    ]
    for run in results.runs:
        assert run["budget"] == 128 and run["curve"][0][0] == 0
        assert run["cloning_epochs"] == 2
        assert run["cloned_success"] == run["curve"][0][1] and run["final_success"] == run["curve"][-1][1]
        # bc takes no env step; PPO takes whole rollouts (2 envs x 256 steps) up to the budget
        assert (run["timesteps"] == 0) if run["method"] == "bc" else (run["timesteps"] >= 128)
    rows = {(row["env"], row["method"]): row for row in results.rows}
    assert set(rows) == {(run["env"], run["method"]) for run in results.runs}
    for row in rows.values():
        for metric in ("env steps to target", "final success", "success after cloning"):
            assert row[metric] is not None and len(row[metric]["values"]) == 1
    output = capsys.readouterr().out
    assert "| MountainCar-v0 | Align-RUDDER |" in output and "cloned start" in output
    assert (tmp_path / "g.png").exists()


def test_bc_max_updates_caps_the_recorded_cloning_epochs(tmp_path):
    out = tmp_path / "capped.json"
    arguments = [*TINY, "--bc-epochs", "5", "--bc-max-updates", "1", "--methods", "bc", "--envs", MINIGRID]
    assert main(GENERALITY, [*arguments, "--out", str(out)]) == 0
    # two short demonstrations fit in one minibatch: one epoch is one minibatch step
    assert [run["cloning_epochs"] for run in read_results(out).runs] == [1]


def test_the_success_wrapper_marks_mountain_car_successes():
    env = make_generality_env(MOUNTAIN_CAR)
    assert isinstance(env, EpisodeSuccess)
    solved = _play(env, mountain_car_policy, seed=0)  # energy pumping reaches the flag
    assert solved["is_success"] is True
    stuck = _play(env, lambda observation: 1, seed=0)  # no push: truncated at 200 steps
    assert stuck["is_success"] is False
    # the default test would not have counted the success: MountainCar's returns are negative
    assert float(solved["original_reward"]) < 0


def test_the_success_wrapper_needs_no_delay():
    import gymnasium as gym

    from rudder.envs.classic_control import mountain_car_success

    env = EpisodeSuccess(gym.make(MOUNTAIN_CAR), mountain_car_success)
    assert _play(env, mountain_car_policy, seed=3)["is_success"] is True


def test_events_by_one_rule():
    assert type(generality_encoder(MINIGRID)).__name__ == "CallableEventEncoder"
    encoder = generality_encoder(MOUNTAIN_CAR)
    assert isinstance(encoder, FeatureClusterEncoder)
    defaults = FeatureClusterEncoder()
    for name in ("num_clusters", "method", "use_differences", "seed", "standardize", "max_clusters"):
        assert getattr(encoder, name) == getattr(defaults, name)  # the library's defaults, no per-task settings


def test_budgets_by_family_and_overridable():
    sweep = GeneralitySweep(seeds=1)
    budgets = {job.key["env"]: job.settings.budget for job in generality_jobs(sweep)}
    assert budgets == {env: (500_000 if env.startswith("MiniGrid") else 300_000) for env in SUITE}
    assert {job.budget for job in generality_jobs(GeneralitySweep(seeds=1, budget=1000))} == {1000}
    assert len(generality_jobs(sweep)) == len(SUITE) * 5
    with pytest.raises(ValueError, match="unknown methods"):
        GeneralitySweep(methods=("sarsa",))


def test_delayed_env_without_a_test_keeps_the_default_success():
    env = make_generality_env("CartPole-v1")
    assert not isinstance(env, EpisodeSuccess)
    assert isinstance(env, type(make_delayed_env("CartPole-v1")))
    assert np.asarray(env.reset(seed=0)[0]).shape == (4,)
