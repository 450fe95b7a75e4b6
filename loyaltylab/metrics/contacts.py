"""Contact metrics: frequency per customer, contacts over time, channel mix, response to
outbound contacts, and conversion of contacts into sales."""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.metrics import _base as B

__all__ = ["contact_frequency", "contacts_over_time", "channel_mix", "outbound_response",
           "contact_conversion", "follow_up_rate", "channel_responsiveness"]

_UNKNOWN = "unknown"


def _contacts(data: CRMData, fn: str, purpose: str, cut) -> pl.LazyFrame:
    B.check_crm(data, fn)
    data.require(S.CONTACTS, purpose=purpose)
    lf = data.contacts.lazy().filter(pl.col(S.CONTACTED_AT) <= cut)
    if S.DIRECTION not in data.contacts.columns:
        lf = lf.with_columns(pl.lit(_UNKNOWN).alias(S.DIRECTION))
    else:
        lf = lf.with_columns(pl.col(S.DIRECTION).fill_null(_UNKNOWN))
    return lf


def contact_frequency(data: CRMData, *, by: str | Sequence[str] | None = None,
                      window: Any = "365d", period: str | None = None, as_of: Any = None,
                      confidence: float = 0.95) -> pl.DataFrame:
    """Contacts per customer per month, by channel and direction.

    Parameters
    ----------
    data : CRMData
        Needs the contacts table.
    by : str or list of str, optional
        Customer attributes to split by (channel and direction are always split).
    window : str
        Measurement window ending at ``as_of`` (default the last 365 days); ignored when
        ``period`` is given.
    period : {"month", "quarter", "year"}, optional
        One row set per calendar period instead of one window (the last period is cut
        at ``as_of``).
    as_of : optional
    confidence : float

    Returns
    -------
    pl.DataFrame
        One row per (period,) ``by`` group, channel and direction:

        - window_start, window_end: the window or calendar period measured
        - the ``by`` columns, channel, direction ("unknown" when not recorded)
        - contacts: contacts in the window
        - customers_contacted: distinct customers with such a contact
        - customer_months: months each customer of the group was on the books during the
          window (from max(acquired_at, window start) to the window end), summed
        - value: contacts / customer_months
        - ci_low, ci_high: exact (Garwood) Poisson interval for the rate
        - definition

    Notes
    -----
    Exposure-based frequency: a customer acquired half-way through the window counts for
    half of it. Months are 30.4375 days. A ``window`` is (as_of - window, as_of]; calendar
    periods are [start, end).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2023, 1, 1)] * 2})
    >>> orders = pl.DataFrame({"order_id": ["1"], "customer_id": ["a"],
    ...     "ordered_at": [datetime(2023, 2, 1)], "amount": [1.0]})
    >>> contacts = pl.DataFrame({"customer_id": ["a"] * 6,
    ...     "contacted_at": [datetime(2024, m, 1) for m in range(1, 7)],
    ...     "channel": ["email"] * 6, "direction": ["outbound"] * 6})
    >>> d = CRMData(customers=customers, orders=orders, contacts=contacts,
    ...             as_of=datetime(2024, 12, 31))
    >>> r = contact_frequency(d, window="365.25d")
    >>> r.select("channel", "contacts", "customer_months", pl.col("value").round(4))
    shape: (1, 4)
    ┌─────────┬──────────┬─────────────────┬───────┐
    │ channel ┆ contacts ┆ customer_months ┆ value │
    │ ---     ┆ ---      ┆ ---             ┆ ---   │
    │ str     ┆ i64      ┆ f64             ┆ f64   │
    ╞═════════╪══════════╪═════════════════╪═══════╡
    │ email   ┆ 6        ┆ 24.0            ┆ 0.25  │
    └─────────┴──────────┴─────────────────┴───────┘
    """
    cut = B.resolve(data, as_of)
    lf = _contacts(data, "contact_frequency", "contact frequency", cut)
    keys = B.norm_by(by)
    if period is None:
        start, end = B.window_bounds(cut, window)
        windows = pl.LazyFrame({"window_start": [start], "window_end": [end]},
                               schema={"window_start": pl.Datetime("us"),
                                       "window_end": pl.Datetime("us")})
        lf = lf.filter(pl.col(S.CONTACTED_AT) > start).with_columns(
            pl.lit(start, dtype=pl.Datetime("us")).alias("window_start"))
    else:
        lo = data.contacts.get_column(S.CONTACTED_AT).min()
        if lo is None:
            lo = cut
        every = B.period_every(period)
        starts = pl.datetime_range(pl.Series([lo]).dt.truncate(every)[0], cut, every,
                                   eager=True)
        windows = (pl.LazyFrame({"window_start": starts})
                   .with_columns(pl.min_horizontal(
                       B.period_end_expr("window_start", period), pl.lit(cut))
                       .alias("window_end"))
                   .filter(pl.col("window_end") > pl.col("window_start")))
        # calendar periods are [start, end), like every other period metric
        lf = lf.with_columns(pl.col(S.CONTACTED_AT).dt.truncate(every).alias("window_start"))
    wkeys = ["window_start", *keys]
    exposure = (data.customers.lazy().filter(pl.col(S.ACQUIRED_AT) <= cut)
                .join(windows, how="cross")
                .filter(pl.col(S.ACQUIRED_AT) < pl.col("window_end"))
                .with_columns(B.days_between(
                    pl.max_horizontal(pl.col(S.ACQUIRED_AT), pl.col("window_start")),
                    pl.col("window_end")).alias("_days"))
                .group_by(wkeys)
                .agg((pl.col("_days").sum() / B.DAYS_PER_MONTH).alias("customer_months")))
    cnt = (B.attach(lf, data.customers, keys)
           .group_by([*wkeys, S.CHANNEL, S.DIRECTION])
           .agg(pl.len().cast(pl.Int64).alias("contacts"),
                pl.col(S.CUSTOMER_ID).n_unique().cast(pl.Int64).alias("customers_contacted")))
    combos = lf.select(S.CHANNEL, S.DIRECTION).unique()
    groups = B.by_groups(data.customers, keys)
    grid = windows.join(combos, how="cross")
    if groups is not None:
        grid = grid.join(groups, how="cross")
    res = (grid.join(cnt, on=[*wkeys, S.CHANNEL, S.DIRECTION], how="left", nulls_equal=True)
           .with_columns(pl.col("contacts").fill_null(0),
                         pl.col("customers_contacted").fill_null(0))
           .join(exposure, on=wkeys, how="left", nulls_equal=True)
           .with_columns(pl.col("customer_months").fill_null(0.0)))
    out = res.collect()
    out = B.poisson_ci(out, "contacts", "customer_months", confidence=confidence)
    out = out.with_columns(pl.lit("contacts / customer-months on the books in the window")
                           .alias("definition"))
    return out.select("window_start", "window_end", *keys, S.CHANNEL, S.DIRECTION,
                      "contacts", "customers_contacted", "customer_months", "value", "ci_low",
                      "ci_high", "definition").sort(["window_start", *keys, S.CHANNEL,
                                                     S.DIRECTION])


