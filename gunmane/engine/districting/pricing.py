"""Exact pricing for the districting master: the largest Σ_{i∈S} π_i − f(w(S)) over every district S.

Column generation (``columns``) proves its LP value a lower bound only when no district has a negative reduced
cost, and any valid bound before that (the Lagrangian bound) needs an upper bound U on
max_S [π(S) − f(w(S))] over *all* districts S — sets of facilities pairwise within D, w(S) = Σ weight — not only
over those a greedy search happens to try. This module gives that U, in two steps:

1. ``star_bound``: a district containing facility i lies inside N[i] = {j : d(i, j) ≤ D}, and the best k of its
   members have at most the k highest prices of N[i]; f is increasing and w ≥ 1, so f(w(S)) ≥ f(|S|). Hence
   U_i = max_k [top-k prices of N[i] − f(k)] bounds every district containing i (O(n² log n), numpy).
2. ``price_exact``: the facilities whose U_i exceeds the threshold (the others cannot be in an improving
   district) go into a CP-SAT model — y_i = 1 when i is in S, y_i + y_j ≤ 1 for every pair farther than D, the
   size Σ w_i y_i read from the f table through a one-hot over sizes (exact at every integer) — maximising
   Σ Π_i y_i − F(size) with Π_i = ⌈π_i·SCALE⌉ and F = ⌊f·SCALE⌋ (both rounded so the integer optimum, and CP-SAT's
   bound on it, divided by SCALE is at least the true maximum). CP-SAT's best bound is valid even when the time
   runs out, so U is always an upper bound; ``exact`` says the search finished (U is then the maximum, up to
   the rounding of 1/SCALE per facility).

Only facilities with π_i > 0 are variables: f is increasing, so dropping a facility of price 0 from a district
never lowers its value.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

SCALE = 10**8  # prices and f in 1e-8 contracts a year (CP-SAT needs integers)
_EPS = 1e-12


@dataclass(frozen=True)
class Priced:
    """What one pricing call proved and found."""

    upper: float  # an upper bound on max_S π(S) − f(w(S)) over every district S (≥ 0: the empty set)
    exact: bool  # the search finished: ``upper`` is the maximum (up to the rounding)
    best: frozenset[int] | None  # the best district found (None when none beats the threshold)
    value: float  # its π(S) − f(w(S)) (−inf when none)


def star_bound(near: np.ndarray, price: np.ndarray, table: np.ndarray) -> np.ndarray:
    """U_i (module docstring, step 1) for every facility i: max_k [top-k prices of N[i] − f(k)], at least 0."""
    n = len(price)
    if n == 0:
        return np.zeros(0)
    p = np.where(near, np.maximum(price, 0.0)[None, :], 0.0)
    p = -np.sort(-p, axis=1)
    cum = np.cumsum(p, axis=1)
    k = min(n, len(table) - 1)
    value = cum[:, :k] - np.asarray(table[1:k + 1])[None, :]
    return np.maximum(value.max(axis=1), 0.0)


def price_exact(near: np.ndarray, price: np.ndarray, weight: np.ndarray, table: np.ndarray, *, deadline: float,
                threshold: float = 0.0, workers: int = 2) -> Priced:
    """The best district for the prices ``price`` (module docstring, step 2), searched until ``deadline``.

    ``near[i, j]``: i and j may share a district; ``weight`` the facilities of each point; ``table[s]`` = f(s)
    up to Σ weight. Facilities whose star bound is at most ``threshold`` are left out (no district containing
    them is worth more than ``threshold``); ``upper`` covers them too."""
    star = star_bound(near, price, table)
    keep = np.flatnonzero((star > threshold + _EPS) & (price > _EPS))
    # a facility priced 0 is never needed (dropping it keeps a district and lowers f); the others left out have
    # star bounds ≤ threshold
    priced_out = (price > _EPS) & ~np.isin(np.arange(len(price)), keep)
    dropped = float(np.max(star, initial=0.0, where=priced_out))
    if len(keep) == 0:
        return Priced(upper=dropped, exact=True, best=None, value=-math.inf)
    model = cp_model.CpModel()
    y = [model.new_bool_var(f"y{i}") for i in keep]
    sub = near[np.ix_(keep, keep)]
    a_idx, b_idx = np.nonzero(np.triu(~sub, k=1))
    for a, b in zip(a_idx.tolist(), b_idx.tolist(), strict=True):
        model.add_bool_or([y[a].negated(), y[b].negated()])
    w = [int(weight[i]) for i in keep]
    # the largest district among the candidates: within the weighted neighbourhood of some candidate
    room = int(max((sub[r] * np.asarray(w)).sum() for r in range(len(keep))))
    cap = min(room, len(table) - 1)
    sizes = range(cap + 1)
    s = {m: model.new_bool_var(f"s{m}") for m in sizes}
    model.add_exactly_one(s.values())
    model.add(sum(m * s[m] for m in sizes) == sum(wi * yi for wi, yi in zip(w, y, strict=True)))
    gain = [int(math.ceil(float(price[i]) * SCALE)) for i in keep]
    cost = [int(math.floor(float(table[m]) * SCALE)) for m in sizes]
    model.maximize(sum(g * yi for g, yi in zip(gain, y, strict=True)) - sum(c * s[m] for m, c in zip(sizes, cost,
                                                                                                   strict=True) if c))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, deadline - time.monotonic())
    solver.parameters.num_workers = max(1, int(workers))
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # nothing found in time: the star bound of the candidates stands
        return Priced(upper=max(dropped, float(star[keep].max())), exact=False, best=None, value=-math.inf)
    upper = max(dropped, max(0.0, solver.best_objective_bound / SCALE))
    chosen = frozenset(int(keep[r]) for r in range(len(keep)) if solver.boolean_value(y[r]))
    value = (math.fsum(float(price[i]) for i in chosen) - float(table[int(weight[list(chosen)].sum())])
             if chosen else -math.inf)
    best = chosen if chosen and value > threshold + _EPS else None
    return Priced(upper=upper, exact=code == cp_model.OPTIMAL, best=best, value=value)


Lenses = tuple[np.ndarray, np.ndarray, np.ndarray]  # what ``lens_bounds`` returns: pairs (i, j) and their bounds


def lens_upper(dist: np.ndarray, max_distance_km: float, price: np.ndarray, table: np.ndarray, *,
               lenses: Lenses | None = None) -> float:
    """An upper bound on max_S π(S) − f(w(S)) from the lenses (``lens_bounds``, or ``lenses`` already computed
    for these prices) and the singletons (≥ 0)."""
    _, _, pairs = lenses if lenses is not None else lens_bounds(dist, max_distance_km, price, table)
    single = float((price - float(table[1])).max(initial=0.0))
    return max(0.0, single, float(pairs.max(initial=0.0)))


def lens_bounds(dist: np.ndarray, max_distance_km: float, price: np.ndarray, table: np.ndarray, *,
                chunk: int = 2048) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every district of two or more facilities has a farthest pair (i, j), and all its members lie in the lens
    {k : d(i, k) ≤ d(i, j), d(j, k) ≤ d(i, j)}; so π_i + π_j + the n − 2 highest other prices of the lens − f(n)
    bounds every district of n facilities whose farthest pair is (i, j). Returns the pairs (i < j, d ≤ D, both
    priced) and each one's bound over n (singletons: π_i − f(1) is the caller's)."""
    pos = np.flatnonzero(price > _EPS)
    d = dist[np.ix_(pos, pos)]
    p = price[pos]
    ii, jj = np.nonzero(np.triu(d <= max_distance_km + 1e-9, k=1))
    out = np.empty(len(ii))
    k = len(pos)
    f = np.asarray(table[2:k + 1]) if k >= 2 else np.zeros(0)
    for lo in range(0, len(ii), chunk):
        a, b = ii[lo:lo + chunk], jj[lo:lo + chunk]
        dij = d[a, b][:, None] + 1e-9
        inside = (d[a] <= dij) & (d[b] <= dij)
        inside[np.arange(len(a)), a] = False
        inside[np.arange(len(a)), b] = False
        vals = -np.sort(-np.where(inside, p[None, :], 0.0), axis=1)[:, : k - 2]
        cum = np.concatenate([np.zeros((len(a), 1)), np.cumsum(vals, axis=1)], axis=1)
        out[lo:lo + chunk] = (p[a] + p[b]) + (cum - f[None, : cum.shape[1]]).max(axis=1)
    return pos[ii], pos[jj], out


