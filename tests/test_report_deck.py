"""The deck is a deck: title, agenda, executive summary, one slide per finding with a native
chart where the chart allows, methods, data quality and appendix; rendered with LibreOffice
(``libreoffice-impress``, installed by ``.ci/run``) to check page count and that no text
leaves its box; branding and user templates.

The rendering tests skip only when ``soffice`` is absent. Set
``LOYALTYLAB_WRITE_DOCS_IMAGES=1`` to refresh ``docs/images/deck-slide-*.png`` for the
README from the rendered deck.
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from pptx import Presentation  # noqa: E402
from pptx.enum.chart import XL_CHART_TYPE  # noqa: E402
from pptx.util import Inches, Pt  # noqa: E402

from loyaltylab.data.crmdata import CRMData, LoadReport, TableReport  # noqa: E402
from loyaltylab.exceptions import SourceError  # noqa: E402
from loyaltylab.report import Finding, Footnote, Report  # noqa: E402
from loyaltylab.report._brand import Brand, deliverable_options, load_brand  # noqa: E402
from loyaltylab.report._deck import axes_to_chart, fit_font_size  # noqa: E402

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")
needs_office = pytest.mark.skipif(
    SOFFICE is None or PDFTOTEXT is None,
    reason="LibreOffice Impress (soffice) and poppler-utils (pdftotext) are needed to render "
           "the deck; .ci/run installs them (apt-get install libreoffice-impress "
           "poppler-utils)")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _logo(path: Path, size=(240, 80)) -> Path:
    Image.new("RGB", size, (122, 31, 92)).save(path)
    return path


# ------------------------------------------------------------------ charts by hand
def _bars():
    fig, ax = plt.subplots()
    ax.bar(["price", "convenience", "relationship"], [1200, 800, 450], color="#0072B2",
           label="customers")
    ax.set_title("Customers by segment, 2,450 customers")
    ax.set_ylabel("customers")
    return ax


def _stacked():
    fig, ax = plt.subplots()
    q = ["2024 Q1", "2024 Q2", "2024 Q3"]
    new, repeat = np.array([100, 120, 90]), np.array([300, 310, 330])
    ax.bar(q, new, label="new buyers", color="#E69F00")
    ax.bar(q, repeat, bottom=new, label="repeat buyers", color="#0072B2")
    ax.legend()
    ax.set_title("Buyers per quarter, new and repeat")
    return ax


def _line():
    from matplotlib.ticker import PercentFormatter

    fig, ax = plt.subplots()
    months = [datetime(2024, m, 1) for m in range(1, 7)]
    ax.plot(months, [0.31, 0.29, 0.30, 0.27, 0.26, 0.25], marker="o", label="churn rate")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_title("Monthly churn rate, 6 months")
    ax.set_ylabel("customers lost")
    return ax


def _scatter():
    fig, ax = plt.subplots()
    ax.scatter([1.0, 2.0, 3.5, 4.0], [10.0, 25.0, 30.0, 55.0], label="customers")
    ax.set_xlabel("orders per year")
    ax.set_ylabel("margin")
    ax.set_title("Margin against orders, 4 customers")
    return ax


def _heatmap():
    fig, ax = plt.subplots()
    ax.imshow(np.arange(12).reshape(3, 4))
    ax.set_title("Cohort retention heat map")
    return ax


def _steps_with_band():
    fig, ax = plt.subplots()
    t = np.arange(10)
    s = 0.95 ** t
    ax.step(t, s, where="post", label="all customers")
    ax.fill_between(t, s - 0.05, s + 0.05, step="post", alpha=0.3)
    ax.set_title("Retention, 500 customers (Kaplan-Meier)")
    return ax


def _hbars():
    fig, ax = plt.subplots()
    ax.barh(["email", "phone", "visit"], [0.52, 0.57, 0.64], color=["#0072B2", "#E69F00",
                                                                    "#009E73"])
    ax.invert_yaxis()
    ax.set_title("Conversion by channel")
    return ax


def _load_report() -> LoadReport:
    return LoadReport(source="client export", tables={
        "customers": TableReport(read=2450, kept=2450, rejected=0),
        "orders": TableReport(read=10_000, kept=9_990, rejected=10,
                              reasons={"amount is negative": 10})})


LONG_HEADLINE = ("About 27 % of customers are lost each year (24-30 %), inside the 20-40 % "
                 "typical of most firms, but the price segment loses 41 % (36-46 %), far "
                 "above the band, and accounts for most of the revenue that leaves")


def _report(brand=None, template=None) -> Report:
    data = CRMData(customers=pl.DataFrame(), orders=pl.DataFrame(), report=_load_report(),
                   as_of=datetime(2026, 1, 1))
    rep = Report.for_data(data, title="Customer loyalty report", brand=brand,
                          template=template)
    rep.add_heading("Who the customers are")
    rep.add_figure(_bars(), footnote=Footnote(n=2450, end=date(2026, 1, 1)))
    rep.add_figure(_stacked(), footnote="n = 1,250 buyers; new = first order in the quarter")
    rep.add_figure(_hbars(), footnote="n = 3,100 contacts; CI: 95% Wilson score interval")
    rep.add_heading("Churn and retention")
    rep.add_figure(_line(), footnote=Footnote(n=900, definition="churned = no order for 180 "
                                                                 "days"))
    rep.add_figure(_steps_with_band(), footnote="n = 500 customers; 95% Greenwood band")
    rep.add_figure(_heatmap(), footnote="12 cohorts")
    rep.add_figure(_scatter(), footnote="n = 4 customers")
    rep.add_table(pl.DataFrame({"segment": ["price", "convenience"], "retention": [0.7, 0.8]}),
                  title="Retention by segment")
    rep.add_skipped("Survey scores", "The export has no surveys table, so no net promoter "
                                     "score is shown.")
    rep.add_methods("Churned = no order for 180 days; customers still inside their window "
                    "are censored.", heading="Churn")
    rep.add_finding(Finding(LONG_HEADLINE, "Retention is ordinary overall; the price segment "
                            "is where a retention programme pays first.",
                            section="Churn and retention", weight=5.0,
                            figure="monthly-churn-rate-6-months"))
    rep.add_finding(Finding("Price buyers are half of all customers (1,200 of 2,450).",
                            "The mix leans to the segment that leaves fastest.",
                            section="Who the customers are", weight=3.0,
                            figure="customers-by-segment-2450-customers"))
    rep.add_finding(Finding("Repeat buyers grew every quarter, from 300 to 330.",
                            "The base of returning customers is widening.",
                            section="Who the customers are", weight=2.0,
                            figure="buyers-per-quarter-new-and-repeat"))
    rep.add_finding(Finding("Half of the customers who leave do so in the first four months.",
                            "The first months decide; the onboarding is where to act.",
                            section="Churn and retention", weight=1.0,
                            figure="retention-500-customers-kaplan-meier"))
    rep.add_finding(Finding("No complaint data were supplied.", "Complaint handling could not "
                            "be judged.", section="Churn and retention", weight=0.5))
    return rep


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deck")
    brand = Brand.from_mapping({"client": "Example Retail Ltd", "accent": "#7A1F5C",
                                "logo": str(_logo(tmp / "logo.png"))})
    rep = _report(brand=brand)
    path = rep.write_pptx(tmp / "deck.pptx")
    return rep, path


def _titles(prs) -> list[str]:
    out = []
    for s in prs.slides:
        t = s.shapes.title
        out.append(t.text_frame.text if t is not None else "")
    return out


# ------------------------------------------------------------------ structure
def test_deck_is_16_9_with_title_agenda_summary_findings_methods_appendix(deck):
    rep, path = deck
    prs = Presentation(path)
    assert (prs.slide_width, prs.slide_height) == (Inches(13.333), Inches(7.5))
    titles = _titles(prs)
    first = prs.slides[0]
    assert titles[0] == "Customer loyalty report"
    sub = first.placeholders[1].text_frame.text
    assert "Prepared for Example Retail Ltd" in sub and "as of 2026-01-01" in sub
    assert "Data: client export" in sub
    assert [s.name for s in first.shapes if s.name == "Logo"] == ["Logo"]
    assert titles[1] == "Agenda"
    agenda = prs.slides[1].placeholders[1].text_frame.text.split("\n")
    assert agenda == ["Executive summary", "Who the customers are", "Churn and retention",
                      "Methods and data quality", "Appendix"]
    # the summary lists the headlines, largest weight first
    assert titles[2] == "Executive summary"
    summary = prs.slides[2].placeholders[1].text_frame.text.split("\n")
    assert summary == [f.headline for f in rep.findings]
    assert summary[0] == LONG_HEADLINE
    # a section slide, then its findings by weight, each headline a slide title
    i = titles.index("Who the customers are")
    assert titles[i + 1:i + 3] == ["Price buyers are half of all customers (1,200 of 2,450).",
                                   "Repeat buyers grew every quarter, from 300 to 330."]
    j = titles.index("Churn and retention")
    assert titles[j + 1] == LONG_HEADLINE
    assert titles[j + 3] == "No complaint data were supplied."
    assert titles.index("Methods") > j and "Data quality: rows read, kept and rejected" in titles
    k = titles.index("Appendix")
    assert titles[k + 1] == "Not included, and why"
    # charts no finding uses, in report order
    assert titles[k + 2:] == ["Conversion by channel", "Cohort retention heat map",
                              "Margin against orders, 4 customers"]


def test_finding_slides_carry_meaning_footnote_and_notes(deck):
    _, path = deck
    prs = Presentation(path)
    slide = next(s for s in prs.slides if s.shapes.title.text_frame.text == LONG_HEADLINE)
    shapes = {s.name: s for s in slide.shapes}
    assert shapes["Meaning"].text_frame.text.startswith("Retention is ordinary overall")
    foot = shapes["Footnote"].text_frame.text
    assert foot == "n = 900 customers; churned = no order for 180 days"
    assert slide.notes_slide.notes_text_frame.text == foot
    assert "Logo" in shapes  # brand logo in the footer corner
    assert shapes["Logo"].left >= shapes["Footnote"].left + shapes["Footnote"].width
    # chart, meaning and footnote do not overlap
    chart = shapes["Chart"]
    assert chart.left + chart.width <= shapes["Meaning"].left
    assert chart.top + chart.height <= shapes["Footnote"].top
    # the accent colour of the brand marks the title
    accent = shapes["Accent"]
    assert str(accent.fill.fore_color.rgb) == "7A1F5C"


def test_data_quality_slide_is_a_table_of_the_load_report(deck):
    _, path = deck
    prs = Presentation(path)
    slide = next(s for s in prs.slides
                 if s.shapes.title.text_frame.text.startswith("Data quality"))
    table = next(s for s in slide.shapes if s.has_table).table
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["Table", "Rows read", "Kept", "Rejected", "Set aside by rules"]
    assert rows[2] == ["orders", "10,000", "9,990", "10", "0"]


# ------------------------------------------------------------------ native charts
def _chart_on(prs, title):
    slide = next(s for s in prs.slides if s.shapes.title.text_frame.text == title)
    charts = [s for s in slide.shapes if s.has_chart]
    pictures = [s for s in slide.shapes if s.name == "Chart picture"]
    return (charts[0].chart if charts else None), pictures


def test_native_charts_carry_their_data(deck):
    _, path = deck
    prs = Presentation(path)
    bar, _ = _chart_on(prs, "Price buyers are half of all customers (1,200 of 2,450).")
    assert bar.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED
    plot = bar.plots[0]
    assert list(plot.categories) == ["price", "convenience", "relationship"]
    assert list(plot.series[0].values) == [1200, 800, 450]
    assert bar.chart_title.text_frame.text == "Customers by segment, 2,450 customers"
    assert bar.value_axis.axis_title.text_frame.text == "customers"

    stacked, _ = _chart_on(prs, "Repeat buyers grew every quarter, from 300 to 330.")
    assert stacked.chart_type == XL_CHART_TYPE.COLUMN_STACKED
    assert [s.name for s in stacked.plots[0].series] == ["new buyers", "repeat buyers"]
    assert list(stacked.plots[0].series[1].values) == [300, 310, 330]  # not the cumulative
    assert str(stacked.plots[0].series[0].format.fill.fore_color.rgb) == "E69F00"

    line, _ = _chart_on(prs, LONG_HEADLINE)
    assert line.chart_type == XL_CHART_TYPE.LINE_MARKERS
    assert list(line.plots[0].categories) == ["Jan 2024", "Feb 2024", "Mar 2024", "Apr 2024",
                                              "May 2024", "Jun 2024"]
    assert list(line.plots[0].series[0].values) == pytest.approx([0.31, 0.29, 0.30, 0.27,
                                                                  0.26, 0.25])
    assert line.value_axis.tick_labels.number_format == "0%"

    hbar, _ = _chart_on(prs, "Conversion by channel")
    assert hbar.chart_type == XL_CHART_TYPE.BAR_CLUSTERED
    assert hbar.category_axis.reverse_order  # top-down as in the picture
    points = hbar.plots[0].series[0].points
    assert [str(points[i].format.fill.fore_color.rgb) for i in range(3)] == [
        "0072B2", "E69F00", "009E73"]

    xy, _ = _chart_on(prs, "Margin against orders, 4 customers")
    assert xy.chart_type == XL_CHART_TYPE.XY_SCATTER  # markers only, as drawn
    ser = xy.plots[0].series[0]
    assert list(ser.values) == [10.0, 25.0, 30.0, 55.0]
    assert list(ser.iter_values()) == [10.0, 25.0, 30.0, 55.0]
    xml = ser._element.xml
    assert all(f"<c:v>{x}</c:v>" in xml for x in ("1.0", "2.0", "3.5", "4.0"))  # x values


def test_steps_with_bands_and_heat_maps_are_pictures(deck):
    _, path = deck
    prs = Presentation(path)
    for title in ("Half of the customers who leave do so in the first four months.",
                  "Cohort retention heat map"):
        chart, pictures = _chart_on(prs, title)
        assert chart is None and len(pictures) == 1
        pic = pictures[0]
        w_px, h_px = Image.open(io.BytesIO(pic.image.blob)).size
        # as sharp as a full-HD screen shows a full-screen slide (144 pixels an inch)
        assert w_px / (pic.width / 914400) >= 144
        assert pic.width / pic.height == pytest.approx(w_px / h_px, rel=0.01)


@pytest.mark.parametrize("draw", [
    lambda ax: ax.errorbar([1, 2], [3, 4], yerr=[0.5, 0.5]),
    lambda ax: (ax.plot([1, 10], [1, 100]), ax.set_yscale("log")),
    lambda ax: (ax.bar(["a", "b"], [1, 2]), ax.annotate("the campaign started", (0, 1))),
    lambda ax: (ax.plot([0, 1], [1, 2]), ax.axvspan(0.2, 0.4)),
    lambda ax: (ax.plot([0, 1], [1, 2]), ax.axhline(1.5)),
    lambda ax: ax.step([0, 1, 2], [1, 0.8, 0.7]),
    lambda ax: ax.pcolormesh(np.ones((2, 2))),
    lambda ax: (ax.bar(["a", "b"], [1, 2]), ax.plot([0, 1], [1, 2])),
], ids=["error bars", "log scale", "annotation", "band", "reference line", "steps", "mesh",
        "bars and line"])
def test_what_a_native_chart_cannot_show_falls_back_to_a_picture(draw):
    fig, ax = plt.subplots()
    draw(ax)
    assert axes_to_chart(ax) is None


def test_value_labels_become_data_labels():
    fig, ax = plt.subplots()
    bars = ax.bar(["a", "b"], [1200, 800])
    ax.bar_label(bars, labels=["1,200", "800"])
    spec = axes_to_chart(ax)
    assert spec is not None and spec.data_labels


# ------------------------------------------------------------------ rendering
def _render(pptx: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    profile = out / "profile"
    proc = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "pdf", "--outdir", str(out), str(pptx)], capture_output=True, text=True, timeout=240)
    pdf = out / (pptx.stem + ".pdf")
    assert pdf.exists(), proc.stderr[-2000:]
    return pdf


def _page_words(pdf: Path) -> list[tuple[float, float, list[tuple[str, float, float, float,
                                                                  float]]]]:
    text = subprocess.run([PDFTOTEXT, "-bbox", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = []
    for m in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', text,
                         re.S):
        words = [(html.unescape(w.group(5)), float(w.group(1)), float(w.group(2)),
                  float(w.group(3)), float(w.group(4)))
                 for w in re.finditer(r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" '
                                      r'xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>',
                                      m.group(3))]
        pages.append((float(m.group(1)), float(m.group(2)), words))
    return pages


def _without_graphics(pptx: Path, out: Path) -> Path:
    prs = Presentation(pptx)
    for slide in prs.slides:
        for shape in list(slide.shapes):
            if shape.has_chart or shape.shape_type == 13:  # chart or picture
                shape._element.getparent().remove(shape._element)
    prs.save(out)
    return out


def _text_boxes(slide) -> list[tuple[set[str], tuple[float, float, float, float]]]:
    """(words, box in points) of every shape holding text: text boxes, placeholders and
    table cells (charts and pictures excluded)."""
    out = []
    for shape in slide.shapes:
        box = (shape.left / 12700, shape.top / 12700, (shape.left + shape.width) / 12700,
               (shape.top + shape.height) / 12700)
        if shape.has_text_frame and shape.text_frame.text.strip():
            out.append((set(shape.text_frame.text.split()), box))
        elif getattr(shape, "has_table", False) and shape.has_table:
            words = {w for row in shape.table.rows for c in row.cells for w in c.text.split()}
            out.append((words, box))
    return out


def overflowing_words(pptx: Path, pdf: Path, tol: float = 1.5) -> list[tuple[int, str]]:
    """(slide number, word) of every rendered word of a text shape that lies outside that
    shape's box (or outside the page)."""
    prs = Presentation(pptx)
    pages = _page_words(pdf)
    assert len(pages) == len(prs.slides)
    bad = []
    for k, (slide, (pw, ph, words)) in enumerate(zip(prs.slides, pages), start=1):
        sx, sy = pw / (prs.slide_width / 12700), ph / (prs.slide_height / 12700)
        boxes = _text_boxes(slide)
        for word, x0, y0, x1, y1 in words:
            if x0 < -tol or y0 < -tol or x1 > pw + tol or y1 > ph + tol:
                bad.append((k, word))
                continue
            owners = [b for ws, b in boxes if word in ws]
            if not owners:
                continue  # chart text (axis labels) or bullets
            inside = any(b[0] * sx - tol <= x0 and x1 <= b[2] * sx + tol
                         and b[1] * sy - tol <= y0 and y1 <= b[3] * sy + tol
                         for b in owners)
            if not inside:
                bad.append((k, word))
    return bad


