"""Overview charts of a dataset: activity over time, customer mix, the load report."""

from __future__ import annotations

import polars as pl
from matplotlib.axes import Axes

from loyaltylab.plots._style import PALETTE, get_ax, literal_text

__all__ = ["plot_activity", "plot_customer_mix", "plot_load_report"]


def plot_activity(activity: pl.DataFrame, *, ax: Axes | None = None,
                  metric: str = "active_customers", title: str | None = None) -> Axes:
    """Bars of one column of :func:`loyaltylab.data.overview.activity_over_time` per period.

    Parameters
    ----------
    activity : pl.DataFrame
        The output of ``activity_over_time``.
    metric : str
        Column to draw: "active_customers", "orders", "revenue" or "new_customers".

    Examples
    --------
    >>> import loyaltylab as ll
    >>> from loyaltylab.data.overview import activity_over_time
    >>> ax = plot_activity(activity_over_time(ll.datasets.load_sample()))
    """
    if metric not in activity.columns:
        raise ValueError(f"metric={metric!r} is not a column of the activity frame; "
                         f"choose from {activity.columns[1:]}")
    ax = get_ax(ax)
    x = activity["period_start"].to_list()
    gaps = [(b - a).days for a, b in zip(x, x[1:])]
    step = min(gaps) if gaps else 30
    period = next(name for limit, name in ((1, "day"), (7, "week"), (31, "month"),
                                           (92, "quarter"), (10**9, "year")) if step <= limit)
    ax.bar(x, activity[metric].to_list(), width=0.8 * step, align="edge",
           color=PALETTE[0])
    label = metric.replace("_", " ")
    ax.set_ylabel(label)
    if title is None:
        span = f", {x[0]:%b %Y} to {x[-1]:%b %Y}" if x else ""
        title = f"{label.capitalize()} per {period}{span}"
    ax.set_title(title)
    return literal_text(ax)


def plot_customer_mix(mix: pl.DataFrame, *, ax: Axes | None = None,
                      title: str | None = None) -> Axes:
    """Horizontal bars of customers and buyers per group, from ``customer_mix``.

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
    ax.legend(loc="lower right")
    ax.set_xlabel("customers")
    total = int(mix["customers"].sum())
    ax.set_title(title or f"Customers by {group.replace('_', ' ')}, {total:,} customers")
    return literal_text(ax)


def plot_load_report(summary: pl.DataFrame, *, ax: Axes | None = None,
                     title: str | None = None) -> Axes:
    """Kept and rejected rows per table, from ``LoadReport.summary()``.

    Examples
    --------
    >>> import loyaltylab as ll
    >>> ax = plot_load_report(ll.datasets.load_sample().report.summary())
    """
    ax = get_ax(ax)
    totals = summary.filter(pl.col("reason").is_null())
    tables = totals["table"].to_list()[::-1]
    kept = totals["kept"].to_list()[::-1]
    rejected = totals["rejected"].to_list()[::-1]
    ax.barh(tables, kept, color=PALETTE[2], label="kept")
    ax.barh(tables, rejected, left=kept, color=PALETTE[5], label="rejected")
    ax.set_xscale("symlog")
    ax.set_xlabel("rows (log scale)")
    ax.legend(loc="lower right")
    n_rej = int(totals["rejected"].sum())
    ax.set_title(title or f"Rows kept and rejected per table, {n_rej:,} rejected")
    return literal_text(ax)
