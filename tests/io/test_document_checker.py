"""The consistency check of the group documents (issue #12 §1): unit tests that it catches each kind of
contradiction, and property-based tests (hypothesis) that every document the writers build — for generated
group settings and scenarios: members, roles and kinds, cost-share rules, years, terms, effects present or
absent, lots, unknown figures — passes it."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gunmane.engine.calendar import fiscal_year
from gunmane.io.documents.agreement import agreement_doc, agreement_docx
from gunmane.io.documents.blocks import Bullets, Doc, Para, Table
from gunmane.io.documents.checker import DocumentCheckError, check_document, problems
from gunmane.io.documents.common import DEFAULT_KEPT_JUDGEMENTS
from gunmane.io.documents.figures import (
    build_schedule,
    document_figures,
    period_text,
    rounded_amounts,
    share_rows,
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
from gunmane.io.documents.policy import policy_doc, policy_docx, policy_pdf
from gunmane.io.documents.spec import spec_doc
from gunmane.io.shipped.parameters import share_rules
from tests.io.test_documents import nara_input

OLD_ASSUMPTION = "ランダムな補修需要の契約数は二項分布の期待値 E⌈(D+X)/L⌉（X ~ 二項分布(N, q̄)、q̄ は同じ発注単位の平均確率）。"


def _replace_block(doc: Doc, old: object, new: object) -> Doc:
    return dataclasses.replace(doc, blocks=tuple(new if b == old else b for b in doc.blocks))


def _para(doc: Doc, start: str) -> Para:
    return next(b for b in doc.blocks if isinstance(b, Para) and b.text.startswith(start))


def _table(doc: Doc, word: str) -> Table:
    return next(b for b in doc.blocks if isinstance(b, Table) and any(word in h for h in b.header))


# --------------------------------------------------------------------------- the documents of the demo pass


@pytest.mark.parametrize("build", [policy_doc, agreement_doc, lambda inp: spec_doc(inp, "L1"),
                                   lambda inp: spec_doc(inp, "L2")])
def test_the_demo_documents_pass(build) -> None:  # type: ignore[no-untyped-def]
    inp = nara_input()
    assert problems(build(inp), inp) == []
    assert problems(build(nara_input(effects=None)), nara_input(effects=None)) == []


# --------------------------------------------------------------------------- each contradiction is caught


def test_period_in_the_text_differs_from_the_schedule_table() -> None:
    inp = nara_input()
    doc = policy_doc(inp)
    bad = _replace_block(doc, _para(doc, "取組の期間"), Para("取組の期間：3年間"))
    found = problems(bad, inp)
    assert any("取組の期間：3年間" in p and "5年間" in p for p in found), found
    with pytest.raises(DocumentCheckError, match="取組の期間"):
        check_document(bad, inp)
    wrong_range = _replace_block(doc, _para(doc, "取組の期間"), Para("取組の期間：2026〜2028年度の3年間"))
    assert any("2026〜2028年度の3年間" in p for p in problems(wrong_range, inp))


def test_schedule_before_the_document_year_or_off_the_scenario_years() -> None:
    # the demo as it was: 令和7年度 in a document of 令和8年12月 for a 2027–2031 scenario
    old = nara_input(prepared_on=date(2026, 12, 7), schedule=build_schedule(2026, 3, date(2025, 4, 1)))
    found = problems(policy_doc(old), old)
    assert any("令和7年度（2025年度）から始まり" in p for p in found), found
    assert any("効果試算の期間（令和9年度（2027年度）〜令和13年度（2031年度））と一致しません" in p for p in found), found
    for build in (agreement_doc, lambda inp: spec_doc(inp, "L1")):  # every kind refuses, not only the policy
        assert any("2025年度" in p for p in problems(build(old), old))


def test_a_fact_in_the_text_that_contradicts_the_member_table() -> None:
    unknown = tuple(dataclasses.replace(m, civil_engineers=None) if m.kind_ja == "村" else m
                    for m in nara_input().members)
    inp = nara_input(members=unknown, issues=("人口減少と高齢化で技術職員が少ない（村は土木技術職員が0〜2人）",))
    found = problems(policy_doc(inp), inp)
    assert any("村は土木技術職員が0〜2人" in p and "曽爾村・御杖村・東吉野村の土木技術職員は「不明」" in p for p in found), found
    outside = nara_input(issues=("宇陀市の土木技術職員は3人で、技術職員が足りない",))
    assert any("宇陀市 14人" in p for p in problems(policy_doc(outside), outside))
    fine = nara_input(issues=("村の土木技術職員は0〜2人で、発注の負担が大きい",))  # 2, 1, 0 in the table
    assert problems(policy_doc(fine), fine) == []
    # a table that differs from the カルテ figures it was made from
    doc = policy_doc(fine)
    table = _table(doc, "土木技術職員")
    rows = tuple(row[:6] + ("5",) + row[7:] if row[0] == "曽爾村" else row for row in table.rows)
    assert any("曽爾村の土木技術職員「5」" in p for p in problems(_replace_block(doc, table, dataclasses.replace(
        table, rows=rows)), fine))


def test_a_list_that_repeats_an_item() -> None:
    inp = nara_input()
    doc = agreement_doc(inp)
    # the 協定書 第5条 as it was: two wordings of 通行止め and of 説明責任
    items = (*DEFAULT_KEPT_JUDGEMENTS, "通行止め・通行規制など供用に関する判断", "住民・議会への説明責任",
             "住民及び議会に対する管理者としての説明")
    clause = [Para(f"（{'一二三四五'[k]}）{t}", indent=1, hanging=2) for k, t in enumerate(items)]
    bad = dataclasses.replace(doc, blocks=(*doc.blocks, *clause))
    found = problems(bad, inp)
    assert any("通行止め・緊急措置の判断」と「通行止め・通行規制など供用に関する判断」が重複" in p for p in found), found
    assert any("説明責任」と「住民及び議会に対する管理者としての説明」が重複" in p for p in found), found
    bullets = dataclasses.replace(doc, blocks=(*doc.blocks, Bullets(("月次報告", "月次報告"))))
    assert any("「月次報告」が重複" in p for p in problems(bullets, inp))


def test_the_owner_article_names_each_judgement_once() -> None:
    members = list(nara_input().members)
    members[1] = dataclasses.replace(members[1], kept_judgements=(
        "健全性の診断（判定区分の決定）", "通行止め・通行規制など供用に関する判断", "通行止め・緊急措置の判断",
        "住民・議会への説明責任"))
    inp = nara_input(members=tuple(members))
    doc = agreement_doc(inp)
    assert problems(doc, inp) == []
    items = [b.text for b in doc.blocks if isinstance(b, Para) and b.text.startswith("（")
             and b.text[1] in "一二三四五六七八九"]
    assert sum("通行止め" in t for t in items) == 1 and sum("説明" in t for t in items) == 1


def test_shares_that_do_not_sum_or_amounts_off_the_total() -> None:
    inp = nara_input()
    doc = agreement_doc(inp)
    table = _table(doc, "負担割合")
    rows = list(table.rows)
    rows[0] = (rows[0][0], rows[0][1], "89.9%", rows[0][3])
    found = problems(_replace_block(doc, table, dataclasses.replace(table, rows=tuple(rows))), inp)
    assert any("負担割合の合計が" in p and "100%になっていません" in p for p in found), found
    rows = list(table.rows)
    rows[1] = (*rows[1][:3], "60,000")
    found = problems(_replace_block(doc, table, dataclasses.replace(table, rows=tuple(rows))), inp)
    assert any("負担額の合計の行" in p for p in found), found
    assert any("曽爾村（60,000千円）が、効果試算で曽爾村に配分された予定価格（53,900千円）" in p for p in found), found


def test_shares_come_from_the_scenario_price_of_each_member() -> None:
    rows = share_rows(nara_input())
    assert [r.name for r in rows] == ["宇陀市", "曽爾村", "御杖村", "東吉野村", "奈良県"]
    assert sum(r.pct for r in rows) == pytest.approx(100.0) and sum(r.amount_sen for r in rows) == 548_900
    pref = rows[-1]
    assert pref.supporting and pref.amount_yen == 0 and pref.pct == 0  # no facilities in scope: nothing
    assert rounded_amounts([1_499.6, 1_499.6, 1_000.8]) == [2, 1, 1]  # 4.0 千円: sums exactly


def test_a_formula_in_council_facing_text() -> None:
    effects = dataclasses.replace(nara_input().effects, assumptions=(OLD_ASSUMPTION,))  # type: ignore[arg-type]
    inp = nara_input(effects=effects)
    found = problems(policy_doc(inp), inp)
    assert any("記号「⌈」" in p or "期待値の記号" in p for p in found), found
    with pytest.raises(DocumentCheckError, match="数式"):
        policy_docx(inp)  # the writer refuses before writing
    for text, what in (("職員数 = 職員時間 ÷ 年間勤務時間", "記号「=」"), ("規則は share.rule で決まる", "プログラムの名前"),
                       ("係数 θ は 0.09", "ギリシャ文字"), ("件数は (N, q) で決まる", "変数の式")):
        e = dataclasses.replace(effects, assumptions=(text,))
        assert any(what in p for p in problems(policy_doc(nara_input(effects=e)), nara_input(effects=e))), text
    # addresses and facility names (「A-1号橋」) are not formulas
    members = tuple(dataclasses.replace(m, plans=("https://www.city.uda.nara.jp/kensetsu/plan_2024.html",))
                    for m in nara_input().members)
    ok = nara_input(members=members)
    assert problems(policy_doc(ok), ok) == []


def test_the_engine_assumptions_carry_no_formula() -> None:
    from gunmane.engine.effects.evaluate import ASSUMPTIONS

    inp = nara_input(effects=dataclasses.replace(nara_input().effects, assumptions=ASSUMPTIONS))  # type: ignore[arg-type]
    assert problems(policy_doc(inp), inp) == []


def test_the_writers_refuse_with_every_contradiction_named() -> None:
    inp = nara_input(prepared_on=date(2028, 5, 1))
    with pytest.raises(DocumentCheckError) as info:
        policy_pdf(inp)
    assert "作成できません" in str(info.value) and "令和8年度（2026年度）から始まり" in str(info.value)
    assert len(info.value.problems) >= 1


# --------------------------------------------------------------------------- generated settings and scenarios

NAMES = ("宇陀市", "曽爾村", "御杖村", "東吉野村", "桜井市", "山添村", "明日香町", "下市町")
TASKS = ("定期点検（近接目視）", "健全性の診断（判定区分の決定）", "通行止め・緊急措置の判断", "補修設計", "補修工事",
         "発注事務（積算・入札・契約）", "台帳・点検データの管理", "住民・議会への説明責任", "個別施設計画の策定・見直し",
         "通行止め・通行規制など供用に関する判断")
MECHANISMS = (MechanismInfo("agreement", "協定・覚書", "", "各団体", False),
              MechanismInfo("council", "協議会", "地方自治法第252条の2の2", "各団体", True),
              MechanismInfo("delegation", "事務の委託", "地方自治法第252条の14", "受託団体", True),
              MechanismInfo("partnership", "連携協約", "地方自治法第252条の2", "各団体", True))
ISSUES = ("建設後50年を超える橋梁が増え、Ⅲ判定の橋梁の措置が遅れている", "小規模な発注が多く、不調・不落が続いている",
          "点検データの様式が団体ごとに違う")
maybe_int = st.one_of(st.none(), st.integers(0, 3000))


@st.composite
def _members(draw: st.DrawFn) -> tuple[MemberInfo, ...]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=6, unique=True))
    out = []
    for k, name in enumerate(names):
        role = "幹事" if k == 0 else draw(st.sampled_from(("構成団体", "構成団体", "オブザーバー")))
        out.append(MemberInfo(
            "29" + f"{k:04d}", name, name[-1], role, draw(maybe_int), draw(maybe_int), draw(maybe_int),
            draw(st.one_of(st.none(), st.floats(0, 1))), draw(st.one_of(st.none(), st.integers(0, 30))),
            draw(st.one_of(st.none(), st.integers(0, 10**10))),
            tuple(draw(st.lists(st.sampled_from(TASKS), max_size=3, unique=True))),
            tuple(draw(st.lists(st.sampled_from(TASKS), max_size=5))),
            tuple(draw(st.lists(st.sampled_from((f"{name}公共施設等総合管理計画", "https://example.lg.jp/plan.pdf")),
                                max_size=2, unique=True)))))
    if draw(st.booleans()):
        out.append(MemberInfo("290009", "奈良県", "都道府県", "都道府県（支援）", 1_300_000, draw(maybe_int), None))
    return tuple(out)


@st.composite
def _inputs(draw: st.DrawFn) -> DocumentInput:
    members = draw(_members())
    prepared = draw(st.dates(date(2024, 4, 1), date(2035, 3, 31)))
    start = fiscal_year(prepared) + draw(st.integers(0, 3))
    years = draw(st.integers(1, 10))
    effects = None
    if draw(st.booleans()):
        paying = [m for m in members if "オブザーバー" not in m.role_ja]
        prices = [0.0 if "支援" in m.role_ja and not draw(st.booleans()) else draw(st.floats(0, 5e9)) for m in paying]
        per = tuple(MemberEffect(m.lg_code, m.name, draw(st.floats(0, 5e9)), p,
                                 draw(st.floats(0, 500)), draw(st.floats(0, 500)), draw(st.floats(0, 1e5)),
                                 draw(st.floats(0, 1e5))) for m, p in zip(paying, prices, strict=True))
        effects = EffectSummary(
            "広域＋プロセス", start, years, sum(m.baseline_contracts for m in per), sum(m.scenario_contracts for m in per),
            sum(m.baseline_price_yen for m in per), sum(m.scenario_price_yen for m in per),
            sum(m.baseline_staff_hours for m in per), sum(m.scenario_staff_hours for m in per), per,
            assumptions=draw(st.lists(st.sampled_from(_assumptions()), max_size=4, unique=True)),
            source="効果試算（積算基準 令和4年度版）")
        effects = dataclasses.replace(effects, assumptions=tuple(effects.assumptions))
    rule = draw(st.sampled_from(share_rules()))
    cost_share = CostShare(rule.key, rule.name_ja, rule.explanation_ja,
                           equal_part=draw(st.floats(0, 1)) if rule.uses_equal_part else None,
                           agreed=tuple((m.name, float(draw(st.integers(0, 100)))) for m in members)
                           if rule.key == "agreed" else ())
    owners = [m for m in members if "オブザーバー" not in m.role_ja and "支援" not in m.role_ja]
    lots = []
    for k in range(draw(st.integers(0, 3))):
        facs = tuple(FacilityRow(m.lg_code, m.name, f"BR-{k}{j:03d}", draw(st.sampled_from(("宇陀川橋", "A-1号橋", "萩原橋"))),
                                 "橋梁", draw(st.sampled_from(("", "市道1-2号線", "村道神末線"))),
                                 draw(st.one_of(st.none(), st.integers(1950, 2020))),
                                 draw(st.one_of(st.none(), st.floats(1, 500))), draw(st.sampled_from(("", "Ⅰ", "Ⅲ"))))
                     for j, m in enumerate(owners[: draw(st.integers(0, len(owners)))]))
        lots.append(LotInfo(f"L{k + 1}", f"ロット{k + 1}", facs,
                            tuple(draw(st.lists(st.sampled_from(("定期点検", "点検調書の作成", "補修設計")), max_size=3,
                                                unique=True))),
                            per_task_cap_yen=draw(st.one_of(st.none(), st.integers(100_000, 5_000_000))),
                            reporting=("月次報告",), term_years=draw(st.integers(1, 5))))
    issues = list(draw(st.lists(st.sampled_from(ISSUES), max_size=3, unique=True)))
    villages = [m.civil_engineers for m in owners if m.name.endswith("村")]
    if villages and None not in villages and draw(st.booleans()):  # a fact the table supports
        issues.append(f"村の土木技術職員は{min(villages)}〜{max(villages)}人で、発注の負担が大きい")  # type: ignore[type-var]
    known = [m for m in members if m.civil_engineers is not None]
    if known and draw(st.booleans()):
        m = draw(st.sampled_from(known))
        issues.append(f"{m.name}の土木技術職員は{m.civil_engineers}人" if m.civil_engineers else
                      f"{m.name}には土木技術職員がいない")
    return DocumentInput(
        group_name="テストの群", prepared_on=prepared, members=members, collaboration_types_ja=("広域連携（水平連携）",),
        sectors_ja=draw(st.lists(st.sampled_from(("道路", "公園", "河川")), max_size=2, unique=True)),
        work_kinds_ja=("点検・診断",), mechanism=draw(st.sampled_from(MECHANISMS)), target_area_ja="群の全域",
        issues=tuple(issues),
        schedule=build_schedule(start, years, prepared), cost_share=cost_share, effects=effects, lots=tuple(lots),
        synthetic=draw(st.booleans()), version=draw(st.integers(1, 9)),
        author_ja=draw(st.sampled_from(("", "山田 太郎（宇陀市）"))))


def _assumptions() -> tuple[str, ...]:
    from gunmane.engine.effects.evaluate import ASSUMPTIONS

    return ASSUMPTIONS


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_inputs())
def test_every_generated_document_of_every_kind_passes(inp: DocumentInput) -> None:
    docs = [policy_doc(inp), agreement_doc(inp)] + [spec_doc(inp, lot.lot_id) for lot in inp.lots]
    for doc in docs:
        assert problems(doc, inp) == [], doc.title
    figures = document_figures(inp, "policy")
    assert figures["period"]["years"] == inp.period_years and figures["period"]["text"] == period_text(inp.schedule)
    if inp.effects is not None:
        assert (figures["period"]["start_fiscal_year"], figures["period"]["years"]) == (
            inp.effects.start_fiscal_year, inp.effects.horizon_years)
    rows = share_rows(inp)
    if rows:
        assert sum(r.pct for r in rows) == pytest.approx(100.0, abs=1e-6)
        assert sum(r.amount_sen for r in rows) == round(inp.effects.scenario_price_yen / 1000)  # type: ignore[union-attr]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_inputs())
def test_generated_documents_are_written(inp: DocumentInput) -> None:
    assert policy_docx(inp)[:2] == b"PK" and agreement_docx(inp)[:2] == b"PK"
