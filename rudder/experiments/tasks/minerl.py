"""MineRL: align human demonstrations and split them into the sub-tasks of Align-RUDDER's
sub-task agents (the dataset part of the paper's ObtainDiamond agent); see
``scripts/train_minerl.py`` for the command line and the segments file layout.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rudder.agents.subtasks import SubtaskController, split_into_segments, subtask_traces
from rudder.arguments import parse_arguments
from rudder.data import Episode
from rudder.errors import DependencyNotInstalled, RudderError

if TYPE_CHECKING:
    from rudder.redistribution import AlignmentRedistributor

__all__ = ["EXIT_ERROR", "EXIT_NO_ENV_TRAINING", "MinerlSettings", "minerl_main", "split_demonstrations"]

#: The environment read from a data root that holds it, and the live env to train on.
DEFAULT_ENVIRONMENT = "MineRLObtainDiamond-v0"

#: Exit status once the dataset part finished: the env part is not run.
EXIT_NO_ENV_TRAINING = 3

#: Exit status on bad arguments or data.
EXIT_ERROR = 2


@dataclasses.dataclass
class MinerlSettings:
    """The MineRL task's options."""

    data: str = dataclasses.field(default_factory=lambda: os.environ.get("MINERL_DATA_ROOT", ""))
    """MINERL_DATA_ROOT, an environment folder or a trajectory folder (default: the MINERL_DATA_ROOT environment variable)."""
    environment: str = ""
    """Environment folder of the data root; empty: MineRLObtainDiamond-v0 if the root holds it, else the root's only environment."""
    limit: int = 0
    """Read at most this many trajectories, the first by name (0: all)."""
    successful_only: bool = True
    """Keep only the trajectories whose metadata says success."""
    demos_file: str | None = None
    """Demonstrations from this .npz file (rudder.save_episodes, inventory/<item> observations) instead of the MineRL data."""
    threshold: float = 0.8
    """Consensus threshold: the share of demonstrations a sub-goal needs."""
    png: str = ""
    """Draw the alignment of the demonstrations to this PNG file."""
    segments: str = ""
    """Write the per-sub-task demonstration segments to this .npz file."""
    env_id: str = DEFAULT_ENVIRONMENT
    """The live MineRL env to train the sub-task agents on (not implemented yet)."""

    def __post_init__(self) -> None:
        # A negative limit has no meaning; 0 already stands for "all".
        if self.limit < 0:
            raise ValueError(f"--limit must be >= 0 (0: all trajectories), got {self.limit}")
        # A share of demonstrations: 0 would make every column a sub-goal.
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"--threshold must be in (0, 1], got {self.threshold}")




# -- the dataset part ----------------------------------------------------------------------
def choose_environment(data: Path, environment: str) -> str | None:
    """The environment folder to read: ``environment`` if given, else
    :data:`DEFAULT_ENVIRONMENT` if ``data`` holds it, else None (the reader's choice)."""
    if environment:
        return environment
    if (data / DEFAULT_ENVIRONMENT).is_dir():
        return DEFAULT_ENVIRONMENT
    return None


def read_demonstrations(args: MinerlSettings) -> list[Episode]:
    """The MineRL trajectories of ``args.data`` (or the episodes of ``args.demos_file``),
    only the successful ones if asked."""
    from rudder.data.minerl import iter_minerl_episodes
    from rudder.data.sources import load_demonstrations

    if args.demos_file:
        demonstrations = load_demonstrations(args.demos_file)
        print(f"Read {len(demonstrations)} demonstrations from {args.demos_file}")
        return demonstrations
    if not args.data:
        raise ValueError("no MineRL data: pass --data PATH or set MINERL_DATA_ROOT")
    data = Path(args.data).expanduser()
    environment = choose_environment(data, args.environment)
    episodes = iter_minerl_episodes(
        data, environment=environment, limit=args.limit or None, progress=True
    )
    read = kept = 0
    demonstrations = []
    for episode in episodes:
        read += 1
        if episode.terminated or not args.successful_only:
            kept += 1
            demonstrations.append(episode)
    successful = sum(episode.terminated for episode in demonstrations)
    print(
        f"Read {read} MineRL trajectories from {data}"
        + (f" ({environment})" if environment else "")
        + f"; kept {kept}"
        + (" successful ones" if args.successful_only else f", {successful} successful")
    )
    if not demonstrations:
        raise ValueError(
            f"none of the {read} trajectories is successful; pass --no-successful-only "
            "to align them all"
        )
    return demonstrations


