"""The Report builder: collect charts, tables and notes; write HTML, PPTX, Excel, charts."""

from __future__ import annotations

import base64
import html
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from collections.abc import Iterator, Sequence

import polars as pl
from matplotlib.figure import Figure

from loyaltylab._util import as_polars
from loyaltylab.data.mapping import amount_note as _amount_note
from loyaltylab.data.crmdata import CRMData, LoadReport
from loyaltylab.exceptions import MissingTableError
from loyaltylab.report._excel import check_no_identifiers, sanitize_sheet_names
from loyaltylab.report._findings import Finding
from loyaltylab.report._locale import Formats
from loyaltylab.report._present import (
    _UNIT_KINDS, client_note, plain_words, reader_text, table_columns,
)
from loyaltylab.report._figures import (
    FORMATS, Footnote, _as_figure, figure_title, prepare_figure, render, slugify,
)

__all__ = ["Report"]

_HTML_NAME, _PPTX_NAME, _XLSX_NAME, _CHART_DIR = "report.html", "deck.pptx", "tables.xlsx", \
    "charts"
_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'")
MAX_FINDINGS = 8
"""The executive summary shows at most this many findings (the largest business weights)."""
_PRIVACY_NOTE = ("Tables and charts show aggregates only: no names, e-mail addresses, phone "
                 "numbers or customer identifiers.")


@dataclass
class _Heading:
    text: str
    question: str | None = None


@dataclass
class _Text:
    text: str
    heading: str | None = None


@dataclass
class _Figure:
    fig: Figure
    title: str
    footnote: str | None
    name: str


@dataclass
class _Table:
    frame: pl.DataFrame
    title: str
    note: str | None
    max_rows: int
    name: str
    formats: dict[str, str] | None = None
    labels: dict[str, str] | None = None
    row_kinds: str | None = None


@dataclass
class _SheetOnly:
    """A table for the workbook only (the call list, per-customer values)."""
    frame: pl.DataFrame
    title: str
    note: str | None
    max_rows: int
    name: str
    formats: dict[str, str] | None = None


@dataclass
class _Skipped:
    capability: str
    reason: str


@dataclass
class _Methods:
    text: str
    heading: str | None = None


@dataclass
class _State:
    items: list[Any] = field(default_factory=list)
    methods: list[_Methods] = field(default_factory=list)
    load_report: LoadReport | None = None
    revenue: float | None = None
    findings: list[Finding] = field(default_factory=list)
    glossary: dict[str, str] = field(default_factory=dict)


def _progress(total: int, enabled: bool | None, desc: str) -> Any:
    from tqdm import tqdm

    disable = None if enabled is None else not enabled
    return tqdm(total=total, desc=desc, unit="step", disable=disable, file=sys.stderr,
                leave=False)


def _fmt_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "NaN"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.3f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else \
            value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _short_source(source: str | None) -> str | None:
    """A folder or file path shortened to its name: it says which export, while the full
    path may name people (home folders)."""
    if not source:
        return None
    return re.split(r"[/\\]", source.rstrip("/\\"))[-1] or source


_REVENUE_TABLE = "orders"


def _revenue_steps(rep: LoadReport | None, revenue: float | None) -> pl.DataFrame | None:
    """How the orders' revenue was reached, one step a row (None without mapping rules).

    Rows read, line items merged into their orders, rows excluded by each rule with their
    amount, the amount before and after the deducted columns (refunds), rows rejected by
    validation, and the revenue kept. Columns: step, rows, amount.
    """
    from loyaltylab.data.mapping import MERGED

    t = rep.tables.get(_REVENUE_TABLE) if rep is not None else None
    if t is None:
        return None
    notes = [n for n in (_amount_note(w) for w in t.warnings) if n is not None]
    if not t.excluded and not notes:
        return None
    rows: list[tuple[str, int | None, float | None]] = [
        (f"Rows read from {_short_source(t.source) or 'the orders source'}", t.read, None)]
    if MERGED in t.excluded:
        rows.append(("Further line items of an order, merged into it (their amount is "
                     "in the order)", int(t.excluded[MERGED]["n"]), None))
    for rule, e in t.excluded.items():
        if rule != MERGED:
            rows.append((f"Excluded: {rule}", int(e["n"]), e.get("amount")))
    for n in notes:
        cols = " and ".join(f"“{c}”" for c in n["deducted_columns"])
        rows.append((f"Orders left after the rules, before deductions (“{n['gross_column']}”)",
                     n["rows"], n["gross"]))
        rows.append((f"Deducted ({cols})", None, -n["deducted"]))
    rows.append(("Rejected by validation (reasons above)", t.rejected, None))
    rows.append(("Revenue kept", t.kept, None if revenue is None else round(revenue, 2)))
    return pl.DataFrame(rows, schema={"step": pl.String, "rows": pl.Int64,
                                      "amount": pl.Float64}, orient="row")


