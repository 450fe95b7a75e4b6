"""Kaplan-Meier retention curves and log-rank tests (lifelines underneath)."""

from __future__ import annotations

import itertools
from typing import Any
from collections.abc import Sequence

import numpy as np
import pandas as pd
import polars as pl

from loyaltylab._stats import holm
from loyaltylab._util import as_polars
from loyaltylab.churn._table import DAYS_PER_YEAR, DURATION, EVENT, ChurnTable
from loyaltylab._fitter import Fitter

__all__ = ["KaplanMeier", "retention_curves", "logrank_tests", "GROUP", "ALL"]

GROUP = "group"
ALL = "all"


def _coerce_survival_columns(table: pl.DataFrame, duration_col: str, event_col: str,
                             name: str) -> pl.DataFrame:
    """Booleans as 0/1 events (as lifelines' datasets ship them), numeric text as numbers;
    anything else stops with what to pass."""
    dt = table.schema[duration_col]
    if dt == pl.String:
        parsed = table.get_column(duration_col).str.strip_chars().cast(pl.Float64, strict=False)
        bad = parsed.is_null() & table.get_column(duration_col).is_not_null()
        if bad.any():
            raise TypeError(f"{name}.{duration_col}: {int(bad.sum()):,} rows are text that is "
                            f"not a number; pass the duration as a number of time units "
                            f"(e.g. days from start to churn or censoring), not dates: "
                            f"subtract the start date from the end date first")
        table = table.with_columns(parsed.alias(duration_col))
    elif dt.is_temporal():
        raise TypeError(f"{name}.{duration_col}: got dates ({dt}); pass the duration as a "
                        f"number of time units (e.g. days from start to churn or "
                        f"censoring): subtract the start date from the end date first")
    elif not dt.is_numeric():
        raise TypeError(f"{name}.{duration_col}: expected numbers (time to churn or "
                        f"censoring), got {dt}")
    et = table.schema[event_col]
    if et == pl.Boolean:
        table = table.with_columns(pl.col(event_col).cast(pl.Int64))
    elif et == pl.String:
        low = table.get_column(event_col).str.strip_chars().str.to_lowercase()
        mapped = low.replace_strict({"1": 1, "0": 0, "true": 1, "false": 0}, default=None,
                                    return_dtype=pl.Int64)
        bad = mapped.is_null() & low.is_not_null()
        if bad.any():
            raise TypeError(f"{name}.{event_col}: {int(bad.sum()):,} rows are text other than "
                            f"0/1 or true/false; pass 1 (or True) for churned and 0 (or "
                            f"False) for censored")
        table = table.with_columns(mapped.alias(event_col))
    elif not et.is_numeric():
        raise TypeError(f"{name}.{event_col}: expected 0/1 or booleans (1 = churned, 0 = "
                        f"censored), got {et}")
    return table


def _check_table(table: Any, *, duration_col: str = DURATION, event_col: str = EVENT,
                 name: str = "table") -> pl.DataFrame:
    """Validate a survival table: present, non-null, non-negative durations, 0/1 events."""
    table = as_polars(table, name=name)
    for col in (duration_col, event_col):
        if col not in table.columns:
            raise ValueError(f"{name}: missing column {col!r}; build the table with "
                             f"ll.churn.churn_table() or pass duration_col/event_col")
    if table.height == 0:
        raise ValueError(f"{name}: the table is empty; no customer has a lifetime to "
                         f"analyse (check as_of and the churn definition)")
    table = _coerce_survival_columns(table, duration_col, event_col, name)
    d = table.get_column(duration_col)
    nulls = int(d.null_count()) + int(d.cast(pl.Float64).is_nan().sum())
    if nulls:
        raise ValueError(f"{name}.{duration_col}: {nulls:,} rows are null or NaN; every "
                         f"customer needs a duration (rebuild with churn_table)")
    idx = table.with_row_index("_row").filter(pl.col(duration_col) < 0)
    if idx.height:
        rows = ", ".join(str(r) for r in idx.get_column("_row").head(3).to_list())
        raise ValueError(f"{name}.{duration_col}: {idx.height:,} rows are negative (first "
                         f"at rows {rows}); a lifetime cannot end before it starts: check "
                         f"the start and end dates of those customers")
    e = table.get_column(event_col)
    bad = table.filter(~pl.col(event_col).is_in([0, 1]) | pl.col(event_col).is_null())
    if bad.height:
        raise ValueError(f"{name}.{event_col}: {bad.height:,} rows are not 0 or 1 (found "
                         f"{bad.get_column(event_col).unique().head(3).to_list()}); use 1 "
                         f"for churned and 0 for censored")
    del e
    return table


