"""Benchmark ll.datasets.make_crm: wall time, CPU time and peak memory at scale.

Each repeat runs in a fresh Python process so that its peak resident memory (ru_maxrss)
is its own. The run is split into the simulation (numpy, building the nine frames) and
the validation through ``ll.from_frames`` (the loader's code path). As a peer, a
straightforward per-customer Python loop generates only the orders table of the same
buying process (what one would write without vectorising), at a smaller scale.

Usage::

    .venv/bin/python benchmarks/bench_make_crm.py --customers 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
n = int(sys.argv[1])
from loyaltylab.datasets._simulate import simulate_tables
from loyaltylab.data.load import from_frames
t0, c0 = time.perf_counter(), time.process_time()
tables, truth, as_of = simulate_tables(n, 3, 2026)
t1, c1 = time.perf_counter(), time.process_time()
data = from_frames(tables, as_of=as_of, truth=truth, source="bench")
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({
    "simulate_wall": t1 - t0, "simulate_cpu": c1 - c0,
    "validate_wall": t2 - t1, "validate_cpu": c2 - c1,
    "total_wall": t2 - t0, "total_cpu": c2 - c0,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "rows": {k: v.height for k, v in data.tables.items()},
}))
"""

PEER = r"""
import random, sys, time
from datetime import datetime, timedelta
import pandas as pd
n = int(sys.argv[1])
random.seed(1)
t0 = time.perf_counter()
rows = []
start = datetime(2023, 1, 1)
D = 1096
for i in range(n):
    acq = random.random() * D
    if random.random() > 0.55:
        continue                      # never buys
    gap = random.choice((32.0, 38.0, 45.0))
    day = acq + 1 + random.expovariate(1 / 30)
    end = day + random.expovariate(-__import__("math").log(1 - 0.28) / 365)
    k = 0
    while day < min(end, D):
        price = round(random.lognormvariate(4.0, 0.5), 2)
        rows.append({"order_id": f"O{len(rows) + 1:07d}", "customer_id": f"C{i + 1:06d}",
                     "ordered_at": start + timedelta(days=int(day)), "amount": price,
                     "product_line": random.choice(("core", "accessories", "service",
                                                    "premium")),
                     "discount": 0.0})
        day += random.expovariate(1 / gap)
        k += 1
orders = pd.DataFrame(rows)
print(time.perf_counter() - t0, len(orders))
"""


def run(code: str, *args: str) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                         text=True, check=True, env={**os.environ})
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peer-customers", type=int, default=20_000,
                    help="scale of the per-customer loop peer (orders only)")
    a = ap.parse_args()

    print(f"make_crm({a.customers:,} customers, years=3), {a.repeats} fresh processes; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    runs = []
    for r in range(a.repeats):
        res = json.loads(run(CHILD, str(a.customers)))
        runs.append(res)
        print(f"  run {r + 1}: total {res['total_wall']:.1f} s wall / {res['total_cpu']:.1f} s "
              f"CPU (simulate {res['simulate_wall']:.1f} s, validate "
              f"{res['validate_wall']:.1f} s), peak {res['peak_mb']:,.0f} MB")
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "rows"}
    rows = runs[0]["rows"]
    print(f"median: total {med['total_wall']:.1f} s wall, {med['total_cpu']:.1f} s CPU; "
          f"simulate {med['simulate_wall']:.1f} s wall ({med['simulate_cpu']:.1f} s CPU); "
          f"validate {med['validate_wall']:.1f} s wall ({med['validate_cpu']:.1f} s CPU); "
          f"peak {med['peak_mb']:,.0f} MB")
    print("rows: " + ", ".join(f"{k}={v:,}" for k, v in rows.items())
          + f"; total {sum(rows.values()):,}")

    # the peer: a per-customer Python loop producing only the orders table
    peer_t, peer_rows = map(float, run(PEER, str(a.peer_customers)).split())
    small = json.loads(run(CHILD, str(a.peer_customers)))
    print(f"peer at {a.peer_customers:,} customers: per-customer Python loop (orders only, "
          f"{int(peer_rows):,} rows) {peer_t:.2f} s vs make_crm (all nine tables, "
          f"{small['rows']['orders']:,} orders, validated) {small['total_wall']:.2f} s "
          f"-> ratio {peer_t / small['total_wall']:.1f}x; loop extrapolated to "
          f"{a.customers:,}: {peer_t * a.customers / a.peer_customers:.0f} s for orders alone")


if __name__ == "__main__":
    main()
