"""Reference-data indicators (no ledger): one aggregation rule per indicator, used for one municipality
and for any scope alike, so that a municipality's カルテ and the national table can never disagree.

Rules for unknowns (blank = unknown, never zero): a sum is taken over the members whose value is known
and `n` says how many; a ratio uses only the members where numerator and denominator are both known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from gunmane.engine.indicator_types import ReferenceFrames
from gunmane.engine.peers import municipal_codes

BASE_YEAR_CIVIL = 2020  # civil_expenditure_change_pct: FY2020 → FY
POPULATION_CHANGE_YEARS = 4  # population_change_pct: FY−4 → FY


@dataclass(frozen=True)
class RefRule:
    id: str
    how: Literal["sum", "ratio", "change", "weighted", "mean"]
    num: str
    den: str | None = None
    scale: float = 1.0


REF_RULES: tuple[RefRule, ...] = (
    RefRule("population", "sum", "pop"),
    RefRule("population_change_pct", "change", "pop", "pop_base"),
    RefRule("area_km2", "sum", "area"),
    RefRule("bridges_inspected", "sum", "bridges"),
    RefRule("bridges_iii_iv", "sum", "bridges_iii_iv"),
    RefRule("bridges_iii_iv_share", "ratio", "bridges_iii_iv", "bridges", 100.0),
    RefRule("civil_expenditure", "sum", "civil"),
    RefRule("civil_expenditure_per_capita", "ratio", "civil", "pop"),
    RefRule("civil_expenditure_per_bridge", "ratio", "civil", "bridges"),
    RefRule("civil_expenditure_change_pct", "change", "civil", "civil_base"),
    RefRule("road_length_km", "sum", "road_m", scale=1e-3),
    RefRule("road_length_per_capita", "ratio", "road_m", "pop"),
    RefRule("elderly_ratio", "weighted", "elderly", "pop", 100.0),
    RefRule("fiscal_capability_index", "mean", "fci"),
    RefRule("civil_engineers", "sum", "engineers"),
    RefRule("engineers_per_100_bridges", "ratio", "engineers", "bridges", 100.0),
    RefRule("engineers_per_100km_road", "ratio", "engineers", "road_m", 100.0 * 1000.0),
)


def _year(ref: ReferenceFrames, fiscal_year: int, column: str, codes: pd.Index) -> pd.Series:
    s = ref.stats
    if column not in s:
        return pd.Series(np.nan, index=codes, dtype="float64")
    rows = s.loc[s["fiscal_year"] == fiscal_year, ["lg_code", column]].drop_duplicates("lg_code")
    return rows.set_index("lg_code")[column].reindex(codes).astype("float64")


def components(ref: ReferenceFrames, fiscal_year: int) -> pd.DataFrame:
    """Per municipality (index lg_code, prefecture governments excluded) the raw parts the rules combine."""
    codes = municipal_codes(ref)
    area = ref.municipalities["area_km2"].reindex(codes).astype("float64") if "area_km2" in ref.municipalities \
        else pd.Series(np.nan, index=codes)
    return pd.DataFrame({
        "pop": _year(ref, fiscal_year, "population", codes),
        "pop_base": _year(ref, fiscal_year - POPULATION_CHANGE_YEARS, "population", codes),
        "area": area,
        "bridges": _year(ref, fiscal_year, "bridges_inspected", codes),
        "bridges_iii_iv": _year(ref, fiscal_year, "bridges_need_repair", codes),
        "civil": _year(ref, fiscal_year, "civil_engineering_expenditure", codes),
        "civil_base": _year(ref, BASE_YEAR_CIVIL, "civil_engineering_expenditure", codes),
        "road_m": _year(ref, fiscal_year, "road_length_m", codes),
        "elderly": _year(ref, fiscal_year, "elderly_ratio", codes),
        "fci": _year(ref, fiscal_year, "fiscal_capability_index", codes),
        "engineers": _year(ref, fiscal_year, "civil_engineers", codes),
    }, index=codes)


def aggregate(comp: pd.DataFrame, group: np.ndarray, ngroups: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every reference indicator per group: id → (value with NaN for unknown, n members that contributed).

    `group` gives each row of `comp` its group (0 … ngroups−1, or −1 for rows outside every group);
    `aggregate(comp, arange(len(comp)), len(comp))` is the per-municipality table.
    """
    inside = group >= 0
    g = group[inside]

    def total(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=np.where(mask, values, 0.0), minlength=ngroups)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=mask.astype("float64"), minlength=ngroups).astype("int64")

    cols = {c: comp[c].to_numpy(dtype="float64")[inside] for c in comp.columns}
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for rule in REF_RULES:
            num = cols[rule.num]
            if rule.how in ("sum", "mean"):
                mask = ~np.isnan(num)
                n = count(mask)
                value = total(num, mask)
                if rule.how == "mean":
                    value = value / n
                value = value * rule.scale
            else:
                assert rule.den is not None
                den = cols[rule.den]
                mask = ~np.isnan(num) & ~np.isnan(den)
                n = count(mask)
                d = total(den, mask)
                top = total(num * den if rule.how == "weighted" else num, mask)
                value = np.where(d != 0, top / d, np.nan)
                value = (value - 1.0) * 100.0 if rule.how == "change" else value * rule.scale
            value = np.where(n > 0, value, np.nan)
            out[rule.id] = (value.astype("float64"), n)
    return out


def fy_trend(ref: ReferenceFrames, members: pd.Index) -> tuple[list[int], dict[str, list[float | None]]]:
    """土木費, population and civil expenditure per resident for every fiscal year in the reference data."""
    s = ref.stats
    years = sorted(int(y) for y in s["fiscal_year"].unique())
    rows = s[s["lg_code"].isin(members)]
    out: dict[str, list[float | None]] = {"土木費（円）": [], "人口（人）": [], "住民1人当たり土木費（円/人）": []}
    for y in years:  # five fiscal years, not municipalities
        yr = rows[rows["fiscal_year"] == y]
        civil = yr["civil_engineering_expenditure"].to_numpy(dtype="float64")
        pop = yr["population"].to_numpy(dtype="float64")
        both = ~np.isnan(civil) & ~np.isnan(pop)
        out["土木費（円）"].append(_opt(np.nansum(civil)) if (~np.isnan(civil)).any() else None)
        out["人口（人）"].append(_opt(np.nansum(pop)) if (~np.isnan(pop)).any() else None)
        out["住民1人当たり土木費（円/人）"].append(
            _opt(civil[both].sum() / pop[both].sum()) if both.any() and pop[both].sum() > 0 else None)
    return years, out


def _opt(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)
