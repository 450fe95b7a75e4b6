"""Retention and defection: period defection against the 20-40 % band, cohort retention,
early-life churn and win-back potential."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from collections.abc import Sequence

import polars as pl

from loyaltylab._cohorts import period_index, period_start, retention_from_counts
from loyaltylab._util import period_every
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.metrics import _base as B

__all__ = ["cohort_retention", "defection_rate", "early_life_churn", "win_back_potential",
           "win_back_candidates"]

_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}
_PACK_MAX_BITS = 24
"""Widest period span (in bits) that cohort_retention packs into its sort key."""


def cohort_retention(orders: Any, *, period: str = "month") -> pl.DataFrame:
    """Cohort retention matrix in long form: of the customers who first bought in a
    period, the share who buy again N periods later.

    Parameters
    ----------
    orders : pl.DataFrame, pandas.DataFrame or CRMData
        Orders with ``customer_id`` and ``ordered_at``.
    period : {"week", "month", "quarter", "year"}
        Calendar period for cohorts and for counting activity.

    Returns
    -------
    pl.DataFrame
        One row per cohort and period since the cohort's start, for every period up to
        the last period with an order in the data (so a cohort with nobody active in a
        period still gets a row with active = 0):

        - cohort: start of the calendar period of the customer's first order
        - period: 0, 1, 2, ... periods since the cohort period
        - cohort_size: customers in the cohort
        - active: customers of the cohort with at least one order in that period
        - rate: active / cohort_size (1.0 at period 0)

    Notes
    -----
    This is "N-period" (bracket) retention with calendar buckets, the convention of
    Mixpanel's first-time ("birth") retention report and of Amplitude's N-day retention
    on strict calendar periods: a customer counts as retained in period N if they
    ordered *in* period N, not "in N or later" (Amplitude's unbounded retention).
    Retention is therefore not a funnel: a customer can be absent in period 2 and back
    in period 3. The cohort is defined by the first order in the data, so customers who
    bought before the data starts are misassigned to the first cohort; the last period
    is usually incomplete. Computed in polars: period index = year*12 + month (or the
    quarter/year/week equivalent), distinct (customer, period) pairs found by sorting one
    packed 64-bit key, the first period per customer, then counts per (cohort, period).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab.metrics import cohort_retention
    >>> orders = pl.DataFrame({"customer_id": ["a", "a", "b", "c", "c"],
    ...     "ordered_at": [datetime(2024, 1, 3), datetime(2024, 3, 9), datetime(2024, 1, 20),
    ...                    datetime(2024, 2, 2), datetime(2024, 3, 1)],
    ...     "amount": [1.0] * 5})
    >>> cohort_retention(orders).select("cohort", "period", "active", "rate")
    shape: (5, 4)
    ┌─────────────────────┬────────┬────────┬──────┐
    │ cohort              ┆ period ┆ active ┆ rate │
    │ ---                 ┆ ---    ┆ ---    ┆ ---  │
    │ datetime[μs]        ┆ i64    ┆ i64    ┆ f64  │
    ╞═════════════════════╪════════╪════════╪══════╡
    │ 2024-01-01 00:00:00 ┆ 0      ┆ 2      ┆ 1.0  │
    │ 2024-01-01 00:00:00 ┆ 1      ┆ 0      ┆ 0.0  │
    │ 2024-01-01 00:00:00 ┆ 2      ┆ 1      ┆ 0.5  │
    │ 2024-02-01 00:00:00 ┆ 0      ┆ 1      ┆ 1.0  │
    │ 2024-02-01 00:00:00 ┆ 1      ┆ 1      ┆ 1.0  │
    └─────────────────────┴────────┴────────┴──────┘
    """
    frame, _, _ = B.orders_and_customers(orders, "cohort_retention")
    counts = _cohort_counts(frame, period_index(S.ORDERED_AT, period))
    return retention_from_counts(counts, period)


def _cohort_counts(frame: pl.DataFrame, idx: pl.Expr) -> pl.DataFrame:
    """Customers active per (cohort period ``_c``, periods since ``period``): columns
    ``_c`` (i64), ``period`` (i64), ``active`` (i64).

    Each (customer, period) pair is packed into one 64-bit key: the customer's 64-bit id
    hash with its low ``bits`` bits replaced by the period offset, where ``bits`` is just
    enough for the span of periods in the data (6 bits for three years of months). One
    sort of that single column then gives the distinct pairs grouped by customer with
    periods ascending, so a customer's cohort is the period of their first key. This is
    about twice as fast as a two-column ``unique`` plus a window minimum. Should two
    customers share the truncated hash (odds about n**2 / 2**(65 - bits), 2e-6 for a
    million customers over three years of months), the distinct-customer count betrays
    it and the exact two-column route is taken instead.
    """
    base = (frame.lazy().select(pl.col(S.CUSTOMER_ID).hash().alias("_h"), idx.alias("_p"))
            .filter(pl.col("_p").is_not_null()).collect())
    if base.height == 0:
        return pl.DataFrame(schema={"_c": pl.Int64, "period": pl.Int64, "active": pl.Int64})
    lo, hi = base.select(pl.col("_p").min().alias("lo"), pl.col("_p").max().alias("hi")).row(0)
    bits = max(1, int(hi - lo).bit_length())
    if bits <= _PACK_MAX_BITS:
        step = 1 << bits
        keys = base.select((pl.col("_h") // step * step
                            + (pl.col("_p") - lo).cast(pl.UInt64)).alias("k")).to_series().sort()
        cust = pl.col("k") // step
        pairs = (pl.DataFrame({"k": keys}).lazy()
                 .filter((pl.col("k") != pl.col("k").shift(1)).fill_null(True))
                 .select(cust.alias("_cu"), ((pl.col("k") % step).cast(pl.Int64) + lo).alias("_p"))
                 .with_columns((pl.col("_cu") != pl.col("_cu").shift(1)).fill_null(True)
                               .alias("_new"))
                 .with_columns(pl.when("_new").then(pl.col("_p")).forward_fill().alias("_c"))
                 .collect())
        packed_ok = pairs.get_column("_new").sum() == base.get_column("_h").n_unique()
    else:
        packed_ok = False
    if packed_ok:
        act = pairs.lazy()
    else:  # exact route: distinct (hash, period) pairs and a window minimum per customer
        act = base.lazy().unique().with_columns(pl.col("_p").min().over("_h").alias("_c"))
    return (act.group_by("_c", (pl.col("_p") - pl.col("_c")).alias("period"))
            .agg(pl.len().cast(pl.Int64).alias("active")).collect())


def defection_rate(data: CRMData, *, period: str = "year",
                   by: str | Sequence[str] | None = None, as_of: Any = None,
                   method: str = "auto", confidence: float = 0.95) -> pl.DataFrame:
    """Defection (and retention) rate per calendar period, against the 20-40 % band.

    Parameters
    ----------
    data : CRMData
    period : {"month", "quarter", "year"}
    by : str or list of str, optional
        Customer attributes.
    as_of : optional
        Only periods that ended by then are reported.
    method : {"auto", "orders", "subscriptions"}
        ``"subscriptions"``: customers with a contract running at the period start who
        have none running at its end (contractual definition; gaps between spells of one
        customer are ignored: a customer counts from the first start to the last end).
        ``"orders"``: customers who bought in the previous period and not in this one
        (period-over-period definition for non-contractual businesses). ``"auto"`` uses
        subscriptions when the table is present, orders otherwise.
    confidence : float

    Returns
    -------
    pl.DataFrame
        One row per complete period (and ``by`` group):

        - period_start, period_end
        - the ``by`` columns
        - numerator: customers who defected in the period
        - denominator: customers at risk (see ``method``)
        - value: defection rate numerator / denominator; ci_low, ci_high (Wilson)
        - retention: 1 - value
        - annualized: 1 - (1 - value) ** periods_per_year (equals value for years)
        - band_low, band_high: 0.20 and 0.40, the annual defection typical of businesses
        - in_band: whether ``annualized`` lies within the band
        - method, definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3", "4", "5"],
    ...     "customer_id": ["a", "b", "c", "a", "c"],
    ...     "ordered_at": [datetime(2023, 3, 1), datetime(2023, 5, 1), datetime(2023, 7, 1),
    ...                    datetime(2024, 2, 1), datetime(2024, 9, 1)],
    ...     "amount": [1.0] * 5})
    >>> customers = pl.DataFrame({"customer_id": ["a", "b", "c"],
    ...     "acquired_at": [datetime(2023, 1, 1)] * 3})
    >>> d = CRMData(customers=customers, orders=orders, as_of=datetime(2025, 1, 1))
    >>> defection_rate(d).select("period_start", "numerator", "denominator", "value")
    shape: (1, 4)
    ┌─────────────────────┬───────────┬─────────────┬──────────┐
    │ period_start        ┆ numerator ┆ denominator ┆ value    │
    │ ---                 ┆ ---       ┆ ---         ┆ ---      │
    │ datetime[μs]        ┆ i64       ┆ i64         ┆ f64      │
    ╞═════════════════════╪═══════════╪═════════════╪══════════╡
    │ 2024-01-01 00:00:00 ┆ 1         ┆ 3           ┆ 0.333333 │
    └─────────────────────┴───────────┴─────────────┴──────────┘
    """
    B.check_crm(data, "defection_rate")
    if period not in _PER_YEAR:
        raise ValueError(f"period: expected 'month', 'quarter' or 'year', got {period!r}")
    if method not in ("auto", "orders", "subscriptions"):
        raise ValueError(f"method: expected 'auto', 'orders' or 'subscriptions', got "
                         f"{method!r}")
    if method == "auto":
        method = "subscriptions" if data.subscriptions is not None else "orders"
    cut = B.resolve(data, as_of)
    keys = B.norm_by(by)
    if method == "orders":
        idx = period_index(S.ORDERED_AT, period)
        act = (data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
               .select(S.CUSTOMER_ID, idx.alias("_p")).unique())
        at_risk = act.with_columns((pl.col("_p") + 1).alias("_p"))
        res = (at_risk.join(act.with_columns(pl.lit(True).alias("_kept")),
                            on=[S.CUSTOMER_ID, "_p"], how="left")
               .pipe(B.attach, data.customers, keys)
               .group_by(["_p", *keys])
               .agg(pl.col("_kept").is_null().sum().alias("numerator"),
                    pl.len().alias("denominator"))
               .with_columns(period_start(pl.col("_p"), period).alias("period_start"))
               .drop("_p"))
        definition = (f"customers with an order in the previous {period} and none in this "
                      f"{period} / customers with an order in the previous {period}")
    else:
        data.require(S.SUBSCRIPTIONS, purpose="defection_rate(method='subscriptions')")
        spans = (data.subscriptions.lazy().filter(pl.col(S.STARTED_AT) <= cut)
                 .group_by(S.CUSTOMER_ID)
                 .agg(pl.col(S.STARTED_AT).min().alias("_s"),
                      pl.when(pl.col(S.ENDED_AT).is_null().any()).then(None)
                      .otherwise(pl.col(S.ENDED_AT).max()).alias("_e")))
        lo, hi = spans.select(pl.col("_s").min(), pl.lit(cut)).collect().row(0)
        if lo is None:
            starts = pl.LazyFrame({"period_start": []}, schema={"period_start": pl.Datetime("us")})
        else:
            starts = pl.LazyFrame({"period_start": pl.datetime_range(
                lo, hi, period_every(period), eager=True).dt.truncate(period_every(period))
                .unique().sort()})
        res = (spans.join(starts, how="cross")
               .with_columns(B.period_end_expr("period_start", period).alias("_pe"))
               .filter((pl.col("_s") < pl.col("period_start"))
                       & (pl.col("_e").is_null() | (pl.col("_e") >= pl.col("period_start"))))
               .pipe(B.attach, data.customers, keys)
               .group_by(["period_start", *keys])
               .agg((pl.col("_e") < pl.col("_pe")).fill_null(False).sum()
                    .alias("numerator"),
                    pl.len().alias("denominator")))
        definition = (f"customers with a contract running at the {period} start whose last "
                      f"contract ended within the {period} / customers with a contract "
                      f"running at the {period} start")
    k = _PER_YEAR[period]
    res = (res.with_columns(B.period_end_expr("period_start", period).alias("period_end"))
           .filter(pl.col("period_end") <= cut))
    out = B.finish_rate(
        res, ["period_start", *keys], confidence=confidence, definition=definition,
        extra=[(1 - pl.col("value")).alias("retention"),
               (1 - (1 - pl.col("value")) ** k).alias("annualized"),
               pl.lit(B.BAND_LOW).alias("band_low"), pl.lit(B.BAND_HIGH).alias("band_high"),
               pl.lit(method).alias("method")])
    out = out.with_columns(((pl.col("annualized") >= B.BAND_LOW)
                            & (pl.col("annualized") <= B.BAND_HIGH)).alias("in_band"))
    return out.select("period_start", "period_end", *keys, *B.RATE_COLUMNS, "retention",
                      "annualized", "band_low", "band_high", "in_band", "method",
                      "definition")


def early_life_churn(data: CRMData, *, days: int = 90,
                     by: str | Sequence[str] | None = S.ACQUISITION_CHANNEL,
                     inactive_after: Any = "180d", as_of: Any = None,
                     confidence: float = 0.95) -> pl.DataFrame:
    """Share of new buyers who are lost within their first ``days`` days.

    Parameters
    ----------
    data : CRMData
    days : int
        Length of the early-life window after the first order (90 by default).
    by : str or list of str, optional
        Customer attributes; acquisition channel by default.
    inactive_after : str
        Inactivity that marks a customer as lost (default "180d").
    as_of : optional
    confidence : float

    Returns
    -------
    pl.DataFrame
        - the ``by`` columns
        - numerator: buyers with no order from day ``days`` after their first order on
          (their last order fell inside the early-life window)
        - denominator: buyers whose first order lies at least ``days`` +
          ``inactive_after`` before ``as_of`` (so the outcome is known)
        - value, ci_low, ci_high: early-life churn and Wilson interval
        - window_days, definition

    Notes
    -----
    Not a product-analytics convention; our definition for non-contractual data: a
    customer is lost early when no order follows the first ``days`` days, judged only for
    customers observed for ``days`` + ``inactive_after`` since their first order.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.load_sample()  # doctest: +SKIP
    >>> ll.metrics.early_life_churn(d).select("acquisition_channel", "value")  # doctest: +SKIP
    """
    B.check_crm(data, "early_life_churn")
    if not isinstance(days, int) or days <= 0:
        raise ValueError(f"days: expected a positive integer, got {days!r}")
    cut = B.resolve(data, as_of)
    keys = B.norm_by(by)
    lag = B.as_timedelta(inactive_after, "inactive_after")
    win = timedelta(days=days)
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    buy = (B.buyers(orders, cut)
           .filter(pl.col("first_order") + win + lag <= cut)
           .with_columns((pl.col("first_order") + win).alias("_at")))
    buy = B.alive_after(buy, orders, at="_at")
    res = B.group_agg(B.attach(buy, data.customers, keys), keys,
                      [(~pl.col("retained")).sum().alias("numerator"),
                       pl.len().alias("denominator")])
    res = B.with_all_groups(res, B.by_groups(data.customers, keys), keys,
                            ["numerator", "denominator"])
    return B.finish_rate(res, keys, confidence=confidence,
                         definition=f"buyers with no order from day {days} after the first "
                                    f"order on / buyers observed >= {days}d + "
                                    f"{lag.days}d",
                         extra=[pl.lit(days).alias("window_days")])


def _lapse_frame(data: CRMData, inactive_after, lookback, as_of):
    cut = B.resolve(data, as_of)
    lag = B.as_timedelta(inactive_after, "inactive_after")
    back = B.as_timedelta(lookback, "lookback")
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    buy = B.buyers(orders, cut).with_columns(
        (pl.col("last_order") <= cut - lag).alias("lapsed"))
    rev = (orders.join(buy.select(S.CUSTOMER_ID, "last_order"), on=S.CUSTOMER_ID)
           .filter(pl.col(S.ORDERED_AT) > pl.col("last_order") - back)
           .group_by(S.CUSTOMER_ID).agg(pl.col(S.AMOUNT).sum().alias("revenue_last_year")))
    buy = (buy.join(rev, on=S.CUSTOMER_ID, how="left")
           .with_columns(pl.col("revenue_last_year").fill_null(0.0),
                         B.days_between("last_order", pl.lit(cut)).alias("days_since")))
    return buy, cut, lag, back


def win_back_potential(data: CRMData, *, inactive_after: Any = "180d",
                       lookback: Any = "365d", by: str | Sequence[str] | None = None,
                       as_of: Any = None, confidence: float = 0.95) -> pl.DataFrame:
    """Lapsed customers and the revenue they used to bring.

    Parameters
    ----------
    data : CRMData
    inactive_after : str
        A buyer whose last order is at least this long before ``as_of`` is lapsed.
    lookback : str
        Revenue window before each customer's last order ("what they used to bring").
    by, as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        - the ``by`` columns
        - numerator: lapsed buyers; denominator: all buyers
        - value, ci_low, ci_high: lapsed share and Wilson interval
        - lapsed_revenue: revenue the lapsed customers brought in the ``lookback`` before
          their last order (the revenue at stake per year when ``lookback`` = 365d)
        - revenue_per_lapsed: lapsed_revenue / numerator
        - active_revenue_per_customer: the same window's revenue per active buyer
        - definition

    Notes
    -----
    Our definition (no product-analytics standard exists): lapsed = no order for
    ``inactive_after``; revenue at stake = revenue in the ``lookback`` before the last
    order.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 2, 1), datetime(2024, 11, 1)],
    ...     "amount": [10.0, 30.0, 5.0]})
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 2})
    >>> d = CRMData(customers=customers, orders=orders, as_of=datetime(2024, 12, 1))
    >>> win_back_potential(d).select("numerator", "denominator", "lapsed_revenue")
    shape: (1, 3)
    ┌───────────┬─────────────┬────────────────┐
    │ numerator ┆ denominator ┆ lapsed_revenue │
    │ ---       ┆ ---         ┆ ---            │
    │ i64       ┆ i64         ┆ f64            │
    ╞═══════════╪═════════════╪════════════════╡
    │ 1         ┆ 2           ┆ 40.0           │
    └───────────┴─────────────┴────────────────┘
    """
    B.check_crm(data, "win_back_potential")
    keys = B.norm_by(by)
    buy, cut, lag, back = _lapse_frame(data, inactive_after, lookback, as_of)
    res = B.group_agg(B.attach(buy, data.customers, keys), keys, [
        pl.col("lapsed").sum().alias("numerator"), pl.len().alias("denominator"),
        pl.col("revenue_last_year").filter(pl.col("lapsed")).sum().alias("lapsed_revenue"),
        pl.col("revenue_last_year").filter(~pl.col("lapsed")).mean()
        .alias("active_revenue_per_customer")])
    res = B.with_all_groups(res, B.by_groups(data.customers, keys), keys,
                            ["numerator", "denominator", "lapsed_revenue"])
    return B.finish_rate(
        res, keys, confidence=confidence,
        definition=f"buyers with no order in the last {lag.days}d / buyers; revenue = "
                   f"{back.days}d before the last order",
        extra=[pl.when(pl.col("numerator") > 0)
               .then(pl.col("lapsed_revenue") / pl.col("numerator"))
               .alias("revenue_per_lapsed")])


def win_back_candidates(data: CRMData, *, inactive_after: Any = "180d", lookback: Any = "365d",
                        as_of: Any = None, top: int | None = None) -> pl.DataFrame:
    """The lapsed customers, most valuable first: a call list for a win-back campaign.

    Parameters
    ----------
    data : CRMData
        Loaded data with an orders table.
    inactive_after : str or int, default "180d"
        Time without an order after which a customer counts as lapsed.
    lookback : str or int, default "365d"
        Span before the last order over which ``revenue_last_year`` is summed.
    as_of : date, datetime or str, optional
        The moment the call list is drawn up; defaults to ``data.as_of``.
    top : int, optional
        Keep only the first ``top`` customers.

    Returns
    -------
    pl.DataFrame
        - customer_id (pseudonymise before sharing outside the firm)
        - first_order, last_order, days_since: dates and days since the last order
        - n_orders, revenue: lifetime orders and revenue
        - revenue_last_year: revenue in the ``lookback`` before the last order

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> orders = pl.DataFrame({"order_id": ["1", "2"], "customer_id": ["a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 1), datetime(2024, 11, 1)],
    ...     "amount": [10.0, 5.0]})
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 2})
    >>> d = CRMData(customers=customers, orders=orders, as_of=datetime(2024, 12, 1))
    >>> win_back_candidates(d)["customer_id"].to_list()
    ['a']
    """
    B.check_crm(data, "win_back_candidates")
    buy, *_ = _lapse_frame(data, inactive_after, lookback, as_of)
    out = (buy.filter(pl.col("lapsed"))
           .select(S.CUSTOMER_ID, "first_order", "last_order", "days_since", "n_orders",
                   "revenue", "revenue_last_year")
           .sort(["revenue_last_year", S.CUSTOMER_ID], descending=[True, False]))
    if top is not None:
        out = out.head(top)
    return out.collect()


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
