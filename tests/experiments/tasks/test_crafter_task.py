"""The Crafter task: its jobs, its tables from Crafter's metric, and a tiny sweep end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rudder.envs.crafter_tasks import ACHIEVEMENTS, crafter_score
from rudder.experiments import main, read_results
from rudder.experiments.results import ResultFile, write_results
from rudder.experiments.sweep import Job
from rudder.experiments.tasks.crafter import (
    CRAFTER,
    CRAFTER_TASK,
    ENDINGS,
    CrafterSweep,
    _death_subtasks,
    _deaths,
    _endings,
    _run_settings,
    _unlock_steps,
    crafter_jobs,
    run_expert,
)


def test_jobs_run_ppo_once_per_seed_and_align_rudder_with_its_own_seeds():
    jobs = crafter_jobs(CrafterSweep(methods=("align-rudder", "bc", "ppo"), demos=(5, 20), seeds=2, align_rudder_seeds=3))
    keys = [(job.key["method"], job.key["n_demos"], job.key["seed"]) for job in jobs]
    assert keys.count(("ppo", 0, 1)) == 1 and sum(key[0] == "ppo" for key in keys) == 2
    assert sum(key[0] == "align-rudder" for key in keys) == 6 and sum(key[0] == "bc" for key in keys) == 4
    assert all(job.budget == 1_000_000 for job in jobs)


def test_settings_refuse_unknown_events_and_methods():
    with pytest.raises(ValueError, match="--events"):
        CrafterSweep(events="pixels")
    with pytest.raises(ValueError, match="unknown methods"):
        CrafterSweep(methods=("dreamer",))
    with pytest.raises(ValueError, match="--expert-sight"):
        CrafterSweep(expert_sight="map")  # type: ignore[arg-type]


def test_the_expert_sight_reaches_the_demonstrator(monkeypatch):
    import rudder.envs.crafter_tasks as crafter_tasks
    from rudder.experiments.tasks.crafter import _record

    calls = []
    monkeypatch.setattr(crafter_tasks, "record_crafter_demonstrations", lambda count, **kwargs: calls.append(kwargs))
    _record(CrafterSweep(), 3, 7)
    _record(CrafterSweep(expert_sight="view"), 3, 7)
    assert [(call["sight"], call["seed"]) for call in calls] == [("world", 7), ("view", 7)]
    assert calls[1]["max_attempts"] > calls[0]["max_attempts"]  # a view expert reaches the diamond less often


def _run(method: str, seed: int, training: list[float] | None, final: list[float]) -> dict:
    rates = lambda values: None if values is None else dict(zip(ACHIEVEMENTS, values, strict=True))  # noqa: E731
    return {
        "method": method, "n_demos": 0 if method == "ppo" else 20, "seed": seed,
        "score": None if training is None else crafter_score(training), "diamond": None if training is None else training[1],
        "training_rates": rates(training), "training_episodes": 0 if training is None else 10,
        "final_score": crafter_score(final), "final_diamond": final[1], "final_rates": rates(final), "seconds": 1.0,
    }


def test_endings_are_shares_of_the_episodes_within_the_budget():
    endings = ["zombie", "lava", "zombie", "time limit", "arrow"]
    shares = _endings(endings, ends=[10, 20, 30, 40, 60], budget=40)  # the arrow ends after the budget
    assert shares == {
        "lava": 25.0, "zombie": 50.0, "arrow": 0.0, "hunger": 0.0, "thirst": 0.0, "fatigue": 0.0, "time limit": 25.0, "finished": 0.0
    }  # fmt: skip
    assert _endings(endings, ends=[50] * 5, budget=40) is None


def test_deaths_asleep_and_their_daylight_count_the_deaths_within_the_budget():
    deaths = [(10, True, 0.1), (20, False, 0.9), (30, False, 0.5), (50, True, 0.0)]  # the last ends after the budget
    assert _deaths(deaths, budget=40) == pytest.approx({"asleep": 100 / 3, "daylight": 0.5})
    assert _deaths(deaths, budget=5) is None


def test_deaths_under_each_sub_task_count_the_deaths_within_the_budget():
    deaths = [(10, "collect_wood"), (20, "night"), (30, "night"), (50, "collect_wood")]  # the last ends after the budget
    assert _death_subtasks(deaths, budget=40) == pytest.approx({"collect_wood": 100 / 3, "night": 200 / 3})
    assert list(_death_subtasks(deaths, budget=40, order=("collect_wood", "night"))) == ["collect_wood", "night"]
    assert _death_subtasks(deaths, budget=5) is None


def test_unlock_steps_are_medians_over_the_episodes_within_the_budget_that_unlocked():
    wood, table = ACHIEVEMENTS.index("collect_wood"), ACHIEVEMENTS.index("place_table")
    unlocks = [np.zeros(len(ACHIEVEMENTS), dtype=int) for _ in range(4)]
    unlocks[0][wood], unlocks[1][wood], unlocks[2][wood] = 5, 9, 30  # the third: 30, but it ends after the budget
    unlocks[0][table], unlocks[3][wood] = 12, 4
    steps = _unlock_steps(unlocks, ends=[100, 200, 900, 300], budget=500)
    assert steps["collect_wood"] == 5.0  # median of 5, 9 and 4
    assert steps["place_table"] == 12.0 and steps["collect_diamond"] is None
    assert _unlock_steps(unlocks, ends=[600] * 4, budget=500) is None


def test_night_agent_is_an_interrupt_on_the_daylight_for_align_rudder_only():
    from rudder.envs.crafter_tasks import daylight_feature

    interrupt = _run_settings(CrafterSweep(night_agent=True), "align-rudder").subtask_interrupt
    assert interrupt is not None and (interrupt.name, interrupt.feature, interrupt.below) == ("night", daylight_feature(), 0.5)
    assert _run_settings(CrafterSweep(night_agent=True), "bc-ppo").subtask_interrupt is None
    assert _run_settings(CrafterSweep(), "align-rudder").subtask_interrupt is None


def test_fight_agent_is_an_interrupt_on_a_zombie_next_to_the_player_for_align_rudder_only():
    from rudder.envs.crafter_tasks import adjacent_features

    interrupt = _run_settings(CrafterSweep(fight_agent=True), "align-rudder").subtask_interrupt
    assert interrupt is not None and interrupt.name == "fight"
    assert interrupt.features == adjacent_features("zombie") and interrupt.above == 0.5 and interrupt.below is None
    assert _run_settings(CrafterSweep(fight_agent=True), "bc").subtask_interrupt is None
    with pytest.raises(ValueError, match="choose one"):
        CrafterSweep(fight_agent=True, night_agent=True)


def test_reflex_agent_is_asked_of_align_rudder_only_and_gives_way_to_the_named_agents():
    """By default the library decides (None: reflexes wherever no other interrupt is
    named); --reflex-agent and --no-reflex-agent reach Align-RUDDER only; the fight agent
    takes the default's place and refuses --reflex-agent."""
    assert _run_settings(CrafterSweep(), "align-rudder").reflex_agent is None
    assert _run_settings(CrafterSweep(reflex_agent=True), "align-rudder").reflex_agent is True
    assert _run_settings(CrafterSweep(reflex_agent=False), "align-rudder").reflex_agent is False
    assert _run_settings(CrafterSweep(reflex_agent=True), "ppo").reflex_agent is None
    fight = _run_settings(CrafterSweep(fight_agent=True), "align-rudder")
    assert fight.subtask_interrupt is not None and fight.reflex_agent is None
    assert _run_settings(CrafterSweep(fight_agent=True, reflex_agent=False), "align-rudder").subtask_interrupt is not None
    with pytest.raises(ValueError, match="choose one"):
        CrafterSweep(fight_agent=True, reflex_agent=True)
    assert _run_settings(CrafterSweep(), "align-rudder").reflex_augmentation  # the library's default
    assert not _run_settings(CrafterSweep(reflex_augmentation=False), "align-rudder").reflex_augmentation
    assert _run_settings(CrafterSweep(reflex_augmentation=False), "bc-ppo").reflex_augmentation  # not passed on