def describe_subtasks(controller: SubtaskController, traces: Sequence[np.ndarray]) -> str:
    """One line per sub-task: its demonstration steps and trajectories in charge."""
    lines = [
        f"{controller.num_subtasks} sub-tasks (the agent in charge until its sub-goals are reached):"
    ]
    for index, name in enumerate(controller.subtasks):
        steps = sum(int(np.sum(trace == index)) for trace in traces)
        trajectories = sum(bool(np.any(trace == index)) for trace in traces)
        goals = controller.consensus.count(name)
        lines.append(
            f"  {index}: {name} ({goals} sub-goal{'s' if goals > 1 else ''}): {steps:,} "
            f"demonstration steps in {trajectories} of {len(traces)} trajectories"
        )
    return "\n".join(lines)


def write_segments(path: Path, segments: Sequence[Episode], controller: SubtaskController) -> Path:
    """Saves ``segments`` to ``path`` and the sub-task names next to it; returns the
    path of that ``.subtasks.json`` file."""
    from rudder.data import save_episodes

    if not segments:
        raise ValueError("the demonstrations have no steps: there are no segments to write")
    save_episodes(path, segments)
    names = path.with_name(f"{path.stem}.subtasks.json")
    names.write_text(
        json.dumps(
            {
                "subtasks": list(controller.subtasks),
                "consensus": list(controller.consensus),
                "items": list(controller.items),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return names


def draw_alignment(redistributor: AlignmentRedistributor, path: str) -> None:
    """Draws the alignment of the demonstrations, sub-goal columns marked, to ``path``."""
    from rudder.viz import plot_redistributor_alignment

    plot_redistributor_alignment(redistributor, path)
    print(f"Wrote the alignment picture to {path}")


def split_demonstrations(args: MinerlSettings) -> None:
    """The dataset part: align the demonstrations and split them into sub-tasks."""
    from rudder.events import InventoryEncoder
    from rudder.profile import format_consensus
    from rudder.redistribution import AlignmentRedistributor

    demonstrations = read_demonstrations(args)
    encoder = InventoryEncoder()
    redistributor = AlignmentRedistributor(encoder, consensus_threshold=args.threshold)
    redistributor.fit(demonstrations)
    names = [encoder.alphabet.name(column.event) for column in redistributor.profile.consensus]
    print(
        f"Consensus (sub-goals in >= {args.threshold:.0%} of the demonstrations): "
        f"{format_consensus(names) or '(none)'}"
    )
    if args.png:
        draw_alignment(redistributor, args.png)
    controller = SubtaskController.from_redistributor(redistributor, items=encoder.items)
    traces = subtask_traces(demonstrations, controller, prefix=encoder.prefix)
    print(describe_subtasks(controller, traces))
    if args.segments:
        segments = split_into_segments(demonstrations, traces)
        names_path = write_segments(Path(args.segments), segments, controller)
        print(f"Wrote {len(segments)} segments to {args.segments} (sub-task names: {names_path})")


# -- the env part --------------------------------------------------------------------------
def train_subtask_agents(args: MinerlSettings) -> int:
    """The env part, not implemented: says so and returns :data:`EXIT_NO_ENV_TRAINING`."""
    from rudder.envs.minerl import require_minerl

    not_implemented = (
        f"Training the sub-task agents on {args.env_id} is not implemented in this script "
        "yet (future work, for a machine with minerl)"
    )
    try:
        require_minerl()
    except DependencyNotInstalled as error:
        print(
            "The dataset part finished. The env part needs minerl, which is not installed.\n"
            f"{error}\n{not_implemented}, even with minerl installed.",
            file=sys.stderr,
        )
        return EXIT_NO_ENV_TRAINING
    print(f"The dataset part finished; minerl is installed. {not_implemented}.", file=sys.stderr)
    return EXIT_NO_ENV_TRAINING


def minerl_main(argv: Sequence[str] | None = None, *, description: str | None = None) -> int:
    """The command line of ``scripts/train_minerl.py``; returns the exit status."""
    args = parse_arguments(MinerlSettings, sys.argv[1:] if argv is None else argv, description=description or __doc__)
    try:
        split_demonstrations(args)
    except (RudderError, ValueError, FileNotFoundError) as error:
        print(f"train_minerl: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return train_subtask_agents(args)
