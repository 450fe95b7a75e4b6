"""The readers on files written the way real tools write them: line endings, encodings
decided per line, stray quotes, files that are not CSV, damaged databases, title rows
above the header and totals rows below the data."""

from __future__ import annotations

import gzip
import os
import sqlite3
from pathlib import Path

import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab._util import safe_text
from loyaltylab.data import _io, _io_base, _io_text
from loyaltylab.data._header import find_header_row, is_totals_label
from loyaltylab.data._io import RawTable, db_tables, read_db_table, read_file, read_text
from loyaltylab.exceptions import SourceError

CUSTOMERS = "customer_id,acquired_at\nC1,2025-01-01\nC2,2025-02-01\n"


def put(folder: Path, name: str, data: bytes | str) -> Path:
    p = folder / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


def orders_lines(n: int, start: int = 1) -> list[str]:
    return [f"{i},C{1 + i % 2},2025-05-{1 + i % 28:02d},{i}.50" for i in range(start, start + n)]


# ------------------------------------------------------------------ line endings

def test_cr_only_file_reads_every_row(tmp_path):
    # Excel for Mac "CSV (Macintosh)": CR line endings, cp1252 text
    body = "\r".join(["order_id;customer_id;ordered_at;amount"]
                     + [ln.replace(",", ";") for ln in orders_lines(5)]) + "\r"
    raw = read_text(put(tmp_path, "orders.csv", body.encode("cp1252")))
    assert raw.frame.height == 5
    assert raw.frame["order_id"].to_list() == ["1", "2", "3", "4", "5"]
    assert raw.frame["amount"][-1] == "5.50"  # no CR left in the last field
    assert "line endings: CR only (classic Mac)" in raw.notes


def test_mixed_line_endings_read_every_row(tmp_path):
    lines = ["order_id,customer_id,ordered_at,amount"] + orders_lines(6)
    body = (lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r" + lines[3] + "\r\n"
            + lines[4] + "\r" + lines[5] + "\n" + lines[6] + "\r")
    raw = read_text(put(tmp_path, "orders.csv", body))
    assert raw.frame["order_id"].to_list() == ["1", "2", "3", "4", "5", "6"]
    assert raw.frame["amount"].to_list() == [f"{i}.50" for i in range(1, 7)]
    assert any("mixed line endings" in n for n in raw.notes)


def test_cr_only_lines_beyond_the_sniffed_head_are_found(tmp_path):
    # LF for the first 100 KB (what the sniffer sees), then a block glued on with CR only
    head = "\n".join(["order_id,customer_id,ordered_at,amount"] + orders_lines(3000)) + "\n"
    assert len(head) > 65536
    tail = "\r".join(orders_lines(40, start=3001)) + "\r"
    raw = read_text(put(tmp_path, "orders.csv", head + tail))
    assert raw.frame.height == 3040
    assert raw.frame["order_id"][-1] == "3040"
    assert not raw.frame["amount"].str.contains("\r").any()


def test_cr_cr_lf_line_endings_are_one_break(tmp_path):
    body = "\r\r\n".join(["order_id,customer_id,ordered_at,amount"] + orders_lines(3))
    raw = read_text(put(tmp_path, "orders.csv", body + "\r\r\n"))
    assert raw.frame["order_id"].to_list() == ["1", "2", "3"]
    assert raw.notes == ["line endings: CR CR LF (converted twice) read as one line break"]


def test_cr_only_file_loads_through_ll_load(tmp_path):
    put(tmp_path, "customers.csv", CUSTOMERS.replace("\n", "\r"))
    put(tmp_path, "orders.csv", "\r".join(["order_id,customer_id,ordered_at,amount"]
                                          + orders_lines(4)) + "\r")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.customers.height == 2 and data.orders.height == 4


