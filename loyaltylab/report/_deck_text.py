"""Text that fits its box on a slide: the largest font size at which paragraphs fit, measured
with DejaVu Sans (used by :mod:`loyaltylab.report._deck`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["fit_font_size"]

_EMU_PER_INCH = 914400
_EMU_PER_PT = 12700
_BULLET_INDENT = int(0.5 * _EMU_PER_INCH)
"""Room a bullet and its hanging indent take from a line (templates use about 0.3 in)."""


@lru_cache(maxsize=64)
def _font(size: float) -> Any:
    import matplotlib
    from PIL import ImageFont

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return ImageFont.truetype(str(path), size=max(1, int(round(size * 4))))


def _text_width_pt(text: str, size: float, bold: bool = False) -> float:
    # measured at 4x for precision; DejaVu Sans is wider than the Calibri/Carlito of the
    # default theme, so the estimate errs towards smaller text, never overflow
    return _font(size).getlength(text) / 4 * (1.05 if bold else 1.0)


def _lines_needed(paragraphs: Sequence[str], size: float, width_pt: float,
                  bold: bool = False) -> int:
    n = 0
    for para in paragraphs:
        words = para.split()
        if not words:
            n += 1
            continue
        line = ""
        count = 1
        for w in words:
            trial = f"{line} {w}" if line else w
            if _text_width_pt(trial, size, bold) <= width_pt:
                line = trial
            else:
                if line:
                    count += 1
                line = w
                # a single word longer than the line wraps by characters
                while _text_width_pt(line, size, bold) > width_pt and len(line) > 1:
                    cut = max(1, int(len(line) * width_pt / _text_width_pt(line, size, bold)))
                    line = line[cut:]
                    count += 1
        n += count
    return n


def fit_font_size(paragraphs: Sequence[str], width_emu: int, height_emu: int, *,
                  max_pt: float, min_pt: float, bold: bool = False,
                  spacing: float = 1.2, para_gap: float = 0.0,
                  indent: int = 0) -> float | None:
    """The largest font size (whole points, ``max_pt`` down to ``min_pt``) at which the
    paragraphs fit a text box of this size with its default insets; None if none fits.

    Text is measured with DejaVu Sans, which is wider than the deck's theme font, so a size
    that fits here fits on the slide.

    Examples
    --------
    >>> inch = 914400
    >>> fit_font_size(["A short title"], 10 * inch, 1 * inch, max_pt=32, min_pt=12)
    32
    >>> fit_font_size(["word " * 400], 3 * inch, 1 * inch, max_pt=32, min_pt=12) is None
    True
    """
    width_pt = (width_emu - indent) / _EMU_PER_PT - 14.4 - 2  # 0.1 in insets left, right
    height_pt = height_emu / _EMU_PER_PT - 7.2 - 2  # 0.05 in insets top and bottom
    size = int(max_pt)
    while size >= min_pt:
        lines = _lines_needed(paragraphs, size, width_pt, bold)
        need = lines * size * spacing + para_gap * size * max(0, len(paragraphs) - 1)
        if need <= height_pt:
            return size
        size -= 1
    return None


def _truncate_to_fit(text: str, width: int, height: int, size: float) -> str:
    """Shorten text with an ellipsis until it fits at ``size`` (last resort)."""
    words = text.split()
    while words and fit_font_size([" ".join(words) + " …"], width, height, max_pt=size,
                                  min_pt=size) is None:
        words = words[:-max(1, len(words) // 10)]
    return " ".join(words) + " …"
