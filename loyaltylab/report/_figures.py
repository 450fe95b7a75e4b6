"""Charts for reports: the facts footnote, slide/A4 sizing, PNG/SVG/PDF export."""

from __future__ import annotations

import io
import re
import textwrap
import threading
import unicodedata
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from collections.abc import Iterator, Sequence

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from loyaltylab.plots import MIN_FONT_PT, add_footnote

__all__ = ["Footnote", "SIZES", "FORMATS", "save_figure", "prepare_figure", "figure_title",
           "slugify"]

SIZES: dict[str, tuple[float, float]] = {
    "slide": (10.0, 5.625),
    "a4": (6.69, 4.46),
}
"""Figure sizes in inches. ``"slide"`` is 16:9 (drawn at 10 in wide, it fills the body of a
13.33 x 7.5 in PowerPoint slide under its title with fonts still readable); ``"a4"`` is the
text width of an A4 page with 2 cm margins (170 mm) at 3:2."""

FORMATS = ("png", "svg", "pdf")
"""The export formats :func:`save_figure` knows."""

# Export settings: text stays text in SVG (searchable, editable, scannable for personal
# data), TrueType fonts in PDF, and no random ids or dates so that re-runs give equal files.
_EXPORT_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "loyaltylab",
    "pdf.fonttype": 42,
    "savefig.bbox": "standard",
    "savefig.facecolor": "white",
}
_METADATA = {
    "png": {"Software": "loyaltylab"},
    "svg": {"Date": None, "Creator": "loyaltylab"},
    "pdf": {"CreationDate": None, "Creator": "loyaltylab", "Producer": "loyaltylab"},
}
_FOOTNOTE_FONTSIZE = MIN_FONT_PT["text"]
"""The footnote of a chart file, in points: the house minimum for a chart's text (the
report and the deck write it as text beside the chart instead)."""


def _fmt_date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Footnote:
    """The facts behind a chart, written as one footnote line.

    Every part is optional; the text lists the parts given, in this order: n, date range,
    confidence-interval method, definition, source, then any ``extra`` notes.

    Parameters
    ----------
    n : int, optional
        How many units the chart is based on.
    unit : str
        What ``n`` counts ("customers", "orders", "responses").
    start, end : date, datetime or str, optional
        The period the data covers (dates are written ISO 8601, ``2023-01-01``).
    ci : str, optional
        The confidence-interval method, e.g. ``"95% Wilson score interval"``.
    definition : str, optional
        The definition that decides the numbers, e.g. the churn rule
        ``"churned = no order for 180 days"``.
    source : str, optional
        Where the data came from.
    extra : sequence of str
        Further notes, appended as given.

    Examples
    --------
    >>> from datetime import date
    >>> fn = Footnote(n=4812, start=date(2023, 1, 1), end=date(2025, 12, 31),
    ...               ci="95% Wilson score interval",
    ...               definition="churned = no order for 180 days")
    >>> print(fn)
    n = 4,812 customers; 2023-01-01 to 2025-12-31; CI: 95% Wilson score interval; \
churned = no order for 180 days
    >>> str(Footnote())
    ''
    """

    n: int | None = None
    unit: str = "customers"
    start: Any = None
    end: Any = None
    ci: str | None = None
    definition: str | None = None
    source: str | None = None
    extra: Sequence[str] = field(default_factory=tuple)

    @property
    def parts(self) -> list[str]:
        """The footnote's parts, in order, as strings."""
        out = []
        if self.n is not None:
            out.append(f"n = {int(self.n):,} {self.unit}".rstrip())
        if self.start is not None and self.end is not None:
            out.append(f"{_fmt_date(self.start)} to {_fmt_date(self.end)}")
        elif self.start is not None:
            out.append(f"from {_fmt_date(self.start)}")
        elif self.end is not None:
            out.append(f"up to {_fmt_date(self.end)}")
        if self.ci:
            out.append(f"CI: {self.ci}")
        if self.definition:
            out.append(self.definition)
        if self.source:
            out.append(f"source: {self.source}")
        out.extend(str(e) for e in self.extra if e)
        return out

    @property
    def text(self) -> str:
        """The footnote text: the parts joined by ``"; "``."""
        return "; ".join(self.parts)

    def __str__(self) -> str:
        return self.text

    @classmethod
    def from_frame(cls, frame: Any, *, date_col: str, count_col: str | None = None,
                   unit: str = "customers", **parts: Any) -> Footnote:
        """Take n (distinct ``count_col`` values, or rows) and the date range from a frame.

        Examples
        --------
        >>> import polars as pl
        >>> from datetime import datetime
        >>> orders = pl.DataFrame({"customer_id": ["a", "a", "b"],
        ...     "ordered_at": [datetime(2024, 1, 5), datetime(2024, 3, 1),
        ...                    datetime(2024, 2, 9)]})
        >>> print(Footnote.from_frame(orders, date_col="ordered_at",
        ...                           count_col="customer_id"))
        n = 2 customers; 2024-01-05 to 2024-03-01
        """
        import polars as pl

        from loyaltylab._util import as_polars

        df = as_polars(frame)
        for col in [date_col] + ([count_col] if count_col else []):
            if col not in df.columns:
                raise ValueError(f"Footnote.from_frame: column {col!r} is not in the frame "
                                 f"(columns: {df.columns}); pass date_col=/count_col= "
                                 f"naming existing columns")
        stats = df.select(
            (pl.col(count_col).n_unique() if count_col else pl.len()).alias("n"),
            pl.col(date_col).min().alias("start"), pl.col(date_col).max().alias("end"),
        ).row(0, named=True)
        return cls(n=stats["n"], unit=unit, start=stats["start"], end=stats["end"], **parts)


