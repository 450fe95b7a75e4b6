"""The mapping vocabulary that says what counts (not public API; documented in
:mod:`loyaltylab.data.mapping`).

Each table of a mapping may carry rules that reshape and filter its rows *as read*, before
client columns are renamed to canonical ones. Every form is parsed strictly here (types,
unknown keys with the closest valid name) and compiled to polars expressions; nothing is
evaluated as code.

Stages, always in this order:

0. ``headers``: a header written in another language (``{"Close Date" = ["Schlusstermin",
   "Date de fermeture"]}``) is read under the name the rest of the mapping uses (case and
   spacing forgiven; a header already present under that name is left alone);
1. ``fill_down`` (within ``fill_down_by``): blank cells take the value of the row above in
   the same group (order-level fields written only on an order's first line item);
2. ``derive``: new columns from ``subtract``/``add``/``multiply`` (numbers read with the
   table's decimal format), ``first_non_empty``, ``constant``, and ``email``/``phone``
   (a customer key: normalised, then pseudonymised at once with a salted hash; the source
   columns are dropped right away);
3. ``split``: a multi-valued column (``"123;456"``) becomes one row per value
   (``keep = "first"`` keeps the first value only: the orders table must use it, or each
   deal would count once per linked contact);
4. ``wide``: one column per survey question becomes one answer per row
   (``item``/``score``); blank answers are excluded as "no answer";
5. ``lines``: line items grouped into one row per ``key`` (the order): every column takes
   the first non-empty value of the order's lines, the amount is taken ``"once"`` or
   ``"sum"``-med over the lines;
6. ``where``: rows that break a rule are excluded and counted under the rule's name with
   their amount (with ``lines`` the rules see one row per order);
7. ``drop``: columns (glob patterns) removed before mapping.

A table report then reads ``read = kept + rejected + excluded``: rows merged into their
order count as excluded under "line items merged into their order" (with no amount: it is
in the order), and rows added by ``split``/``wide`` count as read.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.data._parse import ColumnFormat, number_expr, sample_values
from loyaltylab.exceptions import MappingError

__all__ = ["TableRules", "Rule", "RulesResult", "RULE_KEYS", "parse_table_rules", "apply",
           "account", "customer_key_needs", "derive_customers", "wire_customers", "MERGED",
           "NO_ANSWER", "amount_note"]

RULE_KEYS = ("where", "derive", "fill_down", "fill_down_by", "lines", "split", "wide",
             "acquired_at", "drop", "headers")
"""Table keys of the vocabulary (added to the table keys a mapping accepts)."""

_WHERE_OPS = ("in", "not_in", "empty", "not_empty", "matches", "not_matches",
              "greater_than")
_WHERE_KEYS = ("column", "name") + _WHERE_OPS
_DERIVE_OPS = ("subtract", "add", "multiply", "first_non_empty", "constant", "email",
               "phone")
_LINES_KEYS = ("key", "amount")
_SPLIT_KEYS = ("column", "separator", "keep")
_WIDE_KEYS = ("id_columns", "questions", "item", "score")
_ACQ_KEYS = ("first_of", "add_missing")
_EVENT_DATE = {n: S.TABLES[n].event for n in (S.ORDERS, S.CONTACTS, S.SUBSCRIPTIONS,
                                               S.SURVEYS, S.COMPLAINTS, S.WEB_SESSIONS)}
"""Tables whose first event can date a customer's acquisition, and their date column."""

MERGED = "line items merged into their order"
NO_ANSWER = "no answer to the question"
_ROW = "__ll_row"


@dataclass(frozen=True)
class Rule:
    """One ``where`` rule: rows that do not satisfy it are excluded under ``name``."""

    column: str
    op: str
    arg: Any
    name: str


@dataclass
class TableRules:
    """The parsed vocabulary of one table (see the module docstring)."""

    where: list[Rule] = field(default_factory=list)
    derive: dict[str, tuple[str, Any]] = field(default_factory=dict)
    fill_down: list[str] = field(default_factory=list)
    fill_down_by: str | None = None
    lines_key: str | None = None
    lines_amount: str = "once"
    split: dict[str, Any] | None = None
    wide: dict[str, Any] | None = None
    first_of: list[str] = field(default_factory=list)
    add_missing: bool = True
    drop: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def reshapes(self) -> bool:
        """Whether applying the rules can change the rows (not only add columns)."""
        return bool(self.where or self.split or self.wide or self.lines_key)


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


