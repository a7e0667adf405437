"""Baselines, the choice of method and the sweep over D: the public entry points of the districting engine.

``solve`` computes the distances, the three baselines, runs the heuristic (a feasible start, a valid lower
bound, or the explanation of infeasibility), the column generation (``columns``: better districts and a proven
lower bound — its LP value when the exact pricing finishes, a Lagrangian bound otherwise) and — for instances
small enough, when the gap is still above 0.1 % — the exact model with the best districts as a hint, and
returns the best districts with the largest of the bounds. A result within OPTIMAL_GAP (0.1 %) of its bound is
"optimal" (issue #14's criterion); the gap is reported either way.

The separate baseline ("each municipality alone") is the study's and today's: each municipality one pool,
however wide — how they order now, which D does not bind. Beside it, ``separate_within_d`` districts each
municipality wider than D on its own (``municipalities_alone``, a tenth of the time limit shared by those): what
respecting D alone would cost, and the whole districting it makes is one more feasible start. ``sweep``
solves each D in increasing order, starting each from the previous solution (a districting feasible for D is
feasible for every larger D), so the objective cannot increase with D.

Weighted points (``FacilityPoint.weight``): every count is Σ weight; the exact model reads unit points only, so
an instance with any weight ≠ 1 is solved by the heuristic (its gap to the lower bound is reported).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from gunmane.engine.districting import columns, exact, lenses
from gunmane.engine.districting.contracts import expected_contracts_weighted, f_table, individual
from gunmane.engine.districting.geo import EARTH_RADIUS_KM, distance_matrix
from gunmane.engine.districting.heuristic import point_qs, point_weights, solve_heuristic
from gunmane.engine.districting.types import (
    Baselines,
    Infeasibility,
    Instance,
    Method,
    Region,
    Result,
    Status,
)

MethodChoice = Literal["auto", "exact", "heuristic"]

EXACT_MAX_POINTS = 400  # "auto" tries the exact model up to this many facilities
_HEURISTIC_SHARE = 0.15  # of the time limit, for the heuristic's start when the exact model follows
_COLUMNS_SHARE = 0.95  # of the time after the heuristic, for the pool of districts (``columns``) before the exact model
# (the pool proves the study-sized instances; CP-SAT over 322 facilities closed none of their gaps in 23 s)
# With few districts the assignment model is strong (few slots) and the pool's LP weak (f nearly linear: q = 0.1 at
# D = 40 km was proven by CP-SAT in 16–27 s and not by the pool in 50 s): the pool a third, CP-SAT the rest
_FEW_DISTRICTS = 3
_COLUMNS_SHARE_FEW = 0.35
# the exact model is tried after the pool only with this share of the time limit left: building it over 322
# facilities takes seconds that its own time limit does not count (it ran 13.9 s with 2 s left)
_EXACT_MIN_SHARE = 0.2
_HEURISTIC_ALONE_SHARE = 0.6  # without the exact model: the heuristic's share, the pool has the rest
_SEPARATE_SHARE = 0.1  # of the time limit, for districting the municipalities wider than D on their own
OPTIMAL_GAP = 1e-3  # a result within 0.1 % of its proven lower bound is reported "optimal" (issue #14)


def instance_distances(instance: Instance) -> np.ndarray:
    lat = np.array([p.lat for p in instance.points], dtype=float)
    lon = np.array([p.lon for p in instance.points], dtype=float)
    return distance_matrix(lat, lon)


def baselines(instance: Instance, dist: np.ndarray, within_d: float | None = None) -> Baselines:
    """Each municipality alone (one pool each, as today), everything together (when every pair is within D),
    every repair alone; and ``within_d``, each municipality alone under D (``municipalities_alone``), when known."""
    qs = point_qs(instance)
    ws = [p.weight for p in instance.points]
    by_lg: dict[str, tuple[list[float], list[int]]] = {}
    for p, q in zip(instance.points, qs, strict=True):
        g = by_lg.setdefault(p.lg_code, ([], []))
        g[0].append(q)
        g[1].append(p.weight)
    separate = math.fsum(expected_contracts_weighted(v, w, instance.bundle_limit) for v, w in by_lg.values())
    together = len(qs) == 0 or float(dist.max()) <= instance.max_distance_km + 1e-9
    single = expected_contracts_weighted(qs, ws, instance.bundle_limit) if together else None
    return Baselines(separate=separate, single=single, individual=individual(qs, ws), separate_within_d=within_d)


@dataclass(frozen=True)
class Alone:
    """Each municipality ordering alone under D: Σ of each one's best districting found, the districting of the
    whole instance it makes (a feasible start), and how many municipalities had to be split (wider than D)."""

    cost: float
    labels: tuple[int, ...] | None  # None when some municipality could not be districted (M, or no time)
    split: int
    proven: bool  # every split municipality's districting was proven optimal (gap ≤ OPTIMAL_GAP)


def municipalities_alone(instance: Instance, dist: np.ndarray, *, time_limit_s: float) -> Alone:
    """Each municipality districted on its own under D (its own best partition within ``time_limit_s`` shared
    by those wider than D; one district where every pair is within D). Ignores M: it is the whole instance's."""
    by_lg: dict[str, list[int]] = {}
    for i, p in enumerate(instance.points):
        by_lg.setdefault(p.lg_code, []).append(i)
    wide = [m for m in by_lg.values() if len(m) > 1
            and float(dist[np.ix_(m, m)].max()) > instance.max_distance_km + 1e-9]
    labels = [0] * len(instance.points)
    total: list[float] = []
    top, proven = 0, True
    for members in by_lg.values():
        sub = replace(instance, points=tuple(instance.points[i] for i in members), regions=None, max_regions=None)
        if members in wide:
            res = _solve(sub, dist[np.ix_(members, members)], time_limit_s=max(0.5, time_limit_s / len(wide)),
                         method="auto", start=None, alone=False)
            if res.objective is None:
                return Alone(math.nan, None, len(wide), False)
            proven &= res.status == "optimal"
            index = {p.id: k for k, p in enumerate(sub.points)}
            sub_labels = [0] * len(members)
            for r in res.regions:
                for fid in r.facility_ids:
                    sub_labels[index[fid]] = r.id - 1
            total.append(res.objective)
        else:
            sub_labels = [0] * len(members)
            total.append(_objective(sub, sub_labels))
        for i, k in zip(members, sub_labels, strict=True):
            labels[i] = top + k
        top += max(sub_labels) + 1
    return Alone(math.fsum(total), tuple(labels), len(wide), proven)


