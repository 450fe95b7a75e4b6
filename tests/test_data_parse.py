"""Reading client numbers, dates, ids and workbooks faithfully: thousands against decimals
decided from the whole column, Excel columns mixing real cells and text, title rows and
totals rows, a workbook whose farthest cell asks for 500 GB, and ids written with other
Unicode forms or invisible spaces. Every expected value is worked out by hand in the test.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loyaltylab as ll
from loyaltylab.data import schema as S
from loyaltylab.data._parse import ColumnFormat, decide_number_format, number_evidence
from loyaltylab.exceptions import SchemaError, SourceError

AS_OF = "2026-01-01"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(text.encode(encoding))
    return p


def semicolon_orders(folder: Path, amounts: list[str], extra: dict[str, list[str]] | None
                     = None) -> None:
    """customers C1, C2 and one order per amount (semicolon-delimited, as German Excel
    writes CSV)."""
    write(folder, "customers.csv", "customer_id;acquired_at\nC1;01.01.2025\nC2;01.02.2025\n")
    extra = extra or {}
    head = ";".join(["order_id", "customer_id", "ordered_at", "amount", *extra])
    lines = [head] + [";".join([str(i), "C1", "02.03.2025", a,
                                *(v[i] for v in extra.values())])
                      for i, a in enumerate(amounts)]
    write(folder, "orders.csv", "\n".join(lines) + "\n")


# ------------------------------------------------------------ thousands against decimals

def test_dotted_thousands_alone_are_ambiguous_and_stop_the_load(tmp_path):
    # "1.500" is 1.5 (decimal point) or 1500 (thousands dot): nothing in the column says
    semicolon_orders(tmp_path, ["1.500", "2.300", "17"])
    with pytest.raises(SchemaError, match=re.escape(
            "orders.csv: column 'amount' (orders.amount) holds numbers such as '1.500', "
            "'2.300'") + r".*\[tables\.orders\.formats\.amount\] decimal = \",\" "
            r"thousands = \"\.\".*decimal = \"\.\""):
        ll.load(tmp_path, as_of=AS_OF)


@pytest.mark.parametrize("formats, expected", [
    ({"decimal": ",", "thousands": "."}, [1500.0, 2300.0, 17.0]),
    ({"decimal": "."}, [1.5, 2.3, 17.0]),
    ({"thousands": "."}, [1500.0, 2300.0, 17.0]),
])
def test_the_mapping_settles_an_ambiguous_column(tmp_path, formats, expected):
    semicolon_orders(tmp_path, ["1.500", "2.300", "17"])
    data = ll.load(tmp_path, as_of=AS_OF,
                   mapping={"tables": {"orders": {"formats": {"amount": formats}}}})
    assert data.orders.sort(S.ORDER_ID)[S.AMOUNT].to_list() == expected


def test_a_decimal_comma_anywhere_in_the_column_decides(tmp_path):
    # 3,000 rows: the sample (head, tail, an even spread) holds only "1.500"-like values
    # and integers; one "12,50" in row 1,001 shows the comma is the decimal separator
    amounts = ["1.500" if i % 2 else "250" for i in range(3000)]
    amounts[1001] = "12,50"
    semicolon_orders(tmp_path, amounts)
    data = ll.load(tmp_path, as_of=AS_OF)
    got = dict(zip(data.orders[S.ORDER_ID].cast(int), data.orders[S.AMOUNT]))
    assert got[1] == 1500.0 and got[0] == 250.0 and got[1001] == 12.5
    assert data.orders.height == 3000


def test_one_dotted_thousand_among_integers_is_not_read_as_a_decimal(tmp_path):
    # integers everywhere; one "1.500" far from the sample: a silent 1.5 is the bug
    amounts = [str(100 + i % 50) for i in range(5000)]
    amounts[3333] = "1.500"
    semicolon_orders(tmp_path, amounts)
    with pytest.raises(SchemaError, match=r"column 'amount' \(orders\.amount\) holds "
                       r"numbers such as '1\.500'"):
        ll.load(tmp_path, as_of=AS_OF)


def test_the_tables_other_number_column_decides(tmp_path):
    # amount alone is ambiguous; the discount column writes 2,50 (decimal comma)
    semicolon_orders(tmp_path, ["1.500", "2.300"], extra={"discount": ["2,50", "0,75"]})
    data = ll.load(tmp_path, as_of=AS_OF)
    o = data.orders.sort(S.ORDER_ID)
    assert o[S.AMOUNT].to_list() == [1500.0, 2300.0]
    assert o[S.DISCOUNT].to_list() == [2.5, 0.75]
    assert any("as in the table's other number columns" in w
               for w in data.report.tables["orders"].warnings)


@pytest.mark.parametrize("amounts, expected", [
    (["12.50", "1500", "0.99"], [12.5, 1500.0, 0.99]),  # plain: untouched
    (["1.500", "0.500", "2"], [1.5, 0.5, 2.0]),  # 0.500 can only be a decimal
    (["1.500", "1234.5"], [1.5, 1234.5]),  # four digits before the dot: a decimal
    (["1.500", "1.234.567"], [1500.0, 1234567.0]),  # repeated dots group thousands
    (["1.500", "1.234,56"], [1500.0, 1234.56]),
    (["2,300", "1,5"], [2.3, 1.5]),
    (["1 234,50 €", "99,90"], [1234.5, 99.9]),
])
def test_unambiguous_columns(tmp_path, amounts, expected):
    semicolon_orders(tmp_path, amounts)
    data = ll.load(tmp_path, as_of=AS_OF)
    assert data.orders.sort(S.ORDER_ID)[S.AMOUNT].to_list() == expected


def test_single_comma_groups_follow_the_delimiter(tmp_path):
    # in a semicolon file the comma is the decimal separator: 2,300 is 2.3 (with a note);
    # in a comma file "2,300" alone is ambiguous
    semicolon_orders(tmp_path / "semi", ["2,300", "1,250"])
    data = ll.load(tmp_path / "semi", as_of=AS_OF)
    assert data.orders.sort(S.ORDER_ID)[S.AMOUNT].to_list() == [2.3, 1.25]
    assert any("semicolon-delimited" in w for w in data.report.tables["orders"].warnings)
    d = tmp_path / "comma"
    write(d, "customers.csv", "customer_id,acquired_at\nC1,2025-01-01\n")
    write(d, "orders.csv", 'order_id,customer_id,ordered_at,amount\n1,C1,2025-03-02,"2,300"'
          '\n2,C1,2025-03-02,"1,250"\n')
    with pytest.raises(SchemaError, match=r"holds numbers such as '2,300', '1,250'"):
        ll.load(d, as_of=AS_OF)


def test_number_evidence_counts_by_hand():
    ev = number_evidence(pl.Series(["1.500", "2,300", "12.5", "1.234,56", "0.125", "7",
                                    None, "EUR 1.234.567"]))
    # ambiguous: 1.500 (dot3), 2,300 (comma3); decimal dot: 12.5, 0.125;
    # decimal comma: 1.234,56 and 1.234.567 (repeated dots)
    assert (ev["dot3"], ev["comma3"], ev["dot"], ev["comma"]) == (1, 1, 2, 2)
    f = decide_number_format(pl.Series(["1.500"]), ColumnFormat(decimal="."))
    assert (f.decimal, f.ambiguous) == (".", [])


# ------------------------------------------------------------ Excel cells of mixed kinds

def _workbook(path: Path, sheets: dict[str, list[list]], date_cells=()) -> Path:
    """Write rows cell by cell as Excel would hold them: numbers as numbers, text as
    text, datetimes as date cells (with a date format)."""
    import xlsxwriter
    with xlsxwriter.Workbook(path) as wb:
        datefmt = wb.add_format({"num_format": "dd.mm.yyyy"})
        for name, rows in sheets.items():
            ws = wb.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, v in enumerate(row):
                    if v is None:
                        continue
                    if isinstance(v, datetime):
                        ws.write_datetime(r, c, v, datefmt)
                    elif isinstance(v, str):
                        ws.write_string(r, c, v)
                    else:
                        ws.write_number(r, c, v)
    return path


def test_excel_column_of_real_numbers_and_text_numbers(tmp_path):
    # 1234.5 and 99.99 are number cells; "1 234,50" and "1.234,50 €" are text cells
    path = _workbook(tmp_path / "crm.xlsx", {
        "customers": [["customer_id", "acquired_at"], ["C1", "2025-01-01"]],
        "orders": [["order_id", "customer_id", "ordered_at", "amount"],
                   ["1", "C1", "2025-03-01", 1234.5], ["2", "C1", "2025-03-01", 99.99],
                   ["3", "C1", "2025-03-01", "1 234,50"],
                   ["4", "C1", "2025-03-01", "1.234,50 €"],
                   ["5", "C1", "2025-03-01", 0.1]]})
    data = ll.load(path, as_of=AS_OF)
    o = data.orders.sort(S.ORDER_ID)
    assert o[S.AMOUNT].to_list() == [1234.5, 99.99, 1234.5, 1234.5, 0.1]
    assert data.report.tables["orders"].rejected == 0
    assert ("column 'amount' mixes cells: 3 numbers read as stored, 2 text cells read "
            "with the column's format") in data.report.tables["orders"].warnings


def test_excel_mixed_cells_keep_full_precision(tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "orders"
    ws.append(["order_id", "customer_id", "ordered_at", "amount"])
    values = [1 / 3, 123456789.123, 1e-7, 2.5]
    for i, v in enumerate(values):
        ws.append([str(i), "C1", "2025-03-01", v])
    ws.append(["9", "C1", "2025-03-01", "12,5"])
    cs = wb.create_sheet("customers")
    cs.append(["customer_id", "acquired_at"])
    cs.append(["C1", "2025-01-01"])
    wb.save(tmp_path / "crm.xlsx")
    data = ll.load(tmp_path / "crm.xlsx", as_of=AS_OF)
    assert data.orders.sort(S.ORDER_ID)[S.AMOUNT].to_list() == values + [12.5]


def test_excel_dates_mixing_date_cells_serials_and_text(tmp_path):
    # a date cell, a serial number (45000 = 2023-03-15; .25 = 06:00) and text dates
    path = _workbook(tmp_path / "crm.xlsx", {
        "customers": [["customer_id", "acquired_at"], ["C1", datetime(2023, 1, 2)],
                      ["C2", 45000.25], ["C3", "03.04.2023"], ["C4", "2023-03-16"]],
        "orders": [["order_id", "customer_id", "ordered_at", "amount"],
                   ["1", "C1", "2025-03-01", 5]]})
    data = ll.load(path, as_of=AS_OF)
    got = dict(zip(data.customers[S.CUSTOMER_ID], data.customers[S.ACQUIRED_AT]))
    assert got == {"C1": datetime(2023, 1, 2), "C2": datetime(2023, 3, 15, 6),
                   "C3": datetime(2023, 4, 3), "C4": datetime(2023, 3, 16)}


def test_excel_ids_as_numbers_and_text_with_leading_zeros(tmp_path):
    # customer ids 12345 (a number cell) and "00123" (text); orders refer to them as
    # 12345.0 (number) and "00123"; "123" is another customer
    path = _workbook(tmp_path / "crm.xlsx", {
        "customers": [["customer_id", "acquired_at"], [12345, "2025-01-01"],
                      ["00123", "2025-01-01"]],
        "orders": [["order_id", "customer_id", "ordered_at", "amount"],
                   [1, 12345.0, "2025-03-01", 5], [2, "00123", "2025-03-01", 6],
                   [3, "123", "2025-03-01", 7]]})
    data = ll.load(path, as_of=AS_OF)
    assert sorted(data.customers[S.CUSTOMER_ID]) == ["00123", "12345"]
    assert data.orders.sort(S.ORDER_ID)[S.CUSTOMER_ID].to_list() == ["12345", "00123"]
    assert data.orders[S.ORDER_ID].sort().to_list() == ["1", "2"]
    assert data.report.tables["orders"].reasons == {"customer_id: unknown customer": 1}


def test_typed_float_ids_lose_only_the_point_zero():
    cust = pl.DataFrame({S.CUSTOMER_ID: [12345.0, 7.5], S.ACQUIRED_AT: ["2025-01-01"] * 2})
    orders = pl.DataFrame({S.ORDER_ID: ["1"], S.CUSTOMER_ID: ["12345"],
                           S.ORDERED_AT: ["2025-03-01"], S.AMOUNT: [1.0]})
    data = ll.from_frames({"customers": cust, "orders": orders}, as_of=AS_OF)
    assert data.customers[S.CUSTOMER_ID].to_list() == ["12345", "7.5"]
    assert data.orders.height == 1


# ------------------------------------------------------------ title rows and totals rows

def test_excel_title_rows_are_skipped_and_totals_rejected(tmp_path):
    path = _workbook(tmp_path / "crm.xlsx", {
        "customers": [["customer_id", "acquired_at"], ["C1", "2025-01-01"]],
        "orders": [["Sales report, all shops"], ["Exported 2026-01-01"], [],
                   ["order_id", "customer_id", "ordered_at", "amount"],
                   ["1", "C1", "2025-03-01", 10], ["2", "C1", "2025-03-02", 20.5],
                   ["Summe", None, None, 30.5]]})
    data = ll.load(path, as_of=AS_OF)
    tr = data.report.tables["orders"]
    assert data.orders[S.AMOUNT].sum() == 30.5 and data.orders.height == 2
    assert (tr.read, tr.rejected, tr.reasons) == (3, 1, {"order_id: totals row": 1})
    assert any("header found in row 4; the 2 non-blank rows above it (a title) skipped"
               in w for w in tr.warnings)


def test_excel_header_row_from_the_caller(tmp_path):
    from loyaltylab.data._io import read_excel_sheet
    path = _workbook(tmp_path / "crm.xlsx", {
        "orders": [["Report"], ["order_id", "amount"], ["1", 5], ["2", 6]]})
    raw = read_excel_sheet(path, "orders", header_row=1)
    assert raw.frame.columns == ["order_id", "amount"] and raw.frame.height == 2
    assert raw.header_row == 1
    found = read_excel_sheet(path, "orders")  # one title line: found
    assert found.header_row == 1 and found.frame.columns == ["order_id", "amount"]
    assert "header in row 2 (header_row = 1); the rows above it skipped" in raw.notes
    # header_row = 2 takes the first data row as the header: what was asked
    assert read_excel_sheet(path, "orders", header_row=2).frame.columns == ["1", "5"]


@pytest.mark.parametrize("label", ["Total", "Summe", "Gesamt", "Totalt", "Totaal",
                                   "Totale", "Total général", "Suma", "TOTAL:"])
def test_csv_totals_rows_in_many_languages(tmp_path, label):
    write(tmp_path, "customers.csv", "customer_id;acquired_at\nC1;01.01.2025\n")
    write(tmp_path, "orders.csv", "order_id;customer_id;ordered_at;amount\n"
          f"1;C1;02.03.2025;10,00\n2;C1;03.03.2025;5,50\n{label};;;15,50\n")
    data = ll.load(tmp_path, as_of=AS_OF)
    assert data.report.tables["orders"].reasons == {"order_id: totals row": 1}
    assert data.orders[S.AMOUNT].sum() == 15.5


def test_a_totals_row_that_breaks_no_rule_is_still_rejected():
    # the last row's id is "Total" and its date is filled: only its label tells
    cust = pl.DataFrame({S.CUSTOMER_ID: ["C1", "C2", "Total"],
                         S.ACQUIRED_AT: ["2025-01-01", "2025-01-02", "2025-01-02"]})
    orders = pl.DataFrame({S.ORDER_ID: ["1"], S.CUSTOMER_ID: ["C1"],
                           S.ORDERED_AT: ["2025-03-01"], S.AMOUNT: ["1"]})
    data = ll.from_frames({"customers": cust, "orders": orders}, as_of=AS_OF)
    assert data.customers[S.CUSTOMER_ID].to_list() == ["C1", "C2"]
    assert data.report.tables["customers"].reasons == {"customer_id: totals row": 1}
    assert data.report.tables["customers"].rejects["_row"].to_list() == [2]


def test_a_customer_called_totalbau_is_a_customer():
    cust = pl.DataFrame({S.CUSTOMER_ID: ["C1", "Totalbau GmbH"],
                         S.ACQUIRED_AT: ["2025-01-01", "2025-01-02"]})
    orders = pl.DataFrame({S.ORDER_ID: ["1"], S.CUSTOMER_ID: ["C1"],
                           S.ORDERED_AT: ["2025-03-01"], S.AMOUNT: ["1"]})
    data = ll.from_frames({"customers": cust, "orders": orders}, as_of=AS_OF)
    assert data.customers.height == 2 and data.report.tables["customers"].rejected == 0


# ------------------------------------------------------------ a sheet that asks for 500 GB

_BOMB = r"""
import re, sys, zipfile, openpyxl
from pathlib import Path
folder = Path(sys.argv[1])
def save(name, far_cell):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "orders"
    ws.append(["order_id", "customer_id", "ordered_at", "amount"])
    ws.append(["1", "C1", "2025-03-01", 5.0])
    if far_cell:
        ws["XFD1048576"] = "x"
    cs = wb.create_sheet("customers")
    cs.append(["customer_id", "acquired_at"])
    cs.append(["C1", "2025-01-01"])
    tmp = folder / ("tmp_" + name)
    wb.save(tmp)
    # rewrite the orders sheet's dimension to claim the whole grid
    with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(folder / name, "w",
                                                      zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"/>',
                              b'<dimension ref="A1:XFD1048576"/>', data)
            zout.writestr(item, data)
    tmp.unlink()
