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

from loyaltylab.data import schema as S
from loyaltylab.data._parse import (ColumnFormat, date_expr, excel_serial_expr,
                                    localize_expr, number_expr, sample_values,
                                    sniff_date_formats)
from loyaltylab.data.crmdata import TableReport
from loyaltylab.exceptions import SchemaError

__all__ = ["TableInput", "validate_table", "normalize_name", "closest", "EVENT_COLUMNS",
           "INTERVALS", "CUSTOMER_REFERENCES", "VALIDATION_ORDER"]

EVENT_COLUMNS: dict[str, str] = {
    S.CUSTOMERS: S.ACQUIRED_AT, S.ORDERS: S.ORDERED_AT, S.CONTACTS: S.CONTACTED_AT,
    S.REFERRALS: S.REFERRED_AT, S.SURVEYS: S.ANSWERED_AT, S.COMPLAINTS: S.OPENED_AT,
    S.SUBSCRIPTIONS: S.STARTED_AT, S.ASSIGNMENTS: S.ASSIGNED_FROM,
    S.WEB_SESSIONS: S.STARTED_AT,
}
"""The timestamp of each table's event; rows dated after as_of are rejected."""

INTERVALS: dict[str, tuple[str, str]] = {
    S.COMPLAINTS: (S.OPENED_AT, S.RESOLVED_AT),
    S.SUBSCRIPTIONS: (S.STARTED_AT, S.ENDED_AT),
    S.ASSIGNMENTS: (S.ASSIGNED_FROM, S.ASSIGNED_TO),
}
"""(start, end) column pairs; the end may be null (still open) but not before the start."""

CUSTOMER_REFERENCES: dict[str, tuple[str, ...]] = {
    S.ORDERS: (S.CUSTOMER_ID,), S.CONTACTS: (S.CUSTOMER_ID,),
    S.REFERRALS: (S.REFERRER_ID, S.REFERRED_ID), S.SURVEYS: (S.CUSTOMER_ID,),
    S.COMPLAINTS: (S.CUSTOMER_ID,), S.SUBSCRIPTIONS: (S.CUSTOMER_ID,),
    S.ASSIGNMENTS: (S.CUSTOMER_ID,), S.WEB_SESSIONS: (S.CUSTOMER_ID,),
}
"""Columns that must name a customer present in the customers table."""