def test_cloning_fits_the_mirror_images_unless_told_not_to():
    from rudder.envs.crafter_tasks import mirror_images

    assert CRAFTER_TASK.cloning_augmentation(CrafterSweep()) is mirror_images
    assert CRAFTER_TASK.cloning_augmentation(CrafterSweep(mirror=False)) is None
    assert CRAFTER_TASK.cloning_augmentation(CrafterSweep(compass=True, mirror=False)) is None
    with_compass = CRAFTER_TASK.cloning_augmentation(CrafterSweep(compass=True))
    assert with_compass.func is mirror_images and with_compass.keywords == {"compass": True}


def test_the_compass_reaches_the_envs_and_the_caption_says_so():
    from rudder.envs.crafter_tasks import symbolic_size
    from rudder.experiments.tasks.crafter import _caption, _interrupt_record

    assert not CRAFTER_TASK.make_env(CrafterSweep())().compass
    env = CRAFTER_TASK.make_env(CrafterSweep(compass=True))()
    assert env.compass and env.observation_space.shape == (symbolic_size(compass=True),)
    assert "compass" not in _caption([{}])
    assert "All runs (--compass)" in _caption([{"compass": True}])
    assert "Some runs (--compass)" in _caption([{"compass": True}, {}])
    from rudder.agents.subtasks import SubtaskInterrupt

    interrupt = SubtaskInterrupt("reflex", feature=symbolic_size() + 1, above=0.5)
    assert _interrupt_record(interrupt, compass=True)["names"] == ["compass water left"]
    assert _interrupt_record(interrupt)["names"] == ["extra 1"]


