"""仕様書 (発注図書) for one designed lot, and its facility list as an Excel annex.

The specification follows the precedents of 包括的民間委託 (gunmane-policy.md §7): the facilities and
tasks, required service levels for the performance-based items (the contractor decides how to meet
them), a per-task cap above which work is ordered separately (Shimoda, Fuchu), reporting and
monitoring, and the term.  The lot's estimated price is not printed: the 予定価格 is normally not
disclosed to bidders.  The health diagnosis and closure decisions stay with each facility's manager.
"""

from __future__ import annotations

import io
from collections import Counter

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from gunmane.io.documents.blocks import Block, Bullets, Doc, Heading, Para, Table, number_tables
from gunmane.io.documents.checker import check_document
from gunmane.io.documents.common import SYNTHETIC_NOTICE, head_blocks, lead_member, meta_lines, sector_lines
from gunmane.io.documents.formatting import fmt_length, fmt_yen
from gunmane.io.documents.inputs import DocumentInput, FacilityRow, LotInfo
from gunmane.io.documents.render_docx import render_docx
from gunmane.io.documents.render_pdf import render_pdf
from gunmane.io.safe_cells import neutralise_workbook

__all__ = ["ANNEX_HEADERS", "FACILITY_TABLE_HEADER", "find_lot", "spec_annex_xlsx", "spec_doc", "spec_docx",
           "spec_pdf", "spec_title"]

FACILITY_TABLE_HEADER = ("管理者", "施設ID", "名称", "種別", "路線", "建設年", "延長（m）", "健全性")
ANNEX_HEADERS = ("No.", "管理者", "団体コード", "施設ID", "名称", "種別", "路線", "建設年", "延長（m）", "健全性",
                 "緯度", "経度")
ANNEX_WIDTHS = (6, 12, 11, 16, 24, 14, 18, 9, 11, 9, 11, 11)
NOT_INSPECTED = "未点検"


def find_lot(inp: DocumentInput, lot_id: str) -> LotInfo:
    """The lot with this ID; ValueError (in Japanese, listing the lot IDs) otherwise."""
    for lot in inp.lots:
        if lot.lot_id == lot_id:
            return lot
    known = "、".join(lot.lot_id for lot in inp.lots) or "（ロットがありません。先にロットを設計してください）"
    raise ValueError(f"ロット「{lot_id}」は{inp.group_name}にありません。指定できるロット: {known}")


def spec_title(inp: DocumentInput, lot: LotInfo) -> str:
    return f"{inp.group_name}\n{lot.name}　業務委託仕様書（案）"


def _grade(f: FacilityRow) -> str:
    return f.grade or NOT_INSPECTED


def _facility_rows(lot: LotInfo) -> tuple[tuple[str, ...], ...]:
    return tuple((f.manager_name, f.facility_id, f.name, f.facility_type_ja, f.route or "—",
                  str(f.built_year) if f.built_year is not None else "不明", fmt_length(f.length_m), _grade(f))
                 for f in lot.facilities)


def _managers(lot: LotInfo) -> str:
    counts = Counter(f.manager_name for f in lot.facilities)
    return "、".join(f"{name}（{n:,}施設）" for name, n in counts.items()) or "—"


