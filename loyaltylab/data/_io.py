"""Readers for client sources (not public API): folders of CSV/Parquet/Excel files, Excel
workbooks, DuckDB and SQLite databases.

Text files are read with every column as text (so the rejected rows can be shown exactly
as read, and dates and numbers are parsed by the validator with sniffed formats); binary
sources (Parquet, Excel, databases) keep their types. Every failure to read becomes a
:class:`~loyaltylab.exceptions.SourceError` that names the file and the fix.

Text files take a fast path (polars reads the file itself) unless a cheap check on the
first 64 KB or on the result finds a problem; only then is the whole file decoded here:
lines that are not UTF-8 one by one (as cp1252, listed in the notes), every line ending
(CR, LF, CRLF) made LF, and a parse that loses rows or lets a stray quote swallow
records is reported by line. A title above the header is skipped
(:func:`~loyaltylab.data._header.find_header_row`); totals rows are left for validation.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from loyaltylab._util import safe_text
from loyaltylab.data._io_base import RawTable, _first_line, _nm, _wrong_format, sniff_kind
from loyaltylab.data._io_db import db_tables
from loyaltylab.data._io_db import read_db_table as read_db_table  # the loader reads it here
from loyaltylab.data._io_text import read_text
from loyaltylab.exceptions import SourceError

# private helpers that moved out, still reachable here (tests call them as _io._x)
from loyaltylab.data._io_text import (_check_lost_rows as _check_lost_rows,
                                      _diagnose as _diagnose, _suspicious as _suspicious,
                                      _swallows as _swallows,
                                      _swallows_expr as _swallows_expr)

__all__ = ["RawTable", "sniff_kind", "read_text", "read_file", "list_source",
           "TEXT_SUFFIXES", "EXCEL_SUFFIXES", "PARQUET_SUFFIXES", "DB_SUFFIXES"]

TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".tab")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
DB_SUFFIXES = (".duckdb", ".db", ".sqlite", ".sqlite3")


def _expect_kind(path: Path, kind: str, what: str) -> None:
    """Raise the SourceError for an empty file, or for one whose content (sniffed) is not
    ``kind``, which a message calls ``what``."""
    found = sniff_kind(path)
    if found == "empty":
        raise SourceError(f"{_nm(path)}: the file is empty; re-export it.")
    if found != kind:
        raise _wrong_format(path, what, found)


def read_parquet(path: Path, *, name: str | None = None) -> RawTable:
    """Read a Parquet file (types kept)."""
    _expect_kind(path, "parquet", "a Parquet file")
    try:
        frame = pl.read_parquet(path)
    except (Exception, pl.exceptions.PanicException) as exc:  # noqa: BLE001 - any failure
        raise SourceError(f"{_nm(path)}: cannot read the Parquet file ({_first_line(exc)}); "
                          f"it is damaged or incomplete (a partial copy or download?): "
                          f"re-export it.") from None
    return RawTable(name=name or path.stem, frame=frame, source=_nm(path))


def excel_sheets(path: Path) -> list[str]:
    """Sheet names of an .xlsx workbook (a truncated or damaged file, or another kind of
    zip archive, is a SourceError)."""
    _expect_kind(path, "zip", "an Excel .xlsx workbook")
    try:
        import fastexcel
        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception as exc:  # noqa: BLE001
        raise SourceError(f"{_nm(path)}: cannot open the workbook "
                          f"({_first_line(exc)}); it is damaged or not an Excel "
                          f"workbook: save it again from Excel as .xlsx.") from None


def read_excel_sheet(path: Path, sheet: str, *, name: str | None = None,
                     single: bool = False, header_row: int | None = None) -> RawTable:
    """Read one sheet of an .xlsx workbook, each cell keeping its kind.

    ``header_row`` is the 0-based sheet row of the header; None finds it (a title above
    the header is skipped) and the notes say where it was. Columns mixing real numbers or
    dates with text keep each cell's kind (see :mod:`loyaltylab.data._excel`). A sheet
    whose farthest cell would need gigabytes to read (a stray cell at XFD1048576) is
    refused before it is read.
    """
    from loyaltylab.data._excel import check_sheet_extent, read_sheet
    where = _nm(path) if single else f"{_nm(path)}, sheet {safe_text(sheet)!r}"
    check_sheet_extent(path, sheet, where)
    try:
        frame, notes, at = read_sheet(path, sheet, header_row=header_row)
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "empty" in text.lower() or "no data" in text.lower():
            frame, notes, at = pl.DataFrame(), [], header_row or 0
        else:
            row = "first row" if header_row is None else f"row {header_row + 1}"
            raise SourceError(f"{where}: cannot read it ({safe_text(text, 120)}); check "
                              f"that the {row} holds the column names.") from None
    # blank rows and unnamed blank columns are not part of the table
    blank_cols = [c for c in frame.columns if str(c).startswith("__UNNAMED__")
                  and frame.get_column(c).null_count() == frame.height]
    frame = frame.drop(blank_cols)
    if frame.width and frame.height:
        frame = frame.filter(~pl.all_horizontal(pl.all().is_null()))
    if frame.width == 0:
        raise SourceError(f"{where}: the sheet is empty; put a header row and the rows on "
                          f"it (or map another sheet).")
    frame = frame.rename({c: str(c) for c in frame.columns})
    return RawTable(name=name or sheet, frame=frame, source=where, notes=notes,
                    header_row=at)

def read_file(path: Path, *, delimiter: str | None = None, encoding: str | None = None,
              quote: str | None = '"', sheet: str | None = None,
              name: str | None = None, n_rows: int | None = None,
              header_row: int | None = None) -> RawTable:
    """Read one file of a folder source by its extension (``header_row``: text files, see
    :func:`read_text`)."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        if suffix in (".tsv", ".tab") and delimiter is None:
            delimiter = "\t"
        return read_text(path, delimiter=delimiter, encoding=encoding, quote=quote, name=name,
                         n_rows=n_rows, header_row=header_row)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path, name=name)
    if suffix in EXCEL_SUFFIXES:
        sheets = excel_sheets(path)
        if sheet is None:
            if not sheets:
                raise SourceError(f"{_nm(path)}: the workbook has no sheets.")
            sheet = sheets[0]
        elif sheet not in sheets:
            from loyaltylab.data.validation import closest
            guess = closest(sheet, sheets)
            raise SourceError(f"{_nm(path)}: no sheet {safe_text(sheet)!r}; sheets are "
                              f"{[safe_text(s) for s in sheets]}"
                              + (f". Did you mean {safe_text(guess)!r}?" if guess else ""))
        raw = read_excel_sheet(path, sheet, name=name, single=len(sheets) == 1,
                               header_row=header_row)
        return raw
    if suffix == ".xls":
        raise SourceError(f"{_nm(path)}: legacy .xls workbooks are not supported; open it "
                          f"in Excel and save it as .xlsx (or export CSV).")
    raise SourceError(f"{_nm(path)}: unsupported file type {safe_text(suffix)!r}; use CSV, Parquet "
                      f"or .xlsx.")


