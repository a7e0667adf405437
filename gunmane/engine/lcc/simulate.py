"""Life-cycle cost of maintenance strategies: expected yearly cost streams by Markov simulation with actions.

Each year, in order: facilities due for their periodic inspection are inspected (cost per facility);
those found at the strategy's trigger grade or worse — and always those found at the worst grade —
get the action for the grade they are in (cost = fixed + per m² × deck area) and move to the grade the
action restores; then every facility deteriorates for one year by the hazard model's one-year matrix.
Backlog counts: a facility whose latest inspection already found it at the trigger or worse is acted
on before its next inspection (its judgement has been made; the cost is that of the grade it is
expected to be in by then).  IV is done in the first year; the rest of the backlog is spread evenly
over the years up to the next inspection, worst and longest-waiting first (:func:`backlog_years`).

The expected streams are exact, not sampled: the process is linear in a facility's state
distribution, so basis trajectories from each grade (per inspection phase and backlog flag) are
computed once and every facility's stream is its distribution times them — any number of facilities
in milliseconds.  A seeded Monte Carlo over the same process gives the 5–95 % band of the yearly
total, i.e. how much the budget need of this particular population may vary around the expectation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gunmane.engine.deterioration import MarkovHazardModel
from gunmane.engine.lcc.assets import AssetSet, prepare_assets
from gunmane.engine.lcc.errors import LccError
from gunmane.engine.lcc.params import STRATEGIES, LccParameters, Strategy

__all__ = ["LccResult", "StrategyResult", "life_cycle_cost", "discount_factors"]

FloatArray = np.ndarray

# Monte Carlo memory bound: runs × facilities cells per year step
_MC_CELLS = 2_000_000


def discount_factors(rate: float, years: int) -> FloatArray:
    """1/(1+r)^t for t = 0 … years−1 (costs fall at the start of each fiscal year)."""
    return np.asarray((1.0 + rate) ** -np.arange(years, dtype=np.float64))


@dataclass(frozen=True)
class _Tables:
    """Per facility type: fixed and per-m² cost of the action at each state, and the state it restores."""

    fixed: FloatArray      # (J,)
    per_m2: FloatArray     # (J,)
    restore: np.ndarray    # (J,) 0-based
    available: np.ndarray  # (J,) bool: an action is defined for this state


def _tables(params: LccParameters, facility_type: str, n_states: int, merge_iv: bool) -> _Tables:
    fixed = np.zeros(n_states)
    per_m2 = np.zeros(n_states)
    restore = np.arange(n_states)
    available = np.zeros(n_states, dtype=bool)
    for grade, action in params.action_table(facility_type).items():
        state = min(grade, n_states) if merge_iv else grade
        if not 1 <= state <= n_states or (merge_iv and grade > n_states):
            continue  # with IV merged into III the III action stands for both
        fixed[state - 1] = action.fixed_yen
        per_m2[state - 1] = action.per_m2_yen
        restore[state - 1] = action.restores_to - 1
        available[state - 1] = True
    if not available[-1]:
        raise LccError("no_worst_action", f"施設種別 {facility_type} に最も悪い健全性での対策（更新など）の費用がありません。",
                       f"facility type {facility_type} has no action for the worst grade")
    return _Tables(fixed, per_m2, restore, available)


def _acted(strategy: Strategy, tables: _Tables) -> np.ndarray:
    n = tables.available.shape[0]
    mask = np.arange(1, n + 1) >= min(strategy.trigger, n)
    return mask & tables.available


def _basis(p1: FloatArray, tables: _Tables, acted: np.ndarray, interval: int, horizon: int, phase: int,
           backlog: int) -> dict[str, FloatArray]:
    """Trajectories from each starting state (rows): per-m² cost, fixed cost, actions per state, occupancy."""
    n = p1.shape[0]
    d = np.eye(n)
    area = np.zeros((horizon, n))
    fixed = np.zeros((horizon, n))
    actions = np.zeros((horizon, n, n))   # [t, start, state acted on]
    occupancy = np.zeros((horizon, n, n))  # [t, start, state] at the start of year t, before actions
    inspected = np.zeros(horizon)
    move = np.zeros((n, n))
    move[np.arange(n), tables.restore] = 1.0
    for t in range(horizon):
        occupancy[t] = d
        due = t >= phase and (t - phase) % interval == 0
        inspected[t] = 1.0 if due else 0.0
        if due or t == backlog:
            acting = d * acted  # mass in acted states
            area[t] = acting @ tables.per_m2
            fixed[t] = acting @ tables.fixed
            actions[t] = acting
            d = d - acting + acting @ move
        d = d @ p1
    return {"area": area, "fixed": fixed, "actions": actions, "occupancy": occupancy, "inspected": inspected}


@dataclass(frozen=True)
class StrategyResult:
    """One strategy's expected streams over the horizon (yen at today's prices; NPV discounted)."""

    strategy: Strategy
    annual: pd.DataFrame          # index year (0-based); columns inspection, action_<grade>..., total, p05, p95
    occupancy: pd.DataFrame       # expected facilities in each grade at the start of each year
    actions: pd.DataFrame         # expected number of actions by grade per year
    facility_npv: FloatArray      # (N,) discounted cost per facility
    npv_yen: float
    total_yen: float
    mean_annual_yen: float
    peak_annual_yen: float
    facility_years: dict[str, float]  # expected facility-years spent in each grade over the horizon

    def summary(self) -> dict[str, Any]:
        return {"strategy": self.strategy.key, "name": self.strategy.name_ja, "npv_yen": self.npv_yen,
                "total_yen": self.total_yen, "mean_annual_yen": self.mean_annual_yen,
                "peak_annual_yen": self.peak_annual_yen, "facility_years": self.facility_years}


@dataclass(frozen=True)
class LccResult:
    """Strategy comparison for a set of facilities, with everything it assumed."""

    model: MarkovHazardModel
    params: LccParameters
    assets: AssetSet
    strategies: tuple[StrategyResult, ...]
    start_year: int
    monte_carlo_runs: int
    assumptions: tuple[str, ...] = field(default=())

    @property
    def best(self) -> StrategyResult:
        return min(self.strategies, key=lambda s: s.npv_yen)

    def by_key(self, key: str) -> StrategyResult:
        return next(s for s in self.strategies if s.strategy.key == key)

    def as_json(self, *, annual: bool = True) -> dict[str, Any]:
        labels = self.model.states.labels
        out: dict[str, Any] = {
            "start_fiscal_year": self.start_year,
            "horizon_years": int(self.params.horizon_years.value),
            "discount_rate": self.params.discount_rate.value,
            "n_facilities": self.assets.n,
            "excluded": self.assets.excluded,
            "notes": self.assets.notes,
            "model": self.model.as_json(),
            "strategies": [],
            "best_strategy": self.best.strategy.key,
            "parameters": self.params.as_json(),
            "monte_carlo_runs": self.monte_carlo_runs,
            "assumptions": list(self.assumptions),
        }
        for s in self.strategies:
            item = s.summary()
            item["definition"] = s.strategy.as_json()
            if annual:
                a = s.annual
                item["annual"] = [
                    {"fiscal_year": self.start_year + int(t), **{k: float(v) for k, v in a.loc[t].items()},
                     "grades": {lab: float(s.occupancy.loc[t, lab]) for lab in labels}}
                    for t in a.index]
            out["strategies"].append(item)
        return out


def life_cycle_cost(facilities: pd.DataFrame, model: MarkovHazardModel, params: LccParameters, *,
                    start_year: int, strategies: tuple[Strategy, ...] = STRATEGIES,
                    monte_carlo: bool = True) -> LccResult:
    """Expected yearly costs, NPV and grade mix under each strategy for the given facilities.

    ``facilities``: columns of :data:`gunmane.engine.lcc.assets.ASSET_COLUMNS`.
    """
    horizon = int(params.horizon_years.value)
    interval = int(params.inspection_interval_years.value)
    if not 1 <= horizon <= 300:
        raise LccError("bad_horizon", f"期間 {horizon} 年は 1〜300 年の範囲で指定してください。", "horizon out of range")
    if interval < 1:
        raise LccError("bad_interval", "点検間隔は1年以上にしてください。", "inspection interval must be ≥ 1")
    rate = params.discount_rate.value
    if not -0.5 < rate < 1.0:
        raise LccError("bad_rate", f"割引率 {rate} は -0.5〜1.0 の範囲で指定してください。", "discount rate out of range")
    assets = prepare_assets(facilities, model, facility_types=params.facility_types, inspection_interval=interval)
    n_states = model.states.n
    p1 = model.one_year_matrix()
    disc = discount_factors(rate, horizon)
    df = assets.frame
    tables = {ft: _tables(params, ft, n_states, model.states.merge_iv) for ft in df["facility_type"].unique()}
    runs = 0
    results = []
    for strategy in strategies:
        res, runs = _strategy(strategy, assets, tables, p1, interval, horizon, disc, params, model, monte_carlo)
        results.append(res)
    labels = model.states.labels
    if labels[0] in ("I", "Ⅰ") and labels[-1] in ("IV", "III+IV"):  # the road scale: its words as they were
        rules = (
            f"点検は {interval} 年ごと（未点検・期限超過の施設は初年度に点検）。点検で判定された健全性に応じて対策し、"
            "対策後は表の「回復する健全性」になる。Ⅳ はどの戦略でも判定され次第対策する。",
            "前回点検で既に対策の対象と判定されている施設（未措置の積み残し）は、Ⅳ は初年度、その他は次回点検までの各年に"
            "均等に（悪い健全性・長く待っている順に）対策する。",
            "今日の健全性は前回点検の健全性から経過年数分の劣化を見込んだ確率分布とする（未点検は建設年度から）。")
    else:
        worst = labels[-1]
        rules = (
            f"点検は {interval} 年ごと（未点検・期限超過の施設は初年度に点検）。点検で判定された区分に応じて対策し、"
            f"対策後は表の「対策後」の区分になる。最も悪い区分 {worst} はどの戦略でも判定され次第対策する。",
            f"前回点検で既に対策の対象と判定されている施設（未措置の積み残し）は、{worst} は初年度、その他は次回点検までの"
            "各年に均等に（悪い区分・長く待っている順に）対策する。",
            "今日の区分は前回点検の区分から経過年数分の劣化を見込んだ確率分布とする（未点検は建設年度から）。")
    assumptions = (
        *model.assumptions,
        f"劣化ハザード：{model.source}",
        *rules,
        f"費用は現在価格（物価変動なし）。割引率 {rate:.1%}（{params.discount_rate.source}）。",
        *params.notes,
    )
    return LccResult(model=model, params=params, assets=assets, strategies=tuple(results), start_year=start_year,
                     monte_carlo_runs=runs if monte_carlo else 0, assumptions=assumptions)


def _strategy(strategy: Strategy, assets: AssetSet, tables: dict[str, _Tables], p1: FloatArray, interval: int,
              horizon: int, disc: FloatArray, params: LccParameters, model: MarkovHazardModel,
              monte_carlo: bool) -> tuple[StrategyResult, int]:
    df = assets.frame
    n_states = model.states.n
    labels = model.states.labels
    n = len(df)
    fac_cost = np.zeros((n, horizon))
    act_cost = np.zeros((horizon, n_states))
    act_count = np.zeros((horizon, n_states))
    occupancy = np.zeros((horizon, n_states))
    inspections = np.zeros(horizon)
    area = df["area_used"].to_numpy()
    backlog = backlog_years(df, strategy, n_states, interval)
    for ft, tab in tables.items():
        acted = _acted(strategy, tab)
        of_type = (df["facility_type"] == ft).to_numpy()
        phases = df["phase"].to_numpy()
        pairs = np.stack([phases, backlog], axis=1)[of_type]
        rows_of_type = np.flatnonzero(of_type)
        for phase, year in np.unique(pairs, axis=0):
            rows = rows_of_type[(pairs[:, 0] == phase) & (pairs[:, 1] == year)]
            b = _basis(p1, tab, acted, interval, horizon, int(phase), int(year))
            p0 = assets.initial[rows]                                  # (k, J)
            # per facility, per year: area × E[per-m² cost] + E[fixed cost]
            fac_cost[rows] = area[rows, None] * (p0 @ b["area"].T) + p0 @ b["fixed"].T
            # aggregates are linear too: sum the distributions first (weighted by area for per-m² costs)
            mass = p0.sum(axis=0)                                      # (J,)
            area_mass = area[rows] @ p0                                # (J,)
            count = np.einsum("j,tjs->ts", mass, b["actions"])
            act_count += count
            act_cost += np.einsum("j,tjs->ts", area_mass, b["actions"]) * tab.per_m2 + count * tab.fixed
            occupancy += np.einsum("j,tjs->ts", mass, b["occupancy"])
            inspections += b["inspected"] * rows.size
    insp_cost = inspections * params.inspection_cost_yen.value
    fac_insp = _facility_inspections(df["phase"].to_numpy(), interval, horizon) * params.inspection_cost_yen.value
    fac_total = fac_cost + fac_insp
    annual = pd.DataFrame({"inspection": insp_cost}, index=pd.Index(np.arange(horizon), name="year"))
    for s in range(n_states):
        if act_count[:, s].any():
            annual[f"action_{labels[s]}"] = act_cost[:, s]
    annual["total"] = annual.sum(axis=1)
    runs = 0
    if monte_carlo:
        band, runs = _monte_carlo(strategy, assets, tables, p1, interval, horizon, params)
        annual["p05"], annual["p95"] = band[0], band[1]
    total = annual["total"].to_numpy()
    occ = pd.DataFrame(occupancy, index=annual.index, columns=list(labels))
    acts = pd.DataFrame(act_count, index=annual.index, columns=list(labels))
    return StrategyResult(
        strategy=strategy, annual=annual, occupancy=occ, actions=acts,
        facility_npv=fac_total @ disc, npv_yen=float(total @ disc), total_yen=float(total.sum()),
        mean_annual_yen=float(total.mean()), peak_annual_yen=float(total.max()),
        facility_years={lab: float(occ[lab].sum()) for lab in labels},
    ), runs


def backlog_years(df: pd.DataFrame, strategy: Strategy, n_states: int, interval: int) -> np.ndarray:
    """Year (0-based) in which each backlog facility is acted on; −1 for facilities not in the backlog.

    Backlog = latest inspection found the facility at the strategy's trigger or worse.  The worst grade
    goes in year 0 (urgent measures); the others are spread round-robin over the years before their
    next inspection, worst grade and longest wait first, so the catch-up is levelled rather than a
    single spike.
    """
    trigger = min(strategy.trigger, n_states) - 1
    observed = df["observed"].to_numpy()
    out = np.full(len(df), -1, dtype=np.int64)
    in_backlog = observed >= trigger
    urgent = in_backlog & (observed == n_states - 1)
    out[urgent] = 0
    rest = np.flatnonzero(in_backlog & ~urgent)
    if rest.size:
        since = df["years_since_inspection"].fillna(0.0).to_numpy()[rest]
        order = rest[np.lexsort((-since, -observed[rest]))]
        spread = np.arange(order.size) % max(1, interval)
        out[order] = np.minimum(spread, np.maximum(df["phase"].to_numpy()[order] - 1, 0))
    return out


def _facility_inspections(phase: np.ndarray, interval: int, horizon: int) -> FloatArray:
    t = np.arange(horizon)[None, :]
    p = phase[:, None]
    return np.asarray((t >= p) & ((t - p) % interval == 0), dtype=np.float64)


def _monte_carlo(strategy: Strategy, assets: AssetSet, tables: dict[str, _Tables], p1: FloatArray, interval: int,
                 horizon: int, params: LccParameters) -> tuple[FloatArray, int]:
    """5th and 95th percentile of the yearly total over seeded runs of the same process, facility by facility."""
    totals, runs = _monte_carlo_totals(strategy, assets, tables, p1, interval, horizon, params)
    return np.percentile(totals, [5, 95], axis=0), runs


def _monte_carlo_totals(strategy: Strategy, assets: AssetSet, tables: dict[str, _Tables], p1: FloatArray,
                        interval: int, horizon: int, params: LccParameters) -> tuple[FloatArray, int]:
    """Yearly totals (runs × years) of seeded simulations, each facility sampled on its own."""
    df = assets.frame
    n = len(df)
    n_states = p1.shape[0]
    runs = int(max(20, min(params.monte_carlo_runs, _MC_CELLS // max(1, n))))
    rng = np.random.default_rng(params.seed)
    types = df["facility_type"].to_numpy()
    fixed = np.zeros((n, n_states))
    per_m2 = np.zeros((n, n_states))
    restore = np.zeros((n, n_states), dtype=np.int64)
    acted = np.zeros((n, n_states), dtype=bool)
    for ft, tab in tables.items():
        m = types == ft
        fixed[m], per_m2[m], restore[m], acted[m] = tab.fixed, tab.per_m2, tab.restore, _acted(strategy, tab)
    cost = fixed + per_m2 * df["area_used"].to_numpy()[:, None]           # (N, J)
    phase = df["phase"].to_numpy()
    backlog = backlog_years(df, strategy, n_states, interval)
    cum0 = np.cumsum(assets.initial, axis=1)
    state = (rng.random((runs, n))[:, :, None] > cum0[None, :, :]).sum(axis=2).clip(max=n_states - 1)
    cum1 = np.cumsum(p1, axis=1)
    thresholds = [cum1[:, k].copy() for k in range(n_states - 1)]
    totals = np.zeros((runs, horizon))
    insp = _facility_inspections(phase, interval, horizon).sum(axis=0) * params.inspection_cost_yen.value
    # flat (facility, state) tables so that one take() per year replaces 2-D fancy indexing
    flat_cost, flat_restore, flat_acted = cost.ravel(), restore.ravel(), acted.ravel()
    base = (np.arange(n) * n_states)[None, :]
    for t in range(horizon):
        due = ((t >= phase) & ((t - phase) % interval == 0)) | (backlog == t)
        cell = base + state
        act = np.take(flat_acted, cell) & due[None, :]
        totals[:, t] = np.where(act, np.take(flat_cost, cell), 0.0).sum(axis=1) + insp[t]
        state = np.where(act, np.take(flat_restore, cell), state)
        u = rng.random((runs, n))
        new = np.zeros_like(state)
        for thr in thresholds:
            new += u > np.take(thr, state)
        state = new
    return totals, runs
