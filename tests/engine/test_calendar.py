"""年度 (fiscal year): 4月1日に始まり翌年3月31日に終わる（地方自治法第208条）."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from gunmane.engine.calendar import fiscal_year, fiscal_years
from gunmane.engine.indicators.frames import date_to_day, fiscal_years_of_days


@pytest.mark.parametrize(("d", "fy"), [
    (date(2025, 3, 31), 2024),  # last day of FY2024
    (date(2025, 4, 1), 2025),  # first day of FY2025
    (date(2025, 1, 1), 2024),  # the calendar year turns, the fiscal year does not
    (date(2024, 12, 31), 2024),
    (date(2024, 2, 29), 2023),  # leap day
    (date(2019, 4, 30), 2019),  # 平成31年4月30日: still FY2019 (the era changes, not the fiscal year)
])
def test_fiscal_year_boundaries(d: date, fy: int) -> None:
    assert fiscal_year(d) == fy


def test_fiscal_year_of_datetimes_and_timestamps() -> None:
    assert fiscal_year(datetime(2025, 3, 31, 23, 59)) == 2024
    assert fiscal_year(pd.Timestamp("2025-04-01 00:00")) == 2025


def test_vectorised_fiscal_years_follow_the_same_rule() -> None:
    days = [date(2025, 3, 31), date(2025, 4, 1), date(2025, 1, 1), date(2024, 2, 29), date(1970, 1, 1)]
    want = [fiscal_year(d) for d in days]
    years = np.array([d.year for d in days])
    months = np.array([d.month for d in days])
    assert fiscal_years(years, months).tolist() == want
    assert fiscal_years_of_days(np.array([date_to_day(d) for d in days], dtype=float)).tolist() == want
