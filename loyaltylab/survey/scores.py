"""Scoring the standard instruments: NPS, CSAT and CES, each with an honest interval."""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab import _stats
from loyaltylab.data import schema as S
from loyaltylab.survey import _input as I

__all__ = ["nps", "csat", "ces", "nps_group", "NPS_CI_METHODS"]

NPS_CI_METHODS = ("adjusted-wald", "wald", "bootstrap")
_SHARE_CI_METHODS = ("wilson", "wald")


def nps_group(score: pl.Expr | str = S.SCORE) -> pl.Expr:
    """Polars expression: "detractor" (0-6), "passive" (7-8) or "promoter" (9-10).

    Parameters
    ----------
    score : str or pl.Expr, default "score"
        Column (or expression) of 0-10 likelihood-to-recommend scores.

    Returns
    -------
    pl.Expr
        A string expression; null where the score is null.

    Examples
    --------
    >>> import polars as pl
    >>> pl.DataFrame({"score": [3.0, 7.0, 10.0]}).select(nps_group("score"))["nps_group"].to_list()
    ['detractor', 'passive', 'promoter']
    """
    s = pl.col(score) if isinstance(score, str) else score
    return (pl.when(s >= 9).then(pl.lit("promoter"))
            .when(s >= 7).then(pl.lit("passive"))
            .when(s.is_not_null()).then(pl.lit("detractor"))
            .otherwise(None).alias("nps_group"))


def _check_ci(ci: str, allowed: tuple[str, ...]) -> str:
    key = str(ci).lower().replace("_", "-").replace(" ", "-")
    if key == "adjusted":
        key = "adjusted-wald"
    if key not in allowed:
        raise ValueError(f"ci: expected one of {list(allowed)}, got {ci!r}")
    return key


def _nps_var(pp: float, pd: float) -> float:
    """Per-respondent variance of the promoter(+1)/detractor(-1) score."""
    return max(pp + pd - (pp - pd) ** 2, 0.0)


def _nps_one(x: np.ndarray, strata: np.ndarray | None, shares: Mapping | None, *,
             ci: str, confidence: float, rng: np.random.Generator, n_boot: int) -> dict:
    n = int(x.size)
    pro = int((x >= 9).sum())
    det = int((x <= 6).sum())
    out = {"n": n, "promoters": pro, "passives": n - pro - det, "detractors": det}
    if n == 0:
        return {**out, "promoters_pct": None, "passives_pct": None, "detractors_pct": None,
                "nps": None, "se": None, "ci_low": None, "ci_high": None}
    z = _stats.z_value(confidence)
    if shares is None:
        levels, w = [None], np.array([1.0])
        cells = [(n, pro, det)]
    else:
        levels, w = I.stratum_shares(strata, shares)
        cells = []
        for g in levels:
            xs = x[strata == g]
            cells.append((xs.size, int((xs >= 9).sum()), int((xs <= 6).sum())))
    nh = np.array([c[0] for c in cells], float)
    proh = np.array([c[1] for c in cells], float)
    deth = np.array([c[2] for c in cells], float)
    p_pro = float(np.sum(w * proh / nh))
    p_det = float(np.sum(w * deth / nh))
    score = 100 * (p_pro - p_det)
    if ci == "bootstrap":
        boot = np.zeros(n_boot)
        for wh, m, a, d in zip(w, nh, proh, deth):
            draws = rng.multinomial(int(m), [a / m, 1 - (a + d) / m, d / m], size=n_boot)
            boot += wh * (draws[:, 0] - draws[:, 2]) / m
        boot *= 100
        alpha = 1 - confidence
        lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
        se = float(boot.std(ddof=1))
    else:
        if ci == "adjusted-wald":
            nh_, proh_, deth_ = nh + 3, proh + 0.75, deth + 0.75
        else:
            nh_, proh_, deth_ = nh, proh, deth
        pp, pd = proh_ / nh_, deth_ / nh_
        centre = 100 * float(np.sum(w * (pp - pd)))
        var = float(np.sum(w**2 * np.array([_nps_var(a, b) for a, b in zip(pp, pd)]) / nh_))
        se = 100 * np.sqrt(var)
        lo, hi = centre - z * se, centre + z * se
    return {**out, "promoters_pct": 100 * p_pro, "passives_pct": 100 * (1 - p_pro - p_det),
            "detractors_pct": 100 * p_det, "nps": score, "se": float(se),
            "ci_low": float(max(lo, -100.0)), "ci_high": float(min(hi, 100.0))}


_NPS_SCHEMA = {"n": pl.Int64, "promoters": pl.Int64, "passives": pl.Int64,
               "detractors": pl.Int64, "promoters_pct": pl.Float64,
               "passives_pct": pl.Float64, "detractors_pct": pl.Float64,
               "nps": pl.Float64, "se": pl.Float64, "ci_low": pl.Float64,
               "ci_high": pl.Float64}


