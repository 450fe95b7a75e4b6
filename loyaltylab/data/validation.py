"""Row-level validation of canonical tables: every row is kept or rejected with a reason.

The rules, applied per table in this order (a rejected row counts once, under the first
rule it breaks):

1. ``<column>: missing`` -- a required column is empty in this row;
2. ``<column>: unparseable date`` / ``unparseable number`` -- text that is not a date or
   number in the format sniffed for (or mapped to) the column;
3. ``<column>: not a finite number`` -- ``inf``/``NaN``;
4. ``<column>: before 1900`` -- an implausible date (often an Excel 0 or a typo);
5. ``<column>: after as_of`` -- an event dated after the as-of (extract) date;
6. ``<end>: before <start>`` -- e.g. a complaint resolved before it was opened;
7. ``amount: negative`` -- refunds are rejected unless ``allow_refunds=True``;
8. ``direction: not inbound/outbound``;
9. ``<column>: unknown customer`` -- orders, contacts, answers, ... of a customer who is
   not in the customers table (after its own validation);
10. ``<key>: duplicate`` -- a repeated order or customer id; the first valid row is kept.

A totals row ("Total", "Summe", "Gesamt", "Totalt", "Totaal", "Totale", "Suma", ... in the
first column or an id column, see :func:`~loyaltylab.data._header.is_totals_label`) is
rejected as ``<column>: totals row`` whichever rule it broke first (usually missing ids
and dates), and also when it broke none.

Number columns held as text are read with the decimal and thousands separators the whole
column shows (see :func:`~loyaltylab.data._parse.decide_number_format`); a column whose
values could be read either way ("1.500", "2.300" and nothing else) takes the reading of
the table's other number columns, or stops the load with a :class:`SchemaError` that says
how to set it in the mapping. Identifiers that differ only by Unicode form or by
non-breaking or zero-width spaces are the same id (normalised, with a note counting them);
leading zeros stay significant.

Before the rules run, text is cleaned: identifiers and categories lose surrounding blanks,
and empty text and the null tokens of database and Excel exports (``NULL``, ``null``,
``#N/A``, ``N/A``, ``NA``) count as missing. (For speed, date and number columns are
cleaned only when their rejected rows show padding or null tokens; the table is then
validated again with those columns cleaned, so the result is the same.)

End dates after the as-of date (a complaint resolved, a contract ended, an assignment
ended after the extract date) are not errors: they are set to null (still open at as_of)
and counted in the table's warnings.

Table-level problems (a required column missing) raise :class:`SchemaError` naming the
source, the column, the closest existing column and the fix.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from loyaltylab._util import safe_text
from loyaltylab.data import schema as S
from loyaltylab.data._header import is_totals_label
from loyaltylab.data._parse import (ColumnFormat, NumberFormat, date_expr,
                                    decide_number_format, excel_serial_expr,
                                    localize_expr, number_expr, sample_values,
                                    sniff_date_formats)
from loyaltylab.data.crmdata import TableReport
from loyaltylab.exceptions import SchemaError

__all__ = ["TableInput", "validate_table", "normalize_name", "closest", "EVENT_COLUMNS",
           "ID_HASH_SEED",
           "INTERVALS", "CUSTOMER_REFERENCES", "VALIDATION_ORDER", "NULL_TOKENS"]

# Views of the facts each TableSpec carries (loyaltylab.data.schema.TABLES).
EVENT_COLUMNS: dict[str, str] = {n: t.event for n, t in S.TABLES.items() if t.event}
"""The timestamp of each table's event; rows dated after as_of are rejected."""

INTERVALS: dict[str, tuple[str, str]] = {n: t.interval for n, t in S.TABLES.items()
                                         if t.interval}
"""(start, end) column pairs; the end may be null (still open) but not before the start."""

CUSTOMER_REFERENCES: dict[str, tuple[str, ...]] = {n: t.customer_refs
                                                   for n, t in S.TABLES.items()
                                                   if t.customer_refs}
"""Columns that must name a customer present in the customers table."""

VALIDATION_ORDER = tuple(S.TABLES)
"""Customers first: the other tables' customer references are checked against it."""

_DIRECTION_SYNONYMS = {"in": "inbound", "incoming": "inbound", "inbound": "inbound",
                       "out": "outbound", "outgoing": "outbound", "outbound": "outbound"}
_MIN_DATE = datetime(1900, 1, 1)
_REASON = "_reason"
_ROW = "_row"


