"""Issue 16, items 3, 5, 6 and 9: files are never trusted.

Declared sizes are bounded before anything is allocated (a ``.npy`` header claiming 1e12
entries, ``Discrete(1e8)`` in an LSTM ``config.json``, a huge ``net_arch`` or ``n_steps``
in a checkpoint, MineRL video frames); raw exceptions of loaders become library errors
naming the file (empty ``flags``, ``num_episodes=0``, a pickled or random ``model.pt``
whose torch error suggests ``weights_only=False``, deep JSON in VPT lines); NaN item
counts are refused instead of dropped or turned into -9.2e18.
"""

from __future__ import annotations

import importlib.util
import io
import json
import struct
import sys
import types
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from rudder import Episode, load_episodes, save_episodes
from rudder.data.minerl import load_minerl_trajectory
from rudder.data.vpt import load_vpt_episode
from rudder.errors import DataFormatError
from rudder.events import InventoryEncoder
from rudder.redistribution import LSTMRedistributor, load_redistributor


def demonstration():
    return Episode(observations=np.array([0, 1, 2, 3]), actions=np.zeros(3, dtype=int),
                   rewards=np.array([0.0, 0.0, 1.0]), terminated=True)


def rewrite_npz(path, change):
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    change(arrays)
    np.savez(path, **arrays)


