"""The model-check charts of loyaltylab.plots.clv draw exactly the numbers of the clv
frames, and those frames equal the models' own methods and published values: period
transactions (customers by repeat purchases, actual against the model), one customer's
P(alive) history and the expected repeat purchases curve (Hardie's BG/NBD sheet on CDNOW,
as quoted in lifetimes' test suite)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402

import loyaltylab as ll  # noqa: E402
from loyaltylab.clv import BetaGeo, ModifiedBetaGeo, ParetoNBD  # noqa: E402
from loyaltylab.data import schema as S  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def summary() -> pl.DataFrame:
    return pl.read_csv(DATA / "cdnow" / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def fitted(summary):
    return {"BG/NBD": BetaGeo().fit(summary), "Pareto/NBD": ParetoNBD().fit(summary),
            "MBG/NBD": ModifiedBetaGeo().fit(summary)}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", ["BG/NBD", "Pareto/NBD", "MBG/NBD"])
def test_period_transactions_chart_draws_the_models_expected_counts(summary, fitted, name):
    m = fitted[name]
    pt = ll.clv.period_transactions(summary, model=m, max_frequency=7)
    # the expected count, customer by customer through the model's own method
    T_ = summary["T"].to_numpy()
    per_customer = m.probability_of_purchases(np.arange(7)[None, :], T_[:, None])
    hand = per_customer.sum(axis=0)
    assert pt["expected"].to_numpy()[:7] == pytest.approx(hand, rel=1e-9)
    assert float(pt["expected"][7]) == pytest.approx(T_.size - hand.sum(), rel=1e-9)
    assert pt["actual"].to_list() == [1411, 439, 214, 100, 62, 38, 29, 64]  # FHL 2005 Fig. 3
    ax = ll.plots.plot_period_transactions(pt, model_name=name)
    actual, model = ax.containers
    assert [b.get_height() for b in actual] == pt["actual"].to_list()
    assert [b.get_height() for b in model] == pytest.approx(pt["expected"].to_list())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4", "5",
                                                            "6", "7+"]
    assert ax.get_title() == "Customers by number of repeat purchases, 2,357 customers"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["actual", name]


def test_period_transactions_fit_is_close_on_cdnow(fitted, summary):
    """All three models reproduce the CDNOW histogram within a few percent of the customers
    in every group (FHL 2005, Figure 3, shows the BG/NBD doing so)."""
    for m in fitted.values():
        pt = ll.clv.period_transactions(summary, model=m)
        gap = (pt["expected"] - pt["actual"]).abs().to_numpy()
        assert gap.max() < 0.03 * 2357


def test_alive_history_chart_draws_the_models_probability(summary, fitted):
    o = pl.DataFrame({S.CUSTOMER_ID: ["a", "a", "a", "a", "b"],
                      S.ORDERED_AT: [datetime(2024, 1, 1), datetime(2024, 1, 15),
                                     datetime(2024, 2, 5), datetime(2024, 3, 4),
                                     datetime(2024, 1, 3)]})
    for name in ("BG/NBD", "Pareto/NBD"):
        m = fitted[name]
        h = ll.clv.probability_alive_history(o, model=m, customer_id="a",
                                             observation_end="2024-05-01")
        ax = ll.plots.plot_alive_history(h)
        line, dots = ax.get_lines()
        x, tx, t = (h[c].to_numpy() for c in ("frequency", "recency", "t"))
        assert line.get_xdata() == pytest.approx(t)
        assert line.get_ydata() == pytest.approx(m.probability_alive(x, tx, t), rel=1e-12)
        assert list(dots.get_xdata()) == [2.0, 5.0, 9.0]  # purchase weeks
        assert ax.get_title() == ("Probability the customer is still active, "
                                  "3 repeat purchases")
        # the last point is the customer's summary P(alive) at the observation end
        r = ll.clv.rfm_summary(o, observation_end="2024-05-01", monetary=False).row(
            0, named=True)
        assert line.get_ydata()[-1] == pytest.approx(float(m.probability_alive(
            r["frequency"], r["recency"], r["T"])))
    # two customers on one Axes take two colours and a legend
    ax = ll.plots.plot_alive_history(h, label="a")
    ll.plots.plot_alive_history(ll.clv.probability_alive_history(
        o, model=m, customer_id="b", observation_end="2024-05-01"), ax=ax, label="b")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert ax.get_lines()[0].get_color() != ax.get_lines()[2].get_color()


def test_expected_repeat_purchases_matches_hardies_sheet(fitted):
    """E[X(t)] of the BG/NBD at the CDNOW fit: Hardie's spreadsheet values at t = 1 day,
    1, 3, 31.86, 32 and 78 weeks, as lifetimes' test suite quotes them (3 decimals)."""
    bg = fitted["BG/NBD"]
    curve = ll.clv.expected_repeat_purchases(bg, t_max=78, points=547)  # steps of 1/7 week
    assert curve.columns == ["t", "expected_purchases", "extrapolated"]
    t_all = curve["t"].to_numpy()
    idx = [int(np.argmin(np.abs(t_all - d / 7))) for d in (1, 7, 21, 223, 224, 546)]
    assert t_all[idx] == pytest.approx([1 / 7, 1, 3, 223 / 7, 32, 78], abs=1e-12)
    got = curve["expected_purchases"].to_numpy()[idx]
    np.testing.assert_array_almost_equal(
        got, [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576], decimal=3)
    assert curve["expected_purchases"].to_numpy() == pytest.approx(
        bg.expected_purchases(curve["t"].to_numpy()), rel=1e-12)
    # extrapolated beyond the longest fitted T (38.86 weeks), which is itself a point
    tmax = 38.86
    assert curve.filter(~pl.col("extrapolated"))["t"].max() == pytest.approx(tmax)
    assert curve.filter(pl.col("extrapolated"))["t"].min() > tmax
    ax = ll.plots.plot_expected_repeat_purchases(curve, model_name="BG/NBD")
    solid, dashed = ax.get_lines()
    assert solid.get_linestyle() == "-" and dashed.get_linestyle() == "--"
    assert solid.get_xdata()[-1] == pytest.approx(tmax)
    assert dashed.get_xdata()[0] == pytest.approx(tmax)  # unbroken at the join
    drawn = np.concatenate([solid.get_ydata(), dashed.get_ydata()[1:]])
    assert drawn == pytest.approx(curve["expected_purchases"].to_numpy())
    # the default runs to 1.5 x the longest T; Pareto/NBD through its own closed form
    pn = fitted["Pareto/NBD"]
    c2 = ll.clv.expected_repeat_purchases(pn)
    assert c2["t"].max() == pytest.approx(1.5 * tmax)
    r, al, s, be = (pn.params_[k] for k in ("r", "alpha", "s", "beta"))
    t = c2["t"].to_numpy()
    hand = r * be / (al * (s - 1)) * (1 - (be / (be + t)) ** (s - 1))
    assert c2["expected_purchases"].to_numpy() == pytest.approx(hand, rel=1e-10)


def test_chart_frames_refuse_wrong_inputs(summary, fitted):
    bg = fitted["BG/NBD"]
    with pytest.raises(TypeError, match="model: expected a fitted"):
        ll.clv.expected_repeat_purchases(ll.clv.GammaGamma())
    with pytest.raises(ValueError, match="t_max: expected a positive length of time"):
        ll.clv.expected_repeat_purchases(bg, t_max=0)
    with pytest.raises(ValueError, match="points: expected at least 2"):
        ll.clv.expected_repeat_purchases(bg, points=1)
    pt = ll.clv.period_transactions(summary, model=bg)
    with pytest.raises(ValueError, match=r"transactions: the frame lacks columns \['expected'\]"):
        ll.plots.plot_period_transactions(pt.drop("expected"))
    with pytest.raises(TypeError, match="history: expected a polars DataFrame"):
        ll.plots.plot_alive_history(pt.to_pandas())
    with pytest.raises(ValueError, match=r"curve: the frame lacks columns \['extrapolated'\]"):
        ll.plots.plot_expected_repeat_purchases(pt.select(
            t="frequency", expected_purchases="expected"))
