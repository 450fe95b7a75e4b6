"""Benchmark ``loyaltylab report duckdb:///x.duckdb --in-engine`` (issue 18): the report
computed inside a DuckDB database that ``make_crm`` filled, chunk by chunk.

Usage::

    .venv/bin/python benchmarks/bench_warehouse_report.py --orders 100000000 \\
        --memory-limit 8GB [--folder /var/tmp/llbench] [--contacts] [--parquet]

1. Build (or reuse, when ``shop.duckdb`` in ``--folder`` already holds at least
   ``--orders`` orders) a DuckDB file with the customers, orders and referrals tables (and
   contacts with ``--contacts``: about two per order, so twice the rows) of
   ``make_crm(--chunk, years=--years, seed=k)`` for k = 0, 1, ... until the orders reach
   ``--orders``; ids get the chunk number as prefix, so they stay unique.
2. Run ``loyaltylab report duckdb://... --in-engine --memory-limit SIZE --charts none`` in a
   child process and report its wall time, CPU time (user + system) and peak memory
   (max RSS, as ``/usr/bin/time -v`` reports it), the load average before and after,
   and the sections the report skipped.
3. With ``--parquet``, first write the same tables as a folder of Parquet files
   (``lake/``: the orders as a folder of parts) and run the report on that folder
   instead: files larger than memory, summarised by DuckDB where they lie.

The build takes about 20 minutes for 100M orders on the project's 2-core machine; the
database file takes about 2 GB per 50M orders.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

TABLES = ("customers", "orders", "referrals")


def _prefixed(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    ids = [c for c in frame.columns if c.endswith("_id")]
    return frame.with_columns((pl.lit(prefix) + pl.col(c).cast(pl.String)).alias(c)
                              for c in ids)


def count_orders(path: Path) -> int:
    import duckdb

    if not path.exists():
        return 0
    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM orders").fetchone()[0])
    except duckdb.Error:
        return 0
    finally:
        con.close()


def build(path: Path, *, orders: int, chunk: int, years: int, contacts: bool) -> dict:
    """Fill ``path`` with make_crm chunks until it holds ``orders`` orders."""
    import duckdb

    from loyaltylab.datasets import make_crm

    tables = TABLES + (("contacts",) if contacts else ())
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    t0, c0 = time.perf_counter(), time.process_time()
    total, k = 0, 0
    try:
        while total < orders:
            data = make_crm(chunk, years=years, seed=k)
            for name in tables:
                frame = data.tables.get(name)
                if frame is None:
                    continue
                frame = _prefixed(frame, f"k{k}-")
                con.register("chunk", frame.to_arrow())
                if k == 0:
                    con.execute(f"CREATE TABLE {name} AS SELECT * FROM chunk")
                else:
                    con.execute(f"INSERT INTO {name} SELECT * FROM chunk")
                con.unregister("chunk")
            total += data.orders.height
            k += 1
            print(f"chunk {k}: {total:,} orders, {time.perf_counter() - t0:.0f} s",
                  flush=True)
            del data
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {"build_wall_s": round(time.perf_counter() - t0, 1),
            "build_cpu_s": round(time.process_time() - c0, 1), "chunks": k,
            "orders": total, "customers": k * chunk, "tables": list(tables),
            "file_gb": round(path.stat().st_size / 1e9, 2)}


def to_parquet(path: Path, lake: Path) -> dict:
    """The DuckDB file's tables as a folder of Parquet files (the orders as a folder of
    parts, one per DuckDB thread), written by DuckDB; reused when there."""
    import duckdb

    if (lake / "orders").is_dir():
        return {"reused": str(lake)}
    t0 = time.perf_counter()
    lake.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
            .fetchall()]
        for name in names:
            target = lake / name if name == "orders" else lake / f"{name}.parquet"
            options = "FORMAT parquet, PER_THREAD_OUTPUT true" if name == "orders" \
                else "FORMAT parquet"
            con.execute(f"COPY \"{name}\" TO '{target}' ({options})")
    finally:
        con.close()
    size = sum(f.stat().st_size for f in lake.rglob("*.parquet"))
    return {"parquet_wall_s": round(time.perf_counter() - t0, 1),
            "parquet_gb": round(size / 1e9, 2), "tables": names}


def run_report(path: Path, out: Path, memory_limit: str) -> dict:
    """``loyaltylab report --in-engine`` in a child process: wall, CPU, peak RSS."""
    source = str(path.resolve()) if path.is_dir() else f"duckdb://{path.resolve()}"
    cmd = [sys.executable, "-m", "loyaltylab", "report", source,
           "--out", str(out), "--in-engine", "--memory-limit", memory_limit,
           "--charts", "none", "--no-progress", "--salt", "bench-salt"]
    load_before = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    skipped = [line.removeprefix("skipped ").split(": This")[0]
               for line in proc.stdout.splitlines() if line.startswith("skipped ")]
    return {"command": " ".join(cmd[1:]), "exit": proc.returncode,
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "peak_rss_gb": round(after.ru_maxrss / 1024 / 1024, 2),
            "load_before": [round(v, 1) for v in load_before],
            "load_after": [round(v, 1) for v in os.getloadavg()],
            "skipped": skipped, "stderr": proc.stderr.strip()[-2000:]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=100_000_000)
    p.add_argument("--chunk", type=int, default=500_000, help="customers per make_crm call")
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--memory-limit", default="8GB")
    p.add_argument("--folder", default="/var/tmp/loyaltylab-bench-warehouse-report")
    p.add_argument("--contacts", action="store_true", help="also build the contacts table")
    p.add_argument("--build-only", action="store_true")
    p.add_argument("--parquet", action="store_true",
                   help="report on the same tables written as a folder of Parquet files")
    args = p.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shop.duckdb"
    result: dict = {"orders_target": args.orders}
    have = count_orders(path)
    if have >= args.orders:
        result["build"] = {"reused": str(path), "orders": have}
    else:
        result["build"] = build(path, orders=args.orders, chunk=args.chunk,
                                years=args.years, contacts=args.contacts)
    print(json.dumps(result["build"]), flush=True)
    if args.parquet:
        result["parquet"] = to_parquet(path, folder / "lake")
        print(json.dumps(result["parquet"]), flush=True)
    if not args.build_only:
        source = folder / "lake" if args.parquet else path
        result["report"] = run_report(source, folder / "report", args.memory_limit)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
