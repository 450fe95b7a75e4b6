"""The house style: colour-blind-safe, greyscale-readable, opt-in."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

__all__ = ["PALETTE", "SEQUENTIAL", "DIVERGING", "use_style", "style_context", "get_ax",
           "color_cycle", "add_footnote"]

# Okabe & Ito (2008) colour-blind-safe palette. Order chosen for greyscale printing: the
# first four (blue, orange, green, black) differ pairwise by more than 11 CIE L* and every
# pair of neighbours in the cycle by more than 12, so charts with up to four series, and
# any two adjacent colours, stay apart in black and white (tests/test_report_style.py
# checks this and the colour-vision-deficiency simulations). Beyond four series, add
# markers or direct labels.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#000000", "#56B4E9", "#D55E00", "#F0E442",
           "#CC79A7"]
SEQUENTIAL = "viridis"
"""Perceptually uniform, colour-blind safe and monotone in lightness."""
DIVERGING = "PuOr"
"""Colour-blind-safe diverging map (Likert charts, differences)."""

_RC = {
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titleweight": "bold",
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "image.cmap": SEQUENTIAL,
    "font.size": 10,
}


def use_style() -> None:
    """Apply the loyaltylab house style to matplotlib globally (opt-in, never on import)."""
    mpl.rcParams.update(_RC)


@contextmanager
def style_context() -> Iterator[None]:
    """Apply the house style inside a ``with`` block only."""
    with mpl.rc_context(_RC):
        yield


def get_ax(ax: Axes | None = None, *, figsize: tuple[float, float] = (8, 4.5)) -> Axes:
    """Return ``ax`` or a new Axes on a new figure of ``figsize`` (16:9 by default)."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


def color_cycle(n: int) -> list[str]:
    """``n`` colours from the house palette (repeats after eight)."""
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def add_footnote(ax: Axes, text: str) -> None:
    """Write the facts behind a chart (n, date range, CI method, definitions) under it.

    The text is kept on the figure as ``fig._loyaltylab_footnote`` so exporters can reuse it.
    """
    fig = ax.figure
    fig.text(0.01, -0.02, text, ha="left", va="top", fontsize=7, color="#444444")
    fig._loyaltylab_footnote = text  # type: ignore[attr-defined]


def forest(ax: Axes, labels: list[str], estimate, low, high, *,
           truth: dict[str, float] | None = None) -> None:
    """Draw ratios with their intervals on a log axis, first label at the top; a ratio
    whose interval lies above 1 is orange, below 1 blue, across 1 grey."""
    import numpy as np
    from matplotlib.ticker import FuncFormatter, NullFormatter

    est, lo, hi = (np.asarray(v, dtype=float)[::-1] for v in (estimate, low, high))
    names = list(labels)[::-1]
    y = np.arange(len(names))
    colors = np.where(lo > 1, "#D55E00", np.where(hi < 1, "#0072B2", "#777777"))
    ax.hlines(y, lo, hi, colors=colors, lw=2)
    ax.scatter(est, y, c=colors, zorder=3, s=30, label="estimate, 95 % CI")
    if truth:
        ty = [i for i, c in enumerate(names) if c in truth]
        ax.scatter([truth[names[i]] for i in ty], ty, marker="D", facecolors="none",
                   edgecolors="black", zorder=4, s=40, label="true value")
        ax.legend(loc="lower right", fontsize=8)
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_xscale("log")
    extra = list(truth.values()) if truth else []
    lo_all = float(np.nanmin(np.r_[lo, extra]))
    hi_all = float(np.nanmax(np.r_[hi, extra]))
    ticks = [t for t in (0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10)
             if lo_all / 1.3 <= t <= hi_all * 1.3]
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y)
    ax.set_yticklabels(names)
