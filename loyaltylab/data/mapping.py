'''The mapping file: how a client's files, columns, values and formats map onto the
canonical CRM model.

A mapping is a TOML file (or the same structure as a dict). Everything is optional: a
file named like a canonical table (``orders.csv``) with canonical column names needs no
mapping at all, and formats are sniffed. ``loyaltylab init-mapping SOURCE`` writes a
first draft for you to correct.

Format
------
.. code-block:: toml

    # Settings for every table (each can be overridden per table or per column).
    [defaults]
    delimiter = ";"            # CSV field separator, one character (sniffed when absent)
    encoding = "latin-1"       # "utf-8" (BOM or not), "latin-1", "cp1252", "utf-16", ...
    quote = '"'                # quote character of CSV fields; "" = fields are never quoted
    header_row = 2             # 0-based line (CSV) or row (sheet) of the header; detected
                               # when absent (a title line above the header is skipped)
    decimal = ","              # decimal separator of numbers: "." or ","
    thousands = "."            # thousands separator to strip
    date_format = "%d.%m.%Y"   # strftime format(s); a list tries each; "excel" = serials
    dayfirst = true            # ambiguous 03/04/2026 is 3 April (the default)
    timezone = "Europe/Berlin" # zone of timestamps written without an offset -> UTC

    [tables.orders]
    source = "Bestellungen.csv"    # file name (or list / glob pattern) in a folder, sheet
                                   # of a workbook, or table of a database; default: the
                                   # canonical table name
    # sheet = "Orders"             # with source = "shop.xlsx" in a folder: the sheet(s)

    [tables.orders.columns]        # canonical column = "client column"
    order_id = "BestellNr"
    customer_id = "KundenNr"
    ordered_at = "Bestelldatum"
    amount = "Betrag (EUR)"

    [tables.orders.formats.ordered_at]   # per-column overrides
    date_format = "%d.%m.%Y %H:%M"

    [tables.contacts.values.direction]   # client value = canonical value
    Eingehend = "inbound"
    Ausgehend = "outbound"

    [tables.web_sessions]
    skip = true                          # do not load this table even if a file exists

Canonical names on the left are checked: a misspelt table, column or setting raises
:class:`~loyaltylab.exceptions.MappingError` with the closest valid name. Client columns
that are not mapped keep their own name (a column already named like a canonical column,
after normalising case and spaces, is matched automatically). One client column may feed
several canonical columns (``segment = "Kundengruppe"`` and ``kind = "Kundengruppe"``):
each gets a copy.

Every value is type-checked, and a wrong one raises a MappingError naming the setting,
the type expected and the value found (``[tables.orders] skip must be true or false,
got the string 'false'``):

==============  ==========================================================
setting         expected
==============  ==========================================================
source, sheet   a string or a list of strings
columns         a table of strings (canonical column = "client column")
formats         a table of tables of the format settings below
values          a table of tables of strings (client value = canonical value)
skip            true or false (customers and orders can never be skipped)
delimiter       one character
encoding        a text encoding Python knows (``codecs.lookup``)
quote           one character, or "" for none
header_row      a whole number, 0 or more
decimal         "." or ","
thousands       ".", ",", " ", "'" or "" (no grouping)
date_format     a string or a list of strings
dayfirst        true or false
timezone        an IANA time zone such as "Europe/Berlin"
==============  ==========================================================

Value maps match the way the data is matched: surrounding blanks are ignored on both
sides and matching is **case-insensitive** (``"eingehend"`` and ``"EINGEHEND "`` in the
data both match the key ``Eingehend``; keys are also compared in Unicode NFC form). Two
keys of one value map that differ only in case or blanks but map to different values are
an error. Values of a mapped column that the value map does not cover are kept as they
are and listed, with their row counts, in the table's warnings of the load report.

What counts: rules on the rows as read
--------------------------------------
Platform exports need more than renaming. Each ``[tables.<table>]`` may also carry these
rules (client column names; each compiles to a polars expression, nothing is evaluated as
code), applied in this order before the columns are mapped:

- ``[tables.<t>.headers] "Close Date" = ["Abschlussdatum", ...]``: a header written in
  another language is read under the name the rest of the mapping uses (presets of
  systems that localise their exports carry these for German, French, Spanish, Dutch);
- ``fill_down = [...]`` (with ``fill_down_by = "Order"``): blank cells take the value of
  the first line of the same order;
- ``[tables.<t>.derive] new = {form = [...]}``: ``subtract``, ``add``, ``multiply`` (columns
  or numbers, read with the table's decimal format; an empty later operand counts 0),
  ``first_non_empty``, ``constant``, and ``email`` / ``phone``: a customer key normalised
  (trimmed and lower-case; digits only) and pseudonymised at once with the load's salt,
  its personal source columns dropped. The same address is the same customer in every
  table of a load (pass ``salt=`` to ``load`` for the same ids on every load), so guest
  checkouts without an account are customers keyed by their e-mail address; rows with
  no address get no key (exclude them with a ``not_empty`` rule to count them);
- ``split = {column = "Contact IDs", separator = ";", keep = "all" | "first"}``: one row
  per value (the orders table must use ``"first"``: revenue is counted once);
- ``[tables.surveys.wide] questions = {"Question text" = "item", ...}``: one answer per
  row (``item``, ``score``); blank answers are excluded;
- ``[tables.orders.lines] key = "Order"; amount = "once" | "sum"``: line items grouped
  into one order, its amount taken from the first line or summed;
- ``[[tables.<t>.where]]`` rules, each with a ``column``, an optional ``name`` and one test
  of ``in``, ``not_in`` (trimmed, case-insensitive), ``empty``, ``not_empty``, ``matches``,
  ``not_matches`` (a regular expression) or ``greater_than``: rows that fail are excluded
  and reported as "excluded by rule R: N rows, amount A";
- ``drop = ["Billing *"]``: columns removed (glob patterns);
- ``[tables.customers] acquired_at = {first_of = ["orders", "contacts"]}``: the earliest
  of the record's own date (if mapped) and its first order or contact; customers seen only
  there (guest checkouts) are added, records that cannot be dated are excluded.

Every row read is then kept, rejected or excluded: ``read = kept + rejected + excluded``
per table (line items merged into their order count as excluded, without an amount).
``preset = "shopify"`` (or ``"hubspot"``, ``"stripe"``, ``"salesforce"``, ``"typeform"``,
``"zendesk"``, ``"woocommerce"``, ``"woocommerce_coe"``, ``"mailchimp"``; top level or per
table, a table's own preset replacing the top-level one's version of it) starts from a
built-in mapping of
that platform's export (see :mod:`loyaltylab.data.presets`); ``init-mapping`` writes it when it
recognises
the headers.

.. code-block:: toml

    [tables.orders]
    fill_down = ["Email", "Financial Status", "Total", "Refunded Amount", "Created at"]
    fill_down_by = "Name"
    columns = {order_id = "Name", ordered_at = "Created at"}
    derive = {customer_id = {email = "Email"}, amount = {subtract = ["Total",
              "Refunded Amount"]}}
    lines = {key = "Name", amount = "once"}

    [[tables.orders.where]]
    name = "not paid"
    column = "Financial Status"
    in = ["paid", "partially_refunded"]
'''

