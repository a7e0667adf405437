"""Sectors (分野) and facility types (施設種別) as shipped data, with the spellings people use."""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class SectorDef:
    code: str
    name: str
    name_en: str
    order: int


@dataclass(frozen=True)
class FacilityTypeDef:
    code: str
    sector: str
    name: str
    name_en: str
    health_scale: str
    inspection_cycle_years: int | None
    order: int
    aliases: tuple[str, ...]


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("gunmane.data").joinpath("vocab", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def sectors() -> tuple[SectorDef, ...]:
    return tuple(SectorDef(r["code"], r["name"], r["name_en"], int(r["order"])) for r in _rows("sectors.csv"))


@cache
def facility_types() -> tuple[FacilityTypeDef, ...]:
    return tuple(
        FacilityTypeDef(
            r["code"], r["sector"], r["name"], r["name_en"], r["health_scale"],
            int(r["inspection_cycle_years"]) if r["inspection_cycle_years"] else None,
            int(r["order"]), tuple(a for a in r["aliases"].split("|") if a),
        )
        for r in _rows("facility_types.csv")
    )


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")


@cache
def _sector_lookup() -> dict[str, str]:
    out: dict[str, str] = {}
    for s in sectors():
        for spelling in (s.code, s.name, s.name_en, s.name + "分野"):
            out[_key(spelling)] = s.code
    out[_key("道路施設")] = "road"
    out[_key("河川施設")] = "river"
    out[_key("公園施設")] = "park"
    out[_key("下水道施設")] = "sewer"
    out[_key("水道")] = "water"
    return out


@cache
def _type_lookup() -> dict[str, str]:
    out: dict[str, str] = {}
    for t in facility_types():
        for spelling in (t.code, t.name, t.name_en, *t.aliases):
            out.setdefault(_key(spelling), t.code)
    return out


def sector_code(text: str) -> str | None:
    """The sector code for a spelling (道路, 道路施設, road …), or None."""
    return _sector_lookup().get(_key(text))


def facility_type_code(text: str) -> str | None:
    """The facility type code for a spelling (橋梁, 橋, 橋りょう, bridge …), or None."""
    return _type_lookup().get(_key(text))


def facility_type(code: str) -> FacilityTypeDef:
    return {t.code: t for t in facility_types()}[code]


def sector(code: str) -> SectorDef:
    return {s.code: s for s in sectors()}[code]
