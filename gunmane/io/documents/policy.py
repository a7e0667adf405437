"""実施方針 (implementation policy) of a group, in the format the guide describes (gunmane-policy.md §4.5):
issues with the members' カルテ figures, the expected effects of the chosen scenario, target area,
facilities and work, each member's role (with the judgements the 本来管理者 keeps), the legal mechanism,
cost sharing, the schedule by fiscal year and the link to each member's plans.

Every number comes from the :class:`DocumentInput`; when the effect estimation has not been run the
document says so instead of printing any effect.
"""

from __future__ import annotations

from collections import Counter

from gunmane.io.documents.blocks import Block, Bullets, Doc, Heading, Para, Table, number_tables
from gunmane.io.documents.checker import check_document
from gunmane.io.documents.common import (
    conflict_notes,
    cost_share_blocks,
    head_blocks,
    is_observer,
    is_supporting,
    kept_judgements,
    meta_lines,
    unique_judgements,
)
from gunmane.io.documents.figures import member_sen, period_text
from gunmane.io.documents.formatting import (
    fiscal_year_label,
    fmt_change,
    fmt_count,
    fmt_diff,
    fmt_int,
    fmt_pct,
    fmt_sen,
)
from gunmane.io.documents.inputs import DocumentInput, EffectSummary, LotInfo
from gunmane.io.documents.render_docx import render_docx
from gunmane.io.documents.render_pdf import render_pdf

__all__ = ["EFFECTS_NOT_COMPUTED", "MEMBER_TABLE_HEADER", "policy_doc", "policy_docx", "policy_pdf",
           "policy_title"]

EFFECTS_NOT_COMPUTED = "効果試算は未実施です（群のページの『効果試算』で計算してください）。"
MEMBER_TABLE_HEADER = ("団体", "役割", "人口（人）", "橋梁数（橋）", "Ⅲ・Ⅳ判定（橋）", "建設後50年以上の橋梁の割合",
                       "土木技術職員（人）", "土木費（千円）")
EFFECT_TABLE_HEADER = ("指標", "基準（各団体が個別に発注）", "シナリオ", "差", "増減率")


def policy_title(inp: DocumentInput) -> str:
    return f"{inp.group_name}\n地域インフラ群再生戦略マネジメント（群マネ）実施方針（案）"


def _member_table(inp: DocumentInput) -> Table:
    rows = tuple(
        (m.name, m.role_ja, fmt_int(m.population), fmt_int(m.bridges), fmt_int(m.bridges_iii_iv),
         fmt_pct(m.share_50y), fmt_int(m.civil_engineers),
         fmt_int(None if m.civil_expenditure_yen is None else m.civil_expenditure_yen / 1000))
        for m in inp.members)
    return Table(MEMBER_TABLE_HEADER, rows, widths=(2.6, 2.6, 1.8, 1.6, 1.6, 1.9, 1.7, 2.0), align="llrrrrrr",
                 caption="構成団体の現状（インフラ現状カルテの数値）", small=True)


def _owner_summary(inp: DocumentInput) -> list[Block]:
    """One sentence with the owners' totals (a supporting prefecture's own stock is not the group's)."""
    owners = [m for m in inp.members if not (is_observer(m) or is_supporting(m))]
    if not owners:
        return []
    parts = []
    for label, values, unit in (("橋梁", [m.bridges for m in owners], "橋"),
                                ("うちⅢ・Ⅳ判定", [m.bridges_iii_iv for m in owners], "橋"),
                                ("土木技術職員", [m.civil_engineers for m in owners], "人")):
        known = [v for v in values if v is not None]
        if known:
            suffix = "（不明の団体を除く）" if len(known) < len(values) else ""
            parts.append(f"{label}は計{fmt_int(sum(known), unit)}{suffix}")
    if not parts:
        return []
    no_engineer = [m.name for m in owners if m.civil_engineers == 0]
    text = f"施設を管理する{len(owners)}団体の合計で、" + "、".join(parts) + "です。"
    if no_engineer:
        text += f"{'・'.join(no_engineer)}には土木技術職員がいません。"
    return [Para(text)]


