"""Life-cycle cost: exact expected streams (checked by hand and against the Monte Carlo of the same
process), strategy ordering that follows the costs, discounting, today's condition, hazards fallback."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from gunmane.engine.deterioration import MarkovHazardModel, StateSpace, transition_matrix
from gunmane.engine.lcc import (
    STRATEGIES,
    ActionCost,
    LccError,
    LccParameters,
    Parameter,
    discount_factors,
    life_cycle_cost,
    prepare_assets,
)
from gunmane.engine.lcc.hazards import HazardDefaults, complete_hazards
from gunmane.engine.lcc.simulate import backlog_years
from gunmane.io.shipped.lcc import LccParamsError, load_lcc_parameters

THETA = (0.08, 0.03, 0.1)
MODEL = MarkovHazardModel(StateSpace.grades(), THETA, source="test")


def params(*, horizon: int = 50, rate: float = 0.04, inspection: float = 200_000.0, preventive: float = 15_000.0,
           repair: float = 90_000.0, renewal: float = 448_000.0, runs: int = 100) -> LccParameters:
    actions = (
        ActionCost("bridge", 2, "予防保全", preventive, 1_000_000, 1, "test"),
        ActionCost("bridge", 3, "補修", repair, 3_000_000, 1, "test"),
        ActionCost("bridge", 4, "更新", renewal, 0, 1, "test"),
    )
    return LccParameters(
        actions=actions,
        discount_rate=Parameter("discount_rate", rate, "", "割引率", "test", status="published"),
        horizon_years=Parameter("horizon_years", horizon, "年", "期間", "test", status="published"),
        inspection_interval_years=Parameter("inspection_interval_years", 5, "年", "点検間隔", "test", status="published"),
        inspection_cost_yen=Parameter("inspection_cost_yen", inspection, "円", "点検費", "test", status="published"),
        monte_carlo_runs=runs,
    )


def population(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "facility": np.arange(n),
        "lg_code": "292125",
        "facility_type": "bridge",
        "area_m2": rng.uniform(20, 300, n).round(1),
        "grade": rng.choice([1, 2, 3, 4], n, p=[0.4, 0.45, 0.13, 0.02]).astype(float),
        "years_since_inspection": rng.uniform(0, 6, n),
        "age": rng.uniform(10, 70, n),
    })


def one(grade: float, since: float, area: float = 100.0, age: float = 40.0) -> pd.DataFrame:
    return pd.DataFrame({"facility": [1], "lg_code": ["292125"], "facility_type": ["bridge"], "area_m2": [area],
                         "grade": [grade], "years_since_inspection": [since], "age": [age]})


def test_iv_backlog_is_renewed_first_year_by_hand() -> None:
    """A IV bridge inspected today: every strategy renews it in year 0 (448,000 円/㎡ × 100 ㎡), then it is I."""
    p = params(horizon=3, inspection=0.0)
    result = life_cycle_cost(one(4, 0.0), MODEL, p, start_year=2026, monte_carlo=False)
    for s in result.strategies:
        assert s.annual.loc[0, "total"] == pytest.approx(44_800_000)
        assert s.occupancy.loc[1].to_numpy() == pytest.approx(transition_matrix(np.array(THETA), 1.0)[0])
        # next inspection is due in year 5 (> horizon): nothing else is spent
        assert s.annual["total"].iloc[1:].sum() == pytest.approx(0.0)


def test_grade_ii_under_each_strategy_by_hand() -> None:
    """Grade II found 2 years ago (inspection due in year 3): preventive acts in year 0 as backlog;
    the others wait for the inspection in year 3 and act on the expected grade then."""
    p = params(horizon=4, inspection=100_000.0)
    res = life_cycle_cost(one(2, 2.0), MODEL, p, start_year=2026, monte_carlo=False)
    th = np.array(THETA)
    d0 = transition_matrix(th, 2.0)[1]             # today's distribution from II two years ago
    cost = np.array([0.0, 1e6 + 15_000 * 100, 3e6 + 90_000 * 100, 448_000 * 100])
    prev = res.by_key("preventive").annual["total"]
    assert prev.loc[0] == pytest.approx(d0 @ cost)  # everything is II or worse: all acted on
    d3 = d0 @ transition_matrix(th, 3.0)
    early = res.by_key("early_corrective").annual["total"]
    assert early.loc[0] == pytest.approx(0.0)
    assert early.loc[3] == pytest.approx(100_000 + d3[2] * cost[2] + d3[3] * cost[3])
    reactive = res.by_key("reactive").annual["total"]
    assert reactive.loc[3] == pytest.approx(100_000 + d3[3] * cost[3])


def test_expected_streams_match_monte_carlo_of_the_same_process() -> None:
    """The exact expectation (basis trajectories) and the facility-by-facility simulation agree."""
    df = population(300)
    p = params(horizon=30, runs=400)
    exact = life_cycle_cost(df, MODEL, p, start_year=2026, monte_carlo=False)
    assets = prepare_assets(df, MODEL, facility_types=("bridge",), inspection_interval=5)
    from gunmane.engine.lcc.simulate import _monte_carlo_totals, _tables

    tables = {"bridge": _tables(p, "bridge", 4, False)}
    for s in exact.strategies:
        totals, _ = _monte_carlo_totals(s.strategy, assets, tables, MODEL.one_year_matrix(), 5, 30, p)
        mean = totals.mean(axis=0)
        expected = s.annual["total"].to_numpy()
        # total over the horizon within 2 %; every year within 4 standard errors
        assert mean.sum() == pytest.approx(expected.sum(), rel=0.02)
        se = totals.std(axis=0, ddof=1) / np.sqrt(totals.shape[0])
        assert np.all(np.abs(mean - expected) <= 4 * se + 1.0)


def test_strategy_ranking_follows_the_costs() -> None:
    df = population()
    cheap_prevention = life_cycle_cost(df, MODEL, params(preventive=2_000, repair=150_000), start_year=2026,
                                       monte_carlo=False)
    assert cheap_prevention.best.strategy.key == "preventive"
    dear_prevention = life_cycle_cost(df, MODEL, params(preventive=200_000, repair=40_000), start_year=2026,
                                      monte_carlo=False)
    assert dear_prevention.best.strategy.key != "preventive"
    # acting later leaves more facility-years in III and IV
    fy = {s.strategy.key: s.facility_years for s in cheap_prevention.strategies}
    assert fy["preventive"]["IV"] < fy["early_corrective"]["IV"] < fy["reactive"]["IV"]
    assert fy["reactive"]["III"] > fy["early_corrective"]["III"]


def test_npv_is_the_discounted_sum_and_rate_matters() -> None:
    df = population(100)
    r = life_cycle_cost(df, MODEL, params(rate=0.04), start_year=2026, monte_carlo=False)
    for s in r.strategies:
        assert s.npv_yen == pytest.approx(float(s.annual["total"].to_numpy() @ discount_factors(0.04, 50)))
        assert s.facility_npv.sum() == pytest.approx(s.npv_yen, rel=1e-9)
        assert s.total_yen == pytest.approx(s.annual["total"].sum())
    r0 = life_cycle_cost(df, MODEL, params(rate=0.0), start_year=2026, monte_carlo=False)
    assert r0.strategies[0].npv_yen == pytest.approx(r0.strategies[0].total_yen)
    assert r0.strategies[0].npv_yen > r.strategies[0].npv_yen


def test_band_brackets_the_expectation_and_is_reproducible() -> None:
    df = population(200)
    a = life_cycle_cost(df, MODEL, params(horizon=20), start_year=2026)
    b = life_cycle_cost(df, MODEL, params(horizon=20), start_year=2026)
    s = a.by_key("early_corrective").annual
    assert (s["p05"] <= s["total"] + 1).all() and (s["total"] <= s["p95"] + 1).all()
    assert (s["p95"] > s["p05"]).any()
    assert np.array_equal(s["p95"].to_numpy(), b.by_key("early_corrective").annual["p95"].to_numpy())
    assert a.monte_carlo_runs == 100


def test_todays_condition_unknown_grade_area_and_types() -> None:
    df = pd.concat([one(np.nan, np.nan, area=np.nan, age=30.0), one(np.nan, np.nan, age=np.nan),
                    one(2, 1.0)], ignore_index=True)
    df["facility"] = [1, 2, 3]
    tunnel = one(3, 1.0)
    tunnel["facility_type"] = "tunnel"
    df = pd.concat([df, tunnel.assign(facility=4)], ignore_index=True)
    assets = prepare_assets(df, MODEL, facility_types=("bridge",), inspection_interval=5)
    assert assets.excluded["facility_type_without_costs"] == 1
    assert assets.notes["area_imputed_from_type_median"] == 1
    assert assets.notes["never_inspected_from_age"] == 1
    assert assets.notes["never_inspected_age_unknown"] == 1
    th = np.array(THETA)
    assert assets.initial[0] == pytest.approx(transition_matrix(th, 30.0)[0])   # from new, 30 years
    assert assets.initial[2] == pytest.approx(transition_matrix(th, 1.0)[1])    # II a year ago
    assert assets.initial[1] == pytest.approx(assets.initial[[2]].mean(axis=0))
    assert list(assets.frame["phase"]) == [0, 0, 4]
    assert assets.frame.loc[0, "area_used"] == pytest.approx(100.0)


def test_backlog_is_spread_before_the_next_inspection() -> None:
    df = population(60)
    assets = prepare_assets(df, MODEL, facility_types=("bridge",), inspection_interval=5)
    years = backlog_years(assets.frame, STRATEGIES[0], 4, 5)
    observed = assets.frame["observed"].to_numpy()
    phase = assets.frame["phase"].to_numpy()
    assert (years[observed == 0] == -1).all()
    assert (years[observed == 3] == 0).all()
    waiting = years[(observed >= 1) & (observed < 3)]
    assert set(waiting) <= {0, 1, 2, 3, 4}
    assert (years[years >= 0] <= np.maximum(phase[years >= 0] - 1, 0)).all()


def test_errors_are_japanese() -> None:
    df = one(2, 1.0)
    df["facility_type"] = "tunnel"
    with pytest.raises(LccError) as exc:
        life_cycle_cost(df, MODEL, params(), start_year=2026)
    assert "対策費用が設定された種別" in exc.value.message_ja
    with pytest.raises(LccError, match="期間"):
        life_cycle_cost(one(2, 1.0), MODEL, params(horizon=0), start_year=2026)
    bad = one(7, 1.0)
    with pytest.raises(LccError) as exc:
        life_cycle_cost(bad, MODEL, params(), start_year=2026)
    assert "健全性 7.0" in exc.value.message_ja


def _pairs(n: int, theta: tuple[float, ...], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    before = rng.choice([1, 2, 3], n, p=[0.4, 0.4, 0.2])
    z = rng.uniform(4, 6, n)
    p = transition_matrix(np.array(theta), z)
    u = rng.random(n)
    after = (u[:, None] > np.cumsum(p[np.arange(n), before - 1], axis=1)).sum(axis=1) + 1
    return pd.DataFrame({"facility_id": [f"F{i}" for i in range(n)], "before": before, "after": after,
                         "interval_years": z})


DEFAULTS = HazardDefaults(Parameter("a", 0.0908, "1/年", "θI", "宮城", status="published"),
                          Parameter("b", 0.01437, "1/年", "θII", "宮城", status="published"),
                          Parameter("c", 0.1, "1/年", "θIII", "仮定値", status="assumption"))


def test_hazards_full_fit_when_identified() -> None:
    choice = complete_hazards(_pairs(4000, (0.08, 0.04, 0.15)), DEFAULTS)
    assert choice.path == "fit_full"
    assert choice.model.hazards[2] == pytest.approx(0.15, rel=0.25)


def test_hazards_fall_back_to_merged_fit_and_then_published_values() -> None:
    pairs = _pairs(3000, (0.08, 0.04, 0.15))
    pairs.loc[pairs["before"] == 3, "after"] = 3   # no III→IV transitions
    choice = complete_hazards(pairs, DEFAULTS)
    assert choice.path == "fit_merged_plus_default"
    assert choice.model.hazards[2] == 0.1 and "Ⅲ→Ⅳ" in choice.model.source
    assert choice.reasons and "Ⅲ" in choice.reasons[0]
    none = complete_hazards(None, DEFAULTS)
    assert none.path == "published_plus_default"
    assert none.model.hazards == (0.0908, 0.01437, 0.1)
    few = _pairs(30, (0.08, 0.04, 0.15))
    assert complete_hazards(few, DEFAULTS).path == "published_plus_default"


def test_shipped_parameters_have_sources(tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = load_lcc_parameters()
    assert d.params.edition == "gunmane-lcc-2026.1"
    assert d.params.discount_rate.value == 0.04 and "技術指針" in d.params.discount_rate.source
    renewal = d.params.action_table("bridge")[4]
    assert renewal.per_m2_yen == 448_000 and "総務省" in renewal.source and not renewal.assumption
    assert d.params.action_table("bridge")[3].assumption
    assert all(a.source for a in d.params.actions)
    assert d.hazards.theta_iii.assumption and d.plan.deadline_years.value == 5
    assert "5,525橋・7,628推移" in d.hazards.theta_i.source and not d.hazards.theta_i.assumption
    # a user's copy: a bad value is named by file, row and column
    from importlib import resources

    for name in ("actions.csv", "parameters.csv"):
        (tmp_path / name).write_bytes(resources.files("gunmane.data").joinpath("lcc", name).read_bytes())
    text = (tmp_path / "parameters.csv").read_text(encoding="utf-8").replace("0.04,年率", "４％,年率")
    (tmp_path / "parameters.csv").write_text(text, encoding="utf-8")
    with pytest.raises(LccParamsError) as exc:
        load_lcc_parameters(tmp_path)
    assert "parameters.csv 2行目「value」" in exc.value.message_ja and "４％" in exc.value.message_ja
    (tmp_path / "parameters.csv").write_text(text.replace("４％,年率", "0.04,年率,出典A,出典B"), encoding="utf-8")
    with pytest.raises(LccParamsError) as exc:
        load_lcc_parameters(tmp_path)
    assert "2行目" in exc.value.message_ja and "列の数が見出しより多く" in exc.value.message_ja
    text = text.replace("４％,年率", "0.02,年率")
    (tmp_path / "parameters.csv").write_text(text, encoding="utf-8")
    user = load_lcc_parameters(tmp_path)
    assert user.params.discount_rate.value == 0.02 and "利用者の設定" in user.params.edition


def test_overrides_replace_the_source() -> None:
    p = params()
    q = p.with_overrides(discount_rate=0.02)
    assert q.discount_rate.value == 0.02 and q.discount_rate.source == "利用者の設定"
    assert dataclasses.replace(q, discount_rate=p.discount_rate) == p


@pytest.mark.parametrize(("raw", "yen"), [("100000000", 1e8), ("1億", 1e8), ("5000万", 5e7), ("１，０００万円", 1e7),
                                          ("2.5億", 2.5e8), ("1,000,000 円", 1e6)])
def test_budget_amounts_as_people_write_them(raw: str, yen: float) -> None:
    from gunmane.io.values.amounts import parse_yen

    assert parse_yen(raw) == yen


@pytest.mark.parametrize("raw", ["abc", "-1", "たくさん", ""])
def test_budget_amount_errors(raw: str) -> None:
    from gunmane.io.values.amounts import parse_yen

    with pytest.raises(ValueError, match="金額"):
        parse_yen(raw)
