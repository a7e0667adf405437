"""Districting benchmark (issue #14, 「どこと組むか」): the sweep over D on an instance of the Miyagi study's size,
and the heuristic on 5,000 facilities.

    .venv/bin/python benchmarks/districting.py             # 322 facilities, D = 15…50 km step 5; 5,000 heuristic
    .venv/bin/python benchmarks/districting.py --quick     # 1 run, D = 20 and 40 only, no 5,000 run
    .venv/bin/python benchmarks/districting.py --write     # … and replace the section 「地区割り（districts）」
    .venv/bin/python benchmarks/districting.py --study-points FILE   # … and the study's own bridges beside its optima

The instance (合成データ, seeded): the six municipalities of the Tohoku University study (大河原町, 白石市, 蔵王町,
村田町, 川崎町, 七ヶ宿町 — their offices from the shipped reference data), 322 bridges scattered around the offices
(normal, σ = 6 km) in the study's counts per municipality (103/98/64/33/14/10), L = 5, and the study's repair
probability q = 0.0123 (its f(322, 5) = 1.193 contracts a year gives q = 0.01233; the default of
``gunmane districts national``). The same instance again at q = 0.1, ten times the study's, where f is close to
linear plus a saturating step and far more districtings cost nearly the same (a stress case). Measured:
``gunmane.engine.districting.solve.solve`` per D (method auto, time limit 60 s), wall time, median of the runs;
status, objective, bound and gap of the last run; the baselines (each municipality alone, one district, L = 1).
The bound is the largest of the local search's size bound, the column generation's (its LP value when the exact
pricing proves no district lowers it, else the Lagrangian bound) and CP-SAT's; "optimal" means within 0.1 % of it.
Targets: each D optimal with gap ≤ 0.1 % in ≤ 60 s, the whole sweep ≤ 5 minutes; 5,000 facilities with the
heuristic in ≤ 120 s with a reported gap.

``--study-points`` reads the study's own 322 bridges (CSV with 施設番号, 市区町村, 緯度, 経度 — in the study's
public repository, Fukuyama0327/paper-bundling-analysis, data/processed/target_rc_bridges_322.csv; not shipped
here: that repository states no licence) and puts gunmane's result per D beside the optima the study reports from
Gurobi for an exact number of districts M (data/processed/optimization_results_exact_objective.csv, the least over
the M it solved).

`gunmane lots` (engine/lots/design.py) is not run on this instance: it cannot express it. It minimises yen
(construction price by the estimation rules plus travel) over lots with a yen floor and ceiling and a base
municipality, on grid cells of 1–13 km rather than facilities; the number of contracts a year E⌈X/L⌉ under a
bundle limit L is not its objective, and a probability of repair per facility is not its input.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import functools  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from benchmarks.common import log, machine, timed, write_section  # noqa: E402
from gunmane.engine.districting.types import FacilityPoint, Instance, Result  # noqa: E402

SECTION = "## 地区割り（districts）"
TOWNS = (("大河原町", 103), ("白石市", 98), ("蔵王町", 64), ("村田町", 33), ("川崎町", 14), ("七ヶ宿町", 10))
DISTANCES = tuple(range(15, 51, 5))
Q_STUDY = 0.0123  # the study's: its f(322, 5) = 1.1933 contracts a year ⇔ q = 0.01233
Q_STRESS = 0.1
#: the study's Gurobi optima for its own 322 bridges (exact M = 1…6; the least over the M it solved, per D)
STUDY_OPTIMA = {15: (2.087125, "M = 6"), 20: (1.791186, "M = 5"), 25: (1.567653, "M = 3"), 30: (1.416189, "M = 3"),
                35: (1.262041, "M = 3"), 40: (1.193327, "M = 1"), 45: (1.193327, "M = 1"), 50: (1.193327, "M = 1")}


def offices() -> dict[str, tuple[str, float, float]]:
    """name → (団体コード, office lat, office lon) of the six towns in 宮城県 (shipped reference data)."""
    from gunmane.io.shipped import refdata

    wanted = {name for name, _ in TOWNS}
    return {r.name: (r.lg_code, float(r.office_lat or 0), float(r.office_lon or 0)) for r in refdata.municipalities()
            if r.pref_code == "04" and r.name in wanted}


def synthetic_instance(n_total: int = 322, seed: int = 20260414, sigma_km: float = 6.0, q: float = Q_STUDY) -> Instance:
    """The towns' shares of ``n_total`` bridges around their offices (seeded)."""
    rng = np.random.default_rng(seed)
    where = offices()
    base = sum(n for _, n in TOWNS)
    counts = [round(n * n_total / base) for _, n in TOWNS]
    counts[0] += n_total - sum(counts)
    points: list[FacilityPoint] = []
    for (name, _), count in zip(TOWNS, counts, strict=True):
        lg, lat0, lon0 = where[name]
        dlat = rng.normal(0, sigma_km / 111.0, count)
        dlon = rng.normal(0, sigma_km / (111.0 * math.cos(math.radians(lat0))), count)
        points += [FacilityPoint(f"{lg}-{i:04d}", lg, lat0 + a, lon0 + b) for i, (a, b) in enumerate(zip(dlat, dlon,
                                                                                                     strict=True))]
    return Instance(points=tuple(points), max_distance_km=DISTANCES[0], bundle_limit=5, q=q,
                    q_source=f"合成データ: q = {q:g}")


