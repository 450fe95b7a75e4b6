"""loyaltylab.plots churn charts: they draw what the result frames hold."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402

from loyaltylab import churn  # noqa: E402
from loyaltylab import plots  # noqa: E402

TABLE = pl.DataFrame({"duration": [30.0, 60, 90, 200, 400, 45, 80, 300, 500, 700],
                      "event": [1, 1, 0, 1, 0, 1, 1, 1, 0, 0],
                      "segment": ["a"] * 5 + ["b"] * 5})


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_retention_draws_one_step_curve_per_group_with_bands_and_at_risk_table():
    km = churn.KaplanMeier().fit(TABLE, by="segment")
    ax = plots.plot_retention(km, unit="days", at_risk_every=100)
    assert len(ax.get_lines()) == 2
    # the first curve's y data are the KM survival values of group a
    ya = ax.get_lines()[0].get_ydata()
    assert np.allclose(ya, km.curves_.filter(pl.col("group") == "a")["survival"].to_numpy())
    assert len(ax.collections) == 2                       # two confidence bands
    texts = [t.get_text() for t in ax.texts]
    assert "At risk" in texts and "5" in texts           # 5 customers at risk at day 0
    assert "10 customers" in ax.get_title()


def test_retention_from_frames_and_unit_scaling():
    curves = churn.retention_curves(TABLE)
    ax = plots.plot_retention(curves, unit="years", bands=False)
    x = ax.get_lines()[0].get_xdata()
    assert x[-1] == pytest.approx(curves["timeline"][-1] / 365.25)
    with pytest.raises(ValueError, match="unit: expected one of"):
        plots.plot_retention(curves, unit="fortnights")
    with pytest.raises(ValueError, match=r"curves: the frame lacks columns \['ci_low'"):
        plots.plot_retention(curves.drop("ci_low"))


def test_hazard_ratio_forest_plot_with_truth():
    summary = pl.DataFrame({"covariate": ["x", "y"], "hazard_ratio": [2.0, 0.5],
                            "hr_ci_low": [1.5, 0.4], "hr_ci_high": [2.5, 0.7]})
    ax = plots.plot_hazard_ratios(summary, truth={"x": 1.9})
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["y", "x"]
    assert len(ax.collections) == 3                       # CI lines, estimates, truth


def test_cumulative_hazard_calibration_and_call_list():
    km = churn.KaplanMeier().fit(TABLE, by="segment")
    ax = plots.plot_cumulative_hazard(km.cumulative_hazard())
    assert len(ax.get_lines()) == 2
    cal = churn.calibration_table([0.1, 0.2, 0.3, 0.6, 0.7, 0.9], [0, 0, 1, 1, 0, 1], bins=3)
    ax = plots.plot_calibration(cal, brier=0.2)
    assert "Brier 0.200" in ax.get_title() and "6 held-out" in ax.get_title()
    calls = pl.DataFrame({"customer_id": ["c1", "c2", "c3"], "p_churn": [0.3, 0.5, 0.1],
                          "drivers": ["emails (x1.5)", "", "segment=b (x1.2)"]})
    ax = plots.plot_at_risk_list(calls, top=2)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c1", "c2"]  # riskiest on top
    assert [round(p.get_width(), 2) for p in ax.patches] == [0.3, 0.5]


def test_call_list_chart_shows_p_lapse_and_silence_when_present():
    calls = pl.DataFrame({"customer_id": ["c1", "c2", "c3"], "p_churn": [0.3, 0.5, 0.1],
                          "p_lapse": [0.9, 0.2, 0.0], "silent_days": [170.0, 95.0, 10.0],
                          "drivers": ["emails (x1.5)", "", "segment=b (x1.2)"]})
    ax = plots.plot_at_risk_list(calls, top=2)
    # ranked and drawn by p_lapse: c2 has the higher Cox probability but is drawn below c1
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c2", "c1"]
    assert [round(p.get_width(), 2) for p in ax.patches] == [0.2, 0.9]
    labels = [t.get_text() for t in ax.texts]
    assert "silent 170 d; emails (x1.5)" in labels and "silent 95 d" in labels
    assert "lost" in ax.get_xlabel()


def test_waiting_period_of_the_churn_rule_is_shaded_and_explained():
    # churn_table records the inactivity window; KaplanMeier.fit keeps it, and the chart
    # shades [0, window) where no customer can be declared lost, with words saying why
    import loyaltylab as ll

    table = churn.churn_table(ll.datasets.load_sample(), inactivity="120d")
    assert table.report.inactivity_days == 120
    km = churn.KaplanMeier().fit(table)
    assert km.inactivity_days_ == 120
    ax = plots.plot_retention(km, unit="days")
    spans = [p for p in ax.patches if p.get_label().startswith("waiting period")]
    assert len(spans) == 1
    span = spans[0]
    assert (span.get_x(), span.get_x() + span.get_width()) == pytest.approx((0.0, 120.0))
    # the curve is flat at 100 % over the shaded span: nobody is lost in it
    line = ax.get_lines()[0]
    inside = line.get_xdata() < 120
    assert np.all(line.get_ydata()[inside] == 1.0)
    words = " ".join(t.get_text() for t in ax.texts)
    assert "120 days without an order" in words and "churn rule" in words
    assert "waiting period (120 days)" in [t.get_text() for t in ax.get_legend().get_texts()]
    # months: the span ends at 120 days in months
    ax = plots.plot_retention(km, unit="months")
    span = next(p for p in ax.patches if p.get_label().startswith("waiting period"))
    assert span.get_x() + span.get_width() == pytest.approx(120 / (365.25 / 12))


def test_no_waiting_period_without_an_inactivity_rule_and_explicit_window_wins():
    km = churn.KaplanMeier().fit(TABLE)                    # a bare frame: no rule recorded
    assert km.inactivity_days_ is None
    ax = plots.plot_retention(km, unit="days")
    assert not [p for p in ax.patches if p.get_label().startswith("waiting period")]
    ax = plots.plot_retention(churn.retention_curves(TABLE), unit="days", waiting_days=45)
    span = next(p for p in ax.patches if p.get_label().startswith("waiting period"))
    assert span.get_x() + span.get_width() == pytest.approx(45)


def test_retention_legend_and_at_risk_table_cover_nothing():
    km = churn.KaplanMeier().fit(TABLE, by="segment")
    ax = plots.plot_retention(km, unit="days", at_risk_every=100, waiting_days=30)
    fig = ax.figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    axes_box = ax.get_window_extent(r)
    legend = ax.get_legend().get_window_extent(r)
    assert legend.y0 >= axes_box.y1 - 1                   # above the plotting area
    assert legend.y1 <= ax.title.get_window_extent(r).y0 + 1   # and under the title
    labels = [t.get_window_extent(r) for t in ax.get_xticklabels() + [ax.xaxis.label]
              if t.get_text()]
    table = [t.get_window_extent(r) for t in ax.texts if t.get_text().replace(",", "")
             .isdigit() or t.get_text() in ("At risk", "a", "b")]
    assert table and not any(a.overlaps(b) for a in table for b in labels)
    # no two cells of the at-risk table overlap
    assert not any(a.overlaps(b) for i, a in enumerate(table) for b in table[i + 1:])


def test_cumulative_hazard_shades_the_waiting_period_when_given():
    km = churn.KaplanMeier().fit(TABLE, by="segment")
    ax = plots.plot_cumulative_hazard(km.cumulative_hazard(), unit="days", waiting_days=40)
    span = next(p for p in ax.patches if p.get_label() == "waiting period (40 days)")
    assert (span.get_x(), span.get_x() + span.get_width()) == pytest.approx((0, 40))
    ax.figure.canvas.draw()
    assert ax.get_legend().get_window_extent().y0 >= ax.get_window_extent().y1 - 1