def test_rows_the_parse_cannot_account_for_are_an_error():
    # the guard itself: lines after the header but no rows
    frame = pl.DataFrame({"a": [], "b": []}, schema={"a": pl.String, "b": pl.String})
    assert _io._suspicious(frame, 100, ["a,b", "1,2", "3,4"], 0, ",", [0, 1, 2])
    with pytest.raises(SourceError, match=r"x\.csv: the file has 2 lines after the header "
                       r"but only 0 rows could be read"):
        _io._check_lost_rows("x.csv", frame, "a,b\n1,2\n3,4\n", ",", '"', 0)


# ------------------------------------------------------------------ encodings

def test_a_few_cp1252_lines_in_a_utf8_file_leave_the_rest_exact(tmp_path):
    good = "C{i},2025-01-01,Zoë Łódź Müller {i}"
    lines = ["customer_id,acquired_at,region"]
    for i in range(1, 4001):  # ~150 KB: one bad line in the head, one far beyond it
        lines.append(good.format(i=i))
    data = "\n".join(lines).encode("utf-8") + b"\n"
    data = data.replace("C7,2025-01-01,Zoë Łódź Müller 7".encode(),
                        "C7,2025-01-01,Gärtnerei Süd".encode("cp1252"))
    data = data.replace("C3500,2025-01-01,Zoë Łódź Müller 3500".encode(),
                        "C3500,2025-01-01,Café Größe".encode("cp1252"))
    raw = read_text(put(tmp_path, "customers.csv", data))
    region = raw.frame["region"]
    assert raw.frame.height == 4000
    assert region[6] == "Gärtnerei Süd" and region[3499] == "Café Größe"
    others = region.filter(~raw.frame["customer_id"].is_in(["C7", "C3500"]))
    assert others.str.starts_with("Zoë Łódź Müller ").all()  # untouched UTF-8
    assert any("not valid UTF-8 on 2 lines (lines 8, 3501 of the file)" in n
               for n in raw.notes)


def test_whole_file_cp1252_reads_as_cp1252(tmp_path):
    text = "customer_id;acquired_at;region\nC1;01.02.2025;Süd – Nord\nC2;01.03.2025;Öst\n"
    raw = read_text(put(tmp_path, "customers.csv", text.encode("cp1252")))
    assert raw.frame["region"].to_list() == ["Süd – Nord", "Öst"]
    assert raw.notes[0] == ("not valid UTF-8: read as cp1252 (Windows Western); lines 2, 3 "
                            "hold its non-ASCII characters")
    # thousands of lines: the note does not list them
    big = text + "".join(f"C{i};01.03.2025;Göteborg\n" for i in range(3, 1200))
    raw = read_text(put(tmp_path, "customers.csv", big.encode("cp1252")))
    assert raw.frame["region"][-1] == "Göteborg"
    assert raw.notes[0] == "not valid UTF-8: read as cp1252 (Windows Western)"


def test_clean_utf8_file_has_no_encoding_note(tmp_path):
    raw = read_text(put(tmp_path, "c.csv", "customer_id,region\nC1,Zoë\n"))
    assert raw.notes == [] and raw.frame["region"][0] == "Zoë"


def test_mapped_utf8_decodes_a_stray_line_per_line(tmp_path):
    # the mapping says utf-8, rightly: one line saved by another tool stays readable and
    # the others are not re-decoded (encoding = "cp1252" would garble "Zoë")
    data = "customer_id,region\nC1,Zoë\nC2,Süd\n".encode().replace("Süd".encode(),
                                                                  "Süd".encode("latin-1"))
    raw = read_text(put(tmp_path, "c.csv", data), encoding="utf-8")
    assert raw.frame["region"].to_list() == ["Zoë", "Süd"]
    assert raw.notes == ["not valid UTF-8 on 1 line (line 3 of the file): that line read as "
                         "cp1252 (Windows Western), the rest as UTF-8; check it"]


