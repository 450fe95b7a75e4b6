"""The Fader-Hardie customer-base models, fitted by maximum likelihood on scipy."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from scipy import integrate
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from loyaltylab.clv._base import BaseFitter, _arr, check_rfm, log1mexp
# ShiftedBetaGeo, GammaGamma and BetaGeoBetaBinom live in their own modules; they are
# imported here so that _models lists every model (load_model reads its __all__).
from loyaltylab.clv._bgbb import BetaGeoBetaBinom
from loyaltylab.clv._sbg import ShiftedBetaGeo
from loyaltylab.clv._spend import GammaGamma
from loyaltylab.clv._rfm import FREQUENCY, RECENCY, T
from loyaltylab.data import schema as S

__all__ = ["ShiftedBetaGeo", "BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "GammaGamma",
           "BetaGeoBetaBinom"]


def _bgnbd_pmf(n: np.ndarray, t: np.ndarray, r: Any, alpha: Any, a: Any, b: Any) -> np.ndarray:
    """P(X(t) = n) of the BG/NBD model, vectorised over all arguments (FHL 2005, eq. 8)."""
    from scipy.stats import nbinom

    if (n < 0).any() or (n != np.round(n)).any():
        raise ValueError("n: expected whole numbers of purchases >= 0")
    q = alpha / (alpha + t)
    bab = betaln(a, b)
    first = np.exp(betaln(a, b + n) - bab) * nbinom.pmf(n, r, q)
    second = np.where(n > 0, np.exp(betaln(a + 1, b + np.maximum(n, 1) - 1) - bab)
                      * nbinom.sf(n - 1, r, q), 0.0)
    return first + second


def _pnbd_pmf(n: Any, t: Any, r: Any, alpha: Any, s: Any, beta: Any) -> np.ndarray:
    """P(X(t) = n) of the Pareto/NBD model, vectorised over all arguments (Fader & Hardie
    2006/2020, "Deriving an expression for P(X(t) = x) under the Pareto/NBD model")."""
    args = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (n, t, r, alpha, s, beta)))
    shape = args[0].shape
    n, t, r, alpha, s, beta = (v.ravel() for v in args)
    if (n < 0).any() or (n != np.round(n)).any():
        raise ValueError("n: expected whole numbers of purchases >= 0")
    if (t < 0).any():
        raise ValueError("t: expected lengths of time >= 0")
    if n.size == 0:
        return np.zeros(shape)
    big = alpha >= beta
    m = np.where(big, alpha, beta)
    bb = np.where(big, s + 1, r + n)
    c = r + s + n + 1
    rs = r + s
    with np.errstate(all="ignore"):
        lt = np.log(t)
        first = (gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha / (alpha + t))
                 + np.where(n > 0, n * (lt - np.log(alpha + t)), 0.0)
                 + s * np.log(beta / (beta + t)))
        pre = r * np.log(alpha) + s * np.log(beta) + betaln(r + n, s + 1) - betaln(r, s)
        lb1 = np.log(hyp2f1(rs, bb, c, np.abs(alpha - beta) / m)) - rs * np.log(m)

        def lterm(i: np.ndarray, k: np.ndarray) -> np.ndarray:
            """log of Gamma(r+s+i) / (Gamma(r+s) i!) t^i B2_i for the elements k."""
            return (gammaln(rs[k] + i) - gammaln(rs[k]) - gammaln(i + 1)
                    + np.where(i > 0, i * lt[k], 0.0)
                    + np.log(hyp2f1(rs[k] + i, bb[k], c[k],
                                    np.abs(alpha[k] - beta[k]) / (m[k] + t[k])))
                    - (rs[k] + i) * np.log(m[k] + t[k]))

        # B1 minus the terms i = 0..n (Fader & Hardie's form) ...
        head = np.full(n.size, -np.inf)
        for i in range(int(n.max()) + 1):
            k = np.flatnonzero(n >= i)
            head[k] = np.logaddexp(head[k], lterm(np.full(k.size, float(i)), k))
        d = np.minimum(head - lb1, 0.0)
        second = lb1 + np.log(-np.expm1(d))
        # ... or, where that difference cancels, the positive terms i > n directly
        bad = np.flatnonzero((d > np.log1p(-1e-6)) & (t > 0))
        if bad.size:
            acc = np.full(bad.size, -np.inf)
            i = n[bad] + 1
            live = np.ones(bad.size, dtype=bool)
            for _ in range(100_000):  # terms fall geometrically, at t / (max(alpha, beta) + t)
                j = np.flatnonzero(live)
                term = lterm(i[j], bad[j])
                acc[j] = np.where(np.isnan(term), np.nan, np.logaddexp(acc[j], term))
                live[j] = ~((term < acc[j] - 40) | np.isnan(term))
                if not live.any():
                    break
                i = i + 1
            second[bad] = np.where(live, np.nan, acc)
        out = np.exp(first) + np.where(t > 0, np.exp(pre + second), 0.0)
    out = np.where(t > 0, out, (n == 0).astype(float))
    for k in np.flatnonzero(~np.isfinite(out)):  # scipy's 2F1 out of range: integrate
        out[k] = _pnbd_pmf_quad(n[k], t[k], r[k], alpha[k], s[k], beta[k])
    return out.reshape(shape)


def _pnbd_pmf_quad(n: float, t: float, r: float, alpha: float, s: float,
                   beta: float) -> float:
    """P(X(t) = n) as NB(n; t) P(alive at t) + integral_0^t NB(n; u) f_death(u) du."""
    def log_f(u: Any) -> Any:
        u = np.asarray(u, dtype=float)
        with np.errstate(divide="ignore"):
            lnb = (gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha / (alpha + u))
                   + (n * np.log(u / (alpha + u)) if n > 0 else 0.0))
        return lnb + np.log(s) + s * np.log(beta) - (s + 1) * np.log(beta + u)

    grid = np.linspace(0, t, 65)[1:]
    ls = float(np.max(log_f(grid)))
    val, _ = integrate.quad(lambda u: float(np.exp(log_f(u) - ls)), 0.0, t, limit=400,
                            epsabs=0.0, epsrel=1e-10)
    first = (log_f(t) - np.log(s) + np.log(beta + t))  # NB(n; t) (beta/(beta+t))^s
    return float(np.exp(first) + np.exp(ls) * val)


# ============================================================================ sBG
# ============================================================================ RFM models
class _RFMModel(BaseFitter):
    _id_col = S.CUSTOMER_ID
    _extra_state = ("_t_max", "_max_frequency")

    def _prepare(self, frame: Any, weights: str | None) -> tuple[dict[str, np.ndarray], int]:
        cols = [FREQUENCY, RECENCY, T] + ([weights] if weights else [])
        df, a, _ = check_rfm(frame, cols, integer=[FREQUENCY] + ([weights] if weights else []),
                             order=[(RECENCY, T)])
        zero_rec = (a[FREQUENCY] == 0) & (a[RECENCY] > 0)
        if zero_rec.any():
            raise ValueError(f"rfm: {int(zero_rec.sum())} rows have frequency 0 but recency > 0 "
                             f"(first at row {int(np.flatnonzero(zero_rec)[0])}); recency of a "
                             f"customer without repeat purchases is 0")
        w = a[weights] if weights else np.ones(df.height)
        if not (a[FREQUENCY] > 0).any():
            raise ValueError("rfm: no customer has a repeat purchase (all frequency 0), so the "
                             "purchase rate cannot be estimated; use a longer calibration "
                             "period or check that repeat orders were not filtered out")
        small = pl.DataFrame({"x": a[FREQUENCY], "tx": a[RECENCY], "T": a[T], "w": w})
        if small.height > 1000:  # compress identical customers into weighted rows
            small = small.group_by("x", "tx", "T").agg(pl.col("w").sum())
        d = {k: small.get_column(k).to_numpy().astype(float) for k in ("x", "tx", "T")}
        d["_w"] = small.get_column("w").to_numpy().astype(float)
        ux, inv = np.unique(d["x"], return_inverse=True)
        d["ux"], d["inv"] = ux, inv
        return d, int(round(w.sum()))

    def fit(self, rfm: Any, *, weights: str | None = None) -> _RFMModel:
        """Fit on a frame with ``frequency``, ``recency`` and ``T`` (see ``rfm_summary``).

        Parameters
        ----------
        rfm : polars or pandas DataFrame
            One row per customer (or per group of identical customers with ``weights``).
        weights : str, optional
            Column counting the customers a row stands for.

        Returns
        -------
        self
        """
        d, n = self._prepare(rfm, weights)
        self.n_customers_ = n
        reps = int(round(float(np.dot(d["_w"], d["x"] > 0))))
        self._fitted_on = f"{n:,} customers, {reps:,} with repeat purchases"
        self._t_max = float(d["T"].max())
        self._max_frequency = int(d["x"].max())
        self._optimise(d, self._x0(d))
        return self

    @staticmethod
    def _x0(d: dict[str, np.ndarray]) -> np.ndarray:
        return np.log([0.5, max(float(np.average(d["T"], weights=d["_w"])) / 4, 0.1),
                       0.7, 2.5])

    def _cols(self, frequency: Any, recency: Any, T_: Any) -> tuple[np.ndarray, ...]:
        x, tx, tt = np.broadcast_arrays(_arr(frequency), _arr(recency), _arr(T_))
        return x, tx, tt

    def _ll_data(self, data: Any) -> dict[str, np.ndarray]:
        _, a, _ = check_rfm(data, [FREQUENCY, RECENCY, T], integer=[FREQUENCY],
                            order=[(RECENCY, T)])
        d = {"x": a[FREQUENCY], "tx": a[RECENCY], "T": a[T]}
        ux, inv = np.unique(d["x"], return_inverse=True)
        d["ux"], d["inv"] = ux, inv.ravel()
        return d

    def predict(self, rfm: Any, *, t: float) -> pl.DataFrame:
        """P(alive) and expected purchases in the next ``t`` time units, per customer.

        Returns
        -------
        polars.DataFrame
            The input columns, plus:

            - ``p_alive``: probability the customer is still active at T.
            - ``expected_purchases``: expected purchases in (T, T + t], given the history.
        """
        self._check_fitted()
        df, a, _ = check_rfm(rfm, [FREQUENCY, RECENCY, T], integer=[FREQUENCY],
                             order=[(RECENCY, T)])
        return df.with_columns(
            pl.Series("p_alive", self.probability_alive(a[FREQUENCY], a[RECENCY], a[T])),
            pl.Series("expected_purchases", self.conditional_expected_purchases(
                t, a[FREQUENCY], a[RECENCY], a[T])))


class BetaGeo(_RFMModel):
    """BG/NBD model of repeat buying (Fader, Hardie & Lee 2005).

    While active a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha);
    after each purchase they become inactive with probability p ~ Beta(a, b).

    Parameters
    ----------
    max_iter : int, default 1000
        Iterations allowed to the optimiser (L-BFGS-B on log-parameters).
    level : float, default 0.95
        Confidence level of ``confidence_intervals_``.
    initial_params : dict, optional
        Starting values by name.
    penalizer : float, default 0
        Ridge penalty on the parameters, lifetimes' ``penalizer_coef``: the fit minimises
        the mean negative log-likelihood plus ``penalizer`` x the sum of the squared
        parameters. 0 (the default) is plain maximum likelihood; a small value (0.001 to
        0.1) keeps parameters finite on small or degenerate data, at the price of bias.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``a``, ``b``.
    standard_errors_ : dict
        Delta-method standard errors from the inverse numerical Hessian of the negative
        log-likelihood on the log-parameter scale.
    covariance_log_ : numpy.ndarray
        Covariance of the log-parameters.
    confidence_intervals_ : polars.DataFrame
        ``parameter``, ``ci_low``, ``ci_high`` (log-scale Wald, back-transformed).
    log_likelihood_ : float
        Maximised log-likelihood (the constant-free form of the paper).
    n_customers_ : int
        Customers fitted on.

    Notes
    -----
    L(x, t_x, T) = B(a, b+x)/B(a, b) Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x)),
    summed in log space (``logaddexp``). Identical customers are compressed into weighted
    rows before fitting. The conditional expectation uses Euler's transformation of the
    Gauss hypergeometric function so that large frequencies do not overflow.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy
    way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.

    Examples
    --------
    >>> import polars as pl
    >>> rfm = pl.read_csv("data/cdnow/cdnow_customers_summary.csv")
    >>> m = BetaGeo().fit(rfm)
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> round(float(m.conditional_expected_purchases(39, 2, 30.43, 38.86)), 3)
    1.226
    """

    _param_names = ("r", "alpha", "a", "b")
    _model_name = "BetaGeo"

    def _loglik(self, p: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
        r, alpha, a, b = p
        ux, inv = d["ux"], d["inv"]
        x, tx, tt = d["x"], d["tx"], d["T"]
        bab = betaln(a, b)
        g = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha))[inv]
        b1 = (betaln(a, b + ux) - bab)[inv]
        b2 = np.where(ux > 0, betaln(a + 1, b + np.maximum(ux, 1) - 1) - bab, -np.inf)[inv]
        rx = r + x
        a2 = b1 - rx * np.log(alpha + tt)
        a3 = b2 - rx * np.log(alpha + tx)
        return g + np.logaddexp(a2, a3)

    def _score(self, p: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
        """Gradient of each row's log-likelihood with respect to the log-parameters."""
        r, alpha, a, b = p
        ux, inv = d["ux"], d["inv"]
        x, tx, tt = d["x"], d["tx"], d["T"]
        bab = betaln(a, b)
        rx = r + x
        la_t, la_x = np.log(alpha + tt), np.log(alpha + tx)
        a2 = (betaln(a, b + ux) - bab)[inv] - rx * la_t
        a3 = np.where(ux > 0, betaln(a + 1, b + np.maximum(ux, 1) - 1) - bab,
                      -np.inf)[inv] - rx * la_x
        w3 = expit(a3 - a2)
        w2 = 1.0 - w3
        ps_abx = digamma(a + b + ux)
        d_r = ((digamma(r + ux) - digamma(r))[inv] + np.log(alpha)
               - w2 * la_t - np.where(x > 0, w3 * la_x, 0.0))
        d_alpha = r / alpha - w2 * rx / (alpha + tt) - w3 * rx / (alpha + tx)
        d_a = (w2 * (digamma(a) - ps_abx)[inv] + w3 * (digamma(a + 1) - ps_abx)[inv]
               - (digamma(a) - digamma(a + b)))
        d_b = (w2 * (digamma(b + ux) - ps_abx)[inv]
               + w3 * np.where(ux > 0, digamma(b + np.maximum(ux, 1) - 1) - ps_abx, 0.0)[inv]
               - (digamma(b) - digamma(a + b)))
        return np.vstack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])

    def probability_alive(self, frequency: Any, recency: Any, T_: Any, *,
                          params: np.ndarray | None = None) -> np.ndarray:
        """P(still active at T | x, t_x, T); 1 for customers without repeat purchases."""
        r, alpha, a, b = self._p(params)
        x, tx, tt = self._cols(frequency, recency, T_)
        with np.errstate(divide="ignore", invalid="ignore"):
            lt = (np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                  + (r + x) * (np.log(alpha + tt) - np.log(alpha + tx)))
        return np.where(x > 0, expit(-lt), 1.0)

    def expected_purchases(self, t: Any, *, params: np.ndarray | None = None) -> np.ndarray:
        """E[X(t)]: expected repeat purchases in the first ``t`` units after a first purchase."""
        r, alpha, a, b = self._p(params)
        t = _arr(t)
        z = t / (alpha + t)
        f = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b - 1, z)
        return (a + b - 1) / (a - 1) * (1 - f)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any, T_: Any,
                                       *, params: np.ndarray | None = None) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] given the history."""
        r, alpha, a, b = self._p(params)
        x, tx, tt = self._cols(frequency, recency, T_)
        t = _arr(t)
        z = t / (alpha + tt + t)
        # Euler: (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z)
        f = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        num = (a + b + x - 1) / (a - 1) * (1 - f)
        return num * self.probability_alive(x, tx, tt, params=params)

    def _curve(self, ts: np.ndarray, x: np.ndarray, tx: np.ndarray, tt: np.ndarray,
               params: np.ndarray) -> np.ndarray:
        """Conditional expected purchases at each horizon in ``ts`` (shape len(ts) x n)."""
        r, alpha, a, b = params
        z = ts[:, None] / (alpha + tt[None, :] + ts[:, None])
        f = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        return ((a + b + x - 1) / (a - 1) * (1 - f)
                * self.probability_alive(x, tx, tt, params=params)[None, :])

    def probability_of_purchases(self, n: Any, t: Any, *, params: Any = None) -> np.ndarray:
        """P(X(t) = n): probability that a new customer makes exactly ``n`` repeat
        purchases in the first ``t`` time units (Fader, Hardie & Lee 2005, eq. 8).

        Notes
        -----
        P(X(t)=n) = B(a, b+n)/B(a, b) NB(n; r, alpha, t) + [n > 0] B(a+1, b+n-1)/B(a, b)
        [1 - sum_{j<n} NB(j; r, alpha, t)], with NB(j; r, alpha, t) = Gamma(r+j) /
        (Gamma(r) j!) (alpha/(alpha+t))^r (t/(alpha+t))^j the negative binomial.

        Examples
        --------
        >>> cdnow = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL (2005)
        >>> f"{float(BetaGeo().probability_of_purchases(10, 2, params=cdnow)):.5e}"
        '1.07869e-07'
        """
        r, alpha, a, b = self._p(params)
        return _bgnbd_pmf(_arr(n), _arr(t), r, alpha, a, b)

    def conditional_probability_of_purchases(self, n: Any, t: Any, frequency: Any,
                                             recency: Any, T_: Any, *,
                                             params: Any = None) -> np.ndarray:
        """P(Y(t) = n | x, t_x, T): probability of exactly ``n`` purchases in (T, T + t]
        given the history.

        Notes
        -----
        A customer still active at T buys on as a new BG/NBD customer whose parameters are
        updated by the history: lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x);
        one who is inactive buys nothing. So P(Y(t)=n | .) = P(alive) P(X(t)=n; r+x,
        alpha+T, a, b+x) + (1 - P(alive)) [n = 0]. Its mean is
        :meth:`conditional_expected_purchases` (tested).
        """
        r, alpha, a, b = p = self._p(params)
        n, t, x, tx, tt = np.broadcast_arrays(_arr(n), _arr(t), *self._cols(
            frequency, recency, T_))
        pa = self.probability_alive(x, tx, tt, params=p)
        new = _bgnbd_pmf(n, t, r + x, alpha + tt, a, b + x)
        return pa * new + (1 - pa) * (n == 0)


class ModifiedBetaGeo(_RFMModel):
    """MBG/NBD model of repeat buying (Batislam, Denizel & Filiztekin 2007).

    As :class:`BetaGeo`, but a customer may also drop out right after the first purchase
    (at time 0), so customers without repeat purchases are not certainly active; lifetimes'
    ``ModifiedBetaGeoFitter`` and BTYDplus' ``mbgnbd``.

    Parameters and attributes are those of :class:`BetaGeo`; ``params_`` holds ``r``,
    ``alpha``, ``a``, ``b``.

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
    L(x, t_x, T) = Gamma(r+x) alpha^r / Gamma(r) B(a, b+x+1)/B(a, b)
    [(alpha+T)^-(r+x) + a/(b+x) (alpha+t_x)^-(r+x)];
    P(alive | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x));
    E[X(t)] = b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))];
    E[Y(t) | x, t_x, T] = (a+b+x)/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-r, a-1; a+b+x; z)]
    P(alive), z = t/(alpha+T+t) (Euler's transformation of lifetimes' expression).

    References
    ----------
    Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and
    comparison of models for customer base analysis. International Journal of Research in
    Marketing 24(3), 201-209.

    Examples
    --------
    >>> import polars as pl
    >>> rfm = pl.read_csv("data/cdnow/cdnow_customers_summary.csv")
    >>> m = ModifiedBetaGeo().fit(rfm)
    >>> {k: round(v, 3) for k, v in m.params_.items()}  # BTYDplus: .525 6.183 .891 1.614
    {'r': 0.525, 'alpha': 6.183, 'a': 0.891, 'b': 1.614}
    """

    _param_names = ("r", "alpha", "a", "b")
    _model_name = "ModifiedBetaGeo"

    def _loglik(self, p: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
        r, alpha, a, b = p
        ux, inv = d["ux"], d["inv"]
        x, tx, tt = d["x"], d["tx"], d["T"]
        g = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
             + betaln(a, b + ux + 1) - betaln(a, b))[inv]
        rx = r + x
        a1 = -rx * np.log(alpha + tt)
        a2 = (np.log(a) - np.log(b + ux))[inv] - rx * np.log(alpha + tx)
        return g + np.logaddexp(a1, a2)

    def probability_alive(self, frequency: Any, recency: Any, T_: Any, *,
                          params: Any = None) -> np.ndarray:
        """P(still active at T | x, t_x, T), below 1 also without repeat purchases."""
        r, alpha, a, b = self._p(params)
        x, tx, tt = self._cols(frequency, recency, T_)
        lt = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + tt) - np.log(alpha + tx))
        return expit(-lt)

    def expected_purchases(self, t: Any, *, params: Any = None) -> np.ndarray:
        """E[X(t)]: expected repeat purchases in the first ``t`` units after a first purchase."""
        r, alpha, a, b = self._p(params)
        t = _arr(t)
        hyp = hyp2f1(r, b + 1, a + b, t / (alpha + t))
        return b / (a - 1) * (1 - hyp * np.exp(r * np.log(alpha / (alpha + t))))

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any, T_: Any,
                                       *, params: Any = None) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] given the history."""
        p = self._p(params)
        x, tx, tt = self._cols(frequency, recency, T_)
        return self._curve(np.atleast_1d(_arr(t)).ravel(), x.ravel(), tx.ravel(), tt.ravel(),
                           p).reshape(np.broadcast(_arr(t), x).shape)

    def probability_of_purchases(self, n: Any, t: Any, *, params: Any = None) -> np.ndarray:
        """P(X(t) = n): probability that a new customer makes exactly ``n`` repeat
        purchases in the first ``t`` time units.

        Notes
        -----
        Either the customer survived the n + 1 dropout chances (at time 0 and after each
        purchase) and bought exactly n times, or dropped out at the n-th chance after at
        least n purchase opportunities: B(a, b+n+1)/B(a, b) NB(n; r, alpha, t) +
        B(a+1, b+n)/B(a, b) P(NB >= n) (lifetimes' ``probability_of_n_purchases_up_to_time``).
        """
        from scipy.stats import nbinom

        r, alpha, a, b = self._p(params)
        n, t = np.broadcast_arrays(_arr(n), _arr(t))
        if (n < 0).any() or (n != np.round(n)).any():
            raise ValueError("n: expected whole numbers of purchases >= 0")
        q = alpha / (alpha + t)
        bab = betaln(a, b)
        return (np.exp(betaln(a, b + n + 1) - bab) * nbinom.pmf(n, r, q)
                + np.exp(betaln(a + 1, b + n) - bab) * nbinom.sf(n - 1, r, q))

    def _curve(self, ts: np.ndarray, x: np.ndarray, tx: np.ndarray, tt: np.ndarray,
               params: np.ndarray) -> np.ndarray:
        r, alpha, a, b = params
        z = ts[:, None] / (alpha + tt[None, :] + ts[:, None])
        f = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - r, a - 1, a + b + x, z)
        return ((a + b + x) / (a - 1) * (1 - f)
                * self.probability_alive(x, tx, tt, params=params)[None, :])


