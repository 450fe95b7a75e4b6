"""Where a table's header is, and which rows are totals (not public API).

Client exports often carry a title above the header ("Sales report", "Exported
2026-03-01", a blank line, Excel's ``sep=;`` line) and a totals row at the bottom. The
readers use :func:`find_header_row` on the first rows of a text file or a sheet to skip
the title; totals rows are *not* dropped by the readers (they stay rows, so validation
rejects them with a reason): :func:`is_totals_label` tells validation which labels mean
"total".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

__all__ = ["find_header_row", "is_totals_label", "TOTALS_WORDS"]

#: Words that label a totals (or subtotal) row, in the languages of the exports we see.
TOTALS_WORDS = frozenset({
    # English
    "total", "totals", "grand total", "subtotal", "sub total", "sub-total", "sum",
    "overall",
    # German
    "summe", "gesamt", "gesamtsumme", "insgesamt", "zwischensumme", "endsumme",
    # French
    "totale", "total general", "sous-total", "sous total", "somme",
    # Swedish, Danish, Norwegian
    "totalt", "summa", "total sum", "i alt", "ialt", "sum total", "totalsum", "totalsumma",
    "delsumma",
    # Dutch
    "totaal", "subtotaal", "eindtotaal", "som",
    # Spanish, Portuguese, Italian
    "suma", "suma total", "totales", "soma", "totale generale", "somma", "totali", "subtotale",
    # Polish, Czech, Finnish
    "razem", "ogolem", "celkem", "yhteensa", "summa yhteensa",
})

_NUMBERISH = re.compile(r"""^[\s(+\-−]*[$€£¥]?\s*\d[\d\s.,'’:/\-]*\s*[%$€£¥)]?\s*$""")
_WORD = re.compile(r"[^\w\s\-]+")


def _blank(cell) -> bool:
    return cell is None or not str(cell).strip()


def _nonempty(row: Sequence) -> int:
    return sum(not _blank(c) for c in row)


def _span(row: Sequence) -> int:
    """Index of the last non-blank cell + 1 (0 for a blank row)."""
    for i in range(len(row) - 1, -1, -1):
        if not _blank(row[i]):
            return i + 1
    return 0


def _looks_like_header(row: Sequence) -> bool:
    """Mostly non-numeric, distinct text cells."""
    cells = [str(c).strip() for c in row if not _blank(c)]
    if not cells:
        return False
    numeric = sum(bool(_NUMBERISH.match(c)) for c in cells)
    if numeric * 2 > len(cells):
        return False
    return len({c.casefold() for c in cells}) == len(cells)


def find_header_row(rows: Sequence[Sequence[str | None]], *, look_below: int = 20) -> int:
    """The index of the header row among the first rows of a table.

    The header is the first row that names at least as many columns as the rows below it
    typically fill (the modal span of filled columns) and whose cells are mostly
    non-numeric, distinct text; every row above it must be a title: blank, or filling at
    most half as many cells as the header (a report name, an export date, ``sep=;``). When
    no row fits, the first non-blank row is the header (so an ordinary file never loses its
    header).

    Parameters
    ----------
    rows : list of list of str or None
        The first rows (about 30) of a text file or sheet, one list of cells per row;
        ``None`` or blank strings are empty cells.
    look_below : int, default 20
        How many rows below a candidate decide the table's width.

    Returns
    -------
    int
        0-based index into ``rows`` (0 for an empty list).

    Examples
    --------
    >>> find_header_row([["Sales report", None, None], ["Exported 2026-03-01"], [],
    ...                  ["id", "date", "amount"], ["1", "2026-01-02", "12.50"],
    ...                  ["2", "2026-01-03", "8.00"]])
    3
    >>> find_header_row([["id", "amount"], ["1", "12.50"]])
    0
    """
    rows = [list(r) if r is not None else [] for r in rows]
    first = next((i for i, r in enumerate(rows) if _nonempty(r)), None)
    if first is None:
        return 0
    for i in range(first, len(rows)):
        n = _nonempty(rows[i])
        if not n:
            continue
        below = [_span(r) for r in rows[i + 1:i + 1 + look_below] if _nonempty(r)]
        if not below:  # a header without rows, under a title
            below = [n]
        counts = Counter(below)
        width = max(counts, key=lambda w: (counts[w], w))
        if n >= width and _looks_like_header(rows[i]):
            above = [r for r in rows[first:i] if _nonempty(r)]
            if all(_nonempty(r) <= max(1, n // 2) for r in above):
                return i
            break
        if n > max(1, width // 2):  # too wide for a title: this was meant as the header
            break
    return first


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _WORD.sub(" ", text.casefold().replace("ø", "o").replace("ł", "l"))
    return " ".join(text.split())


def is_totals_label(text: str | None) -> bool:
    """Whether a cell labels a totals row ("Total", "Summe", "Gesamt", "Totalt", "Totaal",
    "Totale", "Suma", "Razem", "I alt", ... with optional punctuation or a trailing word
    such as "Total 2025" or "Total:").

    Examples
    --------
    >>> [is_totals_label(t) for t in ["Total", "SUMME:", "Gesamt 2025", "Totalt", "C-1007"]]
    [True, True, True, True, False]
    >>> is_totals_label("Totalbau GmbH")
    False
    """
    if text is None:
        return False
    folded = _fold(str(text))
    if not folded:
        return False
    if folded in TOTALS_WORDS:
        return True
    words = folded.split()
    # "Total 2025", "Summe EUR", "Grand total (all stores)": a totals word, then at most two
    # short qualifiers
    for k in (3, 2, 1):
        if len(words) > k and " ".join(words[:k]) in TOTALS_WORDS and len(words) - k <= 2:
            return True
    return False
