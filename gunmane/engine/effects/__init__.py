"""効果試算（effects）: what bundling across municipalities, sectors, years, processes, data and performance
specifications changes — contracts, price, staff-hours, travel, tender risk and repair delay.

contracts  — expected contracts for random repair demand (binomial formula, public API)
inputs     — typed inputs: members, facilities, group, scenarios and levers
parameters — the ParameterSet of a run (defaults from gunmane.io.shipped.parameters); overrides by id
work       — work derived from the ledger over the horizon
levers     — levers as documented transformations of the contract set
routing    — day tours (OR-Tools routing / sweep) over straight-line distance × detour
evaluate   — baseline and scenarios: effects in total and per member, with assumptions
sensitivity — one-at-a-time ranges (tornado) and Monte Carlo intervals of each scenario's net effect
"""

from gunmane.engine.effects.contracts import (
    expected_contracts,
    expected_contracts_array,
    expected_contracts_with_fixed,
)
from gunmane.engine.effects.errors import EffectsError, InvalidInput, UnknownParameter
from gunmane.engine.effects.evaluate import METRICS, EffectsResult, Metrics, ScenarioResult, evaluate
from gunmane.engine.effects.inputs import (
    STATUTORY_TYPES,
    Facility,
    GroupInput,
    Lever,
    LeverKind,
    Member,
    Scenario,
)
from gunmane.engine.effects.levers import LeverOutcome
from gunmane.engine.effects.parameters import ASSUMPTION, Parameter, ParameterSet
from gunmane.engine.effects.routing import TourResult, TourSolver
from gunmane.engine.effects.sensitivity import KEY_PARAMETERS, SensitivityResult, SensitivityRow, sensitivity
from gunmane.engine.effects.work import WorkSet, derive_work

__all__ = [
    "ASSUMPTION",
    "KEY_PARAMETERS",
    "METRICS",
    "STATUTORY_TYPES",
    "EffectsError",
    "EffectsResult",
    "Facility",
    "GroupInput",
    "InvalidInput",
    "Lever",
    "LeverKind",
    "LeverOutcome",
    "Member",
    "Metrics",
    "Parameter",
    "ParameterSet",
    "Scenario",
    "ScenarioResult",
    "SensitivityResult",
    "SensitivityRow",
    "TourResult",
    "TourSolver",
    "UnknownParameter",
    "WorkSet",
    "derive_work",
    "evaluate",
    "expected_contracts",
    "expected_contracts_array",
    "expected_contracts_with_fixed",
    "sensitivity",
]
