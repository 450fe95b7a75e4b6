"""BG/NBD with time-invariant covariates on the purchase rate and the dropout
probability's distribution: :class:`BetaGeoCovariates`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln

from loyaltylab.clv._covariates_fitter import _RFMCovariates, _unique_rows

__all__ = ["BetaGeoCovariates"]


class BetaGeoCovariates(_RFMCovariates):
    """BG/NBD with time-invariant covariates (CLVTools' ``bgnbd`` with static covariates).

    lambda_i ~ Gamma(r, alpha_i), alpha_i = alpha exp(-gamma_purchase' x_i); the dropout
    probability p_i ~ Beta(a_i, b_i) with a_i = a exp(gamma_dropout' x_i) and
    b_i = b exp(gamma_dropout' x_i): as in CLVTools, one dropout coefficient scales both
    a and b, so a covariate changes how concentrated the dropout probabilities are around
    the same mean a / (a + b), not the mean itself (Fader & Hardie's note lets a and b
    have their own coefficients; CLVTools, the reference, ties them).

    Parameters and attributes are those of :class:`ParetoNBDCovariates`; ``params_``
    holds ``r``, ``alpha``, ``a``, ``b`` and the coefficients.

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
    L_i = B(a_i, b_i+x)/B(a_i, b_i) Gamma(r+x) alpha_i^r / (Gamma(r) (alpha_i+T)^(r+x))
    + [x > 0] B(a_i+1, b_i+x-1)/B(a_i, b_i) Gamma(r+x) alpha_i^r / (Gamma(r)
    (alpha_i+t_x)^(r+x)) (Fader, Hardie & Lee 2005, with individual parameters), summed in
    log space; the gradient is analytic (digamma functions), chained through the
    covariates.

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2007). Incorporating time-invariant covariates into
    the Pareto/NBD and BG/NBD models. http://brucehardie.com/notes/019/
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). Marketing Science 24(2), 275-284.
    """

    _base_names = ("r", "alpha", "a", "b")
    _model_name = "BetaGeoCovariates"

    @staticmethod
    def _x0(m: float) -> np.ndarray:
        return np.log([0.5, max(m / 4, 0.1), 0.7, 2.5])

    def _extra_build(self, d: dict[str, Any]) -> None:
        u, inv = _unique_rows({"x": d["x"], "pid": d["pid"]})
        d["_xp"] = (u["x"], u["pid"].astype(np.int64), inv)

    def _pattern_ab(self, theta: np.ndarray, d: dict[str, Any]) -> tuple[Any, ...]:
        (r, alpha0, a0, b0), (gp, gd) = self._split(theta)
        al = alpha0 * np.exp(-(d["Z_purchase"] @ gp))
        k = np.exp(d["Z_dropout"] @ gd)
        return r, al, a0 * k, b0 * k

    def _loglik_grad(self, theta: np.ndarray, d: dict[str, Any],
                     gradient: bool = True) -> tuple[np.ndarray, np.ndarray]:
        r, al_p, a_p, b_p = self._pattern_ab(theta, d)
        x, tx, tt, pid = d["x"], d["tx"], d["T"], d["pid"]
        ux, inv = d["ux"], d["inv"]
        uxp, upp, invp = d["_xp"]
        al = al_p[pid]
        A, B = a_p[upp], b_p[upp]
        bab = betaln(A, B)
        b1 = (betaln(A, B + uxp) - bab)[invp]
        b2 = np.where(uxp > 0, betaln(A + 1, B + np.maximum(uxp, 1) - 1) - bab, -np.inf)[invp]
        rx = r + x
        la_t, la_x = np.log(al + tt), np.log(al + tx)
        a2 = b1 - rx * la_t
        a3 = b2 - rx * la_x
        lse = np.logaddexp(a2, a3)
        ll = (gammaln(r + ux) - gammaln(r))[inv] + r * np.log(al) + lse
        if not gradient:
            return ll, np.empty(0)
        w3 = expit(a3 - a2)
        w2 = 1.0 - w3
        ps_abx = digamma(A + B + uxp)
        ps_ab = digamma(A + B)
        g_r = ((digamma(r + ux) - digamma(r))[inv] + np.log(al) - w2 * la_t
               - np.where(x > 0, w3 * la_x, 0.0))
        g_al = r / al - w2 * rx / (al + tt) - w3 * rx / (al + tx)
        g_a = (w2 * (digamma(A) - ps_abx)[invp] + w3 * (digamma(A + 1) - ps_abx)[invp]
               - (digamma(A) - ps_ab)[invp])
        g_b = (w2 * (digamma(B + uxp) - ps_abx)[invp]
               + w3 * np.where(uxp > 0, digamma(B + np.maximum(uxp, 1) - 1) - ps_abx,
                               0.0)[invp]
               - (digamma(B) - ps_ab)[invp])
        a_i, b_i = a_p[pid], b_p[pid]
        w = d["_w"]
        npat = al_p.size
        ga_p = np.bincount(pid, weights=w * g_al * al, minlength=npat)
        gA_p = np.bincount(pid, weights=w * g_a * a_i, minlength=npat)
        gB_p = np.bincount(pid, weights=w * g_b * b_i, minlength=npat)
        grad = np.concatenate([
            [r * np.dot(w, g_r), ga_p.sum(), gA_p.sum(), gB_p.sum()],
            -(d["Z_purchase"].T @ ga_p), d["Z_dropout"].T @ (gA_p + gB_p)])
        return ll, grad

    def _individual(self, theta: np.ndarray, X: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        r, al, a, b = self._pattern_ab(theta, {"Z_purchase": X["purchase"],
                                               "Z_dropout": X["dropout"]})
        return {"alpha": al, "a": a, "b": b}

    def _predict(self, theta: np.ndarray, x: np.ndarray, tx: np.ndarray, tt: np.ndarray,
                 X: dict[str, np.ndarray], t: float) -> tuple[np.ndarray, np.ndarray]:
        from scipy.special import hyp2f1

        r, al, a, b = self._pattern_ab(theta, {"Z_purchase": X["purchase"],
                                               "Z_dropout": X["dropout"]})
        with np.errstate(divide="ignore", invalid="ignore"):
            lt = (np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                  + (r + x) * (np.log(al + tt) - np.log(al + tx)))
            pa = np.where(x > 0, expit(-lt), 1.0)
            z = t / (al + tt + t)
            f = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
            ep = (a + b + x - 1) / (a - 1) * (1 - f) * pa
        return pa, ep
