"""Benchmark: cost of loyaltylab's validated load versus a bare ``pl.read_csv``.

Writes an orders CSV of N rows (default 10 million) and a matching customers CSV (N/10
customers) into ``benchmarks/_work/`` (git-ignored), then times, each in a fresh
subprocess (so peak memory is that run's own maximum resident set size):

- ``bare orders``: ``pl.read_csv(orders.csv)`` with polars' own type inference;
- ``bare both``: ``pl.read_csv`` of customers.csv and orders.csv;
- ``typed both``: the same with ``try_parse_dates=True`` (and ``ignore_errors=True`` for
  the orders, or the first bad date stops the read): typed columns, no checks, bad values
  silently null;
- ``duckdb both``: DuckDB's ``read_csv`` (it sniffs types; ``ignore_errors``) into polars;
- ``ll.load``: ``ll.load(folder, as_of=...)``: read both files, sniff formats, parse dates
  and numbers, check every rule (missing values, unparseable values, future dates,
  negative amounts, unknown customers, duplicate ids), keep or reject every row.

About 0.1 % of the order rows are broken on purpose (bad dates, negative amounts, unknown
customers, duplicate ids) so the reject path is exercised too.

Usage::

    .venv/bin/python benchmarks/bench_load.py              # 10 million rows, 3 repeats
    .venv/bin/python benchmarks/bench_load.py --rows 2000000 --repeats 3
    # also time ll.load of an earlier commit (a checkout, e.g. `git worktree add
    # /tmp/base <rev>`), run alternately with today's on the same files
    .venv/bin/python benchmarks/bench_load.py --baseline /tmp/base
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORK = Path(__file__).parent / "_work"

RUNNERS = {
    "bare orders": """
import polars as pl
df = pl.read_csv(r"{folder}/orders.csv")
n = df.height
""",
    "bare both": """
import polars as pl
c = pl.read_csv(r"{folder}/customers.csv")
df = pl.read_csv(r"{folder}/orders.csv")
n = df.height
""",
    # what a user would write to get typed columns without loyaltylab: polars' own date
    # parsing, and DuckDB's sniffing reader; bad values become null or the file fails
    "typed both": """
import polars as pl
c = pl.read_csv(r"{folder}/customers.csv", try_parse_dates=True)
df = pl.read_csv(r"{folder}/orders.csv", try_parse_dates=True, ignore_errors=True)
n = df.height
""",
    "duckdb both": """
import duckdb
con = duckdb.connect()
c = con.sql("select * from read_csv('{folder}/customers.csv')").pl()
df = con.sql("select * from read_csv('{folder}/orders.csv', ignore_errors=true)").pl()
n = df.height
""",
    "ll.load": """