def contacts_over_time(data: CRMData, *, period: str = "month",
                       by: str | Sequence[str] | None = (S.CHANNEL,),
                       as_of: Any = None) -> pl.DataFrame:
    """Contacts per calendar period, and per customer on the books.

    Parameters
    ----------
    data : CRMData
    period : {"week", "month", "quarter", "year"}
    by : str or list of str, optional
        Contact columns (channel, direction, campaign) or customer attributes; channel by
        default, None for all contacts together.
    as_of : optional

    Returns
    -------
    pl.DataFrame
        - period_start, period_end, the ``by`` columns
        - contacts: contacts in the period
        - customers_contacted: distinct customers contacted
        - customer_base: customers acquired before the period end (all groups together)
        - contacts_per_customer: contacts / customer_base
        - complete: whether the period ended by ``as_of``
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2024, 1, 1), datetime(2024, 2, 10)]})
    >>> orders = pl.DataFrame({"order_id": ["1"], "customer_id": ["a"],
    ...     "ordered_at": [datetime(2024, 1, 2)], "amount": [1.0]})
    >>> contacts = pl.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "contacted_at": [datetime(2024, 1, 5), datetime(2024, 2, 5), datetime(2024, 2, 20)],
    ...     "channel": ["email"] * 3})
    >>> d = CRMData(customers=customers, orders=orders, contacts=contacts,
    ...             as_of=datetime(2024, 3, 1))
    >>> contacts_over_time(d, by=None).select("contacts", "customer_base")
    shape: (2, 2)
    ┌──────────┬───────────────┐
    │ contacts ┆ customer_base │
    │ ---      ┆ ---           │
    │ i64      ┆ i64           │
    ╞══════════╪═══════════════╡
    │ 1        ┆ 1             │
    │ 2        ┆ 2             │
    └──────────┴───────────────┘
    """
    cut = B.resolve(data, as_of)
    lf = _contacts(data, "contacts_over_time", "contacts over time", cut)
    keys = B.norm_by(by)
    cnt = (B.attach(lf, data.customers, keys)
           .with_columns(B.periodize(S.CONTACTED_AT, period).alias("period_start"))
           .group_by(["period_start", *keys])
           .agg(pl.len().cast(pl.Int64).alias("contacts"),
                pl.col(S.CUSTOMER_ID).n_unique().cast(pl.Int64).alias("customers_contacted"))
           .with_columns(B.period_end_expr("period_start", period).alias("period_end")))
    acq = data.customers.lazy().select(pl.col(S.ACQUIRED_AT).sort().alias("_acq")).collect()
    out = cnt.collect()
    ends = out.get_column("period_end")
    base = acq.get_column("_acq").search_sorted(ends, side="left")
    out = out.with_columns(pl.Series("customer_base", base).cast(pl.Int64))
    out = out.with_columns(
        pl.when(pl.col("customer_base") > 0)
        .then(pl.col("contacts") / pl.col("customer_base")).alias("contacts_per_customer"),
        (pl.col("period_end") <= cut).alias("complete"),
        pl.lit(f"contacts per {period}; per customer = contacts / customers acquired before "
               f"the {period} end").alias("definition"))
    return out.select("period_start", "period_end", *keys, "contacts", "customers_contacted",
                      "customer_base", "contacts_per_customer", "complete",
                      "definition").sort(["period_start", *keys])


