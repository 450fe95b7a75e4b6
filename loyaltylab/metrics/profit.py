"""Customer profitability: profit per customer, the customers who cost more than they bring,
the whale curve, and acquisition payback."""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Mapping, Sequence

import polars as pl

from loyaltylab._units import SECONDS_PER_DAY
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.exceptions import SchemaError
from loyaltylab.metrics import _base as B

_PROFIT_DIGITS = 6  # profit is rounded to a millionth of the currency unit

__all__ = ["customer_profitability", "unprofitable_customers", "whale_curve",
           "acquisition_payback", "biggest_vs_most_profitable", "cost_to_keep_vs_win"]


def _check_margin(margin: float) -> float:
    if not isinstance(margin, (int, float)) or not 0 < margin <= 1:
        raise ValueError(f"margin: expected the contribution margin as a share in (0, 1], "
                         f"got {margin!r}")
    return float(margin)


def _contact_costs(data: CRMData, cut, channel_costs: Mapping[str, float] | None
                   ) -> tuple[pl.LazyFrame | None, str]:
    """Per-customer cost to serve from contacts, and how it was computed."""
    rows, how = _contact_cost_rows(data, cut, channel_costs)
    if rows is None:
        return None, how
    return rows.group_by(S.CUSTOMER_ID).agg(pl.col("_cost").sum().alias("cost_to_serve")), how


def _contact_cost_rows(data: CRMData, cut, channel_costs: Mapping[str, float] | None
                       ) -> tuple[pl.LazyFrame | None, str]:
    """Contacts up to ``cut`` with their cost in ``_cost``, and how it was computed."""
    if data.contacts is None:
        return None, "no contacts table: cost to serve 0"
    lf = data.contacts.lazy().filter(pl.col(S.CONTACTED_AT) <= cut)
    has_cost = S.CONTACT_COST in data.contacts.columns
    if channel_costs is not None:
        bad = {k: v for k, v in channel_costs.items() if not isinstance(v, (int, float))
               or v < 0}
        if bad:
            raise ValueError(f"channel_costs: costs must be non-negative numbers, got {bad}")
        table = pl.LazyFrame({S.CHANNEL: list(channel_costs),
                              "_unit": [float(v) for v in channel_costs.values()]},
                             schema={S.CHANNEL: pl.String, "_unit": pl.Float64})
        lf = lf.join(table, on=S.CHANNEL, how="left")
        cost = (pl.col(S.CONTACT_COST).fill_null(pl.col("_unit")) if has_cost
                else pl.col("_unit"))
        how = ("contacts.cost, else per-channel costs" if has_cost
               else "per-channel contact costs")
    elif has_cost:
        cost = pl.col(S.CONTACT_COST)
        how = "contacts.cost"
    else:
        return None, "contacts have no cost and no channel_costs given: cost to serve 0"
    return lf.with_columns(cost.fill_null(0.0).alias("_cost")), how


def _profit_lazy(data: CRMData, *, margin: float, channel_costs, amount_is_net: bool,
                 cut) -> tuple[pl.LazyFrame, str]:
    m = _check_margin(margin)
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    disc = (pl.col(S.DISCOUNT).fill_null(0.0) if S.DISCOUNT in data.orders.columns
            else pl.lit(0.0))
    rev = (orders.group_by(S.CUSTOMER_ID)
           .agg(pl.len().cast(pl.Int64).alias("orders"),
                pl.col(S.AMOUNT).sum().alias("_amount"), disc.sum().alias("discounts"),
                pl.col(S.ORDERED_AT).min().alias("first_order")))
    costs, how = _contact_costs(data, cut, channel_costs)
    cust = data.customers.lazy().filter(pl.col(S.ACQUIRED_AT) <= cut)
    acq = (pl.col(S.ACQUISITION_COST).fill_null(0.0) if S.ACQUISITION_COST
           in data.customers.columns else pl.lit(0.0))
    lf = (cust.select(S.CUSTOMER_ID, acq.alias("acquisition_cost"))
          .join(rev, on=S.CUSTOMER_ID, how="left"))
    if costs is not None:
        lf = lf.join(costs, on=S.CUSTOMER_ID, how="left")
    else:
        lf = lf.with_columns(pl.lit(0.0).alias("cost_to_serve"))
    net = pl.col("_amount") if amount_is_net else pl.col("_amount") - pl.col("discounts")
    lf = (lf.with_columns(pl.col("orders").fill_null(0), pl.col("_amount").fill_null(0.0),
                          pl.col("discounts").fill_null(0.0),
                          pl.col("cost_to_serve").fill_null(0.0))
          .with_columns(net.alias("revenue"))
          .with_columns((pl.col("revenue") * m).alias("contribution"))
          # rounded to a millionth of the currency unit: a customer who exactly breaks
          # even has a profit of 0 (not profitable) on every processor, instead of
          # +-1e-14 left by the order in which the amounts happened to be summed
          .with_columns((pl.col("contribution") - pl.col("cost_to_serve")
                         - pl.col("acquisition_cost")).round(_PROFIT_DIGITS).alias("profit"))
          .with_columns((pl.col("profit") > 0).alias("profitable"))
          .drop("_amount"))
    definition = (f"profit = {m:g} x revenue (amount{'' if amount_is_net else ' - discount'}) "
                  f"- cost to serve ({how}) - acquisition cost")
    return lf, definition


