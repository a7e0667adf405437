"""The inspection scales as objects: ordering, repair trigger, the common band, MCI bins (issue #16 §1)."""

from __future__ import annotations

import pytest

from gunmane.engine.scales import (
    MeasuredBin,
    MeasuredScale,
    Scale,
    ScaleGrade,
    Source,
    grade_of_measured,
    is_repair_due,
    to_band,
    worst,
)
from gunmane.io.shipped.vocab import facility_types
from gunmane.io.values.scales import bands, scale, scale_for_facility_type, scales

SRC = Source("t", "p", 2000, "s")


def _grades(sid: str, bands_: list[int]) -> tuple[ScaleGrade, ...]:
    return tuple(ScaleGrade(sid, i, chr(64 + i), chr(64 + i), "", b, chr(64 + i)) for i, b in enumerate(bands_, 1))


def test_every_shipped_scale_is_ordered_with_its_trigger_and_a_monotone_band() -> None:
    assert len(scales()) >= 10
    for s in scales().values():
        assert s.source.title and s.source.publisher and 1900 < s.source.year < 2100, s.id
        assert s.verification, f"{s.id}: say how it was verified, or why not"
        if not s.graded:
            assert s.legal_life_years == 40 and s.trigger is None
            continue
        assert [g.index for g in s.grades] == list(range(1, len(s.grades) + 1))
        assert s.trigger is not None and 1 < s.trigger <= len(s.grades), s.id
        b = [to_band(s, g.index) for g in s.grades]
        assert b == sorted(b), f"{s.id}: band must not fall as grades worsen"
        assert b[0] == 1, f"{s.id}: the best grade is band 1"
        assert to_band(s, s.trigger) == 3, f"{s.id}: the repair trigger is band 3"
        assert all(x == 4 for x in b[s.trigger:]), f"{s.id}: grades worse than the trigger are band 4"
        assert all(x == 2 for x in b[1:s.trigger - 1]), f"{s.id}: grades between best and trigger are band 2"
        assert [is_repair_due(s, g.index) for g in s.grades] == [g.index >= s.trigger for g in s.grades]
        assert len(s.id) <= 10  # FacilityType.health_scale is CharField(max_length=10)


def test_the_scales_the_issue_names_read_good_to_bad_in_their_own_direction() -> None:
    labels = {sid: [g.label for g in s.grades] for sid, s in scales().items()}
    assert labels["I-IV"] == ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"]
    assert labels["pave-3"] == ["Ⅰ", "Ⅱ", "Ⅲ"]
    assert labels["sewer-urg"] == ["劣化なし", "緊急度Ⅲ", "緊急度Ⅱ", "緊急度Ⅰ"]  # Ⅰ is the worst
    assert labels["park-AD"] == ["A", "B", "C", "D"]  # A is the best
    assert labels["sabo-CBA"] == ["C", "B", "A"]  # A is the worst
    assert labels["coast-DA"] == ["D", "C", "B", "A"]
    assert labels["river-ad"] == ["a", "b", "c", "d"]
    assert scale("park-AD").label(scale("park-AD").trigger or 0) == "C"
    assert scale("sewer-urg").label(scale("sewer-urg").trigger or 0) == "緊急度Ⅱ"


def test_every_facility_type_points_at_a_scale_of_its_sector() -> None:
    for t in facility_types():
        s = scale_for_facility_type(t.code)
        assert s.id == t.health_scale
    assert scale_for_facility_type("bridge").id == "I-IV"
    assert scale_for_facility_type("play_equipment").id == "park-AD"
    assert scale_for_facility_type("sewer_pipe").id == "sewer-urg"
    assert scale_for_facility_type("pavement").id == "pave-3"
    assert scale_for_facility_type("water_pipe").graded is False
    # Not every type on the road scale any more (the bug of #16).
    assert len({t.health_scale for t in facility_types()}) >= 8


def test_bands_are_four_named_levels() -> None:
    assert [b.band for b in bands()] == [1, 2, 3, 4]
    assert all(b.name and b.definition for b in bands())


def test_mci_bins_and_measured_edges() -> None:
    pave = scale("pave-3")
    assert pave.measured is not None and pave.measured.name == "MCI" and pave.measured.verified is False
    assert [grade_of_measured(pave, x) for x in (10.0, 5.0, 4.99, 3.5, 3.0, 2.99, 0.0)] == [1, 1, 2, 2, 2, 3, 3]
    with pytest.raises(ValueError, match="MCI"):
        grade_of_measured(pave, 10.5)
    with pytest.raises(ValueError, match="no measured"):
        grade_of_measured(scale("park-AD"), 3.0)


def test_scale_objects_refuse_inconsistent_definitions() -> None:
    g = _grades("x", [1, 2, 3])
    s = Scale("x", "x", "x", "A〜C", "letter", g, 2, SRC, True, "v")
    assert s.label(3) == "C" and s.index_of_label("B") == 2 and worst([None, 1, 3, 2]) == 3 and worst([]) is None
    with pytest.raises(ValueError):
        s.grade(4)
    with pytest.raises(ValueError):
        Scale("x", "x", "x", "", "letter", g, 5, SRC, True, "v")
    with pytest.raises(ValueError):
        Scale("x", "x", "x", "", "letter", (g[1], g[0]), 1, SRC, True, "v")
    lower_better = MeasuredScale("IRI", "IRI", 0.0, 20.0, False, (MeasuredBin(0, 1), MeasuredBin(3, 2), MeasuredBin(8, 3)),
                                 False, "")
    s2 = Scale("y", "y", "y", "", "roman", g, 3, SRC, True, "v", measured=lower_better)
    assert [grade_of_measured(s2, x) for x in (0.0, 2.9, 3.0, 8.0, 20.0)] == [1, 1, 2, 3, 3]
