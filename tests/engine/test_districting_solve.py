"""Districting entry points (#14): baselines by hand, regions and gap as promised, infeasibility as a result,
the sweep over D non-increasing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gunmane.engine.districting.solve import baselines, solve, sweep
from gunmane.engine.districting.types import FacilityPoint, Instance
from tests.engine.test_districting_heuristic import random_instance


def test_baselines_by_hand() -> None:
    # two municipalities of two facilities each, 1 km apart, q = 1/2, L = 2
    pts = (FacilityPoint("a1", "011001", 35.0, 135.0), FacilityPoint("a2", "011001", 35.0, 135.01),
           FacilityPoint("b1", "012001", 35.01, 135.0), FacilityPoint("b2", "012001", 35.01, 135.01))
    res = solve(Instance(pts, 5.0, 2, 0.5, q_source="利用者の指定"), time_limit_s=2.0, method="heuristic")
    # alone: X ~ Bin(2, ½), ⌈X/2⌉ = 1 unless X = 0 → 3/4 each; together: Bin(4, ½) → (4+6)/16·1 + (4+1)/16·2
    assert res.baselines.separate == pytest.approx(1.5)
    assert res.baselines.single == pytest.approx(1.25)
    assert res.baselines.individual == pytest.approx(2.0)
    assert res.status == "optimal" and res.objective == pytest.approx(1.25) and res.gap == 0.0
    (region,) = res.regions
    assert region.id == 1 and region.n == 4 and region.members == {"011001": 2, "012001": 2}
    assert region.max_distance_km == pytest.approx(math.hypot(1.112, 0.911), rel=0.01)
    assert any("6,371 km" in s for s in res.assumptions) and any("利用者の指定" in s for s in res.assumptions)
    assert any("L = 2" in s for s in res.assumptions) and any("5 km" in s for s in res.assumptions)
    far = solve(Instance(pts, 1.0, 2, 0.5), time_limit_s=2.0, method="heuristic")
    assert far.baselines.single is None  # the diagonal is 1.4 km > D


def test_per_facility_q_baselines_use_poisson_binomial() -> None:
    pts = (FacilityPoint("a", "011001", 35.0, 135.0, 0.2), FacilityPoint("b", "011001", 35.0, 135.01, 0.6))
    res = solve(Instance(pts, 5.0, 1, 0.5), time_limit_s=1.0, method="heuristic")
    assert res.baselines.individual == pytest.approx(0.8)
    assert res.baselines.separate == pytest.approx(0.8)  # L = 1: E X
    res2 = solve(Instance(pts, 5.0, 2, 0.5), time_limit_s=1.0, method="heuristic")
    assert res2.baselines.separate == pytest.approx(1 - 0.8 * 0.4)  # ⌈X/2⌉ = 1 unless X = 0


@pytest.mark.parametrize("method", ["heuristic", "auto"])
def test_result_is_consistent(method: str) -> None:
    inst = random_instance(3, 60, 4, d=20.0, spread=0.08, q=0.05, bundle_limit=5)
    res = solve(inst, time_limit_s=5.0, method=method)  # type: ignore[arg-type]
    assert res.status in ("optimal", "feasible") and res.objective is not None and res.bound is not None
    assert res.bound <= res.objective + 1e-12
    assert res.gap == pytest.approx((res.objective - res.bound) / res.objective, abs=1e-12)
    assert (res.status == "optimal") == (res.gap <= 1e-3)  # within 0.1 % of the proven bound
    assert res.objective == pytest.approx(sum(r.expected_contracts for r in res.regions))
    assert [r.id for r in res.regions] == list(range(1, len(res.regions) + 1))
    assert [r.n for r in res.regions] == sorted((r.n for r in res.regions), reverse=True)
    assert sum(r.n for r in res.regions) == 60 and all(r.max_distance_km <= 20.0 + 1e-9 for r in res.regions)
    assert sum(sum(r.members.values()) for r in res.regions) == 60
    assert res.objective <= res.baselines.individual


def test_infeasible_result_explains() -> None:
    inst = random_instance(4, 30, 3, d=5.0, spread=0.2, max_regions=2)
    res = solve(inst, time_limit_s=2.0)
    assert res.status == "infeasible" and res.regions == () and res.objective is None
    assert res.infeasibility is not None and res.infeasibility.lower_bound_regions > 2
    assert len(res.infeasibility.facility_ids) == res.infeasibility.lower_bound_regions
    assert "最大 2" in res.infeasibility.reason


def test_sweep_is_monotone_and_in_the_order_given() -> None:
    inst = random_instance(9, 200, 6, d=0.0, spread=0.1, q=0.0123, bundle_limit=5)
    ds = [50.0, 15.0, 20.0, 30.0, 40.0, 25.0]
    results = sweep(inst, ds, time_limit_s=2.0, method="heuristic")
    assert [r.max_distance_km for r in results] == ds
    by_d = sorted(results, key=lambda r: r.max_distance_km)
    objs = [r.objective for r in by_d]
    assert all(o is not None for o in objs)
    assert all(b <= a + 1e-12 for a, b in zip(objs, objs[1:], strict=False))  # type: ignore[operator]
    for r in results:
        assert all(reg.max_distance_km <= r.max_distance_km + 1e-9 for reg in r.regions)
    # each municipality alone as today is one pool each, whatever D; alone within D never below it (f is
    # subadditive), dearer at 15 km than at 50 km (more municipalities split), never below the districting (one
    # of its starts)
    pooled = baselines(inst, np.zeros((200, 200))).separate
    for r in results:
        within = r.baselines.separate_within_d
        assert r.baselines.separate == pytest.approx(pooled)
        assert within is not None and r.objective is not None and r.objective <= within + 1e-9
        assert within >= pooled - 1e-9
    assert results[1].baselines.separate_within_d > results[0].baselines.separate_within_d  # type: ignore[operator]
