"""A municipality's LCC unit-price table (gunmane.io.shipped.unit_prices): written as Excel/CSV, edited by a
person (CP932 from Excel, 9万, 1,000,000, full-width digits), read back with every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from gunmane.io.errors import IoFileError
from gunmane.io.shipped.lcc import load_lcc_parameters
from gunmane.io.shipped.unit_prices import (
    UnitPriceFileError,
    read_unit_prices,
    unit_prices_csv,
    unit_prices_xlsx,
    with_actions,
)

SHIPPED = load_lcc_parameters().params
OWN = "宇陀市の単価（単価表.csv、2026-12-07 登録）"
HEADER = "施設の種類,健全性,対策,㎡あたりの単価（円）,1件あたりの固定費（円）,対策後の健全性,出典・根拠,仮定値か"


def write(tmp_path: Path, lines: list[str], name: str = "単価表.csv", encoding: str = "cp932") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join([HEADER, *lines]) + "\r\n").encode(encoding))
    return path


def test_downloads_read_back_unchanged(tmp_path: Path) -> None:
    csv_path = tmp_path / "a.csv"
    csv_path.write_bytes(unit_prices_csv(SHIPPED))
    xlsx_path = tmp_path / "a.xlsx"
    xlsx_path.write_bytes(unit_prices_xlsx(SHIPPED, title="宇陀市 LCC の単価表"))
    for path in (csv_path, xlsx_path):
        got = read_unit_prices(path, SHIPPED, own_source=OWN)
        assert got.actions == SHIPPED.actions and got.changed == () and got.kept == ()
    ws = load_workbook(xlsx_path)["単価表"]
    assert ws["A3"].value == "施設の種類" and ws["A4"].value == "橋梁" and ws["B6"].value == "Ⅳ"
    assert ws["D6"].value == 448000 and ws["H4"].value == "仮定値" and ws["H6"].value is None  # no True/False
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens it in Japanese


def test_a_table_edited_in_excel_is_read_with_its_prices(tmp_path: Path) -> None:
    path = write(tmp_path, [
        "橋梁,Ⅱ,予防保全,\"18,000\",１００万,Ⅰ,宇陀市 令和5年度 補修工事の実績平均,",
        "橋梁,Ⅲ,補修（断面修復・ひび割れ注入・塗替え・支承補修など）,12万,3000000,Ⅰ,,仮定値",
        "橋梁,IV,更新（架替え）,448000,0,1,総務省「公共施設等更新費用試算ソフト」の橋梁更新単価 448千円/㎡"
        "（加古川市 公共施設等総合管理計画 p.18 などが引用）,",
    ])
    got = read_unit_prices(path, SHIPPED, own_source=OWN)
    by = {(a.facility_type, a.grade): a for a in got.actions}
    ii, iii, iv = by["bridge", 2], by["bridge", 3], by["bridge", 4]
    assert (ii.per_m2_yen, ii.fixed_yen, ii.action_ja) == (18_000, 1_000_000, "予防保全")
    assert ii.source == "宇陀市 令和5年度 補修工事の実績平均" and not ii.assumption
    # a changed price whose source was left blank never keeps the shipped citation, and is no longer an assumption
    assert (iii.per_m2_yen, iii.source, iii.assumption) == (120_000, OWN, False)
    assert iv == SHIPPED.action_table("bridge")[4]  # unchanged row: shipped text and source kept exactly
    assert got.changed == ("橋梁 Ⅱ", "橋梁 Ⅲ")
    assert got.kept == ("横断歩道橋 Ⅱ", "横断歩道橋 Ⅲ", "横断歩道橋 Ⅳ")  # rows left out keep the shipped prices
    assert [(a.facility_type, a.grade) for a in got.actions] == [(a.facility_type, a.grade) for a in SHIPPED.actions]
    params = with_actions(SHIPPED, got.actions, "宇陀市の単価表（2026-12-07 登録）")
    assert params.action_table("bridge")[3].per_m2_yen == 120_000 and params.discount_rate == SHIPPED.discount_rate
    assert params.notes == tuple(n for n in params.notes if "横断歩道橋" in n)  # only the kept assumptions remain


def test_every_problem_is_listed_with_row_column_value(tmp_path: Path) -> None:
    path = write(tmp_path, [
        "トンネル,Ⅲ,補修,90000,3000000,Ⅰ,,",            # 2 unknown type
        "橋梁,Ⅰ,点検のみ,1000,0,Ⅰ,,",                   # 3 grade Ⅰ has no action
        "橋梁,Ⅲ,補修,-5000,3000000,Ⅰ,,",               # 4 negative
        "橋梁,Ⅱ,予防保全,0,0,Ⅰ,,",                      # 5 both zero
        "橋梁,Ⅳ,更新,448000000,0,Ⅰ,,",                 # 6 a digit error
        "横断歩道橋,Ⅲ,補修,約9万,3000000,Ⅲ,,",          # 7 not an amount; restores to itself
        "横断歩道橋,Ⅱ,予防保全,,1000000,Ⅰ,,",           # 8 blank price
        "横断歩道橋,Ⅳ,更新,448000,0,Ⅰ,,",               # 9 fine
        "横断歩道橋,Ⅳ,更新,450000,0,Ⅰ,,",               # 10 twice
    ])
    with pytest.raises(UnitPriceFileError) as exc:
        read_unit_prices(path, SHIPPED, own_source=OWN)
    got = [(i.row, i.column, i.value, i.code) for i in exc.value.issues]
    assert got == [
        (2, "施設の種類", "トンネル", "unknown_facility_type"),
        (3, "健全性", "Ⅰ", "grade_out_of_range"),
        (4, "㎡あたりの単価（円）", "-5000", "not_an_amount"),
        (5, "㎡あたりの単価（円）", "0", "zero_cost"),
        (6, "㎡あたりの単価（円）", "448000000", "implausible"),
        (7, "㎡あたりの単価（円）", "約9万", "not_an_amount"),
        (7, "対策後の健全性", "Ⅲ", "grade_out_of_range"),
        (8, "㎡あたりの単価（円）", "", "blank"),
        (10, "健全性", "Ⅳ", "duplicate"),
    ]
    messages = {i.row: i.message_ja for i in exc.value.issues}
    assert "橋梁・横断歩道橋のどれか" in messages[2]
    assert "448,000,000 円は大きすぎます" in messages[6] and "桁を確かめて" in messages[6]
    assert "9 行目にもあります" in messages[10]
    assert exc.value.issues[6].message_ja == "対策後の健全性は、健全性Ⅲより良い健全性（Ⅰ〜Ⅱ）で書いてください。"
    assert "9 件" in exc.value.message_ja and "何も登録していません" in exc.value.message_ja
    assert all(i.file == "単価表.csv" for i in exc.value.issues)


def test_a_file_that_is_not_the_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "台帳.csv"
    path.write_text("施設ID,施設名,健全性\nB1,合成橋,Ⅲ\n", encoding="utf-8")
    with pytest.raises(IoFileError) as exc:
        read_unit_prices(path, SHIPPED, own_source=OWN)
    assert "見出し" in exc.value.message_ja and exc.value.file is None or "台帳.csv" in exc.value.message_ja
    empty = write(tmp_path, [], name="空.csv")
    with pytest.raises(UnitPriceFileError) as exc2:
        read_unit_prices(empty, SHIPPED, own_source=OWN)
    assert exc2.value.issues[0].code == "empty"


def test_the_shipped_column_names_are_read_too(tmp_path: Path) -> None:
    """A copy of gunmane/data/lcc/actions.csv (the files `gunmane lcc --params DIR` reads) uploads as it is."""
    from gunmane.io.shipped.parameters import shipped_bytes

    path = tmp_path / "actions.csv"
    path.write_bytes(shipped_bytes("lcc", "actions.csv"))
    got = read_unit_prices(path, SHIPPED, own_source=OWN)
    assert got.actions == SHIPPED.actions