def lens_columns(dist: np.ndarray, max_distance_km: float, near: np.ndarray, price: np.ndarray,
                 weight: np.ndarray, table: np.ndarray, *, threshold: float, lenses: int = 300,
                 bounds: Lenses | None = None) -> list[frozenset[int]]:
    """Districts worth more than ``threshold`` found greedily in the most promising lenses (highest
    ``lens_bounds``, or ``bounds`` already computed for these prices) and around every facility: start from the
    anchor pair (or the facility), add the highest prices that still fit, keep the best prefix. A heuristic (the
    caller proves with ``price_exact``)."""
    a, b, v = bounds if bounds is not None else lens_bounds(dist, max_distance_km, price, table)
    order = np.argsort(-price, kind="stable")
    order = order[price[order] > _EPS]
    starts: list[list[int]] = [[int(a[k]), int(b[k])] for k in np.argsort(-v, kind="stable")[:lenses]
                               if v[k] > threshold + _EPS]
    starts += [[int(i)] for i in order[:lenses]]
    found: dict[frozenset[int], None] = {}
    for members in starts:
        fits: np.ndarray = np.asarray(near[members].all(axis=0))
        total = math.fsum(float(price[i]) for i in members)
        size = int(weight[members].sum())
        best = (total - float(table[size]), len(members))
        for j in order[fits[order]]:  # only the facilities that fit the start (the loop is the cost here)
            if fits[j] and j not in members:
                members.append(int(j))
                fits &= near[j]
                total += float(price[j])
                size += int(weight[j])
                if total - float(table[size]) > best[0]:
                    best = (total - float(table[size]), len(members))
        if best[0] > threshold + _EPS:
            found.setdefault(frozenset(members[: best[1]]), None)
    return list(found)


