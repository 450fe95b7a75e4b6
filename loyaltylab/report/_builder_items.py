"""What a :class:`~loyaltylab.report.Report` holds: its content items (headings, text,
figures, tables, workbook-only sheets, skipped parts, methods notes) in reading order, and
the small helpers the HTML page, the deck and the workbook share to write them.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl
from matplotlib.figure import Figure

from loyaltylab.data.crmdata import LoadReport
from loyaltylab.data.mapping import amount_note as _amount_note
from loyaltylab.report._findings import Finding

__all__: list[str] = []  # private helpers of loyaltylab.report


@dataclass
class _Heading:
    text: str
    question: str | None = None


@dataclass
class _Text:
    text: str
    heading: str | None = None


@dataclass
class _Figure:
    fig: Figure
    title: str
    footnote: str | None
    name: str


@dataclass
class _Table:
    frame: pl.DataFrame
    title: str
    note: str | None
    max_rows: int
    name: str
    formats: dict[str, str] | None = None
    labels: dict[str, str] | None = None
    row_kinds: str | None = None


@dataclass
class _SheetOnly:
    """A table for the workbook only (the call list, per-customer values)."""
    frame: pl.DataFrame
    title: str
    note: str | None
    max_rows: int
    name: str
    formats: dict[str, str] | None = None


@dataclass
class _Skipped:
    capability: str
    reason: str


@dataclass
class _Methods:
    text: str
    heading: str | None = None


@dataclass
class _State:
    items: list[Any] = field(default_factory=list)
    methods: list[_Methods] = field(default_factory=list)
    load_report: LoadReport | None = None
    revenue: float | None = None
    findings: list[Finding] = field(default_factory=list)
    glossary: dict[str, str] = field(default_factory=dict)


def _progress(total: int, enabled: bool | None, desc: str) -> Any:
    from tqdm import tqdm

    disable = None if enabled is None else not enabled
    return tqdm(total=total, desc=desc, unit="step", disable=disable, file=sys.stderr,
                leave=False)


def _fmt_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "NaN"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.3f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else \
            value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _short_source(source: str | None) -> str | None:
    """A folder or file path shortened to its name: it says which export, while the full
    path may name people (home folders)."""
    if not source:
        return None
    return re.split(r"[/\\]", source.rstrip("/\\"))[-1] or source


_REVENUE_TABLE = "orders"


def _revenue_steps(rep: LoadReport | None, revenue: float | None) -> pl.DataFrame | None:
    """How the orders' revenue was reached, one step a row (None without mapping rules).

    Rows read, line items merged into their orders, rows excluded by each rule with their
    amount, the amount before and after the deducted columns (refunds), rows rejected by
    validation, and the revenue kept. Columns: step, rows, amount.
    """
    from loyaltylab.data.mapping import MERGED

    t = rep.tables.get(_REVENUE_TABLE) if rep is not None else None
    if t is None:
        return None
    notes = [n for n in (_amount_note(w) for w in t.warnings) if n is not None]
    if not t.excluded and not notes:
        return None
    rows: list[tuple[str, int | None, float | None]] = [
        (f"Rows read from {_short_source(t.source) or 'the orders source'}", t.read, None)]
    if MERGED in t.excluded:
        rows.append(("Further line items of an order, merged into it (their amount is "
                     "in the order)", int(t.excluded[MERGED]["n"]), None))
    for rule, e in t.excluded.items():
        if rule != MERGED:
            rows.append((f"Excluded: {rule}", int(e["n"]), e.get("amount")))
    for n in notes:
        cols = " and ".join(f"“{c}”" for c in n["deducted_columns"])
        rows.append((f"Orders left after the rules, before deductions (“{n['gross_column']}”)",
                     n["rows"], n["gross"]))
        rows.append((f"Deducted ({cols})", None, -n["deducted"]))
    rows.append(("Rejected by validation (reasons above)", t.rejected, None))
    rows.append(("Revenue kept", t.kept, None if revenue is None else round(revenue, 2)))
    return pl.DataFrame(rows, schema={"step": pl.String, "rows": pl.Int64,
                                      "amount": pl.Float64}, orient="row")


def _paragraphs(text: str) -> str:
    blocks = [b.strip() for b in str(text).split("\n\n") if b.strip()]
    return "\n".join(f"<p>{html.escape(b)}</p>" for b in blocks)
