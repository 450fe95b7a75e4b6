"""Native PowerPoint charts read from matplotlib Axes: :func:`axes_to_chart` turns an Axes
into a :class:`ChartSpec` when it can express it faithfully (bars, stacked bars, lines,
scatter), and the deck draws that spec as a chart that carries its data (used by
:mod:`loyaltylab.report._deck`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["axes_to_chart", "ChartSpec"]


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
