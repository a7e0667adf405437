"""Read the reference data shipped in gunmane/data/refdata (real open data; see its README)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd

from gunmane.engine.indicator_types import ReferenceFrames
from gunmane.engine.indicators.frames import MUNICIPALITY_COLUMNS, STATS_COLUMNS

MUNICIPALITIES = ("jp-municipalities", "municipalities.csv")
MUNICIPAL_FINANCE = ("jp-municipal-finance-infra", "municipal_finance_infra_2020_2024.csv")
PREFECTURE_FINANCE = ("jp-municipal-finance-infra", "prefecture_finance_infra_2020_2024.csv")

FINANCE_SOURCE = ("各府省公表データ（Japan Dashboard 地方財政・住民基本台帳・公共施設状況調・道路メンテナンス年報ほか）"
                  "を Ina299/local_gov_vis が集計したもの")

# Columns kept as model fields; every other numeric column goes to MunicipalYearStats.extra.
STATS_FIELDS = {
    "population": "population",
    "exp_civil_engineering_yen": "civil_engineering_expenditure",
    "total_expenditure_yen": "total_expenditure",
    "road_length_m": "road_length_m",
    "park_area_m2": "park_area_m2",
    "bridges_inspected": "bridges_inspected",
    "bridges_need_repair": "bridges_need_repair",
    "fiscal_capability_index": "fiscal_capability_index",
    "elderly_ratio": "elderly_ratio",
}
INT_FIELDS = {"population", "civil_engineering_expenditure", "total_expenditure", "bridges_inspected",
              "bridges_need_repair"}


def _open(parts: tuple[str, str]) -> Iterator[dict[str, str]]:
    path = resources.files("gunmane.data").joinpath("refdata", *parts)
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as fh:
        yield from csv.DictReader(fh)


@dataclass(frozen=True)
class MunicipalityRow:
    lg_code: str
    code5: str
    pref_code: str
    pref_name: str
    name: str
    name_kana: str
    kind: str
    office_lat: float | None
    office_lon: float | None
    population: int | None
    area_km2: float | None
    website: str


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


def _int(text: str) -> int | None:
    return int(round(float(text))) if text.strip() else None


def municipalities() -> Iterator[MunicipalityRow]:
    for r in _open(MUNICIPALITIES):
        yield MunicipalityRow(
            r["lgcode6"], r["code5"], r["pref_code"], r["pref_name"], r["name"], r["name_kana"], r["kind"],
            _float(r["office_lat"]), _float(r["office_lng"]), _int(r["population_2024"]), _float(r["area_km2"]),
            r["website"],
        )


@dataclass(frozen=True)
class YearStatsRow:
    lg_code: str
    fiscal_year: int
    fields: dict[str, Any]
    extra: dict[str, float]


def year_stats(prefectures: bool = False) -> Iterator[YearStatsRow]:
    """One row per local government and fiscal year. Blank cells are None (unknown), never zero."""
    for r in _open(PREFECTURE_FINANCE if prefectures else MUNICIPAL_FINANCE):
        fields: dict[str, Any] = {}
        extra: dict[str, float] = {}
        for column, text in r.items():
            if column in ("lgcode6", "code5", "prefecture", "name", "fiscal_year", "area_km2"):
                continue
            if column in STATS_FIELDS:
                name = STATS_FIELDS[column]
                fields[name] = _int(text) if name in INT_FIELDS else _float(text)
            elif text.strip():
                extra[column] = float(text)
        yield YearStatsRow(r["lgcode6"], int(r["fiscal_year"]), fields, extra)


def raw_rows(which: str) -> Iterator[dict[str, str]]:
    """The raw CSV rows (for the demo-region generator, which reads the same columns)."""
    parts = {"municipalities": MUNICIPALITIES, "municipal_finance": MUNICIPAL_FINANCE}[which]
    return _open(parts)


def reference_frames_from_rows(
    municipalities: Iterable[MunicipalityRow],
    stats: Iterable[YearStatsRow],
    prefecture_stats: Iterable[YearStatsRow] | None = None,
) -> ReferenceFrames:
    """The engine's ReferenceFrames from reference rows. Blank stays NaN, never 0."""
    m_records = [{
        "lg_code": r.lg_code, "pref_code": r.pref_code, "pref_name": r.pref_name, "name": r.name, "kind": r.kind,
        "population": r.population, "area_km2": r.area_km2, "lat": r.office_lat, "lon": r.office_lon,
    } for r in municipalities]
    mun = pd.DataFrame.from_records(m_records, columns=["lg_code", *MUNICIPALITY_COLUMNS])
    mun = mun.set_index("lg_code")
    for col in ("population", "area_km2", "lat", "lon"):
        mun[col] = pd.to_numeric(mun[col], errors="coerce").astype("float64")
    rows = list(stats) + (list(prefecture_stats) if prefecture_stats is not None else [])
    s_records = [{"lg_code": r.lg_code, "fiscal_year": r.fiscal_year,
                  **{c: r.fields.get(c) for c in STATS_COLUMNS}} for r in rows]
    st = pd.DataFrame.from_records(s_records, columns=["lg_code", "fiscal_year", *STATS_COLUMNS])
    st["fiscal_year"] = st["fiscal_year"].astype("int64")
    for col in STATS_COLUMNS:
        st[col] = pd.to_numeric(st[col], errors="coerce").astype("float64")
    return ReferenceFrames(municipalities=mun, stats=st)


def reference_frames() -> ReferenceFrames:
    """The engine's ReferenceFrames from the shipped municipalities and yearly statistics (CLI, tests, benchmarks)."""
    return reference_frames_from_rows(municipalities(), year_stats(), year_stats(True))
