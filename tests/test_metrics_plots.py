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
