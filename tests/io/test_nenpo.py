"""道路メンテナンス年報 lists: layout recognised by header text, values, ルビ ignored, precise Japanese errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from gunmane.io.national.common import ManagerResolver, NationalFileError, match_text
from gunmane.io.national.nenpo import open_nenpo
from tests.national_fixtures import FY2020_ERRORS, FY2020_ROWS, write_miyagi_lists, write_nenpo


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_miyagi_lists(tmp_path_factory.mktemp("nenpo"))


def test_layout_recognised_from_merged_two_row_header(lists: tuple[Path, Path]) -> None:
    f = open_nenpo(lists[0])
    assert f.sheet == "橋梁点検結果（地方公共団体）"
    assert f.header_rows == (2, 3)
    assert f.columns == {"name": 0, "reading": 1, "route": 2, "built_year": 3, "length_m": 4, "width_m": 5, "manager": 6,
                         "prefecture": 7, "inspection_year": 8, "grade": 9}
    assert f.headers[3] == "架設年度（西暦）" and f.headers[9] == "点検結果 判定区分"
    assert (f.fiscal_year, f.list_kind, f.display_name) == (2020, "01-3", "r02/01-3.xlsx")


def test_rows_values_and_errors(lists: tuple[Path, Path]) -> None:
    f = open_nenpo(lists[0])
    got = list(f.rows())
    rows = [r for r, _ in got if r is not None]
    assert len(got) == len(FY2020_ROWS) and len(rows) == len(FY2020_ROWS) - 1
    first = rows[0]
    assert (first.row, first.name, first.reading, first.route, first.built_year, first.grade, first.manager,
            first.prefecture, first.length_m, first.width_m) == (
        4, "合成みどり橋", "ごうせいみどりばし", "市道合成1号線", 1968, 2, "白石市", "宮城県", 12.5, 6.0)
    # 不明 is unknown (None), never 0; the raw text is kept.
    assert (rows[1].built_year, rows[1].built_year_raw) == (None, "不明")
    assert rows[2].name == "" and rows[2].reading == "ごうせいむめいばし"
    assert rows[8].grade == 3 and rows[8].grade_raw == "III"  # ASCII Roman numerals too
    issues = [i for r, found in got if r is None for i in found]
    assert [(i.row, i.column, i.value, i.code) for i in issues] == FY2020_ERRORS
    assert all(i.file == "r02/01-3.xlsx" for i in issues)
    assert "Ⅰ・Ⅱ・Ⅲ・Ⅳ" in issues[1].message_ja and "4桁" in issues[0].message_ja


def test_ruby_runs_are_not_appended(lists: tuple[Path, Path]) -> None:
    rows = [r for r, _ in open_nenpo(lists[0]).rows() if r is not None]
    assert {r.prefecture for r in rows} == {"宮城県"}
    assert rows[0].manager == "白石市"  # not 白石市シロイシシ


def test_grade_forms_digits_fullwidth(tmp_path: Path) -> None:
    base = ["合成橋", "ごうせいばし", "市道", "1980", 5.0, 4.0, "白石市", "宮城県", "2021"]
    path = write_nenpo(tmp_path / "r03_01-3.xlsx", 2021, [[*base, g] for g in ("Ⅳ", "IV", "4", "４", 2)])
    rows = [r for r, _ in open_nenpo(path).rows()]
    assert [r.grade for r in rows if r] == [4, 4, 4, 4, 2]


def test_future_construction_year_refused(tmp_path: Path) -> None:
    row = ["合成橋", "ごうせいばし", "市道", "2026", 5.0, 4.0, "白石市", "宮城県", "2021", "Ⅰ"]
    path = write_nenpo(tmp_path / "list.xlsx", 2021, [row])
    (r, issues), = list(open_nenpo(path).rows())
    assert r is None and issues[0].code == "future_year" and issues[0].column == "架設年度（西暦）"


def test_fiscal_year_from_option_path_or_title(tmp_path: Path) -> None:
    row = ["合成橋", "ごうせいばし", "市道", "1980", 5.0, 4.0, "白石市", "宮城県", "2021", "Ⅰ"]
    untitled = write_nenpo(tmp_path / "list.xlsx", 2021, [row], title=False)
    with pytest.raises(NationalFileError) as e:
        open_nenpo(untitled)
    assert e.value.issue.code == "fiscal_year_unknown" and "--fiscal-year" in e.value.issue.message_ja
    assert open_nenpo(untitled, fiscal_year=2021).fiscal_year == 2021
    (tmp_path / "r05").mkdir()
    by_path = write_nenpo(tmp_path / "r05" / "01-3.xlsx", 2023, [row], title=False)
    assert open_nenpo(by_path).fiscal_year == 2023
    titled = write_nenpo(tmp_path / "t.xlsx", 2022, [row])
    f = open_nenpo(titled, fiscal_year=2021)
    assert f.fiscal_year == 2021 and f.warnings[0].code == "fiscal_year_differs"


def test_columns_found_by_text_not_position(tmp_path: Path) -> None:
    """Another year's layout: columns in a different order, a one-row header under a title."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["令和3年度 橋梁点検結果【合成データ】"])
    ws.append(["判定区分", "都道府県名", "管理者名", "架設年度", "路線名", "施設名"])
    ws.append(["Ⅱ", "宮城県", "白石市", "不明", "市道", "合成橋"])
    path = tmp_path / "other.xlsx"
    wb.save(path)
    f = open_nenpo(path)
    assert f.header_rows == (2,) and f.fiscal_year == 2021
    (r, _), = list(f.rows())
    assert r is not None and (r.name, r.manager, r.grade, r.built_year) == ("合成橋", "白石市", 2, None)


