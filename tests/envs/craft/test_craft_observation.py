"""The crafting world's flat observation and the mirror image of recorded episodes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from craft_scenes import facing

from rudder.envs.craft import (
    GRASS,
    ITEMS,
    STONE,
    TABLE,
    TREE,
    CraftEnv,
    CraftVectorObservation,
    craft_demonstrations,
    mirror_episode,
    with_item_keys,
)


def test_vector_observation_matches_the_dict():
    env = CraftVectorObservation(CraftEnv())
    vector, _ = env.reset(seed=0)
    inner = env.unwrapped.observe()
    size = env.unwrapped.view_size
    blocks = vector[: size * size * 11].reshape(size, size, 11)
    assert np.array_equal(blocks.argmax(axis=2), inner["view"])
    assert env.observation_space.contains(vector)
    assert vector.shape == (size * size * 11 + len(ITEMS) + 4 + 1 + 11,)
    world = env.unwrapped
    for direction in range(4):
        row, column = facing(world, (STONE, TREE, TABLE, GRASS)[direction], direction)
        vector = env.observation(world.observe())
        assert vector[-11:].argmax() == world.world[row, column] and vector[-11:].sum() == 1


def test_mirror_episode_is_the_episode_of_the_mirrored_world():
    """Oracle: replaying the mirrored actions in the left-right mirrored world gives the
    mirrored observations, step by step."""
    demo = craft_demonstrations(1, seed=2)[0]
    env = CraftVectorObservation(CraftEnv())
    env.reset(seed=2)  # the world the demonstration was recorded in (seed + 1000 * 0 + attempt 0)
    assert np.array_equal(env.observation(env.unwrapped.observe()), demo.observations[0])
    world = env.unwrapped
    mirrored_world = world.world[:, ::-1].copy()
    for row in range(world.height):
        for column in range(world.width):
            world.set_block(row, column, int(mirrored_world[row, column]))
    world.position = np.array([world.position[0], world.width - 1 - world.position[1]])
    mirror = mirror_episode(demo)
    assert np.array_equal(env.observation(world.observe()), mirror.observations[0])
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


def test_with_item_keys_splits_the_inventory():
    demo = craft_demonstrations(1, seed=0, vector=False)[0]
    split = with_item_keys(demo)
    assert "inventory" not in split.observations
    for index, item in enumerate(ITEMS):
        assert np.array_equal(split.observations[f"inventory/{item}"], demo.observations["inventory"][:, index])
    assert np.array_equal(split.observations["view"], demo.observations["view"])
    with pytest.raises(ValueError, match="vector=False"):
        with_item_keys(craft_demonstrations(1, seed=0)[0])
