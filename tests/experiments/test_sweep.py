"""Sweeps: the same runs give the same records in this process, on a process pool and on Ray."""

import pytest

from rudder.experiments import Job, run_sweep
from rudder.experiments.tasks.rooms import RoomsSettings, rooms_jobs, run_rooms


def _without_timing(indexed_records):
    """Job index -> record without its wall time."""
    return {index: {key: value for key, value in record.items() if key != "seconds"} for index, record in indexed_records}


def _tiny_rooms_jobs():
    # 2 seeds x 2 methods on FourRooms, capped short so that a run takes about a second.
    settings = RoomsSettings(demos=(2,), seeds=2, methods=("align-rudder", "bc-q"), max_episodes=60, eval_episodes=5)
    return rooms_jobs(settings)


def test_in_process_runs_are_in_order_and_repeatable():
    jobs = _tiny_rooms_jobs()
    first = list(run_sweep(run_rooms, jobs))
    assert [index for index, _ in first] == [0, 1, 2, 3]
    assert [record for _, record in first][0]["episodes"] <= 60
    assert _without_timing(first) == _without_timing(run_sweep(run_rooms, jobs))


@pytest.fixture(scope="module")
def pool_records():
    return _without_timing(run_sweep(run_rooms, _tiny_rooms_jobs(), workers=2))


def test_the_process_pool_gives_the_in_process_records(pool_records):
    assert pool_records == _without_timing(run_sweep(run_rooms, _tiny_rooms_jobs()))


@pytest.mark.slow
def test_a_local_ray_sweep_gives_the_process_pool_records(pool_records):
    pytest.importorskip("ray")
    ray_records = _without_timing(run_sweep(run_rooms, _tiny_rooms_jobs(), workers=2, ray=True))
    assert sorted(ray_records) == [0, 1, 2, 3]
    assert ray_records == pool_records  # job by job


def test_progress_bar_counts_env_steps_and_gives_back_unused_budget():
    seen = []

    def run(job, progress):
        progress(3)
        seen.append(job.key["seed"])
        return {"env_steps": 4}

    jobs = [Job({"seed": seed}, None, budget=10) for seed in range(3)]
    assert [index for index, _ in run_sweep(run, jobs)] == [0, 1, 2] and seen == [0, 1, 2]
    with pytest.raises(ValueError, match="workers"):
        list(run_sweep(run, jobs, workers=0))


def test_the_bar_expects_unfinished_runs_to_take_what_finished_runs_took():
    from rudder.experiments import ProgressBar

    bar = ProgressBar([Job({"seed": seed}, None, budget=100) for seed in range(4)], "test")
    assert bar.bar.total == 400
    bar.advance(1, 30)
    bar.finish(0, {"env_steps": 10})
    # run 0 took 10; run 1 has taken 30 already; runs 2 and 3 are expected to take 10
    assert bar.bar.total == 10 + 30 + 10 + 10 and bar.bar.n == 40
    bar.advance(3, 25)  # longer than expected: the total grows, never falls behind the count
    assert bar.bar.total == 10 + 30 + 10 + 25 and bar.bar.n == 65
    bar.finish(2, {"env_steps": 50})
    bar.finish(1, {})  # no count: the budget
    assert bar.bar.total == 10 + 100 + 50 + 50
    bar.close()
    instant = ProgressBar([Job({"seed": seed}, None, budget=100) for seed in range(2)], "test")
    instant.finish(0, {"env_steps": 0})  # a run that needed no steps says nothing about the others
    assert instant.bar.total == 0 + 100
    instant.close()
