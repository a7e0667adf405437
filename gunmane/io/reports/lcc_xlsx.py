"""Strategy comparison (LCC) and repair plan as Excel workbooks with native charts.

LCC sheets: 「比較」 (NPV, totals, peak, facility-years per grade for each strategy), 「年別費用」 (expected
yearly cost per strategy with the 5–95 % band, and a line chart), 「累計」 (cumulative cost, the classic
comparison chart), 「健全性の推移」 (expected facilities per grade under each strategy), 「前提・出典」.
Plan sheets: 「対策計画」 (個別施設計画-style: facility, grade, measure, fiscal year, cost), 「予算」 (the
budget curve of the plan, the unconstrained optimum and worst-first, with a bar chart), 「比較」,
「前提・出典」.  A synthetic notice heads every sheet when the facilities are synthetic.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gunmane.engine.lcc import LccResult
from gunmane.engine.lcc.assets import COUNT_LABELS_JA
from gunmane.engine.planning import PlanResult
from gunmane.engine.scales import Scale
from gunmane.io.safe_cells import neutralise_workbook, sheet_title

__all__ = ["SYNTHETIC_NOTICE_LCC", "UNIT_JA", "LccRun", "grade_name", "lcc_xlsx", "mixed_plan_xlsx", "plan_xlsx", "remark_name",
           "sector_lcc_xlsx"]

SYNTHETIC_NOTICE_LCC = "【合成データ】この試算には架空の施設（デモ用の合成データ）が含まれます。"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F5")
YEN = "#,##0"
GRADE_LABELS_JA = {"I": "Ⅰ", "II": "Ⅱ", "III": "Ⅲ", "IV": "Ⅳ", "III+IV": "Ⅲ・Ⅳ"}


def type_name(code: str) -> str:
    """The facility type's Japanese name (橋梁) for a vocabulary code (bridge)."""
    from gunmane.io.shipped import vocab

    return next((t.name for t in vocab.facility_types() if t.code == code), code)


METHOD_JA = {"plan": "最適化した計画", "unconstrained": "予算制約なしの最適", "worst_first": "悪い順（従来のルール）"}


def _sheet(wb: Workbook, title: str, synthetic: bool, first: bool = False) -> tuple[Worksheet, int]:
    ws = wb.active if first else wb.create_sheet(title)
    assert ws is not None
    ws.title = title
    row = 1
    if synthetic:
        ws.cell(row=1, column=1, value=SYNTHETIC_NOTICE_LCC).font = Font(bold=True, color="C00000")
        row = 2
    return ws, row


def _put(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    if fmt:
        cell.number_format = fmt


def _header(ws: Worksheet, row: int, headers: list[str]) -> None:
    for j, h in enumerate(headers, start=1):
        c = ws.cell(row=row, column=j, value=h)
        c.font = Font(bold=True)
        c.fill = HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(h) * 2 + 2))


def _assumptions(ws: Worksheet, row: int, assumptions: list[str], parameters: list[dict[str, Any]],
                 actions: list[dict[str, Any]]) -> None:
    ws.cell(row=row, column=1, value="前提").font = Font(bold=True)
    for i, text in enumerate(assumptions, start=row + 1):
        ws.cell(row=i, column=1, value=text)
    row += len(assumptions) + 2
    _header(ws, row, ["パラメータ", "値", "単位", "出典", "仮定値か"])
    for i, p in enumerate(parameters, start=row + 1):
        for j, v in enumerate([p["label"], p["value"], p["unit"], p["source"], "仮定値" if p["assumption"] else ""], 1):
            ws.cell(row=i, column=j, value=v)
    row += len(parameters) + 2
    _header(ws, row, ["施設種別", "判定された健全性", "対策", "円/㎡", "固定費(円/件)", "対策後の健全性", "出典"])
    grades = ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"]
    for i, a in enumerate(actions, start=row + 1):
        for j, v in enumerate([type_name(a["facility_type"]), grades[a["grade"] - 1], a["action"], a["per_m2_yen"], a["fixed_yen"],
                               grades[a["restores_to"] - 1], a["source"]], 1):
            ws.cell(row=i, column=j, value=v)
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["D"].width = 60


