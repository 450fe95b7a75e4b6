"""The one-command client run behind ``loyaltylab report`` and ``make demo`` (not public API).

It loads a source (the bundled sample when none is given), pseudonymises identifiers, fixes
the measuring date, and runs a list of independent :class:`Section` objects, each handing
charts, tables and methods notes to :class:`loyaltylab.report.Report`.

- A section declares the tables and columns it needs (:attr:`Section.needs`). When the data
  lack them, the report says in one plain sentence what the section would show and what
  data it needs, and the run goes on.
- Inside a section, each part (a chart, a model) runs in :func:`_part`: a model that does
  not converge, a singular fit, a group too small to test, or any unexpected error removes
  only that part and the report says in plain words why it is missing (unexpected errors
  are logged with their traceback). The rest of the section and of the run is produced.
- Only input that cannot be used at all (``customers`` or ``orders``, or one of their
  required columns, missing) stops the run, in the loader, before any section runs.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

import polars as pl

# the shared parts first: they pick matplotlib's headless backend before plots loads pyplot.
# Every name the run used to define stays importable from here (noqa: F401 re-exports).
from loyaltylab._pipeline_base import (GROUPINGS, HORIZON, INACTIVITY, WILSON,  # noqa: F401
                                       Section, _Context, _part)
from loyaltylab import _summary, plots
from loyaltylab._pipeline_churn import _churn, call_list
from loyaltylab._pipeline_clv import _clv, _customer_values  # noqa: F401
from loyaltylab._pipeline_ladder import _ladder, ladder_for_data
from loyaltylab._pipeline_measure import _measure
from loyaltylab._pipeline_overview import _overview
from loyaltylab._pipeline_surveys import _surveys
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.data.load import load
from loyaltylab.datasets import data_path
from loyaltylab.exceptions import LoyaltyLabError, MissingTableError
from loyaltylab.report import Report

__all__ = ["RejectedRowsError", "ReportRun", "Section", "SECTIONS", "load_for_report",
           "measuring_date", "ladder_for_data", "call_list", "build_report", "run_report",
           "GLOSSARY"]

log = logging.getLogger("loyaltylab.report")

COX_SAMPLE = 50_000
"""Above this many customers the Cox model is fitted on a random sample of this size: the
hazard ratios are already precise there, and lifelines' Schoenfeld residuals grow
quadratically with the rows. Every customer is still scored for the call list."""
WORKBOOK_CUSTOMERS = 20_000
"""The per-customer sheets of the workbook (the call list, the value of each customer) hold
at most this many customers: the most urgent, or the most valuable, first."""


class RejectedRowsError(LoyaltyLabError):
    """The source loaded, but rows were rejected; the report stops until they are fixed."""

    def __init__(self, data: CRMData) -> None:
        self.data = data
        super().__init__(
            f"{data.report.n_rejected:,} rows were rejected on load, so the report was not "
            f"produced. Fix the rows listed below (run `loyaltylab validate SOURCE --rejects "
            f"DIR` to write them out with their reasons), or pass --allow-rejects to report "
            f"on the rows that were kept.\n\n{data.report}")


@dataclass
class ReportRun:
    """What a run produced: the report, its files, and the parts it skipped.

    ``skipped`` lists (part, plain reason) for every section or part not shown;
    ``errors`` the parts that failed unexpectedly (their tracebacks are in the log).
    """

    report: Report
    files: dict[str, Any]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# ============================================================================ the date
_DATE_ONLY = re.compile(r"\s*\d{4}-\d{2}-\d{2}\s*")


def _is_date_only(value: Any) -> bool:
    if isinstance(value, datetime):
        return False
    return isinstance(value, date) or (isinstance(value, str)
                                       and _DATE_ONLY.fullmatch(value) is not None)


def _day_end(day: date | datetime) -> datetime:
    """Midnight after ``day``: the end of that day, so a period ending on it is complete."""
    return datetime(day.year, day.month, day.day) + timedelta(days=1)


def _last_event(data: CRMData) -> datetime | None:
    """The latest timestamp in any table (the extract date the data show)."""
    latest = None
    for frame in data.tables.values():
        cols = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
        if not cols or frame.height == 0:
            continue
        value = frame.select(pl.max_horizontal(pl.col(cols).max())).item()
        if value is not None and (latest is None or value > latest):
            latest = value
    return latest


def measuring_date(data: CRMData, as_of: Any = None, *, fmt: Any = None
                   ) -> tuple[datetime, str]:
    """The date the report measures at, and one plain sentence saying which and why.

    Without ``as_of`` it is the end of the day of the last event in the data (the extract
    date the data show); a date given without a time also means the end of that day. So a
    year or quarter that ends on the extract date counts as complete. ``fmt`` (a
    :class:`~loyaltylab.report.Formats`) writes the date in the client's locale.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.data.crmdata import CRMData
    >>> orders = pl.DataFrame({"ordered_at": [datetime(2025, 12, 31)]})
    >>> when, why = measuring_date(CRMData(customers=pl.DataFrame(), orders=orders))
    >>> when
    datetime.datetime(2026, 1, 1, 0, 0)
    >>> why
    'Figures are measured at the end of 31 December 2025, the date of the last event in the
    data (taken as the extract date), so a period ending that day counts as complete.'
    """
    return _measured_at(as_of, lambda: _last_event(data), fmt)


def _measured_at(as_of: Any, last_event: Callable[[], datetime | None], fmt: Any, *,
                 holder: str = "the orders file") -> tuple[datetime, str]:
    """:func:`measuring_date` given how to find the last event (in memory, or in the
    database for the engine run); ``holder`` names where the orders are."""
    if as_of is not None:
        from loyaltylab._util import to_datetime

        given = to_datetime(as_of, name="as_of") if not isinstance(as_of, datetime) else as_of
        if _is_date_only(as_of):
            when = _day_end(given)
            return when, (f"Figures are measured at the end of {_long(given, fmt)}, the "
                          f"date given when the report was run.")
        return given, (f"Figures are measured at {_long(given, fmt, time=True)}, the date "
                       f"given when the report was run.")
    last = last_event()
    if last is None:
        raise MissingTableError(f"the orders table has no dated rows, so there is nothing "
                                f"to measure; check that {holder} holds the orders")
    when = _day_end(last)
    return when, (f"Figures are measured at the end of {_long(last, fmt)}, the date of the "
                  f"last event in the data (taken as the extract date), so a period ending "
                  f"that day counts as complete.")


def _long(when: datetime, fmt: Any, *, time: bool = False) -> str:
    """A date in words: "31 December 2025" (English default) or in ``fmt``'s locale."""
    if fmt is None:
        return f"{when:%-d %B %Y, %H:%M}" if time else f"{when:%-d %B %Y}"
    if time:
        return fmt.date(when, style="long")
    return fmt.date(when.date() if isinstance(when, datetime) else when, style="long")


