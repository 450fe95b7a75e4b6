"""loyaltylab.funnel: every default rule boundary on hand-built data, ladder checks, the
funnel statistics against statsmodels/scipy, the Markov algebra by hand, and the planted
ladder behaviour of the simulated sample."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import loyaltylab as ll
from loyaltylab import funnel as F
from loyaltylab.funnel import _engine as E
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.exceptions import MissingTableError

AS_OF = datetime(2025, 1, 1)
T0 = datetime(2022, 1, 1)


def day(n: float) -> datetime:
    """``n`` days before AS_OF."""
    return AS_OF - timedelta(days=n)


def _frame(rows, schema):
    return pl.DataFrame(rows, schema=schema, orient="row")


def crm(customers, orders=(), contacts=(), referrals=(), sessions=None, as_of=AS_OF):
    """A CRMData from tuples: customers (id, acquired), orders (id, at, line),
    contacts (id, at), referrals (referrer, referred, at), sessions (visitor, id, at)."""
    cust = _frame(list(customers), {S.CUSTOMER_ID: pl.String,
                                    S.ACQUIRED_AT: pl.Datetime("us")})
    cust = cust.with_columns(pl.lit("consumer").alias(S.KIND),
                             (pl.col(S.CUSTOMER_ID).str.ends_with("b")).cast(pl.String)
                             .alias(S.SEGMENT))
    ords = _frame([(f"O{i}", c, t, 10.0, line) for i, (c, t, line) in enumerate(orders)],
                  {S.ORDER_ID: pl.String, S.CUSTOMER_ID: pl.String,
                   S.ORDERED_AT: pl.Datetime("us"), S.AMOUNT: pl.Float64,
                   S.PRODUCT_LINE: pl.String})
    cont = _frame([(c, t, "phone") for c, t in contacts],
                  {S.CUSTOMER_ID: pl.String, S.CONTACTED_AT: pl.Datetime("us"),
                   S.CHANNEL: pl.String})
    refs = _frame(list(referrals), {S.REFERRER_ID: pl.String, S.REFERRED_ID: pl.String,
                                    S.REFERRED_AT: pl.Datetime("us")})
    ws = None if sessions is None else _frame(
        list(sessions), {S.VISITOR_ID: pl.String, S.CUSTOMER_ID: pl.String,
                         S.STARTED_AT: pl.Datetime("us")})
    return CRMData(customers=cust, orders=ords, contacts=cont, referrals=refs,
                   web_sessions=ws, as_of=as_of)


def row(stages: pl.DataFrame, cid: str) -> dict:
    return stages.filter(pl.col(S.CUSTOMER_ID) == cid).row(0, named=True)


# ------------------------------------------------------------------ offline rule boundaries
@pytest.fixture(scope="module")
def offline():
    c = [(f"c{i}", T0) for i in range(1, 15)]
    orders = [
        ("c3", day(100), "core"),                                   # exactly one order
        ("c4", day(50), "core"), ("c4", day(50) + timedelta(hours=5), "core"),  # same day
        ("c5", day(200), "core"), ("c5", day(100), "core"),         # two distinct days
        # c6: 4 orders inside the trailing 365 days -> client
        *[("c6", day(d), "core") for d in (300, 200, 100, 10)],
        # c7: 4 orders spread over 365 days exactly: never 4 inside (t-365d, t]
        *[("c7", day(d), "core") for d in (700, 600, 500, 335)],
        # c8: two product lines within 365 days -> client
        ("c8", day(300), "core"), ("c8", day(100), "service"),
        # c9: two product lines 366 days apart -> not client
        ("c9", day(500), "core"), ("c9", day(134), "service"),
        # c10, c11: clients (4 orders within a week, on the day before as_of)
        *[("c10", day(d), "core") for d in (4, 3, 2, 1)],
        *[("c11", day(d), "core") for d in (4, 3, 2, 1)],
        # c12: active buyer (lapse boundary: last order 364 days back)
        ("c12", day(900), "core"), ("c12", day(364), "core"),
        # c13: last order exactly 365 days back -> lapsed
        ("c13", day(900), "core"), ("c13", day(365), "core"),
    ]
    contacts = [("c2", day(30)),                       # prospect
                ("c3", day(150)),                      # contacted before buying
                ("c14", day(20)), ]
    referrals = [("c10", "c1", day(729)),             # within 730 days of as_of
                 ("c11", "c2", day(731))]             # just outside
    return crm(c, orders, contacts, referrals)


def test_default_rule_boundaries(offline):
    st = F.assign_stages(offline, as_of=AS_OF)
    stage = dict(zip(st[S.CUSTOMER_ID], st["stage"].cast(pl.String)))
    assert stage["c1"] == "suspect"                     # listed, no contact, no order
    assert stage["c2"] == "prospect"                    # a contact, no order
    assert stage["c3"] == "first_time_customer"         # exactly one order
    assert stage["c4"] == "first_time_customer"         # two orders on one day
    assert stage["c5"] == "repeat_customer"             # two distinct days
    assert stage["c6"] == "client"                      # 4 orders in 365 days
    assert stage["c7"] == "repeat_customer"             # never 4 in a 365-day window
    assert stage["c8"] == "client"                      # two lines within 365 days
    assert stage["c9"] == "repeat_customer"             # two lines 366 days apart
    assert stage["c10"] == "advocate"                   # referral 729 days back
    assert stage["c11"] == "client"                     # referral 731 days back
    assert row(st, "c6")["reached_client"] == day(10)   # 4th order in the window
    assert row(st, "c10")["reached_advocate"] == day(1)
    assert row(st, "c3")["reached_prospect"] == day(150)
    assert row(st, "c3")["reached_first_time_customer"] == day(100)
    assert row(st, "c5")["reached_repeat_customer"] == day(100)


def test_stage_rank_and_skipped(offline):
    st = F.assign_stages(offline, as_of=AS_OF)
    r = row(st, "c6")
    assert r["stage_rank"] == 4
    # listed at T0 with no contact or order before its first order: suspect was reached
    assert r["reached_suspect"] == T0
    assert r["skipped"] == ["prospect"]
    assert row(st, "c3")["skipped"] == []
    assert row(st, "c1")["stage_rank"] == 0


def test_lapse_boundary(offline):
    st = F.assign_stages(offline, as_of=AS_OF)
    assert row(st, "c12")["lapsed"] is False            # last order 364 days back
    assert row(st, "c13")["lapsed"] is True             # exactly 365 days back: outside
    assert row(st, "c13")["stage"] == "repeat_customer"  # keeps the highest stage
    assert row(st, "c1")["lapsed"] is False             # never active: nothing to lapse
    st180 = F.assign_stages(offline, as_of=AS_OF, lapse_after="180d")
    assert row(st180, "c3")["lapsed"] is False          # order 100 days back
    assert row(st180, "c5")["lapsed"] is False
    assert row(st180, "c9")["lapsed"] is False          # 134 days back
    assert row(st180, "c12")["lapsed"] is True


def test_events_after_as_of_are_ignored(offline):
    st = F.assign_stages(offline, as_of=day(60))
    assert row(st, "c4")["stage"] == "suspect"          # its orders come 50 days back
    assert row(st, "c2")["stage"] == "suspect"          # contact 30 days back
    assert row(st, "c6")["stage"] == "repeat_customer"  # 3 orders by then


def test_contact_on_the_day_of_the_first_order_is_not_a_prospect():
    d = crm([("a", T0)], orders=[("a", day(10), "core")], contacts=[("a", day(10))])
    r = row(F.assign_stages(d), "a")
    assert r["reached_prospect"] is None and r["skipped"] == ["prospect"]
    assert r["reached_suspect"] == T0


# ------------------------------------------------------------------ online ladder
@pytest.fixture(scope="module")
def online():
    cust = [("u1", T0), ("u2", T0), ("u3", T0), ("u4", T0), ("u5", T0)]
    sessions = [
        ("V1", None, day(300)), ("V1", None, day(280)),     # anonymous, later u1
        ("V1", "u1", day(250)),                              # one identified session
        ("V2", "u2", day(200)), ("V2", "u2", day(150)),      # repeat visitor
        ("V3", None, day(90)), ("V3", "u3", day(60)),        # surfer, buys on first visit
        ("V9", None, day(40)), ("V9", None, day(20)),        # never identified
        ("V4", "u4", day(100)), ("V4", "u4", day(80)),       # visits, then buys twice
    ]
    orders = [("u3", day(60), "core"), ("u4", day(70), "core"), ("u4", day(40), "core"),
              ("u5", day(10), "core")]                       # u5: offline buyer, no visit
    return crm(cust, orders, sessions=sessions)


def test_online_ladder_rules(online):
    st = F.assign_stages(online, F.ONLINE)
    stage = {(r[S.CUSTOMER_ID], r[S.VISITOR_ID]): r["stage"] for r in st.iter_rows(named=True)}
    assert stage[("u1", None)] == "first_time_visitor"
    assert stage[("u2", None)] == "repeat_visitor"
    assert stage[("u3", None)] == "first_time_buyer"
    assert stage[("u4", None)] == "repeat_buyer"
    assert stage[("u5", None)] == "first_time_buyer"
    assert stage[(None, "V9")] == "surfer"                   # anonymous-only visitor
    assert row(st, "u1")["reached_surfer"] == day(300)       # anonymous sessions count
    assert row(st, "u2")["reached_surfer"] is None


def test_first_visit_buyer_skips_both_visitor_stages(online):
    st = F.assign_stages(online, F.ONLINE)
    assert row(st, "u3")["skipped"] == ["first_time_visitor", "repeat_visitor"]
    assert row(st, "u4")["skipped"] == ["surfer"]
    assert row(st, "u5")["skipped"] == ["surfer", "first_time_visitor", "repeat_visitor"]
    j = F.stage_jumps(online, F.ONLINE)
    hop = j.filter((pl.col("from_stage") == "surfer") & (pl.col("to_stage") ==
                                                         "first_time_buyer"))
    assert hop["n"].item() == 1 and hop["stages_skipped"].item() == 2
    sk = F.skipped_stages(online, F.ONLINE)
    ftv = sk.filter(pl.col("stage") == "first_time_visitor").row(0, named=True)
    assert (ftv["passed"], ftv["skipped"]) == (4, 2)       # u2 u3 u4 u5 passed; u3 u5 skipped


def test_online_ladder_needs_web_sessions(offline):
    with pytest.raises(MissingTableError, match="online ladder.*'web_sessions'"):
        F.assign_stages(offline, F.ONLINE)


def test_offline_ladder_names_missing_referrals(offline):
    with pytest.raises(MissingTableError, match="advocate.*'referrals' table"):
        F.assign_stages(offline.replace(referrals=None))
    st = F.assign_stages(offline.replace(referrals=None), F.OFFLINE.without("advocate"))
    assert row(st, "c10")["stage"] == "client"


def test_measurable_reads_the_tables_of_data_and_words_each_change(offline):
    data = offline.replace(contacts=None, referrals=None,
                           orders=offline.orders.drop(S.PRODUCT_LINE))
    lad, changes = F.OFFLINE.measurable(data)
    by_columns = F.OFFLINE.measurable({t: f.columns for t, f in data.tables.items()})
    assert lad.names == by_columns[0].names
    assert [(str(c), c.missing) for c in changes] == [(str(c), c.missing)
                                                      for c in by_columns[1]]
    assert lad.names == ["suspect", "first_time_customer", "repeat_customer", "client"]
    assert [str(c) for c in changes] == [
        "The rung suspect is measured as 'listed as a customer and no orders' instead of "
        "'listed as a customer and no contacts and no orders', because the data have no "
        "contacts table.",
        "The rung prospect is not shown: it needs a contacts table (its rule: contacts >= 1 "
        "and no orders), which this dataset does not have.",
        "The rung client is measured as 'orders >= 4 within 365 days' instead of 'orders >= "
        "4 within 365 days or distinct product line values of orders >= 2 within 365 days', "
        "because the data have no product line column in the orders table.",
        "The top rung, advocate, is not shown: it needs a referrals table (its rule: "
        "referrals >= 1 within 730 days), which this dataset does not have."]
    assert F.OFFLINE.measurable(offline) == (F.OFFLINE, [])


def test_as_of_before_all_data_is_an_error(offline):
    with pytest.raises(ValueError, match="before all data"):
        F.assign_stages(offline, as_of="2000-01-01")


def test_bad_arguments(offline):
    with pytest.raises(TypeError, match="expected a Ladder"):
        F.assign_stages(offline, "offline")
    with pytest.raises(TypeError, match="expected a CRMData"):
        F.assign_stages(offline.orders)
    with pytest.raises(ValueError, match="lapse_after"):
        F.assign_stages(offline, lapse_after="a year")


# ------------------------------------------------------------------ ladder construction
def test_contradictory_rule_is_reported():
    with pytest.raises(F.LadderError, match="stage 'x': the rule can never hold"):
        F.Ladder([F.Stage("x", F.Count("orders", at_least=3) & ~F.Count("orders",
                                                                        at_least=2)),
                  F.Stage("y", F.Count("orders"))])


def test_identical_rules_overlap():
    with pytest.raises(F.LadderError, match=r"'a' and 'b' overlap \(identical rules\)"):
        F.Ladder([F.Stage("a", F.Count("orders", at_least=2)),
                  F.Stage("b", F.Count("orders", at_least=2))])


def test_lower_stage_implying_higher_stage_overlaps():
    with pytest.raises(F.LadderError, match="'big' and 'small' overlap"):
        F.Ladder([F.Stage("big", F.Count("orders", at_least=5)),
                  F.Stage("small", F.Count("orders", at_least=2))])


def test_other_ladder_errors():
    with pytest.raises(F.LadderError, match="appears twice"):
        F.Ladder([F.Stage("a", F.Count("orders")), F.Stage("a", F.Count("contacts"))])
    with pytest.raises(F.LadderError, match="must name an earlier stage"):
        F.Ladder([F.Stage("a", F.Count("orders")),
                  F.Stage("b", F.Count("orders", at_least=3), requires="c")])
    with pytest.raises(F.LadderError, match="cannot have a trailing window"):
        ~F.Count("orders", within="30d")
    with pytest.raises(F.LadderError, match="unknown source 'visits'"):
        F.Count("visits")
    with pytest.raises(F.LadderError, match="at least two stages"):
        F.Ladder([F.Stage("a", F.Count("orders"))])
    with pytest.raises(F.LadderError, match="at_least must be a whole number"):
        F.Count("orders", at_least=0)


def test_ladder_error_lives_in_exceptions():
    from loyaltylab import exceptions

    assert F.LadderError is exceptions.LadderError  # still importable from the funnel
    assert issubclass(F.LadderError, exceptions.LoyaltyLabError)
    assert issubclass(F.LadderError, ValueError)
    with pytest.raises(exceptions.LoyaltyLabError, match="needs at least two stages"):
        F.Ladder([F.Stage("a", F.Count("orders"))])


def test_thresholds_are_parameters(offline):
    strict = F.offline_ladder(client_orders=5)
    st = F.assign_stages(offline, strict)
    assert row(st, "c6")["stage"] == "repeat_customer"      # only 4 orders
    assert row(st, "c8")["stage"] == "client"               # lines rule unchanged
    custom = F.OFFLINE.with_stage(
        "advocate", rule=F.Count("referrals", within="1000d"))
    assert row(F.assign_stages(offline, custom), "c11")["stage"] == "advocate"
    assert "client" in F.OFFLINE.describe()["stage"].to_list()


# ------------------------------------------------------------------ funnel statistics
def test_funnel_counts_by_hand(offline):
    f = F.funnel(offline)
    # ranks: c1 0; c2 c14 1; c3 c4 2; c5 c7 c9 c12 c13 3; c6 c8 c11 4; c10 5
    assert f["at_stage"].to_list() == [1, 2, 2, 5, 3, 1]
    assert f["reached"].to_list() == [14, 13, 11, 9, 4, 1]
    assert f["converted"].to_list()[:5] == [13, 11, 9, 4, 1]
    assert f["conversion"][3] == pytest.approx(4 / 9)
    assert f["share_of_top"][4] == pytest.approx(4 / 14)


def test_funnel_interval_matches_statsmodels_wilson(offline):
    from statsmodels.stats.proportion import proportion_confint

    f = F.funnel(offline)
    lo, hi = proportion_confint(4, 9, alpha=0.05, method="wilson")
    assert f["ci_low"][3] == pytest.approx(lo, abs=1e-12)
    assert f["ci_high"][3] == pytest.approx(hi, abs=1e-12)


def test_funnel_by_group_test_matches_two_proportion_z_test():
    from statsmodels.stats.proportion import proportions_ztest

    data = ll.datasets.load_sample()
    two = data.replace(customers=data.customers.with_columns(
        pl.when(pl.col(S.REWARD_SCHEME) == "every_purchase").then(pl.lit("every"))
        .otherwise(pl.lit("other")).alias(S.REWARD_SCHEME)))
    f = F.funnel(two, by="reward_scheme")
    assert f.height == 12
    for stage in ("prospect", "first_time_customer", "client"):
        step = f.filter(pl.col("stage") == stage)
        z, p = proportions_ztest(step["converted"].to_numpy(), step["reached"].to_numpy())
        assert step["chi2"][0] == pytest.approx(z**2, rel=1e-9)
        assert step["p_value"][0] == pytest.approx(p, rel=1e-9)
        assert step["dof"][0] == 1


# ------------------------------------------------------------------ transitions and Markov
def test_transition_matrix_by_hand(offline):
    m = F.transition_matrix(offline, start=day(60), end=AS_OF, normalize=False)
    rep = m.filter(pl.col("from_state") == "repeat_customer").row(0, named=True)
    # at day(60) the repeat customers are c5 c6 c7 c9 c12 c13 (none lapsed then: c13's
    # last order is 305 days old); by as_of c6 is a client (4th order 10 days back) and
    # c13 is lapsed (last order exactly 365 days back)
    assert rep["n"] == 6
    assert rep["client"] == 1
    assert rep["lapsed"] == 1
    assert rep["repeat_customer"] == 4
    assert m.columns[-1] == "lapsed"
    shares = F.transition_matrix(offline, start=day(60), end=AS_OF)
    assert shares.select(F.OFFLINE.names + ["lapsed"]).sum_horizontal().to_list() == \
        pytest.approx([1.0] * shares.height)


def test_projection_equals_hand_computed_two_step_matrix_power():
    # P = [[.6 .3 .1] [.2 .7 .1] [0 0 1]], start mix (30, 10, 0) / 40 = (.75, .25, 0)
    # mix1 = (.5, .4, .1); mix2 = .5*(.6,.3,.1) + .4*(.2,.7,.1) + .1*(0,0,1) = (.38,.43,.19)
    m = pl.DataFrame({"from_state": ["x", "y", "lapsed"], "n": [30, 10, 0],
                      "x": [0.6, 0.2, 0.0], "y": [0.3, 0.7, 0.0],
                      "lapsed": [0.1, 0.1, 1.0]})
    p = F.project_mix(m, periods=2)
    assert p.filter(pl.col("period") == 1)["share"].to_list() == pytest.approx([.5, .4, .1])
    assert p.filter(pl.col("period") == 2)["share"].to_list() == pytest.approx(
        [.38, .43, .19])
    # from x alone: row x of P^2 = (.6*.6+.3*.2, .6*.3+.3*.7, .6*.1+.3*.1+.1)
    p2 = F.project_mix(m, periods=2, start={"x": 1})
    assert p2.filter(pl.col("period") == 2)["share"].to_list() == pytest.approx(
        [0.42, 0.39, 0.19])


def test_absorption_by_hand():
    # a -> b 1/2, a -> lapsed 1/2; b -> top 1/2, b -> b 1/2.
    # P(reach top | a) = 1/2; given it, 1 step to b plus a geometric wait of mean 2 = 3.
    m = pl.DataFrame({"from_state": ["a", "b", "top", "lapsed"], "n": [10, 10, 0, 0],
                      "a": [0.0, 0.0, 0.0, 0.0], "b": [0.5, 0.5, 0.0, 0.0],
                      "top": [0.0, 0.5, 1.0, 0.0], "lapsed": [0.5, 0.0, 0.0, 1.0]})
    out = F.advocacy_outlook(m, periods=2)
    r = {x["from_state"]: x for x in out.iter_rows(named=True)}
    assert r["a"]["p_reach"] == pytest.approx(0.5)
    assert r["a"]["expected_periods"] == pytest.approx(3.0)
    assert r["b"]["p_reach"] == pytest.approx(1.0)
    assert r["b"]["expected_periods"] == pytest.approx(2.0)
    assert r["a"]["p_within"] == pytest.approx(0.25)       # a->b->top
    assert r["(all)"]["p_reach"] == pytest.approx(0.75)
    assert r["lapsed"]["expected_periods"] is None


def test_markov_bad_input():
    m = pl.DataFrame({"segment": ["s"], "from_state": ["a"], "n": [1], "a": [1.0]})
    with pytest.raises(ValueError, match="filter one group first"):
        F.project_mix(m)
    with pytest.raises(ValueError, match="expected the output of transition_matrix"):
        F.project_mix(pl.DataFrame({"a": [1.0]}))


# ------------------------------------------------------------------ planted behaviour
@pytest.fixture(scope="module")
def sample():
    return ll.datasets.load_sample()


def test_recovers_first_visit_buyers_exactly(sample):
    truth = sample.truth["ladder"]
    st = F.assign_stages(sample, F.ONLINE).join(sample.customers, on=S.CUSTOMER_ID)
    web_buyers = st.filter((pl.col(S.ACQUISITION_CHANNEL) == "web")
                           & (pl.col("stage_rank") >= F.ONLINE.rank("first_time_buyer")))
    # a web buyer who skipped first_time_visitor bought on the first identified visit;
    # the realised share is planted exactly
    k = int(web_buyers["skipped"].list.contains("first_time_visitor").sum())
    lo, hi = ll._stats.wilson_interval(k, web_buyers.height)
    r = {"share": k / web_buyers.height, "ci_low": lo, "ci_high": hi}
    assert r["share"] == pytest.approx(truth["observed_share_first_visit_buyers_online"],
                                       abs=1e-12)
    assert r["ci_low"] < truth["p_online_first_visit_buy"] < r["ci_high"]


def test_recovers_offline_prospect_skipping(sample):
    sk = F.skipped_stages(sample, by="acquisition_channel").filter(
        (pl.col("stage") == "prospect") & (pl.col("acquisition_channel") != "web"))
    p = sample.truth["ladder"]["p_offline_skip_prospect"]
    assert (sk["ci_low"] < p).all() and (sk["ci_high"] > p).all()


def test_recovers_share_of_suspects(sample):
    st = F.assign_stages(sample).join(sample.customers, on=S.CUSTOMER_ID)
    base = st.filter(pl.col(S.ACQUISITION_CHANNEL).is_in(["advertising", "partnership",
                                                          "personal"])
                     & (pl.col(S.ACQUIRED_AT) <= sample.as_of - timedelta(days=120)))
    k, n = int((base["stage"] == "suspect").sum()), base.height
    lo, hi = ll._stats.wilson_interval(k, n)
    assert lo < sample.truth["ladder"]["p_suspect_offline"] < hi


def test_recovers_prospect_conversion_with_censoring(sample):
    # P(buy | prospect) = P(buy, no skip) / P(no skip) = .65 * .7 / (1 - .65 * .3)
    lad = sample.truth["ladder"]
    p_buy, p_skip = lad["p_prospect_buys_offline"], lad["p_offline_skip_prospect"]
    expected = p_buy * (1 - p_skip) / (1 - p_buy * p_skip)
    t = F.time_to_stage(sample, by="acquisition_channel", horizon="365d").filter(
        pl.col("acquisition_channel").is_in(["advertising", "partnership", "personal"])
        & (pl.col("stage") == "first_time_customer"))
    assert (t["share_ci_low"] < expected).all() and (t["share_ci_high"] > expected).all()


def test_business_change_hits_clients_harder_than_first_time_customers():
    # planted: HR 2.0 for customers with 5+ orders at the change, 1.0 for one order
    data = ll.datasets.make_crm(20000, seed=2026)
    bc = data.truth["business_change"]
    hr = bc["hazard_ratio_by_stage"]
    assert hr["client"] > hr["first-time customer"]
    e = F.business_change_effect(data, date=bc["date"], window="365d", lapse_after="180d")
    r = {x["stage"]: x for x in e.iter_rows(named=True)}
    assert r["client"]["lapse_ratio"] > 1 and r["client"]["lapse_p_value"] < 0.001
    assert r["client"]["lapse_ratio"] > r["first_time_customer"]["lapse_ratio"]
    assert r["first_time_customer"]["lapse_p_value"] > 0.05        # planted HR 1.0


def test_business_change_window_past_as_of_is_an_error(sample):
    with pytest.raises(ValueError, match="after as_of"):
        F.business_change_effect(sample, date="2025-12-01", window="365d")


def test_stage_mix_adds_up(sample):
    mix = F.stage_mix(sample, every="quarter")
    last = mix.filter(pl.col("date") == mix["date"].max())
    st = F.assign_stages(sample)
    assert int(last.filter(pl.col("state") == "lapsed")["n"].item()) == int(st["lapsed"].sum())
    per = mix.group_by("date").agg(pl.col("share").sum())
    assert per["share"].to_list() == pytest.approx([1.0] * per.height)


def test_time_to_stage_kaplan_meier_by_hand(offline):
    # prospects: c14 contacted 20 days back and c2 30 days back (no order: censored at
    # 20 and 30 days); c3 contacted 150 days back, first order 100 days back (50 days).
    # KM: censorings at 20 and 30 leave one at risk at 50, who arrives: S(50) = 0, so the
    # median is 50 days and everyone arrives within a year.
    t = F.time_to_stage(offline, origin="prospect")
    r = t.filter(pl.col("stage") == "first_time_customer").row(0, named=True)
    assert (r["n"], r["arrived"]) == (3, 1)
    assert r["median_days"] == pytest.approx(50.0)
    assert r["share_within"] == pytest.approx(1.0)
    curves = F.time_to_stage_curves(offline, origin="prospect")
    ftc = curves.filter(pl.col("stage") == "first_time_customer")
    assert ftc.filter(pl.col("days") == 30)["share_arrived"].item() == pytest.approx(0.0)
    assert ftc.filter(pl.col("days") == 50)["share_arrived"].item() == pytest.approx(1.0)


def test_time_to_stage_through_churn_kaplan_meier_keeps_its_numbers(sample):
    # time to stage now runs through loyaltylab.churn.KaplanMeier (one survival path); the
    # figures below were computed by the earlier direct lifelines calls (commit e043faf) on
    # the bundled sample, and must not move
    t = F.time_to_stage(sample, origin="prospect", horizon="365d")
    assert t.select("stage", "n", "arrived", "median_days", "median_ci_low",
                    "median_ci_high").rows() == [
        ("first_time_customer", 2937, 1534, 62.0, 53.0, 81.0),
        ("repeat_customer", 2937, 1421, 166.0, 134.0, None),
        ("client", 2937, 1305, None, 275.0, None),
        ("advocate", 2937, 167, None, None, None)]
    shares = [(0.5372505756706139, 0.5189543608180693, 0.5557646146050856),
              (0.5160642557867365, 0.49731154555433776, 0.5350954398754078),
              (0.4875169003624523, 0.46837874405080604, 0.5070160400898589),
              (0.054922187808892575, 0.046483065005747615, 0.06484062509607535)]
    for got, want in zip(t.select("share_within", "share_ci_low", "share_ci_high").rows(),
                         shares):
        assert got == pytest.approx(want, rel=1e-12)
    c = F.time_to_stage_curves(sample, origin="prospect")
    assert c.height == 3481
    assert (c.group_by("stage", maintain_order=True).len()["len"].to_list()
            == [790, 826, 863, 1002])
    at = c.filter((pl.col("stage") == "repeat_customer") & (pl.col("days") == 100.0)).row(0)
    assert at[2:] == pytest.approx((0.4391294065070299, 0.420854481041147,
                                    0.4578490762090991), rel=1e-12)


def test_time_to_stage_origin_must_be_below_the_top(offline):
    with pytest.raises(ValueError, match="origin='advocate' is the top stage"):
        F.time_to_stage(offline, origin="advocate")
    with pytest.raises(ValueError, match="no stage 'buyer'; stages: \\['suspect'"):
        F.time_to_stage(offline, origin="buyer")


def test_transition_dates_must_be_ordered(offline):
    with pytest.raises(ValueError, match="must be before end"):
        F.transition_matrix(offline, start=AS_OF, end=day(10))
    with pytest.raises(ValueError, match="before all data"):
        F.transition_matrix(offline, start="2000-01-01", end=AS_OF)


def test_recovers_monthly_repeat_probability_by_segment(sample):
    # planted: a buyer orders as a Poisson process with the customer's own mean gap, so the
    # chance of a second purchase day within a month is 1 - exp(-30.4375 / gap); averaged
    # over the segment's first-time customers (gaps vary around the segment mean, which is
    # what truth["ladder"]["monthly_repeat_probability"] holds)
    t = F.time_to_stage(sample, origin="first_time_customer", by="segment",
                        horizon="30.4375d").filter(pl.col("stage") == "repeat_customer")
    buyers = (F.assign_stages(sample).filter(pl.col("reached_first_time_customer")
                                             .is_not_null())
              .join(sample.truth["customers"], on=S.CUSTOMER_ID)
              .join(sample.customers.select(S.CUSTOMER_ID, S.SEGMENT), on=S.CUSTOMER_ID))
    expected = buyers.group_by(S.SEGMENT).agg(
        (1 - (-30.4375 / pl.col("mean_order_gap_days")).exp()).mean().alias("expected"))
    both = t.join(expected, on=S.SEGMENT)
    assert both.height == 3
    assert ((both["share_ci_low"] < both["expected"])
            & (both["expected"] < both["share_ci_high"])).all()
    # the segment ranking of the planted rhythm is recovered
    planted = sample.truth["ladder"]["monthly_repeat_probability"]
    order = both.sort("share_within")[S.SEGMENT].to_list()
    assert order[-1] == max(planted, key=planted.get)


def test_orders_without_product_lines(offline):
    d = offline.replace(orders=offline.orders.drop(S.PRODUCT_LINE))
    with pytest.raises(ValueError, match="orders.product_line: .* pass client_lines=None"):
        F.assign_stages(d)
    st = F.assign_stages(d, F.offline_ladder(client_lines=None))
    assert row(st, "c8")["stage"] == "repeat_customer"    # only the lines rule made it client
    assert row(st, "c6")["stage"] == "client"


# ------------------------------------------------------------------ evaluation machinery
def test_slices_of_persons_give_the_same_stages(sample, monkeypatch):
    # large data are evaluated in slices of persons (by 64-bit key modulo k): forcing
    # seven slices on the sample must give exactly the one-pass result, on both ladders
    for ladder in (F.OFFLINE, F.ONLINE):
        whole = F.assign_stages(sample, ladder)
        monkeypatch.setattr(E, "_SLICE_EVENTS", max(1, sample.orders.height // 2))
        sliced = F.assign_stages(sample, ladder)
        monkeypatch.undo()
        assert sliced.equals(whole)
        assert sliced.height > 1000


def test_persons_missing_from_customers_are_still_named():
    # CRMData built by hand can bypass validation: an order of a customer the customers
    # table lacks still puts that person on the ladder under their own id
    data = crm([("c1", T0)], orders=[("c1", day(30), "core"), ("ghost", day(20), "core"),
                                      ("ghost", day(10), "core")])
    st = F.assign_stages(data)
    assert sorted(st[S.CUSTOMER_ID].to_list()) == ["c1", "ghost"]
    assert row(st, "ghost")["stage"] == "repeat_customer"


def _count_evaluations(monkeypatch) -> list:
    evaluations: list = []
    real = E._reached_slice
    monkeypatch.setattr(E, "_reached_slice",
                        lambda *a, **k: (evaluations.append(1), real(*a, **k))[1])
    return evaluations


# every analysis that evaluates the ladder, called on (data, ladder, dates) -> its keywords
_ANALYSES = {
    "assign_stages": {},
    "funnel": {"by": "segment"},
    "compare_groups": {"by": "reward_scheme",
                       "groups": ("every_purchase", "first_time_discount")},
    "skipped_stages": {"by": "acquisition_channel"},
    "stage_jumps": {},
    "time_to_stage": {"by": "segment"},
    "time_to_stage_curves": {},
    "transition_matrix": {"start": "2024-06-30", "end": "2025-06-30"},
    "business_change_effect": {"date": "2024-10-01", "window": "180d"},
    "stage_mix": {"every": "quarter"},
    "attention_by_stage": {},
}


@pytest.mark.parametrize("ladder", ["OFFLINE", "ONLINE"])
def test_a_timeline_is_evaluated_once_and_gives_the_same_results(sample, monkeypatch, ladder):
    # the shared work is an object the user holds: evaluated once by Ladder.evaluate, then
    # every analysis reads it without evaluating again (on the offline ladder also at the
    # earlier dates of a transition matrix or a business change), and every result equals
    # the one the analysis computes from (data, ladder) with one evaluation of its own
    lad = getattr(F, ladder)
    evaluations = _count_evaluations(monkeypatch)
    timeline = lad.evaluate(sample)
    assert len(evaluations) == 1
    for name, kw in _ANALYSES.items():
        fn = getattr(F, name)
        before = len(evaluations)
        shared = fn(timeline, **kw)
        extra = len(evaluations) - before
        # earlier dates on a ladder that reads anonymous sessions are evaluated afresh,
        # since a visitor's sessions count for the customer they later identify as
        earlier = name in ("transition_matrix", "business_change_effect", "attention_by_stage")
        assert extra == (1 if ladder == "ONLINE" and earlier else 0), name
        before = len(evaluations)
        own = fn(sample, lad, **kw)
        assert len(evaluations) - before == 1, name  # (data, ladder): one evaluation
        # float sums in a parallel group_by may differ in the last bit between runs
        assert_frame_equal(shared, own, rel_tol=1e-12, abs_tol=1e-15)


def test_timeline_reached_repr_and_errors(sample):
    timeline = F.OFFLINE.evaluate(sample, as_of="2025-06-30")
    assert timeline.as_of == datetime(2025, 6, 30)
    assert timeline.ladder is F.OFFLINE and timeline.data is sample
    reached = timeline.reached
    assert reached.columns == [S.CUSTOMER_ID, "first_seen_at",
                               *[f"reached_{n}" for n in F.OFFLINE.names]]
    stages = F.assign_stages(sample, as_of="2025-06-30")
    assert reached.drop("first_seen_at").equals(stages.select(reached.columns[:1]
                                                              + reached.columns[2:]))
    assert len(timeline) == stages.height
    counts = timeline.stage_counts()
    assert counts["persons"].to_list() == [
        int((stages["stage"] == n).sum()) for n in F.OFFLINE.names]
    text = repr(timeline)
    assert text.startswith("Timeline of the offline ladder as of 2025-06-30: "
                           f"{stages.height:,} persons")
    assert f"client {counts['persons'][4]:,}" in text
    assert "<table>" in timeline._repr_html_()
    assert set(F.ONLINE.evaluate(sample).reached.columns[:2]) == {S.CUSTOMER_ID, S.VISITOR_ID}
    # a later date than the evaluation, another ladder, a timeline evaluated again
    with pytest.raises(ValueError, match="evaluated as of 2025-06-30, before 2025-12-31; "
                                         "evaluate the ladder at the later date"):
        F.funnel(timeline, as_of="2025-12-31")
    with pytest.raises(ValueError, match="evaluated as of 2025-06-30, before 2026-01-01"):
        F.transition_matrix(timeline, start="2025-01-01", end="2026-01-01")
    with pytest.raises(ValueError, match="the timeline was evaluated on the offline ladder"):
        F.funnel(timeline, F.ONLINE)
    with pytest.raises(TypeError, match="already a Timeline"):
        F.OFFLINE.evaluate(timeline)
    with pytest.raises(ValueError, match="before all data"):
        F.funnel(timeline, as_of="2000-01-01")
    # the same ladder built again is accepted; an earlier date is read off the timeline
    assert F.funnel(timeline, F.offline_ladder()).equals(F.funnel(timeline))
    assert F.funnel(timeline, as_of="2024-12-31").equals(
        F.funnel(sample, as_of="2024-12-31"))
    # transition_matrix's end defaults to the date of the timeline
    assert F.transition_matrix(timeline, start="2024-06-30").equals(
        F.transition_matrix(sample, start="2024-06-30", end="2025-06-30"))


def test_compare_groups_matches_statsmodels(sample):
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    c = F.compare_groups(sample, by="reward_scheme",
                         groups=("every_purchase", "first_time_discount"))
    assert c["stage"].to_list() == F.OFFLINE.names[:-1]
    assert c["next_stage"].to_list() == F.OFFLINE.names[1:]
    f = F.funnel(sample, by="reward_scheme")
    for row in c.iter_rows(named=True):
        a = f.filter((pl.col("reward_scheme") == "every_purchase")
                     & (pl.col("stage") == row["stage"])).row(0, named=True)
        assert (row["reached_a"], row["converted_a"]) == (a["reached"], a["converted"])
        k1, n1, k2, n2 = (row["converted_a"], row["reached_a"], row["converted_b"],
                          row["reached_b"])
        lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb",
                                            compare="diff")
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi), abs=1e-10)
        z, p = proportions_ztest([k1, k2], [n1, n2])
        assert (row["z"], row["p_value"]) == pytest.approx((z, p), rel=1e-9)
        assert row["difference"] == pytest.approx(k1 / n1 - k2 / n2)
    holm = multipletests(c["p_value"].to_numpy(), method="holm")[1]
    assert c["p_holm"].to_list() == pytest.approx(list(holm))


def test_compare_groups_names_unknown_groups(sample):
    with pytest.raises(ValueError, match="'gold' is not a value of 'reward_scheme'; values"):
        F.compare_groups(sample, by="reward_scheme", groups=("gold", "none"))
    with pytest.raises(ValueError, match="groups: expected two values"):
        F.compare_groups(sample, by="reward_scheme", groups=("none",))


def test_the_funnel_package_keeps_no_state(sample):
    # no module-level cache: after the analyses, no module of the package holds the data
    # or has changed any of its globals (the shared work lives in the Timeline the user
    # holds, and goes away with it)
    import gc
    import importlib
    import pkgutil
    import weakref

    modules = [importlib.import_module(f"loyaltylab.funnel.{m.name}")
               for m in pkgutil.iter_modules(F.__path__)] + [F]

    def snapshot():
        return {(m.__name__, k): (id(v), repr(v) if isinstance(v, (list, dict, set)) else "")
                for m in modules for k, v in vars(m).items()}

    before = snapshot()
    copy = sample.replace(orders=sample.orders.clone())
    timeline = F.OFFLINE.evaluate(copy, as_of="2025-06-30")
    F.funnel(timeline)
    F.funnel(copy, as_of="2025-06-30")
    F.transition_matrix(copy, start="2024-06-30", end="2025-06-30")
    assert snapshot() == before
    probe = weakref.ref(copy.orders)
    del copy, timeline
    gc.collect()
    assert probe() is None  # nothing in the funnel package holds the orders


def test_attention_by_stage_counts_contacts_of_each_state_by_hand():
    from scipy import stats

    # window (2024-01-01, 2024-12-31]: a gets two outbound contacts (and one inbound),
    # b's only contact is before the window, c gets none. States at 2024-01-01 come from
    # assign_stages; the contact counts, exposure and intervals are checked here.
    cust = pl.DataFrame({S.CUSTOMER_ID: ["a", "b", "c"],
                         S.ACQUIRED_AT: [datetime(2023, 1, 1)] * 3})
    orders = pl.DataFrame({S.ORDER_ID: ["1", "2", "3"], S.CUSTOMER_ID: ["a", "b", "b"],
                           S.ORDERED_AT: [datetime(2023, 2, 1), datetime(2023, 2, 1),
                                          datetime(2023, 3, 1)], S.AMOUNT: [1.0] * 3,
                           S.PRODUCT_LINE: ["x", "x", "y"]})
    contacts = pl.DataFrame({
        S.CUSTOMER_ID: ["a", "a", "a", "b"],
        S.CONTACTED_AT: [datetime(2024, 2, 1), datetime(2024, 3, 1), datetime(2024, 4, 1),
                         datetime(2023, 12, 1)],
        S.CHANNEL: ["phone"] * 4,
        S.DIRECTION: ["outbound", "outbound", "inbound", "outbound"],
        S.CONTACT_COST: [5.0, 5.0, 1.0, 5.0]})
    referrals = pl.DataFrame({S.REFERRER_ID: ["b"], S.REFERRED_ID: ["c"],
                              S.REFERRED_AT: [datetime(2022, 1, 1)]})  # too old to count
    d = CRMData(customers=cust, orders=orders, contacts=contacts, referrals=referrals,
                as_of=datetime(2024, 12, 31))
    states = F.assign_stages(d, as_of=datetime(2024, 1, 1), lapse_after="730d")
    state_of = {r[S.CUSTOMER_ID]: str(r["stage"]) for r in states.iter_rows(named=True)}
    assert len({state_of["a"], state_of["b"]}) == 2  # a bought once, b twice
    r = F.attention_by_stage(d, window="365d", lapse_after="730d")
    assert r["state"].to_list() == [*F.OFFLINE.names, "lapsed"]
    rows = {row["state"]: row for row in r.iter_rows(named=True)}
    months = 365 / 30.4375
    a = rows[state_of["a"]]
    assert (a["persons"], a["contacts"], a["contacted"]) == (1, 2, 1)
    assert a["value"] == pytest.approx(2 / months)
    assert a["ci_low"] == pytest.approx(stats.chi2.ppf(0.025, 4) / 2 / months)
    assert a["ci_high"] == pytest.approx(stats.chi2.ppf(0.975, 6) / 2 / months)
    assert a["spend_per_person"] == pytest.approx(10.0)
    b = rows[state_of["b"]]
    assert (b["persons"], b["contacts"], b["contacted_share"]) == (1, 0, 0.0)
    assert sum(row["persons"] for row in rows.values()) == 3
    assert rows["lapsed"]["stage_rank"] is None
    every = F.attention_by_stage(d, window="365d", lapse_after="730d", direction=None)
    assert every.filter(pl.col("state") == state_of["a"])["contacts"][0] == 3
