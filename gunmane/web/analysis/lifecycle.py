"""Deterioration, life-cycle cost and repair plan for a scope, from the database (used by CLI and web).

The engine functions take typed frames; this module reads the scope's ledger, derives the frames
(today's grade and years since inspection, deck area, route importance and detour from the facility
attributes) and caches results by the data fingerprint and the parameters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from django.utils import timezone

from gunmane.engine.calendar import fiscal_year
from gunmane.engine.deterioration import (
    DeteriorationError,
    FitResult,
    StateSpace,
    compare_pooling,
    fit,
    fit_pooled,
    pairs_from_histories,
)
from gunmane.engine.indicator_types import LedgerFrames, Scope, ScopeKind
from gunmane.engine.lcc import STRATEGIES, LccParameters, LccResult, life_cycle_cost, strategies_for
from gunmane.engine.lcc.hazards import HazardChoice, complete_hazards, scale_hazards
from gunmane.engine.planning import PlanGroup, PlanResult, RenewalLine, budget_plan, mixed_plan, renewal_line
from gunmane.engine.scales import Scale
from gunmane.io.shipped.lcc import LccDefaults, load_lcc_parameters
from gunmane.io.values.scales import scale_for_facility_type
from gunmane.web.analysis import unit_prices
from gunmane.web.registry import frames
from gunmane.web.registry.models import Facility, Municipality

__all__ = ["ScopeLedger", "SectorRun", "deterioration_summary", "mixed_plan_for_scope", "sector_lcc_for_scope", "sector_run", "facility_frame", "forget_fits", "hazard_choice", "lcc_for_scope", "plan_for_scope", "scope_ledger", "start_fiscal_year"]

#: attribute keys (as imported from a ledger's free columns) read for the plan's priority weight
IMPORTANCE_KEYS = ("route_importance", "路線の重要度", "重要度")
EMERGENCY_KEYS = ("緊急輸送道路", "emergency_route")
DETOUR_KEYS = ("detour_km", "迂回距離", "迂回距離(km)", "迂回路延長(km)")
EMERGENCY_IMPORTANCE = 2.0  # assumption: a bridge on an emergency transport road counts double


@dataclass(frozen=True)
class ScopeLedger:
    scope: Scope
    codes: tuple[str, ...] | None
    ledger: LedgerFrames
    key: tuple[Any, ...]


def start_fiscal_year(today: date | None = None) -> int:
    """The current Japanese fiscal year (April–March)."""
    today = today or timezone.localdate()
    return fiscal_year(today)


def scope_ledger(scope: Scope) -> ScopeLedger:
    key = frames.fingerprint()
    if scope.kind == ScopeKind.NATIONAL:
        codes = None
    else:
        ref = frames.reference_frames(key)
        members = set(scope.members) | ({scope.code} if scope.kind == ScopeKind.MUNICIPALITY else set())
        if scope.kind == ScopeKind.PREFECTURE:
            members |= set(ref.municipalities.index[(ref.municipalities["pref_code"] == scope.code)
                                                    & (ref.municipalities["kind"] == "prefecture")])
        codes = tuple(sorted(members))
    return ScopeLedger(scope, codes, frames.ledger_frames(codes, key), key)


def _pairs(sl: ScopeLedger, facility_types: tuple[str, ...] | None, member: bool = False) -> Any:
    fac = sl.ledger.facilities
    ins = sl.ledger.inspections
    if facility_types is not None:
        keep = set(fac.loc[fac["facility_type"].isin(facility_types), "facility"])
        ins = ins[ins["facility"].isin(keep)]
    return pairs_from_histories(ins, sl.ledger.measures, facilities=fac,
                                member_column="lg_code" if member else None)


def hazard_choice(sl: ScopeLedger, defaults: LccDefaults) -> HazardChoice:
    types = defaults.params.facility_types
    return frames.cached("hazards", sl.key, (sl.scope, types, defaults.hazards),
                         lambda: complete_hazards(_pairs(sl, types), defaults.hazards, scope_label=sl.scope.name))


Report = Callable[[int, int, str], None]


def deterioration_summary(sl: ScopeLedger, *, merge_iv: bool, facility_type: str | None = "bridge",
                          pool: bool = False, progress: Report | None = None) -> dict[str, Any]:
    """The fit for the deterioration page: result or the identifiability error, pooled comparison for groups.
    ``progress(step, steps, stage)`` reports each stage (the cross-validation fold by fold)."""
    report = progress or (lambda step, steps, stage: None)
    folds = 5
    steps = 3 + folds if pool else 2

    def build() -> dict[str, Any]:
        # the type's own scale (a grade is the index on it); the road scale keeps I–IV and the merge of IV into III
        own = scale_for_facility_type(facility_type) if facility_type else None
        states = (StateSpace.grades(merge_iv=merge_iv) if own is None or own.id == "I-IV"
                  else StateSpace.from_scale(own))
        types = (facility_type,) if facility_type else None
        report(0, steps, "点検ペアを作っています")
        pairs = _pairs(sl, types, member=pool)
        out: dict[str, Any] = {"pairs": pairs, "fit": None, "error": None, "pooled": None, "comparison": None}
        report(1, steps, "劣化ハザードを推定しています")
        try:
            result: FitResult = fit(pairs, states=states)
            out["fit"] = result
        except DeteriorationError as exc:
            out["error"] = exc
            return out
        if pool:
            report(2, steps, "構成団体ごとの差を含めて推定しています")
            try:
                out["pooled"] = fit_pooled(pairs, states=states)
            except DeteriorationError as exc:
                out["pool_error"] = exc
            report(3, steps, f"推定のよさを確かめています（交差検証 0/{folds}）")
            try:
                out["comparison"] = compare_pooling(
                    pairs, member_column="member", states=states, k=folds,
                    progress=lambda done, k: report(3 + done, steps, f"推定のよさを確かめています（交差検証 {done}/{k}）"))
            except DeteriorationError as exc:  # a fold can lack a grade's transitions
                out["comparison_error"] = exc
        return out

    ident = (sl.key, (sl.scope, merge_iv, facility_type, pool))
    with _jobs_lock:
        done = _ready.get(ident)
    if done is not None:
        return done
    value = frames.cached("deterioration", sl.key, ident[1], build)
    with _jobs_lock:
        for stale in [r for r in _ready if r[0] != sl.key]:  # an older data generation
            del _ready[stale]
        while len(_ready) >= MAX_READY_FITS:
            del _ready[next(iter(_ready))]
        _ready[ident] = value
    return value


def forget_fits() -> None:
    """Drop the finished fits kept for the page (with :func:`gunmane.web.registry.frames.clear_cache`)."""
    with _jobs_lock:
        _ready.clear()


_jobs_lock = threading.Lock()
_ready: dict[tuple[Any, ...], dict[str, Any]] = {}
#: finished fits kept so that a second view is served at once (a few scopes × merge or not)
MAX_READY_FITS = 32


def _attribute(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in attrs and attrs[k] not in (None, ""):
            return attrs[k]
    return None


def _number(value: Any) -> float:
    try:
        return float(str(value).replace(",", "").replace("km", "").strip())
    except (TypeError, ValueError):
        return float("nan")


def facility_frame(sl: ScopeLedger, as_of: date | None = None) -> pd.DataFrame:
    """The engine's facility frame (ASSET_COLUMNS + name, municipality, route_importance, detour_km) for the scope."""
    as_of = as_of or timezone.localdate()
    fac = sl.ledger.facilities
    if fac.empty:
        return pd.DataFrame(columns=["facility", "lg_code", "facility_type", "area_m2", "grade",
                                     "years_since_inspection", "age", "name", "municipality", "route_importance",
                                     "detour_km"])
    info = pd.DataFrame.from_records(
        Facility.objects.filter(id__in=fac["facility"].tolist()).values_list("id", "facility_id", "name", "route",
                                                                              "attributes"),
        columns=["facility", "facility_id", "name", "route", "attributes"]).set_index("facility")
    attrs = info["attributes"].reindex(fac["facility"]).to_numpy()
    importance, detour = [], []
    for a in attrs:
        a = a if isinstance(a, dict) else {}
        imp = _number(_attribute(a, IMPORTANCE_KEYS))
        if np.isnan(imp):
            flag = _attribute(a, EMERGENCY_KEYS)
            imp = EMERGENCY_IMPORTANCE if flag not in (None, "", "0", "否", "いいえ", False) else 1.0
        importance.append(imp)
        detour.append(_number(_attribute(a, DETOUR_KEYS)))
    ts = pd.Timestamp(as_of)
    names = info["name"].reindex(fac["facility"]).fillna("").to_numpy()
    ids = info["facility_id"].reindex(fac["facility"]).fillna("").to_numpy()
    # the plan table and its downloads name the municipality, not its code
    muni_names = dict(Municipality.objects.filter(lg_code__in=set(fac["lg_code"])).values_list("lg_code", "name"))
    return pd.DataFrame({
        "facility": fac["facility"].to_numpy(),
        "lg_code": fac["lg_code"].to_numpy(),
        "facility_type": fac["facility_type"].to_numpy(),
        "area_m2": fac["area_m2"].to_numpy(),
        "grade": fac["latest_grade"].to_numpy(),
        "years_since_inspection": ((ts - fac["latest_inspected_on"]).dt.days / 365.25).to_numpy(),
        "age": (start_fiscal_year(as_of) - fac["built_year"]).to_numpy(),
        "name": [f"{n}（{i}）" if i else n for n, i in zip(names, ids, strict=True)],
        "municipality": [muni_names.get(str(c), str(c)) for c in fac["lg_code"]],
        "route_importance": importance,
        "detour_km": detour,
    })


