"""Covariates -> numeric design matrix, and the checks that name a bad covariate (private)."""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import polars as pl

from loyaltylab.exceptions import ConvergenceError, SeparationError

__all__ = ["Design", "build_design", "check_variation", "lifelines_guard", "drop_missing",
           "default_covariates", "check_fitted_params", "to_pandas", "DEFAULT_COVARIATES"]

DEFAULT_COVARIATES = ("segment", "kind", "acquisition_channel", "reward_scheme",
                      "orders_90d", "contacts_90d", "satisfaction", "complaints_fast",
                      "complaints_slow", "contacts_per_month", "emails_over_threshold")
"""Covariates used when a model is given none: those of :func:`churn_table` that exist and
vary in the table."""

_FIX = ("drop it from covariates=, merge the rare level into another "
        "(e.g. with pl.when().then()), or pass penalizer=0.1 to shrink the estimate")


@dataclass
class Design:
    """How covariates become numeric columns: levels of categorical ones and the names."""

    covariates: list[str]
    levels: dict[str, list[str]] = field(default_factory=dict)
    reference: dict[str, str] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    source: dict[str, str] = field(default_factory=dict)  # design column -> covariate

    def transform(self, table: pl.DataFrame) -> pl.DataFrame:
        """The numeric design columns (Float64) for ``table``; raises on unknown levels."""
        exprs = []
        for cov in self.covariates:
            if cov not in table.columns:
                raise ValueError(f"covariate {cov!r} is not a column of the table; "
                                 f"columns: {table.columns}")
            if cov in self.levels:
                seen = set(table.get_column(cov).drop_nulls().cast(pl.String).unique()
                           .to_list())
                new = sorted(seen - set(self.levels[cov]))
                if new:
                    raise ValueError(f"covariate {cov!r}: levels {new} were not in the data "
                                     f"the model was fitted on (known: {self.levels[cov]}); "
                                     f"map them to a known level first")
                for lev in self.levels[cov]:
                    if lev == self.reference[cov]:
                        continue
                    exprs.append((pl.col(cov).cast(pl.String) == lev).cast(pl.Float64)
                                 .alias(f"{cov}={lev}"))
            else:
                exprs.append(pl.col(cov).cast(pl.Float64).alias(cov))
        return table.select(exprs)


def _is_categorical(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Categorical, pl.Boolean) or isinstance(
        dtype, (pl.Enum, pl.Categorical))


def default_covariates(table: pl.DataFrame) -> list[str]:
    """Default covariates present in ``table`` with some variation and data."""
    out = []
    for c in DEFAULT_COVARIATES:
        if c in table.columns and table.get_column(c).drop_nulls().n_unique() > 1:
            if table.get_column(c).null_count() < 0.5 * table.height:
                out.append(c)
    return out


def build_design(table: pl.DataFrame, covariates: Sequence[str],
                 reference: dict[str, str] | None = None) -> Design:
    """Learn categorical levels (reference = most frequent unless given) from ``table``."""
    reference = dict(reference or {})
    design = Design(list(covariates))
    for cov in covariates:
        if cov not in table.columns:
            raise ValueError(f"covariate {cov!r} is not a column of the table; columns: "
                             f"{table.columns}")
        dtype = table.schema[cov]
        if _is_categorical(dtype):
            counts = (table.select(pl.col(cov).cast(pl.String)).drop_nulls()
                      .group_by(cov).len().sort(["len", cov], descending=[True, False]))
            levels = counts.get_column(cov).to_list()
            if not levels:
                raise ValueError(f"covariate {cov!r}: every value is null; drop it from "
                                 f"covariates=")
            ref = reference.get(cov, levels[0])
            if ref not in levels:
                raise ValueError(f"reference[{cov!r}] = {ref!r} is not a level of {cov!r}; "
                                 f"levels: {sorted(levels)}")
            design.levels[cov] = sorted(levels)
            design.reference[cov] = ref
            for lev in sorted(levels):
                if lev != ref:
                    design.columns.append(f"{cov}={lev}")
                    design.source[f"{cov}={lev}"] = cov
        elif dtype.is_numeric():
            design.columns.append(cov)
            design.source[cov] = cov
        else:
            raise TypeError(f"covariate {cov!r} has type {dtype}; use a number, a string "
                            f"(categorical) or a boolean")
    return design


