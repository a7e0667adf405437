"""The カルテ (karte, municipal infrastructure profile) as an A4 landscape PDF — one page, two at most.

Page 1: title and subtitle (scope, 基準日, 類似団体); the key-indicator table grouped by stock /
ageing / condition / backlog / capacity / reference on the left; 3–4 charts on the right, each with
its source line; under both, the 出典 block (every distinct source, numbered — the table refers to
them as [n]) and, when they fit, the 前提 (assumptions) and data notes in small print.  What does
not fit goes to page 2.  The type is scaled down a little (to 85 %) when that keeps more on page 1.
A synthetic karte carries a diagonal 「合成データ（架空の施設を含む）」 watermark on every page and a
notice line.  Footer: generation time, page x/y, "gunmane".  Japanese is set in the shipped
IPAexGothic font, embedded in the PDF (gunmane.io.reports.fonts).

Values are printed with their unit and thousands separators (``1,449,575,000円``, ``10.9%``);
None prints 「不明」, never 0.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    FrameBreak,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from gunmane.engine.indicator_types import IndicatorValue, Karte, ScopeKind, Series
from gunmane.io.reports.charts import (
    GROUP_LABELS,
    SCOPE_KIND_LABELS,
    SYNTHETIC_NOTICE,
    SYNTHETIC_WATERMARK,
    UNKNOWN,
    category_labels,
    chart_kind,
    distinct_sources,
    format_number,
    format_value,
    grouped_indicators,
    has_unknown,
    render_chart_png,
    select_chart_series,
    source_parts,
)
from gunmane.io.reports.pdf_canvas import NumberedCanvas
from gunmane.io.reports.pdf_style import (
    ALERT,
    MARGIN_DENSE,
    MUTED,
    MUTED_HEX,
    PRIMARY,
    RULE,
    SUBTLE,
    TEXT,
    TINT,
    TITLE_PT,
    draw_footer,
    page_label,
    paragraph_style,
    pdf_font,
    table_style,
)

__all__ = ["karte_pdf", "karte_title", "scale_due", "scale_series"]

PAGE_W, PAGE_H = landscape(A4)
MARGIN = MARGIN_DENSE
GUTTER = 16.0
LEFT_W = 380.0
HEADER_H = 52.0
FOOTER_H = 20.0
BODY_TOP = PAGE_H - MARGIN - HEADER_H
BODY_BOTTOM = MARGIN + FOOTER_H - 8
FULL_W = PAGE_W - 2 * MARGIN
STRIP_GAP = 8.0
CHART_DPI = 200

TRACK = colors.HexColor("#e6e6e6")  # the percentile bar: DADS solid-gray-100 …
BAR = colors.HexColor("#4979f5")  # … and blue-500 (colours and type otherwise from gunmane.io.reports.pdf_style)

SCALES = (1.0, 0.92, 0.85)  # type scales tried, largest first


def karte_title(karte: Karte) -> str:
    return f"{karte.scope.name} インフラ現状カルテ（{karte.fiscal_year}年度）"


def _jdate(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _subtitle(karte: Karte) -> str:
    parts = [SCOPE_KIND_LABELS.get(karte.scope.kind.value, karte.scope.kind.value)]
    if karte.scope.kind is ScopeKind.MUNICIPALITY:
        parts[0] += f"（団体コード {karte.scope.code}）"
    elif karte.scope.members:
        parts[0] += f"（{len(karte.scope.members):,}団体）"
    parts.append(f"基準日 {_jdate(karte.as_of)}")
    if karte.peer_group is not None:
        parts.append(f"類似団体: {karte.peer_group.label_ja}（{len(karte.peer_group.members):,}団体）")
    parts.append("施設台帳: あり" if karte.has_ledger else "施設台帳: なし（公表統計のみ）")
    return "　｜　".join(parts)


def _timestamp(dt: datetime) -> str:
    s = f"{dt.year}年{dt.month}月{dt.day}日 {dt:%H:%M}"
    if dt.tzinfo is None:
        return s
    offset = f"{dt:%z}"
    return f"{s}（{'JST' if offset == '+0900' else f'UTC{offset[:3]}:{offset[3:]}'}）"


# --------------------------------------------------------------------------- styles and flowables


@dataclass(frozen=True)
class _Styles:
    font: str
    scale: float

    def para(self, size: float, colour: Any = TEXT, leading: float = 1.35, **kw: Any) -> ParagraphStyle:
        size *= self.scale
        return paragraph_style(f"s{size}", self.font, size, colour, leading, **kw)

    @functools.cached_property
    def cell(self) -> ParagraphStyle:
        return self.para(7.2, leading=1.25)

    @functools.cached_property
    def cell_right(self) -> ParagraphStyle:
        return self.para(7.2, leading=1.25, alignment=2)

    @functools.cached_property
    def head(self) -> ParagraphStyle:
        return self.para(6.6, MUTED, leading=1.2)

    @functools.cached_property
    def group(self) -> ParagraphStyle:
        return self.para(6.9, PRIMARY, leading=1.15)

    @functools.cached_property
    def section(self) -> ParagraphStyle:
        return self.para(8.5, PRIMARY, leading=1.3, spaceBefore=3, spaceAfter=2)

    @functools.cached_property
    def small(self) -> ParagraphStyle:
        return self.para(6.2, MUTED)

    @functools.cached_property
    def small_indent(self) -> ParagraphStyle:
        return self.para(6.2, MUTED, leftIndent=12, firstLineIndent=-12)


class _Percentile(Flowable):
    """A 0–100 position as a small bar plus its number; 「不明」 when unknown, — when not applicable."""

    def __init__(self, value: float | None, width: float, styles: _Styles, *, applicable: bool) -> None:
        super().__init__()
        self.value, self.width, self.styles, self.applicable = value, width, styles, applicable
        self.size = 7.0 * styles.scale

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.size * 1.2

    def draw(self) -> None:
        c = self.canv
        c.setFont(self.styles.font, self.size)
        if self.value is None:
            c.setFillColor(MUTED)
            c.drawRightString(self.width, self.size * 0.2, UNKNOWN if self.applicable else "—")
            return
        bar_w = self.width - self.size * 2.4
        y = self.size * 0.25
        c.setFillColor(TRACK)
        c.rect(0, y, bar_w, self.size * 0.55, stroke=0, fill=1)
        c.setFillColor(BAR)
        c.rect(0, y, bar_w * max(0.0, min(self.value, 100.0)) / 100, self.size * 0.55, stroke=0, fill=1)
        c.setFillColor(TEXT)
        c.drawRightString(self.width, self.size * 0.2, format_number(self.value, decimals=0))


# --------------------------------------------------------------------------- blocks of the story


def _show_percentiles(karte: Karte) -> bool:
    return karte.scope.kind is ScopeKind.MUNICIPALITY or any(
        i.peer_percentile is not None or i.national_percentile is not None for i in karte.indicators)


def _indicator_table(karte: Karte, st: _Styles, source_no: Mapping[str, int], width: float,
                     groups: Mapping[str, str] | None) -> Table:
    pct = _show_percentiles(karte)
    if pct:
        widths = [width * f for f in (0.40, 0.19, 0.08, 0.165, 0.165)]
        header = ["指標", "値", "件数", "類似団体内の位置", "全国での位置"]
    else:
        widths = [width * f for f in (0.56, 0.28, 0.16)]
        header = ["指標", "値", "件数"]
    rows: list[list[Any]] = [[Paragraph(h, st.head) for h in header]]
    pad = 1.25 * st.scale
    style = table_style(st.font, header_bg=SUBTLE, pad_v=pad, pad_h=3)
    for group, indicators in grouped_indicators(karte, groups):
        r = len(rows)
        rows.append([Paragraph(escape(GROUP_LABELS.get(group, group)), st.group)] + [""] * (len(header) - 1))
        style += [("SPAN", (0, r), (-1, r)), ("BACKGROUND", (0, r), (-1, r), TINT),
                  ("TOPPADDING", (0, r), (-1, r), pad * 0.6), ("BOTTOMPADDING", (0, r), (-1, r), pad * 0.6)]
        for ind in indicators:
            rows.append(_indicator_row(ind, st, source_no, widths, pct))
            style.append(("LINEBELOW", (0, len(rows) - 1), (-1, len(rows) - 1), 0.25, RULE))
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _indicator_row(ind: IndicatorValue, st: _Styles, source_no: Mapping[str, int], widths: Sequence[float],
                   pct: bool) -> list[Any]:
    refs = [str(source_no[p]) for p in source_parts(ind.source) if p in source_no]
    label = escape(ind.label_ja)
    if refs:
        label += f'<font size="{5.4 * st.scale:.1f}" color="{MUTED_HEX}"> [{",".join(refs)}]</font>'
    value = escape(format_value(ind.value, ind.unit))
    if ind.value is None:
        value = f'<font color="{MUTED_HEX}">{value}</font>'
    row: list[Any] = [Paragraph(label, st.cell), Paragraph(value, st.cell_right),
                      Paragraph("—" if ind.n is None else format_number(ind.n), st.cell_right)]
    if pct:
        cell_w = widths[3] - 6
        row += [_Percentile(ind.peer_percentile, cell_w, st, applicable=ind.value is not None),
                _Percentile(ind.national_percentile, cell_w, st, applicable=ind.value is not None)]
    return row


def _table_block(karte: Karte, st: _Styles, sources: Sequence[str], width: float,
                 groups: Mapping[str, str] | None) -> list[Flowable]:
    source_no = {s: k for k, s in enumerate(sources, start=1)}
    block: list[Flowable] = [Paragraph("主要指標", st.para(8.5, PRIMARY, leading=1.3, spaceAfter=2))]
    if karte.indicators:
        block.append(_indicator_table(karte, st, source_no, width, groups))
    else:
        block.append(Paragraph("このカルテには指標がありません。", st.cell))
    legend = "[n] は下の出典の番号。"
    if _show_percentiles(karte):
        legend = ("類似団体内の位置・全国での位置: 値が分かっている団体のうち、この値以下の団体の割合（%）。"
                  "値の大小の位置であり、良し悪しを表すものではありません。" + legend)
    block += [Spacer(0, 2), Paragraph(legend, st.small)]
    return block


def _sources_block(sources: Sequence[str], st: _Styles, width: float) -> list[Flowable]:
    """出典: the numbered sources in two columns (filled top to bottom)."""
    items = [Paragraph(f"[{k}] {escape(s)}", st.small_indent) for k, s in enumerate(sources, start=1)]
    if not items:
        return [Paragraph("出典", st.section), Paragraph("（出典の記載がありません）", st.small)]
    half = (len(items) + 1) // 2
    rows = [[items[i], items[i + half] if i + half < len(items) else ""] for i in range(half)]
    table = Table(rows, colWidths=[width / 2, width / 2], hAlign="LEFT")
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), st.font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 8), ("TOPPADDING", (0, 0), (-1, -1), 0.3),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 0.3)]))
    return [Paragraph("出典", st.section), table]


SCALE_SERIES = "grades-"  # the karte's series of one inspection scale each: grades-<scale id>
ROAD_SCALE_SERIES = "grades-I-IV"


def scale_series(karte: Karte) -> list[Series]:
    """The karte's tables per inspection scale when its facilities are not road structures alone (for road
    structures alone the 健全性 chart is that table, and the PDF stays as it was)."""
    found = [s for s in karte.series if s.id.startswith(SCALE_SERIES) and s.values]
    return found if any(s.id != ROAD_SCALE_SERIES for s in found) else []


def scale_due(series: Series) -> tuple[str, int] | None:
    """(「措置の目安（健全度C）以上」, facilities at or beyond the scale's repair trigger) of a per-scale series, the
    figure its note states; None when the scale has no trigger."""
    from gunmane.engine.scale_labels import grade_short
    from gunmane.io.values.scales import scale

    try:
        sc = scale(series.id.removeprefix(SCALE_SERIES))
    except KeyError:  # not a shipped scale: no trigger to count against
        return None
    if sc.trigger is None:
        return None
    counts = next(iter(series.values.values()))[: len(sc.grades)]
    return (f"措置の目安（{grade_short(sc, sc.trigger)}）以上",
            int(sum(v or 0 for v in counts[sc.trigger - 1:])))


def _scale_block(karte: Karte, st: _Styles) -> list[Flowable]:
    """分野ごとの判定区分: one row per inspection scale — the facilities in each grade as its manual names it (the
    figures of the Excel's per-scale sheets), 未点検 and those at or beyond the repair trigger.  Cross-sector
    figures (the 判定の分布 chart) are on the common band, labelled so."""
    found = scale_series(karte)
    if not found:
        return []
    from gunmane.io.values.scales import BAND_LABEL

    width = max(len(s.categories) for s in found) + 1  # grades, 未点検, 措置の目安以上 (that one twice as wide)
    name_w = 31.0
    cell_w = (100.0 - name_w) / (width + 1)
    small = f'<font size="{5.8 * st.scale:.1f}" color="{MUTED_HEX}">'

    def count(label: str, value: float | None) -> Paragraph:
        return Paragraph(f"{small}{escape(label)}</font> {format_number(value)}", st.cell_right)

    rows: list[list[Any]] = []
    for s in found:
        shown = category_labels(s, karte)
        counts = next(iter(s.values.values()))
        due = scale_due(s)
        rows.append([Paragraph(escape(s.label_ja), st.cell),
                     *[count(c, v) for c, v in zip(shown[:-1], counts[:-1], strict=True)],
                     *[""] * (width - len(shown) - 1), count(shown[-1], counts[-1]),
                     count(*due) if due else ""])
    table = Table(rows, colWidths=[f"{name_w}%"] + [f"{cell_w:.2f}%"] * (width - 1) + [f"{2 * cell_w:.2f}%"],
                  hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), st.font), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 0.3), ("BOTTOMPADDING", (0, 0), (-1, -1), 0.6),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE), ("BACKGROUND", (-1, 0), (-1, -1), TINT)]))
    note = (f"各分野の要領の尺度のまま数えた施設数（出典: {escape(found[0].source)}）。分野をまたぐ比較（最新の判定の"
            f"分布、措置が必要な施設の割合）は{BAND_LABEL}で、区分3・4が各尺度の措置の目安以上です。")
    return [Paragraph("分野ごとの判定区分（各分野の尺度）", st.section), table, Spacer(0, 1.5),
            Paragraph(note, st.small)]


def _notes_blocks(karte: Karte, st: _Styles) -> list[list[Flowable]]:
    blocks = [b for b in [_scale_block(karte, st)] if b]
    for heading, lines in (("前提", karte.assumptions), ("データの注記", list(getattr(karte, "notes", [])))):
        if lines:
            blocks.append([Paragraph(heading, st.section)]
                          + [Paragraph(f"・{escape(str(a))}", st.small_indent) for a in lines])
    return blocks


def _definitions_block(karte: Karte, st: _Styles, width: float,
                       groups: Mapping[str, str] | None) -> list[Flowable]:
    """指標の定義: label, unit and definition of every indicator that has one (page 2)."""
    rows: list[list[Any]] = [[Paragraph(h, st.head) for h in ("指標", "単位", "定義")]]
    cell = st.para(6.2, MUTED, leading=1.2)
    rows += [[Paragraph(escape(i.label_ja), cell), Paragraph(escape(i.unit or "—"), cell),
              Paragraph(escape(i.definition_ja), cell)]
             for _, inds in grouped_indicators(karte, groups) for i in inds if i.definition_ja]
    if len(rows) == 1:
        return []
    table = Table(rows, colWidths=[width * 0.24, width * 0.07, width * 0.69], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), st.font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.5, MUTED),
                               ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE), ("LEFTPADDING", (0, 0), (-1, -1), 2),
                               ("TOPPADDING", (0, 0), (-1, -1), 0.4), ("BOTTOMPADDING", (0, 0), (-1, -1), 0.9)]))
    return [Paragraph("指標の定義", st.section), table]


def _height(flowables: Sequence[Flowable], width: float) -> float:
    total = 0.0
    for f in flowables:
        total += f.wrap(width, 10_000)[1] + f.getSpaceBefore() + f.getSpaceAfter()
    return total


# --------------------------------------------------------------------------- layout plan


@dataclass(frozen=True)
class _Plan:
    scale: float  # type scale of page 1
    strip_h: float  # height of the full-width strip under table and charts on page 1 (0: none)
    notes_on_page1: bool
    page2_scale: float  # type scale of the 前提 when they go to page 2
    definitions: bool  # 指標の定義 after the 前提 (page 2, or on to page 3 when they do not fit it)


REST_TOP_SYNTHETIC = PAGE_H - MARGIN - 42
REST_TOP = PAGE_H - MARGIN - 30


def _plan(karte: Karte, font: str, left_w: float, groups: Mapping[str, str] | None) -> _Plan:
    """The largest type scale that keeps everything on page 1, else the table and the 出典."""
    body_h = BODY_TOP - BODY_BOTTOM
    sources = distinct_sources(karte)
    slack = 4.0
    measured = []
    for scale in SCALES:
        st = _Styles(font, scale)
        table_h = _height(_table_block(karte, st, sources, left_w, groups), left_w)
        src_h = _height(_sources_block(sources, st, FULL_W), FULL_W)
        notes_h = sum(_height(b, FULL_W) + 4 for b in _notes_blocks(karte, st))
        if table_h + STRIP_GAP + src_h + notes_h + slack <= body_h:
            return _Plan(scale, src_h + notes_h + slack, True, scale, False)
        measured.append((scale, table_h, src_h))
    page2_h = (REST_TOP_SYNTHETIC if karte.synthetic else REST_TOP) - BODY_BOTTOM - 2 * slack
    big = _Styles(font, 1.0)
    notes_h = sum(_height(b, FULL_W) + 4 for b in _notes_blocks(karte, big))
    defs_h = _height(_definitions_block(karte, big, FULL_W, groups), FULL_W) + 4
    for scale, table_h, src_h in measured:
        if table_h + STRIP_GAP + src_h + slack <= body_h:
            if notes_h + defs_h > page2_h and _page2_scale(karte, font, groups, page2_h) is not None:
                # the 定義 fit on page 2 in smaller type (a scope of several sectors has its scales' table there)
                return _Plan(scale, src_h + slack, False, _page2_scale(karte, font, groups, page2_h) or scale, True)
            # the 定義 even when they do not fit page 2 in any type: they go on to a third page, never left out
            return _Plan(scale, src_h + slack, False, 1.0 if notes_h <= page2_h else scale, True)
    return _Plan(SCALES[-1], 0.0, False, SCALES[-1], False)  # the table alone overflows page 1


def _page2_scale(karte: Karte, font: str, groups: Mapping[str, str] | None, page2_h: float) -> float | None:
    """The largest smaller type scale at which the 前提, notes and 指標の定義 share page 2 (None: at none)."""
    for scale in SCALES[1:]:
        st = _Styles(font, scale)
        notes_h = sum(_height(b, FULL_W) + 4 for b in _notes_blocks(karte, st))
        if notes_h + _height(_definitions_block(karte, st, FULL_W, groups), FULL_W) + 4 <= page2_h:
            return scale
    return None


# --------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class _ChartCell:
    series: Series
    png: bytes
    source: Paragraph
    source_h: float
    x: float
    y: float  # bottom of the cell
    w: float
    h: float


_CHART_TITLE_H = 13.0
_CHART_GAP = 10.0


def _source_line(series: Series, font: str) -> Paragraph:
    text = f"出典: {escape(series.source) if series.source else '（記載なし）'}"
    if series.note:
        text += f"　注: {escape(series.note)}"
    if has_unknown(series):
        text += ("　不明の値は線を途切れさせています（0 ではありません）。" if chart_kind(series) == "line"
                 else "　不明の値は「不明」と表示しています（0 ではありません）。")
    return Paragraph(text, paragraph_style("src", font, 5.6, MUTED, leading=6.8 / 5.6))


def _chart_cells(karte: Karte, font: str, x0: float, y0: float, w: float, h: float) -> list[_ChartCell]:
    """Up to four charts in a grid (one column when there are only one or two), rendered to PNG."""
    chosen = select_chart_series(karte)
    cols = 1 if len(chosen) <= 2 else 2
    rows = max(2, (len(chosen) + cols - 1) // cols)
    cw = (w - _CHART_GAP * (cols - 1)) / cols
    # in one column, a horizontal bar chart with many categories gets more height
    weights = [1.0] * rows
    if cols == 1:
        weights[: len(chosen)] = [min(2.0, max(1.0, len(s.categories) / 8)) if chart_kind(s) == "hbar" else 1.0
                                  for s in chosen]
    heights = [(h - _CHART_GAP * (rows - 1)) * wt / sum(weights) for wt in weights]
    cells = []
    for k, s in enumerate(chosen):
        r, c = divmod(k, cols)
        ch = heights[r]
        source = _source_line(s, font)
        source_h = source.wrap(cw, ch)[1] + 2
        img_h = ch - _CHART_TITLE_H - source_h
        png = render_chart_png(s, cw, img_h, dpi=CHART_DPI, categories=category_labels(s, karte))
        top = y0 + h - sum(heights[:r]) - r * _CHART_GAP
        cells.append(_ChartCell(s, png, source, source_h, x0 + c * (cw + _CHART_GAP), top - ch, cw, ch))
    return cells


def _draw_chart(c: Canvas, cell: _ChartCell, font: str) -> None:
    title = Paragraph(escape(cell.series.label_ja), paragraph_style("ct", font, 8.2, PRIMARY, leading=10 / 8.2))
    _, th = title.wrap(cell.w, _CHART_TITLE_H)
    title.drawOn(c, cell.x, cell.y + cell.h - th)
    img_h = cell.h - _CHART_TITLE_H - cell.source_h
    c.drawImage(ImageReader(io.BytesIO(cell.png)), cell.x, cell.y + cell.source_h, cell.w, img_h)
    cell.source.wrapOn(c, cell.w, cell.source_h)
    cell.source.drawOn(c, cell.x, cell.y)


# --------------------------------------------------------------------------- page decoration


def _draw_header(c: Canvas, karte: Karte, font: str, *, first: bool) -> None:
    top = PAGE_H - MARGIN
    c.setFillColor(PRIMARY)
    c.rect(MARGIN, top - 17, 4, 17, stroke=0, fill=1)
    c.setFillColor(TEXT)
    c.setFont(font, TITLE_PT if first else 11)
    c.drawString(MARGIN + 10, top - 14 if first else top - 12, karte_title(karte) + ("" if first else "（続き）"))
    c.setFont(font, 7.5)
    c.setFillColor(MUTED)
    c.drawRightString(PAGE_W - MARGIN, top - 12, "gunmane 群マネ 現状把握")
    y = top - 28 if first else top - 26
    if first:
        c.setFont(font, 8)
        c.drawString(MARGIN + 10, y, _subtitle(karte))
        y -= 11
    if karte.synthetic:
        c.setFillColor(ALERT)
        c.setFont(font, 8)
        c.drawString(MARGIN + 10, y, SYNTHETIC_NOTICE + "実在の施設・点検結果ではありません。")
        y -= 11
    c.setStrokeColor(RULE)
    c.setLineWidth(0.8)
    c.line(MARGIN, y + 5, PAGE_W - MARGIN, y + 5)


def _draw_watermark(c: Canvas, font: str) -> None:
    c.saveState()
    c.setFillColor(ALERT)
    c.setFillAlpha(0.13)
    c.setFont(font, 46)
    c.translate(PAGE_W / 2, PAGE_H / 2)
    c.rotate(28)
    c.drawCentredString(0, -16, SYNTHETIC_WATERMARK)
    c.restoreState()


def _footer(font: str, stamp: str, title: str) -> Callable[[Canvas, int, int], None]:
    def draw(c: Canvas, page: int, total: int) -> None:
        draw_footer(c, font, MARGIN - 13, page_w=PAGE_W, margin_x=MARGIN, left=f"gunmane 群マネ — {title}",
                    centre=f"作成日時 {stamp}", right=page_label(page, total), rule=True)
    return draw


# --------------------------------------------------------------------------- entry point


def karte_pdf(karte: Karte, out: IO[bytes], *, generated_at: datetime | None = None,
              groups: Mapping[str, str] | None = None) -> None:
    """Write the karte as an A4 landscape PDF (one page, two at most) to ``out``.

    ``generated_at`` is printed in the footer (default: now, local time).  ``groups`` optionally maps
    indicator ids to stock/ageing/condition/backlog/capacity/reference (default: the groups declared
    by gunmane.engine.indicators when importable, else guessed from the id and label).
    """
    font = pdf_font()
    stamp = _timestamp(generated_at or datetime.now().astimezone())
    title = karte_title(karte)
    has_charts = bool(select_chart_series(karte))
    left_w = LEFT_W if has_charts else FULL_W
    plan = _plan(karte, font, left_w, groups)
    st = _Styles(font, plan.scale)
    sources = distinct_sources(karte)

    strip_top = BODY_BOTTOM + plan.strip_h
    upper_bottom = strip_top + STRIP_GAP if plan.strip_h else BODY_BOTTOM
    x0 = MARGIN + LEFT_W + GUTTER
    charts = _chart_cells(karte, font, x0, upper_bottom, PAGE_W - MARGIN - x0, BODY_TOP - upper_bottom)

    frames = [Frame(MARGIN, upper_bottom, left_w, BODY_TOP - upper_bottom, 0, 0, 0, 0, id="table")]
    if plan.strip_h:
        frames.append(Frame(MARGIN, BODY_BOTTOM, FULL_W, plan.strip_h, 0, 0, 0, 0, id="strip"))
    rest_top = REST_TOP_SYNTHETIC if karte.synthetic else REST_TOP
    if plan.strip_h:
        rest = [Frame(MARGIN, BODY_BOTTOM, FULL_W, rest_top - BODY_BOTTOM, 0, 0, 0, 0, id="rest")]
    else:  # the table continues on page 2: two columns, so that the rest still fits on it
        col_w = (FULL_W - GUTTER) / 2
        rest = [Frame(MARGIN + k * (col_w + GUTTER), BODY_BOTTOM, col_w, rest_top - BODY_BOTTOM, 0, 0, 0, 0,
                      id=f"rest{k}") for k in (0, 1)]

    story: list[Flowable] = _table_block(karte, st, sources, left_w, groups)
    if plan.strip_h:
        story.append(FrameBreak())
    story += _sources_block(sources, st, FULL_W if plan.strip_h else left_w)
    notes_st = st if plan.notes_on_page1 else _Styles(font, plan.page2_scale)
    for k, block in enumerate(_notes_blocks(karte, notes_st)):
        if k == 0 and plan.strip_h and not plan.notes_on_page1:
            story.append(PageBreak())  # the strip holds just the 出典
        story.append(Spacer(0, 4))
        if plan.strip_h:
            story.append(KeepTogether(block))
        else:  # two columns on page 2: let the block break between them
            story += block
    if plan.definitions:
        story += [Spacer(0, 4), *_definitions_block(karte, notes_st, FULL_W, groups)]

    def first_page(c: Canvas, _doc: Any) -> None:
        _draw_header(c, karte, font, first=True)
        for cell in charts:
            _draw_chart(c, cell, font)
        if plan.strip_h:
            c.setStrokeColor(RULE)
            c.setLineWidth(0.5)
            c.line(MARGIN, strip_top + STRIP_GAP / 2, PAGE_W - MARGIN, strip_top + STRIP_GAP / 2)

    def later_page(c: Canvas, _doc: Any) -> None:
        _draw_header(c, karte, font, first=False)

    def overlay(c: Canvas, _doc: Any) -> None:
        if karte.synthetic:
            _draw_watermark(c, font)

    doc = BaseDocTemplate(out, pagesize=(PAGE_W, PAGE_H), title=title, author="gunmane", creator="gunmane",
                          subject=f"{karte.scope.name} インフラ現状カルテ", lang="ja-JP",
                          initialFontName=font, initialFontSize=7)  # no stray Helvetica resource
    doc.addPageTemplates([
        PageTemplate("first", frames, onPage=first_page, onPageEnd=overlay, autoNextPageTemplate="rest"),
        PageTemplate("rest", rest, onPage=later_page, onPageEnd=overlay),
    ])
    doc.build(story, canvasmaker=functools.partial(NumberedCanvas, decorate=_footer(font, stamp, title)))
