"""Split MineRL demonstrations into the sub-tasks of Align-RUDDER's sub-task agents.

    python scripts/train_minerl.py --data $MINERL_DATA_ROOT --limit 200 \\
        --png runs/minerl_alignment.png --segments runs/minerl_segments.npz

The MineRL side of the paper's ObtainDiamond agent, in two parts.

Dataset part (needs neither the ``minerl`` package nor Java):

1. Streams the trajectories of the MineRL v0.4 dataset (``--data``, ``--environment``,
   ``--limit``) and keeps the successful ones (``--successful-only``).
2. Turns their inventory changes into events (one per item gained: "log", "planks", ...),
   aligns them and prints the consensus, e.g. "7× log, 5× planks, crafting_table, ...":
   the sub-goals found in at least ``--threshold`` of the demonstrations.
3. Makes each distinct consensus item a sub-task (a :class:`SubtaskController`: the
   sub-task in charge is the item of the first sub-goal not yet reached) and prints, for
   each sub-task, how many demonstration steps and trajectories it was in charge of.
4. With ``--segments FILE.npz``, writes those demonstration segments for behaviour
   cloning one policy per sub-task (the layout is below).

Env part: training the sub-task agents on the live env (``--env-id``) needs ``minerl``
(``pip install "align-rudder[minerl]"``, with Java 8) and is NOT implemented here: it is
future work, for a machine with minerl. The script says so and exits with status 3,
whether minerl is installed or not.

The ``--segments`` layout: one :func:`rudder.data.save_episodes` file of episodes, one
per segment, where a segment is a maximal run of steps of one demonstration with one
sub-task in charge (a sub-task repeated in the consensus may have several segments per
demonstration). The segments are ordered by sub-task, then demonstration, then time.
A segment of steps t0 .. t1-1 has the observations s_t0 .. s_t1, the actions, rewards
and infos of those steps, and three more per-step infos, int64 of shape (t1 - t0,):

- ``"subtask"``: the sub-task's index (the same at every step of a segment);
- ``"demonstration"``: the index of the demonstration among the kept ones;
- ``"step"``: the step's index in that demonstration.

The demonstration's last segment keeps its ``terminated`` and ``truncated`` flags; the
others are ``truncated`` (the next sub-task takes over). Next to it,
``FILE.subtasks.json`` names the sub-tasks (``"subtasks"``, in index order), the
consensus (``"consensus"``) and the inventory items of the events (``"items"``).

Exit status: 3 once the dataset part finished (the env part is not run, see above);
2 on bad arguments or data (the message says what is wrong).
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

#: The environment read from a data root that holds it, and the live env to train on.
DEFAULT_ENVIRONMENT = "MineRLObtainDiamond-v0"

#: Exit status once the dataset part finished: the env part is not run.
EXIT_NO_ENV_TRAINING = 3

#: Exit status on bad arguments or data.
EXIT_ERROR = 2


@dataclasses.dataclass
class Args:
    data: str = dataclasses.field(default_factory=lambda: os.environ.get("MINERL_DATA_ROOT", ""))
    environment: str = ""
    limit: int = 0
    successful_only: bool = True
    threshold: float = 0.8
    png: str = ""
    segments: str = ""
    env_id: str = DEFAULT_ENVIRONMENT

    def __post_init__(self) -> None:
        # A negative limit has no meaning; 0 already stands for "all".
        if self.limit < 0:
            raise ValueError(f"--limit must be >= 0 (0: all trajectories), got {self.limit}")
        # A share of demonstrations: 0 would make every column a sub-goal.
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"--threshold must be in (0, 1], got {self.threshold}")


HELP = {
    "data": "MINERL_DATA_ROOT, an environment folder or a trajectory folder; the default "
    "is the MINERL_DATA_ROOT environment variable",
    "environment": f"environment folder of the data root; empty: {DEFAULT_ENVIRONMENT} if "
    "the root holds it, else the root's only environment",
    "limit": "read at most this many trajectories, the first by name (0: all)",
    "successful_only": "keep only the trajectories whose metadata says success",
    "threshold": "consensus threshold: share of demonstrations a sub-goal needs",
    "png": "draw the alignment of the demonstrations to this PNG file",
    "segments": "write the per-sub-task demonstration segments to this .npz file",
    "env_id": "the live MineRL env to train the sub-task agents on (not implemented yet)",
}


# -- the dataset part ----------------------------------------------------------------------
def choose_environment(data: Path, environment: str) -> str | None:
    """The environment folder to read: ``environment`` if given, else
    :data:`DEFAULT_ENVIRONMENT` if ``data`` holds it, else None (the reader's choice)."""
    if environment:
        return environment
    if (data / DEFAULT_ENVIRONMENT).is_dir():
        return DEFAULT_ENVIRONMENT
    return None


def read_demonstrations(args: Args) -> list[Episode]:
    """The MineRL trajectories of ``args.data``, only the successful ones if asked."""
    from rudder.data.minerl import iter_minerl_episodes

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


def split_demonstrations(args: Args) -> None:
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
def train_subtask_agents(args: Args) -> int:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(
        Args, sys.argv[1:] if argv is None else argv, help=HELP, description=__doc__
    )
    try:
        split_demonstrations(args)
    except (RudderError, ValueError, FileNotFoundError) as error:
        print(f"train_minerl: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return train_subtask_agents(args)


if __name__ == "__main__":
    raise SystemExit(main())
