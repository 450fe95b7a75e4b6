"""Key-driver analysis (not public API): Johnson's relative weights and :func:`drivers`,
re-exported by :mod:`loyaltylab.survey.behaviour`.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl


def relative_weights(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson's (2000) relative weights: each predictor's share of R^2.

    Returns the raw weights (summing to R^2) and R^2.

    Parameters
    ----------
    X : numpy.ndarray
        Predictors, one column each (n rows, k columns).
    y : numpy.ndarray
        Outcome, n values.

    Returns
    -------
    weights : numpy.ndarray
        Raw relative weight of each predictor (k values summing to R^2).
    r2 : float
        R^2 of the linear regression of ``y`` on ``X``.
    """
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    yz = (y - y.mean()) / y.std(ddof=1)
    n = len(y)
    Rxx = (Z.T @ Z) / (n - 1)
    rxy = (Z.T @ yz) / (n - 1)
    evals, evecs = np.linalg.eigh(Rxx)
    evals = np.clip(evals, 0, None)
    Lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T        # correlations X with orthogonal Z*
    beta_star = np.linalg.solve(Lam, rxy)                   # y on the orthogonal variables
    raw = (Lam**2) @ (beta_star**2)
    return raw, float(beta_star @ beta_star)


def drivers(frame: Any, *, target: str, predictors: Sequence[str],
            confidence: float = 0.95) -> pl.DataFrame:
    """Which items drive the target? Standardised coefficients and relative weights.

    Parameters
    ----------
    frame : pl.DataFrame or pandas.DataFrame
        One row per response with the target and predictor columns, e.g.
        :func:`loyaltylab.survey.to_wide` output, or ``link.answers_`` with ``outcome``.
        Rows with a missing value are left out.
    target : str
        What to explain: an overall score ("nps") or a behaviour ("outcome").
    predictors : list of str
        The candidate drivers.
    confidence : float
        Coverage of the coefficient intervals.

    Returns
    -------
    pl.DataFrame
        One row per predictor, strongest relative weight first:

        - item: the predictor
        - r: its correlation with the target
        - beta: standardised regression coefficient (OLS on z-scores)
        - beta_ci_low, beta_ci_high: its interval
        - p_value: t test of beta
        - relative_weight: Johnson's raw relative weight (the weights sum to R^2)
        - weight_pct: share of the explained variance in percent (sums to 100)
        - r2: R^2 of the whole model (same on every row)
        - n: rows used

    Notes
    -----
    Correlated items share credit; standardised betas then mislead (they can even flip
    sign). Johnson's relative weights transform the items to their closest orthogonal
    counterparts, regress the target on those, and split R^2 back to the items.

    References
    ----------
    Johnson, J. W. (2000), "A heuristic method for estimating the relative weight of
    predictor variables in multiple regression", Multivariate Behavioral Research 35(1).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> from loyaltylab.survey import drivers
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=500), rng.normal(size=500)
    >>> df = pl.DataFrame({"a": a, "b": b, "y": 2 * a + b + rng.normal(size=500)})
    >>> drivers(df, target="y", predictors=["a", "b"])["item"].to_list()
    ['a', 'b']
    """
    import statsmodels.api as sm
    from loyaltylab._util import as_polars
    df = as_polars(frame, name="frame")
    missing = [c for c in [target, *predictors] if c not in df.columns]
    if missing:
        raise ValueError(f"drivers: columns {missing} not found; columns are {df.columns}")
    if len(predictors) < 1:
        raise ValueError("predictors: name at least one item")
    sub = df.select([target, *predictors]).drop_nulls().cast(pl.Float64)
    n, k = sub.height, len(predictors)
    if n <= k + 2:
        raise ValueError(f"drivers: {n} complete rows for {k} predictors; need more")
    X = sub.select(predictors).to_numpy()
    y = sub.get_column(target).to_numpy()
    const = [p for p, s in zip(predictors, X.std(0)) if s == 0]
    if const or y.std() == 0:
        raise ValueError(f"drivers: no variation in {const or [target]}; drop them")
    raw, r2 = relative_weights(X, y)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    yz = (y - y.mean()) / y.std(ddof=1)
    res = sm.OLS(yz, sm.add_constant(Z)).fit()
    ci = np.asarray(res.conf_int(alpha=1 - confidence))
    r = [float(np.corrcoef(X[:, j], y)[0, 1]) for j in range(k)]
    out = pl.DataFrame({
        "item": list(predictors), "r": r, "beta": np.asarray(res.params)[1:],
        "beta_ci_low": ci[1:, 0], "beta_ci_high": ci[1:, 1],
        "p_value": np.asarray(res.pvalues)[1:], "relative_weight": raw,
        "weight_pct": 100 * raw / raw.sum() if raw.sum() > 0 else raw * np.nan,
        "r2": [r2] * k, "n": [n] * k})
    return out.sort("relative_weight", descending=True)
