"""Positions in a flat xROAD CSV (the 77条 extract with 緯度/経度 columns added, as saved from Excel in CP932).

Before issue #12 such a file was read without a single coordinate and without a word; now every spelling of the
position columns is read, values outside Japan are warnings naming file, row, column and value, and the
facility is kept without a position (the importer's quality report lists it).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gunmane.io.national.xroad import read_xroad

TODAY = date(2026, 3, 31)
HEADER = ["shisetsu_id", "shisetsu_bangou", "syogen.kasetsu_nendo", "syogen.shisetsu.meisyou",
          "syogen.rosen.meisyou", "kanrisya_code", "syogen.kanrisya.kubun", "syogen.kanrisya.meisyou",
          "syogen.gyousei_kuiki.todoufuken_mei", "syogen.gyousei_kuiki.shikuchouson_mei", "tenken.nendo",
          "tenken.kiroku.hantei_kubun"]
# SYNTHETIC bridges of 白石市 (042064) in the extract's layout as Excel saves it (CP932, CRLF, floats for classes),
# one way each of writing a position, then the mistakes found in real files.
ROWS = [
    ["BR0-042064-00101", "1968", "合成みどり橋", "市道合成1号線", "2.0", "38.00222", "140.61972"],      # 2 decimal
    ["BR0-042064-00102", "1985", "合成岩橋", "市道合成8号線", "3.0", "３８．０１０００", "１４０．５５０００"],  # 3 full-width
    ["BR0-042064-00103", "2001", "合成大橋", "市道合成2号線", "1.0", "北緯38度0分36秒", "東経140度33分0秒"],  # 4 度分秒
    ["BR0-042064-00104", "1990", "合成入替橋", "市道合成9号線", "1.0", "140.6", "38.0"],                # 5 swapped
    ["BR0-042064-00105", "1990", "合成欠け橋", "市道合成9号線", "2.0", "38.01", ""],                    # 6 half
    ["BR0-042064-00106", "1990", "合成空欄橋", "市道合成9号線", "2.0", "", ""],                         # 7 none
    ["BR0-042064-00107", "1975", "合成誤字橋", "市道合成5号線", "2.0", "38.0l", "140.6"],               # 8 typo
]


def write_position_csv(path: Path, columns: tuple[str, str] = ("緯度", "経度"), rows: list[list[str]] | None = None,
                       encoding: str = "cp932") -> Path:
    lines = [",".join([*HEADER, *columns])]
    for i, (nid, built, name, route, grade, lat, lon) in enumerate(rows or ROWS):
        lines.append(",".join([f'"38.{i:05d},140.00000"', nid, built, name, route, "42064.0", "5", "白石市", "宮城県",
                               "白石市", "2023", grade, lat, lon]))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_flat_csv_with_緯度_経度_is_read_in_every_notation(tmp_path: Path) -> None:
    xf = read_xroad(write_position_csv(tmp_path / "白石市_橋梁.csv"), today=TODAY)
    assert not xf.errors and xf.rows == 7
    got = {r.name: (r.lat, r.lon) for r in xf.records}
    assert got["合成みどり橋"] == (38.00222, 140.61972)
    assert got["合成岩橋"] == (38.01, 140.55)
    assert got["合成大橋"] == pytest.approx((38.01, 140.55))  # 38°0′36″ = 38.01°
    # Kept, without a position, when the position cannot be used.
    for name in ("合成入替橋", "合成欠け橋", "合成空欄橋", "合成誤字橋"):
        assert got[name] == (None, None)


def test_unusable_positions_are_warnings_naming_file_row_column_value(tmp_path: Path) -> None:
    xf = read_xroad(write_position_csv(tmp_path / "白石市_橋梁.csv"), today=TODAY)
    assert [(w.file, w.row, w.column, w.value, w.code) for w in xf.warnings] == [
        ("白石市_橋梁.csv", 5, "緯度", "140.6", "outside_japan"),
        ("白石市_橋梁.csv", 6, "経度", "", "coordinate_half_missing"),
        ("白石市_橋梁.csv", 8, "緯度", "38.0l", "not_a_coordinate"),
    ]
    swapped = xf.warnings[0].message_ja
    assert "「緯度」の値「140.6」" in swapped and "緯度20〜46度・経度122〜154度" in swapped
    assert "入れ替わっていないか" in swapped and "位置なしで取り込みました" in swapped
    assert "「経度」が空欄" in xf.warnings[1].message_ja


@pytest.mark.parametrize("columns", [("lat", "lon"), ("Latitude", "Longitude"), ("北緯", "東経"), ("ＬＡＴ", "ＬＯＮ"),
                                     ("緯度（世界測地系）", "経度（世界測地系）"), ("syogen.ichi.ido", "syogen.ichi.keido")])
def test_other_spellings_of_the_position_columns(tmp_path: Path, columns: tuple[str, str]) -> None:
    xf = read_xroad(write_position_csv(tmp_path / "x.csv", columns, ROWS[:1]), today=TODAY)
    assert (xf.records[0].lat, xf.records[0].lon) == (38.00222, 140.61972)
    assert not xf.warnings


def test_utf8_file_reads_the_same(tmp_path: Path) -> None:
    a = read_xroad(write_position_csv(tmp_path / "a.csv"), today=TODAY)
    b = read_xroad(write_position_csv(tmp_path / "b.csv", encoding="utf-8-sig"), today=TODAY)
    assert [(r.lat, r.lon) for r in a.records] == [(r.lat, r.lon) for r in b.records]


def test_extract_without_position_columns_still_takes_no_position_from_shisetsu_id(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(",".join(HEADER) + "\n" + '"38.00583,140.54722",BR0-042064-00019,1968,合成橋,市道,42064.0,5,'
                    "白石市,宮城県,白石市,2023,2.0\n", encoding="cp932")
    xf = read_xroad(path, today=TODAY)
    assert (xf.records[0].lat, xf.records[0].lon) == (None, None) and not xf.warnings
