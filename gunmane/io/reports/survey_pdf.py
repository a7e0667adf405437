"""The questionnaire as a printable A4 PDF, for respondents who answer on paper.

Every question is numbered (問1, 問2 …) as on the web form; choices get drawn check-boxes, a scale
and a matrix get a grid of boxes under the five labels, a number gets a box with its unit, free
text gets a framed writing area.  Conditional questions carry the condition in words (「問3で…と
答えた方のみ」) since paper cannot hide them.  Japanese is set in the shipped IPAexGothic
(gunmane.io.reports.fonts), embedded, so the file prints the same on any PC.  Footer: title and page x/y.
Colours, type, margins and footer are the shared PDF style (gunmane.io.reports.pdf_style).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from gunmane.io.reports.pdf_canvas import NumberedCanvas
from gunmane.io.reports.pdf_style import (
    ALERT_HEX,
    BODY_PT,
    BORDER,
    FOOTER_Y,
    LEADING,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED,
    PRIMARY,
    PRIMARY_HEX,
    SMALL_PT,
    TEXT,
    TINT,
    TITLE_PT,
    draw_footer,
    page_label,
    paragraph_style,
    pdf_font,
    table_style,
)
from gunmane.io.reports.survey_export import QuestionSpec, SurveySpec

__all__ = ["questionnaire_pdf"]

PAGE_W, PAGE_H = A4
BODY_W = PAGE_W - 2 * MARGIN_X
BOX = 10.0


class CheckBox(Flowable):
    """An empty square to tick (drawn, not a font glyph: prints the same everywhere)."""

    def __init__(self, size: float = BOX) -> None:
        super().__init__()
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        self.canv.setStrokeColor(TEXT)
        self.canv.setLineWidth(0.8)
        self.canv.rect(0, 0, self.size, self.size, stroke=1, fill=0)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = paragraph_style("base", font, BODY_PT, TEXT, LEADING)
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=TITLE_PT, leading=22, textColor=PRIMARY, spaceAfter=4),
        "sub": ParagraphStyle("sub", parent=base, fontSize=9.5, textColor=MUTED, spaceAfter=6),
        "intro": ParagraphStyle("intro", parent=base, fontSize=9.5, leading=15),
        "q": ParagraphStyle("q", parent=base, fontSize=11, leading=16, spaceBefore=10, spaceAfter=3),
        "note": ParagraphStyle("note", parent=base, fontSize=SMALL_PT, leading=12, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9.5, leading=13),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, alignment=1),
        "center": ParagraphStyle("center", parent=base, fontSize=9, leading=12, alignment=1),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _choice_grid(choices: Sequence[str], st: dict[str, ParagraphStyle]) -> Table:
    ncols = 2 if max((len(c) for c in choices), default=0) <= 18 else 1
    col_w = BODY_W / ncols
    cells = [Table([[CheckBox(), _p(c, st["cell"])]], colWidths=[BOX + 6, col_w - BOX - 12],
                   style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                     ("TOPPADDING", (0, 0), (0, 0), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
             for c in choices]
    grid = [cells[i:i + ncols] + [""] * (ncols - len(cells[i:i + ncols])) for i in range(0, len(cells), ncols)]
    return Table(grid, colWidths=[col_w] * ncols, hAlign="LEFT",
                 style=TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 12), ("VALIGN", (0, 0), (-1, -1), "TOP")]))


def _scale_grid(q: QuestionSpec, rows: Sequence[str], st: dict[str, ParagraphStyle]) -> Table:
    labels = list(q.scale_labels) if len(q.scale_labels) == 5 else [""] * 5
    label_w = BODY_W * (0.42 if rows else 0.0)
    col_w = (BODY_W - label_w - 12) / 5
    head = ([""] if rows else []) + [_p(f"{i}\n{labels[i - 1]}", st["small"]) for i in range(1, 6)]
    data: list[list[Any]] = [head]
    for row in rows or [""]:
        data.append(([_p(row, st["cell"])] if rows else []) + [CheckBox() for _ in range(5)])
    widths = ([label_w] if rows else []) + [col_w] * 5
    first = 1 if rows else 0
    style = table_style(st["base"].fontName, lines="none", pad_v=3, pad_h=6) + [
        ("ALIGN", (first, 0), (-1, -1), "CENTER"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, BORDER),
        ("TOPPADDING", (0, 1), (-1, -1), 4), ("BOTTOMPADDING", (0, 1), (-1, -1), 4)]
    return Table(data, colWidths=widths, hAlign="RIGHT" if not rows else "LEFT", style=TableStyle(style))


def _write_box(height: float, width: float = BODY_W - 12, unit: str = "", st: dict[str, ParagraphStyle] | None = None
               ) -> Table:
    data: list[list[Any]] = [["", _p(unit, st["cell"]) if unit and st else ""]]
    return Table(data, colWidths=[width, 40 if unit else 1], rowHeights=[height], hAlign="RIGHT" if unit else "CENTER",
                 style=TableStyle([("BOX", (0, 0), (0, 0), 0.8, TEXT), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))


def _question(q: QuestionSpec, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    mark = f'　<font color="{ALERT_HEX}">［必須］</font>' if q.required else ""
    parts: list[Flowable] = [Paragraph(f'<font color="{PRIMARY_HEX}">問{q.number}</font>　{escape(q.text)}{mark}', st["q"])]
    notes = []
    if q.condition:
        notes.append("※" + q.condition)
    if q.kind == "single":
        notes.append("（1つ選んで □ に✓をつけてください）")
    elif q.kind == "multiple":
        notes.append(f"（{q.max_choices}つまで選んで✓をつけてください）" if q.max_choices
                     else "（あてはまるものすべてに✓をつけてください）")
    elif q.kind in ("scale", "matrix"):
        notes.append("（それぞれ1つに✓をつけてください）" if q.kind == "matrix" else "（1つに✓をつけてください）")
    if q.help:
        notes.append(q.help)
    parts += [_p(n, st["note"]) for n in notes]
    parts.append(Spacer(1, 3))
    if q.kind in ("single", "multiple"):
        parts.append(_choice_grid(q.choices, st))
    elif q.kind == "scale":
        parts.append(_scale_grid(q, [], st))
    elif q.kind == "matrix":
        parts.append(_scale_grid(q, q.rows, st))
    elif q.kind == "number":
        parts.append(_write_box(22, 120, q.unit or " ", st))
    else:
        parts.append(_write_box(72))
    return [KeepTogether(parts)]


def _footer(title: str, font: str) -> Callable[[Canvas, int, int], None]:
    def draw(c: Canvas, page: int, total: int) -> None:
        draw_footer(c, font, FOOTER_Y, left=title[:60], right=page_label(page, total))
    return draw


def questionnaire_pdf(spec: SurveySpec) -> bytes:
    """The paper questionnaire: title, explanation, respondent box, numbered questions."""
    font = pdf_font()
    st = _styles(font)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
                            bottomMargin=MARGIN_BOTTOM, title=spec.title, author=spec.group, subject="アンケート調査票",
                            creator="gunmane")
    story: list[Flowable] = [_p(spec.title, st["title"])]
    sub = [spec.group]
    if spec.closes_on:
        d = spec.closes_on
        sub.append(f"回答期限 {d.year}年{d.month}月{d.day}日")
    story.append(_p("　｜　".join(s for s in sub if s), st["sub"]))
    if spec.intro:
        story += [_p(spec.intro, st["intro"]), Spacer(1, 6)]
    labels = [spec.name_label, *spec.attribute_labels]
    info = Table([[_p(label, st["cell"]), ""] for label in labels], colWidths=[BODY_W * 0.3, BODY_W * 0.7],
                 rowHeights=[22] * len(labels),
                 style=TableStyle(table_style(font, lines="none", header_bg=None, pad_v=3, pad_h=6) + [
                     ("GRID", (0, 0), (-1, -1), 0.6, BORDER), ("BACKGROUND", (0, 0), (0, -1), TINT)]))
    story += [_p("ご回答者について", st["q"]), info]
    if spec.organiser:
        story += [Spacer(1, 4), _p(spec.organiser, st["note"])]
    for q in spec.questions:
        story += _question(q, st)
    story += [Spacer(1, 14), _p("ご協力ありがとうございました。", st["center"])]
    doc.build(story, canvasmaker=functools.partial(NumberedCanvas, decorate=_footer(spec.title, font)))
    return buf.getvalue()
