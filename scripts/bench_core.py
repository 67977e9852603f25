"""Core timings: the reward wrapper's overhead per env step, and our alignment beside ClustalW.

    python scripts/bench_core.py --repeats 9 --out benchmarks/results/core.json \\
        --markdown benchmarks/results/core.md

Run it alone on a quiet machine with ``--workers 1`` (the default): timings must not
share the cores. The configurations, the timings and the tables live in
:mod:`rudder.experiments.tasks.core`; the options shared by every benchmark
(``--resume``, ``--combine``, ``--plot-only``, ...) in :mod:`rudder.experiments.harness`.
"""

from rudder.experiments import main
from rudder.experiments.tasks.core import CORE

if __name__ == "__main__":
    raise SystemExit(main(CORE))
