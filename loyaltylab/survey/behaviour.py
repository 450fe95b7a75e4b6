"""From answers to behaviour: do survey answers predict repurchase, referral and churn?

Satisfaction is an attitude and loyalty a behaviour; the functions here join each answer to
what the customer did afterwards and measure how well the one predicts the other.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab import _stats
from loyaltylab._units import DAYS_PER_YEAR, SECONDS_PER_DAY, US_PER_DAY
from loyaltylab._util import parse_window, resolve_as_of
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.survey import _input as I
from loyaltylab.survey._drivers import drivers, relative_weights
from loyaltylab.survey._link import BehaviourLink, _correct, _reliability, link_to_behaviour
from loyaltylab.survey._outcomes import (_GROUP_ORDER, GROUP, OUTCOMES, _check_data,
                                         _select_surveys, answers_with_outcomes)

# a private name that moved out, still importable from here (tests/test_survey_behaviour.py)
from loyaltylab.survey._link import _auc as _auc

__all__ = ["answers_with_outcomes", "link_to_behaviour", "BehaviourLink",
           "retest_reliability", "satisfaction_hazard", "retention_by_nps_group",
           "nps_group_outcomes",
           "satisfaction_trap", "drivers", "relative_weights", "loyalty_profit",
           "OUTCOMES"]


def retest_reliability(responses: Any, *, item: str = "nps",
                            confidence: float = 0.95) -> pl.DataFrame:
    """Test-retest reliability of an item: correlation between a customer's answers in two
    consecutive waves.

    When the attitude is stable between waves, the correlation of two answers estimates
    the share of the answers' variance that is signal (the reliability), the factor by
    which measurement error shrinks regression slopes.

    Parameters
    ----------
    responses : pl.DataFrame or CRMData
        The long ``surveys`` table.
    item : str
        Item to assess.
    confidence : float
        Coverage of the Fisher-z interval.

    Returns
    -------
    pl.DataFrame
        One row:

        - item: the item
        - n_pairs: customers with two answers (their first two waves)
        - reliability: Pearson correlation of the first and second answer
        - ci_low, ci_high: Fisher-z interval

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import retest_reliability
    >>> long = pl.DataFrame({"customer_id": list("aabbccdd"), "survey": ["w1", "w2"] * 4,
    ...     "item": ["nps"] * 8, "score": [9.0, 10, 3, 4, 7, 6, 5, 5],
    ...     "answered_at": [None] * 8}).cast({"answered_at": pl.Datetime("us")})
    >>> round(retest_reliability(long)["reliability"][0], 3)
    0.933
    """
    frame, _ = I.responses_and_customers(responses)
    sort_cols = [S.ANSWERED_AT, S.SURVEY] if S.ANSWERED_AT in frame.columns else [S.SURVEY]
    pairs = (frame.filter((pl.col(S.ITEM) == item) & pl.col(S.SCORE).is_not_null())
             .sort(sort_cols)
             .group_by(S.CUSTOMER_ID, maintain_order=True)
             .agg(pl.col(S.SCORE).cast(pl.Float64).alias("_s"))
             .filter(pl.col("_s").list.len() >= 2)
             .select(pl.col("_s").list.get(0).alias("a"), pl.col("_s").list.get(1).alias("b")))
    n = pairs.height
    if n < 4:
        raise ValueError(f"item {item!r}: {n} customers answered twice; test-retest "
                         f"reliability needs at least 4")
    r = float(np.corrcoef(pairs["a"].to_numpy(), pairs["b"].to_numpy())[0, 1])
    z = _stats.z_value(confidence)
    fz, se = math.atanh(max(min(r, 0.999999), -0.999999)), 1 / math.sqrt(n - 3)
    return pl.DataFrame({"item": [item], "n_pairs": [n], "reliability": [r],
                         "ci_low": [math.tanh(fz - z * se)],
                         "ci_high": [math.tanh(fz + z * se)]})


def _known_only(data: CRMData, first: pl.DataFrame, purpose: str) -> pl.DataFrame:
    """Keep answers of customers in the customers table; warn about (report) the others."""
    unknown = first.join(data.customers.select(S.CUSTOMER_ID), on=S.CUSTOMER_ID, how="anti")
    if unknown.height:
        ids = unknown.get_column(S.CUSTOMER_ID).head(3).to_list()
        warnings.warn(f"surveys: {unknown.height} customers who answered are not in the "
                      f"customers table (first: {ids}); their behaviour is unknown, so "
                      f"{purpose} leaves them out", UserWarning, stacklevel=3)
    return first.join(data.customers.select(S.CUSTOMER_ID), on=S.CUSTOMER_ID, how="semi")


def _survival_after_answer(data: CRMData, *, item: str, survey, definition: str,
                           inactivity: Any) -> pl.DataFrame:
    """One row per customer: the first answer to ``item`` given during the customer's
    lifetime (first order to churn or as_of) and survival from then on.

    Answers outside any lifetime (from prospects who never ordered, or given on or after
    the churn date the rule assigns) cannot start a survival clock; they are counted in a
    warning, never dropped silently.
    """
    from loyaltylab.churn import churn_table
    frame = _select_surveys(data.surveys, survey)
    answers = (frame.filter((pl.col(S.ITEM) == item) & pl.col(S.SCORE).is_not_null())
               .select(S.CUSTOMER_ID, S.ANSWERED_AT, S.SCORE))
    if answers.height == 0:
        raise ValueError(f"item {item!r}: no answers in the surveys table")
    answers = _known_only(data, answers, "the survival analysis")
    t = churn_table(data, definition=definition, inactivity=inactivity)
    within = (answers.join(t.select(S.CUSTOMER_ID, "start", "end", "event", "n_orders"),
                           on=S.CUSTOMER_ID, how="inner")
              .filter((pl.col(S.ANSWERED_AT) >= pl.col("start"))
                      & (pl.col(S.ANSWERED_AT) < pl.col("end"))))
    table = (within.sort(S.ANSWERED_AT).group_by(S.CUSTOMER_ID, maintain_order=True).first()
             .with_columns(((pl.col("end") - pl.col(S.ANSWERED_AT)).dt.total_microseconds()
                            / US_PER_DAY).alias("duration"),
                           pl.col("event").cast(pl.Int8),
                           _nps_group_expr(pl.col(S.SCORE)))
             .sort(S.CUSTOMER_ID))
    outside = (answers.join(table.select(S.CUSTOMER_ID), on=S.CUSTOMER_ID, how="anti")
               .join(t.select(S.CUSTOMER_ID, "start", "end"), on=S.CUSTOMER_ID, how="left"))
    if outside.height:
        per = outside.group_by(S.CUSTOMER_ID).agg(
            pl.col("start").is_null().any().alias("_never"),
            (pl.col(S.ANSWERED_AT) >= pl.col("end")).any().alias("_after"))
        n_never = int(per["_never"].sum())
        n_after = int((~per["_never"] & per["_after"]).sum())
        n_before = per.height - n_never - n_after
        warnings.warn(f"surveys: {per.height} customers answered {item!r} only outside their "
                      f"lifetime under the {definition!r} churn rule ({n_never} never became "
                      f"customers, {n_before} answered only before their first order, "
                      f"{n_after} only on or after their churn date); they cannot start a "
                      f"survival clock and are left out", UserWarning, stacklevel=3)
    return table


def _nps_group_expr(s: pl.Expr) -> pl.Expr:
    return (pl.when(s >= 9).then(pl.lit("promoter")).when(s >= 7).then(pl.lit("passive"))
            .otherwise(pl.lit("detractor")).alias(GROUP))


def satisfaction_hazard(data: CRMData, *, item: str = "nps", survey=None,
                        reliability: Any = None, definition: str = "inactivity",
                        inactivity: Any = "180d", confidence: float = 0.95) -> pl.DataFrame:
    """Hazard ratio of churn per answer point, from the answer onwards (Cox model).

    Each customer's first answer to ``item`` starts their clock; churn dates come from
    :func:`loyaltylab.churn.churn_table` and the model is :class:`loyaltylab.churn.CoxModel`.

    Parameters
    ----------
    data : CRMData
        Surveys, customers, orders (and subscriptions for ``definition="contract"``).
    item : str
        The survey item (0-10 ``nps`` by default).
    survey : str or list, optional
        Waves to use.
    reliability : float or pl.DataFrame, optional
        Reliability of the item, a number or the :func:`retest_reliability` frame (whose
        sampling error then widens the interval); corrects the log hazard ratio for
        measurement error by regression calibration (divided by the reliability).
    definition, inactivity
        Churn definition.
    confidence : float
        Interval coverage.

    Returns
    -------
    pl.DataFrame
        One row:

        - item: the item
        - n: customers
        - events: churns observed after the answer
        - log_hr, se: log hazard ratio per point and its standard error (corrected when
          ``reliability`` is given)
        - hazard_ratio, ci_low, ci_high: per answer point
        - p_value: Wald test of no effect, on the uncorrected coefficient (the correction
          rescales the effect but cannot create one)
        - reliability: the correction used (null when none)

    Notes
    -----
    Regression calibration divides the log hazard ratio by the reliability ``r`` of the
    item (its signal share of variance); the standard error becomes
    ``sqrt(se^2/r^2 + b^2 se_r^2/r^4)`` where ``se_r`` is the sampling error of ``r``
    (zero when ``r`` is given as a number). The correction is exact for linear models and
    a good approximation for Cox and logistic models when effects per point are moderate
    (Carroll et al. 2006, Measurement Error in Nonlinear Models, ch. 4). It needs the
    attitude to be stable between the waves used to estimate ``r``.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> data = ll.survey.drop_flagged(ll.datasets.load_sample())
    >>> rel = ll.survey.retest_reliability(data)
    >>> h = ll.survey.satisfaction_hazard(data, definition="contract", reliability=rel)
    >>> h["ci_low"][0] < 0.85 < h["ci_high"][0]    # the planted HR per point
    True
    """
    from loyaltylab.churn import CoxModel
    data = _check_data(data)
    table = _survival_after_answer(data, item=item, survey=survey, definition=definition,
                                   inactivity=inactivity).filter(pl.col("duration") > 0)
    cox = CoxModel(covariates=[S.SCORE], confidence=confidence).fit(table)
    cph = cox.lifelines_
    b = float(cph.params_[S.SCORE])
    se = float(cph.standard_errors_[S.SCORE])
    p = float(cph.summary.loc[S.SCORE, "p"])
    rel_value = None
    if reliability is not None:
        b, se = _correct(b, se, reliability)
        rel_value = _reliability(reliability)[0]
    z = _stats.z_value(confidence)
    return pl.DataFrame({"item": [item], "n": [cox.n_], "events": [cox.n_events_],
                         "log_hr": [b], "se": [se], "hazard_ratio": [math.exp(b)],
                         "ci_low": [math.exp(b - z * se)], "ci_high": [math.exp(b + z * se)],
                         "p_value": [p], "reliability": [rel_value]},
                        schema_overrides={"reliability": pl.Float64})


def retention_by_nps_group(data: CRMData, *, item: str = "nps", survey=None,
                           definition: str = "inactivity", inactivity: Any = "180d",
                           confidence: float = 0.95) -> pl.DataFrame:
    """Do promoters really stay? Kaplan-Meier retention curves by NPS group.

    Each customer's first answer to ``item`` starts their clock (time 0 = the answer);
    churn dates come from :func:`loyaltylab.churn.churn_table` and the curves from
    :func:`loyaltylab.churn.retention_curves`.

    Parameters
    ----------
    data : CRMData
        Surveys, customers and orders (subscriptions for ``definition="contract"``).
    item, survey, definition, inactivity, confidence
        As in :func:`satisfaction_hazard`.

    Returns
    -------
    pl.DataFrame
        The columns of :func:`loyaltylab.churn.retention_curves`:

        - group: detractor, passive or promoter
        - timeline: days since the answer
        - survival: share still a customer
        - ci_low, ci_high: pointwise band
        - at_risk, observed, censored: customers at risk, churns and censorings at that time

    See Also
    --------
    nps_group_outcomes : retention at a horizon and orders per year, one row per group.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> curves = ll.survey.retention_by_nps_group(ll.datasets.load_sample(),
    ...                                           definition="contract")
    >>> curves["group"].unique(maintain_order=True).to_list()
    ['detractor', 'passive', 'promoter']
    """
    from loyaltylab.churn import retention_curves
    data = _check_data(data)
    table = _survival_after_answer(data, item=item, survey=survey, definition=definition,
                                   inactivity=inactivity)
    return retention_curves(table, by=GROUP, confidence=confidence)


def nps_group_outcomes(data: CRMData, *, item: str = "nps", survey=None,
                       definition: str = "inactivity", inactivity: Any = "180d",
                       horizon: Any = "365d", confidence: float = 0.95) -> pl.DataFrame:
    """Do promoters stay longer and buy more? One row per NPS group.

    Parameters
    ----------
    data : CRMData
        Surveys, customers and orders.
    item, survey, definition, inactivity, confidence
        As in :func:`retention_by_nps_group`.
    horizon : str
        When to read the retention curve ("365d": a year after answering).

    Returns
    -------
    pl.DataFrame
        One row per group:

        - nps_group: detractor, passive or promoter
        - customers: customers in the group
        - churned: churns observed after the answer
        - retention: Kaplan-Meier retention at ``horizon`` after the answer
        - ci_low, ci_high: its interval
        - orders_per_year: orders after the answer per year of observed lifetime after it
          (with the inactivity rule a churner's lifetime includes the inactive window, so
          compare groups rather than read the level)

    Examples
    --------
    >>> import loyaltylab as ll
    >>> out = ll.survey.nps_group_outcomes(ll.datasets.load_sample(), definition="contract")
    >>> out["nps_group"].to_list()
    ['detractor', 'passive', 'promoter']
    """
    from loyaltylab.churn import retention_curves
    data = _check_data(data)
    td = parse_window(horizon, name="horizon")
    table = _survival_after_answer(data, item=item, survey=survey, definition=definition,
                                   inactivity=inactivity)
    curves = retention_curves(table, by=GROUP, confidence=confidence)
    h = td.total_seconds() / SECONDS_PER_DAY
    orders = (data.orders.join(table.select(S.CUSTOMER_ID, S.ANSWERED_AT, "end"),
                               on=S.CUSTOMER_ID)
              .filter((pl.col(S.ORDERED_AT) > pl.col(S.ANSWERED_AT))
                      & (pl.col(S.ORDERED_AT) <= pl.col("end")))
              .group_by(S.CUSTOMER_ID).agg(pl.len().alias("_orders")))
    per = table.join(orders, on=S.CUSTOMER_ID, how="left").with_columns(
        pl.col("_orders").fill_null(0))
    rows = []
    for g in _GROUP_ORDER:
        sub = per.filter(pl.col(GROUP) == g)
        last = curves.filter((pl.col("group") == g) & (pl.col("timeline") <= h)).tail(1)
        years = float(sub["duration"].sum()) / DAYS_PER_YEAR
        rows.append({GROUP: g, "customers": sub.height,
                     "churned": int(sub["event"].sum()) if sub.height else 0,
                     "retention": float(last["survival"][0]) if last.height else None,
                     "ci_low": float(last["ci_low"][0]) if last.height else None,
                     "ci_high": float(last["ci_high"][0]) if last.height else None,
                     "orders_per_year": float(sub["_orders"].sum()) / years if years > 0
                     else None})
    return pl.DataFrame(rows, schema={GROUP: pl.String, "customers": pl.Int64,
                                      "churned": pl.Int64, "retention": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64,
                                      "orders_per_year": pl.Float64})


def satisfaction_trap(data: CRMData, *, item: str = "csat", satisfied_from: float = 4,
                      survey=None, horizon: Any = "365d", definition: str = "inactivity",
                      inactivity: Any = "180d", confidence: float = 0.95) -> pl.DataFrame:
    """The satisfaction trap: how many satisfied customers still defected within a year?

    Parameters
    ----------
    data : CRMData
        Surveys, customers and orders.
    item : str
        Item defining satisfaction ("csat"; use "nps" with ``satisfied_from=9`` for
        promoters).
    satisfied_from : float
        Lowest answer counted as satisfied (4 = top two boxes on 1-5).
    survey, definition, inactivity
        As in :func:`satisfaction_hazard`.
    horizon : str
        "Within a year" by default. Customers whose horizon after answering ends after
        ``as_of`` without a churn are left out (their outcome is unknown).
    confidence : float
        Coverage of the Wilson intervals.

    Returns
    -------
    pl.DataFrame
        One row per group ("satisfied", "not satisfied", "all"):

        - group: the group
        - customers: customers whose outcome at the horizon is known
        - defected: of whom churned within the horizon after their first answer
        - defected_pct: percent
        - ci_low, ci_high: Wilson interval in percent

    Examples
    --------
    >>> import loyaltylab as ll
    >>> trap = ll.survey.satisfaction_trap(ll.datasets.load_sample(), definition="contract")
    >>> trap["group"].to_list()
    ['satisfied', 'not satisfied', 'all']
    >>> trap["defected"][0] > 0     # satisfied customers who still left
    True
    """
    data = _check_data(data)
    td = parse_window(horizon, name="horizon")
    T = resolve_as_of(data)
    table = _survival_after_answer(data, item=item, survey=survey, definition=definition,
                                   inactivity=inactivity)
    h = td.total_seconds() / SECONDS_PER_DAY
    table = table.with_columns(
        ((pl.col("event") == 1) & (pl.col("duration") <= h)).alias("_defected"),
        (pl.col(S.ANSWERED_AT) + td <= T).alias("_observed"))
    known = table.filter(pl.col("_defected") | pl.col("_observed"))
    rows = []
    for name, cond in (("satisfied", pl.col(S.SCORE) >= satisfied_from),
                       ("not satisfied", pl.col(S.SCORE) < satisfied_from),
                       ("all", pl.lit(True))):
        sub = known.filter(cond)
        n, k = sub.height, int(sub["_defected"].sum()) if sub.height else 0
        lo, hi = _stats.wilson_interval(k, n, confidence=confidence)
        rows.append({"group": name, "customers": n, "defected": k,
                     "defected_pct": 100 * k / n if n else None,
                     "ci_low": 100 * float(lo) if n else None,
                     "ci_high": 100 * float(hi) if n else None})
    return pl.DataFrame(rows, schema={"group": pl.String, "customers": pl.Int64,
                                      "defected": pl.Int64, "defected_pct": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64})


def loyalty_profit(data: CRMData, *, item: str = "nps", survey=None, window: Any = "365d",
                   confidence: float = 0.95) -> pl.DataFrame:
    """Loyalty against profitability: profit in the year after answering, by NPS group.

    Profit is revenue (order amounts) minus the cost to serve (contacts' cost, where the
    contacts table has one) in the ``window`` after each customer's first answer; only
    customers whose window ended by ``as_of`` count.

    Parameters
    ----------
    data : CRMData
        Surveys, customers, orders (and contacts for costs).
    item : str
        Item giving the groups (0-10 NPS item).
    survey, window, confidence
        Waves, follow-up window and interval coverage.

    Returns
    -------
    pl.DataFrame
        One row per group (detractor, passive, promoter, then "all"):

        - nps_group: the group
        - customers: customers with a complete window
        - revenue_mean: mean revenue in the window
        - cost_mean: mean cost to serve
        - profit_mean: mean profit
        - ci_low, ci_high: t interval of the mean profit
        - profit_share_pct: the group's share of total profit in percent
        - spearman_r: Spearman correlation of the answer with profit over all customers
          (same on every row)
        - spearman_p: its p-value

    Examples
    --------
    >>> import loyaltylab as ll
    >>> profit = ll.survey.loyalty_profit(ll.datasets.load_sample(), window="365d")
    >>> profit["nps_group"].to_list()
    ['detractor', 'passive', 'promoter', 'all']
    """
    data = _check_data(data)
    td = parse_window(window)
    T = resolve_as_of(data)
    frame = _select_surveys(data.surveys, survey)
    first = (frame.filter((pl.col(S.ITEM) == item) & pl.col(S.SCORE).is_not_null())
             .sort(S.ANSWERED_AT).group_by(S.CUSTOMER_ID, maintain_order=True)
             .agg(pl.col(S.ANSWERED_AT).first(), pl.col(S.SCORE).first())
             .filter(pl.col(S.ANSWERED_AT) + td <= T)
             .with_columns((pl.col(S.ANSWERED_AT) + td).alias("_until"),
                           _nps_group_expr(pl.col(S.SCORE))))
    first = _known_only(data, first, "loyalty_profit")

    def window_sum(table: pl.DataFrame | None, time_col: str, value_col: str, name: str):
        if table is None or value_col not in table.columns:
            return pl.DataFrame({S.CUSTOMER_ID: [], name: []},
                                schema={S.CUSTOMER_ID: pl.String, name: pl.Float64})
        return (table.select(S.CUSTOMER_ID, time_col, value_col)
                .join(first.select(S.CUSTOMER_ID, S.ANSWERED_AT, "_until"), on=S.CUSTOMER_ID)
                .filter((pl.col(time_col) > pl.col(S.ANSWERED_AT))
                        & (pl.col(time_col) <= pl.col("_until")))
                .group_by(S.CUSTOMER_ID).agg(pl.col(value_col).sum().cast(pl.Float64)
                                             .alias(name)))

    rev = window_sum(data.orders, S.ORDERED_AT, S.AMOUNT, "_rev")
    cost = window_sum(data.contacts, S.CONTACTED_AT, S.CONTACT_COST, "_cost")
    per = (first.join(rev, on=S.CUSTOMER_ID, how="left").join(cost, on=S.CUSTOMER_ID,
                                                               how="left")
           .with_columns(pl.col("_rev").fill_null(0.0), pl.col("_cost").fill_null(0.0))
           .with_columns((pl.col("_rev") - pl.col("_cost")).alias("_profit")))
    if per.height < 3:
        raise ValueError(f"loyalty_profit: {per.height} customers answered {item!r} at "
                         f"least {window} before as_of; use a shorter window")
    rho, p = stats.spearmanr(per[S.SCORE].to_numpy(), per["_profit"].to_numpy())
    total = float(per["_profit"].sum())
    rows = []
    for g in [*_GROUP_ORDER, "all"]:
        sub = per if g == "all" else per.filter(pl.col(GROUP) == g)
        n = sub.height
        x = sub["_profit"].to_numpy()
        m = float(x.mean()) if n else None
        if n > 1:
            q = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
            lo, hi = m - q, m + q
        else:
            lo = hi = None
        rows.append({GROUP: g, "customers": n,
                     "revenue_mean": float(sub["_rev"].mean()) if n else None,
                     "cost_mean": float(sub["_cost"].mean()) if n else None,
                     "profit_mean": m, "ci_low": lo, "ci_high": hi,
                     "profit_share_pct": 100 * float(x.sum()) / total if total else None,
                     "spearman_r": float(rho), "spearman_p": float(p)})
    return pl.DataFrame(rows, schema={GROUP: pl.String, "customers": pl.Int64,
                                      "revenue_mean": pl.Float64, "cost_mean": pl.Float64,
                                      "profit_mean": pl.Float64, "ci_low": pl.Float64,
                                      "ci_high": pl.Float64, "profit_share_pct": pl.Float64,
                                      "spearman_r": pl.Float64, "spearman_p": pl.Float64})


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