def spec_doc(inp: DocumentInput, lot_id: str) -> Doc:
    """The 仕様書 of the lot as neutral blocks (rendered by :func:`spec_docx` and :func:`spec_pdf`)."""
    lot = find_lot(inp, lot_id)
    lead = lead_member(inp)
    orderer = f"{lead.name}（{inp.group_name}の幹事団体）" if lead else f"{inp.group_name}の構成団体"
    tasks = "・".join(lot.tasks) or "別に指示する業務"
    grades = Counter(_grade(f) for f in lot.facilities)
    blocks: list[Block] = head_blocks(inp)
    blocks += [
        Heading("1　業務の目的"),
        Para(f"本業務は、{inp.group_name}の構成団体が管理する{'・'.join(inp.sectors_ja) or 'インフラ'}の施設のうち、"
             f"本仕様書に掲げる{len(lot.facilities):,}施設の{tasks}を、団体の枠を越えて一括して実施することにより、"
             "施設の安全を確保し、維持管理の効率化と品質の向上を図ることを目的とする。"),
        Heading("2　業務の概要"),
        Table(("項目", "内容"), (
            ("業務名", f"{lot.name}業務委託"),
            ("ロット", lot.lot_id),
            ("発注者", orderer),
            ("対象施設", f"{len(lot.facilities):,}施設（{_managers(lot)}）"),
            *((f"対象施設（{sector}）", f"{count}　{types}") for sector, count, types in sector_lines(lot.facilities)),
            ("点検の区分の内訳（各分野の尺度）" if sector_lines(lot.facilities) else "健全性の内訳",
             "、".join(f"{g} {n:,}" for g, n in sorted(grades.items())) or "—"),
            ("業務内容", tasks),
            ("履行期間", f"契約締結の日から{lot.term_years}年間"),
        ), widths=(1, 4), caption="業務の概要"),
        Heading("3　対象施設"),
        Para("対象施設は次の表のとおりとする（別添「施設一覧」（Excel）と同じ内容）。健全性は直近の定期点検の判定区分であり、"
             f"「{NOT_INSPECTED}」は判定区分の記録がない施設を示す。"),
        Table(FACILITY_TABLE_HEADER, _facility_rows(lot), widths=(1.3, 2.2, 2.3, 1.1, 2.1, 1.0, 1.1, 1.0),
              align="lllllrrc", caption="対象施設一覧", small=True),
        Heading("4　業務内容"),
        Bullets(lot.tasks) if lot.tasks else Para("（業務は別に指示する）"),
        Para("受注者は、点検等の結果及び所見を各施設の管理者に報告する。健全性の診断（判定区分の決定）並びに通行止め・"
             "通行規制など供用に関する判断は、各施設の管理者（本来管理者）が行い、受注者に委ねない。"),
        Heading("5　要求水準（性能規定）"),
    ]
    if lot.service_levels:
        blocks += [
            Para("次の業務は性能規定とし、受注者は要求水準を満たす作業の内容・方法・時期を自ら計画し、年間業務計画書に記載する。"),
            Table(("業務", "要求水準"), lot.service_levels, widths=(1, 3.5), caption="要求水準"),
        ]
    else:
        blocks.append(Para("本ロットには性能規定による業務はない（各業務は仕様規定により実施する）。"))
    blocks.append(Heading("6　1件あたりの上限"))
    if lot.per_task_cap_yen is not None:
        blocks.append(Para(f"1件あたりの費用が{fmt_yen(lot.per_task_cap_yen)}を超える作業は本業務の対象外とし、"
                           "各施設の管理者が別途発注する。受注者は、上限を超えると見込まれる作業が必要と判断したときは、"
                           "速やかに当該施設の管理者に報告する。"))
    else:
        blocks.append(Para("1件あたりの上限は設けない。大規模な補修等の扱いは、発注者と受注者が協議して定める。"))
    blocks += [
        Heading("7　報告とモニタリング"),
        Bullets(lot.reporting) if lot.reporting else Para("報告の方法は、発注者が別に指示する。"),
        Para("発注者は、要求水準の達成状況及び業務の実施状況を定期的に確認（モニタリング）し、要求水準を満たさない場合は"
             "受注者に是正を求める。受注者は、是正の内容と結果を報告する。"),
        Heading("8　履行期間"),
        Para(f"契約締結の日から{lot.term_years}年間とする。"
             + ("複数年度にわたる契約のため、各団体において債務負担行為を設定する。" if lot.term_years > 1 else "")),
        Heading("9　その他"),
        Para("業務で作成・取得した点検記録等のデータは各施設の管理者に帰属し、受注者は発注者の承諾なく業務以外の目的に利用しない。"),
        Para("本仕様書に定めのない事項は、発注者と受注者が協議して定める。"),
        Para("別添：対象施設一覧（Excel）", small=True),
    ]
    return Doc(title=spec_title(inp, lot), meta=(*meta_lines(inp), f"ロット {lot.lot_id}"),
               running_title=f"{inp.group_name}　{lot.name}　仕様書（案）", blocks=number_tables(blocks),
               subject="群マネ発注図書（仕様書）", synthetic=inp.synthetic,
               author=inp.author_ja, keywords=("群マネ", "仕様書", inp.group_name, lot.lot_id))