save("claims.xlsx", far_cell=False)
save("far.xlsx", far_cell=True)
import loyaltylab as ll
from loyaltylab.exceptions import SourceError
data = ll.load(folder / "claims.xlsx", as_of="2026-01-01")
print("claims", data.orders.height, data.orders["amount"].to_list())
try:
    ll.load(folder / "far.xlsx", as_of="2026-01-01")
    print("far loaded")
except SourceError as exc:
    print("far SourceError", exc)
"""


def test_sheet_whose_farthest_cell_asks_for_gigabytes(tmp_path):
    # in a subprocess: calamine aborts the whole process when it cannot allocate
    script = tmp_path / "bomb.py"
    script.write_text(_BOMB)
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert "claims 1 [5.0]" in lines  # a dimension that lies: only the real cells read
    assert (tmp_path / "far.xlsx").stat().st_size < 10_000
    far = next(ln for ln in lines if ln.startswith("far"))
    assert far.startswith("far SourceError far.xlsx, sheet 'orders': the sheet reaches "
                          "cell XFD1048576 (1,048,576 rows x 16,384 columns")
    assert "delete the rows and columns beyond the table" in far


def test_sheet_extent_of_a_plain_sheet(tmp_path):
    from loyaltylab.data._excel import sheet_extent
    path = _workbook(tmp_path / "x.xlsx", {"s": [["a", "b"], [1, 2], [3, None]]})
    rows, cols, cells = sheet_extent(path, "s")
    assert (rows, cells) == (3, 5) and cols <= 26
    assert sheet_extent(path, "no such sheet") is None


def test_a_damaged_workbook_is_a_source_error(tmp_path):
    path = _workbook(tmp_path / "crm.xlsx", {
        "customers": [["customer_id", "acquired_at"], ["C1", "2025-01-01"]],
        "orders": [["order_id", "customer_id", "ordered_at", "amount"],
                   *[[str(i), "C1", "2025-03-01", i] for i in range(200)]]})
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet2.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    bad = raw[:start + 5] + bytes(b ^ 0x55 for b in raw[start + 5:start + 40]) \
        + raw[start + 40:]
    path.write_bytes(bad)
    with pytest.raises(SourceError, match=r"crm\.xlsx.*(damaged|cannot read)"):
        ll.load(path, as_of=AS_OF)


# ------------------------------------------------------------ identifiers

def test_ids_differing_only_by_unicode_form_or_invisible_spaces_match(tmp_path):
    nfc, nfd = "M\u00fcller-1", "Mu\u0308ller-1"
    write(tmp_path, "customers.csv", "customer_id,acquired_at\n"
          f"{nfc},2025-01-01\nC2,2025-01-01\nC3,2025-01-01\n007,2025-01-01\n")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n"
          f"1,{nfd},2025-03-01,1\n2,C2\u00a0,2025-03-01,2\n3,\u200bC3,2025-03-01,3\n"
          f"4,\ufeffC2,2025-03-01,4\n5,C\u202f2,2025-03-01,5\n6,7,2025-03-01,6\n")
    data = ll.load(tmp_path, as_of=AS_OF)
    tr = data.report.tables["orders"]
    got = dict(zip(data.orders[S.ORDER_ID], data.orders[S.CUSTOMER_ID]))
    # "C 2" (narrow no-break space inside) is "C 2", not C2; "7" is not "007"
    assert got == {"1": nfc, "2": "C2", "3": "C3", "4": "C2"}
    assert tr.reasons == {"customer_id: unknown customer": 2}
    # counted: the NFD form, the zero-width space, the BOM and the narrow no-break space
    # inside "C 2" (a trailing no-break space is blank padding, stripped like a space)
    assert any(w.startswith("orders.customer_id: 4 ids written with another Unicode form")
               for w in tr.warnings)


def test_duplicate_customers_hidden_by_a_zero_width_space():
    cust = pl.DataFrame({S.CUSTOMER_ID: ["C1", "C1\u200b", "Mu\u0308ller", "M\u00fcller"],
                         S.ACQUIRED_AT: ["2025-01-01"] * 4})
    orders = pl.DataFrame({S.ORDER_ID: ["1"], S.CUSTOMER_ID: ["C1"],
                           S.ORDERED_AT: ["2025-03-01"], S.AMOUNT: ["1"]})
    data = ll.from_frames({"customers": cust, "orders": orders}, as_of=AS_OF)
    assert data.customers[S.CUSTOMER_ID].to_list() == ["C1", "M\u00fcller"]
    assert data.report.tables["customers"].reasons == {"customer_id: duplicate": 2}


def test_ascii_ids_are_not_touched():
    cust = pl.DataFrame({S.CUSTOMER_ID: ["007", "7"], S.ACQUIRED_AT: ["2025-01-01"] * 2})
    orders = pl.DataFrame({S.ORDER_ID: ["1", "2"], S.CUSTOMER_ID: ["007", "7"],
                           S.ORDERED_AT: ["2025-03-01"] * 2, S.AMOUNT: ["1", "2"]})
    data = ll.from_frames({"customers": cust, "orders": orders}, as_of=AS_OF)
    assert data.orders[S.CUSTOMER_ID].to_list() == ["007", "7"]
    assert not any("Unicode" in w for w in data.report.tables["customers"].warnings)


# ------------------------------------------------------------ serial dates in CSV

def test_csv_serial_dates_beside_text_dates(tmp_path):
    write(tmp_path, "customers.csv", "customer_id,acquired_at\nC1,45000\nC2,2023-03-15\n"
          "C3,45001.5\n")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n"
          "1,C1,2025-05-01,1\n2,C1,45778,1\n")
    data = ll.load(tmp_path, as_of=AS_OF)
    got = dict(zip(data.customers[S.CUSTOMER_ID], data.customers[S.ACQUIRED_AT]))
    assert got == {"C1": datetime(2023, 3, 15), "C2": datetime(2023, 3, 15),
                   "C3": datetime(2023, 3, 16, 12)}
    # serial 45778 = 45000 + 366 (to 2024-03-15, over 29 Feb) + 365 + 47 = 2025-05-01
    assert data.orders[S.ORDERED_AT].to_list() == [datetime(2025, 5, 1)] * 2


def test_excel_date_cells_beside_text_dates_with_a_mapped_format(tmp_path):
    # the mapping says %d/%m/%Y (the text cells); the real date cell still reads
    path = _workbook(tmp_path / "crm.xlsx", {
        "customers": [["customer_id", "acquired_at"], ["C1", datetime(2023, 4, 19)],
                      ["C2", "20/04/2023"]],
        "orders": [["order_id", "customer_id", "ordered_at", "amount"],
                   ["1", "C1", "2025-03-01", 5]]})
    data = ll.load(path, as_of=AS_OF, mapping={"tables": {"customers": {"formats": {
        "acquired_at": {"date_format": "%d/%m/%Y"}}}}})
    assert data.customers.sort(S.CUSTOMER_ID)[S.ACQUIRED_AT].to_list() == [
        datetime(2023, 4, 19), datetime(2023, 4, 20)]


def test_grouped_values_beyond_a_plain_sample_are_read(tmp_path):
    # 3,000 plain amounts; rows 1,500 and 1,501 write "1,234.50" and "12.00 EUR": the
    # sample decides a plain cast, their failure triggers a full parse of the column
    amounts = ["12.50"] * 3000
    amounts[1500], amounts[1501] = '"1,234.50"', "12.00 EUR"
    write(tmp_path, "customers.csv", "customer_id,acquired_at\nC1,2025-01-01\n")
    write(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount\n" + "".join(
        f"{i},C1,2025-03-01,{a}\n" for i, a in enumerate(amounts)))
    data = ll.load(tmp_path, as_of=AS_OF)
    assert data.report.tables["orders"].rejected == 0
    assert data.orders[S.AMOUNT].sum() == pytest.approx(12.5 * 2998 + 1234.5 + 12.0)


def _german(cents: int) -> str:
    """12345678 cents as "123.456,78" (German Excel's display of a number as text)."""
    whole, frac = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", ".")
    return ("-" if cents < 0 else "") + f"{grouped},{frac:02d}"


def test_german_rendering_by_hand():
    assert [_german(c) for c in (5, 123450, 123456789)] == ["0,05", "1.234,50",
                                                              "1.234.567,89"]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cells=st.lists(st.tuples(st.integers(0, 10**9), st.sampled_from(
    ["number", "text", "text_eur", "text_space"])), min_size=2, max_size=30))
