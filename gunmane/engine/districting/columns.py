"""Better districts from a pool of candidate districts: the set-covering master problem, priced by its duals.

The local search of ``heuristic`` moves one facility at a time; from a good partition it cannot reach one that
differs in many districts at once. Here every district is a column (a set of facilities pairwise within D, its
cost f(Σ weight) exact from the table), and the master problem chooses columns that cover every facility at
least once at the least Σ f — covering, not partitioning, because a facility in two chosen columns can be dropped
from either: a subset of a district is a district and f is increasing, so the cost only falls.

1. The pool starts with the incumbent's districts, every single facility, and for every facility the greedy
   district of the facilities nearest to it that still fit.
2. Column generation: the LP relaxation of the master (HiGHS through scipy) gives a price π_i ≥ 0 per facility;
   a district S with Σ_{i∈S} π_i > f(|S|) would lower the LP, and a greedy search (from the facilities with the
   highest π, adding the nearest that fit while Σ π − f improves) adds such districts, until it finds none or
   the time is spent. The search is a heuristic: the LP value is not a proven bound and is not reported as one.
3. The master as an integer programme over the pool (HiGHS MILP, within the time left) gives the districts.

Column generation for the districting (set-partitioning) form is what the operations-research literature uses
for clique partitioning with size costs; no library ships it for this objective, so this module writes the
loop (≈ a page) around HiGHS. Used for one shared q (with weights); not for an exact number of districts M
(a cover of exactly M columns need not reduce to a partition of M districts).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csc_matrix, vstack

_EPS = 1e-7
MAX_POINTS = 1200  # above, the dense pricing (n² per round) and the LP cost more than they return in the time given
_GENERATION_SHARE = 0.5  # of the time given, for column generation; the integer master has the rest
_PRICING_SEEDS = 40  # greedy districts grown per round, from the facilities with the highest prices


def _matrix(columns: Sequence[frozenset[int]], n: int) -> csc_matrix:
    rows = [i for c in columns for i in c]
    cols = [k for k, c in enumerate(columns) for _ in c]
    return csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(columns)))


def _costs(columns: Sequence[frozenset[int]], weight: np.ndarray, table: np.ndarray) -> np.ndarray:
    return np.array([table[int(weight[list(c)].sum())] for c in columns])


def _greedy(seed: int, near: np.ndarray, order: np.ndarray, price: np.ndarray, weight: np.ndarray,
            table: np.ndarray) -> tuple[float, list[int]]:
    """The facilities nearest to ``seed`` that fit (every pair within D) and have a positive price, added one at a
    time; the prefix with the largest Σ price − f(Σ weight)."""
    members = [seed]
    fits = near[seed].copy()
    total, size = float(price[seed]), int(weight[seed])
    best = (total - table[size], 1)
    for j in order[1:]:
        if fits[j] and price[j] > 0:
            members.append(int(j))
            fits &= near[j]
            total += float(price[j])
            size += int(weight[j])
            if total - table[size] > best[0]:
                best = (total - table[size], len(members))
    return best[0], members[: best[1]]


def _fitting(seed: int, near: np.ndarray, order: np.ndarray) -> frozenset[int]:
    """The greedy district around ``seed``: nearest first, every facility that still fits."""
    members = [seed]
    fits = near[seed].copy()
    for j in order[1:]:
        if fits[j]:
            members.append(int(j))
            fits &= near[j]
    return frozenset(members)


class _Pool:
    """The candidate districts (insertion-ordered, no duplicates) and what pricing and the master need."""

    def __init__(self, dist: np.ndarray, max_distance_km: float, weight: np.ndarray, table: np.ndarray,
                 incumbent: np.ndarray) -> None:
        self.n = len(incumbent)
        self.near = dist <= max_distance_km + 1e-9
        self.order = np.argsort(dist, axis=1, kind="stable")
        self.weight, self.table = weight, table
        self.columns: dict[frozenset[int], None] = {}
        self.add(frozenset(np.flatnonzero(incumbent == d).tolist()) for d in np.unique(incumbent))
        self.add(frozenset([i]) for i in range(self.n))
        self.add(_fitting(i, self.near, self.order[i]) for i in range(self.n))

    def add(self, found: Iterable[frozenset[int]]) -> int:
        before = len(self.columns)
        for c in found:
            self.columns.setdefault(c, None)
        return len(self.columns) - before

    def lp_prices(self, max_regions: int | None, deadline: float) -> tuple[np.ndarray, float] | None:
        """The master LP's price per facility and per district (None when HiGHS stops without an answer)."""
        cols = list(self.columns)
        a = _matrix(cols, self.n)
        if max_regions is None:
            a_ub, b_ub = -a, -np.ones(self.n)
        else:
            a_ub = vstack([-a, csc_matrix(np.ones((1, len(cols))))])
            b_ub = np.concatenate([-np.ones(self.n), [max_regions]])
        lp = linprog(_costs(cols, self.weight, self.table), A_ub=a_ub, b_ub=b_ub, bounds=(0, None),
                     method="highs", options={"time_limit": max(0.1, deadline - time.monotonic())})
        if lp.status != 0:
            return None
        marginals = -np.asarray(lp.ineqlin.marginals)
        return np.maximum(marginals[: self.n], 0.0), (float(marginals[self.n]) if max_regions is not None else 0.0)

    def priced(self, price: np.ndarray, per_district: float) -> list[frozenset[int]]:
        """Districts that would lower the LP: Σ price − f > 0 (greedy from the highest prices)."""
        found = []
        for seed in np.argsort(-price, kind="stable")[:_PRICING_SEEDS]:
            gain, members = _greedy(int(seed), self.near, self.order[seed], price, self.weight, self.table)
            if gain + per_district > _EPS:
                found.append(frozenset(members))
        return found

    def master(self, max_regions: int | None, time_limit_s: float) -> tuple[int, ...] | None:
        """The integer master over the pool, as labels per facility (a facility chosen twice stays in the larger
        district: dropping it from the other keeps that one a district and lowers its f)."""
        cols = list(self.columns)
        cons = [LinearConstraint(_matrix(cols, self.n), lb=np.ones(self.n), ub=np.inf)]
        if max_regions is not None:
            cons.append(LinearConstraint(np.ones((1, len(cols))), -np.inf, max_regions))
        res = milp(_costs(cols, self.weight, self.table), constraints=cons, integrality=np.ones(len(cols)),
                   bounds=Bounds(0, 1), options={"time_limit": time_limit_s})
        if res.x is None:
            return None
        chosen = sorted((cols[k] for k in np.flatnonzero(res.x > 0.5)), key=len, reverse=True)
        out = np.full(self.n, -1, dtype=np.int64)
        for k, c in enumerate(chosen):
            for i in c:
                if out[i] < 0:
                    out[i] = k
        if (out < 0).any():
            return None
        _, relabelled = np.unique(out, return_inverse=True)
        return tuple(int(x) for x in relabelled)


