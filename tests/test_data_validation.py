"""Row rules of the shared validation path (ll.from_frames): every row kept or rejected
with a reason, counted by hand for each case."""

from __future__ import annotations

from datetime import date, datetime, UTC

import pandas as pd
import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.data import schema as S

AS_OF = "2025-12-31"


def customers(ids=("a", "b", "c"), at="2025-01-01"):
    return pl.DataFrame({S.CUSTOMER_ID: list(ids), S.ACQUIRED_AT: [at] * len(ids)})


def orders(**cols):
    n = len(next(iter(cols.values())))
    base = {S.ORDER_ID: [str(i) for i in range(n)], S.CUSTOMER_ID: ["a"] * n,
            S.ORDERED_AT: ["2025-06-01"] * n, S.AMOUNT: ["10"] * n}
    base.update(cols)
    return pl.DataFrame(base)


def load(**tables):
    tables.setdefault("customers", customers())
    return ll.from_frames(tables, as_of=AS_OF)


def accounted(data):
    for tr in data.report.tables.values():
        assert tr.read == tr.kept + tr.rejected
        assert sum(tr.reasons.values()) == tr.rejected
        assert (tr.rejects.height if tr.rejects is not None else 0) == tr.rejected
    return data


@pytest.mark.parametrize("column, values, reason, rows", [
    (S.ORDERED_AT, ["2025-06-01", "yesterday", "2025-02-30", None],
     {"ordered_at: unparseable date": 2, "ordered_at: missing": 1}, [1, 2, 3]),
    (S.AMOUNT, ["10", "ten", "1e3", ""],
     {"amount: unparseable number": 1, "amount: missing": 1}, [1, 3]),
    (S.AMOUNT, ["10", "-5", "0", "-0.01"], {"amount: negative": 2}, [1, 3]),
    (S.AMOUNT, ["10", "inf", "NaN", "3"], {"amount: not a finite number": 2}, [1, 2]),
    (S.ORDERED_AT, ["2025-06-01", "2026-01-01 00:00:01", "2025-12-31", "1899-01-01"],
     {"ordered_at: after as_of": 1, "ordered_at: before 1900": 1}, [1, 3]),
    (S.CUSTOMER_ID, ["a", "zz", "c", " b "], {"customer_id: unknown customer": 1}, [1]),
    (S.ORDER_ID, ["1", "2", "1", "1"], {"order_id: duplicate": 2}, [2, 3]),
])
def test_each_order_rule(column, values, reason, rows):
    data = accounted(load(orders=orders(**{column: values})))
    tr = data.report.tables["orders"]
    assert tr.reasons == reason
    assert sorted(tr.rejects["_row"].to_list()) == rows
    assert tr.kept == 4 - len(rows)


def test_refunds_kept_when_allowed():
    data = ll.from_frames({"customers": customers(), "orders": orders(amount=["10", "-5"])},
                          as_of=AS_OF, allow_refunds=True)
    assert data.orders[S.AMOUNT].to_list() == [10.0, -5.0]


def test_a_row_counts_once_under_its_first_reason():
    # unparseable date and negative amount and unknown customer: the date comes first
    data = accounted(load(orders=orders(ordered_at=["bad"], amount=["-1"],
                                        customer_id=["nobody"])))
    assert data.report.tables["orders"].reasons == {"ordered_at: unparseable date": 1}


def test_duplicates_keep_the_first_valid_row():
    # row 0 is invalid (negative), so the first *valid* order "7" is row 1; row 2 repeats it
    data = accounted(load(orders=orders(order_id=["7", "7", "7"], amount=["-1", "5", "6"])))
    assert data.orders[S.AMOUNT].to_list() == [5.0]
    assert data.report.tables["orders"].reasons == {"amount: negative": 1,
                                                    "order_id: duplicate": 1}


def test_customer_duplicates_and_cascade_to_orders():
    cust = pl.DataFrame({S.CUSTOMER_ID: ["a", "a", "b"],
                         S.ACQUIRED_AT: ["2025-01-01", "2025-02-01", "not a date"]})
    data = accounted(load(customers=cust, orders=orders(customer_id=["a", "b"])))
    assert data.customers[S.ACQUIRED_AT].to_list() == [datetime(2025, 1, 1)]
    assert data.report.tables["customers"].reasons == {"acquired_at: unparseable date": 1,
                                                       "customer_id: duplicate": 1}
    # b was rejected, so its order is for an unknown customer
    assert data.report.tables["orders"].reasons == {"customer_id: unknown customer": 1}


