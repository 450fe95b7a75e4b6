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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

import sys

import matplotlib

if "matplotlib.pyplot" not in sys.modules:
    # headless runs (the CLI, make demo); a notebook that imports this keeps its backend
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from loyaltylab import _summary, churn, clv, funnel, metrics, plots, survey  # noqa: E402
from loyaltylab.data import schema as S  # noqa: E402
from loyaltylab.data.crmdata import CRMData  # noqa: E402
from loyaltylab.data.load import load  # noqa: E402
from loyaltylab.data.overview import activity_over_time, customer_mix, table_overview  # noqa: E402
from loyaltylab.datasets import data_path  # noqa: E402
from loyaltylab.exceptions import (ConvergenceError, LoyaltyLabError,  # noqa: E402
                                   MissingTableError, SeparationError)
from loyaltylab.report import Footnote, Report  # noqa: E402
from loyaltylab.report import plain_words  # noqa: E402

__all__ = ["RejectedRowsError", "ReportRun", "Section", "SECTIONS", "load_for_report",
           "measuring_date", "ladder_for_data", "call_list", "build_report", "run_report",
           "GLOSSARY"]

log = logging.getLogger("loyaltylab.report")

INACTIVITY = "180d"
HORIZON = "90d"
COX_SAMPLE = 50_000
"""Above this many customers the Cox model is fitted on a random sample of this size: the
hazard ratios are already precise there, and lifelines' Schoenfeld residuals grow
quadratically with the rows. Every customer is still scored for the call list."""
WILSON = "95% Wilson score interval"
WORKBOOK_CUSTOMERS = 20_000
"""The per-customer sheets of the workbook (the call list, the value of each customer) hold
at most this many customers: the most urgent, or the most valuable, first."""
GROUPINGS = (S.KIND, S.SEGMENT, S.ACQUISITION_CHANNEL, S.REGION, S.REWARD_SCHEME)
"""Optional customers columns a breakdown may use, in order of preference (the account
manager is an identifier and is not used to group charts)."""
_WORDS = {S.KIND: "kind of relationship", S.SEGMENT: "segment",
          S.ACQUISITION_CHANNEL: "acquisition channel", S.REGION: "region",
          S.REWARD_SCHEME: "reward scheme"}


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
    if as_of is not None:
        from loyaltylab._util import to_datetime

        given = to_datetime(as_of, name="as_of") if not isinstance(as_of, datetime) else as_of
        if _is_date_only(as_of):
            when = _day_end(given)
            return when, (f"Figures are measured at the end of {_long(given, fmt)}, the "
                          f"date given when the report was run.")
        return given, (f"Figures are measured at {_long(given, fmt, time=True)}, the date "
                       f"given when the report was run.")
    last = _last_event(data)
    if last is None:
        raise MissingTableError("the orders table has no dated rows, so there is nothing "
                                "to measure; check that the orders file holds the orders")
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


# ============================================================================ sections
@dataclass(frozen=True)
class Section:
    """One independent part of the report.

    Parameters
    ----------
    name : str
        Heading and the name in the skipped list.
    shows : str
        What it would show, in plain words ("what customers say: net promoter score ...").
    needs : tuple of (table, columns)
        Canonical tables and the columns of each the section cannot do without.
    run : callable
        ``run(ctx)`` adds the section's charts, tables and notes to ``ctx.report``.
    """

    name: str
    shows: str
    needs: tuple[tuple[str, tuple[str, ...]], ...]
    run: Callable[[_Context], None]

    def missing(self, data: CRMData) -> str | None:
        """What the data lack for this section, in words; None when it can run."""
        lacking = []
        for table, cols in self.needs:
            frame = data.tables.get(table)
            if frame is None:
                lacking.append(f"a {table} table ({_words(cols)})")
                continue
            absent = [c for c in cols if c not in frame.columns]
            if absent:
                lacking.append(f"the {_words(absent)} column{'s' * (len(absent) > 1)} of "
                               f"the {table} table")
        return " and ".join(lacking) or None

    def skip_reason(self, data: CRMData) -> str | None:
        """The plain sentence the report shows when the section cannot run."""
        lack = self.missing(data)
        if lack is None:
            return None
        return (f"This section would show {self.shows}. It needs {lack}, which this dataset "
                f"does not have.")


def _words(cols: Any) -> str:
    cols = [c.replace("_", " ") for c in cols]
    return cols[0] if len(cols) == 1 else ", ".join(cols[:-1]) + " and " + cols[-1]


@dataclass
class _Context:
    report: Report
    data: CRMData
    section: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def as_of(self) -> datetime:
        return self.data.as_of

    @property
    def start(self) -> datetime:
        return self.data.orders.get_column(S.ORDERED_AT).min()


_SINGULAR = ("the calculation has no unique answer for these data: two measures move "
             "together exactly, or a group holds too few customers")
_NO_CONVERGENCE = ("the model could not be fitted to these data: its estimation did not "
                   "settle (this happens with few repeat buyers or very uneven buying)")


def _reason(exc: BaseException) -> str:
    """A plain sentence for an anticipated failure."""
    from loyaltylab._notebooks import plain_text

    text = plain_text(str(exc)) or type(exc).__name__
    if isinstance(exc, ConvergenceError) or type(exc).__name__ == "ConvergenceError":
        return _NO_CONVERGENCE + "."
    if isinstance(exc, np.linalg.LinAlgError) or "singular" in text.lower():
        return _SINGULAR + "."
    said = _plain_reason(text)
    if isinstance(exc, MissingTableError):
        return said or _NOT_SUPPORTED + "."
    return f"{_NOT_SUPPORTED}: {said}." if said else _NOT_SUPPORTED + "."


_NOT_SUPPORTED = "the data do not support it"
_PREFIX = re.compile(r"^\s*[A-Za-z_][\w.]*(?:\[[^\]]*\]|\([^)]*\))?\s*:\s+")
_DOTTED = re.compile(r"\b([a-z]+(?:_[a-z]+)*)\.([a-z][a-z0-9]*(?:_[a-z0-9]+)*)\b")
_INSTRUCTION = re.compile(r"=|`|\w\(|\bpass\b|\brun\b|\bcall\b|\bdrop it\b")


