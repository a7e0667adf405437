"""対策計画（planning）: a budget-feasible multi-year repair plan by mixed-integer programming (HiGHS)."""

from gunmane.engine.planning.plan import (
    PLAN_COLUMNS,
    PlanGroup,
    PlanParameters,
    PlanResult,
    budget_plan,
    mixed_plan,
)
from gunmane.engine.planning.renewal import RenewalLine, renewal_line

__all__ = ["PLAN_COLUMNS", "PlanGroup", "PlanParameters", "PlanResult", "RenewalLine", "budget_plan", "mixed_plan",
           "renewal_line"]
