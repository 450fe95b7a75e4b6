"""Drafting a mapping file for a client source (not public API): what each column holds
(dates, numbers, personal data), which canonical table and column it likely is, written
as a commented TOML draft. :func:`draft_mapping` is re-exported by
:mod:`loyaltylab.data.mapping`.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.data._mapping_names import (_COLUMN_SYNONYMS, _KEY_SYNONYMS, _TABLE_SYNONYMS,
                                            _direction_guess, _similarity)
from loyaltylab.data._mapping_types import show
from loyaltylab.data._parse import ColumnFormat


def _q(s: str) -> str:
    """A TOML basic string; control and format characters written as escapes."""
    out = ['"']
    for ch in str(s):
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def _safe(text: str) -> str:
    """Text for a comment line: control and format characters escaped, one line."""
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
                   else ch for ch in str(text))


_PERSONAL_WORDS = {"e-mail": "e-mail addresses", "name": "names", "phone": "phone numbers",
                   "address": "addresses", "city": "places of residence",
                   "postcode": "postcodes", "birth date": "birth dates",
                   "bank account": "bank accounts", "national id": "national id numbers"}


def _personal(name: str, column: pl.Series) -> str | None:
    """What personal data a column holds ("e-mail addresses"), "" when it is personal
    but the kind is unknown, None when it is not personal (by header or by content)."""
    from loyaltylab.data import privacy
    if privacy.is_personal(name):
        return _PERSONAL_WORDS.get(privacy.header_kind(name), "")
    kinds_of = privacy.personal_kinds
    if column.dtype != pl.String:
        return None
    sample = column.drop_nulls().head(500)
    sample = sample.filter(sample.str.strip_chars() != "")
    if sample.len() == 0:
        return None
    try:
        kinds = kinds_of(sample)
    except Exception:  # noqa: BLE001 - a content check must never stop the draft
        return None
    if sum(kinds.values()) * 2 < sample.len():
        return None
    return " and ".join(f"{k} found in the values" for k in kinds)


def _date_share(values: pl.Series) -> float:
    """Share of a column's sample that reads as dates (Excel serials only when typed)."""
    from loyaltylab.data._parse import EXCEL, date_expr, sample_values, sniff_date_formats
    dtype = values.dtype
    if isinstance(dtype, pl.Datetime) or dtype == pl.Date:
        return 1.0
    nonnull = values.drop_nulls()
    if dtype.is_numeric() and dtype != pl.Boolean:
        if nonnull.len() == 0:
            return 0.0
        num = nonnull.cast(pl.Float64)
        return float(((num >= 20000) & (num <= 80000)).mean())  # 1954 .. 2119
    if dtype != pl.String:
        return 0.0
    sample = sample_values(values, n=200)
    if sample.len() == 0:
        return 1.0  # empty: nothing speaks against it
    formats, _ = sniff_date_formats(sample)
    formats = [f for f in formats if f[0] != EXCEL]
    if not formats:
        return 0.0
    parsed = sample.to_frame("v").select(date_expr("v", formats)).to_series()
    return 1.0 - parsed.null_count() / sample.len()


def _number_share(values: pl.Series, hint_comma: bool) -> float:
    return _number_format(values, hint_comma)[0]


# Number formats the sniffer may not find by itself (Swiss 1'234.50)
_NUMBER_FORMATS = (ColumnFormat(), ColumnFormat(decimal=".", thousands="'"),
                   ColumnFormat(decimal=",", thousands="'"))


def _number_format(values: pl.Series, hint_comma: bool
                   ) -> tuple[float, ColumnFormat | None]:
    """(share of the sample that reads as numbers, the format that reads it, None when
    the sniffed format does)."""
    from loyaltylab.data._parse import number_expr, sample_values
    dtype = values.dtype
    if dtype == pl.Boolean:
        return 0.0, None
    if dtype.is_numeric():
        return 1.0, None
    if dtype != pl.String:
        return 0.0, None
    sample = sample_values(values, n=200)
    if sample.len() == 0:
        return 1.0, None
    best: tuple[float, ColumnFormat | None] = (0.0, None)
    for i, fmt in enumerate(_NUMBER_FORMATS):
        parsed = sample.to_frame("v").select(
            number_expr("v", sample, fmt, hint_comma=hint_comma)).to_series()
        share = 1.0 - parsed.null_count() / sample.len()
        if share > best[0] + 0.05:
            best = (share, fmt if i else None)
        if share >= 0.99:
            break
    return best


