"""What drives defection, measured as comparisons: account-manager departures, reward
schemes, and over-contact by e-mail (a dose-response curve)."""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab._stats import two_proportion_test, wilson_exprs
from loyaltylab._units import DAYS_PER_MONTH, SECONDS_PER_DAY
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.metrics import _base as B

__all__ = ["manager_departure_churn", "reward_scheme_comparison", "email_dose_response",
           "departure_reasons"]


def _nan_to_none(x: float) -> float | None:
    return None if x is None or x != x else float(x)


def manager_departure_churn(data: CRMData, *, horizon: Any = "180d",
                            active_within: Any = "90d", inactive_after: Any = "180d",
                            as_of: Any = None,
                            confidence: float = 0.95) -> pl.DataFrame:
    """Churn of a departing account manager's clients against clients whose manager
    stayed.

    Parameters
    ----------
    data : CRMData
        Needs the assignments table (``end_reason == "manager_left"`` marks departures).
    horizon : str
        How long after the departure churn is measured (default 180 days).
    active_within : str
        A client counts as active at the departure date when they ordered in the
        ``active_within`` before it (default 90 days).
    inactive_after : str
        Inactivity that marks a customer as lost; departures less than ``horizon`` +
        ``inactive_after`` before ``as_of`` are not judged yet.
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        Two rows, ``group`` = "manager_left" then "manager_stayed":

        - group
        - numerator: clients lost within ``horizon`` of the departure date (no order at
          or after departure + horizon)
        - denominator: clients active at the departure date (an order in the
          ``inactive_after`` before it). For "manager_left": the departing manager's
          clients. For "manager_stayed": clients active at the same departure date whose
          manager did not leave within ``horizon`` either side of it (a client is counted
          once per departure date, so can appear more than once)
        - value, ci_low, ci_high: churn within the horizon and Wilson interval
        - risk_ratio: churn of "manager_left" / churn of "manager_stayed"
        - hazard_ratio: log(1 - churn_left) / log(1 - churn_stayed), the constant hazard
          ratio over the horizon that turns the stayed clients' churn into the leavers'
          (comparable to a Cox hazard ratio, such as the simulator's planted 2.0; the
          risk ratio is always nearer 1 when churn is common: a hazard ratio of 2 on a
          21 % baseline gives a risk ratio of 1.79)
        - p_value: two-proportion z-test (pooled), the same on both rows
        - departures: departure dates judged
        - definition

    Notes
    -----
    A matched-date comparison (each departure compared with the clients of other
    managers at the same date), not a regression: differences in the client mix of
    managers are not adjusted for. Our definition.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "acquired_at": [datetime(2022, 1, 1)] * 2})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "3", "4"],
    ...     "customer_id": ["a", "b", "a", "b"],
    ...     "ordered_at": [datetime(2022, 5, 1), datetime(2022, 5, 1), datetime(2022, 6, 1),
    ...                    datetime(2023, 3, 1)], "amount": [1.0] * 4})
    >>> assignments = pl.DataFrame({"customer_id": ["a", "b"],
    ...     "account_manager": ["M1", "M2"], "assigned_from": [datetime(2022, 1, 1)] * 2,
    ...     "assigned_to": [datetime(2022, 6, 1), None],
    ...     "end_reason": ["manager_left", None]})
    >>> d = CRMData(customers=customers, orders=orders, assignments=assignments,
    ...             as_of=datetime(2024, 1, 1))
    >>> manager_departure_churn(d).select("group", "numerator", "denominator")
    shape: (2, 3)
    ┌────────────────┬───────────┬─────────────┐
    │ group          ┆ numerator ┆ denominator │
    │ ---            ┆ ---       ┆ ---         │
    │ str            ┆ i64       ┆ i64         │
    ╞════════════════╪═══════════╪═════════════╡
    │ manager_left   ┆ 1         ┆ 1           │
    │ manager_stayed ┆ 0         ┆ 1           │
    └────────────────┴───────────┴─────────────┘
    """
    B.check_crm(data, "manager_departure_churn")
    data.require(S.ASSIGNMENTS, purpose="manager departure churn")
    B.require_column(data.assignments, S.END_REASON, S.ASSIGNMENTS, "manager departure churn")
    cut = B.resolve(data, as_of)
    hz = B.as_timedelta(horizon, "horizon")
    lag = B.as_timedelta(inactive_after, "inactive_after")
    act = B.as_timedelta(active_within, "active_within")
    asg = data.assignments.lazy()
    left = (asg.filter((pl.col(S.END_REASON) == S.MANAGER_LEFT)
                       & pl.col(S.ASSIGNED_TO).is_not_null())
            .select(S.CUSTOMER_ID, S.ACCOUNT_MANAGER, pl.col(S.ASSIGNED_TO).alias("_D")))
    dates = (left.select("_D").unique()
             .filter(pl.col("_D") + hz + lag <= cut))
    left_mgr = left.select(S.ACCOUNT_MANAGER, pl.col("_D").alias("_Dm")).unique()
    # assignments running at each departure date
    running = (asg.join(dates, how="cross")
               .filter((pl.col(S.ASSIGNED_FROM) <= pl.col("_D"))
                       & (pl.col(S.ASSIGNED_TO).is_null()
                          | (pl.col(S.ASSIGNED_TO) >= pl.col("_D")))))
    treated = (running.filter((pl.col(S.END_REASON) == S.MANAGER_LEFT)
                              & (pl.col(S.ASSIGNED_TO) == pl.col("_D")))
               .select(S.CUSTOMER_ID, "_D").unique()
               .with_columns(pl.lit("manager_left").alias("group")))
    leaving_near = (running.join(left_mgr, on=S.ACCOUNT_MANAGER, how="inner")
                    .filter((pl.col("_Dm") - pl.col("_D")).abs() <= hz)
                    .select(S.CUSTOMER_ID, "_D").unique())
    control = (running.select(S.CUSTOMER_ID, "_D").unique()
               .join(leaving_near, on=[S.CUSTOMER_ID, "_D"], how="anti")
               .join(treated.select(S.CUSTOMER_ID, "_D"), on=[S.CUSTOMER_ID, "_D"],
                     how="anti")
               .with_columns(pl.lit("manager_stayed").alias("group")))
    pairs = pl.concat([treated, control])
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    active = (orders.join(pairs.select(S.CUSTOMER_ID, "_D").unique(), on=S.CUSTOMER_ID)
              .filter((pl.col(S.ORDERED_AT) <= pl.col("_D"))
                      & (pl.col(S.ORDERED_AT) > pl.col("_D") - act))
              .select(S.CUSTOMER_ID, "_D").unique())
    ev = (pairs.join(active, on=[S.CUSTOMER_ID, "_D"], how="semi")
          .with_columns((pl.col("_D") + hz).alias("_at")))
    ev = B.alive_after(ev, orders, at="_at")
    res = ev.group_by("group").agg((~pl.col("retained")).sum().alias("numerator"),
                                   pl.len().alias("denominator"))
    grid = pl.LazyFrame({"group": ["manager_left", "manager_stayed"], "_o": [0, 1]})
    res = B.with_all_groups(res, grid, ["group"], ["numerator", "denominator"])
    out = B.finish_rate(res, ["_o"], confidence=confidence,
                        definition=f"clients with an order in the {act.days}d before the departure "
                                   f"date and no order from "
                                   f"{hz.days}d after it on / those clients")
    n_dates = dates.select(pl.len()).collect().item()
    k1, n1, k2, n2 = (out["numerator"][0], out["denominator"][0], out["numerator"][1],
                      out["denominator"][1])
    _, p = two_proportion_test(k1, n1, k2, n2)
    rr = (k1 / n1) / (k2 / n2) if n1 and n2 and k2 else None
    # complementary log-log: the constant hazard ratio that turns one churn share into
    # the other over the same horizon
    hr = (math.log(1 - k1 / n1) / math.log(1 - k2 / n2)
          if n1 and n2 and 0 < k2 < n2 and k1 < n1 else None)
    return out.with_columns(pl.lit(rr, dtype=pl.Float64).alias("risk_ratio"),
                            pl.lit(hr, dtype=pl.Float64).alias("hazard_ratio"),
                            pl.lit(_nan_to_none(p), dtype=pl.Float64).alias("p_value"),
                            pl.lit(n_dates, dtype=pl.Int64).alias("departures")).select(
        "group", *B.RATE_COLUMNS, "risk_ratio", "hazard_ratio", "p_value", "departures",
        "definition")


