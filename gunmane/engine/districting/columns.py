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
   lower the LP. With the points' positions, the exact pricing is ``lenses`` (minimum cuts in the lenses of the
   pairs, ≈ 0.1–1 s a round at 322 points): it returns the best districts and the maximum at once. Without them
   (or above ``_LENS_PAIRS`` pairs) a greedy search looks first (from the facilities with the highest π, adding the
   nearest that fit while the value improves), and the exact pricing is ``pricing`` (a star bound, then CP-SAT
   over the facilities that could be in an improving district), which did not close at D = 15–20 km on the
   study's bridges.
   The prices are the interior point's, not a vertex's. The master is highly degenerate (many partitions of
   equal cost): at a simplex vertex the price sits on a few facilities, each round finds districts of large
   reduced cost that do not move the LP, and on the Miyagi study's 322 bridges (q = 0.0123, D = 25 km) the loop
   ran 780 rounds in 240 s without leaving the incumbent. The interior point's prices are central in the
   optimal face, spread over the facilities: the same instance was proven optimal in 7 s.
   Smoothing (Wentges 1997): from the second round, the prices priced are 0.8 × those of the best bound so far
   + 0.2 × the LP's. When they price nothing new (a "mis-pricing"), they are a better bound, or the LP's own
   prices are priced. Without it the LP's prices jump between faces of the degenerate master: on the
   benchmark's synthetic instance at D = 25 km (LP 1.9477), 30 s of generation raised the bound to 1.752 in 35
   rounds without smoothing, to 1.940 in 19 with 0.8 (0.5: 1.922, 0.9: 1.897).
   Every fifth round, once the LP has over 2,000 columns, those whose reduced cost exceeds 0.4 f(1) leave it
   (``_Pool.retire``; they stay in the pool for the integer master, and the pricing at the LP's own prices brings
   one back if it beats them again).
