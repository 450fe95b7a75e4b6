"""Benchmark loyaltylab.warehouse: the per-customer summaries inside DuckDB (through Ibis,
reading a .duckdb file) against the polars reference on the same orders in memory.

Usage::

    .venv/bin/python benchmarks/bench_warehouse.py [--orders 5000000] [--customers 500000]
        [--repeats 3] [--memory-limit 2GB] [--summaries rfm churn cohorts ladder periods]

Each (summary, engine) pair runs in its own process, so its peak memory (max RSS) is its
own: the polars side includes reading the orders into memory (from Parquet), the DuckDB
side opens the database file and gets back one row per customer. Medians of wall and CPU
seconds over the repeats, the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

CHILD = r"""
import json, resource, sys, time
import polars as pl
summary, engine, folder, limit = sys.argv[1:5]
t0, c0 = time.perf_counter(), time.process_time()
if engine == "polars":
    from loyaltylab.data.crmdata import CRMData
    orders = pl.read_parquet(folder + "/orders.parquet")
    if summary == "rfm":
        from loyaltylab.clv import rfm_summary
        out = rfm_summary(orders, calibration_end="2025-06-30", observation_end="2025-12-31")
    elif summary == "churn":
        from loyaltylab.churn import churn_table
        customers = pl.read_parquet(folder + "/customers.parquet")
        out = churn_table(CRMData(customers=customers, orders=orders), as_of="2025-12-31",
                          orders_before_acquisition="report").frame
    elif summary == "ladder":
        from loyaltylab.warehouse import ladder_stages
        customers = pl.read_parquet(folder + "/customers.parquet")
        out = ladder_stages(CRMData(customers=customers, orders=orders), as_of="2025-12-31")
    elif summary == "periods":
        from loyaltylab.warehouse import period_counts
        out = period_counts(orders, period="month", as_of="2025-12-31")
    else:
        from loyaltylab.metrics import cohort_retention
        out = cohort_retention(orders)
else:
    import ibis
    from loyaltylab import warehouse as W
    con = ibis.duckdb.connect(folder + "/shop.duckdb", read_only=True)
    con.raw_sql(f"SET memory_limit = '{limit}'")
    orders = con.table("orders")
    if summary == "rfm":
        out = W.rfm_summary(orders, calibration_end="2025-06-30",
                            observation_end="2025-12-31", salt="bench")
    elif summary == "churn":
        out = W.churn_base(orders, con.table("customers"), as_of="2025-12-31",
                           salt="bench").frame
    elif summary == "ladder":
        out = W.ladder_stages({"customers": con.table("customers"), "orders": orders},
                              as_of="2025-12-31", salt="bench")
    elif summary == "periods":
        out = W.period_counts(orders, period="month", as_of="2025-12-31")
    else:
        out = W.cohort_retention(orders)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": rss, "rows": out.height}))
"""


def make_data(folder: Path, n_orders: int, n_customers: int, seed: int = 7) -> None:
    """Orders spread over 2024-2025 (several a day for some customers), as Parquet and as a
    DuckDB file with the same rows."""
    import duckdb

    rng = np.random.default_rng(seed)
    cust = rng.integers(0, n_customers, n_orders)
    start_us = 1_704_067_200_000_000  # 2024-01-01
    us = start_us + rng.integers(0, 731 * 86_400, n_orders) * 1_000_000
    orders = pl.DataFrame({
        "order_id": pl.Series(np.arange(n_orders)).cast(pl.String),
        "customer_id": pl.Series(cust).cast(pl.String),
        "ordered_at": pl.Series(us).cast(pl.Datetime("us")),
        "amount": np.round(rng.gamma(2.0, 20.0, n_orders), 2)})
    customers = (orders.group_by("customer_id").agg(pl.col("ordered_at").min()
                                                      .alias("acquired_at"))
                 .sort("customer_id"))
    orders.write_parquet(folder / "orders.parquet")
    customers.write_parquet(folder / "customers.parquet")
    con = duckdb.connect(str(folder / "shop.duckdb"))
    try:
        con.execute(f"CREATE TABLE orders AS SELECT * FROM "
                    f"read_parquet('{folder}/orders.parquet')")
        con.execute(f"CREATE TABLE customers AS SELECT * FROM "
                    f"read_parquet('{folder}/customers.parquet')")
    finally:
        con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=5_000_000)
    ap.add_argument("--customers", type=int, default=500_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--summaries", nargs="+", default=["rfm", "churn", "cohorts"],
                    choices=["rfm", "churn", "cohorts", "ladder", "periods"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-warehouse-") as tmp:
        folder = Path(tmp)
        make_data(folder, args.orders, args.customers)
        print(f"{args.orders:,} orders, {args.customers:,} customers; load average before "
              f"{os.getloadavg()[0]:.1f}")
        print("summary  engine   wall s  CPU s  peak MB  rows")
        for summary in args.summaries:
            for engine in ("polars", "duckdb"):
                runs = []
                for _ in range(args.repeats):
                    res = subprocess.run([sys.executable, "-c", CHILD, summary, engine,
                                          str(folder), args.memory_limit],
                                         capture_output=True, text=True)
                    if res.returncode != 0:
                        print(res.stderr[-2000:])
                        return 1
                    runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
                med = {k: statistics.median(r[k] for r in runs)
                       for k in ("wall", "cpu", "rss_mb")}
                print(f"{summary:8s} {engine:7s} {med['wall']:7.1f} {med['cpu']:6.1f} "
                      f"{med['rss_mb']:8.0f}  {runs[0]['rows']:,}")
        print(f"load average after {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
