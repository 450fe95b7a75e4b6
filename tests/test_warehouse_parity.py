"""Summaries inside a database engine (loyaltylab.warehouse, through Ibis) equal the polars
reference on the same data: DuckDB, SQLite and Ibis' Polars backend."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

ibis = pytest.importorskip(
    "ibis", reason="Ibis is not installed: pip install 'loyaltylab[warehouse]' (part of "
                   ".[dev]) to run the engine parity tests")

from loyaltylab.churn import churn_table  # noqa: E402
from loyaltylab.clv import rfm_summary as rfm_reference  # noqa: E402
from loyaltylab.data.crmdata import CRMData  # noqa: E402
from loyaltylab.data.privacy import hash_series  # noqa: E402
from loyaltylab.datasets import make_crm  # noqa: E402
from loyaltylab.metrics import cohort_retention as cohort_reference  # noqa: E402
from loyaltylab.warehouse import (CHURN_BASE_COLUMNS, churn_base, cohort_retention,  # noqa: E402
                                  rfm_summary, to_sql)

BACKENDS = ["duckdb", "sqlite", "polars", "postgres"]
HASHING = {"duckdb", "postgres"}
"""Backends that compute SHA-256 in the engine; the others refuse a salt."""
TS = pl.Datetime("us")


def _pg_bin() -> Path | None:
    """Folder of PostgreSQL's initdb and pg_ctl (Debian keeps them off the PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((d for d in dirs if (d / "initdb").exists()), None)


