"""Confidence bands of derived curves by simulation from the estimate's sampling distribution.

ln θ is asymptotically normal with the covariance of the fit (``FitResult.log_hazard_cov``); drawing
hazard vectors from it and recomputing a curve gives pointwise percentile bands — the usual
parametric-bootstrap band for a non-linear function of the parameters.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gunmane.engine.deterioration.estimation import FitResult
from gunmane.engine.deterioration.model import prob_reach_within

__all__ = ["reach_curve_band"]


def reach_curve_band(result: FitResult, years: ArrayLike, target: int, *, draws: int = 400, level: float = 0.95,
                     seed: int = 0) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """P(grade ≥ ``target`` (0-based) within t years | new), with the lower and upper pointwise band."""
    t = np.asarray(years, dtype=np.float64)
    theta = result.theta
    central = prob_reach_within(theta, np.zeros(t.shape, dtype=np.int64), t, target)
    rng = np.random.default_rng(seed)
    cov = np.asarray(result.log_hazard_cov, dtype=np.float64)
    if not np.all(np.isfinite(cov)):
        return central, central.copy(), central.copy()
    sample = np.exp(rng.multivariate_normal(np.log(theta), cov, size=draws, method="eigh"))  # (draws, J−1)
    curves = prob_reach_within(sample[:, None, :], np.zeros((draws, t.size), dtype=np.int64),
                               np.broadcast_to(t, (draws, t.size)), target)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(curves, [alpha, 1.0 - alpha], axis=0)
    return central, np.asarray(low), np.asarray(high)
