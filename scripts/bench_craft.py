"""Diamond success rate in the crafting world after a fixed budget: PPO, BC, BC+PPO and
Align-RUDDER sub-task agents, with per-item success rates like the paper's MineRL table.

    python scripts/bench_craft.py --methods align-rudder bc-ppo bc ppo --demos 10 20 \\
        --seeds 3 --budget 1000000 --workers 2 --out benchmarks/results/craft.json \\
        --markdown benchmarks/results/craft.md --png benchmarks/results/craft.png

The task, its settings and its table live in :mod:`rudder.experiments.tasks.craft`; the
options shared by every benchmark (``--resume``, ``--combine``, ``--ray``, ...) in
:mod:`rudder.experiments.harness`.
"""

from rudder.experiments import main
from rudder.experiments.tasks.craft import CRAFT

if __name__ == "__main__":
    raise SystemExit(main(CRAFT))
