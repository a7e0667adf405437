"""Reading files as municipalities send them: encodings, title rows, two-row headers, row numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from gunmane.io.ledger.schema import LedgerKind, match_header
from gunmane.io.ledger.tabular import TableError, detect_encoding, open_table
from tests.fixtures import MESSY_BRIDGES_CSV, write_cp932, write_two_row_header_xlsx


def facilities(text: str) -> str | None:
    return match_header(LedgerKind.FACILITIES, text)


def inspections(text: str) -> str | None:
    return match_header(LedgerKind.INSPECTIONS, text)


def test_cp932_file_is_detected_and_header_found_below_a_title(tmp_path: Path) -> None:
    path = write_cp932(tmp_path / "bridges.csv", MESSY_BRIDGES_CSV)
    assert detect_encoding(path) == "cp932"
    table = open_table(path, facilities)
    assert table.header_rows == (2,)
    assert table.keys["facility_id"].text == "施設番号"
    assert table.keys["built_year"].text == "架設年度"
    assert table.keys["length_m"].text == "橋長(m)"
    rows = list(table.rows())
    assert rows[0][0] == 3 and rows[0][1][1] == "BR-001"
    assert rows[-1][0] == 11


@pytest.mark.parametrize("encoding,expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")])
def test_utf8_with_and_without_bom(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text("施設ID,施設名,施設種別\nA-1,一号橋,橋梁\n", encoding=encoding)
    assert detect_encoding(path) == expected
    table = open_table(path, facilities)
    assert [r for _, r in table.rows()] == [["A-1", "一号橋", "橋梁"]]


def test_cp932_character_late_in_a_large_ascii_file_is_still_detected(tmp_path: Path) -> None:
    body = "施設ID,施設名,施設種別\n" + "".join(f"A-{i},bridge{i},bridge\n" for i in range(200_000)) + "Z,末尾橋,橋梁\n"
    path = tmp_path / "big.csv"
    path.write_bytes(body.encode("cp932"))
    assert detect_encoding(path) == "cp932"


def test_undecodable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\x81\x39\xff\xfe\x00garbage")
    with pytest.raises(TableError) as exc:
        open_table(path, facilities)
    assert "文字コード" in exc.value.message_ja


def test_two_row_merged_header_in_xlsx(tmp_path: Path) -> None:
    path = write_two_row_header_xlsx(tmp_path / "inspections.xlsx")
    table = open_table(path, inspections)
    keys = table.keys
    assert keys["inspected_on"].text.endswith("点検年月日")
    assert keys["grade"].text.endswith("判定区分")
    numbers = [n for n, _ in table.rows()]
    assert numbers == [5, 6, 7, 8, 9, 10]


def test_merged_group_label_over_unlabelled_columns(tmp_path: Path) -> None:
    """諸元 spans 延長/幅員 on the upper row; the lower row has the units only."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["施設ID", "施設名", "施設種別", "延長", "幅員"])
    ws.append([None, None, None, "(m)", "(m)"])
    ws.append(["A-1", "一号橋", "橋梁", 12.5, 4])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    table = open_table(path, facilities)
    assert {"length_m", "width_m"} <= set(table.keys)
    assert [n for n, _ in table.rows()][0] == 3


def test_no_header_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(TableError) as exc:
        open_table(path, facilities)
    assert exc.value.code == "header_not_found"


def test_legacy_xls_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(TableError) as exc:
        open_table(path, facilities)
    assert ".xlsx" in exc.value.message_ja