from __future__ import annotations

import codecs
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.data import _rules
from loyaltylab.data._parse import ColumnFormat
from loyaltylab.exceptions import MappingError

__all__ = ["Mapping", "TableMapping", "read_mapping", "draft_mapping", "FORMAT_KEYS",
           "ValueType", "check_value", "check_keys", "DEFAULT_KEYS", "TABLE_KEYS",
           "fold_value", "show", "MERGED", "amount_note"]

MERGED = _rules.MERGED
"""The exclusion reason of an order's further line items, merged into the order."""
amount_note = _rules.amount_note


# ------------------------------------------------------------------ showing values

def show(value: Any, limit: int = 60) -> str:
    """A value as it may appear in a message: quoted, control characters escaped, cut.

    Text from client files (headers, values) can hold control characters (a carriage
    return, an ANSI escape, a right-to-left override) that would garble a terminal or a
    log; ``repr`` escapes them.

    Examples
    --------
    >>> print(show("Betrag\\x1b[31m"))
    'Betrag\\x1b[31m'
    >>> print(show("x" * 80, limit=10))
    'xxxxxxx...'
    """
    if isinstance(value, str):
        text = repr(value)
        if len(text) > limit:
            text = repr(value[:max(1, limit - 3)])[:-1] + "...'"
        return text
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe(value: Any) -> str:
    """``the string 'false'``, ``the integer 5``, ... for 'got ...' in messages."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {show(value)}" if value else "an empty string"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, list):
        return f"the list {show(value)}" if value else "an empty list"
    if isinstance(value, dict):
        return f"a table with the keys {show(list(value))}" if value else "an empty table"
    if hasattr(value, "isoformat"):  # TOML dates and times
        return f"the {type(value).__name__} {value.isoformat()}"
    return f"the {type(value).__name__} {show(value)}"


# ------------------------------------------------------------------ value types

@dataclass(frozen=True)
class ValueType:
    """The expected type of a mapping value, for :func:`check_value`.

    Attributes
    ----------
    expected : str
        How a message names it: ``"true or false"``, ``"one character"``.
    check : callable
        ``check(value)`` returns None when the value is fine, else a hint to append to
        the message ("" for none).

    Examples
    --------
    >>> positive = ValueType("a number above 0", lambda v: None if (
    ...     isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0) else "")
    >>> check_value(0, positive, key="cost", where="[defaults]")
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.MappingError: mapping: [defaults] cost must be a number above 0,
    got the integer 0
    """

    expected: str
    check: Callable[[Any], str | None]


def check_value(value: Any, expected: ValueType, *, key: str, where: str,
                origin: str = "mapping") -> Any:
    """Check one mapping value against its expected type; return it or raise.

    Parameters
    ----------
    value
        The value as read from TOML.
    expected : ValueType
        What it must be (e.g. ``BOOL``, ``CHAR``; see :data:`TABLE_KEYS`).
    key : str
        The setting's name, for the message.
    where : str
        The section it is in (``"[tables.orders]"``), for the message.
    origin : str
        The mapping file's name, for the message.

    Raises
    ------
    MappingError
        ``<origin>: <where> <key> must be <expected>, got <value>`` plus a hint.

    Examples
    --------
    >>> check_value(True, BOOL, key="skip", where="[tables.contacts]")
    True
    >>> check_value("false", BOOL, key="skip", where="[tables.orders]", origin="m.toml")
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.MappingError: m.toml: [tables.orders] skip must be true or false,
    got the string 'false' (write true or false without quotes)
    """
    hint = expected.check(value)
    if hint is None:
        return value
    raise MappingError(f"{origin}: {where} {key} must be {expected.expected}, got "
                       f"{_describe(value)}" + (f" ({hint})" if hint else ""))


def check_keys(d: dict, allowed, *, where: str, origin: str = "mapping") -> None:
    """Raise MappingError for a key of ``d`` not in ``allowed`` (closest name suggested).

    Examples
    --------
    >>> check_keys({"delimeter": ";"}, TABLE_KEYS, where="[tables.orders]")
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.MappingError: mapping: unknown setting 'delimeter' in
    [tables.orders]; settings are [...]. Did you mean 'delimiter'?
    """
    for k in d:
        if k not in allowed:
            raise MappingError(f"{origin}: unknown setting {show(k)} in {where}; settings "
                               f"are {list(allowed)}.{_suggest(str(k), list(allowed))}")


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _bool(v: Any) -> str | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, str) and v.strip().lower() in ("true", "false", "yes", "no"):
        return "write true or false without quotes"
    return ""


def _char(v: Any) -> str | None:
    if _is_str(v) and len(v) == 1:
        return None
    if v in ("\\t", "tab", "TAB"):
        return 'write "\\t" in double quotes for a tab'
    return ""


def _quote(v: Any) -> str | None:
    return None if _is_str(v) and len(v) <= 1 else ""


def _encoding(v: Any) -> str | None:
    if not _is_str(v):
        return ""
    try:
        info = codecs.lookup(v)
    except LookupError:
        return "see https://docs.python.org/3/library/codecs.html#standard-encodings"
    return None if getattr(info, "_is_text_encoding", True) else ""


def _row_index(v: Any) -> str | None:
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return "the first line is 0"
    return ""


def _strings(v: Any) -> str | None:
    if _is_str(v) and v:
        return None
    if isinstance(v, list) and v and all(_is_str(s) and s for s in v):
        return None
    return ""


def _date_formats(v: Any) -> str | None:
    if _strings(v) is None:
        return None
    return ""


def _timezone(v: Any) -> str | None:
    if not _is_str(v) or not v:
        return ""
    try:
        from zoneinfo import ZoneInfo
        ZoneInfo(v)
    except Exception:  # noqa: BLE001 - any failure means: not a zone
        return "see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones"
    return None


def _one_of(*options: str) -> Callable[[Any], str | None]:
    return lambda v: None if _is_str(v) and v in options else ""


def _table(v: Any) -> str | None:
    return None if isinstance(v, dict) else ""


def _nonempty_str(v: Any) -> str | None:
    if _is_str(v) and v.strip():
        return None
    if isinstance(v, list):
        return ("to take the first non-empty of several columns, derive it: "
                "derive = {<column> = {first_non_empty = [...]}}")
    return ""


def _value_target(v: Any) -> str | None:
    return None if _is_str(v) else 'write "" to read the value as missing'


BOOL = ValueType("true or false", _bool)
CHAR = ValueType("one character", _char)
QUOTE = ValueType('one character, or "" for no quoting', _quote)
ENCODING = ValueType("a text encoding such as 'utf-8', 'latin-1', 'cp1252' or 'utf-16'",
                     _encoding)
ROW_INDEX = ValueType("a whole number, 0 or more (0-based: the first line is 0)",
                      _row_index)
NAMES = ValueType("a string or a list of strings", _strings)
DATE_FORMATS = ValueType("a string or a list of strings (strftime formats such as "
                         "'%d.%m.%Y', or 'excel')", _date_formats)
TIMEZONE = ValueType("an IANA time zone such as 'Europe/Berlin' or 'UTC'", _timezone)
DECIMAL = ValueType('"." or ","', _one_of(".", ","))
THOUSANDS = ValueType('".", ",", " ", "\'" or "" (no grouping)',
                      _one_of(".", ",", " ", "'", "", "\u00a0", "\u202f"))
TABLE = ValueType("a table ([section] or { key = value })", _table)
CLIENT_COLUMN = ValueType("the client column name as a string", _nonempty_str)
VALUE_TARGET = ValueType("a string (the canonical value)", _value_target)

FORMAT_KEYS = ("date_format", "dayfirst", "timezone", "decimal", "thousands")
"""Settings that say how to read dates and numbers (table or column level)."""

_FORMAT_TYPES: dict[str, ValueType] = {
    "date_format": DATE_FORMATS, "dayfirst": BOOL, "timezone": TIMEZONE,
    "decimal": DECIMAL, "thousands": THOUSANDS,
}
_READ_TYPES: dict[str, ValueType] = {
    "delimiter": CHAR, "encoding": ENCODING, "quote": QUOTE, "header_row": ROW_INDEX,
}
DEFAULT_KEYS: dict[str, ValueType] = {**_READ_TYPES, **_FORMAT_TYPES}
"""Settings of ``[defaults]`` and their types."""
TABLE_KEYS: dict[str, ValueType] = {
    "source": NAMES, "sheet": NAMES, "columns": TABLE, "formats": TABLE, "values": TABLE,
    "skip": BOOL, **_READ_TYPES, **_FORMAT_TYPES,
}
"""Settings of ``[tables.<table>]`` and their types (nested tables are checked item by
item: ``columns`` values are client column names, ``formats`` hold format settings,
``values`` hold tables of strings)."""
# the vocabulary that says what counts (where, derive, lines, ...): checked by _rules
TABLE_KEYS.update({k: ValueType("a rule of the mapping vocabulary (see above)",
                                lambda v: None) for k in _rules.RULE_KEYS})


# ------------------------------------------------------------------ parsed mapping

@dataclass
class TableMapping:
    """The mapping of one canonical table.

    ``source`` names the file, sheet or database table(s); ``sheet`` the sheet(s) to read
    inside an Excel file of a folder (when both are given). ``quote`` and ``header_row``
    None mean: take the default. ``values`` maps are keyed by the stripped client value
    and matched with :func:`fold_value`.
    """

    source: list[str] | None = None
    sheet: list[str] | None = None
    columns: dict[str, str] = field(default_factory=dict)
    formats: dict[str, ColumnFormat] = field(default_factory=dict)
    table_format: ColumnFormat = field(default_factory=ColumnFormat)
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    delimiter: str | None = None
    encoding: str | None = None
    quote: str | None = None
    header_row: int | None = None
    skip: bool = False
    rules: _rules.TableRules | None = None


@dataclass
class Mapping:
    """A parsed mapping: defaults plus one :class:`TableMapping` per mapped table."""

    tables: dict[str, TableMapping] = field(default_factory=dict)
    defaults: ColumnFormat = field(default_factory=ColumnFormat)
    delimiter: str | None = None
    encoding: str | None = None
    quote: str | None = None
    header_row: int | None = None
    origin: str = "mapping"

    def table(self, name: str) -> TableMapping:
        """The mapping of table ``name`` (an empty one when not mapped)."""
        return self.tables.get(name, TableMapping())

    def read_options(self, name: str) -> dict[str, Any]:
        """How to read table ``name``: delimiter, encoding, quote (None = no quoting) and
        header_row (None = detect), table settings over the defaults."""
        tm = self.table(name)
        quote = tm.quote if tm.quote is not None else self.quote
        quote = '"' if quote is None else (quote or None)
        return {"delimiter": tm.delimiter or self.delimiter,
                "encoding": tm.encoding or self.encoding, "quote": quote,
                "header_row": tm.header_row if tm.header_row is not None
                else self.header_row}


def fold_value(value: str) -> str:
    """How value-map keys and data values are compared: stripped, NFC, case-folded.

    Examples
    --------
    >>> fold_value(" Eingehend "), fold_value("EINGEHEND")
    ('eingehend', 'eingehend')
    """
    return unicodedata.normalize("NFC", str(value).strip()).casefold()


def _suggest(word: str, options) -> str:
    from loyaltylab.data.validation import closest
    guess = closest(word, list(options), cutoff=0.4)
    return f" Did you mean {guess!r}?" if guess else ""


def _format(d: dict, where: str, origin: str) -> ColumnFormat:
    check_keys(d, FORMAT_KEYS, where=where, origin=origin)
    for k, v in d.items():
        check_value(v, _FORMAT_TYPES[k], key=k, where=where, origin=origin)
    fmt = ColumnFormat(**{k: d[k] for k in FORMAT_KEYS if k in d})
    if fmt.decimal is not None and fmt.thousands is not None \
            and fmt.decimal == fmt.thousands:
        raise MappingError(f"{origin}: {where} decimal and thousands are both "
                           f"{fmt.decimal!r}; they must differ (e.g. decimal = \",\", "
                           f"thousands = \".\")")
    return fmt


def _value_map(col: str, vm: Any, where: str, origin: str) -> dict[str, str | None]:
    """Check a value map; keys are stripped (``""`` targets become None: missing)."""
    check_value(vm, TABLE, key=col, where=where, origin=origin)
    here = f"{where[:-1]}.{col}]"
    out: dict[str, str | None] = {}
    first: dict[str, str] = {}
    for k, v in vm.items():
        if not isinstance(k, str):
            raise MappingError(f"{origin}: {here} keys must be client values as strings, "
                               f"got {_describe(k)}")
        check_value(v, VALUE_TARGET, key=show(k), where=here, origin=origin)
        target = None if v == "" else v
        f = fold_value(k)
        if f in first:
            if out[first[f]] != target:
                raise MappingError(
                    f"{origin}: {here} keys {show(first[f])} and {show(k)} are the same "
                    f"value once blanks and case are ignored (value maps match without "
                    f"regard to case), but map to {show(out[first[f]])} and "
                    f"{show(target)}; keep one of them.")
            continue
        first[f] = k.strip()
        out[k.strip()] = target
    return out


def read_mapping(mapping: str | Path | dict | Mapping | None) -> Mapping:
    """Parse a mapping file path or dict into a :class:`Mapping` (None gives an empty one).

    Every value is checked against its type (see the module docstring).

    Raises
    ------
    MappingError
        The file is missing or not valid TOML; it names an unknown table, column or
        setting (the message suggests the closest valid name); a value has the wrong type
        (the message names the setting, the type expected and the value); a required
        table is skipped.

    Examples
    --------
    >>> m = read_mapping({"tables": {"orders": {"source": "Bestellungen.csv",
    ...                  "columns": {"order_id": "BestellNr"}}}})
    >>> m.table("orders").columns
    {'order_id': 'BestellNr'}
    >>> read_mapping({"tables": {"order": {}}})
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.MappingError: mapping: unknown table 'order' under [tables]; ...
    >>> read_mapping({"tables": {"contacts": {"skip": "false"}}})
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.MappingError: mapping: [tables.contacts] skip must be true or
    false, got the string 'false' (write true or false without quotes)
    """
    if mapping is None:
        return Mapping()
    if isinstance(mapping, Mapping):
        return mapping
    origin = "mapping"
    if isinstance(mapping, (str, Path)):
        path = Path(mapping)
        origin = path.name
        if not path.is_file():
            raise MappingError(f"{path}: mapping file not found; write one with "
                               f"`loyaltylab init-mapping SOURCE --out {path.name}`.")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"{path.name}: not valid TOML ({exc}); client names with "
                               f"spaces or umlauts need quotes: amount = \"Betrag (EUR)\"."
                               ) from None
        except UnicodeDecodeError:
            raise MappingError(f"{path.name}: save the mapping file as UTF-8.") from None
    elif isinstance(mapping, dict):
        data = mapping
    else:
        raise TypeError(f"mapping: expected a path to a TOML file or a dict, got "
                        f"{type(mapping).__name__}")
    from loyaltylab.data.presets import expand
    data = expand(data, origin)  # preset = "shopify" (top level or per table)
    for k in data:
        if k not in ("defaults", "tables"):
            raise MappingError(f"{origin}: unknown section [{show(k)[1:-1]}]; sections are "
                               f"[defaults] and [tables.<table>]."
                               f"{_suggest(str(k), ['defaults', 'tables'])}")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise MappingError(f"{origin}: [defaults] must be a table of settings, got "
                           f"{_describe(defaults)}")
    tables = data.get("tables", {})
    if not isinstance(tables, dict):
        raise MappingError(f"{origin}: [tables] must hold one [tables.<table>] section per "
                           f"table, got {_describe(tables)}")
    check_keys(defaults, DEFAULT_KEYS, where="[defaults]", origin=origin)
    for k, v in defaults.items():
        check_value(v, DEFAULT_KEYS[k], key=k, where="[defaults]", origin=origin)
    out = Mapping(origin=origin, delimiter=defaults.get("delimiter"),
                  encoding=defaults.get("encoding"), quote=defaults.get("quote"),
                  header_row=defaults.get("header_row"))
    out.defaults = _format({k: v for k, v in defaults.items() if k in FORMAT_KEYS},
                           "[defaults]", origin)
    for name, t in tables.items():
        if name not in S.TABLES:
            raise MappingError(f"{origin}: unknown table {show(name)} under [tables]; tables "
                               f"are {list(S.TABLES)}.{_suggest(name, S.TABLES)}")
        out.tables[name] = _table_mapping(name, t, origin)
    return out


def _table_mapping(name: str, t: Any, origin: str) -> TableMapping:
    where = f"[tables.{name}]"
    if not isinstance(t, dict):
        raise MappingError(f"{origin}: {where} must be a table of settings, got "
                           f"{_describe(t)}")
    check_keys(t, TABLE_KEYS, where=where, origin=origin)
    for k, v in t.items():
        check_value(v, TABLE_KEYS[k], key=k, where=where, origin=origin)
    spec = S.TABLES[name]
    tm = TableMapping()
    if t.get("skip", False):
        if name in S.REQUIRED_TABLES:
            raise MappingError(f"{origin}: {where} skip = true, but the {name} table is "
                               f"required (customers and orders are always loaded); "
                               f"remove the skip line.")
        tm.skip = True

    def names(v: Any) -> list[str] | None:
        return None if v is None else ([v] if isinstance(v, str) else list(v))

    if "source" in t:
        tm.source = names(t["source"])
        tm.sheet = names(t.get("sheet"))
    else:
        tm.source = names(t.get("sheet"))
    for canon, client in t.get("columns", {}).items():
        if canon not in spec.names:
            raise MappingError(
                f"{origin}: [tables.{name}.columns] names {show(canon)}, which is not a "
                f"canonical {name} column; columns are {spec.names} (write canonical = "
                f"\"client column\").{_suggest(canon, spec.names)}")
        check_value(client, CLIENT_COLUMN, key=canon, where=f"[tables.{name}.columns]",
                    origin=origin)
        tm.columns[canon] = client
    tm.table_format = _format({k: t[k] for k in FORMAT_KEYS if k in t}, where, origin)
    for col, f in t.get("formats", {}).items():
        if col not in spec.names:
            raise MappingError(f"{origin}: [tables.{name}.formats.{show(col)[1:-1]}]: "
                               f"{show(col)} is not a canonical {name} column."
                               f"{_suggest(col, spec.names)}")
        check_value(f, TABLE, key=col, where=f"[tables.{name}.formats]", origin=origin)
        tm.formats[col] = _format(f, f"[tables.{name}.formats.{col}]", origin)
    for col, vm in t.get("values", {}).items():
        if col not in spec.names:
            raise MappingError(f"{origin}: [tables.{name}.values.{show(col)[1:-1]}]: "
                               f"{show(col)} is not a canonical {name} column."
                               f"{_suggest(col, spec.names)}")
        if spec.column(col).dtype != pl.String:
            raise MappingError(f"{origin}: [tables.{name}.values.{col}]: value maps "
                               f"apply to text columns only; {col} is "
                               f"{spec.column(col).dtype}. Use formats for dates and "
                               f"numbers.")
        tm.values[col] = _value_map(col, vm, f"[tables.{name}.values]", origin)
    tm.delimiter = t.get("delimiter")
    tm.encoding = t.get("encoding")
    tm.quote = t.get("quote")
    tm.header_row = t.get("header_row")
    tm.rules = _rules.parse_table_rules(name, t, origin)
    return tm


# ------------------------------------------------------------------ drafting a mapping

# Names are compared after folding (see _fold_name): accents removed, lower snake case.
# German umlauts are also tried spelt out (ä -> ae), so both "auftraege" and "auftrage"
# match "Aufträge".
_TABLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    S.CUSTOMERS: (
        "customer", "clients", "client", "accounts", "members",
        "kunden", "kunde", "stammdaten", "kundenstamm",                      # de
        "clientele", "fichier_clients",                                      # fr
        "kunder", "kund", "kundregister",                                    # sv
        "kunderegister",                                                     # da, no
        "klanten", "klant", "klantenbestand",                                # nl
        "clientes", "cliente",                                               # es, pt
        "clienti",                                                           # it
        "klienci", "klient", "kontrahenci",                                  # pl
    ),
    S.ORDERS: (
        "order", "sales", "transactions", "purchases", "invoices",
        "bestellungen", "auftraege", "umsaetze", "verkaeufe", "rechnungen",  # de
        "commandes", "commande", "ventes", "factures", "achats",             # fr
        "ordrar", "bestallningar", "forsaljning", "fakturor", "kop",         # sv
        "ordrer", "bestillinger", "salg", "fakturaer", "kob", "kjop",        # da, no
        "bestellingen", "verkopen", "facturen", "aankopen",                  # nl
        "pedidos", "ventas", "facturas", "compras",                          # es
        "ordini", "vendite", "fatture", "acquisti",                          # it
        "encomendas", "vendas", "faturas",                                   # pt
        "zamowienia", "sprzedaz", "faktury", "zakupy",                       # pl
    ),
    S.CONTACTS: (
        "contact", "interactions", "activities", "touchpoints",
        "kontakte", "aktivitaeten",                                          # de
        "contacts_clients", "historique_contacts",                           # fr
        "kontakter", "aktiviteter",                                          # sv, da, no
        "contacten", "activiteiten",                                         # nl
        "contactos", "interacciones", "actividades",                         # es
        "contatti", "interazioni", "attivita",                               # it
        "contatos", "interacoes",                                            # pt
        "kontakty", "interakcje",                                            # pl
    ),
    S.REFERRALS: ("referral", "recommendations", "empfehlungen", "parrainages",
                  "rekommendationer", "anbefalinger", "aanbevelingen", "doorverwijzingen",
                  "verwijzingen", "referidos",
                  "recomendaciones", "raccomandazioni", "indicacoes", "polecenia"),
    S.SURVEYS: ("survey", "responses", "answers", "nps", "umfragen", "befragung",
                "enquetes", "sondages", "enkater", "undersokningar", "undersogelser",
                "undersokelser", "encuestas", "sondaggi", "questionari", "inqueritos",
                "pesquisas", "ankiety"),
    S.COMPLAINTS: ("complaint", "tickets", "beschwerden", "reklamationen", "reclamations",
                   "plaintes", "reklamationer", "klagomal", "klager", "reklamasjoner",
                   "klachten", "reclamaciones", "quejas", "reclami", "reclamacoes",
                   "reklamacje", "skargi"),
    S.SUBSCRIPTIONS: ("subscription", "contracts", "vertraege", "abos", "abonnements",
                      "contrats", "abonnemang", "prenumerationer", "avtal",
                      "abonnementer", "abonnementen", "contracten", "suscripciones",
                      "contratos", "abbonamenti", "contratti", "assinaturas",
                      "subskrypcje", "abonamenty", "umowy"),
    S.ASSIGNMENTS: ("assignment", "account_managers", "betreuung", "betreuer",
                    "affectations", "tilldelningar", "toewijzingen", "asignaciones",
                    "assegnazioni", "atribuicoes", "przypisania"),
    S.WEB_SESSIONS: ("sessions", "visits", "web", "besuche", "web_session", "visites",
                     "besok", "besog", "bezoeken", "sessies", "visitas", "sesiones",
                     "visite", "sessioni", "sessoes", "wizyty", "sesje"),
}
_COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    S.CUSTOMER_ID: (
        "cust_id", "client_id", "customer_no", "customer_number", "account_id",
        "kundennr", "kunden_nr", "kunden_id", "kundennummer", "kdnr",            # de
        "id_client", "numero_client", "no_client", "num_client", "code_client",  # fr
        "ref_client", "n_client",
        "kundnummer", "kundnr", "kund_id",                                       # sv
        "kundenummer", "kundenr", "kunde_id",                                    # da, no
        "klantnummer", "klantnr", "klant_id",                                    # nl
        "id_cliente", "numero_cliente", "codigo_cliente", "n_cliente",           # es, pt
        "num_cliente", "codice_cliente", "cod_cliente",                          # it
        "numer_klienta", "id_klienta", "nr_klienta", "kod_klienta",              # pl
    ),
    S.ACQUIRED_AT: (
        "created_at", "created", "signup_date", "registered", "first_seen", "since",
        "customer_since",
        "anlagedatum", "kunde_seit", "erstellt", "registriert_am",               # de
        "date_creation", "date_de_creation", "date_inscription",                 # fr
        "date_d_inscription", "client_depuis",
        "kund_sedan", "skapad", "registrerad", "registreringsdatum",             # sv
        "kunde_siden", "oprettet", "oprettelsesdato", "opprettet", "registrert", # da, no
        "klant_sinds", "aangemaakt", "registratiedatum", "aanmaakdatum",         # nl
        "fecha_alta", "fecha_de_alta", "fecha_registro", "cliente_desde",        # es, pt
        "data_registrazione", "cliente_dal", "data_creazione", "data_iscrizione",  # it
        "data_cadastro", "data_registo", "data_registro", "data_criacao",        # pt
        "data_rejestracji", "klient_od", "data_utworzenia",                      # pl
    ),
    S.KIND: ("type", "customer_type", "kundenart", "art", "typ", "type_client",
             "type_de_client", "kundtyp", "kundetype", "klanttype", "soort", "tipo",
             "tipo_cliente", "tipo_de_cliente", "typ_klienta", "rodzaj"),
    S.SEGMENT: ("segment", "tier", "class", "kundensegment", "kundengruppe", "kundsegment",
                "kundgrupp", "kundesegment", "kundegruppe", "klantsegment", "klantgroep",
                "groupe_de_clients", "segmento", "grupo_de_clientes", "gruppo_clienti",
                "grupa_klientow"),
    S.ACQUISITION_CHANNEL: ("channel", "source", "acquisition", "herkunft", "quelle",
                            "origine", "canal_d_acquisition", "kalla", "ursprung",
                            "kilde", "herkomst", "bron", "origen", "fuente", "fonte",
                            "origem", "zrodlo", "kanal_pozyskania"),
    S.REGION: ("region", "sales_region", "country", "area", "territory", "gebiet", "bezirk",
               "land", "pays", "secteur", "distrikt", "omrade", "regio", "gebied",
               "provincie", "pais", "zona", "provincia", "regione", "paese", "regiao",
               "kraj", "wojewodztwo"),
    S.ACCOUNT_MANAGER: ("manager", "owner", "sales_rep", "betreuer", "berater",
                        "commercial", "responsable", "saljare", "saelger", "selger",
                        "accountmanager", "vendedor", "gestor", "referente",
                        "opiekun"),
    S.ACQUISITION_COST: ("cac", "acquisition_costs", "akquisekosten",
                         "cout_d_acquisition", "anskaffningskostnad", "forvarvskostnad",
                         "anskaffelsesomkostning", "acquisitiekosten", "coste_de_captacion",
                         "coste_de_adquisicion", "costo_di_acquisizione",
                         "custo_de_aquisicao", "koszt_pozyskania"),
    S.REWARD_SCHEME: ("loyalty_scheme", "loyalty_programme", "loyalty_program", "reward",
                      "bonusprogramm", "bonusprogram", "programm", "spaarprogramma",
                      "programme_fidelite", "lojalitetsprogram", "loyaliteitsprogramma",
                      "programa_de_fidelizacion", "programma_fedelta",
                      "programa_de_fidelidade", "program_lojalnosciowy"),
    S.ORDER_ID: (
        "order_no", "order_number", "invoice_id", "invoice_no", "transaction_id",
        "bestellnr", "bestellnummer", "auftragsnr", "auftragsnummer", "belegnr",  # de
        "rechnungsnummer",
        "numero_commande", "no_commande", "num_commande", "id_commande",         # fr
        "n_commande", "reference_commande", "numero_facture",
        "ordernummer", "ordernr", "order_nr", "fakturanummer",                   # sv
        "ordrenummer", "ordrenr",                                                # da, no
        "bestelnummer", "factuurnummer",                                         # nl
        "numero_pedido", "id_pedido", "n_pedido", "numero_factura",              # es
        "numero_ordine", "id_ordine", "n_ordine", "numero_fattura",              # it
        "numero_encomenda", "numero_fatura", "n_encomenda",                      # pt
        "numer_zamowienia", "nr_zamowienia", "id_zamowienia", "numer_faktury",   # pl
    ),
    S.ORDERED_AT: (
        "order_date", "date", "purchase_date", "transaction_date", "invoice_date",
        "bestelldatum", "datum", "auftragsdatum", "belegdatum", "rechnungsdatum",  # de
        "date_commande", "date_de_commande", "date_facture", "date_achat",        # fr
        "date_vente",
        "orderdatum", "bestallningsdatum", "fakturadatum", "kopdatum",           # sv, nl
        "ordredato", "dato", "bestillingsdato", "fakturadato", "kobsdato",       # da, no
        "besteldatum", "factuurdatum", "aankoopdatum",                           # nl
        "fecha", "fecha_pedido", "fecha_de_pedido", "fecha_compra",              # es
        "fecha_factura", "fecha_venta",
        "data", "data_ordine", "data_dell_ordine", "data_acquisto",              # it
        "data_fattura",
        "data_pedido", "data_do_pedido", "data_encomenda", "data_compra",        # pt
        "data_zamowienia", "data_zakupu", "data_sprzedazy",                      # pl
    ),
    S.AMOUNT: (
        "value", "total", "revenue", "sales", "net_amount", "amount_eur",
        "betrag", "umsatz", "wert", "summe", "betrag_eur", "gesamtbetrag",       # de
        "montant", "montant_total", "montant_ttc", "montant_ht",                 # fr
        "chiffre_d_affaires",
        "belopp", "summa", "totalt", "varde",                                    # sv
        "belob", "vaerdi", "belop", "verdi",                                     # da, no
        "bedrag", "totaal", "omzet", "waarde",                                   # nl
        "importe", "monto", "valor", "importe_total",                            # es
        "importo", "totale", "valore",                                           # it
        "montante", "valor_total",                                               # pt
        "kwota", "wartosc", "suma", "wartosc_brutto", "kwota_brutto",            # pl
    ),
    S.PRODUCT_LINE: ("product", "category", "product_group", "sparte", "warengruppe",
                     "produktlinie", "categorie", "gamme", "famille", "produktkategori",
                     "produktlinje", "productlijn", "linea_di_prodotto",
                     "varugrupp", "kategori", "varegruppe", "produktgruppe",
                     "productgroep", "categoria", "linea_de_producto", "familia",
                     "linea_prodotto", "linha_de_produto", "kategoria",
                     "grupa_produktow"),
    S.DISCOUNT: ("rebate", "rabatt", "nachlass", "remise", "reduction", "rabais", "rabat",
                 "korting", "descuento", "sconto", "desconto", "znizka"),
    S.CONTACTED_AT: ("contact_date", "date", "timestamp", "time", "datetime",
                     "kontaktdatum", "datum", "zeitpunkt", "zeit", "date_contact",
                     "date_du_contact", "tidpunkt", "kontaktdato", "dato", "tidspunkt",
                     "contactdatum", "tijdstip", "fecha_contacto", "fecha_de_contacto",
                     "fecha", "data_contatto",
                     "data", "data_contato", "data_contacto", "data_kontaktu"),
    S.CHANNEL: ("medium", "kanal", "contact_type", "kontaktart", "canal", "kanaal",
                "canale"),
    S.DIRECTION: ("richtung", "in_out", "inbound_outbound", "sens", "riktning",
                  "retning", "richting", "direccion", "sentido", "direzione", "direcao",
                  "kierunek"),
    S.CAMPAIGN: ("campaign_name", "kampagne", "aktion", "campagne", "kampanj",
                 "kampagne", "campana", "campagna", "campanha", "kampania"),
    S.CONTACT_COST: ("cost", "kosten", "cout", "kostnad", "omkostning", "kostnad",
                     "coste", "costo", "custo", "koszt"),
    S.REFERRER_ID: ("referrer", "recommender", "referred_by", "werber", "empfehler",
                    "empfohlen_von", "parrain", "rekommenderad_av", "anbefalet_af",
                    "anbefalt_av", "doorverwezen_door", "aanbrenger", "recomendado_por",
                    "raccomandato_da", "indicado_por", "polecajacy"),
    S.REFERRED_ID: ("referred", "new_customer", "referred_customer", "geworbener",
                    "neukunde", "filleul", "nouveau_client", "ny_kund", "ny_kunde",
                    "nieuwe_klant", "cliente_nuevo", "nuevo_cliente", "nuovo_cliente",
                    "novo_cliente", "cliente_novo", "nowy_klient", "polecony"),
    S.REFERRED_AT: ("referral_date", "date", "datum", "empfehlungsdatum",
                    "date_de_parrainage", "date_parrainage", "rekommendationsdatum",
                    "anbefalingsdato", "verwijsdatum", "fecha_de_recomendacion",
                    "data_raccomandazione", "data_indicacao", "data_polecenia"),
    S.SURVEY: ("survey_name", "wave", "welle", "umfrage", "enquete", "sondage", "enkat",
               "undersokning", "undersogelse", "encuesta", "sondaggio", "questionario",
               "inquerito", "pesquisa", "ankieta"),
    S.ITEM: ("question", "frage", "question_id", "fraga", "sporsmal", "vraag", "pregunta",
             "domanda", "pergunta", "pytanie"),
    S.ANSWERED_AT: ("response_date", "answer_date", "answered_on", "date", "datum",
                    "antwortdatum", "date_de_reponse", "date_reponse", "svarsdatum",
                    "svardato", "antwoorddatum", "fecha_de_respuesta", "data_risposta",
                    "data_resposta", "data_odpowiedzi"),
    S.SCORE: ("answer", "rating", "value", "antwort", "bewertung", "wert", "punkte",
              "note", "reponse", "svar", "poang", "karakter", "antwoord", "cijfer",
              "respuesta", "puntuacion", "risposta", "punteggio", "voto", "resposta",
              "pontuacao", "odpowiedz", "ocena"),
    S.COMMENT: ("text", "remark", "verbatim", "kommentar", "bemerkung", "commentaire",
                "opmerking", "comentario", "commento", "komentarz"),
    S.RESPONSE_SECONDS: ("duration", "duration_seconds", "dauer"),
    S.OPENED_AT: ("created_at", "opened", "opened_on", "date", "eingang", "eroeffnet",
                  "eroeffnet_am", "ouverte_le", "ouvert_le", "date_d_ouverture", "oppnad",
                  "oppnat", "oprettet", "geopend", "abierta", "fecha_de_apertura",
                  "aperta", "data_apertura", "aberta", "data_abertura", "otwarta",
                  "data_otwarcia"),
    S.RESOLVED_AT: ("closed_at", "resolved", "closed", "closed_on", "erledigt",
                    "erledigt_am", "geschlossen", "resolue_le", "fermee_le",
                    "date_de_cloture", "lost", "stangd", "lukket", "loest", "opgelost",
                    "gesloten", "resuelta", "cerrada", "fecha_de_cierre", "risolta",
                    "chiusa", "resolvida", "fechada", "rozwiazana", "zamknieta"),
    S.CATEGORY: ("type", "reason", "kategorie", "grund", "categorie", "kategori",
                 "categoria", "motivo", "kategoria"),
    S.OUTCOME: ("result", "resolution", "ergebnis", "resultat", "issue", "utfall",
                "resultaat", "uitkomst", "resultado", "risultato", "esito", "wynik"),
    S.STARTED_AT: ("start", "start_date", "begin", "beginn", "vertragsbeginn"),
    S.ENDED_AT: ("end", "end_date", "cancelled_at", "ende", "vertragsende", "kuendigung"),
    S.PLAN: ("tariff", "product", "tarif"),
    S.ASSIGNED_FROM: ("from", "valid_from", "start", "gueltig_ab", "von"),
    S.ASSIGNED_TO: ("to", "valid_to", "end", "gueltig_bis", "bis"),
    S.END_REASON: ("reason", "grund", "end_reason"),
    S.VISITOR_ID: ("cookie_id", "visitor", "session_visitor", "besucher_id", "client_id"),
}
# A bare "id" or "number" is the key of the table it is in.
_KEY_SYNONYMS = ("id", "nr", "no", "number", "nummer", "numero", "numer")
_ID_TOKENS = frozenset(_KEY_SYNONYMS) | {"num", "n", "code", "kod", "codigo", "codice",
                                         "ref", "key"}
_SPELL = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "ł": "l", "œ": "oe", "đ": "d",
                        "þ": "th", "ð": "d", "ı": "i"})
_UMLAUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _fold_name(name: str, *, umlauts: bool = False) -> str:
    """A header folded for comparison: accents removed (NFKD), lower snake case.

    Examples
    --------
    >>> _fold_name("Date de création"), _fold_name("Numer klienta"), _fold_name("Straße")
    ('date_de_creation', 'numer_klienta', 'strasse')
    >>> _fold_name("Aufträge", umlauts=True)
    'auftraege'
    """
    from loyaltylab.data.validation import normalize_name
    s = str(name).replace("\ufeff", "").strip()
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
    if umlauts:
        s = s.translate(_UMLAUT)
    s = unicodedata.normalize("NFKD", s.translate(_SPELL))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return normalize_name(s)


def _id_stem(n: str) -> str | None:
    """The part of an identifier name before its id word (``order`` of ``order_id``),
    None when the name has no id word; ``""`` for a bare ``id``."""
    tokens = n.split("_")
    if not any(t in _ID_TOKENS for t in tokens):
        return None
    return "_".join(t for t in tokens if t not in _ID_TOKENS)


def _contains(name: str, option: str) -> bool:
    """Whether the words of ``option`` occur, in order and whole, in a longer ``name``
    (bare identifier words such as ``id`` never count: "Device ID" is not an id of
    this table)."""
    words, opt = name.split("_"), option.split("_")
    if len(words) <= len(opt) or len(option) < 3 or _id_stem(option) == "":
        return False
    return any(words[i:i + len(opt)] == opt for i in range(len(words) - len(opt) + 1))


def _similarity(client: str, options: tuple[str, ...]) -> float:
    """How well a client name matches a canonical name (``options[0]``, 1.0 when equal)
    or one of its synonyms (at most 0.95). Names that both name an identifier must agree
    on what it identifies: ``Device ID`` is not ``order_id``."""
    import difflib

    names = {_fold_name(client), _fold_name(client, umlauts=True)}
    best = 0.0
    for n in names:
        for o in options:
            if n == o:
                r = 1.0
            else:
                r = difflib.SequenceMatcher(None, n, o).ratio()
                if _contains(n, o):
                    r = max(r, 0.85)  # "Sales region" holds the word "region"
                stems = (_id_stem(n), _id_stem(o))
                if r < 1.0 and None not in stems and stems[0] and stems[1] \
                        and difflib.SequenceMatcher(None, *stems).ratio() < 0.75 \
                        and not (stems[0].startswith(stems[1])
                                 or stems[1].startswith(stems[0])):
                    r = 0.0  # different things identified
            if o != options[0]:
                r = min(r, 0.95)  # a synonym match is good, never "exact"
            best = max(best, r)
    return best


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
    >>> import pathlib, tempfile
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


_INBOUND = ("ein", "in", "rein", "entrant", "entrante", "inkommand", "indgaaende",
            "indgaende", "innkommende", "inkomend", "binnenkomend", "arrivo", "entrata",
            "przychodz", "recu", "recibid", "recebid", "ricevut")
_OUTBOUND = ("aus", "out", "raus", "sortant", "salient", "utgaende", "udgaaende",
             "udgaende", "uitgaand", "uscita", "uscent", "wychodz", "emis", "enviad")


def _direction_guess(value: str) -> str | None:
    """inbound/outbound for a client's direction word in one of the supported
    languages, None when unsure."""
    low = _fold_name(value)
    low = low.removeprefix("in_").replace("_", "")  # "in uscita", "in arrivo"
    for word in _OUTBOUND:  # "utgaende" before "in": no inbound word starts with "ut"
        if low.startswith(word):
            return "outbound"
    for word in _INBOUND:
        if low.startswith(word):
            return "inbound"
    return None


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
