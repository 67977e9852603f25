"""The crafting world: API conformance, recipes and tools, rewards, demonstrations."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
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
    ITEM_CHAIN,
    ITEMS,
    STONE,
    TABLE,
    TREE,
    CraftDemonstrator,
    CraftEnv,
    CraftVectorObservation,
    consensus_items,
    craft_demonstrations,
    mirror_episode,
)
from rudder.envs.minerl import ITEM_REWARDS
from rudder.events import InventoryEncoder
from rudder.redistribution import AlignmentRedistributor


def held(env: CraftEnv, **counts: int) -> None:
    for name, count in counts.items():
        env.inventory[ITEMS.index(name)] = count


def facing(env: CraftEnv, block: int, direction: int = 1) -> tuple[int, int]:
    """Puts ``block`` on the cell in ``direction`` of the agent and faces it."""
    env.facing = direction
    row, column = env.faced_cell()
    env._set_block(row, column, block)
    return row, column


@pytest.fixture
def env() -> CraftEnv:
    env = CraftEnv()
    env.reset(seed=3)
    return env


def count(env: CraftEnv, name: str) -> int:
    return int(env.inventory[ITEMS.index(name)])


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
    observation = env._observation()
    view = observation["view"]
    half = env.view_size // 2
    assert view.shape == (env.view_size, env.view_size)
    row, column = env.position
    assert view[half, half] == env.world[row, column]
    assert view[half, half + 1] == env.world[row, column + 1]
    env.position = np.array([1, 1])
    corner = env._observation()["view"]
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
    env._set_block(*cell, GRASS)
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
    env._set_block(*table, GRASS)
    env._set_block(int(env.position[0]), int(env.position[1]) + 3, TABLE)
    held(env, iron_ingot=3, stick=2)
    env.step(ACTION["nearbyCraft:iron_pickaxe"])
    assert count(env, "iron_pickaxe") == 0


def test_distance_in_view(env):
    row, column = (int(value) for value in env.position)
    assert env.distance_in_view(TABLE) is None
    env._set_block(row + 3, column + 1, TABLE)
    env._set_block(row + 2, column - 2, TABLE)
    assert env.distance_in_view(TABLE) == 2
    env._set_block(row + 2, column - 2, STONE)
    assert env.distance_in_view(TABLE) == 3
    env._set_block(row + 3, column + 1, STONE)
    env._set_block(row, column + env.view_size // 2 + 1, TABLE)  # just outside the view
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


def test_vector_observation_matches_the_dict():
    env = CraftVectorObservation(CraftEnv())
    vector, _ = env.reset(seed=0)
    inner = env.unwrapped._observation()
    size = env.unwrapped.view_size
    blocks = vector[: size * size * 11].reshape(size, size, 11)
    assert np.array_equal(blocks.argmax(axis=2), inner["view"])
    assert env.observation_space.contains(vector)
    assert vector.shape == (size * size * 11 + len(ITEMS) + 4 + 1 + 11,)
    world = env.unwrapped
    for direction in range(4):
        row, column = facing(world, (STONE, TREE, TABLE, GRASS)[direction], direction)
        vector = env.observation(world._observation())
        assert vector[-11:].argmax() == world.world[row, column] and vector[-11:].sum() == 1


def test_mirror_episode_is_the_episode_of_the_mirrored_world():
    """Oracle: replaying the mirrored actions in the left-right mirrored world gives the
    mirrored observations, step by step."""
    demo = craft_demonstrations(1, seed=2)[0]
    env = CraftVectorObservation(CraftEnv())
    env.reset(seed=2)  # the world the demonstration was recorded in (seed + 1000 * 0 + attempt 0)
    assert np.array_equal(env.observation(env.unwrapped._observation()), demo.observations[0])
    world = env.unwrapped
    mirrored_world = world.world[:, ::-1].copy()
    for row in range(world.height):
        for column in range(world.width):
            world._set_block(row, column, int(mirrored_world[row, column]))
    world.position = np.array([world.position[0], world.width - 1 - world.position[1]])
    mirror = mirror_episode(demo)
    assert np.array_equal(env.observation(world._observation()), mirror.observations[0])
    assert not np.array_equal(mirror.observations[0], demo.observations[0])
    for step, action in enumerate(mirror.actions):
        observation, _, _, _, info = env.step(int(action))
        assert np.array_equal(observation, mirror.observations[step + 1]), f"step {step}"
        assert np.array_equal(info["inventory_change"], demo.infos["inventory_change"][step])
    assert world.inventory[ITEMS.index("diamond")] == 1


def test_mirror_episode_keeps_appended_features_and_refuses_other_observations():
    demo = craft_demonstrations(1, seed=0)[0]
    extra = np.arange(demo.length + 1, dtype=np.float32)[:, None]
    widened = dataclasses.replace(demo, observations=np.concatenate([demo.observations, extra], axis=1))
    mirrored = mirror_episode(widened)
    assert np.array_equal(mirrored.observations[:, -1:], extra)
    assert np.array_equal(mirror_episode(mirrored).observations, widened.observations)
    assert np.array_equal(mirror_episode(mirror_episode(demo)).actions, demo.actions)
    with pytest.raises(ValueError, match="vector=True"):
        mirror_episode(craft_demonstrations(1, seed=0, vector=False)[0])


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
