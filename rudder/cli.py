"""The ``rudder`` command: align demonstrations, look at the alignment, redistribute reward.

    rudder quickstart                       built-in example, end to end
    rudder demos generate ENV_ID -n N -o DEMOS.npz
    rudder demos record ENV_ID --policy MODULE:FUNCTION -n N -o DEMOS.npz
                                            record any policy's episodes
    rudder align DEMOS -o MODEL_DIR         build and save a profile model (DEMOS: .npz,
                                            MineRL data folder, VPT .jsonl folder,
                                            minari:DATASET_ID or imitation:PATH)
    rudder show MODEL_DIR                   print a saved model's alignment
    rudder redistribute MODEL_DIR EPISODES.npz
    rudder train ENV_ID --demos N           tabular Align-RUDDER on FourRooms / EightRooms
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from rudder.arguments import add_options, settings_from
from rudder.data import Episode, load_episodes
from rudder.errors import RudderError
from rudder.events import FeatureClusterEncoder, InventoryEncoder, StateClusterEncoder
from rudder.events.base import EventEncoder
from rudder.profile import format_consensus
from rudder.redistribution import AlignmentRedistributor, AlignmentSettings, load_redistributor

EVENT_CHOICES = ("auto", "state-clusters", "feature-clusters", "inventory")
RECORD_ATTEMPTS = 100  # `demos record --successful-only`: tries per episode


def choose_encoder(kind: str, episodes: Sequence[Episode], *, seed: int = 0) -> EventEncoder:
    """The event encoder for ``kind``; "auto" picks one from the observations' type.

    Dict observations -> inventory changes; integer observations -> state clusters
    (successor representation + affinity propagation); float vectors -> feature clusters
    (features standardised on the demonstrations, the number of k-means clusters chosen by
    the silhouette score; see :class:`~rudder.events.FeatureClusterEncoder`). The encoder
    records its choices in the saved model.
    """
    if kind == "auto":
        observations = episodes[0].observations
        if isinstance(observations, Mapping):
            kind = "inventory"
        elif np.issubdtype(observations.dtype, np.integer):
            kind = "state-clusters"
        else:
            kind = "feature-clusters"
    if kind == "inventory":
        return InventoryEncoder()
    if kind == "state-clusters":
        observations = episodes[0].observations
        if isinstance(observations, Mapping):
            raise ValueError("state-clusters needs array observations, the episodes have dict observations")
        if observations.ndim > 1:
            stacked = np.concatenate([np.asarray(e.observations) for e in episodes])
            shape = tuple(int(x) + 1 for x in stacked.reshape(len(stacked), -1).max(axis=0))
            return StateClusterEncoder(state_shape=shape, seed=seed)
        return StateClusterEncoder(seed=seed)
    if kind == "feature-clusters":
        return FeatureClusterEncoder(seed=seed)
    raise ValueError(f"unknown event encoder {kind!r}; choose one of {', '.join(EVENT_CHOICES)}")


def _encoder_choices(encoder: EventEncoder) -> list[str]:
    """What an encoder chose by itself from the data (feature clusters: their number and
    why), and the warnings its fit raised."""
    if not isinstance(encoder, FeatureClusterEncoder) or encoder.cluster_choice is None:
        return []
    lines = [f"Clusters: {len(encoder.centroids)} ({encoder.cluster_choice}, {encoder.clustering})"]
    if encoder.silhouette_scores:
        lines.append("Silhouette by k: " + ", ".join(f"{k}: {v:.3f}" for k, v in sorted(encoder.silhouette_scores.items())))
    lines += [f"Warning: {message}" for message in encoder.fit_warnings]
    return lines


def _fit_time(encoder: EventEncoder) -> list[str]:
    seconds = getattr(encoder, "fit_seconds", None)
    return [] if seconds is None else [f"Encoder fit: {seconds:.2f} s"]


def describe_model(redistributor: AlignmentRedistributor, *, demonstrations: Sequence[Episode] | None = None) -> str:
    """Text report: the alignment with event names, consensus marks, per-demo scores."""
    alphabet = redistributor.encoder.alphabet
    profile = redistributor.profile
    alignment = redistributor.alignment
    consensus = profile.consensus
    labels = [f"demo {int(i)}" for i in redistributor.aligned_demos]
    lines = [
        f"Multiple alignment: {alignment.num_sequences} demonstrations x {alignment.length} columns, "
        f"{len(alphabet)} events ({type(redistributor.encoder).__name__})",
        *_encoder_choices(redistributor.encoder),
        *_fit_time(redistributor.encoder),
        f"Guide tree: {alignment.method} ({'k-mer distances' if alignment.method == 'kmer' else 'all pairwise scores'})",
        "",
        alignment.format(
            alphabet.names, sequence_names=labels, marked_columns=[c.column for c in consensus]
        ),
        "",
        f"Consensus (sub-goals, >= {profile.consensus_threshold:.0%} of demonstrations): "
        + (format_consensus([alphabet.name(c.event) for c in consensus]) or "none"),
        "",
        "Per-demonstration return and profile score gain (S_T - S_0):",
    ]
    for index, (episode_return, gain) in enumerate(zip(redistributor.demo_returns, redistributor.demo_scores)):
        aligned = "aligned" if index in set(redistributor.aligned_demos.tolist()) else "not aligned"
        lines.append(f"  demo {index:3d}: return {episode_return:9.4f}   score {gain:9.4f}   ({aligned})")
    rules = {
        "demonstrations": "mean return / mean score",
        "demonstrations and others": "slope of return on score over demonstrations and other episodes",
        "fallback": "fallback for returns that do not rise with progress",
    }
    rule = rules.get(str(redistributor.scale_source), str(redistributor.scale_source))
    lines.append(f"Scale C = {rule} = {redistributor.scale:.6g}")
    return "\n".join(lines)


def describe_redistribution(redistributor: AlignmentRedistributor, episode: Episode, *, index: int = 0) -> str:
    """Text table of one episode: env reward, redistributed reward, events, their sums."""
    rewards = redistributor.redistribute(episode)
    sequence = redistributor.encoder.encode(episode)
    names = redistributor.encoder.alphabet
    events_at: dict[int, list[str]] = {}
    for event, step in zip(sequence.events, sequence.steps):
        events_at.setdefault(int(step), []).append(names.name(int(event)))
    lines = [f"Episode {index}: T={episode.length}, return G={episode.episode_return:.6g}"]
    if events_at.get(0):
        lines.append(f"  events at reset: {', '.join(events_at[0])}")
    lines.append(f"  {'step':>5}  {'env reward':>11}  {'redistributed':>13}  events")
    for t in range(episode.length):
        lines.append(
            f"  {t:5d}  {episode.rewards[t]:11.4f}  {rewards[t]:13.4f}  {', '.join(events_at.get(t + 1, []))}"
        )
    lines.append(
        f"  {'sum':>5}  {episode.rewards.sum():11.4f}  {rewards.sum():13.4f}  "
        f"(difference {rewards.sum() - episode.episode_return:.2e})"
    )
    return "\n".join(lines)


def _add_alignment_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", choices=EVENT_CHOICES, default="auto", help="event encoder (default: auto)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the clustering (default 0)")
    # Every knob of the alignment and the profile, with AlignmentSettings' own defaults and help.
    settings = parser.add_argument_group("alignment and profile (AlignmentSettings)")
    add_options(settings, AlignmentSettings, flags={"scoring_form": "--scoring", "consensus_threshold": "--threshold"})
    parser.add_argument("--png", metavar="FILE", help="also draw the alignment as a PNG picture")


def _unfitted(args: argparse.Namespace, demonstrations: Sequence[Episode]) -> AlignmentRedistributor:
    """A new redistributor with the command line's encoder and alignment settings."""
    encoder = choose_encoder(args.events, demonstrations, seed=args.seed)
    return AlignmentRedistributor(encoder, **dataclasses.asdict(settings_from(AlignmentSettings, args)))


