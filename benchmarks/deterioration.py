"""劣化予測 benchmark: Markov hazard fit, population forecast, and gunmane against R's msm.

    .venv/bin/python benchmarks/deterioration.py            # full sizes, 3 runs each, print a Markdown table
    .venv/bin/python benchmarks/deterioration.py --write    # … and replace the section 「劣化予測（deterioration）」
                                                            #     of docs/benchmarks.md (only that section)
    .venv/bin/python benchmarks/deterioration.py --quick    # 100,000 pairs / facilities, 1 run, 5,000 pairs for msm
    .venv/bin/python benchmarks/deterioration.py --startup [--write]   # whole processes: gunmane --help,
                                                            #     gunmane deterioration fit, Rscript msm (section
                                                            #     「gunmane の起動時間」)
    git archive COMMIT gunmane | tar -x -C /tmp/before      # … and the same commands of an earlier commit:
    .venv/bin/python benchmarks/deterioration.py --startup --baseline /tmp/before

Measured in one run (BLAS/OpenMP threads 1):

1. fit: 1,000,000 simulated inspection pairs (合成データ, seeded; unequal intervals 1–10 years in days;
   3 normal covariates) — `gunmane.engine.deterioration.fit(..., covariates=[x0, x1, x2])`, target < 10 s;
2. forecast: 1,000,000 facilities, each with its own hazards (from the fitted covariates), expected grade
   counts year by year over 100 years — `forecast_facilities`, target < 5 s;
3. msm: the same 50,000 pairs (no covariates) fitted by R's msm (panel data, progressive Q;
   time inside R, excluding R start-up and reading) and by gunmane — target gunmane ≥ 20× faster with
   hazards within 0.1 % and log-likelihood within 1e-4.  Skipped with a note when Rscript/msm are absent.

--startup instead times whole processes, as a user starts them (issue #15 §6; target ≤ 0.6 s each): `gunmane
--help`, `gunmane deterioration fit --pairs FILE` on 6,500 simulated pairs, and `Rscript tests/engine/msm_fit.R`
on the same pairs (R start-up, reading, msm) — each run STARTUP_RUNS times after one warm-up run (which also
leaves Python's bytecode cache in place, as an installed package has it), median and fastest.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
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


def write_msm_obs(pairs: pd.DataFrame, path: Path) -> Path:
    """The pairs as msm's panel observations (subject, years, state: two rows per pair) for tests/engine/msm_fit.R."""
    pd.DataFrame({
        "subject": np.repeat(pairs["facility_id"].to_numpy(), 2),
        "years": np.column_stack([np.zeros(len(pairs)), pairs["interval_years"].to_numpy()]).ravel(),
        "state": np.column_stack([pairs["before"].to_numpy(), pairs["after"].to_numpy()]).ravel(),
    }).to_csv(path, index=False)
    return path


def run_msm(pairs: pd.DataFrame, control: str = "") -> dict[str, object] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = write_msm_obs(pairs, Path(tmp) / "obs.csv")
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


STARTUP_SECTION = "## gunmane の起動時間（CLI start-up）"
STARTUP_PAIRS = 6_500
STARTUP_RUNS = 9
STARTUP_TARGET_S = 0.6


def process_times(cmd: list[str], runs: int, env: dict[str, str], cwd: Path = ROOT) -> tuple[list[float], list[float], str]:
    """Wall-clock and CPU (user + system) seconds of ``runs`` whole-process runs of ``cmd`` after one warm-up run,
    and the warm-up's stdout. The CPU time says what the process itself cost when other work shares the machine."""
    warm = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if warm.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{warm.stderr[-2000:]}")
    wall, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd, check=True)
        wall.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return wall, cpu, warm.stdout


