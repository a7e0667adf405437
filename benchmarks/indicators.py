"""見える化 benchmark: every indicator for every municipality (with peers) over a synthetic nation.

    python benchmarks/indicators.py            # 1,000,000 facilities + 2,000,000 inspections, 5 engine runs
    python benchmarks/indicators.py --write    # … and update the section 「見える化の指標（engine）」 of docs/benchmarks.md
    python benchmarks/indicators.py --quick    # 100,000 + 200,000, 3 runs, naive loop on 100 municipalities
    python benchmarks/indicators.py --web --write  # the カルテ page over that nation in SQLite (section
                                                   # 「カルテのページ（web）」; ~4 min, see benchmarks/karte_page.py)
    python benchmarks/indicators.py --engine --web # both

Web flags: --web-runs N (repeat requests per page, default 20), --first-visits N (municipalities visited once,
default 25), --orm-sample N (municipalities in the ORM loop, default 100, 0 = all: no extrapolation),
--no-orm, --profile (cProfile of first visits to stderr), --keep-data (keep the temporary data folder).

The nation is **synthetic** (合成データ, seeded): facilities, inspections and measures are random, spread over
the 1,741 real municipalities of the reference data in proportion to their real bridge counts (population
where the bridge count is blank). The reference statistics themselves are real.

It measures, in the same run and pinned to one CPU core (os.sched_setaffinity, BLAS/OpenMP threads 1):

1. engine: `gunmane.engine.indicators.municipal_table` (all indicators, peer and national percentiles);
2. naive: a straightforward per-municipality loop — pandas boolean filtering of the ledger for each
   municipality, then the same indicators — and checks that both give the same numbers.

With --web it measures the カルテ page instead (benchmarks/karte_page.py): the nation loaded into a temporary
SQLite database, the page through Django's test Client (cold, first visits, repeats, national) and, in the same
run, a straightforward per-municipality ORM loop.

Other benchmarks of the 見える化 extend this file; keep `build_nation(seed)`, `bench_engine()`,
`bench_naive_loop()` and `main()`.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from benchmarks.common import machine as common_machine  # noqa: E402
from benchmarks.common import write_section as common_write_section  # noqa: E402
from gunmane.engine.indicator_types import LedgerFrames, ReferenceFrames  # noqa: E402
from gunmane.engine.indicators import (  # noqa: E402
    FIVE_YEAR_CYCLE_TYPES,
    LEDGER_IDS,
    karte,
    municipal_table,
    municipality_scope,
    national_scope,
)
from gunmane.engine.peers import municipal_codes  # noqa: E402
from gunmane.io.shipped import refdata  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## 見える化の指標（engine）"
WEB_SECTION = "## カルテのページ（web）"
SEED = 20251127
FISCAL_YEAR = 2024
AS_OF = date(2025, 3, 31)
FACILITIES = 1_000_000
INSPECTIONS = 2_000_000
TARGET_SECONDS = 5.0

# facility type → (sector, share of facilities); roughly the mix of a municipal ledger
TYPE_MIX: dict[str, tuple[str, float]] = {
    "bridge": ("road", 0.50), "tunnel": ("road", 0.01), "footbridge": ("road", 0.01), "culvert": ("road", 0.02),
    "sign_gantry": ("road", 0.005), "shed": ("road", 0.005), "pavement": ("road", 0.15),
    "play_equipment": ("park", 0.08), "park_facility": ("park", 0.04), "sewer_pipe": ("sewer", 0.10),
    "sluice": ("river", 0.03), "water_pipe": ("water", 0.05),
}
GRADE_P = (0.35, 0.55, 0.09, 0.01)  # Ⅰ–Ⅳ per inspection (Ⅲ+Ⅳ ≈ 10 %, as in the first national cycle)
STATUSES = ("未着手", "設計中", "工事中", "完了")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the synthetic nation ------------------------------------------------------------------------------
def load_reference() -> ReferenceFrames:
    """The real reference data shipped with gunmane (1,788 local governments, FY2020–2024)."""
    return refdata.reference_frames()


def build_nation(seed: int = SEED, facilities: int = FACILITIES, inspections: int = INSPECTIONS,
                 ref: ReferenceFrames | None = None) -> tuple[ReferenceFrames, LedgerFrames]:
    """A synthetic ledger (合成データ, every facility is_synthetic) over the real 1,741 municipalities."""
    ref = ref if ref is not None else load_reference()
    rng = np.random.default_rng(seed)
    codes = municipal_codes(ref)
    st = ref.stats[ref.stats["fiscal_year"] == FISCAL_YEAR].set_index("lg_code")
    bridges = st["bridges_inspected"].reindex(codes)
    pop = st["population"].reindex(codes)
    weight = bridges.fillna(pop / pop.sum() * bridges.sum()).to_numpy(dtype="float64")
    owner = rng.choice(len(codes), size=facilities, p=weight / weight.sum())

    types = np.array(list(TYPE_MIX))
    shares = np.array([v[1] for v in TYPE_MIX.values()])
    ftype = types[rng.choice(len(types), size=facilities, p=shares / shares.sum())]
    sector = pd.Series(ftype).map({t: v[0] for t, v in TYPE_MIX.items()}).to_numpy()
    built = np.clip(np.round(rng.normal(1976, 14, facilities)), 1900, 2023)
    built[rng.random(facilities) < 0.12] = np.nan  # 建設年度不明
    length = np.round(rng.lognormal(2.8, 0.9, facilities), 1)
    length[rng.random(facilities) < 0.2] = np.nan
    area = np.where(ftype == "bridge", np.round(length * rng.uniform(4, 12, facilities), 1), np.nan)

    ins_fac = rng.integers(0, facilities, size=inspections)
    start, end = np.datetime64("2014-04-01"), np.datetime64(AS_OF.isoformat())
    span = int((end - start).astype("int64"))
    ins_day = start + rng.integers(0, span + 1, size=inspections).astype("timedelta64[D]")
    grade = rng.choice(np.arange(1, 5), size=inspections, p=GRADE_P)
    ins = pd.DataFrame({"facility": ins_fac.astype("int64"), "inspected_on": ins_day.astype("datetime64[ns]"),
                        "grade": grade.astype("int64")})
    # the denormalised latest grade/date the web ledger keeps on each facility
    latest = ins.sort_values(["facility", "inspected_on", "grade"]).drop_duplicates("facility", keep="last")
    latest_grade = np.full(facilities, np.nan)
    latest_day = np.full(facilities, np.datetime64("NaT"), dtype="datetime64[ns]")
    latest_grade[latest["facility"].to_numpy()] = latest["grade"].to_numpy()
    latest_day[latest["facility"].to_numpy()] = latest["inspected_on"].to_numpy()

    bad = np.flatnonzero(latest_grade >= 3)
    picked = bad[rng.random(len(bad)) < 0.8]
    mea = pd.DataFrame({
        "facility": picked.astype("int64"),
        "fiscal_year": rng.integers(2015, 2026, size=len(picked)).astype("int64"),
        "kind": "修繕",
        "status": np.array(STATUSES, dtype=object)[rng.choice(4, size=len(picked), p=(0.35, 0.2, 0.15, 0.3))],
    })
    fac = pd.DataFrame({
        "facility": np.arange(facilities, dtype="int64"),
        "lg_code": codes.to_numpy(dtype=object)[owner],
        "sector": sector.astype(object),
        "facility_type": ftype.astype(object),
        "built_year": built,
        "length_m": length,
        "area_m2": area,
        "latest_grade": latest_grade,
        "latest_inspected_on": latest_day,
        "is_synthetic": np.ones(facilities, dtype=bool),
    })
    return ref, LedgerFrames(facilities=fac, inspections=ins, measures=mea)


# --- measurements --------------------------------------------------------------------------------------
@dataclass
class Timing:
    label: str
    runs: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def pin_one_core() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return f"CPU {sorted(os.sched_getaffinity(0))}"
    except (AttributeError, OSError):  # not Linux
        return "not pinned (no sched_setaffinity)"


def _time(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    out: Any = None
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def bench_engine(ref: ReferenceFrames, ledger: LedgerFrames, runs: int = 5) -> tuple[Timing, pd.DataFrame]:
    """municipal_table: all indicators for all municipalities, with peer and national percentiles."""
    times, table = _time(lambda: municipal_table(ref, ledger, fiscal_year=FISCAL_YEAR, as_of=AS_OF), runs)
    return Timing("engine: municipal_table（全指標・全市区町村・類似団体/全国パーセンタイル）", times), table


def bench_karte(ref: ReferenceFrames, ledger: LedgerFrames, table: pd.DataFrame, runs: int = 5) -> list[Timing]:
    """One カルテ: a municipality (reusing the cached table, as the web does) and the nation."""
    uda = municipality_scope(ref, "292125")
    nat = national_scope(ref)
    t_muni, _ = _time(lambda: karte(uda, ref, ledger, fiscal_year=FISCAL_YEAR, as_of=AS_OF, table=table), runs)
    t_nat, _ = _time(lambda: karte(nat, ref, ledger, fiscal_year=FISCAL_YEAR, as_of=AS_OF), runs)
    return [Timing("engine: karte（宇陀市、municipal_table を再利用）", t_muni),
            Timing("engine: karte（全国、系列を含む）", t_nat)]


def naive_ledger_indicators(fac: pd.DataFrame, ins: pd.DataFrame, mea: pd.DataFrame, as_of: date) -> dict[str, Any]:
    """The ledger indicators of one municipality, written the straightforward pandas way."""
    fy = as_of.year if as_of.month >= 4 else as_of.year - 1
    cutoff = pd.Timestamp(as_of) - pd.DateOffset(years=5)
    if len(fac) == 0:
        return {"facilities": None}  # no ledger: unknown, as in the engine
    out: dict[str, Any] = {"facilities": len(fac)}
    known = fac["built_year"].dropna()
    for key, h in (("age_50plus_share", 0), ("age_50plus_share_10y", 10), ("age_50plus_share_20y", 20)):
        out[key] = (fy + h - known >= 50).mean() * 100 if len(known) else None
    out["unknown_built_year"] = int(fac["built_year"].isna().sum())
    ins = ins[ins["inspected_on"] <= pd.Timestamp(as_of)].sort_values(["facility", "inspected_on", "grade"])
    latest = ins.groupby("facility").tail(1).set_index("facility")
    out["never_inspected"] = int(len(fac) - len(latest))
    out["grade_iii_iv_share"] = (latest["grade"] >= 3).mean() * 100 if len(latest) else None
    five = latest[latest.index.isin(fac.loc[fac["facility_type"].isin(FIVE_YEAR_CYCLE_TYPES), "facility"])]
    out["inspection_overdue"] = int((five["inspected_on"] < cutoff).sum())
    # judgment = the first inspection after the last one graded Ⅰ/Ⅱ (start of the current Ⅲ/Ⅳ run)
    bad = latest.index[latest["grade"] >= 3]
    hist = ins[ins["facility"].isin(bad)].copy()
    hist["pos"] = hist.groupby("facility").cumcount()
    last_ok = hist[hist["grade"] < 3].groupby("facility")["pos"].max()
    hist["start"] = hist["facility"].map(last_ok).fillna(-1) + 1
    judged = hist[hist["pos"] == hist["start"]].set_index("facility")["inspected_on"]
    jfy = judged.dt.year.where(judged.dt.month >= 4, judged.dt.year - 1)
    m = mea[mea["facility"].isin(bad) & (mea["status"] != "未着手")]
    m = m[m["fiscal_year"].to_numpy() >= m["facility"].map(jfy).to_numpy()]
    untouched = judged[~judged.index.isin(m["facility"])]
    backlog, backlog_5y = len(untouched), int((untouched <= cutoff).sum())
    out["backlog"], out["backlog_5y"] = backlog, backlog_5y
    hit = ins[(ins["grade"] >= 3) & (ins["inspected_on"] <= cutoff)]["facility"].nunique()
    out["backlog_5y_share"] = backlog_5y / hit * 100 if hit else None
    return out


def bench_naive_loop(ref: ReferenceFrames, ledger: LedgerFrames, limit: int | None = None
                     ) -> tuple[Timing, pd.DataFrame]:
    """Per-municipality loop: filter the ledger for each municipality (then percentiles, vectorised)."""
    codes = list(municipal_codes(ref))
    if limit is not None:
        codes = codes[:: max(1, len(codes) // limit)][:limit]
    fac, ins, mea = ledger.facilities, ledger.inspections, ledger.measures
    t0 = time.perf_counter()
    rows = {}
    for code in codes:
        f = fac[fac["lg_code"] == code]
        ids = f["facility"]
        rows[code] = naive_ledger_indicators(f, ins[ins["facility"].isin(ids)], mea[mea["facility"].isin(ids)],
                                             AS_OF)
    result = pd.DataFrame.from_dict(rows, orient="index")
    result.rank(pct=True, method="max")  # the percentile step, as cheap here as in the engine
    seconds = time.perf_counter() - t0
    total = len(municipal_codes(ref))
    note = "" if limit is None else f"{len(codes)} 団体で測定し {total:,} 団体に比例換算"
    return Timing("naive: 市区町村ごとに pandas で絞り込むループ", [seconds * total / len(codes)], note), result


def compare(table: pd.DataFrame, naive: pd.DataFrame) -> list[str]:
    """Indicators where the naive loop and the engine disagree (should be none)."""
    bad = []
    for col in [c for c in naive.columns if c in LEDGER_IDS]:
        a = table.loc[naive.index, col].to_numpy(dtype="float64")
        b = pd.to_numeric(naive[col], errors="coerce").to_numpy(dtype="float64")
        if not np.allclose(a, b, equal_nan=True, rtol=1e-9, atol=1e-9):
            bad.append(col)
    return bad


# --- report --------------------------------------------------------------------------------------------
def machine() -> str:
    return common_machine("numpy", "pandas")


def markdown(rows: list[Timing], *, facilities: int, inspections: int, measures: int, pinned: str,
             same: list[str] | None, when: str) -> str:
    engine = rows[0].median
    lines = [
        f"Synthetic nation (合成データ, seed {SEED}): {facilities:,} facilities, {inspections:,} inspections, "
        f"{measures:,} measures over the 1,741 real municipalities; reference data real (FY{FISCAL_YEAR}). "
        f"as_of {AS_OF.isoformat()}. Pinned to one core ({pinned}); BLAS/OpenMP threads 1.",
        "",
        "| measurement | median (s) | runs | vs engine | note |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for t in rows:
        lines.append(f"| {t.label} | {t.median:.2f} | {len(t.runs)} | {t.median / engine:.1f}× | {t.note} |")
    verdict = "達成" if engine < TARGET_SECONDS else "未達"
    lines += ["", f"目標: municipal_table が1コアで {TARGET_SECONDS:.0f} 秒未満 — **{verdict}**（中央値 {engine:.2f} 秒）。"]
    if same is not None:
        lines.append("naive ループとの照合: " + ("台帳の全指標が一致。" if not same else f"不一致: {', '.join(same)}"))
    lines += ["", f"Machine: {machine()}. Run {when}.",
              "Command: `.venv/bin/python benchmarks/indicators.py --write`."]
    return "\n".join(lines)


def write_section(body: str, section: str = SECTION) -> None:
    common_write_section(section, body)


def bench_web(args: argparse.Namespace, n_fac: int, n_ins: int, command: str) -> int:
    """The カルテ page over the synthetic nation in a temporary SQLite database (benchmarks/karte_page.py)."""
    import shutil

    from benchmarks import karte_page as kp

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    data_dir = kp.temp_data_dir()
    setup: dict[str, float] = {}
    log(f"web: migrate and reference data in {data_dir} …")
    kp.timed("reference", lambda: kp.setup_django(str(data_dir)), setup)
    log(f"web: building the synthetic nation: {n_fac:,} facilities, {n_ins:,} inspections …")
    ref, ledger = kp.timed("build", lambda: build_nation(SEED, n_fac, n_ins), setup)
    log("web: INSERTs …")
    t0 = time.perf_counter()
    counts = kp.load_nation(ledger)
    setup["insert"] = time.perf_counter() - t0
    del ledger  # the pages read the database
    log(f"web: setup {sum(setup.values()):.0f} s; requests …")

    from django.utils import timezone

    from gunmane.web.registry import frames

    codes = [str(c) for c in municipal_codes(ref)]
    first, repeat = kp.page_codes(codes, args.first_visits, SEED)
    pages = kp.bench_pages(first, repeat, args.web_runs, args.web_runs)
    if args.profile:
        import cProfile
        import pstats

        others = [c for c in codes[::17] if c not in first and c not in repeat][:10]
        with cProfile.Profile() as prof:
            client = kp._client()
            for code in others:
                kp._get(client, f"/karte/{code}/", "インフラ現状カルテ")
        log(f"cProfile of {len(others)} first visits (table cached):")
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(45)

    orm = mismatches = None
    as_of, fy = timezone.localdate(), frames.latest_fiscal_year()
    if not args.no_orm:
        sample = codes if args.orm_sample == 0 else codes[:: max(1, len(codes) // args.orm_sample)][:args.orm_sample]
        log(f"web: ORM loop over {len(sample)} municipalities …")
        orm, values = kp.bench_orm_loop(ref, sample, codes, as_of, fy)
        mismatches = kp.compare_orm(frames.municipal_table(fy, as_of), values)
        log(f"  {orm.label}: {orm.median_ms / 1000:.1f} s; mismatches: {mismatches or 'none'}")

    log("web: the cold request's steps apart …")
    pages.cold_parts = kp.cold_parts()
    report = kp.markdown(setup_seconds=setup, counts=counts, pages=pages, orm=orm, mismatches=mismatches,
                         municipalities=len(codes), seed=SEED, as_of=as_of, fiscal_year=fy, machine=machine(),
                         when=time.strftime("%Y-%m-%d"), command=command, load=load)
    print(report)
    if args.write:
        write_section(report, WEB_SECTION)
    if args.keep_data:
        log(f"kept the database in {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if pages.met() and not mismatches else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="100,000 facilities, 3 runs, naive on 100 municipalities")
    parser.add_argument("--runs", type=int, help="engine runs (median); default 5")
    parser.add_argument("--naive-limit", type=int, help="run the naive loop on this many municipalities only")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive loop")
    parser.add_argument("--write", action="store_true", help="update the section(s) in docs/benchmarks.md")
    parser.add_argument("--engine", action="store_true", help="the engine benchmark (the default without --web)")
    parser.add_argument("--web", action="store_true", help="the カルテ page over the nation in SQLite")
    parser.add_argument("--web-runs", type=int, default=20, help="repeat requests per page (median); default 20")
    parser.add_argument("--first-visits", type=int, default=25, help="municipalities visited once; default 25")
    parser.add_argument("--orm-sample", type=int, default=100,
                        help="municipalities in the ORM loop, extrapolated to all; 0 = all; default 100")
    parser.add_argument("--no-orm", action="store_true", help="skip the ORM loop")
    parser.add_argument("--profile", action="store_true", help="cProfile 10 more first visits (stderr)")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data folder of --web")
    args = parser.parse_args(argv)
    pinned = pin_one_core()
    n_fac, n_ins = (100_000, 200_000) if args.quick else (FACILITIES, INSPECTIONS)
    status = 0
    if args.engine or not args.web:
        status |= bench_engine_report(args, n_fac, n_ins, pinned)
    if args.web:
        command = " ".join([".venv/bin/python benchmarks/indicators.py",
                            *(a for a in (sys.argv[1:] if argv is None else argv))])
        status |= bench_web(args, n_fac, n_ins, command)
    return status


def bench_engine_report(args: argparse.Namespace, n_fac: int, n_ins: int, pinned: str) -> int:
    runs = args.runs or (3 if args.quick else 5)
    limit = args.naive_limit if args.naive_limit is not None else (100 if args.quick else None)

    log(f"building the synthetic nation: {n_fac:,} facilities, {n_ins:,} inspections …")
    ref, ledger = build_nation(SEED, n_fac, n_ins)
    log(f"engine, {runs} runs …")
    engine, table = bench_engine(ref, ledger, runs)
    rows = [engine, *bench_karte(ref, ledger, table, runs)]
    same: list[str] | None = None
    if not args.no_naive:
        log(f"naive loop over {'all' if limit is None else limit} municipalities (minutes) …")
        naive, result = bench_naive_loop(ref, ledger, limit)
        rows.append(naive)
        same = compare(table, result)
    report = markdown(rows, facilities=n_fac, inspections=n_ins, measures=len(ledger.measures), pinned=pinned,
                      same=same, when=time.strftime("%Y-%m-%d"))
    print(report)
    if args.write:
        write_section(report)
    return 0 if engine.median < TARGET_SECONDS and not same else 1


if __name__ == "__main__":
    raise SystemExit(main())
