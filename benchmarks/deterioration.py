"""劣化予測 benchmark: Markov hazard fit, population forecast, and gunmane against R's msm.

    .venv/bin/python benchmarks/deterioration.py            # full sizes, 3 runs each, print a Markdown table
    .venv/bin/python benchmarks/deterioration.py --write    # … and replace the section 「劣化予測（deterioration）」
                                                            #     of docs/benchmarks.md (only that section)
    .venv/bin/python benchmarks/deterioration.py --quick    # 100,000 pairs / facilities, 1 run, 5,000 pairs for msm

Measured in one run (BLAS/OpenMP threads 1):

1. fit: 1,000,000 simulated inspection pairs (合成データ, seeded; unequal intervals 1–10 years in days;
   3 normal covariates) — `gunmane.engine.deterioration.fit(..., covariates=[x0, x1, x2])`, target < 10 s;
2. forecast: 1,000,000 facilities, each with its own hazards (from the fitted covariates), expected grade
   counts year by year over 100 years — `forecast_facilities`, target < 5 s;
3. msm: the same 50,000 pairs (no covariates) fitted by R's msm (panel data, progressive Q;
   time inside R, excluding R start-up and reading) and by gunmane — target gunmane ≥ 20× faster with
   hazards within 0.1 % and log-likelihood within 1e-4.  Skipped with a note when Rscript/msm are absent.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from benchmarks.common import log, timed  # noqa: E402
from benchmarks.common import machine as common_machine  # noqa: E402
from benchmarks.common import write_section as common_write_section  # noqa: E402
from gunmane.engine.deterioration import fit, forecast_facilities  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## 劣化予測（deterioration）"
MSM_SCRIPT = ROOT / "tests" / "engine" / "msm_fit.R"
SEED = 20251127
THETA = np.array([0.2, 0.08, 0.3])  # per year, grades I, II, III
BETA = np.array([[0.3, -0.2, 0.1], [0.1, 0.2, 0.0], [-0.3, 0.1, 0.2]])  # per SD of x0, x1, x2
LABELS = ("I", "II", "III", "IV")


def simulate(n: int, n_cov: int, seed: int) -> pd.DataFrame:
    """Exact simulation of the pure-birth chain over unequal intervals (whole days), seeded."""
    rng = np.random.default_rng(seed)
    before = rng.choice(3, n, p=[0.5, 0.35, 0.15])
    z = np.round(rng.uniform(1, 10, n) * 365.25) / 365.25
    x = rng.normal(size=(n, n_cov))
    th = np.broadcast_to(np.exp(np.log(THETA)[None, :] + (x @ BETA[:, :n_cov].T if n_cov else 0.0)), (n, 3))
    after = before.copy()
    clock = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    for _ in range(4):
        idx = np.flatnonzero(alive & (after < 3))
        clock[idx] += rng.exponential(1.0 / th[idx, after[idx]])
        moved = clock[idx] <= z[idx]
        after[idx[moved]] += 1
        alive[idx[~moved]] = False
    frame = pd.DataFrame({"facility_id": np.char.add("F", np.arange(n).astype(str)), "before": before + 1,
                          "after": after + 1, "interval_years": z})
    for k in range(n_cov):
        frame[f"x{k}"] = x[:, k]
    return frame


def machine() -> str:
    return common_machine("numpy", "scipy", "pandas")


def run_msm(pairs: pd.DataFrame, control: str = "") -> dict[str, object] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        obs = pd.DataFrame({
            "subject": np.repeat(pairs["facility_id"].to_numpy(), 2),
            "years": np.column_stack([np.zeros(len(pairs)), pairs["interval_years"].to_numpy()]).ravel(),
            "state": np.column_stack([pairs["before"].to_numpy(), pairs["after"].to_numpy()]).ravel(),
        })
        path = Path(tmp) / "obs.csv"
        obs.to_csv(path, index=False)
        args = ["Rscript", str(MSM_SCRIPT), str(path), "4"] + (["", control] if control else [])
        t0 = time.perf_counter()
        out = subprocess.run(args, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    if out.returncode != 0:
        log(out.stderr)
        return None
    result: dict[str, object] = json.loads(out.stdout)
    result["wall"] = wall
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="update the section in docs/benchmarks.md")
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n_pairs = 100_000 if args.quick else 1_000_000
    n_fac = 100_000 if args.quick else 1_000_000
    n_msm = 5_000 if args.quick else 50_000
    runs = 1 if args.quick else args.runs
    rows: list[tuple[str, float, int, str]] = []

    log(f"simulating {n_pairs:,} pairs with 3 covariates …")
    pairs = simulate(n_pairs, 3, SEED)
    fit_times, res = timed(lambda: fit(pairs, covariates=["x0", "x1", "x2"]), runs)
    fitted = res  # FitResult
    fit_med = statistics.median(fit_times)
    rows.append((f"fit: {n_pairs:,} pairs, 3 covariates (12 parameters)", fit_med, runs,
                 f"目標 < 10 s; loglik {fitted.loglik:,.1f}"))  # type: ignore[attr-defined]
    log(f"fit {fit_times}")

    rng = np.random.default_rng(SEED + 1)
    fac_x = rng.normal(size=(n_fac, 3))
    fac_states = rng.choice(4, n_fac, p=[0.55, 0.35, 0.09, 0.01])
    theta_fac = fitted.hazards_for(fac_x)  # type: ignore[attr-defined]
    fc_times, fc = timed(lambda: forecast_facilities(theta_fac, fac_states, 100, LABELS), runs)
    fc_med = statistics.median(fc_times)
    share_iv = float(fc.loc[100, "IV"]) / n_fac  # type: ignore[union-attr]
    rows.append((f"forecast: {n_fac:,} facilities × 100 years (own hazards each)", fc_med, runs,
                 f"目標 < 5 s; share in IV after 100 years {share_iv:.1%}"))
    log(f"forecast {fc_times}")

    msm_pairs = simulate(n_msm, 0, SEED + 2)
    g_times, g_res = timed(lambda: fit(msm_pairs), max(runs, 3))
    g_med = statistics.median(g_times)
    rows.append((f"gunmane fit: {n_msm:,} pairs, no covariates", g_med, max(runs, 3), ""))
    msm = run_msm(msm_pairs)
    verdict_msm = "R/msm が無いため未計測"
    if msm is not None:
        ours = np.asarray(g_res.hazards)  # type: ignore[attr-defined]
        theirs = np.asarray(msm["hazards"], dtype=float)
        rel = float(np.max(np.abs(theirs / ours - 1)))
        dll = abs(float(msm["loglik"]) - g_res.loglik)  # type: ignore[attr-defined, arg-type]
        speed = float(msm["seconds"]) / g_med  # type: ignore[arg-type]
        rows.append((f"R msm {msm['msm_version']}: same {n_msm:,} pairs (reltol 1e-14)", float(msm["seconds"]), 1,  # type: ignore[arg-type]
                     f"{speed:.0f}× gunmane; R wall incl. start-up {float(msm['wall']):.1f} s"))  # type: ignore[arg-type]
        default = run_msm(msm_pairs, "default")
        if default is not None:
            rows.append((f"R msm {default['msm_version']}: same pairs, msm default tolerances", float(default["seconds"]),  # type: ignore[arg-type]
                         1, f"{float(default['seconds']) / g_med:.0f}× gunmane; max hazard diff "  # type: ignore[arg-type]
                            f"{float(np.max(np.abs(np.asarray(default['hazards'], dtype=float) / ours - 1))):.1e}"))  # type: ignore[arg-type]
        same = rel < 1e-3 and dll < 1e-4
        verdict_msm = (f"gunmane {speed:.0f}× faster than msm — {'**達成**' if speed >= 20 and same else '未達'}; "
                       f"hazards max relative difference {rel:.1e}, |Δloglik| {dll:.1e}")
    lines = ["Synthetic pairs (合成データ, seed 20251127): θ = (0.2, 0.08, 0.3)/year, unequal intervals 1–10 years "
             "(whole days), covariates N(0,1). BLAS/OpenMP threads 1.", "",
             "| measurement | median (s) | runs | note |", "| --- | ---: | ---: | --- |"]
    lines += [f"| {label} | {sec:.2f} | {n} | {note} |" for label, sec, n, note in rows]
    lines += ["", f"目標: fit < 10 s — **{'達成' if fit_med < 10 else '未達'}**（{fit_med:.2f} s）; "
                  f"forecast < 5 s — **{'達成' if fc_med < 5 else '未達'}**（{fc_med:.2f} s）; {verdict_msm}.",
              "", f"Machine: {machine()}. Run {date.today().isoformat()}.",
              "Command: `.venv/bin/python benchmarks/deterioration.py --write`."]
    report = "\n".join(lines)
    print(f"{SECTION}\n\n{report}")
    if args.write and not args.quick:
        write_section(report)
    return 0


def write_section(body: str) -> None:
    common_write_section(SECTION, body)


if __name__ == "__main__":
    raise SystemExit(main())
