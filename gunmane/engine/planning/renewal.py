"""Renewal need of assets without inspection grades (水道管路): expected length renewed per year × unit cost.

The survival (Weibull) model gives the expected renewals per year of a stock of assets at their ages
(:func:`gunmane.engine.survival.expected_renewals`, renewed assets renewed again within the horizon); weighted
by each asset's length it is the expected metres renewed, priced per metre.  It enters a plan as a line of its
own: a need the budget pays before the graded sectors are optimised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gunmane.engine.lcc.errors import LccError
from gunmane.engine.parameters import Parameter
from gunmane.engine.survival import WeibullModel, expected_renewals

__all__ = ["RenewalLine", "renewal_line"]


@dataclass(frozen=True)
class RenewalLine:
    """Expected metres renewed and their cost per fiscal year, with what it was computed from."""

    facility_type: str
    table: pd.DataFrame          # fiscal_year, metres, cost_yen
    model: WeibullModel
    model_source: str
    unit_cost: Parameter
    n_assets: int
    length_m: float
    ages_unknown: int

    def as_json(self) -> dict[str, Any]:
        return {"facility_type": self.facility_type, "n_assets": self.n_assets, "length_m": self.length_m,
                "ages_unknown": self.ages_unknown,
                "model": {"distribution": "weibull", "shape": self.model.shape, "scale_years": self.model.scale,
                          "source": self.model_source},
                "unit_cost": self.unit_cost.as_json_brief(),
                "per_year": [{"fiscal_year": int(fy), "metres": float(m), "cost_yen": float(c)}
                             for fy, m, c in zip(self.table["fiscal_year"].to_numpy(), self.table["metres"].to_numpy(),
                                                 self.table["cost_yen"].to_numpy(), strict=True)]}


def renewal_line(facilities: pd.DataFrame, model: WeibullModel, unit_cost: Parameter, *, start_year: int, years: int,
                 facility_type: str, model_source: str) -> RenewalLine:
    """``facilities``: columns ``age`` (years in service; unknown ages take the stock's median) and ``length_m``."""
    if facilities.empty:
        raise LccError("no_facilities", "更新の必要量を計算する施設（延長のある水道管路など）がありません。",
                       "no assets for the renewal line")
    age = pd.to_numeric(facilities["age"], errors="coerce").clip(lower=0)
    length = pd.to_numeric(facilities["length_m"], errors="coerce").fillna(0.0).clip(lower=0).to_numpy()
    unknown = int(age.isna().sum())
    ages = age.fillna(age.median() if age.notna().any() else 0.0).to_numpy(dtype=float)
    metres = expected_renewals(model, ages, years, counts=length)
    table = pd.DataFrame({"fiscal_year": start_year + np.arange(years), "metres": metres,
                          "cost_yen": metres * float(unit_cost.value)})
    return RenewalLine(facility_type, table, model, model_source, unit_cost, len(facilities), float(length.sum()),
                       unknown)
