"""Exact pricing by lenses and minimum cuts: the largest π(S) − f(w(S)) over every district S, with a proof.

Why not CP-SAT over the whole instance (``pricing.price_exact``): on the Miyagi study's 322 bridges at D = 15 and
20 km its bound stayed at 0.16–0.30 after a minute while the true maximum was 0, so the column generation could
not prove an LP value that already equalled the best districting. The geometry makes the problem small and easy:

1. **Lenses** (as for the maximum clique of a unit-disk graph, Clark, Colbourn & Johnson 1990). A district of two
   or more facilities has a farthest pair (a, b), δ = d(a, b) ≤ D, and every member lies in the lens
   {x : d(x, a) ≤ δ, d(x, b) ≤ δ}. The great circle through a and b cuts the lens in two halves; in the plane each
   half has diameter δ (it lies in a Reuleaux triangle of width δ), so only pairs on opposite sides can be farther
   than δ apart. Within a lens the districts are the cliques of a cobipartite graph, and a clique of largest
   weight is the complement of a vertex cover of least weight of the bipartite graph of conflicts (pairs on
   opposite sides farther than δ): a minimum s–t cut. On the sphere a half need not be of diameter δ exactly;
   pairs on the same side are left unconstrained — a relaxation: the bound stays valid, and a district found is
   checked against D before the master gets it.
2. **Size.** f is not linear, and a cut maximises a sum. For a price β per facility the cut gives
   h(β) = max_S π(S) − β·w(S) (convex in β) and P(n) ≤ h(β) + β·n for every β, where P(n) is the largest π(S)
   over the lens's districts of size n. So max_n [min_β (h(β) + β·n) − f(n)] bounds the lens, for any f — the
   study's f(n) is concave only up to n ≈ 215 at q = 0.0123 and up to 25 at q = 0.1. The β are chosen as in
   Eisner & Severance's parametric method: between two solutions already known, the slope of their chord; an
   interval of sizes is refined only while its bound could exceed the threshold. The bound is the maximum itself
   when P is concave at the maximising n (and always equal to it at the sizes the cuts return).
3. Only the lenses no other lens contains are searched (``maximal_lenses``: 1,644 of 29,775 on the benchmark's
   322 points at D = 15 km), and of those only the ones whose bound without conflicts (``relaxed_bounds``) exceeds
   the threshold and the best district met so far, highest first.

On the study's 322 bridges at the column generation's last prices this proves "no district lowers the LP" in
under a second (774 cuts at D = 15 km, the maximal lenses included), where CP-SAT had not closed in 60 s.

The maximum flow is OR-Tools' SimpleMaxFlow (C++). It needs integer capacities: weights are counted in units of
2⁻⁴⁰ and rounded up, so each cut's value h bounds the true one from above, and the bound stays valid.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow

UNIT = float(2**40)  # capacities in 2⁻⁴⁰ contracts a year (the maximum flow needs integers)
_EPS = 1e-12
MAX_FOUND = 200  # improving districts returned at most, by value


@dataclass(frozen=True)
class LensPriced:
    """What the lens pricing proved and found."""

    upper: float  # an upper bound on max_S π(S) − f(w(S)) over every district S (≥ 0: the empty set)
    exact: bool  # every lens was searched: ``upper`` is the bound of step 2 over all of them
    found: tuple[frozenset[int], ...]  # districts (within D) worth more than the threshold, best first
    cuts: int  # minimum cuts solved


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere (n × 3): the side of a great circle is the sign of a dot product."""
    phi, lam = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=1)