def share_loss(near: np.ndarray, price: np.ndarray, table: np.ndarray, nu: float, upper: float) -> float:
    """Σ_i max_n max(0, min(U_i(n), U) − ν) / n, with U_i(n) = π_i + the n − 1 highest other prices of N[i] − f(n)
    (every district of n facilities containing i is worth at most that) and U (``upper``) the bound on every
    district: a districting loses at most this against Σ π − ν·M (``columns``, the Lagrangian bound). Each
    district S of n facilities loses at most min_{i∈S} max(0, U_i(n) − ν) ≤ Σ_{i∈S} max(0, U_i(n) − ν) / n, and
    the districts are disjoint. Weighted points: n counts points (f(w(S)) ≥ f(|S|))."""
    n = len(price)
    if n == 0:
        return 0.0
    p = np.maximum(price, 0.0)
    others = np.where(near, p[None, :], 0.0)
    np.fill_diagonal(others, 0.0)
    others = -np.sort(-others, axis=1)
    k = min(n, len(table) - 1)
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(others[:, : k - 1], axis=1)], axis=1)  # n − 1 others, n = 1…k
    value = p[:, None] + cum - np.asarray(table[1:k + 1])[None, :]
    loss = np.maximum(np.minimum(value, upper) - nu, 0.0) / np.arange(1, k + 1)[None, :]
    return float(loss.max(axis=1).sum())
