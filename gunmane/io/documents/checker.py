"""The consistency check every document passes before it is written (docx and PDF, every kind).

Pure: it reads the neutral blocks of a :class:`~gunmane.io.documents.blocks.Doc` (what will be printed) and
the :class:`~gunmane.io.documents.inputs.DocumentInput` it was built from, and refuses — with a Japanese
message naming each contradiction — a document that a council or a contract would take at its word when:

- the period in the text differs from the schedule table, or the schedule does not match the scenario's
  years, or starts before the fiscal year of the document's date;
- a fact in the text contradicts a table (engineers per member, the owners' totals) or a table contradicts
  the カルテ figures it was made from;
- a list names the same item twice (including two wordings of one owner's judgement);
- the shares do not add up to 100 %, the amounts to their total, or the total to the scenario's price, or an
  amount differs from the price the effects engine allocated to that member;
- text carries a formula (⌈ ⌉ Σ ~ E( … ), an operator between variables, or a program identifier).

``check_document`` returns the document unchanged when it passes, so the writers call it inline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from gunmane.engine.calendar import fiscal_year
from gunmane.io.documents.blocks import Bullets, Doc, Heading, Note, Para, Table
from gunmane.io.documents.common import judgement_topic
from gunmane.io.documents.figures import is_observer, is_supporting, share_rows
from gunmane.io.documents.formatting import UNKNOWN, fiscal_year_label
from gunmane.io.documents.inputs import DocumentInput, MemberInfo

__all__ = ["DocumentCheckError", "check_document", "problems"]


class DocumentCheckError(ValueError):
    """A document that contradicts itself or its inputs; ``problems`` are the contradictions in Japanese."""

    def __init__(self, title: str, problems: Iterable[str]) -> None:
        self.title = title
        self.problems = tuple(problems)
        listed = "\n".join(f"・{p}" for p in self.problems)
        super().__init__(f"「{title}」は作成できません。次の食い違いを直してください。\n{listed}")


def check_document(doc: Doc, inp: DocumentInput) -> Doc:
    """``doc`` if it is consistent; DocumentCheckError naming every contradiction otherwise."""
    found = problems(doc, inp)
    if found:
        raise DocumentCheckError(doc.title.replace("\n", " "), found)
    return doc


def problems(doc: Doc, inp: DocumentInput) -> list[str]:
    """Every contradiction of ``doc`` (empty when it is consistent), each named once."""
    out: list[str] = []
    for check in (_schedule, _period_statements, _member_table, _text_facts, _repeats, _shares, _member_prices,
                  _formulas):
        for p in check(doc, inp):
            if p not in out:
                out.append(p)
    return out


# --------------------------------------------------------------------------- reading the blocks


@dataclass(frozen=True)
class _Text:
    text: str
    user: bool   # typed by the group (issues, notes, area, bundles, plans): only facts and formulas are checked


def _user_texts(inp: DocumentInput) -> set[str]:
    texts = {*inp.issues, *inp.notes, inp.effects_note, inp.target_area_ja, *(v for _, v in inp.bundles), inp.group_name}
    texts |= {p for m in inp.members for p in m.plans}
    texts |= {x for lot in inp.lots for f in lot.facilities for x in (f.name, f.route, f.facility_id)}
    return {t for t in texts if t}


def _texts(doc: Doc, inp: DocumentInput, *, tables: bool = True) -> Iterator[_Text]:
    user = _user_texts(inp)

    def mark(t: str) -> _Text:
        return _Text(t, any(u and u in t for u in user))

    for line in (doc.title, *doc.meta):
        yield mark(line)
    for b in doc.blocks:
        if isinstance(b, Heading | Para | Note):
            yield mark(b.text)
        elif isinstance(b, Bullets):
            yield from (mark(i) for i in b.items)
        elif isinstance(b, Table) and tables:
            yield from (mark(c) for c in (b.caption, *b.header))
            yield from (mark(c) for row in b.rows for c in row)


def _tables(doc: Doc, *header_words: str) -> list[Table]:
    return [b for b in doc.blocks if isinstance(b, Table) and all(any(w in h for h in b.header) for w in header_words)]


def _column(t: Table, word: str) -> int | None:
    return next((k for k, h in enumerate(t.header) if word in h), None)


def _body_rows(t: Table) -> tuple[tuple[str, ...], ...]:
    return t.rows[: len(t.rows) - t.total_rows] if t.total_rows else t.rows


def _int(cell: str) -> int | None:
    digits = cell.replace(",", "").replace("−", "-").strip()
    m = re.fullmatch(r"-?\d+", digits)
    return int(digits) if m else None


# --------------------------------------------------------------------------- schedule and period

_FY = re.compile(r"（(\d{4})年度）")
_RANGE = re.compile(r"(\d{4})〜(\d{4})年度の(\d+)年間")
_SINGLE = re.compile(r"（?(\d{4})年度）?の1年間")
_TERM_END = re.compile(r"（(\d{4})年度の末日）")


def _years_ja(a: int | None, b: int | None) -> str:
    if a is None or b is None:
        return "なし"
    return fiscal_year_label(a) if a == b else f"{fiscal_year_label(a)}〜{fiscal_year_label(b)}"


def _schedule(doc: Doc, inp: DocumentInput) -> Iterator[str]:
    years = sorted(s.fiscal_year for s in inp.schedule)
    if len(set(years)) != len(years):
        yield "スケジュールに同じ年度が2回あります。"
    period = [s.fiscal_year for s in inp.period]
    if period and period != list(range(period[0], period[0] + len(period))):
        yield f"スケジュールの実施の年度（{'・'.join(map(str, period))}年度）が連続していません。"
    fy = fiscal_year(inp.prepared_on)
    if years and years[0] < fy:
        yield (f"スケジュールが{fiscal_year_label(years[0])}から始まり、文書の作成日の年度（{fiscal_year_label(fy)}）より"
               "前の年度を含みます。効果試算または群の設定の開始年度を見直してください。")
    e = inp.effects
    if e is not None and tuple(period) != e.years:
        yield (f"スケジュールの実施の期間（{_years_ja(inp.period_start, inp.period_end)}）が、効果試算の期間"
               f"（{_years_ja(e.start_fiscal_year, e.end_fiscal_year)}）と一致しません。")
    for t in _tables(doc, "年度", "内容"):
        shown = [int(m.group(1)) for row in t.rows for m in [_FY.search(row[0])] if m]
        if shown != years:
            yield (f"スケジュールの表の年度（{'・'.join(map(str, shown)) or 'なし'}）が、スケジュールの年度"
                   f"（{'・'.join(map(str, years)) or 'なし'}）と一致しません。")


def _period_statements(doc: Doc, inp: DocumentInput) -> Iterator[str]:
    """Every statement of a period (「2027〜2031年度の5年間」, 取組の期間, the agreement's term) against the schedule."""
    a, b, n = inp.period_start, inp.period_end, inp.period_years
    for t in _texts(doc, inp):
        if t.user:
            continue
        for m in _RANGE.finditer(t.text):
            x, y, k = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if k != y - x + 1:
                yield f"「{m.group(0)}」は{y - x + 1}年間です（{k}年間と書かれています）。"
            elif (x, y) != (a, b):
                yield (f"本文の期間「{m.group(0)}」が、スケジュールの実施の期間（{_years_ja(a, b)}、{n}年間）と"
                       "一致しません。")
        for m in _SINGLE.finditer(t.text):
            if (int(m.group(1)), int(m.group(1))) != (a, b):
                yield f"本文の期間「{m.group(0)}」が、スケジュールの実施の期間（{_years_ja(a, b)}、{n}年間）と一致しません。"
        if "取組の期間" in t.text:
            stated = re.search(r"(\d+)年間", t.text)
            if stated is None or int(stated.group(1)) != n:
                yield (f"「{t.text}」が、スケジュールの表の実施の年度数（{n}年間：{_years_ja(a, b)}）と一致しません。")
        for m in _TERM_END.finditer(t.text):
            if int(m.group(1)) != b:
                yield (f"協定の有効期間の終わり（{m.group(1)}年度の末日）が、スケジュールの最後の年度"
                       f"（{_years_ja(b, b)}）と一致しません。")


# --------------------------------------------------------------------------- facts: tables against the カルテ, text against tables

_MEMBER_COLUMNS = (("橋梁数", "bridges", "橋梁数"), ("Ⅲ・Ⅳ判定", "bridges_iii_iv", "Ⅲ・Ⅳ判定の橋梁数"),
                   ("土木技術職員", "civil_engineers", "土木技術職員"))


def _member_table(doc: Doc, inp: DocumentInput) -> Iterator[str]:
    by_name = {m.name: m for m in inp.members}
    for t in _tables(doc, "土木技術職員"):
        names = [row[0] for row in _body_rows(t)]
        expected = [m.name for m in inp.members]
        if names != expected:
            yield f"構成団体の表の団体（{'・'.join(names)}）が構成団体（{'・'.join(expected)}）と一致しません。"
        for word, attr, label in _MEMBER_COLUMNS:
            k = _column(t, word)
            if k is None:
                continue
            for row in _body_rows(t):
                m = by_name.get(row[0])
                if m is None:
                    continue
                value = getattr(m, attr)
                shown = None if row[k] == UNKNOWN else _int(row[k])
                if shown != value:
                    yield (f"構成団体の表の{m.name}の{label}「{row[k]}」が、カルテの値"
                           f"（{UNKNOWN if value is None else f'{value:,}'}）と一致しません。")


_ENGINEER_SENTENCE = re.compile(r"[^。]*土木技術職員[^。]*")
_RANGE_PEOPLE = re.compile(r"([\d,]+)\s*[〜～~\-－]\s*([\d,]+)\s*人")
_PEOPLE = re.compile(r"([\d,]+)\s*人")
_OWNER_TOTAL = re.compile(r"(橋梁|うちⅢ・Ⅳ判定|土木技術職員)は計([\d,]+)(?:橋|人)")
_GROUP_WORDS = {"村": ("村",), "町": ("町",), "市": ("市",)}


def _owners(inp: DocumentInput) -> list[MemberInfo]:
    return [m for m in inp.members if not (is_observer(m) or is_supporting(m))]


def _referred(sentence: str, inp: DocumentInput) -> list[MemberInfo]:
    """The members a sentence speaks about: those it names, else 「村は…」 the villages (町, 市 likewise), else all
    members that manage facilities."""
    named = [m for m in inp.members if m.name in sentence]
    if named:
        return named
    for word, suffixes in _GROUP_WORDS.items():
        if re.search(rf"(?:^|[（(、。・\s]|各){word}(?:は|では|の|に|が|で)", sentence):
            return [m for m in _owners(inp) if m.kind_ja == word or m.name.endswith(suffixes)]
    return _owners(inp)


def _stated_range(sentence: str) -> tuple[int, int] | None:
    """The number of engineers a sentence states (after the word 土木技術職員): a range, one number, or none (0)."""
    tail = sentence[sentence.index("土木技術職員"):]
    if re.match(r"土木技術職員(?:は|が)?(?:い|お)(?:ません|ない)", tail):
        return (0, 0)
    if m := _RANGE_PEOPLE.search(tail):
        return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))
    if m := _PEOPLE.search(tail):
        return int(m.group(1).replace(",", "")), int(m.group(1).replace(",", ""))
    return None


