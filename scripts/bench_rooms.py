"""Episodes to 80% of the demonstrations' return on FourRooms / EightRooms (the paper's metric).

    python scripts/bench_rooms.py --envs rudder/FourRooms-v0 rudder/EightRooms-v0 \\
        --demos 2 5 10 50 100 --seeds 20 --methods align-rudder bc-q --workers 2 \\
        --out benchmarks/results/rooms.json --markdown benchmarks/results/rooms.md \\
        --png benchmarks/results/rooms.png

The task, its settings and its table live in :mod:`rudder.experiments.tasks.rooms`; the
options shared by every benchmark (``--resume``, ``--combine``, ``--ray``, ...) in
:mod:`rudder.experiments.harness`.
"""

from rudder.experiments import main
from rudder.experiments.tasks.rooms import ROOMS

if __name__ == "__main__":
    raise SystemExit(main(ROOMS))
