"""Maximum-likelihood machinery shared by the customer-base models (not public API)."""

from __future__ import annotations

import warnings
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl
from scipy import optimize, stats

from loyaltylab._fitter import Fitter
from loyaltylab.exceptions import ConvergenceError

__all__ = ["BaseFitter", "numerical_hessian", "check_rfm", "log1mexp", "load_model"]


def _arr(v: Any) -> np.ndarray:
    return np.asarray(v, dtype=float)


def log1mexp(z: np.ndarray) -> np.ndarray:
    """log(1 - exp(z)) for z <= 0, accurate near 0 and far below it (-inf at z = 0)."""
    z = np.asarray(z, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(z > -0.6931471805599453, np.log(-np.expm1(z)), np.log1p(-np.exp(z)))


def numerical_hessian(fun: Callable[[np.ndarray], float], x: np.ndarray,
                      step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of ``fun`` at ``x`` (steps scaled to ``max(1, |x|)``)."""
    x = np.asarray(x, dtype=float)
    k = x.size
    h = step * np.maximum(1.0, np.abs(x))
    f0 = fun(x)
    hess = np.empty((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        hess[i, i] = (fun(x + ei) - 2 * f0 + fun(x - ei)) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h[j]
            val = (fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej)
                   + fun(x - ei - ej)) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = val
    return hess


def _rows(mask: np.ndarray, ids: Sequence[Any] | None, limit: int = 5) -> str:
    idx = np.flatnonzero(mask)
    shown = [str(ids[i]) for i in idx[:limit]] if ids is not None else [str(i) for i in idx[:limit]]
    what = "customers" if ids is not None else "rows"
    more = f" and {idx.size - limit} more" if idx.size > limit else ""
    return f"{idx.size} {what} ({', '.join(shown)}{more})"


def check_rfm(frame: Any, columns: Sequence[str], *, table: str = "rfm",
              integer: Sequence[str] = (), nonnegative: Sequence[str] | None = None,
              id_col: str | None = "customer_id",
              order: Sequence[tuple[str, str]] = ()) -> tuple[pl.DataFrame, dict[str, np.ndarray],
                                                              list[Any] | None]:
    """Validate a summary frame; return it as polars, its columns as float arrays, and ids."""
    from loyaltylab._util import as_polars

    if hasattr(frame, "orders") and hasattr(frame, "customers"):
        raise TypeError(f"{table}: got a CRMData; summarise the orders first with "
                        f"ll.clv.rfm_summary(data)")
    df = as_polars(frame, name=table)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{table}: missing column(s) {missing}; found {df.columns}. Build "
                         f"the frame with ll.clv.rfm_summary(orders) or rename the columns")
    if df.height == 0:
        raise ValueError(f"{table}: the frame is empty; the model needs at least one customer")
    ids = df.get_column(id_col).to_list() if id_col and id_col in df.columns else None
    arrays: dict[str, np.ndarray] = {}
    for c in columns:
        try:
            a = df.get_column(c).cast(pl.Float64).to_numpy()
        except Exception:
            raise TypeError(f"{table}.{c}: expected numbers, got {df.schema[c]}") from None
        bad = ~np.isfinite(a)
        if bad.any():
            raise ValueError(f"{table}.{c}: {_rows(bad, ids)} are missing or not finite; "
                             f"drop or fill them before fitting")
        if (nonnegative is None or c in nonnegative) and (a < 0).any():
            raise ValueError(f"{table}.{c}: {_rows(a < 0, ids)} are negative; {c} counts or "
                             f"measures time and must be >= 0")
        if c in integer and (a != np.round(a)).any():
            raise ValueError(f"{table}.{c}: {_rows(a != np.round(a), ids)} are not whole "
                             f"numbers; {c} counts purchases (round or recompute with "
                             f"ll.clv.rfm_summary)")
        arrays[c] = a
    for small, big in order:
        bad = arrays[small] > arrays[big] * (1 + 1e-12) + 1e-12
        if bad.any():
            raise ValueError(f"{table}: {_rows(bad, ids)} have {small} greater than {big}; "
                             f"{small} is measured inside the observation window, so check "
                             f"that both use the same time unit and observation end")
    return df, arrays, ids


class BaseFitter(Fitter):
    """Fitter contract shared by the models: options in ``__init__``, ``fit`` returns self.

    Subclasses define ``_param_names``, ``_x0(data)``, ``_loglik(params, data)`` (array of
    per-row log-likelihoods, before weights) and ``_prepare(frame)``.
    """

    _param_names: tuple[str, ...] = ()
    _model_name = "model"

    def __init__(self, *, max_iter: int = 1000, level: float = 0.95,
                 initial_params: dict[str, float] | None = None,
                 penalizer: float = 0.0) -> None:
        if not (isinstance(penalizer, (int, float)) and np.isfinite(penalizer)
                and penalizer >= 0):
            raise ValueError(f"penalizer: expected a number >= 0 (0 = plain maximum "
                             f"likelihood), got {penalizer!r}")
        self.max_iter = max_iter
        self.level = level
        self.initial_params = initial_params
        self.penalizer = float(penalizer)

    # ------------------------------------------------------------------ contract
    _fitted_attr = "params_"

    def __repr__(self) -> str:
        # the CLV models show their parameters inline: "BetaGeo(r=0.243, ...) fitted on ..."
        if not self._is_fitted():
            return f"{type(self).__name__}() (not fitted)"
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return (f"{type(self).__name__}({ps}) fitted on {self._fitted_on}, "
                f"log-likelihood {self.log_likelihood_:.2f}")

    def _negll(self, logp: np.ndarray, data: dict[str, np.ndarray]) -> float:
        with np.errstate(all="ignore"):
            ll = self._loglik(np.exp(logp), data)
            total = float(np.dot(data["_w"], ll))
        return -total if np.isfinite(total) else np.inf

    def _optimise(self, data: dict[str, np.ndarray], x0: np.ndarray) -> None:
        names = self._param_names
        if self.initial_params is not None:
            x0 = np.log([float(self.initial_params[n]) for n in names])
        scale = float(data["_w"].sum())

        pen = getattr(self, "penalizer", 0.0)

        def f(z: np.ndarray) -> float:
            # lifetimes' penalizer_coef: mean negative log-likelihood + c sum(theta^2)
            return self._negll(z, data) / scale + pen * float(np.sum(np.exp(2 * z)))

        def grad(z: np.ndarray) -> np.ndarray:
            if hasattr(self, "_score"):  # analytic gradient of the log-likelihood
                with np.errstate(all="ignore"):
                    return (-(self._score(np.exp(z), data) @ data["_w"]) / scale
                            + pen * 2 * np.exp(2 * z))
            g = np.empty_like(z)
            for i in range(z.size):
                e = np.zeros_like(z)
                e[i] = 1e-6
                g[i] = (f(z + e) - f(z - e)) / 2e-6
            return g

        if not np.isfinite(f(x0)):
            raise ConvergenceError(
                f"{self._model_name}: the log-likelihood is not finite at the starting "
                f"values { {n: float(f'{v:.4g}') for n, v in zip(names, np.exp(x0))} }; pass "
                f"initial_params={{...}} closer to the data, or check the time unit")
        n_rows = data["_w"].size
        if n_rows > 200_000 and self.initial_params is None and not hasattr(self, "_score"):
            # warm start: fit a random 50,000-row subsample first, then polish on all rows
            idx = np.random.default_rng(0).choice(n_rows, 50_000, replace=False)
            sub = self._subsample(data, idx)
            sscale = float(sub["_w"].sum())
            pre = optimize.minimize(lambda z: self._negll(z, sub) / sscale, x0,
                                    method="L-BFGS-B", bounds=[(-20.0, 20.0)] * len(names),
                                    options={"maxiter": self.max_iter})
            if np.all(np.isfinite(pre.x)) and np.isfinite(f(pre.x)):
                x0 = pre.x
        res = optimize.minimize(f, x0, jac=grad, method="L-BFGS-B",
                                bounds=[(-20.0, 20.0)] * len(names),
                                options={"maxiter": self.max_iter, "ftol": 1e-15,
                                         "gtol": 1e-9})
        z = res.x
        g = grad(z)
        ok = np.isfinite(res.fun) and np.all(np.isfinite(z)) and np.max(np.abs(g)) < 1e-4
        at_bound = np.any(np.abs(z) > 13.8)  # beyond 1e-6 .. 1e6
        if not ok or at_bound:
            vals = {n: float(f'{v:.4g}') for n, v in zip(names, np.exp(z))}
            why = ("a parameter ran to the edge of the parameter space (near 0 or infinity)"
                   if at_bound else f"the optimiser stopped: {res.message}")
            raise ConvergenceError(
                f"{self._model_name}: the fit did not converge ({why}; last values {vals}, "
                f"max |gradient| {np.max(np.abs(g)):.2g}). Customers that all behave alike leave "
                f"the heterogeneity unidentified. Try: a time unit that puts T in "
                f"tens (weeks rather than days), removing customers with implausible "
                f"frequencies (tests, resellers), more customers, max_iter larger than "
                f"{self.max_iter}, or initial_params={{...}} from a published fit")
        self._logp = z
        self._data = data
        self.log_likelihood_ = -self._negll(z, data)
        self.params_ = {n: float(v) for n, v in zip(names, np.exp(z))}
        if hasattr(self, "_score"):  # central differences of the analytic gradient
            hess = np.empty((z.size, z.size))
            for i in range(z.size):
                e = np.zeros(z.size)
                e[i] = 1e-5
                hess[i] = (grad(z + e) - grad(z - e)) / 2e-5 * scale
            hess = (hess + hess.T) / 2
        else:
            hess = numerical_hessian(lambda u: f(u) * scale, z)
        try:
            cov = np.linalg.inv(hess)
            if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            warnings.warn(f"{self._model_name}: the Hessian at the optimum is singular or not "
                          f"positive definite (a flat likelihood ridge); standard errors are "
                          f"from its pseudo-inverse and unreliable", RuntimeWarning,
                          stacklevel=3)
            cov = np.linalg.pinv(hess)
        self._set_uncertainty(z, cov)

    def _set_uncertainty(self, z: np.ndarray, cov: np.ndarray) -> None:
        names = self._param_names
        self.covariance_log_ = cov
        se_log = np.sqrt(np.abs(np.diag(cov)))
        est = np.exp(z)
        zq = stats.norm.ppf(0.5 + self.level / 2)
        self.standard_errors_ = {n: float(v) for n, v in zip(names, est * se_log)}
        self.confidence_intervals_ = pl.DataFrame({
            "parameter": list(names),
            "ci_low": np.exp(z - zq * se_log),
            "ci_high": np.exp(z + zq * se_log),
        })

    # ------------------------------------------------------------------ saving
    _JSON_FORMAT = 1
    _extra_state: tuple[str, ...] = ()

    def to_json(self, path: Any = None) -> str:
        """The fitted model as JSON: parameters, their covariance and what it was fitted on.

        Parameters
        ----------
        path : str or pathlib.Path, optional
            File to write (UTF-8). The text is returned either way.

        Returns
        -------
        str
            JSON with ``model`` (class name), ``format``, ``params``, ``covariance_log``
            (covariance of the log-parameters, in the order of ``params``),
            ``log_likelihood``, ``n_customers``, ``fitted_on``, the options (``level``,
            ``penalizer``) and what predictions need (e.g. the survivor counts of an sBG).
            Read it back with :func:`loyaltylab.clv.load_model`; no pickle involved.

        Examples
        --------
        >>> from loyaltylab.clv import ShiftedBetaGeo, load_model
        >>> m = ShiftedBetaGeo().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> back = load_model(m.to_json())
        >>> back.params_ == m.params_, float(back.survival_function(3)) == float(
        ...     m.survival_function(3))
        (True, True)
        """
        import json

        self._check_fitted()
        extra = {}
        for k in self._extra_state:
            v = getattr(self, k, None)
            extra[k] = v.tolist() if isinstance(v, np.ndarray) else v
        doc = {"model": type(self).__name__, "format": self._JSON_FORMAT,
               "params": {n: float(v) for n, v in zip(self._param_names, np.exp(self._logp))},
               "log_params": [float(v) for v in self._logp],
               "covariance_log": np.asarray(self.covariance_log_, dtype=float).tolist(),
               "log_likelihood": float(self.log_likelihood_),
               "n_customers": int(self.n_customers_), "fitted_on": self._fitted_on,
               "level": float(self.level), "penalizer": float(getattr(self, "penalizer", 0.0)),
               "state": extra}
        text = json.dumps(doc, indent=1, allow_nan=True)
        if path is not None:
            from pathlib import Path

            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def _from_doc(cls, doc: dict[str, Any]) -> BaseFitter:
        m = cls(level=float(doc.get("level", 0.95)), penalizer=float(doc.get("penalizer", 0.0)))
        z = np.asarray(doc["log_params"], dtype=float)
        cov = np.asarray(doc["covariance_log"], dtype=float)
        k = len(cls._param_names)
        if z.shape != (k,) or cov.shape != (k, k):
            raise ValueError(f"{cls.__name__}: the saved model has {z.size} parameters and a "
                             f"{cov.shape} covariance; expected {k} "
                             f"({', '.join(cls._param_names)})")
        m._logp = z
        m.params_ = {n: float(v) for n, v in zip(cls._param_names, np.exp(z))}
        m.log_likelihood_ = float(doc["log_likelihood"])
        m.n_customers_ = int(doc["n_customers"])
        m._fitted_on = str(doc["fitted_on"])
        for key, v in (doc.get("state") or {}).items():
            if key in cls._extra_state:
                setattr(m, key, np.asarray(v, dtype=float) if isinstance(v, list) else v)
        m._set_uncertainty(z, cov)
        return m

    @staticmethod
    def _subsample(data: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
        out = {k: v[idx] for k, v in data.items()
               if k not in ("ux", "inv") and not k.startswith("_tail")}
        if "ux" in data:
            ux, inv = np.unique(out["x"], return_inverse=True)
            out["ux"], out["inv"] = ux, inv
        return out

    @property
    def summary(self) -> pl.DataFrame:
        """Estimates with standard errors and confidence intervals.

        Columns: ``parameter``; ``estimate``; ``std_error`` (delta method from the inverse
        numerical Hessian of the negative log-likelihood on the log-parameter scale);
        ``ci_low``, ``ci_high`` (Wald interval on the log scale, transformed back, so
        always positive, at ``level``); ``log_likelihood`` (the fit's, repeated);
        ``n`` (customers).
        """
        self._check_fitted()
        return pl.DataFrame({
            "parameter": list(self._param_names),
            "estimate": [self.params_[n] for n in self._param_names],
            "std_error": [self.standard_errors_[n] for n in self._param_names],
        }).join(self.confidence_intervals_, on="parameter", how="left",
                maintain_order="left").with_columns(
            pl.lit(self.log_likelihood_).alias("log_likelihood"),
            pl.lit(self.n_customers_).alias("n"))

    def _draw_params(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Parameter draws (n x k, natural scale) from the asymptotic normal on log scale."""
        self._check_fitted()
        return np.exp(rng.multivariate_normal(self._logp, self.covariance_log_, size=n))

    def _p(self, params: Any) -> np.ndarray:
        if params is None:
            self._check_fitted()
            return np.exp(self._logp)
        if isinstance(params, dict):
            missing = [n for n in self._param_names if n not in params]
            if missing:
                raise ValueError(f"params: missing {missing}; {self._model_name} takes "
                                 f"{list(self._param_names)}")
            params = [params[n] for n in self._param_names]
        out = np.asarray(params, dtype=float)
        if out.shape != (len(self._param_names),) or not np.all(np.isfinite(out)) or np.any(
                out <= 0):
            raise ValueError(f"params: expected {len(self._param_names)} positive numbers "
                             f"({', '.join(self._param_names)}), got {params!r}")
        return out

    def customer_log_likelihood(self, data: Any, *, params: Any = None) -> np.ndarray:
        """Log-likelihood of each row of ``data`` under the model, at the fitted or given
        parameters.

        Parameters
        ----------
        data : frame (or survivor counts for :class:`ShiftedBetaGeo`)
            The data in the form ``fit`` takes; rows are not weighted.
        params : dict or sequence of float, optional
            Parameters by name (or in the order of ``params_``); default: the fitted ones.
            Given parameters work on an unfitted model too.

        Returns
        -------
        numpy.ndarray
            One log-likelihood per row (per customer), in the constant-free form of the
            papers, so that ``weights @ customer_log_likelihood(data)`` at the fitted
            parameters equals ``log_likelihood_``. For :class:`ShiftedBetaGeo`: one value
            per period of churn, then the survivors' log S(n) (weights: the customers lost
            in each period, then those still active).

        Examples
        --------
        >>> import polars as pl
        >>> from loyaltylab.clv import BetaGeo
        >>> rfm = pl.read_csv("data/cdnow/cdnow_customers_summary.csv")
        >>> ll = BetaGeo().customer_log_likelihood(
        ...     rfm, params={"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
        >>> round(float(ll.sum()), 1)  # Fader, Hardie & Lee (2005): -9582.4
        -9582.4
        """
        p = self._p(params)
        d = self._ll_data(data)
        with np.errstate(all="ignore"):
            return np.asarray(self._loglik(p, d), dtype=float)

    def _ll_data(self, data: Any) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError


def load_model(source: Any) -> BaseFitter:
    """A customer-base model saved with ``to_json``, ready to predict.

    Parameters
    ----------
    source : str or pathlib.Path
        The JSON text, or a path to a file holding it.

    Returns
    -------
    BaseFitter
        A fitted model of the saved class (``ShiftedBetaGeo``, ``BetaGeo``,
        ``ModifiedBetaGeo``, ``ParetoNBD``, ``GammaGamma`` or ``BetaGeoBetaBinom``) with
        ``params_``, ``covariance_log_``, standard errors and intervals restored.

    Raises
    ------
    ValueError
        The text is not JSON written by ``to_json``, or names an unknown model.
    """
    import json
    from pathlib import Path

    from loyaltylab.clv import _models

    text = str(source)
    if isinstance(source, Path) or not text.lstrip().startswith("{"):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"load_model: {path} is not a file nor JSON text; pass the "
                             f"path given to to_json(path) or the text it returned")
        text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"load_model: not valid JSON ({e.msg} at line {e.lineno}); pass "
                         f"what to_json() wrote") from None
    if not isinstance(doc, dict) or "model" not in doc or (
            "log_params" not in doc and "theta" not in doc):
        raise ValueError("load_model: the JSON has no 'model' and 'log_params'; it was not "
                         "written by a loyaltylab model's to_json()")
    if doc.get("format") != BaseFitter._JSON_FORMAT:
        raise ValueError(f"load_model: saved format {doc.get('format')!r}, this version reads "
                         f"format {BaseFitter._JSON_FORMAT}")
    from loyaltylab.clv import _covariates

    covs = [n for n in _covariates.__all__ if n.endswith("Covariates")]
    if doc.get("model") in covs and "theta" in doc and doc.get("format") == 1:
        return getattr(_covariates, doc["model"])._from_doc(doc)
    names = [n for n in getattr(_models, "__all__", [])]
    if doc["model"] not in names:
        raise ValueError(f"load_model: unknown model {str(doc['model'])[:40]!r}; expected one "
                         f"of {names + covs}")
    return getattr(_models, doc["model"])._from_doc(doc)
