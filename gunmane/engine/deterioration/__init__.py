"""劣化予測（deterioration）: the multi-stage exponential Markov hazard model (マルコフ劣化ハザードモデル).

model       — states, closed-form transition matrix (stable for equal/close hazards), derived quantities
data        — inspection pairs from ledger histories, exclusions counted
estimation  — maximum likelihood with analytic gradient, standard errors, AIC
pooling     — group fit with member effects (empirical Bayes) and cross-validated comparison
nbi         — the US NBI deck-rating panel mapped to grades I–IV (validation data)
"""

from gunmane.engine.deterioration.bands import reach_curve_band
from gunmane.engine.deterioration.data import (
    EXCLUSION_REASONS,
    PAIR_COLUMNS,
    InspectionPair,
    PairSet,
    pairs_frame,
    pairs_from_histories,
    prepare_pairs,
)
from gunmane.engine.deterioration.errors import DeteriorationError, InvalidPairs, NotIdentifiable
from gunmane.engine.deterioration.estimation import FitResult, fit, loglik_pairs
from gunmane.engine.deterioration.model import (
    GRADE_LABELS,
    MCI_FIVE_BINS,
    ROAD_SCALE_ID,
    MarkovHazardModel,
    StateSpace,
    dd_exp,
    expected_sojourn,
    expected_years_from_new,
    forecast_counts,
    forecast_facilities,
    generator,
    mci_five_state,
    prob_reach_within,
    repair_probability,
    repair_probability_by_grade,
    state_distribution_curve,
    survival_curves,
    transition_matrix,
    transition_prob,
)
from gunmane.engine.deterioration.nbi import NBI_GRADE_MAP, NbiPanel, nbi_grade, nbi_panel
from gunmane.engine.deterioration.pooling import (
    MemberEffect,
    PooledFit,
    PoolingComparison,
    compare_pooling,
    fit_pooled,
)

__all__ = [
    "NBI_GRADE_MAP",
    "MemberEffect",
    "NbiPanel",
    "PooledFit",
    "PoolingComparison",
    "compare_pooling",
    "fit_pooled",
    "nbi_grade",
    "nbi_panel",
    "EXCLUSION_REASONS",
    "GRADE_LABELS",
    "MCI_FIVE_BINS",
    "ROAD_SCALE_ID",
    "mci_five_state",
    "PAIR_COLUMNS",
    "DeteriorationError",
    "FitResult",
    "InspectionPair",
    "InvalidPairs",
    "MarkovHazardModel",
    "NotIdentifiable",
    "PairSet",
    "StateSpace",
    "dd_exp",
    "expected_sojourn",
    "expected_years_from_new",
    "fit",
    "forecast_counts",
    "forecast_facilities",
    "generator",
    "loglik_pairs",
    "pairs_frame",
    "pairs_from_histories",
    "prepare_pairs",
    "prob_reach_within",
    "reach_curve_band",
    "repair_probability",
    "repair_probability_by_grade",
    "state_distribution_curve",
    "survival_curves",
    "transition_matrix",
    "transition_prob",
]
