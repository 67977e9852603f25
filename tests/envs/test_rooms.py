"""Tests of the FourRooms / EightRooms envs, their registration and demonstrator."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rudder.envs  # noqa: F401 - registers the envs
from rudder.data.record import record_episode
from rudder.envs import RoomsDemonstrator, RoomsEnv, register_envs, rooms_demonstrations
from rudder.envs.rooms import NOISE_VARIANTS

# Versions v0..v5 are noise levels; rudder silences gymnasium's "upgrade to v5" warning,
# but pytest resets warning filters for each test.
pytestmark = pytest.mark.filterwarnings("ignore:.*is out of date:DeprecationWarning")

NORTH, SOUTH, WEST, EAST = 0, 1, 2, 3
EAST_DOOR_ROOMS = (4, 6, 10, 18)


def goal_reward(steps: int) -> float:
    return 3 - steps / 200 + 53.32 / 200


def run(env: RoomsEnv, actions) -> list[tuple[np.ndarray, float, bool, bool]]:
    results = []
    for action in actions:
        observation, reward, terminated, truncated, _ = env.step(action)
        results.append((observation.copy(), reward, terminated, truncated))
    return results


@pytest.mark.parametrize("env_id", ["rudder/FourRooms-v0", "rudder/EightRooms-v5"])
@pytest.mark.parametrize("render_mode", [None, "ansi", "rgb_array"])
def test_check_env(env_id, render_mode):
    env = gym.make(env_id, render_mode=render_mode).unwrapped
    check_env(env, skip_render_check=render_mode is None)


def test_layout_and_state_index():
    four, eight = RoomsEnv(num_chained_rooms=3), RoomsEnv(num_chained_rooms=7)
    assert (four.num_rooms, eight.num_rooms) == (23, 27)
    assert four.num_states == 6 * 6 * 23
    assert four.observation_space == gym.spaces.MultiDiscrete([6, 6, 23], dtype=np.int64)
    assert four.transition_table.shape == (four.num_states, 4)
    assert four.goal_state == np.ravel_multi_index((4, 4, 22), (6, 6, 23))
    assert four.start_door_sides[4] == "east" and four.start_door_sides[2] == "west"
    assert four.start_door_sides[1] == "south" and four.start_door_sides[0] == "north"
    observation, info = four.reset(seed=3)
    assert info == {}
    assert observation.dtype == np.int64 and observation.shape == (3,)
    assert tuple(observation[:2]) == (3, 3)
    assert four.state_index == np.ravel_multi_index(tuple(observation), (6, 6, 23))
    assert four.state_index in four.start_states.tolist()


def test_same_seed_same_episode():
    env = gym.make("rudder/FourRooms-v3")  # 15% action noise exercises the env's rng

    def record():
        rng = np.random.default_rng(7)
        return record_episode(env, lambda observation, generator: int(generator.integers(4)), seed=11, rng=rng)

    first, second = record(), record()
    np.testing.assert_array_equal(first.observations, second.observations)
    np.testing.assert_array_equal(first.actions, second.actions)
    np.testing.assert_array_equal(first.rewards, second.rewards)
    starts = {int(gym.make("rudder/FourRooms-v0").reset(seed=seed)[0][2]) for seed in range(60)}
    assert len(starts) > 10  # the start room is drawn, not fixed


def test_shortest_paths():
    four = RoomsDemonstrator(RoomsEnv(num_chained_rooms=3), noise=0.0)
    eight = RoomsDemonstrator(RoomsEnv(num_chained_rooms=7), noise=0.0)
    sides = RoomsEnv().start_door_sides
    for room, side in enumerate(sides):
        short = side in ("south", "east")  # 3 steps out of the start room, else 4
        assert four.shortest_path_length(room) == (21 if short else 22)
        assert eight.shortest_path_length(room) == (47 if short else 48)


@pytest.mark.parametrize("start_room, length", [(0, 22), (1, 21), (2, 22), (4, 21)])
def test_goal_reward_of_a_planned_episode(start_room, length):
    env = RoomsEnv(noise=0.0)
    policy = RoomsDemonstrator(env, noise=0.0)
    rng = np.random.default_rng(0)
    observation, _ = env.reset(seed=0, options={"start_room": start_room})
    rewards, terminated = [], False
    while not terminated:
        observation, reward, terminated, truncated, _ = env.step(policy(observation, rng))
        rewards.append(reward)
        assert not truncated
    assert len(rewards) == length
    assert rewards[:-1] == [0.0] * (length - 1)
    assert sum(rewards) == goal_reward(length) == env.reward_at_goal(length)
    assert tuple(observation) == (4, 4, 22)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_timeout_reward():
    env = RoomsEnv(noise=0.0)
    env.reset(seed=0, options={"start_room": 1})
    results = run(env, [NORTH] * 200)  # walks into the north wall and stays there
    rewards = [reward for _, reward, _, _ in results]
    assert rewards == [0.0] * 199 + [1.0]
    assert [truncated for *_, truncated in results] == [False] * 199 + [True]
    assert not any(terminated for _, _, terminated, _ in results)
    assert tuple(results[-1][0]) == (1, 3, 1)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(NORTH)


def test_portals_and_returning_entry_doors():
    env = RoomsEnv(noise=0.0)
    entry = (0, 3, 20)
    # Room 0 has a north door at (0, 3): N, N onto it, N out through it.
    env.reset(options={"start_room": 0})
    observations = [tuple(o) for o, *_ in run(env, [NORTH, NORTH, NORTH])]
    assert observations == [(2, 3, 0), (1, 3, 0), (0, 3, 0)]
    assert tuple(env.step(NORTH)[0]) == entry
    # Back out through the first chained room's entry door: the door of a random start room.
    row, col, room = (int(x) for x in env.step(NORTH)[0])
    assert room < 20 and env.state_of(row, col, room) in env.back_door_targets
    # Room 1 has a south door at (5, 3); moving sideways on a door cell hits the wall.
    env.reset(options={"start_room": 1})
    assert [tuple(o) for o, *_ in run(env, [SOUTH, SOUTH, EAST])] == [(4, 3, 1), (5, 3, 1), (5, 3, 1)]
    assert tuple(env.step(SOUTH)[0]) == entry
    # Every start room's portal, and the exits of the chained rooms (east, west, ...).
    table = env.transition_table
    door_cells = {"north": (0, 3), "south": (5, 3), "west": (3, 0), "east": (3, 5)}
    door_actions = {"north": NORTH, "south": SOUTH, "west": WEST, "east": EAST}
    for room, side in enumerate(env.start_door_sides):
        door = env.state_of(*door_cells[side], room)
        assert table[door, door_actions[side]] == env.state_of(*entry)
    assert table[env.state_of(3, 5, 20), EAST] == env.state_of(0, 3, 21)
    assert table[env.state_of(3, 0, 21), WEST] == env.state_of(0, 3, 22)
    # Later entry doors lead back to the previous room's exit door.
    assert table[env.state_of(0, 3, 21), NORTH] == env.state_of(3, 5, 20)
    assert table[env.state_of(0, 3, 22), NORTH] == env.state_of(3, 0, 21)


def test_random_return_draws_among_start_doors():
    seen = set()
    for paper_compat, rooms in ((True, 15), (False, 20)):
        env = RoomsEnv(noise=0.0, paper_compat=paper_compat)
        assert len(env.back_door_targets) == rooms
        env.reset(seed=0, options={"start_room": 0})
        run(env, [NORTH, NORTH, NORTH, NORTH])  # through room 0's north portal
        landed = set()
        for _ in range(300):
            env.state_index = env.state_of(0, 3, 20)
            env.steps = 0
            env.step(NORTH)
            landed.add(env.room)
        assert landed == set(range(rooms))
        seen |= landed
    assert seen == set(range(20))


def test_paper_compat_traps_east_door_rooms():
    env = gym.make("rudder/FourRooms-v0", paper_compat=True)
    rooms = env.unwrapped
    assert rooms.paper_compat and rooms.noise == 0.01
    assert rooms.trap_rooms == EAST_DOOR_ROOMS
    assert [r for r, side in enumerate(rooms.start_door_sides) if side == "east"] == list(EAST_DOOR_ROOMS)
    assert RoomsEnv(paper_compat=False).trap_rooms == ()
    planner = RoomsDemonstrator(env, noise=0.0)
    for room in range(20):
        assert (planner.shortest_path_length(room) < 0) == (room in EAST_DOOR_ROOMS)

    trapped, fixed = RoomsEnv(noise=0.0, paper_compat=True), RoomsEnv(noise=0.0)
    for env in (trapped, fixed):
        env.reset(options={"start_room": 4})
        run(env, [EAST, EAST])
        assert tuple(env.step(EAST)[0]) == ((3, 5, 4) if env is trapped else (0, 3, 20))

    # From a trap room no state outside the room is reachable: the episode can only time out.
    reachable, frontier = set(), [int(trapped.start_states[4])]
    while frontier:
        state = frontier.pop()
        if state not in reachable:
            reachable.add(state)
            frontier.extend(trapped.transition_table[state].tolist())
    assert {trapped.position_of(state)[2] for state in reachable} == {4}
    noisy = RoomsEnv(noise=0.25, paper_compat=True)
    noisy.reset(seed=0, options={"start_room": 10})
    rng = np.random.default_rng(0)
    results = run(noisy, rng.integers(4, size=200))
    assert [reward for _, reward, _, _ in results] == [0.0] * 199 + [1.0]
    assert results[-1][3] and not results[-1][2]


def test_registered_variants():
    register_envs()  # idempotent
    for name, rooms in (("FourRooms", 23), ("EightRooms", 27)):
        for version, noise in enumerate(NOISE_VARIANTS):
            env_id = f"rudder/{name}-v{version}"
            assert gym.spec(env_id).max_episode_steps is None
            env = gym.make(env_id)
            assert env.unwrapped.noise == noise
            assert env.unwrapped.num_rooms == rooms
            assert env.unwrapped.max_steps == 200
    assert NOISE_VARIANTS == (0.01, 0.05, 0.10, 0.15, 0.25, 0.40)


def test_rendering():
    env = gym.make("rudder/EightRooms-v0", render_mode="ansi")
    env.reset(seed=0, options={"start_room": 4})
    text = env.render()
    assert "room 4 of 27" in text and "east door" in text
    grid = text.splitlines()[1:]
    assert grid[3] == "#..A.D" and len(grid) == 6
    trap = RoomsEnv(paper_compat=True, render_mode="ansi")
    trap.reset(options={"start_room": 4})
    assert "trap" in trap.render() and trap.render().splitlines()[4].endswith("x")
    image_env = RoomsEnv(render_mode="rgb_array")
    image_env.reset(seed=0)
    image = image_env.render()
    assert image.shape == (96, 96, 3) and image.dtype == np.uint8
    assert len(np.unique(image.reshape(-1, 3), axis=0)) >= 3
    silent = RoomsEnv()
    silent.reset()
    with pytest.warns(UserWarning, match="render_mode"):
        assert silent.render() is None


def test_bad_arguments():
    with pytest.raises(ValueError, match="noise"):
        RoomsEnv(noise=1.5)
    with pytest.raises(ValueError, match="num_chained_rooms"):
        RoomsEnv(num_chained_rooms=0)
    with pytest.raises(ValueError, match="render_mode"):
        RoomsEnv(render_mode="human")
    env = RoomsEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    with pytest.raises(ValueError, match="start_room"):
        env.reset(options={"start_room": 20})
    env.reset()
    with pytest.raises(ValueError, match="action"):
        env.step(4)
    with pytest.raises(TypeError, match="action"):
        env.step(1.5)
    env.step(np.int64(2))
    with pytest.raises(TypeError, match="RoomsEnv"):
        RoomsDemonstrator(gym.make("FrozenLake-v1"))


# Official demonstrations: FourRooms 22-39 steps (mean 27.6, return 3.129), EightRooms
# 50-78 (mean 61.5, return 2.959). The shortest paths here are 21 and 47 (south and east
# doors), so the bands below allow the odd optimal episode and a slightly longer tail.
@pytest.mark.parametrize(
    "env_id, length_band, mean_band, return_band",
    [
        ("rudder/FourRooms-v0", (21, 45), (26.0, 29.5), (3.11, 3.14)),
        ("rudder/EightRooms-v0", (47, 90), (58.0, 65.0), (2.94, 2.98)),
    ],
)
@pytest.mark.parametrize("paper_compat", [True, False])
def test_demonstration_statistics(env_id, length_band, mean_band, return_band, paper_compat):
    env = gym.make(env_id, paper_compat=paper_compat)
    demonstrations = rooms_demonstrations(env, 100, seed=0)
    assert len(demonstrations) == 100
    lengths = np.array([len(episode) for episode in demonstrations])
    returns = np.array([episode.episode_return for episode in demonstrations])
    assert length_band[0] <= lengths.min() and lengths.max() <= length_band[1]
    assert mean_band[0] <= lengths.mean() <= mean_band[1]
    assert return_band[0] <= returns.mean() <= return_band[1]
    assert all(episode.terminated and not episode.truncated for episode in demonstrations)
    np.testing.assert_allclose(returns, 3 - lengths / 200 + 53.32 / 200)
    start_rooms = {int(episode.observations[0][2]) for episode in demonstrations}
    assert not start_rooms & set(env.unwrapped.trap_rooms)
    if paper_compat:
        assert len(start_rooms) == 16
    assert demonstrations[0].observations.shape == (len(demonstrations[0]) + 1, 3)


def test_demonstrations_are_reproducible_and_accept_an_id():
    first = rooms_demonstrations("rudder/FourRooms-v0", 3, seed=5)
    second = rooms_demonstrations("rudder/FourRooms-v0", 3, seed=5)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.observations, b.observations)
        np.testing.assert_array_equal(a.actions, b.actions)
    with pytest.raises(ValueError, match="num_demonstrations"):
        rooms_demonstrations("rudder/FourRooms-v0", 0)
    exact = rooms_demonstrations(RoomsEnv(noise=0.0), 5, noise=0.0)
    assert all(len(episode) in (21, 22) for episode in exact)


def test_out_of_date_warning_is_silenced():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        register_envs()  # re-installs the filter inside this context
        gym.make("rudder/FourRooms-v0")
