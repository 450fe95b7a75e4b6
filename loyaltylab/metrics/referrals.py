"""Referral metrics: referral rate, referrals per customer, value of referred customers."""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.metrics import _base as B

__all__ = ["referral_rate", "referrals_per_customer", "referred_value"]


def _base_customers(data: CRMData, cut, base: str) -> pl.LazyFrame:
    if base == "buyers":
        return B.buyers(data.orders.lazy(), cut).select(S.CUSTOMER_ID)
    if base == "all":
        return (data.customers.lazy().filter(pl.col(S.ACQUIRED_AT) <= cut)
                .select(S.CUSTOMER_ID))
    raise ValueError(f"base: expected 'buyers' or 'all', got {base!r}")


def _referrals(data: CRMData, fn: str, cut, window) -> tuple[pl.LazyFrame, str]:
    B.check_crm(data, fn)
    data.require(S.REFERRALS, purpose=fn.replace("_", " "))
    lf = data.referrals.lazy().filter(pl.col(S.REFERRED_AT) <= cut)
    span = "all time"
    if window is not None:
        start, _ = B.window_bounds(cut, window)
        lf = lf.filter(pl.col(S.REFERRED_AT) > start)
        span = f"the last {B.as_timedelta(window, 'window').days}d"
    return lf, span


def referral_rate(data: CRMData, *, by: str | Sequence[str] | None = None,
                  window: Any = None, base: str = "buyers", as_of: Any = None,
                  confidence: float = 0.95) -> pl.DataFrame:
    """Share of customers who referred at least one new customer.

    Parameters
    ----------
    data : CRMData
        Needs the referrals table.
    by : str or list of str, optional
        Customer attributes (of the referrer).
    window : str, optional
        Count only referrals in this window before ``as_of`` (default: all up to as_of).
    base : {"buyers", "all"}
        Denominator: customers with an order up to ``as_of`` (default) or every customer
        acquired by then.
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        - the ``by`` columns
        - numerator: customers of the base who made at least one referral
        - denominator: customers in the base
        - value, ci_low, ci_high: referral rate and Wilson interval
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b", "c", "d"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 4})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3", "4"],
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "ordered_at": [datetime(2024, 1, 2)] * 4, "amount": [1.0] * 4})
    >>> referrals = pl.DataFrame({"referrer_id": ["a", "a"], "referred_id": ["c", "d"],
    ...     "referred_at": [datetime(2024, 1, 1)] * 2})
    >>> d = CRMData(customers=customers, orders=orders, referrals=referrals,
    ...             as_of=datetime(2024, 6, 1))
    >>> referral_rate(d).select("numerator", "denominator", "value")
    shape: (1, 3)
    ┌───────────┬─────────────┬───────┐
    │ numerator ┆ denominator ┆ value │
    │ ---       ┆ ---         ┆ ---   │
    │ i64       ┆ i64         ┆ f64   │
    ╞═══════════╪═════════════╪═══════╡
    │ 1         ┆ 4           ┆ 0.25  │
    └───────────┴─────────────┴───────┘
    """
    cut = B.resolve(data, as_of)
    refs, span = _referrals(data, "referral_rate", cut, window)
    keys = B.norm_by(by)
    who = refs.select(pl.col(S.REFERRER_ID).alias(S.CUSTOMER_ID)).unique().with_columns(
        pl.lit(True).alias("_ref"))
    pop = (_base_customers(data, cut, base).join(who, on=S.CUSTOMER_ID, how="left")
           .pipe(B.attach, data.customers, keys))
    res = B.group_agg(pop, keys, [pl.col("_ref").is_not_null().sum().alias("numerator"),
                                  pl.len().alias("denominator")])
    res = B.with_all_groups(res, B.by_groups(data.customers, keys), keys,
                            ["numerator", "denominator"])
    return B.finish_rate(res, keys, confidence=confidence,
                         definition=f"{base} who referred >= 1 customer in {span} / {base}")


def referrals_per_customer(data: CRMData, *, by: str | Sequence[str] | None = None,
                           window: Any = None, base: str = "buyers", as_of: Any = None,
                           confidence: float = 0.95) -> pl.DataFrame:
    """Referrals made per customer of the base.

    Parameters
    ----------
    data : CRMData
        Loaded data with a referrals table.
    by : str or list of str, optional
        Customer attributes (with a CRMData) or orders columns to group by.
    window : str, optional
        Only referrals within this duration before ``as_of`` count ("365d"); all when
        omitted.
    base : str, default "buyers"
        "buyers": customers with an order up to ``as_of``; "all": every customer.
    as_of : date, datetime or str, optional
        Only events at or before it count; defaults to ``data.as_of`` or the latest event.
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    pl.DataFrame
        - the ``by`` columns
        - referrals: referrals made by customers of the base
        - customers: customers in the base
        - value: referrals / customers
        - ci_low, ci_high: exact (Garwood) Poisson interval
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b", "c", "d"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 4})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3", "4"],
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "ordered_at": [datetime(2024, 1, 2)] * 4, "amount": [1.0] * 4})
    >>> referrals = pl.DataFrame({"referrer_id": ["a", "a"], "referred_id": ["c", "d"],
    ...     "referred_at": [datetime(2024, 1, 1)] * 2})
    >>> d = CRMData(customers=customers, orders=orders, referrals=referrals,
    ...             as_of=datetime(2024, 6, 1))
    >>> referrals_per_customer(d)["value"].to_list()
    [0.5]
    """
    cut = B.resolve(data, as_of)
    refs, span = _referrals(data, "referrals_per_customer", cut, window)
    keys = B.norm_by(by)
    made = (refs.group_by(pl.col(S.REFERRER_ID).alias(S.CUSTOMER_ID))
            .agg(pl.len().alias("_n")))
    pop = (_base_customers(data, cut, base).join(made, on=S.CUSTOMER_ID, how="left")
           .pipe(B.attach, data.customers, keys))
    res = B.group_agg(pop, keys, [pl.col("_n").fill_null(0).sum().cast(pl.Int64)
                                  .alias("referrals"),
                                  pl.len().cast(pl.Int64).alias("customers")])
    res = B.with_all_groups(res, B.by_groups(data.customers, keys), keys,
                            ["referrals", "customers"]).collect()
    out = B.poisson_ci(res, "referrals", "customers", confidence=confidence)
    out = out.with_columns(pl.lit(f"referrals made in {span} by {base} / {base}")
                           .alias("definition"))
    return out.sort(keys) if keys else out


