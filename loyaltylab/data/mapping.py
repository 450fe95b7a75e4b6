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
import polars as pl

from loyaltylab.data import schema as S
from loyaltylab.data._parse import ColumnFormat
from loyaltylab.exceptions import MappingError

__all__ = ["Mapping", "TableMapping", "read_mapping", "draft_mapping", "FORMAT_KEYS"]

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


# ------------------------------------------------------------------ drafting a mapping

_TABLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    S.CUSTOMERS: ("customer", "clients", "client", "accounts", "kunden", "kunde",
                  "stammdaten", "members"),
    S.ORDERS: ("order", "sales", "transactions", "purchases", "invoices", "bestellungen",
               "auftraege", "umsaetze", "verkaeufe"),
    S.CONTACTS: ("contact", "interactions", "activities", "touchpoints", "kontakte",
                 "aktivitaeten"),
    S.REFERRALS: ("referral", "recommendations", "empfehlungen"),
    S.SURVEYS: ("survey", "responses", "answers", "nps", "umfragen", "befragung"),
    S.COMPLAINTS: ("complaint", "tickets", "beschwerden", "reklamationen"),
    S.SUBSCRIPTIONS: ("subscription", "contracts", "vertraege", "abos", "abonnements"),
    S.ASSIGNMENTS: ("assignment", "account_managers", "betreuung", "betreuer"),
    S.WEB_SESSIONS: ("sessions", "visits", "web", "besuche", "web_session"),
}
_COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    S.CUSTOMER_ID: ("cust_id", "client_id", "customer_no", "customer_number", "kundennr",
                    "kunden_nr", "kunden_id", "kundennummer", "kdnr", "account_id"),
    S.ACQUIRED_AT: ("created_at", "created", "signup_date", "registered", "first_seen",
                    "since", "customer_since", "anlagedatum", "kunde_seit", "erstellt"),
    S.KIND: ("type", "customer_type", "kundenart", "art", "typ"),
    S.SEGMENT: ("segment", "tier", "class", "kundensegment"),
    S.ACQUISITION_CHANNEL: ("channel", "source", "acquisition", "herkunft", "quelle"),
    S.REGION: ("region", "country", "area", "gebiet", "land"),
    S.ACCOUNT_MANAGER: ("manager", "owner", "sales_rep", "betreuer", "berater"),
    S.ACQUISITION_COST: ("cac", "acquisition_costs", "akquisekosten"),
    S.REWARD_SCHEME: ("loyalty_scheme", "reward", "bonusprogramm", "programm"),
    S.ORDER_ID: ("order_no", "order_number", "invoice_id", "invoice_no", "bestellnr",
                 "bestellnummer", "auftragsnr", "belegnr", "transaction_id"),
    S.ORDERED_AT: ("order_date", "date", "purchase_date", "bestelldatum", "datum",
                   "auftragsdatum", "belegdatum", "transaction_date"),
    S.AMOUNT: ("value", "total", "revenue", "sales", "net_amount", "betrag", "umsatz",
               "wert", "summe", "amount_eur", "betrag_eur"),
    S.PRODUCT_LINE: ("product", "category", "product_group", "sparte", "warengruppe",
                     "produktlinie"),
    S.DISCOUNT: ("rebate", "rabatt", "nachlass"),
    S.CONTACTED_AT: ("contact_date", "date", "timestamp", "time", "datetime", "kontaktdatum",
                     "datum", "zeitpunkt", "zeit"),
    S.CHANNEL: ("medium", "kanal", "contact_type", "kontaktart"),
    S.DIRECTION: ("richtung", "in_out", "inbound_outbound"),
    S.CAMPAIGN: ("campaign_name", "kampagne", "aktion"),
    S.CONTACT_COST: ("cost", "kosten"),
    S.REFERRER_ID: ("referrer", "recommender", "werber", "empfehler"),
    S.REFERRED_ID: ("referred", "new_customer", "geworbener"),
    S.REFERRED_AT: ("referral_date", "date", "datum"),
    S.SURVEY: ("survey_name", "wave", "welle", "umfrage"),
    S.ITEM: ("question", "frage", "question_id"),
    S.ANSWERED_AT: ("response_date", "date", "antwortdatum", "datum"),
    S.SCORE: ("answer", "rating", "value", "antwort", "bewertung", "wert"),
    S.COMMENT: ("text", "remark", "verbatim", "kommentar", "bemerkung"),
    S.RESPONSE_SECONDS: ("duration", "duration_seconds", "dauer"),
    S.OPENED_AT: ("created_at", "opened", "date", "eingang", "eroeffnet"),
    S.RESOLVED_AT: ("closed_at", "resolved", "closed", "erledigt", "geschlossen"),
    S.CATEGORY: ("type", "reason", "kategorie", "grund"),
    S.OUTCOME: ("result", "resolution", "ergebnis"),
    S.STARTED_AT: ("start", "start_date", "begin", "beginn", "vertragsbeginn"),
    S.ENDED_AT: ("end", "end_date", "cancelled_at", "ende", "vertragsende", "kuendigung"),
    S.PLAN: ("tariff", "product", "tarif"),
    S.ASSIGNED_FROM: ("from", "valid_from", "start", "gueltig_ab", "von"),
    S.ASSIGNED_TO: ("to", "valid_to", "end", "gueltig_bis", "bis"),
    S.END_REASON: ("reason", "grund", "end_reason"),
    S.VISITOR_ID: ("cookie_id", "visitor", "session_visitor", "besucher_id", "client_id"),
}


