"""The deck: a 16:9 PowerPoint built from a report's findings, with native charts.

Slides, in order: title (client, date, source), agenda, executive summary (the findings'
headlines), then per section a section slide and one slide per finding (the headline as
title, its chart, what it means), methods, data quality, and an appendix (parts not
included, the remaining charts).

Charts are native PowerPoint charts that carry their data (bars, stacked bars, lines,
scatter) whenever :func:`axes_to_chart` can read the matplotlib Axes completely; anything it
cannot express faithfully (survival steps with bands, heat maps, error bars, log scales,
annotations) is placed as a picture at the report's ``image_dpi`` (150 by default: a
chart of a 10-inch slide figure is 1,500 pixels wide), the image the HTML report embeds. Each
chart's footnote goes into the slide's footer line and its speaker notes.

A user template (a ``.pptx`` master) replaces the default: its layouts are chosen by the
placeholders they hold (title, body, subtitle), never by position in the list, and a
missing placeholder is replaced by a text box.
"""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from typing import Any
from collections.abc import Sequence

from loyaltylab.exceptions import SourceError
from loyaltylab.report._deck_charts import (ChartSpec, _add_native_chart, _figure_chart,
                                            axes_to_chart)
from loyaltylab.report._deck_text import (_BULLET_INDENT, _EMU_PER_INCH, _truncate_to_fit,
                                          fit_font_size)

__all__ = ["write_deck", "axes_to_chart", "ChartSpec", "fit_font_size"]

_DEFAULT_W, _DEFAULT_H = int(13.333 * _EMU_PER_INCH), int(7.5 * _EMU_PER_INCH)


# ------------------------------------------------------------------ template
def _placeholder_kinds(layout: Any) -> list[tuple[str, float]]:
    """(kind, area) of a layout's placeholders: title, subtitle, body, picture, other."""
    from pptx.enum.shapes import PP_PLACEHOLDER as P

    names = {P.TITLE: "title", P.CENTER_TITLE: "title", P.SUBTITLE: "subtitle",
             P.BODY: "body", P.OBJECT: "body", P.PICTURE: "picture", P.CHART: "other",
             P.TABLE: "other", P.MEDIA_CLIP: "other", P.ORG_CHART: "other",
             P.BITMAP: "other"}
    out = []
    for ph in layout.placeholders:
        kind = names.get(ph.placeholder_format.type)
        if kind:
            try:
                area = float((ph.width or 0) * (ph.height or 0))
            except (AttributeError, TypeError):
                area = 0.0
            out.append((kind, area))
    return out


def _pick_layout(prs: Any, want: str) -> Any:
    """A layout by the placeholders it holds, never by its position in the list.

    title: a title and a subtitle; content: a title and one large body; title_only: a
    title and as little else as possible; section: a layout named like a section header,
    else a title with the smallest body. Missing kinds are allowed (the nearest layout is
    used and text boxes stand in), so any master works.
    """
    layouts = list(prs.slide_layouts)
    page = float(prs.slide_width * prs.slide_height) or 1.0
    wanted = {"title": {"title", "subtitle"}, "content": {"title", "body"},
              "title_only": {"title"}, "section": {"title", "body"}}[want]

    def score(layout: Any) -> tuple[float, ...]:
        kinds = _placeholder_kinds(layout)
        types = {k for k, _ in kinds}
        miss = len(wanted - types)
        extra = sum(1 for k, _ in kinds if k not in wanted)
        bodies = sorted((a / page for k, a in kinds if k == "body"), reverse=True)
        named = "section" in layout.name.lower()
        if want == "content":
            return (miss, len(bodies) > 1, -(bodies[0] if bodies else 0.0), extra)
        if want == "section":
            return (miss, not named, bodies[0] if bodies else 1.0, extra)
        if want == "title_only":
            return (miss, extra + len(bodies) + (types >= {"subtitle"}), 0.0)
        return (miss, extra, 0.0)

    return min(layouts, key=score)


