"""minigrid glue: interaction events, vector observations, the planner, demonstrations."""

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("minigrid")

from gymnasium.utils.env_checker import check_env  # noqa: E402

from rudder.envs.minigrid_tasks import (  # noqa: E402
    DROP,
    FORWARD,
    INTERACTIONS,
    LEFT,
    PICKUP,
    RIGHT,
    TOGGLE,
    MinigridInteractions,
    MinigridPlanner,
    MinigridVectorObservation,
    interaction_encoder,
    make_minigrid_env,
    minigrid_demonstrations,
)

DOOR_KEY = "MiniGrid-DoorKey-8x8-v0"
KEY_CORRIDOR = "MiniGrid-KeyCorridorS3R3-v0"


def names(episode):
    return [INTERACTIONS[i] for i in episode.infos["interaction"] if i]


def test_make_env_passes_the_env_checker():
    env = make_minigrid_env(DOOR_KEY)
    check_env(env.unwrapped)
    check_env(env, skip_render_check=True)


def test_vector_observation_is_one_hot_per_cell():
    env = make_minigrid_env(DOOR_KEY, view="full")
    observation, _ = env.reset(seed=3)
    grid_env = env.unwrapped
    cells = grid_env.width * grid_env.height
    assert observation.shape == env.observation_space.shape
    assert observation.dtype == np.float32
    per_cell = observation[: cells * 20].reshape(cells, 20)
    # one object type, one colour and one state per cell
    assert np.all(per_cell[:, :11].sum(axis=1) == 1)
    assert np.all(per_cell[:, 11:17].sum(axis=1) == 1)
    assert np.all(per_cell[:, 17:].sum(axis=1) == 1)
    position = observation[cells * 20 : cells * 21]
    x, y = grid_env.agent_pos
    assert position[int(y) * grid_env.width + int(x)] == 1 and position.sum() == 1
    direction = observation[cells * 21 : cells * 21 + 4]
    assert direction[grid_env.agent_dir] == 1 and direction.sum() == 1
    assert observation[cells * 21 + 4 :].sum() == 0  # carrying nothing


def test_agent_view_observation_has_the_egocentric_size():
    env = make_minigrid_env(KEY_CORRIDOR)
    observation, _ = env.reset(seed=0)
    assert observation.shape == (49 * 20 + 4 + 17,)
    # the egocentric view shows the agent's own cell at the bottom centre (what it carries)
    image = env.unwrapped.gen_obs()["image"]
    np.testing.assert_array_equal(observation[: 49 * 20].reshape(7, 7, 20)[:, :, :11].argmax(axis=2), image[:, :, 0].T)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="view"):
        make_minigrid_env(DOOR_KEY, view="top")
    with pytest.raises(TypeError, match="minigrid"):
        MinigridInteractions(gym.make("CartPole-v1"))
    with pytest.raises(TypeError, match="minigrid"):
        MinigridVectorObservation(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="noise"):
        MinigridPlanner(make_minigrid_env(DOOR_KEY), noise=1.0)


def test_interactions_of_a_hand_played_door_key_episode():
    # Seed 0 of DoorKey-8x8: the agent at (3, 4) facing down, the key at (4, 5), the
    # locked door at (5, 2), the goal at (6, 6) (see the layout in the planner test).
    env = make_minigrid_env(DOOR_KEY)
    env.reset(seed=0)
    grid_env = env.unwrapped
    assert tuple(grid_env.agent_pos) == (3, 4) and grid_env.agent_dir == 1
    happened = []
    for action in (FORWARD, LEFT, PICKUP, DROP, PICKUP):
        *_, info = env.step(action)
        happened.append(INTERACTIONS[info["interaction"]])
        # The same as counts, for sub-task controllers: one 1 at the interaction.
        expected = np.zeros(len(INTERACTIONS), dtype=np.int64)
        expected[info["interaction"]] = info["interaction"] > 0
        np.testing.assert_array_equal(info["interaction_change"], expected)
    assert happened == ["none", "none", "picked up key", "dropped key", "picked up key"]
    for action in (LEFT, FORWARD, FORWARD, FORWARD, RIGHT, FORWARD, TOGGLE, TOGGLE, TOGGLE):
        *_, info = env.step(action)
        happened.append(INTERACTIONS[info["interaction"]])
    assert happened[-3:] == ["unlocked door", "closed door", "opened door"]


@pytest.mark.parametrize("env_id", [DOOR_KEY, KEY_CORRIDOR])
def test_planner_solves_every_layout(env_id):
    env = make_minigrid_env(env_id)
    planner = MinigridPlanner(env, noise=0.2)
    rng = np.random.default_rng(0)
    for seed in range(25):
        observation, _ = env.reset(seed=seed)
        for _ in range(env.unwrapped.max_steps):
            observation, reward, terminated, truncated, _ = env.step(planner(observation, rng))
            if terminated or truncated:
                break
        assert terminated and reward > 0, f"seed {seed}"


def test_demonstrations_follow_the_task_and_are_reproducible():
    demos = minigrid_demonstrations(KEY_CORRIDOR, 4, seed=7)
    again = minigrid_demonstrations(KEY_CORRIDOR, 4, seed=7)
    for demo, same in zip(demos, again):
        assert demo.terminated and demo.episode_return > 0
        np.testing.assert_array_equal(demo.actions, same.actions)
        np.testing.assert_array_equal(demo.observations, same.observations)
        happened = names(demo)
        # key, then the locked door, then the key goes down, then the ball
        order = [happened.index(name) for name in ("picked up key", "unlocked door", "dropped key", "picked up ball")]
        assert order == sorted(order)
        assert happened[-1] == "picked up ball"
        counted = [INTERACTIONS[i] for i in np.flatnonzero(demo.infos["interaction_change"].sum(axis=0))]
        assert sorted(counted) == sorted(set(happened))
    door_key = minigrid_demonstrations(DOOR_KEY, 3, seed=1)
    for demo in door_key:
        assert [n for n in names(demo) if n != "opened door"] == ["picked up key", "unlocked door", "reached goal"]


def test_interaction_encoder_gives_the_task_steps_as_events():
    demos = minigrid_demonstrations(DOOR_KEY, 3, seed=2)
    encoder = interaction_encoder().fit(demos)
    sequence = encoder.encode(demos[0])
    assert [encoder.alphabet.name(e) for e in sequence.events] == names(demos[0])


def test_demonstrations_refuse_bad_counts():
    with pytest.raises(ValueError, match="num_demonstrations"):
        minigrid_demonstrations(DOOR_KEY, 0)
