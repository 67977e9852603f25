"""Tests of the `rudder` command line."""

from __future__ import annotations

import json
import sys

import gymnasium as gym
import numpy as np
import pytest

from rudder.cli import choose_encoder, main
from rudder.data import Episode, load_episodes, save_episodes
from rudder.envs import frozen_lake_demonstrations
from rudder.events import FeatureClusterEncoder, StateClusterEncoder


@pytest.fixture(scope="module")
def demos_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "demos.npz"
    save_episodes(path, frozen_lake_demonstrations(6, seed=0))
    return path


def test_align_show_redistribute(tmp_path, demos_file, capsys):
    model = tmp_path / "model"
    picture = tmp_path / "alignment.png"
    assert main(["align", str(demos_file), "-o", str(model), "--png", str(picture)]) == 0
    output = capsys.readouterr().out
    assert "Multiple alignment: 6 demonstrations" in output
    assert "consensus |" in output and "legend:" in output
    assert "demo   5: return" in output
    assert (model / "model.json").exists() and (model / "arrays.npz").exists()
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert main(["show", str(model)]) == 0
    assert "Multiple alignment: 6 demonstrations" in capsys.readouterr().out

    assert main(["redistribute", str(model), str(demos_file), "--episode", "2"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("Episode 2:")
    sum_line = next(line for line in output.splitlines() if line.strip().startswith("sum"))
    env_sum, redistributed_sum = (float(x) for x in sum_line.split()[1:3])
    assert env_sum == pytest.approx(1.0) and redistributed_sum == pytest.approx(1.0)


def test_align_options(tmp_path, demos_file, capsys):
    model = tmp_path / "model"
    arguments = ["align", str(demos_file), "-o", str(model), "--scoring", "official", "--guide-tree", "nj", "--top-n", "3"]
    assert main(arguments) == 0
    assert "Multiple alignment: 3 demonstrations" in capsys.readouterr().out


def test_errors_are_reported_not_raised(tmp_path, demos_file, capsys):
    assert main(["align", str(tmp_path / "absent.npz"), "-o", str(tmp_path / "m")]) == 2
    assert "no episodes file" in capsys.readouterr().err
    broken = tmp_path / "broken.npz"
    broken.write_bytes(demos_file.read_bytes()[:100])
    assert main(["align", str(broken), "-o", str(tmp_path / "m")]) == 2
    assert "truncated or corrupt" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    assert main(["show", str(tmp_path / "nothing")]) == 2
    assert "no align-rudder model" in capsys.readouterr().err


def test_episode_out_of_range(tmp_path, demos_file, capsys):
    model = tmp_path / "model"
    main(["align", str(demos_file), "-o", str(model)])
    capsys.readouterr()
    assert main(["redistribute", str(model), str(demos_file), "--episode", "99"]) == 2
    assert "out of range" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["quickstart"], ["align"], ["show"], ["redistribute"]])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: rudder" in capsys.readouterr().out


def test_quickstart(capsys):
    assert main(["quickstart", "--demos", "4"]) == 0
    output = capsys.readouterr().out
    assert "Consensus (sub-goals" in output
    sum_line = next(line for line in output.splitlines() if line.strip().startswith("sum"))
    assert float(sum_line.split()[1]) == pytest.approx(float(sum_line.split()[2]))


def test_demos_generate_and_align(tmp_path, capsys):
    demos = tmp_path / "rooms.npz"
    assert main(["demos", "generate", "rudder/FourRooms-v0", "-n", "4", "--seed", "1", "-o", str(demos)]) == 0
    assert "Wrote 4 demonstrations" in capsys.readouterr().out
    assert main(["align", str(demos), "-o", str(tmp_path / "model")]) == 0
    output = capsys.readouterr().out
    assert "terminal" in output and "Consensus" in output
    assert main(["demos", "generate", "CartPole-v1", "-n", "2", "-o", str(tmp_path / "x.npz")]) == 2
    assert "not a rooms env" in capsys.readouterr().err


def test_train(tmp_path, capsys):
    arguments = ["train", "rudder/FourRooms-v0", "--demos", "10", "--seed", "0", "--max-episodes", "2000"]
    assert main([*arguments, "--png", str(tmp_path / "a.png")]) == 0
    output = capsys.readouterr().out
    assert "reached 80% of the demonstrations' mean return" in output
    assert (tmp_path / "a.png").exists()