def _default_presentation() -> Any:
    """python-pptx's default template widened to 16:9: every master and layout
    placeholder is stretched with the slide, so titles sit where a 16:9 master puts
    them."""
    from pptx import Presentation

    prs = Presentation()
    old_w = prs.slide_width
    prs.slide_width, prs.slide_height = _DEFAULT_W, _DEFAULT_H
    ratio = _DEFAULT_W / old_w
    for master in prs.slide_masters:
        for shapes in [master.shapes] + [layout.shapes for layout in master.slide_layouts]:
            for shape in shapes:
                # only shapes with their own position: the others inherit the scaled one
                own = shape._element.xpath("./p:spPr/a:xfrm/a:off")
                if own and shape.width is not None:
                    top, height = shape.top, shape.height
                    shape.left, shape.width = int(shape.left * ratio), int(shape.width * ratio)
                    shape.top, shape.height = top, height
    return prs


def _open_template(template: str | Path) -> Any:
    from pptx import Presentation

    path = Path(template)
    try:
        prs = Presentation(str(path))
    except FileNotFoundError:
        raise SourceError(f"deck template {path.name!r} not found; give the path of a "
                          f".pptx file") from None
    except Exception as exc:  # noqa: BLE001 - python-pptx raises many kinds
        raise SourceError(f"deck template {path.name!r} is not a PowerPoint file "
                          f"({type(exc).__name__}); save the master as .pptx") from None
    # a template may carry example slides: the deck starts empty
    ids = prs.slides._sldIdLst
    for sld in list(ids):
        prs.part.drop_rel(sld.rId)
        ids.remove(sld)
    return prs


