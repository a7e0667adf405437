"""Budget-constrained repair plan (個別施設計画の対策計画): which facility to treat in which year.

Candidates are the facilities whose latest inspection found them at the strategy's trigger grade or
worse (default III: 早期措置段階, and IV).  Treating facility f in year y costs its *expected* action
cost then — the recorded grade advanced by the hazard model, so waiting makes the expected cost grow
as the chance of reaching IV (renewal) grows — and every year it waits adds its expected risk:
P(III)·risk_III + P(IV)·risk_IV, scaled by a priority weight from route importance, detour length
and age.  A facility not treated within the plan is charged its treatment in the year after the
plan plus the risk of every plan year, so deferring is never free.

The choice is a 0/1 program (HiGHS through scipy.optimize.milp):

    min Σ_f Σ_y v_fy x_fy            v_fy = d_y c_fy + R_fy; y = Y stands for "not in the plan"
    s.t. Σ_y x_fy = 1                 each facility once (possibly "not in the plan")
         Σ_f c_fy x_fy ≤ B_y          annual budget (mode "budget")
      or Σ_f c_fy x_fy ≤ P, Σ_y<D x_fy = 1 for IV/III within deadline D, min Y·P + Σ v x   (mode "level")

The objective is the whole discounted cost + risk, so the reported relative gap is a share of it.

and is compared with the unconstrained optimum (each facility its own best year) and with the common
worst-first rule (grade, then priority, then age; spend each year's budget in that order).

Two rules of the 定期点検要領 bind every method alike:

* **Ⅳ first** (緊急措置段階: 緊急に措置を講ずべき状態) — every facility whose latest inspection judged it Ⅳ
  is treated in the first plan year, a hard constraint (x_f0 = 1).  When the first year's budget cannot
  pay for them the plan still schedules them, leaves nothing else in that year, and reports the
  shortfall (:class:`IvFirstYear`) instead of letting a Ⅳ wait.
* **Ⅲ within the next inspection cycle** (早期措置段階: 次回点検までに措置, 5 years) is a goal: the plan
  may miss it under a tight budget, and reports per fiscal year how many facilities judged Ⅲ are past
  the goal and the money missing to treat them that year (:class:`IiiGoal`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from gunmane.engine.deterioration import MarkovHazardModel, transition_matrix
from gunmane.engine.lcc.assets import prepare_assets
from gunmane.engine.lcc.errors import LccError
from gunmane.engine.lcc.params import STRATEGIES, LccParameters, Strategy
from gunmane.engine.lcc.simulate import discount_factors
from gunmane.engine.parameters import Parameter

__all__ = ["PLAN_COLUMNS", "IiiGoal", "IvFirstYear", "PlanGroup", "PlanParameters", "PlanResult", "budget_plan",
           "mixed_plan"]

FloatArray = np.ndarray

#: extra columns of the facilities frame used by the plan (besides ASSET_COLUMNS)
PLAN_COLUMNS = ("name", "municipality", "route_importance", "detour_km")
#: recorded grades of the two rules (定期点検要領: Ⅳ 緊急措置段階, Ⅲ 早期措置段階)
GRADE_IV, GRADE_III = 4, 3
MAX_CANDIDATES = 20_000
#: scipy.optimize.milp's status codes in the words of the plan's pages and workbook
SOLVER_STATUS_JA = {0: "最適な計画が見つかりました（相対ギャップの範囲内）",
                    1: "時間の上限で打ち切りました（その時点の最良の計画）"}


@dataclass(frozen=True)
class PlanParameters:
    """Risk and priority parameters of the plan, each with its source."""

    risk_iv_yen_per_year: Parameter
    risk_iii_yen_per_year: Parameter
    weight_per_detour_km: Parameter
    weight_per_age_year_over_50: Parameter
    deadline_years: Parameter
    time_limit_s: float = 30.0
    mip_rel_gap: float = 0.01

    def all(self) -> tuple[Parameter, ...]:
        return (self.risk_iv_yen_per_year, self.risk_iii_yen_per_year, self.weight_per_detour_km,
                self.weight_per_age_year_over_50, self.deadline_years)


@dataclass(frozen=True)
class IvFirstYear:
    """Facilities judged Ⅳ, all scheduled in the first plan year, and what the first year's budget lacks."""

    fiscal_year: int
    facilities: tuple[dict[str, Any], ...]   # facility, name, lg_code, municipality, cost_yen
    cost_yen: float                          # expected cost of treating all of them in the first year
    budget_yen: float | None                 # the first year's budget (None when levelling)
    shortfall_yen: float                     # max(0, cost − budget): money to add to the first year

    def as_json(self) -> dict[str, Any]:
        return {"fiscal_year": self.fiscal_year, "facilities": list(self.facilities), "cost_yen": self.cost_yen,
                "budget_yen": self.budget_yen, "shortfall_yen": self.shortfall_yen}


