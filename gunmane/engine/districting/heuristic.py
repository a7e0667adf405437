"""A feasible start, local search and a valid lower bound, for instances too big for the exact model.

The objective Σ f(N_k, L) depends only on the districts' sizes (with one q), f is increasing, and f is
subadditive: ⌈(a + b)/L⌉ ≤ ⌈a/L⌉ + ⌈b/L⌉ for the repair counts of two districts, so merging two compatible
districts never costs more. Hence the search works on sizes: a feasible start (each municipality's facilities,
split into cliques of the compatible graph when the municipality is wider than D), merges, then moves of one
facility into another district it fits (every pair within D), accepted when Σ f does not increase, and the
dissolution of small districts into others — all bounded by time.

The lower bound (``size_bound``) relaxes the geography to two facts that any districting must respect:
- a clique of the conflict graph (facilities pairwise farther than D) needs that many districts;
- a district containing facility i has at most s_i facilities: s_i ≤ |N[i]|, N[i] = {j : d(i, j) ≤ D}, and
  s_i ≤ max_j |N[i] ∩ N[j]| over the j compatible with i (``district_room``); no district is larger than
  S = max_i s_i;
and minimises Σ f(n_k) over sizes n_1…n_K (Σ n_k = N, 1 ≤ n_k ≤ S, K allowed by M and the clique) exactly, by
dynamic programming over the f table. A second bound charges each facility its share f(n)/n of its district:
n ≤ s_i, so the share is at least g(s_i) = min_{n ≤ s_i} f(n)/n, and Σ f ≥ Σ_i g(s_i). With per-facility q, f with every q replaced by the smallest is a lower
bound (E⌈X/L⌉ is increasing in each q), and so is E X / L = Σ q / L; the bound takes the larger.

Weighted points (``FacilityPoint.weight``, w facilities at one position): sizes are Σ w, a move carries a whole
point (never part of it), neighbourhoods are weighted sums (s_i = Σ_{j ∈ N[i]} w_j), the per-facility bound
charges w_i·g(s_i), and for weighted instances the size DP — O(K·S·N) in the facilities — is skipped above
SIZE_DP_BUDGET operations (the per-facility and Σ q / L bounds remain; both valid).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from gunmane.engine.districting.contracts import f_table
from gunmane.engine.districting.types import Infeasibility, Instance

_EPS = 1e-12


@dataclass(frozen=True)
class HeuristicOutcome:
    assignment: tuple[int, ...] | None  # None when infeasible
    objective: float | None
    bound: float  # a valid lower bound on the optimum of Σ f
    infeasibility: Infeasibility | None


def point_qs(instance: Instance) -> list[float]:
    """Each facility's repair probability (its own, or the instance's)."""
    return [instance.q if p.q is None else p.q for p in instance.points]


def point_weights(instance: Instance) -> np.ndarray:
    """Each point's weight (the facilities it stands for), as integers."""
    return np.array([p.weight for p in instance.points], dtype=np.int64)


def conflict_clique(conflict: np.ndarray, *, tries: int = 8, seed: int = 0) -> list[int]:
    """A large set of facilities pairwise in conflict (greedy, from several starts): each needs its own district."""
    n = conflict.shape[0]
    if n == 0:
        return []
    degree = conflict.sum(axis=1)
    order = np.argsort(-degree, kind="stable")
    rng = np.random.default_rng(seed)
    starts = [int(order[0])] + [int(i) for i in rng.choice(n, size=min(n, tries - 1), replace=False)]
    best: list[int] = []
    for s in starts:
        clique = [s]
        cand = conflict[s].copy()
        while cand.any():
            idx = np.flatnonzero(cand)
            # the candidate with the most conflicts among the remaining candidates keeps the most options open
            pick = int(idx[np.argmax(conflict[np.ix_(idx, idx)].sum(axis=1))]) if len(idx) <= 2000 \
                else int(idx[np.argmax(degree[idx])])
            clique.append(pick)
            cand &= conflict[pick]
        if len(clique) > len(best):
            best = clique
    return sorted(best)


SIZE_DP_BUDGET = 3 * 10**8  # array operations the size DP may take (weighted instances of many facilities)


