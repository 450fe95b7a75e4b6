"""Complaint metrics: complaint rate, resolution time, retention by resolution speed."""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import polars as pl

from loyaltylab._stats import two_proportion_test
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.metrics import _base as B

__all__ = ["complaint_rate", "resolution_time", "retention_by_resolution"]


def _complaints(data: CRMData, fn: str, cut) -> pl.LazyFrame:
    B.check_crm(data, fn)
    data.require(S.COMPLAINTS, purpose=fn.replace("_", " "))
    lf = data.complaints.lazy().filter(pl.col(S.OPENED_AT) <= cut)
    if S.RESOLVED_AT not in data.complaints.columns:
        lf = lf.with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias(S.RESOLVED_AT))
    # a resolution after as_of is not known yet
    return lf.with_columns(pl.when(pl.col(S.RESOLVED_AT) <= cut).then(pl.col(S.RESOLVED_AT))
                           .alias(S.RESOLVED_AT))


def complaint_rate(data: CRMData, *, period: str = "year",
                   by: str | Sequence[str] | None = None, as_of: Any = None,
                   confidence: float = 0.95) -> pl.DataFrame:
    """Share of active customers who complained, per calendar period.

    Parameters
    ----------
    data : CRMData
        Loaded data with a complaints table.
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
        - numerator: customers with at least one complaint opened in the period
        - denominator: active customers, i.e. with an order or a complaint in the period
        - value, ci_low, ci_high: complaint rate and Wilson interval
        - complaints: complaints opened in the period
        - complete: whether the period ended by ``as_of``
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
    >>> complaints = pl.DataFrame({"customer_id": ["a", "a"],
    ...     "opened_at": [datetime(2024, 2, 1), datetime(2024, 3, 1)]})
    >>> d = CRMData(customers=customers, orders=orders, complaints=complaints,
    ...             as_of=datetime(2025, 1, 1))
    >>> complaint_rate(d).select("numerator", "denominator", "value", "complaints")
    shape: (1, 4)
    ┌───────────┬─────────────┬───────┬────────────┐
    │ numerator ┆ denominator ┆ value ┆ complaints │
    │ ---       ┆ ---         ┆ ---   ┆ ---        │
    │ i64       ┆ i64         ┆ f64   ┆ i64        │
    ╞═══════════╪═════════════╪═══════╪════════════╡
    │ 1         ┆ 4           ┆ 0.25  ┆ 2          │
    └───────────┴─────────────┴───────┴────────────┘
    """
    cut = B.resolve(data, as_of)
    comp = _complaints(data, "complaint_rate", cut)
    keys = B.norm_by(by)
    ps = "period_start"
    comp = comp.with_columns(B.periodize(S.OPENED_AT, period).alias(ps))
    per_c = comp.group_by(ps, S.CUSTOMER_ID).agg(pl.len().alias("_k"))
    act = pl.concat([
        data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
        .select(S.CUSTOMER_ID, B.periodize(S.ORDERED_AT, period).alias(ps)),
        comp.select(S.CUSTOMER_ID, ps)]).unique()
    res = (act.join(per_c, on=[ps, S.CUSTOMER_ID], how="left")
           .pipe(B.attach, data.customers, keys)
           .group_by([ps, *keys])
           .agg(pl.col("_k").is_not_null().sum().alias("numerator"),
                pl.len().alias("denominator"),
                pl.col("_k").fill_null(0).sum().cast(pl.Int64).alias("complaints"))
           .with_columns(B.period_end_expr(ps, period).alias("period_end")))
    out = B.finish_rate(res, [ps, *keys], confidence=confidence,
                        definition="customers who complained in the period / customers with "
                                   "an order or a complaint in the period",
                        extra=[(pl.col("period_end") <= cut).alias("complete")])
    return out.select(ps, "period_end", *keys, *B.RATE_COLUMNS, "complaints", "complete",
                      "definition")


