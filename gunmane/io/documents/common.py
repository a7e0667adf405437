"""Pieces shared by the three writers: the title block, the synthetic notice, parties and roles,
the 本来管理者 rule of the guide's 心得, and the cost-share table."""

from __future__ import annotations

from collections.abc import Sequence

from gunmane.io.documents.blocks import Block, Note, Para, Table
from gunmane.io.documents.formatting import date_label, fmt_pct, fmt_sen, rounded_shares
from gunmane.io.documents.inputs import DocumentInput, MemberInfo

__all__ = ["DEFAULT_KEPT_JUDGEMENTS", "PARTY_LABELS", "SYNTHETIC_NOTICE", "cost_share_blocks", "head_blocks",
           "judgement_conflicts", "kept_judgements", "lead_member", "meta_lines", "owns_facilities",
           "parties", "signatory_title"]

SYNTHETIC_NOTICE = ("【合成データ】この文書には架空の施設・数値（デモ用の合成データ）が含まれます。"
                    "実在の施設・点検結果ではありません。")
PARTY_LABELS = "甲乙丙丁戊己庚辛壬癸"

# The judgements the guide's 心得 keep with the 本来管理者 whatever is delegated (gunmane-policy.md §4.3).
DEFAULT_KEPT_JUDGEMENTS = ("健全性の診断（判定区分の決定）", "通行止め・通行規制など供用に関する判断")
_JUDGEMENT_WORDS = ("健全性", "判定", "診断", "通行止", "通行規制", "供用", "廃止", "撤去")


def meta_lines(inp: DocumentInput) -> tuple[str, ...]:
    return (f"第{inp.version}版", f"作成日　{date_label(inp.prepared_on)}")


def head_blocks(inp: DocumentInput) -> list[Block]:
    """The first blocks of every document: the synthetic notice when the figures are demo data."""
    return [Note(SYNTHETIC_NOTICE, "notice")] if inp.synthetic else []


def is_observer(m: MemberInfo) -> bool:
    return "オブザーバー" in m.role_ja


def is_supporting(m: MemberInfo) -> bool:
    return "支援" in m.role_ja


def owns_facilities(inp: DocumentInput, m: MemberInfo) -> bool:
    """Whether the member is the 本来管理者 of facilities in the group's scope: every member except a
    supporting prefecture or an observer — unless one of the lots holds its facilities."""
    in_lots = any(f.lg_code == m.lg_code for lot in inp.lots for f in lot.facilities)
    return in_lots or not (is_observer(m) or is_supporting(m))


def kept_judgements(inp: DocumentInput, m: MemberInfo) -> tuple[str, ...]:
    """The judgements the member keeps as 本来管理者; an owner that recorded none keeps the guide's
    minimum (health diagnosis and closure decisions) — the documents never print an owner without them."""
    if m.kept_judgements:
        return m.kept_judgements
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


def _shares_pct(shares: Sequence[float]) -> tuple[list[float], bool]:
    """Percentages to print and whether they add up to 100 % (then rounded to sum exactly)."""
    total = sum(shares)
    if abs(total - 1.0) <= 0.0005:
        return rounded_shares(shares), True
    return [round(s * 100, 1) for s in shares], False


def _no_share(m: MemberInfo) -> str:
    """A supporting prefecture without a share bears none; an owner without one is not yet computed."""
    return "負担なし" if is_supporting(m) else "未算定"


def cost_share_blocks(inp: DocumentInput, caption: str = "") -> list[Block]:
    """The cost-share rule and the computed shares (with the amount each member bears when an effect
    scenario gives the price)."""
    blocks: list[Block] = [Para(f"費用負担の方法：{inp.cost_share_rule_ja}")]
    members = [m for m in inp.members if not is_observer(m)]
    if all(m.cost_share is None for m in members):
        blocks.append(Para("各団体の負担割合は未算定です（効果試算で費用分担を計算すると、ここに割合が入ります）。"))
        return blocks
    shares = [m.cost_share or 0.0 for m in members]
    pct, sums_to_100 = _shares_pct(shares)
    price = inp.effects.scenario_price_yen if inp.effects is not None else None
    header: tuple[str, ...] = ("団体", "役割", "負担割合")
    if price is not None:
        header += ("負担額の目安",)
    rows: list[tuple[str, ...]] = []
    for m, p in zip(members, pct, strict=True):
        row: tuple[str, ...] = (m.name, m.role_ja, _no_share(m) if m.cost_share is None else f"{p:.1f}%")
        if price is not None:
            row += ("—" if m.cost_share is None else fmt_sen(price * (m.cost_share or 0.0)),)
        rows.append(row)
    total: tuple[str, ...] = ("合計", "", f"{sum(pct):.1f}%")
    if price is not None:
        total += (fmt_sen(price * sum(shares)),)
    rows.append(total)
    blocks.append(Table(header, tuple(rows), widths=(3, 3, 2, 3)[: len(header)], align="llrr"[: len(header)],
                        caption=caption, total_rows=1))
    if price is not None and inp.effects is not None:
        period = f"（{inp.effects.period_ja}）" if inp.effects.period_ja else ""
        blocks.append(Para(f"負担額の目安は、効果試算「{inp.effects.scenario_name}」の予定価格{fmt_sen(price)}"
                           f"{period}に負担割合を乗じた額です。", small=True))
    if not sums_to_100:
        blocks.append(Note(f"要確認：負担割合の合計が{fmt_pct(sum(shares))}で、100%になっていません。", "warning"))
    return blocks