def _entry_times(table: pl.DataFrame, entry_col: str | None, duration_col: str,
                 name: str = "table") -> np.ndarray | None:
    """Delayed-entry times (left truncation), checked: numbers, >= 0, <= the duration."""
    if entry_col is None:
        return None
    if entry_col not in table.columns:
        raise ValueError(f"{name}: no column {entry_col!r} for entry_col; pass the column "
                         f"with each customer's age when the data starts to observe them")
    dt = table.schema[entry_col]
    if not dt.is_numeric():
        raise TypeError(f"{name}.{entry_col}: expected numbers (time from the start of the "
                        f"relationship to the start of the extract, in the unit of "
                        f"{duration_col}), got {dt}")
    e = table.get_column(entry_col).cast(pl.Float64).to_numpy()
    d = table.get_column(duration_col).cast(pl.Float64).to_numpy()
    for bad, what, fix in (
            (~np.isfinite(e), "are missing", "use 0 for customers acquired inside the "
                                             "extract window"),
            (e < 0, "are negative", "entry is measured from the start of the relationship"),
            (e > d, f"are later than {duration_col}", "a customer cannot enter the data "
                                                     "after churning; check both use the "
                                                     "same origin")):
        if bad.any():
            rows = ", ".join(str(i) for i in np.flatnonzero(bad)[:3])
            raise ValueError(f"{name}.{entry_col}: {int(bad.sum()):,} rows {what} (first at "
                             f"rows {rows}); {fix}")
    return e


def _group_labels(table: pl.DataFrame, by: str | None) -> pl.Series:
    if by is None:
        return pl.Series(GROUP, [ALL] * table.height, dtype=pl.String)
    if by not in table.columns:
        raise ValueError(f"by={by!r}: not a column of the table; columns: {table.columns}")
    return table.get_column(by).cast(pl.String).fill_null("(missing)").alias(GROUP)


