"""The multi-stage exponential Markov hazard model (マルコフ劣化ハザードモデル) and what follows from it.

津田・貝戸・青木・小林 (2005): grades i = 1 … J (1 = new/sound, J = worst and absorbing without repair);
the time spent in grade i < J is exponential with hazard θ_i (per year) and deterioration moves one
grade at a time.  The generator is the upper-bidiagonal matrix Q (Q_ii = −θ_i, Q_i,i+1 = θ_i) and the
transition matrix over an interval z is P(z) = expm(Q z), whose entries have the closed form

    π_ij(z) = (Π_{m=i}^{j−1} θ_m z) · exp[−θ_i z, …, −θ_j z]      (θ_J = 0)

where exp[x_i, …, x_j] is the divided difference of the exponential (Opitz' formula for the exponential
of a bidiagonal matrix).  Written out, exp[x_0…x_n] = Σ_k e^{x_k} / Π_{m≠k} (x_k − x_m), which is the
published form; it cancels catastrophically when two hazards are equal or close, so every row whose
closed form is ill-conditioned is recomputed by the stable algorithm of McCurdy, Ng & Parlett (1984):
Taylor series of the divided differences at points scaled to a spread ≤ 1, then squaring of the
(non-negative) Opitz matrix — no cancellation, full relative accuracy, vectorised over rows.

Everything here is pure numpy; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:  # imported where a frame is made: a pairs-file fit does without pandas (#15 §6)
    import pandas as pd

    from gunmane.engine.scales import Scale

__all__ = [
    "GRADE_LABELS",
    "MCI_FIVE_BINS",
    "ROAD_SCALE_ID",
    "mci_five_state",
    "MarkovHazardModel",
    "StateSpace",
    "dd_exp",
    "dd2_exp_with_grad",
    "dd_exp_with_grad",
    "expected_sojourn",
    "expected_years_from_new",
    "forecast_counts",
    "forecast_facilities",
    "prob_reach_within",
    "repair_probability",
    "repair_probability_by_grade",
    "state_distribution_curve",
    "survival_curves",
    "transition_matrix",
    "transition_prob",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

GRADE_LABELS = ("I", "II", "III", "IV")
#: the scale whose state space is the default I–IV (its labels stay "I" … "IV" in every JSON)
ROAD_SCALE_ID = "I-IV"
#: MCI → the five states of the national-road pavement study (state label, lowest MCI of the state).  The
#: study (Kobayashi–Kaito group, Poisson hidden Markov, 土木学会論文集F4 68(2) 62–79) bins MCI into 5 states; its exact
#: bin edges were not seen in a source this session — these 2-point bins are gunmane's assumption.
MCI_FIVE_BINS = (("MCI 8以上", 8.0), ("MCI 6〜8", 6.0), ("MCI 4〜6", 4.0), ("MCI 2〜4", 2.0), ("MCI 2未満", 0.0))

# Closed form accepted when Σ|terms| / |result| ≤ this (relative error ≲ COND_MAX·ε ≈ 5e-13).
COND_MAX = 4096.0
# Taylor series about the mean used directly when max − min of the points ≤ this: the terms are
# bounded by e^{spread}·value, so at most ~3e3·ε ≈ 7e-13 relative error is lost at spread 8.
_TAYLOR_SPREAD = 8.0

def _row_range(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row-wise min and max of a narrow (N, k) array, column by column (faster than axis=1 reductions)."""
    lo = x[:, 0].copy()
    hi = x[:, 0].copy()
    for c in range(1, x.shape[1]):
        np.minimum(lo, x[:, c], out=lo)
        np.maximum(hi, x[:, c], out=hi)
    return lo, hi


def _row_mean(x: FloatArray) -> FloatArray:
    acc = x[:, 0].copy()
    for c in range(1, x.shape[1]):
        acc += x[:, c]
    return np.asarray(acc / x.shape[1], dtype=np.float64)


def _n_terms(radius: float) -> int:
    """Terms T with radius^T / T! < 1e-18 (remainder of the series about the mean)."""
    t, term = 0, 1.0
    while term > 1e-18 or t < 8:
        t += 1
        term *= radius / t
    return max(t, 8)


