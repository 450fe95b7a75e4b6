"""Readers for client sources (not public API): folders of CSV/Parquet/Excel files, Excel
workbooks, DuckDB and SQLite databases.

Text files are read with every column as text (so the rejected rows can be shown exactly
as read, and dates and numbers are parsed by the validator with sniffed formats); binary
sources (Parquet, Excel, databases) keep their types. Every failure to read becomes a
:class:`~loyaltylab.exceptions.SourceError` that names the file and the fix.
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from loyaltylab.exceptions import SourceError

__all__ = ["RawTable", "sniff_kind", "read_text", "read_file", "list_source",
           "TEXT_SUFFIXES", "EXCEL_SUFFIXES", "PARQUET_SUFFIXES", "DB_SUFFIXES"]

TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".tab")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
DB_SUFFIXES = (".duckdb", ".db", ".sqlite", ".sqlite3")
_DELIMS = [",", ";", "\t", "|"]
_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


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
        How it was read (encoding, delimiter), for the report.
    """

    name: str
    frame: pl.DataFrame
    source: str
    hint_comma: bool = False
    notes: list[str] = field(default_factory=list)


def _magic(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(65536)


def sniff_kind(path: Path, head: bytes | None = None) -> str:
    """What a file really holds, from its first bytes: 'zip' (xlsx), 'ole' (legacy .xls),
    'parquet', 'sqlite', 'duckdb', 'utf16', 'binary', 'empty' or 'text'."""
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
    if b"\x00" in head[:4096]:
        return "binary"
    return "text"


_KIND_WORDS = {"zip": "an Excel workbook (or another zip archive)",
               "ole": "a legacy Excel .xls workbook", "parquet": "a Parquet file",
               "sqlite": "a SQLite database", "duckdb": "a DuckDB database",
               "binary": "binary data", "text": "a text (CSV) file",
               "utf16": "a UTF-16 text file"}
_KIND_SUFFIX = {"zip": ".xlsx", "parquet": ".parquet", "sqlite": ".sqlite",
                "duckdb": ".duckdb", "text": ".csv", "utf16": ".csv"}


def _wrong_format(path: Path, expected: str, kind: str) -> SourceError:
    if kind == "ole":
        fix = "open it in Excel and save it as .xlsx (or export CSV)"
    elif kind in _KIND_SUFFIX:
        fix = f"rename it to {path.stem}{_KIND_SUFFIX[kind]} (or re-export it as {expected})"
    else:
        fix = f"re-export it as {expected}"
    return SourceError(f"{path.name}: the name says {expected}, but the content is "
                       f"{_KIND_WORDS.get(kind, kind)}; {fix}.")


def _choose_encoding(head: bytes, encoding: str | None) -> str:
    if encoding:
        return encoding
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the sample
            return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter of a text file: the candidate most frequent in the header line, that
    also appears in the first data line (ties: ; before , before tab before |)."""
    header = lines[0]
    best, best_n = ",", 0
    for d in [";", ",", "\t", "|"]:
        n = header.count(d)
        if n > best_n:
            best, best_n = d, n
    return best


def read_text(path: Path, *, delimiter: str | None = None, encoding: str | None = None,
              quote: str | None = '"', name: str | None = None,
              n_rows: int | None = None) -> RawTable:
    """Read a delimited text file with every column as text (``n_rows``: only the first).

    Raises
    ------
    SourceError
        Empty file, a file that is really Excel/Parquet/binary, an encoding that cannot be
        decoded, a wrong delimiter (everything lands in one column), ragged rows.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    head = _magic(path)
    kind = sniff_kind(path, head)
    if kind == "empty":
        raise SourceError(f"{path.name}: the file is empty; re-export the table with a "
                          f"header row and its rows (or remove the file).")
    if kind not in ("text", "utf16"):
        raise _wrong_format(path, "a CSV text file", kind)
    enc = _choose_encoding(head, encoding)
    notes = []
    try:
        text_head = head.decode(enc, errors="strict" if encoding else "replace")
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"{path.name}: cannot decode the file as {enc!r} ({exc}); set "
                          f"the right encoding in the mapping file, e.g. encoding = "
                          f"\"latin-1\" or \"utf-8\".") from None
    text_head = text_head.lstrip("\ufeff")
    lines = [ln for ln in text_head.splitlines() if ln.strip()]
    if not lines:
        raise SourceError(f"{path.name}: the file holds only blank lines; re-export it "
                          f"with a header row.")
    skip = 0
    if lines[0].lower().startswith("sep=") and len(lines[0].strip()) == 5:
        delimiter = delimiter or lines[0].strip()[4]
        lines = lines[1:]
        skip = 1
        if not lines:
            raise SourceError(f"{path.name}: the file has no header row after 'sep='.")
    sep = delimiter or _sniff_delimiter(lines)
    if len(sep) != 1:
        raise SourceError(f"{path.name}: delimiter {sep!r} must be one character")
    if enc.replace("-", "").lower() in ("utf8", "utf8sig"):
        src: Path | io.BytesIO = path
    else:
        try:
            src = io.BytesIO(path.read_bytes().decode(enc).encode("utf-8"))
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceError(f"{path.name}: cannot decode the file as {enc!r} ({exc}); "
                              f"set the right encoding in the mapping file, e.g. "
                              f"encoding = \"cp1252\".") from None
        notes.append(f"read as {enc}")
    frame = _polars_read(path, src, sep, quote, skip, n_rows)
    if frame is None:  # invalid UTF-8 further into the file
        if encoding:
            raise SourceError(f"{path.name}: the file is not valid {encoding}; set the "
                              f"right encoding in the mapping file.")
        src = io.BytesIO(path.read_bytes().decode("cp1252", errors="replace")
                         .encode("utf-8"))
        notes.append("not valid UTF-8 throughout: read as cp1252 (Windows Western)")
        frame = _polars_read(path, src, sep, quote, skip, n_rows)
        if frame is None:  # pragma: no cover - transcoded text is valid UTF-8
            raise SourceError(f"{path.name}: unreadable encoding; save it as UTF-8.")
    if frame.width == 1:
        header = frame.columns[0]
        for d in _DELIMS:
            if d != sep and d in header and len(header.split(d)) > 1:
                raise SourceError(
                    f"{path.name}: read as a single column {header[:60]!r} with the "
                    f"{_DELIM_NAMES[sep]} delimiter, but the header contains "
                    f"{_DELIM_NAMES[d]}s; the delimiter is probably {d!r}. Set delimiter = "
                    f"{d!r} for this table in the mapping file.")
    if sep != ",":
        notes.append(f"{_DELIM_NAMES[sep]}-delimited")
    return RawTable(name=name or path.stem, frame=frame, source=path.name,
                    hint_comma=(sep == ";"), notes=notes)


