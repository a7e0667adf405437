"""Row validation of messy ledgers: every error names the Excel row, the header as written, the value."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gunmane.io.ledger.reader import LedgerReader
from gunmane.io.ledger.schema import LedgerKind
from tests.fixtures import MESSY_BRIDGES_CSV, MESSY_ERRORS, corrected_bridges_csv, write_cp932

TODAY = date(2026, 11, 27)


def read(path: Path, kind: LedgerKind = LedgerKind.FACILITIES, lg_code: str | None = None):  # type: ignore[no-untyped-def]
    reader = LedgerReader(path, kind, lg_code=lg_code, today=TODAY)
    return reader, list(reader)


def test_messy_cp932_bridge_ledger(tmp_path: Path) -> None:
    reader, rows = read(write_cp932(tmp_path / "橋梁台帳.csv", MESSY_BRIDGES_CSV))
    assert reader.file_issues == []
    assert reader.encoding == "cp932"
    errors = [(e.row, e.column, e.value, e.code) for r in rows for e in r.errors]
    assert errors == MESSY_ERRORS
    warnings = [(w.row, w.column, w.value, w.code) for r in rows for w in r.warnings]
    assert warnings == [(6, "架設年度", "平成32年", "era_year_overflow")]
    for r in rows:
        for e in r.errors:
            assert e.message_ja and not e.message_ja.isascii()
    first = rows[0].record
    assert first["lg_code"] == "292125"
    assert first["facility_id"] == "BR-001"
    assert first["built_year"] == 1970
    assert first["built_year_raw"] == "昭和45年"
    assert first["length_m"] == 1234.5
    assert first["width_m"] == 6.0
    assert first["facility_type"] == "bridge"  # from the 橋梁名 header: a bridge ledger
    assert first["sector"] == "road"
    assert first["attributes"] == {"管理区分": "1級"}
    second = rows[1].record
    assert second["built_year"] is None  # 不明 stays unknown, never 0
    assert abs(second["lat"] - (34 + 31 / 60 + 40 / 3600)) < 1e-9
    assert rows[2].record["built_year"] == 1973  # Ｓ４８ full width
    assert rows[3].record["built_year"] == 2020  # 平成32年 → 2020 with a warning


def test_corrected_file_has_no_errors(tmp_path: Path) -> None:
    _, rows = read(write_cp932(tmp_path / "fixed.csv", corrected_bridges_csv()))
    assert [e for r in rows for e in r.errors] == []
    assert len(rows) == 9


def test_missing_required_column_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("団体コード,施設名,施設種別\n292125,一号橋,橋梁\n", encoding="utf-8")
    reader, rows = read(path)
    assert rows == []
    assert [(i.code, i.column) for i in reader.file_issues] == [("missing_column", "施設ID")]
    assert "施設ID" in reader.file_issues[0].message_ja


def test_lg_code_optional_with_municipality_and_checked_against_it(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("施設ID,施設名,施設種別,団体コード\nA-1,一号橋,橋梁,\nA-2,二号橋,橋梁,29385\n", encoding="utf-8")
    reader, rows = read(path, lg_code="292125")
    assert rows[0].record["lg_code"] == "292125"
    assert [(e.row, e.code) for e in rows[1].errors] == [(3, "lg_code_mismatch")]


def test_without_lg_code_column_a_municipality_is_needed(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("施設ID,施設名,施設種別\nA-1,一号橋,橋梁\n", encoding="utf-8")
    reader, _ = read(path)
    assert [i.code for i in reader.file_issues] == ["lg_code_missing"]


def test_inspections_and_measures_values(tmp_path: Path) -> None:
    path = tmp_path / "i.csv"
    path.write_text("施設ID,点検日,健全度,点検区分\nA-1,R5.7.12,Ⅲ（早期措置段階）,定期\nA-1,令和元年5月1日,2,\n",
                    encoding="utf-8")
    _, rows = read(path, LedgerKind.INSPECTIONS, lg_code="292125")
    assert [r.record["inspected_on"] for r in rows] == [date(2023, 7, 12), date(2019, 5, 1)]
    assert [r.record["grade"] for r in rows] == [3, 2]
    assert [r.record["kind"] for r in rows] == ["定期点検", "定期点検"]
    path = tmp_path / "m.csv"
    path.write_text("施設ID,措置年度,措置内容,進捗,事業費(円)\nA-1,R9,補修,予定,\"12,500,000\"\nA-1,R9,修繕,完了,1\n",
                    encoding="utf-8")
    _, rows = read(path, LedgerKind.MEASURES, lg_code="292125")
    rec = rows[0].record
    assert (rec["fiscal_year"], rec["kind"], rec["status"], rec["cost_thousand_yen"]) == (2027, "修繕", "未着手", 12500.0)
    assert [e.code for e in rows[1].errors] == ["duplicate_in_file"]


def test_unknown_choice_lists_the_expected_values(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("施設ID,措置年度,措置区分\nA-1,2024,塗装\n", encoding="utf-8")
    _, rows = read(path, LedgerKind.MEASURES, lg_code="292125")
    (err,) = rows[0].errors
    assert err.code == "not_a_choice" and "修繕" in err.message_ja and err.column == "措置区分"