def _plain_reason(message: str) -> str:
    """A library's error message as the report's "Not included" appendix says it: the
    function or class it starts with, the instructions addressed to a programmer (what to
    pass, drop or call) and ``table.column`` spellings removed or written in words; empty
    when nothing plain is left (the caller then says only that the data do not support
    the part).

    Examples
    --------
    >>> _plain_reason("CoxModel: covariate 'segment' has a level with 2 customers; drop it "
    ...               "from covariates=, merge the rare level into another (e.g. with "
    ...               "pl.when().then()), or pass penalizer=0.1 to shrink the estimate")
    "covariate 'segment' has a level with 2 customers"
    >>> _plain_reason("contact_conversion: needs contacts.direction")
    'needs the direction column of the contacts table'
    >>> _plain_reason("pass allow_refunds=True")
    ''
    """
    from loyaltylab.report import code_words

    text = str(message).strip()
    first = _PREFIX.match(text)
    if first and re.search(r"[_.]|[a-z][A-Z]", first.group(0)):
        text = text[first.end():]
    text = _DOTTED.sub(lambda m: (f"the {m.group(2)} column of the {m.group(1)} table"
                                  if m.group(1) in S.TABLES else m.group(0)), text)
    clauses = [c for c in re.split(r";\s+|\.\s+(?=[A-Z])", text) if c.strip()]
    kept = [c for c in clauses if not _INSTRUCTION.search(c)]
    out = plain_words("; ".join(kept)).strip().rstrip(".;,").strip()
    if not out or code_words([out]):
        return ""
    return out


_PACKAGE = str(Path(__file__).resolve().parent)


def _anticipated(exc: BaseException) -> bool:
    """A failure the library foresees: its own errors, a singular fit, no convergence, or a
    ValueError raised by loyaltylab's own checks (a ValueError from deep inside matplotlib
    or polars is a bug, logged as unexpected)."""
    if isinstance(exc, (LoyaltyLabError, np.linalg.LinAlgError)) \
            or type(exc).__name__ == "ConvergenceError":
        return True
    if not isinstance(exc, ValueError):
        return False
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and str(Path(last).resolve()).startswith(_PACKAGE)


@contextmanager
def _part(ctx: _Context, what: str, *, fallback: str | None = None) -> Iterator[None]:
    """Run one part of a section; on failure keep what was shown and say why the rest is
    missing (anticipated errors in plain words, others logged with their traceback)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - one part must never end the run
        if not _anticipated(exc):
            _unexpected(ctx, what, exc, fallback)
            return
        reason = _reason(exc)
        log.info("%s / %s not shown: %s", ctx.section, what, exc)
        ctx.report.add_skipped(f"{ctx.section}: {what}",
                               (fallback + " " if fallback else "") + reason[0].upper()
                               + reason[1:])
    finally:
        plt.close("all")


def _unexpected(ctx: _Context, what: str, exc: BaseException, fallback: str | None) -> None:
    line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    log.error("%s / %s failed", ctx.section, what, exc_info=exc)
    ctx.errors.append(f"{ctx.section}: {what}: {type(exc).__name__}: {line}")
    ctx.report.add_skipped(f"{ctx.section}: {what}",
                           (fallback + " " if fallback else "")
                           + "This part could not be produced because of an unexpected "
                             "problem in the software, not in the data; the run's log has "
                             "the details.")


def _pseudonymised(data: CRMData) -> bool:
    """Whether the data's identifiers were pseudonymised on load (the loader says so)."""
    return any(str(w).startswith("identifiers pseudonymised") for w in data.report.warnings)


def _per_customer(ctx: _Context, what: str) -> bool:
    """Whether a per-customer table may go into the workbook: only with pseudonymised
    identifiers (``loyaltylab report`` always pseudonymises); otherwise the appendix says
    why the sheet is missing."""
    if _pseudonymised(ctx.data):
        return True
    ctx.report.add_skipped(f"{ctx.section}: {what} in the workbook",
                           "Left out of the workbook because the customer numbers were not "
                           "replaced by pseudonyms when the data were loaded, and the "
                           "workbook may not carry the client's own customer numbers.")
    return False


def _groupings(frame: pl.DataFrame, limit: int = 50) -> list[str]:
    """The grouping columns present in ``frame`` with 2..limit distinct values."""
    out = []
    for c in GROUPINGS:
        if c in frame.columns:
            k = frame.get_column(c).drop_nulls().n_unique()
            if 1 < k <= limit:
                out.append(c)
    return out


# ---------------------------------------------------------------------------- overview
def _plain_col(frame: pl.DataFrame, col: str) -> pl.DataFrame:
    """``col`` with coded values (``web_sessions``) in plain words (``web sessions``)."""
    return frame.with_columns(pl.col(col).cast(pl.String).str.replace_all("_", " "))


def _overview(ctx: _Context) -> None:
    rep, data, fmt = ctx.report, ctx.data, ctx.report.formats
    rep.add_heading("The data", question="What does the dataset hold, who are the customers, "
                                         "and how has buying developed?")
    with _part(ctx, "tables in the dataset"):
        overview = table_overview(data)
        read = sum(t.read for t in data.report.tables.values())
        rep.add_figure(plots.plot_load_report(_plain_col(data.report.summary(), "table")),
                       title="Rows kept and rejected per table", name="rows-per-table",
                       footnote=Footnote(n=read, unit="rows read"))
        present = overview.filter(pl.col("present")) if "present" in overview.columns \
            else overview
        rejected = data.report.n_rejected
        rep.add_text(f"The export holds {fmt.count(present.height)} tables with "
                     f"{fmt.count(read)} rows; "
                     + (f"{fmt.count(rejected)} rows were rejected on load (the data-quality "
                        f"appendix says why). " if rejected else
                        "every row passed validation. ")
                     + f"{fmt.count(data.customers.height)} customers are on file, "
                     f"{fmt.count(data.orders.get_column(S.CUSTOMER_ID).n_unique())} of them "
                     f"with at least one order.")
        rep.add_table(_plain_col(overview, "table"), title="Tables in the dataset")
    groups = _groupings(data.customers)
    if not groups:
        rep.add_text("The customers table has no grouping column (kind of relationship, "
                     "segment, acquisition channel, region or reward scheme), so customers "
                     "are not broken down into groups.")
    mixes = []
    for by in groups:
        with _part(ctx, f"customers by {_WORDS[by]}"):
            mix = _plain_col(customer_mix(data, by=by), by)
            rep.add_figure(plots.plot_customer_mix(mix),
                           title=f"Customers by {_WORDS[by]}", name=f"customers-by-{by}",
                           footnote=Footnote(n=data.customers.height, start=ctx.start,
                                             end=ctx.as_of))
            if "share" in mix.columns and mix.height:
                top = mix.sort("share", descending=True).row(0, named=True)
                mixes.append(f"the largest {_WORDS[by]} is {plain_words(str(top[by]))} "
                             f"({fmt.percent(top['share'])} of customers)")
    if mixes:
        rep.add_text("By group, " + "; ".join(mixes) + ".")
    with _part(ctx, "activity over time"):
        activity = activity_over_time(data, period="quarter", as_of=ctx.as_of)
        rep.add_figure(plots.plot_activity(activity), title="Active customers per quarter",
                       name="activity",
                       footnote=Footnote.from_frame(data.orders, date_col=S.ORDERED_AT,
                                                    count_col=S.CUSTOMER_ID))
        if activity.height >= 2 and "active_customers" in activity.columns:
            first, last = activity.row(0, named=True), activity.row(-1, named=True)
            change = ("rose" if last["active_customers"] > first["active_customers"] else
                      "fell" if last["active_customers"] < first["active_customers"] else
                      "stayed")
            rep.add_text(f"Active customers per quarter {change} from "
                         f"{fmt.count(first['active_customers'])} in the quarter starting "
                         f"{fmt.date(first['period_start'])} to "
                         f"{fmt.count(last['active_customers'])} in the quarter starting "
                         f"{fmt.date(last['period_start'])}.")