@contextmanager
def postgres_url() -> Iterator[str]:
    """The address of a PostgreSQL server: LOYALTYLAB_PG_URL when set, else a throw-away
    server in a temporary folder (unix socket only), started with Debian's postgresql
    package (.ci/run installs it); the test is skipped, saying why, only when neither is
    there."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install "
                                          "'loyaltylab[postgres]')")
    url = os.environ.get("LOYALTYLAB_PG_URL")
    if url:
        yield url
        return
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server: install Debian's postgresql package (.ci/run "
                    "does) or set LOYALTYLAB_PG_URL to run the Postgres parity tests")
    root = Path(tempfile.mkdtemp(prefix="loyaltylab-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data_dir, port = root / "data", 54000 + (os.getpid() * 7 + len(str(root))) % 1000

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)

    init = run(str(bin_dir / "initdb"), "-D", str(data_dir), "-A", "trust", "-U",
               "loyaltylab", "--no-sync")
    start = run(str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-w", "-l",
                str(root / "log"), "-o", f"-p {port} -k {root} -c listen_addresses=''",
                "start") if init.returncode == 0 else init
    if start.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL server: {start.stderr.strip()[-300:]}")
    try:
        # the socket folder as host: Ibis passes the query's host on to the driver
        yield f"postgresql://loyaltylab@localhost:{port}/postgres?host={root}"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_con():
    """An Ibis connection to PostgreSQL (see :func:`postgres_url`)."""
    with postgres_url() as url:
        yield ibis.connect(url)


def _edge_data() -> CRMData:
    """Hand-made edge cases beside the simulated business:

    - E1: three orders on one day (different times) and one a week later;
    - E2: a single order;
    - E3: orders after 2025-01-01 only (after the observation end used below);
    - E4: first order in the holdout period (after the calibration end);
    - E5: in the customers table without any order;
    - E6: orders on the last day and a 180-day window ending exactly on 2025-01-01;
    - E7: an order with milliseconds in its time, one day before another.
    """
    rows = [
        ("E1", datetime(2024, 3, 4, 9, 0), 10.0), ("E1", datetime(2024, 3, 4, 12, 30), 5.5),
        ("E1", datetime(2024, 3, 4, 23, 59, 59), 1.25), ("E1", datetime(2024, 3, 11), 20.0),
        ("E2", datetime(2023, 6, 1, 15, 0), 42.0),
        ("E3", datetime(2025, 1, 2), 9.0), ("E3", datetime(2025, 2, 1), 9.0),
        ("E4", datetime(2024, 10, 5), 7.0), ("E4", datetime(2024, 11, 5), 8.0),
        ("E6", datetime(2024, 7, 5), 3.0), ("E6", datetime(2025, 1, 1), 4.0),
        ("E7", datetime(2024, 5, 1, 8, 0, 0, 250_000), 2.0), ("E7", datetime(2024, 5, 2), 2.0),
    ]
    orders = pl.DataFrame({"order_id": [f"X{i}" for i in range(len(rows))],
                           "customer_id": [r[0] for r in rows],
                           "ordered_at": [r[1] for r in rows], "amount": [r[2] for r in rows]},
                          schema_overrides={"ordered_at": TS})
    customers = pl.DataFrame({"customer_id": ["E1", "E2", "E3", "E4", "E5", "E6", "E7"],
                              "acquired_at": [datetime(2023, 1, 1)] * 7,
                              # E2 has no segment: its attribute comes back null
                              "segment": ["price", None, "price", "convenience", "price",
                                          "relationship", "convenience"],
                              "acquisition_channel": ["web"] * 4 + ["ads"] * 3},
                             schema_overrides={"acquired_at": TS})
    return CRMData(customers=customers, orders=orders)


@pytest.fixture(scope="module")
def data() -> CRMData:
    sim = make_crm(400, years=2, seed=11)
    edge = _edge_data()
    cols = ["order_id", "customer_id", "ordered_at", "amount"]
    orders = pl.concat([sim.orders.select(cols), edge.orders.select(cols)])
    customers = pl.concat([sim.customers.select("customer_id", "acquired_at", "segment",
                                                "acquisition_channel"),
                           edge.customers])
    return CRMData(customers=customers, orders=orders)


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request, data):
    """(backend name, orders table, customers table) in a fresh in-memory engine."""
    if request.param == "postgres":
        con = request.getfixturevalue("postgres_con")
    else:
        con = getattr(ibis, request.param).connect()
    orders = con.create_table("orders", data.orders, overwrite=True)
    customers = con.create_table("customers", data.customers, overwrite=True)
    return request.param, orders, customers


def assert_frames_match(got: pl.DataFrame, want: pl.DataFrame) -> None:
    """Same columns, rows and dtypes; integers and times equal, floats within 1e-9
    relative (1e-12 absolute near zero)."""
    assert got.columns == want.columns
    assert got.height == want.height
    assert got.get_column("customer_id").to_list() == want.get_column("customer_id").to_list()
    for c in want.columns:
        g, w = got.get_column(c), want.get_column(c)
        assert g.dtype == w.dtype, (c, g.dtype, w.dtype)
        if w.dtype.is_float():
            for a, b in zip(g.to_list(), w.to_list()):
                assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (c, a, b)
        else:
            assert g.to_list() == w.to_list(), c


# ---------------------------------------------------------------------------- rfm

RFM_CASES = {
    "default": {},
    "observation end before the last orders": {"observation_end": "2025-01-01"},
    "calibration split": {"calibration_end": "2024-09-30", "observation_end": "2025-01-01"},
    "weeks as purchase periods, days as unit": {"purchase_period": "W", "time_unit": "D",
                                               "calibration_end": "2024-06-30"},
    "months, no amounts": {"purchase_period": "M", "time_unit": "M", "monetary": False},
    "years": {"purchase_period": "Y", "time_unit": 30.0},
}


@pytest.mark.parametrize("case", list(RFM_CASES))
def test_rfm_summary_equals_polars(engine, data, case):
    name, orders, _ = engine
    options = RFM_CASES[case]
    want = rfm_reference(data.orders, **options)
    got = rfm_summary(orders, keep_ids=True, **options)
    assert_frames_match(got, want)


def test_rfm_edge_customers_by_hand(engine):
    """The edge customers, computed by hand (weeks, calibration end 2024-09-30,
    observation end 2025-01-01)."""
    _, orders, _ = engine
    got = rfm_summary(orders, keep_ids=True, calibration_end="2024-09-30",
                      observation_end="2025-01-01")
    rows = {r["customer_id"]: r for r in got.iter_rows(named=True)}
    # E1: 2024-03-04 (three orders, 16.75) and 2024-03-11 (20.0): one repeat purchase one
    # week after the first; T = 2024-03-04 -> 2024-09-30 = 210 days = 30 weeks
    e1 = rows["E1"]
    assert (e1["frequency"], e1["recency"], e1["T"], e1["monetary_value"]) == (1, 1.0, 30.0,
                                                                              20.0)
    assert (e1["frequency_holdout"], e1["monetary_value_holdout"]) == (0, 0.0)
    assert e1["duration_holdout"] == pytest.approx(93 / 7)  # 2024-09-30 -> 2025-01-01
    # E2: one order on 2023-06-01: T = 487 days
    assert (rows["E2"]["frequency"], rows["E2"]["T"]) == (0, pytest.approx(487 / 7))
    # E3 ordered only after the observation end, E4 only in the holdout, E5 never
    assert not {"E3", "E4", "E5"} & set(rows)
    # E6: first order 2024-07-05, its 2025-01-01 order is in the holdout
    assert (rows["E6"]["frequency_holdout"], rows["E6"]["monetary_value_holdout"]) == (1, 4.0)
    # E7: two calendar days in a row count as two purchases
    assert (rows["E7"]["frequency"], rows["E7"]["recency"]) == (1, pytest.approx(1 / 7))


def test_rfm_pseudonyms_equal_the_loaders(engine, data):
    """With a salt, DuckDB gives the pseudonyms of loyaltylab.data.privacy (sha256 of
    salt, unit separator and id, first 16 hex digits); SQLite and Ibis' Polars backend have
    no SHA-256 and refuse instead of bringing the raw ids out."""
    name, orders, _ = engine
    if name not in HASHING:
        with pytest.raises(ValueError, match="no SHA-256 function.*will not bring the raw "
                                             "ids out"):
            rfm_summary(orders, salt="s3cret")
        return
    got = rfm_summary(orders, salt="s3cret")
    want = rfm_reference(data.orders)
    want = want.with_columns(hash_series(want.get_column("customer_id"), "s3cret")
                             .alias("customer_id")).sort("customer_id")
    assert_frames_match(got, want)
    # and the pseudonym of one id, written out with hashlib
    e1 = rfm_summary(orders.filter(orders.customer_id == "E1"), salt="s3cret")
    assert e1["customer_id"].to_list() == [
        hashlib.sha256(b"s3cret\x1fE1").hexdigest()[:16]]
    # the dispatcher gives the same on polars frames
    assert_frames_match(rfm_summary(data.orders, salt="s3cret"), want)


def test_rfm_refuses_raw_ids_without_a_salt(engine):
    _, orders, _ = engine
    with pytest.raises(ValueError, match="pass salt=.*or keep_ids=True"):
        rfm_summary(orders)


def test_rfm_errors_match_the_reference(engine):
    _, orders, _ = engine
    with pytest.raises(ValueError, match="is after observation_end"):
        rfm_summary(orders, keep_ids=True, calibration_end="2025-01-01",
                    observation_end="2024-01-01")
    with pytest.raises(ValueError, match="is before the first order"):
        rfm_summary(orders, keep_ids=True, observation_end="2000-01-01")
    with pytest.raises(ValueError, match="missing column"):
        rfm_summary(orders.drop("amount"), keep_ids=True)
    with pytest.raises(ValueError, match="time_unit"):
        rfm_summary(orders, keep_ids=True, time_unit="fortnight")


def test_rfm_refuses_text_dates(engine):
    name, orders, _ = engine
    text = orders.mutate(ordered_at=orders.ordered_at.cast("string"))
    with pytest.raises(TypeError, match="expected dates or timestamps in the engine"):
        rfm_summary(text, keep_ids=True)


# ---------------------------------------------------------------------------- churn

@pytest.mark.parametrize("as_of,inactivity", [("2025-01-01", "180d"), ("2024-06-30", "90d"),
                                              (None, "180d")])
def test_churn_base_equals_churn_table(engine, data, as_of, inactivity):
    name, orders, customers = engine
    ref = churn_table(data, as_of=as_of, inactivity=inactivity,
                      orders_before_acquisition="report")
    got = churn_base(orders, customers, as_of=as_of, inactivity=inactivity, keep_ids=True)
    want = ref.select(CHURN_BASE_COLUMNS)
    assert_frames_match(got.frame, want)
    rep = ref.report
    assert got.as_of == rep.as_of
    assert (got.n_orders_after_as_of, got.n_not_started, got.n_without_orders,
            got.n_unknown_customers) == (rep.n_orders_after_as_of, rep.n_not_started,
                                         rep.n_without_orders, rep.n_unknown_customers)
    # the polars route of the dispatcher is the reference itself
    assert_frames_match(churn_base(data, as_of=as_of, inactivity=inactivity).frame, want)


def test_churn_edge_customers_by_hand(engine):
    """as_of 2025-01-01, window 180 days (the rule of churn_table's worked example)."""
    _, orders, customers = engine
    base = churn_base(orders, customers, as_of="2025-01-01", keep_ids=True)
    rows = {r["customer_id"]: r for r in base.frame.iter_rows(named=True)}
    # E6: last order on as_of, so censored at as_of: 2024-07-05 -> 2025-01-01 = 180 days
    assert (rows["E6"]["event"], rows["E6"]["duration"]) == (0, 180.0)
    # E2: one order 2023-06-01 15:00, churned 180 days later: duration exactly 180 days
    assert (rows["E2"]["event"], rows["E2"]["duration"], rows["E2"]["n_orders"]) == (1, 180.0, 1)
    # E1: first 09:00, last 2024-03-11 00:00 + 180 d: 6 days 15 hours + 180 days
    assert rows["E1"]["duration"] == pytest.approx(186 + 15 / 24, rel=1e-12)
    assert (rows["E1"]["n_orders"], rows["E1"]["orders_90d"]) == (4, 4)
    # E7: 250 ms after 08:00 to midnight next day, then 180 days
    assert rows["E7"]["duration"] == pytest.approx(180 + (16 * 3600 - 0.25) / 86400, rel=1e-12)
    assert "E3" not in rows and "E5" not in rows
    assert base.n_orders_after_as_of >= 2  # E3's two orders at least
    assert base.n_without_orders >= 1  # E5


def test_churn_base_brings_the_customers_attributes(engine, data):
    """The covariates a Cox model and a retention chart by segment need come back with the
    per-customer rows, joined inside the engine, equal to churn_table's columns as text."""
    _, orders, customers = engine
    attrs = ["segment", "acquisition_channel"]
    ref = churn_table(data, as_of="2025-01-01", orders_before_acquisition="report")
    want = ref.select(*CHURN_BASE_COLUMNS, *[pl.col(a).cast(pl.String) for a in attrs])
    got = churn_base(orders, customers, as_of="2025-01-01", keep_ids=True, attributes=attrs)
    assert_frames_match(got.frame, want)
    assert_frames_match(churn_base(data, as_of="2025-01-01", attributes=attrs).frame, want)
    rows = {r["customer_id"]: r for r in got.frame.iter_rows(named=True)}
    assert (rows["E2"]["segment"], rows["E2"]["acquisition_channel"]) == (None, "web")
    assert (rows["E6"]["segment"], rows["E6"]["acquisition_channel"]) == ("relationship",
                                                                          "ads")
    with pytest.raises(ValueError, match="pass it as customers="):
        churn_base(orders, as_of="2025-01-01", keep_ids=True, attributes=attrs)
    with pytest.raises(ValueError, match="computes itself"):
        churn_base(orders, customers, keep_ids=True, attributes=["duration"])
    with pytest.raises(ValueError, match="region"):
        churn_base(data, attributes=["region"])


def test_churn_base_refuses_as_of_before_the_first_order(engine):
    _, orders, _ = engine
    with pytest.raises(ValueError, match="lies before the first order"):
        churn_base(orders, as_of="2000-01-01", keep_ids=True)


def test_churn_pseudonyms(engine, data):
    name, orders, customers = engine
    if name not in HASHING:
        with pytest.raises(ValueError, match="no SHA-256"):
            churn_base(orders, customers, as_of="2025-01-01", salt="s3cret")
        return
    got = churn_base(orders, customers, as_of="2025-01-01", salt="s3cret").frame
    want = churn_base(data, as_of="2025-01-01", salt="s3cret").frame
    assert_frames_match(got, want)
    assert not set(got["customer_id"]) & set(data.customers["customer_id"])


# ---------------------------------------------------------------------------- cohorts

@pytest.mark.parametrize("period", ["week", "month", "quarter", "year"])
def test_cohort_retention_equals_polars(engine, data, period):
    _, orders, _ = engine
    got = cohort_retention(orders, period=period)
    want = cohort_reference(data.orders, period=period)
    assert got.columns == want.columns and got.height == want.height
    assert got.drop("rate").equals(want.drop("rate"))
    for a, b in zip(got["rate"], want["rate"]):
        assert math.isclose(a, b, rel_tol=1e-9)


# ---------------------------------------------------------------------------- SQL

def test_to_sql_compiles_for_the_warehouses():
    """The salted hash compiles to each warehouse's own SHA-256 function."""
    expected = {"snowflake": "SHA2(", "bigquery": "TO_HEX(SHA256(",
                "trino": "TO_HEX(SHA256(TO_UTF8(", "databricks": "SHA2(",
                "postgres": "ENCODE(SHA256(CONVERT_TO(", "duckdb": "SHA256("}
    for dialect, fn in expected.items():
        sql = to_sql("rfm", dialect=dialect, observation_end="2024-12-31",
                     calibration_end="2024-06-30", salt="s3cret")
        assert fn in sql.upper(), (dialect, sql)
        assert "GROUP BY" in sql.upper()
    with pytest.raises(ValueError, match="no SHA-256"):
        to_sql("rfm", dialect="sqlite", observation_end="2024-12-31", salt="s3cret")
    with pytest.raises(ValueError, match="pass observation_end"):
        to_sql("rfm", dialect="snowflake", salt="s3cret")


def test_to_sql_duckdb_runs_and_equals_the_summary(data):
    """The SQL text handed to a database team gives the same rows when run."""
    con = ibis.duckdb.connect()
    orders = con.create_table("orders", data.orders)
    sql = to_sql("rfm", dialect="duckdb", orders=orders, observation_end="2025-01-01",
                 calibration_end="2024-09-30", keep_ids=True)
    # run as plain SQL on DuckDB's own connection (Ibis 12's con.sql needs a DuckDB
    # method that DuckDB 2.0 no longer has)
    got = con.con.sql(sql).pl().sort("customer_id")
    want = rfm_reference(data.orders, observation_end="2025-01-01",
                         calibration_end="2024-09-30")
    assert_frames_match(got, want)


def test_import_loyaltylab_does_not_import_ibis():
    import subprocess
    import sys
    code = ("import sys, loyaltylab, loyaltylab.warehouse; "
            "print('ibis' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------- snapshots

SNAPSHOTS = Path(__file__).parent / "snapshots" / "warehouse"
SNAPSHOT_OPTIONS = {
    "rfm": {"observation_end": "2024-12-31", "calibration_end": "2024-06-30",
            "salt": "s3cret"},
    "churn": {"as_of": "2024-12-31", "salt": "s3cret"},
    "cohorts": {"period": "month"},
    "ladder": {"as_of": "2024-12-31", "salt": "s3cret"},
    "ladder_counts": {"as_of": "2024-12-31"},
    "periods": {"as_of": "2024-12-31", "period": "quarter"},
}


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "trino", "databricks"])
@pytest.mark.parametrize("summary", list(SNAPSHOT_OPTIONS))
def test_compiled_sql_matches_snapshot(summary, dialect):
    """The SQL each warehouse would run, as committed in tests/snapshots/warehouse (a change
    of Ibis or sqlglot that changes it shows here; LOYALTYLAB_UPDATE_SNAPSHOTS=1 rewrites
    the files after review)."""
    sql = to_sql(summary, dialect=dialect, **SNAPSHOT_OPTIONS[summary]) + "\n"
    path = SNAPSHOTS / f"{summary}-{dialect}.sql"
    if os.environ.get("LOYALTYLAB_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with LOYALTYLAB_UPDATE_SNAPSHOTS=1"
    assert sql == path.read_text(encoding="utf-8")
    # the customer id leaves the query only through the warehouse's own SHA-256
    if "salt" in SNAPSHOT_OPTIONS[summary]:
        fn = {"snowflake": "SHA2(", "bigquery": "TO_HEX(SHA256(",
              "trino": "TO_HEX(SHA256(TO_UTF8(", "databricks": "SHA2("}[dialect]
        assert fn in sql


# ---------------------------------------------------------------------------- errors

def test_every_refusal_says_what_to_do(data, monkeypatch):
    con = ibis.duckdb.connect()
    orders = con.create_table("orders", data.orders)
    empty = con.create_table("empty", data.orders.head(0))
    with pytest.raises(ValueError, match="salt: expected a non-empty text"):
        rfm_summary(orders, salt="")
    with pytest.raises(ValueError, match="the table is empty"):
        rfm_summary(empty, keep_ids=True)
    with pytest.raises(ValueError, match="the orders table is empty.*pass as_of"):
        churn_base(empty, keep_ids=True)
    with pytest.raises(TypeError, match="expected an ibis.Table or a CRMData"):
        churn_base(data.orders)
    with pytest.raises(TypeError, match="customers: expected an ibis.Table in the same engine"):
        churn_base(orders, data.customers, keep_ids=True)
    with pytest.raises(ValueError, match="period: expected 'week', 'month'"):
        cohort_retention(orders, period="fortnight")
    with pytest.raises(ValueError, match="purchase_period: expected one of"):
        rfm_summary(orders, keep_ids=True, purchase_period="Q")
    with pytest.raises(ValueError, match="summary: expected one of"):
        to_sql("funnel", dialect="duckdb")
    with pytest.raises(TypeError, match="unexpected option"):
        to_sql("cohorts", dialect="duckdb", colour="blue")
    with pytest.raises(ValueError, match="pass as_of"):
        to_sql("churn", dialect="duckdb", keep_ids=True)
    # without Ibis installed, the one line that says how to get it
    from loyaltylab.warehouse import _engine
    monkeypatch.setitem(__import__("sys").modules, "ibis", None)
    with pytest.raises(ImportError, match=r"pip install 'loyaltylab\[warehouse\]'"):
        _engine.ibis_module()
