"""LCC and plans on every sector's own scale (#16 §3): each sector checked against a hand computation for one
facility, and a plan of several sectors under one budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import expm

from gunmane.engine.deterioration import MarkovHazardModel, StateSpace
from gunmane.engine.lcc import life_cycle_cost, strategies_for
from gunmane.engine.planning import PlanGroup, mixed_plan
from gunmane.io.shipped.lcc import LccDefaults, load_lcc_parameters
from gunmane.io.values.scales import scale_for_facility_type


@pytest.fixture(scope="module")
def defaults() -> LccDefaults:
    return load_lcc_parameters()


def _model(d: LccDefaults, code: str) -> tuple[MarkovHazardModel, int]:
    sc = scale_for_facility_type(code)
    states = StateSpace.from_scale(sc)
    if sc.id == "I-IV":
        theta = (d.hazards.theta_i.value, d.hazards.theta_ii.value, d.hazards.theta_iii.value)
    else:
        theta = tuple(p.value for p in d.sectors.hazards_of(sc.id))
    assert sc.trigger is not None
    return MarkovHazardModel(states, theta, source="test"), sc.trigger


def _frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["facility", "lg_code", "facility_type", "area_m2", "grade",
                                       "years_since_inspection", "age", "name", "municipality", "route_importance",
                                       "detour_km"])


def test_the_sector_tables_name_a_source_for_every_cost(defaults: LccDefaults) -> None:
    assert set(defaults.sector_types) >= {"pavement", "sewer_pipe", "play_equipment"}
    by = {(a.facility_type, a.grade): a for a in defaults.sectors.actions}
    # the published unit costs (総務省 公共施設等更新費用試算ソフト) are not marked as assumptions
    assert by[("pavement", 3)].per_m2_yen == 4700 and not by[("pavement", 3)].assumption
    assert by[("sewer_pipe", 4)].per_m2_yen == 124000 and by[("sewer_pipe", 4)].unit == "m"
    assert by[("play_equipment", 4)].unit == "基" and by[("play_equipment", 4)].assumption
    for a in defaults.sectors.actions:
        assert a.source and ("仮定値" in a.source) == a.assumption
    # the pavement default hazards come from the published MCI 5-state rates (1/θ added over the merged states)
    pave = defaults.sectors.hazards_of("pave-3")
    assert pave[0].value == pytest.approx(1 / (1 / 0.0944 + 1 / 0.1379), rel=1e-3) and pave[0].status == "derived"
    assert [p.value for p in defaults.sectors.hazards_of("mci-5")] == [0.0944, 0.1379, 0.1437, 0.0872]


@pytest.mark.parametrize(("code", "quantity"), [("bridge", 120.0), ("pavement", 3000.0), ("sewer_pipe", 250.0),
                                                 ("play_equipment", 1.0)])
def test_lcc_of_one_facility_equals_the_hand_computation(defaults: LccDefaults, code: str, quantity: float) -> None:
    """A facility just inspected at the best grade: nothing happens until its next inspection, which costs the
    inspection plus the expected action over the grades at or beyond the trigger, discounted — by hand with
    expm of the generator."""
    model, trigger = _model(defaults, code)
    params = defaults.for_type(code)
    interval = int(params.inspection_interval_years.value)
    params = params.with_overrides(horizon_years=interval + 1)
    facility = _frame([(1, "292125", code, quantity, 1, 0.0, 10.0, "x", "宇陀市", 1.0, 0.0)])
    early = next(s for s in strategies_for(model.states.labels, trigger) if s.key == "early_corrective")
    result = life_cycle_cost(facility, model, params, start_year=2026, strategies=(early,), monte_carlo=False)
    n = model.states.n
    q = np.zeros((n, n))
    for i, th in enumerate(model.hazards):
        q[i, i], q[i, i + 1] = -th, th
    p = expm(q * interval)[0]
    table = params.action_table(code)
    action = sum(p[s - 1] * (table[s].fixed_yen + table[s].per_m2_yen * quantity)
                 for s in range(trigger, n + 1) if s in table)
    rate = params.discount_rate.value
    hand = (params.inspection_cost_yen.value + action) / (1 + rate) ** interval
    assert result.strategies[0].npv_yen == pytest.approx(hand, rel=1e-9)
    assert result.strategies[0].strategy.trigger == trigger


def test_strategies_follow_the_scale_trigger() -> None:
    road = strategies_for(("I", "II", "III", "IV"), 3)
    assert [s.trigger for s in road] == [2, 3, 4]
    park = strategies_for(("A", "B", "C", "D"), 3)
    assert [s.trigger for s in park] == [2, 3, 4] and "C" in park[1].description_ja
    pave = strategies_for(("Ⅰ", "Ⅱ", "Ⅲ"), 3)       # the trigger is the worst grade: reactive = early corrective
    assert [s.key for s in pave] == ["preventive", "early_corrective"]


def test_a_plan_of_several_sectors_keeps_one_budget(defaults: LccDefaults) -> None:
    groups = []
    rows = {"bridge": [(f"b{i}", "292125", "bridge", 150.0 + i, 3, 1.0, 40.0, f"橋{i}", "宇陀市", 1.0, 0.0)
                       for i in range(6)],
            "pavement": [(f"p{i}", "292125", "pavement", 2000.0, 3, 1.0, 20.0, f"舗装{i}", "宇陀市", 1.0, 0.0)
                         for i in range(5)],
            "play_equipment": [(f"y{i}", "292125", "play_equipment", 1.0, 3, 0.0, 15.0, f"遊具{i}", "宇陀市", 1.0, 0.0)
                               for i in range(8)]}
    for code, fac in rows.items():
        model, trigger = _model(defaults, code)
        sc = scale_for_facility_type(code)
        params = defaults.params if code == "bridge" else defaults.for_type(code)
        groups.append(PlanGroup(_frame(fac), model, params, trigger=trigger,
                                bands=tuple(g.band for g in sc.grades), scale_id=sc.id, scale_name=sc.name))
    budget = 20_000_000.0
    plan = mixed_plan(groups, defaults.plan, start_year=2026, years=10, budget_yen=budget)
    spent = plan.budget["plan"].to_numpy()
    assert (spent <= budget * (1 + 1e-9)).all()
    table = plan.table
    assert set(table["facility_type"]) == {"bridge", "pavement", "play_equipment"}
    assert table["fiscal_year"].notna().sum() > 0
    # a play equipment judged C just now costs its C action now: 300,000 yen per 基 (hand)
    yugu = table[table["facility_type"] == "play_equipment"].iloc[0]
    assert yugu["cost_now_yen"] == pytest.approx(300_000.0) and yugu["grade"] == "C"
    # each grade label is the sector's own (not Ⅰ–Ⅳ for pavement and park)
    assert set(table.loc[table["facility_type"] == "pavement", "grade"]) == {"Ⅲ"}
    assert {g["scale"] for g in plan.as_json()["groups"]} == {"I-IV", "pave-3", "park-AD"}
    # the worst-first comparison under the same budget does not beat the optimisation
    totals = plan.totals
    assert totals.loc["plan", "objective_yen"] <= totals.loc["worst_first", "objective_yen"] * (1 + 0.011)


def test_water_mains_renewal_line_equals_the_hand_computation(defaults: LccDefaults) -> None:
    """Expected metres renewed in the first year = Σ length × P(renewed within a year | in service at its age)."""
    from gunmane.engine.planning import renewal_line
    from gunmane.engine.survival import WeibullModel

    r = defaults.sectors.renewal("water_pipe")
    assert r is not None and r.unit_cost.value == 97000 and r.unit_cost.status == "published"
    model = WeibullModel(float(r.shape.value), float(r.scale_years.value))
    pipes = pd.DataFrame({"age": [30.0, 55.0, np.nan], "length_m": [400.0, 250.0, 100.0]})
    line = renewal_line(pipes, model, r.unit_cost, start_year=2026, years=5, facility_type="water_pipe",
                        model_source="test")
    ages = np.array([30.0, 55.0, 42.5])                     # the unknown age takes the median of the known ones
    s = lambda t: np.exp(-(t / model.scale) ** model.shape)  # noqa: E731
    hand = float(np.sum(np.array([400.0, 250.0, 100.0]) * (1 - s(ages + 1) / s(ages))))
    assert line.table["metres"].iloc[0] == pytest.approx(hand, rel=1e-9)
    assert line.table["cost_yen"].iloc[0] == pytest.approx(hand * 97000, rel=1e-9)
    assert line.ages_unknown == 1 and line.as_json()["per_year"][0]["fiscal_year"] == 2026
