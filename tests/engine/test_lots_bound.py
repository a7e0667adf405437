"""ロット設計 (#14): great-circle distances, a feasible start that splits a member wider than the reach, and a
proven lower bound (its premises checked on the shipped costing edition)."""

from __future__ import annotations

import numpy as np
import pytest

from gunmane.engine.effects import Facility, GroupInput, Member
from gunmane.engine.effects.work import project_km
from gunmane.engine.lots import LotSettings, design_lots
from gunmane.engine.lots.bound import LotCostFloor, lower_bound, rounding
from gunmane.engine.lots.design import _Pricer
from gunmane.engine.lots.sites import km_between
from gunmane.io.shipped.costing import load_costing_edition
from gunmane.io.shipped.parameters import effects_parameters

EDITION = load_costing_edition("FY2022")
PARAMS = effects_parameters()
UDA = (34.52777778, 135.9525)  # 宇陀市役所 (municipalities.csv)
SONI = (34.51055556, 136.1247222)  # 曽爾村役場


def test_haversine_between_two_offices_against_the_old_flat_distance() -> None:
    d = float(km_between(np.array([UDA[0]]), np.array([UDA[1]]), np.array([SONI[0]]), np.array([SONI[1]]))[0, 0])
    assert d == pytest.approx(15.894, abs=0.002)  # great circle, R = 6,371 km
    x, y = project_km(np.array([UDA[0], SONI[0]]), np.array([UDA[1], SONI[1]]), 34.5, 136.0)
    flat = float(np.hypot(x[0] - x[1], y[0] - y[1]))  # the old plane around the demo group's centre, 111.32 km/°
    assert flat == pytest.approx(15.916, abs=0.002) and flat - d > 0.015


def wide_member() -> GroupInput:
    """One town whose bridges lie in two clusters 60 km apart (its office at the west one), and a neighbour."""
    rng = np.random.default_rng(5)
    town = Member("990010", "合成広域町", office_lat=34.5, office_lon=136.0)
    near = Member("990020", "合成隣村", office_lat=34.55, office_lon=136.05)
    facs = []
    for j in range(60):
        east = j % 2 == 1
        facs.append(Facility(f"t-{j}", town.lg_code, "road", "bridge", float(rng.uniform(5, 40)),
                             lat=34.5 + float(rng.normal(0, 0.02)), lon=(136.65 if east else 136.0) + float(rng.normal(0, 0.02)),
                             latest_inspection_fy=2021, latest_grade=2))
    for j in range(20):
        facs.append(Facility(f"n-{j}", near.lg_code, "road", "bridge", float(rng.uniform(5, 40)),
                             lat=34.55 + float(rng.normal(0, 0.02)), lon=136.05 + float(rng.normal(0, 0.02)),
                             latest_inspection_fy=2021, latest_grade=2))
    return GroupInput((town, near), tuple(facs), 2026, 5)


def test_a_member_wider_than_the_reach_is_split_not_refused() -> None:
    s = LotSettings(min_lot_yen=1e6, max_lot_yen=3e8, max_radius_km=20, time_limit_s=5, seed=1)
    d = design_lots(wide_member(), EDITION, params=PARAMS, settings=s)
    assert d.best is not None and d.best.feasible and not d.infeasible_reasons
    field = [lot for lot in d.best.lots if not lot.base_office]
    assert field and all(lot.base == "990010" and lot.max_distance_km <= 20 for lot in field)
    assert all(lot.max_distance_km <= 20 + 1e-6 for lot in d.best.lots)
    assert sum(lot.facilities for lot in d.best.lots) == 80
    assert d.bound_yen is not None and d.trivial_bound_yen is not None
    assert d.trivial_bound_yen <= d.bound_yen <= d.best.cost_yen + 1
    assert any("現地拠点" in a for a in d.assumptions) and any("haversine" in a for a in d.assumptions)
    doc = d.as_json()["best"]["lots"]
    assert {"base", "base_office", "base_lat", "base_lon"} <= set(doc[0])


