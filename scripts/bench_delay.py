"""Episodes to solve a delayed-reward choice against the delay: TD, Monte Carlo, RUDDER, PPO.

    python scripts/bench_delay.py --delays 10 20 50 100 200 500 --seeds 5 \\
        --methods td mc rudder ppo --workers 2 --out benchmarks/results/delay.json \\
        --markdown benchmarks/results/delay.md --png benchmarks/results/delay.png

The task, its settings, its table and the log-log slopes live in
:mod:`rudder.experiments.tasks.delay`; the options shared by every benchmark
(``--resume``, ``--combine``, ``--plot-only``, ``--ray``, ...) in
:mod:`rudder.experiments.harness`.
"""

from rudder.experiments import main
from rudder.experiments.tasks.delay import DELAY

if __name__ == "__main__":
    raise SystemExit(main(DELAY))
