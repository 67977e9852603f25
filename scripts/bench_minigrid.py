"""Env steps to an 80% success rate on minigrid: PPO, BC, BC+PPO and Align-RUDDER.

    python scripts/bench_minigrid.py --envs MiniGrid-KeyCorridorS3R3-v0 MiniGrid-DoorKey-8x8-v0 \\
        --methods ppo bc bc-ppo align-rudder --demos 10 --seeds 5 --budget 500000 --workers 2 \\
        --out benchmarks/results/minigrid.json --markdown benchmarks/results/minigrid.md \\
        --png benchmarks/results/minigrid.png

The task, its settings and its table live in :mod:`rudder.experiments.tasks.minigrid`;
the options shared by every benchmark (``--resume``, ``--combine``, ``--ray``, ...) in
:mod:`rudder.experiments.harness`.
"""

from rudder.experiments import main
from rudder.experiments.tasks.minigrid import MINIGRID

if __name__ == "__main__":
    raise SystemExit(main(MINIGRID))
