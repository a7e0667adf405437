"""Validate a ledger file row by row: parsed records, and precise Japanese errors and warnings.

Pure reading and checking — nothing is written here. Checks that need the database (does the
facility exist? may this user edit that municipality?) are made by the registry importer, which
reports them in the same shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gunmane.io import values, vocab
from gunmane.io.ledger_schema import (
    COLUMNS,
    NATURAL_KEYS,
    TYPE_FROM_NAME_HEADER,
    Column,
    LedgerKind,
    header_scale,
    match_header,
    normalize_header,
)
from gunmane.io.tabular import Table, TableError, open_table


@dataclass(frozen=True, slots=True)
class Issue:
    """An error or warning about one cell (or, with row 0, about the file)."""

    row: int
    column: str
    value: str
    code: str
    message_ja: str
    message_en: str

    def as_dict(self, lang: str = "ja") -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "code": self.code,
            "message": self.message_en if lang == "en" else self.message_ja,
        }


@dataclass(slots=True)
class RowResult:
    row: int
    record: dict[str, Any]
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _shown(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


class LedgerReader:
    """Open a ledger file, map its columns, and yield one validated RowResult per data row."""

    def __init__(self, path: Path, kind: LedgerKind, *, lg_code: str | None = None, today: date | None = None,
                 display_name: str | None = None) -> None:
        self.path = path
        self.kind = kind
        self.display_name = display_name or path.name
        self.default_lg_code = lg_code
        self.today = today or date.today()
        self.file_issues: list[Issue] = []
        self.table: Table | None = None
        self.column_index: dict[str, int] = {}
        self.column_header: dict[str, str] = {}
        self.scale: dict[str, float] = {}
        self.extra_columns: list[tuple[int, str]] = []
        self.default_type: str | None = None
        try:
            self.table = open_table(path, lambda text: match_header(kind, text), display_name=self.display_name)
        except TableError as exc:
            self.file_issues.append(Issue(0, "", self.display_name, exc.code, exc.message_ja, exc.message_en))
            return
        self._map_columns()

    # -- columns ---------------------------------------------------------------------------------
    def _map_columns(self) -> None:
        assert self.table is not None
        header_row = self.table.header_rows[-1] if self.table.header_rows else 1
        seen: dict[str, str] = {}
        for col in self.table.columns:
            if col.key is None:
                if col.text:
                    self.extra_columns.append((col.index, col.text))
                continue
            if col.key in seen:
                self.file_issues.append(Issue(
                    header_row, col.text, col.text, "duplicate_column",
                    f"見出し「{col.text}」は「{seen[col.key]}」と同じ項目です。どちらか一方にしてください。",
                    f"Header '{col.text}' means the same as '{seen[col.key]}'; keep one.",
                ))
                continue
            seen[col.key] = col.text
            self.column_index[col.key] = col.index
            self.column_header[col.key] = col.text
            self.scale[col.key] = header_scale(self.kind, col.key, col.text)
        if self.kind == LedgerKind.FACILITIES and "facility_type" not in self.column_index:
            name_header = normalize_header(self.column_header.get("name", ""))
            self.default_type = TYPE_FROM_NAME_HEADER.get(name_header)
            if self.default_type is None:
                self.file_issues.append(self._missing(header_row, "施設種別"))
        for spec in COLUMNS[self.kind]:
            if spec.key in self.column_index:
                continue
            if spec.required:
                self.file_issues.append(self._missing(header_row, spec.header))
            elif spec.key == "lg_code" and self.default_lg_code is None:
                self.file_issues.append(Issue(
                    header_row, "団体コード", "", "lg_code_missing",
                    "「団体コード」の列がありません。列を追加するか、取り込む団体を指定してください。",
                    "No 団体コード column: add it or choose the municipality to import into.",
                ))

    def _missing(self, row: int, header: str) -> Issue:
        return Issue(row, header, "", "missing_column",
                     f"必須の列「{header}」が見つかりません。見出しの名前を確認してください（テンプレート参照）。",
                     f"Required column '{header}' not found; check the header names (see the template).")

    @property
    def encoding(self) -> str:
        return self.table.encoding if self.table else ""

    @property
    def rows_estimate(self) -> int:
        return self.table.rows_estimate if self.table else 0

    # -- rows ------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[RowResult]:
        if self.table is None or self.file_issues:
            return
        parsers = [(col, self.column_index[col.key], self._parser(col)) for col in COLUMNS[self.kind]
                   if col.key in self.column_index]
        key_fields = NATURAL_KEYS[self.kind]
        first_seen: dict[tuple[Any, ...], int] = {}
        for number, cells in self.table.rows():
            result = RowResult(number, {})
            record = result.record
            for col, index, parse in parsers:
                raw = cells[index] if index < len(cells) else None
                try:
                    parsed = parse(raw)
                except values.InvalidValue as exc:
                    result.errors.append(Issue(number, self.column_header[col.key], _shown(raw), exc.code,
                                               exc.message_ja, exc.message_en))
                    continue
                if parsed.warning_code:
                    result.warnings.append(Issue(number, self.column_header[col.key], _shown(raw),
                                                 parsed.warning_code, parsed.warning_ja or "",
                                                 parsed.warning_en or ""))
                record[col.key] = parsed.value
                if col.parser in ("year", "grade") and raw is not None:
                    record[col.key + "_raw"] = values.normalize_text(raw)
            self._complete(result)
            if result.ok:
                key = tuple(record.get(k) for k in key_fields)
                if key in first_seen:
                    col_name = self.column_header.get("facility_id", "施設ID")
                    result.errors.append(Issue(
                        number, col_name, str(record.get("facility_id", "")), "duplicate_in_file",
                        f"{self._key_label()}が{first_seen[key]}行目と重複しています。",
                        f"Same {self.kind.value} key as row {first_seen[key]}.",
                    ))
                else:
                    first_seen[key] = number
            if self.extra_columns and self.kind == LedgerKind.FACILITIES:
                attrs = {text: values.normalize_text(cells[i]) for i, text in self.extra_columns
                         if i < len(cells) and not values.is_unknown(cells[i])}
                record["attributes"] = attrs
            yield result

    def _key_label(self) -> str:
        if self.kind == LedgerKind.FACILITIES:
            return "施設ID"
        if self.kind == LedgerKind.INSPECTIONS:
            return "同じ施設・点検年月日・点検種別の行"
        return "同じ施設・措置年度・措置区分の行"

    def _complete(self, result: RowResult) -> None:
        """Defaults and cross-column rules once every cell is parsed."""
        record = result.record
        number = result.row
        lg = record.get("lg_code")
        if lg is None and "lg_code" not in [e.code for e in result.errors]:
            if self.default_lg_code is None:
                result.errors.append(Issue(number, self.column_header.get("lg_code", "団体コード"), "",
                                           "required", "団体コードを入力してください。", "団体コード is required."))
            else:
                record["lg_code"] = self.default_lg_code
        elif lg is not None and self.default_lg_code is not None and lg != self.default_lg_code:
            result.errors.append(Issue(
                number, self.column_header["lg_code"], str(lg), "lg_code_mismatch",
                f"団体コード {lg} は取り込み先の団体（{self.default_lg_code}）と異なります。",
                f"lg_code {lg} differs from the municipality being imported ({self.default_lg_code}).",
            ))
        for col in COLUMNS[self.kind]:
            if col.required and col.key in self.column_index and record.get(col.key) is None \
                    and not any(e.column == self.column_header[col.key] for e in result.errors):
                result.errors.append(Issue(number, self.column_header[col.key], "", "required",
                                           f"「{col.header}」を入力してください。", f"{col.header} is required."))
        if self.kind == LedgerKind.FACILITIES:
            if record.get("facility_type") is None and self.default_type and "facility_type" not in self.column_index:
                record["facility_type"] = self.default_type
            if record.get("facility_type") and record.get("sector") is None:
                record["sector"] = vocab.facility_type(record["facility_type"]).sector
            if record.get("facility_type") is None and "facility_type" in self.column_index and not any(
                    e.column == self.column_header["facility_type"] for e in result.errors):
                result.errors.append(Issue(number, self.column_header["facility_type"], "", "required",
                                           "「施設種別」を入力してください。", "施設種別 is required."))
            record.setdefault("is_synthetic", False)
            if record["is_synthetic"] is None:
                record["is_synthetic"] = False
        elif self.kind == LedgerKind.INSPECTIONS:
            if record.get("kind") is None:
                record["kind"] = "定期点検"
        elif self.kind == LedgerKind.MEASURES and record.get("status") is None:
            record["status"] = "未着手"

    def _parser(self, col: Column) -> Callable[[Any], values.Parsed[Any]]:
        today = self.today
        if col.parser == "lg_code":
            return values.parse_lg_code
        if col.parser == "id":
            return lambda raw: _text(raw, col, max_length=col.max_length)
        if col.parser == "text":
            return lambda raw: _text(raw, col, max_length=col.max_length)
        if col.parser == "year":
            return lambda raw: values.parse_year(raw, today=today)
        if col.parser == "measure_year":
            # Planned measures lie in the future: allow up to 30 fiscal years ahead.
            horizon = date(today.year + 30, 12, 31)
            return lambda raw: values.parse_year(raw, today=horizon)
        if col.parser == "date":
            return lambda raw: values.parse_date(raw, today=today)
        if col.parser == "grade":
            return values.parse_grade
        if col.parser == "number":
            factor = self.scale.get(col.key, 1.0)
            if factor == 1.0:
                return lambda raw: values.parse_number(raw, minimum=col.minimum, maximum=col.maximum,
                                                       unit_hint=col.unit)
            return lambda raw: _scaled(values.parse_number(raw, minimum=col.minimum), factor)
        if col.parser == "lat":
            return lambda raw: values.parse_coordinate(raw, "lat")
        if col.parser == "lon":
            return lambda raw: values.parse_coordinate(raw, "lon")
        if col.parser == "choice":
            return lambda raw: _choice(raw, col)
        if col.parser == "bool":
            return _bool
        if col.parser == "sector":
            return _sector
        if col.parser == "facility_type":
            return _facility_type
        raise ValueError(col.parser)


def _scaled(parsed: values.Parsed[float], factor: float) -> values.Parsed[float]:
    if parsed.value is None:
        return parsed
    return values.Parsed(round(parsed.value * factor, 6), parsed.warning_code, parsed.warning_ja, parsed.warning_en)


def _text(raw: Any, col: Column, *, max_length: int) -> values.Parsed[str]:
    text = values.normalize_text(raw) if col.parser == "id" else _clean_text(raw)
    if not text or (col.parser == "id" and values.is_unknown(text)):
        return values.Parsed(None)
    if len(text) > max_length:
        raise values.InvalidValue("too_long", f"{max_length}文字以内で入力してください（{len(text)}文字）。",
                                  f"At most {max_length} characters ({len(text)}).")
    return values.Parsed(text)


def _clean_text(raw: Any) -> str:
    """Free text keeps the user's characters (no NFKC: 全角 in names is intended); trims spaces."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return " ".join(str(raw).split())


