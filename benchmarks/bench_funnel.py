"""Benchmark: loyaltylab.funnel.assign_stages and transition_matrix (polars lazy queries)
against the same offline-ladder logic written in DuckDB SQL.

Synthetic data: N customers acquired over three years, ~20 events per customer on average
(60 % orders over four product lines, 35 % contacts, 5 % referrals). Both engines get the
same frames (DuckDB reads the polars frames through Arrow, zero-copy) and must produce the
same stage counts and the same transition matrix; the script checks that before timing.

Usage::

    .venv/bin/python benchmarks/bench_funnel.py --customers 1000000 --events 20000000
    .venv/bin/python benchmarks/bench_funnel.py --customers 200000 --events 4000000 --repeats 3
    # today's funnel against an earlier commit's (a checkout, e.g. `git worktree add
    # --detach /tmp/base <rev>`): the same two calls, each run in a fresh interpreter that
    # imports that checkout's loyaltylab, alternating with today's, on the same data
    # (written once to benchmarks/_work/); the results must agree
    .venv/bin/python benchmarks/bench_funnel.py --baseline /tmp/base --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

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
    long = (m_pl.drop("n").unpivot(index="from_state", on=states, variable_name="to",
                                   value_name="n")
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


WORK = Path(__file__).parent / "_work"
TABLES = ("customers", "orders", "contacts", "referrals")

# Timed in a fresh interpreter: the two calls of run_polars, with whichever loyaltylab
# PYTHONPATH points at. Earlier versions remembered their last ladder evaluation in a
# module-global cache (ll.funnel._MEMO); it is cleared before each call, so both calls do
# the full work in every version. "timeline" (today's only) evaluates once and passes the
# Timeline to both calls.
RUNNER = """
import json, sys, time
import polars as pl
import loyaltylab as ll
from loyaltylab.data.crmdata import CRMData
folder, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
AS_OF, T_START = ll._util.to_datetime("{as_of}"), ll._util.to_datetime("{t_start}")
data = CRMData(**{{t: pl.read_parquet(f"{{folder}}/{{t}}.parquet") for t in {tables!r}}},
               as_of=AS_OF)
memo = getattr(ll.funnel, "_MEMO", None)
t0, c0 = time.perf_counter(), time.process_time()
if mode == "timeline":
    tl = ll.funnel.OFFLINE.evaluate(data, as_of=AS_OF)
    st = ll.funnel.assign_stages(tl)
    m = ll.funnel.transition_matrix(tl, start=T_START, end=AS_OF, normalize=False)
else:
    if memo is not None:
        memo.clear()
    st = ll.funnel.assign_stages(data, as_of=AS_OF)
    if memo is not None:
        memo.clear()
    m = ll.funnel.transition_matrix(data, start=T_START, end=AS_OF, normalize=False)
s, cpu = time.perf_counter() - t0, time.process_time() - c0
counts = st.group_by("stage_rank").agg(pl.len(), pl.col("lapsed").sum()).sort("stage_rank")
print(json.dumps({{"s": s, "cpu": cpu, "module": ll.funnel.__file__,
                  "counts": counts.rows(), "matrix": m.rows()}}, default=str))
