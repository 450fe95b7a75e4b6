"""The executive summary's rules (loyaltylab._summary) and the number formats a client reads
(loyaltylab.report._locale, loyaltylab.report._present), each on hand-computed inputs: a
rule fires or stays silent as its condition says, and its sentence carries the numbers."""

from __future__ import annotations

import re
from datetime import date, datetime

import polars as pl
import pytest

from loyaltylab import _summary as R
from loyaltylab.report import Finding, Report
from loyaltylab.report._locale import Formats, check_locale
from loyaltylab.report._present import client_note, plain_words, reader_text, table_columns

EN = Formats("en")


# ------------------------------------------------------------------ defection
@pytest.mark.parametrize("rate, low, high, where, weight", [
    (0.27, 0.24, 0.30, "inside", 7.0),
    (0.45, 0.42, 0.48, "above", 10.0),
    (0.41, 0.38, 0.44, "inside", 7.0),   # the interval reaches into the band: not above
    (0.12, 0.10, 0.14, "below", 6.0),
])
def test_defection_against_the_typical_band(rate, low, high, where, weight):
    f = R.defection_finding(rate, low, high, lost=270, base=1000, year="2025",
                            section="Measure everything", figure="defection")
    assert f.weight == weight
    assert f"{where} the 20%–40% a year typical of most firms" in f.headline
    assert f"About {round(rate * 100)}% of customers were lost in 2025 " \
           f"({round(low * 100)}%–{round(high * 100)}%; 270 of 1,000)" in f.headline
    assert f.section == "Measure everything" and f.figure == "defection"


def test_defection_meaning_counts_customers_per_point():
    # 2,500 customers at the start of the year: one point = 25 customers
    f = R.defection_finding(0.3, 0.28, 0.32, lost=750, base=2500, year="2024", section="s")
    assert "keeps about 25 more customers a year" in f.meaning


# ------------------------------------------------------------------ drivers of churn
def _effects(rows):
    return pl.DataFrame(rows, schema=["label", "hazard_ratio", "ci_low", "ci_high"],
                        orient="row")


def test_drivers_names_the_strongest_significant_effect():
    eff = _effects([("Segment price (against relationship)", 1.15, 0.97, 1.37),  # not sig.
                    ("Reward scheme none (against first purchase)", 1.5, 1.2, 1.9),
                    ("Orders in the first 90 days", 0.86, 0.83, 0.90)])
    f = R.drivers_finding(eff, section="Churn and retention", figure="drivers")
    # |log 1.5| = 0.405 > |log 0.86| = 0.151: the reward scheme is the strongest
    assert f.headline == ("2 of 3 customer attributes tested change the risk of leaving "
                          "measurably: reward scheme none (against first purchase) raises "
                          "the risk of leaving by 50% (20%–90%).")
    assert f.weight == R.WEIGHTS["drivers"]
    assert "The other: orders in the first 90 days." in f.meaning
    assert "Segment price" not in f.meaning  # its interval includes 1


def test_drivers_lowering_effect_interval_is_turned_round():
    # HR 0.80 (0.67-0.96): risk lower by 20 %, interval 1-0.96 = 4 % to 1-0.67 = 33 %
    f = R.drivers_finding(_effects([("Reward scheme every purchase", 0.80, 0.67, 0.96)]),
                          section="c")
    assert f.headline.endswith("lowers the risk of leaving by 20% (4.0%–33%).")


def test_drivers_without_a_significant_effect_says_so_with_a_low_weight():
    f = R.drivers_finding(_effects([("Segment price", 1.1, 0.9, 1.3),
                                    ("Region north", 0.95, 0.7, 1.2)]), section="c")
    assert f.headline.startswith("None of the 2 customer attributes tested changes")
    assert f.weight == R.WEIGHTS["no drivers"] < R.WEIGHTS["drivers"]
    assert R.drivers_finding(_effects([]), section="c") is None


def test_interval_touching_one_is_not_significant():
    f = R.drivers_finding(_effects([("Segment price", 1.3, 1.0, 1.6)]), section="c")
    assert f.headline.startswith("None of the 1 customer attribute tested")


# ------------------------------------------------------------------ ladder
def test_ladder_biggest_drop_is_the_lowest_share_moving_up():
    fun = pl.DataFrame({
        "rung": ["suspect", "prospect", "first-time customer", "client", "advocate"],
        "reached": [1000, 800, 300, 240, 24], "converted": [800, 300, 240, 24, None],
        "conversion": [0.8, 0.375, 0.8, 0.1, None],
        "ci_low": [0.77, 0.34, 0.75, 0.07, None], "ci_high": [0.82, 0.41, 0.84, 0.15, None]})
    f = R.ladder_finding(fun, section="The loyalty ladder", figure="ladder")
    assert f.headline == ("The biggest drop on the loyalty ladder is from client to advocate: "
                          "10% move up (7.0%–15%; 24 of 240).")
    one = fun.head(1).with_columns(pl.lit(None, pl.Float64).alias("conversion"))
    assert R.ladder_finding(one, section="s") is None


