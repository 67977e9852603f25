"""Env steps per second of registered environments, with random actions (resets included).

    python scripts/bench_env_speed.py --envs rudder/CraftDiamond-v0 rudder/FourRooms-v0 \\
        --steps 200000 --out benchmarks/results/env_speed.json --markdown benchmarks/results/env_speed.md

The task lives in :mod:`rudder.experiments.tasks.env_speed`; the options shared by every
benchmark in :mod:`rudder.experiments.harness`. Keep ``--workers 1``: timings must not
share the cores.
"""

from rudder.experiments import main
from rudder.experiments.tasks.env_speed import ENV_SPEED

if __name__ == "__main__":
    raise SystemExit(main(ENV_SPEED))
