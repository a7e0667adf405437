"""Validate a ledger file row by row: parsed records, and precise Japanese errors and warnings.

Pure reading and checking — nothing is written here. Checks that need the database (does the
facility exist? may this user edit that municipality?) are made by the registry importer, which
reports them in the same shape.

Files of 100,000s of rows are read in chunks and checked column by column (see LedgerReader.batches);
the result is the same as checking each row on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat
from pathlib import Path
from typing import Any

from gunmane.engine.scales import Scale
from gunmane.io.issues import Issue
from gunmane.io.ledger.grades import scale_of_type
from gunmane.io.ledger.schema import (
    COLUMNS,
    NATURAL_KEYS,
    TYPE_FROM_NAME_HEADER,
    Column,
    LedgerKind,
    header_scale,
    match_header,
    normalize_header,
)
from gunmane.io.ledger.tabular import Table, TableError, open_table
from gunmane.io.shipped import vocab
from gunmane.io.values import parsing as values
from gunmane.io.values.scales import read_scale_value

# Rows read and checked together: large enough that each column's distinct values repeat within a chunk,
# small enough that a chunk's cells and records stay a few MB.
CHUNK_ROWS = 2000
# Parsers whose cell text is kept as written next to the value ("built_year_raw", "grade_raw").
RAW_KEPT = ("year", "grade")
# Parsers of columns whose values are nearly all different: parsed cell by cell.
_UNIQUE_PARSERS = ("id", "lat", "lon")
# Distinct values remembered per column across chunks (then forgotten and started again); free text
# (names, addresses: mostly different, routes and remarks: repeated) only within a chunk.
MEMO_LIMIT = 50_000
_MEMO_LIMITS = {"text": 0}

# A column of the file: its schema entry, its index in the row, and its cell parser.
_ColumnParser = tuple[Column, int, Callable[[Any], "values.Parsed[Any]"]]
# The facility type (code) of an inspection row's facility, from its 団体コード and 施設ID; None if unknown.
FacilityTypes = Callable[[str | None, str | None], str | None]


@dataclass(slots=True)
class RowResult:
    row: int
    record: dict[str, Any]
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class RowBatch:
    """Consecutive data rows of a file, as checked.

    Rows with nothing to report (no error, no warning) stay as columns, one list per record key in
    `keys`, as the reader built them: bulk consumers such as the registry importer read them without a
    RowResult per row. The other rows are RowResults in `results`, by position; at those positions the
    columns hold nothing meaningful. rows() gives every row's RowResult: what iterating the reader yields.
    """

    numbers: list[int]  # Excel row numbers
    keys: tuple[str, ...]
    columns: list[Sequence[Any]]
    results: dict[int, RowResult]

    def __len__(self) -> int:
        return len(self.numbers)

    def column(self, key: str) -> Sequence[Any] | None:
        """The values of `key` at every position (meaningful where there is no RowResult), or None."""
        return self.columns[self.keys.index(key)] if key in self.keys and self.columns else None

    def result(self, i: int) -> RowResult:
        """The RowResult of position i, made from the columns (once) when the row has none yet."""
        if i not in self.results:
            values = [column[i] for column in self.columns]
            self.results[i] = RowResult(self.numbers[i], dict(zip(self.keys, values, strict=True)), [], [])
        return self.results[i]

    def rows(self) -> list[RowResult]:
        results, keys = self.results, self.keys
        if not self.columns:
            return [results[i] for i in range(len(self.numbers))]
        return [results[i] if i in results else RowResult(number, dict(zip(keys, values, strict=True)), [], [])
                for i, (number, values) in enumerate(zip(self.numbers, zip(*self.columns, strict=True),
                                                         strict=True))]


def _shown(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


class LedgerReader:
    """Open a ledger file, map its columns, and yield one validated RowResult per data row."""

    def __init__(self, path: Path, kind: LedgerKind, *, lg_code: str | None = None, today: date | None = None,
                 display_name: str | None = None, facility_types: FacilityTypes | None = None) -> None:
        """`facility_types` tells each inspection row's facility type, whose scale its grade is read on
        (健全度 C on a park, 緊急度Ⅱ on a sewer pipe); without it, or for a facility it does not know, grades
        are read on the road structures' 健全性 Ⅰ〜Ⅳ."""
        self.path = path
        self.facility_types = facility_types
        self._grade_memo: dict[tuple[Any, ...], _GradeOutcome] = {}
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
        # Columns without a header: their index, and whether any row has a value in them (known once read).
        self._headerless: dict[int, bool] = {}
        self._need: int | None = None  # see _needed_width
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
                else:
                    self._headerless[col.index] = False
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
    def unused_columns(self) -> list[str]:
        """Columns of the file that nothing is read from (「取り込まなかった列」), in file order.

        A facility file keeps its unknown columns as free attributes; an inspection or measure file has no
        such place, so they are unused. A column without a header is unused when a row has a value in it
        (complete once the file has been read).
        """
        named = [] if self.kind == LedgerKind.FACILITIES else self.extra_columns
        unnamed = [(index, f"（見出しなし・{self._column_name(index)}）") for index, used in self._headerless.items()
                   if used]
        return [text for _, text in sorted(named + unnamed)]

    def _column_name(self, index: int) -> str:
        """A column as the user finds it: its letter in Excel, its position in a CSV."""
        if self.table is not None and self.table.file_format == "xlsx":
            from openpyxl.utils import get_column_letter

            return f"{get_column_letter(index + 1)}列"
        return f"{index + 1}列目"

    @property
    def width(self) -> int:
        """The number of columns of the header (the cells a CSV data row should have)."""
        return len(self.table.columns) if self.table else 0

    @property
    def rows_estimate(self) -> int:
        return self.table.rows_estimate if self.table else 0

    # -- rows ------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[RowResult]:
        """One RowResult per data row, in file order."""
        for batch in self.batches():
            yield from batch.rows()

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[list[RowResult]]:
        """The RowResults of the file, in file order, `size` rows at a time."""
        for batch in self.batches(size):
            yield batch.rows()

    def batches(self, size: int = CHUNK_ROWS) -> Iterator[RowBatch]:
        """The file `size` rows at a time (the last batch may be shorter); never the whole file at once.

        Each batch is checked column by column: a column's distinct cells are parsed once and mapped
        back (ledgers repeat the same few spellings of years, grades, types and codes), and rows with
        nothing to report stay columns (see RowBatch). A row with an error or warning in any cell is
        read again cell by cell (`_read_row`), so its Issues are exactly those of the row-by-row rules;
        such rows are rare in a file that goes in.
        """
        if self.table is None or self.file_issues:
            return
        parsers = [(col, self.column_index[col.key], self._parser(col)) for col in COLUMNS[self.kind]
                   if col.key in self.column_index]
        layout = _Layout.of(self, parsers)
        first_seen: dict[tuple[Any, ...], int] = {}
        text_only = self.table.file_format == "csv"  # csv cells are str: no 1 == 1.0 == True clashes
        for chunk in self.table.chunks(size):
            yield self._read_batch(chunk, parsers, layout, first_seen, text_only)

    def _read_batch(self, chunk: list[tuple[int, Sequence[Any]]], parsers: list[_ColumnParser], layout: _Layout,
                    first_seen: dict[tuple[Any, ...], int], text_only: bool) -> RowBatch:
        column_of = _column_reader([cells for _, cells in chunk])
        try:
            columns, irregular, raw_missing = layout.parse_columns(column_of, len(chunk), text_only)
        except TypeError:  # an unhashable cell (not produced by our readers): take every row one by one
            columns, irregular, raw_missing = [], set(range(len(chunk))), set()
        keys = layout.keys
        attributes = layout.attributes(column_of, text_only)
        if attributes is not None:
            keys += ("attributes",)
            columns.append(attributes)
        batch = RowBatch([number for number, _ in chunk], keys, columns, {})
        misshapen = self._misshapen_rows(chunk) if text_only else set()
        irregular |= misshapen  # _read_row refuses them
        self._note_headerless(column_of, misshapen)
        if self.kind == LedgerKind.INSPECTIONS and columns:
            self._grades_of_columns(batch, irregular)
        for i in sorted(irregular):
            result = batch.results[i] = self._read_row(*chunk[i], parsers)
            if attributes is not None:
                result.record["attributes"] = attributes[i]
        for i in sorted(raw_missing - irregular):  # a year/grade cell that is None (Excel): no "<key>_raw"
            record = batch.result(i).record
            for raw_key in layout.raw_keys:
                if record[raw_key] is _ABSENT:
                    del record[raw_key]
        self._check_duplicates(batch, layout, first_seen)
        return batch

    def _misshapen_rows(self, chunk: list[tuple[int, Sequence[Any]]]) -> set[int]:
        """Positions of the CSV rows whose cells do not line up with the header (see _length_issue).

        A row with more cells than the header is refused even when the extra cells are empty: an unquoted
        `1,234.5` splits one cell in two and moves every later value one column to the right (延長 1, 幅員
        234.5 …), and the last cell is then often an empty remark. A spreadsheet saved as CSV writes every
        row as wide as the header, so a longer row is never legitimate. A shorter row is read with the
        missing cells blank (some programs drop trailing empty cells), unless it stops before a required
        column: then it is refused as too short rather than reported as a missing value.
        """
        width, need = self.width, self._needed_width()
        return {i for i, (_, cells) in enumerate(chunk) if not need <= len(cells) <= width}

    def _needed_width(self) -> int:
        """The cells a row must have to reach every required column of the file."""
        if self._need is not None:
            return self._need
        required = {c.key for c in COLUMNS[self.kind] if c.required}
        if self.kind == LedgerKind.FACILITIES:
            required.add("facility_type")
        if self.default_lg_code is None:
            required.add("lg_code")
        indexes = [self.column_index[k] for k in required if k in self.column_index]
        self._need = max(indexes) + 1 if indexes else 0
        return self._need

    def _length_issue(self, number: int, cells: Sequence[Any]) -> Issue | None:
        """The error of a CSV row whose cells do not line up with the header, or None if they do."""
        n, width = len(cells), self.width
        if self.table is None or self.table.file_format != "csv" or self._needed_width() <= n <= width:
            return None
        headers = [c.text for c in self.table.columns] if self.table else []
        if n < width:
            missing = next((headers[i] for i in range(n, width) if i < len(headers) and headers[i]), "")
            return Issue(number, missing, ",".join(map(str, cells)), "row_too_short",
                         f"この行のセルは{n}個で、見出しの{width}列に足りません（「{missing}」の列まで届いていません）。"
                         "区切りのカンマが抜けていないか確認してください。",
                         f"This row has {n} cells, fewer than the {width} header columns (it stops before "
                         f"'{missing}'); check for a missing comma.")
        split = _split_number(cells, width)
        if split is not None:
            j = split
            column, value = (headers[j] if j < len(headers) else ""), f"{cells[j]},{cells[j + 1]}"
            hint_ja = f"「{column}」の「{cells[j]}」と次の「{cells[j + 1]}」は、もとは「{value}」という一つの値だったと思われます。"
            hint_en = f" '{cells[j]}' and '{cells[j + 1]}' were probably one value, '{value}'."
        else:
            column, value = "", ",".join(str(c) for c in cells[width:])
            hint_ja = hint_en = ""
        return Issue(number, column, value, "row_too_long",
                     f"この行のセルは{n}個で、見出しの{width}列より{n - width}個多いため、値が右の列にずれてしまいます。"
                     f"カンマを含む数値や文字が引用符（\"）で囲まれていない可能性があります。{hint_ja}"
                     "「\"1,234.5\"」のように引用符で囲むか、カンマを取り除いてください。",
                     f"This row has {n} cells, {n - width} more than the {width} header columns, so its values "
                     f"would shift into the wrong columns: a number or text containing a comma is probably not "
                     f"quoted (\").{hint_en} Quote it (\"1,234.5\") or remove the comma.")

    def _note_headerless(self, column_of: Callable[[int], Sequence[Any]], skip: set[int]) -> None:
        """Remember which columns without a header hold a value (they are reported as not imported)."""
        for index, used in self._headerless.items():
            if not used:
                cells = column_of(index)
                self._headerless[index] = any(
                    c is not None and str(c).strip() for i, c in enumerate(cells) if i not in skip)

    def _check_duplicates(self, batch: RowBatch, layout: _Layout, first_seen: dict[tuple[Any, ...], int]) -> None:
        """Rows (without errors) whose natural key an earlier row of the file has: an error on the later one."""
        n = len(batch)
        key_fields = layout.key_fields
        if batch.columns:
            natural_keys: list[Any] = list(zip(*(batch.columns[batch.keys.index(k)] for k in key_fields),
                                               strict=True))
        else:
            natural_keys = [None] * n
        for i, result in batch.results.items():
            natural_keys[i] = tuple(result.record.get(k) for k in key_fields) if result.ok else None
        if batch.results:
            pairs = [(key, number) for key, number in zip(natural_keys, batch.numbers, strict=True) if key is not None]
        else:
            pairs = list(zip(natural_keys, batch.numbers, strict=True))
        new = dict(pairs)
        if len(new) == len(pairs) and first_seen.keys().isdisjoint(new):  # no duplicate: the usual case
            first_seen.update(new)
            return
        for i, key in enumerate(natural_keys):
            if key is not None:
                if key in first_seen:
                    self._check_duplicate(batch.result(i), key, first_seen)
                else:
                    first_seen[key] = batch.numbers[i]

    def _check_duplicate(self, result: RowResult, key: tuple[Any, ...], first_seen: dict[tuple[Any, ...], int]) -> None:
        if key in first_seen:
            record = result.record
            col_name = self.column_header.get("facility_id", "施設ID")
            result.errors.append(Issue(
                result.row, col_name, str(record.get("facility_id", "")), "duplicate_in_file",
                f"{self._key_label()}が{first_seen[key]}行目と重複しています。",
                f"Same {self.kind.value} key as row {first_seen[key]}.",
            ))
        else:
            first_seen[key] = result.row

    def _read_row(self, number: int, cells: Sequence[Any], parsers: list[_ColumnParser]) -> RowResult:
        """Parse and check one row cell by cell: the reference rules, used for rows with something to report."""
        if (misshapen := self._length_issue(number, cells)) is not None:  # its cells cannot be trusted
            return RowResult(number, {}, [misshapen])
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
            if col.parser in RAW_KEPT and raw is not None:
                record[col.key + "_raw"] = values.normalize_text(raw)
        if self.kind == LedgerKind.INSPECTIONS:
            self._grade_of_record(result)
        self._complete(result)
        return result

    # -- grades on each facility type's scale ------------------------------------------------------
    def _scale_of(self, lg_code: Any, facility_id: Any) -> Scale:
        code = self.facility_types(lg_code, facility_id) if self.facility_types is not None else None
        return scale_of_type(code)

    def _grade_outcome(self, grade_cell: Any, measured_cell: Any, sc: Scale) -> _GradeOutcome:
        """The grade (index on `sc`), measured value and raw text of a row's 健全性 and MCI cells, with the
        row's issues: (column key, shown value, code, ja, en, is_error). Memoised: ledgers repeat spellings."""
        key = (grade_cell if type(grade_cell) is str else (type(grade_cell), grade_cell),
               measured_cell if type(measured_cell) is str else (type(measured_cell), measured_cell), sc.id)
        out = self._grade_memo.get(key)
        if out is None:
            out = self._grade_memo[key] = _read_grade(grade_cell, measured_cell, sc)
        return out

    def _issues(self, number: int, out: _GradeOutcome) -> tuple[list[Issue], list[Issue]]:
        errors: list[Issue] = []
        warnings: list[Issue] = []
        for key, shown, code, ja, en, is_error in out.issues:
            issue = Issue(number, self.column_header.get(key, "健全性"), shown, code, ja, en)
            (errors if is_error else warnings).append(issue)
        return errors, warnings

    def _grade_of_record(self, result: RowResult) -> None:
        """Read a row's grade on its facility's scale (the cell was kept as written by its parser)."""
        record = result.record
        if any(e.column in (self.column_header.get("grade"), self.column_header.get("measured_value"))
               for e in result.errors):
            record["grade"] = None
            return
        sc = self._scale_of(record.get("lg_code") or self.default_lg_code, record.get("facility_id"))
        out = self._grade_outcome(record.get("grade"), record.get("measured_value"), sc)
        record["grade"], record["measured_value"] = out.grade, out.measured
        if out.raw is not None:
            record["grade_raw"] = out.raw
        errors, warnings = self._issues(result.row, out)
        result.errors.extend(errors)
        result.warnings.extend(warnings)

    def _grades_of_columns(self, batch: RowBatch, irregular: set[int]) -> None:
        """The same as _grade_of_record for the rows kept as columns; a row with something to report is
        marked irregular (read again cell by cell)."""
        keys = batch.keys
        grades = batch.columns[keys.index("grade")]
        measured = batch.columns[keys.index("measured_value")]
        raws = batch.columns[keys.index("grade_raw")]
        fids = batch.columns[keys.index("facility_id")]
        lgs = batch.columns[keys.index("lg_code")]
        new_grades, new_measured, new_raws = list(grades), list(measured), list(raws)
        for i in range(len(batch)):
            if i in irregular:
                continue
            out = self._grade_outcome(grades[i], measured[i], self._scale_of(lgs[i], fids[i]))
            if out.issues:
                irregular.add(i)
                continue
            new_grades[i], new_measured[i] = out.grade, out.measured
            if out.raw is not None:
                new_raws[i] = out.raw
        batch.columns[keys.index("grade")] = new_grades
        batch.columns[keys.index("measured_value")] = new_measured
        batch.columns[keys.index("grade_raw")] = new_raws

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
            record["measured_value"] = record.pop("measured_value", None)  # last, as the chunked reader adds it
        elif self.kind == LedgerKind.MEASURES:
            # A blank 状態 stays None: a new measure is 未着手, a stored one keeps its state (registry importer).
            record.setdefault("status", None)

    def _parser(self, col: Column) -> Callable[[Any], values.Parsed[Any]]:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
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
        if col.parser in ("grade", "measured"):  # read on the row's scale once the row is known (_grade_of_record)
            return _kept_cell
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


