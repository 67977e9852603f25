"""Runs the reliability probes of issue 16 against one source tree and writes a table.

    python scripts/probe_reliability.py --tree /path/to/checkout --label after \
        -o benchmarks/results/reliability_probes_after

Every probe runs in a fresh temporary folder, in a worker that imports ``rudder`` from
``--tree`` with its memory and time bounded (see rudder.experiments.probes); the results
go to OUTPUT.json (one record per probe) and OUTPUT.md (probes by category and outcome,
then every crash, silent wrong result and data loss).

    python scripts/probe_reliability.py --return-equivalence 5000 \
        -o benchmarks/results/return_equivalence

measures instead how closely redistributed rewards sum to the return (OUTPUT.md).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

from rudder.experiments.probes import (
    format_failures,
    format_return_figures,
    format_table,
    probe_results_file,
    return_equivalence_figures,
    run_probes,
)
from rudder.experiments.results import write_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default=".", help="the checkout whose rudder package is probed (default: .)")
    parser.add_argument("--label", default="", help="a name for the tree in the report, e.g. before/after")
    parser.add_argument("--note", default="", help="a paragraph for the report, e.g. how the tree was checked out")
    parser.add_argument("--only", default=None, help="run only probes whose 'category: name' contains this text")
    parser.add_argument("--memory-gb", type=float, default=4.0, help="address-space limit of a worker (default 4)")
    parser.add_argument("--return-equivalence", metavar="N", type=int, default=None, help="measure return equivalence on N episodes instead")
    parser.add_argument("-o", "--output", required=True, help="OUTPUT (writes OUTPUT.json and OUTPUT.md)")
    args = parser.parse_args(argv)
    command = "python " + " ".join(shlex.quote(a) for a in ["scripts/probe_reliability.py", *(argv if argv is not None else sys.argv[1:])])
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if args.return_equivalence is not None:
        output.with_suffix(".md").write_text(format_return_figures(return_equivalence_figures(args.return_equivalence), command))
        print(output.with_suffix(".md").read_text())
        return 0
    tree = Path(args.tree).resolve()
    commit = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    start = time.perf_counter()
    results = run_probes(
        tree, memory_gb=args.memory_gb, progress=lambda line: print(line, file=sys.stderr),
        select_names=None if args.only is None else (lambda probe: args.only in f"{probe.category}: {probe.name}"),
    )
    seconds = time.perf_counter() - start
    record = probe_results_file(results, command=command, tree=str(tree), label=args.label, commit=commit, seconds=seconds)
    write_results(output.with_suffix(".json"), record)
    table = format_table(results)
    output.with_suffix(".md").write_text(
        f"# Reliability probes (issue 16): {args.label or tree.name} (commit {commit})\n\n"
        f"{len(results)} probes in {seconds:.0f} s. Command, run from the repository root of the probing code:\n\n"
        f"    {command}\n\n{args.note + chr(10) * 2 if args.note else ''}{table}\n\n## Crashes, silent wrong results and data loss\n\n{format_failures(results)}\n"
    )
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