def lcc_xlsx(result: LccResult, *, title: str, synthetic: bool) -> bytes:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
    wb = Workbook()
    ws, r = _sheet(wb, "比較", synthetic, first=True)
    ws.cell(row=r, column=1, value=f"{title} — 維持管理戦略の比較（{result.start_year}年度から"
                                   f"{int(result.params.horizon_years.value)}年間）").font = Font(bold=True, size=13)
    labels = list(result.model.states.labels)
    headers = ["戦略", "説明", "現在価値(円)", "総額(円)", "年平均(円)", "最大の年(円)",
               *[f"{GRADE_LABELS_JA.get(g, g)}の施設・年（期待値）" for g in labels]]
    _header(ws, r + 2, headers)
    for i, s in enumerate(result.strategies, start=r + 3):
        vals = [s.strategy.name_ja, s.strategy.description_ja, s.npv_yen, s.total_yen, s.mean_annual_yen,
                s.peak_annual_yen, *[s.facility_years[g] for g in labels]]
        for j, v in enumerate(vals, 1):
            _put(ws, i, j, v, YEN if j >= 3 else None)
    best = result.best
    ws.cell(row=r + 4 + len(result.strategies), column=1,
            value=f"現在価値が最も小さい戦略：{best.strategy.name_ja}（対象 {result.assets.n:,} 施設、割引率 "
                  f"{result.params.discount_rate.value:.1%}）")
    ws.column_dimensions["B"].width = 50

    # yearly and cumulative costs
    for sheet, cumulative in (("年別費用", False), ("累計", True)):
        ws, r = _sheet(wb, sheet, synthetic)
        heads = ["年度"]
        for s in result.strategies:
            heads.append(s.strategy.name_ja)
        if not cumulative:
            for s in result.strategies:
                if "p05" in s.annual:
                    heads += [f"{s.strategy.name_ja}（5%）", f"{s.strategy.name_ja}（95%）"]
        _header(ws, r, heads)
        years = result.strategies[0].annual.index
        for i, t in enumerate(years, start=r + 1):
            ws.cell(row=i, column=1, value=result.start_year + int(t))
            col = 2
            for s in result.strategies:
                v = float(s.annual["total"].cumsum().loc[t]) if cumulative else float(s.annual.loc[t, "total"])
                ws.cell(row=i, column=col, value=v).number_format = YEN
                col += 1
            if not cumulative:
                for s in result.strategies:
                    if "p05" in s.annual:
                        ws.cell(row=i, column=col, value=float(s.annual.loc[t, "p05"])).number_format = YEN
                        ws.cell(row=i, column=col + 1, value=float(s.annual.loc[t, "p95"])).number_format = YEN
                        col += 2
        chart = LineChart()
        chart.title = "累計費用（円）" if cumulative else "年別の期待費用（円）"
        chart.y_axis.title = "円"
        chart.x_axis.title = "年度"
        n = len(years)
        data = Reference(ws, min_col=2, max_col=1 + len(result.strategies), min_row=r, max_row=r + n)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=r + 1, max_row=r + n))
        chart.height, chart.width = 9, 22
        ws.add_chart(chart, f"{get_column_letter(len(heads) + 2)}{r}")

    ws, r = _sheet(wb, "健全性の推移", synthetic)
    heads = ["年度"] + [f"{s.strategy.name_ja}：{GRADE_LABELS_JA.get(g, g)}（施設数の期待値）" for s in result.strategies for g in labels]
    _header(ws, r, heads)
    for i, t in enumerate(result.strategies[0].occupancy.index, start=r + 1):
        ws.cell(row=i, column=1, value=result.start_year + int(t))
        col = 2
        for s in result.strategies:
            for g in labels:
                ws.cell(row=i, column=col, value=float(s.occupancy.loc[t, g])).number_format = "#,##0.0"
                col += 1

    ws, r = _sheet(wb, "前提・出典", synthetic)
    js = result.as_json(annual=False)
    notes = [*js["assumptions"],
             *[f"除外：{COUNT_LABELS_JA.get(k, k)} {v} 件" for k, v in result.assets.excluded.items() if v],
             *[f"補完：{COUNT_LABELS_JA.get(k, k)} {v} 件" for k, v in result.assets.notes.items() if v],
             f"幅（5%・95%）は {result.monte_carlo_runs} 回のモンテカルロ（乱数の種 {result.params.seed}）。"]
    _assumptions(ws, r, notes, js["parameters"]["parameters"], js["parameters"]["actions"])
    buf = io.BytesIO()
    neutralise_workbook(wb)  # user-typed names (facilities, groups) never run as formulas
    wb.save(buf)
    return buf.getvalue()