def channel_mix(data: CRMData, *, by: str | Sequence[str] | None = None,
                direction: str | None = None, window: Any = "365d", as_of: Any = None,
                confidence: float = 0.95) -> pl.DataFrame:
    """Share of contacts through each channel.

    Parameters
    ----------
    data : CRMData
    by : str or list of str, optional
        Customer attributes or contact columns; shares sum to 1 within each group.
    direction : {"inbound", "outbound"}, optional
        Only contacts in this direction.
    window : str
        Window ending at ``as_of`` (default 365 days).
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        - the ``by`` columns, channel
        - numerator: contacts through the channel; denominator: all contacts of the group
        - value, ci_low, ci_high: share and Wilson interval (contacts treated as
          independent, so the interval is narrow when a few customers generate many
          contacts)
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a"], "acquired_at": [datetime(2024, 1, 1)]})
    >>> orders = pl.DataFrame({"order_id": ["1"], "customer_id": ["a"],
    ...     "ordered_at": [datetime(2024, 1, 2)], "amount": [1.0]})
    >>> contacts = pl.DataFrame({"customer_id": ["a"] * 4,
    ...     "contacted_at": [datetime(2024, 1, d) for d in (3, 4, 5, 6)],
    ...     "channel": ["email", "email", "email", "phone"]})
    >>> d = CRMData(customers=customers, orders=orders, contacts=contacts,
    ...             as_of=datetime(2024, 2, 1))
    >>> channel_mix(d)["value"].to_list()
    [0.75, 0.25]
    """
    cut = B.resolve(data, as_of)
    lf = _contacts(data, "channel_mix", "channel mix", cut)
    start, _ = B.window_bounds(cut, window)
    if direction is not None:
        if direction not in S.DIRECTIONS:
            raise ValueError(f"direction: expected one of {S.DIRECTIONS}, got {direction!r}")
        lf = lf.filter(pl.col(S.DIRECTION) == direction)
    keys = B.norm_by(by)
    lf = B.attach(lf.filter(pl.col(S.CONTACTED_AT) > start), data.customers, keys)
    cnt = lf.group_by([*keys, S.CHANNEL]).agg(pl.len().alias("numerator"))
    tot = B.group_agg(lf, keys, [pl.len().alias("denominator")])
    res = (cnt.join(tot, on=keys, how="left", nulls_equal=True) if keys
           else cnt.join(tot, how="cross"))
    return B.finish_rate(res, [*keys, S.CHANNEL], confidence=confidence,
                         definition="contacts through the channel / all contacts in the "
                                    "window" + (f" ({direction})" if direction else ""))


