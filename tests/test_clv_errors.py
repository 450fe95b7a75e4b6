"""Bad input to loyaltylab.clv raises clear errors that name the problem and the fix."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.clv import (BetaGeo, BetaGeoBetaBinom, GammaGamma, ParetoNBD, ShiftedBetaGeo,
                            customer_lifetime_value, holdout_comparison,
                            probability_alive_matrix, rfm_summary)
from loyaltylab.data import schema as S
from loyaltylab.exceptions import ConvergenceError, NotFittedError


def _rfm(**over) -> pl.DataFrame:
    base = {S.CUSTOMER_ID: ["c1", "c2", "c3", "c4"], "frequency": [0, 2, 1, 5],
            "recency": [0.0, 10.0, 3.0, 30.0], "T": [40.0, 38.0, 20.0, 35.0],
            "monetary_value": [0.0, 12.5, 30.0, 18.0]}
    base.update(over)
    return pl.DataFrame(base)


@pytest.mark.parametrize("cls", [BetaGeo, ParetoNBD])
def test_negative_frequency(cls):
    with pytest.raises(ValueError, match=r"rfm.frequency: 1 customers \(c2\) are negative"):
        cls().fit(_rfm(frequency=[0, -2, 1, 5]))


def test_non_integer_frequency():
    with pytest.raises(ValueError, match=r"frequency: 1 customers \(c3\) are not whole numbers"):
        BetaGeo().fit(_rfm(frequency=[0.0, 2.0, 1.5, 5.0]))


def test_recency_greater_than_T():
    with pytest.raises(ValueError, match=r"1 customers \(c4\) have recency greater than T"):
        BetaGeo().fit(_rfm(recency=[0.0, 10.0, 3.0, 36.0]))


def test_empty_frame():
    with pytest.raises(ValueError, match="the frame is empty"):
        ParetoNBD().fit(_rfm().head(0))


def test_missing_column_and_nan():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['T'\]"):
        BetaGeo().fit(_rfm().drop("T"))
    with pytest.raises(ValueError, match=r"rfm.recency: 1 customers \(c2\) are missing"):
        BetaGeo().fit(_rfm(recency=[0.0, None, 3.0, 30.0]))


def test_zero_frequency_with_positive_recency():
    with pytest.raises(ValueError, match="frequency 0 but recency > 0"):
        BetaGeo().fit(_rfm(recency=[1.0, 10.0, 3.0, 30.0]))


def test_crmdata_instead_of_summary():
    cd = ll.datasets.load_cdnow(sample=True)
    with pytest.raises(TypeError, match=r"summarise the orders first with ll.clv.rfm_summary"):
        BetaGeo().fit(cd)


def test_gamma_gamma_names_non_repeaters_and_non_positive_spend():
    with pytest.raises(ValueError, match=r"1 customers have no repeat purchase \(frequency 0\): "
                                         r"c1.*filter"):
        GammaGamma().fit(_rfm())
    bad = _rfm().filter(pl.col("frequency") > 0).with_columns(
        monetary_value=pl.Series([12.5, 0.0, -3.0]))
    with pytest.raises(ValueError, match=r"2 customers have monetary_value <= 0: c3, c4"):
        GammaGamma().fit(bad)


def test_not_fitted():
    with pytest.raises(NotFittedError, match=r"BetaGeo is not fitted yet; call .fit"):
        BetaGeo().summary
    with pytest.raises(NotFittedError, match="ShiftedBetaGeo is not fitted"):
        ShiftedBetaGeo().projection(5)
    assert repr(GammaGamma()) == "GammaGamma() (not fitted)"


def test_convergence_error_gives_advice():
    rfm = pl.read_csv("data/cdnow/cdnow_customers_summary.csv")
    with pytest.raises(ConvergenceError, match=r"did not converge.*Try: a time unit"):
        BetaGeo(max_iter=2).fit(rfm)


@pytest.mark.parametrize("cls", [BetaGeo, ParetoNBD])
def test_convergence_error_on_identical_customers(cls):
    # every customer behaves the same: no heterogeneity, the gamma/beta mixtures degenerate
    rfm = pl.DataFrame({"frequency": [5] * 200, "recency": [25.0] * 200, "T": [30.0] * 200})
    with pytest.raises(ConvergenceError, match=r"edge of the parameter space.*behave alike"):
        cls().fit(rfm)


def test_no_repeat_purchases_at_all():
    rfm = pl.DataFrame({"frequency": [0] * 50, "recency": [0.0] * 50, "T": [30.0] * 50})
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        BetaGeo().fit(rfm)


def test_sbg_bad_counts():
    with pytest.raises(ValueError, match=r"the count rises at period 2 \(600 -> 700\)"):
        ShiftedBetaGeo().fit([1000, 600, 700])
    with pytest.raises(ValueError, match="at least two counts"):
        ShiftedBetaGeo().fit([1000])


def test_bgbb_recency_above_periods():
    don = pl.DataFrame({"frequency": [1, 2], "recency": [3, 7], "periods": [6, 6]})
    with pytest.raises(ValueError, match=r"have recency greater than periods"):
        BetaGeoBetaBinom().fit(don)


def test_rfm_summary_errors():
    orders = pl.DataFrame({S.CUSTOMER_ID: ["a"], S.ORDERED_AT: [datetime(2024, 1, 1)]})
    with pytest.raises(ValueError, match=r"orders: missing column\(s\) \['amount'\].*"
                                         r"monetary=False"):
        rfm_summary(orders)
    assert rfm_summary(orders, monetary=False).height == 1
    with pytest.raises(ValueError, match=r"calibration_end \(2024-03-01\) is after "
                                         r"observation_end"):
        rfm_summary(orders, monetary=False, observation_end="2024-02-01",
                    calibration_end="2024-03-01")
    with pytest.raises(ValueError, match=r"time_unit: expected one of"):
        rfm_summary(orders, monetary=False, time_unit="fortnight")
    with pytest.raises(ValueError, match="the table is empty"):
        rfm_summary(orders.head(0), monetary=False)
    with pytest.raises(TypeError, match="orders: expected a CRMData"):
        rfm_summary([1, 2, 3])


def test_clv_and_checks_bad_arguments():
    rfm = pl.read_csv("data/cdnow/cdnow_customers_summary_with_transactions.csv").select(
        frequency="x", recency="t_x", T="T", monetary_value="zbar")
    bg = BetaGeo().fit(rfm)
    gg = GammaGamma().fit(rfm.filter(pl.col("frequency") > 0))
    with pytest.raises(TypeError, match="purchase_model: expected a fitted ll.clv.BetaGeo"):
        customer_lifetime_value(rfm, purchase_model=gg, spend_model=gg)
    with pytest.raises(TypeError, match="spend_model: expected a fitted ll.clv.GammaGamma"):
        customer_lifetime_value(rfm, purchase_model=bg, spend_model=bg)
    with pytest.raises(ValueError, match="interval: expected 'bootstrap', 'delta' or None"):
        customer_lifetime_value(rfm, purchase_model=bg, spend_model=gg, interval="jackknife")
    with pytest.raises(NotFittedError):
        customer_lifetime_value(rfm, purchase_model=BetaGeo(), spend_model=gg)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['frequency_holdout', "
                                         r"'duration_holdout'\]"):
        holdout_comparison(rfm, model=bg)
    with pytest.raises(ValueError, match="max_recency .* is greater than T"):
        probability_alive_matrix(bg, max_recency=np.float64(100.0))