3. A bound at every round, finished or not (the Lagrangian bound): for any π ≥ 0, ν ≥ 0 and an upper bound U
   on max_S π(S) − f(w(S)), every districting of K ≤ K' districts costs Σ f = Σ_i π_i + Σ_S (f(S) − π(S))
   ≥ Σ_i π_i − ν·M − K'·max(0, U − ν), where K' bounds the districts of an optimum (M, the number of points,
   and (UB − W·q/L) / min_n (f(n) − n·q/L) for the incumbent's cost UB: E⌈X/L⌉ ≥ EX/L). U comes from the
   pricing (the star bound, the lenses' cuts, CP-SAT). The loss K'·max(0, U − ν)
   can also be charged per facility (``pricing.share_loss``: a district of n facilities loses at most the mean
   of its members' bounds for size n); the smaller loss is taken. The best bound of all rounds is reported. It is
   not rounded up: Σ f is not integral. The generation stops when the bound is within ``target_gap`` of the
   incumbent (then no master is needed) or equals the LP value (the LP is proven).
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

from gunmane.engine.districting import lenses, pricing

_EPS = 1e-7
_log = logging.getLogger(__name__)
MAX_POINTS = 1200  # above, the dense pricing (n² per round) and the LP cost more than they return in the time given
_GENERATION_SHARE = 0.9  # of the time given, for column generation; the integer master has the rest
_LENS_PAIRS = 80_000  # compatible pairs up to which the lens bound (``pricing.lens_bounds``, ≈ 10 µs a pair) is tried
_MASTER_COLUMNS = 1000  # the integer master's columns at most, by least reduced cost (``_Pool.useful``)
_PRICING_SEEDS = 40  # greedy districts grown per round, from the facilities with the highest prices
# a column leaves the master LP when its reduced cost exceeds this share of f(1) (``_Pool.retire``, every
# _RETIRE_EVERY rounds): on the benchmark's instance at D = 15 km, 45 s gave the bound 2.7560 with 0.4 (44 rounds),
# 2.7517 keeping every column (37), 2.7513 with 0.08 (51: the LP left unconverged); LP 2.7572
_RETIRE = 0.4
_RETIRE_EVERY = 5
_RETIRE_ABOVE = 2000  # columns in the LP: below, leaving some out only unsettles the prices (Tokyo's 59 offices
# at D = 50 km: 44 rounds and proven in 0.6 s keeping all, 637 rounds and not proven in 4 s retiring)
_LP_TOLERANCE = 1e-7  # a bound this close (relative) to the master LP's value proves it (the interior point's)
_SMOOTHING = 0.8  # the prices priced are this share of the best bound's and the rest the LP's (Wentges smoothing)


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
        self.active: dict[frozenset[int], None] = {}  # the columns of the master LP (``retire``)
        self.geometry: lenses.Geometry = {}  # the lenses' halves and conflicts, for every pricing round
        self.lens_set: lenses.LensSet | None = None  # the lenses no other contains, once the cuts price
        self.no_lenses = False  # they could not be listed in the time given
        self.add(frozenset(np.flatnonzero(incumbent == d).tolist()) for d in np.unique(incumbent))
        self.add(frozenset([i]) for i in range(self.n))
        self.add(_fitting(i, self.near, self.order[i]) for i in range(self.n))

    def add(self, found: Iterable[frozenset[int]], *, revive: bool = True) -> int:
        """Adds districts to the pool and to the master LP; how many the LP gained. ``revive``: a pool district the
        LP had left (``retire``) is taken back — only when found at the LP's own prices (it then lowers the LP): at
        smoothed prices the same districts would leave and come back every few rounds (593 rounds in 5 s, where 44
        proved the instance in 0.6 s)."""
        gained = 0
        for c in found:
            if c not in self.columns:
                self.columns[c] = None
                self.active[c] = None
                gained += 1
            elif revive and c not in self.active:
                self.active[c] = None
                gained += 1
        return gained

    def retire(self, price: np.ndarray, nu: float, keep: Iterable[frozenset[int]]) -> None:
        """Leaves out of the master LP the districts whose reduced cost at these prices exceeds ``_RETIRE`` × f(1)
        (they stay in the pool for the integer master; the pricing at the LP's own prices brings one back if it
        beats them again, ``add``): the LP's time grows with its columns (0.38 s a round at 4,500)."""
        cols = list(self.active)
        reduced = _costs(cols, self.weight, self.table) + nu - np.array([price[list(c)].sum() for c in cols])
        limit = _RETIRE * float(self.table[1])
        kept = {c: None for c, r in zip(cols, reduced, strict=True) if r <= limit or len(c) == 1}
        kept.update(dict.fromkeys(keep))
        self.active = kept

    def lp_prices(self, max_regions: int | None, deadline: float) -> tuple[np.ndarray, float] | None:
        """The master LP's price per facility π ≥ 0 and of the row Σ x ≤ M, ν ≥ 0 (0 without M), at the interior
        point (module docstring, 2.); None when HiGHS stops without an answer."""
        cols = list(self.active)
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
                 deadline: float, workers: int, xyz: np.ndarray | None) -> tuple[list[frozenset[int]], float]:
    """Districts worth more than ν at these prices, and an upper bound U on max_S π(S) − f(w(S)) (module
    docstring, 3.). With the points' positions ``xyz`` and few enough pairs, the lenses' minimum cuts give both
    at once (U is then the maximum); otherwise a greedy search, the lenses' greedy search and CP-SAT, until one
    of them finds a district."""
    weight, table = pool.weight, pool.table
    upper = float(pricing.star_bound(pool.near, price, table).max(initial=0.0))
    if upper <= nu + _EPS:
        return [], upper
    if xyz is not None and pool.pairs <= _LENS_PAIRS and pool.lens_set is None and not pool.no_lenses:
        pool.lens_set = lenses.maximal_lenses(dist, max_distance_km, deadline=deadline)
        pool.no_lenses = pool.lens_set is None  # out of time: the other pricing from now on
    if xyz is not None and pool.lens_set is not None:
        relaxed = lenses.relaxed_bounds(pool.lens_set, price, table)
        cut = lenses.price_lenses(dist, xyz, max_distance_km, price, weight, table, threshold=nu, deadline=deadline,
                                  lens_set=pool.lens_set, relaxed=relaxed, geometry=pool.geometry)
        if cut.found or cut.exact:
            return list(cut.found), min(upper, cut.upper)
        upper = min(upper, cut.upper)
    found = pool.priced(price, nu)
    if found:
        return found, upper
    if pool.pairs <= _LENS_PAIRS:
        bounds = pricing.lens_bounds(dist, max_distance_km, price, table)  # once a round: ≈ 0.2 s at 322 points
        upper = min(upper, pricing.lens_upper(dist, max_distance_km, price, table, lenses=bounds))
        if upper <= nu + _EPS:
            return [], upper
        found = pricing.lens_columns(dist, max_distance_km, pool.near, price, weight, table, threshold=nu,
                                     bounds=bounds)
        if found:
            return found, upper
    exact = pricing.price_exact(pool.near, price, weight, table, deadline=deadline, threshold=nu, workers=workers)
    return ([exact.best] if exact.best is not None else []), min(upper, exact.upper)


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
             workers: int = 2, xyz: np.ndarray | None = None, target_gap: float = 0.0) -> Generated:
    """Column generation from ``incumbent`` (module docstring): the districts of the integer master and the best
    valid lower bound. ``table[s]`` = f(s) up to Σ weight; ``max_regions`` an upper limit on the districts (or
    None); ``slope`` = q/L for the region limit K'; ``xyz`` the points on the unit sphere (``lenses.unit_vectors``)
    for the exact pricing by minimum cuts (without them, CP-SAT prices); ``target_gap`` the relative gap at which
    the incumbent counts as proven (the generation stops and no master is solved). The caller keeps the cheaper of
    the districts and ``incumbent`` (the master's time limit can stop it short of the incumbent)."""
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
    centre: tuple[np.ndarray, float, float] | None = None  # the prices of the best bound so far, their ν, the bound
    enough = cost(incumbent, weight, table) * (1 - target_gap)  # a bound this high proves the incumbent
    while time.monotonic() < generate_until and bound < enough:
        prices = pool.lp_prices(max_regions, generate_until)
        if prices is None:
            break
        out, nu_out = prices
        rounds += 1
        if rounds % _RETIRE_EVERY == 0 and len(pool.active) > _RETIRE_ABOVE:
            pool.retire(out, nu_out, start_columns)
        lp_value = math.fsum(out.tolist()) - nu_out * (max_regions or 0)
        alpha = _SMOOTHING if centre is not None else 0.0
        added, upper, nu = 0, math.inf, nu_out
        while time.monotonic() < generate_until:  # the same LP prices while the smoothed ones price nothing new
            price = out if centre is None else alpha * centre[0] + (1 - alpha) * out
            nu = nu_out if centre is None else alpha * centre[1] + (1 - alpha) * nu_out
            found, upper = _price_round(pool, dist, max_distance_km, price, nu, deadline=generate_until,
                                        workers=workers, xyz=xyz)
            added = pool.add(found, revive=alpha == 0.0)
            loss = min(limit * max(0.0, upper - nu), pricing.share_loss(pool.near, price, table, nu, upper))
            here = math.fsum(price.tolist()) - nu * (max_regions or 0) - loss
            bound = max(bound, here)
            progress = centre is None or here > centre[2] + _EPS
            if progress:
                centre = (price, nu, here)
            _log.debug("round %d (α %.2f): %d columns, LP %.6f, upper %.4f, bound %.6f", rounds, alpha,
                       len(pool.columns), lp_value, upper, bound)
            if added or alpha == 0.0 or bound >= lp_value - _LP_TOLERANCE * max(1.0, lp_value):
                break
            if upper > nu + 1e-6 or not progress:  # nothing new at the smoothed prices: price the LP's own
                alpha = 0.0
        if bound >= lp_value - _LP_TOLERANCE * max(1.0, lp_value):
            proven = True
            break
        if not added and alpha == 0.0:
            proven = upper <= nu + 1e-6
            break
    if bound >= enough:  # the incumbent is proven: no master needed
        return Generated(None, bound, lp_value, proven, rounds)
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
            incumbent: Sequence[int], *, max_regions: int | None, deadline: float,
            xyz: np.ndarray | None = None) -> tuple[int, ...] | None:
    """The districts of ``generate`` alone, or ``incumbent`` when they cost more or the bound proved it optimal
    (None when nothing was found in time)."""
    gen = generate(dist, max_distance_km, weight, table, incumbent, max_regions=max_regions, deadline=deadline,
                   xyz=xyz)
    got, start = gen.assignment, tuple(int(x) for x in incumbent)
    if got is None:
        return start if gen.bound >= cost(start, weight, table) - 1e-9 else None
    return start if cost(got, weight, table) > cost(start, weight, table) else got


def cost(labels: Sequence[int], weight: np.ndarray, table: np.ndarray) -> float:
    """Σ f(Σ weight) over the districts of ``labels``."""
    sizes = np.bincount(np.asarray(labels), weights=weight)
    return math.fsum(float(table[int(round(s))]) for s in sizes if s > 0)
