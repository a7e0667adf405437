"""Ledger records out of the database, as dicts with the canonical keys of gunmane.io.ledger.schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gunmane.io.ledger.schema import LedgerKind
from gunmane.web.registry.models import Facility, Inspection, Measure, Municipality


def facility_records(municipality: Municipality) -> Iterator[dict[str, Any]]:
    qs = (Facility.objects.filter(manager=municipality).select_related("sector", "facility_type")
          .order_by("facility_id"))
    lg = municipality.lg_code
    for f in qs.iterator(chunk_size=2000):
        yield {
            "lg_code": lg, "facility_id": f.facility_id, "name": f.name, "sector": f.sector.name,
            "facility_type": f.facility_type.name, "built_year": f.built_year, "length_m": f.length_m,
            "width_m": f.width_m, "area_m2": f.area_m2, "lat": f.lat, "lon": f.lon, "route": f.route,
            "address": f.address, "structure": f.structure, "national_id": f.national_id, "note": f.note,
            "is_synthetic": f.is_synthetic, "attributes": f.attributes,
        }


def inspection_records(municipality: Municipality) -> Iterator[dict[str, Any]]:
    qs = (Inspection.objects.filter(facility__manager=municipality)
          .order_by("facility__facility_id", "inspected_on", "kind")
          .values_list("facility__facility_id", "inspected_on", "grade", "measured_value", "inspector", "kind",
                       "facility__facility_type__health_scale"))
    lg = municipality.lg_code
    for fid, day, grade, measured, inspector, kind, scale in qs.iterator(chunk_size=5000):
        yield {"lg_code": lg, "facility_id": fid, "inspected_on": day, "grade": grade, "measured_value": measured,
               "inspector": inspector, "kind": kind, "scale": scale}


def measure_records(municipality: Municipality) -> Iterator[dict[str, Any]]:
    qs = (Measure.objects.filter(facility__manager=municipality)
          .order_by("facility__facility_id", "fiscal_year", "kind")
          .values_list("facility__facility_id", "fiscal_year", "kind", "status", "cost_thousand_yen", "note"))
    lg = municipality.lg_code
    for fid, year, kind, status, cost, note in qs.iterator(chunk_size=5000):
        yield {"lg_code": lg, "facility_id": fid, "fiscal_year": year, "kind": kind, "status": status,
               "cost_thousand_yen": cost, "note": note}


def records(kind: LedgerKind, municipality: Municipality) -> Iterator[dict[str, Any]]:
    return {LedgerKind.FACILITIES: facility_records, LedgerKind.INSPECTIONS: inspection_records,
            LedgerKind.MEASURES: measure_records}[kind](municipality)


def attribute_names(municipality: Municipality) -> list[str]:
    """Every free-attribute name used in this ledger, in first-seen order (extra export columns)."""
    names: dict[str, None] = {}
    for attrs in (Facility.objects.filter(manager=municipality).exclude(attributes={})
                  .values_list("attributes", flat=True).iterator(chunk_size=5000)):
        for k in attrs:
            names.setdefault(k, None)
    return list(names)


def has_synthetic(municipality: Municipality) -> bool:
    return Facility.objects.filter(manager=municipality, is_synthetic=True).exists()
