"""What a client file is (not public API): the raw table every reader returns, the sniffed
kind of a file from its first bytes, and the message for a file whose name and content
disagree. Shared by the text, Excel, Parquet and database readers of
:mod:`loyaltylab.data._io`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from loyaltylab._util import safe_text
from loyaltylab.exceptions import SourceError


@dataclass
class RawTable:
    """A table as read from the source, before mapping.

    Attributes
    ----------
    name : str
        The name in the source: file stem, sheet or database table.
    frame : pl.DataFrame
        The rows; all text for CSV files.
    source : str
        Human-readable origin for messages ("orders.csv", "shop.xlsx, sheet 'Orders'").
    hint_comma : bool
        Semicolon-delimited text: numbers probably use a decimal comma.
    notes : list[str]
        How it was read (encoding, delimiter, skipped title lines), for the report.
    header_row : int
        0-based line (text files) or row (sheets) that held the header.
    """

    name: str
    frame: pl.DataFrame
    source: str
    hint_comma: bool = False
    notes: list[str] = field(default_factory=list)
    header_row: int = 0


_HEAD_SIZE = 65536

def _nm(path: Path) -> str:
    """A file name as it may appear in a message (control characters escaped)."""
    return safe_text(Path(path).name, limit=80)


def _magic(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(_HEAD_SIZE)
    except IsADirectoryError:
        raise SourceError(f"{_nm(path)}: is a folder, not a file; point the mapping at a "
                          f"file inside it (or rename the folder).") from None
    except PermissionError:
        raise SourceError(f"{_nm(path)}: cannot open the file (permission denied); copy it "
                          f"to a place you can read, or fix its permissions.") from None
    except FileNotFoundError:
        raise SourceError(f"{_nm(path)}: no such file") from None
    except OSError as exc:
        raise SourceError(f"{_nm(path)}: cannot read the file "
                          f"({safe_text(exc.strerror or exc)}).") from None


_JSON_START = re.compile(rb'^(\{\s*("|\})|\[\s*(\{|\[|"|\]|-?\d))')


def sniff_kind(path: Path, head: bytes | None = None) -> str:
    """What a file really holds, from its first bytes: 'zip' (xlsx), 'ole' (legacy .xls),
    'parquet', 'sqlite', 'duckdb', 'utf16', 'pdf', 'gzip', 'html', 'xml', 'json', 'rtf',
    'binary', 'empty' or 'text'."""
    head = _magic(path) if head is None else head
    if not head.strip():
        return "empty"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head[8:12] == b"DUCK":
        return "duckdb"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    sample = head[:4096]
    if b"\x00" in sample:
        return "binary"
    controls = sum(sample.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    if controls >= 4 and controls * 50 > len(sample):
        return "binary"
    start = sample.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
            start.startswith(b"<") and b"<html" in start):
        return "html"
    if start.startswith((b"<?xml", b"<!--", b"<!doctype")):
        return "xml"
    if start.startswith(b"{\\rtf"):
        return "rtf"
    if _JSON_START.match(start):
        return "json"
    return "text"


_KIND_WORDS = {"zip": "an Excel workbook (or another zip archive)",
               "ole": "a legacy Excel .xls workbook", "parquet": "a Parquet file",
               "sqlite": "a SQLite database", "duckdb": "a DuckDB database",
               "binary": "binary data", "text": "a text (CSV) file",
               "utf16": "a UTF-16 text file", "pdf": "a PDF document",
               "gzip": "a gzip-compressed file",
               "html": "an HTML web page (often a portal's error or login page saved "
                       "instead of the export)",
               "xml": "XML (perhaps an Excel 2003 XML spreadsheet)", "json": "JSON",
               "rtf": "an RTF document"}
_KIND_SUFFIX = {"zip": ".xlsx", "parquet": ".parquet", "sqlite": ".sqlite",
                "duckdb": ".duckdb", "text": ".csv", "utf16": ".csv"}
_KIND_FIX = {"html": "download the export again (open the file in a text editor to read the "
                     "page's message)",
             "gzip": "unpack it first (e.g. gunzip) and point at the file inside",
             "pdf": "export the table as CSV or .xlsx instead",
             "json": "export the table as CSV or .xlsx instead",
             "xml": "open it in Excel and save it as .xlsx (or export CSV)",
             "rtf": "export the table as CSV or .xlsx instead"}


def _wrong_format(path: Path, expected: str, kind: str) -> SourceError:
    if kind == "ole":
        fix = "open it in Excel and save it as .xlsx (or export CSV)"
    elif kind in _KIND_FIX:
        fix = _KIND_FIX[kind]
    elif kind in _KIND_SUFFIX:
        fix = (f"rename it to {safe_text(path.stem, 80)}{_KIND_SUFFIX[kind]} (or re-export "
               f"it as {expected})")
    else:
        fix = f"re-export it as {expected}"
    return SourceError(f"{_nm(path)}: the name says {expected}, but the content is "
                       f"{_KIND_WORDS.get(kind, kind)}; {fix}.")


def _first_line(exc: BaseException, limit: int = 120) -> str:
    text = str(exc).strip()
    return safe_text(text.splitlines()[0] if text else type(exc).__name__, limit)
