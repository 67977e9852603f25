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

``--demos-file FILE.npz`` reads your own demonstrations (``inventory/<item>`` observations)
instead of the MineRL data.

Exit status: 3 once the dataset part finished (the env part is not run, see above);
2 on bad arguments or data (the message says what is wrong).
"""

from rudder.experiments.tasks.minerl import minerl_main


def main(argv=None) -> int:
    """The command line (see above); returns the exit status."""
    return minerl_main(argv, description=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