VALIDATION_ORDER = (S.CUSTOMERS, S.ORDERS, S.CONTACTS, S.REFERRALS, S.SURVEYS,
                    S.COMPLAINTS, S.SUBSCRIPTIONS, S.ASSIGNMENTS, S.WEB_SESSIONS)

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
    """

    name: str
    frame: pl.DataFrame
    source: str = ""
    formats: dict[str, ColumnFormat] = field(default_factory=dict)
    hint_comma: bool = False
    original_names: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)

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


def _clean_text(e: pl.Expr) -> pl.Expr:
    e = e.str.strip_chars()
    return pl.when(e == "").then(pl.lit(None, pl.String)).otherwise(e)


def _to_text(name: str, dtype: pl.DataType, values: pl.Series | None = None) -> pl.Expr:
    """A typed column as text (integral floats without '.0', as Excel ids often are)."""
    e = pl.col(name)
    if dtype == pl.String:
        return _clean_text(e)
    if dtype.is_float():
        whole = values is not None and values.drop_nulls().drop_nans().len() > 0 and bool(
            (values.drop_nulls().drop_nans() % 1 == 0).all())
        if whole:
            return e.cast(pl.Int64, strict=False).cast(pl.String)
    if dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        return e.cast(pl.String)
    if dtype.is_nested() or dtype == pl.Object:
        raise TypeError(f"cannot turn {dtype} into text")
    return _clean_text(e.cast(pl.String))


def _column_plan(inp: TableInput, col: str, target: pl.DataType,
                 notes: list[str]) -> tuple[pl.Expr, str | None]:
    """(expression giving the canonical value, kind of parse failure or None)."""
    frame = inp.frame
    dtype = frame.schema[col]
    fmt = inp.fmt(col)
    label = f"{inp.name}.{col}"
    if target == pl.String:
        try:
            return _to_text(col, dtype, frame.get_column(col)), None
        except TypeError:
            raise SchemaError(f"{inp.source}: column {col!r} holds {dtype} values; expected "
                              f"text (ids and categories). Flatten it before loading.")
    if target == pl.Float64:
        if dtype.is_numeric() or dtype == pl.Boolean:
            return pl.col(col).cast(pl.Float64), None
        if dtype != pl.String:
            raise SchemaError(f"{inp.source}: column {col!r} holds {dtype} values; expected "
                              f"numbers. Convert it to numbers or text before loading.")
        sample = sample_values(frame.get_column(col))
        return number_expr(col, sample, fmt, hint_comma=inp.hint_comma), "unparseable number"
    # datetime target
    if isinstance(dtype, pl.Datetime):
        e = pl.col(col)
        if dtype.time_zone is not None:
            e = e.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        elif fmt.timezone:
            e = localize_expr(e, fmt.timezone)
        return e.cast(pl.Datetime("us")), None
    if dtype == pl.Date:
        return pl.col(col).cast(pl.Datetime("us")), None
    if dtype.is_numeric():
        num = pl.col(col).cast(pl.Float64)
        num = pl.when((num >= 1.0) & (num <= 2958465.0)).then(num)
        notes.append(f"{label}: numbers read as Excel serial dates (45000 = 2023-03-15)")
        return excel_serial_expr(num), "unparseable date"
    if dtype != pl.String:
        raise SchemaError(f"{inp.source}: column {col!r} holds {dtype} values; expected "
                          f"dates. Convert it to dates or text before loading.")
    if fmt.date_format is not None:
        fmts = [fmt.date_format] if isinstance(fmt.date_format, str) else list(fmt.date_format)
        formats = [(f, "%z" in f or "%#z" in f or "%:z" in f) for f in fmts]
    else:
        sample = sample_values(frame.get_column(col))
        formats, date_notes = sniff_date_formats(sample, dayfirst=fmt.dayfirst)
        notes.extend(f"{label}: {n}" for n in date_notes)
        if len(formats) > 1:
            notes.append(f"{label}: dates in several formats "
                         f"({', '.join(f for f, _ in formats)})"
                         + ("; timestamps with an offset converted to UTC"
                            if any(tz for _, tz in formats) else ""))
    return date_expr(col, formats, timezone=fmt.timezone), "unparseable date"


def validate_table(inp: TableInput, *, as_of: datetime, allow_refunds: bool = False,
                   customer_ids: pl.Series | None = None
                   ) -> tuple[pl.DataFrame, TableReport]:
    """Validate one table; returns the kept rows (canonical types) and its report.

    ``customer_ids`` are the kept customer ids (None while validating customers).
    """
    check_required_columns(inp)
    spec = S.TABLES[inp.name]
    frame = inp.frame
    notes: list[str] = list(inp.warnings)
    canon = [c for c in spec.names if c in frame.columns]
    extras = [c for c in frame.columns if c not in spec.names]

    values: dict[str, pl.Expr] = {}
    failure: dict[str, str] = {}
    for col in canon:
        expr, fail = _column_plan(inp, col, spec.column(col).dtype, notes)
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
    rules: list[tuple[str, pl.Expr]] = []
    for col in spec.required_names:
        rules.append((f"{col}: missing", v[col].is_null() & _raw_missing(col, frame)))
    for col, kind in failure.items():
        rules.append((f"{col}: {kind}", v[col].is_null() & ~_raw_missing(col, frame)))
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
    if inp.name == S.ORDERS and not allow_refunds:
        rules.append((f"{S.AMOUNT}: negative", v[S.AMOUNT] < 0))
    if inp.name == S.CONTACTS and S.DIRECTION in canon:
        rules.append((f"{S.DIRECTION}: not inbound/outbound",
                      v[S.DIRECTION].is_not_null()
                      & ~v[S.DIRECTION].is_in(list(S.DIRECTIONS))))
    if customer_ids is not None:
        ids = customer_ids.implode()
        for col in CUSTOMER_REFERENCES.get(inp.name, ()):
            if col in canon:
                rules.append((f"{col}: unknown customer",
                              v[col].is_not_null() & ~v[col].is_in(ids)))

    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    if rules:
        chain = pl.when(rules[0][1].fill_null(False)).then(pl.lit(rules[0][0]))
        for r, cond in rules[1:]:
            chain = chain.when(cond.fill_null(False)).then(pl.lit(r))
        reason = chain.otherwise(pl.lit(None, dtype=pl.String))
    lf = frame.lazy().with_columns([e.alias(tmp[c]) for c, e in values.items()])
    lf = lf.with_columns(reason.alias(_REASON))
    if spec.key:
        key = spec.key[0]
        if key in canon:
            valid_key = pl.when(pl.col(_REASON).is_null()).then(v[key])
            dup = pl.col(_REASON).is_null() & ~valid_key.is_first_distinct()
            lf = lf.with_columns(pl.when(dup).then(pl.lit(f"{key}: duplicate"))
                                 .otherwise(pl.col(_REASON)).alias(_REASON))
    try:
        checked = lf.collect()
    except pl.exceptions.PolarsError as exc:  # pragma: no cover - defensive
        raise SchemaError(f"{inp.source}: could not validate the {inp.name} table "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from None

    reasons_col = checked.get_column(_REASON)
    n_rejected = checked.height - reasons_col.null_count()
    out_cols = [pl.col(tmp[c]).alias(c) for c in canon] + [pl.col(c) for c in extras]
    if n_rejected:
        kept = checked.filter(pl.col(_REASON).is_null()).select(out_cols)
        rejects = (checked.with_row_index(_ROW).filter(pl.col(_REASON).is_not_null())
                   .select([_raw_text(c, frame.schema[c]) for c in frame.columns]
                           + [pl.col(_ROW).cast(pl.Int64), pl.col(_REASON)]))
        counts = rejects.get_column(_REASON).value_counts(sort=True)
        reasons = {r: int(n) for r, n in counts.iter_rows()}
        # keep the order of the rules for readability
        order = [r for r, _ in rules] + [f"{spec.key[0]}: duplicate" if spec.key else ""]
        reasons = dict(sorted(reasons.items(),
                              key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))
    else:
        kept = checked.select(out_cols)
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
    report = TableReport(read=frame.height, kept=kept.height, rejected=n_rejected,
                         reasons=reasons, rejects=rejects, source=inp.source,
                         warnings=notes)
    return kept, report


def _raw_missing(col: str, frame: pl.DataFrame) -> pl.Expr:
    """True where the raw value is null or blank text."""
    if frame.schema[col] == pl.String:
        return pl.col(col).is_null() | (pl.col(col).str.strip_chars() == "")
    return pl.col(col).is_null()


def _raw_text(col: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return pl.col(col)
    try:
        if dtype.is_nested() or dtype == pl.Object:
            return pl.col(col).map_elements(str, return_dtype=pl.String)
    except AttributeError:  # pragma: no cover
        pass
    return pl.col(col).cast(pl.String)