def test_no_zombie_spawning_reaches_the_envs_and_the_caption_warns():
    from rudder.experiments.tasks.crafter import _caption

    assert CRAFTER_TASK.make_env(CrafterSweep())().zombie_spawning
    assert not CRAFTER_TASK.make_env(CrafterSweep(zombie_spawning=False))().zombie_spawning
    assert "spawn" not in _caption([{}, {"zombie_spawning": True}])
    assert "Some runs (--no-zombie-spawning)" in _caption([{}, {"zombie_spawning": False}])
    assert "All runs (--no-zombie-spawning)" in _caption([{"zombie_spawning": False}])


def test_tables_give_crafter_scores_per_row_and_every_achievement(tmp_path):
    half = [99.0] * 11 + [0.0] * 11  # score 9
    runs = [
        _run("align-rudder", 0, half, [100.0] * 22),
        _run("align-rudder", 1, [3.0] * 22, [0.0] * 22),  # score 3
        _run("bc", 0, None, [9.0] * 11 + [0.0] * 11),
    ]
    # only the second Align-RUDDER run recorded how its episodes ended
    runs[1]["training_endings"] = {ending: 0.0 for ending in ENDINGS} | {"zombie": 60.0, "lava": 30.0, "time limit": 10.0}
    runs[1]["mean_episode_length"] = 123.4
    runs[1]["training_deaths"] = {"asleep": 12.5, "daylight": 0.375}
    runs[1]["training_death_subtasks"] = {"collect_wood": 75.0, "night": 20.0, "need 1199": 5.0}
    runs[0]["unlock_steps"] = dict.fromkeys(ACHIEVEMENTS, None) | {"collect_wood": 4.0, "place_table": 30.0}
    runs[1]["unlock_steps"] = dict.fromkeys(ACHIEVEMENTS, None) | {"collect_wood": 7.0}
    runs[1]["zombie_responses"] = {"steps": 40.0, "attack": 50.0, "turn": 12.5, "other": 37.5}
    source = tmp_path / "runs.json"
    write_results(source, ResultFile(benchmark="crafter", command="test", settings={"budget": 1000}, runs=runs))
    out = tmp_path / "all.json"
    assert main(CRAFTER, ["--combine", str(source), "--out", str(out), "--markdown", str(tmp_path / "t.md"),
                          "--png", str(tmp_path / "bars.png")]) == 0
    text = (tmp_path / "t.md").read_text()
    assert "- Align-RUDDER, 20 demos: 6.0 ± 3.0; 50.0 ± 50.0" in text  # mean ± std of (9, 3) and (100, 0)
    assert f"- BC, 20 demos: -; {np.sqrt(10) - 1:.1f} ± 0.0" in text
    assert "| collect_coal | 51.0 / 50.0 | - / 9.0 |" in text  # (99 + 3) / 2, (100 + 0) / 2
    assert "| wake_up | 1.5 / 50.0 | - / 0.0 |" in text
    assert "| ending | Align-RUDDER, 20 demos (1 runs) | BC, 20 demos (0 runs) |" in text
    assert "| zombie | 60.0 | - |" in text and "| arrow | 0.0 | - |" in text and "| time limit | 10.0 | - |" in text
    assert "| mean length | 123 | - |" in text
    assert "| deaths asleep (% of deaths) | 12.5 | - |" in text and "| daylight at death (0 night, 1 day) | 0.38 | - |" in text
    assert "| deaths under collect_wood (% of deaths) | 75.0 | - |" in text and "| deaths under night (% of deaths) | 20.0 | - |" in text
    assert "| deaths under need: inventory drink (% of deaths) | 5.0 | - |" in text  # a need agent, by its feature
    assert "| ending | Align-RUDDER, 20 demos (1 runs) | BC, 20 demos (0 runs) |" in text
    assert "| collect_wood | 6 | - |" in text.split("How soon")[1]  # mean of the runs' medians 4 and 7 (5.5)
    assert "| place_table | 30 | - |" in text.split("How soon")[1] and "| collect_diamond | - | - |" in text
    assert "| zombie next to the player: other (% of the steps with one) | 37.5 | - |" in text
    assert "Human experts 50.5" in text and (tmp_path / "bars.png").stat().st_size > 10_000
    assert read_results(out).rows[0]["score"]["values"] == pytest.approx([9.0, 3.0])


