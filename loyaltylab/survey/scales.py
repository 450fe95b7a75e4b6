"""Multi-item scales: the wide layout, Likert composites and distributions, and reliability
(Cronbach's alpha with the Feldt interval, item analysis)."""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab.data import schema as S
from loyaltylab.survey import _input as I

__all__ = ["to_wide", "likert_scale", "likert_summary", "likert_distribution", "cronbach_alpha",
           "item_analysis", "AGREE_5"]

AGREE_5: dict[str, int] = {
    # English
    "strongly disagree": 1, "disagree": 2, "neither agree nor disagree": 3,
    "neutral": 3, "agree": 4, "strongly agree": 5,
    # German
    "stimme überhaupt nicht zu": 1, "stimme nicht zu": 2, "weder noch": 3,
    "stimme zu": 4, "stimme voll und ganz zu": 5,
    # French
    "pas du tout d'accord": 1, "pas d'accord": 2, "ni d'accord ni pas d'accord": 3,
    "d'accord": 4, "tout à fait d'accord": 5,
    # Spanish
    "totalmente en desacuerdo": 1, "en desacuerdo": 2, "ni de acuerdo ni en desacuerdo": 3,
    "de acuerdo": 4, "totalmente de acuerdo": 5,
}
"""A ready mapping for the 5-point agreement scale in English, German, French and Spanish
(matching ignores case and surrounding blanks). Pass ``mapping=AGREE_5`` or extend it."""

_ID_COLS = (S.CUSTOMER_ID, S.SURVEY)


def to_wide(responses: Any, *, items: Sequence[str] | None = None,
            mapping: Mapping[str, float] | None = None,
            scale: tuple[float, float] | None = None) -> pl.DataFrame:
    """One row per response (customer and survey), one column per item.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        The long ``surveys`` table (or a CRMData holding it).
    items : list of str, optional
        Items to keep, in this order; all items by default.
    mapping : dict, optional
        Text answer -> number, applied to every item (see :func:`likert_scale`).
    scale : (low, high), optional
        When given, answers off this range raise ``ValueError`` naming survey, item, rows
        (of the long table) and values.

    Returns
    -------
    pl.DataFrame
        - customer_id: who answered
        - survey: survey or wave
        - answered_at: earliest answer time of the response
        - response_seconds: time taken (null when the table has no timings)
        - <one Float64 column per item>: the answer, null when not answered

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import to_wide
    >>> long = pl.DataFrame({"customer_id": ["a", "a", "b"], "survey": ["w1"] * 3,
    ...     "item": ["q1", "q2", "q1"], "score": [4.0, 2.0, 5.0],
    ...     "answered_at": [None, None, None]}).cast({"answered_at": pl.Datetime("us")})
    >>> to_wide(long).select("customer_id", "q1", "q2").rows()
    [('a', 4.0, 2.0), ('b', 5.0, None)]
    """
    frame, _ = I.responses_and_customers(responses)
    need = [S.CUSTOMER_ID, S.SURVEY, S.ITEM, S.SCORE]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ValueError(f"responses: a long surveys table needs columns {need}; missing "
                         f"{missing}")
    frame = frame.with_row_index(I.ROW)
    if items is not None:
        frame = frame.filter(pl.col(S.ITEM).is_in(list(items)))
    parts = []
    for (item,), part in frame.partition_by(S.ITEM, as_dict=True,
                                            maintain_order=True).items():
        part = I.map_text(part, S.SCORE, mapping, item=str(item))
        if scale is not None:
            I.check_scale(part, scale, item=str(item), integer=False)
        parts.append(part)
    frame = pl.concat(parts) if parts else frame.with_columns(
        pl.lit(None, pl.Float64).alias(I.VALUE))
    meta_exprs = []
    if S.ANSWERED_AT in frame.columns:
        meta_exprs.append(pl.col(S.ANSWERED_AT).min())
    else:
        meta_exprs.append(pl.lit(None, pl.Datetime("us")).alias(S.ANSWERED_AT))
    if S.RESPONSE_SECONDS in frame.columns:
        meta_exprs.append(pl.col(S.RESPONSE_SECONDS).cast(pl.Float64).max())
    else:
        meta_exprs.append(pl.lit(None, pl.Float64).alias(S.RESPONSE_SECONDS))
    meta = frame.group_by(list(_ID_COLS), maintain_order=True).agg(meta_exprs)
    wide = frame.pivot(on=S.ITEM, index=list(_ID_COLS), values=I.VALUE,
                       aggregate_function="first")
    order = list(items) if items is not None else sorted(
        c for c in wide.columns if c not in _ID_COLS)
    for c in order:
        if c not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(c))
    return meta.join(wide, on=list(_ID_COLS), how="left").select(
        [*_ID_COLS, S.ANSWERED_AT, S.RESPONSE_SECONDS, *order])


