"""Loading client exports into a validated :class:`~loyaltylab.data.crmdata.CRMData`.

Two doors, one validation path:

- :func:`load` reads a folder of CSV/Parquet/.xlsx files, an .xlsx workbook (one sheet per
  table) or a DuckDB/SQLite database, applies the mapping (client names, values and
  formats -> canonical model, see :mod:`loyaltylab.data.mapping`), then validates;
- :func:`from_frames` validates in-memory frames that already use canonical names (the
  simulator :func:`loyaltylab.datasets.make_crm` builds its data through it).

Validation (see :mod:`loyaltylab.data.validation`) keeps or rejects every row with a
reason; ``data.report`` accounts for all of them. Problems that make a table unusable
raise :class:`~loyaltylab.exceptions.SourceError`,
:class:`~loyaltylab.exceptions.SchemaError`,
:class:`~loyaltylab.exceptions.MissingTableError` or
:class:`~loyaltylab.exceptions.MappingError` with a message naming the file, the column and
the fix. Personal columns are dropped and identifiers can be pseudonymised (see
:mod:`loyaltylab.data.privacy`).
"""

from __future__ import annotations

import fnmatch
import re
import secrets
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from collections.abc import Callable

import polars as pl

from loyaltylab._util import as_polars, to_datetime
from loyaltylab.data import _rules
from loyaltylab.data import schema as S
from loyaltylab.data._io import (EXCEL_SUFFIXES, TEXT_SUFFIXES, RawTable, list_source,
                                 read_db_table, read_excel_sheet, read_file)
from loyaltylab.data._parse import ColumnFormat
from loyaltylab.data.crmdata import CRMData, LoadReport, TableReport
from loyaltylab.data.mapping import Mapping, fold_value, read_mapping, show
from loyaltylab.data.privacy import (hash_series, id_columns, pseudonymize_frames,
                                     screen_personal)
from loyaltylab.data.validation import (CUSTOMER_REFERENCES, ID_HASH_SEED, VALIDATION_ORDER,
                                        TableInput, closest, normalize_name, validate_table)
from loyaltylab.exceptions import MappingError, MissingTableError, SourceError

__all__ = ["load", "from_frames", "source_path"]


_FILE_URL = re.compile(r"(?i)^(duckdb|sqlite)://(.+)$")
_SERVER_URL = re.compile(r"(?i)^([a-z][a-z0-9+.-]*)://")


_POSTGRES_URL = re.compile(r"(?i)^(postgresql|postgres)(\+[a-z0-9]+)?://")


def is_server(source: Any) -> bool:
    """Whether ``source`` is the address of a PostgreSQL server (``postgresql://...``),
    whose report ``loyaltylab report`` computes inside the server.

    Examples
    --------
    >>> is_server("postgresql://analyst@db.example.com/shop"), is_server("exports/")
    (True, False)
    """
    return isinstance(source, str) and bool(_POSTGRES_URL.match(source.strip()))


def source_path(source: str | Path) -> str | Path:
    """A database URL as the file it names; any other source unchanged.

    ``duckdb://PATH`` and ``sqlite://PATH`` name a database file the way Ibis writes them:
    ``duckdb://shop.duckdb`` is relative to the working folder, ``duckdb:///data/shop.duckdb``
    absolute. A URL of a database server (``postgresql://...``) is refused with a
    SourceError that names the way to summarise it inside that server (``loyaltylab report``
    computes the report there).

    Examples
    --------
    >>> source_path("duckdb:///data/shop.duckdb")
    PosixPath('/data/shop.duckdb')
    >>> source_path("sqlite://exports/crm.sqlite")
    PosixPath('exports/crm.sqlite')
    >>> source_path("exports")
    'exports'
    """
    if not isinstance(source, str):
        return source
    m = _FILE_URL.match(source.strip())
    if m:
        return Path(m.group(2))
    m = _SERVER_URL.match(source.strip())
    if m:
        scheme = m.group(1).lower()
        server = ("`loyaltylab report postgresql://...` computes the report inside the "
                  "server. " if scheme.startswith("postgres") else "")
        raise SourceError(
            f"{scheme}://...: loyaltylab reads DuckDB and SQLite files (duckdb://PATH, "
            f"sqlite://PATH), folders and workbooks into memory, not a {scheme} server. "
            f"{server}In Python, connect with Ibis and pass its tables to "
            f"loyaltylab.warehouse (rfm_summary, churn_base, cohort_retention): the "
            f"summaries then run inside the server and only pseudonymised per-customer "
            f"rows come back")
    return source


