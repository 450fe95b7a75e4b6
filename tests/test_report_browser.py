"""Checked as a person would: the HTML report opens in headless Chromium (Debian package
``chromium``; ``.ci/run`` installs it) with no errors, every image loaded, and a screenshot
that shows the page. A deliberately broken page shows the check can fail."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from loyaltylab.data.crmdata import LoadReport, TableReport  # noqa: E402
from loyaltylab.report import Footnote, Report, check_in_browser, find_chromium  # noqa: E402

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
