"""Benchmark: loyaltylab.funnel.assign_stages and transition_matrix (polars lazy queries)
against the same offline-ladder logic written in DuckDB SQL.

Synthetic data: N customers acquired over three years, ~20 events per customer on average
(60 % orders over four product lines, 35 % contacts, 5 % referrals). Both engines get the
same frames (DuckDB reads the polars frames through Arrow, zero-copy) and must produce the
same stage counts and the same transition matrix; the script checks that before timing.

Usage::

    .venv/bin/python benchmarks/bench_funnel.py --customers 1000000 --events 20000000
    .venv/bin/python benchmarks/bench_funnel.py --customers 200000 --events 4000000 --repeats 3
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from datetime import datetime, timedelta

import duckdb
import numpy as np
import polars as pl

import loyaltylab as ll
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData

START = datetime(2023, 1, 1)
AS_OF = datetime(2026, 1, 1)
T_START = datetime(2025, 1, 1)          # transition matrix: start..AS_OF


def make_data(n_customers: int, n_events: int, seed: int = 7) -> CRMData:
    rng = np.random.default_rng(seed)
    span_us = int((AS_OF - START).total_seconds() * 1e6)
    day_us = 86_400_000_000
    acq = np.sort(rng.integers(0, span_us, n_customers)) // day_us * day_us
    ids = pl.Series(S.CUSTOMER_ID, np.arange(n_customers)).cast(pl.String)
    start = np.datetime64(START, "us")
    customers = pl.DataFrame({S.CUSTOMER_ID: ids,
                              S.ACQUIRED_AT: start + acq.astype("timedelta64[us]"),
                              S.SEGMENT: rng.choice(["a", "b", "c"], n_customers)})

    def events(k):
        owner = rng.integers(0, n_customers, k)
        rest = span_us - acq[owner]
        t = acq[owner] + (rng.random(k) * rest).astype(np.int64) // day_us * day_us
        return owner, start + t.astype("timedelta64[us]")

    n_o, n_c = int(n_events * 0.60), int(n_events * 0.35)
    n_r = n_events - n_o - n_c
    o, t = events(n_o)
    orders = pl.DataFrame({S.ORDER_ID: pl.arange(0, n_o, eager=True).cast(pl.String),
                           S.CUSTOMER_ID: ids.gather(o), S.ORDERED_AT: t,
                           S.AMOUNT: np.full(n_o, 10.0),
                           S.PRODUCT_LINE: rng.choice(["core", "acc", "service", "premium"],
                                                      n_o, p=[0.7, 0.1, 0.1, 0.1])})
    o, t = events(n_c)
    contacts = pl.DataFrame({S.CUSTOMER_ID: ids.gather(o), S.CONTACTED_AT: t,
                             S.CHANNEL: np.full(n_c, "email")})
    o, t = events(n_r)
    referrals = pl.DataFrame({S.REFERRER_ID: ids.gather(o),
                              S.REFERRED_ID: ids.gather(rng.integers(0, n_customers, n_r)),
                              S.REFERRED_AT: t})
    return CRMData(customers=customers, orders=orders, contacts=contacts,
                   referrals=referrals, as_of=AS_OF)


# The offline ladder in SQL: the same rules as ll.funnel.OFFLINE (see its docstring).
_TIMELINE = """
WITH ev AS (
    SELECT customer_id AS pid, acquired_at AS t, 0 AS a, NULL::VARCHAR AS v
      FROM customers WHERE acquired_at <= $as_of
    UNION ALL SELECT customer_id, ordered_at, 1, product_line FROM orders
      WHERE ordered_at <= $as_of
    UNION ALL SELECT customer_id, contacted_at, 2, NULL FROM contacts
      WHERE contacted_at <= $as_of
    UNION ALL SELECT referrer_id, referred_at, 3, NULL FROM referrals
      WHERE referred_at <= $as_of
), flagged AS (
    SELECT *, (a = 1 AND row_number() OVER (PARTITION BY pid, a, t::DATE ORDER BY t) = 1)
              AS first_day
    FROM ev
), counted AS (
    SELECT pid, t,
      sum((a = 1)::INT) OVER w_all AS n_orders,
      sum((a = 2)::INT) OVER w_all AS n_contacts,
      sum(first_day::INT) OVER w_all AS n_days,
      sum((a = 1)::INT) OVER w_365 AS n_orders_365,
      count(DISTINCT CASE WHEN a = 1 THEN v END) OVER w_365 AS n_lines_365,
      sum((a = 3)::INT) OVER w_730 AS n_refs_730
    FROM flagged
    WINDOW w_all AS (PARTITION BY pid ORDER BY t
                     RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           w_365 AS (PARTITION BY pid ORDER BY t
                     RANGE BETWEEN INTERVAL '364 days 23:59:59.999999' PRECEDING
                     AND CURRENT ROW),
           w_730 AS (PARTITION BY pid ORDER BY t
                     RANGE BETWEEN INTERVAL '729 days 23:59:59.999999' PRECEDING
                     AND CURRENT ROW)
), per_time AS (
    SELECT pid, t, max(n_orders) AS n_orders, max(n_contacts) AS n_contacts,
           max(n_days) AS n_days, max(n_orders_365) AS n_orders_365,
           max(n_lines_365) AS n_lines_365, max(n_refs_730) AS n_refs_730
    FROM counted GROUP BY pid, t
), s1 AS (
    SELECT *,
      min(CASE WHEN n_contacts = 0 AND n_orders = 0 THEN t END) OVER p AS r0,
      min(CASE WHEN n_contacts >= 1 AND n_orders = 0 THEN t END) OVER p AS r1,
      min(CASE WHEN n_orders >= 1 THEN t END) OVER p AS r2,
      min(CASE WHEN n_days >= 2 THEN t END) OVER p AS r3
    FROM per_time WINDOW p AS (PARTITION BY pid)
), s2 AS (
    SELECT *, min(CASE WHEN (n_orders_365 >= 4 OR n_lines_365 >= 2) AND t >= r3 THEN t END)
              OVER (PARTITION BY pid) AS r4
    FROM s1
), s3 AS (
    SELECT *, min(CASE WHEN n_refs_730 >= 1 AND t >= r4 THEN t END)
              OVER (PARTITION BY pid) AS r5
    FROM s2
), raw AS (
    SELECT pid, any_value(r0) r0, any_value(r1) r1, any_value(r2) r2, any_value(r3) r3,
           any_value(r4) r4, any_value(r5) r5
    FROM s3 GROUP BY pid
), reached AS (
    SELECT pid,
      CASE WHEN least(r1, r2, r3, r4, r5) < r0 THEN NULL ELSE r0 END AS r0,
      CASE WHEN least(r2, r3, r4, r5) < r1 THEN NULL ELSE r1 END AS r1,
      CASE WHEN least(r3, r4, r5) < r2 THEN NULL ELSE r2 END AS r2,
      CASE WHEN least(r4, r5) < r3 THEN NULL ELSE r3 END AS r3,
      CASE WHEN r5 < r4 THEN NULL ELSE r4 END AS r4, r5
    FROM raw
), activity AS (
    SELECT customer_id AS pid, ordered_at AS t FROM orders WHERE ordered_at <= $as_of
    UNION ALL SELECT customer_id, contacted_at FROM contacts WHERE contacted_at <= $as_of
)
"""

_RANK = """CASE WHEN r5 <= {d} THEN 5 WHEN r4 <= {d} THEN 4 WHEN r3 <= {d} THEN 3
                WHEN r2 <= {d} THEN 2 WHEN r1 <= {d} THEN 1 WHEN r0 <= {d} THEN 0 END"""

SQL_ASSIGN = _TIMELINE + f"""
SELECT r.pid AS customer_id, {_RANK.format(d='$as_of')} AS stage_rank,
       coalesce(l.last <= $as_of - INTERVAL 365 DAYS, false) AS lapsed,
       r0, r1, r2, r3, r4, r5
FROM reached r LEFT JOIN (SELECT pid, max(t) AS last FROM activity GROUP BY pid) l
  USING (pid)
"""

SQL_TRANSITIONS = _TIMELINE + f"""
, states AS (
    SELECT r.pid, {_RANK.format(d='$start')} AS k0, {_RANK.format(d='$as_of')} AS k1,
           coalesce(l.last0 <= $start - INTERVAL 365 DAYS, false) AS lapsed0,
           coalesce(l.last1 <= $as_of - INTERVAL 365 DAYS, false) AS lapsed1
    FROM reached r LEFT JOIN (
        SELECT pid, max(t) FILTER (WHERE t <= $start) AS last0, max(t) AS last1
        FROM activity GROUP BY pid) l USING (pid)
)
SELECT CASE WHEN lapsed0 THEN 6 ELSE k0 END AS s0,
       CASE WHEN lapsed1 THEN 6 ELSE k1 END AS s1, count(*) AS n
FROM states WHERE k0 IS NOT NULL GROUP BY ALL ORDER BY ALL
"""


def run_polars(data):
    # each call evaluates the ladder itself (no timeline shared), so both calls do the full
    # work, as the two SQL queries do
    st = ll.funnel.assign_stages(data, as_of=AS_OF)
    m = ll.funnel.transition_matrix(data, start=T_START, end=AS_OF, normalize=False)
    return st, m


def run_duckdb(con):
    st = pl.from_arrow(con.sql(SQL_ASSIGN, params={"as_of": AS_OF}).to_arrow_table())
    m = pl.from_arrow(con.sql(SQL_TRANSITIONS, params={"as_of": AS_OF, "start": T_START})
                      .to_arrow_table())
    return st, m


def check(st_pl, m_pl, st_db, m_db):
    a = st_pl.group_by("stage_rank").agg(pl.len(), pl.col("lapsed").sum()).sort("stage_rank")
    b = (st_db.group_by(pl.col("stage_rank").cast(pl.Int64))
         .agg(pl.len(), pl.col("lapsed").sum()).sort("stage_rank"))
    if not a.equals(b):
        raise AssertionError(f"stage counts differ:\npolars {a}\nduckdb {b}")
    states = [*ll.funnel.OFFLINE.names, "lapsed"]
    long = (m_pl.drop("n").unpivot(index="from_state", on=states, variable_name="to", value_name="n")
            .filter(pl.col("n") > 0)
            .with_columns(pl.col("from_state").replace_strict(
                {s: i for i, s in enumerate(states)}, return_dtype=pl.Int64).alias("s0"),
                pl.col("to").replace_strict({s: i for i, s in enumerate(states)},
                                            return_dtype=pl.Int64).alias("s1"))
            .select("s0", "s1", pl.col("n").cast(pl.Int64)).sort("s0", "s1"))
    other = m_db.select(pl.col("s0").cast(pl.Int64), pl.col("s1").cast(pl.Int64),
                        pl.col("n").cast(pl.Int64)).sort("s0", "s1")
    if not long.equals(other):
        raise AssertionError(f"transition matrices differ:\npolars {long}\nduckdb {other}")


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=20_000_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    t0 = time.perf_counter()
    data = make_data(args.customers, args.events)
    print(f"data: {args.customers:,} customers, {args.events:,} events "
          f"({time.perf_counter() - t0:.1f} s to generate)")
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    for name in ("customers", "orders", "contacts", "referrals"):
        con.register(name, getattr(data, name).to_arrow())
    med_pl, t_pl, (st_pl, m_pl) = timed(lambda: run_polars(data), args.repeats)
    rss_pl = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med_db, t_db, (st_db, m_db) = timed(lambda: run_duckdb(con), args.repeats)
    check(st_pl, m_pl, st_db, m_db)
    print("results agree: stage counts, lapsed counts and transition matrix identical")
    print(f"polars  assign_stages + transition_matrix: median {med_pl:7.2f} s  "
          f"runs {[round(t, 2) for t in t_pl]}  (peak RSS after polars {rss_pl:,.0f} MB)")
    print(f"duckdb  same logic in SQL              : median {med_db:7.2f} s  "
          f"runs {[round(t, 2) for t in t_db]}")
    print(f"ratio polars / duckdb: {med_pl / med_db:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