def _as_figure(fig_or_ax: Any) -> Figure:
    if isinstance(fig_or_ax, Figure):
        return fig_or_ax
    if isinstance(fig_or_ax, Axes):
        return fig_or_ax.figure
    if hasattr(fig_or_ax, "figure") and isinstance(fig_or_ax.figure, Figure):
        return fig_or_ax.figure
    raise TypeError(f"expected a matplotlib Figure or Axes (what every plot_* function "
                    f"returns), got {type(fig_or_ax).__name__}")


def _resolve_size(size: str | tuple[float, float]) -> tuple[float, float]:
    if isinstance(size, str):
        if size not in SIZES:
            raise ValueError(f"size={size!r} is not a known size; use one of {list(SIZES)} "
                             f"or a (width, height) tuple in inches")
        return SIZES[size]
    try:
        w, h = (float(v) for v in size)
    except (TypeError, ValueError):
        raise TypeError(f"size must be {list(SIZES)} or a (width, height) tuple in inches, "
                        f"got {size!r}") from None
    if not (w > 0 and h > 0):
        raise ValueError(f"size={size!r}: width and height must be positive inches")
    return w, h


def figure_title(fig_or_ax: Any) -> str:
    """The chart's title: the figure's suptitle, else the first non-empty Axes title.

    Parameters
    ----------
    fig_or_ax : matplotlib Figure or Axes
        The chart.

    Returns
    -------
    str
        The title; empty when the chart has none.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(); _ = ax.set_title("Orders per month")
    >>> figure_title(ax)
    'Orders per month'
    >>> plt.close(fig)
    """
    fig = _as_figure(fig_or_ax)
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text().strip():
        return sup.get_text().strip()
    for ax in fig.axes:
        for loc in ("center", "left", "right"):
            title = ax.get_title(loc=loc).strip()
            if title:
                return title
    return ""


def _footnote_artists(fig: Figure) -> list[Any]:
    current = getattr(fig, "_loyaltylab_footnote", None)
    return [t for t in fig.texts
            if getattr(t, "_loyaltylab_is_footnote", False)
            or (current is not None and t.get_text() == current)]


