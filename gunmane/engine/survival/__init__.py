"""供用年数の予測（survival）: a Weibull model of the time to renewal, for sectors without inspection grades.

Water mains, sewer pipes without inspections, equipment: what a ledger records is when each asset was installed
and when it was renewed or removed. The model fits the distribution of service life from those years, with
right-censoring (in service at the end of the records) and left truncation (records that begin after
installation), and gives what a renewal plan needs: the survival function, the probability of renewal within
h years at a given age, the expected renewals per year of a stock of assets (docs/deterioration.md §12).

data        — records → ages at entry and exit, exclusions counted with Japanese reasons
model       — the Weibull distribution, conditional renewal probability, expected renewals per year
estimation  — maximum likelihood (profile in ln k), standard errors, intervals, AIC, the exponential model
"""

from gunmane.engine.survival.data import EXCLUSION_REASONS, LifeRecord, Lives, ServiceLives, service_lives
from gunmane.engine.survival.errors import InvalidLives, NotIdentifiable, SurvivalError
from gunmane.engine.survival.estimation import ASSUMPTIONS, ExponentialFit, FitResult, fit, loglik
from gunmane.engine.survival.model import WeibullModel, expected_renewals

__all__ = [
    "ASSUMPTIONS",
    "EXCLUSION_REASONS",
    "ExponentialFit",
    "FitResult",
    "InvalidLives",
    "LifeRecord",
    "Lives",
    "NotIdentifiable",
    "ServiceLives",
    "SurvivalError",
    "WeibullModel",
    "expected_renewals",
    "fit",
    "loglik",
    "service_lives",
]
