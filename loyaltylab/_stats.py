"""Small statistical helpers shared by the analyses (not public API).

Intervals here are used by metrics, funnel and survey, so each is written once.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

__all__ = ["z_value", "wilson_interval", "wilson_exprs", "two_proportion_test",
           "rate_columns", "poisson_ci"]


def z_value(confidence: float = 0.95) -> float:
    """Two-sided standard-normal quantile for ``confidence`` (1.959964 for 0.95)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes, n, *, confidence: float = 0.95):
    """Wilson score interval for a binomial proportion.

    Parameters
    ----------
    successes, n : array-like of int
        Counts; where ``n == 0`` the interval is NaN.
    confidence : float
        Coverage, 0.95 by default.

    Returns
    -------
    (low, high) : tuple of numpy arrays

    Notes
    -----
    With p = k/n and z the normal quantile::

        centre = (p + z^2/(2n)) / (1 + z^2/n)
        half   = z * sqrt(p(1-p)/n + z^2/(4n^2)) / (1 + z^2/n)

    Wilson, E. B. (1927), JASA 22, 209-212. Checked in the tests against
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.

    Examples
    --------
    >>> low, high = wilson_interval(74, 107)
    >>> round(float(low), 4), round(float(high), 4)
    (0.5987, 0.7712)
    """
    k = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
        low = np.where(m > 0, centre - half, np.nan)
        high = np.where(m > 0, centre + half, np.nan)
    return np.clip(low, 0, 1), np.clip(high, 0, 1)


def wilson_exprs(num: str | pl.Expr, den: str | pl.Expr, *,
                 confidence: float = 0.95) -> list[pl.Expr]:
    """Polars expressions ``ci_low`` and ``ci_high`` (Wilson) from count columns.

    Rows with a zero denominator get null bounds.
    """
    k = (pl.col(num) if isinstance(num, str) else num).cast(pl.Float64)
    m = (pl.col(den) if isinstance(den, str) else den).cast(pl.Float64)
    z = z_value(confidence)
    p = k / m
    denom = 1 + z**2 / m
    centre = (p + z**2 / (2 * m)) / denom
    half = z * (p * (1 - p) / m + z**2 / (4 * m**2)).sqrt() / denom
    low = pl.when(m > 0).then((centre - half).clip(0, 1)).otherwise(None)
    high = pl.when(m > 0).then((centre + half).clip(0, 1)).otherwise(None)
    return [low.alias("ci_low"), high.alias("ci_high")]


def rate_columns(num: str, den: str, *, confidence: float = 0.95) -> list[pl.Expr]:
    """``value`` = num/den (null when den is 0) plus Wilson ``ci_low``/``ci_high``."""
    m = pl.col(den).cast(pl.Float64)
    value = pl.when(m > 0).then(pl.col(num).cast(pl.Float64) / m).otherwise(None)
    return [value.alias("value"), *wilson_exprs(num, den, confidence=confidence)]


def newcombe_interval(k1, n1, k2, n2, *, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p2 (method 10 of Newcombe 1998).

    With (l_i, u_i) the Wilson interval of p_i = k_i/n_i and d = p1 - p2::

        low  = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)
        high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)

    NaN where either n is 0. Newcombe, R. G. (1998), Statistics in Medicine 17, 873-890;
    his worked example 56/70 against 48/80 gives 0.0524 to 0.3339.

    Examples
    --------
    >>> low, high = newcombe_interval(56, 70, 48, 80)
    >>> round(low, 4), round(high, 4)
    (0.0524, 0.3339)
    """
    if min(float(n1), float(n2)) <= 0:
        return float("nan"), float("nan")
    (l1, l2), (u1, u2) = wilson_interval([k1, k2], [n1, n2], confidence=confidence)
    p1, p2 = float(k1) / float(n1), float(k2) / float(n2)
    d = p1 - p2
    return (float(d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)),
            float(d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)))


def holm(p_values) -> list[float | None]:
    """Holm's (1979) step-down adjustment of a family of p-values.

    Entries that are None or NaN (tests that could not be run) are returned as they are
    and do not count towards the size of the family.

    Examples
    --------
    >>> [round(v, 3) for v in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    >>> holm([0.02, None])
    [0.02, None]
    """
    p = list(p_values)
    tested = sorted((i for i, v in enumerate(p) if v is not None and v == v),
                    key=lambda i: p[i])
    m, out, running = len(tested), list(p), 0.0
    for rank, i in enumerate(tested):
        running = max(running, min(1.0, (m - rank) * float(p[i])))
        out[i] = running
    return out


def two_proportion_test(k1, n1, k2, n2) -> tuple[float, float]:
    """Pooled two-sided z-test of p1 == p2; returns (z, p_value).

    Examples
    --------
    >>> z, p = two_proportion_test(60, 100, 45, 100)
    >>> round(z, 3), round(p, 4)
    (2.124, 0.0337)
    """
    k1, n1, k2, n2 = (float(v) for v in (k1, n1, k2, n2))
    if min(n1, n2) <= 0:
        return float("nan"), float("nan")
    pooled = (k1 + k2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return float("nan"), float("nan")
    z = (k1 / n1 - k2 / n2) / se
    return float(z), float(2 * stats.norm.sf(abs(z)))


def poisson_ci(frame: pl.DataFrame, count: str, exposure: str, *,
               confidence: float = 0.95) -> pl.DataFrame:
    """Add ``value`` = count/exposure and exact (Garwood) Poisson ``ci_low``/``ci_high``.

    Garwood (1936): low = chi2.ppf(a/2, 2k)/2, high = chi2.ppf(1-a/2, 2k+2)/2, divided by
    the exposure. Rows with zero exposure get nulls.
    """
    k = frame.get_column(count).cast(pl.Float64).fill_null(0).to_numpy()
    e = frame.get_column(exposure).cast(pl.Float64).fill_null(0).to_numpy()
    a = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(k > 0, stats.chi2.ppf(a / 2, 2 * k) / 2, 0.0) / e
        high = stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2 / e
        val = k / e
    ok = e > 0
    return frame.with_columns(
        pl.Series("value", np.where(ok, val, np.nan)).fill_nan(None),
        pl.Series("ci_low", np.where(ok, low, np.nan)).fill_nan(None),
        pl.Series("ci_high", np.where(ok, high, np.nan)).fill_nan(None),
    )