def is_weighted(instance: Instance) -> bool:
    """Whether some point stands for more than one facility."""
    return any(p.weight != 1 for p in instance.points)


def regions_of(instance: Instance, dist: np.ndarray, assignment: Sequence[int]) -> tuple[Region, ...]:
    """The districts of an assignment: ids 1…K by size (largest first), members per municipality."""
    qs = point_qs(instance)
    groups: dict[int, list[int]] = {}
    for i, d in enumerate(assignment):
        groups.setdefault(int(d), []).append(i)
    pts = instance.points
    ordered = sorted(groups.values(), key=lambda m: (-sum(pts[i].weight for i in m), min(m)))
    out = []
    for k, mem in enumerate(ordered, start=1):
        members: dict[str, int] = {}
        for i in mem:
            members[pts[i].lg_code] = members.get(pts[i].lg_code, 0) + pts[i].weight
        sub = dist[np.ix_(mem, mem)]
        out.append(Region(id=k, facility_ids=tuple(pts[i].id for i in mem),
                          members=dict(sorted(members.items())), max_distance_km=float(sub.max()),
                          expected_contracts=expected_contracts_weighted(
                              [qs[i] for i in mem], [pts[i].weight for i in mem], instance.bundle_limit)))
    return tuple(out)


def _assumptions(instance: Instance, method: Method, gap: float | None, status: Status, *,
                 pooled: bool = False) -> tuple[str, ...]:
    """``pooled``: the column generation (``columns``) ran: the districts come from it or were checked by it."""
    qs = point_qs(instance)
    own = sum(p.q is not None for p in instance.points)
    q_text = f"補修需要確率 q = {instance.q:.4g}（年・施設あたり）"
    if instance.q_source:
        q_text += f"、出典: {instance.q_source}"
    if own:
        q_text += (f"。{own} 施設は個別の q（{min(qs):.4g}〜{max(qs):.4g}）を使い、"
                   "地区の期待契約数はポアソン二項分布で計算しています")
    limit = ("地区数の指定なし" if instance.regions is None and instance.max_regions is None
             else f"地区数ちょうど {instance.regions}" if instance.regions is not None
             else f"地区数最大 {instance.max_regions}")
    how = ("厳密解法（CP-SAT、下界の証明つき）" if method == "exact" else
           "構築＋局所探索のヒューリスティックと、候補地区の列生成（集合分割の線形緩和を厳密な価格付けで解き、"
           "候補から整数計画で選ぶ）" if pooled else "構築＋局所探索のヒューリスティック")
    gap_text = "最適性を確認済み" if status == "optimal" else (
        f"下界との差（ギャップ） {gap * 100:.2f} %" if gap is not None else "ギャップなし")
    weighted = ((f"地点には複数の施設を代表するもの（重み、計 {sum(p.weight for p in instance.points):,} 施設を "
                 f"{len(instance.points):,} 地点で表す）があります。一つの地点の施設は分けずに同じ地区に入れます。",)
                if is_weighted(instance) else ())
    return (
        q_text + "。",
        *weighted,
        f"施設間の距離は地球を半径 {EARTH_RADIUS_KM:,.0f} km の球とした大円距離（ハバーサイン公式）です。",
        f"1契約でまとめられる補修は最大 L = {instance.bundle_limit} 件。地区の期待契約数は、地区内で1年に補修が"
        "必要になる件数を L で割って切り上げた数の期待値です。",
        f"同じ地区の施設はどの2つも {instance.max_distance_km:g} km 以内（D）、{limit}。",
        f"解法: {how}。{gap_text}。",
    )


