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


@pytest.mark.slow
def test_the_needs_of_twenty_demonstrations_are_water_and_food():
    """find_needs in the expert's demonstrations: food and drink, which fall by themselves
    and which it tops up in several sub-tasks; not health (it rises by itself), energy
    (topped up at night, not when low) nor wood or stone (they fall when it crafts)."""
    from rudder.agents.needs import demonstration_needs
    from rudder.agents.subtasks import SubtaskController
    from rudder.envs.crafter_tasks.env import feature_name

    demos = record_crafter_demonstrations(20, seed=0)
    encoder = crafter_event_encoder()
    controller = SubtaskController.from_redistributor(AlignmentRedistributor(encoder).fit(demos), items=encoder.items)
    needs = demonstration_needs(controller, demos, change_key="achievement_increments")
    print([(feature_name(need.feature), need) for need in needs])
    assert [feature_name(need.feature) for need in needs] == ["inventory food", "inventory drink"]
    assert all(need.below <= 0.6 and need.until >= 0.8 and need.subtasks >= 3 for need in needs)


def _open_field(seed: int = 3) -> tuple[CrafterEnv, CrafterExpert, tuple[int, int]]:
    """An env whose player stands in a field of grass (41x41 cells, no creatures), holding a
    wood pickaxe and no stone; the expert has read it."""
    env = CrafterEnv()
    env.reset(seed=seed)
    world, player = env.world, env.player
    x0, y0 = int(player.pos[0]), int(player.pos[1])
    for obj in list(world.objects):
        if obj is not player and abs(int(obj.pos[0]) - x0) <= 20 and abs(int(obj.pos[1]) - y0) <= 20:
            world.remove(obj)
    for x in range(x0 - 20, x0 + 21):
        for y in range(y0 - 20, y0 + 21):
            world[x, y] = "grass"
    player.inventory["wood_pickaxe"] = 1
    player.inventory["stone"] = 0
    expert = CrafterExpert(env)
    expert._start(np.random.default_rng(0))
    return env, expert, (x0, y0)


def _rock(env: CrafterEnv, xs: range, ys: range) -> None:
    for x in xs:
        for y in ys:
            env.world[x, y] = "stone"


def test_shelter_without_stone_is_dug_into_rock():
    env, expert, (x0, y0) = _open_field()
    expert._grids()
    assert expert._find_shelter() is None  # grass only and no stone to seal with
    _rock(env, range(x0 + 2, x0 + 5), range(y0 - 2, y0 + 3))  # a rock face two cells to the right
    expert._grids()
    site = expert._find_shelter()
    assert site is not None
    (x, y), (dx, dy) = site["entry"], site["direction"]
    pocket = [(x + dx, y + dy), (x + 2 * dx, y + 2 * dy)]
    assert all(env.world[cell][0] == "stone" for cell in pocket)  # digging it gives the sealing stone
    assert env.world[x, y][0] == "grass"


def test_shelter_in_view_comes_before_a_nearer_one_out_of_view():
    env, expert, (x0, y0) = _open_field()
    _rock(env, range(x0 + 6, x0 + 9), range(y0 - 1, y0 + 2))  # entry 5 cells right: out of the 9x7 view
    _rock(env, range(x0 - 7, x0 - 4), range(y0 + 2, y0 + 5))  # entry 4 left, 3 down: in view, farther
    expert._grids()
    site = expert._find_shelter()
    assert site is not None
    x, y = site["entry"]
    assert abs(x - x0) <= 4 and abs(y - y0) <= 3
    assert (x, y) == (x0 - 4, y0 + 3) and site["direction"] == (-1, 0)


def test_expert_stays_sealed_in_while_dark_unless_starving():
    env = CrafterEnv(length=700)
    expert = CrafterExpert(env)
    rng = np.random.default_rng(1)
    env.reset(seed=1)
    exits, phase = [], None
    for _ in range(700):
        action = expert(None, rng)  # decides on the world before the step
        new_phase = expert._shelter["phase"] if expert._shelter is not None else None
        if phase == "sleep" and new_phase == "exit":
            inventory = env.player.inventory
            starving = (inventory["food"] == 0 or inventory["drink"] == 0) and inventory["health"] <= 4
            exits.append((env.world.daylight, starving))
        phase = new_phase
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated or expert.finished:
            break
    assert exits, "the expert should have slept through the first night on this seed"
    assert all(daylight >= 0.6 or starving for daylight, starving in exits), exits


