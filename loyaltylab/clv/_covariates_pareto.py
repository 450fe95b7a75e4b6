"""Pareto/NBD with time-invariant covariates on the purchase and dropout rates:
:class:`ParetoNBDCovariates`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, expit, gammaln

from loyaltylab.clv._base import log1mexp
from loyaltylab.clv._covariates_fitter import _RFMCovariates, _unique_rows

__all__ = ["ParetoNBDCovariates"]


def _tail_series(p: np.ndarray, q: np.ndarray, d: np.ndarray,
                 eps: float = 1e-16, max_terms: int = 20_000) -> tuple[np.ndarray, ...]:
    """S(p, q, d) = integral_0^1 t^(p-1) (1 - d t)^(-q) dt = sum_n (q)_n d^n / (n! (p+n))
    and its derivatives, for 0 <= d < 1, by summing the series (vectorised; rows leave the
    working set as their sums converge).

    Returns (log S, (dS/dp) / S, (dS/dq) / S, (dS/dd) / S).
    """
    S0 = 1.0 / p
    Sp = -1.0 / p ** 2
    Sq = np.zeros(p.size)
    Sd = q / (p + 1.0)                # dS/dd at d = 0 (the n = 1 term); summed below if d > 0
    logscale = np.zeros(p.size)
    idx = np.flatnonzero(d > 0)
    P, Q, D = p[idx], q[idx], d[idx]
    s0, sp = S0[idx], Sp[idx]
    sq, sd, ls = np.zeros(idx.size), np.zeros(idx.size), np.zeros(idx.size)
    g = Q.copy()                      # (q)_n d^(n-1) / (n-1)!, n = 1
    H = 1.0 / Q                       # psi(q + n) - psi(q),    n = 1
    n = 1
    inv, gi, ci, tmp, ratio = (np.empty(idx.size) for _ in range(5))
    while idx.size:
        # in place: the loop is bound by passes over memory
        np.add(P, n, out=inv)
        np.reciprocal(inv, out=inv)                 # 1 / (p + n)
        np.multiply(g, inv, out=gi)
        np.multiply(gi, D, out=ci)
        ci *= 1.0 / n                               # (q)_n d^n / (n! (p + n))
        s0 += ci
        np.multiply(ci, inv, out=tmp)
        sp -= tmp
        np.multiply(ci, H, out=tmp)
        sq += tmp
        sd += gi
        np.add(Q, n, out=tmp)
        np.multiply(tmp, D, out=ratio)
        ratio *= 1.0 / n                            # g_(n+1) / g_n
        g *= ratio
        np.reciprocal(tmp, out=tmp)
        H += tmp
        if n % 4 == 0 or n > max_terms:
            rho = np.maximum(ratio, D)    # bounds every later ratio once below 1
            one = np.maximum(1.0 - rho, 1e-300)
            with np.errstate(over="ignore"):
                tail = g * inv / one * (1.0 + H + 1.0 / ((Q + n) * one))
            done = (rho < 1) & (tail <= eps * np.minimum(np.minimum(s0, sd),
                                                          np.where(sq > 0, sq, np.inf)))
            if n > max_terms:
                # d close to 1 with a large q (a heavy buyer whose alpha_i is far below
                # beta_i, far from any maximum): stop at the partial sum, a lower bound,
                # rather than summing for minutes; the optimiser moves away from there
                done[:] = True
            big = g > 1e250
            if big.any():
                for arr in (s0, sp, sq, sd, g):
                    arr[big] *= 1e-250
                ls[big] += 250 * np.log(10.0)
            nd = int(done.sum())
            # converged rows keep adding negligible terms until enough of them leave at
            # once: compacting the working arrays costs more than a few extra terms
            if nd and (nd == done.size or nd >= 0.3 * done.size):
                di = idx[done]
                S0[di], Sp[di], Sq[di], Sd[di], logscale[di] = (s0[done], sp[done], sq[done],
                                                                sd[done], ls[done])
                keep = ~done
                idx, P, Q, D, s0, sp, sq, sd, ls, g, H = (
                    v[keep] for v in (idx, P, Q, D, s0, sp, sq, sd, ls, g, H))
                inv, gi, ci, tmp, ratio = (np.empty(idx.size) for _ in range(5))
        n += 1
    return np.log(S0) + logscale, Sp / S0, Sq / S0, Sd / S0


class ParetoNBDCovariates(_RFMCovariates):
    """Pareto/NBD with time-invariant covariates on the purchase and dropout processes.

    Customer i buys at rate lambda_i ~ Gamma(r, alpha_i) while active and drops out at rate
    mu_i ~ Gamma(s, beta_i), with alpha_i = alpha exp(-gamma_purchase' x_i) and
    beta_i = beta exp(-gamma_dropout' x_i) (Fader & Hardie 2007; CLVTools' ``pnbd`` with
    static covariates, whose parametrisation and signs these are). A positive purchase
    coefficient raises the mean purchase rate r / alpha_i by the factor exp(gamma); a
    positive dropout coefficient raises the mean dropout rate s / beta_i (shorter lives).

    Parameters
    ----------
    max_iter : int, default 1000
        Iterations allowed to L-BFGS-B.
    level : float, default 0.95
        Confidence level of the intervals.
    initial_params : dict, optional
        Starting values by the names of ``params_`` (e.g. ``{"r": 1, "alpha": 2,
        "purchase:gender": 0.6}``); missing ones start at the defaults.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``s``, ``beta`` (baseline: a customer whose covariates are all
        0), then ``purchase:<covariate>`` and ``dropout:<covariate>`` coefficients.
    standard_errors_, confidence_intervals_, covariance_
        From the inverse Hessian of the negative log-likelihood; ``covariance_`` is on
        the fitting scale (log base parameters, coefficients), in the order of ``params_``.
    coefficients_ : dict
        Coefficients by process.
    covariates_ : dict
        Coefficient names by process (dummy-coded levels included).
    log_likelihood_ : float
        Maximised log-likelihood (the constant-free form of Fader & Hardie 2005, eq. 18,
        as CLVTools reports it).
    n_customers_ : int
        Customers fitted on.

    Notes
    -----
    L_i = Gamma(r+x)/Gamma(r) alpha_i^r beta_i^s [(alpha_i+T)^-(r+x) (beta_i+T)^-s
    + s (J(t_x) - J(T))], J(y) = integral_y^inf (alpha_i+u)^-(r+x) (beta_i+u)^-(s+1) du.
    With c = max(alpha_i, beta_i), J(y) = (c+y)^-(r+s+x) S(r+s+x, q, d), S(p, q, d) =
    integral_0^1 t^(p-1) (1-dt)^-q dt = sum_n (q)_n d^n / (n! (p+n)) (the Gauss
    hypergeometric function of Fader & Hardie's note, 2F1(q, p; p+1; d) / p), with
    d = |alpha_i - beta_i| / (c + y) < 1 and q = s+1 if alpha_i >= beta_i, else r+x. The
    series is summed term by term together with its derivatives in p, q and d, which gives
    the exact gradient in every parameter (scipy's ``hyp2f1`` has no parameter
    derivatives). J is evaluated once per distinct (frequency, time, covariate pattern),
    customers identical in (frequency, recency, T, covariates) are merged into weighted
    rows, so categorical covariates cost little; continuous ones make every customer
    distinct.

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2007). Incorporating time-invariant covariates into
    the Pareto/NBD and BG/NBD models. http://brucehardie.com/notes/019/
    Fader, P. S. & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and
    related expressions. http://brucehardie.com/notes/009/
    Meierer, M., Naef, J., Bachmann, P. et al. CLVTools (R package), ``pnbd`` with
    ``SetStaticCovariates``.

    Examples
    --------
    >>> import polars as pl
    >>> rfm = pl.read_csv("tests/fixtures/clvtools_apparel/apparel_2020_split40.csv")
    >>> m = ParetoNBDCovariates().fit(rfm, covariates=["gender", "channel"])
    >>> round(m.params_["purchase:gender"], 3), round(m.params_["purchase:channel"], 3)
    (1.423, 0.402)
    """

    _base_names = ("r", "alpha", "s", "beta")
    _model_name = "ParetoNBDCovariates"

    @staticmethod
    def _x0(m: float) -> np.ndarray:
        return np.log([0.5, m / 4, 0.5, m / 4])

    def _extra_build(self, d: dict[str, Any]) -> None:
        # tail rows: distinct (x, y, pattern) for y in t_x and T
        for y in ("tx", "T"):
            u, inv = _unique_rows({"x": d["x"], "y": d[y], "pid": d["pid"]})
            d[f"_tail_{y}"] = (u["x"], u["y"], u["pid"].astype(np.int64), inv)

    def _pattern_ab(self, theta: np.ndarray, d: dict[str, Any]) -> tuple[np.ndarray, ...]:
        (r, alpha0, s, beta0), (gp, gd) = self._split(theta)
        al = alpha0 * np.exp(-(d["Z_purchase"] @ gp))
        be = beta0 * np.exp(-(d["Z_dropout"] @ gd))
        return r, s, al, be

    @staticmethod
    def _log_tail(x: np.ndarray, y: np.ndarray, r: float, s: float, al: np.ndarray,
                  be: np.ndarray) -> tuple[np.ndarray, ...]:
        """log J(y) and its derivatives in (a = r+x, b = s+1, alpha_i, beta_i)."""
        a = r + x
        b = s + 1.0
        p = a + b - 1.0
        first = al >= be
        c = np.where(first, al, be)
        q = np.where(first, b, a)
        d = np.abs(al - be) / (c + y)
        lS, dSp, dSq, dSd = _tail_series(p, q, d)
        lc = np.log(c + y)
        lj = -p * lc + lS
        d_a = -lc + dSp + np.where(first, 0.0, dSq)
        d_b = -lc + dSp + np.where(first, dSq, 0.0)
        # d over alpha_i and beta_i (c and d move with the larger one)
        dd_dal = np.where(first, (be + y) / (c + y) ** 2, -1.0 / (c + y))
        dd_dbe = np.where(first, -1.0 / (c + y), (al + y) / (c + y) ** 2)
        d_al = np.where(first, -p / (c + y), 0.0) + dSd * dd_dal
        d_be = np.where(first, 0.0, -p / (c + y)) + dSd * dd_dbe
        return lj, d_a, d_b, d_al, d_be

    def _loglik_grad(self, theta: np.ndarray, d: dict[str, Any],
                     gradient: bool = True) -> tuple[np.ndarray, np.ndarray]:
        r, s, al_p, be_p = self._pattern_ab(theta, d)
        x, tt, pid = d["x"], d["T"], d["pid"]
        al, be = al_p[pid], be_p[pid]
        ux, inv = d["ux"], d["inv"]
        tails = {}
        for y in ("tx", "T"):
            ux_, uy_, up_, inv_ = d[f"_tail_{y}"]
            parts = self._log_tail(ux_, uy_, r, s, al_p[up_], be_p[up_])
            tails[y] = [v[inv_] for v in parts]
        ljx, ljT = tails["tx"][0], tails["T"][0]
        la_T, lb_T = np.log(al + tt), np.log(be + tt)
        A1 = -(r + x) * la_T - s * lb_T
        diff = np.minimum(ljT - ljx, 0.0)
        A2 = np.log(s) + ljx + log1mexp(diff)
        lse = np.logaddexp(A1, A2)
        ll = (gammaln(r + ux) - gammaln(r))[inv] + r * np.log(al) + s * np.log(be) + lse
        if not gradient:
            return ll, np.empty(0)
        w1 = np.exp(A1 - lse)
        w2 = np.exp(A2 - lse)
        rho = np.exp(diff)
        with np.errstate(all="ignore"):
            den = -np.expm1(diff)
        ok = den > 0

        def dA2(i: int) -> np.ndarray:
            v = (tails["tx"][i] - rho * tails["T"][i]) / den
            return np.where(ok, v, 0.0)

        g_r = ((digamma(r + ux) - digamma(r))[inv] + np.log(al) - w1 * la_T + w2 * dA2(1))
        g_s = np.log(be) - w1 * lb_T + w2 * (1.0 / s + dA2(2))
        g_al = r / al - w1 * (r + x) / (al + tt) + w2 * dA2(3)
        g_be = s / be - w1 * s / (be + tt) + w2 * dA2(4)
        w = d["_w"]
        ga = g_al * al          # d l / d log alpha_i
        gb = g_be * be
        npat = al_p.size
        ga_p = np.bincount(pid, weights=w * ga, minlength=npat)
        gb_p = np.bincount(pid, weights=w * gb, minlength=npat)
        grad = np.concatenate([
            [r * np.dot(w, g_r), ga_p.sum(), s * np.dot(w, g_s), gb_p.sum()],
            -(d["Z_purchase"].T @ ga_p), -(d["Z_dropout"].T @ gb_p)])
        return ll, grad

    def _individual(self, theta: np.ndarray, X: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        r, s, al, be = self._pattern_ab(theta, {"Z_purchase": X["purchase"],
                                                "Z_dropout": X["dropout"]})
        return {"alpha": al, "beta": be}

    def _predict(self, theta: np.ndarray, x: np.ndarray, tx: np.ndarray, tt: np.ndarray,
                 X: dict[str, np.ndarray], t: float) -> tuple[np.ndarray, np.ndarray]:
        d = self._build_raw(x, tx, tt, X)
        r, s, al, be = self._pattern_ab(theta, d)
        with np.errstate(all="ignore"):
            ljx = self._log_tail(x, tx, r, s, al, be)[0]
            ljT = self._log_tail(x, tt, r, s, al, be)[0]
            A1 = -(r + x) * np.log(al + tt) - s * np.log(be + tt)
            A2 = np.log(s) + ljx + log1mexp(np.minimum(ljT - ljx, 0.0))
            pa = expit(A1 - A2)
            lg = np.log((be + tt) / (be + tt + t))
            ratio = -np.expm1((s - 1) * lg) / (s - 1) if abs(s - 1) > 1e-10 else -lg
            ep = (r + x) * (be + tt) / (al + tt) * ratio * pa
        return pa, ep

    def expected_purchases(self, t: float, rfm: Any) -> np.ndarray:
        """E[X(t)] for a new customer with each row's covariates:
        r beta_i / (alpha_i (s-1)) [1 - (beta_i/(beta_i+t))^(s-1)] (CLVTools' expectation)."""
        self._check_fitted()
        X = self._design(rfm)
        r, s, al, be = self._pattern_ab(self._theta, {"Z_purchase": X["purchase"],
                                                      "Z_dropout": X["dropout"]})
        lg = np.log(be / (be + float(t)))
        ratio = -np.expm1((s - 1) * lg) / (s - 1) if abs(s - 1) > 1e-10 else -lg
        return r * be / al * ratio