def normalize_name(name: str) -> str:
    """Lower snake case: ``" Customer-ID "`` -> ``"customer_id"``, ``"E-Mail"`` ->
    ``"e_mail"``.

    Examples
    --------
    >>> normalize_name("Order Date (UTC)")
    'order_date_utc'
    """
    s = str(name).replace("\ufeff", "").strip()
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"[^0-9a-zA-Z]+", "_", s.lower())
    return s.strip("_")


def closest(name: str, candidates: list[str], *, cutoff: float = 0.5) -> str | None:
    """The candidate most like ``name`` (difflib ratio on normalised names), or None."""
    if not candidates:
        return None
    norm = {normalize_name(c): c for c in candidates}
    hit = difflib.get_close_matches(normalize_name(name), list(norm), n=1, cutoff=cutoff)
    return norm[hit[0]] if hit else None


@dataclass
class TableInput:
    """One table on its way in: columns already renamed to canonical names.

    Attributes
    ----------
    name : str
        Canonical table name.
    frame : pl.DataFrame
        The rows as read (text or typed columns); extra columns are kept as they are.
    source : str
        Where the rows came from, for messages (``orders.csv``, ``sheet 'Orders'``).
    formats : dict[str, ColumnFormat]
        Per canonical column formats; key ``"*"`` holds the table default.
    hint_comma : bool
        The source looks European (semicolon delimiter): break decimal-separator ties
        toward a comma.
    original_names : dict[str, str]
        Canonical column -> the client's column name, for messages.
    warnings : list[str]
        Notes from reading and mapping, passed on to the report.
    values : dict[str, dict[str, str]]
        Value maps of text columns (client value -> canonical value), applied after
        stripping blanks; unmapped values are kept.
    excluded : dict[str, dict]
        Rows the mapping's rules excluded before validation: rule -> ``{"n", "amount"}``
        (see :mod:`loyaltylab.data._rules`).
    row_numbers : pl.Series or None
        Source row number of each row of ``frame`` when rules removed or merged rows.
    """

    name: str
    frame: pl.DataFrame
    source: str = ""
    formats: dict[str, ColumnFormat] = field(default_factory=dict)
    hint_comma: bool = False
    original_names: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    excluded: dict[str, dict] = field(default_factory=dict)
    row_numbers: pl.Series | None = None

    def fmt(self, column: str) -> ColumnFormat:
        base = self.formats.get("*", ColumnFormat())
        return base.merged(self.formats.get(column))


def check_required_columns(inp: TableInput) -> None:
    """Raise SchemaError if a required canonical column is absent."""
    spec = S.TABLES[inp.name]
    present = inp.frame.columns
    for col in spec.required_names:
        if col in present:
            continue
        others = [c for c in present if c not in spec.names]
        guess = closest(col, [inp.original_names.get(c, c) for c in others])
        shown = [inp.original_names.get(c, c) for c in present]
        hint = (f" Did you mean {guess!r}? Map it in the mapping file: "
                f"[tables.{inp.name}.columns] {col} = \"{guess}\"" if guess else
                f" Map the client column that holds it in the mapping file: "
                f"[tables.{inp.name}.columns] {col} = \"<client column>\"")
        raise SchemaError(
            f"{inp.source or inp.name}: the {inp.name} table needs a column {col!r} "
            f"({spec.column(col).description}), but it has only {shown[:12]}"
            f"{' ...' if len(shown) > 12 else ''}.{hint} (`loyaltylab init-mapping SOURCE` "
            f"drafts a mapping file.)"
        )


ID_HASH_SEED = 20261122
"""Seed of the 64-bit id hashes that match ids quickly within a load."""
_SEED = ID_HASH_SEED


NULL_TOKENS = ("NULL", "null", "#N/A", "N/A", "NA")
"""Text that database and Excel exports write for a missing value; read as null."""


def _clean_text(e: pl.Expr) -> pl.Expr:
    """Strip blanks; empty text and null tokens ("NULL", "#N/A", ...) become null."""
    e = e.str.strip_chars()
    return pl.when((e == "") | e.is_in(list(NULL_TOKENS))).then(pl.lit(None, pl.String)
                                                                ).otherwise(e)


_INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff]"
_ODD_SPACES = "[\u00a0\u2007\u202f]"


def normalize_ids(e: pl.Expr) -> pl.Expr:
    """Identifiers as one customer is always written: Unicode NFC, non-breaking spaces
    (U+00A0, U+2007, U+202F) as plain spaces, zero-width characters (U+200B-U+200D,
    U+2060, U+FEFF) removed, surrounding blanks stripped. Leading zeros stay.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.Series(["Mu\u0308ller-1", "M\u00fcller-1\u00a0", "\u200b007", "7"])
    >>> pl.select(normalize_ids(pl.lit(s))).to_series().to_list()
    ['Müller-1', 'Müller-1', '007', '7']
    """
    e = e.str.normalize("NFC").str.replace_all(_INVISIBLE, "")
    return _clean_text(e.str.replace_all(_ODD_SPACES, " "))


