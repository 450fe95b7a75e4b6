"""Calendar periods as integers, and the cohort-retention grid built from counts (not public
API).

Shared by :func:`loyaltylab.metrics.cohort_retention` (the polars reference) and
:func:`loyaltylab.warehouse.cohort_retention` (the same counts computed inside a database
engine): both count active customers per (cohort period, periods since it) their own way
and finish with :func:`retention_from_counts`, so the grid, the rates and the columns have
one implementation. A period is an integer index: consecutive periods differ by 1 (month =
year * 12 + month - 1), so "periods since the cohort" is a subtraction.

Examples
--------
>>> import polars as pl
>>> from datetime import datetime
>>> f = pl.DataFrame({"t": [datetime(2024, 1, 31), datetime(2024, 2, 1)]})
>>> f.select(period_index("t", "month").alias("i")).to_series().to_list()
[24288, 24289]
>>> f.select(period_start(pl.lit(24289), "month").alias("s")).item()
datetime.datetime(2024, 2, 1, 0, 0)
"""

from __future__ import annotations

import polars as pl

__all__ = ["period_index", "period_start", "retention_from_counts"]


def period_index(col: str, period: str) -> pl.Expr:
    """Integer index of the calendar period holding ``col`` (consecutive periods differ by 1)."""
    c = pl.col(col)
    if period == "month":
        return c.dt.year().cast(pl.Int64) * 12 + c.dt.month().cast(pl.Int64) - 1
    if period == "quarter":
        return c.dt.year().cast(pl.Int64) * 4 + (c.dt.month().cast(pl.Int64) - 1) // 3
    if period == "year":
        return c.dt.year().cast(pl.Int64)
    if period == "week":
        # ISO weeks start on Monday; 1970-01-05 was a Monday
        return (c.dt.truncate("1w").dt.epoch("d").cast(pl.Int64) - 4) // 7
    raise ValueError(f"period: expected 'week', 'month', 'quarter' or 'year', got {period!r}")


def period_start(idx: pl.Expr, period: str) -> pl.Expr:
    """Start datetime of the period with integer index ``idx`` (inverse of period_index)."""
    if period == "month":
        return pl.datetime(idx // 12, idx % 12 + 1, 1, time_unit="us")
    if period == "quarter":
        return pl.datetime(idx // 4, (idx % 4) * 3 + 1, 1, time_unit="us")
    if period == "year":
        return pl.datetime(idx, 1, 1, time_unit="us")
    return (pl.lit(0, dtype=pl.Int64).cast(pl.Datetime("us"))
            + pl.duration(days=idx * 7 + 4, time_unit="us"))


def retention_from_counts(counts: pl.DataFrame, period: str) -> pl.DataFrame:
    """The long retention frame of :func:`loyaltylab.metrics.cohort_retention` from the
    active counts per (cohort period ``_c``, ``period`` since it).

    ``counts`` has the columns ``_c`` (the cohort's :func:`period_index`), ``period`` and
    ``active`` (customers of the cohort with an order that many periods later); the rows
    with ``period`` 0 give the cohort sizes. Every (cohort, period) up to the last period
    in the counts gets a row, with ``active`` 0 where the counts have none.

    Examples
    --------
    >>> import polars as pl
    >>> counts = pl.DataFrame({"_c": [24288, 24288, 24289], "period": [0, 2, 0],
    ...                        "active": [2, 1, 1]})
    >>> retention_from_counts(counts, "month").select("period", "active", "rate").rows()
    [(0, 2, 1.0), (1, 0, 0.0), (2, 1, 0.5), (0, 1, 1.0), (1, 0, 0.0)]
    """
    if counts.height == 0:
        return pl.DataFrame(schema={"cohort": pl.Datetime("us"), "period": pl.Int64,
                                    "cohort_size": pl.Int64, "active": pl.Int64,
                                    "rate": pl.Float64})
    sizes = counts.lazy().filter(pl.col("period") == 0).select(
        "_c", pl.col("active").alias("cohort_size"))
    last = int(counts.select((pl.col("_c") + pl.col("period")).max()).item())
    grid = (sizes.with_columns(pl.int_ranges(0, last - pl.col("_c") + 1).alias("period"))
            .explode("period"))
    out = (grid.join(counts.lazy(), on=["_c", "period"], how="left")
           .with_columns(pl.col("active").fill_null(0),
                         pl.col("period").cast(pl.Int64),
                         pl.col("cohort_size").cast(pl.Int64))
           .with_columns((pl.col("active") / pl.col("cohort_size")).alias("rate"),
                         period_start(pl.col("_c"), period).alias("cohort"))
           .select("cohort", "period", "cohort_size", "active", "rate")
           .sort("cohort", "period"))
    return out.collect()
