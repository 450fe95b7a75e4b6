"""loyaltylab.churn: survival tables, boundary cases, Kaplan-Meier, log-rank and bad input.

Every expected number is a hand computation written out next to the assertion, or a
published reference (REFERENCES.md).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from loyaltylab import churn
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData
from loyaltylab.exceptions import MissingTableError, NotFittedError

TS = pl.Datetime("us")
D = datetime


def make_data(orders, customers=None, *, acquired=None, **tables):
    """CRMData from (customer_id, datetime) order tuples; customers default to those ids."""
    ids = sorted({c for c, _ in orders} | set(customers or []))
    acquired = acquired or {}
    cust = pl.DataFrame({S.CUSTOMER_ID: ids,
                         S.ACQUIRED_AT: [acquired.get(i, D(2000, 1, 1)) for i in ids]},
                        schema={S.CUSTOMER_ID: pl.String, S.ACQUIRED_AT: TS})
    o = pl.DataFrame({S.ORDER_ID: [str(i) for i in range(len(orders))],
                      S.CUSTOMER_ID: [c for c, _ in orders],
                      S.ORDERED_AT: [t for _, t in orders],
                      S.AMOUNT: [10.0] * len(orders)},
                     schema={S.ORDER_ID: pl.String, S.CUSTOMER_ID: pl.String,
                             S.ORDERED_AT: TS, S.AMOUNT: pl.Float64})
    return CRMData(customers=cust, orders=o, **tables)


def row(table, cid):
    return table.filter(pl.col(S.CUSTOMER_ID) == cid).row(0, named=True)


# ------------------------------------------------------------------ inactivity rule
def test_worked_example_of_docstring():
    data = make_data([("A", D(2024, 1, 1)), ("A", D(2024, 3, 1)), ("B", D(2024, 1, 1)),
                      ("B", D(2024, 9, 1)), ("C", D(2024, 7, 4))])
    t = churn.churn_table(data, as_of="2024-12-31", inactivity="180d")
    # A: last order 2024-03-01 + 180 d = 2024-08-28 <= as_of -> churned; 2024-01-01 to
    # 2024-08-28 is 31+29+31+30+31+30+31+27 = 240 days.
    assert row(t, "A")["event"] == 1 and row(t, "A")["duration"] == 240.0
    assert row(t, "A")["end"] == D(2024, 8, 28)
    # B: 2024-09-01 + 180 d = 2025-02-28 > as_of -> censored at as_of after 365 days (leap).
    assert row(t, "B")["event"] == 0 and row(t, "B")["duration"] == 365.0
    assert row(t, "B")["end"] == D(2024, 12, 31)


def test_window_ending_exactly_on_as_of_is_observed_churn():
    # single order 2024-07-04; +180 days = 2024-12-31 == as_of
    data = make_data([("C", D(2024, 7, 4))])
    t = churn.churn_table(data, as_of=D(2024, 12, 31))
    assert row(t, "C")["event"] == 1
    assert row(t, "C")["duration"] == 180.0
    # one microsecond earlier the window has not ended yet: censored at as_of
    t2 = churn.churn_table(data, as_of=D(2024, 12, 30, 23, 59, 59, 999999))
    assert row(t2, "C")["event"] == 0
    assert row(t2, "C")["duration"] == pytest.approx(180.0 - 1e-6 / 86400)


def test_single_order_censored_and_churned():
    data = make_data([("X", D(2024, 1, 1)), ("Y", D(2024, 11, 1))])
    t = churn.churn_table(data, as_of="2024-12-31", inactivity="90d")
    # X: one order, 90-day window ended 2024-03-31 -> churned with duration = window
    assert (row(t, "X")["event"], row(t, "X")["duration"]) == (1, 90.0)
    assert row(t, "X")["start"] == row(t, "X")["last_active"] == D(2024, 1, 1)
    # Y: one order 2024-11-01, window ends 2025-01-30 -> censored after 60 days
    assert (row(t, "Y")["event"], row(t, "Y")["duration"]) == (0, 60.0)


def test_orders_on_the_same_day_count_but_do_not_extend_the_lifetime():
    data = make_data([("S", D(2024, 2, 1, 9)), ("S", D(2024, 2, 1, 9)),
                      ("S", D(2024, 2, 1, 17))])
    t = churn.churn_table(data, as_of="2024-12-31", inactivity="30d")
    r = row(t, "S")
    assert r["n_orders"] == 3
    # 17:00 + 30 days; duration = 30 days + 8 hours
    assert r["event"] == 1 and r["duration"] == pytest.approx(30 + 8 / 24)


def test_orders_after_as_of_are_ignored_and_counted():
    data = make_data([("A", D(2024, 1, 1)), ("A", D(2025, 2, 1)), ("B", D(2025, 3, 1))])
    t = churn.churn_table(data, as_of="2024-12-31", inactivity="180d")
    # A's 2025 order is unknown at as_of: A churned 2024-06-29 (Jan 1 + 180 days)
    assert row(t, "A")["event"] == 1 and row(t, "A")["n_orders"] == 1
    assert row(t, "A")["end"] == D(2024, 6, 29)
    assert t.get_column(S.CUSTOMER_ID).to_list() == ["A"]  # B had not started yet
    assert t.report.n_orders_after_as_of == 2
    assert t.report.n_not_started == 1


def test_customers_without_orders_are_reported_not_dropped_silently():
    data = make_data([("A", D(2024, 1, 1))], customers=["P1", "P2"])
    t = churn.churn_table(data, as_of="2024-12-31")
    assert t.height == 1
    assert t.report.n_without_orders == 2
    assert any("no order" in n for n in t.report.notes)
    assert t.report.n_customers_table == 3


def test_zero_duration_is_kept_and_reported():
    data = make_data([("A", D(2024, 1, 1)), ("Z", D(2024, 12, 31))])
    t = churn.churn_table(data, as_of="2024-12-31")
    assert row(t, "Z")["duration"] == 0.0 and row(t, "Z")["event"] == 0
    assert t.report.n_zero_duration == 1


def test_as_of_before_first_order_raises():
    data = make_data([("A", D(2024, 5, 1))])
    with pytest.raises(ValueError, match=r"as_of: 2024-01-01 lies before the first order "
                                         r"\(2024-05-01\)"):
        churn.churn_table(data, as_of="2024-01-01")


def test_orders_before_acquisition_raise_or_are_reported():
    data = make_data([("A", D(2024, 1, 1)), ("B", D(2024, 3, 1))],
                     acquired={"A": D(2024, 2, 1), "B": D(2024, 2, 1)})
    with pytest.raises(ValueError, match=r"1 customers have orders dated before their "
                                         r"customers.acquired_at \(A: first order 2024-01-01"):
        churn.churn_table(data, as_of="2024-12-31")
    t = churn.churn_table(data, as_of="2024-12-31", orders_before_acquisition="report")
    assert t.report.n_orders_before_acquisition == 1 and t.height == 2


def test_bad_options_raise():
    data = make_data([("A", D(2024, 1, 1))])
    with pytest.raises(ValueError, match="definition: expected one of"):
        churn.churn_table(data, definition="calendar")
    with pytest.raises(ValueError, match="inactivity: cannot read"):
        churn.churn_table(data, inactivity="six months")
    with pytest.raises(TypeError, match="data: expected a CRMData"):
        churn.churn_table(data.orders)
    with pytest.raises(ValueError, match="orders_before_acquisition: expected"):
        churn.churn_table(data, orders_before_acquisition="ignore")


# ------------------------------------------------------------------ contract rule
def subs_frame(rows):
    return pl.DataFrame({S.CUSTOMER_ID: [r[0] for r in rows],
                         S.STARTED_AT: [r[1] for r in rows],
                         S.ENDED_AT: [r[2] for r in rows]},
                        schema={S.CUSTOMER_ID: pl.String, S.STARTED_AT: TS, S.ENDED_AT: TS})


def test_contract_definition_renewals_gaps_and_open_spells():
    subs = subs_frame([
        ("A", D(2024, 1, 1), D(2024, 3, 1)),     # renewed after a 10-day gap ...
        ("A", D(2024, 3, 11), D(2024, 6, 1)),    # ... -> one lifetime Jan 1 - Jun 1
        ("B", D(2024, 1, 1), D(2024, 2, 1)),     # ended; 60-day gap -> win-back
        ("B", D(2024, 4, 1), None),
        ("C", D(2024, 6, 1), None),              # open -> censored at as_of
        ("E", D(2024, 6, 1), D(2025, 6, 1)),     # ends after as_of -> censored
        ("F", D(2025, 1, 5), None),              # starts after as_of: ignored
    ])
    data = make_data([("A", D(2024, 1, 1))], customers=["B", "C", "E", "F", "G"],
                     subscriptions=subs)
    t = churn.churn_table(data, definition="contract", as_of="2024-12-31", max_gap="30d")
    assert (row(t, "A")["event"], row(t, "A")["duration"]) == (1, 152.0)  # 31+29+31+30+31
    assert (row(t, "B")["event"], row(t, "B")["duration"]) == (1, 31.0)
    assert (row(t, "C")["event"], row(t, "C")["duration"]) == (0, 213.0)  # Jun 1 - Dec 31
    assert (row(t, "E")["event"], row(t, "E")["duration"]) == (0, 213.0)
    assert "F" not in t.get_column(S.CUSTOMER_ID).to_list()
    rep = t.report
    assert rep.n_winbacks == 1 and rep.n_not_started == 1 and rep.n_without_orders == 1
    assert rep.n_orders_after_as_of == 1
    # With a 90-day renewal gap, B's spells merge and B is still active.
    t90 = churn.churn_table(data, definition="contract", as_of="2024-12-31", max_gap="90d")
    assert (row(t90, "B")["event"], row(t90, "B")["duration"]) == (0, 365.0)


def test_contract_needs_subscriptions_and_sane_dates():
    data = make_data([("A", D(2024, 1, 1))])
    with pytest.raises(MissingTableError, match="contract churn definition needs the "
                                                "'subscriptions' table"):
        churn.churn_table(data, definition="contract")
    bad = make_data([("A", D(2024, 1, 1))],
                    subscriptions=subs_frame([("A", D(2024, 5, 1), D(2024, 4, 1))]))
    with pytest.raises(ValueError, match=r"1 spells end before they start \(first at rows "
                                         r"0\)"):
        churn.churn_table(bad, definition="contract", as_of="2024-12-31")


# ------------------------------------------------------------------ covariates
def test_covariates_by_hand():
    contacts = pl.DataFrame({
        S.CUSTOMER_ID: ["A"] * 5,
        S.CONTACTED_AT: [D(2024, 1, 10), D(2024, 2, 1), D(2024, 5, 1), D(2024, 6, 1),
                         D(2025, 6, 1)],
        S.CHANNEL: ["email", "email", "phone", "email", "email"],
        S.DIRECTION: ["outbound", "outbound", "inbound", "inbound", "outbound"]},
        schema_overrides={S.CONTACTED_AT: TS})
    surveys = pl.DataFrame({
        S.CUSTOMER_ID: ["A", "A", "A"], S.SURVEY: ["w1", "w2", "w2"],
        S.ITEM: ["nps", "nps", "csat"],
        S.ANSWERED_AT: [D(2024, 2, 1), D(2024, 4, 1), D(2024, 4, 1)],
        S.SCORE: [9.0, 6.0, 2.0]}, schema_overrides={S.ANSWERED_AT: TS})
    complaints = pl.DataFrame({
        S.CUSTOMER_ID: ["A", "A"], S.OPENED_AT: [D(2024, 3, 1), D(2024, 4, 1)],
        S.RESOLVED_AT: [D(2024, 3, 5), None]},
        schema={S.CUSTOMER_ID: pl.String, S.OPENED_AT: TS, S.RESOLVED_AT: TS})
    data = make_data([("A", D(2024, 1, 1)), ("A", D(2024, 2, 15)), ("A", D(2024, 5, 1))],
                     contacts=contacts, surveys=surveys, complaints=complaints)
    r = row(churn.churn_table(data, as_of="2024-12-31", inactivity="180d"), "A")
    # churned: May 1 + 180 d = Oct 28; duration Jan 1 -> Oct 28 = 301 days
    assert r["duration"] == 301.0 and r["event"] == 1
    assert r["orders_90d"] == 2            # Jan 1, Feb 15 (May 1 is day 121)
    assert r["contacts_90d"] == 2          # Jan 10, Feb 1
    # rates over the active span Jan 1 - May 1 (last order) = 121 days: contacts Jan 10,
    # Feb 1, May 1 (Jun 1 is in the silent window, 2025 after as_of); outbound e-mails 2
    months = 121 / (365.25 / 12)
    assert r["contacts_per_month"] == pytest.approx(3 / months)
    assert r["emails_per_month"] == pytest.approx(2 / months)     # outbound e-mails only
    assert r["emails_over_threshold"] == 0.0
    assert r["satisfaction"] == 6.0 and r["satisfaction_mean"] == 7.5
    assert (r["complaints"], r["complaints_fast"], r["complaints_slow"]) == (2, 1, 1)
    assert r["resolution_days"] == 4.0


def test_covariates_without_optional_tables_are_null():
    t = churn.churn_table(make_data([("A", D(2024, 1, 1))]), as_of="2024-12-31")
    r = t.row(0, named=True)
    assert r["contacts_per_month"] is None and r["satisfaction"] is None
    assert r["complaints"] is None and r["orders_90d"] == 1


# ------------------------------------------------------------------ episodes
def test_episodes_cut_at_manager_departure_complaint_and_business_change():
    assign = pl.DataFrame({
        S.CUSTOMER_ID: ["A", "A"], S.ACCOUNT_MANAGER: ["m1", "m2"],
        S.ASSIGNED_FROM: [D(2024, 1, 1), D(2024, 3, 1)],
        S.ASSIGNED_TO: [D(2024, 3, 1), None], S.END_REASON: ["manager_left", None]},
        schema={S.CUSTOMER_ID: pl.String, S.ACCOUNT_MANAGER: pl.String,
                S.ASSIGNED_FROM: TS, S.ASSIGNED_TO: TS, S.END_REASON: pl.String})
    complaints = pl.DataFrame({
        S.CUSTOMER_ID: ["A"], S.OPENED_AT: [D(2024, 4, 1)], S.RESOLVED_AT: [None]},
        schema={S.CUSTOMER_ID: pl.String, S.OPENED_AT: TS, S.RESOLVED_AT: TS})
    data = make_data([("A", D(2024, 1, 1)), ("A", D(2024, 5, 1)), ("B", D(2024, 6, 1)),
                      ("N", D(2024, 8, 1))], assignments=assign, complaints=complaints)
    ep = churn.churn_episodes(data, as_of="2024-12-31", inactivity="180d",
                              business_change="2024-07-01")
    a = ep.filter(pl.col(S.CUSTOMER_ID) == "A")
    # A: lifetime 0..301 days; manager left day 60 (Mar 1), early life ends day 90, slow
    # complaint known day 98 (Apr 1 + 7 days), business change day 182 (Jul 1).
    assert a.select("start", "stop").rows() == [(0.0, 60.0), (60.0, 90.0), (90.0, 98.0),
                                                (98.0, 182.0), (182.0, 301.0)]
    assert a["manager_left"].to_list() == [0, 1, 1, 1, 1]
    assert a["early_life"].to_list() == [1, 1, 0, 0, 0]
    assert a["complaint_slow"].to_list() == [0, 0, 0, 1, 1]
    assert a["complaint_fast"].to_list() == [0, 0, 0, 0, 0]
    assert a["after_change"].to_list() == [0, 0, 0, 0, 1]
    assert a["event"].to_list() == [0, 0, 0, 0, 1]
    assert a["orders_before_change"].to_list() == [2] * 5
    b = ep.filter(pl.col(S.CUSTOMER_ID) == "B")
    # B: single order Jun 1, churned Jun 1 + 180 d = Nov 28 (<= as_of); change on day 30
    assert b.select("start", "stop", "event", "after_change").rows() == [
        (0.0, 30.0, 0, 0), (30.0, 90.0, 0, 1), (90.0, 180.0, 1, 1)]
    # N joined after the change: it never switches on
    n = ep.filter(pl.col(S.CUSTOMER_ID) == "N")
    assert n["after_change"].to_list() == [0, 0] and n["orders_before_change"][0] == 0


# ------------------------------------------------------------------ result objects
def test_a_filtered_churn_table_keeps_its_rule_and_report():
    data = make_data([("A", D(2024, 1, 1)), ("A", D(2024, 3, 1)), ("B", D(2024, 1, 1)),
                      ("B", D(2024, 9, 1)), ("C", D(2024, 7, 4))], customers=["P"])
    t = churn.churn_table(data, as_of="2024-12-31", inactivity="120d")
    assert isinstance(t, churn.ChurnTable) and isinstance(t.frame, pl.DataFrame)
    assert t.to_polars() is t.frame and t.inactivity_days == 120.0
    # every row operation that keeps what a row means keeps the object and its report
    kept = [t.filter(pl.col("event") == 0), t.sort("duration"), t.head(2), t.tail(1),
            t.drop_nulls(subset=["duration"]), t.sample(2, seed=1),
            t.with_columns((pl.col("duration") / 7).alias("weeks"))]
    for sub in kept:
        assert isinstance(sub, churn.ChurnTable) and sub.report is t.report
        assert sub.inactivity_days == 120.0
    # A: Mar 1 + 120 d = Jun 29; B: Sep 1 + 120 d = Dec 30; C: Jul 4 + 120 d = Nov 1; all on
    # or before as_of, so all churned. Durations from the first order: A Jan 1 -> Jun 29 =
    # 31+29+31+30+31+28 = 180; B Jan 1 -> Dec 30 (leap year) = 364; C Jul 4 -> Nov 1 = 120.
    assert t.filter(pl.col("event") == 0).height == 0 and t["event"].to_list() == [1, 1, 1]
    # reading passes through; anything else is a plain frame
    assert t.height == len(t) == 3 and t.columns[:2] == ["customer_id", "start"]
    assert isinstance(t.select("duration"), pl.DataFrame)
    assert t.get_column("duration").to_list() == [180.0, 364.0, 120.0]
    # the text and the HTML say what it is, for the subset too
    assert repr(t).startswith("Churn table (inactivity, as of 2024-12-31): 3 customers, "
                              "3 churned, 0 censored")
    assert "1 customers have no order" in repr(t)
    one = t.head(1)
    assert "1 customers, 1 churned" in repr(one) and "a subset of the 3 customers" in repr(one)
    assert t._repr_html_().startswith("<div><p><b>Churn table (inactivity")
    # retention charts of a subset still know the rule's window; a plain frame does not
    assert churn.KaplanMeier().fit(t.filter(pl.col("duration") > 150)).inactivity_days_ == 120
    assert churn.KaplanMeier().fit(t.frame).inactivity_days_ is None


def test_result_html_is_escaped():
    data = make_data([("A", D(2024, 1, 1))])
    t = churn.churn_table(data, as_of="2024-12-31")
    t.report.notes.append("<script>alert(1)</script> & more")
    page = t._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page


def test_episodes_count_customers_without_an_entry_day():
    data = make_data([("A", D(2024, 1, 1)), ("A", D(2024, 5, 1)), ("B", D(2024, 6, 1))])
    t = churn.churn_table(data, as_of="2024-12-31")
    t = t.with_columns(pl.when(pl.col(S.CUSTOMER_ID) == "A").then(10.0)
                       .otherwise(None).alias("known"))
    ep = churn.churn_episodes(data, t, entry="known")
    assert isinstance(ep, churn.ChurnEpisodes) and ep.n_without_entry == 1
    # A enters on day 10: its first episode starts there; B (no entry day) is left out
    assert ep["customer_id"].unique().to_list() == ["A"] and ep["start"][0] == 10.0
    assert "1 customers left out: no entry day" in repr(ep)
    assert ep.filter(pl.col("start") > 0).n_without_entry == 1


# ------------------------------------------------------------------ Kaplan-Meier
KM_TABLE = pl.DataFrame({"duration": [5.0, 8, 8, 12, 20, 25], "event": [1, 1, 0, 1, 0, 1],
                         "segment": ["a", "a", "a", "b", "b", "b"]})


def test_kaplan_meier_by_hand_with_greenwood_loglog_band():
    km = churn.KaplanMeier().fit(KM_TABLE)
    c = km.curves_
    # S(5) = 5/6; S(8) = 5/6 * 4/5 = 4/6; S(12) = 4/6 * 2/3 = 4/9; S(25) = 0
    assert c["survival"].to_list() == pytest.approx([1, 5 / 6, 4 / 6, 4 / 9, 4 / 9, 0])
    assert c["at_risk"].to_list() == [6, 6, 5, 3, 2, 1]
    # log(-log) band at t=8: var(log S) Greenwood = 1/(6*5) + 1/(5*4) = 1/12;
    # se of log(-log S) = sqrt(1/12) / |log S|; band S^exp(+-1.96 se)
    s = 4 / 6
    se = math.sqrt(1 / 30 + 1 / 20) / abs(math.log(s))
    lo, hi = s ** math.exp(1.959964 * se), s ** math.exp(-1.959964 * se)
    assert c["ci_low"][2] == pytest.approx(lo, rel=1e-6)
    assert c["ci_high"][2] == pytest.approx(hi, rel=1e-6)
    summ = km.summary
    assert summ["median_days"][0] == 12.0  # first time S <= 0.5
    assert summ["survival_1y"][0] is None  # beyond the data
    assert "fitted on 6 customers, 2 censored" in repr(km)


def test_kaplan_meier_survival_at_years_and_annual_defection():
    t = pl.DataFrame({"duration": [100.0, 200, 400, 500, 800, 1200],
                      "event": [1, 0, 1, 0, 1, 0]})
    s = churn.KaplanMeier().fit(t).summary.row(0, named=True)
    # S(365.25) = 5/6 (one event at 100 among 6; censoring at 200 does not drop it)
    assert s["survival_1y"] == pytest.approx(5 / 6)
    assert s["annual_defection"] == pytest.approx(1 / 6)
    # S(730.5) = 5/6 * 3/4 (event at 400 among 4 at risk)
    assert s["survival_2y"] == pytest.approx(5 / 6 * 3 / 4)
    # S(1095.75) = 5/6 * 3/4 * 1/2 (event at 800 among 2)
    assert s["survival_3y"] == pytest.approx(5 / 16)


def test_retention_curves_by_group_and_at_risk_table():
    km = churn.KaplanMeier().fit(KM_TABLE, by="segment")
    assert km.groups_ == ["a", "b"]
    assert isinstance(km.lifelines_, dict) and set(km.lifelines_) == {"a", "b"}
    c = churn.retention_curves(KM_TABLE, by="segment")
    b = c.filter(pl.col("group") == "b")
    assert b.select("timeline", "survival").rows() == [(0.0, 1.0), (12.0, 2 / 3),
                                                       (20.0, 2 / 3), (25.0, 0.0)]
    ar = km.at_risk_table([0, 10, 21])
    assert ar.filter(pl.col("group") == "a")["at_risk"].to_list() == [3, 0, 0]
    assert ar.filter(pl.col("group") == "b")["at_risk"].to_list() == [3, 3, 1]
    nh = km.cumulative_hazard().filter(pl.col("group") == "a")
    # Nelson-Aalen: 1/3 at 5, + 1/2 at 8
    assert nh["cumulative_hazard"].to_list()[-1] == pytest.approx(1 / 3 + 1 / 2)


def test_logrank_by_hand():
    # group a: events at 5, 8 (and one censored at 8); group b: events at 12, 25.
    # t=5: n=6, na=3, d=1 -> E_a = 0.5, V = 3*3*1*5/(36*5) = 0.25
    # t=8: n=5, na=2, d=1 -> E_a = 0.4, V = 2*3/25 = 0.24
    # t=12: n=3, na=0 -> E_a = 0 ; t=25: na=0 -> 0
    # O_a - E_a = 2 - 0.9 = 1.1; chi2 = 1.1^2 / (0.25 + 0.24 + 0 + 0) = 2.469...
    r = churn.logrank_tests(KM_TABLE, by="segment")
    assert r["test_statistic"][0] == pytest.approx(1.21 / 0.49, rel=1e-6)
    assert r["test_statistic"][1] == pytest.approx(1.21 / 0.49, rel=1e-6)
    assert r["comparison"].to_list() == ["overall", "a vs b"]
    with pytest.raises(ValueError, match="at least two groups"):
        churn.logrank_tests(KM_TABLE.filter(pl.col("segment") == "a"), by="segment")


def test_holm_adjustment_by_hand():
    t = pl.DataFrame({"duration": np.r_[np.arange(1, 21), np.arange(5, 25),
                                        np.arange(30, 50)].astype(float),
                      "event": [1] * 60, "g": ["a"] * 20 + ["b"] * 20 + ["c"] * 20})
    r = churn.logrank_tests(t, by="g")
    p = r["p_value"].to_list()[1:]
    order = np.argsort(p)
    expected = np.empty(3)
    run = 0.0
    for k, i in enumerate(order):
        run = max(run, min(1.0, (3 - k) * p[i]))
        expected[i] = run
    assert r["p_holm"].to_list()[1:] == pytest.approx(expected.tolist())


def test_table_validation_errors():
    with pytest.raises(ValueError, match=r"table.duration: 1 rows are negative \(first at "
                                         r"rows 1\)"):
        churn.KaplanMeier().fit(pl.DataFrame({"duration": [1.0, -2.0], "event": [1, 0]}))
    with pytest.raises(ValueError, match=r"table.event: 1 rows are not 0 or 1"):
        churn.KaplanMeier().fit(pl.DataFrame({"duration": [1.0, 2.0], "event": [1, 2]}))
    with pytest.raises(ValueError, match="missing column 'event'"):
        churn.KaplanMeier().fit(pl.DataFrame({"duration": [1.0]}))
    with pytest.raises(ValueError, match="the table is empty"):
        churn.KaplanMeier().fit(pl.DataFrame({"duration": [], "event": []}))
    with pytest.raises(ValueError, match="1 rows are null or NaN"):
        churn.KaplanMeier().fit(pl.DataFrame({"duration": [1.0, None], "event": [1, 0]}))
    with pytest.raises(ValueError, match="by='region': not a column"):
        churn.KaplanMeier().fit(KM_TABLE, by="region")


def test_not_fitted_errors():
    with pytest.raises(NotFittedError, match="KaplanMeier is not fitted yet"):
        churn.KaplanMeier().summary
    with pytest.raises(NotFittedError, match="CoxModel is not fitted yet"):
        churn.CoxModel().summary
    with pytest.raises(NotFittedError, match="TimeVaryingCox is not fitted yet"):
        churn.TimeVaryingCox().summary
    with pytest.raises(NotFittedError, match="LifetimeModel is not fitted yet"):
        churn.LifetimeModel().comparison


# ------------------------------------------------------------------ property: accounting
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(orders=st.lists(st.tuples(st.sampled_from("ABCDEF"), st.integers(0, 700)),
                       max_size=30),
       prospects=st.integers(0, 3), as_of_day=st.integers(0, 700),
       window=st.integers(1, 400))
def test_every_customer_is_in_the_table_or_counted(orders, prospects, as_of_day, window):
    from datetime import timedelta
    base = D(2023, 1, 1)
    rows = [(c, base + timedelta(days=d)) for c, d in orders] or [("A", base)]
    extra = [f"P{i}" for i in range(prospects)]
    data = make_data(rows, customers=extra)
    T = base + timedelta(days=as_of_day)
    if T < min(t for _, t in rows):
        with pytest.raises(ValueError, match="lies before the first order"):
            churn.churn_table(data, as_of=T, inactivity=window)
        return
    t = churn.churn_table(data, as_of=T, inactivity=window)
    r = t.report
    # every customer is in the table, or counted as without orders / not yet started
    assert data.customers.height == r.n_rows + r.n_without_orders + r.n_not_started
    assert r.n_orders_after_as_of == sum(1 for _, d in rows if d > T)
    assert r.n_events + r.n_censored == t.height
    for row in t.iter_rows(named=True):
        mine = [d for c, d in rows if c == row["customer_id"] and d <= T]
        first, last = min(mine), max(mine)
        churned = last + timedelta(days=window) <= T
        end = last + timedelta(days=window) if churned else T
        assert row["event"] == int(churned)
        assert row["duration"] == (end - first) / timedelta(days=1) >= 0
        assert row["n_orders"] == len(mine)


def test_satisfaction_regression_calibration_by_hand():
    ans = [("A", 6.0, 10), ("A", 8.0, 40), ("B", 9.0, 5), ("C", 4.0, 1), ("C", 4.0, 2),
           ("C", 7.0, 3)]
    surveys = pl.DataFrame({
        S.CUSTOMER_ID: [a[0] for a in ans], S.SURVEY: ["w"] * 6, S.ITEM: ["nps"] * 6,
        S.ANSWERED_AT: [D(2024, 1, 1) + timedelta(days=a[2]) for a in ans],
        S.SCORE: [a[1] for a in ans]},
        schema_overrides={S.ANSWERED_AT: TS})
    data = make_data([("A", D(2024, 1, 1)), ("B", D(2024, 1, 1)), ("C", D(2024, 1, 1)),
                      ("N", D(2024, 1, 1))], surveys=surveys)
    t = churn.churn_table(data, as_of="2024-12-31")
    # means A 7, B 9, C 5 -> mu = 7, variance of the means (n-1) = (0 + 4 + 4) / 2 = 4
    # noise: pooled within-customer variance = (SS_A 2 + SS_C 6) / (1 + 2) = 8/3
    # true-score variance = 4 - (8/3) * mean(1/k) = 4 - (8/3) * (1/2 + 1 + 1/3) / 3
    var_e = 8 / 3
    var_x = 4 - var_e * (1 / 2 + 1 + 1 / 3) / 3
    lam = {k: var_x / (var_x + var_e / k) for k in (1, 2, 3)}
    assert row(t, "A")["satisfaction_calibrated"] == pytest.approx(7.0)
    assert row(t, "B")["satisfaction_calibrated"] == pytest.approx(7 + lam[1] * 2)
    assert row(t, "C")["satisfaction_calibrated"] == pytest.approx(7 - lam[3] * 2)
    assert row(t, "N")["satisfaction_calibrated"] is None
    assert (row(t, "C")["satisfaction_answers"], row(t, "N")["satisfaction_answers"]) == (3, 0)
    assert row(t, "A")["satisfaction"] == 8.0 and row(t, "A")["satisfaction_known_day"] == 10
