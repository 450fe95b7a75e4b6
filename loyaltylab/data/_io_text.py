"""Reading delimited text files (not public API): encodings, delimiters, line endings, the
fast polars path and the slow path that decodes line by line, and the diagnosis of a
parse that loses rows or lets a stray quote swallow records. :func:`read_text` is
re-exported by :mod:`loyaltylab.data._io`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from pathlib import Path

import polars as pl

from loyaltylab._util import safe_text
from loyaltylab.data._header import find_header_row
from loyaltylab.data._io_base import RawTable, _magic, _nm, _wrong_format, sniff_kind
from loyaltylab.exceptions import SourceError

_DELIMS = [",", ";", "\t", "|"]
_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_HEAD_ROWS = 30
_EOL = re.compile(r"\r\r\n|\r\n|\r|\n")
_LONE_CR = re.compile(r"\r(?!\n)")
_SURROGATE = re.compile("[\udc80-\udcff]")
_NON_ASCII_UTF8 = re.compile("[^\x00-\x7f\udc80-\udcff]")


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
