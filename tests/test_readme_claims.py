"""What the README says the loader detects on its own, and what needs the mapping, holds.

Each test builds a tiny export the way a tool writes it (bytes on disk, a real workbook)
and checks one sentence of the README section "Reading a client's export". Fast: no
generated corpus, a few rows per file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import loyaltylab as ll
from loyaltylab.data.privacy import is_personal
from loyaltylab.exceptions import SchemaError, SourceError

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
AS_OF = "2026-01-01"


def _export(folder: Path, orders: bytes, customers: bytes | None = None) -> Path:
    folder.mkdir()
    (folder / "customers.csv").write_bytes(
        customers or b"customer_id;acquired_at\n0012;2025-01-02\nC2;2025-01-03\n")
    (folder / "orders.csv").write_bytes(orders)
    return folder


def test_the_readme_section_exists():
    assert "### Reading a client's export" in README
    assert "load as they are" not in README  # the outdated promise is gone


def test_the_report_section_shows_the_pictures_the_tests_make():
    section = README.split("## What the report looks like", 1)[1].split("\n## ", 1)[0]
    images = re.findall(r"!\[[^\]]+\]\((docs/images/[\w-]+\.png)\)", section)
    assert images == ["docs/images/report-first-page.png", "docs/images/deck-slide-summary.png",
                      "docs/images/deck-slide-finding.png"]
    for image in images:
        assert (ROOT / image).stat().st_size > 5_000, image  # a picture, not a placeholder
    tests = (ROOT / "tests" / "test_report_browser.py").read_text(encoding="utf-8") + (
        ROOT / "tests" / "test_report_deck.py").read_text(encoding="utf-8")
    for name in ("report-first-page.png", "deck-slide-summary.png", "deck-slide-finding.png"):
        assert name in tests  # written by a test, so it shows what the code makes
    assert "LOYALTYLAB_UPDATE_SCREENSHOTS" in tests and "LOYALTYLAB_WRITE_DOCS_IMAGES" in tests


def test_presets_listed_in_the_readme_are_the_shipped_ones():
    shipped = {p.stem for p in (ROOT / "loyaltylab" / "data" / "presets").glob("*.toml")}
    section = README.split("Presets:", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([a-z_]+)`", section))
    assert listed == shipped


def test_title_lines_cr_only_line_endings_and_a_totals_row(tmp_path):
    orders = (b"Sales report 2025;;;\rExported 2026-01-01;;;\r"
              b"order_id;customer_id;ordered_at;amount\r"
              b"O1;0012;2025-02-01;10,50\rO2;C2;2025-02-02;1.234,50\r"
              b"Total;;;1.245,00\r")
    data = ll.load(_export(tmp_path / "x", orders), as_of=AS_OF)
    report = data.report.tables["orders"]
    assert (report.read, report.kept) == (3, 2)
    assert any("totals row" in reason for reason in report.reasons)
    assert sorted(data.orders["amount"].to_list()) == [10.5, 1234.5]
    notes = " ".join(report.warnings)
    assert "CR only" in notes and "header found on line 3" in notes


def test_a_stray_cp1252_line_is_decoded_alone(tmp_path):
    orders = ("order_id;customer_id;ordered_at;amount;product_line\n"
              "O1;0012;2025-02-01;10,50;Möbel\n").encode() + \
             "O2;C2;2025-02-02;3,00;Küche\n".encode("cp1252")
    data = ll.load(_export(tmp_path / "x", orders), as_of=AS_OF)
    assert data.orders["product_line"].to_list() == ["Möbel", "Küche"]


@pytest.mark.parametrize("sep", [b",", b";"])
def test_ambiguous_numbers_stop_and_say_which_lines_to_write(tmp_path, sep):
    orders = (b"order_id,customer_id,ordered_at,amount\nO1,0012,2025-02-01,1.500\n"
              b"O2,C2,2025-02-02,2.300\n").replace(b",", sep)
    customers = b"customer_id,acquired_at\n0012,2025-01-02\nC2,2025-01-03\n".replace(b",", sep)
    with pytest.raises(SchemaError, match=r'decimal = "," thousands = "\."'):
        ll.load(_export(tmp_path / "x", orders, customers), as_of=AS_OF)
    fixed = {"tables": {"orders": {"decimal": ",", "thousands": "."}}}
    data = ll.load(tmp_path / "x", mapping=fixed, as_of=AS_OF)
    assert sorted(data.orders["amount"].to_list()) == [1500.0, 2300.0]


def test_ambiguous_dates_read_day_first_with_a_note_and_dayfirst_false_turns_them(tmp_path):
    orders = b"order_id;customer_id;ordered_at;amount\nO1;0012;03/04/2025;1\nO2;C2;05/06/2025;2\n"
    data = ll.load(_export(tmp_path / "x", orders), as_of=AS_OF)
    assert data.orders["ordered_at"].dt.month().to_list() == [4, 6]
    assert "dayfirst = false" in " ".join(data.report.tables["orders"].warnings)
    us = ll.load(tmp_path / "x", mapping={"defaults": {"dayfirst": False}}, as_of=AS_OF)
    assert us.orders["ordered_at"].dt.month().to_list() == [3, 5]


def test_ids_match_across_unicode_forms_and_invisible_spaces_and_keep_leading_zeros(tmp_path):
    customers = "customer_id;acquired_at\n0012;2025-01-02\nKÖ-7;2025-01-03\n".encode()
    orders = ("order_id;customer_id;ordered_at;amount\n"
              "O1;0012\u00a0;2025-02-01;1\nO2;\u200b0012;2025-02-02;1\n"
              "O3;KO\u0308-7;2025-02-03;1\n").encode()  # no-break, zero-width, NFD
    data = ll.load(_export(tmp_path / "x", orders, customers), as_of=AS_OF)
    assert data.report.tables["orders"].rejected == 0
    assert sorted(set(data.orders["customer_id"])) == ["0012", "KÖ-7"]


def test_excel_mixed_cells_and_serial_dates(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "customers"
    ws.append(["customer_id", "acquired_at"])
    ws.append(["C1", 45000])           # a date stored as a plain number (serial day)
    ws.append(["C2", 45001])
    ws = wb.create_sheet("orders")
    ws.append(["order_id", "customer_id", "ordered_at", "amount"])
    ws.append(["O1", "C1", 45100, 1234.5])        # a number cell
    ws.append(["O2", "C2", 45101, "1 234,50"])     # a number typed as text
    wb.save(tmp_path / "crm.xlsx")
    data = ll.load(tmp_path / "crm.xlsx", as_of=AS_OF)
    assert str(data.customers["acquired_at"].min().date()) == "2023-03-15"  # 45000
    assert data.orders["amount"].to_list() == [1234.5, 1234.5]


@pytest.mark.parametrize("header", [
    "Email", "Vorname", "Téléphone", "Efternavn", "Gatuadress", "Fødselsdato",
    "Achternaam", "Teléfono", "Cognome", "Morada", "Nazwisko", "IBAN"])
def test_personal_headers_in_eleven_languages(header):
    # en, de, fr, da, sv, no, nl, es, it, pt, pl
    assert is_personal(header)


def test_personal_content_under_a_neutral_header_is_dropped_and_keep_personal_keeps_it(tmp_path):
    customers = (b"customer_id;acquired_at;Notes\n0012;2025-01-02;ann@example.org\n"
                 b"C2;2025-01-03;bob@example.org\n")
    orders = b"order_id;customer_id;ordered_at;amount\nO1;0012;2025-02-01;1\n"
    data = ll.load(_export(tmp_path / "x", orders, customers), as_of=AS_OF)
    assert "Notes" not in data.customers.columns
    assert "example.org" not in str(data.report)
    kept = ll.load(tmp_path / "x", as_of=AS_OF, keep_personal=["Notes"])
    assert "Notes" in kept.customers.columns


def test_rejects_files_are_safe_to_forward(tmp_path):
    customers = b"customer_id;acquired_at;E-Mail\n0012;2025-01-02;ann@example.org\n"
    orders = b"order_id;customer_id;ordered_at;amount;note\nO1;0012;2025-02-01;1;=1+1\n" \
             b"O2;0012;31.02.2025;1;=HYPERLINK(1)\n"
    data = ll.load(_export(tmp_path / "x", orders, customers), as_of=AS_OF,
                   pseudonymize=True, salt="s")
    (path,) = data.report.write_rejects(tmp_path / "rejects")
    text = path.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "0012" not in text and "example.org" not in text


def test_a_file_that_parses_to_no_rows_is_an_error_not_an_empty_table(tmp_path):
    html = b"<!DOCTYPE html><html><body>Session expired</body></html>\n" * 20
    with pytest.raises((SourceError, SchemaError)):
        ll.load(_export(tmp_path / "x", html), as_of=AS_OF)


def test_offsets_are_converted_to_utc_and_timezone_localises_plain_timestamps(tmp_path):
    orders = (b"order_id;customer_id;ordered_at;amount\n"
              b"O1;0012;2025-02-01 10:00:00+01:00;1\nO2;C2;2025-02-01 10:00:00+01:00;1\n")
    data = ll.load(_export(tmp_path / "x", orders), as_of=AS_OF)
    assert {t.hour for t in data.orders["ordered_at"]} == {9}
    plain = orders.replace(b"+01:00", b"")
    berlin = {"defaults": {"timezone": "Europe/Berlin"}}
    data = ll.load(_export(tmp_path / "y", plain), mapping=berlin, as_of=AS_OF)
    assert {t.hour for t in data.orders["ordered_at"]} == {9}


@pytest.mark.parametrize("label", ["Summe", "Totalt"])
def test_totals_rows_in_other_languages(tmp_path, label):
    orders = (f"order_id;customer_id;ordered_at;amount\nO1;0012;2025-02-01;1\n"
              f"O2;C2;2025-02-02;2\n{label};;;3\n").encode()
    data = ll.load(_export(tmp_path / "x", orders), as_of=AS_OF)
    assert data.orders.height == 2
    assert any("totals row" in r for r in data.report.tables["orders"].reasons)