# Markers inside a chunk's parsed columns (never stored in a record that is yielded).
_IRREGULAR: Any = object()  # this cell gives an error or a warning: read the row cell by cell
_ABSENT: Any = object()  # a year/grade cell that is None (not blank text): the row has no "<key>_raw"
_SKIP: Any = object()  # an extra column's cell that is unknown/blank: not an attribute
_FROM_TYPE: Any = object()  # a derived "sector": the sector of the row's facility type
_UNSEEN: Any = object()  # not in a column's memo yet


def _cells(rows: list[Sequence[Any]], index: int) -> Sequence[Any]:
    """Column `index` of the rows; None where a row is shorter (as the row-by-row rules read it)."""
    try:
        return [cells[index] for cells in rows]
    except IndexError:
        return [cells[index] if index < len(cells) else None for cells in rows]


def _column_reader(rows: list[Sequence[Any]]) -> Callable[[int], Sequence[Any]]:
    """Columns of the rows by index: transposed in one pass when the rows are equally long (CSV)."""
    widths = set(map(len, rows))
    if len(widths) != 1:
        return lambda index: _cells(rows, index)
    width = widths.pop()
    transposed = list(zip(*rows, strict=True))
    blank = (None,) * len(rows)
    return lambda index: transposed[index] if index < width else blank


