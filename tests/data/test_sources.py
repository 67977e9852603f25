"""Tests of rudder.data.sources: one spec string for .npz files, Minari and imitation data."""

from __future__ import annotations

import numpy as np
import pytest

from rudder.data import Episode, save_episodes
from rudder.data.imitation_format import save_imitation
from rudder.data.sources import (
    check_demonstrations,
    demonstrations_digest,
    load_demonstrations,
    split_spec,
)
from rudder.experiments.sweep import Job
from rudder.experiments.tasks import demonstrations


def episodes(count: int, *, seed: int = 0) -> list[Episode]:
    rng = np.random.default_rng(seed)
    made = []
    for index in range(count):
        length = 3 + index
        made.append(
            Episode(
                observations=rng.integers(0, 5, size=(length + 1, 3)), actions=rng.integers(0, 4, size=length),
                rewards=np.r_[np.zeros(length - 1), 1.0], terminated=True,
            )
        )
    return made


def same(first: list[Episode], second: list[Episode]) -> bool:
    return len(first) == len(second) and all(
        np.array_equal(a.observations, b.observations) and np.array_equal(a.actions, b.actions)
        and np.array_equal(a.rewards, b.rewards) for a, b in zip(first, second)
    )


def test_split_spec():
    assert split_spec("minari:D4RL/minigrid/fourrooms-v0") == ("minari", "D4RL/minigrid/fourrooms-v0")
    assert split_spec("imitation:/data/trajectories") == ("imitation", "/data/trajectories")
    assert split_spec("demos.npz") == ("file", "demos.npz")
    with pytest.raises(ValueError, match="minari:D4RL"):
        split_spec("minari:")


def test_npz_and_imitation_specs_load_the_same_episodes(tmp_path):
    made = episodes(3)
    save_episodes(tmp_path / "demos.npz", made)
    save_imitation(made, tmp_path / "imitation")
    assert same(load_demonstrations(tmp_path / "demos.npz"), made)
    assert same(load_demonstrations(f"imitation:{tmp_path / 'imitation'}"), made)


def test_check_and_digest(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        check_demonstrations(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match="no imitation trajectories"):
        check_demonstrations(f"imitation:{tmp_path / 'missing'}")
    save_episodes(tmp_path / "a.npz", episodes(2))
    save_imitation(episodes(2), tmp_path / "a")
    save_imitation(episodes(2, seed=1), tmp_path / "b")
    check_demonstrations(tmp_path / "a.npz")
    check_demonstrations(f"imitation:{tmp_path / 'a'}")
    assert demonstrations_digest(f"imitation:{tmp_path / 'a'}") != demonstrations_digest(f"imitation:{tmp_path / 'b'}")
    save_imitation(episodes(2), tmp_path / "c")
    assert demonstrations_digest(f"imitation:{tmp_path / 'a'}") == demonstrations_digest(f"imitation:{tmp_path / 'c'}")


def test_demos_file_of_a_run_reads_every_kind_of_spec(tmp_path):
    made = episodes(4)
    save_episodes(tmp_path / "demos.npz", made)
    save_imitation(made, tmp_path / "imitation")
    chosen = [
        demonstrations(Job({}, None, budget=0, demos_file=spec), 2, lambda: [], seed=5)
        for spec in (str(tmp_path / "demos.npz"), f"imitation:{tmp_path / 'imitation'}")
    ]
    assert len(chosen[0]) == 2 and same(chosen[0], chosen[1])


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_minari_spec_in_the_rooms_training_and_the_sweep_options(tmp_path, monkeypatch):
    pytest.importorskip("minari")
    import rudder.envs  # noqa: F401
    from rudder.data.minari import save_minari
    from rudder.envs import rooms_demonstrations
    from rudder.experiments.harness import SweepOptions

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    made = rooms_demonstrations("rudder/FourRooms-v0", 4, seed=0)
    save_episodes(tmp_path / "demos.npz", made)
    save_minari(made, "test/rooms/sources-v0", env="rudder/FourRooms-v0")
    check_demonstrations("minari:test/rooms/sources-v0")
    assert len(demonstrations_digest("minari:test/rooms/sources-v0")) == 64
    chosen = [
        demonstrations(Job({}, None, budget=0, demos_file=spec), 3, lambda: [], seed=1)
        for spec in (str(tmp_path / "demos.npz"), "minari:test/rooms/sources-v0")
    ]
    assert same(chosen[0], chosen[1])
    SweepOptions(out=str(tmp_path / "r.json"), demos_file="minari:test/rooms/sources-v0")
    with pytest.raises(ValueError, match="minari download test/none-v0"):
        SweepOptions(out=str(tmp_path / "r.json"), demos_file="minari:test/none-v0")
