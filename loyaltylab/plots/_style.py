"""The house style: colour-blind-safe, greyscale-readable, opt-in."""

from __future__ import annotations

from contextlib import contextmanager
from collections.abc import Iterator
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.category import StrCategoryFormatter
from matplotlib.text import Text
from matplotlib.ticker import (
    FixedFormatter, FormatStrFormatter, Formatter, FuncFormatter, StrMethodFormatter,
)

if TYPE_CHECKING:  # numpy is imported where it is used
    import numpy as np

__all__ = ["PALETTE", "SEQUENTIAL", "DIVERGING", "use_style", "style_context", "get_ax",
           "error_lengths",
           "color_cycle", "add_footnote", "escape_mathtext", "literal_text", "MIN_FONT_PT",
           "readable", "NumberFormatter", "format_number", "period_label", "period_axis",
           "infer_period", "legend_outside", "legend_above", "NOTEBOOK_DPI"]

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
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "legend.frameon": False,
    "figure.dpi": 100,
    "figure.figsize": (8.0, 4.5),
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "image.cmap": SEQUENTIAL,
    "font.size": 11,
}

NOTEBOOK_DPI = 100
"""Resolution of charts shown (and stored) in notebooks: an 8 in wide chart is 800 pixels,
sharp enough to read every label. :func:`use_style` stores them as 256-colour PNGs, about
a third of the bytes of a full-colour PNG, so a notebook of a dozen charts stays well under
the project's 500 kB limit on a stored notebook (tests/test_notebooks_meta.py)."""


def use_style(*, dpi: float = NOTEBOOK_DPI) -> None:
    """Apply the loyaltylab house style to matplotlib globally (opt-in, never on import).

    In a notebook (IPython) it also stores each chart as a compact PNG: drawn at ``dpi``
    (100 by default: an 8 in chart is 800 pixels wide) and reduced to 256 colours, which
    charts of a few flat colours do not need more than. Do not lower ``figure.dpi`` after
    this call to keep notebooks small: the compact PNG already does.

    Parameters
    ----------
    dpi : float, default 100
        Resolution of the charts a notebook stores.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> with mpl.rc_context():
    ...     use_style()
    ...     mpl.rcParams["figure.dpi"], mpl.rcParams["xtick.labelsize"]
    (100.0, 13.0)
    """
    mpl.rcParams.update(_RC)
    mpl.rcParams["figure.dpi"] = float(dpi)
    _register_compact_png()


def compact_png(fig, *, dpi: float | None = None) -> bytes:
    """``fig`` as a tight-cropped PNG with a 256-colour palette (what notebooks store).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    >>> png = compact_png(fig)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    >>> plt.close(fig)
    """
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, bbox_inches="tight",
                facecolor="white")
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                           dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _register_compact_png() -> None:
    """In IPython, show matplotlib figures through :func:`compact_png`."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is optional
        return
    shell = get_ipython()
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", None)
    if not formatters or "image/png" not in formatters:
        return
    import base64

    from matplotlib.figure import Figure

    def _png(fig: Figure) -> str | None:
        if not fig.axes and not fig.lines:
            return None
        return base64.b64encode(compact_png(fig)).decode("ascii")

    formatters["image/png"].for_type(Figure, _png)


@contextmanager
def style_context() -> Iterator[None]:
    """Apply the house style inside a ``with`` block only.

    Yields
    ------
    None
        The style applies until the block ends.
    """
    with mpl.rc_context(_RC):
        yield


def get_ax(ax: Axes | None = None, *, figsize: tuple[float, float] = (8, 4.5)) -> Axes:
    """Return ``ax`` or a new Axes on a new figure of ``figsize`` (16:9 by default).

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Returned as it is when given.
    figsize : (float, float), default (8, 4.5)
        Size in inches of the new figure.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure.
    """
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

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The chart.
    text : str
        The footnote.
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
def error_lengths(value, low, high) -> np.ndarray:
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
# (NumberFormatter, defined below, writes only digits, separators and M/bn: nothing to escape)
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
    they are drawn. It also applies :func:`readable`, so no text is smaller than the house
    minimum (:data:`MIN_FONT_PT`). Numeric tick labels of matplotlib's own formatters are left
    alone.
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
    return readable(ax)


# ------------------------------------------------------------------ readable at slide size
MIN_FONT_PT = {"tick": 13.0, "label": 13.0, "legend": 13.0, "title": 14.0, "text": 11.0}
"""The smallest font sizes (points) of a chart's text, by role.

