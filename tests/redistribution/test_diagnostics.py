"""Held-out ordering diagnostics of an alignment redistributor."""

import numpy as np
import pytest

from rudder.data import Episode
from rudder.events import CallableEventEncoder
from rudder.redistribution import AlignmentRedistributor
from rudder.redistribution.diagnostics import ordering_diagnostics


def observed_state(observation, action, next_observation, info):
    """Event = the state entered, for states 1..4 (0 emits nothing)."""
    return int(next_observation) if 0 < int(next_observation) < 5 else None


def chain(states, episode_return):
    rewards = np.zeros(len(states) - 1)
    rewards[-1] = episode_return
    return Episode(observations=np.asarray(states), actions=np.zeros(len(states) - 1, dtype=np.int64), rewards=rewards)


def make():
    return AlignmentRedistributor(CallableEventEncoder(observed_state))


DEMOS = [chain([0, 1, 0, 2, 3, 4], 1.0), chain([0, 1, 2, 0, 3, 4], 1.0), chain([0, 1, 2, 3, 0, 4], 1.0),
         chain([0, 0, 1, 2, 3, 4], 1.0), chain([0, 1, 2, 3, 4, 0], 1.0), chain([0, 1, 2, 3, 4], 1.0)]


def test_a_profile_that_generalises_orders_demonstrations_above_failures():
    failures = [chain([0, 0, 0, 0], 0.0), chain([0, 4, 0, 0], 0.0), chain([0, 1, 0, 0], 0.0)]
    report = ordering_diagnostics(DEMOS, make, others=failures, folds=3)
    assert report.folds == 3
    np.testing.assert_array_equal(report.events_per_demonstration, [4, 4, 4, 4, 4, 4])
    # every held-out demonstration covers the chain 1-2-3-4, no failure does
    assert report.held_out_gains.min() > report.other_gains.max()
    assert report.concordance == 1.0 and report.demonstrations_above_others == 1.0
    assert "concordance" in report.format() and "(good)" in report.format()


def test_a_profile_that_pays_the_wrong_thing_is_exposed():
    # episodes that walk the demonstrated chain and still fail: the score cannot tell them apart
    failures = [chain([0, 1, 2, 3, 4], 0.0), chain([0, 1, 2, 3, 4, 0], 0.0)]
    report = ordering_diagnostics(DEMOS, make, others=failures, folds=2)
    assert report.concordance is not None and report.concordance <= 0.5 + 1e-9
    assert report.demonstrations_above_others < 1.0
    assert "(none)" in report.format()


def test_no_ordering_without_return_differences_and_clear_errors():
    report = ordering_diagnostics(DEMOS, make, folds=2)
    assert report.concordance is None and report.demonstrations_above_others is None
    assert "nothing to order" in report.format()
    with pytest.raises(ValueError, match="at least 3"):
        ordering_diagnostics(DEMOS[:2], make)
    with pytest.raises(ValueError, match="folds"):
        ordering_diagnostics(DEMOS, make, folds=1)
