"""loyaltylab.metrics recovers the effects planted by make_crm (direction and significance).

20,000 simulated customers (seed 1, three years) give enough buyers in the small groups
(clients of departing managers, heavily e-mailed customers) for the planted effects to be
significant; the sample of 5,000 is too small for some of them.
"""

from __future__ import annotations

import math

from datetime import datetime

import polars as pl
import pytest

import loyaltylab as ll

M = ll.metrics


@pytest.fixture(scope="module")
def sim():
    return ll.datasets.make_crm(20_000, years=3, seed=1)


def test_over_contact_hurts(sim):
    # planted: HR 1.15 per e-mail per month above 4
    assert sim.truth["hazard_ratios"]["email_over_contact"] > 1
    r = M.email_dose_response(sim, threshold=4)
    assert r["odds_ratio_per_email"][0] > 1
    assert r["or_ci_low"][0] > 1
    assert r["trend_p_value"][0] < 0.01
    low = r.filter(pl.col("band") == "0-2")["value"][0]
    high = r.filter(pl.col("band_low") >= 6)
    high_rate = high["numerator"].sum() / high["denominator"].sum()
    assert high_rate > low


def test_fast_complaint_handling_helps(sim):
    # planted: HR 0.70 after a complaint resolved within 7 days, 1.80 when slower
    hr = sim.truth["hazard_ratios"]
    assert hr["complaint_fast"] < 1 < hr["complaint_slow"]
    r = M.retention_by_resolution(sim, bands=(7,))
    fast, slow = r["value"].to_list()
    assert fast > slow
    assert r["p_value"][0] < 0.001
    assert r["ci_low"][0] > r["ci_high"][1]


def test_manager_departure_raises_churn(sim):
    # planted: HR 2.0 from the day the account manager left
    assert sim.truth["hazard_ratios"]["manager_left"] > 1
    r = M.manager_departure_churn(sim)
    assert r["group"].to_list() == ["manager_left", "manager_stayed"]
    assert r["risk_ratio"][0] > 1.2
    assert r["p_value"][0] < 0.01
    assert r["departures"][0] >= 1
    # the hazard-ratio scale, computed here by hand: log(1 - p_left) / log(1 - p_stayed),
    # is further from 1 than the risk ratio and nearer the planted 2.0
    p1, p0 = r["value"][0], r["value"][1]
    assert r["hazard_ratio"][0] == pytest.approx(math.log(1 - p1) / math.log(1 - p0))
    assert r["risk_ratio"][0] < r["hazard_ratio"][0] < 2.5


def test_every_purchase_reward_retains_better(sim):
    # planted: HR 0.75 for every_purchase against first_time_discount
    assert sim.truth["hazard_ratios"]["reward_every_purchase"] < 1
    r = M.reward_scheme_comparison(sim)
    ref = r.filter(pl.col("reward_scheme") == "first_time_discount").row(0, named=True)
    ep = r.filter(pl.col("reward_scheme") == "every_purchase").row(0, named=True)
    assert ep["value"] > ref["value"]
    assert ep["difference"] > 0.03
    assert ep["p_value"] < 0.001
    # the 20 % discount on every order shows up as discounts granted
    assert ep["discounts"] > 3 * ref["discounts"]


def test_early_life_churn_follows_planted_channel_order(sim):
    # planted extra HR in the first 90 days: web 2.5 > advertising 2.0 > personal 1.3
    r = M.early_life_churn(sim)
    v = dict(zip(r["acquisition_channel"], r["value"]))
    assert v["web"] > v["advertising"] > v["personal"]
    web = r.filter(pl.col("acquisition_channel") == "web").row(0, named=True)
    personal = r.filter(pl.col("acquisition_channel") == "personal").row(0, named=True)
    assert web["ci_low"] > personal["ci_high"]


def test_contractual_defection_equals_truth_and_sits_in_band(sim):
    # subscriptions hold the true lifetimes, so the contractual rate can be recounted from
    # truth["customers"]: customers alive at the start of 2025 who defected during 2025
    r = M.defection_rate(sim, period="year")
    row = r.filter(pl.col("period_start") == datetime(2025, 1, 1)).row(0, named=True)
    t = sim.truth["customers"].filter(pl.col("first_order_at").is_not_null())
    start, end = datetime(2025, 1, 1), datetime(2026, 1, 1)
    at_risk = t.filter((pl.col("first_order_at") < start)
                       & (pl.col("defected_at").is_null() | (pl.col("defected_at") >= start)))
    lost = at_risk.filter(pl.col("defected_at") < end)
    assert row["denominator"] == at_risk.height
    assert row["numerator"] == lost.height
    assert 0.20 <= row["value"] <= 0.40
    assert row["in_band"]


def test_scorecard_on_simulation_is_complete(sim):
    sc = M.scorecard(sim)
    assert sc.height == 16  # 14 behaviour figures, NPS and CSAT
    nps = sc.filter(pl.col("unit") == "points")
    assert nps["metric"].to_list() == ["Net Promoter Score"]
    assert nps["current"].is_between(-100, 100).all()
    assert (nps["current_ci_low"] <= nps["current"]).all()
    assert sc.filter(pl.col("unit") == "share")["current"].is_between(0, 1).all()
    shares = sc.filter(pl.col("unit") == "share")
    assert (shares["current_ci_low"] <= shares["current"]).all()
    assert (shares["change_ci_low"] <= shares["change"]).all()
