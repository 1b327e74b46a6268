"""`make bench`: run the benchmarks one after another and print their figures.

    .venv/bin/python bench/run_all.py            # the quick ones (about 10 minutes)
    .venv/bin/python bench/run_all.py --all      # also scale (data generation) and the 10-minute soak

PostgreSQL figures use PORTAL_BENCH_PG (default postgresql://postgres@127.0.0.1:5432), one
database per benchmark, each dropped and rebuilt. Run on a quiet machine: other work on the
same two cores moves every time figure (bytes and statement counts do not move).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PG = os.environ.get("PORTAL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432").rstrip("/")


def steps(everything: bool) -> list[list[str]]:
    quick = [
        ["load.py", "--pg", f"{PG}/bench_load"],
        ["certificates_bench.py"],
        ["slow_network.py"],
    ]
    if not everything:
        return quick
    out = HERE / "out"
    scale = [
        ["scale_data.py", f"sqlite:///{out}/scale_small.db", "--learners", "1000"],
        ["scale_data.py", f"sqlite:///{out}/scale.db"],
        ["scale_data.py", f"{PG}/bench_scale_small", "--learners", "1000"],
        ["scale_data.py", f"{PG}/bench_scale"],
        ["scale_bench.py"],
    ]
    return quick + scale + [["soak.py"], ["soak.py", "--pg", f"{PG}/bench_soak"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="also the scale benchmark and the soak")
    args = parser.parse_args()
    (HERE / "out").mkdir(exist_ok=True)
    failed = []
    for step in steps(args.all):
        print(f"\n== bench/{' '.join(step)}", flush=True)
        if subprocess.run([sys.executable, str(HERE / step[0]), *step[1:]]).returncode != 0:
            failed.append(step[0])
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