def load_for_report(source: str | Path | None = None, *, mapping: str | Path | None = None,
                    as_of: Any = None, salt: str | None = None, allow_rejects: bool = False,
                    **load_options: Any) -> CRMData:
    """Load ``source`` (the bundled sample when None) with identifiers pseudonymised, and
    set ``data.as_of`` to the measuring date (see :func:`measuring_date`).

    ``load_options`` (e.g. ``allow_refunds=True``) go to :func:`loyaltylab.load`. Raises
    :class:`RejectedRowsError` when rows were rejected and ``allow_rejects`` is False.
    Table-level problems raise the loader's own errors.
    """
    path = data_path("sample") if source is None else source
    load_as_of = as_of
    if as_of is not None and _is_date_only(as_of):
        # the whole given day is in the data: rows later that day are not "after as_of"
        from loyaltylab._util import to_datetime

        load_as_of = _day_end(to_datetime(as_of, name="as_of")) - timedelta(microseconds=1)
    data = load(path, mapping=mapping, as_of=load_as_of, pseudonymize=True,
                salt=salt or secrets.token_hex(16), **load_options)
    if source is None:
        data.report.source = "bundled sample (simulated)"
    if not data.report.ok and not allow_rejects:
        raise RejectedRowsError(data)
    when, _ = measuring_date(data, as_of)
    return data.replace(as_of=when)