@dataclass(frozen=True)
class IiiGoal:
    """The goal 「Ⅲ は次回点検まで（5年以内）に措置」 and how far the plan falls short of it, per fiscal year.

    ``per_year`` has, for every plan year, ``remaining`` (facilities judged Ⅲ not treated by the end of
    that year), ``overdue`` (of those, the ones past the goal year) and ``shortfall_yen`` (their expected
    cost in that year minus the budget left unused that year, at least 0: the money missing that year
    to bring them back within the goal)."""

    deadline_fiscal_year: int
    facilities: int
    treated_within_goal: int
    late: tuple[dict[str, Any], ...]         # facilities judged Ⅲ not treated by the goal year (late or not in the plan)
    per_year: tuple[dict[str, Any], ...]

    @property
    def shortfall_yen(self) -> float:
        """The money missing in the goal year itself (the first year the goal is missed)."""
        row = next((r for r in self.per_year if r["fiscal_year"] == self.deadline_fiscal_year), None)
        return float(row["shortfall_yen"]) if row else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"deadline_fiscal_year": self.deadline_fiscal_year, "facilities": self.facilities,
                "treated_within_goal": self.treated_within_goal, "late": list(self.late),
                "shortfall_yen_in_goal_year": self.shortfall_yen, "per_year": list(self.per_year)}


@dataclass(frozen=True)
class PlanResult:
    """The plan, its budget curve, and the two comparisons."""

    table: pd.DataFrame        # one row per candidate: facility, lg_code, name, grade, measure, year (NaN = not in plan), cost_yen …
    budget: pd.DataFrame       # per fiscal year: cap, plan, unconstrained, worst_first
    totals: pd.DataFrame       # per method: cost_yen, risk_yen, objective_yen, treated, untreated, iv_facility_years
    mode: str
    strategy: Strategy
    start_year: int
    years: int
    solver: dict[str, Any]
    model: MarkovHazardModel
    params: LccParameters
    plan_params: PlanParameters
    excluded: dict[str, int]
    iv_first_year: IvFirstYear
    iii_goal: IiiGoal
    assumptions: tuple[str, ...] = field(default=())
    groups: tuple[PlanGroup, ...] = field(default=())    # a mixed plan's sectors (empty for the road plan)

    @property
    def iv_first_year_shortfall_yen(self) -> float:
        """Money the first year's budget lacks to treat every facility judged Ⅳ (0 when it suffices)."""
        return self.iv_first_year.shortfall_yen

    def as_json(self) -> dict[str, Any]:
        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for rec in frame.to_dict(orient="records"):
                clean = {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()}
                fy = clean.get("fiscal_year")
                if fy is not None:
                    clean["fiscal_year"] = int(fy)
                out.append(clean)
            return out

        return {
            "start_fiscal_year": self.start_year, "years": self.years, "mode": self.mode,
            "strategy": self.strategy.as_json(),
            "plan": rows(self.table),
            "budget_curve": rows(self.budget.reset_index()),
            "comparison": rows(self.totals.reset_index()),
            "solver": self.solver,
            "model": self.model.as_json(),
            "parameters": [p.as_json_brief() for p in (*self.params.scalar_parameters(), *self.plan_params.all())],
            "actions": [a.as_json() for a in self.params.actions],
            "excluded": self.excluded,
            "iv_first_year_shortfall_yen": self.iv_first_year.shortfall_yen,
            "iv_first_year": self.iv_first_year.as_json(),
            "iii_goal": self.iii_goal.as_json(),
            "assumptions": list(self.assumptions),
        } | ({"groups": [{"facility_types": list(g.params.facility_types), "scale": g.scale_id,
                          "scale_name": g.scale_name, "model": g.model.as_json(),
                          "parameters": [p.as_json_brief() for p in g.params.scalar_parameters()],
                          "actions": [a.as_json() for a in g.params.actions]} for g in self.groups]}
             if self.groups else {})


