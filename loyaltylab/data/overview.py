"""A first look at a CRMData: what each table holds, activity per month, the customer mix."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from loyaltylab._util import period_every, resolve_as_of
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData

__all__ = ["table_overview", "activity_over_time", "customer_mix"]

# The timestamp that dates each table's rows.
_DATE_COLUMN = {n: t.event for n, t in S.TABLES.items() if t.event}


def table_overview(data: CRMData) -> pl.DataFrame:
    """One row per canonical table: present or not, rows, customers, date range, rejects.

    Parameters
    ----------
    data : CRMData

    Returns
    -------
    pl.DataFrame
        - table: canonical table name
        - present: whether the dataset holds the table
        - rows: rows kept (0 when absent)
        - customers: distinct customers referred to (null where the table has no
          customer_id column, or is absent)
        - first, last: earliest and latest timestamp of the table's main date column
        - rejected: rows rejected on load (0 when the load report has no entry)

    Examples
    --------
    >>> import loyaltylab as ll
    >>> ov = table_overview(ll.datasets.load_sample())
    >>> ov.filter(ov["table"] == "orders")["present"].item()
    True
    """
    rows = []
    for name in S.TABLES:
        frame = getattr(data, name)
        report = data.report.tables.get(name)
        rejected = report.rejected if report is not None else 0
        if frame is None:
            rows.append({"table": name, "present": False, "rows": 0, "customers": None,
                         "first": None, "last": None, "rejected": rejected})
            continue
        date_col = _DATE_COLUMN[name]
        has_customer = S.CUSTOMER_ID in frame.columns
        stats = frame.select(
            pl.col(date_col).min().alias("first"),
            pl.col(date_col).max().alias("last"),
            (pl.col(S.CUSTOMER_ID).n_unique() if has_customer
             else pl.lit(None, dtype=pl.UInt32)).alias("customers"),
        ).row(0, named=True)
        rows.append({"table": name, "present": True, "rows": frame.height,
                     "customers": stats["customers"], "first": stats["first"],
                     "last": stats["last"], "rejected": rejected})
    return pl.DataFrame(rows, schema={
        "table": pl.String, "present": pl.Boolean, "rows": pl.Int64, "customers": pl.Int64,
        "first": pl.Datetime("us"), "last": pl.Datetime("us"), "rejected": pl.Int64})


def activity_over_time(data: CRMData, *, period: str = "month",
                       as_of: datetime | None = None) -> pl.DataFrame:
    """Orders, revenue, active and new buyers per period.

    Parameters
    ----------
    data : CRMData
    period : {"month", "quarter", "year", "week", "day"}
    as_of : datetime, optional
        Orders after this date are left out (default: ``data.as_of``, else all).

    Returns
    -------
    pl.DataFrame
        - period_start: first day of the period
        - orders: orders placed in the period
        - revenue: sum of order amounts
        - active_customers: distinct customers who ordered in the period
        - new_customers: customers whose first order fell in the period

    Examples
    --------
    >>> import loyaltylab as ll
    >>> act = activity_over_time(ll.datasets.load_sample(), period="year")
    >>> act.columns
    ['period_start', 'orders', 'revenue', 'active_customers', 'new_customers']
    """
    every = period_every(period)
    cutoff = resolve_as_of(data, as_of, latest_order=False)
    orders = data.orders.lazy()
    if cutoff is not None:
        orders = orders.filter(pl.col(S.ORDERED_AT) <= cutoff)
    orders = orders.with_columns(
        pl.col(S.ORDERED_AT).dt.truncate(every).alias("period_start"),
        (pl.col(S.ORDERED_AT).min().over(S.CUSTOMER_ID).dt.truncate(every)).alias("_first"),
    )
    new = (orders.filter(pl.col("period_start") == pl.col("_first"))
           .group_by("period_start").agg(pl.col(S.CUSTOMER_ID).n_unique().alias("new_customers")))
    out = (orders.group_by("period_start")
           .agg(pl.len().alias("orders"), pl.col(S.AMOUNT).sum().alias("revenue"),
                pl.col(S.CUSTOMER_ID).n_unique().alias("active_customers"))
           .join(new, on="period_start", how="left")
           .with_columns(pl.col("new_customers").fill_null(0))
           .sort("period_start"))
    return out.collect().cast({"orders": pl.Int64, "active_customers": pl.Int64,
                               "new_customers": pl.Int64})


def customer_mix(data: CRMData, *, by: str = S.KIND) -> pl.DataFrame:
    """How many customers of each kind (or segment, channel, region) and how many bought.

    Parameters
    ----------
    data : CRMData
    by : str
        A customers column, e.g. "kind", "segment", "acquisition_channel", "region".

    Returns
    -------
    pl.DataFrame
        - ``by``: the attribute's value (missing values shown as "(missing)")
        - customers: customers with that value
        - share: customers / all customers
        - buyers: of those, customers with at least one order

    Examples
    --------
    >>> import loyaltylab as ll
    >>> mix = customer_mix(ll.datasets.load_sample(), by="kind")
    >>> int(mix["customers"].sum()) == ll.datasets.load_sample().customers.height
    True
    """
    if by not in data.customers.columns:
        raise ValueError(f"customers.{by}: no such column; available: "
                         f"{[c for c in data.customers.columns if c != S.CUSTOMER_ID]}")
    buyers = data.orders.select(S.CUSTOMER_ID).unique().with_columns(pl.lit(1).alias("_b"))
    return (data.customers.lazy()
            .select(S.CUSTOMER_ID, pl.col(by).cast(pl.String).fill_null("(missing)"))
            .join(buyers.lazy(), on=S.CUSTOMER_ID, how="left")
            .group_by(by)
            .agg(pl.len().cast(pl.Int64).alias("customers"),
                 pl.col("_b").sum().cast(pl.Int64).alias("buyers"))
            .with_columns((pl.col("customers") / pl.col("customers").sum()).alias("share"))
            .select(by, "customers", "share", "buyers")
            .sort("customers", descending=True)
            .collect())


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