def _to_text(name: str, dtype: pl.DataType, values: pl.Series | None = None) -> pl.Expr:
    """A typed column as text (integral floats without '.0', as Excel ids often are:
    12345.0 is "12345"; other floats keep their decimals)."""
    e = pl.col(name)
    if dtype == pl.String:
        return e.str.strip_chars()
    if dtype.is_float():
        integral = (e % 1 == 0) & (e.abs() < 2.0 ** 53)
        return _clean_text(pl.when(integral).then(e.cast(pl.Int64, strict=False)
                                                  .cast(pl.String))
                           .otherwise(e.cast(pl.String)))
    if dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        return e.cast(pl.String)
    if dtype.is_nested() or dtype == pl.Object or dtype == pl.Null:
        if dtype == pl.Null:
            return e.cast(pl.String)
        raise TypeError(f"cannot turn {dtype} into text")
    return _clean_text(e.cast(pl.String))


def spec_is_id(table: str, col: str) -> bool:
    """Whether ``table.col`` is an identifier column (always stripped and hashed)."""
    return S.TABLES[table].column(col).is_id


_EXCEL_DATE_TEXT = "%Y-%m-%d %H:%M:%S"
_EXCEL_DATE_RE = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"


def _number_formats(inp: TableInput, notes: list[str],
                    scanned: frozenset = frozenset()) -> dict[str, NumberFormat]:
    """The decimal/thousands format of each text column that holds numbers.

    Each column is decided from its own evidence (see
    :func:`~loyaltylab.data._parse.decide_number_format`); a column that stays ambiguous
    ("1.500", "2.300" and nothing else) takes the reading the table's other number columns
    agree on, or the load stops with a :class:`SchemaError` that says how to set it.
    A column whose sample holds plain integers only is looked at whole only when it is in
    ``scanned`` (its parsed values showed decimals, or its rejected values separators:
    see :func:`validate_table`); scanning every such column up front costs a pass.
    """
    spec = S.TABLES[inp.name]
    frame = inp.frame
    cols = [c for c in spec.names if c in frame.columns and frame.schema[c] == pl.String
            and spec.column(c).dtype == pl.Float64]
    out: dict[str, NumberFormat] = {}
    for c in cols:
        out[c] = decide_number_format(sample_values(frame.get_column(c)), inp.fmt(c),
                                      hint_comma=inp.hint_comma,
                                      column=frame.get_column(c), scan_plain=c in scanned)
    decided = {f.decimal for f in out.values() if not f.ambiguous
               and (f.evidence.get("dot") or f.evidence.get("comma"))}
    for c, f in out.items():
        if not f.ambiguous:
            continue
        if len(decided) == 1:
            out[c] = decide_number_format(sample_values(frame.get_column(c)), inp.fmt(c),
                                          hint_comma=inp.hint_comma,
                                          column=frame.get_column(c),
                                          table_decimal=next(iter(decided)))
            continue
        client = safe_text(inp.original_names.get(c, c))
        shown = ", ".join(repr(safe_text(v, 20)) for v in f.ambiguous[:3])
        raise SchemaError(
            f"{inp.source or inp.name}: column {client!r} ({inp.name}.{c}) holds numbers "
            f"such as {shown} that read either with a decimal point (1.500 = one and a "
            f"half) or with a thousands separator (1.500 = fifteen hundred), and no other "
            f"value says which. Set it in the mapping file: [tables.{inp.name}.formats."
            f"{c}] decimal = \",\" thousands = \".\" (fifteen hundred), or decimal = "
            f"\".\" (one and a half).")
    for c, f in out.items():
        notes.extend(f"{inp.name}.{c}: {n}" for n in f.notes)
    return out


