"""Districting heuristic (#14): f and its Poisson-binomial form against simulation, a feasible start always, the
objective against brute force on every partition of small instances, the lower bound, infeasibility explained."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from gunmane.engine.districting.contracts import expected_contracts_pb, f_table, poisson_binomial_pmf
from gunmane.engine.districting.geo import distance_matrix
from gunmane.engine.districting.heuristic import size_bound, solve_heuristic
from gunmane.engine.districting.types import FacilityPoint, Instance


def random_instance(seed: int, n: int, munis: int, *, d: float, spread: float = 0.1, q: float = 0.3,
                    bundle_limit: int = 2, own_q: bool = False, **kw: int) -> Instance:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-0.3, 0.3, size=(munis, 2))
    pts = tuple(FacilityPoint(f"F{i}", f"0{i % munis}0001", 38.3 + centres[i % munis, 0] + rng.normal(0, spread),
                              141.0 + centres[i % munis, 1] + rng.normal(0, spread),
                              float(rng.uniform(0.05, 0.5)) if own_q else None) for i in range(n))
    return Instance(pts, d, bundle_limit, q, **kw)  # type: ignore[arg-type]


def dist_of(inst: Instance) -> np.ndarray:
    return distance_matrix(np.array([p.lat for p in inst.points]), np.array([p.lon for p in inst.points]))


def partitions(items: list[int]):  # every set partition (Bell(n) of them)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in partitions(rest):
        yield [[first], *part]
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1:]]


def brute_force(inst: Instance, dist: np.ndarray) -> float:
    """The optimum of Σ f over every feasible partition (inf when none)."""
    qs = [inst.q if p.q is None else p.q for p in inst.points]
    best = math.inf
    for part in partitions(list(range(len(inst.points)))):
        if inst.regions is not None and len(part) != inst.regions:
            continue
        if inst.max_regions is not None and len(part) > inst.max_regions:
            continue
        if any(dist[i, j] > inst.max_distance_km + 1e-9 for b in part for i, j in combinations(b, 2)):
            continue
        best = min(best, math.fsum(expected_contracts_pb([qs[i] for i in b], inst.bundle_limit) for b in part))
    return best


def check_feasible(inst: Instance, dist: np.ndarray, assignment: tuple[int, ...]) -> None:
    a = np.asarray(assignment)
    assert len(a) == len(inst.points)
    assert sorted(set(a.tolist())) == list(range(a.max() + 1))  # districts 0…K−1, none empty
    same = a[:, None] == a[None, :]
    assert dist[same].max() <= inst.max_distance_km + 1e-9  # every district's diameter within D
    if inst.regions is not None:
        assert a.max() + 1 == inst.regions
    if inst.max_regions is not None:
        assert a.max() + 1 <= inst.max_regions


def test_f_and_poisson_binomial_against_simulation() -> None:
    rng = np.random.default_rng(5)
    sims = 200_000
    table = f_table(12, 0.2, 3)
    x = rng.binomial(12, 0.2, size=sims)
    mc = np.ceil(x / 3).mean()
    assert abs(table[12] - mc) < 4 * np.ceil(x / 3).std() / math.sqrt(sims)
    assert table[0] == 0.0 and all(a < b for a, b in zip(table, table[1:], strict=False))  # increasing
    qs = rng.uniform(0.01, 0.6, size=15)
    draws = (rng.random((sims, len(qs))) < qs).sum(axis=1)
    pmf = poisson_binomial_pmf(qs.tolist())
    freq = np.bincount(draws, minlength=len(qs) + 1) / sims
    assert abs(pmf.sum() - 1) < 1e-12 and np.abs(pmf - freq).max() < 0.006
    mc = np.ceil(draws / 4).mean()
    assert abs(expected_contracts_pb(qs.tolist(), 4) - mc) < 4 * np.ceil(draws / 4).std() / math.sqrt(sims)


def test_size_bound_is_the_exact_minimum_over_sizes() -> None:
    f = f_table(10, 0.3, 2)
    # every composition of 10 into K parts of size ≤ 4, K = 3…10, by enumeration
    best = math.inf
    def rec(left: int, parts: int, acc: float) -> None:
        nonlocal best
        if left == 0:
            if parts >= 3:
                best = min(best, acc)
            return
        for s in range(1, min(4, left) + 1):
            rec(left - s, parts + 1, acc + f[s])
    rec(10, 0, 0.0)
    assert size_bound(f, 10, 4, 3, 10) == pytest.approx(best)
    assert size_bound(f, 10, 4, 1, 2) == math.inf  # two districts of ≤ 4 cannot hold 10


@pytest.mark.parametrize("seed", range(12))
def test_heuristic_against_brute_force(seed: int) -> None:
    variants = [{}, {"max_regions": 3}, {"regions": 3}]
    inst = random_instance(seed, 8 if seed % 3 else 9, 3, d=[15.0, 25.0, 40.0][seed % 3], spread=0.12,
                           own_q=seed % 4 == 1, **variants[seed % 3])
    dist = dist_of(inst)
    opt = brute_force(inst, dist)
    out = solve_heuristic(inst, dist, time_limit_s=2.0, seed=seed)
    if math.isinf(opt):
        assert out.assignment is None and out.infeasibility is not None
        return
    assert out.assignment is not None, out.infeasibility
    check_feasible(inst, dist, out.assignment)
    qs = [inst.q if p.q is None else p.q for p in inst.points]
    a = np.asarray(out.assignment)
    obj = math.fsum(expected_contracts_pb([qs[i] for i in np.flatnonzero(a == d)], inst.bundle_limit)
                    for d in range(a.max() + 1))
    assert obj >= opt - 1e-9
    assert out.bound <= opt + 1e-9  # the lower bound is valid
    if all(p.q is None for p in inst.points):
        assert out.objective == pytest.approx(obj)


@pytest.mark.parametrize("seed", range(6))
def test_always_feasible_with_a_municipality_wider_than_d(seed: int) -> None:
    inst = random_instance(100 + seed, 150, 4, d=12.0, spread=0.2, q=0.05, bundle_limit=5)
    dist = dist_of(inst)
    lg0 = [i for i, p in enumerate(inst.points) if p.lg_code == inst.points[0].lg_code]
    assert dist[np.ix_(lg0, lg0)].max() > 3 * inst.max_distance_km  # a municipality much wider than D
    out = solve_heuristic(inst, dist, time_limit_s=1.0, seed=seed)
    assert out.assignment is not None
    check_feasible(inst, dist, out.assignment)
    assert out.objective is not None and out.bound <= out.objective


def test_no_worse_than_each_municipality_alone_when_each_fits() -> None:
    inst = random_instance(7, 120, 5, d=60.0, spread=0.03, q=0.05, bundle_limit=5)
    dist = dist_of(inst)
    separate = 0.0
    for lg in {p.lg_code for p in inst.points}:
        idx = [i for i, p in enumerate(inst.points) if p.lg_code == lg]
        assert dist[np.ix_(idx, idx)].max() <= inst.max_distance_km
        separate += f_table(len(idx), 0.05, 5)[-1]
    out = solve_heuristic(inst, dist, time_limit_s=1.0)
    assert out.objective is not None and out.objective < separate  # merging across municipalities pays


def test_infeasibility_names_the_facilities_pairwise_too_far() -> None:
    pts = (FacilityPoint("北", "041001", 38.8, 141.0), FacilityPoint("南", "042001", 37.8, 141.0),
           FacilityPoint("東", "043001", 38.3, 141.7), FacilityPoint("中", "041001", 38.3, 141.0))
    inst = Instance(pts, 60.0, 5, 0.1, max_regions=2)
    out = solve_heuristic(inst, dist_of(inst), time_limit_s=1.0)
    assert out.assignment is None and out.infeasibility is not None
    why = out.infeasibility
    assert set(why.facility_ids) == {"北", "南", "東"} and why.lower_bound_regions == 3
    assert all(name in why.reason for name in ("北", "南", "東")) and "60 km" in why.reason and "最大 2" in why.reason
    exact_m = solve_heuristic(Instance(pts, 60.0, 5, 0.1, regions=5), dist_of(inst), time_limit_s=1.0)
    assert exact_m.assignment is None and exact_m.infeasibility is not None  # 5 districts of 4 facilities
    ok = solve_heuristic(Instance(pts, 60.0, 5, 0.1, max_regions=3), dist_of(inst), time_limit_s=1.0)
    assert ok.assignment is not None and max(ok.assignment) + 1 == 3
