"""find_reflexes, demonstration_reflexes and reflex_interrupt."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.agents.reflexes import Reflex, demonstration_reflexes, find_reflexes, reflex_interrupt
from rudder.agents.subtasks import SubtaskController, SubtaskInterrupt
from rudder.data.episode import Episode

ALARM, LOCAL, COMMON, GRADED, TWO_TASKS, GOLDEN = range(6)


def _steps() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three sub-tasks of 200 steps; in sub-task s the demonstrator takes action s, except:

    - ALARM (10 steps per sub-task): action 5 in every sub-task, a reflex;
    - LOCAL (10 per sub-task): action 6 + s, its answer depends on the sub-task;
    - GRADED: 0.5 on 10 steps per sub-task (not binary), action 10 there;
    - TWO_TASKS (10 steps in sub-tasks 0 and 1 only): action 11;
    - GOLDEN (10 per sub-task): action 12, in sub-task 2 on 5 of them and action 2 on the rest;
    - COMMON (half the steps): action 9, but no rare state.
    """
    observations, actions, subtasks = [], [], []
    for subtask in range(3):
        block = np.zeros((200, 6))
        chosen = np.full(200, subtask)
        block[0:10, ALARM] = 1
        chosen[0:10] = 5
        block[10:20, LOCAL] = 1
        chosen[10:20] = 6 + subtask
        block[20:30, GRADED] = 0.5
        chosen[20:30] = 10
        if subtask < 2:
            block[30:40, TWO_TASKS] = 1
            chosen[30:40] = 11
        block[40:50, GOLDEN] = 1
        chosen[40:50] = 12
        if subtask == 2:
            chosen[45:50] = 2
        block[100:200, COMMON] = 1
        chosen[100:200] = 9
        observations.append(block)
        actions.append(chosen)
        subtasks.append(np.full(200, subtask))
    return np.concatenate(observations), np.concatenate(actions), np.concatenate(subtasks)


def test_a_rare_feature_answered_alike_in_every_subtask_is_a_reflex():
    observations, actions, subtasks = _steps()
    reflexes = find_reflexes(observations, actions, subtasks)
    assert [reflex.feature for reflex in reflexes] == [ALARM, GOLDEN]
    alarm = reflexes[0]
    assert (alarm.score, alarm.shift, alarm.spread) == pytest.approx((1.0, 1.0, 0.0))
    assert (alarm.steps, alarm.subtasks, alarm.action) == (30, 3, 5)


def test_golden_scores_by_hand():
    """GOLDEN: with it, sub-tasks 0 and 1 take action 12 and sub-task 2 takes 12 or 2 half
    and half. Shift: the total variation distance from the steps without it in the same
    sub-task (computed from the counts below). Pooled with it: 12 on 25/30 and 2 on 5/30,
    so the spreads are 5/30, 5/30 and |0.5 - 25/30| = 1/3. Without it, sub-task 2 takes
    action 2 on 60 of its 190 steps and others on the rest: a shift of 1 in sub-tasks 0
    and 1 and (|0.5 - 60/190| + 0.5 + 130/190) / 2 in sub-task 2."""
    observations, actions, subtasks = _steps()
    golden = next(reflex for reflex in find_reflexes(observations, actions, subtasks) if reflex.feature == GOLDEN)
    shifts = []
    for subtask in range(3):
        without = actions[(subtasks == subtask) & (observations[:, GOLDEN] == 0)]
        p_off = np.bincount(without, minlength=13) / without.size
        p_on = np.zeros(13)
        p_on[12] = 1.0 if subtask < 2 else 0.5
        p_on[2] += 0.0 if subtask < 2 else 0.5
        shifts.append(0.5 * np.abs(p_on - p_off).sum())
    assert golden.shift == pytest.approx(np.mean(shifts))
    assert golden.spread == pytest.approx((5 / 30 + 5 / 30 + 1 / 3) / 3)
    assert golden.score == pytest.approx(golden.shift - golden.spread)
    assert golden.steps == 30 and golden.subtasks == 3 and golden.action == 12
    assert golden.score == pytest.approx((1 + 1 + 0.5 * (0.5 - 60 / 190 + 0.5 + 130 / 190)) / 3 - 2 / 9)


def test_the_thresholds_decide():
    observations, actions, subtasks = _steps()
    everything = find_reflexes(observations, actions, subtasks, min_score=0.0, max_share=1.0, min_subtasks=2)
    found = {reflex.feature for reflex in everything}
    assert {ALARM, GOLDEN, COMMON, TWO_TASKS} <= found and GRADED not in found  # GRADED is never binary
    assert all(a.score >= b.score for a, b in zip(everything, everything[1:]))  # best first
    assert find_reflexes(observations, actions, subtasks, min_steps=31) == []
    assert [r.feature for r in find_reflexes(observations, actions, subtasks, min_score=0.99)] == [ALARM]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_reflexes_ignore_the_order_of_the_steps_and_the_names_of_the_subtasks(seed):
    rng = np.random.default_rng(seed)
    observations = (rng.random((400, 8)) < 0.05).astype(np.float64)
    subtasks = rng.integers(0, 4, size=400)
    actions = np.where(observations[:, 0] == 1, 3, rng.integers(0, 5, size=400))
    thresholds = {"min_score": 0.0, "max_share": 0.2, "min_steps": 5, "min_subtasks": 2, "min_subtask_steps": 2}
    reflexes = find_reflexes(observations, actions, subtasks, **thresholds)
    order = rng.permutation(400)
    renamed = np.array([2, 0, 3, 1])[subtasks]
    again = find_reflexes(observations[order], actions[order], renamed[order], **thresholds)
    assert [r.feature for r in reflexes] == [r.feature for r in again]
    for first, second in zip(reflexes, again):
        assert first.score == pytest.approx(second.score) and first.steps == second.steps
        assert 0.0 <= first.shift <= 1.0 and 0.0 <= first.spread <= 1.0


