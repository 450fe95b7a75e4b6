"""Mapping files: parsing, and the draft written by `loyaltylab init-mapping`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import loyaltylab as ll
from loyaltylab.data.mapping import draft_mapping, read_mapping

EURO = Path(__file__).parent / "fixtures" / "euro_shop"


def test_fixture_mapping_parses():
    m = read_mapping(EURO / "mapping.toml")
    orders = m.table("orders")
    assert orders.source == ["Bestellungen.csv"]
    assert orders.columns["amount"] == "Betrag (EUR)"
    assert orders.formats["ordered_at"].timezone == "Europe/Berlin"
    assert m.defaults.decimal == "," and m.defaults.dayfirst is True
    assert m.table("contacts").values["direction"] == {"Eingehend": "inbound",
                                                       "Ausgehend": "outbound"}
    assert m.table("customers").encoding == "cp1252"


def test_draft_matches_files_columns_and_formats():
    text = draft_mapping(EURO)
    m = read_mapping(tomllib.loads(text))
    assert m.table("customers").source == ["Kunden.csv"]
    assert m.table("orders").source == ["Bestellungen.csv"]
    assert m.table("contacts").source == ["Kontakte.csv"]
    assert m.table("orders").columns == {
        "order_id": "BestellNr", "customer_id": "KundenNr", "ordered_at": "Bestelldatum",
        "amount": "Betrag (EUR)", "product_line": "Sparte"}
    assert m.table("contacts").columns["contacted_at"] == "Zeitpunkt"
    assert m.table("orders").delimiter == ";"
    assert m.table("orders").table_format.decimal == ","
    assert m.table("orders").table_format.date_format == "%d.%m.%Y %H:%M"
    assert m.table("customers").encoding == "cp1252"
    assert m.table("contacts").values["direction"] == {"Ausgehend": "outbound",
                                                       "Eingehend": "inbound"}
    # guesses are flagged for the user, personal columns are announced
    assert "CHECK" in text
    assert "personal data, dropped on load: ['Name', 'E-Mail']" in text
    assert '# "Unbekannt" = "inbound" or "outbound"?' in text


def test_draft_loads_like_the_hand_written_mapping(tmp_path):
    draft = tmp_path / "draft.toml"
    draft.write_text(draft_mapping(EURO), encoding="utf-8")
    by_draft = ll.load(EURO, mapping=draft, as_of="2025-12-31").report.to_dict()
    by_hand = ll.load(EURO, mapping=EURO / "mapping.toml", as_of="2025-12-31").report.to_dict()
    assert by_draft == by_hand


def test_draft_for_canonical_files_needs_no_checks():
    text = draft_mapping(EURO.parent / "clean")
    m = read_mapping(tomllib.loads(text))
    assert m.table("orders").columns["amount"] == "amount"
    orders_block = text.split("[tables.orders.columns]")[1].split("[tables.")[0]
    assert "CHECK" not in orders_block


def test_draft_reports_a_missing_required_table(tmp_path):
    (tmp_path / "stuff.csv").write_text("x,y\n1,2\n")
    text = draft_mapping(tmp_path)
    assert "REQUIRED table 'customers' not found" in text
    assert "Not matched to any table (ignored unless you map them): ['stuff.csv']" in text
