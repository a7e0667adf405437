"""Pieces shared by the three writers: the title block, the synthetic notice, parties and roles,
the 本来管理者 rule of the guide's 心得, and the cost-share table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from gunmane.io.documents.blocks import Block, Note, Para, Table
from gunmane.io.documents.figures import is_observer, is_supporting, share_rows
from gunmane.io.documents.formatting import date_label, fmt_int
from gunmane.io.documents.inputs import DocumentInput, FacilityRow, MemberInfo

__all__ = ["ACCOUNTABILITY", "DEFAULT_KEPT_JUDGEMENTS", "PARTY_LABELS", "SHARE_TABLE_HEADER", "SYNTHETIC_NOTICE", "cost_share_blocks",
           "head_blocks", "is_observer", "is_supporting", "judgement_conflicts", "judgement_topic", "kept_judgements",
           "lead_member", "meta_lines", "owns_facilities", "parties", "sector_lines", "signatory_title", "unique_judgements"]

SYNTHETIC_NOTICE = ("【合成データ】この文書には架空の施設・数値（デモ用の合成データ）が含まれます。"
                    "実在の施設・点検結果ではありません。")
PARTY_LABELS = "甲乙丙丁戊己庚辛壬癸"
SHARE_TABLE_HEADER = ("団体", "役割", "負担割合", "負担額（千円）")
NO_SHARE = "負担なし"

# The judgements the guide's 心得 keep with the 本来管理者 whatever is delegated (the guide's 心得: the health
# diagnosis, decisions on closing a road, and accountability to residents and the council). Worded as the
# catalogue of tasks words them (gunmane/data/groups/tasks.json), so a member's own list never repeats them.
DEFAULT_KEPT_JUDGEMENTS = ("健全性の診断（判定区分の決定）", "通行止め・緊急措置の判断")
ACCOUNTABILITY = "住民・議会への説明責任"
_JUDGEMENT_WORDS = ("健全性", "判定", "診断", "通行止", "通行規制", "供用", "廃止", "撤去")
# One topic per judgement the 心得 names: two wordings of the same judgement are one item of a list.
_TOPICS = (("diagnosis", ("健全性の診断", "判定区分の決定")), ("closure", ("通行止", "通行規制", "緊急措置", "供用に関する")),
           ("accountability", ("説明責任", "議会に対する", "住民への説明", "住民及び議会")))


def judgement_topic(text: str) -> str:
    """The judgement a text names (「通行止め・緊急措置の判断」 and 「通行止め・通行規制など供用に関する判断」 are
    both ``closure``); the text itself when it names none of the 心得's judgements."""
    for key, words in _TOPICS:
        if any(w in text for w in words):
            return key
    return "".join(text.split())


def unique_judgements(items: Sequence[str]) -> tuple[str, ...]:
    """The items in order, each judgement once (the first wording wins)."""
    seen: set[str] = set()
    out = []
    for item in items:
        topic = judgement_topic(item)
        if topic not in seen:
            seen.add(topic)
            out.append(item)
    return tuple(out)


def meta_lines(inp: DocumentInput) -> tuple[str, ...]:
    lines = (f"第{inp.version}版", f"作成日　{date_label(inp.prepared_on)}")
    return (*lines, f"作成者　{inp.author_ja}") if inp.author_ja else lines


def head_blocks(inp: DocumentInput) -> list[Block]:
    """The first blocks of every document: the synthetic notice when the figures are demo data."""
    return [Note(SYNTHETIC_NOTICE, "notice")] if inp.synthetic else []


def owns_facilities(inp: DocumentInput, m: MemberInfo) -> bool:
    """Whether the member is the 本来管理者 of facilities in the group's scope: every member except a
    supporting prefecture or an observer — unless one of the lots holds its facilities."""
    in_lots = any(f.lg_code == m.lg_code for lot in inp.lots for f in lot.facilities)
    return in_lots or not (is_observer(m) or is_supporting(m))


def kept_judgements(inp: DocumentInput, m: MemberInfo) -> tuple[str, ...]:
    """The judgements the member keeps as 本来管理者; an owner that recorded none keeps the guide's
    minimum (health diagnosis and closure decisions) — the documents never print an owner without them."""
    if m.kept_judgements:
        return unique_judgements(m.kept_judgements)
    return DEFAULT_KEPT_JUDGEMENTS if owns_facilities(inp, m) else ()


