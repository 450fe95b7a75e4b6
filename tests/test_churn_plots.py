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