def test_any_mix_of_number_cells_and_german_text_reads_to_the_cent(tmp_path_factory,
                                                                   cells):
    # every amount in cents, written as a number cell or as German text ("1.234,50",
    # "1.234,50 €", "1 234,50"); one text cell with decimals always present, as a
    # German export has (else a column of "1.500" alone would rightly be ambiguous)
    cells = [(12345, "text")] + cells
    rows = [["order_id", "customer_id", "ordered_at", "amount"]]
    for i, (cents, kind) in enumerate(cells):
        text = _german(cents)
        value = {"number": cents / 100, "text": text, "text_eur": text + " €",
                 "text_space": text.replace(".", " ")}[kind]
        rows.append([str(i), "C1", "2025-03-01", value])
    folder = tmp_path_factory.mktemp("mix")
    path = _workbook(folder / "crm.xlsx", {
        "customers": [["customer_id", "acquired_at"], ["C1", "2025-01-01"]],
        "orders": rows})
    data = ll.load(path, as_of=AS_OF)
    assert data.report.tables["orders"].rejected == 0
    got = data.orders.sort(pl.col(S.ORDER_ID).cast(pl.Int64))
    assert [round(a * 100) for a in got[S.AMOUNT]] == [c for c, _ in cells]


def test_a_truncated_workbook_is_a_source_error(tmp_path):
    path = _workbook(tmp_path / "crm.xlsx", {
        "customers": [["customer_id", "acquired_at"], ["C1", "2025-01-01"]],
        "orders": [["order_id"], ["1"]]})
    path.write_bytes(path.read_bytes()[:2000])  # a partial download
    with pytest.raises(SourceError, match=r"crm\.xlsx: cannot open the workbook .*damaged"):
        ll.load(path, as_of=AS_OF)


