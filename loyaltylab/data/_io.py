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

import codecs
import csv
import io
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from loyaltylab._util import safe_text
from loyaltylab.data._header import find_header_row
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
_HEAD_ROWS = 30
_EOL = re.compile(r"\r\r\n|\r\n|\r|\n")
_LONE_CR = re.compile(r"\r(?!\n)")
_SURROGATE = re.compile("[\udc80-\udcff]")
_NON_ASCII_UTF8 = re.compile("[^\x00-\x7f\udc80-\udcff]")


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


def _is_utf8(enc: str) -> bool:
    return enc.replace("-", "").replace("_", "").lower() in ("utf8", "utf8sig")


def _choose_encoding(head: bytes, encoding: str | None) -> str:
    """The explicit encoding, 'utf-16' for a UTF-16 BOM, else 'utf-8' (lines that are not
    valid UTF-8 are then decoded one by one, see :func:`_decode_mixed`)."""
    if encoding:
        return encoding
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8"


def _cp1252(raw: bytes) -> str:
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return raw.decode("latin-1")


def _decode_mixed(data: bytes) -> tuple[str, list[int] | None, bool]:
    """Decode bytes that should be UTF-8, line by line.

    Returns ``(text, bad_lines, any_utf8)``: lines that are valid UTF-8 are kept exactly; each line
    that is not is decoded as cp1252 and its 1-based number listed. ``bad_lines`` is None
    when more than 1,000 lines are not UTF-8 and none holds valid non-ASCII UTF-8: the
    whole file is then cp1252. ``any_utf8``: some line holds non-ASCII UTF-8.
    """
    try:
        return data.decode("utf-8"), [], True
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "surrogateescape")
    # no line holds non-ASCII UTF-8: beyond a few lines, call the whole file cp1252
    any_utf8 = bool(_NON_ASCII_UTF8.search(text))
    limit = None if any_utf8 else 1000
    parts, bad = [], []
    pos = counted = 0
    line_no = 1
    for m in _SURROGATE.finditer(text):
        if m.start() < pos:
            continue
        ls = max(text.rfind("\n", 0, m.start()), text.rfind("\r", 0, m.start())) + 1
        end = _EOL.search(text, m.start())
        le = end.start() if end else len(text)
        line_no += (text.count("\n", counted, ls) + text.count("\r", counted, ls)
                    - text.count("\r\n", counted, ls))
        counted = ls
        parts.append(text[pos:ls])
        parts.append(_cp1252(text[ls:le].encode("utf-8", "surrogateescape")))
        bad.append(line_no)
        pos = le
        if limit is not None and len(bad) > limit:
            return _cp1252(data), None, False
    parts.append(text[pos:])
    return "".join(parts), bad, any_utf8


def _lines_note(lines: list[int], limit: int = 10) -> str:
    shown = ", ".join(str(n) for n in lines[:limit])
    more = f" and {len(lines) - limit:,} more" if len(lines) > limit else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


def _csv_rows(lines: list[str], sep: str, quote: str | None) -> tuple[list[list[str]], list[int]]:
    """Parse text lines (no line breaks) into rows; also each row's first line index."""
    kw = {"delimiter": sep, "quotechar": quote, "strict": False}
    if quote is None:
        kw["quoting"] = csv.QUOTE_NONE
    reader = csv.reader(iter(lines), **kw)
    rows, starts = [], []
    while True:
        start = reader.line_num
        try:
            row = next(reader)
        except (StopIteration, csv.Error):
            break
        rows.append(row)
        starts.append(start)
    return rows, starts


def _sniff_delimiter(lines: list[str], quote: str | None = '"') -> str:
    """The delimiter of a text file: the candidate that splits the most lines into the
    same, largest number of fields (ties: ; before , before tab before |)."""
    lines = [ln for ln in lines if ln.strip()][:_HEAD_ROWS]
    best, best_score = ",", (False, 1)
    for d in [";", ",", "\t", "|"]:
        rows, _ = _csv_rows(lines, d, quote)
        widths = Counter(len(r) for r in rows if r)
        if not widths:
            continue
        width = max(widths, key=lambda w: (widths[w], w))
        score = (widths[width] * 2 >= len(rows), width)
        if width > 1 and score > best_score:
            best, best_score = d, score
    return best


