"""Charts for :mod:`loyaltylab.funnel` results: the ladder funnel, the transition heatmap,
the flow of customers between two dates, time-to-stage curves and the stage mix over time.

Each function draws a result frame and computes no statistics.
"""

from __future__ import annotations


import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.axes import Axes

from loyaltylab.plots._style import (
    MIN_FONT_PT, PALETTE, SEQUENTIAL, add_footnote, color_cycle, get_ax, legend_outside,
    literal_text, number_axis,
)

__all__ = ["plot_funnel", "plot_transition_heatmap", "plot_stage_flow",
           "plot_time_to_stage", "plot_stage_mix"]

_LAPSED = "lapsed"


def _label(name: str) -> str:
    return name.replace("_", " ")


def _one_group(frame: pl.DataFrame, first: str, what: str) -> None:
    extra = frame.columns[:frame.columns.index(first)]
    if extra:
        raise ValueError(f"{what}: the frame is split by {extra}; filter one group first, "
                         f"e.g. frame.filter(pl.col({extra[0]!r}) == ...)")


def _state_color(states: list[str]) -> dict[str, str]:
    cols = color_cycle(len(states))
    out = dict(zip(states, cols))
    if _LAPSED in out:
        out[_LAPSED] = "#999999"
    return out


def _spread(ys: np.ndarray, step: float, keep: np.ndarray | None = None) -> np.ndarray:
    """Label heights ``ys`` (top first, falling) moved down where needed so that kept
    labels are at least ``step`` apart.

    Examples
    --------
    >>> _spread(np.array([10.0, 9.9, 9.8, 2.0]), 1.0).tolist()
    [10.0, 9.0, 8.0, 2.0]
    """
    out = ys.astype(float).copy()
    last = None
    for i in range(out.size):
        if keep is not None and not keep[i]:
            continue
        if last is not None and out[i] > out[last] - step:
            out[i] = out[last] - step
        last = i
    return out


def plot_funnel(funnel: pl.DataFrame, *, ax: Axes | None = None,
                title: str | None = None) -> Axes:
    """Horizontal ladder funnel: persons who reached each stage or beyond, with the step
    conversion (and its interval) to the next stage written between the bars.

    Parameters
    ----------
    funnel : pl.DataFrame
        Output of :func:`loyaltylab.funnel.funnel` for one group.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import loyaltylab as ll
    >>> ax = ll.plots.plot_funnel(ll.funnel.funnel(ll.datasets.load_sample()))
    >>> len(ax.patches)
    6
    """
    _one_group(funnel, "stage", "plot_funnel")
    ax = get_ax(ax, figsize=(8, 0.6 * funnel.height + 1.5))
    reached = funnel["reached"].to_numpy().astype(float)
    top = reached[0] if reached.size and reached[0] > 0 else 1.0
    y = np.arange(funnel.height)[::-1]
    widths = reached / top
    ax.barh(y, widths, left=(1 - widths) / 2, color=PALETTE[0], height=0.7)
    for yi, r, s in zip(y, funnel.iter_rows(named=True), widths):
        ax.text(0.5, yi, f"{r['reached']:,}  ({r['share_of_top']:.0%})", ha="center",
                va="center", color="white" if s > 0.25 else "black", fontsize=9)
        if r["conversion"] is not None:
            ax.text(1.02, yi - 0.5, f"{r['conversion']:.0%} [{r['ci_low']:.0%}-"
                    f"{r['ci_high']:.0%}] go on", ha="left", va="center", fontsize=8,
                    color="#444444")
    ax.set_yticks(y, [_label(s) for s in funnel["stage"]])
    ax.set_xlim(0, 1.45)
    ax.set_xticks([])
    ax.grid(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or f"Loyalty ladder, {int(reached[0]) if reached.size else 0:,} "
                 f"people: reached each stage or beyond")
    add_footnote(ax, "Bars: people whose highest stage is this one or higher. Right: step "
                 "conversion to the next stage, 95% Wilson interval.")
    return literal_text(ax)


