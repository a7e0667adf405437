"""The questionnaire as a printable A4 PDF, for respondents who answer on paper.

Every question is numbered (問1, 問2 …) as on the web form; choices get drawn check-boxes, a scale
and a matrix get a grid of boxes under the five labels, a number gets a box with its unit, free
text gets a framed writing area.  Conditional questions carry the condition in words (「問3で…と
答えた方のみ」) since paper cannot hide them.  Japanese is set in the shipped IPAexGothic
(gunmane.io.reports.fonts), embedded, so the file prints the same on any PC.  Footer: title and page x/y.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from gunmane.io.reports.fonts import register_reportlab_font
from gunmane.io.reports.survey_export import QuestionSpec, SurveySpec

__all__ = ["questionnaire_pdf"]

PAGE_W, PAGE_H = A4
MARGIN = 42.0
BODY_W = PAGE_W - 2 * MARGIN
BOX = 10.0
PRIMARY = colors.HexColor("#0017c1")
TEXT = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#4d4d4d")
RULE = colors.HexColor("#767676")
HEAD_BG = colors.HexColor("#e8f1fe")


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
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=15, textColor=TEXT, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, textColor=PRIMARY, spaceAfter=4),
        "sub": ParagraphStyle("sub", parent=base, fontSize=9.5, textColor=MUTED, spaceAfter=6),
        "intro": ParagraphStyle("intro", parent=base, fontSize=9.5, leading=15),
        "q": ParagraphStyle("q", parent=base, fontSize=11, leading=16, spaceBefore=10, spaceAfter=3),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=12, textColor=MUTED),
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
    style = [("ALIGN", (first, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG), ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
             ("TOPPADDING", (0, 1), (-1, -1), 4), ("BOTTOMPADDING", (0, 1), (-1, -1), 4)]
    return Table(data, colWidths=widths, hAlign="RIGHT" if not rows else "LEFT", style=TableStyle(style))


def _write_box(height: float, width: float = BODY_W - 12, unit: str = "", st: dict[str, ParagraphStyle] | None = None
               ) -> Table:
    data: list[list[Any]] = [["", _p(unit, st["cell"]) if unit and st else ""]]
    return Table(data, colWidths=[width, 40 if unit else 1], rowHeights=[height], hAlign="RIGHT" if unit else "CENTER",
                 style=TableStyle([("BOX", (0, 0), (0, 0), 0.8, TEXT), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))


def _question(q: QuestionSpec, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    mark = '　<font color="#ce0000">［必須］</font>' if q.required else ""
    parts: list[Flowable] = [Paragraph(f"<font color=\"#0017c1\">問{q.number}</font>　{escape(q.text)}{mark}", st["q"])]
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


def _numbered_canvas(title: str, font: str) -> type[Canvas]:
    class NumberedCanvas(Canvas):
        """Writes 「ページ x / y」 once the page count is known."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab API)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(font, 8)
                self.setFillColor(MUTED)
                self.drawString(MARGIN, MARGIN / 2, title[:60])
                self.drawRightString(PAGE_W - MARGIN, MARGIN / 2, f"{self._pageNumber} / {total} ページ")
                super().showPage()
            super().save()

    return NumberedCanvas


def questionnaire_pdf(spec: SurveySpec) -> bytes:
    """The paper questionnaire: title, explanation, respondent box, numbered questions."""
    font = register_reportlab_font()
    st = _styles(font)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, title=spec.title, author=spec.group, subject="アンケート調査票",
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
                 style=TableStyle([("GRID", (0, 0), (-1, -1), 0.6, RULE), ("BACKGROUND", (0, 0), (0, -1), HEAD_BG),
                                   ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story += [_p("ご回答者について", st["q"]), info]
    if spec.organiser:
        story += [Spacer(1, 4), _p(spec.organiser, st["note"])]
    for q in spec.questions:
        story += _question(q, st)
    story += [Spacer(1, 14), _p("ご協力ありがとうございました。", st["center"])]
    doc.build(story, canvasmaker=_numbered_canvas(spec.title, font))
    return buf.getvalue()