_ROAD_RULES = ("Ⅳ・Ⅲ の期限", "健全性Ⅳ（緊急措置段階）", "健全性Ⅲ（早期措置段階）", "Ⅲ")
_SECTOR_RULES = ("区分ごとの期限", "対策の目安より悪い区分（道路Ⅳ・下水道 緊急度Ⅰ・公園 D など）",
                 "対策の目安の区分（道路Ⅲ・舗装Ⅲ・下水道 緊急度Ⅱ・公園 C など）", "目安の区分")


def _rules_sheet(wb: Workbook, result: PlanResult, synthetic: bool, words: tuple[str, ...] = _ROAD_RULES) -> None:
    """Ⅳ in the first year (and the first year's shortfall) and the Ⅲ goal per fiscal year, as on the page (for a
    plan of sectors: the grades beyond each scale's trigger, and its trigger grade)."""
    sheet, worst, due, short = words
    ws, r = _sheet(wb, sheet, synthetic)
    iv = result.iv_first_year
    ws.cell(row=r, column=1, value=f"{worst}：{len(iv.facilities)} 施設を {iv.fiscal_year} 年度に対策").font = \
        Font(bold=True)
    _put(ws, r + 1, 1, "対策費（期待値, 円）")
    _put(ws, r + 1, 2, iv.cost_yen, YEN)
    _put(ws, r + 2, 1, "初年度の予算（円）")
    _put(ws, r + 2, 2, iv.budget_yen if iv.budget_yen is not None else "平準化（上限なし）", YEN)
    _put(ws, r + 3, 1, "初年度の不足額（円）")
    _put(ws, r + 3, 2, iv.shortfall_yen, YEN)
    _header(ws, r + 4, ["施設", "団体", "対策費（期待値, 円）"])
    row = r + 5
    for f in iv.facilities:
        for j, v in enumerate([f["name"], f["municipality"] or f["lg_code"], f["cost_yen"]], 1):
            _put(ws, row, j, v, YEN if j == 3 else None)
        row += 1
    goal = result.iii_goal
    row += 1
    ws.cell(row=row, column=1, value=f"{due}：{goal.facilities} 施設、目標は {goal.deadline_fiscal_year} 年度まで"
                                     f"（間に合う {goal.treated_within_goal}、間に合わない {len(goal.late)}）").font = Font(bold=True)
    _header(ws, row + 1, ["年度", f"まだ対策していない{short}の施設", "うち目標の年度を過ぎた施設", "その年度に対策する費用（円）",
                          "その年度の予算の不足額（円）"])
    for i, rec in enumerate(goal.per_year, start=row + 2):
        for j, v in enumerate([rec["fiscal_year"], rec["remaining"], rec["overdue"], rec["cost_yen"], rec["shortfall_yen"]], 1):
            _put(ws, i, j, v, YEN if j in (4, 5) else None)
    ws.column_dimensions["A"].width = 34