def judgement_conflicts(m: MemberInfo) -> list[str]:
    """Delegated tasks that look like an owner's judgement (to be checked, per the 心得)."""
    return [t for t in m.delegated_tasks if any(w in t for w in _JUDGEMENT_WORDS)]


def conflict_notes(inp: DocumentInput) -> list[Block]:
    notes: list[Block] = []
    for m in inp.members:
        for task in judgement_conflicts(m):
            notes.append(Note(f"要確認：{m.name}が委ねる業務「{task}」は、本来管理者が自ら保持すべき判断"
                              "（健全性の診断・通行止めの判断など）を含む可能性があります。委ねる範囲を確認してください。",
                              "warning"))
    if inp.mechanism.key == "delegation":
        notes.append(Note("要確認：事務の委託（地方自治法第252条の14）では、委託した事務の権限は受託団体に移ります。"
                          "本来管理者が保持する判断（健全性の診断・通行止めの判断など）を委託の範囲に含めないでください。",
                          "warning"))
    return notes


def lead_member(inp: DocumentInput) -> MemberInfo | None:
    for m in inp.members:
        if "幹事" in m.role_ja or "代表" in m.role_ja:
            return m
    return None


def parties(inp: DocumentInput) -> list[tuple[str, MemberInfo]]:
    """The parties of the agreement in member order, labelled 甲乙丙…; observers do not sign."""
    signing = [m for m in inp.members if not is_observer(m)]
    return [(PARTY_LABELS[k] if k < len(PARTY_LABELS) else f"第{k + 1}者", m) for k, m in enumerate(signing)]


def signatory_title(m: MemberInfo) -> str:
    """Who signs for the member: 宇陀市長, 曽爾村長, 奈良県知事."""
    if m.kind_ja in ("都道府県", "都", "道", "府", "県") or m.name.endswith(("都", "道", "府", "県")):
        return f"{m.name}知事"
    if m.name.endswith(("市", "町", "村")):
        return f"{m.name}長"
    if m.name.endswith("区"):
        return f"{m.name}長"
    return f"{m.name}の長"


def cost_share_blocks(inp: DocumentInput, caption: str = "") -> list[Block]:
    """The cost-share rule and each member's share and amount of the chosen scenario's price (the price the
    effects engine allocated to it under the rule), with the totals: 100.0% and the scenario's price."""
    cs = inp.cost_share
    blocks: list[Block] = [Para(f"費用負担の方法：{cs.label_ja}。{cs.explanation_ja}")]
    rows = share_rows(inp)
    e = inp.effects
    if e is None or not rows:
        blocks.append(Para(inp.effects_note or "各団体の負担割合と負担額は未算定です（群のページの『効果試算』で計算すると、"
                           "シナリオの予定価格をこの規則で分けた額が入ります）。"))
        return blocks
    table = tuple((r.name, r.role_ja, NO_SHARE if r.supporting and r.amount_sen == 0 and r.pct == 0 else f"{r.pct:.1f}%",
                   fmt_int(r.amount_sen)) for r in rows)
    total = ("合計", "", f"{sum(r.pct for r in rows):.1f}%", fmt_int(sum(r.amount_sen for r in rows)))
    blocks.append(Table(SHARE_TABLE_HEADER, (*table, total), widths=(3, 3, 2, 3), align="llrr", caption=caption,
                        total_rows=1))
    blocks.append(Para(f"負担額は、効果試算のシナリオ「{e.scenario_name}」の予定価格（{e.period_ja}）を、"
                       "団体ごとの契約はその団体に、共同の契約はこの規則で各団体に分けた額です。"
                       "負担割合は予定価格の合計に対する各団体の負担額の割合です。", small=True))
    return blocks


def sector_lines(facilities: tuple[FacilityRow, ...]) -> tuple[tuple[str, str, str], ...]:
    """Per sector (in order of first appearance): its facility count and each member's count, and the types —
    empty unless the facilities span two or more sectors (a 多分野 lot)."""
    by_sector: dict[str, list[FacilityRow]] = {}
    for f in facilities:
        by_sector.setdefault(f.sector_ja, []).append(f)
    if len(by_sector) < 2:
        return ()
    out = []
    for sector, rows in by_sector.items():
        members = Counter(f.manager_name for f in rows)
        types = Counter(f.facility_type_ja for f in rows)
        out.append((sector or "分野の記録なし",
                    f"{len(rows):,}施設（" + "、".join(f"{n}（{c:,}施設）" for n, c in members.items()) + "）",
                    "、".join(f"{t} {c:,}" for t, c in types.most_common())))
    return tuple(out)
