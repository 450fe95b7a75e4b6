"""The warehouse summaries on local Spark (pyspark through Ibis) equal the polars reference:
rfm with a calibration split, churn durations, cohorts, the ladder stage and counts, the
per-period counts, and the pseudonyms (Spark's sha2). One SparkSession for the module
(local[1], one shuffle partition, no UI); marked slow: starting the JVM and Spark's
per-query overhead dominate its run time."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import polars as pl
import pytest

ibis = pytest.importorskip(
    "ibis", reason="Ibis is not installed: pip install 'loyaltylab[warehouse]'")
pytest.importorskip("pyspark", reason="pyspark is not installed: pip install "
                                      "'loyaltylab[spark]' (part of .[dev])")

from test_warehouse_ladder import _edge_data as _ladder_edges  # noqa: E402
from test_warehouse_parity import _edge_data, assert_frames_match  # noqa: E402

from loyaltylab.churn import churn_table  # noqa: E402
from loyaltylab.clv import rfm_summary as rfm_reference  # noqa: E402
from loyaltylab.data.crmdata import CRMData  # noqa: E402
from loyaltylab.data.privacy import hash_series  # noqa: E402
from loyaltylab.datasets import make_crm  # noqa: E402
from loyaltylab.metrics import cohort_retention as cohort_reference  # noqa: E402
from loyaltylab.warehouse import (CHURN_BASE_COLUMNS, churn_base, cohort_retention,  # noqa: E402
                                  ladder_counts, ladder_stages, period_counts, rfm_summary)

pytestmark = pytest.mark.slow


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    if _java() is None:
        pytest.skip("no Java runtime: install Debian's default-jre-headless (.ci/run does) "
                    "or set JAVA_HOME to run the Spark parity test")
    from pyspark.sql import SparkSession
    session = (SparkSession.builder.master("local[1]").appName("loyaltylab-tests")
               .config("spark.sql.shuffle.partitions", "1")
               .config("spark.default.parallelism", "1")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
               .config("spark.sql.adaptive.enabled", "false")
               .config("spark.sql.catalogImplementation", "in-memory")
               .config("spark.sql.warehouse.dir",
                       str(tmp_path_factory.mktemp("spark-warehouse")))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield ibis.pyspark.connect(session)
    finally:
        session.stop()


@pytest.fixture(scope="module")
def data() -> CRMData:
    sim = make_crm(60, years=2, seed=3)
    edge = _ladder_edges()
    frames = {name: pl.concat([getattr(sim, name).select(f.columns), f])
              for name, f in edge.items()}
    more = _edge_data().orders.with_columns(pl.lit("A").alias("product_line"))
    frames["orders"] = pl.concat([frames["orders"], more.select(frames["orders"].columns)])
    return CRMData(**frames)


@pytest.fixture(scope="module")
def tables(spark, data):
    return {t: spark.create_table(f"spark_{t}", getattr(data, t), overwrite=True)
            for t in ("customers", "orders", "contacts", "referrals")}


def test_summaries_on_spark_equal_polars(tables, data):
    orders, customers = tables["orders"], tables["customers"]
    opts = {"calibration_end": "2024-09-30", "observation_end": "2025-01-01"}
    assert_frames_match(rfm_summary(orders, keep_ids=True, **opts),
                        rfm_reference(data.orders, **opts))
    ref = churn_table(data.replace(contacts=None, referrals=None), as_of="2025-01-01",
                      orders_before_acquisition="report")
    base = churn_base(orders, customers, as_of="2025-01-01", keep_ids=True)
    assert_frames_match(base.frame, ref.select(CHURN_BASE_COLUMNS))
    assert base.n_orders_after_as_of == ref.report.n_orders_after_as_of
    got, want = (cohort_retention(orders, period="quarter"),
                 cohort_reference(data.orders, period="quarter"))
    assert got.drop("rate").equals(want.drop("rate"))
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(got["rate"], want["rate"]))


def test_churn_attributes_on_spark_equal_polars(spark, tables, data):
    """The customers' attributes joined inside Spark come back as churn_table has them."""
    customers = data.customers.with_columns(
        pl.col("customer_id").str.slice(0, 2).alias("segment"))
    spark_customers = spark.create_table("spark_customers_segment", customers,
                                         overwrite=True)
    got = churn_base(tables["orders"], spark_customers, as_of="2025-01-01", keep_ids=True,
                     attributes=["segment"]).frame
    ref = churn_table(data.replace(customers=customers, contacts=None, referrals=None),
                      as_of="2025-01-01", orders_before_acquisition="report")
    assert_frames_match(got, ref.select(*CHURN_BASE_COLUMNS, "segment"))
    assert got.get_column("segment").n_unique() > 1


def test_ladder_and_periods_on_spark_equal_polars(tables, data):
    want = ladder_stages(data, as_of="2025-01-01")
    got_stages = ladder_stages(tables, as_of="2025-01-01", keep_ids=True)
    assert got_stages.rows() == want.rows()
    # the counts query is the same query grouped by rung (run on the other backends);
    # here they are counted from the rows, which saves Spark a second pass
    counts = got_stages.group_by("stage_rank").len()
    ref_counts = ladder_counts(data, as_of="2025-01-01")
    assert [dict(counts.rows()).get(k, 0) for k in range(ref_counts.height)] == \
        ref_counts["persons"].to_list()
    got = period_counts(tables["orders"], period="quarter", as_of="2025-01-01")
    ref = period_counts(data, period="quarter", as_of="2025-01-01")
    assert got.drop("revenue").equals(ref.drop("revenue"))
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(got["revenue"], ref["revenue"]))


def test_pseudonyms_on_spark(tables, data):
    got = rfm_summary(tables["orders"], observation_end="2025-01-01", salt="s3cret")
    want = rfm_reference(data.orders, observation_end="2025-01-01")
    want = want.with_columns(hash_series(want["customer_id"], "s3cret")).sort("customer_id")
    assert_frames_match(got, want)
