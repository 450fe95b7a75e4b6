"""Benchmark the Pareto/NBD with time-invariant covariates at a million customers, side by
side with the no-covariate fits on the same customers.

Usage::

    .venv/bin/python benchmarks/bench_clv_covariates.py               # 1,000,000 customers
    .venv/bin/python benchmarks/bench_clv_covariates.py --customers 200000 --repeats 3 \\
        --continuous --write benchmarks/results/clv_covariates.md

Customers are drawn from the Pareto/NBD with the CDNOW parameters (r 0.553, alpha 10.578,
s 0.606, beta 11.669 for a customer whose covariates are 0), T uniform in [27, 39] weeks and
times rounded down to whole days (1/7 week, what ``rfm_summary`` produces), with three
covariates acting on both processes:

- categorical set: ``female``, ``offline``, ``newsletter`` (0/1 each, 8 covariate patterns);
- ``--continuous`` adds a set where the third is ``spend_z``, a standard normal (every
  customer then has their own alpha_i and beta_i: no two customers can be merged).

Planted effects: purchase (0.5, -0.3, 0.2), dropout (-0.4, 0.3, 0.25). Each fit runs in
its own subprocess (so the repeats do not share caches); the script reports the median wall
and CPU times over ``--repeats``, the ratio to the no-covariate fit, the estimates and
whether each planted effect lies inside its 95 % interval, and the load average (1 min)
before and after each fit. The machine is shared: CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, UTC
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
TRUE_P = np.array([0.5, -0.3, 0.2])
TRUE_D = np.array([-0.4, 0.3, 0.25])
BASE = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}

FIT = r"""
import json, sys, time
import polars as pl
from loyaltylab.clv import ParetoNBD, ParetoNBDCovariates
path, kind, cols = sys.argv[1], sys.argv[2], sys.argv[3].split(",") if sys.argv[3] else []
rfm = pl.read_parquet(path)
t0, c0 = time.perf_counter(), time.process_time()
if kind == "ParetoNBD":
    m = ParetoNBD().fit(rfm)
else:
    m = ParetoNBDCovariates().fit(rfm, covariates=cols)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
out = {"wall": wall, "cpu": cpu, "params": m.params_, "ll": m.log_likelihood_,
       "iterations": getattr(m, "n_iterations_", None)}
if kind != "ParetoNBD":
    out["ci"] = {r["parameter"]: [r["ci_low"], r["ci_high"]]
                 for r in m.confidence_intervals_.iter_rows(named=True)}
    out["rows"] = int(m._data["_w"].size)
print(json.dumps(out))
"""


def simulate(n: int, continuous: bool, seed: int = 3) -> pl.DataFrame:
    sys.path.insert(0, str(ROOT))
    from loyaltylab.clv._simulate import simulate_pareto_nbd

    rng = np.random.default_rng(seed)
    z3 = rng.normal(size=n) if continuous else rng.integers(0, 2, n)
    Z = np.column_stack([rng.integers(0, 2, n), rng.integers(0, 2, n), z3]).astype(float)
    rfm = simulate_pareto_nbd(n, r=BASE["r"], alpha=BASE["alpha"] * np.exp(-Z @ TRUE_P),
                              s=BASE["s"], beta=BASE["beta"] * np.exp(-Z @ TRUE_D),
                              T_max=39.0, acquisition=12.0, resolution=1 / 7, seed=seed)
    third = "spend_z" if continuous else "newsletter"
    return rfm.with_columns(pl.Series("female", Z[:, 0]), pl.Series("offline", Z[:, 1]),
                            pl.Series(third, Z[:, 2]))


def run(path: Path, kind: str, cols: list[str]) -> dict:
    load0 = os.getloadavg()[0]
    r = subprocess.run([sys.executable, "-c", FIT, str(path), kind, ",".join(cols)],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["load"] = (load0, os.getloadavg()[0])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--continuous", action="store_true",
                    help="also fit the set with a continuous covariate (worst case)")
    ap.add_argument("--write", type=Path, help="append the results (markdown) to this file")
    a = ap.parse_args()
    lines = [f"### Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {a.customers:,} "
             f"customers, {a.repeats} repeats",
             "", f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"numpy {np.__version__}, polars {pl.__version__}. Command: "
             f"`.venv/bin/python benchmarks/bench_clv_covariates.py --customers "
             f"{a.customers} --repeats {a.repeats}{' --continuous' if a.continuous else ''}`",
             "", "| fit | covariates | median wall | median CPU | wall / no-cov (same class) "
             "| CPU / no-cov | rows after merging | load avg before-after | planted effects "
             "in 95 % CI |", "|---|---|---:|---:|---:|---:|---:|---|---|"]
    sets = [("categorical", False, ["female", "offline", "newsletter"])]
    if a.continuous:
        sets.append(("continuous", True, ["female", "offline", "spend_z"]))
    with tempfile.TemporaryDirectory() as tmp:
        for name, cont, cols in sets:
            path = Path(tmp) / f"{name}.parquet"
            t = time.perf_counter()
            simulate(a.customers, cont).write_parquet(path)
            print(f"[{name}] simulated {a.customers:,} customers in "
                  f"{time.perf_counter() - t:.1f} s", flush=True)
            res: dict[str, list[dict]] = {}
            runs = [("ParetoNBD", "ParetoNBD", []),
                    ("ParetoNBDCovariates, none", "cov", []),
                    ("ParetoNBDCovariates, 3 covariates", "cov", cols)]
            if name == "continuous":
                runs = runs[1:]
            for label, kind, c in runs:
                res[label] = []
                for i in range(a.repeats):
                    out = run(path, kind, c)
                    res[label].append(out)
                    print(f"[{name}] {label} #{i + 1}: wall {out['wall']:.2f} s, CPU "
                          f"{out['cpu']:.2f} s, load {out['load'][0]:.1f}-"
                          f"{out['load'][1]:.1f}", flush=True)
            base = res["ParetoNBDCovariates, none"]
            bw = statistics.median(o["wall"] for o in base)
            bc = statistics.median(o["cpu"] for o in base)
            for label, outs in res.items():
                w = statistics.median(o["wall"] for o in outs)
                c = statistics.median(o["cpu"] for o in outs)
                loads = f"{min(o['load'][0] for o in outs):.1f}-" \
                        f"{max(o['load'][1] for o in outs):.1f}"
                planted = ""
                if label.endswith("3 covariates"):
                    ci = outs[0]["ci"]
                    hits = [ci[f"purchase:{k}"][0] <= v <= ci[f"purchase:{k}"][1]
                            for k, v in zip(cols, TRUE_P)]
                    hits += [ci[f"dropout:{k}"][0] <= v <= ci[f"dropout:{k}"][1]
                             for k, v in zip(cols, TRUE_D)]
                    est = ", ".join(f"{k} {v:.3f}" for k, v in outs[0]["params"].items())
                    planted = f"{sum(hits)} of 6 ({est})"
                rows = outs[0].get("rows", "")
                lines.append(f"| {label} | {name} | {w:.2f} s | {c:.2f} s | {w / bw:.2f}x | "
                             f"{c / bc:.2f}x | {rows:,} | {loads} | {planted} |"
                             if rows != "" else
                             f"| {label} | {name} | {w:.2f} s | {c:.2f} s | {w / bw:.2f}x | "
                             f"{c / bc:.2f}x | | {loads} | |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.write:
        with open(a.write, "a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
