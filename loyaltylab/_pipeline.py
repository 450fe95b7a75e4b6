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
from typing import Any, Callable, Iterator

import sys

import matplotlib

if "matplotlib.pyplot" not in sys.modules:
    # headless runs (the CLI, make demo); a notebook that imports this keeps its backend
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from loyaltylab import churn, clv, funnel, metrics, plots, survey  # noqa: E402
from loyaltylab.data import schema as S  # noqa: E402
from loyaltylab.data.crmdata import CRMData  # noqa: E402
from loyaltylab.data.load import load  # noqa: E402
from loyaltylab.data.overview import activity_over_time, customer_mix, table_overview  # noqa: E402
from loyaltylab.datasets import data_path  # noqa: E402
from loyaltylab.exceptions import ConvergenceError, LoyaltyLabError, MissingTableError  # noqa: E402
from loyaltylab.report import Footnote, Report  # noqa: E402

__all__ = ["RejectedRowsError", "ReportRun", "Section", "SECTIONS", "load_for_report",
           "measuring_date", "ladder_for_data", "call_list", "build_report", "run_report"]

log = logging.getLogger("loyaltylab.report")

INACTIVITY = "180d"
HORIZON = "90d"
COX_SAMPLE = 50_000
"""Above this many customers the Cox model is fitted on a random sample of this size: the
hazard ratios are already precise there, and lifelines' Schoenfeld residuals grow
quadratically with the rows. Every customer is still scored for the call list."""
WILSON = "95% Wilson score interval"
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


def measuring_date(data: CRMData, as_of: Any = None) -> tuple[datetime, str]:
    """The date the report measures at, and one plain sentence saying which and why.

    Without ``as_of`` it is the end of the day of the last event in the data (the extract
    date the data show); a date given without a time also means the end of that day. So a
    year or quarter that ends on the extract date counts as complete.

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
    'Figures are measured at the end of 31 December 2025, the date of the last event in the data (taken as the extract date), so a period ending that day counts as complete.'
    """
    if as_of is not None:
        from loyaltylab._util import to_datetime

        given = to_datetime(as_of, name="as_of") if not isinstance(as_of, datetime) else as_of
        if _is_date_only(as_of):
            when = _day_end(given)
            return when, (f"Figures are measured at the end of {given:%-d %B %Y}, the date "
                          f"given when the report was run.")
        return given, (f"Figures are measured at {given:%-d %B %Y, %H:%M}, the date given "
                       f"when the report was run.")
    last = _last_event(data)
    if last is None:
        raise MissingTableError("the orders table has no dated rows, so there is nothing "
                                "to measure; check that the orders file holds the orders")
    when = _day_end(last)
    return when, (f"Figures are measured at the end of {last:%-d %B %Y}, the date of the last "
                  f"event in the data (taken as the extract date), so a period ending that "
                  f"day counts as complete.")


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
    run: Callable[["_Context"], None]

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
    if isinstance(exc, MissingTableError):
        return text
    if isinstance(exc, ConvergenceError) or type(exc).__name__ == "ConvergenceError":
        return _NO_CONVERGENCE + "."
    if isinstance(exc, np.linalg.LinAlgError) or "singular" in text.lower():
        return _SINGULAR + "."
    return f"the data do not support it: {text}"


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
                           + f"This part could not be produced: {type(exc).__name__}"
                           + (f": {line}" if line else "") + ".")


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
def _overview(ctx: _Context) -> None:
    rep, data = ctx.report, ctx.data
    rep.add_heading("The data")
    rep.add_text("What the dataset holds, how many rows survived validation, who the "
                 "customers are, and how activity developed.")
    with _part(ctx, "tables in the dataset"):
        rep.add_table(table_overview(data), title="Tables in the dataset")
        rep.add_figure(plots.plot_load_report(data.report.summary()),
                       footnote=Footnote(n=sum(t.read for t in data.report.tables.values()),
                                         unit="rows read"))
    groups = _groupings(data.customers)
    if not groups:
        rep.add_text("The customers table has no grouping column (kind of relationship, "
                     "segment, acquisition channel, region or reward scheme), so customers "
                     "are not broken down into groups.")
    for by in groups:
        with _part(ctx, f"customers by {_WORDS[by]}"):
            rep.add_figure(plots.plot_customer_mix(customer_mix(data, by=by)),
                           footnote=Footnote(n=data.customers.height, start=ctx.start,
                                             end=ctx.as_of))
    with _part(ctx, "activity over time"):
        rep.add_figure(plots.plot_activity(activity_over_time(data, period="quarter",
                                                              as_of=ctx.as_of)),
                       footnote=Footnote.from_frame(data.orders, date_col=S.ORDERED_AT,
                                                    count_col=S.CUSTOMER_ID))