class ParetoNBD(_RFMModel):
    """Pareto/NBD model of repeat buying (Schmittlein, Morrison & Colombo 1987).

    While active a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha);
    the unobserved lifetime is exponential with rate mu ~ Gamma(s, beta).

    Parameters and attributes are those of :class:`BetaGeo`; ``params_`` holds ``r``,
    ``alpha``, ``s``, ``beta``.

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
    The likelihood follows Fader & Hardie (2005), "A note on deriving the Pareto/NBD model
    and related expressions": the term A0 is written with the Gauss hypergeometric function
    whose argument is (alpha - beta)/(alpha + t) when alpha >= beta and
    (beta - alpha)/(beta + t) otherwise, so it always lies in [0, 1). It is evaluated as
    J(t_x) - J(T) with J the tail integral of (alpha+y)^-(r+x) (beta+y)^-(s+1), entirely in
    log space: log J = -(r+s+x) log(alpha+t) + log 2F1(...), and
    log(J(t_x) - J(T)) = log J(t_x) + log1mexp(log J(T) - log J(t_x)). Rows where scipy's
    2F1 is not finite fall back to adaptive quadrature of the integral.

    References
    ----------
    Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who
    are they and what will they do next? Management Science 33(1), 1-24.
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). Marketing Science 24(2) (CDNOW fit).

    Examples
    --------
    >>> import polars as pl
    >>> rfm = pl.read_csv("data/cdnow/cdnow_customers_summary.csv")
    >>> m = ParetoNBD().fit(rfm)
    >>> round(m.params_["r"], 2), round(m.params_["s"], 2), round(m.log_likelihood_, 1)
    (0.55, 0.61, -9595.0)
    """

    _param_names = ("r", "alpha", "s", "beta")
    _model_name = "ParetoNBD"

    @staticmethod
    def _x0(d: dict[str, np.ndarray]) -> np.ndarray:
        m = max(float(np.average(d["T"], weights=d["_w"])), 0.1)
        return np.log([0.5, m / 4, 0.5, m / 4])

    @staticmethod
    def _log_tail(y: np.ndarray, x: np.ndarray, r: float, alpha: float, s: float,
                  beta: float) -> np.ndarray:
        """log of (r+s+x) * integral_y^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du."""
        k = r + s + x
        with np.errstate(all="ignore"):
            if alpha >= beta:
                h = hyp2f1(k, s + 1, k + 1, (alpha - beta) / (alpha + y))
                out = -k * np.log(alpha + y) + np.log(h)
            else:
                h = hyp2f1(k, r + x, k + 1, (beta - alpha) / (beta + y))
                out = -k * np.log(beta + y) + np.log(h)
        bad = ~np.isfinite(out)
        if bad.any():
            out = out.copy()
            for i in np.flatnonzero(bad):
                xi, yi = float(x[i]), float(y[i])
                # integrand scaled by its value at y so the quadrature stays in range
                ls = -(r + xi) * np.log(alpha + yi) - (s + 1) * np.log(beta + yi)

                def f(u: float) -> float:
                    return float(np.exp(-(r + xi) * np.log(alpha + u) - (s + 1)
                                        * np.log(beta + u) - ls))

                val, _ = integrate.quad(f, yi, np.inf, limit=200)
                out[i] = np.log(k[i] if np.ndim(k) else k) + ls + np.log(val)
        return out

    def _parts(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray,
               tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log of the 'alive at T' term, log of the 's/(r+s+x) A0' term), without the
        Gamma(r+x) alpha^r beta^s / Gamma(r) factor."""
        r, alpha, s, beta = p
        term1 = -(r + x) * np.log(alpha + tt) - s * np.log(beta + tt)
        lj_tx = self._log_tail(tx, x, r, alpha, s, beta)
        lj_t = self._log_tail(tt, x, r, alpha, s, beta)
        with np.errstate(all="ignore"):
            diff = np.minimum(lj_t - lj_tx, 0.0)
            term2 = np.log(s) - np.log(r + s + x) + lj_tx + log1mexp(diff)
        return term1, term2

    def _prepare(self, frame: Any, weights: str | None) -> tuple[dict[str, np.ndarray], int]:
        d, n = super()._prepare(frame, weights)
        # the hypergeometric tail depends on (x, y) only: evaluate it once per distinct pair
        for y in ("tx", "T"):
            pairs = np.column_stack([d["x"], d[y]])
            if pairs.shape[0] > 5000:
                u, inv = np.unique(pairs, axis=0, return_inverse=True)
                if u.shape[0] < 0.7 * pairs.shape[0]:
                    d[f"_tail_{y}"] = (u[:, 0], u[:, 1], inv.ravel())
        return d, n

    def _loglik(self, p: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
        r, alpha, s, beta = p
        ux, inv = d["ux"], d["inv"]
        g = (gammaln(r + ux) - gammaln(r))[inv] + r * np.log(alpha) + s * np.log(beta)
        x, tx, tt = d["x"], d["tx"], d["T"]
        lj = {}
        for y, vals in (("tx", tx), ("T", tt)):
            key = f"_tail_{y}"
            if key in d:
                ux_, uy_, inv_ = d[key]
                lj[y] = self._log_tail(uy_, ux_, r, alpha, s, beta)[inv_]
            else:
                lj[y] = self._log_tail(vals, x, r, alpha, s, beta)
        term1 = -(r + x) * np.log(alpha + tt) - s * np.log(beta + tt)
        with np.errstate(all="ignore"):
            diff = np.minimum(lj["T"] - lj["tx"], 0.0)
            term2 = np.log(s) - np.log(r + s + x) + lj["tx"] + log1mexp(diff)
        return g + np.logaddexp(term1, term2)

    def probability_alive(self, frequency: Any, recency: Any, T_: Any, *,
                          params: np.ndarray | None = None) -> np.ndarray:
        """P(still active at T | x, t_x, T)."""
        p = self._p(params)
        x, tx, tt = self._cols(frequency, recency, T_)
        term1, term2 = self._parts(p, x, tx, tt)
        return expit(term1 - term2)

    def expected_purchases(self, t: Any, *, params: np.ndarray | None = None) -> np.ndarray:
        """E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]."""
        r, alpha, s, beta = self._p(params)
        t = _arr(t)
        lg = np.log(beta / (beta + t))
        ratio = -np.expm1((s - 1) * lg) / (s - 1) if abs(s - 1) > 1e-10 else -lg
        return r * beta / alpha * ratio

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any, T_: Any,
                                       *, params: np.ndarray | None = None) -> np.ndarray:
        """E[Y(t) | x, t_x, T] = (r+x)(beta+T)/((alpha+T)(s-1))
        [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)."""
        p = self._p(params)
        r, alpha, s, beta = p
        x, tx, tt = self._cols(frequency, recency, T_)
        t = _arr(t)
        lg = np.log((beta + tt) / (beta + tt + t))
        ratio = -np.expm1((s - 1) * lg) / (s - 1) if abs(s - 1) > 1e-10 else -lg
        return ((r + x) * (beta + tt) / (alpha + tt) * ratio
                * self.probability_alive(x, tx, tt, params=p))

    def _curve(self, ts: np.ndarray, x: np.ndarray, tx: np.ndarray, tt: np.ndarray,
               params: np.ndarray) -> np.ndarray:
        """Conditional expected purchases at each horizon in ``ts`` (shape len(ts) x n)."""
        r, alpha, s, beta = params
        lg = np.log((beta + tt[None, :]) / (beta + tt[None, :] + ts[:, None]))
        ratio = -np.expm1((s - 1) * lg) / (s - 1) if abs(s - 1) > 1e-10 else -lg
        return ((r + x) * (beta + tt) / (alpha + tt))[None, :] * ratio * self.probability_alive(
            x, tx, tt, params=params)[None, :]

    def probability_of_purchases(self, n: Any, t: Any, *, params: Any = None) -> np.ndarray:
        """P(X(t) = n): probability that a new customer makes exactly ``n`` repeat
        purchases in the first ``t`` time units (R BTYD's ``pnbd.pmf``).

        Notes
        -----
        Fader & Hardie's expression: P(X(t)=n) = NB(n; r, alpha, t) (beta/(beta+t))^s
        + alpha^r beta^s B(r+n, s+1)/B(r, s) [B1 - sum_{i=0..n} Gamma(r+s+i)/(Gamma(r+s) i!)
        t^i B2_i], with B1 = 2F1(r+s, s+1; r+s+n+1; (alpha-beta)/alpha) / alpha^(r+s) and
        B2_i = 2F1(r+s+i, s+1; r+s+n+1; (alpha-beta)/(alpha+t)) / (alpha+t)^(r+s+i) when
        alpha >= beta (alpha and beta, s+1 and r+n swap places otherwise). The bracket is the
        expectation of the death-before-t term and equals the sum of the same terms over
        i > n; where B1 and the finite sum agree to six digits that positive series is
        summed instead of the difference, and where scipy's 2F1 is out of range the
        integral NB(n; r, alpha, t) (beta/(beta+t))^s + int_0^t NB(n; r, alpha, u) s beta^s
        (beta+u)^-(s+1) du is taken by quadrature.

        References
        ----------
        Fader, P. S. & Hardie, B. G. S. (2006, rev. 2020). Deriving an expression for
        P(X(t) = x) under the Pareto/NBD model. http://brucehardie.com/notes/012/

        Examples
        --------
        >>> cdnow = {"r": 0.55, "alpha": 10.56, "s": 0.61, "beta": 11.64}  # BTYD's example
        >>> f"{float(ParetoNBD().probability_of_purchases(0, 39, params=cdnow)):.4f}"
        '0.5959'
        """
        r, alpha, s, beta = self._p(params)
        return _pnbd_pmf(_arr(n), _arr(t), r, alpha, s, beta)

    def conditional_probability_of_purchases(self, n: Any, t: Any, frequency: Any,
                                             recency: Any, T_: Any, *,
                                             params: Any = None) -> np.ndarray:
        """P(Y(t) = n | x, t_x, T): probability of exactly ``n`` purchases in (T, T + t]
        given the history (lifetimes' ``conditional_probability_of_n_purchases_up_to_time``).

        Notes
        -----
        Given the history and that the customer is still active at T, the purchase and
        dropout rates are independent, lambda ~ Gamma(r + x, alpha + T) and
        mu ~ Gamma(s, beta + T), and the exponential lifetime has no memory, so the customer
        buys on as a new Pareto/NBD customer with those parameters; one who is inactive buys
        nothing: P(Y(t)=n | .) = P(alive) P(X(t)=n; r+x, alpha+T, s, beta+T) + (1 -
        P(alive)) [n = 0] (Fader & Hardie's conditional PMF note, brucehardie.com/notes/028,
        in this form). Its mean is :meth:`conditional_expected_purchases` (tested).
        """
        r, alpha, s, beta = p = self._p(params)
        n, t, x, tx, tt = np.broadcast_arrays(_arr(n), _arr(t), *self._cols(
            frequency, recency, T_))
        pa = self.probability_alive(x.ravel(), tx.ravel(), tt.ravel(),
                                    params=p).reshape(x.shape)
        new = _pnbd_pmf(n, t, r + x, alpha + tt, s, beta + tt)
        return pa * new + (1 - pa) * (n == 0)


# ============================================================================ Gamma-Gamma
# ============================================================================ BG/BB
