"""ll.load on real-looking client exports: CSV folders (European formats), Excel, Parquet,
DuckDB and SQLite sources. Expected values are worked out by hand from the fixture files
(see the comments in tests/fixtures/build_fixtures.py)."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, UTC
from pathlib import Path

import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.data import schema as S

FIX = Path(__file__).parent / "fixtures"
EURO = FIX / "euro_shop"
CLEAN = FIX / "clean"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(text.encode(encoding))
    return p


CUSTOMERS_CSV = "customer_id,acquired_at\nC1,2025-01-01\nC2,2025-02-01\n"


# ------------------------------------------------------------------ clean data

def test_clean_folder_loads_every_row_with_canonical_types():
    data = ll.load(CLEAN, as_of="2025-01-01")
    assert data.report.ok
    assert data.customers.height == 4 and data.orders.height == 6
    assert data.orders.schema[S.ORDERED_AT] == pl.Datetime("us")
    assert data.orders.schema[S.AMOUNT] == pl.Float64
    assert data.orders.schema[S.ORDER_ID] == pl.String
    # 120 + 35.50 + 80 + 990 + 45.25 + 19.99, summed by hand
    assert data.orders[S.AMOUNT].sum() == pytest.approx(1290.74)
    assert data.orders[S.ORDERED_AT][1] == datetime(2024, 3, 1, 11, 30)
    assert data.as_of == datetime(2025, 1, 1)
    assert data.contacts is None
    assert data.report.tables["orders"].to_dict() == {
        "read": 6, "kept": 6, "rejected": 0, "reasons": {}}


# ------------------------------------------------------------------ the messy European export

@pytest.fixture(scope="module")
def euro():
    return ll.load(EURO, mapping=EURO / "mapping.toml", as_of="2025-12-31")


def test_euro_export_accounting(euro):
    t = euro.report.tables
    assert t["customers"].to_dict() == {
        "read": 7, "kept": 5, "rejected": 2,
        "reasons": {"acquired_at: unparseable date": 1, "customer_id: duplicate": 1}}
    assert t["orders"].to_dict() == {
        "read": 11, "kept": 4, "rejected": 7,
        "reasons": {"ordered_at: unparseable date": 1, "amount: unparseable number": 1,
                    "ordered_at: after as_of": 1, "amount: negative": 1,
                    "customer_id: unknown customer": 2, "order_id: duplicate": 1}}
    assert t["contacts"].to_dict() == {
        "read": 5, "kept": 4, "rejected": 1,
        "reasons": {"direction: not inbound/outbound": 1}}
    for tr in t.values():
        assert tr.read == tr.kept + tr.rejected == tr.kept + tr.rejects.height
        assert sum(tr.reasons.values()) == tr.rejected


def test_euro_export_values(euro):
    orders = euro.orders.sort(S.ORDER_ID)
    assert orders[S.ORDER_ID].to_list() == ["B1", "B2", "B3", "B8"]
    # decimal comma with thousands dot: 1.234,50 and 2.500,00
    assert orders[S.AMOUNT].to_list() == [1234.5, 89.9, 45.0, 2500.0]
    # 05.01.2025 10:15 Berlin (CET, UTC+1) is 09:15 UTC; 20.02.2025 16:40 -> 15:40
    assert orders[S.ORDERED_AT][0] == datetime(2025, 1, 5, 9, 15)
    assert orders[S.ORDERED_AT][1] == datetime(2025, 2, 20, 15, 40)
    # mixed offsets -> naive UTC: 09:00+01:00 = 08:00, 09:00+02:00 = 07:00, 08:30Z = 08:30
    times = euro.contacts.sort(S.CONTACTED_AT)[S.CONTACTED_AT].to_list()
    assert times[:3] == [datetime(2025, 1, 10, 8), datetime(2025, 1, 20, 8, 30),
                         datetime(2025, 3, 5, 13)]
    assert datetime(2025, 7, 10, 7) in times
    # value maps (client value -> canonical value), on latin-1 text read correctly
    kinds = dict(zip(euro.customers[S.CUSTOMER_ID], euro.customers[S.KIND]))
    assert kinds == {"K001": "consumer", "K002": "consumer", "K003": "business partner",
                     "K004": "distributor", "K006": "consumer"}
    assert euro.customers.filter(pl.col(S.CUSTOMER_ID) == "K001")[S.REGION][0] == "Süd"
    assert set(euro.contacts[S.DIRECTION]) == {"inbound", "outbound"}
    assert set(euro.contacts[S.CHANNEL]) == {"email", "phone"}


def test_euro_export_rejects_are_rows_as_read(euro):
    rej = euro.report.tables["orders"].rejects
    assert rej.columns[-2:] == ["_row", "_reason"]
    row = rej.filter(pl.col("_reason") == "amount: negative")
    assert row["_row"].to_list() == [3]
    assert row[S.AMOUNT].to_list() == ["-12,00"]          # as written in the file
    cust = euro.report.tables["customers"].rejects
    assert cust.filter(pl.col("_row") == 5)["_reason"][0] == "customer_id: duplicate"
    # the duplicate keeps the first K002 (acquired 15.01.2025)
    k2 = euro.customers.filter(pl.col(S.CUSTOMER_ID) == "K002")
    assert k2[S.ACQUIRED_AT].to_list() == [datetime(2025, 1, 15)]


def test_euro_export_report_text(euro):
    text = str(euro.report)
    assert "2 x customer_id: unknown customer  (rows 5, 10: 'K999', 'K005')" in text
    assert "read as cp1252" in text
    assert "dropped personal columns ['Name', 'E-Mail']" in text
    assert "Müller" not in text and "@" not in text


# ------------------------------------------------------------------ European formats, sniffed

def test_semicolons_decimal_commas_and_dayfirst_dates_are_sniffed(tmp_path):
    write(tmp_path, "customers.csv", "customer_id;acquired_at\nC1;22.11.2025\nC2;3.1.2025\n")
    write(tmp_path, "orders.csv", "order_id;customer_id;ordered_at;amount\n"
          "1;C1;22.11.2025 14:30;12,5\n2;C2;05.01.2025 08:00;1.234,56\n"
          "3;C2;06.01.2025 08:00;0,99\n")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.report.ok
    assert data.customers[S.ACQUIRED_AT].to_list() == [datetime(2025, 11, 22),
                                                       datetime(2025, 1, 3)]
    assert data.orders[S.AMOUNT].to_list() == [12.5, 1234.56, 0.99]
    assert data.orders[S.ORDERED_AT][0] == datetime(2025, 11, 22, 14, 30)


def test_ambiguous_slash_dates_read_dayfirst_with_a_note(tmp_path):
    write(tmp_path, "customers.csv", "customer_id,acquired_at\nC1,03/04/2025\nC2,05/06/2025\n")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n1,C1,2025-05-01,1\n")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.customers[S.ACQUIRED_AT][0] == datetime(2025, 4, 3)
    assert any("ambiguous" in w for w in data.report.tables["customers"].warnings)


def test_month_first_dates_recognised_when_unambiguous(tmp_path):
    write(tmp_path, "customers.csv", "customer_id,acquired_at\nC1,04/13/2025\nC2,03/04/2025\n")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n1,C1,2025-05-01,1\n")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.customers[S.ACQUIRED_AT].to_list() == [datetime(2025, 4, 13),
                                                       datetime(2025, 3, 4)]


def test_dayfirst_false_in_mapping(tmp_path):
    write(tmp_path, "customers.csv", "customer_id,acquired_at\nC1,03/04/2025\n")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n1,C1,2025-05-01,1\n")
    data = ll.load(tmp_path, as_of="2026-01-01",
                   mapping={"tables": {"customers": {"dayfirst": False}}})
    assert data.customers[S.ACQUIRED_AT][0] == datetime(2025, 3, 4)


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin1_files_decode(tmp_path, encoding):
    write(tmp_path, "customers.csv", "customer_id;acquired_at;region\nC1;01.02.2025;Süd\n"
          "C2;01.03.2025;Nordrhein-Westfalen\n", encoding=encoding)
    write(tmp_path, "orders.csv", "order_id;customer_id;ordered_at;amount\n1;C1;02.02.2025;5\n")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.customers[S.REGION].to_list() == ["Süd", "Nordrhein-Westfalen"]
    assert any("cp1252" in w for w in data.report.tables["customers"].warnings)


def test_latin1_mapped_encoding(tmp_path):
    write(tmp_path, "customers.csv", "customer_id,acquired_at,region\nC1,2025-01-01,Öland\n",
          encoding="latin-1")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n1,C1,2025-05-01,1\n")
    data = ll.load(tmp_path, as_of="2026-01-01", mapping={"defaults": {"encoding": "latin-1"}})
    assert data.customers[S.REGION][0] == "Öland"


def test_utf8_bom_header_is_recognised(tmp_path):
    (tmp_path / "customers.csv").write_bytes(b"\xef\xbb\xbf" + CUSTOMERS_CSV.encode())
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n1,C1,2025-05-01,1\n")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.customers.columns[0] == S.CUSTOMER_ID
    assert data.customers.height == 2


def test_utf16_excel_unicode_text(tmp_path):
    (tmp_path / "customers.csv").write_bytes(
        "customer_id\tacquired_at\nC1\t2025-01-01\n".encode("utf-16"))
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n1,C1,2025-05-01,1\n")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.customers[S.CUSTOMER_ID].to_list() == ["C1"]


def test_excel_serial_dates_in_text(tmp_path):
    # Excel serial 45000 = 2023-03-15 (1900 date system, day 0 = 1899-12-30);
    # 45000.5 is noon that day
    write(tmp_path, "customers.csv", "customer_id,acquired_at\nC1,45000\nC2,45000.5\n")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n1,C1,45001,1\n")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.customers[S.ACQUIRED_AT].to_list() == [datetime(2023, 3, 15),
                                                       datetime(2023, 3, 15, 12)]
    assert data.orders[S.ORDERED_AT][0] == datetime(2023, 3, 16)


def test_naive_times_in_a_mapped_timezone_become_utc(tmp_path):
    write(tmp_path, "customers.csv", "customer_id,acquired_at\nC1,2025-01-15 12:00\n"
          "C2,2025-07-15 12:00\n")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n1,C1,2025-05-01,1\n")
    data = ll.load(tmp_path, as_of="2026-01-01",
                   mapping={"defaults": {"timezone": "Europe/Berlin"}})
    # CET = UTC+1 in January, CEST = UTC+2 in July
    assert data.customers[S.ACQUIRED_AT].to_list() == [datetime(2025, 1, 15, 11),
                                                       datetime(2025, 7, 15, 10)]


def test_padded_values_are_stripped(tmp_path):
    write(tmp_path, "customers.csv", "customer_id,acquired_at\n C1 , 2025-01-01\nC2,2025-01-02\n")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n"
          "1,C1 ,2025-05-01, 10.5 \n2, C2,2025-05-02 ,3\n")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.report.ok
    assert data.orders[S.CUSTOMER_ID].to_list() == ["C1", "C2"]
    assert data.orders[S.AMOUNT].to_list() == [10.5, 3.0]


def test_padded_keys_and_references_are_stripped_everywhere(tmp_path):
    # keys are checked for padding up front; customer references are not (a padded
    # reference fails the unknown-customer rule and the table is validated again stripped)
    write(tmp_path, "customers.csv", "customer_id,acquired_at\nC1,2025-01-01\nC2,2025-01-02\n")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n"
          "3,C1,2025-05-01,1\n 3 ,C2,2025-05-02,2\n4, C2 ,2025-05-03,3\n")
    write(tmp_path, "referrals.csv", "referrer_id,referred_id,referred_at\n"
          "C1 ,\tC2,2025-03-01\n")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.orders[S.ORDER_ID].to_list() == ["3", "4"]
    assert data.orders[S.CUSTOMER_ID].to_list() == ["C1", "C2"]
    assert data.report.tables["orders"].reasons == {"order_id: duplicate": 1}
    assert data.referrals.row(0)[:2] == ("C1", "C2")
    assert data.report.tables["referrals"].rejected == 0


def test_thousands_comma_with_decimal_point(tmp_path):
    write(tmp_path, "customers.csv", CUSTOMERS_CSV)
    write(tmp_path, "orders.csv", 'order_id,customer_id,ordered_at,amount\n'
          '1,C1,2025-05-01,"1,234.50"\n2,C1,2025-05-02,"12,000.00"\n3,C2,2025-05-03,7.25\n')
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.orders[S.AMOUNT].to_list() == [1234.5, 12000.0, 7.25]


def test_sep_line_and_tab_files(tmp_path):
    write(tmp_path, "customers.csv", "sep=;\ncustomer_id;acquired_at\nC1;2025-01-01\n")
    write(tmp_path, "orders.tsv",
          "order_id\tcustomer_id\tordered_at\tamount\n1\tC1\t2025-05-01\t1\n")
    data = ll.load(tmp_path, as_of="2026-01-01")
    assert data.report.ok and data.orders.height == 1


# ------------------------------------------------------------------ other sources

def _frames():
    customers = pl.DataFrame({"customer_id": [1001, 1002, 1003],
                              "acquired_at": [date(2025, 1, 1), date(2025, 2, 1),
                                              date(2025, 3, 1)]})
    orders = pl.DataFrame({"order_id": [1, 2, 3, 4], "customer_id": [1001, 1001, 1002, 1009],
                           "ordered_at": [datetime(2025, 1, 2, 10), datetime(2025, 3, 1),
                                          datetime(2025, 2, 2), datetime(2025, 2, 3)],
                           "amount": [10.0, 20.0, 30.0, 40.0]})
    return customers, orders


def _check_typed(data):
    assert data.customers[S.CUSTOMER_ID].to_list() == ["1001", "1002", "1003"]
    assert data.orders[S.ORDER_ID].to_list() == ["1", "2", "3"]
    assert data.orders[S.ORDERED_AT][0] == datetime(2025, 1, 2, 10)
    assert data.report.tables["orders"].reasons == {"customer_id: unknown customer": 1}


def test_xlsx_workbook_with_one_sheet_per_table(tmp_path):
    customers, orders = _frames()
    path = tmp_path / "crm.xlsx"
    import xlsxwriter
    with xlsxwriter.Workbook(path) as wb:
        customers.write_excel(wb, worksheet="customers")
        orders.write_excel(wb, worksheet="orders")
    data = ll.load(path, as_of="2026-01-01")
    _check_typed(data)


def test_folder_of_xlsx_files(tmp_path):
    customers, orders = _frames()
    customers.write_excel(tmp_path / "customers.xlsx")
    orders.write_excel(tmp_path / "orders.xlsx")
    _check_typed(ll.load(tmp_path, as_of="2026-01-01"))


def test_xlsx_with_text_dates_and_mapped_sheet_names(tmp_path):
    path = tmp_path / "export.xlsx"
    import xlsxwriter
    with xlsxwriter.Workbook(path) as wb:
        pl.DataFrame({"Kunde": ["A", "B"], "Seit": ["22.11.2024", "01.12.2024"]}).write_excel(
            wb, worksheet="Kunden")
        pl.DataFrame({"Nr": ["1"], "Kunde": ["A"], "Datum": ["23.11.2024"],
                      "Betrag": ["9,90"]}).write_excel(wb, worksheet="Bestellungen")
    mapping = {"tables": {
        "customers": {"source": "Kunden", "columns": {"customer_id": "Kunde",
                                                      "acquired_at": "Seit"}},
        "orders": {"source": "Bestellungen", "columns": {
            "order_id": "Nr", "customer_id": "Kunde", "ordered_at": "Datum",
            "amount": "Betrag"}}}}
    data = ll.load(path, mapping=mapping, as_of="2026-01-01")
    assert data.customers[S.ACQUIRED_AT][0] == datetime(2024, 11, 22)
    assert data.orders[S.AMOUNT][0] == 9.9


def test_excel_serial_numbers_in_typed_cells(tmp_path):
    path = tmp_path / "crm.xlsx"
    import xlsxwriter
    with xlsxwriter.Workbook(path) as wb:
        pl.DataFrame({"customer_id": ["C1"], "acquired_at": [45000.0]}).write_excel(
            wb, worksheet="customers")
        pl.DataFrame({"order_id": ["1"], "customer_id": ["C1"], "ordered_at": [45001.25],
                      "amount": [5.0]}).write_excel(wb, worksheet="orders")
    data = ll.load(path, as_of="2026-01-01")
    assert data.customers[S.ACQUIRED_AT][0] == datetime(2023, 3, 15)
    assert data.orders[S.ORDERED_AT][0] == datetime(2023, 3, 16, 6)


def test_parquet_folder(tmp_path):
    customers, orders = _frames()
    customers.write_parquet(tmp_path / "customers.parquet")
    orders.write_parquet(tmp_path / "orders.parquet")
    _check_typed(ll.load(tmp_path, as_of="2026-01-01"))


def test_duckdb_database(tmp_path):
    import duckdb
    customers, orders = _frames()
    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.register("c", customers.to_arrow())
    con.register("o", orders.to_arrow())
    con.execute("create table customers as select * from c")
    con.execute("create table orders as select * from o")
    con.close()
    _check_typed(ll.load(path, as_of="2026-01-01"))


@pytest.mark.parametrize("suffix", [".sqlite", ".db"])
def test_sqlite_database(tmp_path, suffix):
    path = tmp_path / f"crm{suffix}"
    con = sqlite3.connect(path)
    con.execute("create table customers (customer_id integer, acquired_at text)")
    con.executemany("insert into customers values (?, ?)",
                    [(1001, "2025-01-01"), (1002, "2025-02-01"), (1003, "2025-03-01")])
    con.execute("create table orders (order_id integer, customer_id integer, "
                "ordered_at text, amount real)")
    con.executemany("insert into orders values (?, ?, ?, ?)",
                    [(1, 1001, "2025-01-02 10:00:00", 10.0), (2, 1001, "2025-03-01", 20.0),
                     (3, 1002, "2025-02-02", 30), (4, 1009, "2025-02-03", 40.0)])
    con.commit()
    con.close()
    _check_typed(ll.load(path, as_of="2026-01-01"))


def test_several_files_for_one_table_by_glob(tmp_path):
    write(tmp_path, "customers.csv", CUSTOMERS_CSV)
    write(tmp_path, "orders_2024.csv",
          "order_id,customer_id,ordered_at,amount\n1,C1,2024-05-01,1\n")
    write(tmp_path, "orders_2025.csv", "order_id,customer_id,ordered_at,amount\n2,C2,2025-05-01,2\n"
          "1,C1,2025-06-01,3\n")
    data = ll.load(tmp_path, as_of="2026-01-01",
                   mapping={"tables": {"orders": {"source": "orders_*.csv"}}})
    assert data.report.tables["orders"].to_dict() == {
        "read": 3, "kept": 2, "rejected": 1, "reasons": {"order_id: duplicate": 1}}


def test_unmapped_files_are_noted_and_tables_can_be_skipped(tmp_path):
    write(tmp_path, "customers.csv", CUSTOMERS_CSV)
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n1,C1,2025-05-01,1\n")
    write(tmp_path, "contacts.csv", "customer_id,contacted_at,channel\nC1,2025-05-01,email\n")
    write(tmp_path, "notes.csv", "a,b\n1,2\n")
    data = ll.load(tmp_path, as_of="2026-01-01",
                   mapping={"tables": {"contacts": {"skip": True}}})
    assert data.contacts is None
    assert any("notes.csv" in w for w in data.report.warnings)
    only = ll.load(tmp_path, as_of="2026-01-01", tables=["customers", "orders"])
    assert only.contacts is None
    both = ll.load(tmp_path, as_of="2026-01-01")
    assert both.contacts.height == 1


def test_sample_loads_through_load_with_every_row_kept():
    sample = ll.datasets.load_sample()
    assert Path(sample.report.source).name == "sample"
    assert sample.report.ok
    for name, tr in sample.report.tables.items():
        assert tr.read == tr.kept == sample.tables[name].height > 0


def test_as_of_none_checks_against_now(tmp_path):
    write(tmp_path, "customers.csv", CUSTOMERS_CSV)
    future = datetime.now(UTC).year + 5
    write(tmp_path, "orders.csv", f"order_id,customer_id,ordered_at,amount\n"
          f"1,C1,2025-05-01,1\n2,C1,{future}-01-01,1\n")
    data = ll.load(tmp_path)
    assert data.as_of is None
    assert data.report.tables["orders"].reasons == {"ordered_at: after as_of": 1}
    assert any("as_of not given" in w for w in data.report.warnings)
