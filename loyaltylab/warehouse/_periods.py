"""The scorecard's counts per calendar period (buyers, new and repeat buyers, lost
customers, orders, revenue), computed inside a database engine (Ibis) or in polars."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl

from loyaltylab._util import resolve_as_of, to_datetime
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.warehouse import _engine as E

__all__ = ["period_counts", "PERIOD_COUNT_COLUMNS"]

_PERIODS = ("month", "quarter", "year")
_COUNTS = ["buyers", "new_buyers", "orders", "revenue", "at_risk", "lost"]
PERIOD_COUNT_COLUMNS = ["period_start", "period_end", "complete", "buyers", "new_buyers",
                        "repeat_buyers", "orders", "revenue", "at_risk", "lost"]
"""Columns of :func:`period_counts`."""


def _check(period: str) -> None:
    if period not in _PERIODS:
        raise ValueError(f"period: expected 'month', 'quarter' or 'year', got {period!r}")


def _index_ibis(ts: Any, period: str) -> Any:
    year = ts.year().cast("int64")
    month = ts.month().cast("int64")
    if period == "month":
        return year * 12 + month - 1
    if period == "quarter":
        return year * 4 + (month - 1) // 3
    return year


def _index_pl(col: pl.Expr, period: str) -> pl.Expr:
    year, month = col.dt.year().cast(pl.Int64), col.dt.month().cast(pl.Int64)
    if period == "month":
        return year * 12 + month - 1
    if period == "quarter":
        return year * 4 + (month - 1) // 3
    return year


def _start_pl(idx: pl.Expr, period: str) -> pl.Expr:
    if period == "month":
        return pl.datetime(idx // 12, idx % 12 + 1, 1, time_unit="us")
    if period == "quarter":
        return pl.datetime(idx // 4, (idx % 4) * 3 + 1, 1, time_unit="us")
    return pl.datetime(idx, 1, 1, time_unit="us")


def _periods_query(orders: Any, *, period: str, T_us: int, backend: str | None,
                   dialect: str | None = None) -> Any:
    """Per period index ``_p`` with any count: buyers, new_buyers, orders, revenue,
    at_risk (buyers of the period before) and lost (of those, no order in this one).
    Only counts: no customer id is in the result."""
    ibis = E.ibis_module()
    _check(period)
    E.require_columns(orders, [S.CUSTOMER_ID, S.ORDERED_AT, S.AMOUNT])
    ts = E.timestamp(orders, S.ORDERED_AT)
    o = orders.select(_cid=orders[S.CUSTOMER_ID], _e=E.epoch_us(ts, backend, dialect),
                      _p=_index_ibis(ts, period), _a=orders[S.AMOUNT].cast("float64"))
    o = o.filter(o._e <= T_us)
    base = o.group_by("_p").aggregate(orders=o.count(), revenue=o._a.sum(),
                                      buyers=o._cid.nunique())
    first = o.group_by("_cid").aggregate(_f=o._p.min())
    new = first.group_by("_f").aggregate(new_buyers=first.count())
    act = o.select("_cid", "_p").distinct()
    nxt = act.select(_rc=act._cid, _rp=act._p + 1)
    kept = act.select(_kc=act._cid, _kp=act._p, _kept=ibis.literal(1, type="int64"))
    j = nxt.left_join(kept, [nxt._rc == kept._kc, nxt._rp == kept._kp])
    risk = j.group_by("_rp").aggregate(at_risk=j.count(),
                                       lost=j._kept.isnull().sum().cast("int64"))
    keys = base.select("_p").union(risk.select(_p=risk._rp), distinct=True)
    out = keys.left_join(base.rename(_bp="_p"), keys._p == base.rename(_bp="_p")._bp)
    out = out.drop("_bp")
    out = out.left_join(new, out._p == new._f).drop("_f")
    out = out.left_join(risk, out._p == risk._rp).drop("_rp")
    zero = ibis.literal(0, type="int64")
    return out.select("_p", buyers=out.buyers.cast("int64").fill_null(zero),
                      new_buyers=out.new_buyers.cast("int64").fill_null(zero),
                      orders=out.orders.cast("int64").fill_null(zero),
                      revenue=out.revenue.cast("float64").fill_null(0.0),
                      at_risk=out.at_risk.cast("int64").fill_null(zero),
                      lost=out.lost.cast("int64").fill_null(zero))


def _polars_counts(orders: pl.DataFrame, period: str, cut: Any) -> pl.DataFrame:
    """The same counts as :func:`_periods_query`, in polars (the reference)."""
    o = (orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
         .select(pl.col(S.CUSTOMER_ID).alias("_cid"),
                 _index_pl(pl.col(S.ORDERED_AT), period).alias("_p"),
                 pl.col(S.AMOUNT).cast(pl.Float64).alias("_a")))
    base = o.group_by("_p").agg(pl.len().cast(pl.Int64).alias("orders"),
                                pl.col("_a").sum().alias("revenue"),
                                pl.col("_cid").n_unique().cast(pl.Int64).alias("buyers"))
    new = (o.group_by("_cid").agg(pl.col("_p").min()).group_by("_p")
           .agg(pl.len().cast(pl.Int64).alias("new_buyers")))
    act = o.select("_cid", "_p").unique()
    risk = (act.with_columns(pl.col("_p") + 1)
            .join(act.with_columns(pl.lit(True).alias("_kept")), on=["_cid", "_p"],
                  how="left")
            .group_by("_p").agg(pl.len().cast(pl.Int64).alias("at_risk"),
                                pl.col("_kept").is_null().sum().cast(pl.Int64)
                                .alias("lost")))
    return (base.join(new, on="_p", how="full", coalesce=True)
            .join(risk, on="_p", how="full", coalesce=True).collect())


def _finish(counts: pl.DataFrame, period: str, cut: Any) -> pl.DataFrame:
    """Every period from the first order's to the one holding ``cut``, zeros filled."""
    last = int(pl.select(_index_pl(pl.lit(cut), period)).item())
    have = counts.filter(pl.col("_p") <= last)
    idx = have.get_column("_p")
    if idx.len() == 0 or idx.null_count() == idx.len():
        grid = pl.DataFrame({"_p": []}, schema={"_p": pl.Int64})
    else:
        grid = pl.DataFrame({"_p": range(int(idx.min()), last + 1)}, schema={"_p": pl.Int64})
    ints = ["buyers", "new_buyers", "orders", "at_risk", "lost"]
    out = (grid.join(have.with_columns(pl.col("_p").cast(pl.Int64)), on="_p", how="left")
           .with_columns([pl.col(c).cast(pl.Int64).fill_null(0) for c in ints]
                         + [pl.col("revenue").cast(pl.Float64).fill_null(0.0)]))
    return (out.with_columns(_start_pl(pl.col("_p"), period).alias("period_start"),
                             _start_pl(pl.col("_p") + 1, period).alias("period_end"))
            .with_columns((pl.col("period_end") <= cut).alias("complete"),
                          (pl.col("buyers") - pl.col("new_buyers")).alias("repeat_buyers"))
            .sort("_p").select(PERIOD_COUNT_COLUMNS))