def reward_scheme_comparison(data: CRMData, *, horizon: Any = "365d",
                             inactive_after: Any = "180d",
                             reference: str = "first_time_discount", as_of: Any = None,
                             confidence: float = 0.95) -> pl.DataFrame:
    """Reward schemes compared on retention and revenue ``horizon`` after the first order.

    Parameters
    ----------
    data : CRMData
        Needs ``customers.reward_scheme``.
    horizon : str
        Follow-up after the first order (default 365 days: 12-month retention).
    inactive_after : str
        Buyers are judged when ``horizon`` + ``inactive_after`` have passed since their
        first order.
    reference : str
        Scheme the others are tested against (default "first_time_discount").
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        One row per scheme, the reference first:

        - reward_scheme
        - numerator: buyers still buying ``horizon`` after their first order (an order at
          or after first order + horizon); denominator: judged buyers
        - value, ci_low, ci_high: 12-month retention and Wilson interval
        - difference: value - the reference's value
        - p_value: two-proportion z-test against the reference (null on the reference)
        - revenue: mean revenue per buyer in [first order, first order + horizon)
        - revenue_ci_low, revenue_ci_high: Student-t interval of that mean
        - discounts: mean discount granted per buyer in the same window
        - revenue_p_value: Welch t-test of mean revenue against the reference
        - definition

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> from loyaltylab import CRMData
    >>> customers = pl.DataFrame({"customer_id": ["a", "b", "c", "d"],
    ...     "acquired_at": [datetime(2022, 1, 1)] * 4,
    ...     "reward_scheme": ["every_purchase", "every_purchase", "first_time_discount",
    ...                       "first_time_discount"]})
    >>> orders = pl.DataFrame({"order_id": [str(i) for i in range(6)],
    ...     "customer_id": ["a", "b", "c", "d", "a", "b"],
    ...     "ordered_at": [datetime(2022, 1, 1)] * 4 + [datetime(2023, 2, 1)] * 2,
    ...     "amount": [10.0, 10.0, 10.0, 10.0, 8.0, 8.0]})
    >>> d = CRMData(customers=customers, orders=orders, as_of=datetime(2024, 1, 1))
    >>> reward_scheme_comparison(d).select("reward_scheme", "numerator", "denominator")
    shape: (2, 3)
    ┌─────────────────────┬───────────┬─────────────┐
    │ reward_scheme       ┆ numerator ┆ denominator │
    │ ---                 ┆ ---       ┆ ---         │
    │ str                 ┆ i64       ┆ i64         │
    ╞═════════════════════╪═══════════╪═════════════╡
    │ first_time_discount ┆ 0         ┆ 2           │
    │ every_purchase      ┆ 2         ┆ 2           │
    └─────────────────────┴───────────┴─────────────┘
    """
    B.check_crm(data, "reward_scheme_comparison")
    B.require_column(data.customers, S.REWARD_SCHEME, S.CUSTOMERS, "reward scheme comparison")
    cut = B.resolve(data, as_of)
    hz = B.as_timedelta(horizon, "horizon")
    lag = B.as_timedelta(inactive_after, "inactive_after")
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    buy = (B.buyers(orders, cut).filter(pl.col("first_order") + hz + lag <= cut)
           .with_columns((pl.col("first_order") + hz).alias("_at")))
    disc = (pl.col(S.DISCOUNT).fill_null(0.0) if S.DISCOUNT in data.orders.columns
            else pl.lit(0.0))
    win = (orders.join(buy.select(S.CUSTOMER_ID, "_at"), on=S.CUSTOMER_ID)
           .filter(pl.col(S.ORDERED_AT) < pl.col("_at"))
           .group_by(S.CUSTOMER_ID).agg(pl.col(S.AMOUNT).sum().alias("_rev"),
                                         disc.sum().alias("_disc")))
    per = (B.alive_after(buy, orders, at="_at").join(win, on=S.CUSTOMER_ID, how="left")
           .join(data.customers.lazy().select(S.CUSTOMER_ID, S.REWARD_SCHEME),
                 on=S.CUSTOMER_ID, how="left")
           .select(pl.col(S.REWARD_SCHEME).fill_null("unknown"), "retained",
                   pl.col("_rev").fill_null(0.0), pl.col("_disc").fill_null(0.0))
           .collect())
    schemes = sorted(set(per.get_column(S.REWARD_SCHEME).to_list())
                     | set(data.customers.get_column(S.REWARD_SCHEME).drop_nulls().to_list()))
    if reference not in schemes:
        raise ValueError(f"reference: no customer has reward_scheme {reference!r}; schemes "
                         f"found: {schemes}")
    schemes = [reference] + [s for s in schemes if s != reference]
    ref = per.filter(pl.col(S.REWARD_SCHEME) == reference)
    k0, n0 = int(ref["retained"].sum()), ref.height
    rev0 = ref["_rev"].to_numpy()
    rows = []
    for s in schemes:
        sub = per.filter(pl.col(S.REWARD_SCHEME) == s)
        k, n = int(sub["retained"].sum()), sub.height
        rev = sub["_rev"].to_numpy()
        p = rp = diff = None
        if s != reference:
            _, p = two_proportion_test(k, n, k0, n0)
            p = _nan_to_none(p)
            if n > 1 and len(rev0) > 1 and (rev.var() + rev0.var()) > 0:
                rp = float(stats.ttest_ind(rev, rev0, equal_var=False).pvalue)
            if n and n0:
                diff = k / n - k0 / n0
        elif n:
            diff = 0.0
        rows.append({"reward_scheme": s, "numerator": k, "denominator": n,
                     "difference": diff, "p_value": p,
                     "revenue": float(rev.mean()) if n else None,
                     "std": float(rev.std(ddof=1)) if n > 1 else None, "n": n,
                     "discounts": float(sub["_disc"].mean()) if n else None,
                     "revenue_p_value": rp})
    schema = {"reward_scheme": pl.String, "numerator": pl.Int64, "denominator": pl.Int64,
              "difference": pl.Float64, "p_value": pl.Float64, "revenue": pl.Float64,
              "std": pl.Float64, "n": pl.Int64, "discounts": pl.Float64,
              "revenue_p_value": pl.Float64}
    frame = pl.DataFrame(rows, schema=schema)
    frame = B.mean_ci(frame, mean="revenue", confidence=confidence).rename(
        {"ci_low": "revenue_ci_low", "ci_high": "revenue_ci_high"}).drop("std_error", "n")
    out = B.finish_rate(frame.lazy().with_row_index("_o"), ["_o"], confidence=confidence,
                        definition=f"buyers with an order >= {hz.days}d after their first "
                                   f"order / buyers judged ({hz.days}d + {lag.days}d "
                                   f"observed); revenue in the first {hz.days}d")
    return out.select("reward_scheme", *B.RATE_COLUMNS, "difference", "p_value", "revenue",
                      "revenue_ci_low", "revenue_ci_high", "discounts", "revenue_p_value",
                      "definition")


