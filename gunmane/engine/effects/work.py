"""Work derived from the ledger over the horizon (作業量の導出).

One row per piece of work, all numeric columns numpy-backed:

- ``inspection`` — periodic inspection due: every ``cycle`` years from the latest inspection; never
  inspected or overdue = due in the first year (法定点検 5 years for road bridges and tunnels);
- ``design`` / ``works`` with origin ``backlog`` — facilities whose latest grade is Ⅲ/Ⅳ (措置が必要);
- ``design`` / ``works`` with origin ``new`` — expected new Ⅲ found at the horizon's inspections, with the
  probability ``p`` from the Markov hazard model (P[grade ≥ Ⅲ at that inspection | latest grade, elapsed years],
  minus what an earlier inspection in the horizon would already have found); a facility never inspected has no
  grade to start from, so each of its inspections finds a new Ⅲ with p = r × cycle, r the model's long-run
  yearly repair probability (the renewal chain in which repair resets to Ⅰ: ``repair_probability``);
- ``routine`` — patrol, cleaning, weeding, small repairs from road length and park area (or observed counts).

The year of a repair row is the year of its judgment (cohort); the lead time to the repair is a lever
outcome (days_to_repair), so every scenario prices the same work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gunmane.engine.deterioration.model import repair_probability
from gunmane.engine.effects.inputs import STATUTORY_TYPES, GroupInput
from gunmane.engine.effects.parameters import ParameterSet

__all__ = ["WorkSet", "derive_work", "project_km"]

EARTH_KM_PER_DEG = 111.32


def project_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular projection (km) around (lat0, lon0): fine for a region of tens of km."""
    x = (lon - lon0) * EARTH_KM_PER_DEG * math.cos(math.radians(lat0))
    y = (lat - lat0) * EARTH_KM_PER_DEG
    return x, y


@dataclass(frozen=True)
class WorkSet:
    rows: pd.DataFrame
    offices: dict[str, tuple[float, float]]  # lg_code → office (x, y) km
    notes: tuple[str, ...]
    theta: tuple[float, float, float]  # hazards I→II, II→III, III→IV used
    hazard_source: str


def _unit(params: ParameterSet, kind: str, types: np.ndarray, length: np.ndarray) -> np.ndarray:
    out = np.zeros(types.size)
    for t in np.unique(types):
        key = t if f"unit.inspection.{t}.base_yen" in params else "other"
        m = types == t
        if kind == "inspection":
            out[m] = params.f(f"unit.inspection.{key}.base_yen") + params.f(f"unit.inspection.{key}.per_m_yen") * length[m]
        elif kind == "design":
            out[m] = params.f(f"unit.design.{key}_yen")
        else:
            out[m] = params.f(f"unit.repair.{key}.base_yen") + params.f(f"unit.repair.{key}.per_m_yen") * length[m]
    return out


def _repair_type(params: ParameterSet, types: np.ndarray) -> np.ndarray:
    return np.array([params[f"unit.repair.{t if f'unit.repair.{t}.work_type' in params else 'other'}.work_type"]
                     for t in types], dtype=object)