def referred_value(data: CRMData, *, as_of: Any = None,
                   confidence: float = 0.95) -> pl.DataFrame:
    """Value of referred customers against the others.

    Parameters
    ----------
    data : CRMData
        Needs the referrals table.
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        Two rows, ``group`` = "referred" and "other" (customers acquired by ``as_of``):

        - group
        - customers: customers in the group
        - buyers: those with at least one order
        - n: customers (the unit of the mean)
        - value: revenue per customer up to ``as_of``
        - ci_low, ci_high, std_error: Student-t interval of the mean
        - orders_per_customer: mean orders per customer
        - repeat_share: share of buyers with two or more orders
        - p_value: Welch t-test of equal mean revenue (same on both rows)
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b", "c", "d"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 4})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3", "4"],
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "ordered_at": [datetime(2024, 1, 2)] * 4, "amount": [10.0, 20.0, 30.0, 50.0]})
    >>> referrals = pl.DataFrame({"referrer_id": ["a", "a"], "referred_id": ["c", "d"],
    ...     "referred_at": [datetime(2024, 1, 1)] * 2})
    >>> d = CRMData(customers=customers, orders=orders, referrals=referrals,
    ...             as_of=datetime(2024, 6, 1))
    >>> referred_value(d).select("group", "customers", "value")
    shape: (2, 3)
    ┌──────────┬───────────┬───────┐
    │ group    ┆ customers ┆ value │
    │ ---      ┆ ---       ┆ ---   │
    │ str      ┆ i64       ┆ f64   │
    ╞══════════╪═══════════╪═══════╡
    │ referred ┆ 2         ┆ 40.0  │
    │ other    ┆ 2         ┆ 15.0  │
    └──────────┴───────────┴───────┘
    """
    cut = B.resolve(data, as_of)
    refs, _ = _referrals(data, "referred_value", cut, None)
    referred = refs.select(pl.col(S.REFERRED_ID).alias(S.CUSTOMER_ID)).unique().with_columns(
        pl.lit("referred").alias("group"))
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    per = (data.customers.lazy().filter(pl.col(S.ACQUIRED_AT) <= cut).select(S.CUSTOMER_ID)
           .join(referred, on=S.CUSTOMER_ID, how="left")
           .with_columns(pl.col("group").fill_null("other"))
           .join(B.buyers(orders, cut).select(S.CUSTOMER_ID, "n_orders", "revenue"),
                 on=S.CUSTOMER_ID, how="left")
           .with_columns(pl.col("n_orders").fill_null(0), pl.col("revenue").fill_null(0.0))
           .collect())
    rows = []
    samples = {}
    for g in ("referred", "other"):
        sub = per.filter(pl.col("group") == g)
        rev = sub.get_column("revenue").to_numpy()
        samples[g] = rev
        nb = int((sub.get_column("n_orders") > 0).sum())
        rows.append({"group": g, "customers": sub.height, "buyers": nb, "n": sub.height,
                     "value": float(rev.mean()) if sub.height else None,
                     "std": float(rev.std(ddof=1)) if sub.height > 1 else None,
                     "orders_per_customer": (float(sub.get_column("n_orders").mean())
                                             if sub.height else None),
                     "repeat_share": (float((sub.get_column("n_orders") >= 2).sum() / nb)
                                      if nb else None)})
    out = pl.DataFrame(rows, schema={"group": pl.String, "customers": pl.Int64,
                                     "buyers": pl.Int64, "n": pl.Int64, "value": pl.Float64,
                                     "std": pl.Float64, "orders_per_customer": pl.Float64,
                                     "repeat_share": pl.Float64})
    out = B.mean_ci(out, confidence=confidence)
    a, b = samples["referred"], samples["other"]
    p = (float(stats.ttest_ind(a, b, equal_var=False).pvalue)
         if len(a) > 1 and len(b) > 1 and (np.var(a) + np.var(b)) > 0 else None)
    return out.with_columns(pl.lit(p, dtype=pl.Float64).alias("p_value"),
                            pl.lit("revenue per customer up to as_of; referred = appears as "
                                   "referred_id in referrals").alias("definition"))


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