class _LensCut:
    """The largest Σ (π_i − β·w_i) over the cliques of one lens (module docstring, 1.), for any β."""

    def __init__(self, price: np.ndarray, weight: np.ndarray, left: np.ndarray, right: np.ndarray,
                 conflicts: tuple[np.ndarray, np.ndarray]) -> None:
        self.price, self.weight, self.left, self.right = price, weight, left, right
        self.cuts = 0
        li, ri = conflicts
        self.flow: max_flow.SimpleMaxFlow | None = None
        if len(li):
            # nodes: 0 source, 1 sink, 2 + k for the lens's k-th facility; source → left, left → right (a conflict,
            # never cut), right → sink
            nl, nr = len(left), len(right)
            never = int(math.ceil(float(price.sum()) * UNIT)) + len(price) + 1
            flow = max_flow.SimpleMaxFlow()
            flow.add_arcs_with_capacity(
                np.concatenate([np.zeros(nl, np.int64), 2 + left[li], 2 + right]),
                np.concatenate([2 + left, 2 + right[ri], np.ones(nr, np.int64)]),
                np.concatenate([np.zeros(nl, np.int64), np.full(len(li), never, np.int64), np.zeros(nr, np.int64)]))
            self.flow = flow
            self.source_arcs = np.arange(nl)
            self.sink_arcs = np.arange(nl + len(li), nl + len(li) + nr)
            self.left_price, self.left_weight = price[left], weight[left]
            self.right_price, self.right_weight = price[right], weight[right]
            self.left_nodes, self.right_nodes = 2 + left, 2 + right

    def best(self, beta: float) -> tuple[np.ndarray, float]:
        """A clique of largest Σ (π − β·w) (a mask over the lens), and an upper bound on that largest value (the
        cut's, in rounded-up units)."""
        self.cuts += 1
        if self.flow is None:
            value = self.price - beta * self.weight
            inside = value > 0
            return inside, float(value[inside].sum())
        cap_left = np.ceil(np.maximum(self.left_price - beta * self.left_weight, 0.0) * UNIT).astype(np.int64)
        cap_right = np.ceil(np.maximum(self.right_price - beta * self.right_weight, 0.0) * UNIT).astype(np.int64)
        self.flow.set_arcs_capacity(self.source_arcs, cap_left)
        self.flow.set_arcs_capacity(self.sink_arcs, cap_right)
        if self.flow.solve(0, 1) != self.flow.OPTIMAL:  # capacities are far inside int64: not expected
            raise RuntimeError("maximum flow failed")
        source_side = np.zeros(len(self.price) + 2, dtype=bool)
        source_side[self.flow.get_source_side_min_cut()] = True
        inside = np.zeros(len(self.price), dtype=bool)
        # a left facility outside the cover stays on the source side, a right one is cut off it
        inside[self.left] = source_side[self.left_nodes] & (cap_left > 0)
        inside[self.right] = ~source_side[self.right_nodes] & (cap_right > 0)
        return inside, (int(cap_left.sum()) + int(cap_right.sum()) - int(self.flow.optimal_flow())) / UNIT


_End = tuple[int, float, float, float]  # an end of an interval of sizes: (n, the clique's Σ π, β, h(β) bound)


def _lens_bound(cut: _LensCut, table: np.ndarray, floor: float, threshold: float
                ) -> tuple[float, list[tuple[np.ndarray, float]]]:
    """max_n [min_β (h(β) + β·n) − f(n)] over the lens (module docstring, 2.), refined only where it could
    exceed ``floor`` or the best clique met so far (branch and bound: the intervals of largest bound first); the
    result is at least that best clique's value. Also returns the cliques the cuts met worth more than
    ``threshold`` (masks over the lens, with their values)."""
    weight, price = cut.weight, cut.price
    found: list[tuple[np.ndarray, float]] = []
    best = floor

    def met(inside: np.ndarray) -> tuple[int, float]:
        nonlocal best
        size, total = int(round(float(weight @ inside))), float(price @ inside)
        if size:
            value = total - float(table[size])
            best = max(best, value)
            if value > threshold + _EPS:
                found.append((inside, value))
        return size, total

    sizes = np.arange(int(round(float(weight.sum()))) + 1)
    f = table[: len(sizes)]

    def interval(lo: _End, hi: _End, extra: tuple[float, float] | None = None) -> float:
        n = sizes[max(lo[0], 1): hi[0] + 1]
        if len(n) == 0:
            return -math.inf
        bound = np.minimum(hi[3] + hi[2] * n, lo[3] + lo[2] * n)
        if extra is not None:
            bound = np.minimum(bound, extra[0] + extra[1] * n)
        return float((bound - f[n]).max())

    top, top_h = cut.best(0.0)
    top_n, top_p = met(top)
    low: _End = (0, 0.0, float((price / weight).max()), 0.0)  # at the steepest β nothing is worth taking: h = 0
    high: _End = (top_n, top_p, 0.0, top_h)
    heap = [(-interval(low, high), 0, low, high)]
    tick = 1
    closed = -math.inf  # the largest bound of the intervals settled (no further cut can lower it)
    while heap:
        negative, _, lo, hi = heapq.heappop(heap)
        if -negative <= best + _EPS:
            closed = max(closed, -negative)
            break  # every interval left is bounded by this one
        (n2, p2, _, _), (n1, p1, _, _) = lo, hi
        if n1 - n2 <= 1:
            closed = max(closed, -negative)
            continue
        slope = (p1 - p2) / (n1 - n2)
        inside, h3 = cut.best(slope)
        n3, p3 = met(inside)
        if n2 < n3 < n1 and p3 - slope * n3 > p1 - slope * n1 + _EPS:
            mid: _End = (n3, p3, slope, h3)
            heapq.heappush(heap, (-interval(lo, mid), tick, lo, mid))
            heapq.heappush(heap, (-interval(mid, hi), tick + 1, mid, hi))
            tick += 2
            continue
        # no clique above the chord (up to the rounding): the chord's line bounds the interval
        closed = max(closed, interval(lo, hi, (h3, slope)))
    return max(best, closed), found


