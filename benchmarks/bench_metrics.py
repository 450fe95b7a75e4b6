"""Benchmark: loyaltylab.metrics at scale.

1. The whole scorecard (``ll.metrics.scorecard``, 14 headline figures over two years, each
   computed by its own lazy query) on N customers, orders and contacts.
2. ``ll.metrics.cohort_retention`` (monthly cohorts, full grid) next to the same
   computation in DuckDB SQL and in a straightforward pandas version (the usual tutorial:
   ``to_period("M")``, ``groupby.transform("min")``, ``nunique``). All three must give the
   same frame before anything is timed. Conversions (polars -> pandas, registering frames
   with DuckDB through Arrow) happen before the clock starts.

Synthetic data: customers acquired uniformly over three years (2023-2025, as_of
2026-01-01), orders and contacts spread uniformly after acquisition, four product lines,
five contact channels, referrals for 5 % and complaints for 10 % of the customers.

Usage::

    .venv/bin/python benchmarks/bench_metrics.py --customers 1000000 --orders 10000000 \\
        --contacts 20000000 --repeats 3
    .venv/bin/python benchmarks/bench_metrics.py --customers 100000 --orders 1000000 \\
        --contacts 2000000
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import time
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import polars as pl

import loyaltylab as ll
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData

START = datetime(2023, 1, 1)
AS_OF = datetime(2026, 1, 1)
DAY_US = 86_400_000_000


def make_data(n_customers: int, n_orders: int, n_contacts: int, seed: int = 11) -> CRMData:
    rng = np.random.default_rng(seed)
    span = int((AS_OF - START).total_seconds() * 1e6)
    acq = np.sort(rng.integers(0, span, n_customers)) // DAY_US * DAY_US
    t0 = np.datetime64(START, "us")
    ids = pl.Series(S.CUSTOMER_ID, [f"C{i:07d}" for i in range(n_customers)])

    def pick(names, k, p=None):
        return pl.Series(names).gather(rng.choice(len(names), k, p=p))

    def times(owner):
        rest = span - acq[owner]
        t = acq[owner] + (rng.random(len(owner)) * rest).astype(np.int64) // DAY_US * DAY_US
        return t0 + t.astype("timedelta64[us]")

    customers = pl.DataFrame({
        S.CUSTOMER_ID: ids, S.ACQUIRED_AT: t0 + acq.astype("timedelta64[us]"),
        S.SEGMENT: pick(["relationship", "convenience", "price"], n_customers),
        S.ACQUISITION_CHANNEL: pick(["advertising", "partnership", "personal", "web",
                                     "referral"], n_customers),
        S.ACQUISITION_COST: rng.gamma(2.0, 20.0, n_customers),
        S.REWARD_SCHEME: pick(["every_purchase", "first_time_discount", "none"],
                              n_customers)})
    owner = rng.integers(0, n_customers, n_orders)
    orders = pl.DataFrame({
        S.ORDER_ID: pl.int_range(0, n_orders, eager=True).cast(pl.String),
        S.CUSTOMER_ID: ids.gather(owner), S.ORDERED_AT: times(owner),
        S.AMOUNT: np.round(rng.gamma(2.0, 40.0, n_orders), 2),
        S.PRODUCT_LINE: pick(["core", "accessories", "service", "premium"], n_orders,
                             p=[0.5, 0.2, 0.2, 0.1]),
        S.DISCOUNT: np.zeros(n_orders)})
    owner = rng.integers(0, n_customers, n_contacts)
    channel_idx = rng.choice(5, n_contacts, p=[0.8, 0.1, 0.04, 0.01, 0.05])
    contacts = pl.DataFrame({
        S.CUSTOMER_ID: ids.gather(owner), S.CONTACTED_AT: times(owner),
        S.CHANNEL: pl.Series(["email", "phone", "visit", "meeting", "web"]).gather(channel_idx),
        S.DIRECTION: pick(["outbound", "inbound"], n_contacts, p=[0.95, 0.05]),
        S.CAMPAIGN: pick([f"news-{m:02d}" for m in range(1, 13)], n_contacts),
        S.CONTACT_COST: np.array([0.1, 6.0, 45.0, 40.0, 0.5])[channel_idx]})
    n_ref = n_customers // 20
    owner = rng.integers(0, n_customers, n_ref)
    referrals = pl.DataFrame({S.REFERRER_ID: ids.gather(owner),
                              S.REFERRED_ID: ids.gather(rng.integers(0, n_customers, n_ref)),
                              S.REFERRED_AT: times(owner)})
    n_c = n_customers // 10
    owner = rng.integers(0, n_customers, n_c)
    opened = times(owner)
    resolved = opened + (rng.exponential(8.0, n_c) * DAY_US).astype("timedelta64[us]")
    complaints = pl.DataFrame({S.CUSTOMER_ID: ids.gather(owner), S.OPENED_AT: opened,
                               S.RESOLVED_AT: resolved,
                               S.CATEGORY: pick(["product", "service", "delivery", "billing"],
                                                n_c)})
    return CRMData(customers=customers, orders=orders, contacts=contacts,
                   referrals=referrals, complaints=complaints, as_of=AS_OF)


COHORT_SQL = """
WITH act AS (
    SELECT DISTINCT customer_id,
           year(ordered_at) * 12 + month(ordered_at) - 1 AS p
      FROM orders
), first AS (
    SELECT customer_id, min(p) AS c FROM act GROUP BY customer_id
), counts AS (
    SELECT f.c, a.p - f.c AS period, count(*) AS active
      FROM act a JOIN first f USING (customer_id)
     GROUP BY f.c, a.p - f.c
), sizes AS (
    SELECT c, active AS cohort_size FROM counts WHERE period = 0
), grid AS (
    SELECT c, cohort_size,
           unnest(range(0, (SELECT max(p) FROM act) - c + 1)) AS period
      FROM sizes
)
SELECT make_date(CAST(g.c // 12 AS INTEGER), CAST(g.c % 12 + 1 AS INTEGER), 1) AS cohort,
       g.period, g.cohort_size, coalesce(n.active, 0) AS active,
       coalesce(n.active, 0) / g.cohort_size AS rate
  FROM grid g LEFT JOIN counts n ON n.c = g.c AND n.period = g.period
 ORDER BY cohort, g.period
"""


def cohort_duckdb(con) -> pl.DataFrame:
    return pl.from_arrow(con.sql(COHORT_SQL).to_arrow_table())


def cohort_pandas(df: pd.DataFrame) -> pd.DataFrame:
    """The tutorial version: period objects, transform("min"), nunique, then the full grid."""
    df = df[["customer_id", "ordered_at"]].copy()
    df["order_month"] = df["ordered_at"].dt.to_period("M")
    df["cohort"] = df.groupby("customer_id")["order_month"].transform("min")
    counts = (df.groupby(["cohort", "order_month"])["customer_id"].nunique()
              .reset_index(name="active"))
    counts["period"] = (counts["order_month"] - counts["cohort"]).apply(lambda x: x.n)
    sizes = counts.loc[counts["period"] == 0, ["cohort", "active"]].rename(
        columns={"active": "cohort_size"})
    last = df["order_month"].max()
    rows = [(c, p, s) for c, s in zip(sizes["cohort"], sizes["cohort_size"])
            for p in range((last - c).n + 1)]
    grid = pd.DataFrame(rows, columns=["cohort", "period", "cohort_size"])
    out = grid.merge(counts[["cohort", "period", "active"]], on=["cohort", "period"],
                     how="left")
    out["active"] = out["active"].fillna(0).astype("int64")
    out["rate"] = out["active"] / out["cohort_size"]
    out["cohort"] = out["cohort"].dt.to_timestamp()
    return out.sort_values(["cohort", "period"]).reset_index(drop=True)


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--contacts", type=int, default=2_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scorecard-repeats", type=int, default=1)
    ap.add_argument("--skip-pandas", action="store_true")
    ap.add_argument("--only", choices=["scorecard", "cohort", "new"], default=None,
                    help="run one part; 'new' times the metrics added on 2026-11-26")
    args = ap.parse_args()

    t = time.perf_counter()
    data = make_data(args.customers, args.orders, args.contacts)
    print(f"data: {args.customers:,} customers, {data.orders.height:,} orders, "
          f"{data.contacts.height:,} contacts ({time.perf_counter() - t:.1f} s to generate); "
          f"polars threads: {pl.thread_pool_size()}")
    print(f"peak RSS after generating: {peak_rss_gb():.2f} GB")

    # ---------------------------------------------------------------- scorecard
    if args.only == "new":
        run_new(data)
    else:
        if args.only != "cohort":
            run_scorecard(data, args)
        if args.only != "scorecard":
            run_cohort(data, args)
    print(f"\npeak RSS {peak_rss_gb():.2f} GB")


def run_scorecard(data: CRMData, args) -> None:
    t_sc, sc = timed(lambda: ll.metrics.scorecard(data), args.scorecard_repeats)
    print(f"\nscorecard ({sc.height} figures): median {t_sc:.2f} s over "
          f"{args.scorecard_repeats} run(s); peak RSS so far {peak_rss_gb():.2f} GB")
    parts = {
        "revenue_per_customer": lambda: ll.metrics.revenue_per_customer(data),
        "defection_rate": lambda: ll.metrics.defection_rate(data),
        "repeat_purchase_rate": lambda: ll.metrics.repeat_purchase_rate(data),
        "contact_frequency": lambda: ll.metrics.contact_frequency(data, period="year"),
        "contact_conversion": lambda: ll.metrics.contact_conversion(data, by=None,
                                                                    period="year"),
        "complaint_rate": lambda: ll.metrics.complaint_rate(data),
    }
    for name, fn in parts.items():
        t_p, _ = timed(fn, 1)
        print(f"  {name:<22} {t_p:6.2f} s")


def run_new(data: CRMData) -> None:
    """One timed run of each metric added on 2026-11-26 (no peer: each is a few lazy
    queries; the point is that none of them falls off a cliff at scale)."""
    M = ll.metrics
    parts = {
        "purchase_regularity": lambda: M.purchase_regularity(data),
        "customer_regularity": lambda: M.customer_regularity(data),
        "biggest_vs_most_profitable": lambda: M.biggest_vs_most_profitable(data, margin=0.4),
        "cost_to_keep_vs_win": lambda: M.cost_to_keep_vs_win(data),
        "retention_by_resolution(category)": lambda: M.retention_by_resolution(
            data, by=S.CATEGORY),
        "follow_up_rate(purchase)": lambda: M.follow_up_rate(data),
        "follow_up_rate(lapse)": lambda: M.follow_up_rate(data, after="lapse"),
        "channel_responsiveness": lambda: M.channel_responsiveness(data),
        "departure_reasons": lambda: M.departure_reasons(data),
        "attention_by_stage": lambda: ll.funnel.attention_by_stage(
            data, ll.funnel.offline_ladder(client_lines=None)),
    }
    print("\nmetrics added on 2026-11-26, one run each:")
    for name, fn in parts.items():
        gc.collect()
        t_p, out = timed(fn, 1)
        print(f"  {name:<36} {t_p:6.2f} s  ({out.height:,} rows; peak RSS so far "
              f"{peak_rss_gb():.2f} GB)", flush=True)


def run_cohort(data: CRMData, args) -> None:
    orders = data.orders
    con = duckdb.connect()
    con.register("orders", orders.select(S.CUSTOMER_ID, S.ORDERED_AT).to_arrow())
    pdf = None if args.skip_pandas else orders.select(S.CUSTOMER_ID, S.ORDERED_AT).to_pandas()

    ours = ll.metrics.cohort_retention(orders)
    duck = cohort_duckdb(con)
    assert duck.height == ours.height, (duck.height, ours.height)
    assert duck["active"].to_list() == ours["active"].to_list()
    assert duck["cohort_size"].to_list() == ours["cohort_size"].to_list()
    if pdf is not None:
        pan = cohort_pandas(pdf)
        assert pan["active"].tolist() == ours["active"].to_list()
        assert len(pan) == ours.height
    print(f"\ncohort_retention: {ours.height:,} rows; polars, DuckDB"
          f"{'' if pdf is None else ' and pandas'} agree")

    t_pl, _ = timed(lambda: ll.metrics.cohort_retention(orders), args.repeats)
    t_dd, _ = timed(lambda: cohort_duckdb(con), args.repeats)
    print(f"  loyaltylab (polars lazy) median {t_pl:.3f} s")
    print(f"  DuckDB SQL               median {t_dd:.3f} s   ratio polars/DuckDB "
          f"{t_pl / t_dd:.2f}")
    if pdf is not None:
        t_pd, _ = timed(lambda: cohort_pandas(pdf), max(1, min(args.repeats, 2)))
        print(f"  pandas (tutorial)        median {t_pd:.3f} s   pandas/polars "
              f"{t_pd / t_pl:.1f}x")


if __name__ == "__main__":
    main()
