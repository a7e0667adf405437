"""`gunmane costing` and `gunmane effects`: JSON contracts, exit codes, Japanese messages, Excel export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gunmane.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
SCENARIOS = ROOT / "tests" / "scenarios"
PRICE_KEYS = ["work_type", "edition", "direct_cost_yen", "common_temporary_rate", "net_cost_yen",
              "site_management_rate", "prime_cost_yen", "general_admin_rate", "price_yen"]
TOTAL_KEYS = {"contracts", "price_yen", "overhead_yen", "staff_hours", "travel_km", "expected_failed_tenders",
              "days_to_repair", "deterioration_cost_yen"}


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_costing_price_json_contract(capsys) -> None:  # type: ignore[no-untyped-def]
    code, doc = run_json(capsys, ["costing", "price", "--work-type", "道路維持工事", "--direct-cost", "5000000",
                                  "--format", "json"])
    assert code == 0 and list(doc) == PRICE_KEYS
    assert doc["edition"] == "FY2022" and doc["direct_cost_yen"] == 5_000_000
    assert (doc["common_temporary_rate"], doc["site_management_rate"], doc["general_admin_rate"]) == (17.29, 49.3, 22.36)
    assert doc["net_cost_yen"] == 5_864_500 and doc["price_yen"] > doc["prime_cost_yen"] > doc["net_cost_yen"]


def test_costing_price_with_older_edition(capsys) -> None:  # type: ignore[no-untyped-def]
    code, doc = run_json(capsys, ["costing", "price", "--work-type", "道路維持工事", "--direct-cost", "2000000",
                                  "--edition", "FY2015", "--format", "json"])
    assert code == 0 and doc["edition"] == "FY2015"
    assert doc["common_temporary_rate"] == 16.64  # FY2015 road maintenance: flat up to ¥6M
    assert doc["prime_cost_yen"] < 5_000_000 and doc["general_admin_rate"] == 20.29  # FY2015 Gp: flat up to ¥5M


def test_costing_unknown_work_type_exit_2_lists_known_ones(capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["costing", "price", "--work-type", "道路清掃工事", "--direct-cost", "5000000", "--format", "json"])
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert "工種区分「道路清掃工事」" in out.err and "道路維持工事" in out.err and "下水道工事(2)" in out.err


def test_costing_service_and_text_output(capsys) -> None:  # type: ignore[no-untyped-def]
    code, doc = run_json(capsys, ["costing", "price", "--service", "設計業務", "--direct-labour", "98050", "--format", "json"])
    assert code == 0 and (doc["other_cost_yen"], doc["general_admin_yen"]) == (52_796, 81_224)
    assert main(["costing", "price", "--work-type", "橋梁保全工事", "--direct-cost", "20000000"]) == 0
    text = capsys.readouterr().out
    assert "一般管理費等率" in text and "工事価格" in text


@pytest.mark.django_db
def test_effects_published_case_json(capsys, refdata) -> None:  # type: ignore[no-untyped-def]
    code, doc = run_json(capsys, ["effects", str(SCENARIOS / "shizuoka_shimoda.toml"), "--format", "json"])
    assert code == 0 and doc["status"] == "ok"
    assert set(doc["baseline"]["totals"]) >= TOTAL_KEYS
    assert doc["baseline"]["totals"]["contracts"] == 44
    bundled = doc["scenarios"][0]
    assert bundled["totals"]["contracts"] == 1
    for member in ("220001", "222194"):
        assert set(bundled["members"][member]) >= TOTAL_KEYS
    assert doc["assumptions"] and any(a.startswith("積算基準：") and doc["costing_edition"]["label_ja"] in a
                                      for a in doc["assumptions"])
    assert any(p["id"] == "cap.performance_task_yen" and p["status"] == "user" for p in doc["parameters"])


@pytest.mark.django_db
def test_effects_invalid_scenario_exit_1_in_japanese(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text('members = ["292125", "293857"]\n[[scenario]]\nname = "x"\nlevers = [{ kind = "merge_all" }]\n',
                   encoding="utf-8")
    code, doc = run_json(capsys, ["effects", str(bad), "--format", "json"])
    assert code == 1 and doc["status"] == "invalid"
    assert "merge_all" in doc["error"]["message"] and "horizontal" in doc["error"]["message"]
    bad.write_text('members = ["292125"]\n[parameters]\n"hazard.V" = 1\n[[scenario]]\nname = "x"\n', encoding="utf-8")
    code, doc = run_json(capsys, ["effects", str(bad), "--format", "json"])
    assert code == 1 and doc["error"]["code"] == "unknown_parameter" and "パラメータ" in doc["error"]["message"]
    assert main(["effects", str(tmp_path / "none.toml")]) == 2


@pytest.mark.django_db
def test_effects_demo_region_from_the_database_and_xlsx(capsys, demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the demo group (its accepted members) is what a ledger scenario may read
    example = ROOT / "examples" / "scenarios" / "nara-model.toml"
    code, doc = run_json(capsys, ["effects", str(example), "--format", "json"])
    assert code == 0
    assert [m["lg_code"] for m in doc["members"]] == ["292125", "293857", "293865", "294535", "290009"]
    assert doc["work"]["inspections"] > 100 and doc["work"]["backlog_repairs"] > 0
    base = doc["baseline"]["totals"]
    by_name = {s["name"]: s for s in doc["scenarios"]}
    process = by_name["広域＋プロセス（CM型の一括契約）"]["totals"]
    assert process["days_to_repair"] < base["days_to_repair"]
    assert process["deterioration_cost_yen"] < base["deterioration_cost_yen"]
    assert by_name["広域・一つの契約"]["contracts_by_kind"]["inspection"] < doc["baseline"]["contracts_by_kind"]["inspection"]
    assert by_name["広域・共同発注（契約は団体ごと）"]["totals"]["staff_hours"] < base["staff_hours"]
    assert by_name["広域＋データ＋性能規定"]["totals"]["contracts"] < base["contracts"] / 5
    assert base["travel_km"] > 0 and base["price_yen"] > base["overhead_yen"] > 0
    out = tmp_path / "nara.xlsx"
    assert main(["effects", str(example), "--format", "xlsx", "--out", str(out)]) == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["比較", "団体別", "契約", "前提条件", "パラメータ"]
    ws = wb["比較"]
    assert ws.cell(row=4, column=3).value == "基準（各団体が単独で発注）" and ws.cell(row=5, column=1).value == "契約数"
    assert main(["effects", str(example), "--format", "xlsx"]) == 2  # xlsx needs --out


@pytest.mark.django_db
def test_lots_demo_region_json_and_geojson(capsys, demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the demo group (its accepted members) is what a ledger scenario may read
    example = ROOT / "examples" / "scenarios" / "nara-model.toml"
    code, doc = run_json(capsys, ["lots", str(example), "--format", "json", "--time-limit", "5"])
    assert code == 0 and doc["status"] in ("OPTIMAL", "WITHIN_TARGET_GAP", "FEASIBLE")
    best = doc["best"]
    assert best["feasible"] and doc["bound_yen"] <= best["cost_yen"]
    assert best["cost_yen"] <= doc["comparison"]["per_municipality"]["cost_yen"]
    assert sum(lot["facilities"] for lot in best["lots"]) == doc["facilities"]
    out = tmp_path / "lots.geojson"
    assert main(["lots", str(example), "--format", "geojson", "--time-limit", "5", "--out", str(out)]) == 0
    geo = json.loads(out.read_text(encoding="utf-8"))
    points = [f for f in geo["features"] if f["properties"]["kind"] == "facility"]
    assert geo["type"] == "FeatureCollection" and len(points) == doc["facilities"]
    lon, lat = points[0]["geometry"]["coordinates"]
    assert 135.7 < lon < 136.3 and 34.2 < lat < 34.7  # the Nara model region
    routes = [f for f in geo["features"] if f["properties"]["kind"] == "route"]
    assert routes and all(f["geometry"]["type"] == "LineString" for f in routes)
    assert sum(f["properties"]["sites"] for f in routes) == len(points)


@pytest.mark.django_db
def test_effects_sensitivity_in_json_and_xlsx(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = str(SCENARIOS / "shizuoka_shimoda.toml")
    code, doc = run_json(capsys, ["effects", scenario, "--format", "json", "--sensitivity", "--samples", "4"])
    assert code == 0
    sens = doc["sensitivity"]
    first = doc["scenarios"][0]["name"]
    tornado = sens["tornado"][first]
    assert tornado and {"parameter", "low", "high", "low_value", "high_value"} <= set(tornado[0])
    assert sens["monte_carlo"][first]["n"] == 4
    out = tmp_path / "s.xlsx"
    assert main(["effects", scenario, "--format", "xlsx", "--out", str(out), "--sensitivity"]) == 0
    assert "感度分析" in load_workbook(out).sheetnames


@pytest.mark.parametrize("command", ["costing", "effects", "lots"])
def test_help_prints_in_japanese(capsys, command: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "--format" in capsys.readouterr().out