def write_minerl_trajectory(folder, inventory):
    """A MineRL v0.4 trajectory folder (rendered.npz + metadata.json) with these item counts."""
    folder.mkdir(parents=True)
    num_steps = len(next(iter(inventory.values()))) - 1
    arrays = {f"observation$inventory${item}": np.array(counts) for item, counts in inventory.items()}
    arrays["reward"] = np.zeros(num_steps, dtype=np.float32)
    arrays["action$attack"] = np.ones(num_steps, dtype=np.int64)
    arrays["action$craft"] = np.array(["none"] * num_steps)
    np.savez_compressed(folder / "rendered.npz", **arrays)
    (folder / "metadata.json").write_text(json.dumps({"success": True, "duration_steps": num_steps}))


def test_align_minerl_folder(tmp_path, capsys):
    environment = tmp_path / "data" / "MineRLObtainDiamond-v0"
    # Every demonstration gains log, log, planks, crafting_table; some do more in between.
    write_minerl_trajectory(environment / "v3_a", {"log": [0, 1, 2, 2, 2], "planks": [0, 0, 0, 4, 0], "crafting_table": [0, 0, 0, 0, 1], "dirt": [0, 0, 0, 0, 0]})
    write_minerl_trajectory(environment / "v3_b", {"log": [0, 1, 1, 2, 2, 2], "planks": [0, 0, 0, 0, 4, 0], "crafting_table": [0, 0, 0, 0, 0, 1], "dirt": [0, 0, 1, 1, 1, 1]})
    write_minerl_trajectory(environment / "v3_c", {"log": [0, 1, 2, 3, 3, 3], "planks": [0, 0, 0, 0, 4, 0], "crafting_table": [0, 0, 0, 0, 0, 1], "dirt": [0] * 6})
    write_minerl_trajectory(environment / "v3_d", {"log": [0, 1, 2, 1, 1], "planks": [0, 0, 0, 4, 0], "crafting_table": [0, 0, 0, 0, 1], "dirt": [0] * 5})
    (environment.parent / "VERSION").write_text("4")

    model = tmp_path / "model"
    assert main(["align", str(tmp_path / "data"), "-o", str(model)]) == 0
    output = capsys.readouterr().out
    assert "Read 4 MineRL demonstrations" in output
    assert "InventoryEncoder" in output
    assert "of demonstrations): 2× log, planks, crafting_table\n" in output
    assert (model / "model.json").exists()

    assert main(["align", str(environment), "-o", str(tmp_path / "m2"), "--limit", "2"]) == 0
    assert "Multiple alignment: 2 demonstrations" in capsys.readouterr().out
    assert main(["align", str(tmp_path / "data"), "-o", str(tmp_path / "m3"), "--environment", "MineRLTreechop-v0"]) == 2
    assert "no trajectories of environment='MineRLTreechop-v0'" in capsys.readouterr().err
    assert main(["align", str(tmp_path / "data"), "-o", str(tmp_path / "m4"), "--limit", "0"]) == 2
    assert "--limit must be >= 1" in capsys.readouterr().err


def test_align_vpt_folder(tmp_path, capsys):
    def line(inventory):
        return json.dumps({"inventory": [{"type": t, "quantity": q} for t, q in inventory], "keyboard": {"keys": ["key.keyboard.w"]}})

    for name, extra in (("a", []), ("b", [("dirt", 1)]), ("c", [])):
        lines = [line([]), line([("oak_log", 1)]), line([("oak_log", 1), ("birch_log", 1)]), line([("oak_planks", 4)] + extra)]
        (tmp_path / "vpt").mkdir(exist_ok=True)
        (tmp_path / "vpt" / f"{name}.jsonl").write_text("\n".join(lines))
    assert main(["align", str(tmp_path / "vpt"), "-o", str(tmp_path / "model")]) == 0
    output = capsys.readouterr().out
    assert "Read 3 VPT demonstrations" in output and "2× log, planks" in output
    assert main(["align", str(tmp_path / "vpt"), "-o", str(tmp_path / "m2"), "--environment", "X"]) == 2
    assert "--environment" in capsys.readouterr().err


