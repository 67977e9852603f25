"""Train PPO, BC, BC+PPO or Align-RUDDER on a minigrid task from planner demonstrations
(or your own, --demos-file).

    python scripts/train_minigrid.py --env MiniGrid-KeyCorridorS3R3-v0 --method align-rudder \\
        --demos 10 --budget 500000 --checkpoint runs/keycorridor --tensorboard runs/tb
    python scripts/train_minigrid.py --resume runs/keycorridor --budget 200000 --checkpoint runs/keycorridor

The planner records ``--demos`` successful demonstrations; Align-RUDDER turns their
object interactions (key picked up, door unlocked, ...) into events, aligns them into a
profile and pays reward for each sub-goal reached; the policy is cloned from the
demonstrations and fine-tuned by PPO. Training stops at ``--target`` success rate or
after ``--budget`` env steps. ``--resume DIR`` continues a checkpoint (same
redistributor, same optimizer state).
"""

from rudder.experiments.sb3 import train_main
from rudder.experiments.tasks.minigrid import MINIGRID_TASK, MinigridSettings

if __name__ == "__main__":
    raise SystemExit(train_main(MINIGRID_TASK, MinigridSettings, description=__doc__ or ""))
