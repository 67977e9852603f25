"""Mirror images of Crafter demonstrations: the oracle is the mirrored world played with
the mirrored actions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("crafter")

from rudder.data.episode import Episode  # noqa: E402
from rudder.envs.crafter_tasks import (  # noqa: E402
    ACTIONS,
    CrafterEnv,
    CrafterExpert,
    mirror_episode,
    mirror_images,
    symbolic_size,
)

FLIPS = [(True, False), (False, True), (True, True)]


def _only_the_player(env: CrafterEnv) -> None:
    """No creatures, and none spawned: the rest of the world is deterministic materials."""
    for obj in list(env.world.objects):
        if obj is not env.player:
            env.world.remove(obj)
    env.crafter_env._balance_chunk = lambda *args: None


def _mirrored_world(env: CrafterEnv, seed: int, *, left_right: bool, up_down: bool) -> CrafterEnv:
    """A second env whose materials, player and facing are ``env``'s mirrored."""
    mirrored = CrafterEnv(compass=env.compass)
    mirrored.reset(seed=seed)
    _only_the_player(mirrored)
    materials = env.world._mat_map
    mirrored.world._mat_map[:] = materials[:: -1 if left_right else 1, :: -1 if up_down else 1]
    width, height = materials.shape
    x, y = (int(value) for value in env.player.pos)
    mirrored.world.move(mirrored.player, np.array([width - 1 - x if left_right else x, height - 1 - y if up_down else y]))
    dx, dy = (int(value) for value in env.player.facing)
    mirrored.player.facing = (-dx if left_right else dx, -dy if up_down else dy)
    return mirrored


def _swap(action: int, *, left_right: bool, up_down: bool) -> int:
    name = ACTIONS[action]
    pairs = {}
    if left_right:
        pairs |= {"move_left": "move_right", "move_right": "move_left"}
    if up_down:
        pairs |= {"move_up": "move_down", "move_down": "move_up"}
    return ACTIONS.index(pairs.get(name, name))


@pytest.mark.parametrize("compass", [False, True])
@pytest.mark.parametrize(("left_right", "up_down"), FLIPS)
def test_the_mirror_image_is_the_episode_of_the_mirrored_world(left_right, up_down, compass):
    """Played step by step in the mirrored world with the swapped moves, the player sees
    exactly the flipped view and, with the compass, the flipped compass (walks, chops,
    collects and places alike; the expert plays)."""
    seed = 4
    env = CrafterEnv(compass=compass)
    first, _ = env.reset(seed=seed)
    _only_the_player(env)
    mirrored = _mirrored_world(env, seed, left_right=left_right, up_down=up_down)
    for each in (env, mirrored):  # forget the world as it was before the creatures left and the mirror
        if each._seen_map is not None:
            each._seen_map.clear()
    first = env._symbolic_without_rendering()
    expert, rng = CrafterExpert(env), np.random.default_rng(0)
    observations, images, actions = [first], [mirrored._symbolic_without_rendering()], []
    for _ in range(120):
        actions.append(int(expert(observations[-1], rng)))
        observations.append(env.step(actions[-1])[0])
        images.append(mirrored.step(_swap(actions[-1], left_right=left_right, up_down=up_down))[0])
    actions = np.array(actions)
    episode = Episode(observations=np.stack(observations), actions=actions, rewards=np.zeros(len(actions)))
    image = mirror_episode(episode, left_right=left_right, up_down=up_down, compass=compass)
    assert env.player.achievements["place_table"] > 0  # it chopped, placed and made, not only walked
    np.testing.assert_array_equal(image.observations, np.stack(images))
    np.testing.assert_array_equal(
        image.actions, [_swap(int(a), left_right=left_right, up_down=up_down) for a in actions]
    )


def _episode(length: int = 12, extra: int = 0, seed: int = 0) -> Episode:
    rng = np.random.default_rng(seed)
    observations = rng.random((length + 1, symbolic_size() + extra)).astype(np.float32)
    return Episode(
        observations=observations,
        actions=rng.integers(len(ACTIONS), size=length),
        rewards=rng.random(length),
        infos={"achievement_increments": rng.integers(0, 2, size=(length, 22))},
    )


@pytest.mark.parametrize(("left_right", "up_down"), FLIPS)
def test_mirroring_twice_gives_the_episode_back_and_keeps_the_rest(left_right, up_down):
    episode = _episode(extra=5)
    image = mirror_episode(episode, left_right=left_right, up_down=up_down)
    back = mirror_episode(image, left_right=left_right, up_down=up_down)
    np.testing.assert_array_equal(back.observations, episode.observations)
    np.testing.assert_array_equal(back.actions, episode.actions)
    assert not np.array_equal(image.observations, episode.observations)
    own = symbolic_size()
    # inventory, daylight, sleep (just before the facing) and the appended features stay
    np.testing.assert_array_equal(image.observations[:, own - 22 : own - 4], episode.observations[:, own - 22 : own - 4])
    np.testing.assert_array_equal(image.observations[:, own:], episode.observations[:, own:])
    np.testing.assert_array_equal(image.rewards, episode.rewards)
    np.testing.assert_array_equal(image.infos["achievement_increments"], episode.infos["achievement_increments"])


def test_mirror_images_are_the_three_flips():
    episode = _episode()
    images = mirror_images(episode)
    assert len(images) == 3
    for image, (left_right, up_down) in zip(images, FLIPS, strict=True):
        expected = mirror_episode(episode, left_right=left_right, up_down=up_down)
        np.testing.assert_array_equal(image.observations, expected.observations)
        np.testing.assert_array_equal(image.actions, expected.actions)
    # the left-right image of the up-down image is the half turn
    half_turn = mirror_episode(mirror_episode(episode, left_right=False, up_down=True))
    np.testing.assert_array_equal(images[2].observations, half_turn.observations)


def test_mirror_episode_refuses_other_observations_and_actions():
    episode = _episode()
    with pytest.raises(ValueError, match="symbolic observations"):
        mirror_episode(dataclasses.replace(episode, observations=episode.observations[:, :100]))
    with pytest.raises(ValueError, match="symbolic observations"):
        mirror_episode(dataclasses.replace(episode, observations={"image": episode.observations}))
    with pytest.raises(ValueError, match="Crafter's actions"):
        mirror_episode(dataclasses.replace(episode, actions=np.full(12, len(ACTIONS))))
    with pytest.raises(ValueError, match="Crafter's actions"):
        mirror_episode(dataclasses.replace(episode, actions=np.zeros(12, dtype=np.float32)))
