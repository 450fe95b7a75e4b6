"""The loyalty-ladder stage computed inside a database engine (loyaltylab.warehouse,
through Ibis) equals the polars ladder (loyaltylab.funnel) on the same data: DuckDB,
SQLite, Ibis' Polars backend and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import datetime

import polars as pl
import pytest

ibis = pytest.importorskip(
    "ibis", reason="Ibis is not installed: pip install 'loyaltylab[warehouse]' (part of "
                   ".[dev]) to run the engine parity tests")

from test_warehouse_parity import postgres_con  # noqa: E402,F401  (the shared server)

from loyaltylab.data.crmdata import CRMData  # noqa: E402
from loyaltylab.data.privacy import hash_series  # noqa: E402
from loyaltylab.datasets import make_crm  # noqa: E402
from loyaltylab.funnel import (OFFLINE, ONLINE, Count, Ladder, Stage,  # noqa: E402
                               assign_stages)
from loyaltylab.warehouse import ladder_counts, ladder_stages, to_sql  # noqa: E402

BACKENDS = ["duckdb", "sqlite", "polars", "postgres"]
TABLES = ("customers", "orders", "contacts", "referrals")
TS = pl.Datetime("us")
D = datetime


def _edge_data() -> dict[str, pl.DataFrame]:
    """Hand-made people beside the simulated business (as of 2025-01-01):

    - L1: listed, nothing else: suspect.
    - L2: listed, one contact, no order: prospect.
    - L3: a contact, then three orders on one day: first-time customer (one purchase day).
    - L4: orders on two days, one product line: repeat customer.
    - L5: orders on two days in two product lines within a year: client.
    - L6: four orders on four days, never four within 365 days, one line: repeat customer.
    - L7: client, then a referral: advocate.
    - L8: a referral 2023-01-01, client from 2024-06-01 (referral still in the 730 days):
      advocate on the day of becoming a client.
    - L9: a referral 2021-01-01, client from 2024-06-01 (referral out of the window):
      client.
    - L10: listed in 2023, orders only after 2025-01-01: suspect.
    - L11: orders but no row in the customers table: on the timeline from the orders.
    - L12: acquired after 2025-01-01 but ordered before: on the timeline from the order.
    - L13: not listed, ordered only after 2025-01-01: not on the timeline.
    """
    cust = ["L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9", "L10", "L12"]
    acq = [D(2023, 1, 1)] * 10 + [D(2025, 3, 1)]
    o = [("L3", D(2024, 5, 1, 9), "A"), ("L3", D(2024, 5, 1, 12), "A"),
         ("L3", D(2024, 5, 1, 18), "A"),
         ("L4", D(2024, 2, 1), "A"), ("L4", D(2024, 9, 1), "A"),
         ("L5", D(2024, 2, 1), "A"), ("L5", D(2024, 9, 1), "B"),
         ("L6", D(2022, 1, 1), "A"), ("L6", D(2022, 12, 1), "A"), ("L6", D(2023, 11, 1), "A"),
         ("L6", D(2024, 10, 1), "A"),
         ("L7", D(2023, 3, 1), "A"), ("L7", D(2023, 4, 1), "B"),
         ("L8", D(2024, 5, 1), "A"), ("L8", D(2024, 6, 1), "B"),
         ("L9", D(2024, 5, 1), "A"), ("L9", D(2024, 6, 1), "B"),
         ("L10", D(2025, 2, 1), "A"), ("L10", D(2025, 3, 1), "B"),
         ("L11", D(2024, 1, 5), "A"),
         ("L12", D(2024, 12, 24), "A"),
         ("L13", D(2025, 1, 1, 0, 0, 1), "A")]
    return {
        "customers": pl.DataFrame({"customer_id": cust, "acquired_at": acq},
                                  schema_overrides={"acquired_at": TS}),
        "orders": pl.DataFrame({"order_id": [f"Y{i}" for i in range(len(o))],
                                "customer_id": [r[0] for r in o],
                                "ordered_at": [r[1] for r in o],
                                "amount": [10.0] * len(o),
                                "product_line": [r[2] for r in o]},
                               schema_overrides={"ordered_at": TS}),
        "contacts": pl.DataFrame({"customer_id": ["L2", "L3"],
                                  "contacted_at": [D(2024, 3, 1), D(2024, 4, 1)]},
                                 schema_overrides={"contacted_at": TS}),
        "referrals": pl.DataFrame({"referrer_id": ["L7", "L8", "L9"],
                                   "referred_id": ["X1", "X2", "X3"],
                                   "referred_at": [D(2024, 1, 1), D(2023, 1, 1),
                                                   D(2021, 1, 1)]},
                                  schema_overrides={"referred_at": TS}),
    }


@pytest.fixture(scope="module")
def data() -> CRMData:
    sim = make_crm(150, years=2, seed=7)
    edge = _edge_data()
    frames = {}
    for name, frame in edge.items():
        frames[name] = pl.concat([getattr(sim, name).select(frame.columns), frame])
    return CRMData(**frames)


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request, data):
    """(backend name, {table name: ibis.Table}) in a fresh engine."""
    if request.param == "postgres":
        con = request.getfixturevalue("postgres_con")
    else:
        con = getattr(ibis, request.param).connect()
    tables = {t: con.create_table(f"ladder_{t}", getattr(data, t), overwrite=True)
              for t in TABLES}
    return request.param, tables


def _reference(data: CRMData, ladder: Ladder, as_of) -> pl.DataFrame:
    """The polars ladder's stage per customer, written from the funnel's public API."""
    st = assign_stages(data, ladder, as_of=as_of)
    return (st.filter(pl.col("customer_id").is_not_null())
            .select("customer_id", pl.col("stage").cast(pl.String), "stage_rank")
            .sort("customer_id"))


@pytest.mark.parametrize("as_of", ["2025-01-01", "2023-03-15 12:00"])
def test_ladder_stages_equal_the_polars_ladder(engine, data, as_of):
    _, tables = engine
    want = _reference(data, OFFLINE, as_of)
    got = ladder_stages(tables, as_of=as_of, keep_ids=True)
    assert got.columns == want.columns
    assert got.dtypes == want.dtypes
    assert got.rows() == want.rows()
    counts = ladder_counts(tables, as_of=as_of)
    assert counts.equals(OFFLINE.evaluate(data, as_of=as_of).stage_counts())
    # the dispatcher's polars route is the reference itself
    assert ladder_stages(data, as_of=as_of).equals(want)


def test_edge_people_by_hand(engine):
    _, tables = engine
    got = dict(ladder_stages(tables, as_of="2025-01-01", keep_ids=True)
               .select("customer_id", "stage").rows())
    expected = {"L1": "suspect", "L2": "prospect", "L3": "first_time_customer",
                "L4": "repeat_customer", "L5": "client", "L6": "repeat_customer",
                "L7": "advocate", "L8": "advocate", "L9": "client", "L10": "suspect",
                "L11": "first_time_customer", "L12": "first_time_customer"}
    assert {k: got.get(k) for k in expected} == expected
    assert "L13" not in got
    # a day before L5's second line, L5 has bought on one day only
    early = dict(ladder_stages(tables, as_of="2024-08-31", keep_ids=True)
                 .select("customer_id", "stage").rows())
    assert (early["L5"], early["L8"], early["L3"]) == ("first_time_customer", "advocate",
                                                       "first_time_customer")


@pytest.mark.parametrize("missing", [("referrals",), ("contacts", "referrals")])
def test_missing_tables_shorten_the_ladder_as_the_report_does(engine, data, missing):
    """Without referrals the ladder ends at client; without contacts there is no
    prospect and the suspect rule is 'listed, no order' (written out here by hand)."""
    _, tables = engine
    some = {k: v for k, v in tables.items() if k not in missing}
    if "contacts" in missing:
        ladder = Ladder([
            Stage("suspect", Count("customers") & ~Count("orders")),
            Stage("first_time_customer", Count("orders")),
            Stage("repeat_customer", Count("orders", at_least=2, distinct="day")),
            OFFLINE.stage("client")], name="offline")
    else:
        ladder = OFFLINE.without("advocate")
    reduced = data.replace(**{m: None for m in missing})
    want = _reference(reduced, ladder, "2025-01-01")
    got = ladder_stages(some, as_of="2025-01-01", keep_ids=True)
    assert got.rows() == want.rows()
    assert ladder_counts(some, as_of="2025-01-01").equals(
        ladder.evaluate(reduced, as_of="2025-01-01").stage_counts())
    assert ladder_stages(reduced, as_of="2025-01-01").equals(want)


def test_pseudonyms_or_refusal(engine, data):
    name, tables = engine
    if name in ("sqlite", "polars"):
        with pytest.raises(ValueError, match="no SHA-256 function"):
            ladder_stages(tables, as_of="2025-01-01", salt="s3cret")
        return
    got = ladder_stages(tables, as_of="2025-01-01", salt="s3cret")
    want = _reference(data, OFFLINE, "2025-01-01")
    want = want.with_columns(hash_series(want["customer_id"], "s3cret")).sort("customer_id")
    assert got.rows() == want.rows()
    assert hashlib.sha256(b"s3cret\x1fL7").hexdigest()[:16] in set(got["customer_id"])
    with pytest.raises(ValueError, match="pass salt=.*or keep_ids=True"):
        ladder_stages(tables, as_of="2025-01-01")


def test_rules_the_engine_cannot_run_are_refused(data):
    con = ibis.duckdb.connect()
    tables = {t: con.create_table(t, getattr(data, t)) for t in TABLES}
    with pytest.raises(ValueError, match="stage 'surfer'.*anonymous web sessions.*"
                                         r"ladder.without\('surfer'\)"):
        ladder_stages({**tables, "web_sessions": con.create_table(
            "ws", pl.DataFrame({"customer_id": ["a"], "visitor_id": ["v"],
                                "started_at": [D(2024, 1, 1)]}))}, ONLINE, keep_ids=True)
    phone = Ladder([Stage("listed", Count("customers")),
                    Stage("called", Count("contacts", where=pl.col("channel") == "phone"))])
    with pytest.raises(ValueError, match="stage 'called'.*where=.*filter the table in the "
                                         "database"):
        ladder_counts(tables, phone)
    with pytest.raises(ValueError, match="needs a 'orders' table"):
        ladder_counts({"customers": tables["customers"]})
    with pytest.raises(ValueError, match="unknown table name"):
        ladder_counts({**tables, "order": tables["orders"]})
    with pytest.raises(TypeError, match="expected a CRMData or a mapping"):
        ladder_counts(data.orders)
    with pytest.raises(TypeError, match="expected a Ladder"):
        ladder_counts(tables, "offline")
    with pytest.raises(ValueError, match="as_of=2000-01-01 is before all data.*pass an as_of "
                                         "on or after it"):
        ladder_stages(tables, as_of="2000-01-01", keep_ids=True)
    with pytest.raises(ValueError, match="is before all data"):  # as the polars ladder
        ladder_stages(data, as_of="2000-01-01")


def test_ladder_to_sql_compiles_with_windows():
    sql = to_sql("ladder", dialect="snowflake", as_of="2024-12-31", salt="s3cret")
    assert "SHA2(" in sql and "OVER (" in sql.upper()
