"""Tests of loyaltylab.datasets: the make_crm simulator, its planted truth, the committed
sample, CDNOW and the donations table."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

import loyaltylab as ll
from loyaltylab.data import schema as S
from loyaltylab.datasets import _bundled

REPO = Path(__file__).resolve().parents[1]
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def big():
    """A larger simulation for the effect checks (about 0.5 s)."""
    return ll.datasets.make_crm(20_000, years=3, seed=11)


@pytest.fixture(scope="module")
def sample():
    return ll.datasets.load_sample()


# ------------------------------------------------------------------ shape and contract
def test_all_nine_tables_with_canonical_columns_and_types():
    d = ll.datasets.make_crm(600, years=2, seed=4)
    assert set(d.tables) == set(S.TABLES)
    for name, frame in d.tables.items():
        spec = S.TABLES[name]
        assert set(frame.columns) <= set(spec.names), name
        for col in frame.columns:
            assert frame.schema[col] == spec.schema[col], (name, col)
        for col in spec.required_names:
            assert col in frame.columns, (name, col)
    assert d.customers.height == 600
    assert d.as_of == datetime(2025, 1, 1)
    assert d.report.ok
    for t in d.report.tables.values():
        assert t.read == t.kept


def test_ids_amounts_and_dates():
    d = ll.datasets.make_crm(600, years=2, seed=4)
    ids = d.customers[S.CUSTOMER_ID]
    assert ids.str.contains(r"^C\d{6}$").all() and ids.n_unique() == 600
    assert d.orders[S.ORDER_ID].str.contains(r"^O\d{7}$").all()
    for col in (S.AMOUNT, S.DISCOUNT):
        cents = d.orders[col] * 100
        assert ((cents - cents.round()).abs() < 1e-6).all()
    assert (d.orders[S.AMOUNT] > 0).all()
    # every timestamp is a whole day before as_of
    for frame in d.tables.values():
        for col, dt in frame.schema.items():
            if dt == pl.Datetime("us"):
                s = frame[col].drop_nulls()
                assert (s < d.as_of).all(), col
                assert (s.dt.truncate("1d") == s).all(), col


def test_no_personal_data_columns_or_values():
    d = ll.datasets.make_crm(300, years=1, seed=2)
    for frame in [*d.tables.values(), d.truth["customers"]]:
        assert not set(frame.columns) & set(S.PERSONAL_COLUMNS)
        for col, dt in frame.schema.items():
            if dt == pl.String:
                vals = frame[col].drop_nulls()
                # nothing that looks like an e-mail address or a phone number
                assert not vals.str.contains("@").any(), col
                assert not vals.str.contains(r"\+?\d[\d /-]{7,}").any(), col


def test_deterministic_for_a_seed_and_different_across_seeds():
    a = ll.datasets.make_crm(800, years=2, seed=5)
    b = ll.datasets.make_crm(800, years=2, seed=5)
    c = ll.datasets.make_crm(800, years=2, seed=6)
    for name in S.TABLES:
        assert a.tables[name].equals(b.tables[name]), name
    assert a.truth["customers"].equals(b.truth["customers"])
    assert not a.orders.equals(c.orders)


def test_start_and_years_move_the_window():
    d = ll.datasets.make_crm(300, years=1, seed=1, start="2020-03-01")
    assert d.as_of == datetime(2021, 3, 1)
    assert d.orders[S.ORDERED_AT].min() >= datetime(2020, 3, 1)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"n_customers": 5}, ValueError, "n_customers: need at least 10"),
    ({"n_customers": "many"}, TypeError, "n_customers: expected an integer"),
    ({"n_customers": 100, "years": 0}, ValueError, "years: expected a whole number"),
    ({"n_customers": 100, "start": "1st of May"}, ValueError, "start: cannot read"),
    ({"n_customers": 100, "hazard_ratios": {"loyalty": 2}}, ValueError,
     r"hazard_ratios: unknown effect 'loyalty'; the effects are \['complaint_fast'"),
    ({"n_customers": 100, "hazard_ratios": {"manager_left": -1}}, ValueError,
     r"hazard_ratios\['manager_left'\]: expected a positive number, got -1"),
    ({"n_customers": 100, "hazard_ratios": {"early_life": {"tv": 2}}}, ValueError,
     r"hazard_ratios\['early_life'\]: unknown level 'tv'"),
    ({"n_customers": 100, "hazard_ratios": {"segment": 2}}, TypeError,
     r"hazard_ratios\['segment'\]: expected a dict"),
    ({"n_customers": 100, "hazard_ratios": [("manager_left", 2)]}, TypeError,
     "hazard_ratios: expected a dict"),
    ({"n_customers": 100, "baseline_annual_defection": 1.5}, ValueError,
     "baseline_annual_defection: expected a share between 0 and 1"),
])
def test_bad_arguments_raise_clear_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ll.datasets.make_crm(**kwargs)


# ------------------------------------------------------------------ defection and orders
def test_annual_defection_in_band_and_equal_to_hand_count(big):
    t = big.truth
    assert 0.20 <= t["annual_defection"] <= 0.40
    # the same share by hand from the observable subscriptions table
    sub = big.subscriptions
    cohort = sub.filter(pl.col(S.STARTED_AT) <= big.as_of - 365 * DAY)
    lost = cohort.filter(pl.col(S.ENDED_AT).is_not_null()
                         & (pl.col(S.ENDED_AT) - pl.col(S.STARTED_AT) < 365 * DAY))
    # ended_at is the defection day floored; a defection at 364.x days floors to 364
    assert lost.height / cohort.height == pytest.approx(t["annual_defection"], abs=0.005)


def test_orders_stop_at_defection_and_gaps_are_30_to_45_days(big):
    o = big.orders.join(big.subscriptions, on=S.CUSTOMER_ID)
    assert o.filter(pl.col(S.ORDERED_AT) > pl.col(S.ENDED_AT)).height == 0
    assert o.filter(pl.col(S.ORDERED_AT) < pl.col(S.STARTED_AT)).height == 0
    # mean gap between consecutive orders of active customers
    alive = big.subscriptions.filter(pl.col(S.ENDED_AT).is_null())[S.CUSTOMER_ID]
    gaps = (big.orders.filter(pl.col(S.CUSTOMER_ID).is_in(alive.implode()))
            .sort(S.CUSTOMER_ID, S.ORDERED_AT)
            .select((pl.col(S.ORDERED_AT).diff().over(S.CUSTOMER_ID)
                     .dt.total_days()).alias("gap"))
            .drop_nulls())
    assert 30 <= gaps["gap"].mean() <= 45


def test_subscriptions_hold_true_lifetimes(big):
    tc = big.truth["customers"].filter(pl.col("status") == "buyer")
    j = tc.join(big.subscriptions, on=S.CUSTOMER_ID)
    assert j.height == tc.height == big.subscriptions.height
    assert (j[S.STARTED_AT] == j["first_order_at"]).all()
    ended = j.filter(pl.col("defected_at").is_not_null())
    assert (ended[S.ENDED_AT] == ended["defected_at"]).all()
    assert j.filter(pl.col("defected_at").is_null())[S.ENDED_AT].null_count() == \
        j.filter(pl.col("defected_at").is_null()).height


# ------------------------------------------------------------------ planted effects
def _poisson_fit(ep: pl.DataFrame, cols: list[str]):
    """Piecewise-exponential (Poisson GLM with log-exposure offset) fit of the episodes.

    The true hazard is constant on every episode, so this is the correctly specified
    likelihood, and its intercept is log h0."""
    import statsmodels.api as sm

    pdf = ep.select("event", (pl.col("stop") - pl.col("start")).alias("exposure"),
                    *cols).to_pandas()
    X = sm.add_constant(pdf[cols].astype(float))
    res = sm.GLM(pdf["event"], X, family=sm.families.Poisson(),
                 offset=np.log(pdf["exposure"])).fit()
    return res


def _truth_vector(truth) -> dict[str, float]:
    hr = truth["hazard_ratios"]
    bc = truth["business_change"]["hazard_ratio_by_stage"]
    h0 = -math.log(1 - truth["baseline_annual_defection"]) / 365
    out = {
        "const": math.log(h0),
        "satisfaction_c": math.log(hr["satisfaction"]),
        "email_over": math.log(hr["email_over_contact"]),
        "reward_every_purchase": math.log(hr["reward_every_purchase"]),
        "reward_none": math.log(hr["reward_none"]),
        "segment_convenience": math.log(hr["segment"]["convenience"]),
        "segment_price": math.log(hr["segment"]["price"]),
        "complaint_fast": math.log(hr["complaint_fast"]),
        "complaint_slow": math.log(hr["complaint_slow"]),
        "manager_left": math.log(hr["manager_left"]),
        "change_repeat": math.log(bc["repeat customer"]),
        "change_client": math.log(bc["client"]),
        "change_first": math.log(bc["first-time customer"]),
    }
    for ch, v in hr["early_life"].items():
        out[f"early_{ch}"] = math.log(v)
    return out


def test_planted_hazard_ratios_are_recovered_jointly(big):
    """Every planted log-HR (and log h0) lies within 3.3 SE of its estimate, and a joint
    Wald test of estimates == truth does not reject (p > 0.01)."""
    ep = ll.datasets.truth_episodes(big)
    truth = _truth_vector(big.truth)
    cols = [c for c in truth if c != "const"]
    res = _poisson_fit(ep, cols)
    names = ["const", *cols]
    est = res.params[names].to_numpy()
    true = np.array([truth[c] for c in names])
    se = res.bse[names].to_numpy()
    z = (est - true) / se
    assert np.all(np.abs(z) < 3.3), dict(zip(names, np.round(z, 2)))
    cov = res.cov_params().loc[names, names].to_numpy()
    diff = est - true
    wald = float(diff @ np.linalg.solve(cov, diff))
    assert stats.chi2.sf(wald, len(names)) > 0.01
    # and the data are informative: the key effects are clearly away from 1
    for c in ("satisfaction_c", "manager_left", "complaint_fast", "complaint_slow",
              "reward_every_purchase", "email_over"):
        assert abs(res.params[c] / res.bse[c]) > 4, c


def test_changed_effects_are_planted_and_reported():
    """hazard_ratios= changes what is planted: with no manager effect, a weaker satisfaction
    effect and a higher baseline, the fit on the true episodes finds the new values."""
    d = ll.datasets.make_crm(20_000, years=3, seed=13,
                             hazard_ratios={"manager_left": 1.0, "satisfaction": 0.95},
                             baseline_annual_defection=0.25)
    hr = d.truth["hazard_ratios"]
    assert hr["manager_left"] == 1.0 and hr["satisfaction"] == 0.95
    assert hr["complaint_slow"] == 1.8                      # untouched default
    assert d.truth["baseline_annual_defection"] == 0.25
    truth = _truth_vector(d.truth)
    cols = [c for c in truth if c != "const"]
    res = _poisson_fit(ll.datasets.truth_episodes(d), cols)
    for c in ("const", "manager_left", "satisfaction_c"):
        assert abs(res.params[c] - truth[c]) / res.bse[c] < 3.3, c
    # the default effects are far outside the new intervals
    assert abs(res.params["manager_left"] - math.log(2.0)) / res.bse["manager_left"] > 4
    assert abs(res.params["satisfaction_c"] - math.log(0.85)) / res.bse["satisfaction_c"] > 4


@pytest.mark.slow
def test_cox_time_varying_recovers_hazard_ratios():
    """lifelines' CoxTimeVaryingFitter on the true episodes: each planted HR within its
    99.9 % interval. Early-life flags of all channels sum to 1 in the first 90 days, which
    the Cox baseline absorbs, so the referral channel is the reference there."""
    from lifelines import CoxTimeVaryingFitter

    d = ll.datasets.make_crm(8000, years=3, seed=12)
    ep = ll.datasets.truth_episodes(d).drop("early_referral")
    truth = _truth_vector(d.truth)
    ctv = CoxTimeVaryingFitter().fit(ep.to_pandas(), id_col=S.CUSTOMER_ID,
                                     start_col="start", stop_col="stop", event_col="event")
    for c in ep.columns[4:]:
        target = truth[c] - (truth["early_referral"] if c.startswith("early_") else 0.0)
        z = (ctv.params_[c] - target) / ctv.standard_errors_[c]
        assert abs(z) < 3.3, (c, round(float(z), 2))


def test_satisfaction_seen_in_nps_drives_churn_and_referrals(big):
    nps = (big.surveys.filter(pl.col(S.ITEM) == "nps")
           .group_by(S.CUSTOMER_ID).agg(pl.col(S.SCORE).first().alias("nps")))
    sat = big.truth["customers"].join(nps, on=S.CUSTOMER_ID)
    # nps measures latent satisfaction with noise (sd 1.2 before rounding)
    r = np.corrcoef(sat["nps"], sat["satisfaction"])[0, 1]
    assert 0.6 < r < 0.95
    churned = big.subscriptions.select(S.CUSTOMER_ID, pl.col(S.ENDED_AT).is_not_null()
                                       .alias("lost"))
    g = nps.join(churned, on=S.CUSTOMER_ID).with_columns(
        pl.when(pl.col("nps") >= 9).then(pl.lit("promoter"))
        .when(pl.col("nps") <= 6).then(pl.lit("detractor")).otherwise(pl.lit("passive"))
        .alias("group")).group_by("group").agg(pl.col("lost").mean())
    rate = dict(zip(g["group"], g["lost"]))
    assert rate["promoter"] < rate["passive"] < rate["detractor"]
    # referrers are more satisfied than other buyers
    buyers = big.truth["customers"].filter(pl.col("status") == "buyer")
    refs = big.referrals[S.REFERRER_ID].unique()
    is_ref = buyers.with_columns(pl.col(S.CUSTOMER_ID).is_in(refs.implode()).alias("ref"))
    m = is_ref.group_by("ref").agg(pl.col("satisfaction").mean())
    means = dict(zip(m["ref"], m["satisfaction"]))
    assert means[True] > means[False] + 0.5


def test_referral_odds_ratio_recovered(big):
    """Logistic regression of the latent advocate flag on satisfaction among base buyers
    (those not themselves referred) recovers the planted odds ratio."""
    import statsmodels.api as sm

    referred = big.customers.filter(pl.col(S.ACQUISITION_CHANNEL) == "referral")
    tc = (big.truth["customers"].filter(pl.col("status") == "buyer")
          .join(referred.select(S.CUSTOMER_ID), on=S.CUSTOMER_ID, how="anti"))
    X = sm.add_constant(tc["satisfaction"].to_numpy() - 7)
    res = sm.Logit(tc["is_advocate"].cast(pl.Int8).to_numpy(), X).fit(disp=0)
    lo, hi = np.exp(res.conf_int(alpha=0.001)[1])
    assert lo < big.truth["referral_odds_ratio_satisfaction"] < hi


def test_complaint_speed_manager_reward_and_email_in_the_observable_tables(big):
    sub = big.subscriptions.select(S.CUSTOMER_ID, S.ENDED_AT)
    as_of = big.as_of

    def lost_within(frame, at_col, days=180):
        f = (frame.join(sub, on=S.CUSTOMER_ID)
             .filter(pl.col(at_col) <= as_of - days * DAY)
             .with_columns((pl.col(S.ENDED_AT).is_not_null()
                            & (pl.col(S.ENDED_AT) < pl.col(at_col) + days * DAY))
                           .alias("lost")))
        return f["lost"].mean(), f.height

    c = big.complaints.with_columns(
        ((pl.col(S.RESOLVED_AT) - pl.col(S.OPENED_AT)) <= 7 * DAY).fill_null(False)
        .alias("fast"))
    fast, n1 = lost_within(c.filter(pl.col("fast")), S.OPENED_AT)
    slow, n2 = lost_within(c.filter(~pl.col("fast")), S.OPENED_AT)
    assert n1 > 300 and n2 > 200 and fast < slow - 0.05
    # clients of a manager who left vs other managers' clients active on the same day:
    # share lost in the next 180 days
    left = big.assignments.filter(pl.col(S.END_REASON) == S.MANAGER_LEFT)
    parts = []
    for m, t in left.select(S.ACCOUNT_MANAGER, S.ASSIGNED_TO).unique().iter_rows():
        parts.append(
            big.assignments.filter(pl.col(S.ASSIGNED_FROM) < t,
                                   pl.col(S.ASSIGNED_TO).is_null()
                                   | (pl.col(S.ASSIGNED_TO) >= t))
            .join(sub, on=S.CUSTOMER_ID)
            .filter(pl.col(S.ENDED_AT).is_null() | (pl.col(S.ENDED_AT) >= t))
            .select((pl.col(S.ACCOUNT_MANAGER) == m).alias("left"),
                    (pl.col(S.ENDED_AT) < t + 180 * DAY).fill_null(False).alias("lost")))
    g = pl.concat(parts).group_by("left").agg(pl.col("lost").mean(), pl.len())
    mg = dict(zip(g["left"], g["lost"]))
    assert g["len"].min() > 300 and mg[True] > 1.4 * mg[False]
    # every-purchase reward keeps more first-year customers than a first-time discount
    first_year = (big.customers.join(big.subscriptions, on=S.CUSTOMER_ID)
                  .filter(pl.col(S.STARTED_AT) <= as_of - 365 * DAY)
                  .with_columns((pl.col(S.ENDED_AT).is_not_null()
                                 & (pl.col(S.ENDED_AT) < pl.col(S.STARTED_AT) + 365 * DAY))
                                .alias("lost"))
                  .group_by(S.REWARD_SCHEME).agg(pl.col("lost").mean()))
    r = dict(zip(first_year[S.REWARD_SCHEME], first_year["lost"]))
    assert r["every_purchase"] < r["first_time_discount"] - 0.03
    # e-mails: heavy recipients (over 4 a month, measured from contacts) churn more
    em = (big.contacts.filter(pl.col(S.CHANNEL) == "email",
                              pl.col(S.DIRECTION) == "outbound")
          .group_by(S.CUSTOMER_ID).len("emails")
          .join(big.subscriptions, on=S.CUSTOMER_ID, how="right")
          .with_columns(pl.col("emails").fill_null(0),
                        ((pl.col(S.ENDED_AT).fill_null(as_of) - pl.col(S.STARTED_AT))
                         .dt.total_days().clip(lower_bound=30) / 30.4375).alias("months"))
          .filter(pl.col("months") >= 6)
          .with_columns((pl.col("emails") / pl.col("months")).alias("rate"),
                        pl.col(S.ENDED_AT).is_not_null().alias("lost")))
    light = em.filter(pl.col("rate") <= 2)
    heavy = em.filter(pl.col("rate") > 6)
    # defections per customer-month: planted HR 1.15 per e-mail a month above 4
    per_month = [f["lost"].sum() / f["months"].sum() for f in (light, heavy)]
    assert heavy.height > 100 and per_month[1] > 1.2 * per_month[0]


def test_business_change_hits_loyal_stages_hardest(big):
    bc = big.truth["business_change"]
    hr = bc["hazard_ratio_by_stage"]
    assert hr["first-time customer"] < hr["repeat customer"] < hr["client"]
    when = bc["date"]
    # the first of the month 60 % through the three years (2023-01-01 .. 2026-01-01)
    assert when == datetime(2024, 10, 1)
    # stage from orders before the change, churn in the 90 days after vs the 90 days before
    n_before = (big.orders.filter(pl.col(S.ORDERED_AT) < when)
                .group_by(S.CUSTOMER_ID).len("n"))
    s = (big.subscriptions.join(n_before, on=S.CUSTOMER_ID)
         .with_columns(pl.when(pl.col("n") >= 5).then(pl.lit("client"))
                       .otherwise(pl.lit("other")).alias("stage")))

    def rate(lo, hi):
        f = s.filter(pl.col(S.ENDED_AT).is_null() | (pl.col(S.ENDED_AT) >= lo),
                     pl.col(S.STARTED_AT) < lo)
        lost = f.with_columns((pl.col(S.ENDED_AT) < hi).fill_null(False).alias("lost"))
        g = lost.group_by("stage").agg(pl.col("lost").mean())
        return dict(zip(g["stage"], g["lost"]))

    before = rate(when - 90 * DAY, when)
    after = rate(when, when + 90 * DAY)
    assert after["client"] / before["client"] > after["other"] / before["other"]
    assert after["client"] > 1.5 * before["client"]


def test_cross_line_buying_rises_with_satisfaction(big):
    lines = big.orders.group_by(S.CUSTOMER_ID).agg(
        pl.col(S.PRODUCT_LINE).n_unique().alias("lines"), pl.len().alias("n"))
    j = lines.join(big.truth["customers"], on=S.CUSTOMER_ID).filter(pl.col("n") >= 5)
    hi = j.filter(pl.col("satisfaction") >= 8)["lines"].mean()
    lo = j.filter(pl.col("satisfaction") <= 5)["lines"].mean()
    assert hi > lo
    assert set(big.orders[S.PRODUCT_LINE].unique()) == {"core", "accessories", "service",
                                                       "premium"}


def test_reward_schemes_give_the_documented_discounts(big):
    o = big.orders.join(big.customers.select(S.CUSTOMER_ID, S.REWARD_SCHEME),
                        on=S.CUSTOMER_ID).sort(S.CUSTOMER_ID, S.ORDERED_AT, S.ORDER_ID)
    o = o.with_columns((pl.int_range(pl.len()).over(S.CUSTOMER_ID) == 0).alias("first"),
                       (pl.col(S.DISCOUNT) / (pl.col(S.AMOUNT) + pl.col(S.DISCOUNT)))
                       .alias("share"))
    ep = o.filter(pl.col(S.REWARD_SCHEME) == "every_purchase")
    assert ((ep["share"] - 0.2).abs() < 0.01).all()
    ftd = o.filter(pl.col(S.REWARD_SCHEME) == "first_time_discount")
    assert ((ftd.filter("first")["share"] - 0.2).abs() < 0.01).all()
    assert (ftd.filter(~pl.col("first"))[S.DISCOUNT] == 0).all()
    assert (o.filter(pl.col(S.REWARD_SCHEME) == "none")[S.DISCOUNT] == 0).all()


# ------------------------------------------------------------------ ladders
def test_offline_ladder_has_suspects_prospects_and_stage_skippers(big):
    c, o, k = big.customers, big.orders, big.contacts
    offline = c.filter(pl.col(S.ACQUISITION_CHANNEL) != "web")
    has_order = o[S.CUSTOMER_ID].unique().implode()
    has_contact = k[S.CUSTOMER_ID].unique().implode()
    suspects = offline.filter(~pl.col(S.CUSTOMER_ID).is_in(has_order),
                              ~pl.col(S.CUSTOMER_ID).is_in(has_contact))
    prospects = offline.filter(~pl.col(S.CUSTOMER_ID).is_in(has_order),
                               pl.col(S.CUSTOMER_ID).is_in(has_contact))
    assert suspects.height > 0.1 * offline.height and prospects.height > 0.1 * offline.height
    first = o.group_by(S.CUSTOMER_ID).agg(pl.col(S.ORDERED_AT).min().alias("first"))
    pre = (k.join(first, on=S.CUSTOMER_ID).filter(pl.col(S.CONTACTED_AT) < pl.col("first"))
           [S.CUSTOMER_ID].unique().implode())
    buyers = offline.join(first, on=S.CUSTOMER_ID)
    walk_in = buyers.filter(~pl.col(S.CUSTOMER_ID).is_in(pre)).height / buyers.height
    # planted 30 % of non-referred offline buyers skip the prospect stage
    assert 0.2 < walk_in < 0.5
    # repeat customers, clients (5+ orders) and advocates (referrers) all present
    n = o.group_by(S.CUSTOMER_ID).len()
    assert n.filter(pl.col("len") >= 2).height > 0 and n.filter(pl.col("len") >= 5).height > 0
    assert big.referrals.height > 0


def test_online_ladder_has_surfers_visitors_and_first_visit_buyers(big):
    w = big.web_sessions
    anon_only = (w.group_by(S.VISITOR_ID).agg(pl.col(S.CUSTOMER_ID).is_null().all()
                                             .alias("anon")).filter("anon"))
    assert anon_only.height > 0
    first_visit = (w.drop_nulls(S.CUSTOMER_ID).group_by(S.CUSTOMER_ID)
                   .agg(pl.col(S.STARTED_AT).min().alias("v"), pl.len().alias("visits_id")))
    first_order = big.orders.group_by(S.CUSTOMER_ID).agg(pl.col(S.ORDERED_AT).min()
                                                         .alias("o"))
    j = first_visit.join(first_order, on=S.CUSTOMER_ID)
    share = (j["v"] == j["o"]).mean()
    assert share == pytest.approx(big.truth["ladder"]["p_online_first_visit_buy"], abs=0.06)
    # visitors identified but never buying (stuck at repeat visitor) exist
    assert first_visit.join(first_order, on=S.CUSTOMER_ID, how="anti").height > 0
    web = big.customers.filter(pl.col(S.ACQUISITION_CHANNEL) == "web")
    assert web.join(first_visit, on=S.CUSTOMER_ID).height == web.height


def test_referrals_point_at_referred_customers(big):
    r = big.referrals.join(big.customers, left_on=S.REFERRED_ID, right_on=S.CUSTOMER_ID)
    assert r.height == big.referrals.height == round(0.10 * big.customers.height)
    assert (r[S.ACQUISITION_CHANNEL] == "referral").all()
    assert (r[S.ACQUIRED_AT] <= r[S.REFERRED_AT] + DAY).all()
    first = big.orders.group_by(S.CUSTOMER_ID).agg(pl.col(S.ORDERED_AT).min().alias("f"))
    rr = big.referrals.join(first, left_on=S.REFERRER_ID, right_on=S.CUSTOMER_ID)
    assert rr.height == big.referrals.height and (rr["f"] <= rr[S.REFERRED_AT]).all()


def test_managers_and_assignments(big):
    a = big.assignments
    assert a[S.ACCOUNT_MANAGER].n_unique() == 20
    left = a.filter(pl.col(S.END_REASON) == S.MANAGER_LEFT)
    assert left[S.ACCOUNT_MANAGER].n_unique() == 3
    planted = big.truth["managers_left"]
    for m, when in planted.items():
        ends = left.filter(pl.col(S.ACCOUNT_MANAGER) == m)[S.ASSIGNED_TO].unique()
        assert ends.to_list() == [when]
    # every reassigned client gets a new manager from the day the old one left
    nxt = a.join(left.select(S.CUSTOMER_ID, S.ASSIGNED_TO), on=S.CUSTOMER_ID).filter(
        pl.col(S.ASSIGNED_FROM) == pl.col(f"{S.ASSIGNED_TO}_right"))
    assert nxt.height == left.height and not nxt[S.ACCOUNT_MANAGER].is_in(
        list(planted)).any()
    cur = big.customers.join(a.filter(pl.col(S.ASSIGNED_TO).is_null()), on=S.CUSTOMER_ID)
    assert (cur[S.ACCOUNT_MANAGER] == cur[f"{S.ACCOUNT_MANAGER}_right"]).all()


def test_surveys_items_ranges_straightliners_and_speeders(sample):
    s = sample.surveys
    ranges = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7), "q1": (1, 5), "q2": (1, 5),
              "q3": (1, 5), "q4": (1, 5)}
    assert set(s[S.ITEM].unique()) == set(ranges)
    for item, (lo, hi) in ranges.items():
        sc = s.filter(pl.col(S.ITEM) == item)[S.SCORE]
        assert sc.min() >= lo and sc.max() <= hi and (sc == sc.round()).all()
    wide = s.pivot(on=S.ITEM, index=[S.CUSTOMER_ID, S.SURVEY], values=S.SCORE)
    straight = wide.filter((pl.col("q1") == pl.col("q2")) & (pl.col("q2") == pl.col("q3"))
                           & (pl.col("q3") == pl.col("q4")))
    assert 0.03 < straight.height / wide.height < 0.15
    secs = s.group_by(S.CUSTOMER_ID, S.SURVEY).agg(pl.col(S.RESPONSE_SECONDS).first())
    assert 0.02 < (secs[S.RESPONSE_SECONDS] < 45).mean() < 0.10
    # q4 is reverse-coded: it correlates negatively with q1 among ordinary respondents
    ok = wide.join(secs.filter(pl.col(S.RESPONSE_SECONDS) >= 45), on=[S.CUSTOMER_ID,
                                                                     S.SURVEY])
    assert np.corrcoef(ok["q1"], ok["q4"])[0, 1] < -0.2
    assert s[S.SURVEY].str.contains(r"^relationship_\d{4}q[1-4]$").all()


# ------------------------------------------------------------------ bundled data
def test_sample_regenerates_byte_identical(tmp_path):
    written = _bundled.write_sample(tmp_path)
    committed = REPO / "data" / "sample"
    assert written
    for path in written:
        rel = path.relative_to(tmp_path)
        old, new = (committed / rel).read_bytes(), path.read_bytes()
        if old != new:  # name the first line that differs (a diff of megabytes takes hours)
            lines = zip(old.splitlines(), new.splitlines(), strict=False)
            first = next(((i, a, b) for i, (a, b) in enumerate(lines, 1) if a != b),
                         ("end", len(old), len(new)))
            pytest.fail(f"{rel} differs from the committed file at line {first[0]}: "
                        f"{first[1]!r} (committed) vs {first[2]!r} (regenerated)")
    # and nothing else is committed there
    committed_files = {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()}
    assert committed_files == {p.relative_to(tmp_path) for p in written}
    assert sum(p.stat().st_size for p in written) < 8_000_000


def test_load_sample_goes_through_the_loader_and_equals_make_crm(sample):
    assert sample.report.source.endswith("sample")
    assert set(sample.report.tables) == set(S.TABLES)
    for name, t in sample.report.tables.items():
        assert t.read == t.kept and t.rejected == 0, name
    sim = ll.datasets.make_crm(**_bundled.SAMPLE_ARGS)
    for name in S.TABLES:
        assert sample.tables[name].equals(sim.tables[name]), name
    assert sample.truth["customers"].equals(sim.truth["customers"])
    assert sample.truth["business_change"] == sim.truth["business_change"]
    assert sample.truth["hazard_ratios"] == sim.truth["hazard_ratios"]
    assert sample.as_of == sim.as_of == datetime(2026, 1, 1)


def test_data_path_missing_names_the_path():
    with pytest.raises(FileNotFoundError, match="bundled data not found: .*no_such"):
        ll.datasets.data_path("no_such_folder")


def test_truth_episodes_needs_truth():
    d = ll.datasets.load_cdnow(sample=True)
    with pytest.raises(ValueError, match="truth_episodes: data.truth is missing"):
        ll.datasets.truth_episodes(d)


def _hand_parse(path: Path, skip_header: bool, dollar_col: int):
    """Count customers, lines and dollars of a CDNOW text file with plain Python."""
    customers, lines, cents, cds = set(), 0, 0, 0
    with open(path) as fh:
        if skip_header:
            next(fh)
        for line in fh:
            f = line.split()
            if not f:
                continue
            customers.add(f[0])
            lines += 1
            cds += int(f[dollar_col - 1])
            d, _, c = f[dollar_col].partition(".")
            cents += int(d) * 100 + int(c.ljust(2, "0"))
    return len(customers), lines, cents / 100, cds


@pytest.mark.parametrize("sample_, n_cust, fname, header, col", [
    (False, 23570, "CDNOW_master.txt", True, 3),
    (True, 2357, "CDNOW_sample.txt", False, 4),
])
def test_load_cdnow_counts_and_dollars(sample_, n_cust, fname, header, col):
    cd = ll.datasets.load_cdnow(sample=sample_)
    n_c, n_lines, dollars, cds = _hand_parse(REPO / "data" / "cdnow" / fname, header, col)
    assert n_c == n_cust == cd.customers.height
    assert cd.orders.height == n_lines
    assert cd.orders[S.AMOUNT].sum() == pytest.approx(dollars, abs=0.005)
    assert cd.orders["number_of_cds"].sum() == cds          # extra column kept
    assert cd.report.tables[S.ORDERS].read == cd.report.tables[S.ORDERS].kept == n_lines
    assert cd.orders[S.ORDER_ID].n_unique() == n_lines
    first = cd.orders.group_by(S.CUSTOMER_ID).agg(pl.col(S.ORDERED_AT).min().alias("f"))
    j = cd.customers.join(first, on=S.CUSTOMER_ID)
    assert (j[S.ACQUIRED_AT] == j["f"]).all()
    # every customer first bought in Q1 1997; the log ends in June 1998
    assert cd.customers[S.ACQUIRED_AT].max() < datetime(1997, 4, 1)
    assert cd.orders[S.ORDERED_AT].max() < datetime(1998, 7, 1) <= cd.as_of


def test_load_cdnow_sample_matches_the_published_summary():
    """Repeat transactions in the 39-week calibration period per customer equal the
    frequency column of lifetimes' cdnow_customers_summary.csv (Fader, Hardie & Lee 2005):
    the sample has 2,357 customers and sum(frequency) computed from our orders matches."""
    cd = ll.datasets.load_cdnow(sample=True)
    end = datetime(1997, 1, 1) + timedelta(weeks=39)
    # lifetimes counts distinct purchase days
    days = (cd.orders.filter(pl.col(S.ORDERED_AT) < end)
            .group_by(S.CUSTOMER_ID).agg(pl.col(S.ORDERED_AT).n_unique().alias("days")))
    summ = pl.read_csv(REPO / "data" / "cdnow" / "cdnow_customers_summary.csv")
    assert int((days["days"] - 1).sum()) == int(summ["frequency"].sum())


def test_load_donations_matches_published_cohort():
    don = ll.datasets.load_donations()
    assert don.columns == ["frequency", "recency", "periods", "weights"]
    # Fader, Hardie & Shang (2010): 11,104 donors, 6 repeat opportunities
    assert int(don["weights"].sum()) == 11104
    assert (don["periods"] == 6).all()
    assert don.filter(pl.col("frequency") == 0)["weights"].item() == 3464


def test_every_truth_key_and_column_is_documented():
    d = ll.datasets.make_crm(300, years=2, seed=8)
    doc = " ".join(ll.datasets.make_crm.__doc__.split())
    keys = set(d.truth) | set(d.truth["hazard_ratios"]) | set(d.truth["ladder"]) | set(
        d.truth["business_change"]) | set(d.truth["customers"].columns)
    missing = sorted(k for k in keys if f"``{k}``" not in doc and k not in doc)
    assert not missing
    # the truth.md contract keys
    for k in ("hazard_ratios", "baseline_annual_defection", "annual_defection",
              "referral_odds_ratio_satisfaction", "business_change", "ladder", "customers"):
        assert k in d.truth
    for k in ("satisfaction", "complaint_fast", "complaint_slow", "manager_left",
              "email_over_contact", "reward_every_purchase", "early_life"):
        assert k in d.truth["hazard_ratios"]
    hr = d.truth["hazard_ratios"]
    assert hr["satisfaction"] < 1 and hr["complaint_fast"] < 1 < hr["complaint_slow"]
    assert hr["reward_every_purchase"] < 1 < hr["manager_left"]
