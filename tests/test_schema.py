"""The data model is defined once and consistently; CRMData and LoadReport behave."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import pytest

from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData, LoadReport, TableReport
from loyaltylab.exceptions import MissingTableError


def test_every_table_of_the_issue_is_modelled_with_its_columns():
    expected = {
        "customers": ["customer_id", "acquired_at", "kind", "segment", "acquisition_channel",
                      "region", "account_manager"],
        "orders": ["order_id", "customer_id", "ordered_at", "amount", "product_line",
                   "discount"],
        "contacts": ["customer_id", "contacted_at", "channel", "direction", "campaign"],
        "referrals": ["referrer_id", "referred_id", "referred_at"],
        "surveys": ["customer_id", "survey", "item", "answered_at", "score", "comment"],
        "complaints": ["customer_id", "opened_at", "resolved_at", "category", "outcome"],
        "subscriptions": ["customer_id", "started_at", "ended_at", "plan"],
        "assignments": ["customer_id", "account_manager", "assigned_from", "assigned_to"],
        "web_sessions": ["visitor_id", "customer_id", "started_at"],
    }
    assert set(S.TABLES) == set(expected)
    for table, columns in expected.items():
        assert set(columns) <= set(S.TABLES[table].names), table


def test_only_customers_and_orders_are_required():
    assert S.REQUIRED_TABLES == (S.CUSTOMERS, S.ORDERS)


def test_keys_and_required_columns_are_real_columns():
    for spec in S.TABLES.values():
        assert len(set(spec.names)) == len(spec.names), spec.name
        assert set(spec.key) <= set(spec.names)
        assert set(spec.required_names) <= set(spec.names)


def test_schema_frame_documents_every_column():
    frame = S.schema_frame()
    assert frame.height == sum(len(t.columns) for t in S.TABLES.values())
    assert frame["description"].str.len_chars().min() > 5


def test_column_lookup_error_lists_the_columns():
    with pytest.raises(KeyError, match="orders has no canonical column 'price'"):
        S.TABLES[S.ORDERS].column("price")


def _tiny() -> CRMData:
    customers = pl.DataFrame({S.CUSTOMER_ID: ["a"], S.ACQUIRED_AT: [datetime(2024, 1, 1)]})
    orders = pl.DataFrame({S.ORDER_ID: ["1"], S.CUSTOMER_ID: ["a"],
                           S.ORDERED_AT: [datetime(2024, 1, 2)], S.AMOUNT: [3.0]})
    return CRMData(customers=customers, orders=orders, as_of=datetime(2024, 2, 1))


def test_require_names_the_table_and_how_to_supply_it():
    with pytest.raises(MissingTableError,
                       match=r"conversion needs the 'contacts' table.*Supply a contacts file"):
        _tiny().require(S.CONTACTS, purpose="conversion")
    _tiny().require(S.CUSTOMERS, S.ORDERS)  # present: no error
    with pytest.raises(ValueError, match="unknown table 'order'"):
        _tiny().require("order")


def test_crmdata_repr_and_tables():
    data = _tiny()
    assert repr(data) == "CRMData(customers=1, orders=1, as_of=2024-02-01)"
    assert list(data.tables) == [S.CUSTOMERS, S.ORDERS]
    assert data.replace(as_of=None).as_of is None and data.as_of is not None


def test_load_report_accounts_json_summary_and_rejects(tmp_path):
    rejects = pl.DataFrame({"amount": ["-3"], "_row": [4], "_reason": ["negative amount"]})
    report = LoadReport(tables={
        S.ORDERS: TableReport(read=10, kept=9, rejected=1, reasons={"negative amount": 1},
                              rejects=rejects),
        S.CUSTOMERS: TableReport(read=3, kept=3),
    })
    assert not report.ok and report.n_rejected == 1
    assert json.loads(report.to_json()) == {"tables": {
        "orders": {"read": 10, "kept": 9, "rejected": 1, "reasons": {"negative amount": 1}},
        "customers": {"read": 3, "kept": 3, "rejected": 0, "reasons": {}}}}
    summary = report.summary()
    assert summary.filter(pl.col("reason").is_null())["read"].to_list() == [10, 3]
    paths = report.write_rejects(tmp_path)
    assert [p.name for p in paths] == ["orders_rejects.csv"]
    assert pl.read_csv(paths[0])["_reason"].to_list() == ["negative amount"]
    assert "1 x negative amount" in str(report)


def test_every_fact_about_a_table_lives_in_its_table_spec():
    # written out by hand: the facts validation, the overview, metrics and the funnel use
    events = {"customers": "acquired_at", "orders": "ordered_at", "contacts": "contacted_at",
              "referrals": "referred_at", "surveys": "answered_at",
              "complaints": "opened_at", "subscriptions": "started_at",
              "assignments": "assigned_from", "web_sessions": "started_at"}
    intervals = {"complaints": ("opened_at", "resolved_at"),
                 "subscriptions": ("started_at", "ended_at"),
                 "assignments": ("assigned_from", "assigned_to")}
    refs = {"referrals": ("referrer_id", "referred_id")}
    assert {n: t.event for n, t in S.TABLES.items()} == events
    assert {n: t.interval for n, t in S.TABLES.items() if t.interval} == intervals
    for name, t in S.TABLES.items():
        expected = () if name == "customers" else refs.get(name, ("customer_id",))
        assert t.customer_refs == expected, name
        # every fact names columns of its own table
        named = [t.event, *(t.interval or ()), *t.customer_refs, *t.key]
        assert set(named) <= set(t.names), name
    # customers first: the other tables' references are checked against it
    assert next(iter(S.TABLES)) == "customers"


def test_validation_metrics_overview_and_funnel_read_the_table_specs():
    from loyaltylab.data import _rules, overview, validation
    from loyaltylab.funnel import conditions
    from loyaltylab.metrics import _base

    events = {n: t.event for n, t in S.TABLES.items()}
    assert validation.EVENT_COLUMNS == events and overview._DATE_COLUMN == events
    assert validation.VALIDATION_ORDER == tuple(S.TABLES)
    assert validation.INTERVALS == {n: t.interval for n, t in S.TABLES.items() if t.interval}
    assert validation.CUSTOMER_REFERENCES == {n: t.customer_refs for n, t in S.TABLES.items()
                                              if t.customer_refs}
    assert _base._ID_COLUMNS == {**{n: t.customer_refs for n, t in S.TABLES.items()},
                                 "customers": ("customer_id",)}
    assert all(_rules._EVENT_DATE[n] == events[n] for n in _rules._EVENT_DATE)
    for source, (table, person, date_col, _) in conditions._SOURCES.items():
        assert date_col == events[table] and person in S.TABLES[table].names, source
