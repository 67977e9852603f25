"""Behaviour cloning of an SB3 actor-critic policy."""

import dataclasses

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")


from rudder.agents.sb3 import (  # noqa: E402
    BehaviorCloningSettings,
    CloningRegularizer,
    behavior_cloning,
    discounted_returns_to_go,
)
from rudder.agents.sb3.cloning import _folds  # noqa: E402
from rudder.data import Episode  # noqa: E402


def test_discounted_returns_to_go_by_hand():
    np.testing.assert_allclose(discounted_returns_to_go([0.0, 0.0, 1.0], 0.5), [0.25, 0.5, 1.0])
    np.testing.assert_allclose(discounted_returns_to_go([1.0, 2.0, 3.0], 1.0), [6.0, 5.0, 3.0])


def test_cloning_learns_the_demonstrated_actions_and_values(corridor_episode, make_model):
    rng = np.random.default_rng(0)
    demos = [corridor_episode(rng) for _ in range(10)]
    model = make_model()
    history = behavior_cloning(
        model.policy, demos, settings=BehaviorCloningSettings(epochs=150, entropy_weight=0.0, gamma=0.9, folds=0), seed=0
    )
    assert history["accuracy"][-1] == 1.0
    assert history["policy_loss"][-1] < history["policy_loss"][0] / 5
    observations = np.eye(8, dtype=np.float32)
    actions, _ = model.predict(observations, deterministic=True)
    np.testing.assert_array_equal(actions, np.arange(8) % 2)
    assert history["value_loss"][-1] < history["value_loss"][0]


