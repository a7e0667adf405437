"""Survey files (アンケート): answers as CSV/XLSX, the respondent link list for mail merge.

No Django: the web app passes plain dataclasses (SurveySpec, RespondentRow, CountRow, LinkRow).
CSV is UTF-8 with a BOM so that Excel on Japanese Windows opens it without garbling.  Every text cell
is neutralised against formula injection by the shared helper gunmane.io.safe_cells (a leading = + - @
TAB CR gets an apostrophe) — the files are opened by staff in Excel, and the text was typed by anyone
with a link.
The same dataclasses describe the questionnaire for the paper PDF (gunmane.io.reports.survey_pdf).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gunmane.io.safe_cells import neutralise_workbook, safe_cell, safe_row

__all__ = [
    "CountRow", "LinkRow", "QuestionSpec", "RespondentRow", "SurveySpec", "links_csv", "links_xlsx",
    "response_table", "responses_csv", "responses_xlsx", "safe_text",
]

KIND_LABELS = {"single": "単一選択", "multiple": "複数選択", "scale": "5段階評価", "number": "数値",
               "text": "自由記述", "matrix": "マトリクス"}
HEAD_FILL = PatternFill("solid", fgColor="E8F1FE")


@dataclass(frozen=True)
class QuestionSpec:
    number: int
    key: str
    kind: str
    text: str
    choices: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()
    scale_labels: tuple[str, ...] = ()
    required: bool = False
    unit: str = ""
    condition: str = ""  # 「問3で「参加しない」と答えた方のみ…」
    help: str = ""
    max_choices: int | None = None


@dataclass(frozen=True)
class SurveySpec:
    title: str
    group: str
    name_label: str
    attribute_labels: tuple[str, ...]
    questions: tuple[QuestionSpec, ...]
    intro: str = ""
    closes_on: date | None = None
    organiser: str = ""  # who to ask / where to return the paper form


@dataclass(frozen=True)
class RespondentRow:
    name: str
    attributes: tuple[str, ...]
    status: str  # 「送信済み」「一時保存」「未回答」
    submitted_at: datetime | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CountRow:
    number: int
    question: str
    option: str
    count: int
    base: int  # respondents who answered the question
    mean: float | None = None  # for a scale / matrix row

    @property
    def percent(self) -> float | None:
        return round(100 * self.count / self.base, 1) if self.base else None


@dataclass(frozen=True)
class LinkRow:
    name: str
    attributes: tuple[str, ...]
    url: str
    expires_on: date
    status: str


safe_text = safe_cell  # the name this module exported before the helper was shared by every writer


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _answer_columns(spec: SurveySpec) -> list[tuple[str, QuestionSpec, str | None]]:
    """(header, question, choice-or-row) for each answer column."""
    cols: list[tuple[str, QuestionSpec, str | None]] = []
    for q in spec.questions:
        head = f"問{q.number} {_short(q.text, 40)}"
        if q.kind == "multiple":
            cols += [(f"問{q.number} {_short(q.text, 20)}：{c}", q, c) for c in q.choices]
        elif q.kind == "matrix":
            cols += [(f"問{q.number} {_short(q.text, 20)}：{r}", q, r) for r in q.rows]
        else:
            cols.append((head + (f"（{q.unit}）" if q.unit else ""), q, None))
    return cols


def _cell(q: QuestionSpec, part: str | None, answers: Mapping[str, Any]) -> Any:
    value = answers.get(q.key)
    if value is None:
        return ""
    if q.kind == "multiple":
        return 1 if part in value else 0
    if q.kind == "matrix":
        return value.get(part, "") if isinstance(value, Mapping) else ""
    return safe_text(value)


def response_table(spec: SurveySpec, rows: Iterable[RespondentRow]) -> tuple[list[str], list[list[Any]]]:
    """Header and one row per respondent: multiple choice as 1/0 per choice, a matrix as one column per row."""
    cols = _answer_columns(spec)
    header = [spec.name_label, *spec.attribute_labels, "状態", "送信日時", *[c[0] for c in cols]]
    body = []
    for r in rows:
        attrs = [safe_text(a) for a in r.attributes] + [""] * (len(spec.attribute_labels) - len(r.attributes))
        sent = f"{r.submitted_at:%Y-%m-%d %H:%M}" if r.submitted_at else ""
        body.append([safe_text(r.name), *attrs[: len(spec.attribute_labels)], r.status, sent,
                     *[_cell(q, part, r.answers) for _, q, part in cols]])
    return header, body


def _csv_bytes(header: list[Any], body: list[list[Any]]) -> bytes:
    """A table as CSV for Excel (UTF-8 with BOM, CRLF); the body comes already neutralised by its table builder."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(safe_row(header))
    w.writerows(body)
    return out.getvalue().encode("utf-8-sig")


