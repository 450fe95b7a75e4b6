"""The mapping vocabulary's keys and their strict parsing (not public API): the parsed
rules of a table (:class:`TableRules`, :class:`Rule`) and :func:`parse_table_rules`, which
checks a table's rule keys and says what is wrong. "The module docstring" below means
that of :mod:`loyaltylab.data._rules`, which documents the vocabulary and re-exports these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.exceptions import MappingError

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
