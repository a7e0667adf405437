"""`gunmane lots` on a two-member subset of the demo group (issue #12 §4): when no partition meets the [lots]
conditions, the JSON and the terminal say which condition and which member, with the numbers and the setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gunmane.cli import main

pytestmark = pytest.mark.django_db

# 宇陀市 and 東吉野村 of the demo group, parks only, the default [lots] (minimum lot 1,000万円 a year).
TWO_MEMBERS = """name = "奈良モデル地域（宇陀市・曽爾村・御杖村・東吉野村）"
horizon_years = 5
lead = "292125"
sectors = ["park"]
costing_edition = "FY2022"

[members."292125"]
[members."294535"]

[[scenario]]
name = "広域・一つの契約"
levers = [{ kind = "horizontal", mode = "one_contract" }]
"""


def test_infeasible_lots_say_why(capsys, demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "two.toml"
    path.write_text(TWO_MEMBERS, encoding="utf-8")
    assert main(["lots", str(path), "--format", "json", "--time-limit", "5"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["status"] == "INFEASIBLE" and doc["best"] is None
    (reason,) = doc["infeasible_reasons"]
    # only 宇陀市 has parks in the demo ledger: its yearly park work is all the group has, below the minimum
    assert reason["constraint"] == "min_lot_yen" and reason["members"] == ["宇陀市"]
    total = doc["comparison"]["one_lot"]["lots"][0]["direct_yen"]
    assert 0 < total < 10_000_000
    assert f"群全体の年間の直接費 {total:,} 円（宇陀市）が、ロットの下限 10,000,000 円に届きません。" == reason["message"]
    assert reason["setting"] == "min_lot_yen" and reason["suggested"] <= total
    # the terminal (stderr) says it too, in Japanese
    assert "ロットの分け方が見つかりません（条件を満たす分け方がない）" in captured.err
    assert reason["message"] in captured.err and "min_lot_yen を" in captured.err
    # the suggested setting gives a design
    path.write_text(TWO_MEMBERS + f"\n[lots]\nmin_lot_yen = {reason['suggested']:.0f}\n", encoding="utf-8")
    assert main(["lots", str(path), "--format", "json", "--time-limit", "5"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["best"] is not None and again["best"]["feasible"] and again["infeasible_reasons"] == []
