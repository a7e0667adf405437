"""Expected number of contracts for random repair demand (quantitative-methods.md §B5).

With N facilities, each needing a repair in a year with probability q independently, the repairs of a
year are X ~ Binomial(N, q); if one contract may bundle at most L repairs, the year needs ⌈X/L⌉
contracts, so

    f(N, L) = Σ_{n=0}^{N} C(N, n) q^n (1 − q)^{N−n} ⌈n/L⌉.

Source: the Miyagi bundling study (Fukuyama0327/paper-bundling-analysis,
notes/closed_form_expected_contracts.md) [V2]; q ≈ 0.0123 per RC bridge and year there.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from gunmane.engine.effects.errors import InvalidInput

__all__ = ["expected_contracts", "expected_contracts_array"]


def _binom_pmf(n: int, q: float, hi: int) -> npt.NDArray[np.float64]:
    """Binomial(n, q) probabilities of 0 … hi, in log space (no scipy.stats import: it costs seconds)."""
    k = np.arange(0, hi + 1, dtype=np.float64)
    logfact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))])
    ki = k.astype(np.int64)
    logc = logfact[n] - logfact[ki] - logfact[n - ki]
    return np.exp(logc + k * math.log(q) + (n - k) * math.log1p(-q))


def _probability(q: Any) -> float:
    """``q`` as a float if it is a real number in [0, 1]: Python's int/float, numpy's scalars (float32 from a
    DataFrame), Fraction and Decimal alike. bool, str and complex are refused (not a probability written as such)."""
    real = isinstance(q, numbers.Real | Decimal | np.floating | np.integer) and not isinstance(q, bool | np.bool_)
    x = float(q) if real else math.nan
    if not (math.isfinite(x) and 0.0 <= x <= 1.0):
        shown = f"「{q}」（文字列）" if isinstance(q, str) else str(q)
        raise InvalidInput("invalid_probability", f"年間の補修需要確率 q は 0〜1 の実数です（値: {shown}）。",
                           f"q must be a real number in [0, 1] (got {q!r}).", field="q")
    return x


def _check(n: int, q: Any, cap: int) -> float:
    """Refuse what is not a count, a probability, a cap (InvalidInput, in Japanese); the probability as a float."""
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise InvalidInput("invalid_count", f"施設数 n は 0 以上の整数です（値: {n}）。",
                           f"n must be a non-negative integer (got {n}).", field="n")
    p = _probability(q)
    if isinstance(cap, bool) or int(cap) != cap or cap < 1:
        raise InvalidInput("invalid_cap", f"1契約あたりの上限施設数 cap は 1 以上の整数です（値: {cap}）。",
                           f"cap must be an integer ≥ 1 (got {cap}).", field="cap")
    return p


def expected_contracts(n: int, q: float, cap: int) -> float:
    """Expected contracts per year for ``n`` facilities, annual demand probability ``q``, ≤ ``cap`` per contract.

    ``q`` may be any real number in [0, 1] (numpy scalars, Fraction, Decimal): it is converted to a float."""
    q = _check(n, q, cap)
    n, cap = int(n), int(cap)
    if n == 0 or q == 0.0:
        return 0.0
    if q == 1.0:
        return float(math.ceil(n / cap))
    # Only the mass where it is: the binomial beyond mean + 40 sd is below 1e-300.
    sd = math.sqrt(n * q * (1 - q))
    hi = min(n, int(n * q + 40 * sd + 40))
    k = np.arange(0, hi + 1)
    return float(np.dot(_binom_pmf(n, q, hi), np.ceil(k / cap)))


def expected_contracts_array(n: npt.ArrayLike, q: npt.ArrayLike, cap: int) -> npt.NDArray[np.float64]:
    """:func:`expected_contracts` for many pools at once (n and q broadcast together)."""
    nn, qq = np.broadcast_arrays(np.asarray(n), np.asarray(q, dtype=np.float64))
    out = np.empty(nn.shape, dtype=np.float64)
    for idx in np.ndindex(nn.shape):
        out[idx] = expected_contracts(int(nn[idx]), float(qq[idx]), cap)
    return out


def expected_contracts_with_fixed(fixed: float, n: int, q: float, cap: float) -> float:
    """E⌈(D + X)/L⌉ with D known jobs and X ~ Binomial(n, q) random ones (both in one ordering pool)."""
    if n <= 0 or q <= 0.0:
        return float(math.ceil(fixed / cap)) if fixed > 0 else 0.0
    q = min(q, 1.0)
    sd = math.sqrt(n * q * (1 - q))
    hi = min(n, int(n * q + 40 * sd + 40))
    if q >= 1.0:
        return float(math.ceil((fixed + n) / cap))
    k = np.arange(0, hi + 1)
    return float(np.dot(_binom_pmf(n, q, hi), np.ceil((fixed + k) / cap)))
