"""The loyalty behaviour index: five behaviours of a loyal customer, each measured from the
data, and how the index relates to profitability."""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.metrics import _base as B
from loyaltylab.metrics.profit import customer_profitability

__all__ = ["loyalty_index", "loyalty_profitability", "BEHAVIOURS"]

BEHAVIOURS = ("repeat_rhythm", "cross_line", "referral", "resisted_change",
              "stayed_after_complaint")
"""The five measured behaviours, in the order of the index columns."""


def loyalty_index(data: CRMData, *, change_date: Any = None, stay_horizon: Any = "180d",
                  active_within: Any = "90d", as_of: Any = None) -> pl.DataFrame:
    """Per buyer, five loyal behaviours measured from the data, and their average.

    Parameters
    ----------
    data : CRMData
    change_date : date, optional
        Date of a business change or a competitor's pull (price rise, rebrand, competitor
        launch). Without it ``resisted_change`` is null for everyone.
    stay_horizon : str
        How long after the change or the complaint a customer must still buy to count as
        having stayed (default 180 days).
    active_within : str
        A customer is "active" at the change when they ordered in the ``active_within``
        before it; a stay is judged only when ``active_within`` has passed after the
        horizon (default 90 days).
    as_of : optional

    Returns
    -------
    pl.DataFrame
        One row per customer with an order up to ``as_of``:

        - customer_id
        - repeat_rhythm: share of the last 12 months (or of the months since the first
          order, when fewer) with at least one order, in [0, 1]
        - cross_line: (product lines bought - 1) / (product lines in the data - 1), in
          [0, 1]; null without ``orders.product_line``
        - referral: 1 if the customer referred someone, else 0; null without referrals
        - resisted_change: for customers active at ``change_date``, 1 if they still
          bought ``stay_horizon`` after it, else 0; null otherwise
        - stayed_after_complaint: for customers who had bought before their first
          complaint, 1 if they still bought ``stay_horizon`` after it, else 0; null for
          customers without a (judgeable) complaint or without the complaints table
        - behaviours_measured: how many of the five are not null
        - index: mean of the measured behaviours, in [0, 1]

    Notes
    -----
    The five behaviours of a loyal customer (buys again regularly, buys across lines,
    refers others, resists a competitor's pull or a business change, tolerates a lapse in
    service) are scored 0-1 and averaged with equal weights over those measurable for the
    customer; this equal-weight index is our construction, not a published scale.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2023, 1, 1)] * 2})
    >>> orders = pl.DataFrame({"order_id": [str(i) for i in range(5)],
    ...     "customer_id": ["a", "a", "a", "b", "b"],
    ...     "ordered_at": [datetime(2023, 1, 5), datetime(2023, 7, 5), datetime(2023, 10, 5),
    ...                    datetime(2023, 1, 5), datetime(2023, 1, 9)],
    ...     "amount": [1.0] * 5, "product_line": ["x", "y", "x", "x", "x"]})
    >>> d = CRMData(customers=customers, orders=orders, as_of=datetime(2024, 1, 1))
    >>> loyalty_index(d).select("customer_id", "repeat_rhythm", "cross_line", "index")
    shape: (2, 4)
    ┌─────────────┬───────────────┬────────────┬──────────┐
    │ customer_id ┆ repeat_rhythm ┆ cross_line ┆ index    │
    │ ---         ┆ ---           ┆ ---        ┆ ---      │
    │ str         ┆ f64           ┆ f64        ┆ f64      │
    ╞═════════════╪═══════════════╪════════════╪══════════╡
    │ a           ┆ 0.25          ┆ 1.0        ┆ 0.625    │
    │ b           ┆ 0.083333      ┆ 0.0        ┆ 0.041667 │
    └─────────────┴───────────────┴────────────┴──────────┘
    """
    B.check_crm(data, "loyalty_index")
    cut = B.resolve(data, as_of)
    hz = B.as_timedelta(stay_horizon, "stay_horizon")
    act = B.as_timedelta(active_within, "active_within")
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    buy = B.buyers(orders, cut)
    year_ago = cut - B.as_timedelta("365d", "window")
    # 1. repeat rhythm: months with an order among the last 12 (or months since first)
    months = (orders.filter(pl.col(S.ORDERED_AT) > year_ago)
              .group_by(S.CUSTOMER_ID)
              .agg(pl.col(S.ORDERED_AT).dt.truncate("1mo").n_unique().alias("_m")))
    observed = (B.days_between("first_order", pl.lit(cut)) / B.DAYS_PER_MONTH).ceil().clip(
        1, 12)
    out = (buy.join(months, on=S.CUSTOMER_ID, how="left")
           .with_columns((pl.col("_m").fill_null(0) / observed).clip(0, 1)
                         .alias("repeat_rhythm")))
    # 2. cross-line buying
    if S.PRODUCT_LINE in data.orders.columns:
        n_lines = data.orders.get_column(S.PRODUCT_LINE).drop_nulls().n_unique()
        lines = (orders.group_by(S.CUSTOMER_ID)
                 .agg(pl.col(S.PRODUCT_LINE).drop_nulls().n_unique().alias("_l")))
        out = out.join(lines, on=S.CUSTOMER_ID, how="left").with_columns(
            (((pl.col("_l").fill_null(1) - 1) / max(n_lines - 1, 1)).clip(0, 1)
             if n_lines > 1 else pl.lit(None, dtype=pl.Float64)).alias("cross_line"))
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("cross_line"))
    # 3. referrals
    if data.referrals is not None:
        refs = (data.referrals.lazy().filter(pl.col(S.REFERRED_AT) <= cut)
                .select(pl.col(S.REFERRER_ID).alias(S.CUSTOMER_ID)).unique()
                .with_columns(pl.lit(1.0).alias("referral")))
        out = out.join(refs, on=S.CUSTOMER_ID, how="left").with_columns(
            pl.col("referral").fill_null(0.0))
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("referral"))
    # 4. staying through a business change
    if change_date is not None and B.to_datetime(change_date, name="change_date") + hz + act \
            <= cut:
        D = B.to_datetime(change_date, name="change_date")
        active = (orders.filter((pl.col(S.ORDERED_AT) <= D) & (pl.col(S.ORDERED_AT) > D - act))
                  .select(S.CUSTOMER_ID).unique()
                  .with_columns(pl.lit(D + hz).alias("_at")))
        stayed = B.alive_after(active, orders, at="_at").select(
            S.CUSTOMER_ID, pl.col("retained").cast(pl.Float64).alias("resisted_change"))
        out = out.join(stayed, on=S.CUSTOMER_ID, how="left")
    else:
        if change_date is not None:
            B.to_datetime(change_date, name="change_date")  # validates the value
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("resisted_change"))
    # 5. staying after a complaint
    if data.complaints is not None:
        first_c = (data.complaints.lazy().filter(pl.col(S.OPENED_AT) <= cut)
                   .group_by(S.CUSTOMER_ID).agg(pl.col(S.OPENED_AT).min().alias("_c"))
                   .filter(pl.col("_c") + hz + act <= cut))
        before = (orders.join(first_c, on=S.CUSTOMER_ID)
                  .filter(pl.col(S.ORDERED_AT) <= pl.col("_c")).select(S.CUSTOMER_ID).unique())
        judged = (first_c.join(before, on=S.CUSTOMER_ID, how="semi")
                  .with_columns((pl.col("_c") + hz).alias("_at")))
        stayed_c = B.alive_after(judged, orders, at="_at").select(
            S.CUSTOMER_ID, pl.col("retained").cast(pl.Float64).alias("stayed_after_complaint"))
        out = out.join(stayed_c, on=S.CUSTOMER_ID, how="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias("stayed_after_complaint"))
    cols = [pl.col(c) for c in BEHAVIOURS]
    out = out.with_columns(
        pl.sum_horizontal([c.is_not_null().cast(pl.Int64) for c in cols])
        .alias("behaviours_measured"),
        pl.mean_horizontal(cols).alias("index"))
    return (out.select(S.CUSTOMER_ID, *BEHAVIOURS, "behaviours_measured", "index")
            .sort(S.CUSTOMER_ID).collect())


def loyalty_profitability(data: CRMData, *, bands: int = 5, margin: float = 1.0,
                          channel_costs: Mapping[str, float] | None = None,
                          change_date: Any = None, as_of: Any = None,
                          confidence: float = 0.95) -> pl.DataFrame:
    """Customer profit by band of the loyalty behaviour index.

    Parameters
    ----------
    data : CRMData
    bands : int
        Number of equal-width index bands over [0, 1] (default 5).
    margin, channel_costs : see :func:`loyaltylab.metrics.customer_profitability`
    change_date : see :func:`loyalty_index`
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        One row per index band (all bands, n = 0 when empty):

        - band: "0-0.2", "0.2-0.4", ...; band_low: the lower edge
        - n: buyers in the band
        - mean_index: their mean index
        - value: mean profit per buyer
        - ci_low, ci_high, std_error: Student-t interval of the mean profit
        - profitable_share: share with profit > 0
        - spearman_rho, spearman_p: rank correlation of index and profit over all buyers
          (scipy; the same on every row)
        - definition

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.make_crm(500, seed=1)
    >>> ll.metrics.loyalty_profitability(d, margin=0.4).height
    5
    """
    if not isinstance(bands, int) or bands < 2:
        raise ValueError(f"bands: expected an integer >= 2, got {bands!r}")
    idx = loyalty_index(data, change_date=change_date, as_of=as_of)
    prof = customer_profitability(data, margin=margin, channel_costs=channel_costs,
                                  as_of=as_of).select(S.CUSTOMER_ID, "profit")
    per = idx.join(prof, on=S.CUSTOMER_ID, how="left").filter(pl.col("index").is_not_null())
    per = per.with_columns((pl.col("index") * bands).floor().clip(0, bands - 1).cast(pl.Int64)
                           .alias("_b"))
    res = (per.group_by("_b").agg(pl.len().cast(pl.Int64).alias("n"),
                                  pl.col("index").mean().alias("mean_index"),
                                  pl.col("profit").mean().alias("value"),
                                  pl.col("profit").std().alias("std"),
                                  (pl.col("profit") > 0).mean().alias("profitable_share")))
    grid = pl.DataFrame({"_b": list(range(bands)),
                         "band": [f"{i / bands:g}-{(i + 1) / bands:g}" for i in range(bands)],
                         "band_low": [i / bands for i in range(bands)]},
                        schema={"_b": pl.Int64, "band": pl.String, "band_low": pl.Float64})
    res = grid.join(res, on="_b", how="left").with_columns(pl.col("n").fill_null(0)).sort("_b")
    res = B.mean_ci(res, confidence=confidence)
    x = per.get_column("index").to_numpy()
    y = per.get_column("profit").to_numpy()
    rho = p = None
    if len(x) > 2 and np.std(x) > 0 and np.std(y) > 0:
        r = stats.spearmanr(x, y)
        rho, p = float(r.statistic), float(r.pvalue)
    return res.with_columns(
        pl.lit(rho, dtype=pl.Float64).alias("spearman_rho"),
        pl.lit(p, dtype=pl.Float64).alias("spearman_p"),
        pl.lit("mean profit per buyer by equal-width band of the loyalty behaviour index")
        .alias("definition")).select(
        "band", "band_low", "n", "mean_index", "value", "ci_low", "ci_high", "std_error",
        "profitable_share", "spearman_rho", "spearman_p", "definition")


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