def _polars_read(src, sep: str, quote: str | None, skip: int,
                 n_rows: int | None) -> tuple[pl.DataFrame | None, str | None]:
    """``(frame, None)``, or ``(None, problem)`` with problem 'utf8', 'nodata' or polars'
    message."""
    try:
        return pl.read_csv(src, separator=sep, infer_schema=False, quote_char=quote,
                           skip_lines=skip, encoding="utf8", raise_if_empty=True,
                           n_rows=n_rows), None
    except pl.exceptions.NoDataError:
        return None, "nodata"
    except UnicodeDecodeError:
        return None, "utf8"
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
        msg = str(exc) or type(exc).__name__
        if "utf-8" in msg.lower() or "utf8" in msg.lower():
            return None, "utf8"
        return None, msg


def read_text(path: Path, *, delimiter: str | None = None, encoding: str | None = None,
              quote: str | None = '"', name: str | None = None,
              n_rows: int | None = None, header_row: int | None = None) -> RawTable:
    """Read a delimited text file with every column as text (``n_rows``: only the first).

    The delimiter, the encoding (line by line: a few lines that are not UTF-8 are read as
    cp1252 and listed in the notes), the line endings (LF, CRLF, classic Mac CR or a mix)
    and the header row (a title, blank lines or ``sep=;`` above it are skipped) are
    sniffed from the first 64 KB.

    Parameters
    ----------
    path : Path
        The file.
    delimiter, encoding, quote : str, optional
        Override the sniffed values; ``quote=None`` reads quotes as ordinary characters.
    name : str, optional
        The table's name (default: the file's stem).
    n_rows : int, optional
        Read only the first rows.
    header_row : int, optional
        0-based index of the header among the file's lines; None: detect it.

    Returns
    -------
    RawTable
        ``header_row`` says which line held the header; ``notes`` how the file was read.

    Raises
    ------
    SourceError
        Empty file, a file that is really Excel/Parquet/HTML/binary, an encoding that
        cannot be decoded, a wrong delimiter (everything lands in one column), ragged rows,
        a stray quote that swallows records, or rows that the parse loses.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "orders.csv"
    >>> _ = p.write_bytes(b"Sales report\\r\\rid;amount\\r1;12,50\\r2;8,00\\r")
    >>> raw = read_text(p)
    >>> raw.frame.rows(), raw.header_row
    ([('1', '12,50'), ('2', '8,00')], 2)
    >>> raw.notes[0]
    'header found on line 3; the 2 lines above it (a title) were skipped'
    >>> raw.notes[1]
    'line endings: CR only (classic Mac)'
    """
    path = Path(path)
    nm = _nm(path)
    quote = quote or None
    if not path.exists() and not path.is_symlink():
        raise SourceError(f"{safe_text(path, 200)}: no such file")
    head = _magic(path)
    kind = sniff_kind(path, head)
    if kind == "empty":
        raise SourceError(f"{nm}: the file is empty; re-export the table with a "
                          f"header row and its rows (or remove the file).")
    if kind not in ("text", "utf16"):
        raise _wrong_format(path, "a CSV text file", kind)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SourceError(f"{nm}: cannot decode the file as {safe_text(encoding)!r} "
                              f"(no such encoding); set the right encoding in the mapping "
                              f"file, e.g. encoding = \"cp1252\" or \"utf-8\".") from None
    enc = _choose_encoding(head, encoding)
    size = path.stat().st_size
    truncated = size > len(head)
    # the head as text, for sniffing only
    if enc == "utf-16":
        text_head = head[:len(head) - len(head) % 2].decode("utf-16", errors="replace")
    elif _is_utf8(enc):
        text_head = _decode_mixed(head)[0]
    else:
        text_head = head.decode(enc, errors="replace")
    text_head = text_head.lstrip("\ufeff")
    head_utf8 = _is_utf8(enc) and _is_valid_utf8(head, truncated)
    lone_cr = bool(_LONE_CR.search(text_head[:-1] if truncated else text_head))
    lines = _EOL.split(text_head)
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # a partial last line
    if not any(ln.strip() for ln in lines):
        raise SourceError(f"{nm}: the file holds only blank lines; re-export it "
                          f"with a header row.")
    first = next(i for i, ln in enumerate(lines) if ln.strip())
    sep_line = None
    cand = lines[first].strip()
    if cand.lower().startswith("sep=") and len(cand) == 5:
        delimiter = delimiter or cand[4]
        sep_line = first
    sep = delimiter or _sniff_delimiter([ln for i, ln in enumerate(lines) if i != sep_line],
                                        quote)
    if len(sep) != 1:
        raise SourceError(f"{nm}: delimiter {safe_text(sep)!r} must be one character")
    rows, starts = _csv_rows(lines[:_HEAD_ROWS * 4], sep, quote)
    if sep_line is not None and sep_line in starts:
        rows[starts.index(sep_line)] = []
    notes: list[str] = []
    if header_row is None:
        skip = starts[find_header_row(rows[:_HEAD_ROWS])] if rows else 0
    else:
        if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 0:
            raise SourceError(f"{nm}: header_row must be a line number counted from 0, got "
                              f"{safe_text(repr(header_row))}")
        if header_row >= len(lines) or not lines[header_row].strip():
            where = "blank" if header_row < len(lines) else "past the first lines read"
            raise SourceError(f"{nm}: header_row = {header_row} (line {header_row + 1}) is "
                              f"{where}; set header_row to the 0-based line of the column "
                              f"names.")
        skip = header_row
    above = [i for i in range(skip) if lines[i].strip() and i != sep_line]
    if above:
        notes.append(f"header found on line {skip + 1}; the {skip} line"
                     f"{'s' if skip > 1 else ''} above it (a title) were skipped")
    # read: the fast path lets polars read the file itself
    if head_utf8 and not lone_cr:
        frame, problem = _polars_read(path, sep, quote, skip, n_rows)
    else:
        frame, problem = None, "slow"
    if frame is not None and n_rows is None and _suspicious(frame, size, lines, skip, sep,
                                                            starts):
        frame, problem = None, "suspicious"
    if frame is None:
        if problem == "nodata" and kind == "text" and not lone_cr:
            raise SourceError(f"{nm}: the file has no header row or rows; re-export it "
                              f"with a header row.")
        text, more = _read_slow(path, enc, encoding, skip)
        notes.extend(more)
        frame, problem = _polars_read(io.BytesIO(text.encode("utf-8")), sep, quote, skip,
                                      n_rows)
        if problem == "nodata":
            raise SourceError(f"{nm}: the file has no header row or rows; re-export it "
                              f"with a header row.")
        if frame is None:
            raise _diagnose(nm, text, sep, quote, skip, problem)
        if n_rows is None:
            _check_lost_rows(nm, frame, text, sep, quote, skip)
    if frame.width == 1:
        header = frame.columns[0]
        for d in _DELIMS:
            if d != sep and d in header and len(header.split(d)) > 1:
                raise SourceError(
                    f"{nm}: read as a single column {safe_text(header)!r} with the "
                    f"{_DELIM_NAMES[sep]} delimiter, but the header contains "
                    f"{_DELIM_NAMES[d]}s; the delimiter is probably {d!r}. Set delimiter = "
                    f"{d!r} for this table in the mapping file.")
    dups = [c for c in frame.columns if re.search(r"_duplicated_\d+$", c)
            and c.rsplit("_duplicated_", 1)[0] in frame.columns]
    if dups:
        names = ", ".join(repr(safe_text(c.rsplit("_duplicated_", 1)[0])) for c in dups)
        notes.append(f"the header repeats column name{'s' if len(dups) > 1 else ''} {names}; "
                     f"the repeats are read as {', '.join(repr(safe_text(c)) for c in dups)} "
                     f"(rename them in the file to map them)")
    if sep != ",":
        notes.append(f"{_DELIM_NAMES.get(sep, repr(sep))}-delimited")
    return RawTable(name=name or path.stem, frame=frame, source=nm,
                    hint_comma=(sep == ";"), notes=notes, header_row=skip)


