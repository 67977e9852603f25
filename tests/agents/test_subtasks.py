"""Sub-task agents: the controller, the observation, the routed policy, and training."""

from __future__ import annotations

import dataclasses
import functools

import gymnasium as gym
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given
from stable_baselines3.common.env_util import make_vec_env

import rudder.envs  # noqa: F401 - registers the ids
from rudder.agents.cloning import BehaviorCloningSettings, behavior_cloning
from rudder.agents.ppo import PPOSettings, load_checkpoint, make_ppo
from rudder.agents.sb3_training import RunSettings, train_sb3
from rudder.agents.subtasks import (
    SubtaskController,
    SubtaskObservation,
    SubtaskPolicy,
    SubtaskReward,
    add_subtasks,
    goal_rewards,
    pay_for_goals,
    subtask_segments,
)
from rudder.data.episode import Episode
from rudder.data.record import record_episode
from rudder.envs.craft import (
    ITEMS,
    CraftDemonstrator,
    craft_demonstrations,
    make_craft_env,
    mirror_episode,
    vector_size,
)
from rudder.events import InventoryEncoder

CONSENSUS = ["log", "log", "planks", "crafting_table", "stick", "log"]


def gains(**counts: int) -> np.ndarray:
    vector = np.zeros(len(ITEMS), dtype=np.int64)
    for name, value in counts.items():
        vector[ITEMS.index(name)] = value
    return vector


@pytest.fixture(scope="module")
def demonstrations():
    return craft_demonstrations(4, seed=0)


def test_controller_hands_over_in_consensus_order():
    controller = SubtaskController(CONSENSUS, items=ITEMS)
    assert controller.subtasks == ("log", "planks", "crafting_table", "stick")
    assert controller.current(gains()) == 0
    assert controller.current(gains(log=1)) == 0
    assert controller.goals_reached(gains(log=2)) == 2
    assert controller.current(gains(log=2)) == 1
    # a later sub-goal reached early does not skip an earlier one
    assert controller.current(gains(log=2, stick=1)) == 1
    assert controller.current(gains(log=2, planks=1, crafting_table=1, stick=1)) == 0  # the 3rd log
    assert controller.current(gains(log=3, planks=1, crafting_table=1, stick=1)) == 0  # all done: stays last
    assert controller.goals_reached(gains(log=3, planks=1, crafting_table=1, stick=1)) == len(CONSENSUS)


def test_controller_refuses_bad_consensus():
    with pytest.raises(ValueError, match="no sub-goals"):
        SubtaskController(["other"], items=ITEMS)
    with pytest.raises(ValueError, match="not among the inventory items"):
        SubtaskController(["log", "emerald"], items=ITEMS)


def test_online_observation_equals_offline_annotation():
    controller = SubtaskController(["log", "log", "planks", "crafting_table", "stick", "wooden_pickaxe"], items=ITEMS)
    env = SubtaskObservation(make_craft_env(), controller)
    episode = record_episode(
        env, CraftDemonstrator(env), seed=3, rng=np.random.default_rng(0), max_steps=120, info_keys=("inventory_change",)
    )
    plain = make_craft_env()
    replay = record_episode(plain, CraftDemonstrator(plain), seed=3, rng=np.random.default_rng(0), max_steps=120, info_keys=("inventory_change",))
    annotated = add_subtasks([replay], controller)[0]
    assert np.array_equal(annotated.observations, episode.observations)
    trace = annotated.observations[:, -controller.num_subtasks :].argmax(axis=1)
    assert trace[0] == 0 and trace[-1] > 0 and np.all(np.diff(trace) >= 0)
    segments = subtask_segments(replay, controller)
    assert sum(segments.values()) == replay.length and segments["log"] > 0


