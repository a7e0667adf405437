"""効果試算 benchmark: baseline + 6 scenarios for a synthetic group, against a naive row-by-row evaluation.

    .venv/bin/python benchmarks/effects.py             # 10 municipalities, 10,000 and 100,000 facilities, 3 runs
    .venv/bin/python benchmarks/effects.py --quick     # 10,000 facilities, 1 run
    .venv/bin/python benchmarks/effects.py --facilities 20000 --runs 5
    .venv/bin/python benchmarks/effects.py --lots 2000      # also: lot design for 2,000 facilities (CP-SAT)

The group (合成データ, seeded): 10 municipalities on a 40 km × 40 km area, facilities spread around their
offices (bridges 70 %, culverts, tunnels, pavement, play equipment …), latest inspections FY2019–FY2024,
grades Ⅰ 45 % / Ⅱ 45 % / Ⅲ 9.5 % / Ⅳ 0.5 %, 150 km of road and 5 ha of parks per municipality; horizon
5 fiscal years. Scenarios: 広域・一つの契約, 広域・共同発注, 多分野, 複数年(5), プロセス, 広域+データ+性能規定.

Measured: ``gunmane.engine.effects.evaluate`` (work derivation, levers, contracts, prices, staff-hours,
travel with OR-Tools for contracts ≤ 40 sites and the sweep above, tender risk, repair delay), wall time
including the costing edition load. The naive evaluation is the same model written row by row in plain
Python (work rows built facility by facility with ``math.exp``, every row re-keyed per scenario into a
dict, one scalar ``works_price`` per contract group) for contracts and price only — no staff-hours,
travel or per-member results — and must give the same contract counts and prices for all 7 runs
(checked in the run). Target: the 10,000-facility case under 2 s.

Lot design (``--lots N``): ``gunmane.engine.lots.design_lots`` on N facilities of the same synthetic group
(min ¥10M, max ¥300M a year, radius 25 km, time limit 55 s, 2 workers); target: done within 60 s with a gap
of at most 5 % to the reported bound. Compared with one lot per municipality and one lot for the group.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402

from gunmane.engine.costing import works_price  # noqa: E402
from gunmane.engine.effects import (  # noqa: E402
    Facility,
    GroupInput,
    Lever,
    LeverKind,
    Member,
    ParameterSet,
    Scenario,
    evaluate,
    expected_contracts_with_fixed,
)
from gunmane.io.shipped.costing import load_costing_edition  # noqa: E402
from gunmane.io.shipped.parameters import effects_parameters  # noqa: E402

TYPES = (("bridge", 0.70, "road"), ("culvert", 0.08, "road"), ("tunnel", 0.02, "road"), ("pavement", 0.10, "road"),
         ("play_equipment", 0.07, "park"), ("park_facility", 0.03, "park"))

SCENARIOS = (
    Scenario("広域・一つの契約", (Lever(LeverKind.HORIZONTAL),)),
    Scenario("広域・共同発注", (Lever(LeverKind.HORIZONTAL, mode="separate_contracts"),)),
    Scenario("多分野", (Lever(LeverKind.MULTI_SECTOR),)),
    Scenario("複数年（5年）", (Lever(LeverKind.YEARS, years=5),)),
    Scenario("プロセス", (Lever(LeverKind.PROCESS),)),
    Scenario("広域＋データ＋性能規定", (Lever(LeverKind.HORIZONTAL), Lever(LeverKind.DATA), Lever(LeverKind.PERFORMANCE_SPEC))),
)


def synthetic_group(n_facilities: int, n_members: int = 10, seed: int = 20260401) -> GroupInput:
    rng = np.random.default_rng(seed)
    lat0, lon0 = 34.5, 136.0
    offices = rng.uniform(-0.18, 0.18, (n_members, 2))
    members = tuple(Member(f"99{i:03d}0", f"合成団体{i + 1}", office_lat=lat0 + o[0], office_lon=lon0 + o[1],
                           road_length_km=150.0, park_area_m2=50_000.0) for i, o in enumerate(offices))
    who = rng.integers(0, n_members, n_facilities)
    kinds = rng.choice(len(TYPES), n_facilities, p=[t[1] for t in TYPES])
    grade = rng.choice([1, 2, 3, 4], n_facilities, p=[0.45, 0.45, 0.095, 0.005])
    last = rng.integers(2019, 2025, n_facilities)
    length = rng.lognormal(2.7, 0.6, n_facilities)
    d = rng.normal(0, 0.04, (n_facilities, 2))
    facs = tuple(Facility(str(i), members[w].lg_code, TYPES[k][2], TYPES[k][0], float(length[i]),
                          lat=float(offices[w, 0] + lat0 + d[i, 0]), lon=float(offices[w, 1] + lon0 + d[i, 1]),
                          latest_inspection_fy=int(last[i]), latest_grade=int(grade[i]), is_synthetic=True)
                 for i, (w, k) in enumerate(zip(who, kinds, strict=True)))
    return GroupInput(members, facs, start_fiscal_year=2026, horizon_years=5, lead=members[0].lg_code, name="合成の群")


def naive_rows(group: GroupInput, params: ParameterSet) -> list[dict[str, object]]:
    """The work rows built facility by facility with plain Python (same model as engine.effects.work)."""
    th1, th2 = params.f("hazard.I"), params.f("hazard.II")
    start, end = group.start_fiscal_year, group.start_fiscal_year + group.horizon_years - 1
    rows: list[dict[str, object]] = []

    def unit(kind: str, t: str, length: float) -> float:
        if kind == "inspection":
            return params.f(f"unit.inspection.{t}.base_yen") + params.f(f"unit.inspection.{t}.per_m_yen") * length
        if kind == "design":
            return params.f(f"unit.design.{t}_yen")
        return params.f(f"unit.repair.{t}.base_yen") + params.f(f"unit.repair.{t}.per_m_yen") * length

    def p3(g0: int, t: float) -> float:
        if g0 >= 1:
            return 1 - math.exp(-th2 * t)
        return 1 - (th2 * math.exp(-th1 * t) - th1 * math.exp(-th2 * t)) / (th2 - th1)

    def row(f: Facility | Member, sector: str, kind: str, year: int, p: float, cost: float, wt: str, n: float = 1) -> None:
        rows.append({"member": f.lg_code, "sector": sector, "kind": kind, "year": year, "p": p, "cost": cost,
                     "wt": wt, "n": n})

    for f in group.facilities:
        length = f.length_m or 0.0
        wt = str(params[f"unit.repair.{f.facility_type}.work_type"])
        due = max(start, (f.latest_inspection_fy or start) + 5)
        prev = 0.0
        while due <= end:
            row(f, f.sector, "inspection", due, 1.0, unit("inspection", f.facility_type, length), "点検業務")
            if (f.latest_grade or 1) <= 2:
                reach = p3((f.latest_grade or 1) - 1, due - (f.latest_inspection_fy or start))
                p, prev = reach - prev, reach
                row(f, f.sector, "design", due, p, unit("design", f.facility_type, length), "設計業務")
                row(f, f.sector, "works", due, p, unit("works", f.facility_type, length), wt)
            due += 5
        if (f.latest_grade or 0) >= 3:
            row(f, f.sector, "design", start, 1.0, unit("design", f.facility_type, length), "設計業務")
            row(f, f.sector, "works", start, 1.0, unit("works", f.facility_type, length), wt)
    for m in group.members:
        for sector, value in (("road", m.road_length_km * params.f("routine.road_yen_per_km")),
                              ("park", m.park_area_m2 * params.f("routine.park_yen_per_m2"))):
            tasks = max(1, math.ceil(value / params.f("routine.task_yen")))
            for y in range(start, end + 1):
                row(m, sector, "routine", y, 1.0, value, "道路維持工事", tasks)
    return rows


def naive_scenario(rows: list[dict[str, object]], scenario: Scenario, edition, start: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Contracts and price of one scenario: re-key every row in Python, then price group by group."""
    kinds = {lv.kind for lv in scenario.levers}
    one = any(lv.kind == LeverKind.HORIZONTAL and lv.mode == "one_contract" for lv in scenario.levers)
    years = max([lv.years for lv in scenario.levers if lv.kind == LeverKind.YEARS] or [1])
    groups: dict[tuple[object, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    group_years: dict[tuple[object, ...], set[object]] = defaultdict(set)
    for r in rows:
        kind = str(r["kind"])
        owner = "group" if one else r["member"]
        skey = "multi" if LeverKind.MULTI_SECTOR in kinds else r["sector"]
        kkey = "process" if LeverKind.PROCESS in kinds and kind != "routine" else kind
        ykey = start + (int(r["year"]) - start) // years * years  # type: ignore[call-overload]
        perf = kind == "routine" and LeverKind.PERFORMANCE_SPEC in kinds
        key = (owner, skey, kkey, ykey, perf)
        g = groups[key]
        group_years[key].add(r["year"])
        p, cost = float(r["p"]), float(r["cost"])  # type: ignore[arg-type]
        g["val"] += p * cost
        if kind == "routine":
            g["tasks"] += float(r["n"])  # type: ignore[arg-type]
        elif p >= 1.0:
            if not (kkey == "process" and kind == "design"):
                g["det"] += 1
        elif kind == kkey:
            g["rn"] += 1
            g["rp"] += p
        if kind in ("inspection", "design"):
            g["svc"] += p * cost / 0.65 / 0.65
        else:
            g["wt:" + str(r["wt"])] += p * cost
    caps = {"inspection": 150.0, "design": 5.0, "works": 5.0, "process": 150.0}
    contracts = price = 0.0
    for key, g in groups.items():
        ny = len(group_years[key])
        if key[2] == "routine":
            n = max(1, math.ceil(g["val"] / (1e8 * ny) - 1e-9)) if key[4] else g["tasks"]
        elif g["rn"] > 0:
            n = expected_contracts_with_fixed(g["det"], int(g["rn"]), g["rp"] / g["rn"], caps[str(key[2])] * ny)
        else:
            n = math.ceil(g["det"] / (caps[str(key[2])] * ny) - 1e-9)
        contracts += n
        price += g["svc"]
        wts = {k[3:]: v for k, v in g.items() if k.startswith("wt:")}
        if wts:
            wt = max(wts, key=lambda k: wts[k])
            price += works_price(edition, wt, sum(wts.values()) / n).price_yen * n
    return contracts, price


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--facilities", type=int, nargs="*")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--lots", type=int, nargs="*", metavar="N")
    args = ap.parse_args()
    sizes = args.facilities or ([10_000] if args.quick else [10_000, 100_000])
    runs = args.runs or (1 if args.quick else 3)
    edition = load_costing_edition()
    params = effects_parameters()
    evaluate(synthetic_group(200), SCENARIOS[:1], edition, params=params)  # warm-up: imports (OR-Tools, pandas paths)
    print(f"Python {platform.python_version()}, {platform.machine()}, numpy {np.__version__}")
    print("| facilities | engine: baseline + 6 scenarios, all metrics (median s) | naive: contracts + price only (s) "
          "| contracts (baseline → fewest) | contracts and price: engine = naive | tours: OR-Tools / sweep / reused |")
    print("| ---: | ---: | ---: | ---: | :---: | --- |")
    for n in sizes:
        group = synthetic_group(n)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            edition = load_costing_edition()
            res = evaluate(group, SCENARIOS, edition, params=params)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rows = naive_rows(group, params)
        naive_runs = [naive_scenario(rows, sc, edition, group.start_fiscal_year) for sc in (Scenario("基準"), *SCENARIOS)]
        naive = time.perf_counter() - t0
        engine_runs = [(r.totals.contracts, r.totals.price_yen) for r in (res.baseline, *res.scenarios)]
        same = all(math.isclose(a[0], b[0], rel_tol=1e-9) and math.isclose(a[1], b[1], rel_tol=1e-6)
                   for a, b in zip(naive_runs, engine_runs, strict=True))
        tours = res.assumptions[-1].split("（計算 ")[-1].rstrip("）。")
        print(f"| {n:,} | {statistics.median(times):.2f} | {naive:.2f} | {res.baseline.totals.contracts:,.1f} → "
              f"{min(c for c, _ in engine_runs):,.1f} | {'yes' if same else 'NO'} | {tours} |")
        if not same:
            for sc, a, b in zip(("基準", *[s.name for s in SCENARIOS]), naive_runs, engine_runs, strict=True):
                print(f"  {sc}: naive {a[0]:.4f} / {a[1]:,.0f}  engine {b[0]:.4f} / {b[1]:,.0f}")
    if args.lots:
        from gunmane.engine.lots import LotSettings, design_lots

        print()
        print("| facilities | cells | time (s) | status | lots | cost (¥M/yr) | bound (¥M/yr) | gap "
              "| one lot per municipality (¥M/yr, lots) | one lot for the group (¥M/yr, feasible) |")
        print("| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |")
        for n in args.lots:
            t0 = time.perf_counter()
            d = design_lots(synthetic_group(n), load_costing_edition(), params=params, settings=LotSettings(time_limit_s=55))
            dt = time.perf_counter() - t0
            best = d.best
            print(f"| {n:,} | {d.units} | {dt:.1f} | {d.status} | {len(best.lots) if best else '—'} | "
                  f"{best.cost_yen / 1e6:,.1f} | {(d.bound_yen or 0) / 1e6:,.1f} | {(d.gap or 0) * 100:.2f} % | "
                  f"{d.per_municipality.cost_yen / 1e6:,.1f} ({len(d.per_municipality.lots)}) | "
                  f"{d.one_lot.cost_yen / 1e6:,.1f} ({'yes' if d.one_lot.feasible else 'no: ' + d.one_lot.violations[0]}) |"
                  if best else f"| {n:,} | {d.units} | {dt:.1f} | {d.status} | — | — | — | — | — | — |")

if __name__ == "__main__":
    main()
