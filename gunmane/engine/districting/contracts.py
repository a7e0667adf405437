"""f(N, L) = E⌈X/L⌉ exact at every integer N (a table), and its Poisson-binomial form for per-facility q.

The binomial case reuses engine.effects.contracts.expected_contracts (checked there against Monte Carlo and
the paper's closed form). The table is what the exact model reads: f is not linear in N, so the model picks
one N per district and reads f(N) from this table (an exact piecewise function at integers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from gunmane.engine.effects.contracts import expected_contracts


@lru_cache(maxsize=32)
def f_table(n_max: int, q: float, bundle_limit: int) -> tuple[float, ...]:
    """f(0), f(1), …, f(n_max) for one q: expected contracts a year of a district of N facilities.

    Cached (a pure function; weighted instances of thousands of facilities read long tables in every D)."""
    return tuple(expected_contracts(n, q, bundle_limit) for n in range(n_max + 1))


def poisson_binomial_pmf(qs: Sequence[float]) -> np.ndarray:
    """P(X = k), k = 0…n, for X the number of repairs among facilities with probabilities ``qs`` (independent).

    The textbook recursion (one facility at a time, a convolution with [1 − q, q]); O(n²), exact up to
    floating point, and enough for districts of thousands of facilities."""
    pmf = np.zeros(len(qs) + 1)
    pmf[0] = 1.0
    for i, q in enumerate(qs, start=1):
        pmf[1:i + 1] = pmf[1:i + 1] * (1.0 - q) + pmf[:i] * q
        pmf[0] *= 1.0 - q
    return pmf


def expected_contracts_pb(qs: Sequence[float], bundle_limit: int) -> float:
    """E⌈X/L⌉ with X ~ Poisson-binomial(qs): the district's expected contracts with per-facility q."""
    if not qs:
        return 0.0
    if len(set(qs)) == 1:
        return expected_contracts(len(qs), qs[0], bundle_limit)
    pmf = poisson_binomial_pmf(qs)
    k = np.arange(len(pmf))
    return float(np.dot(pmf, np.ceil(k / bundle_limit)))


def expected_contracts_weighted(qs: Sequence[float], weights: Sequence[int], bundle_limit: int) -> float:
    """E⌈X/L⌉ for points each standing for ``weight`` facilities of probability q: binomial with N = Σ w when
    every q is the same, else Poisson-binomial with each q repeated w times."""
    if not qs:
        return 0.0
    if len(set(qs)) == 1:
        return expected_contracts(int(sum(weights)), qs[0], bundle_limit)
    return expected_contracts_pb([q for q, w in zip(qs, weights, strict=True) for _ in range(int(w))], bundle_limit)


def individual(qs: Sequence[float], weights: Sequence[int] | None = None) -> float:
    """Every repair its own contract (L = 1): E X = Σ q (Σ w·q for weighted points)."""
    if weights is None:
        return float(math.fsum(qs))
    return float(math.fsum(q * w for q, w in zip(qs, weights, strict=True)))