@pytest.mark.parametrize("eol", ["\n", "\r", "\r\n"])
def test_mapped_utf8_on_a_cp1252_file_names_the_line(tmp_path, eol):
    data = eol.join(["customer_id,region", "C1,North", "C2,Süd", ""]).encode("cp1252")
    with pytest.raises(SourceError, match=r"c\.csv: the file is not valid utf-8 \(line 3\) "
                       r"and holds no UTF-8 text beyond ASCII; set the right encoding in the "
                       r"mapping file, e\.g\. encoding = \"cp1252\""):
        read_text(put(tmp_path, "c.csv", data), encoding="utf-8")


# ------------------------------------------------------------------ quotes

STRAY = ('order_id,customer_id,ordered_at,amount\n'
         '1,C1,2025-05-01,1.00\n'
         '2,"C2,2025-05-02,2.00\n'   # a stray opening quote ...
         '3,C1,2025-05-03,3.00\n'
         '4,C2,2025-05-04,4.00\n'
         '5,C1",2025-05-05,5.00\n'  # ... that a later stray quote closes
         '6,C2,2025-05-06,6.00\n')


def test_stray_quote_that_swallows_records_is_reported(tmp_path):
    p = put(tmp_path, "orders.csv", STRAY)
    with pytest.raises(SourceError, match=r"orders\.csv: a quote opened on line 3 is not "
                       r"closed where its field ends, so it swallows the records on lines "
                       r"4-6 into one field\. .*set quote = \"\" for this table"):
        read_text(p)


def test_unclosed_quote_is_reported_with_its_line(tmp_path):
    body = ("order_id,customer_id,ordered_at,amount\n1,C1,2025-05-01,1.00\n"
            '2,"C2,2025-05-02,2.00\n' + "\n".join(orders_lines(50, start=3)) + "\n")
    with pytest.raises(SourceError, match=r"orders\.csv: a quote opened on line 3 is not "
                       r"closed"):
        read_text(put(tmp_path, "orders.csv", body))


def test_quote_off_reads_the_stray_quote_literally(tmp_path):
    raw = read_text(put(tmp_path, "orders.csv", STRAY), quote=None)
    assert raw.frame.height == 6
    assert read_text(tmp_path / "orders.csv", quote="").frame.height == 6  # as in a mapping
    assert raw.frame["customer_id"].to_list()[:2] == ["C1", '"C2']


def test_real_multiline_fields_are_kept(tmp_path):
    body = ('customer_id,acquired_at,note\nC1,2025-01-01,"Line one\nline two, and more"\n'
            'C2,2025-02-01,plain\n')
    raw = read_text(put(tmp_path, "customers.csv", body))
    assert raw.frame["note"].to_list() == ["Line one\nline two, and more", "plain"]


def test_ragged_line_is_named(tmp_path):
    body = "a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n"
    with pytest.raises(SourceError, match=r"t\.csv: cannot read it as comma-delimited text "
                       r"\(line 3 has 4 fields but the header has 3\)"):
        read_text(put(tmp_path, "t.csv", body))


# ------------------------------------------------------------------ not CSV at all

