"""`gunmane districts` (issue #14) end to end: options, inputs (points file, ledger), outputs and exit codes.

A tiny fake stands in for the solver where only the command is tested (it puts every facility in one district
and records what it was asked); the last test runs the real solver on a tiny points file."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from gunmane.cli import main
from gunmane.engine.districting.types import Baselines, Instance, Region, Result

REPO = Path(__file__).resolve().parents[2]
FIT = REPO / "tests/snapshots/expected/cli-deterioration-group.json"
POINTS = """施設ID,管理者名,緯度,経度
B-01,宮城県白石市,38.0025,140.6197
B-02,白石市,38.0100,140.6300
B-03,角田市,37.9770,140.7820
B-04,角田市,37.9800,140.7700
B-05,蔵王町,,
"""


class FakeSolver:
    """One district of everything; remembers the instances and options."""

    def __init__(self) -> None:
        self.calls: list[tuple[Instance, float, dict[str, Any]]] = []

    def solve(self, instance: Instance, *, time_limit_s: float = 60.0, method: str = "auto") -> Result:
        self.calls.append((instance, instance.max_distance_km, {"time_limit_s": time_limit_s, "method": method}))
        ids = tuple(p.id for p in instance.points)
        members = dict(Counter(p.lg_code for p in instance.points))
        return Result("optimal", "exact", 0.6, 0.6, 0.0, (Region(1, ids, members, 16.0, 0.6),),
                      Baselines(0.8, 0.6, 0.4), instance.q, instance.bundle_limit, instance.max_distance_km, 0.01,
                      (instance.q_source,))

    def sweep(self, instance: Instance, distances_km: Sequence[float], *, time_limit_s: float = 60.0,
              method: str = "auto") -> list[Result]:
        from dataclasses import replace

        return [self.solve(replace(instance, max_distance_km=d), time_limit_s=time_limit_s, method=method)
                for d in distances_km]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSolver:
    from gunmane.engine.districting import solve as solving

    f = FakeSolver()
    monkeypatch.setattr(solving, "solve", f.solve)
    monkeypatch.setattr(solving, "sweep", f.sweep)
    return f


@pytest.fixture
def points(tmp_path: Path) -> Path:
    path = tmp_path / "位置.csv"
    path.write_bytes(POINTS.encode("cp932"))
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, error = capsys.readouterr()
    return code, out, error


def test_points_file_json_and_the_facility_without_a_position(fake: FakeSolver, points: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, error = run(["districts", "--points", str(points), "--max-distance-km", "20", "--bundle-limit", "5",
                            "--q", "0.1", "--max-regions", "3", "--time-limit", "7"], capsys)
    assert code == 0, error
    doc = json.loads(out)
    assert {"status", "objective", "bound", "gap", "regions", "baselines", "q", "bundle_limit", "max_distance_km",
            "seconds"} <= set(doc)
    assert doc["regions"][0]["members"] == {"042064": 2, "042081": 2} and doc["regions"][0]["n"] == 4
    assert (doc["q"], doc["bundle_limit"], doc["max_distance_km"]) == (0.1, 5, 20.0)
    assert (doc["without_coordinates"], doc["without_coordinates_ids"], doc["facilities"]) == (1, ["B-05"], 4)
    assert "緯度・経度のない施設 1 件を除きました: B-05" in error
    instance, d, options = fake.calls[0]
    assert (instance.max_regions, instance.regions, instance.bundle_limit, d) == (3, None, 5, 20.0)
    assert options == {"time_limit_s": 7.0, "method": "auto"}


def test_sweep_q_from_a_fit_and_xlsx(fake: FakeSolver, points: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, error = run(["districts", "--points", str(points), "--sweep", "15:50:5", "--bundle-limit", "5",
                            "--q-from", str(FIT)], capsys)
    assert code == 0, error
    docs = json.loads(out)
    assert isinstance(docs, list) and [d["max_distance_km"] for d in docs] == [15, 20, 25, 30, 35, 40, 45, 50]
    per_year = json.loads(FIT.read_text(encoding="utf-8"))["repair_probability"]["per_year"]
    assert docs[0]["q"] == pytest.approx(per_year) and "cli-deterioration-group.json" in docs[0]["q_source"]
    book = tmp_path / "地区.xlsx"
    code, _, error = run(["districts", "--points", str(points), "--sweep", "15:25:5", "--bundle-limit", "5",
                          "--q", "0.1", "--format", "xlsx", "--out", str(book)], capsys)
    assert code == 0 and "地区割りを書き出しました" in error
    wb = load_workbook(io.BytesIO(book.read_bytes()))
    assert wb.sheetnames == ["概要", "地区", "施設", "前提・出典"]
    facilities = list(wb["施設"].iter_rows(values_only=True))
    assert facilities[0][-3:] == ("地区（D = 15 km）", "地区（D = 20 km）", "地区（D = 25 km）")
    assert facilities[3][:3] == ("B-03", "角田市", "042081")


def test_geojson(fake: FakeSolver, points: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["districts", "--points", str(points), "--max-distance-km", "20", "--bundle-limit", "5",
                        "--q", "0.1", "--format", "geojson"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["type"] == "FeatureCollection"
    kinds = Counter(f["properties"]["kind"] for f in doc["features"])
    assert kinds == {"facility": 4, "district": 1}
    assert doc["properties"]["without_coordinates"] == 1


@pytest.mark.parametrize(("argv", "expected", "said"), [
    (["--max-distance-km", "20", "--bundle-limit", "5", "--q", "1.5"], 2, "--q 1.5"),
    (["--bundle-limit", "5", "--q", "0.1"], 2, "--max-distance-km"),
    (["--sweep", "50:15:5", "--bundle-limit", "5", "--q", "0.1"], 2, "--sweep 50:15:5"),
    (["--sweep", "15:50:5", "--bundle-limit", "5", "--q", "0.1", "--format", "geojson"], 2, "--sweep"),
    (["--max-distance-km", "20", "--bundle-limit", "0", "--q", "0.1"], 2, "--bundle-limit"),
    (["--max-distance-km", "20", "--bundle-limit", "5", "--q", "0.1", "--format", "xlsx"], 2, "--out"),
    (["--max-distance-km", "20", "--bundle-limit", "5", "--q-from", "/nonexistent/fit.json"], 2, "見つかりません"),
])
def test_usage_errors_in_japanese(fake: FakeSolver, points: Path, capsys: pytest.CaptureFixture[str],
                                  argv: list[str], expected: int, said: str) -> None:
    code, _, error = run(["districts", "--points", str(points), *argv], capsys)
    assert code == expected and said in error
    assert not fake.calls


def test_invalid_points_file_exit_1_with_json(fake: FakeSolver, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("施設ID,団体コード,緯度,経度\nB1,042064,38.0,200\n", encoding="utf-8")
    code, out, error = run(["districts", "--points", str(bad), "--max-distance-km", "20", "--bundle-limit", "5",
                            "--q", "0.1", "--format", "json"], capsys)
    assert code == 1 and "2行目・列「経度」・値「200」" in error
    doc = json.loads(out)
    assert doc["status"] == "invalid" and doc["error"]["file"].endswith("bad.csv") and doc["error"]["row"] == 2
    fit = tmp_path / "fit.json"
    fit.write_text('{"hazards": {}}', encoding="utf-8")
    code, _, error = run(["districts", "--points", str(bad), "--max-distance-km", "20", "--bundle-limit", "5",
                          "--q-from", str(fit)], capsys)
    assert code == 1 and "補修確率" in error and not fake.calls


@pytest.mark.django_db
def test_ledger_scope_bridges_by_default_and_facilities_without_a_position(refdata, fake: FakeSolver,  # type: ignore[no-untyped-def]
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from gunmane.web.registry.models import Facility, FacilityType, Municipality

    bridge, other = FacilityType.objects.get(code="bridge"), FacilityType.objects.exclude(code="bridge").first()
    assert other is not None
    uda, soni = Municipality.objects.get(lg_code="292125"), Municipality.objects.get(lg_code="293857")
    for muni, fid, ft, lat, lon in [(uda, "B1", bridge, 34.53, 135.95), (uda, "B2", bridge, None, None),
                                    (soni, "B1", bridge, 34.51, 136.12), (uda, "T1", other, 34.52, 135.96)]:
        Facility.objects.create(manager=muni, facility_id=fid, name=fid, sector=ft.sector, facility_type=ft,
                                lat=lat, lon=lon, is_synthetic=True)
    code, out, error = run(["districts", "--ledger", "29", "--max-distance-km", "30", "--bundle-limit", "5",
                            "--q", "0.1"], capsys)
    assert code == 0, error
    doc = json.loads(out)
    ids = doc["regions"][0]["facility_ids"]
    assert sorted(ids) == ["292125:B1", "293857:B1"]  # the same 施設ID in two municipalities stays two facilities
    assert (doc["without_coordinates"], doc["without_coordinates_ids"], doc["synthetic"]) == (1, ["B2"], True)
    assert "奈良県" in doc["source"] and "緯度・経度のない施設 1 件" in error
    code, out, _ = run(["districts", "--ledger", "292125", "--facility-type", "all", "--max-distance-km", "30",
                        "--bundle-limit", "5", "--q", "0.1"], capsys)
    assert sorted(json.loads(out)["regions"][0]["facility_ids"]) == ["B1", "T1"]
    code, _, error = run(["districts", "--ledger", "292125", "--facility-type", "ship", "--max-distance-km", "30",
                          "--bundle-limit", "5", "--q", "0.1"], capsys)
    assert code == 2 and "--facility-type「ship」" in error


def test_the_real_solver_on_a_tiny_points_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two towns 14 km apart: under D = 20 km one district beats each ordering alone; under D = 5 km they
    cannot be together (runs the solver of issue #14)."""
    path = tmp_path / "tiny.csv"
    rows = ["施設ID,団体コード,緯度,経度"]
    rows += [f"S{i},042064,{38.00 + 0.002 * i:.3f},140.62" for i in range(4)]
    rows += [f"K{i},042081,{37.97 + 0.002 * i:.3f},140.78" for i in range(4)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, error = run(["districts", "--points", str(path), "--sweep", "5:20:15", "--bundle-limit", "5",
                            "--q", "0.1", "--method", "exact", "--time-limit", "20"], capsys)
    assert code == 0, error
    near, far = json.loads(out)
    assert near["status"] == far["status"] == "optimal"
    assert len(near["regions"]) == 2 and len(far["regions"]) == 1
    assert far["objective"] == pytest.approx(far["baselines"]["single"])
    assert far["objective"] < far["baselines"]["separate"]
    assert near["objective"] == pytest.approx(near["baselines"]["separate"])
    assert far["gap"] == pytest.approx(0.0, abs=1e-3) and far["bound"] <= far["objective"] + 1e-9