def test_show_refuses_an_lstm_model(tmp_path, capsys):
    pytest.importorskip("torch")
    import gymnasium as gym

    from rudder.redistribution.lstm import LSTMRedistributor

    LSTMRedistributor(gym.spaces.Discrete(3), gym.spaces.Discrete(2), hidden_size=4).save(tmp_path / "lstm")
    assert main(["show", str(tmp_path / "lstm")]) == 2
    assert "reads alignment models" in capsys.readouterr().err


POLICY_MODULE = '''
import numpy as np

def pump(observation):
    return 2 if observation[1] >= 0 else 0

def idle(observation):
    return 1

def too_big(observation):
    return 7

def broken(observation):
    raise RuntimeError("no idea")

NOT_CALLABLE = 3
'''


@pytest.fixture
def policy_module(tmp_path, monkeypatch, request):
    """Writes a policy module to tmp_path and puts it on sys.path; returns its name."""
    name = f"user_policies_{request.node.name.split('[')[0]}"
    (tmp_path / f"{name}.py").write_text(POLICY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_demos_record_a_users_policy(tmp_path, policy_module, capsys):
    output = tmp_path / "mountain_car.npz"
    arguments = ["demos", "record", "MountainCar-v0", "--policy", f"{policy_module}:pump", "-n", "3", "--seed", "4"]
    assert main([*arguments, "--successful-only", "--delayed", "-o", str(output)]) == 0
    assert "Wrote 3 episodes of MountainCar-v0" in capsys.readouterr().out
    episodes = load_episodes(output)
    assert len(episodes) == 3 and all(episode.terminated for episode in episodes)
    assert all(np.all(episode.rewards[:-1] == 0.0) and episode.rewards[-1] < 0 for episode in episodes)
    starts = [gym.make("MountainCar-v0").reset(seed=seed)[0] for seed in (4, 5, 6)]  # reset seeds SEED + i
    np.testing.assert_array_equal([episode.observations[0] for episode in episodes], starts)
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically, nothing left behind
    again = tmp_path / "again.npz"
    assert main([*arguments, "--max-steps", "20", "-o", str(again)]) == 0
    episodes = load_episodes(again)
    assert [episode.length for episode in episodes] == [20, 20, 20]
    assert all(episode.truncated and np.all(episode.rewards == -1.0) for episode in episodes)


def test_demos_record_imports_from_the_current_directory(tmp_path, monkeypatch, capsys):
    (tmp_path / "policies_in_cwd.py").write_text(POLICY_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the command adds the current directory
    monkeypatch.delitem(sys.modules, "policies_in_cwd", raising=False)
    assert main(["demos", "record", "MountainCar-v0", "--policy", "policies_in_cwd:pump", "-n", "1", "-o", "out.npz"]) == 0
    assert (tmp_path / "out.npz").exists()
    sys.modules.pop("policies_in_cwd", None)


def test_demos_record_a_built_in_policy(tmp_path, capsys):
    pytest.importorskip("Box2D")
    output = tmp_path / "lander.npz"
    policy = "rudder.envs.classic_control:lunar_lander_policy"
    arguments = ["demos", "record", "LunarLander-v3", "--policy", policy, "-n", "2", "--successful-only"]
    assert main([*arguments, "-o", str(output)]) == 0
    assert "2 with the task's success" in capsys.readouterr().out
    assert all(episode.episode_return >= 200 for episode in load_episodes(output))


@pytest.mark.parametrize(
    ("env_id", "policy", "extra", "message"),
    [
        ("MountainCar-v0", "{module}", [], "must be MODULE:FUNCTION"),
        ("MountainCar-v0", "no_such_module_here:act", [], "cannot import the policy's module 'no_such_module_here'"),
        ("MountainCar-v0", "{module}:missing", [], "has no 'missing'"),
        ("MountainCar-v0", "{module}:NOT_CALLABLE", [], "is not callable (it is a int)"),
        ("NoSuchEnv-v0", "{module}:pump", [], "cannot make env 'NoSuchEnv-v0'"),
        ("MountainCar-v0", "{module}:pump", ["-n", "0"], "-n must be >= 1"),
        ("MountainCar-v0", "{module}:pump", ["--max-steps", "0"], "--max-steps must be >= 1"),
        ("MountainCar-v0", "{module}:too_big", [], "returned 7, which is not in the env's action space Discrete(3)"),
        ("MountainCar-v0", "{module}:broken", [], "raised RuntimeError: no idea (on an observation of shape (2,))"),
        (
            "MountainCar-v0",
            "{module}:idle",
            ["--successful-only", "--max-steps", "3"],
            "--successful-only keeps episodes with the task's success",
        ),
    ],
)
def test_demos_record_reports_bad_input(tmp_path, policy_module, capsys, env_id, policy, extra, message):
    output = tmp_path / "out.npz"
    arguments = ["demos", "record", env_id, "--policy", policy.format(module=policy_module), "-o", str(output), *extra]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert error.startswith("rudder demos: error: ") and message in error
    assert "Traceback" not in error
    assert not output.exists()


def _float_demonstrations(count: int = 6):
    """Demonstrations with 2-D float observations in units 1 and 1000: four groups in order."""
    rng = np.random.default_rng(0)
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1000.0], [0.0, 1000.0]])
    episodes = []
    for _ in range(count):
        groups = np.repeat(np.arange(4), rng.integers(5, 9, size=4))
        observations = corners[groups] + rng.normal(scale=[0.05, 50.0], size=(len(groups), 2))
        length = len(groups) - 1
        rewards = np.zeros(length)
        rewards[-1] = 1.0
        episodes.append(Episode(observations, np.zeros(length, dtype=np.int64), rewards))
    return episodes


