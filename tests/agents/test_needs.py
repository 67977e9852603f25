"""find_needs, demonstration_needs and need_interrupts."""

from __future__ import annotations

import numpy as np
import pytest

from rudder.agents.needs import Need, demonstration_needs, find_needs, need_interrupts
from rudder.agents.subtasks import SubtaskController
from rudder.data.episode import Episode

WATER, WOOD, HEALTH, FLAG = 0, 1, 2, 3
"""The features of the synthetic demonstrations:

- WATER (levels 0..9, a need): falls by one every 5 steps whatever the demonstrator does;
  once it is at or below the demonstrator's level for the episode (3, 4 or 5), it walks
  two steps, then drinks (action 4, +1 a step) up to 8;
- WOOD (levels 0..9): rises on action 5 (chopping, in every sub-task) and falls only on
  action 6 (crafting): not a need, the fall is the demonstrator's doing;
- HEALTH (levels 0..9): rises by one every 7 steps and falls by one every 9, whatever the
  demonstrator does: not a need, the rise is not its doing;
- FLAG (0 or 1): not a level.
The sub-task is step // 30 % 4; actions 0..3 are moves.
"""

DRINK, CHOP, CRAFT = 4, 5, 6


def synthetic(count: int = 12, length: int = 240, seed: int = 0):
    rng = np.random.default_rng(seed)
    observations, actions, subtasks = [], [], []
    for _ in range(count):
        threshold = int(rng.integers(3, 6))
        water, wood, health = 9, 0, 5
        walking, drinking = -1, False
        rows, chosen = [], []
        for step in range(length):
            rows.append([water, wood, health, step % 2])
            if drinking or walking == 0:
                action, drinking, walking = DRINK, True, -1
            elif walking > 0:
                action, walking = int(rng.integers(0, 4)), walking - 1
            elif water <= threshold:
                action, walking = int(rng.integers(0, 4)), 1
            else:
                action = int(rng.choice([0, 1, 2, 3, CHOP, CRAFT], p=[0.2, 0.2, 0.2, 0.2, 0.12, 0.08]))
            chosen.append(action)
            if action == DRINK:
                water = min(water + 1, 9)
                drinking = water < 8
            if (step + 1) % 5 == 0:
                water = max(water - 1, 0)
            if action == CHOP:
                wood = min(wood + 1, 9)
            if action == CRAFT and wood > 0:
                wood -= 1
            health = min(health + ((step + 1) % 7 == 0), 9) - ((step + 1) % 9 == 0)
        rows.append([water, wood, health, length % 2])
        observations.append(np.array(rows, dtype=np.float32) / np.array([9, 9, 9, 1], dtype=np.float32))
        actions.append(np.array(chosen, dtype=np.int64))
        subtasks.append(np.arange(length) // 30 % 4)
    return observations, actions, subtasks


def test_a_level_that_falls_by_itself_and_is_topped_up_from_low_is_a_need():
    observations, actions, subtasks = synthetic()
    needs = find_needs(observations, actions, subtasks)
    assert [need.feature for need in needs] == [WATER]
    (water,) = needs
    # the thresholds are 3, 4 and 5; the first drink comes after a walk of two steps, so
    # top-ups start at about the threshold and end at 8
    assert 2 / 9 <= water.start <= 5 / 9 and water.end == pytest.approx(8 / 9)
    # in charge from the lower quartile of the starts (at least 2 of 9), until 8
    assert 2.5 / 9 <= water.below <= water.start + 0.5 / 9 and water.until == pytest.approx(7.5 / 9)
    assert water.action == DRINK and water.rise > 0.5 and water.fall < 0.25
    assert water.subtasks == 4 and water.top_ups >= 20
    (interrupt,) = need_interrupts(needs)
    assert interrupt.name == f"need {WATER}" and interrupt.features == (WATER,)
    assert interrupt.below == water.below and interrupt.until == water.until


def test_the_thresholds_decide():
    observations, actions, subtasks = synthetic()
    assert find_needs(observations, actions, subtasks, min_subtasks=5) == []
    assert find_needs(observations, actions, subtasks, min_top_ups=10_000) == []
    assert find_needs(observations, actions, subtasks, min_rise=1.0) == []
    # let any fall through and wood, topped up by chopping in every sub-task, is one too
    lenient = find_needs(observations, actions, subtasks, max_fall=1.0)
    assert {need.feature for need in lenient} >= {WATER, WOOD}
    assert all(need.feature != HEALTH for need in lenient)  # its rise is not the demonstrator's
    # water takes 10 levels; at most 5 allowed, it is no level
    assert find_needs(observations, actions, subtasks, max_levels=5) == []


def test_nothing_to_find_and_bad_input():
    assert find_needs([], [], []) == []
    flat = [np.zeros((11, 3))]
    assert find_needs(flat, [np.zeros(10, dtype=np.int64)], [np.zeros(10, dtype=np.int64)]) == []
    with pytest.raises(ValueError, match="one entry per demonstration"):
        find_needs(flat, [], [])
    with pytest.raises(ValueError, match=r"shape \(T\+1, n\)"):
        find_needs([np.zeros((10, 3))], [np.zeros(10, dtype=np.int64)], [np.zeros(10, dtype=np.int64)])
    with pytest.raises(ValueError, match="discrete actions"):
        find_needs(flat, [np.zeros(10)], [np.zeros(10, dtype=np.int64)])
    with pytest.raises(ValueError, match="`subtasks` must have shape"):
        find_needs(flat, [np.zeros(10, dtype=np.int64)], [np.zeros(3, dtype=np.int64)])
    with pytest.raises(ValueError, match="same length n"):
        find_needs(
            [np.zeros((11, 3)), np.zeros((11, 4))],
            [np.zeros(10, dtype=np.int64)] * 2,
            [np.zeros(10, dtype=np.int64)] * 2,
        )
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        find_needs(flat, [np.zeros(10, dtype=np.int64)], [np.zeros(10, dtype=np.int64)], max_fall=2.0)
    with pytest.raises(ValueError, match=">= 1"):
        find_needs(flat, [np.zeros(10, dtype=np.int64)], [np.zeros(10, dtype=np.int64)], gap=0)


def test_demonstration_needs_reads_the_sub_tasks_off_the_controller():
    """The same demonstrations as episodes: the controller's sub-tasks come from the
    events (a log, planks and a stick at steps 59, 119 and 179, so four sub-tasks along
    each episode) and the need is found as with the sub-tasks given."""
    observations, actions, _ = synthetic()
    items = ("log", "planks", "stick", "table")
    episodes = []
    for episode_observations, episode_actions in zip(observations, actions):
        changes = np.zeros((episode_actions.size, len(items)), dtype=np.int64)
        changes[[59, 119, 179], [0, 1, 2]] = 1
        episodes.append(
            Episode(
                observations=episode_observations,
                actions=episode_actions,
                rewards=np.zeros(episode_actions.size),
                terminated=True,
                infos={"inventory_change": changes},
            )
        )
    controller = SubtaskController(list(items), items=items)
    needs = demonstration_needs(controller, episodes)
    assert [need.feature for need in needs] == [WATER] and needs[0].subtasks == 4
    assert needs == find_needs(observations, actions, [np.arange(240) // 60 for _ in actions])
    assert isinstance(needs[0], Need)
    with pytest.raises(KeyError, match="no infos"):
        demonstration_needs(controller, [Episode(observations[0], actions[0], np.zeros(240), terminated=True)])
    with pytest.raises(ValueError, match="has an interrupt already"):
        demonstration_needs(
            SubtaskController(["log"], items=items, interrupt=need_interrupts(needs)), episodes
        )
    # dict observations: no needs to look for
    as_dicts = [Episode({"view": episode.observations}, episode.actions, episode.rewards, terminated=True,
                        infos=episode.infos) for episode in episodes]
    assert demonstration_needs(controller, as_dicts) == []
