"""The exact districting model against brute force over every set partition of small instances (issue #14)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from gunmane.engine.districting.contracts import f_table
from gunmane.engine.districting.exact import conflict_clique, solve_exact
from gunmane.engine.districting.geo import distance_matrix
from gunmane.engine.districting.types import FacilityPoint, Instance


def partitions(n: int) -> Iterator[list[int]]:
    """Every set partition of 0…n−1 as restricted growth strings (label of each element)."""
    labels = [0] * n

    def rec(i: int, top: int) -> Iterator[list[int]]:
        if i == n:
            yield labels
            return
        for k in range(top + 2):
            labels[i] = k
            yield from rec(i + 1, max(top, k))

    if n:
        yield from rec(1, 0)
    else:
        yield labels


def brute_force(instance: Instance, dist: np.ndarray) -> float | None:
    """The optimum of Σ f(N_k, L) over every feasible partition (None when none is)."""
    n = len(instance.points)
    f = f_table(n, instance.q, instance.bundle_limit)
    conflict = dist > instance.max_distance_km + 1e-9
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if conflict[i, j]]
    best: float | None = None
    for labels in partitions(n):
        if any(labels[i] == labels[j] for i, j in pairs):
            continue
        k = max(labels) + 1
        if instance.regions is not None and k != instance.regions:
            continue
        if instance.max_regions is not None and k > instance.max_regions:
            continue
        cost = math.fsum(f[c] for c in np.bincount(labels))
        if best is None or cost < best:
            best = cost
    return best


def random_instance(seed: int, n: int, *, spread_km: float, d: float, q: float, L: int,
                    regions: int | None = None, max_regions: int | None = None) -> tuple[Instance, np.ndarray]:
    rng = np.random.default_rng(seed)
    lat = 38.3 + rng.uniform(0, spread_km / 111.0, n)
    lon = 140.9 + rng.uniform(0, spread_km / 88.0, n)
    points = tuple(FacilityPoint(f"B{i}", f"0{4200 + i % 3}", float(a), float(b)) for i, (a, b) in
                   enumerate(zip(lat, lon, strict=True)))
    inst = Instance(points, d, L, q, regions=regions, max_regions=max_regions)
    return inst, distance_matrix(lat, lon)


def check_partition(instance: Instance, dist: np.ndarray, assignment: tuple[int, ...]) -> float:
    """The assignment is contiguous, respects D and M; returns its Σ f."""
    n = len(instance.points)
    a = np.asarray(assignment)
    k = int(a.max()) + 1
    assert sorted(set(assignment)) == list(range(k))
    assert not ((a[:, None] == a[None, :]) & (dist > instance.max_distance_km + 1e-9)).any()
    if instance.regions is not None:
        assert k == instance.regions
    if instance.max_regions is not None:
        assert k <= instance.max_regions
    f = f_table(n, instance.q, instance.bundle_limit)
    return math.fsum(f[c] for c in np.bincount(a))


CASES = [
    # seed, n, spread km, D, q, L, exact M, at most M
    (1, 9, 40, 20, 0.1, 5, None, None),
    (2, 9, 40, 15, 0.3, 2, None, None),
    (3, 8, 30, 12, 0.5, 3, None, None),
    (4, 9, 50, 25, 0.05, 1, None, None),
    (5, 9, 40, 22, 0.8, 4, None, None),
    (6, 8, 40, 18, 0.2, 2, 4, None),
    (7, 9, 40, 20, 0.1, 5, None, 3),
    (8, 9, 40, 30, 0.4, 3, 5, None),
    (9, 9, 60, 25, 0.15, 2, None, 4),
    (10, 10, 40, 20, 0.3, 3, None, None),
    (11, 9, 5, 20, 0.2, 3, None, None),  # no pair farther than D: one district is one option
    (12, 9, 5, 20, 0.2, 3, 3, None),  # …but exactly 3 are asked for
]


@pytest.mark.parametrize(("seed", "n", "spread", "d", "q", "L", "m", "m_max"), CASES)
def test_exact_equals_brute_force(seed: int, n: int, spread: float, d: float, q: float, L: int,
                                  m: int | None, m_max: int | None) -> None:
    instance, dist = random_instance(seed, n, spread_km=spread, d=d, q=q, L=L, regions=m, max_regions=m_max)
    expected = brute_force(instance, dist)
    out = solve_exact(instance, dist, time_limit_s=30)
    if expected is None:
        assert out.status == "infeasible"
        return
    assert out.status == "optimal"
    assert out.objective == pytest.approx(expected, abs=1e-9)
    assert check_partition(instance, dist, out.assignment) == pytest.approx(out.objective, abs=1e-12)
    assert out.bound is not None and out.bound <= out.objective + 1e-12
    assert out.objective - out.bound <= 1e-5  # proven: the bound meets the optimum up to the integer scaling


def test_some_cases_have_conflicts_and_differ_from_one_district() -> None:
    """The cases above are not trivial: most have pairs farther than D, several districts, and M binds."""
    with_conflicts = 0
    for seed, n, spread, d, q, L, _m, _mm in CASES:
        _, dist = random_instance(seed, n, spread_km=spread, d=d, q=q, L=L)
        with_conflicts += bool((dist > d).any())
    assert with_conflicts >= len(CASES) - 2
    free, dist = random_instance(7, 9, spread_km=40, d=20, q=0.1, L=5)
    capped, _ = random_instance(7, 9, spread_km=40, d=20, q=0.1, L=5, max_regions=3)
    assert brute_force(capped, dist) is None or brute_force(capped, dist) >= brute_force(free, dist)


def test_hint_is_used_and_does_not_change_the_optimum() -> None:
    instance, dist = random_instance(10, 10, spread_km=40, d=20, q=0.3, L=3)
    plain = solve_exact(instance, dist, time_limit_s=30)
    hinted = solve_exact(instance, dist, time_limit_s=30, hint=tuple(range(10)))  # all alone: feasible
    assert plain.objective == pytest.approx(hinted.objective, abs=1e-12)


def test_infeasible_when_m_is_below_a_conflict_clique() -> None:
    """Four facilities pairwise ~ 100 km apart cannot share districts: 3 districts are too few."""
    coords = [(38.0, 140.0), (38.9, 140.0), (38.0, 141.15), (38.9, 141.15), (38.45, 140.6)]
    points = tuple(FacilityPoint(f"P{i}", "04100", a, b) for i, (a, b) in enumerate(coords))
    dist = distance_matrix(np.array([c[0] for c in coords]), np.array([c[1] for c in coords]))
    corners = conflict_clique(dist > 90)
    assert sorted(corners) == [0, 1, 2, 3]
    for field in ("regions", "max_regions"):
        out = solve_exact(Instance(points, 90.0, 5, 0.1, **{field: 3}), dist, time_limit_s=10)
        assert out.status == "infeasible"
        assert sorted(out.clique) == [0, 1, 2, 3]
    ok = solve_exact(Instance(points, 90.0, 5, 0.1, max_regions=4), dist, time_limit_s=10)
    assert ok.status == "optimal" and max(ok.assignment) + 1 == 4
    too_many = solve_exact(Instance(points, 90.0, 5, 0.1, regions=6), dist, time_limit_s=10)
    assert too_many.status == "infeasible"  # six districts of five facilities


def test_per_facility_q_is_not_modelled() -> None:
    points = (FacilityPoint("a", "1", 38.0, 140.0, q=0.1), FacilityPoint("b", "1", 38.0, 140.01, q=0.2))
    dist = distance_matrix(np.array([38.0, 38.0]), np.array([140.0, 140.01]))
    out = solve_exact(Instance(points, 10.0, 5, 0.1), dist, time_limit_s=5)
    assert out.status == "unknown" and out.note
    same = (FacilityPoint("a", "1", 38.0, 140.0, q=0.2), FacilityPoint("b", "1", 38.0, 140.01, q=0.2))
    out = solve_exact(Instance(same, 10.0, 5, 0.1), dist, time_limit_s=5)
    assert out.status == "optimal" and out.assignment == (0, 0)
    assert out.objective == pytest.approx(f_table(2, 0.2, 5)[2], abs=1e-12)