def _text_facts(doc: Doc, inp: DocumentInput) -> Iterator[str]:
    for t in _texts(doc, inp, tables=False):
        for sentence in _ENGINEER_SENTENCE.findall(t.text):
            if _OWNER_TOTAL.search(sentence):
                continue  # a total, checked below
            stated = _stated_range(sentence)
            if stated is None:
                continue
            lo, hi = stated
            shown = f"{lo}人" if lo == hi else f"{lo}〜{hi}人"
            who = _referred(sentence, inp)
            unknown = [m.name for m in who if m.civil_engineers is None]
            outside = [f"{m.name} {m.civil_engineers}人" for m in who
                       if m.civil_engineers is not None and not lo <= m.civil_engineers <= hi]
            if unknown:
                yield (f"本文「{sentence.strip()}」は土木技術職員を{shown}としていますが、構成団体の表では"
                       f"{'・'.join(unknown)}の土木技術職員は「{UNKNOWN}」です。本文を直すか、カルテの値を登録してください。")
            if outside:
                yield (f"本文「{sentence.strip()}」は土木技術職員を{shown}としていますが、構成団体の表では"
                       f"{'・'.join(outside)}です。")
        for m in _OWNER_TOTAL.finditer(t.text):
            attr = {"橋梁": "bridges", "うちⅢ・Ⅳ判定": "bridges_iii_iv", "土木技術職員": "civil_engineers"}[m.group(1)]
            known = [getattr(x, attr) for x in _owners(inp) if getattr(x, attr) is not None]
            if int(m.group(2).replace(",", "")) != sum(known):
                yield f"本文「{m.group(0)}」が、構成団体の表の合計（{sum(known):,}）と一致しません。"


