"""協定書 (agreement) draft among the members for the group's chosen legal mechanism.

Parties are labelled 甲乙丙… in member order (observers do not sign).  The articles cover purpose,
scope, the mechanism, roles, the 本来管理者's responsibility (not transferred — the guide's 心得),
cost sharing with the computed shares, data, coordination, term and disputes; then the signature
block with the date left blank.  The wording is a draft for the members' legal sections: the
document says so at the top.
"""

from __future__ import annotations

from collections import Counter

from gunmane.io.documents.blocks import Block, Doc, Heading, Note, Para, Table
from gunmane.io.documents.checker import check_document
from gunmane.io.documents.common import (
    ACCOUNTABILITY,
    DEFAULT_KEPT_JUDGEMENTS,
    conflict_notes,
    cost_share_blocks,
    head_blocks,
    is_observer,
    kept_judgements,
    lead_member,
    meta_lines,
    parties,
    sector_lines,
    signatory_title,
    unique_judgements,
)
from gunmane.io.documents.formatting import wareki_year
from gunmane.io.documents.inputs import DocumentInput, MemberInfo
from gunmane.io.documents.render_docx import render_docx
from gunmane.io.documents.render_pdf import render_pdf

__all__ = ["DRAFT_NOTE", "OWNER_ARTICLE_TITLE", "agreement_doc", "agreement_docx", "agreement_pdf",
           "agreement_title"]

DRAFT_NOTE = ("【草案】この協定書は、群のデータから作成した草案です。条文の文言、根拠条項、議会の議決の要否は、"
              "各団体の法務担当（文書・法制担当）の審査を経て確定してください。")
OWNER_ARTICLE_TITLE = "本来管理者の責任"
KANJI_NUMERALS = "〇一二三四五六七八九"


def _instrument(key: str) -> str:
    return "連携協約書" if key == "partnership" else "協定書"


def agreement_title(inp: DocumentInput) -> str:
    return f"{inp.group_name}における\n地域インフラ群再生戦略マネジメントの実施に関する{_instrument(inp.mechanism.key)}（案）"


def _kanji(n: int) -> str:
    """Clause item numbers as in statutes: (1) → （一）… up to 99."""
    if n < 10:
        return KANJI_NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else KANJI_NUMERALS[tens]) + "十" + ("" if ones == 0 else KANJI_NUMERALS[ones])


class _Articles:
    """Numbers the articles (第1条…) and their paragraphs (2, 3 … as in Japanese agreements)."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.n = 0

    def add(self, title: str, *paragraphs: str, items: tuple[str, ...] = (), after: list[Block] | None = None) -> None:
        self.n += 1
        self.blocks.append(Heading(f"第{self.n}条（{title}）", 2))
        for k, text in enumerate(paragraphs, start=1):
            self.blocks.append(Para(text if k == 1 else f"{k}　{text}", hanging=0 if k == 1 else 1))
            if k == 1 and items:
                self.blocks += [Para(f"（{_kanji(j)}）{item}", indent=1, hanging=2)
                                for j, item in enumerate(items, start=1)]
        self.blocks += after or []


def _who(labels: list[str]) -> str:
    return "、".join(labels[:-1]) + "及び" + labels[-1] if len(labels) > 1 else "".join(labels)


def _scope_table(inp: DocumentInput) -> list[Block]:
    by_member: Counter[str] = Counter()
    types: dict[str, Counter[str]] = {}
    seen: set[tuple[str, str]] = set()
    for lot in inp.lots:
        for f in lot.facilities:
            if (f.lg_code, f.facility_id) in seen:  # a facility in two lots (inspection and repair design) is one
                continue
            seen.add((f.lg_code, f.facility_id))
            by_member[f.lg_code] += 1
            types.setdefault(f.lg_code, Counter())[f.facility_type_ja] += 1
    if not by_member:
        return []
    rows = tuple((m.name, f"{by_member[m.lg_code]:,}",
                  "、".join(f"{t} {c:,}" for t, c in types[m.lg_code].most_common()))
                 for m in inp.members if by_member[m.lg_code])
    total = ("合計", f"{sum(by_member.values()):,}", "")
    out: list[Block] = [Table(("団体", "対象施設数", "施設の種類"), (*rows, total), widths=(1.5, 1, 3), align="lrl",
                              caption="別表第1　対象施設の概要", total_rows=1)]
    unique = {(f.lg_code, f.facility_id): f for lot in inp.lots for f in lot.facilities}
    per_sector = sector_lines(tuple(unique.values()))
    if per_sector:  # a 多分野 group: each sector's facilities and the members that manage (and pay for) them
        out.append(Table(("分野", "対象施設数（団体ごと）", "施設の種類"), per_sector, widths=(1, 3, 2.5), align="lll",
                         caption="別表第1の2　分野ごとの対象施設"))
    return out


def _mechanism_article(inp: DocumentInput, a: _Articles, who: str) -> None:
    mech = inp.mechanism
    basis = f"（{mech.article_ja}）" if mech.article_ja else ""
    first = f"{who}は、{mech.name_ja}{basis}により連携して、前条の業務を実施する。"
    paragraphs = [first, f"前項の連携における権限の所在は、「{mech.authority_ja.rstrip('。')}」とする。"]
    if mech.key == "agreement":
        paragraphs.append("この協定は、各団体の権限を他の団体に移すものではなく、各団体は自らの名において契約し、事務を執行する。")
    if mech.needs_resolution:
        paragraphs.append(f"{mech.name_ja}に関し必要な事項は、各団体の議会の議決を経て別に定める規約による。")
    a.add("連携の方法", *paragraphs)


def _owner_items(inp: DocumentInput) -> tuple[str, ...]:
    """The judgements every owner keeps: the 心得's minimum, each member's own, and accountability — each once
    (two wordings of one judgement, 「通行止め・緊急措置の判断」 and 「通行止め・通行規制など供用に関する判断」, are one item)."""
    items = list(DEFAULT_KEPT_JUDGEMENTS)
    for m in inp.members:
        items += kept_judgements(inp, m)
    return unique_judgements([*items, ACCOUNTABILITY])


def _term(inp: DocumentInput) -> str:
    """The agreement runs to the end of the schedule's last year (the period of the effect estimate)."""
    end = inp.period_end
    if end is None:
        return "この協定の有効期間は、締結の日から別に協議して定める日までとする。"
    return f"この協定の有効期間は、締結の日から{wareki_year(end + 1)}3月31日（{end}年度の末日）までとする。"


