"""Reading DuckDB and SQLite database files (not public API): the tables a database
holds and one table as a raw table. Re-exported by :mod:`loyaltylab.data._io`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl

from loyaltylab._util import safe_text
from loyaltylab.data._io_base import RawTable, _first_line, _magic, _nm, _wrong_format, sniff_kind
from loyaltylab.exceptions import SourceError


def db_tables(path: Path) -> tuple[str, list[str]]:
    """(kind, table names) of a DuckDB or SQLite database file."""
    kind = sniff_kind(path)
    if kind == "sqlite":
        con = _sqlite(path)
        try:
            names = [r[0] for r in con.execute(
                "select name from sqlite_master where type in ('table', 'view') "
                "and name not like 'sqlite_%' order by name")]
        except sqlite3.Error as exc:
            raise _sqlite_error(path, None, exc) from None
        finally:
            con.close()
        return kind, names
    if kind == "duckdb":
        con = _duckdb(path)
        try:
            names = [r[0] for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' order by table_name").fetchall()]
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"{_nm(path)}: cannot list the tables of the DuckDB database "
                              f"({_first_line(exc)}); it may be damaged: export it "
                              f"again.") from None
        finally:
            con.close()
        return kind, names
    if kind == "empty":
        raise SourceError(f"{_nm(path)}: the database file is empty.")
    raise _wrong_format(path, "a DuckDB or SQLite database", kind)


def _sqlite_uri(path: Path) -> str:
    """A read-only ``file:`` URI for ``path``; ``#``, ``%`` and ``?`` in the name are
    percent-encoded (``file:{path}?mode=ro`` would open another, empty database)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def _sqlite_error(path: Path, table: str | None, exc: Exception) -> SourceError:
    where = _nm(path) if table is None else f"{_nm(path)}, table {safe_text(table)!r}"
    text = safe_text(exc, 120)
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return SourceError(f"{where}: the SQLite database is damaged ({text}); it may be a "
                           f"partial copy or download: copy or export it again.")
    return SourceError(f"{where}: cannot read it ({text}).")


def _sqlite(path: Path) -> sqlite3.Connection:
    head = _magic(path)[:100]
    if len(head) == 100:
        page = int.from_bytes(head[16:18], "big")
        page = 65536 if page == 1 else page
        pages = int.from_bytes(head[28:32], "big")
        if head[24:28] == head[92:96] and pages and page * pages > path.stat().st_size:
            raise SourceError(f"{_nm(path)}: the SQLite database is truncated (it should hold "
                              f"{page * pages:,} bytes, the file has "
                              f"{path.stat().st_size:,}); it is a partial copy or download: "
                              f"copy it again.")
    try:
        return sqlite3.connect(_sqlite_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise SourceError(f"{_nm(path)}: cannot open the SQLite database "
                          f"({safe_text(exc, 120)}).") from None


def _duckdb(path: Path):
    import duckdb
    try:
        return duckdb.connect(str(path), read_only=True)
    except Exception as exc:  # noqa: BLE001
        raise SourceError(f"{_nm(path)}: cannot open the DuckDB database "
                          f"({_first_line(exc)}); it may be damaged or a partial copy: "
                          f"export it again.") from None


def read_db_table(path: Path, kind: str, table: str, *, name: str | None = None) -> RawTable:
    """Read one table of a SQLite or DuckDB database (types kept where uniform)."""
    where = f"{_nm(path)}, table {safe_text(table)!r}"
    quoted = '"' + table.replace('"', '""') + '"'
    if kind == "duckdb":
        con = _duckdb(path)
        try:
            frame = con.sql(f"select * from {quoted}").pl()
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"{where}: cannot read it ({_first_line(exc)}).") from None
        finally:
            con.close()
        return RawTable(name=name or table, frame=frame, source=where)
    con = _sqlite(path)
    try:
        cur = con.execute(f"select * from {quoted}")
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    except sqlite3.Error as exc:
        raise _sqlite_error(path, table, exc) from None
    finally:
        con.close()
    data = {}
    for i, c in enumerate(cols):
        values = [r[i] for r in rows]
        try:
            s = pl.Series(c, values, strict=True)
            if s.dtype == pl.Null:
                s = s.cast(pl.String)
        except Exception:  # noqa: BLE001 - mixed SQLite storage classes: read as text
            s = pl.Series(c, [None if v is None else str(v) for v in values],
                          dtype=pl.String)
        if s.dtype == pl.Binary:
            s = pl.Series(c, [None if v is None else v.decode("utf-8", "replace")
                              for v in values], dtype=pl.String)
        data[c] = s
    return RawTable(name=name or table, frame=pl.DataFrame(data), source=where)
