"""The compass over what the player has seen: golden values by hand, and an oracle that
remembers every view of an episode cell by cell."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

pytest.importorskip("crafter")

from rudder.data.episode import Episode  # noqa: E402
from rudder.envs.crafter_tasks import (  # noqa: E402
    ACTIONS,
    COMPASS_ENTRIES,
    COMPASS_RANGE,
    COMPASS_TARGETS,
    SEMANTIC_NAMES,
    CrafterEnv,
    CrafterExpert,
    feature_name,
    mirror_episode,
    symbolic_size,
)
from rudder.envs.crafter_tasks.compass import compass_features  # noqa: E402

ENTRIES = len(COMPASS_ENTRIES)


def _entry(features: np.ndarray, target: str) -> dict[str, float]:
    row = features.reshape(len(COMPASS_TARGETS), ENTRIES)[COMPASS_TARGETS.index(target)]
    return dict(zip(COMPASS_ENTRIES, row.tolist(), strict=True))


def test_golden_compass_by_hand():
    seen = np.zeros((7, 7), dtype=np.int8)
    water, tree, cow, stone = (SEMANTIC_NAMES.index(name) for name in ("water", "tree", "cow", "stone"))
    seen[1, 3] = seen[5, 3] = water  # two cells left and right of the player at (3, 3): a tie
    seen[3, 0] = tree  # three cells up
    seen[6, 6] = tree  # six cells away, down right
    seen[4, 4] = cow  # one right, one down
    seen[0, 6] = stone
    features = compass_features(seen, (3, 3))
    assert features.shape == (len(COMPASS_TARGETS) * ENTRIES,) and features.dtype == np.float32
    assert _entry(features, "water") == {"seen": 1, "left": 1, "right": 1, "up": 0, "down": 0, "distance": 2 / 32}
    assert _entry(features, "tree") == {"seen": 1, "left": 0, "right": 0, "up": 1, "down": 0, "distance": 3 / 32}
    assert _entry(features, "cow") == {"seen": 1, "left": 0, "right": 1, "up": 0, "down": 1, "distance": 2 / 32}
    assert _entry(features, "stone") == {"seen": 1, "left": 1, "right": 0, "up": 0, "down": 1, "distance": 6 / 32}
    assert not _entry(features, "diamond")["seen"] and not features.reshape(-1, ENTRIES)[5].any()
    far = np.zeros((80, 1), dtype=np.int8)
    far[79, 0] = SEMANTIC_NAMES.index("iron")
    assert _entry(compass_features(far, (0, 0)), "iron")["distance"] == 1.0  # capped at COMPASS_RANGE
    assert COMPASS_RANGE == 32


def _remembered(env: CrafterEnv, memory: dict[tuple[int, int], str]) -> None:
    """The oracle's memory: every cell of the 9x7 view, its material or a cow, by name."""
    world, (px, py) = env.world, (int(v) for v in env.player.pos)
    for x in range(px - 4, px + 5):
        for y in range(py - 3, py + 4):
            if not (0 <= x < world.area[0] and 0 <= y < world.area[1]):
                continue
            material, obj = world[(x, y)]
            memory[(x, y)] = "cow" if type(obj).__name__ == "Cow" else material


def _oracle_compass(memory: dict[tuple[int, int], str], position: tuple[int, int]) -> np.ndarray:
    rows = []
    for target in COMPASS_TARGETS:
        cells = [cell for cell, name in memory.items() if name == target]
        if not cells:
            rows.append([0.0] * ENTRIES)
            continue
        nearest = min(abs(x - position[0]) + abs(y - position[1]) for x, y in cells)
        ties = [(x, y) for x, y in cells if abs(x - position[0]) + abs(y - position[1]) == nearest]
        rows.append([
            1.0,
            float(any(x < position[0] for x, _ in ties)), float(any(x > position[0] for x, _ in ties)),
            float(any(y < position[1] for _, y in ties)), float(any(y > position[1] for _, y in ties)),
            min(nearest / COMPASS_RANGE, 1.0),
        ])  # fmt: skip
    return np.array(rows, dtype=np.float32).reshape(-1)