def _column_plan(inp: TableInput, col: str, src: str, target: pl.DataType,
                 notes: list[str], number_formats: dict[str, NumberFormat] | None = None,
                 full_parse: bool = False) -> tuple[pl.Expr, str | None]:
    """(expression giving the canonical value from column ``src``, kind of parse failure
    or None). ``src`` is the raw column, or its cleaned copy for padded text."""
    frame = inp.frame
    dtype = frame.schema[col]
    fmt = inp.fmt(col)
    label = f"{inp.name}.{col}"
    if target == pl.String:
        if dtype == pl.String and src == col:
            values = frame.get_column(col)
            if spec_is_id(inp.name, col):
                # ids are used as they are; the main query checks them for padding and the
                # table is validated again with them stripped if any is padded (checking is
                # cheaper than stripping)
                padded = False
            else:
                # other text (categories): clean when a sample shows padding or null tokens
                sample = values.head(2000).drop_nulls()
                if (sample.str.strip_chars() != sample).any() or \
                        sample.is_in(list(NULL_TOKENS)).any():
                    return _clean_text(pl.col(col)), None
                padded = False
            if not padded:
                return pl.col(col), None
        try:
            return _to_text(src, dtype, frame.get_column(col)), None
        except TypeError:
            raise SchemaError(f"{inp.source}: column {col!r} holds {dtype} values; expected "
                              f"text (ids and categories). Flatten it before loading."
                              ) from None
    if target == pl.Float64:
        if dtype.is_numeric() or dtype == pl.Boolean:
            return pl.col(src).cast(pl.Float64), None
        if dtype == pl.Null:
            return pl.col(src).cast(pl.Float64), None
        if dtype != pl.String:
            raise SchemaError(f"{inp.source}: column {col!r} holds {dtype} values; expected "
                              f"numbers. Convert it to numbers or text before loading.")
        sample = sample_values(frame.get_column(col))
        decided = (number_formats or {}).get(col)
        return (number_expr(src, sample, fmt, hint_comma=inp.hint_comma, decided=decided,
                            fast=not full_parse), "unparseable number")
    # datetime target
    if isinstance(dtype, pl.Datetime):
        e = pl.col(src)
        if dtype.time_zone is not None:
            e = e.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        elif fmt.timezone:
            e = localize_expr(e, fmt.timezone)
        return e.cast(pl.Datetime("us")), None
    if dtype == pl.Date:
        e = pl.col(src).cast(pl.Datetime("us"))
        return (localize_expr(e, fmt.timezone) if fmt.timezone else e), None
    if dtype == pl.Null:
        return pl.col(src).cast(pl.Datetime("us")), None
    if dtype.is_numeric():
        num = pl.col(src).cast(pl.Float64)
        num = pl.when((num >= 1.0) & (num <= 2958465.0)).then(num)
        notes.append(f"{label}: numbers read as Excel serial dates (45000 = 2023-03-15)")
        return excel_serial_expr(num), "unparseable date"
    if dtype != pl.String:
        raise SchemaError(f"{inp.source}: column {col!r} holds {dtype} values; expected "
                          f"dates. Convert it to dates or text before loading.")
    sample = sample_values(frame.get_column(col))
    many = sample.len() > 0 and sample.n_unique() > 0.5 * sample.len()
    if fmt.date_format is not None:
        fmts = [fmt.date_format] if isinstance(fmt.date_format, str) else list(fmt.date_format)
        formats = [(f, "%z" in f or "%#z" in f or "%:z" in f) for f in fmts]
        # real date cells of an Excel column that also holds text dates are written
        # "2023-04-19 00:00:00" by the reader: read them so, whatever the mapped format
        if _EXCEL_DATE_TEXT not in fmts and re.search(r"\.xls[xm]\b", inp.source.lower()) \
                and bool(frame.get_column(col).str.contains(_EXCEL_DATE_RE).any()):
            formats.append((_EXCEL_DATE_TEXT, False))
    else:
        formats, date_notes = sniff_date_formats(sample, dayfirst=fmt.dayfirst)
        notes.extend(f"{label}: {n}" for n in date_notes)
        if len(formats) > 1:
            notes.append(f"{label}: dates in several formats "
                         f"({', '.join(f for f, _ in formats)})"
                         + ("; timestamps with an offset converted to UTC"
                            if any(tz for _, tz in formats) else ""))
    return date_expr(src, formats, timezone=fmt.timezone, cache=not many), "unparseable date"


