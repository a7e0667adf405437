"""Read the per-facility lists of the 道路メンテナンス年報 (MLIT yearly road maintenance report), XLSX.

Layout (shared/docs/domain/national-formats.md §1): one sheet, three header rows (row 1 a title, labels
in rows 2–3, spread over merged cells), data from row 4; columns A–J. The layout is recognised by the
header *text*, never by fixed column letters: the texts of the header rows are joined per column and
matched against the known labels (判定区分, 管理者名, 都道府県名, 架設年度, 橋梁名, ふりがな, 路線名 …).
A file whose header lacks any required label is refused with a message naming what was found.

Values: 判定区分 ``Ⅰ Ⅱ Ⅲ Ⅳ`` (also ASCII ``I``–``IV`` and digits) → 1–4; 架設年度 a 4-digit year or
``不明`` → None (never 0). Read with openpyxl in read-only mode, which takes only the base text of a
cell: the phonetic-guide (ルビ) runs of the shared strings are not appended.

Pure: rows are parsed and checked here; the registry (gunmane.web.registry.imports.national) resolves, matches
and writes them. A hostile or oversized workbook is refused (gunmane.io.limits) with a NationalFileError,
when it is opened or, for what only reading shows, from :meth:`NenpoFile.rows`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gunmane.io import limits
from gunmane.io.issues import Issue
from gunmane.io.national.common import NationalFileError
from gunmane.io.values.parsing import InvalidValue, normalize_text, parse_grade, parse_number, parse_year

__all__ = ["NenpoFile", "NenpoRow", "open_nenpo"]

HEADER_SCAN_ROWS = 6

# Column key → (Japanese label shown in errors, English, patterns on the normalised header text; first wins).
# Checked in this order: the reading before the name (施設名のふりがな contains 施設名).
_HEADER_PATTERNS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("reading", "ふりがな", "reading", ("ふりがな", "フリガナ", "よみがな", "ヨミガナ", "読み", "よみ", "カナ")),
    ("built_year", "架設年度", "construction year", ("架設年度", "架設年", "建設年度", "竣工年度")),
    ("inspection_year", "点検年度", "inspection year", ("点検年度", "点検実施年度", "診断年度")),
    ("grade", "判定区分", "soundness class", ("判定区分", "健全性", "判定")),
    ("manager", "管理者名", "manager", ("管理者名", "道路管理者", "管理者")),
    ("prefecture", "都道府県名", "prefecture", ("都道府県名", "都道府県")),
    ("municipality", "市区町村名", "municipality", ("市区町村名", "市区町村", "所在地")),
    ("route", "路線名", "route", ("路線名", "路線")),
    ("length_m", "橋長", "length", ("橋長", "延長")),
    ("width_m", "幅員", "width", ("幅員",)),
    ("name", "施設名", "name", ("橋梁名", "施設名", "橋名", "名称", "トンネル名")),
)
REQUIRED = ("grade", "manager", "prefecture", "built_year")
LABEL_JA = {k: ja for k, ja, _, _ in _HEADER_PATTERNS}
LABEL_EN = {k: en for k, _, en, _ in _HEADER_PATTERNS}

# The three bridge lists by manager class (file 01-1/01-2/01-3; sheet 橋梁点検結果（…）).
LIST_KINDS = {"01-1": "国土交通省", "01-2": "高速道路会社", "01-3": "地方公共団体"}
_LIST_FROM_SHEET = {v: k for k, v in LIST_KINDS.items()}

_ERA_OFFSET = {"r": 2018, "h": 1988, "令和": 2018, "平成": 1988}
_FILE_YEAR_RE = re.compile(r"(?<![a-z0-9])([rh])(\d{2})(?![0-9])", re.IGNORECASE)
_TITLE_YEAR_RE = re.compile(r"(令和|平成)\s*(元|\d{1,2})\s*年度|(20\d{2})\s*年度")


def _norm_header(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def match_label(text: str) -> str | None:
    """The column key of a joined header text, or None."""
    n = _norm_header(text)
    if not n:
        return None
    for key, _ja, _en, patterns in _HEADER_PATTERNS:
        for p in patterns:
            if unicodedata.normalize("NFKC", p) in n:
                return key
    return None


@dataclass(slots=True)
class NenpoRow:
    """One facility row of a list, as written (text) and parsed. ``built_year`` None means unknown."""

    file: str
    row: int
    fiscal_year: int
    list_kind: str
    name: str
    reading: str
    route: str
    built_year: int | None
    built_year_raw: str
    manager: str
    prefecture: str
    grade: int
    grade_raw: str
    inspection_year: int
    municipality: str = ""
    length_m: float | None = None
    width_m: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class NenpoFile:
    """An opened list: where its columns are, its fiscal year, and a stream of checked rows."""

    path: Path
    display_name: str
    sheet: str
    header_rows: tuple[int, ...]
    columns: dict[str, int]  # key → 0-based column index
    headers: list[str]  # joined header text of every column
    fiscal_year: int
    list_kind: str
    rows_estimate: int
    warnings: list[Issue] = field(default_factory=list)
    synthetic: bool = False  # the title says 合成データ (test and demo files): facilities are marked synthetic
    # The workbook opened to recognise the layout, kept for the first rows() (reading the shared strings of
    # a 140,000-row list again would cost seconds).
    _book: Any = field(default=None, repr=False)

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
            self._book = None

    def header_of(self, key: str) -> str:
        i = self.columns.get(key)
        return self.headers[i] if i is not None and self.headers[i] else LABEL_JA.get(key, key)

    def rows(self) -> Iterator[tuple[NenpoRow | None, list[Issue]]]:
        """(row, issues) for every non-blank data row; row None when it has an error (the issues say why).

        NationalFileError when the sheet turns out to be over a limit or broken while it is read.
        """
        from openpyxl import load_workbook

        book, self._book = self._book, None
        if book is None:
            try:
                book = load_workbook(self.path, read_only=True, data_only=True)
            except Exception as exc:  # noqa: BLE001 — a limit, or the file changed since it was opened
                raise _unreadable(self.display_name, exc) from exc
        try:
            ws = book[self.sheet]
            first = self.header_rows[-1] + 1
            parse = self._row_parser()
            lim = limits.current()
            last = first + lim.rows + limits.HEADER_ALLOWANCE
            source = enumerate(ws.iter_rows(min_row=first, values_only=True), start=first)
            while True:
                try:
                    number, cells = next(source)
                    if number > last:
                        raise limits.too_many_rows(number, lim.rows)
                    if len(cells) > lim.columns and any(c is not None for c in cells[lim.columns:]):
                        raise limits.too_many_columns(len(cells), lim.columns, row=number)
                except StopIteration:
                    return
                except Exception as exc:  # noqa: BLE001 — openpyxl on a broken sheet, or a limit
                    raise _unreadable(self.display_name, exc) from exc
                if not any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
                    continue
                yield parse(number, cells)
        finally:
            book.close()

    def _row_parser(self) -> Any:
        cols = self.columns
        name_i, reading_i, route_i = cols.get("name"), cols.get("reading"), cols.get("route")
        year_i, grade_i, manager_i, pref_i = cols["built_year"], cols["grade"], cols["manager"], cols["prefecture"]
        insp_i, muni_i, len_i = cols.get("inspection_year"), cols.get("municipality"), cols.get("length_m")
        width_i = cols.get("width_m")
        known = set(cols.values())
        extra_cols = [(i, h) for i, h in enumerate(self.headers) if i not in known and h]
        file, fy, kind = self.display_name, self.fiscal_year, self.list_kind
        today = date(fy + 1, 3, 31)  # no construction year after the list's fiscal year
        header = self.header_of

        def cell(cells: Sequence[Any], i: int | None) -> Any:
            return cells[i] if i is not None and i < len(cells) else None

        def parse(number: int, cells: Sequence[Any]) -> tuple[NenpoRow | None, list[Issue]]:
            issues: list[Issue] = []

            def bad(key: str, raw: Any, code: str, ja: str, en: str) -> None:
                issues.append(Issue(number, header(key), _text(raw), code, ja, en, file=file))

            name = _text(cell(cells, name_i))
            reading = _text(cell(cells, reading_i))
            if not name and not reading:
                bad("name", "", "name_missing", "施設名もふりがなも空欄です。どちらかが必要です",
                    "Both the name and its reading are blank; one of them is needed.")
            raw_year = cell(cells, year_i)
            built: int | None = None
            try:
                built = parse_year(raw_year, today=today).value
            except InvalidValue as exc:
                bad("built_year", raw_year, exc.code,
                    f"架設年度は西暦4桁（例: 1975）または「不明」で入力されているはずです（{exc.message_ja}）",
                    f"The construction year must be 4 digits (e.g. 1975) or 不明 ({exc.message_en}).")
            raw_grade = cell(cells, grade_i)
            grade: int | None = None
            try:
                grade = parse_grade(raw_grade).value
                if grade is None:
                    raise InvalidValue("grade_missing", "判定区分が空欄です", "The soundness class is blank.")
            except InvalidValue as exc:
                bad("grade", raw_grade, exc.code,
                    f"判定区分は Ⅰ・Ⅱ・Ⅲ・Ⅳ のいずれかのはずです（{exc.message_ja}）",
                    f"The soundness class must be one of Ⅰ, Ⅱ, Ⅲ, Ⅳ ({exc.message_en}).")
            manager = _text(cell(cells, manager_i))
            if not manager:
                bad("manager", "", "manager_missing", "管理者名が空欄です。管理者名が必要です",
                    "The manager is blank; it is required.")
            prefecture = _text(cell(cells, pref_i))
            if not prefecture:
                bad("prefecture", "", "prefecture_missing", "都道府県名が空欄です。47都道府県名のいずれかが必要です",
                    "The prefecture is blank; one of the 47 prefecture names is required.")
            inspection_year = fy
            if insp_i is not None:
                raw = cell(cells, insp_i)
                try:
                    y = parse_year(raw, today=today).value
                except InvalidValue:
                    y = None
                if y is not None and fy - 5 <= y <= fy:
                    inspection_year = y
            length, width = _size(cell(cells, len_i)), _size(cell(cells, width_i))
            if issues or grade is None:
                return None, issues
            extra = {h: t for i, h in extra_cols if (t := _text(cell(cells, i)))}
            return NenpoRow(file, number, fy, kind, name, reading, _text(cell(cells, route_i)), built,
                            normalize_text(raw_year), manager, prefecture, grade, _text(raw_grade),
                            inspection_year, _text(cell(cells, muni_i)), length, width, extra), issues

        return parse


def _size(raw: Any) -> float | None:
    """橋長・幅員 (m): a number cell, or a text the shared number parser accepts; anything else is left unknown
    (these columns are not verified in the published lists, so a strange value must not stop an import)."""
    if raw is None:
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    try:
        return parse_number(raw, minimum=0, unit_hint="m").value
    except InvalidValue:
        return None


def _unreadable(name: str, exc: BaseException) -> NationalFileError:
    """What openpyxl raised as the file's error: a limit or an XML entity refusal by name, else unreadable."""
    refusal = limits.refusal_from_exception(exc)
    if refusal is not None:
        return NationalFileError(Issue(refusal.row or 0, "", "", refusal.code, refusal.message_ja,
                                       refusal.message_en, file=name))
    return NationalFileError(Issue(
        0, "", "", "xlsx_unreadable",
        f"Excel ファイル（.xlsx）として開けません（{type(exc).__name__}）。"
        "国土交通省のページからダウンロードした .xlsx をそのまま指定してください。",
        f"Cannot open as an .xlsx workbook ({type(exc).__name__}).", file=name))