def minerl_files():
    spec = importlib.util.spec_from_file_location("minerl_files", Path(__file__).parents[1] / "data" / "minerl_files.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("minerl_files", module)
    spec.loader.exec_module(module)
    return module


# -- item 6: declared sizes are bounded ---------------------------------------------------
def test_an_npy_header_claiming_1e12_entries_is_refused_before_allocating(tmp_path):
    path = tmp_path / "episodes.npz"
    save_episodes(path, [demonstration()])
    header = repr({"descr": "<f8", "fortran_order": False, "shape": (10**12,)}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("1/rewards.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(16))
    with pytest.raises(DataFormatError, match=r"episodes.npz.*'1/rewards' declares shape \(1000000000000,\)"):
        load_episodes(path)


def test_arrays_declaring_more_than_the_limit_are_refused(tmp_path, monkeypatch):
    import rudder.data.io as data_io

    path = tmp_path / "episodes.npz"
    save_episodes(path, [demonstration()])
    monkeypatch.setattr(data_io.read_npz, "__kwdefaults__", {"max_bytes": 64, "fix": "write it again"})
    with pytest.raises(DataFormatError, match="more than 64 bytes of arrays"):
        load_episodes(path)


def lstm_config(tmp_path, change):
    path = tmp_path / "lstm"
    LSTMRedistributor(gym.spaces.Discrete(4), gym.spaces.Discrete(2), hidden_size=4).save(path)
    config = json.loads((path / "config.json").read_text())
    change(config)
    (path / "config.json").write_text(json.dumps(config))
    return path


@pytest.mark.parametrize("space", [{"type": "Discrete", "n": 10**8, "start": 0},
                                   {"type": "MultiDiscrete", "nvec": [10**6] * 3},
                                   {"type": "Box", "low": [0.0], "high": [1.0], "shape": [10**5, 10**5], "dtype": "float32"}])
def test_an_lstm_config_declaring_a_huge_space_is_refused(tmp_path, space):
    path = lstm_config(tmp_path, lambda config: config.update(observation_space=space))
    with pytest.raises(DataFormatError, match="config.json.*observation_space.*limit"):
        LSTMRedistributor.load(path)


def test_an_lstm_config_declaring_a_huge_hidden_size_is_refused(tmp_path):
    path = lstm_config(tmp_path, lambda config: config["settings"].update(hidden_size=10**6))
    with pytest.raises(DataFormatError, match="settings.hidden_size.*limit"):
        LSTMRedistributor.load(path)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rudder.agents.sb3 import PPOSettings, make_ppo, save_checkpoint

    small = PPOSettings(n_steps=16, batch_size=16, n_epochs=1, net_arch=(8,))
    venv = DummyVecEnv([lambda: gym.make("CartPole-v1")])
    path = tmp_path_factory.mktemp("checkpoints") / "checkpoint"
    save_checkpoint(path, make_ppo(venv, small, seed=0), small, seed=0)
    return path, venv


@pytest.mark.parametrize("field, value", [("net_arch", [10**6, 10**6]), ("n_steps", 10**12), ("net_arch", [8] * 1000)])
def test_a_checkpoint_declaring_huge_networks_or_rollouts_is_refused(checkpoint, tmp_path, field, value):
    from rudder.agents.sb3 import load_checkpoint

    source, venv = checkpoint
    path = tmp_path / "checkpoint"
    path.mkdir()
    for file in source.iterdir():
        (path / file.name).write_bytes(file.read_bytes())
    record = json.loads((path / "checkpoint.json").read_text())
    record["settings"][field] = value
    (path / "checkpoint.json").write_text(json.dumps(record))
    with pytest.raises(DataFormatError, match=rf"checkpoint.json.*settings.{field}"):
        load_checkpoint(path, venv)


def test_minerl_video_frames_above_the_limit_are_refused(tmp_path, monkeypatch):
    folder = minerl_files().write_trajectory(tmp_path / "v3_a", metadata={"true_video_frame_count": 4})
    (folder / "recording.mp4").write_bytes(b"not read")

    class Capture:
        def __init__(self, path):
            pass

        def isOpened(self):  # noqa: N802 - OpenCV's name
            return True

        def get(self, what):
            return 100_000.0  # 100,000 x 100,000 pixels

        def release(self):
            pass

    fake = types.SimpleNamespace(VideoCapture=Capture, CAP_PROP_FRAME_WIDTH=3, CAP_PROP_FRAME_HEIGHT=4)
    monkeypatch.setitem(sys.modules, "cv2", fake)
    with pytest.raises(DataFormatError, match=r"recording.mp4.*100000x100000.*limits"):
        load_minerl_trajectory(folder, video=True)


# -- item 5: raw exceptions of loaders become library errors -------------------------------
def test_an_empty_flags_array_is_a_data_format_error(tmp_path):
    path = tmp_path / "episodes.npz"
    save_episodes(path, [demonstration()])
    rewrite_npz(path, lambda arrays: arrays.update({"0/flags": np.array([], dtype=bool)}))
    with pytest.raises(DataFormatError, match="episodes.npz.*episode 0.*flags"):
        load_episodes(path)


def test_an_episodes_file_of_zero_episodes_is_refused(tmp_path):
    path = tmp_path / "episodes.npz"
    save_episodes(path, [demonstration()])
    rewrite_npz(path, lambda arrays: arrays.update(num_episodes=np.array(0)))
    with pytest.raises(DataFormatError, match="num_episodes"):
        load_episodes(path)


class Payload:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize("content", [b"random bytes, not a zip", None])
def test_a_random_or_pickled_model_pt_is_refused_without_suggesting_weights_only_false(tmp_path, content):
    path = tmp_path / "lstm"
    LSTMRedistributor(gym.spaces.Discrete(4), gym.spaces.Discrete(2), hidden_size=4).save(path)
    if content is None:
        import torch

        buffer = io.BytesIO()
        torch.save({"weights": Payload()}, buffer)
        content = buffer.getvalue()
    (path / "model.pt").write_bytes(content)
    with pytest.raises(DataFormatError, match="model.pt") as raised:
        load_redistributor(path)
    assert "weights_only=False" not in str(raised.value) and "weights_only" not in str(raised.value).replace(
        "weights_only=True", "")


def test_an_unknown_lstm_setting_is_a_data_format_error(tmp_path):
    path = lstm_config(tmp_path, lambda config: config["settings"].update(colour="blue"))
    with pytest.raises(DataFormatError, match="config.json.*settings.colour.*unknown"):
        LSTMRedistributor.load(path)


@pytest.mark.parametrize("quantity", ["NaN", "Infinity", "1e30", "-3", "1.5"])
def test_vpt_quantities_that_are_no_counts_name_file_and_line(tmp_path, quantity):
    good = '{"inventory": [{"type": "oak_log", "quantity": 1}], "keyboard": {}, "mouse": {}}'
    bad = good.replace('"quantity": 1', f'"quantity": {quantity}')
    (tmp_path / "episode.jsonl").write_text(f"{good}\n{bad}\n")
    with pytest.raises(DataFormatError, match=r"episode.jsonl', line 2.*quantity"):
        load_vpt_episode(tmp_path / "episode.jsonl")


def test_deeply_nested_vpt_json_names_file_and_line(tmp_path):
    (tmp_path / "episode.jsonl").write_text('{"inventory": []}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(DataFormatError, match=r"episode.jsonl', line 2.*nested too deeply"):
        load_vpt_episode(tmp_path / "episode.jsonl")


# -- items 3 and 9: NaN item counts ----------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_inventory_encoder_refuses_nan_counts_instead_of_dropping_events(bad):
    log = np.array([0.0, 1.0, bad, 3.0])
    episode = Episode(observations={"inventory/log": log, "inventory/planks": np.zeros(4)},
                      actions=np.zeros(3, dtype=int), rewards=np.zeros(3))
    with pytest.raises(ValueError, match="finite item count"):
        InventoryEncoder().fit([episode])
    vector = Episode(observations={"inventory": np.stack([log, np.zeros(4)], axis=1)},
                     actions=np.zeros(3, dtype=int), rewards=np.zeros(3))
    with pytest.raises(ValueError, match="finite item counts"):
        InventoryEncoder(key="inventory", items=["log", "planks"]).fit([vector])


@pytest.mark.parametrize("bad", [np.nan, np.inf, 2.5])
def test_the_minerl_reader_refuses_nan_counts_instead_of_minus_9e18(tmp_path, bad):
    folder = minerl_files().write_trajectory(tmp_path / "v3_a",
                                             extra={"observation$inventory$log": np.array([0.0, 1.0, bad, 2.0])})
    with pytest.raises(DataFormatError, match=r"rendered.npz.*inventory\$log.*whole item counts"):
        load_minerl_trajectory(folder)