def _similarity(client: str, options: tuple[str, ...]) -> float:
    import difflib

    from loyaltylab.data.validation import normalize_name
    n = normalize_name(client)
    best = 0.0
    for o in options:
        r = 1.0 if n == o else difflib.SequenceMatcher(None, n, o).ratio()
        if o != options[0]:
            r = min(r, 0.95)  # a synonym match is good, never "exact"
        best = max(best, r)
    return best


def _q(s: str) -> str:
    import json
    return json.dumps(s, ensure_ascii=False)


def draft_mapping(source: str | Path, *, sample_rows: int = 5000) -> str:
    """A first draft of a TOML mapping file for ``source``, for the user to correct.

    Files (sheets, database tables) are matched to canonical tables and their columns to
    canonical columns by name similarity (``difflib``, with common English and German
    synonyms); the delimiter, encoding, decimal separator and date format are sniffed from
    the first ``sample_rows`` rows. Every guess that is not an exact name match is marked
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
    from loyaltylab.data.privacy import is_personal
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
    # match source names to tables (greedy by similarity)
    pairs = []
    for name in names:
        stem = Path(name).stem if kind in ("folder", "file") else name
        for table in S.TABLES:
            pairs.append((_similarity(stem, (table,) + _TABLE_SYNONYMS[table]), table, name))
    pairs.sort(reverse=True)
    table_of: dict[str, tuple[str, float]] = {}
    used_tables: set[str] = set()
    for score, table, name in pairs:
        if score < 0.6 or name in table_of or table in used_tables:
            continue
        table_of[name] = (table, score)
        used_tables.add(table)

    lines = [
        f"# loyaltylab mapping for {path.name}: a DRAFT written by `loyaltylab init-mapping`.",
        "# Lines marked CHECK are guesses: correct them, then run",
        f"#   loyaltylab validate {path} --mapping <this file>",
        "# Format: [tables.<canonical table>] source = client file/sheet/table;",
        "# [tables.<table>.columns] canonical_column = \"Client column\";",
        "# [tables.<table>.values.<column>] \"client value\" = \"canonical value\";",
        "# formats: delimiter, encoding, decimal, thousands, date_format, dayfirst, timezone.",
        "",
        "[defaults]",
        "# timezone = \"Europe/Berlin\"   # zone of timestamps written without an offset",
        "",
    ]
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
            lines.append(f"# could not read it: {str(raw).splitlines()[0]}")
            lines.append("")
            continue
        for note in raw.notes:
            if note.startswith("read as "):
                lines.append(f"encoding = {_q(note[8:].split(' ')[0])}")
        if raw.notes and any("delimited" in n for n in raw.notes):
            sep = {"semicolon": ";", "tab": "\t", "pipe": "|", "comma": ","}
            word = next(n for n in raw.notes if "delimited" in n).split("-")[0]
            lines.append(f"delimiter = {_q(sep.get(word, ','))}")
        frame = raw.frame
        cols = list(frame.columns)
        cand = []
        for c in cols:
            for col in spec.names:
                cand.append((_similarity(c, (col,) + _COLUMN_SYNONYMS.get(col, ())), col, c))
        cand.sort(reverse=True)
        col_of: dict[str, tuple[str, float]] = {}
        used: set[str] = set()
        for score, col, c in cand:
            if score < 0.6 or col in col_of or c in used:
                continue
            col_of[col] = (c, score)
            used.add(c)
        decimal = None
        date_fmt: dict[str, str] = {}
        for col, (c, _) in col_of.items():
            dtype = spec.column(col).dtype
            if frame.schema[c] != pl.String:
                continue
            sample = sample_values(frame.get_column(c), n=300)
            if dtype == pl.Float64 and decimal is None and sample.len():
                dec, _th = sniff_decimal(sample, hint_comma=raw.hint_comma)
                if dec == ",":
                    decimal = ","
            elif isinstance(dtype, pl.Datetime) and sample.len():
                fmts, _notes = sniff_date_formats(sample)
                if len(fmts) == 1 and not fmts[0][0].startswith("%Y-%m-%d"):
                    date_fmt[col] = fmts[0][0]
        if decimal:
            lines.append('decimal = ","')
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
                lines.append(f"{col} = {_q(c)}{note}")
            else:
                lines.append(f"# {col} = \"<client column>\"  # {req}: "
                             f"{spec.column(col).description}")
        extra = [c for c in cols if c not in used]
        if extra:
            personal = [c for c in extra if is_personal(c)]
            kept = [c for c in extra if c not in personal]
            if kept:
                lines.append(f"# not mapped, kept as extra columns: {kept}")
            if personal:
                lines.append(f"# personal data, dropped on load: {personal}")
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
                    low = v.lower()
                    guess = ("inbound" if low.startswith(("ein", "in", "rein")) else
                             "outbound" if low.startswith(("aus", "out", "raus")) else
                             None)
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
