"""The Crafter adapter: gymnasium API, seeding, the symbolic view and the step infos."""

from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

pytest.importorskip("crafter")

import rudder.envs  # noqa: E402, F401 - registers the ids
from rudder.envs.crafter_tasks import (  # noqa: E402
    ACHIEVEMENTS,
    ACTIONS,
    DEATH_CAUSES,
    ITEMS,
    SEMANTIC_NAMES,
    CrafterEnv,
    adjacent_features,
    daylight_feature,
    death_cause,
    feature_name,
    require_crafter,
    symbolic_observation,
    symbolic_size,
    zombie_response,
)
from rudder.errors import DependencyNotInstalled  # noqa: E402


def _decode_view(observation: np.ndarray, view: tuple[int, int]) -> np.ndarray:
    cells = view[0] * view[1]
    onehot = observation[: cells * len(SEMANTIC_NAMES)].reshape(view[0], view[1], len(SEMANTIC_NAMES))
    assert np.all(onehot.sum(axis=2) == 1.0)
    return onehot.argmax(axis=2)


def _view_by_hand(env: CrafterEnv, view: tuple[int, int]) -> np.ndarray:
    """The view read cell by cell through the world's own indexing (no vectorised slicing)."""
    world, (px, py) = env.world, env.player.pos
    expected = np.zeros(view, dtype=np.int64)
    for i in range(view[0]):
        for j in range(view[1]):
            material, obj = world[(px + i - view[0] // 2, py + j - view[1] // 2)]
            if obj is not None:
                expected[i, j] = SEMANTIC_NAMES.index(type(obj).__name__.lower())
            elif material is not None:
                expected[i, j] = SEMANTIC_NAMES.index(material)
    return expected


@pytest.mark.parametrize(
    "env_id", ["rudder/Crafter-v0", pytest.param("rudder/CrafterImage-v0", marks=pytest.mark.slow)]
)
def test_check_env_passes(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    check_env(env.unwrapped)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    assert env.action_space.n == len(ACTIONS) == 17


def test_same_seed_gives_same_world_and_episode_in_either_mode():
    # Moves and "do" for 40 steps, then waiting past dusk (step 148), when rendering
    # starts to draw noise from the world's generator.
    rng = np.random.default_rng(4)
    actions = np.concatenate([rng.integers(1, 6, size=40), np.zeros(160, dtype=np.int64)])
    runs = []
    for mode in ("symbolic", "symbolic", "image"):
        env = CrafterEnv(observation=mode, render_mode="rgb_array")
        env.reset(seed=8)
        world = env.world._mat_map.copy()
        semantics, rewards = [], []
        for step, action in enumerate(actions):
            _, reward, terminated, truncated, info = env.step(int(action))
            if step % 50 == 0:
                env.render()  # must not change the dynamics
            semantics.append(info["semantic"])
            rewards.append(reward)
            if terminated:
                break
        assert len(rewards) >= 160
        runs.append((world, np.stack(semantics), rewards))
    for world, semantics, rewards in runs[1:]:
        np.testing.assert_array_equal(world, runs[0][0])
        np.testing.assert_array_equal(semantics, runs[0][1])
        assert rewards == runs[0][2]
    other = CrafterEnv()
    other.reset(seed=9)
    assert not np.array_equal(other.world._mat_map, runs[0][0])


def test_reset_without_seed_continues_the_seeded_sequence():
    first, second = CrafterEnv(), CrafterEnv()
    first.reset(seed=5)
    first.reset()
    second.reset(seed=5)
    second.reset()
    np.testing.assert_array_equal(first.world._mat_map, second.world._mat_map)


@pytest.mark.parametrize("view", [(9, 7), (5, 5)])
def test_symbolic_view_matches_the_world_around_the_player(view):
    env = CrafterEnv(view=view)
    observation, _ = env.reset(seed=2)
    assert observation.shape == (symbolic_size(view),)
    rng = np.random.default_rng(0)
    for _ in range(40):
        observation, _, _, _, info = env.step(int(rng.integers(1, 5)))
        ids = _decode_view(observation, view)
        np.testing.assert_array_equal(ids, _view_by_hand(env, view))
        # Crafter's own semantic map (objects over materials) agrees inside the world.
        x, y = info["player_pos"]
        semantic = info["semantic"]
        assert ids[view[0] // 2, view[1] // 2] == SEMANTIC_NAMES.index("player") == semantic[x, y]
    # At the edge of the world the cells outside are id 0.
    world, player = env.world, env.player
    for corner in [(0, 0), (63, 63), (0, 40)]:
        if world._obj_map[corner] == 0:
            world.move(player, corner)
            ids = _decode_view(symbolic_observation(world, player, view), view)
            np.testing.assert_array_equal(ids, _view_by_hand(env, view))
            assert (ids == 0).any()


def test_inventory_and_status_in_the_observation():
    env = CrafterEnv()
    observation, _ = env.reset(seed=0)
    start = 9 * 7 * len(SEMANTIC_NAMES)
    inventory = observation[start : start + len(ITEMS)] * 9
    np.testing.assert_allclose(inventory, [env.player.inventory[name] for name in ITEMS])
    daylight, sleeping, facing = observation[start + 16], observation[start + 17], observation[start + 18 :]
    assert daylight == pytest.approx(env.world.daylight) and sleeping == 0.0
    assert observation[daylight_feature()] == daylight and daylight_feature() == start + 16
    np.testing.assert_array_equal(facing, [0, 0, 0, 1])  # Crafter's player starts facing down


def test_collecting_wood_is_reported_in_info():
    env = CrafterEnv()
    env.reset(seed=0)
    world, player = env.world, env.player
    trees = np.argwhere(world._mat_map == SEMANTIC_NAMES.index("tree"))
    for tree in trees:  # stand left of a tree with free grass
        stand = (int(tree[0]) - 1, int(tree[1]))
        material, obj = world[stand]
        if material == "grass" and obj is None:
            break
    world.move(player, stand)
    _, reward, _, _, info = env.step(ACTIONS.index("move_right"))  # blocked: turns only
    assert tuple(player.pos) == stand
    _, reward, _, _, info = env.step(ACTIONS.index("do"))
    assert info["achievements_unlocked"] == ("collect_wood",)
    assert reward == pytest.approx(1.0)
    change = dict(zip(ITEMS, info["inventory_change"], strict=True))
    assert change["wood"] == 1 and sum(abs(v) for k, v in change.items() if k != "wood") <= 1
    assert info["achievement_increments"][ACHIEVEMENTS.index("collect_wood")] == 1
    _, reward, _, _, info = env.step(ACTIONS.index("noop"))
    assert info["achievements_unlocked"] == () and not info["achievement_increments"].any()
    # obtained: what the episode has unlocked so far (wood still counts); no diamond yet
    assert info["obtained"].shape == (len(ACHIEVEMENTS),) and info["obtained"].dtype == bool
    assert np.flatnonzero(info["obtained"]).tolist() == [ACHIEVEMENTS.index("collect_wood")]
    assert info["is_success"] is False
    env.player.achievements["collect_diamond"] = 1
    assert env.step(ACTIONS.index("noop"))[4]["is_success"] is True


def test_terminated_on_death_and_truncated_at_the_length():
    env = CrafterEnv(length=3)
    env.reset(seed=0)
    results = [env.step(0)[2:4] for _ in range(3)]
    assert results == [(False, False), (False, False), (False, True)]
    env = CrafterEnv()
    env.reset(seed=0)
    env.player.health = 0
    _, _, terminated, truncated, info = env.step(0)
    assert terminated and not truncated and info["discount"] == 0.0


def _alone(seed: int = 0) -> CrafterEnv:
    """An env after reset with every creature removed and grass all around the player."""
    env = CrafterEnv()
    env.reset(seed=seed)
    for obj in list(env.world.objects):
        if obj is not env.player:
            env.world.remove(obj)
    x, y = env.player.pos
    for dx in range(-3, 4):
        for dy in range(-3, 4):
            if (dx, dy) != (0, 0):
                env.world[(x + dx, y + dy)] = "grass"
    return env


def _step_until_dead(env: CrafterEnv, action: str = "noop", limit: int = 60) -> dict:
    for _ in range(limit):
        _, _, terminated, _, info = env.step(ACTIONS.index(action))
        if terminated:
            return info
        assert "death_cause" not in info
    raise AssertionError(f"the player survived {limit} steps")


def test_death_cause_lava():
    env = _alone()
    env.world[env.player.pos + np.array([-1, 0])] = "lava"
    assert _step_until_dead(env, "move_left", limit=1)["death_cause"] == "lava"


def test_death_cause_zombie():
    crafter = require_crafter()
    env = _alone()
    env.player.health = 2
    env.world.add(crafter.objects.Zombie(env.world, env.player.pos + np.array([1, 0]), env.player))
    info = _step_until_dead(env)
    assert info["death_cause"] == "zombie" and info["death_asleep"] is False
    assert info["death_daylight"] == pytest.approx(env.world.daylight)


def test_death_cause_zombie_on_a_sleeping_player():
    # asleep, a blow takes 7 health points
    crafter = require_crafter()
    env = _alone()
    env.player.health = 7
    env.player.inventory["energy"] = 0
    env.world.add(crafter.objects.Zombie(env.world, env.player.pos + np.array([1, 0]), env.player))
    info = _step_until_dead(env, "sleep", limit=3)
    assert info["death_cause"] == "zombie" and info["death_asleep"] is True


@pytest.mark.parametrize(
    ("health", "sleeping", "action", "could"),
    [
        (2, False, "noop", True),
        (3, False, "noop", False),
        (3, True, "noop", True),
        (7, False, "sleep", True),
        (7, True, "move_left", True),
        (8, True, "sleep", False),
    ],
)
def test_creatures_are_kept_only_where_a_blow_could_kill(health, sleeping, action, could):
    from rudder.envs.crafter_tasks.env import _blow_could_kill

    assert _blow_could_kill(health, sleeping=sleeping, action=ACTIONS.index(action)) is could


def test_death_cause_zombie_despawned_after_its_blow():
    # Crafter may despawn a zombie in the step it strikes: the creatures near the player
    # before the step still name it
    crafter = require_crafter()
    env = _alone()
    zombie = crafter.objects.Zombie(env.world, env.player.pos + np.array([0, 1]), env.player)
    env.world.add(zombie)
    zombie.cooldown = 5
    env.world.remove(zombie)
    env.player.health = 0
    arguments = {"health_before": 2, "recover_before": 0.0}
    assert death_cause(env.world, env.player, **arguments, nearby=[zombie]) == "zombie"
    assert death_cause(env.world, env.player, **arguments) == "arrow"


def test_death_cause_arrow():
    crafter = require_crafter()
    env = _alone()
    env.player.health = 2
    env.world.add(crafter.objects.Arrow(env.world, env.player.pos + np.array([1, 0]), np.array([-1, 0])))
    assert _step_until_dead(env, limit=1)["death_cause"] == "arrow"


@pytest.mark.parametrize(("item", "cause"), [("food", "hunger"), ("drink", "thirst"), ("energy", "fatigue")])
def test_death_cause_empty_need(item, cause):
    env = _alone()
    env.player.health = 1
    env.player.inventory[item] = 0
    # Crafter takes a health point once the recovery counter falls below -15
    env.player._recover = -14.5
    info = _step_until_dead(env, limit=2)
    assert info["death_cause"] == cause and cause in DEATH_CAUSES


def test_empty_need_with_health_left_is_not_a_death():
    env = _alone()
    env.player.health = 3
    env.player.inventory["food"] = 0
    env.player._recover = -14.5
    _, _, terminated, _, info = env.step(ACTIONS.index("noop"))
    assert not terminated and env.player.health == 2 and "death_cause" not in info


def test_bad_arguments_and_missing_crafter(monkeypatch):
    with pytest.raises(ValueError, match="observation"):
        CrafterEnv(observation="pixels")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="length"):
        CrafterEnv(length=0)
    env = CrafterEnv()
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(17)
    monkeypatch.setitem(sys.modules, "crafter", None)
    with pytest.raises(DependencyNotInstalled, match=r"pip install \"align-rudder\[crafter\]\""):
        require_crafter()


@pytest.mark.parametrize(("offset", "side"), [((-1, 0), 0), ((1, 0), 1), ((0, -1), 2), ((0, 1), 3)])
def test_adjacent_features_show_a_zombie_next_to_the_player_only(offset, side):
    crafter = require_crafter()
    env = _alone()
    features = list(adjacent_features("zombie"))
    env.world.add(crafter.objects.Zombie(env.world, env.player.pos + 2 * np.array(offset), env.player))
    assert not np.any(env._symbolic_without_rendering()[features])  # two cells away: not next to it
    env.world.add(crafter.objects.Zombie(env.world, env.player.pos + np.array(offset), env.player))
    assert env._symbolic_without_rendering()[features].tolist() == [float(index == side) for index in range(4)]


def test_adjacent_features_refuse_an_unknown_name():
    with pytest.raises(ValueError, match="not a Crafter material or object"):
        adjacent_features("dragon")


def test_feature_names_follow_the_symbolic_observation():
    """A zombie placed one cell to the right and the player's own entries are named where
    the observation has them."""
    crafter = require_crafter()
    env = _alone()
    env.world.add(crafter.objects.Zombie(env.world, env.player.pos + np.array((1, 0)), env.player))
    observation = env._symbolic_without_rendering()
    names = [feature_name(index) for index in np.flatnonzero(observation[: 63 * 19])]
    assert "zombie at (+1, +0)" in names and "player at (+0, +0)" in names
    assert [feature_name(index) for index in adjacent_features("zombie")] == [
        "zombie at (-1, +0)", "zombie at (+1, +0)", "zombie at (+0, -1)", "zombie at (+0, +1)"
    ]
    start = daylight_feature()
    assert feature_name(start - len(ITEMS)) == "inventory health" and feature_name(start - 1) == "inventory iron_sword"
    assert [feature_name(start + offset) for offset in range(7)] == [
        "daylight", "sleeping", "facing left", "facing right", "facing up", "facing down", "extra 0"
    ]
    assert feature_name(2, view=(3, 3)) == "grass at (-1, -1)"  # the first cell of a 3x3 view, channel 2
    with pytest.raises(ValueError, match=">= 0"):
        feature_name(-1)


def test_zombie_response_names_a_blow_a_turn_and_anything_else():
    crafter = require_crafter()
    env = _alone()
    do, left, right = (ACTIONS.index(name) for name in ("do", "move_left", "move_right"))
    assert zombie_response(env._symbolic_without_rendering(), do) is None  # no zombie next to the player
    env.world.add(crafter.objects.Zombie(env.world, env.player.pos + np.array([1, 0]), env.player))
    env.player.facing = (0, 1)  # down, away from the zombie on the right
    observation = env._symbolic_without_rendering()
    assert zombie_response(observation, do) == "other"
    assert zombie_response(observation, right) == "turn" and zombie_response(observation, left) == "other"
    env.player.facing = (1, 0)
    observation = env._symbolic_without_rendering()
    assert zombie_response(observation, do) == "attack"
    assert zombie_response(np.concatenate([observation, np.ones(3)]), do) == "attack"  # a sub-task one-hot after it


def _zombie_counts(env: CrafterEnv, seed: int, steps: int) -> list[int]:
    """Zombies in the world before each of up to ``steps`` noop steps (until the episode ends)."""
    crafter = require_crafter()
    env.reset(seed=seed)
    counts = []
    for _ in range(steps):
        counts.append(sum(isinstance(obj, crafter.objects.Zombie) for obj in env.world.objects))
        _, _, terminated, truncated, _ = env.step(ACTIONS.index("noop"))
        if terminated or truncated:
            break
    return counts


@pytest.mark.parametrize("seed", [0, 1])
def test_without_zombie_spawning_the_night_brings_no_zombies(seed):
    # Standing still through the first night (darkest at step 210): Crafter spawns zombies
    # and they kill the player; without spawning only the world's own zombies are there.
    spawning = _zombie_counts(CrafterEnv(), seed, 300)
    calm = _zombie_counts(CrafterEnv(zombie_spawning=False), seed, 300)
    assert spawning[0] == calm[0]  # the same world
    assert max(spawning) > spawning[0] and len(spawning) < 200
    assert max(calm) <= calm[0] and len(calm) > len(spawning)
    assert CrafterEnv().zombie_spawning and not CrafterEnv(zombie_spawning=False).zombie_spawning
