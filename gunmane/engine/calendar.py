"""The Japanese fiscal year (年度), written once for the whole project.

地方自治法第208条第1項: 普通地方公共団体の会計年度は、毎年4月1日に始まり、翌年3月31日に終わるものとする。
A fiscal year is named by the calendar year in which it starts: 2025-03-31 is in FY2024, 2025-04-01 in FY2025.
"""

from __future__ import annotations

from datetime import date

import numpy as np

__all__ = ["FISCAL_YEAR_START_MONTH", "fiscal_year", "fiscal_years"]

#: 会計年度は4月1日に始まる（地方自治法第208条）
FISCAL_YEAR_START_MONTH = 4


def fiscal_year(d: date) -> int:
    """年度 of a date: 会計年度は4月1日に始まり翌年3月31日に終わる（地方自治法第208条）."""
    return d.year if d.month >= FISCAL_YEAR_START_MONTH else d.year - 1


def fiscal_years(years: np.ndarray, months: np.ndarray) -> np.ndarray:
    """年度 of many dates given as calendar year and month (1–12) arrays: the rule of :func:`fiscal_year`."""
    return np.where(months >= FISCAL_YEAR_START_MONTH, years, years - 1)