def resolution_time(data: CRMData, *, by: str | Sequence[str] | None = None,
                    fast_within: Any = "7d", as_of: Any = None,
                    confidence: float = 0.95) -> pl.DataFrame:
    """How long complaints take to resolve, and the share resolved fast.

    Parameters
    ----------
    data : CRMData
        Needs the complaints table.
    by : str or list of str, optional
        Complaint columns (category, outcome) or customer attributes.
    fast_within : str
        Threshold for "resolved fast" (default 7 days).
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        - the ``by`` columns
        - complaints: complaints opened up to ``as_of``
        - resolved, still_open: resolved by ``as_of`` / not
        - mean_days, median_days, p90_days: days to resolution of resolved complaints
        - numerator: complaints resolved within ``fast_within``; denominator: complaints
          opened at least ``fast_within`` before ``as_of``
        - value, ci_low, ci_high: share resolved fast and Wilson interval
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a"], "acquired_at": [datetime(2024, 1, 1)]})
    >>> orders = pl.DataFrame({"order_id": ["1"], "customer_id": ["a"],
    ...     "ordered_at": [datetime(2024, 1, 2)], "amount": [1.0]})
    >>> complaints = pl.DataFrame({"customer_id": ["a", "a", "a"],
    ...     "opened_at": [datetime(2024, 2, 1), datetime(2024, 3, 1), datetime(2024, 4, 1)],
    ...     "resolved_at": [datetime(2024, 2, 3), datetime(2024, 3, 21), None]})
    >>> d = CRMData(customers=customers, orders=orders, complaints=complaints,
    ...             as_of=datetime(2025, 1, 1))
    >>> resolution_time(d).select("resolved", "median_days", "numerator", "denominator")
    shape: (1, 4)
    ┌──────────┬─────────────┬───────────┬─────────────┐
    │ resolved ┆ median_days ┆ numerator ┆ denominator │
    │ ---      ┆ ---         ┆ ---       ┆ ---         │
    │ i64      ┆ f64         ┆ i64       ┆ i64         │
    ╞══════════╪═════════════╪═══════════╪═════════════╡
    │ 2        ┆ 11.0        ┆ 1         ┆ 3           │
    └──────────┴─────────────┴───────────┴─────────────┘
    """
    cut = B.resolve(data, as_of)
    fast = B.as_timedelta(fast_within, "fast_within")
    keys = B.norm_by(by)
    comp = (B.attach(_complaints(data, "resolution_time", cut), data.customers, keys)
            .with_columns(B.days_between(S.OPENED_AT, S.RESOLVED_AT).alias("_d")))
    res = B.group_agg(comp, keys, [
        pl.len().cast(pl.Int64).alias("complaints"),
        pl.col("_d").is_not_null().sum().cast(pl.Int64).alias("resolved"),
        pl.col("_d").is_null().sum().cast(pl.Int64).alias("still_open"),
        pl.col("_d").mean().alias("mean_days"), pl.col("_d").median().alias("median_days"),
        pl.col("_d").quantile(0.9, interpolation="linear").alias("p90_days"),
        (pl.col(S.RESOLVED_AT) <= pl.col(S.OPENED_AT) + fast).fill_null(False)
        .filter(pl.col(S.OPENED_AT) + fast <= cut).sum().alias("numerator"),
        (pl.col(S.OPENED_AT) + fast <= cut).sum().alias("denominator")])
    res = B.with_all_groups(res, B.by_groups(data.customers, keys), keys,
                            ["complaints", "resolved", "still_open", "numerator",
                             "denominator"])
    out = B.finish_rate(res, keys, confidence=confidence,
                        definition=f"days from opened_at to resolved_at; fast = resolved "
                                   f"within {fast.days}d")
    return out.select(*keys, "complaints", "resolved", "still_open", "mean_days",
                      "median_days", "p90_days", *B.RATE_COLUMNS, "definition")