def _next_event(left: pl.LazyFrame, right: pl.LazyFrame, *, left_on: str, right_on: str,
                name: str, strict: bool) -> pl.LazyFrame:
    """For each left row, the first right time of the same customer at/after (or strictly
    after) the left time, as column ``name``."""
    # join on a 64-bit hash of the id: the as-of join groups by it much faster than by
    # strings (the chance of two of a million ids sharing a hash is about 3e-8)
    r = (right.select(pl.col(S.CUSTOMER_ID).hash().alias("_key"),
                      pl.col(right_on).alias("_rt"))
         .with_columns(pl.col("_rt").alias(name)).sort("_rt"))
    lsorted = left.with_columns(pl.col(S.CUSTOMER_ID).hash().alias("_key")).sort(left_on)
    out = lsorted.join_asof(r, left_on=left_on, right_on="_rt", by="_key",
                            strategy="forward", allow_exact_matches=not strict,
                            check_sortedness=False)
    return out.drop("_rt", "_key", strict=False)


def contact_conversion(data: CRMData, *, window: Any = "30d",
                       by: str | Sequence[str] | None = (S.CHANNEL,),
                       direction: str | None = None, lookback: Any = None,
                       period: str | None = None, as_of: Any = None,
                       confidence: float = 0.95) -> pl.DataFrame:
    """Share of contacts followed by an order from the same customer within ``window``.

    Parameters
    ----------
    data : CRMData
        Needs the contacts table.
    window : str
        Conversion window after the contact (default "30d").
    by : str or list of str, optional
        Contact columns (channel, campaign, direction) and/or customer attributes;
        channel by default. ``by=["channel", "campaign"]`` gives campaign conversion.
    direction : {"inbound", "outbound"}, optional
        Only contacts in this direction.
    lookback : str, optional
        Only contacts made in this window before ``as_of - window``.
    period : {"month", "quarter", "year"}, optional
        Split by the calendar period of the contact (adds ``period_start``).
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        - period_start (only with ``period``): calendar period of the contact
        - the ``by`` columns
        - numerator: contacts followed by an order of the same customer at or after the
          contact and no later than ``window`` after it
        - denominator: contacts whose window had closed by ``as_of`` (younger contacts
          cannot be judged yet and are left out)
        - value, ci_low, ci_high: conversion rate and Wilson interval (each contact a
          trial)
        - window_days, definition

    Notes
    -----
    Several contacts may claim the same order (last-touch attribution is not applied),
    as in a campaign report that counts "buyers within 30 days of the mailing". Computed
    with an as-of join (the next order of the same customer) on the lazy frames.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 2})
    >>> orders = pl.DataFrame({"order_id": ["1", "2"], "customer_id": ["a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 20), datetime(2024, 4, 1)], "amount": [1.0, 1.0]})
    >>> contacts = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "contacted_at": [datetime(2024, 1, 10), datetime(2024, 1, 10)],
    ...     "channel": ["email", "email"]})
    >>> d = CRMData(customers=customers, orders=orders, contacts=contacts,
    ...             as_of=datetime(2024, 6, 1))
    >>> contact_conversion(d).select("channel", "numerator", "denominator", "value")
    shape: (1, 4)
    ┌─────────┬───────────┬─────────────┬───────┐
    │ channel ┆ numerator ┆ denominator ┆ value │
    │ ---     ┆ ---       ┆ ---         ┆ ---   │
    │ str     ┆ i64       ┆ i64         ┆ f64   │
    ╞═════════╪═══════════╪═════════════╪═══════╡
    │ email   ┆ 1         ┆ 2           ┆ 0.5   │
    └─────────┴───────────┴─────────────┴───────┘
    """
    cut = B.resolve(data, as_of)
    lf = _contacts(data, "contact_conversion", "contact-to-sale conversion", cut)
    win = B.as_timedelta(window, "window")
    if direction is not None:
        if direction not in S.DIRECTIONS:
            raise ValueError(f"direction: expected one of {S.DIRECTIONS}, got {direction!r}")
        lf = lf.filter(pl.col(S.DIRECTION) == direction)
    lf = lf.filter(pl.col(S.CONTACTED_AT) + win <= cut)
    if lookback is not None:
        back = B.as_timedelta(lookback, "lookback")
        lf = lf.filter(pl.col(S.CONTACTED_AT) > cut - win - back)
    keys = B.norm_by(by)
    for k in keys:
        if k == S.CAMPAIGN and S.CAMPAIGN not in data.contacts.columns:
            B.require_column(data.contacts, S.CAMPAIGN, S.CONTACTS, "conversion by campaign")
    lf = B.attach(lf.select(S.CUSTOMER_ID, S.CONTACTED_AT,
                            *[k for k in keys if k in data.contacts.columns
                              or k == S.DIRECTION]), data.customers, keys)
    if period is not None:
        lf = lf.with_columns(B.periodize(S.CONTACTED_AT, period).alias("period_start"))
        keys = ["period_start", *keys]
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    nxt = _next_event(lf, orders, left_on=S.CONTACTED_AT, right_on=S.ORDERED_AT,
                      name="_next", strict=False)
    res = B.group_agg(nxt, keys, [
        (pl.col("_next") <= pl.col(S.CONTACTED_AT) + win).fill_null(False).sum()
        .alias("numerator"), pl.len().alias("denominator")])
    return B.finish_rate(res, keys, confidence=confidence,
                         definition=f"contacts followed by an order within {win.days}d / "
                                    f"contacts at least {win.days}d old",
                         extra=[pl.lit(win.days).alias("window_days")])


