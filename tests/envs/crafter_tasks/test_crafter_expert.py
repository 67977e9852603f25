"""The scripted Crafter expert, its demonstrations, and the consensus of their events."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("crafter")

from rudder.envs.crafter_tasks import (  # noqa: E402
    ACHIEVEMENTS,
    CrafterEnv,
    CrafterExpert,
    record_crafter_demonstrations,
)
from rudder.envs.crafter_tasks.events import TECH_TREE, crafter_event_encoder, follows_tech_tree  # noqa: E402
from rudder.profile import consensus_items, format_consensus  # noqa: E402
from rudder.redistribution import AlignmentRedistributor  # noqa: E402


def _play(seed: int, *, variety: float = 1.0) -> tuple[list[str], CrafterEnv, CrafterExpert]:
    env = CrafterEnv(length=2000)
    expert = CrafterExpert(env, variety=variety)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    unlocked: list[str] = []
    while not expert.finished:
        _, _, terminated, truncated, info = env.step(expert(None, rng))
        unlocked += info["achievements_unlocked"]
        if terminated or truncated:
            break
    return unlocked, env, expert


def test_expert_starts_with_wood_and_a_table():
    env = CrafterEnv()
    expert = CrafterExpert(env)
    rng = np.random.default_rng(1)
    env.reset(seed=1)
    for _ in range(60):
        env.step(expert(None, rng))
    assert env.player.achievements["collect_wood"] >= 2 and env.player.achievements["place_table"] == 1


@pytest.mark.slow
def test_expert_follows_the_tech_tree_to_the_diamond():
    unlocked, env, expert = _play(1)
    assert expert.finished and env.player.inventory["diamond"] == 1
    assert follows_tech_tree(unlocked)


def test_expert_refuses_other_envs_and_an_unreset_env():
    with pytest.raises(TypeError, match="CrafterEnv"):
        CrafterExpert(gym.make("CartPole-v1"))
    with pytest.raises(RuntimeError, match="reset"):
        CrafterExpert(CrafterEnv())(None, np.random.default_rng(0))


def test_follows_tech_tree_checks_stage_order():
    chain = [name for stage in TECH_TREE for name in stage]
    assert follows_tech_tree(chain)
    assert follows_tech_tree(["collect_drink", *chain[:5], "place_furnace", "collect_iron", "collect_coal", *chain[8:]])
    swapped = chain.copy()
    swapped[1], swapped[2] = swapped[2], swapped[1]  # pickaxe before the table
    assert not follows_tech_tree(swapped)
    assert not follows_tech_tree(chain[:-1])  # no diamond
    with pytest.raises(ValueError, match="kind"):
        crafter_event_encoder("pixels")  # type: ignore[arg-type]


@pytest.mark.slow
def test_demonstrations_mine_diamonds_with_variety():
    seen: list[int] = []
    demos = record_crafter_demonstrations(4, seed=0, on_episode=lambda episode, expert: seen.append(episode.length))
    diamond = ACHIEVEMENTS.index("collect_diamond")
    assert all(demo.infos["achievement_increments"][:, diamond].sum() == 1 for demo in demos)
    assert len({demo.length for demo in demos}) == 4 and len(seen) >= 4
    wood = [int(demo.infos["achievement_increments"][:, ACHIEVEMENTS.index("collect_wood")].sum()) for demo in demos]
    assert len(set(wood)) > 1
    again = record_crafter_demonstrations(1, seed=0)
    np.testing.assert_array_equal(again[0].actions, demos[0].actions)


@pytest.mark.slow
def test_consensus_of_twenty_demonstrations_recovers_the_tech_tree():
    demos = record_crafter_demonstrations(20, seed=0)
    redistributor = AlignmentRedistributor(crafter_event_encoder(), consensus_threshold=0.5).fit(demos)
    names = [redistributor.encoder.alphabet.name(goal.event) for goal in redistributor.profile.consensus]
    print("consensus:", format_consensus(names))
    print("items:", consensus_items(names))
    assert follows_tech_tree(names)