def improve(dist: np.ndarray, max_distance_km: float, weight: np.ndarray, table: np.ndarray,
            incumbent: Sequence[int], *, max_regions: int | None, deadline: float) -> tuple[int, ...] | None:
    """A districting from the pool (module docstring), or None when none was found in time. ``table[s]`` = f(s)
    up to Σ weight; ``max_regions`` an upper limit on the districts (or None). The caller keeps the cheaper of
    this and ``incumbent`` (the master's time limit can stop it short of the incumbent)."""
    if len(incumbent) == 0 or len(incumbent) > MAX_POINTS:
        return None
    pool = _Pool(dist, max_distance_km, weight, table, np.asarray(incumbent))
    now = time.monotonic()
    generate_until = now + _GENERATION_SHARE * (deadline - now)  # the rest is the master's
    while time.monotonic() < generate_until:
        prices = pool.lp_prices(max_regions, generate_until)
        if prices is None or not pool.add(pool.priced(*prices)):
            break
    remaining = deadline - time.monotonic()
    return pool.master(max_regions, remaining) if remaining > 0.05 else None


def cost(labels: Sequence[int], weight: np.ndarray, table: np.ndarray) -> float:
    """Σ f(Σ weight) over the districts of ``labels``."""
    sizes = np.bincount(np.asarray(labels), weights=weight)
    return math.fsum(float(table[int(round(s))]) for s in sizes if s > 0)