def _paragraphs(text: str) -> str:
    blocks = [b.strip() for b in str(text).split("\n\n") if b.strip()]
    return "\n".join(f"<p>{html.escape(b)}</p>" for b in blocks)


class Report:
    """A client report assembled from charts, tables and notes, written as HTML, PPTX,
    an Excel workbook and chart files.

    ``report`` assembles; it computes nothing. Add sections in reading order, then call
    :meth:`write_all` (or one of the ``write_*`` methods).

    Parameters
    ----------
    title : str
        The report's title (HTML heading, title slide).
    subtitle : str, optional
        A line under the title.
    source : str, optional
        What data the report describes (shown under the title).
    as_of : date or datetime, optional
        The date the data describe.
    size : "slide", "a4" or (width, height)
        Size of every chart (see :func:`loyaltylab.report.save_figure`).
    image_dpi : float
        Resolution of the images embedded in the HTML report and the deck (chart files
        are always written at 300 dpi).
    table_rows : int
        How many rows of each table the HTML report shows (the workbook has all rows).
    locale : str
        How numbers, money and dates are written for the client: ``"en"`` (default),
        ``"de"``, ``"fr"``, ``"nl"``, ``"es"`` or any other Babel locale (``"de_CH"``); the
        words stay English (see :class:`~loyaltylab.report._locale.Formats`).
    brand : Brand, dict or path, optional
        The client's name, logo and accent colour (and the currency of money columns) for
        the HTML, the deck and the workbook: a :class:`~loyaltylab.report.Brand`, a dict
        of its keys or a brand TOML file (see :func:`~loyaltylab.report.load_brand`).
    template : str or Path, optional
        A ``.pptx`` whose master and layouts the deck uses instead of the default 16:9
        design.

    Examples
    --------
    >>> import tempfile, matplotlib.pyplot as plt, polars as pl
    >>> rep = Report("Loyalty report", source="demo data")
    >>> fig, ax = plt.subplots(); _ = ax.bar(["a", "b"], [3, 5])
    >>> _ = ax.set_title("Buyers per segment, 8 customers")
    >>> rep = rep.add_figure(ax, footnote=Footnote(n=8))
    >>> rep = rep.add_table(pl.DataFrame({"segment": ["a", "b"], "buyers": [3, 5]}),
    ...                     title="Buyers per segment")
    >>> rep = rep.add_skipped("Survey scores", "no surveys table")
    >>> rep
    Report('Loyalty report': 1 chart, 1 table, 1 skipped)
    >>> sorted(rep.write_all(tempfile.mkdtemp(), progress=False))
    ['charts', 'deck', 'html', 'workbook']
    """

    def __init__(self, title: str, *, subtitle: str | None = None, source: str | None = None,
                 as_of: date | datetime | None = None,
                 size: str | tuple[float, float] = "slide", image_dpi: float = 150,
                 table_rows: int = 15, brand: Any = None,
                 template: str | Path | None = None, locale: str = "en") -> None:
        if not isinstance(title, str) or not title.strip():
            raise ValueError("Report: title must be a non-empty string, e.g. "
                             "Report('Loyalty report')")
        if not isinstance(table_rows, int) or table_rows < 1:
            raise ValueError(f"Report: table_rows={table_rows!r} must be a positive integer")
        self.title = title.strip()
        self.subtitle = subtitle
        self.source = source
        self.as_of = as_of
        self.size = size
        self.image_dpi = image_dpi
        self.table_rows = table_rows
        self.locale = locale
        Formats(locale)  # an unknown locale fails here, in one plain line
        self._state = _State()
        self._png_cache: dict[int, bytes] = {}
        from loyaltylab.report._brand import as_brand, defaults

        self.brand = as_brand(brand if brand is not None else defaults().get("brand"))
        self.template = template if template is not None else defaults().get("template")

    @property
    def formats(self) -> Formats:
        """How this report writes numbers, money and dates (its locale and currency)."""
        currency = getattr(getattr(self, "brand", None), "currency", None)
        return Formats(self.locale, currency=currency)

    # ------------------------------------------------------------------ building
    @classmethod
    def for_data(cls, data: CRMData, *, title: str = "Loyalty report",
                 **kwargs: Any) -> Report:
        """A report on ``data``: source, as-of date and the data-quality summary filled in.

        Examples
        --------
        >>> import polars as pl
        >>> from loyaltylab.data.crmdata import CRMData, LoadReport
        >>> data = CRMData(customers=pl.DataFrame(), orders=pl.DataFrame(),
        ...                report=LoadReport(source="client export"))
        >>> Report.for_data(data).source
        'client export'
        """
        if not isinstance(data, CRMData):
            raise TypeError(f"Report.for_data expects a CRMData (from ll.load or "
                            f"ll.datasets), got {type(data).__name__}")
        kwargs.setdefault("source", _short_source(data.report.source))
        kwargs.setdefault("as_of", data.as_of)
        out = cls(title, **kwargs).add_data_quality(data.report)
        orders = data.tables.get(_REVENUE_TABLE)
        if orders is not None and "amount" in getattr(orders, "columns", []):
            out._state.revenue = float(orders.get_column("amount").sum())
        return out

    def add_finding(self, finding: Finding) -> Report:
        """Add a finding to the executive summary (shown ranked by its weight)."""
        if not isinstance(finding, Finding):
            raise TypeError(f"Report.add_finding expects a Finding, got "
                            f"{type(finding).__name__}")
        self._state.findings.append(finding)
        return self

    @property
    def findings(self) -> list[Finding]:
        """The findings, largest business weight first."""
        return sorted(self._state.findings, key=lambda f: -f.weight)

    def add_heading(self, text: str, *, question: str | None = None) -> Report:
        """Start a new section (a level-2 heading in the HTML report), optionally with the
        one-line question the section answers, shown under the heading."""
        self._state.items.append(_Heading(str(text), None if question is None
                                          else str(question)))
        return self

    def add_glossary(self, term: str, definition: str) -> Report:
        """Define a term for the report's glossary (a later definition replaces one)."""
        if not str(term).strip() or not str(definition).strip():
            raise ValueError("add_glossary: term and definition must be non-empty text")
        self._state.glossary[str(term).strip()] = str(definition).strip()
        return self

    @property
    def glossary(self) -> dict[str, str]:
        """Term -> plain definition, sorted by term."""
        return dict(sorted(self._state.glossary.items(), key=lambda kv: kv[0].lower()))

    def add_text(self, text: str, *, heading: str | None = None) -> Report:
        """Add prose; blank lines separate paragraphs."""
        self._state.items.append(_Text(str(text), heading))
        return self

    def _unique_name(self, base: str) -> str:
        taken = {getattr(i, "name", None) for i in self._state.items}
        name, k = base, 2
        while name in taken:
            name, k = f"{base}-{k}", k + 1
        return name

    def add_figure(self, fig_or_ax: Any, *, title: str | None = None,
                   footnote: Footnote | str | None = None, name: str | None = None,
                   close: bool = True) -> Report:
        """Add a chart: sized for the report, with its facts footnote.

        Parameters
        ----------
        fig_or_ax : matplotlib Figure or Axes
        title : str, optional
            Slide and section title; default the chart's own title.
        footnote : Footnote or str, optional
            The facts behind the chart; default the one a plot function attached.
        name : str, optional
            File name stem of the chart files; default a slug of the title.
        close : bool
            Release the figure from pyplot (it stays usable for the report).
        """
        fig = _as_figure(fig_or_ax)
        prepare_figure(fig, size=self.size, footnote=footnote)
        n = sum(isinstance(i, _Figure) for i in self._state.items) + 1
        title = (title or figure_title(fig) or f"Chart {n}").strip()
        note = getattr(fig, "_loyaltylab_footnote", None)
        stem = self._unique_name(slugify(name or title))
        self._state.items.append(_Figure(fig, title, note, stem))
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
        return self

    def add_table(self, frame: Any, *, title: str, note: str | None = None,
                  max_rows: int | None = None, allow_identifiers: bool = False,
                  formats: dict[str, str] | None = None,
                  workbook_only: bool = False, labels: dict[str, str] | None = None,
                  row_kinds: str | None = None) -> Report:
        """Add a table: the first ``max_rows`` rows in HTML, all rows in the workbook.

        Tables with customer identifiers or personal columns are refused unless
        ``allow_identifiers=True``. ``formats`` gives a column's workbook format where the
        name does not say it (``{"value": "money"}``; see
        :func:`loyaltylab.report._excel.column_formats`); ``workbook_only=True`` keeps the
        table out of the HTML report (a call list, values per customer).

        ``labels`` gives a column's heading in plain words where the built-in wording does
        not fit (``{"previous": "2024"}``); ``row_kinds`` names a column holding each row's
        unit (``share``, ``currency``, ``count``, ``points``...) that decides how the
        row's numbers are written in the HTML report (a scorecard mixes units); that
        column is not shown there.
        """
        df = as_polars(frame, name=title)
        if not allow_identifiers:
            check_no_identifiers(df, name=title)
        rows = self.table_rows if max_rows is None else max_rows
        if not isinstance(rows, int) or rows < 1:
            raise ValueError(f"add_table({title!r}): max_rows={max_rows!r} must be a "
                             f"positive integer")
        if formats:
            from loyaltylab.report._excel import column_formats

            column_formats(df, hints=formats)  # unknown columns fail here, not at writing
        for what, cols in (("labels", list(labels or {})), ("row_kinds", [row_kinds]
                                                               if row_kinds else [])):
            unknown = [c for c in cols if c not in df.columns]
            if unknown:
                raise ValueError(f"add_table({title!r}): {what} names column(s) {unknown} "
                                 f"that the table does not have")
        if workbook_only:
            self._state.items.append(_SheetOnly(df, str(title), note, rows,
                                                self._unique_name(slugify(title)),
                                                dict(formats) if formats else None))
        else:
            self._state.items.append(_Table(df, str(title), note, rows,
                                            self._unique_name(slugify(title)),
                                            dict(formats) if formats else None,
                                            dict(labels) if labels else None, row_kinds))
        return self

    def add_methods(self, text: str, *, heading: str | None = None) -> Report:
        """Add a note to the methods section (definitions, models, CI methods, sources)."""
        self._state.methods.append(_Methods(str(text), heading))
        return self

    def add_data_quality(self, load_report: LoadReport) -> Report:
        """Show what happened on load: rows read, kept and rejected per table, and why."""
        if not isinstance(load_report, LoadReport):
            raise TypeError(f"add_data_quality expects a LoadReport (data.report), got "
                            f"{type(load_report).__name__}")
        self._state.load_report = load_report
        return self

    def add_skipped(self, capability: str, reason: str) -> Report:
        """Record that a part of the analysis was skipped and why (e.g. a missing table)."""
        self._state.items.append(_Skipped(str(capability), str(reason)))
        return self

    @contextmanager
    def capability(self, name: str) -> Iterator[Report]:
        """Run one part of the analysis; if it needs a table the data lack, skip it.

        Inside the block, a :class:`~loyaltylab.exceptions.MissingTableError` (what
        ``data.require`` and the analyses raise) removes anything the block added and
        records a "skipped" line with the error's message. Other errors propagate.

        Examples
        --------
        >>> import polars as pl
        >>> from loyaltylab.data.crmdata import CRMData
        >>> data = CRMData(customers=pl.DataFrame(), orders=pl.DataFrame())
        >>> rep = Report("Demo")
        >>> with rep.capability("Survey scores"):
        ...     _ = rep.add_heading("Survey scores")
        ...     data.require("surveys", purpose="survey scoring")
        >>> rep.skipped[0][0], rep.skipped[0][1][:40]
        ('Survey scores', "survey scoring needs the 'surveys' table")
        """
        start = len(self._state.items)
        try:
            yield self
        except MissingTableError as exc:
            del self._state.items[start:]
            self.add_skipped(name, str(exc))

    # ------------------------------------------------------------------ reading
    @property
    def figures(self) -> list[tuple[str, str | None]]:
        """(title, footnote) of every chart, in order."""
        return [(i.title, i.footnote) for i in self._state.items if isinstance(i, _Figure)]

    @property
    def tables(self) -> dict[str, pl.DataFrame]:
        """Title -> full table, in order."""
        return {i.title: i.frame for i in self._state.items if isinstance(i, _Table)}

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """(capability, reason) of every skipped part."""
        return [(i.capability, i.reason) for i in self._state.items
                if isinstance(i, _Skipped)]

    def __repr__(self) -> str:
        n_fig, n_tab, n_skip = len(self.figures), len(self.tables), len(self.skipped)
        return (f"Report({self.title!r}: {n_fig} chart{'s' * (n_fig != 1)}, {n_tab} "
                f"table{'s' * (n_tab != 1)}, {n_skip} skipped)")

    def _meta_line(self) -> str:
        parts = []
        if self.source:
            parts.append(f"Data: {self.source}")
        fmt = self.formats
        if isinstance(self.as_of, datetime) and self.as_of.time() == datetime.min.time():
            # measured at midnight: the data run to the end of the day before
            last = (self.as_of - timedelta(days=1)).date()
            parts.append(f"data up to {fmt.date(last, style='long')}")
        elif self.as_of is not None:
            parts.append(f"as of {fmt.date(self.as_of, style='long')}")
        parts.append(f"generated {fmt.date(date.today(), style='long')} with loyaltylab")
        return " · ".join(parts)

    def _image(self, item: _Figure) -> bytes:
        key = id(item)
        if key not in self._png_cache:
            self._png_cache[key] = render(item.fig, "png", dpi=self.image_dpi,
                                          footnote=False)
        return self._png_cache[key]

    def _sheet_names(self) -> dict[str, str]:
        titles = list(self.tables)
        reserved = ["About"] + (["Data quality"] if self._dq_frame() is not None else [])
        if _revenue_steps(self._state.load_report, self._state.revenue) is not None:
            reserved.append("Revenue reconciliation")
        names = sanitize_sheet_names(reserved + titles)[len(reserved):]
        return dict(zip(titles, names))

    def _dq_frame(self) -> pl.DataFrame | None:
        rep = self._state.load_report
        if rep is None or not rep.tables:
            return None
        frame = rep.summary()
        excluded = {name: sum(int(e["n"]) for e in t.excluded.values())
                    for name, t in rep.tables.items()}
        return frame.with_columns(
            pl.col("table").replace_strict(excluded, default=0, return_dtype=pl.Int64)
            .alias("excluded by rules"))

    # ------------------------------------------------------------------ writing
    def write_html(self, path: str | Path) -> Path:
        """Write a self-contained HTML report: images embedded as base64 PNG, inline CSS,
        no scripts and no external resources (a content-security policy forbids them), a
        data-quality summary and a methods section."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self._html(), encoding="utf-8")
        return path

    def _html(self) -> str:
        esc = html.escape
        fmt = self.formats
        body: list[str] = []
        toc: list[str] = []
        sheets = self._sheet_names()
        anchors = self._anchors()
        figures = {i.name for i in self._state.items if isinstance(i, _Figure)}
        heading_no = 0
        for item in self._state.items:
            if isinstance(item, _Heading):
                anchor = anchors[item.text]
                heading_no += 1
                toc.append(f'<li><a href="#{anchor}">{esc(item.text)}</a></li>')
                body.append(f'<h2 id="{anchor}">{esc(item.text)}</h2>')
                if item.question:
                    body.append(f'<p class="question">{esc(item.question)}</p>')
            elif isinstance(item, _Text):
                if item.heading:
                    body.append(f"<h3>{esc(item.heading)}</h3>")
                body.append(_paragraphs(reader_text(item.text, fmt)))
            elif isinstance(item, _Figure):
                data = base64.b64encode(self._image(item)).decode("ascii")
                title = reader_text(item.title, fmt)
                cap = (f'<figcaption class="footnote">{esc(reader_text(item.footnote, fmt))}'
                       f'</figcaption>' if item.footnote else "")
                body.append(f'<figure id="fig-{esc(item.name)}"><h3>{esc(title)}</h3>'
                            f'<img src="data:image/png;base64,{data}" alt="{esc(title)}">'
                            f"{cap}</figure>")
            elif isinstance(item, _Table):
                body.append(self._html_table(item, sheets.get(item.title)))
            # skipped parts are listed in the appendix for the consultant, not in the body
        summary = self._html_summary(anchors, figures)
        if summary:
            toc.insert(0, '<li><a href="#summary">Executive summary</a></li>')
        toc.append('<li><a href="#data-quality">Data quality</a></li>')
        if self._state.glossary:
            toc.append('<li><a href="#glossary">Glossary</a></li>')
        toc.append('<li><a href="#methods">Methods</a></li>')
        skipped = self.skipped
        if skipped:
            toc.append('<li><a href="#not-included">Not included</a></li>')
        parts = [
            "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(self.title)}</title>", f"<style>{_CSS}</style>",
            self.brand.html_style() if self.brand else "", "</head>",
            "<body>", "<main>", "<header>", self.brand.html_header() if self.brand else "",
            f"<h1>{esc(self.title)}</h1>",
        ]
        if self.subtitle:
            parts.append(f'<p class="subtitle">{esc(self.subtitle)}</p>')
        parts += [f'<p class="meta">{esc(self._meta_line())}</p>', "</header>",
                  '<nav><h2 class="toc">Contents</h2><ol>', *toc, "</ol></nav>"]
        parts.append(summary)
        parts += body
        parts.append(self._html_data_quality())
        parts.append(self._html_glossary())
        parts.append(self._html_methods())
        if skipped:
            parts.append('<section id="not-included" class="appendix"><h2>Not included</h2>'
                         '<p class="note">For the consultant: the parts of the analysis '
                         "these data could not support, and why. Supplying the data named "
                         "here adds them to the next run.</p><ul>")
            parts += [f"<li><strong>{esc(plain_words(c))}</strong>: "
                      f"{esc(reader_text(plain_words(r), fmt))}</li>" for c, r in skipped]
            parts.append("</ul></section>")
        parts += ['<footer><p class="meta">Generated with loyaltylab.</p></footer>',
                  "</main>", "</body>", "</html>"]
        return "\n".join(p for p in parts if p) + "\n"

    def _anchors(self) -> dict[str, str]:
        """Section heading -> its HTML anchor (``s-`` and a slug of the heading)."""
        out: dict[str, str] = {}
        for item in self._state.items:
            if isinstance(item, _Heading) and item.text not in out:
                base = f"s-{slugify(item.text) or len(out) + 1}"
                anchor, k = base, 2
                while anchor in out.values():
                    anchor, k = f"{base}-{k}", k + 1
                out[item.text] = anchor
        return out

    def _html_summary(self, anchors: dict[str, str], figures: set[str]) -> str:
        """The executive summary: the findings, largest business weight first (at most
        :data:`MAX_FINDINGS`), each linking to its section and chart."""
        esc = html.escape
        found = self.findings[:MAX_FINDINGS]
        if not found:
            return ""
        anchors = {"Data quality": "data-quality", "Methods": "methods", **anchors}
        out = ['<section id="summary" class="summary"><h2>Executive summary</h2>',
               '<ol class="findings">']
        for f in found:
            links = []
            if f.section in anchors:
                links.append(f'<a href="#{anchors[f.section]}">{esc(f.section)}</a>')
            if f.figure in figures:
                links.append(f'<a href="#fig-{esc(f.figure)}">the chart</a>')
            see = f' <span class="see">See {" and ".join(links)}.</span>' if links else ""
            out.append(f'<li><p class="headline">{esc(f.headline)}</p>'
                       f"<p>{esc(f.meaning)}{see}</p></li>")
        out.append("</ol></section>")
        return "\n".join(out)

    def _html_glossary(self) -> str:
        esc = html.escape
        if not self._state.glossary:
            return ""
        out = ['<section id="glossary" class="appendix"><h2>Glossary</h2><dl>']
        out += [f"<dt>{esc(t)}</dt><dd>{esc(d)}</dd>" for t, d in self.glossary.items()]
        out.append("</dl></section>")
        return "\n".join(out)

    def _html_table(self, item: _Table, sheet: str | None) -> str:
        esc = html.escape
        fmt = self.formats
        df = item.frame
        shown = df.head(item.max_rows)
        columns = table_columns(shown, labels=item.labels, formats=item.formats,
                                row_kinds=item.row_kinds)
        head = "".join(f'<th{" class=num" if c.numeric else ""}>{esc(c.label)}</th>'
                       for c in columns)
        units = (shown.get_column(item.row_kinds).to_list() if item.row_kinds
                 else [None] * shown.height)
        rows = []
        for k, row in enumerate(shown.iter_rows(named=True)):
            unit_kind = _UNIT_KINDS.get(str(units[k]).lower()) if units[k] else None
            cells = "".join(
                f'<td{" class=num" if c.numeric else ""}>'
                f"{esc(c.render(row, fmt, unit_kind))}</td>" for c in columns)
            rows.append(f"<tr>{cells}</tr>")
        wide = " wide" if len(columns) > 7 else ""
        out = [f'<section class="table{wide}" id="tab-{esc(item.name)}">'
               f"<h3>{esc(reader_text(item.title, fmt))}</h3>"]
        if item.note:
            out.append(f'<p class="note">{esc(reader_text(item.note, fmt))}</p>')
        out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
                   f"</table>")
        where = f" on sheet “{esc(sheet)}” of the workbook" if sheet else " in the workbook"
        if df.height > shown.height:
            out.append(f'<p class="note">Showing the first {fmt.count(shown.height)} of '
                       f"{fmt.count(df.height)} rows; the full table is{where}.</p>")
        out.append("</section>")
        return "\n".join(out)

    def _html_data_quality(self) -> str:
        esc = html.escape
        fmt = self.formats
        rep = self._state.load_report
        out = ['<section id="data-quality" class="appendix"><h2>Data quality</h2>']
        if rep is None or not rep.tables:
            out.append("<p>No load report: the data were not read through loyaltylab's "
                       "loader, so rows kept and rejected were not recorded.</p>")
        else:
            total_read = sum(t.read for t in rep.tables.values())
            n_tab = len(rep.tables)
            n_excl = sum(int(e["n"]) for t in rep.tables.values() for e in t.excluded.values())
            excl = (f", {fmt.count(n_excl)} were set aside by the rules of the mapping "
                    f"(cancelled, test, not won and the like: see below)" if n_excl else "")
            out.append(f"<p>{fmt.count(n_tab)} table{'s' * (n_tab != 1)} read from "
                       f"{esc(_short_source(rep.source) or 'the source')}"
                       f": {fmt.count(total_read)} rows, of which "
                       f"{fmt.count(rep.n_rejected)} were rejected by validation"
                       f"{excl}.</p>")
            out.append('<table><thead><tr><th>Table</th><th class=num>Rows read</th>'
                       '<th class=num>Kept</th><th class=num>Rejected</th>'
                       '<th class=num>Set aside by rules</th>'
                       '<th>Reasons for rejection or setting aside</th></tr></thead><tbody>')
            for name, t in rep.tables.items():
                why = [f"{fmt.count(n)} × {plain_words(r)}" for r, n in t.reasons.items()]
                why += [f"{fmt.count(int(e['n']))} × set aside: {plain_words(r)}"
                        for r, e in t.excluded.items()]
                n_t = sum(int(e["n"]) for e in t.excluded.values())
                out.append(f"<tr><td>{esc(plain_words(name))}</td>"
                           f"<td class=num>{fmt.count(t.read)}</td>"
                           f"<td class=num>{fmt.count(t.kept)}</td>"
                           f"<td class=num>{fmt.count(t.rejected)}</td>"
                           f"<td class=num>{fmt.count(n_t)}</td>"
                           f"<td>{esc('; '.join(why))}</td></tr>")
            out.append("</tbody></table>")
            out.append(self._html_revenue())
            notes = [f"{plain_words(name)}: {client_note(w)}" for name, t in rep.tables.items()
                     for w in t.warnings if not (name == _REVENUE_TABLE and _amount_note(w))]
            notes += [client_note(w) for w in rep.warnings]
            notes = [n for n in notes if n and not n.endswith(": ")]
            if notes:
                out.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
        out.append("</section>")
        return "\n".join(out)

    def _html_revenue(self) -> str:
        """The revenue reconciliation: rows read, excluded by each rule with their amounts,
        deducted refunds, rejected rows and the revenue kept."""
        esc = html.escape
        fmt = self.formats
        steps = _revenue_steps(self._state.load_report, self._state.revenue)
        if steps is None:
            return ""
        out = ['<h3 id="revenue-reached">How the revenue was reached</h3>',
               '<p class="note">Orders as read from the export, what the rules of the '
               'mapping set aside, and what is left, so the total can be checked against '
               "the client's own figures.</p>",
               '<table class="revenue"><thead><tr><th>Step</th><th class=num>Rows</th>'
               '<th class=num>Amount</th></tr></thead><tbody>']
        for step, n, amount in steps.iter_rows():
            cells = (f"<td>{esc(plain_words(step))}</td><td class=num>{fmt.count(n)}</td>"
                     f"<td class=num>{fmt.money(amount, cents=True)}</td>")
            strong = step == "Revenue kept"
            out.append(f"<tr{' class=total' if strong else ''}>{cells}</tr>")
        out.append("</tbody></table>")
        return "\n".join(out)

    def _html_methods(self) -> str:
        esc = html.escape
        fmt = self.formats
        out = ['<section id="methods" class="appendix"><h2>Methods</h2>']
        for m in self._state.methods:
            if m.heading:
                out.append(f"<h3>{esc(m.heading)}</h3>")
            out.append(_paragraphs(reader_text(m.text, fmt)))
        notes = [(t, f) for t, f in self.figures if f]
        if notes:
            out.append("<h3>Facts behind each chart</h3><dl>")
            out += [f"<dt>{esc(reader_text(t, fmt))}</dt><dd>{esc(reader_text(f, fmt))}</dd>"
                    for t, f in notes]
            out.append("</dl>")
        out.append(f"<p>{esc(_PRIVACY_NOTE)}</p>")
        out.append("</section>")
        return "\n".join(out)

    def write_pptx(self, path: str | Path, *, template: str | Path | None = None) -> Path:
        """Write a 16:9 PowerPoint deck: title, agenda, executive summary, one slide per
        finding with its chart (native PowerPoint charts where possible), methods and data
        quality, appendix (see :func:`loyaltylab.report._deck.write_deck`)."""
        from loyaltylab.report._deck import write_deck

        return write_deck(self, path, template=template if template is not None
                          else self.template)

    def write_excel(self, path: str | Path) -> Path:
        """Write every table (all rows) to a workbook, one formatted sheet each, after a
        ``README`` sheet (sheets, definitions, methods) and a ``Data quality`` sheet when
        there is a load report (see :func:`loyaltylab.report._excel.write_workbook`)."""
        from loyaltylab.report._excel import write_workbook

        return write_workbook(self, path)

    def write_charts(self, out_dir: str | Path, *, formats: Sequence[str] = FORMATS,
                     progress: Any = None) -> list[Path]:
        """Write every chart as ``NN-title.png`` (300 dpi), ``.svg`` and ``.pdf``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        formats = tuple(formats)
        bad = [f for f in formats if f not in FORMATS]
        if bad or not formats:
            raise ValueError(f"formats={formats!r}: unknown or empty; choose from {FORMATS}")
        paths = []
        figures = [i for i in self._state.items if isinstance(i, _Figure)]
        for k, item in enumerate(figures, start=1):
            for fmt in formats:
                path = out / f"{k:02d}-{item.name}.{fmt}"
                path.write_bytes(render(item.fig, fmt, dpi=300))
                paths.append(path)
                if progress is not None:
                    progress.update(1)
        return paths

    def write_all(self, out_dir: str | Path, *, formats: Sequence[str] = FORMATS,
                  progress: bool | None = None,
                  source: str | Path | None = None) -> dict[str, Any]:
        """Write everything into ``out_dir``: ``charts/`` (PNG, SVG, PDF), ``tables.xlsx``,
        ``report.html`` and ``deck.pptx``, all at once (see
        :class:`~loyaltylab.report._output.OutputFolder`).

        The files are written into a staging folder beside ``out_dir`` and moved into place
        at the end, so a stopped or failed run (a full disk) leaves the previous output as
        it was. ``out_dir`` keeps a manifest of the files written: the next run replaces
        them, removing files of this run it does not write again, and keeps files the user
        added.

        Parameters
        ----------
        out_dir : str or Path
            Created if missing. Refused (:class:`~loyaltylab.report._output.OutputError`)
            when it is a symbolic link or holds one, or is a folder that is not empty and
            was not written by loyaltylab.
        formats : sequence of {"png", "svg", "pdf"}
            Chart file formats.
        progress : bool, optional
            Show a progress bar on stderr: None (default) shows it only on a terminal.
        source : str or Path, optional
            The data source: ``out_dir`` may not be the source folder or lie inside it.

        Returns
        -------
        dict
            ``"charts"``: list of chart paths; ``"workbook"``, ``"html"``, ``"deck"``: paths
            (in ``out_dir``).
        """
        from loyaltylab.report._output import OutputFolder

        folder = OutputFolder(out_dir, source=source)
        n_fig = len(self.figures)
        bar = _progress(n_fig * (len(tuple(formats)) + 1) + 3, progress, "report")
        try:
            with folder as out:
                bar.set_description("charts")
                charts = self.write_charts(out / _CHART_DIR, formats=formats, progress=bar)
                bar.set_description("images")
                for item in self._state.items:
                    if isinstance(item, _Figure):
                        self._image(item)
                        bar.update(1)
                bar.set_description("workbook")
                workbook = self.write_excel(out / _XLSX_NAME)
                bar.update(1)
                bar.set_description("html")
                page = self.write_html(out / _HTML_NAME)
                bar.update(1)
                bar.set_description("deck")
                deck = self.write_pptx(out / _PPTX_NAME)
                bar.update(1)
                final = [folder.final(p) for p in (*charts, workbook, page, deck)]
        finally:
            bar.close()
        return {"charts": final[:len(charts)], "workbook": final[-3], "html": final[-2],
                "deck": final[-1]}