def plan_xlsx(result: PlanResult, *, title: str, synthetic: bool) -> bytes:
    wb = Workbook()
    ws, r = _sheet(wb, "対策計画", synthetic, first=True)
    mode = "予算上限" if result.mode == "budget" else "平準化"
    ws.cell(row=r, column=1, value=f"{title} — 対策計画（{result.start_year}〜{result.start_year + result.years - 1}年度、"
                                   f"{mode}、{result.strategy.name_ja}）").font = Font(bold=True, size=13)
    heads = ["施設", "団体", "種別", "健全性", "対策", "実施年度", "対策費(円)", "今年度に行う場合(円)", "優先度の重み",
             "面積(㎡)", "備考"]
    _header(ws, r + 2, heads)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["E"].width = 40
    records: list[dict[str, Any]] = [{str(k): v for k, v in rec.items()}
                                     for rec in result.table.to_dict(orient="records")]
    for i, rec in enumerate(records, start=r + 3):
        fy, cost = float(rec["fiscal_year"]), float(rec["cost_yen"])
        vals = [rec["name"], rec.get("municipality") or rec["lg_code"], type_name(str(rec["facility_type"])),
                GRADE_LABELS_JA.get(str(rec["grade"]), rec["grade"]), rec["measure"],
                None if np.isnan(fy) else int(fy), None if np.isnan(cost) else cost, float(rec["cost_now_yen"]),
                float(rec["priority_weight"]), float(rec["area_m2"]), rec.get("note") or ""]
        for j, v in enumerate(vals, 1):
            _put(ws, i, j, v if v is not None else "期間内に実施しない", YEN if j in (7, 8) else None)
    ws.freeze_panes = f"A{r + 3}"

    ws, r = _sheet(wb, "予算", synthetic)
    heads = ["年度", "予算上限(円)", *METHOD_JA.values()]
    _header(ws, r, heads)
    b = result.budget
    budget: list[dict[str, Any]] = [{str(k): v for k, v in rec.items()}
                                    for rec in b.reset_index().to_dict(orient="records")]
    for i, rec in enumerate(budget, start=r + 1):
        _put(ws, i, 1, int(rec["fiscal_year"]))
        cap = float(rec["cap"])
        _put(ws, i, 2, None if np.isnan(cap) else cap, YEN)
        for j, key in enumerate(METHOD_JA, start=3):
            _put(ws, i, j, float(rec[key]), YEN)
    chart = BarChart()
    chart.title = "年度別の対策費（円）"
    chart.y_axis.title = "円"
    chart.add_data(Reference(ws, min_col=3, max_col=5, min_row=r, max_row=r + len(b)), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=r + 1, max_row=r + len(b)))
    chart.height, chart.width = 9, 22
    ws.add_chart(chart, f"H{r}")

    _comparison_sheet(wb, result, synthetic)
    _rules_sheet(wb, result, synthetic)

    ws, r = _sheet(wb, "前提・出典", synthetic)
    js = result.as_json()
    _assumptions(ws, r, [*js["assumptions"],
                         *[f"対象外：{COUNT_LABELS_JA.get(k, k)} {v} 件" for k, v in result.excluded.items() if v]],
                 js["parameters"], js["actions"])
    buf = io.BytesIO()
    neutralise_workbook(wb)  # user-typed names (facilities, groups) never run as formulas
    wb.save(buf)
    return buf.getvalue()


def _comparison_sheet(wb: Workbook, result: PlanResult, synthetic: bool, sectors: bool = False) -> None:
    """The plan against the unconstrained optimum and worst-first."""
    ws, r = _sheet(wb, "比較", synthetic)
    heads = ["方法", "対策費 計(円)", "現在価値(円)", "リスク(円)", "費用＋リスク(円)", "対策する施設", "しない施設",
             "目安の区分が目標に遅れる施設" if sectors else "Ⅲ が目標に遅れる施設",
             "待つ間に目安より悪い区分に進む施設・年（期待値）" if sectors else "待つ間にⅣに進む施設・年（期待値）",
             "最大の年(円)"]
    _header(ws, r, heads)
    for i, (name, tot) in enumerate(result.totals.iterrows(), start=r + 1):
        vals = [METHOD_JA[str(name)], tot["cost_yen"], tot["discounted_cost_yen"], tot["risk_yen"], tot["objective_yen"],
                int(tot["treated"]), int(tot["untreated"]), int(tot["iii_late"]), tot["iv_facility_years"],
                tot["peak_year_yen"]]
        for j, v in enumerate(vals, 1):
            _put(ws, i, j, v, YEN if j in (2, 3, 4, 5, 10) else None)
    s = result.solver
    ws.cell(row=r + 5, column=1, value=f"解法：混合整数計画（HiGHS）、{s['message_ja']}、相対ギャップ {s['mip_gap']:.2%}、"
                                       f"下界 {s['dual_bound']:,.0f} 円、{s['seconds']} 秒、候補 {s['candidates']} 施設")


# --------------------------------------------------------------------------- sectors on their own scales (#16)

UNIT_JA = {"m2": "㎡", "m": "m", "基": "基"}
OVERVIEW_SHEET = "概要"


@dataclass(frozen=True)
class LccRun:
    """One facility type's (or the road structures') strategy comparison on its own inspection scale."""

    facility_types: tuple[str, ...]
    scale: Scale
    result: LccResult
    hazard_source: str
    hazard_notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return "・".join(type_name(c) for c in self.facility_types)