def _text(raw: Any) -> str:
    """Cell text as written (trimmed; Excel's integral floats without .0); the original, not NFKC."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _clean(raw: Any) -> str:
    """A header cell's text without line breaks or inner spaces (架設年度\n（西暦） → 架設年度（西暦））."""
    return re.sub(r"\s+", "", _text(raw))


def _fiscal_year_from(texts: Sequence[str]) -> int | None:
    for text in texts:
        n = unicodedata.normalize("NFKC", text)
        m = _TITLE_YEAR_RE.search(n)
        if m:
            if m[3]:
                return int(m[3])
            return _ERA_OFFSET[m[1]] + (1 if m[2] == "元" else int(m[2]))
    return None


def _fiscal_year_from_path(path: Path) -> int | None:
    for part in reversed(path.parts):
        m = _FILE_YEAR_RE.search(part.lower())
        if m:
            return _ERA_OFFSET[m[1].lower()] + int(m[2])
    return None


def open_nenpo(path: Path, *, fiscal_year: int | None = None, display_name: str | None = None) -> NenpoFile:
    """Open a 年報 list and recognise its layout; raise NationalFileError when it cannot.

    The fiscal year comes from ``fiscal_year`` (the option), else the title rows (令和7年度 / 2025年度),
    else the file's path (``r07/01-3.xlsx``: r + 令和 year of the inspection fiscal year).
    """
    from openpyxl import load_workbook

    name = display_name or (f"{path.parent.name}/{path.name}" if _FILE_YEAR_RE.fullmatch(path.parent.name.lower())
                            else path.name)

    def fail(code: str, ja: str, en: str, value: str = "") -> NationalFileError:
        return NationalFileError(Issue(0, "", value, code, ja, en, file=name))

    if path.suffix.lower() == ".xls":
        raise fail("xls_not_supported", "古い Excel 形式（.xls）は読めません。Excel で .xlsx 形式で保存し直してください。",
                   "Legacy .xls is not supported; save as .xlsx.")
    try:
        limits.inspect_xlsx(path)  # sizes, inflated bytes, entities, rows, strings: before openpyxl opens it
    except limits.FileRefused as exc:
        raise fail(exc.code, exc.message_ja, exc.message_en) from exc
    limits.install_openpyxl_guard()
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, InvalidFileException, KeyError, a limit …
        raise _unreadable(name, exc) from exc
    found: tuple[Any, ...] | None = None
    seen: list[str] = []
    try:
        for ws in book.worksheets:
            try:
                limits.check_dimension(ws.max_row, ws.max_column, sheet=ws.title)
                sample = [list(r) for r in ws.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True)]
            except Exception as exc:  # noqa: BLE001 — a limit while sampling, or a broken sheet
                raise _unreadable(name, exc) from exc
            layout = _layout(sample)
            if layout is not None:
                found = (ws.title, ws.max_row or 0, sample, *layout)
                break
            seen.append(ws.title)
    except BaseException:
        book.close()
        raise
    try:
        return _recognised(path, name, fail, found, seen, fiscal_year, book)
    except BaseException:
        book.close()
        raise


