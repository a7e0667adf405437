"""Large imports through the batched write path: counts, values, latest grades, errors across batches.

The files come from the benchmark's generator (messy as municipalities write them, yet valid), at a
size that spans several batches (CHUNK is lowered). No timings here: benchmarks/import_ledger.py
measures speed and memory.
"""

from __future__ import annotations

import csv
import gc
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from benchmarks.ledger_files import write_facilities, write_inspections
from gunmane.io.ledger.reader import LedgerReader
from gunmane.io.ledger.schema import LedgerKind
from gunmane.web.registry.imports import bulk
from gunmane.web.registry.imports import ledger as ledger_importer
from gunmane.web.registry.imports.ledger import LedgerImporter
from gunmane.web.registry.models import Facility, Inspection, Municipality

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 27)
ROWS = 1200


@pytest.fixture
def uda(refdata) -> Municipality:  # type: ignore[no-untyped-def]
    return Municipality.objects.get(lg_code="292125")


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_importer, "CHUNK", 500)
    monkeypatch.setattr(bulk, "IN_BATCH", 97)  # several lookups per batch
    monkeypatch.setattr(ledger_importer, "ALL_PKS_LIMIT", 0)  # facilities looked up batch by batch
    monkeypatch.setattr(ledger_importer, "INSERT_BATCH", 700)  # inserts gathered over batches, flushed mid-file


@pytest.fixture
def ledger(tmp_path: Path) -> tuple[Path, Path]:
    ids = write_facilities(tmp_path / "facilities.csv", ROWS, seed=7)
    write_inspections(tmp_path / "inspections.csv", ids, 2, seed=7)
    return tmp_path / "facilities.csv", tmp_path / "inspections.csv"


def run(kind: str, path: Path, muni: Municipality | None, **kw: Any) -> ledger_importer.ImportReport:
    return LedgerImporter(kind, path, municipality=muni, today=TODAY, **kw).run()


def latest_in_file(path: Path) -> dict[str, tuple[date, int]]:
    """(inspected_on, grade) of each facility's latest inspection, the worse grade on the same day."""
    latest: dict[str, tuple[date, int]] = {}
    types = dict(Facility.objects.values_list("facility_id", "facility_type__code"))  # each grade on its type's scale
    for result in LedgerReader(path, LedgerKind.INSPECTIONS, lg_code="292125", today=TODAY,
                               facility_types=lambda _code, fid: types.get(fid)):
        rec = result.record
        mark = (rec["inspected_on"], rec["grade"])
        latest[rec["facility_id"]] = max(latest.get(rec["facility_id"], mark), mark)
    return latest


def stored_latest(uda: Municipality) -> dict[str, tuple[date | None, int | None]]:
    return {f: (d, g) for f, d, g in Facility.objects.filter(manager=uda).values_list(
        "facility_id", "latest_inspected_on", "latest_grade")}


def rewrite(path: Path, out: Path, change: Any) -> Path:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    with out.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([rows[0]] + [change(i, row) for i, row in enumerate(rows[1:])])
    return out