def _signature(label: str, m: MemberInfo, width: int) -> list[Block]:
    """「甲　宇陀市」 and, under it, the signatory with 印 in one column for every party."""
    title = signatory_title(m)
    return [Para(f"{label}　{m.name}", indent=14),
            Para(title + "　" * max(2, width - len(title)) + "印", indent=16)]


def agreement_doc(inp: DocumentInput) -> Doc:
    """The 協定書 draft as neutral blocks (rendered by :func:`agreement_docx` and :func:`agreement_pdf`)."""
    ps = parties(inp)
    labels = [label for label, _ in ps]
    who = _who(labels)
    mech = inp.mechanism
    blocks: list[Block] = [*head_blocks(inp), Note(DRAFT_NOTE, "draft")]
    if mech.needs_resolution:
        blocks.append(Note(f"{mech.name_ja}（{mech.article_ja}）は、各団体の議会の議決を要します。"
                           "議決の時期を年度のスケジュールに組み込んでください。", "info"))
    preamble = "、".join(f"{m.name}（以下「{label}」という。）" for label, m in ps)
    blocks.append(Para(f"{preamble}は、{inp.group_name}における{'・'.join(inp.sectors_ja) or 'インフラ'}の施設の維持管理を、"
                       f"団体の枠を越えて束ねて効率的かつ持続的に行うため、次のとおり協定を締結する。"))

    a = _Articles()
    a.add("目的", f"この協定は、{who}が連携して、地域インフラ群再生戦略マネジメント（群マネ）により"
                  f"{'・'.join(inp.work_kinds_ja) or '維持管理の業務'}を束ねて実施し、施設の安全の確保、"
                  "維持管理の効率化及び技術力の確保を図ることを目的とする。")
    scope = _scope_table(inp)
    a.add("対象",
          f"この協定の対象とする分野は{'・'.join(inp.sectors_ja) or '別に協議して定める分野'}とし、"
          f"業務は{'・'.join(inp.work_kinds_ja) or '別に協議して定める業務'}とする。",
          f"対象区域は、{inp.target_area_ja or '別に協議して定める区域'}とする。",
          "対象施設は、各団体が管理する施設のうち別表第1に掲げるものとし、その詳細は発注ロットごとの仕様書に定める。"
          if scope else "対象施設は、各団体が管理する施設のうちから、別に協議して定める。",
          after=scope)
    _mechanism_article(inp, a, who)

    role_rows = tuple((label, m.name, m.role_ja, "、".join(unique_judgements(m.delegated_tasks)) or "なし",
                       "、".join(kept_judgements(inp, m)) or "—（対象施設なし）") for label, m in ps)
    lead = lead_member(inp)
    lead_text = f"{lead.name}は幹事として、共同で行う発注の準備及び団体間の連絡調整を行う。" if lead else ""
    a.add("役割分担", "各団体の役割、群又は他の団体に委ねる業務及び本来管理者として保持する判断は、別表第2のとおりとする。",
          *([lead_text] if lead_text else []),
          after=[Table(("記号", "団体", "役割", "委ねる業務", "保持する判断"), role_rows, widths=(0.7, 1.5, 1.7, 3, 3),
                       align="cllll", caption="別表第2　各団体の役割"), *conflict_notes(inp)])
    a.add(OWNER_ARTICLE_TITLE,
          "各団体は、その管理する施設の本来管理者として、次に掲げる判断及び責任を自ら保持する。",
          "この協定により、前項の判断及び責任は、他の団体、幹事その他の団体又は受注者に移転しない。",
          "他の団体又は受注者が行った点検等の結果は、当該施設の本来管理者が確認し、自らの判断により健全性の診断を行う。",
          items=_owner_items(inp))

    share_blocks = cost_share_blocks(inp, caption="別表第3　費用の負担割合")
    a.add("費用負担",
          "この協定に基づく業務に要する費用は、各団体が次項の方法により負担する。",
          f"費用負担の方法は、{inp.cost_share.label_ja}とし、各団体の負担割合と負担額の見込みは別表第3のとおりとする。",
          "各年度の負担額は、各団体の予算の範囲内で、" + who + "が協議して定める。複数年度にわたる契約については、"
          "各団体において債務負担行為を設定する。",
          after=share_blocks[1:])
    a.add("データの所有と共有", inp.data_policy_ja,
          "各団体は、共有されたデータを群の業務以外の目的に利用せず、個人情報及び公表を予定しない情報を適切に管理する。",
          "群の業務で作成された点検記録等の成果は、当該施設の本来管理者に帰属する。")
    a.add("連絡調整", f"{who}は、この協定の円滑な実施のため、各団体の担当者で構成する連絡調整会議を置く。",
          "連絡調整会議は、業務の実施状況、要求水準の達成状況及び次期の取組について協議する。")
    a.add("有効期間", _term(inp),
          "期間満了の日の3か月前までにいずれの団体からも申出がないときは、この協定は更に1年間延長されるものとし、以後も同様とする。",
          "団体がこの協定から脱退しようとするときは、脱退しようとする日の6か月前までに他の団体に書面で通知する。")
    disputes = ["この協定に定めのない事項又はこの協定の解釈について疑義が生じた事項は、" + who + "が誠意をもって協議して定める。"]
    if mech.key == "partnership":
        disputes.append("前項の協議が調わないときは、各団体は、地方自治法第252条の2第7項の規定により、"
                        "自治紛争処理委員による紛争を処理するための方策の提示を求めることができる。")
    a.add("協議", *disputes)
    blocks += a.blocks

    observers = [m.name for m in inp.members if is_observer(m)]
    if observers:
        blocks.append(Para(f"{'・'.join(observers)}は、オブザーバーとして連絡調整会議に参加し、この協定の当事者とならない。",
                           small=True))
    blocks += [Para("　"),
               Para(f"この協定の締結を証するため、本書{len(ps)}通を作成し、{who}が記名押印の上、各自1通を保有する。"),
               Para("令和　　年　　月　　日", indent=2)]
    width = max((len(signatory_title(m)) for _, m in ps), default=0) + 6
    for label, m in ps:
        blocks += _signature(label, m, width)
    return Doc(title=agreement_title(inp), meta=meta_lines(inp),
               running_title=f"{inp.group_name}　{_instrument(mech.key)}（案）", blocks=tuple(blocks),
               subject="群マネ協定書（案）", synthetic=inp.synthetic, author=inp.author_ja, keywords=("群マネ", "協定書", inp.group_name))


def agreement_docx(inp: DocumentInput) -> bytes:
    """The 協定書 draft as .docx bytes (editable in Word)."""
    return render_docx(check_document(agreement_doc(inp), inp))


def agreement_pdf(inp: DocumentInput) -> bytes:
    """The 協定書 draft as PDF bytes (A4 portrait)."""
    return render_pdf(check_document(agreement_doc(inp), inp))
