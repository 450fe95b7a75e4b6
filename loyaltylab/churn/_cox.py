"""Cox proportional-hazards models: static and time-varying (lifelines underneath)."""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import pandas as pd
import polars as pl

from loyaltylab._stats import z_value
from loyaltylab._util import as_polars
from loyaltylab.data import schema as S
from loyaltylab.churn._design import (
    Design, build_design, check_fitted_params, check_variation, default_covariates,
    drop_missing, lifelines_guard, to_pandas,
)
from loyaltylab.churn._km import _check_table, _entry_times
from loyaltylab.churn._table import DURATION, EVENT, START, STOP
from loyaltylab.exceptions import ConvergenceError, SeparationError
from loyaltylab._fitter import Fitter

__all__ = ["CoxModel", "TimeVaryingCox", "split_customers"]

_DURATION_COL = type("_DurationCol", (), {"__repr__": lambda self: "<duration_col>"})()

AUTO_PENALTY = 0.1
"""The ridge penalty ``CoxModel(penalizer="auto")`` falls back to (lifelines' own advice for
a fit that separates or does not converge)."""

_TIME_VARYING = ("manager_left", "complaint_fast", "complaint_slow", "after_change")


def split_customers(table: Any, *, test_share: float = 0.3,
                    seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a survival table into training and held-out customers at random.

    Parameters
    ----------
    table : pl.DataFrame
        One row per customer.
    test_share : float
        Share of customers held out.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    (train, test) : tuple of pl.DataFrame
        Same columns as ``table``.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"customer_id": [str(i) for i in range(10)]})
    >>> train, test = split_customers(t, test_share=0.3, seed=1)
    >>> train.height, test.height
    (7, 3)
    """
    table = as_polars(table, name="table")
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must lie strictly between 0 and 1, got {test_share}")
    rng = np.random.default_rng(seed)
    n_test = int(round(test_share * table.height))
    mask = np.zeros(table.height, dtype=bool)
    mask[rng.choice(table.height, size=n_test, replace=False)] = True
    m = pl.Series("_m", mask)
    return table.filter(~m), table.filter(m)


def _case_weights(table: pl.DataFrame, col: str) -> np.ndarray:
    if col not in table.columns:
        raise ValueError(f"table: no column {col!r} for weights_col; columns: {table.columns}")
    try:
        w = table.get_column(col).cast(pl.Float64).to_numpy()
    except Exception:
        raise TypeError(f"table.{col}: case weights must be numbers, got "
                        f"{table.schema[col]}") from None
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        raise ValueError(f"table.{col}: {int(bad.sum()):,} rows have a missing, zero or "
                         f"negative weight (first at row {int(np.flatnonzero(bad)[0])}); "
                         f"case weights must be positive: drop those rows")
    return w


def _n_cov(covs: Sequence[str]) -> str:
    return f"{len(covs)} covariate{'' if len(covs) == 1 else 's'}"


def _summary_frame(fitter: Any, design: Design, confidence: float) -> pl.DataFrame:
    s = fitter.summary
    z = z_value(confidence)
    coef = s["coef"].to_numpy()
    se = s["se(coef)"].to_numpy()
    names = [str(i) for i in s.index]
    return pl.DataFrame({
        "covariate": names,
        "variable": [design.source.get(n, n) for n in names],
        "coef": coef, "se": se,
        "hazard_ratio": np.exp(coef),
        "hr_ci_low": np.exp(coef - z * se), "hr_ci_high": np.exp(coef + z * se),
        "z": s["z"].to_numpy(), "p_value": s["p"].to_numpy(),
    })


class CoxModel(Fitter):
    """Cox proportional-hazards model of churn: what raises or lowers the churn hazard.

    Parameters
    ----------
    covariates : list of str, optional
        Columns of the survival table. Strings/booleans are categorical (one indicator per
        level against the most frequent level, or ``reference``). Default: the covariates of
        :func:`churn_table` present in the table that vary.
    strata : list of str, optional
        Columns to stratify on: each stratum gets its own baseline hazard (use it for a
        variable that breaks proportional hazards, see :meth:`check_proportional_hazards`).
    penalizer : float or "auto"
        Ridge penalty passed to lifelines (0 = plain partial likelihood, as R's ``coxph``).
        ``"auto"``: fit without a penalty and, when a covariate separates churners (in one
        of its groups nobody churned) or the fit does not converge, fit again with a small
        penalty (``AUTO_PENALTY``, 0.1), which pulls every effect a little towards none;
        ``penalizer_`` and ``penalty_cause_`` say what was used and why. Client data
        often hold such a group; use "auto" where a run must go on.
    confidence : float
        Coverage of the hazard-ratio intervals.
    missing : {"drop", "raise"}
        Rows with a null covariate: fit on complete rows and report the count in
        ``n_dropped_`` and ``repr`` ("drop"), or stop ("raise").
    reference : dict, optional
        Reference level per categorical covariate.
    duration_col, event_col : str
        Columns of the survival table.
    weights_col : str, optional
        Column of case weights (e.g. customers a row stands for, or inverse sampling
        probabilities); passed to lifelines' ``weights_col``.
    robust : bool, default False
        Robust (sandwich, Lin & Wei 1989) standard errors, as R's ``coxph(robust=TRUE)``;
        use them with non-integer weights or clustered rows.
    entry_col : str, optional
        Delayed entry (left truncation): each customer's age when the data starts
        observing them (see :class:`KaplanMeier`); passed to lifelines' ``entry_col``.

    Attributes
    ----------
    lifelines_ : lifelines.CoxPHFitter
        The fitted lifelines model (Efron ties, as R's ``coxph`` default).
    params_ : dict
        Design column -> log hazard ratio.
    n_dropped_ : int
        Rows left out for missing covariates.
    concordance_ : float
        Concordance on the training customers (see :meth:`concordance` for held-out ones).
    log_likelihood_ : float
        Maximised log partial likelihood (lifelines' ``log_likelihood_``).
    penalizer_ : float
        The penalty the fit used (``penalizer``, or with "auto" 0 or ``AUTO_PENALTY``).
    penalty_cause_ : SeparationError, ConvergenceError or None
        With "auto", why the penalty was needed: the error of the unpenalised fit (its
        message names the covariate and group); None when none was needed.

    Notes
    -----
    The hazard of customer *i* at time *t* is ``h0(t) exp(x_i' beta)``; ``exp(beta_j)`` is the
    hazard ratio of one unit of covariate *j* (Cox 1972). lifelines maximises the partial
    likelihood with Efron's handling of tied churn dates, the default of R's ``coxph``; the
    tests reproduce R's coefficients on the Rossi recidivism data.

    Examples
    --------
    >>> import polars as pl
    >>> from lifelines.datasets import load_rossi
    >>> from loyaltylab.churn import CoxModel
    >>> rossi = pl.from_pandas(load_rossi())
    >>> cox = CoxModel(covariates=["fin", "age", "race", "wexp", "mar", "paro", "prio"],
    ...                duration_col="week", event_col="arrest").fit(rossi)
    >>> round(cox.params_["fin"], 4)
    -0.3794
    >>> cox
    CoxModel: fitted on 432 customers, 318 censored; 7 covariates, concordance 0.640

    A group in which nobody churned: "auto" fits with a small penalty and says why.

    >>> few = rossi.filter((pl.col("arrest") == 0) | (pl.col("wexp") == 1))
    >>> cox = CoxModel(covariates=["fin", "wexp"], duration_col="week", event_col="arrest",
    ...                penalizer="auto").fit(few)
    >>> cox.penalizer_, type(cox.penalty_cause_).__name__
    (0.1, 'SeparationError')
    """

    def __init__(self, *, covariates: Sequence[str] | None = None,
                 strata: Sequence[str] | None = None, penalizer: float | str = 0.0,
                 confidence: float = 0.95, missing: str = "drop",
                 reference: dict[str, str] | None = None, duration_col: str = DURATION,
                 event_col: str = EVENT, weights_col: str | None = None,
                 robust: bool = False, entry_col: str | None = None) -> None:
        if missing not in ("drop", "raise"):
            raise ValueError(f"missing: expected 'drop' or 'raise', got {missing!r}")
        if penalizer != "auto" and (isinstance(penalizer, bool)
                                    or not isinstance(penalizer, (int, float))
                                    or not penalizer >= 0):
            raise ValueError(f"penalizer: expected a number >= 0 or 'auto', got "
                             f"{penalizer!r}")
        self.covariates = None if covariates is None else list(covariates)
        self.strata = None if strata is None else list(strata)
        self.penalizer = penalizer
        self.confidence = confidence
        self.missing = missing
        self.reference = reference
        self.duration_col = duration_col
        self.event_col = event_col
        self.weights_col = weights_col
        self.robust = robust
        self.entry_col = entry_col

    # ----------------------------------------------------------------- fitting
    def fit(self, table: Any) -> CoxModel:
        """Fit on a survival table (one row per customer).

        Returns
        -------
        CoxModel
            ``self``, fitted.

        Raises
        ------
        ValueError
            A covariate with no variance; bad durations or events.
        loyaltylab.exceptions.SeparationError
            A covariate that separates churners perfectly (nobody churned in one of its
            groups; named, with the fix), unless ``penalizer`` is above 0 or "auto".
        loyaltylab.exceptions.ConvergenceError
            lifelines did not converge (the covariates involved are named), with "auto"
            even with the penalty.
        """
        if self.penalizer != "auto":
            self.penalty_cause_ = None
            return self._fit(table, float(self.penalizer))
        try:
            self._fit(table, 0.0)
            self.penalty_cause_ = None
        except (SeparationError, ConvergenceError, np.linalg.LinAlgError) as exc:
            self._fit(table, AUTO_PENALTY)
            self.penalty_cause_ = exc
        return self

    def _fit(self, table: Any, penalizer: float) -> CoxModel:
        from lifelines import CoxPHFitter

        table = _check_table(table, duration_col=self.duration_col, event_col=self.event_col)
        covs = self.covariates if self.covariates is not None else default_covariates(table)
        if not covs:
            raise ValueError("covariates: none given and none of the default churn_table "
                             "covariates vary in this table; pass covariates=[...]")
        strata = self.strata or []
        table, self.n_dropped_ = drop_missing(table, covs, self.missing, extra=strata)
        design = build_design(table, covs, self.reference)
        X = design.transform(table)
        event = table.get_column(self.event_col).cast(pl.Int64).to_numpy()
        check_variation(X, event, design, penalized=penalizer > 0)
        extra = {self.duration_col: table.get_column(self.duration_col).cast(pl.Float64)
                 .to_numpy(), self.event_col: event}
        for s_ in strata:
            extra[s_] = table.get_column(s_).cast(pl.String).to_numpy()
        if self.weights_col is not None:
            extra[self.weights_col] = _case_weights(table, self.weights_col)
        entry = _entry_times(table, self.entry_col, self.duration_col)
        if entry is not None:
            extra[self.entry_col] = entry
        pdf = to_pandas(X, **extra)
        cph = CoxPHFitter(penalizer=penalizer, alpha=1 - self.confidence,
                          strata=strata or None)
        with lifelines_guard(design.columns):
            import warnings

            with warnings.catch_warnings():
                # lifelines warns about non-integer weights without robust=True; the
                # docstring says when to use robust
                warnings.filterwarnings("ignore", message=".*non-integer weights.*")
                cph.fit(pdf, duration_col=self.duration_col, event_col=self.event_col,
                        weights_col=self.weights_col, robust=self.robust,
                        entry_col=self.entry_col)
        check_fitted_params(cph.params_, cph.standard_errors_, design)
        self._x_mean = X.mean().row(0, named=True)
        self.lifelines_ = cph
        self.design_ = design
        self.covariates_ = covs
        self.params_ = {str(k): float(v) for k, v in cph.params_.items()}
        try:
            self.concordance_ = float(cph.concordance_index_)
        except ZeroDivisionError:  # no churner was seen before another customer's end
            self.concordance_ = float("nan")
        self.log_likelihood_ = float(cph.log_likelihood_)
        self.penalizer_ = penalizer
        self.n_ = table.height
        self.n_events_ = int(event.sum())
        self._train = table
        self._train_pdf = pdf
        return self

    _fitted_attr = "lifelines_"

    # ----------------------------------------------------------------- results
    @property
    def summary(self) -> pl.DataFrame:
        """Hazard-ratio table.

        Returns
        -------
        pl.DataFrame
            One row per design column:

            - covariate: design column ("segment=B" for a level of a categorical)
            - variable: the table column it comes from
            - coef: log hazard ratio
            - se: its standard error
            - hazard_ratio: exp(coef); above 1 raises the churn hazard
            - hr_ci_low, hr_ci_high: confidence interval of the hazard ratio
            - z, p_value: Wald test of no effect
        """
        self._check_fitted()
        return _summary_frame(self.lifelines_, self.design_, self.confidence)

    def log_likelihood_ratio_test(self) -> pl.DataFrame:
        """Likelihood-ratio test of the fitted model against the model with no covariates.

        Returns
        -------
        pl.DataFrame
            One row:

            - test_statistic: 2 (log L(beta) - log L(0)), chi-square under no effect
            - degrees_of_freedom: number of design columns
            - p_value: its p-value
            - log_likelihood: log partial likelihood of the fitted model
            - log_likelihood_null: log partial likelihood with all coefficients 0

        Notes
        -----
        Computed by lifelines' ``log_likelihood_ratio_test`` (R's ``summary(coxph)``
        "Likelihood ratio test").
        """
        self._check_fitted()
        res = self.lifelines_.log_likelihood_ratio_test()
        stat = float(res.test_statistic)
        return pl.DataFrame({"test_statistic": [stat],
                             "degrees_of_freedom": [int(res.degrees_freedom)],
                             "p_value": [float(res.p_value)],
                             "log_likelihood": [self.log_likelihood_],
                             "log_likelihood_null": [self.log_likelihood_ - stat / 2]})

    def check_proportional_hazards(self, *, alpha: float = 0.05) -> pl.DataFrame:
        """Test whether each covariate's effect is constant over the customer lifetime.

        Returns
        -------
        pl.DataFrame
            One row per design column:

            - covariate: design column
            - variable: the table column it comes from
            - test_statistic: chi-square (1 df) of the scaled Schoenfeld residuals against
              the rank of the churn time (Grambsch & Therneau 1994, R's ``cox.zph`` with
              ``transform="rank"``)
            - p_value: its p-value
            - holds: False where the assumption fails at level ``alpha``
            - verdict: the result in plain words

        Notes
        -----
        Proportional hazards means that a covariate multiplies the churn hazard by the same
        factor at every age of the relationship. Where it fails, the hazard ratio is an
        average over the lifetime; stratify on the variable (:meth:`stratify_failing`) or
        let its effect change with time.
        """
        self._check_fitted()
        from lifelines.statistics import proportional_hazard_test

        res = proportional_hazard_test(self.lifelines_, self._train_pdf, time_transform="rank")
        s = res.summary
        names = [str(i[0] if isinstance(i, tuple) else i) for i in s.index]
        rows = []
        for name, stat, p in zip(names, s["test_statistic"], s["p"]):
            ok = bool(p >= alpha)
            var = self.design_.source.get(name, name)
            verdict = (f"holds: the effect of {name} is steady over the lifetime"
                       if ok else
                       f"fails: the effect of {name} changes with the age of the "
                       f"relationship (p={p:.3g}); stratify on {var} or model it as "
                       f"time-varying")
            rows.append({"covariate": name, "variable": var, "test_statistic": float(stat),
                         "p_value": float(p), "holds": ok, "verdict": verdict})
        return pl.DataFrame(rows)

    def ph_verdict(self, *, alpha: float = 0.05) -> str:
        """One sentence: does the proportional-hazards assumption hold?"""
        ph = self.check_proportional_hazards(alpha=alpha)
        bad = ph.filter(~pl.col("holds"))
        if bad.height == 0:
            return (f"Proportional hazards hold for all {ph.height} covariates "
                    f"(Schoenfeld test, alpha={alpha}): each hazard ratio applies at every "
                    f"age of the relationship.")
        vars_ = sorted(set(bad.get_column("variable").to_list()))
        return (f"Proportional hazards fail for {', '.join(bad['covariate'].to_list())} "
                f"(Schoenfeld test, alpha={alpha}): their hazard ratios are lifetime "
                f"averages. Stratify on {', '.join(vars_)} (stratify_failing()) or model "
                f"the effect as changing with time.")

    def stratify_failing(self, *, alpha: float = 0.05, bins: int = 4) -> CoxModel:
        """Refit with the variables that fail the proportional-hazards test as strata.

        Categorical variables, and numeric ones with at most ``bins`` distinct values, become
        strata directly; other numeric ones are cut into ``bins`` quantile groups first (the
        numeric effect is then absorbed by the strata).

        Returns
        -------
        CoxModel
            A new fitted model (``self`` is returned unchanged when nothing fails).
        """
        ph = self.check_proportional_hazards(alpha=alpha)
        failing = sorted(set(ph.filter(~pl.col("holds")).get_column("variable").to_list()))
        if not failing:
            return self
        table = self._train
        strata = list(self.strata or [])
        for var in failing:
            if var in self.design_.levels or table.get_column(var).n_unique() <= bins:
                strata.append(var)
            else:
                name = f"{var}_group"
                x = table.get_column(var).cast(pl.Float64).to_numpy()
                edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
                q = np.searchsorted(edges, x, side="right")
                table = table.with_columns(pl.Series(name, q).cast(pl.String))
                strata.append(name)
        covs = [c for c in self.covariates_ if c not in failing]
        if not covs:
            raise ValueError(f"every covariate ({failing}) fails proportional hazards; "
                             f"stratifying on all leaves nothing to estimate. Use a "
                             f"time-varying model (TimeVaryingCox) instead")
        model = CoxModel(covariates=covs, strata=strata, penalizer=self.penalizer,
                         confidence=self.confidence, missing=self.missing,
                         reference=self.reference, duration_col=self.duration_col,
                         event_col=self.event_col, weights_col=self.weights_col,
                         robust=self.robust, entry_col=self.entry_col)
        return model.fit(table)

    # ----------------------------------------------------------------- prediction
    def _X(self, table: pl.DataFrame) -> pd.DataFrame:
        X = to_pandas(self.design_.transform(table))
        for s_ in self.lifelines_.strata or []:
            X[s_] = table.get_column(s_).cast(pl.String).to_numpy()
        return X

    def predict_risk_score(self, table: Any) -> pl.Series:
        """Relative hazard exp(x'beta) per row (higher = churns sooner)."""
        self._check_fitted()
        table = as_polars(table, name="table")
        if table.height == 0:  # lifelines cannot score no rows
            return pl.Series("risk_score", [], pl.Float64)
        ph = self.lifelines_.predict_partial_hazard(self._X(table))
        return pl.Series("risk_score", np.asarray(ph, dtype=float).ravel())

    def predict_churn_probability(self, table: Any, *, horizon: float = 90.0,
                                  after: str | None | object = _DURATION_COL) -> pl.Series:
        """P(churn within ``horizon`` | still active after the column ``after``).

        Parameters
        ----------
        table : polars or pandas DataFrame
            Customers with the model's covariates.
        horizon : float, default 90
            Time units (those of the duration column) after ``after``.
        after : str or None, default: the model's ``duration_col``
            Column with the time each customer has already survived; the probability is
            conditional on surviving that long. ``None``: from the start of the lifetime,
            1 - S(horizon | x), as lifelines' ``predict_survival_function``.

        Returns
        -------
        pl.Series
            ``p_churn`` per row. Times beyond the longest training duration use the last
            baseline value (no extrapolation).

        Examples
        --------
        >>> import polars as pl
        >>> from lifelines.datasets import load_rossi
        >>> rossi = pl.from_pandas(load_rossi())
        >>> cox = CoxModel(covariates=["fin", "age", "race", "wexp", "mar", "paro", "prio"],
        ...                duration_col="week", event_col="arrest").fit(rossi)
        >>> round(float(cox.predict_churn_probability(rossi.head(1), horizon=20,
        ...                                           after=None)[0]), 5)
        0.09709
        """
        self._check_fitted()
        table = as_polars(table, name="table")
        if after is _DURATION_COL:
            after = self.duration_col
        if table.height == 0:  # lifelines cannot score no rows
            return pl.Series("p_churn", [], pl.Float64)
        X = self._X(table)
        if after is None:
            sf = self.lifelines_.predict_survival_function(X, times=[horizon])
        else:
            if after not in table.columns:
                raise ValueError(f"table: no column {after!r} for after=; pass the column "
                                 f"with the time each customer has already survived, or "
                                 f"after=None for the probability from the start of the "
                                 f"lifetime")
            cond = table.get_column(after).cast(pl.Float64).to_numpy()
            sf = self.lifelines_.predict_survival_function(X, times=[horizon],
                                                           conditional_after=cond)
        return pl.Series("p_churn", 1 - np.asarray(sf, dtype=float).ravel())

    def concordance(self, table: Any) -> float:
        """Harrell's concordance on (held-out) customers: 0.5 = random, 1 = perfect order.

        Rows with missing covariates are left out.
        """
        self._check_fitted()
        table = _check_table(table, duration_col=self.duration_col, event_col=self.event_col)
        table = table.drop_nulls(subset=[c for c in self.covariates_])
        from lifelines.utils import concordance_index

        score = self.predict_risk_score(table).to_numpy()
        try:
            return float(concordance_index(table.get_column(self.duration_col).to_numpy(),
                                           -score, table.get_column(self.event_col).to_numpy()))
        except ZeroDivisionError:  # no pair to compare: no churner seen before another's end
            return float("nan")

    def drivers(self, table: Any, *, top: int = 3) -> pl.Series:
        """Per row, the covariates that raise this customer's hazard most compared with an
        average customer (contribution ``beta_j (x_ij - mean_j)`` > 0), as text."""
        self._check_fitted()
        table = as_polars(table, name="table")
        X = self.design_.transform(table)
        beta = np.array([self.params_[c] for c in X.columns])
        mean = np.array([self._x_mean[c] for c in X.columns], dtype=float)
        contrib = (X.to_numpy() - mean) * beta
        names = np.array(X.columns)
        out = []
        for row in contrib:
            order = np.argsort(-row)[:top]
            picked = [f"{names[j]} (x{np.exp(row[j]):.2f})" for j in order if row[j] > 0.01]
            out.append(", ".join(picked))
        return pl.Series("drivers", out, dtype=pl.String)

    def _options(self) -> str:
        return "" if self.covariates is None else f"covariates={list(self.covariates)!r}"

    def _describe(self) -> str:
        drop = f"; {self.n_dropped_:,} rows dropped for missing covariates" if \
            self.n_dropped_ else ""
        strata = f", stratified by {self.lifelines_.strata}" if self.lifelines_.strata else ""
        penalty = f", penalizer {self.penalizer_:g}" if self.penalizer_ else ""
        return (f"fitted on {self.n_:,} customers, {self.n_ - self.n_events_:,} censored; "
                f"{_n_cov(self.covariates_)}{strata}, concordance "
                f"{self.concordance_:.3f}{penalty}{drop}")


class TimeVaryingCox(Fitter):
    """Cox model on (start, stop] episodes: effects that switch on during a lifetime.

    Answers questions such as "how much does a customer's churn hazard rise after their
    account manager leaves?" on the episodes of :func:`churn_episodes`.

    Parameters
    ----------
    covariates : list of str, optional
        Columns of the episodes frame (default: the time-varying indicators that vary,
        plus the default static covariates present).
    penalizer, confidence, missing, reference
        As in :class:`CoxModel`.
    id_col, start_col, stop_col, event_col : str
        Columns of the episodes frame.

    Attributes
    ----------
    lifelines_ : lifelines.CoxTimeVaryingFitter
        The fitted lifelines model.
    params_ : dict
        Design column -> log hazard ratio.
    log_likelihood_ : float
        Maximised log partial likelihood.

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.churn import TimeVaryingCox
    >>> ep = pl.DataFrame({"customer_id": ["a", "b", "b", "c", "d", "e", "e", "f"],
    ...     "start": [0.0, 0, 5, 0, 0, 0, 3, 0], "stop": [8.0, 5, 9, 4, 12, 3, 6, 10],
    ...     "event": [1, 0, 1, 1, 0, 0, 1, 0], "manager_left": [0, 0, 1, 0, 0, 0, 1, 1]})
    >>> tv = TimeVaryingCox(covariates=["manager_left"]).fit(ep)
    >>> tv
    TimeVaryingCox: fitted on 6 customers (8 episodes), 4 churned; 1 covariate
    """

    def __init__(self, *, covariates: Sequence[str] | None = None, penalizer: float = 0.0,
                 confidence: float = 0.95, missing: str = "drop",
                 reference: dict[str, str] | None = None, id_col: str = S.CUSTOMER_ID,
                 start_col: str = START, stop_col: str = STOP,
                 event_col: str = EVENT) -> None:
        if missing not in ("drop", "raise"):
            raise ValueError(f"missing: expected 'drop' or 'raise', got {missing!r}")
        self.covariates = None if covariates is None else list(covariates)
        self.penalizer = penalizer
        self.confidence = confidence
        self.missing = missing
        self.reference = reference
        self.id_col, self.start_col = id_col, start_col
        self.stop_col, self.event_col = stop_col, event_col

    def fit(self, episodes: Any) -> TimeVaryingCox:
        """Fit on long-format episodes (:func:`churn_episodes`).

        Episodes of zero length (a lifetime of duration 0) carry no information for the
        partial likelihood and are left out; their count is in ``n_zero_length_``.
        """
        from lifelines import CoxTimeVaryingFitter

        ep = as_polars(episodes, name="episodes")
        for c in (self.id_col, self.start_col, self.stop_col, self.event_col):
            if c not in ep.columns:
                raise ValueError(f"episodes: missing column {c!r}; build them with "
                                 f"ll.churn.churn_episodes()")
        bad = ep.filter(pl.col(self.stop_col) < pl.col(self.start_col))
        if bad.height:
            raise ValueError(f"episodes: {bad.height:,} rows end before they start "
                             f"(stop < start); rebuild them with churn_episodes()")
        zero = ep.filter(pl.col(self.stop_col) == pl.col(self.start_col))
        self.n_zero_length_ = zero.height
        ep = ep.filter(pl.col(self.stop_col) > pl.col(self.start_col))
        if self.covariates is None:
            covs = [c for c in _TIME_VARYING
                    if c in ep.columns and ep.get_column(c).n_unique() > 1]
            covs += [c for c in default_covariates(ep) if c not in covs]
        else:
            covs = self.covariates
        ep, self.n_dropped_ = drop_missing(ep, covs, self.missing)
        design = build_design(ep, covs, self.reference)
        X = design.transform(ep)
        event = ep.get_column(self.event_col).cast(pl.Int64).to_numpy()
        check_variation(X, event, design, penalized=self.penalizer > 0)
        pdf = to_pandas(X, **{
            self.id_col: ep.get_column(self.id_col).to_numpy(),
            self.start_col: ep.get_column(self.start_col).cast(pl.Float64).to_numpy(),
            self.stop_col: ep.get_column(self.stop_col).cast(pl.Float64).to_numpy(),
            self.event_col: event})
        ctv = CoxTimeVaryingFitter(penalizer=self.penalizer, alpha=1 - self.confidence)
        with lifelines_guard(design.columns):
            ctv.fit(pdf, event_col=self.event_col, start_col=self.start_col,
                    stop_col=self.stop_col, id_col=self.id_col)
        check_fitted_params(ctv.params_, ctv.standard_errors_, design)
        self.lifelines_ = ctv
        self.design_ = design
        self.covariates_ = covs
        self.params_ = {str(k): float(v) for k, v in ctv.params_.items()}
        self.log_likelihood_ = float(ctv.log_likelihood_)
        self.n_customers_ = int(ep.get_column(self.id_col).n_unique())
        self.n_episodes_ = ep.height
        self.n_events_ = int(event.sum())
        return self

    _fitted_attr = "lifelines_"

    @property
    def summary(self) -> pl.DataFrame:
        """Hazard-ratio table, with the columns of :attr:`CoxModel.summary`."""
        self._check_fitted()
        return _summary_frame(self.lifelines_, self.design_, self.confidence)

    def log_likelihood_ratio_test(self) -> pl.DataFrame:
        """Likelihood-ratio test against no covariates; columns as
        :meth:`CoxModel.log_likelihood_ratio_test`."""
        self._check_fitted()
        return CoxModel.log_likelihood_ratio_test(self)  # type: ignore[arg-type]

    def effect(self, covariate: str = "manager_left") -> str:
        """The hazard ratio of one covariate in a plain sentence.

        Examples
        --------
        ``"After manager_left switches on, the churn hazard is 2.05 times as high (95 % CI
        1.61 to 2.61)."``
        """
        self._check_fitted()
        row = self.summary.filter(pl.col("covariate") == covariate)
        if row.height == 0:
            raise ValueError(f"covariate {covariate!r} is not in the model; covariates: "
                             f"{self.summary['covariate'].to_list()}")
        hr, lo, hi = (float(row[c][0]) for c in ("hazard_ratio", "hr_ci_low", "hr_ci_high"))
        pct = int(round(self.confidence * 100))
        word = "as high" if hr >= 1 else f"as high, {1 - hr:.0%} lower"
        return (f"After {covariate} switches on, the churn hazard is {hr:.2f} times "
                f"{word} ({pct} % CI {lo:.2f} to {hi:.2f}).")

    def _options(self) -> str:
        return "" if self.covariates is None else f"covariates={list(self.covariates)!r}"

    def _describe(self) -> str:
        drop = f"; {self.n_dropped_:,} episodes dropped for missing covariates" if \
            self.n_dropped_ else ""
        return (f"fitted on {self.n_customers_:,} customers "
                f"({self.n_episodes_:,} episodes), {self.n_events_:,} churned; "
                f"{_n_cov(self.covariates_)}{drop}")
