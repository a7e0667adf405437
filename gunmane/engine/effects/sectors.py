"""Each scenario's lines per sector (分野ごとの内訳) for a 多分野 group.

A contract can hold several sectors' work (多分野連携), so the per-sector lines share each contract out:

- direct cost: each work row's expected direct cost to its sector (exact);
- price: each row's part of its contract group's price as the pricing rule put it — services at their rates,
  works in proportion to the row's expected value within what one rate prices (the whole group under the
  dominant work type, or the group's work type when the bundle is priced by work type); overhead = price − direct;
- contracts and the orderer's staff-hours per contract group in proportion to the sectors' expected direct cost
  in it (a group with no value: by its rows);
- the staff-hours not tied to a contract (coordination of the group, each participant's acceptance of a shared
  contract beyond the orderer's) stay in one line ``shared`` (分野に分けない職員時間), so the lines add up to the
  group's totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SHARED", "SectorLine", "sector_lines"]

SHARED = "shared"  # the line of the staff-hours no sector carries


@dataclass(frozen=True)
class SectorLine:
    sector: str
    contracts: float
    direct_cost_yen: float
    price_yen: float
    staff_hours: float
    facilities: int  # facilities of the sector with work in the horizon
    work_types: tuple[str, ...]  # the sector's own work types of its works (工種区分)
    priced_by: tuple[str, ...]  # the rates its works were priced by (its own, or a bundle's dominant type)

    @property
    def overhead_yen(self) -> float:
        return self.price_yen - self.direct_cost_yen

    def as_json(self) -> dict[str, Any]:
        return {"contracts": round(self.contracts, 3), "direct_cost_yen": round(self.direct_cost_yen),
                "price_yen": round(self.price_yen), "overhead_yen": round(self.overhead_yen),
                "staff_hours": round(self.staff_hours, 1), "facilities": self.facilities,
                "work_types": list(self.work_types), "priced_by": list(self.priced_by)}


def sector_lines(rows: Any, groups: pd.DataFrame, hours: Mapping[str, np.ndarray], row_price: np.ndarray,
                 priced_by: np.ndarray, total_staff_hours: float) -> dict[str, SectorLine]:
    """The lines per sector of one scenario (``rows`` the scenario's ``_Rows``), plus the ``shared`` line."""
    items = rows.items
    sector = items["sector"].to_numpy().astype(str)
    gid, n_groups = rows.group, rows.n_groups
    value = rows.expected_value
    group_value = np.bincount(gid, value, n_groups)
    group_rows = np.bincount(gid, minlength=n_groups).astype(float)
    share = np.where(group_value[gid] > 0, value / np.maximum(group_value[gid], 1e-300), 1.0 / group_rows[gid])
    contracts = groups["contracts"].to_numpy()[gid] * share
    orderer_hours = sum(np.asarray(h, dtype=float) for h in hours.values())
    staff = np.asarray(orderer_hours)[gid] * share
    works = rows.priced_as_works
    fidx = items["fidx"].to_numpy()
    ctype = items["ctype"].to_numpy().astype(str)
    out: dict[str, SectorLine] = {}
    for s in sorted(set(sector)):
        m = sector == s
        w = m & works & ~rows.routine
        out[s] = SectorLine(
            sector=s, contracts=float(contracts[m].sum()), direct_cost_yen=float(value[m].sum()),
            price_yen=float(row_price[m].sum()), staff_hours=float(staff[m].sum()),
            facilities=int(len(set(fidx[m & (fidx >= 0)].tolist()))),
            work_types=tuple(sorted(set(ctype[w].tolist()))), priced_by=tuple(sorted(set(priced_by[w].astype(str)))))
    allocated = sum(line.staff_hours for line in out.values())
    out[SHARED] = SectorLine(sector=SHARED, contracts=0.0, direct_cost_yen=0.0, price_yen=0.0,
                             staff_hours=float(total_staff_hours - allocated), facilities=0, work_types=(), priced_by=())
    return out
