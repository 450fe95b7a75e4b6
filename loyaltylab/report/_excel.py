"""Tables to an Excel workbook: one formatted sheet per table."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import polars as pl

from loyaltylab._util import as_polars
from loyaltylab.data import schema as S
from loyaltylab.data.privacy import neutralize_formulas

__all__ = ["export_tables", "sanitize_sheet_names", "check_no_identifiers",
           "IDENTIFIER_COLUMNS"]

IDENTIFIER_COLUMNS = (S.CUSTOMER_ID, S.ORDER_ID, S.REFERRER_ID, S.REFERRED_ID, S.VISITOR_ID)
"""Columns that identify a customer (or one of their orders or visits). Report tables must
not carry them; aggregate first."""

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_MAX_SHEET = 31

_WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                     "strings_to_numbers": False}
"""Text stays text: no cell written from a string becomes a formula, a link or a number."""

_HEADER_FORMAT = {"bold": True, "bg_color": "#DCE6F1", "font_color": "#1F1F1F",
                  "bottom": 2, "border_color": "#0072B2", "text_wrap": True,
                  "valign": "top"}


def sanitize_sheet_names(names: Sequence[str]) -> list[str]:
    """Make names valid, distinct Excel sheet names, in order.

    Excel's rules: at most 31 characters; none of ``[ ] : * ? / \\``; not blank; not
    starting or ending with an apostrophe; not ``History`` (reserved); unique ignoring case.
    Invalid characters become ``_``; clashes get `` (2)``, `` (3)``, ... within 31
    characters.

    Examples
    --------
    >>> sanitize_sheet_names(["Retention by segment and acquisition channel",
    ...                       "Q1/Q2 [draft]", "history", "", "retention BY segment and "
    ...                       "acquisition channel"])
    ['Retention by segment and acquis', 'Q1_Q2 _draft_', 'history_', 'Sheet', \
'retention BY segment and ac (2)']
    """
    out: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = _INVALID_SHEET_CHARS.sub("_", str(raw)).strip().strip("'").strip()
        name = re.sub(r"\s+", " ", name) or "Sheet"
        if name.lower() == "history":
            name += "_"
        name = name[:_MAX_SHEET].rstrip()
        candidate, k = name, 2
        while candidate.lower() in seen:
            suffix = f" ({k})"
            candidate = name[:_MAX_SHEET - len(suffix)].rstrip() + suffix
            k += 1
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def check_no_identifiers(frame: pl.DataFrame, *, name: str = "table") -> None:
    """Raise ValueError if a table carries customer identifiers or personal columns.

    Examples
    --------
    >>> check_no_identifiers(pl.DataFrame({"segment": ["a"], "campaign_name": ["x"]}))
    >>> check_no_identifiers(pl.DataFrame({"customer_id": ["C1"]}), name="top buyers")
    Traceback (most recent call last):
    ...
    ValueError: table 'top buyers' has column(s) ['customer_id'] that identify customers \
or hold personal data; reports must not carry them. Aggregate or drop these columns first, \
or pass allow_identifiers=True for a file that stays inside the client's organisation.
    """
    from loyaltylab.data.privacy import is_personal

    bad = []
    for col in frame.columns:
        norm = re.sub(r"[^a-z0-9]+", "_", col.lower()).strip("_")
        if norm in IDENTIFIER_COLUMNS or is_personal(col):
            bad.append(col)
    if bad:
        raise ValueError(
            f"table {name!r} has column(s) {bad} that identify customers or hold personal "
            f"data; reports must not carry them. Aggregate or drop these columns first, or "
            f"pass allow_identifiers=True for a file that stays inside the client's "
            f"organisation.")


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, pl.Series):
        value = value.to_list()
    return str(value)


def _excel_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested, object and categorical columns as text; time zones dropped (Excel has none);
    NaN and infinite numbers as empty cells (an unbounded interval's edge, a 0/0 rate)."""
    fixes = []
    for col, dtype in frame.schema.items():
        if dtype.is_nested() or dtype == pl.Object:
            fixes.append(pl.col(col).map_elements(_as_text, return_dtype=pl.String))
        elif isinstance(dtype, (pl.Categorical, pl.Enum)):
            fixes.append(pl.col(col).cast(pl.String))
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            fixes.append(pl.col(col).dt.replace_time_zone(None))
        elif dtype == pl.Duration:
            fixes.append(pl.col(col).dt.total_seconds().truediv(86400).alias(col))
        elif dtype.is_float():  # Excel holds no NaN or infinity: an empty cell
            fixes.append(pl.when(pl.col(col).is_finite()).then(pl.col(col)).alias(col))
    return frame.with_columns(fixes) if fixes else frame


