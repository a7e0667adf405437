"""The Markov hazard deterioration engine: closed form, estimation, exclusions, pooling, derived values."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.linalg

from gunmane.engine.deterioration import (
    InvalidPairs,
    MarkovHazardModel,
    NotIdentifiable,
    StateSpace,
    compare_pooling,
    fit,
    fit_pooled,
    forecast_counts,
    forecast_facilities,
    generator,
    loglik_pairs,
    pairs_from_histories,
    prob_reach_within,
    transition_matrix,
)
from gunmane.engine.deterioration.data import PAIR_COLUMNS, PairColumns, PairSet, prepare_pairs
from gunmane.engine.deterioration.estimation import TransitionData, loglik_logtheta
from gunmane.io.ledger.pairs import PairsFileError, read_pairs

# --------------------------------------------------------------------------- helpers


def expm_reference(q: np.ndarray, z: float, digits: int = 40) -> np.ndarray:
    """exp(Q z) in 40-digit decimal arithmetic (Taylor series with scaling and squaring): the ground truth."""
    getcontext().prec = digits
    n = len(q)
    a = [[Decimal(float(q[i][j])) * Decimal(float(z)) for j in range(n)] for i in range(n)]
    norm = max(sum(abs(v) for v in row) for row in a)
    s = 0
    while norm > Decimal("0.5"):
        norm /= 2
        s += 1
    a = [[v / (Decimal(2) ** s) for v in row] for row in a]

    def mm(x: list[list[Decimal]], y: list[list[Decimal]]) -> list[list[Decimal]]:
        return [[sum((x[i][k] * y[k][j] for k in range(n)), Decimal(0)) for j in range(n)] for i in range(n)]

    e = [[Decimal(int(i == j)) for j in range(n)] for i in range(n)]
    t = [row[:] for row in e]
    for k in range(1, 40):
        t = [[v / k for v in row] for row in mm(t, a)]
        e = [[e[i][j] + t[i][j] for j in range(n)] for i in range(n)]
    for _ in range(s):
        e = mm(e, e)
    return np.array([[float(v) for v in row] for row in e])


def random_hazards(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    th = rng.uniform(0.005, 1.0, n)
    if kind == "equal" and n >= 2:
        th[1] = th[0]
        if n >= 3:
            th[2] = th[0]
    elif kind == "close" and n >= 2:
        th[1] = th[0] + 1e-9
    elif kind == "all_equal":
        th[:] = th[0]
    return th


def simulate_pairs(theta: np.ndarray, n: int, rng: np.random.Generator, *, beta: np.ndarray | None = None,
                   n_cov: int = 0, start_p: tuple[float, ...] = (0.5, 0.35, 0.15),
                   intervals: np.ndarray | None = None) -> pd.DataFrame:
    """Exact simulation of the pure-birth chain over unequal intervals (exponential sojourns)."""
    n_h = len(theta)
    before = rng.choice(n_h, n, p=np.asarray(start_p[:n_h]) / sum(start_p[:n_h]))
    z = rng.choice(intervals, n) if intervals is not None else rng.uniform(1, 10, n)
    x = rng.normal(size=(n, n_cov))
    lt = np.log(theta)[None, :] + (x @ beta.T if n_cov and beta is not None else 0.0)
    th = np.broadcast_to(np.exp(lt), (n, n_h))
    after = before.copy()
    clock = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    for _ in range(n_h + 1):
        idx = np.flatnonzero(alive & (after < n_h))
        clock[idx] += rng.exponential(1.0 / th[idx, after[idx]])
        moved = clock[idx] <= z[idx]
        after[idx[moved]] += 1
        alive[idx[~moved]] = False
    frame = pd.DataFrame({"facility_id": [f"F{i}" for i in range(n)], "before": before + 1, "after": after + 1,
                          "interval_years": z})
    for k in range(n_cov):
        frame[f"x{k}"] = x[:, k]
    return frame


# --------------------------------------------------------------------------- the closed form


@pytest.mark.parametrize("kind", ["distinct", "equal", "close", "all_equal"])
def test_closed_form_equals_matrix_exponential(kind: str) -> None:
    rng = np.random.default_rng({"distinct": 1, "equal": 2, "close": 3, "all_equal": 4}[kind])
    for _ in range(12):
        n_states = int(rng.integers(2, 6))
        theta = random_hazards(rng, kind, n_states - 1)
        z = float(rng.uniform(0.05, 25.0))
        ours = transition_matrix(theta, z)
        exact = expm_reference(generator(theta), z)
        assert np.abs(ours - exact).max() < 1e-12, (theta, z)
        assert np.abs(ours.sum(axis=1) - 1).max() < 1e-12
        if kind != "close":  # scipy's Padé expm itself is off by up to ~2e-9 for hazards 1e-9 apart
            assert np.abs(ours - scipy.linalg.expm(generator(theta) * z)).max() < 1e-12


def test_close_hazards_vs_scipy_expm_and_continuity() -> None:
    rng = np.random.default_rng(5)
    for _ in range(60):
        theta = random_hazards(rng, "close", int(rng.integers(3, 8)) - 1)
        z = float(rng.uniform(0.05, 30.0))
        ours = transition_matrix(theta, z)
        assert np.abs(ours - scipy.linalg.expm(generator(theta) * z)).max() < 1e-8
        tied = theta.copy()
        tied[1] = tied[0]  # 1e-9 apart → the matrices differ by O(1e-9·z) at most
        assert np.abs(ours - transition_matrix(tied, z)).max() < 1e-9 * z * 10


def test_transition_matrix_is_vectorised_over_intervals_and_hazards() -> None:
    theta = np.array([0.0908, 0.01437])
    zs = np.array([0.0, 0.5, 1.0, 5.0, 6.46, 40.0])
    many = transition_matrix(theta, zs)
    assert many.shape == (6, 3, 3)
    np.testing.assert_allclose(many[0], np.eye(3), atol=1e-15)
    for k, z in enumerate(zs):
        np.testing.assert_allclose(many[k], transition_matrix(theta, z), rtol=0, atol=1e-15)
    per_row = transition_matrix(np.array([[0.1, 0.2, 0.3], [0.3, 0.3, 0.3]]), np.array([2.0, 3.0]))
    np.testing.assert_allclose(per_row[1], scipy.linalg.expm(generator(np.array([0.3, 0.3, 0.3])) * 3.0), atol=1e-13)
    # time homogeneity: P(u) = P(1)^u
    np.testing.assert_allclose(transition_matrix(theta, 7.0), np.linalg.matrix_power(transition_matrix(theta, 1.0), 7),
                               atol=1e-13)


def test_published_miyagi_one_year_matrix_and_life() -> None:
    """§B3: RC bridges in Miyagi, I, II, III(+IV): θ = 0.0908, 0.01437 → the published one-year matrix."""
    model = MarkovHazardModel(StateSpace.grades(merge_iv=True), (0.0908, 0.01437), source="Miyagi study [V2]")
    np.testing.assert_allclose(model.one_year_matrix(), [[0.9132, 0.0862, 0.0006], [0, 0.9857, 0.0143], [0, 0, 1]],
                               atol=6e-5)
    # 1/0.0908 + 1/0.01437 = 80.6 years (§B3 quotes "81" / 81.1, from the unrounded hazards)
    assert model.expected_years_from_new()["III+IV"] == pytest.approx(80.6, abs=0.05)
    assert model.expected_sojourn()["I"] == pytest.approx(11.0, abs=0.05)
    # Chubu sanity check quoted in §B3: 1 − π_II,II(5) ≈ 7 %
    assert 1 - model.transition_matrix(5.0)[1, 1] == pytest.approx(0.069, abs=0.002)


# --------------------------------------------------------------------------- estimation


def test_analytic_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(11)
    frame = simulate_pairs(np.array([0.3, 0.3 + 1e-10, 0.05]), 400, rng)  # equal hazards on purpose
    b = frame["before"].to_numpy() - 1
    a = frame["after"].to_numpy() - 1
    z = frame["interval_years"].to_numpy()
    perm = TransitionData.order(b, a, 4)
    data = TransitionData.build(b[perm], a[perm], z[perm], np.ones(len(b)), 4)
    lt = np.log(np.array([0.3, 0.3, 0.05]))[None, :] + rng.normal(0, 0.2, (len(b), 3))
    _, grad = loglik_logtheta(lt, data)
    for m in range(3):
        h = 1e-6
        up, dn = lt.copy(), lt.copy()
        up[:, m] += h
        dn[:, m] -= h
        fd = (loglik_pairs(np.exp(up), b[perm], a[perm], z[perm]) - loglik_pairs(np.exp(dn), b[perm], a[perm], z[perm])) / (2 * h)
        np.testing.assert_allclose(grad[:, m], fd, rtol=1e-5, atol=1e-7)


def test_recovers_hazards_with_nominal_coverage_over_repeated_simulations() -> None:
    """100 simulated data sets of 3,000 pairs (intervals 1–10 years in half-years): bias and 95 % CI coverage."""
    truth = np.array([0.2, 0.08, 0.3])
    rng = np.random.default_rng(20251127)
    intervals = np.arange(1.0, 10.01, 0.5)
    est, covered = [], []
    for _ in range(100):
        r = fit(simulate_pairs(truth, 3000, rng, intervals=intervals))
        est.append(r.hazards)
        covered.append([lo <= t <= hi for (lo, hi), t in zip(r.conf_int, truth, strict=True)])
    bias = np.mean(est, axis=0) / truth - 1
    coverage = np.mean(covered, axis=0)
    assert np.all(np.abs(bias) < 0.02), bias
    assert np.all((coverage >= 0.88) & (coverage <= 1.0)), coverage
    assert coverage.mean() == pytest.approx(0.95, abs=0.035)


def test_recovers_covariate_effects() -> None:
    truth = np.array([0.2, 0.1, 0.3])
    beta = np.array([[0.3, -0.2], [0.1, 0.25], [-0.3, 0.0]])
    rng = np.random.default_rng(7)
    frame = simulate_pairs(truth, 40_000, rng, beta=beta, n_cov=2)
    frame["x1"] = frame["x1"] * 10 + 50  # original scale ≠ standardised scale
    r = fit(frame, covariates=["x0", "x1"])
    beta_orig = beta.copy()
    beta_orig[:, 1] = beta[:, 1] / 10
    se = np.sqrt(np.diag(r.coef_cov)).reshape(3, 3)
    assert np.all(np.abs(r.coef[:, 1:] - beta_orig) < 4 * se[:, 1:])
    np.testing.assert_allclose(np.exp(r.coef[:, 0] + r.coef[:, 2] * 50), truth, rtol=0.06)
    assert r.n_parameters == 9 and r.aic == pytest.approx(-2 * r.loglik + 18)
    th = r.hazards_for(pd.DataFrame({"x0": [0.0], "x1": [50.0]}))
    np.testing.assert_allclose(th[0], np.exp(r.coef[:, 0] + r.coef[:, 2] * 50))
    assert r.as_json()["covariates"]["names"] == ["x0", "x1"]


def test_json_contract() -> None:
    rng = np.random.default_rng(3)
    r = fit(simulate_pairs(np.array([0.2, 0.08, 0.3]), 2000, rng))
    doc = r.as_json()
    assert list(doc) == ["states", "hazards", "std_errors", "expected_years", "one_year_matrix", "loglik", "aic",
                         "n_pairs", "excluded", "confidence_intervals", "covariates", "repair_probability"]
    assert doc["states"] == ["I", "II", "III", "IV"]
    assert list(doc["hazards"]) == ["I", "II", "III"]
    assert doc["expected_years"]["from_new"]["IV"] == pytest.approx(sum(1 / t for t in r.hazards))
    assert doc["n_pairs"] == 2000 and doc["covariates"] is None
    assert set(doc["excluded"]) >= {"measure_between", "improved"}
    lo, hi = doc["confidence_intervals"]["I"]
    assert lo < doc["hazards"]["I"] < hi
    import json

    json.dumps(doc)


def test_not_identifiable_errors_name_the_grade() -> None:
    rng = np.random.default_rng(4)
    frame = simulate_pairs(np.array([0.2, 0.08, 0.3]), 500, rng)
    no_iii = frame[frame["before"] != 3]
    with pytest.raises(NotIdentifiable) as err:
        fit(no_iii)
    assert err.value.code == "no_pairs_from_grade" and err.value.grade == "III"
    assert "健全性Ⅲから始まる点検ペアが1件もない" in err.value.message_ja
    stuck = frame[(frame["before"] != 2) | (frame["after"] == 2)]
    stuck = stuck[~((stuck["before"] == 1) & (stuck["after"] > 2))]
    with pytest.raises(NotIdentifiable) as err:
        fit(stuck)
    assert err.value.code == "no_transitions_out" and err.value.grade == "II"
    assert "健全性Ⅱから次の段階へ進んだ" in err.value.message_ja and "θ_" not in err.value.message_ja and err.value.message_en
    frame["const"] = 1.0
    with pytest.raises(NotIdentifiable) as err:
        fit(frame, covariates=["const"])
    assert err.value.code == "covariate_constant" and err.value.column == "const"
    with pytest.raises(InvalidPairs) as bad:
        fit(frame.assign(before=frame["before"].where(frame.index != 3, 7)))
    assert bad.value.code == "grade_out_of_range" and "4件目" in bad.value.message_ja


def test_improved_pairs_are_counted_not_silently_dropped() -> None:
    rng = np.random.default_rng(6)
    frame = simulate_pairs(np.array([0.2, 0.08, 0.3]), 1000, rng)
    extra = pd.DataFrame({"facility_id": ["R1", "R2", "R3"], "before": [3, 4, 2], "after": [1, 2, 2],
                          "interval_years": [5.0, 5.0, 0.0]})
    r = fit(pd.concat([frame, extra], ignore_index=True))
    assert r.excluded["improved"] == 2 and r.excluded["zero_interval"] == 1
    assert r.n_pairs == 1000


def test_numpy_columns_fit_exactly_as_the_frame() -> None:
    """A pairs file is read into PairColumns (numpy, no pandas: #15 §6); its fit must be the frame's, to the bit —
    with covariates, a member column, improved / zero-interval pairs and a missing covariate counted the same."""
    rng = np.random.default_rng(11)
    frame = simulate_pairs(np.array([0.2, 0.1, 0.3]), 3000, rng, beta=np.array([[0.3], [0.1], [-0.2]]), n_cov=1)
    frame["member"] = np.where(np.arange(len(frame)) % 3 == 0, "292010", "293857")
    frame.loc[5, "x0"] = np.nan
    frame.loc[7, ["before", "after"]] = [3, 1]
    frame.loc[9, "interval_years"] = 0.0
    columns = PairColumns({c: frame[c].to_numpy() for c in frame.columns})
    for cov in ((), ("x0",)):
        a, b = fit(frame, covariates=cov).as_json(), fit(columns, covariates=cov).as_json()
        assert a == b
        assert b["excluded"]["improved"] == 1 and b["excluded"]["zero_interval"] == 1
    assert fit(columns, covariates=("x0",)).excluded["missing_covariate"] == 1
    kept, _ = prepare_pairs(PairSet(columns, {}), StateSpace.grades(), member_column="member")
    assert list(kept.columns) == ["facility_id", "before", "after", "interval_years", "member"]
    assert len(kept) == 2998 and kept["before"].dtype == np.int64
    bad = PairColumns({**{c: frame[c].to_numpy() for c in PAIR_COLUMNS}, "before": np.array(["Ⅴ", *[1] * 2999], dtype=object)})
    with pytest.raises(InvalidPairs, match="1件目のペアの前回の健全性「Ⅴ」は1〜4の整数ではありません"):
        fit(bad)


# --------------------------------------------------------------------------- pairs from histories


def test_pairs_from_histories_excludes_and_counts() -> None:
    d = pd.to_datetime
    inspections = pd.DataFrame({
        "facility": [1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5],
        "inspected_on": d(["2014-07-01", "2019-07-01", "2024-06-01", "2015-05-01", "2020-05-01",
                           "2016-09-01", "2021-09-01", "2021-09-01", "2017-01-10", None, "2018-01-01"]),
        "grade": [1, 2, 2, 3, 2, 2, 3, 3, 1, 2, np.nan],
    })
    measures = pd.DataFrame({
        "facility": [1, 1, 3],
        "fiscal_year": [2021, 2010, 2019],
        "status": ["完了", "完了", "未着手"],  # 2021 repair between 2019 and 2024; 未着手 does not count
        "kind": ["修繕", "修繕", "修繕"],
    })
    facilities = pd.DataFrame({"facility": [1, 2, 3, 4, 5], "built_year": [1970, 1980, 1990, 2000, 2010],
                               "lg_code": ["292010", "292010", "293857", "293857", "293857"]})
    ps = pairs_from_histories(inspections, measures, facilities=facilities, covariates=["age"], member_column="lg_code")
    assert ps.excluded["measure_between"] == 1  # facility 1, 2019→2024
    assert ps.excluded["improved"] == 1  # facility 2, III → II without a recorded measure
    assert ps.excluded["zero_interval"] == 1  # facility 3, two inspections on the same day
    assert ps.excluded["missing_date"] == 1 and ps.excluded["missing_grade"] == 1
    got = ps.frame.sort_values(["facility_id", "before"]).reset_index(drop=True)
    assert got[["facility_id", "before", "after"]].values.tolist() == [["1", 1, 2], ["3", 2, 3]]
    assert got["interval_years"].iloc[0] == pytest.approx(5.0, abs=0.01)
    assert got["age"].tolist() == [44.0, 26.0]
    assert got["member"].tolist() == ["292010", "293857"]


# --------------------------------------------------------------------------- derived quantities


def test_forecasts_and_reach_probabilities() -> None:
    theta = np.array([0.15, 0.06, 0.2])
    p1 = transition_matrix(theta, 1.0)
    counts = forecast_counts(theta, [600, 300, 90, 10], 30, ("I", "II", "III", "IV"))
    expected = np.array([600, 300, 90, 10], dtype=float) @ np.linalg.matrix_power(p1, 30)
    np.testing.assert_allclose(counts.loc[30].to_numpy(), expected, rtol=1e-10)
    assert counts.sum(axis=1).to_numpy() == pytest.approx(1000.0)
    # per-facility hazards: same answer as classes when facilities share hazards
    rng = np.random.default_rng(0)
    states = rng.integers(0, 4, 5000)
    per_fac = np.tile(theta, (5000, 1))
    per_fac[:2500] *= 1.5
    by_fac = forecast_facilities(per_fac, states, 20, ("I", "II", "III", "IV"))
    by_class = forecast_counts(np.array([theta * 1.5, theta]),
                               [np.bincount(states[:2500], minlength=4), np.bincount(states[2500:], minlength=4)],
                               20, ("I", "II", "III", "IV"))
    np.testing.assert_allclose(by_fac.to_numpy(), by_class.to_numpy(), rtol=1e-10)
    # probability of reaching III (or worse) within 10 years equals the transition-matrix sum
    reach = prob_reach_within(theta, np.array([0, 1, 2, 3]), 10.0, 2)
    p10 = transition_matrix(theta, 10.0)
    np.testing.assert_allclose(reach, [p10[0, 2:].sum(), p10[1, 2:].sum(), 1.0, 1.0], rtol=1e-12)
    tiny = prob_reach_within(theta, np.array([0]), 0.01, 3)[0]  # accurate even when tiny
    assert tiny == pytest.approx(p10[0, 3] * 0 + transition_matrix(theta, 0.01)[0, 3], rel=1e-9)
    model = MarkovHazardModel(StateSpace.grades(), tuple(theta))
    curves = model.survival_curves(np.array([0.0, 5.0, 50.0]))
    assert list(curves.columns) == ["II", "III", "IV"]
    assert curves.loc[0.0].tolist() == [1.0, 1.0, 1.0]
    assert curves.loc[5.0, "II"] == pytest.approx(math.exp(-0.75))


# --------------------------------------------------------------------------- pooling


def _group(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    theta = np.array([0.15, 0.08, 0.2])
    sizes = [40, 80, 300, 900, 1500]
    effects = np.array([0.5, -0.4, 0.1, -0.1, 0.0])
    parts = []
    for m, (n, u) in enumerate(zip(sizes, effects, strict=True)):
        d = simulate_pairs(theta * math.exp(u), n, rng, intervals=np.arange(1.0, 10.01, 0.5))
        d["facility_id"] = f"m{m}-" + d["facility_id"]
        d["member"] = f"m{m}"
        parts.append(d)
    return pd.concat(parts, ignore_index=True), effects


def test_pooled_fit_shrinks_small_members() -> None:
    frame, effects = _group(np.random.default_rng(8))
    pooled = fit_pooled(frame)
    assert 0.05 < pooled.sigma < 1.5
    small = pooled.member("m0")
    assert small.n_pairs == 40
    assert small.posterior_sd > pooled.member("m4").posterior_sd  # fewer pairs, less certain
    assert small.effect > 0  # the right direction, shrunk
    # shrinkage: with σ fixed large (almost no pooling) the small member's effect is further from 0
    loose = fit_pooled(frame, sigma=3.0).member("m0")
    assert abs(small.effect) < abs(loose.effect)
    big = pooled.member("m4")
    assert abs(big.effect - fit_pooled(frame, sigma=3.0).member("m4").effect) < abs(small.effect - loose.effect)
    assert set(pooled.as_json()) >= {"hazards", "sigma", "members"}


def test_compare_pooling_by_cross_validated_loglik() -> None:
    frame, _ = _group(np.random.default_rng(9))
    cmp = compare_pooling(frame, k=3)
    assert set(cmp.cv_loglik) == {"pooled", "separate", "hierarchical"}
    assert cmp.best in cmp.cv_loglik and cmp.cv_loglik[cmp.best] is not None
    assert cmp.n_folds == 3 and all(len(v) == 3 for v in cmp.per_fold.values())
    finite = {k: v for k, v in cmp.cv_loglik.items() if v is not None}
    assert cmp.best == max(finite, key=lambda k: finite[k])
    # hierarchical borrows strength: never much worse than the better of the two extremes
    assert finite["hierarchical"] >= max(v for k, v in finite.items() if k != "hierarchical") - 5.0


# --------------------------------------------------------------------------- pairs file


def test_read_pairs_file_japanese_headers(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_bytes("施設ID,前回の健全性,今回の健全性,経過年数,団体コード,交通量\n"
                     "B-1,Ⅰ,Ⅱ,5,292010,1200\nB-1,II,II,4.5,292010,1300\nB-2,1,3,５年,293857,\n"
                     .encode("cp932"))
    got = read_pairs(path)
    frame = got.pairs.frame
    assert frame["before"].tolist() == [1, 2, 1] and frame["after"].tolist() == [2, 2, 3]
    assert frame["interval_years"].tolist() == [5.0, 4.5, 5.0]
    assert frame["member"].tolist() == ["292010", "292010", "293857"]
    assert got.pairs.covariates == ("交通量",) and math.isnan(frame["交通量"].iloc[2])


def test_read_pairs_file_errors_are_precise(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("facility_id,before,after,interval_years\nB-1,Ⅴ,Ⅱ,5\nB-2,1,,abc\n", encoding="utf-8")
    with pytest.raises(PairsFileError) as err:
        read_pairs(path)
    issues = [(i.row, i.column, i.value, i.code) for i in err.value.issues]
    assert issues == [(2, "before", "Ⅴ", "grade_out_of_range"), (3, "after", "", "required"),
                      (3, "interval_years", "abc", "not_a_number")]
    assert "2行目・列「before」・値「Ⅴ」" in err.value.message_ja
    missing = tmp_path / "missing.csv"
    missing.write_text("施設ID,前回の健全性,経過年数\nB-1,1,5\n", encoding="utf-8")
    with pytest.raises(PairsFileError) as err:
        read_pairs(missing)
    assert err.value.issues[0].code == "missing_column" and "今回の健全性" in err.value.message_ja