@dataclass(frozen=True)
class LensSet:
    """The lenses that no other lens contains (``maximal_lenses``): their pairs and members."""

    a: np.ndarray  # the pair's first facility, per lens
    b: np.ndarray  # and its second
    inside: np.ndarray  # lenses × points: the lens's members


def maximal_lenses(dist: np.ndarray, max_distance_km: float, *, deadline: float = math.inf) -> LensSet | None:
    """The lenses (module docstring, 1.) of every pair within D, less those contained in a lens of a pair at
    least as far apart. A district S whose farthest pair is (a, b) lies in that pair's lens, and all its pairs
    are within d(a, b) ≤ d(c, d): in a lens of (c, d) that contains it, no pair of S is a conflict, so S is a
    clique there too and that lens's bound covers it. On the benchmark's 322 points this leaves 1,644 of 29,775
    lenses at D = 15 km and 568 of 46,543 at 25 km. Price-independent: computed once per column generation
    (≈ 1.5 s at 322 points), checking each lens, farthest pairs first, only against the kept lenses that hold
    both its ends. None when ``deadline`` passes first."""
    n = len(dist)
    ii, jj = np.nonzero(np.triu(dist <= max_distance_km + 1e-9, k=1))
    reach = dist[ii, jj] + 1e-9
    size = np.zeros(len(ii), dtype=np.int64)
    for lo in range(0, len(ii), 2048):
        sl = slice(lo, lo + 2048)
        size[sl] = ((dist[ii[sl]] <= reach[sl, None]) & (dist[jj[sl]] <= reach[sl, None])).sum(axis=1)
    kept = np.zeros((min(len(ii), 4096), n), dtype=bool)
    count = 0
    keep: list[int] = []
    for step, r in enumerate(np.lexsort((-size, -reach))):
        if step % 512 == 0 and time.monotonic() > deadline:
            return None
        a, b = ii[r], jj[r]
        row = (dist[a] <= reach[r]) & (dist[b] <= reach[r])
        if count:
            holders = np.flatnonzero(kept[:count, a] & kept[:count, b])
            if len(holders) and not (row[None, :] & ~kept[holders]).any(axis=1).all():
                continue  # contained in a kept lens
        if count == len(kept):
            kept = np.concatenate([kept, np.zeros_like(kept)])
        kept[count] = row
        count += 1
        keep.append(int(r))
    return LensSet(ii[keep], jj[keep], kept[:count].copy())


