"""The house palette is readable in greyscale and under colour-vision deficiencies.

Colour science written out here (test-only, independent of the library):

- sRGB -> linear RGB (IEC 61966-2-1), relative luminance Y with the Rec. 709 weights
  (0.2126, 0.7152, 0.0722), CIE L* = 116 Y^(1/3) - 16 (Y > 0.008856). Anchor: the mid grey
  #777777 has L* = 50.03 and white 100.
- Colour-vision deficiency: Machado, Oliveira & Fernandes (2009), "A physiologically-based
  model for simulation of color vision deficiency", IEEE TVCG 15(6), the severity-1.0
  matrices for protanopia, deuteranopia and tritanopia, applied to linear RGB; colours
  compared by CIE76 Delta E in CIELAB (D65).
- Thresholds: 10 L* for greyscale (about the step print readers tell apart reliably) and
  Delta E 15 under simulation (well above the just-noticeable ~2.3, so legend colours stay
  clearly distinct). Negative controls show each criterion can fail: matplotlib's tab10 red
  and green merge under deuteranopia, and tab10's first four colours do not separate in
  greyscale.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from loyaltylab.plots._style import PALETTE

MACHADO_2009 = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000"}
GREY_STEP, CVD_DELTA_E = 10.0, 15.0


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(lin_rgb: np.ndarray) -> np.ndarray:
    lin_rgb = np.clip(lin_rgb, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin_rgb
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def lightness(hex_colour: str) -> float:
    return float(_lab(_linear(hex_colour))[0])


def min_grey_step(colours: list[str]) -> float:
    return min(abs(lightness(a) - lightness(b)) for a, b in itertools.combinations(colours, 2))


def min_delta_e(colours: list[str], matrix: np.ndarray) -> float:
    labs = [_lab(matrix @ _linear(c)) for c in colours]
    return min(float(np.linalg.norm(a - b)) for a, b in itertools.combinations(labs, 2))


def test_colour_science_anchors():
    assert lightness("#FFFFFF") == pytest.approx(100.0, abs=0.01)
    assert lightness("#000000") == pytest.approx(0.0, abs=0.01)
    assert lightness("#777777") == pytest.approx(50.03, abs=0.02)
    # each Machado matrix maps white to (nearly) white: rows sum to 1
    for m in MACHADO_2009.values():
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-3)


def test_palette_is_okabe_ito():
    assert {c.upper() for c in PALETTE} == OKABE_ITO and len(PALETTE) == 8


def test_first_four_colours_distinct_in_greyscale():
    assert min_grey_step(PALETTE[:4]) >= GREY_STEP


def test_neighbouring_colours_distinct_in_greyscale():
    cycle = PALETTE + PALETTE[:1]
    steps = [abs(lightness(a) - lightness(b)) for a, b in zip(cycle, cycle[1:])]
    assert min(steps) >= GREY_STEP, steps


@pytest.mark.parametrize("deficiency", sorted(MACHADO_2009))
def test_all_palette_colours_distinct_under_colour_vision_deficiency(deficiency):
    assert min_delta_e(PALETTE, MACHADO_2009[deficiency]) >= CVD_DELTA_E
    assert min_delta_e(PALETTE, np.eye(3)) >= CVD_DELTA_E  # and with normal vision


def test_criteria_can_fail_on_a_palette_that_is_not_safe():
    tab_red, tab_green = "#D62728", "#2CA02C"
    assert min_delta_e([tab_red, tab_green], np.eye(3)) > 100
    assert min_delta_e([tab_red, tab_green], MACHADO_2009["deuteranopia"]) < CVD_DELTA_E
    tab10_first_four = ["#1F77B4", "#FF7F0E", "#2CA02C", "#D62728"]
    assert min_grey_step(tab10_first_four) < GREY_STEP


def test_style_cycle_uses_the_palette():
    import matplotlib as mpl

    from loyaltylab.plots._style import style_context

    with style_context():
        cycle = [c["color"] for c in mpl.rcParams["axes.prop_cycle"]]
    assert cycle == PALETTE


def test_interval_that_does_not_hold_its_estimate_still_draws():
    # adjusted intervals need not contain the raw estimate on tiny groups (one answer of
    # 10 gives NPS 100 with an upper bound below 100); the chart draws it without an arm
    import polars as pl

    import loyaltylab as ll
    trend = pl.DataFrame({"survey": ["w1", "w2"], "n": [1, 5], "score": [100.0, 40.0],
                          "ci_low": [20.0, None], "ci_high": [95.0, 70.0]})
    ax = ll.plots.plot_score_trend(trend)
    assert ax.get_xticklabels()[0].get_text() == "w1"


# ---------------------------------------------------------------------------------------
# Charts a reader believes: every plot function is readable at the report's slide size,
# time axes name the periods of their bars, counts and money are never 1e6, notebooks
# store readable charts within the size limit.
# ---------------------------------------------------------------------------------------
import io  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from PIL import Image  # noqa: E402

import loyaltylab as ll  # noqa: E402
from loyaltylab.plots._style import MIN_FONT_PT, NumberFormatter  # noqa: E402
from loyaltylab.report._figures import SIZES, prepare_figure, render  # noqa: E402

# The deck (report/_builder.py) fits each chart, drawn at SIZES["slide"] and cropped without
# its footnote, into a 12.333 x 5.15 in box of a 13.333 x 7.5 in slide. On that slide tick
# labels, axis labels and legend entries must be at least 12 pt, titles 12 pt and every
# other text 10 pt.
DECK_BOX_IN = (12.333, 5.15)
ON_SLIDE_PT = {"tick": 12.0, "label": 12.0, "legend": 12.0, "title": 12.0, "text": 10.0}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sample():
    return ll.datasets.load_sample()


def _cases(d):
    """One call per public plot function, on the bundled sample or cdnow (doctest inputs)."""
    from loyaltylab.data.overview import activity_over_time, customer_mix

    M, F, C, S, V = ll.metrics, ll.funnel, ll.churn, ll.survey, ll.clv
    table = C.churn_table(d)
    km = C.KaplanMeier().fit(table, by="segment")
    rfm = pl.read_csv("data/cdnow/cdnow_customers_summary.csv")
    bg = V.BetaGeo().fit(rfm)
    cd = ll.datasets.load_cdnow(sample=True)
    s = pl.read_csv("data/cdnow/cdnow_customers_summary_with_transactions.csv")
    rfm2 = s.select(frequency="x", recency="t_x", T="T", monetary_value="zbar")
    gg = V.GammaGamma().fit(rfm2.filter(pl.col("frequency") > 0))
    clv = V.customer_lifetime_value(rfm2, purchase_model=V.BetaGeo().fit(rfm2),
                                    spend_model=gg, interval=None)
    rfm_cal = V.rfm_summary(cd, calibration_end="1997-09-30", observation_end="1998-06-30")
    bg_cal = V.BetaGeo().fit(rfm_cal)
    bg_obs = V.BetaGeo().fit(V.rfm_summary(cd, observation_end="1997-09-30"))
    rng = __import__("numpy").random.default_rng(0)
    a, b = rng.normal(size=200), rng.normal(size=200)
    drv = pl.DataFrame({"a": a, "b": b, "y": 2 * a + b + rng.normal(size=200)})
    cases = {
        "plot_activity": lambda: ll.plots.plot_activity(
            activity_over_time(d, period="quarter"), metric="revenue"),
        "plot_customer_mix": lambda: ll.plots.plot_customer_mix(customer_mix(d, by="segment")),
        "plot_load_report": lambda: ll.plots.plot_load_report(d.report.summary()),
        "plot_contact_frequency": lambda: ll.plots.plot_contact_frequency(
            M.contact_frequency(d)),
        "plot_rate_bars": lambda: ll.plots.plot_rate_bars(M.early_life_churn(d)),
        "plot_conversion": lambda: ll.plots.plot_conversion(M.contact_conversion(d)),
        "plot_cohort_heatmap": lambda: ll.plots.plot_cohort_heatmap(
            M.cohort_retention(d, period="quarter")),
        "plot_defection": lambda: ll.plots.plot_defection(M.defection_rate(d)),
        "plot_whale_curve": lambda: ll.plots.plot_whale_curve(M.whale_curve(d, margin=0.4)),
        "plot_resolution_retention": lambda: ll.plots.plot_resolution_retention(
            M.retention_by_resolution(d)),
        "plot_dose_response": lambda: ll.plots.plot_dose_response(
            M.email_dose_response(d, threshold=4)),
        "plot_scorecard": lambda: ll.plots.plot_scorecard(M.scorecard(d)),
        "plot_departure_reasons": lambda: ll.plots.plot_departure_reasons(
            M.departure_reasons(d)),
        "plot_funnel": lambda: ll.plots.plot_funnel(F.funnel(d)),
        "plot_transition_heatmap": lambda: ll.plots.plot_transition_heatmap(
            F.transition_matrix(d, start="2024-01-01", end="2025-01-01")),
        "plot_stage_flow": lambda: ll.plots.plot_stage_flow(
            F.transition_matrix(d, start="2024-01-01", end="2025-01-01", normalize=False)),
        "plot_time_to_stage": lambda: ll.plots.plot_time_to_stage(F.time_to_stage_curves(d)),
        "plot_stage_mix": lambda: ll.plots.plot_stage_mix(F.stage_mix(d, every="quarter")),
        "plot_retention": lambda: ll.plots.plot_retention(km),
        "plot_hazard_ratios": lambda: ll.plots.plot_hazard_ratios(pl.DataFrame({
            "covariate": ["manager_left", "emails"], "hazard_ratio": [2.1, 0.8],
            "hr_ci_low": [1.7, 0.6], "hr_ci_high": [2.7, 1.1]})),
        "plot_cumulative_hazard": lambda: ll.plots.plot_cumulative_hazard(
            km.cumulative_hazard()),
        "plot_calibration": lambda: ll.plots.plot_calibration(C.calibration_table(
            [0.1, 0.2, 0.3, 0.6, 0.7, 0.9], [0, 0, 1, 1, 0, 1], bins=3), brier=0.2),
        "plot_at_risk_list": lambda: ll.plots.plot_at_risk_list(pl.DataFrame({
            "customer_id": [f"c{i}" for i in range(15)], "p_churn": [i / 20 for i in range(15)],
            "drivers": ["emails (x1.5)"] * 15})),
        "plot_calibration_holdout": lambda: ll.plots.plot_calibration_holdout(
            V.holdout_comparison(rfm_cal, model=bg_cal)),
        "plot_tracking": lambda: ll.plots.plot_tracking(
            V.repeat_tracking(cd, model=bg_obs, calibration_end="1997-09-30")),
        "plot_alive_matrix": lambda: ll.plots.plot_alive_matrix(
            V.probability_alive_matrix(bg, max_frequency=10)),
        "plot_expected_purchases_matrix": lambda: ll.plots.plot_expected_purchases_matrix(
            V.expected_purchases_matrix(bg, t=39, max_frequency=10)),
        "plot_retention_projection": lambda: ll.plots.plot_retention_projection(
            V.ShiftedBetaGeo().fit([1000, 631, 468, 382, 326, 289, 262, 241]).projection(12)),
        "plot_clv_distribution": lambda: ll.plots.plot_clv_distribution(clv),
        "plot_nps": lambda: ll.plots.plot_nps(S.nps(pl.DataFrame(
            {"score": [10.0, 9, 8, 3, 6, 10]}))),
        "plot_score_trend": lambda: ll.plots.plot_score_trend(S.score_trend(pl.DataFrame(
            {"survey": ["a"] * 4 + ["b"] * 4, "score": [10.0, 9, 3, 8, 10, 10, 9, 2]}))),
        "plot_likert": lambda: ll.plots.plot_likert(S.likert_distribution(pl.DataFrame(
            {"q1": [1, 5, 5, 4], "q2": [2, 2, 3, 4]}), items=["q1", "q2"])),
        "plot_drivers": lambda: ll.plots.plot_drivers(
            S.drivers(drv, target="y", predictors=["a", "b"])),
        "plot_retention_by_nps_group": lambda: ll.plots.plot_retention_by_nps_group(
            S.retention_by_nps_group(d, definition="contract")),
    }
    # plot functions of the CLV helper (issue 16 adds them alongside)
    if hasattr(V, "period_transactions"):
        cases["plot_period_transactions"] = lambda: ll.plots.plot_period_transactions(
            V.period_transactions(rfm, model=bg))
    if hasattr(V, "expected_repeat_purchases"):
        cases["plot_expected_repeat_purchases"] = (
            lambda: ll.plots.plot_expected_repeat_purchases(V.expected_repeat_purchases(bg)))
    if hasattr(V, "probability_alive_history"):
        cid = cd.orders[ll.data.schema.CUSTOMER_ID][0]
        cases["plot_alive_history"] = lambda: ll.plots.plot_alive_history(
            V.probability_alive_history(cd, model=bg, customer_id=cid,
                                        observation_end="1998-06-30"))
    return cases


@pytest.fixture(scope="module")
def cases(sample):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _cases(sample)


def test_every_public_plot_function_has_a_case(cases):
    public = {n for n in ll.plots.__all__ if n.startswith("plot_")}
    assert public - set(cases) == set(), "add a case for each new plot function"


def _roles(fig):
    """Each visible text of ``fig`` with its role: tick, label, title, legend or text."""
    roles = {}
    for ax in fig.axes:
        for t in ax.get_xticklabels(which="both") + ax.get_yticklabels(which="both"):
            roles[id(t)] = "tick"
        for t in (ax.xaxis.label, ax.yaxis.label):
            roles[id(t)] = "label"
        for t in (ax.title, ax._left_title, ax._right_title):
            roles[id(t)] = "title"
        if ax.get_legend() is not None:
            for t in ax.get_legend().get_texts():
                roles[id(t)] = "legend"
    footnote = getattr(fig, "_loyaltylab_footnote", None)
    texts = [t for t in fig.findobj(Text)]
    for ax in fig.axes:
        for table in ax.tables:
            texts += [c.get_text() for c in table.get_celld().values()]
    out = []
    for t in texts:
        if not t.get_visible() or not t.get_text().strip() or t in fig.texts and (
                footnote is None or t.get_text().replace("\n", " ") !=
                footnote.replace("\n", " ")) is False:
            continue
        if getattr(t, "_loyaltylab_is_footnote", False):
            continue  # written beside the chart in the report and the deck
        out.append((roles.get(id(t), "text"), t))
    return out


def _deck_scale(fig) -> float:
    """The factor the deck draws the chart at: its footnote-less PNG fitted into the box."""
    w_px, h_px = Image.open(io.BytesIO(render(fig, "png", dpi=50, footnote=False))).size
    return min(DECK_BOX_IN[0] / (w_px / 50), DECK_BOX_IN[1] / (h_px / 50))


def test_every_chart_is_readable_at_slide_size(cases):
    small = []
    for name, draw in cases.items():
        with ll.plots.style_context():           # as the report draws them
            ax = draw()
            fig = prepare_figure(ax, size="slide")
        assert tuple(fig.get_size_inches()) == pytest.approx(SIZES["slide"])
        fig.canvas.draw()
        scale = _deck_scale(fig)
        r = fig.canvas.get_renderer()
        for ax_ in fig.axes:   # every title fits across the figure (none cut at the edges)
            box = ax_.title.get_window_extent(r)
            if ax_.get_title() and not (box.x0 >= -1 and box.x1 <= fig.bbox.width + 1):
                small.append(f"{name}: title wider than the slide")
        for role, text in _roles(fig):
            on_slide = text.get_fontsize() * scale
            if on_slide < ON_SLIDE_PT[role] - 0.1:  # 0.1 pt: pixel rounding of the crop
                small.append(f"{name}: {role} {text.get_text()[:30]!r} "
                             f"{on_slide:.1f} pt on the slide")
        plt.close(fig)
    assert not small, "\n".join(small)


def test_minimum_sizes_hold_on_the_slide_even_at_the_smallest_deck_scale():
    # the deck never shrinks a slide-size chart below 12.333/10 x 5.15/5.625 = 0.916, and
    # the house minimums were chosen against that bound (with tight cropping it is larger)
    worst = min(DECK_BOX_IN[0] / SIZES["slide"][0], DECK_BOX_IN[1] / SIZES["slide"][1])
    assert MIN_FONT_PT["text"] * worst >= 10.0
    assert MIN_FONT_PT["tick"] * worst >= 11.9


def test_number_formatter_never_writes_scientific_notation():
    f = NumberFormatter()
    assert f.format_ticks([0, 2e5, 4e5, 6e5, 8e5, 1e6, 1.2e6]) == [
        "0", "0.2 M", "0.4 M", "0.6 M", "0.8 M", "1 M", "1.2 M"]
    assert f.format_ticks([1.09e6]) == ["1.09 M"]
    assert f.format_ticks([0, 2.5e9]) == ["0", "2.5 bn"]
    assert f.format_ticks([0, 2500, 5000]) == ["0", "2,500", "5,000"]
    assert NumberFormatter("EUR").format_ticks([0, 1e6]) == ["0 EUR", "1 M EUR"]
    assert f.get_offset() == ""


def _drawn_labels(axis):
    axis.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_revenue_axis_in_millions_is_written_out(sample):
    from loyaltylab.data.overview import activity_over_time

    act = activity_over_time(sample, period="year").with_columns(
        (pl.col("revenue") * 3).alias("revenue"))           # 1.0 M to 4.2 M a year
    ax = ll.plots.plot_activity(act, metric="revenue", currency="EUR")
    labels = _drawn_labels(ax.yaxis)
    assert ax.yaxis.get_offset_text().get_text() == ""
    assert not any("e" in lab.replace("EUR", "") for lab in labels), labels
    assert any(lab.endswith(" M EUR") for lab in labels), labels
    assert ax.get_ylabel() == "revenue (EUR)"


def _bar_centres(ax):
    return sorted(p.get_x() + p.get_width() / 2 for p in ax.patches)


@pytest.mark.parametrize("period, first_label", [
    ("day", "1 Jan 2025"), ("week", "6 Jan 2025"), ("month", "Jan 2025"),
    ("quarter", "2025 Q1"), ("year", "2025")])
def test_activity_ticks_sit_on_the_bars_and_name_their_period(period, first_label):
    starts = {"day": [date(2025, 1, d) for d in range(1, 6)],
              "week": [date(2025, 1, 6) + timedelta(days=7 * i) for i in range(5)],
              "month": [date(2025, m, 1) for m in range(1, 6)],
              "quarter": [date(2025, 1, 1), date(2025, 4, 1), date(2025, 7, 1),
                          date(2025, 10, 1), date(2026, 1, 1)],
              "year": [date(y, 1, 1) for y in range(2025, 2030)]}[period]
    act = pl.DataFrame({"period_start": starts, "orders": [10, 20, 30, 40, 50]})
    ax = ll.plots.plot_activity(act, metric="orders")
    assert period in ax.get_title()
    centres = _bar_centres(ax)
    marks = sorted(set(ax.get_xticks()) | set(ax.xaxis.get_minorticklocs()))
    assert marks == pytest.approx(centres)                 # a tick mark at each bar's middle
    labels = _drawn_labels(ax.xaxis)                       # labelled: each or every k-th
    assert labels[0] == first_label and len(labels) >= 2
    # each bar lies inside its period: from its start to the next period's start
    for patch, s in zip(sorted(ax.patches, key=lambda p: p.get_x()), starts):
        assert patch.get_x() >= mdates.date2num(s)


def test_quarterly_bars_get_quarter_ticks_not_four_month_ticks():
    starts = [date(2023 + i // 4, 1 + 3 * (i % 4), 1) for i in range(12)]
    act = pl.DataFrame({"period_start": starts, "orders": list(range(1, 13))})
    ax = ll.plots.plot_activity(act, metric="orders")
    labels = _drawn_labels(ax.xaxis)
    assert labels and all(lab[:4].isdigit() and lab[4:6] == " Q" for lab in labels), labels
    centres = _bar_centres(ax)
    # every labelled tick is the middle of a bar, every k-th bar, k the same throughout
    index = [min(range(12), key=lambda i: abs(centres[i] - t)) for t in ax.get_xticks()]
    assert all(abs(centres[i] - t) < 1e-6 for i, t in zip(index, ax.get_xticks()))
    assert len({b - a for a, b in zip(index, index[1:])}) == 1
    # and every bar has a tick mark (unlabelled between the labelled ones)
    marks = sorted(set(ax.get_xticks()) | set(ax.xaxis.get_minorticklocs()))
    assert marks == pytest.approx(centres)


def test_one_period_is_one_labelled_bar_not_a_multi_year_axis():
    act = pl.DataFrame({"period_start": [datetime(2025, 10, 1)], "revenue": [1.09e6]})
    ax = ll.plots.plot_activity(act, metric="revenue", period="quarter")
    lo, hi = ax.get_xlim()
    assert hi - lo <= 2 * 92 + 1                            # two quarters, not years
    assert len(ax.patches) == 1
    assert _drawn_labels(ax.xaxis) == ["2025 Q4"]
    assert ax.get_title() == "Revenue in 2025 Q4"
    assert "M" in "".join(_drawn_labels(ax.yaxis))


def test_period_of_one_row_without_a_period_is_not_guessed():
    act = pl.DataFrame({"period_start": [datetime(2025, 10, 1)], "orders": [12]})
    ax = ll.plots.plot_activity(act, metric="orders")
    assert "per month" not in ax.get_title() and "1 Oct 2025" in ax.get_title()
    with pytest.raises(ValueError, match="period='fortnight': expected one of"):
        ll.plots.plot_activity(act, metric="orders", period="fortnight")


def _legend_overlaps(ax):
    """Bars (patches in data) whose display box meets the legend's box."""
    ax.figure.canvas.draw()
    box = ax.get_legend().get_window_extent()
    return [p for p in ax.patches if p.get_window_extent().overlaps(box)]


