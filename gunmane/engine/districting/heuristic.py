"""A feasible start, local search and a valid lower bound, for instances too big for the exact model.

Written by the heuristic work of issue #14; this file declares its interface."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gunmane.engine.districting.types import Infeasibility, Instance


@dataclass(frozen=True)
class HeuristicOutcome:
    assignment: tuple[int, ...] | None  # None when infeasible
    objective: float | None
    bound: float  # a valid lower bound on the optimum of Σ f
    infeasibility: Infeasibility | None


def solve_heuristic(instance: Instance, dist: np.ndarray, *, time_limit_s: float, seed: int = 0) -> HeuristicOutcome:
    raise NotImplementedError("heuristic: issue #14, being written")
