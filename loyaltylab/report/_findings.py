"""Findings: the plain sentences an executive summary and a deck open with.

A :class:`Finding` is computed from results by explicit rules (which tests are significant,
which rates are outside the typical band); nothing here is written by hand. The report
shows the findings first, ranked by ``weight``; the deck gives each its own slide.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Finding"]


@dataclass(frozen=True)
class Finding:
    """One finding of the executive summary.

    Parameters
    ----------
    headline : str
        One plain sentence with its number and, where there is one, its interval, e.g.
        ``"About 27 % of customers are lost each year (24-30 %)."``.
    meaning : str
        What it means for the business, in one or two plain sentences.
    section : str
        The heading of the report section the finding comes from (the HTML links to it).
    weight : float
        Business weight used to rank findings (larger first).
    figure : str, optional
        Name of the report figure that shows the finding (the deck puts it on the
        finding's slide).

    Examples
    --------
    >>> f = Finding("About 27 % of customers are lost each year (24-30 %).",
    ...             "Inside the 20-40 % typical of most firms.", section="Retention",
    ...             weight=3.0)
    >>> f.section
    'Retention'
    """

    headline: str
    meaning: str
    section: str
    weight: float = 1.0
    figure: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.headline, str) or not self.headline.strip():
            raise ValueError("Finding: headline must be a non-empty sentence")
