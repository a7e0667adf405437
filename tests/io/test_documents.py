"""The generated group documents (issue #6 §4): 実施方針, 協定書 and 仕様書 as .docx and PDF, and the
仕様書's Excel annex — built for the demo group 奈良モデル地域 and opened again to check headings,
tables and numbers.  PDF text, fonts and page size are read with pypdf (tests/pdf_checks.py); only the page
rendered to PNG needs poppler-utils (pdftoppm) and is skipped when it is missing (outside CI)."""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from openpyxl import load_workbook

from gunmane.io.documents import generate_document
from gunmane.io.documents.agreement import DRAFT_NOTE, agreement_doc, agreement_docx, agreement_pdf
from gunmane.io.documents.blocks import Table
from gunmane.io.documents.common import SYNTHETIC_NOTICE
from gunmane.io.documents.figures import build_schedule
from gunmane.io.documents.formatting import (
    date_label,
    fiscal_year_label,
    fmt_change,
    fmt_int,
    fmt_pct,
    fmt_sen,
    fmt_yen,
    rounded_shares,
)
from gunmane.io.documents.inputs import (
    CostShare,
    DocumentInput,
    EffectSummary,
    FacilityRow,
    LotInfo,
    MechanismInfo,
    MemberEffect,
    MemberInfo,
)
from gunmane.io.documents.policy import (
    EFFECTS_NOT_COMPUTED,
    MEMBER_TABLE_HEADER,
    policy_doc,
    policy_docx,
    policy_pdf,
)
from gunmane.io.documents.spec import (
    ANNEX_HEADERS,
    FACILITY_TABLE_HEADER,
    spec_annex_xlsx,
    spec_docx,
    spec_pdf,
)
from tests import pdf_checks

GROUP = "奈良モデル地域（宇陀市・曽爾村・御杖村・東吉野村）"
KEPT = ("健全性の診断（判定区分の決定）", "通行止め・通行規制の判断")


def _facility(lg: str, manager: str, no: int, name: str, route: str, year: int | None, length: float | None,
              grade: str) -> FacilityRow:
    return FacilityRow(lg, manager, f"{lg}-BR-{no:04d}", name, "橋梁", route, year, length, grade,
                       34.5 + no / 1000, 136.0 + no / 1000)


LOT_A = LotInfo(
    lot_id="L1", name="宇陀市・曽爾村 橋梁点検・修繕設計",
    facilities=(
        _facility("292125", "宇陀市", 12, "宇陀川橋", "市道榛原中央線", 1968, 42.5, "Ⅲ"),
        _facility("292125", "宇陀市", 57, "萩原橋", "市道萩原線", 1974, 18.0, "Ⅱ"),
        _facility("292125", "宇陀市", 103, "大宇陀一号橋", "市道大宇陀本線", None, 6.2, ""),
        _facility("293857", "曽爾村", 3, "曽爾大橋", "村道長野線", 1971, 65.0, "Ⅲ"),
        _facility("293857", "曽爾村", 21, "太良路橋", "村道太良路線", 1985, None, "Ⅰ"),
    ),
    tasks=("定期点検（近接目視）", "点検調書の作成", "修繕設計", "軽微な補修"),
    service_levels=(("軽微な補修", "Ⅲ判定の損傷のうち応急措置が必要なものは、報告から14日以内に措置を完了する"),
                    ("巡回", "月1回以上巡回し、路面の段差3cm以上を発見したときは当日中に管理者へ報告する")),
    per_task_cap_yen=500_000,
    reporting=("月次報告（作業実績・発見した損傷）", "情報共有システムへの点検記録の登録", "年度末の業務報告書"),
    term_years=3, estimated_price_yen=184_500_000)

LOT_B = LotInfo(
    lot_id="L2", name="御杖村・東吉野村 橋梁点検",
    facilities=(
        _facility("293865", "御杖村", 8, "神末橋", "村道神末線", 1966, 24.0, "Ⅳ"),
        _facility("294535", "東吉野村", 15, "高見川橋", "村道小川線", 1970, 38.4, "Ⅲ"),
        _facility("294535", "東吉野村", 44, "木津川橋", "村道木津線", 1979, 12.1, "Ⅱ"),
    ),
    tasks=("定期点検（近接目視）", "点検調書の作成"),
    term_years=1)

