"""効果試算（effects）: the expected-contracts formula, work from a ledger, levers, effects per member, published cases."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from gunmane.engine.effects import InvalidInput, expected_contracts


# -- expected contracts (binomial formula) --------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 12, 50, 322, 1000, 2000])
@pytest.mark.parametrize("q", [0.0123, 0.08])
@pytest.mark.parametrize("cap", [1, 3, 5, 20])
def test_expected_contracts_matches_monte_carlo(n: int, q: float, cap: int) -> None:
    rng = np.random.default_rng(20260401 + n * 31 + cap)
    draws = rng.binomial(n, q, size=400_000)
    simulated = np.ceil(draws / cap).mean()
    formula = expected_contracts(n, q, cap)
    # within 1 %, and well inside the Monte Carlo error for the smallest pools
    se = np.ceil(draws / cap).std() / np.sqrt(draws.size)
    assert abs(formula - simulated) <= max(0.01 * simulated, 4 * se)
    assert abs(formula - simulated) / simulated < 0.01 or n * q < 1


def test_expected_contracts_reproduces_miyagi_one_area() -> None:
    # 322 RC bridges as one area, q ≈ 1/81.1, at most 5 per contract → 1.193 contracts a year (§B5)
    assert expected_contracts(322, 1 / 81.1, 5) == pytest.approx(1.193, rel=0.005)


def test_expected_contracts_limits_and_pooling() -> None:
    assert expected_contracts(0, 0.5, 3) == 0.0
    assert expected_contracts(10, 0.0, 3) == 0.0
    assert expected_contracts(10, 1.0, 3) == 4.0  # ⌈10/3⌉
    assert expected_contracts(500, 0.02, 1) == pytest.approx(500 * 0.02)  # cap 1: one contract per repair
    # pooling never needs more contracts than ordering in parts (⌈a/L⌉ + ⌈b/L⌉ ≥ ⌈(a+b)/L⌉)
    parts = sum(expected_contracts(n, 0.0123, 5) for n in (40, 60, 80, 142))
    assert expected_contracts(322, 0.0123, 5) < parts


@pytest.mark.parametrize("q", [np.float32(0.1), np.float64(0.1), np.float16(0.1), Fraction(1, 10), Decimal("0.1"),
                               np.array(0.1)[()]])
def test_expected_contracts_accepts_any_real_probability(q: object) -> None:
    """Issue #12: a q read from a DataFrame (numpy.float32) was refused as out of range. Any real number in
    [0, 1] is a probability; the result is the float one's up to the precision of the type."""
    got = expected_contracts(10, q, 5)  # type: ignore[arg-type]
    assert got == pytest.approx(expected_contracts(10, float(q), 5), rel=1e-12)  # type: ignore[arg-type]
    assert got == pytest.approx(expected_contracts(10, 0.1, 5), rel=1e-3)
    assert expected_contracts(np.int64(10), np.float32(0.0), np.int32(5)) == 0.0  # type: ignore[arg-type]
    assert expected_contracts(10, Fraction(1), 3) == 4.0 and expected_contracts(10, np.int8(1), 3) == 4.0  # type: ignore[arg-type]


