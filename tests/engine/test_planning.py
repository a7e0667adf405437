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
    # every Ⅳ is treated in the first year by every method, beyond the budget if need be, with the excess stated
    iv = result.iv_first_year
    assert iv.cost_yen > 60_000_000 and iv.shortfall_yen == pytest.approx(iv.cost_yen - 60_000_000)
    assert len(iv.facilities) == int((df["grade"] == 4).sum())
    first_cap = b["cap"].copy()
    first_cap.iloc[0] = max(first_cap.iloc[0], iv.cost_yen)
    for method in ("plan", "worst_first"):
        assert (b[method] <= first_cap + 1e-3).all()
        assert b[method].iloc[0] == pytest.approx(iv.cost_yen)   # nothing but the Ⅳ in an over-spent year
    iv_rows = result.table[result.table["grade"] == "IV"]
    assert (iv_rows["fiscal_year"] == 2026).all() and (iv_rows["note"] == "Ⅳ：初年度に必ず対策").all()
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
    iv = df["grade"].to_numpy() == 4
    caps = [max(cap, expected[iv, 0].sum()), cap, cap]
    for choice in itertools.product(range(years + 1), repeat=5):
        if any(choice[i] != 0 for i in np.flatnonzero(iv)):   # Ⅳ: first year, always
            continue
        spend = [sum(expected[i, y] for i, c in enumerate(choice) if c == y) for y in range(years)]
        if all(s <= c + 1e-6 for s, c in zip(spend, caps, strict=True)):
            best = min(best, sum(value[i, c] for i, c in enumerate(choice)))
    assert result.totals.loc["plan", "objective_yen"] == pytest.approx(best, rel=1e-6)


def test_large_budget_gives_the_unconstrained_optimum_and_zero_budget_only_the_iv() -> None:
    df = candidates(40)
    rich = budget_plan(df, MODEL, params(), plan_params(), start_year=2026, years=10, budget_yen=1e12)
    assert rich.totals.loc["plan", "objective_yen"] == pytest.approx(rich.totals.loc["unconstrained", "objective_yen"],
                                                                     rel=1e-6)
    # risky IV bridges are done in the first year when money allows
    iv = rich.table[rich.table["grade"] == "IV"]
    assert (iv["fiscal_year"] == 2026).all()
    broke = budget_plan(df, MODEL, params(), plan_params(), start_year=2026, years=10, budget_yen=0)
    n_iv = int((df["grade"] == 4).sum())
    assert n_iv > 0
    # with no money only the Ⅳ are treated (in the first year), and the whole of their cost is the shortfall
    assert broke.totals.loc["plan", "treated"] == n_iv == broke.totals.loc["worst_first", "treated"]
    assert broke.table.loc[broke.table["grade"] == "IV", "fiscal_year"].eq(2026).all()
    assert broke.table.loc[broke.table["grade"] != "IV", "fiscal_year"].isna().all()
    assert broke.iv_first_year.cost_yen > 0
    assert broke.iv_first_year_shortfall_yen == pytest.approx(broke.iv_first_year.cost_yen)
    js = broke.as_json()
    assert js["iv_first_year_shortfall_yen"] == pytest.approx(broke.iv_first_year.cost_yen)
    assert len(js["iv_first_year"]["facilities"]) == n_iv
    # the Ⅲ goal (5 years): every facility judged Ⅲ is late, and from the goal year on the money is missing
    goal = broke.iii_goal
    n_iii = int((df["grade"] == 3).sum())
    assert goal.facilities == n_iii and goal.treated_within_goal == 0 and len(goal.late) == n_iii
    assert goal.deadline_fiscal_year == 2030
    by_year = {r["fiscal_year"]: r for r in goal.per_year}
    assert all(by_year[y]["overdue"] == 0 and by_year[y]["shortfall_yen"] == 0 for y in range(2026, 2030))
    assert all(by_year[y]["overdue"] == n_iii and by_year[y]["shortfall_yen"] > 0 for y in range(2030, 2036))
    assert broke.totals.loc["plan", "iii_late"] == n_iii
    assert rich.iii_goal.treated_within_goal + len(rich.iii_goal.late) == n_iii


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
