"""Applying a table's parsed rules to the rows read (not public API): where-exclusions,
derived columns, fill-down, line items merged into orders, split and wide answers made
long. :func:`apply` is re-exported by :mod:`loyaltylab.data._rules`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from loyaltylab.data._parse import ColumnFormat, number_expr, sample_values
from loyaltylab.data._rules_parse import _ROW, MERGED, NO_ANSWER, Rule, TableRules
from loyaltylab.exceptions import MappingError


@dataclass
class RulesResult:
    """What :func:`apply` returns.

    Attributes
    ----------
    frame : pl.DataFrame
        The rows kept by the rules, with derived columns.
    excluded : dict[str, dict]
        Rule name -> ``{"n": rows, "amount": float or None}``.
    row_numbers : pl.Series or None
        For each row of ``frame``, its 0-based row number in the source.
    notes : list[str]
        What the rules did, for the table report.
    """

    frame: pl.DataFrame
    excluded: dict[str, dict] = field(default_factory=dict)
    row_numbers: pl.Series | None = None
    notes: list[str] = field(default_factory=list)

# --------------------------------------------------------------------------- applying

def _resolve(frame: pl.DataFrame, col: str, what: str, ctx: dict) -> str:
    """The frame's column named ``col`` (exactly, or after normalising case and spaces)."""
    if col in frame.columns:
        return col
    from loyaltylab.data.validation import closest, normalize_name
    hit = [c for c in frame.columns if normalize_name(c) == normalize_name(col)]
    if hit:
        return hit[0]
    gone = [c for c in ctx.get("keyed", ()) if normalize_name(c) == normalize_name(col)]
    if gone:
        raise MappingError(f"{ctx['origin']}: [tables.{ctx['table']}] {what} names column "
                           f"{col!r}, which holds personal data and was dropped when the "
                           f"customer key was derived from it; use the key column instead")
    guess = closest(col, [c for c in frame.columns if c != _ROW])
    raise MappingError(f"{ctx['origin']}: [tables.{ctx['table']}] {what} names column "
                       f"{col!r}, but {ctx['source']} has no such column."
                       + (f" Did you mean {guess!r}?" if guess else ""))


def _blank_to_null(e: pl.Expr) -> pl.Expr:
    s = e.cast(pl.String).str.strip_chars()
    return pl.when(s.str.len_bytes() > 0).then(s).otherwise(pl.lit(None, pl.String))


def _txt(frame: pl.DataFrame, col: str) -> pl.Expr:
    """Column ``col`` as stripped text, empty as null; typed cells are written the way
    validation writes them (an Excel id 51000.0 is "51000"), so keys compare alike."""
    from loyaltylab.data.validation import _to_text
    return _blank_to_null(_to_text(col, frame.schema[col]))


def _numbers(frame: pl.DataFrame, col: str, ctx: dict) -> pl.Series:
    """Column ``col`` read as numbers with the table's format (null where not a number)."""
    s = frame.get_column(col)
    if s.dtype.is_numeric():
        return s.cast(pl.Float64)
    if s.dtype == pl.Null:
        return pl.Series(col, [None] * s.len(), dtype=pl.Float64)
    text = s.cast(pl.String).str.strip_chars()
    expr = number_expr("v", sample_values(text), ctx["fmt"], hint_comma=ctx["hint_comma"])
    return text.to_frame("v").select(expr.alias(col)).to_series()


