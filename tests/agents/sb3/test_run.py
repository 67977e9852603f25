"""train_sb3 and resume_sb3: every method, sub-task agents, augmentation, resuming."""

import dataclasses
import functools
import json

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

import torch  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

import rudder.envs  # noqa: E402,F401 - registers the ids
from rudder.agents.sb3 import (  # noqa: E402
    SB3_METHODS,
    BehaviorCloningSettings,
    PPOSettings,
    SB3RunSettings,
    load_checkpoint,
    read_checkpoint_record,
    resume_sb3,
    train_sb3,
)
from rudder.envs.craft import ITEMS, make_craft_env, mirror_episode, vector_size  # noqa: E402
from rudder.events import InventoryEncoder  # noqa: E402
from rudder.wrappers import subtask_wrapper  # noqa: E402

ENV_ID = "MiniGrid-KeyCorridorS3R3-v0"
SMALL = PPOSettings(n_steps=32, batch_size=64, n_epochs=2)
#: Sub-task agents trained for one rollout of 2 envs x 64 steps, cloned for one epoch.
TINY_SUBTASK_RUN = SB3RunSettings(
    method="align-rudder",
    subtask_agents=True,
    total_timesteps=128,
    n_envs=2,
    eval_every=128,
    eval_episodes=2,
    target_success=None,
    behavior_cloning=BehaviorCloningSettings(epochs=1),
    ppo=PPOSettings(n_steps=64, batch_size=64, n_epochs=1),
)


# ppo, bc-ppo and align-rudder take > 8 s each on 2 shared cores: -m slow runs them
@pytest.mark.parametrize(
    "method", [pytest.param(method, marks=[pytest.mark.slow] if method != "bc" else []) for method in SB3_METHODS]
)
def test_train_sb3_runs_every_method_briefly(method, demos, tmp_path):
    pytest.importorskip("minigrid")
    from rudder.envs.minigrid_tasks import interaction_encoder, make_minigrid_env

    make_env = functools.partial(make_minigrid_env, ENV_ID)
    settings = SB3RunSettings(
        method=method, total_timesteps=256, n_envs=2, eval_every=128, eval_episodes=2, ppo=SMALL,
        behavior_cloning=BehaviorCloningSettings(epochs=2),
    )
    outcome = train_sb3(make_env, demos, settings=settings, encoder=interaction_encoder(), seed=0,
                        checkpoint=tmp_path / method)
    assert outcome.curve and outcome.curve[0][0] == 0
    # bc takes no env step; PPO takes whole rollouts of 2 x 32 steps up to the budget,
    # unless the evaluation reaches the target first (then it stops right there).
    expected_steps = 0 if method == "bc" else (256 if outcome.reached_at is None else outcome.reached_at)
    assert outcome.timesteps == expected_steps
    assert (outcome.redistributor is not None) == (method in ("align-rudder", "rudder-lstm"))
    assert (tmp_path / method / "checkpoint.json").is_file()


