"""Buying metrics: repeat purchase, frequency, inter-purchase time, cross-line buying, order
value and revenue per customer."""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.metrics import _base as B

__all__ = ["repeat_purchase_rate", "purchase_frequency", "inter_purchase_time",
           "cross_line_share", "average_order_value", "revenue_per_customer",
           "purchase_regularity", "customer_regularity"]


def repeat_purchase_rate(orders: Any, *, as_of: Any = None,
                         by: str | Sequence[str] | None = None,
                         confidence: float = 0.95) -> pl.DataFrame:
    """Share of buyers with at least two orders on distinct days.

    Parameters
    ----------
    orders : pl.DataFrame, pandas.DataFrame or CRMData
        An orders frame with canonical columns, or a CRMData (then ``by`` may name
        customer attributes, and every attribute value of the customers table gets a row,
        with n = 0 when nobody in it bought).
    as_of : date, datetime or str, optional
        Only orders at or before this moment count. Defaults to ``data.as_of`` or the
        latest order.
    by : str or list of str, optional
        Columns of the orders frame, or (with a CRMData) customer attributes.
    confidence : float
        Coverage of the interval.

    Returns
    -------
    pl.DataFrame
        One row per ``by`` group (one row without ``by``):

        - the ``by`` columns
        - numerator: buyers with orders on two or more distinct calendar days
        - denominator: buyers (customers with at least one order up to ``as_of``)
        - value: numerator / denominator (null when the denominator is 0)
        - ci_low, ci_high: Wilson score interval
        - as_of: the cut-off used
        - definition: the definition in words

    Notes
    -----
    Two orders on the same day count as one purchase occasion, as in the repeat-customer
    rate of e-commerce dashboards (Shopify's "returning customer rate" counts customers
    with more than one order). The interval is Wilson's (1927) score interval.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.metrics import repeat_purchase_rate
    >>> orders = pl.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b", "c"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 2, 1),
    ...                    datetime(2024, 1, 5, 9), datetime(2024, 1, 5, 17),
    ...                    datetime(2024, 3, 1)],
    ...     "amount": [10.0, 20.0, 5.0, 5.0, 8.0]})
    >>> repeat_purchase_rate(orders).select("numerator", "denominator",
    ...                                     pl.col("value").round(4))
    shape: (1, 3)
    ┌───────────┬─────────────┬────────┐
    │ numerator ┆ denominator ┆ value  │
    │ ---       ┆ ---         ┆ ---    │
    │ i64       ┆ i64         ┆ f64    │
    ╞═══════════╪═════════════╪════════╡
    │ 1         ┆ 3           ┆ 0.3333 │
    └───────────┴─────────────┴────────┘
    """
    frame, customers, src = B.orders_and_customers(orders, "repeat_purchase_rate")
    cut = B.resolve(src, as_of)
    keys = B.norm_by(by)
    lf = B.attach(frame.lazy(), customers, keys).filter(pl.col(S.ORDERED_AT) <= cut)
    # two distinct order days <=> the first and the last order day differ (cheaper than
    # counting distinct days per customer)
    day = pl.col(S.ORDERED_AT).dt.truncate("1d")
    per = (lf.group_by([S.CUSTOMER_ID, *keys])
           .agg((day.max() > day.min()).alias("_repeat")))
    res = B.group_agg(per, keys, [pl.col("_repeat").sum().alias("numerator"),
                                  pl.len().alias("denominator")])
    res = B.with_all_groups(res, B.by_groups(customers, keys), keys,
                            ["numerator", "denominator"])
    return B.finish_rate(
        res, keys, confidence=confidence,
        definition="buyers with orders on >= 2 distinct days / buyers, orders up to as_of",
        extra=[pl.lit(cut).alias("as_of")])


def _period_frame(data: Any, fn: str, period: str, by, as_of):
    frame, customers, src = B.orders_and_customers(data, fn)
    cut = B.resolve(src, as_of)
    keys = B.norm_by(by)
    lf = (B.attach(frame.lazy(), customers, keys)
          .filter(pl.col(S.ORDERED_AT) <= cut)
          .with_columns(B.periodize(S.ORDERED_AT, period).alias("period_start")))
    return lf, customers, cut, keys