@needs_office
def test_rendered_deck_has_one_page_per_slide_and_no_text_outside_its_box(deck,
                                                                          tmp_path):
    _, path = deck
    pdf = _render(path, tmp_path)
    n_slides = len(Presentation(path).slides)
    pages = _page_words(pdf)
    assert len(pages) == n_slides
    # text is checked on a copy without charts and pictures, whose own labels could
    # repeat a word of a text box elsewhere on the slide
    text_only = _without_graphics(path, tmp_path / "text-only.pptx")
    assert overflowing_words(text_only, _render(text_only, tmp_path / "t")) == []
    # the headline of the long finding is on its page in full
    page_text = " ".join(w for w, *_ in pages[2][2])
    assert "revenue that leaves" in page_text
    if os.environ.get("LOYALTYLAB_WRITE_DOCS_IMAGES") == "1":
        _write_docs_images(path, pdf, tmp_path)


@needs_office
def test_the_sample_report_deck_renders_with_every_word_in_its_box(tmp_path):
    """The deck the pipeline writes for the bundled sample, with its computed findings:
    long summaries and methods are sized or split so nothing overflows."""
    import loyaltylab as ll
    from loyaltylab._pipeline import build_report

    rep = build_report(ll.datasets.load_sample(), progress=False)
    path = rep.write_pptx(tmp_path / "deck.pptx")
    prs = Presentation(path)
    titles = _titles(prs)
    if rep.findings:
        summary = prs.slides[titles.index("Executive summary")]
        assert summary.placeholders[1].text_frame.text.split("\n") == [
            f.headline for f in rep.findings[:8]]
    assert any(sh.has_chart for sl in prs.slides for sh in sl.shapes)  # native charts
    assert len(_page_words(_render(path, tmp_path / "full"))) == len(prs.slides)
    text_only = _without_graphics(path, tmp_path / "text-only.pptx")
    assert overflowing_words(text_only, _render(text_only, tmp_path / "t")) == []