def _weights(df: pd.DataFrame, pp: PlanParameters) -> FloatArray:
    importance = pd.to_numeric(df["route_importance"], errors="coerce").fillna(1.0).clip(lower=0).to_numpy()
    detour = pd.to_numeric(df["detour_km"], errors="coerce").fillna(0.0).clip(lower=0).to_numpy()
    age = df["age"].fillna(0.0).clip(lower=0).to_numpy()
    return np.asarray(importance * (1.0 + pp.weight_per_detour_km.value * detour
                                    + pp.weight_per_age_year_over_50.value * np.maximum(age - 50.0, 0.0)))


@dataclass(frozen=True)
class PlanGroup:
    """Facilities of one sector for a mixed plan: their model on the sector's scale, parameters and trigger.

    ``trigger`` is the scale's index at which its manual calls for repair (Ⅲ of Ⅰ–Ⅳ, C of A–D, 緊急度Ⅱ …);
    ``bands`` the common urgency band (1–4) of each grade, used only to rank sectors side by side in the
    worst-first comparison."""

    facilities: pd.DataFrame
    model: MarkovHazardModel
    params: LccParameters
    trigger: int
    bands: tuple[int, ...]
    scale_id: str = ""
    scale_name: str = ""


@dataclass
class _Block:
    """The candidates of one group with everything the optimisation needs, in the group's own scale."""

    c: pd.DataFrame
    cost: FloatArray          # (k, Y+1) expected cost if treated in plan year t (Y = after the plan)
    risk_year: FloatArray     # (k, Y+1) weighted expected risk of a year untreated
    worst_p: FloatArray       # (k, Y+1) probability of the worst grade
    w: FloatArray
    iv: np.ndarray            # judged at the worst grade: first plan year
    iii: np.ndarray           # judged at the trigger (not the worst): within the deadline (goal)
    must: np.ndarray          # levelling: within the deadline
    rank: tuple[np.ndarray, np.ndarray]  # worst-first order keys (primary, secondary), larger = worse
    grade_labels: list[str]
    measures: list[str]
    worst_labels: list[str]
    trigger_labels: list[str]
    excluded: dict[str, int]


def _block(g: PlanGroup, pp: PlanParameters, years: int, road: bool, strategy: Strategy) -> _Block | None:
    """Candidates of one group (those judged at the strategy's trigger or worse) and their cost and risk by year."""
    model, params = g.model, g.params
    n_states = model.states.n
    assets = prepare_assets(g.facilities, model, facility_types=params.facility_types,
                            inspection_interval=int(params.inspection_interval_years.value))
    df = assets.frame
    extra = g.facilities.drop_duplicates("facility").set_index("facility")
    for col in PLAN_COLUMNS:
        df[col] = df["facility"].map(extra[col]) if col in extra.columns else np.nan
    trigger = min(strategy.trigger, n_states) - 1
    cand = np.flatnonzero(df["observed"].to_numpy() >= trigger)
    excluded = dict(assets.excluded)
    excluded["below_trigger"] = int(len(df) - cand.size)
    if cand.size == 0:
        return _Block(df.iloc[:0], np.zeros((0, years + 1)), np.zeros((0, years + 1)), np.zeros((0, years + 1)),
                      np.zeros(0), np.zeros(0, bool), np.zeros(0, bool), np.zeros(0, bool),
                      (np.zeros(0), np.zeros(0)), [], [], [], [], excluded)
    c = df.iloc[cand].reset_index(drop=True)
    p0 = assets.initial[cand]
    cost_by_state = _cost_by_state(c, params, n_states)                       # (k, J)
    pt = transition_matrix(model.theta, np.arange(years + 1, dtype=float))    # (Y+1, J, J)
    dist = np.einsum("kj,tjs->kts", p0, pt)                                   # (k, Y+1, J)
    cost = np.einsum("kts,ks->kt", dist, cost_by_state)                       # expected cost if acted in year t
    w = _weights(c, pp)
    recorded = pd.to_numeric(c["grade"], errors="coerce").to_numpy()
    observed = c["observed"].to_numpy()
    labels = model.states.labels
    if road:
        iii_mass = dist[:, :, n_states - 2] if n_states >= 3 else 0.0
        iv = recorded >= GRADE_IV
        iii = recorded == GRADE_III
        must = observed >= min(trigger, n_states - 2) if n_states >= 3 else observed >= trigger
        rank = (observed, recorded)
        worst_label, trigger_label = "Ⅳ", "Ⅲ"
    else:
        due = g.trigger - 1                                                   # 0-based state of the trigger grade
        iii_mass = dist[:, :, due:n_states - 1].sum(axis=2) if due < n_states - 1 else 0.0
        band = np.asarray([g.bands[int(o)] for o in observed], dtype=float)
        # first year only for a grade beyond the trigger (band 4, 緊急に措置); a scale whose trigger is its worst
        # grade (舗装 Ⅲ 修繕段階) has no such grade: its worst grade is a goal within the deadline
        iv = band >= 4
        iii = (observed >= due) & ~iv
        must = observed >= due
        rank = (band, band)
        worst_label, trigger_label = labels[-1], labels[due]
    risk_year = w[:, None] * (dist[:, :, n_states - 1] * pp.risk_iv_yen_per_year.value
                              + iii_mass * pp.risk_iii_yen_per_year.value)
    measures = []
    for ft, grade in zip(c["facility_type"], observed + 1, strict=True):
        table = params.action_table(ft)
        key = min((k for k in table if k >= grade), default=max(table))
        measures.append(table[key].action_ja)
    k = len(c)
    return _Block(c, cost, risk_year, dist[:, :, n_states - 1], w, iv, iii, must, rank,
                  [labels[int(s)] for s in observed], measures, [worst_label] * k, [trigger_label] * k, excluded)


