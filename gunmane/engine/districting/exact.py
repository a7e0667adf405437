"""The exact districting model (OR-Tools CP-SAT): the optimum of Σ f(N_k, L) with a proven bound.

The model (docs/districting.md 「厳密解（CP-SAT）」):

* K district slots; x[i, k] = 1 when facility i is in district k; every facility in exactly one district.
* Conflicts: x[i, k] + x[j, k] ≤ 1 for every pair farther apart than D (great circle, ``dist``).
* Sizes: n_k = Σ_i x[i, k]; one-hot s[k, n] (Σ_n s[k, n] = 1, Σ_n n·s[k, n] = n_k) reads f exactly at every
  integer: the objective Σ_k Σ_n F(n)·s[k, n], F(n) = ⌊f(n)·SCALE⌋ (rounded down, so CP-SAT's bound divided by
  SCALE is a valid lower bound on the true Σ f).
* Symmetry breaking: a clique of the conflict graph (facilities pairwise farther apart than D) is fixed to
  districts 0…ω−1, one each (every partition puts them apart); the other facilities are numbered after it and
  facility i may only be in districts ≤ i; the districts after the clique are used in order. Every partition
  has exactly one labelling that satisfies this (districts sorted by their smallest member), so nothing is cut.
* No pair farther than D (and no exact M): one district, without a model — f is subadditive.
* K: exactly M (``regions``), at most M (``max_regions``), and never more than an optimal solution can use.
  Write f(n) = n·q/L + g(n) with g ≥ 0 (E⌈X/L⌉ ≥ EX/L); every solution with K districts costs at least
  N·q/L + K·min_{n≥1} g(n), so an optimum costs at most UB (the hint's or a greedy partition's cost) only if
  K ≤ (UB − N·q/L) / min g. The hint's count alone would not do: an optimum may use more, smaller districts.

Per-facility q: f then depends on which facilities a district holds, not on its size alone, and this model
reads f by size only; when the points' q differ it returns status "unknown" (the caller uses the heuristic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

from gunmane.engine.districting.contracts import f_table
from gunmane.engine.districting.types import Instance

SCALE = 10**7  # f in 1e-7 contracts a year: CP-SAT needs integers; f is below N, so sums stay far inside int64
_EPS = 1e-9


@dataclass(frozen=True)
class ExactOutcome:
    status: Literal["optimal", "feasible", "infeasible", "unknown"]
    assignment: tuple[int, ...]  # district index (0…K−1, contiguous) of each point, in the instance's order
    objective: float | None
    bound: float | None  # CP-SAT's proven lower bound on Σ f (in the same units)
    slots: int = 0  # K, the district slots the model had
    clique: tuple[int, ...] = ()  # indices of facilities pairwise farther than D (each needs its own district)
    seconds: float = 0.0  # CP-SAT's wall time
    note: str = ""  # why "unknown" (Japanese)


def _single_q(instance: Instance) -> float | None:
    """The one q every point has, or None when they differ."""
    qs = {instance.q if p.q is None else p.q for p in instance.points}
    return qs.pop() if len(qs) == 1 else None


def conflict_clique(conflict: np.ndarray) -> list[int]:
    """A large clique of the conflict graph (greedy from every start, most-conflicting candidates first).

    Facilities of a clique must all be in different districts: its size is a lower bound on the number of
    districts, and fixing it is the model's symmetry breaking."""
    n = conflict.shape[0]
    degree = conflict.sum(axis=1)
    best: list[int] = []
    for start in np.argsort(-degree, kind="stable")[: min(n, 64)]:
        clique = [int(start)]
        candidates = conflict[start].copy()
        while candidates.any():
            idx = np.nonzero(candidates)[0]
            # the candidate that keeps the most other candidates alive
            keep = conflict[np.ix_(idx, idx)].sum(axis=1)
            nxt = int(idx[int(np.argmax(keep))])
            clique.append(nxt)
            candidates &= conflict[nxt]
        if len(clique) > len(best):
            best = clique
    return best


def greedy_partition(conflict: np.ndarray, order: list[int]) -> list[int]:
    """A feasible partition (first fit: each facility into the first district it conflicts with nobody in)."""
    n = conflict.shape[0]
    assignment = [-1] * n
    members: list[list[int]] = []
    for i in order:
        for k, group in enumerate(members):
            if not conflict[i, group].any():
                group.append(i)
                assignment[i] = k
                break
        else:
            members.append([i])
            assignment[i] = len(members) - 1
    return assignment


