"""劣化予測 → 戦略の比較 → 対策計画 in a real browser: charts drawn, a plan made from a typed budget, Excel."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _chart_drawn(page: Page, chart: str) -> None:
    """Chart.js attached to the canvas (it sets a chart instance on it)."""
    page.wait_for_function("(id) => { const c = document.querySelector(`canvas[data-chart='${id}']`);"
                           " return !!c && !!window.Chart && Chart.getChart(c) !== undefined; }", arg=chart)


def test_deterioration_strategies_and_plan(page: Page, login: Callable[..., None], demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    login("uda")
    page.goto("/karte/292125/")
    page.get_by_role("link", name="劣化予測").click()
    expect(page.locator("h1")).to_contain_text("宇陀市の橋梁の劣化予測")
    expect(page.locator("#hazards")).to_contain_text("ハザード")
    _chart_drawn(page, "reach")
    _chart_drawn(page, "forecast")
    page.screenshot(path=str(tmp_path / "deterioration.png"), full_page=True)

    page.get_by_role("link", name="戦略の比較（LCC）").click()
    expect(page.locator("#strategies")).to_contain_text("予防保全")
    expect(page.locator("#strategies")).to_contain_text("億円")
    _chart_drawn(page, "cumulative")
    page.fill("#discount_rate", "0.02")
    page.get_by_role("button", name="再計算").click()
    expect(page).to_have_url(re.compile(r"discount_rate=0\.02"))
    expect(page.locator("#assumptions")).to_contain_text("利用者の設定")

    page.get_by_role("link", name="対策計画（予算制約）").click()
    page.fill("#budget", "5000万")
    page.get_by_role("button", name="計画をつくる").click()
    expect(page.locator("#comparison")).to_contain_text("最適化した計画")
    expect(page.locator("#plan-table tbody tr").first).to_be_visible()
    _chart_drawn(page, "budget")
    page.screenshot(path=str(tmp_path / "plan.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("link", name="Excel でダウンロード").click()
    download = info.value
    assert download.suggested_filename == "宇陀市_対策計画.xlsx"
    wb = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert wb["対策計画"]["A1"].value.startswith("【合成データ】")
    budget = [row[2].value for row in wb["予算"].iter_rows(min_row=3, max_row=12)]
    assert all(v <= 50_000_000 + 1 for v in budget)


def test_other_municipality_is_refused(page: Page, login: Callable[..., None], demo) -> None:  # type: ignore[no-untyped-def]
    login("soni")
    response = page.goto("/plan/292125/?budget=1億")
    assert response is not None and response.status == 403


def test_no_script_errors_on_the_plan_pages_and_cautions_beside_the_group_fit(  # type: ignore[no-untyped-def]
        page: Page, login: Callable[..., None], demo) -> None:
    """issue 12: `charts.forEach is not a function` on every /plan/ page; the fit's caution stood only at the bottom."""
    from gunmane.web.demo import DEMO_GROUP
    from gunmane.web.groups.models import Group

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    login("uda")
    spec = f"group-{Group.objects.get(name=DEMO_GROUP).pk}"
    for url in ("/plan/292125/", f"/plan/{spec}/", "/plan/292125/?budget=1億&mode=budget"):
        # the tests run tasks inside the request: the budget plan's MILP (HiGHS, up to its 30 s limit) is computed
        # while the page loads, where a worker would compute it in production
        page.goto(url, timeout=90_000)
        page.wait_for_load_state("load")
    _chart_drawn(page, "budget")
    expect(page.locator("#iv-first")).to_contain_text("初年度")
    expect(page.locator("#plan-table")).to_contain_text("宇陀市")
    page.goto(f"/deterioration/{spec}/")
    caution = page.locator("#hazards .caution").first
    expect(caution).to_contain_text("そのまま使わないでください")
    expect(page.locator("#hazards").get_by_role("link", name=re.compile("Ⅳ をⅢにまとめて推定する"))).to_be_visible()
    page.locator("#hazards").get_by_role("link", name=re.compile("Ⅳ をⅢにまとめて推定する")).click()
    expect(page).to_have_url(re.compile(r"merge_iv=1"))
    expect(page.locator("#hazards .caution")).to_have_count(0)
    assert errors == []