# ------------------------------------------------------------------ net promoter score
@pytest.mark.parametrize("nps, low, high, verdict, weight", [
    (-25.0, -30.0, -20.0, "more customers would warn others off", 7.0),
    (32.0, 25.0, 39.0, "more customers would recommend the firm", 5.0),
    (3.0, -4.0, 10.0, "about as many customers would recommend", 4.0),
])
def test_nps_verdict_by_where_the_interval_lies(nps, low, high, verdict, weight):
    # 1,000 answers, 20 % promoters, 45 % detractors
    f = R.nps_finding(nps, low, high, n=1000, promoters=0.2, detractors=0.45, section="s")
    assert verdict in f.headline and f.weight == weight
    assert "from 1,000 answers" in f.headline
    assert f.meaning.startswith("20% are promoters (9–10) and 45% detractors (0–6).")


def test_nps_negative_interval_uses_words_not_a_dash():
    f = R.nps_finding(-25.1, -29.6, -20.4, n=10, promoters=0.2, detractors=0.45, section="s")
    assert "−25 (−30 to −20," in f.headline


# ------------------------------------------------------------------ complaints
def _bands(p):
    return pl.DataFrame({"band": ["<= 7d", "7-30d", "> 30d or open"], "band_order": [0, 1, 2],
                         "numerator": [100, 28, 13], "denominator": [144, 46, 45],
                         "value": [100 / 144, 28 / 46, 13 / 45],
                         "ci_low": [0.615, 0.465, 0.177], "ci_high": [0.764, 0.736, 0.434],
                         "p_value": [p, p, p]})


def test_complaints_fires_only_when_fast_and_slow_differ():
    f = R.complaints_finding(_bands(1e-6), section="s")
    assert f.headline == ("Customers whose complaint was resolved within 7 days stay more "
                          "often: 69% (62%–76%) against 29% (18%–43%) when it took over 30 "
                          "days, or is still open.")
    assert R.complaints_finding(_bands(0.2), section="s") is None
    assert R.complaints_finding(_bands(0.05), section="s") is None  # p < 0.05, strictly


# ------------------------------------------------------------------ revenue, repeat, profit
def test_concentration_weight_depends_on_half_the_revenue():
    high = R.concentration_finding(0.58, buyers=1000, section="s")
    assert high.headline == "The top 20% of buyers (200 of 1,000) bring 58% of the revenue."
    assert high.weight == R.WEIGHTS["concentration high"]
    assert R.concentration_finding(0.35, buyers=1000, section="s").weight == \
        R.WEIGHTS["concentration"]


def test_repeat_rate_with_wilson_interval():
    # 60 of 100: Wilson 95 % = 0.5020 .. 0.6906 (Newcombe 1998, method 3)
    f = R.repeat_finding(60, 100, section="s")
    assert f.headline == "60% of buyers bought more than once (50%–69%; 60 of 100)."
    assert "Most buyers come back" in f.meaning
    assert "Most buyers buy only once" in R.repeat_finding(30, 100, section="s").meaning
    assert R.repeat_finding(0, 0, section="s") is None


def test_unprofitable_customers():
    f = R.unprofitable_finding(50, 1000, section="s")
    assert f.headline == "50 customers (5.0%) cost more than they bring."
    assert f.weight == R.WEIGHTS["unprofitable high"]
    assert R.unprofitable_finding(1, 1000, section="s").headline.startswith("1 customer (")
    assert R.unprofitable_finding(0, 1000, section="s") is None


# ------------------------------------------------------------------ data quality
def test_data_quality_caveat_above_one_percent():
    assert R.data_quality_finding(100, 10_000, section="Data quality") is None  # exactly 1 %
    f = R.data_quality_finding(101, 10_000, section="Data quality")
    assert f.headline.startswith("1.0% of the rows read (101 of 10,000) were rejected")
    assert f.weight == R.WEIGHTS["data quality"]
    assert R.data_quality_finding(600, 10_000, section="d").weight == \
        R.WEIGHTS["data quality high"]


