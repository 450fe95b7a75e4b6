"""loyaltylab.clv against the published values in shared/REFERENCES.md and the lifetimes
summaries of the CDNOW sample."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.clv import (BetaGeo, BetaGeoBetaBinom, GammaGamma, ParetoNBD, ShiftedBetaGeo,
                            holdout_dates, rfm_summary)
from loyaltylab.data import schema as S
from loyaltylab.data.crmdata import CRMData

DATA = Path(__file__).resolve().parents[1] / "data"

# Fader & Hardie (2007), customers active at the start of years 0..12, of 1,000
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


def _sample_orders() -> pl.DataFrame:
    """CDNOW_sample.txt with customer_id = the id in the sample (as in the summaries)."""
    raw = pl.read_csv(DATA / "cdnow" / "CDNOW_sample.txt", has_header=False,
                      separator="\t", new_columns=["line"])
    # fields: customer in master file, id in sample, date, cds, dollars
    fields = raw.select(pl.col("line").str.extract_all(r"\S+").alias("f"))
    return fields.select(
        pl.col("f").list.get(1).cast(pl.Int64).cast(pl.String).alias(S.CUSTOMER_ID),
        pl.col("f").list.get(2).str.strptime(pl.Datetime("us"), "%Y%m%d").alias(S.ORDERED_AT),
        pl.col("f").list.get(4).cast(pl.Float64).alias(S.AMOUNT),
    )


@pytest.fixture(scope="module")
def orders() -> pl.DataFrame:
    return _sample_orders()


@pytest.fixture(scope="module")
def summary() -> pl.DataFrame:
    return pl.read_csv(DATA / "cdnow" / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def summary_tx() -> pl.DataFrame:
    s = pl.read_csv(DATA / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    return s.select(pl.col("ID").cast(pl.String).alias(S.CUSTOMER_ID), frequency="x",
                    recency="t_x", T="T", monetary_value="zbar")


@pytest.fixture(scope="module")
def bgnbd(summary: pl.DataFrame) -> BetaGeo:
    return BetaGeo().fit(summary)


# ------------------------------------------------------------------ rfm_summary
def test_rfm_summary_matches_lifetimes_cdnow_summary(orders, summary):
    """Frequency exactly; recency and T within 0.005 weeks (the CSV rounds to 2 decimals)."""
    ours = rfm_summary(orders, time_unit="W", observation_end="1997-09-30")
    ref = summary.with_columns(pl.col("ID").cast(pl.String).alias(S.CUSTOMER_ID))
    j = ours.join(ref, on=S.CUSTOMER_ID, suffix="_ref", how="full", coalesce=True)
    assert ours.height == 2357 and j.height == 2357
    assert (j["frequency"] == j["frequency_ref"]).all()
    assert (j["recency"] - j["recency_ref"]).abs().max() <= 0.005 + 1e-9
    assert (j["T"] - j["T_ref"]).abs().max() <= 0.005 + 1e-9
    assert int(ours["frequency"].sum()) == int(summary["frequency"].sum())


def test_rfm_summary_monetary_matches_zbar(orders, summary_tx):
    ours = rfm_summary(orders, observation_end="1997-09-30")
    j = ours.join(summary_tx, on=S.CUSTOMER_ID, suffix="_ref")
    assert (j["monetary_value"] - j["monetary_value_ref"]).abs().max() <= 0.005 + 1e-9


def test_rfm_summary_calibration_holdout(orders, summary):
    h = rfm_summary(orders, observation_end="1998-06-30", calibration_end="1997-09-30")
    ref = summary.with_columns(pl.col("ID").cast(pl.String).alias(S.CUSTOMER_ID))
    j = h.join(ref, on=S.CUSTOMER_ID, suffix="_ref")
    assert j.height == 2357 and (j["frequency"] == j["frequency_ref"]).all()
    assert h["duration_holdout"].unique().to_list() == [39.0]  # 273 days = 39 weeks
    # holdout purchases counted by hand: distinct days after 1997-09-30 per customer
    by_hand = (orders.filter(pl.col(S.ORDERED_AT) > datetime(1997, 9, 30))
               .select(S.CUSTOMER_ID, S.ORDERED_AT).unique().height)
    assert int(h["frequency_holdout"].sum()) == by_hand


def test_rfm_summary_on_load_cdnow_same_distribution(summary):
    cd = ll.datasets.load_cdnow(sample=True)
    ours = rfm_summary(cd, observation_end="1997-09-30")
    assert ours.height == 2357
    assert sorted(ours["frequency"].to_list()) == sorted(summary["frequency"].to_list())


def test_rfm_summary_hand_example_and_week_periods():
    ts = [datetime(2024, 1, 1, 9), datetime(2024, 1, 1, 17), datetime(2024, 1, 3),
          datetime(2024, 1, 15), datetime(2024, 1, 10)]
    orders = pl.DataFrame({S.CUSTOMER_ID: ["a", "a", "a", "a", "b"], S.ORDERED_AT: ts,
                           S.AMOUNT: [10.0, 5.0, 20.0, 30.0, 7.0]})
    day = rfm_summary(orders, observation_end="2024-01-29")
    a = day.row(0, named=True)
    # distinct days 1, 3, 15 Jan: 2 repeats; recency 14 days = 2 weeks; T 28 days = 4 weeks;
    # repeat values 20 and 30 -> mean 25 (the two orders of the first day are one purchase)
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"]) == (2, 2.0, 4.0, 25.0)
    week = rfm_summary(orders, purchase_period="W", observation_end="2024-01-29")
    a = week.row(0, named=True)
    # weeks starting 1 Jan (Mon) and 15 Jan: one repeat, recency 2 weeks, T 4 weeks
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"]) == (1, 2.0, 4.0, 30.0)
    lazy = rfm_summary(orders.lazy(), observation_end="2024-01-29", lazy=True)
    assert isinstance(lazy, pl.LazyFrame) and lazy.collect().equals(day)
    assert rfm_summary(orders.to_pandas(), observation_end="2024-01-29").equals(day)
    days = rfm_summary(orders, time_unit="D", observation_end="2024-01-29", monetary=False)
    assert days.columns == [S.CUSTOMER_ID, "frequency", "recency", "T"]
    assert days.row(0) == ("a", 2, 14.0, 28.0)


def test_holdout_dates_split_the_history_in_half(orders):
    # CDNOW, first order 1997-01-01, observed to 1998-06-30: 545 days, halfway 272.5 days
    # in = 1997-09-30 12:00, so 1997-09-30, Fader, Hardie & Lee's (2005) 39/39-week split
    assert holdout_dates(orders, observation_end="1998-06-30") == (datetime(1997, 9, 30),
                                                                     datetime(1998, 6, 30))
    # without an observation end: the latest order (1998-06-30 too), or the data's as_of
    assert holdout_dates(orders).observation_end == datetime(1998, 6, 30)
    data = CRMData(customers=pl.DataFrame(), orders=orders, as_of=datetime(1998, 7, 2))
    # 547 days from 1997-01-01 to 1998-07-02, halfway 273.5 days in = 1997-10-01 12:00
    assert holdout_dates(data) == (datetime(1997, 10, 1), datetime(1998, 7, 2))
    # given dates are kept (as datetimes), from pandas too
    cal, end = holdout_dates(orders.to_pandas(), calibration_end="1997-06-30",
                             observation_end="1997-12-31")
    assert (cal, end) == (datetime(1997, 6, 30), datetime(1997, 12, 31))
    with pytest.raises(ValueError, match=r"calibration_end \(1998-07-01 00:00\) must lie "
                                         r"between the day of the first order"):
        holdout_dates(orders, calibration_end="1998-07-01", observation_end="1998-06-30")
    with pytest.raises(ValueError, match="calibration_end.*1996-12-31.*must lie between"):
        holdout_dates(orders, calibration_end="1996-12-31")
    with pytest.raises(ValueError, match=r"observation_end \(1996-06-30 00:00\) is before "
                                         r"the first order \(1997-01-01 00:00\)"):
        holdout_dates(orders, observation_end="1996-06-30")
    with pytest.raises(ValueError, match="orders: the table is empty"):
        holdout_dates(orders.head(0))


# ------------------------------------------------------------------ sBG (FH 2007)
@pytest.mark.parametrize("counts, alpha, beta", [(REGULAR, 0.704, 1.182),
                                                  (HIGH_END, 0.668, 3.806)])
def test_sbg_reproduces_fader_hardie_2007(counts, alpha, beta):
    m = ShiftedBetaGeo().fit(counts[:8])
    assert m.params_["alpha"] == pytest.approx(alpha, abs=0.005)
    assert m.params_["beta"] == pytest.approx(beta, abs=0.005)
    # survival and retention by the published formulas
    a, b = m.params_["alpha"], m.params_["beta"]
    from scipy.special import beta as B
    assert m.survival_function(5) == pytest.approx(B(a, b + 5) / B(a, b))
    assert m.retention_rate(3) == pytest.approx((b + 2) / (a + b + 2))
    proj = m.projection(12, observed=counts)
    assert proj.height == 13 and proj["observed_active"].null_count() == 0
    assert int(proj["in_fit"].sum()) == 8
    # the projection to year 12 is close to the held-out data (FH 2007, Figure 3)
    assert proj["expected_active"][12] == pytest.approx(counts[12], rel=0.12)
    lo = m.confidence_intervals_.filter(pl.col("parameter") == "alpha")["ci_low"].item()
    assert 0 < lo < m.params_["alpha"]


def test_sbg_log_likelihood_by_hand():
    m = ShiftedBetaGeo().fit(REGULAR[:8])
    a, b = m.params_["alpha"], m.params_["beta"]
    from math import lgamma

    def lbeta(x, y):
        return lgamma(x) + lgamma(y) - lgamma(x + y)

    ll_hand = sum((REGULAR[t - 1] - REGULAR[t]) * (lbeta(a + 1, b + t - 1) - lbeta(a, b))
                  for t in range(1, 8)) + REGULAR[7] * (lbeta(a, b + 7) - lbeta(a, b))
    assert m.log_likelihood_ == pytest.approx(ll_hand, rel=1e-10)


# ------------------------------------------------------------------ BG/NBD, Pareto/NBD
def test_bgnbd_reproduces_fhl_2005(bgnbd):
    p = bgnbd.params_
    for k, v in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert p[k] == pytest.approx(v, abs=0.0015), k
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert float(bgnbd.conditional_expected_purchases(39, 2, 30.43, 38.86)) == pytest.approx(
        1.226, abs=0.0005)


def test_pareto_nbd_reproduces_fhl_2005(summary):
    m = ParetoNBD().fit(summary)
    p = m.params_
    assert p["r"] == pytest.approx(0.553, abs=0.0015)
    assert p["alpha"] == pytest.approx(10.578, abs=0.01)
    assert p["s"] == pytest.approx(0.606, abs=0.0015)
    assert p["beta"] == pytest.approx(11.669, abs=0.05)
    assert m.log_likelihood_ == pytest.approx(-9595.0, abs=0.1)


def test_fit_accepts_pandas_and_weights(summary, bgnbd):
    grouped = summary.group_by("frequency", "recency", "T").agg(pl.len().alias("n"))
    m = BetaGeo().fit(grouped.to_pandas(), weights="n")
    assert m.n_customers_ == 2357
    assert m.params_["r"] == pytest.approx(bgnbd.params_["r"], rel=1e-5)
    assert m.log_likelihood_ == pytest.approx(bgnbd.log_likelihood_, rel=1e-9)


def test_standard_errors_match_bootstrap_free_hessian_check(bgnbd):
    """Delta-method SEs equal theta x SE(log theta) and the summary frame carries them."""
    s = bgnbd.summary
    assert s.columns == ["parameter", "estimate", "std_error", "ci_low", "ci_high",
                         "log_likelihood", "n"]
    se_log = np.sqrt(np.diag(bgnbd.covariance_log_))
    assert s["std_error"].to_numpy() == pytest.approx(s["estimate"].to_numpy() * se_log)
    assert (s["ci_low"] < s["estimate"]).all() and (s["estimate"] < s["ci_high"]).all()
    assert "fitted on 2,357 customers, 946 with repeat purchases" in repr(bgnbd)


# ------------------------------------------------------------------ Gamma-Gamma (FH 2013)
def test_gamma_gamma_reproduces_fader_hardie_2013(summary_tx):
    rep = summary_tx.filter(pl.col("frequency") > 0)
    assert rep.height == 946
    m = GammaGamma().fit(rep)
    # the note reports p, q, gamma to 2 decimals; tolerance 0.01
    assert m.params_["p"] == pytest.approx(6.25, abs=0.01)
    assert m.params_["q"] == pytest.approx(3.74, abs=0.01)
    assert m.params_["gamma"] == pytest.approx(15.44, abs=0.01)
    assert m.log_likelihood_ == pytest.approx(-4055.92, abs=0.005)
    # conditional expected spend by the note's weighted-average formula
    p, q, g = m.params_["p"], m.params_["q"], m.params_["gamma"]
    x, z = 2, 22.35
    hand = (q - 1) / (p * x + q - 1) * p * g / (q - 1) + p * x / (p * x + q - 1) * z
    assert float(m.conditional_expected_average_spend(x, z)) == pytest.approx(hand)
    assert m.expected_average_spend() == pytest.approx(p * g / (q - 1))


# ------------------------------------------------------------------ BG/BB (FHS 2010)
def test_bgbb_reproduces_fhs_2010():
    don = ll.datasets.load_donations()
    m = BetaGeoBetaBinom().fit(don)
    for k, v in {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}.items():
        assert m.params_[k] == pytest.approx(v, abs=0.0015), k
    assert m.n_customers_ == 11104
