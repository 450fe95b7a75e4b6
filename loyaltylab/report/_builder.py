"""The Report builder: collect charts, tables and notes; write HTML, PPTX, Excel, charts.

The content items a report holds are in :mod:`loyaltylab.report._builder_items`, the HTML
page in :mod:`loyaltylab.report._builder_html`, the deck in :mod:`loyaltylab.report._deck`
and the workbook in :mod:`loyaltylab.report._excel`.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from collections.abc import Iterator, Sequence

import polars as pl

from loyaltylab._util import as_polars
from loyaltylab.data.crmdata import CRMData, LoadReport
from loyaltylab.exceptions import MissingTableError
from loyaltylab.report._builder_html import MAX_FINDINGS, _HtmlPage  # noqa: F401
# the items stay importable from here (the deck and the workbook import them): noqa F401
from loyaltylab.report._builder_items import (  # noqa: F401
    _REVENUE_TABLE, _Figure, _fmt_cell, _Heading, _Methods, _progress, _revenue_steps, _SheetOnly,
    _short_source, _Skipped, _State, _Table, _Text,
)
from loyaltylab.report._excel import check_no_identifiers, sanitize_sheet_names
from loyaltylab.report._findings import Finding
from loyaltylab.report._locale import Formats
from loyaltylab.report._figures import (
    FORMATS, Footnote, _as_figure, figure_title, prepare_figure, render, slugify,
)

__all__ = ["Report"]

_HTML_NAME, _PPTX_NAME, _XLSX_NAME, _CHART_DIR = "report.html", "deck.pptx", "tables.xlsx", \
    "charts"


class Report(_HtmlPage):
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
            Chart file formats; empty for no ``charts/`` folder.
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
                charts = (self.write_charts(out / _CHART_DIR, formats=formats, progress=bar)
                          if tuple(formats) else [])
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