def _number_format(series: pl.Series) -> str | None:
    dtype = series.dtype
    if dtype.is_integer():
        return "#,##0"
    if dtype.is_float():
        finite = series.filter(series.is_finite())
        big = finite.len() > 0 and float(finite.abs().max()) >= 100
        return "#,##0.00" if big else "0.000"
    if dtype == pl.Date:
        return "yyyy-mm-dd"
    if isinstance(dtype, pl.Datetime):
        return "yyyy-mm-dd hh:mm"
    return None


def _width_pixels(series: pl.Series, header: str) -> int:
    sample = series.head(500)
    if sample.dtype == pl.String:
        lengths = sample.str.len_chars().drop_nulls()
        longest = int(lengths.max()) if lengths.len() else 0
    elif sample.dtype.is_float():
        longest = 12
    elif isinstance(sample.dtype, pl.Datetime):
        longest = 16
    else:
        longest = max((len(str(v)) for v in sample.to_list()), default=0) + 2
    chars = min(max(longest, min(len(header), 40)) + 2, 60)
    return int(chars * 7 + 5)


def export_tables(tables: Mapping[str, Any], path: str | Path, *,
                  notes: Mapping[str, str] | None = None,
                  allow_identifiers: bool = False) -> dict[str, str]:
    """Write tables to an Excel workbook, one formatted sheet per table.

    Client text is written as text, never as a formula or a link: text cells that a
    spreadsheet would run (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return) get a leading apostrophe (see
    :func:`loyaltylab.data.privacy.neutralize_formulas`), and the workbook is written with
    xlsxwriter's ``strings_to_formulas`` and ``strings_to_urls`` off.

    Each sheet has a bold, shaded, wrapped header row that stays frozen when scrolling, an
    autofilter, column widths fitted to the content, thousands separators on counts,
    ``0.000`` on rates and ``#,##0.00`` on amounts, and ISO dates.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Sheet title -> table (polars, or pandas converted at the edge). Titles are made
        valid sheet names (see :func:`sanitize_sheet_names`).
    path : str or Path
        The ``.xlsx`` file to write (folders are created).
    notes : mapping of str to str, optional
        Title -> a note (what the table shows, its definitions). When given, a first sheet
        ``About`` lists every sheet with its note.
    allow_identifiers : bool
        Tables with customer identifiers or personal columns are refused unless True
        (a file that stays inside the client's organisation).

    Returns
    -------
    dict of str to str
        Table title -> the sheet name it was written to.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tables.xlsx"
    >>> export_tables({"Retention by segment": pl.DataFrame(
    ...     {"segment": ["a", "b"], "customers": [1200, 800], "retention": [0.81, 0.74]})},
    ...     path)
    {'Retention by segment': 'Retention by segment'}
    """
    import xlsxwriter

    if not isinstance(tables, Mapping) or not tables:
        raise ValueError("export_tables: tables must be a non-empty dict of "
                         "{sheet title: DataFrame}")
    frames = {}
    for title, frame in tables.items():
        df = as_polars(frame, name=str(title))
        if not allow_identifiers:
            check_no_identifiers(df, name=str(title))
        frames[str(title)] = neutralize_formulas(_excel_ready(df))
    titles = list(frames)
    reserved = ["About"] if notes else []
    sheet_names = sanitize_sheet_names(reserved + titles)[len(reserved):]
    mapping = dict(zip(titles, sheet_names))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path), _WORKBOOK_OPTIONS) as wb:
        wb.set_properties({"title": path.stem, "creator": "loyaltylab"})
        if notes:
            about = neutralize_formulas(pl.DataFrame(
                {"sheet": sheet_names, "rows": [frames[t].height for t in titles],
                 "note": [notes.get(t, "") for t in titles]},
                schema={"sheet": pl.String, "rows": pl.Int64, "note": pl.String}))
            about.write_excel(workbook=wb, worksheet="About", header_format=_HEADER_FORMAT,
                              column_formats={"rows": "#,##0"},
                              column_widths={"sheet": 230, "rows": 70, "note": 700},
                              freeze_panes="A2", autofilter=False)
        for title, sheet in mapping.items():
            df = frames[title]
            formats = {c: f for c in df.columns
                       if (f := _number_format(df.get_column(c))) is not None}
            widths = {c: _width_pixels(df.get_column(c), c) for c in df.columns}
            if df.width == 0:
                wb.add_worksheet(sheet).write(0, 0, "(empty table)")
                continue
            df.write_excel(workbook=wb, worksheet=sheet, header_format=_HEADER_FORMAT,
                           column_formats=formats or None, column_widths=widths,
                           freeze_panes="A2", autofilter=True,
                           table_style="Table Style Light 1")
    return mapping
