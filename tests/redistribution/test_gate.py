"""The redistribution gate: concordance of profile scores with true returns, and the weight."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rudder.redistribution.gate import RedistributionGate, concordance, gate_weight, settled_weight


def test_concordance_golden_values():
    # returns 0, 0, 1: pairs with different returns are (2, 0) and (2, 1)
    assert concordance(np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.0, 1.0])) == 1.0
    assert concordance(np.array([2.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])) == 0.0
    # score tie with one of the two lower-return episodes: one agreeing pair, one tie
    assert concordance(np.array([0.0, 1.0, 1.0]), np.array([0.0, 0.0, 1.0])) == pytest.approx(0.75)
    assert concordance(np.array([1.0, 2.0]), np.array([3.0, 3.0])) is None


@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(-3, 3)), min_size=2, max_size=30))
def test_concordance_reverses_and_matches_a_pair_count(pairs):
    scores = np.array([pair[0] for pair in pairs], dtype=float)
    returns = np.array([pair[1] for pair in pairs], dtype=float)
    measured = concordance(scores, returns)
    agree = tie = total = 0
    for i in range(len(pairs)):
        for j in range(len(pairs)):
            if returns[i] > returns[j]:
                total += 1
                agree += scores[i] > scores[j]
                tie += scores[i] == scores[j]
    if total == 0:
        assert measured is None
        return
    assert measured == pytest.approx((agree + 0.5 * tie) / total)
    assert concordance(-scores, returns) == pytest.approx(1.0 - measured)


def test_weight_is_full_from_nine_tenths_and_none_from_seven_tenths_down():
    assert gate_weight(1.0) == 1.0 and gate_weight(0.9) == pytest.approx(1.0)
    assert gate_weight(0.7) == 0.0 and gate_weight(0.5) == 0.0 and gate_weight(0.1) == 0.0
    assert gate_weight(0.8) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="concordance"):
        gate_weight(1.5)


def test_gate_waits_for_evidence_then_judges():
    gate = RedistributionGate(window=10, min_episodes=4)
    for _ in range(3):
        gate.add(score=5.0, episode_return=1.0)
    assert gate.update() == 1.0 and gate.concordance is None  # too few episodes
    gate.add(score=6.0, episode_return=1.0)
    assert gate.update() == 1.0 and gate.concordance is None  # all returns equal: no evidence
    # high scores that earn nothing: the profile misleads, the env reward takes over
    for _ in range(6):
        gate.add(score=9.0, episode_return=0.0)
    assert gate.update() == 0.0 and gate.concordance == 0.0
    # the window forgets: successes with high scores restore the trust
    for _ in range(5):
        gate.add(score=10.0, episode_return=1.0)
        gate.add(score=1.0, episode_return=0.0)
    assert gate.update() == 1.0 and gate.concordance == 1.0


def test_gate_refuses_bad_input():
    with pytest.raises(ValueError, match="window"):
        RedistributionGate(window=1)
    with pytest.raises(ValueError, match="min_episodes"):
        RedistributionGate(window=10, min_episodes=11)
    with pytest.raises(ValueError, match="finite"):
        RedistributionGate().add(float("nan"), 1.0)
    with pytest.raises(ValueError, match="1-D"):
        concordance(np.zeros(3), np.zeros(4))


def test_settled_weight_ignores_a_concordance_hovering_at_a_rounding_boundary():
    # the concordances of an UnlockPickup run, rollout after rollout: plain rounding to
    # quarters paid 0, 0.25, 0, 0.25, 0; the band keeps 0 after the first drop
    weight = 1.0
    paid = []
    for value in (0.668, 0.747, 0.722, 0.739, 0.709):
        weight = settled_weight(weight, gate_weight(value))
        paid.append(weight)
    assert paid == [0.0, 0.0, 0.0, 0.0, 0.0]
    # a clear move still moves it, in quarters
    assert settled_weight(0.0, gate_weight(0.76)) == 0.25
    assert settled_weight(0.25, gate_weight(0.9)) == 1.0
    assert settled_weight(1.0, gate_weight(0.86)) == 1.0
    with pytest.raises(ValueError, match="step"):
        settled_weight(0.0, 0.5, step=0.0)
    with pytest.raises(ValueError, match="weights"):
        settled_weight(1.5, 0.5)


@given(
    st.floats(0.0, 1.0), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30), st.sampled_from([0.1, 0.25, 0.5, 1.0])
)
def test_settled_weight_stays_on_the_grid_and_within_a_step(start, proposals, step):
    weight = round(start / step) * step
    weight = min(weight, 1.0)
    for proposed in proposals:
        settled = settled_weight(weight, proposed, step=step)
        assert 0.0 <= settled <= 1.0
        if settled != weight:
            # it moved: to the grid point nearest the proposal, at least a step away from where it was
            assert abs(proposed - weight) >= step
            assert abs(settled - proposed) <= step / 2 + 1e-12
            assert settled / step == pytest.approx(round(settled / step))
        else:
            assert abs(proposed - weight) < step or abs(settled - proposed) <= step / 2 + 1e-12
        weight = settled
