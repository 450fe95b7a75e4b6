"""The loyalty ladder's planted behaviour in simulated data, against what the funnel
analyses estimate from the observable tables alone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from loyaltylab._units import DAYS_PER_MONTH
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData

__all__ = ["ladder_truth_check"]

_OFFLINE_CHANNELS = ["advertising", "partnership", "personal"]


def ladder_truth_check(data: CRMData, *, as_of: date | datetime | str | None = None,
                       confidence: float = 0.95) -> pl.DataFrame:
    """Does the ladder find what was planted? Each planted ladder behaviour of a simulated
    dataset next to the library's estimate from the data and its interval.

    The ladders are evaluated once each (:meth:`loyaltylab.funnel.Ladder.evaluate`); the
    estimates come from :func:`~loyaltylab.funnel.assign_stages`,
    :func:`~loyaltylab.funnel.skipped_stages` and :func:`~loyaltylab.funnel.time_to_stage`.

    Parameters
    ----------
    data : CRMData
        Simulated data with its truth: :func:`make_crm` or :func:`load_sample`.
    as_of : date, datetime or ISO string, optional
        Date of the evaluation (default ``data.as_of``).
    confidence : float, default 0.95
        Coverage of the intervals.

    Returns
    -------
    pl.DataFrame
        One row per planted behaviour:

        - behaviour: what was planted, in words
        - true: the planted value
        - estimate: the library's estimate from the observable tables
        - ci_low, ci_high: its interval (Wilson for the shares, Kaplan-Meier pointwise for
          the shares arrived within a time)
        - inside: whether ``true`` lies in [ci_low, ci_high]

        The rows:

        - online buyers buying on the first visit: web-acquired buyers who skipped the
          first-time visitor stage on :data:`~loyaltylab.funnel.ONLINE`; true
          ``p_online_first_visit_buy``
        - offline buyers with no contact first: of the people above the prospect stage
          acquired offline, the share that skipped it; true ``p_offline_skip_prospect``
        - offline people never contacted: people acquired offline at least 120 days before
          ``as_of`` who are still suspects; true ``p_suspect_offline``
        - prospects (advertising) buying within a year: Kaplan-Meier share of prospects
          acquired by advertising who reach first-time customer within 365 days; true
          P(buys | was a prospect) = p (1 - s) / (1 - p s), with p
          ``p_prospect_buys_offline`` and s ``p_offline_skip_prospect`` (the buying rate
          applies to every offline person, walk-in buyers who skip the prospect stage
          included)
        - relationship buyers buying again within a month: Kaplan-Meier share of
          first-time customers of the relationship segment who buy again within a month
          (30.4375 days); true: the average over those buyers of each one's planted
          rhythm, 1 - exp(-30.4375 / mean_order_gap_days)

    Raises
    ------
    ValueError
        ``data`` carries no planted ladder truth (``data.truth["ladder"]``).

    Examples
    --------
    >>> import loyaltylab as ll
    >>> check = ll.datasets.ladder_truth_check(ll.datasets.load_sample())
    >>> check.columns
    ['behaviour', 'true', 'estimate', 'ci_low', 'ci_high', 'inside']
    >>> check["inside"].all()
    True
    """
    from loyaltylab import funnel as F
    from loyaltylab._stats import wilson_interval

    if not isinstance(data, CRMData):
        raise TypeError(f"data: expected a CRMData from ll.datasets.make_crm or "
                        f"load_sample, got {type(data).__name__}")
    truth = data.truth or {}
    if "ladder" not in truth or "customers" not in truth:
        raise ValueError("data: no planted ladder truth (data.truth['ladder']); the check "
                         "needs simulated data from ll.datasets.make_crm or load_sample")
    lad = truth["ladder"]
    offline = F.OFFLINE.evaluate(data, as_of=as_of)
    online = F.ONLINE.evaluate(data, as_of=offline.as_of)
    as_of = offline.as_of
    channel = data.customers.select(S.CUSTOMER_ID, S.ACQUISITION_CHANNEL, S.ACQUIRED_AT)

    def share(behaviour: str, true: float, k: int, n: int) -> tuple:
        lo, hi = wilson_interval(k, n, confidence=confidence)
        return behaviour, float(true), k / n, float(lo), float(hi)

    rows = []
    on = F.assign_stages(online).join(channel, on=S.CUSTOMER_ID)
    web = on.filter((pl.col(S.ACQUISITION_CHANNEL) == "web")
                    & (pl.col("stage_rank") >= F.ONLINE.rank("first_time_buyer")))
    k = int(web["skipped"].list.contains("first_time_visitor").sum())
    rows.append(share("online buyers buying on the first visit",
                      lad["p_online_first_visit_buy"], k, web.height))
    skipped = F.skipped_stages(offline, by=S.ACQUISITION_CHANNEL).filter(
        (pl.col("stage") == "prospect") & (pl.col(S.ACQUISITION_CHANNEL) != "web"))
    rows.append(share("offline buyers with no contact first", lad["p_offline_skip_prospect"],
                      int(skipped["skipped"].sum()), int(skipped["passed"].sum())))
    stages = F.assign_stages(offline)
    base = stages.join(channel, on=S.CUSTOMER_ID).filter(
        pl.col(S.ACQUISITION_CHANNEL).is_in(_OFFLINE_CHANNELS)
        & (pl.col(S.ACQUIRED_AT) <= as_of - timedelta(days=120)))
    rows.append(share("offline people never contacted", lad["p_suspect_offline"],
                      int((base["stage"] == "suspect").sum()), base.height))

    def arrived(behaviour: str, true: float, frame: pl.DataFrame) -> tuple:
        r = frame.row(0, named=True)
        return (behaviour, float(true), r["share_within"], r["share_ci_low"],
                r["share_ci_high"])

    p, s = lad["p_prospect_buys_offline"], lad["p_offline_skip_prospect"]
    t = F.time_to_stage(offline, by=S.ACQUISITION_CHANNEL, confidence=confidence).filter(
        (pl.col(S.ACQUISITION_CHANNEL) == "advertising")
        & (pl.col("stage") == "first_time_customer"))
    rows.append(arrived("prospects (advertising) buying within a year",
                        p * (1 - s) / (1 - p * s), t))
    repeat = F.time_to_stage(offline, origin="first_time_customer", by=S.SEGMENT,
                             horizon=f"{DAYS_PER_MONTH}d", confidence=confidence).filter(
        (pl.col("stage") == "repeat_customer") & (pl.col(S.SEGMENT) == "relationship"))
    gaps = (stages.filter(pl.col("reached_first_time_customer").is_not_null())
            .join(truth["customers"], on=S.CUSTOMER_ID)
            .join(data.customers.select(S.CUSTOMER_ID, S.SEGMENT), on=S.CUSTOMER_ID)
            .filter(pl.col(S.SEGMENT) == "relationship"))
    rhythm = (1 - (-DAYS_PER_MONTH / gaps["mean_order_gap_days"]).exp()).mean()
    rows.append(arrived("relationship buyers buying again within a month", rhythm, repeat))
    out = pl.DataFrame(rows, schema={"behaviour": pl.String, "true": pl.Float64,
                                     "estimate": pl.Float64, "ci_low": pl.Float64,
                                     "ci_high": pl.Float64}, orient="row")
    return out.with_columns(((pl.col("ci_low") <= pl.col("true"))
                             & (pl.col("true") <= pl.col("ci_high"))).alias("inside"))