def _choice(raw: Any, col: Column) -> values.Parsed[str]:
    if values.is_unknown(raw):
        return values.Parsed(None)
    text = values.normalize_text(raw).replace(" ", "").lower()
    if text in col.choices:
        return values.Parsed(col.choices[text])
    canonical = "・".join(dict.fromkeys(col.choices.values()))
    raise values.InvalidValue("not_a_choice", f"「{col.header}」は {canonical} のいずれかを入力してください。",
                              f"{col.header} must be one of: {canonical}.")


_TRUE = {"はい", "有", "あり", "○", "〇", "true", "yes", "1", "y", "合成"}
_FALSE = {"いいえ", "無", "なし", "false", "no", "0", "n", "×"}


def _bool(raw: Any) -> values.Parsed[bool]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return values.Parsed(None)
    if isinstance(raw, bool):
        return values.Parsed(raw)
    text = values.normalize_text(raw).lower()
    if text in _TRUE:
        return values.Parsed(True)
    if text in _FALSE:
        return values.Parsed(False)
    raise values.InvalidValue("not_a_boolean", "「はい」または「いいえ」（空欄はいいえ）で入力してください。",
                              "Enter yes or no (blank = no).")


def _sector(raw: Any) -> values.Parsed[str]:
    if values.is_unknown(raw):
        return values.Parsed(None)
    code = vocab.sector_code(values.normalize_text(raw))
    if code is None:
        names = "・".join(s.name for s in vocab.sectors())
        raise values.InvalidValue("unknown_sector", f"分野は {names} のいずれかを入力してください。",
                                  "Unknown sector.")
    return values.Parsed(code)


def _facility_type(raw: Any) -> values.Parsed[str]:
    if values.is_unknown(raw):
        return values.Parsed(None)
    code = vocab.facility_type_code(values.normalize_text(raw))
    if code is None:
        names = "・".join(t.name for t in vocab.facility_types()[:9])
        raise values.InvalidValue("unknown_facility_type",
                                  f"施設種別が登録されていません。{names} などを入力してください。",
                                  "Unknown facility type.")
    return values.Parsed(code)
