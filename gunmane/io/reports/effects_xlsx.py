"""The effect estimate (効果試算) as a workbook: the scenarios side by side, by member, contracts, assumptions."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from gunmane.io.safe_cells import neutralise_workbook

__all__ = ["METRIC_LABELS", "effects_xlsx"]

METRIC_LABELS = {
    "contracts": ("契約数", "件"), "price_yen": ("予定価格（積算基準）", "円"), "overhead_yen": ("うち諸経費", "円"),
    "staff_hours": ("職員時間", "時間"), "fte": ("職員数換算（FTE）", "人・年"), "travel_km": ("移動距離", "km"),
    "expected_failed_tenders": ("不調・不落の期待件数", "件"), "days_to_repair": ("Ⅲ・Ⅳ判定から修繕着手まで", "日"),
    "deterioration_cost_yen": ("修繕の遅れによる劣化の損失", "円"), "net_effect_yen": ("純効果（基準に対する）", "円"),
}


def effects_xlsx(result: Any, fh: Any, sensitivity: Any = None) -> None:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
    """The comparison as a workbook: 比較 (scenarios side by side), 団体別, 契約, 前提条件, パラメータ
    (and 感度分析 when ``sensitivity`` is given)."""
    wb = Workbook()
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8F1FE")
    runs = [result.baseline, *result.scenarios]
    ws = wb.create_sheet("比較")
    if wb.active is not None and wb.active.title == "Sheet":
        wb.remove(wb.active)
    ws.append([f"効果試算: {result.group_name}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"試算期間: {result.start_fiscal_year}年度から{result.horizon_years}年度　積算基準: {result.edition}（{result.edition_label_ja}）"])
    ws.append([])
    ws.append(["指標", "単位", *[r.name for r in runs]])
    for c in ws[4]:
        c.font, c.fill = head, fill
    for key, (label, unit) in METRIC_LABELS.items():
        ws.append([label, unit, *[r.totals.as_json()[key] for r in runs]])
    ws.append([])
    ws.append(["束ねる手段", "", *["" for _ in runs]])
    for i, r in enumerate(runs):
        ws.cell(row=ws.max_row, column=3 + i, value="\n".join(x.message_ja for x in r.levers) or "（なし）")
        ws.cell(row=ws.max_row, column=3 + i).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 30
    for i in range(len(runs)):
        ws.column_dimensions[chr(ord("C") + i) if i < 24 else "Z"].width = 24
    wm = wb.create_sheet("団体別")
    names = {m.lg_code: m.name for m in result.members}
    wm.append(["シナリオ", "団体コード", "団体名", *[v[0] for v in METRIC_LABELS.values()]])
    for c in wm[1]:
        c.font, c.fill = head, fill
    for r in runs:
        for code, m in r.members.items():
            j = m.as_json()
            wm.append([r.name, code, names.get(code, code), *[j[k] for k in METRIC_LABELS]])
    wc = wb.create_sheet("契約")
    cols = ["orderer", "skey", "kkey", "ykey", "perf", "contracts", "value", "price", "overhead", "failed_tenders", "travel_km"]
    wc.append(["シナリオ", "発注者", "分野", "作業", "年度（開始）", "性能規定", "契約数", "直接費（円）", "予定価格（円）", "諸経費（円）",
               "不調・不落の期待件数", "移動距離（km）"])
    for c in wc[1]:
        c.font, c.fill = head, fill
    for r in runs:
        if len(r.contracts) == 0:
            continue
        for row in r.contracts[cols].itertuples(index=False):
            wc.append([r.name, *[v.item() if hasattr(v, "item") else v for v in row]])
    wa = wb.create_sheet("前提条件")
    wa.append(["前提条件"])
    wa["A1"].font = head
    for a in result.assumptions:
        wa.append([a])
    for n in result.notes:
        wa.append([n])
    wa.column_dimensions["A"].width = 140
    wp = wb.create_sheet("パラメータ")
    wp.append(["id", "内容", "値", "単位", "根拠の種類", "出典"])
    for c in wp[1]:
        c.font, c.fill = head, fill
    for p in result.parameters:
        v = p["value"]
        wp.append([p["id"], p["label_ja"], v if isinstance(v, int | float | str) else str(v), p["unit"], p["status_ja"], p["source"]])
    wp.column_dimensions["A"].width = 36
    wp.column_dimensions["B"].width = 50
    wp.column_dimensions["F"].width = 80
    if sensitivity is not None:
        wsn = wb.create_sheet("感度分析")
        runs_s = list(sensitivity.base)
        wsn.append(["パラメータ", "内容", "既定値", "低い値", "高い値",
                    *[f"{n}: 低" for n in runs_s], *[f"{n}: 高" for n in runs_s]])
        for c in wsn[1]:
            c.font, c.fill = head, fill
        for r in sensitivity.tornado(runs_s[0]) if runs_s else []:
            wsn.append([r.parameter, r.label_ja, r.base_value, r.low_value, r.high_value,
                        *[round(r.low[n]) for n in runs_s], *[round(r.high[n]) for n in runs_s]])
        for a in sensitivity.assumptions:
            wsn.append([a])
    neutralise_workbook(wb)
    wb.save(fh)
