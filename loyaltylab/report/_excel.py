"""Tables to an Excel workbook: one formatted sheet per table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Mapping, Sequence

import polars as pl

from loyaltylab._units import SECONDS_PER_DAY
from loyaltylab._util import as_polars
from loyaltylab.data import schema as S
from loyaltylab.data.privacy import neutralize_formulas

__all__ = ["export_tables", "sanitize_sheet_names", "check_no_identifiers", "column_formats",
           "money_format", "Readme", "FORMAT_HINTS", "GLOSSARY", "write_workbook",
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

    Parameters
    ----------
    names : sequence of str
        The wished sheet names, in order.

    Returns
    -------
    list of str
        One valid, distinct sheet name per input, in the same order.

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
            fixes.append(pl.col(col).dt.total_seconds().truediv(SECONDS_PER_DAY).alias(col))
        elif dtype.is_float():  # Excel holds no NaN or infinity: an empty cell
            fixes.append(pl.when(pl.col(col).is_finite()).then(pl.col(col)).alias(col))
    return frame.with_columns(fixes) if fixes else frame


_EXCEL_MAX_ROWS = 1_048_576 - 1
"""Data rows a sheet can hold below its header row."""

FORMAT_HINTS = {
    "percent": "0.0%", "share": "0.0%", "count": "#,##0", "integer": "#,##0",
    "number": "#,##0.00", "ratio": "0.00", "decimal": "0.000", "days": "#,##0.0",
    "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "pvalue": "0.0000", "text": "@",
}
"""Format hints a table may give per column (``add_table(..., formats={"col": "percent"})``);
``"money"`` is added with the currency. Any other hint is used as an Excel number format."""

_SHARE = re.compile(r"\b(share|shares|rate|pct|percent|percentage|proportion|probability|"
                    r"prob|retention|retained|churn|churned|conversion|survival|defection|"
                    r"alive|stopped|lapse|lapsed|p|promoters|detractors|passives|"
                    r"response|csat|satisfied share|top box)\b")
_MONEY = re.compile(r"\b(amount|revenue|spend|spent|clv|monetary|profit|margin|price|aov|"
                    r"sales|cost|costs|turnover|income|money|currency|lifetime value|"
                    r"order value|customer value|value per)\b")
_INTERVAL = re.compile(r"\b(low|high|lower|upper|lo|hi|ci)\b")
_NPS = re.compile(r"\b(nps|net promoter score)\b")
_PCT = re.compile(r"\b(pct|percent|percentage|csat)\b")
_PVALUE = re.compile(r"\bp ?value\b")
_RATIO = re.compile(r"\b(hazard ratio|ratio|exp coef|coef|odds|lift|hr)\b")
_DURATION = re.compile(r"\b(days|weeks|months|years)\b")


def _words(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(name).lower()).strip()


def money_format(currency: str | None = None) -> str:
    """The Excel number format of money, with the currency when known.

    Examples
    --------
    >>> money_format(), money_format("EUR"), money_format("$")
    ('#,##0.00', '#,##0.00 "EUR"', '"$"#,##0.00')
    """
    if not currency:
        return "#,##0.00"
    cur = str(currency).replace('"', "")
    if len(cur) == 1 and cur in "$£¥":
        return f'"{cur}"#,##0.00'
    return f'#,##0.00 "{cur}"'


def _in_unit_range(series: pl.Series) -> bool:
    finite = series.filter(series.is_finite())
    if finite.len() == 0:
        return False
    return float(finite.min()) >= 0.0 and float(finite.max()) <= 1.0


def column_formats(frame: pl.DataFrame, *, hints: Mapping[str, str] | None = None,
                   currency: str | None = None) -> dict[str, str]:
    """Excel number formats for a table's columns, from hints, types and names.

    An explicit hint wins (a name of :data:`FORMAT_HINTS`, ``"money"``, or an Excel format).
    Otherwise: integers get thousands separators; dates ``yyyy-mm-dd`` (with ``hh:mm`` when
    some time is not midnight); a float column is a share (``0.0%``) when its name says so
    (share, rate, retention, churn, conversion, probability, ...) and every value lies in
    0..1, or when it is an interval edge (low, high, ci) in a table with a share column;
    money (``#,##0.00`` with the currency) when its name says so (amount, revenue, CLV,
    profit, price, ...); p-values ``0.0000``; ratios ``0.00``; other floats ``#,##0.00``
    from 100 up and ``0.000`` below.

    Examples
    --------
    >>> column_formats(pl.DataFrame({"segment": ["a"], "customers": [1200],
    ...     "retention": [0.81], "retention_ci_low": [0.7], "revenue": [1234.5]}),
    ...     currency="EUR")
    {'customers': '#,##0', 'retention': '0.0%', 'retention_ci_low': '0.0%', \
'revenue': '#,##0.00 "EUR"'}
    """
    hints = dict(hints or {})
    unknown = [c for c in hints if c not in frame.columns]
    if unknown:
        raise ValueError(f"formats: column(s) {unknown} are not in the table (its columns: "
                         f"{frame.columns})")
    out: dict[str, str] = {}
    shares: set[str] = set()
    money = money_format(currency)
    for col, dtype in frame.schema.items():
        words = _words(col)
        if col in hints:
            hint = str(hints[col])
            out[col] = money if hint in ("money", "currency") else FORMAT_HINTS.get(hint, hint)
            if out[col] == "@":
                del out[col]
            continue
        if dtype.is_integer():
            out[col] = "0" if words in ("year", "rank", "stage rank") else "#,##0"
        elif dtype == pl.Date:
            out[col] = "yyyy-mm-dd"
        elif isinstance(dtype, pl.Datetime):
            s = frame.get_column(col)
            midnight = bool((s.dt.truncate("1d") == s).all()) if s.len() else True
            out[col] = "yyyy-mm-dd" if midnight else "yyyy-mm-dd hh:mm"
        elif dtype.is_float():
            s = frame.get_column(col)
            if _PVALUE.search(words):
                out[col] = "0.0000"
            elif _NPS.search(words):
                out[col] = "0.0"
            elif _PCT.search(words) and not _in_unit_range(s):
                out[col] = '0.0" %"'  # already in percent: shown with a sign, not scaled
            elif _SHARE.search(words) and not _MONEY.search(words) and _in_unit_range(s):
                out[col] = "0.0%"
                shares.add(col)
            elif _MONEY.search(words):
                out[col] = money
            elif _RATIO.search(words):
                out[col] = "0.00"
            elif _DURATION.search(words):
                out[col] = "#,##0.0"
            else:
                finite = s.filter(s.is_finite())
                big = finite.len() > 0 and float(finite.abs().max()) >= 100
                out[col] = "#,##0.00" if big else "0.000"
    # an interval edge takes the format of the figure it bounds: "clv_low" that of "clv",
    # a bare "ci_low" that of the nearest figure before it ("nps", "conversion")
    main = None
    for col, dtype in frame.schema.items():
        words = _words(col)
        if not dtype.is_float() or col in hints:
            continue
        if not _INTERVAL.search(words):
            if not re.search(r"\b(se|std error|standard error|z)\b", words):
                main = col
            continue
        base = re.sub(r"[\s_]*(ci[\s_]*)?(low|high|lower|upper|lo|hi)$", "", str(col)).strip()
        owner = next((c for c in frame.columns if c != col and base and (
            c == base or c.startswith(base + "_") or c.startswith(base + " "))
            and not _INTERVAL.search(_words(c)) and c in out), None) if base else None
        owner = owner or main
        if owner is not None and owner in out:
            fmt = out[owner]
            if fmt == "0.0%" and not _in_unit_range(frame.get_column(col)):
                continue
            out[col] = fmt
    return out


def _number_format(series: pl.Series) -> str | None:
    return column_formats(series.to_frame()).get(series.name)


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


@dataclass
class Readme:
    """The README sheet of a workbook: a title, lines under it, definitions and methods.

    ``definitions`` and ``methods`` are (term, text) pairs; the sheet list with each
    sheet's rows and note is added by :func:`export_tables`.
    """

    title: str
    lines: Sequence[str] = ()
    definitions: Sequence[tuple[str, str]] = ()
    methods: Sequence[tuple[str, str]] = ()
    accent: str = "#0072B2"


GLOSSARY: dict[str, str] = {
    "share": "Shares, rates and probabilities are shown as percentages; the cell holds the "
             "fraction (0.25 is shown as 25.0 %).",
    "interval": "Low and high (ci low, ci high) are the edges of the 95 % confidence "
                "interval of the figure beside them.",
    "money": "Amounts are in the currency of the orders, as exported by the client.",
    "hazard ratio": "A hazard ratio above 1 means the group churns faster than the "
                    "reference group, below 1 slower.",
    "p value": "The chance of seeing a difference at least this large if there were none; "
               "below 0.05 is called significant.",
    "nps": "Net promoter score: % promoters (9-10) minus % detractors (0-6), from -100 "
           "to 100.",
    "csat": "Customer satisfaction: the share of answers in the top two boxes of the scale.",
    "clv": "Customer lifetime value: the expected margin of a customer over the horizon "
           "shown, from the buying and spending models.",
    "pseudonym": "Customer identifiers are pseudonyms (a keyed hash), never the client's "
                 "own ids; the lookup stays with the consultant.",
    "censored": "Censored customers were still active when the data end: their lifetime "
                "is known to be at least as long as observed.",
}
"""Definitions the README sheet shows when a table has a column they explain."""

_GLOSSARY_TRIGGERS = {
    "interval": _INTERVAL, "hazard ratio": re.compile(r"\b(hazard|exp coef|hr)\b"),
    "p value": _PVALUE, "nps": re.compile(r"\bnps\b|net promoter"),
    "csat": re.compile(r"\bcsat\b|satisf"), "clv": re.compile(r"\bclv\b|lifetime value"),
    "pseudonym": re.compile(r"\b(customer id|pseudonym)\b"),
    "censored": re.compile(r"\bcensored\b"),
}


def _glossary(frames: Mapping[str, pl.DataFrame],
              formats: Mapping[str, Mapping[str, str]]) -> list[tuple[str, str]]:
    names = " | ".join(_words(c) for f in frames.values() for c in f.columns)
    titles = " | ".join(_words(t) for t in frames)
    used = {f for fm in formats.values() for f in fm.values()}
    out = []
    if "0.0%" in used:
        out.append(("Shares", GLOSSARY["share"]))
    if any('#,##0.00' in f and f != "#,##0.00" for f in used) or any(
            _MONEY.search(_words(c)) for f in frames.values() for c in f.columns):
        out.append(("Amounts", GLOSSARY["money"]))
    for key, pattern in _GLOSSARY_TRIGGERS.items():
        if pattern.search(names) or pattern.search(titles):
            out.append((key.capitalize() if key not in ("nps", "csat", "clv") else
                        key.upper(), GLOSSARY[key]))
    return out


def _write_readme(wb: Any, readme: Readme, rows: list[tuple[str, int, str, str]],
                  definitions: list[tuple[str, str]]) -> None:
    ws = wb.add_worksheet("README")
    title = wb.add_format({"bold": True, "font_size": 16, "font_color": readme.accent})
    head = wb.add_format(_HEADER_FORMAT | {"bottom_color": readme.accent})
    section = wb.add_format({"bold": True, "font_size": 12, "font_color": readme.accent})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    count = wb.add_format({"num_format": "#,##0", "valign": "top"})
    muted = wb.add_format({"font_color": "#555555"})
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 2, 100)
    ws.write_string(0, 0, readme.title, title)
    r = 1
    for line in readme.lines:
        ws.write_string(r, 0, line, muted)
        r += 1
    r += 1
    ws.write_string(r, 0, "Sheets", section)
    r += 1
    for c, text in enumerate(("Sheet", "Rows", "What it shows")):
        ws.write_string(r, c, text, head)
    first_row = r
    r += 1
    for sheet, n, note, extra in rows:
        ws.write_string(r, 0, sheet, wrap)
        ws.write_number(r, 1, n, count)
        ws.write_string(r, 2, " ".join(x for x in (note, extra) if x), wrap)
        r += 1
    ws.freeze_panes(first_row + 1, 0)
    for heading, pairs in (("Definitions", definitions), ("Methods", readme.methods)):
        if not pairs:
            continue
        r += 1
        ws.write_string(r, 0, heading, section)
        r += 1
        for term, text in pairs:
            ws.write_string(r, 0, term, wrap)
            ws.write_string(r, 2, text, wrap)
            r += 1


def export_tables(tables: Mapping[str, Any], path: str | Path, *,
                  notes: Mapping[str, str] | None = None,
                  allow_identifiers: bool = False,
                  formats: Mapping[str, Mapping[str, str]] | None = None,
                  currency: str | None = None,
                  readme: Readme | None = None,
                  labels: Mapping[str, Mapping[str, str]] | None = None,
                  row_kinds: Mapping[str, str] | None = None) -> dict[str, str]:
    """Write tables to an Excel workbook, one formatted sheet per table.

    Client text is written as text, never as a formula or a link: text cells that a
    spreadsheet would run (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return) get a leading apostrophe (see
    :func:`loyaltylab.data.privacy.neutralize_formulas`), and the workbook is written with
    xlsxwriter's ``strings_to_formulas`` and ``strings_to_urls`` off.

    Each sheet has a bold, shaded, wrapped header row that stays frozen when scrolling, an
    autofilter, column widths fitted to the content, and number formats chosen by
    :func:`column_formats`: thousands separators on counts, percentages on shares and their
    intervals, currency on money, ISO dates. Numbers are stored as numbers. A table longer
    than a sheet (1,048,575 rows) is cut there and the README/About sheet says so.

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
    formats : mapping of str to mapping of str to str, optional
        Title -> {column: hint}: ``"percent"``, ``"money"``, ``"count"``, ``"number"``,
        ``"ratio"``, ``"date"``, ``"text"`` ... (see :data:`FORMAT_HINTS`) or an Excel
        number format; columns without a hint are inferred.
    currency : str, optional
        Shown in money formats (``"EUR"``, ``"€"``, ``"$"``).
    readme : Readme, optional
        Write a first ``README`` sheet (title, lines, the sheet list, definitions of the
        columns the tables use, methods) instead of ``About``.
    labels : mapping of str to mapping of str to str, optional
        Title -> {column: heading}: plain headings written instead of column names.
    row_kinds : mapping of str to str, optional
        Title -> the column holding each row's unit (``count``, ``currency``, ``share``,
        ``orders``, ``points``...): that row's figures get the unit's format (a scorecard
        mixes units in one column).

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
    formats = dict(formats or {})
    frames: dict[str, pl.DataFrame] = {}
    cut: dict[str, int] = {}
    fmts: dict[str, dict[str, str]] = {}
    for title, frame in tables.items():
        df = as_polars(frame, name=str(title))
        if not allow_identifiers:
            check_no_identifiers(df, name=str(title))
        try:
            fmts[str(title)] = column_formats(df, hints=formats.get(title), currency=currency)
        except ValueError as exc:
            raise ValueError(f"table {str(title)!r}: {exc}") from None
        if df.height > _EXCEL_MAX_ROWS:
            cut[str(title)] = df.height
            df = df.head(_EXCEL_MAX_ROWS)
        frames[str(title)] = neutralize_formulas(_excel_ready(df))
    row_kinds = {t: c for t, c in (row_kinds or {}).items() if t in frames
                 and c in frames[t].columns}
    labels = {t: {c: str(v) for c, v in m.items() if c in frames[t].columns}
              for t, m in (labels or {}).items() if t in frames}
    titles = list(frames)
    first = "README" if readme is not None else ("About" if notes else None)
    reserved = [first] if first else []
    sheet_names = sanitize_sheet_names(reserved + titles)[len(reserved):]
    mapping = dict(zip(titles, sheet_names))
    notes = dict(notes or {})
    extra = {t: (f"First {_EXCEL_MAX_ROWS:,} of {cut[t]:,} rows: a sheet holds no more."
                 if t in cut else "") for t in titles}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path), _WORKBOOK_OPTIONS) as wb:
        wb.set_properties({"title": path.stem, "creator": "loyaltylab"})
        if readme is not None:
            clean = neutralize_formulas(pl.DataFrame(
                {"sheet": sheet_names, "note": [notes.get(t, "") for t in titles],
                 "extra": [extra[t] for t in titles]},
                schema={"sheet": pl.String, "note": pl.String, "extra": pl.String}))
            rows = [(sh, frames[t].height, nt, ex) for t, (sh, nt, ex)
                    in zip(titles, clean.iter_rows())]
            text = neutralize_formulas(pl.DataFrame(
                {"a": [readme.title, *readme.lines]}, schema={"a": pl.String}))["a"]
            defs = _glossary(frames, fmts) + list(readme.definitions)
            pairs = neutralize_formulas(pl.DataFrame(
                {"t": [t for t, _ in defs + list(readme.methods)],
                 "x": [x for _, x in defs + list(readme.methods)]},
                schema={"t": pl.String, "x": pl.String}))
            n_def = len(defs)
            pairs_l = list(pairs.iter_rows())
            _write_readme(wb, Readme(text[0], list(text[1:]), methods=pairs_l[n_def:],
                                     accent=readme.accent), rows, pairs_l[:n_def])
        elif notes:
            about = neutralize_formulas(pl.DataFrame(
                {"sheet": sheet_names, "rows": [frames[t].height for t in titles],
                 "note": [" ".join(x for x in (notes.get(t, ""), extra[t]) if x)
                          for t in titles]},
                schema={"sheet": pl.String, "rows": pl.Int64, "note": pl.String}))
            about.write_excel(workbook=wb, worksheet="About", header_format=_HEADER_FORMAT,
                              column_formats={"rows": "#,##0"},
                              column_widths={"sheet": 230, "rows": 70, "note": 700},
                              freeze_panes="A2", autofilter=False)
        header = dict(_HEADER_FORMAT)
        if readme is not None:
            header["border_color"] = readme.accent
        for title, sheet in mapping.items():
            df = frames[title]
            widths = {c: _width_pixels(df.get_column(c), c) for c in df.columns}
            if df.width == 0:
                wb.add_worksheet(sheet).write(0, 0, "(empty table)")
                continue
            fmt = fmts[title]
            names = labels.get(title)
            if names:
                df = df.rename(names)
                fmt = {names.get(c, c): f for c, f in fmt.items()}
                widths = {names.get(c, c): w for c, w in widths.items()}
            df.write_excel(workbook=wb, worksheet=sheet, header_format=header,
                           column_formats=fmt or None, column_widths=widths,
                           freeze_panes="A2", autofilter=True,
                           table_style="Table Style Light 1")
            if title in row_kinds:
                _row_formats(wb, wb.get_worksheet_by_name(sheet), frames[title],
                             row_kinds[title], fmts[title], currency)
    return mapping


