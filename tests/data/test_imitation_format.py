"""Tests of rudder.data.imitation_format: imitation's saved trajectories, read without imitation.

The files here are written the way ``imitation.data.serialize.save`` writes them
(``datasets.Dataset.from_dict(trajectories_to_dict(...)).save_to_disk(path)``): one Arrow
IPC stream ``data-00000-of-00001.arrow`` with a row per trajectory and the columns ``obs``
(T+1 rows), ``acts`` (T), ``infos`` (T jsonpickle strings), ``terminal`` (bool) and, with
rewards, ``rews`` (T floats); ``state.json`` names the data file.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from rudder.data import Episode
from rudder.data.imitation_format import load_imitation, save_imitation
from rudder.errors import DataFormatError


def write_like_imitation(path, trajectories, *, with_rewards: bool) -> None:
    """What datasets' save_to_disk writes for imitation's trajectories_to_dict."""
    path.mkdir()
    columns = {
        "obs": pa.array([t["obs"].tolist() for t in trajectories], type=pa.list_(pa.list_(pa.float32()))),
        "acts": pa.array([t["acts"].tolist() for t in trajectories], type=pa.list_(pa.int64())),
        "infos": pa.array([t["infos"] for t in trajectories], type=pa.list_(pa.string())),
        "terminal": pa.array([t["terminal"] for t in trajectories], type=pa.bool_()),
    }
    if with_rewards:
        columns["rews"] = pa.array([t["rews"].tolist() for t in trajectories], type=pa.list_(pa.float32()))
    features = {
        "obs": {"feature": {"feature": {"dtype": "float32", "_type": "Value"}, "_type": "Sequence"}, "_type": "Sequence"},
        "acts": {"feature": {"dtype": "int64", "_type": "Value"}, "_type": "Sequence"},
        "infos": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "Sequence"},
        "terminal": {"dtype": "bool", "_type": "Value"},
    }
    table = pa.table(columns).replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features}})})
    with pa.OSFile(str(path / "data-00000-of-00001.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=1)  # one record batch per trajectory, as datasets may write
    (path / "state.json").write_text(json.dumps({
        "_data_files": [{"filename": "data-00000-of-00001.arrow"}], "_fingerprint": "f", "_format_columns": None,
        "_format_kwargs": {}, "_format_type": None, "_output_all_columns": False, "_split": None,
    }))
    (path / "dataset_info.json").write_text(json.dumps({"features": features}))


def trajectories(rng):
    made = []
    for length, terminal in ((4, True), (2, False), (5, True)):
        infos = [
            json.dumps({"TimeLimit.truncated": False, "position": [step, step + 1],
                        "state": {"py/object": "numpy.ndarray", "dtype": "int64"}})
            for step in range(length)
        ]
        made.append({
            "obs": rng.normal(size=(length + 1, 3)).astype(np.float32),
            "acts": rng.integers(0, 4, size=length),
            "infos": infos,
            "terminal": terminal,
            "rews": rng.normal(size=length).astype(np.float32),
        })
    return made


@pytest.mark.parametrize("with_rewards", [True, False])
def test_reads_files_in_imitations_layout(tmp_path, with_rewards):
    made = trajectories(np.random.default_rng(0))
    write_like_imitation(tmp_path / "trajectories", made, with_rewards=with_rewards)
    episodes = load_imitation(tmp_path / "trajectories")
    assert [episode.length for episode in episodes] == [4, 2, 5]
    for trajectory, episode in zip(made, episodes):
        assert episode.observations.dtype == np.float32
        np.testing.assert_array_equal(episode.observations, trajectory["obs"])
        assert episode.actions.dtype == np.int64
        np.testing.assert_array_equal(episode.actions, trajectory["acts"])
        expected = trajectory["rews"].astype(np.float64) if with_rewards else np.zeros(len(trajectory["acts"]))
        np.testing.assert_array_equal(episode.rewards, expected)
        assert episode.terminated is trajectory["terminal"] and episode.truncated is (not trajectory["terminal"])
        # Plain JSON numbers and bools are carried; jsonpickle objects are not decoded.
        assert sorted(episode.infos) == ["TimeLimit.truncated", "position"]
        np.testing.assert_array_equal(episode.infos["position"], [[s, s + 1] for s in range(episode.length)])
        assert episode.infos["TimeLimit.truncated"].dtype == bool
    assert len(load_imitation(tmp_path / "trajectories", episodes=2)) == 2


@pytest.mark.parametrize("with_rewards", [True, False])
def test_round_trip(tmp_path, with_rewards):
    rng = np.random.default_rng(1)
    episodes = [
        Episode(
            observations=rng.integers(0, 9, size=(length + 1, 2, 2)), actions=rng.normal(size=(length, 2)).astype(np.float32),
            rewards=rng.normal(size=length) if with_rewards else np.zeros(length), terminated=bool(length % 2),
            truncated=not bool(length % 2), infos={"count": np.arange(length), "flag": np.arange(length) % 2 == 0},
        )
        for length in (1, 4, 7)
    ]
    save_imitation(episodes, tmp_path / "out", with_rewards=with_rewards)
    info = json.loads((tmp_path / "out" / "dataset_info.json").read_text())
    assert ("rews" in info["features"]) is with_rewards
    assert info["features"]["acts"] == {
        "feature": {"feature": {"dtype": "float32", "_type": "Value"}, "_type": "Sequence"}, "_type": "Sequence"
    }
    for first, second in zip(episodes, load_imitation(tmp_path / "out")):
        for name in ("observations", "actions", "rewards"):
            assert getattr(first, name).dtype == getattr(second, name).dtype
            np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
        assert (first.terminated, first.truncated) == (second.terminated, second.truncated)
        for key in ("count", "flag"):
            np.testing.assert_array_equal(first.infos[key], second.infos[key])


def test_old_npz_layout_without_pickle(tmp_path):
    observations = np.arange(14).reshape(7, 2).astype(np.float32)  # 3 + 4 observations, 2 + 3 actions
    np.savez(
        tmp_path / "old.npz", obs=observations, acts=np.array([0, 1, 2, 3, 0]), terminal=np.array([True, False]),
        indices=np.array([2]), rews=np.array([0.0, 1.0, 0.0, 0.0, 2.0]),
    )
    first, second = load_imitation(tmp_path / "old.npz")
    np.testing.assert_array_equal(first.observations, observations[:3])
    np.testing.assert_array_equal(second.observations, observations[3:])
    np.testing.assert_array_equal(second.actions, [2, 3, 0])
    np.testing.assert_array_equal(second.rewards, [0.0, 0.0, 2.0])
    assert first.terminated and second.truncated


def test_bad_input_names_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_imitation(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="no state.json"):
        load_imitation(tmp_path / "empty")
    table = pa.table({"obs": pa.array([[1.0, 2.0]])})
    (tmp_path / "other").mkdir()
    with pa.OSFile(str(tmp_path / "other" / "d.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.raises(DataFormatError, match="missing"):
        load_imitation(tmp_path / "other")
    with pytest.raises(ValueError, match="dict observations"):
        save_imitation([Episode(observations={"a": np.zeros(2)}, actions=[0], rewards=[0.0])], tmp_path / "x")
