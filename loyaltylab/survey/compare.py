"""Comparing scores between waves or groups, trends over waves, and planning sample sizes."""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab import _stats
from loyaltylab._util import attach_by
from loyaltylab.data import schema as S
from loyaltylab.survey import _input as I
from loyaltylab.survey.scores import csat, nps

__all__ = ["compare_scores", "score_trend", "margin_of_error", "sample_size"]

_METRICS = ("nps", "csat")


def _check_metric(metric: str) -> str:
    if metric not in _METRICS:
        raise ValueError(f"metric: expected one of {list(_METRICS)}, got {metric!r}")
    return metric


def _wave_order(responses: Any, between: str, item: str | None, customers: Any = None
                ) -> list:
    frame, cust = I.responses_and_customers(responses, customers)
    if between not in frame.columns and cust is not None and between in cust.columns:
        frame = attach_by(frame, cust, [between])
    if between not in frame.columns:
        raise ValueError(f"between: column {between!r} not found; columns are "
                         f"{frame.columns}")
    if S.ITEM in frame.columns and item is not None:
        frame = frame.filter(pl.col(S.ITEM) == item)
    if S.ANSWERED_AT in frame.columns:
        order = (frame.group_by(between).agg(pl.col(S.ANSWERED_AT).min().alias("_t"))
                 .sort("_t", between, nulls_last=True))
        return order.get_column(between).to_list()
    return sorted(frame.get_column(between).unique().drop_nulls().to_list())