def validate_table(inp: TableInput, *, as_of: datetime, allow_refunds: bool = False,
                   customer_ids: pl.Series | None = None, release: bool = False,
                   _strip: frozenset = frozenset(), _norm: frozenset = frozenset(),
                   _full: frozenset = frozenset()) -> tuple[pl.DataFrame, TableReport]:
    """Validate one table; returns the kept rows (canonical types) and its report.

    ``customer_ids`` are the kept customer ids (None while validating customers).
    ``release=True`` sets ``inp.frame`` to None once the rows are split, so that the raw
    text can be freed early (the loader passes it for tables it read itself).

    Notes
    -----
    Ids are compared through 64-bit hashes (duplicates are then confirmed on the exact
    text): a row could be taken for a known customer by a hash collision with probability
    about ``n_unknown * n_customers / 2**64`` (below 1e-7 for a million of each).
    """
    check_required_columns(inp)
    spec = S.TABLES[inp.name]
    frame = inp.frame
    notes: list[str] = list(inp.warnings)
    canon = [c for c in spec.names if c in frame.columns]
    extras = [c for c in frame.columns if c not in spec.names]

    # Text columns are always stripped. Date and number columns are parsed as they are
    # (stripping millions of clean values costs as much as parsing them); when some fail
    # and the failures are padded with blanks, the table is validated again with those
    # columns stripped (see the end of this function).
    # Ids in ``_norm`` are also normalised (NFC, no non-breaking or zero-width spaces):
    # like padding, this is found by a cheap check of the main query (any non-ASCII id)
    # and the table is validated again with them normalised.
    clean_cols = {c: f"__t_{c}" for c in canon if c in _strip or c in _norm}

    def cleaned(c: str) -> pl.Expr:
        return normalize_ids(pl.col(c)) if c in _norm else _clean_text(pl.col(c))

    for c in sorted(_norm & set(canon)):
        n = int(frame.select((cleaned(c) != _clean_text(pl.col(c))).sum()).item())
        if n:
            notes.append(f"{inp.name}.{c}: {n:,} ids written with another Unicode form "
                         f"or with non-breaking or zero-width spaces were normalised, so "
                         f"that they match the same id written plainly")
    src = {c: clean_cols.get(c, c) for c in canon}
    values: dict[str, pl.Expr] = {}
    failure: dict[str, str] = {}
    number_formats = _number_formats(inp, notes, _full)
    for col in canon:
        expr, fail = _column_plan(inp, col, src[col], spec.column(col).dtype, notes,
                                  number_formats, full_parse=col in _full)
        values[col] = expr
        if fail:
            failure[col] = fail
    for col, vmap in inp.values.items():
        if col in values:
            values[col] = values[col].replace(vmap)
    if inp.name == S.CONTACTS and S.DIRECTION in values:
        d = values[S.DIRECTION].str.to_lowercase()
        values[S.DIRECTION] = d.replace(_DIRECTION_SYNONYMS)

    tmp = {c: f"__v_{c}" for c in canon}
    v = {c: pl.col(tmp[c]) for c in canon}
    missing = {}
    for c in canon:
        if spec.column(c).dtype == pl.String:
            missing[c] = v[c].is_null() | (v[c].str.len_bytes() == 0)
        elif frame.schema[c] == pl.String and c not in clean_cols:
            missing[c] = pl.col(c).is_null() | (pl.col(c).str.len_bytes() == 0)
        else:
            missing[c] = pl.col(src[c]).is_null()
    rules: list[tuple[str, pl.Expr]] = []
    for col in spec.required_names:
        rules.append((f"{col}: missing", missing[col]))
    for col, kind in failure.items():
        rules.append((f"{col}: {kind}", v[col].is_null() & ~missing[col]))
    for col in canon:
        target = spec.column(col).dtype
        if target == pl.Float64:
            rules.append((f"{col}: not a finite number", ~v[col].is_finite()))
        elif isinstance(target, pl.Datetime):
            rules.append((f"{col}: before 1900", v[col] < _MIN_DATE))
    event = EVENT_COLUMNS.get(inp.name)
    if event in canon:
        rules.append((f"{event}: after as_of", v[event] > as_of))
    if inp.name in INTERVALS:
        start, end = INTERVALS[inp.name]
        if start in canon and end in canon:
            rules.append((f"{end}: before {start}", v[end] < v[start]))
    if inp.name == S.ORDERS and not allow_refunds and S.AMOUNT in canon:
        rules.append((f"{S.AMOUNT}: negative", v[S.AMOUNT] < 0))
    if inp.name == S.CONTACTS and S.DIRECTION in canon:
        rules.append((f"{S.DIRECTION}: not inbound/outbound",
                      v[S.DIRECTION].is_not_null()
                      & ~v[S.DIRECTION].is_in(list(S.DIRECTIONS))))
    if customer_ids is not None:
        known = customer_ids.hash(_SEED).implode()
        for col in CUSTOMER_REFERENCES.get(inp.name, ()):
            if col in canon:
                rules.append((f"{col}: unknown customer",
                              v[col].is_not_null() & ~v[col].hash(_SEED).is_in(known)))

    # The reason is carried as a small integer code (index into `labels`, null = row is
    # fine): a when/then chain of string literals would materialise a string column per
    # rule, which costs more than reading the file.
    labels = [r for r, _ in rules]
    dup_reason = f"{spec.key[0]}: duplicate" if spec.key and spec.key[0] in canon else None
    if dup_reason:
        labels.append(dup_reason)
    code_type = pl.UInt16
    reason: pl.Expr = pl.lit(None, dtype=code_type)
    if rules:
        chain = pl.when(rules[0][1].fill_null(False)).then(pl.lit(0, code_type))
        for i, (_, cond) in enumerate(rules[1:], start=1):
            chain = chain.when(cond.fill_null(False)).then(pl.lit(i, code_type))
        reason = chain.otherwise(pl.lit(None, dtype=code_type))
    lf = frame.lazy()
    if clean_cols:
        lf = lf.with_columns([cleaned(c).alias(t) for c, t in clean_cols.items()])
    lf = lf.with_columns([e.alias(tmp[c]) for c, e in values.items()])
    # only the parsed values, the extra columns and the reason leave the query: the raw
    # text of the canonical columns stays in `frame` (for the rejected rows) and is not
    # copied into the result
    lf = lf.with_columns(reason.alias(_REASON)).select(
        [tmp[c] for c in canon] + extras + [_REASON])
    # Customer references need no padding check: a padded id is not a known customer, so
    # it fails the unknown-customer rule, and its rejected rows trigger the stripped retry.
    checked_refs = (CUSTOMER_REFERENCES.get(inp.name, ()) if customer_ids is not None
                    else ())
    pad_watch = [c for c in canon if spec.column(c).is_id and frame.schema[c] == pl.String
                 and c not in clean_cols and c not in checked_refs]
    pad_lf = None
    if pad_watch and frame.height:
        pad_lf = frame.lazy().select([
            (pl.col(c).str.starts_with(" ") | pl.col(c).str.ends_with(" ")
             | pl.col(c).str.starts_with("\t") | pl.col(c).str.ends_with("\t"))
            .any().alias(f"__pad_{c}") for c in pad_watch]
            + [(pl.col(c).str.len_bytes() != pl.col(c).str.len_chars()).any()
               .alias(f"__uni_{c}") for c in pad_watch if c not in _norm])
    # repeated key hashes (sorted, adjacent equal), found alongside the main query
    dup_lf = None
    if dup_reason and frame.height > 1:
        key = spec.key[0]
        base = frame.lazy()
        if key in clean_cols:
            base = base.with_columns(cleaned(key).alias(clean_cols[key]))
        dup_lf = (base.select(values[key].hash(_SEED).sort().alias("h"))
                  .filter(pl.col("h") == pl.col("h").shift(1)).unique())
        del base  # only the queries may refer to the frame (see `release` below)
    side = [q for q in (pad_lf, dup_lf) if q is not None]
    try:
        checked, *side_out = pl.collect_all([lf, *side])
    except pl.exceptions.PolarsError as exc:
        raise SchemaError(f"{inp.source}: could not validate the {inp.name} table "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0]}); check the "
                          f"formats set for it in the mapping file.") from None
    pads = side_out.pop(0) if pad_lf is not None else None
    repeated = side_out.pop(0).get_column("h") if dup_lf is not None else None
    reasons_col = checked.get_column(_REASON)
    watch = {c: [f"{c}: {k}"] for c, k in failure.items()}
    for c in CUSTOMER_REFERENCES.get(inp.name, ()):
        if c in canon:
            watch.setdefault(c, []).append(f"{c}: unknown customer")
    bad_idx = reasons_col.is_not_null().arg_true()
    bad_codes = reasons_col.gather(bad_idx)
    retry = _dirty_failures(frame, bad_idx, bad_codes, labels, watch, clean_cols)
    norm = _unicode_failures(frame, bad_idx, bad_codes, labels, watch, _norm)
    full = _grouped_failures(frame, bad_idx, bad_codes, labels, failure, _full)
    # a column whose sample held integers only was not scanned for separators: a
    # fractional value after the plain cast means "1.500"-like text somewhere in it
    unchecked = [c for c, f in number_formats.items() if f.unchecked and c not in _full]
    if unchecked:
        fractional = checked.select(
            (pl.col(tmp[c]) != pl.col(tmp[c]).floor()).any() for c in unchecked).row(0)
        full = full | {c for c, hit in zip(unchecked, fractional) if hit}
    if pads is not None:
        retry = retry | {c for c in pad_watch if pads.get_column(f"__pad_{c}")[0]}
        norm = norm | {c for c in pad_watch if f"__uni_{c}" in pads.columns
                       and pads.get_column(f"__uni_{c}")[0]
                       and _normalising_changes(frame.get_column(c))}
    if retry or norm or full:
        return validate_table(inp, as_of=as_of, allow_refunds=allow_refunds,
                              customer_ids=customer_ids, release=release,
                              _strip=_strip | retry, _norm=_norm | norm, _full=_full | full)
    if repeated is not None and repeated.len():
        reasons_col = _mark_duplicates(checked.get_column(tmp[spec.key[0]]), reasons_col,
                                       len(labels) - 1, repeated)
    reasons_col = _mark_totals(frame, inp.name, canon, reasons_col, bad_idx, labels)

    n_rejected = reasons_col.len() - reasons_col.null_count()
    out_cols = [pl.col(tmp[c]).alias(c) for c in canon] + [pl.col(c) for c in extras]
    kept = checked.select(out_cols)
    read = frame.height
    if n_rejected:
        bad = reasons_col.is_not_null()
        idx = bad.arg_true()
        codes = reasons_col.gather(idx)
        text = codes.replace_strict(dict(enumerate(labels)), return_dtype=pl.String)
        rejects = (frame.gather(idx)
                   .select([_raw_text(c, frame.schema[c]) for c in frame.columns])
                   .with_columns((idx.cast(pl.Int64) if inp.row_numbers is None else
                                  inp.row_numbers.gather(idx)).alias(_ROW),
                                 text.alias(_REASON)))
        counts = codes.value_counts(sort=False)
        by_code = {int(c): int(n) for c, n in counts.iter_rows()}
        reasons = {labels[c]: by_code[c] for c in sorted(by_code)}
        if release:
            # the raw text of parsed columns is no longer needed: freeing it before the
            # kept rows are copied lets the copy reuse that memory (fewer page faults)
            inp.frame = None
            del frame, lf, dup_lf, pad_lf, side
        # a lazy filter copies the columns in parallel (about a third faster than eager)
        kept = kept.lazy().filter(~bad).collect()
    else:
        rejects = None
        reasons = {}

    if inp.name in INTERVALS:
        start, end = INTERVALS[inp.name]
        if end in kept.columns:
            late = int((kept.get_column(end) > as_of).sum())
            if late:
                kept = kept.with_columns(pl.when(pl.col(end) > as_of).then(None)
                                         .otherwise(pl.col(end)).alias(end))
                notes.append(f"{inp.name}.{end}: {late:,} dates after as_of set to null "
                             f"(still open at as_of)")
    report = TableReport(read=read, kept=kept.height, rejected=n_rejected,
                         reasons=reasons, rejects=rejects, source=inp.source,
                         warnings=notes)
    return kept, report