def _finish_periods(df: pl.DataFrame, keys, period: str, cut, definition: str) -> pl.DataFrame:
    return (df.with_columns(
        B.period_end_expr("period_start", period).alias("period_end"))
        .with_columns((pl.col("period_end") <= cut).alias("complete"),
                      pl.lit(definition).alias("definition"))
        .sort(["period_start", *keys]))


def purchase_frequency(data: Any, *, period: str = "year", by: str | Sequence[str] | None = None,
                       as_of: Any = None, confidence: float = 0.95) -> pl.DataFrame:
    """Orders per buyer in each calendar period.

    Parameters
    ----------
    data : CRMData or orders frame
    period : {"month", "quarter", "year"}
    by : str or list of str, optional
        Customer attributes (CRMData) or orders columns.
    as_of : optional
        Orders after it are ignored; the last period may be incomplete (``complete``).
    confidence : float

    Returns
    -------
    pl.DataFrame
        - period_start, period_end: the calendar period [start, end)
        - the ``by`` columns
        - orders: orders placed in the period
        - n: buyers with at least one order in the period
        - value: orders / n (purchase frequency)
        - ci_low, ci_high, std_error: Student-t interval of the mean orders per buyer
        - complete: whether the period ended by ``as_of``
        - definition

    Notes
    -----
    Purchase frequency = orders / unique buyers in the period, the convention of
    e-commerce analytics (used with average order value in "revenue per customer = AOV x
    frequency"). Only buyers of the period enter the denominator.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> from datetime import datetime
    >>> import polars as pl
    >>> orders = pl.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 5, 1), datetime(2024, 2, 1)],
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> ll.metrics.purchase_frequency(orders, period="year")["value"].to_list()
    [1.5]
    """
    lf, _, cut, keys = _period_frame(data, "purchase_frequency", period, by, as_of)
    per = lf.group_by(["period_start", *keys, S.CUSTOMER_ID]).agg(pl.len().alias("_k"))
    res = (per.group_by(["period_start", *keys])
           .agg(pl.col("_k").sum().alias("orders"), pl.len().alias("n"),
                pl.col("_k").mean().alias("value"), pl.col("_k").std().alias("std"))
           .collect())
    res = B.mean_ci(res, confidence=confidence)
    return _finish_periods(res, keys, period, cut, "orders / buyers with an order in the "
                           "period")


def average_order_value(data: Any, *, period: str = "year",
                        by: str | Sequence[str] | None = None, as_of: Any = None,
                        confidence: float = 0.95) -> pl.DataFrame:
    """Average order value (revenue / orders) per calendar period.

    Parameters
    ----------
    data : CRMData, or an orders frame (polars or pandas)
        The loaded data, or orders with canonical columns (then ``by`` names orders
        columns).
    period : {"month", "quarter", "year"}, default "year"
        Calendar period of each row.
    by : str or list of str, optional
        Customer attributes (with a CRMData) or orders columns to group by.
    as_of : date, datetime or str, optional
        Only events at or before it count; defaults to ``data.as_of`` or the latest event.
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    pl.DataFrame
        - period_start, period_end, the ``by`` columns
        - n: orders in the period
        - revenue: sum of ``orders.amount`` (after discount)
        - value: revenue / n
        - ci_low, ci_high, std_error: Student-t interval of the mean order amount
        - complete, definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.metrics import average_order_value
    >>> orders = pl.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 5, 1), datetime(2024, 2, 1)],
    ...     "amount": [10.0, 20.0, 30.0]})
    >>> average_order_value(orders)["value"].to_list()
    [20.0]
    """
    lf, _, cut, keys = _period_frame(data, "average_order_value", period, by, as_of)
    res = (lf.group_by(["period_start", *keys])
           .agg(pl.len().alias("n"), pl.col(S.AMOUNT).sum().alias("revenue"),
                pl.col(S.AMOUNT).mean().alias("value"), pl.col(S.AMOUNT).std().alias("std"))
           .collect())
    res = B.mean_ci(res, confidence=confidence)
    return _finish_periods(res, keys, period, cut, "sum(amount) / orders in the period")