def _polars_read(path: Path, src, sep: str, quote: str | None,
                 skip: int, n_rows: int | None = None) -> pl.DataFrame | None:
    try:
        return pl.read_csv(src, separator=sep, infer_schema=False, quote_char=quote,
                           skip_rows=skip, encoding="utf8",
                           raise_if_empty=True, n_rows=n_rows)
    except pl.exceptions.NoDataError:
        raise SourceError(f"{path.name}: the file has no header row or rows; re-export "
                          f"it with a header row.") from None
    except pl.exceptions.ComputeError as exc:
        msg = str(exc)
        if "utf-8" in msg.lower() or "utf8" in msg.lower():
            return None
        raise _parse_error(path, sep, msg) from None
    except pl.exceptions.PolarsError as exc:
        raise _parse_error(path, sep, str(exc)) from None
    except UnicodeDecodeError:
        return None


def _parse_error(path: Path, sep: str, msg: str) -> SourceError:
    first = msg.strip().splitlines()[0] if msg.strip() else "unknown error"
    if "duplicate" in msg.lower():
        return SourceError(f"{path.name}: the header repeats a column name ({first}); "
                           f"give every column a unique name.")
    return SourceError(
        f"{path.name}: cannot read it as {_DELIM_NAMES.get(sep, repr(sep))}-delimited text "
        f"({first}). Check that every row has the same number of fields and that quotes "
        f"are balanced; set delimiter (and quote) for this table in the mapping file if "
        f"the sniffed {sep!r} is wrong.")


def read_parquet(path: Path, *, name: str | None = None) -> RawTable:
    """Read a Parquet file (types kept)."""
    kind = sniff_kind(path)
    if kind == "empty":
        raise SourceError(f"{path.name}: the file is empty; re-export it.")
    if kind != "parquet":
        raise _wrong_format(path, "a Parquet file", kind)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a source problem
        raise SourceError(f"{path.name}: cannot read the Parquet file "
                          f"({str(exc).splitlines()[0]}); re-export it.") from None
    return RawTable(name=name or path.stem, frame=frame, source=path.name)


def excel_sheets(path: Path) -> list[str]:
    """Sheet names of an .xlsx workbook."""
    kind = sniff_kind(path)
    if kind == "empty":
        raise SourceError(f"{path.name}: the file is empty; re-export it.")
    if kind != "zip":
        raise _wrong_format(path, "an Excel .xlsx workbook", kind)
    try:
        import fastexcel
        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception as exc:  # noqa: BLE001
        raise SourceError(f"{path.name}: cannot open the workbook "
                          f"({str(exc).splitlines()[0]}); save it again from Excel as "
                          f".xlsx.") from None


def read_excel_sheet(path: Path, sheet: str, *, name: str | None = None,
                     single: bool = False) -> RawTable:
    """Read one sheet of an .xlsx workbook (cell types kept; header in the first row)."""
    try:
        frame = pl.read_excel(path, sheet_name=sheet, engine="calamine",
                              infer_schema_length=None)
    except Exception as exc:  # noqa: BLE001
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "empty" in text.lower() or "no data" in text.lower():
            frame = pl.DataFrame()
        else:
            raise SourceError(f"{path.name}, sheet {sheet!r}: cannot read it ({text}); "
                              f"check that the first row holds the column names.") from None
    where = path.name if single else f"{path.name}, sheet {sheet!r}"
    if frame.width == 0:
        raise SourceError(f"{where}: the sheet is empty; put a header row and the rows on "
                          f"it (or map another sheet).")
    frame = frame.rename({c: str(c) for c in frame.columns})
    return RawTable(name=name or sheet, frame=frame, source=where)