def budget_plan(facilities: pd.DataFrame, model: MarkovHazardModel, params: LccParameters, plan_params: PlanParameters,
                *, start_year: int, years: int = 10, budget_yen: float | list[float] | None = None,
                mode: str = "budget", strategy: Strategy = STRATEGIES[1]) -> PlanResult:
    """A plan over ``years`` fiscal years from ``start_year`` under an annual budget (or levelled)."""
    road = PlanGroup(facilities, model, params, trigger=3, bands=(1, 2, 3, 4), scale_id="I-IV")
    return _plan([road], plan_params, start_year=start_year, years=years, budget_yen=budget_yen, mode=mode,
                 strategy=strategy, road=True)


def mixed_plan(groups: list[PlanGroup], plan_params: PlanParameters, *, start_year: int, years: int = 10,
               budget_yen: float | list[float] | None = None, mode: str = "budget",
               strategy_key: str = "early_corrective") -> PlanResult:
    """One plan for facilities of several sectors under one budget, each judged on its own scale.

    Every group's candidates (judged at its strategy's trigger grade or worse: ``strategy_key`` is taken on
    each scale by :func:`~gunmane.engine.lcc.params.strategies_for`) enter the same 0/1 program; the worst
    grade of every scale goes in the first year, the trigger grade within the deadline as a goal."""
    from gunmane.engine.lcc.params import strategies_for

    if not groups:
        raise LccError("no_facilities", "計画する施設の種類がありません。", "no facility groups")
    pairs = []
    for g in groups:
        options = strategies_for(g.model.states.labels, g.trigger)
        pairs.append((g, next((s for s in options if s.key == strategy_key), options[-1])))
    return _plan([g for g, _ in pairs], plan_params, start_year=start_year, years=years, budget_yen=budget_yen,
                 mode=mode, strategy=pairs[0][1], road=False, strategies=[s for _, s in pairs])


