"""Survey scoring: published reference values, hand computations and bad input."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from hypothesis import given, settings
from hypothesis import strategies as st

import loyaltylab as ll
from loyaltylab.data import schema as S

D0 = datetime(2024, 1, 1)

# ----------------------------------------------------------------- fixtures

PINGOUIN = {  # REFERENCES.md: pingouin's cronbach_alpha documentation example
    "Q1": "3 5 7 2 6 1 4 2 6 5 4 4 5 6 4", "Q2": "2 4 3 4 5 2 3 4 5 4 3 2 5 5 3",
    "Q3": "4 6 5 3 6 3 5 4 5 6 5 3 6 5 5", "Q4": "1 3 5 3 5 4 3 3 5 4 2 2 2 4 5",
    "Q5": "4 5 6 2 4 2 5 7 1 3 5 5 3 2 3", "Q6": "5 1 4 2 4 5 2 2 6 5 3 3 3 2 1",
    "Q7": "1 2 3 2 4 2 1 2 5 3 2 4 2 1 3", "Q8": "4 5 3 6 6 3 2 4 2 1 3 2 4 4 2",
    "Q9": "3 5 6 6 7 5 4 6 3 7 4 3 4 6 3", "Q10": "2 5 5 3 5 2 3 5 2 2 1 4 5 5 4",
}


@pytest.fixture
def pingouin_wide():
    return pl.DataFrame({k: [int(v) for v in s.split()] for k, s in PINGOUIN.items()})


def nps_answers(pro: int, pas: int, det: int) -> list[float]:
    return [10.0] * pro + [7.0] * pas + [2.0] * det


def long_table(rows):
    """rows: (customer_id, survey, item, score) -> canonical long surveys table."""
    return pl.DataFrame(
        {S.CUSTOMER_ID: [r[0] for r in rows], S.SURVEY: [r[1] for r in rows],
         S.ITEM: [r[2] for r in rows], S.SCORE: [r[3] for r in rows],
         S.ANSWERED_AT: [datetime(2024, 1, 1)] * len(rows)},
        schema_overrides={S.ANSWERED_AT: pl.Datetime("us"), S.SCORE: pl.Float64})


# ----------------------------------------------------------------- NPS

def test_nps_worked_example_wald():
    # REFERENCES.md: n = 100, 50 promoters, 20 detractors: NPS 30, SE 7.81, margin 15.31
    r = ll.survey.nps(pl.DataFrame({"score": nps_answers(50, 30, 20)}), ci="wald").row(
        0, named=True)
    assert (r["n"], r["promoters"], r["passives"], r["detractors"]) == (100, 50, 30, 20)
    assert r["nps"] == pytest.approx(30.0)
    assert r["se"] == pytest.approx(7.81, abs=0.005)
    assert (r["ci_high"] - r["ci_low"]) / 2 == pytest.approx(15.31, abs=0.005)
    assert (r["promoters_pct"], r["passives_pct"], r["detractors_pct"]) == pytest.approx(
        (50.0, 30.0, 20.0))


def test_nps_worked_example_adjusted_wald():
    # REFERENCES.md (Rocks 2016): adjusted-Wald centre 29.13, interval [14.05, 44.20]
    r = ll.survey.nps(pl.DataFrame({"score": nps_answers(50, 30, 20)})).row(0, named=True)
    assert r["nps"] == pytest.approx(30.0)          # reported score stays the raw one
    assert (r["ci_low"] + r["ci_high"]) / 2 == pytest.approx(29.13, abs=0.005)
    assert r["ci_low"] == pytest.approx(14.05, abs=0.005)
    assert r["ci_high"] == pytest.approx(44.20, abs=0.005)


def test_nps_bootstrap_is_seeded_and_close_to_wald():
    answers = pl.DataFrame({"score": nps_answers(50, 30, 20)})
    a = ll.survey.nps(answers, ci="bootstrap", seed=1, n_boot=4000).row(0, named=True)
    b = ll.survey.nps(answers, ci="bootstrap", seed=1, n_boot=4000).row(0, named=True)
    assert a == b
    # the multinomial bootstrap SE converges to the Wald SE of 7.81 points
    assert a["se"] == pytest.approx(7.81, abs=0.3)
    assert a["ci_low"] == pytest.approx(30 - 15.31, abs=1.0)


def test_nps_long_table_by_wave_and_item_filter():
    rows = ([(f"c{i}", "w1", "nps", 10.0) for i in range(3)]
            + [("c9", "w1", "nps", 0.0), ("c9", "w1", "csat", 5.0)]
            + [(f"c{i}", "w2", "nps", 8.0) for i in range(2)])
    res = ll.survey.nps(long_table(rows), by=S.SURVEY)
    assert res[S.SURVEY].to_list() == ["w1", "w2"]
    assert res["n"].to_list() == [4, 2]
    assert res["nps"].to_list() == pytest.approx([50.0, 0.0])   # (3 - 1) / 4; 0 / 2


def test_nps_by_customer_attribute_from_crmdata_and_pandas_input():
    surveys = long_table([("a", "w", "nps", 10.0), ("b", "w", "nps", 3.0),
                          ("c", "w", "nps", 9.0)])
    customers = pl.DataFrame({S.CUSTOMER_ID: ["a", "b", "c"], S.SEGMENT: ["x", "x", "y"]})
    res = ll.survey.nps(surveys.to_pandas(), by=S.SEGMENT, customers=customers)
    assert res.select(S.SEGMENT, "nps").rows() == [("x", 0.0), ("y", 100.0)]


def test_nps_empty_enum_group_gives_documented_zero_row():
    seg = pl.Enum(["a", "b", "c"])
    answers = pl.DataFrame({"score": [10.0, 3.0], "segment": ["a", "a"]},
                           schema_overrides={"segment": seg})
    res = ll.survey.nps(answers, by="segment")
    assert res["segment"].to_list() == ["a", "b", "c"]
    assert res["n"].to_list() == [2, 0, 0]
    assert res["nps"].to_list() == [0.0, None, None]


def test_nps_post_stratification_hand_computed():
    # segment A: 10 answers, 8 promoters, 0 detractors; B: 10 answers, 0 promoters,
    # 5 detractors. Population 20 % A / 80 % B:
    #   p_pro = .2*.8 + .8*0 = .16; p_det = .2*0 + .8*.5 = .40 -> NPS = -24
    #   var_A = .8 - .64 = .16; var_B = .5 - .25 = .25
    #   SE = 100 * sqrt(.04*.16/10 + .64*.25/10) = 100 * sqrt(.01664) = 12.8996
    answers = pl.DataFrame({
        "score": [10.0] * 8 + [7.0] * 2 + [8.0] * 5 + [1.0] * 5,
        "segment": ["A"] * 10 + ["B"] * 10})
    r = ll.survey.nps(answers, ci="wald", weights={"segment": {"A": 0.2, "B": 0.8}}).row(
        0, named=True)
    assert r["nps"] == pytest.approx(-24.0)
    assert r["promoters_pct"] == pytest.approx(16.0)
    assert r["se"] == pytest.approx(100 * math.sqrt(0.01664), rel=1e-9)
    assert r["n"] == 20
    # population counts instead of shares give the same answer
    r2 = ll.survey.nps(answers, ci="wald", weights={"segment": {"A": 200, "B": 800}}).row(
        0, named=True)
    assert r2["nps"] == pytest.approx(-24.0)


def test_empty_input_gives_zero_row_and_weights_from_customers():
    empty = long_table([]).filter(pl.col(S.ITEM) == "nps")
    res = ll.survey.nps(empty)
    assert res["n"].to_list() == [0] and res["nps"][0] is None
    surveys = long_table([("a", "w", "nps", 10.0), ("b", "w", "nps", 0.0),
                          ("c", "w", "nps", 0.0)])
    customers = pl.DataFrame({S.CUSTOMER_ID: ["a", "b", "c"], S.ACQUIRED_AT: [D0] * 3,
                              S.SEGMENT: ["x", "y", "y"]},
                             schema_overrides={S.ACQUIRED_AT: pl.Datetime("us")})
    data = ll.CRMData(customers=customers, orders=pl.DataFrame(), surveys=surveys)
    # segment x (NPS +100) and y (NPS -100) weighted 50/50 -> 0
    r = ll.survey.nps(data, weights={S.SEGMENT: {"x": 1, "y": 1}}).row(0, named=True)
    assert r["nps"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="weights are not supported"):
        ll.survey.compare_scores(surveys, groups=("w", "w"), weights={S.SEGMENT: {"x": 1}})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-2, 12).map(float)), max_size=40))
def test_nps_any_input_scores_or_raises_clearly(scores):
    answers = pl.DataFrame({"score": scores}, schema={"score": pl.Float64})
    bad = [i for i, s in enumerate(scores) if s is not None and not 0 <= s <= 10]
    if bad:
        with pytest.raises(ValueError, match=f"{len(bad)} answers lie outside"):
            ll.survey.nps(answers)
        return
    r = ll.survey.nps(answers).row(0, named=True)
    answered = sum(s is not None for s in scores)
    assert r["n"] == answered                              # no answer lost unreported
    assert r["promoters"] + r["passives"] + r["detractors"] == answered
    if answered:
        assert -100 <= r["ci_low"] <= r["ci_high"] <= 100
        assert -100 <= r["nps"] <= 100


def test_weights_not_covering_groups_raise_naming_them():
    answers = pl.DataFrame({"score": [10.0, 3.0, 8.0], "segment": ["A", "B", "C"]})
    with pytest.raises(ValueError, match=r"no population share for the groups \['B', 'C'\]"):
        ll.survey.nps(answers, weights={"segment": {"A": 1.0}})
    with pytest.raises(ValueError, match=r"the groups \['D'\] have no answers"):
        ll.survey.nps(answers, weights={"segment": {"A": 1, "B": 1, "C": 1, "D": 1}})
    with pytest.raises(ValueError, match="shares must be positive"):
        ll.survey.csat(pl.DataFrame({"score": [5.0], "segment": ["A"]}),
                       weights={"segment": {"A": -1}})
    with pytest.raises(TypeError, match="expected \\{column"):
        ll.survey.nps(answers, weights={"segment": {"A": 1}, "kind": {"x": 1}})


def test_score_outside_scale_names_survey_item_rows_values():
    surveys = long_table([("a", "w1", "nps", 10.0), ("b", "w1", "nps", 11.0),
                          ("c", "w1", "csat", 9.0), ("d", "w1", "nps", 7.5)])
    with pytest.raises(ValueError, match=r"survey 'w1', item 'nps': 2 answers lie outside "
                                         r"the whole-number 0-10 scale \(rows 1, 3; values "
                                         r"11.0, 7.5\)"):
        ll.survey.nps(surveys)
    with pytest.raises(ValueError, match=r"item 'csat'.*rows 2; values 9.0"):
        ll.survey.csat(surveys)


def test_unknown_item_and_missing_column_errors():
    surveys = long_table([("a", "w1", "nps", 10.0)])
    with pytest.raises(ValueError, match=r"no answers to item 'ces'; items present: \['nps'\]"):
        ll.survey.ces(surveys)
    with pytest.raises(ValueError, match="no column 'score'"):
        ll.survey.nps(pl.DataFrame({"ltr": [9.0]}))
    with pytest.raises(ValueError, match="ci: expected one of"):
        ll.survey.nps(pl.DataFrame({"score": [9.0]}), ci="exact")


def test_unknown_customers_are_reported_not_dropped():
    surveys = long_table([("a", "w", "nps", 10.0), ("zz", "w", "nps", 0.0)])
    customers = pl.DataFrame({S.CUSTOMER_ID: ["a"], S.SEGMENT: ["x"]})
    with pytest.warns(UserWarning, match=r"1 answers \(rows 1\) come from 1 customer_id\(s\) "
                                         r"not in the customers table \(first: 'zz'\)"):
        res = ll.survey.nps(surveys, customers=customers)
    assert res["n"][0] == 2           # kept in the score
    assert res["nps"][0] == 0.0


def test_text_answers_mapped_and_unknown_text_named():
    answers = pl.DataFrame({"survey": ["w"] * 4, "score": ["ten", "Zehn", " 3 ", "nine"]})
    res = ll.survey.nps(answers, item=None, mapping={"ten": 10, "zehn": 10, "nine": 9})
    assert res["promoters"][0] == 3 and res["detractors"][0] == 1
    with pytest.raises(ValueError, match=r"survey 'w', item 'score': 1 text answers are not "
                                         r"in the mapping \(rows 3; values 'nine'\)"):
        ll.survey.nps(answers, item=None, mapping={"ten": 10, "zehn": 10})


# ----------------------------------------------------------------- CSAT and CES

def test_csat_reference_74_of_107():
    # REFERENCES.md: 74 of 107 answering 4 or 5 -> 69.16
    answers = pl.DataFrame({"score": [5.0] * 40 + [4.0] * 34 + [3.0] * 13 + [1.0] * 20})
    r = ll.survey.csat(answers).row(0, named=True)
    assert (r["n"], r["satisfied"]) == (107, 74)
    assert r["csat"] == pytest.approx(69.16, abs=0.005)
    lo, hi = ll._stats.wilson_interval(74, 107)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    # mean with a t interval, computed by hand
    x = np.array([5.0] * 40 + [4.0] * 34 + [3.0] * 13 + [1.0] * 20)
    half = stats.t.ppf(0.975, 106) * x.std(ddof=1) / math.sqrt(107)
    assert r["mean"] == pytest.approx(x.mean())
    assert r["mean_ci_high"] - r["mean"] == pytest.approx(half)


def test_csat_post_stratified_hand_computed():
    # A: 8 of 10 satisfied, B: 2 of 10; population 25 % A / 75 % B
    #   p = .25*.8 + .75*.2 = .35; var = .0625*.16/10 + .5625*.16/10 = .0010 + .0090 = .01
    #   Kish effective n = .35*.65/.01 = 22.75 -> Wilson(.35 * 22.75, 22.75)
    answers = pl.DataFrame({"score": [5.0] * 8 + [1.0] * 2 + [4.0] * 2 + [2.0] * 8,
                            "segment": ["A"] * 10 + ["B"] * 10})
    r = ll.survey.csat(answers, weights={"segment": {"A": 1, "B": 3}}).row(0, named=True)
    assert r["csat"] == pytest.approx(35.0)
    assert r["se"] == pytest.approx(10.0)
    lo, hi = ll._stats.wilson_interval(0.35 * 22.75, 22.75)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    assert r["satisfied"] == 10 and r["n"] == 20         # counts stay raw


def test_to_wide_reports_long_table_rows():
    rows = [("a", "w1", "q1", "4"), ("a", "w1", "q2", "7"), ("b", "w1", "q1", "agree")]
    long = pl.DataFrame({S.CUSTOMER_ID: [r[0] for r in rows], S.SURVEY: [r[1] for r in rows],
                         S.ITEM: [r[2] for r in rows], S.SCORE: [r[3] for r in rows]})
    wide = ll.survey.to_wide(long, mapping=ll.survey.AGREE_5)
    assert wide.select(S.CUSTOMER_ID, "q1", "q2").rows() == [("a", 4.0, 7.0), ("b", 4.0, None)]
    with pytest.raises(ValueError, match=r"survey 'w1', item 'q2': 1 answers lie outside the "
                                         r"1-5 scale \(rows 1; values 7.0\)"):
        ll.survey.to_wide(long, mapping=ll.survey.AGREE_5, scale=(1, 5))


def test_csat_configurable_scale_and_top_box():
    answers = pl.DataFrame({"score": [7.0, 6, 5, 4, 1, 7, 2]})
    r = ll.survey.csat(answers, scale=(1, 7), top_box=2).row(0, named=True)
    assert r["satisfied"] == 3        # 6 and 7 are the top two boxes of 1-7
    with pytest.raises(ValueError, match="top_box"):
        ll.survey.csat(answers, scale=(1, 7), top_box=7)


def test_ces_mean_and_agree_share():
    x = [7.0, 6, 5, 5, 3, 2, 6, 4, 1, 7]
    r = ll.survey.ces(pl.DataFrame({"score": x})).row(0, named=True)
    assert r["agree"] == 6 and r["agree_pct"] == pytest.approx(60.0)
    lo, hi = ll._stats.wilson_interval(6, 10)
    assert r["agree_ci_low"] == pytest.approx(100 * lo)
    assert r["mean"] == pytest.approx(4.6)
    half = stats.t.ppf(0.975, 9) * np.std(x, ddof=1) / math.sqrt(10)
    assert r["mean_ci_low"] == pytest.approx(4.6 - half)
    with pytest.raises(ValueError, match=r"outside the whole-number 1-7 scale"):
        ll.survey.ces(pl.DataFrame({"score": [8.0]}))


# ----------------------------------------------------------------- Likert and alpha

def test_cronbach_alpha_pingouin_reference(pingouin_wide):
    # REFERENCES.md: alpha = 0.5917, Feldt 95 % interval [0.195, 0.840]
    r = ll.survey.cronbach_alpha(pingouin_wide, items=list(PINGOUIN)).row(0, named=True)
    assert (r["n"], r["k"]) == (15, 10)
    assert r["alpha"] == pytest.approx(0.5917, abs=5e-5)
    assert r["ci_low"] == pytest.approx(0.195, abs=5e-4)
    assert r["ci_high"] == pytest.approx(0.840, abs=5e-4)


def test_item_analysis_hand_computed(pingouin_wide):
    items = list(PINGOUIN)
    res = ll.survey.item_analysis(pingouin_wide, items=items)
    x = pingouin_wide.to_numpy().astype(float)
    # alpha without Q5, from the covariance matrix (a different route from the library's)
    sub = np.delete(x, 4, axis=1)
    c = np.cov(sub, rowvar=False)
    k = sub.shape[1]
    alpha_wo_q5 = k / (k - 1) * (1 - np.trace(c) / c.sum())
    row = res.filter(pl.col("item") == "Q5").row(0, named=True)
    assert row["alpha_if_deleted"] == pytest.approx(alpha_wo_q5)
    assert row["alpha_if_deleted"] > 0.5917           # Q5 weakens the scale
    rest = x.sum(axis=1) - x[:, 4]
    assert row["item_rest_r"] == pytest.approx(stats.pearsonr(x[:, 4], rest)[0])


def test_cronbach_alpha_from_long_table_with_reverse_item():
    rows = []
    rng = np.random.default_rng(3)
    for i in range(60):
        t = rng.integers(1, 6)
        for q in ("q1", "q2", "q3"):
            rows.append((f"c{i}", "w", q, float(np.clip(t + rng.integers(-1, 2), 1, 5))))
        rows.append((f"c{i}", "w", "q4", float(6 - t)))        # reverse-coded
    long = long_table(rows)
    with_rev = ll.survey.cronbach_alpha(long, items=["q1", "q2", "q3", "q4"],
                                        reverse=["q4"], scale=(1, 5))["alpha"][0]
    without = ll.survey.cronbach_alpha(long, items=["q1", "q2", "q3", "q4"])["alpha"][0]
    assert with_rev > 0.8 > without
    with pytest.raises(ValueError, match="pass scale="):
        ll.survey.cronbach_alpha(long, items=["q1", "q2"], reverse=["q2"])


def test_likert_scale_reverse_missing_rule_and_languages():
    wide = pl.DataFrame({
        "id": [1, 2, 3],
        "q1": ["Strongly agree", "Stimme zu", None],
        "q2": ["agree", None, None],
        "q3": ["Disagree", "Tout à fait d'accord", "d'accord"],
        "q4": ["totalmente de acuerdo", "neutral", None]})
    res = ll.survey.likert_scale(wide, items=["q1", "q2", "q3", "q4"], reverse=["q3"],
                                 mapping=ll.survey.AGREE_5)
    # row 1: 5, 4, 6-2=4, 5 -> 4.5; row 2: 4, -, 6-5=1, 3 -> 8/3 (3 of 4 answered);
    # row 3: only q3 answered (1 of 4 < half rule of 2) -> null
    assert res["score"].to_list()[:2] == pytest.approx([4.5, 8 / 3])
    assert res["score"][2] is None
    assert res["n_answered"].to_list() == [4, 3, 1]
    assert res["id"].to_list() == [1, 2, 3]
    summed = ll.survey.likert_scale(wide, items=["q1", "q2", "q3", "q4"], reverse=["q3"],
                                    mapping=ll.survey.AGREE_5, method="sum")
    assert summed["score"][1] == pytest.approx(4 * 8 / 3)      # prorated to 4 items


def test_likert_summary_by_group_hand_computed():
    wide = pl.DataFrame({"team": ["a", "a", "b", "b"], "q1": [5, 4, 2, 4], "q2": [4, 4, 1, 5],
                         "q3": [1, 2, 5, 2]})
    res = ll.survey.likert_summary(wide, items=["q1", "q2", "q3"], reverse=["q3"], by="team")
    # composites: a: (5+4+5)/3, (4+4+4)/3 ; b: (2+1+1)/3, (4+5+4)/3
    comp_a = np.array([14 / 3, 4.0])
    comp_b = np.array([4 / 3, 13 / 3])
    a, b = res.row(0, named=True), res.row(1, named=True)
    assert (a["team"], a["n"], b["n"]) == ("a", 2, 2)
    assert a["mean"] == pytest.approx(comp_a.mean())
    assert b["mean_se"] == pytest.approx(comp_b.std(ddof=1) / math.sqrt(2))
    assert (a["agree"], b["agree"]) == (2, 1)          # composite >= 4 on 1-5


def test_likert_unknown_text_answer_names_survey_item_rows_values():
    rows = [("a", "w1", "q1", "agree"), ("a", "w1", "q2", "sehr gut"),
            ("b", "w1", "q1", "agree"), ("b", "w1", "q2", "toll")]
    long = pl.DataFrame({S.CUSTOMER_ID: [r[0] for r in rows], S.SURVEY: [r[1] for r in rows],
                         S.ITEM: [r[2] for r in rows], S.SCORE: [r[3] for r in rows]})
    with pytest.raises(ValueError, match=r"survey 'w1', item 'q2': 2 text answers are not in "
                                         r"the mapping \(rows 1, 3; values 'sehr gut', "
                                         r"'toll'\)"):
        ll.survey.likert_scale(long, items=["q1", "q2"], mapping=ll.survey.AGREE_5)


def test_likert_distribution_shares():
    long = long_table([("a", "w", "q1", 1.0), ("b", "w", "q1", 5.0), ("c", "w", "q1", 5.0),
                       ("d", "w", "q1", 4.0)])
    d = ll.survey.likert_distribution(long, items=["q1"], labels=list("ABCDE"))
    assert d["pct"].to_list() == [25.0, 0.0, 0.0, 25.0, 50.0]
    assert d["label"].to_list() == list("ABCDE")


# ----------------------------------------------------------------- comparisons, planning

def test_compare_nps_adjusted_wald_hand_computed():
    # MeasuringU adjusted-Wald difference: each group +3/4 promoters, +3/4 detractors, +3 n
    answers = pl.DataFrame({"survey": ["a"] * 100 + ["b"] * 100,
                            "score": nps_answers(40, 30, 30) + nps_answers(50, 30, 20)})
    r = ll.survey.compare_scores(answers, groups=("a", "b")).row(0, named=True)

    def adj(p, d, n):
        pp, pd = (p + .75) / (n + 3), (d + .75) / (n + 3)
        return pp - pd, (pp + pd - (pp - pd) ** 2) / (n + 3)
    ca, va = adj(40, 30, 100)
    cb, vb = adj(50, 20, 100)
    z = (cb - ca) / math.sqrt(va + vb)
    assert r["difference"] == pytest.approx(20.0)
    assert r["z"] == pytest.approx(z)
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(z))
    assert r["p_value"] > 0.05          # a 20-point rise on 100 answers each: not proven


def test_compare_csat_newcombe_matches_statsmodels():
    answers = pl.DataFrame({"survey": ["a"] * 107 + ["b"] * 90,
                            "score": [5.0] * 74 + [2.0] * 33 + [4.0] * 70 + [1.0] * 20})
    r = ll.survey.compare_scores(answers, metric="csat", groups=("a", "b")).row(0, named=True)
    lo, hi = confint_proportions_2indep(70, 90, 74, 107, method="newcomb", compare="diff")
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((100 * lo, 100 * hi), abs=1e-9)
    z, p = ll._stats.two_proportion_test(70, 90, 74, 107)
    assert r["p_value"] == pytest.approx(p)


def test_compare_defaults_to_last_two_waves_and_trend():
    rows = []
    for w, (day, scores) in {"w2": (2, [10.0, 10, 3]), "w1": (1, [3.0, 3, 10]),
                             "w3": (3, [10.0, 9, 9])}.items():
        for i, s in enumerate(scores):
            rows.append({S.CUSTOMER_ID: f"{w}{i}", S.SURVEY: w, S.ITEM: "nps", S.SCORE: s,
                         S.ANSWERED_AT: datetime(2024, day, 1)})
    long = pl.DataFrame(rows)
    r = ll.survey.compare_scores(long).row(0, named=True)
    assert (r["group_a"], r["group_b"]) == ("w2", "w3")
    tr = ll.survey.score_trend(long)
    assert tr[S.SURVEY].to_list() == ["w1", "w2", "w3"]      # time order, not name order
    assert tr["score"].to_list() == pytest.approx([-100 / 3, 100 / 3, 100.0])
    assert tr["change"][0] is None
    assert tr["change"][1] == pytest.approx(200 / 3)
    with pytest.raises(ValueError, match="has no answers"):
        ll.survey.compare_scores(long, groups=("w1", "w9"))
    # groups from a customer attribute, default order = earliest answer first
    customers = pl.DataFrame({S.CUSTOMER_ID: long[S.CUSTOMER_ID].to_list(),
                              S.SEGMENT: ["s" if c.startswith("w1") else "t"
                                          for c in long[S.CUSTOMER_ID].to_list()]})
    r = ll.survey.compare_scores(long, between=S.SEGMENT, customers=customers).row(0, named=True)
    assert (r["group_a"], r["group_b"], r["n_a"], r["n_b"]) == ("s", "t", 3, 6)


def test_margin_and_sample_size_hand_computed():
    z = stats.norm.ppf(0.975)
    # REFERENCES.md worked example: 50 % promoters, 20 % detractors, n = 100 -> +-15.31
    m = ll.survey.margin_of_error(100, p_promoters=0.5, p_detractors=0.2)["margin"][0]
    assert m == pytest.approx(15.31, abs=0.005)
    # worst case NPS variance is 1: n = (1.96 * 100 / 5)^2 = 1536.6 -> 1537
    assert ll.survey.sample_size(5)["n"][0] == math.ceil((z * 100 / 5) ** 2)
    # the same shares as the worked example need n = .61 * (196/5)^2 = 937.4 -> 938
    assert ll.survey.sample_size(5, p_promoters=0.5, p_detractors=0.2)["n"][0] == 938
    # CSAT +-5 points worst case: 384.1 -> 385; finite population 2,000 -> 322.2 -> 323
    assert ll.survey.sample_size(5, metric="csat")["n"][0] == 385
    n0 = 0.25 * (z * 100 / 5) ** 2
    assert ll.survey.sample_size(5, metric="csat", population=2000)["n"][0] == math.ceil(
        n0 / (1 + (n0 - 1) / 2000))
    assert ll.survey.sample_size(5, metric="csat", response_rate=0.1)["invitations"][0] == 3850
    with pytest.raises(ValueError, match="margin: must be positive"):
        ll.survey.sample_size(0)
    with pytest.raises(ValueError, match="p_promoters \\+ p_detractors"):
        ll.survey.margin_of_error(100, p_promoters=0.7, p_detractors=0.6)


# ----------------------------------------------------------------- quality

def test_response_quality_flags_and_nonresponse():
    rows = [("a", "w", q, 3.0) for q in ("q1", "q2", "q3", "nps")]
    rows += [("b", "w", q, s) for q, s in zip(("q1", "q2", "q3", "nps"), (1.0, 4, 5, 9))]
    rows += [("c", "w", "q1", 2.0), ("c", "w", "q2", 4.0)]
    long = long_table(rows).with_columns(
        pl.when(pl.col(S.CUSTOMER_ID) == "c").then(20.0).otherwise(200.0)
        .alias(S.RESPONSE_SECONDS))
    q = ll.survey.response_quality(long).sort(S.CUSTOMER_ID)
    assert q["straight_lined"].to_list() == [True, False, None]
    assert q["speeding"].to_list() == [False, False, True]   # 20 s < 0.4 x median 200 s
    assert q["nonresponse_pct"].to_list() == pytest.approx([0.0, 0.0, 50.0])
    assert q["flagged"].to_list() == [True, False, True]
    nr = ll.survey.item_nonresponse(long).filter(pl.col(S.ITEM) == "q3")
    assert nr["nonresponse_pct"][0] == pytest.approx(100 / 3)
    assert ll.survey.drop_flagged(long)[S.CUSTOMER_ID].unique().to_list() == ["b"]


def test_survey_length_warns_for_long_surveys():
    long = long_table([("a", "long", f"q{i}", 3.0) for i in range(14)]
                      + [("a", "short", "nps", 9.0)])
    with pytest.warns(UserWarning, match=r"surveys \['long'\] ask more than 10 items"):
        res = ll.survey.survey_length(long)
    assert res.select(S.SURVEY, "n_items", "too_long").rows() == [
        ("long", 14, True), ("short", 1, False)]


# ----------------------------------------------------------------- drivers

def test_relative_weights_orthogonal_predictors_equal_squared_correlations():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(400, 3))
    X = np.linalg.qr(X - X.mean(0))[0] * 20        # exactly uncorrelated columns
    y = X @ np.array([3.0, 1.0, 0.0]) + rng.normal(size=400)
    raw, r2 = ll.survey.relative_weights(X, y)
    r = np.array([np.corrcoef(X[:, j], y)[0, 1] for j in range(3)])
    assert raw == pytest.approx(r**2)
    assert raw.sum() == pytest.approx(r2)


def test_relative_weights_sum_to_r2_with_correlated_items():
    rng = np.random.default_rng(5)
    a = rng.normal(size=500)
    b = 0.8 * a + 0.6 * rng.normal(size=500)
    c = rng.normal(size=500)
    y = a + 0.5 * c + rng.normal(size=500)
    df = pl.DataFrame({"a": a, "b": b, "c": c, "y": y})
    res = ll.survey.drivers(df, target="y", predictors=["a", "b", "c"])
    ols_r2 = 1 - np.var(y - np.c_[np.ones(500), a, b, c] @ np.linalg.lstsq(
        np.c_[np.ones(500), a, b, c], y, rcond=None)[0]) / np.var(y)
    assert res["relative_weight"].sum() == pytest.approx(ols_r2)
    assert res["weight_pct"].sum() == pytest.approx(100.0)
    assert res["item"][0] == "a"
    with pytest.raises(ValueError, match=r"columns \['zz'\] not found"):
        ll.survey.drivers(df, target="y", predictors=["zz"])
