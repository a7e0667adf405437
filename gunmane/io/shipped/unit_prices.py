"""A municipality's own unit prices for the LCC (対策の単価表): written as Excel/CSV, read back with checks.

The table is the shipped ``gunmane/data/lcc/actions.csv`` as a person reads it — facility types and grades by
name (橋梁, Ⅲ), money in yen — so a municipal engineer can download it, put in the prices of their own
contracts and upload it again (the web page ``analysis:unit_prices``). Every problem of an uploaded file is
listed at once, each naming the row, the column, the value and what was expected, in Japanese.

Rules:

* a row is identified by (施設の種類, 健全性); a pair that is not in the shipped table is refused, a pair written
  twice too; a pair left out keeps the shipped row (said in ``UnitPrices.kept``);
* prices are yen ≥ 0 as people type them (``90000``, ``90,000``, ``9万``, ``１，０００万円``); a row whose two
  prices are both 0 is refused (a measure would cost nothing); a price beyond a plausible bound is refused as
  a digit error;
* 対策 and 対策後の健全性 may be left blank (the shipped ones); 対策後の健全性 must be better than 健全性;
* 出典・根拠: the user's text; a row whose price differs from the shipped one while its source is still the
  shipped text gets ``own_source`` (e.g. 「宇陀市の単価（2026-12-07 登録）」) — a changed price never carries
  the shipped citation, and is no longer an assumption.

Pure: no Django.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gunmane.engine.lcc import ActionCost, LccParameters
from gunmane.io.errors import IoFileError
from gunmane.io.issues import Issue
from gunmane.io.ledger.tabular import TableError, open_table
from gunmane.io.safe_cells import neutralise_workbook, safe_csv_writer
from gunmane.io.shipped import vocab
from gunmane.io.values.amounts import parse_yen
from gunmane.io.values.parsing import InvalidValue, normalize_text, parse_grade

__all__ = ["COLUMNS", "UnitPriceFileError", "UnitPrices", "actions_from_json", "read_unit_prices",
           "unit_prices_csv", "unit_prices_xlsx"]

# (key, header as written in the file, what the column holds)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("facility_type", "施設の種類", "橋梁・横断歩道橋など（変えないでください）"),
    ("grade", "健全性", "点検で判定された健全性 Ⅱ〜Ⅳ（変えないでください）"),
    ("action", "対策", "その健全性で行う対策の名前（空欄なら既定の名前）"),
    ("per_m2_yen", "㎡あたりの単価（円）", "橋面積 1 ㎡ あたりの対策費（円）"),
    ("fixed_yen", "1件あたりの固定費（円）", "面積によらない 1 件あたりの費用（円）"),
    ("restores_to", "対策後の健全性", "対策のあとの健全性 Ⅰ〜Ⅲ（空欄なら既定）"),
    ("source", "出典・根拠", "単価の出典（契約の実績、見積りなど）"),
    ("assumption", "仮定値か", "「仮定値」の行は、出典のある値に置き換えてください（読み取りでは使いません）"),
)
HEADERS = {key: header for key, header, _ in COLUMNS}
GRADE_JA = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ")
# Bounds beyond which a price is a digit error rather than a price: the shipped renewal price is 448,000 円/㎡,
# the largest fixed cost 3,000,000 円.
MAX_PER_M2_YEN = 10_000_000.0
MAX_FIXED_YEN = 10_000_000_000.0


class UnitPriceFileError(IoFileError):
    """An uploaded unit-price table that cannot be used: every issue (row, column, value, what was expected)."""

    def __init__(self, name: str, issues: list[Issue]) -> None:
        self.issues = tuple(issues)
        first = issues[0] if issues else None
        super().__init__("unit_prices_invalid",
                         f"{name}: 単価表に直すところが {len(issues)} 件あります。どれも直してからもう一度アップロードして"
                         "ください（何も登録していません）。",
                         f"{name}: {len(issues)} problem(s) in the unit-price table; nothing was saved.",
                         file=name, row=first.row if first else None, column=first.column if first else None)


@dataclass(frozen=True)
class UnitPrices:
    """The actions of an uploaded table, the rows it changed and the shipped rows it left out (kept)."""

    actions: tuple[ActionCost, ...]
    changed: tuple[str, ...]  # 「橋梁 Ⅲ」 … whose price differs from the shipped one
    kept: tuple[str, ...]  # pairs not in the file: the shipped row is used

    def as_json(self) -> list[dict[str, Any]]:
        return [a.as_json() for a in self.actions]


def actions_from_json(rows: list[dict[str, Any]]) -> tuple[ActionCost, ...]:
    """The actions stored as :meth:`UnitPrices.as_json` (ActionCost.as_json) back as ActionCost."""
    return tuple(ActionCost(facility_type=r["facility_type"], grade=int(r["grade"]), action_ja=r["action"],
                            per_m2_yen=float(r["per_m2_yen"]), fixed_yen=float(r["fixed_yen"]),
                            restores_to=int(r["restores_to"]), source=r["source"], assumption=bool(r["assumption"]))
                 for r in rows)


def _type_names() -> dict[str, str]:
    return {t.code: t.name for t in vocab.facility_types()}


def _pair(a: ActionCost, names: dict[str, str]) -> str:
    return f"{names.get(a.facility_type, a.facility_type)} {GRADE_JA[a.grade - 1]}"


def _yen(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _rows(params: LccParameters) -> list[list[Any]]:
    names = _type_names()
    return [[names.get(a.facility_type, a.facility_type), GRADE_JA[a.grade - 1], a.action_ja, _yen(a.per_m2_yen),
             _yen(a.fixed_yen), GRADE_JA[a.restores_to - 1], a.source, "仮定値" if a.assumption else ""]
            for a in params.actions]


def unit_prices_csv(params: LccParameters) -> bytes:
    """The table as CSV (UTF-8 with BOM, which Excel opens in Japanese), header in the first row."""
    out = io.StringIO()
    w = safe_csv_writer(out, lineterminator="\r\n")
    w.writerow([h for _, h, _ in COLUMNS])
    for row in _rows(params):
        w.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def unit_prices_xlsx(params: LccParameters, *, title: str) -> bytes:
    """The table as an Excel workbook: a title row, the header, one row per facility type and grade; a second
    sheet 入力ルール explains the columns (the reader skips it)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "単価表"
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=13)
    fill = PatternFill("solid", fgColor="DDE7F5")
    for j, (_, header, _) in enumerate(COLUMNS, 1):
        c = ws.cell(row=3, column=j, value=header)
        c.font, c.fill = Font(bold=True), fill
    for i, row in enumerate(_rows(params), start=4):
        for j, v in enumerate(row, 1):
            c = ws.cell(row=i, column=j, value=v)
            if j in (4, 5):
                c.number_format = "#,##0"
    for letter, width in zip("ABCDEFGH", (12, 8, 44, 20, 22, 14, 70, 10), strict=True):
        ws.column_dimensions[letter].width = width
    guide = wb.create_sheet("入力ルール")
    guide.append(["列", "内容"])
    for _, header, note in COLUMNS:
        guide.append([header, note])
    guide.append([])
    guide.append(["金額は円で入力します（90000、90,000、9万 のどれでも）。行を消した種類・健全性は既定の単価のままです。"])
    guide.column_dimensions["A"].width = 24
    guide.column_dimensions["B"].width = 80
    neutralise_workbook(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _matcher() -> Any:
    wanted = {normalize_text(h).lower(): k for k, h, _ in COLUMNS}
    wanted.update({k: k for k, _, _ in COLUMNS})  # the shipped CSV's own column names

    def match(text: str) -> str | None:
        return wanted.get(normalize_text(text).lower())

    return match


class _Row:
    """One data row being checked: its cells by key and the issues found."""

    def __init__(self, name: str, number: int, cells: dict[str, Any], issues: list[Issue]) -> None:
        self.name, self.number, self.cells, self.issues = name, number, cells, issues

    def text(self, key: str) -> str:
        return normalize_text(self.cells.get(key))

    def free_text(self, key: str) -> str:
        """A text kept as written (NFKC would turn ㎡ into m2 and （ into ( in a citation), only trimmed."""
        v = self.cells.get(key)
        return "" if v is None else " ".join(str(v).split())

    def fail(self, key: str, code: str, ja: str, en: str) -> None:
        self.issues.append(Issue(self.number, HEADERS[key], self.free_text(key), code, ja, en, file=self.name))

    def grade(self, key: str, lo: int, hi: int, expected: str) -> int | None:
        raw = self.cells.get(key)
        try:
            g = parse_grade(raw).value
        except InvalidValue as exc:
            self.fail(key, exc.code, f"{HEADERS[key]}は{expected}で書いてください（{exc.message_ja}）。",
                      exc.message_en)
            return None
        if g is None or not lo <= g <= hi:
            self.fail(key, "grade_out_of_range", f"{HEADERS[key]}は{expected}で書いてください。",
                      f"Expected a grade {lo}–{hi}.")
            return None
        return g

    def money(self, key: str, cap: float) -> float | None:
        raw = self.text(key)
        if not raw:
            self.fail(key, "blank", "金額（円）を入力してください（0 円なら 0）。", "Enter an amount in yen.")
            return None
        try:
            x = float(self.cells[key]) if isinstance(self.cells.get(key), int | float) else parse_yen(raw)
        except ValueError as exc:
            self.fail(key, "not_an_amount", f"{exc}円の金額（例：90000、90,000、9万）を入力してください。",
                      "Enter an amount in yen.")
            return None
        if not math.isfinite(x) or x < 0:
            self.fail(key, "negative", "0 円以上の金額を入力してください。", "The amount must be ≥ 0.")
            return None
        if x > cap:
            self.fail(key, "implausible", f"{x:,.0f} 円は大きすぎます（{cap:,.0f} 円まで）。桁を確かめてください。",
                      f"{x:,.0f} yen exceeds {cap:,.0f}; check the digits.")
            return None
        return x


def _check_row(r: _Row, base: dict[tuple[str, int], ActionCost], by_name: dict[str, str],
               own_source: str) -> ActionCost | None:
    """The ActionCost of one row, or None after recording its issues."""
    type_text = r.text("facility_type")
    code = by_name.get(type_text.lower())
    if code is None:
        valid = "・".join(dict.fromkeys(n for n, c in by_name.items() if not n.isascii()))
        r.fail("facility_type", "unknown_facility_type", f"施設の種類は{valid}のどれかです（費用表にある種類）。",
               "Unknown facility type.")
    grade = r.grade("grade", 2, 4, "Ⅱ・Ⅲ・Ⅳ のどれか")
    per_m2 = r.money("per_m2_yen", MAX_PER_M2_YEN)
    fixed = r.money("fixed_yen", MAX_FIXED_YEN)
    if code is None or grade is None:
        return None
    shipped = base.get((code, grade))
    if shipped is None:
        r.fail("grade", "unknown_pair", f"{type_text}の健全性{GRADE_JA[grade - 1]}の対策は費用表にありません。",
               "No such row in the cost table.")
        return None
    restores = shipped.restores_to
    if r.text("restores_to"):
        restores = r.grade("restores_to", 1, grade - 1, f"、健全性{GRADE_JA[grade - 1]}より良い健全性（Ⅰ〜"
                           f"{GRADE_JA[grade - 2]}）") or 0
    if per_m2 is None or fixed is None or not restores:
        return None
    if per_m2 == 0 and fixed == 0:
        r.fail("per_m2_yen", "zero_cost", "㎡あたりの単価と1件あたりの固定費が両方 0 円です（対策の費用が 0 になります）。",
               "Both prices are 0.")
        return None
    same_price = (per_m2, fixed) == (shipped.per_m2_yen, shipped.fixed_yen)
    source = r.free_text("source")
    if normalize_text(source) in ("", normalize_text(shipped.source)):  # not changed by the user
        source = shipped.source if same_price else own_source
    assumption = shipped.assumption and source == shipped.source
    action = r.free_text("action")
    if normalize_text(action) in ("", normalize_text(shipped.action_ja)):
        action = shipped.action_ja
    return ActionCost(code, grade, action, per_m2, fixed, restores, source, assumption)


def read_unit_prices(path: Path, base: LccParameters, *, display_name: str | None = None,
                     own_source: str) -> UnitPrices:
    """Read and check an uploaded table (CSV in UTF-8 or CP932, or XLSX) against the shipped actions ``base``.

    Raises UnitPriceFileError with every issue, or TableError-derived IoFileError for a file that is not a table."""
    name = display_name or path.name
    table = open_table(path, _matcher(), display_name=name)
    missing = [HEADERS[k] for k in ("facility_type", "grade", "per_m2_yen", "fixed_yen") if k not in table.keys]
    if missing:
        raise TableError("missing_columns", f"{name}: 見出しに「{'」「'.join(missing)}」がありません。"
                         "ダウンロードした単価表の見出しのまま使ってください。", f"{name}: missing columns {missing}.")
    cols = {k: c.index for k, c in table.keys.items()}
    names = _type_names()
    shipped = {(a.facility_type, a.grade): a for a in base.actions}
    types = list(dict.fromkeys(a.facility_type for a in base.actions))
    by_name = {names.get(c, c).lower(): c for c in types} | {c: c for c in types}
    issues: list[Issue] = []
    seen: dict[tuple[str, int], int] = {}
    actions: list[ActionCost] = []
    for number, values in table.rows():
        cells = {k: values[i] if i < len(values) else None for k, i in cols.items()}
        row = _Row(name, number, cells, issues)
        a = _check_row(row, shipped, by_name, own_source)
        if a is None:
            continue
        key = (a.facility_type, a.grade)
        if key in seen:
            row.fail("grade", "duplicate", f"{_pair(a, names)}は {seen[key]} 行目にもあります（1 行にしてください）。",
                     "The same facility type and grade twice.")
            continue
        seen[key] = number
        actions.append(a)
    if not seen and not issues:
        issues.append(Issue(0, "", "", "empty", "単価の行がありません。", "No rows.", file=name))
    if issues:
        raise UnitPriceFileError(name, issues)
    kept = [a for k, a in shipped.items() if k not in seen]
    changed = [_pair(a, names) for a in actions
               if (a.per_m2_yen, a.fixed_yen) != (shipped[(a.facility_type, a.grade)].per_m2_yen,
                                                  shipped[(a.facility_type, a.grade)].fixed_yen)]
    order = {k: i for i, k in enumerate(shipped)}
    merged = sorted([*actions, *kept], key=lambda a: order[(a.facility_type, a.grade)])
    return UnitPrices(tuple(merged), tuple(changed), tuple(_pair(a, names) for a in kept))


def with_actions(params: LccParameters, actions: tuple[ActionCost, ...], edition: str) -> LccParameters:
    """``params`` with a municipality's actions, its edition label, and the assumption notes of those actions."""
    names = _type_names()
    notes = tuple(f"{names.get(a.facility_type, a.facility_type)} 健全性{GRADE_JA[a.grade - 1]}「{a.action_ja}」の費用は"
                  "仮定値です。" for a in actions if a.assumption)
    return replace(params, actions=actions, edition=edition, notes=notes)

