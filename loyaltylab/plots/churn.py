"""Charts for loyaltylab.churn results: retention curves, hazard ratios, cumulative hazard,
calibration and the at-risk call list. Each draws a result frame and computes nothing."""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.transforms import blended_transform_factory

from loyaltylab._units import DAYS_PER_MONTH, DAYS_PER_WEEK, DAYS_PER_YEAR
from loyaltylab.plots._style import (
    MIN_FONT_PT, add_footnote, error_lengths, color_cycle, forest, get_ax, legend_above,
    literal_text)

__all__ = ["plot_retention", "plot_hazard_ratios", "plot_cumulative_hazard",
           "plot_calibration", "plot_at_risk_list"]

_UNITS = {"days": 1.0, "weeks": DAYS_PER_WEEK, "months": DAYS_PER_MONTH,
          "years": DAYS_PER_YEAR}


def _unit(unit: str) -> float:
    try:
        return _UNITS[unit]
    except KeyError:
        raise ValueError(f"unit: expected one of {list(_UNITS)}, got {unit!r}") from None


def _need(frame: pl.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: the frame lacks columns {missing}; pass the result of "
                         f"the matching loyaltylab.churn function")


def plot_retention(curves: Any, *, at_risk: pl.DataFrame | None = None, ax: Axes | None = None,
                   unit: str = "months", bands: bool = True, title: str | None = None,
                   at_risk_every: float | None = None,
                   waiting_days: float | None = None) -> Axes:
    """Kaplan-Meier retention curves by group, with confidence bands and an at-risk table.

    Parameters
    ----------
    curves : pl.DataFrame or KaplanMeier
        ``KaplanMeier.curves_`` / :func:`~loyaltylab.churn.retention_curves` (columns group,
        timeline, survival, ci_low, ci_high), or a fitted ``KaplanMeier`` (its curves and
        at-risk table are used).
    at_risk : pl.DataFrame, optional
        ``KaplanMeier.at_risk_table(times)`` (group, timeline, at_risk) printed under the
        chart.
    unit : {"days", "weeks", "months", "years"}
        Unit of the x axis (timelines are in days).
    bands : bool
        Shade the confidence bands.
    at_risk_every : float, optional
        With a fitted ``KaplanMeier``: spacing of the at-risk columns in ``unit``.
    waiting_days : float, optional
        The churn rule's inactivity window in days: nobody can be declared lost before
        that many days without an order, so every curve stays at 100 % until then. The
        span is shaded and explained on the chart. By default the window the churn table
        recorded (``churn_table(...).report.inactivity_days``, kept by ``KaplanMeier.fit``
        as ``inactivity_days_``); none for contract tables.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.churn import KaplanMeier
    >>> from loyaltylab.plots import plot_retention
    >>> t = pl.DataFrame({"duration": [30.0, 90, 200, 400], "event": [1, 0, 1, 0],
    ...                   "segment": ["a", "a", "b", "b"]})
    >>> ax = plot_retention(KaplanMeier().fit(t, by="segment"), unit="days",
    ...                     at_risk_every=100)
    >>> ax.get_title()
    'Retention by group, 4 customers (Kaplan-Meier, 95 % bands)'
    """
    if hasattr(curves, "curves_"):
        km = curves
        if waiting_days is None:
            waiting_days = getattr(km, "inactivity_days_", None)
        curves = km.curves_
        if at_risk is None:
            tmax = float(curves["timeline"].max())
            step = (at_risk_every or (6 if unit == "months" else 1)) * _unit(unit)
            at_risk = km.at_risk_table(list(np.arange(0.0, tmax + 1e-9, step)))
    _need(curves, ["group", "timeline", "survival", "ci_low", "ci_high"], "curves")
    k = _unit(unit)
    ax = get_ax(ax)
    groups = curves["group"].unique(maintain_order=True).to_list()
    colors = color_cycle(len(groups))
    n_total = 0
    for g, col in zip(groups, colors):
        c = curves.filter(pl.col("group") == g)
        x = c["timeline"].to_numpy() / k
        n = int(c["at_risk"][0]) if "at_risk" in c.columns else None
        n_total += n or 0
        label = f"{g} (n = {n:,})" if n is not None else str(g)
        ax.step(x, c["survival"].to_numpy(), where="post", color=col, label=label, lw=1.6)
        if bands:
            ax.fill_between(x, c["ci_low"].to_numpy(), c["ci_high"].to_numpy(), step="post",
                            color=col, alpha=0.18, lw=0)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(f"{unit} since start")
    ax.set_ylabel("share still active (retention)")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    if waiting_days:
        ax.axvspan(0, waiting_days / k, color="#777777", alpha=0.13, lw=0,
                   label=f"waiting period ({waiting_days:,.0f} days)")
        ax.text(waiting_days / k * 0.04, 0.04,
                f"Nobody counts as lost before\n{waiting_days:,.0f} days without an "
                f"order:\nthe churn rule waits that long.",
                transform=trans, ha="left", va="bottom", color="#333333")
    pad = 6.0
    if len(groups) > 1 or groups != ["all"] or waiting_days:
        pad = legend_above(ax, ncol=3 if len(groups) > 2 else 2)
    what = "Retention" if groups == ["all"] else "Retention by group"
    ax.set_title(title or f"{what}, {n_total:,} customers (Kaplan-Meier, 95 % bands)",
                 pad=pad)
    if at_risk is not None:
        _need(at_risk, ["group", "timeline", "at_risk"], "at_risk")
        times = sorted(set(at_risk["timeline"].to_list()))
        ax.set_xticks([t / k for t in times])
        # the at-risk table under the axis label, in points so it never meets the labels
        size, below = MIN_FONT_PT["text"], 3.3 * MIN_FONT_PT["tick"] + 8
        left = -6 - 0.3 * size * len(f"{int(at_risk['at_risk'].max() or 0):,}")
        ax.annotate("At risk", (0, 0), xycoords="axes fraction", xytext=(left, -below),
                    textcoords="offset points", ha="right", va="top", fontsize=size,
                    fontweight="bold")
        for i, (g, col) in enumerate(zip(groups, colors)):
            yy = -below - 1.35 * size * (i + 1)
            if groups != ["all"]:
                ax.annotate(str(g)[:16], (0, 0), xycoords="axes fraction", xytext=(left, yy),
                            textcoords="offset points", ha="right", va="top",
                            fontsize=size, color=col)
            a = at_risk.filter(pl.col("group") == g)
            for t, v in zip(a["timeline"].to_list(), a["at_risk"].to_list()):
                ax.annotate(f"{v:,}", (t / k, 0), xycoords=trans, xytext=(0, yy),
                            textcoords="offset points", ha="center", va="top",
                            fontsize=size)
    return literal_text(ax)