def email_dose_response(data: CRMData, *, bands: Sequence[float] = (0, 2, 4, 6, 8),
                        channel: str = "email", lookback: Any = "180d",
                        active_within: Any = "90d", horizon: Any = "180d",
                        inactive_after: Any = "180d", threshold: float | None = None,
                        as_of: Any = None, confidence: float = 0.95) -> pl.DataFrame:
    """Later churn by how many e-mails a customer received per month (dose-response).

    Each buyer is followed from their first order: the dose is measured over the first
    ``lookback`` days, the outcome over the ``horizon`` after that (a per-customer
    landmark at first order + ``lookback``).

    Parameters
    ----------
    data : CRMData
        Needs contacts (outbound ``channel`` contacts are counted).
    bands : sequence of float
        Lower edges of the e-mails-per-month bands; the last band is open-ended.
    channel : str
        Contact channel counted as the dose ("email").
    lookback : str
        Dose window after the first order (default 180 days).
    active_within : str
        A buyer is at risk at the landmark when they ordered in the ``active_within``
        before it (default 90 days).
    horizon : str
        Churn is measured over this window after the landmark (default 180 days).
    inactive_after : str
        Buyers are judged when ``horizon`` + ``inactive_after`` have passed since the
        landmark (default 180 days).
    threshold : float, optional
        If given, the trend is fitted on e-mails per month above it (a "hockey stick"
        dose-response: no effect below the threshold).
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        One row per band:

        - band: "lo-hi" e-mails per month (last "lo+"); band_low: the lower edge
        - numerator: buyers lost within ``horizon`` after the landmark (no order at or
          after landmark + horizon); denominator: buyers at risk at the landmark
        - value, ci_low, ci_high: churn and Wilson interval
        - mean_emails: mean e-mails per month in the band
        - odds_ratio_per_email, or_ci_low, or_ci_high, trend_p_value: logistic
          regression of churn on e-mails per month (above ``threshold`` if given), fitted
          on the buyers (statsmodels Logit, Wald interval; the same on every row)
        - definition

    Notes
    -----
    Our definition (no product-analytics standard). Observational: customers who get
    more e-mails may differ in other ways; the curve shows association, the planted
    simulation shows it recovers a true effect.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.make_crm(1000, seed=3)
    >>> r = ll.metrics.email_dose_response(d, threshold=4)
    >>> r.columns[:4]
    ['band', 'band_low', 'numerator', 'denominator']
    """
    B.check_crm(data, "email_dose_response")
    data.require(S.CONTACTS, purpose="the e-mail dose-response")
    cut = B.resolve(data, as_of)
    hz = B.as_timedelta(horizon, "horizon")
    lag = B.as_timedelta(inactive_after, "inactive_after")
    back = B.as_timedelta(lookback, "lookback")
    act = B.as_timedelta(active_within, "active_within")
    edges = [float(b) for b in bands]
    if not edges or edges != sorted(set(edges)) or edges[0] < 0:
        raise ValueError(f"bands: expected increasing non-negative lower edges, got {bands!r}")
    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    first = (orders.group_by(S.CUSTOMER_ID).agg(pl.col(S.ORDERED_AT).min().alias("_first"))
             .with_columns((pl.col("_first") + back).alias("_L"))
             .filter(pl.col("_L") + hz + lag <= cut))
    at_risk = (orders.join(first, on=S.CUSTOMER_ID)
               .filter((pl.col(S.ORDERED_AT) <= pl.col("_L"))
                       & (pl.col(S.ORDERED_AT) > pl.col("_L") - act))
               .select(S.CUSTOMER_ID).unique()
               .join(first, on=S.CUSTOMER_ID)
               .with_columns((pl.col("_L") + hz).alias("_at")))
    c = data.contacts.lazy().filter(pl.col(S.CHANNEL) == channel)
    if S.DIRECTION in data.contacts.columns:
        c = c.filter(pl.col(S.DIRECTION) == "outbound")
    months = back.total_seconds() / SECONDS_PER_DAY / DAYS_PER_MONTH
    dose = (c.join(first.select(S.CUSTOMER_ID, "_first", "_L"), on=S.CUSTOMER_ID)
            .filter((pl.col(S.CONTACTED_AT) >= pl.col("_first"))
                    & (pl.col(S.CONTACTED_AT) < pl.col("_L")))
            .group_by(S.CUSTOMER_ID).agg((pl.len() / months).alias("_rate")))
    per = (B.alive_after(at_risk, orders, at="_at").join(dose, on=S.CUSTOMER_ID, how="left")
           .with_columns(pl.col("_rate").fill_null(0.0)))
    idx = pl.lit(0)
    for i, e in enumerate(edges[1:], start=1):
        idx = pl.when(pl.col("_rate") >= e).then(pl.lit(i)).otherwise(idx)
    per = per.with_columns(idx.alias("_b")).collect()
    labels = [f"{edges[i]:g}-{edges[i + 1]:g}" for i in range(len(edges) - 1)] + [
        f"{edges[-1]:g}+"]
    grid = pl.LazyFrame({"_b": list(range(len(edges))), "band": labels, "band_low": edges},
                        schema={"_b": pl.Int32, "band": pl.String, "band_low": pl.Float64})
    res = (per.lazy().with_columns(pl.col("_b").cast(pl.Int32)).group_by("_b")
           .agg((~pl.col("retained")).sum().alias("numerator"), pl.len().alias("denominator"),
                pl.col("_rate").mean().alias("mean_emails")))
    res = B.with_all_groups(res, grid, ["_b"], ["numerator", "denominator"])
    y = (~per.get_column("retained")).cast(pl.Float64).to_numpy()
    x = per.get_column("_rate").to_numpy()
    if threshold is not None:
        x = np.maximum(x - float(threshold), 0.0)
    orr = lo = hi = pv = None
    if len(y) > 10 and 0 < y.sum() < len(y) and x.std() > 0:
        import warnings

        import statsmodels.api as sm
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
            if fit.mle_retvals.get("converged", False):
                zc = B.zcrit(confidence)
                b, se = float(fit.params[1]), float(fit.bse[1])
                orr, lo, hi = np.exp(b), np.exp(b - zc * se), np.exp(b + zc * se)
                pv = float(fit.pvalues[1])
        except (np.linalg.LinAlgError, ValueError):  # singular fit: report no trend
            pass
    dose_word = (f"e-mails/month above {threshold:g}" if threshold is not None
                 else "e-mails/month")
    out = B.finish_rate(
        res, ["_b"], confidence=confidence,
        definition=f"buyers with an order in the {act.days}d before first order + "
                   f"{back.days}d and none from {hz.days}d after that on / those buyers; "
                   f"dose = outbound {channel} contacts per month in the first {back.days}d; "
                   f"trend per {dose_word}",
        extra=[pl.lit(orr, dtype=pl.Float64).alias("odds_ratio_per_email"),
               pl.lit(lo, dtype=pl.Float64).alias("or_ci_low"),
               pl.lit(hi, dtype=pl.Float64).alias("or_ci_high"),
               pl.lit(pv, dtype=pl.Float64).alias("trend_p_value")])
    return out.select("band", "band_low", *B.RATE_COLUMNS, "mean_emails",
                      "odds_ratio_per_email", "or_ci_low", "or_ci_high", "trend_p_value",
                      "definition")


