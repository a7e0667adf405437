"""The カルテ in a real browser: open it, switch the map's indicator, download the Excel."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_open_karte_switch_map_indicator_download_excel(page: Page, login: Callable[..., None], demo,
                                                        tmp_path) -> None:  # type: ignore[no-untyped-def]
    login("uda")
    page.goto("/karte/")
    expect(page.locator("h1")).to_contain_text("全国のインフラ現状")
    circles = page.locator("#karte-map circle")
    expect(circles).to_have_count(1741)
    expect(page.locator("#karte-map")).to_have_attribute("data-indicator", "bridges_iii_iv_share")
    expect(page.locator("#map-legend")).to_contain_text("判定区分")
    page.select_option("#map-indicator", "civil_expenditure_per_capita")
    expect(page.locator("#karte-map")).to_have_attribute("data-indicator", "civil_expenditure_per_capita")
    expect(page.locator("#map-legend")).to_contain_text("土木費")
    uda = page.locator('#karte-map circle[data-code="292125"] title')
    expect(uda).to_contain_text("宇陀市")
    page.screenshot(path=str(tmp_path / "national.png"), full_page=False)

    page.locator('#karte-map circle[data-code="292125"]').dispatch_event("click")
    expect(page.locator("h1")).to_contain_text("宇陀市 インフラ現状カルテ")
    expect(page.locator(".synthetic-banner, .alert").first).to_be_visible()
    expect(page.locator("#ind-bridges_inspected")).to_contain_text("525")
    expect(page.locator("canvas[data-series='grade_distribution']")).to_be_visible()
    page.locator("#chart-grade_distribution summary").click()
    expect(page.locator("#chart-grade_distribution table")).to_contain_text("未点検")
    page.screenshot(path=str(tmp_path / "karte.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#download-xlsx")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx") and "宇陀市" in download.suggested_filename
    wb = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    sheet = wb["カルテ"]
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert "宇陀市" in text and "点検済み橋梁数" in text and "合成データ" in text