def _recognised(path: Path, name: str, fail: Any, found: tuple[Any, ...] | None, seen: list[str],
                fiscal_year: int | None, book: Any) -> NenpoFile:
    if found is None:
        raise fail("nenpo_header_not_found",
                   f"先頭{HEADER_SCAN_ROWS}行に年報の見出し（{'・'.join(LABEL_JA[k] for k in REQUIRED)}）が見つかりません"
                   f"（シート: {'、'.join(seen) or 'なし'}）。道路メンテナンス年報の施設名一覧（01-1・01-2・01-3 など）を"
                   "指定してください。",
                   f"No 年報 header ({', '.join(LABEL_EN[k] for k in REQUIRED)}) in the first {HEADER_SCAN_ROWS} rows "
                   f"of any sheet ({', '.join(seen) or 'none'}).")
    sheet, max_row, sample, header_rows, headers, columns, missing = found
    if missing:
        raise fail("nenpo_column_missing",
                   f"シート「{sheet}」の見出しに{'・'.join(LABEL_JA[k] for k in missing)}の列がありません"
                   f"（見つかった見出し: {'、'.join(h for h in headers if h) or 'なし'}）。",
                   f"Sheet {sheet}: no column for {', '.join(LABEL_EN[k] for k in missing)}.",
                   value="、".join(h for h in headers if h))
    if "name" not in columns and "reading" not in columns:
        raise fail("nenpo_column_missing",
                   f"シート「{sheet}」の見出しに施設名（橋梁名）の列がありません（見つかった見出し: "
                   f"{'、'.join(h for h in headers if h)}）。",
                   f"Sheet {sheet}: no column for the facility name.")
    title_texts = [_text(v) for r in sample[: header_rows[0]] for v in r if v is not None]
    warnings: list[Issue] = []
    from_file = _fiscal_year_from(title_texts + [sheet]) or _fiscal_year_from_path(path)
    if fiscal_year is None:
        fiscal_year = from_file
        if fiscal_year is None:
            raise fail("fiscal_year_unknown",
                       "点検の年度がファイルからわかりません。--fiscal-year（画面では「点検年度」）で年度を指定してください"
                       "（例: r07 の一覧なら 2025）。",
                       "The fiscal year cannot be told from the file; give it with --fiscal-year (r07 = 2025).")
    elif from_file is not None and from_file != fiscal_year:
        warnings.append(Issue(0, "", str(from_file), "fiscal_year_differs",
                              f"ファイルからは{from_file}年度と読めますが、指定された{fiscal_year}年度として取り込みます。",
                              f"The file says FY{from_file}; imported as the given FY{fiscal_year}.", file=name))
    list_kind = ""
    for label, kind in _LIST_FROM_SHEET.items():
        if label in sheet:
            list_kind = kind
    if not list_kind:
        m = re.search(r"0\d-\d", path.name)
        list_kind = m[0] if m else ""
    return NenpoFile(path, name, sheet, header_rows, columns, headers, fiscal_year, list_kind,
                     max(0, max_row - header_rows[-1]), warnings, any("合成データ" in t for t in title_texts), book)


