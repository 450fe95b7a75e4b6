"""Chart PDFs embed lean font subsets: the OpenType layout tables (GSUB, GPOS, GDEF), which
no PDF viewer reads, are dropped (they were most of the time spent writing a chart PDF),
while the glyphs, the text (selectable and searchable) and matplotlib's own state stay as
they were."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from matplotlib.backends import _backend_pdf_ps  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from loyaltylab.report import _figures as F  # noqa: E402

TITLE = "Kunden je Quartal – Überblick (n = 12.345)"


def _chart():
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(range(4), [3, 5, 2, 4])
    ax.set_title(TITLE)
    ax.set_ylabel("Umsatz (€)")
    return fig


def _embedded_fonts(pdf: bytes) -> list[TTFont]:
    """Every TrueType font program in the PDF (the FlateDecode streams that parse as one)."""
    fonts = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S):
        try:
            data = zlib.decompress(raw)
        except zlib.error:
            continue
        if data[:4] in (b"\x00\x01\x00\x00", b"true"):
            fonts.append(TTFont(io.BytesIO(data)))
    return fonts


@pytest.fixture(scope="module")
def pdfs():
    fig = _chart()
    try:
        lean = F.render(fig, "pdf")
        with matplotlib.rc_context(F._EXPORT_RC):
            buf = io.BytesIO()
            fig.savefig(buf, format="pdf")  # matplotlib as it is, for comparison
        return lean, buf.getvalue()
    finally:
        plt.close(fig)


def test_the_layout_tables_are_dropped_and_the_glyphs_kept(pdfs):
    lean, plain = pdfs
    lean_fonts, plain_fonts = _embedded_fonts(lean), _embedded_fonts(plain)
    assert lean_fonts and len(lean_fonts) == len(plain_fonts)
    # the probe can fail: matplotlib on its own keeps the layout tables
    assert any({"GSUB", "GPOS"} & set(f.keys()) for f in plain_fonts)
    for lean_font, plain_font in zip(lean_fonts, plain_fonts):
        assert not {"GSUB", "GPOS", "GDEF"} & set(lean_font.keys())
        assert lean_font.getGlyphOrder() == plain_font.getGlyphOrder()
        assert lean_font["glyf"].keys() == plain_font["glyf"].keys()
    assert len(lean) < len(plain)


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext (Debian's poppler-utils, installed by .ci/run) is absent")
def test_the_text_stays_searchable(pdfs, tmp_path):
    lean, _ = pdfs
    path = tmp_path / "chart.pdf"
    path.write_bytes(lean)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert TITLE in text and "Umsatz (€)" in text


def test_matplotlib_is_left_as_it_was(pdfs):
    # after the save, and also when the save fails half-way
    assert _backend_pdf_ps.subset.__name__ == "fontTools.subset"
    fig = _chart()

    class Broken(Text):
        def draw(self, renderer):
            raise RuntimeError("drawing failed")

    fig.add_artist(Broken(0.5, 0.5, "x"))
    try:
        with pytest.raises(RuntimeError, match="drawing failed"):
            F.render(fig, "pdf")
    finally:
        plt.close(fig)
    assert _backend_pdf_ps.subset.__name__ == "fontTools.subset"
    assert not F._SUBSET_LOCK.locked()