def test_load_report_is_linear_with_counts_and_its_legend_covers_no_bar():
    summary = pl.DataFrame({"table": ["customers", "orders", "contacts"],
                            "reason": [None, None, None], "read": [5000, 32000, 60000],
                            "kept": [4988, 32000, 59000], "rejected": [12, 0, 1000]})
    ax = ll.plots.plot_load_report(summary)
    assert ax.get_xscale() == "linear" and "log" not in ax.get_xlabel()
    assert _legend_overlaps(ax) == []
    texts = [t.get_text() for t in ax.texts]
    assert "4,988 kept, 12 rejected" in texts
    assert ax.xaxis.get_offset_text().get_text() == ""


def test_load_report_goes_log_only_when_tables_span_more_than_a_thousandfold():
    summary = pl.DataFrame({"table": ["referrals", "orders"], "reason": [None, None],
                            "read": [50, 10_000_000], "kept": [50, 9_999_990],
                            "rejected": [0, 10]})
    ax = ll.plots.plot_load_report(summary)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "rows (log scale)"
    labels = _drawn_labels(ax.xaxis)
    assert labels and not any("^" in lab or "e+" in lab for lab in labels), labels
    assert _legend_overlaps(ax) == []


def test_customer_mix_legend_covers_no_bar(sample):
    from loyaltylab.data.overview import customer_mix

    ax = ll.plots.plot_customer_mix(customer_mix(sample, by="segment"))
    assert _legend_overlaps(ax) == []


