"""Train Align-RUDDER sub-task agents (or PPO, BC, BC+PPO) to obtain a diamond in the
crafting world, from the scripted player's demonstrations (or your own, --demos-file).

    python scripts/train_craft.py --method align-rudder --demos 20 --budget 1000000 \\
        --checkpoint runs/craft --tensorboard runs/tb --png runs/craft_alignment.png
    python scripts/train_craft.py --resume runs/craft --budget 500000 --checkpoint runs/craft

Align-RUDDER turns the demonstrations' inventory changes into events, aligns them and
prints the consensus ("6× log, planks, crafting_table, stick, wooden_pickaxe, ...").
Each distinct consensus item becomes a sub-task with its own policy, cloned from the
demonstration steps of that sub-task and trained by PPO on the redistributed reward;
the inventory decides which sub-task is in charge. At the end the agent plays
``--final-episodes`` episodes and the per-item success rates are printed.
"""

from rudder.experiments.sb3 import train_main
from rudder.experiments.tasks.craft import CRAFT_TASK, CraftSettings

if __name__ == "__main__":
    raise SystemExit(train_main(CRAFT_TASK, CraftSettings, description=__doc__ or ""))