def _derive(frame: pl.DataFrame, out: str, op: str, arg: Any, ctx: dict
            ) -> tuple[pl.DataFrame, list[str]]:
    """Add derived column ``out``; returns the frame and columns to drop at once."""
    what = f"derive {out}"
    if op == "constant":
        return frame.with_columns(pl.lit(arg, pl.String).alias(out)), []
    if op == "first_non_empty":
        cols = [_resolve(frame, c, what, ctx) for c in arg]
        return frame.with_columns(
            pl.coalesce([_txt(frame, c) for c in cols]).alias(out)), []
    if op in ("email", "phone"):
        from loyaltylab.data.privacy import hash_series
        cols = [_resolve(frame, c, what, ctx) for c in arg]
        if op == "email":
            parts = [_txt(frame, c).str.to_lowercase() for c in cols]
        else:  # digits only; fewer than 5 digits is not a phone number
            parts = []
            for c in cols:
                d = _txt(frame, c).str.replace_all(r"\D", "")
                parts.append(pl.when(d.str.len_bytes() >= 5).then(d)
                             .otherwise(pl.lit(None, pl.String)))
        key = frame.select(pl.coalesce(parts).alias(out)).to_series()
        hashed = hash_series(key, ctx["salt"])  # pseudonymised before anything sees it
        return frame.with_columns(hashed.alias(out)), [c for c in cols if c != out]
    # arithmetic
    vals: list[pl.Series | float] = []
    for x in arg:
        if isinstance(x, float):
            vals.append(x)
        else:
            vals.append(_numbers(frame, _resolve(frame, x, what, ctx), ctx))
    first = vals[0]
    acc = first if isinstance(first, pl.Series) else pl.Series([first] * frame.height)
    for v in vals[1:]:
        # a missing first operand gives a missing result; a missing later one counts 0
        # (an empty "Refunded Amount" is nothing refunded), except in a product
        if isinstance(v, pl.Series) and op != "multiply":
            v = v.fill_null(0.0)
        if op == "subtract":
            acc = acc - v
        elif op == "add":
            acc = acc + v
        else:
            acc = acc * v
    if op != "multiply":  # binary float noise of a sum or difference (19.99 - 0.01 is
        acc = acc.round(9)  # 19.979999999999997): amounts are exact to far below a cent
    return frame.with_columns(acc.alias(out)), []


def _where_mask(frame: pl.DataFrame, rule: Rule, ctx: dict) -> pl.Series:
    """True where the row satisfies ``rule`` (is kept)."""
    col = _resolve(frame, rule.column, f"where rule {rule.name!r}", ctx)
    if rule.op == "greater_than":
        return (_numbers(frame, col, ctx) > rule.arg).fill_null(False)
    v = _txt(frame, col)
    if rule.op == "in":
        e = v.str.to_lowercase().is_in(rule.arg).fill_null(False)
    elif rule.op == "not_in":
        e = ~v.str.to_lowercase().is_in(rule.arg).fill_null(False)
    elif rule.op == "empty":
        e = v.is_null()
    elif rule.op == "not_empty":
        e = v.is_not_null()
    elif rule.op == "matches":
        e = v.str.contains(rule.arg).fill_null(False)
    else:
        e = ~v.str.contains(rule.arg).fill_null(False)
    return frame.select(e.alias("m")).to_series()