def revenue_per_customer(data: Any, *, period: str = "year",
                         by: str | Sequence[str] | None = None, as_of: Any = None,
                         confidence: float = 0.95) -> pl.DataFrame:
    """Revenue per buyer in each calendar period.

    Parameters
    ----------
    data : CRMData, or an orders frame (polars or pandas)
        The loaded data, or orders with canonical columns (then ``by`` names orders
        columns).
    period : {"month", "quarter", "year"}, default "year"
        Calendar period of each row.
    by : str or list of str, optional
        Customer attributes (with a CRMData) or orders columns to group by.
    as_of : date, datetime or str, optional
        Only events at or before it count; defaults to ``data.as_of`` or the latest event.
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    pl.DataFrame
        - period_start, period_end, the ``by`` columns
        - n: buyers with an order in the period
        - revenue: their revenue in the period
        - value: revenue / n
        - ci_low, ci_high, std_error: Student-t interval of the mean revenue per buyer
        - complete, definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.metrics import revenue_per_customer
    >>> orders = pl.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 5, 1), datetime(2024, 2, 1)],
    ...     "amount": [10.0, 20.0, 30.0]})
    >>> revenue_per_customer(orders)["value"].to_list()
    [30.0]
    """
    lf, _, cut, keys = _period_frame(data, "revenue_per_customer", period, by, as_of)
    per = (lf.group_by(["period_start", *keys, S.CUSTOMER_ID])
           .agg(pl.col(S.AMOUNT).sum().alias("_r")))
    res = (per.group_by(["period_start", *keys])
           .agg(pl.len().alias("n"), pl.col("_r").sum().alias("revenue"),
                pl.col("_r").mean().alias("value"), pl.col("_r").std().alias("std"))
           .collect())
    res = B.mean_ci(res, confidence=confidence)
    return _finish_periods(res, keys, period, cut, "revenue in the period / buyers in the "
                           "period")


def inter_purchase_time(data: Any, *, by: str | Sequence[str] | None = None,
                        as_of: Any = None, confidence: float = 0.95) -> pl.DataFrame:
    """Days between a customer's consecutive purchase days.

    Parameters
    ----------
    data : CRMData, or an orders frame (polars or pandas)
        The loaded data, or orders with canonical columns (then ``by`` names orders
        columns).
    by : str or list of str, optional
        Customer attributes (with a CRMData) or orders columns to group by.
    as_of : date, datetime or str, optional
        Only events at or before it count; defaults to ``data.as_of`` or the latest event.
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    pl.DataFrame
        One row per ``by`` group:

        - the ``by`` columns
        - n: gaps measured (pairs of consecutive distinct order days)
        - customers: customers contributing at least one gap
        - value: mean gap in days
        - ci_low, ci_high, std_error: Student-t interval of the mean gap (gaps of the
          same customer are treated as independent, so the interval is too narrow when
          customers differ a lot)
        - median_days, p25_days, p75_days: quartiles of the gaps
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.metrics import inter_purchase_time
    >>> orders = pl.DataFrame({"customer_id": ["a", "a", "a", "b", "b"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 1, 11), datetime(2024, 1, 31),
    ...                    datetime(2024, 3, 1), datetime(2024, 3, 31)],
    ...     "amount": [1.0] * 5})
    >>> inter_purchase_time(orders).select("n", "value", "median_days")
    shape: (1, 3)
    ┌─────┬───────┬─────────────┐
    │ n   ┆ value ┆ median_days │
    │ --- ┆ ---   ┆ ---         │
    │ u32 ┆ f64   ┆ f64         │
    ╞═════╪═══════╪═════════════╡
    │ 3   ┆ 20.0  ┆ 20.0        │
    └─────┴───────┴─────────────┘
    """
    frame, customers, src = B.orders_and_customers(data, "inter_purchase_time")
    cut = B.resolve(src, as_of)
    keys = B.norm_by(by)
    days = _gap_days(B.attach(frame.lazy(), customers, keys)
                     .filter(pl.col(S.ORDERED_AT) <= cut), keys)
    res = B.group_agg(days, keys, [
        pl.len().alias("n"), pl.col(S.CUSTOMER_ID).n_unique().alias("customers"),
        pl.col("_gap").mean().alias("value"), pl.col("_gap").std().alias("std"),
        pl.col("_gap").median().alias("median_days"),
        pl.col("_gap").quantile(0.25, interpolation="linear").alias("p25_days"),
        pl.col("_gap").quantile(0.75, interpolation="linear").alias("p75_days")])
    res = B.with_all_groups(res, B.by_groups(customers, keys), keys, ["n", "customers"])
    out = B.mean_ci(res.collect(), confidence=confidence)
    out = out.with_columns(pl.lit("days between consecutive distinct order days of the "
                                  "same customer").alias("definition"))
    return out.sort(keys) if keys else out


