"""The front door in a real browser (#13): a visitor finds their town's カルテ from the home page in at most
two actions, and the concept page's diagrams (inline SVG) render at a readable size."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visitor_home_search_to_karte_and_concept_diagrams(page: Page, refdata) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    expect(page.locator(".guide-question")).to_have_count(6)
    page.get_by_label("市区町村名・よみ").fill("宇陀")
    page.get_by_role("button", name="探す").click()  # one click: a single match opens its カルテ
    expect(page.locator("h1")).to_contain_text("宇陀市 インフラ現状カルテ")
    expect(page.locator("#ind-bridges_inspected")).to_contain_text("525")

    page.goto("/")  # by reading: the suggestions come from the JSON, the list is one click away
    page.get_by_label("市区町村名・よみ").press_sequentially("うだ")
    expect(page.locator("#guide-q-list option").first).to_have_attribute("value", "奈良県宇陀市")
    page.get_by_role("button", name="探す").click()
    page.locator("#search-results").get_by_role("link", name="宇陀市").click()
    expect(page.locator("h1")).to_contain_text("宇陀市")

    for width in (390, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/guide/concept/")
        figures = page.locator("svg.guide-figure")
        assert figures.count() >= 6
        for i in range(figures.count()):
            box = figures.nth(i).bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 40, (width, i, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
        page.goto("/")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