def _dirty_failures(frame: pl.DataFrame, rows: pl.Series, codes: pl.Series,
                    labels: list[str], watch: dict[str, list[str]],
                    cleaned: dict[str, str]) -> frozenset:
    """Columns whose rejected values include blank-padded text or null tokens ("NULL",
    "#N/A", ...): the table is then validated again with those columns cleaned.

    ``rows`` are the indices of the rejected rows and ``codes`` their reason codes.
    Cleaning every column up front would cost as much as parsing it; rejected rows are
    few, so looking at them is cheap.
    """
    out = set()
    present = None
    for col, watched in watch.items():
        if col in cleaned or frame.schema[col] != pl.String:
            continue
        if present is None:  # the codes that occur at all (one pass over the rejects)
            present = set(codes.drop_nulls().unique().to_list())
        wanted = [labels.index(w) for w in watched if w in labels]
        wanted = [w for w in wanted if w in present]
        if not wanted:
            continue
        raw = frame.get_column(col).gather(rows.filter(codes.is_in(wanted)))
        if bool(((raw.str.strip_chars() != raw) | raw.is_in(list(NULL_TOKENS))).any()):
            out.add(col)
    return frozenset(out)


_GROUPED = r"[,\s'’€$£¥\u00a0\u202f]|[A-Z]{3}|\d-$"