# ------------------------------------------------------------------ ranking and the page
def test_summary_ranks_by_weight_links_sections_and_keeps_eight():
    rep = Report("r")
    rep.add_heading("Churn and retention")
    for k in range(10):
        rep.add_finding(Finding(f"Finding number {k}.", "So what.", "Churn and retention",
                                weight=float(k)))
    page = rep._html()
    summary = page.split('<section id="summary"')[1].split("</section>")[0]
    shown = re.findall(r"Finding number (\d)", summary)
    assert shown == ["9", "8", "7", "6", "5", "4", "3", "2"]  # eight, largest weight first
    assert summary.count('href="#s-churn-and-retention"') == 8
    assert '<h2 id="s-churn-and-retention">' in page


# ------------------------------------------------------------------ number formats
@pytest.mark.parametrize("locale, pct, count, money, day", [
    ("en", "27%", "1,234,567", "€1,234.50", "Dec 31, 2025"),
    ("de", "27\xa0%", "1.234.567", "1.234,50\xa0€", "31.12.2025"),
    ("fr", "27\xa0%", "1\u202f234\u202f567", "1\u202f234,50\xa0€", "31 déc. 2025"),
    ("nl", "27%", "1.234.567", "€\xa01.234,50", "31 dec 2025"),
    ("es", "27\xa0%", "1.234.567", "1.234,50\xa0€", "31 dic 2025"),
])
def test_formats_per_locale(locale, pct, count, money, day):
    fmt = Formats(locale, currency="EUR")
    assert fmt.percent(0.2734) == pct
    assert fmt.count(1234567) == count
    assert fmt.money(1234.5) == money
    assert fmt.date(date(2025, 12, 31)) == day


def test_formats_never_scientific_and_true_minus():
    assert EN.number(1.09e6) == "1,090,000"
    assert EN.number(0.000012) == "0.000012"
    assert EN.p_value(1.3e-06) == "< 0.001" and EN.p_value(0.0421) == "0.042"
    assert EN.percent(-0.047) == "\u22124.7%"
    assert EN.percent(-0.0004) == "0.0%" and EN.number(-0.0004, 2) == "0.00"  # no minus zero
    assert Formats("de", currency="EUR").money(-0.001) == "0,00\xa0€"
    assert EN.interval(-29.6, -20.4, "points") == "\u221230 to \u221220"
    assert EN.money(-5) == "\u22125.00" and Formats("en", currency="kr").money(12) == \
        "12.00\xa0kr"
    assert EN.date(datetime(2025, 12, 31, 14, 5)) == "Dec 31, 2025, 2:05\u202fPM"
    assert "e" not in reader_text("p = 1.3e-06 and 1.09e6").replace("and", "")


def test_unknown_locale_is_one_plain_error():
    with pytest.raises(ValueError, match=r"locale 'xx_YY' is not known; use a language code"):
        check_locale("xx_YY")
    with pytest.raises(ValueError, match=r"locale 'xx' is not known"):
        Report("r", locale="xx")


def test_table_columns_plain_headings_kinds_and_merged_intervals():
    df = pl.DataFrame({"stage": ["first_time_customer"], "stage_rank": [2],
                       "share_of_top": [0.5382], "conversion": [0.925],
                       "ci_low": [0.9148], "ci_high": [0.9346], "median_days": [803.0],
                       "survival_1y": [0.805], "survival_1y_ci_low": [0.774],
                       "survival_1y_ci_high": [0.833], "p_value": [5e-11]})
    cols = table_columns(df)
    row = df.row(0, named=True)
    got = {c.label: c.render(row, EN) for c in cols}
    assert got == {"Rung": "first time customer", "Step": "2", "Share of all people": "54%",
                   "Moved up (share)": "93%", "95 % interval": "91%–93%",
                   "Median time to loss (days)": "803",
                   "Still buying after 1 year": "81%", "p-value": "< 0.001"} | {
        "95 % interval": "77%–83%"}  # the dict keeps the last of the two interval columns
    assert [c.label for c in cols].count("95 % interval") == 2  # both intervals merged
    assert not any("_" in c.label for c in cols)


def test_row_kinds_write_each_row_in_its_unit():
    rep = Report("r")
    card = pl.DataFrame({"metric": ["Revenue", "Defection rate"],
                         "unit": ["currency", "share"], "current": [1638627.0, 0.313]})
    rep.add_table(card, title="Scorecard", row_kinds="unit", labels={"current": "2025"})
    page = rep._html()
    assert "<th class=num>2025</th>" in page and ">unit<" not in page.lower()
    assert ">1,638,627<" in page and ">31%<" in page


def test_plain_words_and_client_notes():
    assert plain_words("stratify_failing() on reward_scheme=every_purchase") == \
        "stratify failing on reward scheme every purchase"
    assert client_note("as_of not given: rows dated after the load time (2026-12-04) were "
                       "rejected; pass as_of= the extract date") == \
        "No extract date was given: rows dated after the load time (2026-12-04) were rejected"