def plot_hazard_ratios(summary: pl.DataFrame, *, ax: Axes | None = None,
                       truth: Mapping[str, float] | None = None,
                       title: str | None = None) -> Axes:
    """Forest plot of hazard ratios with confidence intervals (log scale).

    Parameters
    ----------
    summary : pl.DataFrame
        ``CoxModel.summary`` / ``TimeVaryingCox.summary`` (covariate, hazard_ratio,
        hr_ci_low, hr_ci_high).
    truth : dict, optional
        Covariate -> true hazard ratio, drawn as diamonds (for simulated data).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.plots import plot_hazard_ratios
    >>> s = pl.DataFrame({"covariate": ["manager_left"], "hazard_ratio": [2.1],
    ...                   "hr_ci_low": [1.7], "hr_ci_high": [2.7]})
    >>> plot_hazard_ratios(s, truth={"manager_left": 2.0}).get_xscale()
    'log'
    """
    _need(summary, ["covariate", "hazard_ratio", "hr_ci_low", "hr_ci_high"], "summary")
    ax = get_ax(ax, figsize=(8, max(2.5, 0.45 * summary.height + 1)))
    forest(ax, summary["covariate"].to_list(), summary["hazard_ratio"].to_numpy(),
           summary["hr_ci_low"].to_numpy(), summary["hr_ci_high"].to_numpy(), truth=truth)
    ax.set_xlabel("hazard ratio (log scale): above 1 churns sooner, below 1 stays longer")
    ax.set_title(title or f"What drives churn: hazard ratios of {summary.height} covariates")
    return literal_text(ax)


