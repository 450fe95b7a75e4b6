"""The scorecard: headline loyalty figures, this period against the previous one."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import polars as pl
from scipy import stats

from loyaltylab._stats import newcombe_interval, two_proportion_test
from loyaltylab._units import DAYS_PER_MONTH, DAYS_PER_YEAR
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.metrics import _base as B
from loyaltylab.metrics.buying import (
    average_order_value, cross_line_share, purchase_frequency, repeat_purchase_rate,
    revenue_per_customer,
)
from loyaltylab.metrics.complaints import complaint_rate, resolution_time
from loyaltylab.metrics.contacts import contact_conversion, contact_frequency
from loyaltylab.metrics.referrals import referral_rate
from loyaltylab.metrics.retention import defection_rate
from loyaltylab.survey.scores import csat, nps

__all__ = ["scorecard", "last_complete_periods"]


def last_complete_periods(as_of: datetime, period: str, n: int = 2) -> list[tuple[datetime,
                                                                                  datetime]]:
    """The ``n`` last calendar periods that ended by ``as_of``, oldest first, as
    (start, end) pairs.

    Parameters
    ----------
    as_of : datetime
        The measurement moment.
    period : {"month", "quarter", "year"}
        Calendar period.
    n : int, default 2
        How many periods.

    Returns
    -------
    list of (datetime, datetime)
        The ``[start, end)`` pairs, oldest first.

    Examples
    --------
    >>> from datetime import datetime
    >>> last_complete_periods(datetime(2026, 1, 1), "year")
    [(datetime.datetime(2024, 1, 1, 0, 0), datetime.datetime(2025, 1, 1, 0, 0)), \
(datetime.datetime(2025, 1, 1, 0, 0), datetime.datetime(2026, 1, 1, 0, 0))]
    """
    every = B.period_every(period)
    s = pl.Series([as_of]).dt.truncate(every)
    end = s[0]
    out = []
    for _ in range(n):
        start = pl.Series([end]).dt.offset_by(f"-{every}")[0]
        out.append((start, end))
        end = start
    return out[::-1]


def _prop(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {"value": row["value"], "lo": row["ci_low"], "hi": row["ci_high"],
            "k": row["numerator"], "n": row["denominator"], "kind": "prop"}


def _mean(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {"value": row["value"], "lo": row["ci_low"], "hi": row["ci_high"],
            "se": row["std_error"], "n": row["n"], "kind": "mean"}


def _count(value: float | None, n: int | None) -> dict:
    return {"value": value, "lo": None, "hi": None, "n": n, "kind": "count"}


def _pick(frame: pl.DataFrame, start: datetime) -> dict | None:
    rows = frame.filter(pl.col("period_start") == start)
    return rows.row(0, named=True) if rows.height else None


def _survey_score(surveys: pl.DataFrame, item: str, start: datetime, end: datetime,
                  confidence: float) -> dict | None:
    """NPS (points, as a mean) or CSAT (share satisfied) of each customer's last answer to
    ``item`` in [start, end); None without answers."""
    ans = (surveys.filter((pl.col(S.ITEM) == item) & pl.col(S.SCORE).is_not_null()
                          & (pl.col(S.ANSWERED_AT) >= start) & (pl.col(S.ANSWERED_AT) < end))
           .sort(S.ANSWERED_AT).unique(subset=[S.CUSTOMER_ID], keep="last",
                                       maintain_order=True))
    if ans.height == 0:
        return None
    if item == "nps":
        r = nps(ans, item=item, confidence=confidence).row(0, named=True)
        return {"value": r["nps"], "lo": r["ci_low"], "hi": r["ci_high"], "se": r["se"],
                "n": r["n"], "kind": "mean"}
    r = csat(ans, item=item, confidence=confidence).row(0, named=True)
    return {"value": r["satisfied"] / r["n"], "lo": r["ci_low"] / 100,
            "hi": r["ci_high"] / 100, "k": r["satisfied"], "n": r["n"], "kind": "prop"}


def _compare(prev: dict | None, cur: dict | None, confidence: float) -> dict:
    zc = B.zcrit(confidence)
    out = {"change": None, "change_ci_low": None, "change_ci_high": None, "p_value": None}
    if prev is None or cur is None or prev["value"] is None or cur["value"] is None:
        return out
    d = cur["value"] - prev["value"]
    out["change"] = d
    if cur["kind"] == "prop" and None not in (prev["lo"], cur["lo"]):
        out["change_ci_low"], out["change_ci_high"] = newcombe_interval(
            cur["k"], cur["n"], prev["k"], prev["n"], confidence=confidence)
        _, p = two_proportion_test(cur["k"], cur["n"], prev["k"], prev["n"])
        out["p_value"] = None if p != p else p
    elif cur["kind"] in ("mean", "rate") and prev.get("se") is not None \
            and cur.get("se") is not None:
        se = math.sqrt(prev["se"] ** 2 + cur["se"] ** 2)
        if se > 0:
            out["change_ci_low"], out["change_ci_high"] = d - zc * se, d + zc * se
            out["p_value"] = float(2 * stats.norm.sf(abs(d) / se))
    return out


def scorecard(data: CRMData, *, period: str = "year", as_of: Any = None,
              confidence: float = 0.95) -> pl.DataFrame:
    """Headline loyalty figures for the last complete period against the one before.

    Parameters
    ----------
    data : CRMData
        Rows that need a table the data lacks (contacts, referrals, complaints, surveys) or
        a column (product_line) are left out. The survey rows need answers to the items
        ``nps`` (0-10) and ``csat`` (1-5).
    period : {"month", "quarter", "year"}
        Length of the compared periods; the current period is the last one that ended by
        ``as_of``.
    as_of : optional
    confidence : float

    Returns
    -------
    pl.DataFrame
        One row per headline figure:

        - metric: the figure's name; unit: "count", "currency", "share", "orders",
          "per customer-month", "points" (NPS)
        - previous_period, current_period: start dates of the compared periods
        - previous, current: the figure in each period
        - change: current - previous
        - change_ci_low, change_ci_high: interval of the change (Newcombe's hybrid score
          interval for shares, normal approximation from the two standard errors for
          means and rates, none for counts)
        - p_value: two-proportion z-test for shares, z-test for means and rates
        - previous_ci_low, previous_ci_high, current_ci_low, current_ci_high: the
          intervals of each period (Wilson, Student-t or exact Poisson)
        - n_previous, n_current: the unit counts behind each figure
        - definition: how the figure is computed (the function and options used)

    Notes
    -----
    Each row is computed by the named metric function of :mod:`loyaltylab.metrics`, so
    it can be reproduced on its own. Customer ids are replaced by a 64-bit hash inside the
    scorecard (faster grouping and joining; the result holds no ids). Cumulative figures
    (repeat-purchase rate, cross-line share, referral rate) are measured at each period's
    end.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> d = ll.datasets.make_crm(500, seed=1)
    >>> sc = ll.metrics.scorecard(d, period="year")
    >>> sc.select("metric", "unit").head(3)
    shape: (3, 2)
    ┌───────────────┬──────────┐
    │ metric        ┆ unit     │
    │ ---           ┆ ---      │
    │ str           ┆ str      │
    ╞═══════════════╪══════════╡
    │ Active buyers ┆ count    │
    │ New buyers    ┆ count    │
    │ Revenue       ┆ currency │
    └───────────────┴──────────┘
    """
    B.check_crm(data, "scorecard")
    cut = B.resolve(data, as_of)
    data = B.hashed_ids(data)  # faster keys; no id appears in the result
    (p0, e0), (p1, e1) = last_complete_periods(cut, period, 2)
    rows: list[dict] = []

    def add(metric: str, unit: str, prev: dict | None, cur: dict | None,
            definition: str) -> None:
        row = {"metric": metric, "unit": unit, "previous_period": p0, "current_period": p1,
               "previous": prev["value"] if prev else None,
               "current": cur["value"] if cur else None}
        row.update(_compare(prev, cur, confidence))
        row.update({"previous_ci_low": prev["lo"] if prev else None,
                    "previous_ci_high": prev["hi"] if prev else None,
                    "current_ci_low": cur["lo"] if cur else None,
                    "current_ci_high": cur["hi"] if cur else None,
                    "n_previous": prev["n"] if prev else None,
                    "n_current": cur["n"] if cur else None, "definition": definition})
        rows.append(row)

    rpc = revenue_per_customer(data, period=period, as_of=e1, confidence=confidence)
    r0, r1 = _pick(rpc, p0), _pick(rpc, p1)
    add("Active buyers", "count", _count(r0["n"] if r0 else 0, None),
        _count(r1["n"] if r1 else 0, None), f"buyers with an order in the {period}")
    firsts = (data.orders.lazy().filter(pl.col(S.ORDERED_AT) <= e1)
              .group_by(S.CUSTOMER_ID).agg(pl.col(S.ORDERED_AT).min().alias("_f"))
              .select(((pl.col("_f") >= p0) & (pl.col("_f") < e0)).sum().alias("a"),
                      ((pl.col("_f") >= p1) & (pl.col("_f") < e1)).sum().alias("b"))
              .collect().row(0))
    add("New buyers", "count", _count(firsts[0], None), _count(firsts[1], None),
        f"customers whose first order fell in the {period}")
    add("Revenue", "currency", _count(r0["revenue"] if r0 else 0.0, None),
        _count(r1["revenue"] if r1 else 0.0, None), f"sum of orders.amount in the {period}")
    add("Revenue per buyer", "currency", _mean(r0), _mean(r1),
        f"revenue_per_customer(period={period!r})")
    aov = average_order_value(data, period=period, as_of=e1, confidence=confidence)
    add("Average order value", "currency", _mean(_pick(aov, p0)), _mean(_pick(aov, p1)),
        f"average_order_value(period={period!r})")
    pf = purchase_frequency(data, period=period, as_of=e1, confidence=confidence)
    add("Orders per buyer", "orders", _mean(_pick(pf, p0)), _mean(_pick(pf, p1)),
        f"purchase_frequency(period={period!r})")
    dr = defection_rate(data, period=period, as_of=e1, confidence=confidence)
    method = dr["method"][0] if dr.height else "orders"
    add("Defection rate", "share", _prop(_pick(dr, p0)), _prop(_pick(dr, p1)),
        f"defection_rate(period={period!r}, method={method!r})")
    rp = [repeat_purchase_rate(data, as_of=e, confidence=confidence).row(0, named=True)
          for e in (e0, e1)]
    add("Repeat-purchase rate", "share", _prop(rp[0]), _prop(rp[1]),
        "repeat_purchase_rate(as_of=period end)")
    if S.PRODUCT_LINE in data.orders.columns:
        cl = [cross_line_share(data, as_of=e, confidence=confidence).row(0, named=True)
              for e in (e0, e1)]
        add("Cross-line buyers", "share", _prop(cl[0]), _prop(cl[1]),
            "cross_line_share(as_of=period end)")
    plen = {"month": f"{DAYS_PER_MONTH}d", "quarter": f"{3 * DAYS_PER_MONTH}d",
            "year": f"{DAYS_PER_YEAR}d"}.get(period)
    if data.contacts is not None:
        cf = contact_frequency(data, period=period, as_of=e1, confidence=confidence)
        vals = []
        for s in (p0, p1):
            rows_p = cf.filter(pl.col("window_start") == s)
            k = int(rows_p["contacts"].sum())
            expo = float(rows_p["customer_months"][0]) if rows_p.height else 0.0
            val = k / expo if expo > 0 else None
            se = math.sqrt(k) / expo if expo > 0 else None
            lo, hi = (None, None)
            if expo > 0:
                a = 1 - confidence
                lo = (stats.chi2.ppf(a / 2, 2 * k) / 2 / expo) if k > 0 else 0.0
                hi = stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2 / expo
            vals.append({"value": val, "lo": lo, "hi": hi, "se": se, "n": k, "kind": "rate"})
        add("Contacts per customer-month", "per customer-month", vals[0], vals[1],
            f"contact_frequency(period={period!r}) summed over channels")
        conv = contact_conversion(data, by=None, period=period, as_of=cut,
                                  confidence=confidence)
        add("Contact-to-sale conversion (30d)", "share", _prop(_pick(conv, p0)),
            _prop(_pick(conv, p1)),
            f"contact_conversion(window='30d', by=None, period={period!r}): contacts of the "
            f"period whose 30 days had passed by as_of")
    if data.referrals is not None:
        rr = [referral_rate(data, window=plen, as_of=e, confidence=confidence).row(0, named=True)
              for e in (e0, e1)]
        add("Referral rate", "share", _prop(rr[0]), _prop(rr[1]),
            "referral_rate(window=period, base='buyers')")
    if data.complaints is not None:
        cr = complaint_rate(data, period=period, as_of=e1, confidence=confidence)
        add("Complaint rate", "share", _prop(_pick(cr, p0)), _prop(_pick(cr, p1)),
            f"complaint_rate(period={period!r})")
        fast = []
        for s, e in ((p0, e0), (p1, e1)):
            sub = data.replace(complaints=data.complaints.filter(
                (pl.col(S.OPENED_AT) >= s) & (pl.col(S.OPENED_AT) < e)))
            fast.append(resolution_time(sub, as_of=cut, confidence=confidence)
                        .row(0, named=True))
        add("Complaints resolved within 7 days", "share", _prop(fast[0]), _prop(fast[1]),
            "resolution_time(fast_within='7d') of complaints opened in the period")
    if data.surveys is not None:
        items = set(data.surveys.get_column(S.ITEM).drop_nulls().unique().to_list())
        for item, name, unit, how in (
                ("nps", "Net Promoter Score", "points",
                 "survey.nps(item='nps'): each customer's last answer in the period; change "
                 "interval from the two standard errors"),
                ("csat", "Satisfied customers (CSAT)", "share",
                 "survey.csat(item='csat', top_box=2): share answering 4 or 5 of 5, each "
                 "customer's last answer in the period")):
            if item in items:
                add(name, unit, *[_survey_score(data.surveys, item, s, e, confidence)
                                  for s, e in ((p0, e0), (p1, e1))], how)
    schema = {"metric": pl.String, "unit": pl.String, "previous_period": pl.Datetime("us"),
              "current_period": pl.Datetime("us"), "previous": pl.Float64,
              "current": pl.Float64, "change": pl.Float64, "change_ci_low": pl.Float64,
              "change_ci_high": pl.Float64, "p_value": pl.Float64,
              "previous_ci_low": pl.Float64, "previous_ci_high": pl.Float64,
              "current_ci_low": pl.Float64, "current_ci_high": pl.Float64,
              "n_previous": pl.Int64, "n_current": pl.Int64, "definition": pl.String}
    return pl.DataFrame(rows, schema=schema)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
