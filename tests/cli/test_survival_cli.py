"""`gunmane survival fit --assets FILE`: the report on a synthetic file, its errors, and a start-up without scipy
or Django."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gunmane.cli import main
from tests.cli.test_startup import imported, tops


def synthetic_pipes(path: Path, n: int = 600, seed: int = 16) -> Path:
    """合成データ: water mains laid FY1950–2015, Weibull(k = 3, λ = 50) lives in whole fiscal years, records to
    FY2024; a few rows as ledgers have them (和暦, 「不明」)."""
    rng = np.random.default_rng(seed)
    inst = rng.integers(1950, 2016, n)
    renewal = inst + np.maximum(np.round(50.0 * rng.weibull(3.0, n)), 1).astype(int)
    lines = ["管路ID,布設年度,更新年度"]
    for i, (a, r) in enumerate(zip(inst, renewal, strict=True)):
        lines.append(f"W{i:04d},{a},{r if r <= 2024 else ''}")
    lines += ["W9001,昭和40年度,平成22年度", "W9002,不明,2001", "W9003,1970,不明"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_fit_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = synthetic_pipes(tmp_path / "水道管路.csv")
    code, out = run(capsys, ["survival", "fit", "--assets", str(path), "--observed-until", "2024", "--horizon", "10"])
    assert code == 0
    assert out["n_assets"] == 601 and out["excluded"]["missing_install_year"] == 1
    assert out["excluded"]["missing_renewal_year"] == 1 and out["n_renewals"] + out["n_censored"] == 601
    lo, hi = out["confidence_intervals"]["shape"]
    assert lo < 3.0 < hi and out["confidence_intervals"]["scale_years"][0] < 50 < out["confidence_intervals"]["scale_years"][1]
    assert out["comparison"]["preferred"] == "weibull" and out["aic"] < out["exponential"]["aic"]
    assert out["median_life_years"] == pytest.approx(out["scale_years"] * np.log(2) ** (1 / out["shape"]))
    fc = out["forecast"]
    assert fc["first_year"] == 2025 and fc["years"][-1] == 2034 and fc["in_service"] == out["n_censored"]
    assert all(r >= f > 0 for r, f in zip(fc["renewals"], fc["first_renewals"], strict=True))
    assert out["observed_until"] == 2024 and out["converged"] and out["source"] == "assets file 水道管路.csv"


def test_invalid_inputs_exit_1_with_where_and_why(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("施設ID,設置年度,更新年度\nP1,1970,abc\n", encoding="utf-8")
    code, out = run(capsys, ["survival", "fit", "--assets", str(bad)])
    assert code == 1 and out["status"] == "invalid"
    assert out["errors"][0] | {"message": ""} == {"row": 2, "column": "更新年度", "value": "abc", "code": "not_a_year",
                                                  "message": ""}
    none = tmp_path / "none.csv"
    none.write_text("施設ID,設置年度,更新年度\nP1,1970,\nP2,1980,\n", encoding="utf-8")
    code, out = run(capsys, ["survival", "fit", "--assets", str(none)])
    assert code == 1 and out["error"]["code"] == "no_renewals" and "更新・撤去の記録が1件もない" in out["error"]["message"]


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gunmane.cli", "survival", "fit", "--assets", str(tmp_path / "ない.csv")],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert proc.returncode == 2 and "ない.csv" in proc.stderr and "Traceback" not in proc.stderr


def test_fit_needs_neither_scipy_nor_django(tmp_path: Path) -> None:
    proc, modules = imported(["survival", "fit", "--assets", str(synthetic_pipes(tmp_path / "p.csv", 200))], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["n_assets"] == 201
    assert not {"scipy", "django", "gunmane.web"} & tops(modules), sorted({"scipy", "django"} & tops(modules))


def test_the_documented_example(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/deterioration.md §12 quotes this run on the shipped 合成データ (true k = 3, λ = 55, ledger begun
    FY1995): the figures there are these."""
    path = Path(__file__).resolve().parents[2] / "examples/survival/水道管路_合成データ.csv"
    argv = ["survival", "fit", "--assets", str(path), "--observed-until", "2024", "--horizon", "10"]
    code, out = run(capsys, [*argv, "--records-since", "1995"])
    assert code == 0 and (out["n_assets"], out["n_renewals"], out["n_censored"], out["n_truncated"]) == (756, 229, 527, 466)
    assert out["excluded"]["missing_install_year"] == 8 and out["excluded"]["no_exposure"] == 2
    assert (round(out["shape"], 2), round(out["scale_years"], 1), round(out["median_life_years"], 1)) == (3.35, 54.5, 48.9)
    assert [round(v, 2) for v in out["confidence_intervals"]["shape"]] == [3.0, 3.74]
    assert round(out["exponential"]["aic"] - out["aic"]) == 270 and round(out["forecast"]["renewals"][0], 1) == 11.0
    code, naive = run(capsys, argv)  # the same file read as if the records went back to installation
    assert round(naive["shape"], 2) == 3.80 and naive["confidence_intervals"]["shape"][0] > 3.0
