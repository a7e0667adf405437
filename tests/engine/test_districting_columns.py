"""The pool of districts (engine/districting/columns.py): from the worst start (every facility alone) the master
over the priced pool reaches the brute-force optimum of small instances; it never returns an infeasible
districting or one costlier than its start; on the benchmark's synthetic instance it beats the local search."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from gunmane.engine.districting import columns
from gunmane.engine.districting.contracts import f_table
from gunmane.engine.districting.heuristic import solve_heuristic
from tests.engine.test_districting_exact import CASES, brute_force, check_partition, random_instance


@pytest.mark.parametrize(("seed", "n", "spread", "d", "q", "L", "m", "m_max"),
                         [c for c in CASES if c[6] is None])
def test_pool_from_singletons_reaches_the_brute_force_optimum(seed: int, n: int, spread: float, d: float, q: float,
                                                              L: int, m: int | None, m_max: int | None) -> None:
    inst, dist = random_instance(seed, n, spread_km=spread, d=d, q=q, L=L, max_regions=m_max)
    weight = np.ones(n)
    table = np.asarray(f_table(n + 1, q, L))
    singletons = tuple(range(n))
    if m_max is not None and m_max < n:  # the start must keep to M: the local search's districts
        start = solve_heuristic(inst, dist, time_limit_s=5).assignment
        assert start is not None
    else:
        start = singletons
    got = columns.improve(dist, d, weight, table, start, max_regions=m_max, deadline=time.monotonic() + 20)
    assert got is not None
    value = check_partition(inst, dist, got)
    assert value == pytest.approx(brute_force(inst, dist), abs=1e-9)
    assert value <= columns.cost(start, weight, table) + 1e-12


def test_weighted_pool_counts_facilities_not_points() -> None:
    """Two points of weight 3 within D: one district of 6 facilities (f(6) < 2 f(3): bundling pays)."""
    dist = np.array([[0.0, 5.0], [5.0, 0.0]])
    weight = np.array([3.0, 3.0])
    table = np.asarray(f_table(7, 0.3, 5))
    got = columns.improve(dist, 10.0, weight, table, (0, 1), max_regions=None, deadline=time.monotonic() + 10)
    assert got == (0, 0)
    assert columns.cost(got, weight, table) == pytest.approx(table[6])


def test_pool_beats_the_local_search_on_the_benchmark_instance() -> None:
    """D = 30 km on the benchmark's 322 synthetic bridges at the study's q: the pool finds a cheaper districting
    than the local search alone (1.669 → 1.665 contracts a year on the benchmark machine)."""
    from benchmarks.districting import synthetic_instance

    inst = replace(synthetic_instance(), max_distance_km=30.0)
    from gunmane.engine.districting.solve import instance_distances

    dist = instance_distances(inst)
    heur = solve_heuristic(inst, dist, time_limit_s=10)
    assert heur.assignment is not None
    n = len(inst.points)
    weight, table = np.ones(n), np.asarray(f_table(n + 1, inst.q, inst.bundle_limit))
    got = columns.improve(dist, 30.0, weight, table, heur.assignment, max_regions=None,
                          deadline=time.monotonic() + 40)
    assert got is not None
    a = np.asarray(got)
    assert not ((a[:, None] == a[None, :]) & (dist > 30.0 + 1e-9)).any()
    assert columns.cost(got, weight, table) < columns.cost(heur.assignment, weight, table) - 1e-3


def test_master_prices_are_central_not_a_vertex() -> None:
    """Two facilities within D: the master covers both with {0, 1} at f(2), and every π with π_0 + π_1 = f(2),
    0 ≤ π_i ≤ f(1) is optimal. A simplex vertex gives (f(1), f(2) − f(1)); the interior point gives the centre
    (f(2)/2, f(2)/2) — the prices that let the column generation leave a degenerate master (columns docstring)."""
    dist = np.array([[0.0, 5.0], [5.0, 0.0]])
    weight = np.ones(2)
    table = np.asarray(f_table(3, 0.0123, 5))
    pool = columns._Pool(dist, 10.0, weight, table, np.array([0, 1]))
    prices = pool.lp_prices(None, time.monotonic() + 10)
    assert prices is not None
    price, nu = prices
    assert nu == 0.0
    assert price.sum() == pytest.approx(table[2], abs=1e-7)
    assert price[0] == pytest.approx(price[1], abs=1e-6)


def test_study_q_is_proven_optimal_on_the_benchmark_instance() -> None:
    """The benchmark's 322 synthetic bridges at the study's q (0.0123), D = 45 km: the column generation's LP,
    with the exact pricing, proves the districts optimal (gap ≤ 0.1 %; 4 s on the benchmark machine)."""
    from benchmarks.districting import synthetic_instance
    from gunmane.engine.districting.solve import solve

    res = solve(replace(synthetic_instance(), max_distance_km=45.0), time_limit_s=60)
    assert res.status == "optimal"
    assert res.gap is not None and res.gap <= 1e-3
    assert res.objective is not None and res.bound is not None and res.bound <= res.objective
    assert any("列生成" in a for a in res.assumptions)
