"""Benchmark loyaltylab.churn at scale: churn_table vs the same logic in DuckDB SQL, and
Kaplan-Meier and Cox (10 covariates) on the resulting table.

Usage::

    .venv/bin/python benchmarks/bench_churn.py                  # 1,000,000 customers
    .venv/bin/python benchmarks/bench_churn.py --customers 200000 --repeats 3

Each step runs in its own subprocess so its peak memory (max RSS) is its own; the synthetic
orders are generated once (fixed seed) and shared through Parquet files in a temp folder.
Prints the median time over repeats, the ratio churn_table / DuckDB, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from loyaltylab.data import schema as S

AS_OF = datetime(2026, 1, 1)
START = datetime(2023, 1, 1)
COVARIATES = ["segment", "reward_scheme", "acquisition_channel", "orders_90d",
              "acquisition_cost"]  # 2 + 2 + 4 + 1 + 1 = 10 design columns


def generate(n: int, folder: Path, seed: int = 1) -> None:
    """Customers and orders: ~6 orders per buyer over 3 years, 10 % never buy."""
    rng = np.random.default_rng(seed)
    days = (AS_OF - START).days
    acq = rng.integers(0, days, n)
    ids = np.char.add("C", np.char.zfill(np.arange(n).astype(str), 7))
    customers = pl.DataFrame({S.CUSTOMER_ID: ids}).with_columns(
        (pl.lit(START).cast(pl.Datetime("us")) + pl.duration(days=pl.Series(acq)))
        .alias(S.ACQUIRED_AT),
        pl.Series(S.SEGMENT, rng.choice(["relationship", "convenience", "price"], n)),
        pl.Series(S.REWARD_SCHEME, rng.choice(["every_purchase", "first_time_discount",
                                               "none"], n)),
        pl.Series(S.ACQUISITION_CHANNEL, rng.choice(["advertising", "partnership",
                                                     "personal", "web", "referral"], n)),
        pl.Series(S.ACQUISITION_COST, rng.gamma(2.0, 20.0, n)),
    )
    buyer = rng.random(n) < 0.9
    life = rng.exponential(700.0, n)
    gap = rng.lognormal(np.log(40.0), 0.3, n)
    end = np.minimum(acq + life, days + 200)            # some order after as_of
    k = np.where(buyer, 1 + rng.poisson(np.maximum(end - acq, 0) / gap), 0)
    owner = np.repeat(np.arange(n), k)
    offs = rng.random(owner.size) * np.maximum(end - acq, 1)[owner]
    first = np.r_[True, owner[1:] != owner[:-1]]
    offs[first] = 0.0
    day = np.floor(acq[owner] + offs).astype(np.int64)
    orders = pl.DataFrame({
        S.ORDER_ID: pl.arange(0, owner.size, eager=True).cast(pl.String),
        S.CUSTOMER_ID: ids[owner],
        "_day": day,
        S.AMOUNT: rng.gamma(2.0, 30.0, owner.size),
    }).select(S.ORDER_ID, S.CUSTOMER_ID,
              (pl.lit(START).cast(pl.Datetime("us")) + pl.duration(days=pl.col("_day")))
              .alias(S.ORDERED_AT), S.AMOUNT)
    customers.write_parquet(folder / "customers.parquet")
    orders.write_parquet(folder / "orders.parquet")


SQL = """
WITH known AS (
    SELECT customer_id, ordered_at FROM orders WHERE ordered_at <= $as_of
), per AS (
    SELECT customer_id, min(ordered_at) AS start, max(ordered_at) AS last_active,
           count(*) AS n_orders
    FROM known GROUP BY customer_id
), o90 AS (
    SELECT k.customer_id, count(*) AS orders_90d
    FROM known k JOIN per p USING (customer_id)
    WHERE k.ordered_at < p.start + INTERVAL 90 DAY
    GROUP BY k.customer_id
), base AS (
    SELECT customer_id, start, last_active,
           CASE WHEN last_active + INTERVAL 180 DAY <= $as_of
                THEN last_active + INTERVAL 180 DAY ELSE $as_of END AS "end",
           CAST(last_active + INTERVAL 180 DAY <= $as_of AS TINYINT) AS event,
           n_orders
    FROM per
)
SELECT b.customer_id, b.start, b.last_active, b."end",
       epoch_us(b."end" - b.start) / 86400e6 AS duration, b.event, b.n_orders,
       c.segment, c.acquisition_channel, c.reward_scheme,
       coalesce(o.orders_90d, 0) AS orders_90d
FROM base b LEFT JOIN customers c USING (customer_id)
            LEFT JOIN o90 o USING (customer_id)
ORDER BY b.customer_id
"""

SQL_REPORT = """
SELECT (SELECT count(*) FROM orders WHERE ordered_at > $as_of) AS orders_after,
       (SELECT count(*) FROM customers c
         WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id))
         AS without_orders
