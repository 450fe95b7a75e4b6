"""Each answer joined to what the customer did afterwards (not public API): the outcome
names, the checks of the data and of the survey chosen, and
:func:`answers_with_outcomes`, re-exported by :mod:`loyaltylab.survey.behaviour`.
"""

from __future__ import annotations

import warnings
from typing import Any
from collections.abc import Sequence

import polars as pl

from loyaltylab._util import parse_window, resolve_as_of
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.survey.scales import to_wide

OUTCOMES = ("repurchase", "referral", "churn")
OUTCOME = "outcome"
GROUP = "nps_group"
_GROUP_ORDER = ["detractor", "passive", "promoter"]


def _check_data(data: Any) -> CRMData:
    if not isinstance(data, CRMData):
        raise TypeError(f"data: expected a CRMData (ll.load, ll.from_frames or "
                        f"ll.datasets.make_crm), got {type(data).__name__}")
    data.require(S.SURVEYS, purpose="linking survey answers to behaviour")
    return data


def _select_surveys(surveys: pl.DataFrame, survey: str | Sequence[str] | None
                    ) -> pl.DataFrame:
    if survey is None:
        return surveys
    names = [survey] if isinstance(survey, str) else list(survey)
    present = surveys.get_column(S.SURVEY).unique().to_list()
    unknown = [s for s in names if s not in present]
    if unknown:
        raise ValueError(f"survey: {unknown} not found; surveys present: "
                         f"{sorted(present)[:12]}")
    return surveys.filter(pl.col(S.SURVEY).is_in(names))


def _churn_dates(data: CRMData, definition: str, inactivity: Any) -> pl.DataFrame:
    from loyaltylab.churn import churn_table
    t = churn_table(data, definition=definition, inactivity=inactivity)
    return t.select(S.CUSTOMER_ID, pl.col("end").alias("_churn_end"),
                    pl.col("event").alias("_churn_event"))


def answers_with_outcomes(data: CRMData, *, survey: str | Sequence[str] | None = None,
                          items: Sequence[str] | None = None,
                          outcome: str = "repurchase", window: Any = "180d",
                          definition: str = "inactivity", inactivity: Any = "180d",
                          as_of: Any = None, warn: bool = True) -> pl.DataFrame:
    """Each survey response joined to what the customer did in the window after it.

    Parameters
    ----------
    data : CRMData
        Needs surveys, customers and orders; ``outcome="referral"`` needs referrals.
    survey : str or list of str, optional
        Survey waves to use (all by default).
    items : list of str, optional
        Items to keep as columns (all by default).
    outcome : {"repurchase", "referral", "churn"}
        - repurchase: at least one order in (answered_at, answered_at + window]
        - referral: at least one referral made in that window
        - churn: the customer's churn date (:func:`loyaltylab.churn.churn_table` with
          ``definition``) falls in that window
    window : str, int or timedelta
        Length of the follow-up window, e.g. "180d".
    definition, inactivity
        Churn definition passed to :func:`loyaltylab.churn.churn_table` (churn only).
    as_of : date, optional
        Observation date (default ``data.as_of``).
    warn : bool
        Warn about answers that cannot be linked (see ``status``).

    Returns
    -------
    pl.DataFrame
        One row per response (customer and survey):

        - customer_id, survey, answered_at, response_seconds: the response
        - <one column per item>: the answers
        - outcome: 1 if the behaviour happened in the window, 0 if not, null when the
          response cannot be linked
        - status: "linked"; "window_open" (the window ends after as_of: not yet known);
          "unknown_customer" (the customer is not in the customers table);
          "after_churn" (churn outcome: answered after the customer's churn date)

        Nothing is dropped: unlinked responses keep a null outcome and their status.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> data = ll.datasets.load_sample()
    >>> out = ll.survey.answers_with_outcomes(data, outcome="referral", window="365d")
    >>> sorted(out["status"].unique().to_list())
    ['linked', 'window_open']
    """
    data = _check_data(data)
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome: expected one of {list(OUTCOMES)}, got {outcome!r}")
    td = parse_window(window)
    T = resolve_as_of(data, as_of)
    wide = to_wide(_select_surveys(data.surveys, survey), items=items)
    known = data.customers.select(S.CUSTOMER_ID).unique().with_columns(
        pl.lit(True).alias("_known"))
    wide = wide.join(known, on=S.CUSTOMER_ID, how="left")
    keys = [S.CUSTOMER_ID, S.SURVEY]
    ans = wide.select(*keys, S.ANSWERED_AT).with_columns(
        (pl.col(S.ANSWERED_AT) + td).alias("_until"))
    if outcome == "repurchase":
        ev = data.orders.select(S.CUSTOMER_ID, pl.col(S.ORDERED_AT).alias("_t"))
    elif outcome == "referral":
        data.require(S.REFERRALS, purpose="the referral outcome")
        ev = data.referrals.select(pl.col(S.REFERRER_ID).alias(S.CUSTOMER_ID),
                                   pl.col(S.REFERRED_AT).alias("_t"))
    else:
        ev = None
    if ev is not None:
        hits = (ans.join(ev, on=S.CUSTOMER_ID, how="inner")
                .filter((pl.col("_t") > pl.col(S.ANSWERED_AT)) & (pl.col("_t") <= pl.col("_until")))
                .group_by(keys).agg(pl.len().alias("_hits")))
        out = wide.join(hits, on=keys, how="left").with_columns(
            (pl.col("_hits").fill_null(0) > 0).cast(pl.Int8).alias(OUTCOME),
            pl.lit(False).alias("_after"))
    else:
        churn = _churn_dates(data, definition, inactivity)
        out = wide.join(churn, on=S.CUSTOMER_ID, how="left").with_columns(
            ((pl.col("_churn_event") == 1)
             & (pl.col("_churn_end") <= pl.col(S.ANSWERED_AT) + td)).cast(pl.Int8)
            .alias(OUTCOME),
            ((pl.col("_churn_event") == 1) & (pl.col("_churn_end") <= pl.col(S.ANSWERED_AT)))
            .fill_null(False).alias("_after"))
        # a churn date falling in an open window is still an observed churn
    open_ = pl.col(S.ANSWERED_AT) + td > T
    if outcome == "churn":
        open_ = open_ & (pl.col(OUTCOME) != 1)
    status = (pl.when(pl.col("_known").is_null()).then(pl.lit("unknown_customer"))
              .when(pl.col("_after")).then(pl.lit("after_churn"))
              .when(open_).then(pl.lit("window_open"))
              .otherwise(pl.lit("linked")))
    out = out.with_columns(status.alias("status")).with_columns(
        pl.when(pl.col("status") == "linked").then(pl.col(OUTCOME)).otherwise(None)
        .alias(OUTCOME))
    drop = [c for c in ("_known", "_hits", "_after", "_churn_end", "_churn_event")
            if c in out.columns]
    out = out.drop(drop).sort(S.ANSWERED_AT, S.CUSTOMER_ID)
    if warn:
        counts = dict(out.group_by("status").len().iter_rows())
        unknown = counts.get("unknown_customer", 0)
        if unknown:
            ids = (out.filter(pl.col("status") == "unknown_customer")
                   .get_column(S.CUSTOMER_ID).unique(maintain_order=True).head(3).to_list())
            warnings.warn(f"surveys: {unknown} responses come from customers not in the "
                          f"customers table (first: {ids}); kept with status "
                          f"'unknown_customer' and no outcome", UserWarning, stacklevel=2)
    return out