def compare_scores(responses: Any, *, metric: str = "nps", between: str = S.SURVEY,
                   groups: Sequence[Any] | None = None, item: str | None = None,
                   ci: str | None = None, confidence: float = 0.95,
                   customers: Any = None, **options: Any) -> pl.DataFrame:
    """Is the change real? NPS or CSAT of two waves (or groups) and a test of the difference.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        Answers, as for :func:`nps`.
    metric : {"nps", "csat"}
        Score to compare.
    between : str
        Column (or customer attribute) holding the waves or groups; ``survey`` by default.
    groups : (a, b), optional
        The two values to compare; default: the last two waves in time order (earliest
        ``answered_at``), so the difference reads "latest minus previous".
    item : str, optional
        Item to score; defaults to the metric's name.
    ci : str, optional
        NPS: "adjusted-wald" (default) or "wald"; CSAT: "newcombe" (default) or "wald".
    confidence : float
        Interval coverage.
    customers : frame, optional
        Customers table, when ``between`` is a customer attribute.
    **options
        Passed to the scorer (``scale``, ``top_box``, ``mapping``, ``score_col``).

    Returns
    -------
    pl.DataFrame
        One row:

        - metric: "nps" or "csat"
        - group_a, group_b: the two waves or groups (as strings)
        - n_a, n_b: answers in each
        - score_a, score_b: their scores (points)
        - difference: score_b - score_a (points)
        - se: standard error of the difference
        - ci_low, ci_high: interval for the difference
        - z: test statistic
        - p_value: two-sided p-value of "no difference"

    Notes
    -----
    NPS (Lewis & Sauro, MeasuringU): adjusted-Wald in each group (3/4 added to promoters
    and detractors, 3 to n), ``se = sqrt(se_a^2 + se_b^2)``, ``z = (nps_b' - nps_a') / se``
    on the adjusted scores. CSAT: pooled two-proportion z-test
    (:func:`loyaltylab._stats.two_proportion_test`) and the Newcombe (1998) hybrid score
    interval built from the two Wilson intervals.

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> w1 = [10.0] * 40 + [8.0] * 30 + [3.0] * 30
    >>> w2 = [10.0] * 50 + [8.0] * 30 + [3.0] * 20
    >>> answers = pl.DataFrame({"survey": ["w1"] * 100 + ["w2"] * 100, "score": w1 + w2})
    >>> r = ll.survey.compare_scores(answers, groups=("w1", "w2")).row(0, named=True)
    >>> round(r["difference"], 2), round(r["p_value"], 3)
    (20.0, 0.083)
    """
    metric = _check_metric(metric)
    if options.get("weights") is not None:
        raise ValueError("compare_scores: weights are not supported in the difference test; "
                         "compare post-stratified scores with nps(..., by=..., weights=...) "
                         "and their se columns instead")
    item = item if item is not None else metric
    if groups is None:
        order = _wave_order(responses, between, item, customers)
        if len(order) < 2:
            raise ValueError(f"between={between!r}: found {len(order)} group(s) "
                             f"({order}); need two to compare")
        groups = order[-2:]
    if len(groups) != 2:
        raise ValueError(f"groups: expected two values, got {list(groups)}")
    a, b = groups
    z = _stats.z_value(confidence)
    if metric == "nps":
        method = ci or "adjusted-wald"
        res = nps(responses, item=item, by=between, ci=method, confidence=confidence,
                  customers=customers, **options)
    else:
        method = ci or "newcombe"
        if method not in ("newcombe", "wald"):
            raise ValueError(f"ci: expected 'newcombe' or 'wald' for CSAT, got {ci!r}")
        res = csat(responses, item=item, by=between, confidence=confidence,
                   customers=customers, **options)
    rows = {}
    for g in (a, b):
        sub = res.filter(pl.col(between) == g)
        if sub.height == 0 or sub["n"][0] == 0:
            raise ValueError(f"groups: {between} == {g!r} has no answers to {item!r}; "
                             f"groups present: {res.get_column(between).to_list()}")
        rows[g] = sub.row(0, named=True)
    ra, rb = rows[a], rows[b]
    if metric == "nps":
        def adj(r):
            if method == "wald":
                return r["nps"], r["se"]
            m = r["n"] + 3
            pp, pd = (r["promoters"] + 0.75) / m, (r["detractors"] + 0.75) / m
            return 100 * (pp - pd), 100 * math.sqrt(max(pp + pd - (pp - pd) ** 2, 0) / m)
        ca, sa = adj(ra)
        cb, sb = adj(rb)
        se = math.sqrt(sa**2 + sb**2)
        diff_c = cb - ca
        zstat = diff_c / se if se > 0 else float("nan")
        p = float(2 * stats.norm.sf(abs(zstat))) if se > 0 else float("nan")
        lo, hi = diff_c - z * se, diff_c + z * se
        score_a, score_b = ra["nps"], rb["nps"]
    else:
        pa, pb = ra["satisfied"] / ra["n"], rb["satisfied"] / rb["n"]
        zstat, p = _stats.two_proportion_test(rb["satisfied"], rb["n"], ra["satisfied"],
                                              ra["n"])
        se = 100 * math.sqrt(pa * (1 - pa) / ra["n"] + pb * (1 - pb) / rb["n"])
        d = pb - pa
        if method == "wald":
            lo, hi = 100 * d - z * se, 100 * d + z * se
        else:
            lo, hi = (100 * v for v in _stats.newcombe_interval(
                rb["satisfied"], rb["n"], ra["satisfied"], ra["n"], confidence=confidence))
        score_a, score_b = ra["csat"], rb["csat"]
    return pl.DataFrame([{
        "metric": metric, "group_a": str(a), "group_b": str(b), "n_a": ra["n"],
        "n_b": rb["n"], "score_a": score_a, "score_b": score_b,
        "difference": score_b - score_a, "se": se, "ci_low": lo, "ci_high": hi,
        "z": zstat, "p_value": p}])