def _fit(
    args: argparse.Namespace, demonstrations: Sequence[Episode], others: Sequence[Episode] = ()
) -> AlignmentRedistributor:
    return _unfitted(args, demonstrations).fit(demonstrations, other_episodes=list(others) or None)


#: ``rudder align`` prints held-out diagnostics for up to this many demonstrations by default
#: (each of the folds is a new alignment).
DIAGNOSTICS_LIMIT = 200


def _diagnostics(args: argparse.Namespace, demonstrations: Sequence[Episode], others: Sequence[Episode]) -> None:
    """Prints how well the profile's score orders held-out demonstrations and other episodes."""
    from rudder.redistribution.diagnostics import ordering_diagnostics

    wanted = args.diagnostics if args.diagnostics is not None else len(demonstrations) <= DIAGNOSTICS_LIMIT
    if not wanted:
        return
    if len(demonstrations) < 3:
        print("Held-out diagnostics: need at least 3 demonstrations")
        return
    print()
    make = functools.partial(_unfitted, args, demonstrations)
    print(ordering_diagnostics(demonstrations, make, others=others, folds=5, seed=args.seed).format())


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuses outputs that cannot be written before any work is done."""
    from pathlib import Path

    for flag, value in (("-o", args.output), ("--png", getattr(args, "png", None))):
        if value is None:
            continue
        path = Path(value)
        if flag == "--png" and path.is_dir():
            raise ValueError(f"--png {value}: is a directory; give a file name")
        try:
            parent = path.resolve().parent
        except (OSError, RuntimeError) as error:  # a symlink loop
            raise ValueError(f"{flag} {value}: the path cannot be resolved ({error})") from None
        if not parent.is_dir():
            raise ValueError(f"{flag} {value}: the directory {str(parent)!r} does not exist; create it first")
        if flag == "-o" and path.exists() and not path.is_dir():
            raise ValueError(f"-o {value}: is a file, not a model directory; give a directory")


def _draw(redistributor: AlignmentRedistributor, path: str) -> None:
    from rudder.viz import plot_redistributor_alignment

    if not os.path.splitext(path)[1]:
        path += ".png"  # what matplotlib writes for a name without a suffix, said as such
    plot_redistributor_alignment(redistributor, path)
    print(f"Wrote the alignment picture to {path}")


def command_align(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rudder.data.minerl import iter_minerl_episodes
    from rudder.data.sources import load_demonstrations
    from rudder.data.vpt import iter_vpt_episodes
    from rudder.minecraft import MINERL_ITEMS

    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be >= 1, got {args.limit}")
    _check_outputs(args)
    others = load_demonstrations(args.others) if args.others is not None else []
    source = Path(args.demos)
    is_vpt = source.suffix == ".jsonl" or (source.is_dir() and any(source.rglob("*.jsonl")))
    if args.environment is not None and (is_vpt or not source.is_dir()):
        raise ValueError("--environment chooses a folder of a MineRL data root; the input is not one")
    if is_vpt:
        # Every recording holds other items; ObtainDiamond's items give all the same keys.
        demonstrations = list(
            iter_vpt_episodes(source, items=MINERL_ITEMS, limit=args.limit, progress=True)
        )
    elif source.is_dir():
        demonstrations = list(
            iter_minerl_episodes(source, environment=args.environment, limit=args.limit, progress=True)
        )
    else:
        demonstrations = load_demonstrations(args.demos)[: args.limit]
    if source.is_dir() or is_vpt:
        # Minecraft demonstrations: the events are the items gained (log, planks, ...).
        args.events = "inventory" if args.events == "auto" else args.events
        print(f"Read {len(demonstrations)} {'VPT' if is_vpt else 'MineRL'} demonstrations from {source}")
    redistributor = _fit(args, demonstrations, others)
    print(describe_model(redistributor))
    _diagnostics(args, demonstrations, others)
    redistributor.save(args.output)
    print(f"Wrote the model to {args.output}/")
    if args.png:
        _draw(redistributor, args.png)
    return 0


def _load_alignment_model(path: str) -> AlignmentRedistributor:
    """The alignment model saved at ``path`` (a RUDDER LSTM model has no alignment to show)."""
    redistributor = load_redistributor(path)
    if not isinstance(redistributor, AlignmentRedistributor):
        raise ValueError(
            f"{path!r} holds a {type(redistributor).__name__}; this command reads alignment models "
            "(written by `rudder align`)"
        )
    return redistributor


def command_show(args: argparse.Namespace) -> int:
    redistributor = _load_alignment_model(args.model)
    print(describe_model(redistributor))
    if args.png:
        _draw(redistributor, args.png)
    return 0


def command_redistribute(args: argparse.Namespace) -> int:
    redistributor = _load_alignment_model(args.model)
    episodes = load_episodes(args.episodes)
    indices = range(len(episodes)) if args.episode is None else [args.episode]
    for index in indices:
        if not 0 <= index < len(episodes):
            raise ValueError(f"--episode {index} is out of range: the file has {len(episodes)} episodes")
        try:
            text = describe_redistribution(redistributor, episodes[index], index=index)
        except TypeError as error:  # observations of another kind than the model's (dicts, text)
            raise ValueError(f"episode {index} of {args.episodes!r} does not fit the model {args.model!r}: {error}") from error
        print(text)
        print()
    return 0


def command_quickstart(args: argparse.Namespace) -> int:
    from rudder.data import record_episode
    from rudder.envs import FrozenLakeDemonstrator, frozen_lake_demonstrations, make_frozen_lake

    print(f"Recording {args.demos} demonstrations of FrozenLake 8x8 (reward 1 only at the goal) ...")
    demonstrations = frozen_lake_demonstrations(args.demos, seed=args.seed)
    # A higher preference than the paper's -0.5 gives finer clusters on this small map.
    encoder = StateClusterEncoder(preference=0.2, seed=args.seed)
    redistributor = AlignmentRedistributor(encoder).fit(demonstrations)
    print(describe_model(redistributor))
    env = make_frozen_lake()
    episode = record_episode(env, FrozenLakeDemonstrator(env, noise=0.3), seed=args.seed + 1000)
    print()
    print("A new episode, its delayed env reward and the redistributed reward:")
    print(describe_redistribution(redistributor, episode))
    if args.png:
        _draw(redistributor, args.png)
    return 0


def _make_rooms(env_id: str, paper_compat: bool):
    import gymnasium as gym

    import rudder.envs  # noqa: F401 - registers the envs
    from rudder.envs import RoomsEnv

    try:
        env = gym.make(env_id, paper_compat=paper_compat)
    except TypeError as error:
        raise ValueError(f"{env_id!r} is not a rooms env ({error}); try rudder/FourRooms-v0 or rudder/EightRooms-v0") from error
    except gym.error.Error as error:
        raise ValueError(f"cannot make {env_id!r}: {error}; try rudder/FourRooms-v0 or rudder/EightRooms-v0") from error
    if not isinstance(env.unwrapped, RoomsEnv):
        raise ValueError(f"{env_id!r} is not a rooms env; try rudder/FourRooms-v0 or rudder/EightRooms-v0")
    return env.unwrapped


def command_demos_generate(args: argparse.Namespace) -> int:
    from rudder.data import save_episodes
    from rudder.envs import rooms_demonstrations

    if args.num < 1:
        raise ValueError(f"-n must be >= 1, got {args.num}")
    if args.env_id.startswith("rudder/CraftDiamond"):
        import rudder.envs  # noqa: F401 - registers the envs
        from rudder.envs.craft import craft_demonstrations, with_item_keys

        demonstrations = [
            with_item_keys(episode)
            for episode in craft_demonstrations(
                args.num,
                env_id=args.env_id,
                seed=args.seed,
                noise=0.05 if args.noise is None else args.noise,
                include_failures=args.include_failures,
                vector=False,
            )
        ]
    else:
        env = _make_rooms(args.env_id, args.paper_compat)
        demonstrations = rooms_demonstrations(env, args.num, seed=args.seed, noise=args.noise)
    save_episodes(args.output, demonstrations)
    lengths = [d.length for d in demonstrations]
    returns = [d.episode_return for d in demonstrations]
    print(
        f"Wrote {len(demonstrations)} demonstrations of {args.env_id} to {args.output}: "
        f"lengths {min(lengths)}-{max(lengths)} (mean {np.mean(lengths):.1f}), mean return {np.mean(returns):.3f}"
    )
    return 0


def load_policy(spec: str) -> Callable[[Any], Any]:
    """Imports the policy that ``MODULE:FUNCTION`` names (``FUNCTION`` may be dotted: ``Class.method``).

    The policy is a callable ``policy(observation) -> action``, used as it is (not a
    factory): a plain function, or an object with ``__call__`` made when its module is
    imported. Policies that need the env or a seed build them at import time.

    Args:
        spec: ``"package.module:function"``, e.g. ``"rudder.envs.classic_control:mountain_car_policy"``.

    Returns:
        The callable.

    Raises:
        ValueError: if ``spec`` is not ``MODULE:FUNCTION``, the module cannot be imported,
            it has no such name, or the name is not callable.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--policy must be MODULE:FUNCTION (e.g. mypolicies:act), got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except (ImportError, SyntaxError) as error:
        raise ValueError(f"cannot import the policy's module {module_name!r}: {error}") from error
    policy: Any = module
    for name in attribute.split("."):
        try:
            policy = getattr(policy, name)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no {attribute!r} (from --policy {spec})") from None
    if not callable(policy):
        kind = type(policy).__name__
        raise ValueError(f"--policy {spec} is not callable (it is a {kind}); give a policy(observation) -> action")
    return policy


