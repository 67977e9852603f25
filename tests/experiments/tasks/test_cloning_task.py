"""The held-out cloning benchmark: its jobs, its settings and one run."""

import numpy as np
import pytest

from rudder.experiments.sweep import Job
from rudder.experiments.tasks.cloning import CloningSettings, cloning_jobs, run_cloning


def test_jobs_cover_every_task_augmentation_and_seed():
    keys = [job.key for job in cloning_jobs(CloningSettings(tasks=("crafter", "craft"), seeds=2))]
    assert len(keys) == 8 and len({tuple(sorted(key.items())) for key in keys}) == 8
    assert {key["augmentation"] for key in keys} == {"none", "mirror"}


def test_settings_refuse_unknown_tasks_and_too_few_demonstrations():
    with pytest.raises(ValueError, match="unknown"):
        CloningSettings(tasks=("chess",))
    with pytest.raises(ValueError, match="folds"):
        CloningSettings(demos=3, folds=5)


def test_a_run_scores_every_fold_on_held_out_originals(monkeypatch):
    """Each fold is scored on its own episodes' steps; the mirror images go to training only."""
    import rudder.agents.sb3 as sb3

    fitted = []
    original = sb3.behavior_cloning

    def counting(policy, episodes, **kwargs):
        fitted.append(len(episodes))
        kwargs["settings"] = sb3.BehaviorCloningSettings(epochs=2)
        return original(policy, episodes, **kwargs)

    monkeypatch.setattr(sb3, "behavior_cloning", counting)
    settings = CloningSettings(tasks=("craft",), demos=4, folds=2)
    steps, held_out = [], []
    for augmentation in ("none", "mirror"):
        record = run_cloning(Job({"task": "craft", "augmentation": augmentation, "seed": 0}, settings, budget=2), steps.append)
        assert len(record["fold_accuracy"]) == 2 and all(0.0 <= value <= 1.0 for value in record["fold_accuracy"])
        assert record["accuracy"] == pytest.approx(np.mean(record["fold_accuracy"]), abs=1e-4)
        assert record["nll"] > 0 and record["env_steps"] == 0
        held_out.append(record["held_out_steps"])
    # two folds of 4: train on 2 demonstrations, or on 2 and their 2 mirror images
    assert fitted == [2, 2, 4, 4]
    assert steps == [1, 2, 1, 2]
    assert held_out[0] == held_out[1] and all(count > 0 for count in held_out[0])  # the same originals held out


def test_the_convolutions_network_reads_crafter_only():
    keys = [job.key for job in cloning_jobs(CloningSettings(networks=("dense", "convolutions")))]
    assert {key["network"] for key in keys} == {"dense", "convolutions"} and len(keys) == 4
    with pytest.raises(ValueError, match="crafter only"):
        CloningSettings(tasks=("craft",), networks=("convolutions",))
    with pytest.raises(ValueError, match="--networks"):
        CloningSettings(networks=("resnet",))
