"""The shifted-beta-geometric (sBG) retention model with time-invariant covariates,
one row per customer: :class:`ShiftedBetaGeoCovariates`.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy.special import betaln, digamma

from loyaltylab.clv._base import check_rfm
from loyaltylab.clv._rfm import PERIODS
from loyaltylab.clv._covariates_fitter import _CovariateFitter, _compress, _patterns

__all__ = ["ShiftedBetaGeoCovariates"]


class ShiftedBetaGeoCovariates(_CovariateFitter):
    """Shifted-beta-geometric (sBG) retention model with time-invariant covariates.

    Customer i renews each period with churn probability theta_i ~ Beta(alpha_i, beta_i),
    alpha_i = alpha exp(gamma_alpha' x_i), beta_i = beta exp(gamma_beta' x_i): the
    covariates act on both shape parameters of the churn-probability distribution, as Fader
    & Hardie (2007) make the heterogeneity parameters of the BG/NBD functions of covariates.
    A positive ``alpha`` coefficient raises the mean churn probability
    alpha_i / (alpha_i + beta_i); a positive ``beta`` coefficient lowers it.

    Fitted on one row per customer: ``periods`` (the period in which the customer churned,
    1 = did not renew after the first period; or, for customers still active, the periods
    they have renewed so far) and ``churned`` (bool or 0/1).

    Parameters
    ----------
    max_iter : int, default 1000
        Iterations allowed to L-BFGS-B.
    level : float, default 0.95
        Confidence level of the intervals.
    initial_params : dict, optional
        Starting values by the names of ``params_``; missing ones start at the defaults.

    Notes
    -----
    Churned in period t: P(T = t) = B(alpha_i + 1, beta_i + t - 1) / B(alpha_i, beta_i);
    still active after t periods: S(t) = B(alpha_i, beta_i + t) / B(alpha_i, beta_i)
    (Fader & Hardie 2007, eqs. 2-3, with individual parameters). Gradient by digamma
    functions. With no covariates the fit equals :class:`ShiftedBetaGeo` on the cohort's
    survivor counts (tested).

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. Journal of
    Interactive Marketing 21(1), 76-90.
    Fader, P. S. & Hardie, B. G. S. (2007). Incorporating time-invariant covariates into
    the Pareto/NBD and BG/NBD models. http://brucehardie.com/notes/019/

    Examples
    --------
    >>> import polars as pl
    >>> surv = [1000, 631, 468, 382, 326, 289, 262, 241]
    >>> lost = [surv[i] - surv[i + 1] for i in range(7)]
    >>> rows = pl.DataFrame({"periods": list(range(1, 8)) + [7],
    ...                      "churned": [True] * 7 + [False], "n": lost + [241]})
    >>> m = ShiftedBetaGeoCovariates().fit(rows, weights="n")
    >>> round(m.params_["alpha"], 3), round(m.params_["beta"], 3)
    (0.704, 1.182)
    """

    _base_names = ("alpha", "beta")
    _blocks = ("alpha", "beta")
    _table = "data"
    _model_name = "ShiftedBetaGeoCovariates"

    def fit(self, data: Any, *, covariates: Sequence[str] | None = None,
            alpha_covariates: Sequence[str] | None = None,
            beta_covariates: Sequence[str] | None = None, periods_col: str = PERIODS,
            churned_col: str = "churned",
            weights: str | None = None) -> ShiftedBetaGeoCovariates:
        """Fit on one row per customer (or per group of identical customers with
        ``weights``).

        Parameters
        ----------
        data : polars or pandas DataFrame
            ``periods``, ``churned`` and the covariate columns.
        covariates : sequence of str, optional
            Columns acting on both alpha and beta.
        alpha_covariates, beta_covariates : sequence of str, optional
            Columns acting on one of them only.
        periods_col, churned_col : str
            Names of the duration and churn columns.
        weights : str, optional
            Column counting the customers a row stands for.

        Returns
        -------
        self
        """
        cov = list(covariates or [])
        blocks = {"alpha": cov + [c for c in (alpha_covariates or []) if c not in cov],
                  "beta": cov + [c for c in (beta_covariates or []) if c not in cov]}
        df, t, churned, w = self._rows(data, periods_col, churned_col, weights)
        self._cols_ = (periods_col, churned_col)
        self._set_covariates(df, blocks)
        d = self._build(t, churned, self._X, w)
        self.n_customers_ = int(round(w.sum()))
        nchurn = int(round(float(np.dot(w, churned))))
        ncov = sorted(set(blocks["alpha"]) | set(blocks["beta"]))
        self._fitted_on = (f"{self.n_customers_:,} customers, {nchurn:,} churned, "
                           f"covariates {', '.join(ncov) if ncov else 'none'}")
        k = len(self._names) - 2
        self._optimise(d, np.concatenate([[0.0, 0.0], np.zeros(k)]))
        return self

    @staticmethod
    def _rows(data: Any, periods_col: str, churned_col: str,
              weights: str | None) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        from loyaltylab._util import as_polars

        df = as_polars(data, name="data")
        if churned_col in df.columns and df.schema[churned_col] == pl.Boolean:
            df = df.with_columns(pl.col(churned_col).cast(pl.Int64))
        cols = [periods_col, churned_col] + ([weights] if weights else [])
        df, a, ids = check_rfm(df, cols, table="data", integer=cols)
        t, ch = a[periods_col], a[churned_col]
        if not np.isin(ch, (0.0, 1.0)).all():
            raise ValueError(f"data.{churned_col}: expected True/False or 0/1, found "
                             f"{sorted(set(np.unique(ch).tolist()) - {0.0, 1.0})[:5]}")
        bad = (ch == 1) & (t < 1)
        if bad.any():
            raise ValueError(f"data: {int(bad.sum())} churned rows have {periods_col} < 1; a "
                             f"churned customer's {periods_col} is the period they left in "
                             f"(1 = did not renew after the first period)")
        w = a[weights] if weights else np.ones(t.size)
        return df, t, ch, w

    def _build(self, t: np.ndarray, ch: np.ndarray, X: dict[str, np.ndarray],
               w: np.ndarray) -> dict[str, Any]:
        pats, pid = _patterns(np.hstack([X[b] for b in self._blocks]))
        cols, wc = _compress({"t": t, "ch": ch, "pid": pid.astype(float)}, w, limit=0)
        d: dict[str, Any] = dict(cols)
        d["pid"] = cols["pid"].astype(np.int64)
        d["_w"] = wc
        k = 0
        for b in self._blocks:
            kb = X[b].shape[1]
            d[f"Z_{b}"] = pats[:, k:k + kb]
            k += kb
        return d

    def _pattern_ab(self, theta: np.ndarray, d: dict[str, Any]) -> tuple[np.ndarray, ...]:
        (a0, b0), (ga, gb) = self._split(theta)
        return a0 * np.exp(d["Z_alpha"] @ ga), b0 * np.exp(d["Z_beta"] @ gb)

    def _loglik_grad(self, theta: np.ndarray, d: dict[str, Any],
                     gradient: bool = True) -> tuple[np.ndarray, np.ndarray]:
        a_p, b_p = self._pattern_ab(theta, d)
        pid, t, ch = d["pid"], d["t"], d["ch"] > 0
        A, B = a_p[pid], b_p[pid]
        ll = np.where(ch, betaln(A + 1, B + t - 1), betaln(A, B + t)) - betaln(A, B)
        if not gradient:
            return ll, np.empty(0)
        ps_ab = digamma(A + B)
        g_a = np.where(ch, digamma(A + 1) - digamma(A + B + t),
                       digamma(A) - digamma(A + B + t)) - (digamma(A) - ps_ab)
        g_b = np.where(ch, digamma(B + t - 1), digamma(B + t)) - digamma(A + B + t) - (
            digamma(B) - ps_ab)
        w = d["_w"]
        npat = a_p.size
        gA = np.bincount(pid, weights=w * g_a * A, minlength=npat)
        gB = np.bincount(pid, weights=w * g_b * B, minlength=npat)
        grad = np.concatenate([[gA.sum(), gB.sum()], d["Z_alpha"].T @ gA,
                               d["Z_beta"].T @ gB])
        return ll, grad

    def customer_log_likelihood(self, data: Any, *, params: Any = None) -> np.ndarray:
        """Log-likelihood of each row (P(T = t) for churned rows, log S(t) for active ones)."""
        self._check_fitted()
        theta = self._theta_or_fitted(params)
        pc, cc = self._cols_
        df, t, ch, _ = self._rows(data, pc, cc, None)
        X = self._design(df)
        d = {"t": t, "ch": ch, "pid": np.arange(t.size), "_w": np.ones(t.size),
             "Z_alpha": X["alpha"], "Z_beta": X["beta"]}
        with np.errstate(all="ignore"):
            return self._loglik_grad(theta, d, gradient=False)[0]

    def _ab(self, data: Any) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
        from loyaltylab._util import as_polars

        self._check_fitted()
        df = as_polars(data, name="data")
        X = self._design(df)
        a, b = self._pattern_ab(self._theta, {"Z_alpha": X["alpha"], "Z_beta": X["beta"]})
        return df, a, b

    def survival_function(self, t: Any, data: Any) -> np.ndarray:
        """S(t) = B(alpha_i, beta_i + t) / B(alpha_i, beta_i) for each row's covariates
        (rows x len(t))."""
        _, a, b = self._ab(data)
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        return np.exp(betaln(a[:, None], b[:, None] + tt[None, :])
                      - betaln(a, b)[:, None])

    def predict(self, data: Any, *, periods: int = 1) -> pl.DataFrame:
        """Per customer: mean churn probability and, for active customers, the probability
        of still being active ``periods`` periods after the last observed one.

        Returns
        -------
        polars.DataFrame
            The input columns, plus:

            - ``alpha``, ``beta``: the customer's own parameters.
            - ``mean_churn``: alpha_i / (alpha_i + beta_i), a new customer's expected churn
              probability per period.
            - ``p_renew``: for active customers with n renewals, P(active after n +
              ``periods`` | active after n) = B(alpha_i, beta_i + n + periods) /
              B(alpha_i, beta_i + n); null for churned customers.
        """
        df, a, b = self._ab(data)
        pc, cc = self._cols_
        out = df.with_columns(pl.Series("alpha", a), pl.Series("beta", b),
                              pl.Series("mean_churn", a / (a + b)))
        if pc in df.columns:
            n = df.get_column(pc).cast(pl.Float64).to_numpy()
            pr = np.exp(betaln(a, b + n + periods) - betaln(a, b + n))
            if cc in df.columns:
                pr = np.where(df.get_column(cc).cast(pl.Int64).to_numpy() > 0, np.nan, pr)
            out = out.with_columns(pl.Series("p_renew", pr).fill_nan(None))
        return out