def load(source: str | Path, *, mapping: str | Path | dict | None = None,
         as_of: datetime | str | None = None, allow_refunds: bool = False,
         pseudonymize: bool = False, salt: str | None = None,
         keep_personal: tuple[str, ...] | list[str] = (),
         tables: tuple[str, ...] | list[str] | None = None) -> CRMData:
    """Load a folder, workbook or database of CRM exports into a validated CRMData.

    Parameters
    ----------
    source : str or Path
        A folder of CSV (``.csv``, ``.txt``, ``.tsv``), Parquet or ``.xlsx`` files (the
        file stem names the table: ``orders.csv`` is the orders table), a single ``.xlsx``
        workbook with one sheet per table, or a DuckDB (``.duckdb``, ``.db``) or SQLite
        (``.sqlite``, ``.sqlite3``, ``.db``) database file with one table per table, also
        written as a URL (``duckdb:///data/shop.duckdb``, see :func:`source_path`).
    mapping : str, Path or dict, optional
        A TOML mapping file (or the same structure as a dict) mapping client file, sheet,
        column and value names and formats to the canonical model; see
        :mod:`loyaltylab.data.mapping`. ``loyaltylab init-mapping SOURCE`` drafts one.
    as_of : datetime or str, optional
        The extract date. Events dated after it are rejected; analyses default to it.
        When None, rows are checked against the current time and ``data.as_of`` stays
        None (analyses then use the latest order).
    allow_refunds : bool
        Keep orders with negative amounts (refunds); otherwise they are rejected.
    pseudonymize : bool
        Replace every identifier (customer, order, referrer, visitor, account-manager ids)
        with a salted hash, consistently across tables.
    salt : str, optional
        The secret salt for ``pseudonymize``; the same salt gives the same hashes on every
        load. A random salt is drawn when None.
    keep_personal : sequence of str
        Personal columns (names, e-mail, phone, address, ...) to keep; all others are
        dropped on load.
    tables : sequence of str, optional
        Load only these canonical tables (customers and orders are always loaded).

    Returns
    -------
    CRMData
        Canonical tables (None where absent) with ``report`` (rows read, kept and
        rejected per table, with reasons and the rejected rows).

    Raises
    ------
    SourceError
        The source cannot be read: missing or empty file, wrong format for its extension,
        wrong delimiter, undecodable encoding.
    MissingTableError
        customers or orders is not in the source.
    SchemaError
        A required column is missing (the closest existing name is suggested).
    MappingError
        The mapping is malformed or names columns the source does not have.

    Examples
    --------
    >>> import loyaltylab as ll, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "customers.csv").write_text(
    ...     "customer_id;acquired_at\\nC1;01.03.2025\\nC2;15.04.2025\\n")
    >>> _ = (d / "orders.csv").write_text(
    ...     "order_id;customer_id;ordered_at;amount\\n"
    ...     "O1;C1;02.03.2025;19,90\\nO2;C2;16.04.2025;5,50\\nO3;C9;17.04.2025;7,00\\n")
    >>> data = ll.load(d, as_of="2025-12-31")
    >>> data.orders["amount"].to_list()
    [19.9, 5.5]
    >>> data.report.tables["orders"].reasons
    {'customer_id: unknown customer': 1}
    """
    path = Path(source_path(source))
    m = read_mapping(mapping)
    kind, names = list_source(path)
    wanted = [t for t in S.TABLES if tables is None or t in tables or t in S.REQUIRED_TABLES]
    if tables is not None:
        for t in tables:
            if t not in S.TABLES:
                raise ValueError(f"tables: unknown table {t!r}; tables are {list(S.TABLES)}")
    claimed: set[str] = set()
    matches: dict[str, list[str]] = {}
    for table in wanted:
        tm = m.table(table)
        if tm.skip:
            continue
        matched = _match_source(table, tm.source, names, kind, path, m)
        if not matched:
            derivable = table == S.CUSTOMERS and _rules.customer_key_needs(tm.rules)
            if table in S.REQUIRED_TABLES and not derivable:
                raise _missing_table(table, path, kind, names, m)
            continue
        claimed.update(matched)
        matches[table] = matched
    report = LoadReport(source=str(path))
    unclaimed = [n for n in names if n not in claimed]
    if unclaimed:
        report.warnings.append(
            f"not loaded (not a canonical table name and not mapped): {unclaimed}")

    # Tables are read one at a time, just before they are validated, so that only one
    # table's raw text is held in memory at once.
    key_salt = salt if salt is not None else secrets.token_hex(16)  # e-mail/phone keys

    def reader(table: str) -> Callable[[], TableInput]:
        return lambda: _map_table(table, _read_matched(path, kind, matches[table], table, m),
                                  m, keep_personal, salt=key_salt)

    inputs = {table: reader(table) for table in matches}
    inputs = _rules.wire_customers(inputs, m.table(S.CUSTOMERS).rules, source=path.name)
    return _build(inputs, report, as_of=as_of, allow_refunds=allow_refunds,
                  pseudonymize=pseudonymize, salt=salt, truth=None)