def _plan(groups: list[PlanGroup], plan_params: PlanParameters, *, start_year: int, years: int,
          budget_yen: float | list[float] | None, mode: str, strategy: Strategy, road: bool,
          strategies: list[Strategy] | None = None) -> PlanResult:
    if mode not in ("budget", "level"):
        raise LccError("bad_mode", f"計画の方式「{mode}」は budget（予算上限）か level（平準化）です。", "mode must be budget or level")
    if not 1 <= years <= 30:
        raise LccError("bad_years", f"計画期間 {years} 年は 1〜30 年で指定してください。", "years must be 1..30")
    caps = _caps(budget_yen, years) if mode == "budget" else None
    blocks = [_block(g, plan_params, years, road, s) for g, s in zip(groups, strategies or [strategy] * len(groups),
                                                                     strict=True)]
    found = [b for b in blocks if b is not None and len(b.c)]
    excluded: dict[str, int] = {}
    for b in blocks:
        if b is not None:
            for key, v in b.excluded.items():
                excluded[key] = excluded.get(key, 0) + v
    model, params = groups[0].model, groups[0].params
    n_states = model.states.n
    trigger = min(strategy.trigger, n_states) - 1
    if not found:
        what = f"健全性{['Ⅰ', 'Ⅱ', 'Ⅲ', 'Ⅳ'][trigger]}以上" if road else "各分野の対策の目安の区分以上"
        raise LccError("no_candidates", f"対策の対象（{what}と判定）の施設がありません。",
                       "no facility at or above the trigger grade")
    c = pd.concat([b.c for b in found], ignore_index=True) if len(found) > 1 else found[0].c
    if len(c) > MAX_CANDIDATES:
        raise LccError("too_many", f"対象施設が {len(c):,} 件あり、一度に計画できる上限 {MAX_CANDIDATES:,} 件を超えます。"
                       "団体または群ごとに計画してください。", "too many candidates")

    def cat(attr: str) -> Any:
        parts = [getattr(b, attr) for b in found]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    cost, risk_year, worst_p, w = cat("cost"), cat("risk_year"), cat("worst_p"), cat("w")
    iv, iii, must = cat("iv"), cat("iii"), cat("must")
    rank = (np.concatenate([b.rank[0] for b in found]), np.concatenate([b.rank[1] for b in found]))
    info = {k: [x for b in found for x in getattr(b, k)] for k in ("grade_labels", "measures", "worst_labels",
                                                                  "trigger_labels")}
    disc = discount_factors(params.discount_rate.value, years + 1)
    # risk carried before treatment in year y: Σ_{t<y} d_t risk_t ; never: all plan years
    carried = np.concatenate([np.zeros((len(c), 1)), np.cumsum(risk_year[:, :years] * disc[:years], axis=1)], axis=1)
    value = cost * disc[None, :] + carried                                    # (k, Y+1): y = Y means "after the plan"
    deadline = max(1, min(int(plan_params.deadline_years.value), years))
    iv_cost = float(cost[iv, 0].sum())
    caps_used: FloatArray | None = caps
    if caps is not None and iv.any():
        # the first year pays for every Ⅳ even beyond its budget; nothing else is done that year then
        caps_used = caps.copy()
        caps_used[0] = max(caps[0], iv_cost * (1 + 1e-9) + 1e-6)
    gain = value[:, :years] - value[:, [years]]                               # negative = better than never
    t0 = time.perf_counter()
    x, solver = _solve(value, cost[:, :years], caps_used, mode, must, deadline, plan_params, iv)
    solver["seconds"] = round(time.perf_counter() - t0, 3)
    unconstrained = _unconstrained(gain)
    unconstrained[iv] = 0
    chosen = {"plan": x, "unconstrained": unconstrained,
              "worst_first": _worst_first(c, w, cost[:, :years], caps, iv, rank)}
    table = _table(c, x, cost, start_year, w, deadline, info, iv, iii)
    budget = pd.DataFrame({"cap": caps if caps is not None else np.full(years, np.nan)},
                          index=pd.Index(start_year + np.arange(years), name="fiscal_year"))
    totals = []
    for name, pick in chosen.items():
        spend = np.array([cost[pick == y, y].sum() for y in range(years)])
        budget[name] = spend
        treated = pick >= 0
        y_idx = np.where(treated, pick, years)
        rows = np.arange(len(c))
        iv_years = np.array([worst_p[i, :y_idx[i]].sum() for i in rows])
        totals.append({"method": name, "cost_yen": float(spend.sum()),
                       "discounted_cost_yen": float((cost[rows, y_idx] * disc[y_idx])[treated].sum()),
                       "risk_yen": float(carried[rows, y_idx].sum()),
                       "objective_yen": float(value[rows, y_idx].sum()),
                       "treated": int(treated.sum()), "untreated": int((~treated).sum()),
                       "iv_facility_years": float(iv_years.sum()),
                       "iii_late": int((iii & (y_idx >= deadline)).sum()),
                       "peak_year_yen": float(spend.max()) if len(spend) else 0.0})
    iv_first = IvFirstYear(
        fiscal_year=start_year, facilities=tuple(_facility_rows(c, iv, cost[:, 0])), cost_yen=iv_cost,
        budget_yen=float(caps[0]) if caps is not None else None,
        shortfall_yen=max(0.0, iv_cost - float(caps[0])) if caps is not None else 0.0)
    goal = _iii_goal(c, iii, x, cost[:, :years], caps, budget["plan"].to_numpy(), start_year, deadline)
    rules: tuple[str, ...]
    if road:
        rules = (
            "健全性Ⅳ（緊急措置段階）と判定された施設は、どの方法でも計画の初年度に対策する（予算が足りないときも先送りせず、"
            "不足額を示す）。",
            f"健全性Ⅲ（早期措置段階）は次回点検まで（{deadline}年以内、{start_year + deadline - 1}年度まで）に対策する目標とし、"
            "間に合わない施設と不足額を年度ごとに示す。")
        risk_text = (f"未対策の施設は毎年 重み ×（P(Ⅳ)×{plan_params.risk_iv_yen_per_year.value:,.0f} 円 ＋ P(Ⅲ)×"
                     f"{plan_params.risk_iii_yen_per_year.value:,.0f} 円）のリスクを負う（{plan_params.risk_iv_yen_per_year.source}）。")
        hazard_text: tuple[str, ...] = (f"劣化ハザード：{model.source}",)
        notes = params.notes
    else:
        rules = (
            "各分野の尺度で対策の目安より悪い区分（共通の緊急度区分 4 に当たる区分：道路Ⅳ、下水道 緊急度Ⅰ、公園 D など）と判定された"
            "施設は、計画の初年度に対策する（予算が足りないときも先送りせず、不足額を示す）。",
            f"各分野の対策の目安の区分（要領が修繕・更新を求める区分）と判定された施設は {deadline}年以内"
            f"（{start_year + deadline - 1}年度まで）に対策する目標とし、間に合わない施設と不足額を年度ごとに示す。",
            "分野を並べた「悪い順」の比較は共通の緊急度区分（分野横断の比較用）で順位をつける。")
        risk_text = (f"未対策の施設は毎年 重み ×（P(最も悪い区分)×{plan_params.risk_iv_yen_per_year.value:,.0f} 円 ＋ "
                     f"P(対策の目安の区分〜その次に悪い区分)×{plan_params.risk_iii_yen_per_year.value:,.0f} 円）のリスクを負う"
                     f"（{plan_params.risk_iv_yen_per_year.source}）。")
        hazard_text = tuple(f"劣化ハザード（{g.scale_name or g.scale_id}）：{g.model.source}" for g in groups)
        notes = tuple(n for g in groups for n in g.params.notes)
    assumptions = (
        *hazard_text,
        "施設 f を y 年度に対策する費用は、前回点検の区分から y 年度までの劣化を見込んだ期待値（区分ごとの対策費の確率加重）。"
        if not road else
        "施設 f を y 年度に対策する費用は、前回点検の健全性から y 年度までの劣化を見込んだ期待値（健全性ごとの対策費の確率加重）。",
        risk_text,
        "重み ＝ 路線の重要度 ×（1 ＋ 迂回距離(km)×" f"{plan_params.weight_per_detour_km.value:g} ＋ 50年を超える経過年数×"
        f"{plan_params.weight_per_age_year_over_50.value:g}）。",
        "計画期間内に対策しない施設は、期間の翌年度に対策する費用と期間中のリスクを負うとして比較する。",
        *rules,
        f"割引率 {params.discount_rate.value:.1%}（{params.discount_rate.source}）。予算は割り引かない名目額で比較。",
        *notes,
    )
    return PlanResult(table=table, budget=budget, totals=pd.DataFrame(totals).set_index("method"), mode=mode,
                      strategy=strategy, start_year=start_year, years=years, solver=solver, model=model, params=params,
                      plan_params=plan_params, excluded=excluded, iv_first_year=iv_first, iii_goal=goal,
                      assumptions=assumptions, groups=() if road else tuple(groups))


