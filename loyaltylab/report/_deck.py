"""The deck: a 16:9 PowerPoint built from a report's findings, with native charts.

Slides, in order: title (client, date, source), agenda, executive summary (the findings'
headlines), then per section a section slide and one slide per finding (the headline as
title, its chart, what it means), methods, data quality, and an appendix (parts not
included, the remaining charts).

Charts are native PowerPoint charts that carry their data (bars, stacked bars, lines,
scatter) whenever :func:`axes_to_chart` can read the matplotlib Axes completely; anything it
cannot express faithfully (survival steps with bands, heat maps, error bars, log scales,
annotations) is placed as a picture at the report's ``image_dpi`` (150 by default: a
chart of a 10-inch slide figure is 1,500 pixels wide), the image the HTML report embeds. Each
chart's footnote goes into the slide's footer line and its speaker notes.

A user template (a ``.pptx`` master) replaces the default: its layouts are chosen by the
placeholders they hold (title, body, subtitle), never by position in the list, and a
missing placeholder is replaced by a text box.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from collections.abc import Sequence

from loyaltylab.exceptions import SourceError

__all__ = ["write_deck", "axes_to_chart", "ChartSpec", "fit_font_size"]

_EMU_PER_INCH = 914400
_EMU_PER_PT = 12700
_BULLET_INDENT = int(0.5 * _EMU_PER_INCH)
"""Room a bullet and its hanging indent take from a line (templates use about 0.3 in)."""
_DEFAULT_W, _DEFAULT_H = int(13.333 * _EMU_PER_INCH), int(7.5 * _EMU_PER_INCH)


# ------------------------------------------------------------------ text fitting
@lru_cache(maxsize=64)
def _font(size: float) -> Any:
    import matplotlib
    from PIL import ImageFont

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return ImageFont.truetype(str(path), size=max(1, int(round(size * 4))))


def _text_width_pt(text: str, size: float, bold: bool = False) -> float:
    # measured at 4x for precision; DejaVu Sans is wider than the Calibri/Carlito of the
    # default theme, so the estimate errs towards smaller text, never overflow
    return _font(size).getlength(text) / 4 * (1.05 if bold else 1.0)


def _lines_needed(paragraphs: Sequence[str], size: float, width_pt: float,
                  bold: bool = False) -> int:
    n = 0
    for para in paragraphs:
        words = para.split()
        if not words:
            n += 1
            continue
        line = ""
        count = 1
        for w in words:
            trial = f"{line} {w}" if line else w
            if _text_width_pt(trial, size, bold) <= width_pt:
                line = trial
            else:
                if line:
                    count += 1
                line = w
                # a single word longer than the line wraps by characters
                while _text_width_pt(line, size, bold) > width_pt and len(line) > 1:
                    cut = max(1, int(len(line) * width_pt / _text_width_pt(line, size, bold)))
                    line = line[cut:]
                    count += 1
        n += count
    return n


def fit_font_size(paragraphs: Sequence[str], width_emu: int, height_emu: int, *,
                  max_pt: float, min_pt: float, bold: bool = False,
                  spacing: float = 1.2, para_gap: float = 0.0,
                  indent: int = 0) -> float | None:
    """The largest font size (whole points, ``max_pt`` down to ``min_pt``) at which the
    paragraphs fit a text box of this size with its default insets; None if none fits.

    Text is measured with DejaVu Sans, which is wider than the deck's theme font, so a size
    that fits here fits on the slide.

    Examples
    --------
    >>> inch = 914400
    >>> fit_font_size(["A short title"], 10 * inch, 1 * inch, max_pt=32, min_pt=12)
    32
    >>> fit_font_size(["word " * 400], 3 * inch, 1 * inch, max_pt=32, min_pt=12) is None
    True
    """
    width_pt = (width_emu - indent) / _EMU_PER_PT - 14.4 - 2  # 0.1 in insets left, right
    height_pt = height_emu / _EMU_PER_PT - 7.2 - 2  # 0.05 in insets top and bottom
    size = int(max_pt)
    while size >= min_pt:
        lines = _lines_needed(paragraphs, size, width_pt, bold)
        need = lines * size * spacing + para_gap * size * max(0, len(paragraphs) - 1)
        if need <= height_pt:
            return size
        size -= 1
    return None


def _truncate_to_fit(text: str, width: int, height: int, size: float) -> str:
    """Shorten text with an ellipsis until it fits at ``size`` (last resort)."""
    words = text.split()
    while words and fit_font_size([" ".join(words) + " …"], width, height, max_pt=size,
                                  min_pt=size) is None:
        words = words[:-max(1, len(words) // 10)]
    return " ".join(words) + " …"


# ------------------------------------------------------------------ chart conversion
@dataclass
class ChartSpec:
    """What a native PowerPoint chart needs, read from a matplotlib Axes.

    ``kind``: ``"bar"``, ``"barh"``, ``"stacked"``, ``"stacked_h"``, ``"line"`` or
    ``"scatter"``. For category charts ``categories`` holds the labels and each series
    ``values``; for scatter each series has ``x`` and ``values`` (y).
    """

    kind: str
    categories: list[str] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    x_label: str = ""
    y_label: str = ""
    number_format: str = "General"
    x_number_format: str = "General"
    reverse_categories: bool = False
    data_labels: bool = False


_NUMBER_LABEL = re.compile(r"^[+\-−]?[\d.,\s]+%?$")


def _hex(color: Any) -> str | None:
    from matplotlib.colors import to_hex, to_rgba

    try:
        rgba = to_rgba(color)
    except (ValueError, TypeError):
        return None
    if rgba[3] == 0:
        return None
    return to_hex(rgba, keep_alpha=False)[1:].upper()


def _is_date_axis(axis: Any) -> bool:
    from matplotlib import dates as mdates

    fmt = axis.get_major_formatter()
    return isinstance(fmt, (mdates.AutoDateFormatter, mdates.ConciseDateFormatter,
                            mdates.DateFormatter))


def _has_date_units(axis: Any) -> bool:
    from matplotlib import dates as mdates

    conv = axis.get_converter() if hasattr(axis, "get_converter") else axis.converter
    return isinstance(conv, (mdates.DateConverter, mdates._SwitchableDateConverter))


def _value_format(axis: Any) -> tuple[str, float]:
    """(Excel number format, divisor) of a value axis, from its tick labels."""
    from matplotlib.ticker import PercentFormatter

    fmt = axis.get_major_formatter()
    if isinstance(fmt, PercentFormatter):
        return ("0%" if fmt.decimals in (None, 0) else "0.0%"), float(fmt.xmax)
    labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
    locs = [float(v) for v in axis.get_ticklocs()]
    if labels and all(lab.strip().endswith("%") for lab in labels):
        big = max((abs(v) for v in locs), default=0) > 1.5
        return "0%", (100.0 if big else 1.0)
    if any("," in lab for lab in labels) or max((abs(v) for v in locs), default=0) >= 1000:
        return "#,##0", 1.0
    return "General", 1.0


def _category_labels(axis: Any, positions: Sequence[float], spacing: float) -> list[str] | None:
    """Labels for bar or point positions from the axis ticks (None when a position has no
    tick label and the axis is not a date axis)."""
    from matplotlib import dates as mdates

    ticks = list(axis.get_majorticklocs())
    labels = [t.get_text() for t in axis.get_majorticklabels()]
    quarters = bool(labels) and len(ticks) == len(labels) and all(
        re.fullmatch(r"\d{4} Q[1-4]", x) for x in labels if x)
    # day numbers labelled as quarters are dates even without date units
    dated = _is_date_axis(axis) or _has_date_units(axis) or (
        quarters and all(5000 < t < 40000 for t in ticks))
    if _is_date_axis(axis) or len(ticks) != len(labels):
        if not dated:
            return None
        ticks, labels = [], []
    out = []
    for p in positions:
        best = min(range(len(ticks)), key=lambda i: abs(ticks[i] - p), default=None)
        if best is None or abs(ticks[best] - p) > spacing / 2 or not labels[best]:
            if dated:
                d = mdates.num2date(p)
                out.append(f"{d.year} Q{(d.month - 1) // 3 + 1}" if quarters else
                           d.strftime("%b %Y"))
                continue
            if float(p).is_integer():
                out.append(f"{int(p)}")
                continue
            return None
        out.append(labels[best])
    return out


def _bar_spec(ax: Any, containers: list[Any]) -> ChartSpec | None:
    orient = {getattr(c, "orientation", None) for c in containers}
    if len(orient) != 1 or None in orient:
        return None
    horizontal = orient == {"horizontal"}
    cat_axis, val_axis = (ax.yaxis, ax.xaxis) if horizontal else (ax.xaxis, ax.yaxis)
    rows = []
    for c in containers:
        pos, val, base, colors = [], [], [], []
        for p in c.patches:
            if horizontal:
                pos.append(p.get_y() + p.get_height() / 2)
                val.append(p.get_width())
                base.append(p.get_x())
            else:
                pos.append(p.get_x() + p.get_width() / 2)
                val.append(p.get_height())
                base.append(p.get_y())
            colors.append(_hex(p.get_facecolor()))
        rows.append((c, pos, val, base, colors))
    all_pos = sorted({round(p, 6) for _, pos, *_ in rows for p in pos})
    if not all_pos:
        return None
    same = all(len(pos) == len(rows[0][1]) and all(abs(a - b) < 1e-6 for a, b in
               zip(pos, rows[0][1])) for _, pos, *_ in rows)
    stacked = False
    if same and len(rows) > 1:
        cum = [0.0] * len(rows[0][1])
        stacked = True
        for _, _, val, base, _ in rows:
            if any(abs(b - c0) > 1e-6 * max(1.0, abs(c0)) for b, c0 in zip(base, cum)):
                stacked = False
                break
            cum = [c0 + v for c0, v in zip(cum, val)]
    elif any(abs(b) > 1e-9 for *_, base, _ in rows for b in base):
        return None
    if same:
        positions = rows[0][1]
        width = min((b - a for a, b in zip(all_pos, all_pos[1:])), default=1.0)
        labels = _category_labels(cat_axis, positions, width or 1.0)
        index = list(range(len(positions)))
        per_series = [list(range(len(positions)))] * len(rows)
    else:  # grouped bars: each bar belongs to the nearest tick
        ticks = list(cat_axis.get_majorticklocs())
        names = [t.get_text() for t in cat_axis.get_majorticklabels()]
        if not ticks or len(ticks) != len(names):
            return None
        per_series = []
        for _, pos, *_ in rows:
            per_series.append([min(range(len(ticks)), key=lambda i: abs(ticks[i] - p))
                               for p in pos])
        used = sorted({i for s in per_series for i in s})
        labels = [names[i] for i in used]
        index = used
    if labels is None or any(not lab for lab in labels):
        return None
    fmt, div = _value_format(val_axis)
    series = []
    for k, ((c, _, val, _, colors), slots) in enumerate(zip(rows, per_series)):
        values: list[float | None] = [None] * len(index)
        for slot, v in zip(slots, val):
            values[index.index(slot) if not same else slot] = float(v) / div
        name = c.get_label() or ""
        if name.startswith("_"):
            name = f"Series {k + 1}" if len(rows) > 1 else (val_axis.get_label_text()
                                                            or "Value")
        point_colors = colors if len(set(colors)) > 1 and len(rows) == 1 else None
        series.append({"name": name, "values": values,
                       "color": colors[0] if colors and len(set(colors)) == 1 else None,
                       "point_colors": point_colors})
    kind = ("stacked_h" if horizontal else "stacked") if stacked else (
        "barh" if horizontal else "bar")
    return ChartSpec(kind=kind, categories=labels, series=series, number_format=fmt,
                     reverse_categories=horizontal and ax.yaxis_inverted())


def _line_spec(ax: Any, lines: list[Any], scatters: list[Any]) -> ChartSpec | None:
    import numpy as np

    fmt, div = _value_format(ax.yaxis)
    xs = [np.asarray(ln.get_xdata(orig=False), dtype=float) for ln in lines]
    date_x = _is_date_axis(ax.xaxis)
    categorical = type(ax.xaxis.get_major_formatter()).__name__ == "StrCategoryFormatter"
    same_x = bool(lines) and not scatters and all(
        x.shape == xs[0].shape and np.allclose(x, xs[0]) for x in xs)
    series = []
    if same_x and (date_x or categorical):
        labels = _category_labels(ax.xaxis, list(xs[0]), 1.0 if categorical else
                                  float(np.min(np.diff(xs[0]))) if len(xs[0]) > 1 else 1.0)
        if labels is None:
            return None
        for k, ln in enumerate(lines):
            name = ln.get_label()
            series.append({"name": name if not name.startswith("_") else f"Series {k + 1}",
                           "values": [float(v) / div if np.isfinite(v) else None
                                      for v in np.asarray(ln.get_ydata(orig=False), float)],
                           "color": _hex(ln.get_color()), "marker": ln.get_marker()
                           not in (None, "None", "", " ")})
        return ChartSpec(kind="line", categories=labels, series=series, number_format=fmt)
    if categorical:
        return None
    x_fmt, x_div = ("m/yyyy", None) if date_x else (_value_format(ax.xaxis))
    for k, ln in enumerate(lines):
        x = xs[k]
        y = np.asarray(ln.get_ydata(orig=False), dtype=float)
        name = ln.get_label()
        series.append({"name": name if not name.startswith("_") else f"Series {k + 1}",
                       "x": [_x_value(v, date_x, x_div) for v in x],
                       "values": [float(v) / div if np.isfinite(v) else None for v in y],
                       "color": _hex(ln.get_color()), "line": True,
                       "marker": ln.get_marker() not in (None, "None", "", " ")})
    for k, sc in enumerate(scatters):
        off = np.asarray(sc.get_offsets(), dtype=float)
        if off.ndim != 2 or off.shape[1] != 2:
            return None
        fc = sc.get_facecolor()
        name = sc.get_label()
        series.append({"name": name if not name.startswith("_") else
                       f"Points {k + 1}", "x": [_x_value(v, date_x, x_div) for v in off[:, 0]],
                       "values": [float(v) / div for v in off[:, 1]],
                       "color": _hex(fc[0]) if len(fc) else None, "line": False,
                       "marker": True})
    return ChartSpec(kind="scatter", series=series, number_format=fmt, x_number_format=x_fmt)


def _x_value(v: float, date_x: bool, div: float | None) -> float | None:
    import math

    if not math.isfinite(v):
        return None
    if date_x:
        return float(v) + 25569.0  # matplotlib days since 1970 -> Excel serial date
    return float(v) / (div or 1.0)


def axes_to_chart(ax: Any) -> ChartSpec | None:
    """Read a matplotlib Axes into the data of a native chart, or None when the chart holds
    something a native chart would not show faithfully.

    Bar containers become (stacked) bar charts, Line2D objects line charts (shared dates or
    categories on x) or XY scatter charts, scatter points XY scatter; tick labels become
    categories, the axis labels axis titles, the title the chart title, percentage ticks a
    percentage format. Refused (a picture is used instead): images and meshes (heat maps),
    filled bands, error bars, step lines, log scales, lines drawn in axes coordinates,
    shapes that are not bars, and text other than plain value labels.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.bar(["north", "south"], [120, 80], label="customers")
    >>> spec = axes_to_chart(ax)
    >>> spec.kind, spec.categories, spec.series[0]["values"]
    ('bar', ['north', 'south'], [120.0, 80.0])
    >>> _ = ax.fill_between([0, 1], [0, 1], [1, 2])
    >>> axes_to_chart(ax) is None
    True
    >>> plt.close(fig)
    """
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer

    if ax.images or ax.get_xscale() != "linear" or ax.get_yscale() != "linear":
        return None
    containers = list(ax.containers)
    if any(not isinstance(c, BarContainer) for c in containers):
        return None  # error bars, stems
    bar_patches = {id(p) for c in containers for p in c.patches}
    if any(id(p) not in bar_patches for p in ax.patches):
        return None  # shaded bands, arrows
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    if len(scatters) != len(ax.collections):
        return None  # fill_between, error lines, meshes
    lines = [ln for ln in ax.lines if ln.get_visible()]
    if any(ln.get_transform() != ax.transData or ln.get_drawstyle() != "default"
           or ln.get_linestyle() in ("None", "", " ") and ln.get_marker() in ("None", "", " ")
           for ln in lines):
        return None  # reference lines across the axes, steps
    texts = [t.get_text().strip() for t in ax.texts if t.get_visible() and t.get_text()]
    if any(not _NUMBER_LABEL.match(t) for t in texts):
        return None  # annotations that explain something
    if containers and (lines or scatters):
        return None
    if containers:
        spec = _bar_spec(ax, containers)
    elif lines or scatters:
        spec = _line_spec(ax, lines, scatters)
    else:
        return None
    if spec is None or not spec.series:
        return None
    spec.title = ax.get_title()
    spec.x_label, spec.y_label = ax.get_xlabel(), ax.get_ylabel()
    spec.data_labels = bool(texts) and spec.kind in ("bar", "barh")
    return spec


def _figure_chart(fig: Any) -> ChartSpec | None:
    axes = [a for a in fig.axes if a.get_visible() and a.has_data()]
    if len(axes) != 1 or len(fig.axes) != 1:
        return None  # several panels, a colour bar
    try:
        return axes_to_chart(axes[0])
    except Exception:  # noqa: BLE001 - an unreadable chart falls back to its picture
        return None


def _add_native_chart(slide: Any, spec: ChartSpec, box: tuple[int, int, int, int]) -> Any:
    from pptx.chart.data import CategoryChartData, XyChartData
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
    from pptx.util import Pt

    kinds = {"bar": XL_CHART_TYPE.COLUMN_CLUSTERED, "barh": XL_CHART_TYPE.BAR_CLUSTERED,
             "stacked": XL_CHART_TYPE.COLUMN_STACKED, "stacked_h": XL_CHART_TYPE.BAR_STACKED,
             "line": XL_CHART_TYPE.LINE_MARKERS, "scatter": XL_CHART_TYPE.XY_SCATTER_LINES}
    if spec.kind == "scatter":
        data = XyChartData()
        for s in spec.series:
            ser = data.add_series(s["name"], number_format=spec.number_format)
            for x, y in zip(s["x"], s["values"]):
                if x is not None and y is not None:
                    ser.add_data_point(x, y)
    else:
        data = CategoryChartData(number_format=spec.number_format)
        data.categories = spec.categories
        for s in spec.series:
            data.add_series(s["name"], s["values"])
    frame = slide.shapes.add_chart(kinds[spec.kind], *box, data)
    frame.name = "Chart"
    chart = frame.chart
    chart.font.size = Pt(12)
    if spec.title:
        chart.has_title = True
        chart.chart_title.text_frame.text = spec.title
        for para in chart.chart_title.text_frame.paragraphs:
            for run in para.runs:
                run.font.size = Pt(14)
                run.font.bold = False
    else:
        chart.has_title = False
    chart.has_legend = len(spec.series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
    plot = chart.plots[0]
    if spec.kind in ("bar", "barh"):
        plot.gap_width = 60
        if len(spec.series) > 1:
            plot.overlap = 0
    if spec.kind in ("stacked", "stacked_h"):
        plot.gap_width = 60
        plot.overlap = 100
    if spec.data_labels:
        plot.has_data_labels = True
        plot.data_labels.number_format = spec.number_format
        plot.data_labels.number_format_is_linked = False
        plot.data_labels.font.size = Pt(11)
    for s, ser in zip(spec.series, plot.series):
        color = s.get("color")
        if spec.kind in ("line", "scatter"):
            if color:
                ser.format.line.color.rgb = RGBColor.from_string(color)
            ser.format.line.width = Pt(2.25)
            if spec.kind == "scatter" and not s.get("line", True):
                ser.format.line.fill.background()
            if not s.get("marker"):
                from pptx.enum.chart import XL_MARKER_STYLE

                ser.marker.style = XL_MARKER_STYLE.NONE
            elif color:
                ser.marker.format.fill.solid()
                ser.marker.format.fill.fore_color.rgb = RGBColor.from_string(color)
            ser.smooth = False
        else:
            if color:
                ser.format.fill.solid()
                ser.format.fill.fore_color.rgb = RGBColor.from_string(color)
            for i, pc in enumerate(s.get("point_colors") or []):
                if pc:
                    pt = ser.points[i]
                    pt.format.fill.solid()
                    pt.format.fill.fore_color.rgb = RGBColor.from_string(pc)
    value_axis = chart.value_axis
    value_axis.tick_labels.number_format = spec.number_format
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = RGBColor(0xDD, 0xDD, 0xDD)
    cat_axis = chart.category_axis
    if spec.kind == "scatter" and spec.x_number_format != "General":
        cat_axis.tick_labels.number_format = spec.x_number_format
        cat_axis.tick_labels.number_format_is_linked = False
    if spec.reverse_categories:
        cat_axis.reverse_order = True
    for axis, label in ((cat_axis, spec.x_label), (value_axis, spec.y_label)):
        if spec.kind in ("barh", "stacked_h"):
            label = spec.y_label if axis is cat_axis else spec.x_label
        if label:
            axis.has_title = True
            axis.axis_title.text_frame.text = label
            for para in axis.axis_title.text_frame.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(12)
                    run.font.bold = False
    return frame


# ------------------------------------------------------------------ template
def _placeholder_kinds(layout: Any) -> list[tuple[str, float]]:
    """(kind, area) of a layout's placeholders: title, subtitle, body, picture, other."""
    from pptx.enum.shapes import PP_PLACEHOLDER as P

    names = {P.TITLE: "title", P.CENTER_TITLE: "title", P.SUBTITLE: "subtitle",
             P.BODY: "body", P.OBJECT: "body", P.PICTURE: "picture", P.CHART: "other",
             P.TABLE: "other", P.MEDIA_CLIP: "other", P.ORG_CHART: "other",
             P.BITMAP: "other"}
    out = []
    for ph in layout.placeholders:
        kind = names.get(ph.placeholder_format.type)
        if kind:
            try:
                area = float((ph.width or 0) * (ph.height or 0))
            except (AttributeError, TypeError):
                area = 0.0
            out.append((kind, area))
    return out


