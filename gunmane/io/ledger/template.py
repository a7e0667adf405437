"""The downloadable Excel template for each ledger file: headers, an example row and the input rules."""

from __future__ import annotations

import io

from gunmane.io.ledger.schema import COLUMNS, LEDGER_KIND_JA, LedgerKind

GENERAL_RULES = (
    "1行目の見出しは変えずに、2行目から1施設（1件）ずつ入力してください。列の順番は自由です。",
    "文字コードは問いません（Excel の .xlsx、CSV は UTF-8 でも Shift_JIS でも可）。",
    "年は西暦（1970、1970年度）でも和暦（昭和45年、S45、Ｓ４５、H元、R5）でも入力できます。",
    "日付は 2023/7/12、2023-07-12、R5.7.12、令和5年7月12日 などで入力できます。",
    "全角数字・カンマ区切り（1,234）も使えます。不明な値は「不明」または空欄にしてください（0 は入れないでください）。",
    "健全性は Ⅰ〜Ⅳ（I〜IV、1〜4）で入力してください。",
    "同じファイルを取り込み直しても重複しません。修正したファイルを取り込むと（団体コード・施設ID）が同じ行が更新されます。",
    "エラーがあると1行も登録されません（エラー行を除いて取り込む、を選んだ場合を除く）。エラー一覧をExcelでダウンロードできます。",
)


def template_xlsx(kind: LedgerKind) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    cols = COLUMNS[kind]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = LEDGER_KIND_JA[kind]
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for j, col in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=j, value=col.header)
        cell.font = Font(bold=True)
        cell.fill = required_fill if col.required else header_fill
        cell.comment = Comment(("【必須】" if col.required else "") + col.rule_ja, "gunmane")
        ws.column_dimensions[get_column_letter(j)].width = max(12, len(col.header) * 2 + 4)
    ws.freeze_panes = "A2"

    ex = wb.create_sheet("記入例")
    for j, col in enumerate(cols, start=1):
        ex.cell(row=1, column=j, value=col.header).font = Font(bold=True)
        ex.cell(row=2, column=j, value=col.example)
        ex.column_dimensions[get_column_letter(j)].width = max(12, len(col.header) * 2 + 4)
    ex.cell(row=4, column=1, value="この記入例のシートは取り込まれません。入力は最初のシートにしてください。").font = Font(
        italic=True, color="666666")

    rules = wb.create_sheet("入力ルール")
    rules.append([f"{LEDGER_KIND_JA[kind]}台帳の入力ルール（gunmane）"])
    rules["A1"].font = Font(bold=True, size=14)
    for line in GENERAL_RULES:
        rules.append([f"・{line}"])
    rules.append([])
    rules.append(["見出し", "必須", "入力ルール", "記入例", "受け付ける別の見出し"])
    for c in rules[rules.max_row]:
        c.font = Font(bold=True)
        c.fill = header_fill
    for col in cols:
        rules.append([col.header, "必須" if col.required else "", col.rule_ja, col.example,
                      "、".join(col.aliases[:8])])
    for letter, width in zip("ABCDE", (16, 6, 70, 16, 50), strict=True):
        rules.column_dimensions[letter].width = width
    for row in rules.iter_rows(min_row=2):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