def _caps(budget_yen: float | list[float] | None, years: int) -> FloatArray:
    if budget_yen is None:
        raise LccError("no_budget", "年間の予算（円）を指定してください（平準化なら mode=level）。", "a budget is required")
    caps = np.asarray([budget_yen] * years if np.isscalar(budget_yen) else budget_yen, dtype=float)
    if caps.shape != (years,) or not np.all(np.isfinite(caps)) or (caps < 0).any():
        raise LccError("bad_budget", f"予算は 0 以上の金額を {years} 年分（または1つ）指定してください。", "invalid budget")
    return caps


def _cost_by_state(c: pd.DataFrame, params: LccParameters, n_states: int) -> FloatArray:
    out = np.zeros((len(c), n_states))
    area = c["area_used"].to_numpy()
    for ft in c["facility_type"].unique():
        rows = (c["facility_type"] == ft).to_numpy()
        table = params.action_table(ft)
        for s in range(n_states):
            # the action of the grade it is in; grades without an action (I) cost the next defined one
            grades = [g for g in sorted(table) if g >= s + 1] or [max(table)]
            a = table[grades[0]]
            out[rows, s] = a.fixed_yen + a.per_m2_yen * area[rows]
    return out


def _solve(value: FloatArray, cost: FloatArray, caps: FloatArray | None, mode: str, must: np.ndarray,
           deadline: int, pp: PlanParameters, iv: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """x_fy for y = 0 … Y−1 and y = Y ("not in the plan"), one per facility; the objective is the whole
    discounted cost + risk, so HiGHS' relative gap is a share of what is minimised.  x_f0 = 1 for Ⅳ."""
    k, cols = value.shape
    years = cols - 1
    nx = k * cols
    # to the yen: the hazard model's matrices differ between CPUs in their last bits, and within the relative gap
    # HiGHS' branch and bound can follow such a difference to another plan; whole yen give every machine the same
    # programme (and so the same plan). Costs are rounded up, so a plan within a year's rounded cap is within the
    # cap itself; the first year's cap still admits every Ⅳ (the caller raised it to their exact cost)
    value, cost = np.round(value), np.ceil(cost)
    if caps is not None and iv.any():
        caps = caps.copy()
        caps[0] = max(float(caps[0]), float(cost[iv, 0].sum()))
    one_each = sparse.csr_matrix((np.ones(nx), (np.repeat(np.arange(k), cols), np.arange(nx))), shape=(k, nx))
    idx = (np.arange(k)[:, None] * cols + np.arange(years)[None, :]).ravel()
    spend = sparse.csr_matrix((cost.ravel(), (np.tile(np.arange(years), k), idx)), shape=(years, nx))
    objective = value.ravel()
    integrality = np.ones(nx)
    lb, ub = np.zeros(nx), np.ones(nx)
    lb[np.flatnonzero(iv) * cols] = 1.0                    # Ⅳ: the first plan year, whatever the budget
    if mode == "budget":
        assert caps is not None
        constraints = [LinearConstraint(one_each, 1, 1), LinearConstraint(spend, -np.inf, caps)]
    else:
        # levelling: one extra continuous variable P (the peak); IV and III (the must-do grades) within the deadline
        d = deadline
        due_idx = (np.arange(k)[:, None] * cols + np.arange(d)[None, :]).ravel()
        due = sparse.csr_matrix((np.ones(k * d), (np.repeat(np.arange(k), d), due_idx)), shape=(k, nx))
        peak = sparse.hstack([spend, -sparse.csr_matrix(np.ones((years, 1)))]).tocsr()
        constraints = [LinearConstraint(sparse.hstack([one_each, sparse.csr_matrix((k, 1))]).tocsr(), 1, 1),
                       LinearConstraint(sparse.hstack([due, sparse.csr_matrix((k, 1))]).tocsr(),
                                        np.where(must, 1.0, 0.0), np.inf),
                       LinearConstraint(peak, -np.inf, 0)]
        objective = np.append(objective, years)
        integrality = np.append(integrality, 0)
        lb, ub = np.append(lb, 0.0), np.append(ub, np.inf)
    res = milp(objective, constraints=constraints, integrality=integrality, bounds=Bounds(lb, ub),
               options={"time_limit": pp.time_limit_s, "mip_rel_gap": pp.mip_rel_gap, "disp": False})
    if res.x is None:
        raise LccError("infeasible", "条件を満たす計画がありません（期限内に対策すべき施設に対して予算・期間が足りません）。",
                       f"no feasible plan ({res.message})")
    xs = np.rint(res.x[:nx]).reshape(k, cols)
    chosen = xs.argmax(axis=1)
    pick = np.where(chosen < years, chosen, -1)
    info = {"solver": "HiGHS (scipy.optimize.milp)", "status": int(res.status), "message": str(res.message),
            "message_ja": SOLVER_STATUS_JA.get(int(res.status), "解法が途中で止まりました（その時点の最良の計画）"),
            "objective": float(res.fun), "mip_gap": float(getattr(res, "mip_gap", 0.0) or 0.0),
            "dual_bound": float(getattr(res, "mip_dual_bound", res.fun) or res.fun),
            "variables": int(len(objective)), "candidates": int(k)}
    return pick, info


def _unconstrained(gain: FloatArray) -> np.ndarray:
    best = gain.argmin(axis=1)
    return np.where(gain[np.arange(len(gain)), best] < 0, best, -1)


def _worst_first(c: pd.DataFrame, w: FloatArray, cost: FloatArray, caps: FloatArray | None,
                 iv: np.ndarray, keys: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The usual rule: worst grade first, then priority weight, then age; fill each year's budget in that order.
    Facilities judged Ⅳ go into the first year whatever the budget, as in the plan.  ``rank``: the grade keys
    (model state and recorded grade; across sectors the common urgency band)."""
    k, years = cost.shape
    primary, secondary = keys
    order = np.lexsort((-c["age"].fillna(0).to_numpy(), -w, -np.nan_to_num(secondary.astype(float)), -primary))
    pick = np.full(k, -1)
    pick[iv] = 0
    rest = [i for i in order if not iv[i]]
    if caps is None:  # levelling has no cap: spread the ranked list evenly over the years
        per_year = math.ceil(k / years)
        for rank, i in enumerate(rest, start=int(iv.sum())):
            pick[i] = min(rank // per_year, years - 1)
        return pick
    for y in range(years):
        left = caps[y] - (cost[iv, 0].sum() if y == 0 else 0.0)
        for i in rest:
            if pick[i] < 0 and cost[i, y] <= left:
                pick[i] = y
                left -= cost[i, y]
    return pick


def _facility_rows(c: pd.DataFrame, rows: np.ndarray, cost: FloatArray) -> list[dict[str, Any]]:
    """facility, name, lg_code, municipality and a cost for the selected rows (for the reports)."""
    out = []
    for i in np.flatnonzero(rows):
        muni = c["municipality"].iloc[i] if "municipality" in c else None
        out.append({"facility": _plain(c["facility"].iloc[i]), "name": str(c["name"].iloc[i] or ""),
                    "lg_code": str(c["lg_code"].iloc[i]),
                    "municipality": None if muni is None or (isinstance(muni, float) and math.isnan(muni)) else str(muni),
                    "cost_yen": float(cost[i])})
    return out


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _iii_goal(c: pd.DataFrame, iii: np.ndarray, pick: np.ndarray, cost: FloatArray, caps: FloatArray | None,
              spend: FloatArray, start_year: int, deadline: int) -> IiiGoal:
    """Facilities judged Ⅲ against the goal 「deadline 年以内」, per fiscal year (see :class:`IiiGoal`)."""
    years = cost.shape[1]
    done_by = np.where(pick >= 0, pick, years)              # the year index of treatment (years = never)
    per_year = []
    for y in range(years):
        remaining = iii & (done_by > y)
        overdue = remaining if y >= deadline - 1 else np.zeros_like(remaining)
        unused = max(0.0, float(caps[y] - spend[y])) if caps is not None else 0.0
        need = float(cost[overdue, y].sum())
        per_year.append({"fiscal_year": start_year + y, "remaining": int(remaining.sum()),
                         "overdue": int(overdue.sum()), "cost_yen": need,
                         "shortfall_yen": max(0.0, need - unused) if overdue.any() else 0.0})
    late = iii & (done_by >= deadline)
    return IiiGoal(deadline_fiscal_year=start_year + deadline - 1, facilities=int(iii.sum()),
                   treated_within_goal=int((iii & (done_by < deadline)).sum()),
                   late=tuple(_facility_rows(c, late, cost[:, min(deadline, years) - 1])), per_year=tuple(per_year))


def _table(c: pd.DataFrame, pick: np.ndarray, cost: FloatArray, start_year: int, w: FloatArray, deadline: int,
           info: dict[str, list[str]], iv: np.ndarray, iii: np.ndarray) -> pd.DataFrame:
    treated = pick >= 0
    goal_year = start_year + deadline - 1
    notes = [f"{worst}：初年度に必ず対策" if is_iv
             else (f"{trig}：目標（{goal_year}年度まで）に間に合わない" if is_iii and not (0 <= p < deadline) else "")
             for is_iv, is_iii, p, worst, trig in zip(iv, iii, pick, info["worst_labels"], info["trigger_labels"],
                                                       strict=True)]
    codes = c["lg_code"].astype(str).to_numpy()
    named = c["municipality"].astype(object).to_numpy() if "municipality" in c else np.full(len(c), None)
    municipality = np.array([str(n) if isinstance(n, str) and n else code for n, code in zip(named, codes, strict=True)],
                            dtype=object)
    out = pd.DataFrame({
        "facility": c["facility"].to_numpy(),
        "lg_code": c["lg_code"].to_numpy(),
        "municipality": municipality,
        "name": c["name"].fillna("").astype(str).to_numpy() if "name" in c else "",
        "facility_type": c["facility_type"].to_numpy(),
        "grade": info["grade_labels"],
        "measure": info["measures"],
        "fiscal_year": np.where(treated, start_year + pick, np.nan),
        "cost_yen": np.where(treated, cost[np.arange(len(c)), np.maximum(pick, 0)], np.nan),
        "cost_now_yen": cost[:, 0],
        "priority_weight": w,
        "area_m2": c["area_used"].to_numpy(),
        "note": notes,
    })
    return out.sort_values(["fiscal_year", "grade", "priority_weight"], ascending=[True, False, False],
                           na_position="last").reset_index(drop=True)
