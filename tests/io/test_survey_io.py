"""Survey files without Django: answer tables (CSV/XLSX), the link list, and the paper questionnaire PDF."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from PIL import Image

from gunmane.io.reports.survey_export import (
    CountRow,
    LinkRow,
    QuestionSpec,
    RespondentRow,
    SurveySpec,
    links_csv,
    links_xlsx,
    response_table,
    responses_csv,
    responses_xlsx,
    safe_text,
)
from gunmane.io.reports.survey_pdf import questionnaire_pdf
from tests import pdf_checks

SCALE = ("魅力を感じない", "あまり感じない", "どちらともいえない", "やや感じる", "大いに感じる")
SPEC = SurveySpec(
    title="奈良モデル地域 維持管理業務の包括的な発注に関する意向調査", group="奈良モデル地域", name_label="会社名",
    attribute_labels=("業種", "所在地"), intro="地域の事業者の皆さまのご意見をお聞かせください。\n回答は途中で保存できます。",
    closes_on=date(2026, 12, 25), organiser="お問い合わせ先：宇陀市（幹事団体）",
    questions=(
        QuestionSpec(1, "interest", "single", "包括的な発注への参加を検討しますか。",
                     choices=("参加したい", "条件によっては参加を検討する", "参加しない"), required=True),
        QuestionSpec(2, "no_reasons", "multiple", "参加しない理由をお選びください。",
                     choices=("人員が足りない", "採算が合わない", "その他"), condition="問1で「参加しない」と答えた方のみお答えください。"),
        QuestionSpec(3, "appeal", "matrix", "次の発注の方法に、どの程度魅力を感じますか。",
                     rows=("複数年（3〜5年）の契約", "総価（一括）での契約"), scale_labels=SCALE, required=True),
        QuestionSpec(4, "overall", "scale", "全体の満足度", scale_labels=SCALE),
        QuestionSpec(5, "engineers", "number", "技術者の人数", unit="人", required=True),
        QuestionSpec(6, "comments", "text", "ご意見をお書きください。"),
    ))
ROWS = [
    RespondentRow("宇陀建設株式会社", ("土木工事業", "宇陀市"), "送信済み", datetime(2026, 12, 1, 9, 30),
                  {"interest": "参加したい", "appeal": {"複数年（3〜5年）の契約": 4, "総価（一括）での契約": 2},
                   "overall": 4, "engineers": 8, "comments": "=cmd|' /C calc'!A0"}),
    RespondentRow("御杖造園", ("造園工事業",), "送信済み", datetime(2026, 12, 2, 14, 0),
                  {"interest": "参加しない", "no_reasons": ["人員が足りない", "その他"], "engineers": 1.5,
                   "comments": "-除雪の時期は難しい"}),
    RespondentRow("@大和ロード", ("土木工事業", "奈良市"), "未回答"),
]


def test_safe_text_neutralises_formulas_only() -> None:
    assert safe_text("=SUM(A1)") == "'=SUM(A1)" and safe_text("+81") == "'+81" and safe_text("@x") == "'@x"
    assert safe_text("-1") == "'-1" and safe_text("参加したい") == "参加したい" and safe_text(5) == 5


def test_response_table_layout() -> None:
    header, body = response_table(SPEC, ROWS)
    assert header[:5] == ["会社名", "業種", "所在地", "状態", "送信日時"]
    assert "問2 参加しない理由をお選びください。：人員が足りない" in header
    assert "問3 次の発注の方法に、どの程度魅力を感じま…：総価（一括）での契約" in header
    assert "問5 技術者の人数（人）" in header
    uda, mitsue, yamato = (dict(zip(header, row, strict=True)) for row in body)
    assert uda["問1 包括的な発注への参加を検討しますか。"] == "参加したい"
    assert uda["問2 参加しない理由をお選びください。：その他"] == ""  # not asked of this company
    assert mitsue["問2 参加しない理由をお選びください。：その他"] == 1
    assert mitsue["問2 参加しない理由をお選びください。：採算が合わない"] == 0
    assert uda["問3 次の発注の方法に、どの程度魅力を感じま…：総価（一括）での契約"] == 2
    assert mitsue["所在地"] == "" and mitsue["問5 技術者の人数（人）"] == 1.5
    assert uda["問6 ご意見をお書きください。"].startswith("'=") and mitsue["問6 ご意見をお書きください。"].startswith("'-")
    assert yamato["会社名"] == "'@大和ロード" and yamato["送信日時"] == "" and yamato["状態"] == "未回答"


def test_responses_csv_is_utf8_with_bom_for_excel() -> None:
    data = responses_csv(SPEC, ROWS)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 4 and rows[1][0] == "宇陀建設株式会社" and rows[1][4] == "2026-12-01 09:30"
    assert b"\r\n" in data


def test_responses_xlsx_sheets_and_no_formulas() -> None:
    counts = [CountRow(1, "包括的な発注への参加を検討しますか。", "参加したい", 1, 2),
              CountRow(1, "包括的な発注への参加を検討しますか。", "参加しない", 1, 2),
              CountRow(4, "全体の満足度", "4 やや感じる", 1, 1, mean=4.0)]
    wb = load_workbook(io.BytesIO(responses_xlsx(SPEC, ROWS, counts)))
    assert wb.sheetnames == ["回答一覧", "単純集計", "設問"]
    ws = wb["回答一覧"]
    assert ws.max_row == 4 and ws["A2"].value == "宇陀建設株式会社" and ws.freeze_panes == "D2"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    summary = [[c.value for c in row] for row in wb["単純集計"].iter_rows(min_row=3)]
    assert summary[0] == [1, "包括的な発注への参加を検討しますか。", "参加したい", 1, 50.0, 2, None]
    assert summary[2][-1] == 4.0
    questions = wb["設問"]
    assert questions["C4"].value == "マトリクス" and questions["G3"].value.startswith("問1で「参加しない」")
    assert questions["F5"].value.startswith("1 魅力を感じない")


def test_link_list_for_mail_merge() -> None:
    links = [LinkRow("宇陀建設株式会社", ("土木工事業", "宇陀市"), "https://gunmane.example/surveys/r/abc/",
                     date(2026, 12, 25), "未回答"),
             LinkRow("=危険な名前", (), "https://gunmane.example/surveys/r/def/", date(2027, 1, 5), "送信済み")]
    rows = list(csv.reader(io.StringIO(links_csv(SPEC, links).decode("utf-8-sig"))))
    assert rows[0] == ["会社名", "業種", "所在地", "回答用URL", "有効期限", "回答状況"]
    assert rows[1] == ["宇陀建設株式会社", "土木工事業", "宇陀市", "https://gunmane.example/surveys/r/abc/",
                       "2026年12月25日", "未回答"]
    assert rows[2][0] == "'=危険な名前" and rows[2][1:3] == ["", ""]
    ws = load_workbook(io.BytesIO(links_xlsx(SPEC, links)))["回答用リンク"]
    assert ws["D3"].value.endswith("/def/") and ws["A3"].data_type == "s"


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("survey") / "questionnaire.pdf"
    path.write_bytes(questionnaire_pdf(SPEC))
    return path


def test_questionnaire_pdf_text_and_font(pdf: Path) -> None:
    assert pdf.read_bytes().startswith(b"%PDF")
    content = pdf.read_bytes()
    flat = "".join(pdf_checks.text(content).split())  # pypdf reads every Japanese string (no poppler needed)
    for expected in ("奈良モデル地域維持管理業務の包括的な発注に関する意向調査", "回答期限2026年12月25日", "会社名", "業種",
                     "問1", "［必須］", "問1で「参加しない」と答えた方のみお答えください。", "あてはまるものすべて",
                     "複数年（3〜5年）の契約", "大いに感じる", "問5", "人", "ご協力ありがとうございました。",
                     "お問い合わせ先：宇陀市"):
        assert expected in flat, expected
    assert pdf_checks.fonts(content).get("IPAexGothic") is True  # embedded
    assert set(pdf_checks.page_sizes(content)) == {pdf_checks.A4_PT}


def _squares(gray: np.ndarray, side: int) -> int:
    """Count drawn empty squares of about `side` px: four dark edges around a light inside."""
    dark = gray < 140
    found = 0
    h, w = dark.shape
    ys, xs = np.nonzero(dark[: h - side, : w - side])
    taken = np.zeros_like(dark)
    for y, x in zip(ys, xs, strict=True):
        if taken[y, x]:
            continue
        for s in (side - 1, side, side + 1):
            if (dark[y, x:x + s + 1].all() and dark[y + s, x:x + s + 1].all() and dark[y:y + s + 1, x].all()
                    and dark[y:y + s + 1, x + s].all() and not dark[y + 3:y + s - 2, x + 3:x + s - 2].any()):
                found += 1
                taken[y:y + s + 2, x:x + s + 2] = True
                break
    return found


def test_questionnaire_pdf_page_one_renders_boxes(pdf: Path, tmp_path: Path) -> None:
    """Render page 1 at 144 dpi and count the drawn check-boxes (10pt squares = 20px)."""
    subprocess.run(["pdftoppm", "-r", "144", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    assert abs(image.size[0] - 1191) <= 2 and abs(image.size[1] - 1684) <= 2  # A4
    gray = np.asarray(image)
    assert 0.005 < (gray < 128).mean() < 0.25  # text and lines: not blank, not black
    # 3 + 3 choices, 2 matrix rows × 5 and 5 scale boxes on page 1: at least 18 squares
    assert _squares(gray, 20) >= 18