def _wide_items(responses: Any, items: Sequence[str] | None,
                mapping: Mapping[str, float] | None,
                scale: tuple[float, float] | None, *, min_items: int = 2
                ) -> tuple[pl.DataFrame, list[str], list[str]]:
    """A wide frame, its item columns and its id columns, text mapped and scale checked."""
    frame, _ = I.responses_and_customers(responses)
    if S.ITEM in frame.columns:
        wide = to_wide(frame, items=items, mapping=mapping, scale=scale)
        item_cols = list(items) if items is not None else [
            c for c in wide.columns
            if c not in (*_ID_COLS, S.ANSWERED_AT, S.RESPONSE_SECONDS)]
        id_cols = list(_ID_COLS)
    else:
        if items is None:
            raise ValueError("items: name the item columns of a wide frame, e.g. "
                             "items=['q1', 'q2', 'q3']")
        missing = [c for c in items if c not in frame.columns]
        if missing:
            raise ValueError(f"responses: item columns {missing} not found; columns are "
                             f"{frame.columns}")
        wide = frame
        item_cols = list(items)
        id_cols = [c for c in frame.columns if c not in item_cols]
        converted = []
        indexed = frame.with_row_index(I.ROW)
        for c in item_cols:
            converted.append(I.map_text(indexed, c, mapping, item=c).get_column(I.VALUE)
                             .alias(c))
        wide = frame.with_columns(converted)
    if len(item_cols) < min_items:
        raise ValueError(f"items: need at least {min_items} items, got {item_cols}")
    if scale is not None and S.ITEM not in frame.columns:
        indexed = wide.with_row_index(I.ROW)
        for c in item_cols:
            I.check_scale(indexed.with_columns(pl.col(c).alias(I.VALUE)), scale, item=c,
                          integer=False)
    return wide, item_cols, id_cols


