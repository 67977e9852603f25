"""The delay task: its learners' updates by hand, its streak rule, runs that reproduce the
committed results, and a tiny sweep through the harness."""

import json
from pathlib import Path

import numpy as np
import pytest

from rudder.experiments import Job, Progress, main, read_results
from rudder.experiments.tasks.delay import (
    DELAY,
    DelaySettings,
    Streak,
    delay_jobs,
    monte_carlo_update,
    q_lambda_update,
    run_delay,
)

RESULTS = Path(__file__).resolve().parents[3] / "benchmarks" / "results"

# A 2-step episode: state 0 --action 1--> state 1 --action 0--> state 2 (terminal), rewards 0 then 1.
STATES, ACTIONS, REWARDS = np.array([0, 1, 2]), np.array([1, 0]), np.array([0.0, 1.0])


def test_q_lambda_carries_the_last_reward_back_by_the_trace():
    q = np.zeros((3, 2))
    q_lambda_update(q, STATES, ACTIONS, REWARDS, trace_decay=0.5, step_size=0.1)
    # t=0: target 0 + max q[1] = 0, no change; t=1 (terminal): delta 1, traces (0.5, 1).
    np.testing.assert_allclose(q, [[0.0, 0.05], [0.1, 0.0], [0.0, 0.0]])
    q_lambda_update(q, STATES, ACTIONS, REWARDS, trace_decay=0.5, step_size=0.1)
    # t=0: delta 0.1 - 0.05 -> q[0, 1] 0.055; t=1: delta 0.9 -> q[0, 1] += 0.045, q[1, 0] += 0.09.
    np.testing.assert_allclose(q, [[0.0, 0.1], [0.19, 0.0], [0.0, 0.0]])


def test_q_lambda_without_traces_is_one_step_q_learning():
    q = np.zeros((3, 2))
    q_lambda_update(q, STATES, ACTIONS, REWARDS, trace_decay=0.0, step_size=0.1)
    np.testing.assert_allclose(q, [[0.0, 0.0], [0.1, 0.0], [0.0, 0.0]])


def test_monte_carlo_moves_each_visit_towards_its_return():
    q = np.zeros((3, 2))
    monte_carlo_update(q, STATES, ACTIONS, np.array([0.1, 1.0]), step_size=0.1)
    np.testing.assert_allclose(q, [[0.0, 0.11], [0.1, 0.0], [0.0, 0.0]])  # returns 1.1 and 1.0


def test_a_streak_counts_from_its_first_episode_and_restarts_after_a_miss():
    streak = Streak(3)
    checks = [True, False, True, True, False, True, True]
    assert [streak.update(episode, right) for episode, right in enumerate(checks)] == [False] * 7
    assert streak.update(7, True) and streak.start == 5


@pytest.mark.parametrize(("method", "delay", "seed"), [("td", 10, 0), ("mc", 20, 1), ("rudder", 20, 1)])
def test_runs_reproduce_the_committed_results(method, delay, seed):
    committed = json.loads((RESULTS / "delay.json").read_text())
    (expected,) = [run for run in committed["runs"] if (run["method"], run["delay"], run["seed"]) == (method, delay, seed)]
    settings = DelaySettings(max_episodes=10_000, ppo_steps=150_000)
    run = run_delay(Job({"method": method, "delay": delay, "seed": seed}, settings, budget=1), Progress(0))
    assert (run["solved_at"], run["episodes"]) == (expected["solved_at"], expected["episodes"])
    assert run["reached"] and run["env_steps"] == run["episodes"] * (delay + 1)


def test_a_rudder_run_gives_a_record():
    settings = DelaySettings(max_episodes=25, streak=3)
    rudder = run_delay(Job({"method": "rudder", "delay": 2, "seed": 0}, settings, budget=1), Progress(0))
    assert 1 <= rudder["episodes"] <= 25 and rudder["env_steps"] == 3 * rudder["episodes"]


def test_a_ppo_run_gives_a_record():
    settings = DelaySettings(max_episodes=25, streak=3, ppo_steps=256)
    ppo = run_delay(Job({"method": "ppo", "delay": 2, "seed": 0}, settings, budget=1), Progress(0))
    assert ppo["reached"] == (ppo["solved_at"] is not None)
    # It stops at the env-step budget or after the step where the cap is passed (4 envs: up to 3 more).
    assert 0 < ppo["env_steps"] <= 256 + 4 * 128 and ppo["episodes"] <= 25 + 3


def test_jobs_cover_every_method_delay_and_seed():
    jobs = delay_jobs(DelaySettings(delays=(2, 5), methods=("td", "ppo"), seeds=2, max_episodes=10, ppo_steps=99))
    assert [tuple(job.key.values()) for job in jobs][:3] == [("td", 2, 0), ("td", 2, 1), ("td", 5, 0)]
    assert len(jobs) == 8 and jobs[0].budget == 30 and jobs[-1].budget == 99
    with pytest.raises(ValueError, match="unknown methods"):
        DelaySettings(methods=("sarsa",))


def test_a_tiny_sweep_writes_a_result_file_a_table_and_the_slopes(tmp_path, capsys):
    out, markdown, picture = tmp_path / "delay.json", tmp_path / "delay.md", tmp_path / "delay.png"
    arguments = ["--delays", "2", "4", "--methods", "td", "mc", "--seeds", "2", "--max-episodes", "200", "--streak", "3"]
    assert main(DELAY, [*arguments, "--out", str(out), "--markdown", str(markdown), "--png", str(picture)]) == 0
    results = read_results(out)
    assert results.benchmark == "delay" and len(results.runs) == 8 and picture.stat().st_size > 0
    assert {run["max_episodes"] for run in results.runs} == {200}
    printed = capsys.readouterr().out
    assert "| Q(lambda) | 2 | 2 |" in printed and "slope of log(episodes) vs log(delay)" in printed
    assert "| Monte Carlo |" in markdown.read_text()


def test_the_committed_results_give_the_committed_medians_and_slopes(tmp_path, capsys):
    main(DELAY, ["--combine", str(RESULTS / "delay.json"), "--out", str(tmp_path / "delay.json")])
    printed = capsys.readouterr().out
    rows = {(row["method"], row["delay"]): row for row in read_results(tmp_path / "delay.json").rows}
    medians = {"td": [132, 199, 1407, 3698, 8286, 10_000], "mc": [19, 22, 29, 13, 15, 20],
               "rudder": [200, 160, 187, 153, 175, 184], "ppo": [232, 144, 80, 60, 56, 56]}
    for method, values in medians.items():
        assert [rows[method, delay]["episodes_to_solve"]["median"] for delay in (10, 20, 50, 100, 200, 500)] == values
    assert rows["td", 500]["failures"] == 5
    assert "| Q(lambda) | 1.243 | 1.483 |" in printed and "| PPO | -0.376 | -0.376 |" in printed
