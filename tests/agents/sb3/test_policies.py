"""The routed sub-task policy: an output per sub-task after shared or separate hidden layers."""

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

import torch  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

import rudder.envs  # noqa: E402,F401 - registers the ids
from rudder.agents.sb3 import (  # noqa: E402
    BehaviorCloningSettings,
    GridFeatures,
    PPOSettings,
    SubtaskPolicy,
    behavior_cloning,
    make_ppo,
)
from rudder.agents.sb3.safeguards import actor_only_parameters  # noqa: E402
from rudder.agents.subtasks import SubtaskController, add_subtasks  # noqa: E402
from rudder.data.episode import Episode  # noqa: E402
from rudder.envs.craft import ITEMS, make_craft_env  # noqa: E402
from rudder.wrappers import SubtaskObservation  # noqa: E402


def _one_row_per_subtask(size: int) -> torch.Tensor:
    """Shape (3, size): random features, row j in sub-task j (the one-hot at the end)."""
    observations = torch.zeros((3, size))
    observations[:, :10] = torch.rand(3, 10)
    for subtask in range(3):
        observations[subtask, -3 + subtask] = 1.0
    return observations


def test_policy_routes_each_sample_to_its_own_networks():
    controller = SubtaskController(["log", "planks", "stick"], items=ITEMS)
    venv = make_vec_env(lambda: SubtaskObservation(make_craft_env(), controller), n_envs=1, seed=0)
    model = make_ppo(venv, PPOSettings(policy="SubtaskPolicy", num_subtasks=3, shared_layers=0), seed=0)
    policy = model.policy
    assert isinstance(policy, SubtaskPolicy)
    observations = _one_row_per_subtask(venv.observation_space.shape[0])
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
    model = make_ppo(venv, PPOSettings(policy="SubtaskPolicy", num_subtasks=3, shared_layers=0), seed=0)
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


@pytest.mark.parametrize("shared_layers", [1, 2, None])
def test_shared_trunk_is_one_network_and_the_heads_stay_per_sub_task(shared_layers):
    controller = SubtaskController(["log", "planks", "stick"], items=ITEMS)
    venv = make_vec_env(lambda: SubtaskObservation(make_craft_env(), controller), n_envs=1, seed=0)
    settings = PPOSettings(policy="SubtaskPolicy", num_subtasks=3, shared_layers=shared_layers)
    policy = make_ppo(venv, settings, seed=0).policy
    networks = policy.mlp_extractor
    shared_layers = 2 if shared_layers is None else shared_layers  # the default: every hidden layer
    # the shared layers, then each sub-task's own: 64 -> 64 -> actions, or 64 -> actions
    assert len([m for m in networks.actor_trunk.modules() if isinstance(m, torch.nn.Linear)]) == shared_layers
    assert len([m for m in networks.actors[0].modules() if isinstance(m, torch.nn.Linear)]) == 3 - shared_layers
    observations = _one_row_per_subtask(venv.observation_space.shape[0])
    before = policy.get_distribution(observations).distribution.logits.detach().clone()
    values = policy.predict_values(observations).detach().clone()
    torch.manual_seed(0)
    with torch.no_grad():  # a shift that differs per action (a shift alike for all would not show)
        for parameter in networks.actors[1].parameters():
            parameter.add_(torch.randn_like(parameter))
    after = policy.get_distribution(observations).distribution.logits.detach()
    assert torch.allclose(after[[0, 2]], before[[0, 2]]) and not torch.allclose(after[1], before[1])
    with torch.no_grad():  # the trunk moves every sub-task's actions, not the values
        for parameter in networks.actor_trunk.parameters():
            parameter.add_(torch.randn_like(parameter))
    moved = policy.get_distribution(observations).distribution.logits.detach()
    assert all(not torch.allclose(moved[row], after[row]) for row in range(3))
    assert torch.allclose(policy.predict_values(observations), values)
    venv.close()


def test_shared_layers_must_fit_the_hidden_layers():
    with pytest.raises(ValueError, match="shared_layers"):
        PPOSettings(policy="SubtaskPolicy", num_subtasks=2, net_arch=(64, 64), shared_layers=4)
    with pytest.raises(ValueError, match="shared_layers"):
        PPOSettings(shared_layers=-1)
    PPOSettings(policy="SubtaskPolicy", num_subtasks=2, net_arch=(64, 64), shared_layers=3)  # the output layer too


def test_sharing_the_output_layer_too_makes_one_network_that_reads_the_one_hot():
    controller = SubtaskController(["log", "planks", "stick"], items=ITEMS)
    venv = make_vec_env(lambda: SubtaskObservation(make_craft_env(), controller), n_envs=1, seed=0)
    policy = make_ppo(venv, PPOSettings(policy="SubtaskPolicy", num_subtasks=3, shared_layers=3), seed=0).policy
    networks = policy.mlp_extractor
    assert len(networks.actors) == len(networks.critics) == 1
    assert len([m for m in networks.actor_trunk.modules() if isinstance(m, torch.nn.Linear)]) == 2
    observations = _one_row_per_subtask(venv.observation_space.shape[0])
    observations[:, :10] = observations[0, :10]  # the same state in every sub-task
    logits = policy.get_distribution(observations).distribution.logits.detach()
    # one network, yet the sub-task one-hot in its input changes what it does
    assert not torch.allclose(logits[0], logits[1]) and not torch.allclose(logits[1], logits[2])
    with torch.no_grad():  # its one output layer moves every sub-task
        for parameter in networks.actors[0].parameters():
            parameter.add_(torch.randn_like(parameter))
    moved = policy.get_distribution(observations).distribution.logits.detach()
    assert all(not torch.allclose(moved[row], logits[row]) for row in range(3))
    venv.close()