def _effect_blocks(e: EffectSummary) -> list[Block]:
    period = f"（{e.period_ja}）" if e.period_ja else ""
    blocks: list[Block] = [Para(f"効果試算のシナリオ「{e.scenario_name}」{period}による、基準（各団体が個別に発注）との比較です。")]
    # differences of the printed (rounded) values, so that 基準 − シナリオ = 差 as a reader checks it
    count = lambda v: fmt_count(v, "件")  # noqa: E731
    sen = lambda v: fmt_int(v, "千円")  # noqa: E731
    hours = lambda v: fmt_int(v, "時間")  # noqa: E731
    bc, sc = round(e.baseline_contracts, 1), round(e.scenario_contracts, 1)
    bp, sp = round(e.baseline_price_yen / 1000), round(e.scenario_price_yen / 1000)
    bh, sh = round(e.baseline_staff_hours), round(e.scenario_staff_hours)
    rows = (
        ("契約数（期待件数）", count(bc), count(sc), fmt_diff(bc, sc, lambda v: count(round(v, 1))),
         fmt_change(e.baseline_contracts, e.scenario_contracts)),
        ("予定価格", sen(bp), sen(sp), fmt_diff(bp, sp, sen), fmt_change(e.baseline_price_yen, e.scenario_price_yen)),
        ("発注者の職員時間", hours(bh), hours(sh), fmt_diff(bh, sh, hours),
         fmt_change(e.baseline_staff_hours, e.scenario_staff_hours)),
    )
    blocks.append(Table(EFFECT_TABLE_HEADER, rows, widths=(2.4, 2.6, 2.2, 2.2, 1.4), align="lrrrr",
                        caption="期待される効果（群全体）"))
    if e.per_member:
        # 千円 rounded so each column adds up to the total above (and equals the 負担額 of 表 費用の負担割合)
        base, scen = member_sen(e, scenario=False), member_sen(e)
        member_rows = tuple((m.name, sen(base[m.lg_code]), sen(scen[m.lg_code]),
                             fmt_diff(base[m.lg_code], scen[m.lg_code], sen),
                             fmt_change(m.baseline_price_yen, m.scenario_price_yen)) for m in e.per_member)
        blocks.append(Table(("団体", "基準の予定価格", "シナリオの予定価格", "差", "増減率"), member_rows,
                            widths=(2.4, 2.6, 2.2, 2.2, 1.4), align="lrrrr", caption="団体ごとの予定価格"))
    if e.assumptions:
        blocks += [Para("試算の前提："), Bullets(e.assumptions)]
    blocks.append(Para(f"出典：{e.source or '効果試算'}。試算値であり、実際の発注結果を保証するものではありません。",
                       small=True))
    return blocks


def _lot_table(lots: tuple[LotInfo, ...], caption: str) -> Table:
    rows = []
    for lot in lots:
        managers = Counter(f.manager_name for f in lot.facilities)
        rows.append((lot.lot_id, lot.name, fmt_int(len(lot.facilities)),
                     "、".join(f"{n}（{c}）" for n, c in managers.items()) or "—", "、".join(lot.tasks) or "—",
                     f"{lot.term_years}年", fmt_sen(lot.estimated_price_yen) if lot.estimated_price_yen else "未算定"))
    return Table(("ロット", "名称", "施設数", "管理者（施設数）", "業務", "期間", "概算額"), tuple(rows),
                 widths=(1.3, 2.4, 1.0, 3.0, 2.8, 0.9, 1.8), align="llrllrr", caption=caption, small=True)


