"""loyaltylab.metrics against hand computations on a small hand-made CRMData.

The fixture (as_of 2025-01-01):

customer  segment  channel   acq_cost  acquired    orders (date, line, amount)
c1        A        ads       50        2023-01-01  2023-01-10 core 100, 2023-02-10 acc 50,
                                                   2023-03-15 core 100, 2024-06-01 core 80
c2        A        ads       20        2023-01-01  2023-01-20 core 60, 2023-01-20 core 40
c3        B        web       100       2023-01-01  2023-02-05 svc 90, 2024-02-05 svc 90
c4        B        web       100       2023-01-01  2024-03-01 core 30
c5        B        referral  10        2024-07-01  2024-07-01 premium 200, 2024-08-01 core 20
c6        C        web       30        2024-04-01  (none: a prospect)

Each test writes out the arithmetic behind its expected numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl
import pytest
from statsmodels.stats.proportion import (
    confint_proportions_2indep, proportion_confint, proportions_ztest,
)

import loyaltylab as ll
from loyaltylab import CRMData
from loyaltylab.data import schema as S
from loyaltylab.exceptions import MissingTableError, SchemaError

M = ll.metrics
AS_OF = datetime(2025, 1, 1)


def _dt(*a):
    return datetime(*a)


@pytest.fixture(scope="module")
def data() -> CRMData:
    customers = pl.DataFrame({
        S.CUSTOMER_ID: ["c1", "c2", "c3", "c4", "c5", "c6"],
        S.ACQUIRED_AT: [_dt(2023, 1, 1)] * 4 + [_dt(2024, 7, 1), _dt(2024, 4, 1)],
        S.SEGMENT: ["A", "A", "B", "B", "B", "C"],
        S.ACQUISITION_CHANNEL: ["ads", "ads", "web", "web", "referral", "web"],
        S.ACQUISITION_COST: [50.0, 20.0, 100.0, 100.0, 10.0, 30.0],
    })
    o = [("c1", _dt(2023, 1, 10), "core", 100.0), ("c1", _dt(2023, 2, 10), "acc", 50.0),
         ("c1", _dt(2023, 3, 15), "core", 100.0), ("c1", _dt(2024, 6, 1), "core", 80.0),
         ("c2", _dt(2023, 1, 20, 9), "core", 60.0), ("c2", _dt(2023, 1, 20, 15), "core", 40.0),
         ("c3", _dt(2023, 2, 5), "svc", 90.0), ("c3", _dt(2024, 2, 5), "svc", 90.0),
         ("c4", _dt(2024, 3, 1), "core", 30.0),
         ("c5", _dt(2024, 7, 1), "premium", 200.0), ("c5", _dt(2024, 8, 1), "core", 20.0)]
    orders = pl.DataFrame({
        S.ORDER_ID: [f"o{i}" for i in range(len(o))],
        S.CUSTOMER_ID: [r[0] for r in o], S.ORDERED_AT: [r[1] for r in o],
        S.AMOUNT: [r[3] for r in o], S.PRODUCT_LINE: [r[2] for r in o],
        S.DISCOUNT: [0.0] * len(o),
    })
    c = [("c1", _dt(2024, 3, 1), "email", "outbound"),
         ("c1", _dt(2024, 5, 25), "phone", "inbound"),
         ("c4", _dt(2024, 2, 20), "email", "outbound"),
         ("c5", _dt(2024, 6, 15), "email", "outbound"),
         ("c5", _dt(2024, 12, 20), "email", "outbound"),
         ("c6", _dt(2024, 5, 1), "email", "outbound"),
         ("c2", _dt(2024, 9, 1), "phone", "outbound")]
    contacts = pl.DataFrame({S.CUSTOMER_ID: [r[0] for r in c], S.CONTACTED_AT: [r[1] for r in c],
                             S.CHANNEL: [r[2] for r in c], S.DIRECTION: [r[3] for r in c]})
    referrals = pl.DataFrame({S.REFERRER_ID: ["c1", "c3"], S.REFERRED_ID: ["c5", "c6"],
                              S.REFERRED_AT: [_dt(2024, 6, 20), _dt(2024, 4, 1)]})
    complaints = pl.DataFrame({
        S.CUSTOMER_ID: ["c1", "c3", "c4"],
        S.OPENED_AT: [_dt(2023, 2, 15), _dt(2023, 3, 1), _dt(2024, 3, 5)],
        S.RESOLVED_AT: [_dt(2023, 2, 17), _dt(2023, 4, 10), None],
    }, schema_overrides={S.RESOLVED_AT: pl.Datetime("us")})
    return CRMData(customers=customers, orders=orders, contacts=contacts, referrals=referrals,
                   complaints=complaints, as_of=AS_OF)


def _row(frame: pl.DataFrame, **where) -> dict:
    for k, v in where.items():
        frame = frame.filter(pl.col(k) == v)
    assert frame.height == 1, frame
    return frame.row(0, named=True)


# ------------------------------------------------------------------ buying
def test_repeat_purchase_rate_overall(data):
    # buyers c1..c5; on >= 2 distinct days: c1 (4 days), c3 (2), c5 (2). c2's two orders
    # fall on one day. 3 / 5 = 0.6
    r = M.repeat_purchase_rate(data)
    assert r.select("numerator", "denominator").row(0) == (3, 5)
    assert r["value"][0] == pytest.approx(0.6)
    lo, hi = proportion_confint(3, 5, method="wilson")
    assert (r["ci_low"][0], r["ci_high"][0]) == pytest.approx((lo, hi))
    assert r["as_of"][0] == AS_OF


def test_repeat_purchase_rate_by_segment_has_empty_group(data):
    # A: c1 yes, c2 no -> 1/2; B: c3 yes, c4 no, c5 yes -> 2/3; C: c6 never bought -> 0/0
    r = M.repeat_purchase_rate(data, by=S.SEGMENT)
    assert r[S.SEGMENT].to_list() == ["A", "B", "C"]
    assert r["numerator"].to_list() == [1, 2, 0]
    assert r["denominator"].to_list() == [2, 3, 0]
    assert r["value"].to_list()[:2] == pytest.approx([0.5, 2 / 3])
    assert r["value"][2] is None and r["ci_low"][2] is None
    for k, n, lo, hi in zip(r["numerator"][:2], r["denominator"][:2], r["ci_low"][:2],
                            r["ci_high"][:2]):
        assert (lo, hi) == pytest.approx(proportion_confint(k, n, method="wilson"))


def test_repeat_purchase_rate_as_of_and_frames(data):
    # up to 2024-01-01: c1 (3 days), c2 (1 day), c3 (1 day) -> 1/3
    r = M.repeat_purchase_rate(data.orders, as_of="2024-01-01")
    assert r.select("numerator", "denominator").row(0) == (1, 3)
    # a pandas orders frame gives the same answer; by= a column of the orders frame
    rp = M.repeat_purchase_rate(data.orders.to_pandas(), as_of="2024-01-01")
    assert rp.select("numerator", "denominator").row(0) == (1, 3)
    by_line = M.repeat_purchase_rate(data.orders, by=S.PRODUCT_LINE)
    # core buyers: c1 (3 days), c2 (1), c4 (1), c5 (1) -> 1/4
    assert _row(by_line, product_line="core")["numerator"] == 1
    assert _row(by_line, product_line="core")["denominator"] == 4


def test_repeat_purchase_rate_empty_orders_gives_n0_row(data):
    empty = data.orders.clear()
    r = M.repeat_purchase_rate(empty, as_of=AS_OF)
    assert r.select("numerator", "denominator").row(0) == (0, 0)
    assert r["value"][0] is None


def test_period_means(data):
    # 2023 orders: c1 100+50+100, c2 60+40, c3 90 -> 6 orders, 440, 3 buyers
    # 2024 orders: c1 80, c3 90, c4 30, c5 200+20 -> 5 orders, 420, 4 buyers
    aov = M.average_order_value(data, period="year")
    assert aov["n"].to_list() == [6, 5]
    assert aov["value"].to_list() == pytest.approx([440 / 6, 420 / 5])
    amounts = np.array([100, 50, 100, 60, 40, 90.0])
    se = amounts.std(ddof=1) / np.sqrt(6)
    from scipy import stats
    t = stats.t.ppf(0.975, 5)
    assert aov["ci_low"][0] == pytest.approx(440 / 6 - t * se)
    assert aov["complete"].to_list() == [True, True]
    rpc = M.revenue_per_customer(data, period="year")
    assert rpc["value"].to_list() == pytest.approx([440 / 3, 420 / 4])
    pf = M.purchase_frequency(data, period="year")
    assert pf["value"].to_list() == pytest.approx([6 / 3, 5 / 4])
    # quarterly: 2023Q1 holds c1 x3, c2 x2, c3 x1 -> 6 orders by 3 buyers
    pq = M.purchase_frequency(data, period="quarter")
    assert _row(pq, period_start=_dt(2023, 1, 1))["value"] == pytest.approx(2.0)


def test_inter_purchase_time(data):
    # distinct days: c1 Jan10->Feb10 (31), Feb10->Mar15 (33), 2023-03-15->2024-06-01 (444:
    # 366 to 2024-03-15 across 29 Feb, then 16+30+31); c3 2023-02-05->2024-02-05 (365);
    # c5 Jul1->Aug1 (31). Mean = (31+33+444+365+31)/5 = 180.8, median 33.
    r = M.inter_purchase_time(data)
    assert r["n"][0] == 5 and r["customers"][0] == 3
    assert r["value"][0] == pytest.approx(180.8)
    assert r["median_days"][0] == pytest.approx(33.0)
    seg = M.inter_purchase_time(data, by=S.SEGMENT)
    assert _row(seg, segment="C")["n"] == 0


def test_customer_regularity_and_steady_share(data):
    # c1 gaps 31, 33, 444: mean 169.333, sample sd = sqrt(((31-169.333)^2 + (33-169.333)^2
    # + (444-169.333)^2) / 2) = sqrt((19136.11 + 18586.78 + 75441.78) / 2) = 237.870,
    # cv = 237.870 / 169.333 = 1.4047; c3 and c5 have one gap (no cv), c2 and c4 buy on one day only
    per = M.customer_regularity(data)
    assert per[S.CUSTOMER_ID].to_list() == ["c1", "c2", "c3", "c4", "c5"]
    assert per["gaps"].to_list() == [3, 0, 1, 0, 1]
    c1 = per.row(0, named=True)
    assert c1["mean_gap_days"] == pytest.approx(508 / 3)
    assert c1["std_gap_days"] == pytest.approx(237.870, abs=1e-3)
    assert c1["cv"] == pytest.approx(1.40474, abs=1e-4)
    assert per["cv"].null_count() == 4
    # only c1 has >= 2 gaps and 1.40 > 0.5: 0 of 1 steady; with steady_cv=1.5, 1 of 1
    r = M.purchase_regularity(data)
    assert r.select("numerator", "denominator").row(0) == (0, 1)
    assert r["median_gap_days"][0] == pytest.approx(508 / 3)
    assert M.purchase_regularity(data, steady_cv=1.5)["value"][0] == 1.0
    assert M.purchase_regularity(data, min_gaps=4)["denominator"][0] == 0
    seg = M.purchase_regularity(data, by=S.SEGMENT)
    assert seg[S.SEGMENT].to_list() == ["A", "B", "C"]
    assert seg["denominator"].to_list() == [1, 0, 0]
    with pytest.raises(ValueError, match="min_gaps"):
        M.purchase_regularity(data, min_gaps=1)
    with pytest.raises(ValueError, match="steady_cv"):
        M.purchase_regularity(data, steady_cv=0)


def test_regularity_separates_random_from_rhythmic_buyers():
    # 300 buyers with exponential gaps (purchases at random moments: cv 1 in theory) and
    # 300 buying every 28-32 days (cv about 0.05); gaps are whole days, mean 30
    rng = np.random.default_rng(11)
    start = datetime(2020, 1, 1)
    rows = []
    for i in range(600):
        gaps = (rng.exponential(30, 25) if i < 300 else rng.integers(28, 33, 25)).round()
        days = np.cumsum(np.maximum(gaps, 1))
        rows += [(f"r{i}" if i < 300 else f"s{i}", start + timedelta(days=float(d)))
                 for d in days]
    orders = pl.DataFrame(rows, schema=[S.CUSTOMER_ID, S.ORDERED_AT], orient="row",
                          ).with_columns(pl.lit(1.0).alias(S.AMOUNT))
    per = M.customer_regularity(orders).with_columns(
        pl.col(S.CUSTOMER_ID).str.head(1).alias("kind"))
    med = dict(per.group_by("kind").agg(pl.col("cv").median()).iter_rows())
    assert 0.85 < med["r"] < 1.1 and med["s"] < 0.1
    assert M.purchase_regularity(orders)["value"][0] == pytest.approx(0.5, abs=0.02)


def test_cross_line_share(data):
    # lines: c1 {core, acc}, c2 {core}, c3 {svc}, c4 {core}, c5 {premium, core} -> 2/5
    r = M.cross_line_share(data)
    assert r.select("numerator", "denominator").row(0) == (2, 5)
    assert r["mean_lines"][0] == pytest.approx(7 / 5)


# ------------------------------------------------------------------ retention
def test_cohort_retention_month(data):
    r = M.cohort_retention(data.orders)
    jan = r.filter(pl.col("cohort") == _dt(2023, 1, 1))
    # cohort Jan 2023 = {c1, c2}; c1 returns in Feb (1), Mar (2) and Jun 2024 (17);
    # the last month with any order is Aug 2024, period 19 for this cohort
    assert jan["cohort_size"].unique().to_list() == [2]
    assert jan["period"].to_list() == list(range(20))
    active = dict(zip(jan["period"], jan["active"]))
    assert active[0] == 2 and active[1] == 1 and active[2] == 1 and active[17] == 1
    assert sum(active.values()) == 2 + 3
    assert dict(zip(jan["period"], jan["rate"]))[17] == pytest.approx(0.5)
    # cohort Feb 2023 = {c3}, back in Feb 2024 (period 12)
    feb = r.filter(pl.col("cohort") == _dt(2023, 2, 1))
    assert feb.filter(pl.col("active") > 0)["period"].to_list() == [0, 12]
    assert r.columns == ["cohort", "period", "cohort_size", "active", "rate"]


def test_cohort_retention_quarter_and_week(data):
    r = M.cohort_retention(data, period="quarter")
    q1 = r.filter(pl.col("cohort") == _dt(2023, 1, 1))
    # 2023Q1 = {c1, c2, c3}; c3 back in 2024Q1 (4), c1 in 2024Q2 (5)
    assert q1["cohort_size"][0] == 3
    assert dict(zip(q1["period"], q1["active"])) == {0: 3, 1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 0}
    w = M.cohort_retention(data, period="week")
    # 2023-01-10 is a Tuesday: its ISO week starts Monday 2023-01-09
    assert w["cohort"].min() == _dt(2023, 1, 9)


@pytest.mark.parametrize("route", ["packed key", "exact two-column"])
def test_cohort_retention_matches_brute_force(route, monkeypatch):
    # both routes: the packed 64-bit sort key (default) and the two-column fallback that
    # is taken when the period span is too wide to pack or packed ids collide
    if route == "exact two-column":
        monkeypatch.setattr("loyaltylab.metrics.retention._PACK_MAX_BITS", 0)
    rng = np.random.default_rng(7)
    n = 400
    cust = rng.integers(0, 80, n)
    days = rng.integers(0, 700, n)
    orders = pl.DataFrame({S.CUSTOMER_ID: [f"k{c}" for c in cust],
                           S.ORDERED_AT: [_dt(2023, 1, 1) + timedelta(days=int(d)) for d in days],
                           S.AMOUNT: np.ones(n)})
    got = M.cohort_retention(orders)
    # brute force with plain Python
    months = {}
    for c, d in zip(cust, days):
        t = _dt(2023, 1, 1) + timedelta(days=int(d))
        months.setdefault(c, set()).add(t.year * 12 + t.month - 1)
    last = max(max(s) for s in months.values())
    expected = {}
    for s in months.values():
        c0 = min(s)
        for p in range(last - c0 + 1):
            key = (c0, p)
            expected.setdefault(key, [0, 0])
            expected[key][0] += 1
            expected[key][1] += (c0 + p) in s
    rows = {((r["cohort"].year * 12 + r["cohort"].month - 1), r["period"]):
            [r["cohort_size"], r["active"]] for r in got.iter_rows(named=True)}
    assert rows == expected


def test_defection_rate_orders(data):
    # 2023 buyers: c1, c2, c3; of them c2 bought nothing in 2024 -> 1/3 defected in 2024.
    # 2023 has no previous-year buyers, so no row.
    r = M.defection_rate(data, period="year")
    assert r.height == 1 and r["period_start"][0] == _dt(2024, 1, 1)
    assert r.select("numerator", "denominator").row(0) == (1, 3)
    assert r["retention"][0] == pytest.approx(2 / 3)
    assert r["method"][0] == "orders"
    assert (r["band_low"][0], r["band_high"][0]) == (0.20, 0.40)
    assert r["in_band"][0] is True
    # by segment: A = c1, c2 -> 1/2; B = c3 -> 0/1
    rs = M.defection_rate(data, period="year", by=S.SEGMENT)
    assert _row(rs, segment="A")["numerator"] == 1 and _row(rs, segment="B")["numerator"] == 0


def test_defection_rate_subscriptions():
    subs = pl.DataFrame({S.CUSTOMER_ID: ["a", "b", "c", "d"],
                         S.STARTED_AT: [_dt(2022, 3, 1), _dt(2022, 6, 1), _dt(2023, 2, 1),
                                        _dt(2022, 1, 1)],
                         S.ENDED_AT: [_dt(2023, 5, 1), None, None, _dt(2022, 9, 1)]},
                        schema_overrides={S.ENDED_AT: pl.Datetime("us")})
    cust = pl.DataFrame({S.CUSTOMER_ID: ["a", "b", "c", "d"],
                         S.ACQUIRED_AT: [_dt(2022, 1, 1)] * 4})
    orders = pl.DataFrame({S.ORDER_ID: ["1"], S.CUSTOMER_ID: ["a"],
                           S.ORDERED_AT: [_dt(2022, 3, 1)], S.AMOUNT: [1.0]})
    d = CRMData(customers=cust, orders=orders, subscriptions=subs, as_of=_dt(2024, 1, 1))
    r = M.defection_rate(d, period="year")
    # at the start of 2023 a and b run (d ended 2022, c not started): a ends in 2023 -> 1/2
    assert r["method"].to_list() == ["subscriptions"]
    assert _row(r, period_start=_dt(2023, 1, 1))["numerator"] == 1
    assert _row(r, period_start=_dt(2023, 1, 1))["denominator"] == 2
    # 2022: nobody had started before 2022-01-01 00:00 (d starts exactly then): no row
    assert r.filter(pl.col("period_start") == _dt(2022, 1, 1)).height == 0
    # monthly rates are annualised: 1 - (1 - m)^12
    rm = M.defection_rate(d, period="month")
    may = _row(rm, period_start=_dt(2023, 5, 1))
    assert may["numerator"] == 1
    assert may["annualized"] == pytest.approx(1 - (1 - may["value"]) ** 12)


def test_early_life_churn(data):
    # judged: first order <= as_of - 270d: c1, c2, c3, c4 (c5 too recent)
    # lost = no order from first + 90d on: c2 and c4. ads {c1, c2} -> 1/2, web {c3, c4}
    # -> 1/2, referral {c5 not judged} -> 0/0
    r = M.early_life_churn(data)
    assert r[S.ACQUISITION_CHANNEL].to_list() == ["ads", "referral", "web"]
    assert r["numerator"].to_list() == [1, 0, 1]
    assert r["denominator"].to_list() == [2, 0, 2]
    assert r["value"][1] is None


def test_win_back(data):
    # lapsed: last order <= 2024-07-05: c1 (2024-06-01), c2, c3, c4 -> 4 of 5 buyers
    # revenue in the 365d before the last order (exclusive start): c1 80, c2 100,
    # c3 90 (the 2023-02-05 order is exactly 365d earlier), c4 30 -> 300
    r = M.win_back_potential(data)
    assert r.select("numerator", "denominator").row(0) == (4, 5)
    assert r["lapsed_revenue"][0] == pytest.approx(300.0)
    assert r["revenue_per_lapsed"][0] == pytest.approx(75.0)
    assert r["active_revenue_per_customer"][0] == pytest.approx(220.0)
    cand = M.win_back_candidates(data, top=2)
    assert cand[S.CUSTOMER_ID].to_list() == ["c2", "c3"]


# ------------------------------------------------------------------ contacts
def test_contact_conversion(data):
    # judged contacts (+30d <= as_of); c5's 2024-12-20 e-mail is too recent.
    # email: c1 03-01 (next order 06-01: no), c4 02-20 (03-01: yes), c5 06-15 (07-01: yes),
    #        c6 05-01 (never: no) -> 2/4
    # phone: c1 05-25 (06-01: yes), c2 09-01 (no) -> 1/2
    r = M.contact_conversion(data)
    assert r["channel"].to_list() == ["email", "phone"]
    assert r["numerator"].to_list() == [2, 1]
    assert r["denominator"].to_list() == [4, 2]
    lo, hi = proportion_confint(2, 4, method="wilson")
    assert (r["ci_low"][0], r["ci_high"][0]) == pytest.approx((lo, hi))
    # outbound only, by customer segment: A {c1 email no, c2 phone no} 0/2;
    # B {c4 yes, c5 yes} 2/2; C {c6 no} 0/1
    rs = M.contact_conversion(data, by=S.SEGMENT, direction="outbound")
    assert rs["numerator"].to_list() == [0, 2, 0]
    assert rs["denominator"].to_list() == [2, 2, 1]
    # a 7-day window: all 7 contacts are judged (c5's 12-20 e-mail closes on 12-27) and
    # only c1's phone call (order 7 days later) converts
    r7 = M.contact_conversion(data, window="7d", by=None)
    assert r7.select("numerator", "denominator").row(0) == (1, 7)


def test_outbound_response(data):
    # outbound, judged (+14d <= as_of): c1 email 03-01 (inbound call 05-25 too late: no),
    # c4 email 02-20 (order 03-01, 10 days in leap 2024: yes), c5 email 06-15 (order
    # 07-01 after 16 days: no), c6 email 05-01 (no), c2 phone 09-01 (no)
    r = M.outbound_response(data)
    assert r["channel"].to_list() == ["email", "phone"]
    assert r["numerator"].to_list() == [1, 0]
    assert r["denominator"].to_list() == [4, 1]


def test_channel_mix(data):
    # window (2024-01-02, 2025-01-01]: 5 e-mails and 2 phone contacts
    r = M.channel_mix(data)
    assert r["value"].to_list() == pytest.approx([5 / 7, 2 / 7])
    ro = M.channel_mix(data, direction="outbound")
    assert ro["numerator"].to_list() == [5, 1]


def test_contact_frequency_exposure_and_poisson_interval(data):
    # window 366d -> (2024-01-01, 2025-01-01]. Days on the books: c1-c4 366 each, c5 184
    # (from 2024-07-01), c6 275 (from 2024-04-01) -> 1923 days = 1923/30.4375 months.
    r = M.contact_frequency(data, window="366d")
    months = 1923 / 30.4375
    email = _row(r, channel="email", direction="outbound")
    assert email["contacts"] == 5 and email["customers_contacted"] == 4
    assert email["customer_months"] == pytest.approx(months)
    assert email["value"] == pytest.approx(5 / months)
    # Garwood exact 95 % limits for 5 events: 1.6235 and 11.6683 (standard tables)
    assert email["ci_low"] * months == pytest.approx(1.6235, abs=1e-4)
    assert email["ci_high"] * months == pytest.approx(11.6683, abs=1e-4)
    # every channel x direction seen appears, also for segments without contacts
    rs = M.contact_frequency(data, window="366d", by=S.SEGMENT)
    assert rs.height == 3 * 3
    c_row = _row(rs, segment="C", channel="phone", direction="inbound")
    assert c_row["contacts"] == 0 and c_row["customer_months"] == pytest.approx(275 / 30.4375)


def test_contacts_over_time(data):
    r = M.contacts_over_time(data, period="quarter", by=None)
    # 2024Q1: c4 02-20, c1 03-01 -> 2; base = customers acquired before 2024-04-01 = 4
    q1 = _row(r, period_start=_dt(2024, 1, 1))
    assert q1["contacts"] == 2 and q1["customer_base"] == 4
    assert q1["contacts_per_customer"] == pytest.approx(0.5)
    # 2024Q2: c1 05-25, c6 05-01, c5 06-15 -> 3; base: + c6 (04-01) = 5 (c5 joins 07-01)
    assert _row(r, period_start=_dt(2024, 4, 1))["customer_base"] == 5


# ------------------------------------------------------------------ referrals
def test_referrals(data):
    # buyers c1..c5; referrers c1 and c3 -> 2/5; 2 referrals / 5 buyers
    r = M.referral_rate(data)
    assert r.select("numerator", "denominator").row(0) == (2, 5)
    ra = M.referral_rate(data, base="all")
    assert ra.select("numerator", "denominator").row(0) == (2, 6)
    rpc = M.referrals_per_customer(data)
    assert rpc["value"][0] == pytest.approx(0.4)
    v = M.referred_value(data)
    # referred: c5 220, c6 0 -> 110; others: c1 330, c2 100, c3 180, c4 30 -> 160
    assert v["group"].to_list() == ["referred", "other"]
    assert v["value"].to_list() == pytest.approx([110.0, 160.0])
    assert v["buyers"].to_list() == [1, 4]


# ------------------------------------------------------------------ complaints
def test_complaints(data):
    # 2023: active {c1, c2, c3}, complained {c1, c3} -> 2/3;
    # 2024: active {c1, c3, c4, c5}, complained {c4} -> 1/4
    r = M.complaint_rate(data)
    assert r["numerator"].to_list() == [2, 1]
    assert r["denominator"].to_list() == [3, 4]
    t = M.resolution_time(data)
    # resolved after 2 and 40 days; c4's is open. fast (<= 7d): 1 of 3
    assert t.select("complaints", "resolved", "still_open").row(0) == (3, 2, 1)
    assert t["median_days"][0] == pytest.approx(21.0)
    assert t.select("numerator", "denominator").row(0) == (1, 3)


def test_retention_by_resolution(data):
    # judged: opened <= as_of - 545d -> c1 (2d, band "<= 7d"), c3 (40d, "> 30d or open").
    # c1 buys on 2024-06-01, after 2024-02-15 (opened + 365d): retained. c3's last order,
    # 2024-02-05, is before 2024-02-29: lost.
    r = M.retention_by_resolution(data)
    assert r["band"].to_list() == ["<= 7d", "7-30d", "> 30d or open"]
    assert r["numerator"].to_list() == [1, 0, 0]
    assert r["denominator"].to_list() == [1, 0, 1]
    assert r["value"][1] is None


def test_retention_by_resolution_by_complaint_category(data):
    # the same two judged complaints, with categories: c1 "service" (fast, retained),
    # c3 "product" (slow, lost); c4's later complaint adds a "billing" group that has no
    # judged complaint, and c1's second complaint (product) does not move c1: the first
    # complaint decides. Every category x band cell is listed.
    comp = pl.DataFrame({
        S.CUSTOMER_ID: ["c1", "c3", "c4", "c1"],
        S.OPENED_AT: [_dt(2023, 2, 15), _dt(2023, 3, 1), _dt(2024, 3, 5), _dt(2023, 3, 1)],
        S.RESOLVED_AT: [_dt(2023, 2, 17), _dt(2023, 4, 10), None, _dt(2023, 3, 2)],
        S.CATEGORY: ["service", "product", "billing", "product"],
    }, schema_overrides={S.RESOLVED_AT: pl.Datetime("us")})
    d = CRMData(customers=data.customers, orders=data.orders, complaints=comp, as_of=AS_OF)
    r = M.retention_by_resolution(d, by=S.CATEGORY, bands=(7,))
    cells = {(row[S.CATEGORY], row["band"]): (row["numerator"], row["denominator"])
             for row in r.iter_rows(named=True)}
    assert cells == {("billing", "<= 7d"): (0, 0), ("billing", "> 7d or open"): (0, 0),
                     ("product", "<= 7d"): (0, 0), ("product", "> 7d or open"): (0, 1),
                     ("service", "<= 7d"): (1, 1), ("service", "> 7d or open"): (0, 0)}
    both = M.retention_by_resolution(d, by=[S.SEGMENT, S.CATEGORY], bands=(7,))
    assert both.columns[:2] == [S.SEGMENT, S.CATEGORY]
    assert both.height == 3 * 3 * 2  # segments A, B, C x 3 categories x 2 bands
    assert both["denominator"].sum() == 2


# ------------------------------------------------------------------ profitability
def test_profitability(data):
    # margin 0.5, e-mail costs 1, phone 5:
    # c1 0.5*330 - (1 + 5) - 50 = 109; c2 50 - 5 - 20 = 25; c3 90 - 0 - 100 = -10;
    # c4 15 - 1 - 100 = -86; c5 110 - 2 - 10 = 98; c6 0 - 1 - 30 = -31
    costs = {"email": 1.0, "phone": 5.0}
    p = M.customer_profitability(data, margin=0.5, channel_costs=costs)
    assert p["profit"].to_list() == pytest.approx([109, 25, -10, -86, 98, -31])
    u = M.unprofitable_customers(data, margin=0.5, channel_costs=costs)
    # buyers only: c3, c4 unprofitable of 5; total 109 + 25 - 10 - 86 + 98 = 136
    assert u.select("numerator", "denominator").row(0) == (2, 5)
    assert u["total_profit"][0] == pytest.approx(136.0)
    assert u["loss_from_unprofitable"][0] == pytest.approx(-96.0)
    w = M.whale_curve(p)
    assert w["cumulative_profit"].to_list() == pytest.approx([109, 207, 232, 222, 136])
    assert w["cumulative_share"].max() == pytest.approx(232 / 136)
    # without costs for contacts, cost to serve is 0
    p0 = M.customer_profitability(data)
    assert p0["cost_to_serve"].sum() == 0.0


def test_a_customer_who_exactly_breaks_even_is_unprofitable_on_every_processor():
    # margin 0.4 of one order of 104.40 is 41.76, minus 7.00 to serve and 34.76 to acquire:
    # exactly 0. In binary floating point the same sum is 7.1e-15 (or -7.1e-15 when the
    # amounts are added in another order, as one CI processor did), so the customer was
    # profitable on one machine and not on another.
    assert 0.4 * 104.4 - 7.0 - 34.76 != 0.0
    day = datetime(2024, 1, 2)
    d = CRMData(customers=pl.DataFrame({"customer_id": ["a"], "acquired_at": [day],
                                        "acquisition_cost": [34.76]}),
                orders=pl.DataFrame({"order_id": ["1"], "customer_id": ["a"],
                                     "ordered_at": [day], "amount": [104.4]}),
                contacts=pl.DataFrame({"customer_id": ["a"], "contacted_at": [day],
                                       "channel": ["phone"], "cost": [7.0]}),
                as_of=datetime(2024, 6, 1))
    p = M.customer_profitability(d, margin=0.4)
    assert p["profit"][0] == 0.0 and p["profitable"][0] is False
    assert M.unprofitable_customers(d, margin=0.4)["numerator"][0] == 1


def test_acquisition_payback(data):
    # margin 0.5. ads: c1 pays 50 back with its first order (50), c2 20 with 30 -> 2/2.
    # web: c3 45 + 45 = 90 < 100 never; c4 not judged (first order < 365d before as_of).
    # referral: c5 not judged.
    r = M.acquisition_payback(data, margin=0.5)
    assert r[S.ACQUISITION_CHANNEL].to_list() == ["ads", "referral", "web"]
    assert r["numerator"].to_list() == [2, 0, 0]
    assert r["denominator"].to_list() == [2, 0, 1]
    assert r["median_payback_days"][0] == pytest.approx(0.0)


# ------------------------------------------------------------------ loyalty index
def test_loyalty_index(data):
    li = M.loyalty_index(data, change_date="2023-06-01", stay_horizon="180d",
                         active_within="90d")
    c1 = _row(li, customer_id="c1")
    # rhythm: 1 month with an order (2024-06) in the last 12 -> 1/12
    assert c1["repeat_rhythm"] == pytest.approx(1 / 12)
    # lines: 2 of the 4 in the data -> (2 - 1) / (4 - 1)
    assert c1["cross_line"] == pytest.approx(1 / 3)
    assert c1["referral"] == 1.0
    # active at 2023-06-01 (order in the 90d before: 2023-03-15): bought after 2023-11-28
    assert c1["resisted_change"] == 1.0
    # complaint 2023-02-15, bought before it, buys after 2023-08-14: stayed
    assert c1["stayed_after_complaint"] == 1.0
    assert c1["behaviours_measured"] == 5
    assert c1["index"] == pytest.approx((1 / 12 + 1 / 3 + 1 + 1 + 1) / 5)
    c3 = _row(li, customer_id="c3")
    # not active at the change (last order 2023-02-05 is 116 days before) -> null;
    # complained 2023-03-01, still bought 2024-02-05 >= 2023-08-28 -> stayed
    assert c3["resisted_change"] is None and c3["stayed_after_complaint"] == 1.0
    assert li.height == 5  # buyers only


def test_loyalty_profitability_has_every_band(data):
    r = M.loyalty_profitability(data, bands=4, margin=0.5)
    assert r["band"].to_list() == ["0-0.25", "0.25-0.5", "0.5-0.75", "0.75-1"]
    assert int(r["n"].sum()) == 5
    li = M.loyalty_index(data)
    profit = M.customer_profitability(data, margin=0.5)
    joined = li.join(profit, on=S.CUSTOMER_ID)
    from scipy import stats
    rho = stats.spearmanr(joined["index"], joined["profit"]).statistic
    assert r["spearman_rho"][0] == pytest.approx(rho)
    empty = r.filter(pl.col("n") == 0)
    assert empty["value"].is_null().all()


# ------------------------------------------------------------------ scorecard
def test_scorecard(data):
    sc = M.scorecard(data, period="year")
    rows = {r["metric"]: r for r in sc.iter_rows(named=True)}
    assert rows["Active buyers"]["previous"] == 3 and rows["Active buyers"]["current"] == 4
    assert rows["Revenue"]["previous"] == pytest.approx(440)
    assert rows["Revenue"]["change"] == pytest.approx(-20)
    assert rows["New buyers"]["previous"] == 3 and rows["New buyers"]["current"] == 2
    assert rows["Average order value"]["current"] == pytest.approx(84.0)
    # repeat-purchase rate at the end of 2023 = 1/3, of 2024 = 3/5
    rp = rows["Repeat-purchase rate"]
    assert (rp["previous"], rp["current"]) == pytest.approx((1 / 3, 3 / 5))
    lo, hi = confint_proportions_2indep(3, 5, 1, 3, method="newcomb", compare="diff")
    assert (rp["change_ci_low"], rp["change_ci_high"]) == pytest.approx((lo, hi))
    _, p = proportions_ztest([3, 1], [5, 3])
    assert rp["p_value"] == pytest.approx(p)
    # defection: no previous-year buyers before 2023 -> previous is null
    assert rows["Defection rate"]["previous"] is None
    assert rows["Defection rate"]["current"] == pytest.approx(1 / 3)
    assert {"Contacts per customer-month", "Referral rate", "Complaint rate"} <= set(rows)
    assert sc["current_period"][0] == _dt(2024, 1, 1)


def test_scorecard_survey_rows_by_hand(data):
    # 2023 (previous): c1 answers nps 2 then 9 (only the last counts), c2 10, c3 3 ->
    # promoters c1, c2, detractor c3: NPS = (2 - 1) / 3 * 100 = 33.3. 2024 (current):
    # c1 10, c3 8 -> (1 - 0) / 2 * 100 = 50. CSAT (4-5 of 5): 2023 c1 5, c2 2 -> 1/2;
    # 2024 c1 4, c2 5, c3 1 -> 2/3. An answer dated 2025 is outside both periods.
    a = [("c1", "nps", _dt(2023, 3, 1), 2), ("c1", "nps", _dt(2023, 9, 1), 9),
         ("c2", "nps", _dt(2023, 5, 1), 10), ("c3", "nps", _dt(2023, 6, 1), 3),
         ("c1", "nps", _dt(2024, 3, 1), 10), ("c3", "nps", _dt(2024, 6, 1), 8),
         ("c4", "nps", _dt(2025, 1, 1), 0),
         ("c1", "csat", _dt(2023, 3, 1), 5), ("c2", "csat", _dt(2023, 5, 1), 2),
         ("c1", "csat", _dt(2024, 3, 1), 4), ("c2", "csat", _dt(2024, 3, 1), 5),
         ("c3", "csat", _dt(2024, 6, 1), 1)]
    surveys = pl.DataFrame({S.CUSTOMER_ID: [r[0] for r in a], S.SURVEY: ["s"] * len(a),
                            S.ITEM: [r[1] for r in a], S.ANSWERED_AT: [r[2] for r in a],
                            S.SCORE: [float(r[3]) for r in a]})
    d = data.replace(surveys=surveys)
    rows = {r["metric"]: r for r in M.scorecard(d, period="year").iter_rows(named=True)}
    n = rows["Net Promoter Score"]
    assert n["unit"] == "points"
    assert (n["previous"], n["current"]) == pytest.approx((100 / 3, 50.0))
    assert (n["n_previous"], n["n_current"]) == (3, 2)
    # the change interval combines the two standard errors of survey.nps
    se0 = ll.survey.nps(pl.DataFrame({S.ITEM: ["nps"] * 3, S.SCORE: [9.0, 10.0, 3.0]}))
    se1 = ll.survey.nps(pl.DataFrame({S.ITEM: ["nps"] * 2, S.SCORE: [10.0, 8.0]}))
    half = 1.959964 * np.hypot(se0["se"][0], se1["se"][0])
    assert (n["change_ci_low"], n["change_ci_high"]) == pytest.approx(
        (50 - 100 / 3 - half, 50 - 100 / 3 + half), rel=1e-5)
    c = rows["Satisfied customers (CSAT)"]
    assert (c["previous"], c["current"]) == pytest.approx((1 / 2, 2 / 3))
    lo, hi = confint_proportions_2indep(2, 3, 1, 2, method="newcomb", compare="diff")
    assert (c["change_ci_low"], c["change_ci_high"]) == pytest.approx((lo, hi))
    assert "Net Promoter Score" not in M.scorecard(data)["metric"].to_list()


def test_scorecard_leaves_out_rows_for_missing_tables(data):
    d = CRMData(customers=data.customers, orders=data.orders.drop(S.PRODUCT_LINE),
                as_of=AS_OF)
    sc = M.scorecard(d)
    assert "Contacts per customer-month" not in sc["metric"].to_list()
    assert "Cross-line buyers" not in sc["metric"].to_list()


# ------------------------------------------------------------------ effects (hand-made)
def test_manager_departure_hand_made():
    # M1 leaves on 2023-06-01. Clients active then (order in the 90d before): a, b (M1),
    # c, d (M2, stays). e (M2) last bought 2023-01-01: not active. Horizon 90d -> lost =
    # no order from 2023-08-30 on: a lost, b kept; c kept, d lost, so 1/2 vs 1/2.
    cust = pl.DataFrame({S.CUSTOMER_ID: list("abcde"), S.ACQUIRED_AT: [_dt(2023, 1, 1)] * 5})
    od = [("a", _dt(2023, 5, 1)), ("b", _dt(2023, 5, 2)), ("b", _dt(2023, 10, 1)),
          ("c", _dt(2023, 4, 1)), ("c", _dt(2023, 12, 1)), ("d", _dt(2023, 5, 20)),
          ("e", _dt(2023, 1, 1))]
    orders = pl.DataFrame({S.ORDER_ID: [str(i) for i in range(len(od))],
                           S.CUSTOMER_ID: [r[0] for r in od], S.ORDERED_AT: [r[1] for r in od],
                           S.AMOUNT: [1.0] * len(od)})
    asg = pl.DataFrame({S.CUSTOMER_ID: list("abcde"),
                        S.ACCOUNT_MANAGER: ["M1", "M1", "M2", "M2", "M2"],
                        S.ASSIGNED_FROM: [_dt(2023, 1, 1)] * 5,
                        S.ASSIGNED_TO: [_dt(2023, 6, 1), _dt(2023, 6, 1), None, None, None],
                        S.END_REASON: [S.MANAGER_LEFT, S.MANAGER_LEFT, None, None, None]},
                       schema_overrides={S.ASSIGNED_TO: pl.Datetime("us")})
    d = CRMData(customers=cust, orders=orders, assignments=asg, as_of=_dt(2024, 6, 1))
    r = M.manager_departure_churn(d, horizon="90d", inactive_after="90d")
    assert r["numerator"].to_list() == [1, 1]
    assert r["denominator"].to_list() == [2, 2]
    assert r["risk_ratio"][0] == pytest.approx(1.0)
    assert r["hazard_ratio"][0] == pytest.approx(1.0)
    assert r["departures"][0] == 1


def test_reward_comparison_test_matches_statsmodels():
    rng = np.random.default_rng(11)
    n = 300
    scheme = np.where(np.arange(n) % 2 == 0, "every_purchase", "first_time_discount")
    stays = rng.random(n) < np.where(scheme == "every_purchase", 0.7, 0.55)
    cust = pl.DataFrame({S.CUSTOMER_ID: [f"k{i}" for i in range(n)],
                         S.ACQUIRED_AT: [_dt(2022, 1, 1)] * n, S.REWARD_SCHEME: scheme})
    ids = [f"k{i}" for i in range(n)] + [f"k{i}" for i in range(n) if stays[i]]
    when = [_dt(2022, 1, 1)] * n + [_dt(2023, 3, 1)] * int(stays.sum())
    orders = pl.DataFrame({S.ORDER_ID: [str(i) for i in range(len(ids))], S.CUSTOMER_ID: ids,
                           S.ORDERED_AT: when, S.AMOUNT: [10.0] * len(ids)})
    d = CRMData(customers=cust, orders=orders, as_of=_dt(2024, 1, 1))
    r = M.reward_scheme_comparison(d)
    ep = _row(r, reward_scheme="every_purchase")
    ft = _row(r, reward_scheme="first_time_discount")
    k1, k2 = int(stays[scheme == "every_purchase"].sum()), int(stays[scheme != "every_purchase"]
                                                               .sum())
    assert (ep["numerator"], ft["numerator"]) == (k1, k2)
    _, p = proportions_ztest([k1, k2], [150, 150])
    assert ep["p_value"] == pytest.approx(p)
    assert ft["p_value"] is None and ft["difference"] == 0.0
    # revenue in the first 365 days: the first order only (the return is later) -> 10
    assert ep["revenue"] == pytest.approx(10.0)


def test_email_dose_response_hand_made():
    # three buyers, first order 2023-01-01, landmark 2023-07-01 (lookback 181d); all
    # ordered in the 90d before it. e-mails in the first 181d: a 0, b 12 (2/month), c 60
    # (about 10/month). a and b buy after 2023-12-28 (landmark + 180d); c does not.
    cust = pl.DataFrame({S.CUSTOMER_ID: list("abc"), S.ACQUIRED_AT: [_dt(2023, 1, 1)] * 3})
    od = [(k, _dt(2023, 1, 1)) for k in "abc"] + [(k, _dt(2023, 6, 1)) for k in "abc"] + [
        ("a", _dt(2024, 1, 5)), ("b", _dt(2024, 1, 5))]
    orders = pl.DataFrame({S.ORDER_ID: [str(i) for i in range(len(od))],
                           S.CUSTOMER_ID: [r[0] for r in od], S.ORDERED_AT: [r[1] for r in od],
                           S.AMOUNT: [1.0] * len(od)})
    em = [("b", _dt(2023, 1, 2) + timedelta(days=14 * i)) for i in range(12)] + [
        ("c", _dt(2023, 1, 2) + timedelta(days=3 * i)) for i in range(60)]
    contacts = pl.DataFrame({S.CUSTOMER_ID: [r[0] for r in em],
                             S.CONTACTED_AT: [r[1] for r in em],
                             S.CHANNEL: ["email"] * len(em),
                             S.DIRECTION: ["outbound"] * len(em)})
    d = CRMData(customers=cust, orders=orders, contacts=contacts, as_of=_dt(2024, 7, 1))
    r = M.email_dose_response(d, lookback="181d", horizon="180d", inactive_after="180d")
    assert r["band"].to_list() == ["0-2", "2-4", "4-6", "6-8", "8+"]
    assert r["denominator"].to_list() == [1, 1, 0, 0, 1]
    assert r["numerator"].to_list() == [0, 0, 0, 0, 1]
    assert _row(r, band="2-4")["mean_emails"] == pytest.approx(12 / (181 / 30.4375))


# ------------------------------------------------------------------ bad input
def test_missing_tables_raise(data):
    bare = CRMData(customers=data.customers, orders=data.orders, as_of=AS_OF)
    with pytest.raises(MissingTableError, match="'contacts' table"):
        M.contact_conversion(bare)
    with pytest.raises(MissingTableError, match="'contacts' table"):
        M.contact_frequency(bare)
    with pytest.raises(MissingTableError, match="'referrals' table"):
        M.referral_rate(bare)
    with pytest.raises(MissingTableError, match="'complaints' table"):
        M.resolution_time(bare)
    with pytest.raises(MissingTableError, match="'assignments' table"):
        M.manager_departure_churn(bare)
    with pytest.raises(MissingTableError, match="'subscriptions' table"):
        M.defection_rate(bare, method="subscriptions")


def test_missing_columns_raise(data):
    d = data.replace(orders=data.orders.drop(S.PRODUCT_LINE))
    with pytest.raises(SchemaError, match=r"orders\.product_line"):
        M.cross_line_share(d)
    with pytest.raises(SchemaError, match=r"customers\.reward_scheme"):
        M.reward_scheme_comparison(data)
    with pytest.raises(SchemaError, match="orders has no 'ordered_at'"):
        M.repeat_purchase_rate(pl.DataFrame({S.CUSTOMER_ID: ["a"]}))


def test_bad_options_raise(data):
    with pytest.raises(TypeError, match="expected a CRMData"):
        M.contact_conversion(data.orders)
    with pytest.raises(TypeError, match="expected a polars or pandas DataFrame"):
        M.repeat_purchase_rate([1, 2])
    with pytest.raises(ValueError, match="period: expected"):
        M.cohort_retention(data.orders, period="fortnight")
    with pytest.raises(ValueError, match="period: expected 'month', 'quarter' or 'year'"):
        M.defection_rate(data, period="week")
    with pytest.raises(ValueError, match="method: expected"):
        M.defection_rate(data, method="magic")
    with pytest.raises(ValueError, match="by=\\['colour'\\]: not a customer attribute"):
        M.repeat_purchase_rate(data, by="colour")
    with pytest.raises(ValueError, match="window: cannot read"):
        M.contact_conversion(data, window="soon")
    with pytest.raises(ValueError, match="direction: expected"):
        M.channel_mix(data, direction="sideways")
    with pytest.raises(ValueError, match="margin: expected"):
        M.customer_profitability(data, margin=1.5)
    with pytest.raises(ValueError, match="channel_costs: costs must be non-negative"):
        M.customer_profitability(data, channel_costs={"email": -1})
    with pytest.raises(ValueError, match="bands: expected increasing"):
        M.retention_by_resolution(data, bands=(7, 2))
    with pytest.raises(ValueError, match="min_lines: expected"):
        M.cross_line_share(data, min_lines=1)
    with pytest.raises(ValueError, match="days: expected a positive integer"):
        M.early_life_churn(data, days=0)
    with pytest.raises(ValueError, match="bands: expected an integer"):
        M.loyalty_profitability(data, bands=1)
    d = data.replace(customers=data.customers.with_columns(
        pl.lit("none").alias(S.REWARD_SCHEME)))
    with pytest.raises(ValueError, match="reference: no customer has reward_scheme"):
        M.reward_scheme_comparison(d)
    with pytest.raises(ValueError, match="as_of: cannot read"):
        M.repeat_purchase_rate(data, as_of="yesterday")


def test_inputs_are_not_changed(data):
    before = data.orders.clone()
    M.cohort_retention(data.orders)
    M.scorecard(data)
    assert data.orders.equals(before)


def test_cohort_retention_of_no_orders_is_empty_not_an_error(data):
    r = M.cohort_retention(data.orders.head(0))
    assert r.height == 0
    assert r.columns == ["cohort", "period", "cohort_size", "active", "rate"]


def test_pandas_orders_for_cohorts(data):
    pdf = data.orders.to_pandas()
    assert isinstance(pdf, pd.DataFrame)
    assert M.cohort_retention(pdf).equals(M.cohort_retention(data.orders))


# ------------------------------------------------------------------ published reference
def test_repeat_buyers_in_cdnow_sample_match_fader_hardie():
    # REFERENCES.md: of the 2,357 customers of the CDNOW 1/10th sample, 946 made at least
    # one repeat purchase in the 39-week calibration period (Fader & Hardie 2013, the
    # Gamma-Gamma data set; lifetimes' summary counts repeat purchase days).
    cdnow = ll.datasets.load_cdnow(sample=True)
    r = M.repeat_purchase_rate(cdnow, as_of="1997-09-30")
    assert r.select("numerator", "denominator").row(0) == (946, 2357)


def test_hashed_ids_give_the_same_aggregates(data):
    # the scorecard swaps ids for 64-bit hashes for speed; aggregates must not change
    from loyaltylab.metrics._base import hashed_ids
    h = hashed_ids(data)
    assert h.orders.schema[S.CUSTOMER_ID] == pl.UInt64
    assert h.referrals.schema[S.REFERRER_ID] == pl.UInt64
    for fn in (M.repeat_purchase_rate, M.contact_conversion, M.referral_rate,
               M.retention_by_resolution, M.cross_line_share):
        assert fn(h).equals(fn(data)), fn.__name__
    assert data.orders.schema[S.CUSTOMER_ID] == pl.String  # the input is unchanged


def test_contact_frequency_and_conversion_by_period(data):
    # 2024 as a calendar year: 6 contacts of the 7 (c5's 12-20 e-mail too), exposure
    # c1-c4 366 days, c6 275, c5 184 -> the same 1923 days as the 366d window
    r = M.contact_frequency(data, period="year")
    y24 = r.filter(pl.col("window_start") == _dt(2024, 1, 1))
    assert int(y24["contacts"].sum()) == 7
    assert y24["customer_months"][0] == pytest.approx(1923 / 30.4375)
    # 2023: four customers on the books all year, no contacts
    y23 = r.filter(pl.col("window_start") == _dt(2023, 1, 1))
    assert y23.height == 0 or int(y23["contacts"].sum()) == 0
    c = M.contact_conversion(data, by=None, period="quarter")
    # 2024Q1: c4 02-20 (yes), c1 03-01 (no) -> 1/2
    q1 = _row(c, period_start=_dt(2024, 1, 1))
    assert (q1["numerator"], q1["denominator"]) == (1, 2)


def test_biggest_vs_most_profitable_by_hand():
    # margin 0.5; profit = 0.5 revenue - contacts - acquisition:
    # a 250 - 0 - 300 = -50, b 200 - 50 - 0 = 150, c 50, d 25, e 50 - 10 = 40; f bought
    # nothing and is left out. Total profit of buyers: 215.
    cust = pl.DataFrame({S.CUSTOMER_ID: list("abcdef"), S.ACQUIRED_AT: [_dt(2024, 1, 1)] * 6,
                         S.ACQUISITION_COST: [300.0, 0, 0, 0, 10, 0]})
    orders = pl.DataFrame({S.ORDER_ID: list("12345"), S.CUSTOMER_ID: list("abcde"),
                           S.ORDERED_AT: [_dt(2024, 2, 1)] * 5,
                           S.AMOUNT: [500.0, 400, 100, 50, 100]})
    contacts = pl.DataFrame({S.CUSTOMER_ID: ["b"], S.CONTACTED_AT: [_dt(2024, 1, 5)],
                             S.CHANNEL: ["phone"]})
    d = CRMData(customers=cust, orders=orders, contacts=contacts, as_of=_dt(2024, 6, 1))
    kw = {"margin": 0.5, "channel_costs": {"phone": 50.0}}
    # top 40 % of 5 buyers = 2: by revenue {a, b}, by profit {b, c}, both {b}
    r = {row["group"]: row for row in M.biggest_vs_most_profitable(d, top=0.4, **kw)
         .iter_rows(named=True)}
    rev, prof, both = r["top by revenue"], r["top by profit"], r["in both"]
    assert (rev["customers"], rev["revenue"], rev["cost_to_serve"], rev["acquisition_cost"],
            rev["profit"], rev["unprofitable"]) == (2, 900.0, 50.0, 300.0, 100.0, 1)
    assert rev["share_of_profit"] == pytest.approx(100 / 215)
    assert (prof["customers"], prof["revenue"], prof["profit"], prof["unprofitable"]) == (
        2, 500.0, 200.0, 0)
    assert (both["customers"], both["share_of_top"], both["profit"]) == (1, 0.5, 150.0)
    # 50 % of 5 = 2.5, rounded up to 3; c and e tie on revenue (100): c wins on its id
    r3 = M.biggest_vs_most_profitable(d, top=0.5, **kw)
    assert r3["customers"].to_list() == [3, 3, 2]  # profit top 3 = {b, c, e}; both {b, c}
    assert r3["revenue"][0] == 1000.0
    with pytest.raises(ValueError, match="top"):
        M.biggest_vs_most_profitable(d, top=1.0)


def test_cost_to_keep_vs_win_by_hand(data):
    # e-mail 1, phone 5. 2023: c1-c4 acquired (50 + 20 + 100 + 100 = 270), all four have
    # bought by as_of -> 67.5 to win one; nobody bought in 2022, so nobody was kept.
    # 2024: c5, c6 acquired (10 + 30 = 40), only c5 bought -> 40 to win one. Kept: 2023
    # buyers c1, c2, c3 buying again in 2024 -> c1, c3. Retention spend: contacts in 2024
    # with customers whose first order was before 2024: c1 e-mail 1 + phone 5, c2 phone 5
    # = 11 (c4 first bought in 2024, c6 never) -> 5.5 per kept customer; ratio 40/5.5.
    r = M.cost_to_keep_vs_win(data, channel_costs={"email": 1.0, "phone": 5.0})
    assert r["period_start"].to_list() == [_dt(2023, 1, 1), _dt(2024, 1, 1)]
    assert r["acquisition_spend"].to_list() == [270.0, 40.0]
    assert r["customers_won"].to_list() == [4, 1]
    assert r["cost_to_win"].to_list() == [67.5, 40.0]
    assert r["retention_spend"].to_list() == [0.0, 11.0]
    assert r["customers_kept"].to_list() == [0, 2]
    assert r["cost_to_keep"].to_list() == [None, 5.5]
    assert r["ratio"][1] == pytest.approx(40 / 5.5) and r["ratio"][0] is None
    assert r["complete"].to_list() == [True, True]
    with pytest.raises(SchemaError, match="channel_costs"):
        M.cost_to_keep_vs_win(data)  # the fixture's contacts carry no cost
    no_cost = CRMData(customers=data.customers.drop(S.ACQUISITION_COST), orders=data.orders,
                      contacts=data.contacts, as_of=AS_OF)
    with pytest.raises(SchemaError, match="acquisition_cost"):
        M.cost_to_keep_vs_win(no_cost, channel_costs={"email": 1.0})


def test_follow_up_rate_by_hand():
    # purchase days (window 7d, closed by 2024-12-31): a 01-01 (first order 10:00; the
    # phone call at 01-08 10:00 is exactly 7d later: counted), a 02-01 12:00 (the e-mail at
    # the same instant is not after it, the inbound call is not outbound: missed), b 01-10
    # 09:00 (e-mail 01-12 00:00, 1.625 days later); c 12-28 is still inside its window.
    cust = pl.DataFrame({S.CUSTOMER_ID: ["a", "b", "c"], S.ACQUIRED_AT: [_dt(2024, 1, 1)] * 3,
                         S.SEGMENT: ["X", "X", "Y"]})
    orders = pl.DataFrame({
        S.ORDER_ID: list("12345"), S.CUSTOMER_ID: ["a", "a", "a", "b", "c"],
        S.ORDERED_AT: [_dt(2024, 1, 1, 10), _dt(2024, 1, 1, 15), _dt(2024, 2, 1, 12),
                       _dt(2024, 1, 10, 9), _dt(2024, 12, 28)],
        S.AMOUNT: [1.0] * 5})
    contacts = pl.DataFrame({
        S.CUSTOMER_ID: ["a", "a", "a", "b", "b"],
        S.CONTACTED_AT: [_dt(2024, 1, 8, 10), _dt(2024, 2, 1, 12), _dt(2024, 2, 3),
                         _dt(2024, 1, 12), _dt(2024, 8, 1)],
        S.CHANNEL: ["phone", "email", "phone", "email", "phone"],
        S.DIRECTION: ["outbound", "outbound", "inbound", "outbound", "outbound"],
        S.CAMPAIGN: ["after_sale", "news", None, "news", "win_back"]})
    d = CRMData(customers=cust, orders=orders, contacts=contacts, as_of=_dt(2024, 12, 31))
    r = M.follow_up_rate(d)
    assert r.select("numerator", "denominator").row(0) == (2, 3)
    assert r["median_days"][0] == pytest.approx((7 + 1.625) / 2)
    assert r["window_days"][0] == 7
    assert M.follow_up_rate(d, channels="phone")["numerator"][0] == 1
    assert M.follow_up_rate(d, campaign=["after_sale"])["numerator"][0] == 1
    assert M.follow_up_rate(d, within="1d")["numerator"][0] == 0
    first = M.follow_up_rate(d, after="first_purchase")
    assert first.select("numerator", "denominator").row(0) == (2, 2)
    # lapses (180d silent, 90d window): a from 2024-07-31, b from 2024-07-08 09:00 (the phone
    # call on 08-01 follows it up); c bought on 12-28 and is not lapsed
    lapse = M.follow_up_rate(d, after="lapse")
    assert lapse.select("numerator", "denominator").row(0) == (1, 2)
    assert lapse["median_days"][0] == pytest.approx(23.625)  # 07-08 09:00 to 08-01 00:00
    seg = M.follow_up_rate(d, by=S.SEGMENT)
    assert seg.select(S.SEGMENT, "numerator", "denominator").rows() == [("X", 2, 3),
                                                                       ("Y", 0, 0)]
    with pytest.raises(ValueError, match="after"):
        M.follow_up_rate(d, after="complaint")


def test_channel_responsiveness_by_hand():
    # a: 10 phone calls all answered by an order two days later, 10 e-mails never ->
    # phone best, and clearly (Wilson 10/10 low 0.722 > 0/10 high 0.278). b: 2 calls (below
    # min_contacts) and 3 e-mails, one answered -> e-mail best, not "clearly" (nothing to
    # compare). c: one answer in three on each channel -> tie, broken by the name: email.
    t0 = _dt(2023, 1, 1)
    rows, orders = [], []

    def plan(cust, channel, n, answered, offset):
        for i in range(n):
            t = t0 + timedelta(days=20 * i + offset)
            rows.append((cust, t, channel))
            if i < answered:
                orders.append((cust, t + timedelta(days=2)))

    plan("a", "phone", 10, 10, 0)
    plan("a", "email", 10, 0, 10)
    plan("b", "phone", 2, 0, 0)
    plan("b", "email", 3, 1, 10)
    plan("c", "phone", 3, 1, 0)
    plan("c", "email", 3, 1, 10)
    cust = pl.DataFrame({S.CUSTOMER_ID: ["a", "b", "c"], S.ACQUIRED_AT: [_dt(2022, 1, 1)] * 3})
    od = pl.DataFrame({S.ORDER_ID: [str(i) for i in range(len(orders))],
                       S.CUSTOMER_ID: [o[0] for o in orders],
                       S.ORDERED_AT: [o[1] for o in orders], S.AMOUNT: [1.0] * len(orders)})
    ct = pl.DataFrame({S.CUSTOMER_ID: [r[0] for r in rows], S.CONTACTED_AT: [r[1] for r in rows],
                       S.CHANNEL: [r[2] for r in rows], S.DIRECTION: ["outbound"] * len(rows)})
    d = CRMData(customers=cust, orders=od, contacts=ct, as_of=_dt(2024, 6, 1))
    # a 7-day window: an order answering a call (day 2 after it) is 12 days after the
    # e-mail before it, so it does not answer that e-mail
    r = M.channel_responsiveness(d, window="7d", lookback="730d", min_contacts=3)
    got = {(x[S.CUSTOMER_ID], x[S.CHANNEL]): (x["numerator"], x["denominator"], x["best"],
                                              x["clearly_best"]) for x in r.iter_rows(named=True)}
    assert got == {("a", "email"): (0, 10, False, False), ("a", "phone"): (10, 10, True, True),
                   ("b", "email"): (1, 3, True, False), ("b", "phone"): (0, 2, False, False),
                   ("c", "email"): (1, 3, True, False), ("c", "phone"): (1, 3, False, False)}
    a_phone = r.filter(pl.col(S.CUSTOMER_ID) == "a", pl.col(S.CHANNEL) == "phone")
    lo, _ = proportion_confint(10, 10, method="wilson")
    assert a_phone["ci_low"][0] == pytest.approx(lo)
    with pytest.raises(ValueError, match="min_contacts"):
        M.channel_responsiveness(d, min_contacts=0)


def test_departure_reasons_by_hand():
    from statsmodels.stats.contingency_tables import Table2x2

    # judging date 2025-01-01 - 180d = 2024-07-05; active = an order in (2024-01-07,
    # 2024-07-05]: c1-c8 (2024-03-01). c1-c5 order again later (stay); c6, c7, c8 leave.
    ids = [f"c{i}" for i in range(1, 9)]
    cust = pl.DataFrame({S.CUSTOMER_ID: ids, S.ACQUIRED_AT: [_dt(2023, 1, 1)] * 8})
    od = [(c, _dt(2024, 3, 1)) for c in ids] + [(c, _dt(2024, 9, 1)) for c in ids[:5]]
    orders = pl.DataFrame({S.ORDER_ID: [str(i) for i in range(len(od))],
                           S.CUSTOMER_ID: [o[0] for o in od], S.ORDERED_AT: [o[1] for o in od],
                           S.AMOUNT: [1.0] * len(od)})
    # complaints in the window: c1 (fixed in 1 day), c6 (never fixed), c7 (10 days); c5's
    # is before the window and c4's after the judging date
    comp = pl.DataFrame({
        S.CUSTOMER_ID: ["c1", "c6", "c7", "c5", "c4"],
        S.OPENED_AT: [_dt(2024, 2, 1), _dt(2024, 2, 1), _dt(2024, 2, 1), _dt(2023, 12, 1),
                      _dt(2024, 8, 1)],
        S.RESOLVED_AT: [_dt(2024, 2, 2), None, _dt(2024, 2, 11), _dt(2023, 12, 2),
                        _dt(2024, 8, 2)]}, schema_overrides={S.RESOLVED_AT: pl.Datetime("us")})
    asg = pl.DataFrame({S.CUSTOMER_ID: ["c8", "c2"], S.ACCOUNT_MANAGER: ["M", "M"],
                        S.ASSIGNED_FROM: [_dt(2023, 1, 1)] * 2,
                        S.ASSIGNED_TO: [_dt(2024, 5, 1)] * 2,
                        S.END_REASON: [S.MANAGER_LEFT] * 2})
    # c3: 30 e-mails in 180 days (5.1 a month); c1: one outbound call
    ct = [("c3", _dt(2024, 1, 10) + timedelta(days=5 * i), "email") for i in range(30)]
    ct.append(("c1", _dt(2024, 4, 1), "phone"))
    contacts = pl.DataFrame({S.CUSTOMER_ID: [r[0] for r in ct],
                             S.CONTACTED_AT: [r[1] for r in ct], S.CHANNEL: [r[2] for r in ct],
                             S.DIRECTION: ["outbound"] * len(ct)})
    surveys = pl.DataFrame({S.CUSTOMER_ID: ["c6", "c4"], S.SURVEY: ["s", "s"],
                            S.ITEM: ["nps", "nps"], S.ANSWERED_AT: [_dt(2024, 4, 1)] * 2,
                            S.SCORE: [3.0, 9.0]})
    d = CRMData(customers=cust, orders=orders, complaints=comp, assignments=asg,
                contacts=contacts, surveys=surveys, as_of=_dt(2025, 1, 1))
    r = {row["reason"]: row for row in M.departure_reasons(d).iter_rows(named=True)}
    counts = {k: (v["customers"], v["departed"]) for k, v in r.items()}
    assert counts == {"complained": (3, 2), "complaint not resolved within 7d": (2, 2),
                      "account manager left": (2, 1), "more than 4 e-mails a month": (1, 0),
                      "no outbound contact": (6, 3), "detractor answer (NPS 0-6)": (1, 1)}
    # complained: 2/3 left against 1/5 -> risk ratio 10/3; Katz interval as statsmodels
    c = r["complained"]
    t = Table2x2(np.array([[2, 1], [1, 4]]))
    assert c["risk_ratio"] == pytest.approx(t.riskratio)
    assert (c["rr_ci_low"], c["rr_ci_high"]) == pytest.approx(t.riskratio_confint(0.05))
    _, p = proportions_ztest([2, 1], [3, 5])
    assert c["p_value"] == pytest.approx(p)
    assert c["rate_without"] == pytest.approx(1 / 5)
    assert c["share_of_departures"] == pytest.approx(2 / 3)  # 3 customers left in all
    assert r["account manager left"]["risk_ratio"] == pytest.approx((1 / 2) / (2 / 6))
    assert r["detractor answer (NPS 0-6)"]["risk_ratio"] == pytest.approx(1 / (2 / 7))
    # a zero count leaves the ratio undefined rather than 0 or infinite
    assert r["more than 4 e-mails a month"]["risk_ratio"] is None
    assert r["no outbound contact"]["risk_ratio"] is None
    only_orders = CRMData(customers=cust, orders=orders, as_of=_dt(2025, 1, 1))
    assert M.departure_reasons(only_orders).height == 0