def departure_reasons(data: CRMData, *, lookback: Any = "180d", inactive_after: Any = "180d",
                      fast_within: Any = "7d", email_threshold: float = 4.0,
                      as_of: Any = None, confidence: float = 0.95) -> pl.DataFrame:
    """Why customers leave, read from the data: what happened to the customers who then
    left, against those who stayed.

    The customers active in the ``lookback`` before ``as_of - inactive_after`` (the
    judging date) are followed for ``inactive_after``. Those with no order in that time
    have left. For each event that can shake a customer's trust, the departure rate of
    the customers it happened to (in the ``lookback`` up to the judging date) is compared
    with the rate of the others.

    Parameters
    ----------
    data : CRMData
        Orders; each optional table adds its events: complaints, assignments (with
        ``end_reason``), contacts (with channel and direction), surveys (an ``nps``
        item).
    lookback : str
        The window in which a customer must have ordered, and in which events count.
    inactive_after : str
        Silence after the judging date that counts as leaving (default 180 days).
    fast_within : str
        A complaint not resolved within this long counts as slow (default 7 days).
    email_threshold : float
        Outbound e-mails per month above which a customer counts as over-contacted.
    as_of, confidence : see other metrics

    Returns
    -------
    pl.DataFrame
        One row per event the data can show, in this order: "complained", "complaint
        not resolved within <fast_within>", "account manager left", "more than
        <email_threshold> e-mails a month", "no outbound contact", "detractor answer
        (NPS 0-6)". Columns:

        - reason
        - customers: active customers the event happened to
        - departed: of them, the ones who left
        - departure_rate, ci_low, ci_high: departed / customers, Wilson interval
        - rate_without: departure rate of the active customers it did not happen to
        - risk_ratio, rr_ci_low, rr_ci_high: departure_rate / rate_without, with the
          interval on the log scale (Katz; null when a count is 0)
        - p_value: two-proportion z-test
        - share_of_departures: departed / all who left (how much of the loss the event
          accompanies; the events overlap, so the shares do not add up to 1)
        - definition

    Notes
    -----
    These are associations, not causes: a customer who was already drifting away may
    also get fewer contacts. Exit interviews, where they exist, are the direct evidence;
    this table is what the data alone can say, and a way to choose what to ask. For
    effects adjusted for each other, fit the Cox models of :mod:`loyaltylab.churn`.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> r = ll.metrics.departure_reasons(ll.datasets.load_sample())
    >>> r["reason"].to_list()[:3]
    ['complained', 'complaint not resolved within 7d', 'account manager left']
    """
    B.check_crm(data, "departure_reasons")
    cut = B.resolve(data, as_of)
    lag = B.as_timedelta(inactive_after, "inactive_after")
    back = B.as_timedelta(lookback, "lookback")
    fast = B.as_timedelta(fast_within, "fast_within")
    judge = cut - lag
    start = judge - back

    def inside(col: str) -> pl.Expr:
        return (pl.col(col) > start) & (pl.col(col) <= judge)

    orders = data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= cut)
    later = (orders.filter(pl.col(S.ORDERED_AT) > judge).select(S.CUSTOMER_ID).unique()
             .with_columns(pl.lit(False).alias("_left")))
    base = (orders.filter(inside(S.ORDERED_AT)).select(S.CUSTOMER_ID).unique()
            .join(later, on=S.CUSTOMER_ID, how="left")
            .with_columns(pl.col("_left").fill_null(True))).collect()
    events: list[tuple[str, pl.LazyFrame, bool]] = []  # (reason, customers, complement)
    if data.complaints is not None:
        comp = data.complaints.lazy().filter(inside(S.OPENED_AT))
        events.append(("complained", comp.select(S.CUSTOMER_ID), False))
        if S.RESOLVED_AT in data.complaints.columns:
            slow = comp.filter(pl.col(S.RESOLVED_AT).is_null()
                               | (pl.col(S.RESOLVED_AT) > pl.col(S.OPENED_AT) + fast))
            events.append((f"complaint not resolved within {fast.days}d",
                           slow.select(S.CUSTOMER_ID), False))
    if data.assignments is not None and S.END_REASON in data.assignments.columns:
        left = data.assignments.lazy().filter(
            (pl.col(S.END_REASON) == S.MANAGER_LEFT) & inside(S.ASSIGNED_TO))
        events.append(("account manager left", left.select(S.CUSTOMER_ID), False))
    if data.contacts is not None and S.DIRECTION in data.contacts.columns:
        out = data.contacts.lazy().filter((pl.col(S.DIRECTION) == "outbound")
                                          & inside(S.CONTACTED_AT))
        if S.CHANNEL in data.contacts.columns:
            months = back.total_seconds() / SECONDS_PER_DAY / DAYS_PER_MONTH
            heavy = (out.filter(pl.col(S.CHANNEL) == "email").group_by(S.CUSTOMER_ID)
                     .agg(pl.len().alias("_n")).filter(pl.col("_n") / months > email_threshold))
            events.append((f"more than {email_threshold:g} e-mails a month",
                           heavy.select(S.CUSTOMER_ID), False))
        events.append(("no outbound contact", out.select(S.CUSTOMER_ID), True))
    if data.surveys is not None and data.surveys.get_column(S.ITEM).eq("nps").any():
        det = data.surveys.lazy().filter((pl.col(S.ITEM) == "nps") & (pl.col(S.SCORE) <= 6)
                                         & inside(S.ANSWERED_AT))
        events.append(("detractor answer (NPS 0-6)", det.select(S.CUSTOMER_ID), False))
    left = base.get_column("_left")
    total_left = int(left.sum())
    z = B.zcrit(confidence)
    rows = []
    for reason, who, complement in events:
        hit = who.unique().collect().get_column(S.CUSTOMER_ID)
        flag = base.get_column(S.CUSTOMER_ID).is_in(hit.implode())
        if complement:
            flag = ~flag
        n1, k1 = int(flag.sum()), int((flag & left).sum())
        n0, k0 = int((~flag).sum()), int((~flag & left).sum())
        p1 = k1 / n1 if n1 else None
        p0 = k0 / n0 if n0 else None
        rr = lo = hi = None
        if k1 and k0 and n1 and n0:
            rr = p1 / p0
            se = math.sqrt(1 / k1 - 1 / n1 + 1 / k0 - 1 / n0)
            lo, hi = rr * math.exp(-z * se), rr * math.exp(z * se)
        _, p = two_proportion_test(k1, n1, k0, n0) if n1 and n0 else (None, float("nan"))
        rows.append({"reason": reason, "customers": n1, "departed": k1,
                     "departure_rate": p1, "rate_without": p0, "risk_ratio": rr,
                     "rr_ci_low": lo, "rr_ci_high": hi, "p_value": _nan_to_none(p),
                     "share_of_departures": k1 / total_left if total_left else None})
    schema = {"reason": pl.String, "customers": pl.Int64, "departed": pl.Int64,
              "departure_rate": pl.Float64, "rate_without": pl.Float64,
              "risk_ratio": pl.Float64, "rr_ci_low": pl.Float64, "rr_ci_high": pl.Float64,
              "p_value": pl.Float64, "share_of_departures": pl.Float64}
    out = pl.DataFrame(rows, schema=schema)
    out = out.with_columns(*wilson_exprs("departed", "customers", confidence=confidence)
                           ).with_columns(
        pl.lit(f"customers with an order in ({start:%Y-%m-%d}, {judge:%Y-%m-%d}]; left = no "
               f"order in the {lag.days}d after; events in the same window")
        .alias("definition"))
    return out.select("reason", "customers", "departed", "departure_rate", "ci_low",
                      "ci_high", "rate_without", "risk_ratio", "rr_ci_low", "rr_ci_high",
                      "p_value", "share_of_departures", "definition")


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