def list_source(source: Path) -> tuple[str, list[str]]:
    """What a source is and the names of the tables it offers.

    Returns ``(kind, names)`` with kind one of 'folder', 'workbook', 'sqlite', 'duckdb',
    'file'; names are file names (folder), sheets (workbook) or database tables.
    """
    if not source.exists():
        raise SourceError(f"{safe_text(source, 200)}: no such file or folder; pass a folder "
                          f"of CSV, Parquet or .xlsx files, an .xlsx workbook, or a "
                          f"DuckDB/SQLite database file.")
    if source.is_dir():
        files = sorted(p.name for p in source.iterdir()
                       if p.is_file() and not p.name.startswith((".", "~$"))
                       and p.suffix.lower() in TEXT_SUFFIXES + PARQUET_SUFFIXES
                       + EXCEL_SUFFIXES + (".xls",))
        return "folder", files
    suffix = source.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return "workbook", excel_sheets(source)
    if suffix in DB_SUFFIXES:
        return db_tables(source)
    if suffix in TEXT_SUFFIXES + PARQUET_SUFFIXES:
        return "file", [source.name]
    raise SourceError(f"{_nm(source)}: unsupported source; pass a folder of CSV, Parquet "
                      f"or .xlsx files, an .xlsx workbook, or a .duckdb/.sqlite/.db "
                      f"database file.")
