"""Baselines, the choice of method and the sweep over D: the public entry points of the districting engine.

Written by the heuristic work of issue #14; this file declares its interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from gunmane.engine.districting.types import Instance, Result

MethodChoice = Literal["auto", "exact", "heuristic"]


def solve(instance: Instance, *, time_limit_s: float = 60.0, method: MethodChoice = "auto") -> Result:
    raise NotImplementedError("districting: issue #14, being written")


def sweep(instance: Instance, distances_km: Sequence[float], *, time_limit_s: float = 60.0,
          method: MethodChoice = "auto") -> list[Result]:
    raise NotImplementedError("districting: issue #14, being written")
