"""The HTML page of a :class:`~loyaltylab.report.Report`: one self-contained file, images
embedded, inline CSS, no scripts (a content-security policy forbids them).
"""

from __future__ import annotations

import base64
import html

from loyaltylab.data.mapping import amount_note as _amount_note
from loyaltylab.report._builder_items import (_REVENUE_TABLE, _Figure, _Heading, _paragraphs,
                                              _revenue_steps, _short_source,
                                              _Table, _Text)
from loyaltylab.report._present import (
    _UNIT_KINDS, client_note, plain_words, reader_text, table_columns,
)
from loyaltylab.report._figures import slugify

__all__ = ["MAX_FINDINGS"]

_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'")
MAX_FINDINGS = 8
"""The executive summary shows at most this many findings (the largest business weights)."""
_PRIVACY_NOTE = ("Tables and charts show aggregates only: no names, e-mail addresses, phone "
                 "numbers or customer identifiers.")


class _HtmlPage:
    """The HTML writing of :class:`~loyaltylab.report.Report` (a mixin: its methods read the
    report's content items and state)."""

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
        if rep is not None and not rep.tables and rep.warnings:
            # no row was read one by one (the engine run counts rows inside the database)
            out += [f"<p>{esc(client_note(w))}</p>" for w in rep.warnings]
        elif rep is None or not rep.tables:
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
