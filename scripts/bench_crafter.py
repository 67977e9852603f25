"""Crafter (Hafner, ICLR 2022) after 1M env steps: PPO, BC, BC+PPO and Align-RUDDER,
scored by Crafter's own metric (the score over the 22 achievements' success rates,
every achievement's rate, the diamond rate), over the training episodes and for the
final policy.

    python scripts/bench_crafter.py --methods align-rudder bc-ppo bc ppo --demos 20 \\
        --seeds 3 --align-rudder-seeds 5 --budget 1000000 --workers 2 \\
        --out benchmarks/results/crafter.json --markdown benchmarks/results/crafter.md \\
        --png benchmarks/results/crafter.png

The demonstrator on its own (``--methods expert``: the scripted expert's episodes, no
training):

    python scripts/bench_crafter.py --methods expert --seeds 2 --final-episodes 100 \\
        --out benchmarks/results/crafter_expert.json --markdown benchmarks/results/crafter_expert.md

The task, its settings and its tables live in :mod:`rudder.experiments.tasks.crafter`;
the options shared by every benchmark (``--resume``, ``--combine``, ``--ray``, ...) in
:mod:`rudder.experiments.harness`.
"""

from rudder.experiments import main
from rudder.experiments.tasks.crafter import CRAFTER

if __name__ == "__main__":
    raise SystemExit(main(CRAFTER))