def grade_name(sc: Scale, label: str) -> str:
    """A grade as its manual names it (「健全度C」「緊急度Ⅱ」「Ⅲ」) from a model state's or plan row's label."""
    from gunmane.engine.scale_labels import grade_short

    try:
        return grade_short(sc, sc.index_of_label(label))
    except ValueError:
        return GRADE_LABELS_JA.get(label, label)


def _unit_costs(ws: Worksheet, row: int, sc: Scale, actions: list[dict[str, Any]],
                parameters: list[dict[str, Any]]) -> int:
    """The repair per grade on the type's own scale with each unit cost's source (or 仮定値), then the other
    parameters; returns the next free row."""
    from gunmane.engine.scale_labels import grade_short

    ws.cell(row=row, column=1, value=f"判定区分ごとの対策と単価（{sc.name}）").font = Font(bold=True)
    _header(ws, row + 1, ["施設種別", "判定区分", "対策", "単価(円)", "単価の単位", "固定費(円/件)", "対策後の区分",
                          "出典", "仮定値か"])
    row += 2
    for a in actions:
        unit = UNIT_JA.get(str(a.get("unit") or "m2"), str(a.get("unit")))
        vals = [type_name(a["facility_type"]), grade_short(sc, a["grade"]), a["action"], a["per_m2_yen"], f"円/{unit}",
                a["fixed_yen"], grade_short(sc, a["restores_to"]), a["source"], "仮定値" if a["assumption"] else ""]
        for j, v in enumerate(vals, 1):
            _put(ws, row, j, v, YEN if j in (4, 6) else None)
        row += 1
    row += 1
    _header(ws, row, ["パラメータ", "値", "単位", "出典", "仮定値か"])
    for p in parameters:
        row += 1
        for j, v in enumerate([p["label"], p["value"], p["unit"], p["source"], "仮定値" if p["assumption"] else ""], 1):
            ws.cell(row=row, column=j, value=v)
    return row + 2


def _lines(ws: Worksheet, row: int, heading: str, lines: list[str]) -> int:
    ws.cell(row=row, column=1, value=heading).font = Font(bold=True)
    for text in lines:
        row += 1
        ws.cell(row=row, column=1, value=text)
    return row + 2


def _run_sheet(ws: Worksheet, r: int, title: str, run: LccRun) -> None:
    """One facility type: the strategies with facility-years per grade in the scale's names, the yearly and
    cumulative costs (with a chart), the unit costs and their sources, the hazards and the assumptions."""
    result, sc = run.result, run.scale
    ws.cell(row=r, column=1, value=f"{title} — {run.name}の維持管理戦略の比較（{sc.name}、{result.start_year}年度から"
                                   f"{int(result.params.horizon_years.value)}年間）").font = Font(bold=True, size=13)
    labels = list(result.model.states.labels)
    _header(ws, r + 2, ["戦略", "説明", "現在価値(円)", "総額(円)", "年平均(円)", "最大の年(円)",
                        *[f"{grade_name(sc, g)}の施設・年（期待値）" for g in labels]])
    row = r + 3
    for s in result.strategies:
        vals = [s.strategy.name_ja, s.strategy.description_ja, s.npv_yen, s.total_yen, s.mean_annual_yen,
                s.peak_annual_yen, *[s.facility_years[g] for g in labels]]
        for j, v in enumerate(vals, 1):
            _put(ws, row, j, v, YEN if 3 <= j <= 6 else "#,##0.0" if j > 6 else None)
        row += 1
    ws.cell(row=row + 1, column=1, value=f"現在価値が最も小さい戦略：{result.best.strategy.name_ja}（対象 {result.assets.n:,} "
                                         f"施設、割引率 {result.params.discount_rate.value:.1%}、措置の目安 "
                                         f"{grade_name(sc, sc.label(sc.trigger)) if sc.trigger else '—'}）")
    row += 3
    ws.cell(row=row, column=1, value="年別の期待費用と累計（円）").font = Font(bold=True)
    head = row + 1
    _header(ws, head, ["年度", *[s.strategy.name_ja for s in result.strategies],
                       *[f"{s.strategy.name_ja}（累計）" for s in result.strategies]])
    years = result.strategies[0].annual.index
    n = len(result.strategies)
    for i, t in enumerate(years, start=head + 1):
        _put(ws, i, 1, result.start_year + int(t))
        for k, s in enumerate(result.strategies):
            _put(ws, i, 2 + k, float(s.annual.loc[t, "total"]), YEN)
            _put(ws, i, 2 + n + k, float(s.annual["total"].cumsum().loc[t]), YEN)
    chart = LineChart()
    chart.title = f"{run.name}の累計費用（円）"
    chart.y_axis.title, chart.x_axis.title = "円", "年度"
    chart.add_data(Reference(ws, min_col=2 + n, max_col=1 + 2 * n, min_row=head, max_row=head + len(years)),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=head + 1, max_row=head + len(years)))
    chart.height, chart.width = 9, 22
    ws.add_chart(chart, f"{get_column_letter(2 * n + 3)}{head}")
    row = head + len(years) + 2
    js = result.as_json(annual=False)
    row = _unit_costs(ws, row, sc, js["parameters"]["actions"], js["parameters"]["parameters"])
    row = _lines(ws, row, "劣化ハザードの出典", [run.hazard_source, *run.hazard_notes])
    _lines(ws, row, "前提", [*js["assumptions"],
                             *[f"除外：{COUNT_LABELS_JA.get(k, k)} {v} 件" for k, v in result.assets.excluded.items() if v],
                             *[f"補完：{COUNT_LABELS_JA.get(k, k)} {v} 件" for k, v in result.assets.notes.items() if v]])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["H"].width = 40


