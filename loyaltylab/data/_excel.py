"""Reading one .xlsx sheet faithfully (not public API; used by ``_io.read_excel_sheet``).

Three things a plain ``read_excel`` gets wrong on client workbooks:

- **The sheet's extent.** calamine allocates the whole rectangle from A1 to the farthest
  cell; one stray cell at XFD1048576 asks for 500 GB and the process aborts. The sheet's
  XML is scanned first (:func:`sheet_extent`) and such a sheet is refused with a
  :class:`~loyaltylab.exceptions.SourceError` before calamine sees it.
- **The header row.** A title (report name, export date) above the header is skipped: the
  header is found by :func:`~loyaltylab.data._header.find_header_row` unless the mapping
  says where it is.
- **Columns of mixed cells.** A column holding real numbers in some cells and text in
  others ("1 234,50", "1.234,50 €", "03.04.2025") is read as text, but each cell keeps its
  kind (:func:`read_sheet`): real numbers are written without any separator (an integer,
  or integer digits and an exponent: 1234.5 -> ``12345e-1``), so they read exactly whatever
  decimal convention the text cells turn out to use; real dates are written in ISO form;
  text cells are left as they are, for the validator to parse with the column's format.
"""

from __future__ import annotations

import contextlib
import logging
import re
import zipfile
from pathlib import Path, PurePosixPath

import polars as pl

from loyaltylab.exceptions import SourceError

__all__ = ["sheet_extent", "check_sheet_extent", "read_sheet", "native_number_text"]