def test_policy_routes_each_sample_to_its_own_networks():
    controller = SubtaskController(["log", "planks", "stick"], items=ITEMS)
    venv = make_vec_env(lambda: SubtaskObservation(make_craft_env(), controller), n_envs=1, seed=0)
    model = make_ppo(venv, PPOSettings(policy="SubtaskPolicy", num_subtasks=3), seed=0)
    policy = model.policy
    assert isinstance(policy, SubtaskPolicy)
    observations = torch.zeros((3, venv.observation_space.shape[0]))
    observations[:, :10] = torch.rand(3, 10)
    for subtask in range(3):
        observations[subtask, -3 + subtask] = 1.0
    before = policy.get_distribution(observations).distribution.logits.detach().clone()
    values = policy.predict_values(observations).detach().clone()
    with torch.no_grad():
        for parameter in policy.mlp_extractor.actors[1].parameters():
            parameter.add_(1.0)
    after = policy.get_distribution(observations).distribution.logits.detach()
    assert torch.allclose(after[[0, 2]], before[[0, 2]])
    assert not torch.allclose(after[1], before[1])
    assert torch.allclose(policy.predict_values(observations), values)
    venv.close()


def test_cloning_trains_only_the_sub_tasks_in_the_demonstrations(demonstrations):
    controller = SubtaskController(["log", "planks", "diamond"], items=ITEMS)
    annotated = add_subtasks(demonstrations, controller)
    venv = make_vec_env(lambda: SubtaskObservation(make_craft_env(), controller), n_envs=1, seed=0)
    model = make_ppo(venv, PPOSettings(policy="SubtaskPolicy", num_subtasks=3), seed=0)
    networks = model.policy.mlp_extractor
    untouched = [p.detach().clone() for p in networks.actors[2].parameters()]
    trained = [p.detach().clone() for p in networks.actors[0].parameters()]
    # only the steps before the diamond sub-task starts
    early = []
    for episode in annotated:
        trace = episode.observations[:, -3:].argmax(axis=1)
        end = int(np.flatnonzero(trace == 2)[0])
        early.append(Episode(episode.observations[: end + 1], episode.actions[:end], episode.rewards[:end]))
    behavior_cloning(model.policy, early, settings=BehaviorCloningSettings(epochs=2, value_weight=0.0, entropy_weight=0.0), seed=0)
    assert all(torch.equal(a, b) for a, b in zip(untouched, networks.actors[2].parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(trained, networks.actors[0].parameters()))
    venv.close()


def test_train_sb3_with_subtask_agents_saves_and_resumes(tmp_path, demonstrations):
    settings = RunSettings(
        method="align-rudder",
        subtask_agents=True,
        total_timesteps=256,
        n_envs=2,
        eval_every=256,
        eval_episodes=2,
        target_success=None,
        behavior_cloning=BehaviorCloningSettings(epochs=1),
        ppo=PPOSettings(n_steps=64, batch_size=64, n_epochs=1),
    )
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamond-v0", max_steps=64)
    outcome = train_sb3(
        make_env,
        demonstrations,
        settings=settings,
        encoder=InventoryEncoder(items=ITEMS, source="info", key="inventory_change"),
        seed=0,
        checkpoint=tmp_path / "run",
        final_evaluation=lambda model, env: {"envs": env.num_envs},
    )
    assert outcome.controller is not None and outcome.controller.subtasks[0] == "log"
    assert outcome.controller.subtasks[-1] == "diamond"
    assert outcome.final == {"envs": 2}
    assert outcome.timesteps >= 256
    from rudder.agents.sb3_training import subtask_wrapper

    wrapper = functools.partial(subtask_wrapper, redistributor=outcome.redistributor, controller=outcome.controller)
    venv = make_vec_env(make_env, n_envs=2, seed=0, wrapper_class=wrapper)
    model, loaded, _ = load_checkpoint(tmp_path / "run", venv)
    assert loaded.policy == "SubtaskPolicy" and loaded.num_subtasks == outcome.controller.num_subtasks
    for name, tensor in outcome.model.policy.state_dict().items():
        assert torch.equal(tensor, model.policy.state_dict()[name])
    venv.close()


def test_subtask_agents_on_minigrid_interactions():
    from rudder.envs.minigrid_tasks import (
        INTERACTIONS,
        interaction_encoder,
        make_minigrid_env,
        minigrid_demonstrations,
    )

    env_id = "MiniGrid-KeyCorridorS3R3-v0"
    demos = minigrid_demonstrations(env_id, 4, seed=3)
    settings = RunSettings(
        method="align-rudder",
        subtask_agents=True,
        subtask_change_key="interaction_change",
        subtask_items=INTERACTIONS,
        settle_terminated=False,
        total_timesteps=128,
        n_envs=2,
        eval_every=128,
        eval_episodes=2,
        target_success=None,
        behavior_cloning=BehaviorCloningSettings(epochs=1),
        ppo=PPOSettings(n_steps=64, batch_size=64, n_epochs=1),
    )
    make_env = functools.partial(make_minigrid_env, env_id)
    seen = []

    def play(model, venv):
        venv.reset()
        for _ in range(20):
            *_, infos = venv.step(np.zeros(venv.num_envs, dtype=np.int64))
            seen.append(infos[0]["subtask"])

    outcome = train_sb3(make_env, demos, settings=settings, encoder=interaction_encoder(), seed=0, final_evaluation=play)
    assert outcome.controller.subtasks[-1] == "picked up ball"
    assert {"picked up key", "unlocked door", "dropped key"} <= set(outcome.controller.subtasks)
    assert set(seen) <= set(outcome.controller.subtasks)
    # Without `subtask_items` an encoder with no `items` cannot name the info entries.
    with pytest.raises(ValueError, match="subtask_items"):
        train_sb3(
            make_env,
            demos,
            settings=dataclasses.replace(settings, subtask_items=None),
            encoder=interaction_encoder(),
            seed=0,
        )


def test_subtask_agents_need_align_rudder():
    with pytest.raises(ValueError, match="subtask_agents"):
        RunSettings(method="bc-ppo", subtask_agents=True)
    with pytest.raises(ValueError, match="num_subtasks"):
        PPOSettings(policy="SubtaskPolicy")


def test_boundaries_end_each_agents_return_with_its_sub_task():
    from types import SimpleNamespace

    from gymnasium import spaces
    from stable_baselines3.common.buffers import RolloutBuffer
    from stable_baselines3.common.logger import Logger

    from rudder.agents.subtasks import SubtaskBoundaries

    buffer = RolloutBuffer(6, spaces.Box(0, 1, (3,)), spaces.Discrete(2), gamma=0.9, gae_lambda=1.0, n_envs=1)
    subtasks = [0, 0, 0, 1, 1, 1]
    rewards = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    for step, (subtask, reward) in enumerate(zip(subtasks, rewards)):
        observation = np.array([[0.3, 1.0 - subtask, float(subtask)]], dtype=np.float32)
        buffer.add(
            observation, np.array([[0]]), np.array([reward]), np.array([step == 0]),
            torch.tensor([[0.5]]), torch.tensor([0.0]),
        )
    last_values = torch.tensor([[0.5]])
    buffer.compute_returns_and_advantage(last_values=last_values, dones=np.array([False]))
    assert buffer.returns[2, 0] == pytest.approx(1.0 + 0.9 * 0.9**2 * 0.9 * 0.5)  # runs on into sub-task 1
    callback = SubtaskBoundaries(2, normalize_advantages=False)
    callback.init_callback(SimpleNamespace(rollout_buffer=buffer, logger=Logger(None, []), get_env=lambda: None))
    callback.update_locals(
        {"new_obs": np.array([[0.3, 0.0, 1.0]], dtype=np.float32), "dones": np.array([False]), "values": last_values}
    )
    callback.on_rollout_end()
    expected = [0.81, 0.9, 1.0, 0.9**3 * 0.5, 0.9**2 * 0.5, 0.9 * 0.5]
    assert buffer.returns[:, 0] == pytest.approx(expected)
    assert buffer.advantages[:, 0] == pytest.approx(np.array(expected) - 0.5)
    # Standardised per sub-task: each agent's advantages have mean 0 and std 1 on their own,
    # and PPO's minibatch standardisation (which would mix them) is switched off.
    model = SimpleNamespace(rollout_buffer=buffer, logger=Logger(None, []), get_env=lambda: None, normalize_advantage=True, num_timesteps=0)
    per_agent = SubtaskBoundaries(2)
    per_agent.init_callback(model)
    per_agent.on_training_start({}, {})
    per_agent.update_locals(callback.locals)
    assert model.normalize_advantage is False
    per_agent.on_rollout_end()
    raw = np.array(expected) - 0.5
    for rows in (slice(0, 3), slice(3, 6)):
        part = raw[rows]
        assert buffer.advantages[rows, 0] == pytest.approx((part - part.mean()) / (part.std() + 1e-8), abs=1e-6)


def test_standardize_by_subtask_by_hand():
    from rudder.agents.subtasks import standardize_by_subtask

    advantages = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 7.0]])
    subtask = np.array([[0, 1], [0, 2], [0, 2]])
    standardize_by_subtask(advantages, subtask)
    # sub-task 0: 1, 3, 5 (mean 3, std sqrt(8/3)); sub-task 1: one step, centred to 0;
    # sub-task 2: 10, 7 -> +1, -1.
    spread = np.sqrt(8 / 3)
    assert advantages[:, 0] == pytest.approx([-2 / spread, 0.0, 2 / spread], abs=1e-6)
    assert advantages[0, 1] == 0.0
    assert advantages[1:, 1] == pytest.approx([1.0, -1.0], abs=1e-6)