def _is_valid_utf8(head: bytes, truncated: bool) -> bool:
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return truncated and exc.start >= len(head) - 3  # a character cut at the end


def _suspicious(frame: pl.DataFrame, size: int, lines: list[str], skip: int,
                sep: str, starts: list[int]) -> bool:
    """Cheap checks after the fast read: did the parse lose rows (line breaks it did not
    see, records swallowed by a stray quote)? True sends the file down the careful path.
    ``starts``: the first line of each record parsed from the head."""
    data_lines = [ln for ln in lines[skip + 1:] if ln.strip()]
    if data_lines and frame.height == 0:
        return True
    later = [i for i in starts if i > skip]
    if len(later) >= 6:  # bytes per record in the head (the last record may be cut)
        header_bytes = sum(len(ln.encode("utf-8")) + 1 for ln in lines[:skip + 1])
        span = sum(len(ln.encode("utf-8")) + 1 for ln in lines[later[0]:later[-1]])
        expected = (size - header_bytes) / (span / (len(later) - 1))
        if frame.height < 0.5 * expected - 5:
            return True
    # a field holding a line break and a whole record after it
    shortest = min((len(ln.encode("utf-8")) for ln in data_lines), default=1)
    strings = [c for c, t in frame.schema.items() if t == pl.String]
    if not strings or frame.width < 2:
        return False
    longest = frame.select(pl.col(strings).str.len_bytes().max()).row(0)
    suspects = [c for c, n in zip(strings, longest) if n is not None and n > shortest]
    if not suspects:
        return False
    hits = frame.select(pl.any_horizontal(
        (pl.col(c).str.len_bytes() > shortest) & _swallows_expr(c, frame.columns.index(c),
                                                                frame.width, sep)
        for c in suspects).any()).item()
    return bool(hits)


