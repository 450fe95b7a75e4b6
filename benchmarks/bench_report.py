"""Benchmark the one-command client run: `loyaltylab report` on a large simulated client.

Usage::

    .venv/bin/python benchmarks/bench_report.py                     # 1,000,000 customers
    .venv/bin/python benchmarks/bench_report.py --customers 100000
    .venv/bin/python benchmarks/bench_report.py --folder F --repeats 3 --baseline /tmp/base

The client folder is simulated once with ``make_crm`` and written as CSV files (the form a
client export takes): by default 1 million customers over six years (2020-2025), which
gives about 10.7 million orders and 38 million rows in all nine tables. Then
``loyaltylab report FOLDER --out DIR`` runs in a subprocess; each run goes through a small
wrapper process whose only child is the run, so its ``RUSAGE_CHILDREN`` peak resident
memory is that run's own. With ``--baseline CHECKOUT`` (a ``git worktree`` of an earlier
commit), that checkout's ``loyaltylab report`` runs alternately with today's on the same
folder, and the medians and their ratio are printed: the side-by-side figure the speed
targets ask for. The load average is printed with every run.
Target (issue 8): 1 million customers and about 10 million orders in under 3 minutes and
under 8 GB; (issue 16) today / baseline wall <= 1.10.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loyaltylab.datasets._bundled import write_sample

ROOT = Path(__file__).resolve().parents[1]

_WRAPPER = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[2:], capture_output=True, text=True, cwd=sys.argv[1])
wall = time.perf_counter() - t0
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": p.returncode, "wall": wall, "cpu": u.ru_utime + u.ru_stime,
                  "gb": u.ru_maxrss / 1024**2, "tail": (p.stdout + p.stderr)[-3000:]}))
"""


def run_once(folder: Path, checkout: Path | None) -> dict:
    """One ``loyaltylab report`` run: wall s, CPU s, peak RSS GB, exit code."""
    out = Path(tempfile.mkdtemp(prefix="bench-report-out-")) / "out"
    cmd = [sys.executable, "-m", "loyaltylab.cli", "report", str(folder), "--out", str(out),
           "--no-progress"]
    env = dict(os.environ, MPLBACKEND="Agg")
    cwd = ROOT
    if checkout is not None:  # import loyaltylab from another checkout (PYTHONPATH first)
        env["PYTHONPATH"] = str(checkout)
        cwd = checkout
    load = os.getloadavg()[0]
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, str(cwd), *cmd],
                          capture_output=True, text=True, env=env, check=True)
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["load"] = load
    if res["rc"] not in (0, 1):
        print(res["tail"])
        raise SystemExit(f"loyaltylab report ({checkout or 'today'}) failed with exit code "
                         f"{res['rc']}")
    return res


def _line(label: str, runs: list[dict]) -> str:
    walls = ", ".join(f"{r['wall']:.1f}" for r in runs)
    loads = ", ".join(f"{r['load']:.1f}" for r in runs)
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    peak = max(r["gb"] for r in runs)
    return (f"{label:<9} wall median {wall:7.1f} s (runs {walls}), CPU median {cpu:7.1f} s, "
            f"peak RSS {peak:.2f} GB, load at start {loads}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--years", type=int, default=6)
    ap.add_argument("--start", default="2020-01-01",
                    help="first day of the simulated history (it must end before today)")
    ap.add_argument("--folder", default=None, help="reuse a simulated client folder")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--baseline", metavar="CHECKOUT", default=None,
                    help="a checkout of an earlier commit, run alternately with today's")
    args = ap.parse_args()

    folder = Path(args.folder or tempfile.mkdtemp(prefix="bench-report-"))
    if not (folder / "orders.csv").exists():
        t0 = time.perf_counter()
        write_sample(folder, n_customers=args.customers, years=args.years, seed=7,
                     start=args.start)
        print(f"simulated {args.customers:,} customers into {folder} in "
              f"{time.perf_counter() - t0:.1f} s")
    with open(folder / "orders.csv", "rb") as f:
        n_orders = sum(1 for _ in f) - 1
    print(f"loyaltylab report on {folder}: {n_orders:,} orders", flush=True)
    base = Path(args.baseline).resolve() if args.baseline else None
    today, then = [], []
    for _ in range(args.repeats):
        if base is not None:
            then.append(run_once(folder, base))
            print(_line("baseline", then[-1:]), flush=True)
        today.append(run_once(folder, None))
        print(_line("today", today[-1:]), flush=True)
    print(_line("today", today))
    wall = statistics.median(r["wall"] for r in today)
    peak = max(r["gb"] for r in today)
    print(f"targets < 180 s, < 8 GB -> {'met' if wall < 180 and peak < 8 else 'MISSED'}")
    if then:
        print(_line("baseline", then))
        ratio = wall / statistics.median(r["wall"] for r in then)
        cpu = (statistics.median(r["cpu"] for r in today)
               / statistics.median(r["cpu"] for r in then))
        print(f"today / baseline: wall {ratio:.2f}x, CPU {cpu:.2f}x "
              f"(target <= 1.10x) -> {'met' if ratio <= 1.10 else 'MISSED'}")


if __name__ == "__main__":
    main()