def changes_of(*steps: dict[str, int]) -> np.ndarray:
    return np.array([gains(**step) for step in steps])


def test_goal_rewards_share_the_demonstrations_redistributed_return():
    controller = SubtaskController(["log", "log", "planks"], items=ITEMS)
    first = Episode(
        np.zeros((5, 1)), np.zeros(4), np.zeros(4),
        infos={"inventory_change": changes_of({}, {"log": 1}, {"log": 1}, {"planks": 4})},
    )
    second = Episode(
        np.zeros((4, 1)), np.zeros(3), np.zeros(3),
        infos={"inventory_change": changes_of({"log": 1}, {"log": 1, "dirt": 1}, {})},
    )
    values = goal_rewards(controller, [first, second], [np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.5, 0.6, 0.7])])
    # first: goal 0 at step 1 (0.1 + 0.2), goal 1 at step 2 (0.3), goal 2 at step 3 (0.4)
    # second: goal 0 at step 0 (0.5), goal 1 at step 1 (0.6), never planks
    assert values == pytest.approx([(0.3 + 0.5) / 2, (0.3 + 0.6) / 2, 0.4])


@given(
    returns=st.floats(-3, 3),
    values=hnp.arrays(np.float64, 3, elements=st.floats(0, 1)),
    length=st.integers(1, 12),
    seed=st.integers(0, 1000),
)
def test_goal_payments_sum_to_the_return(returns, values, length, seed):
    controller = SubtaskController(["log", "log", "planks"], items=ITEMS)
    rng = np.random.default_rng(seed)
    changes = np.zeros((length, len(ITEMS)), dtype=np.int64)
    changes[:, ITEMS.index("log")] = rng.integers(0, 2, size=length)
    changes[:, ITEMS.index("planks")] = rng.integers(0, 2, size=length)
    rewards = np.zeros(length)
    rewards[-1] = returns
    episode = Episode(np.zeros((length + 1, 1)), np.zeros(length), rewards, terminated=True, infos={"inventory_change": changes})
    paid = pay_for_goals(controller, values, episode)
    assert paid.sum() == pytest.approx(returns, abs=1e-9)
    assert np.count_nonzero(paid[:-1]) <= 3
    timed_out = Episode(episode.observations, episode.actions, rewards, truncated=True, infos=episode.infos)
    assert pay_for_goals(controller, values, timed_out, settle_truncated=True).sum() == pytest.approx(returns, abs=1e-9)
    unsettled = pay_for_goals(controller, values, timed_out)
    assert unsettled.sum() == pytest.approx(np.sum(values[: controller.goals_reached(np.sum(changes > 0, axis=0))]))
    goals_only = pay_for_goals(controller, values, episode, settle_terminated=False)
    np.testing.assert_allclose(goals_only, unsettled)


