"""The exact districting model (OR-Tools CP-SAT): the optimum of Σ f(N_k, L) with a proven bound.

Written by the exact-model work of issue #14; this file declares its interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gunmane.engine.districting.types import Instance


@dataclass(frozen=True)
class ExactOutcome:
    status: Literal["optimal", "feasible", "infeasible", "unknown"]
    assignment: tuple[int, ...]  # district index (0…K−1, contiguous) of each point, in the instance's order
    objective: float | None
    bound: float | None  # CP-SAT's proven lower bound on Σ f (in the same units)


def solve_exact(instance: Instance, dist: np.ndarray, *, time_limit_s: float, workers: int = 2,
                hint: tuple[int, ...] | None = None) -> ExactOutcome:
    """Solve ``instance`` (``dist`` its pairwise km) exactly within the time limit; ``hint`` a feasible start."""
    raise NotImplementedError("exact model: issue #14, being written")