def spec_docx(inp: DocumentInput, lot_id: str) -> bytes:
    """The 仕様書 of the lot as .docx bytes; ValueError for an unknown lot."""
    return render_docx(check_document(spec_doc(inp, lot_id), inp))


def spec_pdf(inp: DocumentInput, lot_id: str) -> bytes:
    """The 仕様書 of the lot as PDF bytes; ValueError for an unknown lot."""
    return render_pdf(check_document(spec_doc(inp, lot_id), inp))


def spec_annex_xlsx(inp: DocumentInput, lot_id: str) -> bytes:
    """The lot's facility list as an Excel annex (one sheet 「施設一覧」): numbers stay numbers, unknown
    stays blank; title, synthetic notice, styled header row, filter and fixed panes."""
    lot = find_lot(inp, lot_id)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "施設一覧"
    wb.properties.title = f"{inp.group_name} {lot.name} 対象施設一覧"
    wb.properties.creator = inp.author_ja or inp.group_name
    font = "游ゴシック"
    ws["A1"] = f"{inp.group_name}　{lot.name}（ロット {lot.lot_id}）対象施設一覧"
    ws["A1"].font = Font(name=font, size=13, bold=True)
    row = 2
    if inp.synthetic:
        ws.cell(row, 1, SYNTHETIC_NOTICE).font = Font(name=font, bold=True, color="C00000")
        row += 1
    ws.cell(row, 1, f"仕様書（第{inp.version}版）の別添。健全性の空欄は判定区分の記録がない施設、建設年・延長の空欄は不明。"
            ).font = Font(name=font, size=9, color="666666")
    header = row + 2
    fill = PatternFill("solid", fgColor="DCE6F2")
    edge = Side(style="thin", color="999999")
    for k, text in enumerate(ANNEX_HEADERS, start=1):
        c = ws.cell(header, k, text)
        c.font = Font(name=font, bold=True, color="1F3864")
        c.fill = fill
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        c.border = Border(bottom=edge, top=edge, left=edge, right=edge)
    for n, f in enumerate(lot.facilities, start=1):
        r = header + n
        values = (n, f.manager_name, f.lg_code, f.facility_id, f.name, f.facility_type_ja, f.route or None,
                  f.built_year, f.length_m, f.grade or None, f.lat, f.lon)
        for k, v in enumerate(values, start=1):
            c = ws.cell(r, k, v)
            c.font = Font(name=font)
        ws.cell(r, 3).number_format = "@"
        ws.cell(r, 4).number_format = "@"
        ws.cell(r, 8).number_format = "0"
        ws.cell(r, 9).number_format = "#,##0.0"
        ws.cell(r, 11).number_format = "0.000000"
        ws.cell(r, 12).number_format = "0.000000"
    for k, width in enumerate(ANNEX_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(k)].width = width
    last = header + max(len(lot.facilities), 1)
    ws.auto_filter.ref = f"A{header}:{get_column_letter(len(ANNEX_HEADERS))}{last}"
    ws.freeze_panes = f"C{header + 1}"
    ws.print_title_rows = f"{header}:{header}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is not None:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    neutralise_workbook(wb)  # user-typed names (facilities, groups) never run as formulas
    wb.save(out)
    return out.getvalue()
