"""One look for every PDF gunmane writes: the カルテ (karte_pdf), the paper questionnaire (survey_pdf) and the
group documents (gunmane.io.documents.render_pdf) — colours, type sizes, margins, table style and footer.

Colours are the デジタル庁デザインシステム (DADS) tokens that the web screens use, in the same roles
(gunmane/web/static/gunmane/app.css): the key blue for titles and headings, gray-800 text, gray-600 notes,
blue-50 header rows, red-900 for what must not be missed (合成データ, 必須).  Each colour exists as hex text
(``*_HEX``, for markup, matplotlib and Word) and as a reportlab colour.  Japanese is set in the shipped
IPAexGothic (gunmane.io.reports.fonts), embedded, so a PDF prints the same on any PC.

The sizes are a small ramp shared by the reading documents (questionnaire, documents); the one-page
landscape カルテ is denser and scales its own table type (karte_pdf), but takes its colours, title, footer and
table style from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm

from gunmane.io.reports.fonts import register_reportlab_font

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

__all__ = [
    "ALERT", "ALERT_HEX", "BODY_PT", "BORDER", "BORDER_HEX", "FOOTER_PT", "FOOTER_Y", "HEADING_PT", "HEAD_LINE_W",
    "LEADING", "LINE_W", "MARGIN_BOTTOM", "MARGIN_DENSE", "MARGIN_TOP", "MARGIN_X", "MUTED", "MUTED_HEX",
    "NOTE_COLOURS", "PAGE_H", "PAGE_W", "PRIMARY", "PRIMARY_HEX", "RULE", "RULE_HEX", "SMALL_PT", "SUBTLE",
    "SUBTLE_HEX", "TEXT", "TEXT_HEX", "TINT", "TINT_HEX", "TITLE_PT",
    "draw_footer", "page_label", "paragraph_style", "pdf_font", "table_style",
]

# --------------------------------------------------------------------------- colours (DADS tokens)

PRIMARY_HEX = "#0017c1"  # blue-900, the key colour: titles, headings, question numbers
TEXT_HEX = "#333333"  # solid-gray-800: body text
MUTED_HEX = "#666666"  # solid-gray-600: notes, captions, header and footer lines
RULE_HEX = "#cccccc"  # solid-gray-200: dividers and table lines
BORDER_HEX = "#767676"  # solid-gray-536: lines people write on or within (questionnaire grids)
TINT_HEX = "#e8f1fe"  # blue-50: header rows and cells, group rows
SUBTLE_HEX = "#f2f2f2"  # solid-gray-50: column headers of dense tables, total rows
ALERT_HEX = "#ce0000"  # red-900 (the web's error colour): 合成データ, ［必須］

PRIMARY = colors.HexColor(PRIMARY_HEX)
TEXT = colors.HexColor(TEXT_HEX)
MUTED = colors.HexColor(MUTED_HEX)
RULE = colors.HexColor(RULE_HEX)
BORDER = colors.HexColor(BORDER_HEX)
TINT = colors.HexColor(TINT_HEX)
SUBTLE = colors.HexColor(SUBTLE_HEX)
ALERT = colors.HexColor(ALERT_HEX)

# A boxed note by kind: (text and frame, background), as the web's error / info / warning messages.
NOTE_COLOURS: dict[str, tuple[str, str]] = {
    "notice": (ALERT_HEX, "#fdeeee"),  # red-50
    "draft": (PRIMARY_HEX, TINT_HEX),
    "warning": ("#6e5600", "#fbf5e0"),  # yellow-1100 on yellow-50
    "info": (TEXT_HEX, SUBTLE_HEX),
}

# --------------------------------------------------------------------------- type (pt) and pages

TITLE_PT = 16.0
HEADING_PT = {1: 13.5, 2: 11.5, 3: 10.5}
BODY_PT = 10.0
SMALL_PT = 8.5
FOOTER_PT = 7.5
LEADING = 1.5  # line height as a multiple of the size (Japanese text needs air between lines)

PAGE_W, PAGE_H = A4
MARGIN_X = 20 * mm  # A4 portrait (questionnaire, documents)
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 20 * mm
FOOTER_Y = MARGIN_BOTTOM - 10 * mm  # baseline of the footer line on a portrait page
MARGIN_DENSE = 28.0  # the one-page landscape カルテ

LINE_W = 0.5  # table grid and row lines
HEAD_LINE_W = 0.6  # the line under a header row


def pdf_font() -> str:
    """The Japanese font, registered with reportlab (IPAexGothic, embedded as a subset)."""
    return register_reportlab_font()


def paragraph_style(name: str, font_name: str, size: float, colour: Any = TEXT, leading: float = LEADING,
                    **kw: Any) -> ParagraphStyle:
    """A paragraph style in the shared font and colours; Japanese line breaking (wordWrap CJK)."""
    return ParagraphStyle(name, fontName=font_name, fontSize=size, leading=size * leading, textColor=colour,
                          wordWrap="CJK", **kw)


def table_style(font_name: str, *, lines: Literal["header", "grid", "none"] = "header", header_bg: Any = TINT,
                pad_v: float = 2.5, pad_h: float = 4.0) -> list[tuple[Any, ...]]:
    """The commands every table starts from: font, header row background (none if ``header_bg`` is None),
    vertical centring, padding, and a line under the header (``header``), a full grid (``grid``) or no lines."""
    cmds: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font_name),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), pad_v),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad_v),
        ("LEFTPADDING", (0, 0), (-1, -1), pad_h),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad_h),
    ]
    if header_bg is not None:
        cmds.append(("BACKGROUND", (0, 0), (-1, 0), header_bg))
    if lines == "grid":
        cmds.append(("GRID", (0, 0), (-1, -1), LINE_W, RULE))
    elif lines == "header":
        cmds.append(("LINEBELOW", (0, 0), (-1, 0), HEAD_LINE_W, MUTED))
    return cmds


def page_label(page: int, total: int) -> str:
    return f"{page} / {total} ページ"


def draw_footer(c: Canvas, font_name: str, y: float, *, page_w: float = PAGE_W, margin_x: float = MARGIN_X,
                left: str = "", centre: str = "", right: str = "", rule: bool = False) -> None:
    """One footer line at baseline ``y``: ``left``, ``centre`` and ``right`` texts in the footer type, with a
    thin rule above it when ``rule``."""
    c.saveState()
    if rule:
        c.setStrokeColor(RULE)
        c.setLineWidth(LINE_W)
        c.line(margin_x, y + FOOTER_PT + 1.5, page_w - margin_x, y + FOOTER_PT + 1.5)
    c.setFont(font_name, FOOTER_PT)
    c.setFillColor(MUTED)
    # a long left text (a group's name) must not run into the centre one: the centre moves right as far as the
    # right text allows, and a left text still too long ends in 「…」
    gap = FOOTER_PT * 1.5
    right_start = page_w - margin_x - (c.stringWidth(right) + gap if right else 0)
    centre_w = c.stringWidth(centre) + gap if centre else 0
    while left and margin_x + c.stringWidth(left) > right_start - centre_w and len(left) > 1:
        left = left[:-2] + "…"
    if left:
        c.drawString(margin_x, y, left)
    if centre:
        x = max(page_w / 2 - (centre_w - gap) / 2, margin_x + (c.stringWidth(left) + gap if left else 0))
        c.drawString(min(x, right_start - centre_w + gap), y, centre)
    if right:
        c.drawRightString(page_w - margin_x, y, right)
    c.restoreState()