def customer_profitability(data: CRMData, *, margin: float = 1.0,
                           channel_costs: Mapping[str, float] | None = None,
                           amount_is_net: bool = True, as_of: Any = None) -> pl.DataFrame:
    """Profit per customer: contribution from revenue minus cost to serve and acquisition.

    Parameters
    ----------
    data : CRMData
    margin : float
        Contribution margin, the share of revenue left after the cost of goods (1.0 =
        revenue itself).
    channel_costs : mapping channel -> cost, optional
        Cost per contact by channel, used where ``contacts.cost`` is missing.
    amount_is_net : bool
        True (the canonical schema) when ``orders.amount`` is after discount, so discounts
        are reported but not subtracted again; False to subtract ``orders.discount``.
    as_of : optional

    Returns
    -------
    pl.DataFrame
        One row per customer acquired by ``as_of``:

        - customer_id
        - acquisition_cost: ``customers.acquisition_cost`` (0 when missing)
        - orders, first_order: orders up to ``as_of`` and the first one's date
        - discounts: discounts granted (cost of rewards)
        - cost_to_serve: contact costs (``contacts.cost`` or ``channel_costs``)
        - revenue: net revenue; contribution: margin x revenue
        - profit: contribution - cost_to_serve - acquisition_cost, rounded to a millionth
          of the currency unit (so that break-even is exactly 0 whatever the order of
          summation)
        - profitable: profit > 0 (a customer who exactly breaks even is not profitable)

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 2, "acquisition_cost": [20.0, 20.0]})
    >>> orders = pl.DataFrame({"order_id": ["1", "2"], "customer_id": ["a", "a"],
    ...     "ordered_at": [datetime(2024, 1, 2), datetime(2024, 2, 2)],
    ...     "amount": [100.0, 50.0]})
    >>> contacts = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "contacted_at": [datetime(2024, 1, 5)] * 2, "channel": ["phone", "email"]})
    >>> d = CRMData(customers=customers, orders=orders, contacts=contacts,
    ...             as_of=datetime(2024, 6, 1))
    >>> r = customer_profitability(d, margin=0.4, channel_costs={"phone": 5.0, "email": 0.1})
    >>> r.select("customer_id", "revenue", "cost_to_serve", "profit")
    shape: (2, 4)
    ┌─────────────┬─────────┬───────────────┬────────┐
    │ customer_id ┆ revenue ┆ cost_to_serve ┆ profit │
    │ ---         ┆ ---     ┆ ---           ┆ ---    │
    │ str         ┆ f64     ┆ f64           ┆ f64    │
    ╞═════════════╪═════════╪═══════════════╪════════╡
    │ a           ┆ 150.0   ┆ 5.0           ┆ 35.0   │
    │ b           ┆ 0.0     ┆ 0.1           ┆ -20.1  │
    └─────────────┴─────────┴───────────────┴────────┘
    """
    B.check_crm(data, "customer_profitability")
    cut = B.resolve(data, as_of)
    lf, _ = _profit_lazy(data, margin=margin, channel_costs=channel_costs,
                         amount_is_net=amount_is_net, cut=cut)
    return (lf.select(S.CUSTOMER_ID, "acquisition_cost", "orders", "first_order", "discounts",
                      "cost_to_serve", "revenue", "contribution", "profit", "profitable")
            .sort(S.CUSTOMER_ID).collect())