# ---------------------------------------------------------------------------- measure
def _measure(ctx: _Context) -> None:
    rep, data = ctx.report, ctx.data
    start, end = ctx.start, ctx.as_of
    buyers = data.orders.get_column(S.CUSTOMER_ID).n_unique()
    rep.add_heading("Measure everything")
    with _part(ctx, "scorecard"):
        card = metrics.scorecard(data, period="year")
        rep.add_figure(plots.plot_scorecard(card),
                       footnote=Footnote(n=buyers, start=start, end=end, ci=WILSON))
        rep.add_table(card, title="Scorecard")
    with _part(ctx, "defection rate"):
        defection = metrics.defection_rate(data)
        rep.add_figure(plots.plot_defection(defection),
                       footnote=Footnote(n=buyers, start=start, end=end, ci=WILSON,
                                         definition="typical band: 20-40 % a year"))
    with _part(ctx, "cohort retention"):
        cohorts = metrics.cohort_retention(data.orders, period="quarter")
        rep.add_figure(plots.plot_cohort_heatmap(cohorts),
                       footnote=Footnote(n=buyers, start=start, end=end,
                                         definition="active = ordered in the period"))
    with _part(ctx, "profit by customer"):
        rep.add_figure(plots.plot_whale_curve(metrics.whale_curve(data)),
                       footnote=Footnote(n=buyers, start=start, end=end,
                                         definition="profit = revenue - discounts - cost to "
                                                    "serve - acquisition cost"))
    rep.add_methods("Rates carry their numerator and denominator and a 95 % Wilson score "
                    "interval. Cohort retention counts a customer as active in a period when "
                    "they ordered in it (the 'on period N' convention of product analytics).",
                    heading="Measure everything")
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
                           footnote=Footnote(start=start, end=end, ci=WILSON))


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
    return str(cond).replace("_", " ")


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
    ['The top rung, advocate, is not shown: it needs a referrals table (its rule: referrals >= 1 within 730d), which this dataset does not have.']
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
    rep, data, as_of = ctx.report, ctx.data, ctx.as_of
    rep.add_heading("The loyalty ladder")
    ladder, notes = ladder_for_data(data)
    for note in notes:
        rep.add_text(note)
    with _part(ctx, "ladder funnel"):
        fun = funnel.funnel(data, ladder, as_of=as_of)
        rep.add_figure(plots.plot_funnel(fun),
                       footnote=Footnote(n=data.customers.height, end=as_of, ci=WILSON))
        rep.add_table(fun, title="Loyalty ladder funnel")
    with _part(ctx, "moves between rungs"):
        year_ago = as_of - timedelta(days=365)
        moves = funnel.transition_matrix(data, ladder, start=year_ago, end=as_of)
        rep.add_figure(plots.plot_transition_heatmap(moves),
                       footnote=Footnote(start=year_ago, end=as_of,
                                         definition="lapsed = no order and no contact for 365 "
                                                    "days"))
    rungs = ", ".join(s.display for s in ladder.stages)
    rep.add_methods(f"Rungs shown: {rungs}. Stages follow the offline ladder's default rules "
                    "(suspect, prospect, first-time customer, repeat customer, client: 4+ "
                    "orders or 2+ product lines in 365 days, advocate: a client who referred "
                    "in 730 days); a rung whose data are missing is left out and said so.",
                    heading="Loyalty ladder")


