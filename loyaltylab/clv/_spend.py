"""The Gamma-Gamma model of spend per transaction (:class:`GammaGamma`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from scipy.special import gammaln

from loyaltylab.clv._base import BaseFitter, _arr, check_rfm
from loyaltylab.clv._rfm import FREQUENCY, MONETARY_VALUE

__all__ = ["GammaGamma"]


class GammaGamma(BaseFitter):
    """Gamma-Gamma model of spend per transaction (Fader & Hardie 2013; Colombo & Jiang 1999).

    A customer's transaction values are Gamma(p, nu) with nu ~ Gamma(q, gamma) across
    customers; fitted on each repeat customer's number of repeat purchases x and their
    mean value.

    Parameters and attributes follow :class:`BetaGeo`; ``params_`` holds ``p``, ``q``,
    ``gamma``. ``frequency_spend_correlation_`` is the Pearson correlation of frequency and
    mean spend among the fitted customers (the model assumes it is near zero).

    Parameters
    ----------
    max_iter : int, default 1000
        Iterations allowed to the optimiser.
    level : float, default 0.95
        Confidence level of ``confidence_intervals_``.
    initial_params : dict, optional
        Starting values by parameter name.
    penalizer : float, default 0
        Ridge penalty on the parameters, as in :class:`BetaGeo` (0: plain maximum
        likelihood).

    Notes
    -----
    log L = log Gamma(px+q) - log Gamma(px) - log Gamma(q) + q log gamma + (px-1) log zbar
    + px log x - (px+q) log(gamma + x zbar). Conditional expected average spend:
    E[Z | x, zbar] = (q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * zbar.

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
    http://brucehardie.com/notes/025/

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.read_csv("data/cdnow/cdnow_customers_summary_with_transactions.csv")
    >>> rep = s.filter(pl.col("x") > 0).select(frequency="x", monetary_value="zbar")
    >>> m = GammaGamma().fit(rep)
    >>> round(m.params_["p"], 2), round(m.params_["q"], 2), round(m.log_likelihood_, 2)
    (6.25, 3.74, -4055.92)
    """

    _param_names = ("p", "q", "gamma")
    _model_name = "GammaGamma"
    _extra_state = ("frequency_spend_correlation_",)

    def fit(self, rfm: Any, *, weights: str | None = None) -> GammaGamma:
        """Fit on repeat customers: columns ``frequency`` (>= 1) and ``monetary_value``
        (mean repeat spend, > 0).

        Parameters
        ----------
        rfm : polars or pandas DataFrame
            One row per repeat customer (or per group of identical ones with ``weights``).
        weights : str, optional
            Column counting the customers a row stands for (lifetimes' ``weights``).

        Returns
        -------
        GammaGamma
            ``self``, fitted.
        """
        x, m = self._spend_arrays(rfm)
        if weights is not None:
            _, a, _ = check_rfm(rfm, [weights], integer=[weights], id_col=None)
            w = a[weights]
            if (w <= 0).any():
                raise ValueError(f"rfm.{weights}: {int((w <= 0).sum())} rows have weight 0; "
                                 f"weights count customers and must be >= 1")
        else:
            w = np.ones(x.size)
        n = float(w.sum())
        self.n_customers_ = int(round(n))
        self._fitted_on = f"{self.n_customers_:,} repeat customers"
        if x.size > 2 and x.std() > 0 and m.std() > 0:
            c = np.cov(x, m, aweights=w)
            self.frequency_spend_correlation_ = float(c[0, 1] / np.sqrt(c[0, 0] * c[1, 1]))
        else:
            self.frequency_spend_correlation_ = float("nan")
        d = {"x": x, "m": m, "_w": w}
        self._optimise(d, np.log([2.0, 3.0, max(float(np.average(m, weights=w)), 1e-3)]))
        return self

    def _ll_data(self, data: Any) -> dict[str, np.ndarray]:
        x, m = self._spend_arrays(data)
        return {"x": x, "m": m}

    def _spend_arrays(self, rfm: Any) -> tuple[np.ndarray, np.ndarray]:
        df, a, ids = check_rfm(rfm, [FREQUENCY, MONETARY_VALUE], integer=[FREQUENCY],
                               nonnegative=[FREQUENCY])
        x, m = a[FREQUENCY], a[MONETARY_VALUE]
        for bad, what in ((x == 0, "have no repeat purchase (frequency 0)"),
                          (m <= 0, "have monetary_value <= 0")):
            if bad.any():
                idx = np.flatnonzero(bad)
                who = ([str(ids[i]) for i in idx[:8]] if ids is not None
                       else [f"row {i}" for i in idx[:8]])
                more = f" and {idx.size - 8} more" if idx.size > 8 else ""
                raise ValueError(
                    f"GammaGamma: {idx.size} customers {what}: {', '.join(who)}{more}. The "
                    f"spend model uses repeat purchases with positive value only; fit on "
                    f"rfm.filter((pl.col('frequency') > 0) & (pl.col('monetary_value') > 0))")
        return x, m

    def _loglik(self, par: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
        p, q, g = par
        x, m = d["x"], d["m"]
        px = p * x
        return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
                + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(g + x * m))

    def conditional_expected_average_spend(self, frequency: Any, monetary_value: Any, *,
                                           params: np.ndarray | None = None) -> np.ndarray:
        """E[Z | x, zbar]; the population mean p gamma / (q - 1) when x = 0."""
        p, q, g = self._p(params)
        x, m = np.broadcast_arrays(_arr(frequency), _arr(monetary_value))
        w = p * x / (p * x + q - 1)
        return (1 - w) * p * g / (q - 1) + w * m

    def expected_average_spend(self, *, params: np.ndarray | None = None) -> float:
        """Population mean spend per transaction, p gamma / (q - 1) (needs q > 1)."""
        p, q, g = self._p(params)
        return float(p * g / (q - 1)) if q > 1 else float("inf")

    def predict(self, rfm: Any) -> pl.DataFrame:
        """Conditional expected average spend per customer.

        Returns
        -------
        polars.DataFrame
            The input columns plus ``expected_spend`` (E[Z | x, zbar]).
        """
        self._check_fitted()
        df, a, _ = check_rfm(rfm, [FREQUENCY, MONETARY_VALUE], integer=[FREQUENCY])
        return df.with_columns(pl.Series("expected_spend", self.conditional_expected_average_spend(
            a[FREQUENCY], a[MONETARY_VALUE])))