def _make_env(env_id: str, *, delayed: bool):
    import gymnasium as gym

    import rudder.envs  # noqa: F401 - registers the rudder/* envs
    from rudder.wrappers import DelayedReward

    if env_id.startswith("MiniGrid"):
        try:
            import minigrid  # noqa: F401 - registers the MiniGrid-* envs
        except ImportError:
            pass
    try:
        env = gym.make(env_id)
    except gym.error.Error as error:
        raise ValueError(f"cannot make env {env_id!r}: {error}") from error
    return DelayedReward(env) if delayed else env


def _success_test(env_id: str) -> tuple[Callable[[Episode], bool], str]:
    from rudder.envs.classic_control import SUCCESS_TESTS

    if env_id in SUCCESS_TESTS:
        return SUCCESS_TESTS[env_id], "the task's success"
    return (lambda episode: episode.episode_return > 0), "a positive return"


def _checked_policy(policy: Callable[[Any], Any], spec: str, action_space: Any) -> Callable[[Any, Any], Any]:
    """``policy`` in the recorder's protocol, its failures and wrong actions as clear errors."""

    def act(observation: Any, rng: Any) -> Any:  # noqa: ARG001 - the recorder's protocol
        try:
            action = policy(observation)
        except Exception as error:
            shape = getattr(observation, "shape", None)
            seen = f"a {type(observation).__name__} observation" if shape is None else f"an observation of shape {shape}"
            raise RudderError(f"the policy {spec} raised {type(error).__name__}: {error} (on {seen})") from error
        if not action_space.contains(action):
            raise RudderError(f"the policy {spec} returned {action!r}, which is not in the env's action space {action_space}")
        return action

    return act