# ------------------------------------------------------------------ notebooks
def test_notebook_style_stores_readable_charts_within_the_size_limit(cases):
    # tests/test_notebooks_meta.py: a stored notebook must stay under 500,000 bytes. The
    # fullest notebook holds ten charts and about 130 kB of other output, so charts may take
    # 37 kB each on average (base64). Readable: 100 dpi, 800 px across an 8 in chart.
    import base64

    from loyaltylab.plots._style import NOTEBOOK_DPI, compact_png
    sizes = {}
    with matplotlib.rc_context():
        ll.plots.use_style()
        assert matplotlib.rcParams["figure.dpi"] >= 100 == NOTEBOOK_DPI
        for name, draw in cases.items():
            fig = draw().figure
            assert fig.dpi >= 100, name
            png = compact_png(fig)
            width, _ = Image.open(io.BytesIO(png)).size
            drawn = fig.get_tightbbox(fig.canvas.get_renderer()).width  # inches, cropped
            assert width >= 0.98 * drawn * 100, name
            sizes[name] = len(base64.b64encode(png))
            plt.close(fig)
    mean = sum(sizes.values()) / len(sizes)
    assert 10 * mean + 130_000 < 500_000, (mean, max(sizes.items(), key=lambda kv: kv[1]))
    assert max(sizes.values()) < 80_000, sizes


