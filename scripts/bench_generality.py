"""Generality: env steps to an 80% success rate on tasks nobody tuned for.

PPO, BC, BC+PPO, Align-RUDDER and RUDDER-LSTM+BC on three minigrid tasks and on
MountainCar and LunarLander with the return paid at the end, all with the library's
defaults (LunarLander needs Box2D: ``pip install "gymnasium[box2d]"``)::

    python scripts/bench_generality.py --demos 10 --seeds 5 --workers 2 \\
        --out benchmarks/results/generality.json --markdown benchmarks/results/generality.md \\
        --png benchmarks/results/generality.png
    python scripts/bench_generality.py --envs MountainCar-v0 --methods bc align-rudder \\
        --seeds 1 --budget 20000 --out mountain_car.json

The suite, its events rule, settings and table live in
:mod:`rudder.experiments.tasks.generality`; the options shared by every benchmark
(``--resume``, ``--combine``, ``--ray``, ``--demos-file``, ...) in
:mod:`rudder.experiments.harness`.
"""

from rudder.experiments import main
from rudder.experiments.tasks.generality import GENERALITY

if __name__ == "__main__":
    raise SystemExit(main(GENERALITY))
