"""The way back out: exports in CSV, XLSX and JSON import back unchanged; the template imports too."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gunmane.io.ledger import export as ledger_export
from gunmane.io.ledger.schema import COLUMNS, LedgerKind
from gunmane.io.ledger.template import template_xlsx
from gunmane.web.demo import load_demo_ledger
from gunmane.web.registry import exporting
from gunmane.web.registry.imports.ledger import LedgerImporter
from gunmane.web.registry.models import Facility, Municipality

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(refdata) -> Municipality:  # type: ignore[no-untyped-def]
    load_demo_ledger()
    return Municipality.objects.get(lg_code="292125")


def export_to(tmp_path: Path, kind: LedgerKind, muni: Municipality, fmt: str) -> Path:
    path = tmp_path / f"{kind.value}.{fmt}"
    recs = exporting.records(kind, muni)
    attrs = exporting.attribute_names(muni) if kind == LedgerKind.FACILITIES else []
    if fmt == "xlsx":
        path.write_bytes(ledger_export.to_bytes_xlsx(kind, recs, attribute_names=attrs, synthetic=True))
    elif fmt == "csv":
        with path.open("w", encoding="cp932", newline="") as fh:
            ledger_export.write_csv(kind, recs, fh, attribute_names=attrs)
    else:
        with path.open("w", encoding="utf-8") as fh:
            ledger_export.write_json(kind, recs, fh)
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_export_imports_back_unchanged(demo: Municipality, tmp_path: Path, fmt: str) -> None:
    n_facilities = Facility.objects.filter(manager=demo).count()
    assert n_facilities > 500
    for kind in LedgerKind:
        path = export_to(tmp_path, kind, demo, fmt)
        report = LedgerImporter(kind, path, municipality=demo).run()
        assert report.status == "ok", report.as_json()["errors"][:3]
        assert report.created == 0 and report.updated == 0, (kind, fmt, report.as_json()["errors"][:3])
        assert report.unchanged == report.rows > 0


def test_json_export_shape(demo: Municipality, tmp_path: Path) -> None:
    data = json.loads(export_to(tmp_path, LedgerKind.FACILITIES, demo, "json").read_text(encoding="utf-8"))
    first = data[0]
    assert list(first)[:6] == ["lg_code", "facility_id", "name", "sector", "facility_type", "built_year"]
    assert first["lg_code"] == "292125" and first["is_synthetic"] is True
    inspections = json.loads(export_to(tmp_path, LedgerKind.INSPECTIONS, demo, "json").read_text(encoding="utf-8"))
    # each grade on its facility type's scale: road structures I–IV, parks A–D, river structures a–d,
    # sewer pipes I–III or 劣化なし (issue #16)
    by_prefix = {"PL": {"A", "B", "C", "D"}, "GT": {"a", "b", "c", "d"}, "SW": {"劣化なし", "I", "II", "III"},
                 "PV": {"I", "II", "III"}}
    for i in inspections:
        assert i["grade"] in by_prefix.get(i["facility_id"][:2], {"I", "II", "III", "IV"}), i
    assert {i["grade"] for i in inspections if i["facility_id"].startswith("PL")} == {"A", "B", "C", "D"}
    assert all(len(i["inspected_on"]) == 10 and i["inspected_on"][4] == "-" for i in inspections)


def test_xlsx_export_is_labelled_synthetic(demo: Municipality, tmp_path: Path) -> None:
    wb = load_workbook(export_to(tmp_path, LedgerKind.FACILITIES, demo, "xlsx"))
    ws = wb.active
    assert ws is not None
    assert "合成データ" in str(ws["A1"].value)
    assert [c.value for c in ws[2]][:3] == ["団体コード", "施設ID", "施設名"]


@pytest.mark.parametrize("kind", list(LedgerKind))
def test_template_has_headers_example_and_rules_and_imports_empty(kind: LedgerKind, tmp_path: Path) -> None:
    wb = load_workbook(io.BytesIO(template_xlsx(kind)))
    data, example, rules = wb.worksheets
    assert [c.value for c in data[1]] == [c.header for c in COLUMNS[kind]]
    assert [c.value for c in example[1]] == [c.header for c in COLUMNS[kind]]
    assert example.cell(row=2, column=2).value == "BR-0001"
    text = " ".join(str(c.value) for row in rules.iter_rows() for c in row if c.value)
    assert "和暦" in text and "不明" in text
    filled = tmp_path / "filled.xlsx"
    if kind == LedgerKind.FACILITIES:
        data.append([c.example for c in COLUMNS[kind]])
        wb.save(filled)
        from gunmane.io.ledger.reader import LedgerReader

        rows = list(LedgerReader(filled, kind))
        assert len(rows) == 1 and rows[0].ok, rows[0].errors
        assert rows[0].record["built_year"] == 1970