def cross_line_share(data: Any, *, by: str | Sequence[str] | None = None, as_of: Any = None,
                     min_lines: int = 2, confidence: float = 0.95) -> pl.DataFrame:
    """Share of buyers who bought in at least ``min_lines`` product lines.

    Parameters
    ----------
    data : CRMData, or an orders frame (polars or pandas)
        The loaded data, or orders with canonical columns (then ``by`` names orders
        columns).
    by : str or list of str, optional
        Customer attributes (with a CRMData) or orders columns to group by.
    as_of : date, datetime or str, optional
        Only events at or before it count; defaults to ``data.as_of`` or the latest event.
    min_lines : int, default 2
        Distinct product lines a buyer must have bought from to count.
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    pl.DataFrame
        - the ``by`` columns
        - numerator: buyers with orders in >= ``min_lines`` distinct product lines
        - denominator: buyers
        - value, ci_low, ci_high: share and Wilson interval
        - mean_lines: average number of lines per buyer
        - definition

    Raises
    ------
    SchemaError
        When orders has no ``product_line`` column.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.metrics import cross_line_share
    >>> orders = pl.DataFrame({"customer_id": ["a", "a", "b", "b"],
    ...     "ordered_at": [datetime(2024, 1, d) for d in (1, 2, 3, 4)],
    ...     "amount": [1.0] * 4, "product_line": ["x", "y", "x", "x"]})
    >>> cross_line_share(orders)["value"].to_list()
    [0.5]
    """
    if not isinstance(min_lines, int) or min_lines < 2:
        raise ValueError(f"min_lines: expected an integer >= 2, got {min_lines!r}")
    frame, customers, src = B.orders_and_customers(data, "cross_line_share")
    B.require_column(frame, S.PRODUCT_LINE, S.ORDERS, "cross-line buying")
    cut = B.resolve(src, as_of)
    keys = B.norm_by(by)
    lines = frame.get_column(S.PRODUCT_LINE).drop_nulls().unique().sort().to_list()
    if len(lines) <= 32:
        # one "bought in this line" flag per line: cheaper than n_unique per customer
        count = pl.sum_horizontal([(pl.col(S.PRODUCT_LINE) == v).any().cast(pl.Int32)
                                   for v in lines]) if lines else pl.lit(0)
    else:
        count = pl.col(S.PRODUCT_LINE).drop_nulls().n_unique()
    per = (B.attach(frame.lazy(), customers, keys)
           .filter(pl.col(S.ORDERED_AT) <= cut)
           .group_by([S.CUSTOMER_ID, *keys])
           .agg(count.alias("_lines")))
    res = B.group_agg(per, keys, [(pl.col("_lines") >= min_lines).sum().alias("numerator"),
                                  pl.len().alias("denominator"),
                                  pl.col("_lines").mean().alias("mean_lines")])
    res = B.with_all_groups(res, B.by_groups(customers, keys), keys,
                            ["numerator", "denominator"])
    return B.finish_rate(res, keys, confidence=confidence,
                         definition=f"buyers with orders in >= {min_lines} product lines / "
                                    f"buyers")


