"""Render a :class:`~gunmane.io.documents.blocks.Doc` as an A4 portrait PDF (reportlab platypus).

Japanese is set in the shipped IPAexGothic (gunmane.io.reports.fonts), embedded as a subset, so the PDF
prints and extracts as Japanese on any machine.  Headings become PDF bookmarks (the outline mirrors
the Word navigation pane); every page carries the running title and 「x / y ページ」.  Colours, type,
margins, table style and footer are the shared PDF style (gunmane.io.reports.pdf_style).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable

from gunmane.io.documents.blocks import Bullets, Doc, Heading, Note, Para, Table
from gunmane.io.reports.pdf_canvas import NumberedCanvas
from gunmane.io.reports.pdf_style import (
    ALERT,
    BODY_PT,
    FOOTER_PT,
    FOOTER_Y,
    HEADING_PT,
    LEADING,
    LINE_W,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED,
    NOTE_COLOURS,
    PRIMARY,
    RULE,
    SMALL_PT,
    SUBTLE,
    TEXT,
    TITLE_PT,
    draw_footer,
    page_label,
    paragraph_style,
    pdf_font,
    table_style,
)

__all__ = ["render_pdf"]

PAGE_W, PAGE_H = A4
TEXT_W = PAGE_W - 2 * MARGIN_X
RUNNING_TITLE_RAISE = 8 * mm  # the running title, above the body
_ALIGN = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT}


class _Styles:
    def __init__(self, font: str) -> None:
        self.font = font

    def make(self, name: str, size: float, colour: Any = TEXT, leading: float = LEADING, **kw: Any) -> ParagraphStyle:
        return paragraph_style(name, self.font, size, colour, leading, **kw)

    @functools.cached_property
    def meta(self) -> ParagraphStyle:
        return self.make("meta", 9, MUTED, 1.4, alignment=TA_RIGHT)

    def heading(self, level: int) -> ParagraphStyle:
        size = HEADING_PT[level]
        return self.make(f"h{level}", size, PRIMARY, 1.35, spaceBefore=12 if level == 1 else 7, spaceAfter=4,
                         keepWithNext=1)

    def para(self, align: str, small: bool, indent: float, hanging: float) -> ParagraphStyle:
        size = SMALL_PT if small else BODY_PT
        return self.make(f"p{align}{small}{indent}{hanging}", size, MUTED if small else TEXT,
                         alignment=_ALIGN[align], leftIndent=size * (indent + hanging),
                         firstLineIndent=-size * hanging, spaceAfter=3)

    @functools.cached_property
    def caption(self) -> ParagraphStyle:
        return self.make("caption", 9, PRIMARY, 1.3, spaceBefore=2, spaceAfter=2)

    def cell(self, align: str, small: bool, head: bool = False) -> ParagraphStyle:
        size = 7.8 if small else 8.6
        return self.make(f"c{align}{small}{head}", size, PRIMARY if head else TEXT, 1.3, alignment=_ALIGN[align])


@functools.cache
def _ideographic_space(font: str) -> str:
    """Platypus collapses U+3000 like any space, but Japanese documents use it for layout (「令和　年　月
    日」, 「2　…」 in numbered clauses): replace it by as many no-break spaces as make the same width."""
    n = max(1, round(stringWidth("\u3000", font, 10) / stringWidth("\u00a0", font, 10)))
    return "\u00a0" * n


def _p(text: str, style: ParagraphStyle) -> RLParagraph:
    markup = escape(text).replace("\u3000", _ideographic_space(style.fontName)).replace("\n", "<br/>")
    return RLParagraph(markup, style)


class _HeadingParagraph(RLParagraph):
    """A heading that adds its PDF outline entry (bookmark) on the page where it is drawn."""

    def __init__(self, text: str, style: ParagraphStyle, key: str, level: int) -> None:
        super().__init__(escape(text).replace("\u3000", _ideographic_space(style.fontName)), style)
        self._outline = (key, text, level)

    def draw(self) -> None:
        key, title, level = self._outline
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(title, key, level=level - 1, closed=False)
        super().draw()


def _table(t: Table, st: _Styles) -> list[Flowable]:
    widths = [TEXT_W * w for w in t.relative_widths()]
    rows: list[list[Any]] = [[_p(h, st.cell("center", t.small, head=True)) for h in t.header]]
    rows += [[_p(text, st.cell(t.column_align(k), t.small)) for k, text in enumerate(row)] for row in t.rows]
    style = table_style(st.font, lines="grid")
    if t.total_rows:
        style += [("BACKGROUND", (0, -t.total_rows), (-1, -1), SUBTLE),
                  ("LINEABOVE", (0, -t.total_rows), (-1, -t.total_rows), 0.9, MUTED)]
    table = RLTable(rows, colWidths=widths, repeatRows=1, hAlign="CENTER")
    table.setStyle(TableStyle(style))
    out: list[Flowable] = []
    if t.caption:
        out.append(_p(t.caption, st.caption))
    out += [table, Spacer(0, 6)]
    if len(t.rows) <= 12:  # a short table stays with its caption
        return [KeepTogether(out)]
    return out


def _note(n: Note, st: _Styles) -> list[Flowable]:
    fg, bg = NOTE_COLOURS[n.kind]
    para = _p(n.text, st.make(f"note{n.kind}", 9.2, colors.HexColor(fg), 1.5))
    box = RLTable([[para]], colWidths=[TEXT_W], hAlign="CENTER")
    box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(bg)),
                             ("BOX", (0, 0), (-1, -1), 0.8, colors.HexColor(fg)),
                             ("LEFTPADDING", (0, 0), (-1, -1), 6), ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                             ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    return [box, Spacer(0, 6)]


def _title_style(title: str, st: _Styles) -> ParagraphStyle:
    """The title at TITLE_PT, smaller when a line would wrap (a long group name)."""
    widest = max(stringWidth(line, st.font, TITLE_PT) for line in title.split("\n"))
    size = max(11.0, min(TITLE_PT, TITLE_PT * TEXT_W * 0.98 / widest)) if widest else TITLE_PT
    return st.make("title", size, PRIMARY, 1.35, alignment=TA_CENTER, spaceAfter=6)


def _story(doc: Doc, st: _Styles) -> list[Flowable]:
    story: list[Flowable] = [_p(doc.title, _title_style(doc.title, st))]
    story += [_p(line, st.meta) for line in doc.meta]
    story.append(Spacer(0, 8))
    outline = 0  # the PDF outline may not skip a level
    for k, block in enumerate(doc.blocks):
        if isinstance(block, Heading):
            level = min(max(block.level, 1), 3)
            outline = min(level, outline + 1)
            story.append(_HeadingParagraph(block.text, st.heading(level), f"h{k}", outline))
        elif isinstance(block, Para):
            story.append(_p(block.text, st.para(block.align, block.small, block.indent, block.hanging)))
        elif isinstance(block, Bullets):
            style = st.make("bullet", BODY_PT, TEXT, leftIndent=BODY_PT * 2, firstLineIndent=-BODY_PT,
                            spaceAfter=1)
            story += [_p(f"{block.mark}{item}", style) for item in block.items]
            story.append(Spacer(0, 3))
        elif isinstance(block, Table):
            story += _table(block, st)
        elif isinstance(block, Note):
            story += _note(block, st)
    return story


def _page_decoration(doc: Doc, font: str) -> Callable[[Canvas, int, int], None]:
    def draw(c: Canvas, page: int, total: int) -> None:
        c.saveState()
        c.setFont(font, FOOTER_PT)
        c.setFillColor(MUTED)
        top = PAGE_H - MARGIN_TOP + RUNNING_TITLE_RAISE
        c.drawRightString(PAGE_W - MARGIN_X, top, doc.running_title)
        if doc.synthetic:
            c.setFillColor(ALERT)
            c.drawString(MARGIN_X, top, "【合成データ】")
        c.setStrokeColor(RULE)
        c.setLineWidth(LINE_W)
        c.line(MARGIN_X, top - 3, PAGE_W - MARGIN_X, top - 3)
        c.restoreState()
        draw_footer(c, font, FOOTER_Y, centre=page_label(page, total))
    return draw


def render_pdf(doc: Doc) -> bytes:
    """The document as PDF bytes (A4 portrait)."""
    font = pdf_font()
    st = _Styles(font)
    out = io.BytesIO()
    template = BaseDocTemplate(out, pagesize=A4, title=doc.title, author=doc.author, creator="gunmane",
                               subject=doc.subject or doc.title, keywords=list(doc.keywords), lang="ja-JP",
                               initialFontName=font, initialFontSize=BODY_PT,
                               leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
                               bottomMargin=MARGIN_BOTTOM)
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, TEXT_W, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM, 0, 0, 0, 0, id="body")
    template.addPageTemplates([PageTemplate("page", [frame])])
    template.build(_story(doc, st),
                   canvasmaker=functools.partial(NumberedCanvas, decorate=_page_decoration(doc, font)))
    return out.getvalue()