def plot_transition_heatmap(matrix: pl.DataFrame, *, ax: Axes | None = None,
                            title: str | None = None, annotate: bool = True) -> Axes:
    """Heatmap of a transition matrix: state at the start (rows) against the end (columns).

    Parameters
    ----------
    matrix : pl.DataFrame
        Output of :func:`loyaltylab.funnel.transition_matrix` (one group, shares).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import loyaltylab as ll
    >>> m = ll.funnel.transition_matrix(ll.datasets.load_sample(), start="2024-01-01",
    ...                                 end="2025-01-01")
    >>> ax = ll.plots.plot_transition_heatmap(m)
    >>> len(ax.get_yticklabels()) == m.height
    True
    """
    _one_group(matrix, "from_state", "plot_transition_heatmap")
    states = matrix.columns[matrix.columns.index("n") + 1:]
    vals = matrix.select(states).to_numpy().astype(float)
    n = matrix["n"].to_numpy()
    if vals.size and np.nanmax(vals) > 1.0 + 1e-9:     # counts: show row shares
        vals = vals / np.maximum(vals.sum(axis=1, keepdims=True), 1)
    ax = get_ax(ax, figsize=(1.0 * len(states) + 2.5, 0.55 * len(n) + 1.8))
    im = ax.imshow(vals, cmap=SEQUENTIAL, vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(states)), [_label(s) for s in states], rotation=35, ha="right")
    ax.set_yticks(range(len(n)), [f"{_label(s)} (n = {k:,})" for s, k in
                                  zip(matrix["from_state"], n)])
    ax.grid(False)
    if annotate:
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):
                if vals[i, j] >= 0.005:
                    ax.text(j, i, f"{vals[i, j]:.0%}", ha="center", va="center", fontsize=8,
                            color="white" if vals[i, j] < 0.6 else "black")
    ax.figure.colorbar(im, ax=ax, fraction=0.04, label="share of row")
    ax.set_xlabel("state at the end")
    ax.set_ylabel("stage at the start")
    ax.set_title(title or f"Moves between stages, {int(n.sum()):,} people")
    return literal_text(ax)


def plot_stage_flow(matrix: pl.DataFrame, *, ax: Axes | None = None,
                    title: str | None = None, start_label: str = "start",
                    end_label: str = "end", min_share: float = 0.002) -> Axes:
    """Alluvial-style flow of people from their stage at the start to their state at the
    end: two stacked columns joined by ribbons whose width is the number who moved.

    Parameters
    ----------
    matrix : pl.DataFrame
        Output of :func:`loyaltylab.funnel.transition_matrix` (one group; shares or
        counts; shares are turned back into counts with ``n``).
    min_share : float
        Ribbons thinner than this share of everyone are not drawn.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import loyaltylab as ll
    >>> m = ll.funnel.transition_matrix(ll.datasets.load_sample(), start="2024-01-01",
    ...                                 end="2025-01-01", normalize=False)
    >>> ax = ll.plots.plot_stage_flow(m)
    """
    _one_group(matrix, "from_state", "plot_stage_flow")
    states = matrix.columns[matrix.columns.index("n") + 1:]
    vals = matrix.select(states).to_numpy().astype(float)
    n = matrix["n"].to_numpy().astype(float)
    if vals.size and np.nanmax(vals) <= 1.0 + 1e-9 and n.sum() > vals.sum() + 0.5:
        vals = vals * n[:, None]
    rows = list(matrix["from_state"])
    total = vals.sum()
    ax = get_ax(ax, figsize=(8, 5.5))
    colors = _state_color(states)
    gap = total * 0.015
    # left blocks (start), right blocks (end), from the top down in ladder order
    left_sizes = vals.sum(axis=1)
    right_sizes = vals.sum(axis=0)

    def stack(sizes):
        tops, y = [], total + gap * len(sizes)
        for s in sizes:
            tops.append(y)
            y -= s + gap
        return np.array(tops)

    ltop, rtop = stack(left_sizes), stack(right_sizes)
    x0, x1, w = 0.0, 1.0, 0.06
    # labels of thin blocks would sit on each other: keep them a line apart (a line of
    # text in data units at the figure's height), moving them down as little as possible
    span = total + gap * (max(len(rows), len(states)) + 2)
    line = 1.3 * MIN_FONT_PT["text"] / 72 / (0.8 * ax.figure.get_figheight()) * span
    left_y = _spread(ltop - left_sizes / 2, line)
    right_y = _spread(rtop - right_sizes / 2, line, keep=right_sizes > 0)
    for i, s in enumerate(rows):
        ax.add_patch(plt.Rectangle((x0 - w, ltop[i] - left_sizes[i]), w, left_sizes[i],
                                   color=colors.get(s, "#777777")))
        if left_sizes[i] > 0:
            ax.text(x0 - w - 0.02, left_y[i],
                    f"{_label(s)} {int(round(left_sizes[i])):,}", ha="right", va="center",
                    fontsize=MIN_FONT_PT["text"])
    for j, s in enumerate(states):
        if right_sizes[j] <= 0:
            continue
        ax.add_patch(plt.Rectangle((x1, rtop[j] - right_sizes[j]), w, right_sizes[j],
                                   color=colors[s]))
        ax.text(x1 + w + 0.02, right_y[j],
                f"{_label(s)} {int(round(right_sizes[j])):,}", ha="left", va="center",
                fontsize=MIN_FONT_PT["text"])
    lcur, rcur = ltop.copy(), rtop.copy()
    xs = np.linspace(x0, x1, 50)
    smooth = 3 * ((xs - x0) / (x1 - x0)) ** 2 - 2 * ((xs - x0) / (x1 - x0)) ** 3
    for i, s in enumerate(rows):
        for j, _t in enumerate(states):
            v = vals[i, j]
            if v <= 0:
                continue
            if v >= min_share * total:
                top = lcur[i] + (rcur[j] - lcur[i]) * smooth
                ax.fill_between(xs, top - v, top, color=colors.get(s, "#777777"),
                                alpha=0.35, linewidth=0)
            lcur[i] -= v
            rcur[j] -= v
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(-gap, total + gap * (max(len(rows), len(states)) + 1))
    ax.axis("off")
    ax.text(x0 - w / 2, total + gap * (len(rows) + 0.5), start_label, ha="center",
            fontweight="bold")
    ax.text(x1 + w / 2, total + gap * (len(states) + 0.5), end_label, ha="center",
            fontweight="bold")
    ax.set_title(title or f"Where {int(round(total)):,} people moved")
    return literal_text(ax)