def _answered(data: CRMData, fn: str, window: Any, lookback: Any, as_of: Any,
              keys: list[str]) -> tuple[pl.LazyFrame, Any]:
    """Outbound contacts whose response window closed by as_of, with ``keys`` attached and
    ``_hit``: answered by an inbound contact or an order within ``window``."""
    cut = B.resolve(data, as_of)
    lf = _contacts(data, fn, "response to outbound contacts", cut)
    B.require_column(data.contacts, S.DIRECTION, S.CONTACTS, "response to outbound contacts")
    win = B.as_timedelta(window, "window")
    back = B.as_timedelta(lookback, "lookback")
    out_c = lf.filter((pl.col(S.DIRECTION) == "outbound")
                      & (pl.col(S.CONTACTED_AT) + win <= cut)
                      & (pl.col(S.CONTACTED_AT) > cut - win - back))
    out_c = B.attach(out_c.select(S.CUSTOMER_ID, S.CONTACTED_AT,
                                  *[k for k in keys if k in data.contacts.columns]),
                     data.customers, keys)
    replies = pl.concat([
        lf.filter(pl.col(S.DIRECTION) == "inbound").select(
            S.CUSTOMER_ID, pl.col(S.CONTACTED_AT).alias("_t")),
        data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut).select(
            S.CUSTOMER_ID, pl.col(S.ORDERED_AT).alias("_t"))])
    nxt = _next_event(out_c, replies, left_on=S.CONTACTED_AT, right_on="_t", name="_next",
                      strict=True)
    return nxt.with_columns((pl.col("_next") <= pl.col(S.CONTACTED_AT) + win)
                            .fill_null(False).alias("_hit")), win