# ---------------------------------------------------------------------------- measure
_SCORECARD_COLUMNS = ("metric", "unit", "previous", "current", "change", "change_ci_low",
                      "change_ci_high", "p_value")


def _scorecard_table(card: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """The scorecard as a client reads it: the measure, the two years, the change with
    its interval and p-value (definitions go to the glossary), with year headings."""
    cols = [c for c in _SCORECARD_COLUMNS if c in card.columns]
    labels = {"change_ci_low": "Change: 95 % interval"}
    for col, period in (("previous", "previous_period"), ("current", "current_period")):
        if period in card.columns and card.height:
            start = card.get_column(period).drop_nulls()
            if start.len():
                value = start[0]
                labels[col] = (str(value.year) if hasattr(value, "year") else str(value))
    return card.select(cols), labels


def _significant_changes(card: pl.DataFrame, fmt: Any) -> str | None:
    """One sentence: which scorecard measures changed beyond chance (p < 0.05)."""
    if "p_value" not in card.columns:
        return None
    tested = card.filter(pl.col("p_value").is_not_null())
    sig = tested.filter(pl.col("p_value") < 0.05)
    if tested.height == 0:
        return None
    if sig.height == 0:
        return (f"None of the {fmt.count(tested.height)} measures with an interval changed "
                f"by more than chance would explain (p < 0.05) between the last two years.")
    moves = [f"{r['metric'].lower()} {'rose' if r['change'] > 0 else 'fell'}"
             for r in sig.iter_rows(named=True)]
    return (f"{fmt.count(sig.height)} of {fmt.count(tested.height)} measures with an interval "
            f"changed by more than chance would explain (p < 0.05) between the last two "
            f"years: {', '.join(moves)}.")


def _measure(ctx: _Context) -> None:
    rep, data, fmt = ctx.report, ctx.data, ctx.report.formats
    start, end = ctx.start, ctx.as_of
    buyers = data.orders.get_column(S.CUSTOMER_ID).n_unique()
    section = "Measure everything"
    rep.add_heading(section, question="How did the headline loyalty figures move, how many "
                                      "customers are lost each year, and who brings the "
                                      "profit?")
    with _part(ctx, "scorecard"):
        card = metrics.scorecard(data, period="year")
        rep.add_figure(plots.plot_scorecard(card), title="Loyalty scorecard",
                       name="scorecard",
                       footnote=Footnote(n=buyers, start=start, end=end, ci=WILSON))
        reading = _significant_changes(card, fmt)
        if reading:
            rep.add_text(reading)
        table, labels = _scorecard_table(card)
        rep.add_table(table, title="Scorecard", labels=labels, row_kinds="unit")
    with _part(ctx, "defection rate"):
        defection = metrics.defection_rate(data)
        rep.add_figure(plots.plot_defection(defection), title="Defection: customers lost per year",
                       name="defection",
                       footnote=Footnote(n=buyers, start=start, end=end, ci=WILSON,
                                         definition="typical band: 20-40 % a year"))
        done = defection.filter(pl.col("denominator") > 0)
        if done.height:
            last = done.row(-1, named=True)
            year = str(last["period_start"].year) if hasattr(last["period_start"], "year") \
                else str(last["period_start"])
            rate = last.get("annualized", last["value"])
            finding = _summary.defection_finding(
                rate, last["ci_low"], last["ci_high"], lost=int(last["numerator"]),
                base=int(last["denominator"]), year=year, section=section,
                figure="defection", fmt=fmt)
            rep.add_finding(finding)
            rep.add_text(finding.headline + " " + finding.meaning)
    with _part(ctx, "cohort retention"):
        cohorts = metrics.cohort_retention(data.orders, period="quarter")
        rep.add_figure(plots.plot_cohort_heatmap(cohorts), title="Cohort retention by quarter",
                       name="cohorts",
                       footnote=Footnote(n=buyers, start=start, end=end,
                                         definition="active = ordered in the period"))
        pooled = (cohorts.filter(pl.col("period").is_in([1, 4]))
                  .group_by("period").agg(pl.col("active").sum(), pl.col("cohort_size").sum())
                  .sort("period"))
        when = {1: "in the quarter after their first", 4: "four quarters later"}
        said = [f"{fmt.percent(r['active'] / r['cohort_size'])} {when[r['period']]}"
                for r in pooled.iter_rows(named=True) if r["cohort_size"]]
        if said:
            rep.add_text("Across all cohorts, customers ordered again: " + ", and ".join(said)
                         + ". Each row of the chart is the customers who first bought in "
                         "one quarter.")
    with _part(ctx, "profit by customer"):
        whale = metrics.whale_curve(data)
        rep.add_figure(plots.plot_whale_curve(whale), title="Profit by customer (whale curve)",
                       name="whale-curve",
                       footnote=Footnote(n=buyers, start=start, end=end,
                                         definition="profit = revenue - discounts - cost to "
                                                    "serve - acquisition cost"))
        n_loss = int((whale.get_column("profit") < 0).sum())
        finding = _summary.unprofitable_finding(n_loss, whale.height, section=section,
                                                figure="whale-curve", fmt=fmt)
        if finding is not None:
            rep.add_finding(finding)
            rep.add_text(finding.headline + " " + finding.meaning)
    with _part(ctx, "revenue concentration"):
        per_buyer = (data.orders.lazy().group_by(S.CUSTOMER_ID)
                     .agg(pl.col(S.AMOUNT).sum().alias("revenue"))
                     .sort("revenue", descending=True).collect())
        total = float(per_buyer.get_column("revenue").sum() or 0.0)
        k = int(per_buyer.height * _summary.TOP_SHARE)
        if total > 0 and k > 0:
            top = float(per_buyer.get_column("revenue").head(k).sum()) / total
            finding = _summary.concentration_finding(top, buyers=per_buyer.height,
                                                     section=section, figure="whale-curve",
                                                     fmt=fmt)
            rep.add_finding(finding)
            rep.add_text(finding.headline + " " + finding.meaning)
    rep.add_methods("Rates carry their numerator and denominator and a 95 % Wilson score "
                    "interval. Cohort retention counts a customer as active in a period when "
                    "they ordered in it. The scorecard compares the last complete year with "
                    "the one before; a change is called significant when its p-value is "
                    "below 0.05.", heading="Measure everything")
    if data.contacts is None:
        rep.add_skipped(f"{ctx.section}: contacts and conversion",
                        "Conversion of contacts into orders needs a contacts table "
                        "(customer, contact date and channel), which this dataset does not "
                        "have.")
    else:
        with _part(ctx, "contacts and conversion"):
            by = S.CHANNEL if S.CHANNEL in data.contacts.columns else None
            conv = metrics.contact_conversion(data, by=by)
            rep.add_figure(plots.plot_conversion(conv),
                           title="Contact-to-sale conversion: contacts followed by an order",
                           name="conversion",
                           footnote=Footnote(start=start, end=end, ci=WILSON,
                                             definition="converted = order within 30 days"))
    if data.complaints is None or S.RESOLVED_AT not in data.complaints.columns:
        what = ("a complaints table (customer, opened and resolved dates)"
                if data.complaints is None else "the resolved date of each complaint")
        rep.add_skipped(f"{ctx.section}: complaint handling",
                        f"Retention by how fast complaints were resolved needs {what}, "
                        f"which this dataset does not have.")
    else:
        with _part(ctx, "complaint handling"):
            res = metrics.retention_by_resolution(data)
            rep.add_figure(plots.plot_resolution_retention(res),
                           title="Retention by how fast complaints were resolved",
                           name="complaints",
                           footnote=Footnote(start=start, end=end, ci=WILSON))
            finding = _summary.complaints_finding(res, section=section, figure="complaints",
                                                  fmt=fmt)
            if finding is not None:
                rep.add_finding(finding)
                rep.add_text(finding.headline + " " + finding.meaning)
            else:
                rep.add_text("Retention after a complaint does not differ measurably between "
                             "fast and slow resolution (p of 0.05 or more).")


# ---------------------------------------------------------------------------- ladder
_FALSE, _TRUE = "false", "true"


def _simplify(cond: funnel.Condition, data: CRMData) -> Any:
    """``cond`` with every count on a missing table (or column) evaluated as "no events":
    returns a Condition, or the strings "true" / "false" when the rule becomes constant."""
    if isinstance(cond, funnel.Count):
        table = funnel._SOURCES[cond.source][0]
        frame = data.tables.get(table)
        if frame is None or (cond.distinct not in (None, "day")
                             and cond.distinct not in frame.columns):
            return _FALSE
        return cond
    if isinstance(cond, funnel.Not):
        inner = _simplify(cond.part, data)
        return _TRUE if inner == _FALSE else cond
    parts = [_simplify(p, data) for p in cond.parts]
    if isinstance(cond, funnel.All):
        if _FALSE in parts:
            return _FALSE
        parts = [p for p in parts if p != _TRUE]
        return _TRUE if not parts else parts[0] if len(parts) == 1 else funnel.All(*parts)
    if _TRUE in parts:
        return _TRUE
    parts = [p for p in parts if p != _FALSE]
    return _FALSE if not parts else parts[0] if len(parts) == 1 else funnel.AnyOf(*parts)


def _lacking(cond: funnel.Condition, data: CRMData) -> list[str]:
    """What the data lack for the counts of ``cond``, in words."""
    out: list[str] = []
    for c in funnel._atoms(cond):
        table = funnel._SOURCES[c.source][0]
        frame = data.tables.get(table)
        if frame is None:
            text = f"a {table.replace('_', ' ')} table"
        elif c.distinct not in (None, "day") and c.distinct not in frame.columns:
            text = f"a {c.distinct.replace('_', ' ')} column in the {table} table"
        else:
            continue
        if text not in out:
            out.append(text)
    return out


def _rule_words(cond: Any) -> str:
    """A rung's rule in words: "referrals >= 1 within 730d" -> "referrals >= 1 within 730
    days"."""
    return re.sub(r"\b(\d+)d\b", r"\1 days", str(cond).replace("_", " "))


def ladder_for_data(data: CRMData, ladder: funnel.Ladder = funnel.OFFLINE
                    ) -> tuple[funnel.Ladder, list[str]]:
    """The ladder as far as the data can measure it, and a plain sentence per change.

    A rung whose rule needs a table (or column) the data lack is left out (without
    referrals the offline ladder ends at "client"); a rule that merely excludes events of
    a missing table ("no contacts") holds for everyone, and is dropped from the rule; an
    alternative that needs a missing column ("or 2 product lines") is dropped.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> data = ll.datasets.load_sample()
    >>> lad, notes = ladder_for_data(data.replace(referrals=None))
    >>> lad.names[-1]
    'client'
    >>> notes
    ['The top rung, advocate, is not shown: it needs a referrals table (its rule:
    referrals >= 1 within 730 days), which this dataset does not have.']
    """
    stages, notes, dropped = [], [], {}
    for st in ladder.stages:
        rule = _simplify(st.rule, data)
        lack = " and ".join(_lacking(st.rule, data))
        if rule == _FALSE:
            dropped[st.name] = st.requires
            top = st is ladder.stages[-1]
            notes.append(f"{'The top rung, ' if top else 'The rung '}{st.display}"
                         f"{',' if top else ''} is not shown: it needs {lack} (its rule: "
                         f"{_rule_words(st.rule)}), which this dataset does not have.")
            continue
        requires = st.requires
        while requires in dropped:
            requires = dropped[requires]
        if rule == _TRUE:
            rule = funnel.Count("customers")
        if str(rule) != str(st.rule):
            notes.append(f"The rung {st.display} is measured as '{_rule_words(rule)}' "
                         f"instead of '{_rule_words(st.rule)}', because the data have no "
                         f"{lack[2:] if lack.startswith('a ') else lack}.")
        stages.append(funnel.Stage(st.name, rule, label=st.label, requires=requires))
    if not notes:
        return ladder, []
    return funnel.Ladder(stages, name=ladder.name), notes


def _ladder(ctx: _Context) -> None:
    rep, data, as_of, fmt = ctx.report, ctx.data, ctx.as_of, ctx.report.formats
    section = "The loyalty ladder"
    rep.add_heading(section, question="How far up the loyalty ladder do people get, and "
                                      "where are most of them lost?")
    ladder, notes = ladder_for_data(data)
    for note in notes:
        rep.add_text(note)
    display = {st.name: st.display for st in ladder.stages}
    with _part(ctx, "ladder funnel"):
        fun = funnel.funnel(data, ladder, as_of=as_of)
        rep.add_figure(plots.plot_funnel(fun), title="Loyalty ladder: people on each rung",
                       name="ladder",
                       footnote=Footnote(n=data.customers.height, end=as_of, ci=WILSON))
        shown = fun.with_columns(pl.col("stage").replace(display).alias("rung"))
        finding = _summary.ladder_finding(shown, section=section, figure="ladder", fmt=fmt)
        top = shown.row(-1, named=True)
        rep.add_text(f"{fmt.count(shown.row(0, named=True)['reached'])} people are on the "
                     f"ladder; {fmt.count(top['reached'])} "
                     f"({fmt.percent(top['share_of_top'])}) reached the top rung, "
                     f"{top['rung']}." + (" " + finding.headline if finding else ""))
        if finding is not None:
            rep.add_finding(finding)
        cols = [c for c in ("rung", "reached", "share_of_top", "at_stage", "lapsed",
                            "conversion", "ci_low", "ci_high") if c in shown.columns]
        rep.add_table(shown.select(cols), title="Loyalty ladder",
                      labels={"conversion": "Moved up to the next rung"})
    with _part(ctx, "moves between rungs"):
        year_ago = as_of - timedelta(days=365)
        moves = funnel.transition_matrix(data, ladder, start=year_ago, end=as_of)
        rep.add_figure(plots.plot_transition_heatmap(moves),
                       title="Moves between rungs in the last year", name="ladder-moves",
                       footnote=Footnote(start=year_ago, end=as_of,
                                         definition="lapsed = no order and no contact for 365 "
                                                    "days"))
        states = [c for c in moves.columns if c not in ("from_state", "n")]
        names = {c: display.get(c, c.replace("_", " ")) for c in states}
        sheet = (moves.with_columns(pl.col("from_state").cast(pl.String)
                                    .replace(names).alias("rung a year ago"))
                 .select("rung a year ago", pl.col("n").alias("people"),
                         *[pl.col(c).alias(names[c]) for c in states]))
        rep.add_table(sheet, title="Moves between rungs", workbook_only=True,
                      formats={names[c]: "percent" for c in states},
                      note="Where the people on each rung a year ago stood at the measuring "
                           "date: each row's shares add up to 100 %; lapsed means no order "
                           "and no contact for 365 days.")
    rungs = ", ".join(s.display for s in ladder.stages)
    rep.add_methods(f"Rungs shown: {rungs}. Stages follow the offline ladder's default rules "
                    "(suspect, prospect, first-time customer, repeat customer, client: 4 or "
                    "more orders or 2 or more product lines in 365 days, advocate: a client "
                    "who referred someone in 730 days); a rung whose data are missing is left "
                    "out and said so.", heading="Loyalty ladder")


# ---------------------------------------------------------------------------- churn
def call_list(table: churn.ChurnTable | pl.DataFrame, cox: Any, *, horizon: str = HORIZON,
              inactivity: str = INACTIVITY, top: int | None = 200) -> pl.DataFrame:
    """The call list of the report: active customers ranked by the chance, given their own
    buying rhythm, that they have already stopped buying.

    :func:`loyaltylab.churn.at_risk_list` ranks by ``p_lapse``, the chance that the
    inactivity rule declares a customer lost within the horizon; that ranking is led by
    customers whose silence is simply close to the rule's threshold, whom the rule will
    count as lost whatever anyone does. This list ranks by ``p_stopped`` = 1 - ``p_alive``
    (BG/NBD): a weekly buyer silent for two months ranks above a twice-a-year buyer silent
    for five, whatever the threshold. Customers without a repeat purchase have no rhythm
    to break (BG/NBD gives them ``p_alive`` = 1) and come last, by the Cox ``p_churn``.

    Returns
    -------
    pl.DataFrame
        The columns of :func:`~loyaltylab.churn.at_risk_list`, re-ranked, plus

        - p_stopped: 1 - p_alive, the ranking key (null when BG/NBD could not be fitted:
          the list is then ranked by ``p_churn``)
    """
    calls = churn.at_risk_list(table, cox, horizon=horizon, inactivity=inactivity)
    calls = calls.with_columns((1.0 - pl.col("p_alive")).alias("p_stopped"))
    calls = (calls.sort(["p_stopped", "p_churn", S.CUSTOMER_ID],
                        descending=[True, True, False], nulls_last=True)
             .drop("rank").with_row_index("rank", offset=1)
             .with_columns(pl.col("rank").cast(pl.Int64)))
    return calls if top is None else calls.head(top)


_COVARIATE_WORDS = {
    S.SEGMENT: "segment", S.REWARD_SCHEME: "reward scheme",
    S.ACQUISITION_CHANNEL: "acquisition channel",
    "orders_90d": "orders in the first 90 days (each one more)",
    "emails_over_threshold": "months with more e-mails than the contact threshold (each one "
                             "more)",
}


_COVARIATE_SHORT = {"orders_90d": "orders in the first 90 days",
                    "emails_over_threshold": "many e-mails"}


def _driver_words(cox: Any) -> dict[str, str]:
    """Each Cox covariate (``reward_scheme=every_purchase``, ``orders_90d``) in short plain
    words (``reward scheme every purchase``, ``orders in the first 90 days``)."""
    out = {}
    for cov, var in cox.summary.select("covariate", "variable").iter_rows():
        name = _COVARIATE_SHORT.get(var, _COVARIATE_WORDS.get(var, var.replace("_", " ")))
        level = cov.split("=", 1)[1].replace("_", " ") if "=" in cov else ""
        out[cov] = f"{name} {level}".strip()
    return out


def _plain_drivers(calls: pl.DataFrame, cox: Any) -> pl.DataFrame:
    """The call list's ``drivers`` ("reward_scheme=none (x1.15), orders_90d (x1.41)") in
    plain words ("reward scheme none (risk ×1.15), orders in the first 90 days (risk
    ×1.41)")."""
    words = _driver_words(cox)
    expr = pl.col("drivers").fill_null("")
    for cov in sorted(words, key=len, reverse=True):
        expr = expr.str.replace_all(f"{cov} (x", f"{words[cov]} (risk ×", literal=True)
    return calls.with_columns(expr.alias("drivers"))


_SEPARATION_WORDS = {
    "orders_90d": "{value} orders in their first 90 days",
    "emails_over_threshold": "{value} months with more e-mails than the contact threshold",
}


def _separation_sentence(exc: SeparationError, fmt: Any) -> str:
    """Why the plain Cox model could not be fitted, in a client's words: "None of the 12
    customers whose reward scheme is none has left, so ..."."""
    name = _COVARIATE_WORDS.get(exc.covariate, exc.covariate.replace("_", " "))
    if exc.level is not None:
        level = exc.level.replace("_", " ")
        group = f"whose {name} is {'not ' if exc.other else ''}{level}"
    else:
        value = f"{exc.value:g}"
        words = _SEPARATION_WORDS.get(exc.covariate)
        group = ("with " + words.format(value=value)) if words else f"whose {name} is {value}"
    n = exc.n
    who = (f"None of the {fmt.count(n)} customers {group} has left"
           if n != 1 else f"The one customer {group} has not left")
    return (f"{who}, so how much this protects against leaving cannot be measured exactly "
            f"on these data.")


def _effects(cox: Any, table: pl.DataFrame) -> pl.DataFrame:
    """The Cox model's hazard ratios in plain words, one row per attribute: ``label``
    ("Reward scheme none (against every purchase)"), ``hazard_ratio``, ``ci_low``,
    ``ci_high``, ``p_value``."""
    summary = cox.summary
    refs: dict[str, str] = {}
    for var in summary.get_column("variable").unique().to_list():
        levels = [c.split("=", 1)[1] for c in summary.filter(pl.col("variable") == var)
                  .get_column("covariate").to_list() if "=" in c]
        if levels and var in table.columns:
            rest = [str(v) for v in table.get_column(var).drop_nulls().unique().to_list()
                    if str(v) not in levels]
            if len(rest) == 1:
                refs[var] = rest[0]

    def words(cov: str, var: str) -> str:
        name = _COVARIATE_WORDS.get(var, var.replace("_", " "))
        if "=" in cov:
            level = cov.split("=", 1)[1].replace("_", " ")
            ref = refs.get(var)
            text = f"{name} {level}" + (f" (against {ref.replace('_', ' ')})" if ref else "")
        else:
            text = name
        return text[:1].upper() + text[1:]

    labels = [words(c, v) for c, v in summary.select("covariate", "variable").iter_rows()]
    return pl.DataFrame({"label": labels}).hstack(
        summary.select(pl.col("hazard_ratio"), pl.col("hr_ci_low").alias("ci_low"),
                       pl.col("hr_ci_high").alias("ci_high"), pl.col("p_value")))


def _ph_sentence(cox: Any, effects: pl.DataFrame) -> str:
    """Whether each effect holds at every age of the relationship, in plain words."""
    ph = cox.check_proportional_hazards()
    failing = set(ph.filter(~pl.col("holds")).get_column("covariate").to_list())
    if not failing:
        return ("Each effect holds at every age of the relationship (a test of the model's "
                "assumption found no change over time).")
    names = [lab for lab, cov in zip(effects.get_column("label").to_list(),
                                     cox.summary.get_column("covariate").to_list())
             if cov in failing]
    names = [n[:1].lower() + n[1:] for n in names]
    if len(names) == 1:
        return (f"The effect of {names[0]} changes with the age of the relationship: its "
                f"number is an average over the customer's lifetime.")
    return (f"The effects of {'; of '.join(names[:-1])} and of {names[-1]} change with the "
            f"age of the relationship: their numbers are averages over the customer's "
            f"lifetime.")


def _churn(ctx: _Context) -> None:
    rep, data, fmt = ctx.report, ctx.data, ctx.report.formats
    start, end = ctx.start, ctx.as_of
    section = "Churn and retention"
    definition = f"churned = no order for {INACTIVITY[:-1]} days"
    rep.add_heading(section, question="How long do customers stay, what makes them leave, "
                                      "and whom should the team call first?")
    table = churn.churn_table(data, inactivity=INACTIVITY, orders_before_acquisition="report")
    early = table.report.n_orders_before_acquisition
    if early:
        rep.add_text(f"{fmt.count(early)} customers have an order dated before the date they "
                     f"were acquired; their lifetime starts at the first order.")
    by = S.SEGMENT if S.SEGMENT in _groupings(table, limit=12) else None
    with _part(ctx, "retention curve"):
        try:
            km = churn.KaplanMeier().fit(table, by=by)
        except (LoyaltyLabError, ValueError):
            if by is None:
                raise
            km = churn.KaplanMeier().fit(table)
            rep.add_text("Retention is shown for all customers together: the segments are "
                         "too small to draw one curve each.")
        rep.add_figure(plots.plot_retention(km, unit="months"),
                       title="Retention: share of customers still buying, by months since "
                             "their first order", name="retention",
                       footnote=Footnote(n=table.height, start=start, end=end,
                                         ci="95% exponential Greenwood band",
                                         definition=definition))
        summ = km.summary
        if "survival_1y" in summ.columns and summ.height:
            rows = summ.filter(pl.col("survival_1y").is_not_null()).sort("survival_1y")
            if rows.height == 1:
                r = rows.row(0, named=True)
                band = fmt.interval(r["survival_1y_ci_low"], r["survival_1y_ci_high"], "percent")
                rep.add_text(f"A year after their first order, {fmt.percent(r['survival_1y'])} "
                             f"of customers are still buying ({band}).")
            elif rows.height > 1:
                lo, hi = rows.row(0, named=True), rows.row(-1, named=True)
                rep.add_text(f"A year after their first order, between "
                             f"{fmt.percent(lo['survival_1y'])} ({lo['group']}) and "
                             f"{fmt.percent(hi['survival_1y'])} ({hi['group']}) of customers "
                             f"are still buying.")
        rep.add_text(f"A customer counts as lost after {INACTIVITY[:-1]} days without an "
                     f"order, so every curve starts flat: nobody can be lost in their first "
                     f"{INACTIVITY[:-1]} days.")
        keep = [c for c in summ.columns if not re.match(r"survival_3y", c)]
        rep.add_table(summ.select(keep), title="Retention summary")
    candidates = [c for c in (S.SEGMENT, S.REWARD_SCHEME, S.ACQUISITION_CHANNEL, "orders_90d",
                              "emails_over_threshold")
                  if c in table.columns and table[c].drop_nulls().n_unique() > 1]
    if not candidates:
        rep.add_skipped(f"{ctx.section}: drivers and call list",
                        "What drives churn, and the list of customers to call, need at least "
                        "one customer attribute that differs between customers (segment, "
                        "reward scheme, acquisition channel, recent orders or e-mails "
                        "received); these data have none.")
    cox = None
    with _part(ctx, "drivers of churn") if candidates else _noop():
        if candidates:
            fit_on = table if table.height <= COX_SAMPLE else table.sample(COX_SAMPLE, seed=0)
            try:
                cox = churn.CoxModel(covariates=candidates).fit(fit_on)
            except SeparationError as exc:
                # nobody left in one group: its effect is infinite, so shrink it
                cox = churn.CoxModel(covariates=candidates, penalizer=0.1).fit(fit_on)
                rep.add_text(_separation_sentence(exc, fmt) + " The effects below are "
                             "therefore shrunk towards 'no effect' to make the fit possible: "
                             "read them as directions rather than exact sizes.")
            except (ConvergenceError, np.linalg.LinAlgError):
                # a rare level or a near-separating covariate: shrink instead of failing
                cox = churn.CoxModel(covariates=candidates, penalizer=0.1).fit(fit_on)
                rep.add_text("The plain model of what drives churn could not be fitted (a "
                             "rare group or a measure that almost decides churn on its own); "
                             "the effects below are shrunk towards 'no effect' to make the "
                             "fit possible.")
            sampled = (f"fitted on a random {COX_SAMPLE:,} of {table.height:,} customers"
                       if fit_on.height < table.height else None)
            effects = _effects(cox, fit_on)
            shown = cox.summary.with_columns(effects.get_column("label").alias("covariate"))
            rep.add_figure(plots.plot_hazard_ratios(
                               shown, title=f"What changes the risk of leaving, "
                                            f"{fmt.count(shown.height)} attributes"),
                           title="What drives churn: what raises or lowers the risk of leaving",
                           name="drivers",
                           footnote=Footnote(n=fit_on.height, start=start, end=end,
                                             ci="95% Wald interval", definition=definition,
                                             extra=[sampled] if sampled else ()))
            finding = _summary.drivers_finding(effects, section=section, figure="drivers",
                                               fmt=fmt)
            if finding is not None:
                rep.add_finding(finding)
                rep.add_text(finding.headline + " " + finding.meaning)
            rep.add_text(_ph_sentence(cox, effects))
            rep.add_table(effects, title="Risk of leaving by attribute",
                          labels={"label": "Attribute",
                                  "hazard_ratio": "Risk of leaving, times"},
                          note="A value above 1 means customers with this attribute leave "
                               "sooner, below 1 later; an attribute matters when its 95 % "
                               "interval does not include 1.",
                          formats={"hazard_ratio": "ratio", "ci_low": "ratio",
                                   "ci_high": "ratio", "p_value": "pvalue"})
    if cox is not None and not table.filter(pl.col(cox.event_col) == 0).height:
        rep.add_skipped(f"{ctx.section}: call list",
                        f"Every customer had gone {INACTIVITY[:-1]} days without an order by "
                        f"the measuring date, so nobody is still active to call.")
    elif cox is not None:
        with _part(ctx, "call list"):
            calls = _plain_drivers(call_list(table, cox, horizon=HORIZON,
                                             top=WORKBOOK_CUSTOMERS), cox)
            ranked_by_rhythm = calls["p_stopped"].null_count() < calls.height
            rep.add_text(
                "The call list ranks customers who are still active under the "
                f"{INACTIVITY[:-1]}-day rule by the chance that they have already stopped "
                "buying, judged against their own buying rhythm: a customer who usually buys "
                "every few weeks and has been silent for two months ranks above one who buys "
                "twice a year and has been silent for five. Being close to the "
                f"{INACTIVITY[:-1]}-day mark does not by itself move a customer up the list. "
                "Customers with a single order have no rhythm to judge and come last. The "
                "reasons named beside each customer are the attributes that raise their risk "
                "most." if ranked_by_rhythm else
                "The call list ranks active customers by the chance that they churn within "
                "90 days given how long they have been customers and their attributes; "
                "their buying rhythm could not be modelled on these data.")
            rep.add_figure(plots.plot_at_risk_list(calls, top=15),
                           title="Call list: the active customers most likely to have "
                                 "stopped buying", name="call-list",
                           footnote=Footnote(end=end, definition=(
                               "ranked by the chance the customer has stopped buying, given "
                               "their own rhythm (BG/NBD); reasons from the Cox model; "
                               "identifiers pseudonymised" if ranked_by_rhythm else
                               "ranked by the Cox model's chance of churning in 90 days; "
                               "identifiers pseudonymised")))
            if _per_customer(ctx, "call list"):
                cols = [c for c in ("rank", S.CUSTOMER_ID, "tenure_days", "silent_days",
                                    "p_stopped", "p_alive", "p_lapse", "p_churn", "drivers")
                        if c in calls.columns]
                shares = [c for c in cols if c.startswith("p_")]
                rep.add_table(
                    calls.select(cols), title="Call list", workbook_only=True,
                    allow_identifiers=True,
                    formats={"tenure_days": "count", "silent_days": "count",
                             **{c: "percent" for c in shares}},
                    note=f"The {fmt.count(calls.height)} active customers most likely to have "
                         f"stopped buying, most urgent first (at most "
                         f"{fmt.count(WORKBOOK_CUSTOMERS)}): the chance that they have "
                         f"stopped, judged against their own buying rhythm, the chance that "
                         f"the {INACTIVITY[:-1]}-day rule counts them as lost within "
                         f"{HORIZON[:-1]} days, and the attributes that raise their risk "
                         f"most. Customer numbers are pseudonyms.")
    rep.add_methods(f"Churn follows the non-contractual rule: {definition}; customers whose "
                    "window had not ended by the measuring date are censored, not counted as "
                    "loyal. Retention curves are Kaplan-Meier estimates with 95 % bands. What "
                    "drives churn is a Cox proportional-hazards model: a hazard ratio above 1 "
                    "means a higher risk of leaving at any moment, and an effect counts as "
                    "measurable when its 95 % interval excludes 1. The call list ranks active "
                    "customers by the BG/NBD probability that they have stopped buying, given "
                    "the number and timing of their orders (not by their distance to the churn "
                    "rule's threshold). Both models are fitted with lifelines; above "
                    f"{fmt.count(COX_SAMPLE)} customers the Cox model is fitted on a random "
                    f"sample of {fmt.count(COX_SAMPLE)} and then scores every customer.",
                    heading="Churn")


@contextmanager
def _noop() -> Iterator[None]:
    yield


# ---------------------------------------------------------------------------- clv
def _clv(ctx: _Context) -> None:
    rep, data, fmt = ctx.report, ctx.data, ctx.report.formats
    section = "Repeat buying and customer value"
    rep.add_heading(section, question="How many buyers come back, and how likely is each "
                                      "one still active?")
    rfm = clv.rfm_summary(data.orders, time_unit="W", observation_end=ctx.as_of)
    repeat = int((rfm.get_column("frequency") > 0).sum())
    finding = _summary.repeat_finding(repeat, rfm.height, section=section, fmt=fmt)
    if finding is not None:
        rep.add_finding(finding)
        rep.add_text(finding.headline + " " + finding.meaning)
    summary = pl.DataFrame({
        "measure": ["Buyers", "Repeat buyers", "Repeat purchases per buyer (mean)",
                    "Weeks observed per buyer (mean)"],
        "unit": ["count", "count", "number", "number"],
        "value": [float(rfm.height), float(repeat),
                  float(rfm.get_column("frequency").mean() or 0.0),
                  float(rfm.get_column("T").mean() or 0.0)],
    })
    rep.add_table(summary, title="Repeat buying in the data", row_kinds="unit")
    bg = None
    with _part(ctx, "buying model",
               fallback="The repeat-buying summary above is shown without the model."):
        bg = clv.BetaGeo().fit(rfm)
        rep.add_table(bg.summary, title="Buying model parameters", workbook_only=True)
        rep.add_figure(plots.plot_alive_matrix(clv.probability_alive_matrix(bg)),
                       title="Chance that a buyer is still active, by how often and how "
                             "recently they bought", name="alive",
                       footnote=Footnote(n=rfm.height, unit="buyers",
                                         definition="BG/NBD, weekly time unit"))
        rep.add_text("Buyers who bought often but not recently are the ones most likely to "
                     "have stopped: read the chart from its top-left corner. Customers with a "
                     "single order count as active until the model has evidence otherwise.")
    if bg is not None and _per_customer(ctx, "value of each customer"):
        with _part(ctx, "value of each customer"):
            values, note = _customer_values(rfm, bg, fmt)
            rep.add_table(values, title="Value of each customer", note=note,
                          workbook_only=True, allow_identifiers=True,
                          formats={"p_alive": "percent", "expected_purchases": "number",
                                   "expected_spend": "money", "clv": "money",
                                   "clv_low": "money", "clv_high": "money"})
    rep.add_methods("The chance that a buyer is still active comes from the BG/NBD model "
                    "(Fader, Hardie & Lee 2005), fitted by maximum likelihood on the number "
                    "and timing of each buyer's repeat purchases, counted in weeks; its "
                    "parameters are in the workbook.", heading="Customer value")


def _customer_values(rfm: pl.DataFrame, bg: Any, fmt: Any) -> tuple[pl.DataFrame, str]:
    """The workbook's value of each customer: the :data:`WORKBOOK_CUSTOMERS` most valuable,
    with the chance they are still active, their expected purchases and spend per purchase
    over the next year, and the discounted value with its 95 % interval (delta method, on
    the most valuable only: the interval is the slow part). Returns the table and its note."""
    spend = clv.GammaGamma().fit(rfm.filter((pl.col("frequency") > 0)
                                            & (pl.col("monetary_value") > 0)))
    value = clv.customer_lifetime_value(rfm, purchase_model=bg, spend_model=spend,
                                        horizon=52.0, interval=None)
    top = value.sort("clv", descending=True).head(WORKBOOK_CUSTOMERS).select(S.CUSTOMER_ID)
    value = clv.customer_lifetime_value(rfm.join(top, on=S.CUSTOMER_ID, how="semi"),
                                        purchase_model=bg, spend_model=spend, horizon=52.0,
                                        interval="delta")
    table = (value.sort("clv", descending=True)
             .select(S.CUSTOMER_ID, "p_alive", "expected_purchases", "expected_spend", "clv",
                     "clv_low", "clv_high"))
    note = (f"The {fmt.count(table.height)} most valuable of {fmt.count(rfm.height)} buyers "
            f"(at most {fmt.count(WORKBOOK_CUSTOMERS)}), most valuable first: the chance "
            f"they still buy, the purchases expected in the next 52 weeks, the expected "
            f"amount per purchase, and their value (the expected spend of the next 52 weeks, "
            f"discounted at 10 % a year; revenue, not margin) with its 95 % interval. "
            f"Customer numbers are pseudonyms.")
    return table, note


# ---------------------------------------------------------------------------- surveys
def _surveys(ctx: _Context) -> None:
    rep, data, fmt = ctx.report, ctx.data, ctx.report.formats
    section = "What customers say"
    rep.add_heading(section, question="Would customers recommend the firm, and is that "
                                      "changing?")
    nps_answers = data.surveys.filter(pl.col(S.ITEM) == "nps")
    if nps_answers.height == 0:
        rep.add_skipped(f"{ctx.section}: net promoter score",
                        "The surveys hold no answers to the recommendation question, so no "
                        "net promoter score is shown.")
    else:
        with _part(ctx, "net promoter score"):
            by = S.SEGMENT if S.SEGMENT in _groupings(data.customers, limit=12) else None
            scores = survey.nps(data.replace(surveys=nps_answers), by=by)
            rep.add_figure(plots.plot_nps(scores), title="Net Promoter Score (NPS)", name="nps",
                           footnote=Footnote(n=nps_answers.height, unit="answers",
                                             ci="95% adjusted-Wald (Rocks 2016)"))
            overall = survey.nps(data.replace(surveys=nps_answers)) if by else scores
            o = overall.row(0, named=True)
            finding = _summary.nps_finding(
                o["nps"], o["ci_low"], o["ci_high"], n=int(o["n"]),
                promoters=o["promoters_pct"] / 100, detractors=o["detractors_pct"] / 100,
                section=section, figure="nps", fmt=fmt)
            rep.add_finding(finding)
            rep.add_text(finding.headline + " " + finding.meaning)
            cols = [c for c in (by, "n", "promoters_pct", "passives_pct", "detractors_pct",
                                "nps", "ci_low", "ci_high") if c and c in scores.columns]
            rep.add_table(scores.select(cols), title="Net promoter score",
                          labels={"n": "Answers"})
    csat_answers = data.surveys.filter(pl.col(S.ITEM) == "csat")
    if csat_answers.height:
        with _part(ctx, "customer satisfaction"):
            by = S.SEGMENT if S.SEGMENT in _groupings(data.customers, limit=12) else None
            sat = survey.csat(data.replace(surveys=csat_answers))
            if by is not None:
                sat = pl.concat([sat.select(pl.lit("all customers").alias(by), pl.all()),
                                 survey.csat(data.replace(surveys=csat_answers), by=by)
                                 .with_columns(pl.col(by).cast(pl.String))],
                                how="vertical_relaxed")
            rep.add_table(sat, title="Customer satisfaction", workbook_only=True,
                          formats={"n": "count", "satisfied": "count"},
                          note="Customer satisfaction: the percentage of answers in the top "
                               "two boxes of the 1-5 scale (4 or 5) with its 95 % Wilson "
                               "interval, and the mean answer with its 95 % interval.")
    with _part(ctx, "scores over time"):
        trend = survey.score_trend(data)
        wave = trend.columns[0]
        trend = _plain_col(trend, wave)
        rep.add_figure(plots.plot_score_trend(trend), title="Survey scores over time",
                       name="score-trend",
                       footnote=Footnote(ci="95% adjusted-Wald (Rocks 2016)"))
        cols = [c for c in (wave, "started_at", "n", "promoters_pct", "passives_pct",
                            "detractors_pct", "nps", "ci_low", "ci_high", "change",
                            "change_p_value") if c in trend.columns]
        rep.add_table(trend.select(cols), title="Survey scores over time", workbook_only=True,
                      formats={c: f for c, f in (("started_at", "date"), ("nps", "0.0"),
                                                 ("ci_low", "0.0"), ("ci_high", "0.0"),
                                                 ("change", "0.0"),
                                                 ("change_p_value", "pvalue"))
                               if c in cols},
                      note="The net promoter score of each survey wave, in points from -100 "
                           "to 100, with its 95 % adjusted-Wald interval, the change from "
                           "the wave before and that change's p-value.")
    rep.add_methods("Net promoter score = share of promoters (answers 9-10) minus share of "
                    "detractors (0-6), in points from -100 to 100, with adjusted-Wald "
                    "intervals (Rocks 2016).", heading="Surveys")


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
               locale: str = "en", **load_options: Any) -> ReportRun:
    """Load, analyse and write the full report into ``out``.

    ``locale`` (``"en"``, ``"de"``, ``"fr"``, ``"nl"``, ``"es"``...) decides how numbers,
    money and dates are written in the report.

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
    files = rep.write_all(out, progress=progress)
    return ReportRun(rep, files, rep.skipped, errors)
