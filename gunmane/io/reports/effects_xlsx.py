"""The effect estimate (効果試算) as a workbook: the scenarios side by side, by member, contracts, assumptions."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from gunmane.io.safe_cells import neutralise_workbook

__all__ = ["METRIC_LABELS", "SECTOR_HEADERS", "SECTOR_SHEET", "effects_xlsx"]

# money in 千円, as the 効果試算 page and the group documents print it (io.documents.formatting.fmt_sen)
METRIC_LABELS = {
    "contracts": ("契約数", "期待件数"), "price_yen": ("予定価格（積算基準）", "千円"),
    "overhead_yen": ("うち諸経費", "千円"),
    "staff_hours": ("職員時間", "時間"), "fte": ("職員数換算（FTE）", "人・年"), "travel_km": ("移動距離", "km"),
    "expected_failed_tenders": ("不調・不落", "期待件数"), "days_to_repair": ("Ⅲ・Ⅳ判定から修繕着手まで", "日"),
    "deterioration_cost_yen": ("修繕の遅れによる劣化の損失", "千円"), "net_effect_yen": ("純効果（基準に対する）", "千円"),
}
#: work kinds of the effects engine (gunmane.engine.effects.work) as the 契約 sheet names them
WORK_JA = {"inspection": "定期点検", "design": "修繕設計", "works": "修繕工事", "routine": "日常維持",
           "process": "プロセス一括（点検・診断・設計・工事）"}


def _shown(key: str, value: Any) -> Any:
    """A metric in its sheet unit: yen → 千円 (rounded as the documents round), expected counts to 0.1."""
    if value is None:
        return None
    if key.endswith("_yen"):
        return round(float(value) / 1000)
    if key in ("contracts", "expected_failed_tenders"):
        return round(float(value), 1)
    return value


def _contract_row(row: dict[str, Any], names: dict[str, str], sectors: dict[str, str]) -> list[Any]:
    """One contract group as people read it: the orderer's name (not its 団体コード), the sector and work in
    Japanese, 性能規定 as はい/いいえ (not True/False), money in 千円, the expected count to 0.1."""
    def plain(v: Any) -> Any:
        return v.item() if hasattr(v, "item") else v

    orderer = str(plain(row["orderer"]))
    return [names.get(orderer, orderer), sectors.get(str(row["skey"]), str(row["skey"])),
            WORK_JA.get(str(row["kkey"]), str(row["kkey"])), plain(row["ykey"]), "はい" if bool(row["perf"]) else "いいえ",
            _shown("contracts", plain(row["contracts"])), *[_shown("x_yen", plain(row[k])) for k in ("value", "price", "overhead")],
            _shown("expected_failed_tenders", plain(row["failed_tenders"])), plain(row["travel_km"])]


def _source(p: dict[str, Any]) -> str:
    """The source beside 根拠の種類: 「仮定値 —」 is already in that column."""
    source = str(p.get("source") or "")
    if p.get("status") == "assumption" and source.startswith("仮定値"):
        return source.removeprefix("仮定値").lstrip(" —–-") or source
    return source


def _sector_names() -> dict[str, str]:
    from gunmane.io.shipped import vocab

    return {s.code: s.name for s in vocab.sectors()}


SECTOR_SHEET = "分野別"
#: the columns of 分野別: (header, key of SectorLine.as_json, or a difference to the baseline's line "Δkey")
SECTOR_HEADERS = (("施設数", "facilities"), ("契約数（期待件数）", "contracts"), ("直接費（千円）", "direct_cost_yen"),
                  ("予定価格（千円）", "price_yen"), ("諸経費（千円）", "overhead_yen"), ("職員時間（時間）", "staff_hours"),
                  ("予定価格の基準との差（千円）", "Δprice_yen"), ("職員時間の基準との差（時間）", "Δstaff_hours"))
SHARED_LINE = "分野に分けない職員時間"


def _sector_cells(values: list[Any], *, baseline: bool) -> list[Any]:
    """One line of 分野別 in its sheet units (千円, hours to 0.1); the baseline has no difference to itself."""
    shown = [None if v is None else round(float(v), 1) if "staff_hours" in k else _shown(k.lstrip("Δ"), v)
             for (_, k), v in zip(SECTOR_HEADERS, values, strict=True)]
    return shown[:-2] + [None, None] if baseline else shown


def _sector_sheet(ws: Any, result: Any, head: Font, fill: PatternFill) -> None:
    """分野別: each scenario's lines per sector (a 多分野 scenario file with ``by_sector``) — the figures of the JSON's
    ``sectors``, money in 千円 as on the other sheets — with the baseline's line of the same sector to compare, the
    line of the staff-hours no sector carries and the scenario's total, which the lines add up to."""
    from gunmane.engine.effects.sectors import SHARED

    names = _sector_names()
    order = {code: k for k, code in enumerate(names)}
    ws.append([f"分野別の内訳: {result.group_name}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["契約は分野をまたいで束ねるため、契約数・予定価格・職員時間は各契約の直接費の割合で分野に分けています"
               "（docs/effects.md）。各シナリオの分野の行と「分野に分けない職員時間」の行を足すと、そのシナリオの合計になります。"])
    ws.append([])
    ws.append(["シナリオ", "分野", *[h for h, _ in SECTOR_HEADERS], "工種区分", "積算に使った工種区分"])
    for c in ws[4]:
        c.font, c.fill = head, fill
        c.alignment = Alignment(wrap_text=True, vertical="center")
    base = {code: line.as_json() for code, line in result.baseline.sectors.items()}
    for run in (result.baseline, *result.scenarios):
        lines = {code: line.as_json() for code, line in run.sectors.items()}
        for code in sorted(lines, key=lambda c: (c == SHARED, order.get(c, 99), c)):
            j, b = lines[code], base.get(code, {})
            values = [j[k] if not k.startswith("Δ") else j[k[1:]] - b.get(k[1:], 0) for _, k in SECTOR_HEADERS]
            shown = _sector_cells(values, baseline=run is result.baseline)
            if code == SHARED:  # only staff-hours in this line
                shown = [v if "staff_hours" in k else None for (_, k), v in zip(SECTOR_HEADERS, shown, strict=True)]
            ws.append([run.name, SHARED_LINE if code == SHARED else names.get(code, code), *shown,
                       "・".join(j["work_types"]), "・".join(j["priced_by"])])
        t = run.totals.as_json()
        bt = result.baseline.totals.as_json()
        total = [None, t["contracts"], t["direct_cost_yen"], t["price_yen"], t["overhead_yen"], t["staff_hours"],
                 t["price_yen"] - bt["price_yen"], t["staff_hours"] - bt["staff_hours"]]
        shown = _sector_cells(total, baseline=run is result.baseline)
        ws.append([run.name, "合計", *shown, "", ""])
        for c in ws[ws.max_row]:
            c.font = head
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 24
    for col in "CDEFGHIJ":
        ws.column_dimensions[col].width = 16
    ws.column_dimensions["K"].width = 40
    ws.column_dimensions["L"].width = 30
    ws.freeze_panes = "C5"


