"""gunmane's Markov hazard estimates agree with R's msm on the real NBI Nebraska panel.

Both sides get exactly the same observations: the NBI deck ratings mapped to 健全性 I–IV
(9–7 → I, 6–5 → II, 4 → III, ≤3 → IV, 'N' dropped), each bridge's history cut into segments at
every repair / rehabilitation / replacement / inspector-variance jump; msm reads the segments as
panel data (obstype 1), gunmane the consecutive pairs of the same segments.  Runs when Rscript and
the msm package are installed (Debian: r-base-core r-cran-msm); skipped otherwise, except under CI
(env CI set), where their absence fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gunmane.engine.deterioration import StateSpace, fit, nbi_panel

SCRIPT = Path(__file__).with_name("msm_fit.R")
HAZARD_RTOL = 1e-3  # 0.1 % relative
LOGLIK_ATOL = 1e-4


def _msm_available() -> str | None:
    if shutil.which("Rscript") is None:
        return "Rscript がありません（apt-get install r-base-core r-cran-msm）"
    probe = subprocess.run(["Rscript", "-e", "suppressPackageStartupMessages(library(msm))"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return "R の msm パッケージがありません（apt-get install r-cran-msm）"
    return None


@pytest.fixture(scope="module")
def msm() -> None:
    reason = _msm_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI では msm との照合が必須です: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    path = resources.files("gunmane.data").joinpath("nbi-nebraska", "nebraska_nbi_1992_2018_long.csv")
    with resources.as_file(path) as p:
        return pd.read_csv(p, dtype=str)


def _run_msm(obs: pd.DataFrame, n_states: int, tmp_path: Path, covariate: str = "") -> dict[str, object]:
    csv = tmp_path / "obs.csv"
    obs.to_csv(csv, index=False)
    args = ["Rscript", str(SCRIPT), str(csv), str(n_states)] + ([covariate] if covariate else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    assert result["converged"], out.stderr
    return result


def test_nbi_deck_four_grades_agree_with_msm(msm: None, panel: pd.DataFrame, tmp_path: Path) -> None:
    nbi = nbi_panel(panel, "deck")
    # the data both sides use: real, with unequal intervals and the repaired intervals cut out
    assert nbi.pairs.n_pairs == 7449
    assert nbi.pairs.excluded["measure_between"] == 62 and nbi.pairs.excluded["missing_grade"] == 2
    assert set(nbi.pairs.frame["interval_years"].unique()) > {1.0, 2.0, 5.0}
    ours = fit(nbi.pairs)
    obs = nbi.observations.rename(columns={"grade": "state"})[["subject", "years", "state"]]
    theirs = _run_msm(obs, 4, tmp_path)
    np.testing.assert_allclose(ours.hazards, theirs["hazards"], rtol=HAZARD_RTOL)
    assert abs(ours.loglik - float(theirs["loglik"])) < LOGLIK_ATOL  # type: ignore[arg-type]


def test_nbi_deck_with_age_covariate_agrees_with_msm(msm: None, panel: pd.DataFrame, tmp_path: Path) -> None:
    """θ_i = exp(β_i0 + β_i1·age/10), grades III and IV merged (III has no direct III→IV exit in this
    sample, so its age effect is not identified); msm with center = FALSE reports the same β."""
    nbi = nbi_panel(panel, "deck")
    states = StateSpace.grades(merge_iv=True)
    ours = fit(nbi.pairs, states=states, covariates=["age10"])
    obs = nbi.observations.rename(columns={"grade": "state"})[["subject", "years", "state", "age10"]]
    obs["state"] = obs["state"].clip(upper=3)
    theirs = _run_msm(obs, 3, tmp_path, "age10")
    np.testing.assert_allclose(np.exp(ours.coef[:, 0]), theirs["hazards"], rtol=HAZARD_RTOL)
    np.testing.assert_allclose(ours.coef[:, 1], theirs["coef"], rtol=HAZARD_RTOL, atol=1e-5)
    assert abs(ours.loglik - float(theirs["loglik"])) < LOGLIK_ATOL  # type: ignore[arg-type]


def _simulated_scale_panel(scale_id: str, hazards: list[float], tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """A seeded panel on a sector scale: 600 facilities inspected every 4–6 years from new, grades written as the
    scale's labels in a pairs CSV (what `gunmane deterioration fit --scale` reads) and as indexes for msm."""
    from gunmane.engine.deterioration import transition_matrix
    from gunmane.io.values.scales import scale

    sc = scale(scale_id)
    rng = np.random.default_rng(16)
    theta = np.asarray(hazards)
    rows, pairs = [], []
    for f in range(600):
        t, state = 0.0, 1
        rows.append((f, t, state))
        for _ in range(5):
            gap = float(rng.choice([4.0, 5.0, 6.0]))
            p = transition_matrix(theta, np.array([gap]))[0][state - 1]
            new = int(rng.choice(len(p), p=p / p.sum())) + 1
            pairs.append((f"f{f}", sc.label(state), sc.label(new), gap))
            t, state = t + gap, new
            rows.append((f, t, state))
    csv = tmp_path / f"{scale_id}.csv"
    pd.DataFrame(pairs, columns=["施設ID", "前回の判定", "今回の判定", "経過年数"]).to_csv(csv, index=False)
    return csv, pd.DataFrame(rows, columns=["subject", "years", "state"])


@pytest.mark.parametrize(("scale_id", "hazards"), [("sewer-hi", [0.12, 0.08, 0.06, 0.1]),   # 5 grades 5 … 1
                                                   ("sabo-CBA", [0.07, 0.05])])              # 3 grades C, B, A
def test_fit_on_a_sector_scale_agrees_with_msm(msm: None, tmp_path: Path, scale_id: str, hazards: list[float]) -> None:
    """The fit on a scale other than Ⅰ–Ⅳ (states from the scale, grades read as the manual writes them) is R msm's."""
    from gunmane.io.ledger.pairs import read_pairs
    from gunmane.io.values.scales import scale

    states = StateSpace.from_scale(scale(scale_id))
    csv, obs = _simulated_scale_panel(scale_id, hazards, tmp_path)
    ours = fit(read_pairs(csv, states=states, scale=scale(scale_id)).pairs, states=states)
    assert ours.states.labels == tuple(g.label for g in scale(scale_id).grades)
    theirs = _run_msm(obs, states.n, tmp_path)
    np.testing.assert_allclose(ours.hazards, theirs["hazards"], rtol=HAZARD_RTOL)
    assert abs(ours.loglik - float(theirs["loglik"])) < LOGLIK_ATOL  # type: ignore[arg-type]
    # and the simulation's hazards are recovered within sampling error
    np.testing.assert_allclose(ours.hazards, hazards, rtol=0.25)
