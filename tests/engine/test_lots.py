"""ロット設計（lots）: CP-SAT partition with bounds, gap and comparisons; every lot within its limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gunmane.engine.effects import Facility, GroupInput, InvalidInput, Member
from gunmane.engine.lots import LotSettings, design_lots
from gunmane.io.shipped.costing import load_costing_edition
from gunmane.io.shipped.parameters import effects_parameters

EDITION = load_costing_edition("FY2022")
PARAMS = effects_parameters()


def group(spread_deg: float = 0.02, n_per_member: int = 40, offsets: tuple[tuple[float, float], ...] = ((0.0, 0.0),
          (0.0, 0.1), (0.1, 0.0), (0.35, 0.35))) -> GroupInput:
    rng = np.random.default_rng(11)
    members = tuple(Member(f"99{i:03d}0", f"合成{i}", office_lat=34.5 + a, office_lon=136.0 + b)
                    for i, (a, b) in enumerate(offsets))
    facs = []
    for i, m in enumerate(members):
        for j in range(n_per_member):
            facs.append(Facility(f"{i}-{j}", m.lg_code, "road", "bridge", float(rng.uniform(5, 40)),
                                 lat=float(m.office_lat + rng.normal(0, spread_deg)),  # type: ignore[operator]
                                 lon=float(m.office_lon + rng.normal(0, spread_deg)),  # type: ignore[operator]
                                 latest_inspection_fy=int(rng.integers(2019, 2025)),
                                 latest_grade=int(rng.choice([1, 2, 3], p=[0.5, 0.4, 0.1]))))
    return GroupInput(members, tuple(facs), 2026, 5)


@pytest.fixture(scope="module")
def design():  # type: ignore[no-untyped-def]
    return design_lots(group(), EDITION, params=PARAMS, settings=LotSettings(min_lot_yen=5e6, max_lot_yen=2e8, max_radius_km=20,
                                                            time_limit_s=10, seed=1))


def test_lots_respect_limits_and_report_bound_and_gap(design) -> None:  # type: ignore[no-untyped-def]
    assert design.best is not None and design.best.feasible
    s = design.settings
    for lot in design.best.lots:
        assert s.min_lot_yen <= lot.direct_yen <= s.max_lot_yen
        assert lot.max_distance_km <= s.max_radius_km + 1e-6
    assert design.bound_yen is not None and design.bound_yen <= design.best.cost_yen + 1
    assert design.gap == pytest.approx((design.best.cost_yen - design.bound_yen) / design.best.cost_yen, abs=1e-6)
    assert 0 <= design.gap <= 0.05
    assert sum(lot.facilities for lot in design.best.lots) == design.facilities == len(design.assignment)


def test_lots_beat_one_lot_per_municipality_and_merge_the_close_ones(design) -> None:  # type: ignore[no-untyped-def]
    per = design.per_municipality
    assert per.feasible and len(per.lots) == 4
    assert design.best.cost_yen <= per.cost_yen
    assert len(design.best.lots) < 4
    # the three municipalities ~10 km apart share a lot; the far one (≈ 50 km away) cannot join them
    far = "990030"
    lot_of_far = [lot for lot in design.best.lots if far in lot.members]
    assert len(lot_of_far) == 1 and lot_of_far[0].members == (far,)
    # one lot for the whole group breaks the radius limit and says so in Japanese
    assert not design.one_lot.feasible and any("km" in v and "上限" in v for v in design.one_lot.violations)


def test_lot_cost_is_the_exact_price_chain(design) -> None:  # type: ignore[no-untyped-def]
    from gunmane.engine.costing import works_price

    lot = design.best.lots[0]
    assert lot.price_yen == pytest.approx(works_price(EDITION, "橋梁保全工事", lot.direct_yen).price_yen)
    assert lot.overhead_yen == pytest.approx(lot.price_yen - lot.direct_yen)


def test_infeasible_bounds_are_reported() -> None:
    """Facilities beyond 1 km of every office no longer end the design (#14): the members are split at field bases,
    and what is left is the lot size — each reason names the constraint, the members and the facilities."""
    d = design_lots(group(), EDITION, params=PARAMS, settings=LotSettings(min_lot_yen=5e6, max_lot_yen=6e6, max_radius_km=1.0,
                                                           time_limit_s=3))
    assert d.best is None and d.status == "INFEASIBLE"
    assert {r.constraint for r in d.infeasible_reasons} <= {"min_lot_yen", "max_lot_yen", "lots_per_base"}
    assert d.infeasible_reasons and all(r.facilities and r.members for r in d.infeasible_reasons)
    ids = {f.id for f in group().facilities}
    for r in d.infeasible_reasons:
        assert set(r.facilities) <= ids and r.setting == r.constraint or r.setting in ("lots_per_base", "max_lot_yen")
        assert ("下限" in r.message_ja) or ("上限" in r.message_ja)
    doc = d.as_json()["infeasible_reasons"][0]
    assert doc["facilities"] and doc["constraint"] in ("min_lot_yen", "max_lot_yen", "lots_per_base")
    with pytest.raises(InvalidInput):
        LotSettings(min_lot_yen=2e8, max_lot_yen=1e8)


def isolated_village() -> GroupInput:
    """Two towns 11 km apart with 40 bridges each, and a village about 50 km away with two bridges."""
    big = group(offsets=((0.0, 0.0), (0.1, 0.0)))
    rng = np.random.default_rng(3)
    village = Member("990200", "合成山村", office_lat=34.85, office_lon=136.35)
    facs = [Facility(f"v-{j}", village.lg_code, "road", "bridge", 12.0, lat=34.85 + float(rng.normal(0, 0.01)),
                     lon=136.35 + float(rng.normal(0, 0.01)), latest_inspection_fy=2021, latest_grade=2)
            for j in range(2)]
    return GroupInput((*big.members, village), (*big.facilities, *facs), 2026, 5)


def test_a_small_member_far_from_the_others_is_named_with_its_numbers() -> None:
    """Issue #12: the default minimum lot on a small region answered INFEASIBLE with no reason. The reason names
    the member whose whole work is below the minimum and too far from everyone to share a lot, and the settings."""
    g = isolated_village()
    d = design_lots(g, EDITION, params=PARAMS, settings=LotSettings(time_limit_s=5))
    assert d.best is None and d.status == "INFEASIBLE"
    (r,) = d.infeasible_reasons
    assert (r.constraint, r.members, r.setting) == ("min_lot_yen", ("合成山村",), "min_lot_yen")
    assert "合成山村の年間の直接費は" in r.message_ja and "ロットの下限 10,000,000 円に届きません" in r.message_ja
    assert "拠点から 25 km 以内という条件では同じロットに入れられません" in r.message_ja
    assert r.suggested is not None and 0 < r.suggested < 10_000_000
    assert f"min_lot_yen を {r.suggested:,.0f} 以下" in r.suggestion_ja and "max_radius_km を" in r.suggestion_ja
    # the suggestions lift it: the suggested minimum gives a design, so does the suggested radius
    lower = design_lots(g, EDITION, params=PARAMS, settings=LotSettings(min_lot_yen=r.suggested, time_limit_s=5))
    assert lower.best is not None and lower.best.feasible and not lower.infeasible_reasons
    radius = float(r.suggestion_ja.split("max_radius_km を ")[1].split(" ")[0])
    wider = design_lots(g, EDITION, params=PARAMS, settings=LotSettings(max_radius_km=radius, time_limit_s=5))
    assert wider.best is not None and wider.best.feasible


def test_whole_group_below_the_minimum() -> None:
    small = group(n_per_member=2, offsets=((0.0, 0.0), (0.05, 0.0)))
    d = design_lots(small, EDITION, params=PARAMS, settings=LotSettings(min_lot_yen=2e8, max_lot_yen=3e8, time_limit_s=3))
    (r,) = d.infeasible_reasons
    assert r.members == ("合成0", "合成1") and r.message_ja.startswith("群全体の年間の直接費 ")
    assert r.suggested is not None and r.suggested < 2e8


def test_more_work_than_the_bases_can_take() -> None:
    d = design_lots(group(), EDITION, params=PARAMS, settings=LotSettings(min_lot_yen=1e5, max_lot_yen=2e6,
                                                                          max_radius_km=20, time_limit_s=3))
    assert d.best is None
    constraints = {r.constraint for r in d.infeasible_reasons}
    assert constraints <= {"lots_per_base", "max_lot_yen"} and constraints
    for r in d.infeasible_reasons:
        assert r.suggested is not None and r.setting in ("lots_per_base", "max_lot_yen")


def test_as_json_is_complete(design) -> None:  # type: ignore[no-untyped-def]
    doc = design.as_json()
    assert doc["status"] in ("OPTIMAL", "WITHIN_TARGET_GAP", "FEASIBLE")
    assert set(doc["comparison"]) == {"per_municipality", "one_lot"}
    assert doc["best"]["contracts"] == len(design.best.lots) and doc["assumptions"]
    assert math.isfinite(doc["bound_yen"])


def test_max_diameter_keeps_far_cells_apart() -> None:
    g = group(offsets=((0.0, 0.0), (0.0, 0.12), (0.0, 0.24)))  # three towns in a row, about 11 km apart
    free = design_lots(g, EDITION, params=PARAMS, settings=LotSettings(min_lot_yen=5e6, max_lot_yen=5e8, max_radius_km=40,
                                                        time_limit_s=5, seed=1))
    tight = design_lots(g, EDITION, params=PARAMS, settings=LotSettings(min_lot_yen=5e6, max_lot_yen=5e8, max_radius_km=40,
                                                         max_diameter_km=15, time_limit_s=5, seed=1))
    assert free.best is not None and tight.best is not None and tight.best.feasible
    assert len(free.best.lots) == 1  # no distance limit that binds: one lot is cheapest
    assert len(tight.best.lots) >= 2  # the two end towns (≈ 22 km apart) cannot share a lot
    for lot in tight.best.lots:
        assert not {"990000", "990020"} <= set(lot.members)


def test_routes_for_the_map_visit_every_located_facility_once(design) -> None:  # type: ignore[no-untyped-def]
    assert design.routes
    for lot in design.best.lots:
        days = [r for r in design.routes if r["lot"] == lot.id]
        assert sum(r["sites"] for r in days) == lot.facilities
        for r in days:
            assert r["coordinates"][0] == r["coordinates"][-1]  # leaves from and returns to the base
            assert len(r["coordinates"]) == r["sites"] + 2 and r["km"] > 0