def score_trend(responses: Any, *, metric: str = "nps", wave: str = S.SURVEY,
                item: str | None = None, confidence: float = 0.95, customers: Any = None,
                **options: Any) -> pl.DataFrame:
    """The score of every wave in time order, with intervals and the change from the
    previous wave.

    Parameters
    ----------
    responses : pl.DataFrame, pandas.DataFrame or CRMData
        Answers with a wave column.
    metric : {"nps", "csat"}
        Score to track.
    wave : str
        Column naming the wave (``survey`` by default).
    item, confidence, customers, **options
        As in :func:`compare_scores` (``ci`` goes to the scorer).

    Returns
    -------
    pl.DataFrame
        The scorer's columns (see :func:`nps` / :func:`csat`) per wave, in time order,
        plus:

        - wave_index: 0, 1, 2, ... in time order
        - started_at: earliest answer of the wave (null without ``answered_at``)
        - score: the headline score (``nps`` or ``csat``)
        - change: score minus the previous wave's (null for the first)
        - change_p_value: p-value of that change (:func:`compare_scores`)

    Examples
    --------
    >>> import polars as pl
    >>> import loyaltylab as ll
    >>> answers = pl.DataFrame({"survey": ["a"] * 4 + ["b"] * 4,
    ...                         "score": [10.0, 9, 3, 8, 10, 10, 9, 2]})
    >>> ll.survey.score_trend(answers)["score"].to_list()
    [25.0, 50.0]
    """
    metric = _check_metric(metric)
    item = item if item is not None else metric
    order = _wave_order(responses, wave, item, customers)
    scorer = nps if metric == "nps" else csat
    res = scorer(responses, item=item, by=wave, confidence=confidence, customers=customers,
                 **options)
    frame, _ = I.responses_and_customers(responses)
    if S.ANSWERED_AT in frame.columns:
        starts = frame.group_by(wave).agg(pl.col(S.ANSWERED_AT).min().alias("started_at"))
    else:
        starts = res.select(wave).with_columns(
            pl.lit(None, pl.Datetime("us")).alias("started_at"))
    idx = pl.DataFrame({wave: order, "wave_index": list(range(len(order)))},
                       schema={wave: res.schema[wave], "wave_index": pl.Int64})
    res = (res.join(idx, on=wave, how="left").join(starts, on=wave, how="left")
           .sort("wave_index", nulls_last=True)
           .with_columns(pl.col(metric).alias("score")))
    changes, pvals = [None], [None]
    ci_opt = {k: v for k, v in options.items() if k != "ci"}
    waves = res.get_column(wave).to_list()
    for prev, cur in zip(waves[:-1], waves[1:]):
        try:
            c = compare_scores(responses, metric=metric, between=wave, groups=(prev, cur),
                               item=item, confidence=confidence, customers=customers,
                               **ci_opt).row(0, named=True)
            changes.append(c["difference"])
            pvals.append(c["p_value"])
        except ValueError:
            changes.append(None)
            pvals.append(None)
    return res.with_columns(pl.Series("change", changes[:res.height], dtype=pl.Float64),
                            pl.Series("change_p_value", pvals[:res.height],
                                      dtype=pl.Float64))


def _metric_var(metric: str, p: float | None, p_promoters: float | None,
                p_detractors: float | None) -> tuple[float, str]:
    if metric == "nps":
        if p_promoters is None and p_detractors is None:
            return 1.0, "worst case: half promoters, half detractors"
        pp = 0.5 if p_promoters is None else p_promoters
        pd = 0.5 if p_detractors is None else p_detractors
        if pp < 0 or pd < 0 or pp + pd > 1:
            raise ValueError(f"p_promoters + p_detractors must lie in [0, 1], got "
                             f"{pp} + {pd}")
        return pp + pd - (pp - pd) ** 2, f"{100 * pp:.0f} % promoters, {100 * pd:.0f} % detractors"
    if metric in ("csat", "share"):
        q = 0.5 if p is None else p
        if not 0 <= q <= 1:
            raise ValueError(f"p must lie in [0, 1], got {p}")
        return q * (1 - q), ("worst case: 50 %" if p is None else f"{100 * q:.0f} % satisfied")
    raise ValueError(f"metric: expected 'nps', 'csat' or 'share', got {metric!r}")


