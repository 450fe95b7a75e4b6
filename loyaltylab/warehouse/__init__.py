"""Per-customer summaries inside the client's database engine, through Ibis.

The heavy part of several analyses is a per-customer aggregation over every order; the
models, charts and report then need one row per customer. The functions here take either
polars data (then today's polars code runs: it is the reference) or an ``ibis.Table`` in
a database engine (DuckDB, Postgres, Snowflake, BigQuery, Trino, Databricks, ...): then
one query runs inside that engine and only the per-customer rows come back, with the
customer ids replaced there by the same salted pseudonyms ``loyaltylab.load`` gives.

- :func:`rfm_summary`: frequency, recency, T and monetary value (with a calibration and
  holdout split), the input of the CLV models.
- :func:`churn_base`: durations and events of the inactivity churn rule, with the count of
  everything left out.
- :func:`cohort_retention`: cohort retention (only counts leave the engine).
- :func:`ladder_stages`, :func:`ladder_counts`: each customer's highest loyalty-ladder
  rung, and the people per rung (the funnel's rules compiled to one query).
- :func:`period_counts`: the scorecard's counts per calendar period (buyers, new, repeat,
  lost, orders, revenue).
- :func:`to_sql`: the SQL of a summary in a warehouse's dialect.
- :func:`connect_duckdb`, :func:`table_names`, :func:`memory_size`,
  :func:`parquet_tables`: open a DuckDB file, or a folder of Parquet files, with a memory
  limit, and list its tables (what ``loyaltylab report --in-engine`` uses).

Ibis is an optional extra (``pip install 'loyaltylab[warehouse]'``); it is imported only
when an engine is used, never by ``import loyaltylab``. Each engine result equals the
polars reference: ``tests/test_warehouse_parity.py``, ``test_warehouse_ladder.py`` and
``test_warehouse_periods.py`` on DuckDB, SQLite, Ibis' Polars backend and PostgreSQL, and
``test_warehouse_spark.py`` (marked slow) on local Spark; for Snowflake, BigQuery, Trino
and Databricks the compiled SQL is kept as snapshots. SQLite has no SHA-256, so there ids
cannot be pseudonymised in the engine: loyaltylab refuses with a message rather than bring
raw ids out.
"""

from loyaltylab.warehouse._connect import (connect_duckdb, memory_size, parquet_tables,
                                          table_names)
from loyaltylab.warehouse._ladder import ladder_counts, ladder_stages, measurable_ladder
from loyaltylab.warehouse._periods import PERIOD_COUNT_COLUMNS, period_counts
from loyaltylab.warehouse._summaries import (CHURN_BASE_COLUMNS, ChurnBase, churn_base,
                                             cohort_retention, rfm_summary, to_sql)

__all__ = ["rfm_summary", "churn_base", "cohort_retention", "ladder_stages",
           "ladder_counts", "measurable_ladder", "period_counts", "to_sql", "ChurnBase",
           "CHURN_BASE_COLUMNS", "PERIOD_COUNT_COLUMNS", "connect_duckdb", "memory_size",
           "table_names", "parquet_tables"]


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