class _GridEnv(gym.Env):
    """A flat observation: a 4x3 grid of 2 classes, then 5 more entries."""

    observation_space = gym.spaces.Box(0.0, 1.0, (4 * 3 * 2 + 5,), dtype=np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, True, False, {}


def test_grid_features_convolve_the_grid_cell_by_cell_and_pass_the_rest_through():
    extractor = GridFeatures(_GridEnv.observation_space, grid=(4, 3, 2), channels=(5, 6))
    assert extractor.features_dim == 6 * 4 * 3 + 5
    observations = torch.rand((7, 29))
    grid = torch.zeros((7, 2, 4, 3))  # (batch, class, x, y), filled entry by entry
    for x in range(4):
        for y in range(3):
            for c in range(2):
                grid[:, c, x, y] = observations[:, (x * 3 + y) * 2 + c]
    expected = torch.cat([extractor.convolutions(grid), observations[:, 24:]], dim=1)
    torch.testing.assert_close(extractor(observations), expected)


def test_grid_features_see_a_thing_alike_wherever_it_is():
    space = gym.spaces.Box(0.0, 1.0, (9 * 9 * 3 + 2,), dtype=np.float32)
    extractor = GridFeatures(space, grid=(9, 9, 3), channels=(4, 4))

    def maps(x: int, y: int) -> torch.Tensor:
        observation = torch.zeros((1, space.shape[0]))
        observation[0, (x * 9 + y) * 3 + 1] = 1.0  # class 1 at (x, y), nothing elsewhere
        return extractor(observation)[0, : 4 * 81].reshape(4, 9, 9)

    here, right, below = maps(3, 4), maps(4, 4), maps(3, 5)
    # away from the border (two cells: two 3x3 layers), a shifted thing gives shifted features
    torch.testing.assert_close(here[:, 2:6, 2:7], right[:, 3:7, 2:7])
    torch.testing.assert_close(here[:, 2:7, 2:6], below[:, 2:7, 3:7])
    assert not torch.allclose(here, right)


def test_grid_settings_put_the_convolutions_under_either_policy_and_keep_the_routing():
    venv = make_vec_env(_GridEnv, n_envs=1, seed=0)
    plain = make_ppo(venv, PPOSettings(grid=(4, 3, 2)), seed=0).policy
    assert isinstance(plain.features_extractor, GridFeatures)
    routed = make_ppo(venv, PPOSettings(policy="SubtaskPolicy", num_subtasks=3, grid=(4, 3, 2)), seed=0).policy
    assert isinstance(routed.features_extractor, GridFeatures)
    # the actor and the critic have convolutions of their own; the value warm-up freezes the actor's
    assert routed.pi_features_extractor is not routed.vf_features_extractor
    assert isinstance(routed.vf_features_extractor, GridFeatures)
    frozen = {id(parameter) for parameter in actor_only_parameters(routed)}
    assert all(id(parameter) in frozen for parameter in routed.pi_features_extractor.parameters())
    assert not any(id(parameter) in frozen for parameter in routed.vf_features_extractor.parameters())
    observations = _one_row_per_subtask(29)
    for extractor in (routed.pi_features_extractor, routed.vf_features_extractor):
        torch.testing.assert_close(extractor(observations)[:, -3:], torch.eye(3))  # the one-hot is still at the end
    settings = PPOSettings(policy="SubtaskPolicy", num_subtasks=3, net_arch=(64, 64), grid=[4, 3, 2])
    assert settings.grid == (4, 3, 2) and PPOSettings.from_json(settings.to_json()) == settings


def test_grid_settings_are_checked():
    with pytest.raises(ValueError, match="fewer than the grid"):
        make_ppo(make_vec_env(_GridEnv, n_envs=1, seed=0), PPOSettings(grid=(5, 3, 2)), seed=0)
    with pytest.raises(ValueError, match="grid"):
        PPOSettings(grid=(4, 3))
    with pytest.raises(ValueError, match="MultiInputPolicy"):
        PPOSettings(policy="MultiInputPolicy", grid=(4, 3, 2))
    with pytest.raises(ValueError, match="channels"):
        GridFeatures(_GridEnv.observation_space, grid=(4, 3, 2), channels=())


def test_a_checkpoint_brings_the_convolutions_back(tmp_path):
    from rudder.agents.sb3 import load_checkpoint, save_checkpoint

    venv = make_vec_env(_GridEnv, n_envs=1, seed=0)
    settings = PPOSettings(policy="SubtaskPolicy", num_subtasks=3, grid=(4, 3, 2))
    model = make_ppo(venv, settings, seed=0)
    save_checkpoint(tmp_path / "run", model, settings)
    loaded, loaded_settings, _ = load_checkpoint(tmp_path / "run", venv)
    assert loaded_settings.grid == (4, 3, 2) and isinstance(loaded.policy.features_extractor, GridFeatures)
    observations = _one_row_per_subtask(29)
    with torch.no_grad():
        expected = model.policy.get_distribution(observations).distribution.probs
        torch.testing.assert_close(loaded.policy.get_distribution(observations).distribution.probs, expected)