def _swallows_expr(column: str, col: int, width: int, sep: str) -> pl.Expr:
    """Polars form of :func:`_swallows`: the cells of ``column`` (the ``col``-th) that hold
    whole records."""
    d = f"\\x{{{ord(sep):x}}}"

    def line(k: int) -> str:
        return f"[^\\n{d}]*(?:{d}[^\\n{d}]*){{{k}}}"
    pattern = (f"^{line(max(width - 1 - col, 0))}\\n(?:{line(width - 1)}\\n)"
               f"{{{2 if width <= 2 else 1},}}[^\\n]*$")
    c = pl.col(column)
    return c.str.contains(pattern) | ((c.str.len_bytes() > 100_000)
                                      & c.str.contains("\n[^\n]*\n"))


def _read_slow(path: Path, enc: str, encoding: str | None, skip: int) -> tuple[str, list[str]]:
    """The whole file as text, decoded line by line where needed and with every line break
    (CR, LF, CRLF) made LF; and notes on what was done."""
    nm = _nm(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{nm}: cannot read the file ({safe_text(exc.strerror or exc)})."
                          ) from None
    notes = []
    if _is_utf8(enc):  # stated or assumed: lines that are not UTF-8 are decoded one by one
        text, bad, any_utf8 = _decode_mixed(data)
        if encoding and (bad is None or (bad and not any_utf8)):
            # stated UTF-8, yet no line holds UTF-8 beyond ASCII: the statement is wrong
            try:
                data.decode("utf-8")
                start = 0
            except UnicodeDecodeError as exc:
                start = exc.start
            raise SourceError(f"{nm}: the file is not valid {safe_text(enc)} (line "
                              f"{_line_of(data, start)}) and holds no UTF-8 text beyond "
                              f"ASCII; set the right encoding in the mapping file, e.g. "
                              f"encoding = \"cp1252\".")
        if bad is None:
            notes.append("not valid UTF-8: read as cp1252 (Windows Western)")
        elif bad and not any_utf8:
            notes.append(f"not valid UTF-8: read as cp1252 (Windows Western); "
                         f"{_lines_note(bad)} hold its non-ASCII characters")
        elif bad:
            notes.append(f"not valid UTF-8 on {len(bad):,} line{'s' if len(bad) > 1 else ''} "
                         f"({_lines_note(bad)} of the file): "
                         f"{'those lines' if len(bad) > 1 else 'that line'} read as cp1252 "
                         f"(Windows Western), the rest as UTF-8; check "
                         f"{'them' if len(bad) > 1 else 'it'}")
    else:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            raise SourceError(f"{nm}: the file is not valid {safe_text(enc)} (line "
                              f"{_line_of(data, exc.start)}); set the right encoding in the "
                              f"mapping file, e.g. encoding = \"cp1252\" or "
                              f"\"utf-8\".") from None
        if enc != "utf-16":
            notes.append(f"read as {safe_text(enc)}")
    text = text.lstrip("\ufeff")
    if "\r" in text:
        if "\r\r\n" in text:  # CRLF converted to CRLF once more
            text = text.replace("\r\r\n", "\n")
            notes.append("line endings: CR CR LF (converted twice) read as one line break")
        if _LONE_CR.search(text):
            notes.append("line endings: CR only (classic Mac)" if "\n" not in text
                         else "mixed line endings (CR, LF, CRLF) all read as line breaks")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, notes