def _pick_layout(prs: Any, want: str) -> Any:
    """A layout by the placeholders it holds, never by its position in the list.

    title: a title and a subtitle; content: a title and one large body; title_only: a
    title and as little else as possible; section: a layout named like a section header,
    else a title with the smallest body. Missing kinds are allowed (the nearest layout is
    used and text boxes stand in), so any master works.
    """
    layouts = list(prs.slide_layouts)
    page = float(prs.slide_width * prs.slide_height) or 1.0
    wanted = {"title": {"title", "subtitle"}, "content": {"title", "body"},
              "title_only": {"title"}, "section": {"title", "body"}}[want]

    def score(layout: Any) -> tuple[float, ...]:
        kinds = _placeholder_kinds(layout)
        types = {k for k, _ in kinds}
        miss = len(wanted - types)
        extra = sum(1 for k, _ in kinds if k not in wanted)
        bodies = sorted((a / page for k, a in kinds if k == "body"), reverse=True)
        named = "section" in layout.name.lower()
        if want == "content":
            return (miss, len(bodies) > 1, -(bodies[0] if bodies else 0.0), extra)
        if want == "section":
            return (miss, not named, bodies[0] if bodies else 1.0, extra)
        if want == "title_only":
            return (miss, extra + len(bodies) + (types >= {"subtitle"}), 0.0)
        return (miss, extra, 0.0)

    return min(layouts, key=score)