_CELL_BYTES = 32  # calamine's size of one cell in its dense range
_MAX_DENSE_CELLS = 50_000_000  # 1.6 GB: beyond this, a sparse sheet is refused
_CHUNK = 1 << 24
_EXCEL_MAX_SERIAL = 2958465.0  # 9999-12-31
_CELL_TEXT = r"^-?\d+(\.\d+)?$|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"  # a number or date cell
_SHEET_RE = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_ATTR_RE = re.compile(rb'([\w:]+)="([^"]*)"')
_REL_RE = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ROW_RE = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')
_WIDE_COL_RE = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]{2,3})\d')
_CELL_RE = re.compile(rb"<(?:\w+:)?c[\s>/]")


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _col_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _sheet_part(z: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding ``sheet``'s XML (None when the workbook does not say)."""
    try:
        wb = z.read("xl/workbook.xml")
        rels = z.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    rid = None
    for tag in _SHEET_RE.findall(wb):
        attrs = {k.split(b":")[-1]: v for k, v in _ATTR_RE.findall(tag)}
        name = attrs.get(b"name", b"").decode("utf-8", "replace")
        name = (name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
                .replace("&quot;", '"').replace("&apos;", "'"))
        if name == sheet:
            rid = attrs.get(b"id")
            break
    if rid is None:
        return None
    for tag in _REL_RE.findall(rels):
        attrs = dict(_ATTR_RE.findall(tag))
        if attrs.get(b"Id") == rid:
            target = attrs.get(b"Target", b"").decode("utf-8", "replace")
            if target.startswith("/"):
                return target.lstrip("/")
            return str(PurePosixPath("xl") / target)
    return None


def sheet_extent(path: Path, sheet: str) -> tuple[int, int, int] | None:
    """(last row, last column, number of cells) of a sheet, from its XML.

    The XML is inflated in chunks and scanned for row numbers and cell references of two
    or three letters (columns beyond Z); nothing else is parsed. None when the sheet's
    part cannot be found (calamine then reports the problem).
    """
    with zipfile.ZipFile(path) as z:
        part = _sheet_part(z, sheet)
        if part is None or part not in z.namelist():
            return None
        max_row = max_col = n_cells = 0
        tail = b""
        with z.open(part) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                data = tail + chunk
                cut = max(len(tail), len(data) - 64)  # a tag cut at the end: next round
                scan = data[:cut] if chunk else data
                for m in _ROW_RE.finditer(scan):
                    max_row = max(max_row, int(m.group(1)))
                for letters in set(_WIDE_COL_RE.findall(scan)):
                    max_col = max(max_col, _col_number(letters.decode()))
                n_cells += len(_CELL_RE.findall(scan))
                tail = data[cut:]
            for m in _ROW_RE.finditer(tail):
                max_row = max(max_row, int(m.group(1)))
            for letters in set(_WIDE_COL_RE.findall(tail)):
                max_col = max(max_col, _col_number(letters.decode()))
            n_cells += len(_CELL_RE.findall(tail))
    return max_row, max(max_col, 26 if n_cells else 0), n_cells


def check_sheet_extent(path: Path, sheet: str, where: str) -> None:
    """Refuse a sheet whose farthest cell would make calamine allocate gigabytes for a
    mostly empty rectangle (a stray cell at XFD1048576 asks for 500 GB and aborts the
    process). Dense sheets of any size pass."""
    try:
        ext = sheet_extent(path, sheet)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise SourceError(f"{where}: cannot read the workbook ({exc}); save it again from "
                          f"Excel as .xlsx.") from None
    except Exception as exc:  # noqa: BLE001 - zlib errors and the like: a damaged file
        raise SourceError(f"{where}: the workbook is damaged ({type(exc).__name__}); "
                          f"save it again from Excel as .xlsx.") from None
    if ext is None:
        return
    rows, cols, cells = ext
    dense = rows * cols
    if dense > _MAX_DENSE_CELLS and dense > 20 * max(cells, 1):
        raise SourceError(
            f"{where}: the sheet reaches cell {_col_letters(cols)}{rows} ({rows:,} rows x "
            f"{cols:,} columns, {dense * _CELL_BYTES / 1e9:,.0f} GB to read) but holds only "
            f"{cells:,} cells: a stray cell far outside the table, or a damaged file. In "
            f"Excel, delete the rows and columns beyond the table (or copy the table to a "
            f"new sheet) and save again.")


def native_number_text(e: pl.Expr) -> pl.Expr:
    """Real numbers (Float64) as text without any separator, exactly: integers as
    integers (``12345``), other values as integer digits and an exponent (``12345e-1``
    for 1234.5), so that no decimal or thousands convention can misread them.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.Series("x", [12345.0, 1234.5, -0.25, 1 / 3, 1e21, None])
    >>> out = pl.select(native_number_text(pl.lit(s))).to_series()
    >>> out.to_list()[:3]
    ['12345', '12345e-1', '-025e-2']
    >>> out.cast(pl.Float64).to_list() == s.to_list()
    True
    """
    integral = (e == e.round()) & (e.abs() < 2.0 ** 53)
    text = e.cast(pl.String)
    mantissa = text.str.extract(r"^([^e]*)", 1)
    exponent = text.str.extract(r"e([+-]?\d+)$", 1).cast(pl.Int64).fill_null(0)
    frac = mantissa.str.extract(r"\.(\d*)$", 1).str.len_chars().fill_null(0)
    digits = mantissa.str.replace(".", "", literal=True)
    shifted = exponent - frac.cast(pl.Int64)
    general = pl.when(shifted == 0).then(digits).otherwise(
        digits + pl.lit("e") + shifted.cast(pl.String))
    return (pl.when(e.is_null()).then(pl.lit(None, pl.String))
            .when(integral).then(e.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(general))


def _load(reader, sheet: str, **kw) -> tuple[pl.DataFrame, dict[str, int]]:
    """The sheet as a frame, and each column's absolute index in the sheet (what
    ``use_columns`` takes)."""
    sh = reader.load_sheet(sheet, **kw)
    where = {c.name: c.absolute_index for c in sh.selected_columns}
    return pl.DataFrame(sh), where


def _peek_rows(frame: pl.DataFrame, n: int = 30) -> list[list[str | None]]:
    """The header and first rows of a frame, as text cells."""
    head = [None if str(c).startswith("__UNNAMED__") else str(c) for c in frame.columns]
    body = frame.head(n - 1).select(pl.all().cast(pl.String, strict=False))
    return [head] + [list(r) for r in body.iter_rows()]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@contextlib.contextmanager
def _quiet_fastexcel():
    """fastexcel logs a warning for every all-blank column ("Could not determine dtype");
    the notes say what matters, so those lines are not printed."""
    log = logging.getLogger("fastexcel")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def read_sheet(path: Path, sheet: str, *, header_row: int | None = None
               ) -> tuple[pl.DataFrame, list[str], int]:
    """Read one sheet with calamine, each cell keeping its kind; returns (frame, notes,
    the 0-based sheet row of the header).

    ``header_row`` is the 0-based sheet row of the header (None: found by
    :func:`~loyaltylab.data._header.find_header_row`). Columns whose cells are all
    numbers, all dates or all text keep that type; columns mixing real numbers or dates
    with text are text, with the real cells written so that they read back exactly (see
    the module notes).
    """
    with _quiet_fastexcel():
        return _read_sheet(path, sheet, header_row)


def _read_sheet(path: Path, sheet: str, header_row: int | None
                ) -> tuple[pl.DataFrame, list[str], int]:
    import fastexcel

    from loyaltylab.data._header import find_header_row

    reader = fastexcel.read_excel(str(path))
    notes: list[str] = []
    at = 0 if header_row is None else header_row
    frame, index = _load(reader, sheet, header_row=at, schema_sample_rows=None)
    if header_row is None and frame.width and find_header_row(_peek_rows(frame)) > 0:
        # a title above the header: find the header among the sheet's rows as they are
        # (the first read starts at the first non-blank row, wherever that is)
        raw, _ = _load(reader, sheet, header_row=None, skip_rows=0, n_rows=40,
                       dtypes="string")
        rows = [list(r) for r in raw.iter_rows()]
        found = find_header_row(rows)
        if found > 0:
            above = sum(1 for r in rows[:found] if any(c is not None and str(c).strip()
                                                       for c in r))
            frame, index = _load(reader, sheet, header_row=found, schema_sample_rows=None)
            at = found
            notes.append(f"header found in row {found + 1}; the "
                         f"{_plural(above, 'non-blank row')} above it (a title) skipped")
    elif header_row is not None and header_row > 0:
        notes.append(f"header in row {header_row + 1} (header_row = {header_row}); the "
                     f"rows above it skipped")
    # candidates: text columns with a value written the way calamine writes a number or
    # date cell (a column of names or codes is not read again)
    text_cols = [c for c, t in frame.schema.items() if t == pl.String and c in index]
    if not text_cols or frame.height == 0:
        return frame, notes, at
    looks = frame.select(pl.col(c).str.contains(_CELL_TEXT).any() for c in text_cols).row(0)
    mixed = [c for c, hit in zip(text_cols, looks) if hit]
    if not mixed:
        return frame, notes, at
    # Which text cells were really numbers or dates? A datetime read is non-null exactly
    # for real number and date cells (text is not parsed into dates); a float read gives
    # the exact value of the number cells (and null for date cells).
    as_dt, _ = _load(reader, sheet, header_row=at, use_columns=[index[c] for c in mixed],
                     dtypes="datetime", schema_sample_rows=None)
    real = as_dt.select(pl.col(c).is_not_null().any() for c in as_dt.columns).row(0)
    cols = [(c, d) for c, d, r in zip(mixed, as_dt.columns, real) if r]
    if not cols:
        return frame, notes, at
    as_num, _ = _load(reader, sheet, header_row=at, use_columns=[index[c] for c, _ in cols],
                      dtypes="float", schema_sample_rows=None)
    exprs, counts = [], []
    for (c, d), n in zip(cols, as_num.columns):
        num = as_num.get_column(n)
        # numbers beyond the last Excel date (9999-12-31) have no datetime reading: a
        # float reading that large is a number cell (text of that size reads the same)
        is_real = as_dt.get_column(d).is_not_null() | (num.abs() > _EXCEL_MAX_SERIAL
                                                        ).fill_null(False)
        is_num = is_real & num.is_not_null()
        is_date = is_real & num.is_null()
        text = frame.get_column(c)
        n_text = int((text.is_not_null() & ~is_real).sum())
        counts.append((c, int(is_num.sum()), int(is_date.sum()), n_text))
        exprs.append(
            pl.when(pl.lit(is_num)).then(native_number_text(pl.lit(num)))
            .when(pl.lit(is_date)).then(pl.lit(as_dt.get_column(d))
                                        .dt.strftime("%Y-%m-%d %H:%M:%S"))
            .otherwise(pl.col(c)).alias(c))
    frame = frame.with_columns(exprs)
    from loyaltylab._util import safe_text
    for c, n_num, n_date, n_text in counts:
        kinds = " and ".join(_plural(n, w) for n, w in ((n_num, "number"), (n_date, "date"))
                             if n)
        notes.append(f"column {safe_text(c)!r} mixes cells: {kinds} read as stored, "
                     f"{_plural(n_text, 'text cell')} read with the column's format")
    return frame, notes, at