def margin_of_error(n: int | Sequence[int], *, metric: str = "nps",
                    p: float | None = None, p_promoters: float | None = None,
                    p_detractors: float | None = None, confidence: float = 0.95,
                    population: int | None = None) -> pl.DataFrame:
    """Margin of error (half-width of the interval, in points) for given sample sizes.

    Parameters
    ----------
    n : int or list of int
        Numbers of answers.
    metric : {"nps", "csat", "share"}
        NPS (points on -100..100) or a share such as CSAT (percentage points).
    p : float, optional
        Expected share for CSAT (default 0.5, the worst case).
    p_promoters, p_detractors : float, optional
        Expected NPS shares (default 0.5 each: the worst case, variance 1).
    confidence : float
        Interval coverage.
    population : int, optional
        Size of the population surveyed (customers invited); applies the finite
        population correction ``(N - n)/(N - 1)``.

    Returns
    -------
    pl.DataFrame
        - n: sample size
        - margin: half-width of the interval in points
        - assumption: the shares assumed

    Notes
    -----
    ``margin = z * 100 * sqrt(var / n)``, with per-respondent variance
    ``p_pro + p_det - (p_pro - p_det)^2`` for NPS and ``p(1 - p)`` for a share.

    Examples
    --------
    >>> from loyaltylab.survey import margin_of_error
    >>> moe = margin_of_error(100, metric="nps", p_promoters=0.5, p_detractors=0.2)
    >>> moe["margin"].round(2).to_list()
    [15.31]
    """
    ns = [n] if isinstance(n, (int, np.integer)) else list(n)
    if any(int(v) < 1 for v in ns):
        raise ValueError(f"n: sample sizes must be at least 1, got {ns}")
    var, assumption = _metric_var(metric, p, p_promoters, p_detractors)
    z = _stats.z_value(confidence)
    margins = []
    for v in ns:
        fpc = 1.0
        if population is not None:
            if v > population:
                raise ValueError(f"n={v} exceeds population={population}")
            fpc = (population - v) / (population - 1) if population > 1 else 0.0
        margins.append(100 * z * math.sqrt(var / v * fpc))
    return pl.DataFrame({"n": [int(v) for v in ns], "margin": margins,
                         "assumption": [assumption] * len(ns)})


def sample_size(margin: float | Sequence[float], *, metric: str = "nps",
                p: float | None = None, p_promoters: float | None = None,
                p_detractors: float | None = None, confidence: float = 0.95,
                population: int | None = None, response_rate: float | None = None
                ) -> pl.DataFrame:
    """Answers needed for a chosen margin of error (and invitations, given a response rate).

    Parameters
    ----------
    margin : float or list of float
        Wanted half-width in points, e.g. 5 for NPS +- 5.
    metric, p, p_promoters, p_detractors, confidence, population
        As in :func:`margin_of_error`.
    response_rate : float, optional
        Share of invited customers who answer; adds the invitations needed.

    Returns
    -------
    pl.DataFrame
        - margin: the wanted margin in points
        - n: answers needed (rounded up)
        - invitations: n / response_rate rounded up (null without ``response_rate``)
        - assumption: the shares assumed

    Notes
    -----
    ``n0 = var * (100 z / margin)^2``; with a population of N,
    ``n = n0 / (1 + (n0 - 1) / N)``.

    Examples
    --------
    >>> from loyaltylab.survey import sample_size
    >>> sample_size(5, metric="nps")["n"].to_list()   # worst case
    [1537]
    >>> sample_size(5, metric="csat")["n"].to_list()
    [385]
    """
    ms = [margin] if isinstance(margin, (int, float)) else list(margin)
    if any(m <= 0 for m in ms):
        raise ValueError(f"margin: must be positive points, got {ms}")
    if response_rate is not None and not 0 < response_rate <= 1:
        raise ValueError(f"response_rate: expected a share in (0, 1], got {response_rate}")
    var, assumption = _metric_var(metric, p, p_promoters, p_detractors)
    z = _stats.z_value(confidence)
    ns, inv = [], []
    for m in ms:
        n0 = var * (100 * z / m) ** 2
        if population is not None:
            n0 = n0 / (1 + (n0 - 1) / population)
        n_ = int(math.ceil(n0 - 1e-9))
        ns.append(n_)
        inv.append(int(math.ceil(n_ / response_rate)) if response_rate else None)
    return pl.DataFrame({"margin": [float(m) for m in ms], "n": ns, "invitations": inv,
                         "assumption": [assumption] * len(ms)},
                        schema_overrides={"invitations": pl.Int64})


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