def prepare_figure(fig_or_ax: Any, *, size: str | tuple[float, float] = "slide",
                   footnote: Footnote | str | None = None) -> Figure:
    """Size a figure for a slide or A4 page and draw its facts footnote inside the figure.

    The footnote is ``footnote`` when given, else the one a plot function already attached
    (:func:`loyaltylab.plots.add_footnote`). It is wrapped to the figure's width, drawn at
    the bottom edge, and the axes are laid out above it, so the saved file has exactly the
    requested size with nothing cut off. The figure is changed in place and returned.

    Parameters
    ----------
    fig_or_ax : matplotlib Figure or Axes
        The chart (an Axes stands for its figure).
    size : {"slide", "a4"} or (float, float), default "slide"
        Named size or (width, height) in inches.
    footnote : Footnote or str, optional
        The facts written under the chart; default the one a plot function attached.

    Returns
    -------
    matplotlib.figure.Figure
        The same figure, resized and with its footnote drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> fig = prepare_figure(ax, size="a4", footnote="n = 12 customers")
    >>> [round(float(v), 2) for v in fig.get_size_inches()], fig._loyaltylab_footnote
    ([6.69, 4.46], 'n = 12 customers')
    >>> plt.close(fig)
    """
    fig = _as_figure(fig_or_ax)
    width, height = _resolve_size(size)
    fig.set_size_inches(width, height, forward=False)
    text = str(footnote) if footnote is not None else getattr(fig, "_loyaltylab_footnote",
                                                              None)
    for artist in _footnote_artists(fig):
        artist.remove()
    _wrap_titles(fig)
    bottom = 0.0
    if text:
        # about 0.58 em per character of the footnote font (DejaVu Sans), in points
        chars = max(20, int(width * 72 / (_FOOTNOTE_FONTSIZE * 0.58)))
        wrapped = "\n".join(textwrap.fill(line, chars) for line in text.splitlines())
        if fig.axes:
            add_footnote(fig.axes[0], wrapped)
        else:
            fig.text(0.01, -0.02, wrapped, ha="left", va="top", parse_math=False)
        artist = fig.texts[-1]
        artist._loyaltylab_is_footnote = True
        artist.set_fontsize(_FOOTNOTE_FONTSIZE)
        artist.set_position((0.012, 0.012))
        artist.set_verticalalignment("bottom")
        fig._loyaltylab_footnote = text
        if not hasattr(fig.canvas, "get_renderer"):
            # a figure already shown and closed by Jupyter's inline backend keeps a bare
            # canvas; give it an Agg one to measure text on
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer()
        bottom = min(0.45, artist.get_window_extent(renderer).height / fig.bbox.height + 0.02)
    engine = fig.get_layout_engine()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if engine is not None and engine.__class__.__name__ == "ConstrainedLayoutEngine":
            engine.set(rect=(0, bottom, 1, 1 - bottom))
        elif fig.axes:
            fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig


def _wrap_titles(fig: Figure) -> None:
    """Break every Axes title wider than the figure into lines that fit across it."""
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    room = fig.bbox.width * 0.96
    for ax in fig.axes:
        for title in (ax.title, ax._left_title, ax._right_title):
            text = title.get_text()
            if not text.strip() or not title.get_visible():
                continue
            wide = title.get_window_extent(renderer).width
            if wide <= room:
                continue
            longest = max(len(line) for line in text.splitlines())
            chars = max(12, int(longest * room / wide))
            title.set_text("\n".join(textwrap.fill(line, chars)
                                     for line in text.replace("\n", " ").splitlines()))


_LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF")
"""OpenType layout tables (ligatures, kerning pairs, mark positions). A PDF places every
glyph itself and no viewer reads these tables, yet subsetting them is most of the time
matplotlib spends embedding a TrueType font (0.49 -> 0.25 s CPU for one slide-sized chart
with DejaVu Sans); the PDF's text stays selectable and searchable (its ToUnicode map is
kept)."""

_SUBSET_LOCK = threading.Lock()