def _line_of(data: bytes, offset: int) -> int:
    """The 1-based line of a byte offset, whatever the line endings."""
    before = data[:max(offset, 0)]
    return (before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n")) + 1


def _check_lost_rows(nm: str, frame: pl.DataFrame, text: str, sep: str,
                     quote: str | None, skip: int) -> None:
    """After the careful read: the rows must account for the lines, and no field may hold
    records swallowed by a stray quote."""
    lines = text.count("\n") + (0 if text.endswith("\n") else 1) - skip - 1
    if frame.height < 0.5 * lines - 5 or (lines > 0 and frame.height == 0):
        inside = frame.select(pl.sum_horizontal(
            pl.col(c).str.count_matches("\n", literal=True).sum()
            for c in frame.columns)).item() if frame.width else 0
        if lines - frame.height - (inside or 0) > max(5, 0.01 * lines) or frame.height == 0:
            raise _diagnose(nm, text, sep, quote, skip, None, lines=lines,
                            rows=frame.height)
    if frame.width >= 2 and quote is not None and quote in text:
        flagged = frame.with_row_index("_i").filter(pl.any_horizontal(
            _swallows_expr(c, i, frame.width, sep) for i, c in enumerate(frame.columns)))
        if flagged.height:
            raise _diagnose(nm, text, sep, quote, skip, None,
                            flagged=flagged["_i"].head(5).to_list())


def _swallows(field: str, sep: str, width: int, col: int) -> bool:
    """A field (in column ``col``) that holds whole records: its first line holds the rest
    of its own record and every complete line inside it has exactly the header's number of
    delimiters (for two columns: at least two such lines)."""
    parts = field.split("\n")
    inner = parts[1:-1]
    if len(field) > 100_000 and len(parts) > 2:
        return True
    return (len(inner) >= (2 if width <= 2 else 1)
            and parts[0].count(sep) == max(width - 1 - col, 0)
            and all(ln.count(sep) == width - 1 for ln in inner))


def _find_problems(text: str, sep: str, quote: str | None, skip: int):
    """``(stray, ragged, width)``: up to 5 records a stray quote swallows ``(first line,
    last line)`` and up to 5 ragged lines ``(line, fields)``, by Python's csv module."""
    kw = {"delimiter": sep, "quotechar": quote, "strict": False}
    if quote is None:
        kw["quoting"] = csv.QUOTE_NONE
    stream = io.StringIO(text)
    for _ in range(skip):
        stream.readline()
    reader = csv.reader(stream, **kw)
    width = None
    stray: list[tuple[int, int]] = []
    ragged: list[tuple[int, int]] = []
    while len(stray) < 5 and len(ragged) < 5:
        start = reader.line_num + skip + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:  # a field that runs past the size limit: an unclosed quote
            stray.append((start, reader.line_num + skip))
            break
        end = reader.line_num + skip
        if width is None:
            width = len(row)
            continue
        if not row:
            continue
        if end > start and any("\n" in f and _swallows(f, sep, width, i)
                               for i, f in enumerate(row)):
            stray.append((start, end))
        elif len(row) > width:
            ragged.append((start, len(row)))
    return stray, ragged, width


def _diagnose(nm: str, text: str, sep: str, quote: str | None, skip: int,
              problem: str | None, *, lines: int | None = None, rows: int | None = None,
              flagged: list[int] | None = None) -> SourceError:
    """The error for a file whose parse fails or loses rows: the lines a stray quote
    swallows or the ragged lines, and how to fix them."""
    if problem is not None and "duplicate" in problem.lower():
        return _parse_error(nm, sep, problem)
    stray, ragged, width = _find_problems(text, sep, quote, skip)
    delim = _DELIM_NAMES.get(sep, repr(sep))
    if stray:
        (s, e), others = stray[0], [str(a) for a, _ in stray[1:]]
        span = f" on line {e}" if e <= s + 1 else f"s on lines {s + 1}-{e}"
        also = (f" (more quotes like it on line{'s' if len(others) > 1 else ''} "
                f"{', '.join(others)})" if others else "")
        return SourceError(f"{nm}: a quote opened on line {s} is not closed where its field "
                           f"ends, so it swallows the record{span} into one field{also}. "
                           f"Fix the quote in the file, or, if its fields are "
                           f"never quoted, set quote = \"\" for this table in the mapping "
                           f"file.")
    if ragged:
        (ln, n), others = ragged[0], [str(a) for a, _ in ragged[1:]]
        also = (f"; also line{'s' if len(others) > 1 else ''} {', '.join(others)}"
                if others else "")
        return SourceError(
            f"{nm}: cannot read it as {delim}-delimited text (line {ln} has {n} fields but "
            f"the header has {width}{also}). Check that every row has the same number of "
            f"fields and that quotes are balanced; set delimiter (and quote) for this table "
            f"in the mapping file if the sniffed {sep!r} is wrong.")
    if problem is not None:
        return _parse_error(nm, sep, problem)
    if flagged:
        where = ", ".join(str(i + 1) for i in flagged)
        verb = "hold" if len(flagged) > 1 else "holds"
        return SourceError(f"{nm}: data row{'s' if len(flagged) > 1 else ''} {where} (counted "
                           f"from the header) {verb} whole records inside one quoted field: a "
                           f"stray quote. Fix the quote in the file, or, if its fields are "
                           f"never quoted, set quote = \"\" for this table in the mapping "
                           f"file.")
    return SourceError(f"{nm}: the file has {lines:,} lines after the header but only "
                       f"{rows:,} rows could be read from it; check its line endings and "
                       f"quotes (or set delimiter and quote for this table in the mapping "
                       f"file).")


def _parse_error(nm: str, sep: str, msg: str) -> SourceError:
    first = msg.strip().splitlines()[0] if msg.strip() else "unknown error"
    if "duplicate" in msg.lower():
        return SourceError(f"{nm}: the header repeats a column name "
                           f"({safe_text(first, 120)}); give every column a unique name.")
    return SourceError(
        f"{nm}: cannot read it as {_DELIM_NAMES.get(sep, repr(sep))}-delimited text "
        f"({safe_text(first, 120)}). Check that every row has the same number of fields "
        f"and that quotes are balanced; set delimiter (and quote) for this table in the "
        f"mapping file if the sniffed {sep!r} is wrong.")


def read_parquet(path: Path, *, name: str | None = None) -> RawTable:
    """Read a Parquet file (types kept)."""
    kind = sniff_kind(path)
    if kind == "empty":
        raise SourceError(f"{_nm(path)}: the file is empty; re-export it.")
    if kind != "parquet":
        raise _wrong_format(path, "a Parquet file", kind)
    try:
        frame = pl.read_parquet(path)
    except (Exception, pl.exceptions.PanicException) as exc:  # noqa: BLE001 - any failure
        raise SourceError(f"{_nm(path)}: cannot read the Parquet file ({_first_line(exc)}); "
                          f"it is damaged or incomplete (a partial copy or download?): "
                          f"re-export it.") from None
    return RawTable(name=name or path.stem, frame=frame, source=_nm(path))


def _first_line(exc: BaseException, limit: int = 120) -> str:
    text = str(exc).strip()
    return safe_text(text.splitlines()[0] if text else type(exc).__name__, limit)


def excel_sheets(path: Path) -> list[str]:
    """Sheet names of an .xlsx workbook (a truncated or damaged file, or another kind of
    zip archive, is a SourceError)."""
    kind = sniff_kind(path)
    if kind == "empty":
        raise SourceError(f"{_nm(path)}: the file is empty; re-export it.")
    if kind != "zip":
        raise _wrong_format(path, "an Excel .xlsx workbook", kind)
    try:
        import fastexcel
        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception as exc:  # noqa: BLE001
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(f"{_nm(path)}: cannot open the workbook "
                          f"({safe_text(first, 120)}); it is damaged or not an Excel "
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



def db_tables(path: Path) -> tuple[str, list[str]]:
    """(kind, table names) of a DuckDB or SQLite database file."""
    kind = sniff_kind(path)
    if kind == "sqlite":
        con = _sqlite(path)
        try:
            names = [r[0] for r in con.execute(
                "select name from sqlite_master where type in ('table', 'view') "
                "and name not like 'sqlite_%' order by name")]
        except sqlite3.Error as exc:
            raise _sqlite_error(path, None, exc) from None
        finally:
            con.close()
        return kind, names
    if kind == "duckdb":
        con = _duckdb(path)
        try:
            names = [r[0] for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' order by table_name").fetchall()]
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"{_nm(path)}: cannot list the tables of the DuckDB database "
                              f"({_first_line(exc)}); it may be damaged: export it "
                              f"again.") from None
        finally:
            con.close()
        return kind, names
    if kind == "empty":
        raise SourceError(f"{_nm(path)}: the database file is empty.")
    raise _wrong_format(path, "a DuckDB or SQLite database", kind)


def _sqlite_uri(path: Path) -> str:
    """A read-only ``file:`` URI for ``path``; ``#``, ``%`` and ``?`` in the name are
    percent-encoded (``file:{path}?mode=ro`` would open another, empty database)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def _sqlite_error(path: Path, table: str | None, exc: Exception) -> SourceError:
    where = _nm(path) if table is None else f"{_nm(path)}, table {safe_text(table)!r}"
    text = safe_text(exc, 120)
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return SourceError(f"{where}: the SQLite database is damaged ({text}); it may be a "
                           f"partial copy or download: copy or export it again.")
    return SourceError(f"{where}: cannot read it ({text}).")


def _sqlite(path: Path) -> sqlite3.Connection:
    head = _magic(path)[:100]
    if len(head) == 100:
        page = int.from_bytes(head[16:18], "big")
        page = 65536 if page == 1 else page
        pages = int.from_bytes(head[28:32], "big")
        if head[24:28] == head[92:96] and pages and page * pages > path.stat().st_size:
            raise SourceError(f"{_nm(path)}: the SQLite database is truncated (it should hold "
                              f"{page * pages:,} bytes, the file has "
                              f"{path.stat().st_size:,}); it is a partial copy or download: "
                              f"copy it again.")
    try:
        return sqlite3.connect(_sqlite_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise SourceError(f"{_nm(path)}: cannot open the SQLite database "
                          f"({safe_text(exc, 120)}).") from None


def _duckdb(path: Path):
    import duckdb
    try:
        return duckdb.connect(str(path), read_only=True)
    except Exception as exc:  # noqa: BLE001
        raise SourceError(f"{_nm(path)}: cannot open the DuckDB database "
                          f"({_first_line(exc)}); it may be damaged or a partial copy: "
                          f"export it again.") from None


def read_db_table(path: Path, kind: str, table: str, *, name: str | None = None) -> RawTable:
    """Read one table of a SQLite or DuckDB database (types kept where uniform)."""
    where = f"{_nm(path)}, table {safe_text(table)!r}"
    quoted = '"' + table.replace('"', '""') + '"'
    if kind == "duckdb":
        con = _duckdb(path)
        try:
            frame = con.sql(f"select * from {quoted}").pl()
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"{where}: cannot read it ({_first_line(exc)}).") from None
        finally:
            con.close()
        return RawTable(name=name or table, frame=frame, source=where)
    con = _sqlite(path)
    try:
        cur = con.execute(f"select * from {quoted}")
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    except sqlite3.Error as exc:
        raise _sqlite_error(path, table, exc) from None
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