def from_frames(tables: dict[str, Any], *, as_of: datetime | str | None = None,
                allow_refunds: bool = False, pseudonymize: bool = False,
                salt: str | None = None, keep_personal: tuple[str, ...] | list[str] = (),
                source: str = "frames", truth: dict[str, Any] | None = None) -> CRMData:
    """Validate in-memory frames with canonical names into a CRMData.

    The same validation as :func:`load`: text columns are parsed (dates and numbers with
    sniffed formats), typed columns are converted (time-zone-aware timestamps to naive
    UTC, numeric ids to text), and every row is kept or rejected with a reason.

    Parameters
    ----------
    tables : dict[str, pl.DataFrame]
        Canonical table name -> frame (polars or pandas) with canonical column names
        (case and spacing are forgiven: ``"Customer ID"`` matches ``customer_id``).
        ``customers`` and ``orders`` are required.
    as_of, allow_refunds, pseudonymize, salt, keep_personal
        As in :func:`load`.
    source : str
        What to call the data in the report.
    truth : dict, optional
        Planted effects of simulated data, stored as ``data.truth``.

    Returns
    -------
    CRMData

    Examples
    --------
    >>> import polars as pl, loyaltylab as ll
    >>> customers = pl.DataFrame({"customer_id": ["a", "b"],
    ...                           "acquired_at": ["2025-01-05", "2025-02-01"]})
    >>> orders = pl.DataFrame({"order_id": ["1", "2", "2", "3"],
    ...                        "customer_id": ["a", "b", "b", "a"],
    ...                        "ordered_at": ["2025-01-05", "2025-02-03", "2025-02-04",
    ...                                       "2025-02-30"],
    ...                        "amount": [10.0, 8.0, 8.0, -4.0]})
    >>> data = ll.from_frames({"customers": customers, "orders": orders},
    ...                       as_of="2025-12-31")
    >>> data.report.tables["orders"].reasons
    {'ordered_at: unparseable date': 1, 'order_id: duplicate': 1}
    >>> data.orders.select("order_id", "ordered_at")
    shape: (2, 2)
    ┌──────────┬─────────────────────┐
    │ order_id ┆ ordered_at          │
    │ ---      ┆ ---                 │
    │ str      ┆ datetime[μs]        │
    ╞══════════╪═════════════════════╡
    │ 1        ┆ 2025-01-05 00:00:00 │
    │ 2        ┆ 2025-02-03 00:00:00 │
    └──────────┴─────────────────────┘
    """
    if not isinstance(tables, dict):
        raise TypeError(f"tables: expected a dict of table name -> frame, got "
                        f"{type(tables).__name__}")
    for name in tables:
        if name not in S.TABLES:
            guess = closest(name, list(S.TABLES))
            raise MappingError(f"{source}: unknown table {name!r}; tables are "
                               f"{list(S.TABLES)}" + (f". Did you mean {guess!r}?"
                                                      if guess else ""))
    for name in S.REQUIRED_TABLES:
        if tables.get(name) is None:
            raise MissingTableError(f"{source}: the {name!r} table is required but was not "
                                    f"given; pass it as tables[{name!r}].")
    inputs = {}
    for name, frame in tables.items():
        if frame is None:
            continue
        df = as_polars(frame, name=name)
        raw = RawTable(name=name, frame=df, source=f"{source}[{name!r}]")
        inputs[name] = _map_table(name, raw, Mapping(), keep_personal)
    report = LoadReport(source=source)
    return _build(inputs, report, as_of=as_of, allow_refunds=allow_refunds,
                  pseudonymize=pseudonymize, salt=salt, truth=truth)


