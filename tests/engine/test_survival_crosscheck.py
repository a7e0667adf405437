"""gunmane's Weibull service-life fit agrees with R's survival::survreg on simulated lives with censoring.

Both sides get the same lives (age at entry, age at exit, renewed or not). Without truncation the reference is
``survreg(Surv(time, event) ~ 1, dist = "weibull")`` (its scale is 1/k, its intercept ln λ) and
``dist = "exponential"`` for the nested model; with left truncation survreg refuses Surv(start, stop, event), so
the reference is R's dweibull/pweibull likelihood maximised by optim (tests/engine/survreg_fit.R). Runs when
Rscript and the survival package are installed (Debian: r-base-core r-cran-survival); skipped otherwise, except
under CI (env CI set), where their absence fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gunmane.engine.survival import Lives, ServiceLives, fit, service_lives

SCRIPT = Path(__file__).with_name("survreg_fit.R")
RTOL = 1e-6  # estimates and log-likelihood, relative
SE_RTOL = 1e-4  # standard errors: survreg's analytic information to 1e-6; optimHess's finite differences ~1e-5


def _survival_available() -> str | None:
    if shutil.which("Rscript") is None:
        return "Rscript がありません（apt-get install r-base-core r-cran-survival）"
    probe = subprocess.run(["Rscript", "-e", "suppressPackageStartupMessages(library(survival))"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return "R の survival パッケージがありません（apt-get install r-cran-survival）"
    return None


@pytest.fixture(scope="module")
def survreg() -> None:
    reason = _survival_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI では survival（survreg）との照合が必須です: {reason}")
        pytest.skip(reason)


def simulated(seed: int, n: int, *, records_since: float | None = None) -> ServiceLives:
    """Pipes laid uniformly 1950–2020, Weibull(k = 2.2, λ = 40) lives, records up to FY2024 (about half still in
    service: censored), optionally records only since ``records_since`` (left truncation)."""
    rng = np.random.default_rng(seed)
    inst = rng.uniform(1950, 2020, n)
    renewal = inst + 40.0 * rng.weibull(2.2, n)
    renewal[renewal > 2024] = np.nan
    if records_since is not None:  # what a ledger begun then shows: the lives still in service at its start
        keep = np.isnan(renewal) | (renewal > records_since)
        inst, renewal = inst[keep], renewal[keep]
    return ServiceLives.from_arrays(inst, renewal, 2024.0, observed_from=records_since)


def _run_r(lives: Lives, tmp_path: Path) -> dict[str, float]:
    csv = tmp_path / "lives.csv"
    pd.DataFrame({"entry": lives.entry, "time": lives.exit, "event": lives.event.astype(int)}).to_csv(
        csv, index=False, float_format="%.17g")
    out = subprocess.run(["Rscript", str(SCRIPT), str(csv)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result: dict[str, float] = json.loads(out.stdout)
    assert result["converged"], out.stderr
    return result


def _agree(ours_lives: Lives, theirs: dict[str, float]) -> None:
    ours = fit(ours_lives)
    assert ours.converged
    np.testing.assert_allclose([ours.shape, ours.scale], [theirs["shape"], theirs["scale"]], rtol=RTOL)
    np.testing.assert_allclose(ours.loglik, theirs["loglik"], rtol=RTOL)
    se = np.sqrt(np.diag(ours.log_cov))
    np.testing.assert_allclose(se, [theirs["se_log_shape"], theirs["se_log_scale"]], rtol=SE_RTOL)
    np.testing.assert_allclose(ours.log_cov[0, 1], theirs["cov_log"], rtol=1e-3, atol=1e-9)


def test_censored_lives_agree_with_survreg(survreg: None, tmp_path: Path) -> None:
    lives = service_lives(simulated(3, 2000))
    assert 0.3 < lives.n_events / lives.n < 0.7 and lives.n_truncated == 0  # censoring is real, no truncation
    theirs = _run_r(lives, tmp_path)
    assert theirs["method"] == "survreg"
    _agree(lives, theirs)
    ours = fit(lives)  # the nested exponential model: survreg dist = "exponential"
    np.testing.assert_allclose(ours.exponential.scale, theirs["exponential_scale"], rtol=RTOL)
    np.testing.assert_allclose(ours.exponential.loglik, theirs["exponential_loglik"], rtol=RTOL)


def test_integer_fiscal_years_agree_with_survreg(survreg: None, tmp_path: Path) -> None:
    """What a ledger gives: whole fiscal years (ties everywhere), a small municipality's 300 pipes."""
    raw = simulated(7, 300)
    years = ServiceLives.from_arrays(np.floor(raw.install_year), np.floor(raw.renewal_year), 2024.0)
    lives = service_lives(years)
    assert lives.excluded["renewed_in_install_year"] == 0 and lives.n_events > 50
    _agree(lives, _run_r(lives, tmp_path))


def test_left_truncated_lives_agree_with_r(survreg: None, tmp_path: Path) -> None:
    lives = service_lives(simulated(5, 2000, records_since=1990.0))
    assert lives.n_truncated > 500  # many lives enter late: the truncation term matters
    theirs = _run_r(lives, tmp_path)
    assert theirs["method"] == "optim"
    _agree(lives, theirs)
