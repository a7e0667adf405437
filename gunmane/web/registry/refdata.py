"""Load the shipped reference data (and the vocabularies) into the database, idempotently."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from gunmane.io.shipped import refdata, vocab
from gunmane.web.registry.models import (
    FacilityType,
    Municipality,
    MunicipalYearStats,
    Prefecture,
    Sector,
    bump_data_version,
)

Log = Callable[[str], None]


@transaction.atomic
def load_vocabularies() -> None:
    for s in vocab.sectors():
        Sector.objects.update_or_create(code=s.code, defaults={"name": s.name, "name_en": s.name_en,
                                                               "order": s.order})
    sectors = {s.code: s for s in Sector.objects.all()}
    for t in vocab.facility_types():
        FacilityType.objects.update_or_create(code=t.code, defaults={
            "sector": sectors[t.sector], "name": t.name, "name_en": t.name_en, "health_scale": t.health_scale,
            "inspection_cycle_years": t.inspection_cycle_years, "order": t.order})


def _assign_changed(obj: object, values: dict[str, object]) -> bool:
    """Set the values on obj; True if any differed (a reload that changes nothing writes nothing)."""
    changed = False
    for k, v in values.items():
        if getattr(obj, k) != v:
            setattr(obj, k, v)
            changed = True
    return changed


@transaction.atomic
def load_reference_data(log: Log | None = None) -> dict[str, int]:
    """Prefectures, local governments and their FY2020–2024 statistics. Safe to run again.

    `civil_engineers` is never touched: users enter it and a reload must not erase it.
    """
    load_vocabularies()
    rows = list(refdata.municipalities())
    prefs: dict[str, Prefecture] = {}
    for r in rows:
        if r.kind == "prefecture":
            prefs[r.pref_code], _ = Prefecture.objects.update_or_create(
                code=r.pref_code, defaults={"name": r.pref_name, "name_kana": r.name_kana})
    existing = {m.lg_code: m for m in Municipality.objects.all()}
    creates, updates = [], []
    fields = ["code5", "prefecture_id", "name", "name_kana", "kind", "office_lat", "office_lon", "population",
              "area_km2", "website"]
    for r in rows:
        values = {"code5": r.code5, "prefecture_id": prefs[r.pref_code].pk, "name": r.name, "name_kana": r.name_kana,
                  "kind": r.kind, "office_lat": r.office_lat, "office_lon": r.office_lon,
                  "population": r.population, "area_km2": r.area_km2, "website": r.website}
        m = existing.get(r.lg_code)
        if m is None:
            creates.append(Municipality(lg_code=r.lg_code, **values))
        elif _assign_changed(m, values):
            updates.append(m)
    Municipality.objects.bulk_create(creates, batch_size=500)
    Municipality.objects.bulk_update(updates, fields, batch_size=500)
    munis = dict(Municipality.objects.values_list("lg_code", "id"))
    stats_existing = {(s.municipality_id, s.fiscal_year): s for s in MunicipalYearStats.objects.all()}
    s_creates, s_updates = [], []
    stat_fields = sorted(set(refdata.STATS_FIELDS.values()))
    n_stats = 0
    for prefectures in (False, True):
        for row in refdata.year_stats(prefectures=prefectures):
            mid = munis.get(row.lg_code)
            if mid is None:
                continue
            n_stats += 1
            s = stats_existing.get((mid, row.fiscal_year))
            if s is None:
                s_creates.append(MunicipalYearStats(municipality_id=mid, fiscal_year=row.fiscal_year,
                                                    extra=row.extra, source=refdata.FINANCE_SOURCE, **row.fields))
            elif _assign_changed(s, {**row.fields, "extra": row.extra, "source": refdata.FINANCE_SOURCE}):
                s_updates.append(s)
    MunicipalYearStats.objects.bulk_create(s_creates, batch_size=500)
    MunicipalYearStats.objects.bulk_update(s_updates, [*stat_fields, "extra", "source"], batch_size=500)
    if creates or updates or s_creates or s_updates:
        bump_data_version()
    counts = {"prefectures": len(prefs), "municipalities": len(rows), "year_stats": n_stats}
    if log:
        log(f"参照データを読み込みました：都道府県 {counts['prefectures']}、団体 {counts['municipalities']}、"
            f"年度統計 {counts['year_stats']} 行")
    return counts