@pytest.mark.slow
def test_tiny_sweep_counts_training_episodes_the_way_crafter_does(tmp_path):
    pytest.importorskip("crafter")
    pytest.importorskip("stable_baselines3")
    out = tmp_path / "crafter.json"
    arguments = ["--methods", "align-rudder", "ppo", "--demos", "2", "--seeds", "1", "--align-rudder-seeds", "1",
                 "--budget", "512", "--n-envs", "2", "--length", "60", "--bc-epochs", "1", "--eval-every", "100000",
                 "--eval-episodes", "1", "--final-episodes", "2", "--out", str(out), "--markdown", str(tmp_path / "c.md")]
    assert main(CRAFTER, arguments) == 0
    results = read_results(out)
    assert [row["method"] for row in results.rows] == ["align-rudder", "ppo"]
    for run in results.runs:
        # 2 envs x 256 steps, episodes of at most 60 steps: at least 8 end within the budget
        assert run["training_episodes"] >= 8 and run["timesteps"] == 512
        training = [run["training_rates"][name] for name in ACHIEVEMENTS]
        assert run["score"] == pytest.approx(crafter_score(training))
        # every rate is a share of the episodes: a multiple of 100 / episodes
        assert np.allclose(np.array(training) * run["training_episodes"] / 100, np.round(np.array(training) * run["training_episodes"] / 100))
        assert sorted(run["final_rates"]) == sorted(ACHIEVEMENTS) and run["final_score"] is not None
        assert sorted(run["training_endings"]) == sorted(ENDINGS)
        assert sum(run["training_endings"].values()) == pytest.approx(100.0)
        assert 1 <= run["mean_episode_length"] <= 60
        # a step within the episode, and set where the achievement was unlocked at least once
        unlocked = {name for name in ACHIEVEMENTS if run["training_rates"][name] > 0}
        assert {name for name, step in run["unlock_steps"].items() if step is not None} == unlocked
        assert all(1 <= run["unlock_steps"][name] <= 60 for name in unlocked)
        responses = run["zombie_responses"]
        if responses is not None:  # shares of the steps with a zombie next to the player
            assert responses["steps"] >= 1 and sum(responses[name] for name in ("attack", "turn", "other")) == pytest.approx(100.0)
        deaths = run["training_deaths"]
        assert deaths is None or (0 <= deaths["asleep"] <= 100 and 0 <= deaths["daylight"] <= 1)
    assert results.runs[0]["subtasks"][0] == "collect_wood"
    assert "| achievement |" in (tmp_path / "c.md").read_text()
    assert json.loads(out.read_text())["settings"]["length"] == 60


