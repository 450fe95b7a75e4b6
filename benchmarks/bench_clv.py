"""Benchmark loyaltylab.clv: rfm_summary against DuckDB SQL and lifetimes, and BG/NBD and
Pareto/NBD fits on a million customers against lifetimes' fitters.

Usage::

    .venv/bin/python benchmarks/bench_clv.py [--transactions 10000000] [--customers 1000000]
        [--repeats 3] [--lifetimes-python /tmp/lifetimes-venv/bin/python]

``lifetimes`` 0.11.3 is archived and does not run on the project's pandas/numpy; it is
called in a separate throwaway virtual environment (``--lifetimes-python``, built with
``python3.11 -m venv /tmp/lifetimes-venv && /tmp/lifetimes-venv/bin/pip install
lifetimes==0.11.3 pandas==1.5.3 numpy==1.26.4 "scipy<1.12"``); without it those columns are
skipped. The data are shared through .npy files in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from loyaltylab.clv import BetaGeo, ParetoNBD, rfm_summary
from loyaltylab.clv._simulate import simulate_bgnbd, simulate_pareto_nbd
from loyaltylab.data import schema as S

END = datetime(2025, 12, 31)

LIFETIMES_RFM = r"""
import json, sys, time
import numpy as np, pandas as pd
from lifetimes.utils import summary_data_from_transaction_data
folder, n, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cid = np.load(folder + "/cid.npy")[:n]; ts = np.load(folder + "/ts.npy")[:n]
amt = np.load(folder + "/amt.npy")[:n]
df = pd.DataFrame({"customer_id": cid, "ordered_at": pd.to_datetime(ts, unit="us"),
                   "amount": amt})
times = []
for _ in range(repeats):
    t = time.perf_counter()
    out = summary_data_from_transaction_data(df, "customer_id", "ordered_at", "amount",
                                             observation_period_end="2025-12-31", freq="D",
                                             freq_multiplier=7)
    times.append(time.perf_counter() - t)