# ----------------------------------------------------------------------------- internals

def _build(inputs: dict[str, TableInput | Callable[[], TableInput]], report: LoadReport, *,
           as_of, allow_refunds, pseudonymize, salt, truth) -> CRMData:
    """Validate the mapped tables (customers first) and assemble the CRMData.

    ``inputs`` holds each table, or a function that reads it: such tables are read only
    when their turn comes and their raw text is released once validated (and
    pseudonymised), which keeps a load's peak memory near that of its largest table.
    """
    as_of_dt = to_datetime(as_of) if as_of is not None else None
    check_against = as_of_dt or datetime.now(UTC).replace(tzinfo=None)
    if as_of_dt is None:
        report.warnings.append(f"as_of not given: rows dated after the load time "
                               f"({check_against:%Y-%m-%d %H:%M} UTC) were rejected; pass "
                               f"as_of= the extract date")
    salt_used = (salt if salt is not None else secrets.token_hex(16)) if pseudonymize else None
    frames: dict[str, pl.DataFrame | None] = {}
    customer_ids = None
    pseudonyms = None
    for name in VALIDATION_ORDER:
        if name not in inputs:
            continue
        inp = inputs[name]
        owned = callable(inp)  # read here: nobody else holds its raw frame
        inp = inp() if owned else inp
        kept, tr = validate_table(inp, as_of=check_against, allow_refunds=allow_refunds,
                                  customer_ids=customer_ids, release=owned)
        _rules.account(tr, inp.excluded)  # read = kept + rejected + excluded by rules
        del inp
        if name == S.CUSTOMERS:
            customer_ids = kept.get_column(S.CUSTOMER_ID)
        if salt_used is not None:
            kept, pseudonyms = _pseudonymize_table(name, kept, salt_used, pseudonyms)
            _pseudonymize_rejects(tr, name, salt_used)
        frames[name] = kept
        report.tables[name] = tr
    if salt_used is not None:
        report.warnings.append("identifiers pseudonymised with a salted hash"
                               + ("" if salt is not None else
                                  " (random salt: pass salt= to get the same hashes on "
                                  "every load)"))
    return CRMData(**{n: frames.get(n) for n in S.TABLES}, report=report, as_of=as_of_dt,
                   truth=truth)


