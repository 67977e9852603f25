"""The sub-task bookkeeping in numpy: the controller, sub-goal payments, per-sub-task
standardisation, and the MineRL segments."""

from __future__ import annotations

import json
import subprocess
import sys

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

from rudder.agents.subtasks import (
    SubtaskController,
    SubtaskInterrupt,
    goal_rewards,
    inventory_changes,
    pay_for_goals,
    rewards_are_immediate,
    split_into_segments,
    standardize_by_subtask,
    subtask_traces,
)
from rudder.data.episode import Episode
from rudder.envs.craft import ITEMS

CONSENSUS = ["log", "log", "planks", "crafting_table", "stick", "log"]


def gains(**counts: int) -> np.ndarray:
    vector = np.zeros(len(ITEMS), dtype=np.int64)
    for name, value in counts.items():
        vector[ITEMS.index(name)] = value
    return vector


def test_controller_hands_over_in_consensus_order():
    controller = SubtaskController(CONSENSUS, items=ITEMS)
    assert controller.subtasks == ("log", "planks", "crafting_table", "stick")
    assert controller.current(gains()) == 0
    assert controller.current(gains(log=1)) == 0
    assert controller.goals_reached(gains(log=2)) == 2
    assert controller.current(gains(log=2)) == 1
    # a later sub-goal reached early does not skip an earlier one
    assert controller.current(gains(log=2, stick=1)) == 1
    assert controller.current(gains(log=2, planks=1, crafting_table=1, stick=1)) == 0  # the 3rd log
    assert controller.current(gains(log=3, planks=1, crafting_table=1, stick=1)) == 0  # all done: stays last
    assert controller.goals_reached(gains(log=3, planks=1, crafting_table=1, stick=1)) == len(CONSENSUS)


def test_controller_refuses_bad_consensus():
    with pytest.raises(ValueError, match="no sub-goals"):
        SubtaskController(["other"], items=ITEMS)
    with pytest.raises(ValueError, match="not among the inventory items"):
        SubtaskController(["log", "emerald"], items=ITEMS)


def test_an_interrupt_takes_charge_while_its_feature_is_low_and_the_sub_goals_keep_counting():
    controller = SubtaskController(CONSENSUS, items=ITEMS, interrupt=SubtaskInterrupt("night", feature=1, below=0.5))
    assert controller.subtasks == ("log", "planks", "crafting_table", "stick", "night")
    assert controller.num_subtasks == 5
    day, dusk, night = np.array([0.0, 1.0]), np.array([0.0, 0.5]), np.array([0.0, 0.2])
    assert controller.current(gains(log=2), day) == 1
    assert controller.current(gains(log=2), dusk) == 1  # in charge strictly below the level
    assert controller.current(gains(log=2), night) == 4
    # by hand: a log by day, night falls at s_2, a log by night, day again at s_4 with the planks agent
    changes = np.array([gains(log=1), gains(), gains(log=1), gains()])
    observations = np.array([day, day, night, night, day])
    assert controller.trace(changes, observations).tolist() == [0, 0, 4, 4, 1]
    assert controller.goals_reached(gains(log=2)) == 2  # the interrupt does not touch the count
    with pytest.raises(ValueError, match="pass the observation"):
        controller.current(gains())
    with pytest.raises(ValueError, match="pass the observations"):
        controller.trace(changes)
    with pytest.raises(ValueError, match=r"shape \(T\+1, n\)"):
        controller.trace(changes, observations[:-1])
    with pytest.raises(ValueError, match="reads flat observations"):
        controller.trace(changes, {"view": observations})
    with pytest.raises(ValueError, match="reads feature 1"):
        controller.current(gains(), np.zeros(1))