def outbound_response(data: CRMData, *, window: Any = "14d",
                      by: str | Sequence[str] | None = (S.CHANNEL,), lookback: Any = "365d",
                      as_of: Any = None, confidence: float = 0.95) -> pl.DataFrame:
    """Share of outbound contacts answered by the customer within ``window``.

    Parameters
    ----------
    data : CRMData
        Needs contacts with a direction column.
    window : str
        Response window (default "14d").
    by : str or list of str, optional
        Contact columns or customer attributes; channel by default.
    lookback : str
        Outbound contacts made in this window before ``as_of - window``.
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        - the ``by`` columns
        - numerator: outbound contacts followed, strictly after the contact and within
          ``window``, by an inbound contact or an order of the same customer
        - denominator: outbound contacts whose window had closed
        - value, ci_low, ci_high: response rate and Wilson interval
        - window_days, definition

    Notes
    -----
    Our definition (no product-analytics standard): any inbound contact (reply, call,
    visit) or order counts as a response, whatever its channel.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 2})
    >>> orders = pl.DataFrame({"order_id": ["1"], "customer_id": ["a"],
    ...     "ordered_at": [datetime(2024, 1, 2)], "amount": [1.0]})
    >>> contacts = pl.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "contacted_at": [datetime(2024, 2, 1), datetime(2024, 2, 3), datetime(2024, 2, 1)],
    ...     "channel": ["email", "phone", "email"],
    ...     "direction": ["outbound", "inbound", "outbound"]})
    >>> d = CRMData(customers=customers, orders=orders, contacts=contacts,
    ...             as_of=datetime(2024, 6, 1))
    >>> outbound_response(d)["value"].to_list()
    [0.5]
    """
    keys = B.norm_by(by)
    nxt, win = _answered(data, "outbound_response", window, lookback, as_of, keys)
    res = B.group_agg(nxt, keys, [pl.col("_hit").sum().alias("numerator"),
                                  pl.len().alias("denominator")])
    return B.finish_rate(res, keys, confidence=confidence,
                         definition=f"outbound contacts followed within {win.days}d by an "
                                    f"inbound contact or an order / outbound contacts",
                         extra=[pl.lit(win.days).alias("window_days")])


_FOLLOW_UP_DEFAULT_WINDOW = {"purchase": "7d", "first_purchase": "7d", "lapse": "90d"}