# ---------------------------------------------------------------------------- churn
def call_list(table: pl.DataFrame, cox: Any, *, horizon: str = HORIZON,
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


def _churn(ctx: _Context) -> None:
    rep, data = ctx.report, ctx.data
    start, end = ctx.start, ctx.as_of
    definition = f"churned = no order for {INACTIVITY[:-1]} days"
    rep.add_heading("Churn and retention")
    table = churn.churn_table(data, inactivity=INACTIVITY, orders_before_acquisition="report")
    early = getattr(getattr(table, "report", None), "n_orders_before_acquisition", 0) or 0
    if early:
        rep.add_text(f"{early:,} customers have an order dated before the date they were "
                     f"acquired; their lifetime starts at the first order.")
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
                       footnote=Footnote(n=table.height, start=start, end=end,
                                         ci="95% exponential Greenwood band",
                                         definition=definition))
        rep.add_table(km.summary, title="Retention summary")
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
            except (ConvergenceError, np.linalg.LinAlgError):
                # a rare level or a near-separating covariate: shrink instead of failing
                cox = churn.CoxModel(covariates=candidates, penalizer=0.1).fit(fit_on)
                rep.add_text("The plain model of what drives churn could not be fitted (a "
                             "rare group or a measure that almost decides churn on its own); "
                             "the effects below are shrunk towards 'no effect' to make the "
                             "fit possible.")
            sampled = (f"fitted on a random {COX_SAMPLE:,} of {table.height:,} customers"
                       if fit_on.height < table.height else None)
            rep.add_figure(plots.plot_hazard_ratios(cox.summary),
                           footnote=Footnote(n=fit_on.height, start=start, end=end,
                                             ci="95% Wald interval", definition=definition,
                                             extra=[sampled] if sampled else ()))
            rep.add_text(cox.ph_verdict())
    if cox is not None:
        with _part(ctx, "call list"):
            calls = call_list(table, cox, horizon=HORIZON, top=200)
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
                           footnote=Footnote(end=end, definition=(
                               "ranked by the chance the customer has stopped buying, given "
                               "their own rhythm (BG/NBD); reasons from the Cox model; "
                               "identifiers pseudonymised" if ranked_by_rhythm else
                               "ranked by the Cox model's chance of churning in 90 days; "
                               "identifiers pseudonymised")))
    rep.add_methods(f"Churn follows the non-contractual rule: {definition}; customers whose "
                    "window had not ended by the measuring date are censored, not counted as "
                    "loyal. The call list ranks active customers by the BG/NBD probability "
                    "that they have stopped buying, given the number and timing of their "
                    "orders (not by their distance to the churn rule's threshold). "
                    "Kaplan-Meier and Cox models are fitted with lifelines; above "
                    f"{COX_SAMPLE:,} customers the Cox model is fitted on a random sample of "
                    f"{COX_SAMPLE:,} and then scores every customer.",
                    heading="Churn")


@contextmanager
def _noop() -> Iterator[None]:
    yield


# ---------------------------------------------------------------------------- clv
def _clv(ctx: _Context) -> None:
    rep, data = ctx.report, ctx.data
    rep.add_heading("Repeat buying and customer value")
    rfm = clv.rfm_summary(data.orders, time_unit="W", observation_end=ctx.as_of)
    repeat = int((rfm.get_column("frequency") > 0).sum())
    summary = pl.DataFrame({
        "measure": ["buyers", "repeat buyers", "repeat purchases per buyer (mean)",
                    "weeks observed per buyer (mean)"],
        "value": [float(rfm.height), float(repeat),
                  float(rfm.get_column("frequency").mean() or 0.0),
                  float(rfm.get_column("T").mean() or 0.0)],
    })
    rep.add_table(summary, title="Repeat buying in the data")
    with _part(ctx, "buying model",
               fallback="The repeat-buying summary above is shown without the model."):
        bg = clv.BetaGeo().fit(rfm)
        rep.add_table(bg.summary, title="BG/NBD parameters")
        rep.add_figure(plots.plot_alive_matrix(clv.probability_alive_matrix(bg)),
                       footnote=Footnote(n=rfm.height, unit="buyers",
                                         definition="BG/NBD, weekly time unit"))
    rep.add_methods("BG/NBD (Fader, Hardie & Lee 2005) fitted by maximum likelihood; time in "
                    "weeks; frequency counts repeat purchases on distinct weeks.",
                    heading="Customer value")