def test_compact_png_is_much_smaller_than_a_full_colour_png(sample):
    from loyaltylab.plots._style import compact_png
    with matplotlib.rc_context():
        ll.plots.use_style()
        km = ll.churn.KaplanMeier().fit(ll.churn.churn_table(sample), by="segment")
        fig = ll.plots.plot_retention(km).figure
        full = io.BytesIO()
        fig.savefig(full, format="png", dpi=fig.dpi, bbox_inches="tight")
        png = compact_png(fig)
    assert len(png) < 0.6 * len(full.getvalue())
    a = Image.open(io.BytesIO(png)).convert("RGB")
    b = Image.open(io.BytesIO(full.getvalue())).convert("RGB")
    assert a.size == b.size
    # the same picture: mean absolute difference per channel under 2 of 255
    import numpy as np
    diff = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).mean()
    assert diff < 2.0, diff


def test_use_style_shows_figures_in_ipython_as_compact_png():
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    shell = InteractiveShell.instance()
    try:
        with matplotlib.rc_context():
            ll.plots.use_style()
            fig, ax = plt.subplots()
            ax.bar(["a", "b"], [1, 2])
            data, _ = shell.display_formatter.format(fig)
            png = __import__("base64").b64decode(data["image/png"])
            assert Image.open(io.BytesIO(png)).mode == "P"     # a 256-colour palette
            assert shell.display_formatter.formatters["image/png"].lookup_by_type(Figure)
    finally:
        shell.display_formatter.formatters["image/png"].pop(Figure, None)
        InteractiveShell.clear_instance()


