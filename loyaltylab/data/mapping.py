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
  row (``item``, ``score``); blank answers are excluded. ``id_columns = [...]`` names the
  columns each answer keeps (default: every column that is not a question), and
  ``item = "..."`` / ``score = "..."`` rename the two columns written;
- ``[tables.orders.lines] key = "Order"; amount = "once" | "sum"``: line items grouped
  into one order, its amount taken from the first line or summed;
- ``[[tables.<t>.where]]`` rules, each with a ``column``, an optional ``name`` and one test
  of ``in``, ``not_in`` (trimmed, case-insensitive), ``empty``, ``not_empty``, ``matches``,
  ``not_matches`` (a regular expression) or ``greater_than``: rows that fail are excluded
  and reported as "excluded by rule R: N rows, amount A";
- ``drop = ["Billing *"]``: columns removed (glob patterns);
- ``[tables.customers] acquired_at = {first_of = ["orders", "contacts"]}``: the earliest
  of the record's own date (if mapped) and its first order or contact; customers seen only
  there (guest checkouts) are added (``add_missing = false`` leaves them out, for a CRM
  whose accounts file is complete), records that cannot be dated are excluded.

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

import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.data import _rules
from loyaltylab.data._mapping_draft import draft_mapping
from loyaltylab.data._mapping_types import (CLIENT_COLUMN, DEFAULT_KEYS, FORMAT_KEYS, TABLE,
                                            TABLE_KEYS, VALUE_TARGET, ValueType, _describe,
                                            _FORMAT_TYPES, _suggest, check_keys, check_value,
                                            show)
from loyaltylab.data._parse import ColumnFormat
from loyaltylab.exceptions import MappingError

# private helpers that moved out, still importable from here (the loader and tests use them)
from loyaltylab.data._mapping_draft import _q as _q
from loyaltylab.data._mapping_names import (_TABLE_SYNONYMS as _TABLE_SYNONYMS,
                                            _direction_guess as _direction_guess,
                                            _fold_name as _fold_name,
                                            _similarity as _similarity)

__all__ = ["Mapping", "TableMapping", "read_mapping", "draft_mapping", "FORMAT_KEYS",
           "ValueType", "check_value", "check_keys", "DEFAULT_KEYS", "TABLE_KEYS",
           "fold_value", "show", "MERGED", "amount_note"]

MERGED = _rules.MERGED
"""The exclusion reason of an order's further line items, merged into the order."""
amount_note = _rules.amount_note


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


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
