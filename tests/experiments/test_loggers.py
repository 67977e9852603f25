"""--log-to: SB3's logger writing to wandb and MLflow (faked here) and to files."""

import sys
import types

import pytest

pytest.importorskip("stable_baselines3")

from rudder.errors import DependencyNotInstalled  # noqa: E402
from rudder.experiments.loggers import make_logger  # noqa: E402


def fake_wandb():
    module = types.ModuleType("wandb")
    module.run = None
    module.calls = []

    def init(name=None, config=None):
        module.run = object()
        module.calls.append(("init", name, dict(config or {})))

    module.init = init
    module.log = lambda values, step: module.calls.append(("log", dict(values), step))
    module.finish = lambda: module.calls.append(("finish",))
    return module


def fake_mlflow():
    module = types.ModuleType("mlflow")
    module.calls = []
    module.active = None
    module.active_run = lambda: module.active

    def start_run(run_name=None):
        module.active = run_name
        module.calls.append(("start", run_name))

    module.start_run = start_run
    module.log_params = lambda params: module.calls.append(("params", dict(params)))
    module.log_metrics = lambda values, step: module.calls.append(("metrics", dict(values), step))
    module.end_run = lambda: module.calls.append(("end",))
    return module


def test_every_number_reaches_wandb_and_mlflow(monkeypatch):
    wandb, mlflow = fake_wandb(), fake_mlflow()
    monkeypatch.setitem(sys.modules, "wandb", wandb)
    monkeypatch.setitem(sys.modules, "mlflow", mlflow)
    logger = make_logger(["wandb", "mlflow"], run_name="align-rudder-seed0", config={"budget": 10})
    logger.record("rudder/gate_weight", 0.5)
    logger.record("eval/success_rate", 1)
    logger.record("train/note", "text is not a metric")
    logger.record("time:fps", 7.0)
    logger.dump(step=2048)
    logger.close()
    assert wandb.calls[0] == ("init", "align-rudder-seed0", {"budget": 10})
    assert ("log", {"rudder/gate_weight": 0.5, "eval/success_rate": 1.0, "time:fps": 7.0}, 2048) in wandb.calls
    assert mlflow.calls[0] == ("start", "align-rudder-seed0") and mlflow.calls[1] == ("params", {"budget": "10"})
    assert ("metrics", {"rudder/gate_weight": 0.5, "eval/success_rate": 1.0, "time_fps": 7.0}, 2048) in mlflow.calls
    assert wandb.calls[-1] == ("finish",) and mlflow.calls[-1] == ("end",)


def test_missing_packages_and_bad_destinations_are_clear(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "wandb", None)  # import fails
    with pytest.raises(DependencyNotInstalled, match="pip install wandb"):
        make_logger(["wandb"])
    with pytest.raises(ValueError, match="unknown log destinations"):
        make_logger(["neptune"])
    with pytest.raises(ValueError, match="log directory"):
        make_logger(["csv"])
    logger = make_logger(["csv"], folder=str(tmp_path))
    logger.record("rudder/episode_return", 3.0)
    logger.dump(step=1)
    logger.close()
    assert "rudder/episode_return" in (tmp_path / "progress.csv").read_text()


def test_train_options_refuse_unknown_destinations():
    from rudder.experiments.sb3 import TrainOptions

    with pytest.raises(ValueError, match="--log-to neptune"):
        TrainOptions(log_to=("neptune",))
    assert TrainOptions(log_to=("tensorboard", "wandb")).log_to == ("tensorboard", "wandb")