The rule: drawn at the report's slide size (``report.SIZES["slide"]``, 10 x 5.625 in), a
chart's tick labels, axis labels and legend entries are at least 12 pt and every other text
(data labels, annotations, the at-risk table) at least 10 pt *on the 13.33 x 7.5 in slide*.
The deck fits the chart into the body of the slide at about 0.92 of its size (12.33 x 5.15
in box), hence 13 and 11 pt here; titles 14 pt. Notebook charts (8 in wide) read the same.
The footnote is excluded: the report and the deck write it as text beside the chart.
:func:`readable` raises every smaller text of an Axes to these sizes; every ``plot_*``
function applies it through :func:`literal_text`.
"""


def _raise_size(text: Text, minimum: float) -> None:
    if text.get_text() and text.get_fontsize() < minimum:
        text.set_fontsize(minimum)


def _axis_texts(ax: Axes) -> None:
    for axis, which in ((ax.xaxis, "x"), (ax.yaxis, "y")):
        for minor in (False, True):
            ticks = axis.get_minor_ticks() if minor else axis.get_major_ticks()
            size = ticks[0].label1.get_fontsize() if ticks else MIN_FONT_PT["tick"]
            if size < MIN_FONT_PT["tick"]:
                ax.tick_params(axis=which, which="minor" if minor else "major",
                               labelsize=MIN_FONT_PT["tick"])
            for tick in ticks:  # labels given their own size (set_yticklabels(fontsize=))
                _raise_size(tick.label1, MIN_FONT_PT["tick"])
                _raise_size(tick.label2, MIN_FONT_PT["tick"])
        _raise_size(axis.label, MIN_FONT_PT["label"])
        _raise_size(axis.offsetText, MIN_FONT_PT["tick"])


def readable(ax: Axes) -> Axes:
    """Raise every text of ``ax`` smaller than :data:`MIN_FONT_PT` to that size.

    Tick labels, axis labels, the titles, legend entries, texts and annotations, table
    cells, and the ticks and label of a colour bar drawn for ``ax``; returns ``ax``. Texts
    already larger are left as they are.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.text(0.5, 0.5, "n = 12", fontsize=6); _ = ax.set_xlabel("days", fontsize=8)
    >>> ax = readable(ax)
    >>> ax.texts[0].get_fontsize(), ax.xaxis.label.get_fontsize()
    (11.0, 13.0)
    >>> plt.close(fig)
    """
    _axis_texts(ax)
    for title in (ax.title, ax._left_title, ax._right_title):
        _raise_size(title, MIN_FONT_PT["title"])
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            _raise_size(text, MIN_FONT_PT["legend"])
        _raise_size(legend.get_title(), MIN_FONT_PT["legend"])
    for text in ax.texts:
        _raise_size(text, MIN_FONT_PT["text"])
    for table in ax.tables:
        table.auto_set_font_size(False)
        for cell in table.get_celld().values():
            _raise_size(cell.get_text(), MIN_FONT_PT["text"])
    for other in ax.figure.axes:  # colour bars drawn for this Axes
        bar = getattr(other, "_colorbar", None)
        if other is not ax and bar is not None and getattr(bar.mappable, "axes", None) is ax:
            _axis_texts(other)
    return ax


def legend_outside(ax: Axes, **kwargs) -> None:
    """Draw the legend to the right of the plotting area, where it covers no data."""
    kwargs.setdefault("loc", "upper left")
    kwargs.setdefault("bbox_to_anchor", (1.01, 1.0))
    kwargs.setdefault("borderaxespad", 0.0)
    kwargs.setdefault("frameon", False)
    ax.legend(**kwargs)


def legend_above(ax: Axes, *, ncol: int = 2) -> float:
    """Draw the legend in rows between the title and the plotting area, where it covers no
    data; returns the title ``pad`` (points) that keeps the title above it.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(); _ = ax.plot([1, 2], label="a"); _ = ax.plot([2, 1], label="b")
    >>> pad = legend_above(ax); _ = ax.set_title("Two lines", pad=pad)
    >>> pad > 20
    True
    >>> plt.close(fig)
    """
    import math

    handles, labels = ax.get_legend_handles_labels()
    # no more columns than fit over the plotting area (about 0.55 em a character + key)
    width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72
    column_pt = max((len(t) for t in labels), default=1) * 0.55 * MIN_FONT_PT["legend"] + 40
    ncol = max(1, min(ncol, len(handles), int(width_pt // column_pt)))
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=ncol, borderaxespad=0.0,
              frameon=False, fontsize=MIN_FONT_PT["legend"])
    rows = math.ceil(len(handles) / ncol) if handles else 0
    return 8.0 + rows * 1.75 * MIN_FONT_PT["legend"]


# ------------------------------------------------------------------ numbers people read
def format_number(value: float, *, scale: float = 1.0, suffix: str = "",
                  decimals: int = 0) -> str:
    """``value`` for a reader: thousands separators, never scientific notation.

    ``scale``/``suffix`` write large values in millions ("1.1 M") or billions ("2.5 bn").

    Examples
    --------
    >>> format_number(1090000.0), format_number(1090000.0, scale=1e6, suffix=" M",
    ...                                         decimals=2)
    ('1,090,000', '1.09 M')
    >>> format_number(-2500.5, decimals=1)
    '-2,500.5'
    """
    v = value / scale
    if abs(v) < 0.5 * 10 ** -decimals:
        v = 0.0
    return f"{v:,.{decimals}f}{suffix}"


class NumberFormatter(Formatter):
    """Tick labels for counts and money: "12,500", "0.5 M", "1.5 M", "2 bn".

    One unit per axis, chosen from the largest tick: below a million plain numbers with
    thousands separators, then millions ("M") and billions ("bn"); the decimals the ticks
    need and no more. No offset and no scientific notation, ever. ``currency`` (an ISO code
    such as "EUR") is appended to each label when given.

    Examples
    --------
    >>> NumberFormatter().format_ticks([0, 500000, 1000000, 1500000])
    ['0', '0.5 M', '1 M', '1.5 M']
    >>> NumberFormatter().format_ticks([0, 2500, 5000, 7500])
    ['0', '2,500', '5,000', '7,500']
    >>> NumberFormatter(currency="EUR").format_ticks([0, 0.5, 1.0])
    ['0 EUR', '0.5 EUR', '1 EUR']
    """

    def __init__(self, currency: str | None = None) -> None:
        self.currency = currency

    def _unit(self, values) -> tuple[float, str]:
        import numpy as np

        top = float(np.nanmax(np.abs(values))) if len(values) else 0.0
        if top >= 1e9:
            return 1e9, " bn"
        if top >= 1e6:
            return 1e6, " M"
        return 1.0, ""

    def format_ticks(self, values) -> list[str]:
        import numpy as np

        values = [float(v) for v in values]
        axis = getattr(self, "axis", None)
        if axis is not None and axis.get_scale() in ("log", "symlog") and len(values) > 1:
            return [self.format_ticks([v])[0] for v in values]  # decades: a unit each
        scale, suffix = self._unit(values)
        decimals = 0
        scaled = np.asarray(values, dtype=float) / scale
        while decimals < 3 and not np.allclose(scaled, np.round(scaled, decimals),
                                               rtol=0, atol=1e-9 * max(1.0, abs(scaled).max()
                                                                       if scaled.size else 1)):
            decimals += 1
        cur = f" {self.currency}" if self.currency else ""
        out = []
        for v in values:
            text = format_number(v, scale=scale, decimals=decimals)
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            out.append(text + (suffix if text not in ("0", "-0") else "") + cur)
        return out

    def __call__(self, x: float, pos: int | None = None) -> str:
        locs = getattr(self, "locs", None)
        values = list(locs) if locs is not None and len(locs) else [x]
        return self.format_ticks(values + [x])[-1]

    def set_locs(self, locs) -> None:
        self.locs = locs

    def get_offset(self) -> str:
        return ""


def number_axis(axis, *, currency: str | None = None, integer: bool = False) -> None:
    """Put :class:`NumberFormatter` on ``axis`` (``ax.xaxis``/``ax.yaxis``); integer ticks
    only for counts."""
    from matplotlib.ticker import MaxNLocator

    from matplotlib.ticker import NullFormatter

    if integer and axis.get_scale() == "linear":
        axis.set_major_locator(MaxNLocator(nbins="auto", integer=True, min_n_ticks=3))
    axis.set_major_formatter(NumberFormatter(currency))
    if axis.get_scale() != "linear":
        axis.set_minor_formatter(NullFormatter())


# ------------------------------------------------------------------ periods on a time axis
_PERIODS = ("day", "week", "month", "quarter", "year")
_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}


def infer_period(starts, ends=None) -> str | None:
    """The period of a sequence of period starts ("day", "week", "month", "quarter",
    "year"), from the gaps between them or from ``ends``; None for a single start without
    an end.

    Examples
    --------
    >>> from datetime import date
    >>> infer_period([date(2025, 1, 1), date(2025, 4, 1), date(2025, 10, 1)])
    'quarter'
    >>> infer_period([date(2025, 1, 1)], [date(2026, 1, 1)])
    'year'
    >>> infer_period([date(2025, 1, 1)]) is None
    True
    """
    if ends is not None and len(starts):
        gaps = [(e - s).days for s, e in zip(starts, ends)]
    else:
        gaps = [(b - a).days for a, b in zip(starts, starts[1:])]
    gaps = [g for g in gaps if g > 0]
    if not gaps:
        return None
    step = min(gaps)
    for limit, name in ((1, "day"), (7, "week"), (31, "month"), (92, "quarter")):
        if step <= limit:
            return name
    return "year"


def period_label(start, period: str | None) -> str:
    """How a reader names the period starting at ``start``.

    Examples
    --------
    >>> from datetime import date
    >>> d = date(2025, 3, 1)
    >>> [period_label(d, p) for p in ("day", "week", "month", "quarter", "year")]
    ['1 Mar 2025', '1 Mar 2025', 'Mar 2025', '2025 Q1', '2025']
    """
    if period == "year":
        return f"{start.year}"
    if period == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    if period == "month":
        return f"{start:%b %Y}"
    return f"{start.day} {start:%b %Y}"


def _period_end(start, period: str | None):
    from datetime import timedelta

    if period in _PER_YEAR:
        months = 12 // _PER_YEAR[period]
        m = start.month - 1 + months
        return start.replace(year=start.year + m // 12, month=m % 12 + 1, day=1)
    return start + timedelta(days=7 if period == "week" else 1)


def period_axis(ax: Axes, starts, period: str | None, *, ends=None, axis: str = "x",
                max_labels: int | None = None) -> list[float]:
    """Label a time axis with periods: a tick at the middle of each period, the period's
    name ("2025 Q1", "Mar 2025") at each (or every k-th, when they would crowd; the others
    keep an unlabelled tick), and the axis limits fitted to the periods with a fifth of a
    period to spare on each side (half a period for a single period: one bar in the middle,
    never matplotlib's default of two years either side of a single date).

    Returns the middles of the periods (matplotlib date numbers) to draw bars or points at.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from datetime import date
    >>> fig, ax = plt.subplots()
    >>> starts = [date(2025, 1, 1), date(2025, 4, 1), date(2025, 7, 1)]
    >>> mids = period_axis(ax, starts, "quarter")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['2025 Q1', '2025 Q2', '2025 Q3']
    >>> plt.close(fig)
    """
    import math

    import matplotlib.dates as mdates
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    starts = list(starts)
    if ends is None:
        ends = [_period_end(s, period) for s in starts]
    lo = mdates.date2num(starts)
    hi = mdates.date2num(list(ends))
    mids = [float(a + (b - a) / 2) for a, b in zip(lo, hi)]
    labels = [period_label(s, period) for s in starts]
    n = len(starts)
    if max_labels is None:
        width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72
        longest = max((len(s) for s in labels), default=4)
        per_label = (longest * 0.55 + 1.5) * MIN_FONT_PT["tick"]
        max_labels = max(1, int(width_pt // per_label)) if axis == "x" else 15
    k = max(1, math.ceil(n / max_labels))
    per_year = _PER_YEAR.get(period or "")
    if k > 1 and per_year and per_year > 1:  # every 2, 3, 4, 6 or 12 months: whole years
        k = next((d for d in range(k, per_year + 1) if per_year % d == 0),
                 per_year * math.ceil(k / per_year))
    first = 0
    if per_year and k % per_year == 0 and period in ("month", "quarter"):
        first = next((i for i, s in enumerate(starts) if s.month == 1), 0) % k
    shown = list(range(first, n, k))
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(FixedLocator([mids[i] for i in shown]))
    target.set_major_formatter(FixedFormatter([labels[i] for i in shown]))
    target.set_minor_locator(FixedLocator(mids) if k > 1 else NullLocator())
    if n:
        # a fifth of a period each side; a single period gets half a period each side, so
        # it shows as one labelled bar (or point) in the middle, not a wall
        pad = (0.2 if n > 1 else 0.5) * float(min(b - a for a, b in zip(lo, hi)))
        limits = (float(lo[0]) - pad, float(hi[-1]) + pad)
        (ax.set_xlim if axis == "x" else ax.set_ylim)(*limits)
    if axis == "x":
        ax.grid(False, axis="x")
    return mids