_UNIT_FORMATS = {"count": "#,##0", "share": "0.0%", "orders": "0.00", "points": "0.0",
                 "per customer-month": "0.000", "days": "#,##0.0", "percent": "0.0%"}


def _row_formats(wb: Any, ws: Any, frame: pl.DataFrame, unit_col: str,
                 formats: Mapping[str, str], currency: str | None) -> None:
    """Rewrite the figures of each row with its unit's format (small tables only)."""
    if frame.height > 5000:
        return
    units = frame.get_column(unit_col).cast(pl.String).to_list()
    cols = [(j, c) for j, (c, dt) in enumerate(frame.schema.items())
            if dt.is_float() and formats.get(c) not in ("0.0000",)
            and not _PVALUE.search(_words(c))]
    cache: dict[str, Any] = {}
    for i, unit in enumerate(units, start=1):
        key = str(unit or "").strip().lower()
        num = money_format(currency) if key in ("currency", "money") else \
            _UNIT_FORMATS.get(key)
        if num is None:
            continue
        if num not in cache:
            cache[num] = wb.add_format({"num_format": num})
        for j, c in cols:
            value = frame.item(i - 1, c)
            if value is not None:
                ws.write_number(i, j, float(value), cache[num])


def write_workbook(report: Any, path: str | Path) -> Path:
    """Write a :class:`~loyaltylab.report.Report`'s workbook: a ``README`` sheet (title,
    client, source, the sheet list, definitions, methods), ``Data quality`` and ``Revenue
    reconciliation`` when there is a load report, then every table (workbook-only tables
    included) with all its rows, formatted by :func:`column_formats` and the table's
    format hints."""
    from loyaltylab.report._builder import _REVENUE_TABLE, _SheetOnly, _Table, _revenue_steps

    del _REVENUE_TABLE
    tables: dict[str, pl.DataFrame] = {}
    notes: dict[str, str] = {}
    hints: dict[str, dict[str, str]] = {}
    labels: dict[str, dict[str, str]] = {}
    kinds: dict[str, str] = {}
    dq = report._dq_frame()
    if dq is not None:
        tables["Data quality"] = dq
        notes["Data quality"] = ("Rows read, kept, rejected and excluded by the mapping's "
                                 "rules per table on load, and why.")
        steps = _revenue_steps(report._state.load_report, report._state.revenue)
        if steps is not None:
            tables["Revenue reconciliation"] = steps
            notes["Revenue reconciliation"] = (
                "How the revenue was reached: rows read, set aside by each rule with their "
                "amounts, deducted refunds, rejected rows and the revenue kept.")
            hints["Revenue reconciliation"] = {"amount": "money"}
    for item in report._state.items:
        if isinstance(item, (_Table, _SheetOnly)):
            tables[item.title] = item.frame
            notes[item.title] = item.note or ""
            if item.formats:
                hints[item.title] = dict(item.formats)
            if getattr(item, "labels", None):
                labels[item.title] = dict(item.labels)
            if getattr(item, "row_kinds", None):
                kinds[item.title] = item.row_kinds
    if not tables:
        tables["Contents"] = pl.DataFrame({"note": ["This report has no tables."]})
        notes["Contents"] = ""
    brand = report.brand
    lines = []
    if brand is not None and brand.client:
        lines.append(f"Prepared for {brand.client}")
    lines.append(report._meta_line())
    lines.append("Every sheet has a frozen header row and filter buttons; numbers are stored "
                 "as numbers (shares as fractions shown as percentages).")
    methods = [(m.heading or "Method", m.text) for m in report._state.methods]
    methods += [(title, note) for title, note in report.figures if note]
    readme = Readme(f"{report.title}: tables", lines, methods=methods,
                    accent=brand.accent if brand is not None else "#0072B2")
    path = Path(path)
    export_tables(tables, path, notes=notes, allow_identifiers=True, formats=hints,
                  currency=brand.currency if brand is not None else None, readme=readme,
                  labels=labels, row_kinds=kinds)
    return path
