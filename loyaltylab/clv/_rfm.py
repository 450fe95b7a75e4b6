"""Recency-frequency-monetary summaries of a transaction log (the input of the CLV models)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

import polars as pl

from loyaltylab._units import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR, US_PER_DAY
from loyaltylab._util import to_datetime
from loyaltylab.data import schema as S

__all__ = ["rfm_summary", "holdout_dates", "HoldoutDates", "FREQUENCY", "RECENCY", "T",
           "MONETARY_VALUE", "FREQUENCY_HOLDOUT",
           "MONETARY_VALUE_HOLDOUT", "DURATION_HOLDOUT", "PERIODS", "WEIGHTS", "TIME_UNITS"]

FREQUENCY = "frequency"
"""Repeat purchases: purchase periods after the first one."""
RECENCY = "recency"
"""Time from the first to the last purchase, in the summary's time unit."""
T = "T"
"""Time from the first purchase to the end of observation (calibration end)."""
MONETARY_VALUE = "monetary_value"
"""Mean value of the repeat purchases (0 for customers without a repeat purchase)."""
FREQUENCY_HOLDOUT = "frequency_holdout"
MONETARY_VALUE_HOLDOUT = "monetary_value_holdout"
DURATION_HOLDOUT = "duration_holdout"
PERIODS = "periods"
"""BG/BB: number of repeat-purchase opportunities after the first."""
WEIGHTS = "weights"
"""Number of customers sharing a row (compressed data such as the donations table)."""

TIME_UNITS = {"D": 1.0, "W": DAYS_PER_WEEK, "M": DAYS_PER_MONTH, "Y": DAYS_PER_YEAR}
"""Days per time unit: day, week, month (30.44 days) and year (365.25 days)."""
_TRUNCATE = {"D": "1d", "W": "1w", "M": "1mo", "Y": "1y"}


def _unit_days(time_unit: str | float, *, name: str) -> float:
    if isinstance(time_unit, (int, float)) and not isinstance(time_unit, bool):
        if time_unit <= 0:
            raise ValueError(f"{name}: must be a positive number of days, got {time_unit!r}")
        return float(time_unit)
    if time_unit not in TIME_UNITS:
        raise ValueError(f"{name}: expected one of {sorted(TIME_UNITS)} or a number of "
                         f"days, got {time_unit!r}")
    return TIME_UNITS[time_unit]


def _orders_lazy(orders: Any, monetary: bool) -> pl.LazyFrame:
    if hasattr(orders, "orders") and hasattr(orders, "customers"):  # CRMData
        orders = orders.orders
    if isinstance(orders, pl.LazyFrame):
        lf = orders
    elif isinstance(orders, pl.DataFrame):
        lf = orders.lazy()
    elif type(orders).__module__.startswith("pandas"):
        lf = pl.from_pandas(orders).lazy()
    else:
        raise TypeError(f"orders: expected a CRMData, a polars or pandas frame, got "
                        f"{type(orders).__name__}")
    names = lf.collect_schema().names()
    need = [S.CUSTOMER_ID, S.ORDERED_AT] + ([S.AMOUNT] if monetary else [])
    missing = [c for c in need if c not in names]
    if missing:
        raise ValueError(f"orders: missing column(s) {missing}; found {names}. Map your "
                         f"columns to the canonical names (loyaltylab.data.schema) or pass "
                         f"monetary=False when there is no amount column")
    schema = lf.collect_schema()
    ts = pl.col(S.ORDERED_AT)
    dt = schema[S.ORDERED_AT]
    if dt == pl.String:
        # ISO text such as lifelines' and lifetimes' example files ship: parse it, and
        # stop (counting the rows) when some of it is not a date
        ts = ts.str.strip_chars().str.to_datetime(time_unit="us", strict=False)
        bad = lf.select((ts.is_null() & pl.col(S.ORDERED_AT).is_not_null()).sum()).collect().item()
        if bad:
            raise ValueError(f"orders.{S.ORDERED_AT}: {bad:,} rows are text that is not a "
                             f"date in one ISO format (such as '2024-01-31' or "
                             f"'2024-01-31 14:05:00'); parse the column first, e.g. "
                             f"pl.col('{S.ORDERED_AT}').str.to_datetime(format=...)")
    elif dt.is_temporal() and dt != pl.Duration and dt != pl.Time:
        ts = ts.cast(pl.Datetime("us"))
    else:
        raise TypeError(f"orders.{S.ORDERED_AT}: expected dates or datetimes, got {dt}; pass "
                        f"the order dates (ISO text is parsed)")
    cols = [pl.col(S.CUSTOMER_ID), ts]
    if monetary:
        cols.append(pl.col(S.AMOUNT).cast(pl.Float64))
    return lf.select(cols)