def startup(runs: int, baseline: Path | None = None) -> str:
    """The section 「gunmane の起動時間」: whole-process wall times of gunmane and of Rscript msm, same pairs."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: .pyc cached
    env["PYTHONPATH"] = str(ROOT)
    pairs = simulate(STARTUP_PAIRS, 0, SEED + 3)
    rows: list[tuple[str, list[float], list[float], str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pairs.csv"
        pairs.to_csv(path, index=False)
        gm = [sys.executable, "-m", "gunmane.cli"]
        log("gunmane --help …")
        t_help, c_help, _ = process_times([*gm, "--help"], runs, env)
        rows.append(("`gunmane --help`", t_help, c_help, ""))
        log(f"gunmane deterioration fit --pairs ({STARTUP_PAIRS:,} pairs) …")
        t_fit, c_fit, out = process_times([*gm, "deterioration", "fit", "--pairs", str(path)], runs, env)
        ours = json.loads(out)
        rows.append((f"`gunmane deterioration fit --pairs` {STARTUP_PAIRS:,} pairs", t_fit, c_fit,
                     f"loglik {ours['loglik']:,.3f}"))
        if baseline is not None:  # an earlier gunmane (its package folder), timed the same way on the same file
            old_env = dict(env, PYTHONPATH=str(baseline))
            for label, args in (("--help", ["--help"]), ("deterioration fit --pairs", ["deterioration", "fit", "--pairs", str(path)])):
                log(f"baseline {label} …")
                t_old, c_old, _ = process_times([*gm, *args], runs, old_env, cwd=baseline)  # -m puts cwd first
                rows.append((f"before: `gunmane {label}` ({baseline.name})", t_old, c_old, "the same command, earlier code"))
        if shutil.which("Rscript") is not None:
            obs_path = write_msm_obs(pairs, Path(tmp) / "obs.csv")
            for label, extra in (("reltol 1e-14", []), ("msm default tolerances", ["", "default"])):
                log(f"Rscript msm ({label}) …")
                t_r, c_r, r_out = process_times(["Rscript", str(MSM_SCRIPT), str(obs_path), "4", *extra], runs, env)
                msm = json.loads(r_out)
                rel = max(abs(float(h) / ours["hazards"][g] - 1) for g, h in zip(LABELS, msm["hazards"], strict=False))
                rows.append((f"`Rscript msm_fit.R` msm {msm['msm_version']}, same pairs ({label})", t_r, c_r,
                             f"inside R {float(msm['seconds']):.2f} s; hazards max relative difference {rel:.1e}"))
    lines = ["What a start costs: the interpreter, numpy, the pairs reader and the fit. Neither pandas (the file is "
             "read into numpy columns), Django nor scipy is imported (Newton's method in numpy; "
             "tests/cli/test_startup.py guards that); `--help` imports only the standard library and gunmane.cli.", "",
             f"Whole processes, as a user starts them: wall clock from start to exit, {runs} runs after one warm-up "
             "run (Python's bytecode cache in place, as in an installed package). The pairs: "
             f"{STARTUP_PAIRS:,} simulated pairs (合成データ, seed {SEED + 3}, no covariates), the same file for "
             "gunmane and for R's msm (`tests/engine/msm_fit.R`: R start-up, reading the file, the fit).", "",
             "| command | median (s) | fastest (s) | CPU median (s) | runs | note |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    lines += [f"| {label} | {statistics.median(ts):.2f} | {min(ts):.2f} | {statistics.median(cs):.2f} | {len(ts)} | {note} |"
              for label, ts, cs, note in rows]
    verdicts = [f"{name} {statistics.median(ts):.2f} s — **{'達成' if statistics.median(ts) <= STARTUP_TARGET_S else '未達'}**"
                for name, ts in (("--help", t_help), ("fit", t_fit))]
    lines += ["", f"目標 ≤ {STARTUP_TARGET_S} s（median）: " + "; ".join(verdicts) + ".",
              "", f"Machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end. Run {date.today().isoformat()}.",
              "Command: `.venv/bin/python benchmarks/deterioration.py --startup --write"
              + (f" --baseline {baseline}` ({baseline.name}: `git archive {baseline.name} gunmane | tar -x -C DIR`)."
                 if baseline is not None else "`.")]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="update the section in docs/benchmarks.md")
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--startup", action="store_true", help="whole-process start-up times (and R msm)")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="with --startup: also time an earlier checkout (a folder holding its gunmane package, "
                             "e.g. git archive COMMIT gunmane | tar -x -C DIR)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.startup:
        report = startup(max(args.runs, STARTUP_RUNS), args.baseline)
        print(f"{STARTUP_SECTION}\n\n{report}")
        if args.write:
            common_write_section(STARTUP_SECTION, report)
        return 0
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
