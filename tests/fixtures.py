"""Messy ledger files as municipalities really send them (written by the tests, not downloaded).

Each builder returns the path and documents what is wrong in it, so tests can assert the exact
row, column and value of every error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

# A bridge ledger exported from an old system: CP932, title line, 和暦, full-width digits,
# 不明, 度分秒, thousands separators — and five mistakes (rows as Excel shows them):
#   row 7: 架設年度 2031 (future)       row 8: 施設番号 BR-002 duplicate of row 4
#   row 9: 緯度 60.1 (outside Japan)    row 10: 橋長 abc (not a number)
#   row 11: 架設年度 令和0年 (era year 0)
# and one warning: row 6 架設年度 平成32年 (past the era's end, converted to 2020).
MESSY_BRIDGES_CSV = """宇陀市 橋梁台帳（令和6年3月31日現在）
団体コード,施設番号,橋梁名,路線名,架設年度,橋長(m),幅員,緯度,経度,構造形式,管理区分
29212,BR-001,大宇陀橋,市道大宇陀線,昭和45年,"1,234.5",６．０,34.5277,135.9525,PC単純T桁橋,1級
29212,BR-002,拾生橋,市道拾生線,不明,12,5,34°31′40″,135°57′09″,RC床版橋,2級
29212,BR-003,榛原橋,市道榛原線,Ｓ４８,２４．５,7.5,34.53,135.95,鋼単純H桁橋,
29212,BR-004,菟田野橋,市道菟田野線,平成32年,8,4,34.51,135.94,RC床版橋,
29212,BR-005,室生橋,市道室生線,2031,15,5,34.55,135.99,RC床版橋,
29212,BR-002,重複橋,市道重複線,S50,5,5,34.52,135.96,RC床版橋,
29212,BR-007,北緯誤り橋,市道誤り線,H3,5,5,60.1,135.96,RC床版橋,
29212,BR-008,数値誤り橋,市道誤り線,H元,abc,5,34.52,135.96,RC床版橋,
29212,BR-009,令和零年橋,市道誤り線,令和0年,5,5,34.52,135.96,RC床版橋,
"""

MESSY_ERRORS = [
    (7, "架設年度", "2031", "future_year"),
    (8, "施設番号", "BR-002", "duplicate_in_file"),
    (9, "緯度", "60.1", "outside_japan"),
    (10, "橋長(m)", "abc", "not_a_number"),
    (11, "架設年度", "令和0年", "era_year_zero"),
]


def corrected_bridges_csv() -> str:
    lines = MESSY_BRIDGES_CSV.splitlines()
    fixed = {
        7: "29212,BR-005,室生橋,市道室生線,2001,15,5,34.55,135.99,RC床版橋,",
        8: "29212,BR-006,重複橋,市道重複線,S50,5,5,34.52,135.96,RC床版橋,",
        9: "29212,BR-007,北緯誤り橋,市道誤り線,H3,5,5,34.52,135.96,RC床版橋,",
        10: "29212,BR-008,数値誤り橋,市道誤り線,H元,5.5,5,34.52,135.96,RC床版橋,",
        11: "29212,BR-009,令和零年橋,市道誤り線,令和元年,5,5,34.52,135.96,RC床版橋,",
    }
    return "\n".join(fixed.get(i + 1, line) for i, line in enumerate(lines)) + "\n"


def write_cp932(path: Path, text: str) -> Path:
    path.write_bytes(text.replace("\n", "\r\n").encode("cp932"))
    return path


def write_two_row_header_xlsx(path: Path) -> Path:
    """Inspection results as an Excel sheet: title, a merged two-row header, Excel date cells, 和暦 text dates.

    Mistakes: row 8 grade 5; row 9 date in the future; row 10 facility BR-999 unknown.
    """
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "点検結果"
    ws["A1"] = "令和5年度 橋梁定期点検結果一覧"
    ws["A1"].font = Font(bold=True)
    ws.append([])
    ws.append(["施設", None, "点検", None, None, "備考"])
    ws.append(["団体コード", "施設番号", "点検年月日", "判定区分", "点検者", None])
    ws.merge_cells("A3:B3")
    ws.merge_cells("C3:E3")
    ws.merge_cells("F3:F4")
    rows = [
        ["292125", "BR-001", dt.datetime(2019, 7, 12), "Ⅱ", "(株)奈良橋梁コンサルタント", ""],
        ["292125", "BR-001", "R5.7.12", "Ⅲ", "(株)奈良橋梁コンサルタント", "床版ひびわれ"],
        ["292125", "BR-003", "令和5年8月1日", "III", "職員直営", ""],
        ["292125", "BR-004", "2023/9/30", 5, "職員直営", ""],
        ["292125", "BR-002", "2031/4/1", "I", "職員直営", ""],
        ["292125", "BR-999", "2023/10/2", "Ⅰ", "職員直営", ""],
    ]
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


XLSX_ERRORS = [
    (8, "判定区分", "5", "grade_out_of_range"),
    (9, "点検年月日", "2031/4/1", "future_date"),
    (10, "施設番号", "BR-999", "unknown_facility"),
]