def _period_day(ts: pl.Expr, purchase_period: str) -> pl.Expr:
    """Day number (days since 1970-01-01) of the start of the purchase period of ``ts``."""
    days = ts.cast(pl.Datetime("us")).cast(pl.Int64) // US_PER_DAY
    if purchase_period == "D":
        return days
    if purchase_period == "W":  # 1970-01-01 was a Thursday; weeks start on Monday
        return (days + 3) // 7 * 7 - 3
    return ts.dt.truncate(_TRUNCATE[purchase_period]).cast(pl.Int64) // US_PER_DAY


def _iso(day: int) -> str:
    return (datetime(1970, 1, 1) + timedelta(days=day)).strftime("%Y-%m-%d")


def rfm_summary(orders: Any, *, time_unit: str | float = "W", purchase_period: str = "D",
                observation_end: Any = None, calibration_end: Any = None,
                monetary: bool = True, lazy: bool = False) -> pl.DataFrame | pl.LazyFrame:
    """Summarise a transaction log into one frequency/recency/T row per customer.

    Orders in the same purchase period (by default the same calendar day) count as one
    purchase, whose value is their sum. This follows Fader, Hardie & Lee (2005) and the
    ``lifetimes`` package (``summary_data_from_transaction_data`` with ``freq=purchase_period``
    and ``freq_multiplier`` equal to the days per ``time_unit``).

    Parameters
    ----------
    orders : CRMData, polars DataFrame/LazyFrame or pandas DataFrame
        Canonical orders: ``customer_id``, ``ordered_at`` and (when ``monetary``) ``amount``.
        ``ordered_at`` may be dates, datetimes or ISO text ("2024-01-31").
    time_unit : {"D", "W", "M", "Y"} or float, default "W"
        Unit of recency and T: day, week (7 days), month (30.44 days), year (365.25 days),
        or a number of days. Fractional values are kept (a purchase 17 days after the
        first has recency 2.43 weeks).
    purchase_period : {"D", "W", "M", "Y"}, default "D"
        Orders falling in the same period are one purchase; times are measured between the
        starts of the periods (weeks start on Monday).
    observation_end : date, datetime or ISO string, optional
        Last day observed; later orders are ignored. Default: the latest order.
    calibration_end : date, datetime or ISO string, optional
        End of the calibration period. When given, frequency/recency/T describe the
        calibration period only, customers whose first purchase is later are left out, and
        the holdout columns are added.
    monetary : bool, default True
        Compute the monetary columns (needs ``amount``).
    lazy : bool, default False
        Return the polars LazyFrame instead of collecting it.

    Returns
    -------
    polars.DataFrame
        One row per customer, sorted by customer:

        - ``customer_id``: the customer.
        - ``frequency``: repeat purchases (purchase periods after the first), Int64.
        - ``recency``: time from the first to the last purchase, in ``time_unit``.
        - ``T``: time from the first purchase to the end of observation (or calibration).
        - ``monetary_value``: mean value of the repeat purchases; 0 without repeats.
        - ``frequency_holdout`` (with ``calibration_end``): purchases in the holdout.
        - ``monetary_value_holdout`` (with ``calibration_end``): mean holdout purchase
          value; 0 without holdout purchases.
        - ``duration_holdout`` (with ``calibration_end``): holdout length in ``time_unit``.

    Raises
    ------
    ValueError
        Missing columns, an unknown time unit, order dates given as text that is not ISO
        dates, a calibration end not before the observation end, or a calibration
        (or observation) end before the first order.

    Notes
    -----
    The computation is one polars lazy query (group by customer and purchase period, then
    by customer), so it streams logs larger than memory when collected with the streaming
    engine.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy
    way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> orders = pl.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 1, 1), datetime(2024, 1, 15),
    ...                    datetime(2024, 1, 8)],
    ...     "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> rfm_summary(orders, observation_end="2024-01-29")
    shape: (2, 5)
    ┌─────────────┬───────────┬─────────┬─────┬────────────────┐
    │ customer_id ┆ frequency ┆ recency ┆ T   ┆ monetary_value │
    │ ---         ┆ ---       ┆ ---     ┆ --- ┆ ---            │
    │ str         ┆ i64       ┆ f64     ┆ f64 ┆ f64            │
    ╞═════════════╪═══════════╪═════════╪═════╪════════════════╡
    │ a           ┆ 1         ┆ 2.0     ┆ 4.0 ┆ 20.0           │
    │ b           ┆ 0         ┆ 0.0     ┆ 3.0 ┆ 0.0            │
    └─────────────┴───────────┴─────────┴─────┴────────────────┘
    """
    unit = _unit_days(time_unit, name="time_unit")
    if purchase_period not in _TRUNCATE:
        raise ValueError(f"purchase_period: expected one of {sorted(_TRUNCATE)}, got "
                         f"{purchase_period!r}")
    lf = _orders_lazy(orders, monetary)
    # purchase periods as integer day numbers (start of the period, days since 1970-01-01)
    lf = lf.with_columns(_period_day(pl.col(S.ORDERED_AT), purchase_period).alias("_d"))

    def _day(value: Any, name: str) -> int:
        d = to_datetime(value, name=name)
        return int(pl.select(_period_day(pl.lit(d, dtype=pl.Datetime("us")),
                                         purchase_period).alias("_d")).item())

    first, last = lf.select(pl.col("_d").min().alias("a"),
                            pl.col("_d").max().alias("b")).collect().row(0)
    if first is None:
        raise ValueError("orders: the table is empty; rfm_summary needs at least one order")
    end = last if observation_end is None else _day(observation_end, "observation_end")
    cal = _day(calibration_end, "calibration_end") if calibration_end is not None else end
    if cal > end:
        raise ValueError(f"calibration_end ({_iso(cal)}) is after observation_end "
                         f"({_iso(end)}); pick a calibration end inside the observation")
    if cal < first:
        what = "calibration_end" if calibration_end is not None else "observation_end"
        raise ValueError(f"{what} ({_iso(cal)}) is before the first order ({_iso(first)}), "
                         f"so no customer has a purchase to summarise; pick a {what} "
                         f"between {_iso(first)} and {_iso(last)}")

    d = pl.col("_d")
    calib = lf.filter(d <= cal)
    aggs = [d.n_unique().alias("_n"), d.min().alias("_first"), d.max().alias("_last")]
    if monetary:
        aggs.append(pl.col(S.AMOUNT).sum().alias("_total"))
    summ = calib.group_by(S.CUSTOMER_ID).agg(aggs)
    if monetary:
        # value of the first purchase: join back on the first day (faster in polars than a
        # filtered aggregation inside the group-by)
        first_value = (calib.join(summ.select(S.CUSTOMER_ID, "_first"),
                                  left_on=[S.CUSTOMER_ID, "_d"],
                                  right_on=[S.CUSTOMER_ID, "_first"], how="inner")
                       .group_by(S.CUSTOMER_ID).agg(pl.col(S.AMOUNT).sum().alias("_first_value")))
        summ = summ.join(first_value, on=S.CUSTOMER_ID, how="left")
    freq = (pl.col("_n") - 1).cast(pl.Int64)
    out = [pl.col(S.CUSTOMER_ID), freq.alias(FREQUENCY),
           ((pl.col("_last") - pl.col("_first")).cast(pl.Float64) / unit).alias(RECENCY),
           ((cal - pl.col("_first")).cast(pl.Float64) / unit).alias(T)]
    if monetary:
        out.append(pl.when(freq > 0)
                   .then((pl.col("_total") - pl.col("_first_value")) / freq)
                   .otherwise(0.0).alias(MONETARY_VALUE))
    summ = summ.select(out)
    if calibration_end is not None:
        hold = (lf.filter((d > cal) & (d <= end))
                .group_by(S.CUSTOMER_ID)
                .agg(d.n_unique().cast(pl.Int64).alias(FREQUENCY_HOLDOUT),
                     *([pl.col(S.AMOUNT).sum().alias("_hold_total")] if monetary else [])))
        summ = (summ.join(hold, on=S.CUSTOMER_ID, how="left")
                .with_columns(pl.col(FREQUENCY_HOLDOUT).fill_null(0),
                              pl.lit((end - cal) / unit).alias(DURATION_HOLDOUT)))
        if monetary:
            summ = summ.with_columns(
                (pl.col("_hold_total") / pl.col(FREQUENCY_HOLDOUT)).fill_null(0.0)
                .fill_nan(0.0).alias(MONETARY_VALUE_HOLDOUT)).select(
                S.CUSTOMER_ID, FREQUENCY, RECENCY, T, MONETARY_VALUE, FREQUENCY_HOLDOUT,
                MONETARY_VALUE_HOLDOUT, DURATION_HOLDOUT)
    summ = summ.sort(S.CUSTOMER_ID)
    return summ if lazy else summ.collect()


