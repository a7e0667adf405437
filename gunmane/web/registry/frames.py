"""The database as the engine's typed frames, cached until the data changes.

Reading 1,000,000 facilities into pandas takes seconds, so frames and the all-municipality table are
kept in memory keyed by a data fingerprint (row counts and latest change of every table the
indicators read); any import, edit or reload changes the fingerprint and the next request recomputes.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from gunmane.engine import indicators
from gunmane.engine.indicator_types import LedgerFrames, ReferenceFrames
from gunmane.web.registry.models import (
    Facility,
    FacilityType,
    Inspection,
    Measure,
    Municipality,
    MunicipalYearStats,
    Sector,
    data_version,
)

_lock = threading.Lock()
_cache: dict[tuple[str, tuple[Any, ...]], tuple[tuple[Any, ...], Any]] = {}
MAX_ENTRIES = 256

STAT_COLUMNS = ["population", "civil_engineering_expenditure", "total_expenditure", "road_length_m", "park_area_m2",
                "bridges_inspected", "bridges_need_repair", "fiscal_capability_index", "elderly_ratio",
                "civil_engineers"]


def fingerprint() -> tuple[Any, ...]:
    """O(1) summary that changes whenever indicator inputs change: the data version (bumped by imports,
    edits and reloads) and the newest row id of each ledger table (a safety net for any writer that
    forgets to bump)."""
    ids = tuple(model.objects.aggregate(m=Max("id"))["m"] for model in (Facility, Inspection, Measure,
                                                                         MunicipalYearStats))
    return (data_version(), *ids)


def cached(kind: str, generation: tuple[Any, ...], key: tuple[Any, ...], build: Any) -> Any:
    """The value of (kind, key) for this data generation, built once; older generations are dropped."""
    with _lock:
        entry = _cache.get((kind, key))
        if entry is not None and entry[0] == generation:
            return entry[1]
    value = build()
    with _lock:
        for stale in [k for k, (gen, _) in _cache.items() if gen != generation]:
            del _cache[stale]
        # keys can come from user input (budgets, parameters): keep the newest MAX_ENTRIES only
        while len(_cache) >= MAX_ENTRIES:
            del _cache[next(iter(_cache))]
        _cache[(kind, key)] = (generation, value)
    return value


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _reference() -> ReferenceFrames:
    munis = pd.DataFrame.from_records(
        Municipality.objects.values_list("lg_code", "prefecture__code", "name", "kind", "population", "area_km2",
                                         "office_lat", "office_lon"),
        columns=["lg_code", "pref_code", "name", "kind", "population", "area_km2", "lat", "lon"],
    ).set_index("lg_code")
    stats = pd.DataFrame.from_records(
        MunicipalYearStats.objects.values_list("municipality__lg_code", "fiscal_year", *STAT_COLUMNS),
        columns=["lg_code", "fiscal_year", *STAT_COLUMNS],
    )
    for col in STAT_COLUMNS:
        stats[col] = pd.to_numeric(stats[col], errors="coerce").astype(float)
    munis["population"] = pd.to_numeric(munis["population"], errors="coerce").astype(float)
    return ReferenceFrames(municipalities=munis, stats=stats)


def _fetch(sql: str, params: list[Any], columns: list[str]) -> pd.DataFrame:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return pd.DataFrame.from_records(rows, columns=columns)


def _ledger(lg_codes: tuple[str, ...] | None) -> LedgerFrames:
    """All facilities (or those of the given managers) with their inspections and measures.

    Read with plain SQL, ids mapped to codes in pandas and dates read as text: for 1,000,000 facilities and
    2,000,000 inspections the joins and Django's per-value date converters cost more than the data itself
    (benchmarks/indicators.py --web).
    """
    f = Facility._meta.db_table
    managers = dict(Municipality.objects.values_list("id", "lg_code"))
    sectors = dict(Sector.objects.values_list("id", "code"))
    types = dict(FacilityType.objects.values_list("id", "code"))
    where, params = "", []
    if lg_codes is not None:
        ids = [i for i, code in managers.items() if code in set(lg_codes)]
        if not ids:
            return indicators.empty_ledger()
        where = f" WHERE f.manager_id IN ({', '.join(['%s'] * len(ids))})"
        params = ids
    fac = _fetch(
        f"SELECT f.id, f.manager_id, f.sector_id, f.facility_type_id, f.built_year, f.length_m, f.area_m2, "
        f"f.latest_grade, CAST(f.latest_inspected_on AS TEXT), f.is_synthetic FROM {f} f{where}",
        params,
        ["facility", "lg_code", "sector", "facility_type", "built_year", "length_m", "area_m2", "latest_grade",
         "latest_inspected_on", "is_synthetic"],
    )
    fac["lg_code"] = fac["lg_code"].map(managers)
    fac["sector"] = fac["sector"].map(sectors)
    fac["facility_type"] = fac["facility_type"].map(types)
    for col in ("built_year", "length_m", "area_m2", "latest_grade"):
        fac[col] = pd.to_numeric(fac[col], errors="coerce").astype(float)
    fac["latest_inspected_on"] = pd.to_datetime(fac["latest_inspected_on"], errors="coerce", format="ISO8601")
    fac["is_synthetic"] = fac["is_synthetic"].astype(bool)
    join = f" JOIN {f} f ON f.id = x.facility_id{where}" if where else ""
    ins = _fetch(f"SELECT x.facility_id, CAST(x.inspected_on AS TEXT), x.grade FROM {Inspection._meta.db_table} x"
                 f"{join}", params, ["facility", "inspected_on", "grade"])
    ins["inspected_on"] = pd.to_datetime(ins["inspected_on"], errors="coerce", format="ISO8601")
    ins["grade"] = ins["grade"].astype(np.int64) if len(ins) else ins["grade"]
    mea = _fetch(f"SELECT x.facility_id, x.fiscal_year, x.kind, x.status FROM {Measure._meta.db_table} x{join}",
                 params, ["facility", "fiscal_year", "kind", "status"])
    return LedgerFrames(facilities=fac, inspections=ins, measures=mea)


def reference_frames(key: tuple[Any, ...] | None = None) -> ReferenceFrames:
    key = key or fingerprint()
    return cached("reference", key, (), _reference)


def ledger_frames(lg_codes: tuple[str, ...] | None = None, key: tuple[Any, ...] | None = None) -> LedgerFrames:
    key = key or fingerprint()
    if lg_codes is None:
        return cached("ledger", key, (), lambda: _ledger(None))
    return _ledger(tuple(sorted(set(lg_codes))))


def latest_fiscal_year() -> int:
    return MunicipalYearStats.objects.aggregate(y=Max("fiscal_year"))["y"] or 2024


def municipal_table(fiscal_year: int, as_of: date | None = None, *, sector: str | None = None,
                    facility_type: str | None = None) -> pd.DataFrame:
    """Every indicator for every municipality with peer and national percentiles (cached per filter)."""
    as_of = as_of or timezone.localdate()
    key = fingerprint()

    def build() -> pd.DataFrame:
        return indicators.municipal_table(reference_frames(key), ledger_frames(None, key), fiscal_year=fiscal_year,
                                          as_of=as_of, sector=sector, facility_type=facility_type)

    return cached("table", key, (sector, facility_type, fiscal_year, as_of), build)