def _default_presentation() -> Any:
    """python-pptx's default template widened to 16:9: every master and layout
    placeholder is stretched with the slide, so titles sit where a 16:9 master puts
    them."""
    from pptx import Presentation

    prs = Presentation()
    old_w = prs.slide_width
    prs.slide_width, prs.slide_height = _DEFAULT_W, _DEFAULT_H
    ratio = _DEFAULT_W / old_w
    for master in prs.slide_masters:
        for shapes in [master.shapes] + [layout.shapes for layout in master.slide_layouts]:
            for shape in shapes:
                # only shapes with their own position: the others inherit the scaled one
                own = shape._element.xpath("./p:spPr/a:xfrm/a:off")
                if own and shape.width is not None:
                    top, height = shape.top, shape.height
                    shape.left, shape.width = int(shape.left * ratio), int(shape.width * ratio)
                    shape.top, shape.height = top, height
    return prs


def _open_template(template: str | Path) -> Any:
    from pptx import Presentation

    path = Path(template)
    try:
        prs = Presentation(str(path))
    except FileNotFoundError:
        raise SourceError(f"deck template {path.name!r} not found; give the path of a "
                          f".pptx file") from None
    except Exception as exc:  # noqa: BLE001 - python-pptx raises many kinds
        raise SourceError(f"deck template {path.name!r} is not a PowerPoint file "
                          f"({type(exc).__name__}); save the master as .pptx") from None
    # a template may carry example slides: the deck starts empty
    ids = prs.slides._sldIdLst
    for sld in list(ids):
        prs.part.drop_rel(sld.rId)
        ids.remove(sld)
    return prs