class KaplanMeier(Fitter):
    """Kaplan-Meier retention curves, overall or by group, with confidence bands.

    Parameters
    ----------
    confidence : float
        Coverage of the pointwise bands (log(-log) transformed, Greenwood variance, as in
        lifelines and R's ``survfit(conf.type="log-log")``).
    duration_col, event_col : str
        Columns of the survival table.
    entry_col : str, optional
        Delayed entry (left truncation): each customer's age, in the unit of the duration,
        when the data starts observing them. Customers acquired before the extract window
        begins are only at risk from that age on; treating them as observed from
        acquisition would count their survival of the unobserved years and bias retention
        upwards. Passed to lifelines' ``entry``.

    Attributes
    ----------
    lifelines_ : lifelines.KaplanMeierFitter or dict
        The fitted lifelines object (``by=None``), or a dict group -> fitter.
    curves_ : pl.DataFrame
        The curves, see :meth:`fit`.
    by_ : str or None
        The grouping column.

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.churn import KaplanMeier
    >>> t = pl.DataFrame({"duration": [5.0, 8, 8, 12, 20], "event": [1, 1, 0, 1, 0]})
    >>> km = KaplanMeier().fit(t)
    >>> km.curves_.select("timeline", "survival", "at_risk").rows()
    [(0.0, 1.0, 5), (5.0, 0.8, 5), (8.0, 0.6, 4), (12.0, 0.3, 2), (20.0, 0.3, 1)]
    """

    def __init__(self, *, confidence: float = 0.95, duration_col: str = DURATION,
                 event_col: str = EVENT, entry_col: str | None = None) -> None:
        self.confidence = confidence
        self.duration_col = duration_col
        self.event_col = event_col
        self.entry_col = entry_col

    _fitted_attr = "curves_"

    def fit(self, table: Any, *, by: str | None = None) -> KaplanMeier:
        """Fit one curve per group of ``by`` (or one overall).

        Parameters
        ----------
        table : ChurnTable or pl.DataFrame
            A survival table (:func:`churn_table`), or any frame with duration and event.
        by : str, optional
            Column naming the groups (nulls become "(missing)").

        Returns
        -------
        KaplanMeier
            ``self``, with ``curves_``: one row per group and time where something
            happened, plus time 0:

            - group: group label ("all" without ``by``)
            - timeline: days since start
            - survival: share still active (retention)
            - ci_low, ci_high: pointwise confidence band
            - at_risk: customers still observed just before that time
            - observed: churn events at that time
            - censored: customers censored at that time

            and ``inactivity_days_``: the inactivity window of the churn rule that
            :func:`churn_table` recorded (None for contract tables and bare frames), so
            charts can show why nobody is lost before it.
        """
        from lifelines import KaplanMeierFitter

        # the inactivity rule's window, recorded by churn_table (None for contracts)
        window = table.inactivity_days if isinstance(table, ChurnTable) else None
        table = _check_table(table, duration_col=self.duration_col, event_col=self.event_col)
        groups = _group_labels(table, by)
        entry = _entry_times(table, self.entry_col, self.duration_col)
        pdf = pd.DataFrame({"d": table.get_column(self.duration_col).cast(pl.Float64)
                            .to_numpy(),
                            "e": table.get_column(self.event_col).cast(pl.Int64).to_numpy(),
                            "g": groups.to_numpy(),
                            "entry": entry if entry is not None else np.zeros(table.height)})
        fitters: dict[str, Any] = {}
        frames = []
        for label in sorted(pdf["g"].unique(), key=str):
            sub = pdf[pdf["g"] == label]
            kmf = KaplanMeierFitter(alpha=1 - self.confidence)
            kmf.fit(sub["d"], sub["e"], label=str(label),
                    entry=sub["entry"] if entry is not None else None)
            fitters[str(label)] = kmf
            frames.append(_curve_frame(kmf, str(label)))
        self.by_ = by
        self.lifelines_ = fitters[ALL] if by is None else fitters
        self._fitters = fitters
        self.curves_ = pl.concat(frames)
        self.n_ = table.height
        self.n_events_ = int(table.get_column(self.event_col).sum())
        self.inactivity_days_ = window
        return self

    @property
    def groups_(self) -> list[str]:
        """The group labels, in order."""
        self._check_fitted()
        return list(self._fitters)

    @property
    def summary(self) -> pl.DataFrame:
        """One row per group: size, events, median lifetime and survival at 1, 2, 3 years.

        Returns
        -------
        pl.DataFrame
            - group: group label
            - n: customers
            - events: churned customers
            - censored: censored customers
            - median_days, median_ci_low, median_ci_high: median lifetime in days and its
              confidence interval (null where the curve does not fall to 0.5)
            - survival_1y, survival_1y_ci_low, survival_1y_ci_high: retention after one
              year (365.25 days) with interval; ``1 - survival_1y`` is the annual
              defection rate of a new customer
            - survival_2y, ..., survival_3y_ci_high: the same at two and three years
              (null beyond the longest observed duration)
            - annual_defection: 1 - survival_1y
        """
        self._check_fitted()
        from lifelines.utils import median_survival_times

        rows = []
        for label, kmf in self._fitters.items():
            med = float(kmf.median_survival_time_)
            ci = median_survival_times(kmf.confidence_interval_)
            lo, hi = (float(v) for v in np.asarray(ci).ravel()[:2])
            row: dict[str, Any] = {
                GROUP: label, "n": int(kmf.event_observed.size),
                "events": int(kmf.event_observed.sum()),
                "censored": int(kmf.event_observed.size - kmf.event_observed.sum()),
                "median_days": _finite(med), "median_ci_low": _finite(lo),
                "median_ci_high": _finite(hi)}
            tmax = float(kmf.durations.max())
            for k in (1, 2, 3):
                t = k * DAYS_PER_YEAR
                s, lo, hi = _at(kmf, t) if t <= tmax else (None, None, None)
                row[f"survival_{k}y"] = s
                row[f"survival_{k}y_ci_low"] = lo
                row[f"survival_{k}y_ci_high"] = hi
            row["annual_defection"] = (None if row["survival_1y"] is None
                                       else 1 - row["survival_1y"])
            rows.append(row)
        return pl.DataFrame(rows, infer_schema_length=None).with_columns(
            pl.exclude(GROUP, "n", "events", "censored").cast(pl.Float64))

    def survival_at(self, times: Sequence[float]) -> pl.DataFrame:
        """Retention of each group at the given days.

        Returns
        -------
        pl.DataFrame
            - group: group label
            - timeline: the requested day
            - survival, ci_low, ci_high: retention and band at that day
        """
        self._check_fitted()
        rows = []
        for label, kmf in self._fitters.items():
            for t in times:
                s, lo, hi = _at(kmf, float(t))
                rows.append({GROUP: label, "timeline": float(t), "survival": s,
                             "ci_low": lo, "ci_high": hi})
        return pl.DataFrame(rows, schema={GROUP: pl.String, "timeline": pl.Float64,
                                          "survival": pl.Float64, "ci_low": pl.Float64,
                                          "ci_high": pl.Float64})

    def at_risk_table(self, times: Sequence[float]) -> pl.DataFrame:
        """Customers still at risk in each group at the given days (for the table under a
        retention chart).

        Returns
        -------
        pl.DataFrame
            - group: group label
            - timeline: the requested day
            - at_risk: customers with duration >= that day (and, with ``entry_col``, who
              entered the data before it)
        """
        self._check_fitted()
        rows = []
        for label, kmf in self._fitters.items():
            d = np.asarray(kmf.durations, dtype=float)
            ent = getattr(kmf, "entry", None)
            ent = np.zeros(d.size) if ent is None else np.asarray(ent, dtype=float)
            for t in times:
                rows.append({GROUP: label, "timeline": float(t),
                             "at_risk": int(((d >= t) & (ent <= t)).sum())})
        return pl.DataFrame(rows, schema={GROUP: pl.String, "timeline": pl.Float64,
                                          "at_risk": pl.Int64})

    def cumulative_hazard(self) -> pl.DataFrame:
        """Nelson-Aalen cumulative hazard per group, with confidence band.

        Returns
        -------
        pl.DataFrame
            - group: group label
            - timeline: days since start
            - cumulative_hazard: Nelson-Aalen estimate
            - ci_low, ci_high: its confidence band (lifelines' log transform)
        """
        self._check_fitted()
        from lifelines import NelsonAalenFitter

        frames = []
        for label, kmf in self._fitters.items():
            naf = NelsonAalenFitter(alpha=1 - self.confidence)
            naf.fit(kmf.durations, kmf.event_observed, entry=getattr(kmf, "entry", None))
            ci = naf.confidence_interval_
            frames.append(pl.DataFrame({
                GROUP: [label] * len(ci), "timeline": naf.cumulative_hazard_.index.to_numpy()
                .astype(float), "cumulative_hazard": naf.cumulative_hazard_.iloc[:, 0]
                .to_numpy(), "ci_low": ci.iloc[:, 0].to_numpy(),
                "ci_high": ci.iloc[:, 1].to_numpy()}))
        return pl.concat(frames)

    def _options(self) -> str:
        return f"confidence={self.confidence}"

    def _describe(self) -> str:
        by = f"; {len(self._fitters)} curves by {self.by_}" if self.by_ else ""
        return (f"fitted on {self.n_:,} customers, {self.n_ - self.n_events_:,} "
                f"censored{by}")


