"""Weighted points (issue #14 §4): a point of weight w is w facilities at one position that stay together.

A weighted instance must give the same answer as the instance with each point duplicated w times, when the
duplicates can also only go together (here: every point farther than D from the others' positions apart from
the ones it may join as a whole, so splitting never helps — checked against brute force on the expanded one)."""

from __future__ import annotations

import itertools
import math

import pytest

from gunmane.engine.districting import solve as solving
from gunmane.engine.districting.contracts import expected_contracts_weighted, f_table
from gunmane.engine.districting.types import FacilityPoint, Instance


def _partitions(items: list[int]):  # every set partition (N ≤ 7 here)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        for i in range(len(part)):
            yield part[:i] + [[first] + part[i]] + part[i + 1:]
        yield [[first]] + part


def _brute(inst: Instance) -> float:
    dist = solving.instance_distances(inst)
    best = math.inf
    for part in _partitions(list(range(len(inst.points)))):
        if any(dist[i, j] > inst.max_distance_km + 1e-9 for g in part for i, j in itertools.combinations(g, 2)):
            continue
        cost = math.fsum(expected_contracts_weighted([inst.q] * len(g), [inst.points[i].weight for i in g],
                                                     inst.bundle_limit) for g in part)
        best = min(best, cost)
    return best


def _expand(inst: Instance) -> Instance:
    pts = tuple(FacilityPoint(f"{p.id}-{k}", p.lg_code, p.lat, p.lon, p.q)
                for p in inst.points for k in range(p.weight))
    return Instance(points=pts, max_distance_km=inst.max_distance_km, bundle_limit=inst.bundle_limit, q=inst.q)


# offices along a line of latitude, ~9 km apart (0.1° of longitude at 35°N ≈ 9.1 km)
WEIGHTED = Instance(points=(
    FacilityPoint("a", "290001", 35.0, 135.0, weight=40),
    FacilityPoint("b", "290002", 35.0, 135.1, weight=25),
    FacilityPoint("c", "290003", 35.0, 135.2, weight=60),
    FacilityPoint("d", "290004", 35.0, 135.3, weight=3),
    FacilityPoint("e", "290005", 35.0, 135.6, weight=12),
), max_distance_km=20.0, bundle_limit=5, q=0.04)


@pytest.mark.parametrize("d_km", [5.0, 12.0, 20.0, 40.0])
def test_weighted_equals_duplicated_points(d_km: float) -> None:
    inst = Instance(points=WEIGHTED.points, max_distance_km=d_km, bundle_limit=5, q=0.04)
    res = solving.solve(inst, time_limit_s=5)
    assert res.status in ("optimal", "feasible")
    assert res.method == "heuristic"  # the exact model reads unit points only
    # the optimum over whole points (brute force) — duplicates sharing a position can always go together
    opt = _brute(inst)
    assert res.objective == pytest.approx(opt, abs=1e-9)
    assert res.bound is not None and res.bound <= opt + 1e-9
    # the same instance with each point duplicated: the same optimum (exact model / heuristic on 140 points)
    dup = solving.solve(_expand(inst), time_limit_s=3, method="heuristic")
    assert dup.objective == pytest.approx(res.objective, abs=1e-6)
    assert dup.bound is not None and dup.bound <= res.objective + 1e-6
    # sizes and baselines count facilities, not points
    assert sum(r.n for r in res.regions) == 140
    assert sum(sum(r.members.values()) for r in res.regions) == 140
    assert res.baselines.separate == pytest.approx(dup.baselines.separate)
    assert res.baselines.individual == pytest.approx(140 * 0.04)
    assert (res.baselines.single is None) == (dup.baselines.single is None)
    if res.baselines.single is not None:
        assert res.baselines.single == pytest.approx(f_table(140, 0.04, 5)[140])


def test_weighted_per_point_q_poisson_binomial() -> None:
    pts = tuple(FacilityPoint(p.id, p.lg_code, p.lat, p.lon, q=0.02 + 0.01 * i, weight=p.weight)
                for i, p in enumerate(WEIGHTED.points))
    inst = Instance(points=pts, max_distance_km=100.0, bundle_limit=5, q=0.04)
    res = solving.solve(inst, time_limit_s=3)
    dup = solving.solve(_expand(inst), time_limit_s=3, method="heuristic")
    assert res.objective == pytest.approx(dup.objective, abs=1e-9)
    assert res.baselines.individual == pytest.approx(dup.baselines.individual)
    assert res.bound is not None and res.bound <= res.objective + 1e-9


def test_weighted_sweep_monotone_and_exact_m() -> None:
    results = solving.sweep(WEIGHTED, [10.0, 20.0, 30.0, 60.0], time_limit_s=2)
    objs = [r.objective for r in results]
    assert all(a is not None and b is not None and b <= a + 1e-9 for a, b in itertools.pairwise(objs))
    inst = Instance(points=WEIGHTED.points, max_distance_km=60.0, bundle_limit=5, q=0.04, regions=3)
    res = solving.solve(inst, time_limit_s=2)
    assert len(res.regions) == 3 and sum(r.n for r in res.regions) == 140