def command_demos_record(args: argparse.Namespace) -> int:
    from rudder.data import record_episodes, save_episodes

    if args.num < 1:
        raise ValueError(f"-n must be >= 1, got {args.num}")
    if args.max_steps is not None and args.max_steps < 1:
        raise ValueError(f"--max-steps must be >= 1, got {args.max_steps}")
    # Like `python -m`: a policy module in the current directory can be imported.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    policy = load_policy(args.policy)
    env = _make_env(args.env_id, delayed=args.delayed)
    success, meaning = _success_test(args.env_id)
    try:
        episodes = record_episodes(
            env,
            _checked_policy(policy, args.policy, env.action_space),
            num_episodes=args.num,
            seed=args.seed,
            max_steps=args.max_steps,
            accept=success if args.successful_only else None,
            max_attempts=RECORD_ATTEMPTS if args.successful_only else 1,
            failure_hint=f": --successful-only keeps episodes with {meaning}, and the policy gave none",
        )
    except RuntimeError as error:
        raise RudderError(str(error)) from error
    save_episodes(args.output, episodes)
    lengths = [episode.length for episode in episodes]
    returns = [episode.episode_return for episode in episodes]
    successes = sum(success(episode) for episode in episodes)
    print(
        f"Wrote {len(episodes)} episode{'s' if len(episodes) != 1 else ''} of {args.env_id} to {args.output}: "
        f"lengths {min(lengths)}-{max(lengths)} "
        f"(mean {np.mean(lengths):.1f}), return mean {np.mean(returns):.2f} "
        f"(min {min(returns):.2f}, max {max(returns):.2f}), {successes} with {meaning}"
    )
    return 0


