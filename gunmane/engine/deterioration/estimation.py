"""Maximum-likelihood estimation of the Markov hazard model from inspection pairs.

ln L(β) = Σ_k w_k ln π_{i_k j_k}(z_k; θ(x_k)),  θ_i(x) = exp(x·β_i)   (津田ら 2005, eq. of §B2)

The gradient is analytic: with x_m = −θ_m z the points of the divided difference,
∂ln π_ij/∂ln θ_m = [m < j] − θ_m z · exp[x_i…x_j, x_m] / exp[x_i…x_j]; the chain rule gives the
gradient in β.  Newton's method on standardised covariates with the Hessian from central differences of
the analytic per-pair gradient (see _maximise); the observed information gives standard
errors and Wald intervals (on the log scale for hazards, so they stay positive).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from gunmane.engine.deterioration.data import PairColumns, PairSet, prepare_columns
from gunmane.engine.deterioration.errors import NotIdentifiable
from gunmane.engine.deterioration.model import (
    REPAIR_TRIGGER,
    MarkovHazardModel,
    StateSpace,
    dd2_exp_with_grad,
    dd_exp_with_grad,
    expected_sojourn,
    expected_years_from_new,
    repair_probability,
    transition_matrix,
)

if TYPE_CHECKING:  # pandas only where a frame is made or given (a pairs-file fit does without it, #15 §6)
    import pandas as pd

__all__ = ["FitResult", "fit", "loglik_pairs"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

LOG_THETA_BOUNDS = (-25.0, 8.0)  # θ between 1.4e-11 and 3,000 per year
SLOPE_BOUND = 30.0  # per standard deviation of a covariate
WARM_START_PAIRS = 100_000

ASSUMPTIONS = (
    "多段階指数マルコフ劣化ハザードモデル（津田・貝戸・青木・小林 2005）：劣化は1段階ずつ進み、"
    "各健全性での滞在時間は指数分布。推移確率は任意の点検間隔に閉形式で対応。",
    "点検ペアは互いに独立（同じ施設の連続ペアは時間一様マルコフ過程のもとで尤度が積になる）。",
    "措置が間にあるペア・健全性が改善したペアは除外し、除外した件数を示す。",
    "信頼区間はワルド型（ハザードは対数尺度）で、観測情報行列（解析的勾配の中心差分によるヘッセ行列）から計算。",
)


# --------------------------------------------------------------------------- core likelihood


@dataclass(frozen=True)
class TransitionData:
    """Pairs as arrays (0-based states), grouped by (before, after) so each group shares its formula."""

    before: IntArray
    after: IntArray
    z: FloatArray
    w: FloatArray
    n_states: int
    groups: tuple[tuple[int, int, IntArray], ...]

    @property
    def unit_weights(self) -> bool:
        return bool(self.w.size == 0 or (self.w.min() == 1.0 and self.w.max() == 1.0))

    @classmethod
    def build(cls, before: IntArray, after: IntArray, z: FloatArray, w: FloatArray, n_states: int) -> TransitionData:
        """Arrays as given (groups are index arrays)."""
        code = before * n_states + after
        order = np.argsort(code, kind="stable")
        sorted_code = code[order]
        cuts = np.flatnonzero(np.diff(sorted_code)) + 1
        groups = []
        for rows in np.split(order, cuts):
            if rows.size:
                c = int(code[rows[0]])
                groups.append((c // n_states, c % n_states, rows.astype(np.int64)))
        return cls(before, after, z, w, n_states, tuple(groups))

    @staticmethod
    def order(before: IntArray, after: IntArray, n_states: int) -> IntArray:
        """The permutation that makes every (before, after) group a contiguous slice."""
        return np.argsort(before * n_states + after, kind="stable").astype(np.int64)

    def slices(self) -> tuple[tuple[int, int, slice], ...]:
        """Groups as slices when the arrays are sorted by (before, after) (see ``order``)."""
        out = []
        for i, j, rows in self.groups:
            lo, hi = int(rows.min()), int(rows.max()) + 1
            out.append((i, j, slice(lo, hi) if hi - lo == rows.size else rows))
        return tuple(out)  # type: ignore[arg-type]


def _group_terms(theta: FloatArray, i: int, j: int, z: FloatArray, n_h: int,
                 want_grad: bool = True) -> tuple[FloatArray, FloatArray | None]:
    """ln π_ij(z) for rows of θ (n, J−1) and ∂/∂ln θ_m for m = i … min(j, J−2) (columns of the 2nd output)."""
    if i == n_h:  # worst grade → worst grade: probability 1, no parameter
        return np.zeros(z.size), np.zeros((z.size, 0)) if want_grad else None
    if i == j:
        t = theta[:, i] * z
        return -t, (-t)[:, None] if want_grad else None
    k = j - i + 1
    top = min(j + 1, n_h)
    x = np.empty((z.size, k))
    np.multiply(theta[:, i:top], -z[:, None], out=x[:, :top - i])
    if j == n_h:
        x[:, k - 1] = 0.0
    shift = x[:, 0].copy()
    for c in range(1, k):
        np.maximum(shift, x[:, c], out=shift)
    x -= shift[:, None]
    if k == 2:
        d, g0, g1 = dd2_exp_with_grad(x[:, 0], x[:, 1])
        dd = np.column_stack([g0, g1])
    else:
        d, dd = dd_exp_with_grad(x)
    with np.errstate(divide="ignore"):
        pre = theta[:, i] * z
        for c in range(i + 1, j):
            pre *= theta[:, c] * z
        lp = np.log(pre) + shift + np.log(d)
    if not want_grad:
        return lp, None
    g = np.empty((z.size, top - i))
    for m in range(i, top):
        # ∂ln π/∂ln θ_m = [m < j] − θ_m z · exp[…, x_m]/exp[…]; −θ_m z = x_m + shift
        g[:, m - i] = (1.0 if m < j else 0.0) + (x[:, m - i] + shift) * dd[:, m - i] / d
    return lp, g


def loglik_logtheta(lt: FloatArray, data: TransitionData, want_grad: bool = True) -> tuple[float, FloatArray]:
    """Σ w ln π and its gradient with respect to ln θ of every pair (N, J−1)."""
    n_h = data.n_states - 1
    theta = np.exp(lt)
    grad = np.zeros_like(lt)
    ll = 0.0
    for i, j, rows in data.slices():
        w = data.w[rows]
        lp, g = _group_terms(theta[rows], i, j, data.z[rows], n_h, want_grad)
        ll += float(w @ lp)
        if g is not None:
            grad[rows, i:i + g.shape[1]] = g if data.unit_weights else g * w[:, None]
    return ll, grad


def _pair_hessian(lt: FloatArray, data: TransitionData) -> FloatArray:
    """Per-pair Hessian of w ln π with respect to ln θ (N, J−1, J−1): central differences of the analytic
    per-pair gradient, all pairs at once (each pair's term depends on its own θ only)."""
    n_h = lt.shape[1]
    out = np.empty((lt.shape[0], n_h, n_h))
    step = 1e-4
    for m in range(n_h):
        up = lt.copy()
        dn = lt.copy()
        up[:, m] += step
        dn[:, m] -= step
        out[:, :, m] = (loglik_logtheta(up, data)[1] - loglik_logtheta(dn, data)[1]) / (2 * step)
    return (out + out.transpose(0, 2, 1)) / 2


def _design_hessian(pair_h: FloatArray, x: FloatArray) -> FloatArray:
    """Hessian in β (hazard-major, then covariate) from per-pair Hessians in ln θ and the design x."""
    n_h, p1 = pair_h.shape[1], x.shape[1]
    h = np.empty((n_h * p1, n_h * p1))
    for a in range(n_h):
        for b in range(a, n_h):
            blk = x.T @ (pair_h[:, a, b][:, None] * x)
            h[a * p1:(a + 1) * p1, b * p1:(b + 1) * p1] = blk
            h[b * p1:(b + 1) * p1, a * p1:(a + 1) * p1] = blk.T
    return h


def loglik_pairs(theta: FloatArray, before: IntArray, after: IntArray, z: FloatArray) -> FloatArray:
    """ln π_{before, after}(z; θ) per pair (0-based states); θ (J−1,) shared or (N, J−1) per pair."""
    th = np.asarray(theta, dtype=np.float64)
    b = np.asarray(before, dtype=np.int64)
    a = np.asarray(after, dtype=np.int64)
    zz = np.asarray(z, dtype=np.float64)
    n_states = th.shape[-1] + 1
    full = np.broadcast_to(th, (b.size, n_states - 1))
    out = np.empty(b.size)
    for i, j, rows in TransitionData.build(b, a, zz, np.ones(b.size), n_states).groups:
        out[rows] = _group_terms(full[rows], i, j, zz[rows], n_states - 1, want_grad=False)[0]
    return out


# --------------------------------------------------------------------------- optimisation


@dataclass
class _Optimum:
    x: FloatArray
    value: float  # the maximised objective (log-likelihood or penalised)
    hessian: FloatArray  # of the objective (negative definite at a maximum)
    converged: bool
    iterations: int
    evaluations: int
    message: str


def _z(confidence: float) -> float:
    """The two-sided normal quantile of a confidence level (1.959963984540054 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _newton_step(hess: FloatArray, g: FloatArray) -> FloatArray:
    """The Newton step of a maximisation, −H⁻¹ g; where −H is not positive definite (far from the maximum, or
    along a flat direction) its eigenvalues are lifted (Levenberg–Marquardt) so that the step still ascends."""
    w, v = np.linalg.eigh(-hess)
    top = max(float(np.max(np.abs(w))), 1e-300)
    if float(w.min()) <= 1e-12 * top:
        w = w + (max(-float(w.min()), 0.0) + 1e-3 * top)
    step: FloatArray = v @ ((v.T @ g) / w)
    return step


def _maximise(fun: Callable[[FloatArray], tuple[float, FloatArray]], x0: FloatArray,
              bounds: Sequence[tuple[float, float]], hessian: Callable[[FloatArray], FloatArray], *,
              first_hessian: Callable[[FloatArray], FloatArray] | None = None, max_iter: int = 200) -> _Optimum:
    """Maximise fun (value, gradient) by Newton's method with the Hessian ``hessian``: a backtracking line
    search (Armijo) on each step, the step damped where −H is not positive definite, and the iterate kept
    inside ``bounds`` (a parameter pushing out of its bound is held there; one the data do not pin down runs to
    its bound, which the caller reports as not identifiable). The Hessian is kept while the steps shrink fast
    (it costs several gradients); ``first_hessian``, if given, is a cheaper approximation for the first steps
    (the Hessian of a subsample, scaled). The returned Hessian is the exact one at the maximum.

    Plain numpy on purpose: the likelihood's analytic Hessian makes Newton converge in a handful of steps, and
    scipy.optimize's import alone takes longer than fitting thousands of pairs (`gunmane deterioration fit`
    starts in well under a second; docs/benchmarks.md).
    """
    lo = np.array([b[0] for b in bounds], dtype=np.float64)
    hi = np.array([b[1] for b in bounds], dtype=np.float64)
    x = np.clip(np.asarray(x0, dtype=np.float64), lo, hi)
    value, g = fun(x)
    evals = 1
    hess = (first_hessian or hessian)(x)
    hess_at: FloatArray | None = None if first_hessian else x  # where the exact Hessian was taken (None: not yet)
    converged = False
    message = "iteration limit reached"
    it = 0
    last = math.inf
    while it < max_iter:
        it += 1
        held = ((x <= lo) & (g < 0)) | ((x >= hi) & (g > 0))
        step = np.zeros_like(x)
        if (~held).any():
            step[~held] = _newton_step(hess[np.ix_(~held, ~held)], g[~held])
        size = float(np.max(np.abs(step))) if step.size else 0.0
        if not math.isfinite(size):
            message = "non-finite Newton step"
            break
        if size < 1e-10:
            converged, message = True, "converged: Newton step below 1e-10"
            break
        if size > 0.25 * last and hess_at is not x:  # the kept Hessian no longer gives fast steps: renew it
            hess, hess_at = hessian(x), x
            continue
        slope = float(g @ step)  # > 0: an ascent direction
        t = 1.0
        accepted = False
        while t > 1e-10:
            cand = np.clip(x + t * step, lo, hi)
            with np.errstate(over="ignore", invalid="ignore"):  # a trial point too far out is rejected below
                v2, g2 = fun(cand)
            evals += 1
            if math.isfinite(v2) and (v2 >= value + 1e-4 * t * slope
                                      or (size < 1e-6 and v2 >= value - 1e-12 * abs(value))):
                accepted = True
                break
            t /= 2
        if not accepted:  # no measurable ascent left: at the maximum to rounding when the step is tiny
            if hess_at is not x:
                hess, hess_at = hessian(x), x
                continue
            converged = size < 1e-6
            message = "converged: no further ascent" if converged else "line search failed"
            break
        moved = float(np.max(np.abs(cand - x)))
        x, value, g = cand, float(v2), g2
        last = moved
        if t < 1.0:
            hess, hess_at = hessian(x), x
        if moved < 1e-10:
            converged, message = True, "converged: step below 1e-10"
            break
    if hess_at is None or float(np.max(np.abs(x - hess_at), initial=0.0)) > 1e-8:  # the information at the maximum
        hess = hessian(x)
    return _Optimum(x, float(value), hess, converged, it, evals, message)


# --------------------------------------------------------------------------- identifiability


def _label(states: StateSpace, i: int) -> str:
    return states.labels[i]


#: grade labels in the words of the messages (Ⅰ–Ⅳ; other scales as they are)
LABELS_JA = {"I": "Ⅰ", "II": "Ⅱ", "III": "Ⅲ", "IV": "Ⅳ", "III+IV": "Ⅲ・Ⅳ"}


def _label_ja(states: StateSpace, i: int) -> str:
    return LABELS_JA.get(states.labels[i], states.labels[i])


def check_identifiable(before: IntArray, after: IntArray, states: StateSpace,
                       cov: FloatArray | None = None, names: Sequence[str] = ()) -> None:
    """Raise NotIdentifiable naming the grade (and covariate) that the pairs cannot identify.

    before/after are 0-based states.  θ_i needs pairs that start in grade i and at least one pair
    that leaves grade i (before ≤ i < after); a covariate needs variation among the pairs that
    spent time in grade i.
    """
    n_h = states.n - 1
    if before.size == 0:
        raise NotIdentifiable("no_pairs", "推定に使える点検ペアが1件もありません。",
                              "No inspection pairs to estimate from.")
    for i in range(n_h):
        lab = _label(states, i)
        ja = _label_ja(states, i)
        if not np.any(before == i):
            raise NotIdentifiable(
                "no_pairs_from_grade",
                f"健全性{ja}から始まる点検ペアが1件もないため、{ja}の劣化ハザード（{ja}に留まる年数）を"
                "推定できません。該当する点検記録を加えるか、状態を統合してください（例: Ⅳ をⅢに統合）。",
                f"No pair starts in grade {lab}: hazard θ_{lab} cannot be identified.", grade=lab)
        if not np.any((before <= i) & (after > i)):
            raise NotIdentifiable(
                "no_transitions_out",
                f"健全性{ja}から次の段階へ進んだ点検ペアが1件もないため、{ja}の劣化ハザードは0と区別できず推定できません"
                f"（{ja}の平均滞在年数が無限大になります）。観測期間の長いデータを加えるか、状態を統合してください（例: Ⅳ をⅢにまとめる）。",
                f"No pair leaves grade {lab}: θ_{lab} is not identifiable (MLE at 0).", grade=lab)
        if cov is not None:
            exposed = (before <= i) & (after >= i)
            for k, name in enumerate(names):
                col = cov[exposed, k]
                if col.size < 2 or float(np.ptp(col)) == 0.0:
                    raise NotIdentifiable(
                        "covariate_constant",
                        f"健全性{ja}を経たペアで共変量「{name}」の値がすべて同じため、{ja}に対する"
                        f"「{name}」の効果を推定できません。この共変量を外してください。",
                        f"Covariate {name!r} is constant among the pairs through grade {lab}.",
                        grade=lab, column=name)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class FitResult:
    """An estimated Markov hazard model with its uncertainty and provenance.

    hazards / std_errors / conf_int are θ_i at the reference covariate values (``reference``: the
    sample means; without covariates simply θ_i).  ``coef`` holds the log-linear coefficients on
    the original covariate scale: one row per hazard, columns ["(intercept)", *covariates];
    ``coef_cov`` their covariance (row-major by hazard).
    """

    states: StateSpace
    hazards: tuple[float, ...]
    std_errors: tuple[float, ...]
    conf_int: tuple[tuple[float, float], ...]
    confidence: float
    log_hazard_cov: FloatArray  # covariance of ln θ at the reference (J−1 × J−1)
    covariates: tuple[str, ...]
    reference: Mapping[str, float]
    coef: FloatArray
    coef_cov: FloatArray
    loglik: float
    n_parameters: int
    n_pairs: int
    n_facilities: int
    excluded: Mapping[str, int]
    transitions: FloatArray  # observed before → after counts (J × J)
    converged: bool
    iterations: int
    evaluations: int
    source: str = ""
    assumptions: tuple[str, ...] = ASSUMPTIONS

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.n_parameters

    @property
    def theta(self) -> FloatArray:
        return np.asarray(self.hazards, dtype=np.float64)

    @property
    def model(self) -> MarkovHazardModel:
        """The fitted model at the reference covariates (for derived quantities)."""
        return MarkovHazardModel(self.states, self.hazards, source=self.source or "maximum likelihood",
                                 assumptions=self.assumptions)

    def hazards_for(self, covariates: pd.DataFrame | FloatArray) -> FloatArray:
        """θ (N, J−1) for covariate rows (a frame with the covariate columns, or an (N, p) array)."""
        if hasattr(covariates, "columns"):  # a frame (not isinstance pd.DataFrame: that would import pandas)
            x = cast("pd.DataFrame", covariates)[list(self.covariates)].to_numpy(dtype=float)
        else:
            x = np.asarray(covariates, dtype=np.float64).reshape(-1, len(self.covariates))
        design = np.column_stack([np.ones(x.shape[0]), x])
        return np.asarray(np.exp(design @ self.coef.T), dtype=np.float64)

    def one_year_matrix(self) -> FloatArray:
        return transition_matrix(self.theta, 1.0)

    def repair_probability(self, trigger: int = REPAIR_TRIGGER) -> dict[str, Any]:
        """The long-run yearly probability of reaching the trigger grade under repair-to-Ⅰ (see
        :func:`repair_probability`), with its stationary distribution and a delta-method interval on ln r
        (gradient in ln θ by central differences)."""
        k = min(trigger, len(self.hazards))
        r, pi = repair_probability(self.theta, k)
        q = _z(self.confidence)
        ln_th = np.log(self.theta)
        grad = np.zeros(ln_th.size)
        h = 1e-5
        for m in range(k):  # r depends on the hazards below the trigger only
            up, dn = ln_th.copy(), ln_th.copy()
            up[m] += h
            dn[m] -= h
            grad[m] = (math.log(repair_probability(np.exp(up), k)[0]) - math.log(repair_probability(np.exp(dn), k)[0])) / (2 * h)
        se_ln = math.sqrt(max(float(grad @ self.log_hazard_cov @ grad), 0.0))
        labels = self.states.labels
        return {"trigger": labels[k], "per_year": r, "ci": [r * math.exp(-q * se_ln), r * math.exp(q * se_ln)],
                "mean_years_between": 1.0 / r if r > 0 else None,
                "stationary": dict(zip(labels[:k], pi.tolist(), strict=True))}

    def expected_years(self) -> pd.DataFrame:
        """Expected years in each grade and from new to each grade, with delta-method std errors and CIs."""
        import pandas as pd

        q = _z(self.confidence)
        inv = expected_sojourn(self.theta)
        cov = self.log_hazard_cov
        rows = []
        for i, lab in enumerate(self.states.labels[:-1]):
            se = inv[i] * math.sqrt(max(cov[i, i], 0.0))
            rows.append({"kind": "sojourn", "grade": lab, "years": inv[i], "std_error": se,
                         "ci_low": inv[i] * math.exp(-q * se / inv[i]), "ci_high": inv[i] * math.exp(q * se / inv[i])})
        for j, lab in enumerate(self.states.labels[1:], start=1):
            gvec = np.zeros(len(inv))
            gvec[:j] = -inv[:j]
            val = float(inv[:j].sum())
            se = math.sqrt(max(float(gvec @ cov @ gvec), 0.0))
            rows.append({"kind": "from_new", "grade": lab, "years": val, "std_error": se,
                         "ci_low": val * math.exp(-q * se / val), "ci_high": val * math.exp(q * se / val)})
        return pd.DataFrame(rows)

    def as_json(self) -> dict[str, Any]:
        """The CLI contract: states, hazards, std_errors, expected_years, one_year_matrix, loglik, aic,
        n_pairs, excluded — plus confidence_intervals and covariates (null without covariates)."""
        labels = self.states.labels[:-1]
        covs: dict[str, Any] | None = None
        if self.covariates:
            names = ["(intercept)", *self.covariates]
            se = np.sqrt(np.clip(np.diag(self.coef_cov), 0, None)).reshape(self.coef.shape)
            covs = {
                "names": list(self.covariates),
                "reference": dict(self.reference),
                "coefficients": {lab: dict(zip(names, self.coef[i].tolist(), strict=True))
                                 for i, lab in enumerate(labels)},
                "std_errors": {lab: dict(zip(names, se[i].tolist(), strict=True)) for i, lab in enumerate(labels)},
            }
        return {
            "states": self.states.as_json(),
            "hazards": dict(zip(labels, self.hazards, strict=True)),
            "std_errors": dict(zip(labels, self.std_errors, strict=True)),
            "expected_years": {
                "sojourn": dict(zip(labels, expected_sojourn(self.theta).tolist(), strict=True)),
                "from_new": dict(zip(self.states.labels[1:], expected_years_from_new(self.theta).tolist(),
                                     strict=True)),
            },
            "one_year_matrix": self.one_year_matrix().tolist(),
            "loglik": self.loglik,
            "aic": self.aic,
            "n_pairs": self.n_pairs,
            "excluded": dict(self.excluded),
            "confidence_intervals": {"level": self.confidence,
                                     **{lab: list(ci) for lab, ci in zip(labels, self.conf_int, strict=True)}},
            "covariates": covs,
            "repair_probability": self.repair_probability(),
        }


# --------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class _Design:
    data: TransitionData
    x: FloatArray  # (N, p+1) standardised with intercept column
    mean: FloatArray
    sd: FloatArray
    states: StateSpace
    facility_ids: NDArray[Any] = field(repr=False)


def _first_seen_groups(before: IntArray, after: IntArray, z: FloatArray) -> tuple[IntArray, IntArray, FloatArray,
                                                                                    FloatArray]:
    """Distinct (before, after, z) with their counts, in order of first appearance (as pandas' groupby(sort=False),
    so that sums run in the same order as before this was numpy)."""
    # one integer per (before, after, z): z by its rank among the distinct intervals (exact equality, as before);
    # unique over integers is a plain sort (rows of floats made unique along an axis were a fifth of the fit)
    _, z_code = np.unique(z, return_inverse=True)
    span = int(max(before.max(initial=0), after.max(initial=0))) + 1
    key = (z_code.astype(np.int64) * span + before.astype(np.int64)) * span + after.astype(np.int64)
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    rows = first[order]
    return before[rows].astype(np.int64), after[rows].astype(np.int64), z[rows].astype(float), \
        counts[order].astype(float)


def _design(frame: PairColumns, states: StateSpace, covariates: Sequence[str]) -> _Design:
    before = states.to_state(frame["before"]) - 1
    after = states.to_state(frame["after"]) - 1
    z = np.asarray(frame["interval_years"], dtype=float)
    cov = np.column_stack([np.asarray(frame[c], dtype=float) for c in covariates]) if covariates \
        else np.zeros((len(frame), 0))
    check_identifiable(before, after, states, cov if covariates else None, covariates)
    mean = cov.mean(axis=0) if covariates else np.zeros(0)
    sd = cov.std(axis=0) if covariates else np.zeros(0)
    w = np.ones(len(frame))
    if not covariates:  # identical (before, after, z) share one term
        before, after, z, w = _first_seen_groups(np.asarray(before), np.asarray(after), z)
        cov = np.zeros((len(before), 0))
    xs = (cov - mean) / sd if covariates else cov
    perm = TransitionData.order(before.astype(np.int64), after.astype(np.int64), states.n)
    x = np.ascontiguousarray(np.column_stack([np.ones(len(before)), xs])[perm])
    data = TransitionData.build(before[perm].astype(np.int64), after[perm].astype(np.int64), z[perm], w[perm], states.n)
    return _Design(data, x, mean, sd, states, frame["facility_id"])


def start_values(data: TransitionData, n_h: int) -> FloatArray:
    """Occupancy-type starting values: θ_i ≈ (pairs leaving i + ½) / (years observed from i)."""
    out = np.empty(n_h)
    for i in range(n_h):
        start = data.before == i
        leave = float(data.w[start & (data.after > i)].sum()) + 0.5
        years = float((data.w[start] * data.z[start]).sum()) or 1.0
        out[i] = math.log(leave / years)
    return out


def fit(
    pairs: pd.DataFrame | PairSet | PairColumns,
    *,
    states: StateSpace | None = None,
    covariates: Sequence[str] = (),
    confidence: float = 0.95,
) -> FitResult:
    """Fit θ_i = exp(x·β_i) by maximum likelihood from inspection pairs.

    pairs: a pairs frame (facility_id, before, after, interval_years, covariates…; grades as recorded,
    1-based) or a PairSet (its exclusion counts are carried over).  Improved pairs, zero intervals and
    missing covariates are excluded and counted.  Raises NotIdentifiable (with the grade) or InvalidPairs.
    """
    states = states or StateSpace.grades()
    covariates = tuple(covariates)
    frame, excluded = prepare_columns(pairs, states, covariates)
    design = _design(frame, states, covariates)
    data, x = design.data, design.x
    n_h, p1 = states.n - 1, x.shape[1]

    def fun(v: FloatArray) -> tuple[float, FloatArray]:
        b = v.reshape(n_h, p1)
        ll, g = loglik_logtheta(x @ b.T, data)
        return ll, (g.T @ x).reshape(-1)

    b0 = np.zeros((n_h, p1))
    b0[:, 0] = start_values(data, n_h)
    if len(frame) > 2 * WARM_START_PAIRS:  # warm start from a fit on a random subsample (deterministic)
        sub = frame.to_frame().sample(WARM_START_PAIRS, random_state=0)
        try:
            warm = fit(sub, states=states, covariates=covariates)
            b0 = np.column_stack([np.log(warm.theta), warm.coef[:, 1:] * design.sd[None, :]]) if covariates \
                else np.log(warm.theta)[:, None]
        except NotIdentifiable:
            pass
    bounds = [LOG_THETA_BOUNDS if k % p1 == 0 else (-SLOPE_BOUND, SLOPE_BOUND) for k in range(n_h * p1)]
    def hess(v: FloatArray) -> FloatArray:
        return _design_hessian(_pair_hessian(x @ v.reshape(n_h, p1).T, data), x)

    hess0 = None
    if data.before.size > 2 * WARM_START_PAIRS:  # the first steps with the Hessian of a subsample, scaled
        rows = np.sort(np.random.default_rng(0).choice(data.before.size, WARM_START_PAIRS, replace=False))
        sub_data = TransitionData.build(data.before[rows], data.after[rows], data.z[rows], data.w[rows], states.n)
        x_sub, ratio = x[rows], float(data.w.sum() / sub_data.w.sum())

        def hess0(v: FloatArray) -> FloatArray:
            return ratio * _design_hessian(_pair_hessian(x_sub @ v.reshape(n_h, p1).T, sub_data), x_sub)

    opt = _maximise(fun, b0.reshape(-1), bounds, hess, first_hessian=hess0)
    at_bound = [k for k, (lo, hi) in enumerate(bounds) if min(opt.x[k] - lo, hi - opt.x[k]) < 1e-6]
    info = -opt.hessian
    try:
        eig = np.linalg.eigvalsh(info)
        singular = bool(eig.min() <= 1e-10 * max(eig.max(), 1e-300))
    except np.linalg.LinAlgError:
        singular = True
    if at_bound or singular:
        k = at_bound[0] if at_bound else int(np.argmin(np.abs(np.diag(info))))
        lab = states.labels[k // p1]
        what = "ハザード" if k % p1 == 0 else f"共変量「{covariates[k % p1 - 1]}」の係数"
        raise NotIdentifiable(
            "not_identifiable",
            f"健全性 {lab} の{what}がデータから定まりません（尤度が平坦、または推定値が発散）。"
            "データを加えるか、共変量を減らすか、状態を統合してください。",
            f"The data do not identify the {'hazard' if k % p1 == 0 else 'coefficient'} of grade {lab}.",
            grade=lab, column=None if k % p1 == 0 else covariates[k % p1 - 1])
    cov_std = np.linalg.inv(info)
    b_std = opt.x.reshape(n_h, p1)
    # back to the original covariate scale: β_orig = T β_std (per hazard)
    t = np.eye(p1)
    if covariates:
        t[0, 1:] = -design.mean / design.sd
        t[1:, 1:] = np.diag(1.0 / design.sd)
    big_t = np.kron(np.eye(n_h), t)
    coef = (b_std @ t.T)
    coef_cov = big_t @ cov_std @ big_t.T
    idx = np.arange(n_h) * p1
    lcov = np.asarray(cov_std[np.ix_(idx, idx)], dtype=np.float64)
    theta = np.exp(b_std[:, 0])
    se_log = np.sqrt(np.clip(np.diag(lcov), 0, None))
    q = _z(confidence)
    transitions = np.zeros((states.n, states.n))
    np.add.at(transitions, (data.before, data.after), data.w)
    return FitResult(
        states=states,
        hazards=tuple(float(v) for v in theta),
        std_errors=tuple(float(v) for v in theta * se_log),
        conf_int=tuple((float(a), float(b)) for a, b in zip(theta * np.exp(-q * se_log), theta * np.exp(q * se_log),
                                                             strict=True)),
        confidence=confidence,
        log_hazard_cov=lcov,
        covariates=covariates,
        reference=dict(zip(covariates, design.mean.tolist(), strict=True)),
        coef=coef,
        coef_cov=coef_cov,
        loglik=opt.value,
        n_parameters=n_h * p1,
        n_pairs=len(frame),
        n_facilities=len(set(design.facility_ids.tolist())),
        excluded=excluded,
        transitions=transitions,
        converged=opt.converged,
        iterations=opt.iterations,
        evaluations=opt.evaluations,
        source=pairs.source if isinstance(pairs, PairSet) and pairs.source else "inspection pairs",
    )
