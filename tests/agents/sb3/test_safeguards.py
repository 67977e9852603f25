"""Do no harm: value-only warm-up updates and the redistribution gate during PPO."""

import functools

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

import torch  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

from rudder.agents.sb3 import (  # noqa: E402
    GateRedistribution,
    PPOSettings,
    SubtaskPolicy,
    ValueWarmup,
    actor_only_parameters,
    make_ppo,
)

SMALL = PPOSettings(n_steps=32, batch_size=32, n_epochs=2)


class Coin(gym.Env):
    """Ten steps; reward 1 at the end when the last action was 1."""

    observation_space = gym.spaces.Box(0.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(4, np.float32), {}

    def step(self, action):
        self.t += 1
        done = self.t >= 10
        return np.full(4, self.t / 10, np.float32), float(done and action == 1), done, False, {}


def _snapshot(parameters):
    return [parameter.detach().clone() for parameter in parameters]


def test_actor_only_parameters_are_what_the_value_does_not_use():
    model = make_ppo(make_vec_env(Coin, n_envs=2, seed=0), SMALL, seed=0)
    actor = actor_only_parameters(model.policy)
    assert actor and all(parameter.requires_grad for parameter in actor)
    observation = torch.rand(5, 4)
    gradients = torch.autograd.grad(model.policy.predict_values(observation).sum(), actor, allow_unused=True)
    assert all(gradient is None for gradient in gradients)  # the value never reaches them
    distribution = model.policy.get_distribution(observation)
    used = torch.autograd.grad(distribution.distribution.logits.sum(), actor, allow_unused=True)
    assert all(gradient is not None for gradient in used)  # the actions do
    # every parameter is the actor's or the critic's: nothing lost
    critic = torch.autograd.grad(
        model.policy.predict_values(observation).sum(), list(model.policy.parameters()), allow_unused=True
    )
    assert len(actor) + sum(gradient is not None for gradient in critic) == len(list(model.policy.parameters()))


def test_actor_only_parameters_of_subtask_agents_cover_every_actor():
    space = gym.spaces.Box(0.0, 1.0, (7,), np.float32)
    policy = SubtaskPolicy(space, gym.spaces.Discrete(3), lambda _: 1e-3, num_subtasks=3, shared_layers=0)
    actor = {id(parameter) for parameter in actor_only_parameters(policy)}
    assert actor == {id(parameter) for parameter in policy.mlp_extractor.actors.parameters()}


def test_actor_only_parameters_of_subtask_agents_include_the_shared_trunk():
    space = gym.spaces.Box(0.0, 1.0, (7,), np.float32)
    policy = SubtaskPolicy(space, gym.spaces.Discrete(3), lambda _: 1e-3, num_subtasks=3, shared_layers=1)
    extractor = policy.mlp_extractor
    actor = {id(parameter) for parameter in actor_only_parameters(policy)}
    expected = [*extractor.actors.parameters(), *extractor.actor_trunk.parameters()]
    assert len(list(extractor.actor_trunk.parameters())) == 2  # one shared layer: weight and bias
    assert actor == {id(parameter) for parameter in expected}
    assert not actor & {id(parameter) for parameter in extractor.critic_trunk.parameters()}


def test_value_warmup_keeps_the_policy_then_lets_it_learn():
    model = make_ppo(make_vec_env(Coin, n_envs=2, seed=0), SMALL, seed=0)
    actor = actor_only_parameters(model.policy)
    critic = [parameter for parameter in model.policy.parameters() if all(parameter is not a for a in actor)]
    actor_before, critic_before = _snapshot(actor), _snapshot(critic)
    warmup = ValueWarmup(3)
    model.learn(3 * 64, callback=warmup)  # three rollouts of 2 envs x 32 steps: all warm-up
    assert warmup.done == 3
    assert all(torch.equal(a, b) for a, b in zip(_snapshot(actor), actor_before))
    assert any(not torch.equal(a, b) for a, b in zip(_snapshot(critic), critic_before))
    assert all(parameter.requires_grad for parameter in actor)  # handed back trainable
    model.learn(64, callback=warmup, reset_num_timesteps=False)  # past the warm-up
    assert any(not torch.equal(a, b) for a, b in zip(_snapshot(actor), actor_before))
    with pytest.raises(ValueError, match="updates"):
        ValueWarmup(-1)


def test_gate_sets_the_weight_of_the_training_envs(redistributor, make_venv):
    venv = make_venv(redistributor, n_envs=2, progress=None)
    model = make_ppo(venv, SMALL, seed=0)
    gate = GateRedistribution(window=10, min_episodes=2)
    # episodes whose profile score orders their return backwards: the gate must distrust
    for score, episode_return in [(5.0, 0.0), (4.0, 0.2), (3.0, 0.4), (2.0, 0.6)]:
        gate.gate.add(score, episode_return)
    from stable_baselines3.common.logger import configure

    model.set_logger(configure(None, []))
    gate.init_callback(model)
    gate.on_rollout_end()
    assert gate.gate.weight == 0.0 and gate.history[-1][1:] == (0.0, 0.0)
    assert venv.env_method("get_wrapper_attr", "weight") == [0.0, 0.0]
    venv.close()


def test_weight_mixes_the_env_reward_back(redistributor):
    from rudder.envs.minigrid_tasks import make_minigrid_env
    from rudder.wrappers import RedistributedReward

    rewards = {}
    for weight in (1.0, 0.0, 0.25):
        env = RedistributedReward(make_minigrid_env("MiniGrid-KeyCorridorS3R3-v0"), redistributor)
        env.set_weight(weight)
        env.reset(seed=3)
        paid, original = [], []
        for action in np.random.default_rng(0).integers(0, 3, size=200):
            _, reward, terminated, truncated, info = env.step(int(action))
            paid.append(reward)
            original.append(info["original_reward"])
            if terminated or truncated:
                break
        rewards[weight] = (np.array(paid), np.array(original))
    full, original = rewards[1.0]
    np.testing.assert_array_equal(rewards[0.0][0], original)
    np.testing.assert_allclose(rewards[0.25][0], 0.25 * full + 0.75 * original)
    with pytest.raises(ValueError, match="weight"):
        env.set_weight(1.5)


def test_train_sb3_runs_the_safeguards_by_default(demos):
    from rudder.agents.sb3 import BehaviorCloningSettings, SB3RunSettings, train_sb3
    from rudder.envs.minigrid_tasks import interaction_encoder, make_minigrid_env

    settings = SB3RunSettings(
        method="align-rudder", total_timesteps=128, n_envs=2, eval_every=128, eval_episodes=1,
        target_success=None, behavior_cloning=BehaviorCloningSettings(epochs=1), ppo=SMALL,
    )
    assert settings.value_warmup == 4 and settings.gate and settings.subtask_agents is None
    outcome = train_sb3(
        functools.partial(make_minigrid_env, "MiniGrid-KeyCorridorS3R3-v0"), demos, settings=settings,
        encoder=interaction_encoder(), seed=0,
    )
    # a short consensus: one network, paid in the potential form with PPO's gamma
    assert outcome.controller is None
    assert outcome.redistributor.settings.form == "potential" and outcome.redistributor.settings.discount == SMALL.gamma


def test_a_change_of_the_gate_makes_the_next_updates_value_only(redistributor, make_venv):
    from stable_baselines3.common.callbacks import CallbackList

    venv = make_venv(redistributor, n_envs=2, progress=None)
    model = make_ppo(venv, SMALL, seed=0)
    warmup = ValueWarmup(0)
    gate = GateRedistribution(window=10, min_episodes=2, warmup=warmup, warmup_updates=2)
    for score, episode_return in [(5.0, 0.0), (4.0, 0.2), (3.0, 0.4), (2.0, 0.6)]:
        gate.gate.add(score, episode_return)  # a backwards ordering: the weight drops to 0
    actor = actor_only_parameters(model.policy)
    before = _snapshot(actor)
    model.learn(2 * 64, callback=CallbackList([gate, warmup]))
    assert gate.weight == 0.0 and warmup.updates == 2 and warmup.done == 2
    assert all(torch.equal(a, b) for a, b in zip(_snapshot(actor), before))  # the two updates after the change
    model.learn(64, callback=CallbackList([gate, warmup]), reset_num_timesteps=False)
    assert any(not torch.equal(a, b) for a, b in zip(_snapshot(actor), before))
    venv.close()


def test_cloning_between_updates_waits_for_the_warmup(demos):
    """keep_cloning and the value warm-up together: cloning steps leave a frozen actor alone."""
    from rudder.agents.sb3 import BehaviorCloningSettings, SB3RunSettings, train_sb3
    from rudder.envs.minigrid_tasks import make_minigrid_env

    settings = SB3RunSettings(
        method="bc-ppo", total_timesteps=192, n_envs=2, eval_every=10_000, eval_episodes=1, target_success=None,
        keep_cloning=1.0, value_warmup=2, behavior_cloning=BehaviorCloningSettings(epochs=1), ppo=SMALL,
    )
    outcome = train_sb3(functools.partial(make_minigrid_env, "MiniGrid-KeyCorridorS3R3-v0"), demos, settings=settings)
    assert outcome.timesteps >= 192