def _first_steps(env: CrafterEnv, expert: CrafterExpert, seed: int, names: tuple[str, ...], *, steps: int) -> dict[str, int]:
    """The step at which each achievement in ``names`` first came (-1: not within ``steps``)."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    first = dict.fromkeys(names, -1)
    for step in range(steps):
        _, _, terminated, truncated, info = env.step(expert(None, rng))
        for name in info["achievements_unlocked"]:
            if name in first and first[name] == -1:
                first[name] = step
        if terminated or truncated:
            break
    return first


def test_an_unhurried_first_day_keeps_the_stone_pickaxe_until_its_step_and_plants_on_the_way():
    env = CrafterEnv(length=2000)
    names = ("make_wood_pickaxe", "place_plant", "make_stone_pickaxe")
    hurried = _first_steps(env, CrafterExpert(env, unhurried=0.0), 3, names, steps=400)
    unhurried = _first_steps(env, CrafterExpert(env, unhurried=1.0, unhurried_until=(220, 220)), 3, names, steps=400)
    assert 0 < hurried["make_stone_pickaxe"] < 150
    assert unhurried["make_stone_pickaxe"] >= 220  # not before the drawn step
    assert 0 < unhurried["make_wood_pickaxe"] < 220 and 0 < unhurried["place_plant"] < 220


@pytest.mark.parametrize("option", ["unhurried", "nap_chance"])
def test_the_optional_choices_change_no_other_choice_of_the_expert(option):
    env = CrafterEnv()
    env.reset(seed=0)
    choices = []
    for chance in (0.0, 1.0):
        expert = CrafterExpert(env, **{option: chance})
        expert._start(np.random.default_rng(5))
        choices.append({k: v for k, v in vars(expert).items() if k.startswith("_") and isinstance(v, (int, float, bool))})
    assert choices[0].pop("_pastime_until") == 0 and choices[0].pop("_nap") is False
    assert (choices[1].pop("_pastime_until") >= 80) == (option == "unhurried")
    assert choices[1].pop("_nap") == (option == "nap_chance")
    assert choices[0] == choices[1]


def test_a_nap_after_the_wooden_tools_wakes_rested_in_daylight():
    env = CrafterEnv(length=2000)
    names = ("make_wood_pickaxe", "wake_up")
    without = _first_steps(env, CrafterExpert(env), 2, names, steps=140)
    napping = _first_steps(env, CrafterExpert(env, nap_chance=1.0), 2, names, steps=140)
    assert without["wake_up"] == -1  # the expert sleeps at night only
    assert 0 < napping["make_wood_pickaxe"] < napping["wake_up"] < 140
    assert napping["wake_up"] < 120  # well before dusk


def test_unhurried_is_checked():
    env = CrafterEnv()
    with pytest.raises(ValueError, match="unhurried"):
        CrafterExpert(env, unhurried=1.5)
    with pytest.raises(ValueError, match="nap_chance"):
        CrafterExpert(env, nap_chance=-0.1)
    with pytest.raises(ValueError, match="sapling_chance"):
        CrafterExpert(env, sapling_chance=2.0)
    with pytest.raises(ValueError, match="unhurried_until"):
        CrafterExpert(env, unhurried=0.5, unhurried_until=(200, 100))


def _shelter_starts(night_shelter: bool, seed: int, steps: int) -> list[tuple[float, int, int]]:
    """(daylight, energy, health) each time the expert picks a shelter site."""
    env = CrafterEnv(length=steps)
    expert = CrafterExpert(env, night_shelter=night_shelter)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    starts, sheltered = [], False
    for _ in range(steps):
        inventory = dict(env.player.inventory)
        action = expert(None, rng)
        if expert._shelter is not None and not sheltered:
            starts.append((env.world.daylight, inventory["energy"], inventory["health"]))
        sheltered = expert._shelter is not None
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated or expert.finished:
            break
    return starts


def test_without_its_night_shelter_the_expert_seals_in_only_when_tired_or_hurt():
    def rested(energy: int, health: int) -> bool:
        return energy > 2 and health > 5

    with_shelter = _shelter_starts(True, 1, 400)
    assert any(daylight < 0.55 and rested(energy, health) for daylight, energy, health in with_shelter), with_shelter
    without = _shelter_starts(False, 1, 400)
    assert without, "hurt at night on this seed, it should still seal itself in"
    assert not any(rested(energy, health) for _, energy, health in without), without


def _view_window(env: CrafterEnv) -> tuple[slice, slice]:
    width, height = env.view
    x0, y0 = int(env.player.pos[0]) - width // 2, int(env.player.pos[1]) - height // 2
    area = env.world._mat_map.shape
    return slice(max(0, x0), min(area[0], x0 + width)), slice(max(0, y0), min(area[1], y0 + height))


def test_the_expert_that_sees_its_view_remembers_exactly_the_cells_it_has_seen():
    env = CrafterEnv()
    expert = CrafterExpert(env, sight="view")
    rng = np.random.default_rng(4)
    env.reset(seed=4)
    seen = np.zeros(env.world._mat_map.shape, dtype=bool)
    for _ in range(150):
        action = expert(None, rng)
        window = _view_window(env)
        seen[window] = True  # the oracle: every window the player has stood in
        assert expert._memory is not None
        # the cells in view are remembered as they are now; no cell outside every view is known
        np.testing.assert_array_equal(expert._memory[window], env.world._mat_map[window])
        assert not expert._memory[~seen].any()
        env.step(action)
    assert 0.05 < seen.mean() < 0.5  # it walked about, and most of the world stays unseen


def _actions_with_unseen_rock_as_diamond(sight: str, *, seed: int, steps: int, change: bool) -> list[int]:
    """The expert's first ``steps`` actions; with ``change``, every stone cell that a first
    play never saw is diamond (grass, sand and paths, where creatures spawn, stay as they are)."""
    env = CrafterEnv()
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    if change:
        probe = CrafterExpert(env, sight="view")
        for _ in range(steps):
            env.step(probe(None, rng))
        unseen = probe._memory == 0
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        stone = env.world._mat_map == env.world._mat_ids["stone"]
        env.world._mat_map[unseen & stone] = env.world._mat_ids["diamond"]
    expert = CrafterExpert(env, sight=sight)
    actions = []
    for _ in range(steps):
        actions.append(expert(None, rng))
        env.step(actions[-1])
    return actions


def test_the_expert_that_sees_its_view_does_not_read_the_cells_it_has_not_seen():
    seed, steps = 2, 200
    view = _actions_with_unseen_rock_as_diamond("view", seed=seed, steps=steps, change=False)
    assert _actions_with_unseen_rock_as_diamond("view", seed=seed, steps=steps, change=True) == view
    # the control: the expert that reads the whole world notices the change
    world = _actions_with_unseen_rock_as_diamond("world", seed=seed, steps=steps, change=False)
    assert _actions_with_unseen_rock_as_diamond("world", seed=seed, steps=steps, change=True) != world


def test_the_expert_that_sees_its_view_scouts_when_it_knows_of_no_target():
    env = CrafterEnv()
    env.reset(seed=0)
    trees = env.world._mat_map == env.world._mat_ids["tree"]
    env.world._mat_map[trees] = env.world._mat_ids["grass"]  # nothing to start the tech tree with
    start = env.player.pos.copy()
    expert = CrafterExpert(env, sight="view")
    rng = np.random.default_rng(0)
    for _ in range(60):
        env.step(expert(None, rng))
    width, height = env.view
    assert expert._memory is not None and (expert._memory > 0).sum() > 3 * width * height  # it looked about
    assert np.abs(env.player.pos - start).max() > 10  # and walked off, not to and fro
    # the expert that reads the whole world knows there is no tree anywhere, and waits
    env.reset(seed=0)
    env.world._mat_map[trees] = env.world._mat_ids["grass"]
    expert = CrafterExpert(env)
    for _ in range(60):
        env.step(expert(None, rng))
    assert (env.player.pos == start).all()


def test_sight_is_checked():
    with pytest.raises(ValueError, match="sight"):
        CrafterExpert(CrafterEnv(), sight="map")  # type: ignore[arg-type]
