"""The カルテ (karte, municipal infrastructure profile) as an Excel workbook.

Sheets:

* 「カルテ」 — title, scope and the indicator table (指標ID, 指標, 値, 単位, 件数(n), 類似団体内の位置(%),
  全国での位置(%), 定義, 出典, 分類, 備考), indicators in group order.
* one data sheet per series — categories in column A, one column per named series, and a native
  Excel chart (openpyxl BarChart/LineChart referencing those cells, not an image).  Indicator ids
  as categories (peer_percentiles) are shown as their labels, with the id in a last column; lists of
  very different magnitude (fy_trend: 円 and 人) get one line chart each; a series without data
  gets its sheet with 「（データがありません）」 and no chart.
* 「前提・出典」 — assumptions, data notes, every distinct source with what uses it, and how to read
  the numbers.

Values are written as numbers exactly as the Karte holds them (the same numbers as the JSON output):
a share with unit ``%`` is stored as ``10.9`` (number format ``#,##0.0``, unit column ``%``); a share
with a ratio unit (割合/ratio/share) is stored as the fraction ``0.109`` with Excel's ``0.0%`` format.
Percentile positions are 0–100.  Unknown values (None) are blank cells carrying a 「不明」 note
(Excel comment) and a 備考 text — never 0.  A synthetic karte gets a red notice in A1 of every sheet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.marker import DataPoint
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gunmane.engine.indicator_types import IndicatorValue, Karte, ScopeKind, Series
from gunmane.io.reports.charts import (
    GROUP_LABELS,
    PALETTE,
    SCOPE_KIND_LABELS,
    SYNTHETIC_NOTICE,
    UNKNOWN,
    category_colours,
    category_labels,
    chart_kind,
    distinct_sources,
    grouped_indicators,
    is_ratio_unit,
    mixed_scales,
    source_parts,
    y_axis_label,
)
from gunmane.io.safe_cells import neutralise_workbook, sheet_title

__all__ = ["INDICATOR_HEADERS", "SOURCES_SHEET", "SUMMARY_SHEET", "karte_xlsx"]

SUMMARY_SHEET = "カルテ"
SOURCES_SHEET = "前提・出典"
INDICATOR_HEADERS = ("指標ID", "指標", "値", "単位", "件数(n)", "類似団体内の位置(%)", "全国での位置(%)",
                     "定義", "出典", "分類", "備考")
UNKNOWN_REMARK = "値は不明（空欄。0 ではありません）"

HEADER_FILL = PatternFill("solid", fgColor="E8F1FE")
UNKNOWN_FILL = PatternFill("solid", fgColor="F2F2F2")
HEADER_FONT = Font(bold=True, color="0017C1")
TITLE_FONT = Font(bold=True, size=14)
NOTICE_FONT = Font(bold=True, color="D20000")
MUTED_FONT = Font(color="666666", size=9)
THIN = Side(style="thin", color="999999")
WRAP = Alignment(wrap_text=True, vertical="top")


def _unknown(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _number_format(values: Iterable[float | None], unit: str) -> str:
    """One number format for a column of values, with as many decimals as the PDF prints."""
    known = [float(v) for v in values if v is not None and not math.isnan(v)]
    if is_ratio_unit(unit) and all(abs(v) <= 1 for v in known):
        return "0.0%"
    if unit == "%":
        return "#,##0.0"
    peak = max((abs(v) for v in known), default=0.0)
    if all(v.is_integer() for v in known) or peak >= 1000:
        return "#,##0"
    return "#,##0.0" if peak >= 1 else "#,##0.00"


def _write_number(ws: Worksheet, row: int, col: int, value: float | None, fmt: str, *,
                  note: bool = True) -> None:
    cell = ws.cell(row=row, column=col)
    if _unknown(value):
        cell.value = None
        if note:
            cell.comment = Comment(f"{UNKNOWN}（値が得られていません。0 ではありません）", "gunmane")
            cell.fill = UNKNOWN_FILL
        return
    assert value is not None
    cell.value = int(value) if float(value).is_integer() and fmt == "#,##0" else float(value)
    cell.number_format = fmt


def _start_sheet(ws: Worksheet, karte: Karte, title: str) -> int:
    """Notice (synthetic only) and title; returns the next free row."""
    row = 1
    if karte.synthetic:
        ws.cell(row=1, column=1, value=SYNTHETIC_NOTICE).font = NOTICE_FONT
        row = 2
    ws.cell(row=row, column=1, value=title).font = TITLE_FONT
    return row + 1


def _header_row(ws: Worksheet, row: int, headers: Sequence[str]) -> None:
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = Border(bottom=THIN)
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _widths(ws: Worksheet, widths: Mapping[str, float]) -> None:
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width


# --------------------------------------------------------------------------- カルテ sheet


def _summary_sheet(ws: Worksheet, karte: Karte, groups: Mapping[str, str] | None) -> None:
    ws.title = SUMMARY_SHEET
    row = _start_sheet(ws, karte, f"{karte.scope.name} インフラ現状カルテ（{karte.fiscal_year}年度）")
    code_label = "団体コード" if karte.scope.kind is ScopeKind.MUNICIPALITY else "コード"
    info: list[list[tuple[str, Any]]] = [
        [("区分", SCOPE_KIND_LABELS.get(karte.scope.kind.value, karte.scope.kind.value)),
         (code_label, karte.scope.code)],
        [("年度", karte.fiscal_year), ("基準日", karte.as_of)],
        [("施設台帳", "あり" if karte.has_ledger else "なし（公表統計のみ）")]
        + ([("対象団体数", len(karte.scope.members))]
           if karte.scope.members and karte.scope.kind is not ScopeKind.MUNICIPALITY else []),
        [("類似団体", "—" if karte.peer_group is None
          else f"{karte.peer_group.label_ja}（{len(karte.peer_group.members):,}団体）")],
    ]
    for pairs in info:
        for k, (label, value) in enumerate(pairs):
            ws.cell(row=row, column=1 + 2 * k, value=label).font = MUTED_FONT
            cell = ws.cell(row=row, column=2 + 2 * k, value=value)
            cell.alignment = Alignment(horizontal="left")
            if label == "基準日":
                cell.number_format = "yyyy/mm/dd"
        row += 1
    row += 1
    header = row
    _header_row(ws, header, INDICATOR_HEADERS)
    for group, indicators in grouped_indicators(karte, groups):
        for ind in indicators:
            row += 1
            _indicator_row(ws, row, ind, GROUP_LABELS.get(group, group))
    ws.freeze_panes = f"C{header + 1}"
    ws.auto_filter.ref = f"A{header}:{get_column_letter(len(INDICATOR_HEADERS))}{max(row, header + 1)}"
    ws.row_dimensions[header].height = 30
    _widths(ws, {"A": 26, "B": 34, "C": 16, "D": 9, "E": 10, "F": 12, "G": 12, "H": 48, "I": 44, "J": 18,
                 "K": 22})


def _indicator_row(ws: Worksheet, row: int, ind: IndicatorValue, group_label: str) -> None:
    ws.cell(row=row, column=1, value=ind.id)
    ws.cell(row=row, column=2, value=ind.label_ja)
    _write_number(ws, row, 3, ind.value, _number_format([ind.value], ind.unit))
    ws.cell(row=row, column=4, value=ind.unit)
    _write_number(ws, row, 5, None if ind.n is None else float(ind.n), "#,##0", note=False)
    _write_number(ws, row, 6, ind.peer_percentile, "0", note=False)
    _write_number(ws, row, 7, ind.national_percentile, "0", note=False)
    ws.cell(row=row, column=8, value=ind.definition_ja or None).alignment = WRAP
    ws.cell(row=row, column=9, value=ind.source or None).alignment = WRAP
    ws.cell(row=row, column=10, value=group_label)
    if _unknown(ind.value):
        ws.cell(row=row, column=11, value=UNKNOWN_REMARK).font = Font(color="D20000")


# --------------------------------------------------------------------------- series sheets


def _series_sheet(ws: Worksheet, karte: Karte, series: Series) -> None:
    row = _start_sheet(ws, karte, series.label_ja)
    meta = [("系列ID", series.id), ("単位", series.unit or "—"), ("出典", series.source or "（記載なし）")]
    if series.note:
        meta.append(("注", series.note))
    for label, value in meta:
        ws.cell(row=row, column=1, value=label).font = MUTED_FONT
        ws.cell(row=row, column=2, value=value)
        row += 1
    row += 1
    header = row
    names = list(series.values)
    shown = category_labels(series, karte)
    relabelled = any(a != str(c) for a, c in zip(shown, series.categories, strict=True))
    _header_row(ws, header, [series.x_label or "区分", *names] + (["指標ID"] if relabelled else []))
    for i, cat in enumerate(series.categories):
        ws.cell(row=header + 1 + i, column=1, value=shown[i] if relabelled else cat)
        if relabelled:
            ws.cell(row=header + 1 + i, column=2 + len(names), value=cat)
        for j, name in enumerate(names):
            vals = series.values[name]
            v = vals[i] if i < len(vals) else None
            _write_number(ws, header + 1 + i, 2 + j, v, _number_format(vals, series.unit))
    last = header + len(series.categories)
    ws.freeze_panes = f"B{header + 1}"
    ws.column_dimensions["A"].width = max(14, min(40, 2.2 * max((len(c) for c in shown), default=6)))
    for j, name in enumerate(names):
        ws.column_dimensions[get_column_letter(2 + j)].width = max(12, min(30, 2.2 * len(name)))
    if not series.categories or not names:
        ws.cell(row=header + 1, column=1, value="（データがありません）").font = MUTED_FONT
    else:
        _add_charts(ws, series, header, last, anchor_col=len(names) + (4 if relabelled else 3))


def _add_charts(ws: Worksheet, series: Series, header: int, last: int, anchor_col: int) -> None:
    cats = Reference(ws, min_col=1, min_row=header + 1, max_row=last)
    kind = chart_kind(series)
    n = len(series.values)
    if kind == "line" and mixed_scales(series):
        # one chart per named series: their scales differ too much for a shared axis
        for j, name in enumerate(series.values):
            single = _line_chart(f"{series.label_ja}: {name}", "", series.x_label)
            single.add_data(Reference(ws, min_col=2 + j, min_row=header, max_row=last), titles_from_data=True)
            single.set_categories(cats)
            single.legend = None
            ws.add_chart(single, f"{get_column_letter(anchor_col)}{header + j * 16}")
        return
    data = Reference(ws, min_col=2, max_col=1 + n, min_row=header, max_row=last)
    chart = (_line_chart(series.label_ja, y_axis_label(series), series.x_label) if kind == "line"
             else _bar_chart(series, horizontal=kind == "hbar", stacked=kind == "bar" and n > 1))
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    if n == 1:
        chart.legend = None
        if isinstance(chart, BarChart):
            _colour_points(chart, [str(c) for c in series.categories])
    chart.width, chart.height = 18, 9
    ws.add_chart(chart, f"{get_column_letter(anchor_col)}{header}")


def _colour_points(chart: BarChart, categories: Sequence[str]) -> None:
    """Grades Ⅰ–Ⅳ in their usual colours and 不明/未点検 in grey, as in the PDF charts."""
    colours = category_colours(categories, PALETTE[0])
    if all(c == PALETTE[0] for c in colours):
        return
    for idx, colour in enumerate(colours):
        point = DataPoint(idx=idx)
        point.graphicalProperties.solidFill = colour.lstrip("#").upper()
        point.graphicalProperties.line.noFill = True
        chart.series[0].dPt.append(point)


def _bar_chart(series: Series, *, horizontal: bool, stacked: bool) -> BarChart:
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    if stacked:
        chart.grouping = "stacked"
        chart.overlap = 100
    chart.title = series.label_ja
    chart.y_axis.title = y_axis_label(series)
    chart.x_axis.title = series.x_label or None
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if horizontal:
        chart.x_axis.scaling.orientation = "maxMin"  # first category on top, as in the sheet
    return chart


def _line_chart(title: str, y_title: str, x_title: str) -> LineChart:
    chart = LineChart()
    chart.title = title
    chart.y_axis.title = y_title or None
    chart.x_axis.title = x_title or None
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.width, chart.height = 18, 8
    return chart


# --------------------------------------------------------------------------- 前提・出典 sheet


def _sources_sheet(ws: Worksheet, karte: Karte, sheet_of: Mapping[str, str]) -> None:
    row = _start_sheet(ws, karte, "前提・出典") + 1
    ws.cell(row=row, column=1, value="前提・注記").font = HEADER_FONT
    row += 1
    for k, text in enumerate(karte.assumptions or ["（記載なし）"], start=1):
        ws.cell(row=row, column=1, value=k if karte.assumptions else None)
        ws.cell(row=row, column=2, value=text).alignment = WRAP
        row += 1
    notes = [str(n) for n in getattr(karte, "notes", [])]
    if notes:
        row += 1
        ws.cell(row=row, column=1, value="データの注記").font = HEADER_FONT
        row += 1
        for k, text in enumerate(notes, start=1):
            ws.cell(row=row, column=1, value=k)
            ws.cell(row=row, column=2, value=text).alignment = WRAP
            row += 1
    row += 1
    ws.cell(row=row, column=1, value="出典").font = HEADER_FONT
    row += 1
    _header_row(ws, row, ["番号", "出典", "使われている指標・系列"])
    for k, source in enumerate(distinct_sources(karte), start=1):
        row += 1
        users = [i.label_ja for i in karte.indicators if source in source_parts(i.source)]
        users += [f"系列「{sheet_of.get(s.id, s.label_ja)}」" for s in karte.series if source in source_parts(s.source)]
        ws.cell(row=row, column=1, value=k)
        ws.cell(row=row, column=2, value=source).alignment = WRAP
        ws.cell(row=row, column=3, value="、".join(users)).alignment = WRAP
    row += 2
    ws.cell(row=row, column=1, value="数値の読み方").font = HEADER_FONT
    for text in (
        "「値」は単位の列と合わせて読みます。単位が % の値は百分率の数値です（10.9 は 10.9%）。",
        "出典の「／」は、二つの出典の値から計算した指標であることを表します（それぞれを上の一覧に載せています）。",
        "空欄は不明（値が得られていない）を表し、0 ではありません。",
        "類似団体内の位置・全国での位置は、値の小さい団体から並べたときの百分位（0＝最小、100＝最大）です。",
        "系列のシートのグラフは、そのシートのセルを参照する Excel のグラフです。",
    ):
        row += 1
        ws.cell(row=row, column=2, value=text).alignment = WRAP
    _widths(ws, {"A": 8, "B": 90, "C": 60})


# --------------------------------------------------------------------------- entry point


def karte_xlsx(karte: Karte, out: IO[bytes], *, groups: Mapping[str, str] | None = None) -> None:
    """Write the karte as an .xlsx workbook to ``out`` (see the module docstring for the layout)."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    _summary_sheet(summary, karte, groups)
    taken = {SUMMARY_SHEET, SOURCES_SHEET}
    sheet_of: dict[str, str] = {}
    for series in karte.series:
        name = sheet_title(series.label_ja, taken, "系列")
        sheet_of[series.id] = name
        _series_sheet(wb.create_sheet(name), karte, series)
    _sources_sheet(wb.create_sheet(SOURCES_SHEET), karte, sheet_of)
    neutralise_workbook(wb)  # user-typed names (facilities, groups) never run as formulas
    wb.save(out)