def retention_by_resolution(data: CRMData, *, bands: Sequence[float] = (7, 30),
                            horizon: Any = "365d", inactive_after: Any = "180d",
                            by: str | Sequence[str] | None = None, as_of: Any = None,
                            confidence: float = 0.95) -> pl.DataFrame:
    """Retention of complaining customers by how fast their complaint was resolved.

    Parameters
    ----------
    data : CRMData
        Needs complaints (with resolved_at) and orders.
    bands : sequence of float
        Upper limits in days of the speed bands; the last band is "> last limit or never
        resolved". Default (7, 30): "<= 7d", "7-30d", "> 30d or open".
    horizon : str
        Retention horizon after the complaint (default 365 days).
    inactive_after : str
        Inactivity that marks a customer as lost; only complaints at least ``horizon`` +
        ``inactive_after`` before ``as_of`` are judged (default 180 days).
    by : str or list of str, optional
        Customer attributes, or columns of the complaint (``category``, ``outcome``): the
        customer's first complaint decides their group.
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        One row per speed band (and ``by`` group), fastest first:

        - the ``by`` columns
        - band: the resolution-speed band; band_order: 0 for the fastest
        - numerator: customers still buying ``horizon`` after the complaint (an order at
          or after opened_at + horizon)
        - denominator: customers with a judged first complaint in the band who had bought
          before it
        - value, ci_low, ci_high: retention and Wilson interval
        - p_value: two-proportion z-test of the fastest against the slowest band (same on
          every row of a group)
        - definition

    Notes
    -----
    Each customer counts once, with their first complaint. Our definition; "still buying
    after the horizon" reads the inactivity rule used throughout this module.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2022, 1, 1)] * 2})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3", "4"],
    ...     "customer_id": ["a", "b", "a", "b"],
    ...     "ordered_at": [datetime(2022, 1, 2), datetime(2022, 1, 2), datetime(2023, 6, 1),
    ...                    datetime(2022, 3, 1)], "amount": [1.0] * 4})
    >>> complaints = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "opened_at": [datetime(2022, 2, 1)] * 2,
    ...     "resolved_at": [datetime(2022, 2, 2), datetime(2022, 3, 15)]})
    >>> d = CRMData(customers=customers, orders=orders, complaints=complaints,
    ...             as_of=datetime(2024, 1, 1))
    >>> retention_by_resolution(d, bands=(7,)).select("band", "numerator", "denominator")
    shape: (2, 3)
    ┌──────────────┬───────────┬─────────────┐
    │ band         ┆ numerator ┆ denominator │
    │ ---          ┆ ---       ┆ ---         │
    │ str          ┆ i64       ┆ i64         │
    ╞══════════════╪═══════════╪═════════════╡
    │ <= 7d        ┆ 1         ┆ 1           │
    │ > 7d or open ┆ 0         ┆ 1           │
    └──────────────┴───────────┴─────────────┘
    """
    cut = B.resolve(data, as_of)
    hz = B.as_timedelta(horizon, "horizon")
    lag = B.as_timedelta(inactive_after, "inactive_after")
    limits = [float(b) for b in bands]
    if not limits or any(b <= 0 for b in limits) or limits != sorted(set(limits)):
        raise ValueError(f"bands: expected increasing positive day limits, got {bands!r}")
    labels, lo = [], None
    for b in limits:
        labels.append(f"<= {b:g}d" if lo is None else f"{lo:g}-{b:g}d")
        lo = b
    labels.append(f"> {limits[-1]:g}d or open")
    keys = B.norm_by(by)
    comp = _complaints(data, "retention_by_resolution", cut)
    # by= may name columns of the (first) complaint, such as its category
    own = [k for k in keys if k in comp.collect_schema().names()
           and k not in (S.CUSTOMER_ID, S.OPENED_AT, S.RESOLVED_AT)]
    first = (comp.sort(S.OPENED_AT).group_by(S.CUSTOMER_ID)
             .agg(pl.col(S.OPENED_AT).first(), pl.col(S.RESOLVED_AT).first(),
                  *[pl.col(k).first() for k in own])
             .filter(pl.col(S.OPENED_AT) + hz + lag <= cut)
             .with_columns(B.days_between(S.OPENED_AT, S.RESOLVED_AT).alias("_d")))
    band_idx = pl.lit(len(limits))
    for i in range(len(limits) - 1, -1, -1):
        band_idx = pl.when(pl.col("_d") <= limits[i]).then(pl.lit(i)).otherwise(band_idx)
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    prior = (orders.join(first.select(S.CUSTOMER_ID, S.OPENED_AT), on=S.CUSTOMER_ID)
             .filter(pl.col(S.ORDERED_AT) <= pl.col(S.OPENED_AT))
             .select(S.CUSTOMER_ID).unique())
    ev = (first.join(prior, on=S.CUSTOMER_ID, how="semi")
          .with_columns(band_idx.cast(pl.Int64).alias("band_order"),
                        (pl.col(S.OPENED_AT) + hz).alias("_at")))
    ev = B.alive_after(ev, orders, at="_at")
    attrs = [k for k in keys if k not in own]
    res = (B.attach(ev, data.customers, attrs)
           .group_by([*keys, "band_order"])
           .agg(pl.col("retained").sum().alias("numerator"), pl.len().alias("denominator")))
    grid = pl.LazyFrame({"band_order": list(range(len(labels))), "band": labels},
                        schema={"band_order": pl.Int64, "band": pl.String})
    groups = B.by_groups(data.customers, attrs)
    if own:
        values = comp.select(own).unique()
        groups = (values if groups is None else groups.join(values, how="cross")).select(keys)
    if groups is not None:
        grid = grid.join(groups, how="cross")
    res = B.with_all_groups(res, grid, [*keys, "band_order"], ["numerator", "denominator"])
    out = B.finish_rate(res, [*keys, "band_order"], confidence=confidence,
                        definition=f"customers with an order >= {hz.days}d after their first "
                                   f"complaint / customers who had bought before it; judged "
                                   f"when {hz.days}d + {lag.days}d have passed")
    last = len(labels) - 1
    parts = out.partition_by(keys, maintain_order=True) if keys else [out]
    pieces = []
    for part in parts:
        f = part.filter(pl.col("band_order") == 0)
        s = part.filter(pl.col("band_order") == last)
        _, p = two_proportion_test(f["numerator"][0], f["denominator"][0],
                                   s["numerator"][0], s["denominator"][0])
        pieces.append(part.with_columns(pl.lit(p if p == p else None, dtype=pl.Float64)
                                        .alias("p_value")))
    out = pl.concat(pieces)
    return out.select(*keys, "band", "band_order", *B.RATE_COLUMNS, "p_value", "definition")


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
