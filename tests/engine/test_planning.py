"""Budget plan (MILP, HiGHS): budgets respected, optimum equals brute force on a small case, at least as
good as worst-first, levelling meets the deadline, errors in Japanese."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from gunmane.engine.deterioration import MarkovHazardModel, StateSpace, transition_matrix
from gunmane.engine.lcc import STRATEGIES, LccError, Parameter
from gunmane.engine.planning import PlanParameters, budget_plan
from tests.engine.test_lcc import params

MODEL = MarkovHazardModel(StateSpace.grades(), (0.08, 0.03, 0.1), source="test")


def plan_params(*, gap: float = 1e-6) -> PlanParameters:
    return PlanParameters(
        risk_iv_yen_per_year=Parameter("risk_iv", 10_000_000, "円/年", "Ⅳ リスク", "test", status="published"),
        risk_iii_yen_per_year=Parameter("risk_iii", 1_000_000, "円/年", "Ⅲ リスク", "test", status="published"),
        weight_per_detour_km=Parameter("detour", 0.1, "1/km", "迂回", "test", status="published"),
        weight_per_age_year_over_50=Parameter("age", 0.02, "1/年", "年齢", "test", status="published"),
        deadline_years=Parameter("deadline", 5, "年", "期限", "test", status="published"),
        mip_rel_gap=gap,
    )


def candidates(n: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "facility": np.arange(n),
        "lg_code": rng.choice(["292125", "293857"], n),
        "facility_type": "bridge",
        "area_m2": rng.uniform(20, 200, n).round(1),
        "grade": rng.choice([2, 3, 4], n, p=[0.3, 0.6, 0.1]).astype(float),
        "years_since_inspection": rng.uniform(0, 4, n),
        "age": rng.uniform(30, 80, n),
        "name": [f"橋{i}" for i in range(n)],
        "route_importance": rng.choice([1.0, 2.0], n),
        "detour_km": rng.uniform(0, 15, n),
    })


def test_budget_is_respected_and_plan_beats_worst_first() -> None:
    df = candidates(80)
    result = budget_plan(df, MODEL, params(), plan_params(gap=0.01), start_year=2026, years=10, budget_yen=60_000_000)
    b = result.budget
    assert (b["plan"] <= b["cap"] + 1e-3).all()
    assert (b["worst_first"] <= b["cap"] + 1e-3).all()
    t = result.totals
    assert t.loc["plan", "objective_yen"] <= t.loc["worst_first", "objective_yen"]
    assert t.loc["unconstrained", "objective_yen"] <= t.loc["plan", "objective_yen"] + 1.0
    # candidates are III and IV only (early corrective); II are below the trigger
    assert set(result.table["grade"]) <= {"III", "IV"}
    assert result.excluded["below_trigger"] == int((df["grade"] == 2).sum())
    assert result.solver["mip_gap"] <= 0.01 + 1e-9 and result.solver["status"] == 0
    assert len(result.table) == int((df["grade"] >= 3).sum())


def test_small_case_equals_brute_force() -> None:
    df = candidates(5, seed=11)
    df["grade"] = [3.0, 4.0, 3.0, 3.0, 4.0]
    years, cap = 3, 25_000_000.0
    result = budget_plan(df, MODEL, params(), plan_params(), start_year=2026, years=years, budget_yen=cap)
    # rebuild the same objective independently and enumerate every assignment (year or never)
    th = np.array(MODEL.hazards)
    area = df["area_m2"].to_numpy()
    costs = np.array([[0.0, 1e6 + 15_000 * a, 3e6 + 90_000 * a, 448_000 * a] for a in area])
    p0 = np.array([transition_matrix(th, s)[int(g) - 1] for g, s in zip(df["grade"], df["years_since_inspection"],
                                                                         strict=True)])
    dist = np.einsum("kj,tjs->kts", p0, transition_matrix(th, np.arange(years + 1.0)))
    # cost of the grade's own action (states below III use the next defined action: II's own)
    expected = np.einsum("kts,ks->kt", dist, costs)
    w = df["route_importance"].to_numpy() * (1 + 0.1 * df["detour_km"].to_numpy()
                                              + 0.02 * np.maximum(df["age"].to_numpy() - 50, 0))
    risk = w[:, None] * (dist[:, :, 3] * 1e7 + dist[:, :, 2] * 1e6)
    d = 1.04 ** -np.arange(years + 1.0)
    carried = np.concatenate([np.zeros((5, 1)), np.cumsum(risk[:, :years] * d[:years], axis=1)], axis=1)
    value = expected * d + carried
    best = np.inf
    for choice in itertools.product(range(years + 1), repeat=5):
        spend = [sum(expected[i, y] for i, c in enumerate(choice) if c == y) for y in range(years)]
        if max(spend) <= cap + 1e-6:
            best = min(best, sum(value[i, c] for i, c in enumerate(choice)))
    assert result.totals.loc["plan", "objective_yen"] == pytest.approx(best, rel=1e-6)


def test_large_budget_gives_the_unconstrained_optimum_and_zero_budget_nothing() -> None:
    df = candidates(40)
    rich = budget_plan(df, MODEL, params(), plan_params(), start_year=2026, years=10, budget_yen=1e12)
    assert rich.totals.loc["plan", "objective_yen"] == pytest.approx(rich.totals.loc["unconstrained", "objective_yen"],
                                                                     rel=1e-6)
    # risky IV bridges are done in the first year when money allows
    iv = rich.table[rich.table["grade"] == "IV"]
    assert (iv["fiscal_year"] == 2026).all()
    broke = budget_plan(df, MODEL, params(), plan_params(), start_year=2026, years=10, budget_yen=0)
    assert broke.totals.loc["plan", "treated"] == 0
    assert broke.table["fiscal_year"].isna().all()


def test_levelling_meets_the_deadline_and_flattens_the_peak() -> None:
    df = candidates(60)
    level = budget_plan(df, MODEL, params(), plan_params(gap=0.01), start_year=2026, years=10, mode="level")
    assert level.table["fiscal_year"].notna().all()
    assert (level.table["fiscal_year"] < 2026 + 5).all()
    spend = level.budget["plan"]
    assert spend.max() <= level.budget["unconstrained"].max()
    assert spend.iloc[:5].min() > 0.5 * spend.iloc[:5].max()


def test_preventive_strategy_includes_grade_ii_and_json_shape() -> None:
    df = candidates(30)
    result = budget_plan(df, MODEL, params(), plan_params(gap=0.01), start_year=2026, years=5,
                         budget_yen=[50e6, 50e6, 40e6, 40e6, 30e6], strategy=STRATEGIES[0])
    assert "II" in set(result.table["grade"])
    js = result.as_json()
    assert set(js) >= {"plan", "budget_curve", "comparison", "solver", "model", "parameters", "assumptions"}
    row = js["plan"][0]
    assert set(row) >= {"facility", "name", "grade", "measure", "fiscal_year", "cost_yen"}
    assert row["fiscal_year"] is None or isinstance(row["fiscal_year"], int)
    assert [r["cap"] for r in js["budget_curve"]] == [50e6, 50e6, 40e6, 40e6, 30e6]


def test_errors_are_japanese() -> None:
    df = candidates(10)
    with pytest.raises(LccError, match="予算"):
        budget_plan(df, MODEL, params(), plan_params(), start_year=2026, budget_yen=None)
    with pytest.raises(LccError, match="予算"):
        budget_plan(df, MODEL, params(), plan_params(), start_year=2026, budget_yen=[1.0, 2.0])
    only_i = df.assign(grade=1.0)
    with pytest.raises(LccError) as exc:
        budget_plan(only_i, MODEL, params(), plan_params(), start_year=2026, budget_yen=1e8)
    assert "対策の対象" in exc.value.message_ja