EFFECTS = EffectSummary(
    scenario_name="広域＋プロセス（CM型の一括契約）", start_fiscal_year=2027, horizon_years=5,
    baseline_contracts=86, scenario_contracts=31,
    baseline_price_yen=612_400_000, scenario_price_yen=548_900_000,
    baseline_staff_hours=5_420, scenario_staff_hours=2_180,
    per_member=(MemberEffect("292125", "宇陀市", 380_200_000, 341_300_000),
                MemberEffect("293857", "曽爾村", 61_900_000, 53_900_000),
                MemberEffect("293865", "御杖村", 67_400_000, 60_500_000),
                MemberEffect("294535", "東吉野村", 102_900_000, 93_200_000),
                MemberEffect("290009", "奈良県", 0, 0)),
    assumptions=("職員1時間あたりの人件費 5,000円", "定期点検の周期 5年"),
    source="効果試算（積算基準 令和4年度版）")
SHARE = CostShare("direct_cost", "直接費割", "共同で発注する契約の費用を、各団体の作業の直接工事費の比で分けます。")


def _member(lg: str, name: str, kind: str, role: str, pop: int, bridges: int | None, iii_iv: int | None,
            share: float | None, engineers: int | None, expenditure: int | None,
            delegated: tuple[str, ...] = (), kept: tuple[str, ...] = KEPT) -> MemberInfo:
    plans = (f"{name}公共施設等総合管理計画（令和4年3月改訂）", f"{name}橋梁長寿命化修繕計画") if kind != "都道府県" else ()
    return MemberInfo(lg, name, kind, role, pop, bridges, iii_iv, share, engineers, expenditure,
                      delegated, kept, plans)


def nara_input(**changes: object) -> DocumentInput:
    members = (
        _member("292125", "宇陀市", "市", "幹事", 27_000, 525, 57, 0.432, 14, 1_854_000_000,
                ("共同発注の事務（4団体分）", "点検データの取りまとめ")),
        _member("293857", "曽爾村", "村", "構成団体", 1_300, 68, 6, 0.381, 2, 421_000_000,
                ("定期点検の発注事務",)),
        _member("293865", "御杖村", "村", "構成団体", 1_500, 74, 9, 0.405, 1, None,
                ("定期点検の発注事務",)),
        _member("294535", "東吉野村", "村", "構成団体", 1_600, 126, 14, 0.468, 0, 612_000_000,
                ("定期点検の発注事務", "修繕設計の発注事務")),
        _member("290009", "奈良県", "都道府県", "都道府県（支援）", 1_305_000, None, None, None, None, None,
                ("技術的助言", "点検結果の確認の支援"), ()),
    )
    base = DocumentInput(
        group_name=GROUP, prepared_on=date(2026, 11, 27), members=members,
        collaboration_types_ja=("広域連携（水平）", "広域連携（垂直）"),
        sectors_ja=("道路（橋梁）",), work_kinds_ja=("点検", "診断の補助", "修繕設計", "修繕工事"),
        mechanism=MechanismInfo("agreement", "協定・覚書", "", "各団体（権限は移らない）", False),
        target_area_ja="宇陀市・曽爾村・御杖村・東吉野村の全域（奈良県東部の山間地域）",
        issues=("4団体の橋梁793橋のうち、建設後50年を経過する橋梁が今後10年で6割を超える",
                "村の土木技術職員は0〜2人で、定期点検の発注と調書の確認が負担になっている",
                "点検・修繕設計の入札で不調・不落が続いている"),
        schedule=tuple(reversed(build_schedule(2027, 5, date(2026, 11, 27)))),  # the writers sort by year
        cost_share=SHARE,
        bundles=(("自治体の束", "4団体と奈良県で発注を束ねる（垂直・水平の補完）"),
                 ("技術者の束", "県の技術職員による助言と合同研修"),
                 ("事業者の束", "地域の事業者による共同企業体（JV）を想定")),
        levers=("プロセスの束（点検・修繕設計・修繕工事）", "複数年契約（3年）", "データの共有"),
        effects=EFFECTS, lots=(LOT_A, LOT_B), synthetic=True, version=2,
        notes=("施設の数値はデモ用の合成台帳によるものです。",))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- helpers


@functools.cache
def _policy_docx() -> bytes:
    """The demo 実施方針 (.docx), built once for the tests that only read it."""
    return policy_docx(nara_input())


def _open(data: bytes) -> DocxDocument:
    return Document(io.BytesIO(data))


def _headings(d: DocxDocument) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in d.paragraphs if p.style is not None and p.style.name.startswith("Heading")]


def _text(d: DocxDocument) -> str:
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def _tables(d: DocxDocument) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]


