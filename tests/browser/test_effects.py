"""効果試算 in a real browser: build a scenario, see the comparison and the savings by lever, design lots on the
map, export to Excel."""

from __future__ import annotations

import io
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli_w
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from gunmane.web.groups.models import EffectScenario

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(demo):  # type: ignore[no-untyped-def]
    """The shared demo group, its lot design kept short for a browser test."""
    group = demo
    es = EffectScenario.objects.filter(group=group).order_by("pk").first()
    doc = tomllib.loads(es.toml)
    doc["lots"]["time_limit_s"] = 5  # keep the browser test short
    es.toml = tomli_w.dumps(doc)
    es.save()
    return group


def test_build_scenario_compare_lots_and_excel(page: Page, login: Callable[..., None], demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    login("uda")
    page.goto(f"/groups/{demo.pk}/")
    page.get_by_role("link", name="効果試算", exact=True).click()
    # the 広域 scenario (the demo group also has a 多分野 one): its 編集 link
    from django.urls import reverse

    from gunmane.web.groups.models import EffectScenario

    first = EffectScenario.objects.filter(group=demo).order_by("pk").first()
    page.locator(f"#scenarios a[href='{reverse('groups:effects_edit', args=[demo.pk, first.pk])}']").click()
    expect(page.locator("#scenario-cards")).to_be_visible()
    # a form a person can fill in: names and options wide enough at 1440 px, no sideways scroll at 390 px
    page.set_viewport_size({"width": 1440, "height": 900})
    assert page.locator("#s0-name").bounding_box()["width"] >= 200
    assert page.locator("#s0-h_mode").bounding_box()["width"] >= 150
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1440, "height": 900})
    # a new scenario in the first empty card: 広域＋データ
    rows = page.locator("#scenario-cards .scenario-card")
    empty = rows.nth(rows.count() - 2)
    empty.locator("input[name$='-name']").fill("広域＋データ（試し）")
    empty.get_by_label("広域連携（水平）", exact=False).first.check()
    empty.get_by_label("データの束", exact=False).check()
    page.get_by_role("button", name="保存して計算").click()
    expect(page.locator("#comparison")).to_contain_text("広域＋データ（試し）")
    expect(page.locator("#comparison")).to_contain_text("契約数")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector(\"canvas[data-chart='waterfall']\"))")
    page.screenshot(path=str(tmp_path / "effects.png"), full_page=True)
    with page.expect_download() as info:
        page.locator("#effects-xlsx").click()
    wb = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert "比較" in wb.sheetnames
    page.get_by_role("link", name="ロット設計と地図").click()
    page.locator("#run-lots").click()
    expect(page.locator("#lots-map circle").first).to_be_attached(timeout=60000)
    expect(page.locator("#lot-compare")).to_contain_text("団体ごとに1ロット")
    # the lot map: members' areas, labels that do not overlap, a lot's totals on keyboard focus
    expect(page.locator("#lots-map .area")).to_have_count(4)
    boxes = page.evaluate("""() => [...document.querySelectorAll('#lots-map .label')].map(t => {
        const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, t.textContent]; })""")
    unplaced = " ".join(page.locator("#lots-map-unplaced").all_inner_texts())
    assert all(name in {b[4] for b in boxes} or name in unplaced for name in ("宇陀市", "曽爾村", "御杖村", "東吉野村"))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    page.locator("#lots-map .lot").first.focus()
    expect(page.locator("#lots-map-info")).to_contain_text("予定価格（年）")
