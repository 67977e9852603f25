"""Sub-task agents: the controller, the observation, the routed policy, and training."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from stable_baselines3.common.env_util import make_vec_env

import rudder.envs  # noqa: F401 - registers the ids
from rudder.agents.cloning import BehaviorCloningSettings, behavior_cloning
from rudder.agents.ppo import PPOSettings, load_checkpoint, make_ppo
from rudder.agents.sb3_training import RunSettings, train_sb3
from rudder.agents.subtasks import (
    SubtaskController,
    SubtaskObservation,
    SubtaskPolicy,
    add_subtasks,
    subtask_segments,
)
from rudder.data.episode import Episode
from rudder.data.record import record_episode
from rudder.envs.craft import ITEMS, CraftDemonstrator, craft_demonstrations, make_craft_env
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


def test_subtask_agents_need_align_rudder():
    with pytest.raises(ValueError, match="subtask_agents"):
        RunSettings(method="bc-ppo", subtask_agents=True)
    with pytest.raises(ValueError, match="num_subtasks"):
        PPOSettings(policy="SubtaskPolicy")