def _distinct(cells: Sequence[Any], text_only: bool) -> tuple[Sequence[Any], dict[Any, Any]]:
    """Hashable keys of the cells, and each distinct key's cell.

    Non-text cells are keyed with their type: 1, 1.0 and True are equal dict keys but not the same cell.
    """
    keys = cells if text_only else [c if type(c) is str else (type(c), c) for c in cells]
    return keys, dict(zip(keys, cells, strict=True))


@dataclass
class _Layout:
    """How a chunk's columns become records, worked out once per file from the reader's columns.

    The per-column rules of LedgerReader._complete (defaults, required values, the municipality check)
    are applied to each distinct parsed value; a value that would give an error marks its rows irregular.
    """

    keys: tuple[str, ...]  # record keys, in the order the row-by-row rules insert them
    raw_keys: tuple[str, ...]
    key_fields: tuple[str, ...]
    # Per column: the column, its cell → final value (or _IRREGULAR) function, whether it keeps the raw text.
    parsed: list[tuple[_ColumnParser, Callable[[Any], Any], bool]]
    # Per column: the outcomes of distinct cells and how many to keep across chunks, or None for columns
    # whose values are nearly all different (IDs, coordinates), where looking for repeats costs more.
    memos: list[tuple[dict[Any, Any], int] | None]
    derived: list[Any]  # values of the keys added after the parsed ones: a constant, or _FROM_TYPE
    sector_from_type: dict[str, str]
    sector_column: int | None  # position of a parsed sector column among the output columns
    type_column: int | None  # position of the parsed facility_type column
    default_type: str | None  # the facility type of a file without that column (from its name header)
    extras: list[tuple[int, str]]

    @classmethod
    def of(cls, reader: LedgerReader, parsers: list[_ColumnParser]) -> _Layout:
        kind = reader.kind
        default_lg = reader.default_lg_code
        keys: list[str] = []
        raw_keys: list[str] = []
        parsed: list[tuple[_ColumnParser, Callable[[Any], Any], bool]] = []
        sector_column = type_column = None
        for entry in parsers:
            col = entry[0]
            if col.key == "sector":
                sector_column = len(keys)
            if col.key == "facility_type":
                type_column = len(keys)
            keeps_raw = col.parser in RAW_KEPT
            parsed.append((entry, _value_of(entry, _rule(kind, col, default_lg)), keeps_raw))
            keys.append(col.key)
            if keeps_raw:
                keys.append(col.key + "_raw")
                raw_keys.append(col.key + "_raw")
        derived: list[Any] = []
        present = set(keys)

        def add(key: str, value: Any) -> None:
            if key not in present:
                keys.append(key)
                derived.append(value)
                present.add(key)

        add("lg_code", default_lg)  # absent column: the municipality imported into (else a file issue)
        sector_from_type = {t.code: t.sector for t in vocab.facility_types()}
        if kind == LedgerKind.FACILITIES:
            add("facility_type", reader.default_type)  # absent column: from the name header (else a file issue)
            add("sector", _FROM_TYPE if type_column is not None else sector_from_type.get(reader.default_type or ""))
            add("is_synthetic", False)
        elif kind == LedgerKind.INSPECTIONS:
            add("kind", "定期点検")
            add("measured_value", None)
        elif kind == LedgerKind.MEASURES:
            add("status", None)
        extras = reader.extra_columns if kind == LedgerKind.FACILITIES else []
        key_fields = NATURAL_KEYS[kind]
        memos: list[tuple[dict[Any, Any], int] | None] = [
            None if entry[0].parser in _UNIQUE_PARSERS else ({}, _MEMO_LIMITS.get(entry[0].parser, MEMO_LIMIT))
            for entry, _, _ in parsed]
        return cls(tuple(keys), tuple(raw_keys), key_fields, parsed, memos, derived,
                   sector_from_type, sector_column, type_column, reader.default_type, extras)

    def parse_columns(self, column_of: Callable[[int], Sequence[Any]], n: int,
                      text_only: bool) -> tuple[list[Sequence[Any]], set[int], set[int]]:
        """The chunk's output columns (aligned with `keys`), the irregular rows, the rows lacking a raw key."""
        columns: list[Sequence[Any]] = []
        irregular: set[int] = set()
        raw_missing: set[int] = set()
        for ((_, index, _), value_of, keeps_raw), kept in zip(self.parsed, self.memos, strict=True):
            cells = column_of(index)
            if kept is None:  # values that rarely repeat: no use looking for the distinct ones
                column = list(map(value_of, cells))
                # (values are str, numbers, dates or None: never equal to the marker unless they are it)
                irregular_here = _IRREGULAR in column
            else:  # values that repeat, within (and mostly across) chunks: parse each once
                keys, distinct = _distinct(cells, text_only)
                memo, limit = kept
                if len(memo) > limit:
                    memo.clear()
                outcome = {key: memo.get(key, _UNSEEN) for key in distinct}
                for key, value in outcome.items():
                    if value is _UNSEEN:
                        outcome[key] = memo[key] = value_of(distinct[key])
                column = list(map(outcome.__getitem__, keys))
                irregular_here = any(v is _IRREGULAR for v in outcome.values())
            if irregular_here:
                irregular.update(i for i, v in enumerate(column) if v is _IRREGULAR)
            columns.append(column)
            if keeps_raw:
                texts = {key: _ABSENT if raw is None else values.normalize_text(raw) for key, raw in distinct.items()}
                if None in distinct.values():
                    raw_missing.update(i for i, c in enumerate(cells) if c is None)
                columns.append(list(map(texts.__getitem__, keys)))
        if self.sector_column is not None:  # a blank sector is the facility type's
            sectors = columns[self.sector_column]
            if self.type_column is None:
                default = self.sector_from_type.get(self.default_type or "")
                columns[self.sector_column] = [default if s is None else s for s in sectors]
            else:
                get = self.sector_from_type.get
                columns[self.sector_column] = [get(t) if s is None else s
                                               for s, t in zip(sectors, columns[self.type_column], strict=True)]
        for value in self.derived:
            if value is _FROM_TYPE:
                get = self.sector_from_type.get
                columns.append([get(t) for t in columns[self.type_column or 0]])
            else:
                columns.append(list(repeat(value, n)))
        return columns, irregular, raw_missing

    def attributes(self, column_of: Callable[[int], Sequence[Any]], text_only: bool) -> list[dict[str, str]] | None:
        """Each row's free attributes (the columns no schema column matched), or None if not kept."""
        if not self.extras:
            return None
        texts: list[tuple[str, list[Any]]] = []
        for index, header in self.extras:
            cells = column_of(index)
            keys, distinct = _distinct(cells, text_only)
            kept = {key: _SKIP if values.is_unknown(raw) else values.normalize_text(raw)
                    for key, raw in distinct.items()}
            texts.append((header, list(map(kept.__getitem__, keys))))
        if len(texts) == 1:
            header, column = texts[0]
            return [{} if v is _SKIP else {header: v} for v in column]
        out: list[dict[str, str]] = []
        for row in zip(*(column for _, column in texts), strict=True):
            out.append({header: v for (header, _), v in zip(texts, row, strict=True) if v is not _SKIP})
        return out