def apply(frame: pl.DataFrame, rules: TableRules | None, *, table: str, source: str = "",
          origin: str = "mapping", fmt: ColumnFormat | None = None,
          hint_comma: bool = False, amount_column: str | None = None,
          salt: str | None = None) -> RulesResult:
    """Apply a table's rules to its rows as read (client column names).

    Parameters
    ----------
    frame : pl.DataFrame
        The table as read.
    rules : TableRules or None
        From :func:`parse_table_rules`; None returns the frame unchanged.
    table, source, origin : str
        Canonical table, file and mapping names, for messages.
    fmt : ColumnFormat, optional
        The table's number format (decimal and thousands separators).
    hint_comma : bool
        The file looks European: break decimal-separator ties toward a comma.
    amount_column : str, optional
        The client column that becomes the canonical amount of the orders table (summed
        per order by ``lines``; reported as the amount of excluded rows); ignored for
        other tables.
    salt : str, optional
        Salt of the hash that pseudonymises ``email``/``phone`` keys.

    Returns
    -------
    RulesResult

    Examples
    --------
    >>> import polars as pl
    >>> from loyaltylab.data._rules_parse import parse_table_rules
    >>> raw = pl.DataFrame({"Name": ["#1", "#1", "#2", "#3"],
    ...                     "Status": ["paid", "", "voided", "paid"],
    ...                     "Total": ["10.00", "", "5.00", "7.50"],
    ...                     "Refunded": ["2.50", "", "0", "0"]})
    >>> rules = parse_table_rules("orders", {
    ...     "fill_down": ["Status", "Total", "Refunded"], "fill_down_by": "Name",
    ...     "derive": {"amount": {"subtract": ["Total", "Refunded"]}},
    ...     "lines": {"key": "Name", "amount": "once"},
    ...     "where": [{"name": "not paid", "column": "Status", "in": ["paid"]}]})
    >>> out = apply(raw, rules, table="orders", amount_column="amount")
    >>> out.frame["amount"].to_list(), out.excluded
    ([7.5, 7.5], {'line items merged into their order': {'n': 1, 'amount': None}, \
'not paid': {'n': 1, 'amount': 5.0}})
    >>> out.row_numbers.to_list()
    [0, 3]
    """
    if rules is None:
        return RulesResult(frame)
    ctx = {"table": table, "source": source or table, "origin": origin,
           "fmt": fmt or ColumnFormat(), "hint_comma": hint_comma,
           "salt": salt if salt is not None else _random_salt()}
    notes: list[str] = []
    excluded: dict[str, dict] = {}
    f = frame.with_row_index(_ROW)
    f = f.with_columns(pl.col(_ROW).cast(pl.Int64))

    # 0. headers in another language, read under the mapping's names
    if rules.headers:
        from loyaltylab.data.validation import normalize_name
        have = {normalize_name(c) for c in f.columns}
        rename = {}
        for c in f.columns:
            target = rules.headers.get(normalize_name(c))
            if target is not None and normalize_name(target) not in have \
                    and target not in rename.values():
                rename[c] = target
        if rename:
            f = f.rename(rename)
            notes.append(f"{len(rename)} headers in the export's language read under the "
                         f"preset's names")

    # 1. fill down
    if rules.fill_down:
        cols = [_resolve(f, c, "fill_down", ctx) for c in rules.fill_down]
        by = _resolve(f, rules.fill_down_by, "fill_down_by", ctx) if rules.fill_down_by \
            else None
        f = _fill_down(f, cols, by)

    # 2. derive (in the order written; later forms may use earlier ones)
    for out, (op, arg) in rules.derive.items():
        f, gone = _derive(f, out, op, arg, ctx)
        if gone:
            f = f.drop(gone)
            ctx.setdefault("keyed", []).extend(gone)
            what = "e-mail address" if op == "email" else "phone number"
            notes.append(f"customers are identified by their {what}, replaced by a "
                         f"pseudonym as soon as it was read")

    # 3. split
    if rules.split:
        col = _resolve(f, rules.split["column"], "split", ctx)
        parts = (_txt(f, col).str.split(rules.split["separator"])
                 .list.eval(_blank_to_null(pl.element()).drop_nulls()))
        # a row without any value stays one row (with an empty value), never vanishes
        parts = pl.when(parts.list.len() > 0).then(parts).otherwise(
            pl.concat_list(pl.lit(None, pl.String)))
        if rules.split["keep"] == "first":
            f = f.with_columns(parts.list.first().alias(col))
        else:
            n0 = f.height
            f = f.with_columns(parts.alias(col)).explode(col)
            if f.height != n0:
                notes.append(f"split {col!r} at {rules.split['separator']!r}: {n0:,} rows "
                             f"became {f.height:,} (each counted as read)")

    # 4. wide -> long
    if rules.wide:
        f = _unpivot(f, rules.wide, ctx, notes, excluded)

    amount_col = None
    if amount_column is not None and table == "orders":  # only orders carry revenue
        from loyaltylab.data.validation import normalize_name
        hits = [c for c in f.columns if c == amount_column] or \
            [c for c in f.columns if normalize_name(c) == normalize_name(amount_column)]
        amount_col = hits[0] if hits else None

    # 5. line items -> orders
    if rules.lines_key:
        key = _resolve(f, rules.lines_key, "lines key", ctx)
        f, merged = _group_lines(f, key, amount_col, rules.lines_amount, ctx)
        if merged:
            excluded[MERGED] = {"n": merged, "amount": None}

    # 6. where
    for rule in rules.where:
        keep = _where_mask(f, rule, ctx)
        n_out = keep.len() - int(keep.sum())
        if n_out:
            amount = None
            if amount_col is not None:
                amount = _numbers(f.filter(~keep), amount_col, ctx).sum()
                amount = round(float(amount), 2)
            excluded[rule.name] = {"n": n_out, "amount": amount}
            f = f.filter(keep)

    # how the amount was reached, on the rows that go on to validation
    op, arg = rules.derive.get(amount_col, (None, None)) if amount_col else (None, None)
    if op == "subtract" and f.height and all(isinstance(x, str) and x in f.columns
                                             for x in arg):
        gross = _numbers(f, arg[0], ctx).sum()
        deducted = sum(float(_numbers(f, x, ctx).fill_null(0.0).sum()) for x in arg[1:])
        notes.append(f"{amount_col} = {' minus '.join(arg)}: {f.height:,} rows, "
                     f"{float(gross):,.2f} less {deducted:,.2f} deducted = "
                     f"{float(f.get_column(amount_col).sum()):,.2f} (before validation)")

    # 7. drop
    if rules.drop:
        gone = [c for c in f.columns if c != _ROW and any(
            fnmatch.fnmatch(c.lower(), p.lower()) for p in rules.drop)]
        f = f.drop(gone)
    rows = f.get_column(_ROW)
    return RulesResult(f.drop(_ROW), excluded, rows, notes)