def _score_groups(frame: pl.DataFrame, by: list[str], stratum: str | None, shares,
                  fn, schema: dict) -> pl.DataFrame:
    rows = []
    for key, part in I.iter_groups(frame, by):
        x = part.get_column(I.VALUE).drop_nulls().to_numpy().astype(float)
        strata = None
        if stratum is not None:
            sub = part.filter(pl.col(I.VALUE).is_not_null())
            strata = np.asarray(sub.get_column(I.STRATUM).to_list(), dtype=object)
        rows.append({**key, **fn(x, strata, shares)})
    full = {**I.by_schema(frame, by), **schema}
    return pl.DataFrame(rows, schema=full, orient="row") if rows else pl.DataFrame(
        schema=full)


def nps(responses: Any, *, score_col: str = S.SCORE, item: str | None = "nps",
        by: str | list[str] | None = None, ci: str = "adjusted-wald",
        confidence: float = 0.95, weights: Mapping[str, Mapping[Any, float]] | None = None,
        customers: Any = None, mapping: Mapping[str, float] | None = None,
        n_boot: int = 2000, seed: int | None = 0) -> pl.DataFrame:
    """Net Promoter Score with counts, shares, standard error and interval.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        The long ``surveys`` table (rows with ``item == item`` are scored), a wide frame
        with one column of 0-10 answers (``score_col``, or the column named ``item``), or
        a CRMData (its surveys; its customers supply ``by=`` attributes).
    score_col : str
        Column holding the answers.
    item : str or None
        Item holding the likelihood-to-recommend question in a long table.
    by : str or list of str, optional
        Columns (of the answers, or customer attributes such as ``segment``) to score
        separately. A level of an Enum ``by`` column without answers gives a row with
        ``n = 0`` and null scores.
    ci : {"adjusted-wald", "wald", "bootstrap"}
        Interval method (see Notes).
    confidence : float
        Interval coverage.
    weights : dict, optional
        Post-stratification to known population shares: ``{column: {group: share}}``
        (shares or population counts; normalised). Every group in the answers needs a
        share and every weighted group needs answers, else ``ValueError`` names them.
    customers : frame, optional
        The customers table, for ``by``/``weights`` attributes and to report answers from
        unknown customers (warned about, never dropped).
    mapping : dict, optional
        Text answer -> number (e.g. ``{"ten": 10}``); unknown text raises ``ValueError``.
    n_boot, seed : int
        Bootstrap replicates and seed (``ci="bootstrap"`` only).

    Returns
    -------
    pl.DataFrame
        One row per ``by`` group:

        - <by columns>: the group
        - n: answers scored (missing answers are not counted)
        - promoters, passives, detractors: counts (9-10, 7-8, 0-6)
        - promoters_pct, passives_pct, detractors_pct: shares in percent (post-stratified
          when ``weights`` is given)
        - nps: percent promoters minus percent detractors, -100..100
        - se: standard error in points, of the method's estimator
        - ci_low, ci_high: interval in points, clipped to [-100, 100]

    Raises
    ------
    ValueError
        An answer off the 0-10 whole-number scale or unmapped text (naming survey, item,
        rows and values); weights not covering the groups; an unknown ``ci``.

    Notes
    -----
    Each respondent scores +1 (promoter), 0 or -1 (detractor); NPS is 100 times their
    mean, with per-respondent variance ``p_pro + p_det - (p_pro - p_det)^2``. Wald:
    ``nps +- z * 100 * sqrt(var / n)``. Adjusted-Wald (Rocks 2016): add 3/4 to the
    promoter and detractor counts and 3 to ``n``, then use the Wald formula around the
    adjusted centre (the reported ``nps`` stays the raw score). Bootstrap: percentile
    interval of ``n_boot`` multinomial resamples of the three counts. With ``weights``,
    shares are post-stratified means ``sum_h W_h p_h`` and the variance is
    ``sum_h W_h^2 var_h / n_h`` (adjusted-Wald adjusts each stratum; bootstrap resamples
    within strata).

    References
    ----------
    Reichheld, F. (2003), "The One Number You Need to Grow", Harvard Business Review.
    Rocks, B. (2016), "Interval Estimation for the 'Net Promoter Score'", The American
    Statistician 70(4), 365-372.

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> answers = pl.DataFrame({"score": [10.0] * 50 + [8.0] * 30 + [3.0] * 20})
    >>> r = ll.survey.nps(answers).row(0, named=True)
    >>> r["n"], r["nps"], round(r["ci_low"], 2), round(r["ci_high"], 2)
    (100, 30.0, 14.05, 44.2)
    """
    method = _check_ci(ci, NPS_CI_METHODS)
    frame, by_cols = I.prepare_item(responses, item=item, score_col=score_col, by=by,
                                    customers=customers, scale=(0, 10), mapping=mapping,
                                    extra=_weight_cols(weights))
    _, cust = I.responses_and_customers(responses, customers) if weights else (None, None)
    stratum, shares, frame = I.validate_weights(
        weights, frame.filter(pl.col(I.VALUE).is_not_null()) if weights else frame, cust)
    rng = np.random.default_rng(seed)

    def fn(x, strata, sh):
        return _nps_one(x, strata, sh, ci=method, confidence=confidence, rng=rng,
                        n_boot=n_boot)

    return _score_groups(frame, by_cols, stratum, shares, fn, _NPS_SCHEMA)