def test_first_import_then_reimport_then_changes(uda: Municipality, ledger: tuple[Path, Path], tmp_path: Path,
                                                 small_batches: None) -> None:
    facilities, inspections = ledger
    report = run("facilities", facilities, uda)
    assert (report.status, report.rows, report.created, report.invalid) == ("ok", ROWS, ROWS, 0)
    assert report.warnings_total == len(report.warnings) > 0  # 約12 and the like: accepted, with a warning
    reader_rows = {r.record["facility_id"]: r.record for r in
                   LedgerReader(facilities, LedgerKind.FACILITIES, lg_code="292125", today=TODAY)}
    for f in Facility.objects.filter(manager=uda).select_related("sector", "facility_type")[:200]:
        rec = reader_rows[f.facility_id]
        assert (f.name, f.built_year, f.built_year_raw, f.length_m, f.lat, f.lon, f.attributes) == (
            rec["name"], rec.get("built_year"), rec.get("built_year_raw") or "", rec.get("length_m"), rec["lat"],
            rec["lon"], rec["attributes"])
        assert (f.sector.code, f.facility_type.code, f.is_synthetic, f.latest_grade) == (
            rec["sector"], rec["facility_type"], False, None)

    report = run("inspections", inspections, uda)
    assert (report.status, report.created, report.invalid) == ("ok", 2 * ROWS, 0)
    assert Inspection.objects.filter(facility__manager=uda).count() == 2 * ROWS
    expected = latest_in_file(inspections)
    assert stored_latest(uda) == expected

    again = [run("facilities", facilities, uda), run("inspections", inspections, uda)]
    assert [(r.created, r.updated, r.unchanged) for r in again] == [(0, 0, ROWS), (0, 0, 2 * ROWS)]

    # Worse grades on some inspections (their existing rows are updated) and a renamed facility: the worst grade of
    # each facility's own scale (遊具 D, 管渠 緊急度Ⅰ, road structures Ⅳ — index 4 on all three)
    worst = {"PE": "D", "SP": "緊急度Ⅰ"}

    def worse(i: int, row: list[str]) -> list[str]:
        return row[:3] + [worst.get(row[1][:2], "Ⅳ")] + row[4:] if i % 7 == 0 else row

    changed = rewrite(inspections, tmp_path / "changed.csv", worse)
    types = dict(Facility.objects.values_list("facility_id", "facility_type__code"))
    originals = list(LedgerReader(inspections, LedgerKind.INSPECTIONS, lg_code="292125", today=TODAY,
                                  facility_types=lambda _code, fid: types.get(fid)))
    report = run("inspections", changed, uda)
    worsened = sum(1 for i, r in enumerate(originals) if i % 7 == 0 and r.record["grade"] != 4)
    assert (report.created, report.updated, report.unchanged) == (0, worsened, 2 * ROWS - worsened)
    assert stored_latest(uda) == latest_in_file(changed)
    renamed = rewrite(facilities, tmp_path / "renamed.csv",
                      lambda i, row: row[:2] + [row[2] + "（改）"] + row[3:] if i in (0, 600, 1199) else row)
    report = run("facilities", renamed, uda)
    assert (report.created, report.updated, report.unchanged) == (0, 3, ROWS - 3)
    assert Facility.objects.get(manager=uda, facility_id=list(reader_rows)[600]).name.endswith("（改）")


def test_errors_are_reported_in_row_order_within_each_batch(uda: Municipality, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_importer, "CHUNK", 3)
    facilities = tmp_path / "f.csv"
    facilities.write_text("施設ID,施設名,施設種別\nA-1,一号橋,橋梁\nA-2,二号橋,橋梁\n", encoding="utf-8")
    run("facilities", facilities, uda)
    path = tmp_path / "i.csv"
    path.write_text("団体コード,施設ID,点検年月日,健全性\n"
                    "292125,X-1,2020/1/1,Ⅱ\n"  # row 2: unknown facility
                    "999997,A-1,2020/1/1,Ⅱ\n"  # row 3: no such municipality
                    "292125,A-1,2021/1/1,9\n"  # row 4: grade out of range (batch 2)
                    "292125,A-2,2020/1/1,Ⅱ\n"
                    "292125,X-2,2020/1/1,Ⅱ\n"  # row 6: unknown facility
                    "292125,A-1,2020/1/1,Ⅲ\n",  # row 7: fine (batch 3)
                    encoding="utf-8")
    report = LedgerImporter("inspections", path, today=TODAY, skip_invalid=True).run()
    # Within a batch the checks run one after the other: the reader's and the municipality's errors
    # first, then the unknown facilities (as the importer always reported them).
    assert [(e.row, e.code) for e in report.errors] == [
        (3, "unknown_municipality"), (4, "grade_out_of_range"), (2, "unknown_facility"), (6, "unknown_facility")]
    assert (report.rows, report.valid, report.invalid, report.created) == (6, 2, 4, 2)
    assert Facility.objects.get(manager=uda, facility_id="A-1").latest_grade == 3


def test_invalid_file_writes_nothing_and_settings_are_restored(uda: Municipality, ledger: tuple[Path, Path],
                                                                tmp_path: Path, small_batches: None) -> None:
    facilities, _ = ledger
    broken = rewrite(facilities, tmp_path / "broken.csv",
                     lambda i, row: row[:4] + ["2099"] + row[5:] if i == ROWS - 1 else row)  # future year, last row
    assert gc.isenabled()
    report = run("facilities", broken, uda)
    assert (report.status, report.invalid, report.created) == ("invalid", 1, 0)
    assert [(e.row, e.code) for e in report.errors] == [(ROWS + 1, "future_year")]
    assert not Facility.objects.filter(manager=uda).exists()
    assert gc.isenabled()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] != bulk.SQLITE_CACHE_KIB
    report = run("facilities", facilities, uda, dry_run=True)
    assert (report.status, report.created) == ("dry_run", ROWS)
    assert not Facility.objects.filter(manager=uda).exists()