def plot_cumulative_hazard(cumhaz: pl.DataFrame, *, ax: Axes | None = None,
                           unit: str = "months", title: str | None = None,
                           waiting_days: float | None = None) -> Axes:
    """Nelson-Aalen cumulative hazard by group (``KaplanMeier.cumulative_hazard()``).

    A straight line means a constant churn rate; a curve that bends down means churn risk
    falls as relationships age. ``waiting_days`` (the churn rule's inactivity window,
    ``KaplanMeier.inactivity_days_``) shades the span where nobody can be declared lost,
    as :func:`plot_retention` does.

    Parameters
    ----------
    cumhaz : pl.DataFrame
        ``KaplanMeier.cumulative_hazard()``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    unit : {"days", "weeks", "months", "years"}, default "months"
        Unit of the time axis.
    title : str, optional
        Chart title; a default that says what and how many when omitted.
    waiting_days : float, optional
        Length of the churn rule's waiting period, shaded.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _need(cumhaz, ["group", "timeline", "cumulative_hazard", "ci_low", "ci_high"], "cumhaz")
    k = _unit(unit)
    ax = get_ax(ax)
    groups = cumhaz["group"].unique(maintain_order=True).to_list()
    for g, col in zip(groups, color_cycle(len(groups))):
        c = cumhaz.filter(pl.col("group") == g)
        x = c["timeline"].to_numpy() / k
        ax.step(x, c["cumulative_hazard"].to_numpy(), where="post", color=col, label=str(g))
        ax.fill_between(x, c["ci_low"].to_numpy(), c["ci_high"].to_numpy(), step="post",
                        color=col, alpha=0.15, lw=0)
    ax.set_xlabel(f"{unit} since start")
    ax.set_ylabel("cumulative hazard")
    ax.set_xlim(left=0)
    if waiting_days:
        ax.axvspan(0, waiting_days / k, color="#777777", alpha=0.13, lw=0,
                   label=f"waiting period ({waiting_days:,.0f} days)")
    pad = 6.0
    if len(groups) > 1 or waiting_days:
        pad = legend_above(ax, ncol=3 if len(groups) > 2 else 2)
    ax.set_title(title or "Cumulative churn hazard (Nelson-Aalen, 95 % bands)", pad=pad)
    return literal_text(ax)


def plot_calibration(calibration: pl.DataFrame, *, ax: Axes | None = None,
                     brier: float | None = None, title: str | None = None) -> Axes:
    """Predicted against observed churn by bin (``calibration_table`` or
    ``ChurnValidation.calibration``); points on the diagonal are well calibrated.

    Parameters
    ----------
    calibration : pl.DataFrame
        ``calibration_table`` or ``ChurnValidation.calibration``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    brier : float, optional
        Brier score written in the corner.
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _need(calibration, ["mean_predicted", "observed_rate", "ci_low", "ci_high", "n"],
          "calibration")
    ax = get_ax(ax, figsize=(5.5, 5))
    x = calibration["mean_predicted"].to_numpy()
    y = calibration["observed_rate"].to_numpy()
    lo, hi = calibration["ci_low"].to_numpy(), calibration["ci_high"].to_numpy()
    top = float(max(np.nanmax(hi), np.nanmax(x))) * 1.05
    ax.plot([0, top], [0, top], color="#777777", lw=1, ls="--", label="perfect calibration")
    ax.errorbar(x, y, yerr=error_lengths(y, lo, hi), fmt="o", color="#0072B2", capsize=3,
                label="observed (95 % Wilson CI)")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.legend(loc="upper left", fontsize=8)
    n = int(calibration["n"].sum())
    extra = f", Brier {brier:.3f}" if brier is not None else ""
    ax.set_title(title or f"Calibration on {n:,} held-out customers{extra}")
    return literal_text(ax)


