"""The Weibull service-life model and what a renewal plan reads from it.

S(t) = exp(−(t/λ)^k): the probability that an asset is still in service at age t (years), with shape k and scale
λ (the age by which 63.2 % have been renewed). k > 1: the renewal rate rises with age (wear-out, the usual case
for pipes and equipment); k = 1: a constant rate (the exponential model, memoryless); k < 1: early failures.
Hazard h(t) = (k/λ)(t/λ)^(k−1); median life λ(ln 2)^(1/k); mean life λΓ(1 + 1/k).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["WeibullModel", "expected_renewals"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class WeibullModel:
    """A Weibull life distribution: ``shape`` k, ``scale`` λ in years."""

    shape: float
    scale: float

    def survival(self, age: float | Sequence[float] | FloatArray) -> FloatArray:
        """S(t): the share still in service at age t."""
        t = np.clip(np.asarray(age, dtype=np.float64), 0.0, None)
        return np.asarray(np.exp(-((t / self.scale) ** self.shape)), dtype=np.float64)

    def cumulative_hazard(self, age: float | Sequence[float] | FloatArray) -> FloatArray:
        t = np.clip(np.asarray(age, dtype=np.float64), 0.0, None)
        return np.asarray((t / self.scale) ** self.shape, dtype=np.float64)

    def hazard(self, age: float | Sequence[float] | FloatArray) -> FloatArray:
        """h(t): the renewal rate per year at age t (of the assets still in service)."""
        t = np.asarray(age, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.asarray(self.shape / self.scale * (t / self.scale) ** (self.shape - 1.0), dtype=np.float64)

    def renewal_within(self, age: float | Sequence[float] | FloatArray, years: float) -> FloatArray:
        """P(renewed within the next ``years`` | in service at ``age``) = 1 − S(a+h)/S(a), computed from the
        cumulative hazards so that it stays exact far in the tail."""
        a = np.asarray(age, dtype=np.float64)
        return np.asarray(-np.expm1(self.cumulative_hazard(a) - self.cumulative_hazard(a + years)), dtype=np.float64)

    @property
    def median(self) -> float:
        return self.scale * math.log(2.0) ** (1.0 / self.shape)

    @property
    def mean(self) -> float:
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    def quantile(self, p: float) -> float:
        """The age by which a share p has been renewed."""
        return self.scale * (-math.log1p(-p)) ** (1.0 / self.shape)


def expected_renewals(model: WeibullModel, ages: Sequence[float] | FloatArray, years: int, *,
                      counts: Sequence[float] | FloatArray | None = None, renew: bool = True) -> FloatArray:
    """Expected renewals in each of the next ``years`` years for a stock of assets in service at ``ages``
    (one entry per asset, or per age class with ``counts``).

    Year y (1-based) counts the renewals in the age interval (a+y−1, a+y] of each asset. With ``renew`` the
    renewed asset starts again at age 0 with the same life distribution and may be renewed again within the
    horizon (the renewal equation m(y) = first(y) + Σ_{s<y} m(s)·f(y−s), f(j) = S(j−1) − S(j) — in year steps, the
    replacement keeping the year of its predecessor's renewal); without it, only the first renewal of the
    assets held today (their sum never exceeds the stock).
    """
    a = np.asarray(ages, dtype=np.float64)
    w = np.ones(a.size) if counts is None else np.asarray(counts, dtype=np.float64)
    steps = np.arange(years + 1, dtype=np.float64)
    h0 = model.cumulative_hazard(a)[:, None]
    cum = model.cumulative_hazard(a[:, None] + steps[None, :]) - h0  # (n, years+1)
    first = w @ (np.exp(-cum[:, :-1]) - np.exp(-cum[:, 1:]))
    if not renew:
        return np.asarray(first, dtype=np.float64)
    s_new = model.survival(steps)
    f = s_new[:-1] - s_new[1:]  # f[j-1] = P(a new asset is renewed in its j-th year)
    m = np.zeros(years)
    for y in range(years):
        m[y] = first[y] + float(m[:y][::-1] @ f[:y]) if y else first[0]
    return m
