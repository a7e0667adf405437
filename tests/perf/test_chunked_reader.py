"""The chunked, column-wise reader gives exactly what checking each row on its own gives.

LedgerReader checks a file a chunk at a time, column by column, and reads a row cell by cell only
when it has something to report (see LedgerReader.batches). The oracle here is the row-by-row rule
set itself (`_read_row`, then free attributes and duplicates as the reader always added them), applied
to random messy files: CSV and XLSX, blanks, short rows, warnings, errors, duplicates, several chunk
sizes. Speed is measured by benchmarks/import_ledger.py, not here.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from gunmane.io.ledger.reader import _IRREGULAR, LedgerReader, RowResult, _text, _value_of
from gunmane.io.ledger.schema import COLUMNS, NATURAL_KEYS, LedgerKind, column, match_header
from gunmane.io.ledger.tabular import open_table
from gunmane.io.values import parsing as values

TODAY = dt.date(2026, 11, 27)

# Cell values per column kind: valid spellings first, then blanks, unknowns, warnings and errors.
CELLS: dict[str, list[Any]] = {
    "lg": ["29212", "292125", "293857", "", "不明", "12345", "abc", "2921", 29212, 292125.0, None],
    "id": ["A-1", "Ａ－４", "", "不明", "x" * 70, None, 5, 5.0, "N/A", "null", " NaN ", "—", "不明（資料なし）",
           "ID\u200b1", "A\t 1", "#N/A", "x" * 64, "x" * 65],
    "name": ["一号橋", "", "  三号  橋 ", "x" * 210, None, 12, "a\u3000b", 2.5],
    "type": ["橋梁", "トンネル", "橋", "", "xyz", "不明", None],
    "sector": ["道路", "", "公園", "bad", None],
    "year": ["1970", "昭和45年", "S50", "Ｓ４８", "H元", "不明", "", "2031", "令和0年", "平成32年", "約1970", "abc",
             None, 1970, 1970.0, dt.datetime(1990, 5, 1), "2019/7/12"],
    "num": ["12", "1,234.5", "６．０", "約12", "abc", "-5", "12cm", "", "不明", None, 12, 12.0, True],
    "lat": ["34.5", "34°31′40″", "60", "", "N34.5", None, 34.5, "３４.５", " 34.5", "-34.5", "34", "034.50",
            "1e1", "34.", ".5", "20", "46.0", "46.0000001"],
    "lon": ["135.9", "", "200", None, 135.9, "135", "154", "154.1", "122", "135,9", "東経135.9"],
    "text": ["市道", "", None, "  a  b ", "x" * 2100, 7, "不明"],
    "bool": ["はい", "", "いいえ", "maybe", None, True, 1],
    "date": ["2019/7/12", "R5.7.12", "令和5年7月12日", "2031/1/1", "2023/2/30", "", "不明", "abc", None,
             dt.datetime(2019, 7, 12), 43658, "平成31年5月1日"],
    "grade": ["Ⅱ", "III", "3", "Ⅲ（早期措置段階）", "5", "", "x", None, 2],
    "kind_i": ["定期点検", "定期", "", "臨時", "bad", None],
    "fy": ["R7", "2024", "", "abc", "R40", None, 2024],
    "kind_m": ["修繕", "補修", "", "塗装", None],
    "status": ["予定", "完了", "", "bad", None],
    "cost": ["12,000", "", "abc", "-1", None, 1000],
    "extra": ["1級", "", "不明", None, "２級", 3],
}
LAYOUTS = {
    LedgerKind.FACILITIES: [("団体コード", "lg"), ("施設ID", "id"), ("施設名", "name"), ("施設種別", "type"),
                            ("分野", "sector"), ("建設年度", "year"), ("延長(m)", "num"), ("幅員", "num"),
                            ("緯度", "lat"), ("経度", "lon"), ("路線名", "text"), ("合成データ", "bool"),
                            ("備考", "text"), ("管理区分", "extra"), ("点検メモ", "extra")],
    LedgerKind.INSPECTIONS: [("団体コード", "lg"), ("施設ID", "id"), ("点検年月日", "date"), ("健全性", "grade"),
                             ("点検者", "text"), ("点検種別", "kind_i"), ("メモ", "extra")],
    LedgerKind.MEASURES: [("団体コード", "lg"), ("施設ID", "id"), ("措置年度", "fy"), ("措置区分", "kind_m"),
                          ("状態", "status"), ("費用(円)", "cost"), ("備考", "text")],
}
REQUIRED = {"id", "name", "date", "grade", "fy", "kind_m"}


def messy_file(tmp_path: Path, seed: int) -> tuple[Path, LedgerKind, str | None]:
    rng = random.Random(seed)
    kind = rng.choice(list(LAYOUTS))
    lg = rng.choice([None, "292125"])
    layout = [c for c in LAYOUTS[kind] if c[1] in REQUIRED or (c[1] == "lg" and lg is None) or rng.random() < 0.8]
    rng.shuffle(layout)
    header = [h for h, _ in layout]
    if kind == LedgerKind.FACILITIES and "施設種別" not in header:
        header = ["橋梁名" if h == "施設名" else h for h in header]  # a bridge ledger: the type from the header
    n, valid = rng.choice([5, 30, 80]), rng.choice([0.3, 0.8, 0.97])
    rows: list[list[Any]] = []
    for _ in range(n):
        row = []
        for _, k in layout:
            if rng.random() < valid:
                value = CELLS[k][0] if k != "id" else f"ID-{rng.randrange(2 * n)}"
            else:
                value = rng.choice(CELLS[k]) if k != "id" or rng.random() < 0.5 else f"ID-{rng.randrange(n)}"
            row.append(value)
        r = rng.random()
        if r < 0.03:
            row = row[:rng.randrange(len(row))]
        elif r < 0.05:
            row = [""] * len(row)
        rows.append(row)
    if rng.random() < 0.5:
        path = tmp_path / f"f{seed}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(header)
            out.writerows([["" if v is None else v.strftime("%Y/%m/%d") if isinstance(v, dt.datetime) else v
                            for v in r] for r in rows])
    else:
        path = tmp_path / f"f{seed}.xlsx"
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(header)
        for r in rows:
            ws.append(r)
        wb.save(path)
    return path, kind, lg


def reference(reader: LedgerReader) -> list[RowResult]:
    """Every row checked on its own: the rules as the row-by-row reader applied them."""
    if reader.table is None or reader.file_issues:
        return []
    parsers = [(col, reader.column_index[col.key], reader._parser(col)) for col in COLUMNS[reader.kind]
               if col.key in reader.column_index]
    first_seen: dict[tuple[Any, ...], int] = {}
    out = []
    for number, cells in reader.table.rows():
        result = reader._read_row(number, cells, parsers)
        if result.ok:
            reader._check_duplicate(result, tuple(result.record.get(k) for k in NATURAL_KEYS[reader.kind]),
                                    first_seen)
        if reader.extra_columns and reader.kind == LedgerKind.FACILITIES:
            result.record["attributes"] = {text: values.normalize_text(cells[i]) for i, text in reader.extra_columns
                                           if i < len(cells) and not values.is_unknown(cells[i])}
        out.append(result)
    return out


def shape(rows: list[RowResult]) -> list[tuple[Any, ...]]:
    return [(r.row, list(r.record.items()), r.errors, r.warnings) for r in rows]


@pytest.mark.parametrize("seed", range(24))
def test_chunked_reading_equals_row_by_row_rules(tmp_path: Path, seed: int) -> None:
    path, kind, lg = messy_file(tmp_path, seed)
    expected = shape(reference(LedgerReader(path, kind, lg_code=lg, today=TODAY)))
    assert expected  # (a file that cannot be read at all would check nothing)
    for size in (1, 7, 2000):
        reader = LedgerReader(path, kind, lg_code=lg, today=TODAY)
        got = [r for chunk in reader.chunks(size) for r in chunk]
        assert shape(got) == expected, f"chunk size {size}"
    assert shape(list(LedgerReader(path, kind, lg_code=lg, today=TODAY))) == expected


def test_batches_keep_plain_rows_as_columns(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("施設ID,施設名,施設種別,延長(m)\nA-1,一号橋,橋梁,約12\nA-2,二号橋,橋梁,5\nA-1,三号橋,橋梁,6\n",
                    encoding="utf-8")
    (batch,) = LedgerReader(path, LedgerKind.FACILITIES, lg_code="292125", today=TODAY).batches()
    assert len(batch) == 3 and batch.numbers == [2, 3, 4]
    assert sorted(batch.results) == [0, 2]  # a warning (約12) and a duplicate 施設ID have a RowResult
    assert [w.code for w in batch.results[0].warnings] == ["approximate"]
    assert [e.code for e in batch.results[2].errors] == ["duplicate_in_file"]
    assert batch.column("length_m") is not None and batch.column("length_m")[1] == 5.0
    assert batch.column("no_such_key") is None
    assert [r.record["facility_id"] for r in batch.rows()] == ["A-1", "A-2", "A-1"]


def test_table_chunks_are_full_despite_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    lines = ["施設ID,施設名,施設種別"] + [f"A-{i},橋{i},橋梁" if i % 3 else " , ," for i in range(1, 31)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = open_table(path, lambda text: match_header(LedgerKind.FACILITIES, text))
    chunks = list(table.chunks(4))
    assert [len(c) for c in chunks] == [4, 4, 4, 4, 4]
    assert [n for c in chunks for n, _ in c] == [i + 1 for i in range(1, 31) if i % 3]


@pytest.mark.parametrize("axis", ["lat", "lon"])
def test_plain_decimal_coordinates_read_as_the_parser_reads_them(axis: str) -> None:
    col = column(LedgerKind.FACILITIES, axis)

    def parse(raw: Any) -> values.Parsed[float]:
        return values.parse_coordinate(raw, "lat" if axis == "lat" else "lon")

    fast = _value_of((col, 0, parse), lambda v: v)
    samples = ["0", "19.9999999", "20", "20.0", "34.527712", "45.99999", "46", "46.0000001", "121.9", "122",
               "135.95251234", "154", "154.00001", "0034.50", "999999999999999999999"]
    for raw in samples:
        try:
            expected: Any = parse(raw).value
        except values.InvalidValue:
            expected = "error"
        got = fast(raw)
        assert ("error" if got is _IRREGULAR else got) == expected, raw


def test_ascii_identifiers_read_as_the_parser_reads_them() -> None:
    col = column(LedgerKind.FACILITIES, "facility_id")
    fast = _value_of((col, 0, lambda raw: values.Parsed(None)), lambda v: v)  # the id path needs no parser
    for raw in ["BR-001", " BR-001 ", "BR  001", "n/a", "N/A", "NULL", "NaN", "-", "--", "?", "...", "", "  ",
                "x" * 64, "\x1cA", "A\tB", "不明", "ＢＲ－１", "ID\u200b1"]:
        try:
            expected: Any = _text(raw, col, max_length=col.max_length).value
        except values.InvalidValue:
            expected = "too_long"
        got = fast(raw)
        assert ("too_long" if got is _IRREGULAR else got) == expected, raw