def likert_scale(responses: Any, *, items: Sequence[str] | None = None,
                 reverse: Sequence[str] = (), scale: tuple[int, int] = (1, 5),
                 mapping: Mapping[str, float] | None = None, min_answered: int | None = None,
                 method: str = "mean") -> pl.DataFrame:
    """Composite score of a multi-item Likert scale, one row per response.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        The long ``surveys`` table, or a wide frame with one column per item (other
        columns are kept as identifiers).
    items : list of str
        The items forming the scale (all items of a long table by default).
    reverse : list of str
        Reverse-coded items: an answer x becomes ``low + high - x`` before scoring.
    scale : (int, int)
        Lowest and highest answer.
    mapping : dict, optional
        Text answer -> number, e.g. :data:`AGREE_5` or your own labels in any language.
        An answer neither numeric nor in the mapping raises ``ValueError`` naming the
        survey, item, rows and values.
    min_answered : int, optional
        Missing-answer rule: the composite is computed when at least this many items are
        answered, else it is null. Default: half the items, rounded up (the "half rule").
    method : {"mean", "sum"}
        ``mean`` of the answered items, or a ``sum`` prorated to all items (mean x k), so
        respondents with a skipped item stay comparable.

    Returns
    -------
    pl.DataFrame
        One row per response:

        - <id columns>: customer_id and survey (long input) or the wide frame's other
          columns
        - n_answered: items answered
        - score: the composite on the scale (mean) or 0..k x high (sum); null when fewer
          than ``min_answered`` items were answered

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import likert_scale, AGREE_5
    >>> wide = pl.DataFrame({"id": [1, 2], "q1": ["Strongly agree", "Stimme zu"],
    ...                      "q2": ["agree", None], "q3": ["Disagree", "d'accord"]})
    >>> likert_scale(wide, items=["q1", "q2", "q3"], reverse=["q3"],
    ...              mapping=AGREE_5)["score"].to_list()
    [4.333333333333333, 3.0]
    """
    if method not in ("mean", "sum"):
        raise ValueError(f"method: expected 'mean' or 'sum', got {method!r}")
    wide, item_cols, id_cols = _wide_items(responses, items, mapping, scale)
    unknown = [r for r in reverse if r not in item_cols]
    if unknown:
        raise ValueError(f"reverse: {unknown} are not among the items {item_cols}")
    k = len(item_cols)
    need = math.ceil(k / 2) if min_answered is None else int(min_answered)
    if not 1 <= need <= k:
        raise ValueError(f"min_answered: expected 1..{k}, got {min_answered}")
    lo, hi = scale
    cols = [(lo + hi - pl.col(c)) if c in reverse else pl.col(c) for c in item_cols]
    answered = pl.sum_horizontal([c.is_not_null().cast(pl.Int64) for c in cols])
    mean = pl.mean_horizontal(cols)
    score = mean * k if method == "sum" else mean
    return wide.select(
        *id_cols,
        answered.alias("n_answered"),
        pl.when(answered >= need).then(score).otherwise(None).alias("score"),
    )


def likert_distribution(responses: Any, *, items: Sequence[str] | None = None,
                        scale: tuple[int, int] = (1, 5),
                        mapping: Mapping[str, float] | None = None,
                        labels: Sequence[str] | None = None) -> pl.DataFrame:
    """Share of each answer per item: the data behind a diverging Likert chart.

    Parameters
    ----------
    responses, items, scale, mapping
        As in :func:`likert_scale` (no reverse coding: the chart shows answers as given).
    labels : list of str, optional
        A label per scale point, low to high (default: the numbers).

    Returns
    -------
    pl.DataFrame
        One row per item and scale point:

        - item: the item
        - level: the scale point (Int64)
        - label: its label
        - n: answers at that level
        - n_item: answers to the item
        - pct: percent of the item's answers at that level

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import likert_distribution
    >>> wide = pl.DataFrame({"q1": [1, 5, 5, 4], "q2": [2, 2, 3, None]})
    >>> d = likert_distribution(wide, items=["q1", "q2"])
    >>> d.filter(pl.col("item") == "q1")["pct"].to_list()
    [25.0, 0.0, 0.0, 25.0, 50.0]
    """
    wide, item_cols, _ = _wide_items(responses, items, mapping, scale, min_items=1)
    lo, hi = scale
    levels = list(range(int(lo), int(hi) + 1))
    if labels is not None and len(labels) != len(levels):
        raise ValueError(f"labels: expected {len(levels)} labels for the scale {scale}, "
                         f"got {len(labels)}")
    names = list(labels) if labels is not None else [str(v) for v in levels]
    rows = []
    for c in item_cols:
        x = wide.get_column(c).drop_nulls().round(0).to_numpy()
        for lv, name in zip(levels, names):
            k = int((x == lv).sum())
            rows.append({"item": c, "level": lv, "label": name, "n": k,
                         "n_item": int(x.size),
                         "pct": 100 * k / x.size if x.size else None})
    return pl.DataFrame(rows, schema={"item": pl.String, "level": pl.Int64,
                                      "label": pl.String, "n": pl.Int64,
                                      "n_item": pl.Int64, "pct": pl.Float64})