def unprofitable_customers(data: CRMData, *, by: str | Sequence[str] | None = None,
                           margin: float = 1.0,
                           channel_costs: Mapping[str, float] | None = None,
                           amount_is_net: bool = True, buyers_only: bool = True,
                           as_of: Any = None, confidence: float = 0.95) -> pl.DataFrame:
    """Customers who cost more than they bring, counted and valued per group.

    Parameters
    ----------
    data, margin, channel_costs, amount_is_net, as_of : see :func:`customer_profitability`
    by : str or list of str, optional
        Customer attributes.
    buyers_only : bool
        Count only customers with at least one order (default), since prospects cost by
        construction.
    confidence : float

    Returns
    -------
    pl.DataFrame
        - the ``by`` columns
        - numerator: customers with profit <= 0; denominator: customers
        - value, ci_low, ci_high: unprofitable share and Wilson interval
        - total_profit: profit summed over the group
        - profit_per_customer: total_profit / denominator
        - loss_from_unprofitable: profit summed over the unprofitable (<= 0)
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 2, "acquisition_cost": [20.0, 50.0]})
    >>> orders = pl.DataFrame({"order_id": ["1", "2"], "customer_id": ["a", "b"],
    ...     "ordered_at": [datetime(2024, 1, 2)] * 2, "amount": [100.0, 30.0]})
    >>> d = CRMData(customers=customers, orders=orders, as_of=datetime(2024, 6, 1))
    >>> unprofitable_customers(d).select("numerator", "denominator", "total_profit")
    shape: (1, 3)
    ┌───────────┬─────────────┬──────────────┐
    │ numerator ┆ denominator ┆ total_profit │
    │ ---       ┆ ---         ┆ ---          │
    │ i64       ┆ i64         ┆ f64          │
    ╞═══════════╪═════════════╪══════════════╡
    │ 1         ┆ 2           ┆ 60.0         │
    └───────────┴─────────────┴──────────────┘
    """
    B.check_crm(data, "unprofitable_customers")
    cut = B.resolve(data, as_of)
    keys = B.norm_by(by)
    lf, definition = _profit_lazy(data, margin=margin, channel_costs=channel_costs,
                                  amount_is_net=amount_is_net, cut=cut)
    if buyers_only:
        lf = lf.filter(pl.col("orders") > 0)
    res = B.group_agg(B.attach(lf, data.customers, keys), keys, [
        (~pl.col("profitable")).sum().alias("numerator"), pl.len().alias("denominator"),
        pl.col("profit").sum().alias("total_profit"),
        pl.col("profit").filter(~pl.col("profitable")).sum().alias("loss_from_unprofitable")])
    res = B.with_all_groups(res, B.by_groups(data.customers, keys), keys,
                            ["numerator", "denominator", "total_profit",
                             "loss_from_unprofitable"])
    return B.finish_rate(res, keys, confidence=confidence,
                         definition="customers with profit <= 0 / "
                                    f"{'buyers' if buyers_only else 'customers'}; {definition}",
                         extra=[pl.when(pl.col("denominator") > 0).then(
                             pl.col("total_profit") / pl.col("denominator"))
                             .alias("profit_per_customer")])


