"""RUDDER's LSTM return decomposition: credit assignment, return equivalence, the gate, files."""

import json

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from rudder.data import Episode  # noqa: E402
from rudder.errors import DataFormatError, FormatVersionError  # noqa: E402
from rudder.redistribution import LessonsBuffer, LSTMRedistributor  # noqa: E402
from rudder.redistribution.lstm import (  # noqa: E402
    ReturnDecompositionModel,
    RudderLSTMCell,
    StepFeatures,
    decomposition_loss,
)

OBSERVATIONS, ACTIONS, LENGTH = gym.spaces.Discrete(5), gym.spaces.Discrete(10), 25


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def button_episodes(count, rng):
    """Random walks; at one early step k (2..6) the agent sees the button (state 4), and the
    return, paid at the last step, is 1 if it pressed (action 1) right then. A random
    policy presses with probability 0.1."""
    made = []
    for _ in range(count):
        observations = rng.integers(0, 4, size=LENGTH + 1)
        step = int(rng.integers(2, 7))
        observations[step] = 4
        actions = rng.integers(0, 10, size=LENGTH)
        rewards = np.zeros(LENGTH)
        rewards[-1] = float(actions[step] == 1)
        made.append((Episode(observations=observations, actions=actions, rewards=rewards, terminated=True), step))
    return made


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    train = button_episodes(400, rng)
    models = {
        cell: LSTMRedistributor(OBSERVATIONS, ACTIONS, cell=cell, epochs=100, batch_size=32).fit([e for e, _ in train])
        for cell in ("lstm", "rudder")
    }
    return models, button_episodes(200, rng)


