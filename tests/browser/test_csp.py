"""The Content-Security-Policy in a real browser: the main pages run with no violation reported and no
script error, and what used to be inline styles (map legend colours, percentile bars, chart heights)
is still applied."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from gunmane.web.groups.models import Group
from gunmane.web.surveys.models import Recipient, Survey
from tests.browser.conftest import VIEWPORT
from tests.web.test_surveys import COMPANIES, create_contractor_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page: Page) -> list[str]:
    """Collects CSP violations (Chromium reports them on the console) and uncaught script errors."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "favicon.ico" in (message.location or {}).get("url", ""):
            return  # the browser asks for /favicon.ico on its own; gunmane has none
        if "Content Security Policy" in message.text or message.type == "error":
            problems.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    return problems


def open_survey(group: Group) -> Survey:
    """宇陀市's contractor survey with recipients, open for answers (through the views, as in test_surveys)."""
    survey = create_contractor_survey(group)
    c = Client()
    assert c.login(username="uda", password="gunmane-demo")
    assert c.post(reverse("surveys:recipients", args=[survey.pk]),
                  {"lines": COMPANIES, "expires_on": survey.closes_on.isoformat()}).status_code == 302
    assert c.post(reverse("surveys:status", args=[survey.pk]), {"action": "open"}).status_code == 302
    return survey


def test_main_pages_keep_to_the_content_security_policy(page: Page, browser: Browser, login: Callable[..., None],
                                                         demo) -> None:  # type: ignore[no-untyped-def]
    problems = watch(page)
    response = page.goto("/accounts/login/")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    login("uda")

    page.goto("/karte/")
    expect(page.locator("#karte-map circle")).to_have_count(1741)
    swatch = page.locator("#map-legend .swatch").first
    assert swatch.evaluate("el => getComputedStyle(el).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")

    page.goto("/karte/292125/")
    expect(page.locator("canvas[data-series='grade_distribution']")).to_be_visible()
    bar = page.locator(".pct__bar[data-width-pct]").first
    assert bar.evaluate("el => el.style.width") == bar.get_attribute("data-width-pct") + "%"

    page.goto(f"/karte/group/{demo.pk}/")
    expect(page.locator("canvas").first).to_be_visible()
    page.goto(f"/groups/{demo.pk}/")
    expect(page.locator("h1")).to_contain_text(demo.name)

    survey = open_survey(demo)
    page.goto(f"/surveys/{survey.pk}/results/")
    box = page.locator(".chart-box[data-height-em]").first
    assert box.evaluate("el => el.style.height") == box.get_attribute("data-height-em") + "em"

    respondent = browser.new_context(viewport=VIEWPORT, locale="ja-JP").new_page()
    problems += watch(respondent)
    token = Recipient.objects.filter(survey=survey).first().token  # type: ignore[union-attr]
    respondent.goto(page.url.split("/surveys/")[0] + reverse("surveys:respond", args=[token]))
    expect(respondent.locator("h1")).to_contain_text("意向調査")
    respondent.context.close()

    page.goto("/accounts/login/")
    page.get_by_role("button", name="ログアウト").click()
    login("admin")
    for path in ("/admin/", "/admin/auth/user/", "/admin/accounts/membership/add/"):
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
    assert not problems, "\n".join(problems)