def test_contacts_direction_and_synonyms():
    contacts = pl.DataFrame({S.CUSTOMER_ID: ["a"] * 5,
                             S.CONTACTED_AT: ["2025-03-01"] * 5,
                             S.CHANNEL: ["email"] * 5,
                             S.DIRECTION: ["Inbound", "OUT", "outgoing", "sideways", None]})
    data = accounted(load(orders=orders(amount=["1"]), contacts=contacts))
    assert data.contacts[S.DIRECTION].to_list() == ["inbound", "outbound", "outbound", None]
    assert data.report.tables["contacts"].reasons == {"direction: not inbound/outbound": 1}


def test_referrals_check_both_customers():
    refs = pl.DataFrame({S.REFERRER_ID: ["a", "x", "a"], S.REFERRED_ID: ["b", "c", "y"],
                         S.REFERRED_AT: ["2025-04-01"] * 3})
    data = accounted(load(orders=orders(amount=["1"]), referrals=refs))
    assert data.report.tables["referrals"].reasons == {"referrer_id: unknown customer": 1,
                                                       "referred_id: unknown customer": 1}


def test_web_sessions_allow_anonymous_visitors():
    ws = pl.DataFrame({S.VISITOR_ID: ["v1", "v2", "v3"], S.CUSTOMER_ID: [None, "a", "q"],
                       S.STARTED_AT: ["2025-04-01"] * 3})
    data = accounted(load(orders=orders(amount=["1"]), web_sessions=ws))
    assert data.web_sessions.height == 2
    assert data.report.tables["web_sessions"].reasons == {"customer_id: unknown customer": 1}


def test_intervals_end_before_start_and_censoring_at_as_of():
    comp = pl.DataFrame({S.CUSTOMER_ID: ["a", "a", "b"],
                         S.OPENED_AT: ["2025-05-01", "2025-05-01", "2025-11-01"],
                         S.RESOLVED_AT: ["2025-05-03", "2025-04-01", "2026-02-01"]})
    data = accounted(load(orders=orders(amount=["1"]), complaints=comp))
    assert data.report.tables["complaints"].reasons == {"resolved_at: before opened_at": 1}
    # resolved after as_of: still open at as_of
    assert data.complaints[S.RESOLVED_AT].to_list() == [datetime(2025, 5, 3), None]
    assert any("set to null" in w for w in data.report.tables["complaints"].warnings)


def test_surveys_scores_and_comments():
    sv = pl.DataFrame({S.CUSTOMER_ID: ["a", "b", "c"], S.SURVEY: ["w1"] * 3,
                       S.ITEM: ["nps"] * 3, S.ANSWERED_AT: ["2025-03-03"] * 3,
                       S.SCORE: ["9", "7,5", "x"], S.COMMENT: ["great", None, "secret"]})
    data = accounted(load(orders=orders(amount=["1"]), surveys=sv))
    assert data.surveys[S.SCORE].to_list() == [9.0, 7.5]
    assert data.surveys[S.COMMENT].to_list() == ["great", None]
    assert "secret" not in str(data.report)


def test_typed_frames_are_converted():
    cust = pl.DataFrame({
        S.CUSTOMER_ID: [1, 2],
        S.ACQUIRED_AT: pl.Series([datetime(2025, 1, 1, 12), datetime(2025, 6, 1, 12)])
        .dt.replace_time_zone("Europe/Berlin"),
    })
    o = pl.DataFrame({S.ORDER_ID: [10.0, 11.0], S.CUSTOMER_ID: [1, 2],
                      S.ORDERED_AT: [date(2025, 2, 1), date(2025, 7, 1)],
                      S.AMOUNT: [5, 7]})
    data = accounted(ll.from_frames({"customers": cust, "orders": o}, as_of=AS_OF))
    assert data.customers[S.CUSTOMER_ID].to_list() == ["1", "2"]
    # 12:00 CET = 11:00 UTC; 12:00 CEST = 10:00 UTC
    assert data.customers[S.ACQUIRED_AT].to_list() == [datetime(2025, 1, 1, 11),
                                                       datetime(2025, 6, 1, 10)]
    assert data.orders[S.ORDER_ID].to_list() == ["10", "11"]
    assert data.orders.schema[S.ORDERED_AT] == pl.Datetime("us")
    assert data.orders.schema[S.AMOUNT] == pl.Float64


def test_pandas_frames_and_extra_columns():
    cust = pd.DataFrame({"Customer ID": ["a", "b"], "acquired_at": ["2025-01-01"] * 2,
                         "industry": ["retail", "b2b"]})
    o = pd.DataFrame({S.ORDER_ID: ["1"], S.CUSTOMER_ID: ["a"], S.ORDERED_AT: ["2025-03-01"],
                      S.AMOUNT: [3.5]})
    data = ll.from_frames({"customers": cust, "orders": o}, as_of=AS_OF)
    assert data.customers.columns == [S.CUSTOMER_ID, S.ACQUIRED_AT, "industry"]