def test_reward_wrapper_pays_the_sub_goals_as_offline(demonstrations):
    from rudder.agents.sb3_training import subtask_wrapper
    from rudder.redistribution import AlignmentRedistributor

    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    redistributor = AlignmentRedistributor(encoder).fit(demonstrations)
    controller = SubtaskController.from_redistributor(redistributor, items=ITEMS)
    values = goal_rewards(controller, demonstrations, [redistributor.redistribute(d) for d in demonstrations])
    assert values.sum() == pytest.approx(1.0, abs=0.05)  # every demonstration returns 1
    env = subtask_wrapper(make_craft_env(), redistributor, controller, progress=None, goal_rewards=values)
    assert isinstance(env, SubtaskReward)
    online = record_episode(env, CraftDemonstrator(env), seed=11, rng=np.random.default_rng(2), info_keys=("inventory_change",))
    plain = make_craft_env()
    offline = record_episode(plain, CraftDemonstrator(plain), seed=11, rng=np.random.default_rng(2), info_keys=("inventory_change",))
    assert np.allclose(online.rewards, pay_for_goals(controller, values, offline))
    assert online.rewards.sum() == pytest.approx(offline.episode_return)


class ScriptedInventory(gym.Env):
    """Emits a fixed list of inventory changes (and env reward 0 then ``final``)."""

    observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(1)

    def __init__(self, changes: np.ndarray, final: float, *, truncate: bool = False) -> None:
        self.changes, self.final, self.truncate, self.step_index = changes, final, truncate, 0

    def reset(self, *, seed=None, options=None):
        self.step_index = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        change = self.changes[self.step_index]
        self.step_index += 1
        done = self.step_index == len(self.changes)
        info = {"inventory_change": change, "original_reward": self.final if done else 0.0}
        return np.zeros(1, np.float32), 0.0, done and not self.truncate, done and self.truncate, info


