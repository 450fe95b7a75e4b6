"""The workbook is an analyst's workbook: every table with proper number formats (percent
for shares and their intervals, currency for money, thousands, dates), numbers stored as
numbers, frozen headers, filters, column widths, a README sheet with definitions; tables
for the workbook only (call list, values per customer); read back with openpyxl as a
person's Excel would show them."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import polars as pl
import pytest

import loyaltylab.report._excel as excel
from loyaltylab.report import Report
from loyaltylab.report._excel import column_formats, export_tables, money_format

EUR = '#,##0.00 "EUR"'


def _scorecard() -> pl.DataFrame:
    return pl.DataFrame({
        "metric": ["Active buyers", "Revenue", "Defection rate", "Net Promoter Score"],
        "unit": ["count", "currency", "share", "points"],
        "previous": [1559.0, 1093225.5, 0.266, -29.2],
        "current": [2202.0, 1638627.25, 0.313, -21.2],
        "p_value": [None, None, 0.032, 0.128],
    })


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wb")
    rep = Report("Customer loyalty report", source="client export",
                 as_of=datetime(2026, 1, 1),
                 brand={"client": "Example Retail", "accent": "#7A1F5C", "currency": "EUR"})
    rep.add_heading("Measure everything")
    rep.add_table(_scorecard(), title="Scorecard", note="Headline figures, two periods.")
    rep.add_table(pl.DataFrame({
        "stage": ["suspect", "prospect", "client"], "reached": [5000, 4004, 1259],
        "share_of_top": [1.0, 0.8008, 0.2518], "conversion": [0.8008, 0.62, None],
        "ci_low": [0.789, 0.60, None], "ci_high": [0.812, 0.64, None]}),
        title="Loyalty ladder funnel")
    rep.add_table(pl.DataFrame({
        "group": ["all"], "n": [2691], "median_days": [412.5], "survival_1y": [0.73],
        "survival_1y_ci_low": [0.70], "survival_1y_ci_high": [0.76],
        "first_order": [date(2023, 1, 2)], "last_order": [datetime(2025, 12, 30, 14, 5)]}),
        title="Retention summary")
    rep.add_table(pl.DataFrame({
        "covariate": ["segment=price"], "hazard_ratio": [1.25], "hr_ci_low": [1.05],
        "hr_ci_high": [1.49], "p_value": [0.011]}), title="Hazard ratios")
    rep.add_table(pl.DataFrame({
        "segment": ["price"], "n": [275], "promoters_pct": [22.9], "nps": [-16.7],
        "se": [4.6], "ci_low": [-25.6], "ci_high": [-7.5]}), title="Net promoter score")
    rep.add_table(pl.DataFrame({
        "from_state": ["suspect", "prospect"], "n": [653, 577], "suspect": [0.925, 0.0],
        "prospect": [0.057, 0.116], "lapsed": [0.0, 0.818]}),
        title="Moves between stages",
        formats={"suspect": "percent", "prospect": "percent", "lapsed": "percent"})
    rep.add_table(pl.DataFrame({
        "customer_id": ["a1f3", "9c2e"], "p_alive": [0.97, 0.42], "clv": [412.3, 88.0],
        "clv_low": [380.1, 60.2], "clv_high": [450.9, 120.4]}),
        title="Customer value per customer", allow_identifiers=True, workbook_only=True,
        note="Pseudonymised customers.")
    rep.add_table(pl.DataFrame({
        "rank": [1, 2], "customer_id": ["a1f3", "9c2e"], "silent_days": [177.0, 107.0],
        "p_stopped": [0.99, 0.98], "drivers": ["=cmd|' /C calc'!A0", "segment price"]}),
        title="Call list", allow_identifiers=True, workbook_only=True)
    rep.add_methods("Churned = no order for 180 days.", heading="Churn")
    path = rep.write_excel(tmp / "tables.xlsx")
    return rep, openpyxl.load_workbook(path), path


def _cells(ws) -> dict[str, list]:
    header = [c.value for c in ws[1]]
    return {h: [row[k] for row in ws.iter_rows(min_row=2)] for k, h in enumerate(header)}


def test_share_money_date_and_count_columns_have_their_formats(book):
    _, wb, _ = book
    funnel = _cells(wb["Loyalty ladder funnel"])
    assert [c.number_format for c in funnel["reached"]] == ["#,##0"] * 3
    for col in ("share_of_top", "conversion", "ci_low", "ci_high"):
        cell = funnel[col][0]
        assert cell.number_format == "0.0%" and cell.data_type == "n", col
    assert funnel["share_of_top"][1].value == pytest.approx(0.8008)  # a fraction, not 80.08
    ret = _cells(wb["Retention summary"])
    assert ret["survival_1y"][0].number_format == "0.0%"
    assert ret["survival_1y_ci_low"][0].number_format == "0.0%"
    assert ret["median_days"][0].number_format == "#,##0.0"
    assert ret["first_order"][0].data_type == "d"
    assert ret["first_order"][0].number_format == "yyyy-mm-dd"
    assert ret["last_order"][0].number_format == "yyyy-mm-dd hh:mm"
    value = _cells(wb["Customer value per customer"])
    assert [value[c][0].number_format for c in ("clv", "clv_low", "clv_high")] == [EUR] * 3
    assert value["clv"][0].value == pytest.approx(412.3) and value["clv"][0].data_type == "n"
    assert value["p_alive"][0].number_format == "0.0%"


def test_hazard_ratios_nps_and_the_transition_matrix_read_as_they_should(book):
    _, wb, _ = book
    hr = _cells(wb["Hazard ratios"])
    assert [hr[c][0].number_format for c in ("hazard_ratio", "hr_ci_low", "hr_ci_high")] == [
        "0.00"] * 3
    assert hr["p_value"][0].number_format == "0.0000"
    nps = _cells(wb["Net promoter score"])
    # NPS is in points (-100..100) and its interval too; a share already in percent is
    # shown with a sign, not multiplied by 100
    assert [nps[c][0].number_format for c in ("nps", "ci_low", "ci_high")] == ["0.0"] * 3
    assert nps["promoters_pct"][0].number_format == '0.0" %"'
    moves = _cells(wb["Moves between stages"])
    assert [moves[c][1].number_format for c in ("suspect", "prospect", "lapsed")] == [
        "0.0%"] * 3  # the hint makes every rung a share, not only the one named "lapsed"


def test_a_scorecard_row_takes_the_format_of_its_unit(tmp_path):
    rep = Report("Scorecard", brand={"currency": "€"})
    rep.add_table(_scorecard(), title="Scorecard")
    rep._state.items[-1].row_kinds = "unit"  # as add_table(..., row_kinds="unit") sets it
    wb = openpyxl.load_workbook(rep.write_excel(tmp_path / "t.xlsx"))
    card = _cells(wb["Scorecard"])
    assert [c.number_format for c in card["current"]] == ["#,##0", '#,##0.00 "€"', "0.0%",
                                                          "0.0"]
    assert card["current"][1].value == pytest.approx(1638627.25)
    assert card["p_value"][2].number_format == "0.0000"  # not the row's unit


def test_every_sheet_has_a_frozen_header_filter_and_widths(book):
    _, wb, _ = book
    for name in wb.sheetnames[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert [t.autoFilter.ref for t in ws.tables.values()] == [ws.dimensions], name
        assert all(c.font.b for c in ws[1])
        assert ws.column_dimensions["A"].customWidth  # fitted, not Excel's default


def test_readme_lists_sheets_definitions_and_methods(book):
    rep, wb, _ = book
    assert wb.sheetnames[0] == "README"
    rows = [[c for c in r if c is not None] for r in wb["README"].iter_rows(values_only=True)]
    assert rows[0] == ["Customer loyalty report: tables"]
    assert rows[1] == ["Prepared for Example Retail"]
    assert "Data: client export" in rows[2][0]
    listed = {r[0]: r[1:] for r in rows if r and r[0] in wb.sheetnames}
    assert listed["Scorecard"] == [4, "Headline figures, two periods."]
    assert listed["Call list"][0] == 2
    terms = {r[0] for r in rows if len(r) == 2}
    assert {"Shares", "Amounts", "Interval", "Hazard ratio", "P value", "NPS", "CLV",
            "Pseudonym", "Churn"} <= terms
    assert ["Churn", "Churned = no order for 180 days."] in rows


def test_workbook_only_tables_are_not_in_the_html_and_text_stays_text(book):
    rep, wb, _ = book
    assert "Call list" in wb.sheetnames and "Customer value per customer" in wb.sheetnames
    page = rep._html()
    assert "a1f3" not in page and "Call list" not in page
    drivers = _cells(wb["Call list"])["drivers"]
    assert drivers[0].value == "'=cmd|' /C calc'!A0" and drivers[0].data_type == "s"
    assert "Call list" not in rep.tables  # the report's own tables stay aggregate


def test_format_hints_name_real_columns_and_raw_formats_pass_through(tmp_path):
    frame = pl.DataFrame({"segment": ["a"], "value": [1234.5], "ratio": [0.5]})
    rep = Report("x")
    with pytest.raises(ValueError, match=r"formats: column\(s\) \['valeu'\] are not in the "
                                         r"table"):
        rep.add_table(frame, title="Values", formats={"valeu": "money"})
    fmts = column_formats(frame, hints={"value": "money", "ratio": "0.0000"}, currency="$")
    assert fmts["value"] == '"$"#,##0.00' and fmts["ratio"] == "0.0000"
    assert money_format("CHF") == '#,##0.00 "CHF"'


def test_a_table_longer_than_a_sheet_is_cut_and_the_cut_is_said(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "_EXCEL_MAX_ROWS", 5)
    path = tmp_path / "t.xlsx"
    export_tables({"Orders": pl.DataFrame({"orders": list(range(8))})}, path,
                  notes={"Orders": "Every order."})
    wb = openpyxl.load_workbook(path)
    assert wb["Orders"].max_row == 6
    assert wb["About"]["C2"].value == "Every order. First 5 of 8 rows: a sheet holds no more."


def test_real_results_get_readable_formats():
    """Frames as the analyses return them, on the bundled sample."""
    import loyaltylab as ll
    from loyaltylab import churn, survey

    data = ll.datasets.load_sample()
    table = churn.churn_table(data, inactivity="180d")
    cox = churn.CoxModel(covariates=["segment"]).fit(table)
    hr = column_formats(cox.summary)
    assert hr["hazard_ratio"] == hr["hr_ci_low"] == "0.00" and hr["p_value"] == "0.0000"
    answers = data.surveys.filter(pl.col("item") == "nps")
    nps = column_formats(survey.nps(data.replace(surveys=answers), by="segment"))
    assert nps["nps"] == nps["ci_low"] == nps["ci_high"] == "0.0" and nps["n"] == "#,##0"
    sat = column_formats(survey.csat(data, by="segment"))  # CSAT in percent, 0-100
    assert sat["csat"] == sat["ci_low"] == sat["ci_high"] == '0.0" %"'
    assert sat["mean_ci_low"] == sat["mean"]


# ------------------------------------------------------------------ the sample run's workbook
@pytest.fixture(scope="module")
def sample_book(tmp_path_factory):
    """The workbook of the report on the bundled sample, loaded as ``loyaltylab report``
    loads it (identifiers pseudonymised)."""
    import matplotlib

    matplotlib.use("Agg")
    from loyaltylab._pipeline import build_report, load_for_report

    rep = build_report(load_for_report(None, salt="workbook-test"), progress=False)
    path = rep.write_excel(tmp_path_factory.mktemp("sample") / "tables.xlsx")
    return rep, openpyxl.load_workbook(path), path


def _formats(ws) -> dict[str, set[str]]:
    """Column heading -> the number formats of its filled cells."""
    out: dict[str, set[str]] = {}
    for col, cells in _cells(ws).items():
        out[col] = {c.number_format for c in cells if c.value is not None}
    return out


def test_the_sample_workbook_holds_every_report_table_and_the_analyst_sheets(sample_book):
    rep, wb, _ = sample_book
    names = rep._sheet_names()
    assert set(names.values()) <= set(wb.sheetnames)  # every table of the report
    assert {"Data quality", "Call list", "Value of each customer", "Moves between rungs",
            "Net promoter score", "Customer satisfaction", "Survey scores over time",
            "Risk of leaving by attribute"} <= set(wb.sheetnames)
    dq = _cells(wb["Data quality"])
    assert dq["table"][0].value == "customers" and dq["read"][0].value == 5000
    hr = _formats(wb["Risk of leaving by attribute"])
    assert hr["Risk of leaving, times"] == hr["ci_low"] == hr["ci_high"] == {"0.00"}
    assert hr["p_value"] == {"0.0000"}
    calls = _formats(wb["Call list"])
    assert all(calls[c] == {"0.0%"} for c in ("p_stopped", "p_alive", "p_lapse", "p_churn"))
    assert calls["silent_days"] == calls["tenure_days"] == {"#,##0"}
    value = _formats(wb["Value of each customer"])
    assert value["clv"] == value["clv_low"] == value["clv_high"] == value[
        "expected_spend"] == {"#,##0.00"}  # money: no brand currency given
    assert value["p_alive"] == {"0.0%"}
    moves = _formats(wb["Moves between rungs"])
    assert moves["people"] == {"#,##0"}
    assert all(moves[c] == {"0.0%"} for c in ("suspect", "first-time customer", "lapsed"))
    sat = _formats(wb["Customer satisfaction"])
    assert sat["csat"] == sat["ci_low"] == sat["ci_high"] == {'0.0" %"'}
    trend = _formats(wb["Survey scores over time"])
    assert trend["nps"] == trend["ci_low"] == trend["change"] == {"0.0"}
    assert trend["started_at"] == {"yyyy-mm-dd"} and trend["change_p_value"] == {"0.0000"}
    # each moves row is a distribution over where the rung's people ended (sums to 1)
    for row in wb["Moves between rungs"].iter_rows(min_row=2, values_only=True):
        assert sum(row[2:]) == pytest.approx(1.0)


def test_the_sample_workbook_carries_no_personal_data(sample_book):
    from loyaltylab.datasets import data_path
    from loyaltylab.report import scan_for_personal_data
    from loyaltylab.report._browser import code_words

    _, wb, path = sample_book
    raw = pl.read_csv(data_path("sample") / "customers.csv", infer_schema=False)
    needles = raw["customer_id"].to_list() + raw["account_manager"].drop_nulls().unique(
    ).to_list()
    assert scan_for_personal_data(path, needles=needles).height == 0
    for sheet in ("Call list", "Value of each customer"):
        ids = [c.value for c in _cells(wb[sheet])["customer_id"]]
        assert ids and all(len(i) == 16 and int(i, 16) >= 0 for i in ids), sheet  # pseudonyms
        assert not set(ids) & set(needles)
    drivers = [c.value for c in _cells(wb["Call list"])["drivers"] if c.value]
    assert drivers and code_words(drivers) == []  # "reward scheme none (risk ×1.15)"
    # the call list is ranked by the chance of having stopped, most urgent first
    stopped = [c.value for c in _cells(wb["Call list"])["p_stopped"]]
    assert stopped == sorted(stopped, reverse=True)


def test_customer_values_are_the_most_valuable_with_an_interval(monkeypatch):
    import loyaltylab as ll
    from loyaltylab import _pipeline, clv
    from loyaltylab.report._locale import Formats

    monkeypatch.setattr(_pipeline, "WORKBOOK_CUSTOMERS", 40)
    data = ll.datasets.load_sample()
    rfm = clv.rfm_summary(data.orders, time_unit="W", observation_end=data.as_of)
    bg = clv.BetaGeo().fit(rfm)
    table, note = _pipeline._customer_values(rfm, bg, Formats("en"))
    spend = clv.GammaGamma().fit(rfm.filter(pl.col("frequency") > 0))
    everyone = clv.customer_lifetime_value(rfm, purchase_model=bg, spend_model=spend,
                                           interval=None)
    top = everyone.sort("clv", descending=True).head(40)
    assert table["customer_id"].to_list() == top["customer_id"].to_list()
    assert table["clv"].to_list() == pytest.approx(top["clv"].to_list())
    assert (table["clv_low"] < table["clv"]).all() and (table["clv"] < table["clv_high"]).all()
    assert note.startswith("The 40 most valuable of 2,691 buyers (at most 40)")


def test_without_pseudonyms_the_per_customer_sheets_are_left_out_and_said(tmp_path):
    import loyaltylab as ll
    from loyaltylab._pipeline import SECTIONS, build_report

    churn = tuple(s for s in SECTIONS if s.name == "Churn and retention")
    rep = build_report(ll.datasets.load_sample(), progress=False, sections=churn)
    wb = openpyxl.load_workbook(rep.write_excel(tmp_path / "t.xlsx"))
    assert "Call list" not in wb.sheetnames
    assert ("Churn and retention: call list in the workbook",
            "Left out of the workbook because the customer numbers were not replaced by "
            "pseudonyms when the data were loaded, and the workbook may not carry the "
            "client's own customer numbers.") in rep.skipped
    # the call-list chart shows customers by their place on the list, not by the client's
    # own numbers (the sample's ids are plain "C00042")
    title = "Call list: the active customers most likely to have stopped buying"
    [fig] = [i.fig for i in rep._state.items if getattr(i, "title", None) == title
             and hasattr(i, "fig")]
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert sorted(ticks, key=lambda t: int(t.split()[1])) == [f"Customer {i}"
                                                              for i in range(1, 16)]
    sample_ids = set(ll.datasets.load_sample().customers["customer_id"])
    assert not sample_ids & set(ticks)
    assert "their numbers were not pseudonymised" in dict(rep.figures)[title]
