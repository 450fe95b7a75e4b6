"""From answers to behaviour: hand-made data for the joins, make_crm for planted effects."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import matplotlib
import numpy as np
import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.exceptions import NotFittedError

matplotlib.use("Agg")
TS = pl.Datetime("us")
D0 = datetime(2024, 1, 1)


def day(n: int) -> datetime:
    return D0 + timedelta(days=n)


def tiny_data() -> CRMData:
    """Four customers answering on day 10; as_of day 400.

    a: NPS 10, orders on days 0, 50 (repurchase within 180 d), refers on day 100
    b: NPS 3, orders on day 0 only (no repurchase; churns by inactivity on day 180)
    c: NPS 9, orders on days 0 and 300 (outside a 180-day window)
    d: NPS 8, answers on day 300: its 180-day window ends after as_of
    zz: not in the customers table
    """
    customers = pl.DataFrame({S.CUSTOMER_ID: list("abcd"), S.ACQUIRED_AT: [D0] * 4},
                             schema_overrides={S.ACQUIRED_AT: TS})
    orders = pl.DataFrame({
        S.ORDER_ID: [str(i) for i in range(7)],
        S.CUSTOMER_ID: ["a", "a", "b", "c", "c", "d", "d"],
        S.ORDERED_AT: [day(0), day(50), day(0), day(0), day(300), day(0), day(290)],
        S.AMOUNT: [10.0, 20.0, 5.0, 7.0, 9.0, 1.0, 2.0]},
        schema_overrides={S.ORDERED_AT: TS})
    surveys = pl.DataFrame({
        S.CUSTOMER_ID: ["a", "b", "c", "d", "zz"], S.SURVEY: ["w1"] * 3 + ["w2", "w1"],
        S.ITEM: ["nps"] * 5, S.ANSWERED_AT: [day(10)] * 3 + [day(300), day(10)],
        S.SCORE: [10.0, 3.0, 9.0, 8.0, 5.0]}, schema_overrides={S.ANSWERED_AT: TS})
    referrals = pl.DataFrame({S.REFERRER_ID: ["a"], S.REFERRED_ID: ["x"],
                              S.REFERRED_AT: [day(100)]}, schema_overrides={S.REFERRED_AT: TS})
    return CRMData(customers=customers, orders=orders, surveys=surveys, referrals=referrals,
                   as_of=day(400))


def test_answers_with_outcomes_repurchase_statuses_and_unknown_customer():
    with pytest.warns(UserWarning, match=r"1 responses come from customers not in the "
                                         r"customers table \(first: \['zz'\]\)"):
        out = ll.survey.answers_with_outcomes(tiny_data(), outcome="repurchase",
                                              window="180d")
    got = {r[S.CUSTOMER_ID]: (r["outcome"], r["status"]) for r in out.iter_rows(named=True)}
    assert got == {"a": (1, "linked"), "b": (0, "linked"), "c": (0, "linked"),
                   "d": (None, "window_open"), "zz": (None, "unknown_customer")}
    assert out.height == 5                     # nothing dropped


def test_answers_with_outcomes_referral_and_churn():
    data = tiny_data()
    ref = ll.survey.answers_with_outcomes(data, outcome="referral", window="180d", warn=False)
    assert dict(ref.filter(pl.col("status") == "linked")
                .select(S.CUSTOMER_ID, "outcome").iter_rows()) == {"a": 1, "b": 0, "c": 0}
    churn = ll.survey.answers_with_outcomes(data, outcome="churn", window="365d", warn=False)
    got = dict(churn.filter(pl.col("status") == "linked")
               .select(S.CUSTOMER_ID, "outcome").iter_rows())
    # inactivity rule (180 d): a churns on day 230, b on day 180 (both within 365 d of
    # answering on day 10); c's last order on day 300 keeps it alive at day 375
    assert got == {"a": 1, "b": 1, "c": 0}
    with pytest.raises(ValueError, match="outcome: expected one of"):
        ll.survey.answers_with_outcomes(data, outcome="loyalty")
    with pytest.raises(ValueError, match=r"survey: \['w9'\] not found"):
        ll.survey.answers_with_outcomes(data, survey="w9")


def test_behaviour_link_contract_and_auc_hand_computed():
    data = ll.datasets.make_crm(3000, years=3, seed=3)
    link = ll.survey.BehaviourLink(outcome="churn", window="365d")
    with pytest.raises(NotFittedError, match="not fitted yet"):
        link.odds_ratios
    assert link.fit(data) is link
    or_ = link.odds_ratios.row(0, named=True)
    assert or_["odds_ratio"] == pytest.approx(math.exp(link.result_.params["nps"]))
    lo, hi = np.exp(np.asarray(link.result_.conf_int())[1])
    assert (or_["ci_low"], or_["ci_high"]) == pytest.approx((lo, hi), rel=1e-6)
    assert link.calibration_["n"].sum() == link.n_test_
    assert 0.5 < link.auc_ < 1
    assert "fitted on" in repr(link)
    # AUC by explicit pair counting on a small case
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.4])
    pairs = [(1.0 if p[i] > p[j] else 0.5 if p[i] == p[j] else 0.0)
             for i in range(6) for j in range(6) if y[i] == 1 and y[j] == 0]
    from loyaltylab.survey.behaviour import _auc
    assert _auc(y, p) == pytest.approx(np.mean(pairs))


def test_reliability_correction_hand_computed():
    from loyaltylab.survey.behaviour import _correct
    # b = -0.1, se = 0.03, r = 0.5 from 103 pairs: se_r = (1 - .25) / sqrt(100) = 0.075
    rel = pl.DataFrame({"item": ["nps"], "n_pairs": [103], "reliability": [0.5],
                        "ci_low": [0.3], "ci_high": [0.6]})
    b, se = _correct(-0.1, 0.03, rel)
    assert b == pytest.approx(-0.2)
    assert se == pytest.approx(math.sqrt(0.03**2 / 0.25 + 0.01 * 0.075**2 / 0.0625))
    assert _correct(-0.1, 0.03, 0.5) == pytest.approx((-0.2, 0.06))
    with pytest.raises(ValueError, match="cannot be corrected"):
        _correct(-0.1, 0.03, -0.2)


def test_behaviour_link_errors():
    with pytest.warns(UserWarning), pytest.raises(ValueError,
                                                  match="only 3 responses can be linked"):
        ll.survey.link_to_behaviour(tiny_data(), outcome="repurchase", window="180d")
    with pytest.raises(ValueError, match="reliability: the correction applies to a single"):
        ll.survey.BehaviourLink(predictors=["nps", "csat"], reliability=0.5)
    with pytest.raises(TypeError, match="expected a CRMData"):
        ll.survey.link_to_behaviour(pl.DataFrame())


def test_behaviour_link_with_customer_attributes_matches_a_hand_built_design():
    # NPS plus the reward programme (text: one indicator per level against the reference)
    # and acquisition cost (numeric): the same coefficients as statsmodels on a design
    # built here with pandas, clustered by customer as the link does
    import pandas as pd
    import statsmodels.api as sm

    data = ll.datasets.load_sample()
    link = ll.survey.link_to_behaviour(
        data, outcome="repurchase", window="180d",
        attributes=["reward_scheme", "acquisition_cost"],
        reference={"reward_scheme": "first_time_discount"})
    assert link.terms_ == ["nps", "reward_scheme=every_purchase", "reward_scheme=none",
                           "acquisition_cost"]
    use = (link.answers_.filter(pl.col("status") == "linked", pl.col("nps").is_not_null())
           .join(data.customers.select(S.CUSTOMER_ID, S.REWARD_SCHEME, S.ACQUISITION_COST),
                 on=S.CUSTOMER_ID).to_pandas())
    X = pd.DataFrame({
        "nps": use["nps"],
        "every": (use[S.REWARD_SCHEME] == "every_purchase").astype(float),
        "none": (use[S.REWARD_SCHEME] == "none").astype(float),
        "cost": use[S.ACQUISITION_COST].astype(float)})
    groups = pd.factorize(use[S.CUSTOMER_ID])[0]
    ref = sm.Logit(use["outcome"].astype(float), sm.add_constant(X)).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": groups})
    odds = link.odds_ratios
    assert odds["coef"].to_list() == pytest.approx(list(ref.params[1:]), rel=1e-6)
    assert odds["se"].to_list() == pytest.approx(list(ref.bse[1:]), rel=1e-6)
    assert link.n_ == len(use) and link.n_excluded_ == 0
    # the default reference is the most frequent level
    default = ll.survey.BehaviourLink(attributes=["reward_scheme"]).fit(data)
    top = (link.answers_.filter(pl.col("status") == "linked").join(
        data.customers.select(S.CUSTOMER_ID, S.REWARD_SCHEME), on=S.CUSTOMER_ID)
        .get_column(S.REWARD_SCHEME).value_counts(sort=True)[S.REWARD_SCHEME][0])
    assert f"reward_scheme={top}" not in default.terms_
    with pytest.raises(ValueError, match="not columns of the customers table"):
        ll.survey.BehaviourLink(attributes=["shoe_size"]).fit(data)
    with pytest.raises(ValueError, match="no answers at level"):
        ll.survey.BehaviourLink(attributes=["segment"], reference={"segment": "x"}).fit(data)
    with pytest.raises(ValueError, match="not among the attributes"):
        ll.survey.BehaviourLink(reference={"segment": "price"})
    with pytest.raises(ValueError, match="single predictor and no attributes"):
        ll.survey.BehaviourLink(attributes=["segment"], reliability=0.8)


# ------------------------------------------------- planted effects of make_crm (truth.md)

@pytest.fixture(scope="module", params=[2026, 7])
def crm(request):
    data = ll.datasets.make_crm(5000, years=3, seed=request.param)
    clean = ll.survey.drop_flagged(data)             # speeders answer at random
    rel = ll.survey.retest_reliability(clean)    # frame: its sampling error is propagated
    return data, clean, rel


@pytest.mark.filterwarnings("ignore:surveys.*outside their lifetime")
def test_satisfaction_to_churn_recovers_planted_hazard_ratio(crm):
    data, clean, rel = crm
    truth = data.truth["hazard_ratios"]["satisfaction"]
    h = ll.survey.satisfaction_hazard(clean, definition="contract", reliability=rel).row(
        0, named=True)
    assert h["ci_low"] <= truth <= h["ci_high"]
    naive = ll.survey.satisfaction_hazard(clean, definition="contract").row(0, named=True)
    assert h["hazard_ratio"] < naive["hazard_ratio"] < 1   # noise dilutes the naive HR


@pytest.mark.filterwarnings("ignore:surveys.*outside their lifetime")
def test_satisfaction_to_referral_recovers_planted_odds_ratio(crm):
    data, clean, rel = crm
    truth = data.truth["referral_odds_ratio_satisfaction"]
    link = ll.survey.link_to_behaviour(clean, outcome="referral", window="365d",
                                       reliability=rel)
    r = link.odds_ratios.row(0, named=True)
    assert r["ci_low"] <= truth <= r["ci_high"]


@pytest.mark.filterwarnings("ignore:surveys.*outside their lifetime")
def test_retention_and_trap_on_simulated_data(crm):
    data, clean, _ = crm
    curves = ll.survey.retention_by_nps_group(clean, definition="contract")
    summary = ll.survey.nps_group_outcomes(clean, definition="contract")
    assert set(curves["group"].unique()) == {"detractor", "passive", "promoter"}
    assert summary["customers"].sum() == curves.filter(pl.col("timeline") == 0)["at_risk"].sum()
    ret = dict(summary.select("nps_group", "retention").iter_rows())
    assert ret["promoter"] > ret["detractor"]
    trap = ll.survey.satisfaction_trap(clean, item="nps", satisfied_from=9,
                                       definition="contract")
    sat = trap.row(0, named=True)
    assert sat["group"] == "satisfied" and sat["defected"] > 0      # the trap is real
    assert sat["ci_low"] <= sat["defected_pct"] <= sat["ci_high"]


def test_retention_by_group_plot_and_tiny_outcomes():
    import matplotlib.pyplot as plt
    with pytest.warns(UserWarning, match="leaves them out"):
        curves = ll.survey.retention_by_nps_group(tiny_data())
    ax = ll.plots.plot_retention_by_nps_group(curves)
    assert "4 customers" in ax.get_title()          # a, b, c and d; zz is unknown
    plt.close("all")
    with pytest.warns(UserWarning, match="leaves them out"):
        out = ll.survey.nps_group_outcomes(tiny_data(), horizon="365d")
    # a (promoter): answered day 10, churned day 230, orders after answering: day 50 -> 1
    # order in 220 days; c (promoter): order on day 300, censored at day 400 (390 days)
    pro = out.filter(pl.col("nps_group") == "promoter").row(0, named=True)
    assert pro["customers"] == 3 - 1          # a and c (d is a passive)
    assert pro["orders_per_year"] == pytest.approx(2 / ((220 + 390) / 365.25))


def test_satisfaction_trap_hand_computed():
    data = tiny_data()
    with pytest.warns(UserWarning, match="leaves them out"):
        trap = ll.survey.satisfaction_trap(data, item="nps", satisfied_from=9,
                                           horizon="365d")
    # a (10) and c (9) are satisfied: a churns on day 230 (within a year of day 10), c does
    # not; b (3) churns on day 180; d answered on day 300 and is still active: unknown.
    rows = {r["group"]: (r["customers"], r["defected"]) for r in trap.iter_rows(named=True)}
    assert rows == {"satisfied": (2, 1), "not satisfied": (1, 1), "all": (3, 2)}


def test_loyalty_profit_hand_computed():
    data = tiny_data()
    contacts = pl.DataFrame({S.CUSTOMER_ID: ["a", "c"], S.CONTACTED_AT: [day(20), day(500)],
                             S.CHANNEL: ["phone", "email"], S.CONTACT_COST: [4.0, 100.0]},
                            schema_overrides={S.CONTACTED_AT: TS})
    data = data.replace(contacts=contacts)
    with pytest.warns(UserWarning, match=r"1 customers who answered are not in the "
                                         r"customers table \(first: \['zz'\]\)"):
        res = ll.survey.loyalty_profit(data, window="365d")
    got = {r["nps_group"]: (r["customers"], r["profit_mean"]) for r in res.iter_rows(named=True)}
    # a: revenue 20 (day 50) - cost 4 = 16; c: 9 (day 300) - 0 = 9; b: 0; d: window open
    assert got["promoter"] == (2, pytest.approx(12.5))
    assert got["detractor"] == (1, pytest.approx(0.0))
    assert got["passive"][0] == 0
    assert got["all"] == (3, pytest.approx(25 / 3))


def test_plots_draw_result_frames():
    import matplotlib.pyplot as plt
    answers = pl.DataFrame({"survey": ["a"] * 4 + ["b"] * 4,
                            "score": [10.0, 9, 3, 8, 10, 10, 9, 2]})
    ax = ll.plots.plot_nps(ll.survey.nps(answers, by="survey"))
    assert len(ax.patches) == 6                      # 3 segments x 2 waves
    ax = ll.plots.plot_score_trend(ll.survey.score_trend(answers))
    assert "2 answers" not in ax.get_title() and "8 answers" in ax.get_title()
    d = ll.survey.likert_distribution(pl.DataFrame({"q1": [1, 5, 5, 4], "q2": [2, 2, 3, 4]}),
                                      items=["q1", "q2"])
    ax = ll.plots.plot_likert(d)
    assert len(ax.patches) == 10
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=100), rng.normal(size=100)
    drv = ll.survey.drivers(pl.DataFrame({"a": a, "b": b, "y": a + b}), target="y",
                            predictors=["a", "b"])
    ax = ll.plots.plot_drivers(drv)
    assert [t.get_text() for t in ax.get_yticklabels()] == drv["item"].to_list()
    plt.close("all")