def _purchase_days(lf: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Each customer's distinct order days, with ``_gap``: days since their previous
    order day (null on the first)."""
    return (lf.select(S.CUSTOMER_ID, *keys, pl.col(S.ORDERED_AT).dt.date().alias("_d"))
            .unique()
            .sort([S.CUSTOMER_ID, "_d"])
            .with_columns((pl.col("_d") - pl.col("_d").shift(1).over(S.CUSTOMER_ID))
                          .dt.total_days().cast(pl.Float64).alias("_gap")))


def _gap_days(lf: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Days between consecutive distinct order days of each customer (one row a gap)."""
    return _purchase_days(lf, keys).filter(pl.col("_gap").is_not_null())


def purchase_regularity(data: Any, *, by: str | Sequence[str] | None = None,
                        min_gaps: int = 2, steady_cv: float = 0.5, as_of: Any = None,
                        confidence: float = 0.95) -> pl.DataFrame:
    """Share of repeat buyers who buy at a steady rhythm.

    A customer's rhythm is the coefficient of variation (CV) of the days between their
    consecutive purchase days: standard deviation / mean. A buyer with a CV of at most
    ``steady_cv`` counts as steady. Only buyers with at least ``min_gaps`` gaps (at least
    ``min_gaps + 1`` purchase days) are judged. :func:`customer_regularity` gives the
    figures per customer.

    Parameters
    ----------
    data : pl.DataFrame, pandas.DataFrame or CRMData
        Orders with canonical columns, or a CRMData (then ``by`` may name customer
        attributes).
    by : str or list of str, optional
    min_gaps : int
        Gaps needed before a rhythm is judged (default 2: a standard deviation needs two).
    steady_cv : float
        Largest CV that counts as steady (default 0.5).
    as_of : optional
    confidence : float

    Returns
    -------
    pl.DataFrame
        One row per ``by`` group:

        - the ``by`` columns
        - numerator: judged buyers whose CV is at most ``steady_cv``
        - denominator: judged buyers
        - value, ci_low, ci_high: share of steady buyers and its Wilson interval
        - median_cv: median CV of the judged buyers
        - median_gap_days: median of the judged buyers' mean gaps
        - definition

    Notes
    -----
    If a customer buys at random moments at a constant rate (a Poisson process, as the
    NBD family of repeat-buying models assumes), the gaps are exponential and their CV is
    1. A CV well below 1 means the purchases follow a rhythm, such as a monthly
    restock. The CV of 0.5 is a rule of thumb: gaps that rarely stray more than half
    their mean from it. With few gaps the CV is noisy, so raise ``min_gaps`` when
    customers buy often.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.metrics import purchase_regularity
    >>> orders = pl.DataFrame({"customer_id": ["a"] * 4 + ["b"] * 4 + ["c"] * 2,
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 1, 31),
    ...                    datetime(2024, 3, 1), datetime(2024, 3, 31),
    ...                    datetime(2024, 1, 1), datetime(2024, 1, 2),
    ...                    datetime(2024, 3, 2), datetime(2024, 3, 4),
    ...                    datetime(2024, 1, 1), datetime(2024, 2, 1)],
    ...     "amount": [1.0] * 10})
    >>> purchase_regularity(orders).select("numerator", "denominator", "value")
    shape: (1, 3)
    ┌───────────┬─────────────┬───────┐
    │ numerator ┆ denominator ┆ value │
    │ ---       ┆ ---         ┆ ---   │
    │ i64       ┆ i64         ┆ f64   │
    ╞═══════════╪═════════════╪═══════╡
    │ 1         ┆ 2           ┆ 0.5   │
    └───────────┴─────────────┴───────┘
    """
    if not isinstance(min_gaps, int) or min_gaps < 2:
        raise ValueError(f"min_gaps: expected an integer >= 2 (a spread needs two gaps), "
                         f"got {min_gaps!r}")
    if not steady_cv > 0:
        raise ValueError(f"steady_cv: expected a positive number, got {steady_cv!r}")
    frame, customers, src = B.orders_and_customers(data, "purchase_regularity")
    cut = B.resolve(src, as_of)
    keys = B.norm_by(by)
    lf = B.attach(frame.lazy(), customers, keys).filter(pl.col(S.ORDERED_AT) <= cut)
    per = (_gap_days(lf, keys).group_by([S.CUSTOMER_ID, *keys])
           .agg(pl.len().alias("_n"), pl.col("_gap").mean().alias("_mean"),
                (pl.col("_gap").std() / pl.col("_gap").mean()).alias("_cv"))
           .filter(pl.col("_n") >= min_gaps))
    res = B.group_agg(per, keys, [(pl.col("_cv") <= steady_cv).sum().alias("numerator"),
                                  pl.len().alias("denominator"),
                                  pl.col("_cv").median().alias("median_cv"),
                                  pl.col("_mean").median().alias("median_gap_days")])
    res = B.with_all_groups(res, B.by_groups(customers, keys), keys,
                            ["numerator", "denominator"])
    return B.finish_rate(res, keys, confidence=confidence,
                         definition=f"buyers whose gaps between purchase days have a "
                                    f"coefficient of variation <= {steady_cv} / buyers with "
                                    f">= {min_gaps} gaps")


def customer_regularity(data: Any, *, as_of: Any = None) -> pl.DataFrame:
    """Per buyer, the rhythm of their purchases: gaps between purchase days and their CV.

    Parameters
    ----------
    data : pl.DataFrame, pandas.DataFrame or CRMData
    as_of : optional

    Returns
    -------
    pl.DataFrame
        One row per buyer, sorted by customer_id:

        - customer_id
        - purchase_days: distinct days with an order up to ``as_of``
        - gaps: purchase_days - 1
        - mean_gap_days, std_gap_days: mean and sample standard deviation of the gaps
          (null with fewer than 1 and 2 gaps)
        - cv: std_gap_days / mean_gap_days (null with fewer than 2 gaps); about 1 for
          purchases at random moments, near 0 for a fixed rhythm

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.metrics import customer_regularity
    >>> orders = pl.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 1, 11),
    ...                    datetime(2024, 1, 31), datetime(2024, 2, 1)],
    ...     "amount": [1.0] * 4})
    >>> customer_regularity(orders).select("customer_id", "gaps", "mean_gap_days",
    ...                                    pl.col("cv").round(4))
    shape: (2, 4)
    ┌─────────────┬──────┬───────────────┬────────┐
    │ customer_id ┆ gaps ┆ mean_gap_days ┆ cv     │
    │ ---         ┆ ---  ┆ ---           ┆ ---    │
    │ str         ┆ u32  ┆ f64           ┆ f64    │
    ╞═════════════╪══════╪═══════════════╪════════╡
    │ a           ┆ 2    ┆ 15.0          ┆ 0.4714 │
    │ b           ┆ 0    ┆ null          ┆ null   │
    └─────────────┴──────┴───────────────┴────────┘
    """
    frame, _, src = B.orders_and_customers(data, "customer_regularity")
    cut = B.resolve(src, as_of)
    # one pass over the distinct order days; mean and std skip the first day's null gap
    per = (_purchase_days(frame.lazy().filter(pl.col(S.ORDERED_AT) <= cut), [])
           .group_by(S.CUSTOMER_ID)
           .agg(pl.len().alias("purchase_days"),
                pl.col("_gap").mean().alias("mean_gap_days"),
                pl.col("_gap").std().alias("std_gap_days")))
    return (per.with_columns((pl.col("purchase_days") - 1).alias("gaps"),
                          (pl.col("std_gap_days") / pl.col("mean_gap_days")).alias("cv"))
            .select(S.CUSTOMER_ID, "purchase_days", "gaps", "mean_gap_days",
                    "std_gap_days", "cv")
            .sort(S.CUSTOMER_ID).collect())


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