def test_unrecognised_header_fails_loudly(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["施設ID", "施設名", "延長"])
    ws.append(["BR-1", "合成橋", 5])
    path = tmp_path / "ledger.xlsx"
    wb.save(path)
    with pytest.raises(NationalFileError) as e:
        open_nenpo(path)
    assert e.value.issue.code == "nenpo_header_not_found" and "判定区分" in e.value.issue.message_ja
    assert e.value.issue.file == "ledger.xlsx"


def test_missing_column_named(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["令和3年度"])
    ws.append(["施設名", "管理者名", "判定区分", "架設年度"])
    path = tmp_path / "nopref.xlsx"
    wb.save(path)
    with pytest.raises(NationalFileError) as e:
        open_nenpo(path)
    assert e.value.issue.code == "nenpo_column_missing" and "都道府県名" in e.value.issue.message_ja


def test_not_an_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(NationalFileError) as e:
        open_nenpo(path)
    assert e.value.issue.code == "xlsx_unreadable"


def test_match_text_unifies_kana_forms() -> None:
    assert match_text("(ｺﾞｳｾｲﾐﾄﾞﾘﾊﾞｼ)") == match_text("ごうせいみどりばし") == match_text("ゴウセイミドリバシ")
    assert match_text("七ヶ宿町") == match_text("七ケ宿町")
    assert match_text("国道298号　現道") == match_text("国道298号 現道")


def test_manager_resolution() -> None:
    r = ManagerResolver()
    assert (r.resolve("宮城県", "宮城県").lg_code, r.resolve("宮城県", "宮城県").status) == ("040002", "prefecture")
    assert r.resolve("白石市", "宮城県").lg_code == "042064"
    assert r.resolve("七ケ宿町", "宮城県").lg_code == "043028"
    assert r.resolve("宮城県白石市", "福島県").lg_code == "042064"
    assert r.resolve("府中市", "東京都").lg_code == "132063" and r.resolve("府中市", "広島県").lg_code == "342084"
    assert r.resolve("府中市", "宮城県").status == "ambiguous"
    assert r.resolve("八潮市", "東京都").status == "elsewhere"  # a border bridge standing in another prefecture
    assert (r.resolve("宮城県道路公社", "宮城県").status, r.resolve("宮城県道路公社", "宮城県").category) == (
        "non_lg", "corporation")
    assert r.resolve("仙南合成衛生処理組合", "宮城県").category == "joint_board"
    assert r.resolve("東北地方整備局", "宮城県").category == "national"
    assert r.resolve("NEXCO東日本", "宮城県").category == "expressway"
    assert r.resolve("合成例示村", "宮城県").status == "unresolved"