# ------------------------------------------------------------------ the deck
class _Deck:
    def __init__(self, prs: Any, report: Any, *, own_design: bool = True) -> None:
        from pptx.dml.color import RGBColor

        self.own_design = own_design  # False: a user's template decides alignment
        self.prs = prs
        self.report = report
        self.brand = report.brand
        accent = self.brand.accent if self.brand else "#0072B2"
        self.accent = RGBColor.from_string(accent.lstrip("#"))
        self.W, self.H = prs.slide_width, prs.slide_height
        self.margin = int(0.5 * _EMU_PER_INCH)
        self.footer_h = int(0.55 * _EMU_PER_INCH)
        self.layouts = {k: _pick_layout(prs, k) for k in
                        ("title", "content", "title_only", "section")}

    # -- building blocks
    def new_slide(self, kind: str) -> Any:
        slide = self.prs.slides.add_slide(self.layouts[kind])
        return slide

    def _drop_empty_placeholders(self, slide: Any) -> None:
        for ph in list(slide.placeholders):
            if ph.has_text_frame and not ph.text_frame.text.strip():
                ph._element.getparent().remove(ph._element)

    def _placeholder(self, slide: Any, kinds: set[str]) -> Any:
        from pptx.enum.shapes import PP_PLACEHOLDER as P

        types = {"title": (P.TITLE, P.CENTER_TITLE), "subtitle": (P.SUBTITLE,),
                 "body": (P.BODY, P.OBJECT)}
        for ph in slide.placeholders:
            if any(ph.placeholder_format.type in types[k] for k in kinds):
                return ph
        return None

    def set_text(self, shape: Any, paragraphs: Sequence[str], *, max_pt: float,
                 min_pt: float, bold: bool = False, color: Any = None,
                 bullets: bool = False) -> None:
        from pptx.enum.text import MSO_AUTO_SIZE
        from pptx.util import Pt

        paragraphs = [p for p in paragraphs if p is not None]
        tf = shape.text_frame
        tf.word_wrap = True
        tf.auto_size = MSO_AUTO_SIZE.NONE
        indent = _BULLET_INDENT if bullets else 0
        size = fit_font_size(paragraphs, shape.width, shape.height, max_pt=max_pt,
                             min_pt=min_pt, bold=bold, para_gap=0.3 if bullets else 0.0,
                             indent=indent)
        if size is None:
            size = min_pt
            paragraphs = self._shorten(paragraphs, shape.width - indent, shape.height,
                                       min_pt, 0.3 if bullets else 0.0)
        tf.clear()
        for i, text in enumerate(paragraphs):
            para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            run = para.add_run()
            run.text = text
            run.font.size = Pt(size)
            run.font.bold = bold
            if color is not None:
                run.font.color.rgb = color
            # spacing set here, not left to the template (its 10 pt before each
            # paragraph and 90 % lines would make the measured text overflow)
            para.space_before = Pt(0)
            para.line_spacing = 1.0
            para.space_after = Pt(size * 0.3) if bullets else Pt(0)

    def _shorten(self, paragraphs: list[str], width: int, height: int, size: float,
                 gap: float) -> list[str]:
        out = list(paragraphs)
        while len(out) > 1 and fit_font_size(out, width, height, max_pt=size, min_pt=size,
                                             para_gap=gap) is None:
            out = out[:-1]
        if fit_font_size(out, width, height, max_pt=size, min_pt=size, para_gap=gap) is None:
            out = [_truncate_to_fit(out[0], width, height, size)]
        return out

    def title(self, slide: Any, text: str, *, max_pt: float = 30,
              min_pt: float = 16, align_left: bool = True) -> Any:
        ph = self._placeholder(slide, {"title"})
        if ph is None:
            ph = slide.shapes.add_textbox(self.margin, int(0.3 * _EMU_PER_INCH),
                                          self.W - 2 * self.margin,
                                          int(1.0 * _EMU_PER_INCH))
            ph.name = "Title"
        self.set_text(ph, [text], max_pt=max_pt, min_pt=min_pt, color=None)
        if self.own_design and align_left:
            from pptx.enum.text import PP_ALIGN

            for para in ph.text_frame.paragraphs:
                para.alignment = PP_ALIGN.LEFT
        return ph

    def content_box(self, slide: Any, title: Any) -> tuple[int, int, int, int]:
        top = int(title.top + title.height + 0.1 * _EMU_PER_INCH)
        left = max(self.margin, int(title.left)) if title.left is not None else self.margin
        width = min(self.W - left - self.margin, int(title.width)) if title.width else \
            self.W - 2 * self.margin
        bottom = self.H - self.footer_h - int(0.1 * _EMU_PER_INCH)
        return left, top, width, max(bottom - top, int(_EMU_PER_INCH))

    def body(self, slide: Any, title: Any, paragraphs: Sequence[str], *, max_pt: float = 22,
             min_pt: float = 12) -> Any:
        left, top, width, height = self.content_box(slide, title)
        ph = self._placeholder(slide, {"body"})
        if ph is None:
            ph = slide.shapes.add_textbox(left, top, width, height)
            ph.name = "Body"
        else:
            ph.left, ph.top, ph.width, ph.height = left, top, width, height
        self.set_text(ph, paragraphs, max_pt=max_pt, min_pt=min_pt, bullets=True)
        return ph

    def accent_bar(self, slide: Any, top: int) -> None:
        from pptx.enum.shapes import MSO_SHAPE

        bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, self.margin, top,
                                     int(1.2 * _EMU_PER_INCH), int(0.06 * _EMU_PER_INCH))
        bar.name = "Accent"
        bar.fill.solid()
        bar.fill.fore_color.rgb = self.accent
        bar.line.fill.background()

    def footer(self, slide: Any, text: str | None, *, notes: str | None = None) -> None:
        from pptx.dml.color import RGBColor
        from pptx.util import Pt

        logo_w = 0
        if self.brand is not None and self.brand.logo_bytes:
            logo_w = self.logo(slide, right=self.W - self.margin,
                               top=self.H - self.footer_h + int(0.08 * _EMU_PER_INCH),
                               max_h=int(0.4 * _EMU_PER_INCH),
                               max_w=int(1.5 * _EMU_PER_INCH))
        if text:
            box = slide.shapes.add_textbox(self.margin, self.H - self.footer_h,
                                           self.W - 2 * self.margin - logo_w
                                           - (int(0.2 * _EMU_PER_INCH) if logo_w else 0),
                                           self.footer_h - int(0.05 * _EMU_PER_INCH))
            box.name = "Footnote"
            self.set_text(box, [text], max_pt=11, min_pt=8, color=RGBColor(0x44, 0x44, 0x44))
        note = notes if notes is not None else text
        if note:
            slide.notes_slide.notes_text_frame.text = note
        del Pt

    def logo(self, slide: Any, *, right: int, top: int, max_h: int, max_w: int) -> int:
        from PIL import Image

        data = self.brand.logo_bytes
        w_px, h_px = Image.open(io.BytesIO(data)).size
        scale = min(max_w / w_px, max_h / h_px)
        w, h = int(w_px * scale), int(h_px * scale)
        pic = slide.shapes.add_picture(io.BytesIO(data), right - w, top, w, h)
        pic.name = "Logo"
        return w

    def chart(self, slide: Any, item: Any, box: tuple[int, int, int, int]) -> str:
        """A native chart when the figure converts, else its picture; returns which."""
        from PIL import Image

        spec = _figure_chart(item.fig)
        if spec is not None:
            _add_native_chart(slide, spec, box)
            return "native"
        png = self.report._image(item)  # the HTML's image: rendered once per report
        left, top, width, height = box
        w_px, h_px = Image.open(io.BytesIO(png)).size
        scale = min(width / w_px, height / h_px)
        w, h = int(w_px * scale), int(h_px * scale)
        pic = slide.shapes.add_picture(io.BytesIO(png), left + (width - w) // 2, top, w, h)
        pic.name = "Chart picture"
        return "picture"

    # -- slides
    def title_slide(self) -> None:
        rep = self.report
        slide = self.new_slide("title")
        self.title(slide, rep.title, max_pt=40, min_pt=20, align_left=False)
        lines = []
        if self.brand is not None and self.brand.client:
            lines.append(f"Prepared for {self.brand.client}")
        if rep.subtitle:
            lines.append(rep.subtitle)
        from loyaltylab.report._figures import _fmt_date

        when = _fmt_date(rep.as_of) if rep.as_of is not None else None
        facts = [x for x in (f"Data: {rep.source}" if rep.source else None,
                             f"as of {when}" if when else None) if x]
        if facts:
            lines.append(", ".join(facts))
        lines.append(f"Prepared {date.today().strftime('%-d %B %Y')}")
        sub = self._placeholder(slide, {"subtitle", "body"})
        if sub is None:
            sub = slide.shapes.add_textbox(self.margin, int(self.H * 0.55),
                                           self.W - 2 * self.margin, int(self.H * 0.3))
            sub.name = "Subtitle"
        self.set_text(sub, lines, max_pt=20, min_pt=11)
        if self.brand is not None and self.brand.logo_bytes:
            self.logo(slide, right=self.W - self.margin, top=self.margin,
                      max_h=int(1.1 * _EMU_PER_INCH), max_w=int(3 * _EMU_PER_INCH))
        skipped = rep.skipped
        if skipped:
            slide.notes_slide.notes_text_frame.text = "Not included: " + "; ".join(
                f"{c}: {r}" for c, r in skipped)
        self._drop_empty_placeholders(slide)

    def list_slide(self, title: str, paragraphs: Sequence[str], *, notes: str | None = None,
                   max_pt: float = 22) -> None:
        """One or more slides of bullet paragraphs: split so each fits at 12 pt."""
        pages = self._paginate(paragraphs)
        for k, page in enumerate(pages):
            slide = self.new_slide("content")
            head = title if len(pages) == 1 else f"{title} ({k + 1} of {len(pages)})"
            t = self.title(slide, head)
            self.accent_bar(slide, int(t.top + t.height))
            self.body(slide, t, page, max_pt=max_pt)
            self.footer(slide, None, notes=notes)
            self._drop_empty_placeholders(slide)

    def _paginate(self, paragraphs: Sequence[str]) -> list[list[str]]:
        probe = self.prs.slides.add_slide(self.layouts["content"])
        t = self.title(probe, "Probe")
        _, _, width, height = self.content_box(probe, t)
        ids = self.prs.slides._sldIdLst
        sld = ids[-1]
        self.prs.part.drop_rel(sld.rId)
        ids.remove(sld)
        pages: list[list[str]] = [[]]
        for para in paragraphs:
            trial = pages[-1] + [para]
            if pages[-1] and fit_font_size(trial, width, height, max_pt=12, min_pt=12,
                                           para_gap=0.3, indent=_BULLET_INDENT) is None:
                pages.append([para])
            else:
                pages[-1] = trial
        return [p for p in pages if p] or [[""]]

    def section_slide(self, text: str, subtitle: str | None = None) -> None:
        slide = self.new_slide("section")
        t = self.title(slide, text, max_pt=36, min_pt=20)
        if subtitle:
            body = self._placeholder(slide, {"body"})
            if body is not None:
                self.set_text(body, [subtitle], max_pt=18, min_pt=11)
        self._drop_empty_placeholders(slide)
        del t

    def chart_slide(self, title: str, item: Any | None, meaning: str | None) -> str | None:
        slide = self.new_slide("title_only")
        t = self.title(slide, title, max_pt=28, min_pt=16)
        self.accent_bar(slide, int(t.top + t.height))
        left, top, width, height = self.content_box(slide, t)
        top += int(0.1 * _EMU_PER_INCH)
        height -= int(0.1 * _EMU_PER_INCH)
        kind = None
        if meaning and item is None:
            box = slide.shapes.add_textbox(left, top, width, height)
            box.name = "Meaning"
            self.set_text(box, [meaning], max_pt=24, min_pt=12)
            chart_w = width
        elif meaning:
            side = int(width * 0.3)
            gap = int(0.25 * _EMU_PER_INCH)
            chart_w = width - side - gap
            box = slide.shapes.add_textbox(left + chart_w + gap, top, side, height)
            box.name = "Meaning"
            from pptx.dml.color import RGBColor

            self.set_text(box, [meaning], max_pt=20, min_pt=12,
                          color=RGBColor(0x1F, 0x1F, 0x1F))
        else:
            chart_w = width
        if item is not None:
            kind = self.chart(slide, item, (left, top, chart_w, height))
        self.footer(slide, item.footnote if item is not None else None)
        self._drop_empty_placeholders(slide)
        return kind

    def table_slide(self, title: str, frame: Any, *, note: str | None = None,
                    max_rows: int = 10) -> None:
        from pptx.util import Pt

        from loyaltylab.report._builder import _fmt_cell

        slide = self.new_slide("title_only")
        t = self.title(slide, title)
        self.accent_bar(slide, int(t.top + t.height))
        left, top, width, height = self.content_box(slide, t)
        top += int(0.1 * _EMU_PER_INCH)
        shown = frame.head(max_rows)
        rows, cols = shown.height + 1, shown.width
        row_h = int(0.4 * _EMU_PER_INCH)
        shape = slide.shapes.add_table(rows, cols, left, top, width, row_h * rows)
        shape.name = "Table"
        table = shape.table
        numeric = [dt.is_numeric() for dt in shown.dtypes]
        for j, col in enumerate(shown.columns):
            table.cell(0, j).text = str(col)
        for i, row in enumerate(shown.iter_rows(), start=1):
            for j, v in enumerate(row):
                table.cell(i, j).text = _fmt_cell(v)
        for i in range(rows):
            for j in range(cols):
                cell = table.cell(i, j)
                for para in cell.text_frame.paragraphs:
                    if numeric[j] and i:
                        from pptx.enum.text import PP_ALIGN

                        para.alignment = PP_ALIGN.RIGHT
                    for run in para.runs:
                        run.font.size = Pt(12)
        more = (f"Showing {shown.height:,} of {frame.height:,} rows; all are in the "
                f"workbook." if frame.height > shown.height else None)
        self.footer(slide, " ".join(x for x in (note, more) if x) or None)
        self._drop_empty_placeholders(slide)


def _sections(report: Any) -> list[tuple[str, list[Any]]]:
    """(heading, items) in report order."""
    from loyaltylab.report._builder import _Heading

    out: list[tuple[str, list[Any]]] = [("", [])]
    for item in report._state.items:
        if isinstance(item, _Heading):
            out.append((item.text, []))
        else:
            out[-1][1].append(item)
    return out


def write_deck(report: Any, path: str | Path, *, template: str | Path | None = None) -> Path:
    """Write the report's deck (see the module docstring for the slides).

    Parameters
    ----------
    report : Report
    path : str or Path
        The ``.pptx`` to write.
    template : str or Path, optional
        A ``.pptx`` whose masters and layouts replace the default 16:9 design; its own
        slides are not copied.

    Returns
    -------
    Path
    """
    from loyaltylab.report._builder import _Figure

    prs = _default_presentation() if template is None else _open_template(template)
    props = prs.core_properties
    props.title, props.author, props.last_modified_by = report.title, "loyaltylab", \
        "loyaltylab"
    props.subject, props.comments, props.keywords = "", "", ""
    deck = _Deck(prs, report, own_design=template is None)
    figures = {i.name: i for i in report._state.items if isinstance(i, _Figure)}
    findings = report.findings
    sections = _sections(report)
    by_section: dict[str, list[Any]] = {}
    for f in findings:
        by_section.setdefault(f.section or "Overview", []).append(f)
    headings = [h for h, _ in sections]
    # a finding about no section of the report (data quality) comes first, under its name
    order = [k for k in by_section if k not in headings] + [
        h for h in headings if h in by_section]
    skipped = report.skipped

    deck.title_slide()
    agenda = (["Executive summary"] if findings else []) + order
    agenda += ["Methods and data quality", "Appendix"]
    deck.list_slide("Agenda", agenda, max_pt=24)
    if findings:
        deck.list_slide("Executive summary", [f.headline for f in findings[:8]],
                        notes="\n".join(f"{f.headline} {f.meaning}" for f in findings))
    used: set[str] = set()
    for heading in order:
        deck.section_slide(heading)
        for f in by_section[heading]:
            item = figures.get(f.figure) if f.figure else None
            if item is not None:
                used.add(item.name)
            deck.chart_slide(f.headline, item, f.meaning)
    methods = [f"{m.heading}: {m.text}" if m.heading else m.text
               for m in report._state.methods]
    methods.append("Tables and charts show aggregates only: no names, e-mail addresses, "
                   "phone numbers or customer identifiers.")
    deck.list_slide("Methods", [re.sub(r"\s+", " ", m).strip() for m in methods])
    lr = report._state.load_report
    if lr is not None and lr.tables:
        deck.table_slide("Data quality: rows read, kept and rejected", _dq_summary(lr),
                         note="Reasons for every rejected row are on the Data quality sheet "
                              "of the workbook.")
    deck.section_slide("Appendix", "Parts not included and further charts")
    if skipped:
        deck.list_slide("Not included, and why", [f"{c}: {r}" for c, r in skipped])
    for name, item in figures.items():
        if name not in used:
            deck.chart_slide(item.title, item, None)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(path))
    return path


def _dq_summary(load_report: Any) -> Any:
    import polars as pl

    rows = []
    for name, t in load_report.tables.items():
        excluded = sum(int(e["n"]) for e in t.excluded.values())
        rows.append((name, t.read, t.kept, t.rejected, excluded))
    return pl.DataFrame(rows, schema={"Table": pl.String, "Rows read": pl.Int64,
                                      "Kept": pl.Int64, "Rejected": pl.Int64,
                                      "Set aside by rules": pl.Int64}, orient="row")