def _cost(assignment: list[int] | tuple[int, ...], f: tuple[float, ...]) -> float:
    sizes: dict[int, int] = {}
    for k in assignment:
        sizes[k] = sizes.get(k, 0) + 1
    return math.fsum(f[n] for n in sizes.values())


def _feasible(assignment: tuple[int, ...], conflict: np.ndarray) -> bool:
    a = np.asarray(assignment)
    same = a[:, None] == a[None, :]
    return not bool((same & conflict).any())


def _contiguous(labels: list[int]) -> tuple[int, ...]:
    """District labels renumbered 0, 1, … in order of first appearance."""
    seen: dict[int, int] = {}
    return tuple(seen.setdefault(k, len(seen)) for k in labels)


def slot_bound(n: int, f: tuple[float, ...], q: float, bundle_limit: int, upper: float) -> int:
    """At most this many districts in an optimal solution of cost ≤ ``upper`` (see the module docstring)."""
    g_min = min(f[m] - m * q / bundle_limit for m in range(1, n + 1))
    if g_min <= 1e-12:
        return n
    return min(n, int(math.floor((upper - n * q / bundle_limit) / g_min + 1e-9)))


def solve_exact(instance: Instance, dist: np.ndarray, *, time_limit_s: float, workers: int = 2,
                hint: tuple[int, ...] | None = None) -> ExactOutcome:
    """Solve ``instance`` (``dist`` its pairwise km) exactly within the time limit; ``hint`` a feasible start."""
    n = len(instance.points)
    q = _single_q(instance)
    if q is None:
        return ExactOutcome("unknown", (), None, None,
                            note="施設ごとに補修需要確率が異なるため、厳密解（規模だけで期待契約件数が決まるモデル）は使えません。")
    if n == 0:
        return ExactOutcome("optimal", (), 0.0, 0.0)
    L = instance.bundle_limit
    f = f_table(n, q, L)
    conflict = np.asarray(dist) > instance.max_distance_km + _EPS
    np.fill_diagonal(conflict, False)
    exact_m = instance.regions
    max_m = instance.max_regions if instance.regions is None else instance.regions

    clique = conflict_clique(conflict)
    omega = len(clique)
    if max_m is not None and (omega > max_m or max_m < 1 or (exact_m is not None and exact_m > n)):
        return ExactOutcome("infeasible", (), None, None, slots=max_m, clique=tuple(clique))
    if omega == 1 and exact_m is None:
        # No pair farther than D: one district is optimal, since f is subadditive (⌈(x+y)/L⌉ ≤ ⌈x/L⌉ + ⌈y/L⌉
        # and the repairs of two districts add up), so merging any two districts never costs more.
        return ExactOutcome("optimal", (0,) * n, f[n], f[n], slots=1, clique=tuple(clique))

    # Facilities renumbered: the clique first, then the rest by how much they conflict (the harder ones early,
    # where they have few districts to choose from).
    in_clique = set(clique)
    degree = conflict.sum(axis=1)
    rest = sorted((i for i in range(n) if i not in in_clique), key=lambda i: (-int(degree[i]), i))
    order = clique + rest  # order[r] = original index of the facility numbered r

    start = _start(hint, conflict, order, f, exact_m, max_m)
    slots = _slots(n, f, q, L, start, omega, exact_m, max_m)
    built = _build(conflict, order, clique, slots, f, exact_m)
    if built is None:
        return ExactOutcome("infeasible", (), None, None, slots=slots, clique=tuple(clique))
    model, x = built
    for r, k in enumerate(_labelled(start, order) if start is not None else ()):
        for kk in range(slots):
            if (r, kk) in x:
                model.add_hint(x[r, kk], kk == k)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = max(1, int(workers))
    code = solver.solve(model)
    seconds = float(solver.wall_time)
    if code == cp_model.INFEASIBLE:
        return ExactOutcome("infeasible", (), None, None, slots=slots, clique=tuple(clique), seconds=seconds)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if start is None:
            return ExactOutcome("unknown", (), None, None, slots=slots, clique=tuple(clique), seconds=seconds,
                                note="時間内に実行可能な区割りが見つかりませんでした。")
        # CP-SAT found nothing better in time: the start stands, with the bound f(N) (f is subadditive, so no
        # partition costs less than one district of everything).
        return ExactOutcome("feasible", _contiguous(list(start)), _cost(start, f), min(f[n], _cost(start, f)),
                            slots=slots, clique=tuple(clique), seconds=seconds)
    labels = [0] * n
    for (r, k), v in x.items():
        if solver.boolean_value(v):
            labels[order[r]] = k
    assignment = _contiguous(labels)
    value = _cost(assignment, f)
    bound = min(value, solver.best_objective_bound / SCALE)
    status: Literal["optimal", "feasible"] = "optimal" if code == cp_model.OPTIMAL else "feasible"
    return ExactOutcome(status, assignment, value, bound, slots=slots, clique=tuple(clique), seconds=seconds)


