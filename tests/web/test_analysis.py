"""見える化 pages: national, prefecture, カルテ, group; downloads; the CLI gives the same numbers."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from gunmane.cli import main
from gunmane.web.demo import DEMO_GROUP
from gunmane.web.groups.models import Group
from tests.conftest import login_client

pytestmark = pytest.mark.django_db


client = login_client


def test_public_statistics_need_no_login_the_rest_does(refdata) -> None:  # type: ignore[no-untyped-def]
    # the カルテ of public statistics is public (#13); lifecycle and groups' pages send a visitor to the login
    for url in (reverse("analysis:national"), reverse("analysis:municipality", args=["292125"]),
                reverse("analysis:map_data"), reverse("analysis:prefecture", args=["29"])):
        assert Client().get(url).status_code == 200
    for url in (reverse("analysis:groups"), reverse("analysis:lcc", args=["292125"])):
        assert Client().get(url).status_code == 302


def test_national_page_map_and_totals(demo) -> None:  # type: ignore[no-untyped-def]
    c = client()
    response = c.get(reverse("analysis:national"))
    assert response.status_code == 200
    karte = response.context["karte"]
    assert karte.indicator("bridges_inspected").value == 505_649
    assert karte.indicator("bridges_iii_iv").value == 32_874
    page = response.content.decode()
    assert "全国のインフラ現状" in page and 'id="karte-map"' in page
    # public statistics only: no ledger series, so no 合成データ banner over real figures (issue #12)
    assert not karte.synthetic and "synthetic-banner" not in page
    data = c.get(reverse("analysis:map_data") + "?indicator=bridges_iii_iv_share").json()
    assert len(data["points"]) == 1741 and data["indicator"]["id"] == "bridges_iii_iv_share"
    uda = next(p for p in data["points"] if p["code"] == "292125")
    assert uda["value"] == pytest.approx(57 / 525 * 100, abs=0.05)
    other = c.get(reverse("analysis:map_data") + "?indicator=civil_expenditure_per_capita").json()
    assert other["indicator"]["id"] == "civil_expenditure_per_capita"
    assert c.get(reverse("analysis:map_data") + "?indicator=nope").status_code == 400


def test_national_table_filters_sorts_and_downloads(demo) -> None:  # type: ignore[no-untyped-def]
    c = client()
    response = c.get(reverse("analysis:national") + "?pref=29&sort=-bridges_inspected")
    rows = list(response.context["page_obj"])
    assert {r["pref_code"] for r in rows} == {"29"}
    values = [r["bridges_inspected"] for r in rows if r["bridges_inspected"] == r["bridges_inspected"]]
    assert values == sorted(values, reverse=True)
    csv_response = c.get(reverse("analysis:national") + "?pref=29&format=csv&table=1")
    text = csv_response.content.decode("utf-8-sig")
    assert "宇陀市" in text and "出典" in text
    xlsx = c.get(reverse("analysis:national") + "?format=xlsx&table=1")
    ws = load_workbook(io.BytesIO(xlsx.content))["市区町村"]
    assert ws.max_row == 1742


@pytest.mark.parametrize("code", ["292125", "293857", "293865", "294535"])
def test_demo_municipality_karte_page_json_and_cli_agree(demo, code: str, capsys) -> None:  # type: ignore[no-untyped-def]
    c = client()
    page = c.get(reverse("analysis:municipality", args=[code]))
    assert page.status_code == 200
    assert "合成データ" in page.content.decode()
    web = c.get(reverse("analysis:municipality", args=[code]) + "?format=json").json()
    assert main(["karte", code, "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["indicators"] == web["indicators"]
    ids = {i["id"] for i in web["indicators"]}
    assert {"bridges_inspected", "facilities", "age_50plus_share", "backlog_5y"} <= ids
    for i in web["indicators"]:
        assert set(i) == {"id", "label_ja", "value", "unit", "n", "source", "peer_percentile", "national_percentile"}
        assert i["source"]
    bridges = next(i for i in web["indicators"] if i["id"] == "bridges_inspected")
    assert bridges["peer_percentile"] is not None and 0 <= bridges["peer_percentile"] <= 100


def test_karte_downloads(demo) -> None:  # type: ignore[no-untyped-def]
    c = client()
    url = reverse("analysis:municipality", args=["292125"])
    pdf = c.get(url + "?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xlsx = c.get(url + "?format=xlsx")
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert "カルテ" in wb.sheetnames
    series = c.get(reverse("analysis:series_csv") + "?scope=292125&series=grade_distribution")
    assert series.status_code == 200 and "出典" in series.content.decode("utf-8-sig")


def test_prefecture_and_group_pages(demo) -> None:  # type: ignore[no-untyped-def]
    c = client("nara")
    pref = c.get(reverse("analysis:prefecture", args=["29"]))
    assert pref.status_code == 200
    assert len(pref.context["members"]) == 39
    group = Group.objects.get(name=DEMO_GROUP)
    response = c.get(reverse("analysis:group", args=[group.pk]))
    assert response.status_code == 200
    karte = response.context["karte"]
    assert karte.indicator("bridges_inspected").value == 525 + 89 + 230 + 142
    assert karte.indicator("facilities").value > 986
    page = response.content.decode()
    for name in ("宇陀市", "曽爾村", "御杖村", "東吉野村"):
        assert name in page


def test_cli_karte_scopes_and_errors(demo, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["karte", f"group:{DEMO_GROUP}", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scope"]["kind"] == "group" and len(data["scope"]["members"]) == 4
    assert main(["karte", "29", "--format", "xlsx", "--out", str(tmp_path / "k.xlsx")]) == 0
    assert main(["karte", "national", "--format", "pdf", "--out", str(tmp_path / "k.pdf")]) == 0
    assert (tmp_path / "k.pdf").read_bytes().startswith(b"%PDF")
    assert main(["karte", "group:ない群"]) == 2
    assert "見つかりません" in capsys.readouterr().err
    assert main(["groups", "list"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [DEMO_GROUP]


def test_sector_filter_narrows_ledger_indicators(demo) -> None:  # type: ignore[no-untyped-def]
    c = client()
    url = reverse("analysis:municipality", args=["292125"])
    everything = {i["id"]: i for i in c.get(url + "?format=json").json()["indicators"]}
    parks = {i["id"]: i for i in c.get(url + "?format=json&sector=park").json()["indicators"]}
    bridges = {i["id"]: i for i in c.get(url + "?format=json&type=bridge").json()["indicators"]}
    assert bridges["facilities"]["value"] == 525
    assert 0 < parks["facilities"]["value"] < everything["facilities"]["value"]
    assert parks["bridges_inspected"] == everything["bridges_inspected"]  # reference data is not filtered
    assert c.get(url + "?sector=nonsense").status_code == 200


def test_cache_follows_the_data(demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An import changes the figures on the next request (no stale cache)."""
    from gunmane.web.registry.imports.ledger import LedgerImporter
    from gunmane.web.registry.models import Municipality

    c = client()
    url = reverse("analysis:municipality", args=["293857"]) + "?format=json"
    before = {i["id"]: i["value"] for i in c.get(url).json()["indicators"]}
    path = tmp_path / "f.csv"
    path.write_text("施設ID,施設名,施設種別\nNEW-1,新しい橋,橋梁\n", encoding="utf-8")
    assert LedgerImporter("facilities", path, municipality=Municipality.objects.get(lg_code="293857")).run().created == 1
    after = {i["id"]: i["value"] for i in c.get(url).json()["indicators"]}
    assert after["facilities"] == before["facilities"] + 1


def test_update_only_import_refreshes_the_karte(demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An import that only updates rows (no new ids) still invalidates the cached figures."""
    from gunmane.web.registry.imports.ledger import LedgerImporter
    from gunmane.web.registry.models import Facility, Municipality

    soni = Municipality.objects.get(lg_code="293857")
    c = client()
    url = reverse("analysis:municipality", args=["293857"]) + "?format=json"
    before = {i["id"]: i["value"] for i in c.get(url).json()["indicators"]}
    bridge = Facility.objects.filter(manager=soni, facility_type__code="bridge", built_year__isnull=True).first()
    path = tmp_path / "f.csv"
    path.write_text(f"施設ID,施設名,施設種別,建設年度\n{bridge.facility_id},{bridge.name},橋梁,1950\n", encoding="utf-8")
    report = LedgerImporter("facilities", path, municipality=soni).run()
    assert (report.created, report.updated) == (0, 1)
    after = {i["id"]: i["value"] for i in c.get(url).json()["indicators"]}
    assert after["unknown_built_year"] == before["unknown_built_year"] - 1