def _matrix(responses, items, reverse, scale, mapping) -> tuple[np.ndarray, list[str]]:
    wide, item_cols, _ = _wide_items(responses, items, mapping, scale)
    unknown = [r for r in reverse if r not in item_cols]
    if unknown:
        raise ValueError(f"reverse: {unknown} are not among the items {item_cols}")
    if reverse and scale is None:
        raise ValueError("reverse: pass scale=(low, high) so reversed items can be recoded")
    cols = [((scale[0] + scale[1] - pl.col(c)) if c in reverse else pl.col(c)).alias(c)
            for c in item_cols]
    x = wide.select(cols).drop_nulls().to_numpy().astype(float)
    if x.shape[0] < 3:
        raise ValueError(f"cronbach_alpha: {x.shape[0]} complete responses; at least 3 "
                         f"respondents who answered every item are needed")
    return x, item_cols


def _alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var))


def cronbach_alpha(responses: Any, *, items: Sequence[str] | None = None,
                   reverse: Sequence[str] = (), scale: tuple[int, int] | None = None,
                   mapping: Mapping[str, float] | None = None,
                   confidence: float = 0.95) -> pl.DataFrame:
    """Cronbach's alpha of a multi-item scale with the Feldt confidence interval.

    Respondents missing any item are left out (listwise deletion; ``n`` says how many
    remain). For alpha if an item is deleted and item-total correlations, see
    :func:`item_analysis`.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        Long ``surveys`` table or a wide frame (rows = respondents, one column per item).
    items : list of str
        The scale's items (required for a wide frame).
    reverse : list of str
        Reverse-coded items (needs ``scale``).
    scale : (int, int), optional
        Answer range: checked, and used for reverse coding.
    mapping : dict, optional
        Text answer -> number.
    confidence : float
        Interval coverage.

    Returns
    -------
    pl.DataFrame
        One row:

        - n: respondents with every item answered
        - k: items
        - alpha: Cronbach's alpha
        - ci_low, ci_high: Feldt interval

    Notes
    -----
    ``alpha = k/(k-1) * (1 - sum(var_i) / var(total))``. Feldt (1965): with
    ``F_q`` the q quantile of F(n-1, (n-1)(k-1)), the interval is
    ``[1 - (1-alpha) F_{1-a/2}, 1 - (1-alpha) F_{a/2}]``.

    References
    ----------
    Cronbach, L. J. (1951), Psychometrika 16, 297-334. Feldt, L. S. (1965),
    Psychometrika 30, 357-370.

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import cronbach_alpha
    >>> wide = pl.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3],
    ...                      "c": [1, 3, 3, 4, 5, 2]})
    >>> round(cronbach_alpha(wide, items=["a", "b", "c"])["alpha"][0], 3)
    0.932
    """
    x, item_cols = _matrix(responses, items, reverse, scale, mapping)
    n, k = x.shape
    a = _alpha(x)
    q = 1 - confidence
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - a) * stats.f.ppf(1 - q / 2, df1, df2)
    hi = 1 - (1 - a) * stats.f.ppf(q / 2, df1, df2)
    return pl.DataFrame({"n": [n], "k": [k], "alpha": [a], "ci_low": [float(lo)],
                         "ci_high": [float(hi)]})


def item_analysis(responses: Any, *, items: Sequence[str] | None = None,
                  reverse: Sequence[str] = (), scale: tuple[int, int] | None = None,
                  mapping: Mapping[str, float] | None = None) -> pl.DataFrame:
    """Per-item statistics of a scale: which items hold it together, which weaken it.

    Parameters
    ----------
    responses, items, reverse, scale, mapping
        As in :func:`cronbach_alpha` (listwise deletion).

    Returns
    -------
    pl.DataFrame
        One row per item:

        - item: the item
        - reversed: whether it was reverse-coded
        - mean, sd: of the (recoded) answers
        - item_total_r: correlation of the item with the total of all items
        - item_rest_r: corrected item-total correlation (item vs total of the others);
          below about 0.3 the item fits the scale poorly
        - alpha_if_deleted: alpha of the scale without this item (above the full alpha
          means the item lowers reliability)

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import item_analysis
    >>> wide = pl.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3],
    ...                      "c": [1, 3, 3, 4, 5, 2]})
    >>> item_analysis(wide, items=["a", "b", "c"])["item_rest_r"].round(3).to_list()
    [0.942, 0.807, 0.854]
    """
    x, item_cols = _matrix(responses, items, reverse, scale, mapping)
    total = x.sum(axis=1)
    rows = []
    for j, c in enumerate(item_cols):
        rest = total - x[:, j]
        rows.append({
            "item": c, "reversed": c in reverse, "mean": float(x[:, j].mean()),
            "sd": float(x[:, j].std(ddof=1)),
            "item_total_r": float(np.corrcoef(x[:, j], total)[0, 1]),
            "item_rest_r": float(np.corrcoef(x[:, j], rest)[0, 1]),
            "alpha_if_deleted": _alpha(np.delete(x, j, axis=1)) if x.shape[1] > 2
            else float("nan"),
        })
    return pl.DataFrame(rows)