def test_choose_encoder_auto():
    encoder = choose_encoder("auto", _float_demonstrations(), seed=3)
    assert isinstance(encoder, FeatureClusterEncoder)
    # Standardised features, the number of clusters chosen from the data.
    assert encoder.num_clusters is None and encoder.standardize and encoder.seed == 3
    assert isinstance(choose_encoder("auto", frozen_lake_demonstrations(2, seed=0)), StateClusterEncoder)
    with pytest.raises(ValueError, match="unknown event encoder"):
        choose_encoder("nope", _float_demonstrations())


def test_align_float_observations_records_the_clustering(tmp_path, capsys):
    demos = tmp_path / "float.npz"
    save_episodes(demos, _float_demonstrations())
    model = tmp_path / "model"
    assert main(["align", str(demos), "-o", str(model)]) == 0
    assert "4 events (FeatureClusterEncoder)" in capsys.readouterr().out
    saved = json.loads((model / "model.json").read_text())
    encoder = saved["encoder"]
    assert encoder["standardize"] is True and encoder["cluster_choice"] == "silhouette"
    assert encoder["clustering"] == "kmeans" and encoder["fit_warnings"] == []


def test_align_prints_held_out_diagnostics_and_uses_other_episodes(tmp_path, demos_file, capsys):
    from rudder.data import record_episodes
    from rudder.envs import make_frozen_lake

    others = tmp_path / "random.npz"
    save_episodes(others, record_episodes(make_frozen_lake(), num_episodes=8, seed=5))
    assert main(["align", str(demos_file), "-o", str(tmp_path / "model"), "--others", str(others)]) == 0
    output = capsys.readouterr().out
    assert "Events per demonstration: min" in output
    assert "Ordering by return (concordance, 0.5 = chance):" in output
    assert "Held-out demonstrations above every other episode:" in output
    assert "Guide tree: exact" in output
    assert main(["align", str(demos_file), "-o", str(tmp_path / "quiet"), "--no-diagnostics"]) == 0
    assert "Events per demonstration" not in capsys.readouterr().out


def test_align_checks_its_outputs_before_any_work(tmp_path, demos_file, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("mine")
    assert main(["align", str(demos_file), "-o", str(a_file)]) == 2
    assert "is a file, not a model directory" in capsys.readouterr().err
    assert a_file.read_text() == "mine"
    assert main(["align", str(demos_file), "-o", str(tmp_path / "missing" / "model")]) == 2
    assert "does not exist; create it first" in capsys.readouterr().err
    assert main(["align", str(demos_file), "-o", str(tmp_path / "m"), "--png", str(tmp_path / "nowhere" / "a.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()  # nothing was written