def test_swiss_apostrophe_grouping_reads_without_a_mapping(tmp_path):
    # Swiss exports group thousands with an apostrophe (1'089, 12'345.50; Excel on a Mac
    # may write the typographic ’). An apostrophe is never a decimal mark, so no setting
    # is needed, also when the grouped values lie beyond the sniffed sample.
    (tmp_path / "customers.csv").write_text("customer_id,acquired_at\nC1,2024-01-01\n")
    lines = ["order_id,customer_id,ordered_at,amount"]
    lines += [f"O{i},C1,2024-02-01,{i % 97 + 1}" for i in range(20_000)]
    lines += ["X1,C1,2024-02-01,1'089", "X2,C1,2024-02-01,12'345.50",
              "X3,C1,2024-02-01,1’234’567.25", "X4,C1,2024-02-01,12'34"]
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = ll.load(tmp_path, as_of="2024-12-31")
    got = dict(data.orders.filter(pl.col("order_id").str.starts_with("X"))
               .select("order_id", "amount").iter_rows())
    assert got == {"X1": 1089.0, "X2": 12345.5, "X3": 1234567.25}
    # a misplaced apostrophe is not a grouping: rejected, not read as 1234
    assert data.report.tables["orders"].reasons == {"amount: unparseable number": 1}


def test_local_currency_words_beside_amounts_are_stripped(tmp_path):
    # Nordic and Polish exports write the currency as a word after the amount
    (tmp_path / "customers.csv").write_text("customer_id;acquired_at\nC1;2024-01-01\n")
    (tmp_path / "orders.csv").write_text(
        "order_id;customer_id;ordered_at;amount\n"
        "O1;C1;2024-02-01;1.478 kr\nO2;C1;2024-02-01;830,40 kr\n"
        "O3;C1;2024-02-01;12,50 zł\nO4;C1;2024-02-01;99,00 SEK\n", encoding="utf-8")
    data = ll.load(tmp_path, as_of="2024-12-31")
    assert data.orders["amount"].to_list() == [1478.0, 830.4, 12.5, 99.0]
