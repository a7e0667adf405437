"""Parameters of the life-cycle cost (ライフサイクルコスト) model, declared as data with their sources.

Every number a strategy comparison depends on is a :class:`~gunmane.engine.parameters.Parameter` (the
one sourced-parameter class of the effects, LCC and planning engines: value, unit, source, status and so
whether it is an assumption the user should set).  The shipped defaults live in
``gunmane/data/lcc/*.csv`` and are read by :mod:`gunmane.io.shipped.lcc`; the engine only sees these
typed objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from gunmane.engine.parameters import ASSUMPTION, Parameter

__all__ = [
    "ASSUMPTION_JA",
    "STRATEGIES",
    "ActionCost",
    "LccParameters",
    "Parameter",
    "Strategy",
    "strategies_for",
]

ASSUMPTION_JA = ASSUMPTION


@dataclass(frozen=True)
class ActionCost:
    """The measure taken when a facility of ``facility_type`` is found at ``grade`` (1-based) and what it costs.

    Cost of one action = ``fixed_yen`` + ``per_m2_yen`` × deck area; afterwards the facility is in
    grade ``restores_to``.
    """

    facility_type: str
    grade: int
    action_ja: str
    per_m2_yen: float
    fixed_yen: float
    restores_to: int
    source: str
    assumption: bool = False
    #: what ``per_m2_yen`` is per: "m2" (deck or pavement area), "m" (pipe length) or "基" (one unit); the
    #: facility frame's ``area_m2`` column then holds that quantity
    unit: str = "m2"

    def cost(self, area_m2: float) -> float:
        return self.fixed_yen + self.per_m2_yen * area_m2

    def as_json(self) -> dict[str, Any]:
        out = {"facility_type": self.facility_type, "grade": self.grade, "action": self.action_ja,
               "per_m2_yen": self.per_m2_yen, "fixed_yen": self.fixed_yen, "restores_to": self.restores_to,
               "source": self.source, "assumption": self.assumption}
        if self.unit != "m2":
            out["unit"] = self.unit
        return out


@dataclass(frozen=True)
class Strategy:
    """A maintenance strategy: act on a facility whose inspection finds it at ``trigger`` or worse.

    Grade IV (緊急措置段階) is always acted on when found, whatever the strategy: the road act's
    ordinance requires urgent measures, so no strategy may leave a IV facility alone.
    """

    key: str
    name_ja: str
    trigger: int
    description_ja: str

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name_ja, "trigger": self.trigger, "description": self.description_ja}


def strategies_for(labels: tuple[str, ...], trigger: int) -> tuple[Strategy, ...]:
    """The three strategies on a sector's scale (``labels`` good → bad, ``trigger`` the index at which its manual
    calls for repair): preventive acts one grade before the trigger, early corrective at the trigger, reactive
    only at the worst grade.  On the road scale (trigger Ⅲ of Ⅰ–Ⅳ) this is :data:`STRATEGIES`; a strategy
    that would act on the same grades as an earlier one is left out (舗装: the trigger Ⅲ is the worst)."""
    n = len(labels)
    if labels == ("I", "II", "III", "IV") and trigger == 3:
        return STRATEGIES
    pre, early = max(2, trigger - 1), trigger
    out = [Strategy("preventive", "予防保全", pre, f"点検で {labels[pre - 1]} 以上と判定された施設に対策する。"),
           Strategy("early_corrective", "早期の事後保全", early,
                    f"点検で {labels[early - 1]}（要領が修繕・更新を求める区分）以上と判定された施設に対策する。"),
           Strategy("reactive", "事後保全（対症療法）", n,
                    f"点検で最も悪い区分 {labels[n - 1]} と判定されてから更新などを行う。")]
    kept: list[Strategy] = []
    for s in out:
        if all(k.trigger != s.trigger for k in kept):
            kept.append(s)
    return tuple(kept)


STRATEGIES: tuple[Strategy, ...] = (
    Strategy("preventive", "予防保全", 2,
             "点検で Ⅱ（予防保全段階）以上と判定された施設に対策する。"),
    Strategy("early_corrective", "早期の事後保全", 3,
             "点検で Ⅲ（早期措置段階）以上と判定された施設に対策する（Ⅲ は次回点検までに措置）。"),
    Strategy("reactive", "事後保全（対症療法）", 4,
             "点検で Ⅳ（緊急措置段階）と判定されてから更新（架替え）・大規模修繕を行う。"),
)


@dataclass(frozen=True)
class LccParameters:
    """Everything the simulation needs besides the hazards and the facilities."""

    actions: tuple[ActionCost, ...]
    discount_rate: Parameter
    horizon_years: Parameter
    inspection_interval_years: Parameter
    inspection_cost_yen: Parameter
    monte_carlo_runs: int = 100
    seed: int = 20251001
    edition: str = ""
    notes: tuple[str, ...] = field(default=())

    def action_table(self, facility_type: str) -> dict[int, ActionCost]:
        return {a.grade: a for a in self.actions if a.facility_type == facility_type}

    @property
    def facility_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.facility_type for a in self.actions))

    def scalar_parameters(self) -> tuple[Parameter, ...]:
        return (self.discount_rate, self.horizon_years, self.inspection_interval_years, self.inspection_cost_yen)

    def with_overrides(self, **values: float) -> LccParameters:
        """A copy with some scalar parameters set by the user (keys: discount_rate, horizon_years, …)."""
        changes: dict[str, Any] = {}
        for key, value in values.items():
            current = getattr(self, key)
            if not isinstance(current, Parameter):
                raise KeyError(key)
            if value is not None and float(value) != current.value:
                changes[key] = current.with_value(float(value))
        return replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        return {"edition": self.edition,
                "parameters": [p.as_json_brief() for p in self.scalar_parameters()],
                "actions": [a.as_json() for a in self.actions],
                "monte_carlo_runs": self.monte_carlo_runs, "seed": self.seed, "notes": list(self.notes)}
