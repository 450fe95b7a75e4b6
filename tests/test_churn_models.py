"""loyaltylab.churn models: Cox against R on the Rossi data, errors that name the covariate,
parametric lifetimes, at-risk list, validation and early-life hazard."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from lifelines.datasets import load_rossi

from loyaltylab import churn
from loyaltylab.exceptions import ConvergenceError, SeparationError

ROSSI_COVS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
# R: coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = rossi)
# (Efron ties), as quoted in REFERENCES.md.
R_COXPH = {"fin": -0.3794, "age": -0.0574, "race": 0.3139, "wexp": -0.1498,
           "mar": -0.4337, "paro": -0.0849, "prio": 0.0915}


@pytest.fixture(scope="module")
def rossi():
    return pl.from_pandas(load_rossi())


@pytest.fixture(scope="module")
def rossi_cox(rossi):
    return churn.CoxModel(covariates=ROSSI_COVS, duration_col="week",
                          event_col="arrest").fit(rossi)


def test_cox_reproduces_r_coxph_on_rossi(rossi_cox):
    for name, coef in R_COXPH.items():
        assert round(rossi_cox.params_[name], 4) == coef, name
    s = rossi_cox.summary
    fin = s.filter(pl.col("covariate") == "fin").row(0, named=True)
    assert fin["hazard_ratio"] == pytest.approx(math.exp(-0.3794), abs=1e-4)
    # the interval is exp(coef +- 1.96 se)
    assert fin["hr_ci_low"] == pytest.approx(math.exp(fin["coef"] - 1.959964 * fin["se"]))
    assert rossi_cox.lifelines_.params_.round(4).to_dict() == R_COXPH
    assert "fitted on 432 customers, 318 censored" in repr(rossi_cox)


def test_schoenfeld_check_flags_age_and_wexp_on_rossi(rossi_cox):
    # The lifelines documentation (and Fox & Weisberg's R appendix on the same data) find
    # that age and wexp violate proportional hazards; the others hold.
    ph = rossi_cox.check_proportional_hazards(alpha=0.05)
    failing = set(ph.filter(~pl.col("holds"))["covariate"].to_list())
    assert {"age", "wexp"} <= failing
    assert "fin" not in failing
    verdict = rossi_cox.ph_verdict()
    assert verdict.startswith("Proportional hazards fail for") and "Stratify on" in verdict
    strat = rossi_cox.stratify_failing(alpha=0.05)
    assert set(strat.covariates_) == set(ROSSI_COVS) - failing
    assert strat.lifelines_.strata is not None and "wexp" in strat.lifelines_.strata


def test_held_out_concordance_between_half_and_one(rossi):
    train, test = churn.split_customers(rossi, test_share=0.3, seed=3)
    assert train.height + test.height == rossi.height
    m = churn.CoxModel(covariates=ROSSI_COVS, duration_col="week",
                       event_col="arrest").fit(train)
    c = m.concordance(test)
    # Harrell's C by hand: a pair is usable when customer i was arrested and j was still
    # free after t_i (t_j > t_i, or t_j == t_i and j censored); concordant when i has the
    # higher risk score, ties in score count one half.
    score = m.predict_risk_score(test).to_numpy()
    t = test["week"].to_numpy()
    e = test["arrest"].to_numpy()
    num = den = 0.0
    for i in range(len(t)):
        if not e[i]:
            continue
        later = (t > t[i]) | ((t == t[i]) & (e == 0))
        den += later.sum()
        num += (score[i] > score[later]).sum() + 0.5 * (score[i] == score[later]).sum()
    assert c == pytest.approx(num / den, abs=5e-3)
    assert 0.55 < c < 0.8


def test_categorical_covariates_get_reference_levels():
    rng = np.random.default_rng(4)
    n = 600
    seg = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    hr = np.where(seg == "b", 2.0, np.where(seg == "c", 0.5, 1.0))
    t = rng.exponential(100 / hr)
    c = rng.uniform(0, 200, n)
    tab = pl.DataFrame({"duration": np.minimum(t, c), "event": (t <= c).astype(int),
                        "segment": seg})
    m = churn.CoxModel(covariates=["segment"]).fit(tab)
    s = m.summary
    assert s["covariate"].to_list() == ["segment=b", "segment=c"]  # "a" most frequent
    b, c_ = s.row(0, named=True), s.row(1, named=True)
    # estimates within three standard errors of the planted log hazard ratios
    assert abs(b["coef"] - math.log(2.0)) < 3 * b["se"]
    assert abs(c_["coef"] - math.log(0.5)) < 3 * c_["se"]
    with pytest.raises(ValueError, match=r"covariate 'segment': levels \['z'\] were not in "
                                         r"the data"):
        m.predict_risk_score(tab.with_columns(pl.lit("z").alias("segment")))


def test_cox_no_variance_names_the_covariate(rossi):
    t = rossi.with_columns(pl.lit(1).alias("flag"))
    with pytest.raises(ValueError, match=r"covariate flag has no variance: every customer in "
                                         r"the table has the value 1.*Drop 'flag'"):
        churn.CoxModel(covariates=["fin", "flag"], duration_col="week",
                       event_col="arrest").fit(t)


def test_cox_perfect_separation_names_the_covariate(rossi):
    # a flag set only on customers who were never arrested: no churner has it
    t = rossi.with_columns(((pl.col("arrest") == 0) & (pl.col("age") > 30))
                           .cast(pl.Int64).alias("vip"))
    with pytest.raises(ValueError, match=r"covariate vip separates churners perfectly: none "
                                         r"of the \d+ customers with vip=1 churned.*penalizer"):
        churn.CoxModel(covariates=["fin", "vip"], duration_col="week",
                       event_col="arrest").fit(t)
    # the same on a categorical level
    t2 = t.with_columns(pl.when(pl.col("vip") == 1).then(pl.lit("gold"))
                        .otherwise(pl.lit("std")).alias("tier"))
    with pytest.raises(ValueError, match=r"covariate tier \(level 'gold'\) separates"):
        churn.CoxModel(covariates=["tier"], duration_col="week", event_col="arrest").fit(t2)


def test_separation_says_which_group_and_a_penalizer_fits_it(rossi):
    # vip = 1 only for never-arrested customers over 30: nobody in that group churned
    t = rossi.with_columns(((pl.col("arrest") == 0) & (pl.col("age") > 30))
                           .cast(pl.Int64).alias("vip"))
    n_vip = int(t["vip"].sum())
    with pytest.raises(SeparationError) as info:
        churn.CoxModel(covariates=["fin", "vip"], duration_col="week",
                       event_col="arrest").fit(t)
    exc = info.value
    assert (exc.covariate, exc.level, exc.value, exc.other, exc.n) == ("vip", None, 1.0,
                                                                       False, n_vip)
    assert isinstance(exc, ValueError)  # callers catching ValueError still catch it
    # a penalizer keeps the estimate finite, so the same data fit: vip lowers the hazard
    m = churn.CoxModel(covariates=["fin", "vip"], duration_col="week", event_col="arrest",
                       penalizer=0.1).fit(t)
    assert math.isfinite(m.params_["vip"]) and m.params_["vip"] < 0
    # a categorical level, and the group "every level other than" a binary's level
    tier = t.with_columns(pl.when(pl.col("vip") == 1).then(pl.lit("std"))
                          .otherwise(pl.lit("gold")).alias("tier"))
    with pytest.raises(SeparationError) as info:
        churn.CoxModel(covariates=["tier"], duration_col="week", event_col="arrest").fit(tier)
    assert (info.value.covariate, info.value.n) == ("tier", n_vip)
    # gold is the most frequent level (the reference), std the design column
    assert (info.value.level, info.value.other) == ("std", False)


def test_cox_scores_an_empty_table_as_no_rows(rossi_cox, rossi):
    # no active customer left to score (every one churned): empty results, not a
    # lifelines "shapes (0,0) and (1,) not aligned" error
    none = rossi.head(0)
    assert rossi_cox.predict_churn_probability(none, horizon=20).len() == 0
    assert rossi_cox.predict_risk_score(none).len() == 0
    assert rossi_cox.drivers(none).len() == 0


def test_cox_continuous_separation_raises_our_convergence_error(rossi):
    # a continuous score that orders every arrest before every non-arrest
    t = rossi.with_columns((pl.col("arrest") * 100 - pl.col("week")).cast(pl.Float64)
                           .alias("leak"))
    with pytest.raises(ConvergenceError, match=r"leak.*Fix: drop it from covariates="):
        churn.CoxModel(covariates=["leak"], duration_col="week", event_col="arrest").fit(t)


def test_cox_missing_covariates_raise_or_are_counted(rossi):
    t = rossi.with_columns(pl.when(pl.col("age") < 19).then(None).otherwise(pl.col("prio"))
                           .alias("prio"))
    n_null = t["prio"].null_count()
    with pytest.raises(ValueError, match=rf"covariates have missing values: prio "
                                         rf"\({n_null} rows\)"):
        churn.CoxModel(covariates=["fin", "prio"], duration_col="week", event_col="arrest",
                       missing="raise").fit(t)
    m = churn.CoxModel(covariates=["fin", "prio"], duration_col="week",
                       event_col="arrest").fit(t)
    assert m.n_dropped_ == n_null and f"{n_null} rows dropped" in repr(m)


def test_predicted_churn_probability_is_conditional(rossi_cox, rossi):
    # P(arrest in (10, 20] | free at 10) = 1 - S(20)/S(10) from the fitted survival curves
    one = rossi.head(1).with_columns(pl.lit(10.0).alias("now"))
    p = rossi_cox.predict_churn_probability(one, horizon=10, after="now")[0]
    sf = rossi_cox.lifelines_.predict_survival_function(
        rossi_cox._X(one), times=[10.0, 20.0]).to_numpy().ravel()
    assert p == pytest.approx(1 - sf[1] / sf[0], rel=1e-6)


# ------------------------------------------------------------------ parametric
def test_lifetime_model_recovers_weibull_and_picks_it_by_aic():
    rng = np.random.default_rng(11)
    lam, rho = 400.0, 1.5
    t = lam * rng.weibull(rho, 3000)
    c = rng.uniform(0, 900, 3000)
    tab = pl.DataFrame({"duration": np.minimum(t, c), "event": (t <= c).astype(int)})
    lm = churn.LifetimeModel().fit(tab)
    assert lm.distribution_ == "weibull"
    s = lm.summary
    for name, truth in (("lambda_", lam), ("rho_", rho)):
        r = s.filter(pl.col("parameter") == name).row(0, named=True)
        assert r["ci_low"] < truth < r["ci_high"], (name, r)
    comp = lm.comparison
    w = comp.filter(pl.col("distribution") == "weibull").row(0, named=True)
    assert w["aic"] == pytest.approx(2 * 2 - 2 * w["log_likelihood"])
    life = lm.lifetime_summary().filter(pl.col("chosen")).row(0, named=True)
    # true median lam * log(2)^(1/rho) = 313.6; true mean lam * Gamma(1 + 1/rho) = 361.1
    assert life["median_days"] == pytest.approx(lam * math.log(2) ** (1 / rho), rel=0.05)
    assert life["mean_days"] == pytest.approx(lam * math.gamma(1 + 1 / rho), rel=0.05)
    # remaining life of a customer aged 0 is the mean; later it shrinks (rho > 1)
    rem = lm.predict_remaining(pl.DataFrame({"duration": [0.0, 500.0]}))
    assert rem[0] == pytest.approx(life["mean_days"], rel=1e-3)
    assert rem[1] < rem[0]


def test_lifetime_model_with_covariates_and_zero_durations(rossi):
    lm = churn.LifetimeModel(covariates=["fin", "prio"], duration_col="week",
                             event_col="arrest").fit(rossi)
    assert set(lm.comparison["distribution"]) == {"weibull", "loglogistic"}
    assert lm.comparison.filter(pl.col("chosen"))["aic"][0] == lm.comparison["aic"].min()
    fin = lm.summary.filter(pl.col("parameter").str.ends_with("/fin")).row(0, named=True)
    assert fin["time_ratio"] == pytest.approx(math.exp(fin["estimate"]))
    zero = rossi.with_columns(pl.when(pl.col("week") == 52).then(0).otherwise(pl.col("week"))
                              .alias("week"))
    with pytest.raises(ValueError, match=r"table.week: \d+ rows have duration 0.*"
                                         r"table.filter"):
        churn.LifetimeModel(duration_col="week", event_col="arrest").fit(zero)
    with pytest.raises(ValueError, match="distributions: expected some of"):
        churn.LifetimeModel(distributions=["gompertz"])


# ------------------------------------------------------------------ validation helpers
def test_calibration_table_and_brier_by_hand():
    p = [0.1, 0.2, 0.3, 0.6, 0.7, 0.9]
    y = [0, 0, 1, 1, 0, 1]
    cal = churn.calibration_table(p, y, bins=3)
    assert cal.select("bin", "n", "churned").rows() == [(1, 2, 0), (2, 2, 2), (3, 2, 1)]
    assert cal["mean_predicted"].to_list() == pytest.approx([0.15, 0.45, 0.8])
    # Brier = (0.01 + 0.04 + 0.49 + 0.16 + 0.49 + 0.01) / 6 = 0.2
    assert churn.brier_score(p, y) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="differ in length"):
        churn.calibration_table([0.1], [0, 1])


def test_early_life_hazard_recovers_piecewise_rates():
    rng = np.random.default_rng(5)
    n = 20000
    # true hazard 3/year in the first 90 days, 1/year after: ratio 3
    h1, h2, cut = 3 / 365.25, 1 / 365.25, 90.0
    u = rng.exponential(1.0, n)
    t = np.where(u < h1 * cut, u / h1, cut + (u - h1 * cut) / h2)
    c = rng.uniform(0, 1000, n)
    tab = pl.DataFrame({"duration": np.minimum(t, c), "event": (t <= c).astype(int)})
    r = churn.early_life_hazard(tab, by=None, early="90d").row(0, named=True)
    assert r["ci_low"] < 3.0 < r["ci_high"]
    assert r["hazard_early"] == pytest.approx(3.0, rel=0.08)
    assert r["hazard_later"] == pytest.approx(1.0, rel=0.08)
    # shift: subtracting the window moves durations; negative ones are left out
    shifted = churn.early_life_hazard(tab.with_columns(pl.col("duration") + 180), by=None,
                                      shift="180d").row(0, named=True)
    assert shifted["hazard_ratio"] == pytest.approx(r["hazard_ratio"])


# ------------------------------------------------------------------ more bad input
def test_time_split_needs_the_horizon_inside_the_data():
    from datetime import datetime

    from loyaltylab.data.crmdata import CRMData

    ts = pl.Datetime("us")
    data = CRMData(
        customers=pl.DataFrame({"customer_id": ["A"], "acquired_at": [datetime(2024, 1, 1)]},
                               schema_overrides={"acquired_at": ts}),
        orders=pl.DataFrame({"order_id": ["1"], "customer_id": ["A"],
                             "ordered_at": [datetime(2024, 1, 1)], "amount": [1.0]},
                            schema_overrides={"ordered_at": ts}))
    with pytest.raises(ValueError, match=r"cutoff: 2024-11-01 \+ horizon 90 days runs past "
                                         r"the end of the data \(2024-12-31\).*on or before "
                                         r"2024-10-02"):
        churn.time_split_validation(data, cutoff="2024-11-01", horizon="90d",
                                    as_of="2024-12-31")


def test_time_varying_cox_rejects_bad_episodes_and_skips_zero_length_ones():
    ep = pl.DataFrame({"customer_id": ["a", "b"], "start": [0.0, 5.0], "stop": [3.0, 2.0],
                       "event": [1, 0], "manager_left": [0, 1]})
    with pytest.raises(ValueError, match=r"episodes: 1 rows end before they start"):
        churn.TimeVaryingCox(covariates=["manager_left"]).fit(ep)
    with pytest.raises(ValueError, match=r"episodes: missing column 'stop'"):
        churn.TimeVaryingCox().fit(ep.drop("stop"))


def test_effect_sentence_for_a_protective_covariate():
    rng = np.random.default_rng(8)
    n = 400
    x = rng.integers(0, 2, n)
    t = rng.exponential(np.where(x == 1, 200.0, 100.0))
    ep = pl.DataFrame({"customer_id": [str(i) for i in range(n)], "start": 0.0,
                       "stop": np.minimum(t, 300.0), "event": (t < 300).astype(int), "x": x})
    tv = churn.TimeVaryingCox(covariates=["x"]).fit(ep)
    hr = tv.summary["hazard_ratio"][0]
    assert tv.effect("x") .startswith(f"After x switches on, the churn hazard is {hr:.2f} "
                                      f"times as high, {1 - hr:.0%} lower (95 % CI")
    with pytest.raises(ValueError, match="covariate 'y' is not in the model"):
        tv.effect("y")


def test_at_risk_list_reports_customers_left_out_for_missing_covariates(rossi):
    t = (rossi.rename({"week": "duration", "arrest": "event"}).with_row_index("customer_id")
         .with_columns(pl.col("customer_id").cast(pl.String),
                       pl.when(pl.col("age") < 19).then(None).otherwise(pl.col("prio"))
                       .alias("prio")))
    cox = churn.CoxModel(covariates=["fin", "prio"]).fit(t)
    calls = churn.at_risk_list(t, cox, horizon=10, inactivity=False)
    active = t.filter(pl.col("event") == 0)
    assert calls.n_left_out == active["prio"].null_count()
    assert calls.height == active.height - calls.n_left_out


def test_more_option_and_covariate_errors(rossi):
    with pytest.raises(ValueError, match="missing: expected 'drop' or 'raise'"):
        churn.CoxModel(missing="ignore")
    with pytest.raises(ValueError, match="missing: expected 'drop' or 'raise'"):
        churn.TimeVaryingCox(missing="ignore")
    with pytest.raises(ValueError, match="test_share must lie strictly between 0 and 1"):
        churn.split_customers(rossi, test_share=1.0)
    with pytest.raises(ValueError, match="covariates: none given and none of the default"):
        churn.CoxModel(duration_col="week", event_col="arrest").fit(rossi)
    with pytest.raises(ValueError, match="covariate 'region' is not a column of the table"):
        churn.CoxModel(covariates=["region"], duration_col="week",
                       event_col="arrest").fit(rossi)
    t = rossi.with_columns(pl.lit(None, pl.String).alias("tier"),
                           pl.lit("x").alias("grade"),
                           pl.lit([1]).alias("listcol"))
    with pytest.raises(ValueError, match="covariate 'tier': every value is null"):
        churn.CoxModel(covariates=["tier"], duration_col="week", event_col="arrest").fit(t)
    with pytest.raises(ValueError, match=r"reference\['grade'\] = 'y' is not a level"):
        churn.CoxModel(covariates=["grade"], reference={"grade": "y"}, duration_col="week",
                       event_col="arrest").fit(t)
    with pytest.raises(TypeError, match=r"covariate 'listcol' has type List"):
        churn.CoxModel(covariates=["listcol"], duration_col="week", event_col="arrest",
                       missing="raise").fit(t)


def test_stratifying_everything_is_refused():
    rng = np.random.default_rng(2)
    n = 3000
    x = rng.integers(0, 2, n)
    # x doubles the hazard early and halves it late: proportional hazards fail
    t = np.where(x == 1, rng.weibull(0.5, n) * 100, rng.weibull(2.0, n) * 100)
    tab = pl.DataFrame({"duration": np.minimum(t, 150.0), "event": (t < 150).astype(int),
                        "x": x})
    m = churn.CoxModel(covariates=["x"]).fit(tab)
    assert not m.check_proportional_hazards()["holds"][0]
    with pytest.raises(ValueError, match=r"every covariate \(\['x'\]\) fails proportional "
                                         r"hazards.*TimeVaryingCox"):
        m.stratify_failing()


def test_episode_errors():
    from datetime import datetime

    from loyaltylab.data.crmdata import CRMData

    ts = pl.Datetime("us")
    data = CRMData(
        customers=pl.DataFrame({"customer_id": ["A"], "acquired_at": [datetime(2024, 1, 1)]},
                               schema_overrides={"acquired_at": ts}),
        orders=pl.DataFrame({"order_id": ["1"], "customer_id": ["A"],
                             "ordered_at": [datetime(2024, 1, 1)], "amount": [1.0]},
                            schema_overrides={"ordered_at": ts}))
    table = churn.churn_table(data, as_of="2024-12-31")
    with pytest.raises(ValueError, match="table: missing column 'event'"):
        churn.churn_episodes(data, table.drop("event"))
    with pytest.raises(ValueError, match="entry='first_survey': not a column"):
        churn.churn_episodes(data, table, entry="first_survey")


def test_no_pair_to_compare_gives_a_nan_concordance_not_an_error():
    # a tiny client export: the only churner has the longest lifetime, so no customer was
    # seen to churn before another left the data (lifelines: "No admissable pairs")
    t = pl.DataFrame({"duration": [1.0, 2.0, 3.0, 4.0], "event": [0, 0, 0, 1],
                      "x": [0.0, 1.0, 1.0, 0.0]})
    m = churn.CoxModel(covariates=["x"], penalizer=0.1).fit(t)
    assert math.isnan(m.concordance_) and "concordance nan" in repr(m)
    assert math.isnan(m.concordance(t))


def test_time_split_validation_takes_a_penalizer_for_a_group_nobody_left():
    """Segment 'loyal' orders every month to the end; in 'fickle' half stop after the
    first order. Before the cutoff nobody in 'loyal' has churned, so its hazard ratio is
    0 without a penalty (SeparationError) and finite with penalizer=0.1."""
    from datetime import datetime, timedelta

    from loyaltylab.data.crmdata import CRMData

    ts = pl.Datetime("us")
    start = datetime(2022, 1, 1)
    customers, orders = [], []
    for i in range(60):
        seg = "loyal" if i < 30 else "fickle"
        first = start + timedelta(days=3 * i)
        customers.append((f"C{i}", first, seg))
        months = 36 if seg == "loyal" or i % 2 else 1
        for m in range(months):
            orders.append((f"O{i}-{m}", f"C{i}", first + timedelta(days=30 * m), 10.0))
    data = CRMData(
        customers=pl.DataFrame(customers, schema={"customer_id": pl.String,
                                                  "acquired_at": ts, "segment": pl.String},
                               orient="row"),
        orders=pl.DataFrame(orders, schema={"order_id": pl.String, "customer_id": pl.String,
                                            "ordered_at": ts, "amount": pl.Float64},
                            orient="row"))
    kw = dict(cutoff="2024-06-30", horizon="90d", covariates=["segment"],
              inactivity="180d", as_of="2025-03-31")
    with pytest.raises(SeparationError, match="segment"):
        churn.time_split_validation(data, **kw)
    v = churn.time_split_validation(data, penalizer=0.1, **kw)
    assert v.model.penalizer == 0.1
    auto = churn.time_split_validation(data, penalizer="auto", **kw)
    assert auto.model.penalizer_ == 0.1
    assert isinstance(auto.model.penalty_cause_, SeparationError)
    assert auto.model.params_ == pytest.approx(v.model.params_, rel=1e-9)
    hr = v.model.summary.filter(pl.col("covariate").str.contains("fickle|loyal"))
    assert hr.height == 1
    assert 0 < hr["hazard_ratio"][0] < float("inf")
    # the fickle half that stopped are churned before the cutoff: only active customers
    # are scored, every one of them a probability
    assert v.predictions.height > 0
    assert v.predictions["p_churn"].is_between(0, 1).all()


def test_auto_penalty_only_where_a_group_separates_churners(rossi, rossi_cox):
    """penalizer="auto" is the plain fit when it can be made (R's coxph on Rossi), and the
    fit with penalizer 0.1 when a group has no churner: on Rossi without the arrested
    people who had no work experience, wexp separates (nobody with wexp=0 was arrested)."""
    covs = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    auto = churn.CoxModel(covariates=covs, duration_col="week", event_col="arrest",
                          penalizer="auto").fit(rossi)
    assert (auto.penalizer_, auto.penalty_cause_) == (0.0, None)
    assert auto.params_ == pytest.approx(rossi_cox.params_, rel=1e-12)
    few = rossi.filter((pl.col("arrest") == 0) | (pl.col("wexp") == 1))
    assert few.filter(pl.col("wexp") == 0)["arrest"].sum() == 0
    kw = dict(covariates=["fin", "wexp"], duration_col="week", event_col="arrest")
    with pytest.raises(SeparationError, match="wexp"):
        churn.CoxModel(**kw).fit(few)
    auto = churn.CoxModel(penalizer="auto", **kw).fit(few)
    fixed = churn.CoxModel(penalizer=0.1, **kw).fit(few)
    assert auto.penalizer_ == 0.1 and auto.penalty_cause_.covariate == "wexp"
    assert auto.params_ == pytest.approx(fixed.params_, rel=1e-12)
    assert "penalizer 0.1" in repr(auto) and "penalizer" not in repr(rossi_cox)
    # the rule travels with the model: stratify_failing refits under "auto" as well
    assert churn.CoxModel(penalizer="auto", **kw).penalizer == "auto"
    for bad in ("strong", -0.1, True):
        with pytest.raises(ValueError, match="penalizer"):
            churn.CoxModel(penalizer=bad)