class HoldoutDates(NamedTuple):
    """The two dates of a calibration/holdout check (:func:`holdout_dates`); a pair that
    unpacks as ``cal, end = holdout_dates(data)``.

    Attributes
    ----------
    calibration_end : datetime
        Models learn from the orders up to here.
    observation_end : datetime
        Their predictions are checked on the orders after the calibration end, up to here.
    """

    calibration_end: datetime
    observation_end: datetime


def holdout_dates(orders: Any, *, calibration_end: Any = None,
                  observation_end: Any = None) -> HoldoutDates:
    """The calibration end and observation end of a calibration/holdout check: by default
    the first half of the order history to learn from and the second half to check on.

    Fader, Hardie & Lee (2005) fit their models to the first 39 weeks of CDNOW's 78 and
    checked the forecasts on the other 39. On data without a natural split, this splits
    the history in the same way: halfway between the first order and the end of
    observation.

    Parameters
    ----------
    orders : CRMData, polars or pandas frame
        Orders with ``customer_id`` and ``ordered_at``.
    calibration_end : date, datetime or ISO string, optional
        Kept as given (as a datetime). Default: midnight at the start of the day halfway
        between the first order and ``observation_end``.
    observation_end : date, datetime or ISO string, optional
        Kept as given. Default: the data's ``as_of`` (CRMData), else the latest order.

    Returns
    -------
    HoldoutDates
        A named pair ``(calibration_end, observation_end)`` of datetimes, to pass to
        :func:`rfm_summary`, :func:`repeat_tracking` and :func:`holdout_comparison`.

    Raises
    ------
    ValueError
        When there are no orders, the observation end is before the first order, or the
        calibration end is after the observation end or before the day of the first order.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.clv import holdout_dates
    >>> orders = pl.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 5, 1), datetime(2024, 12, 31)]})
    >>> cal, end = holdout_dates(orders)
    >>> f"{cal:%Y-%m-%d}", f"{end:%Y-%m-%d}"
    ('2024-07-01', '2024-12-31')
    >>> holdout_dates(orders, calibration_end="2024-06-30").calibration_end
    datetime.datetime(2024, 6, 30, 0, 0)
    """
    lf = _orders_lazy(orders, monetary=False)
    first, last = lf.select(pl.col(S.ORDERED_AT).min().alias("a"),
                            pl.col(S.ORDERED_AT).max().alias("b")).collect().row(0)
    if first is None:
        raise ValueError("orders: the table is empty; a calibration/holdout split needs "
                         "orders")
    if observation_end is not None:
        end = to_datetime(observation_end, name="observation_end")
    else:
        end = getattr(orders, "as_of", None) or last
    if calibration_end is not None:
        cal = to_datetime(calibration_end, name="calibration_end")
    else:
        mid = first + (end - first) / 2
        cal = datetime(mid.year, mid.month, mid.day)
    if end < first:
        raise ValueError(f"observation_end ({end:%Y-%m-%d %H:%M}) is before the first order "
                         f"({first:%Y-%m-%d %H:%M}); pick a date after it")
    if not datetime(first.year, first.month, first.day) <= cal <= end:
        raise ValueError(f"calibration_end ({cal:%Y-%m-%d %H:%M}) must lie between the day "
                         f"of the first order ({first:%Y-%m-%d}) and observation_end "
                         f"({end:%Y-%m-%d %H:%M}); pick a date in between")
    return HoldoutDates(cal, end)