def test_interrupt_refuses_bad_settings():
    with pytest.raises(ValueError, match="is a consensus sub-goal"):
        SubtaskController(CONSENSUS, items=ITEMS, interrupt=SubtaskInterrupt("log", feature=0, below=1.0))
    with pytest.raises(ValueError, match="feature"):
        SubtaskInterrupt("night", feature=-1, below=0.5)
    with pytest.raises(ValueError, match="feature"):
        SubtaskInterrupt("night", feature=True, below=0.5)
    with pytest.raises(ValueError, match="below"):
        SubtaskInterrupt("night", feature=0, below=float("nan"))
    with pytest.raises(ValueError, match="name"):
        SubtaskInterrupt("", feature=0, below=0.5)
    with pytest.raises(ValueError, match="exactly one of `below` and `above`"):
        SubtaskInterrupt("fight", feature=0)
    with pytest.raises(ValueError, match="exactly one of `below` and `above`"):
        SubtaskInterrupt("fight", feature=0, below=0.5, above=0.5)
    with pytest.raises(ValueError, match="feature"):
        SubtaskInterrupt("fight", feature=(2, -1), above=0.5)
    with pytest.raises(ValueError, match="at least one"):
        SubtaskInterrupt("fight", feature=(), above=0.5)
    with pytest.raises(ValueError, match="above"):
        SubtaskInterrupt("fight", feature=0, above=float("inf"))
    interrupt = SubtaskInterrupt("night", feature=3, below=0.25)
    assert SubtaskInterrupt(**interrupt.to_dict()) == interrupt
    several = SubtaskInterrupt("fight", feature=(4, 1), above=0.5)
    assert SubtaskInterrupt(**json.loads(json.dumps(several.to_dict()))) == several  # through a checkpoint's JSON


def test_an_interrupt_on_several_features_holds_when_any_of_them_does():
    fight = SubtaskInterrupt("fight", feature=(1, 3), above=0.5)
    assert fight.features == (1, 3)
    assert not fight.holds(np.array([1.0, 0.0, 1.0, 0.0]))  # features 0 and 2 are not read
    assert fight.holds(np.array([0.0, 1.0, 0.0, 0.0])) and fight.holds(np.array([0.0, 0.0, 0.0, 1.0]))
    night = SubtaskInterrupt("night", feature=(0, 2), below=0.5)
    assert night.holds(np.array([1.0, 1.0, 0.2, 1.0])) and not night.holds(np.array([0.5, 0.0, 0.9, 0.0]))
    with pytest.raises(ValueError, match="reads feature 3"):
        fight.holds(np.zeros(3))


def test_an_interrupt_with_until_stays_in_charge_until_its_level_is_reached():
    """Water drunk from 3 to 8: in charge from below 4, then until 8, by hand."""
    drink = SubtaskInterrupt("drink", feature=0, below=4.0, until=8.0)
    assert not drink.holds(np.array([5.0])) and drink.holds(np.array([3.0]))
    assert drink.holds(np.array([6.0]), engaged=True) and not drink.holds(np.array([8.0]), engaged=True)
    assert not drink.holds(np.array([6.0]))  # not in charge before: the level to take charge is 4
    controller = SubtaskController(CONSENSUS, items=ITEMS, interrupt=drink)
    levels = [5.0, 4.0, 3.0, 4.0, 7.0, 8.0, 5.0, 3.0]
    changes = np.array([gains()] * (len(levels) - 1))
    assert controller.trace(changes, np.array(levels)[:, None]).tolist() == [0, 0, 4, 4, 4, 0, 0, 4]
    above = SubtaskInterrupt("cool", feature=0, above=5.0, until=2.0)
    assert above.holds(np.array([6.0])) and above.holds(np.array([3.0]), engaged=True)
    assert not above.holds(np.array([2.0]), engaged=True) and not above.holds(np.array([3.0]))
    assert SubtaskInterrupt(**json.loads(json.dumps(drink.to_dict()))) == drink
    with pytest.raises(ValueError, match="at least `below`"):
        SubtaskInterrupt("drink", feature=0, below=4.0, until=3.0)
    with pytest.raises(ValueError, match="at most `above`"):
        SubtaskInterrupt("cool", feature=0, above=5.0, until=6.0)
    with pytest.raises(ValueError, match="until"):
        SubtaskInterrupt("drink", feature=0, below=4.0, until=float("nan"))


