"""Held-out behaviour cloning: the share of demonstrated actions a clone predicts on demonstrations it has not seen.

    python scripts/bench_cloning.py --tasks crafter --augmentations none mirror --seeds 2 \\
        --out benchmarks/results/cloning_mirror.json --markdown benchmarks/results/cloning_mirror.md

The task lives in :mod:`rudder.experiments.tasks.cloning`; the options shared by every
benchmark in :mod:`rudder.experiments.harness`.
"""

from rudder.experiments import main
from rudder.experiments.tasks.cloning import CLONING

if __name__ == "__main__":
    raise SystemExit(main(CLONING))
