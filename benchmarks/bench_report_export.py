"""Time the report export: Report.write_all on a typical 20-chart, 5-table report, next to
the peer a user would write by hand (a loop of fig.savefig to PNG/SVG/PDF plus
DataFrame.write_excel), and the privacy scan of the outputs.

Export time does not grow with the number of customers (charts and tables are aggregates),
so this measures the fixed cost the `loyaltylab report` command adds on top of the analyses.

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_report_export.py [--charts 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from loyaltylab.report import Footnote, Report, scan_for_personal_data  # noqa: E402


def _figures(n: int, rng: np.random.Generator) -> list:
    figs = []
    for k in range(n):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        if k % 3 == 0:
            ax.bar([f"2024-{m:02d}" for m in range(1, 13)] * 3, rng.integers(100, 900, 36))
        elif k % 3 == 1:
            t = np.arange(0, 730)
            s = np.exp(-t / (400 + 50 * k))
            ax.step(t, s, where="post")
            ax.fill_between(t, s * 0.95, np.minimum(s * 1.05, 1), alpha=0.3, step="post")
        else:
            for j in range(4):
                ax.plot(np.arange(36), rng.normal(0.3, 0.05, 36).cumsum(), label=f"s{j}")
            ax.legend()
        ax.set_title(f"Chart {k}, 12,345 customers")
        figs.append(fig)
    return figs


def _tables(rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    return {f"Table {k}": pl.DataFrame({"segment": [f"s{i}" for i in range(1000)],
                                        "customers": rng.integers(1, 10_000, 1000),
                                        "rate": rng.random(1000)}) for k in range(5)}


def run_loyaltylab(n_charts: int, out: Path) -> float:
    rng = np.random.default_rng(1)
    rep = Report("Benchmark report")
    for fig in _figures(n_charts, rng):
        rep.add_figure(fig, footnote=Footnote(n=12345, ci="95% Wilson score interval"))
    for title, table in _tables(rng).items():
        rep.add_table(table, title=title)
    t0 = time.perf_counter()
    rep.write_all(out, progress=False)
    return time.perf_counter() - t0


def run_by_hand(n_charts: int, out: Path) -> float:
    rng = np.random.default_rng(1)
    figs, tables = _figures(n_charts, rng), _tables(rng)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for k, fig in enumerate(figs):
        for fmt in ("png", "svg", "pdf"):
            fig.savefig(out / f"chart{k}.{fmt}", dpi=300)
        plt.close(fig)
    import xlsxwriter

    with xlsxwriter.Workbook(str(out / "tables.xlsx")) as wb:
        for title, table in tables.items():
            table.write_excel(workbook=wb, worksheet=title)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--charts", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ours, hand, scan = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(run_loyaltylab(args.charts, Path(tmp) / "ll"))
            hand.append(run_by_hand(args.charts, Path(tmp) / "hand"))
            t0 = time.perf_counter()
            needles = [f"C{i:07d}" for i in range(100_000)]
            scan_for_personal_data(Path(tmp) / "ll", needles=needles)
            scan.append(time.perf_counter() - t0)
    med = statistics.median
    print(f"{args.charts} charts, 5 tables x 1,000 rows, median of {args.repeats}:")
    print(f"  Report.write_all (charts png/svg/pdf + html + pptx + xlsx): {med(ours):6.2f} s")
    print(f"  by hand (savefig png/svg/pdf + write_excel only):           {med(hand):6.2f} s")
    ratio = med(ours) / med(hand)
    print(f"  ratio loyaltylab / by hand:                                 {ratio:6.2f}")
    print(f"  scan_for_personal_data of all outputs, 100,000 needles:    {med(scan):6.2f} s")


if __name__ == "__main__":
    main()