def plot_time_to_stage(curves: pl.DataFrame, *, ax: Axes | None = None,
                       title: str | None = None, band: bool = True) -> Axes:
    """Kaplan-Meier curves of the share that reached each stage by days since the origin.

    Parameters
    ----------
    curves : pl.DataFrame
        Output of :func:`loyaltylab.funnel.time_to_stage_curves` (one group).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import loyaltylab as ll
    >>> c = ll.funnel.time_to_stage_curves(ll.datasets.load_sample())
    >>> ax = ll.plots.plot_time_to_stage(c)
    >>> len(ax.get_lines())
    4
    """
    _one_group(curves, "stage", "plot_time_to_stage")
    ax = get_ax(ax)
    stages = list(dict.fromkeys(curves["stage"].to_list()))
    for color, s in zip(color_cycle(len(stages)), stages):
        part = curves.filter(pl.col("stage") == s)
        ax.step(part["days"], part["share_arrived"], where="post", color=color,
                label=_label(s))
        if band:
            ax.fill_between(part["days"], part["ci_low"], part["ci_high"], step="post",
                            color=color, alpha=0.15, linewidth=0)
    ax.set_xlabel("days since reaching the starting stage")
    ax.set_ylabel("share arrived (Kaplan-Meier)")
    ax.set_ylim(0, 1)
    legend_outside(ax)
    ax.set_title(title or "Time to each stage")
    add_footnote(ax, "Kaplan-Meier with censoring at the data date; bands: pointwise 95% "
                 "intervals. Jumping past a stage counts as arriving.")
    return literal_text(ax)


def plot_stage_mix(mix: pl.DataFrame, *, ax: Axes | None = None, title: str | None = None,
                   share: bool = True) -> Axes:
    """Stacked area chart of how many people stand at each stage (and lapsed) over time.

    Parameters
    ----------
    mix : pl.DataFrame
        Output of :func:`loyaltylab.funnel.stage_mix`.
    share : bool, default True
        Plot shares (stacking to 1); False plots counts.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import loyaltylab as ll
    >>> ax = ll.plots.plot_stage_mix(ll.funnel.stage_mix(ll.datasets.load_sample(),
    ...                                                  every="quarter"))
    """
    ax = get_ax(ax)
    states = list(dict.fromkeys(mix["state"].to_list()))
    dates = mix["date"].unique(maintain_order=True).sort().to_list()
    col = "share" if share else "n"
    wide = mix.pivot(on="state", index="date", values=col).sort("date")
    colors = _state_color(states)
    x = mdates.date2num(wide["date"].to_list()) if wide.height else np.array([])
    layers = [wide[s].fill_null(0).to_numpy() for s in states]
    if wide.height == 1:  # one date: a stacked bar, not an invisible area
        bottom = 0.0
        for s, v in zip(states, layers):
            ax.bar(x, v, bottom=bottom, width=20, color=colors[s], label=_label(s))
            bottom = bottom + v
        ax.set_xlim(x[0] - 60, x[0] + 60)
    else:
        ax.stackplot(x, *layers, labels=[_label(s) for s in states],
                     colors=[colors[s] for s in states], alpha=0.9)
        if wide.height:
            ax.set_xlim(x[0], x[-1])
    # a tick at each snapshot date (or every k-th), named by its date
    k = max(1, int(np.ceil(len(x) / 6)))
    ax.set_xticks(x[::k], [f"{d.day} {d:%b %Y}" for d in wide["date"].to_list()[::k]])
    ax.set_ylabel("share of people on the ladder" if share else "people")
    if share:
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    else:
        number_axis(ax.yaxis, integer=True)
    legend_outside(ax)
    last = mix.filter(pl.col("date") == dates[-1])["n"].sum() if dates else 0
    ax.set_title(title or f"Stage mix over time ({int(last):,} people at the end)")
    return literal_text(ax)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