def _objective(instance: Instance, assignment: Sequence[int]) -> float:
    qs = point_qs(instance)
    groups: dict[int, tuple[list[float], list[int]]] = {}
    for q, p, d in zip(qs, instance.points, assignment, strict=True):
        g = groups.setdefault(int(d), ([], []))
        g[0].append(q)
        g[1].append(p.weight)
    return math.fsum(expected_contracts_weighted(v, w, instance.bundle_limit) for v, w in groups.values())


def _feasible(instance: Instance, dist: np.ndarray, assignment: Sequence[int]) -> bool:
    a = np.asarray(assignment)
    k = len(np.unique(a))
    if instance.regions is not None and k != instance.regions:
        return False
    if instance.max_regions is not None and k > instance.max_regions:
        return False
    same = a[:, None] == a[None, :]
    return not bool((same & (dist > instance.max_distance_km + 1e-9)).any())


def _solve(instance: Instance, dist: np.ndarray, *, time_limit_s: float, method: MethodChoice,
           start: tuple[int, ...] | None, alone: bool = True) -> Result:
    """``alone``: work out the separate baseline under D (``municipalities_alone``; not for its own sub-solves)."""
    t_start = time.monotonic()
    sep = municipalities_alone(instance, dist, time_limit_s=_SEPARATE_SHARE * time_limit_s) if alone else None
    base = baselines(instance, dist, sep.cost if sep is not None and sep.labels is not None else None)
    notes = _separate_notes(sep)
    t0 = time.monotonic()
    time_limit_s = max(0.5, time_limit_s - (t0 - t_start))
    n = len(instance.points)
    # the exact model counts unit points: weighted instances go to the heuristic (module docstring)
    use_exact = not is_weighted(instance) and (method == "exact" or (method == "auto" and n <= EXACT_MAX_POINTS))
    pool = n <= columns.MAX_POINTS
    h_time = time_limit_s * (_HEURISTIC_SHARE if use_exact else _HEURISTIC_ALONE_SHARE if pool else 1.0)
    heur = solve_heuristic(instance, dist, time_limit_s=h_time, start=start)
    common = dict(baselines=base, q=instance.q, bundle_limit=instance.bundle_limit,
                  max_distance_km=instance.max_distance_km)
    # proven (a conflict clique larger than M, or M > N: the bound is infinite), or not found and nothing else to try
    if heur.infeasibility is not None and (math.isinf(heur.bound) or not use_exact):
        return _infeasible(instance, heur.infeasibility, "heuristic", t_start, common)
    # feasible starts: each municipality alone under D, the previous D's districts (a sweep), the local search
    candidates: list[tuple[float, tuple[int, ...], Method]] = [
        (_objective(instance, a), tuple(a), "heuristic") for a in (sep.labels if sep is not None else None, start,
                                                                    heur.assignment)
        if a is not None and _feasible(instance, dist, a)]
    bound = heur.bound
    gen = None
    if candidates and pool and min(c[0] for c in candidates) > heur.bound + 1e-9:
        best = min(candidates, key=lambda c: c[0])[1]
        share = _COLUMNS_SHARE_FEW if len(set(best)) <= _FEW_DISTRICTS else _COLUMNS_SHARE
        until = t0 + time_limit_s * (_HEURISTIC_SHARE + share * (1 - _HEURISTIC_SHARE) if use_exact else 1.0)
        gen = _pooled(instance, dist, best, deadline=until)
        if gen is not None:
            if gen.assignment is not None and _feasible(instance, dist, gen.assignment):
                candidates.append((_objective(instance, gen.assignment), gen.assignment, "heuristic"))
            bound = max(bound, gen.bound)
    proven = False
    remaining = time_limit_s - (time.monotonic() - t0)
    if use_exact and _gap(min((c[0] for c in candidates), default=math.inf), bound) > OPTIMAL_GAP and (
            remaining >= _EXACT_MIN_SHARE * time_limit_s or gen is None):
        remaining = max(1.0, remaining)
        hint = min(candidates, key=lambda c: c[0])[1] if candidates else None
        try:
            ex = exact.solve_exact(instance, dist, time_limit_s=remaining, hint=hint)
        except NotImplementedError:
            ex = None
        if ex is not None:
            if ex.status == "infeasible":
                reason = heur.infeasibility or Infeasibility(
                    reason=f"厳密解法により、距離 {instance.max_distance_km:g} km と地区数の条件を満たす地区割りが"
                           "存在しないことを確認しました。")
                return _infeasible(instance, reason, "exact", t_start, common)
            if ex.bound is not None:
                bound = max(bound, ex.bound)
            if ex.status in ("optimal", "feasible") and ex.assignment and _feasible(instance, dist, ex.assignment):
                candidates.append((_objective(instance, ex.assignment), ex.assignment, "exact"))
                proven = ex.status == "optimal" and not any(p.q is not None for p in instance.points)
    if gen is not None and gen.bound >= bound - 1e-12 and gen.bound > heur.bound:
        notes += (_bound_note(gen),)
    if not candidates:
        assert heur.infeasibility is not None
        return _infeasible(instance, heur.infeasibility, "heuristic", t_start, common)
    objective, assignment, used = min(candidates, key=lambda c: c[0])
    if proven and used == "exact":
        bound = max(bound, objective) if objective - bound <= 1e-6 * max(1.0, objective) else bound
    bound = min(bound, objective)
    gap = _gap(objective, bound)
    status: Status = "optimal" if gap <= OPTIMAL_GAP else "feasible"
    return Result(status=status, method=used, objective=objective, bound=bound, gap=gap,
                  regions=regions_of(instance, dist, assignment), seconds=time.monotonic() - t_start,
                  assumptions=_assumptions(instance, used, gap, status,
                                           pooled=gen is not None and gen.rounds > 0) + notes,
                  **common)  # type: ignore[arg-type]


