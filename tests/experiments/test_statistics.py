"""Summary statistics: golden values checked by hand, and invariants."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rudder.experiments.statistics import bootstrap_interval, interquartile_mean, summarise_values


def test_interquartile_mean_of_eight_values_is_the_mean_of_the_middle_four():
    # Sorted: 1 2 3 4 5 6 7 100; the middle half is 3 4 5 6.
    assert interquartile_mean([100, 1, 2, 3, 4, 5, 6, 7]) == pytest.approx(4.5)


def test_interquartile_mean_weights_the_cut_runs_fractionally():
    # n = 5: the middle half is [1.25, 3.75) of [0, 5): 0.75 of run 1, all of run 2, 0.75 of run 3.
    values = [0.0, 10.0, 20.0, 30.0, 1000.0]
    assert interquartile_mean(values) == pytest.approx((0.75 * 10 + 20 + 0.75 * 30) / 2.5)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=40))
def test_interquartile_mean_lies_between_the_quartiles(values):
    iqm = interquartile_mean(values)
    assert np.percentile(values, 25) - 1e-6 <= iqm <= np.percentile(values, 75) + 1e-6


def test_bootstrap_interval_holds_the_estimate_and_is_seeded():
    values = np.random.default_rng(0).normal(size=30)
    low, high = bootstrap_interval(values, seed=3)
    assert low <= interquartile_mean(values) <= high
    assert (low, high) == bootstrap_interval(values, seed=3)
    assert bootstrap_interval([5.0, 5.0, 5.0]) == (5.0, 5.0)


def test_summary_has_median_quartiles_and_iqm():
    summary = summarise_values([1, 2, 3, 4])
    assert summary["median"] == 2.5 and summary["q25"] == 1.75 and summary["q75"] == 3.25
    assert summary["iqm"] == pytest.approx(2.5)
    with pytest.raises(ValueError, match="empty"):
        interquartile_mean([])


def test_bootstrap_takes_any_statistic():
    values = np.arange(20.0)
    low, high = bootstrap_interval(values, statistic=np.median, seed=1)
    assert low < np.median(values) < high
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_interval(values, confidence=1.5)


def test_probability_of_improvement_golden_values():
    from rudder.experiments.statistics import probability_of_improvement

    # x = (1, 3), y = (2, 3): pairs (1,2) loss, (1,3) loss, (3,2) win, (3,3) tie -> (1 + 0.5) / 4.
    assert probability_of_improvement([([1, 3], [2, 3])]) == pytest.approx(0.375)
    # Lower is better: the same pairs now give (1,2) win, (1,3) win, (3,2) loss, tie -> 2.5 / 4.
    assert probability_of_improvement([([1, 3], [2, 3])], higher_is_better=False) == pytest.approx(0.625)
    # Averaged over tasks, not pooled: task 1 gives 1.0, task 2 (one pair, a loss) 0.0.
    assert probability_of_improvement([([5, 6, 7], [1]), ([0], [9])]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no runs"):
        probability_of_improvement([([], [1])])


@given(st.lists(st.integers(0, 5), min_size=1, max_size=8), st.lists(st.integers(0, 5), min_size=1, max_size=8))
def test_probability_of_improvement_is_antisymmetric(first, second):
    from rudder.experiments.statistics import probability_of_improvement

    forward = probability_of_improvement([(first, second)])
    assert forward + probability_of_improvement([(second, first)]) == pytest.approx(1.0)
    assert 0.0 <= forward <= 1.0


def test_probability_of_improvement_interval_is_stratified_and_seeded():
    from rudder.experiments.statistics import (
        probability_of_improvement,
        probability_of_improvement_interval,
    )

    rng = np.random.default_rng(0)
    tasks = [(rng.normal(1.0, 1.0, 10), rng.normal(0.0, 1.0, 10)), (rng.normal(0.5, 1.0, 6), rng.normal(0.0, 1.0, 4))]
    low, high = probability_of_improvement_interval(tasks, seed=1)
    assert low <= probability_of_improvement(tasks) <= high
    assert (low, high) == probability_of_improvement_interval(tasks, seed=1)
    # Separated within every task: every resample gives 1, so the interval is a point.
    assert probability_of_improvement_interval([([5, 6], [1, 2]), ([9], [0, 1])]) == (1.0, 1.0)
