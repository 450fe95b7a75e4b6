"""Per-customer summaries computed inside a database engine (Ibis) or in polars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from loyaltylab._cohorts import retention_from_counts
from loyaltylab._units import US_PER_DAY
from loyaltylab._util import parse_window, to_datetime
from loyaltylab import clv as R
from loyaltylab.churn import (DURATION, END, EVENT, LAST_ACTIVE, N_ORDERS, START,
                              churn_table)
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.data.privacy import hash_series
from loyaltylab.warehouse import _engine as E

__all__ = ["rfm_summary", "churn_base", "cohort_retention", "ChurnBase", "to_sql",
           "CHURN_BASE_COLUMNS"]

ORDERS_90D = "orders_90d"
CHURN_BASE_COLUMNS = [S.CUSTOMER_ID, START, LAST_ACTIVE, END, DURATION, EVENT, N_ORDERS,
                      ORDERS_90D]
"""Columns of :func:`churn_base`: the part of :func:`loyaltylab.churn.churn_table` that
needs every order (the covariates are joined on the per-customer rows afterwards)."""



_PERIODS = ("D", "W", "M", "Y")


def _unit_days(time_unit: str | float) -> float:
    """Days per ``time_unit``, checked as :func:`loyaltylab.clv.rfm_summary` checks it."""
    if isinstance(time_unit, (int, float)) and not isinstance(time_unit, bool):
        if time_unit <= 0:
            raise ValueError(f"time_unit: must be a positive number of days, got "
                             f"{time_unit!r}")
        return float(time_unit)
    if time_unit not in R.TIME_UNITS:
        raise ValueError(f"time_unit: expected one of {sorted(R.TIME_UNITS)} or a number "
                         f"of days, got {time_unit!r}")
    return R.TIME_UNITS[time_unit]


def _check_period(purchase_period: str) -> None:
    if purchase_period not in _PERIODS:
        raise ValueError(f"purchase_period: expected one of {sorted(_PERIODS)}, got "
                         f"{purchase_period!r}")


def _period_day(value: Any, purchase_period: str, name: str) -> int:
    """Day number (days since 1970-01-01) of the start of the purchase period holding the
    date ``value``, as :func:`loyaltylab.clv.rfm_summary` counts it: weeks start on Monday
    (1970-01-01 was a Thursday)."""
    d = to_datetime(value, name=name)
    if purchase_period == "M":
        d = d.replace(day=1)
    elif purchase_period == "Y":
        d = d.replace(month=1, day=1)
    days = (d - datetime(1970, 1, 1)).days
    return (days + 3) // 7 * 7 - 3 if purchase_period == "W" else days


def _iso(day: int) -> str:
    return (datetime(1970, 1, 1) + timedelta(days=day)).strftime("%Y-%m-%d")


def _hash_ids(frame: pl.DataFrame, salt: str | None) -> pl.DataFrame:
    if salt is None:
        return frame
    if not isinstance(salt, str) or not salt:
        raise ValueError(f"salt: expected a non-empty text, got {salt!r}")
    return frame.with_columns(hash_series(frame.get_column(S.CUSTOMER_ID), salt)
                              .alias(S.CUSTOMER_ID))


# ---------------------------------------------------------------------------- rfm

def _rfm_bounds(o: Any) -> tuple[int | None, int | None]:
    row = o.aggregate(a=o._d.min(), b=o._d.max()).to_polars().row(0)
    return (None if row[0] is None else int(row[0]), None if row[1] is None else int(row[1]))


def _rfm_query(orders: Any, *, unit: float, purchase_period: str, end: int, cal: int,
               holdout: bool, monetary: bool, salt: str | None, keep_ids: bool,
               backend: str | None, dialect: str | None = None) -> Any:
    """The Ibis expression of the summary, for given period-day bounds."""
    ibis = E.ibis_module()
    o = _rfm_orders(orders, purchase_period, monetary, backend)
    o = o.filter(o._d <= end)
    daily_aggs = {"_v": o[S.AMOUNT].sum()} if monetary else {}
    daily = o.group_by([S.CUSTOMER_ID, "_d"]).aggregate(**daily_aggs) if monetary else \
        o.select(S.CUSTOMER_ID, "_d").distinct()
    calib = daily.filter(daily._d <= cal)
    aggs = {"_n": calib.count(), "_first": calib._d.min(), "_last": calib._d.max()}
    if monetary:
        aggs["_total"] = calib._v.sum()
    per = calib.group_by(S.CUSTOMER_ID).aggregate(**aggs)
    if monetary:
        # value of the first purchase: the (customer, day) row on the first day
        fv = calib.select(_cid=calib[S.CUSTOMER_ID], _fd=calib._d, _fv=calib._v)
        per = per.join(fv, [per[S.CUSTOMER_ID] == fv._cid, per._first == fv._fd]) \
            .select(S.CUSTOMER_ID, *aggs, "_fv")
    if holdout:
        h = daily.filter((daily._d > cal) & (daily._d <= end))
        haggs = {"_fh": h.count()}
        if monetary:
            haggs["_ht"] = h._v.sum()
        hold = h.group_by(S.CUSTOMER_ID).aggregate(**haggs).rename(_hcid=S.CUSTOMER_ID)
        per = per.left_join(hold, per[S.CUSTOMER_ID] == hold._hcid).drop("_hcid")
    freq = (per._n - 1).cast("int64")
    cols: dict[str, Any] = {
        S.CUSTOMER_ID: E.ids_out(per[S.CUSTOMER_ID], salt=salt, keep_ids=keep_ids,
                                 backend=backend, dialect=dialect),
        R.FREQUENCY: freq,
        R.RECENCY: (per._last - per._first).cast("float64") / unit,
        R.T: (ibis.literal(cal, type="int64") - per._first).cast("float64") / unit,
    }
    if monetary:
        cols[R.MONETARY_VALUE] = ibis.ifelse(
            freq > 0, (per._total - per._fv) / freq.cast("float64"), 0.0)
    if holdout:
        fh = per._fh.fill_null(0).cast("int64")
        cols[R.FREQUENCY_HOLDOUT] = fh
        if monetary:
            cols[R.MONETARY_VALUE_HOLDOUT] = ibis.ifelse(
                fh > 0, per._ht / fh.cast("float64"), 0.0)
        # an integer cast to double, then divided: a bare float literal would come back
        # as DECIMAL when the SQL text is run by itself (DuckDB, Postgres)
        cols[R.DURATION_HOLDOUT] = (ibis.literal(end - cal, type="int64").cast("float64")
                                    / unit)
    return per.select(**cols)


def _rfm_orders(orders: Any, purchase_period: str, monetary: bool,
                backend: str | None) -> Any:
    need = [S.CUSTOMER_ID, S.ORDERED_AT] + ([S.AMOUNT] if monetary else [])
    E.require_columns(orders, need)
    ts = E.timestamp(orders, S.ORDERED_AT)
    cols = {S.CUSTOMER_ID: orders[S.CUSTOMER_ID], "_d": E.period_day(ts, purchase_period)}
    if monetary:
        cols[S.AMOUNT] = orders[S.AMOUNT].cast("float64")
    return orders.select(**cols)


def rfm_summary(orders: Any, *, time_unit: str | float = "W", purchase_period: str = "D",
                observation_end: Any = None, calibration_end: Any = None,
                monetary: bool = True, salt: str | None = None,
                keep_ids: bool = False) -> pl.DataFrame:
    """One frequency/recency/T row per customer, computed where the orders are.

    Given a polars or pandas frame (or CRMData), this is
    :func:`loyaltylab.clv.rfm_summary` (the reference). Given an ``ibis.Table`` of orders
    in a database (DuckDB, Postgres, Snowflake, BigQuery, ...), one query runs inside that
    engine and only the per-customer rows come back, with the customer ids pseudonymised
    there (``salt``), so no raw id leaves the database.

    Parameters
    ----------
    orders : ibis.Table, CRMData, polars or pandas frame
        Orders with ``customer_id``, ``ordered_at`` (dates or timestamps) and, when
        ``monetary``, ``amount``.
    time_unit, purchase_period, observation_end, calibration_end, monetary
        As in :func:`loyaltylab.clv.rfm_summary`.
    salt : str, optional
        Pseudonymise the customer ids with this salt: the first 16 hex digits of
        ``sha256(salt + "\\x1f" + id)``, the same pseudonyms as
        ``loyaltylab.load(..., salt=salt)`` gives. Required for a database table unless
        ``keep_ids=True``.
    keep_ids : bool, default False
        Bring a database's customer ids back as they are.

    Returns
    -------
    polars.DataFrame
        The columns of :func:`loyaltylab.clv.rfm_summary`, one row per customer, sorted by
        (pseudonymised) customer id:

        - ``customer_id``: the customer (its pseudonym when ``salt`` is given).
        - ``frequency``: repeat purchases, Int64.
        - ``recency``, ``T``: in ``time_unit``, Float64.
        - ``monetary_value``: mean value of the repeat purchases (0 without).
        - with ``calibration_end``: ``frequency_holdout``, ``monetary_value_holdout``,
          ``duration_holdout``.

    Raises
    ------
    ValueError
        As :func:`loyaltylab.clv.rfm_summary`; a database table without ``salt`` or
        ``keep_ids=True``; an engine that cannot compute SHA-256 (SQLite) with ``salt``.
    ImportError
        An ``ibis.Table`` given without Ibis installed (``pip install
        'loyaltylab[warehouse]'``).

    Notes
    -----
    The engine query groups the orders by customer and purchase period (the sum of a
    period's orders is one purchase), then by customer; the value of the first purchase
    comes from a join on the first period. Day numbers are computed from calendar dates,
    so the result equals the polars reference on every engine (``tests/
    test_warehouse_parity.py``). One small query finds the first and last purchase period
    first (for the default observation end and the checks on the dates).

    Examples
    --------
    >>> import ibis
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.warehouse import rfm_summary
    >>> orders = pl.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 1, 1), datetime(2024, 1, 15),
    ...                    datetime(2024, 1, 8)],
    ...     "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> con = ibis.duckdb.connect()
    >>> table = con.create_table("orders", orders)
    >>> out = rfm_summary(table, observation_end="2024-01-29", keep_ids=True)
    >>> out.rows()
    [('a', 1, 2.0, 4.0, 20.0), ('b', 0, 0.0, 3.0, 0.0)]
    >>> out.equals(rfm_summary(orders, observation_end="2024-01-29"))
    True
    >>> rfm_summary(table, observation_end="2024-01-29", salt="s3cret")["customer_id"][0]
    '...'
    """
    if not E.is_ibis_table(orders):
        out = R.rfm_summary(orders, time_unit=time_unit, purchase_period=purchase_period,
                            observation_end=observation_end,
                            calibration_end=calibration_end, monetary=monetary)
        return _hash_ids(out, salt).sort(S.CUSTOMER_ID) if salt is not None else out
    unit = _unit_days(time_unit)
    _check_period(purchase_period)
    backend = E.backend_name(orders)
    E.require_columns(orders, [S.CUSTOMER_ID])
    # refuse before any query when the ids could not leave the engine as pseudonyms
    E.ids_out(orders[S.CUSTOMER_ID], salt=salt, keep_ids=keep_ids, backend=backend)
    first, last = _rfm_bounds(_rfm_orders(orders, purchase_period, monetary, backend))
    if first is None:
        raise ValueError("orders: the table is empty; rfm_summary needs at least one order")

    def _day(value: Any, name: str) -> int:
        return _period_day(value, purchase_period, name)

    end = last if observation_end is None else _day(observation_end, "observation_end")
    cal = _day(calibration_end, "calibration_end") if calibration_end is not None else end
    if cal > end:
        raise ValueError(f"calibration_end ({_iso(cal)}) is after observation_end "
                         f"({_iso(end)}); pick a calibration end inside the observation")
    if cal < first:
        what = "calibration_end" if calibration_end is not None else "observation_end"
        raise ValueError(f"{what} ({_iso(cal)}) is before the first order "
                         f"({_iso(first)}), so no customer has a purchase to summarise; "
                         f"pick a {what} between {_iso(first)} and {_iso(last)}")
    expr = _rfm_query(orders, unit=unit, purchase_period=purchase_period, end=end, cal=cal,
                      holdout=calibration_end is not None, monetary=monetary, salt=salt,
                      keep_ids=keep_ids, backend=backend)
    out = expr.to_polars()
    casts = {S.CUSTOMER_ID: pl.String, R.FREQUENCY: pl.Int64, R.RECENCY: pl.Float64,
             R.T: pl.Float64, R.MONETARY_VALUE: pl.Float64, R.FREQUENCY_HOLDOUT: pl.Int64,
             R.MONETARY_VALUE_HOLDOUT: pl.Float64, R.DURATION_HOLDOUT: pl.Float64}
    out = out.with_columns(pl.col(c).cast(t) for c, t in casts.items() if c in out.columns)
    return out.sort(S.CUSTOMER_ID)


# ---------------------------------------------------------------------------- churn

@dataclass(frozen=True)
class ChurnBase:
    """The per-customer durations and events of the inactivity churn rule, with the count
    of every customer and order left out (as :class:`loyaltylab.churn.ChurnTableReport`
    counts them).

    Attributes
    ----------
    frame : pl.DataFrame
        One row per customer whose first order is on or before ``as_of``; columns in
        :data:`CHURN_BASE_COLUMNS` (see :func:`churn_base`).
    as_of : datetime
    inactivity_days : float
    n_orders_after_as_of, n_not_started, n_without_orders, n_unknown_customers : int
        Orders dated after ``as_of`` (ignored); customers whose first order is later
        (not in the frame); customers of the customers table without any order (not in the
        frame); customers with orders but no row in the customers table (kept). The last
        two are None without a customers table.
    """

    frame: pl.DataFrame
    as_of: datetime
    inactivity_days: float
    n_orders_after_as_of: int = 0
    n_not_started: int = 0
    n_without_orders: int | None = None
    n_unknown_customers: int | None = None
    engine: str = "polars"
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        n = self.frame.height
        ev = int(self.frame.get_column(EVENT).sum() or 0)
        return (f"ChurnBase ({self.engine}, as of {self.as_of:%Y-%m-%d}, churned after "
                f"{self.inactivity_days:g} days without an order): {n:,} customers, "
                f"{ev:,} churned, {n - ev:,} censored; {self.n_orders_after_as_of:,} orders "
                f"after as_of ignored")


def _finish_churn(per: pl.DataFrame, T: datetime, window: timedelta) -> pl.DataFrame:
    """end, event and duration from start and last_active, exactly as churn_table does."""
    churn_at = pl.col(LAST_ACTIVE) + window
    event = churn_at <= T
    return (per.with_columns(pl.when(event).then(churn_at).otherwise(pl.lit(T)).alias(END),
                             event.cast(pl.Int8).alias(EVENT))
            .with_columns((pl.col(END) - pl.col(START)).dt.total_microseconds()
                          .cast(pl.Float64).truediv(US_PER_DAY).alias(DURATION))
            .select(*CHURN_BASE_COLUMNS,
                    *[c for c in per.columns if c not in CHURN_BASE_COLUMNS])
            .sort(S.CUSTOMER_ID))


def _churn_query(orders: Any, customers: Any = None, *, T_us: int, early_us: int,
                 salt: str | None, keep_ids: bool, backend: str | None,
                 dialect: str | None = None, attributes: Sequence[str] = ()) -> Any:
    """One row per customer with an order: first and last order on or before ``as_of``
    (microseconds since 1970, null when none), orders up to ``as_of``, orders after it,
    orders in the first ``early_us``, and (with ``customers``) whether the customers table
    knows the customer and the customer's ``attributes`` (as text; the largest value when
    an id appears twice). One pass over the orders."""
    ibis = E.ibis_module()
    E.require_columns(orders, [S.CUSTOMER_ID, S.ORDERED_AT])
    ts = E.timestamp(orders, S.ORDERED_AT)
    o = orders.select(_cid=orders[S.CUSTOMER_ID], _e=E.epoch_us(ts, backend, dialect))
    o = o.mutate(_k=o._e <= T_us)
    o = o.mutate(_ke=ibis.ifelse(o._k, o._e, ibis.null().cast("int64")))
    # each order beside its customer's first order up to as_of: a window in SQL engines,
    # a join on Ibis' Polars backend (which has no window functions)
    if backend == "polars":
        firsts = o.group_by("_cid").aggregate(_first=o._ke.min()).rename(_fcid="_cid")
        w = o.join(firsts, o._cid == firsts._fcid).drop("_fcid")
    else:
        w = o.mutate(_first=o._ke.min().over(group_by="_cid"))
    per = w.group_by("_cid").aggregate(
        _start=w._ke.min(), _last=w._ke.max(), _n=w._k.sum().cast("int64"),
        _after=(~w._k).sum().cast("int64"),
        _early=(w._k & (w._e < w._first + early_us)).sum().cast("int64"))
    if customers is not None and attributes:
        c = customers.select(_ccid=customers[S.CUSTOMER_ID],
                             **{f"_a{i}": customers[a].cast("string")
                                for i, a in enumerate(attributes)})
        c = c.group_by("_ccid").aggregate(**{f"_a{i}": c[f"_a{i}"].max()
                                             for i in range(len(attributes))})
        per = per.left_join(c, per._cid == c._ccid)
    elif customers is not None:
        c = customers.select(_ccid=customers[S.CUSTOMER_ID]).distinct()
        per = per.left_join(c, per._cid == c._ccid)
    cols = {S.CUSTOMER_ID: E.ids_out(per._cid, salt=salt, keep_ids=keep_ids,
                                     backend=backend, dialect=dialect),
            "_start": per._start, "_last": per._last, N_ORDERS: per._n,
            "_after": per._after, ORDERS_90D: per._early}
    if customers is not None:
        cols["_known"] = per._ccid.notnull()
        cols.update({a: per[f"_a{i}"] for i, a in enumerate(attributes)})
    return per.select(**cols)


def _check_attributes(attributes: Sequence[str]) -> list[str]:
    """The customer columns asked of :func:`churn_base`, checked."""
    if isinstance(attributes, str):
        attributes = [attributes]
    out = list(attributes)
    clash = [a for a in out if a in CHURN_BASE_COLUMNS]
    if clash:
        raise ValueError(f"attributes: {clash} are columns churn_base computes itself; "
                         f"pass customer attributes such as 'segment'")
    if len(set(out)) < len(out):
        raise ValueError(f"attributes: {out} names a column twice")
    return out


def churn_base(orders: Any, customers: Any = None, *, as_of: Any = None,
               inactivity: str | int | timedelta = "180d",
               early: str | int | timedelta = "90d", salt: str | None = None,
               keep_ids: bool = False, attributes: Sequence[str] = ()) -> ChurnBase:
    """Per-customer churn durations and events (inactivity rule), computed where the
    orders are.

    Given CRMData (polars), this is the start of :func:`loyaltylab.churn.churn_table`
    (the reference). Given ``ibis.Table`` s of orders (and customers) in a database, the
    per-customer aggregation runs inside the engine and only one row per customer comes
    back, its id pseudonymised there (``salt``).

    Parameters
    ----------
    orders : ibis.Table or CRMData
        Orders with ``customer_id`` and ``ordered_at`` (a CRMData brings its customers).
    customers : ibis.Table, optional
        The customers table in the same engine, to count customers without orders and
        orders of unknown customers.
    as_of : date, datetime or ISO string, optional
        Observation date; default the CRMData's ``as_of``, else the latest order.
    inactivity, early : str, int or timedelta
        As in :func:`loyaltylab.churn.churn_table`.
    salt, keep_ids
        As in :func:`rfm_summary`.
    attributes : sequence of str, optional
        Columns of the customers table to bring back beside each customer's row, as text
        (for example ``["segment", "acquisition_channel"]``: the covariates of a Cox model
        or the groups of a retention chart). They are joined inside the engine, so the
        customers table is needed; a customer without a row there gets nulls.

    Returns
    -------
    ChurnBase
        ``.frame`` has one row per customer:

        - ``customer_id``: the customer (its pseudonym with ``salt``).
        - ``start``: first order on or before ``as_of``.
        - ``last_active``: last order on or before ``as_of``.
        - ``end``: ``last_active + inactivity`` for churners, ``as_of`` otherwise.
        - ``duration``: days from start to end (Float64).
        - ``event``: 1 churned, 0 censored (Int8).
        - ``n_orders``: orders from start to ``as_of``.
        - ``orders_90d``: orders in the first ``early`` days.
        - the ``attributes``, as text.

        and the counts of what was left out (see :class:`ChurnBase`).

    Notes
    -----
    The rule is :func:`loyaltylab.churn.churn_table`'s: churned when the last order plus
    the window lies on or before ``as_of``. Times are compared in whole microseconds since
    1970 computed from each timestamp's date and time of day (milliseconds on SQLite, which
    keeps no finer time). ``end``, ``event`` and ``duration`` are then derived in polars
    from the per-customer ``start`` and ``last_active`` with the same expressions as the
    reference. The contract definition and the covariates stay in polars.

    Examples
    --------
    >>> import ibis
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.warehouse import churn_base
    >>> con = ibis.duckdb.connect()
    >>> orders = con.create_table("orders", pl.DataFrame({
    ...     "customer_id": ["A", "A", "B", "B", "C"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 3, 1), datetime(2024, 1, 1),
    ...                    datetime(2024, 9, 1), datetime(2024, 7, 4)]}))
    >>> base = churn_base(orders, as_of="2024-12-31", keep_ids=True)
    >>> base.frame.select("customer_id", "duration", "event").rows()
    [('A', 240.0, 1), ('B', 365.0, 0), ('C', 180.0, 1)]
    """
    window = parse_window(inactivity, name="inactivity")
    early_td = parse_window(early, name="early")
    attributes = _check_attributes(attributes)
    if not E.is_ibis_table(orders):
        if not isinstance(orders, CRMData):
            raise TypeError(f"orders: expected an ibis.Table or a CRMData, got "
                            f"{type(orders).__name__}")
        table = churn_table(orders, as_of=as_of, inactivity=inactivity, early=early,
                            orders_before_acquisition="report")
        rep = table.report
        frame = table.select(CHURN_BASE_COLUMNS)
        if attributes:
            missing = [a for a in attributes if a not in orders.customers.columns]
            if missing:
                raise ValueError(f"attributes: the customers table has no column "
                                 f"{', '.join(map(repr, missing))}; it has "
                                 f"{orders.customers.columns}")
            frame = frame.join(orders.customers.select(
                S.CUSTOMER_ID, *[pl.col(a).cast(pl.String) for a in attributes]),
                on=S.CUSTOMER_ID, how="left")
        frame = _hash_ids(frame, salt).sort(S.CUSTOMER_ID)
        return ChurnBase(frame, rep.as_of, window / timedelta(days=1),
                         rep.n_orders_after_as_of, rep.n_not_started, rep.n_without_orders,
                         rep.n_unknown_customers, "polars", list(rep.notes))
    backend = E.backend_name(orders)
    E.require_columns(orders, [S.CUSTOMER_ID, S.ORDERED_AT])
    E.ids_out(orders[S.CUSTOMER_ID], salt=salt, keep_ids=keep_ids, backend=backend)
    if customers is not None:
        if not E.is_ibis_table(customers):
            raise TypeError(f"customers: expected an ibis.Table in the same engine as the "
                            f"orders, got {type(customers).__name__}")
        E.require_columns(customers, [S.CUSTOMER_ID, *attributes], name="customers")
    elif attributes:
        raise ValueError("attributes: they come from the customers table; pass it as "
                         "customers=")
    ts = E.timestamp(orders, S.ORDERED_AT)
    e = E.epoch_us(ts, backend)
    lo, hi = orders.aggregate(_lo=e.min(), _hi=e.max()).to_polars().row(0)
    if as_of is None:
        if hi is None:
            raise ValueError("as_of: the orders table is empty, so no default date "
                             "exists; pass as_of explicitly")
        T = datetime(1970, 1, 1) + timedelta(microseconds=int(hi))
    else:
        T = to_datetime(as_of)
    T_us = E.to_us(T)
    if lo is not None and T_us < lo:
        first = datetime(1970, 1, 1) + timedelta(microseconds=int(lo))
        raise ValueError(f"as_of: {T:%Y-%m-%d} lies before the first order "
                         f"({first:%Y-%m-%d}), so no customer has a lifetime yet; pass an "
                         f"as_of on or after {first:%Y-%m-%d}")
    early_us = int(early_td / timedelta(microseconds=1))
    rows = _churn_query(orders, customers, T_us=T_us, early_us=early_us, salt=salt,
                        keep_ids=keep_ids, backend=backend,
                        attributes=attributes).to_polars()
    # what was left out, counted from the per-customer rows (no raw id left the engine)
    started = pl.col(N_ORDERS) > 0
    n_after = int(rows.get_column("_after").sum() or 0)
    n_not_started = int(rows.select((~started).sum()).item())
    n_without = n_unknown = None
    if customers is not None:
        n_customers = int(customers.select(customers[S.CUSTOMER_ID]).distinct().count()
                          .to_polars())
        n_without = n_customers - int(rows.get_column("_known").sum())
        n_unknown = int(rows.select((started & ~pl.col("_known")).sum()).item())
    epoch = pl.lit(0, dtype=pl.Int64).cast(pl.Datetime("us"))
    per = rows.filter(started).select(
        pl.col(S.CUSTOMER_ID).cast(pl.String),
        (epoch + pl.duration(microseconds=pl.col("_start").cast(pl.Int64))).alias(START),
        (epoch + pl.duration(microseconds=pl.col("_last").cast(pl.Int64)))
        .alias(LAST_ACTIVE),
        pl.col(N_ORDERS).cast(pl.Int64), pl.col(ORDERS_90D).cast(pl.Int64),
        *[pl.col(a).cast(pl.String) for a in attributes])
    frame = _finish_churn(per, T, window)
    return ChurnBase(frame, T, window / timedelta(days=1), n_after, n_not_started,
                     n_without, n_unknown, backend or "unbound")


# ---------------------------------------------------------------------------- cohorts

def _cohort_index(ts: Any, period: str) -> Any:
    if period == "week":  # ISO weeks start on Monday; 1970-01-05 was a Monday
        return (E.day_number(ts.truncate("W")) - 4) // 7
    year = ts.year().cast("int64")
    month = ts.month().cast("int64")
    if period == "month":
        return year * 12 + month - 1
    if period == "quarter":
        return year * 4 + (month - 1) // 3
    if period == "year":
        return year
    raise ValueError(f"period: expected 'week', 'month', 'quarter' or 'year', got {period!r}")


def _cohort_query(orders: Any, period: str) -> Any:
    E.require_columns(orders, [S.CUSTOMER_ID, S.ORDERED_AT])
    ts = E.timestamp(orders, S.ORDERED_AT)
    o = orders.select(_cid=orders[S.CUSTOMER_ID], _p=_cohort_index(ts, period))
    pairs = o.filter(o._p.notnull()).distinct()
    first = pairs.group_by("_cid").aggregate(_c=pairs._p.min()).rename(_fcid="_cid")
    j = pairs.join(first, pairs._cid == first._fcid)
    j = j.select(_c=j._c, period=j._p - j._c)
    return j.group_by(["_c", "period"]).aggregate(active=j.count())


def cohort_retention(orders: Any, *, period: str = "month") -> pl.DataFrame:
    """Cohort retention in long form, with the per-customer work done where the orders
    are.

    Given a polars or pandas frame (or CRMData), this is
    :func:`loyaltylab.metrics.cohort_retention` (the reference). Given an ``ibis.Table``,
    the distinct (customer, period) pairs, each customer's first period and the counts per
    (cohort, period) are computed inside the engine; only the counts come back (no
    customer id leaves it, so no salt is needed).

    Parameters
    ----------
    orders : ibis.Table, CRMData, polars or pandas frame
        Orders with ``customer_id`` and ``ordered_at``.
    period : {"week", "month", "quarter", "year"}

    Returns
    -------
    pl.DataFrame
        As :func:`loyaltylab.metrics.cohort_retention`:

        - cohort: start of the calendar period of the customer's first order
        - period: 0, 1, 2, ... periods since the cohort period
        - cohort_size: customers in the cohort
        - active: customers of the cohort with an order in that period
        - rate: active / cohort_size

    Examples
    --------
    >>> import ibis
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.warehouse import cohort_retention
    >>> orders = pl.DataFrame({"customer_id": ["a", "a", "b", "c", "c"],
    ...     "ordered_at": [datetime(2024, 1, 3), datetime(2024, 3, 9), datetime(2024, 1, 20),
    ...                    datetime(2024, 2, 2), datetime(2024, 3, 1)]})
    >>> table = ibis.duckdb.connect().create_table("orders", orders)
    >>> cohort_retention(table).select("period", "active", "rate").rows()
    [(0, 2, 1.0), (1, 0, 0.0), (2, 1, 0.5), (0, 1, 1.0), (1, 1, 1.0)]
    """
    if not E.is_ibis_table(orders):
        from loyaltylab.metrics.retention import cohort_retention as reference
        return reference(orders, period=period)
    counts = _cohort_query(orders, period).to_polars().select(
        pl.col("_c").cast(pl.Int64), pl.col("period").cast(pl.Int64),
        pl.col("active").cast(pl.Int64))
    return retention_from_counts(counts, period)


# ---------------------------------------------------------------------------- SQL

_SUMMARIES = ("rfm", "churn", "cohorts", "ladder", "ladder_counts", "periods")


def to_sql(summary: str, *, dialect: str, orders: Any = None, salt: str | None = None,
           keep_ids: bool = False, **options: Any) -> str:
    """The SQL that a summary runs in an engine, written in that engine's dialect, for a
    database team to read or run themselves.

    Parameters
    ----------
    summary : {"rfm", "churn", "cohorts", "ladder", "ladder_counts", "periods"}
    dialect : str
        An Ibis / sqlglot dialect: "duckdb", "postgres", "snowflake", "bigquery",
        "trino", "databricks", ...
    orders : ibis.Table, optional
        The orders table; default an unbound table ``orders`` with the canonical columns
        (``customer_id`` text, ``ordered_at`` timestamp, ``amount`` float).
    salt, keep_ids
        As in :func:`rfm_summary` (not used by "cohorts"). The salt is written into the
        SQL text as a literal: whoever reads the query can recompute the pseudonyms, so
        share it only with those who may hold the salt.
    **options
        "rfm": ``observation_end`` (required), ``calibration_end``, ``time_unit``,
        ``purchase_period``, ``monetary``; "churn": ``as_of`` (required), ``early``;
        "cohorts": ``period``; "ladder" (one row per person) and "ladder_counts" (people per
        rung): ``as_of`` (required), ``ladder``, ``tables`` (a mapping of canonical table
        names to tables; default unbound ``customers``, ``orders`` (with
        ``product_line``), ``contacts`` and ``referrals``); "periods": ``as_of``
        (required), ``period``.

    Returns
    -------
    str

    Examples
    --------
    >>> from loyaltylab.warehouse import to_sql
    >>> sql = to_sql("rfm", dialect="snowflake", observation_end="2024-12-31",
    ...              salt="s3cret")
    >>> "SHA2(" in sql and "GROUP BY" in sql
    True
    """
    ibis = E.ibis_module()
    if summary not in _SUMMARIES:
        raise ValueError(f"summary: expected one of {list(_SUMMARIES)}, got {summary!r}")
    if orders is None:
        orders = ibis.table({S.CUSTOMER_ID: "string", S.ORDERED_AT: "timestamp(6)",
                             S.AMOUNT: "float64"}, name=S.ORDERS)
    backend = E.backend_name(orders)

    def need(key: str) -> Any:
        if options.get(key) is None:
            raise ValueError(f"to_sql({summary!r}): pass {key}=... (the SQL holds it as a "
                             f"literal)")
        return options.pop(key)

    if summary == "rfm":
        pp = options.pop("purchase_period", "D")
        _check_period(pp)
        unit = _unit_days(options.pop("time_unit", "W"))

        def day(value: Any, name: str) -> int:
            return _period_day(value, pp, name)

        end = day(need("observation_end"), "observation_end")
        cal_in = options.pop("calibration_end", None)
        cal = day(cal_in, "calibration_end") if cal_in is not None else end
        expr = _rfm_query(orders, unit=unit, purchase_period=pp, end=end, cal=cal,
                          holdout=cal_in is not None,
                          monetary=options.pop("monetary", True), salt=salt,
                          keep_ids=keep_ids, backend=backend, dialect=dialect)
    elif summary == "churn":
        T = to_datetime(need("as_of"))
        early_us = int(parse_window(options.pop("early", "90d"), name="early")
                       / timedelta(microseconds=1))
        expr = _churn_query(orders, T_us=E.to_us(T), early_us=early_us, salt=salt,
                            keep_ids=keep_ids, backend=backend, dialect=dialect)
    elif summary in ("ladder", "ladder_counts"):
        from loyaltylab.warehouse import _ladder as L
        T = to_datetime(need("as_of"))
        tables = options.pop("tables", None) or L.unbound_tables()
        lad, _ = L.measurable_ladder(L._ladder_arg(options.pop("ladder", None)),
                                     {k: list(t.columns) for k, t in tables.items()})
        L._check_supported(lad)
        tb = E.backend_name(next(iter(tables.values())))
        expr = L._ladder_query(tables, lad, T_us=E.to_us(T), backend=tb, dialect=dialect)
        if summary == "ladder":
            expr = expr.select(**{S.CUSTOMER_ID: E.ids_out(
                expr._pid, salt=salt, keep_ids=keep_ids, backend=tb, dialect=dialect)},
                stage_rank=expr._rank)
        else:
            expr = expr.group_by("_rank").aggregate(persons=expr.count()) \
                .rename(stage_rank="_rank")
    elif summary == "periods":
        from loyaltylab.warehouse import _periods as P
        T = to_datetime(need("as_of"))
        period = options.pop("period", "year")
        expr = P._periods_query(orders, period=period, T_us=E.to_us(T), backend=backend,
                                dialect=dialect)
    else:
        expr = _cohort_query(orders, options.pop("period", "month"))
    if options:
        raise TypeError(f"to_sql({summary!r}): unexpected option(s) {sorted(options)}")
    return ibis.to_sql(expr, dialect=dialect)