@pytest.mark.parametrize("capped", [False, True], ids=["4 epochs", "8 epochs capped to 4 by max_updates"])
def test_cloning_trials_keep_the_clone_of_the_highest_mean_return_and_count_their_steps(demos, capped):
    pytest.importorskip("minigrid")
    from rudder.agents.sb3.run import trial_epochs
    from rudder.envs.minigrid_tasks import make_minigrid_env

    make_env = functools.partial(make_minigrid_env, ENV_ID)
    batches = -(-sum(episode.length for episode in demos) // 64)
    cloning = BehaviorCloningSettings(epochs=8, max_updates=3 * batches + 1) if capped else BehaviorCloningSettings(epochs=4)
    settings = SB3RunSettings(method="bc", n_envs=2, eval_episodes=2, ppo=SMALL, behavior_cloning=cloning, cloning_trials=2)
    outcome = train_sb3(make_env, demos, settings=settings, seed=0)
    assert trial_epochs(4) == [1, 2, 3, 4]
    assert [trial[0] for trial in outcome.cloning_trials] == [1, 2, 3, 4]
    best = max(outcome.cloning_trials, key=lambda trial: (trial[2], trial[0]))
    assert outcome.cloning_epochs == best[0]
    # two KeyCorridor episodes per trial, each cut short after five times the longest demonstration
    longest = max(episode.length for episode in demos)
    assert all(2 <= trial[3] <= 2 * min(270, 5 * longest) for trial in outcome.cloning_trials)
    spent = sum(trial[3] for trial in outcome.cloning_trials)
    assert outcome.timesteps == spent and outcome.curve[0][0] == spent
    # oracle: the policy it went on with is the one a fit of that many epochs gives
    plain = train_sb3(
        make_env, demos, seed=0,
        settings=dataclasses.replace(
            settings, cloning_trials=0, behavior_cloning=BehaviorCloningSettings(epochs=outcome.cloning_epochs)
        ),
    )
    assert plain.cloning_trials == [] and plain.cloning_epochs == outcome.cloning_epochs and plain.timesteps == 0
    for a, b in zip(outcome.model.policy.parameters(), plain.model.policy.parameters()):
        assert torch.equal(a, b)


def test_the_network_width_follows_the_demonstration_steps_cloned(demos, tmp_path):
    pytest.importorskip("minigrid")
    from rudder.agents.sb3.settings import WIDE_NET_MIN_STEPS
    from rudder.envs.minigrid_tasks import make_minigrid_env

    make_env = functools.partial(make_minigrid_env, ENV_ID)
    steps = sum(len(episode) for episode in demos)
    assert steps < WIDE_NET_MIN_STEPS
    many = demos * (WIDE_NET_MIN_STEPS // steps + 1)  # the same episodes again: more steps to clone

    def hidden_sizes(model) -> list[int]:
        linears = [module for module in model.policy.mlp_extractor.policy_net if isinstance(module, torch.nn.Linear)]
        return [layer.out_features for layer in linears]

    cloned = SB3RunSettings(method="bc", n_envs=1, eval_episodes=1, behavior_cloning=BehaviorCloningSettings(epochs=1))
    few = train_sb3(make_env, demos, settings=cloned, seed=0)
    assert few.net_arch == (64, 64) and hidden_sizes(few.model) == [64, 64]
    wide = train_sb3(make_env, many, settings=cloned, seed=0, checkpoint=tmp_path / "bc")
    assert wide.net_arch == (256, 256) and hidden_sizes(wide.model) == [256, 256]
    # the checkpoint keeps the layers built, and rebuilds them
    assert read_checkpoint_record(tmp_path / "bc")["settings"]["net_arch"] == [256, 256]
    venv = make_vec_env(make_env, n_envs=1, seed=0)
    try:
        loaded, loaded_settings, _ = load_checkpoint(tmp_path / "bc", venv)
    finally:
        venv.close()
    assert loaded_settings.net_arch == (256, 256) and hidden_sizes(loaded) == [256, 256]
    # a width the settings name is kept whatever the demonstrations
    named = train_sb3(make_env, many, settings=dataclasses.replace(cloned, ppo=PPOSettings(net_arch=(32,))), seed=0)
    assert named.net_arch == (32,) and hidden_sizes(named.model) == [32]
    # PPO clones nothing: the narrow network
    alone = dataclasses.replace(cloned, method="ppo", n_envs=2, total_timesteps=64, eval_every=64, ppo=SMALL)
    assert train_sb3(make_env, many, settings=alone, seed=0).net_arch == (64, 64)


def test_trial_epochs_are_fractions_of_the_cloning_epochs():
    from rudder.agents.sb3.run import trial_epochs

    assert trial_epochs(100) == [10, 20, 30, 50, 75, 100]
    assert trial_epochs(30) == [3, 6, 9, 15, 22, 30]
    assert trial_epochs(1) == [1]
    assert trial_epochs(0) == []
    with pytest.raises(ValueError, match="cloning_trials"):
        SB3RunSettings(cloning_trials=-1)


def test_train_sb3_needs_an_encoder_for_align_rudder(demos):
    pytest.importorskip("minigrid")
    from rudder.envs.minigrid_tasks import make_minigrid_env

    make_env = functools.partial(make_minigrid_env, ENV_ID)
    with pytest.raises(ValueError, match="encoder"):
        train_sb3(make_env, demos, settings=SB3RunSettings(method="align-rudder", total_timesteps=0))


def test_resume_sb3_continues_with_the_evaluation_of_train_sb3(demos, tmp_path):
    """A resumed run builds its envs and callbacks as train_sb3 does: its first
    evaluation of the checkpoint (same evaluation env seed, same evaluation episodes,
    greedy as asked) gives what train_sb3 measured for the same policy."""
    pytest.importorskip("minigrid")
    from rudder.envs.minigrid_tasks import (
        interaction_encoder,
        interaction_events,
        make_minigrid_env,
    )

    make_env = functools.partial(make_minigrid_env, ENV_ID)
    settings = SB3RunSettings(
        method="align-rudder", total_timesteps=0, n_envs=2, eval_every=128, eval_episodes=2, ppo=SMALL,
        deterministic_eval=True, target_success=None, behavior_cloning=BehaviorCloningSettings(epochs=2),
    )
    first = train_sb3(make_env, demos, settings=settings, encoder=interaction_encoder(), seed=2,
                      checkpoint=tmp_path / "first")
    assert first.timesteps == 0 and len(first.curve) == 1
    resumed = resume_sb3(
        make_env,
        tmp_path / "first",
        settings=dataclasses.replace(settings, total_timesteps=128),
        seed=2,
        save_to=tmp_path / "second",
        encoder_overrides={"function": interaction_events},
    )
    assert resumed.curve[0] == first.curve[0]
    assert resumed.timesteps == 128 and resumed.curve[-1][0] == 128
    assert resumed.redistributor is not None and resumed.controller is None
    record = read_checkpoint_record(tmp_path / "second")
    assert record["num_timesteps"] == 128 and record["metadata"]["method"] == "align-rudder"


def test_train_sb3_with_subtask_agents_saves_and_resumes(tmp_path, demonstrations):
    settings = dataclasses.replace(TINY_SUBTASK_RUN, total_timesteps=256, eval_every=256)
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamond-v0", max_steps=64)
    outcome = train_sb3(
        make_env,
        demonstrations,
        settings=settings,
        encoder=InventoryEncoder(items=ITEMS, source="info", key="inventory_change"),
        seed=0,
        checkpoint=tmp_path / "run",
        final_evaluation=lambda model, env: {"envs": env.num_envs},
    )
    assert outcome.controller is not None and outcome.controller.subtasks[0] == "log"
    assert outcome.controller.subtasks[-1] == "diamond"
    assert outcome.final == {"envs": 2}
    assert outcome.subtask_env_reward == 0.0  # the diamond's reward comes at the end: nothing passed on
    assert outcome.timesteps >= 256
    # the default run adds no progress to the observation, nor does the default wrapper
    wrapper = functools.partial(subtask_wrapper, redistributor=outcome.redistributor, controller=outcome.controller)
    venv = make_vec_env(make_env, n_envs=2, seed=0, wrapper_class=wrapper)
    model, loaded, _ = load_checkpoint(tmp_path / "run", venv)
    assert loaded.policy == "SubtaskPolicy" and loaded.num_subtasks == outcome.controller.num_subtasks
    for name, tensor in outcome.model.policy.state_dict().items():
        assert torch.equal(tensor, model.policy.state_dict()[name])
    venv.close()


def test_subtask_interrupt_is_trained_and_kept_in_the_checkpoint(tmp_path, demonstrations):
    """An agent in charge near the surface (depth below 0.2): one more sub-task, in charge
    of some of the demonstration steps; the checkpoint keeps the interrupt, and the
    controller rebuilt from it traces the same sub-tasks; the settings refuse an
    interrupt without sub-task agents."""
    from rudder.agents.sb3 import (
        load_redistributor_from_checkpoint,
        subtask_wrapper_from_checkpoint,
    )
    from rudder.agents.subtasks import SubtaskInterrupt
    from rudder.envs.craft import BLOCKS

    interrupt = SubtaskInterrupt("surface", feature=vector_size() - len(BLOCKS) - 1, below=0.2)
    settings = dataclasses.replace(TINY_SUBTASK_RUN, subtask_interrupt=interrupt)
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamond-v0", max_steps=64)
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    outcome = train_sb3(make_env, demonstrations, settings=settings, encoder=encoder, seed=0, checkpoint=tmp_path / "run")
    controller = outcome.controller
    assert controller is not None and controller.interrupt == interrupt and controller.subtasks[-1] == "surface"
    assert read_checkpoint_record(tmp_path / "run")["metadata"]["subtasks"]["interrupts"] == [interrupt.to_dict()]
    redistributor = load_redistributor_from_checkpoint(tmp_path / "run")
    rebuilt = subtask_wrapper_from_checkpoint(tmp_path / "run", redistributor)
    assert rebuilt is not None and rebuilt[1].interrupt == interrupt and rebuilt[1].subtasks == controller.subtasks
    episode = demonstrations[0]
    trace = controller.trace(episode.infos["inventory_change"], episode.observations)
    assert np.array_equal(trace, rebuilt[1].trace(episode.infos["inventory_change"], episode.observations))
    assert np.any(trace == controller.num_subtasks - 1) and not np.all(trace == controller.num_subtasks - 1)
    with pytest.raises(ValueError, match="needs `subtask_agents`"):
        dataclasses.replace(settings, subtask_agents=False)
    # a checkpoint from before several interrupts held one "interrupt": read alike
    file = tmp_path / "run" / "checkpoint.json"
    record = json.loads(file.read_text())
    saved = record["metadata"]["subtasks"]
    saved["interrupt"] = saved.pop("interrupts")[0]
    file.write_text(json.dumps(record))
    older = subtask_wrapper_from_checkpoint(tmp_path / "run", redistributor)
    assert older is not None and older[1].interrupts == (interrupt,) and older[1].subtasks == controller.subtasks
    saved["interrupt"] = None
    file.write_text(json.dumps(record))
    none = subtask_wrapper_from_checkpoint(tmp_path / "run", redistributor)
    assert none is not None and none[1].interrupts == () and none[1].subtasks == controller.subtasks[:-1]


def test_need_agents_come_after_the_reflex_agent_and_are_kept_in_the_checkpoint(tmp_path, demonstrations, monkeypatch):
    """need_agents: each need found gets an interrupt agent after the named interrupt (a
    stand-in finder gives one on the crafting world's depth); the checkpoint keeps both,
    in order, with the need's level to hold until; off by default, and refused without
    sub-task agents."""
    from rudder.agents.needs import Need
    from rudder.agents.sb3 import (
        load_redistributor_from_checkpoint,
        run,
        subtask_wrapper_from_checkpoint,
    )
    from rudder.agents.subtasks import SubtaskInterrupt
    from rudder.envs.craft import BLOCKS

    assert SB3RunSettings().need_agents is False
    depth = vector_size() - len(BLOCKS) - 1
    need = Need(feature=depth, below=0.2, until=0.5, start=0.1, end=0.6, fall=0.0, rise=1.0, top_ups=20, subtasks=3, action=0)
    seen = []
    monkeypatch.setattr(run, "demonstration_needs", lambda controller, demos, **kwargs: seen.append(controller) or [need])
    first = SubtaskInterrupt("first", feature=0, above=2.0)
    settings = dataclasses.replace(TINY_SUBTASK_RUN, subtask_interrupt=first, need_agents=True)
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamond-v0", max_steps=64)
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    outcome = train_sb3(make_env, demonstrations, settings=settings, encoder=encoder, seed=0, checkpoint=tmp_path / "run")
    assert len(seen) == 1 and seen[0].interrupts == ()  # the finder sees the sub-tasks without interrupts
    held = SubtaskInterrupt(f"need {depth}", feature=depth, below=0.2, until=0.5)
    assert outcome.controller is not None and outcome.controller.interrupts == (first, held)
    assert outcome.controller.subtasks[-2:] == ("first", f"need {depth}")
    redistributor = load_redistributor_from_checkpoint(tmp_path / "run")
    rebuilt = subtask_wrapper_from_checkpoint(tmp_path / "run", redistributor)
    assert rebuilt is not None and rebuilt[1].interrupts == (first, held)
    with pytest.raises(ValueError, match="need method 'align-rudder'"):
        dataclasses.replace(settings, subtask_interrupt=None, subtask_agents=False)


def test_reflex_agent_is_the_interrupt_the_demonstrations_show(tmp_path, demonstrations, monkeypatch):
    """reflex_agent: the run's interrupt is the one find_reflexes gives on the cloned
    demonstrations under the sub-tasks of the consensus (an oracle built here); where it
    finds none, the run is the run without reflex_agent; what it finds is kept in the
    checkpoint; the settings refuse it with a named interrupt or without sub-task agents."""
    from rudder.agents import reflexes
    from rudder.agents.sb3 import run
    from rudder.agents.subtasks import SubtaskController, SubtaskInterrupt

    settings = dataclasses.replace(TINY_SUBTASK_RUN, reflex_agent=True)
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamond-v0", max_steps=64)
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    outcome = train_sb3(make_env, demonstrations, settings=settings, encoder=encoder, seed=0, checkpoint=tmp_path / "run")
    assert outcome.controller is not None and outcome.redistributor is not None
    plain = SubtaskController.from_redistributor(outcome.redistributor, items=ITEMS)
    expected = reflexes.reflex_interrupt(reflexes.demonstration_reflexes(plain, demonstrations))
    assert outcome.controller.interrupt == expected
    if expected is None:  # four crafting-world demonstrations show no reflex
        off = dataclasses.replace(TINY_SUBTASK_RUN, reflex_agent=False)
        without = train_sb3(make_env, demonstrations, settings=off, encoder=encoder, seed=0)
        for name, tensor in outcome.model.policy.state_dict().items():
            assert torch.equal(tensor, without.model.policy.state_dict()[name])
    # with thresholds that let everything through, a reflex agent is trained and kept
    lenient = {"min_score": 0.0, "max_share": 1.0, "min_steps": 1, "min_subtasks": 1, "min_subtask_steps": 1}
    monkeypatch.setattr(
        run, "demonstration_reflexes", lambda *args, **kwargs: reflexes.demonstration_reflexes(*args, **kwargs, **lenient)
    )
    found = train_sb3(make_env, demonstrations, settings=settings, encoder=encoder, seed=0, checkpoint=tmp_path / "found")
    assert found.controller is not None and found.controller.interrupt is not None
    assert found.controller.subtasks[-1] == "reflex"
    (saved,) = read_checkpoint_record(tmp_path / "found")["metadata"]["subtasks"]["interrupts"]
    assert SubtaskInterrupt(**saved) == found.controller.interrupt
    with pytest.raises(ValueError, match="choose one"):
        dataclasses.replace(settings, subtask_interrupt=SubtaskInterrupt("x", feature=0, above=0.5))
    with pytest.raises(ValueError, match="needs method 'align-rudder'"):
        dataclasses.replace(settings, subtask_agents=False)


def test_reflexes_are_looked_for_by_default_where_they_can_be_used(tmp_path, demonstrations, monkeypatch):
    """reflex_agent=None (the default) is True wherever sub-task agents are used and no
    interrupt is named: with thresholds that let everything through, the default run's
    interrupt is the one reflex_agent=True finds, False finds none, a named interrupt is
    used as named, and methods without sub-task agents take the default without error."""
    from rudder.agents import reflexes
    from rudder.agents.sb3 import run
    from rudder.agents.subtasks import SubtaskInterrupt

    assert SB3RunSettings().reflex_agent is None and TINY_SUBTASK_RUN.reflex_agent is None
    lenient = {"min_score": 0.0, "max_share": 1.0, "min_steps": 1, "min_subtasks": 1, "min_subtask_steps": 1}
    monkeypatch.setattr(
        run, "demonstration_reflexes", lambda *args, **kwargs: reflexes.demonstration_reflexes(*args, **kwargs, **lenient)
    )
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamond-v0", max_steps=16)
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    tiny = dataclasses.replace(TINY_SUBTASK_RUN, total_timesteps=0)
    interrupts = {
        flag: train_sb3(
            make_env, demonstrations, settings=dataclasses.replace(tiny, reflex_agent=flag), encoder=encoder, seed=0
        ).controller.interrupt
        for flag in (None, True, False)
    }
    assert interrupts[None] is not None and interrupts[None] == interrupts[True] and interrupts[False] is None
    named = SubtaskInterrupt("surface", feature=vector_size() - 1, above=0.5)
    outcome = train_sb3(
        make_env, demonstrations, settings=dataclasses.replace(tiny, subtask_interrupt=named), encoder=encoder, seed=0
    )
    assert outcome.controller.interrupt == named
    for method in ("bc", "bc-ppo", "ppo"):
        assert SB3RunSettings(method=method).reflex_agent is None


def test_delayed_rewards_are_not_passed_on(demos, demonstrations):
    """Minigrid's reward and the crafting world's diamond come at the last step: the rule
    of ``subtask_env_reward=None`` passes nothing on there (the generality suite and the
    crafting world are paid as before)."""
    from rudder.agents.subtasks import rewards_are_immediate

    assert not rewards_are_immediate(demos) and not rewards_are_immediate(demonstrations)


def test_subtask_agents_keep_an_env_reward_that_is_paid_as_it_goes():
    """The rule of ``subtask_env_reward=None``: the crafting world's item rewards (paid as
    items are gained) are passed on to the sub-task agents, and their value targets on
    the demonstrations are the sub-goal payments plus those rewards; a setting overrides it."""
    from rudder.agents.sb3.run import _prepare
    from rudder.agents.subtasks import pay_for_goals
    from rudder.envs.craft import craft_demonstrations

    dense = craft_demonstrations(3, env_id="rudder/CraftDiamondDense-v0", seed=2)
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamondDense-v0")
    chosen = {}
    for weight in (None, 0.0):
        settings = SB3RunSettings(method="align-rudder", subtask_agents=True, subtask_env_reward=weight)
        prepared = _prepare(dense, settings, encoder, make_env=make_env, seed=0)
        saved = prepared.metadata["subtasks"]
        chosen[weight] = saved["env_reward_weight"]
        goals = [
            pay_for_goals(prepared.controller, np.asarray(saved["goal_rewards"]), episode) for episode in dense
        ]
        expected = [paid + chosen[weight] * episode.rewards for paid, episode in zip(goals, dense)]
        for targets, wanted in zip(prepared.value_rewards, expected, strict=True):
            np.testing.assert_allclose(targets, wanted)
    assert chosen == {None: 1.0, 0.0: 0.0}
    # Bootstrapped at the sub-goals, the cloned critic's targets run to the episode's end
    # and the checkpoint says so.
    within = _prepare(
        dense, SB3RunSettings(method="align-rudder", subtask_agents=True, subtask_bootstrap=False), encoder, make_env=make_env, seed=0
    )
    bootstrapped = _prepare(
        dense, SB3RunSettings(method="align-rudder", subtask_agents=True, subtask_bootstrap=True), encoder, make_env=make_env, seed=0
    )
    assert within.return_ends is not None and bootstrapped.return_ends is None
    assert bootstrapped.metadata["subtasks"]["subtask_bootstrap"] is True
    assert within.metadata["subtasks"]["subtask_bootstrap"] is False
    with pytest.raises(ValueError, match="subtask_env_reward"):
        SB3RunSettings(subtask_env_reward=-0.5)


@pytest.mark.slow  # > 8 s on 2 shared cores
def test_subtask_agents_on_minigrid_interactions():
    from rudder.envs.minigrid_tasks import (
        INTERACTIONS,
        interaction_encoder,
        make_minigrid_env,
        minigrid_demonstrations,
    )

    env_id = "MiniGrid-KeyCorridorS3R3-v0"
    demos = minigrid_demonstrations(env_id, 4, seed=3)
    settings = dataclasses.replace(
        TINY_SUBTASK_RUN, subtask_change_key="interaction_change", subtask_items=INTERACTIONS, settle_terminated=False
    )
    make_env = functools.partial(make_minigrid_env, env_id)
    seen = []

    def play(model, venv):
        venv.reset()
        for _ in range(20):
            *_, infos = venv.step(np.zeros(venv.num_envs, dtype=np.int64))
            seen.append(infos[0]["subtask"])

    outcome = train_sb3(make_env, demos, settings=settings, encoder=interaction_encoder(), seed=0, final_evaluation=play)
    assert outcome.controller.subtasks[-1] == "picked up ball"
    assert {"picked up key", "unlocked door", "dropped key"} <= set(outcome.controller.subtasks)
    assert set(seen) <= set(outcome.controller.subtasks)
    # Without `subtask_items` an encoder with no `items` cannot name the info entries.
    with pytest.raises(ValueError, match="subtask_items"):
        train_sb3(
            make_env,
            demos,
            settings=dataclasses.replace(settings, subtask_items=None),
            encoder=interaction_encoder(),
            seed=0,
        )


@pytest.mark.slow  # > 8 s on 2 shared cores
def test_cloning_augmentation_also_fits_the_mirrored_demonstrations(demonstrations):
    """``cloning_augmentation`` gets every demonstration as the agent sees it (progress
    and sub-task features appended) and behaviour cloning fits the extra episodes too."""
    seen = []

    def augment(episode):
        seen.append(episode)
        return mirror_episode(episode)

    settings = SB3RunSettings(
        method="align-rudder",
        subtask_agents=True,
        total_timesteps=0,
        n_envs=1,
        target_success=None,
        behavior_cloning=BehaviorCloningSettings(epochs=8),
    )
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamond-v0", max_steps=64)
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")

    def train(augmentation):
        return train_sb3(make_env, demonstrations, settings=settings, encoder=encoder, seed=0, cloning_augmentation=augmentation)

    augmented = train(augment)
    assert len(seen) == len(demonstrations)
    width = augmented.model.observation_space.shape[0]
    assert all(episode.observations.shape[1] == width > vector_size() for episode in seen)
    mirrored = [mirror_episode(episode) for episode in seen]
    plain = train(None)
    assert len(seen) == len(demonstrations)  # not called without augmentation

    def log_likelihood(model) -> float:
        observations = np.concatenate([episode.observations[:-1] for episode in mirrored])
        actions = np.concatenate([episode.actions for episode in mirrored])
        tensor, _ = model.policy.obs_to_tensor(observations)
        with torch.no_grad():
            _, log_prob, _ = model.policy.evaluate_actions(tensor, torch.as_tensor(actions))
        return float(log_prob.mean())

    assert log_likelihood(augmented.model) > log_likelihood(plain.model) + 0.1


def test_an_augmentation_may_return_several_episodes_each_held_out_with_its_original(demonstrations, monkeypatch):
    """Every image is cloned with its original's value targets and in its original's group."""
    import rudder.agents.sb3.run as run

    fitted = {}

    def capture(policy, episodes, **kwargs):
        fitted.update(episodes=list(episodes), **kwargs)
        return {"policy_loss": [0.0]}

    monkeypatch.setattr(run, "behavior_cloning", capture)
    settings = SB3RunSettings(method="bc", total_timesteps=0, n_envs=1, target_success=None)
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamond-v0", max_steps=64)
    train_sb3(make_env, demonstrations, settings=settings, seed=0, cloning_augmentation=lambda e: [mirror_episode(e), e])
    count = len(demonstrations)
    assert len(fitted["episodes"]) == 3 * count
    assert fitted["groups"] == [*range(count), *[index for index in range(count) for _ in range(2)]]
    for index in range(count):
        image = fitted["episodes"][count + 2 * index]
        np.testing.assert_array_equal(image.observations, mirror_episode(fitted["episodes"][index]).observations)
    with pytest.raises(TypeError, match="an Episode or a list of them"):
        train_sb3(make_env, demonstrations, settings=settings, seed=0, cloning_augmentation=lambda e: [e.observations])


def test_the_one_rule_chooses_subtask_agents_for_long_consensus_chains(redistributor, demonstrations):
    from rudder import AlignmentRedistributor
    from rudder.agents.sb3 import SUBTASK_AGENTS_MIN_GOALS, choose_subtask_agents

    # minigrid KeyCorridor: a short chain (key, door, ball, ...): the cloned network's
    # success decides (None); one network where the env does not name its events
    assert len(redistributor.profile.consensus) < SUBTASK_AGENTS_MIN_GOALS
    assert choose_subtask_agents(redistributor, ["key"]) is None
    assert choose_subtask_agents(redistributor, None) is False
    # the crafting world: a long chain of items: sub-task agents, if the env names its events
    craft = AlignmentRedistributor(InventoryEncoder(items=ITEMS, source="info", key="inventory_change")).fit(
        demonstrations
    )
    assert len(craft.profile.consensus) >= SUBTASK_AGENTS_MIN_GOALS
    assert choose_subtask_agents(craft, list(ITEMS)) is True
    assert choose_subtask_agents(craft, None) is False


def test_a_short_chain_that_cloning_cannot_walk_gets_subtask_agents(demos, tmp_path):
    from rudder.agents.sb3 import SUBTASK_AGENTS_MAX_CLONED_SUCCESS
    from rudder.envs.minigrid_tasks import INTERACTIONS, interaction_encoder, make_minigrid_env

    settings = SB3RunSettings(
        method="align-rudder",
        subtask_change_key="interaction_change",
        subtask_items=INTERACTIONS,
        total_timesteps=1024,
        n_envs=4,
        value_warmup=2,
        eval_every=10_000,
        eval_episodes=2,
        behavior_cloning=BehaviorCloningSettings(epochs=1),  # a clone that fails
        ppo=PPOSettings(n_steps=32, batch_size=64, n_epochs=1),
    )
    make_env = functools.partial(make_minigrid_env, ENV_ID)
    outcome = train_sb3(make_env, demos, settings=settings, encoder=interaction_encoder(), seed=0,
                        checkpoint=tmp_path / "run")
    # probed over the warm-up's 2 rollouts of 4 x 32 steps, then one more env step of 4
    # envs: at least 2 episodes per env, unfinished ones failures, so 8 or more episodes
    assert outcome.probe_success is not None and outcome.probe_success < SUBTASK_AGENTS_MAX_CLONED_SUCCESS
    assert outcome.probe_episodes is not None and outcome.probe_episodes >= 8
    assert outcome.controller is not None
    probe_steps = 2 * 32 * 4 + 4
    # both networks were evaluated after cloning: at 0 and where the sub-task agents start
    assert [point[0] for point in outcome.curve][:2] == [0, probe_steps]
    # PPO takes whole rollouts (4 x 32 steps) up to the budget, counting the probe's steps
    assert 1024 <= outcome.timesteps < 1024 + 128 or outcome.reached_at is not None
    # the checkpoint is the sub-task agents'
    assert "subtasks" in read_checkpoint_record(tmp_path / "run")["metadata"]
    # forced choices are not probed
    forced = train_sb3(make_env, demos, settings=dataclasses.replace(settings, subtask_agents=False, total_timesteps=256),
                       encoder=interaction_encoder(), seed=0)
    assert forced.probe_success is None and forced.controller is None


def test_reflex_augmentation_lets_the_search_see_the_images_cloning_fits(demonstrations, monkeypatch):
    """With reflex_augmentation (the default) the search for reflexes gets the
    demonstrations and the augmentation's images of them (in that order); without it, or
    without an augmentation, the demonstrations only."""
    from rudder.agents import reflexes
    from rudder.agents.sb3 import run

    seen: list[list] = []

    def spy(controller, episodes, **kwargs):
        seen.append(list(episodes))
        return reflexes.demonstration_reflexes(controller, episodes, **kwargs)

    monkeypatch.setattr(run, "demonstration_reflexes", spy)
    make_env = functools.partial(make_craft_env, "rudder/CraftDiamond-v0", max_steps=16)
    encoder = InventoryEncoder(items=ITEMS, source="info", key="inventory_change")
    tiny = dataclasses.replace(TINY_SUBTASK_RUN, total_timesteps=0)
    for widen, augmentation in ((True, mirror_episode), (False, mirror_episode), (True, None)):
        settings = dataclasses.replace(tiny, reflex_augmentation=widen)
        train_sb3(make_env, demonstrations, settings=settings, encoder=encoder, seed=0, cloning_augmentation=augmentation)
    widened, plain, unaugmented = seen
    count = len(demonstrations)
    assert len(widened) == 2 * count and len(plain) == count and len(unaugmented) == count
    for original, image in zip(widened[:count], widened[count:]):
        expected = mirror_episode(original)
        assert np.array_equal(image.observations, expected.observations)
        assert np.array_equal(image.actions, expected.actions)
    assert SB3RunSettings().reflex_augmentation and TINY_SUBTASK_RUN.reflex_augmentation
