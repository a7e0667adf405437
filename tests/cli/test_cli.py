"""The `gunmane` command: JSON contracts, exit codes (0 done, 1 invalid input, 2 usage), Japanese messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gunmane.cli import main
from gunmane.web.registry.models import Facility, ImportRecord
from tests.fixtures import MESSY_BRIDGES_CSV, MESSY_ERRORS, corrected_bridges_csv, write_cp932

pytestmark = pytest.mark.django_db
REPORT_KEYS = ["status", "rows", "valid", "invalid", "created", "updated", "unchanged", "errors", "warnings",
               "unused_columns"]


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_import_messy_file_json_contract(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_cp932(tmp_path / "bridges.csv", MESSY_BRIDGES_CSV)
    code, report = run_json(capsys, ["import", "facilities", str(path), "--municipality", "29212", "--format", "json"])
    assert code == 1
    assert list(report) == REPORT_KEYS
    assert (report["status"], report["rows"], report["valid"], report["invalid"]) == ("invalid", 9, 4, 5)
    assert [(e["row"], e["column"], e["value"], e["code"]) for e in report["errors"]] == MESSY_ERRORS
    assert set(report["errors"][0]) == {"row", "column", "value", "code", "message"}
    assert report["warnings"][0]["code"] == "era_year_overflow"
    assert not Facility.objects.exists()


def test_import_then_reimport_then_dry_run(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_cp932(tmp_path / "bridges.csv", corrected_bridges_csv())
    argv = ["import", "facilities", str(path), "--municipality", "292125", "--format", "json"]
    code, report = run_json(capsys, argv)
    assert (code, report["status"], report["created"]) == (0, "ok", 9)
    record = ImportRecord.objects.get()
    assert record.user is None and Path(record.file.path).read_bytes() == path.read_bytes()
    code, report = run_json(capsys, argv)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 9)
    code, report = run_json(capsys, [*argv, "--dry-run"])
    assert (code, report["status"]) == (0, "dry_run")
    assert ImportRecord.objects.count() == 2  # a dry run keeps no record


def test_skip_invalid_exit_code_zero(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_cp932(tmp_path / "bridges.csv", MESSY_BRIDGES_CSV)
    code, report = run_json(capsys, ["import", "facilities", str(path), "--municipality", "292125", "--skip-invalid",
                                     "--format", "json"])
    assert (code, report["status"], report["created"], report["invalid"]) == (0, "ok", 4, 5)


def test_text_report_is_japanese(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_cp932(tmp_path / "bridges.csv", MESSY_BRIDGES_CSV)
    assert main(["import", "facilities", str(path), "--municipality", "292125"]) == 1
    out = capsys.readouterr().out
    assert "エラーがあるため取り込みませんでした" in out
    assert "7行目 「架設年度」 値「2031」" in out


def test_english_messages(capsys, refdata, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GUNMANE_LANG", "en")
    path = write_cp932(tmp_path / "bridges.csv", MESSY_BRIDGES_CSV)
    code, report = run_json(capsys, ["import", "facilities", str(path), "--municipality", "292125", "--format", "json"])
    assert code == 1 and report["errors"][0]["message"].isascii()


@pytest.mark.parametrize("argv", [
    ["import", "facilities", "/nonexistent.csv", "--municipality", "292125"],
    ["import", "facilities", __file__, "--municipality", "99999"],
    ["import", "facilities", __file__, "--municipality", "292126"],
    ["export", "facilities", "--municipality", "292125", "--format", "xlsx"],
])
def test_usage_errors_exit_2_with_japanese_message(capsys, refdata, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gunmane: ") and not err.isascii()


def test_argparse_usage_error_exits_2(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        main(["import", "bridges", "x.csv"])
    assert exc.value.code == 2


def test_export_json_to_stdout_and_xlsx_file_round_trip(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_cp932(tmp_path / "bridges.csv", corrected_bridges_csv())
    main(["import", "facilities", str(path), "--municipality", "292125", "--format", "json"])
    capsys.readouterr()
    assert main(["export", "facilities", "--municipality", "292125", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 9
    bridge = next(d for d in data if d["facility_id"] == "BR-001")
    assert bridge == {
        "lg_code": "292125", "facility_id": "BR-001", "name": "大宇陀橋", "sector": "道路", "facility_type": "橋梁",
        "built_year": 1970, "length_m": 1234.5, "width_m": 6.0, "area_m2": None, "lat": 34.5277, "lon": 135.9525,
        "route": "市道大宇陀線", "address": "", "structure": "PC単純T桁橋", "national_id": "", "note": "",
        "is_synthetic": False, "attributes": {"管理区分": "1級"},
    }
    out = tmp_path / "out.xlsx"
    assert main(["export", "facilities", "--municipality", "292125", "--format", "xlsx", "--out", str(out)]) == 0
    code, report = run_json(capsys, ["import", "facilities", str(out), "--municipality", "292125", "--format", "json"])
    assert (code, report["unchanged"], report["created"], report["updated"]) == (0, 9, 0, 0)
    csv_out = tmp_path / "out.csv"
    assert main(["export", "facilities", "--municipality", "292125", "--format", "csv", "--encoding", "cp932",
                 "--out", str(csv_out)]) == 0
    assert "大宇陀橋" in csv_out.read_bytes().decode("cp932")


def test_template_command(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    assert main(["template", "inspections", "--out", str(out)]) == 0
    ws = load_workbook(out).worksheets[0]
    assert [c.value for c in ws[1]][:4] == ["団体コード", "施設ID", "点検年月日", "健全性"]


def test_refdata_load_is_idempotent(capsys, refdata) -> None:  # type: ignore[no-untyped-def]
    from gunmane.web.registry.models import Municipality, MunicipalYearStats

    before = (Municipality.objects.count(), MunicipalYearStats.objects.count())
    code, counts = run_json(capsys, ["refdata", "load", "--format", "json"])
    assert code == 0 and counts == {"prefectures": 47, "municipalities": 1788, "year_stats": 8940}
    assert (Municipality.objects.count(), MunicipalYearStats.objects.count()) == before == (1788, 8940)


def test_deterioration_fit_from_pairs_file_and_ledger(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The CLI contract of `gunmane deterioration fit` on a simulated pairs file (known hazards)."""
    import numpy as np

    from gunmane.engine.deterioration import transition_matrix

    rng = np.random.default_rng(7)
    theta = np.array([0.10, 0.05, 0.08])
    rows = ["施設ID,前回の健全性,今回の健全性,経過年数"]
    for k in range(4000):
        before = int(rng.integers(1, 4))
        z = float(rng.choice([3.0, 4.5, 5.0, 6.0]))
        p = transition_matrix(theta, z)[before - 1]
        after = int(rng.choice(4, p=p / p.sum())) + 1
        rows.append(f"F{k},{['Ⅰ', 'Ⅱ', 'Ⅲ', 'Ⅳ'][before - 1]},{after},{z}")
    path = tmp_path / "pairs.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out = run_json(capsys, ["deterioration", "fit", "--pairs", str(path)])
    assert code == 0
    assert list(out)[:9] == ["states", "hazards", "std_errors", "expected_years", "one_year_matrix", "loglik", "aic",
                             "n_pairs", "excluded"]
    assert out["n_pairs"] == 4000
    for label, true in zip(["I", "II", "III"], theta, strict=True):
        assert abs(out["hazards"][label] - true) < 4 * out["std_errors"][label]
    bad = tmp_path / "bad.csv"
    bad.write_text("施設ID,前回の健全性,今回の健全性,経過年数\nF1,Ⅱ,Ⅴ,5\n", encoding="utf-8")
    code, out = run_json(capsys, ["deterioration", "fit", "--pairs", str(bad)])
    assert code == 1 and out["errors"][0]["row"] == 2 and out["errors"][0]["value"] == "Ⅴ"
