"""Repair probability from the hazard model (issue 12): the stationary renewal chain in which a repair
resets a facility to Ⅰ, checked against the renewal theorem, a long simulation and the fitted JSON; the
effects engine gives never-inspected facilities that rate instead of no repair demand at all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gunmane.engine.deterioration import StateSpace, fit, repair_probability, transition_matrix
from gunmane.engine.effects import Facility, GroupInput, Member, derive_work
from gunmane.io.shipped.parameters import effects_parameters

MIYAGI = np.array([0.0908, 0.01437])          # θ_Ⅰ, θ_Ⅱ of the Miyagi RC bridges (III+IV merged)


def test_renewal_theorem_and_the_miyagi_figure() -> None:
    r, pi = repair_probability(MIYAGI, 2)
    # renewal theorem: r = 1 / expected one-year steps from Ⅰ to Ⅲ (fundamental matrix of the discrete chain)
    a = transition_matrix(MIYAGI, 1.0)[:2, :2]
    steps = np.linalg.solve(np.eye(2) - a, np.ones(2))[0]
    assert r == pytest.approx(1 / steps, rel=1e-12)
    assert steps == pytest.approx(81.1026, abs=1e-4)       # = 80.60 continuous years + ½ (counted in whole years)
    assert r == pytest.approx(0.012330, abs=1e-6)
    assert pi.sum() == pytest.approx(1.0) and (pi > 0).all()
    # stationarity: π R = π for the renewal chain
    p = transition_matrix(MIYAGI, 1.0)
    rr = p[:2, :2].copy()
    rr[:, 0] += p[:2, 2:].sum(axis=1)
    assert pi @ rr == pytest.approx(pi, abs=1e-14)


def test_four_grades_with_the_trigger_at_iii_equals_the_merged_model() -> None:
    # Ⅳ is beyond the trigger: θ_Ⅲ must not matter, and the 4-state result equals the merged 3-state one
    r4, _ = repair_probability(np.append(MIYAGI, 0.3), 2)
    r4b, _ = repair_probability(np.append(MIYAGI, 0.01), 2)
    r3, _ = repair_probability(MIYAGI, 2)
    assert r4 == pytest.approx(r3, rel=1e-12) and r4b == pytest.approx(r3, rel=1e-12)


def test_long_simulation_of_the_renewal_process() -> None:
    theta = np.array([0.2, 0.1, 0.4])
    r, _ = repair_probability(theta, 2)
    rng = np.random.default_rng(12)
    p = transition_matrix(theta, 1.0)
    n, years = 4000, 400
    state = np.zeros(n, dtype=int)
    repairs = 0
    for year in range(years):
        u = rng.random(n)
        cum = np.cumsum(p[state], axis=1)
        state = (u[:, None] > cum).sum(axis=1)
        hit = state >= 2
        if year >= 100:                       # after the burn-in
            repairs += int(hit.sum())
        state[hit] = 0
    assert repairs / (n * (years - 100)) == pytest.approx(r, rel=0.03)


def test_fit_json_reports_the_repair_probability_with_an_interval() -> None:
    rng = np.random.default_rng(4)
    theta = np.array([0.1, 0.05])
    p5 = transition_matrix(theta, 5.0)
    before = rng.choice([1, 2], 4000, p=[0.6, 0.4])
    after = np.array([min(int(rng.choice(3, p=p5[b - 1])) + 1, 3) for b in before])
    pairs = pd.DataFrame({"facility_id": np.arange(4000), "before": before, "after": after, "interval_years": 5.0})
    result = fit(pairs, states=StateSpace(("I", "II", "III")))
    js = result.as_json()["repair_probability"]
    assert js["trigger"] == "III"
    assert js["per_year"] == pytest.approx(repair_probability(result.theta, 2)[0])
    assert js["ci"][0] < js["per_year"] < js["ci"][1]
    truth = repair_probability(theta, 2)[0]
    assert js["ci"][0] < truth < js["ci"][1]
    assert js["mean_years_between"] == pytest.approx(1 / js["per_year"])
    assert set(js["stationary"]) == {"I", "II"}


def test_never_inspected_facilities_get_repair_demand_at_the_long_run_rate() -> None:
    params = effects_parameters()
    m = (Member("292125", "宇陀市", office_lat=34.53, office_lon=135.95),)
    facs = tuple(Facility(f"n{j}", "292125", "road", "bridge", 15.0) for j in range(50))   # never inspected
    w = derive_work(GroupInput(m, facs, 2026, 5), params)
    new = w.rows[(w.rows["origin"] == "new") & (w.rows["kind"] == "works")]
    r, _ = repair_probability(np.array(w.theta), 2)
    assert len(new) == 50 and (new["year"] == 2026).all()
    assert new["p"].to_numpy() == pytest.approx(np.full(50, r * 5))
    assert any("補修確率" in note for note in w.notes)