def test_reward_wrapper_pays_nothing_for_events_that_are_not_the_next_sub_goal():
    controller = SubtaskController(["log", "crafting_table", "wooden_pickaxe"], items=ITEMS)
    changes = changes_of({"log": 1}, {"crafting_table": 1}, {"crafting_table": 1}, {"crafting_table": 1}, {"wooden_pickaxe": 1}, {})
    env = SubtaskReward(SubtaskObservation(ScriptedInventory(changes, final=1.0), controller), controller, np.array([0.2, 0.3, 0.4]))
    env.reset()
    rewards = [env.step(0)[1] for _ in range(len(changes))]
    assert rewards == pytest.approx([0.2, 0.3, 0.0, 0.0, 0.4, 1.0 - 0.9])
    for settle, last in ((False, 0.0), (True, -0.9)):
        inner = SubtaskObservation(ScriptedInventory(changes, final=0.0, truncate=True), controller)
        env = SubtaskReward(inner, controller, np.array([0.2, 0.3, 0.4]), settle_truncated=settle)
        env.reset()
        assert [env.step(0)[1] for _ in range(len(changes))][-1] == pytest.approx(last)
    # Without settling at termination only the sub-goals are paid: a slow episode whose
    # return (0.5) is below what the sub-goals paid (0.9) costs its last agent nothing.
    env = SubtaskReward(
        SubtaskObservation(ScriptedInventory(changes, final=0.5), controller),
        controller,
        np.array([0.2, 0.3, 0.4]),
        settle_terminated=False,
    )
    env.reset()
    assert [env.step(0)[1] for _ in range(len(changes))] == pytest.approx([0.2, 0.3, 0.0, 0.0, 0.4, 0.0])


def test_cloning_augmentation_also_fits_the_mirrored_demonstrations(demonstrations):
    """``cloning_augmentation`` gets every demonstration as the agent sees it (progress
    and sub-task features appended) and behaviour cloning fits the extra episodes too."""
    seen = []

    def augment(episode):
        seen.append(episode)
        return mirror_episode(episode)

    settings = RunSettings(
        method="align-rudder",
        subtask_agents=True,
        total_timesteps=0,
        n_envs=1,
        target_success=None,
        behavior_cloning=BehaviorCloningSettings(epochs=8),
    )
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamond-v0", max_steps=64)
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")

    def train(augmentation):
        return train_sb3(make_env, demonstrations, settings=settings, encoder=encoder, seed=0, cloning_augmentation=augmentation)

    augmented = train(augment)
    assert len(seen) == len(demonstrations)
    width = augmented.model.observation_space.shape[0]
    assert all(episode.observations.shape[1] == width > vector_size() for episode in seen)
    mirrored = [mirror_episode(episode) for episode in seen]
    plain = train(None)
    assert len(seen) == len(demonstrations)  # not called without augmentation

    def log_likelihood(model) -> float:
        observations = np.concatenate([episode.observations[:-1] for episode in mirrored])
        actions = np.concatenate([episode.actions for episode in mirrored])
        tensor, _ = model.policy.obs_to_tensor(observations)
        with torch.no_grad():
            _, log_prob, _ = model.policy.evaluate_actions(tensor, torch.as_tensor(actions))
        return float(log_prob.mean())

    assert log_likelihood(augmented.model) > log_likelihood(plain.model) + 0.1
