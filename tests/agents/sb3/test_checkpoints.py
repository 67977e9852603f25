"""Pickle-free checkpoints: model, redistributor, normalisation, refusals."""

import dataclasses
import json

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("minigrid")

from stable_baselines3.common.vec_env import VecNormalize  # noqa: E402

from rudder.agents.sb3 import (  # noqa: E402
    PPOSettings,
    load_checkpoint,
    load_normalization,
    load_redistributor_from_checkpoint,
    make_ppo,
    save_checkpoint,
)
from rudder.envs.minigrid_tasks import interaction_events  # noqa: E402
from rudder.errors import DataFormatError  # noqa: E402

ENV_ID = "MiniGrid-KeyCorridorS3R3-v0"
SMALL = PPOSettings(n_steps=32, batch_size=64, n_epochs=2)


def test_checkpoint_resume_continues_with_the_same_redistributor(redistributor, demos, tmp_path, make_venv):
    venv = make_venv(redistributor)
    model = make_ppo(venv, SMALL, seed=0)
    model.learn(128)
    path = save_checkpoint(tmp_path / "run", model, SMALL, redistributor=redistributor, seed=0, metadata={"env": ENV_ID})
    record = json.loads((path / "checkpoint.json").read_text())
    assert record["num_timesteps"] == 128 and record["metadata"] == {"env": ENV_ID}

    loaded_redistributor = load_redistributor_from_checkpoint(path, function=interaction_events)
    for demo in demos:
        np.testing.assert_array_equal(loaded_redistributor.redistribute(demo), redistributor.redistribute(demo))
    np.testing.assert_array_equal(loaded_redistributor.profile.scores, redistributor.profile.scores)

    resumed, settings, _ = load_checkpoint(path, make_venv(loaded_redistributor))
    # the checkpoint keeps the layers built: net_arch=None built the narrow network
    assert settings == dataclasses.replace(SMALL, net_arch=(64, 64)) and resumed.num_timesteps == 128
    for a, b in zip(model.policy.state_dict().values(), resumed.policy.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy())
    observation = venv.reset()
    np.testing.assert_allclose(
        model.policy.predict_values(model.policy.obs_to_tensor(observation)[0]).detach().numpy(),
        resumed.policy.predict_values(resumed.policy.obs_to_tensor(observation)[0]).detach().numpy(),
    )
    resumed.learn(64, reset_num_timesteps=False)
    assert resumed.num_timesteps == 128 + 64
    # the resumed env redistributes with the checkpoint's profile
    assert resumed.get_env().get_attr("redistributor")[0] is loaded_redistributor


def test_checkpoint_keeps_normalization_and_refuses_bad_directories(redistributor, tmp_path, make_venv):
    venv = VecNormalize(make_venv(redistributor))
    model = make_ppo(venv, SMALL, seed=0)
    model.learn(64)
    path = save_checkpoint(tmp_path / "run", model, SMALL, normalization=venv)
    restored = load_normalization(path, make_venv(redistributor))
    np.testing.assert_array_equal(restored.obs_rms.mean, venv.obs_rms.mean)
    assert restored.obs_rms.count == venv.obs_rms.count
    assert load_redistributor_from_checkpoint(path) is None

    other = tmp_path / "not-a-checkpoint"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a checkpoint"):
        save_checkpoint(other, model, SMALL)
    assert (other / "notes.txt").read_text() == "keep me"
    with pytest.raises(FileNotFoundError, match="not a checkpoint"):
        load_checkpoint(other, venv)

    record = json.loads((path / "checkpoint.json").read_text())
    record["format_version"] = 99
    (path / "checkpoint.json").write_text(json.dumps(record))
    with pytest.raises(DataFormatError, match="newer"):
        load_checkpoint(path, venv)
