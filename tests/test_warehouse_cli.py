"""`loyaltylab report duckdb://PATH --mapping m.toml`: a database named by URL, its tables
named by the mapping."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from loyaltylab.cli import SALT_ENV, main
from loyaltylab.data.load import load, source_path
from loyaltylab.datasets import make_crm
from loyaltylab.exceptions import SourceError

MAPPING = """
[tables.customers]
source = "kunden"

[tables.customers.columns]
customer_id = "KundenNr"
acquired_at = "Anlagedatum"

[tables.orders]
source = "bestellungen"

[tables.orders.columns]
order_id = "BestellNr"
customer_id = "KundenNr"
ordered_at = "Bestelldatum"
amount = "Betrag"
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> tuple[Path, Path, int]:
    """A DuckDB file with a client's own table and column names, and its mapping."""
    root = tmp_path_factory.mktemp("shop")
    data = make_crm(150, years=2, seed=5)
    kunden = data.customers.select(pl.col("customer_id").alias("KundenNr"),
                                   pl.col("acquired_at").alias("Anlagedatum"))
    bestellungen = data.orders.select(
        pl.col("order_id").alias("BestellNr"), pl.col("customer_id").alias("KundenNr"),
        pl.col("ordered_at").alias("Bestelldatum"), pl.col("amount").alias("Betrag"))
    path = root / "shop.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.register("k", kunden.to_arrow())
        con.register("b", bestellungen.to_arrow())
        con.execute("CREATE TABLE kunden AS SELECT * FROM k")
        con.execute("CREATE TABLE bestellungen AS SELECT * FROM b")
    finally:
        con.close()
    mapping = root / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return path, mapping, data.orders.height


def test_source_path_reads_file_urls_the_way_ibis_writes_them():
    assert source_path("duckdb:///data/shop.duckdb") == Path("/data/shop.duckdb")
    assert source_path("DUCKDB://shop.duckdb") == Path("shop.duckdb")
    assert source_path("sqlite:///tmp/crm.sqlite") == Path("/tmp/crm.sqlite")
    assert source_path("exports/orders.csv") == "exports/orders.csv"
    with pytest.raises(SourceError, match="not a postgresql server.*loyaltylab report "
                                          "postgresql.*loyaltylab.warehouse"):
        source_path("postgresql://analyst@db.example/crm")


def test_load_takes_the_url(shop):
    path, mapping, n_orders = shop
    data = load(f"duckdb://{path}", mapping=mapping)
    assert data.orders.height == n_orders


def test_validate_and_report_on_a_duckdb_url(shop, tmp_path, capsys, monkeypatch):
    path, mapping, n_orders = shop
    monkeypatch.setenv(SALT_ENV, "test-salt")
    url = f"duckdb://{path}"  # an absolute path: duckdb:///tmp/.../shop.duckdb
    assert url.startswith("duckdb:///")
    assert main(["validate", url, "--mapping", str(mapping)]) == 0
    out = tmp_path / "out"
    assert main(["report", url, "--mapping", str(mapping), "--out", str(out),
                 "--no-progress", "--charts", "none"]) == 0
    assert (out / "report.html").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"{n_orders:,}" in html  # every order of the database reached the report


def test_a_server_url_is_refused_in_one_line(tmp_path, capsys):
    code = main(["validate", "postgresql://analyst@db.example/crm"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "not a postgresql server" in err
    assert "`loyaltylab report postgresql://...` computes the report inside the server" in err
