"""LCC and plan pages for sectors other than road structures: the facility-type choice, labels of each scale."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import login_client

pytestmark = pytest.mark.django_db


def test_lcc_and_plan_pages_for_sectors(demo) -> None:  # type: ignore[no-untyped-def]
    uda = login_client("uda")
    lcc = reverse("analysis:lcc", args=["292125"])
    page = uda.get(lcc + "?facility_type=play_equipment")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="play_equipment" selected' in html and "健全度 A〜D（公園施設）" in html
    assert "C 以上の施設数の推移" in html and "Ⅲ・Ⅳ の施設数の推移" not in html
    assert "基あたり" in html and "仮定値" in html
    assert page.context["result"].model.states.labels == ("A", "B", "C", "D")
    data = uda.get(lcc + "?facility_type=pavement&format=json").json()
    assert data["facility_type"] == "pavement" and data["model"]["states"] == ["Ⅰ", "Ⅱ", "Ⅲ"]
    assert "4.7千円" in " ".join(a["source"] for a in data["parameters"]["actions"])
    # an unknown choice falls back to road structures, whose page is unchanged
    road = uda.get(lcc + "?facility_type=nonsense")
    assert road.context["sector"] == "" and "Ⅲ・Ⅳ の施設数の推移" in road.content.decode()

    plan = reverse("analysis:plan", args=["292125"])
    page = uda.get(plan + "?facility_type=all&budget=1億&years=10&mode=budget&strategy=early_corrective")
    assert page.status_code == 200
    html = page.content.decode()
    table = page.context["result"].table
    assert {"bridge", "pavement", "play_equipment"} <= set(table["facility_type"])
    assert (page.context["result"].budget["plan"] <= 1e8 * (1 + 1e-9)).iloc[1:].all()
    assert "判定（各分野の区分）" in html and "遊具" in html


def test_deterioration_page_for_a_sector(demo) -> None:  # type: ignore[no-untyped-def]
    uda = login_client("uda")
    url = reverse("analysis:deterioration", args=["292125"])
    page = uda.get(url + "?facility_type=play_equipment")
    assert page.status_code == 200
    html = page.content.decode()
    assert "遊具の劣化予測" in html and 'value="play_equipment" selected' in html
    assert 'name="merge_iv"' not in html and "?merge_iv=1" not in html   # only on the road scale
    assert "健全度 A〜D（公園施設）" in html
    fit = page.context.get("fit")
    if fit is not None:                                      # the demo's 遊具 histories may not identify every grade
        assert fit.states.labels == ("A", "B", "C", "D")
    else:
        assert page.context["error"] is not None
    bridges = uda.get(url)
    assert bridges.context["facility_type"] == "bridge" and 'name="merge_iv"' in bridges.content.decode()
