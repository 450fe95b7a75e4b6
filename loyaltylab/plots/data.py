"""Overview charts of a dataset: activity over time, customer mix, the load report."""

from __future__ import annotations

import matplotlib.dates as mdates
import polars as pl
from matplotlib.axes import Axes

from loyaltylab.plots._style import (
    _PERIODS, PALETTE, get_ax, infer_period, legend_outside, literal_text, number_axis,
    period_axis, period_label,
)

__all__ = ["plot_activity", "plot_customer_mix", "plot_load_report"]


def plot_activity(activity: pl.DataFrame, *, ax: Axes | None = None,
                  metric: str = "active_customers", title: str | None = None,
                  period: str | None = None, currency: str | None = None) -> Axes:
    """Bars of one column of :func:`loyaltylab.data.overview.activity_over_time` per period.

    Each bar spans its period and the axis names the periods ("2025 Q1", "Mar 2025") at the
    middle of their bars; the axis covers the periods shown and no more, so a single period
    is one labelled bar. Counts and money are written with thousands separators ("1.1 M"
    for millions), never in scientific notation.

    Parameters
    ----------
    activity : pl.DataFrame
        The output of ``activity_over_time``.
    metric : str
        Column to draw: "active_customers", "orders", "revenue" or "new_customers".
    period : {"day", "week", "month", "quarter", "year"}, optional
        The period ``activity_over_time`` was asked for; by default read from the gaps
        between the periods (a single period without it is named by its first day).
    currency : str, optional
        ISO code of the revenue's currency (e.g. "EUR"), written on the revenue axis.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> from loyaltylab.data.overview import activity_over_time
    >>> act = activity_over_time(ll.datasets.load_sample(), period="year")
    >>> ax = plot_activity(act, period="year")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['2023', '2024', '2025']
    """
    if metric not in activity.columns:
        raise ValueError(f"metric={metric!r} is not a column of the activity frame; "
                         f"choose from {activity.columns[1:]}")
    if period is not None and period not in _PERIODS:
        raise ValueError(f"period={period!r}: expected one of {list(_PERIODS)}")
    ax = get_ax(ax)
    x = activity["period_start"].to_list()
    period = period or infer_period(x)
    named = period or "day"  # a single period of unknown length: named by its first day
    mids = period_axis(ax, x, named)
    # each bar fills 80 % of its period (a period runs from its start to twice its middle)
    widths = [1.6 * (m - s) for s, m in zip(mdates.date2num(x), mids)] if x else []
    ax.bar(mids, activity[metric].to_list(), width=widths, align="center",
           color=PALETTE[0])
    money = metric == "revenue"
    number_axis(ax.yaxis, currency=currency if money else None, integer=not money)
    label = metric.replace("_", " ")
    ax.set_ylabel(label + (f" ({currency})" if money and currency else ""))
    if title is None:
        if not x:
            title = f"{label.capitalize()}: no periods"
        elif period is None:
            title = f"{label.capitalize()} in the period from {x[0].day} {x[0]:%b %Y}"
        elif len(x) == 1:
            title = f"{label.capitalize()} in {period_label(x[0], period)}"
        else:
            title = (f"{label.capitalize()} per {period}, {period_label(x[0], period)} to "
                     f"{period_label(x[-1], period)}")
    ax.set_title(title)
    return literal_text(ax)


def plot_customer_mix(mix: pl.DataFrame, *, ax: Axes | None = None,
                      title: str | None = None) -> Axes:
    """Horizontal bars of customers and buyers per group, from ``customer_mix``.

    Parameters
    ----------
    mix : pl.DataFrame
        :func:`loyaltylab.data.overview.customer_mix`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> from loyaltylab.data.overview import customer_mix
    >>> ax = plot_customer_mix(customer_mix(ll.datasets.load_sample(), by="segment"))
    """
    ax = get_ax(ax)
    group = mix.columns[0]
    labels = mix[group].to_list()[::-1]
    ax.barh(labels, mix["customers"].to_list()[::-1], color=PALETTE[4], label="customers")
    ax.barh(labels, mix["buyers"].to_list()[::-1], color=PALETTE[0], height=0.5,
            label="of whom bought")
    legend_outside(ax)
    number_axis(ax.xaxis, integer=True)
    ax.set_xlabel("customers")
    total = int(mix["customers"].sum())
    ax.set_title(title or f"Customers by {group.replace('_', ' ')}, {total:,} customers")
    return literal_text(ax)


LOG_SPAN = 1000.0
"""Row counts are drawn on a linear axis, where bar lengths compare, and every bar is
written with its counts. Only when the largest table has more than this many times the rows
of the smallest (its bar would be under 0.1 % of the longest: not even a pixel) does the
axis turn logarithmic, and its label says so."""


def plot_load_report(summary: pl.DataFrame, *, ax: Axes | None = None,
                     title: str | None = None) -> Axes:
    """Kept and rejected rows per table, from ``LoadReport.summary()``.

    Each bar is written with its counts ("12,480 kept, 12 rejected"), so a handful of
    rejected rows next to millions kept still reads. The axis is linear unless the tables'
    sizes span more than :data:`LOG_SPAN` times, then logarithmic with "(log scale)" in its
    label; the legend sits outside the bars.

    Parameters
    ----------
    summary : pl.DataFrame
        ``LoadReport.summary()``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 16:9 figure when omitted.
    title : str, optional
        Chart title; a default that says what and how many when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> ax = plot_load_report(ll.datasets.load_sample().report.summary())
    >>> ax.get_xscale(), ax.get_xlabel()
    ('linear', 'rows')
    """
    import numpy as np

    ax = get_ax(ax)
    totals = summary.filter(pl.col("reason").is_null())
    tables = totals["table"].to_list()[::-1]
    kept = np.asarray(totals["kept"].to_list()[::-1], dtype=float)
    rejected = np.asarray(totals["rejected"].to_list()[::-1], dtype=float)
    rows = kept + rejected
    positive = rows[rows > 0]
    log = positive.size > 1 and positive.max() / positive.min() > LOG_SPAN
    if log:
        ax.set_xscale("log")
    ax.barh(tables, kept, color=PALETTE[2], label="kept")
    ax.barh(tables, rejected, left=kept, color=PALETTE[5], label="rejected")
    for y, (k, r) in enumerate(zip(kept, rejected)):
        ax.annotate(f"{k:,.0f} kept, {r:,.0f} rejected", (max(k + r, 1.0), y),
                    xytext=(4, 0), textcoords="offset points", va="center")
    top = float(positive.max()) if positive.size else 1.0
    if log:
        ax.set_xlim(max(0.5, float(positive.min()) / 2), top * 40)
    else:
        ax.set_xlim(0, top * 1.7)
    number_axis(ax.xaxis, integer=True)
    ax.set_xlabel("rows (log scale)" if log else "rows")
    legend_outside(ax)
    n_rej = int(totals["rejected"].sum())
    ax.set_title(title or f"Rows kept and rejected per table, {n_rej:,} rejected")
    return literal_text(ax)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
