"""PostgreSQL: the shared-server database. `make test` runs the whole suite (but browser tests) a second
time against the server named by GUNMANE_TEST_DATABASE_URL; these tests make sure that run really is on
PostgreSQL and cover what differs there (transactions after a failed statement, sequences, JSON)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from gunmane.web.registry.imports.ledger import LedgerImporter
from gunmane.web.registry.models import Facility, Inspection, Municipality
from tests.fixtures import MESSY_BRIDGES_CSV, MESSY_ERRORS, corrected_bridges_csv, write_cp932

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_running_on_postgresql() -> None:
    assert connection.vendor == "postgresql"
    with connection.cursor() as cur:
        cur.execute("SHOW server_encoding")
        assert cur.fetchone()[0] == "UTF8"


def test_messy_import_rolls_back_and_corrected_import_lands(refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uda = Municipality.objects.get(lg_code="292125")
    report = LedgerImporter("facilities", write_cp932(tmp_path / "m.csv", MESSY_BRIDGES_CSV), municipality=uda).run()
    assert [(e.row, e.column, e.value, e.code) for e in report.errors] == MESSY_ERRORS
    assert not Facility.objects.exists()
    report = LedgerImporter("facilities", write_cp932(tmp_path / "c.csv", corrected_bridges_csv()),
                            municipality=uda).run()
    assert report.created == 9
    f = Facility.objects.get(manager=uda, facility_id="BR-001")
    assert f.attributes == {"管理区分": "1級"}
    assert Facility.objects.filter(attributes__管理区分="1級").count() == 1  # JSON lookups work on jsonb


def test_bulk_inspections_and_latest_grade(refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uda = Municipality.objects.get(lg_code="292125")
    fac = tmp_path / "f.csv"
    fac.write_text("施設ID,施設名,施設種別\n" + "".join(f"B-{i},橋{i},橋梁\n" for i in range(3000)), encoding="utf-8")
    assert LedgerImporter("facilities", fac, municipality=uda).run().created == 3000
    ins = tmp_path / "i.csv"
    ins.write_text("施設ID,点検年月日,健全性\n" + "".join(
        f"B-{i},2019/7/{1 + i % 28},{1 + i % 4}\nB-{i},2024/7/{1 + i % 28},{1 + (i + 1) % 4}\n" for i in range(3000)),
        encoding="utf-8")
    report = LedgerImporter("inspections", ins, municipality=uda).run()
    assert (report.status, report.created) == ("ok", 6000)
    assert Inspection.objects.count() == 6000
    f = Facility.objects.get(manager=uda, facility_id="B-5")
    assert (f.latest_grade, f.latest_inspected_on.isoformat()) == (1 + 6 % 4, "2024-07-06")
