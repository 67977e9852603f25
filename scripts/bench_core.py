"""Core timings: the reward wrappers' overhead per env step (per env and vectorised), our
alignment beside ClustalW (also under load), and large alignments (``--scaling``).

    python scripts/bench_core.py --measures wrapper vector alignment --scaling --repeats 9 \\
        --out benchmarks/results/core.json --markdown benchmarks/results/core.md \\
        --png benchmarks/results/core_scaling.png

Run it alone on a quiet machine with ``--workers 1`` (the default): timings must not
share the cores. The configurations, the timings and the tables live in
:mod:`rudder.experiments.tasks.core`; the options shared by every benchmark
(``--resume``, ``--combine``, ``--plot-only``, ...) in :mod:`rudder.experiments.harness`.
"""

from rudder.experiments import main
from rudder.experiments.tasks.core import CORE

if __name__ == "__main__":
    raise SystemExit(main(CORE))