def _pseudonymize_table(name: str, kept: pl.DataFrame, salt: str,
                        pseudonyms: pl.DataFrame | None
                        ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Pseudonymise one validated table; returns it and the customers' pseudonym lookup.

    Customer ids are hashed once, in the customers table, and kept as a lookup keyed by
    the 64-bit id hash that validation matched them on; the customer references of later
    tables (all known customers, or they would have been rejected) take their pseudonym
    from it with an integer join instead of hashing millions of repeated ids. Other ids
    are hashed directly. Should two customer ids share a 64-bit hash, no lookup is kept
    and every id is hashed directly.
    """
    refs = [c for c in CUSTOMER_REFERENCES.get(name, ()) if c in kept.columns]
    others = [c for c in id_columns(name) if c in kept.columns and c not in refs]
    if name == S.CUSTOMERS:
        raw = kept.get_column(S.CUSTOMER_ID)
        hashed = hash_series(raw, salt)
        kept = kept.with_columns(hashed.alias(S.CUSTOMER_ID))
        others = [c for c in others if c != S.CUSTOMER_ID]
        keys = raw.hash(ID_HASH_SEED)
        if _distinct(keys):
            pseudonyms = pl.DataFrame({"__k": keys, "__p": hashed})
    for c in others:
        kept = kept.with_columns(hash_series(kept.get_column(c), salt).alias(c))
    for c in refs:
        col = kept.get_column(c)
        if pseudonyms is None:
            kept = kept.with_columns(hash_series(col, salt).alias(c))
            continue
        mapped = (col.hash(ID_HASH_SEED).to_frame("__k")
                  .join(pseudonyms, on="__k", how="left", maintain_order="left")
                  .get_column("__p"))
        miss = (mapped.is_null() & col.is_not_null()).arg_true()
        if miss.len():  # not a known customer (cannot happen after validation): hash it
            mapped = mapped.scatter(miss, hash_series(col.gather(miss), salt))
        kept = kept.with_columns(mapped.alias(c))
    return kept, pseudonyms


def _distinct(keys: pl.Series) -> bool:
    """Whether the 64-bit id hashes are all different (no collision among customer ids)."""
    return keys.n_unique() == keys.len()


def _pseudonymize_rejects(tr: TableReport, name: str, salt: str) -> None:
    if tr.rejects is None:
        return
    f = tr.rejects
    f = f.with_columns([pl.col(c).str.strip_chars() for c in id_columns(name)
                        if c in f.columns])
    hashed, _ = pseudonymize_frames({name: f}, salt=salt)
    tr.rejects = hashed[name]


def _missing_table(table: str, path: Path, kind: str, names: list[str],
                   m: Mapping) -> Exception:
    what = {"folder": "file", "workbook": "sheet", "sqlite": "table", "duckdb": "table",
            "file": "file"}.get(kind, "table")
    tm = m.table(table)
    if tm.source:
        guess = closest(tm.source[0], names)
        return MissingTableError(
            f"{path.name}: the mapping says the {table} table is in {tm.source}, but there "
            f"is no such {what}; found {names[:15]}."
            + (f" Did you mean {guess!r}?" if guess else ""))
    from loyaltylab.data.mapping import _TABLE_SYNONYMS, _q, _similarity
    stems = [Path(n).stem if kind == "folder" else n for n in names]
    # files already named like another canonical table are not candidates
    free = [st for st in stems if normalize_name(st) not in S.TABLES]
    scored = sorted((_similarity(st, (table,) + _TABLE_SYNONYMS[table]), st) for st in free)
    guess = scored[-1][1] if scored and scored[-1][0] >= 0.6 else None
    hint = (f" Did you mean {guess!r}? Rename it to {table}, or map it: "
            f"[tables.{table}] source = {_q(names[stems.index(guess)])}" if guess else
            f" Add a {what} named {table!r}, or map the {what} that holds it: "
            f"[tables.{table}] source = \"<{what} name>\"")
    return MissingTableError(
        f"{path.name}: the required {table} table is missing: no {what} named {table!r} "
        f"among {names[:15]}.{hint}.")


def _match_source(table: str, wanted: list[str] | None, names: list[str], kind: str,
                  path: Path, m: Mapping) -> list[str]:
    """Names in the source that hold ``table``."""
    from loyaltylab.data.mapping import _q
    if wanted:
        out = []
        for w in wanted:
            hits = [n for n in names if n == w or fnmatch.fnmatch(n, w)]
            if not hits:  # forgive case, spaces and a missing extension
                hits = [n for n in names if normalize_name(n) == normalize_name(w)
                        or normalize_name(Path(n).stem) == normalize_name(w)]
            out.extend(h for h in hits if h not in out)
        return out
    if kind == "folder":
        hits = [n for n in names if normalize_name(Path(n).stem) == table]
    else:
        hits = [n for n in names if normalize_name(n) == table]
    if len(hits) > 1:
        raise SourceError(f"{path.name}: several sources could be the {table} table: {hits}; "
                          f"choose one in the mapping file: [tables.{table}] source = "
                          f"{_q(hits[0])}")
    return hits


def _read_matched(path: Path, kind: str, matched: list[str], table: str,
                  m: Mapping) -> RawTable:
    tm = m.table(table)
    opts = m.read_options(table)
    header_row = opts.pop("header_row")
    if header_row is not None and tm.header_row is not None and kind in ("sqlite",
                                                                         "duckdb"):
        raise MappingError(f"{m.origin}: [tables.{table}] header_row = {header_row}, but "
                           f"the {table} table comes from a database table, which has no "
                           f"header row; remove the header_row line.")
    at_row = {} if header_row is None else {"header_row": header_row}
    if tm.sheet and kind != "folder":
        raise MappingError(f"{m.origin}: [tables.{table}] has both source and sheet; in a "
                           f"workbook or database, source names the sheet or table: keep "
                           f"one of them.")
    parts = []
    for name in matched:
        if kind in ("folder", "file"):
            file = path / name if kind == "folder" else path
            if tm.sheet:
                if file.suffix.lower() not in EXCEL_SUFFIXES:
                    raise MappingError(f"{m.origin}: [tables.{table}] sheet = "
                                       f"{tm.sheet}, but {show(name)} is not an Excel "
                                       f"workbook; remove the sheet line.")
                parts.extend(read_file(file, sheet=sheet, **at_row) for sheet in tm.sheet)
                continue
            if file.suffix.lower() in TEXT_SUFFIXES:
                parts.append(read_file(file, **opts, **at_row))
            elif file.suffix.lower() in EXCEL_SUFFIXES:
                parts.append(read_file(file, **at_row))
            else:
                if tm.header_row is not None:
                    raise MappingError(
                        f"{m.origin}: [tables.{table}] header_row = {tm.header_row}, but "
                        f"{show(name)} is a Parquet file, which has no header row; "
                        f"remove the header_row line.")
                parts.append(read_file(file))
        elif kind == "workbook":
            parts.append(read_excel_sheet(path, name, **at_row))
        else:
            parts.append(read_db_table(path, kind, name))
    if len(parts) == 1:
        return parts[0]
    try:
        frame = pl.concat([p.frame for p in parts], how="diagonal_relaxed")
    except pl.exceptions.PolarsError:
        frame = pl.concat([p.frame.select(pl.all().cast(pl.String)) for p in parts],
                          how="diagonal")
    return RawTable(name=table, frame=frame, source=" + ".join(p.source for p in parts),
                    hint_comma=any(p.hint_comma for p in parts),
                    notes=[n for p in parts for n in p.notes])


def _map_table(table: str, raw: RawTable, m: Mapping,
               keep_personal: tuple[str, ...] | list[str], *,
               salt: str | None = None) -> TableInput:
    """Rename client columns to canonical ones, apply value maps, drop personal columns.

    A client column mapped to several canonical columns is renamed to the first and
    copied to the others. Value maps are matched the way the data is (blanks stripped,
    case folded): they are expanded here to the exact values present in the column, so
    validation replaces values by exact match; values the map does not cover are counted
    in a warning.
    """
    spec = S.TABLES[table]
    tm = m.table(table)
    frame = raw.frame
    if frame.width == 0:
        raise SourceError(f"{raw.source}: no columns; re-export the {table} table with a "
                          f"header row.")
    ruled = _rules.apply(frame, tm.rules, table=table, source=raw.source, origin=m.origin,
                         fmt=m.defaults.merged(tm.table_format), hint_comma=raw.hint_comma,
                         amount_column=tm.columns.get(S.AMOUNT, S.AMOUNT), salt=salt)
    frame = ruled.frame
    cols = list(frame.columns)
    feeds: dict[str, list[str]] = {}  # client column -> the canonical columns it feeds
    original: dict[str, str] = {}
    for canon, client in tm.columns.items():
        if client not in cols:
            hit = [c for c in cols if normalize_name(c) == normalize_name(client)]
            if len(hit) > 1:
                raise MappingError(
                    f"{m.origin}: [tables.{table}.columns] {canon} = {show(client)}, but "
                    f"{raw.source} has several columns of that name once case and spaces "
                    f"are ignored: {', '.join(show(c) for c in hit)}; write the exact one.")
            if not hit:
                guess = closest(client, cols)
                raise MappingError(
                    f"{m.origin}: [tables.{table}.columns] {canon} = {show(client)}, but "
                    f"{raw.source} has no column {show(client)}; its columns are "
                    f"{cols[:15]}." + (f" Did you mean {show(guess)}?" if guess else ""))
            client = hit[0]
        feeds.setdefault(client, []).append(canon)
        original[canon] = client
    rename = {client: canons[0] for client, canons in feeds.items()}
    copies = [(canons[0], c) for canons in feeds.values() for c in canons[1:]]
    mapped_canon = set(original)
    shadowed_ids: list[str] = []
    for c in cols:
        if c in rename:
            continue
        n = normalize_name(c)
        if n in spec.names and n not in mapped_canon:
            rename[c] = n
            original[n] = c
            mapped_canon.add(n)
        elif n in spec.names and spec.column(n).is_id:
            # an identifier shadowed by the mapped one would keep raw ids beside the
            # pseudonymised ones: it is not loaded
            shadowed_ids.append(c)
        elif n in spec.names or c in spec.names:
            rename[c] = f"{c}_client"  # a client column shadowed by a mapped one
    if shadowed_ids:
        frame = frame.drop(shadowed_ids)
    frame = frame.rename(rename)
    if copies:
        frame = frame.with_columns([pl.col(src).alias(dst) for src, dst in copies])
    notes = list(raw.notes) + ruled.notes
    for c in shadowed_ids:
        n = normalize_name(c)
        notes.append(f"column {show(c)} not loaded: {n} is mapped to "
                     f"{show(original[n])}, and a second identifier column would keep "
                     f"the client's raw ids")
    frame, privacy_notes = screen_personal(frame, table, keep=tuple(keep_personal),
                                           original=original)
    notes.extend(privacy_notes)
    values: dict[str, dict[str, str | None]] = {}
    for canon, vmap in tm.values.items():
        if canon not in frame.columns:
            notes.append(f"{table}.{canon}: the mapping has a value map for it, but the "
                         f"table has no {canon} column; map one under "
                         f"[tables.{table}.columns]")
            continue
        values[canon], note = _expand_value_map(table, canon, frame.get_column(canon),
                                                vmap)
        if note:
            notes.append(note)
    formats: dict[str, ColumnFormat] = {"*": m.defaults.merged(tm.table_format)}
    formats.update(tm.formats)
    return TableInput(name=table, frame=frame, source=raw.source, formats=formats,
                      hint_comma=raw.hint_comma, original_names=original, warnings=notes,
                      values=values, excluded=ruled.excluded,
                      row_numbers=ruled.row_numbers)


_VALUES_SHOWN = 5


def _expand_value_map(table: str, canon: str, column: pl.Series,
                      vmap: dict[str, str | None]
                      ) -> tuple[dict[str, str | None], str | None]:
    """The value map keyed by the exact values of ``column`` that it covers, and a
    warning listing (with row counts) the values it does not cover.

    Keys and values are compared by :func:`~loyaltylab.data.mapping.fold_value`
    (stripped, NFC, case-folded). The work is done on the column's distinct values (one
    pass over the column), so the validated load still replaces by exact match.
    """
    from loyaltylab.data.validation import NULL_TOKENS, _DIRECTION_SYNONYMS, _to_text
    dtype = column.dtype
    counts = column.rename("v").value_counts(name="n")
    if dtype != pl.String:
        try:
            counts = counts.with_columns(
                _to_text("v", dtype, counts.get_column("v")).alias("v"))
        except TypeError:  # nested values: validation says what is wrong
            return {}, None
    counts = counts.group_by("v").agg(pl.col("n").sum()).drop_nulls("v")
    folded = {fold_value(k): v for k, v in vmap.items()}
    known = {fold_value(v) for v in vmap.values() if v is not None}
    if canon == S.DIRECTION:
        known |= set(S.DIRECTIONS) | set(_DIRECTION_SYNONYMS)
    from loyaltylab.data import privacy
    skip = {fold_value(t) for t in NULL_TOKENS} | {""}
    if hasattr(privacy, "PLACEHOLDER"):  # a masked personal value is not a category
        skip.add(fold_value(privacy.PLACEHOLDER))
    out: dict[str, str | None] = {}
    missed: list[tuple[int, str]] = []
    for value, n in counts.iter_rows():
        f = fold_value(value)
        if f in folded:
            out[value] = folded[f]
            out[value.strip()] = folded[f]
        elif f not in known and f not in skip:
            missed.append((n, value.strip()))
    if not missed:
        return out, None
    missed.sort(key=lambda t: (-t[0], t[1]))
    shown = ", ".join(f"{_show_value(v)} ({n:,})" for n, v in missed[:_VALUES_SHOWN])
    more = f", and {len(missed) - _VALUES_SHOWN:,} more" if len(missed) > _VALUES_SHOWN \
        else ""
    one = len(missed) == 1
    fate = (f"rows with {'it' if one else 'them'} are rejected" if canon == S.DIRECTION
            else f"{'it is' if one else 'they are'} kept as read")
    word = "value" if one else "values"
    return out, (f"{table}.{canon}: {len(missed):,} {word} not in the value map: {shown}"
                 f"{more}; {fate}; add {'it' if one else 'them'} under "
                 f"[tables.{table}.values.{canon}]")


def _show_value(value: str) -> str:
    """A client value for a message: escaped, and masked when it looks personal."""
    if _PERSONAL_VALUE.search(value):
        return "<a personal value, not shown>"
    return show(value, limit=40)


_PERSONAL_VALUE = re.compile(r"[^@\s]+@[^@\s]+\.\w+|(?:\d[\s./-]?){7,}|"
                             r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,}")


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
