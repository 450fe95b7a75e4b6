"""The shifted-beta-geometric model of contract renewals (:class:`ShiftedBetaGeo`)."""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy.special import betaln, hyp2f1

from loyaltylab.clv._base import BaseFitter, _arr

__all__ = ["ShiftedBetaGeo"]


class ShiftedBetaGeo(BaseFitter):
    """Shifted-beta-geometric (sBG) model of contractual retention.

    Each customer renews every period with a constant churn probability theta; theta varies
    across customers as Beta(alpha, beta). Fitted on the number of a cohort's customers still
    active at the start of each period.

    Parameters
    ----------
    max_iter : int, default 1000
        Iterations allowed to the optimiser.
    level : float, default 0.95
        Confidence level of ``confidence_intervals_``.
    initial_params : dict, optional
        Starting values ``{"alpha": ..., "beta": ...}``.

    Attributes
    ----------
    params_ : dict
        ``alpha`` and ``beta``.
    standard_errors_, confidence_intervals_, log_likelihood_, summary
        See :class:`BetaGeo`.

    Notes
    -----
    P(churn in period t) = B(alpha + 1, beta + t - 1) / B(alpha, beta); survival
    S(t) = B(alpha, beta + t) / B(alpha, beta); retention rate
    r(t) = (beta + t - 1) / (alpha + beta + t - 1), which rises with t because the customers
    with high churn probabilities leave first (heterogeneity, not growing loyalty).

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. Journal of
    Interactive Marketing 21(1), 76-90.

    Examples
    --------
    >>> m = ShiftedBetaGeo().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(m.params_["alpha"], 3), round(m.params_["beta"], 3)
    (0.704, 1.182)
    """

    _param_names = ("alpha", "beta")
    _model_name = "ShiftedBetaGeo"
    _extra_state = ("survivors_",)

    def fit(self, survivors: Sequence[float] | pl.Series | np.ndarray) -> ShiftedBetaGeo:
        """Fit on customers active at the start of periods 0, 1, ..., n (period 0 = cohort).

        Parameters
        ----------
        survivors : sequence of numbers
            Non-increasing counts; the first is the cohort size.

        Returns
        -------
        ShiftedBetaGeo
            ``self``, fitted.
        """
        s = _arr(survivors.to_numpy() if isinstance(survivors, pl.Series) else survivors)
        if s.ndim != 1 or s.size < 2:
            raise ValueError(f"survivors: expected at least two counts (cohort size, then "
                             f"customers active after period 1, ...), got {s.size}")
        if not np.all(np.isfinite(s)) or (s < 0).any():
            raise ValueError("survivors: counts must be finite and >= 0")
        drops = -np.diff(s)
        if (drops < 0).any():
            t = int(np.flatnonzero(drops < 0)[0]) + 1
            raise ValueError(f"survivors: the count rises at period {t} ({s[t - 1]:g} -> "
                             f"{s[t]:g}); a cohort can only shrink. Count one cohort of "
                             f"customers acquired at the same time")
        if s[0] <= 0:
            raise ValueError("survivors: the cohort size (first count) must be positive")
        self.survivors_ = s
        data = {"lost": drops, "t": np.arange(1, s.size, dtype=float), "alive": s[-1],
                "_w": np.ones(1)}
        self.n_customers_ = int(round(s[0]))
        self._fitted_on = f"a cohort of {s[0]:,.0f} customers over {s.size - 1} periods"
        self._optimise(data, np.log([1.0, 1.0]))
        return self

    def _loglik(self, p: np.ndarray, d: dict[str, Any]) -> np.ndarray:
        a, b = p
        t = d["t"]
        churn = betaln(a + 1, b + t - 1) - betaln(a, b)
        surv = betaln(a, b + t[-1]) - betaln(a, b)
        if d.get("_per_period"):
            return np.append(churn, surv)
        return np.array([np.dot(d["lost"], churn) + d["alive"] * surv])

    def _ll_data(self, data: Any) -> dict[str, Any]:
        s = _arr(data.to_numpy() if isinstance(data, pl.Series) else data)
        if s.ndim != 1 or s.size < 2:
            raise ValueError(f"survivors: expected at least two counts, got {s.size}")
        return {"t": np.arange(1, s.size, dtype=float), "_per_period": True}

    def survival_function(self, t: Any, *, params: np.ndarray | None = None) -> np.ndarray:
        """S(t) = B(alpha, beta + t) / B(alpha, beta): share of a cohort active after t."""
        a, b = self._p(params)
        return np.exp(betaln(a, b + _arr(t)) - betaln(a, b))

    def retention_rate(self, t: Any, *, params: np.ndarray | None = None) -> np.ndarray:
        """r(t) = (beta + t - 1) / (alpha + beta + t - 1): share of period t-1's actives
        renewing at t (t >= 1)."""
        a, b = self._p(params)
        t = _arr(t)
        return (b + t - 1) / (a + b + t - 1)

    def projection(self, periods: int = 12, *, observed: Sequence[float] | None = None,
                   cohort_size: float | None = None) -> pl.DataFrame:
        """Projected survival and retention for periods 0..``periods`` next to the data.

        Parameters
        ----------
        periods : int, default 12
            Last period projected.
        observed : sequence of numbers, optional
            Active counts to compare with, possibly longer than the fitted ones (held-out
            periods); default: the counts fitted on.
        cohort_size : float, optional
            Scale of ``expected_active`` (default: the fitted cohort size).

        Returns
        -------
        polars.DataFrame
            - ``period``: 0, 1, ..., ``periods``.
            - ``survival``: model S(t).
            - ``retention_rate``: model r(t) (null at period 0).
            - ``expected_active``: cohort size x S(t).
            - ``observed_active``: the observed counts (null beyond them).
            - ``observed_retention``: observed active(t) / active(t - 1).
            - ``in_fit``: whether the period was part of the fitted data.
        """
        self._check_fitted()
        n0 = self.survivors_[0] if cohort_size is None else float(cohort_size)
        data = self.survivors_ if observed is None else _arr(observed)
        t = np.arange(periods + 1, dtype=float)
        obs = np.full(t.size, np.nan)
        k = min(t.size, data.size)
        obs[:k] = data[:k]
        ret = self.retention_rate(t)
        ret[0] = np.nan
        obs_ret = np.full(t.size, np.nan)
        obs_ret[1:] = obs[1:] / obs[:-1]
        return pl.DataFrame({
            "period": t.astype(np.int64), "survival": self.survival_function(t),
            "retention_rate": ret, "expected_active": n0 * self.survival_function(t),
            "observed_active": obs, "observed_retention": obs_ret,
            "in_fit": t < self.survivors_.size,
        }).with_columns(pl.col("retention_rate", "observed_active", "observed_retention")
                        .fill_nan(None))

    def survivor_churn_distribution(self, periods: Sequence[int] = (0, 3, 7), *,
                                    grid: int = 200) -> pl.DataFrame:
        """Distribution of the churn probability theta among customers still active after
        each of ``periods``: Beta(alpha, beta + t).

        Shows why the retention rate of a cohort rises: customers with a high theta leave
        first, so the survivors are a more loyal mix, while nobody's own theta changes.

        Returns
        -------
        polars.DataFrame
            - ``period``: periods survived.
            - ``theta``: churn probability (grid on (0, 1)).
            - ``density``: density of theta among the survivors.
            - ``mean_churn``: mean theta of the survivors, alpha / (alpha + beta + t), which
              equals 1 minus the retention rate at period t + 1.
        """
        self._check_fitted()
        from scipy import stats as _st

        a, b = self._p(None)
        theta = (np.arange(grid) + 0.5) / grid
        frames = [pl.DataFrame({"period": np.full(grid, int(t)), "theta": theta,
                                "density": _st.beta.pdf(theta, a, b + t),
                                "mean_churn": np.full(grid, a / (a + b + t))})
                  for t in periods]
        return pl.concat(frames)

    def discounted_expected_residual_lifetime(self, *, discount_rate: float,
                                              renewals: int = 0) -> float:
        """DERL: expected discounted number of payments of a customer who is active in
        period ``renewals`` (0 = just acquired), counting the payment made now as 1 and
        each later one discounted by ``1 / (1 + discount_rate)`` per period.

        Notes
        -----
        sum_{t>=0} S(n+t)/S(n) (1+d)^-t = 2F1(1, beta + n; alpha + beta + n; 1/(1+d)),
        since S(n+t)/S(n) = (beta+n)_t / (alpha+beta+n)_t (Fader & Hardie 2010, Customer-base
        valuation in a contractual setting, Marketing Science 29(1), whose DERL starts one
        period later). Multiply by the margin per period for the residual value.
        """
        self._check_fitted()
        a, b = self._p(None)
        n = renewals
        return float(hyp2f1(1.0, b + n, a + b + n, 1.0 / (1.0 + discount_rate)))