def test_several_interrupts_the_first_that_holds_is_in_charge():
    """A fight (feature 1 above 0.5) goes before a drink (feature 0 from below 4 until 8);
    a drink cut short by a fight takes charge again only from below 4."""
    fight = SubtaskInterrupt("fight", feature=1, above=0.5)
    drink = SubtaskInterrupt("drink", feature=0, below=4.0, until=8.0)
    controller = SubtaskController(CONSENSUS, items=ITEMS, interrupt=[fight, drink])
    assert controller.subtasks[-2:] == ("fight", "drink") and controller.interrupts == (fight, drink)
    assert controller.interrupt == fight and controller.num_subtasks == 6
    observations = np.array([[3.0, 0.0], [3.0, 1.0], [5.0, 1.0], [5.0, 0.0], [3.0, 0.0], [6.0, 0.0], [9.0, 0.0]])
    changes = np.array([gains(log=1)] * (len(observations) - 1))
    assert controller.trace(changes, observations).tolist() == [5, 4, 4, 1, 5, 5, 1]  # logs: planks is next
    assert controller.current(gains(), np.array([6.0, 0.0]), previous=5) == 5
    assert controller.current(gains(), np.array([6.0, 0.0]), previous=4) == 0
    with pytest.raises(ValueError, match="another interrupt's"):
        SubtaskController(CONSENSUS, items=ITEMS, interrupt=[fight, fight])
    with pytest.raises(ValueError, match="must be SubtaskInterrupts"):
        SubtaskController(CONSENSUS, items=ITEMS, interrupt=[fight, "drink"])  # type: ignore[list-item]
    assert SubtaskController(CONSENSUS, items=ITEMS, interrupt=[]).interrupt is None


def test_standardize_by_subtask_by_hand():
    advantages = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 7.0]])
    subtask = np.array([[0, 1], [0, 2], [0, 2]])
    standardize_by_subtask(advantages, subtask)
    # sub-task 0: 1, 3, 5 (mean 3, std sqrt(8/3)); sub-task 1: one step, centred to 0;
    # sub-task 2: 10, 7 -> +1, -1.
    spread = np.sqrt(8 / 3)
    assert advantages[:, 0] == pytest.approx([-2 / spread, 0.0, 2 / spread], abs=1e-6)
    assert advantages[0, 1] == 0.0
    assert advantages[1:, 1] == pytest.approx([1.0, -1.0], abs=1e-6)


def changes_of(*steps: dict[str, int]) -> np.ndarray:
    return np.array([gains(**step) for step in steps])


def test_goal_rewards_share_the_demonstrations_redistributed_return():
    controller = SubtaskController(["log", "log", "planks"], items=ITEMS)
    first = Episode(
        np.zeros((5, 1)), np.zeros(4), np.zeros(4),
        infos={"inventory_change": changes_of({}, {"log": 1}, {"log": 1}, {"planks": 4})},
    )
    second = Episode(
        np.zeros((4, 1)), np.zeros(3), np.zeros(3),
        infos={"inventory_change": changes_of({"log": 1}, {"log": 1, "dirt": 1}, {})},
    )
    values = goal_rewards(controller, [first, second], [np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.5, 0.6, 0.7])])
    # first: goal 0 at step 1 (0.1 + 0.2), goal 1 at step 2 (0.3), goal 2 at step 3 (0.4)
    # second: goal 0 at step 0 (0.5), goal 1 at step 1 (0.6), never planks
    assert values == pytest.approx([(0.3 + 0.5) / 2, (0.3 + 0.6) / 2, 0.4])


@given(
    returns=st.floats(-3, 3),
    values=hnp.arrays(np.float64, 3, elements=st.floats(0, 1)),
    length=st.integers(1, 12),
    seed=st.integers(0, 1000),
)
def test_goal_payments_sum_to_the_return(returns, values, length, seed):
    controller = SubtaskController(["log", "log", "planks"], items=ITEMS)
    rng = np.random.default_rng(seed)
    changes = np.zeros((length, len(ITEMS)), dtype=np.int64)
    changes[:, ITEMS.index("log")] = rng.integers(0, 2, size=length)
    changes[:, ITEMS.index("planks")] = rng.integers(0, 2, size=length)
    rewards = np.zeros(length)
    rewards[-1] = returns
    episode = Episode(np.zeros((length + 1, 1)), np.zeros(length), rewards, terminated=True, infos={"inventory_change": changes})
    paid = pay_for_goals(controller, values, episode, settle_terminated=True)
    assert paid.sum() == pytest.approx(returns, abs=1e-9)
    assert np.count_nonzero(paid[:-1]) <= 3
    timed_out = Episode(episode.observations, episode.actions, rewards, truncated=True, infos=episode.infos)
    assert pay_for_goals(controller, values, timed_out, settle_truncated=True).sum() == pytest.approx(returns, abs=1e-9)
    unsettled = pay_for_goals(controller, values, timed_out)
    assert unsettled.sum() == pytest.approx(np.sum(values[: controller.goals_reached(np.sum(changes > 0, axis=0))]))
    goals_only = pay_for_goals(controller, values, episode)  # the default: the sub-goals only
    np.testing.assert_allclose(goals_only, unsettled)


