"""Charts of loyaltylab.plots.metrics: they draw what the result frames hold."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

import loyaltylab as ll  # noqa: E402

M, P = ll.metrics, ll.plots


@pytest.fixture(scope="module")
def data():
    return ll.datasets.make_crm(1500, years=3, seed=5)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_every_chart_returns_axes_with_counting_title(data):
    cases = [
        (P.plot_contact_frequency, M.contact_frequency(data), "contacts"),
        (P.plot_conversion, M.contact_conversion(data), "contacts"),
        (P.plot_cohort_heatmap, M.cohort_retention(data, period="quarter"), "customers"),
        (P.plot_defection, M.defection_rate(data), "customer-periods"),
        (P.plot_whale_curve, M.whale_curve(data, margin=0.4), "customers"),
        (P.plot_resolution_retention, M.retention_by_resolution(data), "customers"),
        (P.plot_dose_response, M.email_dose_response(data), "e-mail"),
        (P.plot_scorecard, M.scorecard(data), "figures"),
        (P.plot_rate_bars, M.early_life_churn(data), "in all"),
    ]
    for fn, frame, word in cases:
        ax = fn(frame)
        assert isinstance(ax, Axes), fn.__name__
        assert word in ax.get_title(), (fn.__name__, ax.get_title())
        assert getattr(ax.figure, "_loyaltylab_footnote", ""), fn.__name__


def test_charts_draw_the_frame_values(data):
    conv = M.contact_conversion(data)
    ax = P.plot_conversion(conv)
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == sorted(round(v * 100, 6) for v in conv["value"].to_list())
    w = M.whale_curve(data, margin=0.4)
    ax = P.plot_whale_curve(w)
    y = ax.lines[0].get_ydata()
    assert y[-1] == pytest.approx(100.0)
    assert max(y) == pytest.approx(w["cumulative_share"].max() * 100)


def test_heatmap_cells_hold_rates(data):
    cr = M.cohort_retention(data, period="quarter")
    ax = P.plot_cohort_heatmap(cr)
    arr = ax.images[0].get_array()
    first = cr.filter(pl.col("cohort") == cr["cohort"].min()).sort("period")
    assert float(arr[0, 1]) == pytest.approx(first["rate"][1] * 100)


def test_wrong_frame_raises(data):
    with pytest.raises(ValueError, match="plot_cohort_heatmap: the result frame lacks"):
        P.plot_cohort_heatmap(M.contact_conversion(data))
    with pytest.raises(ValueError, match="plot_scorecard: the result frame lacks"):
        P.plot_scorecard(M.cohort_retention(data))


def test_given_axes_is_used(data):
    fig, ax = plt.subplots()
    out = P.plot_defection(M.defection_rate(data, period="quarter"), ax=ax)
    assert out is ax


def test_departure_reasons_chart_draws_each_defined_ratio(data):
    r = M.departure_reasons(data)
    ax = P.plot_departure_reasons(r)
    shown = r.filter(pl.col("rr_ci_low").is_not_null())
    # one point per defined ratio, at the ratio, top row first
    xs = ax.collections[1].get_offsets()[:, 0]
    assert list(xs) == pytest.approx(shown["risk_ratio"].to_list()[::-1])
    assert [t.get_text() for t in ax.get_yticklabels()] == shown["reason"].to_list()[::-1]
    assert ax.get_xscale() == "log"
    missing = r.with_columns(pl.lit(None, dtype=pl.Float64).alias("rr_ci_low")).head(1)
    ax2 = P.plot_departure_reasons(pl.concat([shown, missing]))
    assert r["reason"][0] in ax2.figure._loyaltylab_footnote


def test_defection_points_sit_on_their_named_periods(data):
    import matplotlib.dates as mdates
    import numpy as np

    for period, pattern in (("year", r"^\d{4}$"), ("quarter", r"^\d{4} Q[1-4]$")):
        r = M.defection_rate(data, period=period)
        ax = P.plot_defection(r)
        ax.figure.canvas.draw()
        starts = mdates.date2num(r["period_start"].to_list())
        ends = mdates.date2num(r["period_end"].to_list())
        xs = ax.get_lines()[0].get_xdata() if ax.get_lines() else None
        xs = np.asarray(xs if xs is not None else [], dtype=float)
        # each point at the middle of its period, and a tick at each (or every k-th) point
        assert xs == pytest.approx((starts + ends) / 2)
        marks = sorted(set(ax.get_xticks()) | set(ax.xaxis.get_minorticklocs()))
        assert marks == pytest.approx(sorted(xs))
        import re
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert labels and all(re.match(pattern, s) for s in labels), labels
        lo, hi = ax.get_xlim()
        assert lo >= starts.min() - 0.25 * (ends - starts).min()  # no years of empty axis
        assert hi <= ends.max() + 0.25 * (ends - starts).min()
        # the legend sits above the plotting area, over no point
        legend = ax.get_legend().get_window_extent()
        assert legend.y0 >= ax.get_window_extent().y1 - 1
        plt.close("all")


def test_cohort_rows_are_named_by_their_period(data):
    ax = P.plot_cohort_heatmap(M.cohort_retention(data, period="quarter"))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].endswith(" Q1") or labels[0][-3:-1] == " Q", labels
    assert all(len(s) == 7 and s[4:6] == " Q" for s in labels), labels
    ax = P.plot_cohort_heatmap(M.cohort_retention(data, period="month"))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert all(len(s) == 8 and s[:3].isalpha() for s in labels), labels   # "Mar 2025"


def test_scorecard_never_prints_scientific_notation(data):
    card = M.scorecard(data)
    big = card.with_columns(pl.when(pl.col("unit").is_in(["share", "count", "currency"]))
                            .then(pl.col("previous")).otherwise(1.09e6).alias("previous"),
                            pl.when(pl.col("change_ci_low").is_not_null())
                            .then(pl.lit(-12345.6)).alias("change_ci_low"))
    ax = P.plot_scorecard(big)
    cells = [c.get_text().get_text() for c in ax.tables[0].get_celld().values()]
    assert not [c for c in cells if "e+" in c or "e-" in c], cells
    assert any("1,090,000" == c for c in cells)
    assert min(c.get_text().get_fontsize() for c in ax.tables[0].get_celld().values()) >= 11


def test_contact_frequency_legend_covers_no_bar(data):
    ax = P.plot_contact_frequency(M.contact_frequency(data))
    ax.figure.canvas.draw()
    box = ax.get_legend().get_window_extent()
    assert not [p for p in ax.patches if p.get_window_extent().overlaps(box)]


def test_scorecard_text_fits_its_cells(data):
    ax = P.plot_scorecard(M.scorecard(data))
    fig = ax.figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    spill = []
    for (i, j), cell in ax.tables[0].get_celld().items():
        box, text = cell.get_window_extent(r), cell.get_text().get_window_extent(r)
        if text.x0 < box.x0 - 0.5 or text.x1 > box.x1 + 0.5:
            spill.append((i, j, cell.get_text().get_text()))
    assert not spill, spill


def test_one_defection_period_is_one_point_not_a_multi_year_axis(data):
    import matplotlib.dates as mdates

    r = M.defection_rate(data, period="quarter").tail(1)
    ax = P.plot_defection(r)
    lo, hi = ax.get_xlim()
    start, end = mdates.date2num([r["period_start"][0], r["period_end"][0]])
    assert hi - lo == pytest.approx(2 * (end - start))    # the quarter and half one each side
    assert lo < (start + end) / 2 < hi
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert len(labels) == 1 and " Q" in labels[0]