def _defaults(overrides: dict[str, float | None] | None) -> LccDefaults:
    return load_lcc_parameters().with_overrides(**(overrides or {}))


def lcc_for_scope(scope: Scope, *, overrides: dict[str, float | None] | None = None,
                  defaults: LccDefaults | None = None, monte_carlo: bool = True) -> tuple[LccResult, HazardChoice]:
    d = unit_prices.lcc_defaults_for_scope(scope, defaults or _defaults(overrides))
    sl = scope_ledger(scope)
    choice = hazard_choice(sl, d)
    start = start_fiscal_year()

    def build() -> LccResult:
        return life_cycle_cost(facility_frame(sl), choice.model, d.params, start_year=start, monte_carlo=monte_carlo)

    result = frames.cached("lcc", sl.key, (scope, d.params, choice.model, start, monte_carlo), build)
    return result, choice


def plan_for_scope(scope: Scope, *, budget_yen: float | None, years: int = 10, mode: str = "budget",
                   strategy: str = "early_corrective", defaults: LccDefaults | None = None,
                   overrides: dict[str, float | None] | None = None) -> tuple[PlanResult, HazardChoice]:
    d = unit_prices.lcc_defaults_for_scope(scope, defaults or _defaults(overrides))
    sl = scope_ledger(scope)
    choice = hazard_choice(sl, d)
    strat = next(s for s in STRATEGIES if s.key == strategy)
    start = start_fiscal_year()

    def build() -> PlanResult:
        return budget_plan(facility_frame(sl), choice.model, d.params, d.plan, start_year=start, years=years,
                           budget_yen=budget_yen, mode=mode, strategy=strat)

    result = frames.cached("plan", sl.key, (scope, d.params, d.plan, choice.model, start, budget_yen, years, mode,
                                            strategy), build)
    return result, choice