def effects_xlsx(result: Any, fh: Any, sensitivity: Any = None) -> None:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
    """The comparison as a workbook: 比較 (scenarios side by side), 団体別, 契約, 分野別 (when the scenario file asks
    for lines per sector), 前提条件, パラメータ (and 感度分析 when ``sensitivity`` is given)."""
    wb = Workbook()
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8F1FE")
    runs = [result.baseline, *result.scenarios]
    ws = wb.create_sheet("比較")
    if wb.active is not None and wb.active.title == "Sheet":
        wb.remove(wb.active)
    ws.append([f"効果試算: {result.group_name}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"試算期間: {result.start_fiscal_year}〜{result.start_fiscal_year + result.horizon_years - 1}年度の{result.horizon_years}年間　積算基準: {result.edition}（{result.edition_label_ja}）"])
    ws.append([])
    ws.append(["指標", "単位", *[r.name for r in runs]])
    for c in ws[4]:
        c.font, c.fill = head, fill
    for key, (label, unit) in METRIC_LABELS.items():
        ws.append([label, unit, *[_shown(key, r.totals.as_json()[key]) for r in runs]])
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
    wm.append(["シナリオ", "団体名", "団体コード", *[f"{label}（{unit}）" for label, unit in METRIC_LABELS.values()]])
    for c in wm[1]:
        c.font, c.fill = head, fill
    for r in runs:
        for code, m in r.members.items():
            j = m.as_json()
            wm.append([r.name, names.get(code, code), code, *[_shown(k, j[k]) for k in METRIC_LABELS]])
    wc = wb.create_sheet("契約")
    sectors = _sector_names()
    cols = ["orderer", "skey", "kkey", "ykey", "perf", "contracts", "value", "price", "overhead", "failed_tenders", "travel_km"]
    wc.append(["シナリオ", "発注者", "分野", "作業", "年度（開始）", "性能規定", "契約数（期待件数）", "直接費（千円）",
               "予定価格（千円）", "諸経費（千円）", "不調・不落の期待件数", "移動距離（km）"])
    for c in wc[1]:
        c.font, c.fill = head, fill
    for r in runs:
        if len(r.contracts) == 0:
            continue
        for row in r.contracts[cols].itertuples(index=False):
            wc.append([r.name, *_contract_row(row._asdict(), names, sectors)])
    if result.baseline.sectors:
        _sector_sheet(wb.create_sheet(SECTOR_SHEET), result, head, fill)
    wa = wb.create_sheet("前提条件")
    wa.append(["前提条件"])
    wa["A1"].font = head
    for a in result.assumptions:
        wa.append([a])
    for n in result.notes:
        wa.append([n])
    wa.column_dimensions["A"].width = 140
    wp = wb.create_sheet("パラメータ")
    wp.append(["内容", "値", "単位", "根拠の種類", "出典"])
    for c in wp[1]:
        c.font, c.fill = head, fill
    for p in result.parameters:
        v = p.get("value_ja", p["value"])
        status = "仮定値" if p.get("status") == "assumption" else p["status_ja"]
        wp.append([p["label_ja"], v if isinstance(v, int | float | str) else str(v), p["unit"], status, _source(p)])
    wp.column_dimensions["A"].width = 50
    wp.column_dimensions["E"].width = 80
    if sensitivity is not None:
        wsn = wb.create_sheet("感度分析")
        runs_s = list(sensitivity.base)
        wsn.append(["パラメータ", "既定値", "低い値", "高い値",
                    *[f"{n}: 低（純効果、千円）" for n in runs_s], *[f"{n}: 高（純効果、千円）" for n in runs_s]])
        for c in wsn[1]:
            c.font, c.fill = head, fill
        for r in sensitivity.tornado(runs_s[0]) if runs_s else []:
            wsn.append([r.label_ja, r.base_value, r.low_value, r.high_value,
                        *[round(r.low[n] / 1000) for n in runs_s], *[round(r.high[n] / 1000) for n in runs_s]])
        for a in sensitivity.assumptions:
            wsn.append([a])
    neutralise_workbook(wb)
    wb.save(fh)
