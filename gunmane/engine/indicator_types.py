"""Typed inputs and results of the 見える化 / 現状把握 indicators (engine.indicators).

Every value carries its definition, unit, source and the count it was computed from, so that a
number on a page, in the PDF or in the JSON can be traced back (docs/architecture.md, DESIGN: numbers are traceable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal

import pandas as pd


class ScopeKind(StrEnum):
    NATIONAL = "national"
    PREFECTURE = "prefecture"
    GROUP = "group"
    MUNICIPALITY = "municipality"


@dataclass(frozen=True)
class Scope:
    """What a カルテ is about: the nation, a prefecture, a group of municipalities, or one municipality."""

    kind: ScopeKind
    code: str  # "national", 2-digit prefecture code, group name, or 6-digit lg_code
    name: str  # 全国 / 奈良県 / 奈良モデル地域 / 宇陀市
    members: tuple[str, ...] = ()  # lg_codes covered (all municipalities of the scope)


@dataclass(frozen=True)
class IndicatorDef:
    """An indicator declared as data: id (stable, documented in docs/indicators.md), labels, unit, meaning, source."""

    id: str
    label_ja: str
    label_en: str
    unit: str
    definition_ja: str
    source: str
    group: Literal["stock", "ageing", "condition", "backlog", "capacity", "reference"]
    higher_is: Literal["worse", "better", "neutral"] = "neutral"
    needs_ledger: bool = False


@dataclass(frozen=True)
class IndicatorValue:
    id: str
    label_ja: str
    value: float | None  # None = unknown (never 0 for unknown)
    unit: str
    n: int | None  # facilities / municipalities it was computed from
    source: str
    peer_percentile: float | None = None  # 0–100 among 類似団体 (municipality scope only)
    national_percentile: float | None = None  # 0–100 among all municipalities (municipality scope only)
    definition_ja: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "label_ja": self.label_ja, "value": self.value, "unit": self.unit, "n": self.n,
            "source": self.source, "peer_percentile": self.peer_percentile,
            "national_percentile": self.national_percentile,
        }


@dataclass(frozen=True)
class Series:
    """The numbers behind one chart: categories on x, one or more named value lists."""

    id: str
    label_ja: str
    unit: str
    categories: list[Any]
    values: dict[str, list[float | None]]
    source: str
    x_label: str = ""
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "label_ja": self.label_ja, "unit": self.unit, "categories": self.categories,
                "values": self.values, "source": self.source, "x_label": self.x_label, "note": self.note}


@dataclass(frozen=True)
class PeerGroup:
    """類似団体: same kind and population band."""

    key: str  # e.g. "village:<5000"
    label_ja: str  # e.g. 村・人口5千人未満
    members: tuple[str, ...]


@dataclass
class Karte:
    scope: Scope
    fiscal_year: int
    as_of: date
    indicators: list[IndicatorValue]
    series: list[Series]
    peer_group: PeerGroup | None = None
    synthetic: bool = False  # any synthetic facility contributed
    has_ledger: bool = False
    assumptions: list[str] = field(default_factory=list)
    # data-quality notes in Japanese (records left out and why, e.g. a merged municipality's code)
    notes: list[str] = field(default_factory=list)

    def indicator(self, indicator_id: str) -> IndicatorValue:
        for i in self.indicators:
            if i.id == indicator_id:
                return i
        raise KeyError(indicator_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "scope": {"kind": self.scope.kind.value, "code": self.scope.code, "name": self.scope.name,
                      "members": list(self.scope.members)},
            "fiscal_year": self.fiscal_year,
            "as_of": self.as_of.isoformat(),
            "synthetic": self.synthetic,
            "has_ledger": self.has_ledger,
            "peer_group": None if self.peer_group is None else {
                "key": self.peer_group.key, "label_ja": self.peer_group.label_ja,
                "size": len(self.peer_group.members)},
            "indicators": [i.as_json() for i in self.indicators],
            "series": [s.as_json() for s in self.series],
            "assumptions": self.assumptions,
            "notes": self.notes,
        }


@dataclass
class ReferenceFrames:
    """Reference data for every local government (no ledger needed).

    municipalities: one row per local government — lg_code (index), pref_code, name, kind
        (prefecture/designated_city/core_city/city/town/village/special_ward), population, area_km2, lat, lon.
    stats: one row per lg_code × fiscal_year — population, civil_engineering_expenditure (yen),
        total_expenditure, road_length_m, park_area_m2, bridges_inspected, bridges_need_repair,
        fiscal_capability_index, elderly_ratio, civil_engineers (user input; mostly NaN). NaN = unknown.
    """

    municipalities: pd.DataFrame
    stats: pd.DataFrame


@dataclass
class LedgerFrames:
    """The shared ledger as frames (possibly empty).

    facilities: facility (int id), lg_code, sector (code), facility_type (code), built_year (float, NaN
        unknown), length_m, area_m2, latest_grade (float 1–4, NaN never inspected), latest_inspected_on
        (datetime64, NaT), is_synthetic (bool).
    inspections: facility, inspected_on (datetime64), grade (int 1–4).
    measures: facility, fiscal_year (int), kind, status (未着手/設計中/工事中/完了).
    """

    facilities: pd.DataFrame
    inspections: pd.DataFrame
    measures: pd.DataFrame