@pytest.fixture(scope="module")
def sample_report():
    from loyaltylab._pipeline import build_report

    return build_report(ll.datasets.load_sample(), progress=False)


def test_no_chart_of_the_sample_report_draws_a_code_word(sample_report):
    """Every text drawn in the report's charts (ticks, labels, legends, titles, data labels,
    the footnote of the chart files) reads as words: no snake_case, no ``name=value`` and
    no ``name(`` (as in "reward_scheme=every_purchase", "orders_90d", "n=401",
    "P(alive)")."""
    from loyaltylab.report._browser import code_words
    from loyaltylab.report._builder import _Figure

    figures = [i for i in sample_report._state.items if isinstance(i, _Figure)]
    assert len(figures) >= 15
    found = []
    for item in figures:
        texts = [t.get_text() for t in item.fig.findobj(Text)
                 if t.get_visible() and t.get_text().strip()]
        assert texts, item.name
        found += [f"{item.name}: {w}" for w in code_words(texts)]
    assert found == []
    # the check sees a code word where one is drawn
    fig, ax = plt.subplots()
    ax.set_yticks([0, 1], ["reward_scheme=none", "segment (n=12)"])
    drawn = code_words([t.get_text() for t in fig.findobj(Text) if t.get_visible()])
    assert {w.split(" in: ")[0] for w in drawn} == {"reward_scheme=", "n="}
