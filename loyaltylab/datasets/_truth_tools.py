"""Helpers that turn a simulation's truth into analysis-ready frames."""

from __future__ import annotations

import polars as pl

from loyaltylab._units import US_PER_DAY
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData

__all__ = ["truth_episodes"]



def truth_episodes(data: CRMData) -> pl.DataFrame:
    """The true defection process of simulated data as counting-process episodes.

    One row per buyer and interval on which every planted covariate is constant, with the
    exact true defection time, ready for a time-varying Cox model (e.g. lifelines'
    ``CoxTimeVaryingFitter`` with ``id_col="customer_id"``, ``start_col="start"``,
    ``stop_col="stop"``, ``event_col="event"``). Fitting it recovers
    ``data.truth["hazard_ratios"]`` and ``data.truth["business_change"]``; it is the
    oracle against which models fitted on the observable tables can be compared.

    Parameters
    ----------
    data : CRMData
        Data from :func:`loyaltylab.datasets.make_crm` or
        :func:`loyaltylab.datasets.load_sample` (with ``truth``).

    Returns
    -------
    pl.DataFrame
        - customer_id: the buyer
        - start, stop: the interval, in days since the first order
        - event: 1 if the customer defected at ``stop``, else 0
        - satisfaction_c: latent satisfaction minus 7
        - email_over: e-mails per month above 4 (0 when 4 or fewer)
        - reward_every_purchase, reward_none: reward-scheme indicators (reference
          first_time_discount)
        - segment_convenience, segment_price: segment indicators (reference relationship)
        - early_<channel>: 1 during the first 90 days for customers won through that channel
        - complaint_fast, complaint_slow: 1 from a week after the complaint was opened
        - manager_left: 1 from the day the account manager left
        - change_repeat, change_client, change_first: 1 from the business change on, by
          stage at the change

    Raises
    ------
    ValueError
        When ``data.truth`` is missing (the data were not simulated).

    Examples
    --------
    >>> import loyaltylab as ll
    >>> ep = ll.datasets.truth_episodes(ll.datasets.make_crm(300, years=2, seed=3))
    >>> ep.columns[:4]
    ['customer_id', 'start', 'stop', 'event']
    """
    if data.truth is None or "customers" not in data.truth:
        raise ValueError("truth_episodes: data.truth is missing; it exists only for data "
                         "from ll.datasets.make_crm() or ll.datasets.load_sample()")
    t = data.truth
    ref = t["reference"]
    early_days = float(ref["early_life_days"])
    channels = list(t["hazard_ratios"]["early_life"])
    as_of = data.as_of
    bc = t["business_change"]["date"]
    cust = data.customers.select(S.CUSTOMER_ID, S.REWARD_SCHEME, S.SEGMENT,
                                 S.ACQUISITION_CHANNEL)
    tc = (t["customers"].filter(pl.col("status") == "buyer")
          .join(cust, on=S.CUSTOMER_ID, how="left"))

    def days(col: pl.Expr) -> pl.Expr:
        return ((col - pl.col("first_order_at")).dt.total_microseconds() / US_PER_DAY)

    base = tc.select(
        S.CUSTOMER_ID,
        S.ACQUISITION_CHANNEL,
        (pl.col("satisfaction") - ref["satisfaction"]).alias("satisfaction_c"),
        (pl.col("emails_per_month") - ref["email_threshold"]).clip(lower_bound=0)
        .alias("email_over"),
        (pl.col(S.REWARD_SCHEME) == "every_purchase").cast(pl.Int8)
        .alias("reward_every_purchase"),
        (pl.col(S.REWARD_SCHEME) == "none").cast(pl.Int8).alias("reward_none"),
        (pl.col(S.SEGMENT) == "convenience").cast(pl.Int8).alias("segment_convenience"),
        (pl.col(S.SEGMENT) == "price").cast(pl.Int8).alias("segment_price"),
        pl.col("complaint_fast"),
        pl.col("stage_at_change"),
        pl.col("defection_day").is_not_null().cast(pl.Int8).alias("_dead"),
        pl.coalesce(pl.col("defection_day"),
                    days(pl.lit(as_of, dtype=pl.Datetime("us")))).alias("_end"),
        days(pl.col("complaint_effect_from")).alias("_tc"),
        days(pl.col("manager_left_at")).alias("_tm"),
        pl.when(pl.col("stage_at_change").is_not_null())
        .then(days(pl.lit(bc, dtype=pl.Datetime("us")))).alias("_tb"),
    )
    cuts = (base.select(S.CUSTOMER_ID, "_end",
                        pl.concat_list(pl.lit(0.0), pl.lit(early_days), "_tc", "_tm", "_tb",
                                       "_end").alias("_pts"))
            .explode("_pts")
            .filter(pl.col("_pts").is_not_null() & (pl.col("_pts") <= pl.col("_end")))
            .unique([S.CUSTOMER_ID, "_pts"])
            .sort([S.CUSTOMER_ID, "_pts"])
            .with_columns(pl.col("_pts").shift(-1).over(S.CUSTOMER_ID).alias("stop"))
            .filter(pl.col("stop").is_not_null())
            .rename({"_pts": "start"})
            .drop("_end"))
    ep = cuts.join(base, on=S.CUSTOMER_ID, how="left")
    st = pl.col("start")
    after = lambda c: (pl.col(c).is_not_null() & (st >= pl.col(c))).cast(pl.Int8)  # noqa
    ep = ep.with_columns(
        ((pl.col("_dead") == 1) & (pl.col("stop") >= pl.col("_end"))).cast(pl.Int8)
        .alias("event"),
        *[((st < early_days) & (pl.col(S.ACQUISITION_CHANNEL) == c)).cast(pl.Int8)
          .alias(f"early_{c}") for c in channels],
        (after("_tc") * pl.col("complaint_fast").cast(pl.Int8)).alias("complaint_fast"),
        (after("_tc") * (~pl.col("complaint_fast")).cast(pl.Int8)).alias("complaint_slow"),
        after("_tm").alias("manager_left"),
        (after("_tb") * (pl.col("stage_at_change") == "repeat customer").cast(pl.Int8))
        .alias("change_repeat"),
        (after("_tb") * (pl.col("stage_at_change") == "client").cast(pl.Int8))
        .alias("change_client"),
        (after("_tb") * (pl.col("stage_at_change") == "first-time customer").cast(pl.Int8))
        .alias("change_first"),
    )
    cols = [S.CUSTOMER_ID, "start", "stop", "event", "satisfaction_c", "email_over",
            "reward_every_purchase", "reward_none", "segment_convenience", "segment_price",
            *[f"early_{c}" for c in channels], "complaint_fast", "complaint_slow",
            "manager_left", "change_repeat", "change_client", "change_first"]
    flags = cols[6:]
    return ep.select(cols).with_columns(pl.col(c).fill_null(0).cast(pl.Int8) for c in flags)