def _table(d: DocxDocument, *header: str, last: str | None = None) -> list[list[str]]:
    """The first table whose header row starts with ``header`` (and ends with ``last``)."""
    for rows in _tables(d):
        head = rows[0]
        if tuple(head[: len(header)]) == header and (last is None or head[-1] == last):
            return rows
    raise AssertionError(f"no table with header {header!r}")


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            raise AssertionError(f"{tool} (poppler-utils) is required in CI")
        pytest.skip(f"{tool} がないため PDF の確認を省略します（apt-get install poppler-utils）")
    return path


def _pdftotext(pdf: bytes, tmp_path: Path, name: str) -> str:
    """The PDF's text by pypdf (no poppler needed); the file is kept in tmp_path for the checks that render it."""
    (tmp_path / f"{name}.pdf").write_bytes(pdf)
    return pdf_checks.text(pdf)


def _squash(text: str) -> str:
    return "".join(text.split())


# --------------------------------------------------------------------------- formatting


def test_numbers_are_formatted_the_japanese_way() -> None:
    assert fmt_yen(500_000) == "¥500,000"
    assert fmt_sen(548_900_000) == "548,900千円"
    assert fmt_pct(0.432) == "43.2%"
    assert fmt_int(None) == "不明" and fmt_int(27_000, "人") == "27,000人"
    assert fmt_change(86, 31) == "−64.0%"
    assert fiscal_year_label(2019) == "令和元年度（2019年度）"
    assert fiscal_year_label(2027) == "令和9年度（2027年度）"
    assert date_label(date(2026, 11, 27)) == "令和8年11月27日（2026年11月27日）"


def test_rounded_shares_always_add_up_to_100() -> None:
    assert rounded_shares([1 / 3] * 3) == [33.4, 33.3, 33.3]
    assert sum(rounded_shares([0.6217, 0.0982, 0.1103, 0.1698])) == pytest.approx(100.0)
    assert rounded_shares([0.12345, 0.87655]) == [12.3, 87.7]


# --------------------------------------------------------------------------- 実施方針


def test_policy_docx_headings_member_table_and_effects() -> None:
    d = _open(_policy_docx())
    headings = _headings(d)
    titles = [t for _, t in headings]
    for expected in ("1　背景と課題", "1.1　構成団体の現状", "1.2　課題", "3　期待される効果", "4　対象区域",
                     "5　対象施設と業務", "6　各団体の役割", "7　法的な仕組み", "8　費用負担", "9　スケジュール",
                     "10　関連する計画"):
        assert expected in titles
    assert ("Heading 1", "1　背景と課題") in headings and ("Heading 2", "1.1　構成団体の現状") in headings

    paragraphs = [p.text for p in d.paragraphs]
    assert paragraphs[0].startswith(GROUP) and "実施方針" in paragraphs[0]
    assert "第2版" in paragraphs and "作成日　令和8年11月27日（2026年11月27日）" in paragraphs
    assert d.tables[0].rows[0].cells[0].text == SYNTHETIC_NOTICE  # the notice box comes first

    members = _table(d, "団体", "役割")
    assert tuple(members[0]) == MEMBER_TABLE_HEADER
    uda = next(r for r in members if r[0] == "宇陀市")
    assert uda[2:] == ["27,000", "525", "57", "43.2%", "14", "1,854,000"]
    mitsue = next(r for r in members if r[0] == "御杖村")
    assert mitsue[-1] == "不明"  # unknown expenditure is never 0
    assert [r[0] for r in members[1:]] == ["宇陀市", "曽爾村", "御杖村", "東吉野村", "奈良県"]

    effects = _table(d, "指標")
    assert effects[1] == ["契約数（期待件数）", "86.0件", "31.0件", "−55.0件", "−64.0%"]
    assert effects[2] == ["予定価格", "612,400千円", "548,900千円", "−63,500千円", "−10.4%"]
    assert effects[3][0] == "発注者の職員時間" and effects[3][1:3] == ["5,420時間", "2,180時間"]
    per_member = _table(d, "団体", "基準の予定価格")
    assert per_member[1] == ["宇陀市", "380,200千円", "341,300千円", "−38,900千円", "−10.2%"]

    schedule = _table(d, "年度")
    assert [r[0] for r in schedule[1:]] == [fiscal_year_label(y) for y in range(2026, 2032)]
    assert "取組の期間：令和9年度から令和13年度まで（2027〜2031年度）の5年間（効果試算の期間と同じ）" in paragraphs
    roles = _table(d, "団体", "役割", last="本来管理者として保持する判断")
    assert "健全性の診断（判定区分の決定）" in roles[1][3]
    assert roles[5][0] == "奈良県" and roles[5][3].startswith("—")
    plans = _table(d, "団体", "公共施設等総合管理計画・個別施設計画")
    assert "宇陀市公共施設等総合管理計画" in plans[1][1] and plans[5][1] == "（未登録）"
    text = _text(d)
    assert "協定・覚書" in text and "表1　構成団体の現状" in text
    assert EFFECTS_NOT_COMPUTED not in text