# --------------------------------------------------------------------------- state space


@dataclass(frozen=True)
class StateSpace:
    """The grades of the model (健全性 I–IV by default; any J ≥ 2).

    ``grade_to_state`` maps the recorded grade (1-based) to the model state (1-based); with
    ``merge_iv`` grade IV is counted as III (the Miyagi study's 3-state model).
    """

    labels: tuple[str, ...] = GRADE_LABELS
    merge_iv: bool = False

    def __post_init__(self) -> None:
        if len(self.labels) < 2:
            raise ValueError("a deterioration model needs at least 2 states")

    @classmethod
    def grades(cls, merge_iv: bool = False) -> StateSpace:
        """健全性 I–IV, or I, II, III+IV when ``merge_iv``."""
        return cls(("I", "II", "III+IV"), True) if merge_iv else cls(GRADE_LABELS, False)

    @classmethod
    def numbered(cls, n: int) -> StateSpace:
        """States "1" … "n" (e.g. a 5- or 7-grade municipal scale)."""
        return cls(tuple(str(i) for i in range(1, n + 1)))

    @classmethod
    def from_scale(cls, scale: Scale) -> StateSpace:
        """The grades of an inspection scale, good → bad, labelled as the manual writes them (公園施設 A–D,
        下水道 緊急度 …); state i is the scale's grade index i.  The road scale gives exactly :meth:`grades`."""
        if len(scale.grades) < 2:
            raise ValueError(f"{scale.id}: a scale without grades (judged by age) has no Markov states; "
                             "use the survival model")
        if scale.id == ROAD_SCALE_ID:
            return cls.grades()
        return cls(tuple(g.label for g in scale.grades))

    @classmethod
    def mci_five(cls) -> StateSpace:
        """The five MCI states of the published national-road pavement study (:data:`MCI_FIVE_BINS`)."""
        return cls(tuple(label for label, _ in MCI_FIVE_BINS))

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def n_recorded(self) -> int:
        """Largest recorded grade accepted (4 for I–IV merged into 3 states)."""
        return self.n + 1 if self.merge_iv else self.n

    def to_state(self, grades: ArrayLike) -> IntArray:
        """Recorded grades (1-based ints) → model states (1-based)."""
        g = np.asarray(grades, dtype=np.int64)
        return np.minimum(g, self.n) if self.merge_iv else g

    def as_json(self) -> list[str]:
        return list(self.labels)


def mci_five_state(mci: float) -> int:
    """The state (1 = best … 5) of an MCI value 0–10 on :data:`MCI_FIVE_BINS`; ValueError outside 0–10."""
    if not 0.0 <= mci <= 10.0:
        raise ValueError(f"MCI must be within 0..10, got {mci!r}")
    return next(i for i, (_, lower) in enumerate(MCI_FIVE_BINS, start=1) if mci >= lower)


# --------------------------------------------------------------------------- divided differences