def whale_curve(profitability: pl.DataFrame | CRMData, *, buyers_only: bool = True,
                **kwargs: Any) -> pl.DataFrame:
    """Cumulative profit by customer, most profitable first (the "whale curve").

    Parameters
    ----------
    profitability : pl.DataFrame or CRMData
        The result of :func:`customer_profitability`, or a CRMData (then ``kwargs`` go to
        :func:`customer_profitability`).
    buyers_only : bool
        Keep only customers with at least one order.

    Returns
    -------
    pl.DataFrame
        One row per customer, in falling order of profit:

        - rank: 1 for the most profitable
        - customer_share: rank / customers
        - profit: the customer's profit
        - cumulative_profit: running total of profit
        - cumulative_share: cumulative_profit / total profit (peaks above 1 when some
          customers lose money: the hump of the whale)

    Notes
    -----
    Kaplan & Cooper's whale curve (Cost & Effect, 1998): the most profitable customers
    often earn well over 100 % of total profit, and the least profitable give part of it
    back.

    Examples
    --------
    >>> import polars as pl
    >>> p = pl.DataFrame({"customer_id": ["a", "b", "c"], "orders": [1, 1, 1],
    ...                   "profit": [-20.0, 100.0, 20.0]})
    >>> whale_curve(p)["cumulative_share"].to_list()
    [1.0, 1.2, 1.0]
    """
    if isinstance(profitability, CRMData):
        profitability = customer_profitability(profitability, **kwargs)
    frame = B.as_polars(profitability, name="whale_curve: profitability")
    B.require_column(frame, "profit", "profitability", "whale_curve")
    lf = frame.lazy()
    if buyers_only and "orders" in frame.columns:
        lf = lf.filter(pl.col("orders") > 0)
    out = (lf.sort(["profit", S.CUSTOMER_ID] if S.CUSTOMER_ID in frame.columns else "profit",
                   descending=[True, False] if S.CUSTOMER_ID in frame.columns else True)
           .select(pl.int_range(1, pl.len() + 1).alias("rank"), "profit")
           .with_columns((pl.col("rank") / pl.len()).alias("customer_share"),
                         pl.col("profit").cum_sum().alias("cumulative_profit"))
           .with_columns((pl.col("cumulative_profit") / pl.col("profit").sum())
                         .alias("cumulative_share")))
    return out.select("rank", "customer_share", "profit", "cumulative_profit",
                      "cumulative_share").collect()


def acquisition_payback(data: CRMData, *, by: str | Sequence[str] | None =
                        S.ACQUISITION_CHANNEL, margin: float = 1.0, within: Any = "365d",
                        as_of: Any = None, confidence: float = 0.95) -> pl.DataFrame:
    """Acquisition cost and how quickly new buyers pay it back.

    Parameters
    ----------
    data : CRMData
        Needs ``customers.acquisition_cost``.
    by : str or list of str, optional
        Customer attributes; acquisition channel by default.
    margin : float
        Contribution margin applied to each order.
    within : str
        Payback horizon for the rate (default 365 days after the first order).
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        - the ``by`` columns
        - customers: buyers with a known acquisition cost
        - mean_acquisition_cost: their average acquisition cost
        - numerator: buyers whose cumulative contribution reached their acquisition cost
          within ``within`` of the first order; denominator: buyers whose first order is at
          least ``within`` before ``as_of``
        - value, ci_low, ci_high: payback rate and Wilson interval
        - median_payback_days: median days from first order to payback among those who
          paid back by ``as_of``
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2023, 1, 1)] * 2, "acquisition_cost": [30.0, 30.0],
    ...     "acquisition_channel": ["ads", "ads"]})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "ordered_at": [datetime(2023, 1, 1), datetime(2023, 1, 11), datetime(2023, 1, 1)],
    ...     "amount": [20.0, 20.0, 20.0]})
    >>> d = CRMData(customers=customers, orders=orders, as_of=datetime(2024, 6, 1))
    >>> acquisition_payback(d).select("numerator", "denominator", "median_payback_days")
    shape: (1, 3)
    ┌───────────┬─────────────┬─────────────────────┐
    │ numerator ┆ denominator ┆ median_payback_days │
    │ ---       ┆ ---         ┆ ---                 │
    │ i64       ┆ i64         ┆ f64                 │
    ╞═══════════╪═════════════╪═════════════════════╡
    │ 1         ┆ 2           ┆ 10.0                │
    └───────────┴─────────────┴─────────────────────┘
    """
    B.check_crm(data, "acquisition_payback")
    B.require_column(data.customers, S.ACQUISITION_COST, S.CUSTOMERS, "acquisition payback")
    m = _check_margin(margin)
    cut = B.resolve(data, as_of)
    win = B.as_timedelta(within, "within")
    keys = B.norm_by(by)
    cost = data.customers.lazy().select(S.CUSTOMER_ID, S.ACQUISITION_COST).filter(
        pl.col(S.ACQUISITION_COST).is_not_null())
    o = (data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
         .join(cost, on=S.CUSTOMER_ID)
         .sort(S.CUSTOMER_ID, S.ORDERED_AT)
         .with_columns((pl.col(S.AMOUNT) * m).cum_sum().over(S.CUSTOMER_ID).alias("_cum"),
                       pl.col(S.ORDERED_AT).min().over(S.CUSTOMER_ID).alias("_first")))
    per = (o.group_by(S.CUSTOMER_ID)
           .agg(pl.col("_first").first(), pl.col(S.ACQUISITION_COST).first(),
                pl.col(S.ORDERED_AT).filter(pl.col("_cum") >= pl.col(S.ACQUISITION_COST))
                .min().alias("_paid")))
    per = per.with_columns(
        B.days_between("_first", "_paid").alias("_days"),
        (pl.col("_first") + win <= cut).alias("_judged"))
    res = B.group_agg(B.attach(per, data.customers, keys), keys, [
        pl.len().cast(pl.Int64).alias("customers"),
        pl.col(S.ACQUISITION_COST).mean().alias("mean_acquisition_cost"),
        (pl.col("_days") <= win.total_seconds() / SECONDS_PER_DAY).fill_null(False)
        .filter(pl.col("_judged")).sum().alias("numerator"),
        pl.col("_judged").sum().alias("denominator"),
        pl.col("_days").median().alias("median_payback_days")])
    res = B.with_all_groups(res, B.by_groups(data.customers, keys), keys,
                            ["customers", "numerator", "denominator"])
    out = B.finish_rate(res, keys, confidence=confidence,
                        definition=f"buyers whose cumulative {m:g} x revenue reached their "
                                   f"acquisition cost within {win.days}d of the first order / "
                                   f"buyers observed >= {win.days}d")
    return out.select(*keys, "customers", "mean_acquisition_cost", *B.RATE_COLUMNS,
                      "median_payback_days", "definition")


