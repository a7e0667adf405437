"""効果試算's busiest pages: the lot map's files (GeoJSON, KML, PNG) with the right lot for every facility, who may
download them, and the map itself (members' areas, focusable lots, labels that do not overlap)."""

from __future__ import annotations

import io
import json
import tomllib
import xml.etree.ElementTree as ET

import pytest
import tomli_w
from django.test import Client
from django.urls import reverse
from PIL import Image

from gunmane.io.reports.lots_geo import convex_hull, place_labels
from gunmane.web.groups.models import EffectScenario
from tests.conftest import login_client
from tests.words import internal_words, readable_text

pytestmark = pytest.mark.django_db
KML = "{http://www.opengis.net/kml/2.2}"


def test_lot_map_files_and_page(demo) -> None:  # type: ignore[no-untyped-def]
    group = demo
    es = EffectScenario.objects.filter(group=group).order_by("pk").first()
    doc = tomllib.loads(es.toml)
    doc["lots"]["time_limit_s"] = 5
    es.toml = tomli_w.dumps(doc)
    es.save()
    c = login_client()
    page = c.get(reverse("groups:effects_lots", args=[group.pk, es.pk]) + "?run=1")
    assert page.status_code == 200
    dsg = page.context["design"]
    assignment = dsg.assignment.dropna(subset=["lat", "lon"])
    lot_of = {str(f): int(lot) for f, lot in zip(assignment["facility"], assignment["lot"], strict=True)}
    assert len(set(lot_of.values())) >= 2

    def url(fmt: str) -> str:
        return reverse("groups:effects_lots_geo", args=[group.pk, es.pk, fmt])

    # GeoJSON: one facility feature per facility of the design, in its lot, named, with its municipality
    geo = json.loads(c.get(url("geojson")).content)
    assert geo["type"] == "FeatureCollection"
    facilities = [f for f in geo["features"] if f["properties"]["kind"] == "facility"]
    assert {f["properties"]["facility"]: f["properties"]["lot"] for f in facilities} == lot_of
    assert len(facilities) == len(lot_of)
    assert {f["properties"]["municipality"] for f in facilities} <= {"宇陀市", "曽爾村", "御杖村", "東吉野村"}
    assert all(f["properties"]["name"] and not f["properties"]["name"].startswith("施設 ") for f in facilities)
    areas = {f["properties"]["municipality"] for f in geo["features"] if f["properties"]["kind"] == "member_area"}
    assert areas == {"宇陀市", "曽爾村", "御杖村", "東吉野村"}
    lot_areas = [f for f in geo["features"] if f["properties"]["kind"] == "lot_area"]
    assert {f["properties"]["lot"] for f in lot_areas} == set(lot_of.values())
    assert all(f["geometry"]["coordinates"][0][0] == f["geometry"]["coordinates"][0][-1] for f in lot_areas)

    # KML: valid XML, a Folder per lot named with its base, one Point Placemark per facility in its lot's folder
    kml = c.get(url("kml"))
    assert kml["Content-Type"].startswith("application/vnd.google-earth.kml+xml")
    root = ET.fromstring(kml.content)
    folders = root.findall(f"./{KML}Document/{KML}Folder")
    assert len(folders) == len(set(lot_of.values()))
    names = [f.findtext(f"{KML}name") for f in folders]
    assert all(n.startswith("ロット") and "拠点：" in n for n in names), names
    # which member is lot 1's base depends on how far CP-SAT gets in its 5 s (a busy machine stops it earlier)
    assert any(f"ロット1（拠点：{m}）" in names for m in ("宇陀市", "曽爾村", "御杖村", "東吉野村")), names
    points = 0
    for folder in folders:
        lot = int(folder.findtext(f"{KML}name")[3:].split("（")[0])
        for pm in folder.findall(f"{KML}Placemark"):
            if pm.find(f"{KML}Point") is not None:
                points += 1
                lon, lat, _ = pm.findtext(f"{KML}Point/{KML}coordinates").split(",")
                assert -180 <= float(lon) <= 180 and -90 <= float(lat) <= 90
                assert f"ロット{lot}（" in pm.findtext(f"{KML}description")
    assert points == len(lot_of)

    # PNG: a real image of a useful size
    png = c.get(url("png"))
    assert png["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size[0] >= 1200

    # the page: the members' areas, one focusable group per lot with its totals, labels without overlap
    html = page.content.decode()
    assert html.count('class="area"') == 4 and html.count('class="lot"') == len(set(lot_of.values()))
    assert 'tabindex="0"' in html and "予定価格（年）" in html and url("kml") in html
    labels = page.context["map"]["labels"]
    assert {lb.text for lb in labels if lb.kind == "area"} | set(page.context["map"]["skipped"]) \
        == {"宇陀市", "曽爾村", "御杖村", "東吉野村"}
    boxes = [lb.box for lb in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)

    # what a person reads on the page, in the KML and on the editor: names, no code words
    edit = c.get(reverse("groups:effects_edit", args=[group.pk, es.pk]))
    for response in (page, kml, edit):
        body = response.content.decode()
        body = body[body.find("<main"):body.find("</main>")] if "<main" in body else body  # not the site's footer
        _, text = readable_text(body.encode(), response["Content-Type"])
        assert not internal_words(text), internal_words(text)[:5]

    # who may download: members and the supporting prefecture; not an outsider, not a visitor; no other format
    assert client_status("nara", url("geojson")) == 200
    assert client_status("osaka", url("geojson"), "pw-osaka-123") == 403
    assert Client().get(url("kml")).status_code == 302
    assert c.get(url("shp")).status_code == 404


def client_status(user: str, url: str, password: str = "gunmane-demo") -> int:
    return int(login_client(user, password).get(url).status_code)


def test_label_placement_and_hull() -> None:
    """Labels try the positions around their point and are listed when none is free; the hull is convex."""
    items = [("宇陀市", 50.0, 50.0, "area"), ("曽爾村", 50.0, 50.0, "area"), ("御杖村", 50.0, 50.0, "area")]
    placed, skipped = place_labels(items, size=12, width=120, height=100)
    assert [p.text for p in placed] == ["宇陀市", "曽爾村", "御杖村"] and skipped == []
    placed, skipped = place_labels(items, size=12, width=60, height=40)
    assert len(placed) + len(skipped) == 3 and skipped
    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.5, 0.5), (0.2, 0.8)]
    assert sorted(convex_hull(square)) == [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