def relaxed_bounds(lens_set: LensSet, price: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Per lens, max_n [the n highest prices of the lens − f(n)]: its bound without conflicts (f(w(S)) ≥ f(|S|),
    w ≥ 1)."""
    out = np.zeros(len(lens_set.a))
    if len(out) == 0:
        return out
    width = int(lens_set.inside.sum(axis=1).max())
    f = np.asarray(table[1:width + 1])
    positive = np.maximum(price, 0.0)[None, :]
    for lo in range(0, len(out), 1024):  # rows of n prices: chunks keep the memory small at 1,200 points
        p = -np.sort(-np.where(lens_set.inside[lo:lo + 1024], positive, 0.0), axis=1)[:, :width]
        out[lo:lo + 1024] = (np.cumsum(p, axis=1) - f[None, :]).max(axis=1)
    return out


Geometry = dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]]


def _geometry(dist: np.ndarray, xyz: np.ndarray, a: int, b: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The lens of the pair (a, b): its facilities, its two halves (indices into them) and the conflicts between
    the halves (module docstring, 1.) — what does not depend on the prices."""
    reach = dist[a, b] + 1e-9
    members = np.flatnonzero((dist[a] <= reach) & (dist[b] <= reach))
    side = xyz[members] @ np.cross(xyz[a], xyz[b]) >= 0
    left, right = np.flatnonzero(side), np.flatnonzero(~side)
    li, ri = np.nonzero(dist[np.ix_(members[left], members[right])] > reach)
    return members, left, right, (li, ri)


def price_lenses(dist: np.ndarray, xyz: np.ndarray, max_distance_km: float, price: np.ndarray,
                 weight: np.ndarray, table: np.ndarray, *, threshold: float, deadline: float,
                 lens_set: LensSet | None = None, relaxed: np.ndarray | None = None,
                 geometry: Geometry | None = None) -> LensPriced:
    """An upper bound on max_S π(S) − f(w(S)) over every district (module docstring) and the districts worth more
    than ``threshold`` that the cuts met. ``xyz``: ``unit_vectors`` of the points; ``lens_set``: the
    ``maximal_lenses`` of these points and D, and ``relaxed`` their ``relaxed_bounds`` at these prices, when
    already computed; ``geometry``: a dict kept between calls on the same points and D, where the lenses' halves
    and conflicts are kept. When ``deadline`` passes, the lenses not searched count with their bounds without
    conflicts (``exact`` is then False)."""
    lens_set = lens_set if lens_set is not None else maximal_lenses(dist, max_distance_km)
    assert lens_set is not None  # no deadline given
    relaxed = relaxed if relaxed is not None else relaxed_bounds(lens_set, price, table)
    todo = np.flatnonzero(relaxed > threshold + _EPS)
    todo = todo[np.argsort(-relaxed[todo], kind="stable")]
    wf = weight.astype(float)
    kept: Geometry = geometry if geometry is not None else {}
    single = price - table[weight]
    found: dict[frozenset[int], float] = {frozenset([int(i)]): float(single[i])
                                          for i in np.flatnonzero(single > threshold + _EPS)}
    upper = max(0.0, float(single.max(initial=0.0)))
    cuts = 0
    for pos, k in enumerate(todo):
        if relaxed[k] <= upper + _EPS:
            break  # sorted: no lens left can raise the bound
        if time.monotonic() > deadline:
            return LensPriced(max(upper, float(relaxed[todo[pos:]].max())), False, _best(found), cuts)
        pair = (int(lens_set.a[k]), int(lens_set.b[k]))
        if pair not in kept:
            kept[pair] = _geometry(dist, xyz, *pair)
        members, left, right, conflicts = kept[pair]
        cut = _LensCut(np.maximum(price[members], 0.0), wf[members], left, right, conflicts)
        bound, cliques = _lens_bound(cut, table, max(threshold, upper), threshold)
        cuts += cut.cuts
        upper = max(upper, bound)
        for inside, value in cliques:
            district = members[inside]
            if bool((dist[np.ix_(district, district)] <= max_distance_km + 1e-9).all()):
                found[frozenset(district.tolist())] = value
    return LensPriced(upper, True, _best(found), cuts)


def _best(found: dict[frozenset[int], float]) -> tuple[frozenset[int], ...]:
    return tuple(sorted(found, key=lambda c: -found[c])[:MAX_FOUND])
