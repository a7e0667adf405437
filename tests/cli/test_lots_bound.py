"""`gunmane lots` on the demo group (#14): the reported bound is a proven one — below the design's exact cost and
above the trivial bound (travel to the nearest base plus the staff time of the fewest lots) — and the distances
are great-circle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gunmane.cli import main

pytestmark = pytest.mark.django_db

SCENARIO = str(Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "nara-model.toml")


def test_demo_lots_bound_between_the_trivial_bound_and_the_cost(capsys, demo) -> None:  # type: ignore[no-untyped-def]
    assert main(["lots", SCENARIO, "--format", "json", "--time-limit", "5"]) == 0
    doc = json.loads(capsys.readouterr().out)
    best = doc["best"]
    assert best is not None and best["feasible"] and doc["infeasible_reasons"] == []
    assert doc["trivial_bound_yen"] < doc["bound_yen"] <= best["cost_yen"]
    assert doc["gap"] == pytest.approx((best["cost_yen"] - doc["bound_yen"]) / best["cost_yen"], abs=1e-4)
    assert doc["bound_yen"] > 0.95 * best["cost_yen"]  # far above the trivial bound: within 5 % of the design
    assert any("haversine" in a for a in doc["assumptions"])
    assert all(lot["base_office"] for lot in best["lots"])  # every facility within 30 km of an office: no split