def _finite(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def _at(kmf: Any, t: float) -> tuple[float, float, float]:
    """Survival and band at time t (right-continuous step function)."""
    idx = kmf.survival_function_.index.to_numpy()
    pos = int(np.searchsorted(idx, t, side="right")) - 1
    pos = max(pos, 0)
    s = float(kmf.survival_function_.iloc[pos, 0])
    ci = kmf.confidence_interval_survival_function_
    return s, float(ci.iloc[pos, 0]), float(ci.iloc[pos, 1])


def _curve_frame(kmf: Any, label: str) -> pl.DataFrame:
    ev = kmf.event_table
    sf = kmf.survival_function_
    ci = kmf.confidence_interval_survival_function_
    return pl.DataFrame({
        GROUP: [label] * len(sf),
        "timeline": sf.index.to_numpy().astype(float),
        "survival": sf.iloc[:, 0].to_numpy().astype(float),
        "ci_low": ci.iloc[:, 0].to_numpy().astype(float),
        "ci_high": ci.iloc[:, 1].to_numpy().astype(float),
        "at_risk": ev["at_risk"].to_numpy().astype(np.int64),
        "observed": ev["observed"].to_numpy().astype(np.int64),
        "censored": ev["censored"].to_numpy().astype(np.int64),
    })


def retention_curves(table: Any, *, by: str | None = None,
                     confidence: float = 0.95) -> pl.DataFrame:
    """Kaplan-Meier retention curves as a frame (shortcut for ``KaplanMeier().fit()``).

    Parameters
    ----------
    table : pl.DataFrame
        A survival table from :func:`churn_table`.
    by : str, optional
        Column naming the groups.
    confidence : float
        Coverage of the bands.

    Returns
    -------
    pl.DataFrame
        - group: group label ("all" without ``by``)
        - timeline: days since start
        - survival: retention
        - ci_low, ci_high: pointwise band
        - at_risk: customers at risk just before that time
        - observed: churn events at that time
        - censored: censored at that time

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.churn import retention_curves
    >>> t = pl.DataFrame({"duration": [5.0, 8, 8, 12], "event": [1, 1, 0, 1],
    ...                   "segment": ["a", "a", "b", "b"]})
    >>> retention_curves(t, by="segment").select("group", "timeline", "survival").rows()
    [('a', 0.0, 1.0), ('a', 5.0, 0.5), ('a', 8.0, 0.0), ('b', 0.0, 1.0), ('b', 8.0, 1.0),
     ('b', 12.0, 0.0)]
    """
    return KaplanMeier(confidence=confidence).fit(table, by=by).curves_


def logrank_tests(table: Any, *, by: str, duration_col: str = DURATION,
                  event_col: str = EVENT) -> pl.DataFrame:
    """Log-rank tests of equal retention: across all groups and for every pair.

    Parameters
    ----------
    table : pl.DataFrame
        A survival table.
    by : str
        Column naming the groups (at least two).

    Returns
    -------
    pl.DataFrame
        - comparison: "overall" or "A vs B"
        - group_a, group_b: the pair (null for overall)
        - test_statistic: chi-square statistic
        - df: degrees of freedom (groups - 1 overall, 1 pairwise)
        - p_value: unadjusted p-value
        - p_holm: Holm-adjusted p-value over the pairwise tests (overall: unadjusted)

    Notes
    -----
    lifelines' ``multivariate_logrank_test`` and ``logrank_test`` (Mantel-Cox, equal
    weights), the same as R's ``survdiff(rho=0)``.

    Examples
    --------
    >>> from lifelines.datasets import load_waltons
    >>> import polars as pl
    >>> from loyaltylab.churn import logrank_tests
    >>> w = pl.from_pandas(load_waltons())
    >>> r = logrank_tests(w, by="group", duration_col="T", event_col="E")
    >>> round(r["test_statistic"][0], 2)
    122.25
    """
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    table = _check_table(table, duration_col=duration_col, event_col=event_col)
    g = _group_labels(table, by).to_numpy()
    d = table.get_column(duration_col).cast(pl.Float64).to_numpy()
    e = table.get_column(event_col).cast(pl.Int64).to_numpy()
    labels = sorted(set(g.tolist()), key=str)
    if len(labels) < 2:
        raise ValueError(f"by={by!r}: log-rank tests need at least two groups, found "
                         f"{labels}")
    overall = multivariate_logrank_test(d, g, e)
    rows = [{"comparison": "overall", "group_a": None, "group_b": None,
             "test_statistic": float(overall.test_statistic),
             "df": len(labels) - 1, "p_value": float(overall.p_value)}]
    for a, b in itertools.combinations(labels, 2):
        ma, mb = g == a, g == b
        r = logrank_test(d[ma], d[mb], e[ma], e[mb])
        rows.append({"comparison": f"{a} vs {b}", "group_a": a, "group_b": b,
                     "test_statistic": float(r.test_statistic), "df": 1,
                     "p_value": float(r.p_value)})
    out = pl.DataFrame(rows, schema={"comparison": pl.String, "group_a": pl.String,
                                     "group_b": pl.String, "test_statistic": pl.Float64,
                                     "df": pl.Int64, "p_value": pl.Float64})
    p = out.get_column("p_value").to_numpy()[1:]
    return out.with_columns(pl.Series("p_holm", [float(out["p_value"][0]), *holm(p)]))