def _fill_down(f: pl.DataFrame, cols: list[str], by: str | None) -> pl.DataFrame:
    """Fill blank cells of ``cols`` from the row above with the same ``by`` value.

    When each key's rows are contiguous (the usual export), a cell takes the last value
    above it if that value lies in the same run of the key (no window needed); otherwise
    the fill runs over the groups of the key.
    """
    f = f.with_columns([_blank_to_null(pl.col(c)).alias(c) for c in cols
                        if f.schema[c] == pl.String])
    if by is None:
        return f.with_columns([pl.col(c).forward_fill() for c in cols])
    key = _txt(f, by)
    runs = f.select(key.ne_missing(key.shift()).cum_sum().alias("r"),
                    key.hash().alias("k"))
    n_runs = runs.get_column("r").max() or 0
    if n_runs != runs.get_column("k").n_unique():  # a key's rows are not together
        return f.with_columns([pl.col(c).forward_fill().over(key) for c in cols])
    run = pl.lit(runs.get_column("r"))
    return f.with_columns([
        pl.when(pl.col(c).is_not_null()).then(pl.col(c))
        .when(pl.when(pl.col(c).is_not_null()).then(run).forward_fill() == run)
        .then(pl.col(c).forward_fill()).alias(c) for c in cols])


def _random_salt() -> str:
    import secrets
    return secrets.token_hex(16)


def _group_lines(f: pl.DataFrame, key: str, amount_col: str | None, mode: str,
                 ctx: dict) -> tuple[pl.DataFrame, int]:
    """One row per order; returns the frame and how many line rows were merged away."""
    n0 = f.height
    k = _txt(f, key)
    keyed = f.filter(k.is_not_null())
    loose = f.filter(k.is_null())  # no order key: left alone (validation rejects them)
    if mode == "sum" and amount_col is not None:
        keyed = keyed.with_columns(_numbers(keyed, amount_col, ctx).alias(amount_col))
        loose = loose.with_columns(_numbers(loose, amount_col, ctx).alias(amount_col))
    aggs = []
    for c in keyed.columns:
        if c == key:
            continue
        if c == amount_col and mode == "sum":
            aggs.append(pl.col(c).sum().alias(c))
        elif c == _ROW:
            aggs.append(pl.col(c).first())
        elif keyed.schema[c] == pl.String:
            aggs.append(_blank_to_null(pl.col(c)).drop_nulls().first().alias(c))
        else:
            aggs.append(pl.col(c).drop_nulls().first().alias(c))
    grouped = (keyed.with_columns(k.alias(key)).group_by(key, maintain_order=True)
               .agg(aggs).select(keyed.columns))
    out = pl.concat([grouped, loose.select(keyed.columns)], how="vertical_relaxed") \
        if loose.height else grouped
    return out, n0 - out.height


def _unpivot(f: pl.DataFrame, wide: dict, ctx: dict, notes: list[str],
             excluded: dict[str, dict]) -> pl.DataFrame:
    qmap: dict[str, str] = {}
    for q, item in wide["questions"].items():
        qmap[_resolve(f, q, "wide questions", ctx)] = item
    if wide["id_columns"] is not None:
        ids = [_resolve(f, c, "wide id_columns", ctx) for c in wide["id_columns"]]
        ids = [_ROW] + [c for c in ids if c != _ROW]
    else:
        ids = [c for c in f.columns if c not in qmap]
    n0 = f.height
    long = (f.with_columns([pl.col(q).cast(pl.String) for q in qmap])
            .unpivot(index=ids, on=list(qmap), variable_name=wide["item"],
                     value_name=wide["score"])
            .with_columns(pl.col(wide["item"]).replace_strict(qmap, return_dtype=pl.String)))
    # keep each respondent's answers together, in question order
    long = long.sort(_ROW, maintain_order=True)
    notes.append(f"wide survey: {n0:,} responses x {len(qmap)} questions = "
                 f"{long.height:,} answers (each counted as read)")
    answered = long.select(_blank_to_null(pl.col(wide["score"])).is_not_null()).to_series()
    n_blank = long.height - int(answered.sum())
    if n_blank:
        excluded[NO_ANSWER] = {"n": n_blank, "amount": None}
        long = long.filter(answered)
    return long