@pytest.mark.parametrize("content, what", [
    (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head></html>",
     r"an HTML web page .*download the export again"),
    (b"\n  <html>\n<body>Session expired</body></html>", r"an HTML web page"),
    (b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
     r"XML \(perhaps an Excel 2003 XML spreadsheet\)"),
    (b'[{"order_id": 1, "amount": 2.5}]', r"JSON; export the table as CSV"),
    (b'{\n  "orders": []\n}', r"JSON"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", r"a PDF document"),
    (gzip.compress(b"order_id,amount\n1,2\n", mtime=0), r"a gzip-compressed file; unpack it"),
    (bytes(range(1, 32)) * 40, r"binary data"),
])
def test_files_that_are_not_csv(tmp_path, content, what):
    with pytest.raises(SourceError, match=r"orders\.csv: the name says a CSV text file, but "
                       r"the content is " + what):
        read_text(put(tmp_path, "orders.csv", content))


def test_bracketed_headers_are_still_csv(tmp_path):
    raw = read_text(put(tmp_path, "o.csv", "[Kunde];[Betrag]\nC1;1,50\n"))
    assert raw.frame.columns == ["[Kunde]", "[Betrag]"]


# ------------------------------------------------------------------ databases, parquet

def _sqlite_db(path: Path, n: int = 20000) -> Path:
    con = sqlite3.connect(path)
    con.execute("create table orders (order_id integer, note text)")
    con.executemany("insert into orders values (?, ?)", [(i, "x" * 50) for i in range(n)])
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize("name", ["crm #1.sqlite", "crm 100%.sqlite", "crm?.db",
                                  "crm%3F.sqlite", "a#b?c%20d.sqlite3"])
def test_sqlite_names_with_uri_characters_open_the_right_file(tmp_path, name):
    _sqlite_db(tmp_path / name, n=7)
    (tmp_path / "crm ").mkdir()  # what 'file:crm #1.sqlite' would be cut to
    kind, names = db_tables(tmp_path / name)
    assert (kind, names) == ("sqlite", ["orders"])
    raw = read_db_table(tmp_path / name, kind, "orders")
    assert raw.frame["order_id"].to_list() == list(range(7))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "crm "])  # nothing new


