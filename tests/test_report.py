"""loyaltylab.report: footnotes, chart export, Excel tables, and the Report builder outputs
(PPTX read back with python-pptx, the workbook with openpyxl, the HTML checked for
self-containment). Expected sizes are worked out by hand in each test."""

from __future__ import annotations

import re
from datetime import date, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import openpyxl  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from pptx import Presentation  # noqa: E402
from pptx.util import Inches  # noqa: E402

from loyaltylab.data.crmdata import CRMData, LoadReport, TableReport  # noqa: E402
from loyaltylab.exceptions import MissingTableError  # noqa: E402
from loyaltylab.plots._style import add_footnote  # noqa: E402
from loyaltylab.report import (  # noqa: E402
    Footnote, Report, export_tables, figure_title, prepare_figure, sanitize_sheet_names,
    save_figure,
)


def _chart(title: str, n: int = 5):
    fig, ax = plt.subplots()
    ax.plot(range(n), [i * i for i in range(n)], label="orders")
    ax.legend()
    ax.set_title(title)
    return fig, ax


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- Footnote
def test_footnote_parts_in_order_and_iso_dates():
    fn = Footnote(n=4812, start=datetime(2023, 1, 1, 15, 30), end=date(2025, 12, 31),
                  ci="95% Wilson score interval", definition="churned = no order for 180 days",
                  source="CRM export", extra=("excludes employees",))
    assert fn.text == ("n = 4,812 customers; 2023-01-01 to 2025-12-31; CI: 95% Wilson score "
                       "interval; churned = no order for 180 days; source: CRM export; "
                       "excludes employees")
    assert str(Footnote(n=120, unit="responses")) == "n = 120 responses"
    assert str(Footnote(end="2025-06-30")) == "up to 2025-06-30"


def test_footnote_from_frame_counts_distinct_and_takes_range():
    orders = pl.DataFrame({"customer_id": ["a", "b", "a", "c"],
                           "ordered_at": [datetime(2024, 5, 1), datetime(2024, 1, 3),
                                          datetime(2024, 2, 1), datetime(2024, 9, 30)]})
    fn = Footnote.from_frame(orders, date_col="ordered_at", count_col="customer_id",
                             ci="none")
    assert (fn.n, fn.start, fn.end) == (3, datetime(2024, 1, 3), datetime(2024, 9, 30))
    rows = Footnote.from_frame(orders, date_col="ordered_at", unit="orders")
    assert rows.n == 4 and rows.text.startswith("n = 4 orders")
    with pytest.raises(ValueError, match=r"column 'when' is not in the frame"):
        Footnote.from_frame(orders, date_col="when")


# ---------------------------------------------------------------- save_figure
def test_save_figure_slide_png_svg_pdf_sizes(tmp_path):
    fig, ax = _chart("Orders per month, 5 months")
    paths = save_figure(ax, tmp_path / "sub" / "orders", footnote=Footnote(n=5, unit="months"))
    assert [p.name for p in paths] == ["orders.png", "orders.svg", "orders.pdf"]
    png = Image.open(paths[0])
    # 16:9 slide: 10 in x 5.625 in at 300 dpi = 3000 x 1687.5 pixels
    assert png.size[0] == 3000 and abs(png.size[1] - 1687.5) <= 1
    assert png.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    svg = paths[1].read_text()
    assert re.search(r'<svg[^>]*width="720pt" height="405pt"', svg)  # 10 x 5.625 in * 72
    assert "n = 5 months" in svg  # text kept as text, footnote drawn in the figure
    assert re.search(rb"/MediaBox \[ ?0 0 720 405 ?\]", paths[2].read_bytes())


def test_save_figure_a4_and_custom_size(tmp_path):
    _, ax = _chart("A4 chart")
    (png,) = save_figure(ax, tmp_path / "a4", size="a4", formats=("png",), dpi=100)
    assert Image.open(png).size == (669, 446)  # 6.69 x 4.46 in at 100 dpi
    _, ax2 = _chart("Square")
    (png2,) = save_figure(ax2, tmp_path / "sq", size=(4, 4), formats=["png"], dpi=50)
    assert Image.open(png2).size == (200, 200)