import loyaltylab as ll
data = ll.load(r"{folder}", as_of="2026-01-01")
n = data.report.tables["orders"].read
assert data.report.tables["orders"].kept + data.report.tables["orders"].rejected == n
""",
}


def write_data(folder: Path, rows: int, seed: int = 7) -> None:
    """orders.csv (rows) and customers.csv (rows // 10) with ~0.1 % broken order rows."""
    import numpy as np
    import polars as pl

    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f".rows-{rows}-seed-{seed}"
    if marker.exists():
        return
    for old in folder.glob(".rows-*"):
        old.unlink()
    rng = np.random.default_rng(seed)
    n_cust = max(rows // 10, 10)
    start = np.datetime64("2022-01-01T00:00:00", "ms")
    acq = start + (rng.integers(0, 3 * 365 * 86400, n_cust) * 1000).astype("timedelta64[ms]")
    customers = pl.DataFrame({
        "customer_id": "C" + pl.Series(np.arange(n_cust)).cast(pl.String).str.zfill(8),
        "acquired_at": pl.Series(acq).dt.strftime("%Y-%m-%d"),
        "segment": rng.choice(["A", "B", "C"], n_cust),
    })
    cust_idx = rng.integers(0, n_cust, rows)
    t = acq[cust_idx] + (rng.integers(0, 365 * 86400, rows) * 1000).astype("timedelta64[ms]")
    orders = pl.DataFrame({
        "order_id": "O" + pl.Series(np.arange(rows)).cast(pl.String).str.zfill(9),
        "customer_id": customers["customer_id"].gather(cust_idx),
        "ordered_at": pl.Series(t).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "amount": pl.Series(np.round(rng.gamma(2.0, 40.0, rows), 2)),
        "product_line": rng.choice(["furniture", "decor", "textiles", "lighting"], rows),
    }).with_columns(pl.col("amount").cast(pl.String))
    bad = rng.choice(rows, size=max(rows // 1000, 4), replace=False)
    k = len(bad) // 4
    fix = pl.DataFrame({"i": bad}).with_row_index("j").with_columns(
        kind=(pl.col("j") // max(k, 1)).clip(0, 3))
    idx = pl.Series(np.arange(rows))
    kinds = dict(zip(fix["i"].to_list(), fix["kind"].to_list()))
    kind_col = idx.replace_strict(kinds, default=-1, return_dtype=pl.Int64)
    orders = orders.with_columns(kind=kind_col).with_columns(
        ordered_at=pl.when(pl.col("kind") == 0).then(pl.lit("2025-02-30 10:00:00"))
        .otherwise(pl.col("ordered_at")),
        amount=pl.when(pl.col("kind") == 1).then(pl.lit("-10.0")).otherwise(pl.col("amount")),
        customer_id=pl.when(pl.col("kind") == 2).then(pl.lit("X0000000"))
        .otherwise(pl.col("customer_id")),
        order_id=pl.when(pl.col("kind") == 3).then(pl.lit("O000000000"))
        .otherwise(pl.col("order_id")),
    ).drop("kind")
    customers.write_csv(folder / "customers.csv")
    orders.write_csv(folder / "orders.csv")
    marker.touch()


def run_one(code: str, folder: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds over all threads) taken by ``code`` in a fresh
    interpreter, imports excluded."""
    script = (
        "import time, json\n"
        "import polars as pl\nimport loyaltylab\n"
        "t0 = time.perf_counter(); c0 = time.process_time()\n"
        + code.format(folder=folder)
        + "\nt1 = time.perf_counter(); c1 = time.process_time()\n"
        "print(json.dumps({'s': t1 - t0, 'cpu': c1 - c0, 'n': n}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["s"], res["cpu"]


def measure(name: str, folder: Path, pythonpath: str | None = None
            ) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one runner; a wrapper process runs it as its only
    child, so the wrapper's RUSAGE_CHILDREN maximum resident set size is that run's own
    peak."""
    wrapper = (
        "import sys, json, resource\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from bench_load import run_one, RUNNERS\n"
        "from pathlib import Path\n"
        f"s, cpu = run_one(RUNNERS[{name!r}], Path({str(folder)!r}))\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'s': s, 'cpu': cpu, 'mb': peak}))\n"
    )
    env = None
    if pythonpath:  # import loyaltylab from another checkout (PYTHONPATH comes first)
        env = dict(os.environ, PYTHONPATH=pythonpath)
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True,
                         check=True, env=env)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["s"], res["cpu"], res["mb"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", metavar="CHECKOUT",
                    help="a checkout of an earlier commit: its ll.load is timed alternately "
                         "with today's on the same files")
    args = ap.parse_args()
    folder = WORK / f"load_{args.rows}"
    t0 = time.perf_counter()
    write_data(folder, args.rows)
    size = (folder / "orders.csv").stat().st_size / 1e6
    print(f"data: {args.rows:,} order rows ({size:,.0f} MB) + {args.rows // 10:,} customers "
          f"in {folder} (written/checked in {time.perf_counter() - t0:.1f} s)")
    results = {}
    for name in RUNNERS:
        runs = [measure(name, folder) for _ in range(args.repeats)]
        secs = [r[0] for r in runs]
        cpus = [r[1] for r in runs]
        mbs = [r[2] for r in runs]
        results[name] = (statistics.median(secs), statistics.median(cpus), max(mbs))
        print(f"{name:<12} wall median {statistics.median(secs):7.2f} s "
              f"(runs {', '.join(f'{x:.2f}' for x in secs)})  CPU median "
              f"{statistics.median(cpus):7.2f} s  peak RSS {max(mbs):7.0f} MB", flush=True)
    if args.baseline:
        now, then = [], []
        for _ in range(args.repeats):
            then.append(measure("ll.load", folder, pythonpath=args.baseline))
            now.append(measure("ll.load", folder))
        for label, runs in (("baseline", then), ("today", now)):
            print(f"ll.load {label:<8} wall median "
                  f"{statistics.median(r[0] for r in runs):7.2f} s (runs "
                  f"{', '.join(f'{r[0]:.2f}' for r in runs)})  CPU median "
                  f"{statistics.median(r[1] for r in runs):7.2f} s  peak RSS "
                  f"{max(r[2] for r in runs):7.0f} MB", flush=True)
        w = statistics.median(r[0] for r in now) / statistics.median(r[0] for r in then)
        c = statistics.median(r[1] for r in now) / statistics.median(r[1] for r in then)
        print(f"ll.load today / baseline: wall {w:.2f}x, CPU {c:.2f}x")
    ll_ = results["ll.load"]
    for base in ("bare orders", "bare both", "typed both", "duckdb both"):
        b = results[base]
        print(f"ll.load / {base}: wall {ll_[0] / b[0]:.2f}x, CPU {ll_[1] / b[1]:.2f}x, "
              f"peak memory {ll_[2] / b[2]:.2f}x")


if __name__ == "__main__":
    main()