def test_the_compass_is_the_nearest_of_what_was_seen_this_episode():
    """Against an oracle that keeps every view cell by cell, over two episodes of the
    expert and random moves (the second starts with an empty memory)."""
    env = CrafterEnv(compass=True, length=400)
    plain = CrafterEnv(length=400)
    expert, rng = CrafterExpert(env), np.random.default_rng(1)
    own = symbolic_size()
    for episode in range(2):
        observation, _ = env.reset(seed=10 + episode)
        plain_observation, _ = plain.reset(seed=10 + episode)
        memory: dict[tuple[int, int], str] = {}
        _remembered(env, memory)
        seen_targets = set()
        for _ in range(400):
            expected = _oracle_compass(memory, tuple(int(v) for v in env.player.pos))
            np.testing.assert_array_equal(observation[own:], expected)
            np.testing.assert_array_equal(observation[:own], plain_observation)  # Crafter's part unchanged
            seen_targets |= {name for name in memory.values() if name in COMPASS_TARGETS}
            action = int(expert(observation, rng)) if rng.random() < 0.7 else int(rng.integers(len(ACTIONS)))
            observation, _, terminated, truncated, _ = env.step(action)
            plain_observation = plain.step(action)[0]
            _remembered(env, memory)
            if terminated or truncated:
                break
        assert {"water", "tree", "stone", "cow"} <= seen_targets  # the test saw the compass move


def test_the_compass_env_passes_check_env_and_names_its_entries():
    env = CrafterEnv(compass=True)
    check_env(env)
    size = symbolic_size(compass=True)
    assert env.observation_space.shape == (size,) == (symbolic_size() + len(COMPASS_TARGETS) * ENTRIES,)
    start = symbolic_size()
    assert feature_name(start, compass=True) == "compass water seen"
    assert feature_name(start + ENTRIES + 1, compass=True) == "compass tree left"
    assert feature_name(size - 1, compass=True) == "compass cow distance"
    assert feature_name(size, compass=True) == "extra 0"
    assert feature_name(start) == "extra 0"  # without the compass the same index is past the observation
    with pytest.raises(ValueError, match="symbolic observation"):
        CrafterEnv(observation="image", compass=True)


def test_mirroring_swaps_the_compass_directions_and_twice_gives_it_back():
    rng = np.random.default_rng(0)
    size = symbolic_size(compass=True)
    observations = rng.random((6, size + 3)).astype(np.float32)
    episode = Episode(observations=observations, actions=rng.integers(len(ACTIONS), size=5), rewards=np.zeros(5))
    image = mirror_episode(episode, left_right=True, up_down=True, compass=True)
    compass = observations[:, symbolic_size() : size].reshape(6, len(COMPASS_TARGETS), ENTRIES)
    flipped = image.observations[:, symbolic_size() : size].reshape(6, len(COMPASS_TARGETS), ENTRIES)
    order = [COMPASS_ENTRIES.index(name) for name in ("seen", "right", "left", "down", "up", "distance")]
    np.testing.assert_array_equal(flipped, compass[:, :, order])
    np.testing.assert_array_equal(image.observations[:, size:], observations[:, size:])
    back = mirror_episode(image, left_right=True, up_down=True, compass=True)
    np.testing.assert_array_equal(back.observations, observations)
    with pytest.raises(ValueError, match="symbolic observations"):
        mirror_episode(dataclasses.replace(episode, observations=observations[:, : size - 1]), compass=True)


def test_recorded_demonstrations_hold_the_compass():
    from rudder.envs.crafter_tasks import record_crafter_demonstrations

    (episode,) = record_crafter_demonstrations(1, seed=0, compass=True, require_diamond=False, max_steps=60)
    (plain,) = record_crafter_demonstrations(1, seed=0, require_diamond=False, max_steps=60)
    assert episode.observations.shape == (61, symbolic_size(compass=True))
    np.testing.assert_array_equal(episode.observations[:, : symbolic_size()], plain.observations)  # the same play
    np.testing.assert_array_equal(episode.actions, plain.actions)
    assert episode.observations[:, symbolic_size() :: ENTRIES].any()  # it has seen something