def test_footnote_is_inside_the_figure_below_the_axes():
    fig, ax = _chart("Long footnote")
    long = "; ".join(f"note number {i} about the definition" for i in range(12))
    prepare_figure(fig, size="slide", footnote=long)
    renderer = fig.canvas.get_renderer()
    notes = [t for t in fig.texts if getattr(t, "_loyaltylab_is_footnote", False)]
    assert len(notes) == 1
    box = notes[0].get_window_extent(renderer)
    assert box.y0 >= 0 and box.x1 <= fig.bbox.width and box.y1 < fig.bbox.height
    assert notes[0].get_text().count("\n") >= 1  # wrapped to the figure width
    assert ax.get_tightbbox(renderer).y0 > box.y1  # axes and tick labels above it
    assert fig._loyaltylab_footnote == long  # the unwrapped text is kept for exporters


def test_chart_files_write_the_footnote_readably_and_wrap_a_long_title(tmp_path):
    from loyaltylab.plots._style import MIN_FONT_PT

    fig, ax = _chart("Retention of customers by segment, acquisition channel, region and "
                     "reward scheme, measured over the three years of the export")
    prepare_figure(fig, size="slide", footnote="n = 4,812 customers; 2023-01-02 to "
                                               "2025-12-31; CI: 95% Wilson score interval")
    renderer = fig.canvas.get_renderer()
    note = next(t for t in fig.texts if getattr(t, "_loyaltylab_is_footnote", False))
    assert note.get_fontsize() >= MIN_FONT_PT["text"] == 11.0  # was 7 pt in the files
    box = note.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width
    title = ax.title.get_window_extent(renderer)
    assert ax.get_title().count("\n") == 1  # broken into two lines that fit
    assert title.x0 >= 0 and title.x1 <= fig.bbox.width
    assert ax.get_title().replace("\n", " ").startswith("Retention of customers by segment")
    short, ax2 = _chart("Orders per month")
    prepare_figure(short)
    assert ax2.get_title() == "Orders per month"  # a title that fits is left as it is


def test_footnote_from_plot_function_is_reused_and_not_duplicated(tmp_path):
    fig, ax = _chart("Retention")
    add_footnote(ax, "n = 42 customers; CI: 95% Wilson")
    prepare_figure(fig)
    prepare_figure(fig)  # twice: still one footnote
    texts = [t.get_text() for t in fig.texts]
    assert texts == ["n = 42 customers; CI: 95% Wilson"]
    prepare_figure(fig, footnote="n = 43 customers")
    assert [t.get_text() for t in fig.texts] == ["n = 43 customers"]


def test_saved_files_are_reproducible(tmp_path):
    # two runs drawing the same chart give byte-identical files (no dates, no random ids)
    a = save_figure(_chart("Same bytes")[1], tmp_path / "a", formats=("svg", "pdf"),
                    footnote="n = 1")
    b = save_figure(_chart("Same bytes")[1], tmp_path / "b", formats=("svg", "pdf"),
                    footnote="n = 1")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_save_figure_errors(tmp_path):
    _, ax = _chart("x")
    with pytest.raises(ValueError, match=r"size='poster' is not a known size"):
        save_figure(ax, tmp_path / "x", size="poster")
    with pytest.raises(ValueError, match=r"unknown or empty; choose from"):
        save_figure(ax, tmp_path / "x", formats=("jpg",))
    with pytest.raises(ValueError, match=r"dpi=0 must be a positive number"):
        save_figure(ax, tmp_path / "x", dpi=0)
    with pytest.raises(TypeError, match=r"expected a matplotlib Figure or Axes"):
        save_figure(pl.DataFrame(), tmp_path / "x")
    with pytest.raises(ValueError, match=r"width and height must be positive"):
        save_figure(ax, tmp_path / "x", size=(0, 3))