# --------------------------------------------------------------------------- parsing

def _suggest(word: str, options) -> str:
    from loyaltylab.data.validation import closest
    guess = closest(str(word), list(options), cutoff=0.4)
    return f" Did you mean {guess!r}?" if guess else ""


def _keys(d: dict, allowed: tuple[str, ...], where: str, origin: str) -> None:
    for k in d:
        if k not in allowed:
            raise MappingError(f"{origin}: unknown key {k!r} in {where}; keys are "
                               f"{list(allowed)}.{_suggest(k, allowed)}")


def _text(v: Any, where: str, origin: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise MappingError(f"{origin}: {where} must be a column name as a non-empty "
                           f"string, got {v!r}")
    return v


def _texts(v: Any, where: str, origin: str, *, min_len: int = 1) -> list[str]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or len(v) < min_len:
        raise MappingError(f"{origin}: {where} must be a list of at least {min_len} "
                           f"column name(s), got {v!r}")
    return [_text(x, where, origin) for x in v]


def _table(v: Any, where: str, origin: str) -> dict:
    if not isinstance(v, dict):
        raise MappingError(f"{origin}: {where} must be a table ({{key = value, ...}}), "
                           f"got {v!r}")
    return v


def parse_table_rules(table: str, t: dict, origin: str = "mapping") -> TableRules | None:
    """Parse the vocabulary keys of ``[tables.<table>]`` (None when it uses none).

    Raises
    ------
    MappingError
        A key is unknown (the closest valid one is suggested) or a value has the wrong
        type; the message names the table and the key.

    Examples
    --------
    >>> r = parse_table_rules("orders", {"where": [{"column": "Status", "in": ["paid"]}],
    ...                       "derive": {"amount": {"subtract": ["Total", "Refunded"]}}})
    >>> r.where[0].name, r.derive["amount"]
    ("Status in ['paid']", ('subtract', ['Total', 'Refunded']))
    >>> parse_table_rules("orders", {"where": [{"column": "Status", "inn": ["paid"]}]})
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.MappingError: mapping: unknown key 'inn' in [tables.orders] \
where[1]; keys are [...]. Did you mean 'in'?
    """
    if not any(k in t for k in RULE_KEYS):
        return None
    at = f"[tables.{table}]"
    r = TableRules()
    if "where" in t:
        rules = t["where"]
        if isinstance(rules, dict):
            rules = [rules]
        if not isinstance(rules, list):
            raise MappingError(f"{origin}: {at} where must be a list of rules such as "
                               f"{{column = \"Status\", in = [\"paid\"]}}, got {rules!r}")
        seen: set[str] = set()
        for i, w in enumerate(rules, start=1):
            here = f"{at} where[{i}]"
            w = _table(w, here, origin)
            _keys(w, _WHERE_KEYS, here, origin)
            if "column" not in w:
                raise MappingError(f"{origin}: {here} needs column = \"<client column>\"")
            col = _text(w["column"], f"{here} column", origin)
            ops = [k for k in _WHERE_OPS if k in w]
            if len(ops) != 1:
                raise MappingError(f"{origin}: {here} needs exactly one test of "
                                   f"{list(_WHERE_OPS)}, got {ops or 'none'}")
            op = ops[0]
            arg = w[op]
            if op in ("in", "not_in"):
                if isinstance(arg, (str, int, float)) and not isinstance(arg, bool):
                    arg = [arg]
                if not isinstance(arg, list) or not arg or any(
                        isinstance(a, (bool, dict, list)) for a in arg):
                    raise MappingError(f"{origin}: {here} {op} must be a list of values, "
                                       f"got {arg!r}")
                arg = [str(a).strip().lower() for a in arg]
                label = f"{col} {'in' if op == 'in' else 'not in'} {arg}"
            elif op in ("empty", "not_empty"):
                if arg is not True:
                    raise MappingError(f"{origin}: {here} {op} must be true, got {arg!r} "
                                       f"(for the opposite test use "
                                       f"{'not_empty' if op == 'empty' else 'empty'} = true)")
                label = f"{col} {'empty' if op == 'empty' else 'not empty'}"
            elif op in ("matches", "not_matches"):
                if not isinstance(arg, str) or not arg:
                    raise MappingError(f"{origin}: {here} {op} must be a text pattern "
                                       f"(regular expression), got {arg!r}")
                try:
                    pl.Series([""]).str.contains(arg)
                except pl.exceptions.PolarsError:
                    raise MappingError(f"{origin}: {here} {op} = {arg!r} is not a valid "
                                       f"pattern; escape special characters such as ( [ "
                                       f". with a backslash.") from None
                label = f"{col} {'matches' if op == 'matches' else 'does not match'} {arg!r}"
            else:  # greater_than
                if isinstance(arg, bool) or not isinstance(arg, (int, float)):
                    raise MappingError(f"{origin}: {here} greater_than must be a number, "
                                       f"got {arg!r}")
                label = f"{col} > {arg}"
            name = w.get("name", label)
            if not isinstance(name, str) or not name.strip():
                raise MappingError(f"{origin}: {here} name must be text, got {name!r}")
            from loyaltylab._util import safe_text
            name = safe_text(name, limit=120)  # printed in reports: no control characters
            if name in seen:
                raise MappingError(f"{origin}: {here} name {name!r} is used by two rules; "
                                   f"give each rule its own name")
            seen.add(name)
            r.where.append(Rule(col, op, arg, name))
    if "headers" in t:
        from loyaltylab.data.validation import normalize_name
        h = _table(t["headers"], f"{at} headers", origin)
        for target, aliases in h.items():
            names = [aliases] if isinstance(aliases, str) else aliases
            if not isinstance(names, list) or not all(isinstance(a, str) and a.strip()
                                                      for a in names):
                raise MappingError(f"{origin}: {at} headers {target!r} must be a header "
                                   f"name or a list of them (the same column in other "
                                   f"languages), got {aliases!r}")
            for a in names:
                r.headers[normalize_name(a)] = target
    if "derive" in t:
        d = _table(t["derive"], f"{at} derive", origin)
        for out, spec in d.items():
            here = f"[tables.{table}.derive] {out}"
            spec = _table(spec, here, origin)
            if len(spec) != 1:
                raise MappingError(f"{origin}: {here} must be exactly one of "
                                   f"{list(_DERIVE_OPS)}, e.g. {{subtract = [\"Total\", "
                                   f"\"Refunded Amount\"]}}; got {spec!r}")
            op, arg = next(iter(spec.items()))
            if op not in _DERIVE_OPS:
                raise MappingError(f"{origin}: {here}: unknown form {op!r}; forms are "
                                   f"{list(_DERIVE_OPS)}.{_suggest(op, _DERIVE_OPS)}")
            if op in ("subtract", "add", "multiply"):
                arg = _arith_args(arg, f"{here} {op}", origin)
            elif op == "first_non_empty":
                arg = _texts(arg, f"{here} first_non_empty", origin, min_len=2)
            elif op in ("email", "phone"):
                arg = _texts(arg, f"{here} {op}", origin)
            elif op == "constant":
                if isinstance(arg, bool) or not isinstance(arg, (str, int, float)):
                    raise MappingError(f"{origin}: {here} constant must be text or a "
                                       f"number, got {arg!r}")
                arg = str(arg)
            r.derive[str(out)] = (op, arg)
    if "fill_down" in t:
        r.fill_down = _texts(t["fill_down"], f"{at} fill_down", origin)
    if "fill_down_by" in t:
        r.fill_down_by = _text(t["fill_down_by"], f"{at} fill_down_by", origin)
        if not r.fill_down:
            raise MappingError(f"{origin}: {at} fill_down_by needs fill_down = [...] "
                               f"naming the columns to fill")
    if "lines" in t:
        ln = _table(t["lines"], f"[tables.{table}.lines]", origin)
        _keys(ln, _LINES_KEYS, f"[tables.{table}.lines]", origin)
        if "key" not in ln:
            raise MappingError(f"{origin}: [tables.{table}.lines] needs key = \"<column "
                               f"that names the order>\"")
        r.lines_key = _text(ln["key"], f"[tables.{table}.lines] key", origin)
        amount = ln.get("amount", "once")
        if amount not in ("once", "sum"):
            raise MappingError(f"{origin}: [tables.{table}.lines] amount must be \"once\" "
                               f"(the order total, written on the first line) or \"sum\" "
                               f"(add up the line amounts), got {amount!r}")
        r.lines_amount = amount
    if "split" in t:
        sp = _table(t["split"], f"{at} split", origin)
        _keys(sp, _SPLIT_KEYS, f"{at} split", origin)
        col = _text(sp.get("column"), f"{at} split column", origin)
        sep = sp.get("separator", ";")
        if not isinstance(sep, str) or not sep:
            raise MappingError(f"{origin}: {at} split separator must be a non-empty "
                               f"string, got {sep!r}")
        keep = sp.get("keep", "all")
        if keep not in ("all", "first"):
            raise MappingError(f"{origin}: {at} split keep must be \"all\" (one row per "
                               f"value) or \"first\", got {keep!r}")
        if keep == "all" and table == "orders":
            raise MappingError(f"{origin}: {at} split would count each order once per "
                               f"value of {col!r} (revenue counted several times); set "
                               f"keep = \"first\" to credit it to the first value")
        r.split = {"column": col, "separator": sep, "keep": keep}
    if "wide" in t:
        here = f"[tables.{table}.wide]"
        wd = _table(t["wide"], here, origin)
        _keys(wd, _WIDE_KEYS, here, origin)
        qs = _table(wd.get("questions"), f"{here} questions", origin)
        if not qs:
            raise MappingError(f"{origin}: {here} questions must map each question "
                               f"column to an item name, e.g. {{\"How likely are you to "
                               f"recommend us?\" = \"nps\"}}")
        for q, item in qs.items():
            if not isinstance(item, str) or not item.strip():
                raise MappingError(f"{origin}: {here} questions: {q!r} must map to an "
                                   f"item name as text, got {item!r}")
        ids = (_texts(wd["id_columns"], f"{here} id_columns", origin)
               if "id_columns" in wd else None)
        r.wide = {"questions": dict(qs), "id_columns": ids,
                  "item": _text(wd.get("item", "item"), f"{here} item", origin),
                  "score": _text(wd.get("score", "score"), f"{here} score", origin)}
    if "acquired_at" in t:
        if table != "customers":
            raise MappingError(f"{origin}: {at} acquired_at = {{first_of = [...]}} belongs "
                               f"in [tables.customers]; map a date column under "
                               f"[tables.{table}.columns] instead")
        ac = _table(t["acquired_at"], f"{at} acquired_at", origin)
        _keys(ac, _ACQ_KEYS, f"{at} acquired_at", origin)
        first = _texts(ac.get("first_of"), f"{at} acquired_at first_of", origin)
        for name in first:
            if name not in _EVENT_DATE:
                raise MappingError(f"{origin}: {at} acquired_at first_of names {name!r}; "
                                   f"tables with a first event are {list(_EVENT_DATE)}."
                                   f"{_suggest(name, _EVENT_DATE)}")
        add = ac.get("add_missing", True)
        if not isinstance(add, bool):
            raise MappingError(f"{origin}: {at} acquired_at add_missing must be true or "
                               f"false, got {add!r}")
        r.first_of, r.add_missing = first, add
    if "drop" in t:
        r.drop = _texts(t["drop"], f"{at} drop", origin)
    return r


def _arith_args(v: Any, where: str, origin: str) -> list[str | float]:
    if not isinstance(v, list) or len(v) < 2:
        raise MappingError(f"{origin}: {where} must be a list of at least two columns or "
                           f"numbers, got {v!r}")
    out: list[str | float] = []
    for x in v:
        if isinstance(x, bool) or not isinstance(x, (str, int, float)):
            raise MappingError(f"{origin}: {where}: {x!r} is neither a column name nor a "
                               f"number")
        out.append(float(x) if isinstance(x, (int, float)) else _text(x, where, origin))
    return out


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


# ------------------------------------------------------------------ report and customers

_AMOUNT_NOTE = re.compile(
    r"^(?P<column>.+?) = (?P<parts>.+): (?P<rows>[\d,]+) rows, (?P<gross>-?[\d,]+\.\d\d) "
    r"less (?P<deducted>-?[\d,]+\.\d\d) deducted = (?P<net>-?[\d,]+\.\d\d) "
    r"\(before validation\)$")


def amount_note(note: str) -> dict | None:
    """The numbers of the note :func:`apply` writes on how a subtracted amount was reached
    (``amount = Total minus Refunded Amount: 18 rows, 2,506.02 less 91.34 deducted =
    2,414.68 (before validation)``), or None for any other note.

    Parameters
    ----------
    note : str
        One warning of a :class:`~loyaltylab.data.TableReport`.

    Returns
    -------
    dict or None
        ``{"column", "gross_column", "deducted_columns", "rows", "gross", "deducted",
        "net"}``, or None when the note is about something else.

    Examples
    --------
    >>> amount_note("amount = Total minus Refunded Amount: 18 rows, 2,506.02 less 91.34 "
    ...             "deducted = 2,414.68 (before validation)")["deducted_columns"]
    ['Refunded Amount']
    >>> amount_note("something else") is None
    True
    """
    m = _AMOUNT_NOTE.match(str(note))
    if m is None:
        return None
    parts = m["parts"].split(" minus ")

    def num(x: str) -> float:
        return float(x.replace(",", ""))

    return {"column": m["column"], "gross_column": parts[0],
            "deducted_columns": parts[1:], "rows": int(m["rows"].replace(",", "")),
            "gross": num(m["gross"]), "deducted": num(m["deducted"]), "net": num(m["net"])}



def account(report: Any, excluded: dict[str, dict] | None) -> None:
    """Add a table's excluded rows to its report so that read = kept + rejected + excluded.

    ``report`` is a :class:`~loyaltylab.data.crmdata.TableReport` whose ``read`` counts
    the rows that reached validation.
    """
    if not excluded:
        return
    report.excluded = dict(excluded)
    report.read += sum(int(e["n"]) for e in excluded.values())


def customer_key_needs(rules: TableRules | None) -> list[str]:
    """The tables whose first events date the customers (``acquired_at.first_of``)."""
    return list(rules.first_of) if rules is not None else []


def _first_dates(inp: Any) -> pl.DataFrame | None:
    """(customer_id, first) from a mapped table input: each customer's first event."""
    from loyaltylab.data import schema as S
    col = _EVENT_DATE[inp.name]
    frame = inp.frame
    if S.CUSTOMER_ID not in frame.columns or col not in frame.columns:
        return None
    dates = _parse_dates(frame, col, inp)
    ids = _txt(frame, S.CUSTOMER_ID)
    return (frame.select(ids.alias(S.CUSTOMER_ID)).with_columns(dates.alias("first"))
            .drop_nulls().group_by(S.CUSTOMER_ID).agg(pl.col("first").min()))


def _parse_dates(frame: pl.DataFrame, col: str, inp: Any) -> pl.Series:
    from loyaltylab.data._parse import date_expr, sniff_date_formats
    s = frame.get_column(col)
    if isinstance(s.dtype, pl.Datetime):
        return s.dt.replace_time_zone(None) if s.dtype.time_zone else s
    if s.dtype == pl.Date:
        return s.cast(pl.Datetime("us"))
    fmt = inp.formats.get("*", ColumnFormat()).merged(inp.formats.get(col))
    text = s.cast(pl.String).str.strip_chars()
    if fmt.date_format is not None:
        given = [fmt.date_format] if isinstance(fmt.date_format, str) else fmt.date_format
        fmts = [(f, "%z" in f or "%#z" in f or "%:z" in f) for f in given]
    else:
        fmts, _ = sniff_date_formats(sample_values(text), dayfirst=fmt.dayfirst)
    return text.to_frame("v").select(
        date_expr("v", fmts, timezone=fmt.timezone).alias(col)).to_series()


def derive_customers(base: Callable[[], Any] | None, events: dict[str, Callable[[], Any]],
                     rules: TableRules, source: str) -> Any:
    """The customers table input with ``acquired_at`` = the earliest of the record's own
    date (when mapped) and the customer's first event in ``events`` (orders, contacts,
    ...); customers seen only in those tables (guest checkouts) are added when
    ``rules.add_missing``.

    A customer whose history starts before the record's creation date (a CRM migration)
    is normal: the earliest date wins.
    """
    from loyaltylab.data import schema as S
    from loyaltylab.data.validation import TableInput
    firsts = []
    for _name, read in events.items():
        got = _first_dates(read())
        if got is not None:
            firsts.append(got)
    first = (pl.concat(firsts).group_by(S.CUSTOMER_ID).agg(pl.col("first").min())
             if firsts else pl.DataFrame(schema={S.CUSTOMER_ID: pl.String,
                                                 "first": pl.Datetime("us")}))
    inp = base() if base is not None else TableInput(
        name=S.CUSTOMERS, frame=pl.DataFrame(schema={S.CUSTOMER_ID: pl.String}),
        source=f"customers derived from {', '.join(events)}")
    frame = inp.frame
    if S.CUSTOMER_ID not in frame.columns:
        return inp  # validation reports the missing key column
    rows = (inp.row_numbers if inp.row_numbers is not None
            else pl.Series(range(frame.height), dtype=pl.Int64))
    frame = frame.with_columns(rows.alias(_ROW))
    notes = list(inp.warnings)
    own = None
    if S.ACQUIRED_AT in frame.columns:
        own = _parse_dates(frame, S.ACQUIRED_AT, inp)
        had_text = frame.select(_blank_to_null(pl.col(S.ACQUIRED_AT)).is_not_null()
                                ).to_series()
        unread = int((had_text & own.is_null()).sum())
        if unread:
            notes.append(f"{unread:,} creation dates could not be read; their first "
                         f"event was used where there is one")
    f = frame.with_columns(_txt(frame, S.CUSTOMER_ID).alias("__k"))
    f = f.join(first.rename({S.CUSTOMER_ID: "__k"}), on="__k", how="left",
               maintain_order="left")
    acq = pl.col("first") if own is None else pl.min_horizontal(own, pl.col("first"))
    earlier = 0
    if own is not None:
        earlier = int(f.select((pl.col("first") < own).sum()).item())
    # the key as text, written alike in every table (an Excel 51000.0 is "51000")
    f = f.with_columns(acq.alias(S.ACQUIRED_AT), pl.col("__k").alias(S.CUSTOMER_ID)
                       ).drop("first", "__k")
    if earlier:
        notes.append(f"{earlier:,} customers have events before their record's creation "
                     f"date (e.g. a CRM migration); acquired_at is the earliest")
    if rules.add_missing and first.height:
        known = frame.select(_txt(frame, S.CUSTOMER_ID)).to_series()
        extra = first.filter(~pl.col(S.CUSTOMER_ID).is_in(known.drop_nulls().implode()))
        if extra.height:
            add = extra.rename({"first": S.ACQUIRED_AT})
            f = pl.concat([f, add], how="diagonal_relaxed")
            notes.append(f"{extra.height:,} customers found only in "
                         f"{' / '.join(events)} (guest checkouts or contacts without a "
                         f"record) added, acquired at their first event")
    # a record with no date of its own and no event cannot be dated: not a customer yet
    undated = pl.col(S.ACQUIRED_AT).is_null()
    if own is not None:
        f = f.with_columns(had_text.extend_constant(False, f.height - had_text.len())
                           .alias("__had"))
        undated = undated & ~pl.col("__had")
    mask = f.select(undated.alias("u")).to_series()
    n_undated = int(mask.sum())
    if n_undated:
        excluded = dict(inp.excluded)
        excluded[f"cannot be dated (no creation date, no {' or '.join(events)})"] = {
            "n": n_undated, "amount": None}
        inp.excluded = excluded
        f = f.filter(~mask)
    f = f.drop("__had", strict=False)
    inp.row_numbers = f.get_column(_ROW)
    inp.frame = f.drop(_ROW)
    inp.warnings = notes
    return inp


def wire_customers(inputs: dict[str, Any], rules: TableRules | None, *,
                   source: str) -> dict[str, Any]:
    """Replace the customers input by one whose ``acquired_at`` is derived
    (``acquired_at = {first_of = [...]}``); other inputs are returned unchanged.

    ``inputs`` maps table names to :class:`~loyaltylab.data.validation.TableInput` or to
    functions that read one. The event tables are read once more for their first dates.
    """
    from loyaltylab.data import schema as S
    from loyaltylab.exceptions import MissingTableError
    first_of = customer_key_needs(rules)
    if not first_of:
        return inputs

    def reader(inp: Any) -> Callable[[], Any]:
        return inp if callable(inp) else (lambda: inp)

    events = {t: reader(inputs[t]) for t in first_of if t in inputs}
    base = reader(inputs[S.CUSTOMERS]) if S.CUSTOMERS in inputs else None
    if not events and base is None:
        raise MissingTableError(f"{source}: the customers table is missing and none of "
                                f"{first_of} (acquired_at = {{first_of = ...}}) is there to "
                                f"derive it from; add the customers or orders export.")
    if not events:
        return inputs
    out = dict(inputs)
    out[S.CUSTOMERS] = lambda: derive_customers(base, events, rules, source)
    return out