@pytest.mark.parametrize("q", [True, "0.1", 0.1 + 0j, np.float32(1.5), Decimal("NaN"), Fraction(11, 10), None, -0.0001])
def test_expected_contracts_refuses_what_is_not_a_probability(q: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        expected_contracts(10, q, 5)  # type: ignore[arg-type]
    assert exc.value.code == "invalid_probability" and "0〜1 の実数" in exc.value.message_ja
    assert "np." not in exc.value.message_ja  # the value as a person writes it, not numpy's repr


@pytest.mark.parametrize(("n", "q", "cap"), [(-1, 0.1, 2), (10, 1.2, 2), (10, float("nan"), 2), (10, 0.1, 0)])
def test_expected_contracts_rejects_bad_input_in_japanese(n: int, q: float, cap: int) -> None:
    with pytest.raises(InvalidInput) as exc:
        expected_contracts(n, q, cap)
    assert exc.value.message_ja.endswith("。")


# -- the effects engine -----------------------------------------------------------------------------------------
from pathlib import Path  # noqa: E402

from gunmane.engine.costing import works_price  # noqa: E402
from gunmane.engine.deterioration import MarkovHazardModel, StateSpace  # noqa: E402
from gunmane.engine.effects import (  # noqa: E402
    Facility,
    GroupInput,
    Lever,
    LeverKind,
    Member,
    ParameterSet,
    Scenario,
    TourSolver,
    UnknownParameter,
    derive_work,
    evaluate,
)
from gunmane.io.scenario import build_group, engine_scenarios, read_scenario  # noqa: E402
from gunmane.io.shipped.costing import load_costing_edition  # noqa: E402
from gunmane.io.shipped.parameters import effects_defaults, effects_parameters  # noqa: E402

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
EDITION = load_costing_edition("FY2022")
PARAMS = effects_parameters()
# four villages around 宇陀市 (office coordinates of the demo region)
OFFICES = {"292125": (34.5278, 135.9525), "293857": (34.5106, 136.1247), "293865": (34.4881, 136.1661),
           "294535": (34.4036, 135.9683)}


def members(**kw: object) -> tuple[Member, ...]:
    return tuple(Member(c, f"団体{c}", office_lat=la, office_lon=lo, **kw) for c, (la, lo) in OFFICES.items())  # type: ignore[arg-type]


def backlog_group(per_member: int = 2, horizon: int = 1) -> GroupInput:
    """Each member: ``per_member`` 15 m bridges judged Ⅲ in FY2024, next inspection FY2029 (outside the horizon)."""
    facs = []
    for c, (la, lo) in OFFICES.items():
        for j in range(per_member):
            facs.append(Facility(f"{c}-{j}", c, "road", "bridge", length_m=15.0, lat=la + 0.01 * (j + 1), lon=lo,
                                 latest_inspection_fy=2024, latest_grade=3))
    return GroupInput(members(), tuple(facs), start_fiscal_year=2026, horizon_years=horizon, lead="292125")


def run(group: GroupInput, *levers: Lever, params: ParameterSet | None = None):  # type: ignore[no-untyped-def]
    r = evaluate(group, [Scenario("s", tuple(levers))], EDITION, params=params or PARAMS)
    return r.baseline, r.scenarios[0], r


def test_backlog_bundled_into_one_contract_is_priced_by_the_rules() -> None:
    base, one, _ = run(backlog_group(), Lever(LeverKind.HORIZONTAL))
    # baseline: each member orders 1 design (2 bridges) and 1 works contract (2 × ¥12.5M direct) → 8 contracts
    assert base.totals.contracts == 8 and base.contracts_by_kind == {"design": 4, "works": 4}
    # one contract for the group, at most 5 bridges each (L = 5): 8 bridges → 2 design + 2 works contracts
    assert one.totals.contracts == 4 and one.contracts_by_kind == {"design": 2, "works": 2}
    repair = 5_000_000 + 500_000 * 15  # unit.repair.bridge: base + per metre × 15 m
    design = 1_500_000 * 2 / 0.65 / 0.65  # 設計業務 α = β = 35 % on ¥1.5M labour per bridge
    assert base.totals.price_yen == pytest.approx(4 * (design + works_price(EDITION, "橋梁保全工事", 2 * repair).price_yen))
    assert one.totals.price_yen == pytest.approx(4 * design + 2 * works_price(EDITION, "橋梁保全工事", 4 * repair).price_yen)
    assert one.totals.overhead_yen < base.totals.overhead_yen
    # the lead orders; every member keeps its share of the price (by direct cost: equal here)
    assert one.members["292125"].contracts == 4 and one.members["293857"].contracts == 0
    shares = [m.price_yen for m in one.members.values()]
    assert shares == pytest.approx([one.totals.price_yen / 4] * 4)


def test_staff_hours_by_stage_and_coordination() -> None:
    base, one, _ = run(backlog_group(), Lever(LeverKind.HORIZONTAL))
    # per member: design 16+4+8+24+6 h + 2 sites × 2 h; works 24+4+8+40+8 h + 2 × 2 h
    assert base.totals.staff_hours == pytest.approx(4 * ((58 + 4) + (84 + 4)))
    assert base.totals.staff_hours_by_stage["coordination"] == 0
    # group contracts: the lead prepares and supervises 2 + 2 contracts; each member accepts its part of each
    # contract; council (36 h/yr) and agreement (80 h) per member, 120 h/yr for the lead
    lead = (16 + 4 + 8 + 24) * 2 + 8 * 2 + (24 + 4 + 8 + 40) * 2 + 8 * 2
    acceptance = 4 * (6 * 2 + 8 * 2)
    coordination = 4 * (36 + 80) + 120
    assert one.totals.staff_hours_by_stage["coordination"] == pytest.approx(coordination)
    assert one.totals.staff_hours == pytest.approx(lead + acceptance + coordination)
    assert one.totals.fte == pytest.approx(one.totals.staff_hours / 1860)
    # joint ordering with separate contracts: the same 8 contracts, preparation shared by the lead
    _, joint, _ = run(backlog_group(), Lever(LeverKind.HORIZONTAL, mode="separate_contracts"))
    assert joint.totals.contracts == 8
    prep = joint.totals.staff_hours_by_stage
    assert prep["estimate"] == pytest.approx(1.25 * (16 + 24))  # one estimate per joint order × 1.25
    assert joint.members["293857"].staff_hours_by_stage["estimate"] == 0


def test_repair_delay_and_deterioration_cost() -> None:
    base, proc, _ = run(backlog_group(), Lever(LeverKind.PROCESS))
    assert base.totals.days_to_repair == 730 and proc.totals.days_to_repair == 240
    # 8 bridges in Ⅲ: P(Ⅲ→Ⅳ within the delay) × (1.5 − 1) × ¥12.5M
    expected = 8 * (1 - np.exp(-0.05 * 730 / 365)) * 0.5 * 12_500_000
    assert base.totals.deterioration_cost_yen == pytest.approx(expected)
    assert proc.totals.deterioration_cost_yen == pytest.approx(8 * (1 - np.exp(-0.05 * 240 / 365)) * 0.5 * 12_500_000)
    assert proc.totals.net_effect_yen > 0


def test_failed_tenders_follow_the_documented_curve() -> None:
    base, one, _ = run(backlog_group(), Lever(LeverKind.HORIZONTAL))
    curve = dict(PARAMS)["tender.failure_curve"]
    xs, ys = np.log10([a for a, _ in curve]), [b for _, b in curve]
    per_member = np.interp(np.log10(3_000_000), xs, ys) + np.interp(np.log10(25_000_000), xs, ys)
    assert base.totals.expected_failed_tenders == pytest.approx(4 * per_member)
    assert one.totals.expected_failed_tenders < base.totals.expected_failed_tenders


@pytest.mark.parametrize(("lever", "why"), [
    (Lever(LeverKind.MULTI_SECTOR), "分野が1つ"),
    (Lever(LeverKind.VERTICAL), "都道府県"),
    (Lever(LeverKind.PERFORMANCE_SPEC), "日常維持"),
    (Lever(LeverKind.YEARS, years=3), "2年度以上"),
])
def test_a_lever_that_cannot_apply_says_so(lever: Lever, why: str) -> None:
    base, s, _ = run(backlog_group(), lever)
    (outcome,) = s.levers
    assert not outcome.applied and "適用できません" in outcome.message_ja and why in outcome.message_ja
    assert s.totals.contracts == base.totals.contracts and s.totals.price_yen == pytest.approx(base.totals.price_yen)


def test_horizontal_needs_two_municipalities() -> None:
    g = GroupInput(members()[:1], (), 2026, 5)
    _, s, _ = run(g, Lever(LeverKind.HORIZONTAL))
    assert not s.levers[0].applied and "2団体以上" in s.levers[0].message_ja


def test_work_derivation_from_the_ledger() -> None:
    m = members(road_length_km=100.0, park_area_m2=10_000.0)
    facs = (
        Facility("a", "292125", "road", "bridge", 10.0, latest_inspection_fy=2022, latest_grade=2),  # due FY2027
        Facility("b", "292125", "road", "bridge", 10.0, latest_inspection_fy=2015, latest_grade=1),  # overdue → FY2026
        Facility("c", "293857", "road", "tunnel", 200.0),  # never inspected → FY2026
        Facility("d", "293857", "road", "bridge", 30.0, latest_inspection_fy=2023, latest_grade=4),  # backlog
    )
    g = GroupInput(m, facs, 2026, 5)
    w = derive_work(g, PARAMS).rows
    insp = w[w["kind"] == "inspection"].set_index("fidx")["year"].to_dict()
    assert insp == {0: 2027, 1: 2026, 2: 2026, 3: 2028}
    back = w[w["origin"] == "backlog"]
    assert sorted(back["kind"]) == ["design", "works"] and set(back["fidx"]) == {3}
    # new Ⅲ at a's FY2027 inspection: P(Ⅱ → Ⅲ within 5 years) = 1 − exp(−θ_II·5)
    new_a = w[(w["origin"] == "new") & (w["fidx"] == 0) & (w["kind"] == "works")]
    assert new_a["p"].iloc[0] == pytest.approx(1 - np.exp(-0.01437 * 5))
    routine = w[w["kind"] == "routine"]
    assert len(routine) == 4 * 2 * 5  # 4 members × (road, park) × 5 years
    road = routine[(routine["member"] == "292125") & (routine["sector"] == "road")]
    assert road["cost"].iloc[0] == 100 * 250_000 and road["n_sites"].iloc[0] == np.ceil(25_000_000 / 1_500_000)


def test_expected_contracts_of_random_demand_in_the_engine() -> None:
    # 200 bridges in Ⅱ per member, inspected in FY2026: new Ⅲ are random; design contracts = f(N, q̄, 5)
    facs = tuple(Facility(f"{c}-{j}", c, "road", "bridge", 15.0, lat=la, lon=lo, latest_inspection_fy=2021, latest_grade=2)
                 for c, (la, lo) in OFFICES.items() for j in range(200))
    g = GroupInput(members(), facs, 2026, 1)
    base, one, r = run(g, Lever(LeverKind.HORIZONTAL))
    q = 1 - np.exp(-0.01437 * 5)
    assert r.work_summary["expected_new_repairs"] == pytest.approx(800 * q)
    assert base.contracts_by_kind["works"] == pytest.approx(4 * expected_contracts(200, q, 5))
    assert one.contracts_by_kind["works"] == pytest.approx(expected_contracts(800, q, 5))
    # inspections: 200 per member (cap 150 → 2 contracts each) → 800 in one contract set (cap 150 → 6)
    assert base.contracts_by_kind["inspection"] == 8 and one.contracts_by_kind["inspection"] == 6


def test_a_fitted_hazard_model_replaces_the_default_hazards() -> None:
    facs = tuple(Facility(f"x{j}", "292125", "road", "bridge", 15.0, latest_inspection_fy=2021, latest_grade=2)
                 for j in range(100))
    g = GroupInput(members(), facs, 2026, 1)
    model = MarkovHazardModel(StateSpace.grades(), (0.1, 0.05, 0.2), source="テスト用の推定値")
    r = evaluate(g, [], EDITION, params=PARAMS, hazard_model=model)
    assert r.work_summary["expected_new_repairs"] == pytest.approx(100 * (1 - np.exp(-0.05 * 5)))
    assert any("テスト用の推定値" in a for a in r.assumptions)


def test_cost_share_rules() -> None:
    facs = list(backlog_group().facilities) + [Facility("extra", "292125", "road", "bridge", 15.0, latest_inspection_fy=2024,
                                                        latest_grade=3)]
    g = GroupInput(members(), tuple(facs), 2026, 1, lead="292125")
    for rule in ("direct_cost", "facility_count", "equal_usage"):
        _, s, _ = run(g, Lever(LeverKind.HORIZONTAL), params=PARAMS.with_overrides({"share.rule": rule}))
        prices = {c: m.price_yen for c, m in s.members.items()}
        assert sum(prices.values()) == pytest.approx(s.totals.price_yen)
        assert prices["292125"] > prices["293857"] == pytest.approx(prices["294535"])
        if rule == "direct_cost":
            assert prices["292125"] / prices["293857"] == pytest.approx(3 / 2)


def test_performance_spec_and_years_on_routine_work() -> None:
    g = GroupInput(members(road_length_km=80.0), (), 2026, 5)
    base, perf, _ = run(g, Lever(LeverKind.HORIZONTAL), Lever(LeverKind.PERFORMANCE_SPEC))
    tasks = 4 * np.ceil(80 * 250_000 / 1_500_000) * 5
    assert base.totals.contracts == tasks
    # group routine: 4 × ¥20M a year → one ¥80M lot a year (≤ ¥100M) for 5 years
    assert perf.totals.contracts == 5
    _, multi, _ = run(g, Lever(LeverKind.HORIZONTAL), Lever(LeverKind.PERFORMANCE_SPEC), Lever(LeverKind.YEARS, years=5))
    assert multi.totals.contracts == 1  # ¥400M over 5 years ≤ ¥100M × 5: one 5-year lot
    # the multi-year lump sum is cheaper than yearly ones, which are cheaper than individual tasks
    assert multi.totals.price_yen < perf.totals.price_yen < base.totals.price_yen
    assert perf.totals.staff_hours < base.totals.staff_hours


def test_published_case_shizuoka_shimoda() -> None:
    sf = read_scenario(SCENARIOS / "shizuoka_shimoda.toml")
    r = evaluate(build_group(sf, {}), engine_scenarios(sf), EDITION, params=PARAMS.with_overrides(sf.parameters))
    # previously 4 prefectural + about 40 city contracts a year → one contract
    assert r.baseline.members["220001"].contracts == 4 and r.baseline.members["222194"].contracts == 40
    bundled = r.scenario("垂直連携・性能規定の包括契約")
    assert bundled.totals.contracts == 1 and all(x.applied for x in bundled.levers)
    assert r.scenario("垂直連携（同じ受注者・契約は団体ごと）").totals.contracts == 2
    assert bundled.totals.staff_hours < r.baseline.totals.staff_hours
    assert bundled.totals.price_yen < r.baseline.totals.price_yen


def test_published_case_regional_maintenance() -> None:
    sf = read_scenario(SCENARIOS / "regional_maintenance.toml")
    r = evaluate(build_group(sf, {}), engine_scenarios(sf), EDITION, params=PARAMS.with_overrides(sf.parameters))
    assert r.baseline.totals.contracts == 210  # 200+ individual contracts
    assert r.scenario("地域維持型契約（道路・河川を工区ごとに一体）").totals.contracts == 25
    assert r.scenario("道路・河川を別々に包括化").totals.contracts == 26
    assert r.scenario("多分野連携のみ（個別発注のまま）").totals.contracts == 210


def test_every_parameter_is_sourced_and_overrides_are_checked() -> None:
    for p in effects_defaults():
        assert p.source and p.status in ("official", "published", "derived", "assumption", "user"), p.id
        if p.status == "assumption":
            assert "仮定値" in p.source
    with pytest.raises(UnknownParameter) as exc:
        PARAMS.with_overrides({"hazard.V": 0.1})
    assert "hazard.I" in exc.value.message_ja
    with pytest.raises(InvalidInput):
        PARAMS.with_overrides({"hazard.I": -1})
    p = PARAMS.with_overrides({"hazard.I": 0.2})
    assert p.param("hazard.I").status == "user" and "0.0908" in p.param("hazard.I").source


def test_results_list_assumptions_and_parameters() -> None:
    _, _, r = run(backlog_group(), Lever(LeverKind.HORIZONTAL))
    doc = r.as_json()
    assert doc["costing_edition"]["id"] == "FY2022"
    assert any(a.startswith("積算基準：") and doc["costing_edition"]["label_ja"] in a for a in doc["assumptions"])
    keys = {"contracts", "price_yen", "overhead_yen", "staff_hours", "travel_km", "expected_failed_tenders",
            "days_to_repair", "deterioration_cost_yen"}
    assert keys <= set(doc["baseline"]["totals"]) and keys <= set(doc["scenarios"][0]["members"]["292125"])
    assert {p["id"] for p in doc["parameters"]} >= {"hazard.I", "cap.works_sites", "tender.failure_curve"}


def test_day_tours_sweep_by_hand_and_ortools_never_worse() -> None:
    s = TourSolver(detour=1.0, speed_kmh=40.0, day_hours=8.0)
    # two sites on a line, 1 h each: out 10 km, 10 km between, back 20 km, in one day
    t = s._sweep((0.0, 0.0), np.array([[10.0, 0.0], [20.0, 0.0]]), 1.0)
    assert (t.km, t.days) == (40.0, 1)
    # 8 h of work per site: one day each
    t = s._sweep((0.0, 0.0), np.array([[10.0, 0.0], [20.0, 0.0]]), 7.0)
    assert (t.km, t.days) == (60.0, 2)
    rng = np.random.default_rng(7)
    for n in (6, 15, 30):
        xy = rng.uniform(-15, 15, (n, 2))
        best = s.tours((0.0, 0.0), xy, 2.0)
        assert best.km <= s._sweep((0.0, 0.0), xy, 2.0).km + 1e-9
    assert s.calls["ortools"] == 3


def test_invalid_inputs_are_japanese_errors() -> None:
    with pytest.raises(InvalidInput) as exc:
        Facility("z", "292125", "road", "bridge", latest_grade=5)
    assert "健全性" in exc.value.message_ja
    with pytest.raises(InvalidInput) as exc:
        GroupInput(members(), (Facility("z", "999999", "road", "bridge"),), 2026)
    assert "構成団体でない" in exc.value.message_ja


def test_sensitivity_tornado_and_monte_carlo() -> None:
    from gunmane.engine.effects import sensitivity

    g = backlog_group(per_member=3)
    scenarios = [Scenario("プロセス", (Lever(LeverKind.PROCESS),)), Scenario("広域", (Lever(LeverKind.HORIZONTAL),))]
    res = sensitivity(g, scenarios, EDITION, params=PARAMS, parameters=("lead.days_baseline", "hazard.III", "coord.council_h_per_member_year"),
                      samples=8, seed=3)
    rows = {r.parameter: r for r in res.rows}
    # a longer baseline delay makes the process lever worth more; the council hours do not touch it
    assert rows["lead.days_baseline"].high["プロセス"] > res.base["プロセス"] > rows["lead.days_baseline"].low["プロセス"]
    assert rows["coord.council_h_per_member_year"].swing("プロセス") == pytest.approx(0, abs=1)
    # … but they change the value of horizontal collaboration (more meetings → smaller net effect)
    assert rows["coord.council_h_per_member_year"].high["広域"] < rows["coord.council_h_per_member_year"].low["広域"]
    assert res.tornado("プロセス")[0].parameter in ("lead.days_baseline", "hazard.III")
    mc = res.monte_carlo["プロセス"]
    assert mc["n"] == 8 and mc["p5"] <= mc["p50"] <= mc["p95"]
    assert res.as_json()["tornado"]["広域"][0]["parameter"] == "coord.council_h_per_member_year"


def test_engine_matches_a_naive_row_by_row_evaluation() -> None:
    """Contracts and prices of the baseline and six scenarios equal the plain-Python evaluation of the same model."""
    from benchmarks.effects import SCENARIOS as BENCH_SCENARIOS
    from benchmarks.effects import naive_rows, naive_scenario, synthetic_group

    g = synthetic_group(1500, n_members=5, seed=5)
    params = PARAMS.with_overrides({"travel.method": "sweep"})
    r = evaluate(g, BENCH_SCENARIOS, EDITION, params=params)
    rows = naive_rows(g, params)
    for sc, res in zip((Scenario("基準"), *BENCH_SCENARIOS), (r.baseline, *r.scenarios), strict=True):
        contracts, price = naive_scenario(rows, sc, EDITION, g.start_fiscal_year)
        assert res.totals.contracts == pytest.approx(contracts, rel=1e-9), sc.name
        assert res.totals.price_yen == pytest.approx(price, rel=1e-6), sc.name


def test_day_tours_report_their_routes() -> None:
    s = TourSolver(detour=1.0)
    xy = np.random.default_rng(2).uniform(-10, 10, (12, 2))
    for res in (s._sweep((0.0, 0.0), xy, 2.0), s.tours((0.0, 0.0), xy, 2.0)):
        visited = sorted(i for day in res.routes for i in day)
        assert visited == list(range(12)) and len(res.routes) == res.days
        km = sum(np.hypot(*np.diff(np.vstack([[0, 0], xy[list(day)], [0, 0]]), axis=0).T).sum() for day in res.routes)
        assert km == pytest.approx(res.km, rel=1e-3)
