"""Charts of loyaltylab.funnel results draw what the frame holds."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402

import loyaltylab as ll  # noqa: E402

M = pl.DataFrame({"from_state": ["a", "b"], "n": [30, 10], "a": [20, 0], "b": [6, 9],
                  "lapsed": [4, 1]})


def test_heatmap_shows_row_shares_of_counts():
    ax = ll.plots.plot_transition_heatmap(M)
    img = ax.get_images()[0].get_array()
    assert np.allclose(img[0], [20 / 30, 6 / 30, 4 / 30])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a (n = 30)", "b (n = 10)"]
    plt.close("all")


def test_flow_blocks_have_the_counts():
    ax = ll.plots.plot_stage_flow(M)
    heights = sorted(round(p.get_height()) for p in ax.patches)
    # left: a 30, b 10; right: a 20, b 15, lapsed 5
    assert heights == [5, 10, 15, 20, 30]
    plt.close("all")


def test_funnel_bars_are_shares_of_the_top():
    f = pl.DataFrame({"stage": ["x", "y"], "stage_rank": [0, 1], "reached": [10, 4],
                      "share_of_top": [1.0, 0.4], "at_stage": [6, 4], "lapsed": [0, 0],
                      "converted": [4, None], "conversion": [0.4, None],
                      "ci_low": [0.17, None], "ci_high": [0.69, None]})
    ax = ll.plots.plot_funnel(f)
    assert [round(p.get_width(), 6) for p in ax.patches] == [1.0, 0.4]
    plt.close("all")


def test_split_frames_must_be_filtered_first():
    split = M.with_columns(pl.lit("s").alias("segment")).select("segment", *M.columns)
    with pytest.raises(ValueError, match="split by \\['segment'\\]; filter one group"):
        ll.plots.plot_transition_heatmap(split)


def test_stage_mix_ticks_are_its_snapshot_dates_and_the_axis_fits_them():
    import matplotlib.dates as mdates
    from datetime import datetime

    dates = [datetime(2024, 1, 1), datetime(2024, 4, 1), datetime(2024, 7, 1)]
    mix = pl.DataFrame({"date": [d for d in dates for _ in range(2)],
                        "state": ["client", "lapsed"] * 3, "n": [10, 0, 8, 2, 6, 4],
                        "share": [1.0, 0.0, 0.8, 0.2, 0.6, 0.4]})
    ax = ll.plots.plot_stage_mix(mix, share=False)
    ax.figure.canvas.draw()
    assert list(ax.get_xticks()) == pytest.approx(mdates.date2num(dates))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1 Jan 2024", "1 Apr 2024",
                                                            "1 Jul 2024"]
    assert ax.get_xlim() == pytest.approx(tuple(mdates.date2num([dates[0], dates[-1]])))
    box = ax.get_legend().get_window_extent()
    assert box.x0 >= ax.get_window_extent().x1 - 1       # beside the chart, not on it
    # one snapshot: a stacked bar over a few weeks of axis, not an empty multi-year axis
    one = mix.filter(pl.col("date") == dates[0])
    ax = ll.plots.plot_stage_mix(one)
    lo, hi = ax.get_xlim()
    assert hi - lo < 200 and len(ax.patches) == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1 Jan 2024"]
    plt.close("all")
