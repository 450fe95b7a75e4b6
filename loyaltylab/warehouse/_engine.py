"""Plumbing for summaries inside a database engine through Ibis (not public API).

Ibis is imported inside the functions here, never at module import, so ``import
loyaltylab`` does not need (or load) it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loyaltylab._units import SECONDS_PER_DAY, US_PER_DAY
from loyaltylab.data.privacy import PSEUDONYM_SEPARATOR as _SEP

_INSTALL = "pip install 'loyaltylab[warehouse]'"

# How each engine writes the lower-case hex SHA-256 of a text value. Engines not listed
# have no such function that Ibis can call (SQLite, Ibis' own Polars backend).
_SHA256_HEX = ("duckdb", "postgres", "snowflake", "bigquery", "trino", "databricks",
               "pyspark")
"""Engines whose salted hash is written here: run against DuckDB and PostgreSQL in the
tests, compiled (SQL snapshots) for the others."""


def ibis_module() -> Any:
    """The ``ibis`` module, or an ImportError that says how to install it."""
    try:
        import ibis
    except ImportError:
        raise ImportError(f"loyaltylab.warehouse needs Ibis, which is not installed; "
                          f"install it with {_INSTALL}") from None
    return ibis


def is_ibis_table(obj: Any) -> bool:
    """True when ``obj`` is an ``ibis.Table`` (checked without importing Ibis)."""
    return type(obj).__module__.startswith("ibis.expr.types") and \
        type(obj).__name__ == "Table"


def backend_name(table: Any) -> str | None:
    """The Ibis backend ("duckdb", "sqlite", "polars", ...) a table lives in, or None for
    an unbound table (one built from a schema to compile SQL)."""
    ibis = ibis_module()
    try:
        return ibis.get_backend(table).name
    except ibis.common.exceptions.IbisError:
        return None


def require_columns(table: Any, columns: list[str], *, name: str = "orders") -> None:
    """Raise ValueError naming the missing canonical columns."""
    have = list(table.columns)
    missing = [c for c in columns if c not in have]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; found {have}. Rename the "
                         f"engine's columns to the canonical names (loyaltylab.data.schema), "
                         f"e.g. table.rename({{'customer_id': 'CustNo'}})")


def timestamp(table: Any, column: str, *, name: str = "orders") -> Any:
    """The column as an Ibis timestamp; dates become midnight, anything else is refused."""
    col = table[column]
    dtype = col.type()
    if dtype.is_timestamp():
        return col
    if dtype.is_date():
        return col.cast("timestamp")
    raise TypeError(f"{name}.{column}: expected dates or timestamps in the engine, got "
                    f"{dtype}; convert the column in the database (CAST(... AS TIMESTAMP))")


def day_number(ts: Any) -> Any:
    """Days since 1970-01-01 of the calendar day of ``ts`` (an int64 expression)."""
    ibis = ibis_module()
    return ts.date().delta(ibis.date(1970, 1, 1), unit="day").cast("int64")


def period_day(ts: Any, purchase_period: str) -> Any:
    """Day number of the start of the purchase period holding ``ts`` (weeks start on
    Monday), as ``loyaltylab.clv._rfm._period_day`` computes it in polars."""
    if purchase_period == "D":
        return day_number(ts)
    unit = {"W": "W", "M": "M", "Y": "Y"}[purchase_period]
    return day_number(ts.truncate(unit))


def epoch_us(ts: Any, backend: str | None, dialect: str | None = None) -> Any:
    """Microseconds since 1970-01-01 00:00 of ``ts`` (int64), from its day, hour, minute,
    second and fraction: the one form every backend computes alike. SQLite keeps time only
    to the millisecond, so there the fraction is read in milliseconds; Spark (Databricks)
    cannot extract microseconds but has ``unix_micros``, and DuckDB has ``epoch_us``."""
    if (backend or dialect) in ("pyspark", "databricks"):
        return _builtin("unix_micros", ("timestamp",), "int64")(ts)
    if (backend or dialect) == "duckdb":  # one native call (churn_base CPU 16 s -> 12 s, 5M orders)
        return _builtin("epoch_us", ("timestamp",), "int64")(ts)
    secs = (ts.hour().cast("int64") * 3600 + ts.minute().cast("int64") * 60
            + ts.second().cast("int64"))
    if backend == "sqlite":
        frac = ts.millisecond().cast("int64") * 1000
    else:
        frac = ts.microsecond().cast("int64")
    return day_number(ts) * US_PER_DAY + secs * 1_000_000 + frac


def to_us(value: datetime) -> int:
    """Microseconds since 1970-01-01 of a naive datetime."""
    delta = value - datetime(1970, 1, 1)
    return (delta.days * SECONDS_PER_DAY + delta.seconds) * 1_000_000 + delta.microseconds


def pseudonym(ids: Any, salt: str, backend: str | None, *, dialect: str | None = None,
              name: str = "customer_id") -> Any:
    """Ibis expression for the pseudonym of each id: the first 16 hex digits of
    ``sha256(salt + "\\x1f" + id)``, exactly as :func:`loyaltylab.data.privacy.hash_id`
    computes it, but inside the engine.

    Raises
    ------
    ValueError
        The engine has no SHA-256 function Ibis can call (SQLite, Ibis' Polars backend):
        loyaltylab refuses rather than bring the raw ids out.
    """
    ibis = ibis_module()
    engine = backend or dialect
    if engine not in _SHA256_HEX:
        raise ValueError(
            f"{name}: the {engine} engine has no SHA-256 function that loyaltylab can call, "
            f"so customer ids cannot be pseudonymised inside it, and loyaltylab will not "
            f"bring the raw ids out to hash them. Copy the tables into DuckDB (for a SQLite "
            f"file: ibis.duckdb.connect() and read it there), or pass keep_ids=True if the "
            f"raw ids may leave the database")
    text = ibis.literal(salt + _SEP, type="string") + ids.cast("string")
    if engine in ("duckdb", "pyspark", "databricks"):
        # Ibis compiles HexDigest for these: DuckDB sha256(x), Spark sha2(x, 256)
        digest = text.hexdigest("sha256")
    elif engine == "postgres":
        digest = _builtin("encode", ("binary", "string"), "string")(
            _builtin("sha256", ("binary",), "binary")(
                _builtin("convert_to", ("string", "string"), "binary")(text, "UTF8")), "hex")
    elif engine == "snowflake":
        digest = _builtin("sha2", ("string", "int32"), "string")(text, 256)
    elif engine == "bigquery":
        digest = _builtin("to_hex", ("binary",), "string")(
            _builtin("sha256", ("string",), "binary")(text))
    else:  # trino
        digest = _builtin("to_hex", ("binary",), "string")(
            _builtin("sha256", ("binary",), "binary")(
                _builtin("to_utf8", ("string",), "binary")(text))).lower()
    return digest.substr(0, 16)


def _builtin(name: str, args: tuple[str, ...], result: str) -> Any:
    """An engine's own SQL function, called by name from Ibis."""
    ibis = ibis_module()

    # Ibis reads the arity from the function; its body is never run (the engine computes
    # the value)
    if len(args) == 1:
        def fn(a: Any) -> Any:
            raise NotImplementedError(name)
    else:
        def fn(a: Any, b: Any) -> Any:
            raise NotImplementedError(name)

    fn.__name__ = name
    return ibis.udf.scalar.builtin(name=name, signature=(args, result))(fn)


def ids_out(ids: Any, *, salt: str | None, keep_ids: bool, backend: str | None,
            dialect: str | None = None, what: str = "orders") -> Any:
    """The id column as it may leave the engine: pseudonymised with ``salt``, or as it is
    when the caller said ``keep_ids=True``; with neither, a ValueError."""
    if salt is not None:
        if not isinstance(salt, str) or not salt:
            raise ValueError(f"salt: expected a non-empty text, got {salt!r}")
        return pseudonym(ids, salt, backend, dialect=dialect)
    if keep_ids:
        return ids.cast("string")
    raise ValueError(f"{what} is a table in a database ({backend or dialect}): pass "
                     f"salt=... so customer ids leave the engine only as pseudonyms (the "
                     f"salt given to loyaltylab.load gives the same pseudonyms), or "
                     f"keep_ids=True if the client's ids may leave it")
