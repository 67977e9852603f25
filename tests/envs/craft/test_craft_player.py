"""The crafting world's scripted player and its demonstrations."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from craft_scenes import count

import rudder.envs  # noqa: F401 - registers the ids
from rudder.envs.craft import ITEM_CHAIN, ITEMS, TABLE, CraftDemonstrator, craft_demonstrations
from rudder.events import InventoryEncoder
from rudder.profile import consensus_items
from rudder.redistribution import AlignmentRedistributor


def test_demonstrations_obtain_the_diamond_with_variety():
    demos = craft_demonstrations(6, seed=0)
    assert all(d.terminated and d.episode_return == 1.0 for d in demos)
    assert len({d.length for d in demos}) > 1
    logs = [int(np.sum(np.asarray(d.infos["inventory_change"])[:, ITEMS.index("log")] > 0)) for d in demos]
    assert min(logs) >= 6 and len(set(logs)) > 1


@pytest.mark.parametrize("seed", [0, 1, 2, 15])  # 15: once walked back and forth forever
def test_player_can_smelt_away_from_the_table_and_walk_back(seed):
    env = gym.make("rudder/CraftDiamond-v0")
    player = CraftDemonstrator(env, noise=0.0, furnace_away=1.0)
    world = env.unwrapped
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    smelted_away, walked_into_reach, tables_after_smelting, done = 0, 0, 0, False
    while not done:
        action = player(None, rng)
        table_near_before = world.station_nearby(TABLE)
        _, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
        change = dict(zip(ITEMS, info["inventory_change"]))
        if change["iron_ingot"] > 0:
            smelted_away += not world.station_nearby(TABLE)
        if count(world, "iron_ingot") >= 3:
            tables_after_smelting += change["crafting_table"] != 0  # crafted or placed one
            walked_into_reach += 1 <= action <= 4 and not table_near_before and world.station_nearby(TABLE)
    assert terminated and count(world, "diamond") == 1
    assert smelted_away == 3  # every ingot smelted out of the table's reach
    assert walked_into_reach == 1 and tables_after_smelting == 0  # walked back to the old table


def test_player_blocked_where_it_would_place_the_furnace_does_not_walk_forever():
    # seed 29: the furnace spot faces bedrock; the player used to step back into the table's
    # reach, walk off again and repeat until the time ran out
    env = gym.make("rudder/CraftDiamond-v0")
    player = CraftDemonstrator(env, noise=0.0, furnace_away=1.0)
    rng = np.random.default_rng(29)
    env.reset(seed=29)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(player(None, rng))
        done = terminated or truncated
    assert terminated and env.unwrapped.steps < 400


def test_consensus_recovers_the_item_chain_in_order():
    demos = craft_demonstrations(20, seed=0)
    redistributor = AlignmentRedistributor(
        InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    ).fit(demos)
    names = [redistributor.encoder.alphabet.name(goal.event) for goal in redistributor.profile.consensus]
    assert consensus_items(names) == list(ITEM_CHAIN)
    assert names.count("log") >= 6


def test_demonstrations_retry_failures_unless_they_are_kept():
    """A demonstration that runs out of time is retried with the next seed, or kept with
    ``include_failures``; too few tries raise."""
    tight = {"max_steps": 60}
    with pytest.raises(RuntimeError, match="did not obtain the diamond"):
        craft_demonstrations(1, seed=0, max_attempts=2, env_kwargs=tight)
    [failure] = craft_demonstrations(1, seed=0, include_failures=True, env_kwargs=tight)
    assert failure.truncated and not failure.terminated and failure.length == 60
    with pytest.raises(ValueError, match="num_demonstrations"):
        craft_demonstrations(0)