# ---------------------------------------------------------------------------- surveys
def _surveys(ctx: _Context) -> None:
    rep, data = ctx.report, ctx.data
    rep.add_heading("What customers say")
    nps_answers = data.surveys.filter(pl.col(S.ITEM) == "nps")
    if nps_answers.height == 0:
        rep.add_skipped(f"{ctx.section}: net promoter score",
                        "The surveys hold no answers to the recommendation question (item "
                        "'nps'), so no net promoter score is shown.")
    else:
        with _part(ctx, "net promoter score"):
            by = S.SEGMENT if S.SEGMENT in _groupings(data.customers, limit=12) else None
            scores = survey.nps(data.replace(surveys=nps_answers), by=by)
            rep.add_figure(plots.plot_nps(scores),
                           footnote=Footnote(n=nps_answers.height, unit="answers",
                                             ci="95% adjusted-Wald (Rocks 2016)"))
    with _part(ctx, "scores over time"):
        trend = survey.score_trend(data)
        rep.add_figure(plots.plot_score_trend(trend),
                       footnote=Footnote(ci="95% adjusted-Wald (Rocks 2016)"))
    rep.add_methods("NPS = % promoters (9-10) - % detractors (0-6), with adjusted-Wald "
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


def build_report(data: CRMData, *, title: str = "Customer loyalty report",
                 progress: bool | None = None, date_note: str | None = None,
                 sections: tuple[Section, ...] = SECTIONS) -> Report:
    """Run every section the data support and assemble the report (nothing written).

    A section whose tables or columns are missing is listed as skipped with a plain
    sentence; a part that fails inside a section is listed as skipped with the reason; an
    unexpected error is logged (logger ``loyaltylab.report``) and the run goes on.
    """
    return _build(data, title=title, progress=progress, date_note=date_note,
                  sections=sections)[0]


def _build(data: CRMData, *, title: str, progress: bool | None, date_note: str | None,
           sections: tuple[Section, ...]) -> tuple[Report, list[str]]:
    from tqdm import tqdm

    if data.as_of is None:
        when, date_note = measuring_date(data)
        data = data.replace(as_of=when)
    elif date_note is None:
        when, note = measuring_date(data.replace(as_of=None))
        if when == data.as_of:
            date_note = note
        else:
            fmt = "%-d %B %Y" + (", %H:%M" if data.as_of.time() != datetime.min.time()
                                 else "")
            date_note = (f"Figures are measured at {data.as_of.strftime(fmt)}, the extract "
                         f"date recorded with the data.")
    rep = Report.for_data(data, title=title)
    rep.add_text(date_note)
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
               **load_options: Any) -> ReportRun:
    """Load, analyse and write the full report into ``out``.

    ``load_options`` (e.g. ``allow_refunds=True``) go to :func:`loyaltylab.load`.

    Returns
    -------
    ReportRun
        The report, the files written (``charts``, ``workbook``, ``html``, ``deck``), the
        parts skipped with their reasons, and the parts that failed unexpectedly.
    """
    data = load_for_report(source, mapping=mapping, as_of=as_of, salt=salt,
                           allow_rejects=allow_rejects, **load_options)
    note = measuring_date(data, as_of)[1] if as_of is not None else None
    rep, errors = _build(data, title="Customer loyalty report", progress=progress,
                         date_note=note, sections=SECTIONS)
    files = rep.write_all(out, progress=progress)
    return ReportRun(rep, files, rep.skipped, errors)