def test_the_step_floor_is_below_the_lot_cost_and_the_overhead_never_falls() -> None:
    s = LotSettings()
    pricer = _Pricer(EDITION, PARAMS, s, 5)
    v = np.geomspace(1e5, 1e10, 200001)
    oh = pricer.overhead(v)
    # the premise of the bound: overhead(y) ≥ overhead(x) − δ(x) − δ(y) for y ≥ x (rates rounded to 0.01 %)
    assert np.all(np.maximum.accumulate(oh) - oh <= 2 * rounding(v))
    v = np.geomspace(s.min_lot_yen, s.max_lot_yen, 20001)
    floor: LotCostFloor = pricer.floor()
    cost = pricer.lot_cost(v)
    i = np.clip(np.searchsorted(floor.hi, v), 0, len(floor.m) - 1)
    assert np.all(floor.m[i] <= cost + 1e-6)


def test_the_bound_is_below_every_partition_of_a_small_instance() -> None:
    """Brute force over every assignment of five cells to three lots: the bound ≤ the cheapest feasible one."""
    import itertools

    s = LotSettings(min_lot_yen=2e7, max_lot_yen=2e8)
    pricer = _Pricer(EDITION, PARAMS, s, 5)
    rng = np.random.default_rng(2)
    v = rng.uniform(1e7, 8e7, 5)
    travel = rng.uniform(1e5, 2e6, (5, 3))
    allowed = rng.uniform(size=(5, 3)) < 0.8
    allowed[:, 0] = True
    best = np.inf
    for assign in itertools.product(range(3), repeat=5):
        a = np.array(assign)
        if not allowed[np.arange(5), a].all():
            continue
        vals = np.bincount(a, v, 3)[np.bincount(a, minlength=3) > 0]
        if np.all((vals >= s.min_lot_yen) & (vals <= s.max_lot_yen)):
            best = min(best, float(pricer.lot_cost(vals).sum() + travel[np.arange(5), a].sum()))
    b = lower_bound(float(v.sum()), travel, allowed, pricer.floor(), s.min_lot_yen, s.max_lot_yen, 3)
    assert np.isfinite(best) and 0 < b <= best
    assert b >= 0.8 * best  # not trivial


def test_a_far_part_too_small_for_a_lot_is_named_with_its_facilities() -> None:
    """The east cluster of the wide town (every other bridge, 60 km from the rest; 8.4 million yen a year) alone is
    below the minimum of 10 million that the west (13.3 million) meets: the reason is the lot size, it names the
    town and exactly the far facilities, and the lift it suggests works."""
    g = wide_member()
    s = LotSettings(min_lot_yen=1e7, max_lot_yen=3e8, max_radius_km=20, time_limit_s=5, seed=1)
    d = design_lots(g, EDITION, params=PARAMS, settings=s)
    assert d.best is None and d.status == "INFEASIBLE"
    (r,) = d.infeasible_reasons
    assert (r.constraint, r.members, r.setting) == ("min_lot_yen", ("合成広域町",), "min_lot_yen")
    assert set(r.facilities) == {f"t-{j}" for j in range(1, 60, 2)}
    assert "庁舎から遠い施設" in r.message_ja and "現地拠点のロット" in r.message_ja
    assert d.as_json()["infeasible_reasons"][0]["facilities"] == list(r.facilities)
    lifted = design_lots(g, EDITION, params=PARAMS, settings=LotSettings(min_lot_yen=r.suggested, max_lot_yen=3e8,
                                                                       max_radius_km=20, time_limit_s=5, seed=1))
    assert lifted.best is not None and lifted.best.feasible


def test_a_member_wider_than_the_diameter_gets_a_second_base() -> None:
    """One town alone, its two clusters 60 km apart: with a 20 km diameter limit its single office lot cannot hold
    both (the old design found no partition); the split start puts the east cluster at a field base."""
    g = wide_member()
    town = GroupInput(g.members[:1], tuple(f for f in g.facilities if f.lg_code == "990010"), 2026, 5)
    d = design_lots(town, EDITION, params=PARAMS, settings=LotSettings(min_lot_yen=1e6, max_lot_yen=3e8,
                                                                      max_radius_km=100, max_diameter_km=20,
                                                                      time_limit_s=5, seed=1))
    assert d.best is not None and d.best.feasible and len(d.best.lots) == 2
    assert sorted(lot.base_office for lot in d.best.lots) == [False, True]
    assert d.bound_yen is not None and d.bound_yen <= d.best.cost_yen + 1