def sector_lcc_xlsx(runs: Sequence[LccRun], *, title: str, synthetic: bool,
                    skipped: Sequence[tuple[str, str]] = ()) -> bytes:
    """The strategy comparison per facility type, each on its own scale: 「概要」 (every type's strategies side by
    side, and the types that could not be computed with why), then one sheet per type."""
    wb = Workbook()
    ws, r = _sheet(wb, OVERVIEW_SHEET, synthetic, first=True)
    ws.cell(row=r, column=1, value=f"{title} — 維持管理戦略の比較（分野ごとの尺度）").font = Font(bold=True, size=13)
    _header(ws, r + 2, ["施設種別", "判定区分の尺度", "措置の目安", "対象施設", "戦略", "現在価値(円)", "総額(円)",
                        "年平均(円)", "最大の年(円)", "最も小さい現在価値", "シート"])
    row = r + 3
    taken = {OVERVIEW_SHEET}
    sheets = [sheet_title(run.name, taken, "種別") for run in runs]
    for run, sheet in zip(runs, sheets, strict=True):
        sc, res = run.scale, run.result
        due = grade_name(sc, sc.label(sc.trigger)) if sc.trigger else "—"
        for s in res.strategies:
            vals = [run.name, sc.name, due, res.assets.n, s.strategy.name_ja, s.npv_yen, s.total_yen,
                    s.mean_annual_yen, s.peak_annual_yen, "○" if s is res.best else "", sheet]
            for j, v in enumerate(vals, 1):
                _put(ws, row, j, v, YEN if 6 <= j <= 9 else None)
            row += 1
    if skipped:
        row += 1
        ws.cell(row=row, column=1, value="計算できなかった施設種別").font = Font(bold=True)
        for code, why in skipped:
            row += 1
            ws.cell(row=row, column=1, value=type_name(code))
            ws.cell(row=row, column=2, value=why.replace(code, type_name(code)))  # the engine's message names the code
    row += 2
    ws.cell(row=row, column=1, value="各種別のシートに、その分野の点検要領の区分での施設・年、年別の費用、判定区分ごとの対策の単価と"
                                     "出典（仮定値はその旨）、劣化ハザードの出典と前提があります。種別の間で費用を足し合わせるときは、"
                                     "割引率と計算期間が同じことを確かめてください。")
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 30
    for run, sheet in zip(runs, sheets, strict=True):
        page, r0 = _sheet(wb, sheet, synthetic)
        _run_sheet(page, r0, title, run)
    buf = io.BytesIO()
    neutralise_workbook(wb)  # user-typed names (facilities, groups) never run as formulas
    wb.save(buf)
    return buf.getvalue()


def remark_name(sc: Scale, note: str) -> str:
    """The plan's remark with its grade as the scale names it (「IV：初年度に必ず対策」 → 「Ⅳ：初年度に必ず対策」)."""
    grade, sep, rest = note.partition("：")
    return f"{grade_name(sc, grade)}{sep}{rest}" if sep and grade else note