def period_counts(orders: Any, *, period: str = "year", as_of: Any = None) -> pl.DataFrame:
    """The scorecard's counts per calendar period, computed where the orders are.

    Given CRMData or a polars frame, polars computes them (the reference); given an
    ``ibis.Table``, one query groups the orders inside the engine and only the counts
    per period come back (no customer id leaves it, so no salt is needed).

    Parameters
    ----------
    orders : ibis.Table, CRMData or polars frame
        Orders with ``customer_id``, ``ordered_at`` and ``amount``.
    period : {"month", "quarter", "year"}
        Calendar period, as in :func:`loyaltylab.metrics.scorecard`.
    as_of : date, datetime or ISO string, optional
        Orders after it are ignored; default the CRMData's ``as_of``, else the latest
        order.

    Returns
    -------
    pl.DataFrame
        One row per period from the first order's to the one holding ``as_of``:

        - ``period_start``, ``period_end``: the period [start, end).
        - ``complete``: the period ended by ``as_of``.
        - ``buyers``: customers with an order in the period (the scorecard's active
          buyers, ``revenue_per_customer``'s n).
        - ``new_buyers``: customers whose first order fell in the period.
        - ``repeat_buyers``: buyers of the period who had bought in an earlier one.
        - ``orders``: orders in the period; ``revenue``: the sum of their amounts.
        - ``at_risk``: buyers of the period before; ``lost``: those of them with no
          order in this period (the numerator and denominator of
          :func:`loyaltylab.metrics.defection_rate` with ``method="orders"``).

    Examples
    --------
    >>> import ibis
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.warehouse import period_counts
    >>> orders = pl.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...     "ordered_at": [datetime(2023, 5, 1), datetime(2024, 2, 1), datetime(2023, 7, 1),
    ...                    datetime(2024, 3, 1)], "amount": [10.0, 20.0, 5.0, 7.5]})
    >>> table = ibis.duckdb.connect().create_table("orders", orders)
    >>> out = period_counts(table, as_of="2024-12-31")
    >>> out.select("buyers", "new_buyers", "repeat_buyers", "revenue", "at_risk",
    ...            "lost").rows()
    [(2, 2, 0, 15.0, 0, 0), (2, 1, 1, 27.5, 2, 1)]
    >>> out.equals(period_counts(orders, as_of="2024-12-31"))
    True
    """
    _check(period)
    if not E.is_ibis_table(orders):
        frame = orders.orders if isinstance(orders, CRMData) else orders
        if not isinstance(frame, pl.DataFrame):
            raise TypeError(f"orders: expected an ibis.Table, a CRMData or a polars frame, "
                            f"got {type(orders).__name__}")
        missing = [c for c in (S.CUSTOMER_ID, S.ORDERED_AT, S.AMOUNT)
                   if c not in frame.columns]
        if missing:
            raise ValueError(f"orders: missing column(s) {missing}; found {frame.columns}")
        cut = resolve_as_of(orders, as_of)
        return _finish(_polars_counts(frame, period, cut), period, cut)
    backend = E.backend_name(orders)
    if as_of is None:
        E.require_columns(orders, [S.ORDERED_AT])
        hi = orders.aggregate(_hi=E.epoch_us(E.timestamp(orders, S.ORDERED_AT),
                                             backend).max()).to_polars().item()
        if hi is None:
            raise ValueError("as_of: the orders table is empty, so no default date "
                             "exists; pass as_of explicitly")
        cut = datetime(1970, 1, 1) + timedelta(microseconds=int(hi))
    else:
        cut = to_datetime(as_of)
    counts = _periods_query(orders, period=period, T_us=E.to_us(cut),
                            backend=backend).to_polars()
    return _finish(counts.with_columns(pl.col("_p").cast(pl.Int64)), period, cut)
