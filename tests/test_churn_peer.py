"""CoxModel and survival-table input checked against lifelines itself and R's coxph
(issue 19: conditional/unconditional churn probability, lifelines-style inputs, case
weights, robust standard errors, the likelihood-ratio test)."""

import numpy as np
import polars as pl
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.datasets import load_rossi

from loyaltylab.churn import CoxModel, KaplanMeier

COVS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


@pytest.fixture(scope="module")
def rossi():
    return pl.from_pandas(load_rossi())


@pytest.fixture(scope="module")
def cox(rossi):
    return CoxModel(covariates=COVS, duration_col="week", event_col="arrest").fit(rossi)


@pytest.fixture(scope="module")
def peer():
    return CoxPHFitter().fit(load_rossi(), duration_col="week", event_col="arrest")


def test_churn_probability_from_start_matches_lifelines(cox, peer, rossi):
    # 1 - S(20 | x) from lifelines, without conditioning: 0.09709 for the first man (the old
    # code passed conditional_after=0, dropping the first event time: 0.09493)
    got = cox.predict_churn_probability(rossi.head(5), horizon=20, after=None).to_numpy()
    want = 1 - peer.predict_survival_function(load_rossi().head(5), times=[20]).to_numpy()
    np.testing.assert_allclose(got, want.ravel(), rtol=1e-9)
    assert round(got[0], 5) == 0.09709