def command_train(args: argparse.Namespace) -> int:
    import time

    from rudder.agents import TabularSettings, train_until_threshold
    from rudder.envs import rooms_demonstrations

    env = _make_rooms(args.env_id, args.paper_compat)
    state_shape = (6, 6, env.num_rooms)
    demonstrations = rooms_demonstrations(env, args.demos, seed=args.seed)
    redistributor = AlignmentRedistributor(StateClusterEncoder(state_shape=state_shape, seed=args.seed))
    redistributor.fit(demonstrations)
    print(describe_model(redistributor))
    if args.png:
        _draw(redistributor, args.png)
    settings = TabularSettings(method=args.method, max_episodes=args.max_episodes)
    print(f"\nTraining {args.method} on {args.env_id} (paper_compat={args.paper_compat}) with {args.demos} demonstrations ...")
    start = time.perf_counter()
    result = train_until_threshold(
        lambda: _make_rooms(args.env_id, args.paper_compat),
        demonstrations,
        settings,
        seed=args.seed,
        state_shape=state_shape,
        redistributor=redistributor if args.method == "align-rudder" else None,
    )
    outcome = "reached" if result.reached else "did not reach"
    print(
        f"{outcome} 80% of the demonstrations' mean return ({result.threshold:.3f}) after "
        f"{result.episodes} training episodes ({result.env_steps} env steps, {time.perf_counter() - start:.1f} s)"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rudder", description="Align-RUDDER reward redistribution.")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)

    quickstart = commands.add_parser("quickstart", help="built-in example: demonstrations -> alignment -> redistributed reward")
    quickstart.add_argument("--demos", type=int, default=8, help="number of demonstrations (default 8)")
    quickstart.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    quickstart.add_argument("--png", metavar="FILE", help="also draw the alignment as a PNG picture")
    quickstart.set_defaults(handler=command_quickstart)

    demos = commands.add_parser("demos", help="demonstrations: generate them from a built-in demonstrator, or record a policy")
    demos_commands = demos.add_subparsers(dest="demos_command", required=True)
    generate = demos_commands.add_parser(
        "generate", help="record demonstrations of rudder/FourRooms-v0, rudder/EightRooms-v0 or rudder/CraftDiamond-v0"
    )
    generate.add_argument("env_id", metavar="ENV_ID", help="e.g. rudder/FourRooms-v0 or rudder/CraftDiamond-v0")
    generate.add_argument("-n", "--num", type=int, default=100, help="number of demonstrations (default 100)")
    generate.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    generate.add_argument("--noise", type=float, default=None, help="demonstrator noise (default: tuned to the paper's demonstrations)")
    generate.add_argument("--paper-compat", action="store_true", help="the official env with its unwinnable start rooms")
    generate.add_argument(
        "--include-failures", action="store_true", help="crafting world: keep episodes that ran out of time (like human data)"
    )
    generate.add_argument("-o", "--output", metavar="DEMOS.npz", required=True, help="file to write")
    generate.set_defaults(handler=command_demos_generate)
    record = demos_commands.add_parser(
        "record",
        help="record episodes of any gymnasium env with your own policy",
        description="Records episodes of ENV_ID (any registered gymnasium id; rudder/* and MiniGrid-* "
        "are registered on demand) with a policy, and writes them as an episodes .npz. Episode i is "
        "reset with seed SEED + i (with --successful-only, consecutive seeds over all attempts).",
    )
    record.add_argument("env_id", metavar="ENV_ID", help="e.g. MountainCar-v0, LunarLander-v3, MiniGrid-DoorKey-5x5-v0")
    record.add_argument(
        "--policy",
        metavar="MODULE:FUNCTION",
        required=True,
        help="a callable policy(observation) -> action, imported from MODULE (the current directory "
        "or an installed package), e.g. rudder.envs.classic_control:mountain_car_policy",
    )
    record.add_argument("-n", "--num", type=int, default=10, help="number of episodes (default 10)")
    record.add_argument("--seed", type=int, default=0, help="the first reset seed (default 0)")
    record.add_argument(
        "--max-steps", type=int, default=None, help="cut episodes after this many steps (default: the env's limit)"
    )
    record.add_argument(
        "--successful-only",
        action="store_true",
        help=f"keep only successful episodes, retrying up to {RECORD_ATTEMPTS} reset seeds each (success: the "
        "flag for MountainCar-v0, return >= 200 for LunarLander-v3, otherwise a positive return)",
    )
    record.add_argument(
        "--delayed", action="store_true", help="record through DelayedReward (the return paid at the last step)"
    )
    record.add_argument("-o", "--output", metavar="DEMOS.npz", required=True, help="file to write (atomically)")
    record.set_defaults(handler=command_demos_record)

    train = commands.add_parser("train", help="train a tabular agent on FourRooms / EightRooms until 80%% of the demo return")
    train.add_argument("env_id", metavar="ENV_ID", help="e.g. rudder/FourRooms-v0")
    train.add_argument("--demos", type=int, default=2, help="number of demonstrations (default 2)")
    train.add_argument("--method", choices=("align-rudder", "bc-q", "dqfd"), default="align-rudder")
    train.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    train.add_argument("--max-episodes", type=int, default=100_000, help="cap on training episodes")
    train.add_argument("--paper-compat", action=argparse.BooleanOptionalAction, default=True, help="the official env with its unwinnable start rooms (default on, to compare with the paper)")
    train.add_argument("--png", metavar="FILE", help="also draw the alignment as a PNG picture")
    train.set_defaults(handler=command_train)

    align = commands.add_parser("align", help="align demonstrations and write a profile model")
    align.add_argument(
        "demos",
        metavar="DEMOS",
        help="demonstrations: an episodes .npz (rudder.save_episodes), a MineRL v0.4 data root, "
        "environment folder or trajectory folder, a folder of VPT/BASALT .jsonl files, "
        "minari:DATASET_ID (a local Minari dataset) or imitation:PATH (imitation's saved trajectories)",
    )
    align.add_argument("-o", "--output", metavar="MODEL_DIR", required=True, help="directory to write the model to")
    align.add_argument("--environment", metavar="NAME", default=None, help="the MineRL environment folder to read from a data root, e.g. MineRLObtainDiamond-v0")
    align.add_argument("--limit", metavar="N", type=int, default=None, help="use at most N demonstrations (the first by name)")
    align.add_argument(
        "--others", metavar="EPISODES", default=None,
        help="episodes that are not demonstrations (random rollouts, an agent's): they fit the scale with the "
        "demonstrations and the diagnostics score them (same sources as DEMOS)",
    )
    align.add_argument(
        "--diagnostics", action=argparse.BooleanOptionalAction, default=None,
        help="print how well the score of held-out demonstrations and of --others orders their returns "
        f"(5 more alignments; default: on up to {DIAGNOSTICS_LIMIT} demonstrations)",
    )
    _add_alignment_options(align)
    align.set_defaults(handler=command_align)

    show = commands.add_parser("show", help="print the alignment of a saved model")
    show.add_argument("model", metavar="MODEL_DIR")
    show.add_argument("--png", metavar="FILE", help="also draw the alignment as a PNG picture")
    show.set_defaults(handler=command_show)

    redistribute = commands.add_parser("redistribute", help="print per-step redistributed rewards of episodes")
    redistribute.add_argument("model", metavar="MODEL_DIR")
    redistribute.add_argument("episodes", metavar="EPISODES.npz")
    redistribute.add_argument("--episode", type=int, default=None, help="only this episode (default: all)")
    redistribute.set_defaults(handler=command_redistribute)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``rudder`` command line; returns the exit code.

    Library errors, bad values and the OS's refusals (a missing, unreadable or
    unwritable path) become one line on stderr and exit code 2 (``rudder --debug ...``
    shows the traceback instead). A closed stdout (``rudder
    show MODEL | head -1``) ends the command quietly with exit code 1, as Python's
    documentation of SIGPIPE recommends.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        # Whatever is still buffered goes to /dev/null, so that Python's flush at exit
        # does not fail again and print a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (RudderError, ValueError, KeyError, OSError) as error:
        if args.debug:
            raise
        message = " ".join(str(error).split("\n"))
        print(f"rudder {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