# ------------------------------------------------------------------ the deck
class _Deck:
    def __init__(self, prs: Any, report: Any, *, own_design: bool = True) -> None:
        from pptx.dml.color import RGBColor

        self.own_design = own_design  # False: a user's template decides alignment
        self.prs = prs
        self.report = report
        self.brand = report.brand
        accent = self.brand.accent if self.brand else "#0072B2"
        self.accent = RGBColor.from_string(accent.lstrip("#"))
        self.W, self.H = prs.slide_width, prs.slide_height
        self.margin = int(0.5 * _EMU_PER_INCH)
        self.footer_h = int(0.55 * _EMU_PER_INCH)
        self.layouts = {k: _pick_layout(prs, k) for k in
                        ("title", "content", "title_only", "section")}

    # -- building blocks
    def new_slide(self, kind: str) -> Any:
        slide = self.prs.slides.add_slide(self.layouts[kind])
        return slide

    def _drop_empty_placeholders(self, slide: Any) -> None:
        for ph in list(slide.placeholders):
            if ph.has_text_frame and not ph.text_frame.text.strip():
                ph._element.getparent().remove(ph._element)

    def _placeholder(self, slide: Any, kinds: set[str]) -> Any:
        from pptx.enum.shapes import PP_PLACEHOLDER as P

        types = {"title": (P.TITLE, P.CENTER_TITLE), "subtitle": (P.SUBTITLE,),
                 "body": (P.BODY, P.OBJECT)}
        for ph in slide.placeholders:
            if any(ph.placeholder_format.type in types[k] for k in kinds):
                return ph
        return None

    def set_text(self, shape: Any, paragraphs: Sequence[str], *, max_pt: float,
                 min_pt: float, bold: bool = False, color: Any = None,
                 bullets: bool = False) -> None:
        from pptx.enum.text import MSO_AUTO_SIZE
        from pptx.util import Pt

        paragraphs = [p for p in paragraphs if p is not None]
        tf = shape.text_frame
        tf.word_wrap = True
        tf.auto_size = MSO_AUTO_SIZE.NONE
        indent = _BULLET_INDENT if bullets else 0
        size = fit_font_size(paragraphs, shape.width, shape.height, max_pt=max_pt,
                             min_pt=min_pt, bold=bold, para_gap=0.3 if bullets else 0.0,
                             indent=indent)
        if size is None:
            size = min_pt
            paragraphs = self._shorten(paragraphs, shape.width - indent, shape.height,
                                       min_pt, 0.3 if bullets else 0.0)
        tf.clear()
        for i, text in enumerate(paragraphs):
            para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            run = para.add_run()
            run.text = text
            run.font.size = Pt(size)
            run.font.bold = bold
            if color is not None:
                run.font.color.rgb = color
            # spacing set here, not left to the template (its 10 pt before each
            # paragraph and 90 % lines would make the measured text overflow)
            para.space_before = Pt(0)
            para.line_spacing = 1.0
            para.space_after = Pt(size * 0.3) if bullets else Pt(0)

    def _shorten(self, paragraphs: list[str], width: int, height: int, size: float,
                 gap: float) -> list[str]:
        out = list(paragraphs)
        while len(out) > 1 and fit_font_size(out, width, height, max_pt=size, min_pt=size,
                                             para_gap=gap) is None:
            out = out[:-1]
        if fit_font_size(out, width, height, max_pt=size, min_pt=size, para_gap=gap) is None:
            out = [_truncate_to_fit(out[0], width, height, size)]
        return out

    def title(self, slide: Any, text: str, *, max_pt: float = 30,
              min_pt: float = 16, align_left: bool = True) -> Any:
        ph = self._placeholder(slide, {"title"})
        if ph is None:
            ph = slide.shapes.add_textbox(self.margin, int(0.3 * _EMU_PER_INCH),
                                          self.W - 2 * self.margin,
                                          int(1.0 * _EMU_PER_INCH))
            ph.name = "Title"
        self.set_text(ph, [text], max_pt=max_pt, min_pt=min_pt, color=None)
        if self.own_design and align_left:
            from pptx.enum.text import PP_ALIGN

            for para in ph.text_frame.paragraphs:
                para.alignment = PP_ALIGN.LEFT
        return ph

    def content_box(self, slide: Any, title: Any) -> tuple[int, int, int, int]:
        top = int(title.top + title.height + 0.1 * _EMU_PER_INCH)
        left = max(self.margin, int(title.left)) if title.left is not None else self.margin
        width = min(self.W - left - self.margin, int(title.width)) if title.width else \
            self.W - 2 * self.margin
        bottom = self.H - self.footer_h - int(0.1 * _EMU_PER_INCH)
        return left, top, width, max(bottom - top, int(_EMU_PER_INCH))

    def body(self, slide: Any, title: Any, paragraphs: Sequence[str], *, max_pt: float = 22,
             min_pt: float = 12) -> Any:
        left, top, width, height = self.content_box(slide, title)
        ph = self._placeholder(slide, {"body"})
        if ph is None:
            ph = slide.shapes.add_textbox(left, top, width, height)
            ph.name = "Body"
        else:
            ph.left, ph.top, ph.width, ph.height = left, top, width, height
        self.set_text(ph, paragraphs, max_pt=max_pt, min_pt=min_pt, bullets=True)
        return ph

    def accent_bar(self, slide: Any, top: int) -> None:
        from pptx.enum.shapes import MSO_SHAPE

        bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, self.margin, top,
                                     int(1.2 * _EMU_PER_INCH), int(0.06 * _EMU_PER_INCH))
        bar.name = "Accent"
        bar.fill.solid()
        bar.fill.fore_color.rgb = self.accent
        bar.line.fill.background()

    def footer(self, slide: Any, text: str | None, *, notes: str | None = None) -> None:
        from pptx.dml.color import RGBColor
        from pptx.util import Pt

        logo_w = 0
        if self.brand is not None and self.brand.logo_bytes:
            logo_w = self.logo(slide, right=self.W - self.margin,
                               top=self.H - self.footer_h + int(0.08 * _EMU_PER_INCH),
                               max_h=int(0.4 * _EMU_PER_INCH),
                               max_w=int(1.5 * _EMU_PER_INCH))
        if text:
            box = slide.shapes.add_textbox(self.margin, self.H - self.footer_h,
                                           self.W - 2 * self.margin - logo_w
                                           - (int(0.2 * _EMU_PER_INCH) if logo_w else 0),
                                           self.footer_h - int(0.05 * _EMU_PER_INCH))
            box.name = "Footnote"
            self.set_text(box, [text], max_pt=11, min_pt=8, color=RGBColor(0x44, 0x44, 0x44))
        note = notes if notes is not None else text
        if note:
            slide.notes_slide.notes_text_frame.text = note
        del Pt

    def logo(self, slide: Any, *, right: int, top: int, max_h: int, max_w: int) -> int:
        from PIL import Image

        data = self.brand.logo_bytes
        w_px, h_px = Image.open(io.BytesIO(data)).size
        scale = min(max_w / w_px, max_h / h_px)
        w, h = int(w_px * scale), int(h_px * scale)
        pic = slide.shapes.add_picture(io.BytesIO(data), right - w, top, w, h)
        pic.name = "Logo"
        return w

    def chart(self, slide: Any, item: Any, box: tuple[int, int, int, int]) -> str:
        """A native chart when the figure converts, else its picture; returns which."""
        from PIL import Image

        spec = _figure_chart(item.fig)
        if spec is not None:
            _add_native_chart(slide, spec, box)
            return "native"
        png = self.report._image(item)  # the HTML's image: rendered once per report
        left, top, width, height = box
        w_px, h_px = Image.open(io.BytesIO(png)).size
        scale = min(width / w_px, height / h_px)
        w, h = int(w_px * scale), int(h_px * scale)
        pic = slide.shapes.add_picture(io.BytesIO(png), left + (width - w) // 2, top, w, h)
        pic.name = "Chart picture"
        return "picture"

    # -- slides
    def title_slide(self) -> None:
        rep = self.report
        slide = self.new_slide("title")
        self.title(slide, rep.title, max_pt=40, min_pt=20, align_left=False)
        lines = []
        if self.brand is not None and self.brand.client:
            lines.append(f"Prepared for {self.brand.client}")
        if rep.subtitle:
            lines.append(rep.subtitle)
        from loyaltylab.report._figures import _fmt_date

        when = _fmt_date(rep.as_of) if rep.as_of is not None else None
        facts = [x for x in (f"Data: {rep.source}" if rep.source else None,
                             f"as of {when}" if when else None) if x]
        if facts:
            lines.append(", ".join(facts))
        lines.append(f"Prepared {date.today().strftime('%-d %B %Y')}")
        sub = self._placeholder(slide, {"subtitle", "body"})
        if sub is None:
            sub = slide.shapes.add_textbox(self.margin, int(self.H * 0.55),
                                           self.W - 2 * self.margin, int(self.H * 0.3))
            sub.name = "Subtitle"
        self.set_text(sub, lines, max_pt=20, min_pt=11)
        if self.brand is not None and self.brand.logo_bytes:
            self.logo(slide, right=self.W - self.margin, top=self.margin,
                      max_h=int(1.1 * _EMU_PER_INCH), max_w=int(3 * _EMU_PER_INCH))
        skipped = rep.skipped
        if skipped:
            slide.notes_slide.notes_text_frame.text = "Not included: " + "; ".join(
                f"{c}: {r}" for c, r in skipped)
        self._drop_empty_placeholders(slide)

    def list_slide(self, title: str, paragraphs: Sequence[str], *, notes: str | None = None,
                   max_pt: float = 22) -> None:
        """One or more slides of bullet paragraphs: split so each fits at 12 pt."""
        pages = self._paginate(paragraphs)
        for k, page in enumerate(pages):
            slide = self.new_slide("content")
            head = title if len(pages) == 1 else f"{title} ({k + 1} of {len(pages)})"
            t = self.title(slide, head)
            self.accent_bar(slide, int(t.top + t.height))
            self.body(slide, t, page, max_pt=max_pt)
            self.footer(slide, None, notes=notes)
            self._drop_empty_placeholders(slide)

    def _paginate(self, paragraphs: Sequence[str]) -> list[list[str]]:
        probe = self.prs.slides.add_slide(self.layouts["content"])
        t = self.title(probe, "Probe")
        _, _, width, height = self.content_box(probe, t)
        ids = self.prs.slides._sldIdLst
        sld = ids[-1]
        self.prs.part.drop_rel(sld.rId)
        ids.remove(sld)
        pages: list[list[str]] = [[]]
        for para in paragraphs:
            trial = pages[-1] + [para]
            if pages[-1] and fit_font_size(trial, width, height, max_pt=12, min_pt=12,
                                           para_gap=0.3, indent=_BULLET_INDENT) is None:
                pages.append([para])
            else:
                pages[-1] = trial
        return [p for p in pages if p] or [[""]]

    def section_slide(self, text: str, subtitle: str | None = None) -> None:
        slide = self.new_slide("section")
        t = self.title(slide, text, max_pt=36, min_pt=20)
        if subtitle:
            body = self._placeholder(slide, {"body"})
            if body is not None:
                self.set_text(body, [subtitle], max_pt=18, min_pt=11)
        self._drop_empty_placeholders(slide)
        del t

    def chart_slide(self, title: str, item: Any | None, meaning: str | None) -> str | None:
        slide = self.new_slide("title_only")
        t = self.title(slide, title, max_pt=28, min_pt=16)
        self.accent_bar(slide, int(t.top + t.height))
        left, top, width, height = self.content_box(slide, t)
        top += int(0.1 * _EMU_PER_INCH)
        height -= int(0.1 * _EMU_PER_INCH)
        kind = None
        if meaning and item is None:
            box = slide.shapes.add_textbox(left, top, width, height)
            box.name = "Meaning"
            self.set_text(box, [meaning], max_pt=24, min_pt=12)
            chart_w = width
        elif meaning:
            side = int(width * 0.3)
            gap = int(0.25 * _EMU_PER_INCH)
            chart_w = width - side - gap
            box = slide.shapes.add_textbox(left + chart_w + gap, top, side, height)
            box.name = "Meaning"
            from pptx.dml.color import RGBColor

            self.set_text(box, [meaning], max_pt=20, min_pt=12,
                          color=RGBColor(0x1F, 0x1F, 0x1F))
        else:
            chart_w = width
        if item is not None:
            kind = self.chart(slide, item, (left, top, chart_w, height))
        self.footer(slide, item.footnote if item is not None else None)
        self._drop_empty_placeholders(slide)
        return kind

    def table_slide(self, title: str, frame: Any, *, note: str | None = None,
                    max_rows: int = 10) -> None:
        from pptx.util import Pt

        from loyaltylab.report._builder import _fmt_cell

        slide = self.new_slide("title_only")
        t = self.title(slide, title)
        self.accent_bar(slide, int(t.top + t.height))
        left, top, width, height = self.content_box(slide, t)
        top += int(0.1 * _EMU_PER_INCH)
        shown = frame.head(max_rows)
        rows, cols = shown.height + 1, shown.width
        row_h = int(0.4 * _EMU_PER_INCH)
        shape = slide.shapes.add_table(rows, cols, left, top, width, row_h * rows)
        shape.name = "Table"
        table = shape.table
        numeric = [dt.is_numeric() for dt in shown.dtypes]
        for j, col in enumerate(shown.columns):
            table.cell(0, j).text = str(col)
        for i, row in enumerate(shown.iter_rows(), start=1):
            for j, v in enumerate(row):
                table.cell(i, j).text = _fmt_cell(v)
        for i in range(rows):
            for j in range(cols):
                cell = table.cell(i, j)
                for para in cell.text_frame.paragraphs:
                    if numeric[j] and i:
                        from pptx.enum.text import PP_ALIGN

                        para.alignment = PP_ALIGN.RIGHT
                    for run in para.runs:
                        run.font.size = Pt(12)
        more = (f"Showing {shown.height:,} of {frame.height:,} rows; all are in the "
                f"workbook." if frame.height > shown.height else None)
        self.footer(slide, " ".join(x for x in (note, more) if x) or None)
        self._drop_empty_placeholders(slide)


def _sections(report: Any) -> list[tuple[str, list[Any]]]:
    """(heading, items) in report order."""
    from loyaltylab.report._builder import _Heading

    out: list[tuple[str, list[Any]]] = [("", [])]
    for item in report._state.items:
        if isinstance(item, _Heading):
            out.append((item.text, []))
        else:
            out[-1][1].append(item)
    return out


def write_deck(report: Any, path: str | Path, *, template: str | Path | None = None) -> Path:
    """Write the report's deck (see the module docstring for the slides).

    Parameters
    ----------
    report : Report
    path : str or Path
        The ``.pptx`` to write.
    template : str or Path, optional
        A ``.pptx`` whose masters and layouts replace the default 16:9 design; its own
        slides are not copied.

    Returns
    -------
    Path
    """
    from loyaltylab.report._builder import _Figure

    prs = _default_presentation() if template is None else _open_template(template)
    props = prs.core_properties
    props.title, props.author, props.last_modified_by = report.title, "loyaltylab", \
        "loyaltylab"
    props.subject, props.comments, props.keywords = "", "", ""
    deck = _Deck(prs, report, own_design=template is None)
    figures = {i.name: i for i in report._state.items if isinstance(i, _Figure)}
    findings = report.findings
    sections = _sections(report)
    by_section: dict[str, list[Any]] = {}
    for f in findings:
        by_section.setdefault(f.section or "Overview", []).append(f)
    headings = [h for h, _ in sections]
    # a finding about no section of the report (data quality) comes first, under its name
    order = [k for k in by_section if k not in headings] + [
        h for h in headings if h in by_section]
    skipped = report.skipped

    deck.title_slide()
    agenda = (["Executive summary"] if findings else []) + order
    agenda += ["Methods and data quality", "Appendix"]
    deck.list_slide("Agenda", agenda, max_pt=24)
    if findings:
        deck.list_slide("Executive summary", [f.headline for f in findings[:8]],
                        notes="\n".join(f"{f.headline} {f.meaning}" for f in findings))
    used: set[str] = set()
    for heading in order:
        deck.section_slide(heading)
        for f in by_section[heading]:
            item = figures.get(f.figure) if f.figure else None
            if item is not None:
                used.add(item.name)
            deck.chart_slide(f.headline, item, f.meaning)
    methods = [f"{m.heading}: {m.text}" if m.heading else m.text
               for m in report._state.methods]
    methods.append("Tables and charts show aggregates only: no names, e-mail addresses, "
                   "phone numbers or customer identifiers.")
    deck.list_slide("Methods", [re.sub(r"\s+", " ", m).strip() for m in methods])
    lr = report._state.load_report
    if lr is not None and lr.tables:
        deck.table_slide("Data quality: rows read, kept and rejected", _dq_summary(lr),
                         note="Reasons for every rejected row are on the Data quality sheet "
                              "of the workbook.")
    deck.section_slide("Appendix", "Parts not included and further charts")
    if skipped:
        deck.list_slide("Not included, and why", [f"{c}: {r}" for c, r in skipped])
    for name, item in figures.items():
        if name not in used:
            deck.chart_slide(item.title, item, None)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(path))
    return path


def _dq_summary(load_report: Any) -> Any:
    import polars as pl

    rows = []
    for name, t in load_report.tables.items():
        excluded = sum(int(e["n"]) for e in t.excluded.values())
        rows.append((name, t.read, t.kept, t.rejected, excluded))
    return pl.DataFrame(rows, schema={"Table": pl.String, "Rows read": pl.Int64,
                                      "Kept": pl.Int64, "Rejected": pl.Int64,
                                      "Set aside by rules": pl.Int64}, orient="row")
