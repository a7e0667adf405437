"""Accessibility (issue #13 §5): axe-core finds no violation on the pages most people open first.

axe-core is vendored in tests/browser/vendor (MPL-2.0, its licence beside it; no CDN) and injected into the page
under test. The site's Content-Security-Policy allows scripts from itself only, so the axe runs use a context that
bypasses the policy — tests/browser/test_csp.py checks the policy itself. Every rule axe runs by default (WCAG 2.x
A/AA and its best practices) must pass, at office width (1366 px) and on a phone (390 px).
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import VIEWPORT
from tests.browser.test_phone import PHONE, World, phone_world, role_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["phone_world"]  # the module's demo world (a fixture), shared with test_phone.py

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def _pages(world: World) -> dict[str, list[str]]:
    g = world.group_pk
    group_pages = [f"/groups/{g}/", f"/groups/{g}/documents/", f"/groups/{g}/effects/", f"/groups/{g}/districts/",
                   f"/karte/group/{g}/",
                   f"/surveys/group/{g}/", f"/groups/{g}/process/"]
    guide = ["/guide/concept/", "/guide/search/?q=奈良", "/guide/cases/?lg=292125", "/guide/process/",
             "/guide/start/?lg=292125", "/guide/decisions/", "/guide/foundation/",
             "/guide/foundation/surveys/contractor/"]
    return {
        "anonymous": ["/", "/karte/", "/karte/292125/", "/karte/pref/29/", "/karte/districting/", *guide, f"/surveys/r/{world.token}/"],
        "nara": ["/"],
        "uda": ["/", "/karte/", "/karte/292125/", "/groups/", *group_pages, f"/groups/{g}/settings/"],
    }


def violations(page: Page) -> list[str]:
    """axe's violations on the page as it is, one line each: rule, impact, the first nodes' selectors."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + ", ".join(" ".join(n["target"]) for n in v["nodes"][:4])
            + (f" … +{len(v['nodes']) - 4}" if len(v["nodes"]) > 4 else "") for v in result]


def test_axe_finds_no_violation(browser: Browser, phone_world: World) -> None:
    """One test for both widths: a test with the live server empties the database after it."""
    found: list[str] = []
    checked = 0
    for (role, urls), (width, viewport) in product(_pages(phone_world).items(),
                                                   (("office", VIEWPORT), ("phone", PHONE))):
        context = role_context(browser, phone_world.url, phone_world.sessions.get(role), bypass_csp=True)
        page = context.new_page()
        page.set_viewport_size(viewport)
        for url in urls:
            response = page.goto(url)
            assert response is not None
            assert response.status == 200 and "/accounts/login/" not in page.url, (role, url, response.status)
            checked += 1
            found += [f"{role} {url} ({width}): {line}" for line in violations(page)]
        context.close()
    assert checked == 2 * sum(len(u) for u in _pages(phone_world).values()), checked
    assert not found, f"{len(found)} violations:\n" + "\n".join(found)
