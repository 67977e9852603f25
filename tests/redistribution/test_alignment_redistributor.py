"""Tests of the Align-RUDDER redistributor: return equivalence, golden values, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.data import Episode
from rudder.envs import frozen_lake_demonstrations
from rudder.errors import AlignmentError, DataFormatError, FormatVersionError, NotFittedError
from rudder.events import CallableEventEncoder, StateClusterEncoder
from rudder.redistribution import AlignmentRedistributor, load_redistributor


def observed_state(observation, action, next_observation, info):
    """Event = the next observation, for observations below 5 (5 means 'nothing')."""
    return int(next_observation) if int(next_observation) < 5 else None


def chain_episode(states, episode_return, *, terminated=True):
    rewards = np.zeros(len(states) - 1)
    rewards[-1] = episode_return
    return Episode(
        observations=np.asarray(states), actions=np.zeros(len(states) - 1, dtype=np.int64), rewards=rewards, terminated=terminated
    )


@pytest.fixture(scope="module")
def frozen_lake_redistributor():
    demonstrations = frozen_lake_demonstrations(5, seed=0)
    return AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(demonstrations), demonstrations


def test_golden_redistribution():
    # Two identical demonstrations emit events 0, 1, 2 (alphabet {0, 1, 2}), return 1.
    # Frequencies 1/3 each; profile of n=2 rows, pseudocount 1: a matched column scores
    # ln(((2 + 1/3) / 3) / (1/3)) = ln(7/3). Demo gain 3 ln(7/3); C = 1 / (3 ln(7/3)).
    demos = [chain_episode([5, 0, 1, 2], 1.0), chain_episode([5, 0, 1, 2], 1.0)]
    redistributor = AlignmentRedistributor(CallableEventEncoder(observed_state)).fit(demos)
    assert redistributor.scale == pytest.approx(1.0 / (3.0 * math.log(7.0 / 3.0)))
    np.testing.assert_allclose(redistributor.redistribute(demos[0]), [1 / 3, 1 / 3, 1 / 3])
    # An episode that skips event 1 and ends with return 0.5: 1/3 for event 0, nothing for
    # the "no event" step, 1/3 for event 2, then the correction 0.5 - 2/3 = -1/6.
    episode = chain_episode([5, 0, 5, 2], 0.5)
    np.testing.assert_allclose(redistributor.redistribute(episode), [1 / 3, 0.0, 1 / 3 - 1 / 6])
    # Without the correction the sum is not the return.
    uncorrected = AlignmentRedistributor(CallableEventEncoder(observed_state), correction=False).fit(demos)
    np.testing.assert_allclose(uncorrected.redistribute(episode), [1 / 3, 0.0, 1 / 3])
    # Mixed with the env reward: (1 - w) R + w r.
    mixed = AlignmentRedistributor(CallableEventEncoder(observed_state), env_reward_weight=0.25).fit(demos)
    np.testing.assert_allclose(mixed.redistribute(episode), [0.75 / 3, 0.0, 0.75 / 6 + 0.25 * 0.5])


@st.composite
def random_episodes(draw):
    length = draw(st.integers(1, 60))
    states = draw(st.lists(st.integers(0, 63), min_size=length + 1, max_size=length + 1))
    rewards = draw(
        st.lists(
            st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), min_size=length, max_size=length
        )
    )
    terminated = draw(st.booleans())
    return Episode(
        observations=np.asarray(states),
        actions=np.zeros(length, dtype=np.int64),
        rewards=np.asarray(rewards),
        terminated=terminated,
        truncated=not terminated,
    )


@settings(max_examples=150, deadline=None)
@given(episode=random_episodes(), weight=st.sampled_from([0.0, 0.3]))
def test_redistributed_rewards_sum_to_return(frozen_lake_redistributor, episode, weight):
    redistributor, _ = frozen_lake_redistributor
    redistributor.settings = type(redistributor.settings)(env_reward_weight=weight)
    try:
        rewards = redistributor.redistribute(episode)
    finally:
        redistributor.settings = type(redistributor.settings)()
    assert rewards.shape == (episode.length,)
    assert abs(rewards.sum() - episode.episode_return) <= 1e-9 * max(1.0, np.abs(episode.rewards).sum())


def test_demonstrations_get_reward_before_the_end(frozen_lake_redistributor):
    redistributor, demonstrations = frozen_lake_redistributor
    for demo in demonstrations:
        rewards = redistributor.redistribute(demo)
        assert rewards.sum() == pytest.approx(demo.episode_return, abs=1e-12)
        # The env pays only at the last step; the redistribution pays most of it earlier.
        assert rewards[:-1].sum() > 0.5 * demo.episode_return


def test_same_seed_same_profile():
    demonstrations = frozen_lake_demonstrations(4, seed=3)
    first = AlignmentRedistributor(StateClusterEncoder(seed=1)).fit(demonstrations)
    second = AlignmentRedistributor(StateClusterEncoder(seed=1)).fit(demonstrations)
    np.testing.assert_array_equal(first.alignment.rows, second.alignment.rows)
    np.testing.assert_array_equal(first.profile.scores, second.profile.scores)
    assert first.scale == second.scale


def test_save_load_identical_rewards(tmp_path, frozen_lake_redistributor):
    redistributor, demonstrations = frozen_lake_redistributor
    redistributor.save(tmp_path / "model")
    loaded = load_redistributor(tmp_path / "model")
    for demo in demonstrations:
        np.testing.assert_array_equal(loaded.redistribute(demo), redistributor.redistribute(demo))
    np.testing.assert_array_equal(loaded.profile.scores, redistributor.profile.scores)
    # Saving again over an existing model replaces it.
    loaded.save(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [".align-rudder", "arrays.npz", "model.json"]


def test_models_saved_before_occupancy_deletes_load_with_constant_deletes(tmp_path):
    demonstrations = frozen_lake_demonstrations(5, seed=0)
    redistributor = AlignmentRedistributor(StateClusterEncoder(seed=0), delete_score=-1.0).fit(demonstrations)
    assert redistributor.profile.delete_by_occupancy
    redistributor.save(tmp_path / "model")
    assert load_redistributor(tmp_path / "model").profile.delete_by_occupancy
    config = json.loads((tmp_path / "model" / "model.json").read_text())
    del config["settings"]["delete_by_occupancy"]  # as written by earlier versions
    (tmp_path / "model" / "model.json").write_text(json.dumps(config))
    old = load_redistributor(tmp_path / "model")
    assert not old.settings.delete_by_occupancy and not old.profile.delete_by_occupancy
    np.testing.assert_array_equal(old.profile.column_delete_scores, np.full(old.profile.length, -1.0))


def test_save_refuses_foreign_directory(tmp_path, frozen_lake_redistributor):
    redistributor, _ = frozen_lake_redistributor
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not an align-rudder model directory"):
        redistributor.save(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_load_newer_version_and_corrupt_files(tmp_path, frozen_lake_redistributor):
    redistributor, _ = frozen_lake_redistributor
    path = tmp_path / "model"
    redistributor.save(path)
    config = json.loads((path / "model.json").read_text())
    config["format_version"] += 1
    (path / "model.json").write_text(json.dumps(config))
    with pytest.raises(FormatVersionError, match="upgrade align-rudder"):
        load_redistributor(path)
    config["format_version"] -= 1
    (path / "model.json").write_text(json.dumps(config))
    data = (path / "arrays.npz").read_bytes()
    (path / "arrays.npz").write_bytes(data[: len(data) // 3])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        load_redistributor(path)
    (path / "model.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="not valid JSON"):
        load_redistributor(path)
    with pytest.raises(FileNotFoundError, match="no align-rudder model"):
        load_redistributor(tmp_path / "absent")


def test_single_demonstration_gives_a_working_profile():
    demo = chain_episode([5, 0, 1, 2, 3], 2.0)
    redistributor = AlignmentRedistributor(CallableEventEncoder(observed_state)).fit([demo])
    assert redistributor.alignment.num_sequences == 1
    rewards = redistributor.redistribute(demo)
    np.testing.assert_allclose(rewards, [0.5, 0.5, 0.5, 0.5])


def test_no_demonstrations():
    with pytest.raises(ValueError, match="`demonstrations` is empty"):
        AlignmentRedistributor(StateClusterEncoder()).fit([])


def test_demonstrations_without_events():
    demos = [chain_episode([5, 6, 7], 1.0), chain_episode([5, 5, 6], 1.0)]
    with pytest.raises((AlignmentError, ValueError), match="event"):
        AlignmentRedistributor(CallableEventEncoder(observed_state)).fit(demos)


def test_mismatched_observation_shapes():
    demos = [
        Episode(observations=np.zeros((3, 2)), actions=np.zeros(2), rewards=np.ones(2), terminated=True),
        Episode(observations=np.zeros((3, 4)), actions=np.zeros(2), rewards=np.ones(2), terminated=True),
    ]
    with pytest.raises(ValueError, match="mismatched shapes"):
        AlignmentRedistributor(StateClusterEncoder()).fit(demos)


def test_unseen_event_at_run_time_scores_as_mismatch():
    demos = [chain_episode([5, 0, 1, 2], 1.0), chain_episode([5, 0, 2, 1], 1.0)]

    def with_new_events(observation, action, next_observation, info):
        return int(next_observation)  # 5, 6, 7 ... were never seen as events

    redistributor = AlignmentRedistributor(CallableEventEncoder(with_new_events)).fit(demos)
    episode = chain_episode([5, 7, 0, 9, 1, 8], 1.0)
    rewards = redistributor.redistribute(episode)
    assert rewards.sum() == pytest.approx(1.0)
    assert rewards[0] == 0.0 and rewards[2] == 0.0  # unseen events earn nothing


def test_not_fitted():
    redistributor = AlignmentRedistributor(StateClusterEncoder())
    with pytest.raises(NotFittedError, match="fit"):
        redistributor.redistribute(chain_episode([0, 1], 1.0))


def test_bad_settings():
    with pytest.raises(ValueError, match="scoring_form"):
        AlignmentRedistributor(StateClusterEncoder(), scoring_form="blosum")
    with pytest.raises(ValueError, match="env_reward_weight"):
        AlignmentRedistributor(StateClusterEncoder(), env_reward_weight=1.5)
    with pytest.raises(TypeError):
        AlignmentRedistributor(StateClusterEncoder(), no_such_setting=1)
