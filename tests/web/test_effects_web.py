"""効果試算 in the web: permissions, the editor (levers, parameters with sources), results side by side with
the waterfall, staff-hours per member and tornado, lots on a map, Excel; and the CLI gives the same numbers."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from gunmane.cli import main
from gunmane.web.groups.models import EffectScenario
from tests.conftest import login_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(demo):  # type: ignore[no-untyped-def]
    """The shared demo group with its effect scenario."""
    return demo, EffectScenario.objects.filter(group=demo).order_by("pk").first()


client = login_client


def test_permissions(demo) -> None:  # type: ignore[no-untyped-def]
    group, es = demo
    urls = [reverse("groups:effects", args=[group.pk]), reverse("groups:effects_result", args=[group.pk, es.pk]),
            reverse("groups:effects_lots", args=[group.pk, es.pk])]
    edit = reverse("groups:effects_edit", args=[group.pk, es.pk])
    for url in [*urls, edit]:
        assert Client().get(url).status_code == 302
        assert client("osaka", "pw-osaka-123").get(url).status_code == 403
        assert client("uda").get(url).status_code == 200
    for url in urls:
        assert client("nara").get(url).status_code == 200       # the supporting prefecture reads
    assert client("nara").get(edit).status_code == 403           # … but does not edit
    assert client("uda-viewer", "pw-viewer-123").post(reverse("groups:effects_new", args=[group.pk])).status_code == 403


def test_results_match_the_cli(demo, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    group, es = demo
    c = client()
    url = reverse("groups:effects_result", args=[group.pk, es.pk])
    page = c.get(url + "?scenario=2")
    assert page.status_code == 200
    text = page.content.decode()
    assert "基準とシナリオの比較" in text and "節減の内訳（広域＋プロセス）" in text and "合成データ" in text
    charts = {ch["id"]: ch for ch in page.context["charts"]}
    assert set(charts) == {"waterfall", "staff"}
    steps = page.context["steps"]
    r = page.context["result"]
    hourly = 5000.0
    total_saving = sum(s["saving_yen"] for s in steps)
    base, sc = r.baseline.totals, r.scenarios[2].totals

    def cost(m):  # type: ignore[no-untyped-def]
        return m.price_yen + m.staff_hours * hourly + m.deterioration_cost_yen

    assert total_saving == pytest.approx(cost(base) - cost(sc), rel=1e-9)  # the waterfall adds up
    # the stored scenario file through the CLI: the same numbers
    toml = c.get(url + "?format=toml").content
    path = tmp_path / "scenario.toml"
    path.write_bytes(toml)
    assert main(["effects", str(path), "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["baseline"]["totals"]["contracts"] == pytest.approx(base.contracts, abs=1e-3)
    assert [s["totals"]["price_yen"] for s in cli["scenarios"]] == [round(s.totals.price_yen) for s in r.scenarios]
    wb = load_workbook(io.BytesIO(c.get(url + "?format=xlsx").content))
    assert "比較" in wb.sheetnames
    tornado = c.get(url + "?scenario=2&sensitivity=1")
    assert "tornado" in {ch["id"] for ch in tornado.context["charts"]}


def test_editor_builds_a_valid_scenario_and_reports_errors(demo) -> None:  # type: ignore[no-untyped-def]
    group, es = demo
    c = client()
    edit = reverse("groups:effects_edit", args=[group.pk, es.pk])
    page = c.get(edit).content.decode()
    assert "プロセスの束" in page and "仮定値" in page and "道路法施行規則" in page
    # the cost-share rule is the group's setting: shown by its name with the way to change it, not a choice here
    assert 'id="cost_share_rule">施設数割' in page and reverse("groups:settings", args=[group.pk]) in page
    assert '<select id="cost_share"' not in page
    form = {"name": "宇陀の試算", "description": "", "horizon_years": "5", "lead": "292125", "sectors": ["road"],
            "cost_share": "facility_count", "costing_edition": "FY2016", "param:staff.hourly_cost_yen": "4500",
            "s0-name": "広域・一つの契約", "s0-levers": ["horizontal"], "s0-h_mode": "one_contract",
            "s1-name": "複数年", "s1-levers": ["horizontal", "years"], "s1-years": "3", "chosen_index": "1"}
    response = c.post(edit, form)
    assert response.status_code == 302
    es.refresh_from_db()
    doc = tomllib.loads(es.toml)
    assert doc["costing_edition"] == "FY2016" and doc["parameters"] == {"staff.hourly_cost_yen": 4500}
    assert [s["name"] for s in doc["scenario"]] == ["広域・一つの契約", "複数年"]
    assert doc["scenario"][1]["levers"] == [{"kind": "horizontal", "mode": "one_contract"}, {"kind": "years", "years": 3}]
    assert es.chosen_index == 1 and es.name == "宇陀の試算"
    bad = c.post(edit, {**form, "horizon_years": "99", "param:staff.hourly_cost_yen": "たくさん", "s1-years": "1"})
    text = bad.content.decode()
    assert "1〜10 年" in text and "数値ではありません" in text and "2〜10 年" in text
    # a lever that cannot apply says so (multi-sector on a one-sector scenario)
    c.post(edit, {**form, "s1-levers": ["multi_sector"]})
    result = c.get(reverse("groups:effects_result", args=[group.pk, es.pk])).content.decode()
    assert "適用できません" in result
    # a broken uploaded file is refused with the scenario file's own message
    from django.core.files.uploadedfile import SimpleUploadedFile

    broken = c.post(edit, {"toml_file": SimpleUploadedFile("x.toml", b"[[scenario]]\nname = 1\n")})
    assert broken.status_code == 200 and "alert--error" in broken.content.decode()


def test_new_scenario_from_the_group_and_lots(demo) -> None:  # type: ignore[no-untyped-def]
    group, es = demo
    c = client()
    before = set(EffectScenario.objects.filter(group=group).values_list("pk", flat=True))
    response = c.post(reverse("groups:effects_new", args=[group.pk]))
    new = EffectScenario.objects.filter(group=group).exclude(pk__in=before).get()
    assert response["Location"] == reverse("groups:effects_edit", args=[group.pk, new.pk])
    doc = tomllib.loads(new.toml)
    assert set(doc["members"]) == {"292125", "293857", "293865", "294535", "290009"}
    assert any(s["levers"][0]["kind"] == "vertical" for s in doc["scenario"])  # the prefecture supports
    doc["lots"]["time_limit_s"] = 5
    import tomli_w

    new.toml = tomli_w.dumps(doc)
    new.save()
    page = c.get(reverse("groups:effects_lots", args=[group.pk, new.pk]) + "?run=1")
    assert page.status_code == 200
    design = page.context["design"]
    assert design is not None and design.per_municipality.lots
    assert 'id="lots-map"' in page.content.decode()
    geo = c.get(reverse("groups:effects_lots", args=[group.pk, new.pk]) + "?run=1&format=geojson").json()
    assert geo["type"] == "FeatureCollection"


def test_lots_page_says_why_no_partition_meets_the_conditions(demo) -> None:  # type: ignore[no-untyped-def]
    """A [lots] minimum above the group's whole yearly work: the page names the condition, the members and the
    setting to change, instead of a bare 「解なし」."""
    import tomli_w

    group, es = demo
    doc = tomllib.loads(es.toml)
    doc["lots"]["min_lot_yen"] = 5_000_000_000
    doc["lots"]["max_lot_yen"] = 10_000_000_000
    doc["lots"]["time_limit_s"] = 5
    es.toml = tomli_w.dumps(doc)
    es.save()
    page = client().get(reverse("groups:effects_lots", args=[group.pk, es.pk]) + "?run=1")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="lots-infeasible"' in html, page.context.get("error")
    assert "ロットの下限 5,000,000,000 円に届きません" in html and "宇陀市" in html
    assert "min_lot_yen を" in html  # the setting of the scenario's [lots] table that lifts it
    assert reverse("groups:effects_edit", args=[group.pk, es.pk]) in html
    geo = client().get(reverse("groups:effects_lots", args=[group.pk, es.pk]) + "?run=1&format=geojson")
    assert geo.status_code == 200 and geo.json()["type"] == "FeatureCollection"
