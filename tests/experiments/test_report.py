"""Tests of the benchmark tables' probability of improvement and the drawn intervals."""

from __future__ import annotations

import pytest

from rudder.experiments.report import Metric, improvement_table, markdown_table, summary_rows


def runs(method, n_demos, values, env="A"):
    return [{"env": env, "method": method, "n_demos": n_demos, "seed": seed, "episodes": value} for seed, value in enumerate(values)]


EPISODES = Metric("episodes", lambda run: run["episodes"])


def test_metric_direction_is_inferred_or_given():
    assert not EPISODES.better_higher
    assert Metric("final success", lambda run: 0.0).better_higher
    assert Metric("env steps to target", lambda run: 0.0).better_higher is False
    assert Metric("episodes", lambda run: 0.0, higher_is_better=True).better_higher


def test_table_reports_the_probability_of_improvement_over_each_baseline():
    # Task A: ours (1, 2) vs bc (2, 3), fewer episodes better: pairs 1<2, 1<3, 2=2 (half), 2<3 -> 3.5 / 4.
    # Task B: ours (5) vs bc (1): a loss -> 0. Mean over the tasks 0.4375. PPO (no demos) is
    # compared with ours on every n_demos of its env: task A only, (1, 2) vs (9, 9) -> 1.
    all_runs = (
        runs("align-rudder", 2, [1, 2]) + runs("bc", 2, [2, 3]) + runs("align-rudder", 5, [5]) + runs("bc", 5, [1])
        + runs("ppo", 0, [9, 9])
    )
    rows = summary_rows(all_runs, group_by=("env", "method", "n_demos"), metrics=[EPISODES])
    table = improvement_table(rows, group_by=("env", "method", "n_demos"), metrics=[EPISODES], names={"bc": "BC"})
    lines = table.splitlines()
    bc = next(line for line in lines if line.startswith("| BC |"))
    assert bc.startswith("| BC | 2 | 0.44 [")
    ppo = next(line for line in lines if line.startswith("| ppo |"))
    assert ppo.startswith("| ppo | 2 | 1.00 [1.00, 1.00]")
    assert table in markdown_table(rows, group_by=("env", "method", "n_demos"), metrics=[EPISODES], names={"bc": "BC"})


def test_no_table_without_methods_to_compare():
    rows = summary_rows(runs("align-rudder", 2, [1, 2]), group_by=("env", "method", "n_demos"), metrics=[EPISODES])
    assert improvement_table(rows, group_by=("env", "method", "n_demos"), metrics=[EPISODES]) == ""
    rows = summary_rows(runs("bc", 2, [1]) + runs("ppo", 0, [2]), group_by=("env", "method", "n_demos"), metrics=[EPISODES])
    assert improvement_table(rows, group_by=("env", "method", "n_demos"), metrics=[EPISODES]) == ""


def test_interquartile_mean_curve_holds_the_iqm_inside_its_interval():
    import numpy as np

    from rudder.experiments.statistics import interquartile_mean, interquartile_mean_curve

    curves = np.random.default_rng(0).normal(size=(8, 5))
    iqm, low, high = interquartile_mean_curve(curves)
    assert iqm == pytest.approx([interquartile_mean(curves[:, point]) for point in range(5)])
    assert np.all(low <= iqm + 1e-12) and np.all(iqm <= high + 1e-12)


def test_learning_curves_keep_one_colour_per_series_in_every_panel(tmp_path, monkeypatch):
    # Panel A draws "ours" first, panel B draws "bc" first: each series must keep its colour.
    from rudder.experiments import report

    figures = []
    monkeypatch.setattr(report, "_save", lambda plt, figure, path, dpi=120: figures.append(figure))
    curve = [[0, 0.1], [10, 0.5]]
    all_runs = [
        {"env": "A", "method": "ours", "curve": curve},
        {"env": "A", "method": "bc", "curve": curve},
        {"env": "B", "method": "bc", "curve": curve},
        {"env": "B", "method": "ours", "curve": curve},
    ]
    report.learning_curves(all_runs, str(tmp_path / "curves.png"), panel="env", series=lambda run: run["method"], xlabel="x", ylabel="y")
    (figure,) = figures
    colours = [{line.get_label().split(" ")[0]: line.get_color() for line in axes.get_lines()} for axes in figure.axes if axes.get_visible()]
    assert len(colours) == 2
    assert colours[0] == colours[1]
    assert colours[0]["ours"] != colours[0]["bc"]