class _LeanSubsetModule:
    """``fontTools.subset`` as matplotlib's PDF backend sees it while :func:`_lean_pdf_fonts`
    is active: the same module, except that its options drop the layout tables."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def Options(self, **kwargs: Any) -> Any:  # noqa: N802 - mirrors fontTools' class name
        options = self._module.Options(**kwargs)
        options.drop_tables += list(_LAYOUT_TABLES)
        return options


@contextmanager
def _lean_pdf_fonts() -> Iterator[None]:
    """While saving a PDF, drop the OpenType layout tables from the embedded font subsets.

    matplotlib subsets fonts with the ``fontTools.subset`` module that its
    ``_backend_pdf_ps`` imported, and gives no option for the tables it keeps; for the
    duration of one save (under a lock, so saves from several threads do not interleave)
    that module reference is replaced by :class:`_LeanSubsetModule`. fontTools itself is
    not touched, and a matplotlib without the reference is left as it is."""
    try:
        from matplotlib.backends import _backend_pdf_ps as pdf_ps
    except ImportError:  # pragma: no cover - matplotlib >= 3.5 has it
        yield
        return
    module = getattr(pdf_ps, "subset", None)
    if module is None or not hasattr(module, "Options"):  # pragma: no cover
        yield
        return
    with _SUBSET_LOCK:
        pdf_ps.subset = _LeanSubsetModule(module)
        try:
            yield
        finally:
            pdf_ps.subset = module


def render(fig: Figure, fmt: str, *, dpi: float = 300, footnote: bool = True) -> bytes:
    """The figure as ``fmt`` bytes. ``footnote=False`` hides the footnote and crops the
    margin (for HTML and slides, where the footnote is written as text beside the image)."""
    artists = _footnote_artists(fig) if not footnote else []
    for a in artists:
        a.set_visible(False)
    try:
        buf = io.BytesIO()
        with mpl.rc_context(_EXPORT_RC):
            kwargs: dict[str, Any] = {"format": fmt, "metadata": _METADATA.get(fmt)}
            if fmt == "png":
                kwargs["dpi"] = dpi
            if not footnote:
                kwargs.update(bbox_inches="tight", pad_inches=0.08)
            if fmt == "pdf":
                with _lean_pdf_fonts():
                    fig.savefig(buf, **kwargs)
            else:
                fig.savefig(buf, **kwargs)
        return buf.getvalue()
    finally:
        for a in artists:
            a.set_visible(True)


def save_figure(fig_or_ax: Any, path_stem: str | Path, *,
                size: str | tuple[float, float] = "slide",
                formats: Sequence[str] = FORMATS,
                footnote: Footnote | str | None = None, dpi: float = 300) -> list[Path]:
    """Save a chart as PNG (300 dpi), SVG and PDF, sized for a slide or an A4 page.

    Parameters
    ----------
    fig_or_ax : matplotlib Figure or Axes
        The chart, e.g. what a ``plot_*`` function returned.
    path_stem : str or Path
        Output path without suffix; ``charts/retention`` writes ``charts/retention.png``,
        ``.svg`` and ``.pdf``. Missing folders are created.
    size : "slide", "a4" or (width, height)
        ``"slide"``: 10 x 5.625 in (16:9); ``"a4"``: 6.69 x 4.46 in (A4 text width); or a
        tuple in inches.
    formats : sequence of {"png", "svg", "pdf"}
        Which files to write.
    footnote : Footnote or str, optional
        The facts behind the chart (n, date range, CI method, definitions), drawn under the
        chart. Default: the footnote a plot function attached, if any.
    dpi : float
        Resolution of the PNG (SVG and PDF are vector).

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Notes
    -----
    The figure is resized and laid out in place (see :func:`prepare_figure`). SVG keeps
    text as text and PDF embeds TrueType fonts, so both stay editable and searchable.

    Examples
    --------
    >>> import tempfile, matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(); _ = ax.plot([1, 2, 3]); _ = ax.set_title("Orders")
    >>> out = Path(tempfile.mkdtemp()) / "orders"
    >>> [p.name for p in save_figure(ax, out, footnote=Footnote(n=3, unit="orders"))]
    ['orders.png', 'orders.svg', 'orders.pdf']
    >>> plt.close(fig)
    """
    fig = _as_figure(fig_or_ax)
    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats={formats!r}: unknown or empty; choose from {FORMATS}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or dpi <= 0:
        raise ValueError(f"dpi={dpi!r} must be a positive number (300 for print)")
    prepare_figure(fig, size=size, footnote=footnote)
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.with_name(stem.name + "." + fmt)
        path.write_bytes(render(fig, fmt, dpi=dpi))
        paths.append(path)
    return paths


def slugify(text: str, *, max_length: int = 60) -> str:
    """A file-name-safe lower-case slug of a title, for chart file names.

    Examples
    --------
    >>> slugify("Retention by segment, 4,812 customers")
    'retention-by-segment-4812-customers'
    >>> slugify("Überblick: Käufe")
    'uberblick-kaufe'
    >>> slugify("!!!")
    'chart'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"(?<=\d),(?=\d)", "", ascii_text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:max_length].rstrip("-") or "chart"