# A coordinate written as a plain ASCII decimal (34.527712) is, by values.parse_coordinate, its float
# when inside the bounds; the chunked path checks that directly instead of through NFKC and the 度分秒 pattern.
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _value_of(entry: _ColumnParser, rule: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The final value of one cell for the chunked path: parsed, then `rule`; _IRREGULAR if it errs or warns.

    Identifier, text and coordinate columns hold a different value in nearly every row (nothing to
    share between rows), so their common forms are read here directly, to the same result as their
    parsers; anything else goes through the parser.
    """
    col, _, parse = entry
    max_length = col.max_length
    blank = rule(None)  # what an empty cell becomes: None, a default, or _IRREGULAR (required)
    if col.parser == "text":
        def text_value(raw: Any) -> Any:
            text = " ".join(raw.split()) if type(raw) is str else _clean_text(raw)
            if not text:
                return blank
            return text if len(text) <= max_length else _IRREGULAR

        return text_value
    if col.parser == "id":
        unknown_tokens = values.UNKNOWN_TOKENS

        def id_value(raw: Any) -> Any:
            if type(raw) is str and raw.isascii():
                # NFKC leaves ASCII unchanged, and the "不明（…）" remark form is not ASCII.
                text = " ".join(raw.split())
                unknown = not text or text.casefold() in unknown_tokens
            else:
                text = values.normalize_text(raw)
                unknown = not text or values.is_unknown(text)
            if unknown:
                return blank
            return text if len(text) <= max_length else _IRREGULAR

        return id_value
    plain = _PLAIN_DECIMAL.fullmatch if col.parser in ("lat", "lon") else None
    low, high = values.COORD_BOUNDS[col.parser] if plain is not None else (0.0, 0.0)

    def value_of(raw: Any) -> Any:
        if plain is not None and type(raw) is str and plain(raw):
            x = float(raw)
            return rule(x) if low <= x <= high else _IRREGULAR
        try:
            p = parse(raw)
        except values.InvalidValue:
            return _IRREGULAR
        return _IRREGULAR if p.warning_code else rule(p.value)

    return value_of


def _rule(kind: LedgerKind, col: Column, default_lg: str | None) -> Callable[[Any], Any]:
    """What LedgerReader._complete does to a parsed value of this column: a default, or _IRREGULAR (an error)."""
    if col.key == "lg_code":
        def lg(value: Any) -> Any:
            if value is None:
                return _IRREGULAR if default_lg is None else default_lg
            return _IRREGULAR if default_lg is not None and value != default_lg else value
        return lg
    if col.required or (kind == LedgerKind.FACILITIES and col.key == "facility_type"):
        return lambda value: _IRREGULAR if value is None else value
    default: Any = None
    if kind == LedgerKind.FACILITIES and col.key == "is_synthetic":
        default = False
    elif kind == LedgerKind.INSPECTIONS and col.key == "kind":
        default = "定期点検"
    if default is None:
        return _same
    return lambda value: default if value is None else value


def _same(value: Any) -> Any:
    return value


_SPLIT_HEAD = re.compile(r"[+-]?[0-9]{1,3}")
_SPLIT_TAIL = re.compile(r"[0-9]{3}(?:[.,][0-9]+)?")


def _split_number(cells: Sequence[Any], width: int) -> int | None:
    """The position of a cell that looks like the first half of a number cut at its thousands comma
    ("1" then "234.5"), within the header's columns, or None."""
    texts = [values.normalize_text(c) if c is not None else "" for c in cells[:width + 1]]
    for j in range(min(width, len(texts) - 1)):
        if _SPLIT_HEAD.fullmatch(texts[j]) and _SPLIT_TAIL.fullmatch(texts[j + 1]):
            return j
    return None


def _scaled(parsed: values.Parsed[float], factor: float) -> values.Parsed[float]:
    if parsed.value is None:
        return parsed
    return values.Parsed(round(parsed.value * factor, 6), parsed.warning_code, parsed.warning_ja, parsed.warning_en)


def _text(raw: Any, col: Column, *, max_length: int) -> values.Parsed[str]:
    return values.Parsed(_text_value(raw, col, max_length=max_length))


def _text_value(raw: Any, col: Column, *, max_length: int) -> str | None:
    text = values.normalize_text(raw) if col.parser == "id" else _clean_text(raw)
    if not text or (col.parser == "id" and values.is_unknown(text)):
        return None
    if len(text) > max_length:
        raise values.InvalidValue("too_long", f"{max_length}文字以内で入力してください（{len(text)}文字）。",
                                  f"At most {max_length} characters ({len(text)}).")
    return text


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


def _kept_cell(raw: Any) -> values.Parsed[Any]:
    """A grade or MCI cell as written (blank: None): it is read once the row's facility type is known."""
    if raw is None or values.is_unknown(raw):
        return values.Parsed(None)
    return values.Parsed(raw)


@dataclass(frozen=True, slots=True)
class _GradeOutcome:
    grade: int | None
    measured: float | None
    raw: str | None  # the grade_raw to keep when it is not the 健全性 cell's text (a grade read from MCI)
    issues: tuple[tuple[str, str, str, str, str, bool], ...] = ()


def _read_grade(grade_cell: Any, measured_cell: Any, sc: Scale) -> _GradeOutcome:
    """The 健全性 cell read on `sc` (「C」 on 公園施設, 「緊急度Ⅱ」 on 管渠, 「MCI 3.5」 on 舗装), and the MCI cell
    as a measured value (as_measured: 「2」 there is MCI 2, not 診断区分Ⅱ). The 健全性 cell's grade wins; a
    blank one takes the MCI's grade (with the reading's warning)."""
    issues: list[tuple[str, str, str, str, str, bool]] = []
    grade = measured = None
    grade_warning = None
    if grade_cell is not None:
        try:
            p = read_scale_value(grade_cell, sc)
        except values.InvalidValue as exc:
            issues.append(("grade", _shown(grade_cell), exc.code,
                           f"{exc.message_ja}（この施設の施設種別は{sc.name}で点検します）", exc.message_en, True))
        else:
            if p.value is not None:
                grade, measured = p.value.grade, p.value.measured
                if p.warning_code:
                    grade_warning = ("grade", _shown(grade_cell), p.warning_code, p.warning_ja or "",
                                     p.warning_en or "", False)
    m_grade = None
    if measured_cell is not None:
        if sc.measured is None:
            issues.append(("measured_value", _shown(measured_cell), "no_measured_value",
                           f"この施設の{sc.name}には MCI のような測定値がありません（舗装の列です）。",
                           f"Scale {sc.id} has no measured value.", True))
        else:
            try:
                q = read_scale_value(measured_cell, sc, as_measured=True)
            except values.InvalidValue as exc:
                issues.append(("measured_value", _shown(measured_cell), exc.code, exc.message_ja, exc.message_en, True))
            else:
                if q.value is not None:
                    m_grade, measured = q.value.grade, q.value.measured
                    if grade is None and grade_cell is None and q.warning_code:
                        issues.append(("measured_value", _shown(measured_cell), q.warning_code, q.warning_ja or "",
                                       q.warning_en or "", False))
    if grade_warning is not None and m_grade is None:
        issues.append(grade_warning)
    raw = None
    if grade is None and grade_cell is None and m_grade is not None and measured is not None:
        grade = m_grade
        raw = f"{sc.measured.name if sc.measured else 'MCI'} {measured:g}"
    if any(i[5] for i in issues):
        grade = measured = None
    return _GradeOutcome(grade, measured, raw, tuple(issues))
