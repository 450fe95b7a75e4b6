"""Parametric lifetime models (Weibull, log-logistic) to extrapolate beyond the data."""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import polars as pl

from loyaltylab._util import as_polars
from loyaltylab.churn._design import (
    build_design, check_variation, drop_missing, lifelines_guard, to_pandas,
)
from loyaltylab.churn._km import _check_table
from loyaltylab.churn._table import DAYS_PER_YEAR, DURATION, EVENT
from loyaltylab._fitter import Fitter

__all__ = ["LifetimeModel"]

_DISTRIBUTIONS = ("weibull", "loglogistic")


def _fitters(name: str, with_covariates: bool) -> Any:
    from lifelines import (LogLogisticAFTFitter, LogLogisticFitter, WeibullAFTFitter,
                           WeibullFitter)

    table = {("weibull", True): WeibullAFTFitter, ("weibull", False): WeibullFitter,
             ("loglogistic", True): LogLogisticAFTFitter,
             ("loglogistic", False): LogLogisticFitter}
    return table[(name, with_covariates)]


class LifetimeModel(Fitter):
    """Weibull and log-logistic lifetime models, the better one chosen by AIC.

    Kaplan-Meier and Cox describe lifetimes only as far as the data reach; a parametric
    model extrapolates: median and mean lifetime, survival at five or ten years, and the
    expected remaining lifetime of each active customer.

    Parameters
    ----------
    distributions : sequence of {"weibull", "loglogistic"}
        Candidates; the one with the lowest AIC is kept.
    covariates : list of str, optional
        Accelerated-failure-time covariates (none: one lifetime distribution for all).
    missing : {"drop", "raise"}
        Rows with a null covariate, as in :class:`CoxModel`.
    horizon_years : float
        Means are restricted to this many years (a log-logistic with shape <= 1 has no
        finite mean).
    duration_col, event_col : str
        Columns of the survival table.

    Attributes
    ----------
    lifelines_ : lifelines fitter
        The chosen fitted model (``WeibullFitter``/``WeibullAFTFitter``, ...).
    fitters_ : dict
        Distribution -> fitted lifelines model, for all candidates.
    distribution_ : str
        The chosen distribution.
    params_ : dict
        Parameter name -> estimate of the chosen model.

    Notes
    -----
    Weibull: S(t) = exp(-(t/lambda)^rho); log-logistic: S(t) = 1 / (1 + (t/alpha)^beta).
    With covariates the scale is ``exp(x' beta)`` (AFT). AIC = 2k - 2 log L (Akaike 1974).
    Expected remaining lifetime after tenure d: integral of S(d+u)/S(d) du over
    u in [0, horizon].

    Examples
    --------
    >>> import polars as pl
    >>> from lifelines.datasets import load_rossi
    >>> from loyaltylab.churn import LifetimeModel
    >>> rossi = pl.from_pandas(load_rossi())
    >>> lm = LifetimeModel(duration_col="week", event_col="arrest").fit(rossi)
    >>> lm.comparison.select("distribution", "aic").with_columns(pl.col("aic").round(1)).rows()
    [('weibull', 1397.2), ('loglogistic', 1397.3)]
    >>> lm.distribution_
    'weibull'
    """

    def __init__(self, *, distributions: Sequence[str] = _DISTRIBUTIONS,
                 covariates: Sequence[str] | None = None, missing: str = "drop",
                 horizon_years: float = 30.0, duration_col: str = DURATION,
                 event_col: str = EVENT) -> None:
        unknown = [d for d in distributions if d not in _DISTRIBUTIONS]
        if unknown or not distributions:
            raise ValueError(f"distributions: expected some of {list(_DISTRIBUTIONS)}, got "
                             f"{list(distributions)}")
        self.distributions = list(distributions)
        self.covariates = None if covariates is None else list(covariates)
        self.missing = missing
        self.horizon_years = horizon_years
        self.duration_col = duration_col
        self.event_col = event_col

    def fit(self, table: Any) -> LifetimeModel:
        """Fit every candidate distribution and keep the one with the lowest AIC.

        Raises
        ------
        ValueError
            Durations of zero (a parametric lifetime must be positive), named with the fix.
        """
        table = _check_table(table, duration_col=self.duration_col, event_col=self.event_col)
        zero = table.filter(pl.col(self.duration_col) <= 0).height
        if zero:
            raise ValueError(
                f"table.{self.duration_col}: {zero:,} rows have duration 0, which a "
                f"Weibull or log-logistic lifetime cannot have (the log-likelihood is "
                f"undefined). Leave them out with table.filter(pl.col("
                f"'{self.duration_col}') > 0), or add half a day to every duration "
                f"(pl.col('{self.duration_col}') + 0.5) if they are same-day churners")
        covs = self.covariates or []
        table, self.n_dropped_ = drop_missing(table, covs, self.missing)
        d = table.get_column(self.duration_col).cast(pl.Float64).to_numpy()
        e = table.get_column(self.event_col).cast(pl.Int64).to_numpy()
        self.fitters_: dict[str, Any] = {}
        rows = []
        if covs:
            self.design_ = build_design(table, covs)
            X = self.design_.transform(table)
            check_variation(X, e, self.design_)
            pdf = to_pandas(X, **{self.duration_col: d, self.event_col: e})
        for name in self.distributions:
            cls = _fitters(name, bool(covs))
            f = cls()
            with lifelines_guard(self.design_.columns if covs else []):
                if covs:
                    f.fit(pdf, duration_col=self.duration_col, event_col=self.event_col)
                else:
                    f.fit(d, e)
            self.fitters_[name] = f
            k = int(np.size(f.params_))
            rows.append({"distribution": name, "log_likelihood": float(f.log_likelihood_),
                         "n_params": k, "aic": float(f.AIC_)})
        comp = pl.DataFrame(rows)
        best = comp.sort("aic").get_column("distribution")[0]
        self.comparison_ = comp.with_columns((pl.col("distribution") == best).alias("chosen"))
        self.distribution_ = best
        self.lifelines_ = self.fitters_[best]
        p = self.lifelines_.params_
        self.params_ = {("/".join(map(str, k)) if isinstance(k, tuple) else str(k)): float(v)
                        for k, v in p.items()}
        self.n_ = table.height
        self.n_events_ = int(e.sum())
        self._train = table
        return self

    _fitted_attr = "lifelines_"

    @property
    def comparison(self) -> pl.DataFrame:
        """The candidates side by side.

        Returns
        -------
        pl.DataFrame
            - distribution: "weibull" or "loglogistic"
            - log_likelihood: maximised log-likelihood
            - n_params: number of estimated parameters
            - aic: Akaike information criterion (lower is better)
            - chosen: True for the distribution kept
        """
        self._check_fitted()
        return self.comparison_

    @property
    def summary(self) -> pl.DataFrame:
        """Estimates of the chosen model.

        Returns
        -------
        pl.DataFrame
            - parameter: lifelines parameter name (AFT: "lambda_/covariate")
            - estimate: the estimate (AFT coefficients are log time ratios)
            - se: standard error
            - ci_low, ci_high: confidence interval
            - time_ratio: exp(estimate) for AFT scale coefficients (how much the covariate
              stretches lifetimes; null otherwise)
        """
        self._check_fitted()
        s = self.lifelines_.summary
        names = ["/".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in s.index]
        est = s["coef"].to_numpy()
        scale = [n.startswith(("lambda_/", "alpha_/")) and not n.endswith("Intercept")
                 for n in names]
        return pl.DataFrame({
            "parameter": names, "estimate": est, "se": s["se(coef)"].to_numpy(),
            "ci_low": s.iloc[:, s.columns.get_loc("coef lower 95%")].to_numpy(),
            "ci_high": s.iloc[:, s.columns.get_loc("coef upper 95%")].to_numpy(),
            "time_ratio": [float(np.exp(v)) if sc else None for v, sc in zip(est, scale)],
        })

    def _sf(self, table: pl.DataFrame | None, times: np.ndarray,
            after: np.ndarray | None) -> np.ndarray:
        """Survival S(after + t)/S(after): array (len(times), n)."""
        f = self.lifelines_
        if hasattr(self, "design_"):
            X = to_pandas(self.design_.transform(table))
            sf = f.predict_survival_function(X, times=times, conditional_after=after)
            return np.asarray(sf, dtype=float)
        n = 1 if after is None else len(after)
        a = np.zeros(n) if after is None else np.asarray(after, dtype=float)
        num = np.asarray(f.survival_function_at_times((a[None, :] + times[:, None]).ravel()),
                         dtype=float).reshape(len(times), n)
        den = np.asarray(f.survival_function_at_times(a), dtype=float)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, 0.0)

    def lifetime_summary(self) -> pl.DataFrame:
        """Extrapolated lifetimes of a new customer (averaged over the fitted customers when
        the model has covariates).

        Returns
        -------
        pl.DataFrame
            One row per candidate distribution:

            - distribution: the distribution
            - chosen: True for the AIC choice
            - median_days: median lifetime
            - mean_days: mean lifetime restricted to ``horizon_years``
            - survival_1y, survival_2y, survival_3y, survival_5y, survival_10y: retention
              at those ages
        """
        self._check_fitted()
        H = self.horizon_years * DAYS_PER_YEAR
        grid = np.linspace(0.0, H, 2001)
        rows = []
        chosen = self.distribution_
        for name, f in self.fitters_.items():
            self.lifelines_ = f
            sf = self._sf(self._train if hasattr(self, "design_") else None, grid, None)
            mean_curve = sf.mean(axis=1)
            med = float(np.interp(0.5, mean_curve[::-1], grid[::-1])) if \
                mean_curve[-1] < 0.5 else None
            row = {"distribution": name, "chosen": name == chosen, "median_days": med,
                   "mean_days": float(np.trapezoid(mean_curve, grid))}
            for k in (1, 2, 3, 5, 10):
                row[f"survival_{k}y"] = float(np.interp(k * DAYS_PER_YEAR, grid, mean_curve))
            rows.append(row)
        self.lifelines_ = self.fitters_[chosen]
        return pl.DataFrame(rows, schema_overrides={"median_days": pl.Float64})

    def predict_remaining(self, table: Any, *, after: str = DURATION,
                          grid_points: int = 600) -> pl.Series:
        """Expected remaining lifetime in days of customers still active after ``after``
        days (restricted to ``horizon_years``)."""
        self._check_fitted()
        table = as_polars(table, name="table")
        H = self.horizon_years * DAYS_PER_YEAR
        grid = np.linspace(0.0, H, grid_points + 1)
        a = table.get_column(after).cast(pl.Float64).to_numpy()
        out = np.empty(table.height)
        step = 5000
        for i in range(0, table.height, step):
            sub = table.slice(i, step)
            sf = self._sf(sub, grid, a[i:i + step])
            out[i:i + step] = np.trapezoid(sf, grid, axis=0)
        return pl.Series("expected_remaining_days", out)

    def _options(self) -> str:
        return f"distributions={self.distributions}"

    def _describe(self) -> str:
        return (f"{self.distribution_} chosen by AIC; fitted on {self.n_:,} customers, "
                f"{self.n_ - self.n_events_:,} censored")
