"""Better districts from a pool of candidate districts: the set-covering master problem, priced by its duals.

The local search of ``heuristic`` moves one facility at a time; from a good partition it cannot reach one that
differs in many districts at once. Here every district is a column (a set of facilities pairwise within D, its
cost f(Σ weight) exact from the table), and the master problem chooses columns that cover every facility at
least once at the least Σ f — covering, not partitioning, because a facility in two chosen columns can be dropped
from either: a subset of a district is a district and f is increasing, so the cost only falls.

1. The pool starts with the incumbent's districts, every single facility, and for every facility the greedy
   district of the facilities nearest to it that still fit.
2. Column generation: the LP relaxation of the master (HiGHS's interior-point method through scipy, without
   crossover) gives a price π_i ≥ 0 per facility
   (and ν ≥ 0 for the row Σ x ≤ M when M is an upper limit); a district S with Σ_{i∈S} π_i − f(w(S)) > ν would
   lower the LP. A greedy search (from the facilities with the highest π, adding the nearest that fit while the
   value improves) looks for such districts first; when it finds none, the exact pricing (``pricing``: a star
   bound, then CP-SAT over the facilities that could be in an improving district) either finds one or proves
   that none exists — the LP value is then a lower bound on the optimum.
   The prices are the interior point's, not a vertex's. The master is highly degenerate (many partitions of
   equal cost): at a simplex vertex the price sits on a few facilities, each round finds districts of large
   reduced cost that do not move the LP, and on the Miyagi study's 322 bridges (q = 0.0123, D = 25 km) the loop
   ran 780 rounds in 240 s without leaving the incumbent. The interior point's prices are central in the
   optimal face, spread over the facilities: the same instance was proven optimal in 7 s.
3. A bound at every round, finished or not (the Lagrangian bound): for any π ≥ 0, ν ≥ 0 and an upper bound U
   on max_S π(S) − f(w(S)), every districting of K ≤ K' districts costs Σ f = Σ_i π_i + Σ_S (f(S) − π(S))
   ≥ Σ_i π_i − ν·M − K'·max(0, U − ν), where K' bounds the districts of an optimum (M, the number of points,
   and (UB − W·q/L) / min_n (f(n) − n·q/L) for the incumbent's cost UB: E⌈X/L⌉ ≥ EX/L). U comes from the
   pricing (the star bound at every round, the lenses' and CP-SAT's when they ran). The loss K'·max(0, U − ν)
   can also be charged per facility (``pricing.share_loss``: a district of n facilities loses at most the mean
   of its members' bounds for size n); the smaller loss is taken. The best bound of all rounds is reported. It is
   not rounded up: Σ f is not integral.
4. The master as an integer programme (HiGHS MILP, within the time left) gives the districts: over the pool's
   columns that reduced-cost fixing keeps, at most a thousand of the least reduced cost, and the incumbent's
   (``_Pool.useful``).

Column generation for the districting (set-partitioning) form is what the operations-research literature uses
for clique partitioning with size costs; no library ships it for this objective, so this module writes the
loop (≈ a page) around HiGHS. Used for one shared q (with weights); not for an exact number of districts M
(a cover of exactly M columns need not reduce to a partition of M districts): ``solve`` keeps the local search
and the CP-SAT model for an exact M. An upper limit M is a row of the master and its dual ν enters the pricing.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, OptimizeWarning, linprog, milp
from scipy.sparse import csc_matrix, vstack

from gunmane.engine.districting import pricing

_EPS = 1e-7
_log = logging.getLogger(__name__)
MAX_POINTS = 1200  # above, the dense pricing (n² per round) and the LP cost more than they return in the time given
_GENERATION_SHARE = 0.5  # of the time given, for column generation; the integer master has the rest
_LENS_PAIRS = 80_000  # compatible pairs up to which the lens bound (``pricing.lens_bounds``, ≈ 10 µs a pair) is tried
_MASTER_COLUMNS = 1000  # the integer master's columns at most, by least reduced cost (``_Pool.useful``)
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
        self.pairs = int(np.triu(self.near, k=1).sum())
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
        """The master LP's price per facility π ≥ 0 and of the row Σ x ≤ M, ν ≥ 0 (0 without M), at the interior
        point (module docstring, 2.); None when HiGHS stops without an answer."""
        cols = list(self.columns)
        a = _matrix(cols, self.n)
        if max_regions is None:
            a_ub, b_ub = -a, -np.ones(self.n)
        else:
            a_ub = vstack([-a, csc_matrix(np.ones((1, len(cols))))])
            b_ub = np.concatenate([-np.ones(self.n), [max_regions]])
        with warnings.catch_warnings():  # scipy passes run_crossover to HiGHS as given, and says so
            warnings.simplefilter("ignore", OptimizeWarning)
            lp = linprog(_costs(cols, self.weight, self.table), A_ub=a_ub, b_ub=b_ub, bounds=(0, None),
                         method="highs-ipm", options={"time_limit": max(0.1, deadline - time.monotonic()),
                                                      "run_crossover": "off"})
        if lp.status != 0:
            return None
        marginals = -np.asarray(lp.ineqlin.marginals)  # ∂z/∂b of A_ub x ≤ b_ub is ≤ 0 for both kinds of row
        return np.maximum(marginals[: self.n], 0.0), (max(0.0, float(marginals[self.n]))
                                                      if max_regions is not None else 0.0)

    def priced(self, price: np.ndarray, per_district: float) -> list[frozenset[int]]:
        """Districts that would lower the LP: Σ price − f > ν (greedy from the highest prices)."""
        found = []
        for seed in np.argsort(-price, kind="stable")[:_PRICING_SEEDS]:
            gain, members = _greedy(int(seed), self.near, self.order[seed], price, self.weight, self.table)
            if gain - per_district > _EPS:
                found.append(frozenset(members))
        return found

    def useful(self, price: np.ndarray, nu: float, lp_value: float, upper: float,
               incumbent: Sequence[frozenset[int]]) -> list[frozenset[int]]:
        """The columns for the integer master: those that can be in a districting over the pool cheaper than
        ``upper`` (reduced-cost fixing: with the restricted master's prices π ≥ 0 every pool column has reduced
        cost f(S) − π(S) + ν ≥ 0, up to the interior point's tolerance, and a districting of cost C covers every
        facility at least once, so C ≥ LP + Σ of its columns' reduced costs, each below ``upper`` − LP), and of
        those at most ``_MASTER_COLUMNS`` with the least reduced cost, plus the incumbent's. The cap is a
        heuristic choice (price-and-branch): HiGHS finished the master over a thousand columns in 14 s
        and over 4,500 (q = 0.1, D = 15 km) not even the incumbent's within 20 s."""
        cols = list(self.columns)
        reduced = _costs(cols, self.weight, self.table) + nu - np.array([price[list(c)].sum() for c in cols])
        order = [k for k in np.argsort(reduced, kind="stable")
                 if reduced[k] <= (upper - lp_value) + 1e-6 * max(1.0, upper)][:_MASTER_COLUMNS]
        chosen = dict.fromkeys(cols[k] for k in order)
        chosen.update(dict.fromkeys(incumbent))
        return list(chosen)

    def master(self, max_regions: int | None, time_limit_s: float,
               only: Sequence[frozenset[int]] | None = None) -> tuple[int, ...] | None:
        """The integer master over the pool (or over ``only``), as labels per facility (a facility chosen twice
        stays in the larger district: dropping it from the other keeps that one a district and lowers its f)."""
        cols = list(self.columns) if only is None else list(only)
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


def _price_round(pool: _Pool, dist: np.ndarray, max_distance_km: float, price: np.ndarray, nu: float, *,
                 deadline: float, workers: int) -> tuple[bool, float]:
    """One pricing round: the greedy search, the lenses, then CP-SAT, until one of them adds a district.
    Returns whether districts were added and an upper bound U on max_S π(S) − f(w(S)) (module docstring, 3.)."""
    weight, table = pool.weight, pool.table
    upper = float(pricing.star_bound(pool.near, price, table).max(initial=0.0))
    if upper <= nu + _EPS:
        return False, upper
    if pool.add(pool.priced(price, nu)):
        return True, upper
    if pool.pairs <= _LENS_PAIRS:
        lenses = pricing.lens_bounds(dist, max_distance_km, price, table)  # once a round: ≈ 0.2 s at 322 points
        upper = min(upper, pricing.lens_upper(dist, max_distance_km, price, table, lenses=lenses))
        if upper > nu + _EPS and pool.add(pricing.lens_columns(dist, max_distance_km, pool.near, price, weight,
                                                               table, threshold=nu, bounds=lenses)):
            return True, upper
    if upper > nu + _EPS:
        exact = pricing.price_exact(pool.near, price, weight, table, deadline=deadline, threshold=nu,
                                    workers=workers)
        upper = min(upper, exact.upper)
        if exact.best is not None and pool.add([exact.best]):
            return True, upper
    return False, upper


@dataclass(frozen=True)
class Generated:
    """What the pool gave: districts, and a lower bound on the optimum that holds whatever the time allowed."""

    assignment: tuple[int, ...] | None  # the integer master's districting (None when none in time)
    bound: float  # the best Lagrangian bound (module docstring, 3.); −inf when no LP was solved
    lp_value: float | None  # the last master LP's value Σ π − ν·M
    lp_proven: bool  # the exact pricing proved that no district lowers the LP: ``lp_value`` is a bound
    rounds: int  # LP solves


def region_limit(n: int, weight: np.ndarray, table: np.ndarray, upper: float, slope: float,
                 max_regions: int | None) -> int:
    """K': at most this many districts in a districting of cost ≤ ``upper`` (module docstring, 3.); ``slope`` =
    q/L (f(n) ≥ n·q/L), 0 when unknown."""
    total = int(weight.sum())
    m = np.arange(1, total + 1)
    g = np.asarray(table[1:total + 1]) - m * slope
    k = n
    if len(g) and float(g.min()) > 1e-12:
        k = min(k, int(math.floor((upper - total * slope) / float(g.min()) + 1e-9)))
    return max(1, min(k, max_regions if max_regions is not None else k))


def generate(dist: np.ndarray, max_distance_km: float, weight: np.ndarray, table: np.ndarray,
             incumbent: Sequence[int], *, max_regions: int | None, deadline: float, slope: float = 0.0,
             workers: int = 2) -> Generated:
    """Column generation from ``incumbent`` (module docstring): the districts of the integer master and the best
    valid lower bound. ``table[s]`` = f(s) up to Σ weight; ``max_regions`` an upper limit on the districts (or
    None); ``slope`` = q/L for the region limit K'. The caller keeps the cheaper of the districts and
    ``incumbent`` (the master's time limit can stop it short of the incumbent)."""
    none = Generated(None, -math.inf, None, False, 0)
    if len(incumbent) == 0 or len(incumbent) > MAX_POINTS:
        return none
    start = np.asarray(incumbent)
    pool = _Pool(dist, max_distance_km, weight, table, start)
    start_columns = [frozenset(np.flatnonzero(start == d).tolist()) for d in np.unique(start)]
    limit = region_limit(pool.n, weight, table, cost(incumbent, weight, table), slope, max_regions)
    now = time.monotonic()
    generate_until = now + _GENERATION_SHARE * (deadline - now)  # the rest is the master's
    bound, lp_value, proven, rounds = -math.inf, None, False, 0
    while time.monotonic() < generate_until:
        prices = pool.lp_prices(max_regions, generate_until)
        if prices is None:
            break
        price, nu = prices
        rounds += 1
        lp_value = math.fsum(price.tolist()) - nu * (max_regions or 0)
        added, upper = _price_round(pool, dist, max_distance_km, price, nu, deadline=generate_until, workers=workers)
        loss = min(limit * max(0.0, upper - nu), pricing.share_loss(pool.near, price, table, nu, upper))
        bound = max(bound, lp_value - loss)
        _log.debug("round %d: %d columns, LP %.6f, upper %.4f, bound %.4f", rounds, len(pool.columns), lp_value,
                   upper, bound)
        if not added:
            proven = upper <= nu + 1e-6
            break
    # the integer master over the columns that can beat the incumbent (``_Pool.useful``): the last round's columns
    # are priced by one more LP, so that every column has a reduced cost under the prices used
    only = None
    final = pool.lp_prices(max_regions, deadline) if rounds and deadline - time.monotonic() > 1.0 else None
    if final is not None:
        price, nu = final
        last_lp = math.fsum(price.tolist()) - nu * (max_regions or 0)
        only = pool.useful(price, nu, last_lp, cost(incumbent, weight, table), start_columns)
        _log.debug("master over %d of %d columns", len(only), len(pool.columns))
    remaining = deadline - time.monotonic()
    assignment = pool.master(max_regions, remaining, only) if remaining > 0.05 else None
    return Generated(assignment, bound, lp_value, proven, rounds)


def improve(dist: np.ndarray, max_distance_km: float, weight: np.ndarray, table: np.ndarray,
            incumbent: Sequence[int], *, max_regions: int | None, deadline: float) -> tuple[int, ...] | None:
    """The districts of ``generate`` alone, or ``incumbent`` when they cost more (None when none was found in
    time)."""
    got = generate(dist, max_distance_km, weight, table, incumbent, max_regions=max_regions,
                   deadline=deadline).assignment
    if got is not None and cost(got, weight, table) > cost(incumbent, weight, table):
        return tuple(int(x) for x in incumbent)
    return got


def cost(labels: Sequence[int], weight: np.ndarray, table: np.ndarray) -> float:
    """Σ f(Σ weight) over the districts of ``labels``."""
    sizes = np.bincount(np.asarray(labels), weights=weight)
    return math.fsum(float(table[int(round(s))]) for s in sizes if s > 0)