def _grouped_failures(frame: pl.DataFrame, rows: pl.Series, codes: pl.Series,
                      labels: list[str], failure: dict[str, str],
                      done: frozenset) -> frozenset:
    """Number columns read by a plain cast (their sample held plain numbers only) whose
    rejected values hold grouping, currency or a trailing minus ("1,234.50", "12 €",
    "5.00-"): the table is then validated again with those columns fully parsed."""
    out = set()
    for col, kind in failure.items():
        label = f"{col}: {kind}"
        if kind != "unparseable number" or col in done or label not in labels \
                or frame.schema[col] != pl.String:
            continue
        raw = frame.get_column(col).gather(rows.filter(codes == labels.index(label)))
        if raw.len() and bool(raw.str.contains(_GROUPED).any()):
            out.add(col)
    return frozenset(out)


def _normalising_changes(col: pl.Series) -> bool:
    """Whether normalising these ids (see :func:`normalize_ids`) changes any of them
    (blank padding aside: that is handled as padding)."""
    odd = col.filter(col.str.len_bytes() != col.str.len_chars())
    return bool(odd.len()) and bool(
        pl.select((normalize_ids(pl.lit(odd)) != _clean_text(pl.lit(odd))).any()).item())


def _unicode_failures(frame: pl.DataFrame, rows: pl.Series, codes: pl.Series,
                      labels: list[str], watch: dict[str, list[str]],
                      done: frozenset) -> frozenset:
    """Id columns whose rejected values (e.g. "unknown customer") include ids that
    normalising would change: the table is then validated again with them normalised."""
    out = set()
    for col, watched in watch.items():
        if col in done or frame.schema[col] != pl.String:
            continue
        wanted = [labels.index(w) for w in watched
                  if w in labels and w.endswith("unknown customer")]
        if not wanted:
            continue
        raw = frame.get_column(col).gather(rows.filter(codes.is_in(wanted)))
        if raw.len() and _normalising_changes(raw.drop_nulls()):
            out.add(col)
    return frozenset(out)