_CSS = """
:root { --ink: #1f1f1f; --muted: #555; --rule: #d0d7de; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 1.5rem; }
h1 { font-size: 2rem; margin: 0 0 .25rem; }
h2 { font-size: 1.4rem; margin: 2.5rem 0 .75rem; border-bottom: 1px solid var(--rule); }
h2.toc { border: 0; font-size: 1.1rem; margin-top: 0; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.subtitle { font-size: 1.15rem; margin: 0; }
.meta, .note, .footnote { color: var(--muted); font-size: .85rem; }
nav { background: #f6f8fa; padding: .75rem 1.25rem; border-radius: 6px; }
nav ol { columns: 2; column-gap: 2rem; margin: 0; }
figure { margin: 1.5rem 0; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { margin-top: .35rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; width: auto;
  max-width: 100%; display: block; overflow-x: auto; }
tr.total td { font-weight: 600; border-top: 2px solid var(--rule); }
th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--rule); text-align: left;
  vertical-align: top; }
th { background: #eef3f8; border-bottom: 2px solid var(--accent); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.skipped { background: #fff8e6; border-left: 4px solid #E69F00; padding: .5rem .75rem; }
dt { font-weight: 600; margin-top: .5rem; }
dd { margin-left: 1rem; color: var(--muted); font-size: .9rem; }
p.question { font-size: 1.1rem; font-style: italic; color: var(--muted); margin-top: -.25rem; }
.summary { background: #f6f8fa; border-left: 4px solid var(--accent); padding: .25rem 1.25rem
  .75rem; margin: 1.5rem 0; }
.summary h2 { border: 0; margin-top: .75rem; }
ol.findings { padding-left: 1.25rem; margin: 0; }
ol.findings li { margin: .6rem 0; }
ol.findings p { margin: .1rem 0; }
p.headline { font-weight: 600; }
.see { color: var(--muted); font-size: .9rem; white-space: nowrap; }
.appendix h2 { color: var(--muted); }
@page { size: A4; margin: 16mm 14mm; }
@page wide { size: A4 landscape; margin: 14mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav { background: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  h2 { break-before: auto; }
  .summary { break-inside: avoid; }
  figure, tr, ol.findings li, dt, dd { break-inside: avoid; page-break-inside: avoid; }
  figure img { max-width: 100%; max-height: 22cm; width: auto; border: 0; }
  table { display: table; width: 100%; max-width: 100%; overflow: visible; font-size: 8.5pt;
    table-layout: auto; }
  thead { display: table-header-group; }
  th, td { padding: .15rem .3rem; overflow-wrap: break-word; word-break: normal;
    hyphens: manual; }
  section.table.wide { page: wide; }
  section.table.wide table { font-size: 7.5pt; }
  .skipped { break-inside: avoid; }
}
"""