def _write_docs_images(pptx: Path, pdf: Path, tmp: Path) -> None:
    titles = _titles(Presentation(pptx))
    picks = {"deck-slide-summary.png": titles.index("Executive summary") + 1,
             "deck-slide-finding.png": titles.index(
                 "Price buyers are half of all customers (1,200 of 2,450).") + 1}
    out = ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    for name, page in picks.items():
        stem = tmp / f"p{page}"
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page),
                        "-singlefile", str(pdf), str(stem)], check=True)
        Image.open(f"{stem}.png").convert("P", palette=Image.ADAPTIVE, colors=128).save(
            out / name, optimize=True)
        assert (out / name).stat().st_size < 200_000


@needs_office
def test_overflow_check_catches_an_overfull_box(tmp_path):
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank
    fits = slide.shapes.add_textbox(Inches(0.5), Inches(0.5), Inches(6), Inches(1))
    fits.text_frame.text = "A short line that fits."
    full = slide.shapes.add_textbox(Inches(0.5), Inches(2), Inches(3), Inches(0.6))
    full.text_frame.word_wrap = True
    full.text_frame.text = " ".join(f"overflowing{k}" for k in range(30))
    for para in full.text_frame.paragraphs:
        for run in para.runs:
            run.font.size = Pt(24)
    path = tmp_path / "overfull.pptx"
    prs.save(path)
    bad = overflowing_words(path, _render(path, tmp_path))
    words = {w for _, w in bad}
    assert words and all(w.startswith("overflowing") for w in words)
    assert "short" not in words
    # the deck's own fitting would have refused this size for this box
    assert fit_font_size([full.text_frame.text], full.width, full.height, max_pt=24,
                         min_pt=24) is None


