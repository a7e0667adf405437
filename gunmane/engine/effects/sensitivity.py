"""Sensitivity of the savings to the assumptions (感度分析): one-at-a-time ranges (tornado) and Monte Carlo.

The result measured is each scenario's net effect for the group (``totals.net_effect_yen``: price,
staff-hours × hourly cost and deterioration loss, against the baseline of the same run). Every
parameter in ``parameters`` is set to its value × (1 − spread) and × (1 + spread) in turn, all
scenarios re-evaluated; the Monte Carlo draws every one of them at once, log-uniform in the same
range, and reports the 5 %, 50 % and 95 % points. Travel is computed with the sweep only (it does not
enter the net effect), so a run costs a fraction of a full evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gunmane.engine.costing import CostingEdition
from gunmane.engine.effects.evaluate import evaluate
from gunmane.engine.effects.inputs import GroupInput, Scenario
from gunmane.engine.effects.parameters import ParameterSet

__all__ = ["KEY_PARAMETERS", "SensitivityResult", "SensitivityRow", "sensitivity"]

KEY_PARAMETERS = (
    "hazard.II", "hazard.III", "lead.days_baseline", "lead.days_process", "deterioration.iv_cost_factor",
    "unit.repair.bridge.base_yen", "unit.inspection.bridge.base_yen", "routine.road_yen_per_km", "routine.task_yen",
    "cap.inspection_sites", "cap.works_sites", "cap.performance_lot_yen", "staff.hourly_cost_yen",
    "staff.works.supervision_h", "staff.service.estimate_h", "staff.routine_task.estimate_h",
    "staff.joint_stage_factor", "coord.council_h_per_member_year", "coord.agreement_h_per_member",
)


@dataclass(frozen=True)
class SensitivityRow:
    parameter: str
    label_ja: str
    base_value: float
    low_value: float
    high_value: float
    low: dict[str, float]  # scenario name → net effect (yen) at the low value
    high: dict[str, float]

    def swing(self, scenario: str) -> float:
        return abs(self.high[scenario] - self.low[scenario])

    def as_json(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "label_ja": self.label_ja, "base_value": self.base_value,
                "low_value": self.low_value, "high_value": self.high_value,
                "low": {k: round(v) for k, v in self.low.items()}, "high": {k: round(v) for k, v in self.high.items()}}


@dataclass(frozen=True)
class SensitivityResult:
    metric: str
    spread: float
    base: dict[str, float]
    rows: tuple[SensitivityRow, ...]
    monte_carlo: dict[str, dict[str, float]]  # scenario → {p5, p50, p95, n}
    assumptions: tuple[str, ...]

    def tornado(self, scenario: str) -> list[SensitivityRow]:
        """The rows by swing, largest first. Swings are compared to the yen, so rows of equal swing (0 for a
        parameter the scenario does not use) keep the parameters' order instead of the order of their last bits
        of floating point, which differ between CPUs."""
        return sorted(self.rows, key=lambda r: round(r.swing(scenario)), reverse=True)

    def as_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "spread": self.spread, "base": {k: round(v) for k, v in self.base.items()},
                "tornado": {s: [r.as_json() for r in self.tornado(s)] for s in self.base},
                "monte_carlo": {s: {k: round(v) for k, v in mc.items()} for s, mc in self.monte_carlo.items()},
                "assumptions": list(self.assumptions)}


def _scaled(params: ParameterSet, key: str, factor: float) -> float:
    v = params.f(key)
    out = v * factor
    if isinstance(params[key], int) and not isinstance(params[key], bool):
        out = max(1.0, float(round(out)))
    return out


def _net(group: GroupInput, scenarios: Sequence[Scenario], edition: CostingEdition, params: ParameterSet) -> dict[str, float]:
    r = evaluate(group, scenarios, edition, params=params)
    return {s.name: s.totals.net_effect_yen for s in r.scenarios}


def sensitivity(group: GroupInput, scenarios: Sequence[Scenario], edition: CostingEdition, *,
                params: ParameterSet, parameters: Sequence[str] = KEY_PARAMETERS, spread: float = 0.25,
                samples: int = 0, seed: int = 0) -> SensitivityResult:
    params = params.with_overrides({"travel.method": "sweep"}, source="感度分析（移動距離はスイープ法）")
    keys = [k for k in parameters if k in params]
    base = _net(group, scenarios, edition, params)
    rows = []
    for key in keys:
        lo_v, hi_v = _scaled(params, key, 1 - spread), _scaled(params, key, 1 + spread)
        lo = _net(group, scenarios, edition, params.with_overrides({key: lo_v}, source="感度分析"))
        hi = _net(group, scenarios, edition, params.with_overrides({key: hi_v}, source="感度分析"))
        rows.append(SensitivityRow(key, params.param(key).label_ja, params.f(key), lo_v, hi_v, lo, hi))
    mc: dict[str, dict[str, float]] = {}
    if samples > 0:
        rng = np.random.default_rng(seed)
        draws: dict[str, list[float]] = {s.name: [] for s in scenarios}
        for _ in range(samples):
            f = np.exp(rng.uniform(math.log(1 - spread), math.log(1 + spread), len(keys)))
            over = {k: _scaled(params, k, float(x)) for k, x in zip(keys, f, strict=True)}
            for name, v in _net(group, scenarios, edition, params.with_overrides(over, source="感度分析")).items():
                draws[name].append(v)
        mc = {name: {"p5": float(np.percentile(v, 5)), "p50": float(np.percentile(v, 50)),
                     "p95": float(np.percentile(v, 95)), "n": float(len(v))} for name, v in draws.items()}
    assumptions = (
        f"各パラメータを既定値の ×{1 - spread:g} と ×{1 + spread:g} にして、ほかは既定値のまま全シナリオを再計算（一つずつ）。",
        "モンテカルロは全パラメータを同じ範囲で対数一様に同時に変えて計算（独立と仮定）。" if samples else "モンテカルロは実行していません。",
        "指標は群全体の純効果（価格 + 職員時間 × 時間単価 + 劣化の損失、同じ計算の基準に対する差）。",
    )
    return SensitivityResult("net_effect_yen", spread, base, tuple(rows), mc, assumptions)
