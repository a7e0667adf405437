"""A proven lower bound on the cost of any lot design that meets the conditions (used for the gap whatever
solved the design: the heuristic alone, or CP-SAT, whose own best bound is taken when it is higher)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["LotCostFloor", "lower_bound", "rounding", "split_cost", "trivial_bound"]

#: the estimation rules' rates are rounded to 0.01 %, so the overhead is nondecreasing only up to the rounding:
#: each of the three rates moves by at most 0.005 % of its base (≤ 2 V), plus a yen for each part's rounding.
ROUNDING_SHARE = 2.5e-4
ROUNDING_YEN = 3.0


def rounding(v: np.ndarray) -> np.ndarray:
    """δ(V): |overhead(V) − the overhead with unrounded rates| ≤ δ(V); so overhead(y) ≥ overhead(x) − δ(x) − δ(y)
    for y ≥ x (tests/engine/test_lots_bound.py checks it on a dense grid of the shipped edition)."""
    return ROUNDING_SHARE * np.asarray(v, dtype=float) + ROUNDING_YEN


class LotCostFloor:
    """Step lower envelope of the cost of one lot, g(V) = overhead(V) + staff + P_fail(V) × re-tender, on
    [lo, hi]: on a geometric grid lo = x_0 < … < x_n = hi, m_i ≤ g(V) for every V in [x_i, x_{i+1}].

    m_i = overhead(x_i) − δ(x_i) − δ(x_{i+1}) + staff + re-tender × min(P_fail on [x_i, x_{i+1}]), because the
    overhead is nondecreasing in V up to the rounding of the rates (each rate of the estimation rules falls more
    slowly than 1/V; :func:`rounding`), and P_fail is linear in log10 V between the knots of its curve, so its
    minimum on an interval is at an end or a knot inside."""

    def __init__(self, overhead: Callable[[np.ndarray], np.ndarray], fail: Callable[[np.ndarray], np.ndarray],
                 knots_log10: np.ndarray, staff_yen: float, retender_yen: float, lo: float, hi: float,
                 points: int = 2000) -> None:
        x = np.unique(np.geomspace(max(lo, 1.0), max(hi, lo, 1.0), points))
        a, b = x[:-1], x[1:]
        ends = np.minimum(fail(a), fail(b))
        kx = 10.0 ** np.asarray(knots_log10, dtype=float)
        kf = fail(kx)
        inside = (kx[None, :] > a[:, None]) & (kx[None, :] < b[:, None])
        f_min = np.minimum(ends, np.where(inside, kf[None, :], np.inf).min(axis=1)) if kx.size else ends
        self.lo, self.hi = a, b
        self.m = np.maximum(overhead(a) - rounding(a) - rounding(b), 0.0) + staff_yen + retender_yen * f_min
        if x.size == 1:  # lo == hi
            self.lo = self.hi = x
            self.m = np.maximum(overhead(x) - 2 * rounding(x), 0.0) + staff_yen + retender_yen * fail(x)

    def lots_cost(self, total: float, k_min: int, k_max: int, lambdas: int = 400) -> float:
        """A lower bound on Σ_l g(V_l) over every k in [k_min, k_max] and V_l in [lo, hi] with Σ V_l = total.

        For any λ ≥ 0: Σ g(V_l) = λ·total + Σ (g(V_l) − λ V_l) ≥ λ·total + k·c(λ), where
        c(λ) = min_i (m_i − λ x_{i+1}) ≤ g(V) − λV on [lo, hi]; the worst k is k_min when c ≥ 0, else k_max.
        Every λ gives a valid bound (λ = 0: k_min lots at the cheapest lot; λ = min m_i / x_{i+1}: total × the
        lowest cost per yen); the best of a scan over [0, max m_i / x_i] is returned."""
        if k_max < k_min or total <= 0:
            return 0.0
        top = float((self.m / self.lo).max())
        best = 0.0
        for lam in np.linspace(0.0, top, lambdas):
            c = float((self.m - lam * self.hi).min())
            best = max(best, lam * total + (k_min if c >= 0 else k_max) * c)
        return best


def split_cost(floor: LotCostFloor, total: float, units: int = 2000) -> float:
    """A lower bound on Σ_l g(V_l) over every split of ``total`` into lots with V_l in [lo, hi] (any number of lots):
    the cheapest split of the step envelope, by dynamic programming on multiples of δ = total / units.

    Proof: take a split V_1…V_k, each V_l in a grid interval [x_i, x_{i+1}] where g ≥ m_i. Round every V_l/δ down,
    then round up as many of them as are needed to sum to ``units`` exactly (Σ⌊V_l/δ⌋ ≤ units ≤ Σ⌈V_l/δ⌉); each
    rounded w_l lies in [⌊x_i/δ⌋, ⌈x_{i+1}/δ⌉], so c(w_l) := min{m_i : w_l in that range} ≤ m_i ≤ g(V_l), and
    F[units] = min over sums of w's equal to ``units`` of Σ c(w) ≤ Σ g(V_l)."""
    if total <= 0:
        return 0.0
    delta = total / units
    c = np.full(units + 1, np.inf)
    lo_w = np.maximum(np.floor(floor.lo / delta).astype(np.int64), 1)
    hi_w = np.minimum(np.ceil(floor.hi / delta).astype(np.int64), units)
    for a, b, m in zip(lo_w.tolist(), hi_w.tolist(), floor.m.tolist(), strict=True):
        if a <= b:
            c[a:b + 1] = np.minimum(c[a:b + 1], m)
    f = np.full(units + 1, np.inf)
    f[0] = 0.0
    for n in range(1, units + 1):
        f[n] = float(np.min(c[1:n + 1] + f[n - 1::-1]))
    return float(f[units]) if np.isfinite(f[units]) else 0.0


def lower_bound(v_total: float, travel: np.ndarray, allowed: np.ndarray, floor: LotCostFloor, lo: float, hi: float,
                max_lots: int) -> float:
    """Proven: every design meeting the conditions costs at least this (¥/yr).

    A design puts each cell u in one lot it may join, paying travel t(u, lot) ≥ min over the lots it may join;
    and it has k lots, ⌈T / hi⌉ ≤ k ≤ min(⌊T / lo⌋, number of candidate lots), whose values V_l in [lo, hi] sum to
    the group's total T (the same in every design), so Σ g(V_l) ≥ :meth:`LotCostFloor.lots_cost` and ≥
    :func:`split_cost`. The two parts add (travel and the lots' own cost are separate terms of the objective)."""
    tr = float(np.where(allowed, travel, np.inf).min(axis=1).sum()) if allowed.size else 0.0
    k_min = max(1, math.ceil(v_total / hi - 1e-9))
    k_max = min(max_lots, math.floor(v_total / lo + 1e-9)) if lo > 0 else max_lots
    return tr + max(floor.lots_cost(v_total, k_min, max(k_max, k_min)), split_cost(floor, v_total))


def trivial_bound(v_total: float, travel: np.ndarray, allowed: np.ndarray, staff_yen: float, hi: float) -> float:
    """The trivial bound the lot design used to fall back on: travel at the nearest base and the staff time of the
    fewest lots the upper limit allows (kept for comparison in the tests and the report)."""
    tr = float(np.where(allowed, travel, np.inf).min(axis=1).sum()) if allowed.size else 0.0
    return tr + max(1, math.ceil(v_total / hi - 1e-9)) * staff_yen
