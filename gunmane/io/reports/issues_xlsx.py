"""The errors and warnings of one import as a workbook the user can sort, filter and work through.

Sheets 「エラー」 and 「警告」: a title line (file, kind, time of the import), the header 行・列・値・コード・内容,
one row per issue (「ファイル」 in 行 for an issue about the whole file).  The values are what the user's
file said, so every text cell is neutralised against formula injection (gunmane.io.safe_cells).
No Django: the web app passes the issues as stored with the import (mappings with row, column, value,
code, message).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font

from gunmane.io.safe_cells import neutralise_workbook

__all__ = ["ISSUE_HEADERS", "issues_xlsx"]

ISSUE_HEADERS = ("行", "列", "値", "コード", "内容")
COLUMN_WIDTHS = (8, 18, 24, 22, 80)


def issues_xlsx(out: IO[bytes], *, file_name: str, kind_label: str, imported_at: datetime,
                       errors: Iterable[Mapping[str, Any]], warnings: Iterable[Mapping[str, Any]]) -> None:
    """Write the workbook of the import of ``file_name`` (a 「施設」 file imported at ``imported_at``) to ``out``."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "エラー"
    for title, issues, sheet in (("エラー", errors, ws), ("警告", warnings, wb.create_sheet("警告"))):
        sheet.append([f"{file_name} の{title}一覧（{kind_label}・{imported_at:%Y-%m-%d %H:%M}）"])
        sheet.append(list(ISSUE_HEADERS))
        for c in sheet[2]:
            c.font = Font(bold=True)
        for i in issues:
            sheet.append([i["row"] or "ファイル", i["column"], i["value"], i["code"], i["message"]])
        for letter, width in zip("ABCDE", COLUMN_WIDTHS, strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "A3"
    neutralise_workbook(wb)  # a cell that begins with = + - @ must not become a live formula
    wb.save(out)
