"""Benchmark the one-command client run: `loyaltylab report` on a large simulated client.

Usage::

    .venv/bin/python benchmarks/bench_report.py                     # 1,000,000 customers
    .venv/bin/python benchmarks/bench_report.py --customers 100000

The client folder is simulated once with ``make_crm`` and written as CSV files (the form a
client export takes): by default 1 million customers over six years (2020-2025), which
gives about 10.7 million orders and 38 million rows in all nine tables. Then
``loyaltylab report FOLDER --out DIR`` runs in a subprocess
under ``/usr/bin/time``-style accounting: wall time and peak resident memory (max RSS of the
child). Target (issue 8): 1 million customers and about 10 million orders in under 3
minutes and under 8 GB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loyaltylab.datasets._bundled import write_sample

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--years", type=int, default=6)
    ap.add_argument("--start", default="2020-01-01",
                    help="first day of the simulated history (it must end before today)")
    ap.add_argument("--folder", default=None, help="reuse a simulated client folder")
    args = ap.parse_args()

    folder = Path(args.folder or tempfile.mkdtemp(prefix="bench-report-"))
    if not (folder / "orders.csv").exists():
        t0 = time.perf_counter()
        write_sample(folder, n_customers=args.customers, years=args.years, seed=7,
                     start=args.start)
        print(f"simulated {args.customers:,} customers into {folder} in "
              f"{time.perf_counter() - t0:.1f} s")
    n_orders = sum(1 for _ in open(folder / "orders.csv")) - 1
    out = Path(tempfile.mkdtemp(prefix="bench-report-out-"))
    cmd = [sys.executable, "-m", "loyaltylab.cli", "report", str(folder), "--out", str(out),
           "--no-progress"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-4000:])
        raise SystemExit(f"loyaltylab report failed with exit code {proc.returncode}")
    print(f"loyaltylab report: {args.customers:,} customers, {n_orders:,} orders: "
          f"{wall:.1f} s wall, peak RSS {peak_gb:.2f} GB "
          f"(targets: < 180 s, < 8 GB) -> {'met' if wall < 180 and peak_gb < 8 else 'MISSED'}")


if __name__ == "__main__":
    main()