def test_expert_runs_once_per_seed_and_plays_episodes_that_end_like_its_demonstrations(tmp_path):
    pytest.importorskip("crafter")
    jobs = crafter_jobs(CrafterSweep(methods=("expert",), demos=(5, 20), seeds=2))
    assert [(job.key["n_demos"], job.key["seed"]) for job in jobs] == [(0, 0), (0, 1)]
    seen: list[int] = []
    run = run_expert(Job({"method": "expert", "n_demos": 0, "seed": 1}, CrafterSweep(final_episodes=3, length=120), budget=0), seen.append)
    assert seen == sorted(seen) and seen[-1] == run["env_steps"] <= 3 * 120
    rates = [run["final_rates"][name] for name in ACHIEVEMENTS]
    assert run["final_score"] == pytest.approx(crafter_score(rates))
    assert np.allclose(np.array(rates) * 3 / 100, np.round(np.array(rates) * 3 / 100))  # shares of 3 episodes
    assert run["final_rates"]["collect_wood"] == 100.0  # the expert's first sub-goal, within 120 steps
    assert 1 <= run["unlock_steps"]["collect_wood"] < run["unlock_steps"]["place_table"] <= 120
    responses = run["zombie_responses"]
    assert responses is None or responses["other"] == 0.0  # the expert fights a zombie next to it
    assert run["unlock_steps"]["collect_diamond"] is None  # not within 120 steps
    assert sum(run["training_endings"].values()) == pytest.approx(100.0)
    assert run["mean_episode_length"] == pytest.approx(run["env_steps"] / 3)
    again = run_expert(Job({"method": "expert", "n_demos": 0, "seed": 1}, CrafterSweep(final_episodes=3, length=120), budget=0), lambda steps: None)
    assert {**again, "seconds": 0} == {**run, "seconds": 0}  # the same seed, the same episodes
    with pytest.raises(ValueError, match="--final-episodes"):
        run_expert(Job({"method": "expert", "n_demos": 0, "seed": 1}, CrafterSweep(final_episodes=0), budget=0), lambda steps: None)


@pytest.mark.slow
def test_scripts_are_thin_entry_points():
    import subprocess
    import sys
    from pathlib import Path

    for name in ("bench_crafter.py", "train_crafter.py"):
        path = Path(__file__).resolve().parents[3] / "scripts" / name
        result = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0 and "--resume" in result.stdout and "--expert-night-shelter" in result.stdout


def test_convolutions_read_the_view_of_every_method_and_the_caption_says_so():
    from rudder.envs.crafter_tasks import SEMANTIC_NAMES, CrafterEnv
    from rudder.experiments.tasks.crafter import _caption, _run_settings

    for method in ("ppo", "bc", "bc-ppo", "align-rudder"):
        assert _run_settings(CrafterSweep(), method).ppo.grid is None
        assert _run_settings(CrafterSweep(convolutions=True), method).ppo.grid == (9, 7, len(SEMANTIC_NAMES))
    # the grid is the first 9 * 7 * 19 entries of the observation, cell by cell
    env = CrafterEnv()
    observation, _ = env.reset(seed=0)
    cells = observation[: 9 * 7 * len(SEMANTIC_NAMES)].reshape(9, 7, len(SEMANTIC_NAMES))
    assert np.all(cells.sum(axis=2) == 1.0)
    assert "convolutions" not in _caption([{}])
    assert "All runs (--convolutions)" in _caption([{"convolutions": True}])
    assert "Some runs (--convolutions)" in _caption([{"convolutions": True}, {}])