def biggest_vs_most_profitable(data: CRMData, *, top: float = 0.1, margin: float = 1.0,
                               channel_costs: Mapping[str, float] | None = None,
                               amount_is_net: bool = True, as_of: Any = None
                               ) -> pl.DataFrame:
    """Are the biggest buyers the most profitable? The top buyers by revenue and by profit.

    Parameters
    ----------
    data, margin, channel_costs, amount_is_net, as_of : see :func:`customer_profitability`
    top : float
        Share of buyers in each top group, in (0, 1) (default 0.1: the top decile).
        The group size is rounded up, so it has at least one buyer.

    Returns
    -------
    pl.DataFrame
        Three rows, ``group``: "top by revenue", "top by profit" and "in both". Columns:

        - group
        - customers: buyers in the group
        - share_of_top: customers / size of a top group (for "in both": how far the two
          lists agree)
        - revenue, cost_to_serve, acquisition_cost, profit: sums over the group
        - share_of_profit: profit / the profit of all buyers
        - unprofitable: buyers in the group with profit <= 0

    Notes
    -----
    A large buyer can earn less than a small one: heavy discounts, many sales visits,
    costly acquisition or a low-margin mix all cost money that revenue does not show.
    When the two lists differ a lot, targeting by revenue (the usual "key account" list)
    rewards the wrong customers. Ties in revenue or profit are broken by customer id.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b", "c", "d"],
    ...     "acquired_at": [datetime(2024, 1, 1)] * 4,
    ...     "acquisition_cost": [300.0, 0.0, 0.0, 0.0]})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3", "4"],
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "ordered_at": [datetime(2024, 1, 2)] * 4, "amount": [500.0, 400.0, 100.0, 50.0]})
    >>> d = CRMData(customers=customers, orders=orders, as_of=datetime(2024, 6, 1))
    >>> biggest_vs_most_profitable(d, top=0.5, margin=0.5).select(
    ...     "group", "customers", "revenue", "profit")
    shape: (3, 4)
    ┌────────────────┬───────────┬─────────┬────────┐
    │ group          ┆ customers ┆ revenue ┆ profit │
    │ ---            ┆ ---       ┆ ---     ┆ ---    │
    │ str            ┆ u32       ┆ f64     ┆ f64    │
    ╞════════════════╪═══════════╪═════════╪════════╡
    │ top by revenue ┆ 2         ┆ 900.0   ┆ 150.0  │
    │ top by profit  ┆ 2         ┆ 500.0   ┆ 250.0  │
    │ in both        ┆ 1         ┆ 400.0   ┆ 200.0  │
    └────────────────┴───────────┴─────────┴────────┘
    """
    if not 0 < top < 1:
        raise ValueError(f"top: expected a share between 0 and 1 (0.1 = top decile), got "
                         f"{top!r}")
    B.check_crm(data, "biggest_vs_most_profitable")
    cut = B.resolve(data, as_of)
    lf, _ = _profit_lazy(data, margin=margin, channel_costs=channel_costs,
                         amount_is_net=amount_is_net, cut=cut)
    buyers = lf.filter(pl.col("orders") > 0).collect()
    k = max(1, math.ceil(round(top * buyers.height, 9)))  # round: 0.1 * 30 is 3.0000000000000004
    total = float(buyers.get_column("profit").sum())

    def best(col: str) -> pl.DataFrame:
        return buyers.sort([col, S.CUSTOMER_ID], descending=[True, False]).head(k)

    by_rev, by_profit = best("revenue"), best("profit")
    both = by_rev.join(by_profit.select(S.CUSTOMER_ID), on=S.CUSTOMER_ID, how="semi")
    cols = ["revenue", "cost_to_serve", "acquisition_cost", "profit"]
    rows = []
    for name, g in (("top by revenue", by_rev), ("top by profit", by_profit),
                    ("in both", both)):
        sums = {c: float(g.get_column(c).sum()) for c in cols}
        rows.append({"group": name, "customers": g.height,
                     "share_of_top": g.height / k if buyers.height else None, **sums,
                     "share_of_profit": sums["profit"] / total if total else None,
                     "unprofitable": int((g.get_column("profit") <= 0).sum())})
    return pl.DataFrame(rows, schema={
        "group": pl.String, "customers": pl.UInt32, "share_of_top": pl.Float64,
        "revenue": pl.Float64, "cost_to_serve": pl.Float64, "acquisition_cost": pl.Float64,
        "profit": pl.Float64, "share_of_profit": pl.Float64, "unprofitable": pl.UInt32})