@pytest.mark.parametrize("folds", [0, 5], ids=["fixed epochs", "cross-validated epochs"])
def test_cloning_is_deterministic_given_the_seed(corridor_episode, make_model, folds):
    rng = np.random.default_rng(1)
    demos = [corridor_episode(rng) for _ in range(4)]
    first, second = make_model(seed=3), make_model(seed=3)
    settings = BehaviorCloningSettings(epochs=5, folds=folds)
    assert behavior_cloning(first.policy, demos, settings=settings, seed=1) == behavior_cloning(
        second.policy, demos, settings=settings, seed=1
    )
    for a, b in zip(first.policy.parameters(), second.policy.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_the_policy_after_k_epochs_is_the_policy_of_a_k_epoch_fit(corridor_episode, make_model):
    """Oracle: the copies that ``on_epoch`` lets a caller keep along a 6-epoch fit are the
    policies that fits of 2 and 5 epochs end with (the trials of ``cloning_trials``)."""
    rng = np.random.default_rng(4)
    demos = [corridor_episode(rng) for _ in range(4)]
    model = make_model(seed=2)
    kept, calls = {}, []

    def keep(epochs):
        calls.append(epochs)
        if epochs in (2, 5):
            kept[epochs] = {key: value.clone() for key, value in model.policy.state_dict().items()}

    behavior_cloning(model.policy, demos, settings=BehaviorCloningSettings(epochs=6), seed=1, on_epoch=keep)
    assert calls == [1, 2, 3, 4, 5, 6]
    for epochs in (2, 5):
        short = make_model(seed=2)
        behavior_cloning(short.policy, demos, settings=BehaviorCloningSettings(epochs=epochs), seed=1)
        for key, value in short.policy.state_dict().items():
            assert np.array_equal(value.numpy(), kept[epochs][key].numpy()), (epochs, key)
    assert not np.array_equal(kept[2]["action_net.weight"].numpy(), kept[5]["action_net.weight"].numpy())


def test_clear_errors(corridor_episode, make_model):
    rng = np.random.default_rng(2)
    demos = [corridor_episode(rng) for _ in range(2)]
    model = make_model()
    wrong = [Episode(observations=np.zeros((4, 5), np.float32), actions=np.zeros(3, int), rewards=np.zeros(3))]
    with pytest.raises(ValueError, match="policy expects"):
        behavior_cloning(model.policy, wrong)
    with pytest.raises(ValueError, match="entries"):
        behavior_cloning(model.policy, demos, rewards=[np.zeros(6)])
    with pytest.raises(ValueError, match="shape"):
        behavior_cloning(model.policy, demos, rewards=[np.zeros(5), np.zeros(6)])
    with pytest.raises(ValueError, match="epochs"):
        BehaviorCloningSettings(epochs=-1)


def test_returns_to_go_stop_at_the_ends():
    rewards = np.array([1.0, 0.0, 2.0, 0.0])
    assert discounted_returns_to_go(rewards, 0.5) == pytest.approx([1.5, 1.0, 2.0, 0.0])
    ends = np.array([False, True, False, False])
    assert discounted_returns_to_go(rewards, 0.5, ends=ends) == pytest.approx([1.0, 0.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="ends"):
        discounted_returns_to_go(rewards, 0.5, ends=np.zeros(3, dtype=bool))


def test_cloning_regularizer_pulls_the_policy_to_the_demonstrations(corridor_episode, make_model):
    rng = np.random.default_rng(0)
    demos = [corridor_episode(rng) for _ in range(10)]
    model = make_model()
    regularizer = CloningRegularizer(model.policy, demos, steps=20, batch_size=32, seed=0)
    first = regularizer()
    for _ in range(15):
        last = regularizer()
    assert last < first / 3
    actions, _ = model.predict(np.eye(8, dtype=np.float32), deterministic=True)
    np.testing.assert_array_equal(actions, np.arange(8) % 2)
    with pytest.raises(ValueError, match="weight"):
        CloningRegularizer(model.policy, demos, weight=0.0)


def test_the_cloned_actor_does_not_depend_on_the_value_targets(corridor_episode, make_model):
    """Clipping the actor's and the critic's gradients apart: with the same seed, value
    targets of any scale give the same actor (the policy's MLP has no shared layer)."""
    import torch

    rng = np.random.default_rng(2)
    demos = [corridor_episode(rng) for _ in range(6)]
    observations = np.eye(8, dtype=np.float32)
    probabilities = []
    for scale in (0.0, 1.0, 1000.0):
        model = make_model()
        rewards = [scale * np.ones(episode.length) for episode in demos]
        behavior_cloning(model.policy, demos, rewards=rewards, settings=BehaviorCloningSettings(epochs=20), seed=0)
        with torch.no_grad():
            tensor, _ = model.policy.obs_to_tensor(observations)
            probabilities.append(model.policy.get_distribution(tensor).distribution.probs.numpy())
    np.testing.assert_array_equal(probabilities[0], probabilities[1])
    np.testing.assert_array_equal(probabilities[0], probabilities[2])


def test_one_loss_is_clipped_as_clip_grad_norm_clips():
    import torch

    from rudder.agents.sb3.cloning import _add_clipped_gradients

    torch.manual_seed(0)
    layer = torch.nn.Linear(4, 3)
    inputs = torch.randn(16, 4)
    for max_norm in (1e-3, 1e3):
        layer.zero_grad()
        (100 * layer(inputs).square().mean()).backward()
        torch.nn.utils.clip_grad_norm_(layer.parameters(), max_norm)
        expected = [parameter.grad.clone() for parameter in layer.parameters()]
        layer.zero_grad(set_to_none=True)
        _add_clipped_gradients(list(layer.parameters()), [100 * layer(inputs).square().mean()], max_norm)
        for parameter, gradient in zip(layer.parameters(), expected):
            torch.testing.assert_close(parameter.grad, gradient)


def _noisy_episode(rng, length=6):
    """Actions that the observation does not tell (a coin), so that every epoch past the
    first few fits noise: the held-out likelihood gets worse."""
    positions = rng.integers(0, 8, size=length + 1)
    return Episode(
        observations=np.eye(8, dtype=np.float32)[positions],
        actions=rng.integers(0, 2, size=length),
        rewards=np.zeros(length),
        terminated=True,
    )


def test_cross_validation_stops_early_where_more_epochs_fit_noise(make_model):
    rng = np.random.default_rng(0)
    demos = [_noisy_episode(rng) for _ in range(10)]
    settings = BehaviorCloningSettings(epochs=60, learning_rate=1e-2, entropy_weight=0.0, folds=5)
    chosen = behavior_cloning(make_model().policy, demos, settings=settings, seed=0)
    fixed = behavior_cloning(make_model().policy, demos, settings=dataclasses.replace(settings, folds=0), seed=0)
    assert "holdout_loss" not in fixed and len(fixed["policy_loss"]) == 60
    held_out = chosen["holdout_loss"]
    assert len(held_out) == 60
    # the final fit runs for the epoch count with the lowest held-out loss, on every episode
    assert len(chosen["policy_loss"]) == int(np.argmin(held_out)) + 1 < 60
    assert held_out[-1] > min(held_out)
    # fitting noise for 60 epochs ends more sure of itself than the early stop
    assert fixed["policy_loss"][-1] < chosen["policy_loss"][-1]


def test_cross_validation_keeps_the_epochs_where_the_actions_generalise(corridor_episode, make_model):
    rng = np.random.default_rng(0)
    demos = [corridor_episode(rng) for _ in range(6)]
    history = behavior_cloning(
        make_model().policy, demos, settings=BehaviorCloningSettings(epochs=20, learning_rate=1e-2, folds=3), seed=0
    )
    assert len(history["holdout_loss"]) == 20
    assert len(history["policy_loss"]) >= 15  # the held-out likelihood keeps improving
    assert history["holdout_loss"][-1] < history["holdout_loss"][0] / 2


def test_cross_validation_folds_partition_the_groups_and_keep_each_group_whole():
    groups = np.array([0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6])  # each episode and its mirror image
    folds = _folds(groups, 5, seed=0)
    assert len(folds) == 5
    assert sorted(np.concatenate(folds).tolist()) == list(range(7))  # every group held out exactly once
    assert _folds(groups, 5, seed=0)[0].tolist() == folds[0].tolist()  # seeded
    assert len(_folds(np.arange(4), 10, seed=0)) == 4  # at most one fold per group
    assert _folds(np.arange(2), 5, seed=0) == []  # too few episodes to hold any out
    assert _folds(np.arange(10), 1, seed=0) == []


def test_cloning_with_groups_checks_their_number(corridor_episode, make_model):
    rng = np.random.default_rng(2)
    demos = [corridor_episode(rng) for _ in range(3)]
    with pytest.raises(ValueError, match="groups"):
        behavior_cloning(make_model().policy, demos, groups=[0, 1])
    with pytest.raises(ValueError, match="folds"):
        BehaviorCloningSettings(folds=-1)


def test_max_updates_caps_the_epochs_by_hand():
    settings = BehaviorCloningSettings(epochs=100, max_updates=4000)
    # 8,578 steps are 135 minibatches of 64: 30 epochs (4,050 minibatch steps) are the
    # fewest whole epochs that take 4,000; 29 would take 3,915
    assert settings.epochs_for(8578) == 30
    # 199 steps are 4 minibatches: 1,000 epochs would take 4,000, so the 100 of `epochs` stay
    assert settings.epochs_for(199) == 100
    assert BehaviorCloningSettings(epochs=100, max_updates=1).epochs_for(10_000) == 1
    assert BehaviorCloningSettings(epochs=100, max_updates=None).epochs_for(10**9) == 100
    assert BehaviorCloningSettings().epochs_for(8578) == 30  # the defaults: 100 epochs, 4,000 steps
    assert BehaviorCloningSettings(epochs=0, max_updates=5).epochs_for(100) == 0
    with pytest.raises(ValueError, match="max_updates"):
        BehaviorCloningSettings(max_updates=0)


def test_a_fit_capped_by_max_updates_is_a_fit_of_that_many_epochs(corridor_episode, make_model):
    """Oracle: 4 episodes of 6 steps are 3 minibatches of 8; at most 7 minibatch steps
    leaves 3 of the 10 epochs, and the fit is the one of 3 epochs."""
    rng = np.random.default_rng(5)
    demos = [corridor_episode(rng) for _ in range(4)]
    capped, plain = make_model(seed=4), make_model(seed=4)
    settings = BehaviorCloningSettings(epochs=10, batch_size=8, max_updates=7)
    assert settings.epochs_for(24) == 3
    history = behavior_cloning(capped.policy, demos, settings=settings, seed=2)
    assert len(history["policy_loss"]) == 3
    assert history == behavior_cloning(
        plain.policy, demos, settings=dataclasses.replace(settings, epochs=3, max_updates=None), seed=2
    )
    for a, b in zip(capped.policy.parameters(), plain.policy.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_weight_decay_shrinks_the_weights(corridor_episode, make_model):
    rng = np.random.default_rng(6)
    demos = [corridor_episode(rng) for _ in range(4)]
    norms = {}
    for decay in (0.0, 5.0):
        model = make_model(seed=1)
        behavior_cloning(model.policy, demos, settings=BehaviorCloningSettings(epochs=20, weight_decay=decay), seed=0)
        norms[decay] = float(sum((parameter.detach() ** 2).sum() for parameter in model.policy.parameters()))
    assert norms[5.0] < 0.9 * norms[0.0]  # 60 AdamW steps, each shrinking the weights by lr x 5
    with pytest.raises(ValueError, match="weight_decay"):
        BehaviorCloningSettings(weight_decay=-0.1)
