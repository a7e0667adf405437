"""`gunmane districts --q-by-grade` (issue #14): each facility's q from its current grade in the ledger and the
hazards of a `gunmane deterioration fit` file; facilities without a grade keep the file's q."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gunmane.cli import main
from gunmane.engine.deterioration import repair_probability_by_grade
from tests.cli.test_districts import FIT, FakeSolver, fake, run  # noqa: F401 (fixture)


@pytest.mark.django_db
def test_q_by_grade_from_the_ledger_and_a_fit(refdata, fake: FakeSolver,  # type: ignore[no-untyped-def]  # noqa: F811
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from gunmane.web.registry.models import Facility, FacilityType, Municipality

    bridge = FacilityType.objects.get(code="bridge")
    uda = Municipality.objects.get(lg_code="292125")
    for fid, grade in [("B1", 1), ("B2", 2), ("B3", 3), ("B4", None)]:
        Facility.objects.create(manager=uda, facility_id=fid, name=fid, sector=bridge.sector, facility_type=bridge,
                                lat=34.53, lon=135.95, latest_grade=grade, is_synthetic=True)
    code, out, error = run(["districts", "--ledger", "292125", "--max-distance-km", "30", "--bundle-limit", "5",
                            "--q-from", str(FIT), "--q-by-grade"], capsys)
    assert code == 0, error
    inst = fake.calls[-1][0]
    doc = json.loads(FIT.read_text(encoding="utf-8"))
    qg = repair_probability_by_grade(np.array(list(doc["hazards"].values())), 2)
    got = {p.id: p.q for p in inst.points}
    assert got["B1"] == pytest.approx(qg[0]) and got["B2"] == pytest.approx(qg[1]) and got["B3"] == 1.0
    assert got["B4"] is None and inst.q == pytest.approx(doc["repair_probability"]["per_year"])
    assert "健全性の記録がない 1 施設" in error and "今の健全性" in json.loads(out)["q_source"]
    code, _, error = run(["districts", "--ledger", "292125", "--max-distance-km", "30", "--bundle-limit", "5",
                          "--q", "0.1", "--q-by-grade"], capsys)
    assert code == 2 and "--q-from" in error


def test_points_file_cannot_take_grades(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.csv"
    path.write_text("施設ID,団体コード,緯度,経度\nA,292125,34.5,135.9\n", encoding="utf-8")
    code = main(["districts", "--points", str(path), "--max-distance-km", "30", "--bundle-limit", "5",
                 "--q-from", str(FIT), "--q-by-grade"])
    assert code == 2 and "--ledger" in capsys.readouterr().err
