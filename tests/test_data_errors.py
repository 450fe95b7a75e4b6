"""Input that cannot be used raises one of loyaltylab's exceptions, with a message that names
the file, the column and the fix."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.exceptions import (LoyaltyLabError, MappingError, MissingTableError,
                                   SchemaError, SourceError)

ORDERS = "order_id,customer_id,ordered_at,amount\n1,C1,2025-05-01,1\n"
CUSTOMERS = "customer_id,acquired_at\nC1,2025-01-01\n"


def folder(tmp_path: Path, **files) -> Path:
    for name, content in files.items():
        name = name.replace("__", ".")
        p = tmp_path / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return tmp_path


def test_missing_column_suggests_the_closest_name(tmp_path):
    folder(tmp_path, customers__csv="cust_id,acquired_at\nC1,2025-01-01\n", orders__csv=ORDERS)
    with pytest.raises(SchemaError, match=r"customers\.csv: the customers table needs a column "
                       r"'customer_id'.*Did you mean 'cust_id'\?.*"
                       r"\[tables\.customers\.columns\] customer_id = \"cust_id\""):
        ll.load(tmp_path)


def test_missing_required_table_suggests_a_file(tmp_path):
    folder(tmp_path, Kunden__csv=CUSTOMERS, orders__csv=ORDERS)
    with pytest.raises(MissingTableError, match=r"required customers table is missing.*"
                       r"Did you mean 'Kunden'\?.*source = \"Kunden\.csv\""):
        ll.load(tmp_path)


def test_mapped_source_that_does_not_exist(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS, orders__csv=ORDERS)
    with pytest.raises(MissingTableError, match=r"mapping says the orders table is in "
                       r"\['ordres\.csv'\].*Did you mean 'orders\.csv'\?"):
        ll.load(tmp_path, mapping={"tables": {"orders": {"source": "ordres.csv"}}})


def test_empty_file(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS, orders__csv=b"")
    with pytest.raises(SourceError, match=r"orders\.csv: the file is empty; re-export"):
        ll.load(tmp_path)


def test_blank_lines_only(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS, orders__csv="\n\n  \n")
    with pytest.raises(SourceError, match=r"orders\.csv: the file is empty"):
        ll.load(tmp_path)


def test_wrong_delimiter(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS,
           orders__csv="order_id;customer_id;ordered_at;amount\n1;C1;2025-05-01;1\n")
    with pytest.raises(SourceError, match=r"orders\.csv: read as a single column "
                       r"'order_id;customer_id.*delimiter is probably ';'\. Set delimiter"):
        ll.load(tmp_path, mapping={"tables": {"orders": {"delimiter": ","}}})


def test_xlsx_that_is_really_a_csv(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS, orders__xlsx=ORDERS)
    with pytest.raises(SourceError, match=r"orders\.xlsx: the name says an Excel \.xlsx "
                       r"workbook, but the content is a text \(CSV\) file; rename it to "
                       r"orders\.csv"):
        ll.load(tmp_path)


def test_csv_that_is_really_a_workbook(tmp_path):
    pl.DataFrame({"a": [1]}).write_excel(tmp_path / "orders.csv")
    folder(tmp_path, customers__csv=CUSTOMERS)
    with pytest.raises(SourceError, match=r"orders\.csv: the name says a CSV text file, but "
                       r"the content is an Excel workbook.*rename it to orders\.xlsx"):
        ll.load(tmp_path)


def test_parquet_that_is_text(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS, orders__parquet=ORDERS)
    with pytest.raises(SourceError, match=r"orders\.parquet: the name says a Parquet file"):
        ll.load(tmp_path)


def test_binary_garbage(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS, orders__csv=b"\x00\x01\x02garbage\x00")
    with pytest.raises(SourceError, match=r"orders\.csv: .*content is binary data"):
        ll.load(tmp_path)


def test_legacy_xls(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS, orders__xls=b"\xd0\xcf\x11\xe0rest")
    with pytest.raises(SourceError, match=r"orders\.xls: legacy \.xls workbooks are not "
                       r"supported; open it in Excel and save it as \.xlsx"):
        ll.load(tmp_path)


def test_wrong_encoding_in_the_mapping(tmp_path):
    folder(tmp_path, customers__csv="customer_id,acquired_at,region\nC1,2025-01-01,Süd\n"
           .encode("latin-1"), orders__csv=ORDERS)
    with pytest.raises(SourceError, match=r"customers\.csv: (cannot decode the file as "
                       r"'utf-8'|the file is not valid utf-8).*encoding"):
        ll.load(tmp_path, mapping={"tables": {"customers": {"encoding": "utf-8"}}})


def test_unknown_encoding_name(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS, orders__csv=ORDERS)
    with pytest.raises(MappingError, match=r"\[tables\.customers\] encoding must be a text "
                       r"encoding .*got the string 'klingon'"):
        ll.load(tmp_path, mapping={"tables": {"customers": {"encoding": "klingon"}}})


def test_ragged_rows(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS,
           orders__csv=ORDERS + "2,C1,2025-05-02,1,surplus\n")
    with pytest.raises(SourceError, match=r"orders\.csv: cannot read it as comma-delimited "
                       r"text .*same number of fields"):
        ll.load(tmp_path)


def test_two_files_for_one_table(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS, orders__csv=ORDERS)
    pl.read_csv(io.BytesIO(ORDERS.encode())).write_parquet(tmp_path / "orders.parquet")
    with pytest.raises(SourceError, match=r"several sources could be the orders table.*"
                       r"\[tables\.orders\] source ="):
        ll.load(tmp_path)


def test_source_that_does_not_exist(tmp_path):
    with pytest.raises(SourceError, match=r"no such file or folder; pass a folder of CSV"):
        ll.load(tmp_path / "nowhere")


def test_unsupported_source_file(tmp_path):
    p = tmp_path / "data.json"
    p.write_text("{}")
    with pytest.raises(SourceError, match=r"data\.json: unsupported source"):
        ll.load(p)


def test_sheet_that_is_empty(tmp_path):
    import xlsxwriter
    path = tmp_path / "crm.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        pl.DataFrame({"customer_id": ["C1"], "acquired_at": ["2025-01-01"]}).write_excel(
            wb, worksheet="customers")
        wb.add_worksheet("orders")
    with pytest.raises(SourceError, match=r"sheet 'orders'.*empty"):
        ll.load(path)


# ------------------------------------------------------------------ mapping problems

def test_mapping_unknown_table():
    with pytest.raises(MappingError, match=r"unknown table 'order' under \[tables\].*"
                       r"Did you mean 'orders'\?"):
        ll.load(Path(__file__).parent / "fixtures" / "clean", mapping={"tables": {"order": {}}})


def test_mapping_unknown_canonical_column():
    with pytest.raises(MappingError, match=r"names 'ammount', which is not a canonical orders "
                       r"column.*Did you mean 'amount'\?"):
        ll.data.mapping.read_mapping({"tables": {"orders": {"columns": {"ammount": "x"}}}})


def test_mapping_unknown_setting():
    with pytest.raises(MappingError, match=r"unknown setting 'delimeter' in \[tables\.orders\]"
                       r".*Did you mean 'delimiter'\?"):
        ll.data.mapping.read_mapping({"tables": {"orders": {"delimeter": ";"}}})


def test_mapping_bad_values():
    with pytest.raises(MappingError, match=r"timezone must be an IANA time zone.*'Mars/Olympus'"):
        ll.data.mapping.read_mapping({"defaults": {"timezone": "Mars/Olympus"}})
    with pytest.raises(MappingError, match=r"decimal must be"):
        ll.data.mapping.read_mapping({"defaults": {"decimal": ";"}})
    with pytest.raises(MappingError, match=r"value maps apply to text columns only"):
        ll.load(Path(__file__).parent / "fixtures" / "clean",
                mapping={"tables": {"orders": {"values": {"amount": {"a": "1"}}}}})


def test_mapping_client_column_missing(tmp_path):
    folder(tmp_path, customers__csv=CUSTOMERS, orders__csv=ORDERS)
    with pytest.raises(MappingError, match=r"\[tables\.orders\.columns\] amount = 'Betrag', "
                       r"but orders\.csv has no column 'Betrag'"):
        ll.load(tmp_path, mapping={"tables": {"orders": {"columns": {"amount": "Betrag"}}}})


def test_mapping_file_not_toml(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text("[tables.orders\namount = Betrag (EUR)\n")
    with pytest.raises(MappingError, match=r"m\.toml: not valid TOML"):
        ll.data.mapping.read_mapping(p)
    with pytest.raises(MappingError, match=r"mapping file not found; write one with "
                       r"`loyaltylab init-mapping"):
        ll.data.mapping.read_mapping(tmp_path / "absent.toml")


# ------------------------------------------------------------------ from_frames problems

def test_from_frames_unknown_table_and_missing_required():
    c = pl.DataFrame({"customer_id": ["a"], "acquired_at": ["2025-01-01"]})
    with pytest.raises(MappingError, match=r"unknown table 'custmers'.*Did you mean "
                       r"'customers'\?"):
        ll.from_frames({"custmers": c})
    with pytest.raises(MissingTableError, match=r"the 'orders' table is required"):
        ll.from_frames({"customers": c})
    with pytest.raises(TypeError, match=r"expected a dict of table name -> frame"):
        ll.from_frames([c])
    with pytest.raises(SchemaError, match=r"needs a column 'amount'"):
        ll.from_frames({"customers": c, "orders": pl.DataFrame({
            "order_id": ["1"], "customer_id": ["a"], "ordered_at": ["2025-02-01"]})})


def test_from_frames_nested_column():
    c = pl.DataFrame({"customer_id": [["a"]], "acquired_at": ["2025-01-01"]})
    o = pl.DataFrame({"order_id": ["1"], "customer_id": ["a"], "ordered_at": ["2025-02-01"],
                      "amount": [1.0]})
    with pytest.raises(SchemaError, match=r"column 'customer_id' holds List\(String\) values; "
                       r"expected text"):
        ll.from_frames({"customers": c, "orders": o})


def test_every_error_is_a_loyaltylab_error():
    for cls in (MappingError, MissingTableError, SchemaError, SourceError):
        assert issubclass(cls, LoyaltyLabError) and issubclass(cls, ValueError)
