"""The districting files (issue #14): the points file as municipalities write it, q from a fit, and the JSON /
GeoJSON / Excel of a result (built by hand here: the solver is tested in tests/engine)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from gunmane.engine.districting.types import Baselines, FacilityPoint, Infeasibility, Region, Result
from gunmane.io.districting import (
    FitFileError,
    PointsFileError,
    districts_geojson,
    districts_xlsx,
    read_fit_q,
    read_points,
    result_json,
    unique_ids,
)
from tests.fixtures import write_cp932

REPO = Path(__file__).resolve().parents[2]

# CP932, Japanese headers, a title line, 管理者名 with and without the prefecture, full-width digits, 度分秒,
# a per-facility q, and one bridge whose position is unknown (不明): counted, not dropped silently.
POINTS_CSV = """宮城県南部 橋梁の位置（令和6年度）
施設ID,管理者名,緯度,経度,補修確率
B-01,宮城県白石市,38.0025,140.6197,
B-02,角田市,３７．９７７,140.782,０．２
B-03,白石市,38°00′30″,140°37′00″,
B-04,蔵王町,不明,不明,
"""


def test_cp932_japanese_headers_names_resolved_and_unknown_positions_counted(tmp_path: Path) -> None:
    pf = read_points(write_cp932(tmp_path / "位置.csv", POINTS_CSV))
    assert [(p.id, p.lg_code) for p in pf.points] == [("B-01", "042064"), ("B-02", "042081"), ("B-03", "042064")]
    assert pf.points[1].lat == pytest.approx(37.977) and pf.points[1].q == pytest.approx(0.2)
    assert pf.points[0].q is None  # the instance's q
    assert pf.points[2].lat == pytest.approx(38 + 30 / 3600) and pf.points[2].lon == pytest.approx(140 + 37 / 60)
    assert pf.without_coordinates == ("B-04",)
    assert pf.columns["manager"] == "管理者名"


def test_english_headers_in_xlsx_with_codes_and_the_same_id_in_two_municipalities(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["facility_id", "lg_code", "lat", "lon", "q"])
    ws.append(["B1", "04206", 38.0, 140.6, 0.1])  # 5 digits: the check digit is added
    ws.append(["B1", 4208, 37.97, 140.78, None])  # a number whose leading 0 Excel dropped
    ws.append(["B2", "042081", 37.98, 140.79, None])
    wb.save(tmp_path / "points.xlsx")
    pf = read_points(tmp_path / "points.xlsx")
    assert [(p.id, p.lg_code) for p in pf.points] == [("042064:B1", "042064"), ("042081:B1", "042081"),
                                                     ("B2", "042081")]
    assert unique_ids([("1", "a"), ("2", "b")]) == ["a", "b"]


def test_every_bad_cell_is_named_by_row_column_and_value(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("施設ID,団体コード,管理者名,緯度,経度,補修確率\n"
                    "B1,99999,,38.0,200,0.1\n"      # row 2: unknown code, longitude outside Japan
                    "B2,,伊達市,38.0,140.6,1.5\n"   # row 3: 伊達市 is in 北海道 and 福島県; q above 1
                    ",042064,,38.0,140.6,\n"        # row 4: no id
                    "B5,042064,,38.0,,\n"           # row 5: only one coordinate
                    "B6,042064,,38.0,140.6,\n"
                    "B6,042064,,38.1,140.6,\n",     # row 7: duplicate of row 6
                    encoding="utf-8")
    with pytest.raises(PointsFileError) as caught:
        read_points(path)
    found = {(i.row, i.column, i.value, i.code) for i in caught.value.issues}
    assert {(2, "団体コード", "99999", "unknown_lg_code"), (2, "経度", "200", "outside_japan"),
            (3, "管理者名", "伊達市", "ambiguous_manager"), (3, "補修確率", "1.5", "above_maximum"),
            (4, "施設ID", "", "required"), (5, "経度", "", "required"),
            (7, "施設ID", "B6", "duplicate_facility")} <= found
    message = caught.value.message_ja
    assert message.startswith("bad.csv: 施設の位置のファイルに") and "3行目・列「管理者名」・値「伊達市」" in message
    assert "北海道伊達市" in message and "福島県伊達市" in message
    assert caught.value.file == "bad.csv" and caught.value.row == 2


def test_missing_columns_and_a_file_without_rows(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("施設ID,緯度\nB1,38\n", encoding="utf-8")
    with pytest.raises(PointsFileError) as caught:
        read_points(tmp_path / "a.csv")
    assert {i.column for i in caught.value.issues} == {"経度", "団体コード"}
    (tmp_path / "b.csv").write_text("施設ID,団体コード,緯度,経度\nB1,042064,,\n", encoding="utf-8")
    with pytest.raises(PointsFileError, match="緯度・経度のある施設の行が1行もありません"):
        read_points(tmp_path / "b.csv")


def test_q_from_the_deterioration_fit_json(tmp_path: Path) -> None:
    snapshot = REPO / "tests/snapshots/expected/cli-deterioration-group.json"
    q, source = read_fit_q(snapshot)
    assert q == pytest.approx(json.loads(snapshot.read_text(encoding="utf-8"))["repair_probability"]["per_year"])
    assert "cli-deterioration-group.json" in source and "健全性III" in source
    (tmp_path / "no-q.json").write_text('{"hazards": {}}', encoding="utf-8")
    with pytest.raises(FitFileError, match="補修確率.*ありません"):
        read_fit_q(tmp_path / "no-q.json")
    (tmp_path / "broken.json").write_text('{"repair_probability": ', encoding="utf-8")
    with pytest.raises(FitFileError, match="JSON として読み取れません"):
        read_fit_q(tmp_path / "broken.json")
    (tmp_path / "zero.json").write_text('{"repair_probability": {"per_year": 0}}', encoding="utf-8")
    with pytest.raises(FitFileError):
        read_fit_q(tmp_path / "zero.json")


POINTS = (FacilityPoint("a", "042064", 38.00, 140.60), FacilityPoint("b", "042064", 38.01, 140.62),
          FacilityPoint("c", "042081", 37.97, 140.78), FacilityPoint("d", "042081", 37.98, 140.77, 0.2))


def make_result(d: float = 20.0) -> Result:
    return Result(
        status="optimal", method="exact", objective=0.75, bound=0.75, gap=0.0,
        regions=(Region(1, ("a", "b", "c"), {"042064": 2, "042081": 1}, 16.1, 0.5),
                 Region(2, ("d",), {"042081": 1}, 0.0, 0.25)),
        baselines=Baselines(separate=0.9, single=None, individual=0.5), q=0.1, bundle_limit=5,
        max_distance_km=d, seconds=0.42, assumptions=("年間補修確率 q = 0.1（コマンドで指定）",))


def test_json_has_exactly_the_issue_keys() -> None:
    doc = result_json(make_result())
    assert {"status", "objective", "bound", "gap", "regions", "baselines", "q", "bundle_limit", "max_distance_km",
            "seconds"} <= set(doc)
    assert doc["regions"][0] == {"id": 1, "n": 3, "members": {"042064": 2, "042081": 1}, "max_distance_km": 16.1,
                                 "expected_contracts": 0.5, "facility_ids": ["a", "b", "c"]}
    assert doc["baselines"] == {"separate": 0.9, "single": None, "individual": 0.5, "separate_within_d": None}
    assert doc["infeasibility"] is None
    json.dumps(doc)
    bad = result_json(Result("infeasible", "exact", None, None, None, (), Baselines(0.9, None, 0.5), 0.1, 5, 1.0,
                             0.01, infeasibility=Infeasibility("3施設がどの2つも1 kmより離れています", ("a", "c", "d"), 3)))
    assert bad["status"] == "infeasible" and bad["regions"] == []
    assert bad["infeasibility"] == {"reason": "3施設がどの2つも1 kmより離れています", "facility_ids": ["a", "c", "d"],
                                    "lower_bound_regions": 3}


def test_geojson_points_and_district_hulls() -> None:
    names = {"042064": "白石市", "042081": "角田市"}
    doc = districts_geojson(make_result(), POINTS, names, synthetic=True)
    assert doc["type"] == "FeatureCollection"
    facilities = [f for f in doc["features"] if f["properties"]["kind"] == "facility"]
    districts = [f for f in doc["features"] if f["properties"]["kind"] == "district"]
    assert [f["geometry"]["coordinates"] for f in facilities][0] == [140.60, 38.00]  # lon, lat (RFC 7946)
    assert [(f["properties"]["facility_id"], f["properties"]["district"], f["properties"]["municipality"])
            for f in facilities] == [("a", 1, "白石市"), ("b", 1, "白石市"), ("c", 1, "角田市"), ("d", 2, "角田市")]
    poly, point = districts
    assert poly["geometry"]["type"] == "Polygon"
    ring = poly["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 4
    props = poly["properties"]
    assert (props["n"], props["members"], props["expected_contracts"]) == (3, {"042064": 2, "042081": 1}, 0.5)
    assert poly["properties"]["members_ja"] == "白石市 2、角田市 1"
    assert point["geometry"] == {"type": "Point", "coordinates": [140.77, 37.98]}
    assert doc["properties"]["status"] == "optimal" and "regions" not in doc["properties"]
    assert any("合成データ" in n for n in doc["properties"]["notes"])


def test_xlsx_summary_districts_facilities_for_a_sweep() -> None:
    names = {"042064": "白石市", "042081": "角田市"}
    data = districts_xlsx([make_result(15.0), make_result(20.0)], POINTS, names, synthetic=True,
                          source="施設の位置のファイル p.csv", without_coordinates=2)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["概要", "地区", "施設", "前提・出典"]
    for ws in wb.worksheets:
        assert "合成データ" in str(ws.cell(row=1, column=1).value)
    summary = [[c for c in row if c is not None] for row in wb["概要"].iter_rows(values_only=True)]
    assert ["各団体が単独で発注", 0.9] in summary and ["緯度・経度がなく除いた施設", 2] in summary
    per_d = [r for r in summary if r and r[0] in (15.0, 20.0)]
    assert len(per_d) == 2 and per_d[0][1] == "最適（証明済み）" and per_d[0][4] == 0.75
    districts = list(wb["地区"].iter_rows(values_only=True))
    assert ("最大距離 D（km）", "地区", "施設数", "構成団体（施設数）", "地区内の最大距離（km）", "期待契約数（件/年）") in districts
    assert (15.0, 1, 3, "白石市 2、角田市 1", 16.1, 0.5) in districts
    facilities = list(wb["施設"].iter_rows(values_only=True))
    header = next(r for r in facilities if r[0] == "施設ID")
    assert header[-2:] == ("地区（D = 15 km）", "地区（D = 20 km）")
    assert ("d", "角田市", "042081", 37.98, 140.77, 0.2, 2, 2) in facilities
    notes = [r[0] for r in wb["前提・出典"].iter_rows(values_only=True)]
    assert "年間補修確率 q = 0.1（コマンドで指定）" in notes
