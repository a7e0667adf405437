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
from gunmane.io.safe_cells import neutralise_workbook

__all__ = ["SYNTHETIC_NOTICE_LCC", "lcc_xlsx", "plan_xlsx"]

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


def _rules_sheet(wb: Workbook, result: PlanResult, synthetic: bool) -> None:
    """Ⅳ in the first year (and the first year's shortfall) and the Ⅲ goal per fiscal year, as on the page."""
    ws, r = _sheet(wb, "Ⅳ・Ⅲ の期限", synthetic)
    iv = result.iv_first_year
    ws.cell(row=r, column=1, value=f"健全性Ⅳ（緊急措置段階）：{len(iv.facilities)} 施設を {iv.fiscal_year} 年度に対策").font = \
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
    ws.cell(row=row, column=1, value=f"健全性Ⅲ（早期措置段階）：{goal.facilities} 施設、目標は {goal.deadline_fiscal_year} 年度まで"
                                     f"（間に合う {goal.treated_within_goal}、間に合わない {len(goal.late)}）").font = Font(bold=True)
    _header(ws, row + 1, ["年度", "まだ対策していないⅢの施設", "うち目標の年度を過ぎた施設", "その年度に対策する費用（円）",
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

    ws, r = _sheet(wb, "比較", synthetic)
    heads = ["方法", "対策費 計(円)", "現在価値(円)", "リスク(円)", "費用＋リスク(円)", "対策する施設", "しない施設",
             "Ⅲ が目標に遅れる施設", "待つ間にⅣに進む施設・年（期待値）", "最大の年(円)"]
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