@dataclass(frozen=True)
class SectorRun:
    """One sector's facility type ready for the LCC and plan engines: its scale, parameters, hazards and facilities."""

    facility_type: str
    scale: Scale
    params: LccParameters
    choice: HazardChoice
    facilities: pd.DataFrame


def sector_frame(sl: ScopeLedger, facility_type: str, unit: str) -> pd.DataFrame:
    """The facility frame of one type, ``area_m2`` holding the quantity its costs are per: m² (deck, pavement),
    m (pipe length, the ledger's 延長) or 1 per unit (遊具 1基)."""
    frame = facility_frame(sl)
    frame = frame[frame["facility_type"] == facility_type].reset_index(drop=True)
    if unit == "m":
        length = sl.ledger.facilities.set_index("facility")["length_m"]
        frame["area_m2"] = frame["facility"].map(length).to_numpy(dtype=float)
    elif unit == "基":
        frame["area_m2"] = 1.0
    return frame


def sector_run(sl: ScopeLedger, facility_type: str, d: LccDefaults) -> SectorRun:
    """Scale, parameters, hazards (the scope's fit on the type's own scale, else the shipped defaults) and facilities."""
    scale = scale_for_facility_type(facility_type)
    params = d.for_type(facility_type)
    states = StateSpace.from_scale(scale)
    defaults = d.sectors.hazards_of(scale.id)
    choice = frames.cached("sector_hazards", sl.key, (sl.scope, facility_type, defaults),
                           lambda: scale_hazards(_pairs(sl, (facility_type,)), states, defaults,
                                                 scope_label=sl.scope.name))
    unit = params.actions[0].unit if params.actions else "m2"
    return SectorRun(facility_type, scale, params, choice, sector_frame(sl, facility_type, unit))