def db_tables(path: Path) -> tuple[str, list[str]]:
    """(kind, table names) of a DuckDB or SQLite database file."""
    kind = sniff_kind(path)
    if kind == "sqlite":
        con = _sqlite(path)
        try:
            names = [r[0] for r in con.execute(
                "select name from sqlite_master where type in ('table', 'view') "
                "and name not like 'sqlite_%' order by name")]
        finally:
            con.close()
        return kind, names
    if kind == "duckdb":
        con = _duckdb(path)
        try:
            names = [r[0] for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' order by table_name").fetchall()]
        finally:
            con.close()
        return kind, names
    if kind == "empty":
        raise SourceError(f"{path.name}: the database file is empty.")
    raise _wrong_format(path, "a DuckDB or SQLite database", kind)


def _sqlite(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SourceError(f"{path.name}: cannot open the SQLite database ({exc}).") from None


def _duckdb(path: Path):
    import duckdb
    try:
        return duckdb.connect(str(path), read_only=True)
    except Exception as exc:  # noqa: BLE001
        raise SourceError(f"{path.name}: cannot open the DuckDB database "
                          f"({str(exc).splitlines()[0]}).") from None


def read_db_table(path: Path, kind: str, table: str, *, name: str | None = None) -> RawTable:
    """Read one table of a SQLite or DuckDB database (types kept where uniform)."""
    where = f"{path.name}, table {table!r}"
    quoted = '"' + table.replace('"', '""') + '"'
    if kind == "duckdb":
        con = _duckdb(path)
        try:
            frame = con.sql(f"select * from {quoted}").pl()
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"{where}: cannot read it ({str(exc).splitlines()[0]})."
                              ) from None
        finally:
            con.close()
        return RawTable(name=name or table, frame=frame, source=where)
    con = _sqlite(path)
    try:
        cur = con.execute(f"select * from {quoted}")
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    except sqlite3.Error as exc:
        raise SourceError(f"{where}: cannot read it ({exc}).") from None
    finally:
        con.close()
    data = {}
    for i, c in enumerate(cols):
        values = [r[i] for r in rows]
        try:
            s = pl.Series(c, values, strict=True)
            if s.dtype == pl.Null:
                s = s.cast(pl.String)
        except Exception:  # noqa: BLE001 - mixed SQLite storage classes: read as text
            s = pl.Series(c, [None if v is None else str(v) for v in values],
                          dtype=pl.String)
        if s.dtype == pl.Binary:
            s = pl.Series(c, [None if v is None else v.decode("utf-8", "replace")
                              for v in values], dtype=pl.String)
        data[c] = s
    return RawTable(name=name or table, frame=pl.DataFrame(data), source=where)


def read_file(path: Path, *, delimiter: str | None = None, encoding: str | None = None,
              quote: str | None = '"', sheet: str | None = None,
              name: str | None = None, n_rows: int | None = None) -> RawTable:
    """Read one file of a folder source by its extension."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        if suffix in (".tsv", ".tab") and delimiter is None:
            delimiter = "\t"
        return read_text(path, delimiter=delimiter, encoding=encoding, quote=quote, name=name,
                         n_rows=n_rows)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path, name=name)
    if suffix in EXCEL_SUFFIXES:
        sheets = excel_sheets(path)
        if sheet is None:
            if not sheets:
                raise SourceError(f"{path.name}: the workbook has no sheets.")
            sheet = sheets[0]
        elif sheet not in sheets:
            from loyaltylab.data.validation import closest
            guess = closest(sheet, sheets)
            raise SourceError(f"{path.name}: no sheet {sheet!r}; sheets are {sheets}"
                              + (f". Did you mean {guess!r}?" if guess else ""))
        raw = read_excel_sheet(path, sheet, name=name, single=len(sheets) == 1)
        return raw
    if suffix == ".xls":
        raise SourceError(f"{path.name}: legacy .xls workbooks are not supported; open it "
                          f"in Excel and save it as .xlsx (or export CSV).")
    raise SourceError(f"{path.name}: unsupported file type {suffix!r}; use CSV, Parquet "
                      f"or .xlsx.")


def list_source(source: Path) -> tuple[str, list[str]]:
    """What a source is and the names of the tables it offers.

    Returns ``(kind, names)`` with kind one of 'folder', 'workbook', 'sqlite', 'duckdb',
    'file'; names are file names (folder), sheets (workbook) or database tables.
    """
    if not source.exists():
        raise SourceError(f"{source}: no such file or folder; pass a folder of CSV, "
                          f"Parquet or .xlsx files, an .xlsx workbook, or a DuckDB/SQLite "
                          f"database file.")
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
    raise SourceError(f"{source.name}: unsupported source; pass a folder of CSV, Parquet "
                      f"or .xlsx files, an .xlsx workbook, or a .duckdb/.sqlite/.db "
                      f"database file.")
