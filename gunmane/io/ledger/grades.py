"""How the ledger names and stores a grade on its facility type's own scale (issue #16 §1–§2).

An inspection's ``grade`` is the 1-based index on its facility type's scale (1 = best); its ``band`` is the
common urgency band (共通の緊急度区分), derived from (scale, grade) and kept only for cross-sector views.
This module is the one place that turns a stored grade into the words a page, the API, an export or the
change history shows: 「Ⅲ」 on a road structure, 「健全度C」 on a park, 「緊急度Ⅱ」 on a sewer pipe.
"""

from __future__ import annotations

from functools import cache

from gunmane.engine.scale_labels import grade_long, grade_short
from gunmane.engine.scales import Scale, to_band
from gunmane.io.values.scales import BAND_LABEL, bands, scale, scale_for_facility_type, scales

__all__ = ["BAND_LABEL", "ROAD_SCALE", "band_name", "band_of", "grade_long", "grade_short", "scale_choices",
           "scale_of_type"]

ROAD_SCALE = "I-IV"


@cache
def scale_of_type(code: str | None) -> Scale:
    """The scale a facility type's inspections are written on; the road scale for a type gunmane does not ship
    (a type added by hand keeps today's 健全性 Ⅰ〜Ⅳ)."""
    try:
        return scale_for_facility_type(code or "")
    except KeyError:
        return scale(ROAD_SCALE)


def scale_by_id(scale_id: str | None) -> Scale:
    try:
        return scale(scale_id or ROAD_SCALE)
    except KeyError:
        return scale(ROAD_SCALE)


def band_of(sc: Scale, index: int | None) -> int | None:
    """The common band of a stored grade (None where the scale has no grades or the grade is unknown)."""
    if index is None or not sc.graded:
        return None
    try:
        return to_band(sc, int(index))
    except ValueError:
        return None


def band_name(band: int | None) -> str:
    for b in bands():
        if b.band == band:
            return b.name
    return ""


def scale_choices() -> list[tuple[str, str]]:
    """Every shipped scale as (id, name): the choices of FacilityType.health_scale."""
    return [(s.id, s.name) for s in sorted(scales().values(), key=lambda s: s.id)]