def _closed_form(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Σ_k e^{x_k}/Π_{m≠k}(x_k−x_m) for rows of x and its condition Σ|terms|/|value| (inf when undefined)."""
    k = x.shape[1]
    ex = np.exp(x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        val = np.zeros(x.shape[0])
        mag = np.zeros(x.shape[0])
        for a in range(k):
            den = np.ones(x.shape[0])
            for b in range(k):
                if b != a:
                    den = den * (x[:, a] - x[:, b])
            t = ex[:, a] / den
            val = val + t
            mag = mag + np.abs(t)
        cond = mag / np.abs(val)
    cond[~np.isfinite(cond)] = np.inf
    return val, cond


def _taylor_h(d: FloatArray, terms: int) -> FloatArray:
    """Complete homogeneous symmetric polynomials h_0 … h_T of the columns of d (N, k); returns (T+1, N)."""
    dt = np.ascontiguousarray(d.T)
    h = np.empty((terms + 1, d.shape[0]))
    h[0] = 1.0
    for m in range(1, terms + 1):
        np.multiply(h[m - 1], dt[0], out=h[m])
    tmp = np.empty(d.shape[0])
    for j in range(1, dt.shape[0]):
        dj = dt[j]
        for m in range(1, terms + 1):
            np.multiply(dj, h[m - 1], out=tmp)
            h[m] += tmp
    return h


def _taylor_coef(n: int, terms: int) -> FloatArray:
    return np.array([1.0 / math.factorial(n + m) for m in range(terms + 1)])


def _taylor_dd(x: FloatArray) -> FloatArray:
    """exp[x_0…x_n] by the Taylor series about the mean; accurate when the spread of each row is ≤ ~2.

    exp[x_0…x_n] = e^μ Σ_{m≥0} h_m(x−μ) / (n+m)!, h_m the complete homogeneous symmetric polynomial
    (built one variable at a time: h_m(d_0…d_j) = h_m(d_0…d_{j−1}) + d_j h_{m−1}(d_0…d_j)).
    """
    mu = _row_mean(x)
    d = x - mu[:, None]
    lo, hi = _row_range(d)
    terms = _n_terms(float(max(-lo.min(initial=0.0), hi.max(initial=0.0))))
    h = _taylor_h(d, terms)
    return np.asarray(np.exp(mu) * (_taylor_coef(x.shape[1] - 1, terms) @ h), dtype=np.float64)


def _taylor_dd_grad(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """exp[x_0…x_n] and its gradient exp[x_0…x_n, x_m] by Taylor series (rows with spread ≤ ~2).

    The confluent differences reuse h of the n+1 points: adding the variable d_m is one more pass.
    """
    n = x.shape[1] - 1
    mu = x.mean(axis=1)
    d = x - mu[:, None]
    terms = _n_terms(float(np.abs(d).max(initial=0.0)))
    h = _taylor_h(d, terms)
    emu = np.exp(mu)
    val = emu * (_taylor_coef(n, terms) @ h)
    coef1 = _taylor_coef(n + 1, terms)
    grad = np.empty_like(x)
    g = np.empty_like(h)
    for m in range(n + 1):
        dm = d[:, m]
        g[0] = 1.0
        for t in range(1, terms + 1):
            np.multiply(dm, g[t - 1], out=g[t])
            g[t] += h[t]
        grad[:, m] = emu * (coef1 @ g)
    return np.asarray(val, dtype=np.float64), grad


def _stable_dd(x: FloatArray) -> FloatArray:
    """exp[x_0…x_n] for rows of x, any points (equal, close, far): McCurdy–Ng–Parlett scaling and squaring.

    The Opitz matrix Z (diag x, superdiagonal 1) has exp(Z)_{ij} = exp[x_i…x_j].  With s such that
    the spread of x/2^s is ≤ 8, exp(Z/2^s)_{ij} = 2^{−s(j−i)} exp[x_i/2^s … x_j/2^s] by Taylor series (relative
    error ≲ e^{spread} ε), then exp(Z) = exp(Z/2^s)^(2^s) by s squarings of an upper-triangular matrix
    with non-negative entries (no cancellation).  Rows are processed in groups of equal s.
    """
    rows, k = x.shape
    if rows == 0:
        return np.zeros(0)
    if k == 1:
        return np.asarray(np.exp(x[:, 0]), dtype=np.float64)
    spread = x.max(axis=1) - x.min(axis=1)
    s_row = np.zeros(rows, dtype=np.int64)
    far = spread > _TAYLOR_SPREAD
    s_row[far] = np.ceil(np.log2(spread[far] / _TAYLOR_SPREAD)).astype(np.int64)
    out = np.empty(rows)
    for s in np.unique(s_row):
        sel = np.flatnonzero(s_row == s)
        xr = x[sel]
        if s == 0:
            out[sel] = _taylor_dd(xr)
            continue
        xs = xr / 2.0 ** int(s)
        e: dict[tuple[int, int], FloatArray] = {}
        for i in range(k):
            e[(i, i)] = np.exp(xs[:, i])
            for j in range(i + 1, k):
                e[(i, j)] = 2.0 ** (-int(s) * (j - i)) * _taylor_dd(xs[:, i:j + 1])
        for _ in range(int(s)):  # square the upper-triangular matrix, entries as arrays
            e = {(i, j): sum((e[(i, m)] * e[(m, j)] for m in range(i + 1, j + 1)), e[(i, i)] * e[(i, j)])
                 for i in range(k) for j in range(i, k)}
        out[sel] = e[(0, k - 1)]
    return out


def dd_exp(x: ArrayLike) -> FloatArray:
    """Divided differences exp[x_0, …, x_n] along the last axis, accurate for equal or close points.

    Two points: e^{x1}·expm1(h)/h (always stable).  More points: rows whose points lie within 1 of each
    other go straight to the Taylor series; the closed form is used for the others where it is well
    conditioned, and the remaining rows go to the stable algorithm.
    """
    arr = np.asarray(x, dtype=np.float64)
    flat = arr.reshape(-1, arr.shape[-1])
    k = flat.shape[1]
    if k == 1:
        return np.asarray(np.exp(arr[..., 0]), dtype=np.float64)
    if k == 2:
        h = flat[:, 0] - flat[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(np.abs(h) < 1e-3, 1.0 + h * (0.5 + h * (1.0 / 6 + h * (1.0 / 24 + h / 120))),
                           np.expm1(h) / h)
        return np.asarray((np.exp(flat[:, 1]) * phi).reshape(arr.shape[:-1]), dtype=np.float64)
    lo, hi = _row_range(flat)
    near = (hi - lo) <= 1.0
    val = np.empty(flat.shape[0])
    if near.any():
        val[near] = _taylor_dd(flat[near])
    far = np.flatnonzero(~near)
    if far.size:
        v, cond = _closed_form(flat[far])
        bad = cond > COND_MAX
        if bad.any():
            v[bad] = _stable_dd(flat[far[bad]])
        val[far] = v
    return val.reshape(arr.shape[:-1])


def dd_exp_with_grad(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """exp[x_0…x_n] for rows of x (N, k) and its partial derivatives (N, k).

    ∂/∂x_m exp[x_0…x_n] = exp[x_0…x_n, x_m] (the point x_m repeated).  Closed form where both value and
    derivative are well conditioned, Taylor series or the stable algorithm (with the repeated point)
    elsewhere.  Closed-form derivative: Σ_{a≠m} t_a/(x_a−x_m) + t_m (1 − Σ_{b≠m} 1/(x_m−x_b)), t_a the
    terms e^{x_a}/Π_{b≠a}(x_a−x_b).
    """
    rows, k = x.shape
    if k == 1:
        v = np.exp(x[:, 0])
        return v, v[:, None].copy()
    cols = [np.ascontiguousarray(x[:, a]) for a in range(k)]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = {(a, b): 1.0 / (cols[a] - cols[b]) for a in range(k) for b in range(k) if a != b}  # 1/(x_a − x_b)
        t = []
        for a in range(k):
            ta = np.exp(cols[a])
            for b in range(k):
                if b != a:
                    ta *= r[(a, b)]
            t.append(ta)
        val = t[0].copy()
        mag = np.abs(t[0])
        for a in range(1, k):
            val += t[a]
            mag += np.abs(t[a])
        bad = ~(mag <= COND_MAX * np.abs(val))
        grad = np.empty((rows, k))
        for m in range(k):
            s_m = np.zeros(rows)  # Σ_{b≠m} 1/(x_m − x_b)
            gm = np.zeros(rows)
            gmag = np.zeros(rows)
            for a in range(k):
                if a == m:
                    continue
                s_m += r[(m, a)]
                cross = t[a] * r[(a, m)]
                gm += cross
                gmag += np.abs(cross)
            gm += t[m] * (1.0 - s_m)
            gmag += np.abs(t[m]) * (1.0 + np.abs(s_m))
            grad[:, m] = gm
            bad |= ~(gmag <= 4 * COND_MAX * np.abs(gm))
    if bad.any():
        idx = np.flatnonzero(bad)
        xb = x[idx]
        near = (xb.max(axis=1) - xb.min(axis=1)) <= _TAYLOR_SPREAD
        if near.any():
            v, gr = _taylor_dd_grad(xb[near])
            val[idx[near]] = v
            grad[idx[near]] = gr
        if (~near).any():
            xf = xb[~near]
            val[idx[~near]] = _stable_dd(xf)
            gb = np.empty((xf.shape[0], k))
            for m in range(k):
                gb[:, m] = _stable_dd(np.concatenate([xf, xf[:, m:m + 1]], axis=1))
            grad[idx[~near]] = gb
    return val, grad


def dd2_exp_with_grad(x0: FloatArray, x1: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """exp[x0, x1] = e^{x1} φ(h), φ(h) = expm1(h)/h, h = x0 − x1, and its two partial derivatives.

    Stable for any gap (equal points included): ∂/∂x0 = e^{x1} φ'(h) with φ'(h) = (h e^h − expm1 h)/h²
    (series 1/2 + h/3 + h²/8 + h³/30 + h⁴/144 for |h| < 1e-3); ∂/∂x1 = value − ∂/∂x0 (shift invariance).
    """
    h = x0 - x1
    e1 = np.exp(x1)
    small = np.abs(h) < 1e-3
    with np.errstate(divide="ignore", invalid="ignore"):
        em1 = np.expm1(h)
        phi = np.where(small, 1.0 + h * (0.5 + h * (1.0 / 6 + h * (1.0 / 24 + h / 120))), em1 / h)
        dphi = np.where(small, 0.5 + h * (1.0 / 3 + h * (1.0 / 8 + h * (1.0 / 30 + h / 144))),
                        (h * (em1 + 1.0) - em1) / (h * h))
    val = e1 * phi
    g0 = e1 * dphi
    return val, g0, val - g0


# --------------------------------------------------------------------------- transition probabilities


def transition_prob(theta: ArrayLike, z: ArrayLike, i: int, j: int) -> FloatArray:
    """π_ij(z) for 0-based states i ≤ j; theta (..., J−1) and z broadcast together."""
    th = np.asarray(theta, dtype=np.float64)
    zz = np.asarray(z, dtype=np.float64)
    shape = np.broadcast_shapes(th.shape[:-1], zz.shape)
    n_h = th.shape[-1]
    thf = np.broadcast_to(th, shape + (n_h,)).reshape(-1, n_h)
    zf = np.broadcast_to(zz, shape).reshape(-1)
    if j < i:
        return np.zeros(shape)
    if i == j:
        return np.ones(shape) if i == n_h else np.asarray(np.exp(-thf[:, i] * zf).reshape(shape), dtype=np.float64)
    pts = np.zeros((zf.size, j - i + 1))
    pre = np.ones(zf.size)
    for m in range(i, min(j + 1, n_h)):
        t = thf[:, m] * zf
        pts[:, m - i] = -t
        if m < j:
            pre *= t
    return np.asarray((pre * dd_exp(pts)).reshape(shape), dtype=np.float64)


def transition_matrix(theta: ArrayLike, z: ArrayLike = 1.0) -> FloatArray:
    """P(z) = expm(Q z) in closed form, stable for equal or close hazards.

    theta: hazards θ_1 … θ_{J−1} (per year), shape (J−1,) or (..., J−1) (e.g. one row per covariate class);
    z: interval(s) in years, scalar or array broadcast against theta's leading dimensions.
    Returns (..., J, J), e.g. (len(z), J, J) for one hazard vector and many intervals.
    """
    th = np.asarray(theta, dtype=np.float64)
    if th.ndim == 0 or th.shape[-1] < 1:
        raise ValueError("theta must have at least one hazard (J ≥ 2)")
    zz = np.asarray(z, dtype=np.float64)
    shape = np.broadcast_shapes(th.shape[:-1], zz.shape)
    n_states = th.shape[-1] + 1
    thf = np.broadcast_to(th, shape + th.shape[-1:]).reshape(-1, th.shape[-1])
    zf = np.broadcast_to(zz, shape).reshape(-1)
    out = np.zeros((zf.size, n_states, n_states))
    for i in range(n_states):
        for j in range(i, n_states):
            out[:, i, j] = transition_prob(thf, zf, i, j)
    return out.reshape(shape + (n_states, n_states))


def generator(theta: ArrayLike) -> FloatArray:
    """The bidiagonal generator Q (J × J) of hazards θ (J−1,)."""
    th = np.asarray(theta, dtype=np.float64)
    n = th.shape[-1] + 1
    q = np.zeros(th.shape[:-1] + (n, n))
    idx = np.arange(n - 1)
    q[..., idx, idx] = -th
    q[..., idx, idx + 1] = th
    return q


# --------------------------------------------------------------------------- derived quantities


def expected_sojourn(theta: ArrayLike) -> FloatArray:
    """Expected years spent in each grade i < J: 1/θ_i (RMD_i)."""
    return np.asarray(1.0 / np.asarray(theta, dtype=np.float64), dtype=np.float64)


def expected_years_from_new(theta: ArrayLike) -> FloatArray:
    """Expected years from new (grade 1) until first reaching grade j, for j = 2 … J: Σ_{i<j} 1/θ_i."""
    return np.asarray(np.cumsum(expected_sojourn(theta), axis=-1), dtype=np.float64)


#: the repair-trigger grade (0-based state): Ⅲ 早期措置段階, with Ⅳ (reached only through it) merged into it
REPAIR_TRIGGER = 2


def repair_probability(theta: ArrayLike, trigger: int = REPAIR_TRIGGER) -> tuple[float, FloatArray]:
    """The long-run yearly probability that a facility reaches the trigger grade when each repair resets it to Ⅰ.

    The renewal chain lives on the grades below the trigger, i = 0 … k−1: its one-year matrix is the
    model's P(1) restricted to them, R_ij = P_ij, with every step into the trigger grade or beyond
    sent back to Ⅰ, R_i0 += e_i where e_i = Σ_{j≥k} P_ij.  With π its stationary distribution (π R = π,
    Σ π = 1) the yearly repair probability is r = Σ_i π_i e_i.  By the renewal theorem r = 1 / m_0,
    m_0 the expected number of one-year steps from Ⅰ to the trigger, (I − A)⁻¹·1 with A = P(1)[:k, :k]
    (checked in the tests).  Returns (r, π).  See docs/deterioration.md §5.
    """
    th = np.asarray(theta, dtype=np.float64)
    k = int(trigger)
    if not 1 <= k <= th.size:
        raise ValueError(f"trigger state {k} must be 1..{th.size}")
    p = transition_matrix(th, 1.0)
    exit_ = p[:k, k:].sum(axis=1)
    r_chain = p[:k, :k].copy()
    r_chain[:, 0] += exit_
    # π (R − I) = 0 with Σ π = 1: replace one (redundant) balance equation by the normalisation
    a = (r_chain - np.eye(k)).T
    a[-1, :] = 1.0
    b = np.zeros(k)
    b[-1] = 1.0
    pi = np.linalg.solve(a, b)
    return float(pi @ exit_), np.asarray(pi, dtype=np.float64)


def repair_probability_by_grade(theta: ArrayLike, trigger: int = REPAIR_TRIGGER) -> FloatArray:
    """q_g: the probability that a facility now in grade g (0-based) needs a repair within the coming year.

    For a grade below the trigger it is the one-year probability of reaching the trigger grade or beyond,
    q_g = Σ_{j ≥ k} P(1)_gj (the same one-year matrix and trigger as :func:`repair_probability`); a facility
    already at or beyond the trigger needs its repair now, q_g = 1.  Returns one value per grade (J,).
    """
    th = np.asarray(theta, dtype=np.float64)
    k = int(trigger)
    if not 1 <= k <= th.size:
        raise ValueError(f"trigger state {k} must be 1..{th.size}")
    p = transition_matrix(th, 1.0)
    out = np.ones(th.size + 1)
    out[:k] = np.clip(p[:k, k:].sum(axis=1), 0.0, 1.0)
    return out


def state_distribution_curve(theta: ArrayLike, years: ArrayLike, labels: Sequence[str], start: int = 0) -> pd.DataFrame:
    """P(grade j at year t | grade ``start`` (0-based) at 0): one row per t, one column per grade."""
    t = np.asarray(years, dtype=np.float64)
    p = transition_matrix(theta, t)[:, start, :]
    import pandas as pd

    return pd.DataFrame(p, index=pd.Index(t, name="year"), columns=list(labels))


def survival_curves(theta: ArrayLike, years: ArrayLike, labels: Sequence[str], start: int = 0) -> pd.DataFrame:
    """Life curves: S_j(t) = P(grade j not yet reached by year t | grade ``start`` at 0), for each j > start.

    Column j is labelled with the grade it is about ("III" = still better than III).
    """
    t = np.asarray(years, dtype=np.float64)
    th = np.asarray(theta, dtype=np.float64)
    cols = {labels[j]: 1.0 - prob_reach_within(th, np.full(t.shape, start), t, j) for j in range(start + 1, len(labels))}
    import pandas as pd

    return pd.DataFrame(cols, index=pd.Index(t, name="year"))


def prob_reach_within(theta: ArrayLike, states: ArrayLike, years: ArrayLike, target: int) -> FloatArray:
    """Per facility: probability of being in grade ≥ ``target`` (0-based) within ``years`` years, without repair.

    theta (J−1,) or (N, J−1) per facility; states (N,) current 0-based grades; years scalar or (N,).
    Grades ≥ target are merged into one absorbing state, so small probabilities keep full relative
    accuracy: P = Π_{m=g}^{target−1}(θ_m t) · exp[−θ_g t, …, −θ_{target−1} t, 0].
    """
    th = np.asarray(theta, dtype=np.float64)
    g = np.asarray(states, dtype=np.int64)
    t = np.asarray(years, dtype=np.float64)
    shape = np.broadcast_shapes(th.shape[:-1], g.shape, t.shape)
    thf = np.broadcast_to(th, shape + th.shape[-1:]).reshape(-1, th.shape[-1])
    gf = np.broadcast_to(g, shape).reshape(-1)
    tf = np.broadcast_to(t, shape).reshape(-1)
    if not 1 <= target <= th.shape[-1]:
        raise ValueError(f"target must be a 0-based state 1..{th.shape[-1]}")
    out = np.ones(gf.shape[0])
    for start in range(target):
        rows = np.flatnonzero(gf == start)
        if rows.size == 0:
            continue
        hz = np.concatenate([thf[rows, start:target], np.zeros((rows.size, 1))], axis=1)
        pts = -hz * tf[rows, None]
        pre = np.prod(thf[rows, start:target] * tf[rows, None], axis=1)
        out[rows] = pre * dd_exp(pts)
    return out.reshape(shape)


def forecast_counts(theta: ArrayLike, initial: ArrayLike, years: int, labels: Sequence[str]) -> pd.DataFrame:
    """Expected number of facilities in each grade, year by year (no repairs), from counts per grade.

    theta (J−1,) with initial (J,) counts; or theta (C, J−1) per covariate class with initial (C, J).
    Matrix powers on distributions: d_{t+1} = d_t · P(1) per class, summed over classes.
    """
    th = np.atleast_2d(np.asarray(theta, dtype=np.float64))
    d = np.atleast_2d(np.asarray(initial, dtype=np.float64))
    if d.shape[0] != th.shape[0] and th.shape[0] == 1:
        th = np.broadcast_to(th, (d.shape[0], th.shape[1]))
    p1 = transition_matrix(th, 1.0)
    out = np.empty((years + 1, d.shape[1]))
    out[0] = d.sum(axis=0)
    for y in range(1, years + 1):
        d = np.einsum("ci,cij->cj", d, p1)
        out[y] = d.sum(axis=0)
    import pandas as pd

    return pd.DataFrame(out, index=pd.Index(np.arange(years + 1), name="year"), columns=list(labels))


def forecast_facilities(theta: ArrayLike, states: ArrayLike, years: int, labels: Sequence[str]) -> pd.DataFrame:
    """Expected grade counts of a population, year by year, each facility with its own hazards.

    theta (J−1,) shared or (N, J−1) per facility (covariates); states (N,) current 0-based grades.
    With shared hazards the facilities are counted per grade first (instant for any N); otherwise
    each facility's distribution over the non-absorbing grades is advanced in place with its own
    one-year matrix (upper-triangular; the worst grade is the complement), which keeps 1,000,000
    facilities × 100 years to about a second.
    """
    th = np.asarray(theta, dtype=np.float64)
    g = np.asarray(states, dtype=np.int64)
    n_states = th.shape[-1] + 1
    if th.ndim == 1:
        return forecast_counts(th, np.bincount(g, minlength=n_states), years, labels)
    n_h = n_states - 1
    # only the non-absorbing block of P(1) is needed (the worst grade is the complement)
    cols = {(i, j): transition_prob(th, 1.0, i, j) for i in range(n_h) for j in range(i, n_h)}
    d = [np.asarray(g == i, dtype=np.float64) for i in range(n_h)]
    tmp = np.empty(g.shape[0])
    total = float(g.shape[0])
    out = np.empty((years + 1, n_states))
    out[0, :n_h] = [x.sum() for x in d]
    for y in range(1, years + 1):
        # in place, worst non-absorbing grade first: d_j ← d_j P_jj + Σ_{i<j} d_i P_ij (old d_i)
        for j in range(n_h - 1, -1, -1):
            d[j] *= cols[(j, j)]
            for i in range(j):
                np.multiply(d[i], cols[(i, j)], out=tmp)
                d[j] += tmp
        out[y, :n_h] = [x.sum() for x in d]
    out[:, n_h] = total - out[:, :n_h].sum(axis=1)  # the absorbing grade: everyone else
    import pandas as pd

    return pd.DataFrame(out, index=pd.Index(np.arange(years + 1), name="year"), columns=list(labels))


# --------------------------------------------------------------------------- the model object


@dataclass(frozen=True)
class MarkovHazardModel:
    """マルコフ劣化ハザードモデル with fixed hazards (one covariate profile).

    ``hazards`` θ_1 … θ_{J−1} per year; ``source`` says where they come from (a fit, a published
    estimate, "user input"); ``assumptions`` are carried to every derived result.
    """

    states: StateSpace
    hazards: tuple[float, ...]
    source: str = "user input"
    assumptions: tuple[str, ...] = field(default=(
        "劣化は1段階ずつ進み、各健全性での滞在時間は指数分布（一定のハザード）に従う（多段階指数ハザードモデル）。",
        "補修・更新などの措置は考えない（措置なしの劣化予測）。",
    ))

    def __post_init__(self) -> None:
        if len(self.hazards) != self.states.n - 1:
            raise ValueError(f"{self.states.n} states need {self.states.n - 1} hazards, got {len(self.hazards)}")
        if any(not (h > 0 and math.isfinite(h)) for h in self.hazards):
            raise ValueError("hazards must be positive and finite")

    @property
    def theta(self) -> FloatArray:
        return np.asarray(self.hazards, dtype=np.float64)

    def transition_matrix(self, z: ArrayLike = 1.0) -> FloatArray:
        return transition_matrix(self.theta, z)

    def one_year_matrix(self) -> FloatArray:
        return transition_matrix(self.theta, 1.0)

    def expected_sojourn(self) -> dict[str, float]:
        """Expected years in each grade (1/θ_i)."""
        return dict(zip(self.states.labels[:-1], expected_sojourn(self.theta).tolist(), strict=True))

    def expected_years_from_new(self) -> dict[str, float]:
        """Expected years from new (grade I) until first reaching each later grade."""
        return dict(zip(self.states.labels[1:], expected_years_from_new(self.theta).tolist(), strict=True))

    def state_distribution(self, years: ArrayLike, start: int = 0) -> pd.DataFrame:
        return state_distribution_curve(self.theta, years, self.states.labels, start)

    def survival_curves(self, years: ArrayLike, start: int = 0) -> pd.DataFrame:
        return survival_curves(self.theta, years, self.states.labels, start)

    def forecast(self, initial_counts: ArrayLike, years: int) -> pd.DataFrame:
        return forecast_counts(self.theta, initial_counts, years, self.states.labels)

    def prob_reach_within(self, states: ArrayLike, years: ArrayLike, target: int) -> FloatArray:
        return prob_reach_within(self.theta, states, years, target)

    def as_json(self) -> dict[str, Any]:
        return {
            "states": self.states.as_json(),
            "hazards": dict(zip(self.states.labels[:-1], self.hazards, strict=True)),
            "expected_years": {"sojourn": self.expected_sojourn(), "from_new": self.expected_years_from_new()},
            "one_year_matrix": self.one_year_matrix().tolist(),
            "source": self.source,
            "assumptions": list(self.assumptions),
        }