def likert_summary(responses: Any, *, items: Sequence[str] | None = None,
                   reverse: Sequence[str] = (), scale: tuple[int, int] = (1, 5),
                   mapping: Mapping[str, float] | None = None,
                   min_answered: int | None = None, agree_from: float | None = None,
                   by: str | list[str] | None = None, weights: Any = None,
                   customers: Any = None, confidence: float = 0.95) -> pl.DataFrame:
    """Score a Likert scale per group: mean composite and share agreeing, with intervals.

    Composites come from :func:`likert_scale` (one per response, same reverse-coding and
    missing-answer rule); they are then summarised like :func:`loyaltylab.survey.csat`.

    Parameters
    ----------
    responses, items, reverse, scale, mapping, min_answered
        As in :func:`likert_scale` (``method="mean"``).
    agree_from : float, optional
        Composite counted as agreeing (default: one below the top, 4 on 1-5).
    by, weights, customers, confidence
        As in :func:`loyaltylab.survey.nps`; ``by`` and ``weights`` columns must be id
        columns of the responses (``survey``) or customer attributes.

    Returns
    -------
    pl.DataFrame
        One row per ``by`` group:

        - <by columns>: the group
        - n: responses with a composite (others fail the missing-answer rule)
        - mean, mean_se: mean composite and its standard error
        - mean_ci_low, mean_ci_high: t interval (normal with ``weights``)
        - agree: composites at or above ``agree_from``
        - agree_pct: their percent
        - agree_se: its standard error in points
        - agree_ci_low, agree_ci_high: Wilson interval in percent

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.survey import likert_summary
    >>> wide = pl.DataFrame({"q1": [5, 4, 2, 4], "q2": [4, 4, 1, 5]})
    >>> r = likert_summary(wide, items=["q1", "q2"]).row(0, named=True)
    >>> r["n"], r["mean"], r["agree"]
    (4, 3.625, 3)
    """
    from loyaltylab.survey.scores import _share_mean_one, _score_groups, _weight_cols
    composite = likert_scale(responses, items=items, reverse=reverse, scale=scale,
                             mapping=mapping, min_answered=min_answered)
    threshold = float(scale[1] - 1) if agree_from is None else float(agree_from)
    frame, cust = I.responses_and_customers(responses, customers)
    if S.CUSTOMER_ID not in composite.columns:      # wide input without ids
        cust = None
    prepared, by_cols = I.prepare_item(composite, item=None, score_col="score", by=by,
                                       customers=cust, scale=scale, integer=False,
                                       extra=_weight_cols(weights))
    stratum, shares, prepared = I.validate_weights(
        weights, prepared.filter(pl.col(I.VALUE).is_not_null()) if weights else prepared,
        cust)
    names = {"n": "n", "mean": "mean", "mean_se": "mean_se", "mean_lo": "mean_ci_low",
             "mean_hi": "mean_ci_high", "k": "agree", "pct": "agree_pct",
             "se": "agree_se", "lo": "agree_ci_low", "hi": "agree_ci_high"}

    def fn(x, strata, sh):
        r = _share_mean_one(x, strata, sh, threshold=threshold, ci="wilson",
                            confidence=confidence)
        return {names[k]: v for k, v in r.items() if k in names}

    schema = {names[k]: (pl.Int64 if k in ("n", "k") else pl.Float64) for k in names}
    return _score_groups(prepared, by_cols, stratum, shares, fn, schema)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
