"""Nearest neighbours by office distance, the case filters and the group size (gunmane.engine.grouping)."""

from __future__ import annotations

import pytest

from gunmane.engine.grouping import (
    Place,
    filter_cases,
    match_cases,
    nearest_places,
    office_distance_km,
    regions_of,
    size_of,
)
from gunmane.io.shipped.cases import catalogue

# offices of the shipped reference data (gunmane/data/refdata/jp-municipalities/municipalities.csv)
UDA = Place("292125", "宇陀市", "city", 34.52777778, 135.9525, 26694)
SAKURAI = Place("292061", "桜井市", "city", 34.51861111, 135.8433333, 54272)
SONI = Place("293857", "曽爾村", "village", 34.51055556, 136.1247222, 1270)
NOWHERE = Place("999999", "位置なし村", "village", None, None)


def test_haversine_distance_between_offices() -> None:
    assert office_distance_km(UDA, UDA) == 0
    assert office_distance_km(UDA, SAKURAI) == pytest.approx(10.1, abs=0.1)
    assert office_distance_km(UDA, SAKURAI) == pytest.approx(office_distance_km(SAKURAI, UDA))
    # one degree of latitude is about 111.2 km on the mean sphere
    assert office_distance_km(Place("a", "a", "city", 0, 0), Place("b", "b", "city", 1, 0)) == pytest.approx(111.19, abs=0.01)
    with pytest.raises(ValueError, match="位置なし村"):
        office_distance_km(UDA, NOWHERE)


def test_nearest_places_sorted_limited_without_self_or_unknown() -> None:
    got = nearest_places(UDA, [SONI, NOWHERE, UDA, SAKURAI], limit=8)
    assert [n.place.name for n in got] == ["桜井市", "曽爾村"]
    assert got[0].distance_km < got[1].distance_km and got[1].distance_km == pytest.approx(15.9, abs=0.2)
    assert [n.place.name for n in nearest_places(UDA, [SONI, SAKURAI], limit=1)] == ["桜井市"]
    assert nearest_places(NOWHERE, [UDA, SONI]) == []


def test_filters_regions_and_size() -> None:
    cases = catalogue().cases
    assert regions_of(("奈良県", "岐阜県")) == ["中部", "近畿"]
    nara = filter_cases(cases, area="奈良県")
    assert {c.key for c in nara} == {"nara_uda", "nara_model"}
    assert all("vertical" in c.types for c in filter_cases(cases, types=["vertical"]))
    assert len(filter_cases(cases)) == len(cases) and all(c.area_ja for c in cases)
    assert size_of(["city", "village"]) == "village" and size_of(["city", "town"]) == "town" and size_of([]) == "city"


def test_same_prefecture_counts_for_cases_like_ours() -> None:
    from gunmane.engine.grouping import GroupProfile

    p = GroupProfile(types=("horizontal",), n_members=3, has_prefecture=False, sectors=("road",), size="town",
                     prefecture="島根県")
    first = match_cases(p, catalogue().cases)[0]
    assert first.case.key == "masuda" and "同じ都道府県（島根県）" in first.reasons
