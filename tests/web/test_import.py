"""The registry importer: all-or-nothing, idempotent, updates by (団体コード, 施設ID), permissions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gunmane.web.registry.imports.ledger import LedgerImporter
from gunmane.web.registry.models import Facility, Inspection, Measure, Municipality
from tests.fixtures import (
    MESSY_BRIDGES_CSV,
    MESSY_ERRORS,
    XLSX_ERRORS,
    corrected_bridges_csv,
    write_cp932,
    write_two_row_header_xlsx,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 27)


@pytest.fixture
def uda(refdata) -> Municipality:  # type: ignore[no-untyped-def]
    return Municipality.objects.get(lg_code="292125")


def run(kind: str, path: Path, muni: Municipality | None = None, **kw):  # type: ignore[no-untyped-def]
    return LedgerImporter(kind, path, municipality=muni, today=TODAY, **kw).run()


def test_messy_file_is_rejected_whole_with_every_error(tmp_path: Path, uda: Municipality) -> None:
    report = run("facilities", write_cp932(tmp_path / "橋梁台帳.csv", MESSY_BRIDGES_CSV), uda)
    assert report.status == "invalid"
    assert (report.rows, report.valid, report.invalid) == (9, 4, 5)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    assert [(e.row, e.column, e.value, e.code) for e in report.errors] == MESSY_ERRORS
    assert [(w.row, w.code) for w in report.warnings] == [(6, "era_year_overflow")]
    assert not Facility.objects.exists()  # nothing half-written


def test_skip_invalid_imports_the_good_rows(tmp_path: Path, uda: Municipality) -> None:
    report = run("facilities", write_cp932(tmp_path / "b.csv", MESSY_BRIDGES_CSV), uda, skip_invalid=True)
    assert report.status == "ok"
    assert report.created == 4 and report.invalid == 5
    assert set(Facility.objects.values_list("facility_id", flat=True)) == {"BR-001", "BR-002", "BR-003", "BR-004"}


def test_corrected_file_imports_then_reimport_changes_nothing_then_updates(tmp_path: Path, uda: Municipality) -> None:
    path = write_cp932(tmp_path / "fixed.csv", corrected_bridges_csv())
    first = run("facilities", path, uda)
    assert (first.status, first.created, first.updated, first.unchanged) == ("ok", 9, 0, 0)
    f = Facility.objects.get(manager=uda, facility_id="BR-001")
    assert (f.name, f.built_year, f.built_year_raw, f.length_m, f.facility_type.name, f.sector.name) == (
        "大宇陀橋", 1970, "昭和45年", 1234.5, "橋梁", "道路")
    assert f.attributes == {"管理区分": "1級"}
    assert Facility.objects.get(manager=uda, facility_id="BR-002").built_year is None
    stamp = f.updated_at

    again = run("facilities", path, uda)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 9)
    assert Facility.objects.get(pk=f.pk).updated_at == stamp

    changed = path.read_bytes().decode("cp932").replace("大宇陀橋", "新大宇陀橋")
    write_cp932(tmp_path / "v2.csv", changed.replace("\r\n", "\n"))
    third = run("facilities", tmp_path / "v2.csv", uda)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 8)
    assert Facility.objects.get(pk=f.pk).name == "新大宇陀橋"
    assert Facility.objects.count() == 9


def test_dry_run_writes_nothing_but_counts(tmp_path: Path, uda: Municipality) -> None:
    report = run("facilities", write_cp932(tmp_path / "f.csv", corrected_bridges_csv()), uda, dry_run=True)
    assert (report.status, report.created) == ("dry_run", 9)
    assert not Facility.objects.exists()


def test_inspections_from_two_row_header_xlsx(tmp_path: Path, uda: Municipality) -> None:
    run("facilities", write_cp932(tmp_path / "f.csv", corrected_bridges_csv()), uda)
    xlsx = write_two_row_header_xlsx(tmp_path / "点検結果.xlsx")
    report = run("inspections", xlsx, uda)
    assert report.status == "invalid"
    assert [(e.row, e.column, e.value, e.code) for e in report.errors] == XLSX_ERRORS
    assert not Inspection.objects.exists()

    report = run("inspections", xlsx, uda, skip_invalid=True)
    assert (report.status, report.created, report.invalid) == ("ok", 3, 3)
    bridge = Facility.objects.get(manager=uda, facility_id="BR-001")
    assert list(bridge.inspections.order_by("inspected_on").values_list("inspected_on", "grade")) == [
        (date(2019, 7, 12), 2), (date(2023, 7, 12), 3)]
    assert (bridge.latest_grade, bridge.latest_inspected_on) == (3, date(2023, 7, 12))
    assert Facility.objects.get(manager=uda, facility_id="BR-002").latest_grade is None


def test_same_day_inspections_the_worse_grade_is_latest(tmp_path: Path, uda: Municipality) -> None:
    run("facilities", write_cp932(tmp_path / "f.csv", corrected_bridges_csv()), uda)
    path = tmp_path / "i.csv"
    path.write_text("施設ID,点検年月日,健全性,点検種別\nBR-003,2024/5/1,Ⅱ,定期点検\nBR-003,2024/5/1,Ⅳ,臨時点検\n",
                    encoding="utf-8")
    assert run("inspections", path, uda).created == 2
    assert Facility.objects.get(manager=uda, facility_id="BR-003").latest_grade == 4


def test_measures_update_by_natural_key(tmp_path: Path, uda: Municipality) -> None:
    run("facilities", write_cp932(tmp_path / "f.csv", corrected_bridges_csv()), uda)
    path = tmp_path / "m.csv"
    path.write_text("施設ID,措置年度,措置区分,状態,費用(千円)\nBR-001,R6,修繕,設計中,12000\n", encoding="utf-8")
    assert run("measures", path, uda).created == 1
    path.write_text("施設ID,措置年度,措置区分,状態,費用(千円)\nBR-001,2024,修繕,完了,11800\n", encoding="utf-8")
    report = run("measures", path, uda)
    assert (report.created, report.updated) == (0, 1)
    m = Measure.objects.get()
    assert (m.status, m.cost_thousand_yen) == ("完了", 11800.0)


def test_user_cannot_import_into_another_municipality(tmp_path: Path, users) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "f.csv"
    path.write_text("団体コード,施設ID,施設名,施設種別\n293857,S-1,曽爾橋,橋梁\n292125,U-1,宇陀橋,橋梁\n", encoding="utf-8")
    report = LedgerImporter("facilities", path, user=users["uda"], today=TODAY).run()
    assert report.status == "invalid"
    assert [(e.row, e.code) for e in report.errors] == [(2, "no_permission")]
    assert "曽爾村" in report.errors[0].message_ja
    assert not Facility.objects.exists()


def test_unknown_municipality_code(tmp_path: Path, refdata) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "f.csv"
    path.write_text("団体コード,施設ID,施設名,施設種別\n99999,S-1,橋,橋梁\n", encoding="utf-8")
    report = run("facilities", path)
    assert [e.code for e in report.errors] == ["unknown_municipality"]


def test_file_level_error_is_reported_as_row_zero(tmp_path: Path, uda: Municipality) -> None:
    path = tmp_path / "f.csv"
    path.write_text("いろは,にほへと\n1,2\n", encoding="utf-8")
    report = run("facilities", path, uda)
    assert report.status == "invalid" and report.errors[0].row == 0
    assert report.as_json()["errors"][0]["code"] == "header_not_found"
