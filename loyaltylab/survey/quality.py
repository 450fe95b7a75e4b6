"""Survey quality: straight-lining, speeding, item non-response and survey length."""

from __future__ import annotations

import warnings
from typing import Any
from collections.abc import Sequence

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.survey import _input as I
from loyaltylab.survey.scales import to_wide

__all__ = ["response_quality", "item_nonresponse", "survey_length", "drop_flagged"]


def response_quality(responses: Any, *, grid: Sequence[str] | None = None,
                     speed_ratio: float = 0.4, min_seconds: float | None = None
                     ) -> pl.DataFrame:
    """Flag low-quality responses: straight-lining, speeding and skipped items.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        The long ``surveys`` table.
    grid : list of str, optional
        Items answered on the same agreement grid (straight-lining is judged on these);
        default: every item whose name starts with "q". Needs at least three items.
    speed_ratio : float
        A response faster than this share of its survey's median time is speeding
        (0.4 = under 40 % of the median).
    min_seconds : float, optional
        Absolute floor instead of (or on top of) the ratio rule.

    Returns
    -------
    pl.DataFrame
        One row per response (customer and survey):

        - customer_id, survey: the response
        - n_items: items of that survey (asked of anyone)
        - n_answered: items this respondent answered
        - nonresponse_pct: percent of the survey's items left unanswered
        - straight_lined: every grid item answered and all answers identical (null when
          fewer than three grid items were answered)
        - response_seconds: time taken (null when not recorded)
        - speeding: faster than the rule (null when no time is recorded)
        - flagged: straight-lined or speeding

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import response_quality
    >>> long = pl.DataFrame({"customer_id": ["a"] * 3 + ["b"] * 3, "survey": ["w"] * 6,
    ...     "item": ["q1", "q2", "q3"] * 2, "score": [3.0, 3, 3, 1, 4, 5],
    ...     "response_seconds": [20.0] * 3 + [200.0] * 3})
    >>> response_quality(long).select("customer_id", "straight_lined", "speeding").rows()
    [('a', True, True), ('b', False, False)]
    """
    if not 0 < speed_ratio < 1:
        raise ValueError(f"speed_ratio: expected a share in (0, 1), got {speed_ratio}")
    wide = to_wide(responses)
    meta = {S.CUSTOMER_ID, S.SURVEY, S.ANSWERED_AT, S.RESPONSE_SECONDS}
    items = [c for c in wide.columns if c not in meta]
    grid_items = list(grid) if grid is not None else [c for c in items if c.startswith("q")]
    unknown = [g for g in grid_items if g not in items]
    if unknown:
        raise ValueError(f"grid: items {unknown} not found; items are {items}")
    frame, _ = I.responses_and_customers(responses)
    asked = (frame.group_by(S.SURVEY).agg(pl.col(S.ITEM).n_unique().alias("n_items")))
    answered = pl.sum_horizontal([pl.col(c).is_not_null().cast(pl.Int64) for c in items])
    if len(grid_items) >= 3:
        g = [pl.col(c) for c in grid_items]
        n_grid = pl.sum_horizontal([c.is_not_null().cast(pl.Int64) for c in g])
        straight = (pl.when(n_grid == len(grid_items))
                    .then(pl.max_horizontal(g) == pl.min_horizontal(g)).otherwise(None))
    else:
        straight = pl.lit(None, pl.Boolean)
    secs = pl.col(S.RESPONSE_SECONDS)
    median = secs.median().over(S.SURVEY)
    rule = secs < speed_ratio * median
    if min_seconds is not None:
        rule = rule | (secs < min_seconds)
    out = (wide.join(asked, on=S.SURVEY, how="left")
           .select(S.CUSTOMER_ID, S.SURVEY, pl.col("n_items").cast(pl.Int64),
                   answered.alias("n_answered"), straight.alias("straight_lined"), secs,
                   pl.when(secs.is_not_null()).then(rule).otherwise(None).alias("speeding"))
           .with_columns((100 * (1 - pl.col("n_answered") / pl.col("n_items")))
                         .alias("nonresponse_pct"),
                         (pl.col("straight_lined").fill_null(False)
                          | pl.col("speeding").fill_null(False)).alias("flagged")))
    return out.select(S.CUSTOMER_ID, S.SURVEY, "n_items", "n_answered", "nonresponse_pct",
                      "straight_lined", S.RESPONSE_SECONDS, "speeding", "flagged")


