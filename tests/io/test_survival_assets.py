"""The assets reader of the service-life model: years as ledgers write them, and errors that say where and why."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook

from gunmane.engine.survival import service_lives
from gunmane.io.survival import AssetsFileError, read_assets

TODAY = date(2026, 12, 7)  # fiscal year 2026


def write(tmp_path: Path, text: str, name: str = "管路.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_years_as_ledgers_write_them(tmp_path: Path) -> None:
    path = write(tmp_path, "管路ID,布設年度,更新年度,撤去年度,観測終了年度,記録開始年度\n"
                           "P1,昭和50年度,2010,,,\n"           # 和暦 with 年度
                           "P2,S45,,,,\n"                       # in service: censored at the default year
                           "P3,不明,2000,,,\n"                  # install unknown: left out, counted
                           "P4,1980,不明,,,\n"                  # renewed in an unknown year: left out, counted
                           "P5,平成元年,,2015,,\n"              # removed (撤去年度), not renewed
                           "P6,１９６０,2005,2001,,\n"          # full-width digits; the earlier end counts
                           "P7,1965,,,2020,1990\n"              # its own 観測終了年度 and 記録開始年度
                           "P8,2019/5/20,,,,\n", encoding="cp932")  # a date: its fiscal year, with a warning
    got = read_assets(path, today=TODAY)
    lives = got.lives
    assert got.observed_until == 2026 and list(lives.asset_id) == [f"P{i}" for i in range(1, 9)]
    np.testing.assert_array_equal(lives.install_year, [1975, 1970, np.nan, 1980, 1989, 1960, 1965, 2019])
    np.testing.assert_array_equal(lives.renewal_year, [2010, np.nan, 2000, np.nan, 2015, 2001, np.nan, np.nan])
    np.testing.assert_array_equal(lives.observed_until, [2026] * 6 + [2020, 2026])
    np.testing.assert_array_equal(lives.observed_from, [np.nan] * 6 + [1990, np.nan])
    assert list(lives.renewal_unknown) == [False, False, False, True, False, False, False, False]
    assert [(w.row, w.code) for w in got.warnings] == [(9, "date_as_year")]
    assert got.columns["install_year"] == "布設年度" and got.columns["removal_year"] == "撤去年度"
    used = service_lives(lives)
    assert used.excluded["missing_install_year"] == 1 and used.excluded["missing_renewal_year"] == 1
    assert used.n == 6 and used.n_truncated == 1
    # --observed-until for the rows without their own
    assert read_assets(path, today=TODAY, observed_until=2024).lives.observed_until[1] == 2024


def test_xlsx_with_english_headers(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["asset_id", "install_year", "renewal_year"])
    ws.append(["A", 1970, 2011])
    ws.append(["B", "H2", None])
    path = tmp_path / "assets.xlsx"
    wb.save(path)
    lives = read_assets(path, today=TODAY).lives
    np.testing.assert_array_equal(lives.install_year, [1970, 1990])
    np.testing.assert_array_equal(lives.renewal_year, [2011, np.nan])


def test_errors_name_file_row_column_value_and_what_was_expected(tmp_path: Path) -> None:
    path = write(tmp_path, "施設ID,設置年度,更新年度\nP1,1970,abc\n,1980,\nP3,2031,\n")
    with pytest.raises(AssetsFileError) as bad:
        read_assets(path, today=TODAY)
    issues = [(i.row, i.column, i.value, i.code) for i in bad.value.issues]
    assert issues == [(2, "更新年度", "abc", "not_a_year"), (3, "施設ID", "", "required"),
                      (4, "設置年度", "2031", "future_year")]
    text = bad.value.message_ja
    assert text.startswith("管路.csv: 施設の設置・更新年度のファイルに3件の誤りがあります") and bad.value.file == "管路.csv"
    assert "2行目「更新年度」 値「abc」" in text and "和暦" in text and "「不明」と入れてください" in text
    assert "2026年以前" in text and "施設IDが空欄です" in text
    with pytest.raises(AssetsFileError) as columns:
        read_assets(write(tmp_path, "施設ID,更新年度,点検年度\nP1,2000,2010\n", "cols.csv"), today=TODAY)
    assert [(i.column, i.code) for i in columns.value.issues] == [("設置年度", "missing_column")]
    assert "必須の列「設置年度」が見つかりません（見出しの例: 設置年度・布設年度・敷設年度）" in columns.value.message_ja
    with pytest.raises(AssetsFileError) as no_end:
        read_assets(write(tmp_path, "施設ID,設置年度,点検年度\nP1,2000,2010\n", "end.csv"), today=TODAY)
    assert "「更新年度」または「撤去年度」が見つかりません" in no_end.value.message_ja
    with pytest.raises(AssetsFileError) as empty:
        read_assets(write(tmp_path, "施設ID,設置年度,更新年度\n", "empty.csv"), today=TODAY)
    assert empty.value.issues[0].code == "no_rows"