def _plan_rows(ws: Worksheet, r: int, result: PlanResult, units: dict[str, str]) -> None:
    """「対策計画」 of a plan of sectors: each facility's grade on its type's own scale, its quantity in its unit."""
    from gunmane.io.values.scales import scale_for_facility_type

    heads = ["施設", "団体", "種別", "判定（各分野の区分）", "対策", "実施年度", "対策費(円)", "今年度に行う場合(円)",
             "優先度の重み", "数量", "単位", "備考"]
    _header(ws, r, heads)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["E"].width = 40
    scales: dict[str, Scale] = {}
    records: list[dict[str, Any]] = [{str(k): v for k, v in rec.items()}
                                     for rec in result.table.to_dict(orient="records")]
    for i, rec in enumerate(records, start=r + 1):
        code = str(rec["facility_type"])
        sc = scales.setdefault(code, scale_for_facility_type(code))
        fy, cost = float(rec["fiscal_year"]), float(rec["cost_yen"])
        vals = [rec["name"], rec.get("municipality") or rec["lg_code"], type_name(code), grade_name(sc, str(rec["grade"])),
                rec["measure"], None if np.isnan(fy) else int(fy), None if np.isnan(cost) else cost,
                float(rec["cost_now_yen"]), float(rec["priority_weight"]), float(rec["area_m2"]), units.get(code, "㎡"),
                remark_name(sc, str(rec.get("note") or ""))]
        for j, v in enumerate(vals, 1):
            _put(ws, i, j, v if v is not None else "期間内に実施しない", YEN if j in (7, 8) else None)
    ws.freeze_panes = f"A{r + 1}"


def _sector_budget(ws: Worksheet, r: int, result: PlanResult, lines: Sequence[Any], budget_yen: float | None) -> None:
    """「予算（分野計）」: per fiscal year the budget, each facility type's planned repairs, each renewal line's need
    and the total across sectors (the JSON's total_by_year), with a stacked bar chart."""
    table = result.table
    spent = table[table["fiscal_year"].notna()]
    by_type = spent.groupby(["fiscal_year", "facility_type"])["cost_yen"].sum()
    order = [str(c) for g in result.groups for c in g.params.facility_types]
    types = [c for c in order if (spent["facility_type"] == c).any()]
    renew = {line.facility_type: dict(zip(line.table["fiscal_year"].astype(int), line.table["cost_yen"], strict=True))
             for line in lines}
    heads = ["年度", "年間予算(円)", "うち計画に使える額(円)", *[f"{type_name(c)}の対策費(円)" for c in types],
             *[f"{type_name(c)}の更新の必要額(円)" for c in renew], "計画の対策費 計(円)", "更新の必要額 計(円)",
             "合計（分野計, 円）"]
    _header(ws, r, heads)
    b = result.budget
    for i, (fy, rec) in enumerate(b.iterrows(), start=r + 1):
        year = int(fy)  # type: ignore[call-overload]  # the budget's index is the fiscal year
        cap = float(rec["cap"])
        plan = float(rec["plan"])
        need = sum(float(x.get(year, 0.0)) for x in renew.values())
        vals: list[Any] = [year, budget_yen, None if np.isnan(cap) else cap,
                           *[float(by_type.get((year, c), 0.0)) for c in types],
                           *[float(x.get(year, 0.0)) for x in renew.values()], plan, need, plan + need]
        for j, v in enumerate(vals, 1):
            _put(ws, i, j, v if v is not None else "平準化（上限なし）", YEN if j > 1 else None)
    n_cols = len(types) + len(renew)
    if n_cols:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.title = "年度別の費用（分野別、円）"
        chart.y_axis.title = "円"
        chart.add_data(Reference(ws, min_col=4, max_col=3 + n_cols, min_row=r, max_row=r + len(b)), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=r + 1, max_row=r + len(b)))
        chart.height, chart.width = 9, 22
        ws.add_chart(chart, f"A{r + len(b) + 3}")
    ws.cell(row=r + len(b) + 1, column=1,
            value="更新の必要額（判定区分のない水道管路などの更新）を予算から先に取り、残り（うち計画に使える額）で"
                  "各分野の対策を計画しています。計画の対策費は分野ごとの対策費の合計です。")