def _gap(objective: float, bound: float) -> float:
    return 0.0 if objective <= 0 else max(0.0, (objective - bound) / objective)


def _separate_notes(sep: Alone | None) -> tuple[str, ...]:
    if sep is None or sep.split == 0:
        return ()
    if sep.labels is None:
        return (f"{sep.split} 団体は施設どうしが D より離れていますが、団体内の地区割りが時間内に見つからなかったため、"
                "「各団体が単独で、D の中で発注」は求めていません。",)
    how = "最適性を確認済み" if sep.proven else "時間内に見つけた最良の分け方で、最適とは限りません"
    return ("「各団体が単独で発注」はいまの発注のとおり団体ごとに1つ（D によらない、研究と同じ基準）です。"
            f"施設どうしが D より離れている {sep.split} 団体があるため、「各団体が単独で、D の中で発注」として、"
            f"その団体を団体の中だけで D を守る地区に分けた値も示します（{how}）。",)


def _bound_note(gen: columns.Generated) -> str:
    if gen.lp_proven:
        return ("下界は列生成による線形緩和の値です（価格付け問題を厳密に解き、目的関数を下げる地区が残っていないことを"
                "確認済み）。")
    return ("下界は列生成のラグランジュ下界です（線形緩和の値から、まだ調べ切れていない地区による改善の上限を"
            "差し引いた値）。")