def test_churn_probability_default_after_uses_the_models_duration_column(cox, peer, rossi):
    # the duration column is "week", not "duration": the default conditions on it
    tab = rossi.head(6).with_columns(pl.col("week") // 2)
    got = cox.predict_churn_probability(tab, horizon=10).to_numpy()
    want = 1 - peer.predict_survival_function(tab.to_pandas(), times=[10],
                                              conditional_after=tab["week"].to_numpy())
    np.testing.assert_allclose(got, want.to_numpy().ravel(), rtol=1e-9)


def test_churn_probability_missing_after_column_says_what_to_pass(cox, rossi):
    with pytest.raises(ValueError, match=r"no column 'tenure' for after=.*after=None"):
        cox.predict_churn_probability(rossi.head(2), after="tenure")


def test_boolean_events_as_lifelines_ships_them(rossi):
    as_bool = rossi.with_columns(pl.col("arrest").cast(pl.Boolean))
    m_bool = CoxModel(covariates=COVS, duration_col="week", event_col="arrest").fit(as_bool)
    m_int = CoxModel(covariates=COVS, duration_col="week", event_col="arrest").fit(rossi)
    assert m_bool.params_ == pytest.approx(m_int.params_, rel=1e-12)
    km = KaplanMeier(duration_col="week", event_col="arrest").fit(as_bool)
    peer = KaplanMeierFitter().fit(load_rossi()["week"], load_rossi()["arrest"].astype(bool))
    assert repr(km) == "KaplanMeier: fitted on 432 customers, 318 censored"
    assert float(peer.survival_function_.iloc[-1, 0]) == pytest.approx(0.73611, abs=1e-5)


def test_text_events_and_numeric_text_durations_are_read(rossi):
    txt = rossi.with_columns(pl.col("arrest").cast(pl.Boolean).cast(pl.String),
                             pl.col("week").cast(pl.String))
    m = CoxModel(covariates=["fin", "prio"], duration_col="week", event_col="arrest").fit(txt)
    ref = CoxModel(covariates=["fin", "prio"], duration_col="week", event_col="arrest").fit(rossi)
    assert m.params_ == pytest.approx(ref.params_, rel=1e-12)


def test_dates_as_durations_say_what_to_pass():
    t = pl.DataFrame({"duration": ["2024-01-01", "2024-02-01"], "event": [1, 0], "x": [1, 2]})
    with pytest.raises(TypeError, match=r"table\.duration: 2 rows are text that is not a "
                                        r"number.*subtract the start date"):
        KaplanMeier().fit(t)
    t2 = t.with_columns(pl.col("duration").str.to_date())
    with pytest.raises(TypeError, match=r"table\.duration: got dates \(Date\)"):
        KaplanMeier().fit(t2)
    t3 = pl.DataFrame({"duration": [1.0, 2.0], "event": ["yes", "no"]})
    with pytest.raises(TypeError, match=r"table\.event: 2 rows are text other than 0/1"):
        KaplanMeier().fit(t3)


def test_log_likelihood_and_lr_test_match_r(cox):
    # R: summary(coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
    # data = Rossi)): loglik -675.38 (null), -658.75; "Likelihood ratio test= 33.27 on
    # 7 df, p=2.4e-05" (Fox & Weisberg, Cox regression appendix)
    assert cox.log_likelihood_ == pytest.approx(-658.75, abs=0.01)
    lr = cox.log_likelihood_ratio_test()
    assert lr.columns == ["test_statistic", "degrees_of_freedom", "p_value",
                          "log_likelihood", "log_likelihood_null"]
    row = lr.row(0, named=True)
    assert row["test_statistic"] == pytest.approx(33.27, abs=0.01)
    assert row["degrees_of_freedom"] == 7
    assert row["p_value"] == pytest.approx(2.36e-5, rel=0.02)
    assert row["log_likelihood_null"] == pytest.approx(-675.38, abs=0.01)


def test_robust_standard_errors_match_lifelines(rossi):
    m = CoxModel(covariates=COVS, duration_col="week", event_col="arrest",
                 robust=True).fit(rossi)
    peer = CoxPHFitter().fit(load_rossi(), duration_col="week", event_col="arrest",
                             robust=True)
    got = dict(zip(m.summary["covariate"], m.summary["se"]))
    for k, v in peer.standard_errors_.items():
        assert got[k] == pytest.approx(v, rel=1e-9)
    plain = CoxModel(covariates=COVS, duration_col="week", event_col="arrest").fit(rossi)
    assert dict(zip(plain.summary["covariate"], plain.summary["se"]))["fin"] != got["fin"]


def test_case_weights_match_lifelines(rossi):
    rng = np.random.default_rng(3)
    w = rng.integers(1, 4, rossi.height)
    tab = rossi.with_columns(pl.Series("w", w))
    m = CoxModel(covariates=["fin", "age", "prio"], duration_col="week", event_col="arrest",
                 weights_col="w").fit(tab)
    peer = CoxPHFitter().fit(tab.select("week", "arrest", "fin", "age", "prio", "w")
                             .to_pandas(), duration_col="week", event_col="arrest",
                             weights_col="w")
    assert m.params_ == pytest.approx(peer.params_.to_dict(), rel=1e-8)
    # and the weights change the fit (against the unweighted one)
    plain = CoxModel(covariates=["fin", "age", "prio"], duration_col="week",
                     event_col="arrest").fit(rossi)
    assert abs(plain.params_["fin"] - m.params_["fin"]) > 1e-3


def test_case_weights_must_be_positive(rossi):
    tab = rossi.with_columns(pl.Series("w", [0.0] + [1.0] * (rossi.height - 1)))
    with pytest.raises(ValueError, match=r"table\.w: 1 rows have a missing, zero or negative "
                                         r"weight \(first at row 0\)"):
        CoxModel(covariates=["fin"], duration_col="week", event_col="arrest",
                 weights_col="w").fit(tab)
    with pytest.raises(ValueError, match=r"no column 'ww' for weights_col"):
        CoxModel(covariates=["fin"], duration_col="week", event_col="arrest",
                 weights_col="ww").fit(tab)


# ------------------------------------------------------------------ delayed entry
def _left_truncated(n=8000, seed=1):
    """Customers acquired over four years before a one-year extract; only those still
    active when the extract starts are in it. True hazard 1/700 per day x exp(0.5 x)."""
    rng = np.random.default_rng(seed)
    acq = rng.uniform(-1500, 365, n)
    x = rng.integers(0, 2, n)
    life = rng.exponential(700 / np.exp(0.5 * x))
    keep = acq + life > 0
    truth = {t: float(np.mean(np.exp(-t / 700 * np.exp(0.5 * x)))) for t in (365, 730)}
    table = pl.DataFrame({"duration": np.minimum(life, 365 - acq)[keep],
                          "event": (life <= 365 - acq)[keep].astype(int),
                          "entry": np.maximum(0, -acq)[keep], "x": x[keep]})
    return table, truth


def test_delayed_entry_recovers_retention_and_matches_lifelines():
    t, truth = _left_truncated()
    km = KaplanMeier(entry_col="entry").fit(t)
    naive = KaplanMeier().fit(t)
    got = dict(zip(*km.survival_at([365, 730]).select("timeline", "survival")))
    bad = dict(zip(*naive.survival_at([365, 730]).select("timeline", "survival")))
    for day in (365, 730):
        assert got[day] == pytest.approx(truth[day], abs=0.03)
        assert bad[day] > truth[day] + 0.15  # ignoring the late entry overstates retention
    peer = KaplanMeierFitter().fit(t["duration"].to_numpy(), t["event"].to_numpy(),
                                   entry=t["entry"].to_numpy())
    np.testing.assert_allclose(km.curves_["survival"].to_numpy(),
                               peer.survival_function_.iloc[:, 0].to_numpy(), rtol=1e-12)
    # at risk at day 365: observed by then (entered at or before) and lasting that long
    d, e = t["duration"].to_numpy(), t["entry"].to_numpy()
    assert km.at_risk_table([365.0])["at_risk"].item() == int(((d >= 365) & (e <= 365)).sum())
    cox = CoxModel(covariates=["x"], entry_col="entry").fit(t)
    cox_naive = CoxModel(covariates=["x"]).fit(t)
    ref = CoxPHFitter().fit(t.to_pandas(), duration_col="duration", event_col="event",
                            entry_col="entry")
    assert cox.params_["x"] == pytest.approx(float(ref.params_["x"]), rel=1e-8)
    assert abs(cox.params_["x"] - 0.5) < 0.1 < abs(cox_naive.params_["x"] - 0.5)


def test_delayed_entry_errors():
    t = pl.DataFrame({"duration": [5.0, 8.0, 3.0], "event": [1, 0, 1],
                      "entry": [0.0, 9.0, 1.0]})
    with pytest.raises(ValueError, match=r"table\.entry: 1 rows are later than duration "
                                         r"\(first at rows 1\)"):
        KaplanMeier(entry_col="entry").fit(t)
    with pytest.raises(ValueError, match=r"table\.entry: 1 rows are negative"):
        KaplanMeier(entry_col="entry").fit(t.with_columns(pl.Series("entry", [0.0, -1, 0])))
    with pytest.raises(ValueError, match=r"no column 'start_age' for entry_col"):
        KaplanMeier(entry_col="start_age").fit(t)


def test_time_varying_cox_log_likelihood_and_lr_test_match_lifelines():
    from lifelines import CoxTimeVaryingFitter

    from loyaltylab.churn import TimeVaryingCox

    rng = np.random.default_rng(2)
    rows = []
    for i in range(300):
        switch = rng.uniform(0, 10)
        end = rng.exponential(8.0)
        ev = int(end < 12)
        end = min(end, 12.0)
        if end > switch:
            rows += [(str(i), 0.0, switch, 0, 0),
                     (str(i), switch, end, ev, 1)]
        else:
            rows.append((str(i), 0.0, end, ev, 0))
    ep = pl.DataFrame(rows, schema=["customer_id", "start", "stop", "event", "manager_left"],
                      orient="row")
    tv = TimeVaryingCox(covariates=["manager_left"]).fit(ep)
    peer = CoxTimeVaryingFitter().fit(ep.to_pandas(), id_col="customer_id",
                                      event_col="event", start_col="start", stop_col="stop")
    assert tv.log_likelihood_ == pytest.approx(float(peer.log_likelihood_), rel=1e-10)
    lr = tv.log_likelihood_ratio_test().row(0, named=True)
    ref = peer.log_likelihood_ratio_test()
    assert lr["test_statistic"] == pytest.approx(float(ref.test_statistic), rel=1e-10)
    assert lr["p_value"] == pytest.approx(float(ref.p_value), rel=1e-8)
    assert lr["degrees_of_freedom"] == 1
