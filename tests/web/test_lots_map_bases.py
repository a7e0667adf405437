"""The lot map draws a field base where the lot design put it (a member wider than the reach is split and its
far part served from a base among those facilities), not at the member's office."""

from __future__ import annotations

from types import SimpleNamespace

from gunmane.engine.lots import LotSettings, design_lots
from gunmane.io.reports import lots_geo
from gunmane.web.groups.views_effects import _lot_map
from tests.engine.test_lots_bound import EDITION, PARAMS, wide_member


def test_field_base_is_drawn_at_its_own_position() -> None:
    g = wide_member()
    town = type(g)(g.members[:1], tuple(f for f in g.facilities if f.lg_code == "990010"), 2026, 5)
    dsg = design_lots(town, EDITION, params=PARAMS, settings=LotSettings(
        min_lot_yen=1e6, max_lot_yen=3e8, max_radius_km=100, max_diameter_km=20, time_limit_s=5, seed=1))
    assert dsg.best is not None
    (field,) = [lot for lot in dsg.best.lots if not lot.base_office]
    names = lots_geo.LotMapNames(members={"990010": "合成広域町"})
    drawn = _lot_map(dsg, SimpleNamespace(group_input=town), names)
    (base,) = drawn["bases"]
    assert base["name"] == f"ロット{field.id}の現地拠点（合成広域町）"
    (office,) = drawn["offices"]
    # the east cluster (lon 136.65) is right of the office (lon 136.0) on the map: the base is drawn there
    assert base["xy"][0] > office["xy"][0] + 100
    assert field.base_lon is not None and abs(field.base_lon - 136.65) < 0.1