def test_bad_input_is_refused():
    observations, actions, subtasks = _steps()
    with pytest.raises(ValueError, match="shape"):
        find_reflexes(observations[0], actions, subtasks)
    with pytest.raises(ValueError, match="like the observations"):
        find_reflexes(observations, actions[:-1], subtasks)
    with pytest.raises(ValueError, match="discrete actions"):
        find_reflexes(observations, actions + 0.5, subtasks)
    with pytest.raises(ValueError, match="min_score"):
        find_reflexes(observations, actions, subtasks, min_score=2.0)
    with pytest.raises(ValueError, match=">= 1"):
        find_reflexes(observations, actions, subtasks, min_subtasks=0)
    assert find_reflexes(np.zeros((0, 3)), np.zeros(0, dtype=int), np.zeros(0, dtype=int)) == []


def test_the_interrupt_reads_every_reflex():
    reflexes = [Reflex(9, 0.9, 0.9, 0.0, 30, 3, 5), Reflex(2, 0.7, 0.8, 0.1, 30, 3, 5)]
    assert reflex_interrupt(reflexes) == SubtaskInterrupt("reflex", feature=(2, 9), above=0.5)
    assert reflex_interrupt(reflexes, name="fight").name == "fight"
    assert reflex_interrupt([]) is None


def _episodes() -> list[Episode]:
    """Three episodes, each with a third of every sub-task's steps of :func:`_steps` in
    sub-task order, gaining item "a" at the last step of sub-task 0 and "b" at the last of
    sub-task 1 (so a controller on ["a", "b", "c"] traces the sub-tasks of :func:`_steps`)."""
    observations, actions, subtasks = _steps()
    episodes = []
    for part in range(3):
        rows = np.concatenate([np.array_split(np.flatnonzero(subtasks == item), 3)[part] for item in range(3)])
        changes = np.zeros((rows.size, 3))
        for item in range(2):
            changes[np.flatnonzero(subtasks[rows] == item)[-1], item] = 1
        episodes.append(
            Episode(
                observations=np.vstack([observations[rows], observations[rows][-1:]]),
                actions=actions[rows],
                rewards=np.zeros(rows.size),
                terminated=True,
                truncated=False,
                infos={"inventory_change": changes},
            )
        )
    return episodes


def test_demonstration_reflexes_pool_the_steps_under_the_controllers_subtasks():
    controller = SubtaskController(["a", "b", "c"], items=["a", "b", "c"])
    episodes = _episodes()
    observations = np.concatenate([episode.observations[:-1] for episode in episodes])
    actions = np.concatenate([episode.actions for episode in episodes])
    subtasks = np.concatenate([controller.trace(episode.infos["inventory_change"])[:-1] for episode in episodes])
    assert np.array_equal(np.sort(subtasks), np.sort(_steps()[2]))  # the trace finds the sub-tasks of _steps
    thresholds = {"min_score": 0.0, "max_share": 1.0, "min_steps": 1, "min_subtasks": 1, "min_subtask_steps": 1}
    assert demonstration_reflexes(controller, episodes, **thresholds) == find_reflexes(
        observations, actions, subtasks, **thresholds
    )
    assert demonstration_reflexes(controller, episodes)  # the ALARM at least


def test_demonstration_reflexes_need_flat_observations_and_discrete_actions():
    controller = SubtaskController(["a", "b", "c"], items=["a", "b", "c"])
    episode = _episodes()[0]
    continuous = Episode(
        observations=episode.observations, actions=episode.actions[:, None] + 0.5, rewards=episode.rewards,
        terminated=True, truncated=False, infos=episode.infos,
    )
    assert demonstration_reflexes(controller, [continuous]) == []
    images = Episode(
        observations=episode.observations.reshape(-1, 2, 3), actions=episode.actions, rewards=episode.rewards,
        terminated=True, truncated=False, infos=episode.infos,
    )
    assert demonstration_reflexes(controller, [images]) == []
    with pytest.raises(KeyError, match="other_key"):
        demonstration_reflexes(controller, [episode], change_key="other_key")
    interrupted = SubtaskController(["a"], items=["a"], interrupt=SubtaskInterrupt("x", feature=0, above=0.5))
    with pytest.raises(ValueError, match="without"):
        demonstration_reflexes(interrupted, [episode])
