"""The sub-task wrappers: the one-hot online equals the offline annotation, and the
sub-goal payments."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rudder.envs  # noqa: F401 - registers the ids
from rudder.agents.subtasks import (
    SubtaskController,
    SubtaskInterrupt,
    add_subtasks,
    subtask_segments,
)
from rudder.data.record import record_episode
from rudder.envs.craft import BLOCKS, ITEMS, CraftDemonstrator, make_craft_env, vector_size
from rudder.wrappers.subtasks import SubtaskObservation, SubtaskReward


def gains(**counts: int) -> np.ndarray:
    vector = np.zeros(len(ITEMS), dtype=np.int64)
    for name, value in counts.items():
        vector[ITEMS.index(name)] = value
    return vector


def changes_of(*steps: dict[str, int]) -> np.ndarray:
    return np.array([gains(**step) for step in steps])


CONSENSUS = ["log", "log", "planks", "crafting_table", "stick", "wooden_pickaxe"]


def online_and_offline(controller: SubtaskController):
    """The demonstrator's episode recorded through SubtaskObservation, and the same
    episode recorded plainly, then annotated offline; returns (online, replay, annotated)."""
    env = SubtaskObservation(make_craft_env(), controller)
    recorded = [
        record_episode(
            wrapped, CraftDemonstrator(wrapped), seed=3, rng=np.random.default_rng(0), max_steps=120, info_keys=("inventory_change",)
        )
        for wrapped in (env, make_craft_env())
    ]
    return recorded[0], recorded[1], add_subtasks([recorded[1]], controller)[0]


def test_online_observation_equals_offline_annotation():
    controller = SubtaskController(CONSENSUS, items=ITEMS)
    episode, replay, annotated = online_and_offline(controller)
    assert np.array_equal(annotated.observations, episode.observations)
    trace = annotated.observations[:, -controller.num_subtasks :].argmax(axis=1)
    assert trace[0] == 0 and trace[-1] > 0 and np.all(np.diff(trace) >= 0)
    segments = subtask_segments(replay, controller)
    assert sum(segments.values()) == replay.length and segments["log"] > 0


def test_online_observation_equals_offline_annotation_with_an_interrupt():
    """An agent in charge near the surface (the crafting world's depth below 0.2) takes
    over and hands back as the demonstrator goes up and down, online as offline."""
    depth = vector_size() - len(BLOCKS) - 1
    controller = SubtaskController(CONSENSUS, items=ITEMS, interrupt=SubtaskInterrupt("surface", feature=depth, below=0.2))
    episode, replay, annotated = online_and_offline(controller)
    assert np.array_equal(annotated.observations, episode.observations)
    trace = annotated.observations[:, -controller.num_subtasks :].argmax(axis=1)
    surface = replay.observations[:, depth] < 0.2
    assert np.array_equal(trace == controller.num_subtasks - 1, surface)
    assert 0 < surface.sum() < surface.size
    segments = subtask_segments(replay, controller)
    assert sum(segments.values()) == replay.length and segments["surface"] == surface[:-1].sum()


def test_online_observation_equals_offline_annotation_with_interrupts_that_hold_until_a_level():
    """Two interrupts on the depth: one from near the surface until deep down (it holds on
    past where it took charge), one deeper still; online as offline, and the first holds
    on for steps where its condition alone would not."""
    depth = vector_size() - len(BLOCKS) - 1
    surface = SubtaskInterrupt("surface", feature=depth, below=0.2, until=0.5)
    deep = SubtaskInterrupt("deep", feature=depth, above=0.8)
    controller = SubtaskController(CONSENSUS, items=ITEMS, interrupt=[surface, deep])
    episode, replay, annotated = online_and_offline(controller)
    assert np.array_equal(annotated.observations, episode.observations)
    trace = annotated.observations[:, -controller.num_subtasks :].argmax(axis=1)
    values = replay.observations[:, depth]
    first = controller.num_subtasks - 2
    assert np.all(trace[values < 0.2] == first)
    assert np.any((trace == first) & (values >= 0.2))  # held on until 0.5
    assert np.all(values[trace == first] < 0.5)


class ScriptedInventory(gym.Env):
    """Emits a fixed list of inventory changes (and env reward 0 then ``final``)."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(1)

    def __init__(self, changes: np.ndarray, final: float, *, truncate: bool = False) -> None:
        self.changes, self.final, self.truncate, self.step_index = changes, final, truncate, 0

    def reset(self, *, seed=None, options=None):
        self.step_index = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        change = self.changes[self.step_index]
        self.step_index += 1
        done = self.step_index == len(self.changes)
        info = {"inventory_change": change, "original_reward": self.final if done else 0.0}
        return np.zeros(1, np.float32), 0.0, done and not self.truncate, done and self.truncate, info


def test_reward_wrapper_pays_nothing_for_events_that_are_not_the_next_sub_goal():
    controller = SubtaskController(["log", "crafting_table", "wooden_pickaxe"], items=ITEMS)
    changes = changes_of({"log": 1}, {"crafting_table": 1}, {"crafting_table": 1}, {"crafting_table": 1}, {"wooden_pickaxe": 1}, {})
    env = SubtaskReward(SubtaskObservation(ScriptedInventory(changes, final=1.0), controller), controller, np.array([0.2, 0.3, 0.4]))
    env.reset()
    rewards = [env.step(0)[1] for _ in range(len(changes))]
    assert rewards == pytest.approx([0.2, 0.3, 0.0, 0.0, 0.4, 0.0])
    settled = SubtaskReward(
        SubtaskObservation(ScriptedInventory(changes, final=1.0), controller),
        controller,
        np.array([0.2, 0.3, 0.4]),
        settle_terminated=True,
    )
    settled.reset()
    assert [settled.step(0)[1] for _ in range(len(changes))] == pytest.approx([0.2, 0.3, 0.0, 0.0, 0.4, 1.0 - 0.9])
    for settle, last in ((False, 0.0), (True, -0.9)):
        inner = SubtaskObservation(ScriptedInventory(changes, final=0.0, truncate=True), controller)
        env = SubtaskReward(inner, controller, np.array([0.2, 0.3, 0.4]), settle_truncated=settle)
        env.reset()
        assert [env.step(0)[1] for _ in range(len(changes))][-1] == pytest.approx(last)


class PayingAsItGoes(ScriptedInventory):
    """Pays ``rewards[t]`` at step t, as Crafter pays achievements and health."""

    def __init__(self, changes: np.ndarray, rewards: list[float]) -> None:
        super().__init__(changes, final=0.0)
        self.rewards = rewards

    def step(self, action):
        observation, reward, terminated, truncated, info = super().step(action)
        info["original_reward"] = self.rewards[self.step_index - 1]
        return observation, reward, terminated, truncated, info


def test_reward_wrapper_passes_the_env_reward_on_when_asked():
    controller = SubtaskController(["log", "crafting_table"], items=ITEMS)
    changes = changes_of({"log": 1}, {}, {"crafting_table": 1}, {})
    env_rewards = [1.0, -0.2, 1.0, 0.1]

    def paid(**settings: float) -> list[float]:
        env = SubtaskReward(
            SubtaskObservation(PayingAsItGoes(changes, env_rewards), controller), controller, np.array([0.5, 0.25]), **settings
        )
        env.reset()
        return [env.step(0)[1] for _ in range(len(changes))]

    assert paid() == pytest.approx([0.5, 0.0, 0.25, 0.0])
    assert paid(env_reward_weight=1.0) == pytest.approx([1.5, -0.2, 1.25, 0.1])
    assert paid(env_reward_weight=0.5) == pytest.approx([1.0, -0.1, 0.75, 0.05])
    with pytest.raises(ValueError, match="env_reward_weight"):
        paid(env_reward_weight=-1.0)


def test_the_last_agent_is_paid_its_sub_goal_however_late_the_episode_ends():
    """A return that falls with time (minigrid's 1 - 0.9 t / T): a slow episode's return
    (0.3) is below what the sub-goals pay (0.2 + 0.3 + 0.4). By default the last agent's
    sub-goal still pays its share (0.4), more than stopping short until the time-out (0):
    settled, it paid 0.4 + 0.3 - 0.9 = -0.2, so that not finishing was worth more."""
    controller = SubtaskController(["log", "crafting_table", "wooden_pickaxe"], items=ITEMS)
    shares = np.array([0.2, 0.3, 0.4])
    slow = changes_of({"log": 1}, {}, {}, {"crafting_table": 1}, {}, {"wooden_pickaxe": 1})
    stopped_short = changes_of({"log": 1}, {}, {}, {"crafting_table": 1}, {}, {})

    def paid(changes: np.ndarray, final: float, *, truncate: bool = False, **settings: bool) -> list[float]:
        inner = SubtaskObservation(ScriptedInventory(changes, final=final, truncate=truncate), controller)
        env = SubtaskReward(inner, controller, shares, **settings)
        env.reset()
        return [env.step(0)[1] for _ in range(len(changes))]

    finished = paid(slow, final=0.3)
    assert finished == pytest.approx([0.2, 0.0, 0.0, 0.3, 0.0, 0.4])
    timed_out = paid(stopped_short, final=0.0, truncate=True)
    assert timed_out == pytest.approx([0.2, 0.0, 0.0, 0.3, 0.0, 0.0])
    assert finished[-1] > timed_out[-1]
    # The settlement, on request, charges the earlier agents' slowness to the last one.
    assert paid(slow, final=0.3, settle_terminated=True)[-1] == pytest.approx(-0.2)
