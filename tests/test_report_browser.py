"""Checked as a person would: the HTML report opens in headless Chromium (Debian package
``chromium``; ``.ci/run`` installs it) with no errors, every image loaded, and a screenshot
that shows the page. A deliberately broken page shows the check can fail.

The reports of real ``loyaltylab report`` runs (the bundled sample, and a plain client
export without the optional tables) are read as a client would: no text node on the page
holds a code identifier, the executive summary comes first, and screenshots are taken at
laptop width (1366 px). With ``LOYALTYLAB_UPDATE_SCREENSHOTS=1`` the first screen of the
sample's report is saved as ``docs/images/report-first-page.png`` for the README."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import os  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from loyaltylab.data.crmdata import LoadReport, TableReport  # noqa: E402
from loyaltylab.report import Footnote, Report, check_in_browser, find_chromium  # noqa: E402
from loyaltylab.report._browser import code_words, print_to_pdf  # noqa: E402

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="Chromium is not installed (Debian: apt-get install -y chromium); .ci/run "
           "installs it so CI always runs this check")


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    rep = Report("Loyalty report", source="browser test data")
    rep.add_data_quality(LoadReport(source="test", tables={
        "orders": TableReport(read=10, kept=9, rejected=1, reasons={"negative amount": 1})}))
    rep.add_heading("Charts")
    for k in range(2):
        fig, ax = plt.subplots()
        ax.bar(["a", "b", "c"], [3 + k, 5, 2])
        ax.set_title(f"Buyers per segment {k}, 10 customers")
        rep.add_figure(ax, footnote=Footnote(n=10, ci="95% Wilson score interval"))
    rep.add_table(pl.DataFrame({"segment": ["a", "b"], "buyers": [3, 5]}), title="Buyers")
    rep.add_skipped("Survey scores", "no surveys table")
    return rep.write_html(tmp_path_factory.mktemp("browser") / "report.html")


def test_report_opens_without_errors_and_every_image_loads(report_html, tmp_path):
    shot = tmp_path / "shot.png"
    check = check_in_browser(report_html, screenshot=shot, window_size=(1280, 2000))
    assert check.errors == []
    assert check.images == 2 and check.broken_images == []
    assert check.ok
    assert check.page_height > 1200  # two charts, a table and the sections were laid out
    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 2000)
    pixels = np.asarray(img).reshape(-1, 3)
    non_white = (pixels < 245).any(axis=1).mean()
    assert 0.02 < non_white < 0.9  # neither blank nor a solid block
    assert len(np.unique(pixels[::7], axis=0)) > 50  # text, charts, shading
    # the header rule in the house accent colour #0072B2 is visible on screen
    accent = (np.abs(pixels.astype(int) - [0, 114, 178]).sum(axis=1) < 30).sum()
    assert accent > 500


def test_check_catches_broken_images_and_script_errors(tmp_path):
    page = tmp_path / "broken.html"
    Image.new("RGB", (4, 4), "red").save(tmp_path / "present.png")
    page.write_text(
        "<!DOCTYPE html><html><head><title>broken</title></head><body>"
        "<img alt='corrupt' src='data:image/png;base64,iVBORw0KGgoAAAAAbroken'>"
        "<img alt='missing' src='missing-chart.png'>"
        "<img alt='present' src='present.png'>"
        "<script>undefinedFunction();</script>"
        "</body></html>")
    check = check_in_browser(page)
    assert not check.ok
    assert check.images == 3  # the image that exists next to the page loads
    assert sorted(b.split(" <- ")[0] for b in check.broken_images) == ["corrupt", "missing"]
    assert any("uncaught error" in e and "undefinedFunction" in e for e in check.errors)
    assert any("failed to load <img>" in e and "missing-chart.png" in e
               for e in check.errors)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.html", "present.png"]


def test_check_in_browser_errors(tmp_path):
    with pytest.raises(ValueError, match=r"is not a file; pass the report.html path"):
        check_in_browser(tmp_path / "nope.html")


def test_check_in_browser_times_out_clearly(report_html):
    with pytest.raises(TimeoutError, match=r"Chromium did not finish within 0.01 s"):
        check_in_browser(report_html, timeout=0.01)
    # no probe file is left next to the page
    assert [p.name for p in report_html.parent.iterdir()] == ["report.html"]


# ------------------------------------------------------------------ real runs, as a client reads
LAPTOP = (1366, 900)
README_SHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "report-first-page.png"


def _run(source, out):
    from loyaltylab.cli import main

    # the browser reads report.html only: no chart files (they are tested in test_pipeline)
    args = ([] if source is None else [str(source)]) + ["--out", str(out), "--no-progress",
                                                       "--salt", "browser-test",
                                                       "--charts", "none"]
    assert main(["report", *args]) == 0
    return out / "report.html"


@pytest.fixture(scope="module")
def sample_html(tmp_path_factory):
    return _run(None, tmp_path_factory.mktemp("sample") / "out")


@pytest.fixture(scope="module")
def plain_export_html(tmp_path_factory):
    from test_pipeline import minimal_export

    folder = minimal_export(tmp_path_factory.mktemp("export") / "export", n=150,
                            columns=("segment",))
    return _run(folder, tmp_path_factory.mktemp("plain") / "out")


def _check_reads_as_prose(page, shot):
    check = check_in_browser(page, screenshot=shot, window_size=LAPTOP)
    assert check.ok, (check.errors, check.broken_images)
    assert check.images >= 3
    assert code_words(check.texts) == []
    return check


def test_sample_report_has_no_code_words_and_opens_with_the_summary(sample_html, tmp_path):
    shot = tmp_path / "report-first-page.png"
    check = _check_reads_as_prose(sample_html, shot)
    texts = check.texts
    # the page opens with the executive summary: five to eight ranked findings
    first = texts.index("Executive summary", texts.index("Contents") + 2)
    assert texts.index("The data", first) > first
    page = sample_html.read_text(encoding="utf-8")
    summary = page.split('<section id="summary"')[1].split("</section>")[0]
    assert 5 <= summary.count("<li>") <= 8
    assert "typical of most firms" in summary and "net promoter score" in summary
    # every section asks its question before its chart
    assert page.count('<p class="question">') == 6
    img = Image.open(shot)
    assert img.size == LAPTOP
    if os.environ.get("LOYALTYLAB_UPDATE_SCREENSHOTS") == "1":
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        img.convert("RGB").quantize(colors=128).save(README_SHOT, optimize=True)
    if README_SHOT.exists():
        assert README_SHOT.stat().st_size < 300_000


def test_plain_export_report_reads_as_prose(plain_export_html, tmp_path):
    check = _check_reads_as_prose(plain_export_html, tmp_path / "plain.png")
    page = plain_export_html.read_text(encoding="utf-8")
    # what the export could not support is listed for the consultant at the end only
    body, appendix = page.split('<section id="not-included"')
    assert "Not included" in appendix and "surveys table" in appendix
    # the code-word check read the appendix too: its reasons are among the texts checked
    assert "Not included" in check.texts
    assert any("This section would show what customers say" in t for t in check.texts)
    assert 'class="skipped"' not in body
    assert any("Executive summary" == t for t in check.texts)


def test_code_word_check_catches_identifiers(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><head><title>t</title><style>.x{}</style></head>"
                    "<body><p>Pass as_of= the date.</p><p>Call stratify_failing() now."
                    "</p><p hidden>hidden_word</p><p>NPS = 12 (95 % interval)</p>"
                    "</body></html>", encoding="utf-8")
    found = code_words(check_in_browser(page).texts)
    assert [f.split(" in: ")[0] for f in found] == ["as_of=", "stratify_failing("]


def test_report_prints_to_readable_pdf_pages(sample_html, tmp_path):
    """The print stylesheet: A4 pages, wide tables on landscape pages, nothing cut off
    (pdfinfo and pdftotext from Debian's poppler-utils, which .ci/run installs)."""
    import subprocess

    if not (shutil.which("pdfinfo") and shutil.which("pdftotext")):
        pytest.skip("poppler-utils (pdfinfo, pdftotext) are not installed")
    pdf = print_to_pdf(sample_html, tmp_path / "report.pdf")
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], check=True,
                          capture_output=True, text=True).stdout
    sizes = [tuple(round(float(x)) for x in m) for m in
             __import__("re").findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
    assert len(sizes) >= 5
    assert (595, 842) in sizes  # A4 portrait, in points
    assert (842, 595) in sizes  # the wide tables' landscape pages
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "Executive summary" in text and "Glossary" in text
    # the widest table's last column is on the page, not cut off at the right edge
    assert "p-value" in text and "Complaint rate" in text
