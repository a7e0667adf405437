"""Building the input frames: the columns of the reference frames, an empty ledger, day arithmetic.

The reference frames themselves are built from the shipped tables by gunmane.io.shipped.refdata.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from gunmane.engine.calendar import fiscal_years
from gunmane.engine.indicator_types import LedgerFrames

STATS_COLUMNS: tuple[str, ...] = (
    "population", "civil_engineering_expenditure", "total_expenditure", "road_length_m", "park_area_m2",
    "bridges_inspected", "bridges_need_repair", "fiscal_capability_index", "elderly_ratio", "civil_engineers",
)
MUNICIPALITY_COLUMNS: tuple[str, ...] = ("pref_code", "pref_name", "name", "kind", "population", "area_km2",
                                         "lat", "lon")


def years_before(d: date, years: int) -> date:
    """The same calendar day `years` earlier (29 Feb → 28 Feb)."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


def empty_ledger() -> LedgerFrames:
    """A ledger with no facilities (the columns and dtypes engine.indicators reads)."""
    facilities = pd.DataFrame({
        "facility": pd.Series(dtype="int64"),
        "lg_code": pd.Series(dtype=object),
        "sector": pd.Series(dtype=object),
        "facility_type": pd.Series(dtype=object),
        "built_year": pd.Series(dtype="float64"),
        "length_m": pd.Series(dtype="float64"),
        "area_m2": pd.Series(dtype="float64"),
        "latest_grade": pd.Series(dtype="float64"),
        "latest_band": pd.Series(dtype="float64"),
        "latest_inspected_on": pd.Series(dtype="datetime64[ns]"),
        "is_synthetic": pd.Series(dtype=bool),
    })
    inspections = pd.DataFrame({
        "facility": pd.Series(dtype="int64"),
        "inspected_on": pd.Series(dtype="datetime64[ns]"),
        "grade": pd.Series(dtype="int64"),
        "band": pd.Series(dtype="float64"),
    })
    measures = pd.DataFrame({
        "facility": pd.Series(dtype="int64"),
        "fiscal_year": pd.Series(dtype="int64"),
        "kind": pd.Series(dtype=object),
        "status": pd.Series(dtype=object),
    })
    return LedgerFrames(facilities=facilities, inspections=inspections, measures=measures)


def to_days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Dates (datetime64 of any unit, date objects, strings) → days since 1970 as float (NaN for NaT)."""
    arr = pd.to_datetime(pd.Series(values) if not isinstance(values, pd.Series) else values,
                         errors="coerce").to_numpy().astype("datetime64[D]")
    out = arr.astype("int64").astype("float64")
    out[np.isnat(arr)] = np.nan
    return out


def date_to_day(d: date) -> int:
    return int((np.datetime64(d.isoformat(), "D") - np.datetime64("1970-01-01", "D")).astype("int64"))


def day_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of integer days since 1970 (vectorised, for fiscal years and whole years elapsed)."""
    d = days.astype("int64").astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype("int64") + 1970
    mo = d.astype("datetime64[M]").astype("int64") % 12 + 1
    dd = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype("int64") + 1
    return y, mo, dd


def fiscal_years_of_days(days: np.ndarray) -> np.ndarray:
    """年度 of integer days since 1970 (the rule of :func:`gunmane.engine.calendar.fiscal_year`)."""
    y, mo, _ = day_parts(days)
    return fiscal_years(y, mo)


def whole_years_between(days: np.ndarray, as_of: date) -> np.ndarray:
    """Completed years from each day to as_of (anniversary rule, so that ≥5 ⇔ day ≤ as_of − 5 years)."""
    y, mo, dd = day_parts(days)
    later_in_year = (mo * 100 + dd) > (as_of.month * 100 + as_of.day)
    return as_of.year - y - later_in_year.astype("int64")