_TOTALS_START = re.compile(
    r"(?i)^\W*(total|totaal|totale|totalt|sum|gesamt|insgesamt|zwischen|end|eind|grand|"
    r"overall|sub|sous|som|soma|somma|suma|razem|og|celkem|yhteens|i ?alt|delsum)")
_TOTALS_BOTTOM = 5


def _mark_totals(frame: pl.DataFrame, table: str, canon: list[str], reasons: pl.Series,
                 bad_idx: pl.Series, labels: list[str]) -> pl.Series:
    """Give totals rows their own reason, ``<column>: totals row``.

    A totals row ("Total", "Summe", "Gesamt", "Totalt", "Totaal", "Totale", "Suma", ...
    in the first column or an id column) is looked for among the rejected rows (a totals
    row leaves ids and dates blank) and among the last rows of the table, where a totals
    row that broke no rule would otherwise be kept. Only those few rows are inspected.
    """
    spec_ids = [c for c in canon if S.TABLES[table].column(c).is_id]
    cols = [c for c in dict.fromkeys([frame.columns[0]] + spec_ids)
            if frame.schema[c] == pl.String] if frame.width else []
    if not cols or frame.height == 0:
        return reasons
    bottom = pl.Series(range(max(0, frame.height - _TOTALS_BOTTOM), frame.height),
                       dtype=bad_idx.dtype)
    rows = pl.concat([bad_idx, bottom]).unique(maintain_order=True)
    hits: dict[int, str] = {}
    for c in cols:
        vals = frame.get_column(c).gather(rows)
        cand = vals.str.contains(_TOTALS_START.pattern).fill_null(False)
        for i, v in zip(rows.filter(cand).to_list(), vals.filter(cand).to_list()):
            if i not in hits and is_totals_label(v):
                hits[i] = c
    if not hits:
        return reasons
    for c in dict.fromkeys(hits.values()):
        label = f"{c}: totals row"
        if label not in labels:
            labels.append(label)
        idx = pl.Series([i for i, col in hits.items() if col == c], dtype=pl.UInt32)
        reasons = reasons.scatter(idx, labels.index(label))
    return reasons


def _mark_duplicates(keys: pl.Series, reasons: pl.Series, label: int,
                     repeated: pl.Series) -> pl.Series:
    """Set reason code ``label`` on every valid row whose key repeats that of an earlier valid row.

    ``repeated`` are the 64-bit key hashes that occur more than once among all rows,
    valid or not (a superset of the repeats among valid rows, found by a sort of the
    hashes alongside the main query; the usual answer is none). Only valid rows sharing
    a repeated hash are then compared on the exact key.
    """
    valid = reasons.is_null() & keys.is_not_null()
    h = keys.hash(_SEED)
    cand = (valid & h.is_in(repeated.implode())).fill_null(False)
    idx = cand.arg_true()
    first = keys.gather(idx).is_first_distinct()
    dup_idx = idx.filter(~first)
    if dup_idx.len() == 0:
        return reasons
    return reasons.scatter(dup_idx, label)


def _raw_text(col: str, dtype: pl.DataType) -> pl.Expr:
    """A raw column as text, for the rejected rows ("as read")."""
    if dtype == pl.String:
        return pl.col(col)
    if dtype.is_nested() or dtype == pl.Object:
        return pl.col(col).map_elements(str, return_dtype=pl.String)
    return pl.col(col).cast(pl.String)


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