def plot_at_risk_list(at_risk: pl.DataFrame, *, top: int = 15, ax: Axes | None = None,
                      title: str | None = None) -> Axes:
    """The call list: the ``top`` customers most likely to be lost, with their main driver.

    Bars show ``p_stopped`` (1 - BG/NBD ``p_alive``, the ranking of the report's call list)
    when the list has it, else ``p_lapse`` (the chance that the inactivity rule declares the
    customer churned within the horizon, which accounts for how long they have been silent)
    when it has that, else the Cox ``p_churn``.

    Parameters
    ----------
    at_risk : pl.DataFrame
        :func:`~loyaltylab.churn.at_risk_list` output (customer_id, p_churn, drivers and,
        optionally, p_lapse and silent_days).

    Returns
    -------
    matplotlib.axes.Axes
    """
    _need(at_risk, ["customer_id", "p_churn", "drivers"], "at_risk")
    stopped = ("p_stopped" in at_risk.columns
               and at_risk["p_stopped"].null_count() < at_risk.height)
    lapse = stopped or ("p_lapse" in at_risk.columns
                        and at_risk["p_lapse"].null_count() < at_risk.height)
    col = "p_stopped" if stopped else "p_lapse" if lapse else "p_churn"
    t = at_risk.sort([col, "p_churn"], descending=True, nulls_last=True).head(top).reverse()
    ax = get_ax(ax, figsize=(8, max(2.5, 0.35 * t.height + 1)))
    y = np.arange(t.height)
    p = t[col].fill_null(0.0).to_numpy()
    ax.barh(y, p, color="#D55E00", alpha=0.85)
    ax.set_yticks(y)
    ax.set_yticklabels(t["customer_id"].to_list(), fontsize=8)
    silent = (t["silent_days"].to_list() if lapse and "silent_days" in t.columns
              else [None] * t.height)
    for yi, pi, d, s in zip(y, p, t["drivers"].to_list(), silent):
        first = d.split(", ")[0] if d else ""
        label = f"silent {s:.0f} d" + (f"; {first}" if first else "") if s is not None \
            else first
        if pi > 0.55:  # a long bar: write inside it, so the label stays in the frame
            ax.text(pi - 0.01, yi, label, va="center", ha="right", fontsize=7,
                    color="white")
        else:
            ax.text(pi + 0.005, yi, label, va="center", fontsize=7, color="#333333")
    ax.set_xlim(0, min(1.0, float(p.max()) * 1.6 + 0.02))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    if stopped:
        ax.set_xlabel("probability of having stopped buying (days silent, main driver)")
        note = ("Chance that the customer has stopped buying, judged against their own "
                "buying rhythm (BG/NBD), not their distance to the churn rule's threshold; "
                "driver from the Cox model.")
    elif lapse:
        ax.set_xlabel("probability of being lost in the horizon (days silent, main driver)")
        note = ("Probability that the inactivity rule declares the customer churned within "
                "the horizon: BG/NBD chance of no order before the silence reaches the "
                "window; driver from the Cox model.")
    else:
        ax.set_xlabel("probability of churning in the horizon (main driver shown)")
        note = ("Probability from the Cox model, conditional on being active today; "
                "driver = covariate raising the hazard most against an average customer.")
    ax.set_title(title or f"Call list: {t.height} active customers most at risk")
    add_footnote(ax, note)
    return literal_text(ax)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