@pytest.fixture(scope="module")
def fitted():
    """Briefly fitted models (a few epochs) with the quality gate always open, so that the
    decomposition itself is used: enough for properties that hold for any weights (online
    equals offline, return equivalence, save and load)."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    train = button_episodes(64, rng)
    models = {
        cell: LSTMRedistributor(
            OBSERVATIONS, ACTIONS, cell=cell, epochs=3, batch_size=32, quality_threshold=1e9
        ).fit([e for e, _ in train])
        for cell in ("lstm", "rudder")
    }
    assert all(model.is_reliable for model in models.values())
    return models, button_episodes(40, rng)


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "rudder"])
def test_the_return_lands_on_the_decisive_step(trained, cell):
    models, test = trained
    model = models[cell]
    assert model.is_reliable and model.relative_error < 0.05
    at_event = total = 0.0
    for episode, step in test:
        rewards = model.redistribute(episode)
        if episode.episode_return > 0:
            at_event += rewards[step]
            total += episode.episode_return
    assert total > 0
    assert at_event / total >= 0.8


@pytest.mark.parametrize("cell", ["lstm", "rudder"])
def test_online_equals_offline_and_sums_to_the_return(fitted, cell):
    models, test = fitted
    model = models[cell]
    for episode, _ in test[:20]:
        offline = model.redistribute(episode)
        state = model.start(episode.observations[0])
        online = [
            state.step(episode.observations[t], episode.actions[t], episode.observations[t + 1],
                       episode.rewards[t], t == episode.length - 1, False, {})
            for t in range(episode.length)
        ]
        np.testing.assert_allclose(online, offline, atol=1e-5)
        assert abs(np.sum(online) - episode.episode_return) <= 1e-6
        assert abs(offline.sum() - episode.episode_return) <= 1e-6


@settings(max_examples=40, deadline=None)
@given(
    rewards=st.lists(st.floats(-5, 5, allow_nan=False, width=32), min_size=1, max_size=30),
    seed=st.integers(0, 2**16),
)
def test_return_equivalence_for_any_episode(fitted, rewards, seed):
    models, _ = fitted
    rng = np.random.default_rng(seed)
    length = len(rewards)
    episode = Episode(
        observations=rng.integers(0, 5, size=length + 1), actions=rng.integers(0, 10, size=length),
        rewards=np.array(rewards), truncated=True,
    )
    for model in models.values():
        redistributed = model.redistribute(episode)
        assert abs(redistributed.sum() - episode.episode_return) <= 1e-6 * max(1.0, np.abs(rewards).sum())


def test_loss_is_a_true_mean_of_squares():
    predictions = torch.tensor([[0.0, 1.0, 3.0], [2.0, 0.0, 0.0]])
    returns = torch.tensor([1.0, 4.0])
    mask = torch.tensor([[True, True, True], [True, False, False]])
    lengths = torch.tensor([3, 1])
    loss, main = decomposition_loss(predictions, returns, mask, lengths, aux_weight=0.5)
    # final errors: (3 - 1)^2 = 4 and (2 - 4)^2 = 4; per-step: (1 + 0 + 4) / 3 and 4 / 1
    np.testing.assert_allclose(main.numpy(), [4.0, 4.0])
    assert float(loss) == pytest.approx(4.0 + 0.5 * ((5 / 3 + 4.0) / 2))


def test_rudder_cell_counts_without_forgetting():
    cell = RudderLSTMCell(2, 1)
    with torch.no_grad():
        cell.cell_input.weight[:] = torch.tensor([[10.0, 0.0]])
        cell.cell_input.bias[:] = 0.0
        cell.input_gate.weight[:] = 0.0
        cell.input_gate.bias[:] = 100.0  # gate open
    inputs = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]])
    outputs, last = cell(inputs)
    # tanh(10) ~ 1 is added for each step with the first feature on; nothing is forgotten
    np.testing.assert_allclose(outputs[0, :, 0].detach().numpy(), [np.tanh(10), np.tanh(10), 2 * np.tanh(10)], rtol=1e-6)


def test_the_gate_passes_the_env_reward_until_the_model_is_good():
    rng = np.random.default_rng(1)
    episodes = [episode for episode, _ in button_episodes(40, rng)]
    model = LSTMRedistributor(OBSERVATIONS, ACTIONS, epochs=0)
    assert not model.is_reliable
    np.testing.assert_array_equal(model.redistribute(episodes[0]), episodes[0].rewards)
    strict = LSTMRedistributor(OBSERVATIONS, ACTIONS, epochs=1, quality_threshold=0.0).fit(episodes)
    assert strict.is_trained and not strict.is_reliable
    np.testing.assert_array_equal(strict.redistribute(episodes[1]), episodes[1].rewards)


def test_no_return_variance_is_refused():
    episode = Episode(observations=np.zeros(4, int), actions=np.zeros(3, int), rewards=np.zeros(3), terminated=True)
    with pytest.raises(ValueError, match="return variance"):
        LSTMRedistributor(OBSERVATIONS, ACTIONS).fit([episode, episode])


def test_features_of_box_and_dict_spaces():
    box = StepFeatures(gym.spaces.Box(-1, 1, (2, 2)), gym.spaces.Discrete(3))
    assert box.size == 4 * 2 + 3
    np.testing.assert_array_equal(
        box.step(np.zeros((2, 2)), 2, np.ones((2, 2))), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    )
    mapping = StepFeatures(gym.spaces.Dict({"a": gym.spaces.Discrete(2), "b": gym.spaces.Box(0, 1, (1,))}),
                           gym.spaces.Box(-1, 1, (1,)), differences=False)
    assert mapping.size == 3 + 1
    with pytest.raises(TypeError, match="Discrete, MultiDiscrete"):
        StepFeatures(gym.spaces.MultiBinary(3), gym.spaces.Discrete(2))


def test_save_and_load(fitted, tmp_path):
    models, test = fitted
    model = models["rudder"]
    model.save(tmp_path / "model")
    loaded = LSTMRedistributor.load(tmp_path / "model")
    assert loaded.settings == model.settings and loaded.relative_error == model.relative_error
    for episode, _ in test[:5]:
        np.testing.assert_array_equal(loaded.redistribute(episode), model.redistribute(episode))
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    config["format_version"] = 99
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    with pytest.raises(FormatVersionError, match="upgrade"):
        LSTMRedistributor.load(tmp_path / "model")
    (tmp_path / "model" / "config.json").write_text("{not json")
    with pytest.raises(DataFormatError):
        LSTMRedistributor.load(tmp_path / "model")
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        model.save(other)
    assert (other / "keep.txt").read_text() == "x"


def test_lessons_buffer_keeps_the_hardest_episodes():
    rng = np.random.default_rng(2)
    episodes = [episode for episode, _ in button_episodes(6, rng)]
    buffer = LessonsBuffer(3, seed=0)
    for episode, loss in zip(episodes[:3], (0.5, 0.1, 0.9)):
        assert buffer.add(episode, loss)
    assert not buffer.add(episodes[3], 0.05)  # easier than all kept ones
    assert buffer.add(episodes[4], 0.7)  # replaces the 0.1 one
    np.testing.assert_allclose(sorted(buffer.priorities), [0.5, 0.7, 0.9])
    probabilities = buffer.probabilities()
    assert probabilities.sum() == pytest.approx(1.0) and probabilities[np.argmax(buffer.priorities)] == probabilities.max()
    assert buffer.add(episodes[5])  # a new episode without a loss is replayed first
    index, sampled = buffer.sample(5)
    assert all(sample is episodes[5] for sample in sampled)
    buffer.update_priorities(index[:1], [0.0])
    with pytest.raises(ValueError, match="capacity"):
        LessonsBuffer(0)


def test_multi_discrete_observations_are_one_hot_per_component():
    features = StepFeatures(gym.spaces.MultiDiscrete([3, 2]), gym.spaces.Discrete(2), differences=False)
    assert features.size == 3 + 2 + 2
    np.testing.assert_array_equal(features.step(np.array([2, 0]), 1, np.array([0, 1])), [0, 0, 1, 1, 0, 0, 1])


def test_integrated_gradients_are_complete_on_a_smooth_model():
    rng = np.random.default_rng(3)
    episodes = [episode for episode, _ in button_episodes(5, rng)]
    model = LSTMRedistributor(OBSERVATIONS, ACTIONS, epochs=0)  # small random weights: smooth
    for episode in episodes:
        attribution = model.integrated_gradients(episode, steps=256)
        with torch.no_grad():
            baseline, _ = model.model(torch.zeros(1, episode.length, model.features.size))
        explained = model.predictions(episode)[-1] - float(baseline[0, -1]) * model.return_scale
        assert attribution.shape == (episode.length,)
        assert attribution.sum() == pytest.approx(explained, abs=1e-3)


def test_integrated_gradient_redistribution_sums_to_the_return(fitted):
    models, test = fitted
    for episode, _ in test[:10]:
        rewards = models["lstm"].redistribute(episode, method="integrated_gradients")
        assert abs(rewards.sum() - episode.episode_return) <= 1e-6
    with pytest.raises(ValueError, match="method"):
        models["lstm"].redistribute(test[0][0], method="shapley")


def test_a_threshold_a_saved_file_cannot_keep_is_refused_at_construction():
    with pytest.raises(ValueError, match="finite"):
        LSTMRedistributor(OBSERVATIONS, ACTIONS, quality_threshold=float("inf"))


def test_construction_leaves_torch_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    LSTMRedistributor(OBSERVATIONS, ACTIONS, seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_same_seed_same_model_and_training():
    rng = np.random.default_rng(4)
    episodes = [episode for episode, _ in button_episodes(24, rng)]
    first = LSTMRedistributor(OBSERVATIONS, ACTIONS, hidden_size=8, epochs=3, seed=5)
    second = LSTMRedistributor(OBSERVATIONS, ACTIONS, hidden_size=8, epochs=3, seed=5)
    other = LSTMRedistributor(OBSERVATIONS, ACTIONS, hidden_size=8, epochs=3, seed=6)
    # the weights are those torch's generator gives right after manual_seed(seed)
    torch.manual_seed(5)
    reference = ReturnDecompositionModel(first.features.size, 8, "lstm")
    for name, weights in first.model.state_dict().items():
        assert torch.equal(weights, second.model.state_dict()[name])
        assert torch.equal(weights, reference.state_dict()[name])
    assert not all(torch.equal(w, other.model.state_dict()[n]) for n, w in first.model.state_dict().items())
    first.fit(episodes)
    second.fit(episodes)
    assert first.history == second.history
    np.testing.assert_array_equal(first.predictions(episodes[0]), second.predictions(episodes[0]))


def test_is_fitted_means_fitted():
    rng = np.random.default_rng(5)
    episodes = [episode for episode, _ in button_episodes(8, rng)]
    model = LSTMRedistributor(OBSERVATIONS, ACTIONS, hidden_size=4, epochs=1)
    assert not model.is_fitted and model.is_ready
    model.fit(episodes)
    assert model.is_fitted and model.is_trained and model.is_ready


def _retrain_as_the_callers_did(model, lessons, sample_size, epochs):
    """The retraining step as agents/training.py, agents/callbacks.py and bench_delay.py wrote it."""
    if not lessons.has_return_variance():
        return False
    index, sample = lessons.sample(sample_size)
    if model.is_trained or np.ptp([e.episode_return for e in sample]) > 0:
        model.fit(sample, epochs=epochs)
        lessons.update_priorities(index, model.episode_losses(sample))
        return True
    return False


def test_learn_from_is_the_callers_retraining_step():
    rng = np.random.default_rng(6)
    episodes = [episode for episode, _ in button_episodes(300, rng)]
    won = [episode for episode in episodes if episode.episode_return > 0][:8]
    lost = [episode for episode in episodes if episode.episode_return == 0][:32]
    stream = [(won + lost)[i] for i in rng.permutation(40)]
    ours, theirs = (LSTMRedistributor(OBSERVATIONS, ACTIONS, hidden_size=8, seed=1) for _ in range(2))
    our_lessons, their_lessons = LessonsBuffer(16, seed=3), LessonsBuffer(16, seed=3)
    fitted = []
    for number, episode in enumerate(stream):
        priority = ours.lesson_priority(episode)
        expected = float(theirs.episode_losses([episode])[0]) if theirs.is_trained else None
        assert priority == expected
        our_lessons.add(episode, priority)
        their_lessons.add(episode, expected)
        if number % 5 == 4:
            learned = ours.learn_from(our_lessons, sample_size=8, epochs=2)
            assert learned == _retrain_as_the_callers_did(theirs, their_lessons, 8, 2)
            fitted.append(learned)
    assert any(fitted) and ours.is_trained
    np.testing.assert_array_equal(our_lessons.priorities, their_lessons.priorities)
    assert ours.history == theirs.history
    np.testing.assert_array_equal(ours.predictions(stream[0]), theirs.predictions(stream[0]))
    assert ours.lesson_priority(stream[0]) == pytest.approx(float(ours.episode_losses([stream[0]])[0]))


def test_learn_from_needs_return_variance():
    rng = np.random.default_rng(7)
    episodes = [episode for episode, _ in button_episodes(40, rng)]
    won = [episode for episode in episodes if episode.episode_return > 0][:2]
    lost = [episode for episode in episodes if episode.episode_return == 0][:2]
    model = LSTMRedistributor(OBSERVATIONS, ACTIONS, hidden_size=4)
    assert model.lesson_priority(won[0]) is None
    same = LessonsBuffer(4)
    for episode in lost:
        same.add(episode)
    assert not model.learn_from(same, sample_size=4, epochs=1)
    # The buffer varies, but a new episode (priority inf) takes every draw: the sample does not.
    skewed = LessonsBuffer(4)
    skewed.add(won[0], 1.0)
    skewed.add(lost[0])
    assert not model.learn_from(skewed, sample_size=4, epochs=1)
    assert not model.is_trained and model.updates == 0
    skewed.add(won[1])
    assert model.learn_from(skewed, sample_size=16, epochs=1) and model.is_trained
    assert np.isfinite(skewed.priorities).sum() >= 2
