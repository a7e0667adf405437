"""Pooling across a group (群): member-specific effects with empirical-Bayes shrinkage.

θ_{i,m} = exp(β_i + u_m),  u_m ~ N(0, σ²)   (m = member of the group, e.g. a municipality)

For a given σ the fit maximises the penalised log-likelihood ℓ(β, u) − Σ u_m²/(2σ²) (the posterior
mode of u); σ is chosen by maximising the Laplace approximation of the marginal likelihood
ℓ(β̂, û) − Σ û²/(2σ²) − M ln σ − ½ Σ ln(h_m + 1/σ²), h_m = −∂²ℓ/∂u_m² (u_m only touches its own
member's pairs, so the u-Hessian is diagonal).  A village with 40 bridges gets a member effect
shrunk towards the group, in proportion to how little its own pairs say.

``compare_pooling`` scores three ways to fit a group by K-fold cross-validation by facility
(held-out log-likelihood): fully pooled (one θ for all), separate (one fit per member) and the
hierarchical fit above.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from gunmane.engine.deterioration.data import PairSet, prepare_pairs
from gunmane.engine.deterioration.errors import DeteriorationError
from gunmane.engine.deterioration.estimation import (
    TransitionData,
    check_identifiable,
    fit,
    loglik_logtheta,
    loglik_pairs,
    start_values,
)
from gunmane.engine.deterioration.model import StateSpace

if TYPE_CHECKING:  # imported in the functions that make frames (#15 §6: a pairs-file fit does without pandas)
    import pandas as pd

__all__ = ["MemberEffect", "PooledFit", "PoolingComparison", "compare_pooling", "fit_pooled"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SIGMA_BOUNDS = (1e-3, 3.0)

POOLING_ASSUMPTIONS = (
    "構成員（市町村など）ごとの違いは全健全性に共通の倍率 exp(u_m) で表し、u_m は平均0・分散σ²の正規分布に従う"
    "（経験ベイズ）。σ は周辺尤度のラプラス近似を最大化して決める。",
    "点検ペアの少ない構成員ほど推定値はグループ全体へ引き寄せられる（縮小推定）。",
)


@dataclass(frozen=True)
class MemberEffect:
    member: str
    n_pairs: int
    effect: float  # û_m (log multiplier of every hazard)
    posterior_sd: float
    hazards: tuple[float, ...]  # exp(β_i + û_m)

    def as_json(self, labels: Sequence[str]) -> dict[str, Any]:
        return {"member": self.member, "n_pairs": self.n_pairs, "effect": self.effect,
                "posterior_sd": self.posterior_sd, "multiplier": math.exp(self.effect),
                "hazards": dict(zip(labels, self.hazards, strict=True))}


@dataclass(frozen=True)
class PooledFit:
    """Group-level hazards with member effects (empirical Bayes)."""

    states: StateSpace
    hazards: tuple[float, ...]  # group-level exp(β_i) (a member with u = 0)
    sigma: float
    members: tuple[MemberEffect, ...]
    loglik: float  # ℓ(β̂, û), unpenalised
    marginal_loglik: float  # Laplace approximation
    n_pairs: int
    excluded: Mapping[str, int]
    assumptions: tuple[str, ...] = POOLING_ASSUMPTIONS

    def member(self, name: str) -> MemberEffect:
        for m in self.members:
            if m.member == name:
                return m
        raise KeyError(name)

    def hazards_of(self, member: str) -> FloatArray:
        """Hazards of a member; a member not in the fit gets the group hazards (u = 0)."""
        try:
            return np.asarray(self.member(member).hazards, dtype=np.float64)
        except KeyError:
            return np.asarray(self.hazards, dtype=np.float64)

    def as_json(self) -> dict[str, Any]:
        labels = self.states.labels[:-1]
        return {"states": self.states.as_json(), "hazards": dict(zip(labels, self.hazards, strict=True)),
                "sigma": self.sigma, "members": [m.as_json(labels) for m in self.members],
                "loglik": self.loglik, "marginal_loglik": self.marginal_loglik, "n_pairs": self.n_pairs,
                "excluded": dict(self.excluded), "assumptions": list(self.assumptions)}


def _prepare(pairs: pd.DataFrame | PairSet, states: StateSpace, member_column: str
             ) -> tuple[pd.DataFrame, dict[str, int], TransitionData, IntArray, list[str]]:
    import pandas as pd

    frame, excluded = prepare_pairs(pairs, states, member_column=member_column)
    before = states.to_state(frame["before"].to_numpy()) - 1
    after = states.to_state(frame["after"].to_numpy()) - 1
    check_identifiable(before, after, states)
    codes, names = pd.factorize(frame["member"], sort=True)
    perm = TransitionData.order(before, after, states.n)
    data = TransitionData.build(before[perm], after[perm], frame["interval_years"].to_numpy(dtype=float)[perm],
                       np.ones(len(frame)), states.n)
    return frame, excluded, data, codes[perm].astype(np.int64), [str(n) for n in names]


def _penalised_fit(data: TransitionData, member: IntArray, n_members: int, sigma: float, x0: FloatArray
                   ) -> tuple[FloatArray, float, FloatArray]:
    """Mode of ℓ(β, u) − Σu²/(2σ²); returns params, ℓ at the mode (unpenalised), h_m = −∂²ℓ/∂u_m²."""
    n_h = data.n_states - 1

    def parts(v: FloatArray) -> tuple[float, FloatArray]:
        beta, u = v[:n_h], v[n_h:]
        lt = beta[None, :] + u[member][:, None]
        ll, g = loglik_logtheta(lt, data)
        gb = g.sum(axis=0)
        gu = np.bincount(member, weights=g.sum(axis=1), minlength=n_members)
        return ll, np.concatenate([gb, gu])

    def neg(v: FloatArray) -> tuple[float, FloatArray]:
        ll, g = parts(v)
        u = v[n_h:]
        pen = ll - float(u @ u) / (2 * sigma**2)
        g = g.copy()
        g[n_h:] -= u / sigma**2
        return -pen / data.w.sum(), -g / data.w.sum()

    from scipy import optimize  # here, not at the top: a plain fit needs no scipy (see estimation._maximise)

    res = optimize.minimize(neg, x0, jac=True, method="L-BFGS-B",
                            bounds=[(-25.0, 8.0)] * n_h + [(-10.0, 10.0)] * n_members,
                            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8})
    v = np.asarray(res.x, dtype=np.float64)
    ll, _ = parts(v)
    step = 1e-4  # u-Hessian is diagonal: perturb all u at once
    up, dn = v.copy(), v.copy()
    up[n_h:] += step
    dn[n_h:] -= step
    h = -(parts(up)[1][n_h:] - parts(dn)[1][n_h:]) / (2 * step)
    return v, ll, np.maximum(h, 0.0)


def fit_pooled(pairs: pd.DataFrame | PairSet, *, member_column: str = "member",
               states: StateSpace | None = None, sigma: float | None = None) -> PooledFit:
    """Group fit with a shrunken effect per member (``member_column``: e.g. lg_code).

    ``sigma`` fixes σ; None estimates it (empirical Bayes).  Without covariates (the issue's group
    comparison); covariates stay with ``fit``.
    """
    states = states or StateSpace.grades()
    frame, excluded, data, member, names = _prepare(pairs, states, member_column)
    n_h, n_m = states.n - 1, len(names)
    x0 = np.concatenate([start_values(data, n_h), np.zeros(n_m)])
    cache: dict[float, tuple[FloatArray, float, FloatArray]] = {}

    def solve(s: float) -> tuple[FloatArray, float, FloatArray]:
        if s not in cache:
            start = min(cache.items(), key=lambda kv: abs(math.log(kv[0] / s)))[1][0] if cache else x0
            cache[s] = _penalised_fit(data, member, n_m, s, start)
        return cache[s]

    def neg_marginal(log_s: float) -> float:
        s = math.exp(log_s)
        v, ll, h = solve(s)
        u = v[n_h:]
        return -(ll - float(u @ u) / (2 * s**2) - n_m * math.log(s) - 0.5 * float(np.log(h + 1 / s**2).sum()))

    if sigma is None:
        if n_m < 2:
            sigma_hat = SIGMA_BOUNDS[0]
        else:
            from scipy import optimize

            r = optimize.minimize_scalar(neg_marginal, bounds=tuple(math.log(b) for b in SIGMA_BOUNDS),
                                         method="bounded", options={"xatol": 1e-2})
            sigma_hat = math.exp(float(r.x))
    else:
        sigma_hat = sigma
    v, ll, h = solve(sigma_hat)
    beta, u = v[:n_h], v[n_h:]
    counts = np.bincount(member, minlength=n_m)
    members = tuple(
        MemberEffect(names[m], int(counts[m]), float(u[m]), float(1 / math.sqrt(h[m] + 1 / sigma_hat**2)),
                     tuple(float(t) for t in np.exp(beta + u[m])))
        for m in range(n_m))
    return PooledFit(states, tuple(float(t) for t in np.exp(beta)), sigma_hat, members, ll,
                     -neg_marginal(math.log(sigma_hat)), len(frame), excluded)


# --------------------------------------------------------------------------- cross-validation


@dataclass(frozen=True)
class PoolingComparison:
    """Held-out log-likelihood (sum over K folds, by facility) of pooled, separate and hierarchical fits."""

    cv_loglik: Mapping[str, float | None]  # None: some member's separate fit was not identifiable
    per_fold: Mapping[str, tuple[float | None, ...]]
    best: str
    n_folds: int
    n_pairs: int
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {"cv_loglik": dict(self.cv_loglik), "per_fold": {k: list(v) for k, v in self.per_fold.items()},
                "best": self.best, "n_folds": self.n_folds, "n_pairs": self.n_pairs, "notes": list(self.notes)}


def _heldout(theta: FloatArray, test: pd.DataFrame, states: StateSpace) -> float:
    b = states.to_state(test["before"].to_numpy()) - 1
    a = states.to_state(test["after"].to_numpy()) - 1
    return float(loglik_pairs(theta, b, a, test["interval_years"].to_numpy(dtype=float)).sum())


def compare_pooling(pairs: pd.DataFrame | PairSet, *, member_column: str = "member", k: int = 5,
                    seed: int = 0, states: StateSpace | None = None,
                    progress: Callable[[int, int], None] | None = None) -> PoolingComparison:
    """K-fold cross-validation by facility of the pooled, separate and hierarchical (EB) fits.

    Facilities (not pairs) are assigned to folds, so a facility's pairs are never both trained on and
    scored.  A separate fit that is not identifiable for a member in a fold (too few pairs — the case
    pooling is for) cannot score that member's held-out pairs: its CV log-likelihood is reported as
    None (−∞) with a note naming member, fold and reason.  ``progress(done, k)`` is called after each fold
    (the web page shows it while the first view computes).
    """
    states = states or StateSpace.grades()
    frame, _ = prepare_pairs(pairs, states, member_column=member_column)
    facilities = frame["facility_id"].unique()
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(rng.permutation(facilities), np.arange(len(facilities)) % k, strict=True))
    fold = frame["facility_id"].map(fold_of).to_numpy()
    scores: dict[str, list[float | None]] = {"pooled": [], "separate": [], "hierarchical": []}
    notes: list[str] = []
    for f in range(k):
        train, test = frame[fold != f], frame[fold == f]
        if test.empty:
            for key in scores:
                scores[key].append(0.0)
            continue
        pooled = fit(train[["facility_id", "before", "after", "interval_years"]], states=states)
        scores["pooled"].append(_heldout(pooled.theta, test, states))
        hier = fit_pooled(train, member_column="member", states=states)
        scores["hierarchical"].append(sum(_heldout(hier.hazards_of(str(m)), g, states)
                                          for m, g in test.groupby("member")))
        total: float | None = 0.0
        for m, g in test.groupby("member"):
            try:
                own = fit(train.loc[train["member"] == m, ["facility_id", "before", "after", "interval_years"]],
                          states=states)
                if total is not None:
                    total += _heldout(own.theta, g, states)
            except DeteriorationError as exc:
                notes.append(f"{f + 1} 番目の分割：構成員 {m} の個別推定ができません — {exc.message_ja}")
                total = None
        scores["separate"].append(total)
        if progress is not None:
            progress(f + 1, k)
    cv: dict[str, float | None] = {key: (None if any(v is None for v in vals) else float(sum(v for v in vals
                                                                                             if v is not None)))
                                   for key, vals in scores.items()}
    best = max((key for key in cv if cv[key] is not None), key=lambda key: cv[key] or -math.inf)
    return PoolingComparison(cv, {key: tuple(v) for key, v in scores.items()}, best, k, len(frame), tuple(notes))


