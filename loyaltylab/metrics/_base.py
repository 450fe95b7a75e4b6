"""Plumbing shared by the metric modules (not public API).

Everything here builds or finishes polars lazy queries; results are collected once, at the
end of each public metric function.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab._stats import poisson_ci, rate_columns, z_value
from loyaltylab._units import DAYS_PER_MONTH, US_PER_DAY
from loyaltylab._util import (
    as_polars, attach_by, normalize_by, parse_window, period_every, resolve_as_of,
    to_datetime,
)
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.exceptions import SchemaError

__all__ = [
    "BAND_LOW", "BAND_HIGH", "DAYS_PER_MONTH", "check_crm", "orders_and_customers",
    "lazy", "group_agg", "finish_rate", "with_all_groups", "poisson_ci", "mean_ci",
    "require_column", "by_groups", "periodize", "period_end_expr", "window_bounds",
    "days_between", "buyers", "alive_after", "hashed_ids", "to_datetime",
]

BAND_LOW = 0.20
"""Lower end of the annual defection band typical of businesses (20 %)."""
BAND_HIGH = 0.40
"""Upper end of the typical annual defection band (40 %)."""

RATE_COLUMNS = ["numerator", "denominator", "value", "ci_low", "ci_high"]


def check_crm(data: Any, fn: str) -> CRMData:
    """Raise ``TypeError`` unless ``data`` is a CRMData."""
    if not isinstance(data, CRMData):
        raise TypeError(f"{fn}: expected a CRMData (from ll.load, ll.from_frames or "
                        f"ll.datasets), got {type(data).__name__}")
    return data


def orders_and_customers(data: Any, fn: str) -> tuple[pl.DataFrame, pl.DataFrame | None,
                                                       Any]:
    """Orders frame, customers frame (or None) and the object to resolve ``as_of`` from.

    ``data`` is a CRMData or an orders frame (polars or pandas).
    """
    if isinstance(data, CRMData):
        return data.orders, data.customers, data
    orders = as_polars(data, name=f"{fn}: orders")
    for col in (S.CUSTOMER_ID, S.ORDERED_AT):
        if col not in orders.columns:
            raise SchemaError(f"{fn}: orders has no {col!r} column (columns: "
                              f"{orders.columns}); rename it or load the data with "
                              f"ll.load / ll.from_frames")
    return orders, None, orders


def lazy(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` as a LazyFrame."""
    return frame if isinstance(frame, pl.LazyFrame) else frame.lazy()


def require_column(frame: pl.DataFrame, column: str, table: str, purpose: str) -> None:
    """Raise :class:`SchemaError` naming the column, table and purpose when absent."""
    if column not in frame.columns:
        raise SchemaError(f"{purpose} needs {table}.{column}, which this dataset does not "
                          f"have (columns: {frame.columns}); add it to the {table} file or "
                          f"map an existing column to {column!r}")


def group_agg(lf: pl.LazyFrame, keys: Sequence[str], exprs: Sequence[pl.Expr]) -> pl.LazyFrame:
    """``group_by(keys).agg(exprs)``, or a one-row ``select(exprs)`` when ``keys`` is empty
    (so an empty input still gives one row with zero counts)."""
    keys = list(keys)
    if keys:
        return lf.group_by(keys).agg(exprs)
    return lf.select(exprs)


def by_groups(customers: pl.DataFrame | None, by: Sequence[str]) -> pl.LazyFrame | None:
    """Every combination of ``by`` values present in customers (None when not applicable)."""
    if not by or customers is None or any(c not in customers.columns for c in by):
        return None
    return customers.lazy().select(list(by)).unique()


def with_all_groups(result: pl.LazyFrame, groups: pl.LazyFrame | None, keys: Sequence[str],
                    zero_cols: Sequence[str]) -> pl.LazyFrame:
    """Left-join ``result`` onto every group so that empty groups show up with zeros."""
    if groups is None or not keys:
        return result
    out = groups.join(result, on=list(keys), how="left", nulls_equal=True)
    return out.with_columns([pl.col(c).fill_null(0) for c in zero_cols])


def finish_rate(lf: pl.LazyFrame, keys: Sequence[str], *, definition: str,
                confidence: float = 0.95, extra: Sequence[pl.Expr] = ()) -> pl.DataFrame:
    """Add value/ci_low/ci_high (Wilson), the definition, sort by keys, and collect."""
    out = lf.with_columns(
        pl.col("numerator").cast(pl.Int64), pl.col("denominator").cast(pl.Int64)
    ).with_columns(rate_columns("numerator", "denominator", confidence=confidence))
    out = out.with_columns(*extra, pl.lit(definition).alias("definition"))
    if keys:
        out = out.sort(list(keys), nulls_last=True)
    return out.collect()


