"""Customer-base models with time-invariant covariates, fitted by maximum likelihood.

- :class:`ParetoNBDCovariates`: Pareto/NBD, covariates on the purchase and dropout rates;
- :class:`BetaGeoCovariates`: BG/NBD, covariates on the purchase rate and the dropout
  probability's distribution;
- :class:`ShiftedBetaGeoCovariates`: sBG for contractual retention, one row per customer.

Every fit uses an analytic gradient; standard errors come from the inverse Hessian (central
differences of that gradient).
"""

from __future__ import annotations

import warnings
from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import optimize, stats
from scipy.special import betaln, digamma, expit, gammaln

from loyaltylab.clv._base import check_rfm, log1mexp
from loyaltylab.clv._rfm import FREQUENCY, PERIODS, RECENCY, T
from loyaltylab._fitter import Fitter
from loyaltylab.exceptions import ConvergenceError

__all__ = ["ParetoNBDCovariates", "BetaGeoCovariates", "ShiftedBetaGeoCovariates",
           "covariate_matrix"]

_NUMERIC = (pl.Float64, pl.Float32, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8,
            pl.UInt16, pl.UInt32, pl.UInt64, pl.Boolean)


# ============================================================================ design matrix
def covariate_matrix(frame: Any, columns: Sequence[str], *,
                     table: str = "customers") -> tuple[np.ndarray, list[str]]:
    """Covariate columns as a float matrix, categorical ones dummy-coded.

    Parameters
    ----------
    frame : polars or pandas DataFrame
        One row per customer.
    columns : sequence of str
        Covariate columns. Numbers and booleans are used as they are (booleans as 0/1);
        text, categorical and enum columns are dummy-coded with their first level as the
        reference (the first in sorted order for text, the first category for categorical
        and enum columns), one column per other level, named ``column[level]``.
    table : str
        Name used in error messages.

    Returns
    -------
    (numpy.ndarray, list of str)
        The n x k matrix and the k coefficient names.

    Raises
    ------
    ValueError
        A column is missing, has missing or non-finite values, or is constant (its effect
        cannot be told apart from the baseline parameters).
    TypeError
        A column is neither numeric, boolean nor text/categorical (dates, lists ...).

    Examples
    --------
    >>> import polars as pl
    >>> X, names = covariate_matrix(pl.DataFrame({"age": [30, 40, 50],
    ...                                            "channel": ["web", "shop", "web"]}),
    ...                              ["age", "channel"])
    >>> names
    ['age', 'channel[web]']
    >>> X.tolist()
    [[30.0, 1.0], [40.0, 0.0], [50.0, 1.0]]
    """
    from loyaltylab._util import as_polars

    df = as_polars(frame, name=table)
    if isinstance(columns, str):
        columns = [columns]
    columns = list(columns)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{table}: covariate column(s) {missing} not found; columns are "
                         f"{df.columns}. Join the covariates to the summary frame first "
                         f"(rfm.join(customers, on='customer_id'))")
    if len(set(columns)) != len(columns):
        raise ValueError(f"{table}: covariate columns {columns} list a column twice")
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for c in columns:
        s = df.get_column(c)
        nulls = s.is_null()
        if s.dtype in (pl.Float32, pl.Float64):
            nulls = nulls | s.is_nan().fill_null(True) | s.is_infinite().fill_null(True)
        if nulls.any():
            idx = np.flatnonzero(nulls.to_numpy())
            raise ValueError(f"{table}.{c}: {idx.size} rows have a missing or non-finite "
                             f"covariate (first at rows {', '.join(map(str, idx[:5]))}); fill "
                             f"them (e.g. with a level 'unknown') or drop those customers")
        if s.dtype in _NUMERIC:
            v = s.cast(pl.Float64).to_numpy()
            if np.ptp(v) == 0:
                raise ValueError(f"{table}.{c}: the covariate is constant ({v[0]:g} for all "
                                 f"{v.size:,} customers), so its effect cannot be separated "
                                 f"from the baseline; drop it")
            blocks.append(v[:, None])
            names.append(c)
        elif s.dtype in (pl.String, pl.Categorical) or isinstance(s.dtype, pl.Enum):
            levels = _levels(s)
            if len(levels) < 2:
                raise ValueError(f"{table}.{c}: the covariate has a single level for all "
                                 f"{s.len():,} customers, so its effect cannot be separated "
                                 f"from the baseline; drop it")
            text = s.cast(pl.String)
            for lv in levels[1:]:
                blocks.append((text == lv).cast(pl.Float64).to_numpy()[:, None])
                names.append(f"{c}[{lv}]")
        else:
            raise TypeError(f"{table}.{c}: a covariate must be numeric, boolean, text or "
                            f"categorical, got {s.dtype}; convert it (e.g. a date to the "
                            f"customer's age in years)")
    if not blocks:
        return np.zeros((df.height, 0)), []
    X = np.hstack(blocks)
    if X.shape[1] > 1:
        full = np.column_stack([np.ones(X.shape[0]), X])
        if np.linalg.matrix_rank(full) < full.shape[1]:
            raise ValueError(f"{table}: the covariates {columns} are collinear (one is a "
                             f"combination of the others and the baseline, e.g. dummies of "
                             f"every level); drop one of them")
    return X, names


def _levels(s: pl.Series) -> list[str]:
    """Levels present in a text/categorical column, the reference (first) level first."""
    present = set(s.cast(pl.String).unique().to_list())
    if isinstance(s.dtype, pl.Enum):
        return [lv for lv in s.dtype.categories.to_list() if lv in present]
    if s.dtype == pl.Categorical:
        return [lv for lv in s.cat.get_categories().to_list() if lv in present]
    return sorted(present)


# ============================================================================ shared fitter
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


# ============================================================================ RFM models
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


# ---------------------------------------------------------------------------- Pareto/NBD
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


# ---------------------------------------------------------------------------- BG/NBD
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


# ============================================================================ sBG
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