def test_figure_title_prefers_suptitle():
    fig, ax = _chart("axes title")
    assert figure_title(fig) == "axes title"
    fig.suptitle("Figure title")
    assert figure_title(ax) == "Figure title"


# ---------------------------------------------------------------- Excel
def test_sanitize_sheet_names_follows_excel_rules():
    names = sanitize_sheet_names(["a:b*c?d/e\\f[g]h", "'quoted'", "HISTORY", " ",
                                  "x" * 40, "X" * 40, "x" * 40])
    assert names[0] == "a_b_c_d_e_f_g_h"
    assert names[1] == "quoted"
    assert names[2] == "HISTORY_"
    assert names[3] == "Sheet"
    assert names[4] == "x" * 31
    assert names[5] == "X" * 27 + " (2)" and names[6] == "x" * 27 + " (3)"
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == len(names)


def test_export_tables_formatted_sheets(tmp_path):
    seg = pl.DataFrame({"segment": ["price", "relationship", "premium"],
                        "customers": [12000, 800, 65],
                        "retention": [0.8123, 0.7, None],
                        "revenue": [1234567.891, 999.5, 10.0],
                        "first_order": [datetime(2023, 1, 2), datetime(2023, 3, 4), None]})
    monthly = pl.DataFrame({"month": [date(2024, 1, 1), date(2024, 2, 1)], "orders": [5, 7]})
    path = tmp_path / "out" / "tables.xlsx"
    title = "Retention by segment and acquisition channel (all)"
    mapping = export_tables({title: seg, "Orders/month": monthly}, path,
                            notes={title: "retention = share still buying"})
    assert mapping == {title: "Retention by segment and acquis", "Orders/month": "Orders_month"}
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["About", "Retention by segment and acquis", "Orders_month"]
    ws = wb["Retention by segment and acquis"]
    assert [c.value for c in ws[1]] == seg.columns
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref or ws.tables  # filter buttons on the header
    row2 = {h.value: c for h, c in zip(ws[1], ws[2])}
    assert row2["customers"].value == 12000 and row2["customers"].number_format == "#,##0"
    assert row2["retention"].value == pytest.approx(0.8123)
    assert row2["retention"].number_format == "0.0%"  # a share, shown as a percentage
    assert row2["revenue"].number_format == "#,##0.00"
    assert row2["first_order"].value == datetime(2023, 1, 2)
    assert ws.cell(4, 3).value is None  # null stays empty
    assert ws.column_dimensions["B"].width > 8  # widths set, not Excel's default
    about = wb["About"]
    assert [c.value for c in about[2]] == ["Retention by segment and acquis", 3,
                                           "retention = share still buying"]
    assert wb["Orders_month"].cell(3, 2).value == 7


def test_export_tables_refuses_identifiers_unless_allowed(tmp_path):
    leaky = pl.DataFrame({"customer_id": ["C1"], "clv": [10.0]})
    with pytest.raises(ValueError, match=r"table 'CLV' has column\(s\) \['customer_id'\]"):
        export_tables({"CLV": leaky}, tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match=r"\['E-Mail'\] that identify customers"):
        export_tables({"x": pl.DataFrame({"E-Mail": ["a@b.de"]})}, tmp_path / "t.xlsx")
    export_tables({"CLV": leaky}, tmp_path / "t.xlsx", allow_identifiers=True)
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").sheetnames == ["CLV"]
    with pytest.raises(ValueError, match=r"non-empty dict"):
        export_tables({}, tmp_path / "t.xlsx")