def mean_ci(frame: pl.DataFrame, *, n: str = "n", mean: str = "value", std: str = "std",
            confidence: float = 0.95) -> pl.DataFrame:
    """Add Student-t ``ci_low``/``ci_high`` and ``std_error`` for a mean; drop ``std``.

    std_error = std / sqrt(n); interval = mean +- t(n-1) * std_error. Null when n < 2.
    """
    nn = frame.get_column(n).cast(pl.Float64).fill_null(0).to_numpy()
    m = frame.get_column(mean).cast(pl.Float64).to_numpy(allow_copy=True)
    s = frame.get_column(std).cast(pl.Float64).to_numpy(allow_copy=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = s / np.sqrt(nn)
        t = stats.t.ppf(0.5 + confidence / 2, np.maximum(nn - 1, 1))
        ok = nn >= 2
        low = np.where(ok, m - t * se, np.nan)
        high = np.where(ok, m + t * se, np.nan)
        se = np.where(ok, se, np.nan)
    return frame.drop(std).with_columns(
        pl.Series("ci_low", low).fill_nan(None),
        pl.Series("ci_high", high).fill_nan(None),
        pl.Series("std_error", se).fill_nan(None),
    )


def periodize(col: str, period: str) -> pl.Expr:
    """Start of the calendar period containing ``col``."""
    return pl.col(col).dt.truncate(period_every(period))


def period_end_expr(start: str | pl.Expr, period: str) -> pl.Expr:
    """The start of the next period (exclusive end)."""
    e = pl.col(start) if isinstance(start, str) else start
    return e.dt.offset_by(period_every(period))


def window_bounds(as_of: datetime, window: Any, *, name: str = "window") -> tuple[datetime,
                                                                                 datetime]:
    """``(as_of - window, as_of)``."""
    td = parse_window(window, name=name)
    return as_of - td, as_of


def days_between(a: str | pl.Expr, b: str | pl.Expr) -> pl.Expr:
    """``b - a`` in (fractional) days."""
    ea = pl.col(a) if isinstance(a, str) else a
    eb = pl.col(b) if isinstance(b, str) else b
    return (eb - ea).dt.total_microseconds().cast(pl.Float64) / US_PER_DAY


def buyers(orders: pl.LazyFrame, as_of: datetime) -> pl.LazyFrame:
    """One row per customer with an order at or before ``as_of``: first_order, last_order,
    n_orders, revenue."""
    return (orders.filter(pl.col(S.ORDERED_AT) <= as_of)
            .group_by(S.CUSTOMER_ID)
            .agg(pl.col(S.ORDERED_AT).min().alias("first_order"),
                 pl.col(S.ORDERED_AT).max().alias("last_order"),
                 pl.len().alias("n_orders"),
                 pl.col(S.AMOUNT).sum().alias("revenue")))


def alive_after(events: pl.LazyFrame, orders: pl.LazyFrame, *, at: str,
                name: str = "retained") -> pl.LazyFrame:
    """Add boolean ``name``: the customer has an order at or after the time in column ``at``.

    ``events`` has one row per (customer, event); an order at or after ``at`` shows the
    customer was still alive then. Callers keep only rows with ``at + inactive_after <=
    as_of``, so that "no order since" means a lapse of at least ``inactive_after``.
    """
    last = orders.group_by(S.CUSTOMER_ID).agg(pl.col(S.ORDERED_AT).max().alias("_last"))
    return (events.join(last, on=S.CUSTOMER_ID, how="left")
            .with_columns((pl.col("_last") >= pl.col(at)).fill_null(False).alias(name))
            .drop("_last"))


def as_timedelta(window: Any, name: str) -> timedelta:
    """:func:`parse_window` re-exported for the metric modules."""
    return parse_window(window, name=name)


def resolve(data: Any, as_of: Any) -> datetime:
    """:func:`resolve_as_of` re-exported."""
    return resolve_as_of(data, as_of)


def attach(frame: pl.LazyFrame, customers: pl.DataFrame | None, by: Sequence[str]):
    """:func:`attach_by` re-exported (no-op for an empty ``by``)."""
    if not by:
        return frame
    return attach_by(frame, customers, by)


def norm_by(by: str | Sequence[str] | None) -> list[str]:
    """:func:`normalize_by` re-exported."""
    return normalize_by(by)


def zcrit(confidence: float) -> float:
    """:func:`z_value` re-exported."""
    return z_value(confidence)


# the columns holding a customer id: the customers table's key, the others' references
_ID_COLUMNS = {n: t.key if n == S.CUSTOMERS else t.customer_refs
               for n, t in S.TABLES.items()}


def hashed_ids(data: CRMData) -> CRMData:
    """A copy of ``data`` whose customer id columns hold a 64-bit hash of the id.

    Grouping and joining on UInt64 keys is several times faster than on strings; the
    aggregate metrics do not depend on the id values. The chance that two of a million ids
    share a hash is about 3e-8. Only for results that do not show ids.
    """
    changes = {}
    for table, cols in _ID_COLUMNS.items():
        frame = getattr(data, table)
        if frame is None:
            continue
        present = [c for c in cols if c in frame.columns]
        if present and frame.schema[present[0]] != pl.UInt64:
            changes[table] = frame.with_columns([pl.col(c).hash() for c in present])
    return data.replace(**changes) if changes else data