def follow_up_rate(data: CRMData, *, after: str = "purchase", within: Any = None,
                   inactive_after: Any = "180d", campaign: str | Sequence[str] | None = None,
                   channels: str | Sequence[str] | None = None,
                   by: str | Sequence[str] | None = None, as_of: Any = None,
                   confidence: float = 0.95) -> pl.DataFrame:
    """Share of purchases, or of lapses, that the business followed up with an outbound
    contact.

    Parameters
    ----------
    data : CRMData
        Needs contacts with a direction column.
    after : {"purchase", "first_purchase", "lapse"}
        What should be followed up:

        - "purchase": every purchase day of a customer (a call for feedback after a sale);
        - "first_purchase": a customer's first purchase only (bonding early);
        - "lapse": a buyer falling silent. The lapse starts when ``inactive_after`` has
          passed since their last order.
    within : str, optional
        How soon the follow-up must come: after the order ("7d" by default), or after the
        start of the lapse ("90d" by default).
    inactive_after : str
        Silence that makes a buyer lapsed (``after="lapse"`` only; default 180 days).
    campaign, channels : str or list of str, optional
        Count only outbound contacts of these campaigns or channels (for example the
        after-sale call campaign, or ``("phone", "visit")`` to leave out newsletters).
    by : str or list of str, optional
        Customer attributes.
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        One row per ``by`` group:

        - the ``by`` columns
        - numerator: events followed by a matching outbound contact of the same customer
          strictly after the event and within ``within``
        - denominator: events whose window had closed by ``as_of``
        - value, ci_low, ci_high: follow-up rate and Wilson interval
        - median_days: median days from the event to the follow-up, among those followed
        - window_days, definition

    Notes
    -----
    Our definition. A purchase day is a customer's first order of that calendar day. A
    lapse counts only for buyers whose silence lasted through the whole window; a buyer
    who ordered again counts as active, not as a lapse that was followed up. Mass
    e-mails count as follow-up unless ``campaign`` or ``channels`` leave them out.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 2})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 2), datetime(2024, 3, 1), datetime(2024, 1, 5)],
    ...     "amount": [1.0] * 3})
    >>> contacts = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "contacted_at": [datetime(2024, 1, 4), datetime(2024, 8, 1)],
    ...     "channel": ["phone", "email"], "direction": ["outbound", "outbound"]})
    >>> d = CRMData(customers=customers, orders=orders, contacts=contacts,
    ...             as_of=datetime(2024, 12, 31))
    >>> follow_up_rate(d).select("numerator", "denominator", "median_days")
    shape: (1, 3)
    ┌───────────┬─────────────┬─────────────┐
    │ numerator ┆ denominator ┆ median_days │
    │ ---       ┆ ---         ┆ ---         │
    │ i64       ┆ i64         ┆ f64         │
    ╞═══════════╪═════════════╪═════════════╡
    │ 1         ┆ 3           ┆ 2.0         │
    └───────────┴─────────────┴─────────────┘
    >>> follow_up_rate(d, after="lapse").select("numerator", "denominator")
    shape: (1, 2)
    ┌───────────┬─────────────┐
    │ numerator ┆ denominator │
    │ ---       ┆ ---         │
    │ i64       ┆ i64         │
    ╞═══════════╪═════════════╡
    │ 1         ┆ 2           │
    └───────────┴─────────────┘
    """
    if after not in _FOLLOW_UP_DEFAULT_WINDOW:
        raise ValueError(f"after: expected 'purchase', 'first_purchase' or 'lapse', got "
                         f"{after!r}")
    cut = B.resolve(data, as_of)
    lf = _contacts(data, "follow_up_rate", "follow-up of purchases and lapses", cut)
    B.require_column(data.contacts, S.DIRECTION, S.CONTACTS, "follow-up rates")
    win = B.as_timedelta(within if within is not None else _FOLLOW_UP_DEFAULT_WINDOW[after],
                         "within")
    keys = B.norm_by(by)
    out_c = lf.filter(pl.col(S.DIRECTION) == "outbound")
    for col, wanted in ((S.CAMPAIGN, campaign), (S.CHANNEL, channels)):
        if wanted is None:
            continue
        B.require_column(data.contacts, col, S.CONTACTS, f"follow-up by {col}")
        values = [wanted] if isinstance(wanted, str) else list(wanted)
        out_c = out_c.filter(pl.col(col).is_in(values))
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    if after == "lapse":
        lag = B.as_timedelta(inactive_after, "inactive_after")
        events = (B.buyers(orders, cut)
                  .select(S.CUSTOMER_ID, (pl.col("last_order") + lag).alias("_t"))
                  .filter(pl.col("_t") + win <= cut))
        what = f"buyers silent for {lag.days}d"
    else:
        # a purchase day starts with its first order; the first purchase is the first order
        groups = ([S.CUSTOMER_ID] if after == "first_purchase" else
                  [S.CUSTOMER_ID, pl.col(S.ORDERED_AT).dt.truncate("1d").alias("_day")])
        events = (orders.group_by(groups).agg(pl.col(S.ORDERED_AT).min().alias("_t"))
                  .select(S.CUSTOMER_ID, "_t").filter(pl.col("_t") + win <= cut))
        what = "first purchases" if after == "first_purchase" else "purchase days"
    nxt = _next_event(events, out_c.select(S.CUSTOMER_ID, S.CONTACTED_AT), left_on="_t",
                      right_on=S.CONTACTED_AT, name="_next", strict=True)
    nxt = nxt.with_columns((pl.col("_next") <= pl.col("_t") + win).fill_null(False)
                           .alias("_hit"))
    res = B.group_agg(B.attach(nxt, data.customers, keys), keys, [
        pl.col("_hit").sum().alias("numerator"), pl.len().alias("denominator"),
        B.days_between("_t", "_next").filter(pl.col("_hit")).median().alias("median_days")])
    res = B.with_all_groups(res, B.by_groups(data.customers, keys), keys,
                            ["numerator", "denominator"])
    filters = "".join(f", {c} in {v!r}" for c, v in (("campaign", campaign),
                                                      ("channel", channels)) if v is not None)
    return B.finish_rate(res, keys, confidence=confidence,
                         definition=f"{what} followed within {win.days}d by an outbound "
                                    f"contact{filters} / {what} whose window had closed",
                         extra=[pl.lit(win.days).alias("window_days")])


