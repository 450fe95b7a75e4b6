"""From CRM data to survival data: one row per customer, and time-varying episodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from loyaltylab._result import FrameResult
from loyaltylab._units import DAYS_PER_MONTH, DAYS_PER_YEAR, US_PER_DAY
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab._util import as_polars, parse_window, resolve_as_of, to_datetime

__all__ = ["churn_table", "churn_episodes", "ChurnTable", "ChurnEpisodes", "ChurnTableReport",
           "DAYS_PER_YEAR", "DAYS_PER_MONTH", "START", "LAST_ACTIVE", "END", "DURATION",
           "EVENT"]

# Result-column names of the survival table (used by every churn model).
START = "start"
LAST_ACTIVE = "last_active"
END = "end"
DURATION = "duration"
EVENT = "event"
N_ORDERS = "n_orders"
STOP = "stop"

_DEFINITIONS = ("inactivity", "contract")
_EMAIL = "email"
_INBOUND = "inbound"
_OUTBOUND = "outbound"


@dataclass
class ChurnTableReport:
    """What :func:`churn_table` did with every customer and order it was given.

    Held by the returned :class:`ChurnTable` as ``table.report`` (and kept by its
    ``filter``). No customer or order leaves the table without being counted here.

    Attributes
    ----------
    definition : str
        "inactivity" or "contract".
    rule : str
        The churn rule applied, in words.
    as_of : datetime
        The observation date.
    n_customers_table : int
        Customers in the customers table.
    n_rows : int
        Rows of the survival table (customers with a lifetime started on or before as_of).
    n_events, n_censored : int
        Churned and censored rows.
    n_without_orders : int
        Customers in the customers table with no order (inactivity) or no subscription
        (contract) on or before ``as_of``: suspects and prospects. They have no lifetime yet
        and are not in the table.
    n_not_started : int
        Customers whose first order (or subscription) lies after ``as_of``; not in the table.
    n_orders_after_as_of : int
        Orders (or subscription spells) dated after ``as_of``; ignored.
    n_zero_duration : int
        Rows with ``duration == 0`` (first order on ``as_of``, or a contract that ended the
        day it started). Kept; Kaplan-Meier and Cox accept them, parametric models refuse
        them with a message.
    n_orders_before_acquisition : int
        Customers with an order dated before ``customers.acquired_at`` (only non-zero when
        ``orders_before_acquisition="report"``).
    n_unknown_customers : int
        Customers with orders but no row in the customers table (kept, attributes null).
    n_winbacks : int
        Contract definition: later subscription runs after a gap longer than ``max_gap``
        (win-backs). They do not extend the first lifetime.
    inactivity_days : float or None
        Inactivity definition: the window of the rule in days (None for contracts).
    notes : list[str]
        Everything worth knowing, in words.
    """

    definition: str
    rule: str
    as_of: datetime
    n_customers_table: int = 0
    n_rows: int = 0
    n_events: int = 0
    n_censored: int = 0
    n_without_orders: int = 0
    n_not_started: int = 0
    n_orders_after_as_of: int = 0
    n_zero_duration: int = 0
    n_orders_before_acquisition: int = 0
    n_unknown_customers: int = 0
    n_winbacks: int = 0
    inactivity_days: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The counts and rule as a plain dict (JSON-ready apart from ``as_of``)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def __str__(self) -> str:
        lines = [f"churn table ({self.definition}, as of {self.as_of:%Y-%m-%d}): "
                 f"{self.n_rows:,} customers, {self.n_events:,} churned, "
                 f"{self.n_censored:,} censored", f"  rule: {self.rule}"]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__


@dataclass(frozen=True, eq=False, repr=False)
class ChurnTable(FrameResult):
    """The survival table of :func:`churn_table` together with the rule that built it.

    Attributes
    ----------
    frame : pl.DataFrame
        One row per customer (columns listed in :func:`churn_table`); also
        ``to_polars()``.
    report : ChurnTableReport
        The rule, the observation date and every customer and order left out, with why.

    Notes
    -----
    Reading passes through to the frame (``table.height``, ``table.columns``,
    ``table["duration"]``, ``table.select(...)``, ``table.to_pandas()``). ``filter``,
    ``sort``, ``head``, ``tail``, ``sample``, ``drop_nulls`` and ``with_columns`` return a
    ChurnTable with the same report, so a subset keeps its churn rule: an at-risk list or a
    retention chart of a filtered table works as on the whole one. Any other polars
    operation returns a plain frame, which no longer says which rule built it; functions
    that need the rule (:func:`~loyaltylab.churn.at_risk_list`) then ask for it.

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> t = ll.churn.churn_table(ll.datasets.load_sample(), inactivity="180d")
    >>> t.report.inactivity_days
    180.0
    >>> price = t.filter(pl.col("segment") == "price")
    >>> type(price).__name__, price.inactivity_days, price.height < t.height
    ('ChurnTable', 180.0, True)
    >>> type(t.frame).__name__
    'DataFrame'
    """

    report: ChurnTableReport

    @property
    def inactivity_days(self) -> float | None:
        """The inactivity window of the churn rule in days (None for contract tables)."""
        return self.report.inactivity_days

    def _summary(self) -> tuple[str, list[str]]:
        r = self.report
        n = self.frame.height
        events = int(self.frame.get_column(EVENT).sum() or 0) if EVENT in self.frame.columns \
            else r.n_events
        title = (f"Churn table ({r.definition}, as of {r.as_of:%Y-%m-%d}): {n:,} customers, "
                 f"{events:,} churned, {n - events:,} censored")
        lines = [f"rule: {r.rule}"]
        if n != r.n_rows:
            lines.append(f"a subset of the {r.n_rows:,} customers the table was built with; "
                         f"the notes count the whole build")
        return title, lines + [f"note: {x}" for x in r.notes]


@dataclass(frozen=True, eq=False, repr=False)
class ChurnEpisodes(FrameResult):
    """The long-format episodes of :func:`churn_episodes` and what was left out.

    Attributes
    ----------
    frame : pl.DataFrame
        One row per customer and episode (columns listed in :func:`churn_episodes`).
    n_without_entry : int
        With ``entry``: customers left out because their entry day is null (0 otherwise).

    Reading passes through to the frame, and row filters keep the object, as for
    :class:`ChurnTable`.
    """

    n_without_entry: int = 0

    def _summary(self) -> tuple[str, list[str]]:
        f = self.frame
        n_cust = f.get_column(S.CUSTOMER_ID).n_unique() if S.CUSTOMER_ID in f.columns else 0
        lines = ([f"{self.n_without_entry:,} customers left out: no entry day"]
                 if self.n_without_entry else [])
        return f"Churn episodes: {f.height:,} episodes of {n_cust:,} customers", lines


def _days(expr: pl.Expr) -> pl.Expr:
    """A duration expression as float days."""
    return expr.dt.total_microseconds().cast(pl.Float64) / US_PER_DAY


def churn_table(data: CRMData, *, definition: str = "inactivity",
                inactivity: str | int | timedelta = "180d", as_of: Any = None,
                max_gap: str | int | timedelta = "30d", early: str | int | timedelta = "90d",
                satisfaction_item: str = "nps", fast_resolution: str | int | timedelta = "7d",
                email_threshold: float = 4.0,
                orders_before_acquisition: str = "raise") -> ChurnTable:
    """Turn CRM data into survival data: one row per customer with duration and event.

    Churn is a time-to-event question: a customer who has not churned yet is *censored*
    (we know only that their lifetime is at least this long), not loyal.

    Parameters
    ----------
    data : CRMData
        Needs ``customers`` and ``orders``; ``definition="contract"`` needs
        ``subscriptions``. Covariates come from ``contacts``, ``surveys`` and ``complaints``
        when present (null or zero columns otherwise, see Returns).
    definition : {"inactivity", "contract"}
        "inactivity" (non-contractual business, the default) or "contract" (subscriptions).
    inactivity : str, int or timedelta
        Inactivity window of the non-contractual rule, e.g. "180d".
    as_of : date, datetime or str, optional
        Observation date; defaults to ``data.as_of``, else the latest order.
    max_gap : str, int or timedelta
        Contract definition: a gap of at most this long between the end of one subscription
        and the start of the next counts as a renewal (continuous lifetime).
    early : str, int or timedelta
        Length of the early-life window for ``orders_90d`` / ``contacts_90d``.
    satisfaction_item : str
        Survey item holding the satisfaction score (``surveys.item``), "nps" by default.
    fast_resolution : str, int or timedelta
        Complaints resolved within this time count as fast, later or never as slow.
    email_threshold : float
        E-mails per month above which ``emails_over_threshold`` counts over-contact.
    orders_before_acquisition : {"raise", "report"}
        An order dated before ``customers.acquired_at`` is a data error: "raise" (default)
        stops with the customers named; "report" counts them in ``table.report`` and keeps
        the rows (the clock starts at the first order either way).

    Returns
    -------
    ChurnTable
        The frame (``.frame``; reading such as ``table.select`` passes through to it) has
        one row per customer whose lifetime started on or before ``as_of``:

        - customer_id: the customer
        - start: first order (inactivity) or first subscription start (contract)
        - last_active: last order on or before as_of (inactivity); end of the last
          subscription of the first lifetime, or as_of while open (contract)
        - end: churn date for churners, as_of for censored customers
        - duration: days from start to end (Float64)
        - event: 1 churned, 0 censored (Int8)
        - n_orders: orders from start to as_of
        - segment, kind, acquisition_channel, reward_scheme: customer attributes, where
          the customers table has them
        - orders_90d, contacts_90d: orders and contacts in the first ``early`` days
        - satisfaction: latest ``satisfaction_item`` score on or before end (null if none)
        - satisfaction_mean: mean of all such scores on or before end (null if none)
        - satisfaction_answers: number of such scores (0 if none)
        - satisfaction_calibrated: the best estimate of the customer's true satisfaction
          given their answers (regression calibration, see Notes; null if none)
        - satisfaction_known_day: days from start to the first answer (null if none); a
          model using satisfaction should let these customers enter at that day
          (``churn_episodes(entry="satisfaction_known_day")``), because a customer must
          survive to answer a survey (immortal-time bias otherwise)
        - complaints: complaints opened between start and end (a static count: longer
          lives have more time to complain, so for effects on churn prefer the
          time-varying indicators of :func:`churn_episodes`)
        - complaints_fast, complaints_slow: of which resolved within ``fast_resolution``,
          or later / never
        - resolution_days: mean days to resolve the resolved ones (null if none)
        - contacts_per_month: contacts per month of active life, from start to
          last_active (a span shorter than one month counts as one month); the silent
          inactivity window after a churner's last order is not counted
        - emails_per_month: outbound e-mails per month, same rule
        - emails_over_threshold: max(emails_per_month - email_threshold, 0)

        ``table.report`` is a :class:`ChurnTableReport`: the rule, and every customer and
        order not in the table and why (customers without orders, orders after as_of, zero
        durations, ...). ``table.filter(...)`` keeps the report (see :class:`ChurnTable`).

    Raises
    ------
    ValueError
        Unknown definition; ``as_of`` before the first order; orders before acquisition
        (unless ``orders_before_acquisition="report"``); subscriptions ending before they
        start.
    MissingTableError
        ``definition="contract"`` without a subscriptions table.

    Notes
    -----
    **Inactivity rule (non-contractual).** With window *w* and observation date *T*: a
    customer whose last order on or before *T* is at *L* has churned when *L + w <= T*; the
    churn is then dated *L + w* and the duration runs from the first order *F* to *L + w*.
    Otherwise (*L + w > T*) the customer is censored at *T*, duration *T - F*. Orders after
    *T* are ignored (the analysis knows only what was known at *T*). A window ending exactly
    on *T* counts as observed churn.

    Worked example, w = 180 days, T = 2024-12-31:

    ======  ==========  ==========  ==================  ========  =====
    cust    first       last        last + 180 days     duration  event
    ======  ==========  ==========  ==================  ========  =====
    A       2024-01-01  2024-03-01  2024-08-28 <= T     240       1
    B       2024-01-01  2024-09-01  2025-02-28 > T      365       0
    C       2024-07-04  2024-07-04  2024-12-31 == T     180       1
    ======  ==========  ==========  ==================  ========  =====

    A churned (observed); B is censored at T after 365 days; C bought once and the window
    ends exactly on T, so churn is observed.

    **Contract rule.** Subscriptions that start after *T* are ignored and an end after *T*
    is treated as open. A customer's spells are merged into one lifetime while each next
    spell starts at most ``max_gap`` after the end of the previous ones (a renewal);
    overlapping spells merge too. The first such lifetime is the one analysed: it ends with
    an event at its last end date, or is censored at *T* while a spell is open. A later
    spell after a longer gap is a win-back, counted in ``report.n_winbacks``; it does not
    extend the first lifetime.

    **Satisfaction measured with noise.** A survey score is true satisfaction plus answer
    noise, so a model fitted on raw scores understates its effect (regression dilution).
    ``satisfaction_calibrated`` replaces a customer's mean of *k* answers by
    ``mu + lambda_k (mean - mu)`` with reliability ``lambda_k = var_x / (var_x + var_e/k)``;
    the noise variance ``var_e`` is the pooled within-customer variance of customers with
    two or more answers, ``var_x`` the variance of the means minus the average noise
    ``var_e/k``, ``mu`` the mean of the means (regression calibration: Rosner, Spiegelman &
    Willett 1989; Carroll et al. 2006, *Measurement Error in Nonlinear Models*, ch. 4).

    Customers without orders (suspects, prospects) have no lifetime and are reported in
    ``table.report.n_without_orders``, never dropped silently.

    Examples
    --------
    >>> from datetime import datetime
    >>> import polars as pl
    >>> from loyaltylab.data.crmdata import CRMData
    >>> from loyaltylab.churn import churn_table
    >>> ts = pl.Datetime("us")
    >>> customers = pl.DataFrame({"customer_id": ["A", "B", "C", "D"],
    ...     "acquired_at": [datetime(2024, 1, 1), datetime(2024, 1, 1),
    ...                     datetime(2024, 7, 4), datetime(2024, 2, 1)]},
    ...     schema_overrides={"acquired_at": ts})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3", "4", "5"],
    ...     "customer_id": ["A", "A", "B", "B", "C"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 3, 1), datetime(2024, 1, 1),
    ...                    datetime(2024, 9, 1), datetime(2024, 7, 4)],
    ...     "amount": [10.0, 20.0, 5.0, 5.0, 8.0]}, schema_overrides={"ordered_at": ts})
    >>> data = CRMData(customers=customers, orders=orders)
    >>> t = churn_table(data, as_of="2024-12-31")
    >>> t.select("customer_id", "duration", "event").rows()
    [('A', 240.0, 1), ('B', 365.0, 0), ('C', 180.0, 1)]
    >>> t.report.n_without_orders
    1
    """
    if definition not in _DEFINITIONS:
        raise ValueError(f"definition: expected one of {list(_DEFINITIONS)}, got "
                         f"{definition!r}")
    if orders_before_acquisition not in ("raise", "report"):
        raise ValueError("orders_before_acquisition: expected 'raise' or 'report', got "
                         f"{orders_before_acquisition!r}")
    if not isinstance(data, CRMData):
        raise TypeError(f"data: expected a CRMData (see ll.load / ll.from_frames), got "
                        f"{type(data).__name__}")
    T = resolve_as_of(data, as_of)
    window = parse_window(inactivity, name="inactivity")
    early_td = parse_window(early, name="early")
    fast_td = parse_window(fast_resolution, name="fast_resolution")
    customers = data.customers

    first_order = data.orders.get_column(S.ORDERED_AT).min()
    if first_order is not None and T < first_order:
        raise ValueError(f"as_of: {T:%Y-%m-%d} lies before the first order "
                         f"({first_order:%Y-%m-%d}), so no customer has a lifetime yet; "
                         f"pass an as_of on or after {first_order:%Y-%m-%d}")

    report: ChurnTableReport
    if definition == "inactivity":
        base, report = _inactivity_base(data, T, window, orders_before_acquisition, early_td)
    else:
        base, report = _contract_base(data, T, parse_window(max_gap, name="max_gap"))

    table = _add_covariates(base, data, T, early_td, fast_td, satisfaction_item,
                            email_threshold).sort(S.CUSTOMER_ID)
    report.n_rows = table.height
    report.n_events = int(table.get_column(EVENT).sum() or 0)
    report.n_censored = report.n_rows - report.n_events
    report.n_zero_duration = int((table.get_column(DURATION) == 0).sum())
    if report.n_zero_duration:
        report.notes.append(f"{report.n_zero_duration:,} customers have duration 0 (their "
                            "lifetime starts on as_of or a contract ended the day it "
                            "began); kept. Parametric models need duration > 0: filter "
                            "them with table.filter(pl.col('duration') > 0)")
    report.n_customers_table = customers.height
    return ChurnTable(table, report)


def _inactivity_base(data: CRMData, T: datetime, window: timedelta, early_rule: str,
                     early: timedelta) -> tuple[pl.LazyFrame, ChurnTableReport]:
    orders = data.orders.lazy().select(S.CUSTOMER_ID, S.ORDERED_AT)
    rule = (f"churned when {window.days if not window.seconds else window} days pass "
            f"after the last order with no new order, observed only where that window "
            f"ended on or before as_of; otherwise censored at as_of. Duration: first order "
            f"to last order + window (churned) or to as_of (censored).")
    report = ChurnTableReport("inactivity", rule, T,
                              inactivity_days=window / timedelta(days=1))
    known = orders.filter(pl.col(S.ORDERED_AT) <= T)
    # Each customer's first order, then one pass over the orders beside it: lifetime
    # bounds, order count and early-life orders. (Comparing each order with its group's
    # minimum inside a single aggregation evaluates the expression group by group: 1.9 s
    # against 1.1 s at 11M orders, bench_churn.py.)
    firsts = known.group_by(S.CUSTOMER_ID).agg(pl.col(S.ORDERED_AT).min().alias(START))
    per = (known.join(firsts, on=S.CUSTOMER_ID)
           .group_by(S.CUSTOMER_ID)
           .agg(pl.col(START).first(),
                pl.col(S.ORDERED_AT).max().alias(LAST_ACTIVE),
                pl.len().cast(pl.Int64).alias(N_ORDERS),
                (pl.col(S.ORDERED_AT) < pl.col(START) + early).sum().cast(pl.Int64)
                .alias("orders_90d")))
    churn_at = pl.col(LAST_ACTIVE) + window
    event = churn_at <= T
    base = per.with_columns(
        pl.when(event).then(churn_at).otherwise(pl.lit(T)).alias(END),
        event.cast(pl.Int8).alias(EVENT),
    ).with_columns(_days(pl.col(END) - pl.col(START)).alias(DURATION)).collect()
    # Accounting for everything left out, in one parallel batch of small queries.
    after_ids = orders.filter(pl.col(S.ORDERED_AT) > T).select(S.CUSTOMER_ID)
    cust = data.customers.lazy()
    ids = base.lazy().select(S.CUSTOMER_ID)
    n_after, n_not_started, n_without, n_unknown = pl.collect_all([
        after_ids.select(pl.len()),
        after_ids.unique().join(ids, on=S.CUSTOMER_ID, how="anti").select(pl.len()),
        cust.select(S.CUSTOMER_ID).join(ids, on=S.CUSTOMER_ID, how="anti")
        .join(after_ids.unique(), on=S.CUSTOMER_ID, how="anti").select(pl.len()),
        ids.join(cust.select(S.CUSTOMER_ID), on=S.CUSTOMER_ID, how="anti").select(pl.len()),
    ])
    report.n_orders_after_as_of = int(n_after.item())
    report.n_not_started = int(n_not_started.item())
    report.n_without_orders = int(n_without.item())
    report.n_unknown_customers = int(n_unknown.item())
    if report.n_orders_after_as_of:
        report.notes.append(f"{report.n_orders_after_as_of:,} orders dated after as_of "
                            "are ignored")
    if report.n_without_orders:
        report.notes.append(f"{report.n_without_orders:,} customers have no order "
                            "(suspects and prospects): no lifetime, not in the table")
    if report.n_not_started:
        report.notes.append(f"{report.n_not_started:,} customers first ordered after "
                            "as_of: not yet customers, not in the table")
    if report.n_unknown_customers:
        report.notes.append(f"{report.n_unknown_customers:,} customers have orders but no "
                            "row in the customers table: kept, attributes null")
    if S.ACQUIRED_AT in data.customers.columns:
        early = (base.lazy().join(cust.select(S.CUSTOMER_ID, S.ACQUIRED_AT), on=S.CUSTOMER_ID)
                 .filter(pl.col(START) < pl.col(S.ACQUIRED_AT))
                 .select(S.CUSTOMER_ID, START, S.ACQUIRED_AT).sort(S.CUSTOMER_ID).collect())
        if early.height:
            if early_rule == "raise":
                ex = early.head(3).rows()
                shown = "; ".join(f"{c}: first order {f:%Y-%m-%d}, acquired_at {a:%Y-%m-%d}"
                                  for c, f, a in ex)
                raise ValueError(
                    f"orders.ordered_at: {early.height:,} customers have orders dated "
                    f"before their customers.acquired_at ({shown}). Correct acquired_at, "
                    f"or pass orders_before_acquisition='report' to keep them (the clock "
                    f"starts at the first order) and count them in table.report")
            report.n_orders_before_acquisition = early.height
            report.notes.append(f"{early.height:,} customers have orders before "
                                "acquired_at; kept, clock starts at the first order")
    return base.lazy(), report


def _contract_base(data: CRMData, T: datetime,
                   max_gap: timedelta) -> tuple[pl.LazyFrame, ChurnTableReport]:
    data.require(S.SUBSCRIPTIONS, purpose="the contract churn definition")
    subs = data.subscriptions
    bad = subs.with_row_index("_row").filter(pl.col(S.ENDED_AT) < pl.col(S.STARTED_AT))
    if bad.height:
        rows = ", ".join(str(r) for r in bad.get_column("_row").head(3).to_list())
        raise ValueError(f"subscriptions.ended_at: {bad.height:,} spells end before they "
                         f"start (first at rows {rows}); correct the dates or remove those "
                         f"rows")
    rule = (f"a contract lifetime runs from the first subscription start through renewals "
            f"(next spell starting at most {max_gap.days} days after the previous end); it "
            f"ends in churn at the last end date, or is censored at as_of while a spell is "
            f"open. Later spells after a longer gap are win-backs, not part of it.")
    report = ChurnTableReport("contract", rule, T)
    report.n_orders_after_as_of = int((subs.get_column(S.STARTED_AT) > T).sum())
    far = datetime(9999, 1, 1)
    spells = (subs.lazy().filter(pl.col(S.STARTED_AT) <= T)
              .select(S.CUSTOMER_ID, S.STARTED_AT,
                      pl.when(pl.col(S.ENDED_AT).is_null() | (pl.col(S.ENDED_AT) > T))
                      .then(pl.lit(far, dtype=pl.Datetime("us")))
                      .otherwise(pl.col(S.ENDED_AT)).alias("_end"))
              .sort(S.CUSTOMER_ID, S.STARTED_AT)
              .with_columns(pl.col("_end").cum_max().shift(1).over(S.CUSTOMER_ID)
                            .alias("_prev_end"))
              .with_columns((pl.col("_prev_end").is_not_null()
                             & (pl.col(S.STARTED_AT) > pl.col("_prev_end") + max_gap))
                            .cast(pl.Int32).cum_sum().over(S.CUSTOMER_ID).alias("_run")))
    runs = spells.group_by(S.CUSTOMER_ID, "_run").agg(
        pl.col(S.STARTED_AT).min().alias(START), pl.col("_end").max().alias("_end"))
    collected = runs.collect()
    report.n_winbacks = int((collected.get_column("_run") > 0).sum())
    first = collected.lazy().filter(pl.col("_run") == 0)
    open_ = pl.col("_end") == far
    base = first.select(
        S.CUSTOMER_ID, START,
        pl.when(open_).then(pl.lit(T)).otherwise(pl.col("_end")).alias(LAST_ACTIVE),
        pl.when(open_).then(pl.lit(T)).otherwise(pl.col("_end")).alias(END),
        (~open_).cast(pl.Int8).alias(EVENT),
    ).with_columns(_days(pl.col(END) - pl.col(START)).alias(DURATION))
    n_orders = (data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= T)
                .join(base.select(S.CUSTOMER_ID, START), on=S.CUSTOMER_ID)
                .filter(pl.col(S.ORDERED_AT) >= pl.col(START))
                .group_by(S.CUSTOMER_ID).agg(pl.len().cast(pl.Int64).alias(N_ORDERS)))
    base = (base.join(n_orders, on=S.CUSTOMER_ID, how="left")
            .with_columns(pl.col(N_ORDERS).fill_null(0))).collect()
    ids_all = subs.lazy().select(S.CUSTOMER_ID).unique()
    cust = data.customers.lazy()
    report.n_without_orders = int(cust.join(ids_all, on=S.CUSTOMER_ID, how="anti")
                                  .select(pl.len()).collect().item())
    report.n_not_started = int(ids_all.join(base.lazy(), on=S.CUSTOMER_ID, how="anti")
                               .select(pl.len()).collect().item())
    report.n_unknown_customers = int(base.lazy().join(cust, on=S.CUSTOMER_ID, how="anti")
                                     .select(pl.len()).collect().item())
    if report.n_without_orders:
        report.notes.append(f"{report.n_without_orders:,} customers have no subscription: "
                            "no contract lifetime, not in the table")
    if report.n_not_started:
        report.notes.append(f"{report.n_not_started:,} customers subscribed only after "
                            "as_of: not in the table")
    if report.n_orders_after_as_of:
        report.notes.append(f"{report.n_orders_after_as_of:,} subscription spells start "
                            "after as_of and are ignored")
    if report.n_winbacks:
        report.notes.append(f"{report.n_winbacks:,} later subscription runs after a gap "
                            f"longer than {max_gap.days} days (win-backs) are not part "
                            "of the first lifetime")
    return base.lazy(), report


def _add_covariates(base: pl.LazyFrame, data: CRMData, T: datetime, early: timedelta,
                    fast: timedelta, satisfaction_item: str,
                    email_threshold: float) -> pl.DataFrame:
    keys = base.select(S.CUSTOMER_ID, START, END)
    attrs = [c for c in (S.SEGMENT, S.KIND, S.ACQUISITION_CHANNEL, S.REWARD_SCHEME)
             if c in data.customers.columns]
    out = base
    if attrs:
        out = out.join(data.customers.lazy().select(S.CUSTOMER_ID, *attrs),
                       on=S.CUSTOMER_ID, how="left")
    if "orders_90d" not in base.collect_schema().names():
        orders90 = (data.orders.lazy().select(S.CUSTOMER_ID, S.ORDERED_AT)
                    .join(keys, on=S.CUSTOMER_ID)
                    .filter((pl.col(S.ORDERED_AT) >= pl.col(START))
                            & (pl.col(S.ORDERED_AT) < pl.col(START) + early)
                            & (pl.col(S.ORDERED_AT) <= T))
                    .group_by(S.CUSTOMER_ID).agg(pl.len().cast(pl.Int64)
                                                 .alias("orders_90d")))
        out = out.join(orders90, on=S.CUSTOMER_ID, how="left")
    # Rates are per month of *active* life, start to last_active (at least one month), so
    # the silent inactivity window after a churner's last order does not dilute them.
    active_days = pl.max_horizontal(_days(pl.col(LAST_ACTIVE) - pl.col(START)),
                                    pl.lit(DAYS_PER_MONTH))
    months = active_days / DAYS_PER_MONTH
    if data.contacts is not None:
        span_end = pl.col(START) + pl.duration(microseconds=(pl.max_horizontal(
            pl.col(LAST_ACTIVE) - pl.col(START), pl.lit(timedelta(days=DAYS_PER_MONTH)))
            .dt.total_microseconds()))
        c = (data.contacts.lazy()
             .join(base.select(S.CUSTOMER_ID, START, LAST_ACTIVE), on=S.CUSTOMER_ID)
             .filter((pl.col(S.CONTACTED_AT) >= pl.col(START))
                     & (pl.col(S.CONTACTED_AT) <= T)))
        is_email = pl.col(S.CHANNEL).str.to_lowercase() == _EMAIL
        if S.DIRECTION in data.contacts.columns:
            is_email = is_email & (pl.col(S.DIRECTION).fill_null(_OUTBOUND) == _OUTBOUND)
        in_span = pl.col(S.CONTACTED_AT) <= span_end
        cagg = c.group_by(S.CUSTOMER_ID).agg(
            (pl.col(S.CONTACTED_AT) < pl.col(START) + early).sum().cast(pl.Int64)
            .alias("contacts_90d"),
            in_span.sum().cast(pl.Int64).alias("_contacts"),
            (is_email & in_span).sum().cast(pl.Int64).alias("_emails"))
        out = out.join(cagg, on=S.CUSTOMER_ID, how="left")
    else:
        out = out.with_columns(pl.lit(None, pl.Int64).alias("contacts_90d"),
                               pl.lit(None, pl.Int64).alias("_contacts"),
                               pl.lit(None, pl.Int64).alias("_emails"))
    if data.contacts is not None:
        out = out.with_columns(pl.col("contacts_90d", "_contacts", "_emails").fill_null(0))
    out = out.with_columns(
        pl.col("orders_90d").fill_null(0),
        (pl.col("_contacts") / months).alias("contacts_per_month"),
        (pl.col("_emails") / months).alias("emails_per_month"),
    ).with_columns((pl.col("emails_per_month") - email_threshold).clip(lower_bound=0)
                   .alias("emails_over_threshold")).drop("_contacts", "_emails")

    if data.surveys is not None:
        sv = (data.surveys.lazy().filter(pl.col(S.ITEM) == satisfaction_item)
              .join(keys, on=S.CUSTOMER_ID)
              .filter(pl.col(S.ANSWERED_AT) <= pl.col(END))
              .group_by(S.CUSTOMER_ID).agg(
                  pl.col(S.SCORE).sort_by(S.ANSWERED_AT).last().alias("satisfaction"),
                  pl.col(S.SCORE).mean().alias("satisfaction_mean"),
                  pl.len().cast(pl.Int64).alias("satisfaction_answers"),
                  _days(pl.col(S.ANSWERED_AT).min() - pl.col(START).first())
                  .clip(lower_bound=0.0).alias("satisfaction_known_day"),
                  ((pl.col(S.SCORE) - pl.col(S.SCORE).mean()) ** 2).sum().alias("_ss"))
              .collect())
        out = out.join(_calibrate(sv).lazy(), on=S.CUSTOMER_ID, how="left").with_columns(
            pl.col("satisfaction_answers").fill_null(0))
    else:
        out = out.with_columns(pl.lit(None, pl.Float64).alias("satisfaction"),
                               pl.lit(None, pl.Float64).alias("satisfaction_mean"),
                               pl.lit(0, pl.Int64).alias("satisfaction_answers"),
                               pl.lit(None, pl.Float64).alias("satisfaction_known_day"),
                               pl.lit(None, pl.Float64).alias("satisfaction_calibrated"))

    if data.complaints is not None:
        has_res = S.RESOLVED_AT in data.complaints.columns
        comp = (data.complaints.lazy().join(keys, on=S.CUSTOMER_ID)
                .filter((pl.col(S.OPENED_AT) >= pl.col(START))
                        & (pl.col(S.OPENED_AT) <= pl.col(END))))
        if has_res:
            resolved = pl.col(S.RESOLVED_AT).is_not_null() & (pl.col(S.RESOLVED_AT) <= T)
            res_days = pl.when(resolved).then(_days(pl.col(S.RESOLVED_AT)
                                                    - pl.col(S.OPENED_AT)))
            fast_e = resolved & (pl.col(S.RESOLVED_AT) - pl.col(S.OPENED_AT) <= fast)
        else:
            res_days = pl.lit(None, pl.Float64)
            fast_e = pl.lit(False)
        cg = comp.group_by(S.CUSTOMER_ID).agg(
            pl.len().cast(pl.Int64).alias("complaints"),
            fast_e.sum().cast(pl.Int64).alias("complaints_fast"),
            res_days.mean().alias("resolution_days"))
        out = (out.join(cg, on=S.CUSTOMER_ID, how="left")
               .with_columns(pl.col("complaints").fill_null(0),
                             pl.col("complaints_fast").fill_null(0))
               .with_columns((pl.col("complaints") - pl.col("complaints_fast"))
                             .alias("complaints_slow")))
    else:
        out = out.with_columns(pl.lit(None, pl.Int64).alias("complaints"),
                               pl.lit(None, pl.Int64).alias("complaints_fast"),
                               pl.lit(None, pl.Int64).alias("complaints_slow"),
                               pl.lit(None, pl.Float64).alias("resolution_days"))
    cols = [S.CUSTOMER_ID, START, LAST_ACTIVE, END, DURATION, EVENT, N_ORDERS, *attrs,
            "orders_90d", "contacts_90d", "satisfaction", "satisfaction_mean",
            "satisfaction_answers", "satisfaction_calibrated", "satisfaction_known_day",
            "complaints",
            "complaints_fast", "complaints_slow", "resolution_days", "contacts_per_month",
            "emails_per_month", "emails_over_threshold"]
    return out.select(cols).collect()


def _calibrate(sv: pl.DataFrame) -> pl.DataFrame:
    """Regression calibration of the mean satisfaction answer (see churn_table Notes)."""
    k = sv.get_column("satisfaction_answers").cast(pl.Float64)
    rep = sv.filter(pl.col("satisfaction_answers") >= 2)
    df = float((rep.get_column("satisfaction_answers") - 1).sum() or 0)
    var_e = float(rep.get_column("_ss").sum()) / df if df > 0 else 0.0
    means = sv.get_column("satisfaction_mean")
    mu = float(means.mean()) if sv.height else 0.0
    var_w = float(means.var()) if sv.height > 1 else 0.0
    var_x = max(var_w - var_e * float((1 / k).mean()), 1e-9) if sv.height else 0.0
    lam = var_x / (var_x + var_e / k)
    return sv.with_columns((mu + lam * (pl.col("satisfaction_mean") - mu))
                           .alias("satisfaction_calibrated")).drop("_ss")


def churn_episodes(data: CRMData, table: ChurnTable | pl.DataFrame | None = None, *,
                   business_change: Any = None, fast_resolution: str | int | timedelta = "7d",
                   early: str | int | timedelta = "90d", entry: str | None = None,
                   covariates: list[str] | None = None, **table_options: Any) -> ChurnEpisodes:
    """Long-format (start, stop] episodes for time-varying Cox models.

    Each customer's lifetime from :func:`churn_table` is cut at the dates when something
    changed for them, so a covariate switches on from that date onwards:

    - ``manager_left``: their account manager left the firm (an ``assignments`` row with
      ``end_reason == "manager_left"``), from ``assigned_to`` onwards;
    - ``complaint_fast``: a complaint resolved within ``fast_resolution`` of opening;
    - ``complaint_slow``: a complaint resolved later or never;

      both switch on ``fast_resolution`` after the complaint was opened (the first date on
      which the firm knows whether it was handled fast) and stay on;
    - ``after_change``: from the ``business_change`` date onwards, for customers whose
      lifetime began before it (those who joined later never knew the old business; 0
      everywhere when ``business_change`` is None);
    - ``early_life``: 1 during the first ``early`` days of the lifetime, 0 after (the
      lifetime is cut there too), so early-life churn can be modelled per acquisition
      channel (e.g. a column ``early_life * (acquisition_channel == "web")``).

    With ``business_change``, ``orders_before_change`` counts each customer's orders before
    that date (their loyalty stage when the change hit: 0 = not yet a customer).

    Parameters
    ----------
    data : CRMData
        The same data given to :func:`churn_table`; ``assignments`` and ``complaints`` are
        used when present (the indicators are 0 otherwise).
    table : ChurnTable or pl.DataFrame, optional
        A table from :func:`churn_table`; built from ``data`` with ``table_options`` if
        omitted.
    business_change : date, datetime or str, optional
        Date of a price rise, rebrand or other change to the business.
    fast_resolution : str, int or timedelta
        Threshold separating fast from slow complaint handling.
    early : str, int or timedelta
        Length of the early-life period.
    entry : str, optional
        A column of ``table`` with the day (since start) from which a customer is observed
        (left truncation / delayed entry), e.g. ``"satisfaction_known_day"``: time before
        it is dropped and customers with a null entry day are left out (counted in the
        result's ``n_without_entry``).
    covariates : list of str, optional
        Static columns of ``table`` to carry onto every episode (default: all covariate
        columns of the table).
    **table_options
        Passed to :func:`churn_table` when ``table`` is None.

    Returns
    -------
    ChurnEpisodes
        The frame (``.frame``; reading passes through to it) has one row per customer and
        episode:

        - customer_id: the customer
        - start, stop: days since the customer's lifetime began (episode is (start, stop])
        - event: 1 if the customer churned at ``stop`` (only on their last episode)
        - manager_left, complaint_fast, complaint_slow, after_change, early_life: 0/1
          indicators (Int8)
        - orders_before_change: orders before ``business_change`` (only with it)
        - the static covariates of ``table``

        and ``n_without_entry`` counts the customers left out for a null ``entry`` day.

    Examples
    --------
    >>> from datetime import datetime
    >>> import polars as pl
    >>> from loyaltylab.data.crmdata import CRMData
    >>> from loyaltylab.churn import churn_episodes
    >>> ts = pl.Datetime("us")
    >>> customers = pl.DataFrame({"customer_id": ["A"], "acquired_at": [datetime(2024, 1, 1)]},
    ...                          schema_overrides={"acquired_at": ts})
    >>> orders = pl.DataFrame({"order_id": ["1", "2"], "customer_id": ["A", "A"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 3, 1)], "amount": [1.0, 1.0]},
    ...     schema_overrides={"ordered_at": ts})
    >>> data = CRMData(customers=customers, orders=orders)
    >>> ep = churn_episodes(data, as_of="2024-12-31", business_change="2024-02-01")
    >>> ep.select("start", "stop", "event", "after_change", "early_life").rows()
    [(0.0, 31.0, 0, 0, 1), (31.0, 90.0, 0, 1, 1), (90.0, 240.0, 1, 1, 0)]
    """
    fast = parse_window(fast_resolution, name="fast_resolution")
    early_days = parse_window(early, name="early") / timedelta(days=1)
    if table is None:
        table = churn_table(data, fast_resolution=fast_resolution, **table_options)
    table = as_polars(table, name="table")
    for col in (S.CUSTOMER_ID, START, DURATION, EVENT):
        if col not in table.columns:
            raise ValueError(f"table: missing column {col!r}; build it with churn_table()")
    if covariates is None:
        skip = {S.CUSTOMER_ID, START, LAST_ACTIVE, END, DURATION, EVENT}
        covariates = [c for c in table.columns if c not in skip]
    keys = table.lazy().select(S.CUSTOMER_ID, START, DURATION)
    changes: list[pl.LazyFrame] = []

    def first_time(frame: pl.LazyFrame, when: pl.Expr, name: str) -> pl.LazyFrame:
        return (frame.join(keys, on=S.CUSTOMER_ID)
                .select(S.CUSTOMER_ID, _days(when - pl.col(START)).alias("_t"))
                .group_by(S.CUSTOMER_ID).agg(pl.col("_t").min())
                .with_columns(pl.lit(name).alias("_var")))

    if data.assignments is not None and S.END_REASON in data.assignments.columns:
        left = data.assignments.lazy().filter(
            (pl.col(S.END_REASON) == S.MANAGER_LEFT) & pl.col(S.ASSIGNED_TO).is_not_null())
        changes.append(first_time(left, pl.col(S.ASSIGNED_TO), "manager_left"))
    if data.complaints is not None:
        comp = data.complaints.lazy()
        if S.RESOLVED_AT in data.complaints.columns:
            is_fast = (pl.col(S.RESOLVED_AT).is_not_null()
                       & (pl.col(S.RESOLVED_AT) - pl.col(S.OPENED_AT) <= fast))
            changes.append(first_time(comp.filter(is_fast), pl.col(S.OPENED_AT) + fast,
                                      "complaint_fast"))
            changes.append(first_time(comp.filter(~is_fast), pl.col(S.OPENED_AT) + fast,
                                      "complaint_slow"))
        else:
            changes.append(first_time(comp, pl.col(S.OPENED_AT) + fast, "complaint_slow"))
    if business_change is not None:
        bc = to_datetime(business_change, name="business_change")
        # only customers already active before the change live through it
        changes.append(keys.filter(pl.col(START) < bc)
                       .select(S.CUSTOMER_ID, _days(pl.lit(bc) - pl.col(START)).alias("_t"),
                               pl.lit("after_change").alias("_var")))
    flags = ["manager_left", "complaint_fast", "complaint_slow", "after_change"]
    schema = {S.CUSTOMER_ID: pl.String, "_t": pl.Float64, "_var": pl.String}
    ch = (pl.concat([c.select(S.CUSTOMER_ID, pl.col("_t").cast(pl.Float64), "_var")
                     for c in changes]) if changes else pl.LazyFrame(schema=schema))
    # A switch at or before the start is on from the start; at or after the end, never.
    ch = ch.join(keys, on=S.CUSTOMER_ID).with_columns(pl.col("_t").clip(lower_bound=0.0))
    ch = ch.filter(pl.col("_t") < pl.col(DURATION))
    wide = (ch.group_by(S.CUSTOMER_ID, "_var").agg(pl.col("_t").min())
            .collect().pivot(on="_var", index=S.CUSTOMER_ID, values="_t"))
    for f in flags:
        if f not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(f))
    wide = wide.select(S.CUSTOMER_ID, *[pl.col(f).alias("_t_" + f) for f in flags])
    entry_cuts = []
    if entry is not None:
        if entry not in table.columns:
            raise ValueError(f"entry={entry!r}: not a column of the table; columns: "
                             f"{table.columns}")
        entry_cuts.append(table.lazy().filter(pl.col(entry).is_not_null()
                                              & (pl.col(entry) < pl.col(DURATION)))
                          .select(S.CUSTOMER_ID, pl.col(entry).cast(pl.Float64)
                                  .alias("_cut")))
    cuts = pl.concat([
        *entry_cuts,
        keys.select(S.CUSTOMER_ID, pl.lit(0.0).alias("_cut")),
        keys.select(S.CUSTOMER_ID, pl.col(DURATION).alias("_cut")),
        keys.filter(pl.col(DURATION) > early_days)
        .select(S.CUSTOMER_ID, pl.lit(early_days).alias("_cut")),
        ch.select(S.CUSTOMER_ID, pl.col("_t").alias("_cut")),
    ]).unique().sort(S.CUSTOMER_ID, "_cut")
    ep = (cuts.with_columns(pl.col("_cut").shift(-1).over(S.CUSTOMER_ID).alias(STOP))
          .filter(pl.col(STOP).is_not_null())
          .rename({"_cut": START})
          .join(table.lazy().select(S.CUSTOMER_ID, pl.col(DURATION).alias("_dur"),
                                    pl.col(EVENT).alias("_ev"), *covariates),
                on=S.CUSTOMER_ID, how="left")
          .join(wide.lazy(), on=S.CUSTOMER_ID, how="left")
          .with_columns(((pl.col(STOP) == pl.col("_dur")) & (pl.col("_ev") == 1))
                        .cast(pl.Int8).alias(EVENT),
                        *[(pl.col("_t_" + f).is_not_null()
                           & (pl.col(START) >= pl.col("_t_" + f))).cast(pl.Int8).alias(f)
                          for f in flags],
                        (pl.col(START) < early_days).cast(pl.Int8).alias("early_life")))
    extra = ["early_life"]
    if business_change is not None:
        before = (data.orders.lazy().filter(pl.col(S.ORDERED_AT) < bc)
                  .group_by(S.CUSTOMER_ID).agg(pl.len().cast(pl.Int64)
                                               .alias("orders_before_change")))
        ep = ep.join(before, on=S.CUSTOMER_ID, how="left").with_columns(
            pl.col("orders_before_change").fill_null(0))
        extra.append("orders_before_change")
    n_without_entry = 0
    if entry is not None:
        ent = table.select(S.CUSTOMER_ID, pl.col(entry).cast(pl.Float64).alias("_entry"))
        n_without_entry = int(ent.get_column("_entry").null_count())
        ep = (ep.join(ent.lazy(), on=S.CUSTOMER_ID, how="left")
              .filter(pl.col("_entry").is_not_null() & (pl.col(START) >= pl.col("_entry"))))
    # A lifetime of duration 0 has no episode of positive length: it yields no row.
    out = (ep.select(S.CUSTOMER_ID, START, STOP, EVENT, *flags, *extra, *covariates)
           .sort(S.CUSTOMER_ID, START).collect())
    return ChurnEpisodes(out, n_without_entry)