def size_bound(table: tuple[float, ...] | np.ndarray, n: int, cap: int, k_min: int, k_max: int) -> float:
    """min Σ f(n_k) over K ∈ [k_min, k_max] sizes 1 ≤ n_k ≤ cap summing to n (inf if none): exact DP.

    Only K ≤ max(k_min, 2n/cap + 1) need be tried: with more parts two of them sum to ≤ cap, and merging them
    does not increase Σ f (subadditivity), so an optimum with fewer parts exists (when K > k_min)."""
    if n == 0:
        return 0.0 if k_min <= 0 else math.inf
    f = np.asarray(table, dtype=float)
    cap = max(1, min(cap, n))
    k_top = min(k_max, n, max(k_min, 2 * n // cap + 1))
    if k_top < max(k_min, 1):
        return math.inf
    best = math.inf
    prev = np.full(n + 1, math.inf)
    prev[0] = 0.0
    fs = f[1:cap + 1]
    for k in range(1, k_top + 1):
        cur = np.full(n + 1, math.inf)
        for s in range(1, cap + 1):  # cur[m] = min_s prev[m − s] + f(s)
            np.minimum(cur[s:], prev[:n + 1 - s] + fs[s - 1], out=cur[s:])
        prev = cur
        if k >= k_min:
            best = min(best, float(cur[n]))
    return best


COMMON_NEIGHBOURS_MAX_POINTS = 3000  # above, the n³ product costs more than it is worth; |N[i]| is used alone


def district_room(conflict: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """For each facility i, the most facilities a district containing i can have: |N[i]| (the facilities within
    D of i, itself included), and — a district of two or more holding i and some j lies in N[i] ∩ N[j] —
    at most max_{j ≠ i compatible} |N[i] ∩ N[j]| (up to COMMON_NEIGHBOURS_MAX_POINTS facilities).
    With ``weights`` the counts are weighted sums (Σ w over the neighbourhood)."""
    n = conflict.shape[0]
    near = ~conflict
    w = np.ones(n, dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    room = (near.astype(np.int64) @ w).astype(np.int64)
    if n <= COMMON_NEIGHBOURS_MAX_POINTS:
        a: np.ndarray = near.astype(np.float64 if int(w.sum()) >= 2**24 else np.float32)
        aw: np.ndarray = a * w.astype(a.dtype)[None, :]
        common = aw @ a  # exact: integers below 2^24 (float32) or 2^53
        common[conflict] = 0
        np.fill_diagonal(common, 0)
        room = np.minimum(room, np.maximum(1, common.max(axis=1)).astype(np.int64))
    return room


def lower_bound(instance: Instance, conflict: np.ndarray, clique_size: int) -> float:
    """A valid lower bound on the optimum of Σ f (module docstring): sizes only, with the clique and the caps."""
    if not instance.points:
        return 0.0
    w = point_weights(instance)
    n = int(w.sum())
    qs = point_qs(instance)
    q_min = min(qs)
    room = district_room(conflict, w)
    cap = int(room.max())
    k_min = max(1, clique_size)
    k_max = len(instance.points)  # a point is never split: at most one district per point
    if instance.regions is not None:
        k_min, k_max = max(k_min, instance.regions), min(k_max, instance.regions)
    elif instance.max_regions is not None:
        k_max = min(k_max, instance.max_regions)
    # the table up to N + 1 (sliced): the one solve_heuristic reads with a single q, cached across the D of a sweep
    table = np.asarray(f_table(n + 1, q_min, instance.bundle_limit)[:cap + 1])
    k_top = min(k_max, n, max(k_min, 2 * n // max(1, min(cap, n)) + 1))
    if n == len(instance.points) or k_top * min(cap, n) * n <= SIZE_DP_BUDGET:
        by_size = size_bound(table, n, cap, k_min, k_max)
    else:  # too many facilities for the DP: only its infeasibility test (K ≥ k_min districts of ≤ cap each)
        by_size = math.inf if k_min > min(k_max, n) or k_max * cap < n else 0.0
    if not math.isfinite(by_size):
        return by_size
    # per facility: its district's f(n)/n with n ≤ its neighbourhood s_i, so at least min_{n ≤ s_i} f(n)/n
    per_head = np.minimum.accumulate(table[1:] / np.arange(1, cap + 1))
    by_facility = math.fsum((per_head[room - 1] * w).tolist())
    return max(by_size, by_facility, math.fsum((np.asarray(qs) * w).tolist()) / instance.bundle_limit)


class _Search:
    """Districts as labels with, for every facility and district, the number of members it conflicts with."""

    def __init__(self, conflict: np.ndarray, table: np.ndarray, labels: np.ndarray, *, k_fixed: int | None,
                 k_cap: int | None, rng: np.random.Generator, weights: np.ndarray) -> None:
        self.c = conflict
        self.f = table
        self.w = weights
        self.k_fixed = k_fixed
        self.k_cap = k_cap
        self.rng = rng
        k = int(labels.max()) + 1
        self.labels = labels.astype(np.int64)
        self.sizes = np.bincount(self.labels, weights=weights, minlength=k).round().astype(np.int64)
        onehot = np.zeros((len(labels), k), dtype=np.int32)
        onehot[np.arange(len(labels)), self.labels] = 1
        self.cnt = conflict.astype(np.int32) @ onehot  # cnt[p, d]: members of d farther than D from p

    @property
    def k(self) -> int:
        return int((self.sizes > 0).sum())

    def objective(self) -> float:
        return float(self.f[self.sizes].sum() - self.f[0] * (self.sizes == 0).sum())

    def move(self, p: int, b: int) -> None:
        a = int(self.labels[p])
        col = self.c[p]
        self.cnt[col, a] -= 1
        self.cnt[col, b] += 1
        self.sizes[a] -= self.w[p]
        self.sizes[b] += self.w[p]
        self.labels[p] = b

    def can_empty(self) -> bool:
        return self.k_fixed is None or self.k > self.k_fixed

    def merge_pass(self) -> bool:
        """Merge compatible districts, largest unions first (Σ f never increases: subadditivity)."""
        changed = False
        while self.can_empty():
            live = np.flatnonzero(self.sizes > 0)
            if len(live) < 2:
                break
            # conflicts between districts: B's members that conflict with district A
            between = np.zeros((len(live), len(live)), dtype=np.int64)
            members = [np.flatnonzero(self.labels == d) for d in live]
            for j, mem in enumerate(members):
                between[:, j] = self.cnt[np.ix_(mem, live)].sum(axis=0)
            ok = between == 0
            np.fill_diagonal(ok, False)
            if not ok.any():
                break
            size = self.sizes[live]
            union = np.where(ok, size[:, None] + size[None, :], -1)
            gain = np.where(ok, self.f[size][:, None] + self.f[size][None, :] - self.f[np.maximum(union, 0)], -1.0)
            ai, bi = np.unravel_index(int(np.argmax(np.where(gain >= -_EPS, union, -1))), union.shape)
            if union[ai, bi] < 0:
                break
            for p in members[bi]:
                self.move(int(p), int(live[ai]))
            changed = True
        return changed

    def move_pass(self, plateau: float) -> bool:
        """Move single facilities to the compatible district that lowers Σ f most (or keeps it, sometimes)."""
        improved = False
        for p in self.rng.permutation(len(self.labels)):
            a = int(self.labels[p])
            wp = int(self.w[p])
            if self.sizes[a] == wp and not self.can_empty():
                continue
            fits = (self.cnt[p] == 0) & (self.sizes > 0)
            fits[a] = False
            cand = np.flatnonzero(fits)
            if len(cand) == 0:
                continue
            sa, sb = self.sizes[a], self.sizes[cand]
            delta = self.f[sa - wp] - self.f[sa] + self.f[sb + wp] - self.f[sb]
            i = int(np.argmin(delta - sb * 1e-15))
            if delta[i] < -_EPS:
                self.move(int(p), int(cand[i]))
                improved = True
            elif delta[i] <= _EPS and sb[i] >= sa and self.rng.random() < plateau:
                self.move(int(p), int(cand[i]))
        return improved

    def dissolve_pass(self) -> bool:
        """Try to spread each small district over the others; keep it when Σ f falls."""
        improved = False
        for d in np.argsort(self.sizes, kind="stable"):
            if self.sizes[d] == 0 or not self.can_empty():
                continue
            before = self.objective()
            saved = (self.labels.copy(), self.sizes.copy(), self.cnt.copy())
            ok = True
            for p in np.flatnonzero(self.labels == d):
                fits = (self.cnt[p] == 0) & (self.sizes > 0)
                fits[d] = False
                cand = np.flatnonzero(fits)
                if len(cand) == 0:
                    ok = False
                    break
                sb = self.sizes[cand]
                wp = int(self.w[p])
                self.move(int(p), int(cand[int(np.argmin(self.f[sb + wp] - self.f[sb] - sb * 1e-15))]))
            if ok and self.objective() < before - _EPS:
                improved = True
            else:
                self.labels, self.sizes, self.cnt = saved
        return improved


def initial_labels(instance: Instance, dist: np.ndarray) -> np.ndarray:
    """Each municipality one district; one wider than D split into cliques (farthest point first, nearest added)."""
    d_max = instance.max_distance_km + 1e-9
    labels = np.full(len(instance.points), -1, dtype=np.int64)
    by_lg: dict[str, list[int]] = {}
    for i, p in enumerate(instance.points):
        by_lg.setdefault(p.lg_code, []).append(i)
    k = 0
    for lg in sorted(by_lg):
        rest = np.array(by_lg[lg])
        while len(rest):
            sub = dist[np.ix_(rest, rest)]
            if sub.max() <= d_max:
                labels[rest] = k
                k += 1
                break
            seed = int(np.argmax(sub.max(axis=1)))  # a point at the rim: its district takes that side
            order = np.argsort(sub[seed], kind="stable")
            chosen = [int(order[0])]
            ok = sub[order[0]] <= d_max
            for j in order[1:]:
                if ok[j]:
                    chosen.append(int(j))
                    ok &= sub[j] <= d_max
            labels[rest[chosen]] = k
            k += 1
            rest = np.delete(rest, chosen)
    return labels


def ball_labels(dist: np.ndarray, max_distance_km: float, rng: np.random.Generator, *, noise: float = 0.0,
                weights: np.ndarray | None = None) -> np.ndarray:
    """Large districts first: the unassigned facilities within D/2 of one facility (pairwise within D by the
    triangle inequality), extended by every further facility that still fits, nearest first; repeated.

    ``noise`` > 0 picks among the near-largest balls at random (for restarts)."""
    n = dist.shape[0]
    d_max = max_distance_km + 1e-9
    half = dist <= max_distance_km / 2 + 1e-9
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    ball = half.astype(float) @ w
    free = np.ones(n, dtype=bool)
    labels = np.full(n, -1, dtype=np.int64)
    k = 0
    while free.any():
        score = np.where(free, ball + noise * rng.random(n) * ball.max(), -1.0)
        c = int(np.argmax(score))
        idx = np.flatnonzero(free)
        order = idx[np.argsort(dist[c, idx], kind="stable")]
        chosen = [int(j) for j in order if half[c, j]]
        ok = free.copy()
        for j in chosen:
            ok &= dist[j] <= d_max
        for j in order:
            if ok[j] and labels[j] < 0 and not half[c, j]:
                chosen.append(int(j))
                ok &= dist[j] <= d_max
        labels[chosen] = k
        k += 1
        free[chosen] = False
        ball -= half[:, chosen].astype(float) @ w[chosen]
    return labels


def _relabel(labels: np.ndarray) -> tuple[int, ...]:
    _, inv = np.unique(labels, return_inverse=True)
    return tuple(int(x) for x in inv)


def _split_to(labels: np.ndarray, table: np.ndarray, k: int, weights: np.ndarray) -> np.ndarray:
    """Split districts (any subset of a clique is a clique) until there are ``k``, at the least cost each time:
    a district's lightest points first (unweighted: its first a members, a = 1, 2, …)."""
    labels = np.array(_relabel(labels), dtype=np.int64)
    nxt = int(labels.max()) + 1
    while nxt < k:
        best: tuple[float, np.ndarray] = (math.inf, np.array([], dtype=np.int64))
        for d in range(nxt):
            members = np.flatnonzero(labels == d)
            members = members[np.argsort(weights[members], kind="stable")]
            n = int(weights[members].sum())
            a = 0
            for c in range(1, len(members)):
                a += int(weights[members[c - 1]])
                cost = table[a] + table[n - a] - table[n]
                if cost < best[0]:
                    best = (cost, members[:c])
        labels[best[1]] = nxt
        nxt += 1
    return labels


def infeasible(instance: Instance, clique: list[int], reason: str | None = None) -> Infeasibility:
    """The explanation: the facilities pairwise farther than D, and the districts they need."""
    ids = tuple(instance.points[i].id for i in clique)
    limit = instance.regions if instance.regions is not None else instance.max_regions
    if reason is None:
        shown = "、".join(ids[:10]) + ("ほか" if len(ids) > 10 else "")
        kind = "ちょうど" if instance.regions is not None else "最大"
        reason = (f"施設 {shown} の {len(ids)} 施設は互いに {instance.max_distance_km:g} km を超えて離れているため、"
                  f"それぞれ別の地区に入る必要があり、地区は少なくとも {len(ids)} 必要です。"
                  f"地区数を{kind} {limit} とする条件では地区割りができません。")
    return Infeasibility(reason=reason, facility_ids=ids, lower_bound_regions=len(ids))


def _descend(conflict: np.ndarray, table: np.ndarray, labels: np.ndarray, instance: Instance,
             rng: np.random.Generator, deadline: float, weights: np.ndarray) -> tuple[float, np.ndarray]:
    """Merges, moves and dissolutions from ``labels`` until no round improves (or the time is up)."""
    search = _Search(conflict, table, np.array(_relabel(labels)), k_fixed=instance.regions,
                     k_cap=instance.max_regions, rng=rng, weights=weights)
    search.merge_pass()
    best = (search.objective(), search.labels.copy())
    stale = 0
    while time.monotonic() < deadline and stale < 3:
        improved = search.move_pass(plateau=0.3)
        improved |= search.merge_pass()
        if time.monotonic() < deadline:
            improved |= search.dissolve_pass()
        obj = search.objective()
        if obj < best[0] - _EPS:
            best = (obj, search.labels.copy())
            stale = 0
        else:
            stale += 0 if improved else 1
    return best


def solve_heuristic(instance: Instance, dist: np.ndarray, *, time_limit_s: float, seed: int = 0,
                    start: tuple[int, ...] | None = None) -> HeuristicOutcome:
    """A feasible districting found by local search, its Σ f, a valid lower bound, or why none exists.

    ``start`` a feasible assignment to begin from (e.g. the solution for a smaller D); ignored if not feasible.
    With per-facility q the search ranks moves by f at the mean q; the objective returned is the exact
    Poisson-binomial one (computed by the caller from the assignment) — here the table's value at the mean q."""
    t0 = time.monotonic()
    n = len(instance.points)
    if n == 0:
        return HeuristicOutcome((), 0.0, 0.0, None)
    conflict = dist > instance.max_distance_km + 1e-9
    clique = conflict_clique(conflict, seed=seed)
    limit = instance.regions if instance.regions is not None else instance.max_regions
    if limit is not None and len(clique) > limit:
        return HeuristicOutcome(None, None, math.inf, infeasible(instance, clique))
    if instance.regions is not None and instance.regions > n:
        reason = f"施設は {n} しかなく、{instance.regions} の地区に分けることはできません。"
        return HeuristicOutcome(None, None, math.inf,
                                Infeasibility(reason=reason, lower_bound_regions=len(clique)))
    bound = lower_bound(instance, conflict, len(clique))
    qs = point_qs(instance)
    w = point_weights(instance)
    total = int(w.sum())
    q_mean = math.fsum((np.asarray(qs) * w).tolist()) / total
    table = np.asarray(f_table(total + 1, q_mean if len(set(qs)) > 1 else qs[0], instance.bundle_limit))
    rng = np.random.default_rng(seed)
    starts = [initial_labels(instance, dist), ball_labels(dist, instance.max_distance_km, rng, weights=w)]
    if start is not None and len(start) == n:
        cand = np.asarray(start, dtype=np.int64)
        if all(not conflict[np.ix_(m, m)].any() for m in (np.flatnonzero(cand == d) for d in np.unique(cand))):
            starts.append(cand)
    deadline = t0 + max(0.0, time_limit_s)
    best: tuple[float, int, np.ndarray] | None = None
    restart = 0
    while starts or (time.monotonic() < deadline and restart < 30):
        labels = starts.pop() if starts else ball_labels(dist, instance.max_distance_km, rng, noise=0.2, weights=w)
        restart += 0 if starts else 1
        obj, labels = _descend(conflict, table, labels, instance, rng, deadline, w)
        key = (obj, len(np.unique(labels)))
        if best is None or key < best[:2]:
            best = (obj, key[1], labels)
        if best[0] <= bound + 1e-9:
            break
    assert best is not None
    labels = best[2]
    k = len(np.unique(labels))
    if instance.regions is not None and k < instance.regions:
        labels = _split_to(labels, table, instance.regions, w)
        k = instance.regions
    if limit is not None and k > limit:
        kind = "ちょうど" if instance.regions is not None else "最大"
        reason = (f"距離 {instance.max_distance_km:g} km の条件で地区数を{kind} {limit} にする地区割りは"
                  f"見つかりませんでした（探索で得た最少は {k} 地区。互いに離れた施設の組から、"
                  f"少なくとも {len(clique)} 地区が必要なことは確かです）。")
        return HeuristicOutcome(None, None, bound, Infeasibility(
            reason=reason, facility_ids=tuple(instance.points[i].id for i in clique),
            lower_bound_regions=len(clique)))
    assignment = _relabel(labels)
    sizes = np.bincount(np.asarray(assignment), weights=w).round().astype(np.int64)
    return HeuristicOutcome(assignment, float(table[sizes].sum()), bound, None)