_BASE = ((S.CUSTOMERS, (S.CUSTOMER_ID, S.ACQUIRED_AT)),
         (S.ORDERS, (S.ORDER_ID, S.CUSTOMER_ID, S.ORDERED_AT, S.AMOUNT)))

SECTIONS: tuple[Section, ...] = (
    Section("Data overview", "what the dataset holds and how activity developed", _BASE,
            _overview),
    Section("Measure everything", "the scorecard, defection, cohort retention and profit by "
            "customer", _BASE, _measure),
    Section("Loyalty ladder", "how many customers stand on each rung of the loyalty ladder "
            "and how they moved in the last year", _BASE, _ladder),
    Section("Churn and retention", "how long customers stay, what drives churn and whom to "
            "call", _BASE, _churn),
    Section("Repeat buying and customer value", "how often customers buy again and how "
            "likely each is still active", ((S.ORDERS, (S.CUSTOMER_ID, S.ORDERED_AT,
                                                         S.AMOUNT)),), _clv),
    Section("Survey scores", "what customers say: the net promoter score and survey scores "
            "over time", ((S.SURVEYS, (S.CUSTOMER_ID, S.ITEM, S.ANSWERED_AT, S.SCORE)),),
            _surveys),
)
"""The report's sections, in order."""


GLOSSARY = {
    "Lost customer (churn)": f"A customer with no order for {INACTIVITY[:-1]} days. A customer "
                             f"whose {INACTIVITY[:-1]} days have not passed yet counts as still "
                             f"active.",
    "Defection rate": "The share of customers at the start of a year who were lost during it. "
                      "Most firms lose 20 % to 40 % a year.",
    "95 % interval": "The range that holds the true value with 95 % confidence, given how many "
                     "customers the figure rests on; a narrow range means a firm figure.",
    "Significant": "A difference or effect too large to be chance at the usual 5 % level "
                   "(p-value below 0.05); for an effect, its 95 % interval excludes 'no "
                   "effect'.",
    "p-value": "How often a difference at least this large would appear by chance alone if "
               "there were no real difference. Below 0.05 is called significant.",
    "Risk of leaving, times (hazard ratio)": "How much an attribute multiplies the risk that "
                                             "a customer leaves at any moment: 1.2 means 20 % "
                                             "more, 0.8 means 20 % less, 1 means no effect.",
    "Net promoter score": "The share of promoters (answers 9-10 to 'would you recommend us') "
                          "minus the share of detractors (0-6), in points from -100 to 100.",
    "Loyalty ladder": "The stages a relationship passes through: suspect, prospect, first-time "
                      "customer, repeat customer, client (4 or more orders or 2 or more product "
                      "lines in a year) and advocate (a client who refers others).",
    "Repeat buyer": "A buyer with more than one order.",
    "Cohort": "The customers who placed their first order in the same quarter.",
    "Whale curve": "Customers ranked from most to least profitable, with the running total of "
                   "profit: it rises above 100 % and falls back where customers cost more "
                   "than they bring.",
    "Call list": "Active customers ranked by the chance that they have already stopped buying, "
                 "judged against their own buying rhythm.",
    "Still active (buying model)": "The chance that a buyer still buys, from the number and "
                                   "timing of their orders (the BG/NBD model).",
}
"""The report's glossary: every term a reader meets, in plain words."""


