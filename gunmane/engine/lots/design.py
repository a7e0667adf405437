"""ロット設計（lot design）: partition a group's annual field work into contract lots with OR-Tools CP-SAT.

Units are the facilities with work in the horizon (annual average of the expected direct cost of their
inspections, designs and repairs, from :func:`gunmane.engine.effects.derive_work`); nearby facilities of
the same member are merged into grid cells of ``cell_km`` to keep the model small, each placed at its facilities'
mean latitude and longitude. Every distance is great-circle (haversine, R = 6,371 km, the districting engine's
:func:`gunmane.engine.districting.geo.distance_matrix`). Candidate lots sit at the members' offices (the
contractor's base) and, where a member is wider than the limits, at field bases that split it
(:mod:`gunmane.engine.lots.sites`, the feasible start); a cell may join a lot only if it lies within
``max_radius_km`` of the lot's base (so a lot's diameter is at most twice the radius).

Minimise, per year:

    Σ_lots [ price(V) − V ]              overhead under the estimation rules (piecewise linear in V, concave)
  + Σ_lots staff-hours × hourly cost     per contract (積算・公告・入札・監督・検査)
  + Σ_lots P_fail(V) × re-tender cost    不調・不落 curve of the lot value
  + Σ_cells visits × 2 d(cell, base) × detour × ¥/km

subject to min_lot_yen ≤ V ≤ max_lot_yen for every lot in use. The direct cost itself is the same in
every partition and is left out of the objective. The gap is to a proven lower bound
(:func:`gunmane.engine.lots.bound.lower_bound`, or CP-SAT's best bound when higher);
the chosen partition is then priced exactly (not the piecewise-linear approximation) and compared with
one lot per municipality and one lot for the whole group.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gunmane.engine.costing import CostingEdition, works_price_array
from gunmane.engine.districting.geo import distance_matrix
from gunmane.engine.effects.errors import InvalidInput
from gunmane.engine.effects.inputs import GroupInput
from gunmane.engine.effects.parameters import ParameterSet
from gunmane.engine.effects.work import derive_work
from gunmane.engine.lots.bound import LotCostFloor, lower_bound, trivial_bound
from gunmane.engine.lots.sites import Place, field_bases, km_between

__all__ = ["Infeasibility", "Lot", "LotDesign", "LotPlan", "LotSettings", "design_lots"]

STATUS_JA = {"OPTIMAL": "最適解", "WITHIN_TARGET_GAP": "下界との差が目標以内の解", "FEASIBLE": "実行可能解（時間制限で打ち切り）", "INFEASIBLE": "条件を満たす分け方がない",
             "MODEL_INVALID": "モデルの誤り", "UNKNOWN": "時間内に解が見つからない"}


@dataclass(frozen=True)
class LotSettings:
    """Conditions of the lot design (each also listed in the result's assumptions)."""

    min_lot_yen: float = 10_000_000  # 年間の直接費の下限
    max_lot_yen: float = 300_000_000  # 年間の直接費の上限
    max_radius_km: float = 25.0  # 拠点からの最大距離（ロットの直径は 2 倍以下）
    max_diameter_km: float = 0.0  # ロット内の施設（セル）間の最大距離（0 = 拠点からの距離だけで制限）
    work_type: str = "橋梁保全工事"  # 工事部分の工種区分
    cell_km: float = 0.0  # 0 = automatic: the smallest of 1, 2, 3, 5, 8, 13 km that gives at most max_units cells
    max_units: int = 200
    lots_per_base: int = 1
    time_limit_s: float = 50.0
    target_gap: float = 0.01  # stop when the proven gap is at most this
    travel_yen_per_km: float = 150.0  # 仮定値: 車両費と移動中の人件費
    segments: int = 14
    workers: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.min_lot_yen < self.max_lot_yen:
            raise InvalidInput("invalid_lot_bounds", "ロットの規模は 0 < 下限 < 上限 で指定してください。",
                               "Lot bounds need 0 < min < max.", field="min_lot_yen")
        if self.max_radius_km <= 0 or self.cell_km < 0:
            raise InvalidInput("invalid_lot_radius", "最大距離・セルの大きさは正の km です。", "Radius and cell size must be positive.",
                               field="max_radius_km")


@dataclass(frozen=True)
class Lot:
    id: int
    base: str  # lg_code of the office that serves as the base
    members: tuple[str, ...]
    facilities: int
    direct_yen: float
    price_yen: float
    overhead_yen: float
    travel_km: float
    failure_probability: float
    cost_yen: float  # the objective's part of this lot
    max_distance_km: float  # great-circle km from the base to the farthest cell (its facilities' centroid)
    base_lat: float | None = None
    base_lon: float | None = None
    base_office: bool = True  # False: a field base at far facilities of the member (the member is split)
    # per sector (only when the group asks for its lines per sector, 多分野): facilities, direct cost, their ids
    sectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out = self._json()
        if self.sectors:
            out["sectors"] = {k: {"facilities": int(v["facilities"]), "direct_yen": round(float(v["direct_yen"])),
                                  "facility_ids": list(v["facility_ids"])} for k, v in self.sectors.items()}
        return out

    def _json(self) -> dict[str, Any]:
        return {"id": self.id, "base": self.base, "base_office": self.base_office,
                "base_lat": None if self.base_lat is None else round(self.base_lat, 6),
                "base_lon": None if self.base_lon is None else round(self.base_lon, 6),
                "members": list(self.members), "facilities": self.facilities,
                "direct_yen": round(self.direct_yen), "price_yen": round(self.price_yen),
                "overhead_yen": round(self.overhead_yen), "travel_km": round(self.travel_km, 1),
                "failure_probability": round(self.failure_probability, 4), "cost_yen": round(self.cost_yen),
                "max_distance_km": round(self.max_distance_km, 1)}


@dataclass(frozen=True)
class LotPlan:
    """One partition, priced exactly: the optimised one or a comparison."""

    name: str
    lots: tuple[Lot, ...]
    cost_yen: float
    feasible: bool
    violations: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "lots": [x.as_json() for x in self.lots], "contracts": len(self.lots),
                "cost_yen": round(self.cost_yen), "feasible": self.feasible, "violations": list(self.violations)}


@dataclass(frozen=True)
class Infeasibility:
    """Why no partition meets the conditions: the condition, the members it concerns, the numbers, and the setting
    of the scenario's [lots] table that would lift it (with a value that does, where one follows from the data)."""

    constraint: str  # min_lot_yen | max_lot_yen | max_radius_km | lots_per_base | combined
    members: tuple[str, ...]  # names of the members concerned
    message_ja: str
    setting: str  # the [lots] key to change
    suggested: float | None  # a value of that key that lifts this obstacle (None: no single value follows)
    suggestion_ja: str
    facilities: tuple[str, ...] = ()  # ids of the facilities concerned (施設ID)

    def as_json(self) -> dict[str, Any]:
        return {"constraint": self.constraint, "members": list(self.members), "message": self.message_ja,
                "setting": self.setting, "suggested": self.suggested, "suggestion": self.suggestion_ja,
                "facilities": list(self.facilities)}


