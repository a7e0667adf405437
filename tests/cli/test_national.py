"""`gunmane import nenpo`, `gunmane import xroad`, `gunmane fetch xroad`: JSON contract, exit codes, Japanese text,
and five yearly lists feeding `gunmane deterioration fit --ledger`. SYNTHETIC files only; no network."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest

from gunmane.cli import main
from gunmane.web.registry.models import Facility, ImportRecord, Inspection
from tests.national_fixtures import (
    five_year_lists,
    write_miyagi_lists,
    write_xroad_json,
    xroad_envelope,
    xroad_records_shiroishi,
)

pytestmark = pytest.mark.django_db
REPORT_KEYS = ["status", "source", "scope", "files", "rows", "rows_imported", "rows_skipped", "invalid", "facilities",
               "inspections", "matching", "built_year_unknown", "not_inspected", "managers", "coordinates_outside", "coordinates_missing",
               "grade_improved_without_measure", "skipped", "errors", "errors_total", "warnings"]


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_import_nenpo_json_contract_and_exit_codes(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = write_miyagi_lists(tmp_path)
    code, report = run_json(capsys, ["import", "nenpo", str(a), str(b), "--prefecture", "04", "--format", "json"])
    assert code == 1 and list(report) == REPORT_KEYS and report["status"] == "invalid"
    assert set(report["errors"][0]) == {"file", "row", "column", "value", "code", "message"}
    assert (report["errors"][0]["file"], report["errors"][0]["row"]) == ("r02/01-3.xlsx", 14)
    assert not Facility.objects.exists() and not ImportRecord.objects.exists()
    code, report = run_json(capsys, ["import", "nenpo", str(a), str(b), "--prefecture", "04", "--skip-invalid",
                                     "--format", "json"])
    assert code == 0 and report["status"] == "ok" and report["matching"]["exact"] == 4
    record = ImportRecord.objects.get()
    assert record.kind == "nenpo" and record.original_name.endswith("ほか1件.zip")
    assert record.quality["matching"]["exact"] == 4 and record.status == "succeeded"


def test_text_report_is_japanese(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = write_miyagi_lists(tmp_path)
    assert main(["import", "nenpo", str(a), str(b), "--all", "--skip-invalid", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "検証のみ" in out and "照合: 一致 4、要確認（候補が複数） 1" in out
    assert "r02/01-3.xlsx 11行目 「道路管理者 管理者名」 値「合成例示村」" in out
    assert not Facility.objects.exists()


def test_english_messages(capsys, refdata, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GUNMANE_LANG", "en")
    a, _ = write_miyagi_lists(tmp_path)
    code, report = run_json(capsys, ["import", "nenpo", str(a), "--all", "--format", "json"])
    assert code == 1
    assert [e["message"].split(" (")[0] for e in report["errors"]] == [
        "The construction year must be 4 digits", "The soundness class must be one of Ⅰ, Ⅱ, Ⅲ, Ⅳ"]


@pytest.mark.parametrize("argv", [
    ["import", "nenpo", "/nonexistent.xlsx", "--all"],
    ["import", "nenpo", __file__, "--prefecture", "48"],
    ["import", "nenpo", __file__, "--municipality", "042065"],
    ["import", "xroad", "/nonexistent.json"],
    ["fetch", "xroad", "--city", "abc"],
])
def test_usage_errors_exit_2(capsys, refdata, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("gunmane: ")


def test_scope_is_required(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as e:
        main(["import", "nenpo", str(tmp_path / "x.xlsx")])
    assert e.value.code == 2


def test_wrong_file_is_invalid_with_a_japanese_reason(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "ledger.csv"
    path.write_text("施設ID,施設名\nBR-1,合成橋\n", encoding="utf-8")
    code, report = run_json(capsys, ["import", "xroad", str(path), "--format", "json"])
    assert code == 1 and report["errors"][0]["code"] == "xroad_csv_header" and report["errors"][0]["row"] == 0


def test_import_xroad(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_xroad_json(tmp_path / "042064.json", xroad_records_shiroishi())
    code, report = run_json(capsys, ["import", "xroad", str(path), "--municipality", "042064", "--format", "json"])
    assert code == 0 and report["facilities"]["created"] == 4 and report["not_inspected"] == 1
    assert report["skipped"]["by_reason"] == {"out_of_scope": 1, "non_lg_manager": 1}
    code, again = run_json(capsys, ["import", "xroad", str(path), "--municipality", "042064", "--format", "json"])
    assert again["facilities"]["created"] == 0 and again["inspections"]["created"] == 0
    assert Facility.objects.count() == 4


def test_fetch_xroad_pages_saves_and_imports(capsys, refdata, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gunmane.io.national import xroad

    records = xroad_records_shiroishi()
    asked: list[int] = []

    def recorded(url: str, timeout: float) -> bytes:
        q = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
        off, lim = int(q["offset"][0]), int(q["limit"][0])
        asked.append(off)
        return json.dumps(xroad_envelope(records[off:off + lim], count=len(records), offset=off, limit=lim)).encode()

    monkeypatch.setattr(xroad, "_urlopen", recorded)
    out = tmp_path / "shiroishi.json"
    code, report = run_json(capsys, ["fetch", "xroad", "--city", "04206", "--limit", "4", "--out", str(out),
                                     "--import", "--format", "json"])
    assert code == 0 and asked == [0, 4]
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["request"]["city"] == "042064" and saved["retrieved_at"] and len(saved["pages"]) == 2
    assert report["status"] == "ok" and report["files"][0]["retrieved_at"] == saved["retrieved_at"]
    assert Facility.objects.filter(manager__lg_code="042064").count() == 4


def test_fetch_xroad_error_envelope_saves_nothing(capsys, refdata, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gunmane.io.national import xroad

    monkeypatch.setattr(xroad, "_urlopen", lambda url, timeout: json.dumps(xroad_envelope([], is_error=True)).encode())
    out = tmp_path / "x.json"
    code, report = run_json(capsys, ["fetch", "xroad", "--city", "042064", "--out", str(out), "--format", "json"])
    assert (code, report["status"], report["code"]) == (1, "failed", "xroad_error_envelope")
    assert not out.exists()


def test_five_yearly_lists_feed_the_deterioration_model(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = five_year_lists(tmp_path, bridges=600)
    code, report = run_json(capsys, ["import", "nenpo", *map(str, paths), "--prefecture", "04", "--format", "json"])
    assert code == 0 and [f["fiscal_year"] for f in report["files"]] == [2020, 2021, 2022, 2023, 2024]
    assert report["facilities"]["created"] == 600 and report["matching"]["exact"] == 150
    assert report["matching"]["ambiguous"] == 0
    pairs = Inspection.objects.filter(source_fiscal_year=2024).count()
    assert pairs == 150
    code, fit = run_json(capsys, ["deterioration", "fit", "--ledger", "04"])
    assert code == 0, fit
    # 宮城県's own bridges are not a member of the prefecture scope: the municipalities' 120 pairs remain.
    assert fit["n_pairs"] == 120 and fit["hazards"]["I"] > 0


def test_fiscal_year_option_takes_one_list(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = write_miyagi_lists(tmp_path)
    assert main(["import", "nenpo", str(a), str(b), "--all", "--fiscal-year", "2020"]) == 2
    assert "--fiscal-year" in capsys.readouterr().err


def test_import_xroad_csv_says_which_facilities_have_no_position(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.io.test_xroad_positions import write_position_csv

    path = write_position_csv(tmp_path / "白石市_橋梁.csv")
    assert main(["import", "xroad", str(path), "--municipality", "042064", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "位置（緯度・経度）のない施設 4" in out and "白石市_橋梁.csv 7行目 合成空欄橋（白石市" in out
    assert "警告:" in out and "白石市_橋梁.csv 5行目 「緯度」 値「140.6」" in out