def responses_csv(spec: SurveySpec, rows: Iterable[RespondentRow]) -> bytes:
    return _csv_bytes(*response_table(spec, rows))


def _style_header(ws: Worksheet, row: int, widths: Sequence[float]) -> None:
    for cell in ws[row]:
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def responses_xlsx(spec: SurveySpec, rows: Iterable[RespondentRow], counts: Sequence[CountRow] = ()) -> bytes:
    """Workbook with the sheets 回答一覧 (one row per respondent), 単純集計 (counts) and 設問 (the questions)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "回答一覧"
    header, body = response_table(spec, rows)
    ws.append(header)
    for r in body:
        ws.append(r)
    _style_header(ws, 1, [22] + [14] * len(spec.attribute_labels) + [10, 17] + [16] * (len(header) - 3
                                                                                     - len(spec.attribute_labels)))
    ws.freeze_panes = ws.cell(row=2, column=2 + len(spec.attribute_labels)).coordinate

    ws2 = wb.create_sheet("単純集計")
    ws2.append([f"{spec.title}（{spec.group}）単純集計 — 送信済みの回答のみ"])
    ws2.append(["問", "設問", "選択肢・行", "回答数", "割合(%)", "回答者数", "平均（5段階）"])
    for c in counts:
        ws2.append([c.number, c.question, safe_text(c.option), c.count, c.percent, c.base,
                    None if c.mean is None else round(c.mean, 2)])
    _style_header(ws2, 2, [6, 50, 36, 10, 10, 10, 14])
    ws2.freeze_panes = "A3"

    ws3 = wb.create_sheet("設問")
    ws3.append(["問", "キー", "形式", "必須", "設問", "選択肢・行", "表示条件"])
    for q in spec.questions:
        items = q.choices or q.rows
        if q.kind == "scale":
            items = tuple(f"{i} {label}" for i, label in enumerate(q.scale_labels, start=1))
        ws3.append([q.number, q.key, KIND_LABELS.get(q.kind, q.kind), "必須" if q.required else "", q.text,
                    " / ".join(items), q.condition])
    _style_header(ws3, 1, [6, 18, 12, 6, 60, 60, 40])
    neutralise_workbook(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _link_table(spec: SurveySpec, links: Iterable[LinkRow]) -> tuple[list[str], list[list[Any]]]:
    header = [spec.name_label, *spec.attribute_labels, "回答用URL", "有効期限", "回答状況"]
    body = []
    for link in links:
        attrs = list(link.attributes) + [""] * (len(spec.attribute_labels) - len(link.attributes))
        body.append([safe_text(link.name), *[safe_text(a) for a in attrs[: len(spec.attribute_labels)]], link.url,
                     f"{link.expires_on.year}年{link.expires_on.month}月{link.expires_on.day}日", link.status])
    return header, body


def links_csv(spec: SurveySpec, links: Iterable[LinkRow]) -> bytes:
    """The link list for mail merge (差し込み印刷): one row per respondent with their URL."""
    return _csv_bytes(*_link_table(spec, links))


def links_xlsx(spec: SurveySpec, links: Iterable[LinkRow]) -> bytes:
    header, body = _link_table(spec, links)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "回答用リンク"
    ws.append(header)
    for r in body:
        ws.append(r)
    _style_header(ws, 1, [28] + [16] * len(spec.attribute_labels) + [70, 16, 12])
    ws.freeze_panes = "B2"
    neutralise_workbook(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