"""


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakSampler:
    """Samples the resident set size every 20 ms; ``peak`` is the highest seen."""

    def __init__(self) -> None:
        import threading

        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __enter__(self) -> PeakSampler:
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, _rss_mb())


def run_step(step: str, folder: Path, repeats: int) -> dict:
    from loyaltylab.data.crmdata import CRMData
    from loyaltylab import churn

    customers = pl.read_parquet(folder / "customers.parquet")
    orders = pl.read_parquet(folder / "orders.parquet")
    data = CRMData(customers=customers, orders=orders, as_of=AS_OF)
    times = []
    info: dict = {}
    if step in ("kaplan_meier", "cox"):
        table = churn.churn_table(data, inactivity="180d")
        if step == "cox":
            table = table.join(customers.select(S.CUSTOMER_ID, S.ACQUISITION_COST),
                               on=S.CUSTOMER_ID, how="left")
    base_rss = _rss_mb()
    sampler = PeakSampler().__enter__()
    if step == "churn_table":
        for _ in range(repeats):
            t0 = time.perf_counter()
            table = churn.churn_table(data, inactivity="180d")
            times.append(time.perf_counter() - t0)
        info["rows"] = table.height
        info["events"] = table.report.n_events
    elif step == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.register("customers", customers)
        con.register("orders", orders)
        con.execute("SET threads TO 2")
        for _ in range(repeats):
            t0 = time.perf_counter()
            table = con.sql(SQL, params={"as_of": AS_OF}).pl()
            rep = con.execute(SQL_REPORT, {"as_of": AS_OF}).fetchall()
            times.append(time.perf_counter() - t0)
        info["rows"] = table.height
        info["events"] = int(table["event"].sum())
        info["report"] = rep[0]
    elif step in ("kaplan_meier", "cox"):
        for _ in range(repeats):
            t0 = time.perf_counter()
            if step == "kaplan_meier":
                km = churn.KaplanMeier().fit(table, by="segment")
                _ = km.summary
            else:
                cox = churn.CoxModel(covariates=COVARIATES).fit(table)
                info["design_columns"] = len(cox.params_)
                info["concordance"] = round(cox.concordance_, 4)
            times.append(time.perf_counter() - t0)
        info["rows"] = table.height
    else:
        raise SystemExit(f"unknown step {step}")
    sampler.__exit__(None, None, None)
    info.update(step=step, times=times, median_s=statistics.median(times),
                rss_before_step_mb=base_rss, peak_rss_mb=sampler.peak,
                step_peak_extra_mb=sampler.peak - base_rss, max_rss_process_mb=_maxrss_mb())
    return info


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cox-repeats", type=int, default=1)
    ap.add_argument("--step", default=None)
    ap.add_argument("--folder", default=None)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(run_step(args.step, Path(args.folder), args.repeats)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        generate(args.customers, folder)
        n_orders = pl.scan_parquet(folder / "orders.parquet").select(pl.len()).collect().item()
        print(f"generated {args.customers:,} customers, {n_orders:,} orders in "
              f"{time.perf_counter() - t0:.1f} s (2-core machine, POLARS threads default)")
        results = {}
        for step, reps in (("churn_table", args.repeats), ("duckdb", args.repeats),
                           ("kaplan_meier", max(1, args.repeats // 2)),
                           ("cox", args.cox_repeats)):
            out = subprocess.run([sys.executable, __file__, "--step", step, "--folder",
                                  str(folder), "--repeats", str(reps)],
                                 capture_output=True, text=True, check=True,
                                 env={**os.environ})
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results[step] = r
            shown = ('rows', 'events', 'report', 'design_columns', 'concordance')
            print(f"{step:<13} median {r['median_s']:8.3f} s over {len(r['times'])} runs; "
                  f"peak RSS during step {r['peak_rss_mb']:,.0f} MB = "
                  f"{r['rss_before_step_mb']:,.0f} MB with inputs loaded + "
                  f"{r['step_peak_extra_mb']:,.0f} MB for the step; "
                  f"{ {k: v for k, v in r.items() if k in shown} }")
        ratio = results["churn_table"]["median_s"] / results["duckdb"]["median_s"]
        print(f"churn_table / DuckDB = {ratio:.2f}x (target <= 1.5x)")
        # Same answer: the shared columns of both tables are identical, row for row.
        import duckdb
        from loyaltylab import churn
        from loyaltylab.data.crmdata import CRMData

        customers = pl.read_parquet(folder / "customers.parquet")
        orders = pl.read_parquet(folder / "orders.parquet")
        ours = churn.churn_table(CRMData(customers=customers, orders=orders, as_of=AS_OF))
        con = duckdb.connect()
        con.register("customers", customers)
        con.register("orders", orders)
        theirs = con.sql(SQL, params={"as_of": AS_OF}).pl()
        cols = [S.CUSTOMER_ID, "start", "last_active", "end", "duration", "event",
                "n_orders", "orders_90d"]
        same = ours.select(cols).equals(theirs.select(cols).with_columns(
            pl.col("event").cast(pl.Int8), pl.col("n_orders", "orders_90d").cast(pl.Int64),
            pl.col("start", "last_active", "end").cast(pl.Datetime("us"))))
        print(f"identical results: {same}; report: orders after as_of "
              f"{ours.report.n_orders_after_as_of:,} (SQL {results['duckdb']['report'][0]:,}), "
              f"customers without orders {ours.report.n_without_orders:,} "
              f"(SQL {results['duckdb']['report'][1]:,})")


if __name__ == "__main__":
    main()