def _distinct_share(values: pl.Series) -> float:
    s = values.drop_nulls().head(5000)
    return 1.0 if s.len() == 0 else s.n_unique() / s.len()


def _fits(table: str, col: str, values: pl.Series, hint_comma: bool) -> str | None:
    """None when the sample's content suits canonical ``table.col``, else why not."""
    dtype = S.TABLES[table].column(col).dtype
    if isinstance(dtype, pl.Datetime):
        share = _date_share(values)
        return None if share >= 0.8 else f"only {share:.0%} of the sample reads as dates"
    if dtype == pl.Float64:
        share = _number_share(values, hint_comma)
        return None if share >= 0.8 else f"only {share:.0%} of the sample reads as numbers"
    column = S.TABLES[table].column(col)
    if S.TABLES[table].key[:1] == (col,):
        if isinstance(values.dtype, (pl.Datetime, pl.Date)) or (
                values.dtype.is_float() and not _whole(values)):
            return "holds dates or fractional numbers, not identifiers"
        share = _distinct_share(values)
        if share < 0.5:
            return f"only {share:.0%} of the sample's values are distinct"
    elif not column.is_id and _number_share(values, False) >= 0.9 \
            and values.drop_nulls().len() and _distinct_share(values) > 0.5:
        return "it holds mostly distinct numbers, not categories"
    return None


def _whole(values: pl.Series) -> bool:
    s = values.drop_nulls().drop_nans().head(5000)
    return bool((s % 1 == 0).all())