print(json.dumps({"times": times, "rows": len(out), "freq_sum": float(out["frequency"].sum())}))
"""

LIFETIMES_FIT = r"""
import json, sys, time
import numpy as np
from lifetimes import BetaGeoFitter, ParetoNBDFitter
folder, model = sys.argv[1], sys.argv[2]
x = np.load(folder + f"/{model}_x.npy"); tx = np.load(folder + f"/{model}_tx.npy")
T = np.load(folder + f"/{model}_T.npy")
f = BetaGeoFitter() if model == "bg" else ParetoNBDFitter()
t = time.perf_counter()
f.fit(x, tx, T)
el = time.perf_counter() - t
print(json.dumps({"time": el, "params": {k: float(v) for k, v in f.params_.items()}}))
"""


def transactions(n: int, seed: int = 1) -> pl.DataFrame:
    """n orders of n // 10 customers over two years, with times of day and amounts."""
    rng = np.random.default_rng(seed)
    n_cust = max(n // 10, 1)
    cid = rng.integers(0, n_cust, n)
    start = datetime(2024, 1, 1).timestamp()
    ts = (start + rng.uniform(0, 730 * 86400, n)) * 1e6
    amt = np.round(rng.gamma(2.0, 20.0, n), 2)
    return pl.DataFrame({S.CUSTOMER_ID: cid.astype(np.int64), S.ORDERED_AT: ts.astype(np.int64),
                         S.AMOUNT: amt}).with_columns(
        pl.col(S.CUSTOMER_ID).cast(pl.String),
        pl.col(S.ORDERED_AT).cast(pl.Datetime("us")))


DUCK_SQL = f"""
WITH p AS (
  SELECT customer_id, date_trunc('day', ordered_at) AS d, sum(amount) AS v
  FROM orders WHERE date_trunc('day', ordered_at) <= TIMESTAMP '{END:%Y-%m-%d}'
  GROUP BY 1, 2),
c AS (
  SELECT customer_id, count(*) - 1 AS frequency, min(d) AS f, max(d) AS l, sum(v) AS tot,
         arg_min(v, d) AS first_v
  FROM p GROUP BY 1)
SELECT customer_id, frequency,
       epoch(l - f) / 604800.0 AS recency,
       epoch(TIMESTAMP '{END:%Y-%m-%d}' - f) / 604800.0 AS "T",
       CASE WHEN frequency > 0 THEN (tot - first_v) / frequency ELSE 0 END AS monetary_value
FROM c ORDER BY customer_id
"""


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def bench_rfm(n: int, repeats: int, lt_python: str | None, folder: Path) -> dict:
    orders = transactions(n)
    t_pl, ours = median_time(lambda: rfm_summary(orders, observation_end=END), repeats)
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("orders", orders)
    t_db, duck = median_time(lambda: con.sql(DUCK_SQL).pl(), repeats)
    same = (duck.height == ours.height
            and (duck["frequency"] == ours["frequency"]).all()
            and float((duck["recency"] - ours["recency"]).abs().max()) < 1e-9
            and float((duck["monetary_value"] - ours["monetary_value"]).abs().max()) < 1e-6)
    res = {"transactions": n, "customers": ours.height, "polars_s": t_pl, "duckdb_s": t_db,
           "same_result": bool(same)}
    if lt_python:
        np.save(folder / "cid.npy", orders[S.CUSTOMER_ID].cast(pl.Int64).to_numpy())
        np.save(folder / "ts.npy", orders[S.ORDERED_AT].cast(pl.Int64).to_numpy())
        np.save(folder / "amt.npy", orders[S.AMOUNT].to_numpy())
        lt_reps = 1 if n > 2_000_000 else repeats
        try:
            p = subprocess.run([lt_python, "-c", LIFETIMES_RFM, str(folder), str(n),
                                str(lt_reps)], capture_output=True, text=True, timeout=1800)
            out = json.loads(p.stdout.strip().splitlines()[-1])
            res["lifetimes_s"] = statistics.median(out["times"])
            res["lifetimes_same_frequency_sum"] = (
                out["freq_sum"] == float(ours["frequency"].sum()))
        except Exception as e:  # noqa: BLE001 - report, do not hide
            res["lifetimes_error"] = f"{type(e).__name__}: {e}"
    return res


def bench_fit(n: int, repeats: int, lt_python: str | None, folder: Path,
              resolution: float | None) -> list[dict]:
    rows = []
    for key, cls, sim, true in (
            ("bg", BetaGeo, simulate_bgnbd,
             dict(r=0.243, alpha=4.414, a=0.793, b=2.426)),
            ("pnbd", ParetoNBD, simulate_pareto_nbd,
             dict(r=0.553, alpha=10.578, s=0.606, beta=11.669))):
        d = sim(n, seed=3, resolution=resolution, **true)
        t, m = median_time(lambda: cls().fit(d), repeats)
        row = {"model": cls.__name__, "customers": n,
               "times": "days (1/7 week)" if resolution else "continuous",
               "loyaltylab_s": t, "params": {k: round(v, 4) for k, v in m.params_.items()},
               "true": true}
        if lt_python and (key == "bg" or n <= 200_000):
            for col, name in (("frequency", "x"), ("recency", "tx"), ("T", "T")):
                np.save(folder / f"{key}_{name}.npy", d[col].to_numpy())
            try:
                p = subprocess.run([lt_python, "-c", LIFETIMES_FIT, str(folder), key],
                                   capture_output=True, text=True, timeout=1800)
                out = json.loads(p.stdout.strip().splitlines()[-1])
                row["lifetimes_s"] = out["time"]
                row["lifetimes_params"] = {k: round(v, 4) for k, v in out["params"].items()}
            except Exception as e:  # noqa: BLE001
                row["lifetimes_error"] = f"{type(e).__name__}: {e} {p.stderr[-300:]!r}"
        rows.append(row)
    return rows


LIFETIMES_CDNOW = r"""
import json, sys, time
import pandas as pd
from lifetimes import BetaGeoFitter, ParetoNBDFitter
d = pd.read_csv(sys.argv[1])
out = {}
for name, cls in (("BetaGeo", BetaGeoFitter), ("ParetoNBD", ParetoNBDFitter)):
    t = time.perf_counter()
    f = cls().fit(d["frequency"], d["recency"], d["T"])
    out[name] = {"time": time.perf_counter() - t,
                 "params": {k: round(float(v), 4) for k, v in f.params_.items()}}
print(json.dumps(out))
"""


def bench_cdnow(repeats: int, lt_python: str | None) -> None:
    """Both fitters on the published CDNOW summary (2,357 customers)."""
    path = Path(__file__).resolve().parents[1] / "data" / "cdnow" / "cdnow_customers_summary.csv"
    rfm = pl.read_csv(path)
    lt = {}
    if lt_python:
        p = subprocess.run([lt_python, "-c", LIFETIMES_CDNOW, str(path)], capture_output=True,
                           text=True, timeout=600)
        lt = json.loads(p.stdout.strip().splitlines()[-1])
    for cls in (BetaGeo, ParetoNBD):
        t, m = median_time(lambda: cls().fit(rfm), repeats)
        row = {"model": cls.__name__, "customers": rfm.height, "loyaltylab_s": round(t, 3),
               "params": {k: round(v, 4) for k, v in m.params_.items()},
               "log_likelihood": round(m.log_likelihood_, 2)}
        if cls.__name__ in lt:
            row["lifetimes_s"] = round(lt[cls.__name__]["time"], 3)
            row["lifetimes_params"] = lt[cls.__name__]["params"]
        print(json.dumps(row), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transactions", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--customers", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lifetimes-python", default=None)
    ap.add_argument("--skip-rfm", action="store_true")
    ap.add_argument("--skip-fit", action="store_true")
    ap.add_argument("--skip-cdnow", action="store_true")
    args = ap.parse_args()
    if not args.skip_cdnow:
        bench_cdnow(args.repeats, args.lifetimes_python)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.skip_rfm:
            for n in args.transactions:
                r = bench_rfm(n, args.repeats, args.lifetimes_python, folder)
                line = (f"rfm_summary {n:>11,} tx, {r['customers']:,} customers: polars "
                        f"{r['polars_s']:.2f} s, DuckDB {r['duckdb_s']:.2f} s "
                        f"(polars/DuckDB {r['polars_s'] / r['duckdb_s']:.2f}x), same result "
                        f"{r['same_result']}")
                if "lifetimes_s" in r:
                    line += (f", lifetimes {r['lifetimes_s']:.1f} s (lifetimes/polars "
                             f"{r['lifetimes_s'] / r['polars_s']:.0f}x, same frequencies "
                             f"{r['lifetimes_same_frequency_sum']})")
                elif "lifetimes_error" in r:
                    line += f", lifetimes failed: {r['lifetimes_error']}"
                print(line, flush=True)
        if not args.skip_fit:
            for n in args.customers:
                for res in (1 / 7, None):
                    for row in bench_fit(n, args.repeats if n <= 200_000 else 1,
                                         args.lifetimes_python, folder, res):
                        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    sys.exit(main())