def drop_missing(table: pl.DataFrame, covariates: Sequence[str], missing: str,
                 *, extra: Sequence[str] = ()) -> tuple[pl.DataFrame, int]:
    """Rows with a null covariate: raise (naming the columns) or drop and count them."""
    cols = [*covariates, *extra]
    nulls = {c: int(table.get_column(c).null_count()) for c in cols if c in table.columns}
    nulls = {c: n for c, n in nulls.items() if n}
    if not nulls:
        return table, 0
    if missing == "raise":
        shown = ", ".join(f"{c} ({n:,} rows)" for c, n in nulls.items())
        raise ValueError(f"covariates have missing values: {shown}. Fill them (e.g. "
                         f"pl.col(...).fill_null(...)), drop those covariates, or pass "
                         f"missing='drop' to fit on complete rows (the count is reported)")
    kept = table.drop_nulls(subset=list(nulls))
    return kept, table.height - kept.height


def check_variation(X: pl.DataFrame, event: np.ndarray, design: Design, *,
                    penalized: bool = False) -> None:
    """Raise ValueError for a covariate without variance, and
    :class:`~loyaltylab.exceptions.SeparationError` for one that separates churners
    (nobody churned in one of its two groups). With ``penalized`` (a
    penalizer above 0) separation is allowed: the penalty keeps the estimate finite."""
    for col in X.columns:
        x = X.get_column(col).to_numpy()
        cov = design.source.get(col, col)
        label = col if col == cov else f"{cov} (level {col.split('=', 1)[1]!r})"
        if np.nanstd(x) == 0:
            raise ValueError(
                f"covariate {label} has no variance: every customer in the table has the "
                f"value {x[0]:g}, so its effect cannot be estimated. Drop {cov!r} from "
                f"covariates= (or fit on data where it varies)")
        uniq = np.unique(x)
        if uniq.size == 2 and not penalized:
            hi = x == uniq[1]
            ev_hi, ev_lo = int(event[hi].sum()), int(event[~hi].sum())
            if ev_hi == 0 or ev_lo == 0:
                grp = f"{col}={uniq[1]:g}" if ev_hi == 0 else f"{col}={uniq[0]:g}"
                if col != cov:
                    grp = (f"{cov} = {col.split('=', 1)[1]!r}" if ev_hi == 0
                           else f"{cov} other than {col.split('=', 1)[1]!r}")
                n = int(hi.sum()) if ev_hi == 0 else int((~hi).sum())
                level = col.split("=", 1)[1] if col != cov else None
                raise SeparationError(
                    f"covariate {label} separates churners perfectly: none of the "
                    f"{n:,} customers with {grp} churned, so its hazard ratio is 0 or "
                    f"infinite and cannot be estimated. Fix: {_FIX}",
                    covariate=cov, level=level,
                    value=None if level is not None else float(
                        uniq[1] if ev_hi == 0 else uniq[0]),
                    other=level is not None and ev_hi != 0, n=n)


_COLS = re.compile(r"\[([^\]]*)\]")


@contextmanager
def lifelines_guard(design_columns: Sequence[str]) -> Iterator[list[warnings.WarningMessage]]:
    """Run a lifelines fit; turn its convergence failures into our ConvergenceError."""
    from lifelines.exceptions import ConvergenceError as LLConvergenceError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield caught
        except (LLConvergenceError, np.linalg.LinAlgError) as exc:
            named = _named_in(caught, design_columns)
            who = (f"covariate(s) {named}" if named else "one of the covariates "
                   f"({', '.join(design_columns)})")
            raise ConvergenceError(
                f"the model did not converge: {who} separate churners from stayers or are "
                f"(nearly) collinear with others. Fix: {_FIX}. lifelines said: "
                f"{str(exc).splitlines()[0]}") from None
    for w in caught:
        if w.category.__name__ == "ConvergenceWarning" or "separation" in str(w.message):
            named = _named_in([w], design_columns)
            if named:
                raise ConvergenceError(
                    f"the model did not converge cleanly: covariate(s) {named} have almost "
                    f"no variance among churners or among stayers (near-perfect "
                    f"separation). Fix: {_FIX}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _named_in(caught: list, columns: Sequence[str]) -> list[str]:
    names = []
    for w in caught:
        text = str(w.message)
        for col in columns:
            if f"'{col}'" in text and col not in names:
                names.append(col)
    return names


def to_pandas(X: pl.DataFrame, **extra: np.ndarray) -> pd.DataFrame:
    """The single conversion into pandas for lifelines."""
    pdf = X.to_pandas()
    for k, v in extra.items():
        pdf[k] = v
    return pdf


def check_fitted_params(params: pd.Series, se: pd.Series, design: Design) -> None:
    """After a fit: a diverging coefficient names its covariate (separation)."""
    bad = [c for c in params.index
           if not np.isfinite(params[c]) or abs(params[c]) > 15 or not np.isfinite(se[c])
           or se[c] > 1e3]
    if bad:
        shown = ", ".join(f"{c} (coef {params[c]:.1f})" for c in bad)
        raise ConvergenceError(
            f"the estimates for {shown} diverge: that covariate separates churners from "
            f"stayers (or is a copy of another covariate). Fix: {_FIX}")