def study_instance(path: Path) -> Instance:
    """The study's own bridges (``--study-points``): 施設番号, 市区町村, 緯度, 経度; q the study's."""
    import pandas as pd

    df = pd.read_csv(path)
    points = tuple(FacilityPoint(str(r["施設番号"]), str(r["市区町村"]), float(r["緯度"]), float(r["経度"]))
                   for _, r in df.iterrows())
    return Instance(points=points, max_distance_km=DISTANCES[0], bundle_limit=5, q=0.012329787974104885,
                    q_source="東北大学の宮城県の研究の値（f(322, 5) = 1.1933 から）")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.2f} %"


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def _num6(x: float | None) -> str:
    return "—" if x is None else f"{x:.6f}"


def row(d: float, times: list[float], r: Result) -> str:
    cut = (1 - r.objective / r.baselines.separate) if r.objective is not None else None
    return (f"| {d:g} | {statistics.median(times):.1f} ({min(times):.1f}–{max(times):.1f}) | {r.status} | {r.method} "
            f"| {len(r.regions)} | {_num(r.objective)} | {_num(r.bound)} | {_pct(r.gap)} | {_pct(cut)} |")


def sweep_table(inst: Instance, distances: tuple[int, ...], runs: int, time_limit: float
                ) -> tuple[list[str], float, Result | None, list[str], list[Result]]:
    """The table rows of one instance's sweep, the sum of the medians, the last result, each municipality alone
    within D per D, and every D's last result."""
    from gunmane.engine.districting import solve as solving

    lines = ["| D (km) | seconds (median, range) | status | method | districts | expected contracts/yr | bound | gap "
             "| vs each municipality alone |", "| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    total = 0.0
    last: Result | None = None
    separate: list[str] = []
    results: list[Result] = []
    for d in distances:
        log(f"q = {inst.q:g}, D = {d} km …")
        times, last = timed(functools.partial(solving.solve, replace(inst, max_distance_km=float(d)),
                                              time_limit_s=time_limit), runs)
        total += statistics.median(times)
        lines.append(row(d, times, last))
        separate.append(f"{d:g} km {_num(last.baselines.separate_within_d)}")
        results.append(last)
    return lines, total, last, separate, results


def main() -> None:
    from gunmane.engine.districting import solve as solving

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--stress-runs", type=int, default=1, help="runs of the q = 0.1 sweep")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--large", type=int, default=5000, help="facilities of the heuristic run (0 = skip)")
    ap.add_argument("--study-points", type=Path, help="the study's own bridges (CSV; not shipped)")
    ap.add_argument("--write", action="store_true", help="update the section in docs/benchmarks.md")
    args = ap.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    distances = (20, 40) if args.quick else DISTANCES
    inst = synthetic_instance()
    towns = "・".join(name for name, _ in TOWNS)
    lines = [f"`.venv/bin/python benchmarks/districting.py --write` — {len(inst.points)} synthetic bridges (合成データ, "
             f"seeded) around the offices of the study's six municipalities ({towns}, in its counts "
             f"{'/'.join(str(n) for _, n in TOWNS)}), L = 5, method auto, time limit {args.time_limit:g} s. "
             f"Machine: {machine('ortools', 'numpy', 'scipy')}.", "",
             f"**q = {Q_STUDY:g}, the study's repair probability** — median of {runs} run(s):", ""]
    table, total, last, separate, _ = sweep_table(inst, distances, runs, args.time_limit)
    lines += table
    if last is not None:
        b = last.baselines
        lines += ["", "\"vs each municipality alone\" is against today's ordering: each municipality one pool, whatever D "
                  "(the study's baseline). Each municipality alone within D (a municipality wider than D districted on "
                  "its own, within a tenth of the time limit; baselines.separate_within_d): " + ", ".join(separate)
                  + " contracts/yr. The bound column is the largest proven lower bound (local search's size bound, "
                  "column generation with exact pricing, CP-SAT); a D is \"optimal\" when the gap is ≤ 0.1 %. "
                  f"Baselines at D = {distances[-1]} km: each municipality alone {b.separate:.3f} contracts/yr, "
                  f"individual ordering (L = 1) {b.individual:.3f}, one district {_num(b.single)} (feasible only if "
                  f"every pair is within D). Whole sweep (sum of medians): {total:.1f} s (target ≤ 300 s; each D ≤ "
                  "60 s with gap ≤ 0.1 %)."]
    if not args.quick:
        stress = synthetic_instance(q=Q_STRESS)
        table, total, _, _, _ = sweep_table(stress, distances, args.stress_runs, args.time_limit)
        lines += ["", f"**q = {Q_STRESS:g}, ten times the study's (a stress case)** — the same bridges, median of "
                  f"{args.stress_runs} run(s). f is then close to q/L per bridge plus a step that saturates near 0.4 "
                  "per district, so many districtings cost nearly the same and the master LP needs far more "
                  "columns:", ""] + table + ["", f"Whole sweep (sum of medians): {total:.1f} s."]
    if args.study_points is not None:
        real = study_instance(args.study_points)
        table, total, _, _, results = sweep_table(real, distances, 1, args.time_limit)
        lines += ["", "**The study's own 322 bridges** (`--study-points`, its public repository's bridge list; not "
                  "shipped — no licence stated), q = 0.01233, 1 run, beside the optimum the study reports from Gurobi "
                  "for an exact number of districts M (the least over the M = 1…6 it solved; gunmane leaves M free):",
                  "", "| D (km) | gunmane: expected contracts/yr | status | gap | seconds | the study (Gurobi) |",
                  "| ---: | ---: | --- | ---: | ---: | ---: |"]
        for d, r in zip(distances, results, strict=True):
            ref = STUDY_OPTIMA.get(d)
            lines.append(f"| {d} | {_num6(r.objective)} | {r.status} | {_pct(r.gap)} | {r.seconds:.1f} | "
                         f"{f'{ref[0]:.6f} ({ref[1]})' if ref else '—'} |")
        lines += ["", f"Whole sweep: {total:.1f} s."]
    if args.large and not args.quick:
        big = replace(synthetic_instance(args.large, sigma_km=9.0, q=Q_STRESS), max_distance_km=30.0)
        log(f"{args.large:,} facilities, heuristic …")
        times, r = timed(lambda: solving.solve(big, time_limit_s=120.0, method="heuristic"), 1)
        lines += ["", f"{args.large:,} facilities (same towns, σ = 9 km, q = {Q_STRESS:g}), D = 30 km, heuristic, "
                  f"limit 120 s: {times[0]:.1f} s, status {r.status}, {len(r.regions)} districts, {_num(r.objective)} "
                  f"contracts/yr, bound {_num(r.bound)}, gap {_pct(r.gap)} (target ≤ 120 s with a reported gap)."]
    lines += ["", "`gunmane lots` is not run on this instance: it cannot express it (it minimises yen — price by the "
              "estimation rules plus travel — over grid cells with a yen floor and ceiling per lot and a base "
              "municipality; E⌈X/L⌉ under a bundle limit and a repair probability per facility are not its objective "
              "or inputs)."]
    report = "\n".join(lines)
    print(report)
    if args.write and not args.quick:
        write_section(SECTION, report)


if __name__ == "__main__":
    main()