def _pooled(instance: Instance, dist: np.ndarray, start: tuple[int, ...], *, deadline: float
            ) -> columns.Generated | None:
    """The column-generation stage (``columns``) from ``start``: one shared q, no exact M."""
    if instance.regions is not None or any(p.q is not None for p in instance.points):
        return None
    weight = point_weights(instance)
    table = np.asarray(f_table(int(weight.sum()) + 1, instance.q, instance.bundle_limit))
    xyz = lenses.unit_vectors(np.array([p.lat for p in instance.points]), np.array([p.lon for p in instance.points]))
    return columns.generate(dist, instance.max_distance_km, weight, table, start,
                            max_regions=instance.max_regions, deadline=deadline,
                            slope=instance.q / instance.bundle_limit, xyz=xyz, target_gap=OPTIMAL_GAP)


def _infeasible(instance: Instance, why: Infeasibility, method: Method, t0: float, common: dict[str, object]
                ) -> Result:
    return Result(status="infeasible", method=method, objective=None, bound=None, gap=None, regions=(),
                  seconds=time.monotonic() - t0, infeasibility=why,
                  assumptions=_assumptions(instance, method, None, "infeasible"), **common)  # type: ignore[arg-type]


def solve(instance: Instance, *, time_limit_s: float = 60.0, method: MethodChoice = "auto") -> Result:
    """The best districting found within the time limit, with its bound, gap, baselines and assumptions."""
    return _solve(instance, instance_distances(instance), time_limit_s=time_limit_s, method=method, start=None)


def sweep(instance: Instance, distances_km: Sequence[float], *, time_limit_s: float = 60.0,
          method: MethodChoice = "auto") -> list[Result]:
    """``solve`` for each D (``time_limit_s`` each), in the order given; each D starts from the best solution of
    the largest smaller D already solved, so the objective is non-increasing in D."""
    dist = instance_distances(instance)
    out: dict[int, Result] = {}
    start: tuple[int, ...] | None = None
    index = {p.id: i for i, p in enumerate(instance.points)}
    for pos in sorted(range(len(distances_km)), key=lambda i: distances_km[i]):
        inst = replace(instance, max_distance_km=float(distances_km[pos]))
        res = _solve(inst, dist, time_limit_s=time_limit_s, method=method, start=start)
        out[pos] = res
        if res.regions:
            labels = [0] * len(instance.points)
            for r in res.regions:
                for fid in r.facility_ids:
                    labels[index[fid]] = r.id - 1
            start = tuple(labels)
    return [out[i] for i in range(len(distances_km))]