def test_export_tables_accepts_pandas_and_nested_columns(tmp_path):
    pd = pytest.importorskip("pandas")
    export_tables({"pd": pd.DataFrame({"a": [1, 2]}),
                   "nested": pl.DataFrame({"lines": [[1, 2], [3]]})}, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert wb["pd"].cell(3, 1).value == 2
    assert wb["nested"].cell(2, 1).value == "[1, 2]"


# ---------------------------------------------------------------- Report
def _load_report() -> LoadReport:
    return LoadReport(
        source="client export",
        tables={"customers": TableReport(read=100, kept=100, rejected=0),
                "orders": TableReport(read=1000, kept=990, rejected=10,
                                      reasons={"amount is negative": 7,
                                               "ordered_at is not a date": 3},
                                      warnings=["dropped personal columns: email"])},
        warnings=["no surveys file found"])


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    data = CRMData(customers=pl.DataFrame(), orders=pl.DataFrame(), report=_load_report(),
                   as_of=datetime(2026, 1, 1))
    rep = Report.for_data(data, title="Loyalty report", subtitle="Test client")
    rep.add_heading("Buying")
    rep.add_text("Most customers buy once.\n\nRepeat buyers bring most revenue.")
    for k in range(3):
        fig, ax = _chart(f"Chart {k}, 5 customers")
        rep.add_figure(ax, footnote=Footnote(n=5, ci="95% Wilson score interval"))
    fig, _ = _chart("Chart 0, 5 customers")  # same title twice: distinct file names
    rep.add_figure(fig, title="Repeat chart")
    rep.add_table(pl.DataFrame({"segment": [f"s{i:02d}" for i in range(30)],
                                "customers": list(range(1000, 1030)),
                                "retention": [i / 40 for i in range(30)]}),
                  title="Customers by segment", note="All 30 segments")
    with rep.capability("Survey scores"):
        rep.add_heading("Survey scores")
        data.require("surveys", purpose="survey scoring")
    rep.add_methods("Churned = no order for 180 days.", heading="Churn definition")
    paths = rep.write_all(out, progress=False)
    return rep, paths


def test_report_write_all_returns_every_file(written):
    rep, paths = written
    assert repr(rep) == "Report('Loyalty report': 4 charts, 1 table, 1 skipped)"
    names = sorted(p.name for p in paths["charts"])
    assert len(names) == 12  # 4 charts x png, svg, pdf
    assert names[:3] == ["01-chart-0-5-customers.pdf", "01-chart-0-5-customers.png",
                         "01-chart-0-5-customers.svg"]
    assert "04-repeat-chart.png" in names
    assert all(p.stat().st_size > 1000 for p in paths["charts"])
    assert {paths[k].name for k in ("html", "deck", "workbook")} == {
        "report.html", "deck.pptx", "tables.xlsx"}


def test_deck_has_title_agenda_methods_and_one_chart_per_appendix_slide(written):
    # no findings were added: every chart goes to the appendix, one a slide (the deck's
    # findings, native charts and rendering are tested in tests/test_report_deck.py)
    rep, paths = written
    prs = Presentation(paths["deck"])
    assert (prs.slide_width, prs.slide_height) == (Inches(13.333), Inches(7.5))
    slides = list(prs.slides)
    assert slides[0].shapes.title.text == "Loyalty report"
    assert "as of 2026-01-01" in slides[0].placeholders[1].text
    assert "Survey scores" in slides[0].notes_slide.notes_text_frame.text
    titles = [s.shapes.title.text for s in slides]
    assert titles[1] == "Agenda" and "Methods" in titles and "Appendix" in titles
    assert titles[-4:] == ["Chart 0, 5 customers", "Chart 1, 5 customers",
                           "Chart 2, 5 customers", "Repeat chart"]
    for slide in slides[-4:-1]:
        charts = [s for s in slide.shapes if s.name in ("Chart", "Chart picture")]
        assert len(charts) == 1
        chart = charts[0]
        assert chart.left >= 0 and chart.left + chart.width <= prs.slide_width
        footnote = [s for s in slide.shapes if s.name == "Footnote"]
        assert chart.top + chart.height <= footnote[0].top  # above the footnote box
        assert footnote[0].text_frame.text == ("n = 5 customers; CI: 95% Wilson score "
                                               "interval")
        assert slide.notes_slide.notes_text_frame.text == footnote[0].text_frame.text
    assert not [s for s in slides[-1].shapes if s.name == "Footnote"]  # no footnote given


def test_workbook_has_about_data_quality_and_tables(written):
    _, paths = written
    wb = openpyxl.load_workbook(paths["workbook"])
    assert wb.sheetnames == ["README", "Data quality", "Customers by segment"]
    ws = wb["Customers by segment"]
    assert ws.max_row == 31  # all 30 rows plus the header, not the 15 shown in HTML
    dq = wb["Data quality"]
    header = [c.value for c in dq[1]]
    rows = [dict(zip(header, (c.value for c in r))) for r in dq.iter_rows(min_row=2)]
    orders = [r for r in rows if r["table"] == "orders"]
    assert {r["reason"]: r["n"] for r in orders} == {None: None, "amount is negative": 7,
                                                     "ordered_at is not a date": 3}


def test_html_is_self_contained_with_sections(written):
    _, paths = written
    page = paths["html"].read_text(encoding="utf-8")
    srcs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert srcs and all(s.startswith(("data:image/png;base64,", "#")) for s in srcs)
    assert len([s for s in srcs if s.startswith("data:")]) == 4
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "Content-Security-Policy" in page
    assert page.count("<figure") == 4
    assert "n = 5 customers; CI: 95% Wilson score interval" in page
    assert "Showing the first 15 of 30 rows; the full table is on sheet “Customers by " \
           "segment” of the workbook." in page
    assert '<section id="data-quality" class="appendix">' in page and "1,100 rows, of " \
        "which 10 were rejected" in page and "7 × amount is negative" in page
    assert "3 × ordered at is not a date" in page  # column names in plain words
    assert "orders: dropped personal columns: email" in page
    assert '<section id="methods" class="appendix">' in page \
        and "Churned = no order for 180 days." in page
    # a skipped part is listed for the consultant in the appendix, not in the body
    body, appendix = page.split('<section id="not-included"')
    assert "Survey scores" not in body.split("</nav>")[1]
    assert "<strong>Survey scores</strong>: survey scoring needs the &#x27;surveys&#x27; " \
        "table" in appendix
    # the heading added inside the skipped capability was rolled back
    assert "<h2" in page and ">Survey scores</h2>" not in page
    assert "<p>Most customers buy once.</p>\n<p>Repeat buyers bring most revenue.</p>" in page


def test_capability_skips_only_missing_tables():
    rep = Report("r")
    with pytest.raises(KeyError):
        with rep.capability("Broken"):
            raise KeyError("a bug")
    assert rep.skipped == []
    with rep.capability("Contacts"):
        raise MissingTableError("contact analysis needs the 'contacts' table")
    assert rep.skipped == [("Contacts", "contact analysis needs the 'contacts' table")]


def test_report_errors():
    with pytest.raises(ValueError, match=r"title must be a non-empty string"):
        Report(" ")
    with pytest.raises(ValueError, match=r"table_rows=0 must be a positive integer"):
        Report("r", table_rows=0)
    rep = Report("r")
    with pytest.raises(ValueError, match=r"table 'Top customers' has column\(s\) "
                                         r"\['customer_id'\]"):
        rep.add_table(pl.DataFrame({"customer_id": ["C1"]}), title="Top customers")
    with pytest.raises(ValueError, match=r"max_rows=0 must be a positive integer"):
        rep.add_table(pl.DataFrame({"a": [1]}), title="t", max_rows=0)
    with pytest.raises(TypeError, match=r"expects a LoadReport"):
        rep.add_data_quality({"orders": 1})
    with pytest.raises(TypeError, match=r"expects a CRMData"):
        Report.for_data(pl.DataFrame())
    with pytest.raises(ValueError, match=r"unknown or empty"):
        rep.write_charts("unused", formats=("gif",))


def test_report_without_tables_or_load_report_still_writes(tmp_path):
    rep = Report("Empty")
    rep.add_figure(_chart("Only chart")[1])
    paths = rep.write_all(tmp_path, formats=("png",), progress=False)
    assert [p.name for p in paths["charts"]] == ["01-only-chart.png"]
    assert openpyxl.load_workbook(paths["workbook"]).sheetnames == ["README", "Contents"]
    assert "No load report" in paths["html"].read_text()
    # title, agenda, methods, the appendix divider and the chart
    assert len(Presentation(paths["deck"]).slides) == 5


def test_for_data_shows_only_the_folder_name_of_the_source(tmp_path):
    report = LoadReport(source="/home/jsmith/clients/acme-export/",
                        tables={"orders": TableReport(read=3, kept=3)})
    data = CRMData(customers=pl.DataFrame(), orders=pl.DataFrame(), report=report)
    rep = Report.for_data(data)
    assert rep.source == "acme-export"
    page = rep.write_html(tmp_path / "r.html").read_text()
    assert "jsmith" not in page and "1 table read from acme-export: 3 rows" in page


def test_progress_bar_shown_when_asked_and_silent_otherwise(tmp_path, capsys):
    rep = Report("Progress")
    rep.add_table(pl.DataFrame({"a": [1]}), title="t")
    rep.write_all(tmp_path / "quiet", progress=False)
    assert capsys.readouterr().err == ""
    rep.write_all(tmp_path / "loud", progress=True)
    err = capsys.readouterr().err
    assert "deck" in err and "/3 [" in err  # 3 steps: workbook, html, deck (no charts)


def test_size_must_be_a_name_or_a_pair(tmp_path):
    with pytest.raises(TypeError, match=r"size must be \['slide', 'a4'\] or a \(width, "
                                        r"height\) tuple"):
        prepare_figure(_chart("x")[0], size=7)


def test_check_in_browser_names_the_install_line_without_chromium(tmp_path, monkeypatch):
    import loyaltylab.report._browser as browser

    monkeypatch.setattr(browser, "find_chromium", lambda: None)
    page = tmp_path / "r.html"
    page.write_text("<p>hi</p>")
    with pytest.raises(FileNotFoundError, match=r"apt-get install -y chromium"):
        browser.check_in_browser(page)


def test_identifier_guard_flags_personal_columns_not_ordinary_names():
    from loyaltylab.report._excel import check_no_identifiers

    check_no_identifiers(pl.DataFrame({"campaign_name": ["spring"], "product_line": ["a"],
                                       "account_manager": ["AM01"], "customers": [3]}))
    for col in ("Customer ID", "order_id", "visitor_id", "Phone Number", "last_name",
                "street", "e_mail"):
        with pytest.raises(ValueError, match=rf"\['{col}'\] that identify customers"):
            check_no_identifiers(pl.DataFrame({col: ["x"]}))


def test_rounded_rounds_floats_and_keeps_p_values_readable():
    from loyaltylab.churn import AtRiskList  # a result object: read through its .frame
    from loyaltylab.report import rounded

    t = pl.DataFrame({"segment": ["a", "b"], "rate": [0.123456, 2.0 / 3.0],
                      "p_value": [0.000123456, 0.0467891], "ci_p_value_low": [0.98765, 1.0],
                      "n": [12, 7]})
    out = rounded(t)
    assert out.columns == t.columns and out.dtypes == t.dtypes
    # by hand: 3 decimals for rates; p-values to 2 significant figures
    assert out["rate"].to_list() == [0.123, 0.667]
    assert out["p_value"].to_list() == [0.00012, 0.047]
    assert out["ci_p_value_low"].to_list() == [0.99, 1.0]
    assert out["n"].to_list() == [12, 7] and out["segment"].to_list() == ["a", "b"]
    assert t["rate"][0] == 0.123456  # the input is not changed
    assert rounded(t, 1, p_value_digits=1)["p_value"].to_list() == [0.0001, 0.05]
    table = AtRiskList(t)
    assert rounded(table)["rate"].to_list() == [0.123, 0.667]
    with pytest.raises(TypeError, match="expected a polars DataFrame, got list"):
        rounded([1.23])
    with pytest.raises(ValueError, match="digits must be a whole number"):
        rounded(t, -1)
