"""Issue 16, item 10: how close to the return a sum of redistributed rewards can be.

With one float reward per step and the rewards before the last one paid online, the
last reward must be a float near G - S; when |G - S| is far above |G| no float is within
1e-12 |G| (benchmarks/results/return_equivalence.md). These tests check that bound in
exact arithmetic on a hand-made episode, and that the library's terminal reward is the
best float on random episodes (it misses 1e-12 |G| only where every float does).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from rudder.experiments.probes import best_terminal_error, return_equivalence_figures
from rudder.redistribution.base import terminal_reward


def test_no_float_meets_1e_12_of_a_tiny_return_after_a_large_payment():
    rewards, paid_before = [0.0, 1e-6], [0.3]  # G = 1e-6, S = 0.3 paid at step 0
    exact = Fraction(1e-6) - Fraction(0.3)
    below = math.nextafter(float(exact), -math.inf)
    above = math.nextafter(float(exact), math.inf)
    candidates = [below, float(exact), above]
    errors = [abs(Fraction(candidate) - exact) for candidate in candidates]
    assert min(errors) == Fraction(best_terminal_error(rewards, paid_before))
    assert min(errors) > Fraction(1e-12) * Fraction(1e-6)  # every float misses 1e-12 |G|
    assert min(errors) <= Fraction(math.ulp(float(exact))) / 2
    # the library's terminal reward is the best float
    assert terminal_reward(np.array(rewards), np.array([0.3, 0.0])) == float(exact)


def test_a_return_close_to_what_was_paid_is_met_within_1e_12():
    rewards, paid_before = [0.5, 0.25, 1e-3], [0.7]  # |G - S| = 0.051 < 9,007 |G|
    assert best_terminal_error(rewards, paid_before) <= 1e-12 * math.fsum(rewards)


@pytest.mark.slow
def test_the_library_is_within_1e_12_wherever_a_float_can_be():
    figures = return_equivalence_figures(300, seed=1)
    assert figures.missed == 0
    assert figures.within_1e12_of_return == figures.achievable < 1.0  # the tiny returns
    assert figures.max_error_in_last_ulps <= 0.5
    assert figures.max_error_of_terms <= 2**-53
    assert figures.naive[2] > 1.0  # the naive correction is off by many ulps