# --------------------------------------------------------------------------- repeated items

_CLAUSE_ITEM = re.compile(r"^（[一二三四五六七八九十〇]+）")
_LIST_COLUMNS = ("委ねる業務", "保持する判断")


def _duplicates(items: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    out = []
    for item in items:
        key = judgement_topic(item)
        if key in seen:
            first = seen[key]
            out.append(f"「{first}」と「{item}」" if first != item else f"「{item}」")
        else:
            seen[key] = item
    return out


def _repeats(doc: Doc, inp: DocumentInput) -> Iterator[str]:
    lists: list[tuple[str, list[str]]] = []
    clause: list[str] = []
    heading = ""
    for b in (*doc.blocks, Heading("")):
        if isinstance(b, Para) and _CLAUSE_ITEM.match(b.text):
            clause.append(_CLAUSE_ITEM.sub("", b.text))
            continue
        if clause:
            lists.append((heading, clause))
            clause = []
        if isinstance(b, Heading):
            heading = b.text
        elif isinstance(b, Bullets):
            lists.append((heading, list(b.items)))
        elif isinstance(b, Table):
            for k, h in enumerate(b.header):
                if any(w in h for w in _LIST_COLUMNS):
                    lists += [(f"{heading}の表（{row[0]}の{h}）", row[k].split("、")) for row in b.rows]
    for where, items in lists:
        for d in _duplicates([i for i in items if i]):
            yield f"{where or '本文'}の列挙で{d}が重複しています。"


# --------------------------------------------------------------------------- shares and amounts

_PCT = re.compile(r"(−?[\d.]+)%")


def _shares(doc: Doc, inp: DocumentInput) -> Iterator[str]:
    expected = {r.name: r for r in share_rows(inp)}
    for t in _tables(doc, "負担割合"):
        kp, ka = _column(t, "負担割合"), _column(t, "負担額")
        assert kp is not None
        body = _body_rows(t)
        pct: list[float] = []
        for row in body:
            m = _PCT.search(row[kp])
            pct.append(float(m.group(1).replace("−", "-")) if m else 0.0)
        if abs(sum(pct) - 100.0) > 0.05:
            yield f"負担割合の合計が{sum(pct):.1f}%で、100%になっていません。"
        if t.total_rows:
            total = t.rows[-1]
            m = _PCT.search(total[kp])
            if m is None or abs(float(m.group(1)) - sum(pct)) > 0.05:
                yield f"負担割合の合計の行（{total[kp]}）が、各団体の割合の合計（{sum(pct):.1f}%）と一致しません。"
        names = [row[0] for row in body]
        signing = [m.name for m in inp.members if not is_observer(m)]
        if names != signing:
            yield f"負担割合の表の団体（{'・'.join(names)}）が、協定の当事者（{'・'.join(signing)}）と一致しません。"
        if ka is None:
            continue
        amounts = [_int(row[ka]) or 0 for row in body]
        if t.total_rows:
            shown_total = _int(t.rows[-1][ka])
            if shown_total != sum(amounts):
                yield (f"負担額の合計の行（{t.rows[-1][ka]}千円）が、各団体の負担額の合計（{sum(amounts):,}千円）と"
                       "一致しません。")
        e = inp.effects
        if e is not None and abs(sum(amounts) * 1000 - e.scenario_price_yen) > 500:
            yield (f"負担額の合計（{sum(amounts):,}千円）が、効果試算のシナリオ「{e.scenario_name}」の予定価格"
                   f"（{round(e.scenario_price_yen / 1000):,}千円）と一致しません。")
        for row, amount, share in zip(body, amounts, pct, strict=True):
            r = expected.get(row[0])
            if r is not None and amount != r.amount_sen:
                yield (f"負担額の表の{row[0]}（{amount:,}千円）が、効果試算で{row[0]}に配分された予定価格"
                       f"（{r.amount_sen:,}千円）と一致しません。")
            if r is not None and abs(share - r.pct) > 0.05:
                yield f"負担割合の表の{row[0]}（{row[kp]}）が、効果試算による割合（{r.pct:.1f}%）と一致しません。"


def _member_prices(doc: Doc, inp: DocumentInput) -> Iterator[str]:
    """The table of each member's price: its scenario column equals the 負担額 (one figure), each column adds up
    to the group's total of the effects table."""
    e = inp.effects
    if e is None:
        return
    amounts = {r.name: r.amount_sen for r in share_rows(inp)}
    totals = {"基準の予定価格": round(e.baseline_price_yen / 1000), "シナリオの予定価格": round(e.scenario_price_yen / 1000)}
    for t in _tables(doc, "シナリオの予定価格"):
        for word, total in totals.items():
            k = _column(t, word)
            if k is None:
                continue
            values = [_int(row[k].removesuffix("千円")) or 0 for row in _body_rows(t)]
            if sum(values) != total:
                yield (f"団体ごとの{word}の合計（{sum(values):,}千円）が、群全体の{word.removesuffix('の予定価格')}の"
                       f"予定価格（{total:,}千円）と一致しません。")
            if word.startswith("シナリオ"):
                for row, v in zip(_body_rows(t), values, strict=True):
                    if row[0] in amounts and amounts[row[0]] != v:
                        yield (f"団体ごとの予定価格の表の{row[0]}（{v:,}千円）が、費用の負担割合の表の負担額"
                               f"（{amounts[row[0]]:,}千円）と一致しません。")


# --------------------------------------------------------------------------- formulas

_URL = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b[\w-]+(?:\.[\w-]+)*\.(?:jp|com|org|net)\b")
_SYMBOLS = "⌈⌉⌊⌋Σ∑∏√∫∞≤≥≈∈∀∃=＝~×÷"
_FORMULA = (
    (re.compile(f"[{re.escape(_SYMBOLS)}]"), "記号「{0}」"),
    (re.compile(r"[\u0370-\u03ff]"), "ギリシャ文字「{0}」"),
    (re.compile(r"[A-Za-z]\u0304|\u0304"), "上線付きの変数「{0}」"),
    (re.compile(r"\bE\s*[(\[⌈]"), "期待値の記号「{0}」"),
    (re.compile(r"(?<![A-Za-z0-9])[A-Za-z]\s*[+\-*/^]\s*[A-Za-z0-9(]"), "変数の式「{0}」"),
    (re.compile(r"[(\[（]\s*[A-Za-z]\s*[+\-*/,，]\s*[A-Za-z0-9]"), "変数の式「{0}」"),
    (re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"), "プログラムの名前「{0}」"),
    (re.compile(r"\b[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\b"), "プログラムの名前「{0}」"),
)


def _formulas(doc: Doc, inp: DocumentInput) -> Iterator[str]:
    for t in _texts(doc, inp):
        text = _URL.sub(" ", t.text)
        # names the group typed (facilities, routes, plans) may look like 「A-1」: only symbols are refused there
        for pattern, label in _FORMULA[:4] if t.user else _FORMULA:
            m = pattern.search(text)
            if m:
                start = max(0, m.start() - 12)
                snippet = text[start: m.end() + 12].strip()
                yield (f"「…{snippet}…」に{label.format(m.group(0))}があります。議会・住民・受注者に向けた文書には"
                       "数式やプログラムの名前を書かず、言葉で説明してください。")
                break
