"""Exports for client reports: charts, tables, HTML, PowerPoint, and privacy checks.

``report`` assembles what the analyses computed; it computes nothing itself.

- :func:`save_figure`: a chart as PNG (300 dpi), SVG and PDF, sized for a 16:9 slide or an
  A4 page, with a :class:`Footnote` of the facts behind it (n, dates, CI method, definition).
- :func:`export_tables`: tables to an Excel workbook, one formatted sheet each.
- :class:`Report`: charts, tables, notes, the data-quality summary and skipped parts,
  written as a self-contained HTML page, a PowerPoint deck, a workbook and chart files.
- :func:`scan_for_personal_data`: check outputs for e-mails, phone numbers and raw values;
  :func:`scrub_notebook` / :func:`scrub`: strip notebooks of outputs before sharing.
- :func:`check_in_browser`: open an HTML report in headless Chromium as a reader would.
- :class:`Brand` / :func:`load_brand`: the client's name, logo and accent colour for the
  report, the deck and the workbook.
- For the command line and the client run: :class:`Formats` / :func:`check_locale` (numbers,
  money and dates in the client's locale), :func:`plain_words`, :func:`deliverable_options`,
  :class:`OutputFolder`, :func:`check_output_folder`, :func:`describe_os_error`,
  :func:`code_words` (code identifiers left in client text).
- :func:`rounded`: a result frame with its decimals rounded for reading in a notebook.
"""

from loyaltylab.report._brand import Brand, deliverable_options, load_brand
from loyaltylab.report._browser import BrowserCheck, check_in_browser, code_words, find_chromium
from loyaltylab.report._builder import Report
from loyaltylab.report._display import rounded
from loyaltylab.report._excel import export_tables, sanitize_sheet_names
from loyaltylab.report._findings import Finding
from loyaltylab.report._figures import (FORMATS, SIZES, Footnote, figure_title, prepare_figure,
                                        save_figure)
from loyaltylab.report._locale import Formats, check_locale
from loyaltylab.report._output import OutputFolder, check_output_folder, describe_os_error
from loyaltylab.report._present import plain_words
from loyaltylab.report._privacy import (
    mask_value, personal_needles, scan_for_personal_data, scrub, scrub_notebook,
)

__all__ = [
    "Footnote", "FORMATS", "SIZES", "save_figure", "prepare_figure", "figure_title",
    "export_tables", "sanitize_sheet_names",
    "Report", "Finding", "Brand", "load_brand",
    "scan_for_personal_data", "personal_needles", "mask_value", "scrub_notebook", "scrub",
    "check_in_browser", "find_chromium", "BrowserCheck",
    "Formats", "check_locale", "plain_words", "deliverable_options", "OutputFolder",
    "check_output_folder", "describe_os_error", "code_words", "rounded",
]


def __dir__() -> list[str]:  # tab completion offers the public names, not np, pl, helpers
    return sorted(__all__)
