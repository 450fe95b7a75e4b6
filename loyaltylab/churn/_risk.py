"""Who is about to leave: at-risk call list, validation on later data, early-life churn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from loyaltylab._stats import rate_columns, z_value
from loyaltylab._util import parse_window, resolve_as_of, to_datetime
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.churn._cox import CoxModel
from loyaltylab.churn._km import _check_table, _group_labels
from loyaltylab.churn._parametric import LifetimeModel
from loyaltylab._result import FrameResult
from loyaltylab.churn._table import (DAYS_PER_YEAR, DURATION, END, EVENT, LAST_ACTIVE,
                                     N_ORDERS, START, ChurnTable, churn_table)
from loyaltylab.churn._table import _days as _span_days

__all__ = ["at_risk_list", "AtRiskList", "calibration_table", "brier_score",
           "time_split_validation", "ChurnValidation", "early_life_hazard"]


def _days(window: Any, name: str) -> float:
    return parse_window(window, name=name) / timedelta(days=1)


@dataclass(frozen=True, eq=False, repr=False)
class AtRiskList(FrameResult):
    """The call list of :func:`at_risk_list` and how it was ranked.

    Attributes
    ----------
    frame : pl.DataFrame
        One row per listed customer (columns listed in :func:`at_risk_list`).
    ranked_by : str
        "p_lapse" (inactivity rule known), "p_stopped" (asked for with ``rank_by``) or
        "p_churn" (contract table, ``inactivity=False``, or BG/NBD not fitted).
    horizon_days : float
        The window of the probabilities, in days.
    inactivity_days : float or None
        The inactivity window of the churn rule used for ``p_lapse``.
    n_left_out : int
        Active customers left out for a missing covariate.

    Reading passes through to the frame and row filters keep the object, as for
    :class:`~loyaltylab.churn.ChurnTable`.
    """

    ranked_by: str = "p_churn"
    horizon_days: float = 90.0
    inactivity_days: float | None = None
    n_left_out: int = 0

    def _summary(self) -> tuple[str, list[str]]:
        if self.ranked_by == "p_stopped":
            lines = ["ranked by the chance that they have already stopped buying, judged "
                     "against their own buying rhythm"]
        else:
            how = ("the chance the inactivity rule "
                   f"({self.inactivity_days:g} days) counts them lost"
                   if self.ranked_by == "p_lapse" else "the Cox model's chance of churning")
            lines = [f"ranked by {how} within {self.horizon_days:g} days"]
        if self.n_left_out:
            lines.append(f"{self.n_left_out:,} active customers left out: a covariate is "
                         f"missing")
        return f"At-risk list: {self.frame.height:,} customers", lines


def at_risk_list(table: ChurnTable | pl.DataFrame, model: CoxModel, *,
                 lifetime: LifetimeModel | None = None,
                 horizon: str | int | timedelta = "90d", top: int | None = None,
                 drivers: int = 3, inactivity: str | int | timedelta | bool | None = None,
                 rank_by: Literal["p_lapse", "p_stopped"] = "p_lapse") -> AtRiskList:
    """The call list: active customers ranked by how likely they are to be lost soon.

    Parameters
    ----------
    table : ChurnTable or pl.DataFrame
        A survival table from :func:`churn_table` (also filtered); only active
        (censored) customers are listed. A plain frame does not say which churn rule built
        it: pass ``inactivity`` with it.
    model : CoxModel
        A fitted Cox model (gives ``p_churn``, the risk score and the drivers).
    lifetime : LifetimeModel, optional
        A fitted parametric model for the expected remaining lifetime; without it the
        column is null (Cox cannot extrapolate beyond the data).
    horizon : str, int or timedelta
        Window of the probabilities, "90d" by default.
    top : int, optional
        Keep only the first ``top`` customers.
    drivers : int
        How many drivers to name per customer.
    inactivity : str, int, timedelta or False, optional
        The inactivity window of the table's churn rule. Read from the
        :class:`ChurnTable` when omitted (contract tables have none: ``p_lapse`` is then
        null and the list is ranked by ``p_churn``). Required with a plain frame: the
        window (e.g. "180d"), or ``False`` to rank by ``p_churn`` alone.
    rank_by : {"p_lapse", "p_stopped"}
        "p_lapse" (default): who the inactivity rule will count as lost next. That list is
        led by customers whose silence is simply close to the rule's threshold, whom the
        rule counts as lost whatever anyone does. "p_stopped" ranks by 1 - ``p_alive``
        instead, the chance that the customer has already stopped buying given their own
        rhythm (a weekly buyer silent for two months above a twice-a-year buyer silent
        for five): the list to call (the report's). Customers without a repeat order have
        no rhythm to break (``p_alive`` = 1) and come last, by ``p_churn``. It needs the
        inactivity rule, like ``p_lapse``.

    Returns
    -------
    AtRiskList
        ``ranked_by``, ``horizon_days``, ``inactivity_days``, ``n_left_out`` and the frame
        (``.frame``; reading passes through to it): one row per active customer with
        complete covariates, the most likely to be lost first (by ``p_lapse``, then
        ``p_churn``; by ``p_churn`` alone without ``p_lapse``):

        - rank: 1 = call first
        - customer_id: the customer
        - tenure_days: days since the lifetime began (the table's duration)
        - silent_days: days since the last order (null for contract tables)
        - p_alive: BG/NBD probability that the customer is still an active buyer
        - p_lapse: probability that the inactivity rule declares the customer churned
          within ``horizon`` (see Notes)
        - p_churn: Cox probability of churning within ``horizon`` given they are active
          now (tenure and covariates; blind to silence)
        - expected_remaining_days: expected remaining lifetime (null without ``lifetime``)
        - risk_score: relative hazard exp(x'beta) (1 = a customer at the covariate means)
        - drivers: the covariates raising this customer's hazard most against an average
          customer, with the factor each contributes
        - p_stopped: 1 - ``p_alive`` (only with ``rank_by="p_stopped"``)

    Notes
    -----
    ``p_churn`` = P(churn in (d, d+h] | T > d) = 1 - S(d+h | x)/S(d | x) with S from the
    Cox model (lifelines' ``conditional_after``). It knows the customer's tenure and
    covariates but not how long they have been silent, which under an inactivity rule is
    what decides who is lost next.

    ``p_lapse`` answers that. Under the rule "churned after W days without an order", a
    customer silent for s days is declared churned within the horizon h only if
    s >= W - h and they do not order in the W - s days left. With a BG/NBD model (Fader,
    Hardie & Lee 2005) fitted to the whole table (frequency = orders - 1, recency and
    age in weeks from the first order to the last order and to as_of), a customer alive
    at as_of keeps buying at a rate whose posterior is Gamma(r + x, alpha + T), so

        P(no order in k more weeks) = (1 - P_alive) + P_alive ((alpha + T)/(alpha + T + k))^(r + x)

    and ``p_lapse`` is that probability with k = (W - s)/7, or 0 when s < W - h.
    On the simulated sample (as of 2025-03-31, 90 days ahead) the probabilities summed to
    133 lapses against 137 observed, and 82 of the 100 highest ``p_lapse`` lapsed,
    against 15 of the 100 highest ``p_churn``. Active customers with a missing covariate
    are left out; their count is the result's ``n_left_out``.

    A plain frame without ``inactivity`` raises ``ValueError``: the ranking depends on
    the churn rule, and a silent switch to ``p_churn`` would change what the list means.

    Examples
    --------
    >>> import polars as pl
    >>> from lifelines.datasets import load_rossi
    >>> from loyaltylab.churn import CoxModel, at_risk_list
    >>> t = pl.from_pandas(load_rossi()).rename({"week": "duration", "arrest": "event"})
    >>> t = t.with_row_index("customer_id").with_columns(pl.col("customer_id").cast(pl.String))
    >>> cox = CoxModel(covariates=["fin", "age", "prio"]).fit(t)
    >>> calls = at_risk_list(t, cox, horizon=10, top=3, inactivity=False)
    >>> calls.ranked_by
    'p_churn'
    >>> calls.columns
    ['rank', 'customer_id', 'tenure_days', 'silent_days', 'p_alive', 'p_lapse', 'p_churn',
     'expected_remaining_days', 'risk_score', 'drivers']
    >>> calls["p_churn"].is_sorted(descending=True)
    True
    """
    if rank_by not in ("p_lapse", "p_stopped"):
        raise ValueError(f"rank_by: expected 'p_lapse' or 'p_stopped', got {rank_by!r}")
    window = _rule_window(table, inactivity)
    table = _check_table(table, duration_col=model.duration_col, event_col=model.event_col)
    h = _days(horizon, "horizon")
    model._check_fitted()
    lapse = _lapse_probabilities(table, window, h)
    active = table.filter(pl.col(model.event_col) == 0)
    complete = active.drop_nulls(subset=model.covariates_)
    left_out = active.height - complete.height
    p = model.predict_churn_probability(complete, horizon=h, after=model.duration_col)
    ranked = complete.with_columns(p.alias("_p"))
    if lapse is not None:
        key = pl.col("p_lapse") if rank_by == "p_lapse" else 1.0 - pl.col("p_alive")
        ranked = (ranked.join(lapse, on=S.CUSTOMER_ID, how="left")
                  .sort([key, "_p", S.CUSTOMER_ID], descending=[True, True, False],
                        nulls_last=True))
    else:
        ranked = (ranked.with_columns(pl.lit(None, pl.Float64).alias("silent_days"),
                                      pl.lit(None, pl.Float64).alias("p_alive"),
                                      pl.lit(None, pl.Float64).alias("p_lapse"))
                  .sort(["_p", S.CUSTOMER_ID], descending=[True, False]))
    if top is not None:
        ranked = ranked.head(top)
    risk = model.predict_risk_score(ranked)
    drv = model.drivers(ranked, top=drivers)
    if lifetime is not None:
        rem = lifetime.predict_remaining(ranked, after=model.duration_col)
    else:
        rem = pl.Series("expected_remaining_days", [None] * ranked.height, pl.Float64)
    out = pl.DataFrame({
        S.CUSTOMER_ID: ranked.get_column(S.CUSTOMER_ID),
        "tenure_days": ranked.get_column(model.duration_col).cast(pl.Float64),
        "silent_days": ranked.get_column("silent_days"),
        "p_alive": ranked.get_column("p_alive"), "p_lapse": ranked.get_column("p_lapse"),
        "p_churn": ranked.get_column("_p"), "expected_remaining_days": rem,
        "risk_score": risk, "drivers": drv,
    }).with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))
    if rank_by == "p_stopped":
        out = out.with_columns((1.0 - pl.col("p_alive")).alias("p_stopped"))
    return AtRiskList(out, ranked_by=rank_by if lapse is not None else "p_churn",
                      horizon_days=h, inactivity_days=window if lapse is not None else None,
                      n_left_out=left_out)


_LAPSE_COLUMNS = (S.CUSTOMER_ID, START, LAST_ACTIVE, END, EVENT, N_ORDERS)


def _rule_window(table: Any, inactivity: Any = None) -> float | None:
    """The inactivity window (days) of ``table``'s churn rule: ``inactivity`` when given
    (None for ``False``), else the one the :class:`ChurnTable` records (None for contract
    tables). A plain frame without ``inactivity`` raises: nothing says which rule built it.
    """
    if inactivity is False:
        return None
    if inactivity is not None and inactivity is not True:
        return _days(inactivity, "inactivity")
    if isinstance(table, ChurnTable):
        return table.report.inactivity_days
    raise ValueError(
        f"table: a plain {type(table).__name__} does not say which churn rule built it, "
        f"so the list cannot tell whether to rank by the chance of lapsing under the "
        f"inactivity rule or by the Cox chance of churning. Pass the ChurnTable returned "
        f"by churn_table() (its filter() keeps the rule), or inactivity='180d' (the "
        f"window the table was built with), or inactivity=False to rank by p_churn alone")


def _lapse_probabilities(table: pl.DataFrame, window: float | None, horizon: float
                         ) -> pl.DataFrame | None:
    """customer_id, silent_days, p_alive, p_lapse of the active customers (see
    :func:`at_risk_list`), or None without an inactivity ``window``, or when the table
    lacks the columns or BG/NBD cannot be fitted (with a warning saying why)."""
    import warnings

    from loyaltylab.clv import BetaGeo
    from loyaltylab.exceptions import LoyaltyLabError

    if window is None:
        return None
    missing = [c for c in _LAPSE_COLUMNS if c not in table.columns]
    if missing:
        warnings.warn(f"at_risk_list: the table has no {missing} column(s), so p_lapse "
                      f"(which needs an inactivity churn table) is left out", stacklevel=3)
        return None
    week = 7.0
    as_of = table.get_column(END).max()
    rfm = table.select(
        S.CUSTOMER_ID, EVENT,
        (pl.col(N_ORDERS) - 1).cast(pl.Float64).alias("frequency"),
        (_span_days(pl.col(LAST_ACTIVE) - pl.col(START)) / week).alias("recency"),
        (_span_days(pl.lit(as_of) - pl.col(START)) / week).alias("T"),
        _span_days(pl.col(END) - pl.col(LAST_ACTIVE)).alias("silent_days"))
    try:
        bg = BetaGeo().fit(rfm.select("frequency", "recency", "T"))
    except (LoyaltyLabError, ValueError) as exc:
        warnings.warn(f"at_risk_list: BG/NBD could not be fitted to the table ({exc}); "
                      f"p_lapse is left out", stacklevel=3)
        return None
    act = rfm.filter(pl.col(EVENT) == 0)
    x = act.get_column("frequency").to_numpy()
    T = act.get_column("T").to_numpy()
    silent = act.get_column("silent_days").to_numpy()
    alive = np.asarray(bg.probability_alive(x, act.get_column("recency").to_numpy(), T),
                       dtype=float)
    r, alpha = bg.params_["r"], bg.params_["alpha"]
    k = np.maximum(window - silent, 0.0) / week
    no_order = (1 - alive) + alive * ((alpha + T) / (alpha + T + k)) ** (r + x)
    p_lapse = np.where(window - silent <= horizon, no_order, 0.0)
    return pl.DataFrame({S.CUSTOMER_ID: act.get_column(S.CUSTOMER_ID),
                         "silent_days": silent, "p_alive": alive, "p_lapse": p_lapse})


def calibration_table(predicted: Any, observed: Any, *, bins: int = 10,
                      confidence: float = 0.95) -> pl.DataFrame:
    """Predicted against observed churn, by bins of predicted probability.

    Parameters
    ----------
    predicted : array-like of float
        Predicted churn probabilities.
    observed : array-like of 0/1
        What happened.
    bins : int
        Number of equal-count bins (fewer when predictions tie).

    Returns
    -------
    pl.DataFrame
        - bin: 1 = lowest predicted risk
        - n: customers in the bin
        - mean_predicted: average predicted probability
        - churned: customers who churned
        - observed_rate: churned / n
        - ci_low, ci_high: Wilson interval of the observed rate

    Examples
    --------
    >>> calibration_table([0.1, 0.1, 0.9, 0.9], [0, 0, 1, 0], bins=2).select(
    ...     "bin", "n", "mean_predicted", "observed_rate").rows()
    [(1, 2, 0.1, 0.0), (2, 2, 0.9, 0.5)]
    """
    p = np.asarray(predicted, dtype=float)
    y = np.asarray(observed, dtype=float)
    if p.shape != y.shape:
        raise ValueError(f"predicted and observed differ in length ({p.size} vs {y.size})")
    order = np.argsort(p, kind="stable")
    ranks = np.empty(p.size)
    ranks[order] = np.arange(p.size)
    b = (ranks * bins // max(p.size, 1)).astype(np.int64) + 1
    df = pl.DataFrame({"bin": b, "p": p, "y": y})
    return (df.group_by("bin").agg(pl.len().cast(pl.Int64).alias("n"),
                                   pl.col("p").mean().alias("mean_predicted"),
                                   pl.col("y").sum().cast(pl.Int64).alias("churned"))
            .sort("bin")
            .with_columns(*rate_columns("churned", "n", confidence=confidence))
            .rename({"value": "observed_rate"}))


def brier_score(predicted: Any, observed: Any) -> float:
    """Mean squared difference between predicted probability and outcome (0 is perfect).

    Parameters
    ----------
    predicted : sequence of float
        Predicted probabilities of the event, in [0, 1].
    observed : sequence of {0, 1}
        Whether the event happened, in the same order.

    Returns
    -------
    float
        The mean of (predicted - observed)^2.

    Examples
    --------
    >>> brier_score([0.2, 0.8], [0, 1])
    0.04
    """
    p = np.asarray(predicted, dtype=float)
    y = np.asarray(observed, dtype=float)
    return float(round(np.mean((p - y) ** 2), 12))


def _auc(p: np.ndarray, y: np.ndarray) -> float:
    pos, neg = y == 1, y == 0
    if not pos.any() or not neg.any():
        return float("nan")
    r = stats.rankdata(p)
    return float((r[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * neg.sum()))


@dataclass
class ChurnValidation:
    """Result of :func:`time_split_validation`.

    Attributes
    ----------
    cutoff : datetime
        Models were fitted on what was known at this date.
    horizon_days : float
        Churn within this many days after the cutoff is what was predicted.
    model : CoxModel
        The model fitted on data up to the cutoff.
    predictions : pl.DataFrame
        customer_id, p_churn (Cox), p_lapse (the chance that the inactivity rule declares
        the customer lost within the horizon, :func:`at_risk_list`'s ranking), p_stopped
        (1 - BG/NBD p_alive: the chance the customer has already stopped buying, the
        ranking of the report's call list); both null for contract tables; churned (0/1
        observed after the cutoff).
    calibration : pl.DataFrame
        :func:`calibration_table` of the predictions.
    brier : float
        Brier score of the predictions.
    brier_reference : float
        Brier score of predicting the training-period base rate for everyone.
    brier_skill : float
        1 - brier / brier_reference (above 0: better than the base rate).
    auc : float
        Probability that a churner got a higher prediction than a stayer.
    concordance : float
        Harrell's C of the Cox model on the same customers' full survival data.
    brier_lapse, auc_lapse : float
        The same scores for ``p_lapse`` (NaN when it is null).
    expected_lapses : float
        Sum of ``p_lapse``: how many customers the inactivity rule was expected to declare
        lost within the horizon.
    auc_stopped : float
        AUC of ``p_stopped`` (NaN when it is null). It is not a probability of churning
        within the horizon, so it has no Brier score.
    """

    cutoff: Any
    horizon_days: float
    model: CoxModel
    predictions: pl.DataFrame
    calibration: pl.DataFrame
    brier: float
    brier_reference: float
    brier_skill: float
    auc: float
    concordance: float
    brier_lapse: float = float("nan")
    auc_lapse: float = float("nan")
    expected_lapses: float = float("nan")
    auc_stopped: float = float("nan")

    def hits(self, n: int = 100, *, by: str = "p_lapse") -> int:
        """How many of the ``n`` customers ranked highest by ``by`` ("p_lapse",
        "p_stopped" for the report's call list, or "p_churn") churned within the horizon.

        Examples
        --------
        >>> import loyaltylab as ll
        >>> from datetime import timedelta
        >>> data = ll.datasets.load_sample()
        >>> v = ll.churn.time_split_validation(data, cutoff=data.as_of - timedelta(days=180),
        ...                                    covariates=["segment", "orders_90d"])
        >>> v.hits(100, by="p_lapse") > v.hits(100, by="p_churn")
        True
        """
        if by not in ("p_lapse", "p_stopped", "p_churn"):
            raise ValueError(f"by: expected 'p_lapse', 'p_stopped' or 'p_churn', got {by!r}")
        ranked = self.predictions.sort([by, S.CUSTOMER_ID], descending=[True, False],
                                       nulls_last=True)
        return int(ranked.head(n).get_column("churned").sum())

    def __repr__(self) -> str:
        n = self.predictions.height
        rate = float(self.predictions["churned"].mean()) if n else float("nan")
        return (f"ChurnValidation: fitted up to {self.cutoff:%Y-%m-%d}, {n:,} active "
                f"customers followed {self.horizon_days:g} days ({rate:.1%} churned); "
                f"Brier {self.brier:.4f} vs {self.brier_reference:.4f} base rate "
                f"(skill {self.brier_skill:.3f}), AUC {self.auc:.3f}"
                + ("" if self.expected_lapses != self.expected_lapses else
                   f"; lapse under the rule (p_lapse): {self.expected_lapses:.0f} expected, "
                   f"{int(self.predictions['churned'].sum())} observed, Brier "
                   f"{self.brier_lapse:.4f}, AUC {self.auc_lapse:.3f}")
                + ("" if self.auc_stopped != self.auc_stopped else
                   f"; stopped buying (p_stopped, the report's call list): AUC "
                   f"{self.auc_stopped:.3f}"))


def time_split_validation(data: CRMData, *, cutoff: Any, horizon: Any = "90d",
                          covariates: Sequence[str] | None = None, bins: int = 10,
                          as_of: Any = None, penalizer: float | str = 0.0,
                          **table_options: Any) -> ChurnValidation:
    """Fit on data up to ``cutoff``, then check the churn predictions on what happened next.

    Parameters
    ----------
    data : CRMData
        The whole dataset.
    cutoff : date, datetime or str
        The model sees only what was known at this date.
    horizon : str, int or timedelta
        Predict churn within this window after the cutoff.
    covariates : list of str, optional
        Cox covariates (default as in :class:`CoxModel`).
    bins : int
        Bins of the calibration table.
    as_of : optional
        End of the data (default ``data.as_of``); must be at least ``horizon`` after
        ``cutoff`` so every outcome is known.
    penalizer : float or "auto"
        Passed to :class:`CoxModel`. Above 0 (0.1 is a common choice) it keeps the hazard
        ratio of a group in which nobody churned before the cutoff finite; with 0 such a
        group raises :class:`~loyaltylab.exceptions.SeparationError`; "auto" adds the
        penalty only then (``result.model.penalty_cause_`` says why).
    **table_options
        Passed to :func:`churn_table` (``definition``, ``inactivity``, ...).

    Returns
    -------
    ChurnValidation
        Predictions, calibration table, Brier score (with base-rate reference), AUC and
        concordance of the Cox ``p_churn``; Brier, AUC and expected lapses of
        :func:`at_risk_list`'s ``p_lapse`` and the AUC of the report's call list's
        ``p_stopped`` (inactivity tables); ``hits(n, by=...)`` counts the churners among
        the first n of any of the three rankings.

    Notes
    -----
    A customer active at the cutoff counts as churned when the churn table built at
    ``as_of`` dates their churn (its ``end`` column) within ``horizon`` of the cutoff.
    """
    cut = to_datetime(cutoff, name="cutoff")
    T = resolve_as_of(data, as_of)
    h = parse_window(horizon, name="horizon")
    if cut + h > T:
        raise ValueError(f"cutoff: {cut:%Y-%m-%d} + horizon {h.days} days runs past the end "
                         f"of the data ({T:%Y-%m-%d}), so outcomes are unknown; choose a "
                         f"cutoff on or before {(T - h):%Y-%m-%d}")
    train = churn_table(data, as_of=cut, **table_options)
    full = churn_table(data, as_of=T, **table_options)
    model = CoxModel(covariates=covariates, penalizer=penalizer).fit(train)
    active = train.filter(pl.col(EVENT) == 0).drop_nulls(subset=model.covariates_)
    outcome = full.select(S.CUSTOMER_ID, ((pl.col(EVENT) == 1) & (pl.col(END) <= cut + h))
                          .cast(pl.Int64).alias("churned"))
    active = active.join(outcome, on=S.CUSTOMER_ID, how="left").with_columns(
        pl.col("churned").fill_null(0))
    p = model.predict_churn_probability(active, horizon=h / timedelta(days=1))
    y = active.get_column("churned").to_numpy()
    preds = pl.DataFrame({S.CUSTOMER_ID: active.get_column(S.CUSTOMER_ID), "p_churn": p,
                          "churned": active.get_column("churned")})
    lapse = _lapse_probabilities(train, _rule_window(train), h / timedelta(days=1))
    if lapse is not None:
        preds = preds.join(lapse.select(S.CUSTOMER_ID, "p_lapse",
                                        (1.0 - pl.col("p_alive")).alias("p_stopped")),
                           on=S.CUSTOMER_ID, how="left", maintain_order="left")
    else:
        preds = preds.with_columns(pl.lit(None, pl.Float64).alias("p_lapse"),
                                   pl.lit(None, pl.Float64).alias("p_stopped"))
    preds = preds.select(S.CUSTOMER_ID, "p_churn", "p_lapse", "p_stopped", "churned")
    pl_ = preds.get_column("p_lapse")
    lapse_scores = ((brier_score(pl_.to_numpy(), y), _auc(pl_.to_numpy(), y), float(pl_.sum()))
                    if pl_.null_count() == 0 and pl_.len() else (float("nan"),) * 3)
    ps = preds.get_column("p_stopped")
    auc_stopped = (_auc(ps.to_numpy(), y) if ps.null_count() == 0 and ps.len()
                   else float("nan"))
    brier = brier_score(p.to_numpy(), y)
    base = float(model.predict_churn_probability(
        train.filter(pl.col(EVENT) == 0).drop_nulls(subset=model.covariates_),
        horizon=h / timedelta(days=1)).mean())
    ref = brier_score(np.full(y.size, base), y)
    held = full.join(active.select(S.CUSTOMER_ID), on=S.CUSTOMER_ID)
    conc = model.concordance(held)
    return ChurnValidation(cut, h / timedelta(days=1), model, preds,
                           calibration_table(p.to_numpy(), y, bins=bins), brier, ref,
                           1 - brier / ref if ref > 0 else float("nan"), _auc(p.to_numpy(), y),
                           conc, *lapse_scores, auc_stopped)


def early_life_hazard(table: Any, *, by: str | None = S.ACQUISITION_CHANNEL,
                      early: Any = "90d", shift: Any = 0, confidence: float = 0.95,
                      duration_col: str = DURATION, event_col: str = EVENT) -> pl.DataFrame:
    """Churn hazard in the first ``early`` days against later, per group.

    First impressions set expectations: a high early hazard points at onboarding.

    Parameters
    ----------
    table : pl.DataFrame
        A survival table.
    by : str, optional
        Grouping column (acquisition channel by default; None for everyone).
    early : str, int or timedelta
        Length of the early-life period.
    shift : str, int or timedelta
        Subtracted from every duration before splitting. For tables from the inactivity
        definition pass the inactivity window (e.g. "180d"): churn is then dated at the last
        order and censoring at as_of minus the window, so a customer who never came back
        after the first order counts as an early churner. Customers whose shifted duration
        is negative (started within the window before as_of) are left out.
    confidence : float
        Coverage of the intervals.

    Returns
    -------
    pl.DataFrame
        One row per group:

        - group: group label
        - customers: customers contributing
        - events_early, exposure_early_years: churn events and customer-years at risk in
          the early period
        - hazard_early: events per customer-year in the early period
        - events_later, exposure_later_years, hazard_later: the same after it
        - hazard_ratio: hazard_early / hazard_later
        - ci_low, ci_high: interval of the ratio (log scale, Poisson counts)

    Notes
    -----
    A piecewise-constant (exponential) hazard per period: events divided by time at risk.
    The log rate ratio has standard error sqrt(1/events_early + 1/events_later).

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"duration": [30.0, 60, 200, 400], "event": [1, 1, 1, 0]})
    >>> r = early_life_hazard(t, by=None, early=90)
    >>> r.select("events_early", "events_later").rows()
    [(2, 1)]
    >>> # early exposure 30+60+90+90 = 270 days, later 110+310 = 420 days
    >>> round(r["hazard_ratio"][0], 3)  # (2 / 270) / (1 / 420)
    3.111
    """
    table = _check_table(table, duration_col=duration_col, event_col=event_col)
    e_days = _days(early, "early")
    s_days = _days(shift, "shift") if shift not in (0, None) else 0.0
    t = table.with_columns((pl.col(duration_col).cast(pl.Float64) - s_days).alias("_t"),
                           _group_labels(table, by))
    t = t.filter(pl.col("_t") >= 0)
    ev = pl.col(event_col) == 1
    agg = t.group_by("group").agg(
        pl.len().cast(pl.Int64).alias("customers"),
        (ev & (pl.col("_t") < e_days)).sum().cast(pl.Int64).alias("events_early"),
        (pl.col("_t").clip(upper_bound=e_days).sum() / DAYS_PER_YEAR)
        .alias("exposure_early_years"),
        (ev & (pl.col("_t") >= e_days)).sum().cast(pl.Int64).alias("events_later"),
        ((pl.col("_t") - e_days).clip(lower_bound=0).sum() / DAYS_PER_YEAR)
        .alias("exposure_later_years"),
    ).sort("group")
    z = z_value(confidence)
    agg = agg.with_columns(
        (pl.col("events_early") / pl.col("exposure_early_years")).alias("hazard_early"),
        (pl.col("events_later") / pl.col("exposure_later_years")).alias("hazard_later"),
    ).with_columns((pl.col("hazard_early") / pl.col("hazard_later")).alias("hazard_ratio"))
    se = (1 / pl.col("events_early").cast(pl.Float64)
          + 1 / pl.col("events_later").cast(pl.Float64)).sqrt()
    ok = (pl.col("events_early") > 0) & (pl.col("events_later") > 0)
    agg = agg.with_columns(
        pl.when(ok).then(pl.col("hazard_ratio") * (-z * se).exp()).alias("ci_low"),
        pl.when(ok).then(pl.col("hazard_ratio") * (z * se).exp()).alias("ci_high"))
    return agg.select("group", "customers", "events_early", "exposure_early_years",
                      "hazard_early", "events_later", "exposure_later_years", "hazard_later",
                      "hazard_ratio", "ci_low", "ci_high")