def derive_work(group: GroupInput, params: ParameterSet, theta: tuple[float, float, float] | None = None,  # noqa: C901 (complexity ratchet, #17: split before adding to it)
                hazard_source: str = "") -> WorkSet:
    notes: list[str] = []
    start, years = group.start_fiscal_year, group.horizon_years
    end = start + years - 1
    th = theta or (params.f("hazard.I"), params.f("hazard.II"), params.f("hazard.III"))
    src = hazard_source or "パラメータ表の健全性Ⅰ→Ⅱ・Ⅱ→Ⅲ・Ⅲ→Ⅳ のハザード率"
    sectors = set(group.sectors)
    facs = [f for f in group.facilities if not sectors or f.sector in sectors]
    n = len(facs)

    # --- coordinates -----------------------------------------------------------------------------------
    mem_ll = {m.lg_code: (m.office_lat, m.office_lon) for m in group.members}
    f_lat = np.array([np.nan if f.lat is None else f.lat for f in facs], dtype=float)
    f_lon = np.array([np.nan if f.lon is None else f.lon for f in facs], dtype=float)
    known = [(la, lo) for la, lo in mem_ll.values() if la is not None and lo is not None]
    if np.isfinite(f_lat).any():
        lat0, lon0 = float(np.nanmean(f_lat)), float(np.nanmean(f_lon))
    elif known:
        lat0, lon0 = float(np.mean([k[0] for k in known])), float(np.mean([k[1] for k in known]))
    else:
        lat0, lon0 = 35.0, 135.0
    if not known:
        notes.append("構成団体の庁舎の座標がないため、移動距離は群の中心を拠点として計算しました。")
    offices: dict[str, tuple[float, float]] = {}
    for code, (la, lo) in mem_ll.items():
        if la is None or lo is None:
            offices[code] = (0.0, 0.0)
        else:
            x, y = project_km(np.array([la]), np.array([lo]), lat0, lon0)
            offices[code] = (float(x[0]), float(y[0]))
    member = np.array([f.lg_code for f in facs], dtype=object)
    missing = ~np.isfinite(f_lat) | ~np.isfinite(f_lon)
    fx, fy = project_km(f_lat, f_lon, lat0, lon0)
    if missing.any():
        fx[missing] = [offices[c][0] for c in member[missing]]
        fy[missing] = [offices[c][1] for c in member[missing]]
        notes.append(f"座標のない施設 {int(missing.sum()):,} 件は管理団体の庁舎の位置で移動距離を計算しました。")

    ftype = np.array([f.facility_type for f in facs], dtype=object)
    sector = np.array([f.sector for f in facs], dtype=object)
    length = np.array([f.length_m if f.length_m is not None and math.isfinite(f.length_m) else np.nan for f in facs])
    no_len = ~np.isfinite(length)
    if no_len.any():
        length = np.where(no_len, 0.0, length)
        notes.append(f"延長のない施設 {int(no_len.sum()):,} 件は延長比例の単価を 0 として計算しました（1施設あたりの単価のみ）。")
    grade = np.array([0 if f.latest_grade is None else f.latest_grade for f in facs], dtype=np.int64)
    last_fy = np.array([-1 if f.latest_inspection_fy is None else f.latest_inspection_fy for f in facs], dtype=np.int64)
    cycle = np.where(np.isin(ftype, list(STATUTORY_TYPES)), params.f("inspection.cycle_years.statutory"),
                     params.f("inspection.cycle_years.other")).astype(np.int64)
    cycle = np.maximum(cycle, 1)
    never = grade == 0
    # long-run yearly probability of reaching Ⅲ when each repair resets to Ⅰ (stationary renewal chain)
    repair_rate = repair_probability(np.asarray(th, dtype=float), 2)[0] if n else 0.0
    if never.any():
        notes.append(f"点検記録のない施設 {int(never.sum()):,} 件は初年度に点検し、各点検でⅢ以上が見つかる見込みを"
                     f"「長期の年あたり補修確率 {repair_rate:.2%}（劣化モデルから）× 点検間隔」としました。")

    frames: list[pd.DataFrame] = []
    idx = np.arange(n)

    def add(kind: str, origin: str, sel: np.ndarray, year: np.ndarray, p: np.ndarray, cost: np.ndarray,
            cls: str, ctype: np.ndarray | str) -> None:
        if sel.size == 0:
            return
        frames.append(pd.DataFrame({
            "member": member[sel], "sector": sector[sel], "kind": kind, "origin": origin, "year": year,
            "fidx": sel, "n_sites": 1.0, "p": p, "cost": cost, "cls": cls,
            "ctype": ctype if isinstance(ctype, str) else ctype, "x": fx[sel], "y": fy[sel],
            "grade": grade[sel]}))

    # --- inspections due ---------------------------------------------------------------------------------
    first = np.where(never, start, last_fy + cycle)
    first = np.maximum(first, start)
    insp_cost = _unit(params, "inspection", ftype, length)
    prev_t = np.zeros(n)
    reach_prev = np.zeros(n)
    kmax = int(math.ceil(years / max(1, int(cycle.min())))) + 1 if n else 0
    g0 = np.where(never, 0, np.clip(grade - 1, 0, 3))  # 0-based
    base_fy = np.where(never, start, last_fy)
    for k in range(kmax):
        due = first + k * cycle
        sel = idx[due <= end]
        if sel.size == 0:
            break
        add("inspection", "cycle", sel, due[sel], np.ones(sel.size), insp_cost[sel], "service", "点検業務")
        # never inspected: the long-run rate over the cycle the inspection covers
        unknown = sel[never[sel]]
        if unknown.size:
            p_u = np.minimum(repair_rate * cycle[unknown], 1.0)
            yr_u = due[unknown]
            add("design", "new", unknown, yr_u, p_u, _unit(params, "design", ftype[unknown], length[unknown]), "service",
                "設計業務")
            add("works", "new", unknown, yr_u, p_u, _unit(params, "works", ftype[unknown], length[unknown]), "works",
                _repair_type(params, ftype[unknown]))
        # new Ⅲ found at this inspection: P(reach III by t) − P(reach by the previous inspection)
        cand = sel[(g0[sel] <= 1) & ~never[sel]]
        if cand.size:
            t = (due[cand] - base_fy[cand]).astype(float)
            reach = _p_reach_iii(th, g0[cand], t)
            p = np.clip(reach - reach_prev[cand], 0.0, 1.0)
            reach_prev[cand] = reach
            prev_t[cand] = t
            keep = p > 1e-9
            c2, p2 = cand[keep], p[keep]
            yr = due[c2]
            add("design", "new", c2, yr, p2, _unit(params, "design", ftype[c2], length[c2]), "service", "設計業務")
            add("works", "new", c2, yr, p2, _unit(params, "works", ftype[c2], length[c2]), "works",
                _repair_type(params, ftype[c2]))
    # --- backlog Ⅲ/Ⅳ ----------------------------------------------------------------------------------------
    back = idx[grade >= 3]
    if back.size:
        yr = np.full(back.size, start)
        one = np.ones(back.size)
        add("design", "backlog", back, yr, one, _unit(params, "design", ftype[back], length[back]), "service", "設計業務")
        add("works", "backlog", back, yr, one, _unit(params, "works", ftype[back], length[back]), "works",
            _repair_type(params, ftype[back]))
    # --- routine maintenance ---------------------------------------------------------------------------------
    rrows = []
    for m in group.members:
        values: dict[str, float] = {}
        if m.road_length_km > 0:
            values["road"] = m.road_length_km * params.f("routine.road_yen_per_km")
        if m.park_area_m2 > 0:
            values["park"] = m.park_area_m2 * params.f("routine.park_yen_per_m2")
        values.update({k: float(v) for k, v in m.routine_direct_yen.items()})
        for s in set(values) | set(m.routine_tasks):
            if sectors and s not in sectors:
                continue
            v = values.get(s, 0.0)
            tasks = m.routine_tasks.get(s) or max(1, math.ceil(v / params.f("routine.task_yen")))
            if v <= 0:
                v = tasks * params.f("routine.task_yen")
            wt_key = f"routine.work_type.{s}"
            wt = params.get(wt_key, "道路維持工事")
            for yv in range(start, end + 1):
                rrows.append((m.lg_code, s, yv, float(tasks), v, wt, *offices[m.lg_code]))
    if rrows:
        r = pd.DataFrame(rrows, columns=["member", "sector", "year", "n_sites", "cost", "ctype", "x", "y"])
        r["kind"], r["origin"], r["fidx"], r["p"], r["cls"], r["grade"] = "routine", "routine", -1, 1.0, "works", 0
        frames.append(r)
    cols = ["member", "sector", "kind", "origin", "year", "fidx", "n_sites", "p", "cost", "cls", "ctype", "x", "y", "grade"]
    rows = pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
    rows["year"] = rows["year"].astype(np.int64)
    rows["fidx"] = rows["fidx"].astype(np.int64)
    for c in ("n_sites", "p", "cost", "x", "y"):
        rows[c] = rows[c].astype(float)
    rows["grade"] = rows["grade"].astype(np.int64)
    return WorkSet(rows=rows, offices=offices, notes=tuple(notes), theta=th, hazard_source=src)


def _p_reach_iii(theta: tuple[float, float, float], g0: np.ndarray, t: np.ndarray) -> np.ndarray:
    """P(grade ≥ Ⅲ within t years | 0-based grade g0 ∈ {0, 1}) for the pure-birth chain I → II → III."""
    a, b = theta[0], theta[1]
    t = np.maximum(t, 0.0)
    from_ii = 1.0 - np.exp(-b * t)
    if abs(a - b) < 1e-12:
        from_i = 1.0 - np.exp(-a * t) * (1.0 + a * t)
    else:
        from_i = 1.0 - (b * np.exp(-a * t) - a * np.exp(-b * t)) / (b - a)
    return np.where(g0 >= 1, from_ii, from_i)