def policy_doc(inp: DocumentInput) -> Doc:
    """The 実施方針 as neutral blocks (rendered by :func:`policy_docx` and :func:`policy_pdf`)."""
    names = "・".join(m.name for m in inp.members)
    blocks: list[Block] = head_blocks(inp)

    blocks += [
        Heading("1　背景と課題"),
        Para(f"{inp.group_name}は、{names}の{len(inp.members)}団体で構成する群です"
             f"（連携の類型：{'・'.join(inp.collaboration_types_ja) or '未設定'}）。"
             "人口減少と施設の高齢化が進み、限られた職員と予算で施設を維持していくため、"
             "複数の団体・分野・年度・業務を束ねて管理する群マネに取り組みます。"),
        Heading("1.1　構成団体の現状", 2),
        _member_table(inp),
        Para("出典：各団体のインフラ現状カルテ。「不明」はデータがないことを示します（0 ではありません）。", small=True),
        *_owner_summary(inp),
        Heading("1.2　課題", 2),
        Bullets(inp.issues) if inp.issues else Para("（課題は未記入です）"),
        Heading("2　取組の概要"),
        Para(f"連携の類型：{'・'.join(inp.collaboration_types_ja) or '未設定'}"),
    ]
    if inp.bundles:
        blocks.append(Table(("束", "群で行うこと"), inp.bundles, widths=(1, 3),
                            caption="三つの束"))
    if inp.levers:
        blocks += [Para("束ね方（用いる手段）："), Bullets(inp.levers)]

    blocks.append(Heading("3　期待される効果"))
    blocks += _effect_blocks(inp.effects) if inp.effects is not None else [Para(inp.effects_note or EFFECTS_NOT_COMPUTED)]

    blocks += [
        Heading("4　対象区域"),
        Para(inp.target_area_ja or "（未記入）"),
        Heading("5　対象施設と業務"),
        Para(f"対象分野：{'・'.join(inp.sectors_ja) or '未設定'}"),
        Para(f"対象業務：{'・'.join(inp.work_kinds_ja) or '未設定'}"),
    ]
    if inp.lots:
        blocks.append(_lot_table(inp.lots, "発注ロット（案）"))
        blocks.append(Para("ロットごとの対象施設・業務・要求水準は、各ロットの仕様書に示します。", small=True))
    else:
        blocks.append(Para("発注ロットは未設計です。"))

    blocks += [
        Heading("6　各団体の役割"),
        Para("ガイドラインの心得に従い、各施設の本来管理者は、健全性の診断や通行止めの判断など管理者としての判断と"
             "住民への説明責任を自ら保持し、他の団体や受注者に委ねません。群に委ねるのは、次の表の業務に限ります。"),
        Table(("団体", "役割", "群・他団体に委ねる業務", "本来管理者として保持する判断"),
              tuple((m.name, m.role_ja, "、".join(unique_judgements(m.delegated_tasks)) or "なし",
                     "、".join(kept_judgements(inp, m)) or "—（管理する対象施設なし）") for m in inp.members),
              widths=(1.6, 1.8, 3.2, 3.4), caption="各団体の役割"),
        *conflict_notes(inp),
    ]

    mech = inp.mechanism
    blocks += [
        Heading("7　法的な仕組み"),
        Table(("項目", "内容"), (
            ("仕組み", mech.name_ja),
            ("根拠", mech.article_ja or "—（団体間の協定・覚書）"),
            ("権限の所在", mech.authority_ja),
            ("議会の議決", "必要" if mech.needs_resolution else "不要（通常）"),
        ), widths=(1, 4), caption="連携の法的な仕組み"),
        Para("仕組みの最終的な選択と規約・協定の文言は、各団体の法務担当と協議のうえ決定します。", small=True),
        Heading("8　費用負担"),
    ]
    blocks += cost_share_blocks(inp, caption="費用の負担割合")

    schedule = sorted(inp.schedule, key=lambda s: s.fiscal_year)
    blocks += [
        Heading("9　スケジュール"),
        Table(("年度", "内容"), tuple((fiscal_year_label(s.fiscal_year), s.item) for s in schedule),
              widths=(1.3, 3), caption="年度別のスケジュール")
        if schedule else Para("（スケジュールは未記入です）"),
    ]
    if inp.period:
        blocks.append(Para(f"取組の期間：{period_text(inp.schedule)}"
                           + ("（効果試算の期間と同じ）" if inp.effects is not None else "")))

    blocks += [
        Heading("10　関連する計画"),
        Para("本方針は、各団体の公共施設等総合管理計画及び個別施設計画（長寿命化修繕計画）に位置付けて実施します。"),
        Table(("団体", "公共施設等総合管理計画・個別施設計画"),
              tuple((m.name, "\n".join(m.plans) or "（未登録）") for m in inp.members),
              widths=(1, 4), caption="各団体の計画"),
    ]
    if inp.notes:
        blocks += [Heading("11　備考"), Bullets(inp.notes)]
    return Doc(title=policy_title(inp), meta=meta_lines(inp), running_title=f"{inp.group_name}　群マネ実施方針（案）",
               blocks=number_tables(blocks), subject="群マネ実施方針", synthetic=inp.synthetic,
               author=inp.author_ja, keywords=("群マネ", "実施方針", inp.group_name))


def policy_docx(inp: DocumentInput) -> bytes:
    """The 実施方針 as .docx bytes (editable in Word)."""
    return render_docx(check_document(policy_doc(inp), inp))


def policy_pdf(inp: DocumentInput) -> bytes:
    """The 実施方針 as PDF bytes (A4 portrait)."""
    return render_pdf(check_document(policy_doc(inp), inp))
