"""What the covariate models share: maximum likelihood on the log base parameters and
the coefficient blocks (analytic gradient, Hessian from central differences of it),
saving to JSON, the summary, and the fit and predictions of the RFM models
(Pareto/NBD and BG/NBD).
"""

from __future__ import annotations

import warnings
from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import optimize, stats

from loyaltylab.clv._base import check_rfm
from loyaltylab.clv._rfm import FREQUENCY, RECENCY, T
from loyaltylab.clv._separation import check_repeat_buyers
from loyaltylab._fitter import Fitter
from loyaltylab.exceptions import ConvergenceError
from loyaltylab.clv._covariates_design import _NUMERIC, _levels, covariate_matrix

__all__: list[str] = []  # private base classes of loyaltylab.clv


class _CovariateFitter(Fitter):
    """Maximum likelihood on theta = (log base parameters, coefficient blocks)."""

    _base_names: tuple[str, ...] = ()
    _blocks: tuple[str, ...] = ()          # e.g. ("purchase", "dropout")
    _model_name = "model"
    _table = "rfm"

    def __init__(self, *, max_iter: int = 1000, level: float = 0.95,
                 initial_params: dict[str, float] | None = None) -> None:
        if not (0 < level < 1):
            raise ValueError(f"level: expected a confidence level between 0 and 1, got "
                             f"{level!r}")
        self.max_iter = max_iter
        self.level = level
        self.initial_params = initial_params

    # ---------------------------------------------------------------- contract
    _fitted_attr = "params_"

    def __repr__(self) -> str:
        # the CLV models show their parameters inline: "BetaGeo(r=0.243, ...) fitted on ..."
        if not self._is_fitted():
            return f"{type(self).__name__}() (not fitted)"
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return (f"{type(self).__name__}({ps}) fitted on {self._fitted_on}, "
                f"log-likelihood {self.log_likelihood_:.2f}")

    @property
    def _names(self) -> list[str]:
        out = list(self._base_names)
        for b in self._blocks:
            out += [f"{b}:{c}" for c in self.covariates_[b]]
        return out

    def _split(self, theta: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        k0 = len(self._base_names)
        base = np.exp(theta[:k0])
        out, i = [], k0
        for b in self._blocks:
            k = len(self.covariates_[b])
            out.append(theta[i:i + k])
            i += k
        return base, out

    def _theta_from(self, params: Any) -> np.ndarray:
        """theta from a dict of named parameters (base on natural scale, coefficients)."""
        names = self._names
        if isinstance(params, dict):
            missing = [n for n in names if n not in params]
            if missing:
                raise ValueError(f"params: missing {missing}; this model takes {names}")
            vals = [float(params[n]) for n in names]
        else:
            vals = [float(v) for v in np.asarray(params, dtype=float).ravel()]
            if len(vals) != len(names):
                raise ValueError(f"params: expected {len(names)} values ({names}), got "
                                 f"{len(vals)}")
        k0 = len(self._base_names)
        if not np.all(np.isfinite(vals)) or any(v <= 0 for v in vals[:k0]):
            raise ValueError(f"params: the base parameters {list(self._base_names)} must be "
                             f"positive and every value finite, got {vals}")
        return np.concatenate([np.log(vals[:k0]), vals[k0:]])

    def _set_covariates(self, frame: Any, blocks: dict[str, Sequence[str] | None]) -> None:
        from loyaltylab._util import as_polars

        df = as_polars(frame, name=self._table)
        self.covariate_columns_ = {b: list(blocks[b] or []) for b in self._blocks}
        self.covariates_ = {}
        self._X = {}
        self._levels = {}
        for b in self._blocks:
            X, names = covariate_matrix(df, self.covariate_columns_[b], table=self._table)
            self._X[b] = X
            self.covariates_[b] = names
            for c in self.covariate_columns_[b]:
                if df.schema[c] not in _NUMERIC:
                    self._levels[c] = _levels(df.get_column(c))

    def _design(self, frame: Any) -> dict[str, np.ndarray]:
        """Covariate matrices of new data, coded like the fitted data."""
        from loyaltylab._util import as_polars

        df = as_polars(frame, name=self._table)
        out = {}
        for b in self._blocks:
            cols = self.covariate_columns_[b]
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise ValueError(f"{self._table}: covariate column(s) {missing} used in the "
                                 f"fit are missing; found {df.columns}")
            mats, names = [], []
            for c in cols:
                s = df.get_column(c)
                if s.null_count():
                    raise ValueError(f"{self._table}.{c}: {s.null_count()} rows have a missing "
                                     f"covariate; fill them or drop those customers")
                if c in self._levels:
                    text = s.cast(pl.String)
                    new = sorted(set(text.unique().to_list()) - set(self._levels[c]))
                    if new:
                        raise ValueError(f"{self._table}.{c}: levels {new[:5]} were not in "
                                         f"the fitted data, so they have no coefficient; map "
                                         f"them to a fitted level ({self._levels[c][:5]})")
                    for lv in self._levels[c][1:]:
                        mats.append((text == lv).cast(pl.Float64).to_numpy())
                        names.append(f"{c}[{lv}]")
                else:
                    if s.dtype not in _NUMERIC:
                        raise TypeError(f"{self._table}.{c}: expected numbers as in the fit, got "
                                        f"{s.dtype}")
                    v = s.cast(pl.Float64).to_numpy()
                    if not np.all(np.isfinite(v)):
                        raise ValueError(f"{self._table}.{c}: missing or non-finite covariate "
                                         f"values; fill them or drop those customers")
                    mats.append(v)
                    names.append(c)
            out[b] = np.column_stack(mats) if mats else np.zeros((df.height, 0))
        return out

    # ---------------------------------------------------------------- optimiser
    def _objective(self, theta: np.ndarray, data: dict[str, Any]) -> tuple[float, np.ndarray]:
        with np.errstate(all="ignore"):
            ll, grad = self._loglik_grad(theta, data, gradient=True)
            total = float(np.dot(data["_w"], ll))
        if not np.isfinite(total) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros_like(theta)
        return -total, -grad

    def _hessian(self, fun: Any, z: np.ndarray, central: bool = True) -> np.ndarray:
        """Hessian of the scaled objective by differences of its analytic gradient."""
        hess = np.empty((z.size, z.size))
        g0 = None if central else fun(z)[1]
        for i in range(z.size):
            e = np.zeros(z.size)
            e[i] = 1e-5
            if central:
                hess[i] = (fun(z + e)[1] - fun(z - e)[1]) / 2e-5
            else:
                hess[i] = (fun(z + e)[1] - g0) / 1e-5
        return (hess + hess.T) / 2

    @staticmethod
    def _newton(fun: Any, z: np.ndarray, hess: np.ndarray,
                steps: int = 8) -> tuple[np.ndarray, bool]:
        """Newton steps with an approximate Hessian (halving the step while f rises)."""
        try:
            hinv = np.linalg.inv(hess)
        except np.linalg.LinAlgError:
            return z, False
        f, g = fun(z)
        for _ in range(steps):
            if np.max(np.abs(g)) < 1e-8:
                return z, True
            step = -hinv @ g
            t = 1.0
            for _ in range(6):
                zn = z + t * step
                fn, gn = fun(zn)
                if np.isfinite(fn) and fn <= f + 1e-14 * abs(f):
                    break
                t /= 2
            else:
                return z, False
            z, f, g = zn, fn, gn
        return z, bool(np.max(np.abs(g)) < 1e-8)

    def _optimise(self, data: dict[str, Any], x0: np.ndarray,
                  warm: dict[str, Any] | None = None) -> None:
        """Maximise; with ``warm`` (a random subsample of the customers, for large data)
        first fit the subsample, then polish on all rows by Newton steps with the
        subsample's Hessian scaled up, falling back to L-BFGS-B."""
        names = self._names
        k0 = len(self._base_names)
        if self.initial_params is not None:
            given = dict(self.initial_params)
            x0 = x0.copy()
            for i, n in enumerate(names):
                if n in given:
                    x0[i] = np.log(float(given[n])) if i < k0 else float(given[n])
        scale = float(data["_w"].sum())
        bounds = [(-20.0, 20.0)] * k0 + [(-30.0, 30.0)] * (len(names) - k0)

        def scaled(d: dict[str, Any]) -> Any:
            sc = float(d["_w"].sum())

            def fun(th: np.ndarray) -> tuple[float, np.ndarray]:
                f, g = self._objective(th, d)
                return f / sc, g / sc
            return fun

        fun = scaled(data)
        f0, _ = fun(x0)
        if not np.isfinite(f0):
            raise ConvergenceError(f"{self._model_name}: the log-likelihood is not finite at "
                                   f"the starting values; pass initial_params={{...}} closer "
                                   f"to the data, or check the time unit")

        def lbfgs(f: Any, start: np.ndarray) -> Any:
            return optimize.minimize(f, start, jac=True, method="L-BFGS-B", bounds=bounds,
                                     options={"maxiter": self.max_iter, "ftol": 1e-15,
                                              "gtol": 1e-9, "maxcor": 20})

        done = False
        nit = 0
        z = x0
        if warm is not None:
            sub = scaled(warm)
            pre = lbfgs(sub, x0)
            nit += int(pre.nit)
            if np.all(np.isfinite(pre.x)) and np.isfinite(fun(pre.x)[0]):
                z, done = self._newton(fun, pre.x, self._hessian(sub, pre.x, central=False))
        if done:
            res_fun, message = fun(z)[0], "Newton polish converged"
        else:
            res = lbfgs(fun, z)
            z, res_fun, message = res.x, res.fun, res.message
            nit += int(res.nit)
        g = fun(z)[1]
        runaway = self._runaway(fun, z, scale)
        if runaway:
            vals = {n: float(f"{z[names.index(n)]:.4g}") for n in runaway}
            raise ConvergenceError(
                f"{self._model_name}: the fit did not converge: the coefficient(s) {vals} "
                f"run off to infinity (the log-likelihood still rises as they grow, so there "
                f"is no finite estimate). Either the covariate (almost) separates the "
                f"customers (e.g. every customer of one level churned in the first period, "
                f"or none of them bought again), or, for a coefficient that scales both "
                f"shape parameters (BG/NBD dropout, sBG), the customers of one level do not "
                f"differ among themselves at all. Merge that level with another, put the "
                f"covariate on the other process only, or drop it")
        ok = np.isfinite(res_fun) and np.all(np.isfinite(z)) and np.max(np.abs(g)) < 1e-4
        at_bound = np.any(np.abs(z[:k0]) > 13.8) or np.any(np.abs(z[k0:]) > 25)
        if not ok or at_bound:
            vals = {n: float(f"{(np.exp(v) if i < k0 else v):.4g}")
                    for i, (n, v) in enumerate(zip(names, z))}
            why = ("a parameter ran to the edge of the parameter space"
                   if at_bound else f"the optimiser stopped: {message}")
            raise ConvergenceError(
                f"{self._model_name}: the fit did not converge ({why}; last values {vals}, "
                f"max |gradient| {np.max(np.abs(g)):.2g}). A covariate that (almost) "
                f"separates buyers from non-buyers, or covariates on very different scales, "
                f"can cause this: standardise continuous covariates, merge rare levels, or "
                f"pass initial_params={{...}}; max_iter is {self.max_iter}")
        self._theta = z
        self._data = data
        self.n_iterations_ = nit
        self.log_likelihood_ = -fun(z)[0] * scale
        # central differences of the analytic gradient; forward ones on large data
        hess = self._hessian(fun, z, central=data["_w"].size <= 200_000) * scale
        try:
            cov = np.linalg.inv(hess)
            if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            warnings.warn(f"{self._model_name}: the Hessian at the optimum is singular or not "
                          f"positive definite; standard errors are from its pseudo-inverse "
                          f"and unreliable", RuntimeWarning, stacklevel=3)
            cov = np.linalg.pinv(hess)
        self._set_uncertainty(z, cov)

    def _runaway(self, fun: Any, z: np.ndarray, scale: float) -> list[str]:
        """Coefficients with no finite maximum: the optimiser left them large (their effect
        across the covariate's range is over e^8, a factor of about 3,000) and pushing them
        further, by e^5 more across that range, costs less than 0.01 log-likelihood units
        or even gains. A well-determined coefficient that large would lose far more (its
        standard error would have to exceed 35 / range). ``fun`` is the objective divided
        by ``scale``."""
        k0 = len(self._base_names)
        f0 = fun(z)[0]
        if not np.isfinite(f0):
            return []
        out, i = [], k0
        for b in self._blocks:
            for j, name in enumerate(self.covariates_[b]):
                spread = float(np.ptp(self._X[b][:, j]))
                if spread > 0 and abs(z[i]) * spread > 8:
                    zz = z.copy()
                    zz[i] += np.sign(z[i]) * 5.0 / spread
                    f1 = fun(zz)[0]
                    if np.isfinite(f1) and (f1 - f0) * scale < 0.01:
                        out.append(f"{b}:{name}")
                i += 1
        return out

    # ---------------------------------------------------------------- saving
    def to_json(self, path: Any = None) -> str:
        """The fitted model as JSON: parameters, their covariance, the covariate coding.

        Parameters
        ----------
        path : str or pathlib.Path, optional
            File to write (UTF-8). The text is returned either way.

        Returns
        -------
        str
            JSON with ``model``, ``format``, ``params`` (natural scale), ``theta`` (base
            parameters on the log scale, then the coefficients), ``covariance`` (of
            ``theta``), the covariate columns and their levels, the log-likelihood and what
            the model was fitted on. Read it back with :func:`loyaltylab.clv.load_model`.

        Examples
        --------
        >>> import polars as pl
        >>> from loyaltylab.clv import ShiftedBetaGeoCovariates, load_model
        >>> frames = []
        >>> for plan, surv in [("regular", [1000, 631, 468, 382, 326, 289, 262, 241]),
        ...                    ("high end", [1000, 869, 743, 653, 593, 551, 517, 491])]:
        ...     lost = [surv[i] - surv[i + 1] for i in range(7)]
        ...     frames.append(pl.DataFrame({"periods": list(range(1, 8)) + [7],
        ...                                 "churned": [True] * 7 + [False],
        ...                                 "n": lost + [surv[-1]], "plan": plan}))
        >>> rows = pl.concat(frames)
        >>> m = ShiftedBetaGeoCovariates().fit(rows, covariates=["plan"], weights="n")
        >>> back = load_model(m.to_json())
        >>> back.params_ == m.params_
        True
        """
        import json

        self._check_fitted()
        doc = {"model": type(self).__name__, "format": 1, "params": dict(self.params_),
               "theta": [float(v) for v in self._theta],
               "covariance": np.asarray(self.covariance_, dtype=float).tolist(),
               "covariate_columns": self.covariate_columns_, "covariates": self.covariates_,
               "levels": self._levels, "log_likelihood": float(self.log_likelihood_),
               "n_customers": int(self.n_customers_), "fitted_on": self._fitted_on,
               "level": float(self.level), "columns": list(getattr(self, "_cols_", []))}
        text = json.dumps(doc, indent=1)
        if path is not None:
            from pathlib import Path

            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def _from_doc(cls, doc: dict[str, Any]) -> _CovariateFitter:
        m = cls(level=float(doc.get("level", 0.95)))
        m.covariate_columns_ = {b: list(doc["covariate_columns"][b]) for b in cls._blocks}
        m.covariates_ = {b: list(doc["covariates"][b]) for b in cls._blocks}
        m._levels = {k: list(v) for k, v in doc.get("levels", {}).items()}
        z = np.asarray(doc["theta"], dtype=float)
        cov = np.asarray(doc["covariance"], dtype=float)
        k = len(m._names)
        if z.shape != (k,) or cov.shape != (k, k):
            raise ValueError(f"{cls.__name__}: the saved model has {z.size} parameters and a "
                             f"{cov.shape} covariance; its covariates need {k}")
        if doc.get("columns"):
            m._cols_ = tuple(doc["columns"])
        m._theta = z
        m.log_likelihood_ = float(doc["log_likelihood"])
        m.n_customers_ = int(doc["n_customers"])
        m._fitted_on = str(doc.get("fitted_on", ""))
        m._set_uncertainty(z, cov)
        return m

    def _set_uncertainty(self, z: np.ndarray, cov: np.ndarray) -> None:
        names = self._names
        k0 = len(self._base_names)
        self.covariance_ = cov
        se = np.sqrt(np.abs(np.diag(cov)))
        zq = stats.norm.ppf(0.5 + self.level / 2)
        est = np.where(np.arange(z.size) < k0, np.exp(z), z)
        self.params_ = {n: float(v) for n, v in zip(names, est)}
        se_nat = np.where(np.arange(z.size) < k0, est * se, se)
        self.standard_errors_ = {n: float(v) for n, v in zip(names, se_nat)}
        lo = np.where(np.arange(z.size) < k0, np.exp(z - zq * se), z - zq * se)
        hi = np.where(np.arange(z.size) < k0, np.exp(z + zq * se), z + zq * se)
        self.confidence_intervals_ = pl.DataFrame({"parameter": names, "ci_low": lo,
                                                   "ci_high": hi})
        self._se_theta = se

    @property
    def coefficients_(self) -> dict[str, dict[str, float]]:
        """Covariate coefficients by process: ``{"purchase": {"gender": 0.31, ...}, ...}``."""
        self._check_fitted()
        return {b: {c: self.params_[f"{b}:{c}"] for c in self.covariates_[b]}
                for b in self._blocks}

    @property
    def summary(self) -> pl.DataFrame:
        """Estimates with standard errors, intervals and Wald tests.

        Columns:

        - ``parameter``: base parameter name, or ``process:covariate`` for a coefficient
          (``purchase:gender``); dummy-coded levels read ``process:column[level]``.
        - ``process``: ``"model"`` for the base parameters, else the process the covariate
          acts on.
        - ``estimate``: base parameters on their natural scale (the value for a customer
          whose covariates are all 0); coefficients as fitted.
        - ``std_error``: from the inverse Hessian of the negative log-likelihood (delta
          method for the base parameters, fitted on the log scale).
        - ``ci_low``, ``ci_high``: Wald interval at ``level`` (on the log scale for base
          parameters, transformed back, so positive).
        - ``z``, ``p_value``: Wald test of coefficient = 0 (two-sided); null for the base
          parameters, where 0 is not a meaningful null.
        - ``log_likelihood``: the fit's, repeated; ``n``: customers.
        """
        self._check_fitted()
        names = self._names
        k0 = len(self._base_names)
        z = np.full(len(names), np.nan)
        z[k0:] = self._theta[k0:] / self._se_theta[k0:]
        p = 2 * stats.norm.sf(np.abs(z))
        proc = ["model"] * k0 + [n.split(":", 1)[0] for n in names[k0:]]
        return pl.DataFrame({
            "parameter": names, "process": proc,
            "estimate": [self.params_[n] for n in names],
            "std_error": [self.standard_errors_[n] for n in names],
        }).join(self.confidence_intervals_, on="parameter", how="left",
                maintain_order="left").with_columns(
            pl.Series("z", z).fill_nan(None), pl.Series("p_value", p).fill_nan(None),
            pl.lit(self.log_likelihood_).alias("log_likelihood"),
            pl.lit(self.n_customers_).alias("n"))

    def _theta_or_fitted(self, params: Any) -> np.ndarray:
        if params is None:
            self._check_fitted()
            return self._theta
        return self._theta_from(params)


def _compress(cols: dict[str, np.ndarray], w: np.ndarray,
              limit: int = 1000) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Merge identical rows into weighted rows (all columns float), in the order of their
    first appearance: a plain group_by returns its groups in a different order from run to
    run, and the optimiser's floating-point sums, so where it stops on a flat likelihood,
    with them."""
    df = pl.DataFrame({**cols, "_w": w})
    if df.height > limit:
        df = df.group_by(list(cols), maintain_order=True).agg(pl.col("_w").sum())
    return ({k: df.get_column(k).to_numpy().astype(float) for k in cols},
            df.get_column("_w").to_numpy().astype(float))


def _unique_rows(cols: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Distinct rows of equal-length columns and each row's index among them."""
    df = pl.DataFrame(cols)
    u = df.unique(maintain_order=True).with_row_index("_g")
    inv = df.join(u, on=list(cols), how="left", maintain_order="left", nulls_equal=True)
    return ({k: u.get_column(k).to_numpy() for k in cols},
            inv.get_column("_g").to_numpy().astype(np.int64))


def _patterns(Xall: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct covariate rows (patterns) and each customer's pattern index."""
    if Xall.shape[1] == 0:
        return np.zeros((1, 0)), np.zeros(Xall.shape[0], dtype=np.int64)
    cols = {f"c{j}": Xall[:, j] for j in range(Xall.shape[1])}
    u, inv = _unique_rows(cols)
    return np.column_stack([u[k] for k in cols]), inv



class _RFMCovariates(_CovariateFitter):
    _blocks = ("purchase", "dropout")
    _warm_rows = 200_000     # compressed rows beyond which a subsample fit starts the fit
    _warm_size = 100_000

    def fit(self, rfm: Any, *, covariates: Sequence[str] | None = None,
            purchase_covariates: Sequence[str] | None = None,
            dropout_covariates: Sequence[str] | None = None,
            weights: str | None = None) -> _RFMCovariates:
        """Fit on ``frequency``, ``recency``, ``T`` and covariate columns of one frame.

        Parameters
        ----------
        rfm : polars or pandas DataFrame
            One row per customer: the columns of :func:`loyaltylab.clv.rfm_summary` and
            the covariates (join them on ``customer_id`` first).
        covariates : sequence of str, optional
            Columns acting on both processes (CLVTools' ``names.cov.life`` and
            ``names.cov.trans`` set to the same columns).
        purchase_covariates, dropout_covariates : sequence of str, optional
            Columns acting on one process only (added to ``covariates``).
        weights : str, optional
            Column counting the customers a row stands for.

        Returns
        -------
        self

        Raises
        ------
        loyaltylab.exceptions.SeparationError
            Nobody in one level of a covariate (or one value of a two-valued one) bought
            again, so its coefficient has no finite estimate; merge the level or drop the
            covariate.
        loyaltylab.exceptions.ConvergenceError
            The fit did not converge, or a coefficient ran off to infinity.
        """
        cov = list(covariates or [])
        blocks = {"purchase": cov + [c for c in (purchase_covariates or []) if c not in cov],
                  "dropout": cov + [c for c in (dropout_covariates or []) if c not in cov]}
        cols = [FREQUENCY, RECENCY, T] + ([weights] if weights else [])
        df, a, _ = check_rfm(rfm, cols, integer=[FREQUENCY] + ([weights] if weights else []),
                             order=[(RECENCY, T)])
        zero_rec = (a[FREQUENCY] == 0) & (a[RECENCY] > 0)
        if zero_rec.any():
            raise ValueError(f"rfm: {int(zero_rec.sum())} rows have frequency 0 but recency > 0 "
                             f"(first at row {int(np.flatnonzero(zero_rec)[0])}); recency of a "
                             f"customer without repeat purchases is 0")
        if not (a[FREQUENCY] > 0).any():
            raise ValueError("rfm: no customer has a repeat purchase (all frequency 0), so the "
                             "purchase rate cannot be estimated")
        self._set_covariates(df, blocks)
        w = a[weights] if weights else np.ones(df.height)
        check_repeat_buyers(df, a[FREQUENCY], w, self.covariate_columns_,
                            model=self._model_name)
        data = self._build(a[FREQUENCY], a[RECENCY], a[T], self._X, w)
        warm = None
        if data["_w"].size > self._warm_rows and self.initial_params is None:
            # large data: fit a random subsample of customers first (see _optimise)
            idx = np.sort(np.random.default_rng(0).choice(df.height, self._warm_size,
                                                          replace=False))
            warm = self._build(a[FREQUENCY][idx], a[RECENCY][idx], a[T][idx],
                               {b: X[idx] for b, X in self._X.items()}, w[idx])
        self.n_customers_ = int(round(w.sum()))
        reps = int(round(float(np.dot(w, a[FREQUENCY] > 0))))
        ncov = sorted(set(blocks["purchase"]) | set(blocks["dropout"]))
        self._fitted_on = (f"{self.n_customers_:,} customers, {reps:,} with repeat purchases, "
                           f"covariates {', '.join(ncov) if ncov else 'none'}")
        k = len(self._names) - len(self._base_names)
        m = max(float(np.average(a[T], weights=w)), 0.1)
        self._optimise(data, np.concatenate([self._x0(m), np.zeros(k)]), warm=warm)
        return self

    def _build(self, x: np.ndarray, tx: np.ndarray, tt: np.ndarray, X: dict[str, np.ndarray],
               w: np.ndarray) -> dict[str, Any]:
        """Covariate patterns, compressed customer rows and the tail rows they need."""
        pats, pid = _patterns(np.hstack([X[b] for b in self._blocks]))
        cols, wc = _compress({"x": x, "tx": tx, "T": tt, "pid": pid.astype(float)}, w)
        d: dict[str, Any] = dict(cols)
        d["pid"] = cols["pid"].astype(np.int64)
        d["_w"] = wc
        k = 0
        for b in self._blocks:
            kb = X[b].shape[1]
            d[f"Z_{b}"] = pats[:, k:k + kb]
            k += kb
        ux, inv = np.unique(d["x"], return_inverse=True)
        d["ux"], d["inv"] = ux, inv.ravel()
        self._extra_build(d)
        return d

    def _extra_build(self, d: dict[str, Any]) -> None:
        pass

    def _per_pattern(self, theta: np.ndarray, d: dict[str, Any]) -> tuple[np.ndarray, ...]:
        raise NotImplementedError

    def customer_log_likelihood(self, data: Any, *, params: Any = None) -> np.ndarray:
        """Log-likelihood of each row of ``data`` (with its covariates), at the fitted or
        given parameters (a dict by the names of ``params_``).

        Returns
        -------
        numpy.ndarray
            One value per row, constant-free as in the papers; their sum at the fitted
            parameters equals ``log_likelihood_`` when ``data`` is the fitted frame.
        """
        self._check_fitted()
        theta = self._theta_or_fitted(params)
        _, a, _ = check_rfm(data, [FREQUENCY, RECENCY, T], integer=[FREQUENCY],
                            order=[(RECENCY, T)])
        X = self._design(data)
        n = a[FREQUENCY].size
        d = self._build_raw(a[FREQUENCY], a[RECENCY], a[T], X)
        with np.errstate(all="ignore"):
            ll, _ = self._loglik_grad(theta, d, gradient=False)
        return np.asarray(ll, dtype=float)[:n]

    def _build_raw(self, x: np.ndarray, tx: np.ndarray, tt: np.ndarray,
                   X: dict[str, np.ndarray]) -> dict[str, Any]:
        """Uncompressed data in the fitted order (one row per customer)."""
        d: dict[str, Any] = {"x": x, "tx": tx, "T": tt, "pid": np.arange(x.size),
                             "_w": np.ones(x.size)}
        for b in self._blocks:
            d[f"Z_{b}"] = X[b]
        ux, inv = np.unique(x, return_inverse=True)
        d["ux"], d["inv"] = ux, inv.ravel()
        self._extra_build(d)
        return d

    def individual_params(self, rfm: Any) -> pl.DataFrame:
        """Each customer's own heterogeneity parameters given their covariates.

        Returns
        -------
        polars.DataFrame
            The input columns plus one column per base parameter (``alpha``, ``beta`` for
            the Pareto/NBD; ``alpha``, ``a``, ``b`` for the BG/NBD), as CLVTools'
            ``alpha_i``, ``beta_i``.
        """
        self._check_fitted()
        from loyaltylab._util import as_polars

        df = as_polars(rfm, name="rfm")
        X = self._design(df)
        per = self._individual(self._theta, X)
        return df.with_columns([pl.Series(k, v) for k, v in per.items()])

    def predict(self, rfm: Any, *, t: float) -> pl.DataFrame:
        """P(alive) and expected purchases in the next ``t`` time units, per customer, with
        each customer's covariates.

        Returns
        -------
        polars.DataFrame
            The input columns, plus:

            - ``p_alive``: probability the customer is still active at T.
            - ``expected_purchases``: expected purchases in (T, T + t] given the history
              and the covariates.
        """
        self._check_fitted()
        df, a, _ = check_rfm(rfm, [FREQUENCY, RECENCY, T], integer=[FREQUENCY],
                             order=[(RECENCY, T)])
        X = self._design(df)
        pa, ep = self._predict(self._theta, a[FREQUENCY], a[RECENCY], a[T], X, float(t))
        return df.with_columns(pl.Series("p_alive", pa), pl.Series("expected_purchases", ep))