def draft_mapping(source: str | Path, *, sample_rows: int = 5000) -> str:
    """A first draft of a TOML mapping file for ``source``, for the user to correct.

    Files (sheets, database tables) are matched to canonical tables and their columns to
    canonical columns by name (``difflib`` similarity with synonyms in English, German,
    French, Swedish, Danish, Norwegian, Dutch, Spanish, Italian, Portuguese and Polish,
    accents folded), and by content: a date column must read as dates in the sample, an
    amount as numbers, and a table's key must be mostly distinct. Personal columns (by
    header or content, see :mod:`loyaltylab.data.privacy`) are never proposed; they are
    listed with a comment saying they are dropped on load. The delimiter, encoding,
    header row, decimal separator and date format are sniffed from the first
    ``sample_rows`` rows. Every guess that is not an exact name match is marked
    ``# CHECK`` with its similarity.

    Returns
    -------
    str
        The TOML text.

    Examples
    --------
    >>> import pathlib, tempfile, tomllib
    >>> from loyaltylab.data.mapping import read_mapping
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "Kunden.csv").write_text("KundenNr;Anlagedatum\\n1;01.02.2025\\n")
    >>> _ = (d / "Bestellungen.csv").write_text(
    ...     "BestellNr;KundenNr;Bestelldatum;Betrag\\n7;1;03.02.2025;12,50\\n")
    >>> text = draft_mapping(d)
    >>> m = read_mapping(tomllib.loads(text))
    >>> m.table("orders").source, m.table("orders").columns["amount"]
    (['Bestellungen.csv'], 'Betrag')
    >>> m.table("orders").table_format.decimal
    ','
    """
    from loyaltylab.data._io import (list_source, read_db_table, read_excel_sheet,
                                     read_file)
    from loyaltylab.data._parse import sample_values, sniff_date_formats, sniff_decimal
    from loyaltylab.data.validation import normalize_name

    path = Path(source)
    kind, names = list_source(path)
    raws = {}
    for name in names:
        try:
            if kind in ("folder", "file"):
                raws[name] = read_file(path / name if kind == "folder" else path,
                                       n_rows=sample_rows)
            elif kind == "workbook":
                raws[name] = read_excel_sheet(path, name)
            else:
                raws[name] = read_db_table(path, kind, name)
        except Exception as exc:  # noqa: BLE001 - report unreadable files in the draft
            raws[name] = exc
    from loyaltylab.data import presets  # exports of a known platform: its preset maps them
    preset_of = presets.detect_sources(raws)
    # match source names to tables (greedy by similarity)
    pairs = []
    for name in names:
        stem = Path(name).stem if kind in ("folder", "file") else name
        for table in S.TABLES:
            pairs.append((_similarity(stem, (table,) + _TABLE_SYNONYMS[table]), table, name))
    pairs.sort(reverse=True)
    table_of: dict[str, tuple[str, float]] = {}
    used_tables: set[str] = set()
    for name, (_, table) in preset_of.items():
        if table not in used_tables:
            table_of[name] = (table, 1.0)
            used_tables.add(table)
    for score, table, name in pairs:
        if score < 0.6 or name in table_of or table in used_tables:
            continue
        table_of[name] = (table, score)
        used_tables.add(table)

    lines = [
        f"# loyaltylab mapping for {_safe(path.name)}: a DRAFT written by "
        f"`loyaltylab init-mapping`.",
        "# Lines marked CHECK are guesses: correct them, then run",
        f"#   loyaltylab validate {_safe(path)} --mapping <this file>",
        "# Format: [tables.<canonical table>] source = client file/sheet/table;",
        "# [tables.<table>.columns] canonical_column = \"Client column\";",
        "# [tables.<table>.values.<column>] \"client value\" = \"canonical value\";",
        "# formats: delimiter, encoding, header_row, decimal, thousands, date_format, "
        "dayfirst, timezone.",
        "# Personal columns (names, e-mail, phone, address, ...) are dropped on load; pass",
        "# keep_personal=[...] to ll.load to keep one.",
        "",
        "[defaults]",
        "# timezone = \"Europe/Berlin\"   # zone of timestamps written without an offset",
        "",
    ]
    at = lines.index("[defaults]")
    lines[at:at] = presets.draft_header_lines(preset_of)
    for name in names:
        if name not in table_of:
            continue
        table, tscore = table_of[name]
        raw = raws[name]
        spec = S.TABLES[table]
        mark = "" if tscore >= 1.0 else f"  # CHECK: guessed from the name ({tscore:.2f})"
        lines.append(f"[tables.{table}]")
        lines.append(f"source = {_q(name)}{mark}")
        if isinstance(raw, Exception):
            first = str(raw).splitlines()[0] if str(raw) else type(raw).__name__
            lines.append(f"# could not read it: {_safe(first)}")
            lines.append("")
            continue
        for note in raw.notes:
            hit = re.match(r"(?:not valid UTF-8: )?read as ([\w.-]+)", note)
            if hit:
                lines.append(f"encoding = {_q(hit.group(1))}")
                break
        if raw.notes and any("delimited" in n for n in raw.notes):
            sep = {"semicolon": ";", "tab": "\t", "pipe": "|", "comma": ","}
            word = next(n for n in raw.notes if "delimited" in n).split("-")[0]
            lines.append(f"delimiter = {_q(sep.get(word, ','))}")
        header_row = _header_row_of(raw)
        if header_row:
            lines.append(f"header_row = {int(header_row)}  # the header is on line "
                         f"{int(header_row) + 1} (0-based {int(header_row)}); "
                         f"lines above it are skipped. CHECK")
        if preset_of.get(name, ("", ""))[1] == table:
            lines.extend(presets.draft_table_lines(preset_of, name, list(raw.frame.columns)))
            continue
        frame = raw.frame
        cols = list(frame.columns)
        personal = {c: p for c in cols
                    if (p := _personal(c, frame.get_column(c))) is not None}
        cand = []
        for c in cols:
            if c in personal:
                continue  # never proposed as a canonical column
            for col in spec.names:
                syn = (col,) + _COLUMN_SYNONYMS.get(col, ())
                if spec.key[:1] == (col,):
                    syn = syn + _KEY_SYNONYMS
                cand.append((_similarity(c, syn), col, c))
        cand.sort(key=lambda t: (-t[0], cols.index(t[2]), spec.names.index(t[1])))
        col_of: dict[str, tuple[str, float]] = {}
        used: set[str] = set()
        unfit: dict[str, str] = {}
        for score, col, c in cand:
            if score < 0.6 or col in col_of or c in used:
                continue
            why = _fits(table, col, frame.get_column(c), raw.hint_comma)
            if why:
                unfit.setdefault(col, f"{show(c)} looks like it by name, but {why}")
                continue
            col_of[col] = (c, score)
            used.add(c)
        decimal = thousands = None
        date_fmt: dict[str, str] = {}
        for col, (c, _) in col_of.items():
            dtype = spec.column(col).dtype
            if frame.schema[c] != pl.String:
                continue
            sample = sample_values(frame.get_column(c), n=300)
            if dtype == pl.Float64 and decimal is None and sample.len():
                _share, fmt = _number_format(frame.get_column(c), raw.hint_comma)
                if fmt is not None:
                    decimal, thousands = fmt.decimal, fmt.thousands
                else:
                    dec, _th = sniff_decimal(sample, hint_comma=raw.hint_comma)
                    if dec == ",":
                        decimal = ","
            elif isinstance(dtype, pl.Datetime) and sample.len():
                fmts, _notes = sniff_date_formats(sample)
                if len(fmts) == 1 and not fmts[0][0].startswith("%Y-%m-%d"):
                    date_fmt[col] = fmts[0][0]
        if decimal:
            lines.append(f"decimal = {_q(decimal)}")
        if thousands:
            lines.append(f"thousands = {_q(thousands)}  # sniffed; CHECK")
        distinct_fmt = set(date_fmt.values())
        if len(distinct_fmt) == 1:
            lines.append(f"date_format = {_q(distinct_fmt.pop())}  # sniffed; CHECK")
            date_fmt = {}
        lines.append("")
        lines.append(f"[tables.{table}.columns]")
        for col in spec.names:
            req = "required" if col in spec.required_names else "optional"
            if col in col_of:
                c, score = col_of[col]
                note = (f"  # {req}" if score >= 1.0 else
                        f"  # {req}; CHECK: guessed ({score:.2f})")
                if spec.key[:1] == (col,) and _distinct_share(frame.get_column(c)) < 0.8:
                    note += "; CHECK: some values repeat (one row per line item?)"
                lines.append(f"{col} = {_q(c)}{note}")
            else:
                why = f"; not {_safe(unfit[col])}" if col in unfit else ""
                lines.append(f"# {col} = \"<client column>\"  # {req}: "
                             f"{spec.column(col).description}{why}")
        kept = [c for c in cols if c not in used and c not in personal]
        if kept:
            lines.append(f"# not mapped, kept as extra columns: {kept}")
        for c, what in personal.items():
            lines.append(f"# {_q(c)}: personal data" + (f" ({what})" if what else "")
                         + ", dropped on load; keep_personal to keep")
        for col, f in date_fmt.items():
            lines.append("")
            lines.append(f"[tables.{table}.formats.{col}]")
            lines.append(f"date_format = {_q(f)}  # sniffed; CHECK")
        if table == S.CONTACTS and S.DIRECTION in col_of:
            c = col_of[S.DIRECTION][0]
            vals = (frame.get_column(c).cast(pl.String).drop_nulls().unique().sort()
                    .head(20).to_list())
            todo = [v for v in vals if normalize_name(v) not in S.DIRECTIONS]
            if todo:
                lines.append("")
                lines.append(f"[tables.{table}.values.{S.DIRECTION}]  # client value = "
                             f"inbound/outbound; CHECK")
                for v in todo:
                    guess = _direction_guess(v)
                    lines.append(f"{_q(v)} = \"{guess}\"" if guess else
                                 f"# {_q(v)} = \"inbound\" or \"outbound\"?  # CHECK: "
                                 f"unknown value; rows with it are rejected")
        lines.append("")
    unmatched = [n for n in names if n not in table_of]
    if unmatched:
        lines.append(f"# Not matched to any table (ignored unless you map them): "
                     f"{unmatched}")
    missing = [t for t in S.REQUIRED_TABLES if t not in used_tables]
    for t in missing:
        lines.append(f"# REQUIRED table {t!r} not found: add [tables.{t}] source = "
                     f"\"<file>\" and its columns")
    return "\n".join(lines) + "\n"


def _header_row_of(raw) -> int:
    """The 0-based line or row of the header the reader found (0: the first)."""
    if getattr(raw, "header_row", 0):
        return int(raw.header_row)
    for note in raw.notes:  # "header found on line 3" / "header found in row 4"
        hit = re.match(r"header found (?:on line|in row) (\d+)", note)
        if hit:
            return int(hit.group(1)) - 1
    return 0
