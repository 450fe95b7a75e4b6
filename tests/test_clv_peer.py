"""loyaltylab.clv against published values and hand computations for what issue 19 adds:
per-customer log-likelihoods, clear stops on lifetimes-style inputs, the interval of the
customer base's total value, MBG/NBD, probabilities of n purchases, saving models."""

from __future__ import annotations

from datetime import datetime
from math import lgamma, log
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import loyaltylab as ll
from loyaltylab.clv import (BetaGeo, BetaGeoBetaBinom, GammaGamma, ParetoNBD, ShiftedBetaGeo,
                            rfm_summary)
from loyaltylab.data import schema as S

DATA = Path(__file__).resolve().parents[1] / "data"
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]  # Fader & Hardie (2007)


@pytest.fixture(scope="module")
def summary() -> pl.DataFrame:
    return pl.read_csv(DATA / "cdnow" / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def summary_tx() -> pl.DataFrame:
    s = pl.read_csv(DATA / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    return s.select(pl.col("ID").cast(pl.String).alias(S.CUSTOMER_ID), frequency="x",
                    recency="t_x", T="T", monetary_value="zbar")


# ------------------------------------------------------------------ log-likelihoods
def test_bgnbd_customer_log_likelihood_published_and_by_hand(summary):
    # Fader, Hardie & Lee (2005), CDNOW: r=0.243, alpha=4.414, a=0.793, b=2.426, LL -9582.4
    pub = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    ll_ = BetaGeo().customer_log_likelihood(summary, params=pub)
    assert ll_.shape == (summary.height,)
    assert ll_.sum() == pytest.approx(-9582.4, abs=0.05)
    # a customer without repeat purchases: L = (alpha / (alpha + T))^r
    one = pl.DataFrame({"frequency": [0], "recency": [0.0], "T": [30.0]})
    got = BetaGeo().customer_log_likelihood(one, params=[0.243, 4.414, 0.793, 2.426])[0]
    assert got == pytest.approx(0.243 * log(4.414 / 34.414), rel=1e-12)
    # the fitted model: the sum is its log-likelihood
    m = BetaGeo().fit(summary)
    assert m.customer_log_likelihood(summary).sum() == pytest.approx(m.log_likelihood_,
                                                                     rel=1e-12)


def test_pareto_customer_log_likelihood_sums_to_fit(summary):
    m = ParetoNBD().fit(summary)
    assert m.customer_log_likelihood(summary).sum() == pytest.approx(m.log_likelihood_,
                                                                     rel=1e-10)
    # FHL (2005) Pareto/NBD on CDNOW: LL -9595.0
    assert m.customer_log_likelihood(summary).sum() == pytest.approx(-9595.0, abs=0.1)


def test_gamma_gamma_customer_log_likelihood_by_hand(summary_tx):
    rep = summary_tx.filter(pl.col("frequency") > 0)
    m = GammaGamma().fit(rep)
    assert m.customer_log_likelihood(rep).sum() == pytest.approx(m.log_likelihood_, rel=1e-12)
    p, q, g = 6.25, 3.74, 15.44
    x, z = 2, 22.35
    hand = (lgamma(p * x + q) - lgamma(p * x) - lgamma(q) + q * log(g)
            + (p * x - 1) * log(z) + p * x * log(x) - (p * x + q) * log(g + x * z))
    one = pl.DataFrame({"frequency": [x], "monetary_value": [z]})
    assert GammaGamma().customer_log_likelihood(one, params=(p, q, g))[0] == pytest.approx(
        hand, rel=1e-12)


def test_bgbb_and_sbg_customer_log_likelihood():
    don = ll.datasets.load_donations()
    m = BetaGeoBetaBinom().fit(don)
    rows = m.customer_log_likelihood(don)
    assert float(don["weights"].to_numpy() @ rows) == pytest.approx(m.log_likelihood_,
                                                                    rel=1e-12)
    # a donor who never came back in 6 opportunities, by hand:
    # B(al, be+6)/B(al, be) B(ga, de+6)/B(ga, de) + sum_i B(al, be+i)/B(al, be)
    # B(ga+1, de+i)/B(ga, de), i = 0..5
    al, be, ga, de = 1.204, 0.750, 0.657, 2.783

    def lb(u, v):
        return lgamma(u) + lgamma(v) - lgamma(u + v)

    hand = np.exp(lb(al, be + 6) - lb(al, be) + lb(ga, de + 6) - lb(ga, de)) + sum(
        np.exp(lb(al, be + i) - lb(al, be) + lb(ga + 1, de + i) - lb(ga, de))
        for i in range(6))
    zero = pl.DataFrame({"frequency": [0], "recency": [0], "periods": [6]})
    assert BetaGeoBetaBinom().customer_log_likelihood(zero, params=(al, be, ga, de))[0] == \
        pytest.approx(log(hand), rel=1e-12)
    s = ShiftedBetaGeo().fit(REGULAR)
    per = s.customer_log_likelihood(REGULAR)
    counts = np.append(-np.diff(REGULAR), REGULAR[-1])
    assert per.size == len(REGULAR)
    assert float(counts @ per) == pytest.approx(s.log_likelihood_, rel=1e-12)
    a, b = s.params_["alpha"], s.params_["beta"]
    assert per[0] == pytest.approx(log(a / (a + b)), rel=1e-12)  # P(churn in period 1)


def test_customer_log_likelihood_needs_params_or_a_fit(summary):
    with pytest.raises(ll.exceptions.NotFittedError, match="not fitted yet"):
        BetaGeo().customer_log_likelihood(summary)
    with pytest.raises(ValueError, match=r"params: missing \['b'\]; BetaGeo takes"):
        BetaGeo().customer_log_likelihood(summary, params={"r": 1, "alpha": 1, "a": 1})
    with pytest.raises(ValueError, match=r"params: expected 4 positive numbers"):
        BetaGeo().customer_log_likelihood(summary, params=[1, 1, -1, 1])


# ------------------------------------------------------------------ rfm_summary inputs
def _orders(dates):
    return pl.DataFrame({S.CUSTOMER_ID: ["a", "a", "b"][:len(dates)], S.ORDERED_AT: dates,
                         S.AMOUNT: [10.0, 20.0, 7.0][:len(dates)]})


def test_rfm_summary_reads_iso_text_dates_like_datetimes():
    text = _orders(["2024-01-01", "2024-01-15", "2024-01-08"])
    dt = text.with_columns(pl.col(S.ORDERED_AT).str.to_datetime())
    assert rfm_summary(text, time_unit="D").equals(rfm_summary(dt, time_unit="D"))
    assert rfm_summary(text, time_unit="D").row(0) == ("a", 1, 14.0, 14.0, 20.0)
    with_time = _orders(["2024-01-01 10:00:00", "2024-01-15 09:00:00", "2024-01-08 12:00:00"])
    assert rfm_summary(with_time, time_unit="D").equals(rfm_summary(dt, time_unit="D"))


def test_rfm_summary_text_that_is_not_a_date_stops():
    bad = _orders(["2024-01-01", "15/01/2024", "2024-01-08"])
    with pytest.raises(ValueError, match=r"orders\.ordered_at: 1 rows are text that is not a "
                                         r"date in one ISO format"):
        rfm_summary(bad)
    nums = _orders([1, 2, 3])
    with pytest.raises(TypeError, match=r"orders\.ordered_at: expected dates or datetimes, "
                                        r"got Int64"):
        rfm_summary(nums)


def test_calibration_end_before_the_first_order_stops_naming_the_dates():
    o = _orders([datetime(2024, 1, 1), datetime(2024, 1, 15), datetime(2024, 1, 8)])
    with pytest.raises(ValueError, match=r"calibration_end \(2023-06-01\) is before the first "
                                         r"order \(2024-01-01\).*between 2024-01-01 and "
                                         r"2024-01-15"):
        rfm_summary(o, calibration_end="2023-06-01")
    with pytest.raises(ValueError, match=r"observation_end \(2023-12-31\) is before the first "
                                         r"order \(2024-01-01\)"):
        rfm_summary(o, observation_end="2023-12-31")
    # the first order day itself is a valid calibration end
    assert rfm_summary(o, calibration_end="2024-01-01").height == 1


# ------------------------------------------------------------------ value of the whole base
@pytest.fixture(scope="module")
def cdnow_models(summary_tx):
    return (summary_tx, BetaGeo().fit(summary_tx),
            GammaGamma().fit(summary_tx.filter(pl.col("frequency") > 0)))


def test_customer_base_value_total_and_interval(cdnow_models):
    rfm, bg, gg = cdnow_models
    per = ll.clv.customer_lifetime_value(rfm, purchase_model=bg, spend_model=gg, n_draws=200,
                                         level=0.90, retention_cost=2.0)
    sim = ll.clv.customer_base_value(rfm, purchase_model=bg, spend_model=gg, n_draws=400,
                                     retention_cost=2.0)
    delta = ll.clv.customer_base_value(rfm, purchase_model=bg, spend_model=gg,
                                       interval="delta", retention_cost=2.0)
    assert sim.columns == ["n_customers", "total_clv", "total_low", "total_high", "total_net",
                           "net_low", "net_high", "interval_method"]
    s, d = sim.row(0, named=True), delta.row(0, named=True)
    assert s["n_customers"] == 2357
    assert s["total_clv"] == pytest.approx(per["clv"].sum(), rel=1e-12)
    assert s["total_net"] == pytest.approx(per["net_value"].sum(), rel=1e-12)
    assert s["total_clv"] - s["total_net"] == pytest.approx(2357 * 2.0 * (
        (1.1 ** -(np.arange(1, 13) / 12)).sum() / 12), rel=1e-9)  # retention cost by hand
    assert s["total_low"] < s["total_clv"] < s["total_high"]
    # simulation and delta method agree on the width of the total's interval
    assert (s["total_high"] - s["total_low"]) == pytest.approx(
        d["total_high"] - d["total_low"], rel=0.15)
    # summing per-customer percentile bounds is not the total's interval: it is wider
    assert per["clv_high"].sum() - per["clv_low"].sum() > 1.02 * (s["total_high"]
                                                                   - s["total_low"])
    assert "percentile interval of the total" in s["interval_method"]


def test_customer_base_value_bad_arguments(cdnow_models):
    rfm, bg, gg = cdnow_models
    with pytest.raises(ValueError, match=r"interval: expected 'simulation' or 'delta'"):
        ll.clv.customer_base_value(rfm, purchase_model=bg, spend_model=gg, interval="boot")
    with pytest.raises(ValueError, match=r"n_draws: at least 20 draws"):
        ll.clv.customer_base_value(rfm, purchase_model=bg, spend_model=gg, n_draws=5)
    with pytest.raises(TypeError, match=r"spend_model: expected a fitted ll.clv.GammaGamma"):
        ll.clv.customer_base_value(rfm, purchase_model=bg, spend_model=bg)


def _simulated_base(seed: int, n: int = 1000):
    from loyaltylab.clv._simulate import simulate_bgnbd

    rfm = simulate_bgnbd(n, r=0.5, alpha=5.0, a=0.8, b=3.0, seed=seed)
    rng = np.random.default_rng(seed + 10_000)
    x = np.maximum(rfm["frequency"].to_numpy().astype(float), 1.0)
    # Gamma-Gamma: nu ~ Gamma(q, gamma); mean of x values Gamma(p, nu) ~ Gamma(p x, nu x)
    nu = rng.gamma(4.0, 1 / 15.0, n)
    z = rng.gamma(6.0 * x, 1 / (nu * x))
    return rfm.with_columns(pl.Series("monetary_value", np.where(
        rfm["frequency"].to_numpy() > 0, z, 0.0)))


@pytest.mark.slow
def test_customer_base_value_interval_covers_the_true_total():
    """100 simulated bases of 1,000 customers: the nominal 90 % interval covers the
    expected total at the true parameters in 80-97 % of them (~130 s)."""
    from loyaltylab.clv._value import _clv_setup

    true_bg, true_gg = np.array([0.5, 5.0, 0.8, 3.0]), np.array([6.0, 4.0, 15.0])
    hits = []
    for seed in range(100):
        rfm = _simulated_base(seed)
        bg = BetaGeo().fit(rfm)
        gg = GammaGamma().fit(rfm.filter(pl.col("frequency") > 0))
        out = ll.clv.customer_base_value(rfm, purchase_model=bg, spend_model=gg, n_draws=200,
                                         level=0.90, seed=seed).row(0, named=True)
        _, _, compute = _clv_setup(rfm, bg, gg, horizon=52.0, steps=12, discount_rate=0.10,
                                   units_per_year=52.0, margin=1.0, cost_per_purchase=0.0,
                                   retention_cost=0.0)
        truth = compute(true_bg, true_gg)[0].sum()
        hits.append(out["total_low"] <= truth <= out["total_high"])
    assert 0.80 <= np.mean(hits) <= 0.97


# ------------------------------------------------------------------ MBG/NBD
def test_mbgnbd_reproduces_btydplus_cdnow(summary):
    from scipy.special import betaln
    from scipy.stats import nbinom

    m = ll.clv.ModifiedBetaGeo().fit(summary)
    # BTYDplus mbgnbd on CDNOW, quoted by lifetimes' test suite: .525, 6.183, .891, 1.614
    for k, v in {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}.items():
        assert m.params_[k] == pytest.approx(v, abs=6e-4), k
    assert m.customer_log_likelihood(summary).sum() == pytest.approx(m.log_likelihood_)
    # lifetimes' check against Hardie's sheet for customer (2, 30.43, 38.86), t = 39:
    # 1.226 within 0.05
    assert float(m.conditional_expected_purchases(39, 2, 30.43, 38.86)) == pytest.approx(
        1.226, abs=0.05)
    r, al, a, b = 0.525, 6.183, 0.891, 1.614
    p = [r, al, a, b]
    k = np.arange(1, 20000)
    # hand: E[X(t)] = sum_k E[(1-p)^k] P(NB >= k): the k-th purchase counts if the
    # customer survived k dropout chances (at time 0 and after each earlier purchase)
    for t in (1.0, 31.8571, 78.0):
        hand = (np.exp(betaln(a, b + k) - betaln(a, b)) * nbinom.sf(k - 1, r, al / (al + t))).sum()
        assert float(m.expected_purchases(t, params=p)) == pytest.approx(hand, rel=1e-9)
    # P(alive) (lifetimes/BTYDplus): 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)),
    # also below 1 for a customer without repeat purchases
    pa = float(m.probability_alive(0, 0, 30.0, params=p))
    assert pa == pytest.approx(1 / (1 + a / b * ((al + 30) / al) ** r), rel=1e-12)
    assert pa < 1
    # conditional expectation: alive with p ~ Beta(a, b+x+1), lambda ~ Gamma(r+x, alpha+T)
    x, tx, T, t = 2, 30.43, 38.86, 39.0
    pa = float(m.probability_alive(x, tx, T, params=p))
    hand = pa * (np.exp(betaln(a, b + x + k) - betaln(a, b + x + 1))
                 * nbinom.sf(k - 1, r + x, (al + T) / (al + T + t))).sum()
    assert float(m.conditional_expected_purchases(t, x, tx, T, params=p)) == pytest.approx(
        hand, rel=1e-9)


def test_mbgnbd_works_in_clv_and_checks(summary_tx):
    m = ll.clv.ModifiedBetaGeo().fit(summary_tx)
    gg = GammaGamma().fit(summary_tx.filter(pl.col("frequency") > 0))
    out = ll.clv.customer_lifetime_value(summary_tx, purchase_model=m, spend_model=gg,
                                         interval=None)
    cond = m.conditional_expected_purchases(52.0, summary_tx["frequency"].to_numpy(),
                                            summary_tx["recency"].to_numpy(),
                                            summary_tx["T"].to_numpy())
    np.testing.assert_allclose(out["expected_purchases"].to_numpy(), cond, rtol=1e-12)
    grid = ll.clv.probability_alive_matrix(m, max_frequency=3, max_recency=5)
    assert grid.height == 4 * 6 and grid["p_alive"].null_count() == 5


# ------------------------------------------------------------------ P(n purchases)
def test_bgnbd_probability_of_n_purchases_matches_btyd(summary):
    from scipy.special import betaln, gammaln

    m = BetaGeo().fit(summary)
    # R BTYD bgnbd.pmf at the CDNOW parameters (0.243, 4.414, 0.793, 2.426), quoted in
    # lifetimes' tests: P(X(2) = 10) = 1.07869e-07
    assert float(m.probability_of_purchases(10, 2, params=[0.243, 4.414, 0.793, 2.426])) == \
        pytest.approx(1.07869e-07, rel=1e-5)
    n = np.arange(400)
    pmf = m.probability_of_purchases(n, 39.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    assert (n * pmf).sum() == pytest.approx(float(m.expected_purchases(39.0)), rel=1e-9)
    # n = 0 by hand: B(a, b)/B(a, b) (alpha/(alpha+t))^r, the Beta term is 1
    r, al, a, b = (m.params_[k] for k in ("r", "alpha", "a", "b"))
    assert float(m.probability_of_purchases(0, 10.0)) == pytest.approx((al / (al + 10)) ** r)
    # n = 1 by hand (FHL 2005 eq. 8)
    q = al / (al + 10)
    nb1 = np.exp(gammaln(r + 1) - gammaln(r)) * q ** r * (1 - q)
    hand = np.exp(betaln(a, b + 1) - betaln(a, b)) * nb1 + np.exp(
        betaln(a + 1, b) - betaln(a, b)) * (1 - q ** r)
    assert float(m.probability_of_purchases(1, 10.0)) == pytest.approx(hand, rel=1e-12)
    # conditional on a history: sums to 1 and its mean is the conditional expectation
    c = m.conditional_probability_of_purchases(n, 39.0, 2, 30.43, 38.86)
    assert c.sum() == pytest.approx(1.0, abs=1e-10)
    assert (n * c).sum() == pytest.approx(
        float(m.conditional_expected_purchases(39.0, 2, 30.43, 38.86)), rel=1e-9)
    with pytest.raises(ValueError, match="n: expected whole numbers of purchases"):
        m.probability_of_purchases(1.5, 2)


# ------------------------------------------------------------------ BG/BB additions
@pytest.fixture(scope="module")
def donations_model():
    don = ll.datasets.load_donations()
    return don, BetaGeoBetaBinom().fit(don)


def test_bgbb_purchase_count_distribution_matches_hardie_sheet(donations_model):
    don, m = donations_model
    # FHS (2010) log-likelihood -33,225.6
    assert m.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    dist = m.purchase_count_distribution(6, observed=don)
    assert dist.columns == ["frequency", "probability", "expected_customers",
                            "observed_customers"]
    # Hardie's in-sample fit sheet (cells C18, C24), quoted in lifetimes' tests
    assert dist["expected_customers"][0] == pytest.approx(3454.9, abs=0.05)
    assert dist["expected_customers"][6] == pytest.approx(1253.1, abs=0.05)
    # observed donors by number of repeat donations, 1995 cohort (FHS 2010, Figure 3)
    assert dist["observed_customers"].to_list() == [3464, 1823, 1430, 1085, 1036, 1063, 1203]
    assert dist["probability"].sum() == pytest.approx(1.0, abs=1e-12)
    assert float((dist["frequency"] * dist["probability"]).sum()) == pytest.approx(
        float(m.expected_purchases(6)), rel=1e-10)
    with pytest.raises(ValueError, match=r"x: expected whole numbers between 0 and n=6"):
        m.probability_of_purchases(7, 6)


def test_bgbb_probability_alive_further_ahead():
    m = BetaGeoBetaBinom()
    p = (1.204, 0.750, 0.657, 2.783)
    x, tx, n = np.array([0, 2, 6]), np.array([0, 4, 6]), 6
    one = m.probability_alive(x, tx, n, params=p)
    assert np.allclose(one, m.probability_alive(x, tx, n, future=1, params=p))
    # lifetimes' simulation check: share alive after period 6 of donors with (0, 0),
    # (2, 4), (6, 6): 0.11, 0.59, 0.93 (+- 0.01)
    np.testing.assert_allclose(one, [0.11, 0.59, 0.93], atol=0.01)
    # m = 3 by hand for (0, 0, 6): B(al, be+6)/B(al, be) B(ga, de+9)/B(ga, de) / L
    al, be, ga, de = p

    def lb(u, v):
        return lgamma(u) + lgamma(v) - lgamma(u + v)

    zero = pl.DataFrame({"frequency": [0], "recency": [0], "periods": [6]})
    L = np.exp(m.customer_log_likelihood(zero, params=p)[0])
    hand = np.exp(lb(al, be + 6) - lb(al, be) + lb(ga, de + 9) - lb(ga, de)) / L
    assert float(m.probability_alive(0, 0, 6, future=3, params=p)) == pytest.approx(hand,
                                                                                  rel=1e-12)
    ahead = m.probability_alive(2, 4, 6, future=np.arange(6), params=p)
    assert np.all(np.diff(ahead) < 0)
    # a donor who gave at the last opportunity is alive at it
    assert float(m.probability_alive(6, 6, 6, future=0, params=p)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="future: expected opportunities ahead >= 0"):
        m.probability_alive(0, 0, 6, future=-1, params=p)


# ------------------------------------------------------------------ Gamma-Gamma options
def test_gamma_gamma_weights_equal_repeated_rows():
    rng = np.random.default_rng(5)
    x = rng.integers(1, 6, 300)
    z = np.round(rng.gamma(5.0, 8.0, 300), 0)  # rounded spend: many identical rows
    full = pl.DataFrame({"frequency": x, "monetary_value": z})
    grouped = full.group_by("frequency", "monetary_value").len("n")
    assert grouped.height < full.height
    a = GammaGamma().fit(full)
    b = GammaGamma().fit(grouped, weights="n")
    assert b.n_customers_ == 300
    assert b.params_ == pytest.approx(a.params_, rel=1e-5)
    assert b.log_likelihood_ == pytest.approx(a.log_likelihood_, rel=1e-9)
    assert b.frequency_spend_correlation_ == pytest.approx(a.frequency_spend_correlation_,
                                                           rel=1e-9)
    with pytest.raises(ValueError, match=r"rfm\.n: 1 rows have weight 0"):
        GammaGamma().fit(grouped.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(0)
                                              .otherwise(pl.col("n")).alias("n")),
                         weights="n")


def test_gamma_gamma_penalizer_off_by_default_and_as_lifetimes(summary_tx):
    from scipy.optimize import minimize

    rep = summary_tx.filter(pl.col("frequency") > 0)
    plain = GammaGamma().fit(rep)
    assert plain.penalizer == 0.0
    # Fader & Hardie (2013): p 6.25, q 3.74, gamma 15.44 without a penalty
    assert plain.params_["p"] == pytest.approx(6.25, abs=0.005)
    pen = GammaGamma(penalizer=0.01).fit(rep)
    # lifetimes' objective written out: mean negative log-likelihood + c sum(theta^2)
    x = rep["frequency"].to_numpy().astype(float)
    m = rep["monetary_value"].to_numpy()

    def objective(z):
        return (-GammaGamma().customer_log_likelihood(rep, params=np.exp(z)).mean()
                + 0.01 * np.sum(np.exp(2 * z)))

    ref = minimize(objective, np.log([1.0, 1.0, 1.0]), method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    assert list(pen.params_.values()) == pytest.approx(list(np.exp(ref.x)), rel=1e-4)
    assert sum(v ** 2 for v in pen.params_.values()) < sum(v ** 2 for v in
                                                           plain.params_.values())
    # the reported log-likelihood is the plain one at the penalised estimate
    assert pen.log_likelihood_ == pytest.approx(
        GammaGamma().customer_log_likelihood(rep, params=pen.params_).sum(), rel=1e-12)
    assert pen.log_likelihood_ < plain.log_likelihood_
    assert x.size == m.size
    with pytest.raises(ValueError, match=r"penalizer: expected a number >= 0"):
        GammaGamma(penalizer=-1)


# ------------------------------------------------------------------ saving and loading
def test_models_round_trip_through_json(tmp_path, summary, summary_tx):
    import json

    rep = summary_tx.filter(pl.col("frequency") > 0)
    don = ll.datasets.load_donations()
    fitted = [(BetaGeo().fit(summary), summary), (ParetoNBD().fit(summary), summary),
              (ll.clv.ModifiedBetaGeo().fit(summary), summary),
              (GammaGamma(penalizer=0.001).fit(rep), rep),
              (BetaGeoBetaBinom().fit(don), don), (ShiftedBetaGeo().fit(REGULAR), REGULAR)]
    for m, data in fitted:
        path = tmp_path / f"{type(m).__name__}.json"
        text = m.to_json(path)
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["model"] == type(m).__name__ and doc["params"] == m.params_
        assert np.allclose(doc["covariance_log"], m.covariance_log_)
        for back in (ll.clv.load_model(path), ll.clv.load_model(text),
                     ll.clv.load_model(str(path))):
            assert type(back) is type(m)
            assert back.params_ == m.params_
            assert back.standard_errors_ == pytest.approx(m.standard_errors_, rel=1e-12)
            assert back.summary.equals(m.summary)
            assert repr(back) == repr(m)
            assert back.penalizer == m.penalizer
            np.testing.assert_allclose(back.customer_log_likelihood(data),
                                       m.customer_log_likelihood(data), rtol=1e-12)
    bg, back = fitted[0][0], ll.clv.load_model(fitted[0][0].to_json())
    assert ll.clv.probability_alive_matrix(back).equals(ll.clv.probability_alive_matrix(bg))
    sbg = ll.clv.load_model(fitted[-1][0].to_json())
    assert sbg.projection(12).equals(fitted[-1][0].projection(12))


def test_load_model_errors(tmp_path):
    with pytest.raises(ValueError, match=r"load_model: .*nope\.json is not a file nor JSON"):
        ll.clv.load_model(tmp_path / "nope.json")
    with pytest.raises(ValueError, match=r"load_model: not valid JSON"):
        ll.clv.load_model("{not json")
    with pytest.raises(ValueError, match=r"no 'model' and 'log_params'"):
        ll.clv.load_model('{"a": 1}')
    with pytest.raises(ValueError, match=r"unknown model 'Prophet'"):
        ll.clv.load_model('{"model": "Prophet", "format": 1, "log_params": [0]}')
    with pytest.raises(ll.exceptions.NotFittedError):
        BetaGeo().to_json()


# ------------------------------------------------------------------ period transactions
def test_mbgnbd_probability_of_n_purchases(summary):
    m = ll.clv.ModifiedBetaGeo().fit(summary)
    n = np.arange(400)
    pmf = m.probability_of_purchases(n, 39.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    assert (n * pmf).sum() == pytest.approx(float(m.expected_purchases(39.0)), rel=1e-9)
    # n = 0 by hand: stays and buys nothing, or drops out at time 0
    r, al, a, b = (m.params_[k] for k in ("r", "alpha", "a", "b"))
    hand = b / (a + b) * (al / (al + 10)) ** r + a / (a + b)
    assert float(m.probability_of_purchases(0, 10.0)) == pytest.approx(hand, rel=1e-12)


def test_period_transactions_frame(summary):
    m = BetaGeo().fit(summary)
    pt = ll.clv.period_transactions(summary, model=m)
    assert pt.columns == ["frequency", "label", "actual", "expected"]
    assert pt["label"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    # observed CDNOW counts (FHL 2005, Figure 3 uses the same histogram)
    assert pt["actual"].to_list()[:3] == [1411, 439, 214]
    assert pt["actual"].sum() == pt["expected"].sum() == pytest.approx(2357)
    # expected customers with no repeat purchase by hand: sum_i (alpha/(alpha+T_i))^r
    r, al = m.params_["r"], m.params_["alpha"]
    hand = float(((al / (al + summary["T"].to_numpy())) ** r).sum())
    assert pt["expected"][0] == pytest.approx(hand, rel=1e-10)
    don = ll.datasets.load_donations()
    bb = BetaGeoBetaBinom().fit(don)
    pb = ll.clv.period_transactions(don, model=bb, max_frequency=6)
    # all donors had 6 opportunities: Hardie's in-sample fit sheet, 3454.9 and 1253.1
    assert pb["expected"][0] == pytest.approx(3454.9, abs=0.05)
    assert pb["expected"][6] == pytest.approx(1253.1, abs=0.05)
    assert pb["actual"].to_list() == [3464, 1823, 1430, 1085, 1036, 1063, 1203]
    with pytest.raises(TypeError, match=r"model: expected a fitted ll.clv.BetaGeo, "
                                        r"ModifiedBetaGeo, ParetoNBD or BetaGeoBetaBinom, "
                                        r"got GammaGamma"):
        ll.clv.period_transactions(summary, model=GammaGamma())
    pn = ParetoNBD().fit(summary)
    pp = ll.clv.period_transactions(summary, model=pn)
    assert pp["expected"].sum() == pytest.approx(2357)
    # Pareto/NBD zero repeaters by hand: sum_i P(X(T_i) = 0) by the integral over the
    # dropout time (NB(0; T) (beta/(beta+T))^s + int_0^T NB(0; u) s beta^s/(beta+u)^(s+1) du)
    T_ = summary["T"].to_numpy()
    hand = sum(_pnbd_pmf_integral(0, float(t), *(pn.params_[k] for k in
                                                ("r", "alpha", "s", "beta"))) for t in T_)
    assert pp["expected"][0] == pytest.approx(hand, rel=1e-8)


def test_probability_alive_history_of_one_customer(summary):
    o = pl.DataFrame({S.CUSTOMER_ID: ["a", "a", "a", "b"],
                      S.ORDERED_AT: [datetime(2024, 1, 1), datetime(2024, 1, 15),
                                     datetime(2024, 3, 4), datetime(2024, 1, 3)]})
    m = BetaGeo().fit(summary)
    h = ll.clv.probability_alive_history(o, model=m, customer_id="a",
                                         observation_end="2024-04-01")
    assert h.columns == ["t", "frequency", "recency", "purchase", "p_alive"]
    assert h["t"].to_list() == [float(i) for i in range(14)]  # weeks 0..13
    assert h.filter("purchase")["t"].to_list() == [2.0, 9.0]
    # the last point is the customer's P(alive) from the summary at the observation end
    r = rfm_summary(o, observation_end="2024-04-01", monetary=False).row(0, named=True)
    assert (r["frequency"], r["recency"], r["T"]) == (2, 9.0, 13.0)
    assert h["p_alive"][-1] == pytest.approx(float(m.probability_alive(2, 9.0, 13.0)))
    # BG/NBD by hand: 1 before the first repeat purchase; right at a purchase
    # 1 / (1 + a / (b + x - 1))
    a, b = m.params_["a"], m.params_["b"]
    assert h["p_alive"][1] == 1.0
    assert h["p_alive"][9] == pytest.approx(1 / (1 + a / (b + 1)))
    assert np.all(np.diff(h["p_alive"].to_numpy()[2:9]) < 0)  # falls while silent
    pn = ll.clv.probability_alive_history(o, model=ParetoNBD().fit(summary), customer_id="a")
    assert pn["t"][-1] == 9.0 and pn["p_alive"].is_between(0, 1).all()
    with pytest.raises(ValueError, match=r"customer_id: no orders for that customer"):
        ll.clv.probability_alive_history(o, model=m, customer_id="zz")


# ------------------------------------------------------------------ Pareto/NBD P(X(t) = n)
PNBD_BTYD = (0.55, 10.56, 0.61, 11.64)  # R BTYD's pnbd.pmf example parameters (CDNOW)


def _pnbd_pmf_integral(n, t, r, alpha, s, beta):
    """P(X(t) = n) by one numerical integral over the time of death: alive at t with
    probability (beta/(beta+t))^s and then NB(n; r, alpha, t) purchases, or dead at u < t
    (density s beta^s (beta+u)^-(s+1)) after NB(n; r, alpha, u) purchases."""
    from scipy import integrate
    from scipy.special import gammaln

    def nb(u):
        if u == 0:
            return float(n == 0)
        return np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1)
                      + r * np.log(alpha / (alpha + u)) + n * np.log(u / (alpha + u)))

    dead, _ = integrate.quad(lambda u: nb(u) * s * beta ** s * (beta + u) ** -(s + 1), 0, t,
                             epsabs=0, epsrel=1e-12, limit=500)
    return nb(t) * (beta / (beta + t)) ** s + dead


@pytest.mark.parametrize("params", [PNBD_BTYD, (0.55, 11.64, 0.61, 10.56), (2.0, 1.0, 0.3, 30.0),
                                    (0.3, 50.0, 3.0, 0.5)])
def test_pareto_probability_of_n_purchases_matches_integration(params):
    """Fader & Hardie's closed form (both branches alpha >= beta and alpha < beta, and its
    positive-series form where the difference cancels) against the integral over the
    dropout time, written out above."""
    m = ParetoNBD()
    for n in (0, 1, 3, 10, 25):
        for t in (0.5, 2.0, 39.0, 78.0, 500.0):
            got = float(m.probability_of_purchases(n, t, params=params))
            assert got == pytest.approx(_pnbd_pmf_integral(n, t, *params), rel=1e-8, abs=1e-300)


def test_pareto_probability_of_n_purchases_sums_to_one_with_the_right_mean(summary):
    m = ParetoNBD().fit(summary)
    n = np.arange(400)
    pmf = m.probability_of_purchases(n, 39.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    assert (n * pmf).sum() == pytest.approx(float(m.expected_purchases(39.0)), rel=1e-8)
    # n = 0 in the limit of an infinite period: never buys again before dropping out,
    # E[mu / (lambda + mu)], by a 2-D integral over the gamma rates
    from scipy import integrate

    r, al, s, be = PNBD_BTYD
    # E[mu/(lambda+mu)] = int_0^inf E[mu e^(-mu u)] E[e^(-lambda u)] du
    inner, _ = integrate.quad(lambda u: s / be * (be / (be + u)) ** (s + 1)
                              * (al / (al + u)) ** r, 0, np.inf, epsrel=1e-12, limit=500)
    assert float(m.probability_of_purchases(0, 1e9, params=PNBD_BTYD)) == pytest.approx(
        inner, rel=1e-6)
    # t = 0: no purchase for certain; shapes broadcast like BetaGeo's
    assert m.probability_of_purchases([0, 1], 0.0).tolist() == [1.0, 0.0]
    assert m.probability_of_purchases(np.arange(3)[:, None], np.array([1.0, 2.0])).shape \
        == (3, 2)
    with pytest.raises(ValueError, match="n: expected whole numbers of purchases"):
        m.probability_of_purchases(-1, 2)
    with pytest.raises(ValueError, match="t: expected lengths of time >= 0"):
        m.probability_of_purchases(1, -2)


def test_pareto_probability_of_n_purchases_btyd_example_by_simulation():
    """BTYD's documented calls pnbd.pmf(params, t = 39, x = 0) and t = 2, x = 10 at the
    CDNOW parameters; the probability of no purchase in 39 weeks checked against a
    simulation of 400,000 customers (4 standard errors)."""
    m = ParetoNBD()
    p0 = float(m.probability_of_purchases(0, 39, params=PNBD_BTYD))
    rng = np.random.default_rng(19)
    r, al, s, be = PNBD_BTYD
    lam = rng.gamma(r, 1 / al, 400_000)
    mu = rng.gamma(s, 1 / be, 400_000)
    life = np.minimum(rng.exponential(1 / mu), 39.0)
    x = rng.poisson(lam * life)
    share = float((x == 0).mean())
    assert abs(share - p0) < 4 * np.sqrt(p0 * (1 - p0) / x.size)
    p10 = float(m.probability_of_purchases(10, 2, params=PNBD_BTYD))
    assert p10 == pytest.approx(_pnbd_pmf_integral(10, 2.0, *PNBD_BTYD), rel=1e-8)
    assert 1e-10 < p10 < 1e-8


def test_pareto_conditional_probability_of_n_purchases(summary):
    """P(Y(t) = n | x, t_x, T) against a direct 2-D integration over the posterior of the
    purchase and dropout rates (lambda analytically, the rest numerically), its mean
    against the conditional expectation, and the sum to one."""
    from scipy import integrate
    from scipy.special import gammaln

    m = ParetoNBD().fit(summary)
    r, al, s, be = (m.params_[k] for k in ("r", "alpha", "s", "beta"))
    x, tx, T_, t = 2, 30.43, 38.86, 39.0
    n = np.arange(400)
    c = m.conditional_probability_of_purchases(n, t, x, tx, T_)
    assert c.sum() == pytest.approx(1.0, abs=1e-9)
    assert (n * c).sum() == pytest.approx(
        float(m.conditional_expected_purchases(t, x, tx, T_)), rel=1e-7)

    # by hand: the likelihood of the history for given (lambda, mu) is
    # lambda^x [e^-(lambda+mu)T + mu int_tx^T e^-(lambda+mu)u du]; the probability of
    # exactly k purchases in (T, T+t] needs the customer alive at T. With lambda integrated
    # out for each mu (a gamma integral), the posterior weight of 'alive at T, dies at
    # T + v' is then integrated over mu and v numerically.
    def lam_moment(k, y):  # E[lambda^k e^(-lambda y)] for the gamma prior
        return np.exp(gammaln(r + k) - gammaln(r) + r * np.log(al) - (r + k) * np.log(al + y))

    def gmu(mu):
        return np.exp(s * np.log(be) - gammaln(s) + (s - 1) * np.log(mu) - be * mu)

    def lik(mu):  # P(history | mu), lambda integrated
        dead = integrate.quad(lambda u: mu * np.exp(-mu * u) * lam_moment(x, u), tx, T_,
                              epsabs=0, epsrel=1e-11)[0]
        return np.exp(-mu * T_) * lam_moment(x, T_) + dead

    def joint(k, mu):  # P(history, alive at T, k purchases in (T, T+t] | mu)
        def nb_at(v):  # E_lambda[lambda^x e^(-lambda T) (lambda v)^k e^(-lambda v) / k!]
            return np.exp(k * np.log(v) - gammaln(k + 1)) * lam_moment(x + k, T_ + v) \
                if v > 0 else float(k == 0) * lam_moment(x, T_)
        alive = np.exp(-mu * (T_ + t)) * nb_at(t)
        died = integrate.quad(lambda v: mu * np.exp(-mu * (T_ + v)) * nb_at(v), 0, t,
                              epsabs=0, epsrel=1e-11)[0]
        return alive + died

    den = integrate.quad(lambda mu: gmu(mu) * lik(mu), 0, np.inf, epsabs=0, epsrel=1e-10,
                         limit=200)[0]
    for k in (1, 2, 5):
        num = integrate.quad(lambda mu: gmu(mu) * joint(k, mu), 0, np.inf, epsabs=0,
                             epsrel=1e-10, limit=200)[0]
        assert float(c[k]) == pytest.approx(num / den, rel=1e-6)
    # an inactive customer buys nothing: the mass at 0 is at least 1 - P(alive)
    pa = float(m.probability_alive(x, tx, T_))
    assert float(c[0]) >= 1 - pa