"""


def write_data(args) -> Path:
    """The benchmark data as Parquet files in benchmarks/_work (written once per size)."""
    folder = WORK / f"funnel_{args.customers}_{args.events}"
    if not (folder / ".done").exists():
        folder.mkdir(parents=True, exist_ok=True)
        data = make_data(args.customers, args.events)
        for name in TABLES:
            getattr(data, name).write_parquet(folder / f"{name}.parquet")
        (folder / ".done").touch()
    return folder


def measure(folder: Path, mode: str, checkout: str) -> dict:
    """One run in a fresh interpreter importing ``checkout``'s loyaltylab: wall and CPU
    seconds of the two calls (reading the data excluded), peak RSS of the whole process
    (a wrapper's RUSAGE_CHILDREN maximum), and the results to compare."""
    code = RUNNER.format(as_of=AS_OF.isoformat(), t_start=T_START.isoformat(),
                         tables=TABLES)
    wrapper = (
        "import json, resource, subprocess, sys\n"
        f"r = subprocess.run([sys.executable, '-c', {code!r}, {str(folder)!r}, {mode!r}, ''],"
        " capture_output=True, text=True)\n"
        "sys.stderr.write(r.stderr)\n"
        "res = json.loads(r.stdout.strip().splitlines()[-1])\n"
        "res['mb'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps(res))\n")
    # PYTHONPATH puts the checkout first; run in the data folder, since `python -c` puts
    # the working directory before PYTHONPATH (run from a checkout, it would win)
    env = dict(os.environ, PYTHONPATH=checkout)
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True,
                         env=env, cwd=folder)
    if out.returncode or not out.stdout.strip():
        raise RuntimeError(f"run against {checkout} failed:\n{out.stderr[-3000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if not Path(res["module"]).resolve().is_relative_to(Path(checkout).resolve()):
        raise RuntimeError(f"the run imported {res['module']}, not the checkout {checkout}")
    return res


def compare_with_baseline(args) -> None:
    folder = write_data(args)
    today = str(Path(__file__).resolve().parent.parent)
    base = str(Path(args.baseline).resolve())
    load = os.getloadavg()
    print(f"data in {folder}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"at start", flush=True)
    plan = [("baseline", base, "data"), ("today", today, "data")]
    if not args.no_timeline:
        plan.append(("today, one timeline", today, "timeline"))
    runs: dict[str, list[dict]] = {label: [] for label, _, _ in plan}
    for k in range(args.repeats):
        # the order flips every repeat (A B, B A, ...), so a load that rises or falls
        # during the benchmark does not favour one side
        for label, checkout, mode in (plan if k % 2 == 0 else plan[::-1]):
            r = measure(folder, mode, checkout)
            runs[label].append(r)
            print(f"  run {k + 1} {label:<20} {r['s']:7.2f} s wall  {r['cpu']:7.2f} s CPU  "
                  f"peak RSS {r['mb']:6.0f} MB  ({r['module']})", flush=True)
    ref = runs["baseline"][0]
    for label, rs in runs.items():
        for r in rs:
            if r["counts"] != ref["counts"] or r["matrix"] != ref["matrix"]:
                raise AssertionError(f"{label}: stage counts or transition matrix differ from "
                                     f"the baseline's")
    print("results agree: stage counts, lapsed counts and transition matrix identical")
    med = {label: (statistics.median(r["s"] for r in rs), statistics.median(r["cpu"] for r in rs),
                   max(r["mb"] for r in rs)) for label, rs in runs.items()}
    for label, (s, cpu, mb) in med.items():
        walls = ", ".join(f"{r['s']:.2f}" for r in runs[label])
        cpus = ", ".join(f"{r['cpu']:.2f}" for r in runs[label])
        print(f"{label:<20} wall median {s:7.2f} s (runs {walls})  CPU median {cpu:7.2f} s "
              f"(runs {cpus})  peak RSS {mb:6.0f} MB")
    for label in [lb for lb in runs if lb != "baseline"]:
        print(f"{label} / baseline: wall {med[label][0] / med['baseline'][0]:.2f}x, "
              f"CPU {med[label][1] / med['baseline'][1]:.2f}x")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at end")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=20_000_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--baseline", metavar="CHECKOUT",
                   help="a checkout of an earlier commit: its funnel is timed alternately "
                        "with today's on the same data, each in a fresh interpreter (instead "
                        "of the comparison with DuckDB)")
    p.add_argument("--no-timeline", action="store_true",
                   help="with --baseline: leave out today's run with one shared Timeline")
    args = p.parse_args()
    if args.baseline:
        compare_with_baseline(args)
        return
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
