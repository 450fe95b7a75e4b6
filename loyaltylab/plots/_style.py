"""The house style: colour-blind-safe, greyscale-readable, opt-in."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.category import StrCategoryFormatter
from matplotlib.text import Text
from matplotlib.ticker import (
    FixedFormatter, FormatStrFormatter, Formatter, FuncFormatter, StrMethodFormatter,
)

__all__ = ["PALETTE", "SEQUENTIAL", "DIVERGING", "use_style", "style_context", "get_ax",
           "error_lengths",
           "color_cycle", "add_footnote", "escape_mathtext", "literal_text"]

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
    fig.text(0.01, -0.02, text, ha="left", va="top", fontsize=7, color="#444444",
             parse_math=False)
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


# ------------------------------------------------------------------ client text is text
def error_lengths(value, low, high) -> "np.ndarray":
    """The (2, n) arm lengths ``[value - low, high - value]`` for matplotlib's error bars.

    A missing bound draws no arm, and so does a bound on the wrong side of the estimate:
    adjusted intervals (Agresti-Coull, Wilson, adjusted-Wald NPS) need not contain the
    raw estimate on small groups, and matplotlib refuses negative lengths.

    Examples
    --------
    >>> error_lengths([0.5, 1.0, 0.2], [0.4, 0.8, None], [0.7, 0.95, 0.3]).tolist()
    [[0.1, 0.2, 0.0], [0.2, 0.0, 0.1]]
    """
    import numpy as np

    v, lo, hi = (np.asarray([np.nan if x is None else x for x in np.ravel(a)], dtype=float)
                 for a in (value, low, high))
    arms = np.vstack([v - lo, hi - v])
    return np.clip(np.nan_to_num(arms, nan=0.0), 0.0, None)


def escape_mathtext(text: object) -> str:
    """``text`` as a string matplotlib draws as it is: every ``$`` escaped as ``\\$``.

    Matplotlib reads text between two unescaped dollar signs as mathtext: the price tier
    ``"$$"`` raises a parse error and ``"$5 off $10"`` loses its dollars and spaces. An
    escaped dollar is drawn as a dollar, so the drawn text equals ``text``.

    Examples
    --------
    >>> escape_mathtext("$$")
    '\\\\$\\\\$'
    >>> escape_mathtext("50%_off")
    '50%_off'
    """
    return str(text).replace("$", r"\$")


_DATA_FORMATTERS = (FixedFormatter, StrCategoryFormatter, FuncFormatter, StrMethodFormatter,
                    FormatStrFormatter)
"""Formatters whose labels come from data or from our own format strings (tick labels set
from a list become a FuncFormatter); the numeric ones that may draw mathtext on purpose
(scalar offsets, log decades) are left alone."""


class _LiteralFormatter(Formatter):
    """Wraps a formatter of data labels (fixed or categorical tick labels) so that the
    labels it returns are drawn as they are (see :func:`escape_mathtext`)."""

    def __init__(self, inner: Formatter) -> None:
        self.inner = inner

    def __call__(self, x: float, pos: int | None = None) -> str:
        return escape_mathtext(self.inner(x, pos))

    def format_ticks(self, values: list[float]) -> list[str]:
        return [escape_mathtext(v) for v in self.inner.format_ticks(values)]

    def set_axis(self, axis: object) -> None:
        self.axis = axis
        self.inner.set_axis(axis)

    def set_locs(self, locs: list[float]) -> None:
        self.locs = locs
        self.inner.set_locs(locs)

    def get_offset(self) -> str:
        return self.inner.get_offset()


def literal_text(ax: Axes) -> Axes:
    """Make every text of ``ax`` drawn as it is, never as mathtext; returns ``ax``.

    Charts draw client text (segment names, price tiers like ``$$``, campaign names like
    ``50%_off``) in titles, labels, legends, annotations and tick labels. Every ``plot_*``
    function ends with this call, so such text is drawn exactly as it reads: titles,
    labels, legend entries and annotations have mathtext switched off, and tick labels
    that come from data (a list of labels, categories, a format function) are escaped when
    they are drawn. Numeric tick labels of matplotlib's own formatters are left alone.
    Text already on an Axes passed in with ``ax=`` is treated alike: to draw a formula
    there, add it after the ``plot_*`` call. Calling it twice changes nothing.

    Examples
    --------
    >>> import io, matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.bar(["$", "$$", "$$$"], [1, 2, 3]); _ = ax.set_title("$$ tier")
    >>> ax = literal_text(ax)
    >>> fig.savefig(io.BytesIO(), format="png")
    >>> [t.get_text() for t in ax.get_xticklabels()], ax.get_title()
    (['\\\\$', '\\\\$\\\\$', '\\\\$\\\\$\\\\$'], '$$ tier')
    >>> plt.close(fig)
    """
    ticks: set[int] = set()
    for axis in (ax.xaxis, ax.yaxis):
        for getter, setter in ((axis.get_major_formatter, axis.set_major_formatter),
                               (axis.get_minor_formatter, axis.set_minor_formatter)):
            fmt = getter()
            if isinstance(fmt, _DATA_FORMATTERS):
                setter(_LiteralFormatter(fmt))
        ticks.add(id(axis.offsetText))  # "1e6" or a mathtext offset of numeric ticks
        # all ticks for the current locations (creating them now, as drawing would)
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            ticks.update((id(tick.label1), id(tick.label2)))
    for text in ax.findobj(Text):
        if id(text) not in ticks:
            text.set_parse_math(False)
    return ax