def channel_responsiveness(data: CRMData, *, window: Any = "14d", lookback: Any = "730d",
                           min_contacts: int = 3, as_of: Any = None,
                           confidence: float = 0.95) -> pl.DataFrame:
    """Per customer and channel: how often the customer answers outbound contacts, and the
    channel they answer best.

    The same response as :func:`outbound_response` (an inbound contact or an order within
    ``window``), counted per customer and channel, for a contact plan that uses the
    channels each customer is receptive to.

    Parameters
    ----------
    data : CRMData
        Needs contacts with direction and channel columns.
    window : str
        Response window (default "14d").
    lookback : str
        Outbound contacts made in this window before ``as_of - window`` (default two
        years).
    min_contacts : int
        Contacts a channel needs before it can be a customer's best channel.
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        One row per customer and channel with outbound contacts, sorted by customer and
        channel:

        - customer_id, channel
        - numerator: contacts answered; denominator: contacts
        - value, ci_low, ci_high: the customer's response rate on the channel, Wilson
          interval
        - best: the channel with the highest rate among the customer's channels with at
          least ``min_contacts`` contacts (ties: more contacts, then channel name); false
          everywhere for a customer without such a channel
        - clearly_best: ``best``, and its interval lies above the intervals of all the
          customer's other channels with ``min_contacts`` contacts; with few contacts this
          is rarely true, which is the honest answer
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta
    >>> from loyaltylab import CRMData
    >>> t = [datetime(2024, 1, 1) + timedelta(days=30 * i) for i in range(6)]
    >>> customers = pl.DataFrame({"customer_id": ["a"], "acquired_at": [datetime(2023, 1, 1)]})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a"] * 3,
    ...     "ordered_at": [t[0] + timedelta(days=2), t[1] + timedelta(days=2),
    ...                    t[2] + timedelta(days=2)], "amount": [1.0] * 3})
    >>> contacts = pl.DataFrame({"customer_id": ["a"] * 6, "contacted_at": t,
    ...     "channel": ["phone"] * 3 + ["email"] * 3, "direction": ["outbound"] * 6})
    >>> d = CRMData(customers=customers, orders=orders, contacts=contacts,
    ...             as_of=datetime(2025, 1, 1))
    >>> channel_responsiveness(d).select("channel", "numerator", "denominator", "best")
    shape: (2, 4)
    ┌─────────┬───────────┬─────────────┬───────┐
    │ channel ┆ numerator ┆ denominator ┆ best  │
    │ ---     ┆ ---       ┆ ---         ┆ ---   │
    │ str     ┆ i64       ┆ i64         ┆ bool  │
    ╞═════════╪═══════════╪═════════════╪═══════╡
    │ email   ┆ 0         ┆ 3           ┆ false │
    │ phone   ┆ 3         ┆ 3           ┆ true  │
    └─────────┴───────────┴─────────────┴───────┘
    """
    if not isinstance(min_contacts, int) or min_contacts < 1:
        raise ValueError(f"min_contacts: expected a positive integer, got {min_contacts!r}")
    if data.contacts is not None:
        B.require_column(data.contacts, S.CHANNEL, S.CONTACTS, "channel responsiveness")
    nxt, win = _answered(data, "channel_responsiveness", window, lookback, as_of, [S.CHANNEL])
    per = (nxt.group_by(S.CUSTOMER_ID, S.CHANNEL)
           .agg(pl.col("_hit").sum().alias("numerator"), pl.len().alias("denominator")))
    out = B.finish_rate(per, [S.CUSTOMER_ID, S.CHANNEL], confidence=confidence,
                        definition=f"outbound contacts of the customer on the channel "
                                   f"answered within {win.days}d by an inbound contact or an "
                                   f"order / those contacts")
    eligible = pl.col("denominator") >= min_contacts
    best = (out.filter(eligible)
            .sort([S.CUSTOMER_ID, "value", "denominator", S.CHANNEL],
                  descending=[False, True, True, False])
            .group_by(S.CUSTOMER_ID, maintain_order=True)
            .agg(pl.col(S.CHANNEL).first().alias("_best")))
    out = (out.join(best, on=S.CUSTOMER_ID, how="left", maintain_order="left")
           .with_columns((pl.col(S.CHANNEL) == pl.col("_best")).fill_null(False).alias("best")))
    # the highest upper bound among the customer's other eligible channels
    other_hi = (pl.when(eligible & ~pl.col("best")).then(pl.col("ci_high"))
                .max().over(S.CUSTOMER_ID))
    out = out.with_columns((pl.col("best") & (pl.col("ci_low") > other_hi))
                           .fill_null(False).alias("clearly_best"))
    return out.select(S.CUSTOMER_ID, S.CHANNEL, "numerator", "denominator", "value",
                      "ci_low", "ci_high", "best", "clearly_best", "definition")


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
