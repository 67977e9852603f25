"""The grid world generator against Crafter's own, seed by seed: the same world, the same
creatures, the same random generator afterwards, and the same episodes through the adapter."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("crafter")

from rudder.envs.crafter_tasks import CrafterEnv  # noqa: E402
from rudder.envs.crafter_tasks.worldgen import generate_world  # noqa: E402


def _fresh_world(seed: int, area: tuple[int, int]):
    """A reset Crafter world holding its player in the middle, as Crafter's reset leaves it
    just before generating."""
    import crafter
    from crafter import objects

    world = crafter.Env(area=area, seed=0)._world
    world.reset(seed=seed)
    player = objects.Player(world, (area[0] // 2, area[1] // 2))
    world.add(player)
    return world, player


def _state(world) -> tuple:
    random_state = world.random.get_state()
    creatures = sorted((type(obj).__name__, tuple(int(v) for v in obj.pos)) for obj in world.objects)
    return world._mat_map.copy(), creatures, random_state[1].copy(), random_state[2]


def _assert_same_world(seed: int, area: tuple[int, int] = (64, 64)) -> None:
    from crafter import worldgen

    theirs, player = _fresh_world(seed, area)
    worldgen.generate_world(theirs, player)
    ours, player = _fresh_world(seed, area)
    generate_world(ours, player)
    (their_materials, their_creatures, their_keys, their_position) = _state(theirs)
    (our_materials, our_creatures, our_keys, our_position) = _state(ours)
    np.testing.assert_array_equal(our_materials, their_materials, err_msg=f"seed {seed}")
    assert our_creatures == their_creatures, f"seed {seed}"
    # the generator drew exactly the numbers Crafter draws
    np.testing.assert_array_equal(our_keys, their_keys)
    assert our_position == their_position


@pytest.mark.parametrize("seed", [0, 12345, 2**31 - 2])
def test_the_grid_generator_makes_crafters_world(seed):
    _assert_same_world(seed)


def test_the_grid_generator_makes_crafters_world_on_other_areas():
    # the player is not in the middle of the noise's range, and the grid is not square
    _assert_same_world(3, area=(48, 80))


@pytest.mark.slow
def test_the_grid_generator_makes_crafters_world_for_200_seeds():
    for seed in range(200):
        _assert_same_world(seed * 7919 + 1)


def test_the_worlds_hold_every_kind_of_cell_and_creature():
    # a check that the comparison has something to compare: materials that need a
    # random draw (trees, coal, iron) and creatures of every kind appear over a few seeds
    materials, kinds = set(), set()
    for seed in range(4):
        world, player = _fresh_world(seed, (64, 64))
        generate_world(world, player)
        materials |= {world._mat_names[int(value)] for value in np.unique(world._mat_map)}
        kinds |= {type(obj).__name__ for obj in world.objects}
    assert {"tree", "coal", "iron", "stone", "path", "water", "sand", "grass"} <= materials
    assert {"Player", "Cow", "Zombie", "Skeleton"} <= kinds


def test_the_adapter_plays_crafters_episodes():
    """The adapter's reset with the grid generator against one with Crafter's own: the same
    worlds over consecutive episodes and the same steps after them."""
    fast, slow = CrafterEnv(), CrafterEnv(world_generation="crafter")
    assert not slow._grid_worldgen
    rng = np.random.default_rng(0)
    for episode in range(2):
        seed = 11 if episode == 0 else None  # then the next worlds of that seed
        fast_obs, fast_info = fast.reset(seed=seed)
        slow_obs, slow_info = slow.reset(seed=seed)
        np.testing.assert_array_equal(fast_obs, slow_obs)
        np.testing.assert_array_equal(fast.world._mat_map, slow.world._mat_map)
        assert fast_info["episode"] == slow_info["episode"] == episode + 1
        for action in rng.integers(0, fast.action_space.n, size=100).tolist():
            fast_step = fast.step(action)
            slow_step = slow.step(action)
            np.testing.assert_array_equal(fast_step[0], slow_step[0])
            assert fast_step[1:4] == slow_step[1:4]
            if fast_step[2] or fast_step[3]:
                break


def test_an_unknown_world_generation_is_refused():
    with pytest.raises(ValueError, match="world_generation"):
        CrafterEnv(world_generation="fast")  # type: ignore[arg-type]