def build_report(data: CRMData, *, title: str = "Customer loyalty report",
                 progress: bool | None = None, date_note: str | None = None,
                 sections: tuple[Section, ...] = SECTIONS, locale: str = "en") -> Report:
    """Run every section the data support and assemble the report (nothing written).

    A section whose tables or columns are missing is listed as skipped with a plain
    sentence; a part that fails inside a section is listed as skipped with the reason; an
    unexpected error is logged (logger ``loyaltylab.report``) and the run goes on. The
    sections add the findings of the executive summary (:mod:`loyaltylab._summary`);
    ``locale`` decides how numbers and dates are written.
    """
    return _build(data, title=title, progress=progress, date_note=date_note,
                  sections=sections, locale=locale)[0]


def _build(data: CRMData, *, title: str, progress: bool | None, date_note: str | None,
           sections: tuple[Section, ...], locale: str = "en") -> tuple[Report, list[str]]:
    from tqdm import tqdm

    from loyaltylab.report import Formats

    fmt = Formats(locale)
    if data.as_of is None:
        when, date_note = measuring_date(data, fmt=fmt)
        data = data.replace(as_of=when)
    elif date_note is None:
        when, note = measuring_date(data.replace(as_of=None), fmt=fmt)
        if when == data.as_of:
            date_note = note
        else:
            timed = data.as_of.time() != datetime.min.time()
            date_note = (f"Figures are measured at {_long(data.as_of, fmt, time=timed)}, the "
                         f"extract date recorded with the data.")
    rep = Report.for_data(data, title=title, locale=locale)
    rep.add_text(date_note)
    for term, definition in GLOSSARY.items():
        rep.add_glossary(term, definition)
    read = sum(t.read for t in data.report.tables.values())
    caveat = _summary.data_quality_finding(data.report.n_rejected, read,
                                           section="Data quality", fmt=rep.formats)
    if caveat is not None:
        rep.add_finding(caveat)
    errors: list[str] = []
    bar = tqdm(sections, desc="analyses", disable=None if progress is None else not progress)
    with plots.style_context():
        for section in bar:
            bar.set_description(section.name)
            reason = section.skip_reason(data)
            if reason is not None:
                rep.add_skipped(section.name, reason)
                continue
            ctx = _Context(rep, data, section.name, errors)
            with _part(ctx, "this section"):
                with rep.capability(section.name):
                    section.run(ctx)
    return rep, errors


def run_report(source: str | Path | None = None, *, out: str | Path = "reports",
               mapping: str | Path | None = None, as_of: Any = None, salt: str | None = None,
               allow_rejects: bool = False, progress: bool | None = None,
               locale: str = "en", charts: Sequence[str] = ("png", "svg", "pdf"),
               **load_options: Any) -> ReportRun:
    """Load, analyse and write the full report into ``out``.

    ``locale`` (``"en"``, ``"de"``, ``"fr"``, ``"nl"``, ``"es"``...) decides how numbers,
    money and dates are written in the report. ``charts`` names the chart file formats
    written into ``charts/`` (empty: no chart files; the report, deck and workbook are
    written either way).

    ``load_options`` (e.g. ``allow_refunds=True``) go to :func:`loyaltylab.load`.

    Returns
    -------
    ReportRun
        The report, the files written (``charts``, ``workbook``, ``html``, ``deck``), the
        parts skipped with their reasons, and the parts that failed unexpectedly.
    """
    data = load_for_report(source, mapping=mapping, as_of=as_of, salt=salt,
                           allow_rejects=allow_rejects, **load_options)
    from loyaltylab.report import Formats

    note = measuring_date(data, as_of, fmt=Formats(locale))[1] if as_of is not None else None
    rep, errors = _build(data, title="Customer loyalty report", progress=progress,
                         date_note=note, sections=SECTIONS, locale=locale)
    files = rep.write_all(out, progress=progress, formats=charts)
    return ReportRun(rep, files, rep.skipped, errors)
