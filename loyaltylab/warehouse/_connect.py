"""Opening a DuckDB database file through Ibis, with a memory limit (see
:func:`connect_duckdb`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from loyaltylab.exceptions import SourceError
from loyaltylab.warehouse._engine import ibis_module

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)
_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def memory_size(value: str) -> str:
    """A memory size as DuckDB's ``memory_limit`` takes it ("8GB", "512MiB"), checked.

    Parameters
    ----------
    value : str
        A number and a unit: KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB
        (powers of 1024), in any case, with or without a space.

    Returns
    -------
    str
        The size written as DuckDB reads it.

    Raises
    ------
    ValueError
        Not a number followed by KB, MB, GB, TB, KiB, MiB, GiB or TiB.

    Examples
    --------
    >>> memory_size(" 8 gb ")
    '8GB'
    """
    m = _SIZE.match(str(value))
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"memory limit {value!r}: expected a size such as 8GB, 512MB or "
                         f"16GiB")
    unit = m.group(2)
    unit = unit[0].upper() + unit[1:-1].lower() + "B" if len(unit) == 3 else unit.upper()
    return f"{m.group(1)}{unit}"


def parquet_tables(folder: str | Path) -> dict[str, list[Path]]:
    """The tables of a folder of Parquet files: ``orders.parquet`` is the table ``orders``,
    and so is a folder ``orders/`` of Parquet parts (as Spark and DuckDB write them).

    Parameters
    ----------
    folder : str or Path
        The folder; files and folders without Parquet files in it are not tables.

    Returns
    -------
    dict
        Table name -> its Parquet files, sorted (empty when the folder holds none).

    Examples
    --------
    >>> import polars as pl, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pl.DataFrame({"n": [1]}).write_parquet(folder / "customers.parquet")
    >>> (folder / "orders").mkdir()
    >>> pl.DataFrame({"n": [2]}).write_parquet(folder / "orders" / "part-0.parquet")
    >>> sorted(parquet_tables(folder))
    ['customers', 'orders']
    """
    folder = Path(folder)
    out: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and entry.suffix.lower() == ".parquet":
            out.setdefault(entry.stem, []).append(entry)
        elif entry.is_dir():
            parts = sorted(p for p in entry.glob("*.parquet") if p.is_file())
            if parts:
                out.setdefault(entry.name, []).extend(parts)
    return out


def connect_duckdb(path: str | Path, *, memory_limit: str | None = None,
                   read_only: bool = True) -> Any:
    """Open a DuckDB database file, or a folder of Parquet files, through Ibis, for the
    summaries of this package.

    Parameters
    ----------
    path : str or Path
        The ``.duckdb`` file (it must exist and be a DuckDB database), or a folder of
        Parquet files (``orders.parquet``, or a folder ``orders/`` of Parquet parts, is the
        table ``orders``): each becomes a view in an in-memory
        DuckDB that reads the files where they are, so files larger than memory are
        summarised without being loaded.
    memory_limit : str, optional
        DuckDB's ``memory_limit`` ("8GB", "512MiB"): above it DuckDB spills what it can to
        a temporary folder, and a query that cannot spill stops with an out-of-memory
        error instead of taking the machine's memory. Default: DuckDB's own (80 % of RAM).
    read_only : bool, default True
        Open without the right to change the database (the client's data stay as they
        are; several readers may share the file).

    Returns
    -------
    ibis.backends.duckdb.Backend
        The connection; ``con.table(name)`` gives a table to pass to
        :func:`rfm_summary`, :func:`churn_base` and the other summaries.

    Raises
    ------
    SourceError
        The file is missing or not a DuckDB database; the folder holds no Parquet file,
        or a file in it is not Parquet.
    ValueError
        ``memory_limit`` is not a size.
    ImportError
        Ibis is not installed (``pip install 'loyaltylab[warehouse]'``).

    Examples
    --------
    >>> import duckdb, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "shop.duckdb"
    >>> duckdb.connect(str(path)).execute("CREATE TABLE orders AS SELECT 1 AS n").close()
    >>> con = connect_duckdb(path, memory_limit="1GB")
    >>> int(con.table("orders").count().to_pyarrow().as_py())
    1
    """
    path = Path(path)
    config = {} if memory_limit is None else {"memory_limit": memory_size(memory_limit)}
    if path.is_dir():
        return _connect_parquet(path, config)
    if not path.is_file():
        raise SourceError(f"{path.name}: no such file; the report computed inside a "
                          f"database needs a DuckDB database file (duckdb:///path/to/"
                          f"file.duckdb), a folder of Parquet files or a postgresql:// "
                          f"server")
    with path.open("rb") as fh:
        head = fh.read(16)
    if head[8:12] != _MAGIC:
        raise SourceError(f"{path.name}: not a DuckDB database file; the report computed "
                          f"inside a database needs one (duckdb:///path/to/file.duckdb). "
                          f"Run the report without --in-engine to read folders, workbooks "
                          f"and SQLite files in memory")
    return ibis_module().duckdb.connect(str(path), read_only=read_only, **config)


def _connect_parquet(folder: Path, config: dict[str, str]) -> Any:
    """An in-memory DuckDB with one view per Parquet table of ``folder``."""
    tables = parquet_tables(folder)
    if not tables:
        raise SourceError(f"{folder.name}: a folder without Parquet files; the report "
                          f"computed inside a database needs a DuckDB database file, a "
                          f"folder of Parquet files or a postgresql:// server. Run the "
                          f"report without --in-engine to read folders of CSV or Excel "
                          f"files in memory")
    con = ibis_module().duckdb.connect(**config)
    for name, files in tables.items():
        try:
            con.read_parquet([str(f) for f in files], table_name=name)
        except Exception as exc:  # noqa: BLE001 - DuckDB's IO and format errors vary
            shown = files[0].relative_to(folder) if len(files) == 1 else f"{name}/"
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise SourceError(f"{folder.name}/{shown}: not readable as Parquet "
                              f"({type(exc).__name__}: {detail})") from None
    return con


def table_names(con: Any) -> list[str]:
    """The names of the tables and views of a DuckDB connection's main schema, sorted.

    Read from ``information_schema`` (Ibis 12's ``list_tables`` calls a DuckDB method
    that DuckDB 2 no longer has).

    Parameters
    ----------
    con : ibis.backends.duckdb.Backend
        A connection from :func:`connect_duckdb` or ``ibis.duckdb.connect``.

    Returns
    -------
    list of str
        The table and view names.

    Examples
    --------
    >>> import ibis
    >>> con = ibis.duckdb.connect()
    >>> _ = con.raw_sql("CREATE TABLE orders AS SELECT 1 AS n")
    >>> table_names(con)
    ['orders']
    """
    rows = con.raw_sql("SELECT table_name FROM information_schema.tables WHERE "
                       "table_schema = 'main' ORDER BY table_name").fetchall()
    return [r[0] for r in rows]