def test_env_reward_is_added_to_the_goal_payments_step_by_step():
    """Hand-checked: goals log, planks pay 0.5 and 0.25; the env pays 1, 0, 2, -1 as it goes."""
    controller = SubtaskController(["log", "planks"], items=ITEMS)
    changes = np.array([gains(log=1), gains(), gains(planks=1), gains()])
    rewards = np.array([1.0, 0.0, 2.0, -1.0])
    episode = Episode(np.zeros((5, 1)), np.zeros(4), rewards, terminated=True, infos={"inventory_change": changes})
    values = np.array([0.5, 0.25])
    assert pay_for_goals(controller, values, episode) == pytest.approx([0.5, 0.0, 0.25, 0.0])
    assert pay_for_goals(controller, values, episode, env_reward_weight=1.0) == pytest.approx([1.5, 0.0, 2.25, -1.0])
    settled = pay_for_goals(controller, values, episode, env_reward_weight=0.5, settle_terminated=True)
    assert settled.sum() == pytest.approx(rewards.sum())


def test_rewards_are_immediate_only_when_paid_before_the_last_step():
    def episode(rewards: list[float]) -> Episode:
        length = len(rewards)
        return Episode(np.zeros((length + 1, 1)), np.zeros(length), np.array(rewards), terminated=True)

    delayed = [episode([0.0, 0.0, 0.0, 0.7]), episode([0.0, 0.0]), episode([-130.0])]
    assert not rewards_are_immediate(delayed)
    assert rewards_are_immediate([*delayed, episode([0.0, 1.0, 0.0, 1.1])])
    assert rewards_are_immediate([episode([-1.0, -1.0, -1.0])])  # a per-step cost
    assert not rewards_are_immediate([])


def test_importing_the_subtasks_module_needs_neither_torch_nor_sb3():
    code = (
        "import sys, rudder.agents, rudder.agents.subtasks\n"
        "print(sorted(m for m in ('torch', 'stable_baselines3') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def minerl_episode(changes: np.ndarray, *, terminated: bool = True) -> Episode:
    """Dict observations with MineRL-style item counts ``inventory/<item>``, shape (T+1,)."""
    counts = np.concatenate([np.zeros((1, len(ITEMS)), np.int64), np.cumsum(changes, axis=0)])
    observations = {f"inventory/{item}": counts[:, column] for column, item in enumerate(ITEMS)}
    length = len(changes)
    return Episode(
        observations, np.arange(length), np.ones(length), terminated=terminated,
        infos={"tick": np.arange(length) * 10},
    )


def test_inventory_changes_and_traces_by_hand():
    controller = SubtaskController(["log", "log", "planks"], items=ITEMS)
    changes = changes_of({}, {"log": 1}, {"dirt": 1}, {"log": 1}, {"log": -1, "planks": 4}, {})
    episode = minerl_episode(changes)
    np.testing.assert_array_equal(inventory_changes(episode, ITEMS, prefix="inventory/"), changes)
    # log (index 0) until the second log is gained after step 3, then planks (index 1)
    (trace,) = subtask_traces([episode], controller, prefix="inventory/")
    assert trace.tolist() == [0, 0, 0, 0, 1, 1]


def test_split_into_segments_by_hand():
    controller = SubtaskController(["log", "planks"], items=ITEMS)
    first = minerl_episode(changes_of({}, {"log": 1}, {}, {"planks": 4}))
    second = minerl_episode(changes_of({"log": 1}, {}), terminated=False)
    traces = subtask_traces([first, second], controller, prefix="inventory/")
    assert [trace.tolist() for trace in traces] == [[0, 0, 1, 1], [0, 1]]
    segments = split_into_segments([first, second], traces)
    # ordered by sub-task, then demonstration, then time
    assert [(int(s.infos["subtask"][0]), int(s.infos["demonstration"][0])) for s in segments] == [
        (0, 0), (0, 1), (1, 0), (1, 1)
    ]
    head, _, tail, _ = segments
    assert head.infos["step"].tolist() == [0, 1] and tail.infos["step"].tolist() == [2, 3]
    assert head.truncated and not head.terminated  # the next sub-task takes over
    assert tail.terminated and not tail.truncated  # the demonstration's own end
    assert not segments[3].terminated and not segments[3].truncated
    np.testing.assert_array_equal(head.observations["inventory/log"], [0, 0, 1])  # s_0 .. s_2
    np.testing.assert_array_equal(tail.infos["tick"], [20, 30])
    assert split_into_segments([first], [np.zeros(0, np.int64)]) == []