def _layout(sample: list[list[Any]]) -> tuple[tuple[int, ...], list[str], dict[str, int], list[str]] | None:
    """(header rows (1-based), joined header texts, key → column, required keys missing) or None.

    The last header row is the first row that has 判定区分 (or two of the required labels); the header
    texts join that row with the one above it (row 2 + row 3 in the published lists). A label merged
    over several columns of the upper row is carried to the right while the lower row has texts.
    """
    def keys_of(row: list[Any]) -> set[str | None]:
        return {match_label(t) for v in row if (t := _text(v))}

    found = [i for i, row in enumerate(sample) if "grade" in keys_of(row)]
    found += [i for i, row in enumerate(sample) if len(keys_of(row) & set(REQUIRED)) >= 2]
    for i in found[:1]:
        texts = [_clean(v) for v in sample[i]]
        upper = [_clean(v) for v in sample[i - 1]] if i >= 1 else []
        if sum(1 for t in upper if t) == 1 and sum(1 for t in texts if t) > 3 and not match_label(next(t for t in upper if t)):
            upper = []  # a title line above a one-row header
        width = max(len(texts), len(upper))
        headers: list[str] = []
        carried = ""
        for j in range(width):
            top = upper[j] if j < len(upper) else ""
            bottom = texts[j] if j < len(texts) else ""
            if top:
                carried = top
            elif bottom and carried and match_label(bottom) is None:
                top = carried  # a merged group label over columns whose own labels say little
            else:
                carried = ""
            headers.append(" ".join(t for t in (top, bottom) if t))
        columns: dict[str, int] = {}
        for j, h in enumerate(headers):
            # The lower label decides (管理者名 under a 点検結果 group); the joined text when it alone says nothing.
            key = match_label(texts[j] if j < len(texts) else "") or match_label(h)
            if key and key not in columns:
                columns[key] = j
        header_rows = (i, i + 1) if upper else (i + 1,)
        missing = [k for k in REQUIRED if k not in columns]
        return header_rows, headers, columns, missing
    return None