def item_nonresponse(responses: Any) -> pl.DataFrame:
    """Share of each survey's respondents who skipped each item.

    A skipped item is a missing row or a null score in the long table.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        The long ``surveys`` table.

    Returns
    -------
    pl.DataFrame
        One row per survey and item:

        - survey, item: the question
        - respondents: people who answered anything in the survey
        - answered: of whom answered this item
        - nonresponse_pct: percent who skipped it

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import item_nonresponse
    >>> long = pl.DataFrame({"customer_id": ["a", "a", "b"], "survey": ["w"] * 3,
    ...     "item": ["q1", "q2", "q1"], "score": [3.0, None, 4.0]})
    >>> item_nonresponse(long).select("item", "nonresponse_pct").rows()
    [('q1', 0.0), ('q2', 100.0)]
    """
    frame, _ = I.responses_and_customers(responses)
    resp = frame.group_by(S.SURVEY).agg(pl.col(S.CUSTOMER_ID).n_unique().alias("respondents"))
    ans = (frame.filter(pl.col(S.SCORE).is_not_null())
           .group_by(S.SURVEY, S.ITEM).agg(pl.col(S.CUSTOMER_ID).n_unique().alias("answered")))
    items = frame.select(S.SURVEY, S.ITEM).unique()
    return (items.join(resp, on=S.SURVEY).join(ans, on=[S.SURVEY, S.ITEM], how="left")
            .with_columns(pl.col("answered").fill_null(0).cast(pl.Int64),
                          pl.col("respondents").cast(pl.Int64))
            .with_columns((100 * (1 - pl.col("answered") / pl.col("respondents")))
                          .alias("nonresponse_pct"))
            .sort(S.SURVEY, S.ITEM)
            .select(S.SURVEY, S.ITEM, "respondents", "answered", "nonresponse_pct"))


def survey_length(responses: Any, *, max_items: int = 10, warn: bool = True
                  ) -> pl.DataFrame:
    """Items per survey, with a warning for surveys longer than ``max_items``.

    Short surveys get more and better answers; long ones invite straight-lining and
    drop-outs.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        The long ``surveys`` table.
    max_items : int
        Longest survey considered short.
    warn : bool
        Emit a ``UserWarning`` naming the long surveys.

    Returns
    -------
    pl.DataFrame
        One row per survey:

        - survey: the survey
        - n_items: distinct items asked
        - respondents: people who answered
        - median_seconds: median response time (null without timings)
        - too_long: n_items > max_items

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import survey_length
    >>> long = pl.DataFrame({"customer_id": ["a"] * 12, "survey": ["w"] * 12,
    ...     "item": [f"q{i}" for i in range(12)], "score": [3.0] * 12})
    >>> survey_length(long, warn=False)["too_long"].to_list()
    [True]
    """
    frame, _ = I.responses_and_customers(responses)
    secs = (pl.col(S.RESPONSE_SECONDS).median() if S.RESPONSE_SECONDS in frame.columns
            else pl.lit(None, pl.Float64))
    out = (frame.group_by(S.SURVEY)
           .agg(pl.col(S.ITEM).n_unique().cast(pl.Int64).alias("n_items"),
                pl.col(S.CUSTOMER_ID).n_unique().cast(pl.Int64).alias("respondents"),
                secs.cast(pl.Float64).alias("median_seconds"))
           .with_columns((pl.col("n_items") > max_items).alias("too_long"))
           .sort(S.SURVEY))
    long = out.filter(pl.col("too_long"))
    if warn and long.height:
        names = long.get_column(S.SURVEY).to_list()
        warnings.warn(f"surveys {names[:5]} ask more than {max_items} items "
                      f"(up to {long['n_items'].max()}); long surveys lose respondents and "
                      f"invite straight-lining: keep them short and simple",
                      UserWarning, stacklevel=2)
    return out


def drop_flagged(responses: Any, **options: Any) -> Any:
    """The answers without the responses :func:`response_quality` flags.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        The long ``surveys`` table, or a CRMData (a copy with its surveys filtered is
        returned).
    **options
        Passed to :func:`response_quality` (``grid``, ``speed_ratio``, ``min_seconds``).

    Returns
    -------
    pl.DataFrame or CRMData
        The same long table (same columns) without the rows of flagged responses
        (straight-lined or speeding), or the CRMData holding it.

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import drop_flagged
    >>> long = pl.DataFrame({"customer_id": ["a"] * 3 + ["b"] * 3, "survey": ["w"] * 6,
    ...     "item": ["q1", "q2", "q3"] * 2, "score": [3.0, 3, 3, 1, 4, 5],
    ...     "response_seconds": [20.0] * 3 + [200.0] * 3})
    >>> drop_flagged(long)["customer_id"].unique().to_list()
    ['b']
    """
    frame, _ = I.responses_and_customers(responses)
    flagged = (response_quality(frame, **options).filter(pl.col("flagged"))
               .select(S.CUSTOMER_ID, S.SURVEY))
    kept = frame.join(flagged, on=[S.CUSTOMER_ID, S.SURVEY], how="anti")
    if hasattr(responses, "replace") and hasattr(responses, "surveys"):
        return responses.replace(surveys=kept)
    return kept


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