def test_inputs_are_not_changed():
    o = orders(amount=["10", "-5"])
    before = o.clone()
    load(orders=o)
    assert o.equals(before)


def test_report_summary_frame_and_text():
    data = load(orders=orders(amount=["10", "-5", "x"]))
    summary = data.report.summary()
    tot = summary.filter(pl.col("table") == "orders", pl.col("reason").is_null())
    assert tot.select("read", "kept", "rejected").row(0) == (3, 1, 2)
    reasons = summary.filter(pl.col("table") == "orders", pl.col("reason").is_not_null())
    assert dict(zip(reasons["reason"], reasons["n"])) == {"amount: negative": 1,
                                                          "amount: unparseable number": 1}
    text = str(data.report)
    assert "1 x amount: negative  (row 1: '-5')" in text
    assert "rows are numbered from 0" in text


def test_as_of_accepts_dates_and_datetimes():
    for value in (date(2025, 12, 31), datetime(2025, 12, 31), "2025-12-31"):
        data = ll.from_frames({"customers": customers(), "orders": orders(amount=["1"])},
                              as_of=value)
        assert data.as_of == datetime(2025, 12, 31)
    aware = datetime(2025, 12, 31, tzinfo=UTC)
    data = ll.from_frames({"customers": customers(), "orders": orders(amount=["1"])},
                          as_of=aware)
    assert data.as_of.tzinfo is None


def test_truth_is_attached():
    data = ll.from_frames({"customers": customers(), "orders": orders(amount=["1"])},
                          as_of=AS_OF, truth={"x": 1}, source="sim")
    assert data.truth == {"x": 1} and data.report.source == "sim"


def test_make_crm_goes_through_from_frames():
    data = ll.datasets.make_crm(300, years=1, seed=3)
    assert data.report.ok
    assert set(data.report.tables) == set(S.TABLES)
    for name, frame in data.tables.items():
        spec = S.TABLES[name]
        for col in spec.names:
            if col in frame.columns:
                assert frame.schema[col] == spec.column(col).dtype, (name, col)


def test_null_tokens_are_missing_values():
    # "NULL" / "#N/A" as written by database and Excel exports are missing values
    cust = pl.DataFrame({S.CUSTOMER_ID: ["a", "b"], S.ACQUIRED_AT: ["2025-01-01", "NULL"],
                         S.SEGMENT: ["x", "NULL"]})
    comp = pl.DataFrame({S.CUSTOMER_ID: ["a", "a"], S.OPENED_AT: ["2025-03-01"] * 2,
                         S.RESOLVED_AT: ["NULL", "2025-03-05"]})
    ws = pl.DataFrame({S.VISITOR_ID: ["v1", "v2"], S.CUSTOMER_ID: ["NULL", " a "],
                       S.STARTED_AT: ["2025-04-01", "#N/A"]})
    data = accounted(ll.from_frames({"customers": cust, "orders": orders(amount=["1"]),
                                     "complaints": comp, "web_sessions": ws}, as_of=AS_OF))
    assert data.report.tables["customers"].reasons == {"acquired_at: missing": 1}
    assert data.customers[S.SEGMENT].to_list() == ["x"]
    assert data.complaints[S.RESOLVED_AT].to_list() == [None, datetime(2025, 3, 5)]
    assert data.report.tables["web_sessions"].reasons == {"started_at: missing": 1}
    assert data.web_sessions[S.CUSTOMER_ID].to_list() == [None]


@pytest.mark.parametrize("amounts", [["10", "-5", "x", " 7 "], ["10", "-5", "x", "7"]])
def test_release_frees_the_input_and_changes_nothing_else(amounts):
    # the loader lets validation drop the raw frame of a table it read itself; the kept
    # rows and the report must be those of a normal validation (" 7 " also takes the
    # validate-again-with-stripped-columns path before the release)
    from loyaltylab.data.validation import TableInput, validate_table
    ids = pl.Series(S.CUSTOMER_ID, ["a", "b", "c"])
    frame = orders(amount=amounts, order_id=["1", "2", "3", "2"])  # "2" first valid at row 3
    as_of = datetime(2025, 12, 31)
    kept0, rep0 = validate_table(TableInput("orders", frame.clone()), as_of=as_of,
                                 customer_ids=ids)
    inp = TableInput("orders", frame.clone())
    kept1, rep1 = validate_table(inp, as_of=as_of, customer_ids=ids, release=True)
    assert inp.frame is None
    assert kept1.equals(kept0) and rep1.reasons == rep0.reasons
    assert rep1.rejects.equals(rep0.rejects) and rep1.read == 4
    assert rep0.reasons == {"amount: unparseable number": 1, "amount: negative": 1}
    assert kept0[S.AMOUNT].to_list() == [10.0, 7.0]
