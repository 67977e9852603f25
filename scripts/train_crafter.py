"""Train Align-RUDDER sub-task agents (or PPO, BC, BC+PPO) on Crafter from the scripted
expert's demonstrations (or your own, --demos-file), and save the agent.

    python scripts/train_crafter.py --method align-rudder --demos 20 --budget 1000000 \\
        --checkpoint runs/crafter --png runs/crafter_alignment.png
    python scripts/train_crafter.py --resume runs/crafter --budget 500000 --checkpoint runs/crafter

Align-RUDDER aligns the demonstrations' achievements, prints the consensus (the tech
tree: collect_wood, place_table, make_wood_pickaxe, collect_stone, ...) and gives every
consensus achievement a sub-task agent of its own, cloned on its demonstration steps
(and their mirror images) and trained by PPO on the redistributed reward. At the end
the agent plays ``--final-episodes`` episodes and every achievement's success rate is
printed. ``scripts/bench_crafter.py`` runs the same training over seeds and methods and
scores it with Crafter's metric; ``rudder.agents.sb3.load_checkpoint`` loads the saved
agent to watch it play.
"""

from rudder.experiments.sb3 import train_main
from rudder.experiments.tasks.crafter import CRAFTER_TASK, CrafterSettings

if __name__ == "__main__":
    raise SystemExit(train_main(CRAFTER_TASK, CrafterSettings, description=__doc__ or ""))
