"""The make_vec_env wrapper stacks: redistribution (+ progress) and sub-tasks."""

from __future__ import annotations

import numpy as np
import pytest

import rudder.envs  # noqa: F401 - registers the ids
from rudder.agents.subtasks import SubtaskController, goal_rewards, pay_for_goals
from rudder.data.record import record_episode
from rudder.envs.craft import ITEMS, CraftDemonstrator, craft_demonstrations, make_craft_env
from rudder.events import InventoryEncoder
from rudder.redistribution import AlignmentRedistributor
from rudder.wrappers import (
    ProfileProgressObservation,
    RedistributedReward,
    SubtaskObservation,
    SubtaskReward,
    redistribution_wrapper,
    subtask_wrapper,
)


@pytest.fixture(scope="module")
def demonstrations():
    return craft_demonstrations(4, seed=0)


def test_reward_wrapper_pays_the_sub_goals_as_offline(demonstrations):
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    redistributor = AlignmentRedistributor(encoder).fit(demonstrations)
    controller = SubtaskController.from_redistributor(redistributor, items=ITEMS)
    values = goal_rewards(controller, demonstrations, [redistributor.redistribute(d) for d in demonstrations])
    assert values.sum() == pytest.approx(1.0, abs=0.05)  # every demonstration returns 1
    env = subtask_wrapper(make_craft_env(), redistributor, controller, progress=None, goal_rewards=values)
    assert isinstance(env, SubtaskReward)
    online = record_episode(env, CraftDemonstrator(env), seed=11, rng=np.random.default_rng(2), info_keys=("inventory_change",))
    plain = make_craft_env()
    offline = record_episode(plain, CraftDemonstrator(plain), seed=11, rng=np.random.default_rng(2), info_keys=("inventory_change",))
    assert np.allclose(online.rewards, pay_for_goals(controller, values, offline))
    assert online.rewards.sum() == pytest.approx(offline.episode_return)


def test_reward_wrapper_pays_env_reward_as_offline():
    """Online against offline where the env pays as it goes (the crafting world's item
    rewards): the sub-goals plus the env's own reward, step by step."""
    dense = craft_demonstrations(3, env_id="rudder/CraftDiamondDense-v0", seed=1)
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    redistributor = AlignmentRedistributor(encoder).fit(dense)
    controller = SubtaskController.from_redistributor(redistributor, items=ITEMS)
    values = goal_rewards(controller, dense, [redistributor.redistribute(d) for d in dense])
    env = subtask_wrapper(
        make_craft_env("rudder/CraftDiamondDense-v0"), redistributor, controller, goal_rewards=values, env_reward_weight=1.0
    )
    online = record_episode(env, CraftDemonstrator(env), seed=5, rng=np.random.default_rng(4), info_keys=("inventory_change",))
    plain = make_craft_env("rudder/CraftDiamondDense-v0")
    offline = record_episode(plain, CraftDemonstrator(plain), seed=5, rng=np.random.default_rng(4), info_keys=("inventory_change",))
    assert np.count_nonzero(offline.rewards[:-1]) > 0
    paid = pay_for_goals(controller, values, offline, env_reward_weight=1.0)
    assert np.allclose(online.rewards, paid)
    assert np.allclose(paid - offline.rewards, pay_for_goals(controller, values, offline))


def test_redistribution_wrapper_adds_progress_only_when_asked(demonstrations):
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    redistributor = AlignmentRedistributor(encoder).fit(demonstrations)
    plain = redistribution_wrapper(make_craft_env(), redistributor)
    assert isinstance(plain, RedistributedReward)
    shown = redistribution_wrapper(make_craft_env(), redistributor, progress="box")
    assert isinstance(shown, ProfileProgressObservation) and isinstance(shown.env, RedistributedReward)
    controller = SubtaskController.from_redistributor(redistributor, items=ITEMS)
    assert isinstance(subtask_wrapper(make_craft_env(), redistributor, controller).env, RedistributedReward)
    observed = subtask_wrapper(make_craft_env(), redistributor, controller, progress="box")
    assert isinstance(observed, SubtaskObservation) and isinstance(observed.env, ProfileProgressObservation)
    size = shown.observation_space.shape[0]
    assert observed.observation_space.shape == (size + controller.num_subtasks,)