def test_policy_without_effects_says_not_computed_and_prints_no_effect_table() -> None:
    inp = nara_input(effects=None)
    d = _open(policy_docx(inp))
    assert EFFECTS_NOT_COMPUTED in [p.text for p in d.paragraphs]
    headers = [rows[0] for rows in _tables(d)]
    assert all(h[0] != "指標" and "基準の予定価格" not in h for h in headers)
    assert not any(rows[0][-1] == "負担額（千円）" for rows in _tables(d))  # no shares without a scenario price
    assert any("負担割合と負担額は未算定です" in p.text for p in d.paragraphs)
    captions = [b.caption for b in policy_doc(inp).blocks if isinstance(b, Table)]
    assert captions[:2] == ["表1　構成団体の現状（インフラ現状カルテの数値）", "表2　三つの束"]  # no gap


def test_docx_is_a4_with_japanese_east_asian_fonts_and_real_tables() -> None:
    d = _open(_policy_docx())
    section = d.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    rfonts = d.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == "游明朝"
    heading_fonts = d.styles["Heading 1"].element.rPr.find(qn("w:rFonts"))
    assert heading_fonts.get(qn("w:eastAsia")) == "游ゴシック" and heading_fonts.get(qn("w:eastAsiaTheme")) is None
    lang = d.styles["Normal"].element.rPr.find(qn("w:lang"))
    assert lang.get(qn("w:eastAsia")) == "ja-JP"
    assert all(t.style is not None and t.style.name == "Table Grid" for t in d.tables)
    font_table = next(r.target_part for r in d.part.rels.values() if r.reltype.endswith("/fontTable")).blob
    assert "MS 明朝".encode() in font_table and "MS ゴシック".encode() in font_table
    footer = section.footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer


def test_policy_pdf_carries_the_same_headings_and_numbers(tmp_path: Path) -> None:
    pdf = policy_pdf(nara_input())
    assert pdf.startswith(b"%PDF")
    text = _pdftotext(pdf, tmp_path, "policy")
    flat = _squash(text)
    for expected in ("背景と課題", "構成団体の現状", "期待される効果", "各団体の役割", "法的な仕組み", "スケジュール",
                     "関連する計画", "【合成データ】", "第2版", "令和8年11月27日", "宇陀市", "525", "27,000",
                     "612,400千円", "548,900千円", "−64.0%", "不明", "令和9年度（2027年度）"):
        assert _squash(expected) in flat, expected
    assert "1 / " in text and "ページ" in text
    assert set(pdf_checks.page_sizes(pdf)) == {pdf_checks.A4_PT}
    assert pdf_checks.fonts(pdf).get("IPAexGothic") is True  # embedded (subset)
    # page 1 as PNG (looked at by eye while developing: title block, notice, member table, no tofu)
    subprocess.run([_poppler("pdftoppm"), "-r", "60", "-f", "1", "-l", "1", "-png", "-singlefile",
                    str(tmp_path / "policy.pdf"), str(tmp_path / "page1")], check=True)
    png = (tmp_path / "page1.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert abs(width - 496) <= 1 and abs(height - 702) <= 1  # A4 portrait at 60 dpi


def test_policy_pdf_without_effects(tmp_path: Path) -> None:
    flat = _squash(_pdftotext(policy_pdf(nara_input(effects=None, synthetic=False)), tmp_path, "policy0"))
    assert _squash(EFFECTS_NOT_COMPUTED) in flat
    assert "基準（各団体が個別に発注）" not in flat and "【合成データ】" not in flat


# --------------------------------------------------------------------------- 協定書


def test_agreement_docx_articles_parties_owner_article_and_shares() -> None:
    d = _open(agreement_docx(nara_input()))
    titles = [t for _, t in _headings(d)]
    assert titles[0] == "第1条（目的）"
    assert "第5条（本来管理者の責任）" in titles
    assert [t.split("（")[0] for t in titles] == [f"第{k}条" for k in range(1, len(titles) + 1)]
    paragraphs = [p.text for p in d.paragraphs]
    text = _text(d)
    assert [r[0][0] for r in _tables(d)[:2]] == [SYNTHETIC_NOTICE, DRAFT_NOTE]  # notices at the top
    assert "第2版" in paragraphs
    preamble = next(p for p in paragraphs if p.startswith("宇陀市（以下「甲」という。）"))
    assert "曽爾村（以下「乙」という。）" in preamble and "奈良県（以下「戊」という。）" in preamble
    owner = paragraphs.index("各団体は、その管理する施設の本来管理者として、次に掲げる判断及び責任を自ら保持する。")
    assert paragraphs[owner + 1] == "（一）健全性の診断（判定区分の決定）"
    assert any(p.startswith("2　この協定により、前項の判断及び責任は") and "移転しない" in p for p in paragraphs)
    roles = _table(d, "記号")
    assert [r[0] for r in roles[1:]] == list("甲乙丙丁戊")
    shares = _table(d, "団体", "役割", "負担割合")
    pct = [float(r[2].rstrip("%")) for r in shares[1:-1] if r[2].endswith("%")]
    assert pct == [62.2, 9.8, 11.0, 17.0]  # each member's scenario price over the total
    assert sum(pct) == pytest.approx(100.0) and shares[-1][2] == "100.0%"
    assert shares[5][2:] == ["負担なし", "0"]  # the supporting prefecture: no facilities, no price
    assert [r[3] for r in shares[1:]] == ["341,300", "53,900", "60,500", "93,200", "0", "548,900"]
    assert "令和　　年　　月　　日" in paragraphs
    assert any(p.startswith("宇陀市長") for p in paragraphs) and any(p.startswith("奈良県知事") for p in paragraphs)
    assert "有効期間は、締結の日から令和14年3月31日（2031年度の末日）まで" in text
    assert "自治紛争処理委員" not in text
    scope = _table(d, "団体", "対象施設数")
    assert scope[-1][:2] == ["合計", "8"]


def test_agreement_for_a_partnership_mentions_conciliation_and_council_resolution() -> None:
    mech = MechanismInfo("partnership", "連携協約", "地方自治法第252条の2", "各団体", True)
    doc = agreement_doc(nara_input(mechanism=mech))
    assert doc.title.endswith("連携協約書（案）")
    d = _open(agreement_docx(nara_input(mechanism=mech)))
    text = _text(d)
    assert "自治紛争処理委員" in text and "地方自治法第252条の2第7項" in text
    assert "各団体の議会の議決を経て別に定める規約による" in text


def test_agreement_warns_when_a_delegation_would_hand_over_an_owner_judgement() -> None:
    inp = nara_input()
    members = list(inp.members)
    members[1] = dataclasses.replace(members[1], delegated_tasks=("定期点検", "健全性の診断"), kept_judgements=())
    mech = MechanismInfo("delegation", "事務の委託", "地方自治法第252条の14", "受託団体", True)
    text = _text(_open(agreement_docx(dataclasses.replace(inp, members=tuple(members), mechanism=mech))))
    assert "要確認：曽爾村が委ねる業務「健全性の診断」" in text
    assert "委託した事務の権限は受託団体に移ります" in text
    roles = _table(_open(agreement_docx(dataclasses.replace(inp, members=tuple(members)))), "記号")
    assert roles[2][1] == "曽爾村" and roles[2][4].startswith("健全性の診断")  # the guide's minimum, kept anyway


def test_agreement_pdf_extracts_as_japanese(tmp_path: Path) -> None:
    flat = _squash(_pdftotext(agreement_pdf(nara_input()), tmp_path, "agreement"))
    for expected in ("第1条（目的）", "本来管理者の責任", "移転しない", "100.0%", "62.2%", "341,300", "令和年月日", "宇陀市長",
                     "草案", "法務担当"):
        assert expected in flat, expected


# --------------------------------------------------------------------------- 仕様書


def test_spec_docx_lists_every_facility_of_the_lot_and_its_requirements() -> None:
    d = _open(spec_docx(nara_input(), "L1"))
    paragraphs = [p.text for p in d.paragraphs]
    assert d.tables[0].rows[0].cells[0].text == SYNTHETIC_NOTICE
    assert "第2版" in paragraphs and "ロット L1" in paragraphs and "作成日　令和8年11月27日（2026年11月27日）" in paragraphs
    titles = [t for _, t in _headings(d)]
    assert titles == ["1　業務の目的", "2　業務の概要", "3　対象施設", "4　業務内容", "5　要求水準（性能規定）",
                      "6　1件あたりの上限", "7　報告とモニタリング", "8　履行期間", "9　その他"]
    facilities = _table(d, "管理者", "施設ID")
    assert tuple(facilities[0]) == FACILITY_TABLE_HEADER
    assert [r[1] for r in facilities[1:]] == [f.facility_id for f in LOT_A.facilities]
    assert facilities[1] == ["宇陀市", "292125-BR-0012", "宇陀川橋", "橋梁", "市道榛原中央線", "1968", "42.5", "Ⅲ"]
    assert facilities[3][5] == "不明" and facilities[3][7] == "未点検" and facilities[5][6] == "不明"
    text = _text(d)
    assert all(f.facility_id not in text for f in LOT_B.facilities)
    assert "¥500,000を超える作業は本業務の対象外" in text
    levels = _table(d, "業務", "要求水準")
    assert levels[1][0] == "軽微な補修" and "14日以内" in levels[1][1]
    assert "月次報告（作業実績・発見した損傷）" in text
    assert "契約締結の日から3年間とする。複数年度にわたる契約のため" in text
    assert "184,500" not in text  # the estimated price is not disclosed in the spec
    assert "健全性の診断（判定区分の決定）並びに通行止め" in text


def test_spec_without_service_levels_or_cap() -> None:
    text = _text(_open(spec_docx(nara_input(), "L2")))
    assert "性能規定による業務はない" in text and "1件あたりの上限は設けない" in text
    assert "複数年度" not in text


def test_unknown_lot_raises_a_japanese_error_listing_the_lots() -> None:
    for call in (spec_docx, spec_pdf, spec_annex_xlsx):
        with pytest.raises(ValueError, match="ロット「L9」.*指定できるロット: L1、L2"):
            call(nara_input(), "L9")
    with pytest.raises(ValueError, match="ロットの指定が必要"):
        generate_document(nara_input(), "spec", "docx")


def test_spec_pdf_lists_the_facilities(tmp_path: Path) -> None:
    flat = _squash(_pdftotext(spec_pdf(nara_input(), "L1"), tmp_path, "spec"))
    for f in LOT_A.facilities:
        assert f.facility_id in flat and f.name in flat
    assert "¥500,000" in flat and "要求水準" in flat and "ロットL1" in flat


def test_spec_annex_xlsx() -> None:
    wb = load_workbook(io.BytesIO(spec_annex_xlsx(nara_input(), "L1")))
    ws = wb["施設一覧"]
    assert "対象施設一覧" in str(ws["A1"].value)
    assert ws["A2"].value == SYNTHETIC_NOTICE
    header_row = next(r for r in range(1, 8) if ws.cell(r, 1).value == "No.")
    assert tuple(ws.cell(header_row, k).value for k in range(1, len(ANNEX_HEADERS) + 1)) == ANNEX_HEADERS
    assert ws.cell(header_row, 1).font.bold and ws.cell(header_row, 1).fill.fgColor.rgb.endswith("DCE6F2")
    rows = list(ws.iter_rows(min_row=header_row + 1, values_only=True))
    assert [r[3] for r in rows] == [f.facility_id for f in LOT_A.facilities]
    assert rows[0][7] == 1968 and rows[0][8] == 42.5 and rows[2][7] is None and rows[2][9] is None
    assert rows[0][2] == "292125"  # the code keeps its leading digits as text
    assert ws.column_dimensions["E"].width == 24 and ws.freeze_panes == f"C{header_row + 1}"
    plain = load_workbook(io.BytesIO(spec_annex_xlsx(nara_input(synthetic=False), "L2")))["施設一覧"]
    assert all("合成データ" not in str(c.value) for row in plain.iter_rows(max_row=4) for c in row)


def test_generate_document_dispatches_by_kind_and_format() -> None:
    inp = nara_input()
    assert generate_document(inp, "spec", "pdf", lot_id="L2").startswith(b"%PDF")
    assert generate_document(inp, "spec", "docx", lot_id="L2")[:2] == b"PK"
    with pytest.raises(ValueError, match="文書の種類"):
        generate_document(inp, "minutes", "docx")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="形式"):
        generate_document(inp, "policy", "odt")  # type: ignore[arg-type]
