"""Issue 16, item 2: a model file with corrupt values is refused, never trusted.

NaN or Infinity in any number of ``model.json``, a non-bool where a bool belongs,
alignment ids outside the alphabet or the demonstrations: every one is a
``DataFormatError`` that names the file and the field. And ``fit`` never writes a
non-finite scale.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rudder import CallableEventEncoder, Episode
from rudder.envs import frozen_lake_demonstrations
from rudder.errors import DataFormatError
from rudder.events import StateClusterEncoder
from rudder.redistribution import AlignmentRedistributor, load_redistributor


def entered(observation, action, next_observation, info):
    return int(next_observation)


def demonstration(final_reward=1.0):
    return Episode(observations=np.array([0, 1, 2, 3]), actions=np.zeros(3, dtype=int),
                   rewards=np.array([0.0, 0.0, final_reward]), terminated=True)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "model"
    AlignmentRedistributor(StateClusterEncoder(seed=0)).fit(frozen_lake_demonstrations(4, seed=0)).save(path)
    return path


def copy_with(saved_model, tmp_path, change):
    """A copy of ``saved_model`` whose model.json ``change`` edited in place."""
    path = tmp_path / "model"
    path.mkdir()
    for file in saved_model.iterdir():
        (path / file.name).write_bytes(file.read_bytes())
    config = json.loads((path / "model.json").read_text())
    change(config)
    (path / "model.json").write_text(json.dumps(config))
    return path


def refused(path, *fragments):
    with pytest.raises(DataFormatError) as raised:
        load_redistributor(path)
    message = str(raised.value)
    assert "model.json" in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_a_saved_model_still_loads(saved_model):
    assert isinstance(load_redistributor(saved_model), AlignmentRedistributor)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("field", ["scale", "gap_score"])
def test_non_finite_top_level_numbers_are_refused(saved_model, tmp_path, field, value):
    refused(copy_with(saved_model, tmp_path, lambda config: config.update({field: value})), field)


@pytest.mark.parametrize("field", ["scale", "gap_score"])
def test_top_level_numbers_of_another_type_are_refused(saved_model, tmp_path, field):
    refused(copy_with(saved_model, tmp_path, lambda config: config.update({field: "1.5"})), field)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize(
    "field",
    ["delete_score", "insert_score", "pseudocount", "match_scale", "mismatch_score", "gap_score",
     "consensus_threshold", "env_reward_weight", "discount"],
)
def test_non_finite_settings_are_refused(saved_model, tmp_path, field, value):
    refused(copy_with(saved_model, tmp_path, lambda config: config["settings"].update({field: value})), field)


@pytest.mark.parametrize("field", ["correction", "delete_by_occupancy"])
@pytest.mark.parametrize("value", ["no", 0, 1, None])
def test_non_bool_for_a_bool_setting_is_refused(saved_model, tmp_path, field, value):
    refused(copy_with(saved_model, tmp_path, lambda config: config["settings"].update({field: value})), field)


def test_an_unknown_settings_key_is_refused(saved_model, tmp_path):
    refused(copy_with(saved_model, tmp_path, lambda config: config["settings"].update({"colour": 1})), "colour")


def test_settings_that_are_not_an_object_are_refused(saved_model, tmp_path):
    refused(copy_with(saved_model, tmp_path, lambda config: config.update({"settings": [1, 2]})), "settings")


def rewrite_arrays(saved_model, tmp_path, **replaced):
    path = copy_with(saved_model, tmp_path, lambda config: None)
    with np.load(path / "arrays.npz") as data:
        arrays = {key: data[key] for key in data.files}
    arrays.update(replaced)
    np.savez_compressed(path / "arrays.npz", **arrays)
    return path


def test_alignment_event_ids_outside_the_alphabet_are_refused(saved_model, tmp_path):
    with np.load(saved_model / "arrays.npz") as data:
        rows = data["alignment_rows"].copy()
    rows[0, 0] = 10**6
    with pytest.raises(DataFormatError, match="alignment_rows") as raised:
        load_redistributor(rewrite_arrays(saved_model, tmp_path, alignment_rows=rows))
    assert "arrays.npz" in str(raised.value)


@pytest.mark.parametrize("bad", [-1, 4, 10**6])  # 4 demonstrations: ids 0 .. 3
def test_aligned_demonstration_ids_out_of_range_are_refused(saved_model, tmp_path, bad):
    with np.load(saved_model / "arrays.npz") as data:
        aligned = data["aligned_demos"].copy()
    aligned[0] = bad
    with pytest.raises(DataFormatError, match="aligned_demos"):
        load_redistributor(rewrite_arrays(saved_model, tmp_path, aligned_demos=aligned))


@pytest.mark.parametrize("name", ["demo_returns", "demo_scores", "background"])
def test_non_finite_arrays_are_refused(saved_model, tmp_path, name):
    with np.load(saved_model / "arrays.npz") as data:
        array = data[name].astype(np.float64)
    array[0] = np.nan
    with pytest.raises(DataFormatError, match=name):
        load_redistributor(rewrite_arrays(saved_model, tmp_path, **{name: array}))


def test_fit_never_writes_a_non_finite_scale(tmp_path):
    # Each return is finite, but their mean overflows to infinity.
    demonstrations = [demonstration(1.7e308), demonstration(1.7e308)]
    redistributor = AlignmentRedistributor(CallableEventEncoder(entered))
    with pytest.raises(ValueError, match="not finite"):
        redistributor.fit(demonstrations)
    assert redistributor.scale == 1.0 and redistributor.scale_source is None
