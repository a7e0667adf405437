"""The Weibull service-life engine: recovery on large simulated data, truncation, exclusions, errors, and the
quantities a renewal plan reads (survival, conditional renewal probability, expected renewals per year)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gunmane.engine.survival import (
    EXCLUSION_REASONS,
    InvalidLives,
    LifeRecord,
    NotIdentifiable,
    ServiceLives,
    WeibullModel,
    expected_renewals,
    fit,
    loglik,
    service_lives,
)

K, LAM = 2.5, 45.0


def pipes(seed: int, n: int, *, records_since: float | None = None, shape: float = K) -> ServiceLives:
    rng = np.random.default_rng(seed)
    inst = rng.uniform(1940, 2020, n)
    renewal = inst + LAM * rng.weibull(shape, n)
    renewal[renewal > 2024] = np.nan
    if records_since is not None:
        keep = np.isnan(renewal) | (renewal > records_since)
        inst, renewal = inst[keep], renewal[keep]
    return ServiceLives.from_arrays(inst, renewal, 2024.0, observed_from=records_since)


@pytest.fixture(scope="module")
def large() -> ServiceLives:
    return pipes(11, 40_000)


def test_recovers_shape_and_scale_with_honest_intervals(large: ServiceLives) -> None:
    r = fit(large)
    assert r.converged and r.n_assets == 40_000 and r.n_renewals + r.n_censored == 40_000
    assert 0.3 < r.n_censored / r.n_assets < 0.8
    lo_k, hi_k = r.conf_int()["shape"]
    lo_l, hi_l = r.conf_int()["scale_years"]
    assert lo_k < K < hi_k and lo_l < LAM < hi_l
    assert abs(r.shape / K - 1) < 0.02 and abs(r.scale / LAM - 1) < 0.01
    med, _, m_lo, m_hi = r.median_life()
    assert m_lo < LAM * math.log(2) ** (1 / K) < m_hi and med == pytest.approx(r.model.median)
    mean, mean_se, mean_lo, mean_hi = r.mean_life()
    assert mean_lo < LAM * math.gamma(1 + 1 / K) < mean_hi and 0 < mean_se < 1
    # the maximum: the log-likelihood is lower a little way off in either parameter
    lives = service_lives(large)
    assert loglik(r.shape, r.scale, lives) == pytest.approx(r.loglik, rel=1e-12)
    for dk, dl in ((1.01, 1), (0.99, 1), (1, 1.01), (1, 0.99)):
        assert loglik(r.shape * dk, r.scale * dl, lives) < r.loglik
    # wear-out lives: the Weibull model beats the constant-rate one by far
    doc = r.as_json()
    assert doc["comparison"]["preferred"] == "weibull" and doc["comparison"]["p_value"] < 1e-10
    assert doc["exponential"]["aic"] > doc["aic"] == pytest.approx(-2 * r.loglik + 4)
    assert set(doc["excluded"]) == set(EXCLUSION_REASONS) == set(doc["exclusion_reasons"])


def test_constant_rate_lives_prefer_the_exponential_model() -> None:
    r = fit(pipes(12, 5_000, shape=1.0))
    assert r.conf_int()["shape"][0] < 1.0 < r.conf_int()["shape"][1]
    assert r.likelihood_ratio()["p_value"] > 0.01
    assert r.exponential.conf_int[0] < LAM < r.exponential.conf_int[1]


def test_left_truncation_removes_the_bias_of_late_records() -> None:
    """A ledger begun in 2000 shows only the old pipes that survived to 2000: ignoring that overstates their life."""
    data = pipes(13, 30_000, records_since=2000.0)
    lives = service_lives(data)
    assert lives.n_truncated > 5_000
    r = fit(data)
    assert r.conf_int()["scale_years"][0] < LAM < r.conf_int()["scale_years"][1]
    naive = fit(ServiceLives.from_arrays(data.install_year, data.renewal_year, 2024.0))
    assert naive.scale > LAM * 1.03 and naive.conf_int()["scale_years"][0] > LAM


def test_whole_fiscal_years_lose_little() -> None:
    raw = pipes(14, 30_000)
    r = fit(ServiceLives.from_arrays(np.floor(raw.install_year), np.floor(raw.renewal_year), 2024.0))
    assert abs(r.shape / K - 1) < 0.03 and abs(r.scale / LAM - 1) < 0.02


def test_exclusions_are_counted_with_their_reason() -> None:
    records = [
        LifeRecord("ok-renewed", 1970, 2010, 2024),
        LifeRecord("ok-in-service", 1980, None, 2024),
        LifeRecord("ok-renewed-later", 1990, 2030, 2024),  # renewed after the records end: in service at 2024
        LifeRecord("unknown", None, 2000, 2024),
        LifeRecord("future", 2025, None, 2024),
        LifeRecord("before", 2000, 1990, 2024),
        LifeRecord("same-year", 2000, 2000, 2024),
        LifeRecord("before-records", 1960, 1995, 2024, observed_from=2000),
        LifeRecord("just-laid", 2024, None, 2024),
        LifeRecord("late-ok", 1960, 2010, 2024, observed_from=2000),
    ]
    data = ServiceLives.from_records(records)
    lives = service_lives(data)
    assert dict(lives.excluded) == {"missing_install_year": 1, "missing_renewal_year": 0, "installed_after_observation": 1,
                                    "renewal_before_install": 1, "renewed_in_install_year": 1,
                                    "renewed_before_records": 1, "no_exposure": 1}
    assert list(lives.asset_id) == ["ok-renewed", "ok-in-service", "ok-renewed-later", "late-ok"]
    np.testing.assert_array_equal(lives.entry, [0, 0, 0, 40])
    np.testing.assert_array_equal(lives.exit, [40, 44, 34, 50])
    np.testing.assert_array_equal(lives.event, [True, False, False, True])
    unknown = ServiceLives.from_arrays(data.install_year, data.renewal_year, data.observed_until,
                                       observed_from=data.observed_from, asset_id=list(data.asset_id),
                                       renewal_unknown=[False, True] + [False] * 8)
    again = service_lives(unknown)
    assert again.excluded["missing_renewal_year"] == 1 and "ok-in-service" not in list(again.asset_id)


def test_errors_say_what_is_missing_in_japanese() -> None:
    with pytest.raises(NotIdentifiable) as no_renewal:
        fit(ServiceLives.from_arrays([1970, 1980, 1990], [np.nan] * 3, 2024))
    assert no_renewal.value.code == "no_renewals" and "更新・撤去の記録が1件もない" in no_renewal.value.message_ja
    with pytest.raises(NotIdentifiable) as nothing:
        fit(ServiceLives.from_arrays([np.nan, np.nan], [2000, 2001], 2024))
    assert nothing.value.code == "no_lives" and "除外の内訳" in nothing.value.message_ja
    with pytest.raises(NotIdentifiable) as same:  # every pipe renewed at exactly 40: no spread, k → ∞
        fit(ServiceLives.from_arrays([1950, 1960, 1970, 1975], [1990, 2000, 2010, 2015], 2024))
    assert same.value.code == "shape_unbounded" and "形状パラメータ" in same.value.message_ja
    with pytest.raises(InvalidLives) as lengths:
        ServiceLives.from_arrays([1970, 1980], [2000], 2024)
    assert "件数が違います" in lengths.value.message_ja and lengths.value.column == "renewal_year"
    with pytest.raises(InvalidLives) as until:
        ServiceLives.from_arrays([1970], [2000], [np.nan])
    assert "観測終了年度が空欄" in until.value.message_ja


def test_survival_and_conditional_renewal() -> None:
    m = WeibullModel(K, LAM)
    assert m.survival(LAM) == pytest.approx(math.exp(-1))
    assert m.survival(m.median) == pytest.approx(0.5) and m.quantile(0.5) == pytest.approx(m.median)
    # P(renewed within h | age a) = 1 − S(a+h)/S(a); from new it is the distribution function
    assert m.renewal_within(0, 30) == pytest.approx(1 - m.survival(30))
    assert m.renewal_within(40, 10) == pytest.approx(1 - m.survival(50) / m.survival(40))
    assert m.renewal_within(40, 10) > m.renewal_within(20, 10)  # wear-out: older pipes go sooner
    # far in the tail S(a) underflows to 0 (S(a+h)/S(a) would be 0/0): the cumulative hazards keep it exact
    assert m.survival(1000.0) == 0.0
    h = float(m.cumulative_hazard(1001.0) - m.cumulative_hazard(1000.0))
    assert float(m.renewal_within(1000, 1)) == pytest.approx(-math.expm1(-h)) and 0.9 < -math.expm1(-h) <= 1
    assert m.hazard(LAM) == pytest.approx(K / LAM)


def test_expected_renewals_per_year() -> None:
    m = WeibullModel(K, LAM)
    ages = np.array([10.0, 40.0, 40.0, 70.0])
    first = expected_renewals(m, ages, 200, renew=False)
    assert first.sum() == pytest.approx(4.0, rel=1e-9)  # every pipe held today is renewed once, eventually
    assert first[0] == pytest.approx(float(m.renewal_within(ages, 1).sum()))
    np.testing.assert_allclose(expected_renewals(m, [40.0], 30, counts=[2.0], renew=False),
                               expected_renewals(m, [40.0, 40.0], 30, renew=False))
    with_renewal = expected_renewals(m, ages, 200)
    assert np.all(with_renewal >= first - 1e-12)
    # the long-run rate of a renewal process is 1/mean life per asset (elementary renewal theorem)
    assert with_renewal[150:].mean() == pytest.approx(4 / m.mean, rel=0.02)
    # a Monte Carlo stock gives the same first-renewal counts
    rng = np.random.default_rng(0)
    n = 200_000
    a = np.full(n, 40.0)
    u = rng.uniform(size=n)  # inverse transform of the conditional life beyond age 40
    life = LAM * ((a / LAM) ** K - np.log(u)) ** (1 / K)
    counts = np.bincount(np.ceil(life - a).astype(int), minlength=12)[1:11] / n
    np.testing.assert_allclose(counts, expected_renewals(m, [40.0], 10, renew=False), atol=0.003)