def _sector_sources(ws: Worksheet, r: int, result: PlanResult, lines: Sequence[Any]) -> None:
    """Per sector its scale, hazards with their source, unit costs with their sources (or 仮定値); per renewal line
    its life model, unit cost and yearly need."""
    from gunmane.io.values.scales import scale

    js = result.as_json()
    row = r
    for g in js.get("groups", []):
        sc = scale(g["scale"])
        names = "・".join(type_name(c) for c in g["facility_types"])
        ws.cell(row=row, column=1, value=f"{names}（{g['scale_name']}）").font = Font(bold=True, size=12)
        row = _lines(ws, row + 1, "劣化ハザードの出典", [g["model"]["source"]])
        row = _unit_costs(ws, row, sc, g["actions"], g["parameters"])
    for line in lines:
        j = line.as_json()
        ws.cell(row=row, column=1, value=f"{type_name(line.facility_type)}（判定区分なし：更新の必要額）").font = \
            Font(bold=True, size=12)
        cost = j["unit_cost"]
        row = _lines(ws, row + 1, "計算のもと", [
            f"対象 {j['n_assets']:,} 施設、延長 {j['length_m']:,.0f} m（経過年数が不明 {j['ages_unknown']:,} 施設は中央値で補完）",
            f"寿命の分布：ワイブル分布（形状 {j['model']['shape']:.2f}、尺度 {j['model']['scale_years']:.1f} 年）"
            f"— 出典：{j['model']['source']}",
            f"単価：{cost['label']} {cost['value']:,.0f} {cost['unit']} — 出典：{cost['source']}"
            + ("（仮定値）" if cost["assumption"] else "")])
        _header(ws, row, ["年度", "更新する延長の期待値(m)", "更新の必要額(円)"])
        for y in j["per_year"]:
            row += 1
            _put(ws, row, 1, y["fiscal_year"])
            _put(ws, row, 2, y["metres"], "#,##0.0")
            _put(ws, row, 3, y["cost_yen"], YEN)
        row += 2
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["C"].width = 40
    ws.column_dimensions["H"].width = 60


def mixed_plan_xlsx(result: PlanResult, lines: Sequence[Any] = (), *, title: str, synthetic: bool,
                    budget_yen: float | None) -> bytes:
    """A plan of several sectors under one budget: 「対策計画」 (each grade on its sector's scale), 「予算（分野計）」
    (the yearly budget across sectors, renewal lines included), 「比較」, 「区分ごとの期限」, 「単価・出典」 (per sector
    its scale, hazards and unit costs with their sources), 「前提」."""
    wb = Workbook()
    ws, r = _sheet(wb, "対策計画", synthetic, first=True)
    mode = "予算上限" if result.mode == "budget" else "平準化"
    names = "・".join(dict.fromkeys([type_name(str(t)) for g in result.groups for t in g.params.facility_types]
                                    + [type_name(line.facility_type) for line in lines]))
    ws.cell(row=r, column=1, value=f"{title} — 分野をまたぐ対策計画（{names}、{result.start_year}〜"
                                   f"{result.start_year + result.years - 1}年度、{mode}、{result.strategy.name_ja}）").font = \
        Font(bold=True, size=13)
    units = {str(a["facility_type"]): UNIT_JA.get(str(a.get("unit") or "m2"), str(a.get("unit")))
             for g in result.as_json().get("groups", []) for a in g["actions"]}
    _plan_rows(ws, r + 2, result, units)
    ws, r = _sheet(wb, "予算（分野計）", synthetic)
    _sector_budget(ws, r, result, lines, budget_yen)
    _comparison_sheet(wb, result, synthetic, sectors=True)
    _rules_sheet(wb, result, synthetic, _SECTOR_RULES)
    ws, r = _sheet(wb, "単価・出典", synthetic)
    _sector_sources(ws, r, result, lines)
    ws, r = _sheet(wb, "前提", synthetic)
    _lines(ws, r, "前提", [*result.assumptions,
                           *[f"対象外：{COUNT_LABELS_JA.get(k, k)} {v} 件" for k, v in result.excluded.items() if v]])
    ws.column_dimensions["A"].width = 120
    buf = io.BytesIO()
    neutralise_workbook(wb)  # user-typed names (facilities, groups) never run as formulas
    wb.save(buf)
    return buf.getvalue()
