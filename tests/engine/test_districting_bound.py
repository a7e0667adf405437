"""The column-generation lower bound (engine/districting/columns.py + pricing.py, issue #14 follow-up): the exact
pricing against every district of small instances, and the bound against brute force over every partition — it
never exceeds the optimum, and meets it where the LP relaxation is tight."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from gunmane.engine.districting import columns, pricing
from gunmane.engine.districting.contracts import f_table
from tests.engine.test_districting_exact import (
    CASES,
    brute_force,
    check_partition,
    partitions,
    random_instance,
)


def _all_districts(near: np.ndarray) -> list[tuple[int, ...]]:
    n = near.shape[0]
    return [s for k in range(1, n + 1) for s in itertools.combinations(range(n), k)
            if all(near[a, b] for a, b in itertools.combinations(s, 2))]


@pytest.mark.parametrize("seed", range(6))
def test_pricing_bounds_the_best_district_and_the_search_finds_it(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 9
    inst, dist = random_instance(100 + seed, n, spread_km=40, d=float(rng.uniform(12, 30)), q=0.2, L=3)
    near = dist <= inst.max_distance_km + 1e-9
    weight = rng.integers(1, 3, n) if seed % 2 else np.ones(n, dtype=np.int64)
    table = np.asarray(f_table(int(weight.sum()) + 1, inst.q, inst.bundle_limit))
    price = rng.uniform(0, 0.8, n) * (rng.uniform(size=n) > 0.15)
    best = max(math.fsum(price[list(s)]) - table[int(weight[list(s)].sum())] for s in _all_districts(near))
    star = pricing.star_bound(near, price, table)
    lens = pricing.lens_upper(dist, inst.max_distance_km, price, table)
    assert float(star.max()) >= best - 1e-12 and lens >= best - 1e-12
    nu = float(rng.uniform(0, 0.1))
    loss = pricing.share_loss(near, price, table, nu, float(star.max()))
    for labels in partitions(n):  # every districting loses at most the share loss against Σ π − ν·M
        groups = [np.flatnonzero(np.asarray(labels) == k) for k in range(max(labels) + 1)]
        if all(near[np.ix_(g, g)].all() for g in groups):
            lost = math.fsum(max(0.0, math.fsum(price[g]) - table[int(weight[g].sum())] - nu) for g in groups)
            assert lost <= loss + 1e-12
    got = pricing.price_exact(near, price, weight, table, deadline=time.monotonic() + 20)
    assert got.exact and got.upper >= best - 1e-12 and got.upper <= max(best, 0.0) + n / pricing.SCALE
    if best > 1e-9:
        assert got.best is not None and got.value == pytest.approx(best, abs=1e-9)
        assert all(near[a, b] for a, b in itertools.combinations(got.best, 2))


def _generate(inst, dist, start, m_max):  # type: ignore[no-untyped-def]
    n = len(inst.points)
    weight = np.ones(n, dtype=np.int64)
    table = np.asarray(f_table(n + 1, inst.q, inst.bundle_limit))
    return columns.generate(dist, inst.max_distance_km, weight, table, start, max_regions=m_max,
                            deadline=time.monotonic() + 20, slope=inst.q / inst.bundle_limit)


def test_bound_never_exceeds_the_brute_force_optimum_and_is_tight_where_the_lp_is() -> None:
    tight = 0
    for seed, n, spread, d, q, L, m, m_max in CASES:
        if m is not None:
            continue
        inst, dist = random_instance(seed, n, spread_km=spread, d=d, q=q, L=L, max_regions=m_max)
        optimum = brute_force(inst, dist)
        assert optimum is not None
        start = tuple(range(n)) if m_max is None else tuple(i % m_max for i in range(n))
        if m_max is not None and not check_feasible(dist, d, start):
            start = tuple(columns_start(dist, d, m_max))
        out = _generate(inst, dist, start, m_max)
        assert out.lp_proven, (seed, out)  # small instances: the exact pricing finishes
        assert out.bound == pytest.approx(out.lp_value, abs=1e-5)  # proven: the bound is the LP value
        assert out.bound <= optimum + 1e-9
        assert out.assignment is not None and check_partition(inst, dist, out.assignment) >= optimum - 1e-9
        tight += out.bound >= optimum - 1e-6
    assert tight >= 3  # the LP relaxation meets the optimum on several of them


def check_feasible(dist: np.ndarray, d: float, labels: tuple[int, ...]) -> bool:
    a = np.asarray(labels)
    return not ((a[:, None] == a[None, :]) & (dist > d + 1e-9)).any()


def columns_start(dist: np.ndarray, d: float, m_max: int) -> list[int]:
    """A partition into at most ``m_max`` districts under D found by brute force (small instances)."""
    for labels in partitions(dist.shape[0]):
        if max(labels) < m_max and check_feasible(dist, d, tuple(labels)):
            return list(labels)
    raise AssertionError("no start")


@pytest.mark.parametrize("seed", range(12))
def test_random_instances_bound_at_most_optimum(seed: int) -> None:
    """Property-style (seeded): random sizes, spreads, D, q, L; a short time so the bound is often unfinished —
    the Lagrangian bound must hold either way."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(5, 10))
    d = float(rng.uniform(8, 30))
    inst, dist = random_instance(2000 + seed, n, spread_km=float(rng.uniform(20, 60)), d=d,
                                 q=float(rng.uniform(0.05, 0.6)), L=int(rng.integers(1, 6)))
    optimum = brute_force(inst, dist)
    assert optimum is not None
    weight = np.ones(n, dtype=np.int64)
    table = np.asarray(f_table(n + 1, inst.q, inst.bundle_limit))
    for budget in (0.02, 20.0):
        out = columns.generate(dist, d, weight, table, tuple(range(n)), max_regions=None,
                               deadline=time.monotonic() + budget, slope=inst.q / inst.bundle_limit)
        assert out.bound <= optimum + 1e-9


def test_alone_within_d_splits_a_municipality_wider_than_d() -> None:
    """One municipality with two bridges 11 km apart and D = 5 km: as today it orders for both, f(2) + f(1) (the
    study's "separate"); alone within D it needs two districts, 2·f(1) + f(1) (``separate_within_d``); the
    assumptions say so. The solve's bound is proven and the result optimal."""
    from gunmane.engine.districting.solve import solve
    from gunmane.engine.districting.types import FacilityPoint, Instance

    pts = (FacilityPoint("a1", "011001", 35.0, 135.0), FacilityPoint("a2", "011001", 35.1, 135.0),
           FacilityPoint("b1", "012001", 35.0, 135.01))
    res = solve(Instance(pts, 5.0, 2, 0.5), time_limit_s=5.0)
    f = f_table(3, 0.5, 2)
    assert res.baselines.separate == pytest.approx(f[2] + f[1])
    assert res.baselines.separate_within_d == pytest.approx(2 * f[1] + f[1])
    assert any("D より離れている 1 団体" in s for s in res.assumptions)
    assert res.status == "optimal" and res.objective == pytest.approx(f[2] + f[1])
    assert res.bound is not None and res.bound <= res.objective + 1e-12
