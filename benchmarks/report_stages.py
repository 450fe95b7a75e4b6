"""Where ``loyaltylab report``'s time goes, stage by stage (wall and CPU seconds).

Usage::

    .venv/bin/python benchmarks/report_stages.py CLIENT_FOLDER

Loads the folder as ``loyaltylab report`` does, builds each section on its own, then writes
every file of the full report; prints one line per stage. The sections share nothing when
built one by one, so their sum is close to, not equal to, one full run. Quoted in
``results/report.md`` (the folder there is ``bench_report.py``'s 1M-customer client).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")


def main(folder: str) -> None:
    from loyaltylab import _pipeline as P

    rows: list[tuple[str, float, float]] = []

    def timed(name: str, work) -> object:
        w, c = time.perf_counter(), time.process_time()
        out = work()
        rows.append((name, time.perf_counter() - w, time.process_time() - c))
        return out

    data = timed("load (read, validate, pseudonymise)",
                 lambda: P.load_for_report(folder, salt="stage-salt"))
    for section in P.SECTIONS:
        timed(section.name, lambda s=section: P.build_report(data, sections=(s,),
                                                               progress=False))
    report = P.build_report(data, progress=False)
    timed("files (charts, html, deck, workbook)",
          lambda: report.write_all(Path(tempfile.mkdtemp()) / "out", progress=False))
    for name, wall, cpu in rows:
        print(f"{name:<40} {wall:7.1f} s wall {cpu:7.1f} s CPU")
    print(f"{'sum':<40} {sum(r[1] for r in rows):7.1f} s wall "
          f"{sum(r[2] for r in rows):7.1f} s CPU")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak RSS {peak:.2f} GB; load average {os.getloadavg()}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