@dataclass(frozen=True)
class LotDesign:
    best: LotPlan | None
    per_municipality: LotPlan
    one_lot: LotPlan
    status: str
    objective_yen: float | None  # CP-SAT objective (piecewise-linear price)
    bound_yen: float | None  # CP-SAT best bound
    gap: float | None
    seconds: float
    units: int
    facilities: int
    assignment: pd.DataFrame  # facility index → lot id, lat/lon for maps
    assumptions: tuple[str, ...]
    settings: LotSettings = field(default_factory=LotSettings)
    routes: tuple[dict[str, Any], ...] = ()  # inspection day tours per lot: lot, day, km, coordinates [[lon, lat], …]
    infeasible_reasons: tuple[Infeasibility, ...] = ()  # when no partition was found: which condition, which member
    trivial_bound_yen: float | None = None  # travel at the nearest base + staff time of the fewest lots (for comparison)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "status_ja": STATUS_JA.get(self.status, self.status),
            "objective_yen": None if self.objective_yen is None else round(self.objective_yen),
            "bound_yen": None if self.bound_yen is None else round(self.bound_yen),
            "gap": None if self.gap is None else round(self.gap, 5), "seconds": round(self.seconds, 2),
            "units": self.units, "facilities": self.facilities,
            "best": None if self.best is None else self.best.as_json(),
            "comparison": {"per_municipality": self.per_municipality.as_json(), "one_lot": self.one_lot.as_json()},
            "settings": self.settings.__dict__, "assumptions": list(self.assumptions),
            "routes": [{k: (round(v, 1) if k == "km" else v) for k, v in r.items() if k != "coordinates"}
                       for r in self.routes],
            "infeasible_reasons": [r.as_json() for r in self.infeasible_reasons],
            "trivial_bound_yen": None if self.trivial_bound_yen is None else round(self.trivial_bound_yen),
        }