def test_fit_font_size_shrinks_long_text_and_gives_up_when_nothing_fits():
    inch = 914400
    short = fit_font_size(["Agenda"], 12 * inch, 1 * inch, max_pt=30, min_pt=16)
    long = fit_font_size([LONG_HEADLINE], 12 * inch, 1 * inch, max_pt=30, min_pt=12)
    assert short == 30 and long is not None and 12 <= long < 30
    assert fit_font_size([LONG_HEADLINE * 5], 3 * inch, 1 * inch, max_pt=30, min_pt=12) is None


# ------------------------------------------------------------------ templates
def _template(tmp_path: Path) -> Path:
    """A user's master: layouts reordered and renamed, the title-only layout removed, an
    example slide, a corporate band on the master, 16:9."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    layouts = prs.slide_layouts
    for name in ("Title Only", "Blank", "Comparison"):
        layouts.remove(next(lay for lay in layouts if lay.name == name))
    for lay in layouts:
        lay.name = f"Corporate {len(lay.name)}"  # names that say nothing
    lst = layouts._sldLayoutIdLst
    ids = list(lst)
    for el in ids:
        lst.remove(el)
    for el in reversed(ids):  # reversed: index guessing would pick the wrong layouts
        lst.append(el)
    master = prs.slide_masters[0]
    example = prs.slides.add_slide(prs.slide_layouts[0])
    example.shapes.title.text = "Example slide of the template"
    band = example.shapes.add_textbox(0, Inches(7.2), Inches(13.333), Inches(0.3))
    band.name = "Corporate band"
    band.text_frame.text = "Corporate"
    master.shapes._spTree.append(band._element)  # moved onto the master
    path = tmp_path / "their.pptx"
    prs.save(path)
    return path


def test_a_user_template_replaces_the_default_by_placeholder_type(tmp_path):
    template = _template(tmp_path)
    rep = _report(template=template)
    path = rep.write_pptx(tmp_path / "deck.pptx")
    prs = Presentation(path)
    titles = _titles(prs)
    assert "Example slide of the template" not in titles
    assert titles[0] == "Customer loyalty report" and titles[1] == "Agenda"
    assert all(t for t in titles)  # every slide found a title placeholder
    assert all(any(s.name == "Corporate band" for s in slide.slide_layout.slide_master.shapes)
               for slide in prs.slides)
    from pptx.enum.shapes import PP_PLACEHOLDER

    first_types = {p.placeholder_format.type for p in prs.slides[0].placeholders}
    assert PP_PLACEHOLDER.SUBTITLE in first_types  # the title-slide layout, found by type
    agenda = prs.slides[1]
    assert any(p.placeholder_format.type in (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT)
               for p in agenda.placeholders)
    # no layout without a body remains: finding slides use the nearest and drop the body
    finding = next(s for s in prs.slides if s.shapes.title.text_frame.text == LONG_HEADLINE)
    assert not [p for p in finding.placeholders if not p.text_frame.text.strip()]
    assert any(s.has_chart for s in finding.shapes)


def test_template_errors_are_plain(tmp_path):
    bad = tmp_path / "deck.pptx"
    bad.write_text("not a deck")
    rep = _report()
    with pytest.raises(SourceError, match=r"deck template 'deck.pptx' is not a PowerPoint "
                                          r"file .*save the master as \.pptx"):
        rep.write_pptx(tmp_path / "out.pptx", template=bad)
    with pytest.raises(SourceError, match=r"deck template 'missing.pptx' not found"):
        with deliverable_options(template=tmp_path / "missing.pptx"):
            pass


# ------------------------------------------------------------------ branding
def test_brand_from_toml_reaches_html_deck_and_workbook(tmp_path):
    _logo(tmp_path / "logo.png")
    (tmp_path / "brand.toml").write_text('client = "Example <Retail>"\nlogo = "logo.png"\n'
                                         'accent = "#7a1f5c"\ncurrency = "EUR"\n')
    brand = load_brand(tmp_path / "brand.toml")
    assert (brand.client, brand.accent, brand.logo_kind) == ("Example <Retail>", "#7A1F5C",
                                                             "png")
    with deliverable_options(brand=tmp_path / "brand.toml"):
        rep = Report("Loyalty report")
    rep.add_table(pl.DataFrame({"segment": ["a"], "revenue": [1234.5]}), title="Revenue")
    page = rep._html()
    assert "--accent: #7A1F5C" in page
    assert "Prepared for Example &lt;Retail&gt;" in page and "<Retail>" not in page
    assert 'src="data:image/png;base64,' in page
    prs = Presentation(rep.write_pptx(tmp_path / "deck.pptx"))
    assert "Prepared for Example <Retail>" in prs.slides[0].placeholders[1].text_frame.text
    import openpyxl

    wb = openpyxl.load_workbook(rep.write_excel(tmp_path / "tables.xlsx"))
    assert wb["README"]["A2"].value == "Prepared for Example <Retail>"
    assert wb["Revenue"]["B2"].number_format == '#,##0.00 "EUR"'


@pytest.mark.parametrize("values, match", [
    ({"accent": "teal"}, r"brand.toml: accent 'teal' is not a hex colour; write it as "
                         r"\"#RRGGBB\", e\.g\. accent = \"#0072B2\""),
    ({"accent": "#12345"}, r"accent '#12345' is not a hex colour"),
    ({"logo": "nowhere.png"}, r"logo file 'nowhere.png' not found"),
    ({"logo": "logo.txt"}, r"logo 'logo.txt' is not a PNG or JPEG image"),
    ({"logo": "huge.png"}, r"logo 'huge.png' is 5000 x 20 pixels; use an image between 16 "
                           r"and 4000"),
    ({"colour": "#000000"}, r"unknown key\(s\) 'colour'; a brand has client, logo, accent"),
])
def test_brand_errors_name_the_file_the_key_and_the_fix(tmp_path, values, match):
    (tmp_path / "logo.txt").write_text("hello")
    _logo(tmp_path / "huge.png", size=(5000, 20))
    lines = "".join(f'{k} = "{v}"\n' for k, v in values.items())
    (tmp_path / "brand.toml").write_text(lines)
    with pytest.raises(SourceError, match=match):
        load_brand(tmp_path / "brand.toml")


def test_brand_file_that_is_not_toml_and_jpeg_logos(tmp_path):
    (tmp_path / "brand.toml").write_text("client = Example\n")
    with pytest.raises(SourceError, match=r"brand.toml: not a valid TOML brand file"):
        load_brand(tmp_path / "brand.toml")
    Image.new("RGB", (300, 100), (10, 20, 30)).save(tmp_path / "logo.jpg", quality=90)
    brand = Brand(logo=tmp_path / "logo.jpg", accent="#abc")
    assert (brand.logo_kind, brand.accent) == ("jpeg", "#AABBCC")


# ------------------------------------------------------------------ command line
def test_cli_brand_and_template_reach_the_report(tmp_path, monkeypatch, capsys):
    import loyaltylab._pipeline as pipeline
    from loyaltylab.cli import main

    seen = {}

    def fake(source, *, out, **kwargs):
        rep = Report("Demo")  # made inside the run, as the pipeline does
        seen["brand"], seen["template"] = rep.brand, rep.template
        rep.add_figure(_bars(), footnote="n = 2,450 customers")
        files = rep.write_all(out, formats=("png",), progress=False)
        return pipeline.ReportRun(rep, files, [], [])

    monkeypatch.setattr(pipeline, "run_report", fake)
    _logo(tmp_path / "logo.png")
    (tmp_path / "brand.toml").write_text('client = "Example Retail"\nlogo = "logo.png"\n'
                                         'accent = "#7A1F5C"\n')
    template = _template(tmp_path)
    out = tmp_path / "out"
    assert main(["report", "--out", str(out), "--salt", "s", "--brand",
                 str(tmp_path / "brand.toml"), "--template", str(template)]) == 0
    assert seen["brand"].client == "Example Retail" and seen["template"] == template
    prs = Presentation(out / "deck.pptx")
    assert any(s.name == "Corporate band" for s in prs.slides[0].slide_layout.slide_master.shapes)
    assert "Example Retail" in (out / "report.html").read_text(encoding="utf-8")
    assert Report("after the run").brand is None  # the options end with the run


def test_cli_bad_brand_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    import loyaltylab._pipeline as pipeline
    from loyaltylab.cli import main

    def never(*args, **kwargs):
        raise AssertionError("the run must not start with a bad brand file")

    monkeypatch.setattr(pipeline, "run_report", never)
    (tmp_path / "brand.toml").write_text('accent = "purple"\n')
    assert main(["report", "--out", str(tmp_path / "out"), "--salt", "s", "--brand",
                 str(tmp_path / "brand.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert "brand.toml: accent 'purple' is not a hex colour" in err[0]
    assert main(["report", "--out", str(tmp_path / "out"), "--salt", "s", "--template",
                 str(tmp_path / "none.pptx")]) == 2
    assert "deck template 'none.pptx' not found" in capsys.readouterr().err


def test_a_finding_outside_the_report_sections_gets_its_own_section_first(tmp_path):
    rep = Report("Loyalty report")
    rep.add_heading("Churn and retention")
    rep.add_figure(_bars(), footnote="n = 2,450 customers")
    rep.add_finding(Finding("Most customers stay.", "Good.", section="Churn and retention",
                            weight=2.0, figure="customers-by-segment-2450-customers"))
    rep.add_finding(Finding("2.2% of the rows read were rejected on load.",
                            "The figures describe the rows kept.", section="Data quality",
                            weight=1.0))
    prs = Presentation(rep.write_pptx(tmp_path / "deck.pptx"))
    titles = _titles(prs)
    assert prs.slides[1].placeholders[1].text_frame.text.split("\n") == [
        "Executive summary", "Data quality", "Churn and retention",
        "Methods and data quality", "Appendix"]
    i = titles.index("Data quality")
    assert titles[i + 1:i + 4] == ["2.2% of the rows read were rejected on load.",
                                   "Churn and retention", "Most customers stay."]
    assert titles[-1] == "Appendix"  # the only chart is on its finding's slide
