"""`gunmane lcc` / `gunmane plan` / `gunmane deterioration fit` on sectors other than road structures (#16 §3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gunmane.cli import main

pytestmark = pytest.mark.django_db


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_fit_on_a_sector_scale_from_a_pairs_file(capsys, refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    park = tmp_path / "park.csv"
    park.write_text("施設ID,前回の判定,今回の判定,経過年数\np1,A,B,5\np2,A,A,5\np3,B,C,5\np4,健全度B,B,5\n"
                    "p5,C,D,5\np6,A,C,10\np7,ｃ,C,5\np8,B,D,6\n", encoding="utf-8")
    code, out = run_json(capsys, ["deterioration", "fit", "--pairs", str(park), "--scale", "park-AD"])
    assert code == 0 and out["states"] == ["A", "B", "C", "D"] and out["n_pairs"] == 8
    assert out["scale"]["id"] == "park-AD" and out["scale"]["trigger"] == "C"
    mci = tmp_path / "mci.csv"
    mci.write_text("施設ID,前回,今回,経過年数\nr1,MCI 9.1,7.5,3\nr2,8.5,5.0,5\nr3,6.2,3.9,4\nr4,4.4,1.2,6\n"
                   "r5,9.5,9.0,2\nr6,7,6.5,2\nr7,3.5,1.0,5\nr8,2.5,2.2,2\n", encoding="utf-8")
    code, out = run_json(capsys, ["deterioration", "fit", "--pairs", str(mci), "--scale", "mci-5"])
    assert code == 0 and len(out["states"]) == 5 and out["n_pairs"] == 8
    code, out = run_json(capsys, ["deterioration", "fit", "--pairs", str(park), "--scale", "pave-3"])
    assert code == 1 and out["errors"][0]["value"] == "A"     # A is no grade of 舗装 Ⅰ〜Ⅲ
    assert main(["deterioration", "fit", "--pairs", str(park), "--scale", "water-age"]) == 2


def test_lcc_and_plan_for_every_sector_on_the_demo(capsys, demo) -> None:  # type: ignore[no-untyped-def]
    code, out = run_json(capsys, ["lcc", "29212", "--facility-type", "all", "--no-monte-carlo"])
    assert code == 0
    runs = {r["scale"]: r for r in out["runs"]}
    assert {"I-IV", "pave-3", "park-AD"} <= set(runs)
    pave = runs["pave-3"]
    assert pave["grades"] == ["Ⅰ", "Ⅱ", "Ⅲ"] and pave["model"]["states"] == ["Ⅰ", "Ⅱ", "Ⅲ"]
    assert "小林・貝戸" in pave["hazard_source"]            # the published MCI rates, named with their source
    assert all(a["source"] for a in pave["parameters"]["actions"])
    assert runs["park-AD"]["parameters"]["actions"][0]["unit"] == "基"
    code, plan = run_json(capsys, ["plan", "29212", "--facility-type", "road,pavement,play_equipment",
                                   "--budget", "1億"])
    assert code == 0
    assert {"bridge", "pavement", "play_equipment"} <= {r["facility_type"] for r in plan["plan"]}
    first = plan["iv_first_year"]["cost_yen"]
    for row in plan["budget_curve"]:
        assert row["plan"] <= max(1e8, first if row["fiscal_year"] == plan["start_fiscal_year"] else 0) * (1 + 1e-9)
    assert {g["scale"] for g in plan["groups"]} >= {"I-IV", "pave-3", "park-AD"}
    assert main(["lcc", "29212", "--facility-type", "sabo_dam"]) == 2   # no cost table: a usage error naming those there
    assert "pavement（舗装）" in capsys.readouterr().err
