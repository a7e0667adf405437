"""ライフサイクルコスト（LCC）: maintenance strategies compared in yen over 50–100 years.

params    — parameters and action costs declared as data with sources; the three strategies
assets    — the facilities and their condition today (a distribution over grades)
simulate  — expected yearly cost streams by Markov simulation with actions, NPV, Monte Carlo band
hazards   — a complete I–IV hazard model from a fit, a published estimate and stated assumptions
"""

from gunmane.engine.lcc.assets import ASSET_COLUMNS, AssetSet, prepare_assets
from gunmane.engine.lcc.errors import LccError
from gunmane.engine.lcc.params import (
    ASSUMPTION_JA,
    STRATEGIES,
    ActionCost,
    LccParameters,
    Parameter,
    Strategy,
    strategies_for,
)
from gunmane.engine.lcc.simulate import LccResult, StrategyResult, discount_factors, life_cycle_cost

__all__ = [
    "ASSET_COLUMNS",
    "ASSUMPTION_JA",
    "STRATEGIES",
    "ActionCost",
    "AssetSet",
    "LccError",
    "LccParameters",
    "LccResult",
    "Parameter",
    "Strategy",
    "StrategyResult",
    "discount_factors",
    "life_cycle_cost",
    "prepare_assets",
    "strategies_for",
]
