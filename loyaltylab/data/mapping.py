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
    delimiter = ";"            # CSV field separator (sniffed when absent)
    encoding = "latin-1"       # "utf-8" (BOM or not), "latin-1", "cp1252", "utf-16", ...
    decimal = ","              # decimal separator of numbers: "." or ","
    thousands = "."            # thousands separator to strip
    date_format = "%d.%m.%Y"   # strftime format(s); a list tries each; "excel" = serials
    dayfirst = true            # ambiguous 03/04/2026 is 3 April (the default)
    timezone = "Europe/Berlin" # zone of timestamps written without an offset -> UTC

    [tables.orders]
    source = "Bestellungen.csv"    # file name (or list / glob pattern) in a folder, sheet
                                   # of a workbook, or table of a database; default: the
                                   # canonical table name

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
after normalising case and spaces, is matched automatically).
'''

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loyaltylab.data import schema as S
from loyaltylab.data._parse import ColumnFormat
from loyaltylab.exceptions import MappingError

__all__ = ["Mapping", "TableMapping", "read_mapping", "FORMAT_KEYS"]

FORMAT_KEYS = ("date_format", "dayfirst", "timezone", "decimal", "thousands")
_READ_KEYS = ("delimiter", "encoding", "quote")
_TABLE_KEYS = ("source", "columns", "formats", "values", "skip", "sheet") + FORMAT_KEYS \
    + _READ_KEYS


@dataclass
class TableMapping:
    """The mapping of one canonical table."""

    source: list[str] | None = None
    columns: dict[str, str] = field(default_factory=dict)
    formats: dict[str, ColumnFormat] = field(default_factory=dict)
    table_format: ColumnFormat = field(default_factory=ColumnFormat)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    delimiter: str | None = None
    encoding: str | None = None
    quote: str | None = '"'
    skip: bool = False


@dataclass
class Mapping:
    """A parsed mapping: defaults plus one :class:`TableMapping` per mapped table."""

    tables: dict[str, TableMapping] = field(default_factory=dict)
    defaults: ColumnFormat = field(default_factory=ColumnFormat)
    delimiter: str | None = None
    encoding: str | None = None
    origin: str = "mapping"

    def table(self, name: str) -> TableMapping:
        """The mapping of table ``name`` (an empty one when not mapped)."""
        return self.tables.get(name, TableMapping())


def _suggest(word: str, options) -> str:
    from loyaltylab.data.validation import closest
    guess = closest(word, list(options), cutoff=0.4)
    return f" Did you mean {guess!r}?" if guess else ""


def _format(d: dict, where: str, origin: str) -> ColumnFormat:
    for k in d:
        if k not in FORMAT_KEYS:
            raise MappingError(f"{origin}: unknown setting {k!r} in {where}; settings are "
                               f"{list(FORMAT_KEYS)}.{_suggest(k, FORMAT_KEYS)}")
    fmt = ColumnFormat(**{k: d[k] for k in FORMAT_KEYS if k in d})
    if fmt.decimal is not None and fmt.decimal not in (".", ","):
        raise MappingError(f"{origin}: {where} decimal must be \".\" or \",\", got "
                           f"{fmt.decimal!r}")
    if fmt.dayfirst is not None and not isinstance(fmt.dayfirst, bool):
        raise MappingError(f"{origin}: {where} dayfirst must be true or false, got "
                           f"{fmt.dayfirst!r}")
    if fmt.date_format is not None and not isinstance(fmt.date_format, (str, list)):
        raise MappingError(f"{origin}: {where} date_format must be a string or a list of "
                           f"strings, got {fmt.date_format!r}")
    if fmt.timezone is not None:
        try:
            from zoneinfo import ZoneInfo
            ZoneInfo(fmt.timezone)
        except Exception:  # noqa: BLE001
            raise MappingError(f"{origin}: {where} timezone {fmt.timezone!r} is not an "
                               f"IANA time zone such as 'Europe/Berlin' or 'UTC'.") from None
    return fmt


def read_mapping(mapping: str | Path | dict | Mapping | None) -> Mapping:
    """Parse a mapping file path or dict into a :class:`Mapping` (None gives an empty one).

    Raises
    ------
    MappingError
        The file is missing or not valid TOML, or names an unknown table, column or
        setting (the message suggests the closest valid name).

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
    for k in data:
        if k not in ("defaults", "tables"):
            raise MappingError(f"{origin}: unknown section [{k}]; sections are [defaults] "
                               f"and [tables.<table>].{_suggest(k, ['defaults', 'tables'])}")
    defaults = dict(data.get("defaults", {}))
    out = Mapping(origin=origin, delimiter=defaults.pop("delimiter", None),
                  encoding=defaults.pop("encoding", None))
    defaults.pop("quote", None)
    out.defaults = _format(defaults, "[defaults]", origin)
    for name, t in dict(data.get("tables", {})).items():
        if name not in S.TABLES:
            raise MappingError(f"{origin}: unknown table {name!r} under [tables]; tables "
                               f"are {list(S.TABLES)}.{_suggest(name, S.TABLES)}")
        if not isinstance(t, dict):
            raise MappingError(f"{origin}: [tables.{name}] must be a table of settings")
        for k in t:
            if k not in _TABLE_KEYS:
                raise MappingError(f"{origin}: unknown setting {k!r} in [tables.{name}]; "
                                   f"settings are {list(_TABLE_KEYS)}."
                                   f"{_suggest(k, _TABLE_KEYS)}")
        spec = S.TABLES[name]
        tm = TableMapping()
        src = t.get("source", t.get("sheet"))
        if src is not None:
            tm.source = [src] if isinstance(src, str) else [str(s) for s in src]
        cols = dict(t.get("columns", {}))
        for canon, client in cols.items():
            if canon not in spec.names:
                raise MappingError(
                    f"{origin}: [tables.{name}.columns] names {canon!r}, which is not a "
                    f"canonical {name} column; columns are {spec.names} (write canonical = "
                    f"\"client column\").{_suggest(canon, spec.names)}")
            if not isinstance(client, str):
                raise MappingError(f"{origin}: [tables.{name}.columns] {canon} must be the "
                                   f"client column name as a string, got {client!r}")
        tm.columns = cols
        tm.table_format = _format({k: t[k] for k in FORMAT_KEYS if k in t},
                                  f"[tables.{name}]", origin)
        for col, f in dict(t.get("formats", {})).items():
            if col not in spec.names:
                raise MappingError(f"{origin}: [tables.{name}.formats.{col}]: {col!r} is not "
                                   f"a canonical {name} column.{_suggest(col, spec.names)}")
            tm.formats[col] = _format(dict(f), f"[tables.{name}.formats.{col}]", origin)
        for col, vm in dict(t.get("values", {})).items():
            if col not in spec.names:
                raise MappingError(f"{origin}: [tables.{name}.values.{col}]: {col!r} is not "
                                   f"a canonical {name} column.{_suggest(col, spec.names)}")
            tm.values[col] = {str(k): (None if v == "" else str(v)) for k, v in
                              dict(vm).items()}
        tm.delimiter = t.get("delimiter")
        tm.encoding = t.get("encoding")
        tm.quote = t.get("quote", '"')
        tm.skip = bool(t.get("skip", False))
        out.tables[name] = tm
    return out
