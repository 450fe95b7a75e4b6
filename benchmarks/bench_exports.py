"""Benchmark ll.datasets.client_export_corpus: time to build 100 client exports.

The reading issue asks that the corpus generator build 100 exports in under a minute. Each
repeat writes a fresh corpus of ``--n`` exports (every format, language, CSV convention
and broken-row plant, as the property tests use) into a temporary folder and is timed
(wall and CPU); the platform layouts (Shopify, HubSpot, ...) that the corpus appends
by default are left out (``platforms=False``) and timed once on their own. The import of
loyaltylab is outside the timing. Also printed: the median time per export by format (from
the last repeat), and the files and bytes written.

Usage::

    .venv/bin/python benchmarks/bench_exports.py --n 100 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

TARGET_S = 60.0


def build(n: int, seed: int) -> tuple[float, float, dict[str, list[float]], int, int]:
    """Build one corpus; (wall s, CPU s, per-format build times, files, bytes)."""
    from loyaltylab.datasets import _exports as X

    folder = Path(tempfile.mkdtemp(prefix="bench_exports_"))
    try:
        per_fmt: dict[str, list[float]] = defaultdict(list)
        orig = X.make_client_export

        def timed(*args, **kwargs):
            t = time.perf_counter()
            ex = orig(*args, **kwargs)
            per_fmt[ex.spec["fmt"]].append(time.perf_counter() - t)
            return ex

        X.make_client_export = timed
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            # the n drawn exports the issue times; the platform exports are extra
            corpus = X.client_export_corpus(folder, n=n, seed=seed, platforms=False)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        finally:
            X.make_client_export = orig
        assert len(corpus) == n, f"{len(corpus)} exports built, {n} asked for"
        files = [p for p in folder.rglob("*") if p.is_file()]
        return wall, cpu, per_fmt, len(files), sum(p.stat().st_size for p in files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100, help="exports per corpus (default 100)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import loyaltylab  # noqa: F401  (import cost outside the timing)

    walls, cpus = [], []
    per_fmt: dict[str, list[float]] = {}
    files = size = 0
    for r in range(args.repeats):
        wall, cpu, per_fmt, files, size = build(args.n, args.seed + r)
        walls.append(wall)
        cpus.append(cpu)
        print(f"repeat {r + 1}: {args.n} exports in {wall:.2f} s wall, {cpu:.2f} s CPU")
    med = statistics.median(walls)
    print()
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"median build time of {args.n} exports: {med:.2f} s wall "
          f"({statistics.median(cpus):.2f} s CPU), {med / args.n * 1000:.0f} ms per export")
    print(f"written per corpus: {files} files, {size / 1e6:.1f} MB")
    print("median per export by format (last repeat):")
    for fmt, times in sorted(per_fmt.items()):
        ms = statistics.median(times) * 1000
        print(f"  {fmt:<10} {len(times):>3} exports  {ms:6.0f} ms")
    from loyaltylab.datasets import _exports as X

    with tempfile.TemporaryDirectory(prefix="bench_platforms_") as tmp:
        t0 = time.perf_counter()
        platforms = X.platform_corpus(Path(tmp), seed=args.seed)
        print(f"platform exports (built once): {len(platforms)} in "
              f"{time.perf_counter() - t0:.2f} s wall")
    scaled = med * 100 / args.n
    verdict = "yes" if scaled < TARGET_S else "NO"
    print(f"target: 100 exports in under {TARGET_S:.0f} s -> {scaled:.1f} s: {verdict}")


if __name__ == "__main__":
    main()
