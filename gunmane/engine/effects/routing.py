"""Travel of a contract's field work: day tours from a base office over straight-line distance × detour.

A day tour leaves the base, visits sites (each taking its on-site hours) and returns within a working
day. Two solvers:

- **sweep** (Gillett & Miller): sites sorted by angle around the base, cut into days by the time budget,
  visited in angle order — vectorised, used for large contracts;
- **OR-Tools routing** (vehicle routing with a time dimension, one vehicle per day, PATH_CHEAPEST_ARC then
  greedy descent to a local optimum) for contracts up to ``travel.ortools_max_sites`` sites; the shorter of its
  answer and the sweep's is kept, so it is never worse than the sweep.

The descent stops by itself at its local optimum (a few tens of milliseconds for 40 sites). ``time_limit_ms``
is only a safety net far above that: with a tight limit (it was 50 ms) a busy machine cut the descent short
and the same scenario gave a different 移動距離 from one run to the next — a figure must not depend on the
machine's load.

Results are cached by (base, sites, on-site hours) so scenarios that keep a contract's sites together
do not route it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["TourResult", "TourSolver"]


@dataclass(frozen=True)
class TourResult:
    km: float
    days: int
    method: str
    routes: tuple[tuple[int, ...], ...] = ()  # per day, the visited sites (indices into the sites given)


@dataclass
class TourSolver:
    detour: float = 1.3
    speed_kmh: float = 40.0
    day_hours: float = 8.0
    ortools_max_sites: int = 40
    method: str = "ortools"
    time_limit_ms: int = 5000  # safety net only (see the module docstring); the descent normally ends long before
    cache: dict[tuple[object, ...], TourResult] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=lambda: {"ortools": 0, "sweep": 0, "cached": 0})

    def tours(self, depot: tuple[float, float], xy: np.ndarray, service_h: float, ids: np.ndarray | None = None) -> TourResult:
        n = int(xy.shape[0])
        if n == 0:
            return TourResult(0.0, 0, "none")
        key = (round(depot[0], 3), round(depot[1], 3), round(service_h, 3),
               (ids if ids is not None else np.round(xy, 3)).tobytes())
        hit = self.cache.get(key)
        if hit is not None:
            self.calls["cached"] += 1
            return hit
        sweep = self._sweep(depot, xy, service_h)
        res = sweep
        if self.method == "ortools" and 2 <= n <= self.ortools_max_sites:
            ort = self._ortools(depot, xy, service_h, sweep.days)
            self.calls["ortools"] += 1
            if ort is not None and ort.km <= sweep.km:
                res = ort
        else:
            self.calls["sweep"] += 1
        self.cache[key] = res
        return res

    # -- sweep -------------------------------------------------------------------------------------------
    def _sweep(self, depot: tuple[float, float], xy: np.ndarray, service_h: float) -> TourResult:
        d = xy - np.asarray(depot)
        r = np.hypot(d[:, 0], d[:, 1]) * self.detour
        order = np.argsort(np.arctan2(d[:, 1], d[:, 0]), kind="stable")
        r, pts = r[order], xy[order]
        step = np.hypot(*np.diff(pts, axis=0).T) * self.detour if len(pts) > 1 else np.zeros(0)
        days, km = 0, 0.0
        i, n = 0, len(pts)
        v = self.speed_kmh
        routes: list[tuple[int, ...]] = []
        while i < n:
            # greedily extend the day while out + visits + steps + back fits the day
            t = r[i] / v + service_h
            j = i
            while j + 1 < n and t + step[j] / v + service_h + r[j + 1] / v <= self.day_hours:
                t += step[j] / v + service_h
                j += 1
            km += r[i] + (step[i:j].sum() if j > i else 0.0) + r[j]
            days += 1
            routes.append(tuple(int(o) for o in order[i:j + 1]))
            i = j + 1
        return TourResult(float(km), days, "sweep", tuple(routes))

    # -- OR-Tools --------------------------------------------------------------------------------------------
    def _ortools(self, depot: tuple[float, float], xy: np.ndarray, service_h: float, days_hint: int) -> TourResult | None:
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2

        pts = np.vstack([np.asarray(depot, dtype=float)[None, :], xy])
        dist = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)) * self.detour
        dm = np.rint(dist * 1000).astype(np.int64)  # metres
        travel_s = np.rint(dist / self.speed_kmh * 3600).astype(np.int64)
        service_s = int(round(service_h * 3600))
        tm = travel_s + np.where(np.arange(len(pts))[None, :] > 0, service_s, 0)
        if int(tm[0].max() + travel_s[:, 0].max()) > self.day_hours * 3600:
            return None  # a site cannot be reached and left within one day: keep the sweep's answer
        vehicles = max(1, days_hint + 1)
        manager = pywrapcp.RoutingIndexManager(len(pts), vehicles, 0)
        routing = pywrapcp.RoutingModel(manager)
        # matrices registered natively (no Python callback per arc)
        dist_cb = routing.RegisterTransitMatrix(dm.tolist())
        time_cb = routing.RegisterTransitMatrix(tm.tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
        routing.AddDimension(time_cb, 0, int(self.day_hours * 3600), True, "time")
        p = pywrapcp.DefaultRoutingSearchParameters()
        p.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
        p.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
        p.time_limit.FromMilliseconds(self.time_limit_ms)
        sol = routing.SolveWithParameters(p)
        if sol is None:
            return None
        routes: list[tuple[int, ...]] = []
        for v in range(vehicles):
            index = sol.Value(routing.NextVar(routing.Start(v)))
            seq = []
            while not routing.IsEnd(index):
                seq.append(manager.IndexToNode(index) - 1)
                index = sol.Value(routing.NextVar(index))
            if seq:
                routes.append(tuple(seq))
        return TourResult(sol.ObjectiveValue() / 1000.0, len(routes), "ortools", tuple(routes))