def _weight_cols(weights) -> list[str]:
    if isinstance(weights, Mapping) and len(weights) == 1:
        return [c for c in weights]
    return []


def _share_mean_one(x: np.ndarray, strata, shares, *, threshold: float, ci: str,
                    confidence: float) -> dict:
    """Share of answers >= threshold (Wilson/Wald) and the mean (t interval)."""
    n = int(x.size)
    k = int((x >= threshold).sum())
    if n == 0:
        return {"n": 0, "k": k, "pct": None, "se": None, "lo": None, "hi": None,
                "mean": None, "mean_se": None, "mean_lo": None, "mean_hi": None}
    z = _stats.z_value(confidence)
    if shares is None:
        p = k / n
        var_p = p * (1 - p) / n
        n_eff = float(n)
        mean = float(x.mean())
        mean_se = float(x.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        q = stats.t.ppf(0.5 + confidence / 2, n - 1) if n > 1 else float("nan")
    else:
        levels, w = I.stratum_shares(strata, shares)
        ph, vh, mh, mvh = [], [], [], []
        for g in levels:
            xs = x[strata == g]
            pg = float((xs >= threshold).mean())
            ph.append(pg)
            vh.append(pg * (1 - pg) / xs.size)
            mh.append(float(xs.mean()))
            mvh.append(float(xs.var(ddof=1)) / xs.size if xs.size > 1 else 0.0)
        p = float(np.dot(w, ph))
        var_p = float(np.dot(w**2, vh))
        n_eff = p * (1 - p) / var_p if var_p > 0 else float(n)
        mean = float(np.dot(w, mh))
        mean_se = float(np.sqrt(np.dot(w**2, mvh)))
        q = z
    if ci == "wilson":
        lo, hi = _stats.wilson_interval(p * n_eff, n_eff, confidence=confidence)
        lo, hi = float(lo), float(hi)
    else:
        lo, hi = max(p - z * np.sqrt(var_p), 0.0), min(p + z * np.sqrt(var_p), 1.0)
    return {"n": n, "k": k, "pct": 100 * p, "se": 100 * float(np.sqrt(var_p)),
            "lo": 100 * lo, "hi": 100 * hi, "mean": mean, "mean_se": mean_se,
            "mean_lo": mean - q * mean_se, "mean_hi": mean + q * mean_se}


def _share_mean(responses, *, item, score_col, by, scale, threshold, ci, confidence,
                weights, customers, mapping, names: dict[str, str]) -> pl.DataFrame:
    method = _check_ci(ci, _SHARE_CI_METHODS)
    if not scale[0] <= threshold <= scale[1]:
        raise ValueError(f"threshold {threshold} lies outside the scale {scale}")
    frame, by_cols = I.prepare_item(responses, item=item, score_col=score_col, by=by,
                                    customers=customers, scale=scale, mapping=mapping,
                                    extra=_weight_cols(weights))
    _, cust = I.responses_and_customers(responses, customers) if weights else (None, None)
    stratum, shares, frame = I.validate_weights(
        weights, frame.filter(pl.col(I.VALUE).is_not_null()) if weights else frame, cust)

    def fn(x, strata, sh):
        r = _share_mean_one(x, strata, sh, threshold=threshold, ci=method,
                            confidence=confidence)
        return {names[k]: v for k, v in r.items() if k in names}

    schema = {names[k]: (pl.Int64 if k in ("n", "k") else pl.Float64) for k in names}
    return _score_groups(frame, by_cols, stratum, shares, fn, schema)


def csat(responses: Any, *, score_col: str = S.SCORE, item: str | None = "csat",
         by: str | list[str] | None = None, scale: tuple[int, int] = (1, 5),
         top_box: int = 2, ci: str = "wilson", confidence: float = 0.95,
         weights: Mapping[str, Mapping[Any, float]] | None = None, customers: Any = None,
         mapping: Mapping[str, float] | None = None) -> pl.DataFrame:
    """Customer satisfaction: the top-box share with a Wilson interval, and the mean.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        Long ``surveys`` table (rows with ``item == item``), wide frame or CRMData, as in
        :func:`nps`.
    score_col, item, by, confidence, weights, customers, mapping
        As in :func:`nps`.
    scale : (int, int)
        Lowest and highest answer (1-5 by default; e.g. (1, 7) or (1, 10)).
    top_box : int
        How many top answers count as satisfied: 2 = 4 and 5 on a 1-5 scale.
    ci : {"wilson", "wald"}
        Interval for the share.

    Returns
    -------
    pl.DataFrame
        One row per ``by`` group:

        - <by columns>: the group
        - n: answers scored
        - satisfied: answers in the top box
        - csat: percent satisfied (post-stratified with ``weights``)
        - se: its standard error in points
        - ci_low, ci_high: interval for ``csat`` in percent
        - mean: mean answer on the scale
        - mean_se: its standard error
        - mean_ci_low, mean_ci_high: t interval for the mean (normal with ``weights``)

    Notes
    -----
    ``csat = 100 * satisfied / n``. The Wilson (1927) interval comes from
    :func:`loyaltylab._stats.wilson_interval`; with ``weights`` it uses the Kish effective
    sample size ``p(1-p)/var``, where ``var = sum_h W_h^2 p_h(1-p_h)/n_h``.

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> answers = pl.DataFrame({"score": [5.0] * 40 + [4.0] * 34 + [2.0] * 33})
    >>> r = ll.survey.csat(answers).row(0, named=True)
    >>> r["satisfied"], r["n"], round(r["csat"], 2), round(r["ci_low"], 2), round(r["ci_high"], 2)
    (74, 107, 69.16, 59.87, 77.12)
    """
    if not isinstance(top_box, int) or not 1 <= top_box <= scale[1] - scale[0]:
        raise ValueError(f"top_box: expected a whole number from 1 to "
                         f"{scale[1] - scale[0]}, got {top_box!r}")
    names = {"n": "n", "k": "satisfied", "pct": "csat", "se": "se", "lo": "ci_low",
             "hi": "ci_high", "mean": "mean", "mean_se": "mean_se",
             "mean_lo": "mean_ci_low", "mean_hi": "mean_ci_high"}
    return _share_mean(responses, item=item, score_col=score_col, by=by, scale=scale,
                       threshold=scale[1] - top_box + 1, ci=ci, confidence=confidence,
                       weights=weights, customers=customers, mapping=mapping, names=names)


def ces(responses: Any, *, score_col: str = S.SCORE, item: str | None = "ces",
        by: str | list[str] | None = None, scale: tuple[int, int] = (1, 7),
        agree_from: int = 5, ci: str = "wilson", confidence: float = 0.95,
        weights: Mapping[str, Mapping[Any, float]] | None = None, customers: Any = None,
        mapping: Mapping[str, float] | None = None) -> pl.DataFrame:
    """Customer Effort Score (CES 2.0): the mean and the share agreeing, with intervals.

    The CES 2.0 item asks for agreement on a 7-point scale with "The company made it easy
    for me to handle my issue"; vendors report either the mean or the share answering 5-7,
    so both are returned.

    Parameters
    ----------
    responses, score_col, item, by, confidence, weights, customers, mapping
        As in :func:`nps`.
    scale : (int, int)
        Lowest and highest answer (1-7).
    agree_from : int
        Lowest answer counted as agreeing (5 = "somewhat agree").
    ci : {"wilson", "wald"}
        Interval for the share.

    Returns
    -------
    pl.DataFrame
        One row per ``by`` group:

        - <by columns>: the group
        - n: answers scored
        - mean: mean answer (higher = easier)
        - mean_se: its standard error
        - mean_ci_low, mean_ci_high: t interval for the mean (normal with ``weights``)
        - agree: answers from ``agree_from`` up
        - agree_pct: percent agreeing
        - agree_se: its standard error in points
        - agree_ci_low, agree_ci_high: Wilson (or Wald) interval in percent

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> answers = pl.DataFrame({"score": [7.0, 6.0, 5.0, 5.0, 3.0, 2.0, 6.0, 4.0]})
    >>> r = ll.survey.ces(answers).row(0, named=True)
    >>> r["n"], r["mean"], r["agree"], r["agree_pct"]
    (8, 4.75, 5, 62.5)
    """
    names = {"n": "n", "mean": "mean", "mean_se": "mean_se", "mean_lo": "mean_ci_low",
             "mean_hi": "mean_ci_high", "k": "agree", "pct": "agree_pct",
             "se": "agree_se", "lo": "agree_ci_low", "hi": "agree_ci_high"}
    return _share_mean(responses, item=item, score_col=score_col, by=by, scale=scale,
                       threshold=agree_from, ci=ci, confidence=confidence,
                       weights=weights, customers=customers, mapping=mapping, names=names)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
