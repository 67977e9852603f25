"""Crafter's score and success rates, against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.envs.crafter_tasks import ACHIEVEMENTS, crafter_score, success_rates


def test_score_golden_values():
    assert crafter_score([0.0] * 22) == pytest.approx(0.0, abs=1e-12)
    assert crafter_score([100.0] * 22) == pytest.approx(100.0)  # exp(ln 101) - 1
    assert crafter_score([3.0] * 22) == pytest.approx(3.0)
    # exp((11 ln 100 + 11 ln 1) / 22) - 1 = sqrt(100) - 1
    assert crafter_score([99.0] * 11 + [0.0] * 11) == pytest.approx(9.0)
    # one achievement always, none other: 101 ** (1 / 22) - 1 = exp(4.61512 / 22) - 1 = 0.23340
    assert crafter_score([100.0] + [0.0] * 21) == pytest.approx(0.23340, abs=1e-5)
    # an arithmetic mean would say 4.5; the geometric mean weighs the rare achievement
    assert crafter_score([9.0] * 11 + [0.0] * 11) == pytest.approx(math.sqrt(10) - 1)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 100.0), min_size=22, max_size=22), st.integers(0, 21), st.floats(0.1, 50.0))
def test_score_lies_between_the_rates_and_grows_with_each(rates, index, more):
    score = crafter_score(rates)
    assert min(rates) - 1e-9 <= score <= max(rates) + 1e-9
    higher = list(rates)
    higher[index] = min(100.0, higher[index] + more)
    assert crafter_score(higher) >= score - 1e-12


def test_score_refuses_fractions_and_wrong_lengths():
    with pytest.raises(ValueError, match="one rate per achievement"):
        crafter_score([10.0] * 21)
    with pytest.raises(ValueError, match="percent"):
        crafter_score([0.5] * 21 + [101.0])
    with pytest.raises(ValueError, match="percent"):
        crafter_score([float("nan")] * 22)


def test_success_rates_count_episodes_that_end_within_the_budget():
    obtained = np.zeros((4, 22), dtype=bool)
    wood, diamond = ACHIEVEMENTS.index("collect_wood"), ACHIEVEMENTS.index("collect_diamond")
    obtained[:3, wood] = True  # episodes 0, 1, 2 collect wood
    obtained[3, diamond] = True  # episode 3 (ends after the budget) the diamond
    rates = success_rates(obtained, [100, 250, 300, 1200], budget=1000)
    assert rates is not None and rates[wood] == pytest.approx(100.0) and rates[diamond] == 0.0
    every = success_rates(obtained)
    assert every is not None and every[wood] == pytest.approx(75.0) and every[diamond] == pytest.approx(25.0)
    assert success_rates(obtained, [2000] * 4, budget=1000) is None
    assert success_rates(np.zeros((0, 22), dtype=bool)) is None
    with pytest.raises(ValueError, match="ends"):
        success_rates(obtained, budget=1000)
    with pytest.raises(ValueError, match="shape"):
        success_rates(np.zeros((3, 5), dtype=bool))