class _Pricer:
    def __init__(self, edition: CostingEdition, params: ParameterSet, s: LotSettings, years: int) -> None:
        self.edition, self.s, self.years = edition, s, years
        h = sum(params.f(f"staff.works.{st}_h") for st in ("estimate", "notice", "tender", "supervision", "acceptance"))
        self.staff_yen = h * params.f("staff.hourly_cost_yen")
        self.retender_yen = sum(params.f(f"staff.works.{st}_h") for st in ("estimate", "notice", "tender")) * params.f(
            "staff.hourly_cost_yen")
        curve = params["tender.failure_curve"]
        self.cx = np.log10([float(a) for a, _ in curve])
        self.cy = np.array([float(b) for _, b in curve])
        self.detour = params.f("travel.detour_factor")

    def overhead(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        return works_price_array(self.edition, self.s.work_type, np.maximum(v, 0.0))["price_yen"] - v

    def fail(self, v: np.ndarray) -> np.ndarray:
        return np.interp(np.log10(np.maximum(np.asarray(v, dtype=float), 1.0)), self.cx, self.cy)

    def lot_cost(self, v: np.ndarray) -> np.ndarray:
        return self.overhead(v) + self.staff_yen + self.fail(v) * self.retender_yen

    def floor(self) -> LotCostFloor:
        """A step function below :meth:`lot_cost` on [min_lot_yen, max_lot_yen] (for the proven bound)."""
        return LotCostFloor(self.overhead, self.fail, self.cx, self.staff_yen, self.retender_yen,
                            self.s.min_lot_yen, self.s.max_lot_yen)


def _units(group: GroupInput, params: ParameterSet, s: LotSettings, districts: Mapping[str, int] | None = None
           ) -> tuple[pd.DataFrame, dict[str, Place], pd.DataFrame]:
    """The cells (a member's facilities on a grid of ``cell_km``, placed at their facilities' mean latitude and
    longitude), the members' offices as bases, and the facilities with their cell. A facility without coordinates
    stands at its member's office, an office without coordinates at the centre of the group's facilities (as in
    :func:`gunmane.engine.effects.derive_work`)."""
    work = derive_work(group, params)
    r = work.rows
    r = r[r["fidx"] >= 0]
    if r.empty:
        raise InvalidInput("no_field_work", "施設の作業（点検・設計・修繕）がないため、ロットを設計できません。",
                           "No facility work to put into lots.", field="facilities")
    years = group.horizon_years
    crew = params.f("travel.works_yen_per_crew_day")
    visits = np.where(r["kind"] == "works", r["p"] * np.maximum(1.0, r["cost"] / crew), r["p"])
    per_fac = pd.DataFrame({"fidx": r["fidx"], "member": r["member"], "x": r["x"], "y": r["y"],
                            "v": r["p"] * r["cost"] / years, "visits": visits / years})
    fac = per_fac.groupby("fidx").agg(member=("member", "first"), x=("x", "first"), y=("y", "first"),
                                      v=("v", "sum"), visits=("visits", "sum")).reset_index()
    places, fac["lat"], fac["lon"], fac["facility"], fac["has_ll"] = _located(group, fac, work.offices)
    fac["district"] = [int(districts.get(str(f), -1)) for f in fac["facility"]] if districts else -1
    sizes = [s.cell_km] if s.cell_km > 0 else [1.0, 2.0, 3.0, 5.0, 8.0, 13.0]
    for size in sizes:  # a cell never spans two saved districts
        fac["cell"] = (fac["member"].astype(str) + ":" + fac["district"].astype(str) + ":"
                       + np.floor(fac["x"] / size).astype(int).astype(str) + ":"
                       + np.floor(fac["y"] / size).astype(int).astype(str))
        if fac["cell"].nunique() <= s.max_units:
            break
    cell_km = size
    cells = fac.groupby("cell").agg(member=("member", "first"), x=("x", "mean"), y=("y", "mean"), lat=("lat", "mean"),
                                    lon=("lon", "mean"), v=("v", "sum"), visits=("visits", "sum"),
                                    n=("fidx", "count"), district=("district", "first")).reset_index()
    cells["unit"] = np.arange(len(cells))
    fac = fac.merge(cells[["cell", "unit"]], on="cell")
    cells.attrs["cell_km"] = cell_km
    cells.attrs["facility_ids"] = fac.groupby("unit")["facility"].agg(list).to_dict()
    if group.by_sector:  # each cell's facilities per sector, for the lots' lines per sector (多分野)
        facs = [f for f in group.facilities if not group.sectors or f.sector in set(group.sectors)]
        fac["sector"] = [facs[int(i)].sector for i in fac["fidx"].to_numpy()]
        per_cell: dict[int, dict[str, tuple[list[str], float]]] = {}
        for u, sec, fid, v in zip(fac["unit"].to_numpy().tolist(), fac["sector"], fac["facility"],
                                  fac["v"].to_numpy().tolist(), strict=True):
            ids, total = per_cell.setdefault(int(u), {}).get(str(sec), ([], 0.0))
            ids.append(fid)
            per_cell[int(u)][str(sec)] = (ids, total + float(v))
        cells.attrs["sectors"] = per_cell
    return cells, places, fac


def _lot_sectors(cells: pd.DataFrame, m: np.ndarray) -> dict[str, dict[str, Any]]:
    """The facilities (count, ids) and annual direct cost of each sector in the lot made of the cells ``m``."""
    per_cell = cells.attrs.get("sectors")
    if not per_cell:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for u in cells["unit"].to_numpy()[m]:
        for sec, (ids, v) in per_cell.get(int(u), {}).items():
            line = out.setdefault(sec, {"facilities": 0, "direct_yen": 0.0, "facility_ids": []})
            line["facilities"] += len(ids)
            line["direct_yen"] += v
            line["facility_ids"].extend(ids)
    return dict(sorted(out.items()))


def _located(group: GroupInput, fac: pd.DataFrame, offices_xy: dict[str, tuple[float, float]]
             ) -> tuple[dict[str, Place], np.ndarray, np.ndarray, list[str], np.ndarray]:
    """The offices as bases, and each facility's latitude, longitude and id."""
    sectors = set(group.sectors)
    facs = [f for f in group.facilities if not sectors or f.sector in sectors]
    fi = fac["fidx"].to_numpy()
    lat = np.array([np.nan if facs[i].lat is None else facs[i].lat for i in fi], dtype=float)
    lon = np.array([np.nan if facs[i].lon is None else facs[i].lon for i in fi], dtype=float)
    known = np.isfinite(lat) & np.isfinite(lon)
    office_ll = [(m.office_lat, m.office_lon) for m in group.members
                 if m.office_lat is not None and m.office_lon is not None]
    centre = ((float(lat[known].mean()), float(lon[known].mean())) if known.any() else
              (float(np.mean([a for a, _ in office_ll])), float(np.mean([b for _, b in office_ll]))) if office_ll
              else (35.0, 135.0))
    places = {}
    for m in group.members:
        la, lo = (m.office_lat, m.office_lon) if m.office_lat is not None and m.office_lon is not None else centre
        x, y = offices_xy.get(m.lg_code, (0.0, 0.0))
        places[m.lg_code] = Place(m.lg_code, float(la), float(lo), x, y)
    member = fac["member"].astype(str).to_numpy()
    lat[~known] = [places[c].lat for c in member[~known]]
    lon[~known] = [places[c].lon for c in member[~known]]
    return places, lat, lon, [facs[i].id for i in fi], known


def _plan(name: str, unit_lot: np.ndarray, bases: list[str], cells: pd.DataFrame, places: dict[str, Place],
          pricer: _Pricer, s: LotSettings, check: bool = True, names: dict[str, str] | None = None) -> LotPlan:
    """One partition priced exactly (great-circle km); its violations of the [lots] conditions in Japanese, bases
    named by name."""
    lots: list[Lot] = []
    violations: list[str] = []
    names = names or {}
    for lid in np.unique(unit_lot):
        m = unit_lot == lid
        place = places[bases[int(lid)]]
        base = place.member
        d = km_between(cells["lat"].to_numpy()[m], cells["lon"].to_numpy()[m], np.array([place.lat]),
                       np.array([place.lon]))[:, 0]
        v = float(cells["v"].to_numpy()[m].sum())
        km = float((cells["visits"].to_numpy()[m] * 2 * d * pricer.detour).sum())
        oh = float(pricer.overhead(np.array([v]))[0])
        pf = float(pricer.fail(np.array([v]))[0])
        cost = float(pricer.lot_cost(np.array([v]))[0]) + km * s.travel_yen_per_km
        lots.append(Lot(len(lots) + 1, base, tuple(sorted(set(cells["member"].to_numpy()[m]))), int(cells["n"].to_numpy()[m].sum()),
                        v, v + oh, oh, km, pf, cost, float(d.max() if d.size else 0.0), place.lat, place.lon, place.office,
                        _lot_sectors(cells, m)))
        if check:
            base = names.get(base, base) + ("" if place.office else "の現地拠点")
            if v < s.min_lot_yen - 1:
                violations.append(f"ロット{len(lots)}（拠点 {base}）の年間の直接費 {v:,.0f} 円が下限 {s.min_lot_yen:,.0f} 円未満")
            if v > s.max_lot_yen + 1:
                violations.append(f"ロット{len(lots)}（拠点 {base}）の年間の直接費 {v:,.0f} 円が上限 {s.max_lot_yen:,.0f} 円超")
            if d.size and d.max() > s.max_radius_km + 1e-6:
                violations.append(f"ロット{len(lots)}（拠点 {base}）に拠点から {d.max():.1f} km の施設（上限 {s.max_radius_km:g} km）")
            if s.max_diameter_km > 0 and m.sum() > 1:
                diam = float(distance_matrix(cells["lat"].to_numpy()[m], cells["lon"].to_numpy()[m]).max())
                if diam > s.max_diameter_km + 1e-6:
                    violations.append(f"ロット{len(lots)}（拠点 {base}）の直径 {diam:.1f} km が上限 {s.max_diameter_km:g} km 超")
    return LotPlan(name, tuple(lots), sum(x.cost_yen for x in lots), not violations, tuple(violations))


def _cost_of(unit_lot: np.ndarray, v: np.ndarray, travel: np.ndarray, L: int, pricer: _Pricer) -> float:
    vals = np.bincount(unit_lot, v, L)
    used = np.bincount(unit_lot, minlength=L) > 0
    return float(pricer.lot_cost(vals[used]).sum() + travel[np.arange(len(unit_lot)), unit_lot].sum())


def _violation(unit_lot: np.ndarray, v: np.ndarray, L: int, lo: float, hi: float, far: np.ndarray | None = None) -> float:
    """How far a partition is from the conditions (0: it meets them): yen below the minimum and above the maximum
    over the lots in use, plus the maximum for every pair of cells farther apart than the diameter in one lot."""
    vals = np.bincount(unit_lot, v, L)
    used = np.bincount(unit_lot, minlength=L) > 0
    out = float(np.maximum(lo - 1 - vals[used], 0).sum() + np.maximum(vals[used] - hi - 1, 0).sum())
    if far is not None and far.size:
        out += hi * float(np.sum(unit_lot[far[:, 0]] == unit_lot[far[:, 1]]))
    return out


def _feasible(unit_lot: np.ndarray, v: np.ndarray, L: int, lo: float, hi: float, far: np.ndarray | None = None) -> bool:
    return _violation(unit_lot, v, L, lo, hi, far) <= 0


def _local_search(start: np.ndarray, v: np.ndarray, travel: np.ndarray, allowed: np.ndarray, pricer: _Pricer,  # noqa: C901 (complexity ratchet, #17: split before adding to it)
                  lo: float, hi: float, rounds: int = 20, far: np.ndarray | None = None) -> np.ndarray:
    """Greedy merges of whole lots, then single-cell moves; first-improvement on (violation, cost): a start that
    breaks the lot-size or diameter limits is repaired first (the violation never grows), a feasible one stays
    feasible."""
    L = allowed.shape[1]
    cur = start.copy()
    best = _cost_of(cur, v, travel, L, pricer)
    bad = _violation(cur, v, L, lo, hi, far)

    def better(cand: np.ndarray) -> tuple[bool, float, float]:
        w = _violation(cand, v, L, lo, hi, far)
        if w > bad:
            return False, w, math.inf
        c = _cost_of(cand, v, travel, L, pricer)
        return (w < bad - 0.5 or c < best - 1), w, c
    improved = True
    while improved:
        improved = False
        for a in np.unique(cur):
            for b in np.unique(cur):
                if a == b:
                    continue
                m = cur == a
                if not allowed[m, b].all():
                    continue
                cand = cur.copy()
                cand[m] = b
                ok, w, c = better(cand)
                if ok:
                    cur, best, bad, improved = cand, c, w, True
                    break
            if improved:
                break
    for _ in range(rounds):
        moved = False
        for u in range(len(cur)):
            for b in np.flatnonzero(allowed[u]):
                if b == cur[u]:
                    continue
                cand = cur.copy()
                cand[u] = b
                ok, w, c = better(cand)
                if ok:
                    cur, best, bad, moved = cand, c, w, True
                    break
        if not moved:
            break
    return cur


_K = 1000.0  # money in the CP-SAT model is in ¥1,000 (integers)


@dataclass(frozen=True)
class _Reach:
    """The cells against the candidate lots (one row per cell, one column per lot)."""

    dist: np.ndarray  # great-circle km from the cell (its facilities' centroid) to the lot's base
    allowed: np.ndarray  # bool: the cell lies within max_radius_km of the lot's base
    far: np.ndarray  # pairs of cells farther apart than max_diameter_km: never in one lot
    travel_k: np.ndarray  # the cell's travel cost in the lot, ¥1,000 rounded


def design_lots(group: GroupInput, edition: CostingEdition, *, params: ParameterSet,
                settings: LotSettings | None = None, districts: Mapping[str, int] | None = None) -> LotDesign:
    """Partition the group's annual field work into lots at least cost, price the partition exactly and compare
    it with one lot per municipality and one lot for the whole group.

    ``districts`` (facility id → district, e.g. a districting the group saved): no lot crosses a district's
    boundary — two facilities of different districts are never in one lot (facilities not in the map are free)."""
    s = settings or LotSettings()
    t0 = time.perf_counter()
    cells, places, fac = _units(group, params, s, districts)
    pricer = _Pricer(edition, params, s, group.horizon_years)
    per_plan, one_plan = _comparison_plans(group, cells, places, pricer, s)
    bases, start_key = _candidate_bases(group, cells, places, s)
    assumptions = _assumptions(edition, s, cells, len(fac), places, bases) + _district_assumption(fac)

    def infeasible(status: str, reach: _Reach | None) -> LotDesign:
        why = _diagnose(group, cells, places, reach, bases, s, status)
        return LotDesign(None, per_plan, one_plan, status, None, None, None, time.perf_counter() - t0, len(cells),
                         len(fac), pd.DataFrame(), (*assumptions, *(w.message_ja + w.suggestion_ja for w in why)), s,
                         infeasible_reasons=why)

    if not bases:
        return infeasible("INFEASIBLE", None)
    reach = _with_districts(_reach(cells, places, bases, pricer, s), cells)
    n_districts = int(cells.loc[cells["district"] >= 0, "district"].nunique())
    if n_districts > len(bases):
        why = (Infeasibility("districts", (), f"保存した地区割りは {n_districts} 地区ですが、候補のロットは {len(bases)} つです"
                             "（ロットは地区の境界をまたげません）。", "lots_per_base", float(math.ceil(n_districts / len(bases))),
                             "拠点ごとのロット数（lots_per_base）を増やすか、地区の少ない地区割りを保存してください。"),)
        return LotDesign(None, per_plan, one_plan, "INFEASIBLE", None, None, None, time.perf_counter() - t0, len(cells),
                         len(fac), pd.DataFrame(), (*assumptions, why[0].message_ja + why[0].suggestion_ja), s,
                         infeasible_reasons=why)
    if not reach.allowed.any(axis=1).all():
        return infeasible("INFEASIBLE", reach)
    status, objective, found = _solve(cells, bases, start_key, reach, pricer, s)
    if found is None:
        return infeasible(status, reach)
    unit_lot, bound = found
    trivial = trivial_bound(float(cells["v"].sum()), reach.travel_k * _K, reach.allowed, pricer.staff_yen, s.max_lot_yen)
    best = _plan("最適化したロット", unit_lot, bases, cells, places, pricer, s,
                 names={m.lg_code: m.name for m in group.members})
    exact = best.cost_yen  # the exact price chain and unrounded distances
    gap = max(0.0, (exact - bound) / exact) if exact > 0 else 0.0
    if gap <= 1e-9:
        status = "OPTIMAL"
    elif gap <= s.target_gap:
        status = "WITHIN_TARGET_GAP"
    assign = _assignment(fac, unit_lot, bases, best)
    routes = _routes(params, assign, places)
    total = float(cells["v"].sum())
    return LotDesign(best, per_plan, one_plan, status, objective, bound, gap, time.perf_counter() - t0, len(cells),
                     len(fac), assign, (*assumptions, f"群の年間の直接費 {total:,.0f} 円。",
                                        "地図の巡回経路: ロットの拠点から1日の作業時間内に施設を点検して戻る日ごとの経路"
                                        "（OR-Tools の経路探索とスイープ法の短い方、直線距離 × 迂回率）。"), s, routes,
                     trivial_bound_yen=trivial)


def _yen_floor(x: float) -> float:
    """A limit at or below ``x`` in whole 万円 (what a user types), never zero."""
    return math.floor(x / 1e4) * 1e4 if x >= 1e4 else max(math.floor(x), 1)


def _km_ceil(d: float) -> float:
    return math.ceil(d * 10) / 10


def _components(allowed: np.ndarray) -> np.ndarray:
    """The connected component (numbered 0…) of each office in the graph where an office and a cell are linked
    when the cell lies within the radius of the office: cells of different components can never share a lot."""
    n = allowed.shape[1]
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for row in allowed:
        reach = np.flatnonzero(row).tolist()
        for j in reach[1:]:
            parent[root(j)] = root(reach[0])
    roots = [root(i) for i in range(n)]
    return np.unique(roots, return_inverse=True)[1]


def _diagnose(group: GroupInput, cells: pd.DataFrame, places: dict[str, Place], reach: _Reach | None,
              bases: list[str], s: LotSettings, status: str) -> tuple[Infeasibility, ...]:
    """Why no partition was found, in Japanese with the numbers: the facilities no office reaches, a cell worth more
    than a whole lot, a set of members whose work is below the minimum and too far from everyone else's to share a
    lot, or more work than the offices within reach can take. Each reason names the [lots] setting that lifts it."""
    names = {m.lg_code: m.name for m in group.members}
    codes = list(dict.fromkeys(bases)) or [m.lg_code for m in group.members if m.lg_code in places]
    v = cells["v"].to_numpy()
    member = cells["member"].astype(str).to_numpy()
    dist = km_between(cells["lat"].to_numpy(), cells["lon"].to_numpy(), np.array([places[c].lat for c in codes]),
                      np.array([places[c].lon for c in codes]))
    allowed = dist <= s.max_radius_km
    ids_of = cells.attrs.get("facility_ids", {})
    out: list[Infeasibility] = []

    def who(mask: np.ndarray) -> tuple[str, ...]:
        return tuple(names.get(c, c) for c in dict.fromkeys(member[mask].tolist()))

    def fids(mask: np.ndarray) -> tuple[str, ...]:
        return tuple(str(f) for u in np.flatnonzero(mask).tolist() for f in ids_of.get(u, ()))

    lost = ~allowed.any(axis=1)
    for c in dict.fromkeys(member[lost].tolist()):
        m = lost & (member == c)
        d = float(dist[m].min(axis=1).max())
        out.append(Infeasibility(
            "max_radius_km", (names.get(c, c),),
            f"{names.get(c, c)}の施設 {int(cells['n'].to_numpy()[m].sum()):,} か所は、どの団体の庁舎（ロットの拠点）からも"
            f" {s.max_radius_km:g} km より遠くにあり、どのロットにも入れられません（最も近い庁舎まで最大 {d:.1f} km）。",
            "max_radius_km", _km_ceil(d), f"シナリオの [lots] の max_radius_km を {_km_ceil(d):g} 以上にしてください。",
            fids(m)))
    if out:
        return tuple(out)
    for u in np.flatnonzero(v > s.max_lot_yen + 1).tolist():
        c = str(member[u])
        out.append(Infeasibility(
            "max_lot_yen", (names.get(c, c),),
            f"{names.get(c, c)}の {cells.attrs.get('cell_km', 0):g} km 四方の区画一つの年間の直接費 {v[u]:,.0f} 円が、"
            f"ロットの上限 {s.max_lot_yen:,.0f} 円を超えています。",
            "max_lot_yen", float(math.ceil(v[u] / 1e4) * 1e4),
            f"シナリオの [lots] の max_lot_yen を {math.ceil(v[u] / 1e4) * 1e4:,.0f} 以上にしてください。",
            fids(np.arange(len(v)) == u)))
    comp_of_office = _components(allowed)
    comp_of_cell = comp_of_office[np.argmax(allowed, axis=1)]
    for k in np.unique(comp_of_cell).tolist():
        in_k = comp_of_cell == k
        total = float(v[in_k].sum())
        if total < s.min_lot_yen - 1:
            split = bool(np.isin(member[~in_k], member[in_k]).any())  # some member has cells in another component
            at_office = any(places[codes[j]].office for j in np.flatnonzero(comp_of_office == k).tolist())
            part = "far" if split and not at_office else "rest" if split else ""
            out.append(dataclasses.replace(_too_small(in_k, comp_of_office == k, dist, total, who(in_k),
                                                      len(np.unique(comp_of_cell)), s, part), facilities=fids(in_k)))
            continue
        n_offices = int(np.sum((comp_of_office == k) & allowed[in_k].any(axis=0)))
        room = n_offices * s.lots_per_base * s.max_lot_yen
        if total > room + 1:
            need = math.ceil(total / s.max_lot_yen / max(n_offices, 1))
            out.append(Infeasibility(
                "lots_per_base", who(in_k),
                f"{'・'.join(who(in_k))}の年間の直接費 {total:,.0f} 円を上限 {s.max_lot_yen:,.0f} 円のロットに分けるには"
                f" {math.ceil(total / s.max_lot_yen)} ロットが要りますが、届く拠点は {n_offices} か所 × {s.lots_per_base} ロットです。",
                "lots_per_base", float(need),
                f"シナリオの [lots] の lots_per_base を {need} 以上にするか、max_lot_yen を上げてください。", fids(in_k)))
    if out:
        return tuple(out)
    if status == "UNKNOWN":
        return (Infeasibility(
            "time_limit_s", (), f"計算時間の上限 {s.time_limit_s:g} 秒の間に、条件を満たす分け方が見つかりませんでした"
            "（条件を満たす分け方がないとは限りません）。", "time_limit_s", s.time_limit_s * 2,
            f"シナリオの [lots] の time_limit_s を {s.time_limit_s * 2:g} 以上にして、もう一度計算してください。"),)
    diameter = f"、ロット内の区画の間 {s.max_diameter_km:g} km 以内" if s.max_diameter_km > 0 else ""
    return (Infeasibility(
        "combined", who(np.ones(len(cells), dtype=bool)),
        f"ロットの年間の直接費 {s.min_lot_yen:,.0f}〜{s.max_lot_yen:,.0f} 円、拠点から {s.max_radius_km:g} km 以内{diameter}を"
        f"同時に満たす分け方がありません（団体ごと・距離ごとには満たせます）。",
        "min_lot_yen", None,
        "シナリオの [lots] の min_lot_yen を下げるか、max_radius_km（max_diameter_km）を広げてください。"),)


def _too_small(cells_in: np.ndarray, offices_in: np.ndarray, dist: np.ndarray, total: float, members: tuple[str, ...],
               n_components: int, s: LotSettings, part: str = "") -> Infeasibility:
    """A set of members whose work together is below the minimum lot and cannot share a lot with anyone else
    (``part`` "far": only the far facilities of a member split at a field base; "rest": without them)."""
    low = _yen_floor(total)
    if n_components == 1:
        return Infeasibility(
            "min_lot_yen", members,
            f"群全体の年間の直接費 {total:,.0f} 円（{'・'.join(members)}）が、ロットの下限 {s.min_lot_yen:,.0f} 円に届きません。",
            "min_lot_yen", low, f"シナリオの [lots] の min_lot_yen を {low:,.0f} 以下にしてください。")
    # the distance at which this set first reaches another office, or another member's work reaches one of its offices
    d_join = min(float(dist[np.ix_(cells_in, ~offices_in)].min(initial=np.inf)),
                 float(dist[np.ix_(~cells_in, offices_in)].min(initial=np.inf)))
    # the radius at which every cell of the set reaches another member's office (joins a lot based there)
    d_all = float(dist[np.ix_(cells_in, ~offices_in)].min(axis=1).max())
    who = "・".join(members)
    if part == "far":
        who += f"の庁舎から遠い施設（{int(cells_in.sum()):,} 区画、現地拠点のロット）"
    elif part == "rest":
        who += "（現地拠点に分けた遠い施設を除く）"
    return Infeasibility(
        "min_lot_yen", members,
        f"{who}の年間の直接費は {total:,.0f} 円で、ロットの下限 {s.min_lot_yen:,.0f} 円に届きません。"
        f"ほかの{'施設' if part == 'far' else '団体'}とは施設と拠点の間で {d_join:.1f} km 離れていて、拠点から {s.max_radius_km:g} km 以内という条件では"
        "同じロットに入れられません。",
        "min_lot_yen", low,
        f"シナリオの [lots] の min_lot_yen を {low:,.0f} 以下にするか、max_radius_km を {_km_ceil(d_all):g} 以上に"
        "してください。")


def _candidate_bases(group: GroupInput, cells: pd.DataFrame, places: dict[str, Place],
                     s: LotSettings) -> tuple[list[str], list[str | None]]:
    """The base of each candidate lot: lots_per_base at every member office with some work within reach, and at the
    field bases that split a member wider than the limits (added to ``places``); and each cell's field base key."""
    far_diameter = s.max_diameter_km if s.max_diameter_km > 0 else 0.0
    field, start_key = field_bases(cells, places, s.max_radius_km, far_diameter)
    places.update(field)
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    bases: list[str] = []
    for c in [m.lg_code for m in group.members]:
        d = km_between(lat, lon, np.array([places[c].lat]), np.array([places[c].lon]))
        if (d <= s.max_radius_km).any():
            bases += [c] * s.lots_per_base
    for key in field:
        bases += [key] * s.lots_per_base
    return bases, start_key


def _comparison_plans(group: GroupInput, cells: pd.DataFrame, places: dict[str, Place],
                      pricer: _Pricer, s: LotSettings) -> tuple[LotPlan, LotPlan]:
    """The plans a design is judged against, priced exactly: one lot per municipality (each orders alone) and one
    lot for the whole group, based at the office nearest (great circle) to the value-weighted centre of the work."""
    member_codes = [m.lg_code for m in group.members]
    names = {m.lg_code: m.name for m in group.members}
    with_work = [c for c in member_codes if cells["member"].eq(c).any()]
    idx_of = {c: i * s.lots_per_base for i, c in enumerate(member_codes)}
    all_bases = [c for c in member_codes for _ in range(s.lots_per_base)]
    per_muni = np.array([idx_of[m] for m in cells["member"]])
    per_plan = _plan("一つの団体に一つのロット（各団体が単独で発注）", per_muni, all_bases, cells, places, pricer, s,
                     names=names)
    w = np.maximum(cells["v"].to_numpy(), 1.0)
    clat, clon = float(np.average(cells["lat"].to_numpy(), weights=w)), float(np.average(cells["lon"].to_numpy(), weights=w))
    to_centre = km_between(np.array([places[c].lat for c in with_work]), np.array([places[c].lon for c in with_work]),
                           np.array([clat]), np.array([clon]))[:, 0]
    hub = with_work[int(np.argmin(to_centre))]
    one_plan = _plan("群で一つのロット", np.full(len(cells), idx_of[hub]), all_bases, cells, places, pricer, s,
                     names=names)
    return per_plan, one_plan


def _assumptions(edition: CostingEdition, s: LotSettings, cells: pd.DataFrame, n_facilities: int,
                 places: dict[str, Place], bases: list[str]) -> tuple[str, ...]:
    """The conditions and the objective of the design, in Japanese, for the result."""
    return (
        f"単位: 施設の作業（点検・設計・修繕の期待直接費の年平均）を団体ごとに {cells.attrs['cell_km']:g} km 四方のセルに集約"
        f"（{n_facilities:,} 施設 → {len(cells):,} セル）。",
        f"候補のロットは各団体の庁舎を拠点に {s.lots_per_base} つずつ。拠点から {s.max_radius_km:g} km 以内の施設だけを入れる（直径は最大 {2 * s.max_radius_km:g} km）。"
        + (f"ロット内のセル間の距離は {s.max_diameter_km:g} km 以下（セルの中心で判定）。" if s.max_diameter_km > 0 else "")
        + (f"庁舎から届かない施設（または直径の上限を超えて広がる団体）のため、団体を分けて現地拠点を {n_field} か所"
           "（遠い施設のセルの位置）に置いた。" if (n_field := len({b for b in bases if not places[b].office})) else ""),
        "距離: 大円距離（haversine、地球半径 6,371 km、群の区割りと同じ式）。セルの位置はその施設の緯度・経度の平均"
        "（セルの中心ではない）。地図の巡回経路だけは平面上の直線距離 × 迂回率。",
        f"ロットの年間の直接費: {s.min_lot_yen:,.0f} 円以上 {s.max_lot_yen:,.0f} 円以下。工事部分は「{s.work_type}」（積算基準 {edition.id}）で積算。",
        "目的関数（年あたり）: 諸経費（積算基準、区分線形で近似）＋ 職員時間 × 時間単価 ＋ 不調・不落の確率 × 再入札の職員時間 ＋ "
        f"移動距離 × {s.travel_yen_per_km:g} 円/km（仮定値）。直接費はどの分け方でも同じため含めない。",
        "求めた分け方は区分線形ではなく積算基準の式そのもので再計算して比較する。下界は、証明できる組合せの下界"
        "（各セルの移動費は届く拠点のうち最も安いもの以上、ロットの費用は諸経費が規模とともに減らないことによる段階状の下からの近似を"
        "ラグランジュ緩和で総額に配分したもの以上）と、CP-SAT を使ったときはその下界の大きい方。ギャップ = (費用 − 下界) / 費用。",
    )


def _reach(cells: pd.DataFrame, places: dict[str, Place], bases: list[str], pricer: _Pricer,
           s: LotSettings) -> _Reach:
    """Which lots each cell may join (radius and diameter limits, great-circle km) and what its travel costs in each."""
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    dist = km_between(lat, lon, np.array([places[b].lat for b in bases]), np.array([places[b].lon for b in bases]))
    allowed = dist <= s.max_radius_km
    far = np.zeros((0, 2), dtype=np.int64)
    if s.max_diameter_km > 0:
        far = np.argwhere(np.triu(distance_matrix(lat, lon) > s.max_diameter_km, 1))
    travel_k = np.rint(cells["visits"].to_numpy()[:, None] * 2 * dist * pricer.detour * s.travel_yen_per_km / _K).astype(np.int64)
    return _Reach(dist, allowed, far, travel_k)


def _solve(cells: pd.DataFrame, bases: list[str], start_key: list[str | None], reach: _Reach, pricer: _Pricer,
           s: LotSettings) -> tuple[str, float | None, tuple[np.ndarray, float] | None]:
    """The cheapest partition found: the local-search heuristic alone when it is proven within the target gap of the
    proven lower bound (:func:`gunmane.engine.lots.bound.lower_bound`), else the better of CP-SAT (hinted with the
    heuristic) and the heuristic. The bound returned is the larger of the proven bound and CP-SAT's best bound.

    Returns the status, CP-SAT's objective (¥) and, when a partition was found, its cell → lot and the best lower
    bound (¥)."""
    from ortools.sat.python import cp_model

    n_lots = len(bases)
    v_yen = cells["v"].to_numpy()
    travel_yen = reach.travel_k * _K
    heuristic = _heuristic(cells, bases, start_key, reach, pricer, s)
    heuristic_ok = _feasible(heuristic, v_yen, n_lots, s.min_lot_yen, s.max_lot_yen, reach.far)
    analytic = lower_bound(float(v_yen.sum()), travel_yen, reach.allowed, pricer.floor(), s.min_lot_yen,
                           s.max_lot_yen, n_lots)
    heuristic_cost = _cost_of(heuristic, v_yen, travel_yen, n_lots, pricer)
    objective = bound = None
    candidates = []
    if heuristic_ok and (heuristic_cost - analytic) / max(heuristic_cost, 1.0) <= s.target_gap:
        st, status = cp_model.UNKNOWN, "FEASIBLE"  # proven within the target without CP-SAT
    else:
        model, in_lot = _cp_model(cells, bases, reach, pricer, s)
        solver, st = _run_cp_sat(model, in_lot, heuristic if heuristic_ok else None, analytic, s)
        status = solver.status_name(st)
        if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            objective, bound = solver.objective_value * _K, solver.best_objective_bound * _K
            candidates.append(np.array([next(lot for lot in range(n_lots) if (u, lot) in in_lot and solver.value(in_lot[u, lot]))
                                        for u in range(len(cells))]))
    if heuristic_ok:
        candidates.append(heuristic)
        if status in ("UNKNOWN", "INFEASIBLE") and st != cp_model.INFEASIBLE:
            status = "FEASIBLE"
    if not candidates:
        return status, objective, None
    unit_lot = min(candidates, key=lambda a: _cost_of(a, v_yen, travel_yen, n_lots, pricer))
    return status, objective, (unit_lot, max(bound or 0.0, analytic))


def _heuristic(cells: pd.DataFrame, bases: list[str], start_key: list[str | None], reach: _Reach, pricer: _Pricer,
               s: LotSettings) -> np.ndarray:
    """The feasible start: each cell at its field base when its member is split, else at its own member's office
    (or the nearest allowed base), so that every lot meets the reach and diameter limits; the lot sizes are then
    repaired and the cost lowered by local search."""
    n_cells = len(cells)
    first_lot = {b: bases.index(b) for b in set(bases)}
    start = np.array([first_lot.get(start_key[u] or str(cells["member"].iat[u]), -1) for u in range(n_cells)])
    for bad in np.flatnonzero((start < 0) | ~reach.allowed[np.arange(n_cells), np.maximum(start, 0)]).tolist():
        start[bad] = int(np.flatnonzero(reach.allowed[bad])[np.argmin(reach.dist[bad, reach.allowed[bad]])])
    _district_start(start, cells["district"].to_numpy(), reach)
    return _local_search(start, cells["v"].to_numpy(), reach.travel_k * _K, reach.allowed, pricer, s.min_lot_yen,
                         s.max_lot_yen, far=reach.far)


def _with_districts(reach: _Reach, cells: pd.DataFrame) -> _Reach:
    """The reach with every pair of cells of two different saved districts added to the pairs never in one lot."""
    d = cells["district"].to_numpy()
    if (d < 0).all():
        return reach
    apart = np.argwhere(np.triu((d[:, None] != d[None, :]) & (d[:, None] >= 0) & (d[None, :] >= 0), 1))
    return dataclasses.replace(reach, far=np.unique(np.vstack([reach.far, apart]).astype(np.int64), axis=0))


def _district_start(start: np.ndarray, district: np.ndarray, reach: _Reach) -> None:
    """A start that keeps the saved districts apart: each district (largest first) in its own lot, the one whose
    base is nearest (summed over its cells, cells out of reach counted at 10× their distance); in place."""
    ids = [int(x) for x in pd.Series(district[district >= 0]).value_counts().index]
    free = list(range(reach.dist.shape[1]))
    for d in ids:
        if not free:
            return
        cells = np.flatnonzero(district == d)
        penalty = np.where(reach.allowed[cells][:, free], 1.0, 10.0) * reach.dist[cells][:, free]
        lot = free.pop(int(np.argmin(penalty.sum(axis=0))))
        start[cells] = lot


def _district_assumption(fac: pd.DataFrame) -> tuple[str, ...]:
    d = fac["district"].to_numpy()
    if (d < 0).all():
        return ()
    free = int((d < 0).sum())
    return (f"群が保存した地区割り（{len(set(d[d >= 0].tolist()))} 地区）を使い、ロットは地区の境界をまたがない"
            "（異なる地区の施設は同じロットに入れない）。" + (f"地区割りにない {free:,} 施設はどのロットにも入れる。" if free else ""),)


def _cp_model(cells: pd.DataFrame, bases: list[str], reach: _Reach, pricer: _Pricer,
              s: LotSettings) -> tuple[Any, dict[tuple[int, int], Any]]:
    """The CP-SAT model (money in ¥1,000): every cell in exactly one allowed lot, cells too far apart never together,
    each lot's cost on its piecewise-linear price curve, plus travel; returns the model and the cell-in-lot variables."""
    from ortools.sat.python import cp_model

    n_cells, n_lots = len(cells), len(bases)
    # values rounded down for the lower limit and the cost (a valid under-estimate), up for the upper limit
    value_k = np.maximum(np.floor(cells["v"].to_numpy() / _K).astype(np.int64), 0)
    value_k_up = np.ceil(cells["v"].to_numpy() / _K).astype(np.int64)
    model = cp_model.CpModel()
    in_lot: dict[tuple[int, int], Any] = {}
    for u in range(n_cells):
        opts = np.flatnonzero(reach.allowed[u])
        for o in opts.tolist():
            in_lot[u, o] = model.new_bool_var(f"x{u}_{o}")
        model.add_exactly_one(in_lot[u, o] for o in opts.tolist())
    for a, b in reach.far.tolist():  # two cells farther apart than the diameter never share a lot
        for lot in range(n_lots):
            if (a, lot) in in_lot and (b, lot) in in_lot:
                model.add_bool_or([in_lot[a, lot].negated(), in_lot[b, lot].negated()])
    lo_k, hi_k = math.ceil(s.min_lot_yen / _K), int(s.max_lot_yen // _K)
    breakpoints = np.unique(np.concatenate([[lo_k], np.rint(np.geomspace(lo_k, hi_k, s.segments + 1)),
                                            [hi_k]])).astype(np.int64)
    cost_at = np.rint(pricer.lot_cost(breakpoints * _K) / _K).astype(np.int64)
    objective: list[Any] = []
    used: list[Any] = []
    for lot in range(n_lots):
        in_this = [u for u in range(n_cells) if (u, lot) in in_lot]
        y = model.new_bool_var(f"y{lot}")
        # symmetry: the lots of one base are used in order
        if lot > 0 and bases[lot] == bases[lot - 1]:
            model.add_implication(y, used[lot - 1])
        used.append(y)
        if not in_this:
            model.add(y == 0)
            continue
        objective.append(_lot_cost_var(model, lot, y, [(in_lot[u, lot], int(value_k[u]), int(value_k_up[u]))
                                                        for u in in_this], hi_k, breakpoints, cost_at))
    model.add(sum(used) >= math.ceil(int(value_k.sum()) / hi_k))
    objective.append(sum(int(reach.travel_k[u, lot]) * var for (u, lot), var in in_lot.items()))
    model.minimize(sum(objective))
    return model, in_lot


def _lot_cost_var(model: Any, lot: int, y: Any, cells: list[tuple[Any, int, int]], hi_k: int,
                  breakpoints: np.ndarray, cost_at: np.ndarray) -> Any:
    """One candidate lot: its value from its cells (within the upper limit; zero when unused) and its cost (¥1,000)
    on the chord of the price curve's segment the value falls in."""
    val = model.new_int_var(0, hi_k, f"v{lot}")
    model.add(val == sum(value * var for var, value, _ in cells))
    model.add(sum(value_up * var for var, _, value_up in cells) <= hi_k)
    for var, _, _ in cells:
        model.add_implication(var, y)
    model.add(val == 0).only_enforce_if(y.negated())
    seg = [model.new_bool_var(f"s{lot}_{j}") for j in range(len(breakpoints) - 1)]
    model.add(sum(seg) == y)
    cv = model.new_int_var(0, int(cost_at.max()) * 2 + 1, f"c{lot}")
    for j, sj in enumerate(seg):
        a, b = int(breakpoints[j]), int(breakpoints[j + 1])
        model.add(val >= a).only_enforce_if(sj)
        model.add(val <= b).only_enforce_if(sj)
        # on a segment the cost is its chord (linear interpolation between the breakpoints), scaled by 1,000
        num = int(round((cost_at[j + 1] - cost_at[j]) / max(b - a, 1) * 1000))
        model.add(1000 * cv >= 1000 * int(cost_at[j]) + num * (val - a)).only_enforce_if(sj)
    model.add(cv == 0).only_enforce_if(y.negated())
    # valid for every segment (concave cost lies above its chord over [min, max]); tightens the relaxation
    chord = int(round((cost_at[-1] - cost_at[0]) / max(int(breakpoints[-1] - breakpoints[0]), 1) * 1000))
    model.add(1000 * cv >= 1000 * int(cost_at[0]) * y + chord * (val - int(breakpoints[0]) * y))
    return cv


def _run_cp_sat(model: Any, in_lot: dict[tuple[int, int], Any], hint: np.ndarray | None, analytic_bound: float,
                s: LotSettings) -> tuple[Any, Any]:
    """CP-SAT within the time limit, hinted with a feasible partition, stopped at the target gap: its own gap or
    the gap to the analytic bound."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = s.time_limit_s
    solver.parameters.num_search_workers = s.workers
    # interleaved workers: the same design on every run and machine (the target-gap stop otherwise depends on
    # which thread finds a solution first — the snapshot and the page-vs-CLI journey compare exact yen)
    solver.parameters.interleave_search = True
    solver.parameters.random_seed = s.seed
    if hint is not None:
        for (u, lot), var in in_lot.items():
            model.add_hint(var, 1 if hint[u] == lot else 0)
    solver.parameters.relative_gap_limit = s.target_gap

    class _StopNearBound(cp_model.CpSolverSolutionCallback):
        """Stop once a solution is within the target gap of the analytic bound (the exact gap is
        recomputed afterwards and reported as it is)."""

        def on_solution_callback(self) -> None:
            obj = self.objective_value * _K
            if obj > 0 and (obj - analytic_bound) / obj <= s.target_gap:
                self.stop_search()

    return solver, solver.solve(model, _StopNearBound())


def _assignment(fac: pd.DataFrame, unit_lot: np.ndarray, bases: list[str], best: LotPlan) -> pd.DataFrame:
    """Each facility's lot (numbered from 1), its base member and the base's key, with lat/lon for the map."""
    lot_ids = {int(lid): i + 1 for i, lid in enumerate(np.unique(unit_lot))}
    fac_lot = fac.assign(lot=[lot_ids[int(unit_lot[u])] for u in fac["unit"]])
    fac_lot["lat"] = fac_lot["lat"].where(fac_lot["has_ll"])
    fac_lot["lon"] = fac_lot["lon"].where(fac_lot["has_ll"])
    fac_lot["base"] = [best.lots[lot_ids[int(unit_lot[u])] - 1].base for u in fac_lot["unit"]]
    fac_lot["base_key"] = [bases[int(unit_lot[u])] for u in fac_lot["unit"]]
    return fac_lot[["facility", "member", "lat", "lon", "x", "y", "lot", "base", "base_key"]]


def _routes(params: ParameterSet, assign: pd.DataFrame, places: dict[str, Place]) -> tuple[dict[str, Any], ...]:
    """Day tours of one inspection round per lot, as lon/lat polylines for the map (facilities with coordinates)."""
    from gunmane.engine.effects.routing import TourSolver

    solver = TourSolver(detour=params.f("travel.detour_factor"), speed_kmh=params.f("travel.speed_kmh"),
                        day_hours=params.f("travel.day_hours"), ortools_max_sites=int(params.f("travel.ortools_max_sites")))
    out: list[dict[str, Any]] = []
    a = assign[assign["lat"].notna() & assign["lon"].notna()]
    for lot, part in a.groupby("lot"):
        place = places[str(part["base_key"].iloc[0])]
        base = place.member
        xy = part[["x", "y"]].to_numpy(dtype=float)
        res = solver.tours((place.x, place.y), xy, params.f("travel.inspection_site_h"))
        lon, lat = part["lon"].to_numpy(dtype=float), part["lat"].to_numpy(dtype=float)
        for day, seq in enumerate(res.routes, start=1):
            pts = np.vstack([[0.0, 0.0], xy[list(seq)], [0.0, 0.0]])
            pts[0] = pts[-1] = (place.x, place.y)
            km = float(np.hypot(*np.diff(pts, axis=0).T).sum() * solver.detour)
            coords = [[place.lon, place.lat], *[[float(lon[i]), float(lat[i])] for i in seq], [place.lon, place.lat]]
            out.append({"lot": int(str(lot)), "day": day, "base": base, "sites": len(seq), "km": km,
                        "coordinates": coords})
    return tuple(out)
