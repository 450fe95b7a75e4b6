"""The scorecard's counts per period computed inside a database engine
(loyaltylab.warehouse.period_counts, through Ibis) equal the polars reference on DuckDB,
SQLite, Ibis' Polars backend and PostgreSQL; the reference equals the metrics the
scorecard calls and a hand count."""

from __future__ import annotations

import math
from datetime import datetime

import polars as pl
import pytest

ibis = pytest.importorskip(
    "ibis", reason="Ibis is not installed: pip install 'loyaltylab[warehouse]' (part of "
                   ".[dev]) to run the engine parity tests")

from test_warehouse_parity import postgres_con  # noqa: E402,F401  (the shared server)

from loyaltylab.data.crmdata import CRMData  # noqa: E402
from loyaltylab.datasets import make_crm  # noqa: E402
from loyaltylab.metrics import (defection_rate, purchase_frequency,  # noqa: E402
                                revenue_per_customer, scorecard)
from loyaltylab.warehouse import PERIOD_COUNT_COLUMNS, period_counts, to_sql  # noqa: E402

BACKENDS = ["duckdb", "sqlite", "polars", "postgres"]
TS = pl.Datetime("us")


@pytest.fixture(scope="module")
def data() -> CRMData:
    sim = make_crm(200, years=3, seed=5)
    # beside the simulation: an order after 2025-06-30 12:00 (cut below), two orders of
    # one customer at the same moment, and a customer back after a missed year
    extra = pl.DataFrame({"order_id": ["Z1", "Z2", "Z3", "Z4", "Z5"],
                          "customer_id": ["P1", "P1", "P2", "P2", "P1"],
                          "ordered_at": [datetime(2023, 2, 1), datetime(2023, 2, 1),
                                         datetime(2023, 3, 1), datetime(2025, 3, 1),
                                         datetime(2025, 6, 30, 12, 0, 1)],
                          "amount": [1.5, 2.25, 4.0, 8.0, 16.0]},
                         schema_overrides={"ordered_at": TS})
    cols = extra.columns
    return CRMData(customers=sim.customers, orders=pl.concat([sim.orders.select(cols), extra]))


@pytest.fixture(scope="module", params=BACKENDS)
def orders(request, data):
    if request.param == "postgres":
        con = request.getfixturevalue("postgres_con")
    else:
        con = getattr(ibis, request.param).connect()
    return con.create_table("periods_orders", data.orders, overwrite=True)


def _match(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.columns == want.columns == PERIOD_COUNT_COLUMNS
    assert got.dtypes == want.dtypes
    assert got.drop("revenue").rows() == want.drop("revenue").rows()
    for a, b in zip(got["revenue"], want["revenue"]):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("period,as_of", [("year", None), ("quarter", "2025-06-30 12:00"),
                                          ("month", "2024-12-31")])
def test_period_counts_equal_polars(orders, data, period, as_of):
    want = period_counts(data, period=period, as_of=as_of)
    got = period_counts(orders, period=period,
                        as_of=as_of if as_of is not None else data.orders["ordered_at"].max())
    _match(got, want)


def test_reference_equals_the_scorecards_metrics(data):
    """buyers and revenue are revenue_per_customer's n and revenue, orders is
    purchase_frequency's, at_risk and lost are defection_rate's denominator and
    numerator (method 'orders'), new buyers the scorecard's row."""
    got = period_counts(data, period="quarter", as_of="2025-06-30 12:00")
    rpc = revenue_per_customer(data, period="quarter", as_of="2025-06-30 12:00")
    pf = purchase_frequency(data, period="quarter", as_of="2025-06-30 12:00")
    dr = defection_rate(data, period="quarter", as_of="2025-06-30 12:00", method="orders")
    j = (got.join(rpc.select("period_start", "n", pl.col("revenue").alias("rpc_revenue")),
                  on="period_start")
         .join(pf.select("period_start", pl.col("orders").alias("pf_orders")),
               on="period_start"))
    assert j.height == rpc.height > 4
    assert j["buyers"].to_list() == j["n"].to_list()
    assert j["orders"].to_list() == j["pf_orders"].to_list()
    for a, b in zip(j["revenue"], j["rpc_revenue"]):
        assert math.isclose(a, b, rel_tol=1e-12)
    d = got.join(dr.select("period_start", "numerator", "denominator"), on="period_start")
    assert d.height == dr.filter(pl.col("period_start") <= got["period_start"].max()).height
    assert d["lost"].to_list() == d["numerator"].to_list()
    assert d["at_risk"].to_list() == d["denominator"].to_list()
    sc = scorecard(data, period="year", as_of="2026-01-01")
    new = sc.filter(pl.col("metric") == "New buyers").row(0, named=True)
    years = period_counts(data, period="year", as_of="2026-01-01")
    by_start = dict(zip(years["period_start"], years["new_buyers"]))
    assert (by_start[new["previous_period"]], by_start[new["current_period"]]) == (
        new["previous"], new["current"])


def test_hand_count(orders):
    """P1 and P2 alone, by year, cut at 2025-06-30 12:00 (P1's last order is after it)."""
    sub = orders.filter(orders.customer_id.isin(["P1", "P2"]))
    got = period_counts(sub, period="year", as_of="2025-06-30 12:00")
    # 2023: P1 twice at one moment (3.75), P2 once (4.0); 2024: nobody, both lost;
    # 2025 (incomplete): P2 again (8.0), a repeat buyer; at risk: nobody bought in 2024
    assert got.select("buyers", "new_buyers", "repeat_buyers", "orders", "at_risk",
                      "lost").rows() == [(2, 2, 0, 3, 0, 0), (0, 0, 0, 0, 2, 2),
                                         (1, 0, 1, 1, 0, 0)]
    assert got["revenue"].to_list() == [7.75, 0.0, 8.0]
    assert got["complete"].to_list() == [True, True, False]


def test_errors():
    con = ibis.duckdb.connect()
    empty = con.create_table("e", pl.DataFrame(
        {"customer_id": [], "ordered_at": [], "amount": []},
        schema={"customer_id": pl.String, "ordered_at": TS, "amount": pl.Float64}))
    with pytest.raises(ValueError, match="period: expected 'month', 'quarter' or 'year'"):
        period_counts(empty, period="week")
    with pytest.raises(ValueError, match="orders table is empty.*pass as_of"):
        period_counts(empty)
    assert period_counts(empty, as_of="2025-01-01").height == 0
    with pytest.raises(ValueError, match="missing column"):
        period_counts(empty.drop("amount"), as_of="2025-01-01")
    with pytest.raises(TypeError, match="expected an ibis.Table, a CRMData or a polars"):
        period_counts([1, 2])
    sql = to_sql("periods", dialect="bigquery", as_of="2025-01-01", period="quarter")
    assert "GROUP BY" in sql.upper() and "customer_id" in sql