def sector_lcc_for_scope(scope: Scope, facility_type: str, *, defaults: LccDefaults | None = None,
                         overrides: dict[str, float | None] | None = None,
                         monte_carlo: bool = True) -> tuple[LccResult, SectorRun]:
    """The strategy comparison of one sector's facility type on its own scale (舗装 Ⅰ〜Ⅲ, 管渠 緊急度, 遊具 A〜D …)."""
    d = defaults or _defaults(overrides)
    sl = scope_ledger(scope)
    run = sector_run(sl, facility_type, d)
    start = start_fiscal_year()
    assert run.scale.trigger is not None
    strategies = strategies_for(run.choice.model.states.labels, run.scale.trigger)

    def build() -> LccResult:
        return life_cycle_cost(run.facilities, run.choice.model, run.params, start_year=start, strategies=strategies,
                               monte_carlo=monte_carlo)

    result = frames.cached("sector_lcc", sl.key, (scope, facility_type, run.params, run.choice.model, start,
                                                  monte_carlo), build)
    return result, run


def _water_line(sl: ScopeLedger, code: str, d: LccDefaults, start: int, years: int) -> RenewalLine | None:
    """The renewal line of a type without grades (水道管路) from the shipped Weibull life, or None without assets."""
    from gunmane.engine.survival import WeibullModel

    r = d.sectors.renewal(code)
    if r is None:
        return None
    fac = sl.ledger.facilities
    rows = fac[fac["facility_type"] == code]
    if rows.empty:
        return None
    frame = pd.DataFrame({"age": (start - rows["built_year"]).to_numpy(), "length_m": rows["length_m"].to_numpy()})
    model = WeibullModel(float(r.shape.value), float(r.scale_years.value))
    return renewal_line(frame, model, r.unit_cost, start_year=start, years=years, facility_type=code,
                        model_source=f"ワイブル分布 形状 {r.shape.value:g}・尺度 {r.scale_years.value:g}年（{r.shape.source}）")


def mixed_plan_for_scope(scope: Scope, facility_types: tuple[str, ...], *, budget_yen: float | None, years: int = 10,
                         mode: str = "budget", strategy: str = "early_corrective",
                         defaults: LccDefaults | None = None) -> tuple[PlanResult, tuple[RenewalLine, ...]]:
    """One plan for several sectors under one budget: road structures, 舗装, 管渠, 遊具 … each on its own scale;
    types without grades (水道管路) as a renewal line the budget pays first (the optimisation gets what is left)."""
    base = defaults or _defaults(None)
    d = unit_prices.lcc_defaults_for_scope(scope, base)
    sl = scope_ledger(scope)
    start = start_fiscal_year()
    groups: list[PlanGroup] = []
    lines: list[RenewalLine] = []
    road_types = tuple(t for t in facility_types if t in d.params.facility_types)
    if road_types:
        choice = hazard_choice(sl, d)
        frame = facility_frame(sl)
        groups.append(PlanGroup(frame, choice.model, d.params, trigger=3, bands=(1, 2, 3, 4), scale_id="I-IV",
                                scale_name="健全性 Ⅰ〜Ⅳ（道路構造物）"))
    for code in facility_types:
        if code in road_types:
            continue
        if d.sectors.renewal(code) is not None:
            line = _water_line(sl, code, d, start, years)
            if line is not None:
                lines.append(line)
            continue
        run = sector_run(sl, code, d)
        if run.facilities.empty:
            continue
        assert run.scale.trigger is not None
        groups.append(PlanGroup(run.facilities, run.choice.model, run.params, trigger=run.scale.trigger,
                                bands=tuple(g.band for g in run.scale.grades), scale_id=run.scale.id,
                                scale_name=run.scale.name))
    caps: float | list[float] | None = budget_yen
    if budget_yen is not None and lines:
        need = np.sum([line.table["cost_yen"].to_numpy(dtype=float) for line in lines], axis=0)
        caps = [max(0.0, float(budget_yen) - float(x)) for x in need]
    result = mixed_plan(groups, d.plan, start_year=start, years=years, budget_yen=caps, mode=mode,
                        strategy_key=strategy)
    return result, tuple(lines)