def _labelled(assignment: tuple[int, ...], order: list[int]) -> list[int]:
    """A partition's one labelling under the symmetry breaking (districts sorted by their smallest-ranked
    member; the clique facilities have ranks 0…ω−1, so their districts come first): the district of each rank."""
    first: dict[int, int] = {}
    for i in order:
        first.setdefault(assignment[i], len(first))
    return [first[assignment[i]] for i in order]


def _start(hint: tuple[int, ...] | None, conflict: np.ndarray, order: list[int], f: tuple[float, ...],
           exact_m: int | None, max_m: int | None) -> tuple[int, ...] | None:
    """The cheaper of the hint (when feasible under D and M) and the greedy partition (when it keeps to M)."""
    def fits(a: tuple[int, ...]) -> bool:
        k = len(set(a))
        return (max_m is None or k <= max_m) and (exact_m is None or k == exact_m) and _feasible(a, conflict)

    found = [a for a in ((tuple(hint) if hint is not None and len(hint) == len(order) else None),
                         tuple(greedy_partition(conflict, order))) if a is not None and fits(a)]
    return min(found, key=lambda a: _cost(a, f)) if found else None


def _build(conflict: np.ndarray, order: list[int], clique: list[int], slots: int, f: tuple[float, ...],
           exact_m: int | None) -> tuple[cp_model.CpModel, dict[tuple[int, int], cp_model.IntVar]] | None:
    """The CP-SAT model (module docstring) over facility ranks; None when some facility has no district left."""
    n, omega = len(order), len(clique)
    model = cp_model.CpModel()
    F = [int(math.floor(v * SCALE)) for v in f]
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for r, i in enumerate(order):
        for k in range(min(r, slots - 1) + 1):
            if k < omega and r != k and (r < omega or conflict[i, clique[k]]):
                continue  # another clique facility, or one it is farther than D from, holds that district
            x[r, k] = model.new_bool_var(f"x{r}_{k}")
    for r in range(n):
        vs = [x[r, k] for k in range(slots) if (r, k) in x]
        if not vs:
            return None
        model.add_exactly_one(vs)
    for k in range(omega):
        model.add(x[k, k] == 1)
    rank = {i: r for r, i in enumerate(order)}
    ci, cj = np.nonzero(np.triu(conflict, k=1))
    for a, b in zip(ci.tolist(), cj.tolist(), strict=True):
        ra, rb = rank[a], rank[b]
        for k in range(min(ra, rb, slots - 1) + 1):
            if (ra, k) in x and (rb, k) in x:
                model.add_bool_or([x[ra, k].negated(), x[rb, k].negated()])
    members: list[list[cp_model.IntVar]] = [[] for _ in range(slots)]
    for (_r, k), v in x.items():
        members[k].append(v)
    objective = []
    empty: list[cp_model.IntVar | None] = []
    for k in range(slots):
        lo = 1 if (k < omega or exact_m is not None) else 0
        sizes = range(lo, len(members[k]) + 1)
        s = {m: model.new_bool_var(f"s{k}_{m}") for m in sizes}
        model.add_exactly_one(s.values())
        model.add(sum(m * s[m] for m in sizes) == sum(members[k]))
        objective += [F[m] * s[m] for m in sizes if F[m]]
        empty.append(s[0] if lo == 0 else None)
    for k in range(omega, slots - 1):  # districts after the clique are used in order
        cur, nxt = empty[k], empty[k + 1]
        if cur is not None and nxt is not None:
            model.add_implication(cur, nxt)
    model.minimize(sum(objective))
    return model, x


def _slots(n: int, f: tuple[float, ...], q: float, bundle_limit: int, start: tuple[int, ...] | None, omega: int,
           exact_m: int | None, max_m: int | None) -> int:
    """K: exactly M, else the slot bound from the start's cost (never fewer than the start or the clique needs)."""
    if exact_m is not None:
        return exact_m
    if start is None:
        return n if max_m is None else min(n, max_m)
    slots = max(slot_bound(n, f, q, bundle_limit, _cost(start, f)), len(set(start)), omega)
    return slots if max_m is None else min(slots, max_m)