def cost_to_keep_vs_win(data: CRMData, *, period: str = "year",
                        channel_costs: Mapping[str, float] | None = None,
                        as_of: Any = None) -> pl.DataFrame:
    """What it costs to win a new customer against what it costs to keep one, per period.

    Parameters
    ----------
    data : CRMData
        Needs ``customers.acquisition_cost``, and contacts with a cost (``contacts.cost``
        or ``channel_costs``) for the cost of keeping.
    period : {"month", "quarter", "year"}
    channel_costs : mapping channel -> cost, optional
        Cost per contact by channel, used where ``contacts.cost`` is missing.
    as_of : optional

    Returns
    -------
    pl.DataFrame
        One row per calendar period with any activity, oldest first:

        - period_start, period_end, complete (the period ended by ``as_of``)
        - acquisition_spend: acquisition cost of the customers acquired in the period
        - customers_won: of those, the ones who have bought (by ``as_of``)
        - cost_to_win: acquisition_spend / customers_won
        - retention_spend: cost of the contacts in the period with customers who had
          bought before it
        - customers_kept: buyers of the previous period who bought again in this one
        - cost_to_keep: retention_spend / customers_kept
        - ratio: cost_to_win / cost_to_keep (how many customers the price of winning one
          would keep)
        - definition

    Notes
    -----
    Both costs are averages over the customers who succeeded: spend on prospects who
    never bought counts towards the cost of winning, and spend on customers who lapsed
    anyway counts towards the cost of keeping. Every contact with an existing buyer
    counts as retention spend, service calls included. Costs that the data do not
    record, such as discounts, reward programmes and advertising aimed at existing
    customers, are left out. Add them to ``contacts.cost`` to count them.

    The cost of keeping is a cost per period, and the cost of winning is paid once. With
    ``period="year"`` the ratio compares winning a customer with a year of keeping one.
    Shorter periods give larger ratios for the same business.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b", "c"],
    ...     "acquired_at": [datetime(2023, 1, 1), datetime(2024, 1, 1), datetime(2024, 2, 1)],
    ...     "acquisition_cost": [50.0, 60.0, 40.0]})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "ordered_at": [datetime(2023, 3, 1), datetime(2024, 3, 1), datetime(2024, 2, 1)],
    ...     "amount": [10.0] * 3})
    >>> contacts = pl.DataFrame({"customer_id": ["a"], "contacted_at": [datetime(2024, 2, 1)],
    ...     "channel": ["phone"], "cost": [5.0]})
    >>> d = CRMData(customers=customers, orders=orders, contacts=contacts,
    ...             as_of=datetime(2025, 1, 1))
    >>> cost_to_keep_vs_win(d).filter(pl.col("period_start").dt.year() == 2024).select(
    ...     "customers_won", "cost_to_win", "customers_kept", "cost_to_keep", "ratio")
    shape: (1, 5)
    ┌───────────────┬─────────────┬────────────────┬──────────────┬───────┐
    │ customers_won ┆ cost_to_win ┆ customers_kept ┆ cost_to_keep ┆ ratio │
    │ ---           ┆ ---         ┆ ---            ┆ ---          ┆ ---   │
    │ u32           ┆ f64         ┆ u32            ┆ f64          ┆ f64   │
    ╞═══════════════╪═════════════╪════════════════╪══════════════╪═══════╡
    │ 1             ┆ 100.0       ┆ 1              ┆ 5.0          ┆ 20.0  │
    └───────────────┴─────────────┴────────────────┴──────────────┴───────┘
    """
    B.check_crm(data, "cost_to_keep_vs_win")
    B.require_column(data.customers, S.ACQUISITION_COST, S.CUSTOMERS,
                     "the cost of winning a customer")
    cut = B.resolve(data, as_of)
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    first = orders.group_by(S.CUSTOMER_ID).agg(pl.col(S.ORDERED_AT).min().alias("_first"))
    win = (data.customers.lazy().filter(pl.col(S.ACQUIRED_AT) <= cut)
           .join(first, on=S.CUSTOMER_ID, how="left")
           .group_by(B.periodize(S.ACQUIRED_AT, period).alias("period_start"))
           .agg(pl.col(S.ACQUISITION_COST).fill_null(0.0).sum().alias("acquisition_spend"),
                pl.col("_first").is_not_null().sum().alias("customers_won")))
    bought = (orders.select(S.CUSTOMER_ID,
                            B.periodize(S.ORDERED_AT, period).alias("period_start"))
              .unique())
    kept = (bought.with_columns(B.period_end_expr("period_start", period)
                                .alias("period_start"))
            .join(bought, on=[S.CUSTOMER_ID, "period_start"], how="semi")
            .group_by("period_start").agg(pl.len().alias("customers_kept")))
    rows, how = _contact_cost_rows(data, cut, channel_costs)
    if rows is None:
        raise SchemaError(f"the cost of keeping a customer needs what contacts cost: "
                          f"{how}. Add a cost column to the contacts, or pass "
                          f"channel_costs={{'email': 0.05, 'phone': 4.0, ...}}.")
    spend = (rows.with_columns(B.periodize(S.CONTACTED_AT, period).alias("period_start"))
             .join(first, on=S.CUSTOMER_ID, how="inner")
             .filter(pl.col("_first") < pl.col("period_start"))
             .group_by("period_start").agg(pl.col("_cost").sum().alias("retention_spend")))
    periods = pl.concat([f.select("period_start") for f in (win, kept, spend)]).unique()
    out = (periods.filter(pl.col("period_start") <= cut)
           .join(win, on="period_start", how="left")
           .join(spend, on="period_start", how="left")
           .join(kept, on="period_start", how="left")
           .with_columns(pl.col("acquisition_spend", "retention_spend").fill_null(0.0),
                         pl.col("customers_won", "customers_kept").fill_null(0)
                         .cast(pl.UInt32))
           .with_columns(B.period_end_expr("period_start", period).alias("period_end"))
           .with_columns((pl.col("period_end") <= cut).alias("complete"),
                         _per("acquisition_spend", "customers_won").alias("cost_to_win"),
                         _per("retention_spend", "customers_kept").alias("cost_to_keep"))
           .with_columns(_per("cost_to_win", "cost_to_keep").alias("ratio"),
                         pl.lit(f"cost to win = acquisition cost of the customers acquired "
                                f"in the period / those of them who bought; cost to keep = "
                                f"cost of contacts with earlier buyers ({how}) / buyers of "
                                f"the previous period who bought again").alias("definition"))
           .sort("period_start"))
    return out.select("period_start", "period_end", "complete", "acquisition_spend",
                      "customers_won", "cost_to_win", "retention_spend", "customers_kept",
                      "cost_to_keep", "ratio", "definition").collect()


def _per(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den))


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
