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
