"""The crafting world's env: API conformance, the world, recipes and tools, rewards."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from craft_scenes import count, facing, held
from gymnasium.utils.env_checker import check_env

import rudder.envs  # noqa: F401 - registers the ids
from rudder.data.record import record_episode
from rudder.envs.craft import (
    ACTION,
    BEDROCK,
    COAL_ORE,
    DIAMOND_ORE,
    FURNACE,
    GRASS,
    IRON_ORE,
    ITEMS,
    STONE,
    TABLE,
    TREE,
    CraftDemonstrator,
    CraftEnv,
    CraftVectorObservation,
)
from rudder.minecraft import ITEM_REWARDS


@pytest.fixture
def env() -> CraftEnv:
    env = CraftEnv()
    env.reset(seed=3)
    return env


def test_passes_the_gymnasium_checker():
    check_env(CraftEnv(), skip_render_check=True)
    check_env(CraftVectorObservation(CraftEnv()), skip_render_check=True)


def test_registered_ids_and_reward_modes():
    assert gym.make("rudder/CraftDiamond-v0").unwrapped.reward_mode == "diamond"
    assert gym.make("rudder/CraftDiamondDense-v0").unwrapped.reward_mode == "dense"


def test_same_seed_same_world_and_episode():
    first, second = gym.make("rudder/CraftDiamond-v0"), gym.make("rudder/CraftDiamond-v0")
    episodes = [
        record_episode(env, CraftDemonstrator(env, noise=0.1), seed=7, rng=np.random.default_rng(1))
        for env in (first, second)
    ]
    assert np.array_equal(episodes[0].actions, episodes[1].actions)
    for key in episodes[0].observations:
        assert np.array_equal(episodes[0].observations[key], episodes[1].observations[key])
    other = gym.make("rudder/CraftDiamond-v0")
    other.reset(seed=8)
    first.reset(seed=7)
    assert not np.array_equal(first.unwrapped.world, other.unwrapped.world)


def test_world_layout(env):
    world = env.world
    assert np.all(world[0] == BEDROCK) and np.all(world[-1] == BEDROCK)
    assert np.all(world[:, 0] == BEDROCK) and np.all(world[:, -1] == BEDROCK)
    surface = world[1 : env.surface_rows + 1, 1:-1]
    assert np.isin(surface, [GRASS, TREE, 3]).all() and np.sum(surface == TREE) >= 3
    first, last = env.diamond_rows
    assert np.sum(world == DIAMOND_ORE) >= 1
    assert np.all(np.argwhere(world == DIAMOND_ORE)[:, 0] >= first)
    assert np.sum(world == IRON_ORE) >= 4
    assert world[tuple(env.position)] == GRASS


def test_view_is_centred_and_bedrock_outside(env):
    observation = env.observe()
    view = observation["view"]
    half = env.view_size // 2
    assert view.shape == (env.view_size, env.view_size)
    row, column = env.position
    assert view[half, half] == env.world[row, column]
    assert view[half, half + 1] == env.world[row, column + 1]
    env.position = np.array([1, 1])
    corner = env.observe()["view"]
    assert np.all(corner[:half, :] == BEDROCK) and np.all(corner[:, :half] == BEDROCK)
    assert observation["depth"][0] == pytest.approx(row / (env.height - 1))


def test_mining_needs_the_right_tool(env):
    for block, item, tool in (
        (TREE, "log", None),
        (STONE, "cobblestone", "wooden_pickaxe"),
        (COAL_ORE, "coal", "wooden_pickaxe"),
        (IRON_ORE, "iron_ore", "stone_pickaxe"),
        (DIAMOND_ORE, "diamond", "iron_pickaxe"),
    ):
        env.inventory[:] = 0
        cell = facing(env, block)
        env.step(ACTION["attack"])
        if tool is not None:
            assert count(env, item) == 0, f"{item} mined without a {tool}"
            assert env.world[cell] == block
            held(env, **{tool: 1})
            env.step(ACTION["attack"])
        assert count(env, item) == 1
        assert env.world[cell] != block
        env.steps = 0


def test_moving_into_a_block_turns_without_moving(env):
    cell = facing(env, STONE, direction=2)
    start = env.position.copy()
    env.facing = 0
    env.step(ACTION["move:west"])
    assert np.array_equal(env.position, start) and env.facing == 2
    env.set_block(*cell, GRASS)
    env.step(ACTION["move:west"])
    assert np.array_equal(env.position, start + [0, -1])


def test_hand_recipes(env):
    held(env, log=2)
    env.step(ACTION["craft:planks"])
    assert (count(env, "log"), count(env, "planks")) == (1, 4)
    env.step(ACTION["craft:stick"])
    assert (count(env, "planks"), count(env, "stick")) == (2, 4)
    env.step(ACTION["craft:crafting_table"])  # needs 4 planks, has 2: nothing happens
    assert count(env, "crafting_table") == 0 and count(env, "planks") == 2
    env.step(ACTION["craft:planks"])
    env.step(ACTION["craft:crafting_table"])
    assert (count(env, "planks"), count(env, "crafting_table")) == (2, 1)


def test_nearby_crafting_needs_a_table_within_two_cells(env):
    held(env, planks=3, stick=2)
    env.step(ACTION["nearbyCraft:wooden_pickaxe"])
    assert count(env, "wooden_pickaxe") == 0
    held(env, crafting_table=1)
    facing(env, GRASS, direction=3)
    env.step(ACTION["place:crafting_table"])
    assert env.world[env.faced_cell()] == TABLE and count(env, "crafting_table") == 0
    env.step(ACTION["nearbyCraft:wooden_pickaxe"])
    assert count(env, "wooden_pickaxe") == 1 and count(env, "planks") == 0 and count(env, "stick") == 0
    held(env, cobblestone=11, stick=2)
    env.step(ACTION["nearbyCraft:stone_pickaxe"])
    env.step(ACTION["nearbyCraft:furnace"])
    assert (count(env, "stone_pickaxe"), count(env, "furnace"), count(env, "cobblestone")) == (1, 1, 0)
    # three cells away the table is out of reach
    table = env.faced_cell()
    env.world[table] = GRASS
    env.set_block(*table, GRASS)
    env.set_block(int(env.position[0]), int(env.position[1]) + 3, TABLE)
    held(env, iron_ingot=3, stick=2)
    env.step(ACTION["nearbyCraft:iron_pickaxe"])
    assert count(env, "iron_pickaxe") == 0


def test_distance_in_view(env):
    row, column = (int(value) for value in env.position)
    assert env.distance_in_view(TABLE) is None
    env.set_block(row + 3, column + 1, TABLE)
    env.set_block(row + 2, column - 2, TABLE)
    assert env.distance_in_view(TABLE) == 2
    env.set_block(row + 2, column - 2, STONE)
    assert env.distance_in_view(TABLE) == 3
    env.set_block(row + 3, column + 1, STONE)
    env.set_block(row, column + env.view_size // 2 + 1, TABLE)  # just outside the view
    assert env.distance_in_view(TABLE) is None


def test_smelting_uses_coal_first_then_planks(env):
    facing(env, FURNACE, direction=3)
    held(env, iron_ore=3, coal=1, planks=1)
    env.step(ACTION["nearbySmelt:iron_ingot"])
    assert (count(env, "iron_ingot"), count(env, "coal"), count(env, "planks")) == (1, 0, 1)
    env.step(ACTION["nearbySmelt:iron_ingot"])
    assert (count(env, "iron_ingot"), count(env, "planks")) == (2, 0)
    env.step(ACTION["nearbySmelt:iron_ingot"])  # no fuel left
    assert count(env, "iron_ingot") == 2 and count(env, "iron_ore") == 1


def test_rewards_and_termination():
    for mode in ("diamond", "dense", "items"):
        env = CraftEnv(reward=mode)
        env.reset(seed=0)
        facing(env, TREE)
        _, reward, terminated, _, info = env.step(ACTION["attack"])
        assert reward == {"diamond": 0.0, "dense": ITEM_REWARDS["log"], "items": ITEM_REWARDS["log"]}[mode]
        assert not terminated and info["inventory_change"][ITEMS.index("log")] == 1
        facing(env, TREE)
        _, reward, _, _, info = env.step(ACTION["attack"])
        assert reward == {"diamond": 0.0, "dense": ITEM_REWARDS["log"], "items": 0.0}[mode]
        assert info["obtained"][ITEMS.index("log")] and not info["obtained"][ITEMS.index("diamond")]
        facing(env, DIAMOND_ORE)
        held(env, iron_pickaxe=1)
        _, reward, terminated, truncated, info = env.step(ACTION["attack"])
        assert reward == {"diamond": 1.0, "dense": 1024.0, "items": 1024.0}[mode]
        assert terminated and not truncated and info["is_success"]


def test_truncation_at_the_step_limit():
    env = CraftEnv(max_steps=5)
    env.reset(seed=0)
    for step in range(5):
        _, _, terminated, truncated, _ = env.step(ACTION["noop"])
        assert not terminated and truncated == (step == 4)


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError, match="reward"):
        CraftEnv(reward="sparse")
    with pytest.raises(ValueError, match="view_size"):
        CraftEnv(view_size=4)
    with pytest.raises(ValueError, match="invalid action"):
        env = CraftEnv()
        env.reset(seed=0)
        env.step(99)


def test_rendering():
    env = CraftEnv(render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert text.count("\n") == env.height and "inventory: empty" in text
    env = CraftEnv(render_mode="rgb_array")
    env.reset(seed=0)
    assert env.render().shape == (env.height * 8, env.width * 8, 3)


def test_info_obtained_is_a_bool_vector_over_items(env):
    """``info["obtained"]`` (what per-item success tables read) marks each item of
    ``ITEMS`` gained at least once this episode, and stays set after the item is used."""
    _, info = env.reset(seed=3)
    assert info["obtained"].dtype == bool and info["obtained"].shape == (len(ITEMS),)
    assert not info["obtained"].any()
    facing(env, TREE)
    env.step(ACTION["attack"])
    _, _, _, _, info = env.step(ACTION["craft:planks"])
    assert info["obtained"].dtype == bool and info["obtained"].shape == (len(ITEMS),)
    assert [ITEMS[index] for index in np.flatnonzero(info["obtained"])] == ["log", "planks"]
    assert count(env, "log") == 0


def test_set_block_updates_the_world_and_the_view(env):
    row, column = (int(value) for value in env.position)
    env.set_block(row, column + 1, FURNACE)
    half = env.view_size // 2
    assert env.world[row, column + 1] == FURNACE
    assert env.observe()["view"][half, half + 1] == FURNACE
    assert env.station_nearby(FURNACE)