def test_truncated_sqlite_is_a_clean_error(tmp_path):
    data = _sqlite_db(tmp_path / "full.sqlite").read_bytes()
    put(tmp_path, "crm.sqlite", data[:len(data) // 2])
    with pytest.raises(SourceError, match=r"crm\.sqlite: the SQLite database is truncated "
                       r"\(it should hold [\d,]+ bytes, the file has [\d,]+\)"):
        db_tables(tmp_path / "crm.sqlite")


@pytest.mark.parametrize("where", [5000, 100])
def test_garbled_sqlite_is_a_clean_error(tmp_path, where):
    data = bytearray(_sqlite_db(tmp_path / "full.sqlite").read_bytes())
    data[where:where + 4000] = bytes((i * 37 + 11) % 256 for i in range(4000))
    p = put(tmp_path, "crm.sqlite", bytes(data))
    with pytest.raises(SourceError, match=r"crm\.sqlite.*(damaged|truncated|cannot)"):
        kind, names = db_tables(p)
        for n in names:
            read_db_table(p, kind, n)


def test_damaged_sqlite_through_load_exits_cleanly(tmp_path):
    full = _sqlite_db(tmp_path / "full.sqlite")
    con = sqlite3.connect(full)
    con.execute("create table customers (customer_id text, acquired_at text)")
    con.execute("insert into customers values ('C1', '2025-01-01')")
    con.commit()
    con.close()
    data = bytearray(full.read_bytes())
    data[5000:9000] = bytes(4000)
    p = put(tmp_path, "crm.sqlite", bytes(data))
    with pytest.raises(SourceError, match=r"crm\.sqlite"):
        ll.load(p)


def _duckdb_file(path: Path) -> bytes:
    import duckdb
    con = duckdb.connect(str(path))
    con.execute("create table orders as select range as order_id, repeat('x', 50) as note "
                "from range(200000)")
    con.close()
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_damaged_duckdb_is_a_clean_error(tmp_path, damage):
    data = bytearray(_duckdb_file(tmp_path / "full.duckdb"))
    if damage == "truncate":
        data = data[:len(data) // 2]
    else:
        data[300000:310000] = bytes((i * 37 + 11) % 256 for i in range(10000))
    p = put(tmp_path, "crm.duckdb", bytes(data))
    with pytest.raises(SourceError, match=r"crm\.duckdb: cannot open the DuckDB database "
                       r"\(.*\); it may be damaged"):
        kind, names = db_tables(p)
        for n in names:
            read_db_table(p, kind, n)


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_truncated_parquet_is_a_clean_error(tmp_path, cut):
    full = tmp_path / "full.parquet"
    pl.DataFrame({"order_id": range(50000), "note": ["x" * 20] * 50000}).write_parquet(full)
    data = full.read_bytes()
    p = put(tmp_path, "orders.parquet", data[:int(len(data) * cut)])
    with pytest.raises(SourceError, match=r"orders\.parquet: cannot read the Parquet file "
                       r"\(.*\); it is damaged or incomplete"):
        read_file(p)


def test_folder_named_like_a_file(tmp_path):
    (tmp_path / "orders.csv").mkdir()
    with pytest.raises(SourceError, match=r"orders\.csv: is a folder, not a file"):
        read_text(tmp_path / "orders.csv")
    (tmp_path / "crm.sqlite").mkdir()
    with pytest.raises(SourceError, match=r"crm\.sqlite: is a folder, not a file"):
        db_tables(tmp_path / "crm.sqlite")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads files whatever their permissions")
def test_unreadable_file(tmp_path):
    p = put(tmp_path, "orders.csv", "a,b\n1,2\n")
    p.chmod(0)
    try:
        with pytest.raises(SourceError, match=r"orders\.csv: cannot open the file "
                           r"\(permission denied\)"):
            read_text(p)
    finally:
        p.chmod(0o644)


# ------------------------------------------------------------------ control characters

def test_safe_text():
    assert safe_text("Betrag\x1b[31m (EUR)\x1b[0m") == "Betrag (EUR)"
    assert safe_text("a\nb\tc\u202ed\u200b") == "a\\nb\\tc\\u202ed\\u200b"
    assert safe_text("x" * 100) == "x" * 59 + "…"


def test_control_characters_in_headers_are_not_echoed(tmp_path):
    body = "order_id;\x1b[2J\x1b[31mcustomer\rid;amount\n1;C1;2\n"
    with pytest.raises(SourceError) as err:
        read_text(put(tmp_path, "orders.csv", body), delimiter=",", quote=None)
    msg = str(err.value)
    assert "\x1b" not in msg and "\r" not in msg and "read as a single column" in msg


def test_control_characters_in_file_names_are_not_echoed(tmp_path):
    p = put(tmp_path, "ord\x1b[31mers\n.csv", b"")
    with pytest.raises(SourceError) as err:
        read_text(p)
    assert "\x1b" not in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("ord")


# ------------------------------------------------------------------ title rows, footers

TITLED = ("Sales report;;;\r\n"
          "Exported 2026-03-01 by J. Smith, Stockholm;;;\r\n"
          ";;;\r\n"
          "order_id;customer_id;ordered_at;amount\r\n"
          "1;C1;2025-05-01;1,50\r\n"
          "2;C2;2025-05-02;2,50\r\n"
          "Total;;;4,00\r\n")


def test_title_rows_above_the_header_are_skipped_with_a_note(tmp_path):
    raw = read_text(put(tmp_path, "orders.csv", TITLED))
    assert raw.header_row == 3
    assert raw.frame.columns == ["order_id", "customer_id", "ordered_at", "amount"]
    assert raw.notes[0] == ("header found on line 4; the 3 lines above it (a title) were "
                            "skipped")
    # the totals row is not dropped by the reader: validation rejects it with a reason
    assert raw.frame["order_id"].to_list() == ["1", "2", "Total"]


def test_header_row_can_be_given(tmp_path):
    p = put(tmp_path, "orders.csv", TITLED)
    raw = read_file(p, header_row=3)
    assert raw.header_row == 3 and raw.frame.height == 3
    raw = read_text(p, header_row=1, delimiter=";")  # wrong, but the user's choice
    assert raw.frame.columns[0].startswith("Exported")
    with pytest.raises(SourceError, match=r"orders\.csv: header_row = 2 \(line 3\) is "
                       r"blank"):
        read_text(put(tmp_path, "orders.csv", TITLED.replace(";;;\r\n", "\r\n", 3)),
                  header_row=2)


def test_sep_line_and_title(tmp_path):
    body = "sep=;\nMonthly export, all stores\n\ncustomer_id;acquired_at\nC1;2025-01-01\n"
    raw = read_text(put(tmp_path, "c.csv", body))
    assert raw.header_row == 3 and raw.frame.rows() == [("C1", "2025-01-01")]


def test_no_title_means_the_first_line(tmp_path):
    raw = read_text(put(tmp_path, "c.csv", "customer_id,,region\nC1,x,north\nC2,y,south\n"))
    assert raw.header_row == 0 and raw.notes == []
    raw = read_text(put(tmp_path, "c.csv", "\n\ncustomer_id,region\nC1,north\n"))
    assert raw.header_row == 2 and raw.notes == []  # blank lines are not a title


def test_title_rows_load_through_ll_load(tmp_path):
    put(tmp_path, "customers.csv", "Customer list\n" + CUSTOMERS)
    put(tmp_path, "orders.csv", TITLED.replace("Total;;;4,00\r\n", ""))
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.orders["amount"].to_list() == [1.5, 2.5]
    assert data.customers.height == 2


def test_find_header_row_on_sheet_rows():
    rows = [["Umsatzbericht 2025", None, None, None], [None] * 4,
            ["Stand:", "01.03.2026", None, None],
            ["KundenNr", "Datum", "Betrag", "Filiale"],
            ["K1", "2025-01-02", 12.5, "Nord"], ["K2", "2025-01-03", 8, None],
            ["Summe", None, 20.5, None]]
    assert find_header_row(rows) == 3
    assert find_header_row([]) == 0
    assert find_header_row([[None], ["a", "b"], ["1", "2"]]) == 1
    assert find_header_row([["Report"], ["a", "b"]]) == 1  # a header without rows
    assert find_header_row([["Report"]]) == 0
    # data rows are never taken for the header
    assert find_header_row([["1", "2", "3"], ["4", "5", "6"]]) == 0
    # a header with an unnamed column stays the header
    assert find_header_row([["id", "", "amount"], ["C1", "x", "y"], ["C2", "z", "w"]]) == 0


@pytest.mark.parametrize("label", ["Total", "TOTAL:", "Summe", "Gesamt", "Gesamtsumme",
                                   "Totalt", "Totaal", "Totale", "Suma", "Razem", "I alt",
                                   "Grand total", "Sous-total", "Total 2025", "Ogółem"])
def test_totals_labels(label):
    assert is_totals_label(label)


@pytest.mark.parametrize("label", ["C1", "Totalbau GmbH", "Summer sale", "", None, "12",
                                   "Total customer value report for all stores"])
def test_not_totals_labels(label):
    assert not is_totals_label(label)


def test_raw_table_records_the_header_row():
    assert RawTable(name="t", frame=pl.DataFrame(), source="t").header_row == 0


def test_multiline_notes_with_delimiters_are_not_a_stray_quote(tmp_path):
    # an address over three lines whose middle line has as many commas as a record
    note = '"Hauptstr. 1\nHaus B, 2. OG, Zimmer 3\n12345 Berlin"'
    body = "customer_id,address,acquired_at\n" + "".join(
        f"C{i},{note},2025-01-01\n" for i in range(1, 200))
    raw = read_text(put(tmp_path, "customers.csv", body))
    assert raw.frame.height == 199
    assert raw.frame["address"][0] == "Hauptstr. 1\nHaus B, 2. OG, Zimmer 3\n12345 Berlin"


def test_stray_quote_in_a_tab_file(tmp_path):
    body = STRAY.replace(",", "\t")
    with pytest.raises(SourceError, match=r"orders\.csv: a quote opened on line 3"):
        read_text(put(tmp_path, "orders.csv", body))


def test_stray_quote_in_the_last_column(tmp_path):
    body = ('order_id;customer_id;note\n1;C1;ok\n2;C2;"oops\n3;C1;fine\n4;C2;fine\n'
            '5;C1;end"\n6;C2;ok\n')
    with pytest.raises(SourceError, match=r"orders\.csv: a quote opened on line 3 .* "
                       r"records on lines 4-6"):
        read_text(put(tmp_path, "orders.csv", body))


def test_duplicate_header_names_are_noted(tmp_path):
    raw = read_text(put(tmp_path, "o.csv", "Betrag,b,Betrag\n1,2,3\n"))
    assert raw.frame.row(0) == ("1", "2", "3")
    assert raw.notes == ["the header repeats column name 'Betrag'; the repeats are read as "
                         "'Betrag_duplicated_0' (rename them in the file to map them)"]


def test_html_page_through_ll_load(tmp_path):
    put(tmp_path, "customers.csv", CUSTOMERS)
    put(tmp_path, "orders.csv", "<!doctype html><html><body><h1>Login</h1></body></html>\n")
    with pytest.raises(SourceError, match=r"orders\.csv: .*an HTML web page"):
        ll.load(tmp_path)


# ------------------------------------------------------------------ property

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CELL = st.text(alphabet=st.sampled_from(list("abcXYZ019 .-/éüöÅßŁ€")), min_size=1,
                max_size=8).map(str.strip).filter(bool)


def _valid_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=30),
       eol=st.sampled_from(["\n", "\r\n", "\r", "mixed"]),
       sep=st.sampled_from([",", ";", "\t", "|"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
       title=st.booleans(), bad_line=st.integers(min_value=-1, max_value=29))
def test_any_export_reads_back_exactly(tmp_path, rows, eol, sep, encoding, title, bad_line):
    """Whatever the line endings, delimiter, encoding and title, the cells read back
    exactly; a cp1252 line in a UTF-8 file changes only that line's decoding."""
    header = ["kunde", "datum", "betrag"]
    if encoding == "cp1252":
        rows = [[c.replace("Ł", "L") for c in r] for r in rows]  # not in cp1252
    lines = ([f"Export{sep}{sep}", ""] if title else []) + [sep.join(header)] \
        + [sep.join(r) for r in rows]
    ends = [eol if eol != "mixed" else ["\n", "\r\n", "\r"][i % 3] for i in range(len(lines))]
    first = len(lines) - len(rows)
    bad = first + bad_line if encoding == "utf-8" and 0 <= bad_line < len(rows) else None
    if bad is not None and _valid_utf8(lines[bad].replace("Ł", "L").encode("cp1252")):
        bad = None  # cp1252 bytes that are also UTF-8 ("Å€"): nobody can tell them apart
    if bad is not None:  # one line saved by another tool, in cp1252
        lines[bad] = lines[bad].replace("Ł", "L")
        rows = [r if i != bad_line else [c.replace("Ł", "L") for c in r]
                for i, r in enumerate(rows)]
    data = b"".join((ln + e).encode("cp1252" if i == bad else encoding)
                    for i, (ln, e) in enumerate(zip(lines, ends)))
    if encoding in ("utf-16", "utf-8-sig"):  # one byte-order mark, at the start
        data = "".join(ln + e for ln, e in zip(lines, ends)).encode(encoding)
    expected = [tuple(r) for r in rows]
    p = tmp_path / "export.csv"
    p.write_bytes(data)
    raw = read_text(p)
    assert raw.frame.columns == header
    assert raw.frame.rows() == expected
    assert raw.header_row == (2 if title else 0)


@pytest.mark.parametrize("files", [
    {"orders.csv": STRAY.encode()},
    {"orders.csv": b"<!DOCTYPE html><html><body>502</body></html>"},
    {"orders.csv": b"%PDF-1.4\n"},
])
def test_validate_exits_2_with_one_plain_line(tmp_path, capsys, files):
    from loyaltylab.cli import main
    put(tmp_path, "customers.csv", CUSTOMERS)
    for name, data in files.items():
        put(tmp_path, name, data)
    assert main(["validate", str(tmp_path), "--as-of", "2026-01-01"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "orders.csv" in err and "Traceback" not in err


def test_cr_cr_lf_with_a_title(tmp_path):
    body = "\r\r\n".join(["Report", "", "order_id;amount", "1;2", "3;4"]) + "\r\r\n"
    raw = read_text(put(tmp_path, "o.csv", body))
    assert raw.header_row == 2 and raw.frame.rows() == [("1", "2"), ("3", "4")]


def test_permission_denied_is_a_clean_error(tmp_path, monkeypatch):
    # the same path as test_unreadable_file, which root cannot exercise: open() refuses
    p = put(tmp_path, "orders.csv", "a,b\n1,2\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_io_base, "open", refuse, raising=False)
    with pytest.raises(SourceError, match=r"orders\.csv: cannot open the file \(permission "
                       r"denied\); copy it"):
        read_text(p)


def test_many_multiline_addresses_stay_on_the_fast_path(tmp_path, monkeypatch):
    # legit quoted line breaks (with commas) in every row: read, no careful re-read
    note = '"Hauptstr. 1\nHaus B, 2. OG, Zimmer 3\n12345 Berlin"'
    body = "customer_id,address,acquired_at\n" + "".join(
        f"C{i},{note},2025-01-01\n" for i in range(1, 3000))
    p = put(tmp_path, "customers.csv", body)
    monkeypatch.setattr(_io_text, "_read_slow", None)  # calling it would fail the test
    assert read_text(p).frame.height == 2999


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_swallowed_records_expression_matches_the_python_rule(sep):
    fields = [("C2,2025-05-02,2.00\n3,C1,2025-05-03,3.00\n4,C2,2025-05-04,4.00\n5,C1", 1, 4),
              ("Hauptstr. 1\nHaus B, 2. OG, Zimmer 3\n12345 Berlin", 1, 3),
              ("oops\n3,C1,fine\n4,C2,fine\n5,C1,end", 2, 3),
              ("a,b\n1,2\n3,4\nz", 0, 2), ("a,b\n1,2\nz", 0, 2), ("one\ntwo", 1, 3)]
    for field, col, width in fields:
        field = field.replace(",", sep)
        got = pl.DataFrame({"x": [field]}).select(
            _io._swallows_expr("x", col, width, sep)).item()
        assert got == _io._swallows(field, sep, width, col), field


def test_swallowed_rows_found_only_by_polars_are_named_by_row():
    err = _io._diagnose("x.csv", "a,b\n1,2\n", ",", '"', 0, None, flagged=[4])
    assert str(err) == ('x.csv: data row 5 (counted from the header) holds whole records '
                        'inside one quoted field: a stray quote. Fix the quote in the file, '
                        'or, if its fields are never quoted, set quote = "" for this table '
                        'in the mapping file.')


def test_sqlite_with_a_hash_in_its_name_loads_its_rows(tmp_path):
    path = tmp_path / "Export #3 (100%).sqlite"
    con = sqlite3.connect(path)
    con.execute("create table customers (customer_id text, acquired_at text)")
    con.executemany("insert into customers values (?, ?)",
                    [("C1", "2025-01-01"), ("C2", "2025-02-01")])
    con.execute("create table orders (order_id int, customer_id text, ordered_at text, "
                "amount real)")
    con.executemany("insert into orders values (?, ?, ?, ?)",
                    [(1, "C1", "2025-05-01", 1.5), (2, "C2", "2025-05-02", 2.5)])
    con.commit()
    con.close()
    data = ll.load(path, as_of="2026-01-01")
    assert data.orders.height == 2 and data.customers.height == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
